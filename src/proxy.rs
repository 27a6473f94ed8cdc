//! Trusted proxies and allowed hosts: the scheme, host and client address a request is for.
//! Forwarded headers (`Forwarded`, `X-Forwarded-For`, `-Proto`, `-Host`) are believed only from
//! the peers in `server.trusted_proxies`; anyone else gets the connection's own `Host` and scheme.
//! A request for a host outside `server.allowed_hosts` (when set) is answered 400 before any
//! handler runs. Handlers ask `proxy::origin(&req)`; they never read those headers themselves.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError, web};

use crate::config::{AllowedHost, ProxyHeader, ProxyNetwork, ServerSettings, is_host};
use crate::error::AppError;

/// Where a request is addressed and who sent it, as far as this server can trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The host the client asked for, with its port if it gave one, lower-cased.
    pub host: String,
    /// The client's address: the connection's peer, or the nearest untrusted address a trusted
    /// proxy forwarded.
    pub client: Option<IpAddr>,
}

/// The operator's proxies and hosts, from `server.trusted_proxies` and `server.allowed_hosts`.
#[derive(Debug, Clone)]
pub struct Proxies {
    trusted: Vec<ProxyNetwork>,
    allowed_hosts: Vec<AllowedHost>,
    /// The header the trusted proxies write; the other kind is never read.
    header: ProxyHeader,
    /// `Strict-Transport-Security` for answers over HTTPS, if any.
    hsts: Option<header::HeaderValue>,
}

impl Default for Proxies {
    fn default() -> Self {
        Self {
            trusted: Vec::new(),
            allowed_hosts: Vec::new(),
            header: ProxyHeader::XForwardedFor,
            hsts: None,
        }
    }
}

impl Proxies {
    pub fn from_settings(settings: &ServerSettings) -> Self {
        Self {
            trusted: settings.trusted_proxies.clone(),
            allowed_hosts: settings.allowed_hosts.clone(),
            header: settings.proxy_header,
            hsts: (!settings.hsts_max_age.is_zero())
                .then(|| format!("max-age={}", settings.hsts_max_age.as_secs()))
                .and_then(|value| header::HeaderValue::from_str(&value).ok()),
        }
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&address))
    }

    /// Whether `host` (with or without a port) may be served: any, when no hosts are set.
    pub fn allows(&self, host: &str) -> bool {
        if self.allowed_hosts.is_empty() {
            return true;
        }
        let name = without_port(host);
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.matches(name))
    }

    /// The request's origin: from forwarded headers if the peer is a trusted proxy (and the
    /// headers are well-formed), else from the connection.
    pub fn origin_of(&self, peer: Option<IpAddr>, secure: bool, headers: &HeaderMap) -> Origin {
        let own = Origin {
            scheme: if secure { "https" } else { "http" },
            host: header_text(headers, header::HOST)
                .map(str::to_ascii_lowercase)
                .unwrap_or_default(),
            client: peer,
        };
        let Some(peer) = peer.filter(|peer| self.trusts(*peer)) else {
            return own;
        };
        let forwarded = Forwarded::parse(headers, self.header);
        Origin {
            scheme: forwarded
                .proto
                .and_then(|proto| match proto.to_ascii_lowercase().as_str() {
                    "https" => Some("https"),
                    "http" => Some("http"),
                    _ => None,
                })
                .unwrap_or(own.scheme),
            host: forwarded
                .host
                .map(str::to_ascii_lowercase)
                .filter(|host| is_host(host))
                .unwrap_or(own.host),
            client: Some(
                forwarded
                    .chain
                    .iter()
                    .rev()
                    .find(|address| !self.trusts(**address))
                    .copied()
                    .unwrap_or(peer),
            ),
        }
    }
}

/// What the proxy in front of us said, in the one kind of header it writes: the last `Forwarded`
/// element, or the `X-Forwarded-*` headers; and the chain of client addresses, nearest last.
struct Forwarded<'a> {
    proto: Option<&'a str>,
    host: Option<&'a str>,
    chain: Vec<IpAddr>,
}

impl<'a> Forwarded<'a> {
    fn parse(headers: &'a HeaderMap, kind: ProxyHeader) -> Self {
        match kind {
            ProxyHeader::Forwarded => Self::rfc7239(headers),
            ProxyHeader::XForwardedFor => Self::x_forwarded(headers),
        }
    }

    fn rfc7239(headers: &'a HeaderMap) -> Self {
        let mut forwarded = Forwarded {
            proto: None,
            host: None,
            chain: Vec::new(),
        };
        let elements = headers
            .get_all(header::FORWARDED)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for element in elements {
            for pair in element.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => forwarded.chain.extend(forwarded_address(value)),
                    // Only the last element's: the one the nearest proxy added.
                    "proto" => forwarded.proto = Some(value),
                    "host" => forwarded.host = Some(value),
                    _ => {}
                }
            }
        }
        forwarded
    }

    fn x_forwarded(headers: &'a HeaderMap) -> Self {
        let last = |name| {
            header_text(headers, name)
                .and_then(|value| value.rsplit(',').next())
                .map(str::trim)
        };
        Forwarded {
            proto: last("x-forwarded-proto"),
            host: last("x-forwarded-host"),
            chain: headers
                .get_all("x-forwarded-for")
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .filter_map(|address| forwarded_address(address.trim()))
                .collect(),
        }
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:80` or `2001:db8::1`; obfuscated names give nothing.
fn forwarded_address(value: &str) -> Option<IpAddr> {
    if let Ok(address) = IpAddr::from_str(value) {
        return Some(address);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest
            .split_once(']')
            .and_then(|(ip, _)| IpAddr::from_str(ip).ok());
    }
    value
        .rsplit_once(':')
        .and_then(|(ip, _)| IpAddr::from_str(ip).ok())
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(ip, _)| &host[..=ip.len()]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Middleware: works out the request's origin once (400 for a host that is not allowed, or a
/// missing or malformed `Host`), and keeps it in the request for `origin`.
pub async fn check_host(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let default = Proxies::default();
    let proxies = req
        .app_data::<web::Data<Proxies>>()
        .map_or(&default, |data| data.get_ref());
    let origin = proxies.origin_of(
        req.peer_addr().map(|addr| addr.ip()),
        req.app_config().secure(),
        req.headers(),
    );
    // Load balancers ask for health by address; the answers name no host.
    let probe = matches!(req.path(), "/healthz" | "/readyz");
    if !probe && (!is_host(&origin.host) || !proxies.allows(&origin.host)) {
        let error = AppError::BadRequest(format!(
            "this server does not answer for the host {:?}",
            origin.host
        ));
        let response = error.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    let hsts = proxies
        .hsts
        .as_ref()
        .filter(|_| origin.scheme == "https")
        .cloned();
    req.extensions_mut().insert(origin);
    let mut response = next.call(req).await?;
    if let Some(hsts) = hsts {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    Ok(response.map_into_left_body())
}

/// The request's origin, as the middleware worked it out (or, outside it, from the connection).
pub fn origin(req: &HttpRequest) -> Origin {
    if let Some(origin) = req.extensions().get::<Origin>() {
        return origin.clone();
    }
    Proxies::default().origin_of(
        req.peer_addr().map(|addr| addr.ip()),
        req.app_config().secure(),
        req.headers(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn proxies(trusted: &[&str], hosts: &[&str]) -> Proxies {
        let settings = ServerSettings {
            trusted_proxies: trusted
                .iter()
                .map(|s| s.parse().expect("a network"))
                .collect(),
            allowed_hosts: hosts.iter().map(|s| s.parse().expect("a host")).collect(),
            ..base_settings()
        };
        Proxies::from_settings(&settings)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxies = proxies(&["10.0.0.0/8"], &[]);
        let sent = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "javascript"),
            ("x-forwarded-for", "6.6.6.6"),
        ]);
        let stranger = proxies.origin_of("1.2.3.4".parse().ok(), false, &sent);
        assert_eq!(stranger.scheme, "http");
        assert_eq!(stranger.host, "internal:8080");
        assert_eq!(stranger.client, "1.2.3.4".parse().ok());

        let via_proxy = proxies.origin_of(PROXY.parse().ok(), false, &sent);
        assert_eq!(
            via_proxy.host, "evil.example",
            "a trusted proxy says the host"
        );
        assert_eq!(via_proxy.scheme, "http", "but only http or https");
        assert_eq!(via_proxy.client, "6.6.6.6".parse().ok());
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_address() {
        let proxies = proxies(&["10.0.0.0/8"], &[]);
        let sent = headers(&[
            ("host", "todo.example"),
            ("x-forwarded-for", "9.9.9.9, 203.0.113.7, 10.0.0.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let origin = proxies.origin_of(PROXY.parse().ok(), false, &sent);
        assert_eq!(
            origin.client,
            "203.0.113.7".parse().ok(),
            "not the forged 9.9.9.9"
        );
        assert_eq!(origin.scheme, "https");
        let rfc = headers(&[
            ("host", "internal"),
            (
                "forwarded",
                "for=9.9.9.9;proto=http, for=\"[2001:db8::7]:4711\";proto=https;host=todo.example",
            ),
        ]);
        let proxies = Proxies {
            header: ProxyHeader::Forwarded,
            ..proxies
        };
        let origin = proxies.origin_of(PROXY.parse().ok(), false, &rfc);
        assert_eq!(origin.client, "2001:db8::7".parse().ok());
        assert_eq!(
            (origin.scheme, origin.host.as_str()),
            ("https", "todo.example")
        );
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        let x_forwarded = proxies(&["10.0.0.0/8"], &[]);
        let forwarded = Proxies {
            header: ProxyHeader::Forwarded,
            ..x_forwarded.clone()
        };
        // nginx appends the peer to X-Forwarded-For and passes the client's own Forwarded on.
        let sent = headers(&[
            ("host", "todo.example"),
            ("forwarded", "for=6.6.6.6;proto=https;host=evil.example"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "http"),
        ]);
        let origin = x_forwarded.origin_of(PROXY.parse().ok(), false, &sent);
        assert_eq!(origin.client, "203.0.113.7".parse().ok());
        assert_eq!(
            (origin.scheme, origin.host.as_str()),
            ("http", "todo.example")
        );
        // A proxy that writes Forwarded: X-Forwarded-* are the client's and are ignored.
        let sent = headers(&[
            ("host", "todo.example"),
            ("forwarded", "for=203.0.113.8;proto=https"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let origin = forwarded.origin_of(PROXY.parse().ok(), false, &sent);
        assert_eq!(origin.client, "203.0.113.8".parse().ok());
        assert_eq!(
            (origin.scheme, origin.host.as_str()),
            ("https", "todo.example")
        );
        // Without its header, the client is the proxy itself.
        let none = headers(&[("host", "todo.example"), ("x-forwarded-for", "6.6.6.6")]);
        let origin = forwarded.origin_of(PROXY.parse().ok(), false, &none);
        assert_eq!(origin.client, PROXY.parse().ok());
    }

    #[test]
    fn allowed_hosts_match_names_and_subdomains_whatever_the_port() {
        let proxies = proxies(&[], &["todo.example", ".corp.example"]);
        assert!(proxies.allows("todo.example"));
        assert!(proxies.allows("todo.example:8443"));
        assert!(proxies.allows("corp.example"));
        assert!(proxies.allows("team.corp.example"));
        assert!(!proxies.allows("evil.example"));
        assert!(!proxies.allows("todo.example.evil"));
        assert!(!proxies.allows("xcorp.example"));
        assert!(Proxies::default().allows("anything"));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = "10.0.0.0/33".parse::<ProxyNetwork>().unwrap_err();
        assert!(err.contains("trusted_proxies"), "{err}");
        let err = "todo.example/path".parse::<AllowedHost>().unwrap_err();
        assert!(err.contains("allowed_hosts"), "{err}");
    }

    fn base_settings() -> ServerSettings {
        crate::config::Settings::load_from(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            &std::collections::HashMap::new(),
        )
        .expect("settings")
        .server
    }
}
