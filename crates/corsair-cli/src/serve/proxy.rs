//! [`Proxy`]: the service the CORS layer wraps. It forwards a request to its
//! route's upstream and turns every failure into a response (502, 504,
//! 413), so the layer adds the CORS headers to errors too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{header, Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use tower_service::Service;

use super::body::{CappedBody, GatewayBody};
use super::client::UpstreamClient;
use super::failure::Failure;
use super::forwarded::{self, ClientInfo};
use super::h1pool::{self, PoolTimeouts, PooledBody, SendError};
use super::metrics::Metrics;
use super::upgrade;
use super::upstream::Upstream;

/// What a proxy needs that lives as long as the process.
#[derive(Debug)]
pub struct Shared {
    /// One https upstream client (and connection pool) per worker thread,
    /// so a request and its upstream connection stay on one thread.
    pub clients: Vec<UpstreamClient>,
    /// The timeouts of the per-worker pools for plain-http upstreams.
    pub pool: PoolTimeouts,
    /// The metrics.
    pub metrics: Metrics,
}

thread_local! {
    /// The index of this thread's worker (0 off the worker threads).
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Shared {
    /// Marks the current thread as worker `index`.
    pub fn enter_worker(index: usize) {
        WORKER.with(|w| w.set(index));
    }

    /// The current worker's client.
    pub fn client(&self) -> &UpstreamClient {
        let i = WORKER.with(|w| w.get());
        &self.clients[i % self.clients.len()]
    }
}

/// The forwarding settings of one route.
#[derive(Debug)]
pub struct Target {
    /// Where requests go.
    pub upstream: Upstream,
    /// Forward the client's Host instead of the upstream's.
    pub preserve_host: bool,
    /// How long to wait for the upstream's response headers.
    pub timeout: Duration,
    /// The largest request body forwarded.
    pub max_body_bytes: u64,
}

/// Forwards requests to one route's upstream. Always ready; cloning is two
/// `Arc` clones.
#[derive(Debug, Clone)]
pub struct Proxy {
    target: Arc<Target>,
    shared: Arc<Shared>,
}

/// The response future of [`Proxy`].
pub type ProxyFuture =
    Pin<Box<dyn Future<Output = Result<Response<GatewayBody>, Infallible>> + Send>>;

impl Proxy {
    /// A proxy to `target`.
    pub fn new(target: Arc<Target>, shared: Arc<Shared>) -> Self {
        Proxy { target, shared }
    }

    async fn forward(self, request: Request<Incoming>) -> Response<GatewayBody> {
        match self.try_forward(request).await {
            Ok(response) => response,
            Err(failure) => {
                self.shared.metrics.failure(failure);
                failure.response()
            }
        }
    }

    async fn try_forward(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<GatewayBody>, Failure> {
        let target = &self.target;
        if request.method() == Method::CONNECT {
            return Err(Failure::NotAProxy);
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > target.max_body_bytes) {
            // Answered without reading the body: read the rest away so the
            // client gets to see the 413.
            super::body::drain(request.into_body());
            return Err(Failure::BodyTooLarge);
        }
        let (mut parts, body) = request.into_parts();
        let client = parts.extensions.remove::<ClientInfo>();
        // A protocol upgrade (WebSocket): its two hop-by-hop headers go on
        // to the upstream, and the client's side of the switch is kept.
        let upgrade = upgrade::requested(parts.version, &parts.headers);
        let client_side = match upgrade {
            Some(_) => upgrade::client_side(&mut parts),
            None => None,
        };
        // The Host header's value shares the request's bytes (no copy).
        let host = forwarded::request_host_value(&parts);
        parts.uri = target
            .upstream
            .target(parts.uri.path_and_query())
            .map_err(|_| Failure::Broken)?;
        // HTTP/1.1 to plain-http upstreams; for https the pooled client picks
        // HTTP/1.1 or HTTP/2 per upstream connection (ALPN).
        parts.version = Version::HTTP_11;
        forwarded::strip_hop_by_hop(&mut parts.headers);
        if let Some(protocol) = &upgrade {
            upgrade::restore_headers(&mut parts.headers, protocol.clone());
        }
        let host_text = host.as_ref().and_then(|h| h.to_str().ok());
        if let Some(client) = &client {
            forwarded::add_forwarded(&mut parts.headers, client, host_text);
        }
        let host_header = match (host_text.is_some(), target.preserve_host) {
            (true, true) => host.clone(),
            _ => None,
        };
        parts.headers.insert(
            header::HOST,
            host_header.unwrap_or_else(|| target.upstream.host_header().clone()),
        );
        let tripped = Arc::new(AtomicBool::new(false));
        let body = CappedBody::new(body, target.max_body_bytes, tripped.clone());

        let start = Instant::now();
        let (response, checkout) = match target.upstream.plain_authority() {
            // Plain http: this worker's own HTTP/1.1 connections.
            Some(authority) => {
                parts.uri = Uri::from(
                    parts
                        .uri
                        .path_and_query()
                        .cloned()
                        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
                );
                let outgoing = Request::from_parts(parts, body);
                let sent = async {
                    if upgrade.is_some() {
                        let sent = h1pool::send_upgrade(authority, outgoing, self.shared.pool);
                        sent.await.map(|response| (response, None))
                    } else {
                        let sent = h1pool::send(authority, outgoing, self.shared.pool);
                        sent.await
                            .map(|(response, checkout)| (response, Some(checkout)))
                    }
                };
                match tokio::time::timeout(target.timeout, sent).await {
                    Err(_) => return Err(self.timed_out()),
                    Ok(Err(e)) => {
                        let (failure, chain) = match &e {
                            SendError::Connect(e) => (Failure::Connect, error_chain(&**e)),
                            SendError::Request(e) => (Failure::Broken, error_chain(e)),
                        };
                        return Err(self.failed(failure, &tripped, &chain));
                    }
                    Ok(Ok(sent)) => sent,
                }
            }
            None => {
                let outgoing = Request::from_parts(parts, body);
                let result =
                    tokio::time::timeout(target.timeout, self.shared.client().request(outgoing))
                        .await;
                match result {
                    Err(_) => return Err(self.timed_out()),
                    Ok(Err(e)) => {
                        let failure = if e.is_connect() {
                            Failure::Connect
                        } else {
                            Failure::Broken
                        };
                        return Err(self.failed(failure, &tripped, &error_chain(&e)));
                    }
                    Ok(Ok(response)) => (response, None),
                }
            }
        };
        self.shared.metrics.upstream_latency(start.elapsed());
        let mut response = response;
        let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        if let (true, Some(client_side)) = (switched, client_side) {
            let protocol = response.headers().get(header::UPGRADE).cloned();
            let upstream_side = hyper::upgrade::on(&mut response);
            upgrade::tunnel(client_side, upstream_side, self.shared.clone());
            let (mut parts, _) = response.into_parts();
            forwarded::strip_hop_by_hop(&mut parts.headers);
            if let Some(protocol) = protocol {
                upgrade::restore_headers(&mut parts.headers, protocol);
            }
            parts.version = Version::HTTP_11;
            return Ok(Response::from_parts(parts, GatewayBody::Empty));
        }
        let (mut parts, body) = response.into_parts();
        forwarded::strip_hop_by_hop(&mut parts.headers);
        // The upstream's HTTP version is its own hop's; the client's
        // connection decides ours.
        parts.version = Version::HTTP_11;
        let body = match checkout {
            Some(checkout) => GatewayBody::Pooled(PooledBody::new(body, checkout)),
            None => GatewayBody::Upstream(body),
        };
        Ok(Response::from_parts(parts, body))
    }

    fn timed_out(&self) -> Failure {
        let target = &self.target;
        tracing::warn!(target: "corsair::upstream", upstream = target.upstream.as_str(), "no response headers within {:?}", target.timeout);
        Failure::Timeout
    }

    fn failed(&self, failure: Failure, tripped: &AtomicBool, chain: &str) -> Failure {
        if tripped.load(Ordering::Relaxed) {
            return Failure::BodyTooLarge;
        }
        tracing::warn!(target: "corsair::upstream", upstream = self.target.upstream.as_str(), error = %chain, "{}", failure.code());
        failure
    }
}

/// An error and its sources, for logs.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Service<Request<Incoming>> for Proxy {
    type Response = Response<GatewayBody>;
    type Error = Infallible;
    type Future = ProxyFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> ProxyFuture {
        let this = self.clone();
        Box::pin(async move { Ok(this.forward(request).await) })
    }
}
