//! The route table: every path, its methods, and what answers a method it does not serve. The
//! handlers live in the files named after their paths; they parse the request, ask the `store` for
//! reads and writes, and shape the response (SQL lives in `models`, who may do what in `auth`).

mod account;
mod assets;
pub mod cache;

pub use assets::Assets;
mod dav;
mod dav_collections;
mod dav_filter;
mod dav_lists;
mod dav_reports;
mod dav_routes;
mod dav_xml;
mod described;
mod encoding;
mod events;
mod filter;
mod form_actions;
mod forms;
mod index;
mod list_forms;
mod listing;
mod lists;
mod openapi;
mod order;
mod page;
mod request;
pub mod scrape;
mod sharing;
mod todo_json;
pub(crate) mod todos;
mod tokens;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Route, web};

use crate::error::AppError;

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/", "/active", "/completed"])
            .name("index")
            .route(web::get().to(index::index))
            .route(web::head().to(index::index))
            .default_service(other_method("GET, HEAD")),
    )
    .service(
        web::resource(["/lists/{list}/active", "/lists/{list}/completed"])
            .route(web::get().to(index::index))
            .route(web::head().to(index::index))
            .default_service(other_method("GET, HEAD")),
    )
    .configure(forms::configure)
    .configure(dav_routes::configure)
    .service(web::resource("/healthz").route(web::get().to(crate::drain::healthz)))
    .service(
        web::resource("/openapi.json")
            .route(web::get().to(openapi::serve))
            .default_service(other_method("GET")),
    )
    .service(web::resource("/readyz").route(web::get().to(crate::drain::readyz)))
    .configure(|cfg| todos_routes(cfg, "/todos", "/todos/events"))
    .configure(|cfg| todos_routes(cfg, "/lists/{list}/todos", "/lists/{list}/events"))
    .configure(lists_routes)
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

/// A list's todos (`collection`, with or without its slash, and each todo under it) and its live
/// stream: the default list's at `/todos`, any list's under `/lists/{list}`. Each its own
/// resource, so that metrics name the pattern a request took.
fn todos_routes(cfg: &mut web::ServiceConfig, collection: &str, events: &str) {
    cfg.service(
        web::resource([collection.to_owned(), format!("{collection}/")])
            .route(web::get().to(todos::list))
            .route(web::head().to(todos::list))
            .route(web::post().to(todos::create))
            .route(web::delete().to(todos::delete_all))
            .default_service(other_method("GET, HEAD, POST, DELETE")),
    )
    .service(
        web::resource(events)
            .route(web::get().to(events::stream))
            .default_service(other_method("GET")),
    )
    .service(
        web::resource(format!("{collection}/{{id}}"))
            .route(web::get().to(todos::get))
            .route(web::head().to(todos::get))
            .route(web::put().to(todos::update))
            .route(web::patch().to(todos::update))
            .route(web::delete().to(todos::delete))
            .default_service(other_method("GET, HEAD, PUT, PATCH, DELETE")),
    );
}

/// `/lists`, a list, its members, and its page's forms for the list itself and its sharing (its
/// todos, stream and todo forms share the default list's resources above).
fn lists_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/lists", "/lists/"])
            .route(web::get().to(lists::index))
            .route(web::post().to(lists::create))
            .default_service(other_method("GET, POST")),
    )
    .service(
        web::resource("/lists/{list}")
            .route(web::get().to(list_or_page))
            .route(web::head().to(list_or_page))
            .route(web::patch().to(lists::rename))
            .route(web::delete().to(lists::delete))
            .default_service(other_method("GET, HEAD, PATCH, DELETE")),
    )
    .service(
        web::resource("/lists/{list}/rename")
            .route(web::post().to(list_forms::rename))
            .default_service(other_method("POST")),
    )
    .service(
        web::resource("/lists/{list}/delete")
            .route(web::post().to(list_forms::delete))
            .default_service(other_method("POST")),
    )
    .service(
        web::resource("/lists/{list}/sharing")
            .route(web::get().to(sharing::page))
            .route(web::head().to(sharing::page))
            .route(web::post().to(sharing::add))
            .default_service(other_method("GET, HEAD, POST")),
    )
    .service(
        web::resource("/lists/{list}/sharing/{username}")
            .route(web::post().to(sharing::change_role))
            .default_service(other_method("POST")),
    )
    .service(
        web::resource("/lists/{list}/sharing/{username}/remove")
            .route(web::post().to(sharing::remove))
            .default_service(other_method("POST")),
    )
    .service(
        web::resource("/lists/{list}/members")
            .route(web::get().to(lists::members))
            .default_service(other_method("GET")),
    )
    .service(
        web::resource("/lists/{list}/members/{username}")
            .route(web::put().to(lists::put_member))
            .route(web::delete().to(lists::remove_member))
            .default_service(other_method("PUT, DELETE")),
    );
}

/// `GET /lists/{id}`: the page for a request that prefers HTML (a browser's), else the JSON list.
async fn list_or_page(
    req: HttpRequest,
    store: web::Data<crate::store::Store>,
    cache: web::Data<cache::ListCache>,
    freshness: web::Data<crate::freshness::Freshness>,
    caller: Result<crate::auth::Caller, AppError>,
    path: web::Path<request::ListPath>,
    query: Option<web::Query<index::PageQuery>>,
) -> Result<HttpResponse, AppError> {
    let target = crate::lists::Target::List(path.list);
    let mut response = if lists::prefers_html(&req) {
        index::index(req, store, cache, freshness, caller, target, query).await?
    } else {
        lists::show(req, store, caller?, path).await?
    };
    // One URL, two representations: caches must tell them apart.
    response
        .headers_mut()
        .append(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
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
