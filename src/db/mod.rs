//! The database: one pooled connection type for SQLite and PostgreSQL alike (the URL picks the
//! engine at run time), its transactions, its migrations and its backup.

mod backup;
mod commits;
mod migrations;
mod pool;
mod transaction;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;

pub use crate::config::DatabaseUrl;
pub use backup::backup_sqlite;
pub use commits::Commits;
pub use migrations::{
    MigrationStatus, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, migration_status, redo_last_migration,
    revert_last_migration, run_pending_migrations, run_pending_migrations_with,
};
pub use pool::{connect, open};
pub use transaction::{
    in_savepoint, read_snapshot, roll_back_to, transaction_depth, write_transaction,
};

/// The one connection type the application uses: PostgreSQL or SQLite, picked by the URL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDbConnection = PooledConnection<ConnectionManager<DbConnection>>;

/// What lies under an error that only needs telling: another error, or a description where there
/// is none.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Errors of the database layer. Above it, each becomes 503 (unreachable, busy) or 500.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A connection could not be opened (start-up stops; later, 503).
    #[error("cannot open the database {url}: {cause}")]
    Connect {
        url: String,
        #[source]
        cause: Cause,
    },
    /// A migration failed (start-up, or `todomvc migrate`, stops).
    #[error("migrations failed: {0}")]
    Migration(#[source] Cause),
    /// `todomvc backup` failed.
    #[error("backup failed: {0}")]
    Backup(#[source] Cause),
    /// A query failed: 500, or 503 for a serialization failure.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    /// No pooled connection within `database.connection_timeout_ms`: 503.
    #[error("no database connection could be had: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}
