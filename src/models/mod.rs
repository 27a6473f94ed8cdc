//! Diesel models and their JSON conversion.

mod todo;

pub use todo::{
    ImportError, ImportRecord, MAX_TITLE_CHARS, NewTodo, Todo, TodoChanges, TodoJson,
    ValidationError, WriteOutcome,
};
