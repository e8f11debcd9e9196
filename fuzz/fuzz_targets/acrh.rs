//! A preflight with arbitrary Origin, method and request-header bytes never
//! panics, and a refusal never carries Access-Control-* headers.
#![no_main]
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn policy() -> &'static corsair::Policy {
    static P: OnceLock<corsair::Policy> = OnceLock::new();
    P.get_or_init(|| {
        corsair::Policy::builder()
            .allow_origins(["https://app.example.com", "https://*.example.org", "http://localhost:*"])
            .allow_origin_regex(["https://pr-[0-9]+\\.preview\\.example\\.net"])
            .allow_methods(["GET", "PUT", "PATCH"])
            .allow_headers(["authorization", "content-type", "x-a"])
            .allow_credentials(true)
            .build()
            .expect("valid policy")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (origin, method, acrh) = (parts.next(), parts.next(), parts.next());
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("origin", origin),
        ("access-control-request-method", method),
        ("access-control-request-headers", acrh),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
            h.append(name, v);
        }
    }
    let d = policy().evaluate(&Method::OPTIONS, &h);
    if !d.is_allowed() {
        assert!(d.headers.iter().all(|(n, _)| !n.as_str().starts_with("access-control-")));
    }
});
