//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A listener on a free loopback port.
pub async fn loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// Sends one HTTP/1.1 request to `addr` and reads the whole response.
pub async fn send(addr: SocketAddr, mut request: Request<Full<Bytes>>) -> Response<Bytes> {
    request
        .headers_mut()
        .insert(http::header::HOST, addr.to_string().parse().expect("host"));
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Response::from_parts(parts, body)
}

/// A request with these headers and an empty body.
pub fn request<B: Default>(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<B> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(B::default()).expect("valid test request")
}

/// Every `Access-Control-*` header of a response.
pub fn access_control(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .map(|name| name.to_string())
        .collect()
}

/// The header's value as text, or "" when absent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Every `Vary` field name, lowercase, over all lines.
pub fn vary(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A preflight from `origin` for `method` with these request headers.
pub fn preflight<B: Default>(uri: &str, origin: &str, method: &str, acrh: &str) -> Request<B> {
    let mut headers = vec![
        ("origin", origin),
        ("access-control-request-method", method),
    ];
    if !acrh.is_empty() {
        headers.push(("access-control-request-headers", acrh));
    }
    request("OPTIONS", uri, &headers)
}
