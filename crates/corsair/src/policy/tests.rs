use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use proptest::prelude::*;

use super::*;
use crate::config::ConfigFile;

fn policy(toml: &str) -> Policy {
    let file = ConfigFile::from_toml(toml).unwrap();
    Policy::new(&file.cors).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(toml: &str) -> Vec<Problem> {
    let file = ConfigFile::from_toml(toml).unwrap();
    match Policy::new(&file.cors) {
        Ok(p) => p.warnings().to_vec(),
        Err(e) => e.problems,
    }
}

fn req(headers: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (n, v) in headers {
        map.append(
            header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn get(d: &Decision, name: &str) -> Option<String> {
    d.headers
        .iter()
        .find(|(n, _)| n.as_str() == name)
        .map(|(_, v)| v.to_str().unwrap().to_string())
}

const SPA: &str = r#"
[cors]
allow_origins = ["https://app.example.com", "https://*.example.org", "http://localhost:3000"]
allow_origin_regex = ["^https://pr-[0-9]+\\.preview\\.example\\.net$"]
allow_methods = ["GET", "POST", "PUT", "DELETE"]
allow_headers = ["authorization", "content-type"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age = 600
"#;

#[test]
fn classification_follows_fetch() {
    let p = policy(SPA);
    let o = ("origin", "https://app.example.com");
    assert_eq!(
        p.evaluate(&Method::GET, &req(&[])).kind,
        RequestKind::NonCors
    );
    assert_eq!(
        p.evaluate(&Method::GET, &req(&[o])).kind,
        RequestKind::Actual
    );
    // A plain OPTIONS with Origin but no ACRM is an actual request.
    assert_eq!(
        p.evaluate(&Method::OPTIONS, &req(&[o])).kind,
        RequestKind::Actual
    );
    assert_eq!(
        p.evaluate(
            &Method::OPTIONS,
            &req(&[o, ("access-control-request-method", "PUT")])
        )
        .kind,
        RequestKind::Preflight
    );
    // ACRM without OPTIONS is not a preflight.
    assert_eq!(
        p.evaluate(
            &Method::POST,
            &req(&[o, ("access-control-request-method", "PUT")])
        )
        .kind,
        RequestKind::Actual
    );
}

#[test]
fn actual_allowed_with_credentials() {
    let p = policy(SPA);
    let d = p.evaluate(&Method::GET, &req(&[("origin", "https://a.example.org")]));
    assert!(d.is_allowed());
    assert_eq!(d.verdict.code(), "origin-pattern");
    assert_eq!(
        get(&d, "access-control-allow-origin").as_deref(),
        Some("https://a.example.org")
    );
    assert_eq!(
        get(&d, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        get(&d, "access-control-expose-headers").as_deref(),
        Some("x-request-id")
    );
    assert_eq!(get(&d, "vary").as_deref(), Some("origin"));
    assert_eq!(d.status, None);
    assert_eq!(get(&d, "access-control-allow-methods"), None);
}

#[test]
fn actual_refused_has_no_cors_headers_but_varies() {
    let p = policy(SPA);
    let d = p.evaluate(&Method::GET, &req(&[("origin", "https://evil.example")]));
    assert!(!d.is_allowed());
    assert_eq!(d.verdict.code(), "origin-not-allowed");
    let names: Vec<_> = d.headers.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, ["vary"]);
    let d = p.evaluate(&Method::GET, &req(&[]));
    assert_eq!(get(&d, "vary").as_deref(), Some("origin"));
}

#[test]
fn public_api_uses_star_and_no_vary() {
    let p = policy("[cors]\nallow_origins = [\"*\"]\nexpose_headers = [\"*\"]\n");
    let d = p.evaluate(&Method::GET, &req(&[("origin", "https://anyone.example")]));
    assert_eq!(get(&d, "access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(get(&d, "access-control-allow-credentials"), None);
    assert_eq!(
        get(&d, "access-control-expose-headers").as_deref(),
        Some("*")
    );
    assert_eq!(get(&d, "vary"), None);
    assert_eq!(get(&p.evaluate(&Method::GET, &req(&[])), "vary"), None);
    // `null` still gets `*`, which is what browsers accept for any origin.
    let d = p.evaluate(&Method::GET, &req(&[("origin", "null")]));
    assert_eq!(get(&d, "access-control-allow-origin").as_deref(), Some("*"));
}

#[test]
fn preflight_allowed() {
    let p = policy(SPA);
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "content-type, Authorization",
            ),
        ]),
    );
    assert!(d.is_allowed(), "{}", d.verdict);
    assert_eq!(d.status, Some(StatusCode::NO_CONTENT));
    assert_eq!(
        get(&d, "access-control-allow-origin").as_deref(),
        Some("http://localhost:3000")
    );
    assert_eq!(
        get(&d, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        get(&d, "access-control-allow-methods").as_deref(),
        Some("GET, POST, PUT, DELETE")
    );
    assert_eq!(
        get(&d, "access-control-allow-headers").as_deref(),
        Some("authorization, content-type")
    );
    assert_eq!(get(&d, "access-control-max-age").as_deref(), Some("600"));
    assert_eq!(get(&d, "access-control-allow-private-network"), None);
    assert_eq!(get(&d, "access-control-expose-headers"), None);
    assert!(get(&d, "vary")
        .unwrap()
        .contains("access-control-request-headers"));
    let resp: http::Response<()> = d.preflight_response().unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["content-length"], "0");
}

#[test]
fn preflight_headers_split_over_lines_and_spaces() {
    let p = policy(SPA);
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "DELETE"),
            ("access-control-request-headers", " content-type ,"),
            ("access-control-request-headers", "AUTHORIZATION"),
        ]),
    );
    assert!(d.is_allowed(), "{}", d.verdict);
}

#[test]
fn preflight_refusals_are_403_without_cors_headers() {
    let p = policy(SPA);
    let o = ("origin", "https://app.example.com");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("origin", "https://evil.example"),
                ("access-control-request-method", "PUT"),
            ],
            "origin-not-allowed",
        ),
        (
            vec![o, ("access-control-request-method", "PATCH")],
            "method-not-allowed",
        ),
        (
            vec![o, ("access-control-request-method", "put")],
            "method-not-allowed",
        ),
        (
            vec![o, ("access-control-request-method", "PU T")],
            "malformed-method",
        ),
        (
            vec![
                o,
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-custom"),
            ],
            "header-not-allowed",
        ),
        (
            vec![
                o,
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type, x y"),
            ],
            "malformed-headers",
        ),
        (
            vec![
                o,
                ("access-control-request-method", "PUT"),
                ("access-control-request-private-network", "true"),
            ],
            "private-network-not-allowed",
        ),
        (
            vec![
                o,
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PUT"),
            ],
            "multiple-origins",
        ),
    ];
    for (headers, code) in cases {
        let d = p.evaluate(&Method::OPTIONS, &req(&headers));
        assert_eq!(d.kind, RequestKind::Preflight);
        assert_eq!(d.verdict.code(), code, "{headers:?}");
        assert_eq!(d.status, Some(StatusCode::FORBIDDEN));
        assert!(
            d.headers
                .iter()
                .all(|(n, _)| !n.as_str().starts_with("access-control-")),
            "{headers:?}"
        );
    }
    // The method-case refusal names the fix.
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[o, ("access-control-request-method", "put")]),
    );
    assert!(
        d.verdict.to_string().contains("send `PUT`"),
        "{}",
        d.verdict
    );
}

#[test]
fn safelisted_methods_need_no_listing() {
    let p =
        policy("[cors]\nallow_origins = [\"https://a.example\"]\nallow_headers = [\"x-token\"]\n");
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "x-token"),
        ]),
    );
    assert!(d.is_allowed(), "{}", d.verdict);
    assert_eq!(get(&d, "access-control-allow-methods"), None);
}

#[test]
fn star_headers_echo_the_request_so_authorization_and_credentials_work() {
    let p = policy(
        "[cors]\nallow_origins = [\"https://a.example\"]\nallow_methods = [\"*\"]\nallow_headers = [\"*\"]\nallow_credentials = true\n",
    );
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "patch"),
            ("access-control-request-headers", "authorization,x-custom"),
        ]),
    );
    assert!(d.is_allowed(), "{}", d.verdict);
    assert_eq!(
        get(&d, "access-control-allow-headers").as_deref(),
        Some("authorization,x-custom")
    );
    assert_eq!(
        get(&d, "access-control-allow-methods").as_deref(),
        Some("patch")
    );
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "a"),
            ("access-control-request-headers", "b"),
        ]),
    );
    assert_eq!(
        get(&d, "access-control-allow-headers").as_deref(),
        Some("a,b")
    );
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "PUT"),
        ]),
    );
    assert_eq!(get(&d, "access-control-allow-headers"), None);
}

#[test]
fn private_network_when_enabled() {
    let p =
        policy("[cors]\nallow_origins = [\"https://a.example\"]\nallow_private_network = true\n");
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ]),
    );
    assert!(d.is_allowed());
    assert_eq!(
        get(&d, "access-control-allow-private-network").as_deref(),
        Some("true")
    );
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "GET"),
        ]),
    );
    assert_eq!(get(&d, "access-control-allow-private-network"), None);
}

#[test]
fn preflight_status_is_configurable() {
    let p = policy("[cors]\nallow_origins = [\"https://a.example\"]\npreflight_status = 200\n");
    let d = p.evaluate(
        &Method::OPTIONS,
        &req(&[
            ("origin", "https://a.example"),
            ("access-control-request-method", "GET"),
        ]),
    );
    assert_eq!(d.status, Some(StatusCode::OK));
}

/// The adversarial origins of the classic CORS bugs, against a policy with
/// exact entries, a subdomain pattern and a regex.
#[test]
fn adversarial_origins_are_refused() {
    let p = policy(
        r#"[cors]
allow_origins = ["https://foo.com", "https://bar.com", "https://*.example.org"]
allow_origin_regex = ["https://api\\.example\\.net"]
"#,
    );
    for evil in [
        "https://barfoo.com",
        "https://foo.com.bar.com",
        "https://foo.com.evil.com",
        "https://evilfoo.com",
        "http://foo.com",
        "https://foo.com:444",
        "https://foo.com.",
        "https://FOO.com",
        "https://foo.com/",
        "https://foo.com@evil.com",
        "https://evil.com#foo.com",
        " https://foo.com",
        "https://foo.com ",
        "null",
        "https://example.org",
        "https://evilexample.org",
        "https://example.org.evil.com",
        "https://x.example.org.evil.com",
        "https://x_.example.org.evil.com",
        "http://x.example.org",
        "https://apiXexample.net",
        "https://api.example.net.evil.com",
        "https://evil.api.example.net",
        "https://api.example.net_.evil.com",
        "file://",
        "",
    ] {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(evil).unwrap());
        let d = p.evaluate(&Method::GET, &h);
        assert!(!d.is_allowed(), "{evil:?} was allowed by {}", d.verdict);
    }
    // Non-UTF-8 bytes in Origin never panic and are refused.
    let mut h = HeaderMap::new();
    h.insert(
        header::ORIGIN,
        HeaderValue::from_bytes(b"https://\xff.com").unwrap(),
    );
    assert!(!p.evaluate(&Method::GET, &h).is_allowed());
}

#[test]
fn a_hundred_thousand_exact_origins() {
    let origins: Vec<String> = (0..100_000)
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    let p = Policy::builder().allow_origins(origins).build().unwrap();
    for i in [0, 50_000, 99_999] {
        let mut h = HeaderMap::new();
        h.insert(
            header::ORIGIN,
            HeaderValue::from_str(&format!("https://app{i}.example.com")).unwrap(),
        );
        assert_eq!(p.evaluate(&Method::GET, &h).verdict.code(), "origin-exact");
    }
    let mut h = HeaderMap::new();
    h.insert(
        header::ORIGIN,
        HeaderValue::from_static("https://app100000.example.com"),
    );
    assert!(!p.evaluate(&Method::GET, &h).is_allowed());
}

#[test]
fn hostile_acrh_is_refused() {
    let p = policy(SPA);
    let preflight = |acrh: &str| {
        p.evaluate(
            &Method::OPTIONS,
            &req(&[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", acrh),
            ]),
        )
    };
    // Longer than header_list::MAX_LEN: refused unread, whatever it holds.
    for hostile in [
        ",".repeat(65_536),
        "authorization,".repeat(4_600),
        format!("{}x", "a,".repeat(30_000)),
        ",".repeat(super::header_list::MAX_LEN + 1),
    ] {
        assert_eq!(preflight(&hostile).verdict.code(), "malformed-headers");
    }
    // Within the limit the list is read: only commas requests nothing, an
    // allowed name repeated is allowed, anything unknown is refused.
    let max = super::header_list::MAX_LEN;
    assert!(preflight(&",".repeat(max)).is_allowed());
    assert!(preflight(&"authorization,".repeat(max / 14)).is_allowed());
    assert_eq!(
        preflight(&format!("{}x", "a,".repeat(max / 2 - 1)))
            .verdict
            .code(),
        "header-not-allowed"
    );
}

fn has(problems: &[Problem], severity: Severity, field: &str, needle: &str) -> bool {
    problems
        .iter()
        .any(|p| p.severity == severity && p.field == field && p.message.contains(needle))
}

#[test]
fn validation_reports_every_problem_at_once() {
    let ps = problems(
        r#"[cors]
allow_origins = ["*", "null", "https://*.com", "https://*.co.uk", "https://*.github.io", "example.com",
  "https://example.com/", "https://example.com:99999", "https://*example.com", "https://foo.*.example.com",
  "http://plain.example", "https://Upper.example", "https://a.example:443", "https://*"]
allow_origin_regex = ["https://(unclosed", "null|https://x\\.com", "https://api.example\\.com"]
allow_methods = ["GET", "CONNECT", "TRACE", "track", "put", "PO ST"]
allow_headers = ["cookie", "Content-Type", "bad header", "x-a", "X-A"]
expose_headers = ["*", "set-cookie"]
allow_credentials = true
max_age = 90000
"#,
    );
    let e = Severity::Error;
    let w = Severity::Warning;
    assert!(has(
        &ps,
        e,
        "allow_origins",
        "cannot be used with allow_credentials"
    ));
    assert!(has(&ps, e, "allow_origins", "sandboxed iframes"));
    assert!(
        ps.iter()
            .filter(|p| p.message.contains("public suffix"))
            .count()
            == 3,
        "{ps:#?}"
    );
    assert!(has(&ps, e, "allow_origins", "no scheme"));
    assert!(has(&ps, e, "allow_origins", "no path"));
    assert!(has(&ps, e, "allow_origins", "out of range"));
    assert!(has(&ps, e, "allow_origins", "whole label"));
    assert!(has(&ps, e, "allow_origins", "leftmost label"));
    assert!(has(&ps, e, "allow_origins", "lowercase"));
    assert!(has(&ps, e, "allow_origins", "default for https"));
    assert!(has(&ps, e, "allow_origins", "every https site"));
    assert!(has(&ps, w, "allow_origins", "insecure"));
    assert!(has(&ps, e, "allow_origin_regex", "does not compile"));
    assert!(has(&ps, e, "allow_origin_regex", "matches `null`"));
    assert!(has(&ps, w, "allow_origin_regex", "apiXexample"));
    assert_eq!(
        ps.iter()
            .filter(|p| p.field == "allow_methods" && p.message.contains("CONNECT, TRACE or TRACK"))
            .count(),
        3
    );
    assert!(has(&ps, e, "allow_methods", "write `PUT`"));
    assert!(has(&ps, e, "allow_methods", "not a valid method"));
    assert!(has(&ps, e, "allow_headers", "never set this header"));
    assert!(has(&ps, e, "allow_headers", "not a valid header name"));
    assert!(has(&ps, w, "allow_headers", "more than once"));
    assert!(has(&ps, e, "expose_headers", "literally named `*`"));
    assert!(has(&ps, w, "expose_headers", "Set-Cookie"));
    assert!(has(&ps, e, "max_age", "between 0 and 86400"));
    // Errors come first.
    let first_warning = ps.iter().position(|p| p.severity == w).unwrap();
    assert!(ps[first_warning..].iter().all(|p| p.severity == w));
}

#[test]
fn max_age_bounds() {
    assert!(has(
        &problems("[cors]\nallow_origins=[\"*\"]\nmax_age = -1\n"),
        Severity::Error,
        "max_age",
        "between"
    ));
    assert!(problems("[cors]\nallow_origins=[\"*\"]\nmax_age = 86400\n")
        .iter()
        .all(|p| p.severity == Severity::Warning));
    assert!(problems("[cors]\nallow_origins=[\"*\"]\nmax_age = 0\n").is_empty());
}

#[test]
fn valid_config_has_no_problems() {
    let p = policy(SPA);
    assert!(p.warnings().is_empty(), "{:?}", p.warnings());
}

#[test]
fn localhost_patterns_and_http_loopback_with_credentials_are_fine() {
    let ps = problems(
        "[cors]\nallow_origins = [\"http://localhost:*\", \"http://*.localhost:*\", \"http://127.0.0.1:8080\"]\nallow_credentials = true\n",
    );
    assert!(ps.is_empty(), "{ps:?}");
}

// ---------------------------------------------------------------- properties

fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,6}"
}

fn origin_strategy() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("http"), Just("https")],
        prop::collection::vec(label(), 1..4),
        prop_oneof![Just("com"), Just("org"), Just("example")],
        prop::option::of(1024u16..9000),
    )
        .prop_map(|(scheme, labels, tld, port)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{scheme}://{}.{tld}{port}", labels.join("."))
        })
}

fn policy_strategy() -> impl Strategy<Value = (CorsConfig, Vec<String>)> {
    (
        prop::collection::vec(origin_strategy(), 0..5),
        prop::collection::vec((label(), prop_oneof![Just("com"), Just("org")]), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(exact, parents, credentials, star)| {
            let mut allow = exact.clone();
            let mut parents_out = Vec::new();
            for (l, tld) in parents {
                allow.push(format!("https://*.{l}.{tld}"));
                parents_out.push(format!("{l}.{tld}"));
            }
            if star && !credentials {
                allow.push("*".into());
            }
            let config = CorsConfig {
                allow_origins: allow,
                allow_credentials: credentials,
                allow_methods: vec!["PUT".into()],
                allow_headers: vec!["x-a".into()],
                ..CorsConfig::default()
            };
            (config, parents_out)
        })
}

proptest! {
    #[test]
    fn never_grants_an_origin_outside_the_allowlist(
        (config, parents) in policy_strategy(),
        origin in prop_oneof![origin_strategy(), ".{0,40}"],
        preflight in any::<bool>(),
    ) {
        let Ok(p) = Policy::new(&config) else { return Ok(()); };
        let Ok(value) = HeaderValue::from_str(&origin) else { return Ok(()); };
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, value);
        let method = if preflight {
            h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PUT"));
            Method::OPTIONS
        } else {
            Method::GET
        };
        let d = p.evaluate(&method, &h);
        let star = config.allow_origins.iter().any(|o| o == "*");
        if d.is_allowed() {
            let listed = config.allow_origins.contains(&origin);
            let by_pattern = crate::OriginRef::parse(&origin).ok().is_some_and(|o| {
                o.scheme() == Some("https") && o.port().is_none() && parents.iter().any(|parent| {
                    o.host_str().is_some_and(|h| h.ends_with(&format!(".{parent}")))
                })
            });
            prop_assert!(star || listed || by_pattern, "{origin} allowed by {}", d.verdict);
        } else {
            prop_assert!(d.headers.iter().all(|(n, _)| !n.as_str().starts_with("access-control-")));
        }
    }

    #[test]
    fn never_star_with_credentials_and_always_vary(
        (config, _) in policy_strategy(),
        origin in prop::option::of(origin_strategy()),
        preflight in any::<bool>(),
    ) {
        let Ok(p) = Policy::new(&config) else { return Ok(()); };
        let mut h = HeaderMap::new();
        if let Some(o) = &origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        let method = if preflight {
            h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PUT"));
            Method::OPTIONS
        } else {
            Method::GET
        };
        let d = p.evaluate(&method, &h);
        let acao = d.headers.allow_origin.as_ref().map(|v| v.as_bytes().to_vec());
        if d.headers.allow_credentials {
            prop_assert_ne!(acao.as_deref(), Some(&b"*"[..]));
        }
        let origin_dependent = config.allow_credentials || !config.allow_origins.iter().any(|o| o == "*");
        let varies = d.headers.vary.as_ref().is_some_and(|v| v.to_str().unwrap().contains("origin"));
        if origin_dependent || d.kind == RequestKind::Preflight {
            prop_assert!(varies, "{:?}", d);
        }
    }
}
