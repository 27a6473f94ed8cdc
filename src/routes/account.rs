//! `/login`, `/signup` and `/logout`: the HTML forms that start and end a session. They work
//! without JavaScript; a failure shows the form again with a message, the username kept.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;

use super::other_method;
use crate::auth::{self, Auth, AuthError, Caller, csrf};
use crate::error::AppError;
use crate::models::MAX_USERNAME_CHARS;
use crate::store::Store;
use crate::writer::Writer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, form) in [("/login", Form::Login), ("/signup", Form::Signup)] {
        cfg.service(
            web::resource(path)
                .route(
                    web::get()
                        .to(move |req, pool, auth, query| show_form(req, pool, auth, query, form)),
                )
                .route(
                    web::post()
                        .to(move |req, pool, auth, body| submit(req, pool, auth, body, form)),
                )
                .default_service(other_method("GET, POST")),
        );
    }
    cfg.service(
        web::resource("/logout")
            .route(web::post().to(logout))
            .default_service(other_method("POST")),
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Login,
    Signup,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    heading: &'a str,
    action: &'a str,
    submit: &'a str,
    password_autocomplete: &'a str,
    message: Option<&'a str>,
    /// The field the message is about, for `aria-invalid`.
    field: &'a str,
    username: &'a str,
    next: &'a str,
    max_username_chars: usize,
    /// The other form: a link to sign up from the sign-in page, and back.
    other_href: &'a str,
    other_text: &'a str,
    show_other: bool,
}

/// What the form posted, and where to go after.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a path on this site, never another site (`//host`, `/\host`).
fn local_path(next: &str) -> &str {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control);
    if safe { next } else { "/" }
}

/// The form, with `status` and an optional message. The password is never sent back.
fn form_page(
    auth: &Auth,
    form: Form,
    status: StatusCode,
    message: Option<(&str, &str)>,
    username: &str,
    next: &str,
) -> HttpResponse {
    let (heading, action, submit, autocomplete) = match form {
        Form::Login => ("Sign in", "/login", "Sign in", "current-password"),
        Form::Signup => ("Sign up", "/signup", "Sign up", "new-password"),
    };
    let (other_href, other_text) = match form {
        Form::Login => ("/signup", "No account yet? Sign up"),
        Form::Signup => ("/login", "Have an account? Sign in"),
    };
    let page = AccountPage {
        heading,
        action,
        submit,
        password_autocomplete: autocomplete,
        message: message.map(|(_, text)| text),
        field: message.map_or("", |(field, _)| field),
        username,
        next: local_path(next),
        max_username_chars: MAX_USERNAME_CHARS,
        other_href,
        other_text,
        show_other: form == Form::Signup || auth.settings.signups,
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(err) => AppError::internal(format!("rendering the form: {err}")).error_response(),
    }
}

/// The form again after `err`, with the status the error calls for.
fn refused(auth: &Auth, form: Form, err: AuthError, fields: &Fields) -> HttpResponse {
    match &err {
        AuthError::WrongCredentials => metrics::counter!("sign_in_failures_total").increment(1),
        AuthError::Throttled { .. } => metrics::counter!("sign_ins_throttled_total").increment(1),
        AuthError::SignUpsThrottled { .. } => {
            metrics::counter!("sign_ups_throttled_total").increment(1);
        }
        _ => {}
    }
    let field = match &err {
        AuthError::Invalid { field, .. } => field,
        AuthError::UsernameTaken(_) => "username",
        AuthError::WrongCredentials => "password",
        _ => "",
    };
    let err = AppError::from(err);
    let status = err.status_code();
    let message = match status {
        StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => {
            log::error!("answering {status} to a {form:?} form: {err:?}");
            "The server cannot do this right now. Please try again in a moment.".to_owned()
        }
        _ => err.to_string(),
    };
    let mut response = form_page(
        auth,
        form,
        status,
        Some((field, &message)),
        fields.username.trim(),
        &fields.next,
    );
    let headers = response.headers_mut();
    match &err {
        AppError::TooManyRequests { retry_after, .. } => {
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        AppError::Unauthorized(_) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        AppError::Unavailable(_) => {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}

/// Reads the posted form: urlencoded, as browsers send it.
fn read_fields(req: &HttpRequest, body: &[u8]) -> Result<Fields, AuthError> {
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return Err(AuthError::Invalid {
            field: "",
            message: "The form must be sent as application/x-www-form-urlencoded.".into(),
        });
    }
    serde_urlencoded::from_bytes(body).map_err(|err| AuthError::Invalid {
        field: "",
        message: format!("The form could not be read: {err}."),
    })
}

/// 303 to `location`, starting the session.
fn signed_in(auth: &Auth, session: auth::NewSession, location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, local_path(location)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(auth.session_cookie(session.token))
        .finish()
}

/// The sign-in page, for a request that needs a session and has none (or an expired one, whose
/// cookie is cleared).
pub fn to_sign_in(req: &HttpRequest) -> HttpResponse {
    to_sign_in_then(req, req.uri().path_and_query().map_or("/", |p| p.as_str()))
}

/// The sign-in page, which comes back to `next` (a local path) afterwards.
pub fn to_sign_in_then(req: &HttpRequest, next: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    let location = match next {
        "/" => "/login".to_owned(),
        path => format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", path)]).unwrap_or_default()
        ),
    };
    response.insert_header((header::LOCATION, location));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(auth) = req.app_data::<web::Data<Auth>>()
        && auth.session_token(req).is_some()
    {
        response.cookie(auth.removal_cookie());
    }
    response.finish()
}

/// Whether the request's session is valid; a page shown to a signed-in user skips the form.
async fn has_session(req: &HttpRequest, store: &web::Data<Store>) -> bool {
    let Ok(caller) = Caller::of(req) else {
        return false;
    };
    if !caller.has_session_cookie() {
        return false;
    }
    store
        .read(caller, |_, _| Ok::<_, AppError>(()))
        .await
        .is_ok()
}

fn accounts_off(req: &HttpRequest) -> HttpResponse {
    AppError::NotFound(format!(
        "there is nothing at {}: this server runs without accounts (auth.mode = \"open\")",
        req.path()
    ))
    .error_response()
}

async fn show_form(
    req: HttpRequest,
    store: web::Data<Store>,
    auth: web::Data<Auth>,
    query: web::Query<NextQuery>,
    form: Form,
) -> HttpResponse {
    if !auth.accounts() {
        return accounts_off(&req);
    }
    if has_session(&req, &store).await {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, local_path(&query.next)))
            .finish();
    }
    if form == Form::Signup && !auth.settings.signups {
        let err = AuthError::SignupsClosed.to_string();
        let message = Some(("", err.as_str()));
        return form_page(&auth, form, StatusCode::FORBIDDEN, message, "", &query.next);
    }
    form_page(&auth, form, StatusCode::OK, None, "", &query.next)
}

/// Runs a sign-in or sign-up posted with `body`, and answers 303 with the new session, or the form
/// again.
async fn submit(
    req: HttpRequest,
    writer: web::Data<Writer>,
    auth: web::Data<Auth>,
    body: web::Bytes,
    form: Form,
) -> HttpResponse {
    if !auth.accounts() {
        return accounts_off(&req);
    }
    let fields = match read_fields(&req, &body) {
        Ok(fields) => fields,
        Err(err) => return refused(&auth, form, err, &Fields::default()),
    };
    if !csrf::is_same_origin(req.headers(), &crate::proxy::origin(&req)) {
        return refused(&auth, form, AuthError::CrossOrigin, &fields);
    }
    // The client's address, through trusted proxies only: what throttling counts per client.
    let client = auth::ClientKey::of(crate::proxy::origin(&req).client);
    let previous = auth.session_token(&req);
    let auth_ = auth.clone().into_inner();
    let password = fields.password.clone();
    let session = match form {
        Form::Login => auth::sign_in(&writer, auth_, &fields.username, password, client).await,
        Form::Signup => auth::sign_up(&writer, auth_, &fields.username, password, client).await,
    };
    let session = match session {
        Ok(session) => session,
        Err(err) => return refused(&auth, form, err, &fields),
    };
    // A session the browser held before ends: the new one replaces it.
    if let Some(previous) = previous
        && let Err(err) = sign_out(&writer, previous).await
    {
        return err.error_response();
    }
    signed_in(&auth, session, &fields.next)
}

/// Ends the session whose token the cookie holds, through the writer.
async fn sign_out(writer: &Writer, token: String) -> Result<(), AppError> {
    writer
        .write(move |conn| Ok(auth::sign_out(conn, &token)?))
        .await
}

/// Ends the session and forgets the cookie: 303 to the sign-in page.
async fn logout(
    req: HttpRequest,
    writer: web::Data<Writer>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, AppError> {
    if !auth.accounts() {
        return Ok(accounts_off(&req));
    }
    if !csrf::is_same_origin(req.headers(), &crate::proxy::origin(&req)) {
        return Err(AuthError::CrossOrigin.into());
    }
    if let Some(token) = auth.session_token(&req) {
        sign_out(&writer, token).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(auth.removal_cookie())
        .finish())
}
