//! `server.trusted_proxies`: addresses and CIDR ranges, parsed as the settings load.

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

#[cfg(test)]
mod tests {
    use super::ProxyNetwork;

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
