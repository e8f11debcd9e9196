//! [`Proxy`]: the service the CORS layer wraps. It forwards a request to its
//! route's upstream and turns every failure into a response (502, 504,
//! 413), so the layer adds the CORS headers to errors too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use http::{header, Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use tower_service::Service;

use crate::http::body::{CappedBody, ClientFault, GatewayBody, Tripped, UpstreamBody};
use crate::http::forwarded::{self, ClientInfo};
use crate::http::upgrade;
use crate::observability::metrics::Metrics;
use crate::runtime::timer::{self, Elapsed, Timeout};
use crate::upstream::client::UpstreamClient;
use crate::upstream::failure::Failure;
use crate::upstream::h1pool::{self, Checkout, PoolTimeouts, PooledBody, SendError};
use crate::upstream::target::Upstream;

/// What one worker's proxies share for the life of the process. Each
/// worker thread has its own, so the reference counts a request touches
/// belong to its worker: no cache line is written by two threads on the
/// request path (see ARCHITECTURE.md).
#[derive(Debug)]
pub struct Shared {
    /// The worker's https upstream client (and its connection pool).
    pub client: UpstreamClient,
    /// The timeouts of the worker's pool for plain-http upstreams.
    pub pool: PoolTimeouts,
    /// The process's metrics (sharded per worker inside).
    pub metrics: Arc<Metrics>,
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
    /// Request headers removed before forwarding.
    pub strip_request_headers: Vec<http::HeaderName>,
    /// The longest wait between two reads of a request body.
    pub body_timeout: Duration,
    /// The longest wait between two reads of the upstream's response body.
    pub upstream_body_timeout: Duration,
}

/// Forwards requests to one route's upstream. Always ready; cloning is
/// two `Arc` clones.
#[derive(Debug, Clone)]
pub struct Proxy {
    target: Arc<Target>,
    shared: Arc<Shared>,
}

/// A client's request body with what the gateway knows of the request, so
/// that it travels with the request through the CORS layer: held in the
/// body rather than in the request's extensions, which would allocate a map
/// per request.
#[derive(Debug)]
pub struct FromClient {
    /// The body as hyper read it.
    pub body: Incoming,
    /// The connection it came from, for the forwarding headers.
    pub client: Arc<ClientInfo>,
    /// Whether it is a WebSocket handshake ([`upgrade::requested`]; the
    /// gateway has looked already).
    pub websocket: bool,
}

/// A request ready to go upstream, and what its answer needs.
struct Outgoing {
    request: Request<CappedBody>,
    /// Set when the body cap cut the request body (so a failed send is a
    /// 413, not a 502).
    tripped: Tripped,
    /// Whether it is a WebSocket handshake.
    upgrade: Upgrade,
}

/// Whether a request asks for a WebSocket (see [`upgrade::requested`]).
enum Upgrade {
    /// A plain request.
    No,
    /// A WebSocket handshake, with the client's side of the switch if
    /// hyper offers one.
    WebSocket(Option<OnUpgrade>),
}

/// The response future of [`Proxy`].
pub type ProxyFuture =
    Pin<Box<dyn Future<Output = Result<Response<GatewayBody>, Infallible>> + Send>>;

impl Proxy {
    /// A proxy to `target`.
    pub fn new(target: Arc<Target>, shared: Arc<Shared>) -> Self {
        Proxy { target, shared }
    }

    /// Everything done to a request before it goes upstream, done in
    /// `call` without a future: refusals (`CONNECT`, a declared body over
    /// the limit), the target, hop-by-hop and forwarding headers, `Host`
    /// and the body cap. Only what the send needs is moved into the
    /// request's future, which keeps that future small.
    fn prepare(&mut self, request: Request<FromClient>) -> Result<Outgoing, Failure> {
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
            crate::http::body::drain(request.into_body().body);
            return Err(Failure::BodyTooLarge);
        }
        let (
            mut parts,
            FromClient {
                body,
                client,
                websocket,
            },
        ) = request.into_parts();
        // A protocol upgrade (WebSocket): its two hop-by-hop headers go on
        // to the upstream, and the client's side of the switch is kept.
        let upgrade = match websocket {
            true => Upgrade::WebSocket(upgrade::client_side(&mut parts)),
            false => Upgrade::No,
        };
        // The Host header's value shares the request's bytes (no copy).
        let host = forwarded::request_host_value(&parts);
        // Origin-form to this worker's own plain-http connections,
        // absolute-form to the pooled https client.
        parts.uri = match target.upstream.plain_authority() {
            Some(_) => target
                .upstream
                .path(parts.uri.path_and_query())
                .map(Uri::from),
            None => target.upstream.target(parts.uri.path_and_query()),
        }
        .map_err(|_| Failure::Broken)?;
        forwarded::add_via(&mut parts.headers, parts.version);
        // HTTP/1.1 to plain-http upstreams; for https the pooled client picks
        // HTTP/1.1 or HTTP/2 per upstream connection (ALPN).
        parts.version = Version::HTTP_11;
        forwarded::strip_hop_by_hop(&mut parts.headers);
        forwarded::strip_named(&mut parts.headers, &target.strip_request_headers);
        forwarded::join_cookies(&mut parts.headers);
        if let Upgrade::WebSocket(_) = upgrade {
            upgrade::restore_headers(&mut parts.headers, upgrade::WEBSOCKET);
        }
        forwarded::add_forwarded(&mut parts.headers, &client, host.as_ref());
        let host_header = match (host, target.preserve_host) {
            (Some(host), true) if host.to_str().is_ok() => host,
            _ => target.upstream.host_header().clone(),
        };
        parts.headers.insert(header::HOST, host_header);
        let (body, tripped) = CappedBody::new(body, target.max_body_bytes, target.body_timeout);
        Ok(Outgoing {
            request: Request::from_parts(parts, body),
            tripped,
            upgrade,
        })
    }

    fn failure(&self, failure: Failure) -> Response<GatewayBody> {
        self.shared.metrics.failure(failure);
        failure.response()
    }

    /// The client's response to the upstream's `response`: hop-by-hop
    /// headers removed, and the body handing its connection back to the
    /// pool at its end; after a `101` to a WebSocket handshake, the
    /// tunnel between the two connections set up.
    fn answer(
        &self,
        mut response: Response<Incoming>,
        checkout: Option<Checkout>,
        upgrade: Upgrade,
        start: Instant,
    ) -> Response<GatewayBody> {
        let answered = Instant::now();
        self.shared
            .metrics
            .upstream_latency(answered.saturating_duration_since(start));
        let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        if let (true, Upgrade::WebSocket(Some(client_side))) = (switched, upgrade) {
            let protocol = response.headers().get(header::UPGRADE).cloned();
            let upstream_side = hyper::upgrade::on(&mut response);
            upgrade::tunnel(client_side, upstream_side, self.shared.clone());
            let (mut parts, _) = response.into_parts();
            forwarded::strip_hop_by_hop(&mut parts.headers);
            if let Some(protocol) = protocol {
                upgrade::restore_headers(&mut parts.headers, protocol);
            }
            parts.version = Version::HTTP_11;
            return Response::from_parts(parts, GatewayBody::Empty);
        }
        let (mut parts, body) = response.into_parts();
        forwarded::strip_hop_by_hop(&mut parts.headers);
        // The upstream's HTTP version is its own hop's; the client's
        // connection decides ours.
        parts.version = Version::HTTP_11;
        let (status, target, shared) = (parts.status, self.target.clone(), self.shared.clone());
        let body = match checkout {
            Some(checkout) => {
                let body = PooledBody::new(body, checkout, answered);
                UpstreamBody::pooled(body, status, target, shared)
            }
            None => UpstreamBody::direct(body, status, target, shared),
        };
        let body = GatewayBody::Upstream(body);
        Response::from_parts(parts, body)
    }

    fn timed_out(&self) -> Failure {
        let target = &self.target;
        tracing::warn!(target: "corsair::upstream", upstream = target.upstream.as_str(), "no response headers within {:?}", target.timeout);
        Failure::Timeout
    }

    /// The answer to a send that failed: the client's fault when its body
    /// broke, stalled or went over the limit (logged at debug: a client
    /// must not be able to set off upstream alerts), else the upstream's.
    fn failed(&self, failure: Failure, tripped: &Tripped, chain: &str) -> Failure {
        let client = match tripped.fault() {
            Some(ClientFault::TooLarge) => Some(Failure::BodyTooLarge),
            Some(ClientFault::Broken) => Some(Failure::ClientBodyBroken),
            Some(ClientFault::Stalled) => Some(Failure::ClientBodyTimeout),
            None => None,
        };
        if let Some(client) = client {
            tracing::debug!(target: "corsair::request", error = %chain, "{}", client.code());
            return client;
        }
        tracing::warn!(target: "corsair::upstream", upstream = self.target.upstream.as_str(), error = %chain, "{}", failure.code());
        failure
    }
}

/// The output of a send to either client: the response (and, from this
/// worker's pool, the connection to give back), or why there is none.
trait Sent {
    /// The response and the connection to give back, or the failure.
    fn split(self) -> Result<(Response<Incoming>, Option<Checkout>), SendFailure>;
}

impl Sent for h1pool::Sent {
    fn split(self) -> Result<(Response<Incoming>, Option<Checkout>), SendFailure> {
        self.map(|(response, checkout)| (response, Some(checkout)))
            .map_err(SendFailure::Pool)
    }
}

impl Sent for Result<Response<Incoming>, SendError> {
    fn split(self) -> Result<(Response<Incoming>, Option<Checkout>), SendFailure> {
        self.map(|response| (response, None))
            .map_err(SendFailure::Pool)
    }
}

impl Sent for Result<Response<Incoming>, hyper_util::client::legacy::Error> {
    fn split(self) -> Result<(Response<Incoming>, Option<Checkout>), SendFailure> {
        self.map(|response| (response, None))
            .map_err(SendFailure::Client)
    }
}

pin_project_lite::pin_project! {
    /// A request on its way upstream: the send (under the upstream
    /// timeout) and what turns its outcome into the client's response. A
    /// plain struct around the send's own future rather than an `async`
    /// block, which would hold the request a second time: the future is
    /// boxed per request, and kept under 1 KiB it takes the allocator's
    /// fast path.
    struct Forward<F> {
        #[pin]
        sent: Timeout<F>,
        proxy: Proxy,
        tripped: Tripped,
        upgrade: Upgrade,
        start: Instant,
    }
}

impl<F> Forward<F> {
    fn new(
        proxy: Proxy,
        sent: Timeout<F>,
        tripped: Tripped,
        upgrade: Upgrade,
        start: Instant,
    ) -> Self {
        Forward {
            sent,
            proxy,
            tripped,
            upgrade,
            start,
        }
    }
}

impl<F> Future for Forward<F>
where
    F: Future,
    F::Output: Sent,
{
    type Output = Result<Response<GatewayBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let sent = ready!(this.sent.poll(cx));
        let proxy = &*this.proxy;
        let failure = match sent.map(Sent::split) {
            Ok(Ok((response, checkout))) => {
                let upgrade = std::mem::replace(this.upgrade, Upgrade::No);
                return Poll::Ready(Ok(proxy.answer(response, checkout, upgrade, *this.start)));
            }
            Err(Elapsed) => proxy.timed_out(),
            Ok(Err(e)) => {
                let (failure, chain) = e.classify();
                proxy.failed(failure, this.tripped, &chain)
            }
        };
        Poll::Ready(Ok(proxy.failure(failure)))
    }
}

/// Why a send got no response, from either client.
enum SendFailure {
    /// The worker's plain-http pool.
    Pool(SendError),
    /// The https client.
    Client(hyper_util::client::legacy::Error),
}

impl SendFailure {
    /// The failure to answer with, and the error chain for the log.
    fn classify(&self) -> (Failure, String) {
        match self {
            SendFailure::Pool(SendError::Connect(e)) => (Failure::Connect, error_chain(&**e)),
            SendFailure::Pool(SendError::Request(e)) => (Failure::Broken, error_chain(e)),
            SendFailure::Client(e) if e.is_connect() => (Failure::Connect, error_chain(e)),
            SendFailure::Client(e) => (Failure::Broken, error_chain(e)),
        }
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

impl Service<Request<FromClient>> for Proxy {
    type Response = Response<GatewayBody>;
    type Error = Infallible;
    type Future = ProxyFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<FromClient>) -> ProxyFuture {
        let Outgoing {
            request,
            tripped,
            upgrade,
        } = match self.prepare(request) {
            Ok(outgoing) => outgoing,
            Err(failure) => return Box::pin(std::future::ready(Ok(self.failure(failure)))),
        };
        let start = Instant::now();
        let timeout = self.target.timeout;
        let proxy = self.clone();
        match (self.target.upstream.plain_authority(), &upgrade) {
            // Plain http: this worker's own HTTP/1.1 connections.
            (Some(authority), Upgrade::No) => {
                let sent = h1pool::send(authority, request, self.shared.pool, start);
                let sent = timer::timeout(start, timeout, sent);
                Box::pin(Forward::new(proxy, sent, tripped, upgrade, start))
            }
            // A WebSocket handshake: a connection of its own.
            (Some(authority), Upgrade::WebSocket(_)) => {
                let sent = h1pool::send_upgrade(authority.clone(), request, self.shared.pool);
                let sent = timer::timeout(start, timeout, sent);
                Box::pin(Forward::new(proxy, sent, tripped, upgrade, start))
            }
            // https: the worker's pooled client (HTTP/1.1 or HTTP/2 by ALPN).
            (None, _) => {
                let sent = timer::timeout(start, timeout, self.shared.client.request(request));
                Box::pin(Forward::new(proxy, sent, tripped, upgrade, start))
            }
        }
    }
}
