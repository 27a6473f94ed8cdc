//! The answers and headers that many JSON routes share, described once for the OpenAPI document
//! (`openapi`): the handlers name them in their annotations.

use crate::error::ErrorBody;

/// Answers any request may get, whatever its route.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "a description of answers; `AppError` makes them")]
pub enum Refusals {
    /// Malformed: a `Host` this server does not answer for, an unreadable header or query.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No credential, or one that is unknown, expired, signed out or revoked (accounts mode).
    #[response(status = 401, headers(("WWW-Authenticate" = String)))]
    Unauthorized(ErrorBody),
    /// A write with the session cookie from another site's page.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such todo or token in the caller's list; or API tokens in open mode.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The database is busy or unreachable, the server is at its limit of live streams, or it
    /// is stopping: send the request again after `Retry-After`.
    #[response(status = 503, headers(("Retry-After" = String)))]
    Unavailable(ErrorBody),
}

/// Answers a request with a body may get.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "a description of answers; `AppError` makes them")]
pub enum BodyRefusals {
    /// The body did not arrive within `server.client_body_timeout_ms`; the connection closes.
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// The body is larger than `server.body_limit`.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not JSON (or, for tokens, a urlencoded form).
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// A field that cannot be accepted: `field` names it.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// Answers a write with an `Idempotency-Key` may get.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "a description of answers; `AppError` makes them")]
pub enum KeyRefusals {
    /// A request with the same key is still being processed: send it again later.
    #[response(status = 409)]
    InProgress(ErrorBody),
    /// The key was used for another request (method, path or body), or a field is invalid.
    #[response(status = 422)]
    Reused(ErrorBody),
}

/// `If-Match` on a todo's writes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "a description of a header; the handlers read it")]
pub struct IfMatch {
    /// The todo's version as its `ETag` gave it (`"3"`), or `*`: the write happens only if the
    /// todo is still at that version, else 412.
    #[param(rename = "If-Match")]
    if_match: Option<String>,
}

/// `Idempotency-Key` on writes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(
    dead_code,
    reason = "a description of a header; `idempotency::key` reads it"
)]
pub struct IdempotencyKey {
    /// 1 to 255 printable ASCII characters: a repeat with the same key gets the first answer
    /// (with `Idempotent-Replayed: true`), and the write is done once.
    #[param(
        rename = "Idempotency-Key",
        max_length = 255,
        pattern = "^[!-~]([ -~]*[!-~])?$"
    )]
    idempotency_key: Option<String>,
}
