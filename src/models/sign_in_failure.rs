//! Failed sign-ins and sign-ups by client, kept for their throttling windows, so that limits hold across restarts and
//! across the instances that share a database.

use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::schema::{sign_in_failures, sign_up_attempts};

/// Failures within a window: how many, and when the oldest of them happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureCount {
    pub count: i64,
    pub oldest: Option<i64>,
}

/// The failures that decide whether a sign-in may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureCounts {
    /// For this name from this client.
    pub name_from_client: FailureCount,
    /// From this client, for any name.
    pub client: FailureCount,
    /// For this name, from anywhere.
    pub name: FailureCount,
}

pub struct SignInFailure;

impl SignInFailure {
    /// Failures since `since`: for `username_key` from `client`, from `client` for any name, and
    /// for `username_key` from anywhere.
    pub fn counts(
        conn: &mut DbConnection,
        username_key: &str,
        client: &str,
        since: i64,
    ) -> QueryResult<FailureCounts> {
        let recent = || sign_in_failures::table.filter(sign_in_failures::at.ge(since));
        let count = |(count, oldest): (i64, Option<i64>)| FailureCount { count, oldest };
        let tally = (
            diesel::dsl::count_star(),
            diesel::dsl::min(sign_in_failures::at),
        );
        Ok(FailureCounts {
            name_from_client: recent()
                .filter(sign_in_failures::username_key.eq(username_key))
                .filter(sign_in_failures::client.eq(client))
                .select(tally)
                .first(conn)
                .map(count)?,
            client: recent()
                .filter(sign_in_failures::client.eq(client))
                .select(tally)
                .first(conn)
                .map(count)?,
            name: recent()
                .filter(sign_in_failures::username_key.eq(username_key))
                .select(tally)
                .first(conn)
                .map(count)?,
        })
    }

    /// Records a failure, and forgets those older than `forget_before`. Runs inside the caller's
    /// write transaction, the one that counted.
    pub fn record(
        conn: &mut DbConnection,
        username_key: &str,
        client: &str,
        now: i64,
        forget_before: i64,
    ) -> QueryResult<()> {
        diesel::delete(sign_in_failures::table.filter(sign_in_failures::at.lt(forget_before)))
            .execute(conn)?;
        diesel::insert_into(sign_in_failures::table)
            .values((
                sign_in_failures::username_key.eq(username_key),
                sign_in_failures::client.eq(client),
                sign_in_failures::at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Forgets the failures for a username once its owner has signed in.
    pub fn forget_user(conn: &mut DbConnection, username_key: &str) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::delete(
                sign_in_failures::table.filter(sign_in_failures::username_key.eq(username_key)),
            )
            .execute(conn)
            .map(drop)
        })
    }
}

/// Sign-ups by client address, kept for the sign-up window.
pub struct SignUpAttempt;

impl SignUpAttempt {
    /// Sign-ups from `client` since `since`.
    pub fn count(conn: &mut DbConnection, client: &str, since: i64) -> QueryResult<FailureCount> {
        sign_up_attempts::table
            .filter(sign_up_attempts::at.ge(since))
            .filter(sign_up_attempts::client.eq(client))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(sign_up_attempts::at),
            ))
            .first(conn)
            .map(|(count, oldest)| FailureCount { count, oldest })
    }

    /// Records a sign-up from `client`, and forgets those older than `forget_before`. Runs inside
    /// the caller's write transaction, the one that counted.
    pub fn record(
        conn: &mut DbConnection,
        client: &str,
        now: i64,
        forget_before: i64,
    ) -> QueryResult<()> {
        diesel::delete(sign_up_attempts::table.filter(sign_up_attempts::at.lt(forget_before)))
            .execute(conn)?;
        diesel::insert_into(sign_up_attempts::table)
            .values((
                sign_up_attempts::client.eq(client),
                sign_up_attempts::at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }
}
