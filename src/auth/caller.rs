//! The one door every handler of user data goes through: the `Caller` extractor reads a request's
//! credential, and `identify` turns it into the only list it may use.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::known::{Known, Record};
use super::{Auth, AuthError, csrf, now, secs, token};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::models::{ApiToken, Generations, ListId, ListScope, Session, UserId};

const MISSING: &str = "sign in first, or send Authorization: Bearer <token>";
const MALFORMED: &str = "the Authorization header must read Bearer <token>, or Basic with your \
                         username and an API token as the password";
const WRONG_USER: &str = "that API token is not this username's";

/// The credential an `Authorization` header holds: `Bearer <token>`, or `Basic` with a username
/// and an API token (base64 of `username:token`).
fn authorization(scheme: &str, value: &str) -> Option<Credential> {
    if value.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credential::Bearer(value.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, secret) = decoded.split_once(':')?;
    (!username.is_empty() && !secret.is_empty()).then(|| Credential::Basic {
        username: username.to_owned(),
        secret: secret.to_owned(),
    })
}

/// Whether the username a client sent names the token's user (letter case aside).
pub fn same_user(username: &str, sent: &str) -> bool {
    username.to_lowercase() == sent.to_lowercase()
}

/// A session's or token's last use is written at most this often, so that reads stay reads.
const TOUCH_INTERVAL_SECS: i64 = 60;

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
    /// HTTP Basic (for CalDAV clients): a username, and an API token as the password. The
    /// account's password is not accepted here: it would take an Argon2 check per request.
    Basic {
        username: String,
        secret: String,
    },
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
    /// The caller's default list (open mode's list without accounts): what `/todos` means.
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
                .and_then(|(scheme, token)| authorization(scheme, token.trim()))
                .unwrap_or(Credential::Malformed)
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
            Credential::Session(secret)
            | Credential::Bearer(secret)
            | Credential::Basic { secret, .. } => token::hash(secret),
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
        let (identity, touch) = self.identify_deferring(conn)?;
        if let Some(touch) = touch {
            touch.write(conn)?;
        }
        Ok(identity)
    }

    /// As [`Caller::identify`], for a read: the credential's last use, when it is due to be
    /// written, is handed back rather than written on a reading connection, so that the writer
    /// writes it (see `store`).
    pub fn identify_deferring(
        &self,
        conn: &mut DbConnection,
    ) -> Result<(Identity, Option<Touch>), AuthError> {
        let generations = Generations::read(conn)?;
        let mut touch = None;
        let user = match &self.credential {
            Credential::Open => None,
            Credential::Missing => return Err(AuthError::Unauthenticated(MISSING)),
            Credential::Malformed => return Err(AuthError::Unauthenticated(MALFORMED)),
            Credential::Session(secret) | Credential::Bearer(secret) => {
                Some(self.verify(conn, secret, generations.auth, &mut touch)?)
            }
            Credential::Basic { username, secret } => {
                let verified = self.verify(conn, secret, generations.auth, &mut touch)?;
                if !same_user(&verified.username, username) {
                    return Err(AuthError::Unauthenticated(WRONG_USER));
                }
                Some(verified)
            }
        };
        Ok((Identity::new(user, generations), touch))
    }

    /// The caller's identity from memory alone, at `generations` (which the caller knows to be
    /// current, see `freshness`): `None` when the credential must be looked up in the database or
    /// its last use written there, and for a request without a credential.
    pub fn identify_known(&self, generations: Generations) -> Option<Identity> {
        let user = match &self.credential {
            Credential::Open => None,
            Credential::Missing | Credential::Malformed => return None,
            Credential::Session(secret)
            | Credential::Bearer(secret)
            | Credential::Basic { secret, .. } => {
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
                if let Credential::Basic { username, .. } = &self.credential
                    && !same_user(&known.username, username)
                {
                    return None;
                }
                Some(Verified {
                    id: known.user_id,
                    username: known.username,
                    default_list: known.default_list,
                    expires_at,
                })
            }
        };
        Some(Identity::new(user, generations))
    }

    /// The user behind a session or token secret: from memory while no revocation happened since
    /// it was verified, else from the database. Its last use is due to be written at most once a
    /// minute: then `touch` says so.
    fn verify(
        &self,
        conn: &mut DbConnection,
        secret: &str,
        generation: i64,
        touch: &mut Option<Touch>,
    ) -> Result<Verified, AuthError> {
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
            *touch = Some(Touch {
                record: known.record,
                now,
            });
            match &mut known.record {
                Record::Session { last_seen_at, .. } => *last_seen_at = now,
                Record::Token { last_used_at, .. } => *last_used_at = Some(now),
            }
        }
        let answer = Verified {
            id: known.user_id,
            username: known.username.clone(),
            default_list: known.default_list,
            expires_at: self.expires_at(&known.record),
        };
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
            let (session, username, default_list) = Session::find(conn, hash)?.ok_or(
                AuthError::Unauthenticated("your session has ended; sign in again"),
            )?;
            Ok(Known {
                generation,
                user_id: session.user_id,
                username,
                default_list,
                record: Record::Session {
                    id: session.id,
                    created_at: session.created_at,
                    last_seen_at: session.last_seen_at,
                },
            })
        } else {
            let (token, username, default_list) = ApiToken::find(conn, hash)?.ok_or(
                AuthError::Unauthenticated("this API token is unknown or revoked"),
            )?;
            Ok(Known {
                generation,
                user_id: token.user_id,
                username,
                default_list,
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
                    .saturating_add(secs(settings.session_absolute))
                    .min(last_seen_at.saturating_add(secs(settings.session_idle))),
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
                now.saturating_sub(*created_at) >= secs(settings.session_absolute)
                    || now.saturating_sub(*last_seen_at) >= secs(settings.session_idle)
            }
            Record::Token { .. } => false,
        }
    }
}

/// A credential's last use, due to be written.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    record: Record,
    now: i64,
}

impl Touch {
    /// Writes it: the session's or token's last use is now.
    pub fn write(self, conn: &mut DbConnection) -> Result<(), AuthError> {
        match self.record {
            Record::Session { id, .. } => Session::touch(conn, id, self.now)?,
            Record::Token { id, .. } => ApiToken::touch(conn, id, self.now)?,
        }
        Ok(())
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
    /// The signed-in user's id; `None` in open mode.
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|user| user.id)
    }
}

/// A verified credential's user, their default list, and when the session ends unless used.
struct Verified {
    id: UserId,
    username: String,
    default_list: ListId,
    expires_at: Option<i64>,
}

impl Identity {
    /// The identity of a verified user, or of open mode's caller.
    fn new(user: Option<Verified>, generations: Generations) -> Identity {
        let (scope, user, expires_at) = match user {
            Some(Verified {
                id,
                username,
                default_list,
                expires_at,
            }) => (
                ListScope::of(default_list),
                Some(SignedIn { id, username }),
                expires_at,
            ),
            None => (ListScope::of(ListId::OPEN), None, None),
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
