//! Helpers shared by the binary's unit tests.

use http::{HeaderMap, HeaderName, HeaderValue};

/// A header map of `(name, value)` pairs, appended in order (so a name
/// may repeat).
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}
