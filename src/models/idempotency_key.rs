//! Kept answers to requests sent with an `Idempotency-Key`, per list.

use diesel::prelude::*;

use super::scope::ListScope;
use crate::db::{self, DbConnection};
use crate::schema::idempotency_keys;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyKey {
    pub id: i32,
    pub list: String,
    pub key: String,
    pub fingerprint: String,
    /// `None` while the first request with the key is being processed.
    pub status: Option<i32>,
    pub headers: Option<String>,
    pub body: Option<String>,
    pub created_at: i64,
}

/// The list's name in the table: `user:ID`, or `shared`.
fn list_name(scope: ListScope) -> String {
    scope
        .owner()
        .map_or_else(|| "shared".to_owned(), |id| format!("user:{id}"))
}

impl IdempotencyKey {
    pub fn find(
        conn: &mut DbConnection,
        scope: ListScope,
        key: &str,
    ) -> QueryResult<Option<IdempotencyKey>> {
        idempotency_keys::table
            .filter(idempotency_keys::list.eq(list_name(scope)))
            .filter(idempotency_keys::key.eq(key))
            .select(IdempotencyKey::as_select())
            .first(conn)
            .optional()
    }

    /// Claims the key for a request being processed; `false` if someone has it already.
    pub fn claim(
        conn: &mut DbConnection,
        scope: ListScope,
        key: &str,
        fingerprint: &str,
        now: i64,
    ) -> QueryResult<bool> {
        let inserted = db::write_transaction(conn, |conn| {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::list.eq(list_name(scope)),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::fingerprint.eq(fingerprint),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Takes over a claim whose request was abandoned (its process died) before `stale_before`.
    pub fn reclaim(
        conn: &mut DbConnection,
        id: i32,
        fingerprint: &str,
        now: i64,
        stale_before: i64,
    ) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::id.eq(id))
                    .filter(idempotency_keys::status.is_null())
                    .filter(idempotency_keys::created_at.lt(stale_before)),
            )
            .set((
                idempotency_keys::fingerprint.eq(fingerprint),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)
            .map(|updated| updated > 0)
        })
    }

    /// Keeps the answer; inside the transaction of the write it describes.
    pub fn keep(
        conn: &mut DbConnection,
        scope: ListScope,
        key: &str,
        status: i32,
        headers: &str,
        body: &str,
    ) -> QueryResult<()> {
        diesel::update(
            idempotency_keys::table
                .filter(idempotency_keys::list.eq(list_name(scope)))
                .filter(idempotency_keys::key.eq(key)),
        )
        .set((
            idempotency_keys::status.eq(status),
            idempotency_keys::headers.eq(headers),
            idempotency_keys::body.eq(body),
        ))
        .execute(conn)
        .map(drop)
    }

    /// Gives up a claim whose request failed, so that a retry is processed afresh.
    pub fn release(conn: &mut DbConnection, scope: ListScope, key: &str) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::list.eq(list_name(scope)))
                    .filter(idempotency_keys::key.eq(key))
                    .filter(idempotency_keys::status.is_null()),
            )
            .execute(conn)
            .map(drop)
        })
    }

    /// Forgets keys made before `before`; returns how many.
    pub fn trim(conn: &mut DbConnection, before: i64) -> QueryResult<usize> {
        db::write_transaction(conn, |conn| {
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
                .execute(conn)
        })
    }
}
