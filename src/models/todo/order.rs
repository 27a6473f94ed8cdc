//! Putting a todo in its place, and bringing a deleted one back. A move writes the moved todo's
//! `order` only, a number between its new neighbours'; when there is no such number, the list is
//! renumbered in the same transaction. A restore brings a todo deleted from the list back under
//! its own id.

use diesel::prelude::*;

use super::{NewTodo, Todo, WriteOutcome};
use crate::db::{self, DbConnection};
use crate::models::scope::ListScope;
use crate::models::{Change, TodoId};
use crate::schema::todos;

/// The space a renumbered list leaves between two todos, and a todo moved to an end from its
/// neighbour: room for about ten moves into the same gap before the next renumbering.
pub const ORDER_GAP: i64 = 1024;

/// What a move found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    /// Moved (or already there); the todo as it is now.
    Done(Todo),
    /// No such todo in the list.
    NotFound,
    /// The todo's version is not one the caller expected; it holds the todo as it is now.
    Stale(Todo),
    /// The todo it was to follow is not in the list (or is the todo itself).
    NoNeighbour(TodoId),
}

/// What a restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// Back in the list under its id.
    Done(Todo),
    /// The todo is in the list: there is nothing to restore.
    Exists(Todo),
    /// The list has no record of deleting that id (never its todo, or deleted too long ago).
    Unknown,
}

impl Todo {
    /// Moves todo `id` to just after todo `after` (`None`: to the top), if its version is one of
    /// `expected` (any version when `None`).
    pub fn move_after(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
        after: Option<TodoId>,
        expected: Option<&[i32]>,
    ) -> QueryResult<MoveOutcome> {
        db::write_transaction(conn, |conn| {
            let Some(todo) = Self::find(conn, scope, id)? else {
                return Ok(MoveOutcome::NotFound);
            };
            if expected.is_some_and(|versions| !versions.contains(&todo.version)) {
                return Ok(MoveOutcome::Stale(todo));
            }
            if after == Some(id) {
                return Ok(MoveOutcome::NoNeighbour(id));
            }
            let others: Vec<(TodoId, i32)> = todos::table
                .filter(scope.todos())
                .filter(todos::id.ne(id))
                .order((todos::position.asc(), todos::id.asc()))
                .select((todos::id, todos::position))
                .load(conn)?;
            let index = match after {
                None => 0,
                Some(after) => match others.iter().position(|(other, _)| *other == after) {
                    Some(found) => found + 1,
                    None => return Ok(MoveOutcome::NoNeighbour(after)),
                },
            };
            let previous = index.checked_sub(1).and_then(|i| others.get(i));
            let next = others.get(index);
            if already_between(&todo, previous, next) {
                return Ok(MoveOutcome::Done(todo));
            }
            match between(previous.map(|p| p.1), next.map(|n| n.1)) {
                Some(position) => set_position(conn, id, position)?,
                None => {
                    let mut order: Vec<TodoId> = others.iter().map(|(other, _)| *other).collect();
                    order.insert(index, id);
                    renumber(conn, &others, &order, id)?;
                }
            }
            Ok(match Self::find(conn, scope, id)? {
                Some(moved) => MoveOutcome::Done(moved),
                None => MoveOutcome::NotFound,
            })
        })
    }

    /// Brings back todo `id`, deleted from this list, with its id and what `new` holds; it gets
    /// a version above any it had. Without a position it goes after the last todo.
    pub fn restore(
        conn: &mut DbConnection,
        scope: ListScope,
        id: TodoId,
        new: NewTodo,
    ) -> QueryResult<RestoreOutcome> {
        db::write_transaction(conn, |conn| {
            if let Some(todo) = Self::find(conn, scope, id)? {
                return Ok(RestoreOutcome::Exists(todo));
            }
            let anywhere: i64 = todos::table
                .filter(todos::id.eq(id))
                .count()
                .get_result(conn)?;
            if anywhere > 0 {
                return Ok(RestoreOutcome::Unknown);
            }
            let Some(last_version) = Change::deletion_of(conn, scope, id)? else {
                return Ok(RestoreOutcome::Unknown);
            };
            let version = last_version.saturating_add(1);
            Self::insert(conn, scope, new, Some((id, version))).map(RestoreOutcome::Done)
        })
    }
}

/// Whether `todo` already sorts between `previous` and `next`, by position then id.
fn already_between(
    todo: &Todo,
    previous: Option<&(TodoId, i32)>,
    next: Option<&(TodoId, i32)>,
) -> bool {
    let key = (todo.position, todo.id);
    previous.is_none_or(|&(id, position)| (position, id) < key)
        && next.is_none_or(|&(id, position)| key < (position, id))
}

/// A position strictly between two neighbours' (an end when one is missing), if there is one.
fn between(previous: Option<i32>, next: Option<i32>) -> Option<i32> {
    let (low, high) = (i64::from(i32::MIN), i64::from(i32::MAX));
    let chosen = match (previous.map(i64::from), next.map(i64::from)) {
        (None, None) => 0,
        (Some(previous), None) => (previous + ORDER_GAP).min(previous + (high - previous) / 2),
        (None, Some(next)) => (next - ORDER_GAP).max(next - (next - low) / 2),
        (Some(previous), Some(next)) => previous + (next - previous) / 2,
    };
    let fits = previous.is_none_or(|p| chosen > i64::from(p))
        && next.is_none_or(|n| chosen < i64::from(n));
    if fits {
        i32::try_from(chosen).ok()
    } else {
        None
    }
}

fn set_position(conn: &mut DbConnection, id: TodoId, position: i32) -> QueryResult<()> {
    diesel::update(todos::table.filter(todos::id.eq(id)))
        .set((
            todos::position.eq(position),
            todos::version.eq(todos::version + 1),
            todos::modified_at.eq(crate::models::now()),
        ))
        .execute(conn)
        .map(drop)
}

/// Gives the todos of `order` evenly spaced positions in that order, writing only those whose
/// position changes (each gets a new version, as any write does) and always the moved one.
fn renumber(
    conn: &mut DbConnection,
    before: &[(TodoId, i32)],
    order: &[TodoId],
    moved: TodoId,
) -> QueryResult<()> {
    let count = i64::try_from(order.len()).unwrap_or(i64::MAX);
    let gap = ORDER_GAP.min(i64::from(i32::MAX) / (count + 1)).max(1);
    for (place, id) in (1i64..).zip(order) {
        let position = i32::try_from(place * gap).unwrap_or(i32::MAX);
        let unchanged = *id != moved
            && before
                .iter()
                .any(|(other, old)| other == id && *old == position);
        if !unchanged {
            set_position(conn, *id, position)?;
        }
    }
    Ok(())
}

impl From<MoveOutcome> for WriteOutcome<Todo> {
    fn from(outcome: MoveOutcome) -> Self {
        match outcome {
            MoveOutcome::Done(todo) => WriteOutcome::Done(todo),
            MoveOutcome::Stale(todo) => WriteOutcome::Stale(todo),
            MoveOutcome::NotFound | MoveOutcome::NoNeighbour(_) => WriteOutcome::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::between;

    #[test]
    fn a_position_between_neighbours_or_none() {
        assert_eq!(between(Some(1), Some(3)), Some(2));
        assert_eq!(between(Some(1), Some(2)), None);
        assert_eq!(between(Some(5), Some(5)), None);
        assert_eq!(between(None, Some(1)), Some(1 - 1024));
        assert_eq!(between(Some(1), None), Some(1025));
        assert_eq!(between(None, None), Some(0));
        assert_eq!(between(Some(i32::MAX - 1), None), None);
        assert_eq!(between(Some(i32::MAX - 2), None), Some(i32::MAX - 1));
        assert_eq!(between(None, Some(i32::MIN + 2)), Some(i32::MIN + 1));
        assert_eq!(between(None, Some(i32::MIN)), None);
        assert_eq!(between(Some(-10), Some(10)), Some(0));
    }
}
