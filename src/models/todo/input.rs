//! What a request may set on a todo, read from its JSON body and validated: the one place the
//! rules on titles, order and completion live, for the API, the forms and imports alike.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::MAX_TITLE_CHARS;
use crate::models::TodoId;
use crate::schema::todos;

/// A todo to insert. Without a position it goes after the last one.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = todos)]
pub struct NewTodo {
    pub title: String,
    pub position: Option<i32>,
    pub completed: bool,
}

/// Changes to a todo; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = todos)]
pub struct TodoChanges {
    pub title: Option<String>,
    pub position: Option<i32>,
    pub completed: Option<bool>,
}

/// What `NewTodo::from_json` reads, as the API's description gives it: `title` is required, and
/// any other key (`id`, `url`, the rest of a Backbone model) is ignored.
#[derive(Debug, utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a description of the body; the body is read by `from_json`"
)]
pub struct NewTodoFields {
    /// Trimmed; then 1 to 1,000 characters, without NUL.
    #[schema(min_length = 1, max_length = 1000, pattern = "^[^\\x00]*\\S[^\\x00]*$")]
    title: String,
    /// Where it goes in the list; without it, after the last todo.
    #[schema(minimum = -2147483648, maximum = 2147483647)]
    order: Option<i32>,
    #[schema(default = false)]
    completed: Option<bool>,
}

/// What `TodoChanges::from_json` reads: only the fields present change; any other key is
/// ignored.
#[derive(Debug, utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a description of the body; the body is read by `from_json`"
)]
pub struct TodoFields {
    /// Trimmed; then 1 to 1,000 characters, without NUL.
    #[schema(min_length = 1, max_length = 1000, pattern = "^[^\\x00]*\\S[^\\x00]*$")]
    title: Option<String>,
    #[schema(minimum = -2147483648, maximum = 2147483647)]
    order: Option<i32>,
    completed: Option<bool>,
}

/// Where a moved todo goes: just after todo `after`, or to the top when `after` is `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveTo {
    pub after: Option<TodoId>,
}

/// What `MoveTo::from_json` reads.
#[derive(Debug, utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a description of the body; the body is read by `from_json`"
)]
pub struct MoveFields {
    /// The id of the todo it is to follow, or `null` to put it first. Required.
    #[schema(value_type = Option<i32>, required = true)]
    after: Option<i32>,
}

/// A field of a request body that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl NewTodo {
    /// Reads a new todo from a request body: `title` is required, `order` and `completed` optional.
    /// `id`, `url` and unknown keys are ignored.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, ValidationError> {
        let changes = TodoChanges::from_json(body)?;
        let title = changes
            .title
            .ok_or_else(|| ValidationError::new("title", "title is required"))?;
        Ok(Self {
            title,
            position: changes.position,
            completed: changes.completed.unwrap_or(false),
        })
    }
}

impl TodoChanges {
    /// Reads the known fields present in a request body: `title`, `order`, `completed`. `id`, `url`
    /// and unknown keys are ignored, since Backbone sends the whole model back on every save.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, ValidationError> {
        Ok(Self {
            title: body.get("title").map(parse_title).transpose()?,
            position: body.get("order").map(parse_order).transpose()?,
            completed: body.get("completed").map(parse_completed).transpose()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.position.is_none() && self.completed.is_none()
    }
}

impl MoveTo {
    /// Reads a move from a request body: `after` is required, a todo's id or `null`.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "after",
                "after must be the id of the todo to follow, or null for the top",
            )
        };
        match body.get("after") {
            None => Err(ValidationError::new(
                "after",
                "after is required: the id of the todo to follow, or null for the top",
            )),
            Some(Value::Null) => Ok(Self { after: None }),
            Some(value) => value
                .as_i64()
                .and_then(|id| i32::try_from(id).ok())
                .map(|id| Self {
                    after: Some(TodoId(id)),
                })
                .ok_or_else(invalid),
        }
    }
}

fn parse_title(value: &Value) -> Result<String, ValidationError> {
    let Value::String(title) = value else {
        return Err(ValidationError::new("title", "title must be a string"));
    };
    let title = title.trim();
    if title.is_empty() {
        return Err(ValidationError::new("title", "title must not be empty"));
    }
    let length = title.chars().count();
    if length > MAX_TITLE_CHARS {
        return Err(ValidationError::new(
            "title",
            format!("title must be at most {MAX_TITLE_CHARS} characters long, not {length}"),
        ));
    }
    if title.contains('\0') {
        return Err(ValidationError::new(
            "title",
            "title must not contain NUL characters",
        ));
    }
    Ok(title.to_owned())
}

fn parse_order(value: &Value) -> Result<i32, ValidationError> {
    value
        .as_i64()
        .and_then(|order| i32::try_from(order).ok())
        .ok_or_else(|| {
            ValidationError::new(
                "order",
                format!("order must be an integer from {} to {}", i32::MIN, i32::MAX),
            )
        })
}

fn parse_completed(value: &Value) -> Result<bool, ValidationError> {
    value
        .as_bool()
        .ok_or_else(|| ValidationError::new("completed", "completed must be true or false"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn from_json_takes_only_known_fields() {
        let changes = TodoChanges::from_json(&object(json!({
            "id": 99, "url": "http://elsewhere/1", "title": "  milk ", "order": 3,
            "completed": true, "owner": "someone"
        })))
        .expect("valid body");
        assert_eq!(
            changes,
            TodoChanges {
                title: Some("milk".into()),
                position: Some(3),
                completed: Some(true)
            }
        );
    }

    #[test]
    fn new_todo_needs_a_title_and_defaults_the_rest() {
        let err = NewTodo::from_json(&object(json!({"completed": true}))).unwrap_err();
        assert_eq!(err.field, "title");
        let new = NewTodo::from_json(&object(json!({"title": "a"}))).expect("valid body");
        assert_eq!((new.position, new.completed), (None, false));
    }

    #[test]
    fn rejects_invalid_fields_naming_them() {
        let cases = [
            (json!({"title": 5}), "title"),
            (json!({"title": null}), "title"),
            (json!({"title": " \t\n "}), "title"),
            (json!({"title": "x".repeat(MAX_TITLE_CHARS + 1)}), "title"),
            (json!({"title": "a\u{0}b"}), "title"),
            (json!({"order": 1.5}), "order"),
            (json!({"order": "1"}), "order"),
            (json!({"order": i64::from(i32::MAX) + 1}), "order"),
            (json!({"order": i64::from(i32::MIN) - 1}), "order"),
            (json!({"completed": "true"}), "completed"),
            (json!({"completed": 1}), "completed"),
        ];
        for (body, field) in cases {
            let err = TodoChanges::from_json(&object(body.clone())).unwrap_err();
            assert_eq!(err.field, field, "body {body}");
        }
    }

    #[test]
    fn title_limit_counts_characters_not_bytes() {
        let title = "é".repeat(MAX_TITLE_CHARS);
        let changes = TodoChanges::from_json(&object(json!({ "title": title }))).expect("valid");
        assert_eq!(
            changes.title.map(|t| t.chars().count()),
            Some(MAX_TITLE_CHARS)
        );
    }
}
