//! Kept answers to requests sent with an `Idempotency-Key`, per list.

use diesel::prelude::*;

use super::ids::{ListId, UserId};
use crate::db::{self, DbConnection};
use crate::schema::idempotency_keys;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyKey {
    pub id: i32,
    pub list: String,
    pub key: String,
    pub fingerprint: String,
    pub status: i32,
    /// The kept headers, a JSON list of name and value pairs.
    pub headers: String,
    pub body: String,
    pub created_at: i64,
}

/// Whose keys they are, as the table names them: `list:L:user:U` for user U's requests to list L,
/// `list:L` for open mode's. Two members of one list never share a key.
fn holder_name(list: ListId, user: Option<UserId>) -> String {
    match user {
        Some(user) => format!("list:{list}:user:{user}"),
        None => format!("list:{list}"),
    }
}

impl IdempotencyKey {
    pub fn find(
        conn: &mut DbConnection,
        list: ListId,
        user: Option<UserId>,
        key: &str,
    ) -> QueryResult<Option<IdempotencyKey>> {
        idempotency_keys::table
            .filter(idempotency_keys::list.eq(holder_name(list, user)))
            .filter(idempotency_keys::key.eq(key))
            .select(IdempotencyKey::as_select())
            .first(conn)
            .optional()
    }

    /// Keeps the answer, inside the transaction of the write it describes; `false` if the key
    /// was kept already (by a request that committed first), and the caller must roll back.
    #[allow(clippy::too_many_arguments)]
    pub fn keep(
        conn: &mut DbConnection,
        list: ListId,
        user: Option<UserId>,
        key: &str,
        fingerprint: &str,
        status: i32,
        headers: &str,
        body: &str,
        now: i64,
    ) -> QueryResult<bool> {
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::list.eq(holder_name(list, user)),
                idempotency_keys::key.eq(key),
                idempotency_keys::fingerprint.eq(fingerprint),
                idempotency_keys::status.eq(status),
                idempotency_keys::headers.eq(headers),
                idempotency_keys::body.eq(body),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => Ok(true),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Forgets keys made before `before`, oldest first, in short transactions; returns how many.
    ///
    /// Ids grow with time, so the expired keys are those below the first id made at or after
    /// `before`: found by walking the table in id order, with no index on `created_at` for every
    /// write to keep up to date.
    pub fn trim(conn: &mut DbConnection, before: i64) -> QueryResult<usize> {
        const BATCH: i32 = 5_000;
        let mut trimmed = 0;
        loop {
            let deleted = db::write_transaction(conn, |conn| {
                let Some(oldest) = idempotency_keys::table
                    .select(diesel::dsl::min(idempotency_keys::id))
                    .first::<Option<i32>>(conn)?
                else {
                    return Ok(0);
                };
                let live = idempotency_keys::table
                    .filter(idempotency_keys::created_at.ge(before))
                    .order(idempotency_keys::id.asc())
                    .select(idempotency_keys::id)
                    .first::<i32>(conn)
                    .optional()?
                    .unwrap_or(i32::MAX);
                let end = live.min(oldest.saturating_add(BATCH));
                diesel::delete(idempotency_keys::table.filter(idempotency_keys::id.lt(end)))
                    .execute(conn)
            })?;
            trimmed += deleted;
            if deleted < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                return Ok(trimmed);
            }
        }
    }
}
