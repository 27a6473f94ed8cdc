//! A copy of a SQLite database taken while it is in use.

use diesel::connection::SimpleConnection;

use super::{DbConnection, DbError};

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
