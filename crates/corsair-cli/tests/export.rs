//! `corsair export` and `corsair import`, run as the real binary. The
//! exported configs are proven against the real servers in
//! corsair-conformance (tests/export.rs).

use std::path::PathBuf;
use std::process::{Command, Output};

fn corsair(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .unwrap()
}

fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const POLICY: &str = r#"
upstream = "http://127.0.0.1:3000"
[cors]
allow_origins = ["https://app.example.com", "https://*.example.org"]
allow_methods = ["GET", "PUT"]
allow_headers = ["authorization"]
allow_credentials = true
max_age = 600
"#;

#[test]
fn help_has_examples() {
    for command in ["export", "import"] {
        let out = corsair(&[command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(&format!("corsair {command} --")), "{help}");
    }
}

#[test]
fn exports_a_complete_config_and_a_snippet() {
    let config = file("policy.toml", POLICY);
    let c = config.to_str().unwrap();
    let out = corsair(&[
        "export",
        "-c",
        c,
        "--to",
        "nginx",
        "--listen",
        "127.0.0.1:9000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listen 127.0.0.1:9000;"), "{text}");
    assert!(text.contains("server 127.0.0.1:3000;"), "{text}");
    let out = corsair(&["export", "-c", c, "--to", "caddy", "--snippet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Paste these blocks"),
        "{text}"
    );
    assert!(!text.contains("reverse_proxy http"), "{text}");
}

#[test]
fn an_approximation_is_refused_then_written_with_approximate() {
    let config = file("policy2.toml", POLICY);
    let c = config.to_str().unwrap();
    let out = corsair(&["export", "-c", c, "--to", "traefik"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused preflights") && err.contains("--approximate"),
        "{err}"
    );
    let out = corsair(&["export", "-c", c, "--to", "traefik", "--approximate"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# APPROXIMATIONS"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning:"));
    // S3 would grant credentials to a policy without them: never exported.
    let public = file(
        "nocred.toml",
        "[cors]\nallow_origins = [\"https://app.example.com\"]\n",
    );
    let out = corsair(&[
        "export",
        "-c",
        public.to_str().unwrap(),
        "--to",
        "s3",
        "--approximate",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gateway_routes_become_locations() {
    let config = file(
        "gateway.toml",
        r#"
listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"
[cors]
allow_origins = ["https://app.example.com"]
[[routes]]
path_prefix = "/admin"
[routes.cors]
allow_origins = ["https://admin.example.com"]
allow_credentials = true
"#,
    );
    let out = corsair(&["export", "-c", config.to_str().unwrap(), "--to", "nginx"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("location = /admin {") && text.contains("location ^~ /admin/ {"),
        "{text}"
    );
    assert!(text.contains("location / {"), "{text}");
}

#[test]
fn routes_with_their_own_upstream_or_host_are_refused() {
    let config = file(
        "two-upstreams.toml",
        "upstream = \"http://127.0.0.1:3000\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n[[routes]]\npath_prefix = \"/b\"\nupstream = \"http://127.0.0.1:4000\"\n",
    );
    let out = corsair(&["export", "-c", config.to_str().unwrap(), "--to", "nginx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its own upstream"));
    let config = file(
        "host-route.toml",
        "[cors]\nallow_origins = [\"https://app.example.com\"]\n[[routes]]\nhost = \"api.example.com\"\n",
    );
    let out = corsair(&[
        "export",
        "-c",
        config.to_str().unwrap(),
        "--to",
        "caddy",
        "--snippet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("host"));
}

#[test]
fn import_prints_the_policy_and_each_trap_with_its_line() {
    let nginx = file(
        "reflect.conf",
        "server {\n    listen 80;\n    location /api/ {\n        add_header 'Access-Control-Allow-Origin' \"$http_origin\" always;\n        add_header 'Access-Control-Allow-Credentials' 'true' always;\n        add_header 'Access-Control-Allow-Methods' 'GET, POST, OPTIONS';\n    }\n}\n",
    );
    let out = corsair(&["import", "--from", "nginx", nginx.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 4: error") && err.contains("every site is allowed"),
        "{err}"
    );
    let toml = String::from_utf8_lossy(&out.stdout);
    assert!(toml.contains("allow_credentials = true"), "{toml}");
    // A round trip: corsair's own export reads back clean.
    let config = file("policy3.toml", POLICY);
    let out = corsair(&["export", "-c", config.to_str().unwrap(), "--to", "haproxy"]);
    let exported = file("haproxy.cfg", &String::from_utf8_lossy(&out.stdout));
    let out = corsair(&[
        "import",
        "--from",
        "haproxy",
        exported.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cors = &v["routes"][0]["cors"];
    assert_eq!(
        cors["allow_origins"],
        serde_json::json!(["https://app.example.com", "https://*.example.org"])
    );
    assert_eq!(cors["max_age"], 600);
    let out = corsair(&["import", "--from", "kong", nginx.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}
