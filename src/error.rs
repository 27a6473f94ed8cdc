//! The one error type of the HTTP layer: each case maps to a status and a JSON body
//! `{"error": "<message>"}` (plus `"field"` for a rejected field).

use actix_web::dev::ServiceResponse;
use actix_web::error::{BlockingError, JsonPayloadError, PayloadError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

use crate::db::DbError;
use crate::models::ValidationError;

/// Seconds a client is told to wait before retrying when the database is busy or unreachable.
const RETRY_AFTER_SECS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("method {method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: Method, allow: &'static str },
    #[error("{0}")]
    BadRequest(String),
    /// 401, with `WWW-Authenticate: Bearer`: no valid credential.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 409: the request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// 408, and the connection closes: the request body did not arrive in time.
    #[error("{0}")]
    RequestTimeout(String),
    /// 429, with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("the request body must be JSON, sent with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// `If-Match` named a version the todo no longer has; `current` is the todo as it is now.
    #[error(
        "this todo was changed since you loaded it: it now reads {title:?}; reload it and try again"
    )]
    PreconditionFailed {
        title: String,
        etag: String,
        current: serde_json::Value,
    },
    /// 412: `If-None-Match: *` on a todo that exists (a restore finds nothing to restore);
    /// `current` is the todo as it is.
    #[error("todo {id} exists: there is nothing to restore")]
    Exists {
        id: String,
        etag: String,
        current: serde_json::Value,
    },
    /// 503 with `Retry-After`: the server is at a limit of its own (live streams), or stopping.
    #[error("{0}")]
    Overloaded(String),
    /// 503 with `Retry-After`: the database cannot be reached in time, or the write lost its
    /// turn; the cause is logged, not shown.
    #[error("the database is busy or unreachable; try again shortly")]
    Unavailable(#[source] Cause),
    /// 500: a fault of the server; the cause is logged, not shown.
    #[error("internal server error")]
    Internal(#[source] Cause),
}

/// What lies under a 500 or a 503: another error, or a description where there is none.
pub use crate::db::Cause;

impl AppError {
    /// A 500 for `cause` (an error, or a description of what failed).
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn todo_not_found(id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("there is no todo with id {id}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed { .. } | Self::Exists { .. } => {
                StatusCode::PRECONDITION_FAILED
            }
            Self::Unavailable(_) | Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let mut body = ErrorBody::new(self.to_string());
        match self {
            Self::Validation(err) => body.field = Some(err.field),
            Self::PreconditionFailed { etag, current, .. } | Self::Exists { etag, current, .. } => {
                response.insert_header((header::ETAG, etag.as_str()));
                body.current = Some(current.clone());
            }
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            Self::Overloaded(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
            }
            Self::Unavailable(cause) => {
                log::warn!("answering 503: {cause}");
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
            }
            Self::Internal(cause) => {
                log::error!("answering 500: {cause}");
            }
            _ => {}
        }
        response.json(body)
    }
}

/// The JSON body of every error answer, whatever its status.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in words a person can act on.
    pub error: String,
    /// 422: the request field the message is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// 412: the todo as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::models::TodoJson<'static>>)]
    pub current: Option<serde_json::Value>,
    /// The request's id, as in its `X-Request-Id` answer header and the server's logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    pub fn new(error: String) -> Self {
        Self {
            error,
            field: None,
            current: None,
            request_id: None,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match &err {
            // The server went away (restart, failover), or the transaction lost a race (on SQLite,
            // a writer that waited out its busy timeout: see `db::write_transaction`): the same
            // request can succeed a moment later.
            Error::DatabaseError(
                Kind::ClosedConnection | Kind::UnableToSendCommand | Kind::SerializationFailure,
                _,
            )
            | Error::BrokenTransactionManager => Self::Unavailable(Box::new(err)),
            _ => Self::Internal(Box::new(err)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Query(err) => err.into(),
            DbError::Pool(err) => err.into(),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<BlockingError> for AppError {
    fn from(err: BlockingError) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl From<JsonPayloadError> for AppError {
    fn from(err: JsonPayloadError) -> Self {
        match err {
            JsonPayloadError::ContentType => Self::UnsupportedMediaType,
            JsonPayloadError::OverflowKnownLength { limit, .. }
            | JsonPayloadError::Overflow { limit } => Self::PayloadTooLarge { limit },
            JsonPayloadError::Payload(PayloadError::Overflow) => {
                Self::BadRequest("the request body is too large".into())
            }
            JsonPayloadError::Deserialize(err) if err.is_data() => {
                Self::BadRequest("the request body must be a JSON object".into())
            }
            JsonPayloadError::Deserialize(err) => {
                Self::BadRequest(format!("the request body is not valid JSON: {err}"))
            }
            other => Self::BadRequest(format!("the request body could not be read: {other}")),
        }
    }
}

/// Makes every error response JSON, including those that actix-web and its middleware build
/// themselves (static files, CORS, malformed requests), keeping their status and headers.
pub fn json_error_body<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // JSON errors, the HTML forms that show their own message, and CalDAV's XML preconditions
    // stay as they are.
    let is_ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with("application/json")
                || value.starts_with("text/html")
                || value.starts_with("application/xml")
        });
    if is_ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match res.response().error() {
        Some(err) if status.is_client_error() => err.to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (req, res) = res.into_parts();
    let mut res = res.set_body(serde_json::to_string(&ErrorBody::new(message)).unwrap_or_default());
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let res = ServiceResponse::new(req, res).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}
