//! What handlers read from a request beyond its body: the list its path names, the collection's
//! URL as the client sees it, and the tags it already has.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::Deserialize;

use crate::error::AppError;
use crate::lists::Target;
use crate::models::{ListId, TodoId};

/// `/lists/{list}/...` names a list; any other path means the caller's default list. A list id
/// that is not a number names no list: 404, as for a list the caller is not on.
impl FromRequest for Target {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(target(req))
    }
}

fn target(req: &HttpRequest) -> Result<Target, AppError> {
    match req.match_info().get("list") {
        None => Ok(Target::Default),
        Some(raw) => raw
            .parse::<ListId>()
            .map(Target::List)
            .map_err(|_| AppError::NotFound(format!("there is no list with id {raw}"))),
    }
}

/// The `{id}` of a todo's path, under `/todos/` or a list's.
#[derive(Debug, Deserialize)]
pub struct TodoPath {
    pub id: TodoId,
}

/// A list's own path, `/lists/{list}`.
#[derive(Debug, Deserialize)]
pub struct ListPath {
    pub list: ListId,
}

/// The absolute URL of the collection, ending in `/`; each todo's URL is this plus its id. The
/// scheme and host are the request's own, or a trusted proxy's (see `proxy`), and the host is an
/// allowed one: so the kept renderings are keyed by allowed hosts only.
pub fn collection_url(req: &HttpRequest) -> String {
    // The parsed id, not the path's text: `/lists/007/` and `/lists/7/` are one list, and one
    // key of the kept renderings.
    match target(req) {
        Ok(Target::List(list)) => format!("{}/lists/{list}/todos/", origin_url(req)),
        _ => format!("{}/todos/", origin_url(req)),
    }
}

/// The site's absolute origin as the client sees it, `scheme://host` (see `collection_url`).
pub fn origin_url(req: &HttpRequest) -> String {
    let origin = crate::proxy::origin(req);
    format!("{}://{}", origin.scheme, origin.host)
}

/// The request's `If-None-Match`, if any.
pub fn if_none_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
