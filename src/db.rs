//! The connection pool, per-connection settings, and the embedded migrations, for SQLite and
//! PostgreSQL alike: the database URL picks the engine at run time.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use std::sync::{Mutex, PoisonError};

use crate::config::DatabaseSettings;

/// The one connection type the application uses: PostgreSQL or SQLite, picked by the URL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDbConnection = PooledConnection<ConnectionManager<DbConnection>>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database URL {0:?} is not supported: use postgres://user:password@host/db, or a SQLite file \
         path such as todos.db or sqlite://todos.db"
    )]
    UnsupportedUrl(String),
    #[error("cannot open the database {url}: {cause}")]
    Connect {
        url: String,
        #[source]
        cause: crate::error::Cause,
    },
    #[error("migrations failed: {0}")]
    Migration(#[source] crate::error::Cause),
    #[error("backup failed: {0}")]
    Backup(#[source] crate::error::Cause),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection could be had: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

/// A database URL, checked before any connection is tried: MultiConnection would otherwise try
/// each engine in turn and report only the last one's error.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// What SQLite opens: a file path or a `file:` URI.
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(path.to_owned()));
        }
        // Anything else with a scheme (mysql://, http://) is not a SQLite path either.
        if url.is_empty() || url.contains("://") {
            return Err(DbError::UnsupportedUrl(redact(url)));
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "PostgreSQL",
            Self::Sqlite(_) => "SQLite",
        }
    }

    /// The URL, fit for logs and error messages: without its password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(url) => redact(url),
            Self::Sqlite(path) => path.clone(),
        }
    }

    /// What the driver is given. A PostgreSQL URL gets a connect timeout unless it has one, so
    /// that an unreachable host fails in seconds rather than after the system's TCP timeout.
    pub fn connection_string(&self, settings: &DatabaseSettings) -> String {
        match self {
            Self::Postgres(url) if !url.contains("connect_timeout=") => {
                let seconds = settings.connection_timeout_ms.div_ceil(1000).max(2);
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}connect_timeout={seconds}")
            }
            Self::Postgres(url) | Self::Sqlite(url) => url.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.engine(), self.redacted())
    }
}

/// `scheme://user:password@host` becomes `scheme://user:***@host`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Applied to every new pooled connection. SQLite pragmas are per connection, so they cannot be set
/// once for the database; `busy_timeout` comes first so that the others wait for a busy database too.
#[derive(Debug, Clone, Copy)]
struct ConnectionSetup {
    busy_timeout_ms: u64,
}

impl ConnectionSetup {
    fn apply(&self, conn: &mut DbConnection) -> QueryResult<()> {
        match conn {
            DbConnection::Sqlite(conn) => conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON;",
                self.busy_timeout_ms
            )),
            DbConnection::Pg(_) => Ok(()),
        }
    }
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool after opening one connection by hand, so that a bad URL or an unreachable
/// server stops start-up at once with the driver's own message (which names the host).
pub fn connect(settings: &DatabaseSettings) -> Result<DbPool, DbError> {
    let url = DatabaseUrl::parse(settings.url())?;
    let connect_error = |message: String| DbError::Connect {
        url: url.redacted(),
        cause: message.trim().to_owned().into(),
    };
    let connection_string = url.connection_string(settings);
    let setup = ConnectionSetup {
        busy_timeout_ms: settings.busy_timeout_ms,
    };
    // For SQLite this also switches the file to WAL once: the switch takes an exclusive lock, which
    // the pool's connections, opened in parallel, would otherwise race for.
    drop(open(settings)?);

    Pool::builder()
        .max_size(settings.pool_size)
        .connection_timeout(settings.connection_timeout())
        // A PostgreSQL connection can die with the server or the network; a SQLite one cannot, so
        // it is not checked with a query at every checkout.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .connection_customizer(Box::new(setup))
        .event_handler(Box::new(crate::telemetry::PoolEvents))
        .build(ConnectionManager::new(connection_string))
        .map_err(|err| connect_error(err.to_string()))
}

/// One connection outside the pool, set up as the pool's are.
pub fn open(settings: &DatabaseSettings) -> Result<DbConnection, DbError> {
    let url = DatabaseUrl::parse(settings.url())?;
    let connect_error = |message: String| DbError::Connect {
        url: url.redacted(),
        cause: message.trim().to_owned().into(),
    };
    let mut conn = establish(&url, &url.connection_string(settings)).map_err(connect_error)?;
    ConnectionSetup {
        busy_timeout_ms: settings.busy_timeout_ms,
    }
    .apply(&mut conn)
    .map_err(|err| connect_error(err.to_string()))?;
    Ok(conn)
}

fn establish(url: &DatabaseUrl, connection_string: &str) -> Result<DbConnection, String> {
    let result = match url {
        DatabaseUrl::Postgres(_) => {
            PgConnection::establish(connection_string).map(DbConnection::Pg)
        }
        DatabaseUrl::Sqlite(_) => {
            SqliteConnection::establish(connection_string).map(DbConnection::Sqlite)
        }
    };
    result.map_err(|err| err.to_string())
}

/// SQLite takes one writer at a time. Writers of this process wait their turn here, woken as soon
/// as it comes, rather than in SQLite's busy handler, which sleeps in steps of up to 100 ms. The
/// busy timeout still covers writers in other processes (`todomvc import`, a backup).
static SQLITE_WRITERS: Mutex<()> = Mutex::new(());

/// Raised after every write transaction of this process commits; live updates on SQLite wait on
/// it to learn of this process's writes at once.
static COMMITS: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// The count of this process's committed write transactions, raised before the writer answers.
static COMMIT_COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many write transactions this process has committed: a reader that saw one count and sees
/// it again knows that this process wrote nothing in between.
pub fn commit_count() -> u64 {
    COMMIT_COUNT.load(std::sync::atomic::Ordering::Acquire)
}

/// A receiver that sees every later commit of this process (as a change of its count).
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    COMMITS.subscribe()
}

thread_local! {
    /// Whether this thread is inside `write_transaction`'s work.
    static IN_WRITE_TRANSACTION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work` in a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
/// deferred transaction that upgrades from reading to writing fails with "database is locked"
/// immediately, whatever the busy timeout, when another writer got there first.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Nested inside another write transaction of this thread: already holding the turn, which is
    // not reentrant. A savepoint undoes this part alone if it fails, whatever the outer work does
    // with the error.
    if IN_WRITE_TRANSACTION.get() {
        return in_savepoint(conn, work);
    }
    let _turn = matches!(conn, DbConnection::Sqlite(_)).then(|| {
        SQLITE_WRITERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    });
    match conn {
        // The same steps as SqliteConnection::immediate_transaction, through the pooled type.
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
                .map_err(lost_turn)?;
        }
        DbConnection::Pg(_) => DbConnection::begin_transaction(conn)?,
    }
    IN_WRITE_TRANSACTION.set(true);
    let result = work(conn);
    IN_WRITE_TRANSACTION.set(false);
    let result = finish(conn, result);
    if result.is_ok() {
        COMMIT_COUNT.fetch_add(1, std::sync::atomic::Ordering::Release);
        COMMITS.send_modify(|count| *count = count.wrapping_add(1));
    }
    result
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

/// A consistent copy of a SQLite database, taken while it is in use, into a new file at `path`.
pub fn backup_sqlite(conn: &mut DbConnection, path: &std::path::Path) -> Result<(), DbError> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(DbError::Backup(
            "backup copies a SQLite database; for PostgreSQL use pg_dump".into(),
        ));
    };
    if path.exists() {
        return Err(DbError::Backup(
            format!("{} already exists; name a new file", path.display()).into(),
        ));
    }
    let target = path
        .to_str()
        .ok_or_else(|| DbError::Backup(format!("{} is not a UTF-8 path", path.display()).into()))?;
    // VACUUM INTO reads one snapshot of the database, so writers may go on meanwhile.
    sqlite
        .batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .map_err(|err| DbError::Backup(Box::new(err)))
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: String,
    pub name: String,
    pub applied: bool,
}

fn migration_error(err: impl Into<crate::error::Cause>) -> DbError {
    DbError::Migration(err.into())
}

/// Runs `action` with the connection's own engine and that engine's migrations.
macro_rules! with_migrations {
    ($conn:expr, |$inner:ident, $migrations:ident| $action:expr) => {
        match $conn {
            DbConnection::Pg($inner) => {
                let $migrations = POSTGRES_MIGRATIONS;
                $action
            }
            DbConnection::Sqlite($inner) => {
                let $migrations = SQLITE_MIGRATIONS;
                $action
            }
        }
    };
}

/// Applies every pending migration; returns the versions applied. Prefer
/// `models::run_pending_migrations`, which also runs the data steps some migrations need.
pub fn run_pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    run_pending_migrations_with(conn, |_, _| Ok(()))
}

/// Applies every pending migration, one at a time, each followed by `data_step(conn, version)`:
/// work in Rust that SQL cannot do. A data step that fails reverts its migration, and nothing
/// after it is applied; its error is returned.
pub fn run_pending_migrations_with(
    conn: &mut DbConnection,
    mut data_step: impl FnMut(&mut DbConnection, &str) -> Result<(), crate::error::Cause>,
) -> Result<Vec<String>, DbError> {
    let mut applied = Vec::new();
    loop {
        let next: Option<String> = with_migrations!(conn, |inner, migrations| {
            let pending = inner
                .pending_migrations(migrations)
                .map_err(migration_error)?;
            match pending.first() {
                Some(migration) => Some(
                    inner
                        .run_migration(migration.as_ref())
                        .map_err(migration_error)?
                        .to_string(),
                ),
                None => None,
            }
        });
        let Some(version) = next else {
            return Ok(applied);
        };
        if let Err(cause) = data_step(conn, &version) {
            revert_last_migration(conn)?;
            return Err(DbError::Migration(cause));
        }
        applied.push(version);
    }
}

/// Reverts the newest applied migration; returns its version, or `None` when none is applied.
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    with_migrations!(conn, |inner, migrations| {
        if inner
            .applied_migrations()
            .map_err(migration_error)?
            .is_empty()
        {
            return Ok(None);
        }
        let version = inner
            .revert_last_migration(migrations)
            .map_err(migration_error)?;
        Ok(Some(version.to_string()))
    })
}

/// Reverts the newest applied migration and applies it again; returns its version.
pub fn redo_last_migration(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    let Some(version) = revert_last_migration(conn)? else {
        return Ok(None);
    };
    with_migrations!(conn, |inner, migrations| inner
        .run_next_migration(migrations)
        .map_err(migration_error)?);
    Ok(Some(version))
}

/// The migrations in `source`, for the engine of `_conn`.
fn known_migrations<C: Connection>(
    _conn: &C,
    source: &EmbeddedMigrations,
) -> Result<Vec<Box<dyn diesel::migration::Migration<C::Backend>>>, DbError> {
    MigrationSource::<C::Backend>::migrations(source).map_err(migration_error)
}

/// Every known migration, oldest first, with whether it is applied.
pub fn migration_status(conn: &mut DbConnection) -> Result<Vec<MigrationStatus>, DbError> {
    with_migrations!(conn, |inner, migrations| {
        let applied: Vec<MigrationVersion<'static>> =
            inner.applied_migrations().map_err(migration_error)?;
        let mut all = known_migrations(inner, &migrations)?;
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
    })
}

#[cfg(test)]
mod tests {
    use super::{DatabaseUrl, redact};

    #[test]
    fn the_scheme_picks_the_engine() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=require",
        ] {
            assert!(
                matches!(DatabaseUrl::parse(url), Ok(DatabaseUrl::Postgres(_))),
                "{url}"
            );
        }
        for (url, path) in [
            ("todos.db", "todos.db"),
            ("sqlite://data/t.db", "data/t.db"),
        ] {
            assert_eq!(
                DatabaseUrl::parse(url).ok(),
                Some(DatabaseUrl::Sqlite(path.into()))
            );
        }
        for url in ["mysql://h/db", "http://h/db", "", "  "] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/todos"),
            "postgres://app:***@db.internal:5432/todos"
        );
        assert_eq!(redact("postgres://app@db/todos"), "postgres://app@db/todos");
        let err = DatabaseUrl::parse("mysql://root:hunter2@h/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
