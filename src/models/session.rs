//! Sign-in sessions, found by the hash of the token in the session cookie.

use diesel::prelude::*;

use super::ids::{ListId, SessionId, UserId};
use crate::db::{self, DbConnection};
use crate::schema::{lists, sessions, users};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Session {
    /// Stores a new session for `user`, under the hash of its token.
    pub fn start(
        conn: &mut DbConnection,
        user: UserId,
        token_hash: &str,
        now: i64,
    ) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::user_id.eq(user),
                    sessions::token_hash.eq(token_hash),
                    sessions::created_at.eq(now),
                    sessions::last_seen_at.eq(now),
                ))
                .execute(conn)
                .map(drop)
        })
    }

    /// The session with this token hash, and its user's name.
    pub fn find(
        conn: &mut DbConnection,
        token_hash: &str,
    ) -> QueryResult<Option<(Session, String, ListId)>> {
        sessions::table
            .inner_join(
                users::table.inner_join(
                    lists::table.on(lists::owner_id
                        .eq(users::id.nullable())
                        .and(lists::is_default.eq(true))),
                ),
            )
            .filter(sessions::token_hash.eq(token_hash))
            .select((Session::as_select(), users::username, lists::id))
            .first(conn)
            .optional()
    }

    pub fn touch(conn: &mut DbConnection, id: SessionId, now: i64) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::update(sessions::table.find(id))
                .set(sessions::last_seen_at.eq(now))
                .execute(conn)
                .map(drop)
        })
    }

    /// Ends the session with this token hash, if there is one.
    pub fn end(conn: &mut DbConnection, token_hash: &str) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
                .execute(conn)
                .map(drop)
        })
    }

    /// Ends every session of `user` (after a password change).
    pub fn end_all(conn: &mut DbConnection, user: UserId) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn)
        })
    }

    /// Deletes sessions that are over by either limit; returns how many.
    pub fn delete_expired(
        conn: &mut DbConnection,
        idle_before: i64,
        created_before: i64,
    ) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            diesel::delete(
                sessions::table.filter(
                    sessions::last_seen_at
                        .lt(idle_before)
                        .or(sessions::created_at.lt(created_before)),
                ),
            )
            .execute(conn)
        })
    }
}
