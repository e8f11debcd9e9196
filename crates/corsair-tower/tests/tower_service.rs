//! The layer over raw tower services (`service_fn`), with body types other
//! than axum's, stacked, shared across tasks, swapped, and logging.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use common::{access_control, get, preflight, request, vary};
use corsair::Policy;
use corsair_tower::{CorsLayer, PolicyHandle};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};

const APP: &str = "https://app.example.com";

fn policy(origin: &str) -> Policy {
    Policy::builder()
        .allow_origins([origin])
        .allow_methods(["GET", "DELETE"])
        .allow_headers(["x-api-key"])
        .expose_headers(["x-request-id"])
        .build()
        .expect("valid policy")
}

/// A `Full<Bytes>` service answering `status` with `Vary: Accept` and
/// counting its calls.
#[derive(Clone)]
struct FullApp {
    status: StatusCode,
    calls: Arc<AtomicUsize>,
}

impl tower::Service<Request<Full<Bytes>>> for FullApp {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut response = Response::new(Full::new(Bytes::from_static(b"body")));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
        std::future::ready(Ok(response))
    }
}

fn full_app(status: StatusCode, calls: Arc<AtomicUsize>) -> FullApp {
    FullApp { status, calls }
}

#[tokio::test]
async fn full_bytes_bodies_every_status_and_preflights_not_forwarded() {
    let calls = Arc::new(AtomicUsize::new(0));
    for status in [
        StatusCode::OK,
        StatusCode::NOT_FOUND,
        StatusCode::INTERNAL_SERVER_ERROR,
    ] {
        let svc = CorsLayer::new(policy(APP)).layer(full_app(status, calls.clone()));
        let r = svc
            .oneshot(request("GET", "/x", &[("origin", APP)]))
            .await
            .unwrap();
        assert_eq!(r.status(), status);
        assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
        assert_eq!(
            get(r.headers(), "access-control-expose-headers"),
            "x-request-id"
        );
        assert_eq!(vary(r.headers()), ["accept", "origin"]);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let svc = CorsLayer::new(policy(APP)).layer(full_app(StatusCode::OK, calls.clone()));
    let r = svc
        .clone()
        .oneshot(preflight("/x", APP, "DELETE", "x-api-key"))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(r.headers(), "content-length"), "0");
    let r = svc
        .clone()
        .oneshot(preflight("/x", "https://evil.example", "DELETE", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(access_control(r.headers()).is_empty());
    assert!(
        r.headers().get("x-corsair-reason").is_none(),
        "debug mode is opt-in"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "preflights never reach the service"
    );

    // Non-CORS: the app's answer with `Vary: Origin` added for caches.
    let r = svc.oneshot(request("GET", "/x", &[])).await.unwrap();
    assert!(access_control(r.headers()).is_empty());
    assert_eq!(vary(r.headers()), ["accept", "origin"]);
}

#[tokio::test]
async fn string_bodies_and_stacked_layers() {
    let app = service_fn(|_req: Request<String>| async {
        let mut r = Response::new(String::from("hi"));
        r.headers_mut()
            .insert(http::header::VARY, "origin".parse().expect("value"));
        Ok::<_, Infallible>(r)
    });
    let svc = CorsLayer::new(policy(APP)).layer(CorsLayer::new(policy(APP)).layer(app));
    let r = svc
        .clone()
        .oneshot(request("GET", "/", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.body(), "hi");
    assert_eq!(vary(r.headers()), ["origin"]);
    let r = svc.oneshot(preflight("/", APP, "GET", "")).await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.body(), "");
}

#[tokio::test]
async fn debug_header_names_the_refusal_only() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = CorsLayer::new(policy(APP))
        .debug_header(true)
        .layer(full_app(StatusCode::OK, calls));
    for (req, code) in [
        (
            preflight("/", "https://evil.example", "GET", ""),
            "origin-not-allowed",
        ),
        (preflight("/", APP, "PATCH", ""), "method-not-allowed"),
        (preflight("/", APP, "GET", "x-other"), "header-not-allowed"),
        (
            request("GET", "/", &[("origin", "https://evil.example")]),
            "origin-not-allowed",
        ),
    ] {
        let r = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(get(r.headers(), "x-corsair-reason"), code);
        assert!(access_control(r.headers()).is_empty());
        let all: String = r
            .headers()
            .values()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        assert!(
            !all.contains(APP) && !all.contains("x-api-key"),
            "no allowlist leak: {all}"
        );
    }
    let r = svc
        .oneshot(request("GET", "/", &[("origin", APP)]))
        .await
        .unwrap();
    assert!(r.headers().get("x-corsair-reason").is_none());
}

#[tokio::test]
async fn one_layer_shared_across_tasks() {
    fn assert_shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
    let layer = CorsLayer::new(policy(APP));
    assert_shareable(&layer);
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = layer.layer(full_app(StatusCode::OK, calls.clone()));
    assert_shareable(&svc);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let (origin, want) = if i % 2 == 0 {
                (APP, APP)
            } else {
                ("https://evil.example", "")
            };
            for _ in 0..50 {
                let r = svc
                    .clone()
                    .oneshot(request("GET", "/", &[("origin", origin)]))
                    .await
                    .unwrap();
                assert_eq!(get(r.headers(), "access-control-allow-origin"), want);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 800);
}

#[tokio::test]
async fn handle_swaps_the_policy_of_built_services() {
    let handle = PolicyHandle::new(policy(APP));
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = CorsLayer::from_handle(handle.clone()).layer(full_app(StatusCode::OK, calls));
    let next = "https://next.example";
    let allowed =
        |r: &Response<Full<Bytes>>| get(r.headers(), "access-control-allow-origin").to_string();

    let r = svc
        .clone()
        .oneshot(request("GET", "/", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(allowed(&r), APP);
    handle.store(policy(next));
    assert_eq!(handle.current().config().allow_origins, [next]);
    let r = svc
        .clone()
        .oneshot(request("GET", "/", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(allowed(&r), "");
    let r = svc
        .clone()
        .oneshot(request("GET", "/", &[("origin", next)]))
        .await
        .unwrap();
    assert_eq!(allowed(&r), next);
    let r = svc
        .oneshot(preflight("/", next, "DELETE", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn the_response_future_tells_the_decision() {
    use corsair::RequestKind;
    use tower::Service;
    let app = FullApp {
        status: StatusCode::OK,
        calls: Arc::new(AtomicUsize::new(0)),
    };
    let mut svc = CorsLayer::new(policy(APP)).layer(app);
    let cases: [(Request<Full<Bytes>>, RequestKind, &str); 4] = [
        (request("GET", "/", &[]), RequestKind::NonCors, "non-cors"),
        (
            request("GET", "/", &[("origin", APP)]),
            RequestKind::Actual,
            "origin-exact",
        ),
        (
            preflight("/", APP, "DELETE", ""),
            RequestKind::Preflight,
            "origin-exact",
        ),
        (
            preflight("/", "https://evil.example", "DELETE", ""),
            RequestKind::Preflight,
            "origin-not-allowed",
        ),
    ];
    for (req, kind, code) in cases {
        let future = svc.call(req);
        let outcome = future.outcome();
        assert_eq!((outcome.kind, outcome.code), (kind, code));
        future.await.unwrap();
    }
}
