//! What handlers read from a request beyond its path and body: the collection's URL as the client
//! sees it, and the tags it already has.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The absolute URL of the collection, ending in `/`; each todo's URL is this plus its id. The
/// scheme and host are the request's own, or a trusted proxy's (see `proxy`), and the host is an
/// allowed one: so the kept renderings are keyed by allowed hosts only.
pub fn collection_url(req: &HttpRequest) -> String {
    let origin = crate::proxy::origin(req);
    format!("{}://{}/todos/", origin.scheme, origin.host)
}

/// The request's `If-None-Match`, if any.
pub fn if_none_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
