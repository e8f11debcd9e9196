//! `corsair serve` in headless Chromium: a page on an allowed origin calls
//! an API through the gateway and succeeds (including a preflighted PUT
//! with a token, and a 502 the page can read when the upstream is down); a
//! page on a refused origin is blocked.
//!
//! Fails when Chromium or the driver's Node dependencies are missing, unless
//! `CORSAIR_SKIP_BROWSER=1` (run `bash scripts/test.sh`, which installs them).

mod common;

use std::process::{Child, Command, Stdio};

use common::{free_port, wait_listening, Server};
use corsair_conformance::driver::{launch_for_test, Page};
use serde_json::Value;

/// A `corsair serve` process, killed on drop.
struct Gateway {
    child: Child,
    port: u16,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the gateway with the quick-start flags and waits until it listens.
fn gateway(upstream: &str, allowed_origin: &str) -> Gateway {
    let port = free_port();
    let admin = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "serve",
            "--upstream",
            upstream,
            "--allow-origin",
            allowed_origin,
            "--allow-method",
            "PUT",
            "--allow-header",
            "authorization",
            "--allow-header",
            "content-type",
            "--allow-credentials",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin",
            &format!("127.0.0.1:{admin}"),
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start corsair serve");
    wait_listening(&mut child, port);
    Gateway { child, port }
}

/// Runs `fetch()` in the page and reports what the script sees.
fn fetch(page: &Page<'_>, url: &str, init: &str) -> Value {
    page.eval(&format!(
        "fetch({url:?}, {init}).then(\
            r => ({{ok: true, status: r.status, upstream: r.headers.get('x-request-id')}}),\
            e => ({{ok: false, error: String(e)}}))"
    ))
    .expect("eval fetch")
}

#[test]
fn pages_call_the_api_through_the_gateway() {
    let Some(browser) = launch_for_test("the gateway browser test") else {
        return;
    };

    // The upstream knows nothing about CORS; it exposes nothing itself.
    let upstream = Server::start(|_| (200, vec![("X-Request-Id".into(), "r-1".into())]));
    // Two pages on different origins: 127.0.0.1 is allowed, localhost is not.
    let pages = Server::start(|_| (200, vec![("Content-Type".into(), "text/html".into())]));
    let allowed = format!("http://127.0.0.1:{}", pages.port);
    let refused = format!("http://localhost:{}", pages.port);
    let gw = gateway(&format!("http://127.0.0.1:{}", upstream.port), &allowed);
    let api = format!("http://127.0.0.1:{}/items", gw.port);

    let page = browser.new_page().expect("page");
    page.goto(&format!("{allowed}/"))
        .expect("open allowed page");
    let simple = fetch(&page, &api, "{credentials: 'include'}");
    assert_eq!(simple["ok"], true, "allowed origin, simple GET: {simple}");
    assert_eq!(simple["status"], 200);
    // Not exposed by the policy: the script cannot read it.
    assert_eq!(simple["upstream"], Value::Null, "{simple}");
    let put = fetch(
        &page,
        &api,
        "{method: 'PUT', credentials: 'include', headers: {'Authorization': 'Bearer t', 'Content-Type': 'application/json'}, body: '{}'}",
    );
    assert_eq!(put["ok"], true, "allowed origin, preflighted PUT: {put}");
    // The preflight was answered by the gateway, never forwarded.
    let seen = upstream.seen();
    assert!(seen.iter().all(|s| s.method != "OPTIONS"), "{seen:?}");
    assert!(seen
        .iter()
        .any(|s| s.method == "PUT" && s.header("authorization") == Some("Bearer t")));
    let patch = fetch(&page, &api, "{method: 'PATCH'}");
    assert_eq!(patch["ok"], false, "PATCH is not allowed: {patch}");

    let other = browser.new_page().expect("page");
    other
        .goto(&format!("{refused}/"))
        .expect("open refused page");
    let blocked = fetch(&other, &api, "{}");
    assert_eq!(blocked["ok"], false, "refused origin: {blocked}");
    assert!(
        blocked["error"]
            .as_str()
            .unwrap_or("")
            .contains("Failed to fetch"),
        "{blocked}"
    );
    let console = other.take_console().expect("console");
    assert!(
        console
            .iter()
            .any(|c| c.text.contains("has been blocked by CORS policy")),
        "{console:?}"
    );

    // Upstream down: the gateway's 502 carries the CORS headers, so the
    // page reads the error instead of seeing a CORS failure.
    let dead = gateway(&format!("http://127.0.0.1:{}", free_port()), &allowed);
    let down = fetch(
        &page,
        &format!("http://127.0.0.1:{}/items", dead.port),
        "{credentials: 'include'}",
    );
    assert_eq!(down["ok"], true, "the 502 must be readable: {down}");
    assert_eq!(down["status"], 502);
}
