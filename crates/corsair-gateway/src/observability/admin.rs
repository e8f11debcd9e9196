//! The admin listener: `GET /metrics` (Prometheus text format) and
//! `GET /healthz` (200 `ok` while the gateway runs). Keep it on a private
//! address: it is not behind the CORS policy. It has the gateway's
//! accept loop and idle timeout, so no client can hold its connections.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::body::GatewayBody;
use crate::observability::metrics::Metrics;
use crate::runtime::accept::Acceptor;
use crate::runtime::server::MAX_HEAD_BYTES;
use crate::runtime::timer::CoarseTimer;

fn answer(metrics: &Metrics, request: &Request<Incoming>) -> Response<GatewayBody> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        (&Method::GET, "/healthz") => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: the admin listener serves GET /metrics and GET /healthz\n".to_string(),
        ),
    };
    let mut response = Response::new(GatewayBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Serves the admin endpoints until `stop` turns true. A connection that
/// sends no whole request head within `idle` (a slow or idle client) is
/// closed, on the coarse clock of the thread that runs this (it must run
/// `runtime::timer::drive`).
pub async fn run(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut acceptor = Acceptor::new(listener, "admin");
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(CoarseTimer)
        .header_read_timeout(idle)
        .max_buf_size(MAX_HEAD_BYTES);
    loop {
        let (stream, _) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            _ = crate::runtime::server::stopped(&mut stop) => return,
        };
        let metrics = metrics.clone();
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req: Request<Incoming>| {
                let response = answer(&metrics, &req);
                async move { Ok::<_, Infallible>(response) }
            }),
        );
        tokio::spawn(connection);
    }
}
