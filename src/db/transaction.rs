//! Transactions: writes that take SQLite's write lock at once, savepoints inside them, read
//! snapshots, and undoing what a panicking write left open.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::DbConnection;

/// Runs `work` in a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
/// deferred transaction that upgrades from reading to writing fails with "database is locked"
/// immediately, whatever the busy timeout, when another writer got there first.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Inside a transaction already (a write of the writer's group, or a model's write inside an
    // idempotent one): a savepoint undoes this part alone if it fails, whatever the outer work
    // does with the error.
    if transaction_depth(conn)? > 0 {
        return in_savepoint(conn, work);
    }
    match conn {
        // The same steps as SqliteConnection::immediate_transaction, through the pooled type.
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
                .map_err(lost_turn)?;
        }
        DbConnection::Pg(_) => DbConnection::begin_transaction(conn)?,
    }
    let result = work(conn);
    finish(conn, result)
}

/// Ends the transaction (or savepoint) that produced `result`: committed (released) if it
/// succeeded, rolled back if not.
fn finish<T, E>(conn: &mut DbConnection, result: Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match result {
        Ok(value) => {
            DbConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            DbConnection::rollback_transaction(conn)?;
            Err(err)
        }
    }
}

/// Runs `work` inside the transaction already open on `conn`, in a savepoint of its own: its
/// changes are undone if it fails, the rest of the transaction's are kept.
pub fn in_savepoint<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    DbConnection::begin_transaction(conn)?;
    let result = work(conn);
    finish(conn, result)
}

/// How many transactions and savepoints are open on `conn` (an error if diesel found the
/// connection's transaction state broken).
pub fn transaction_depth(conn: &mut DbConnection) -> QueryResult<u32> {
    let status =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
    Ok(status
        .transaction_depth()?
        .map_or(0, std::num::NonZero::get))
}

/// Rolls back the savepoints (and transactions) open on `conn` above `depth`: what a write that
/// panicked left open.
pub fn roll_back_to(conn: &mut DbConnection, depth: u32) -> QueryResult<()> {
    while transaction_depth(conn)? > depth {
        DbConnection::rollback_transaction(conn)?;
    }
    Ok(())
}

/// SQLite could not start a write: another process held the write lock past the busy timeout
/// (or the file cannot be written). Reported as a serialization failure, the kind of error whose
/// request can succeed when sent again (503 with Retry-After), instead of as a plain database error
/// that could only be told apart by its message.
#[allow(
    clippy::needless_pass_by_value,
    reason = "the map_err callback owns the error"
)]
fn lost_turn(err: diesel::result::Error) -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::SerializationFailure,
        Box::new(LostTurn(err.to_string())),
    )
}

/// Why a write did not get its turn, as diesel reports database errors.
#[derive(Debug)]
struct LostTurn(String);

impl diesel::result::DatabaseErrorInformation for LostTurn {
    fn message(&self) -> &str {
        &self.0
    }
    fn details(&self) -> Option<&str> {
        Some("SQLite's write lock was not free within database.busy_timeout_ms")
    }
    fn hint(&self) -> Option<&str> {
        None
    }
    fn table_name(&self) -> Option<&str> {
        None
    }
    fn column_name(&self) -> Option<&str> {
        None
    }
    fn constraint_name(&self) -> Option<&str> {
        None
    }
    fn statement_position(&self) -> Option<i32> {
        None
    }
}

/// Runs `work` on one consistent snapshot of the database: every query in it sees the same
/// committed state (a read transaction on SQLite; REPEATABLE READ on PostgreSQL).
pub fn read_snapshot<T, F>(conn: &mut DbConnection, work: F) -> QueryResult<T>
where
    F: FnOnce(&mut DbConnection) -> QueryResult<T>,
{
    // Inside a transaction already (a write that shows the list as it left it): its queries see
    // one state, the transaction's own.
    if transaction_depth(conn)? > 0 {
        return work(conn);
    }
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN DEFERRED")?;
        }
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(
            pg,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )?,
    }
    let result = work(conn);
    finish(conn, result)
}
