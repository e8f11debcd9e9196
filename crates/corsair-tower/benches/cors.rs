//! corsair-tower vs tower-http's `CorsLayer` vs no CORS layer, in one run.
//!
//! `cargo bench -p corsair-tower`. Every case runs three services over the
//! same inner service: `floor` (no CORS layer), `tower_http` (tower-http's
//! `CorsLayer` configured to the same policy) and `corsair`. The inner
//! service answers with a response built like a handler's (status, two
//! headers, a static body). Services are called directly and their
//! futures polled once with a no-op waker: no runtime in the measurement.
//! Allocation counts come from divan's counting global allocator.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use divan::{AllocProfiler, Bencher};
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response};
use http_body_util::Full;
use tower::Service;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

type Body = Full<Bytes>;

const ALLOWED: &str = "https://app.example.com";
const REQUESTED_HEADERS: &str = "content-type,x-api-key";

/// The inner service: a response built the way a handler builds one.
#[derive(Clone)]
struct App;

impl Service<Request<Body>> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Body>) -> Self::Future {
        let mut response = Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}")));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            HeaderName::from_static("x-request-id"),
            HeaderValue::from_static("0af7651916cd43dd8448eb211c80319c"),
        );
        ready(Ok(response))
    }
}

/// Calls a ready service and polls its future once.
fn call<S>(service: &mut S, request: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    let ready = service.poll_ready(&mut cx);
    assert!(matches!(ready, Poll::Ready(Ok(()))));
    let future = pin!(service.call(request));
    match future.poll(&mut cx) {
        Poll::Ready(Ok(response)) => response,
        _ => unreachable!("every service here answers at once"),
    }
}

/// The allowlist of a case: `n` exact origins with [`ALLOWED`] in the middle.
fn exact_origins(n: usize) -> Vec<String> {
    let mut list: Vec<String> = (0..n.saturating_sub(1))
        .map(|i| format!("https://app{i}.example.net"))
        .collect();
    list.insert(list.len() / 2, ALLOWED.to_string());
    list
}

/// 100 subdomain patterns `https://*.tenantN.example.com`.
fn pattern_origins() -> Vec<String> {
    (0..100)
        .map(|i| format!("https://*.tenant{i}.example.com"))
        .collect()
}

const PATTERN_REQUEST_ORIGIN: &str = "https://app.tenant57.example.com";

fn corsair_svc(origins: &[String]) -> corsair_tower::Cors<App> {
    let policy = corsair::Policy::builder()
        .allow_origins(origins.iter().cloned())
        .allow_methods(["GET", "POST", "PUT", "DELETE"])
        .allow_headers(["content-type", "x-api-key"])
        .expose_headers(["x-request-id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("valid bench policy");
    tower::Layer::layer(&corsair_tower::CorsLayer::new(policy), App)
}

fn tower_http_with(origin: tower_http::cors::AllowOrigin) -> tower_http::cors::Cors<App> {
    let layer = tower_http::cors::CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static("x-api-key")])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600));
    tower::Layer::layer(&layer, App)
}

fn tower_http_svc(origins: &[String]) -> tower_http::cors::Cors<App> {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http_with(tower_http::cors::AllowOrigin::list(list))
}

/// tower-http has no subdomain patterns: a predicate doing the same checks
/// as corsair's `https://*.tenantN.example.com` (scheme, a non-empty
/// DNS-style subdomain, the parent, no port).
fn tower_http_patterns() -> tower_http::cors::Cors<App> {
    let parents: Arc<Vec<String>> = Arc::new(
        (0..100)
            .map(|i| format!(".tenant{i}.example.com"))
            .collect(),
    );
    tower_http_with(tower_http::cors::AllowOrigin::predicate(
        move |origin: &HeaderValue, _| {
            let Some(rest) = origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("https://"))
            else {
                return false;
            };
            parents.iter().any(|parent| {
                rest.strip_suffix(parent.as_str()).is_some_and(|sub| {
                    !sub.is_empty()
                        && sub.split('.').all(|label| {
                            !label.is_empty()
                                && label
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        })
                })
            })
        },
    ))
}

/// A request as a server sees it (header values shared, not copied).
fn request(method: Method, headers: &[(HeaderName, HeaderValue)]) -> Request<Body> {
    let mut request = Request::new(Body::default());
    *request.method_mut() = method;
    *request.uri_mut() = http::Uri::from_static("/api/items");
    for (name, value) in headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    request
}

fn actual(origin: &'static str) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (header::ORIGIN, HeaderValue::from_static(origin)),
        (header::ACCEPT, HeaderValue::from_static("application/json")),
    ]
}

fn preflight(origin: &'static str, acrh: HeaderValue) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (header::ORIGIN, HeaderValue::from_static(origin)),
        (
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("PUT"),
        ),
        (header::ACCESS_CONTROL_REQUEST_HEADERS, acrh),
    ]
}

fn hostile(unit: &str) -> HeaderValue {
    let text: String = unit.repeat(64 * 1024 / unit.len());
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    HeaderValue::from_static(leaked)
}

/// Runs one case on the three services.
fn run<S>(bencher: Bencher, mut service: S, method: Method, headers: Vec<(HeaderName, HeaderValue)>)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    bencher
        .with_inputs(|| request(method.clone(), &headers))
        .bench_local_values(|req| call(&mut service, req));
}

macro_rules! case {
    ($name:ident, $method:expr, $headers:expr, corsair: $corsair:expr, tower_http: $tower_http:expr) => {
        mod $name {
            use super::*;

            #[divan::bench]
            fn floor(bencher: Bencher) {
                run(bencher, App, $method, $headers);
            }

            #[divan::bench]
            fn tower_http(bencher: Bencher) {
                run(bencher, $tower_http, $method, $headers);
            }

            #[divan::bench]
            fn corsair(bencher: Bencher) {
                run(bencher, $corsair, $method, $headers);
            }
        }
    };
}

case!(a1_non_cors_get, Method::GET, vec![(header::ACCEPT, HeaderValue::from_static("*/*"))],
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
case!(a2_actual_allowed, Method::GET, actual(ALLOWED),
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
case!(a3_actual_allowed_1k_origins, Method::GET, actual(ALLOWED),
    corsair: corsair_svc(&exact_origins(1_000)), tower_http: tower_http_svc(&exact_origins(1_000)));
case!(a4_actual_allowed_100k_origins, Method::GET, actual(ALLOWED),
    corsair: corsair_svc(&exact_origins(100_000)), tower_http: tower_http_svc(&exact_origins(100_000)));
case!(a5_actual_allowed_100_patterns, Method::GET, actual(PATTERN_REQUEST_ORIGIN),
    corsair: corsair_svc(&pattern_origins()), tower_http: tower_http_patterns());
case!(b1_preflight_allowed, Method::OPTIONS,
    preflight(ALLOWED, HeaderValue::from_static(REQUESTED_HEADERS)),
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
case!(b2_preflight_refused, Method::OPTIONS,
    preflight("https://evil.example", HeaderValue::from_static(REQUESTED_HEADERS)),
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
case!(b3_hostile_preflight_commas, Method::OPTIONS, preflight(ALLOWED, hostile(",")),
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
case!(b4_hostile_preflight_names, Method::OPTIONS, preflight(ALLOWED, hostile("x-api-key,")),
    corsair: corsair_svc(&exact_origins(1)), tower_http: tower_http_svc(&exact_origins(1)));
