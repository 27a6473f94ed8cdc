//! `/openapi.json`: the JSON API described in OpenAPI 3.1, generated from the handlers' own
//! annotations and the types they answer with, and fitted to this server's settings (the auth
//! mode, the session cookie's name).

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{SecurityRequirement, server::Server};

use crate::auth::Auth;
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

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todomvc",
        description = "The TodoMVC JSON API, as Backbone.sync and Todo-Backend clients use it: \
            a caller's list of todos, live updates, and API tokens. Errors are JSON \
            `{\"error\": ...}` with the status that fits. Writes take `If-Match` (a todo's \
            `ETag`) and `Idempotency-Key`.",
    ),
    paths(
        super::todos::list,
        super::todos::create,
        super::todos::delete_all,
        super::todos::get,
        super::todos::update,
        super::todos::delete,
        super::events::stream,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
        crate::drain::healthz,
        crate::drain::readyz,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "todos", description = "The caller's list."),
        (name = "tokens", description = "API tokens, for `Authorization: Bearer` (accounts mode)."),
        (name = "operations", description = "Health, for load balancers."),
    )
)]
struct ApiDoc;

/// The description of this server's API: with accounts, each route needs the session cookie
/// (named `cookie`) or an API token; in open mode, nothing, and there are no API tokens.
pub fn document(auth: &Auth, base: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![Server::new(base)]);
    if !auth.accounts() {
        // No accounts, no API tokens: those routes answer 404.
        doc.paths
            .paths
            .retain(|path, _| !path.starts_with("/tokens"));
        return doc;
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            auth.cookie_name(),
            "The session cookie that signing in sets (`/login`). Writes with it must come \
             from this site's own pages.",
        ))),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token from `POST /tokens` or the command line \
                     (`todomvc tokens create`).",
                ))
                .build(),
        ),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("cookie", Vec::<String>::new()),
        SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]);
    doc
}

/// `GET /openapi.json`.
pub async fn serve(req: actix_web::HttpRequest, auth: web::Data<Auth>) -> HttpResponse {
    let origin = crate::proxy::origin(&req);
    let base = format!("{}://{}", origin.scheme, origin.host);
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(document(&auth, &base))
}
