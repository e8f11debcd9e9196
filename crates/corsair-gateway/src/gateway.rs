//! The service each connection runs: pick the route from the current
//! config snapshot, hand the request to that route's CORS layer wrapping
//! its [`Proxy`], then count and log the request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use arc_swap::ArcSwap;
use std::borrow::Cow;

use corsair::{Decision, Policy};
use corsair_tower::{Cors, CorsLayer, ResponseFuture};
use http::{Request, Response};
use hyper::body::Incoming;
use tower_layer::Layer;
use tower_service::Service;

use crate::config::settings::{Route, Settings};
use crate::http::body::GatewayBody;
use crate::http::forwarded::{self, ClientInfo};
use crate::http::path::{self, Ambiguity};
use crate::http::upgrade;
use crate::observability::access_log;
use crate::upstream::proxy::{FromClient, Proxy, ProxyFuture, Shared, Target};

/// One route, ready to serve: its name (for the access log), the CORS
/// layer wrapping the proxy to its upstream, and what it does with
/// ambiguous paths.
#[derive(Debug)]
struct Ready {
    name: String,
    service: Cors<Proxy>,
    /// The route's policy, for the headers of answers the gateway makes
    /// itself.
    policy: Arc<Policy>,
    allow_ambiguous_paths: bool,
}

/// A config turned into services. Replaced whole on reload; requests
/// already running keep the snapshot they started with.
#[derive(Debug)]
pub struct Snapshot {
    /// The settings this snapshot was built from.
    pub settings: Settings,
    routes: Vec<Ready>,
    fallback: Ready,
    /// Whether any route names a host.
    by_host: bool,
}

impl Snapshot {
    /// Builds every route's service.
    pub fn new(settings: Settings, shared: &Arc<Shared>) -> Snapshot {
        let ready = |route: &Route| {
            let target = Arc::new(Target {
                // This worker's own copy, not sharing the bytes (and their
                // reference count) with the other workers'.
                upstream: route.upstream.unshared(),
                preserve_host: settings.preserve_host,
                timeout: settings.timeouts.upstream,
                max_body_bytes: settings.max_body_bytes,
                strip_request_headers: settings.strip_request_headers.clone(),
                body_timeout: settings.timeouts.body,
                upstream_body_timeout: settings.timeouts.upstream_body,
            });
            let layer = CorsLayer::new(Policy::clone(&route.policy));
            Ready {
                name: route.name.clone(),
                service: layer.layer(Proxy::new(target, shared.clone())),
                policy: route.policy.clone(),
                allow_ambiguous_paths: route.allow_ambiguous_paths,
            }
        };
        let routes = settings.routes.iter().map(ready).collect();
        let fallback = ready(&settings.fallback);
        let by_host = settings.routes.iter().any(|r| r.host.is_some());
        Snapshot {
            settings,
            routes,
            fallback,
            by_host,
        }
    }

    /// The route taking `request`, whose normalised path is `path`. The
    /// host is worked out only when a route names one (most configs route
    /// by path alone, or not at all).
    fn route<B>(&self, request: &Request<B>, path: &str) -> &Ready {
        if self.routes.is_empty() {
            return &self.fallback;
        }
        let host = if self.by_host {
            request_host(request)
        } else {
            ""
        };
        self.settings
            .route_index(host, path)
            .and_then(|i| self.routes.get(i))
            .unwrap_or(&self.fallback)
    }
}

/// The host a request is for, without the port, for route matching: the
/// target's authority (HTTP/2, absolute-form), else `Host`.
fn request_host<B>(request: &Request<B>) -> &str {
    request
        .uri()
        .authority()
        .map(|a| a.host())
        .or_else(|| {
            request
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(forwarded::host_without_port)
        })
        .unwrap_or("")
}

/// The 400 answer to a request whose path is ambiguous on a route that
/// does not take such paths, with the CORS headers the route's policy
/// grants (so the page can read why), and the policy's decision. `None`
/// for a preflight: the CORS layer answers it and it is never forwarded,
/// so the actual request that follows gets the 400.
fn ambiguous_path<B>(
    request: &Request<B>,
    route: &Ready,
    ambiguity: Ambiguity,
) -> Option<(Response<GatewayBody>, Decision)> {
    let decision = route.policy.evaluate_request(request);
    if decision.is_preflight() {
        return None;
    }
    tracing::info!(
        target: "corsair::request",
        path = request.uri().path(),
        route = route.name.as_str(),
        reason = ambiguity.code(),
        "refused an ambiguous path with 400"
    );
    let body = format!(
        "{{\"error\":\"ambiguous-path\",\"reason\":\"{}\",\"message\":\"{}\"}}\n",
        ambiguity.code(),
        ambiguity.explain()
    );
    let mut response = Response::new(GatewayBody::full(body));
    *response.status_mut() = http::StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    decision.headers.apply_to(headers);
    Some((response, decision))
}

/// Replaces the path of `request`'s target, keeping its query.
fn set_path<B>(request: &mut Request<B>, path: &str) {
    let uri = request.uri();
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    // The normalised path is made of the characters of a valid one.
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// The state the connections of one worker share (each worker has its own
/// copy, swapped together on reload).
#[derive(Debug)]
pub struct State {
    /// The config in force.
    pub snapshot: ArcSwap<Snapshot>,
    /// The worker's client, and the metrics.
    pub shared: Arc<Shared>,
}

/// The per-connection hyper service.
#[derive(Debug, Clone)]
pub struct Gateway {
    state: Arc<State>,
    client: Arc<ClientInfo>,
    /// Counts the connection's streams for its idle watch (HTTP/2 only).
    streams: Option<Arc<AtomicUsize>>,
}

impl Gateway {
    /// The service for a connection from `client`.
    pub fn new(state: Arc<State>, client: ClientInfo) -> Self {
        Gateway {
            state,
            client: Arc::new(client),
            streams: None,
        }
    }

    /// Adds one to `streams` for each request (an HTTP/2 connection's idle
    /// watch reads it: see `runtime::connection::IdleWatch`).
    pub fn count_streams(&mut self, streams: Arc<AtomicUsize>) {
        self.streams = Some(streams);
    }
}

impl hyper::service::Service<Request<Incoming>> for Gateway {
    type Response = Response<GatewayBody>;
    type Error = Infallible;
    type Future = GatewayFuture;

    fn call(&self, mut request: Request<Incoming>) -> GatewayFuture {
        if let Some(streams) = &self.streams {
            streams.fetch_add(1, Ordering::Relaxed);
        }
        // The clock is read for the access log only.
        let start = access_log::enabled().then(Instant::now);
        // A guard, not a clone: no reference count is touched.
        let snapshot = self.state.snapshot.load();
        // Routed and forwarded by the same normalised path, so the gateway
        // and the upstream see one request (see `http::path`).
        let normalized = path::normalize(request.uri().path());
        let route = snapshot.route(&request, &normalized.path);
        let refusal = match normalized.ambiguity {
            Some(ambiguity) if !route.allow_ambiguous_paths => {
                ambiguous_path(&request, route, ambiguity)
            }
            _ => None,
        };
        if let (None, Cow::Owned(path)) = (&refusal, normalized.path) {
            set_path(&mut request, &path);
        }
        let entry = start.map(|start| access_log::Entry {
            start,
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            route: route.name.clone(),
        });
        if let Some((response, decision)) = refusal {
            self.state.shared.metrics.request_started();
            return GatewayFuture {
                answer: Answer::Local(Some(response)),
                state: self.state.clone(),
                kind: decision.kind.as_str(),
                code: decision.verdict.code(),
                entry,
            };
        }
        let websocket = upgrade::requested(request.version(), request.headers());
        let foreign_upgrade = websocket
            && upgrade::foreign_origin(request.headers(), &snapshot.settings.server_names);
        let request = request.map(|body| FromClient {
            body,
            client: self.client.clone(),
            websocket,
        });
        let future = route.service.clone().call(request);
        // The layer's own decision, for the metrics and the log.
        let outcome = future.outcome();
        self.state.shared.metrics.request_started();
        // CORS does not guard WebSockets; the policy's origins do, here.
        let answer = if foreign_upgrade && !outcome.allowed {
            drop(future);
            self.state.shared.metrics.upgrade_refused();
            Answer::Local(Some(upgrade::refused()))
        } else {
            Answer::Cors(future)
        };
        GatewayFuture {
            answer,
            state: self.state.clone(),
            kind: outcome.kind.as_str(),
            code: outcome.code,
            entry,
        }
    }
}

/// What answers a request: the route's CORS layer (and its proxy), or the
/// gateway itself (a refused WebSocket handshake, an ambiguous path).
enum Answer {
    Cors(ResponseFuture<ProxyFuture, GatewayBody>),
    /// `None` once returned.
    Local(Option<Response<GatewayBody>>),
}

/// The response future of [`Gateway`]: the answer, counted in the metrics
/// and written to the access log when it is ready. A plain struct, not a
/// boxed `async` block: one allocation fewer per request. Counted in
/// flight from `call` until it is ready or dropped.
pub struct GatewayFuture {
    answer: Answer,
    state: Arc<State>,
    kind: &'static str,
    code: &'static str,
    entry: Option<access_log::Entry>,
}

impl Future for GatewayFuture {
    type Output = Result<Response<GatewayBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin` (the proxy's future is boxed).
        let this = self.get_mut();
        let response = match &mut this.answer {
            Answer::Cors(future) => ready!(Pin::new(future).poll(cx))?,
            Answer::Local(response) => match response.take() {
                Some(response) => response,
                // Polled after completion: stay pending rather than panic.
                None => return Poll::Pending,
            },
        };
        this.state.shared.metrics.request(this.kind, this.code);
        if let Some(entry) = this.entry.take() {
            entry.write(response.status(), this.kind, this.code);
        }
        Poll::Ready(Ok(response))
    }
}

impl Drop for GatewayFuture {
    fn drop(&mut self) {
        self.state.shared.metrics.request_ended();
    }
}
