//! Signing up, in and out, and making API tokens: the steps that hand out a secret.

use super::{Auth, AuthError, password, throttle, token};
use crate::db::{DbConnection, DbPool};
use crate::models::{AddUserError, ApiToken, Session, User, UserId, Username};

/// A new session: the token for the cookie (the database keeps only its hash).
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub username: String,
}

/// Checks the form's fields; the message is shown beside the form.
fn parse(username: &str, password: &str) -> Result<Username, AuthError> {
    let name = Username::parse(username).map_err(|message| AuthError::Invalid {
        field: "username",
        message,
    })?;
    password::check(password).map_err(|message| AuthError::Invalid {
        field: "password",
        message,
    })?;
    Ok(name)
}

fn start_session(
    conn: &mut DbConnection,
    auth: &Auth,
    user: &User,
    now: i64,
) -> Result<NewSession, AuthError> {
    let secret = token::generate("")
        .map_err(|err| AuthError::Internal(format!("cannot make a secret: {err}")))?;
    Session::start(conn, user.id(), &token::hash(&secret), now)?;
    // Old sessions are cleared out as new ones begin.
    let settings = &auth.settings;
    Session::delete_expired(
        conn,
        now.saturating_sub(super::secs(settings.session_idle_secs)),
        now.saturating_sub(super::secs(settings.session_absolute_secs)),
    )?;
    Ok(NewSession {
        token: secret,
        username: user.username.clone(),
    })
}

/// Signs a user in with a new session (never one chosen in advance). Blocking: run it on the
/// blocking pool. No connection is held while the password is hashed.
pub fn sign_in(
    pool: &DbPool,
    auth: &Auth,
    username: &str,
    password: &str,
    client: &str,
) -> Result<NewSession, AuthError> {
    let name = parse(username, password)?;
    let key = name.key();
    let now = super::now();
    let user = {
        let mut conn = pool.get()?;
        throttle::check(&mut conn, &auth.settings, &key, client, now)?;
        User::find_by_name(&mut conn, name.as_str())?
    };
    let verified = password::verify(password, user.as_ref().map(|u| u.password_hash.as_str()));
    let mut conn = pool.get()?;
    match user {
        Some(user) if verified => {
            throttle::succeeded(&mut conn, &key)?;
            start_session(&mut conn, auth, &user, now)
        }
        _ => {
            throttle::failed(&mut conn, &auth.settings, &key, client, now)?;
            Err(AuthError::WrongCredentials)
        }
    }
}

/// Adds a user and signs them in. Blocking, like `sign_in`.
pub fn sign_up(
    pool: &DbPool,
    auth: &Auth,
    username: &str,
    password: &str,
) -> Result<NewSession, AuthError> {
    if !auth.settings.signups {
        return Err(AuthError::SignupsClosed);
    }
    let name = parse(username, password)?;
    if User::find_by_name(&mut *pool.get()?, name.as_str())?.is_some() {
        return Err(AuthError::UsernameTaken(name.as_str().to_owned()));
    }
    let hash = password::hash(password)
        .map_err(|err| AuthError::Internal(format!("cannot make a secret: {err}")))?;
    let mut conn = pool.get()?;
    let now = super::now();
    let user = User::add(&mut conn, &name, &hash, now).map_err(|err| match err {
        AddUserError::Taken(name) => AuthError::UsernameTaken(name),
        AddUserError::Database(err) => err.into(),
    })?;
    start_session(&mut conn, auth, &user, now)
}

/// Ends the session whose token the cookie holds, if it is still there.
pub fn sign_out(conn: &mut DbConnection, session_token: &str) -> Result<(), AuthError> {
    Ok(Session::end(conn, &token::hash(session_token))?)
}

/// A new API token for `user`: the stored record, and the secret, shown only this once.
pub fn create_api_token(
    conn: &mut DbConnection,
    user: UserId,
    name: &str,
) -> Result<(ApiToken, String), AuthError> {
    let secret = token::generate(token::API_TOKEN_PREFIX)
        .map_err(|err| AuthError::Internal(format!("cannot make a secret: {err}")))?;
    let record = ApiToken::create(conn, user, name, &token::hash(&secret), super::now())?;
    Ok((record, secret))
}
