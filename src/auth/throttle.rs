//! What a guesser or a mass sign-up from one client can do, and how it is held back. The model:
//!
//! - **Per username and client address:** after `auth.max_failures_per_user` failed sign-ins for
//!   one name from one address within the window, that address gets 429 for that name until the
//!   oldest failure leaves the window. Nobody else is refused: the owner signing in from an address
//!   that has not failed gets in.
//! - **Per client address:** after `auth.max_failures_per_client` failures from one address, for
//!   any names, it gets 429 for every name.
//! - **Per account, from everywhere:** failures for one name from all addresses slow every further
//!   attempt for it: after `auth.account_slowdown_after` failures, each attempt waits
//!   `auth.account_slowdown_ms` before its password is checked, doubling with each further
//!   `account_slowdown_after` failures, up to `auth.max_account_slowdown_ms`. It waits without a
//!   thread or a hashing turn, and it never refuses: a distributed guesser is slowed, the owner is
//!   never locked out.
//! - **Sign-up per client address:** at most `auth.max_signups_per_client` sign-ups (new accounts
//!   and names found taken alike) per address in `auth.signup_window_secs`, then 429.
//!
//! A client address is the connection's peer, or what a trusted proxy says; an IPv6 address counts
//! by its /64, the block one subscriber is usually given. Counts live in the database, so they hold
//! across restarts and across the instances that share it.

use std::net::IpAddr;
use std::time::Duration;

use super::{AuthError, secs};
use crate::config::AuthSettings;
use crate::db::{self, DbConnection};
use crate::models::{FailureCount, SignInFailure, SignUpAttempt};

/// The client as throttling counts it: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn of(address: Option<IpAddr>) -> Self {
        Self(match address {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let mut segments = v6.segments();
                    segments[4..].fill(0);
                    format!("{}/64", std::net::Ipv6Addr::from(segments))
                }
            },
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses a sign-in while the name's limit for this client, or the client's own, is reached;
/// otherwise says how long the attempt must wait first (zero unless the account is under attack).
/// Attempts sent at the same moment may all pass before the first failure is recorded, so a limit
/// can be overshot by as many requests as one client sends at once.
pub fn check_sign_in(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    username_key: &str,
    client: &ClientKey,
    now: i64,
) -> Result<Duration, AuthError> {
    let window = secs(settings.failure_window);
    let counts = SignInFailure::counts(
        conn,
        username_key,
        client.as_str(),
        now.saturating_sub(window),
    )?;
    let retry_after = [
        (counts.name_from_client, settings.max_failures_per_user),
        (counts.client, settings.max_failures_per_client),
    ]
    .into_iter()
    .filter(|(failures, limit)| failures.count >= i64::from(*limit))
    .map(|(failures, _)| retry_after(failures, window, now))
    .max();
    match retry_after {
        Some(retry_after) => Err(AuthError::Throttled { retry_after }),
        None => Ok(account_slowdown(settings, counts.name.count)),
    }
}

/// The wait before a sign-in for a name that has failed `failures` times, from anywhere, within
/// the window.
pub fn account_slowdown(settings: &AuthSettings, failures: i64) -> Duration {
    let after = i64::from(settings.account_slowdown_after.max(1));
    if failures < after {
        return Duration::ZERO;
    }
    let doublings = u32::try_from((failures - after) / after)
        .unwrap_or(u32::MAX)
        .min(20);
    settings
        .account_slowdown
        .saturating_mul(1 << doublings)
        .min(settings.max_account_slowdown)
}

/// Seconds until the oldest event in the window leaves it.
fn retry_after(events: FailureCount, window: i64, now: i64) -> u64 {
    let oldest = events.oldest.unwrap_or(now);
    u64::try_from(oldest.saturating_add(window).saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

/// Counts a failed sign-in, and forgets those that have left the window.
pub fn sign_in_failed(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    username_key: &str,
    client: &ClientKey,
    now: i64,
) -> Result<(), AuthError> {
    let since = now.saturating_sub(secs(settings.failure_window));
    db::write_transaction(conn, |conn| {
        SignInFailure::record(conn, username_key, client.as_str(), now, since)
    })?;
    Ok(())
}

/// The sign-in succeeded: forget the failures for this name.
pub fn signed_in(conn: &mut DbConnection, username_key: &str) -> Result<(), AuthError> {
    Ok(SignInFailure::forget_user(conn, username_key)?)
}

/// Counts a sign-up from `client`, or refuses it (429) when the client has used its allowance.
/// Counting and checking are one transaction, so that a burst sent at once is held to the limit.
pub fn admit_sign_up(
    conn: &mut DbConnection,
    settings: &AuthSettings,
    client: &ClientKey,
    now: i64,
) -> Result<(), AuthError> {
    let window = secs(settings.signup_window);
    let since = now.saturating_sub(window);
    let limit = i64::from(settings.max_signups_per_client);
    let admitted = db::write_transaction(conn, |conn| -> diesel::QueryResult<Result<(), u64>> {
        let attempts = SignUpAttempt::count(conn, client.as_str(), since)?;
        if attempts.count >= limit {
            return Ok(Err(retry_after(attempts, window, now)));
        }
        SignUpAttempt::record(conn, client.as_str(), now, since)?;
        Ok(Ok(()))
    })?;
    admitted.map_err(|retry_after| AuthError::SignUpsThrottled { retry_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = ClientKey::of("2001:db8:1:2:aaaa::1".parse().ok());
        let b = ClientKey::of("2001:db8:1:2:bbbb::9".parse().ok());
        let other = ClientKey::of("2001:db8:1:3::1".parse().ok());
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2001:db8:1:2::/64");
        assert_ne!(a, other);
        assert_eq!(
            ClientKey::of("::ffff:203.0.113.7".parse().ok()).as_str(),
            "203.0.113.7"
        );
        assert_eq!(
            ClientKey::of("203.0.113.7".parse().ok()).as_str(),
            "203.0.113.7"
        );
    }

    #[test]
    fn the_account_slowdown_grows_and_is_capped() {
        let mut settings = crate::config::Settings::load_from(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            &std::collections::HashMap::new(),
        )
        .expect("settings")
        .auth;
        settings.account_slowdown_after = 10;
        settings.account_slowdown = Duration::from_millis(1000);
        settings.max_account_slowdown = Duration::from_millis(8000);
        let wait = |failures| account_slowdown(&settings, failures).as_millis();
        assert_eq!(wait(0), 0);
        assert_eq!(wait(9), 0);
        assert_eq!(wait(10), 1000);
        assert_eq!(wait(19), 1000);
        assert_eq!(wait(20), 2000);
        assert_eq!(wait(30), 4000);
        assert_eq!(wait(40), 8000);
        assert_eq!(wait(1_000_000), 8000);
    }
}
