//! What the handlers of todos share: a todo's ETag, the versions `If-Match` accepts, the answer
//! to a conditional write that found nothing or another version, the request's
//! `Idempotency-Key`, and the answer with a todo.

use actix_web::HttpRequest;
use actix_web::http::{StatusCode, header};
use serde_json::{Map, Value};

use crate::error::AppError;
use crate::idempotency::{self, Answer, Key};
use crate::models::{Todo, TodoId, WriteOutcome};

/// A todo's entity tag: its version, which every write raises.
pub fn etag(todo: &Todo) -> String {
    format!("\"{}\"", todo.version)
}

/// The versions an `If-Match` header accepts: `None` without the header, or for `*` (any version).
/// Comparison is strong: a weak or unreadable tag matches no version at all.
pub fn expected_versions(req: &HttpRequest) -> Option<Vec<i32>> {
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    values.peek()?;
    let mut versions = Vec::new();
    for tag in values
        .flat_map(|value| value.to_str().unwrap_or_default().split(','))
        .map(str::trim)
    {
        if tag == "*" {
            return None;
        }
        let version = tag
            .strip_prefix('"')
            .and_then(|tag| tag.strip_suffix('"'))
            .and_then(|tag| tag.parse::<i32>().ok());
        versions.extend(version);
    }
    Some(versions)
}

/// The answer to a conditional write that found the todo missing or at another version.
pub fn refused<T>(outcome: WriteOutcome<T>, id: TodoId, base: &str) -> Result<T, AppError> {
    match outcome {
        WriteOutcome::Done(value) => Ok(value),
        WriteOutcome::NotFound => Err(AppError::todo_not_found(id)),
        WriteOutcome::Stale(current) => Err(AppError::PreconditionFailed {
            title: current.title.clone(),
            etag: etag(&current),
            current: serde_json::to_value(current.to_json(base)).unwrap_or_default(),
        }),
    }
}

/// The request's `Idempotency-Key`, with what identifies the request, if it has one.
pub fn idempotency_key(req: &HttpRequest, body: &[u8]) -> Result<Option<Key>, AppError> {
    Ok(idempotency::key(req)?.map(|key| (key, idempotency::fingerprint(req, body))))
}

/// The parsed body in one canonical form (keys in order), for the request's fingerprint.
pub fn canonical(body: &Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

/// The answer with a todo: its JSON and its ETag.
pub fn todo_answer(status: StatusCode, todo: &Todo, base: &str) -> Result<Answer, AppError> {
    Answer::new(status)
        .header("etag", etag(todo))
        .json(&todo.to_json(base))
}
