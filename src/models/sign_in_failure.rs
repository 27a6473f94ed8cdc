//! Failed sign-ins, kept for the throttling window, so that limits hold across restarts and
//! across the instances that share a database.

use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::schema::sign_in_failures;

/// Failures within a window: how many, and when the oldest of them happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureCount {
    pub count: i64,
    pub oldest: Option<i64>,
}

pub struct SignInFailure;

impl SignInFailure {
    /// Failures for `username_key` and from `client` since `since`.
    pub fn counts(
        conn: &mut DbConnection,
        username_key: &str,
        client: &str,
        since: i64,
    ) -> QueryResult<(FailureCount, FailureCount)> {
        let recent = sign_in_failures::table.filter(sign_in_failures::at.ge(since));
        let count = |(count, oldest): (i64, Option<i64>)| FailureCount { count, oldest };
        let by_user = recent
            .filter(sign_in_failures::username_key.eq(username_key))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(sign_in_failures::at),
            ))
            .first(conn)
            .map(count)?;
        let by_client = recent
            .filter(sign_in_failures::client.eq(client))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(sign_in_failures::at),
            ))
            .first(conn)
            .map(count)?;
        Ok((by_user, by_client))
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
