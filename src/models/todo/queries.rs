//! The list's queries: reading it, and every write to it, each limited to one list (`ListScope`).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{NewTodo, Todo, TodoChanges, WriteOutcome};
use crate::db::{self, DbConnection};
use crate::models::TodoId;
use crate::models::scope::ListScope;
use crate::schema::{todos, todos_generation};

impl Todo {
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
            let change = crate::models::Change::list_state(conn, scope)?;
            Ok((Self::all(conn, scope)?, change))
        })
    }

    /// The count of changes to the list, raised by triggers with every insert, update and delete.
    pub fn generation(conn: &mut DbConnection) -> QueryResult<i64> {
        todos_generation::table
            .select(todos_generation::value)
            .first(conn)
    }

    pub fn find(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
    ) -> QueryResult<Option<Todo>> {
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

    /// Inserts inside the caller's write transaction, with the given id or the next one, and
    /// the given version (a restored todo's) or the first.
    pub(super) fn insert(
        conn: &mut DbConnection,
        scope: ListScope,
        mut new: NewTodo,
        id: Option<(TodoId, i32)>,
    ) -> QueryResult<Todo> {
        if new.position.is_none() {
            lock_todos_for_append(conn)?;
            let last: Option<i32> = todos::table
                .filter(scope.todos())
                .select(diesel::dsl::max(todos::position))
                .first(conn)?;
            // At i32::MAX the new todo shares the last position and sorts after it by id.
            new.position = Some(last.map_or(1, |last| last.saturating_add(1)));
        }
        let insert = diesel::insert_into(todos::table);
        let owner = (
            todos::list_id.eq(scope.list()),
            todos::modified_at.eq(crate::models::now()),
        );
        match id {
            Some((id, version)) => insert
                .values((todos::id.eq(id), todos::version.eq(version), owner, &new))
                .returning(super::COLUMNS)
                .get_result(conn),
            None => insert
                .values((owner, &new))
                .returning(super::COLUMNS)
                .get_result(conn),
        }
    }

    /// Applies `changes` and raises the version, if the todo's version is one of `expected` (any
    /// version when `expected` is `None`). The check and the write are one statement, so two
    /// writers expecting the same version cannot both succeed.
    pub fn update(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
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
            let set = (
                changes,
                todos::version.eq(todos::version + 1),
                todos::modified_at.eq(crate::models::now()),
            );
            let target = todos::table.filter(scope.todos()).filter(todos::id.eq(id));
            let updated = match expected {
                Some(versions) => diesel::update(target.filter(todos::version.eq_any(versions)))
                    .set(set)
                    .returning(super::COLUMNS)
                    .get_result(conn)
                    .optional()?,
                None => diesel::update(target)
                    .set(set)
                    .returning(super::COLUMNS)
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
        id: TodoId,
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
        id: TodoId,
    ) -> QueryResult<WriteOutcome<T>> {
        Ok(match Self::find(conn, scope, id)? {
            Some(current) => WriteOutcome::Stale(current),
            None => WriteOutcome::NotFound,
        })
    }

    /// Marks every todo of the list completed (or active) that is not already; each one changed
    /// gets a new version. Returns the todos changed, as they are now.
    pub fn complete_all(
        conn: &mut DbConnection,
        scope: ListScope,
        completed: bool,
    ) -> QueryResult<Vec<Todo>> {
        db::write_transaction(conn, |conn| {
            let others = todos::table
                .filter(scope.todos())
                .filter(todos::completed.ne(completed));
            diesel::update(others)
                .set((
                    todos::completed.eq(completed),
                    todos::version.eq(todos::version + 1),
                    todos::modified_at.eq(crate::models::now()),
                ))
                .returning(super::COLUMNS)
                .get_results(conn)
        })
    }

    /// Deletes every todo of the list, or only those whose `completed` equals the filter;
    /// returns the todos deleted, as they were.
    pub fn delete_all(
        conn: &mut DbConnection,
        scope: ListScope,
        completed: Option<bool>,
    ) -> QueryResult<Vec<Todo>> {
        db::write_transaction(conn, |conn| {
            let list = todos::table.filter(scope.todos());
            match completed {
                Some(completed) => diesel::delete(list.filter(todos::completed.eq(completed)))
                    .returning(super::COLUMNS)
                    .get_results(conn),
                None => diesel::delete(list)
                    .returning(super::COLUMNS)
                    .get_results(conn),
            }
        })
    }
}

/// Inside a write transaction: makes appends to `todos` take turns, so that two of them cannot read
/// the same last position. SQLite's write lock already does this; PostgreSQL takes a table lock that
/// blocks other appends but not readers.
pub fn lock_todos_for_append(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(pg) => pg.batch_execute("LOCK TABLE todos IN SHARE ROW EXCLUSIVE MODE"),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// After rows were inserted with ids of their own: moves PostgreSQL's id sequence past them, so
/// that the next todo does not collide with one. (SQLite's AUTOINCREMENT follows by itself.)
pub fn after_explicit_ids(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(pg) => pg.batch_execute(
            "SELECT setval(pg_get_serial_sequence('todos', 'id'), \
             GREATEST((SELECT MAX(id) FROM todos), 1))",
        ),
        DbConnection::Sqlite(_) => Ok(()),
    }
}
