//! The gateway's path normaliser reads every request's path: it must never
//! panic, and what it returns must be normal (idempotent, no empty or dot
//! segment) unless it flagged the path as malformed.
#![no_main]

use corsair_gateway::http::path::{normalize, Ambiguity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = normalize(text);
    if !text.starts_with('/') || once.ambiguity == Some(Ambiguity::BadPercent) {
        assert_eq!(once.path, text);
        return;
    }
    let path = once.path.as_ref();
    assert!(path.starts_with('/'));
    assert!(!path.contains("//"), "{path:?}");
    assert!(path.split('/').skip(1).all(|s| s != "." && s != ".."), "{path:?}");
    assert_eq!(normalize(path).path, path);
});
