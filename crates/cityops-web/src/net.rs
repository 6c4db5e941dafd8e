//! Where a request came from: the TCP peer, trusted reverse proxies (`trusted_proxies`, as IP
//! addresses or CIDR blocks) and what they say — the client's address (`X-Forwarded-For`) and
//! whether the client spoke HTTPS (`X-Forwarded-Proto`, `Forwarded: proto=`). A forwarding header
//! from anyone else is ignored.
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

use crate::state::WebConfig;

/// An IP address block (`10.0.0.0/8`, `fd00::/8`), or one address (`127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an IP address or CIDR block");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }
}

/// The TCP peer's address (absent for in-process requests without `ConnectInfo`).
pub(crate) fn peer(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_canonical())
}

/// Whether the peer is one of the configured reverse proxies.
pub(crate) fn from_trusted_proxy(extensions: &Extensions, config: &WebConfig) -> bool {
    peer(extensions).is_some_and(|ip| config.trusted_proxies.iter().any(|c| c.contains(ip)))
}

/// The first value of a comma-separated header.
fn first_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .split(',')
        .next()
        .map(str::trim)
}

/// Whether the client reached us over HTTPS: always when `secure_cookies` is configured, else
/// when a trusted proxy says so (`X-Forwarded-Proto: https` or `Forwarded: proto=https`).
pub fn is_https(headers: &HeaderMap, extensions: &Extensions, config: &WebConfig) -> bool {
    if config.secure_cookies {
        return true;
    }
    if !from_trusted_proxy(extensions, config) {
        return false;
    }
    let xfp =
        first_value(headers, "x-forwarded-proto").is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let forwarded = first_value(headers, "forwarded").is_some_and(|element| {
        element.split(';').any(|pair| {
            pair.trim().split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("proto")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
            })
        })
    });
    xfp || forwarded
}

/// The client's address: behind a trusted proxy the right-most `X-Forwarded-For` entry that is
/// not itself a trusted proxy; with the older `trust_forwarded_for` the first entry; else the TCP
/// peer. Only well-formed IP addresses are taken from the header. `None` in-process.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    config: &WebConfig,
) -> Option<IpAddr> {
    let peer = peer(extensions);
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|e| e.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()))
            .collect::<Vec<_>>()
    };
    if from_trusted_proxy(extensions, config) {
        let trusted = |ip: &IpAddr| config.trusted_proxies.iter().any(|c| c.contains(*ip));
        // Walk from the proxy towards the client; stop at a malformed entry.
        for entry in forwarded().into_iter().rev() {
            match entry {
                Ok(ip) if trusted(&ip) => continue,
                Ok(ip) => return Some(ip),
                Err(_) => break,
            }
        }
        return peer;
    }
    if config.trust_forwarded_for
        && let Some(Ok(first)) = forwarded().into_iter().next()
    {
        return Some(first);
    }
    peer
}

/// Whether the request comes straight from this machine: the TCP peer is a loopback address and
/// no proxy forwarded it (a proxy on the same host would make every client look local).
pub(crate) fn direct_loopback(headers: &HeaderMap, extensions: &Extensions) -> bool {
    peer(extensions).is_some_and(|ip| ip.is_loopback())
        && !["x-forwarded-for", "forwarded", "x-real-ip"]
            .iter()
            .any(|h| headers.contains_key(*h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ext(ip: &str) -> Extensions {
        let mut e = Extensions::new();
        e.insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 4000)));
        e
    }

    fn config(proxies: &[&str]) -> WebConfig {
        WebConfig {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..WebConfig::default()
        }
    }

    #[test]
    fn cidr_blocks() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(
            c.contains("::ffff:10.1.0.9".parse().unwrap()),
            "IPv4-mapped"
        );
        let one: Cidr = "192.0.2.1".parse().unwrap();
        assert!(one.contains("192.0.2.1".parse().unwrap()));
        assert!(!one.contains("192.0.2.2".parse().unwrap()));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn https_only_from_a_trusted_proxy_or_by_configuration() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let c = config(&["10.0.0.0/8"]);
        assert!(is_https(&h, &ext("10.0.0.5"), &c));
        assert!(
            !is_https(&h, &ext("203.0.113.9"), &c),
            "a stranger's header"
        );
        assert!(!is_https(&h, &Extensions::new(), &c));
        let mut f = HeaderMap::new();
        f.insert(
            "forwarded",
            HeaderValue::from_static("for=198.51.100.1;Proto=\"HTTPS\";by=x"),
        );
        assert!(is_https(&f, &ext("10.0.0.5"), &c));
        f.insert(
            "forwarded",
            HeaderValue::from_static("for=198.51.100.1;proto=http"),
        );
        assert!(!is_https(&f, &ext("10.0.0.5"), &c));
        let forced = WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        };
        assert!(is_https(&HeaderMap::new(), &Extensions::new(), &forced));
    }

    #[test]
    fn client_address_through_trusted_proxies_only() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 198.51.100.7, 10.0.0.2"),
        );
        let c = config(&["10.0.0.0/8"]);
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // The spoofable first entry is not taken: the last one the trusted proxies did not add is.
        assert_eq!(client_ip(&h, &ext("10.0.0.1"), &c), ip("198.51.100.7"));
        assert_eq!(client_ip(&h, &ext("203.0.113.9"), &c), ip("203.0.113.9"));
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("not-an-address"),
        );
        assert_eq!(client_ip(&h, &ext("10.0.0.1"), &c), ip("10.0.0.1"));
        assert!(direct_loopback(&HeaderMap::new(), &ext("127.0.0.1")));
        assert!(direct_loopback(&HeaderMap::new(), &ext("::1")));
        assert!(
            !direct_loopback(&h, &ext("127.0.0.1")),
            "forwarded by a local proxy"
        );
        assert!(!direct_loopback(&HeaderMap::new(), &ext("192.0.2.1")));
        assert!(!direct_loopback(&HeaderMap::new(), &Extensions::new()));
    }
}
