//! `corsair serve` with `[tls]`: the gateway terminates TLS with rustls and
//! speaks HTTP/2 by ALPN. The client is `corsair check` itself (trusting the
//! test certificate with `--cacert`), so this also holds the two faces of
//! corsair to the same policy over a real TLS connection.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{free_port, wait_listening, Server};

struct Cleanup {
    child: Child,
    files: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn check(url: &str, resolve: &str, ca: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec![
        "check",
        url,
        "--origin",
        "https://app.example.com",
        "--resolve",
        resolve,
        "--cacert",
        ca,
        "--json",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(&args)
        .output()
        .expect("run corsair check");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn tls_and_http2_through_the_gateway() {
    let upstream = Server::start(|_| (200, vec![("X-Request-Id".into(), "r-1".into())]));
    let cert =
        rcgen::generate_simple_self_signed(vec!["api.example.com".to_string()]).expect("cert");
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let (cert_path, key_path, config_path) = (
        dir.join(format!("corsair-tls-{id}.pem")),
        dir.join(format!("corsair-tls-{id}.key")),
        dir.join(format!("corsair-tls-{id}.toml")),
    );
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let port = free_port();
    std::fs::write(
        &config_path,
        format!(
            r#"listen = "127.0.0.1:{port}"
admin = "127.0.0.1:{admin}"
upstream = "http://127.0.0.1:{up}"
[tls]
cert = "{cert}"
key = "{key}"
[cors]
allow_origins = ["https://app.example.com"]
allow_methods = ["GET", "PUT"]
allow_headers = ["authorization"]
expose_headers = ["x-request-id"]
allow_credentials = true
"#,
            admin = free_port(),
            up = upstream.port,
            cert = cert_path.display(),
            key = key_path.display(),
        ),
    )
    .expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "serve",
            "--config",
            config_path.to_str().expect("path"),
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start corsair serve");
    let mut cleanup = Cleanup {
        child,
        files: vec![cert_path.clone(), key_path, config_path],
    };
    wait_listening(&mut cleanup.child, port);

    let url = format!("https://api.example.com:{port}/items");
    let resolve = format!("api.example.com:{port}:127.0.0.1");
    let ca = cert_path.to_str().expect("path");
    let (code, v) = check(
        &url,
        &resolve,
        ca,
        &[
            "-X",
            "PUT",
            "-H",
            "Authorization: Bearer t",
            "--credentials",
            "include",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["preflight_sent"], true);
    assert!(
        v["exposed_headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|n| n == "x-request-id")),
        "{v}"
    );
    assert!(
        v["http_versions"].to_string().contains("HTTP/2"),
        "ALPN should pick h2: {v}"
    );
    // The preflight never reached the upstream; the PUT did, with its token.
    let seen = upstream.seen();
    assert!(seen.iter().all(|s| s.method != "OPTIONS"), "{seen:?}");
    assert!(seen.iter().any(|s| s.method == "PUT"));

    // A method the policy does not allow is blocked, as a browser would:
    // the refused preflight is a 403 without CORS headers, which Chromium
    // reports as a missing Access-Control-Allow-Origin (it checks the
    // headers before the status).
    let (code, v) = check(&url, &resolve, ca, &["-X", "DELETE"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["code"], "missing-allow-origin", "{v}");
    assert_eq!(v["exchanges"][0]["response"]["status"], 403, "{v}");

    // Without --cacert the certificate is not trusted: a network error, not a CORS verdict.
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "check",
            &url,
            "--origin",
            "https://app.example.com",
            "--resolve",
            &resolve,
            "--timeout",
            "5",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("tls"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
