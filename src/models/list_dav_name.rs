//! The names CalDAV clients gave the lists they made (MKCALENDAR): such a list lives at that name
//! in its owner's calendar home; any other list at its id.

use diesel::prelude::*;

use super::ids::{ListId, UserId};
use crate::db::DbConnection;
use crate::schema::list_dav_names;

/// The longest collection name accepted, in bytes.
pub const MAX_DAV_NAME_BYTES: usize = 255;

pub struct ListDavName;

impl ListDavName {
    /// The list `owner` made under `name`, if any.
    pub fn find(
        conn: &mut DbConnection,
        owner: Option<UserId>,
        name: &str,
    ) -> QueryResult<Option<ListId>> {
        let query = list_dav_names::table
            .filter(list_dav_names::name.eq(name))
            .select(list_dav_names::list_id);
        match owner {
            Some(owner) => query
                .filter(list_dav_names::owner_id.eq(owner))
                .first(conn)
                .optional(),
            None => query
                .filter(list_dav_names::owner_id.is_null())
                .first(conn)
                .optional(),
        }
    }

    /// The names of `owner`'s lists that have one, by list.
    pub fn of_owner(
        conn: &mut DbConnection,
        owner: Option<UserId>,
    ) -> QueryResult<Vec<(ListId, String)>> {
        let query = list_dav_names::table.select((list_dav_names::list_id, list_dav_names::name));
        match owner {
            Some(owner) => query.filter(list_dav_names::owner_id.eq(owner)).load(conn),
            None => query.filter(list_dav_names::owner_id.is_null()).load(conn),
        }
    }

    /// Gives `list` of `owner` the name `name`.
    pub fn give(
        conn: &mut DbConnection,
        list: ListId,
        owner: Option<UserId>,
        name: &str,
    ) -> QueryResult<()> {
        diesel::insert_into(list_dav_names::table)
            .values((
                list_dav_names::list_id.eq(list),
                list_dav_names::owner_id.eq(owner),
                list_dav_names::name.eq(name),
            ))
            .execute(conn)
            .map(drop)
    }
}
