//! A todo as a CalDAV object of its list's collection: its UID, the name of its resource, and
//! what the client that made or last changed it sent. A todo made on the web or through the API
//! has no row here: its UID and name follow from its id (`todomvc-{id}`, `todomvc-{id}.ics`).

use diesel::prelude::*;

use super::ical::{TodoIcal, render};
use super::ids::TodoId;
use super::scope::ListScope;
use super::todo::{COLUMNS, Todo};
use crate::db::DbConnection;
use crate::schema::{todo_objects, todos};

/// The prefix of the UIDs and names the server gives todos it made.
const OWN_PREFIX: &str = "todomvc-";

/// What a client sent for a todo, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = todo_objects)]
pub struct SentObject {
    pub uid: String,
    pub name: String,
    pub ical: String,
    /// The todo's version when it was sent: at that version the object is `ical`, as sent.
    pub version: i32,
}

/// A todo with what the collection shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoObject {
    pub todo: Todo,
    /// When the todo last changed (seconds since the epoch; 0 when not known).
    pub modified_at: i64,
    pub sent: Option<SentObject>,
}

impl TodoObject {
    /// Its UID: the client's, or one the server gave it.
    pub fn uid(&self) -> String {
        self.sent.as_ref().map_or_else(
            || format!("{OWN_PREFIX}{}", self.todo.id),
            |sent| sent.uid.clone(),
        )
    }

    /// The name of its resource in the collection.
    pub fn name(&self) -> String {
        self.sent.as_ref().map_or_else(
            || format!("{OWN_PREFIX}{}.ics", self.todo.id),
            |sent| sent.name.clone(),
        )
    }

    /// The object's ETag: the todo's version, as for the JSON API.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.todo.version)
    }

    /// The VCALENDAR: as the client sent it while the todo is at the version it sent, else
    /// brought up to date (see `ical::render`).
    pub fn ical(&self) -> String {
        match &self.sent {
            Some(sent) if sent.version == self.todo.version => sent.ical.clone(),
            sent => render(
                sent.as_ref().map(|sent| sent.ical.as_str()),
                &self.todo,
                &self.uid(),
                self.modified_at,
            ),
        }
    }

    /// Every todo of the list as an object, in list order.
    pub fn all(conn: &mut DbConnection, scope: ListScope) -> QueryResult<Vec<TodoObject>> {
        let rows: Vec<(Todo, i64)> = todos::table
            .filter(scope.todos())
            .order((todos::position.asc(), todos::id.asc()))
            .select((COLUMNS, todos::modified_at))
            .load(conn)?;
        let mut sent: std::collections::HashMap<TodoId, SentObject> = todo_objects::table
            .filter(todo_objects::list_id.eq(scope.list()))
            .select((todo_objects::todo_id, SentObject::as_select()))
            .load::<(TodoId, SentObject)>(conn)?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .map(|(todo, modified_at)| TodoObject {
                sent: sent.remove(&todo.id),
                todo,
                modified_at,
            })
            .collect())
    }

    /// The name of the object todo `id` was, if a client had named it (for a deleted todo too).
    pub fn name_of(conn: &mut DbConnection, scope: ListScope, id: TodoId) -> QueryResult<String> {
        let sent: Option<String> = todo_objects::table
            .filter(todo_objects::list_id.eq(scope.list()))
            .filter(todo_objects::todo_id.eq(id))
            .select(todo_objects::name)
            .first(conn)
            .optional()?;
        Ok(sent.unwrap_or_else(|| format!("{OWN_PREFIX}{id}.ics")))
    }

    /// The object named `name` in the list's collection, if there is one.
    pub fn named(
        conn: &mut DbConnection,
        scope: ListScope,
        name: &str,
    ) -> QueryResult<Option<TodoObject>> {
        let sent: Option<TodoId> = todo_objects::table
            .filter(todo_objects::list_id.eq(scope.list()))
            .filter(todo_objects::name.eq(name))
            .select(todo_objects::todo_id)
            .first(conn)
            .optional()?;
        match sent.or_else(|| own_id(name.strip_suffix(".ics"))) {
            Some(id) => Self::find(conn, scope, id, Some(sent.is_some())),
            None => Ok(None),
        }
    }

    /// The todo of the list whose UID is `uid`, if there is one.
    pub fn with_uid(
        conn: &mut DbConnection,
        scope: ListScope,
        uid: &str,
    ) -> QueryResult<Option<TodoObject>> {
        let sent: Option<TodoId> = todo_objects::table
            .filter(todo_objects::list_id.eq(scope.list()))
            .filter(todo_objects::uid.eq(uid))
            .select(todo_objects::todo_id)
            .first(conn)
            .optional()?;
        match sent.or_else(|| own_id(Some(uid))) {
            Some(id) => Self::find(conn, scope, id, Some(sent.is_some())),
            None => Ok(None),
        }
    }

    /// Keeps what a client sent for `todo` (now at the version it sent), under `name`.
    pub fn keep(
        conn: &mut DbConnection,
        scope: ListScope,
        todo: &Todo,
        (name, sent): (&str, &str),
        read: &TodoIcal,
    ) -> QueryResult<()> {
        // This todo's earlier object, and any left by a deleted todo under the same name or UID.
        diesel::delete(
            todo_objects::table.filter(
                todo_objects::todo_id
                    .eq(todo.id)
                    .or(todo_objects::list_id.eq(scope.list()).and(
                        todo_objects::name
                            .eq(name)
                            .or(todo_objects::uid.eq(&read.uid)),
                    )),
            ),
        )
        .execute(conn)?;
        diesel::insert_into(todo_objects::table)
            .values((
                todo_objects::todo_id.eq(todo.id),
                todo_objects::list_id.eq(scope.list()),
                todo_objects::uid.eq(&read.uid),
                todo_objects::name.eq(name),
                todo_objects::ical.eq(sent),
                todo_objects::version.eq(todo.version),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Todo `id` of the list as an object, if it is there.
    pub fn of_todo(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
    ) -> QueryResult<Option<TodoObject>> {
        Self::find(conn, scope, id, None)
    }

    /// Todo `id` of the list as an object; `by_sent`: found by what a client sent (else by the
    /// name the server gave it, which a todo a client sent no longer answers to), or either.
    fn find(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
        by_sent: Option<bool>,
    ) -> QueryResult<Option<TodoObject>> {
        let Some((todo, modified_at)) = todos::table
            .filter(scope.todos())
            .filter(todos::id.eq(id))
            .select((COLUMNS, todos::modified_at))
            .first::<(Todo, i64)>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let sent = todo_objects::table
            .filter(todo_objects::todo_id.eq(id))
            .select(SentObject::as_select())
            .first(conn)
            .optional()?;
        if by_sent.is_some_and(|by_sent| sent.is_some() != by_sent) {
            return Ok(None);
        }
        Ok(Some(TodoObject {
            todo,
            modified_at,
            sent,
        }))
    }
}

/// The id in a UID or name the server gave (`todomvc-{id}`).
fn own_id(text: Option<&str>) -> Option<TodoId> {
    text?.strip_prefix(OWN_PREFIX)?.parse().ok()
}
