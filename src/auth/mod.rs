//! Who is asking. Passwords, sessions, API tokens and sign-in throttling live here, and so does the
//! one door every handler goes through: the `Caller` extractor, whose `identify` turns a request's
//! credential into the only list it may use.

mod account;
pub mod csrf;
mod known;
pub mod password;
mod throttle;
pub mod token;

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

pub use account::{NewSession, create_api_token, sign_in, sign_out, sign_up};
pub use throttle::ClientKey;

use crate::config::{AuthMode, AuthSettings};
use crate::db::{DbConnection, DbError};
use crate::error::AppError;
use crate::models::{ApiToken, Generations, ListScope, Session, UserId};
use known::{Known, KnownCredentials, Record};

/// The cookie that carries the session token over plain HTTP (development).
pub const SESSION_COOKIE: &str = "todomvc_session";
/// Its name where cookies are `Secure` (production): a `__Host-` cookie is only accepted from a
/// secure origin, with `Path=/` and no `Domain`, so a sibling subdomain can neither set nor shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-todomvc_session";

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

/// The auth settings and state, shared by every worker.
#[derive(Debug)]
pub struct Auth {
    pub settings: AuthSettings,
    /// Password hashes computed at once: one per core. More would only queue inside the CPU while
    /// each holds its 19 MiB; waiting here costs nothing.
    hashing: Arc<tokio::sync::Semaphore>,
    /// Sign-ups hashing at once: half the cores (at least one). A sign-up takes this turn before
    /// one of `hashing`'s, so a flood of sign-ups leaves sign-ins the other half.
    sign_ups: Arc<tokio::sync::Semaphore>,
    known: KnownCredentials,
}

impl Auth {
    pub fn new(settings: AuthSettings) -> Self {
        if settings.mode == AuthMode::Accounts {
            password::prepare();
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            settings,
            // At least two, so that a sign-up's turn never leaves sign-ins none.
            hashing: Arc::new(tokio::sync::Semaphore::new(cores.max(2))),
            sign_ups: Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1))),
            known: KnownCredentials::default(),
        }
    }

    /// Waits for a turn to hash a password for a sign-in; the turn ends when the permit drops.
    pub async fn hashing_turn(&self) -> Result<HashingTurn, AuthError> {
        Ok(HashingTurn {
            _sign_up: None,
            _hashing: turn(&self.hashing).await?,
        })
    }

    /// Waits for a turn to hash a password for a sign-up: one of the sign-ups' own, then one of
    /// the hashing turns every sign-in also waits for.
    pub async fn sign_up_turn(&self) -> Result<HashingTurn, AuthError> {
        let own = turn(&self.sign_ups).await?;
        Ok(HashingTurn {
            _sign_up: Some(own),
            _hashing: turn(&self.hashing).await?,
        })
    }

    pub fn accounts(&self) -> bool {
        self.settings.mode == AuthMode::Accounts
    }

    /// The session cookie's name: `__Host-` prefixed when cookies are `Secure`.
    pub fn cookie_name(&self) -> &'static str {
        if self.settings.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// The session token the request's cookie carries, if any.
    pub fn session_token(&self, req: &HttpRequest) -> Option<String> {
        req.cookie(self.cookie_name())
            .map(|cookie| cookie.value().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The cookie that hands `token` to the browser: HttpOnly, SameSite=Lax, for the whole site
    /// (no `Domain`), for as long as a session can last.
    pub fn session_cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build(self.cookie_name(), token)
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

/// A turn to hash a password, held until dropped.
#[derive(Debug)]
pub struct HashingTurn {
    _sign_up: Option<tokio::sync::OwnedSemaphorePermit>,
    _hashing: tokio::sync::OwnedSemaphorePermit,
}

async fn turn(
    semaphore: &Arc<tokio::sync::Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, AuthError> {
    semaphore
        .clone()
        .acquire_owned()
        .await
        .map_err(|err| AuthError::Internal(format!("no turn to hash: {err}")))
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
    /// The count of changes to the todos, read before anything else of this request.
    pub todos_generation: i64,
    /// The count of revocations the credential was checked at: while it is unchanged, the
    /// credential has not been revoked.
    pub auth_generation: i64,
    /// When the session ends unless it is used (the earlier of its idle and absolute limits);
    /// `None` for API tokens and open mode.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub id: UserId,
    pub username: String,
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
            match auth.session_token(req) {
                Some(token) => {
                    if !req.method().is_safe()
                        && !csrf::is_same_origin(req.headers(), &crate::proxy::origin(req))
                    {
                        return Err(AuthError::CrossOrigin);
                    }
                    Credential::Session(token)
                }
                None => Credential::Missing,
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

    /// What tells this credential apart from others without showing it: the hash of its secret
    /// ("open" in open mode, empty without one).
    pub fn credential_hash(&self) -> String {
        match &self.credential {
            Credential::Open => "open".to_owned(),
            Credential::Missing | Credential::Malformed => String::new(),
            Credential::Session(secret) | Credential::Bearer(secret) => token::hash(secret),
        }
    }

    /// Whether the request came with the session cookie (rather than a token, or nothing).
    pub fn has_session_cookie(&self) -> bool {
        matches!(self.credential, Credential::Session(_))
    }

    /// Checks the credential on `conn` and says which list the caller may use. A session past its
    /// idle or absolute limit, a signed-out session and a revoked token all get 401. One query
    /// reads the counts of changes; a credential verified at the current count of revocations is
    /// not looked up again.
    pub fn identify(&self, conn: &mut DbConnection) -> Result<Identity, AuthError> {
        let generations = Generations::read(conn)?;
        let user = match &self.credential {
            Credential::Open => None,
            Credential::Missing => return Err(AuthError::Unauthenticated(MISSING)),
            Credential::Malformed => return Err(AuthError::Unauthenticated(MALFORMED)),
            Credential::Session(secret) | Credential::Bearer(secret) => {
                Some(self.verify(conn, secret, generations.auth)?)
            }
        };
        Ok(Identity::new(user, generations))
    }

    /// The caller's identity from memory alone, at `generations` (which the caller knows to be
    /// current, see `freshness`): `None` when the credential must be looked up in the database or
    /// its last use written there, and for a request without a credential.
    pub fn identify_known(&self, generations: Generations) -> Option<Identity> {
        let user = match &self.credential {
            Credential::Open => None,
            Credential::Missing | Credential::Malformed => return None,
            Credential::Session(secret) | Credential::Bearer(secret) => {
                let now = now();
                let known = self.auth.known.get(
                    &token::hash(secret),
                    generations.auth,
                    self.has_session_cookie(),
                )?;
                if self.expired(&known.record, now) || touch_due(&known.record, now) {
                    return None;
                }
                let expires_at = self.expires_at(&known.record);
                Some((known.user_id, known.username, expires_at))
            }
        };
        Some(Identity::new(user, generations))
    }

    /// The user behind a session or token secret: from memory while no revocation happened since
    /// it was verified, else from the database. Its last use is written at most once a minute.
    fn verify(
        &self,
        conn: &mut DbConnection,
        secret: &str,
        generation: i64,
    ) -> Result<(UserId, String, Option<i64>), AuthError> {
        let now = now();
        let hash = token::hash(secret);
        // A session's secret is good only as the cookie, an API token's only as Bearer.
        let is_session = self.has_session_cookie();
        let known = self.auth.known.get(&hash, generation, is_session);
        // A session that looks expired from memory is read again: another instance may have
        // seen it used since.
        let (mut known, fresh) = match known.filter(|known| !self.expired(&known.record, now)) {
            Some(known) => (known, false),
            None => {
                let known = self.look_up(conn, &hash, is_session, generation)?;
                if self.expired(&known.record, now) {
                    return Err(AuthError::Unauthenticated(
                        "your session has expired; sign in again",
                    ));
                }
                (known, true)
            }
        };
        let touched = touch_due(&known.record, now);
        if touched {
            match &mut known.record {
                Record::Session {
                    id, last_seen_at, ..
                } => {
                    Session::touch(conn, *id, now)?;
                    *last_seen_at = now;
                }
                Record::Token { id, last_used_at } => {
                    ApiToken::touch(conn, *id, now)?;
                    *last_used_at = Some(now);
                }
            }
        }
        let answer = (
            known.user_id,
            known.username.clone(),
            self.expires_at(&known.record),
        );
        if touched || fresh {
            self.auth.known.put(hash, known);
        }
        Ok(answer)
    }

    fn look_up(
        &self,
        conn: &mut DbConnection,
        hash: &str,
        is_session: bool,
        generation: i64,
    ) -> Result<Known, AuthError> {
        if is_session {
            let (session, username) = Session::find(conn, hash)?.ok_or(
                AuthError::Unauthenticated("your session has ended; sign in again"),
            )?;
            Ok(Known {
                generation,
                user_id: session.user_id,
                username,
                record: Record::Session {
                    id: session.id,
                    created_at: session.created_at,
                    last_seen_at: session.last_seen_at,
                },
            })
        } else {
            let (token, username) = ApiToken::find(conn, hash)?.ok_or(
                AuthError::Unauthenticated("this API token is unknown or revoked"),
            )?;
            Ok(Known {
                generation,
                user_id: token.user_id,
                username,
                record: Record::Token {
                    id: token.id,
                    last_used_at: token.last_used_at,
                },
            })
        }
    }

    /// When a session ends unless used again (API tokens do not expire).
    fn expires_at(&self, record: &Record) -> Option<i64> {
        let settings = &self.auth.settings;
        match record {
            Record::Session {
                created_at,
                last_seen_at,
                ..
            } => Some(
                created_at
                    .saturating_add(secs(settings.session_absolute_secs))
                    .min(last_seen_at.saturating_add(secs(settings.session_idle_secs))),
            ),
            Record::Token { .. } => None,
        }
    }

    /// Whether a session is past its idle or absolute limit (API tokens do not expire).
    fn expired(&self, record: &Record, now: i64) -> bool {
        let settings = &self.auth.settings;
        match record {
            Record::Session {
                created_at,
                last_seen_at,
                ..
            } => {
                now.saturating_sub(*created_at) >= secs(settings.session_absolute_secs)
                    || now.saturating_sub(*last_seen_at) >= secs(settings.session_idle_secs)
            }
            Record::Token { .. } => false,
        }
    }
}

/// Whether the credential's last use is due to be written (at most once a minute).
fn touch_due(record: &Record, now: i64) -> bool {
    let last = match record {
        Record::Session { last_seen_at, .. } => Some(*last_seen_at),
        Record::Token { last_used_at, .. } => *last_used_at,
    };
    last.is_none_or(|last| now.saturating_sub(last) >= TOUCH_INTERVAL_SECS)
}

impl Identity {
    /// The identity of a verified user (id, name, session expiry), or of open mode's caller.
    fn new(user: Option<(UserId, String, Option<i64>)>, generations: Generations) -> Identity {
        let (scope, user, expires_at) = match user {
            Some((id, username, expires_at)) => (
                ListScope::User(id),
                Some(SignedIn { id, username }),
                expires_at,
            ),
            None => (ListScope::Shared, None, None),
        };
        Identity {
            scope,
            user,
            todos_generation: generations.todos,
            auth_generation: generations.auth,
            expires_at,
        }
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sign_ups_leave_sign_ins_a_turn_to_hash() {
        let settings = crate::config::Settings::load_from(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            &std::collections::HashMap::new(),
        )
        .expect("settings");
        let auth = Auth::new(settings.auth);
        let quickly = Duration::from_millis(50);
        // Every turn sign-ups can get...
        let mut held = Vec::new();
        while let Ok(turn) = tokio::time::timeout(quickly, auth.sign_up_turn()).await {
            held.push(turn.expect("a turn"));
        }
        assert!(!held.is_empty(), "sign-ups get a turn");
        // ...and a sign-in still gets one at once.
        let sign_in = tokio::time::timeout(quickly, auth.hashing_turn()).await;
        assert!(sign_in.is_ok(), "{} sign-ups starve sign-ins", held.len());
    }
}
