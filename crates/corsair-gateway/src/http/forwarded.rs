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

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::OnceLock;

use http::header::{self, Entry, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::Version;

/// `X-Forwarded-For`.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The connection a request arrived on, put in the request's extensions by
/// the listener. The address is formatted once per connection, not once
/// per request.
#[derive(Debug)]
pub struct ClientInfo {
    /// Whether the connection is TLS.
    tls: bool,
    /// The peer's IP as `X-Forwarded-For` writes it.
    ip: HeaderValue,
    /// The peer's `for=` parameter as `Forwarded` writes it (RFC 7239 §6:
    /// an IPv6 address bracketed and quoted).
    forwarded_for: HeaderValue,
    /// The connection's first `Forwarded` element: the requests of one
    /// connection nearly always name the same host, so it is built once,
    /// and read without a lock.
    first_element: OnceLock<Element>,
}

/// A `Forwarded` element, and where in it the host it names sits.
#[derive(Debug)]
struct Element {
    value: HeaderValue,
    /// The byte range of the `host` parameter's value, if there is one.
    host: Option<Range<usize>>,
}

impl Element {
    /// Whether this element names `host` (or, for `None`, no host).
    fn names(&self, host: Option<&HeaderValue>) -> bool {
        match (host, &self.host) {
            (None, None) => true,
            (Some(host), Some(range)) => {
                self.value.as_bytes().get(range.clone()) == Some(host.as_bytes())
            }
            _ => false,
        }
    }
}

impl ClientInfo {
    /// The connection from `peer`, over TLS or not.
    pub fn new(peer: SocketAddr, tls: bool) -> ClientInfo {
        let ip = peer.ip();
        let for_param = match ip {
            IpAddr::V4(v4) => format!("for={v4}"),
            IpAddr::V6(v6) => format!("for=\"[{v6}]\""),
        };
        ClientInfo {
            tls,
            // An IP address's text is always a valid header value.
            ip: HeaderValue::from_str(&ip.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
            forwarded_for: HeaderValue::from_str(&for_param)
                .unwrap_or_else(|_| HeaderValue::from_static("for=unknown")),
            first_element: OnceLock::new(),
        }
    }

    /// This hop's `Forwarded` element (RFC 7239 §4):
    /// `for=...[;host="..."];proto=...`; `host` is a [`plain_host`]. The
    /// connection's first one is kept and compared with the host in place:
    /// no lock and no clone of the request's value per request.
    fn forwarded_element(&self, host: Option<&HeaderValue>) -> HeaderValue {
        if let Some(first) = self.first_element.get() {
            if first.names(host) {
                return first.value.clone();
            }
            return self.element(host).value;
        }
        let element = self.element(host);
        let value = element.value.clone();
        let _ = self.first_element.set(element);
        value
    }

    /// Builds the `Forwarded` element for `host`.
    fn element(&self, host: Option<&HeaderValue>) -> Element {
        let proto = self.proto();
        let for_param = self.forwarded_for.as_bytes();
        let host_bytes = host.map_or(&[][..], HeaderValue::as_bytes);
        let mut element = Vec::with_capacity(for_param.len() + host_bytes.len() + 24);
        element.extend_from_slice(for_param);
        let mut range = None;
        if !host_bytes.is_empty() {
            element.extend_from_slice(b";host=\"");
            range = Some(element.len()..element.len() + host_bytes.len());
            element.extend_from_slice(host_bytes);
            element.push(b'"');
        }
        element.extend_from_slice(b";proto=");
        element.extend_from_slice(proto.as_bytes());
        // Made of header-safe parts only; the fallback cannot happen.
        match HeaderValue::from_maybe_shared(bytes::Bytes::from(element)) {
            Ok(value) => Element { value, host: range },
            Err(_) => Element {
                value: HeaderValue::from_static("for=unknown"),
                host: None,
            },
        }
    }

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
    // One scan over the names (comparing standard names is comparing small
    // integers): most messages carry none, or only `Connection:
    // keep-alive`, and nothing is allocated for them.
    let (mut connection, mut others) = (false, false);
    for name in headers.keys() {
        if name == header::CONNECTION {
            connection = true;
        } else if is_hop_by_hop(name) {
            others = true;
        }
    }
    if connection {
        // Taken out and read in one lookup (when no header of the map has
        // several lines, `remove` returns Connection's only one). The
        // headers it names go too (RFC 9110 §7.6.1); `keep-alive` and
        // `close` are its usual values and name nothing else.
        let mut named = Vec::new();
        let mut read = |value: &HeaderValue| {
            // The usual value, alone, names nothing: no need to split it.
            let whole = value.as_bytes();
            if whole.eq_ignore_ascii_case(b"keep-alive") || whole.eq_ignore_ascii_case(b"close") {
                return;
            }
            for token in whole.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"keep-alive") || token.eq_ignore_ascii_case(b"close")
                {
                    continue;
                }
                if let Ok(name) = HeaderName::from_bytes(token) {
                    named.push(name);
                }
            }
        };
        if headers.len() == headers.keys_len() {
            if let Some(value) = headers.remove(header::CONNECTION) {
                read(&value);
            }
        } else if let Entry::Occupied(entry) = headers.entry(header::CONNECTION) {
            let (_, values) = entry.remove_entry_mult();
            for value in values {
                read(&value);
            }
        }
        for name in named {
            headers.remove(name);
        }
    }
    if !others {
        return;
    }
    // Each round removes a name that is present, so this ends.
    while let Some(name) = headers.keys().find(|n| is_hop_by_hop(n)).cloned() {
        headers.remove(name);
    }
}

/// Whether `name` is one of the hop-by-hop headers [`strip_hop_by_hop`]
/// always removes (`Connection` names the others).
fn is_hop_by_hop(name: &HeaderName) -> bool {
    // Compared as text: comparing with a `HeaderName` constant builds (and
    // drops) that constant each time.
    let name = name.as_str();
    matches!(
        name,
        "connection" | "keep-alive" | "te" | "trailer" | "transfer-encoding" | "upgrade"
    ) || name.starts_with("proxy-")
}

/// Removes every header named in `names` (`strip_request_headers`: the
/// client-IP claims the gateway does not vouch for). One scan of a small
/// map's names first: most requests carry none of them.
pub fn strip_named(headers: &mut HeaderMap, names: &[HeaderName]) {
    if names.is_empty() {
        return;
    }
    if headers.keys_len() <= 32 && !headers.keys().any(|n| names.contains(n)) {
        return;
    }
    for name in names {
        headers.remove(name);
    }
}

/// Joins the `cookie` fields of a request into one, separated by `; `
/// (RFC 9113 §8.2.3: an HTTP/2 client may send each cookie pair as a field
/// of its own, and an HTTP/1.1 upstream expects one). Nothing is done, and
/// nothing looked up, when no header of the map has several lines.
pub fn join_cookies(headers: &mut HeaderMap) {
    if headers.len() == headers.keys_len() {
        return;
    }
    let Entry::Occupied(mut entry) = headers.entry(header::COOKIE) else {
        return;
    };
    if entry.iter().nth(1).is_none() {
        return;
    }
    let mut joined = Vec::new();
    for crumb in entry.iter() {
        if !joined.is_empty() {
            joined.extend_from_slice(b"; ");
        }
        joined.extend_from_slice(crumb.as_bytes());
    }
    // Made of valid field values and "; ": always valid.
    if let Ok(value) = HeaderValue::from_maybe_shared(bytes::Bytes::from(joined)) {
        entry.insert(value);
    }
}

/// Appends this hop to `Via` (RFC 9110 §7.6.3: a proxy sends its own
/// entry, after those it received, so an upstream can tell what the client
/// claimed from what the gateway saw), with the protocol the request came
/// in on.
pub fn add_via(headers: &mut HeaderMap, version: Version) {
    let entry = match version {
        Version::HTTP_2 => "2 corsair",
        Version::HTTP_3 => "3 corsair",
        Version::HTTP_10 => "1.0 corsair",
        _ => "1.1 corsair",
    };
    headers.append(header::VIA, HeaderValue::from_static(entry));
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
fn plain_host(host: &[u8]) -> bool {
    !host.is_empty()
        && host
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(b))
}

/// Adds the forwarding headers for a request from `client` for `host` (the
/// `Host` the client asked for).
pub fn add_forwarded(headers: &mut HeaderMap, client: &ClientInfo, host: Option<&HeaderValue>) {
    // X-Forwarded-For: the previous hops (all lines, in order), then this
    // one. One lookup: most requests come without it.
    match headers.entry(X_FORWARDED_FOR) {
        Entry::Vacant(entry) => {
            entry.insert(client.ip.clone());
        }
        Entry::Occupied(mut entry) => {
            let mut xff = String::new();
            for line in entry.iter() {
                if let Ok(v) = line.to_str() {
                    if !v.trim().is_empty() {
                        xff.push_str(v.trim());
                        xff.push_str(", ");
                    }
                }
            }
            xff.push_str(client.ip.to_str().unwrap_or("unknown"));
            if let Ok(v) = HeaderValue::from_str(&xff) {
                // Replaces every earlier line.
                entry.insert(v);
            }
        }
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(client.proto()));
    let host = host.filter(|h| plain_host(h.as_bytes()));
    match host {
        // The client's own value, shared, not copied.
        Some(v) => {
            headers.insert(X_FORWARDED_HOST, v.clone());
        }
        None => {
            headers.remove(X_FORWARDED_HOST);
        }
    }
    headers.append(header::FORWARDED, client.forwarded_element(host));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_headers_are_stripped_and_others_kept() {
        let names: Vec<HeaderName> = ["x-real-ip", "true-client-ip"]
            .iter()
            .map(|n| HeaderName::from_static(n))
            .collect();
        let mut h = HeaderMap::new();
        h.insert("x-real-ip", HeaderValue::from_static("1.2.3.4"));
        h.append("X-Real-IP", HeaderValue::from_static("5.6.7.8"));
        h.insert("true-client-ip", HeaderValue::from_static("1.2.3.4"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_named(&mut h, &names);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["x-kept"]);
        strip_named(&mut h, &[]);
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn cookie_crumbs_are_joined_in_order() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("c=3"));
        h.append(header::ACCEPT, HeaderValue::from_static("*/*"));
        join_cookies(&mut h);
        let all: Vec<_> = h.get_all(header::COOKIE).iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);
        // One field stays as it is.
        join_cookies(&mut h);
        assert_eq!(h.get(header::COOKIE).unwrap(), "a=1; b=2; c=3");
    }

    #[test]
    fn via_gets_this_hop_after_the_received_entries() {
        let mut h = HeaderMap::new();
        h.insert(header::VIA, HeaderValue::from_static("1.1 spoofed"));
        add_via(&mut h, Version::HTTP_2);
        let all: Vec<_> = h.get_all(header::VIA).iter().collect();
        assert_eq!(all, ["1.1 spoofed", "2 corsair"]);
    }

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
    fn every_connection_line_is_read() {
        let mut h = HeaderMap::new();
        h.append(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        h.append(header::CONNECTION, HeaderValue::from_static("x-one"));
        h.insert("x-one", HeaderValue::from_static("1"));
        h.append("x-kept", HeaderValue::from_static("1"));
        h.append("x-kept", HeaderValue::from_static("2"));
        strip_hop_by_hop(&mut h);
        let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
        assert_eq!(h.get_all("x-kept").iter().count(), 2);
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
        let client = ClientInfo::new("[::1]:5555".parse().unwrap(), true);
        let api = HeaderValue::from_static("api.example.com:8443");
        add_forwarded(&mut h, &client, Some(&api));
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
        // The next request on the connection names another host: the
        // element remembered for the first one is not reused.
        let mut h = HeaderMap::new();
        add_forwarded(
            &mut h,
            &client,
            Some(&HeaderValue::from_static("evil\"host")),
        );
        assert!(h.get(X_FORWARDED_HOST).is_none());
        assert_eq!(h[header::FORWARDED], "for=\"[::1]\";proto=https");
        let mut h = HeaderMap::new();
        add_forwarded(&mut h, &client, Some(&api));
        assert_eq!(
            h[header::FORWARDED],
            "for=\"[::1]\";host=\"api.example.com:8443\";proto=https"
        );
        // Another host, and one that is a prefix of the first: each named
        // as it is.
        for other in ["b.example.com", "api.example.com", "api.example.com:84"] {
            let mut h = HeaderMap::new();
            add_forwarded(&mut h, &client, Some(&HeaderValue::from_static(other)));
            assert_eq!(
                h[header::FORWARDED],
                format!("for=\"[::1]\";host=\"{other}\";proto=https").as_str()
            );
        }
    }

    #[test]
    fn a_message_without_hop_by_hop_headers_is_untouched() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("a.example"));
        h.append("x-kept", HeaderValue::from_static("1"));
        h.append("x-kept", HeaderValue::from_static("2"));
        let before = h.clone();
        strip_hop_by_hop(&mut h);
        assert_eq!(h, before);
        // Each kind alone is still found.
        for name in [
            "te",
            "trailer",
            "upgrade",
            "keep-alive",
            "proxy-x",
            "connection",
        ] {
            let mut h = before.clone();
            h.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static("x"),
            );
            strip_hop_by_hop(&mut h);
            assert_eq!(h, before, "{name} was kept");
        }
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
        let client = ClientInfo::new("192.0.2.1:5555".parse().unwrap(), false);
        add_forwarded(&mut h, &client, None);
        assert_eq!(h[&X_FORWARDED_FOR], "192.0.2.1");
        assert_eq!(h[&X_FORWARDED_PROTO], "http");
        assert!(h.get(X_FORWARDED_HOST).is_none());
        assert_eq!(h[header::FORWARDED], "for=192.0.2.1;proto=http");
        let mut h = HeaderMap::new();
        let long = format!("{}.example", "a".repeat(300));
        add_forwarded(&mut h, &client, HeaderValue::from_str(&long).ok().as_ref());
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
