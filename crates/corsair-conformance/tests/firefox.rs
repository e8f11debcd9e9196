//! The conformance suite against real headless Firefox ESR. Skipped when
//! Firefox cannot be started, unless CORSAIR_REQUIRE_BROWSERS=1
//! (scripts/test.sh), which makes that a failure.

use std::path::Path;

use corsair_conformance::driver::Engine;
use corsair_conformance::suite;

#[test]
fn conformance_against_firefox() {
    // Firefox ESR 153 preflights the second identical `PUT` of the
    // `max_age = 600` cache steps again, while the same steps against a
    // later server with the same policy are cached, and no ordering, delay
    // or warm-up request tried changed it: not explained yet, so not
    // modelled, and reported rather than hidden.
    let known = ["cache-600-steps"];
    suite::run_as_test(
        Engine::Firefox,
        &known,
        Path::new(env!("CARGO_TARGET_TMPDIR")),
    );
}
