//! The service each connection runs: pick the route from the current
//! config snapshot, hand the request to that route's CORS layer wrapping
//! its [`Proxy`], then count and log the request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use corsair::Policy;
use corsair_tower::{Cors, CorsLayer};
use http::{Request, Response};
use hyper::body::Incoming;
use tower_layer::Layer;
use tower_service::Service;

use super::access_log;
use super::body::GatewayBody;
use super::forwarded::{self, ClientInfo};
use super::proxy::{Proxy, Shared, Target};
use super::settings::{Route, Settings};
use super::upgrade;

/// One route, ready to serve: its name (for the access log) and the CORS
/// layer wrapping the proxy to its upstream.
#[derive(Debug)]
struct Ready {
    name: String,
    service: Cors<Proxy>,
}

/// A config turned into services. Replaced whole on reload; requests
/// already running keep the snapshot they started with.
#[derive(Debug)]
pub struct Snapshot {
    /// The settings this snapshot was built from.
    pub settings: Settings,
    routes: Vec<Ready>,
    fallback: Ready,
}

impl Snapshot {
    /// Builds every route's service.
    pub fn new(settings: Settings, shared: &Arc<Shared>) -> Snapshot {
        let ready = |route: &Route| {
            let target = Arc::new(Target {
                upstream: route.upstream.clone(),
                preserve_host: settings.preserve_host,
                timeout: settings.timeouts.upstream,
                max_body_bytes: settings.max_body_bytes,
            });
            let layer = CorsLayer::new(Policy::clone(&route.policy));
            Ready {
                name: route.name.clone(),
                service: layer.layer(Proxy::new(target, shared.clone())),
            }
        };
        let routes = settings.routes.iter().map(ready).collect();
        let fallback = ready(&settings.fallback);
        Snapshot {
            settings,
            routes,
            fallback,
        }
    }

    fn route(&self, host: &str, path: &str) -> &Ready {
        self.settings
            .route_index(host, path)
            .and_then(|i| self.routes.get(i))
            .unwrap_or(&self.fallback)
    }
}

/// The state every connection shares.
#[derive(Debug)]
pub struct State {
    /// The config in force.
    pub snapshot: ArcSwap<Snapshot>,
    /// The client and metrics.
    pub shared: Arc<Shared>,
}

/// The per-connection hyper service.
#[derive(Debug, Clone)]
pub struct Gateway {
    state: Arc<State>,
    client: ClientInfo,
}

impl Gateway {
    /// The service for a connection from `client`.
    pub fn new(state: Arc<State>, client: ClientInfo) -> Self {
        Gateway { state, client }
    }
}

type GatewayFuture =
    Pin<Box<dyn Future<Output = Result<Response<GatewayBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Gateway {
    type Response = Response<GatewayBody>;
    type Error = Infallible;
    type Future = GatewayFuture;

    fn call(&self, mut request: Request<Incoming>) -> GatewayFuture {
        let start = Instant::now();
        let snapshot = self.state.snapshot.load_full();
        let host = request
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
            .unwrap_or("");
        let route = snapshot.route(host, request.uri().path());
        let entry = access_log::enabled().then(|| access_log::Entry {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            route: route.name.clone(),
        });
        let foreign_upgrade = upgrade::requested(request.version(), request.headers()).is_some()
            && upgrade::foreign_origin(request.headers());
        request.extensions_mut().insert(self.client.clone());
        let mut service = route.service.clone();
        let future = service.call(request);
        // The layer's own decision, for the metrics and the log.
        let outcome = future.outcome();
        let (kind, code) = (outcome.kind.as_str(), outcome.code);
        // CORS does not guard WebSockets; the policy's origins do, here.
        let refuse_upgrade = foreign_upgrade && !outcome.allowed;
        let state = self.state.clone();
        Box::pin(async move {
            let _in_flight = state.shared.metrics.in_flight();
            let response = if refuse_upgrade {
                drop(future);
                state.shared.metrics.upgrade_refused();
                upgrade::refused()
            } else {
                future.await?
            };
            state.shared.metrics.request(kind, code);
            if let Some(entry) = entry {
                entry.write(response.status(), start.elapsed(), kind, code);
            }
            Ok(response)
        })
    }
}
