//! Undo without JavaScript: what a person's last form action on a list changed, kept on the
//! server under the hash of a token their browser holds, and put back exactly, or not at all.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::ids::{TodoId, UserId};
use super::scope::ListScope;
use super::todo::{MoveOutcome, NewTodo, RestoreOutcome, Todo, TodoChanges, WriteOutcome};
use crate::db::{self, DbConnection};
use crate::schema::undo_actions;

/// How long an action stays undoable, in seconds.
pub const UNDO_FOR_SECS: i64 = 600;

/// One thing to put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UndoStep {
    /// A deleted todo comes back with its id, title, state and order.
    Restore {
        id: TodoId,
        title: String,
        order: i32,
        completed: bool,
    },
    /// A todo's title or state goes back, if nobody changed it after the action (`version`).
    Revert {
        id: TodoId,
        version: i32,
        title: Option<String>,
        completed: Option<bool>,
    },
    /// A moved todo goes back after the todo it followed (`None`: to the top).
    MoveBack {
        id: TodoId,
        version: i32,
        after: Option<TodoId>,
    },
}

/// What an action did, in words ("Deleted “Milk”."), and how to take it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    pub message: String,
    pub steps: Vec<UndoStep>,
}

/// Why an undo put nothing back: the title of a todo changed since (or gone), if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoConflict {
    pub title: Option<String>,
}

impl Undo {
    /// The undo of deleting `todos`.
    pub fn restore(message: String, todos: &[Todo]) -> Undo {
        Undo {
            message,
            steps: todos
                .iter()
                .map(|todo| UndoStep::Restore {
                    id: todo.id,
                    title: todo.title.clone(),
                    order: todo.position,
                    completed: todo.completed,
                })
                .collect(),
        }
    }

    /// Puts back what the action changed, all of it or, if anything was changed since, nothing.
    pub fn apply(
        &self,
        conn: &mut DbConnection,
        scope: ListScope,
    ) -> QueryResult<Result<(), UndoConflict>> {
        let mut conflict = None;
        let result = db::write_transaction(conn, |conn| {
            for step in &self.steps {
                if let Err(found) = apply_step(conn, scope, step)? {
                    conflict = Some(found);
                    // Rolls back the steps already taken.
                    return Err(diesel::result::Error::RollbackTransaction);
                }
            }
            Ok(())
        });
        match (result, conflict) {
            (Ok(()), _) => Ok(Ok(())),
            (Err(diesel::result::Error::RollbackTransaction), Some(conflict)) => Ok(Err(conflict)),
            (Err(err), _) => Err(err),
        }
    }
}

fn apply_step(
    conn: &mut DbConnection,
    scope: ListScope,
    step: &UndoStep,
) -> QueryResult<Result<(), UndoConflict>> {
    let stale = |todo: Option<Todo>| UndoConflict {
        title: todo.map(|todo| todo.title),
    };
    Ok(match step {
        UndoStep::Restore {
            id,
            title,
            order,
            completed,
        } => {
            let new = NewTodo {
                title: title.clone(),
                position: Some(*order),
                completed: *completed,
            };
            match Todo::restore(conn, scope, *id, new)? {
                RestoreOutcome::Done(_) => Ok(()),
                RestoreOutcome::Exists(todo) => Err(stale(Some(todo))),
                RestoreOutcome::Unknown => Err(UndoConflict {
                    title: Some(title.clone()),
                }),
            }
        }
        UndoStep::Revert {
            id,
            version,
            title,
            completed,
        } => {
            let changes = TodoChanges {
                title: title.clone(),
                position: None,
                completed: *completed,
            };
            match Todo::update(conn, scope, *id, &changes, Some(&[*version]))? {
                WriteOutcome::Done(_) => Ok(()),
                WriteOutcome::Stale(todo) => Err(stale(Some(todo))),
                WriteOutcome::NotFound => Err(stale(None)),
            }
        }
        UndoStep::MoveBack { id, version, after } => {
            match Todo::move_after(conn, scope, *id, *after, Some(&[*version]))? {
                MoveOutcome::Done(_) => Ok(()),
                MoveOutcome::Stale(todo) => Err(stale(Some(todo))),
                MoveOutcome::NotFound | MoveOutcome::NoNeighbour(_) => Err(stale(None)),
            }
        }
    })
}

/// A kept undo, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = undo_actions)]
struct UndoRow {
    message: String,
    steps: String,
}

/// The undo offered to one person (`None`: open mode's anyone) on one list.
pub struct UndoRecord;

impl UndoRecord {
    /// Keeps `undo` under `token_hash`, in place of this person's earlier one on the list (only
    /// the last action can be undone), and forgets every undo older than `UNDO_FOR_SECS`.
    pub fn keep(
        conn: &mut DbConnection,
        (scope, user): (ListScope, Option<UserId>),
        token_hash: &str,
        undo: &Undo,
        now: i64,
    ) -> QueryResult<()> {
        let steps = serde_json::to_string(&undo.steps)
            .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
        db::write_transaction(conn, |conn| {
            diesel::delete(
                undo_actions::table.filter(undo_actions::created_at.lt(now - UNDO_FOR_SECS)),
            )
            .execute(conn)?;
            diesel::delete(undo_actions::table.filter(Self::of(scope, user))).execute(conn)?;
            diesel::insert_into(undo_actions::table)
                .values((
                    undo_actions::token_hash.eq(token_hash),
                    undo_actions::list_id.eq(scope.list()),
                    undo_actions::user_id.eq(user),
                    undo_actions::message.eq(&undo.message),
                    undo_actions::steps.eq(steps),
                    undo_actions::created_at.eq(now),
                ))
                .execute(conn)
                .map(drop)
        })
    }

    /// The undo kept under `token_hash` for this person on this list, if it is recent enough.
    pub fn find(
        conn: &mut DbConnection,
        (scope, user): (ListScope, Option<UserId>),
        token_hash: &str,
        now: i64,
    ) -> QueryResult<Option<Undo>> {
        let row: Option<UndoRow> = undo_actions::table
            .filter(Self::of(scope, user))
            .filter(undo_actions::token_hash.eq(token_hash))
            .filter(undo_actions::created_at.ge(now - UNDO_FOR_SECS))
            .select(UndoRow::as_select())
            .first(conn)
            .optional()?;
        Ok(row.and_then(|row| {
            let steps = serde_json::from_str(&row.steps).ok()?;
            Some(Undo {
                message: row.message,
                steps,
            })
        }))
    }

    /// Takes the undo kept under `token_hash` (it can be used once).
    pub fn take(
        conn: &mut DbConnection,
        who: (ListScope, Option<UserId>),
        token_hash: &str,
        now: i64,
    ) -> QueryResult<Option<Undo>> {
        let found = Self::find(conn, who, token_hash, now)?;
        diesel::delete(
            undo_actions::table
                .filter(Self::of(who.0, who.1))
                .filter(undo_actions::token_hash.eq(token_hash)),
        )
        .execute(conn)?;
        Ok(found)
    }

    /// The rows of this person on this list.
    fn of(scope: ListScope, user: Option<UserId>) -> OfPerson {
        let list = undo_actions::list_id.eq(scope.list()).nullable();
        match user {
            Some(user) => Box::new(list.and(undo_actions::user_id.eq(user))),
            None => Box::new(list.and(undo_actions::user_id.is_null().nullable())),
        }
    }
}

type Backend = <DbConnection as diesel::Connection>::Backend;

/// A condition on `undo_actions`, boxed so that both kinds of person give one query type.
type OfPerson = Box<
    dyn BoxableExpression<
            undo_actions::table,
            Backend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;
