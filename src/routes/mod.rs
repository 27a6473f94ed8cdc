//! HTTP handlers. They parse the request, run the model's queries off the async executor, and shape
//! the response; SQL lives in `models`, and who may do what is decided in `auth`.

mod account;
pub mod cache;
mod described;
mod events;
mod filter;
mod forms;
mod index;
pub mod scrape;
mod openapi;
mod page;
pub(crate) mod todos;
mod tokens;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Route, web};

use crate::auth::{Caller, Identity};
use crate::db::{DbConnection, DbPool};
use crate::error::AppError;
use crate::freshness::Freshness;
use crate::models::{Change, Todo};
use crate::writer::Writer;
use cache::{ListCache, Rendered, Representation, SharedBody, list_etag, none_match_hits};

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/", "/active", "/completed"])
            .name("index")
            .route(web::get().to(index::index))
            .route(web::head().to(index::index))
            .default_service(other_method("GET, HEAD")),
    )
    .configure(forms::configure)
    .service(web::resource("/healthz").route(web::get().to(crate::drain::healthz)))
    .service(
        web::resource("/openapi.json")
            .route(web::get().to(openapi::serve))
            .default_service(other_method("GET")),
    )
    .service(web::resource("/readyz").route(web::get().to(crate::drain::readyz)))
    .service(
        web::resource(["/todos", "/todos/"])
            .name("todos")
            .route(web::get().to(todos::list))
            .route(web::head().to(todos::list))
            .route(web::post().to(todos::create))
            .route(web::delete().to(todos::delete_all))
            .default_service(other_method("GET, HEAD, POST, DELETE")),
    )
    .service(
        web::resource("/todos/events")
            .route(web::get().to(events::stream))
            .default_service(other_method("GET")),
    )
    .service(
        web::resource("/todos/{id}")
            .name("todo")
            .route(web::get().to(todos::get))
            .route(web::head().to(todos::get))
            .route(web::put().to(todos::update))
            .route(web::patch().to(todos::update))
            .route(web::delete().to(todos::delete))
            .default_service(other_method("GET, HEAD, PUT, PATCH, DELETE")),
    )
    .service(
        web::resource(["/tokens", "/tokens/"])
            .route(web::get().to(tokens::list))
            .route(web::post().to(tokens::create))
            .default_service(other_method("GET, POST")),
    )
    .service(
        web::resource("/tokens/{id}")
            .route(web::delete().to(tokens::revoke))
            .default_service(other_method("DELETE")),
    )
    .configure(account::configure);
}

/// Any path that no route matches.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!(
        "there is nothing at {}",
        req.path()
    )))
}

/// A method a resource does not serve: 405 naming the ones it does. A plain OPTIONS request (not a
/// CORS preflight, which the CORS middleware answers) gets the list with 204.
fn other_method(allow: &'static str) -> Route {
    web::route().to(move |req: HttpRequest| async move {
        if req.method() == Method::OPTIONS {
            Ok(HttpResponse::NoContent()
                .insert_header((header::ALLOW, format!("{allow}, OPTIONS")))
                .finish())
        } else {
            Err(AppError::MethodNotAllowed {
                method: req.method().clone(),
                allow,
            })
        }
    })
}

/// Runs blocking database work for `caller` on the blocking thread pool: the pool checkout, then
/// the caller's credential is checked on that same connection, then `work` runs with the identity
/// (and so the one list) it was given. A request with no credential at all is refused first.
async fn as_caller<T, E, F>(
    pool: &web::Data<DbPool>,
    caller: Caller,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, &Identity) -> Result<T, E> + Send + 'static,
    E: Into<AppError>,
    T: Send + 'static,
{
    caller.require_credential()?;
    let pool = pool.clone();
    let request = crate::telemetry::current_request();
    web::block(move || -> Result<T, AppError> {
        crate::telemetry::with_request(request, || {
            let mut conn = pool.get()?;
            let identity = caller.identify(&mut conn)?;
            work(&mut conn, &identity).map_err(Into::into)
        })
    })
    .await?
}

/// Like `as_caller`, for work that writes: on SQLite it runs on the writing thread, committed
/// together with the writes queued with it (see `writer`); elsewhere as `as_caller` does.
async fn as_writer<T, E, F>(
    pool: &web::Data<DbPool>,
    writer: &web::Data<Writer>,
    caller: Caller,
    work: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, &Identity) -> Result<T, E> + Send + 'static,
    E: Into<AppError>,
    T: Send + 'static,
{
    if !writer.groups() {
        return as_caller(pool, caller, work).await;
    }
    caller.require_credential()?;
    writer
        .write(move |conn| {
            let identity = caller.identify(conn)?;
            work(conn, &identity).map_err(Into::into)
        })
        .await
}

/// The absolute URL of the collection, ending in `/`; each todo's URL is this plus its id. The
/// scheme and host are the request's own, or a trusted proxy's (see `proxy`), and the host is an
/// allowed one: so the kept renderings are keyed by allowed hosts only.
fn collection_url(req: &HttpRequest) -> String {
    let origin = crate::proxy::origin(req);
    format!("{}://{}/todos/", origin.scheme, origin.host)
}

/// Renders a list for a caller: the todos, the list's change number they are at, the collection
/// URL, and who is signed in.
type Render = fn(&[Todo], i64, &str, &Identity, Representation) -> Result<Vec<u8>, AppError>;

/// Counts a read of a kept rendering: `hit`, `miss` (read and rendered) or `not_modified`.
fn kept_lists(result: &'static str) {
    metrics::counter!("kept_list_reads_total", "result" => result).increment(1);
}

/// A list as a GET gets it: rendered, or not modified since the tag the client has.
pub enum Listed {
    Fresh(Rendered),
    NotModified(String),
}

/// A user's list, as a page or JSON: kept by no shared cache, revalidated by the browser before
/// every use, and told apart by the credential it was asked with.
pub const PER_USER: ((header::HeaderName, &str), (header::HeaderName, &str)) = (
    (header::CACHE_CONTROL, "private, no-cache"),
    (header::VARY, "Cookie, Authorization"),
);

impl Listed {
    /// 200 with the body (`content_type`) and its ETag, or 304 with the tag alone.
    pub fn into_response(self, content_type: &str) -> HttpResponse {
        match self {
            Listed::Fresh(rendered) => HttpResponse::Ok()
                .content_type(content_type)
                .insert_header((header::ETAG, rendered.etag))
                .insert_header(PER_USER.0)
                .insert_header(PER_USER.1)
                .body(SharedBody::new(rendered.body)),
            Listed::NotModified(etag) => HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .insert_header(PER_USER.0)
                .insert_header(PER_USER.1)
                .finish(),
        }
    }
}

/// The request's `If-None-Match`, if any.
fn if_none_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Where kept renderings live, and how to tell on this thread that they are current.
pub struct Kept<'a> {
    pub cache: &'a web::Data<ListCache>,
    pub freshness: &'a web::Data<Freshness>,
}

/// The caller's list rendered as `representation` for `base`: the kept copy while the database's
/// generation is unchanged, else read and rendered on the blocking pool, and kept. Concurrent
/// readers share one buffer instead of each holding a copy of the list. A request whose
/// `If-None-Match` names the list's present tag gets `NotModified`.
///
/// When this thread can tell that the kept copy is current and who the caller is (see
/// `freshness`), it is answered here, without the blocking pool.
async fn rendered_list(
    pool: &web::Data<DbPool>,
    kept: Kept<'_>,
    caller: Caller,
    request: (Representation, String, Option<String>),
    render: Render,
) -> Result<Listed, AppError> {
    let (representation, base, if_none_match) = request;
    if let Some(generations) = kept.freshness.generations()
        && let Some(identity) = caller.identify_known(generations)
        && let Some(rendered) = kept.cache.get(
            &(representation, base.clone(), identity.scope),
            generations.todos,
        )
    {
        return Ok(answer_kept(rendered, if_none_match.as_deref()));
    }
    let cache = kept.cache.clone();
    as_caller(pool, caller, move |conn, identity| {
        let key = (representation, base, identity.scope);
        // The generation was read first, so the list read after it is never older than it.
        if let Some(rendered) = cache.get(&key, identity.todos_generation) {
            return Ok(answer_kept(rendered, if_none_match.as_deref()));
        }
        if let Some(tags) = &if_none_match {
            let etag = list_etag(Change::list_state(conn, identity.scope)?, &key);
            if none_match_hits(tags, &etag) {
                kept_lists("not_modified");
                return Ok(Listed::NotModified(etag));
            }
        }
        let _rendering = cache.rendering();
        // Whoever held the lock before may have rendered this very generation.
        let generation = Todo::generation(conn)?;
        if let Some(rendered) = cache.get(&key, generation) {
            return Ok(answer_kept(rendered, if_none_match.as_deref()));
        }
        kept_lists("miss");
        let (todos, change) = Todo::all_at_change(conn, identity.scope)?;
        let rendered = Rendered {
            body: web::Bytes::from(render(&todos, change, &key.1, identity, representation)?),
            etag: list_etag(change, &key),
        };
        cache.put(key, generation, rendered.clone());
        Ok::<_, AppError>(Listed::Fresh(rendered))
    })
    .await
}

/// A kept rendering, or 304 when the client has its tag.
fn answer_kept(rendered: Rendered, if_none_match: Option<&str>) -> Listed {
    if if_none_match.is_some_and(|tags| none_match_hits(tags, &rendered.etag)) {
        kept_lists("not_modified");
        Listed::NotModified(rendered.etag)
    } else {
        kept_lists("hit");
        Listed::Fresh(rendered)
    }
}
