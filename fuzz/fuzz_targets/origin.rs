//! The Origin parser never panics, and what it accepts round-trips and is
//! stable under the accessors.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(o) = corsair::OriginRef::parse(s) {
            assert_eq!(o.as_str(), s);
            let _ = (o.scheme(), o.host(), o.port(), o.registrable_domain());
            let again = corsair::OriginRef::parse(o.as_str()).expect("reparse");
            assert!(o.is_same_site(&again) || o.is_opaque() || o.registrable_domain().is_none());
        }
    }
});
