//! Exports to targets with no Debian package, checked against the target's
//! own published schema where one can be installed from a registry: the
//! Gateway API CRD's OpenAPI schema (`schemas/`, `npm ci` there; the
//! README's test command does it). Skipped with a SKIPPED line when Node or
//! the schema package is missing, unless CORSAIR_REQUIRE_SERVERS=1.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use corsair_conformance::proxy_suite::{pages, routes, servers_required};
use corsair_export::{export, Options, Route, Target};

fn schemas_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"))
}

/// Runs a checker script on `json`: `Ok(())` when valid, else its message.
fn check(script: &str, json: &serde_json::Value) -> Result<(), String> {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(schemas_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(json.to_string().as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && text == "valid" {
        Ok(())
    } else {
        Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn ready() -> bool {
    let installed = schemas_dir()
        .join("node_modules/@kubernetes-models/gateway-api")
        .exists();
    if installed {
        return true;
    }
    let why = "crates/corsair-conformance/schemas has no node_modules: run `npm ci` there \
               (scripts/test.sh does)";
    assert!(!servers_required(), "the export schema test: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED the export schema test: {why}");
    false
}

#[test]
fn gateway_api_exports_match_the_crd_schema() {
    if !ready() {
        return;
    }
    let options = Options {
        approximate: true,
        ..Options::default()
    };
    let mut checked = 0;
    for route in routes(&pages()) {
        let one = [Route {
            path_prefix: None,
            ..route.clone()
        }];
        let (with_prefix, whole) = (
            export(std::slice::from_ref(&route), Target::GatewayApi, &options),
            export(&one, Target::GatewayApi, &options),
        );
        for exported in [with_prefix, whole] {
            // Policies the Gateway API cannot express are refused, never
            // exported wrong.
            let Ok(exported) = exported else { continue };
            let json: serde_json::Value = serde_norway::from_str(&exported.text).unwrap();
            if let Err(e) = check("gateway-api.mjs", &json) {
                panic!("{}: {e}\n{}", route.name, exported.text);
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} exports checked");
    let _ = writeln!(
        std::io::stderr(),
        "{checked} Gateway API exports match the HTTPRoute CRD schema"
    );
    // The check can fail: a value the schema forbids is refused.
    let exported = export(&[routes(&pages()).remove(0)], Target::GatewayApi, &options).unwrap();
    let mut json: serde_json::Value = serde_norway::from_str(&exported.text).unwrap();
    json["spec"]["rules"][0]["filters"][0]["cors"]["maxAge"] = serde_json::json!("ten");
    assert!(check("gateway-api.mjs", &json).is_err());
}
