//! The export format (`todomvc export`) and reading it back (`todomvc import`): a JSON array of
//! todos with their ids.

use diesel::prelude::*;
use serde_json::Value;

use super::{NewTodo, Todo};
use crate::db::{self, DbConnection};
use crate::models::TodoId;
use crate::models::scope::ListScope;
use crate::schema::todos;

/// One todo of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Its place in the file, from 1, for error messages.
    pub number: usize,
    pub id: Option<TodoId>,
    pub todo: NewTodo,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not an export: {0}")]
    Format(String),
    #[error("record {number}: {message}")]
    Record { number: usize, message: String },
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

impl ImportRecord {
    /// Reads an export: a JSON array of todos as `to_export` writes them. The first bad record
    /// stops the reading, named by its number.
    pub fn parse_all(json: &str) -> Result<Vec<ImportRecord>, ImportError> {
        let value: Value =
            serde_json::from_str(json).map_err(|err| ImportError::Format(err.to_string()))?;
        let Value::Array(items) = value else {
            return Err(ImportError::Format("expected a JSON array of todos".into()));
        };
        Self::parse_values(&items)
    }

    /// Reads the todos of an export, as [`ImportRecord::parse_all`] does.
    pub fn parse_values(items: &[Value]) -> Result<Vec<ImportRecord>, ImportError> {
        let mut seen = std::collections::HashSet::new();
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let number = index + 1;
                let fail = |message: String| ImportError::Record { number, message };
                let Value::Object(body) = item else {
                    return Err(fail("expected a JSON object".into()));
                };
                let id = match body.get("id") {
                    None | Some(Value::Null) => None,
                    Some(id) => Some(
                        id.as_i64()
                            .and_then(|id| i32::try_from(id).ok())
                            .filter(|id| *id > 0)
                            .map(TodoId)
                            .ok_or_else(|| {
                                fail(format!("id must be a positive integer, not {id}"))
                            })?,
                    ),
                };
                if let Some(id) = id
                    && !seen.insert(id)
                {
                    return Err(fail(format!("id {id} appears twice in the file")));
                }
                let todo = NewTodo::from_json(body).map_err(|err| fail(err.to_string()))?;
                Ok(ImportRecord { number, id, todo })
            })
            .collect()
    }
}

impl Todo {
    /// Loads exported todos into the list in one transaction: all of them, or none when one
    /// cannot be stored. Records keep their ids; an id already in the database (in anyone's list)
    /// is refused, naming the record.
    pub fn import(
        conn: &mut DbConnection,
        scope: ListScope,
        records: Vec<ImportRecord>,
    ) -> Result<usize, ImportError> {
        db::write_transaction(conn, |conn| {
            let count = records.len();
            let mut any_id = false;
            for record in records {
                if let Some(id) = record.id {
                    any_id = true;
                    if Self::id_taken(conn, id)? {
                        return Err(ImportError::Record {
                            number: record.number,
                            message: format!("a todo with id {id} is already in the database"),
                        });
                    }
                }
                Self::insert(conn, scope, record.todo, record.id.map(|id| (id, 1)))?;
            }
            if any_id {
                super::after_explicit_ids(conn)?;
            }
            Ok(count)
        })
    }

    /// Whether any list holds a todo with this id.
    fn id_taken(conn: &mut DbConnection, id: TodoId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(todos::table.find(id))).get_result(conn)
    }

    /// Every todo as an export record: the fields a client can set, and the id.
    pub fn to_export(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "order": self.position,
            "completed": self.completed,
        })
    }
}
