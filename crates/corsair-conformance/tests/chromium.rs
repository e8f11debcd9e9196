//! The conformance suite against real headless Chromium. Fails when
//! Chromium cannot be started, unless CORSAIR_SKIP_BROWSER=1.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use corsair_conformance::chromium::launch_for_test;
use corsair_conformance::lab::Lab;
use corsair_conformance::matrix::{load_catalogue, scenarios_dir};
use corsair_conformance::observation::{differences, Observation, Recorded, Tally};
use corsair_conformance::policy_suite::{self, PolicyLab};
use corsair_conformance::scenario::Scenario;
use corsair_conformance::{invariants, model};

fn recorded(version: &str, scenarios: &[Scenario], observed: &[Observation]) -> Recorded {
    Recorded {
        browser: version.to_string(),
        observations: scenarios
            .iter()
            .map(|s| s.id.clone())
            .zip(observed.iter().cloned())
            .collect(),
    }
}

#[test]
fn conformance_against_chromium() {
    let Some(browser) = launch_for_test("the conformance suite") else {
        return;
    };
    let started = Instant::now();
    eprintln!("Chromium {}", browser.version());

    // 1. The browser-model matrix: every scenario in Chromium.
    let catalogue = load_catalogue().unwrap();
    let lab = Lab::start().unwrap();
    let mut observed = Vec::new();
    for chunk in catalogue.scenario.chunks(250) {
        observed.extend(lab.run(&browser, chunk).unwrap());
    }
    let matrix_time = started.elapsed();
    let run = recorded(browser.version(), &catalogue.scenario, &observed);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chromium-observations.jsonl");
    std::fs::write(&out, run.to_jsonl()).unwrap();
    let committed = scenarios_dir().join("chromium-observations.jsonl");
    if std::env::var("CORSAIR_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&committed, run.to_jsonl()).unwrap();
    }
    // Informational: how this Chromium differs from the committed snapshot
    // (a new Chromium version may legitimately differ; the model decides).
    let snapshot = std::fs::read_to_string(&committed)
        .ok()
        .and_then(|t| Recorded::from_jsonl(&t).ok())
        .unwrap_or_default();
    let changed = run
        .observations
        .iter()
        .filter(|(id, o)| !snapshot.observations.iter().any(|(i, p)| i == id && p == o))
        .count();

    let mut broken = Vec::new();
    for (s, o) in catalogue.scenario.iter().zip(&observed) {
        let v = invariants::violations(s, o);
        if !v.is_empty() {
            broken.push(format!(
                "scenario {} ({}):\n{}\n  observed: {}",
                s.id,
                s.note,
                v.join("\n"),
                serde_json::to_string(o).unwrap()
            ));
        }
    }

    let mut tally = Tally::default();
    let env = lab.env().clone();
    match model::browser_model() {
        Some(predictor) => {
            for (s, o) in catalogue.scenario.iter().zip(&observed) {
                let predicted = predictor.predict(s, &env);
                let problems = differences(&predicted, o, predictor.predicts_console_of(s, &env));
                tally.record(&s.id, predictor.name(), problems);
            }
        }
        None => eprintln!(
            "{} browser-model scenarios ran in Chromium; no browser model is plugged in \
             (corsair_conformance::model::browser_model), so only the invariants were checked",
            observed.len()
        ),
    }

    // 2. Policy conformance and 3. the preflight cache.
    let policy_lab = PolicyLab::start(policy_suite::policies).unwrap();
    tally.merge(policy_suite::run(&browser, &policy_lab).unwrap());
    let cache_lab = PolicyLab::start(policy_suite::cache_policies).unwrap();
    tally.merge(policy_suite::run_cache(&browser, &cache_lab).unwrap());

    eprintln!(
        "observations: {}\nmatrix {:.1?}, total {:.1?}",
        out.display(),
        matrix_time,
        started.elapsed()
    );
    eprintln!(
        "invariants: {} scenarios hold, {} break",
        observed.len() - broken.len(),
        broken.len()
    );
    for d in tally.disagreements.iter().chain(&broken) {
        eprintln!("{d}");
    }
    // Written to stderr directly so it shows even when the test passes
    // (cargo's capture only covers the print macros).
    let _ = writeln!(
        std::io::stderr(),
        "corsair-conformance: Chromium {}, {} browser-model scenarios (invariants: {} broken; \
         {changed} differ from the committed Chromium {} snapshot), {:.1?}\n{}",
        browser.version(),
        observed.len(),
        broken.len(),
        snapshot.browser,
        started.elapsed(),
        tally.summary_line()
    );
    assert!(
        tally.disagreements.is_empty() && broken.is_empty(),
        "{}; {} invariant violations (printed above)",
        tally.summary_line(),
        broken.len()
    );
}

#[test]
fn driver_opens_a_page_runs_js_reads_the_console_and_takes_a_screenshot() {
    let Some(browser) = launch_for_test("the conformance suite") else {
        return;
    };
    let page = browser.new_page().unwrap();
    let sum: i64 = page.eval_as("Promise.resolve(20 + 22)").unwrap();
    assert_eq!(sum, 42);
    page.eval(
        "console.error('hello from corsair'); document.body.innerHTML = '<h1>corsair</h1>'; null",
    )
    .unwrap();
    let console = page.take_console().unwrap();
    assert!(
        console
            .iter()
            .any(|m| m.kind == "error" && m.text == "hello from corsair"),
        "{console:?}"
    );
    assert!(page.eval("throw new Error('boom')").is_err());
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("driver-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    page.screenshot(&shot).unwrap();
    let bytes = std::fs::read(&shot).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}
