//! The API's response bodies, typed: a test reads `todo.title` rather than digging through
//! `serde_json::Value`, and a body with a missing, mistyped or unexpected field fails to parse.

use serde::Deserialize;

/// A todo as `/todos` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodoBody {
    pub id: i32,
    pub title: String,
    pub order: i32,
    pub completed: bool,
    pub url: String,
    pub version: i32,
}

/// A JSON error: the message, the field a validation error names, the todo as it is now (412),
/// and the request's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: String,
    pub field: Option<String>,
    pub current: Option<TodoBody>,
    pub request_id: Option<String>,
}

impl TodoBody {
    /// The todo's path, from its URL.
    pub fn path(&self) -> String {
        format!("/todos/{}", self.id)
    }
}
