//! The change log: what happened to each list, in order, as triggers recorded it. Live updates
//! read it to tell open pages what changed, and to replay what a reconnecting page missed.

use diesel::prelude::*;

use super::ids::{ListId, TodoId};
use super::scope::ListScope;
use super::todo::Todo;
use crate::db::DbConnection;
use crate::schema::todo_changes;

/// One change to one todo.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = todo_changes)]
pub struct Change {
    /// The change number: it rises with every change.
    pub id: i64,
    pub list_id: ListId,
    /// `None`: a change to the list itself (its title, its members, or its end).
    pub todo_id: Option<TodoId>,
    pub deleted: bool,
    pub title: Option<String>,
    pub position: Option<i32>,
    pub completed: Option<bool>,
    pub version: Option<i32>,
}

/// Changes deleted in one transaction when the log is trimmed, and the pause between two such
/// transactions.
const TRIM_BATCH: i64 = 1_000;
const TRIM_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

impl Change {
    /// The list the change belongs to.
    pub fn scope(&self) -> ListScope {
        ListScope::of(self.list_id)
    }

    /// Whether this is a change to the list itself rather than to one of its todos.
    pub fn is_of_list(&self) -> bool {
        self.todo_id.is_none()
    }

    /// The todo as this change left it; `None` for a deletion or a change to the list itself.
    pub fn todo(&self) -> Option<Todo> {
        if self.deleted {
            return None;
        }
        Some(Todo {
            id: self.todo_id?,
            title: self.title.clone()?,
            position: self.position?,
            completed: self.completed?,
            version: self.version?,
            list_id: self.list_id,
        })
    }

    /// The list's changes after change `after`, oldest first.
    pub fn of_list_since(
        conn: &mut DbConnection,
        scope: ListScope,
        after: i64,
    ) -> QueryResult<Vec<Change>> {
        todo_changes::table
            .filter(scope.changes())
            .filter(todo_changes::id.gt(after))
            .order(todo_changes::id.asc())
            .select(Change::as_select())
            .load(conn)
    }

    /// If the log records todo `id` deleted from the list: the highest version it had there
    /// (0 when the log holds no version of it).
    pub fn deletion_of(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
    ) -> QueryResult<Option<i32>> {
        let of_todo = todo_changes::table
            .filter(scope.changes())
            .filter(todo_changes::todo_id.eq(id));
        let deleted: i64 = of_todo
            .filter(todo_changes::deleted.eq(true))
            .count()
            .get_result(conn)?;
        if deleted == 0 {
            return Ok(None);
        }
        let version: Option<i32> = todo_changes::table
            .filter(scope.changes())
            .filter(todo_changes::todo_id.eq(id))
            .select(diesel::dsl::max(todo_changes::version))
            .first(conn)?;
        Ok(Some(version.unwrap_or(0)))
    }

    /// Every list's changes after change `after`, oldest first.
    pub fn all_since(conn: &mut DbConnection, after: i64) -> QueryResult<Vec<Change>> {
        todo_changes::table
            .filter(todo_changes::id.gt(after))
            .order(todo_changes::id.asc())
            .select(Change::as_select())
            .load(conn)
    }

    /// The newest change number of any list, or 0.
    pub fn latest(conn: &mut DbConnection) -> QueryResult<i64> {
        todo_changes::table
            .select(diesel::dsl::max(todo_changes::id))
            .first::<Option<i64>>(conn)
            .map(Option::unwrap_or_default)
    }

    /// The list's newest change number, or 0.
    pub fn latest_of(conn: &mut DbConnection, scope: ListScope) -> QueryResult<i64> {
        todo_changes::table
            .filter(scope.changes())
            .select(diesel::dsl::max(todo_changes::id))
            .first::<Option<i64>>(conn)
            .map(Option::unwrap_or_default)
    }

    /// The number that stands for the list's present state: its newest change, or, if the log has
    /// been trimmed past all of the list's changes, the number trimmed through (0 for a list that
    /// never changed). It changes whenever the list does, and never comes back to a value an
    /// earlier state of the list had, so it can serve as the list's ETag and the change number a
    /// page or a stream starts from.
    pub fn list_state(conn: &mut DbConnection, scope: ListScope) -> QueryResult<i64> {
        match Self::latest_of(conn, scope)? {
            0 => Self::trimmed_through(conn),
            latest => Ok(latest),
        }
    }

    /// The change number up to which the log may have been trimmed: changes numbered up to it
    /// may be gone, so a client that has seen less than it cannot be brought up to date by replay.
    pub fn trimmed_through(conn: &mut DbConnection) -> QueryResult<i64> {
        todo_changes::table
            .select(diesel::dsl::min(todo_changes::id))
            .first::<Option<i64>>(conn)
            .map(|oldest| oldest.map_or(0, |oldest| oldest - 1))
    }

    /// Deletes all but the newest `keep` changes (always keeping the newest one, so that the log
    /// says how far it was trimmed, and a list state of 0 means only "never changed"); returns how
    /// many went. In transactions of at most `TRIM_BATCH` rows, with a pause between them: after a busy minute the log can
    /// hold a million changes, and deleting them at once held every writer up for a quarter of a
    /// second.
    pub fn trim(conn: &mut DbConnection, keep: i64) -> QueryResult<usize> {
        let keep = keep.max(1);
        let mut trimmed = 0;
        loop {
            let deleted = crate::db::write_transaction(conn, |conn| {
                let through =
                    (Self::latest(conn)? - keep).min(Self::trimmed_through(conn)? + TRIM_BATCH);
                diesel::delete(todo_changes::table.filter(todo_changes::id.le(through)))
                    .execute(conn)
            })?;
            trimmed += deleted;
            if deleted < usize::try_from(TRIM_BATCH).unwrap_or(usize::MAX) {
                return Ok(trimmed);
            }
            // The writers' turn: the lock is not fair, and the next batch would often take it
            // again at once.
            std::thread::sleep(TRIM_PAUSE);
        }
    }
}
