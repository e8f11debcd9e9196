//! What `corsair serve` does to request headers an upstream may trust:
//! client-IP claims stripped, its own `Via` entry, HTTP/2 cookie crumbs
//! joined, and WebSocket handshakes judged by the configured server names,
//! never by the client's `Host`.

mod serve_support;

use serve_support::*;

/// Every client-IP claim a spoofing client would send.
const CLAIMS: [(&str, &str); 5] = [
    ("x-real-ip", "10.0.0.1"),
    ("true-client-ip", "10.0.0.1"),
    ("cf-connecting-ip", "10.0.0.1"),
    ("x-client-ip", "10.0.0.1"),
    ("x-forwarded-port", "443"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ip_claims_never_reach_the_upstream() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let mut headers = CLAIMS.to_vec();
    headers.push(("origin", APP));
    headers.push(("via", "1.1 spoofed"));
    headers.push(("x-secret", "kept"));
    let r = send(&client(), Method::GET, &gw.url("/"), &headers, empty())
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-seen-claims"), Some("x-secret"));
    // The gateway's own word on the client comes last.
    assert_eq!(r.header("x-seen-xff"), Some("127.0.0.1"));
    assert_eq!(r.header("x-seen-via"), Some("1.1 spoofed, 1.1 corsair"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_strip_list_replaces_the_default() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(
        up.addr,
        "strip_request_headers = [\"X-Secret\"]",
        POLICY,
    ));
    let gw = Gateway::with_config(&file);
    let headers = [("x-secret", "1"), ("x-real-ip", "10.0.0.1")];
    let r = send(&client(), Method::GET, &gw.url("/"), &headers, empty())
        .await
        .unwrap();
    assert_eq!(r.header("x-seen-claims"), Some("x-real-ip"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_cookie_crumbs_reach_the_upstream_as_one_field() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let h2 = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<TestBody>();
    let request = Request::get(gw.url("/"))
        .header("cookie", "a=1")
        .header("cookie", "b=2")
        .body(empty())
        .unwrap();
    let r = h2.request(request).await.unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    let seen = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(seen("x-seen-cookie").as_deref(), Some("a=1; b=2"));
    assert_eq!(seen("x-seen-cookie-lines").as_deref(), Some("1"));
    assert_eq!(seen("x-seen-via").as_deref(), Some("2 corsair"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_own_pages_are_the_configured_names_not_the_clients_host() {
    let (addr, handshakes, _) = echo_upgrade_upstream().await;
    let file = ConfigFile::new(&config(
        addr,
        "server_names = [\"api.example.com\"]",
        POLICY,
    ));
    let gw = Gateway::with_config(&file);
    // A page on a host the policy does not trust, naming its own host in
    // `Host`: refused, the upstream never asked.
    for (host, origin) in [
        ("evil.example", "https://evil.example"),
        ("127.0.0.1", "http://127.0.0.1"),
    ] {
        let (answer, stream) =
            upgrade_handshake_for(gw.port, host, Some(origin), "websocket").await;
        assert!(stream.is_none(), "{origin}: {answer}");
        assert!(answer.starts_with("HTTP/1.1 403"), "{origin}: {answer}");
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
    // A page on a configured name, any scheme or port: the gateway's own.
    let (answer, stream) = upgrade_handshake_for(
        gw.port,
        "api.example.com",
        Some("https://api.example.com:8443"),
        "websocket",
    )
    .await;
    assert!(stream.is_some(), "{answer}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
}
