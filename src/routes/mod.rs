//! HTTP handlers. They parse the request, run the model's queries off the async executor, and shape
//! the response; SQL lives in `models`.

pub mod cache;
mod index;
pub(crate) mod todos;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Route, web};

use crate::db::{DbConnection, DbPool};
use crate::error::AppError;
use crate::models::Todo;
use cache::{ListCache, Representation};

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .name("index")
            .route(web::get().to(index::index))
            .route(web::head().to(index::index))
            .default_service(other_method("GET, HEAD")),
    )
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
        web::resource("/todos/{id}")
            .name("todo")
            .route(web::get().to(todos::get))
            .route(web::head().to(todos::get))
            .route(web::put().to(todos::update))
            .route(web::patch().to(todos::update))
            .route(web::delete().to(todos::delete))
            .default_service(other_method("GET, HEAD, PUT, PATCH, DELETE")),
    );
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

/// Runs blocking database work, the pool checkout included, on the blocking thread pool.
async fn with_connection<T, F>(pool: &web::Data<DbPool>, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || -> Result<T, AppError> {
        let mut conn = pool.get()?;
        Ok(work(&mut conn)?)
    })
    .await?
}

/// The absolute URL of the collection, ending in `/`; each todo's URL is this plus its id.
fn collection_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/todos/", info.scheme(), info.host())
}

/// The whole list rendered as `representation` for `base`: the kept copy while the database's
/// generation is unchanged, else read and rendered on the blocking pool, and kept. Concurrent
/// readers share one buffer instead of each holding a copy of the list.
async fn rendered_list(
    pool: &web::Data<DbPool>,
    cache: &web::Data<ListCache>,
    representation: Representation,
    base: String,
    render: fn(&[Todo], &str) -> Result<Vec<u8>, AppError>,
) -> Result<web::Bytes, AppError> {
    let (pool, cache) = (pool.clone(), cache.clone());
    web::block(move || -> Result<web::Bytes, AppError> {
        let mut conn = pool.get()?;
        // The generation is read first, so the list read after it is never older than it.
        let generation = Todo::generation(&mut conn)?;
        if let Some(body) = cache.get(representation, &base, generation) {
            return Ok(body);
        }
        let _rendering = cache.rendering();
        // Whoever held the lock before may have rendered this very generation.
        let generation = Todo::generation(&mut conn)?;
        if let Some(body) = cache.get(representation, &base, generation) {
            return Ok(body);
        }
        let todos = Todo::all(&mut conn)?;
        let body = web::Bytes::from(render(&todos, &base)?);
        cache.put(representation, base, generation, body.clone());
        Ok(body)
    })
    .await?
}
