//! Who is asking. Passwords, sessions, API tokens and sign-in throttling live here, and so does the
//! one door every handler goes through: the `Caller` extractor, whose `identify` turns a request's
//! credential into the only list it may use.

mod account;
mod caller;
pub mod csrf;
mod error;
mod known;
pub mod password;
mod throttle;
pub mod token;

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

pub use account::{NewSession, create_api_token, sign_in, sign_out, sign_up};
pub use caller::{Caller, Identity, SignedIn, Touch, same_user};
pub use error::AuthError;
pub use throttle::ClientKey;

use crate::config::{AuthMode, AuthSettings};
use known::KnownCredentials;

/// The cookie that carries the session token over plain HTTP (development).
pub const SESSION_COOKIE: &str = "todomvc_session";
/// Its name where cookies are `Secure` (production): a `__Host-` cookie is only accepted from a
/// secure origin, with `Path=/` and no `Domain`, so a sibling subdomain can neither set nor shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-todomvc_session";

/// The cookie that carries the token of the last form action's undo to the page that offers it
/// (see `models::UndoRecord`), and its `Secure` name.
pub const UNDO_COOKIE: &str = "todomvc_undo";
pub const SECURE_UNDO_COOKIE: &str = "__Host-todomvc_undo";

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
            .max_age(CookieDuration::seconds(secs(
                self.settings.session_absolute,
            )))
            .finish()
    }

    /// The undo cookie's name: `__Host-` prefixed when cookies are `Secure`.
    pub fn undo_cookie_name(&self) -> &'static str {
        if self.settings.secure_cookies {
            SECURE_UNDO_COOKIE
        } else {
            UNDO_COOKIE
        }
    }

    /// The cookie that hands the page the token of an undo, for as long as it can be used.
    pub fn undo_cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build(self.undo_cookie_name(), token)
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.settings.secure_cookies)
            .max_age(CookieDuration::seconds(crate::models::UNDO_FOR_SECS))
            .finish()
    }

    /// The undo token the request's cookie carries, if any.
    pub fn undo_token(&self, req: &HttpRequest) -> Option<String> {
        req.cookie(self.undo_cookie_name())
            .map(|cookie| cookie.value().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A cookie that makes the browser forget the undo cookie: the page offers an undo once.
    pub fn undo_removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.undo_cookie(String::new());
        cookie.make_removal();
        cookie
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
    crate::models::now()
}

/// Whole seconds, as the database's timestamps count them.
fn secs(value: std::time::Duration) -> i64 {
    i64::try_from(value.as_secs()).unwrap_or(i64::MAX)
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
