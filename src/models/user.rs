//! Users: who may sign in, and under which name. Passwords arrive here already hashed.

use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::schema::{todos, users};

/// The longest username accepted, in characters, after trimming.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A user's id. Only the auth layer makes one, from a verified credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i32);

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
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

/// A username, trimmed and checked: 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 {
            return Err("Enter a username.".into());
        }
        if length > MAX_USERNAME_CHARS {
            return Err(format!(
                "A username is at most {MAX_USERNAME_CHARS} characters long, not {length}."
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("A username cannot contain control characters.".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form in which names are compared: two names that differ only in case are one name.
    pub fn key(&self) -> String {
        key_of(&self.0)
    }
}

/// The case-folded form of a name, as stored in `username_key`.
pub fn key_of(name: &str) -> String {
    name.trim().to_lowercase()
}

impl User {
    pub fn id(&self) -> UserId {
        UserId(self.id)
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
            diesel::insert_into(users::table)
                .values(NewUser {
                    username: name.as_str(),
                    username_key: &key,
                    password_hash,
                    created_at: now,
                })
                .returning(users::all_columns)
                .get_result(conn)
        });
        match result {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Err(AddUserError::Taken(name.as_str().to_owned())),
            other => Ok(other?),
        }
    }

    /// Every user with the number of todos they own, by name.
    pub fn all_with_todo_counts(conn: &mut DbConnection) -> QueryResult<Vec<(User, i64)>> {
        let all: Vec<User> = users::table
            .order(users::username_key.asc())
            .select(User::as_select())
            .load(conn)?;
        let counts: Vec<(Option<i32>, i64)> = todos::table
            .filter(todos::user_id.is_not_null())
            .group_by(todos::user_id)
            .select((todos::user_id, diesel::dsl::count_star()))
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

    /// Removes a user; their todos, sessions and API tokens go with them (ON DELETE CASCADE).
    /// Returns whether there was such a user.
    pub fn remove(conn: &mut DbConnection, id: UserId) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            diesel::delete(todos::table.filter(todos::user_id.eq(id.0))).execute(conn)?;
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

    /// Gives every todo that belongs to nobody (made before accounts, or in open mode) to this
    /// user, after their own; returns how many.
    pub fn claim_unowned(conn: &mut DbConnection, id: UserId) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            crate::models::todo::lock_todos_for_append(conn)?;
            let last: Option<i32> = todos::table
                .filter(todos::user_id.eq(id.0))
                .select(diesel::dsl::max(todos::position))
                .first(conn)?;
            let first: Option<i32> = todos::table
                .filter(todos::user_id.is_null())
                .select(diesel::dsl::min(todos::position))
                .first(conn)?;
            // Shift the claimed todos so that they follow the user's own, keeping their order.
            let shift = match (last, first) {
                (Some(last), Some(first)) => last.saturating_sub(first).saturating_add(1),
                _ => 0,
            };
            diesel::update(todos::table.filter(todos::user_id.is_null()))
                .set((
                    todos::user_id.eq(id.0),
                    todos::position.eq(todos::position + shift),
                    todos::version.eq(todos::version + 1),
                ))
                .execute(conn)
        })
    }
}
