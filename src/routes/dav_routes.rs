//! CalDAV's route table: discovery's first step (`/.well-known/caldav`), the principal, home,
//! collections and objects under `/dav/`, and the WebDAV methods each answers. The handlers live
//! in `dav` (objects), `dav_collections` (`PROPFIND`), `dav_reports` and `dav_lists`.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::dav::{self, OBJECT_METHODS, other_method};
use super::dav_collections::{self, COLLECTION_METHODS};
use super::{dav_lists, dav_reports};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/caldav").to(|| async {
        HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, "/dav/"))
            .finish()
    }))
    .service(collection("/dav/", dav_collections::root))
    .service(collection(
        "/dav/principals/{username}/",
        dav_collections::principal,
    ))
    .service(collection(
        "/dav/calendars/{username}/",
        dav_collections::home,
    ))
    .service(
        collection(
            "/dav/calendars/{username}/{list}/",
            dav_collections::collection,
        )
        .route(web::method(method(b"REPORT")).to(dav_reports::report))
        .route(web::method(method(b"MKCALENDAR")).to(dav_lists::make))
        .route(web::method(method(b"MKCOL")).to(dav_lists::make))
        .route(web::method(method(b"PROPPATCH")).to(dav_lists::patch))
        .route(web::delete().to(dav_lists::delete)),
    )
    .service(
        web::resource("/dav/calendars/{username}/{list}/{name}")
            .route(web::get().to(dav::get))
            .route(web::head().to(dav::get))
            .route(web::put().to(dav::put))
            .route(web::delete().to(dav::delete))
            .route(web::method(method(b"PROPFIND")).to(dav_collections::object))
            .default_service(web::to(|req: HttpRequest| async move {
                other_method(&req, OBJECT_METHODS)
            })),
    );
}

/// A WebDAV method by name (each is a valid token).
fn method(name: &'static [u8]) -> Method {
    Method::from_bytes(name).unwrap_or(Method::GET)
}

/// A collection's resource, with and without its final slash, answering `PROPFIND`.
fn collection<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource([path.to_owned(), path.trim_end_matches('/').to_owned()])
        .route(web::method(method(b"PROPFIND")).to(handler))
        .default_service(web::to(|req: HttpRequest| async move {
            other_method(&req, COLLECTION_METHODS)
        }))
}
