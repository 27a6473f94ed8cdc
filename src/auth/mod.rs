//! Who is asking. Passwords, sessions, API tokens and sign-in throttling live here, and so does the
//! one door every handler goes through: the `Caller` extractor, whose `identify` turns a request's
//! credential into the only list it may use.

mod account;
pub mod csrf;
pub mod password;
mod throttle;
pub mod token;

use std::future::{Ready, ready};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

pub use account::{NewSession, create_api_token, sign_in, sign_out, sign_up};

use crate::config::{AuthMode, AuthSettings};
use crate::db::{DbConnection, DbError};
use crate::error::AppError;
use crate::models::{ApiToken, ListScope, Session, UserId};

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "todomvc_session";

const MISSING: &str = "sign in first, or send Authorization: Bearer <token>";
const MALFORMED: &str = "the Authorization header must read Bearer <token>";

/// A session's or token's last use is written at most this often, so that reads stay reads.
const TOUCH_INTERVAL_SECS: i64 = 60;

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

/// The auth settings, shared by every worker.
#[derive(Debug)]
pub struct Auth {
    pub settings: AuthSettings,
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Self {
        if settings.mode == AuthMode::Accounts {
            password::prepare();
        }
        Self { settings }
    }

    pub fn accounts(&self) -> bool {
        self.settings.mode == AuthMode::Accounts
    }

    /// The cookie that hands `token` to the browser: HttpOnly, SameSite=Lax, for the whole site,
    /// for as long as a session can last.
    pub fn session_cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build(SESSION_COOKIE, token)
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.settings.secure_cookies)
            .max_age(CookieDuration::seconds(
                i64::try_from(self.settings.session_absolute_secs).unwrap_or(i64::MAX),
            ))
            .finish()
    }

    /// A cookie that makes the browser forget the session cookie.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.session_cookie(String::new());
        cookie.make_removal();
        cookie
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// What a request presents, read from its headers alone.
#[derive(Debug, Clone)]
enum Credential {
    /// Open mode: no credential is needed.
    Open,
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    Session(String),
    Bearer(String),
}

/// Who the request says it is from, not yet checked against the database. Every handler of user
/// data takes one and calls [`Caller::identify`] on the connection of its own query, so that the
/// check costs no extra trip to the blocking pool. As an extractor it refuses at once (401) a
/// request with no credential, and (403) a cross-site unsafe request with the session cookie.
#[derive(Debug, Clone)]
pub struct Caller {
    credential: Credential,
    auth: web::Data<Auth>,
}

/// The verified caller: the list it may use and, with accounts, the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub scope: ListScope,
    pub user: Option<SignedIn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub id: UserId,
    pub username: String,
}

impl Identity {
    fn user(id: i32, username: String) -> Self {
        let id = UserId(id);
        Self {
            scope: ListScope::User(id),
            user: Some(SignedIn { id, username }),
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = Caller::of(req).and_then(|caller| {
            caller.require_credential()?;
            Ok(caller)
        });
        ready(caller.map_err(AppError::from))
    }
}

impl Caller {
    /// Reads the credential of `req`. An unsafe request carrying the session cookie must come from
    /// this site's own pages; a bearer token is no ambient credential, so it is exempt.
    pub fn of(req: &HttpRequest) -> Result<Caller, AuthError> {
        let auth = req
            .app_data::<web::Data<Auth>>()
            .cloned()
            .ok_or_else(|| AuthError::Internal("the auth settings are missing".into()))?;
        let credential = if !auth.accounts() {
            Credential::Open
        } else if let Some(value) = req.headers().get(header::AUTHORIZATION) {
            value
                .to_str()
                .ok()
                .and_then(|value| value.trim().split_once(' '))
                .filter(|(scheme, token)| {
                    scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
                })
                .map_or(Credential::Malformed, |(_, token)| {
                    Credential::Bearer(token.trim().to_owned())
                })
        } else {
            match req.cookie(SESSION_COOKIE) {
                Some(cookie) if !cookie.value().is_empty() => {
                    if !req.method().is_safe() && !csrf::is_same_origin(req.headers()) {
                        return Err(AuthError::CrossOrigin);
                    }
                    Credential::Session(cookie.value().to_owned())
                }
                _ => Credential::Missing,
            }
        };
        Ok(Caller { credential, auth })
    }

    /// Refuses at once a request that presents no credential at all, before any database work.
    pub fn require_credential(&self) -> Result<(), AuthError> {
        match self.credential {
            Credential::Missing => Err(AuthError::Unauthenticated(MISSING)),
            Credential::Malformed => Err(AuthError::Unauthenticated(MALFORMED)),
            _ => Ok(()),
        }
    }

    /// Whether the request came with the session cookie (rather than a token, or nothing).
    pub fn has_session_cookie(&self) -> bool {
        matches!(self.credential, Credential::Session(_))
    }

    /// Checks the credential on `conn` and says which list the caller may use. A session past its
    /// idle or absolute limit, a signed-out session and a revoked token all get 401.
    pub fn identify(&self, conn: &mut DbConnection) -> Result<Identity, AuthError> {
        let now = now();
        let settings = &self.auth.settings;
        match &self.credential {
            Credential::Open => Ok(Identity {
                scope: ListScope::Shared,
                user: None,
            }),
            Credential::Session(token) => {
                let (session, username) = Session::find(conn, &token::hash(token))?.ok_or(
                    AuthError::Unauthenticated("your session has ended; sign in again"),
                )?;
                let age = now.saturating_sub(session.created_at);
                let idle = now.saturating_sub(session.last_seen_at);
                if age >= secs(settings.session_absolute_secs)
                    || idle >= secs(settings.session_idle_secs)
                {
                    return Err(AuthError::Unauthenticated(
                        "your session has expired; sign in again",
                    ));
                }
                if idle >= TOUCH_INTERVAL_SECS {
                    Session::touch(conn, session.id, now)?;
                }
                Ok(Identity::user(session.user_id, username))
            }
            Credential::Bearer(token) => {
                let (api_token, username) = ApiToken::find(conn, &token::hash(token))?.ok_or(
                    AuthError::Unauthenticated("this API token is unknown or revoked"),
                )?;
                if api_token
                    .last_used_at
                    .is_none_or(|used| now.saturating_sub(used) >= TOUCH_INTERVAL_SECS)
                {
                    ApiToken::touch(conn, api_token.id, now)?;
                }
                Ok(Identity::user(api_token.user_id, username))
            }
            Credential::Missing => Err(AuthError::Unauthenticated(MISSING)),
            Credential::Malformed => Err(AuthError::Unauthenticated(MALFORMED)),
        }
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
