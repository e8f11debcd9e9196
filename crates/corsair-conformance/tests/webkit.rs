//! The conformance suite against real WebKit (WebKitGTK's MiniBrowser under
//! Xvfb). Skipped when WebKit cannot be started, unless
//! CORSAIR_REQUIRE_BROWSERS=1 (scripts/test.sh), which makes that a failure.

use std::path::Path;

use corsair_conformance::driver::Engine;
use corsair_conformance::suite;

#[test]
fn conformance_against_webkit() {
    suite::run_as_test(Engine::Webkit, &[], Path::new(env!("CARGO_TARGET_TMPDIR")));
}
