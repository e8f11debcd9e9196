//! Building the page server's responses and reading its JSON requests:
//! every failure is a JSON `{"error": "..."}` that says what to do.

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::convert::Infallible;

/// The body type of every page-server response.
pub type Body = BoxBody<Bytes, Infallible>;

/// The largest JSON request the page server accepts.
pub const JSON_LIMIT: usize = 64 * 1024;

/// A response with a fixed body.
pub fn bytes(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    bytes(status, "application/json", body)
}

/// A JSON error: `{"error": message}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message.into() }))
}

/// Reads a JSON request body of at most [`JSON_LIMIT`] bytes. The request
/// must say `Content-Type: application/json`: that also keeps other sites
/// from posting to the playground (a cross-origin JSON request needs a
/// preflight, which the page server never allows).
pub async fn read_json<T: DeserializeOwned>(
    request: Request<Incoming>,
) -> Result<T, Response<Body>> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    if !is_json {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request body as JSON with Content-Type: application/json",
        ));
    }
    let body = match Limited::new(request.into_body(), JSON_LIMIT)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return Err(if too_big {
                error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request body is over {} KiB: send less",
                        JSON_LIMIT / 1024
                    ),
                )
            } else {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("could not read the request body: {e}"),
                )
            });
        }
    };
    serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the request body is not the JSON expected here: {e}"),
        )
    })
}

/// Whether the `Host` header names this machine's loopback (`127.0.0.1`,
/// `[::1]`, `localhost` or `*.localhost`, any port). Other names are
/// refused, so that a web page cannot reach the playground through DNS
/// rebinding.
pub fn is_loopback_host<B>(request: &Request<B>) -> bool {
    let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !host.ends_with(']') =>
        {
            name
        }
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> Request<()> {
        Request::builder()
            .header("host", host)
            .body(())
            .expect("request")
    }

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "127.0.0.1:7878",
            "localhost:1",
            "app.localhost:7878",
            "[::1]:80",
            "127.0.0.1",
        ] {
            assert!(is_loopback_host(&with_host(ok)), "{ok}");
        }
        for bad in [
            "evil.example:7878",
            "10.0.0.1:7878",
            "localhost.evil.example",
            "",
        ] {
            assert!(!is_loopback_host(&with_host(bad)), "{bad}");
        }
        assert!(!is_loopback_host(&Request::new(())));
    }
}
