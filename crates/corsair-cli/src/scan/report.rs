//! Human output: grouped by target, most severe first.

use std::fmt::Write;

use super::target::TargetReport;

/// Renders the reports as text.
pub fn human(reports: &[TargetReport]) -> String {
    let mut out = String::new();
    let mut total = 0;
    for r in reports {
        let _ = writeln!(out, "{}", r.url);
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
