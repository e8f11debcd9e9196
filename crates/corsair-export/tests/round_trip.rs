//! `import` reads back what `export` writes: for every target, the imported
//! policy answers every request as the exported one; and the traps of
//! hand-written configs are found, with their lines.

use corsair::{CorsConfig, Policy, Severity};
use corsair_export::{export, import, Options, Route, Support, Target};
use http::{HeaderMap, HeaderValue, Method};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn policies() -> Vec<CorsConfig> {
    vec![
        CorsConfig {
            allow_origins: s(&["https://app.example.com", "https://admin.example.com"]),
            allow_methods: s(&["GET", "PUT", "DELETE"]),
            allow_headers: s(&["authorization", "content-type"]),
            expose_headers: s(&["x-request-id"]),
            allow_credentials: true,
            max_age: Some(600),
            ..CorsConfig::default()
        },
        CorsConfig {
            allow_origins: s(&["*"]),
            allow_methods: s(&["GET", "POST"]),
            allow_headers: s(&["content-type"]),
            expose_headers: s(&["*"]),
            ..CorsConfig::default()
        },
        CorsConfig {
            allow_origins: s(&["https://*.example.org"]),
            allow_origin_regex: s(&["https://pr-[0-9]+\\.preview\\.example\\.net"]),
            allow_methods: s(&["PUT"]),
            allow_headers: s(&["*"]),
            allow_credentials: true,
            ..CorsConfig::default()
        },
    ]
}

fn requests() -> Vec<(Method, HeaderMap)> {
    let mut out = Vec::new();
    for origin in [
        "https://app.example.com",
        "https://admin.example.com",
        "https://evil.com",
        "https://a.example.org",
        "https://example.org",
        "https://pr-7.preview.example.net",
        "https://pr-7.preview.example.net.evil.com",
        "null",
    ] {
        for (method, acrm, acrh) in [
            ("GET", None, None),
            ("OPTIONS", Some("PUT"), None),
            ("OPTIONS", Some("DELETE"), Some("authorization")),
            ("OPTIONS", Some("PATCH"), None),
            ("OPTIONS", Some("GET"), Some("x-other")),
        ] {
            let mut h = HeaderMap::new();
            h.insert("origin", HeaderValue::from_static(origin));
            if let Some(m) = acrm {
                h.insert("access-control-request-method", HeaderValue::from_static(m));
            }
            if let Some(x) = acrh {
                h.insert(
                    "access-control-request-headers",
                    HeaderValue::from_static(x),
                );
            }
            out.push((Method::from_bytes(method.as_bytes()).unwrap(), h));
        }
    }
    out
}

/// The verdicts and the headers that decide them.
fn answers(policy: &Policy) -> Vec<String> {
    requests()
        .iter()
        .map(|(m, h)| {
            let d = policy.evaluate(m, h);
            let mut headers: Vec<String> = d
                .headers
                .iter()
                .filter(|(n, _)| n.as_str().starts_with("access-control-allow-o"))
                .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap_or("")))
                .collect();
            headers.sort();
            format!("{} {:?}", d.is_allowed(), headers)
        })
        .collect()
}

#[test]
fn import_reads_back_every_export() {
    for target in Target::ALL {
        for (i, cors) in policies().into_iter().enumerate() {
            let options = Options {
                approximate: true,
                ..Options::default()
            };
            let routes = [Route::whole_site(cors.clone())];
            let exported = match export(&routes, target, &options) {
                Ok(e) => e,
                Err(e) => {
                    // Only refusals the table says are impossible.
                    assert!(
                        matches!(&e, corsair_export::ExportError::Gaps { gaps, .. }
                            if gaps.iter().any(|g| g.support == Support::Never)),
                        "{target} policy {i}: {e}"
                    );
                    continue;
                }
            };
            let imported = import(target, &exported.text)
                .unwrap_or_else(|e| panic!("{target} policy {i}: {e}\n{}", exported.text));
            assert_eq!(imported.routes.len(), 1, "{target} policy {i}");
            let original = Policy::new(&cors).unwrap();
            let back = Policy::new(&imported.routes[0].cors).unwrap_or_else(|e| {
                panic!(
                    "{target} policy {i}: {e}\n{:?}\n{}",
                    imported.routes[0].cors, exported.text
                )
            });
            assert_eq!(
                answers(&back),
                answers(&original),
                "{target} policy {i}: imported {:?}\nfrom\n{}",
                imported.routes[0].cors,
                exported.text
            );
        }
    }
}

#[test]
fn a_reflecting_nginx_config_is_an_error_on_its_line() {
    let text = "server {\n  location / {\n    add_header Access-Control-Allow-Origin $http_origin always;\n    add_header Access-Control-Allow-Credentials true always;\n  }\n}\n";
    let imported = import(Target::Nginx, text).unwrap();
    let f = imported
        .findings
        .iter()
        .find(|f| f.message.contains("echoes the request's Origin"))
        .expect("the reflection is found");
    assert_eq!(f.line, Some(3));
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("cookies"), "{f}");
}

#[test]
fn an_nginx_origin_check_through_a_variable_is_read_as_its_regex() {
    let text = r#"location / {
    if ($http_origin ~* "^https://(app|admin)\.example\.com$") {
        set $cors $http_origin;
    }
    add_header Access-Control-Allow-Origin $cors always;
    add_header Access-Control-Allow-Methods "GET, PUT" always;
}
"#;
    let imported = import(Target::Nginx, text).unwrap();
    let cors = &imported.routes[0].cors;
    assert_eq!(
        cors.allow_origin_regex,
        ["https://(app|admin)\\.example\\.com"]
    );
    assert!(cors.allow_origins.is_empty(), "{cors:?}");
    assert!(!imported.has_errors(), "{:?}", imported.findings);
    // The same echo with no condition reflects every origin.
    let open = "add_header Access-Control-Allow-Origin $http_origin;\n";
    let imported = import(Target::Nginx, open).unwrap();
    assert!(imported.has_errors());
}

#[test]
fn an_unanchored_traefik_regex_is_an_error() {
    let text = "http:\n  middlewares:\n    cors:\n      headers:\n        accessControlAllowOriginListRegex: ['https://app\\.example\\.com']\n        accessControlAllowMethods: [GET]\n";
    let imported = import(Target::Traefik, text).unwrap();
    assert!(
        imported
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.message.contains("not anchored")),
        "{:?}",
        imported.findings
    );
}

#[test]
fn kong_star_with_credentials_and_s3_credentials_are_reported() {
    let kong = "_format_version: '3.0'\nplugins:\n- name: cors\n  config:\n    origins: ['*']\n    credentials: true\n";
    let imported = import(Target::Kong, kong).unwrap();
    assert!(imported.has_errors(), "{:?}", imported.findings);
    let s3 =
        r#"{"CORSRules":[{"AllowedOrigins":["http://app.example.com"],"AllowedMethods":["GET"]}]}"#;
    let imported = import(Target::S3, s3).unwrap();
    // S3 grants credentials to listed origins; an http origin with
    // credentials is the insecure-origin warning of `validate`.
    assert!(imported.routes[0].cors.allow_credentials);
    assert!(
        imported
            .findings
            .iter()
            .any(|f| f.message.contains("insecure")),
        "{:?}",
        imported.findings
    );
}

#[test]
fn exact_targets_refuse_nothing_and_s3_refuses_credentials_it_would_grant() {
    let cors = policies().remove(2);
    for target in [
        Target::Nginx,
        Target::Haproxy,
        Target::Caddy,
        Target::Apache,
    ] {
        let out = export(
            &[Route::whole_site(cors.clone())],
            target,
            &Options::default(),
        )
        .unwrap();
        assert!(out.approximations.is_empty(), "{target}");
    }
    let no_credentials = CorsConfig {
        allow_origins: s(&["https://app.example.com"]),
        ..CorsConfig::default()
    };
    let err = export(
        &[Route::whole_site(no_credentials)],
        Target::S3,
        &Options {
            approximate: true,
            ..Options::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("Access-Control-Allow-Credentials: true"),
        "{err}"
    );
    // Without --approximate, an approximation is refused and named.
    let err = export(
        &[Route::whole_site(policies().remove(0))],
        Target::Envoy,
        &Options::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--approximate") && err.contains("refused preflights"),
        "{err}"
    );
}
