//! Password guessing: too many failed sign-ins for one username, or from one client address,
//! within the window, and further attempts wait.

use super::AuthError;
use crate::config::AuthSettings;
use crate::db::{self, DbConnection};
use crate::models::{FailureCount, SignInFailure};

fn window(settings: &AuthSettings) -> i64 {
    i64::try_from(settings.failure_window_secs).unwrap_or(i64::MAX)
}

/// Refuses the attempt while either limit is reached. Attempts sent at the same moment may all
/// pass before the first failure is recorded, so the limit can be overshot by as many requests as
/// one client sends at once; each of them still costs a full Argon2 verification.
pub fn check(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    username_key: &str,
    client: &str,
    now: i64,
) -> Result<(), AuthError> {
    let window = window(settings);
    let (by_user, by_client) =
        SignInFailure::counts(conn, username_key, client, now.saturating_sub(window))?;
    let retry_after = [
        (by_user, settings.max_failures_per_user),
        (by_client, settings.max_failures_per_client),
    ]
    .into_iter()
    .filter(|(failures, limit)| failures.count >= i64::from(*limit))
    .map(|(failures, _)| retry_after(failures, window, now))
    .max();
    match retry_after {
        Some(retry_after) => Err(AuthError::Throttled { retry_after }),
        None => Ok(()),
    }
}

/// Seconds until the oldest failure in the window leaves it.
fn retry_after(failures: FailureCount, window: i64, now: i64) -> u64 {
    let oldest = failures.oldest.unwrap_or(now);
    u64::try_from(oldest.saturating_add(window).saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

/// Counts a failed attempt, and forgets those that have left the window.
pub fn failed(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    username_key: &str,
    client: &str,
    now: i64,
) -> Result<(), AuthError> {
    let since = now.saturating_sub(window(settings));
    db::write_transaction(conn, |conn| {
        SignInFailure::record(conn, username_key, client, now, since)
    })?;
    Ok(())
}

/// The attempt succeeded: forget the failures for this username.
pub fn succeeded(conn: &mut DbConnection, username_key: &str) -> Result<(), AuthError> {
    Ok(SignInFailure::forget_user(conn, username_key)?)
}
