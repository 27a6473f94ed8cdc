//! Where the server stands on the network: `server.trusted_proxies` (addresses and CIDR ranges)
//! and `server.allowed_hosts` (host names), parsed as the settings load.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::Deserialize;

/// One trusted proxy: an address (a network of one) or a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProxyNetwork(IpNet);

impl ProxyNetwork {
    pub fn contains(&self, address: &IpAddr) -> bool {
        self.0.contains(address)
    }
}

impl FromStr for ProxyNetwork {
    type Err = String;

    fn from_str(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        IpNet::from_str(entry)
            .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
            .map(ProxyNetwork)
            .map_err(|_| {
                format!(
                    "server.trusted_proxies: {entry:?} is not an IP address or a CIDR range such \
                     as 10.0.0.0/8"
                )
            })
    }
}

impl TryFrom<String> for ProxyNetwork {
    type Error = String;

    fn try_from(entry: String) -> Result<Self, String> {
        entry.parse()
    }
}

/// One host the server answers for: a name (`todo.example.com`), or a domain with its subdomains
/// (`.example.com`), in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AllowedHost(String);

impl AllowedHost {
    /// Whether `name` (a host without its port, in lower case) is this one, or under it.
    pub fn matches(&self, name: &str) -> bool {
        match self.0.strip_prefix('.') {
            Some(domain) => name == domain || name.ends_with(self.0.as_str()),
            None => name == self.0,
        }
    }
}

impl PartialEq<&str> for AllowedHost {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl FromStr for AllowedHost {
    type Err = String;

    fn from_str(host: &str) -> Result<Self, String> {
        let host = host.trim().to_ascii_lowercase();
        let name = host.strip_prefix('.').unwrap_or(&host);
        if is_host(name) {
            Ok(AllowedHost(host))
        } else {
            Err(format!(
                "server.allowed_hosts: {host:?} is not a host name such as todo.example.com, or \
                 .example.com for it and its subdomains"
            ))
        }
    }
}

impl TryFrom<String> for AllowedHost {
    type Error = String;

    fn try_from(host: String) -> Result<Self, String> {
        host.parse()
    }
}

/// Whether `host` could be a host (a name, an IPv4 address or a bracketed IPv6 one, with or
/// without a port): what a `Host` header or an allowed host may hold.
pub fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::{AllowedHost, ProxyNetwork};

    #[test]
    fn allowed_hosts_are_names_or_domains_in_lower_case() {
        let host: AllowedHost = " Todo.Example ".parse().unwrap();
        assert!(host == "todo.example");
        let domain: AllowedHost = ".corp.example".parse().unwrap();
        assert!(domain.matches("team.corp.example") && domain.matches("corp.example"));
        assert!(!domain.matches("xcorp.example"));
        let err = "todo.example/path".parse::<AllowedHost>().unwrap_err();
        assert!(err.contains("server.allowed_hosts"), "{err}");
        assert!(".".parse::<AllowedHost>().is_err());
    }

    #[test]
    fn addresses_and_ranges_parse_and_nothing_else_does() {
        let one: ProxyNetwork = "10.1.2.3".parse().unwrap();
        assert!(one.contains(&"10.1.2.3".parse().unwrap()));
        assert!(!one.contains(&"10.1.2.4".parse().unwrap()));
        let range: ProxyNetwork = "fd00::/8".parse().unwrap();
        assert!(range.contains(&"fd12::1".parse().unwrap()));
        let err = "proxy.internal".parse::<ProxyNetwork>().unwrap_err();
        assert!(err.contains("server.trusted_proxies"), "{err}");
    }
}
