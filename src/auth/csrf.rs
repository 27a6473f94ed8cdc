//! Cross-site request forgery: an unsafe request that carries the session cookie must come from this
//! site's own pages.

use actix_web::http::header::{self, HeaderMap, HeaderValue};

use crate::proxy::Origin;

/// Whether `origin` (an `Origin` header) names this site's host: the one the request is for, as
/// `proxy::origin` works it out (behind a trusted proxy, the public one). The scheme is not
/// compared, so that a TLS proxy the operator has not listed does not refuse every write.
pub fn is_own_origin(origin: &HeaderValue, own: &Origin) -> bool {
    origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .is_some_and(|(_, host)| !own.host.is_empty() && host.eq_ignore_ascii_case(&own.host))
}

/// Whether a request comes from this site's own pages: `Origin` names this site, or, without
/// `Origin`, `Sec-Fetch-Site` says same-origin (or none: the user typed the address). A request
/// with neither header comes from no browser, and so carries no forged ambient credential.
pub fn is_same_origin(headers: &HeaderMap, own: &Origin) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return is_own_origin(origin, own);
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
        let own = Origin {
            scheme: "https",
            host: "todo.example:8080".into(),
            client: None,
        };
        let same = |pairs: &[(&'static str, &'static str)]| is_same_origin(&headers(pairs), &own);
        assert!(same(&[("origin", "https://todo.example:8080")]));
        assert!(same(&[("origin", "https://TODO.example:8080")]));
        assert!(!same(&[("origin", "https://evil.example")]));
        assert!(!same(&[("origin", "null")]));
        assert!(!same(&[("origin", "https://todo.example")]));
        assert!(same(&[("sec-fetch-site", "same-origin")]));
        assert!(!same(&[("sec-fetch-site", "cross-site")]));
        assert!(!same(&[("sec-fetch-site", "same-site")]));
        assert!(same(&[]));
    }
}
