//! The todo: its rows, its JSON form, and its queries. Nothing here knows about HTTP.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::scope::ListScope;
use crate::db::{self, DbConnection};
use crate::schema::{todos, todos_generation};

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 1000;

/// A todo as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = todos)]
pub struct Todo {
    pub id: i32,
    pub title: String,
    pub position: i32,
    pub completed: bool,
    /// Raised by every write; the todo's ETag.
    pub version: i32,
    /// The owner; `None` for the shared list of open mode.
    pub user_id: Option<i32>,
}

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

/// The JSON form of a todo, as Backbone and Todo-Backend clients expect it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoJson<'a> {
    pub id: i32,
    pub title: &'a str,
    pub order: i32,
    pub completed: bool,
    pub url: String,
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

/// A field of a request body that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
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

    /// Every todo of the list, in list order.
    pub fn all(conn: &mut DbConnection, scope: ListScope) -> QueryResult<Vec<Todo>> {
        todos::table
            .filter(scope.todos())
            .order((todos::position.asc(), todos::id.asc()))
            .select(Todo::as_select())
            .load(conn)
    }

    /// Every todo of the list, and the list's state (`Change::list_state`) they are at, read in
    /// one snapshot.
    pub fn all_at_change(
        conn: &mut DbConnection,
        scope: ListScope,
    ) -> QueryResult<(Vec<Todo>, i64)> {
        db::read_snapshot(conn, |conn| {
            let change = super::Change::list_state(conn, scope)?;
            Ok((Self::all(conn, scope)?, change))
        })
    }

    /// The count of changes to the list, raised by triggers with every insert, update and delete.
    pub fn generation(conn: &mut DbConnection) -> QueryResult<i64> {
        todos_generation::table
            .select(todos_generation::value)
            .first(conn)
    }

    pub fn find(conn: &mut DbConnection, scope: ListScope, id: i32) -> QueryResult<Option<Todo>> {
        todos::table
            .filter(scope.todos())
            .filter(todos::id.eq(id))
            .select(Todo::as_select())
            .first(conn)
            .optional()
    }

    /// Inserts a todo into the list; one without a position goes after the last one.
    pub fn create(conn: &mut DbConnection, scope: ListScope, new: NewTodo) -> QueryResult<Todo> {
        db::write_transaction(conn, |conn| Self::insert(conn, scope, new, None))
    }

    /// Inserts inside the caller's write transaction, with the given id or the next one.
    fn insert(
        conn: &mut DbConnection,
        scope: ListScope,
        mut new: NewTodo,
        id: Option<i32>,
    ) -> QueryResult<Todo> {
        if new.position.is_none() {
            db::lock_todos_for_append(conn)?;
            let last: Option<i32> = todos::table
                .filter(scope.todos())
                .select(diesel::dsl::max(todos::position))
                .first(conn)?;
            // At i32::MAX the new todo shares the last position and sorts after it by id.
            new.position = Some(last.map_or(1, |last| last.saturating_add(1)));
        }
        let insert = diesel::insert_into(todos::table);
        let owner = todos::user_id.eq(scope.owner());
        match id {
            Some(id) => insert
                .values((todos::id.eq(id), owner, &new))
                .returning(todos::all_columns)
                .get_result(conn),
            None => insert
                .values((owner, &new))
                .returning(todos::all_columns)
                .get_result(conn),
        }
    }

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
                Self::insert(conn, scope, record.todo, record.id)?;
            }
            if any_id {
                db::after_explicit_ids(conn)?;
            }
            Ok(count)
        })
    }

    /// Whether any list holds a todo with this id.
    fn id_taken(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
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

    /// Applies `changes` and raises the version, if the todo's version is one of `expected` (any
    /// version when `expected` is `None`). The check and the write are one statement, so two
    /// writers expecting the same version cannot both succeed.
    pub fn update(
        conn: &mut DbConnection,
        scope: ListScope,
        id: i32,
        changes: &TodoChanges,
        expected: Option<&[i32]>,
    ) -> QueryResult<WriteOutcome<Todo>> {
        db::write_transaction(conn, |conn| {
            if changes.is_empty() {
                return Ok(match Self::find(conn, scope, id)? {
                    None => WriteOutcome::NotFound,
                    Some(todo)
                        if expected.is_some_and(|versions| !versions.contains(&todo.version)) =>
                    {
                        WriteOutcome::Stale(todo)
                    }
                    Some(todo) => WriteOutcome::Done(todo),
                });
            }
            let set = (changes, todos::version.eq(todos::version + 1));
            let target = todos::table.filter(scope.todos()).filter(todos::id.eq(id));
            let updated = match expected {
                Some(versions) => diesel::update(target.filter(todos::version.eq_any(versions)))
                    .set(set)
                    .returning(todos::all_columns)
                    .get_result(conn)
                    .optional()?,
                None => diesel::update(target)
                    .set(set)
                    .returning(todos::all_columns)
                    .get_result(conn)
                    .optional()?,
            };
            match updated {
                Some(todo) => Ok(WriteOutcome::Done(todo)),
                None => Self::missing_or_stale(conn, scope, id),
            }
        })
    }

    /// Deletes one todo, if its version is one of `expected` (any version when `None`).
    pub fn delete(
        conn: &mut DbConnection,
        scope: ListScope,
        id: i32,
        expected: Option<&[i32]>,
    ) -> QueryResult<WriteOutcome<()>> {
        db::write_transaction(conn, |conn| {
            let target = todos::table.filter(scope.todos()).filter(todos::id.eq(id));
            let deleted = match expected {
                Some(versions) => {
                    diesel::delete(target.filter(todos::version.eq_any(versions))).execute(conn)?
                }
                None => diesel::delete(target).execute(conn)?,
            };
            if deleted > 0 {
                Ok(WriteOutcome::Done(()))
            } else {
                Self::missing_or_stale(conn, scope, id)
            }
        })
    }

    /// Why a conditional write touched nothing: no such todo, or another version of it.
    fn missing_or_stale<T>(
        conn: &mut DbConnection,
        scope: ListScope,
        id: i32,
    ) -> QueryResult<WriteOutcome<T>> {
        Ok(match Self::find(conn, scope, id)? {
            Some(current) => WriteOutcome::Stale(current),
            None => WriteOutcome::NotFound,
        })
    }

    /// Deletes every todo of the list, or only those whose `completed` equals the filter;
    /// returns how many.
    /// Marks every todo of the list completed (or active) that is not already; each one changed
    /// gets a new version. Returns how many changed.
    pub fn complete_all(
        conn: &mut DbConnection,
        scope: ListScope,
        completed: bool,
    ) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            let others = todos::table
                .filter(scope.todos())
                .filter(todos::completed.ne(completed));
            diesel::update(others)
                .set((
                    todos::completed.eq(completed),
                    todos::version.eq(todos::version + 1),
                ))
                .execute(conn)
        })
    }

    pub fn delete_all(
        conn: &mut DbConnection,
        scope: ListScope,
        completed: Option<bool>,
    ) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            let list = todos::table.filter(scope.todos());
            match completed {
                Some(completed) => {
                    diesel::delete(list.filter(todos::completed.eq(completed))).execute(conn)
                }
                None => diesel::delete(list).execute(conn),
            }
        })
    }
}

/// One todo of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Its place in the file, from 1, for error messages.
    pub number: usize,
    pub id: Option<i32>,
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
