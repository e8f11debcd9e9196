//! `corsair export` proven against the real servers: each proxy target runs
//! the exported policy suite and must answer every request as
//! `Policy::evaluate` does. A server that is not installed is skipped with
//! a SKIPPED line, unless CORSAIR_REQUIRE_SERVERS=1 (scripts/test.sh,
//! which installs them), which makes that a failure.

use corsair_conformance::proxy_suite::{binary, installed, package, run, servers_required};
use corsair_export::Target;

fn prove(target: Target) {
    if !installed(target) {
        let why = format!(
            "{} is not installed (Debian's `{}`)",
            binary(target),
            package(target)
        );
        assert!(!servers_required(), "the export test for {target}: {why}");
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED the export test for {target}: {why}\n").as_bytes(),
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let report = run(target, runtime.handle()).unwrap_or_else(|e| panic!("{target}: {e}"));
    for d in report.tally.disagreements.iter().take(20) {
        eprintln!("{d}");
    }
    let line = report.summary_line(target);
    // Straight to stderr, past the harness's capture: the line shows in
    // every run.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    assert!(
        report.tally.disagreements.is_empty(),
        "{line} (the first 20 printed above)"
    );
}

#[test]
fn nginx_answers_as_the_policy() {
    prove(Target::Nginx);
}

#[test]
fn haproxy_answers_as_the_policy() {
    prove(Target::Haproxy);
}

#[test]
fn caddy_answers_as_the_policy() {
    prove(Target::Caddy);
}

#[test]
fn apache_answers_as_the_policy() {
    prove(Target::Apache);
}
