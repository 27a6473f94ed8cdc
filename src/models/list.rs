//! Lists and their members: who owns a list, who may read or write it, and its JSON. The one
//! question of access ("what may this user do with this list?") is [`List::access`].

use diesel::prelude::*;
use serde::Serialize;

use super::ids::{ListId, UserId};
use super::todo::ValidationError;
use crate::db::{self, DbConnection};
use crate::schema::{lists, memberships, todo_changes, todos_generation, users};

diesel::define_sql_function! {
    /// PostgreSQL's `list_changed(list)`: the list's change, in turn with its todos' (see the
    /// migration that brought lists).
    fn list_changed(list: diesel::sql_types::Integer) -> diesel::sql_types::BigInt;
}

/// The longest list title accepted, in characters, after trimming.
pub const MAX_LIST_TITLE_CHARS: usize = 100;

/// The title of every account's first list (and of open mode's list).
pub const DEFAULT_LIST_TITLE: &str = "Todos";

/// A list as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = lists)]
pub struct List {
    pub id: ListId,
    pub title: String,
    /// `None`: open mode's list.
    pub owner_id: Option<UserId>,
    /// The account's first list, made with it: it cannot be deleted, and `/todos` means it.
    pub is_default: bool,
    pub created_at: i64,
}

/// What a caller may do with a list: the owner everything, an editor read and write its todos, a
/// viewer read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    /// A member's role as stored (the owner is not a member row).
    fn stored(text: &str) -> Role {
        match text {
            "editor" => Self::Editor,
            _ => Self::Viewer,
        }
    }

    /// Whether this role may change the list's todos.
    pub fn writes(self) -> bool {
        matches!(self, Self::Owner | Self::Editor)
    }
}

/// The role a member may be given (the owner is not given a role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Editor,
    Viewer,
}

impl MemberRole {
    pub fn parse(text: &str) -> Option<MemberRole> {
        match text {
            "editor" => Some(Self::Editor),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

/// A list as a caller sees it: the list, the caller's role and the owner's name (`None` for open
/// mode's lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visible {
    pub list: List,
    pub role: Role,
    pub owner: Option<String>,
    /// How many members besides the owner: a list with any is shared.
    pub members: i64,
}

/// The JSON form of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = List)]
pub struct ListJson<'a> {
    #[schema(value_type = i32)]
    pub id: ListId,
    /// Trimmed, 1 to 100 characters.
    pub title: &'a str,
    /// The caller's role.
    pub role: Role,
    /// The owner's username (`null` in open mode).
    pub owner: Option<&'a str>,
    /// The list's own absolute URL.
    pub url: String,
    /// The absolute URL of its todos, which answer as `/todos/` does.
    pub todos_url: String,
}

/// A member as `GET /lists/{id}/members` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub username: String,
    pub role: Role,
}

impl Visible {
    /// The JSON form; `origin` is the site's absolute origin (`scheme://host`).
    pub fn to_json(&self, origin: &str) -> ListJson<'_> {
        let url = format!("{origin}/lists/{}", self.list.id);
        ListJson {
            id: self.list.id,
            title: &self.list.title,
            role: self.role,
            owner: self.owner.as_deref(),
            todos_url: format!("{url}/todos/"),
            url,
        }
    }

    pub fn is_shared(&self) -> bool {
        self.members > 0 || self.role != Role::Owner
    }
}

/// A list's title from a request: a string, trimmed, 1 to 100 characters, without NUL.
pub fn parse_list_title(value: Option<&serde_json::Value>) -> Result<String, ValidationError> {
    let refuse = |message: String| ValidationError {
        field: "title",
        message,
    };
    let Some(serde_json::Value::String(title)) = value else {
        return Err(refuse("title must be a string".into()));
    };
    let title = title.trim();
    let length = title.chars().count();
    if length == 0 {
        return Err(refuse("title must not be empty".into()));
    }
    if length > MAX_LIST_TITLE_CHARS {
        return Err(refuse(format!(
            "title must be at most {MAX_LIST_TITLE_CHARS} characters long, not {length}"
        )));
    }
    if title.contains('\0') {
        return Err(refuse("title must not contain NUL characters".into()));
    }
    Ok(title.to_owned())
}

impl List {
    /// A user's default list, made with the account (in the transaction that adds the user).
    pub fn create_default(conn: &mut DbConnection, owner: UserId, now: i64) -> QueryResult<List> {
        diesel::insert_into(lists::table)
            .values((
                lists::title.eq(DEFAULT_LIST_TITLE),
                lists::owner_id.eq(Some(owner)),
                lists::is_default.eq(true),
                lists::created_at.eq(now),
            ))
            .returning(lists::all_columns)
            .get_result(conn)
    }

    /// A new list of `owner` (`None`: an open mode list), titled `title` (already checked).
    pub fn create(
        conn: &mut DbConnection,
        owner: Option<UserId>,
        title: &str,
        now: i64,
    ) -> QueryResult<List> {
        db::write_transaction(conn, |conn| {
            let list: List = diesel::insert_into(lists::table)
                .values((
                    lists::title.eq(title),
                    lists::owner_id.eq(owner),
                    lists::is_default.eq(false),
                    lists::created_at.eq(now),
                ))
                .returning(lists::all_columns)
                .get_result(conn)?;
            Self::changed(conn, list.id)?;
            Ok(list)
        })
    }

    pub fn find(conn: &mut DbConnection, id: ListId) -> QueryResult<Option<List>> {
        lists::table
            .find(id)
            .select(List::as_select())
            .first(conn)
            .optional()
    }

    /// The user's default list.
    pub fn default_of(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<List>> {
        lists::table
            .filter(lists::owner_id.eq(user))
            .filter(lists::is_default.eq(true))
            .select(List::as_select())
            .first(conn)
            .optional()
    }

    /// What `user` (`None`: open mode's caller) may do with list `id`, and the list as they see
    /// it; `None` when it is not theirs to see (or does not exist). Open mode's caller owns every
    /// list that has no owner; with accounts, a user owns their lists and is a member of others.
    pub fn access(
        conn: &mut DbConnection,
        id: ListId,
        user: Option<UserId>,
    ) -> QueryResult<Option<Visible>> {
        let Some(list) = Self::find(conn, id)? else {
            return Ok(None);
        };
        let role = match (list.owner_id, user) {
            (None, None) => Role::Owner,
            (Some(owner), Some(user)) if owner == user => Role::Owner,
            (Some(_), Some(user)) => match memberships::table
                .find((id, user))
                .select(memberships::role)
                .first::<String>(conn)
                .optional()?
            {
                Some(role) => Role::stored(&role),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let owner = match list.owner_id {
            Some(owner) => Some(
                users::table
                    .find(owner)
                    .select(users::username)
                    .first::<String>(conn)?,
            ),
            None => None,
        };
        let members = memberships::table
            .filter(memberships::list_id.eq(id))
            .count()
            .get_result(conn)?;
        Ok(Some(Visible {
            list,
            role,
            owner,
            members,
        }))
    }

    /// Every list `user` owns or is a member of: the default list first, then by creation. Open
    /// mode's caller sees the lists that have no owner.
    pub fn visible_to(conn: &mut DbConnection, user: Option<UserId>) -> QueryResult<Vec<Visible>> {
        let Some(user) = user else {
            let lists: Vec<List> = lists::table
                .filter(lists::owner_id.is_null())
                .order((lists::is_default.desc(), lists::id.asc()))
                .select(List::as_select())
                .load(conn)?;
            return Ok(lists
                .into_iter()
                .map(|list| Visible {
                    list,
                    role: Role::Owner,
                    owner: None,
                    members: 0,
                })
                .collect());
        };
        let owned: Vec<List> = lists::table
            .filter(lists::owner_id.eq(user))
            .select(List::as_select())
            .load(conn)?;
        let shared: Vec<(List, String, String)> = memberships::table
            .filter(memberships::user_id.eq(user))
            .inner_join(lists::table.inner_join(users::table))
            .select((List::as_select(), memberships::role, users::username))
            .load(conn)?;
        let ids: Vec<ListId> = owned.iter().map(|list| list.id).collect();
        let counts: Vec<(ListId, i64)> = memberships::table
            .filter(memberships::list_id.eq_any(&ids))
            .group_by(memberships::list_id)
            .select((memberships::list_id, diesel::dsl::count_star()))
            .load(conn)?;
        let username: String = users::table
            .find(user)
            .select(users::username)
            .first(conn)?;
        let mut all: Vec<Visible> = owned
            .into_iter()
            .map(|list| Visible {
                members: counts
                    .iter()
                    .find(|(id, _)| *id == list.id)
                    .map_or(0, |(_, count)| *count),
                list,
                role: Role::Owner,
                owner: Some(username.clone()),
            })
            .chain(shared.into_iter().map(|(list, role, owner)| Visible {
                list,
                role: Role::stored(&role),
                owner: Some(owner),
                members: 1,
            }))
            .collect();
        all.sort_by_key(|visible| {
            (
                !(visible.list.is_default && visible.role == Role::Owner),
                visible.list.created_at,
                visible.list.id,
            )
        });
        Ok(all)
    }

    /// Renames the list (title already checked).
    pub fn rename(conn: &mut DbConnection, id: ListId, title: &str) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::update(lists::table.find(id))
                .set(lists::title.eq(title))
                .execute(conn)?;
            Self::changed(conn, id)
        })
    }

    /// Deletes the list, its todos and its members.
    pub fn delete(conn: &mut DbConnection, id: ListId) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            let people = Self::people(conn, id)?;
            diesel::delete(
                crate::schema::todos::table.filter(crate::schema::todos::list_id.eq(id)),
            )
            .execute(conn)?;
            diesel::delete(memberships::table.filter(memberships::list_id.eq(id))).execute(conn)?;
            diesel::delete(lists::table.find(id)).execute(conn)?;
            Self::tell(conn, &people, id)
        })
    }

    /// The list's members, the owner first, then by name.
    pub fn members(conn: &mut DbConnection, list: &List) -> QueryResult<Vec<Member>> {
        let mut members = Vec::new();
        if let Some(owner) = list.owner_id {
            let username: String = users::table
                .find(owner)
                .select(users::username)
                .first(conn)?;
            members.push(Member {
                username,
                role: Role::Owner,
            });
        }
        let rest: Vec<(String, String)> = memberships::table
            .filter(memberships::list_id.eq(list.id))
            .inner_join(users::table)
            .order(users::username_key.asc())
            .select((users::username, memberships::role))
            .load(conn)?;
        members.extend(rest.into_iter().map(|(username, role)| Member {
            username,
            role: Role::stored(&role),
        }));
        Ok(members)
    }

    /// Makes `user` a member with `role`, or changes their role; `true` when they were added.
    pub fn put_member(
        conn: &mut DbConnection,
        list: ListId,
        user: UserId,
        role: MemberRole,
        now: i64,
    ) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            let updated = diesel::update(memberships::table.find((list, user)))
                .set(memberships::role.eq(role.as_str()))
                .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(memberships::table)
                    .values((
                        memberships::list_id.eq(list),
                        memberships::user_id.eq(user),
                        memberships::role.eq(role.as_str()),
                        memberships::created_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            Self::changed(conn, list)?;
            Ok(updated == 0)
        })
    }

    /// Ends `user`'s membership; `false` when they were not a member.
    pub fn remove_member(conn: &mut DbConnection, list: ListId, user: UserId) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            let removed = diesel::delete(memberships::table.find((list, user))).execute(conn)?;
            if removed > 0 {
                let mut people = Self::people(conn, list)?;
                people.push(user);
                Self::tell(conn, &people, list)?;
            }
            Ok(removed > 0)
        })
    }

    /// The people a change to the list concerns: its owner and members.
    fn people(conn: &mut DbConnection, list: ListId) -> QueryResult<Vec<UserId>> {
        let owner: Option<UserId> = lists::table
            .find(list)
            .select(lists::owner_id)
            .first::<Option<UserId>>(conn)
            .optional()?
            .flatten();
        let mut people: Vec<UserId> = memberships::table
            .filter(memberships::list_id.eq(list))
            .select(memberships::user_id)
            .load(conn)?;
        people.extend(owner);
        Ok(people)
    }

    /// Records that `list` itself changed (its title, its members, or its end), so that its open
    /// streams learn of it, and tells `people` that their lists changed: a change to each one's
    /// default list, which their pages' streams follow (and say `lists`). In list order, so that
    /// two such writes on PostgreSQL take the lists' turns in the same order.
    fn tell(conn: &mut DbConnection, people: &[UserId], list: ListId) -> QueryResult<()> {
        let owners: Vec<Option<UserId>> = people.iter().map(|id| Some(*id)).collect();
        let mut changed: Vec<ListId> = lists::table
            .filter(lists::owner_id.eq_any(owners))
            .filter(lists::is_default.eq(true))
            .select(lists::id)
            .load(conn)?;
        changed.push(list);
        changed.sort_unstable();
        changed.dedup();
        for list in changed {
            Self::record(conn, list)?;
        }
        Ok(())
    }

    /// `tell` everyone on the list (its owner and members) that it changed. The count of changes
    /// that kept pages depend on goes up too (a page shows its viewer's lists and role).
    fn changed(conn: &mut DbConnection, list: ListId) -> QueryResult<()> {
        let people = Self::people(conn, list)?;
        Self::tell(conn, &people, list)
    }

    /// One change of the list itself in the log: on PostgreSQL in turn with its todos' changes,
    /// and with a notification for the other instances.
    fn record(conn: &mut DbConnection, list: ListId) -> QueryResult<()> {
        diesel::update(todos_generation::table)
            .set(todos_generation::value.eq(todos_generation::value + 1))
            .execute(conn)?;
        match conn {
            DbConnection::Pg(_) => {
                diesel::select(list_changed(list.0)).execute(conn)?;
            }
            DbConnection::Sqlite(_) => {
                diesel::insert_into(todo_changes::table)
                    .values((
                        todo_changes::list_id.eq(list),
                        todo_changes::deleted.eq(false),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    }
}
