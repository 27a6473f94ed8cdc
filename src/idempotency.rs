//! `Idempotency-Key` (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): a write sent
//! again with the same key gets the first answer, and is done once. The answer is kept with the key,
//! per list, in the same transaction as the write (a crash keeps both or neither); a repeat with
//! another request under the same key gets 422, and one that arrives while the first is still being
//! processed gets 409.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{self, Caller, Identity};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::models::{IdempotencyKey, ListId, UserId, ValidationError};
use crate::writer::Writer;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_CHARS: usize = 255;

/// The request's key: the header's value, a quoted string (as the draft writes it) or bare.
pub fn key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        AppError::BadRequest(format!(
            "Idempotency-Key must be a string of 1 to {MAX_KEY_CHARS} printable ASCII characters, \
             such as \"8e03978e-40d5-43e8-bc93-6894a57f9324\""
        ))
    };
    let raw = value.to_str().map_err(|_| invalid())?.trim();
    let key = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(raw);
    if key.is_empty()
        || key.len() > MAX_KEY_CHARS
        || !key.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// What makes two requests the same request: method, path with query, and body.
pub fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str().as_bytes());
    hash.update(b"\n");
    hash.update(
        req.uri()
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hash.update(b"\n");
    hash.update(body);
    hex::encode(hash.finalize())
}

/// An answer as kept: the status, the headers a client relies on, and the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn new(status: StatusCode) -> Self {
        Self {
            status: status.as_u16(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A JSON body.
    pub fn json(self, body: &impl Serialize) -> Result<Self, AppError> {
        let body = serde_json::to_string(body).map_err(AppError::internal)?;
        Ok(Self { body, ..self }.header("content-type", "application/json"))
    }

    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = HttpResponse::build(status);
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                response.insert_header((name, value));
            }
        }
        if self.body.is_empty() {
            response.finish()
        } else {
            response.body(self.body)
        }
    }
}

/// A request's `Idempotency-Key`, with the fingerprint of the request it came with.
pub type Key = (String, String);

/// Keys of this instance's requests being processed now, by list: a repeat that arrives meanwhile
/// gets 409. (Across instances, the unique key in the database decides: the second to commit is
/// rolled back and answers what the first kept.)
#[derive(Debug, Default)]
pub struct InFlightKeys(Mutex<HashSet<(Holder, String)>>);

/// Whose key it is: a user's (or open mode's caller's) on one list, once the caller is
/// identified; before that (a write waiting in the queue of the writing thread), the credential's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    List(ListId, Option<UserId>),
    Credential(String),
}

/// A key's place among the requests in flight, until dropped.
struct InFlight<'a> {
    keys: &'a InFlightKeys,
    entry: (Holder, String),
}

impl InFlightKeys {
    fn enter(&self, holder: Holder, key: &str) -> Option<InFlight<'_>> {
        let entry = (holder, key.to_owned());
        let inserted = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(entry.clone());
        if inserted {
            Some(InFlight { keys: self, entry })
        } else {
            None
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.keys
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.entry);
    }
}

/// A key claimed for a write that is queued (see `writer`) and not yet identified: a repeat with
/// the same credential gets 409 while it waits, as it would while the write runs.
pub struct Claim {
    keys: web::Data<InFlightKeys>,
    entry: (Holder, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.keys
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.entry);
    }
}

/// Claims `key` (if the request has one) for the caller's credential until the claim is dropped;
/// 409 if a request with the same key and credential holds it.
pub fn claim(
    keys: &web::Data<InFlightKeys>,
    caller: &Caller,
    key: Option<&(String, String)>,
) -> Result<Option<Claim>, AppError> {
    let Some((key, _)) = key else {
        return Ok(None);
    };
    let entry = (Holder::Credential(caller.credential_hash()), key.clone());
    let inserted = keys
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(entry.clone());
    if !inserted {
        return Err(still_processing());
    }
    Ok(Some(Claim {
        keys: keys.clone(),
        entry,
    }))
}

fn still_processing() -> AppError {
    AppError::Conflict(
        "a request with this Idempotency-Key is still being processed; try again shortly".into(),
    )
}

/// Runs a write for the caller to `list` once per key: without a key, just runs it; with one, runs
/// the write and keeps its answer in one transaction, or gives back the answer kept from the first
/// time. Keys are the caller's own on each list: two members of a list never share one.
///
/// A first request (the usual case) costs one insert in the write's transaction and no lookup: a
/// repeat is found by the unique key, which makes its transaction roll back, or by the write
/// failing (a repeated delete finds nothing to delete); either way the kept answer is then read.
pub fn once<F>(
    conn: &mut DbConnection,
    who: &Identity,
    list: ListId,
    in_flight: &InFlightKeys,
    key: Option<(String, String)>,
    write: F,
) -> Result<Answer, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<Answer, AppError>,
{
    let Some((key, fingerprint)) = key else {
        return write(conn);
    };
    let user = who.user_id();
    let _in_flight = in_flight
        .enter(Holder::List(list, user), &key)
        .ok_or_else(still_processing)?;
    let result = db::write_transaction(conn, |conn| {
        let answer = write(conn)?;
        let headers = serde_json::to_string(&answer.headers).map_err(AppError::internal)?;
        let first = IdempotencyKey::keep(
            conn,
            list,
            user,
            &key,
            &fingerprint,
            i32::from(answer.status),
            &headers,
            &answer.body,
            auth::now(),
        )?;
        if first {
            Ok(answer)
        } else {
            // The key was kept already (a repeat, or another instance was first): roll back.
            Err(still_processing())
        }
    });
    match result {
        Ok(answer) => Ok(answer),
        Err(err) => kept(conn, list, user, &key, &fingerprint)?.ok_or(err),
    }
}

/// The answer kept for the key, if any; 422 if it was kept for another request.
fn kept(
    conn: &mut DbConnection,
    list: ListId,
    user: Option<UserId>,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Answer>, AppError> {
    let Some(kept) = IdempotencyKey::find(conn, list, user, key)? else {
        return Ok(None);
    };
    if kept.fingerprint != fingerprint {
        return Err(AppError::Validation(ValidationError {
            field: "Idempotency-Key",
            message: "this Idempotency-Key was already used for a different request".into(),
        }));
    }
    let mut headers: Vec<(String, String)> = serde_json::from_str(&kept.headers)
        .map_err(|err| AppError::internal(format!("a kept answer cannot be read: {err}")))?;
    // The body is the answer of the first time, not the todo as it is now.
    headers.push(("idempotent-replayed".into(), "true".into()));
    Ok(Some(Answer {
        status: u16::try_from(kept.status).unwrap_or(200),
        headers,
        body: kept.body,
    }))
}

/// Forgets keys older than `keep`, every ten minutes, on the current Tokio runtime.
pub fn trim_in_background(writer: Writer, keep: Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
            let trimmed = writer
                .write(move |conn| {
                    Ok(IdempotencyKey::trim(
                        conn,
                        auth::now().saturating_sub(keep),
                    )?)
                })
                .await;
            if let Err(err) = trimmed {
                log::warn!("old idempotency keys were not trimmed: {err}");
            }
        }
    });
}
