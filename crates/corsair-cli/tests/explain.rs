//! `corsair explain`, run as the real binary: a console message in, the
//! engine, the code (as `corsair check --json` reports it) and the fix out.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn explain(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .arg("explain")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_chromium_message_as_an_argument() {
    let message = "Access to fetch at 'https://api.example.com/items' from origin \
                   'https://app.example.com' has been blocked by CORS policy: Response to \
                   preflight request doesn't pass access control check: The value of the \
                   'Access-Control-Allow-Origin' header in the response must not be the \
                   wildcard '*' when the request's credentials mode is 'include'.";
    let v = json(&explain(&["--json", message], ""));
    assert_eq!(v["browser"], "chromium");
    assert_eq!(v["code"], "wildcard-with-credentials");
    assert_eq!(v["url"], "https://api.example.com/items");
    assert_eq!(v["origin"], "https://app.example.com");
    assert!(v["explanation"].as_str().unwrap().contains("preflight"));
    let toml = v["fix"]["toml"].as_str().unwrap();
    assert!(
        toml.contains("allow_origins = [\"https://app.example.com\"]"),
        "{toml}"
    );
    assert!(toml.contains("allow_credentials = true"), "{toml}");
    // The human report says the same.
    let out = explain(&[message], "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("chromium printed: wildcard-with-credentials"),
        "{text}"
    );
    assert!(
        text.contains("Access-Control-Allow-Origin: https://app.example.com"),
        "{text}"
    );
}

#[test]
fn a_firefox_message_from_standard_input_with_the_origin_given() {
    let message = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the \
                   remote resource at https://api.example.com/items. (Reason: header \
                   ‘x-token’ is not allowed according to header ‘Access-Control-Allow-Headers’ \
                   from CORS preflight response).\n";
    let v = json(&explain(
        &["--json", "--origin", "https://app.example.com"],
        message,
    ));
    assert_eq!(v["browser"], "firefox");
    assert_eq!(v["code"], "header-not-allowed");
    assert_eq!(v["origin"], "https://app.example.com");
    assert_eq!(v["fix"]["value"], "x-token");
    // Without --origin the report says the origin is a stand-in.
    let out = explain(&[], message);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pass --origin"), "{text}");
}

#[test]
fn something_else_exits_2_and_says_what_to_paste() {
    let out = explain(&["TypeError: Failed to fetch"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Access to fetch at"), "{err}");
}
