//! End-to-end flows of the browser state machine with scripted servers.
//! Scenarios follow the Fetch Standard and the cases web-platform-tests
//! exercise in fetch/api/cors and cors/ (rewritten with our own data).

use corsair::browser::{Browser, BrowserRequest, Credentials, HttpRequest, Outcome, Profile, Step};
use corsair::Origin;
use std::time::Duration;

const PAGE: &str = "https://app.example";

fn hm(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut m = http::HeaderMap::new();
    for (n, v) in pairs {
        m.append(
            http::HeaderName::from_bytes(n.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    m
}

fn req(url: &str, method: &str, headers: &[(&str, &str)], cred: Credentials) -> BrowserRequest {
    let h: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    BrowserRequest::new(Origin::parse(PAGE).expect("origin"), url, method, h, cred)
        .expect("valid request")
}

/// Runs a flow, answering each request with `server`. Returns the outcome
/// and every request sent.
fn run(
    browser: &mut Browser,
    request: BrowserRequest,
    mut server: impl FnMut(&HttpRequest) -> (u16, http::HeaderMap),
) -> (Outcome, Vec<HttpRequest>) {
    let mut flow = browser.start(request);
    let mut sent = Vec::new();
    let mut step = flow.next_step();
    for _ in 0..100 {
        match step {
            Step::SendPreflight(r) | Step::SendActual(r) => {
                let (status, headers) = server(&r);
                sent.push(r);
                step = flow.on_response(status, &headers);
            }
            Step::Done(o) => return (*o, sent),
        }
    }
    panic!("flow did not finish");
}

/// A server that allows `PAGE` for everything, with extra headers.
fn permissive(
    extra: &'static [(&'static str, &'static str)],
) -> impl FnMut(&HttpRequest) -> (u16, http::HeaderMap) {
    move |r| {
        let mut h = hm(extra);
        h.insert(
            "access-control-allow-origin",
            http::HeaderValue::from_static(PAGE),
        );
        if r.method == http::Method::OPTIONS {
            (204, h)
        } else {
            (200, h)
        }
    }
}

#[test]
fn simple_get_needs_no_preflight_and_sends_origin() {
    let mut b = Browser::new(Profile::Spec);
    let (o, sent) = run(
        &mut b,
        req("https://api.example/x", "GET", &[], Credentials::SameOrigin),
        permissive(&[]),
    );
    assert!(o.allowed);
    assert!(!o.preflight_sent);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].headers["origin"], PAGE);
    assert_eq!(sent[0].headers["accept"], "*/*");
}

#[test]
fn same_origin_has_no_cors_checks() {
    let mut b = Browser::new(Profile::Spec);
    let r = req(
        "https://app.example/x",
        "PUT",
        &[("X-Custom", "1")],
        Credentials::SameOrigin,
    );
    let (o, sent) = run(&mut b, r, |_| {
        (200, hm(&[("x-custom", "1"), ("set-cookie", "a=b")]))
    });
    assert!(o.allowed);
    assert!(!o.preflight_sent);
    // Origin is sent for a same-origin PUT, and every header but Set-Cookie is readable.
    assert_eq!(sent[0].headers["origin"], PAGE);
    assert_eq!(o.exposed_headers, vec!["x-custom"]);
}

#[test]
fn missing_allow_origin_has_exact_chromium_message() {
    let mut b = Browser::new(Profile::Chromium);
    let (o, _) = run(
        &mut b,
        req(
            "https://api.example/data",
            "GET",
            &[],
            Credentials::SameOrigin,
        ),
        |_| (200, hm(&[])),
    );
    let e = o.error.expect("blocked");
    assert_eq!(e.code(), "missing-allow-origin");
    // Chromium 156's wording, as recorded by corsair-conformance (older
    // versions appended a "no-cors" hint).
    assert_eq!(
        e.message(Profile::Chromium),
        "Access to fetch at 'https://api.example/data' from origin 'https://app.example' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource."
    );
    assert_eq!(
        e.message(Profile::Firefox),
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example/data. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200."
    );
    assert_eq!(
        e.message(Profile::Webkit),
        "Origin https://app.example is not allowed by Access-Control-Allow-Origin. Status code: 200\nFetch API cannot load https://api.example/data due to access control checks."
    );
    let fix = e.fix();
    assert_eq!(fix.header.as_deref(), Some("Access-Control-Allow-Origin"));
    assert_eq!(fix.value.as_deref(), Some(PAGE));
    assert!(fix
        .toml
        .starts_with("[cors]\nallow_origins = [\"https://app.example\"]\n"));
}

#[test]
fn preflight_shape_and_failure_message() {
    let mut b = Browser::new(Profile::Chromium);
    let r = req(
        "https://api.example/items",
        "put",
        &[
            ("X-B", "1"),
            ("x-a", "2"),
            ("Content-Type", "application/json"),
            ("Cookie", "dropped"),
        ],
        Credentials::Include,
    );
    let (o, sent) = run(&mut b, r, |_| (404, hm(&[])));
    assert_eq!(sent.len(), 1, "the actual request is never sent");
    let p = &sent[0];
    assert_eq!(p.method, http::Method::OPTIONS);
    assert_eq!(p.headers["access-control-request-method"], "PUT");
    assert_eq!(
        p.headers["access-control-request-headers"],
        "content-type,x-a,x-b"
    );
    assert!(p.headers.get("cookie").is_none());
    assert!(p.headers.get("x-a").is_none());
    assert_eq!(o.dropped_headers, vec!["cookie"]);
    let e = o.error.expect("blocked");
    // Chromium reports the missing header before the 404.
    assert_eq!(e.code(), "missing-allow-origin");
    assert!(e.message(Profile::Chromium).contains(
        "has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header"
    ));
    let fix = e.fix();
    assert!(fix
        .toml
        .contains("allow_methods = [\"GET\", \"POST\", \"PUT\"]"));
    assert!(fix
        .toml
        .contains("allow_headers = [\"content-type\", \"x-a\", \"x-b\"]"));
    assert!(fix.toml.contains("allow_credentials = true"));
}

#[test]
fn preflight_then_actual_and_cache_hit() {
    let mut b = Browser::new(Profile::Chromium);
    let server = || {
        permissive(&[
            ("access-control-allow-methods", "PUT"),
            ("access-control-max-age", "86400"),
        ])
    };
    let (o, sent) = run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Omit),
        server(),
    );
    assert!(o.allowed);
    assert!(o.preflight_sent);
    assert_eq!(o.preflight_max_age, Some(7200), "Chromium caps at 2 h");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].method, http::Method::PUT);
    // Within max-age: no preflight.
    b.set_time(Duration::from_secs(7199));
    let (o, sent) = run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Omit),
        server(),
    );
    assert!(o.allowed && !o.preflight_sent && o.preflight_cache_hit);
    assert_eq!(sent.len(), 1);
    // Expired: preflight again.
    b.set_time(Duration::from_secs(7200));
    let (o, _) = run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Omit),
        server(),
    );
    assert!(o.preflight_sent);
    // A credentialed request cannot use the non-credentialed entry.
    let (o, _) = run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Include),
        server(),
    );
    assert!(o.preflight_sent);
}

#[test]
fn cache_merge_versus_replace() {
    for (profile, put_cached) in [(Profile::Spec, true), (Profile::Chromium, false)] {
        let mut b = Browser::new(profile);
        let server = || {
            permissive(&[
                ("access-control-allow-methods", "PUT, DELETE"),
                ("access-control-max-age", "600"),
            ])
        };
        run(
            &mut b,
            req("https://api.example/x", "PUT", &[], Credentials::Omit),
            server(),
        );
        // The second preflight allows only DELETE.
        let only_delete = permissive(&[
            ("access-control-allow-methods", "DELETE"),
            ("access-control-allow-headers", "x-new"),
            ("access-control-max-age", "600"),
        ]);
        run(
            &mut b,
            req(
                "https://api.example/x",
                "DELETE",
                &[("x-new", "1")],
                Credentials::Omit,
            ),
            only_delete,
        );
        let (o, _) = run(
            &mut b,
            req("https://api.example/x", "PUT", &[], Credentials::Omit),
            server(),
        );
        assert_eq!(!o.preflight_sent, put_cached, "{profile}");
    }
}

#[test]
fn failed_check_clears_cache_entries() {
    let mut b = Browser::new(Profile::Spec);
    let ok = permissive(&[
        ("access-control-allow-methods", "PUT"),
        ("access-control-max-age", "600"),
    ]);
    run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Omit),
        ok,
    );
    assert!(!b.cache().entries().is_empty());
    // Cached preflight, but the actual response fails the CORS check.
    let (o, sent) = run(
        &mut b,
        req("https://api.example/x", "PUT", &[], Credentials::Omit),
        |_| (200, hm(&[])),
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(o.error.map(|e| e.code()), Some("missing-allow-origin"));
    assert!(b.cache().entries().is_empty());
}

#[test]
fn redirects_taint_origin_and_drop_authorization() {
    let mut b = Browser::new(Profile::Spec);
    let r = req(
        "https://a.example/start",
        "GET",
        &[("Authorization", "Bearer t")],
        Credentials::Omit,
    );
    let (o, sent) = run(&mut b, r, |r| match (r.method.as_str(), r.url.host_str()) {
        ("OPTIONS", Some("a.example")) => (
            204,
            hm(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-headers", "authorization"),
            ]),
        ),
        ("GET", Some("a.example")) => (
            302,
            hm(&[
                ("access-control-allow-origin", PAGE),
                ("location", "https://b.example/next"),
            ]),
        ),
        ("GET", Some("b.example")) if r.url.path() == "/next" => (
            302,
            hm(&[("access-control-allow-origin", "*"), ("location", "/final")]),
        ),
        _ => (200, hm(&[("access-control-allow-origin", "null")])),
    });
    assert!(o.allowed, "{:?}", o.error);
    assert_eq!(o.redirects, 2);
    let urls: Vec<_> = sent
        .iter()
        .map(|r| format!("{} {}", r.method, r.url))
        .collect();
    assert_eq!(
        urls,
        [
            "OPTIONS https://a.example/start",
            "GET https://a.example/start",
            "GET https://b.example/next",
            "GET https://b.example/final"
        ]
    );
    // Authorization dropped at the cross-origin hop, so no new preflight.
    assert!(sent[2].headers.get("authorization").is_none());
    // a → b: b's requests are tainted only after leaving a cross-origin URL.
    assert_eq!(sent[2].headers["origin"], "null");
    assert_eq!(sent[3].headers["origin"], "null");
}

#[test]
fn redirect_hop_is_cors_checked() {
    let mut b = Browser::new(Profile::Chromium);
    let r = req("https://api.example/old", "GET", &[], Credentials::Omit);
    let (o, sent) = run(&mut b, r, |_| {
        (301, hm(&[("location", "https://api.example/new")]))
    });
    assert_eq!(sent.len(), 1);
    let e = o.error.expect("blocked");
    assert_eq!(e.code(), "missing-allow-origin");
    assert_eq!(e.stage, corsair::browser::Stage::Redirect);
}

#[test]
fn redirect_rewrites_post_and_drops_body_headers() {
    let mut b = Browser::new(Profile::Spec);
    let r = req(
        "https://api.example/form",
        "POST",
        &[("Content-Type", "text/plain"), ("Content-Language", "en")],
        Credentials::Omit,
    );
    let (o, sent) = run(&mut b, r, |r| {
        if r.url.path() == "/form" {
            (
                303,
                hm(&[("access-control-allow-origin", "*"), ("location", "/done")]),
            )
        } else {
            (200, hm(&[("access-control-allow-origin", "*")]))
        }
    });
    assert!(o.allowed);
    assert_eq!(sent[1].method, http::Method::GET);
    assert!(sent[1].headers.get("content-type").is_none());
    assert!(sent[1].headers.get("content-language").is_none());
    // 307 keeps the method.
    let r = req("https://api.example/form", "POST", &[], Credentials::Omit);
    let (_, sent) = run(&mut b, r, |r| {
        if r.url.path() == "/form" {
            (
                307,
                hm(&[("access-control-allow-origin", "*"), ("location", "/done")]),
            )
        } else {
            (200, hm(&[("access-control-allow-origin", "*")]))
        }
    });
    assert_eq!(sent[1].method, http::Method::POST);
}

#[test]
fn redirect_failures() {
    let mut b = Browser::new(Profile::Spec);
    let acao = ("access-control-allow-origin", "*");
    // A loop: 20 redirects are followed, the 21st fails.
    let (o, sent) = run(
        &mut b,
        req("https://api.example/loop", "GET", &[], Credentials::Omit),
        |_| (302, hm(&[acao, ("location", "/loop")])),
    );
    assert_eq!(o.error.map(|e| e.code()), Some("too-many-redirects"));
    assert_eq!(sent.len(), 21);
    let cases = [
        ("https://user:pw@api.example/x", "redirect-with-userinfo"),
        ("ftp://api.example/x", "redirect-not-http"),
        ("http://[::1", "invalid-redirect-location"),
    ];
    for (loc, code) in cases {
        let (o, _) = run(
            &mut b,
            req("https://api.example/r", "GET", &[], Credentials::Omit),
            move |_| (302, hm(&[acao, ("location", loc)])),
        );
        assert_eq!(o.error.map(|e| e.code()), Some(code), "{loc}");
    }
}

#[test]
fn new_preflight_after_redirect_to_new_url() {
    let mut b = Browser::new(Profile::Spec);
    let r = req("https://api.example/a", "DELETE", &[], Credentials::Omit);
    let (o, sent) = run(&mut b, r, |r| {
        let base = [
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-methods", "DELETE"),
        ];
        match (r.method.as_str(), r.url.path()) {
            ("DELETE", "/a") => {
                let mut h = hm(&base);
                h.insert("location", http::HeaderValue::from_static("/b"));
                (307, h)
            }
            (_, _) => (
                if r.method == http::Method::OPTIONS {
                    204
                } else {
                    200
                },
                hm(&base),
            ),
        }
    });
    assert!(o.allowed);
    let seq: Vec<_> = sent
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(seq, ["OPTIONS /a", "DELETE /a", "OPTIONS /b", "DELETE /b"]);
}

#[test]
fn exposure_under_credentials() {
    let mut b = Browser::new(Profile::Spec);
    let headers: &'static [(&'static str, &'static str)] = &[
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", "*"),
        ("x-request-id", "1"),
        ("set-cookie", "s=1"),
    ];
    let (o, _) = run(
        &mut b,
        req("https://api.example/x", "GET", &[], Credentials::Include),
        permissive(headers),
    );
    assert!(o.allowed);
    assert!(!o.exposed_headers.contains(&"x-request-id".to_string()));
    let (o, _) = run(
        &mut b,
        req("https://api.example/x", "GET", &[], Credentials::Omit),
        permissive(headers),
    );
    assert!(o.exposed_headers.contains(&"x-request-id".to_string()));
    assert!(!o.exposed_headers.contains(&"set-cookie".to_string()));
}

#[test]
fn every_error_has_messages_and_fix_for_every_profile() {
    // Drive a set of failing servers and check each message is non-empty
    // and mentions the URL.
    type Server<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, u16);
    let servers: Vec<Server> = vec![
        (
            "GET",
            "include",
            vec![("access-control-allow-origin", "*")],
            200,
        ),
        (
            "GET",
            "omit",
            vec![(
                "access-control-allow-origin",
                "https://a.example, https://b.example",
            )],
            200,
        ),
        (
            "GET",
            "include",
            vec![
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-credentials", "True"),
            ],
            200,
        ),
        (
            "PUT",
            "omit",
            vec![
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-methods", "PUT;"),
            ],
            204,
        ),
        (
            "PUT",
            "omit",
            vec![("access-control-allow-origin", PAGE)],
            204,
        ),
        (
            "PUT",
            "omit",
            vec![("access-control-allow-origin", PAGE)],
            302,
        ),
    ];
    for (method, cred, headers, status) in servers {
        let cred: Credentials = cred.parse().expect("mode");
        let mut b = Browser::new(Profile::Spec);
        let headers = hm(&headers);
        let (o, _) = run(
            &mut b,
            req("https://api.example/x", method, &[], cred),
            |_| (status, headers.clone()),
        );
        let e = o.error.expect("blocked");
        for p in Profile::ALL {
            let m = e.message(p);
            assert!(m.contains("https://api.example/x"), "{p} {}: {m}", e.code());
        }
        assert!(!e.explanation().is_empty());
        assert!(e.fix().toml.starts_with("[cors]\n"));
    }
}

#[test]
fn credentials_and_tainting_follow_the_hops() {
    // Same-origin → cross-origin → same-origin, credentials `same-origin`:
    // only the first hop carries credentials, the response is `cors`
    // (tainting never goes back), and the last hop sends `Origin: null`.
    let mut b = Browser::new(Profile::Chromium);
    let r = req("https://app.example/a", "GET", &[], Credentials::SameOrigin);
    let (o, sent) = run(&mut b, r, |r| match r.url.path() {
        "/a" => (302, hm(&[("location", "https://api.example/b")])),
        "/b" => (
            302,
            hm(&[
                ("location", "https://app.example/c"),
                ("access-control-allow-origin", PAGE),
            ]),
        ),
        _ => (200, hm(&[("access-control-allow-origin", "*")])),
    });
    assert!(o.allowed, "{:?}", o.error);
    let creds: Vec<bool> = sent.iter().map(|r| r.include_credentials).collect();
    assert_eq!(creds, [true, false, false]);
    assert_eq!(o.tainting.response_type(), "cors");
    assert_eq!(sent[2].headers["origin"], "null");
    assert!(o.console_errors(Profile::Chromium).is_empty());
    // `include` sends them everywhere; a preflight never.
    let r = req("https://api.example/x", "PUT", &[], Credentials::Include);
    let (_, sent) = run(&mut b, r, |_| (204, hm(&[])));
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].include_credentials);
}

#[test]
fn chromium_console_lines() {
    let mut b = Browser::new(Profile::Chromium);
    // Blocked: the CORS line, then the resource failure.
    let r = req("https://api.example/x", "GET", &[], Credentials::Omit);
    let (o, _) = run(&mut b, r, |_| (200, hm(&[])));
    let lines = o.console_errors(Profile::Chromium);
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with(
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    ));
    assert_eq!(lines[1], "Failed to load resource: net::ERR_FAILED");
    assert_eq!(o.console_errors(Profile::Spec).len(), 1);
    // Allowed 500 (hw-error-status-is-visible): only the load line.
    let r = req("https://api.example/y", "GET", &[], Credentials::Omit);
    let (o, _) = run(&mut b, r, |_| {
        (500, hm(&[("access-control-allow-origin", "*")]))
    });
    assert!(o.allowed);
    assert_eq!(
        o.console_errors(Profile::Chromium),
        ["Failed to load resource: the server responded with a status of 500 (Internal Server Error)"]
    );
    // A redirect to a URL with credentials: Chromium prints an empty location.
    let r = req("https://api.example/z", "GET", &[], Credentials::Omit);
    let (o, _) = run(&mut b, r, |_| {
        (
            302,
            hm(&[
                ("location", "https://u:p@api.example/w"),
                ("access-control-allow-origin", "*"),
            ]),
        )
    });
    let lines = o.console_errors(Profile::Chromium);
    assert!(lines[0].ends_with("Redirect location '' contains a username and password, which is disallowed for cross-origin requests."), "{lines:?}");
}
