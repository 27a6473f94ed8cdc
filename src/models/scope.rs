//! Which list a query reads and writes. Every todo query takes a `ListScope`; only the lists
//! service makes one, once it has checked what the caller may do with the list (see `lists`), so
//! no query can reach a list its caller is not on.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::ids::ListId;
use crate::db::DbConnection;
use crate::schema::{todo_changes, todos};

type Backend = <DbConnection as diesel::Connection>::Backend;

/// A condition on `todos` rows, boxed so that every scope gives the same query type.
pub type TodosFilter = Box<dyn BoxableExpression<todos::table, Backend, SqlType = Nullable<Bool>>>;

/// The same condition on the change log.
pub type ChangesFilter =
    Box<dyn BoxableExpression<todo_changes::table, Backend, SqlType = Nullable<Bool>>>;

/// One list, as the rows of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListScope(ListId);

impl ListScope {
    /// The scope of list `id`: for the code that has checked the caller's access to it.
    pub fn of(id: ListId) -> ListScope {
        ListScope(id)
    }

    pub fn list(self) -> ListId {
        self.0
    }

    /// The rows of this list.
    pub fn todos(self) -> TodosFilter {
        Box::new(todos::list_id.eq(self.0).nullable())
    }

    /// The change log's rows of this list.
    pub fn changes(self) -> ChangesFilter {
        Box::new(todo_changes::list_id.eq(self.0).nullable())
    }
}
