//! Users: who may sign in, and under which name. Passwords arrive here already hashed.

use std::collections::BTreeMap;

use diesel::prelude::*;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::ids::ListId;
use super::list::List;
use crate::db::{self, DbConnection};
use crate::schema::{lists, todos, users};

/// The longest username accepted, in characters, after trimming.
pub const MAX_USERNAME_CHARS: usize = 64;

pub use super::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    username: &'a str,
    username_key: &'a str,
    password_hash: &'a str,
    created_at: i64,
}

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("the username {0:?} is taken")]
    Taken(String),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

/// A username, normalised and checked: NFKC (so that `ａｌｉｃｅ` is `alice`), trimmed, 1 to 64
/// characters, with no control, invisible formatting (zero-width, direction overrides), private
/// use or unassigned characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized: String = raw.trim().nfkc().collect();
        let name = normalized.trim();
        let length = name.chars().count();
        if length == 0 {
            return Err("Enter a username.".into());
        }
        if length > MAX_USERNAME_CHARS {
            return Err(format!(
                "A username is at most {MAX_USERNAME_CHARS} characters long, not {length}."
            ));
        }
        for c in name.chars() {
            match c.general_category() {
                GeneralCategory::Control
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator => {
                    return Err("A username cannot contain control characters.".into());
                }
                GeneralCategory::Format => {
                    return Err("A username cannot contain invisible formatting characters \
                                (zero-width spaces, direction marks)."
                        .into());
                }
                GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
                | GeneralCategory::Unassigned => {
                    return Err(format!(
                        "A username cannot contain the character U+{:04X}.",
                        u32::from(c)
                    ));
                }
                _ => {}
            }
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form in which names are compared: two names that differ only in case, width or
    /// compatibility forms are one name.
    pub fn key(&self) -> String {
        key_of(&self.0)
    }
}

/// The form of a name that `username_key` stores and compares: NFKC, case-folded, NFKC again,
/// without invisible formatting characters (which older names may hold).
pub fn key_of(name: &str) -> String {
    let visible: String = name
        .trim()
        .chars()
        .filter(|c| c.general_category() != GeneralCategory::Format)
        .nfkc()
        .collect();
    visible.trim().to_lowercase().nfkc().collect()
}

/// Why usernames could not be given their current keys.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error(transparent)]
    Collisions(UsernameCollisions),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

/// Names that the current key makes one: every group of two or more, by their stored spelling.
#[derive(Debug, thiserror::Error)]
#[error(
    "usernames that would become the same name once normalised (NFKC, case-folded): {}. Nothing was \
     changed; rename or remove all but one of each group (todomvc users remove NAME), then \
     migrate again",
    .0.iter()
        .map(|group| group.iter().map(|name| format!("{name:?}")).collect::<Vec<_>>().join(" = "))
        .collect::<Vec<_>>()
        .join("; ")
)]
pub struct UsernameCollisions(pub Vec<Vec<String>>);

impl User {
    pub fn id(&self) -> UserId {
        self.id
    }

    /// The user with this name, in any case.
    pub fn find_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::username_key.eq(key_of(name)))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn add(
        conn: &mut DbConnection,
        name: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<User, AddUserError> {
        let key = name.key();
        let result = db::write_transaction(conn, |conn| {
            let user: User = diesel::insert_into(users::table)
                .values(NewUser {
                    username: name.as_str(),
                    username_key: &key,
                    password_hash,
                    created_at: now,
                })
                .returning(users::all_columns)
                .get_result(conn)?;
            List::create_default(conn, user.id, now)?;
            Ok(user)
        });
        match result {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Err(AddUserError::Taken(name.as_str().to_owned())),
            other => Ok(other?),
        }
    }

    /// Gives every user the key `key_of` makes now (the data step of the migration that brought
    /// it in). Where two users would get one key, nothing is changed and the names are returned.
    /// Returns how many keys changed.
    pub fn normalize_keys(conn: &mut DbConnection) -> Result<usize, NormalizeError> {
        db::write_transaction(
            conn,
            |conn| -> QueryResult<Result<usize, UsernameCollisions>> {
                let all: Vec<(i32, String, String)> = users::table
                    .select((users::id, users::username, users::username_key))
                    .order(users::id.asc())
                    .load(conn)?;
                let mut by_key: BTreeMap<String, Vec<(i32, String, String)>> = BTreeMap::new();
                for (id, name, old_key) in all {
                    by_key
                        .entry(key_of(&name))
                        .or_default()
                        .push((id, name, old_key));
                }
                let collisions: Vec<Vec<String>> = by_key
                    .values()
                    .filter(|users| users.len() > 1)
                    .map(|users| users.iter().map(|(_, name, _)| name.clone()).collect())
                    .collect();
                if !collisions.is_empty() {
                    return Ok(Err(UsernameCollisions(collisions)));
                }
                let changed: Vec<(i32, String)> = by_key
                    .into_iter()
                    .filter_map(|(key, mut users)| {
                        let (id, _, old_key) = users.pop()?;
                        (old_key != key).then_some((id, key))
                    })
                    .collect();
                // Two steps, so that a key taken from one user and given to another never meets the
                // unique index twice.
                for (id, _) in &changed {
                    diesel::update(users::table.find(id))
                        .set(users::username_key.eq(format!("\u{0}renaming {id}")))
                        .execute(conn)?;
                }
                for (id, key) in &changed {
                    diesel::update(users::table.find(id))
                        .set(users::username_key.eq(key))
                        .execute(conn)?;
                }
                Ok(Ok(changed.len()))
            },
        )?
        .map_err(NormalizeError::Collisions)
    }

    /// Every user with the number of todos they own, by name.
    pub fn all_with_todo_counts(conn: &mut DbConnection) -> QueryResult<Vec<(User, i64)>> {
        let all: Vec<User> = users::table
            .order(users::username_key.asc())
            .select(User::as_select())
            .load(conn)?;
        let counts: Vec<(Option<UserId>, i64)> = todos::table
            .inner_join(lists::table)
            .filter(lists::owner_id.is_not_null())
            .group_by(lists::owner_id)
            .select((lists::owner_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(all
            .into_iter()
            .map(|user| {
                let count = counts
                    .iter()
                    .find(|(owner, _)| *owner == Some(user.id))
                    .map_or(0, |(_, count)| *count);
                (user, count)
            })
            .collect())
    }

    /// Removes a user; their lists with their todos, their memberships, sessions and API tokens
    /// go with them (ON DELETE CASCADE). Returns whether there was such a user.
    pub fn remove(conn: &mut DbConnection, id: UserId) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            let owned: Vec<ListId> = lists::table
                .filter(lists::owner_id.eq(id))
                .select(lists::id)
                .load(conn)?;
            for list in owned {
                List::delete(conn, list)?;
            }
            Ok(diesel::delete(users::table.find(id.0)).execute(conn)? > 0)
        })
    }

    pub fn set_password_hash(conn: &mut DbConnection, id: UserId, hash: &str) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::update(users::table.find(id.0))
                .set(users::password_hash.eq(hash))
                .execute(conn)
                .map(drop)
        })
    }

    /// Moves every todo of open mode's list (made before accounts, or in open mode) to the end of
    /// this user's default list; returns how many.
    pub fn claim_unowned(conn: &mut DbConnection, id: UserId) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            crate::models::todo::lock_todos_for_append(conn)?;
            let Some(own) = List::default_of(conn, id)? else {
                return Ok(0);
            };
            let last: Option<i32> = todos::table
                .filter(todos::list_id.eq(own.id))
                .select(diesel::dsl::max(todos::position))
                .first(conn)?;
            let first: Option<i32> = todos::table
                .filter(todos::list_id.eq(ListId::OPEN))
                .select(diesel::dsl::min(todos::position))
                .first(conn)?;
            // Shift the claimed todos so that they follow the user's own, keeping their order.
            let shift = match (last, first) {
                (Some(last), Some(first)) => last.saturating_sub(first).saturating_add(1),
                _ => 0,
            };
            diesel::update(todos::table.filter(todos::list_id.eq(ListId::OPEN)))
                .set((
                    todos::list_id.eq(own.id),
                    todos::position.eq(todos::position + shift),
                    todos::version.eq(todos::version + 1),
                    todos::modified_at.eq(super::now()),
                ))
                .execute(conn)
        })
    }
}
