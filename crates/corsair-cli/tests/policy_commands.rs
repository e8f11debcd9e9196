//! `corsair validate` and `corsair eval`, run as the real binary.

use std::io::Write;
use std::process::{Command, Output};

fn corsair(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .output()
        .expect("run corsair")
}

fn config(text: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(text)
}

/// A tiny self-deleting temp file, to avoid a dev-dependency for one helper.
mod tempfile_path {
    use super::*;
    pub struct TempFile(pub std::path::PathBuf);
    impl TempFile {
        pub fn new(text: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let path =
                std::env::temp_dir().join(format!("corsair-test-{}-{n}.toml", std::process::id()));
            let mut f = std::fs::File::create(&path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
            TempFile(path)
        }
        pub fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

const GOOD: &str = r#"
listen = "127.0.0.1:8080"
[cors]
allow_origins = ["https://app.example.com", "https://*.example.org"]
allow_methods = ["GET", "PUT"]
allow_headers = ["authorization"]
allow_credentials = true
max_age = 600
"#;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_accepts_a_good_policy() {
    let f = config(GOOD);
    let o = corsair(&["validate", "--config", f.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("valid CORS policy"));
}

#[test]
fn validate_prints_warnings_and_still_succeeds() {
    let f =
        config("[cors]\nallow_origins = [\"http://app.example.com\"]\nallow_credentials = true\n");
    let o = corsair(&["validate", "--config", f.path()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("warning: allow_origins `http://app.example.com`"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("1 warning"));
}

#[test]
fn validate_lists_every_problem_and_exits_2() {
    let f = config(
        "[cors]\nallow_origins = [\"*\", \"null\", \"https://*.com\"]\nallow_methods = [\"TRACE\"]\nallow_credentials = true\nmax_age = -5\n",
    );
    let o = corsair(&["validate", "--config", f.path()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("5 errors"), "{err}");
    for needle in ["`*`", "`null`", "public suffix", "TRACE", "max_age"] {
        assert!(err.contains(needle), "{needle} missing in {err}");
    }
}

#[test]
fn validate_reports_syntax_and_missing_files() {
    let f = config("[cors]\nallow_origins = \"https://a.com\"\n");
    let o = corsair(&["validate", "--config", f.path()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("allow_origins"), "{}", stderr(&o));
    let o = corsair(&["validate", "--config", "/nonexistent/cors.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read config file /nonexistent/cors.toml"));
}

fn eval_json(f: &tempfile_path::TempFile, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["eval", "--config", f.path(), "--json"];
    args.extend_from_slice(extra);
    let o = corsair(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

#[test]
fn eval_json_has_exactly_the_documented_fields() {
    let f = config(GOOD);
    let v = eval_json(&f, &["--header", "Origin: https://x.example.org"]);
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["allowed", "headers", "kind", "reason", "status"]);
    assert_eq!(v["kind"], "actual");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["status"], serde_json::Value::Null);
    assert_eq!(
        v["headers"],
        serde_json::json!([
            ["access-control-allow-origin", "https://x.example.org"],
            ["access-control-allow-credentials", "true"],
            ["vary", "origin"]
        ])
    );
    assert!(v["reason"].as_str().unwrap().starts_with("origin-pattern"));
}

#[test]
fn eval_preflights() {
    let f = config(GOOD);
    let v = eval_json(
        &f,
        &[
            "-X",
            "OPTIONS",
            "-H",
            "Origin: https://app.example.com",
            "-H",
            "Access-Control-Request-Method: PUT",
            "-H",
            "Access-Control-Request-Headers: Authorization",
        ],
    );
    assert_eq!(v["kind"], "preflight");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["status"], 204);
    let v = eval_json(
        &f,
        &[
            "-X",
            "OPTIONS",
            "--origin",
            "https://app.example.com",
            "-H",
            "Access-Control-Request-Method: PATCH",
        ],
    );
    assert_eq!(v["allowed"], false);
    assert_eq!(v["status"], 403);
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("method-not-allowed"));
    assert_eq!(v["headers"].as_array().unwrap().len(), 1, "only Vary: {v}");
}

#[test]
fn eval_non_cors_and_refused() {
    let f = config(GOOD);
    let v = eval_json(&f, &[]);
    assert_eq!(v["kind"], "non-cors");
    assert_eq!(v["allowed"], true);
    let v = eval_json(&f, &["--origin", "https://evil.example"]);
    assert_eq!(v["allowed"], false);
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .starts_with("origin-not-allowed"));
}

#[test]
fn eval_human_output_explains_and_fixes() {
    let f = config(GOOD);
    let o = corsair(&["eval", "-c", f.path(), "--origin", "https://evil.example"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("REFUSED"), "{out}");
    assert!(
        out.contains("add \"https://evil.example\" to allow_origins"),
        "{out}"
    );
}

#[test]
fn eval_usage_errors_exit_2() {
    let f = config(GOOD);
    for args in [
        vec!["eval", "-c", f.path(), "-H", "no colon here"],
        vec!["eval", "-c", f.path(), "-X", "GE T"],
        vec!["eval", "-c", "/nonexistent.toml"],
        vec!["eval"],
    ] {
        let o = corsair(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let bad = config("[cors]\nallow_origins = [\"*\"]\nallow_credentials = true\n");
    let o = corsair(&["eval", "-c", bad.path()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["playground", "check", "scan", "serve", "validate", "eval"] {
        let o = corsair(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("Example"), "{sub}");
    }
}
