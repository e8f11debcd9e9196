//! What a proxy does to headers: hop-by-hop headers removed in both
//! directions (RFC 9110 §7.6.1), and the client's address, scheme and host
//! passed on in `X-Forwarded-For` (appended), `X-Forwarded-Proto`,
//! `X-Forwarded-Host` (set by this hop) and `Forwarded` (RFC 7239, one
//! element appended).
//!
//! `X-Forwarded-For` and `Forwarded` keep what the client sent and add the
//! address this gateway saw last, like nginx's
//! `$proxy_add_x_forwarded_for`: an upstream must trust only the last entry
//! (or the last N behind N trusted proxies).

use std::fmt::Write as _;
use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;

/// `Keep-Alive`, which the `http` crate has no constant for.
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
/// `Proxy-Connection`, a non-standard hop-by-hop header old clients send.
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
/// `X-Forwarded-For`.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The connection a request arrived on, put in the request's extensions by
/// the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientInfo {
    /// The peer's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

impl ClientInfo {
    fn proto(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }
}

/// Removes the hop-by-hop headers: `Connection` and every header it names,
/// `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding` and
/// `Upgrade`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // `Connection: keep-alive` or `close` (the usual values) name no
    // other header to remove: skip collecting the names.
    let names_others = headers.get_all(header::CONNECTION).iter().any(|v| {
        v.as_bytes().split(|b| *b == b',').any(|n| {
            let n = n.trim_ascii();
            !(n.eq_ignore_ascii_case(b"keep-alive") || n.eq_ignore_ascii_case(b"close"))
        })
    });
    if names_others {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in [
        header::CONNECTION,
        KEEP_ALIVE,
        PROXY_CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    if headers.keys().any(|k| k.as_str().starts_with("proxy-")) {
        let proxy: Vec<HeaderName> = headers
            .keys()
            .filter(|k| k.as_str().starts_with("proxy-"))
            .cloned()
            .collect();
        for name in proxy {
            headers.remove(name);
        }
    }
}

/// The host the client asked for: the request target's authority (HTTP/2
/// `:authority`, or an HTTP/1.1 absolute-form target, which RFC 9112
/// §3.2.2 says wins over `Host`), else the `Host` header's value itself
/// (sharing its bytes, no copy).
pub fn request_host_value(parts: &Parts) -> Option<HeaderValue> {
    match parts.uri.authority() {
        Some(a) => HeaderValue::from_str(a.as_str()).ok(),
        None => parts.headers.get(header::HOST).cloned(),
    }
}

/// The host without its port, for route matching.
pub fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

/// Whether `host` is safe to copy into a quoted `Forwarded` parameter.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// Adds the forwarding headers for a request from `client` for `host`.
pub fn add_forwarded(headers: &mut HeaderMap, client: &ClientInfo, host: Option<&str>) {
    let ip = client.peer.ip();
    // X-Forwarded-For: the previous hops (all lines, in order), then this one.
    let xff = if headers.contains_key(&X_FORWARDED_FOR) {
        let mut xff = String::new();
        for line in headers.get_all(&X_FORWARDED_FOR) {
            if let Ok(v) = line.to_str() {
                if !v.trim().is_empty() {
                    xff.push_str(v.trim());
                    xff.push_str(", ");
                }
            }
        }
        let _ = write!(xff, "{ip}");
        HeaderValue::from_str(&xff).ok()
    } else {
        formatted(format_args!("{ip}"))
    };
    if let Some(v) = xff {
        headers.insert(X_FORWARDED_FOR, v);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(client.proto()));
    let host = host.filter(|h| plain_host(h));
    match host.and_then(|h| HeaderValue::from_str(h).ok()) {
        Some(v) => {
            headers.insert(X_FORWARDED_HOST, v);
        }
        None => {
            headers.remove(X_FORWARDED_HOST);
        }
    }
    // Forwarded (RFC 7239 §4): an IPv6 address is bracketed and quoted.
    let proto = client.proto();
    let element = match (ip, host) {
        (std::net::IpAddr::V4(v4), Some(h)) => {
            formatted(format_args!("for={v4};host=\"{h}\";proto={proto}"))
        }
        (std::net::IpAddr::V4(v4), None) => formatted(format_args!("for={v4};proto={proto}")),
        (std::net::IpAddr::V6(v6), Some(h)) => {
            formatted(format_args!("for=\"[{v6}]\";host=\"{h}\";proto={proto}"))
        }
        (std::net::IpAddr::V6(v6), None) => formatted(format_args!("for=\"[{v6}]\";proto={proto}")),
    };
    if let Some(v) = element {
        headers.append(header::FORWARDED, v);
    }
}

/// A header value written with `format_args!`, formatted on the stack
/// (one allocation, the value's own) unless it is long.
fn formatted(args: std::fmt::Arguments<'_>) -> Option<HeaderValue> {
    use std::io::Write as _;
    let mut buf = [0u8; 256];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    if cursor.write_fmt(args).is_ok() {
        let n = cursor.position() as usize;
        return HeaderValue::from_bytes(&buf[..n]).ok();
    }
    HeaderValue::from_str(&args.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_and_named_ones_too() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("proxy-foo", HeaderValue::from_static("1"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::TRAILER, HeaderValue::from_static("x"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }

    #[test]
    fn forwarded_headers_append_and_set() {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, HeaderValue::from_static("203.0.113.7"));
        h.insert(X_FORWARDED_PROTO, HeaderValue::from_static("gopher"));
        h.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=203.0.113.7"),
        );
        let client = ClientInfo {
            peer: "[::1]:5555".parse().unwrap(),
            tls: true,
        };
        add_forwarded(&mut h, &client, Some("api.example.com:8443"));
        assert_eq!(h[&X_FORWARDED_FOR], "203.0.113.7, ::1");
        assert_eq!(h[&X_FORWARDED_PROTO], "https");
        assert_eq!(h[&X_FORWARDED_HOST], "api.example.com:8443");
        let fwd: Vec<_> = h.get_all(header::FORWARDED).iter().collect();
        assert_eq!(
            fwd,
            [
                "for=203.0.113.7",
                "for=\"[::1]\";host=\"api.example.com:8443\";proto=https"
            ]
        );
        add_forwarded(&mut h, &client, Some("evil\"host"));
        assert!(h.get(X_FORWARDED_HOST).is_none());
    }

    #[test]
    fn the_usual_connection_values_still_go() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h);
        let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }

    #[test]
    fn forwarded_headers_for_a_first_hop() {
        let mut h = HeaderMap::new();
        let client = ClientInfo {
            peer: "192.0.2.1:5555".parse().unwrap(),
            tls: false,
        };
        add_forwarded(&mut h, &client, None);
        assert_eq!(h[&X_FORWARDED_FOR], "192.0.2.1");
        assert_eq!(h[&X_FORWARDED_PROTO], "http");
        assert!(h.get(X_FORWARDED_HOST).is_none());
        assert_eq!(h[header::FORWARDED], "for=192.0.2.1;proto=http");
        let mut h = HeaderMap::new();
        let long = format!("{}.example", "a".repeat(300));
        add_forwarded(&mut h, &client, Some(&long));
        assert_eq!(
            h[header::FORWARDED],
            format!("for=192.0.2.1;host=\"{long}\";proto=http").as_str()
        );
    }

    #[test]
    fn ports_are_stripped_for_matching() {
        assert_eq!(host_without_port("a.example:8080"), "a.example");
        assert_eq!(host_without_port("a.example"), "a.example");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
    }
}
