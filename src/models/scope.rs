//! Whose list a query reads and writes. Every todo query takes a `ListScope`, and only the auth
//! layer makes one from a verified credential, so no query can reach another user's todos.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::user::UserId;
use crate::db::DbConnection;
use crate::schema::{todo_changes, todos};

type Backend = <DbConnection as diesel::Connection>::Backend;

/// A condition on `todos` rows, boxed so that either scope gives the same query type.
pub type TodosFilter = Box<dyn BoxableExpression<todos::table, Backend, SqlType = Nullable<Bool>>>;

/// The same condition on the change log.
pub type ChangesFilter =
    Box<dyn BoxableExpression<todo_changes::table, Backend, SqlType = Nullable<Bool>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListScope {
    /// The one list of open mode: the todos that belong to nobody.
    Shared,
    /// A user's own list.
    User(UserId),
}

impl ListScope {
    /// The owner stored in `todos.user_id` for this list.
    pub fn owner(self) -> Option<i32> {
        match self {
            Self::Shared => None,
            Self::User(UserId(id)) => Some(id),
        }
    }

    /// The rows of this list.
    pub fn todos(self) -> TodosFilter {
        match self {
            Self::Shared => Box::new(todos::user_id.is_null().nullable()),
            Self::User(id) => Box::new(todos::user_id.eq(id)),
        }
    }

    /// The change log's rows of this list.
    pub fn changes(self) -> ChangesFilter {
        match self {
            Self::Shared => Box::new(todo_changes::user_id.is_null().nullable()),
            Self::User(id) => Box::new(todo_changes::user_id.eq(id)),
        }
    }
}
