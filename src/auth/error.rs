//! What finding out who is asking can refuse, and the status each refusal answers with.

use crate::db::DbError;
use crate::error::AppError;

/// What went wrong while finding out who is asking. Each variant says its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 401: no credential, or one that is unknown, expired, signed out or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: an unsafe request with the session cookie from another site.
    #[error("cross-origin request refused: this request must come from this site's own pages")]
    CrossOrigin,
    /// 401 (on the sign-in form): no such user, or the wrong password.
    #[error("Wrong username or password.")]
    WrongCredentials,
    /// 429: too many failed sign-ins; try again after `retry_after` seconds.
    #[error("Too many failed sign-ins. Try again in {} minutes.", retry_after.div_ceil(60))]
    Throttled { retry_after: u64 },
    /// 429: too many sign-ups from this client address; try again after `retry_after` seconds.
    #[error("Too many sign-ups from your network. Try again in {} minutes.", retry_after.div_ceil(60))]
    SignUpsThrottled { retry_after: u64 },
    /// 409: sign-up with a name that is in use, in any case.
    #[error("The username {0:?} is taken.")]
    UsernameTaken(String),
    /// 403: sign-up is closed (`auth.signups = false`).
    #[error("Sign-up is closed. Ask the operator for an account.")]
    SignupsClosed,
    /// 422: a form field that cannot be accepted.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// 500: a fault of the server (no random numbers, no hash, missing app data).
    #[error("{0}")]
    Internal(String),
    /// 503 or 500, as the database error says.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The writer could not take or commit the write: its own status (503 or 500).
    #[error(transparent)]
    Write(Box<AppError>),
}

impl From<diesel::result::Error> for AuthError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(err))
    }
}

impl From<diesel::r2d2::PoolError> for AuthError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Database(DbError::Pool(err))
    }
}

/// Each variant's status, as its documentation says.
impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthenticated(_) | AuthError::WrongCredentials => {
                AppError::Unauthorized(err.to_string())
            }
            AuthError::CrossOrigin | AuthError::SignupsClosed => {
                AppError::Forbidden(err.to_string())
            }
            AuthError::UsernameTaken(_) => AppError::Conflict(err.to_string()),
            AuthError::Throttled { retry_after } | AuthError::SignUpsThrottled { retry_after } => {
                AppError::TooManyRequests {
                    message: err.to_string(),
                    retry_after,
                }
            }
            AuthError::Invalid { field, message } => {
                AppError::Validation(crate::models::ValidationError { field, message })
            }
            AuthError::Internal(message) => AppError::internal(message),
            AuthError::Database(err) => err.into(),
            AuthError::Write(err) => *err,
        }
    }
}
