//! `corsair scan --openapi` against a corpus API: ten operations, some
//! misconfigured differently, described by an OpenAPI file. Every planted
//! finding must be reported on the right operation, nothing on the safe
//! ones, one server-wide root cause once with its operations, and no
//! state-changing request may ever be sent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use common::{Seen, Server};

const APP: &str = "https://app.example.com";

const SPEC: &str = r#"openapi: 3.0.3
info: {title: corpus, version: "1"}
servers:
  - url: https://api.example.com
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
paths:
  /public/items:
    get:
      operationId: listItems
      responses: {'200': {description: ok}}
  /me:
    get:
      operationId: getMe
      responses: {'200': {description: ok}}
    put:
      operationId: putMe
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
  /admin/users:
    get:
      operationId: listUsers
      responses: {'200': {description: ok}}
  /admin/users/{id}:
    delete:
      operationId: deleteUser
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, example: 7}}
      responses: {'204': {description: gone}}
  /orders:
    get:
      operationId: listOrders
      responses: {'200': {description: ok}}
    post:
      operationId: createOrder
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'201': {description: created}}
  /reports:
    get:
      operationId: getReports
      responses: {'200': {description: ok}}
  /files/{name}:
    get:
      operationId: getFile
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
  /settings:
    patch:
      operationId: patchSettings
      security: [{key: []}]
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {'200': {description: ok}}
"#;

/// The operation each planted finding must be reported on (above info).
const PLANTED: &[(&str, &[&str])] = &[
    ("GET /public/items", &[]),
    ("GET /me", &["reflect-any-origin"]),
    ("PUT /me", &["reflect-any-origin"]),
    ("GET /admin/users", &["null-origin"]),
    ("DELETE /admin/users/{id}", &["preflight-reflects-anything"]),
    ("GET /orders", &[]),
    ("POST /orders", &[]),
    ("GET /reports", &["missing-vary"]),
    ("GET /files/{name}", &["any-subdomain"]),
    ("PATCH /settings", &[]),
];

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn respond(req: &Seen) -> (u16, Vec<(String, String)>) {
    let origin = req.header("origin").unwrap_or("").to_string();
    let preflight = req.method == "OPTIONS";
    let path = req.path.split('?').next().unwrap_or("").to_string();
    let grant = |o: &str| {
        let mut v = h(&[
            ("Access-Control-Allow-Origin", o),
            ("Access-Control-Allow-Credentials", "true"),
            ("Vary", "Origin"),
        ]);
        if preflight {
            v.extend(h(&[
                (
                    "Access-Control-Allow-Methods",
                    "GET, POST, PUT, PATCH, DELETE",
                ),
                ("Access-Control-Allow-Headers", "content-type, x-api-key"),
            ]));
        }
        v
    };
    let status = if preflight { 204 } else { 200 };
    let headers = match path.as_str() {
        "/public/items" => h(&[("Access-Control-Allow-Origin", "*")]),
        "/me" => grant(&origin),
        "/admin/users" if origin == "null" || origin == APP => grant(&origin),
        "/admin/users/7" if origin == APP && preflight => {
            let mut v = h(&[
                ("Access-Control-Allow-Origin", &origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin"),
            ]);
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
                v.push((name.into(), req.header(from).unwrap_or("").to_string()));
            }
            v
        }
        "/orders" | "/settings" | "/admin/users/7" if origin == APP => grant(&origin),
        "/reports" if origin == APP => h(&[
            ("Access-Control-Allow-Origin", APP),
            ("Access-Control-Allow-Credentials", "true"),
        ]),
        p if p.starts_with("/files/")
            && origin.starts_with("https://")
            && origin.ends_with(".example.com") =>
        {
            grant(&origin)
        }
        _ => h(&[("Vary", "Origin")]),
    };
    (status, headers)
}

fn spec_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scan-openapi");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("openapi.yaml");
    std::fs::write(&path, SPEC).unwrap();
    path
}

fn scan(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_planted_finding_on_its_operation_and_nothing_on_the_safe_ones() {
    let server = Server::start(respond);
    let spec = spec_file();
    let base = format!("http://api.example.com:{}", server.port);
    let resolve = format!("api.example.com:{}:127.0.0.1", server.port);
    let sarif = spec.with_file_name("scan.sarif");
    let (code, stdout, stderr) = scan(&[
        "--openapi",
        spec.to_str().unwrap(),
        "--server",
        &base,
        "--resolve",
        &resolve,
        "--trusted",
        APP,
        "--json",
        "--sarif",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), PLANTED.len());
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in targets {
        let op = &t["operation"];
        let label = format!(
            "{} {}",
            op["method"].as_str().unwrap(),
            op["path"].as_str().unwrap()
        );
        assert!(t["error"].is_null(), "{label}: {}", t["error"]);
        let classes = t["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| f["class"].as_str().unwrap().to_string())
            .collect();
        got.insert(label, classes);
    }
    for (label, want) in PLANTED {
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got.get(*label), Some(&want), "{label}");
    }
    // `*` on the public list: informational, on that operation only.
    let public = &targets[0];
    assert_eq!(public["findings"][0]["class"], "wildcard-origin");
    assert_eq!(public["findings"][0]["severity"], "info");
    // The placeholder and the missing credentials are named.
    let file = targets
        .iter()
        .find(|t| t["operation"]["path"] == "/files/{name}")
        .unwrap();
    assert_eq!(
        file["operation"]["placeholders"],
        serde_json::json!(["name"])
    );
    let settings = targets
        .iter()
        .find(|t| t["operation"]["path"] == "/settings")
        .unwrap();
    assert!(
        settings["notes"]
            .to_string()
            .contains("without credentials"),
        "{settings}"
    );
    assert_eq!(
        settings["operation"]["request_headers"],
        serde_json::json!(["content-type", "x-api-key"])
    );
    // The reflection on /me is one root cause with both operations.
    let causes = v["root_causes"].as_array().unwrap();
    let reflect: Vec<&serde_json::Value> = causes
        .iter()
        .filter(|c| c["class"] == "reflect-any-origin")
        .collect();
    assert_eq!(reflect.len(), 1, "{causes:?}");
    assert_eq!(
        reflect[0]["operations"],
        serde_json::json!(["GET /me", "PUT /me"])
    );
    // SARIF points at the operations in the spec file.
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "reflect-any-origin")
        .unwrap();
    let lines: Vec<u64> = r["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(lines, [14, 17], "the lines of `get:` and `put:` under /me");
    assert!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("openapi.yaml")
    );
    // Preflights asked for what each operation sends; no state-changing
    // request was ever sent.
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.path == "/orders"
        && s.method == "OPTIONS"
        && s.header("access-control-request-method") == Some("POST")
        && s.header("access-control-request-headers") == Some("content-type")));
    assert!(
        seen.iter()
            .all(|s| matches!(s.method.as_str(), "GET" | "HEAD" | "OPTIONS")),
        "{:?}",
        seen.iter().map(|s| &s.method).collect::<BTreeSet<_>>()
    );
}

#[test]
fn human_output_groups_by_operation() {
    let server = Server::start(respond);
    let spec = spec_file();
    let base = format!("http://127.0.0.1:{}", server.port);
    let (code, stdout, _) = scan(&["--openapi", spec.to_str().unwrap(), "--server", &base]);
    assert_eq!(code, 1);
    assert!(stdout.contains("GET /me  (http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("[CRITICAL] reflect-any-origin"), "{stdout}");
    assert!(
        stdout.contains("on 2 operations: GET /me, PUT /me"),
        "{stdout}"
    );
    assert!(
        stdout.contains("note: PUT changes state: only preflights were sent"),
        "{stdout}"
    );
    let (code, _, stderr) = scan(&["--openapi", "/nonexistent.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
}
