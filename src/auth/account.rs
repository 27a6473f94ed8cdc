//! Signing up, in and out, and making API tokens: the steps that hand out a secret.

use std::sync::Arc;

use super::throttle::{self, ClientKey};
use super::{Auth, AuthError, password, token};
use crate::db::DbConnection;
use crate::models::{AddUserError, ApiToken, Session, User, UserId, Username};
use crate::writer::Writer;

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
        now.saturating_sub(super::secs(settings.session_idle)),
        now.saturating_sub(super::secs(settings.session_absolute)),
    )?;
    Ok(NewSession {
        token: secret,
        username: user.username.clone(),
    })
}

/// Runs blocking database or hashing work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    actix_web::web::block(work)
        .await
        .map_err(|err| AuthError::Internal(format!("blocking work failed: {err}")))?
}

/// Signs a user in with a new session (never one chosen in advance). The throttle is asked first
/// (see `throttle`); an account under attack waits here, holding no thread, connection or hashing
/// turn. No connection is held while the password is hashed.
pub async fn sign_in(
    writer: &Writer,
    auth: Arc<Auth>,
    username: &str,
    password: String,
    client: ClientKey,
) -> Result<NewSession, AuthError> {
    let name = parse(username, &password)?;
    let key = name.key();
    // The throttle's answer and the user, in one write, before any waiting.
    let (wait, user) = write(writer, {
        let (auth, key, client) = (auth.clone(), key.clone(), client.clone());
        move |conn| {
            let wait = throttle::check_sign_in(conn, &auth.settings, &key, &client, super::now())?;
            Ok((wait, User::find_by_name(conn, name.as_str())?))
        }
    })
    .await?;
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let turn = auth.hashing_turn().await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = blocking(move || {
        let _turn = turn;
        Ok(password::verify(&password, hash.as_deref()))
    })
    .await?;
    write(writer, move |conn| {
        let now = super::now();
        match user {
            Some(user) if verified => {
                throttle::signed_in(conn, &key)?;
                start_session(conn, &auth, &user, now)
            }
            _ => {
                throttle::sign_in_failed(conn, &auth.settings, &key, &client, now)?;
                Err(AuthError::WrongCredentials)
            }
        }
    })
    .await
}

/// Runs `work` through the writer (see `writer`): its writes are committed, whatever it answers,
/// before the answer is given. A failure of the writer itself keeps its own status.
async fn write<T, F>(writer: &Writer, work: F) -> Result<T, AuthError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AuthError> + Send + 'static,
    T: Send + 'static,
{
    writer
        .write(move |conn| Ok(work(conn)))
        .await
        .map_err(|err| AuthError::Write(Box::new(err)))?
}

/// Adds a user and signs them in. A sign-up from a client that has used its allowance is refused
/// before anything else; one for a name that is taken counts against it too. Its password is
/// hashed on the sign-ups' share of the hashing turns.
pub async fn sign_up(
    writer: &Writer,
    auth: Arc<Auth>,
    username: &str,
    password: String,
    client: ClientKey,
) -> Result<NewSession, AuthError> {
    if !auth.settings.signups {
        return Err(AuthError::SignupsClosed);
    }
    let name = parse(username, &password)?;
    write(writer, {
        let (auth, name) = (auth.clone(), name.clone());
        move |conn| {
            throttle::admit_sign_up(conn, &auth.settings, &client, super::now())?;
            match User::find_by_name(conn, name.as_str())? {
                Some(_) => Err(AuthError::UsernameTaken(name.as_str().to_owned())),
                None => Ok(()),
            }
        }
    })
    .await?;
    let turn = auth.sign_up_turn().await?;
    let hash = blocking(move || {
        let _turn = turn;
        password::hash(&password)
            .map_err(|err| AuthError::Internal(format!("cannot make a secret: {err}")))
    })
    .await?;
    write(writer, move |conn| {
        let now = super::now();
        let user = User::add(conn, &name, &hash, now).map_err(|err| match err {
            AddUserError::Taken(name) => AuthError::UsernameTaken(name),
            AddUserError::Database(err) => err.into(),
        })?;
        start_session(conn, &auth, &user, now)
    })
    .await
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
