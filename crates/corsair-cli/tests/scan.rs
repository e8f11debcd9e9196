//! `corsair scan` against a corpus of loopback servers: one per
//! misconfiguration class (and combinations), plus correctly configured
//! ones. The scan must report exactly the planted classes and nothing on the
//! safe ones; the test prints recall and precision over the corpus.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Seen, Server};

const HOST: &str = "api.example.com";
const APP: &str = "https://app.example.com";

type Headers = Vec<(String, String)>;

/// Headers granting `origin`, with or without credentials and Vary.
fn grant(origin: &str, credentials: bool, vary: bool) -> Headers {
    let mut h = vec![(
        "Access-Control-Allow-Origin".to_string(),
        origin.to_string(),
    )];
    if credentials {
        h.push(("Access-Control-Allow-Credentials".into(), "true".into()));
    }
    if vary {
        h.push(("Vary".into(), "Origin".into()));
    }
    h
}

/// A preflight answer with fixed lists (so it never echoes the probe).
fn fixed_preflight(mut h: Headers) -> Headers {
    h.push(("Access-Control-Allow-Methods".into(), "GET, POST".into()));
    h.push(("Access-Control-Allow-Headers".into(), "content-type".into()));
    h
}

/// The corpus: one handler per path, deciding from the request's Origin.
fn respond(req: &Seen) -> (u16, Headers) {
    let origin = req.header("origin").unwrap_or("").to_string();
    let preflight = req.method == "OPTIONS";
    let case = req
        .path
        .trim_start_matches('/')
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    let allowed: bool = match case.as_str() {
        "reflect-any" => true,
        "null" => origin == "null" || origin == APP,
        "post-domain" => origin.starts_with("https://api.example.com"),
        "pre-domain" => origin.starts_with("https://") && origin.ends_with("example.com"),
        // The origin's host is a substring of the API's own host.
        "substring" => origin
            .strip_prefix("https://")
            .is_some_and(|h| h.len() > 3 && HOST.contains(h)),
        // Like the regex ^https://api.example\.com$ with an unescaped first dot.
        "unescaped-dot" => {
            let want = "https://api.example.com";
            origin.len() == want.len()
                && origin
                    .bytes()
                    .zip(want.bytes())
                    .enumerate()
                    .all(|(i, (a, b))| a == b || i == 11)
        }
        "any-subdomain" => origin.starts_with("https://") && origin.ends_with(".example.com"),
        "third-party" => origin == APP || origin == "https://codepen.io",
        // Like ^https://api\.example\.com[^.].*: a prefix match that refuses a dot next.
        "special-char" => origin
            .strip_prefix("https://api.example.com")
            .is_some_and(|rest| {
                rest.starts_with(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != ':')
            }),
        "localhost" => origin == APP || origin == "http://localhost:3000",
        "insecure" => origin == APP || origin == "http://api.example.com",
        "combo-null-vary" => origin == "null" || origin == APP,
        "missing-vary" | "preflight-echo" | "safe-exact" => origin == APP,
        "safe-pattern" => origin
            .strip_prefix("https://")
            .and_then(|h| h.strip_suffix(".app.example.com"))
            .is_some_and(|sub| {
                !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            }),
        _ => false,
    };
    let vary = !matches!(case.as_str(), "missing-vary" | "combo-null-vary");
    let headers = match case.as_str() {
        "invalid-acao" => vec![(
            "Access-Control-Allow-Origin".to_string(),
            "https://app.example.com, https://admin.example.com".to_string(),
        )],
        "safe-public" | "wildcard-auth" => {
            vec![("Access-Control-Allow-Origin".to_string(), "*".to_string())]
        }
        "wildcard-cookie" => vec![
            ("Access-Control-Allow-Origin".to_string(), "*".to_string()),
            (
                "Set-Cookie".to_string(),
                "session=1; Secure; HttpOnly".to_string(),
            ),
        ],
        "safe-none" => vec![],
        _ if !allowed => vec![("Vary".to_string(), "Origin".to_string())],
        "preflight-echo" if preflight => {
            let mut h = grant(&origin, true, true);
            for (name, from) in [
                (
                    "Access-Control-Allow-Methods",
                    "access-control-request-method",
                ),
                (
                    "Access-Control-Allow-Headers",
                    "access-control-request-headers",
                ),
            ] {
                h.push((name.to_string(), req.header(from).unwrap_or("").to_string()));
            }
            h
        }
        _ if preflight => fixed_preflight(grant(&origin, true, vary)),
        _ => grant(&origin, true, vary),
    };
    (if preflight { 204 } else { 200 }, headers)
}

/// Each case and the classes planted in it.
const CORPUS: &[(&str, &[&str])] = &[
    ("reflect-any", &["reflect-any-origin"]),
    ("null", &["null-origin"]),
    ("post-domain", &["post-domain"]),
    ("pre-domain", &["pre-domain", "any-subdomain"]),
    ("substring", &["substring-match"]),
    ("unescaped-dot", &["unescaped-dot"]),
    ("any-subdomain", &["any-subdomain"]),
    ("third-party", &["third-party-host"]),
    ("special-char", &["special-char-bypass"]),
    ("localhost", &["localhost-origin"]),
    ("insecure", &["insecure-origin"]),
    ("invalid-acao", &["invalid-acao"]),
    ("missing-vary", &["missing-vary"]),
    ("preflight-echo", &["preflight-reflects-anything"]),
    ("combo-null-vary", &["null-origin", "missing-vary"]),
    ("safe-exact", &[]),
    ("safe-pattern", &[]),
    ("safe-public", &[]),
    ("safe-none", &[]),
];

fn scan(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .arg("scan")
        .args(args)
        .output()
        .expect("run corsair");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        format!("{stdout}{stderr}"),
    )
}

/// The classes reported above info severity.
fn classes(target: &serde_json::Value) -> BTreeSet<String> {
    target["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["severity"] != "info")
                .filter_map(|f| f["class"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The classes reported at info severity.
fn info(target: &serde_json::Value) -> BTreeSet<String> {
    target["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["severity"] == "info")
                .filter_map(|f| f["class"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn corpus_reports_exactly_the_planted_classes() {
    let (server, pem) = Server::start_tls(HOST, respond);
    let ca = std::env::temp_dir().join(format!("corsair-scan-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, pem).expect("write CA");
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let urls: Vec<String> = CORPUS
        .iter()
        .map(|(case, _)| format!("https://{HOST}:{}/{case}", server.port))
        .collect();
    let mut args: Vec<&str> = urls.iter().map(String::as_str).collect();
    args.extend([
        "--json",
        "--resolve",
        &resolve,
        "--cacert",
        ca.to_str().expect("path"),
        "--trusted",
        APP,
        "--trusted",
        "https://*.app.example.com",
        "--concurrency",
        "4",
        "--timeout",
        "5",
    ]);
    let (code, json, raw) = scan(&args);
    let _ = std::fs::remove_file(&ca);
    assert_eq!(code, 1, "findings mean exit 1: {raw}");
    let targets = json["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("no targets in {raw}"));
    assert_eq!(targets.len(), CORPUS.len());

    let (mut planted, mut found, mut correct) = (0usize, 0usize, 0usize);
    let mut mismatches = Vec::new();
    for ((case, want), target) in CORPUS.iter().zip(targets) {
        assert!(target["error"].is_null(), "{case}: {}", target["error"]);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let got = classes(target);
        planted += want.len();
        found += got.len();
        correct += got.intersection(&want).count();
        if got != want {
            mismatches.push(format!("{case}: planted {want:?}, reported {got:?}"));
        }
    }
    // `*` on a public resource is informational, reported where it is.
    for ((case, _), target) in CORPUS.iter().zip(targets) {
        let want: BTreeSet<String> = if *case == "safe-public" {
            BTreeSet::from(["wildcard-origin".to_string()])
        } else {
            BTreeSet::new()
        };
        assert_eq!(info(target), want, "{case}");
    }
    let recall = correct as f64 / planted as f64;
    let precision = if found == 0 {
        1.0
    } else {
        correct as f64 / found as f64
    };
    println!(
        "scan corpus: {} targets, {planted} planted, {found} reported, recall {:.0}%, precision {:.0}%",
        CORPUS.len(),
        recall * 100.0,
        precision * 100.0
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn findings_carry_severity_evidence_and_fix() {
    let server = Server::start(respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let url = format!("http://{HOST}:{}/reflect-any", server.port);
    let (code, json, raw) = scan(&[&url, "--json", "--resolve", &resolve]);
    assert_eq!(code, 1, "{raw}");
    let f = &json["targets"][0]["findings"][0];
    assert_eq!(f["class"], "reflect-any-origin", "{raw}");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["credentials"], true);
    assert_eq!(f["origin"], "https://evil.example");
    let evidence = f["evidence"]["response_headers"].to_string();
    assert!(evidence.contains("https://evil.example"), "{evidence}");
    // Without --trusted the fix's policy names a placeholder page origin, marked as such.
    assert!(
        f["fix"].as_str().unwrap_or("").contains(
            "allow_origins = [\"https://app.example.com\"]   # the origins of your own pages"
        ),
        "{f}"
    );
    assert!(
        f["also"]
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o == "null")),
        "{f}"
    );
    // Every probe was also sent as a preflight.
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.method == "OPTIONS"
        && s.header("access-control-request-method").is_some()
        && s.header("origin") == Some("https://evil.example")));
}

#[test]
fn wildcard_is_informational_unless_the_response_is_sensitive() {
    let server = Server::start(respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let url = format!("http://{HOST}:{}/wildcard-auth", server.port);
    let (code, json, raw) = scan(&[&url, "--json", "--resolve", &resolve]);
    assert_eq!(
        code, 0,
        "an info finding alone does not fail the scan: {raw}"
    );
    assert!(classes(&json["targets"][0]).is_empty());
    assert_eq!(
        info(&json["targets"][0]),
        BTreeSet::from(["wildcard-origin".to_string()])
    );
    let before = server.seen().len();
    let (code, json, raw) = scan(&[
        &url,
        "--json",
        "--resolve",
        &resolve,
        "-H",
        "Authorization: Bearer t0ken",
    ]);
    assert_eq!(code, 1, "{raw}");
    assert_eq!(
        classes(&json["targets"][0]),
        BTreeSet::from(["wildcard-origin".to_string()])
    );
    assert_eq!(json["targets"][0]["findings"][0]["severity"], "medium");
    assert!(server.seen()[before..]
        .iter()
        .all(|s| s.header("authorization") == Some("Bearer t0ken")));
    // A response that sets a cookie belongs to a session: medium too.
    let url = format!("http://{HOST}:{}/wildcard-cookie", server.port);
    let (code, json, raw) = scan(&[&url, "--json", "--resolve", &resolve]);
    assert_eq!(code, 1, "{raw}");
    assert_eq!(json["targets"][0]["findings"][0]["severity"], "medium");
    assert!(json["targets"][0]["findings"][0]["why"]
        .as_str()
        .unwrap_or("")
        .contains("cookie"));
}

#[test]
fn insecure_scans_a_self_signed_host_and_says_so() {
    let (server, _pem) = Server::start_tls(HOST, respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let url = format!("https://{HOST}:{}/reflect-any", server.port);
    let (code, json, raw) = scan(&[&url, "--json", "--resolve", &resolve]);
    assert_eq!(code, 2, "an unverifiable certificate stops the scan: {raw}");
    assert!(json["targets"][0]["error"]
        .as_str()
        .unwrap_or("")
        .contains("TLS"));
    let (code, json, raw) = scan(&[&url, "--json", "--resolve", &resolve, "-k"]);
    assert_eq!(code, 1, "{raw}");
    assert_eq!(json["targets"][0]["certificate_verified"], false);
    assert!(classes(&json["targets"][0]).contains("reflect-any-origin"));
    let (_, _, raw) = scan(&[&url, "--resolve", &resolve, "--insecure"]);
    assert!(
        raw.contains("certificate not verified (--insecure)"),
        "{raw}"
    );
}

#[test]
fn human_output_and_sarif() {
    let server = Server::start(respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let bad = format!("http://{HOST}:{}/null", server.port);
    let good = format!("http://{HOST}:{}/safe-exact", server.port);
    let sarif = std::env::temp_dir().join(format!("corsair-{}.sarif", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "scan",
            &bad,
            &good,
            "--resolve",
            &resolve,
            "--sarif",
            sarif.to_str().expect("path"),
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("[CRITICAL] null-origin"), "{text}");
    assert!(text.contains("no findings"), "{text}");
    assert!(
        text.contains("2 targets scanned, 1 finding, 0 failed"),
        "{text}"
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif written"))
            .expect("json");
    let _ = std::fs::remove_file(&sarif);
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "null-origin");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        Some(15)
    );
}

#[test]
fn a_failing_target_never_stops_the_scan() {
    let server = Server::start(respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    // Nothing listens there (a port outside the kernel's ephemeral range,
    // so no other test's listener can be given it meanwhile).
    let dead = common::free_port();
    let ok = format!("http://{HOST}:{}/reflect-any", server.port);
    let down = format!("http://127.0.0.1:{dead}/");
    let (code, json, raw) = scan(&[
        &down,
        &ok,
        "not a url",
        "--json",
        "--resolve",
        &resolve,
        "--timeout",
        "3",
    ]);
    assert_eq!(code, 1, "{raw}");
    let t = json["targets"].as_array().expect("targets");
    assert!(
        t[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not connect")),
        "{raw}"
    );
    assert!(!classes(&t[1]).is_empty());
    assert!(t[2]["error"]
        .as_str()
        .is_some_and(|e| e.contains("not an http(s) URL")));
    // Nothing scannable at all: exit 2.
    let (code, _, _) = scan(&[&down, "--json", "--timeout", "3"]);
    assert_eq!(code, 2);
}

#[test]
fn targets_from_a_file_and_usage_errors() {
    let server = Server::start(respond);
    let resolve = format!("{HOST}:{}:127.0.0.1", server.port);
    let file = std::env::temp_dir().join(format!("corsair-targets-{}.txt", std::process::id()));
    std::fs::write(
        &file,
        format!(
            "# corpus\nhttp://{HOST}:{0}/safe-exact\n\nhttp://{HOST}:{0}/safe-none\n",
            server.port
        ),
    )
    .expect("write");
    let (code, json, raw) = scan(&[
        "--targets",
        file.to_str().expect("path"),
        "--json",
        "--resolve",
        &resolve,
        "--rate",
        "500",
    ]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 0, "{raw}");
    assert_eq!(json["targets"].as_array().map(Vec::len), Some(2));
    for bad in [
        vec![],
        vec!["--targets", "/nonexistent"],
        vec!["http://x", "--trusted", "null"],
        vec!["http://x", "--concurrency", "0"],
    ] {
        let (code, _, raw) = scan(&bad);
        assert_eq!(code, 2, "{bad:?}: {raw}");
    }
}
