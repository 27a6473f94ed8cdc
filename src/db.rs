//! The connection pool, per-connection settings, and the embedded migrations.

use diesel::connection::SimpleConnection;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseSettings;

/// The one connection type the application uses.
pub type DbConnection = SqliteConnection;
pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDbConnection = PooledConnection<ConnectionManager<DbConnection>>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database URL {0:?} is not supported: use a SQLite file path such as todos.db or sqlite://todos.db"
    )]
    UnsupportedUrl(String),
    #[error("cannot open the database {url:?}: {message}")]
    Connect { url: String, message: String },
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection could be had: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

/// A database URL, checked before any connection is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// What SQLite opens: a file path or a `file:` URI.
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(path.to_owned()));
        }
        // Anything else with a scheme (postgres://, mysql://, http://) is not a SQLite path.
        if url.is_empty() || url.contains("://") {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    fn connection_string(&self) -> &str {
        match self {
            Self::Sqlite(path) => path,
        }
    }
}

/// Applied to every new pooled connection. SQLite pragmas are per connection, so they cannot be set
/// once for the database; `busy_timeout` comes first so that the others wait for a busy database too.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas {
    busy_timeout_ms: u64,
}

impl SqlitePragmas {
    fn apply(&self, conn: &mut DbConnection) -> QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON;",
            self.busy_timeout_ms
        ))
    }
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool and opens its first connections, so that a bad URL fails at start-up.
pub fn connect(settings: &DatabaseSettings) -> Result<DbPool, DbError> {
    let url = DatabaseUrl::parse(settings.url())?;
    let connect_error = |message: String| DbError::Connect {
        url: settings.url().to_owned(),
        message,
    };
    let pragmas = SqlitePragmas {
        busy_timeout_ms: settings.busy_timeout_ms,
    };
    // Switching a file to WAL takes an exclusive lock; done once here, it spares the pool's
    // connections, opened in parallel, from racing for it ("database is locked" at start-up).
    let mut first = DbConnection::establish(url.connection_string())
        .map_err(|err| connect_error(err.to_string()))?;
    pragmas
        .apply(&mut first)
        .map_err(|err| connect_error(err.to_string()))?;
    drop(first);

    let manager = ConnectionManager::<DbConnection>::new(url.connection_string());
    Pool::builder()
        .max_size(settings.pool_size)
        .connection_timeout(settings.connection_timeout())
        .connection_customizer(Box::new(pragmas))
        .build(manager)
        .map_err(|err| connect_error(err.to_string()))
}

/// Runs `work` in a transaction that takes the write lock at once. A deferred transaction that
/// upgrades from reading to writing fails with "database is locked" immediately, whatever the busy
/// timeout, when another writer got there first.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.immediate_transaction(work)
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: String,
    pub name: String,
    pub applied: bool,
}

fn migration_error(err: impl std::fmt::Display) -> DbError {
    DbError::Migration(err.to_string())
}

/// Applies every pending migration; returns the versions applied.
pub fn run_pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let applied = conn
        .run_pending_migrations(SQLITE_MIGRATIONS)
        .map_err(migration_error)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts the newest applied migration; returns its version, or `None` when none is applied.
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    if conn
        .applied_migrations()
        .map_err(migration_error)?
        .is_empty()
    {
        return Ok(None);
    }
    let version = conn
        .revert_last_migration(SQLITE_MIGRATIONS)
        .map_err(migration_error)?;
    Ok(Some(version.to_string()))
}

/// Reverts the newest applied migration and applies it again; returns its version.
pub fn redo_last_migration(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    let Some(version) = revert_last_migration(conn)? else {
        return Ok(None);
    };
    conn.run_next_migration(SQLITE_MIGRATIONS)
        .map_err(migration_error)?;
    Ok(Some(version))
}

/// Every known migration, oldest first, with whether it is applied.
pub fn migration_status(conn: &mut DbConnection) -> Result<Vec<MigrationStatus>, DbError> {
    let applied: Vec<MigrationVersion<'static>> =
        conn.applied_migrations().map_err(migration_error)?;
    let mut all = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(migration_error)?;
    all.sort_by(|a, b| a.name().version().cmp(&b.name().version()));
    Ok(all
        .iter()
        .map(|migration| {
            let version = migration.name().version().as_owned();
            MigrationStatus {
                applied: applied.contains(&version),
                version: version.to_string(),
                name: migration.name().to_string(),
            }
        })
        .collect())
}
