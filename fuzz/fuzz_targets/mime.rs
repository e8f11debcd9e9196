//! The WHATWG MIME type parser and the Content-Type safelist rule: never
//! panic, and serialization round-trips.
#![no_main]

use corsair::browser::mime::{parse_mime_type, parse_mime_type_bytes};
use corsair::browser::safelist::is_cors_safelisted_request_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(m) = parse_mime_type_bytes(data) {
        let serialized = m.to_string();
        assert_eq!(parse_mime_type(&serialized).as_ref(), Some(&m), "{serialized}");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_mime_type(s);
    }
    let _ = is_cors_safelisted_request_header("content-type", data);
    let _ = is_cors_safelisted_request_header("range", data);
});
