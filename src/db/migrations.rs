//! The embedded migrations of both engines: applied, reverted, redone and listed on the
//! connection's own engine.

use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{Cause, DbConnection, DbError};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: String,
    pub name: String,
    pub applied: bool,
}

fn migration_error(err: impl Into<Cause>) -> DbError {
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
    mut data_step: impl FnMut(&mut DbConnection, &str) -> Result<(), Cause>,
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
