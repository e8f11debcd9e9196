//! The conformance suite against real headless Chromium, and the driver's
//! basics. Skipped when Chromium cannot be started, unless
//! CORSAIR_REQUIRE_BROWSERS=1 (scripts/test.sh), which makes that a failure.

use std::path::{Path, PathBuf};

use corsair_conformance::driver::{launch_for_test, Engine};
use corsair_conformance::suite;

#[test]
fn conformance_against_chromium() {
    suite::run_as_test(
        Engine::Chromium,
        &[],
        Path::new(env!("CARGO_TARGET_TMPDIR")),
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
