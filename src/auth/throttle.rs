//! Password guessing: too many failed sign-ins for one username, or from one client address,
//! within the window, and further attempts wait.

use super::AuthError;
use crate::config::AuthSettings;
use crate::db::{self, DbConnection};
use crate::models::{FailureCount, SignInFailure};

/// Refuses the attempt while either limit is reached; otherwise counts it as a failure until it
/// succeeds. Counting it first means that many guesses sent at once are all counted.
pub fn admit(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    username_key: &str,
    client: &str,
    now: i64,
) -> Result<(), AuthError> {
    let window = i64::try_from(settings.failure_window_secs).unwrap_or(i64::MAX);
    let since = now.saturating_sub(window);
    db::write_transaction(conn, |conn| {
        let (by_user, by_client) = SignInFailure::counts(conn, username_key, client, since)?;
        let retry_after = [
            (by_user, settings.max_failures_per_user),
            (by_client, settings.max_failures_per_client),
        ]
        .into_iter()
        .filter(|(failures, limit)| failures.count >= i64::from(*limit))
        .map(|(failures, _)| retry_after(failures, window, now))
        .max();
        if let Some(retry_after) = retry_after {
            return Err(AuthError::Throttled { retry_after });
        }
        SignInFailure::record(conn, username_key, client, now, since)?;
        Ok(())
    })
}

/// Seconds until the oldest failure in the window leaves it.
fn retry_after(failures: FailureCount, window: i64, now: i64) -> u64 {
    let oldest = failures.oldest.unwrap_or(now);
    u64::try_from(oldest.saturating_add(window).saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

/// The attempt succeeded: forget the failures for this username.
pub fn succeeded(conn: &mut DbConnection, username_key: &str) -> Result<(), AuthError> {
    Ok(SignInFailure::forget_user(conn, username_key)?)
}
