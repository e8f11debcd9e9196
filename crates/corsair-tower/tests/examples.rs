//! Every example, run as a real server on a loopback port and called over
//! HTTP/1.1 (the examples are included as modules; their `main` only binds
//! a fixed port and calls the same `serve`).

mod common;

#[allow(dead_code)]
#[path = "../examples/axum_credentials.rs"]
mod axum_credentials;
#[allow(dead_code)]
#[path = "../examples/axum_public.rs"]
mod axum_public;
#[allow(dead_code)]
#[path = "../examples/hyper_service.rs"]
mod hyper_service;
#[allow(dead_code)]
#[path = "../examples/tonic_grpc_web.rs"]
mod tonic_grpc_web;

use bytes::Bytes;
use common::{access_control, get, loopback, preflight, request, send, vary};
use corsair::Policy;
use corsair_tower::PolicyHandle;
use http_body_util::Full;

const APP: &str = "https://app.example.com";

#[tokio::test]
async fn axum_credentials_answers_preflights_before_auth_and_decorates_401s() {
    let (listener, addr) = loopback().await;
    tokio::spawn(axum_credentials::serve(listener));

    // The preflight carries no credentials: answered by CORS, auth never runs.
    let r = send(addr, preflight("/api/items", APP, "POST", "content-type")).await;
    assert_eq!(r.status(), 204);
    assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
    assert_eq!(get(r.headers(), "access-control-allow-credentials"), "true");
    assert_eq!(
        get(r.headers(), "access-control-allow-headers"),
        "authorization, content-type"
    );
    assert_eq!(get(r.headers(), "access-control-max-age"), "600");

    // Without credentials the auth layer answers 401, with CORS headers so
    // the page can read the error.
    let r = send(addr, request("GET", "/api/me", &[("origin", APP)])).await;
    assert_eq!(r.status(), 401);
    assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
    assert!(vary(r.headers()).contains(&"origin".to_string()));

    // With a session cookie, from a preview subdomain (pattern entry).
    let preview = "https://pr-7.preview.example.com";
    let r = send(
        addr,
        request(
            "GET",
            "/api/me",
            &[("origin", preview), ("cookie", "session=abc")],
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.body(), &Bytes::from_static(br#"{"user":"ada"}"#));
    assert_eq!(get(r.headers(), "access-control-allow-origin"), preview);
    assert_eq!(
        get(r.headers(), "access-control-expose-headers"),
        "x-request-id"
    );

    // A foreign origin: the app answers, but no Access-Control-* header.
    let r = send(
        addr,
        request(
            "GET",
            "/api/me",
            &[
                ("origin", "https://evil.example"),
                ("cookie", "session=abc"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(access_control(r.headers()).is_empty(), "{:?}", r.headers());

    // A method outside the policy is refused with 403.
    let r = send(addr, preflight("/api/items", APP, "PATCH", "")).await;
    assert_eq!(r.status(), 403);
    assert!(access_control(r.headers()).is_empty());
}

#[tokio::test]
async fn axum_public_serves_any_origin_and_explains_refusals() {
    let (listener, addr) = loopback().await;
    tokio::spawn(axum_public::serve(listener));

    let r = send(
        addr,
        request("GET", "/v1/items", &[("origin", "https://anyone.example")]),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(get(r.headers(), "access-control-allow-origin"), "*");
    assert_eq!(
        get(r.headers(), "access-control-expose-headers"),
        "x-total-count"
    );
    // The handler's Vary is kept; `*` needs no `Vary: Origin`.
    assert_eq!(vary(r.headers()), ["accept-encoding"]);

    // Errors of the application are readable cross-origin too.
    let r = send(
        addr,
        request("GET", "/v1/fail", &[("origin", "https://anyone.example")]),
    )
    .await;
    assert_eq!(r.status(), 500);
    assert_eq!(get(r.headers(), "access-control-allow-origin"), "*");

    // Unrouted path: the preflight is still answered.
    let r = send(
        addr,
        preflight("/v1/nowhere", "https://anyone.example", "GET", "x-api-key"),
    )
    .await;
    assert_eq!(r.status(), 204);

    // Debug mode names the refusal, and only the code.
    let r = send(
        addr,
        preflight("/v1/items", "https://anyone.example", "GET", "x-secret"),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(get(r.headers(), "x-corsair-reason"), "header-not-allowed");
    assert!(access_control(r.headers()).is_empty());
}

#[tokio::test]
async fn hyper_service_follows_policy_swaps_while_serving() {
    let (listener, addr) = loopback().await;
    let handle = PolicyHandle::new(hyper_service::initial_policy().expect("policy"));
    tokio::spawn(hyper_service::serve(listener, handle.clone()));

    let other = "https://other.example";
    let r = send(addr, request("GET", "/hello", &[("origin", APP)])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.body(), &Bytes::from_static(b"hello from /hello\n"));
    assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
    let r = send(addr, request("GET", "/hello", &[("origin", other)])).await;
    assert!(access_control(r.headers()).is_empty());

    handle.store(
        Policy::builder()
            .allow_origins([other])
            .build()
            .expect("policy"),
    );
    let r = send(addr, request("GET", "/hello", &[("origin", other)])).await;
    assert_eq!(get(r.headers(), "access-control-allow-origin"), other);
    let r = send(addr, preflight("/hello", APP, "PUT", "")).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn tonic_grpc_web_call_and_preflight() {
    let (listener, addr) = loopback().await;
    tokio::spawn(async move {
        if let Err(e) = tonic_grpc_web::serve(listener).await {
            panic!("tonic server failed: {e}");
        }
    });

    // The preflight a grpc-web client sends.
    let r = send(
        addr,
        preflight(
            "/corsair.example.Echo/Say",
            APP,
            "POST",
            "content-type,grpc-timeout,x-grpc-web,x-user-agent",
        ),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
    assert_eq!(
        get(r.headers(), "access-control-allow-headers"),
        "content-type, x-grpc-web, x-user-agent, grpc-timeout"
    );

    // The call itself: one length-prefixed message in, echoed back, with
    // the status in a trailer frame and the grpc headers exposed.
    let mut frame = vec![0u8, 0, 0, 0, 5];
    frame.extend_from_slice(b"hello");
    let mut call = request::<Full<Bytes>>(
        "POST",
        "/corsair.example.Echo/Say",
        &[
            ("origin", APP),
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
            ("x-user-agent", "grpc-web-javascript/0.1"),
        ],
    );
    *call.body_mut() = Full::new(Bytes::from(frame));
    let r = send(addr, call).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        get(r.headers(), "content-type"),
        "application/grpc-web+proto"
    );
    assert_eq!(get(r.headers(), "access-control-allow-origin"), APP);
    assert_eq!(
        get(r.headers(), "access-control-expose-headers"),
        "grpc-status, grpc-message, grpc-status-details-bin"
    );
    let body = r.body();
    assert_eq!(&body[..10], b"\0\0\0\0\x05hello");
    let trailers = String::from_utf8_lossy(&body[15..]).to_ascii_lowercase();
    assert_eq!(body[10], 0x80, "trailer frame");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    // From a foreign origin the call works (it is the browser that blocks),
    // but carries no CORS header.
    let r = send(
        addr,
        preflight(
            "/corsair.example.Echo/Say",
            "https://evil.example",
            "POST",
            "x-grpc-web",
        ),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(access_control(r.headers()).is_empty());
}
