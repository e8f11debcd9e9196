//! WebSocket upgrades through the gateway (RFC 9110 §7.8, RFC 6455 §4).
//!
//! `Connection` and `Upgrade` are hop-by-hop, so a proxy passes an upgrade
//! on only on purpose: the gateway forwards the two headers on a request
//! that asks for a WebSocket (and for no other protocol: see
//! [`requested`]), and when the upstream answers
//! `101 Switching Protocols` it hands the 101 to the client and then copies
//! bytes both ways between the two connections until either side closes.
//!
//! CORS does not cover WebSockets: a browser opens a socket to any origin
//! and never looks for `Access-Control-Allow-Origin` on the 101. What it
//! does is send `Origin`, so the gateway can refuse a handshake from a page
//! its policy does not trust (cross-site WebSocket hijacking): see
//! [`foreign_origin`].

use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode, Version};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use std::sync::Arc;

use crate::http::body::GatewayBody;
use crate::upstream::proxy::Shared;

/// Whether a request asks for a WebSocket:
/// an HTTP/1.1 request with `upgrade` among its `Connection` tokens and
/// `websocket` among its `Upgrade` protocols (RFC 9110 §7.8, RFC 6455
/// §4.1). HTTP/2 has no such upgrade.
///
/// Only WebSocket is passed on. Any other upgrade is dropped with the
/// other hop-by-hop headers and the request forwarded as a plain one:
/// above all `h2c`, which would turn the connection into HTTP/2 straight
/// to the upstream, past the CORS layer, for every later request on it.
pub fn requested(version: Version, headers: &HeaderMap) -> bool {
    if version != Version::HTTP_11 {
        return false;
    }
    // Most requests have no `Upgrade`; in a small map, scanning the names
    // (comparing small integers) is cheaper than hashing one.
    if headers.keys_len() <= 16 && !headers.keys().any(|name| name == header::UPGRADE) {
        return false;
    }
    let tokens = |name| {
        headers
            .get_all(name)
            .into_iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .map(<[u8]>::trim_ascii)
    };
    // `Upgrade` first: most requests have none, and then one lookup is all.
    // A protocol may carry a version after a `/`: compare the name.
    let websocket = tokens(header::UPGRADE).any(|t| {
        let name = t.split(|b| *b == b'/').next().unwrap_or(t);
        name.eq_ignore_ascii_case(b"websocket")
    });
    websocket && tokens(header::CONNECTION).any(|t| t.eq_ignore_ascii_case(b"upgrade"))
}

/// The `Upgrade` value forwarded for a WebSocket handshake.
pub const WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");

/// Puts back the two headers hop-by-hop stripping removed, for the next
/// hop of an upgrade.
pub fn restore_headers(headers: &mut HeaderMap, upgrade: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, upgrade);
}

/// Whether a handshake carries an `Origin` that is not one of the
/// gateway's own pages: a page elsewhere opening a socket here, which the
/// gateway lets through only when its policy allows that origin. An
/// origin whose host is one of `server_names` (the configured names of
/// the gateway, lowercase) is its own page, whatever the scheme and port
/// (behind a TLS terminator the gateway cannot know them). The request's
/// `Host` is never trusted for this: a non-browser client, or a page after
/// DNS rebinding, chooses it. Requests without `Origin` come from
/// programs, not pages: they pass.
pub fn foreign_origin(headers: &HeaderMap, server_names: &[String]) -> bool {
    match headers.get(header::ORIGIN) {
        Some(origin) => !origin_host(origin.as_bytes()).is_some_and(|host| {
            server_names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(host))
        }),
        None => false,
    }
}

/// The host of a serialized origin (`scheme://host[:port]`), without the
/// port (an IPv6 address keeps its brackets); `None` for `null` and
/// anything else that is not an origin.
fn origin_host(origin: &[u8]) -> Option<&[u8]> {
    let sep = origin.windows(3).position(|w| w == b"://")?;
    let authority = &origin[sep + 3..];
    let host = if authority.first() == Some(&b'[') {
        let end = authority.iter().position(|b| *b == b']')?;
        &authority[..=end]
    } else {
        authority.split(|b| *b == b':').next().unwrap_or(authority)
    };
    (!host.is_empty() && !host.contains(&b'/')).then_some(host)
}

/// The answer to a refused handshake: 403, saying why.
pub fn refused() -> Response<GatewayBody> {
    let mut response = Response::new(GatewayBody::full(
        "{\"error\":\"upgrade-origin-not-allowed\",\"message\":\"the policy does not allow this origin to open a WebSocket (or other upgraded connection) here\"}\n",
    ));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The client side of an upgrade, taken from the request before it is
/// rebuilt for the upstream.
pub fn client_side(parts: &mut Parts) -> Option<OnUpgrade> {
    parts.extensions.remove::<OnUpgrade>()
}

/// Once both connections have switched protocols, copies bytes between
/// them until either side closes; in a task of its own, on this worker,
/// counted in the gateway's metrics.
pub fn tunnel(client: OnUpgrade, upstream: OnUpgrade, shared: Arc<Shared>) {
    tokio::spawn(async move {
        let (client, upstream) = match tokio::try_join!(client, upstream) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(target: "corsair::upstream", "upgrade failed: {e}");
                return;
            }
        };
        let _open = shared.metrics.tunnel_opened();
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            Ok((up, down)) => {
                tracing::debug!(target: "corsair::upstream", up, down, "upgraded connection closed")
            }
            Err(e) => {
                tracing::debug!(target: "corsair::upstream", "upgraded connection ended: {e}")
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header map of `(name, value)` pairs, in order.
    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let pair = |(n, v): &(&str, &str)| (n.parse().unwrap(), v.parse().unwrap());
        pairs.iter().map(pair).collect()
    }

    #[test]
    fn a_websocket_upgrade_needs_both_headers_on_http_1_1() {
        let ws = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
        ]);
        assert!(requested(Version::HTTP_11, &ws));
        assert!(!requested(Version::HTTP_2, &ws));
        assert!(!requested(Version::HTTP_10, &ws));
        let no_token = headers(&[("connection", "keep-alive"), ("upgrade", "websocket")]);
        assert!(!requested(Version::HTTP_11, &no_token));
        let no_upgrade = headers(&[("connection", "upgrade")]);
        assert!(!requested(Version::HTTP_11, &no_upgrade));
        // Only WebSocket: h2c (or anything else) would take the connection
        // past the CORS layer.
        for other in ["h2c", "TLS/1.0", "echo", "websocketx"] {
            let h = headers(&[("connection", "upgrade"), ("upgrade", other)]);
            assert!(!requested(Version::HTTP_11, &h), "{other}");
        }
        let listed = headers(&[("connection", "Upgrade"), ("upgrade", "h2c, websocket")]);
        assert!(requested(Version::HTTP_11, &listed));
    }

    proptest::proptest! {
        /// Any bytes a header value may hold in `Origin`: an answer, never
        /// a panic.
        #[test]
        fn any_origin_gets_an_answer(
            origin in proptest::collection::vec(0x20u8..0x7f, 0..40),
        ) {
            let mut h = HeaderMap::new();
            h.insert(header::ORIGIN, HeaderValue::from_bytes(&origin).unwrap());
            let _ = foreign_origin(&h, &["api.example.com".into()]);
        }
    }

    #[test]
    fn own_pages_are_those_on_the_configured_names_never_the_clients_host() {
        let names = ["api.example.com".to_string(), "[::1]".to_string()];
        let origin = |o: &str, host: &str| {
            foreign_origin(&headers(&[("origin", o), ("host", host)]), &names)
        };
        assert!(!foreign_origin(
            &headers(&[("host", "api.example.com")]),
            &names
        ));
        // The client's Host says nothing: these are foreign.
        assert!(origin("https://evil.example", "evil.example"));
        assert!(origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin("null", "api.example.com"));
        assert!(origin(
            "https://api.example.com.evil.example",
            "api.example.com"
        ));
        assert!(origin("https://evilapi.example.com", "api.example.com"));
        // The configured names, any scheme and port, any case.
        assert!(!origin("https://API.example.com", "x"));
        assert!(!origin("http://api.example.com:8080", "x"));
        assert!(!origin("http://[::1]:8080", "x"));
        // No names configured: every page is checked by the policy.
        assert!(foreign_origin(
            &headers(&[("origin", "https://api.example.com")]),
            &[]
        ));
    }
}
