//! The migrations with their data steps: the SQL in `migrations/`, and the work in Rust that some
//! of them need right after (SQL cannot normalise Unicode).

use crate::db::{self, DbConnection, DbError};

use super::User;

/// The migration after which every username gets the key `key_of` makes now.
const USERNAME_KEYS: &str = "20261207000001";

/// Applies every pending migration with its data step; returns the versions applied. A data step
/// that cannot be done (two usernames that would become one) reverts its migration and says why.
pub fn run_pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    db::run_pending_migrations_with(conn, |conn, version| {
        if version == USERNAME_KEYS {
            let changed = User::normalize_keys(conn)?;
            if changed > 0 {
                log::info!("usernames: {changed} keys normalised (NFKC, case-folded)");
            }
        }
        Ok(())
    })
}
