//! `corsair playground`'s HTTP API, against the real binary on loopback:
//! policy validation, prediction (demo API, other servers, bad input), the
//! received-requests log and its event stream, and the guards.

mod common;
mod playground_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use corsair::{ConfigFile, Policy};
use playground_support::{http, send_json, Playground};
use serde_json::{json, Value};

fn page_origin(pg: &Playground) -> String {
    format!("http://127.0.0.1:{}", pg.page_port)
}

#[test]
fn invalid_toml_and_invalid_values_list_every_problem() {
    let pg = Playground::start();
    let r = send_json(
        &pg,
        "POST",
        "/api/policy/validate",
        &json!({"toml": "[cors\nallow_origins = 1"}),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["field"], "toml");
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("line"),
        "{v}"
    );

    let bad = "[cors]\nallow_origins = [\"*\"]\nallow_credentials = true\nallow_methods = [\"get\", \"TRACE\"]\nmax_age = -3\n";
    let v = send_json(&pg, "POST", "/api/policy/validate", &json!({"toml": bad})).json();
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().expect("problems");
    let fields: Vec<&str> = problems
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    for f in ["allow_origins", "allow_methods", "max_age"] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    assert!(
        problems
            .iter()
            .any(|p| p["value"] == "get" && p["severity"] == "error"),
        "{v}"
    );
    assert!(problems
        .iter()
        .all(|p| !p["message"].as_str().unwrap_or("").is_empty()));

    // PUT refuses it with 422 and keeps the previous policy.
    let before = http(pg.page_port, "GET", "/api/policy", &[], b"").json();
    let r = send_json(&pg, "PUT", "/api/policy", &json!({"toml": bad}));
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["ok"], false);
    let after = http(pg.page_port, "GET", "/api/policy", &[], b"").json();
    assert_eq!(before["toml"], after["toml"]);

    // A valid one is applied.
    let good = "[cors]\nallow_origins = [\"http://a.test\"]\n";
    let r = send_json(&pg, "PUT", "/api/policy", &json!({"toml": good}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        http(pg.page_port, "GET", "/api/policy", &[], b"").json()["toml"],
        good
    );
    let r = http(
        pg.api_port,
        "GET",
        "/items",
        &[("Origin", "http://a.test")],
        b"",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://a.test")
    );
}

#[test]
fn unreachable_target_is_a_clear_network_error() {
    let pg = Playground::start();
    // Nothing listens there: a port no other test's listener can be given.
    let port = common::free_port();
    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": page_origin(&pg), "url": format!("http://127.0.0.1:{port}/x"), "method": "GET"}),
    );
    assert_eq!(r.status, 502, "{}", r.body);
    let v = r.json();
    assert_eq!(v["network_error"], true);
    let e = v["error"].as_str().expect("error");
    assert!(
        e.contains("could not connect") && e.contains("not CORS"),
        "{e}"
    );
}

#[test]
fn non_http_urls_and_bad_requests_are_clear_errors() {
    let pg = Playground::start();
    let origin = page_origin(&pg);
    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": origin, "url": "ftp://example.test/f", "method": "GET"}),
    );
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["thrown"], true);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("unsupported scheme `ftp`"),
        "{v}"
    );

    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": origin, "url": "not a url", "method": "GET"}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("invalid URL"),
        "{}",
        r.body
    );

    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": origin, "url": "http://127.0.0.1:1/", "method": "TRACE"}),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("forbidden method"), "{}", r.body);

    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": "nope", "url": "http://127.0.0.1:1/", "method": "GET"}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap_or("").contains("origin"),
        "{}",
        r.body
    );

    let r = send_json(
        &pg,
        "POST",
        "/api/predict",
        &json!({"origin": origin, "url": "http://127.0.0.1:1/", "method": "GET", "profile": "netscape"}),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown browser profile"), "{}", r.body);

    // Not JSON, wrong type, too big, unknown route, wrong Host.
    let r = http(
        pg.page_port,
        "POST",
        "/api/policy/validate",
        &[("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(r.status, 415);
    assert!(r.json()["error"]
        .as_str()
        .unwrap_or("")
        .contains("application/json"));
    let r = http(
        pg.page_port,
        "POST",
        "/api/policy/validate",
        &[("Content-Type", "application/json")],
        b"{\"toml\": 3}",
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].is_string());
    let big = format!("{{\"toml\": \"{}\"}}", "a".repeat(100 * 1024));
    let r = http(
        pg.page_port,
        "POST",
        "/api/policy/validate",
        &[("Content-Type", "application/json")],
        big.as_bytes(),
    );
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].as_str().unwrap_or("").contains("KiB"));
    let r = http(pg.page_port, "GET", "/api/nothing", &[], b"");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = http(
        pg.page_port,
        "GET",
        "/api/info",
        &[("Host", "attacker.example:80")],
        b"",
    );
    assert_eq!(r.status, 421);
}

/// (page origin, method, headers, credentials, allowed by the policy)
type Case<'a> = (&'a str, &'a str, Vec<[&'a str; 2]>, &'a str, bool);

/// The prediction for the demo API must say what the policy decides, and
/// the demo API on the wire must answer what the prediction assumed.
#[test]
fn prediction_for_the_demo_api_agrees_with_the_policy() {
    let pg = Playground::start();
    let origin = page_origin(&pg);
    let toml = format!(
        "[cors]\nallow_origins = [\"{origin}\"]\nallow_methods = [\"GET\", \"DELETE\"]\nallow_headers = [\"authorization\"]\nallow_credentials = true\n"
    );
    assert_eq!(
        send_json(&pg, "PUT", "/api/policy", &json!({"toml": toml})).status,
        200
    );
    let policy = Policy::new(&ConfigFile::from_toml(&toml).expect("toml").cors).expect("policy");

    let cases: [Case; 4] = [
        (
            origin.as_str(),
            "DELETE",
            vec![["Authorization", "Bearer demo-token"]],
            "include",
            true,
        ),
        (origin.as_str(), "PUT", vec![], "omit", false),
        ("http://other.test", "GET", vec![], "omit", false),
        (
            origin.as_str(),
            "GET",
            vec![["X-Custom", "1"]],
            "omit",
            false,
        ),
    ];
    for (from, method, headers, credentials, allowed) in cases {
        let url = pg.api_url("/items/1?_run=t");
        let r = send_json(
            &pg,
            "POST",
            "/api/predict",
            &json!({"origin": from, "url": url, "method": method, "headers": headers, "credentials": credentials}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let p = r.json();
        assert_eq!(p["target"], "demo");
        assert_eq!(p["allowed"], allowed, "{from} {method}: {p}");
        let exchanges = p["exchanges"].as_array().expect("exchanges");
        assert!(!exchanges.is_empty());
        for x in exchanges {
            // The policy's own decision for this exact request.
            let method =
                http::Method::from_bytes(x["request"]["method"].as_str().unwrap_or("").as_bytes())
                    .expect("method");
            let mut h = http::HeaderMap::new();
            for pair in x["request"]["headers"].as_array().expect("headers") {
                h.append(
                    http::HeaderName::from_bytes(pair[0].as_str().unwrap_or("").as_bytes())
                        .expect("name"),
                    http::HeaderValue::from_str(pair[1].as_str().unwrap_or("")).expect("value"),
                );
            }
            let decision = policy.evaluate(&method, &h);
            assert_eq!(x["decision"]["code"], decision.verdict.code(), "{x}");
            assert_eq!(x["decision"]["allowed"], decision.is_allowed(), "{x}");

            // The real demo API answers the same request as predicted.
            let pairs: Vec<(String, String)> = h
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let path = x["request"]["url"]
                .as_str()
                .unwrap_or("")
                .split_once(&format!(":{}", pg.api_port))
                .map(|(_, p)| p.to_string())
                .unwrap_or_default();
            let real = http(pg.api_port, method.as_str(), &path, &refs, b"");
            let predicted = &x["response"];
            assert_eq!(predicted["status"], real.status, "{path}: {x} vs {real:?}");
            for name in [
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-allow-methods",
                "access-control-allow-headers",
            ] {
                let p = predicted["headers"]
                    .as_array()
                    .expect("headers")
                    .iter()
                    .find(|pair| pair[0] == name)
                    .and_then(|pair| pair[1].as_str());
                assert_eq!(p, real.header(name), "{name} on {method} {path}");
            }
        }
    }
}

#[test]
fn received_requests_are_logged_and_streamed() {
    let pg = Playground::start();
    let mut events = TcpStream::connect(("127.0.0.1", pg.page_port)).expect("connect");
    events
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        events,
        "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        pg.page_port
    )
    .expect("write");
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("event: hello") {
        let n = events.read(&mut buf).expect("read hello");
        assert!(n > 0, "stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("text/event-stream"), "{seen}");

    let r = http(
        pg.api_port,
        "OPTIONS",
        "/items?_run=log1",
        &[
            ("Origin", "http://x.test"),
            ("Access-Control-Request-Method", "PUT"),
        ],
        b"",
    );
    assert_eq!(r.status, 403);
    while !seen.contains("event: received") {
        let n = events.read(&mut buf).expect("read event");
        assert!(n > 0, "stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        seen.contains("\"run\":\"log1\"") && seen.contains("\"preflight\":true"),
        "{seen}"
    );

    let log: Value = http(pg.page_port, "GET", "/api/received?run=log1", &[], b"").json();
    let entry = &log[0];
    assert_eq!(entry["method"], "OPTIONS");
    assert_eq!(entry["origin"], "http://x.test");
    assert_eq!(entry["status"], 403);
    // The default policy (public, read-only) refuses PUT.
    assert_eq!(entry["decision"]["code"], "method-not-allowed");
    assert_eq!(
        http(pg.page_port, "GET", "/api/received?run=none", &[], b"").json(),
        json!([])
    );
}

#[test]
fn page_is_embedded_with_a_strict_content_security_policy() {
    let pg = Playground::start();
    let r = http(pg.page_port, "GET", "/", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("corsair playground"));
    let csp = r.header("content-security-policy").expect("csp");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(r
        .header("set-cookie")
        .unwrap_or("")
        .starts_with("corsair_session="));
    let r = http(pg.page_port, "GET", "/app.js", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/javascript"));
}

#[test]
fn refuses_non_loopback_addresses_and_documents_itself() {
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["playground", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("loopback") && err.contains("--listen 127.0.0.1"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["playground", "--help"])
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Example") && help.contains("--api-port"),
        "{help}"
    );

    // A port in use is a clear error.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["playground", "--listen", &format!("127.0.0.1:{port}")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in use"));
}

#[test]
fn a_pasted_console_error_is_explained_like_the_prediction_that_printed_it() {
    let pg = Playground::start();
    // A request the demo API's default policy blocks: a DELETE with a token.
    let api = format!("http://127.0.0.1:{}/items/1", pg.api_port);
    for profile in ["chromium", "firefox", "webkit"] {
        let r = send_json(
            &pg,
            "POST",
            "/api/predict",
            &json!({"origin": page_origin(&pg), "url": api, "method": "DELETE",
                    "headers": [["x-token", "1"]], "profile": profile}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let predicted = r.json();
        let error = &predicted["error"];
        let message = error["console_message"]
            .as_str()
            .expect("a blocked request");
        let r = send_json(
            &pg,
            "POST",
            "/api/explain",
            &json!({"text": message, "origin": page_origin(&pg)}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        assert_eq!(v["browser"], profile, "{message}");
        let code = v["code"].as_str().unwrap();
        let also: Vec<&str> = v["also_possible"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            code == error["code"] || also.contains(&error["code"].as_str().unwrap()),
            "{v}"
        );
        assert!(
            v["fix"]["toml"]
                .as_str()
                .unwrap()
                .contains(&page_origin(&pg)),
            "{v}"
        );
    }
    let r = send_json(
        &pg,
        "POST",
        "/api/explain",
        &json!({"text": "TypeError: Failed to fetch"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["unrecognized"], true);
}
