//! Human output: grouped by target, most severe first; with `--openapi`,
//! by operation, each root cause once.

use std::fmt::Write;

use serde::Serialize;

use super::judge::Finding;
use super::target::TargetReport;

/// One root cause across operations: the same class at the same severity
/// on several operations (one server-wide reflection) is one finding.
#[derive(Debug, Serialize)]
pub struct RootCause<'a> {
    /// The finding, as first seen.
    #[serde(flatten)]
    pub finding: &'a Finding,
    /// Every operation it was found on (`GET /users/{id}`).
    pub operations: Vec<String>,
    /// Their lines in the spec, where known.
    #[serde(skip)]
    pub lines: Vec<usize>,
}

/// The findings of operation reports, one per root cause, most severe first.
pub fn root_causes(reports: &[TargetReport]) -> Vec<RootCause<'_>> {
    let mut out: Vec<RootCause<'_>> = Vec::new();
    for r in reports {
        let label = r
            .operation
            .as_ref()
            .map_or_else(|| r.url.clone(), |op| op.label());
        let line = r.operation.as_ref().and_then(|op| op.line);
        for f in &r.findings {
            match out.iter_mut().find(|c| {
                c.finding.class == f.class
                    && c.finding.severity == f.severity
                    && c.finding.credentials == f.credentials
            }) {
                Some(c) => {
                    c.operations.push(label.clone());
                    c.lines.extend(line);
                }
                None => out.push(RootCause {
                    finding: f,
                    operations: vec![label.clone()],
                    lines: line.into_iter().collect(),
                }),
            }
        }
    }
    out.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.finding.class.cmp(&b.finding.class))
    });
    out
}

fn finding_details(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "    origin:   {}{}",
        f.origin,
        if f.credentials {
            " (with credentials)"
        } else {
            ""
        }
    );
    if !f.also.is_empty() {
        let _ = writeln!(out, "    also:     {}", f.also.join(", "));
    }
    let _ = writeln!(out, "    why:      {}", f.why);
    let _ = writeln!(out, "    exploit:  {}", f.exploit);
    let _ = writeln!(out, "    evidence: {} with", f.evidence.method);
    for [n, v] in &f.evidence.request_headers {
        let _ = writeln!(out, "                > {n}: {v}");
    }
    let _ = writeln!(out, "              got {}", f.evidence.status);
    for [n, v] in &f.evidence.response_headers {
        let _ = writeln!(out, "                < {n}: {v}");
    }
    let _ = writeln!(
        out,
        "    fix:      {}",
        f.fix.replace('\n', "\n              ")
    );
}

/// Renders operation reports: each operation with its notes and the
/// classes found on it, then each root cause once with its operations.
pub fn human_by_operation(reports: &[TargetReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let label = r
            .operation
            .as_ref()
            .map_or_else(|| r.url.clone(), |op| op.label());
        let _ = writeln!(out, "{label}  ({})", r.url);
        if r.certificate_verified == Some(false) {
            let _ = writeln!(out, "  certificate not verified (--insecure)");
        }
        for n in &r.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  error: {e}");
        } else if r.findings.is_empty() {
            let _ = writeln!(out, "  no findings");
        } else {
            for f in &r.findings {
                let _ = writeln!(
                    out,
                    "  [{}] {}",
                    f.severity.as_str().to_uppercase(),
                    f.class.id()
                );
            }
        }
    }
    let causes = root_causes(reports);
    let _ = writeln!(out);
    for c in &causes {
        let f = c.finding;
        let _ = writeln!(
            out,
            "[{}] {}: {}",
            f.severity.as_str().to_uppercase(),
            f.class.id(),
            f.class.title()
        );
        let _ = writeln!(
            out,
            "    on {} operation{}: {}",
            c.operations.len(),
            if c.operations.len() == 1 { "" } else { "s" },
            c.operations.join(", ")
        );
        finding_details(&mut out, f);
        let _ = writeln!(out);
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "{} operation{} scanned, {} root cause{}, {failed} failed",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        causes.len(),
        if causes.len() == 1 { "" } else { "s" }
    );
    out
}

/// Renders the reports as text.
pub fn human(reports: &[TargetReport]) -> String {
    let mut out = String::new();
    let mut total = 0;
    for r in reports {
        let _ = writeln!(out, "{}", r.url);
        if r.certificate_verified == Some(false) {
            let _ = writeln!(out, "  certificate not verified (--insecure)");
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  error: {e}\n");
            continue;
        }
        if r.findings.is_empty() {
            let _ = writeln!(out, "  no findings\n");
            continue;
        }
        for f in &r.findings {
            total += 1;
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                f.severity.as_str().to_uppercase(),
                f.class.id(),
                f.class.title()
            );
            finding_details(&mut out, f);
            let _ = writeln!(out);
        }
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "{} target{} scanned, {total} finding{}, {failed} failed",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" }
    );
    out
}
