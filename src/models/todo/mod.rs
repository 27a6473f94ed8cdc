//! The todo: its row, its JSON form, and where the rest lives: `queries` (reading and writing
//! the list), `input` (what a request may set, validated), `export` (the export and import
//! format). Nothing here knows about HTTP.

mod export;
mod input;
mod order;
mod queries;

use diesel::prelude::*;
use serde::Serialize;

use super::ids::{ListId, TodoId};
use crate::schema::todos;

pub use export::{ImportError, ImportRecord};
pub use input::{
    MoveFields, MoveTo, NewTodo, NewTodoFields, TodoChanges, TodoFields, ValidationError,
};
pub use order::{MoveOutcome, ORDER_GAP, RestoreOutcome};
pub use queries::{after_explicit_ids, lock_todos_for_append};

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 1000;

/// The columns a `Todo` is read from, in the order of its fields (what writes return).
pub(crate) type Columns = (
    todos::id,
    todos::title,
    todos::position,
    todos::completed,
    todos::version,
    todos::list_id,
);
pub(crate) const COLUMNS: Columns = (
    todos::id,
    todos::title,
    todos::position,
    todos::completed,
    todos::version,
    todos::list_id,
);

/// A todo as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = todos)]
pub struct Todo {
    pub id: TodoId,
    pub title: String,
    pub position: i32,
    pub completed: bool,
    /// Raised by every write; the todo's ETag.
    pub version: i32,
    /// The list it is on.
    pub list_id: ListId,
}

/// The JSON form of a todo, as Backbone and Todo-Backend clients expect it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Todo)]
pub struct TodoJson<'a> {
    #[schema(value_type = i32)]
    pub id: TodoId,
    /// Trimmed, 1 to 1,000 characters.
    pub title: &'a str,
    /// Its place in the list: todos are listed by `order`, then `id`.
    pub order: i32,
    pub completed: bool,
    /// The todo's own absolute URL.
    pub url: String,
    /// Raised by every write; the todo's `ETag`, for `If-Match`.
    pub version: i32,
}

/// What a conditional write found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome<T> {
    Done(T),
    NotFound,
    /// The todo's version is not one the caller expected; it holds the todo as it is now.
    Stale(Todo),
}

impl Todo {
    /// The JSON form; `collection_url` is the absolute URL of the collection, ending in `/`.
    pub fn to_json(&self, collection_url: &str) -> TodoJson<'_> {
        TodoJson {
            id: self.id,
            title: &self.title,
            order: self.position,
            completed: self.completed,
            url: format!("{collection_url}{}", self.id),
            version: self.version,
        }
    }

    /// A list as a JSON array, serialised straight from the rows.
    pub fn list_json(todos: &[Todo], collection_url: &str) -> serde_json::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(todos.len() * 128 + 2);
        let mut serializer = serde_json::Serializer::new(&mut body);
        serde::Serializer::collect_seq(
            &mut serializer,
            todos.iter().map(|todo| todo.to_json(collection_url)),
        )?;
        Ok(body)
    }
}
