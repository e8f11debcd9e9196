//! The layer inside real axum routers, driven with `oneshot`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::{access_control, get as header_of, preflight, request, vary};
use corsair::Policy;
use corsair_tower::CorsLayer;
use tower::ServiceExt;

const APP: &str = "https://app.example.com";

fn policy() -> Policy {
    Policy::builder()
        .allow_origins([APP])
        .allow_methods(["GET", "PUT"])
        .allow_headers(["content-type"])
        .allow_credentials(true)
        .build()
        .expect("valid policy")
}

/// A router whose handler counts its calls.
fn counted() -> (Router<()>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                ([(header::VARY, "accept-encoding")], "items")
            }
        })
        .put(|| async { StatusCode::NO_CONTENT })
        .options(|| async { "the app's own OPTIONS" }),
    );
    (router, calls)
}

#[tokio::test]
async fn preflights_never_reach_the_router_even_with_an_options_route() {
    let (router, calls) = counted();
    let app = router.layer(CorsLayer::new(policy()));

    let r = app
        .clone()
        .oneshot(preflight::<Body>("/items", APP, "PUT", "content-type"))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        header_of(r.headers(), "access-control-allow-methods"),
        "GET, PUT"
    );
    assert_eq!(
        vary(r.headers()),
        [
            "origin",
            "access-control-request-method",
            "access-control-request-headers"
        ]
    );

    // Refused: 403, no Access-Control-* at all, the app not called.
    let r = app
        .clone()
        .oneshot(preflight::<Body>(
            "/items",
            "https://evil.example",
            "GET",
            "",
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(access_control(r.headers()).is_empty());
    let r = app
        .clone()
        .oneshot(preflight::<Body>("/items", APP, "PUT", "x-secret"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(access_control(r.headers()).is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // A plain OPTIONS (no Access-Control-Request-Method) is the app's.
    let r = app
        .clone()
        .oneshot(request::<Body>("OPTIONS", "/items", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);
}

#[tokio::test]
async fn unrouted_paths_are_answered_and_errors_get_headers() {
    let (router, _) = counted();
    let app = router.layer(CorsLayer::new(policy()));

    let r = app
        .clone()
        .oneshot(preflight::<Body>("/not/routed", APP, "GET", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);

    // 404 and 405 from axum itself are readable by the page.
    let r = app
        .clone()
        .oneshot(request::<Body>("GET", "/not/routed", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);
    assert_eq!(
        header_of(r.headers(), "access-control-allow-credentials"),
        "true"
    );
    let r = app
        .oneshot(request::<Body>("DELETE", "/items", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);
}

#[tokio::test]
async fn actual_requests_merge_vary_even_with_two_layers() {
    let (router, calls) = counted();
    let app = router
        .layer(CorsLayer::new(policy()))
        .layer(CorsLayer::new(policy()));
    let r = app
        .oneshot(request::<Body>("GET", "/items", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(vary(r.headers()), ["accept-encoding", "origin"]);
    assert_eq!(
        r.headers()
            .get_all("access-control-allow-origin")
            .iter()
            .count(),
        1
    );
}

#[tokio::test]
async fn the_policy_replaces_cors_headers_set_by_handlers() {
    let app = Router::new()
        .route(
            "/legacy",
            get(|| async {
                (
                    [
                        (
                            header::ACCESS_CONTROL_ALLOW_ORIGIN,
                            HeaderValue::from_static("*"),
                        ),
                        (
                            header::ACCESS_CONTROL_ALLOW_METHODS,
                            HeaderValue::from_static("*"),
                        ),
                    ],
                    "legacy",
                )
                    .into_response()
            }),
        )
        .layer(CorsLayer::new(policy()));
    let r = app
        .clone()
        .oneshot(request::<Body>("GET", "/legacy", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);
    assert!(r.headers().get("access-control-allow-methods").is_none());
    let r = app
        .oneshot(request::<Body>(
            "GET",
            "/legacy",
            &[("origin", "https://evil.example")],
        ))
        .await
        .unwrap();
    assert!(access_control(r.headers()).is_empty());
}

#[tokio::test]
async fn route_layer_misses_unrouted_paths_and_method_router_layers_work_per_route() {
    // Router::route_layer: the layer wraps each route (with its method
    // fallback), so preflights for routed paths are answered, but a path
    // with no route never reaches it: a bare 404, no CORS headers.
    let app = Router::new()
        .route("/items", get(|| async { "items" }))
        .route_layer(CorsLayer::new(policy()));
    let r = app
        .clone()
        .oneshot(preflight::<Body>("/items", APP, "PUT", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .clone()
        .oneshot(preflight::<Body>("/not/routed", APP, "PUT", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(access_control(r.headers()).is_empty());
    let r = app
        .clone()
        .oneshot(request::<Body>("GET", "/not/routed", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(access_control(r.headers()).is_empty());
    let r = app
        .oneshot(request::<Body>("GET", "/items", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);

    // A layer on the method router wraps its 405 fallback too: one route,
    // its own policy, preflights answered.
    let app = Router::new()
        .route(
            "/items",
            get(|| async { "items" }).layer(CorsLayer::new(policy())),
        )
        .route("/other", get(|| async { "other" }));
    let r = app
        .clone()
        .oneshot(preflight::<Body>("/items", APP, "PUT", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .oneshot(request::<Body>("GET", "/other", &[("origin", APP)]))
        .await
        .unwrap();
    assert!(access_control(r.headers()).is_empty());
}

#[tokio::test]
async fn cors_outside_auth_answers_preflights_auth_first_does_not() {
    let deny = axum::middleware::from_fn(
        |_: axum::extract::Request, _: axum::middleware::Next| async {
            StatusCode::UNAUTHORIZED.into_response()
        },
    );
    // Right: CORS added last is the outermost layer.
    let right = Router::new()
        .route("/items", get(|| async { "items" }))
        .layer(deny.clone())
        .layer(CorsLayer::new(policy()));
    let r = right
        .clone()
        .oneshot(preflight::<Body>("/items", APP, "PUT", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = right
        .oneshot(request::<Body>("GET", "/items", &[("origin", APP)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header_of(r.headers(), "access-control-allow-origin"), APP);

    // Wrong: auth outermost rejects the credential-less preflight.
    let wrong = Router::new()
        .route("/items", get(|| async { "items" }))
        .layer(CorsLayer::new(policy()))
        .layer(deny);
    let r = wrong
        .oneshot(preflight::<Body>("/items", APP, "PUT", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
