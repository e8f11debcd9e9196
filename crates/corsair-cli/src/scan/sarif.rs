//! SARIF 2.1.0 output for code-scanning dashboards.

use serde_json::{json, Value};

use super::class::{Class, Severity};
use super::target::TargetReport;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// `security-severity` for GitHub code scanning (0.0 to 10.0).
fn score(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The whole SARIF log for a scan; with `spec` (`--openapi`), one result
/// per root cause, located at each operation in the spec file.
pub fn log(reports: &[TargetReport], spec: Option<&str>) -> Value {
    let rules: Vec<Value> = Class::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.id(),
                "shortDescription": {"text": c.title()},
                "fullDescription": {"text": c.exploit()},
                "help": {"text": super::judge::fix(*c, "[\"https://app.example.com\"]", false)},
            })
        })
        .collect();
    let mut results = Vec::new();
    if let Some(spec) = spec {
        for c in super::report::root_causes(reports) {
            let f = c.finding;
            let rule_index = Class::ALL.iter().position(|k| *k == f.class).unwrap_or(0);
            let locations: Vec<Value> = if c.lines.is_empty() {
                vec![json!({"physicalLocation": {"artifactLocation": {"uri": spec}}})]
            } else {
                c.lines
                    .iter()
                    .map(|l| json!({"physicalLocation": {"artifactLocation": {"uri": spec}, "region": {"startLine": l}}}))
                    .collect()
            };
            results.push(json!({
                "ruleId": f.class.id(),
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": {"text": format!("{} (origin {}) on {}: {} {}", f.class.title(), f.origin, c.operations.join(", "), f.why, f.exploit)},
                "locations": locations,
                "properties": {
                    "severity": f.severity.as_str(),
                    "security-severity": score(f.severity),
                    "origin": f.origin,
                    "credentials": f.credentials,
                    "operations": c.operations,
                    "evidence": f.evidence,
                },
            }));
        }
    }
    for r in reports.iter().filter(|_| spec.is_none()) {
        for f in &r.findings {
            let rule_index = Class::ALL.iter().position(|c| *c == f.class).unwrap_or(0);
            results.push(json!({
                "ruleId": f.class.id(),
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": {"text": format!("{} (origin {}): {} {}", f.class.title(), f.origin, f.why, f.exploit)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.url}}}],
                "properties": {
                    "severity": f.severity.as_str(),
                    "security-severity": score(f.severity),
                    "origin": f.origin,
                    "credentials": f.credentials,
                    "evidence": f.evidence,
                },
            }));
        }
    }
    let notifications: Vec<Value> = reports
        .iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|e| json!({"level": "error", "message": {"text": format!("{}: {e}", r.url)}}))
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "corsair",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/corsair-cors/corsair",
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    })
}
