//! Cross-site request forgery: an unsafe request that a browser sends with the session cookie
//! must come from the page's own origin.

use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
pub fn is_own_origin(origin: &HeaderValue, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, host)| host.as_bytes());
    host.is_some() && host == origin_host
}

/// Whether a request comes from this site's own pages: `Origin` names this host, or, without
/// `Origin`, `Sec-Fetch-Site` says same-origin (or none: the user typed the address). A request
/// with neither header comes from no browser, and so carries no forged ambient credential.
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return is_own_origin(origin, headers);
    }
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        None | Some(b"same-origin" | b"none") => true,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn origin_decides_then_fetch_metadata() {
        let host = ("host", "todo.example:8080");
        assert!(is_same_origin(&headers(&[
            host,
            ("origin", "https://todo.example:8080")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "https://todo.example")
        ])));
        assert!(is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(is_same_origin(&headers(&[host])));
    }
}
