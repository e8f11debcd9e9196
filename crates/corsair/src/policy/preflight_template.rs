//! [`PreflightTemplate`]: a policy's usual allowed-preflight answer,
//! written into a header map once, when the policy is built.
//!
//! An allowed preflight's headers are nearly always the same for a given
//! policy: the configured methods, headers, max-age, credentials flag and
//! `Vary`; only `Access-Control-Allow-Origin` changes with the request.
//! Building that map per preflight costs one hashed insert per header;
//! cloning the template keeps every entry's stored hash and position and
//! leaves one insert, the origin. Whether a
//! decision fits the template is decided by comparing values, never by
//! reasoning about which policy rules apply, so a template can only ever
//! give the response [`Decision::preflight_response`] gives.

use http::header::{self, HeaderMap, HeaderValue};
use http::Response;

use super::decision::{CorsHeaders, Decision};

/// A policy's usual allowed-preflight headers, as a ready map.
#[derive(Debug, Clone)]
pub(super) struct PreflightTemplate {
    /// The headers the map was written from (with a placeholder origin).
    headers: CorsHeaders,
    /// What [`Decision::preflight_response`] writes for `headers`:
    /// [`CorsHeaders::apply_to`] on an empty map, then `Content-Length: 0`.
    map: HeaderMap,
}

impl PreflightTemplate {
    /// The template for `headers`; their `allow_origin` is replaced per
    /// request, the rest is kept as it is.
    pub(super) fn new(mut headers: CorsHeaders) -> PreflightTemplate {
        headers.allow_origin = Some(HeaderValue::from_static("*"));
        let map = preflight_headers(&headers);
        PreflightTemplate { headers, map }
    }

    /// The preflight response to `decision`, from the template when the
    /// decision's headers are the template's but for the origin, else
    /// built header by header; `None` when `decision` is not a preflight.
    pub(super) fn response<B: Default>(&self, decision: &Decision) -> Option<Response<B>> {
        let status = decision.status?;
        // A refusal carries no origin, so it never fits.
        let Some(headers) = self.fill(&decision.headers) else {
            return decision.preflight_response();
        };
        let mut response = Response::new(B::default());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Some(response)
    }

    /// The template's map with `headers`' origin in it, if `headers` are
    /// the template's but for the origin.
    fn fill(&self, headers: &CorsHeaders) -> Option<HeaderMap> {
        let origin = headers.allow_origin.as_ref()?;
        let ours = &self.headers;
        let same = headers.allow_credentials == ours.allow_credentials
            && headers.allow_private_network == ours.allow_private_network
            && same_value(&headers.allow_methods, &ours.allow_methods)
            && same_value(&headers.allow_headers, &ours.allow_headers)
            && same_value(&headers.max_age, &ours.max_age)
            && same_value(&headers.expose_headers, &ours.expose_headers)
            && same_value(&headers.vary, &ours.vary);
        if !same {
            return None;
        }
        let mut map = self.map.clone();
        // Replaced in place: the origin keeps the first position, as
        // `apply_to` writes it.
        map.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        Some(map)
    }
}

/// Whether two optional values are equal; a value cloned from the policy
/// shares its bytes with the template's, which settles it without
/// comparing them.
fn same_value(a: &Option<HeaderValue>, b: &Option<HeaderValue>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            std::ptr::eq(a, b) || a == b
        }
        (None, None) => true,
        _ => false,
    }
}

/// The headers of a preflight response carrying `headers`: the one
/// definition both [`Decision::preflight_response`] and the template use.
pub(super) fn preflight_headers(headers: &CorsHeaders) -> HeaderMap {
    // Room for every header a preflight answer can have, so the map is
    // allocated once and never grows.
    let mut map = HeaderMap::with_capacity(12);
    headers.apply_to(&mut map);
    map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    map
}

#[cfg(test)]
mod tests {
    use http::{Method, StatusCode};
    use proptest::prelude::*;

    use super::*;
    use crate::config::CorsConfig;
    use crate::test_util::headers as req;
    use crate::Policy;

    /// A response's header lines, in order.
    fn lines(response: &Response<()>) -> Vec<(String, String)> {
        response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect()
    }

    /// The usual preflight is answered from the template, with the
    /// request's origin in it.
    #[test]
    fn the_usual_preflight_uses_the_template() {
        let policy = Policy::builder()
            .allow_origins(["https://app.example.com", "https://b.example.com"])
            .allow_methods(["GET", "PUT"])
            .allow_headers(["authorization"])
            .allow_credentials(true)
            .max_age(600)
            .build()
            .unwrap();
        for origin in ["https://app.example.com", "https://b.example.com"] {
            let decision = policy.evaluate(
                &Method::OPTIONS,
                &req(&[
                    ("origin", origin),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "Authorization"),
                ]),
            );
            assert!(policy.preflight.fill(&decision.headers).is_some());
            let response: Response<()> = policy.preflight_response(&decision).unwrap();
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
            assert_eq!(response.headers()["access-control-allow-origin"], origin);
            assert_eq!(
                lines(&response),
                lines(&decision.preflight_response().unwrap())
            );
        }
    }

    /// A preflight whose answer echoes the request (a wildcard method under
    /// credentials) does not fit, and is built header by header.
    #[test]
    fn an_echoed_answer_does_not_fit() {
        let policy = Policy::builder()
            .allow_origins(["https://app.example.com"])
            .allow_methods(["*"])
            .allow_credentials(true)
            .build()
            .unwrap();
        let decision = policy.evaluate(
            &Method::OPTIONS,
            &req(&[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PATCH"),
            ]),
        );
        assert!(policy.preflight.fill(&decision.headers).is_none());
        let response: Response<()> = policy.preflight_response(&decision).unwrap();
        assert_eq!(response.headers()["access-control-allow-methods"], "PATCH");
    }

    fn config() -> impl Strategy<Value = CorsConfig> {
        (
            prop::sample::subsequence(
                vec!["https://app.example.com", "https://*.example.org", "*"],
                1..=2,
            ),
            prop::sample::subsequence(vec!["GET", "PUT", "DELETE", "*"], 0..=3),
            prop::sample::subsequence(vec!["authorization", "x-custom", "*"], 0..=2),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0i64..1000),
            prop::sample::select(vec![None, Some(200u16), Some(204)]),
        )
            .prop_map(
                |(origins, methods, headers, credentials, pna, max_age, status)| CorsConfig {
                    allow_origins: origins.iter().map(|s| s.to_string()).collect(),
                    allow_methods: methods.iter().map(|s| s.to_string()).collect(),
                    allow_headers: headers.iter().map(|s| s.to_string()).collect(),
                    allow_credentials: credentials,
                    allow_private_network: pna,
                    max_age,
                    preflight_status: status,
                    ..CorsConfig::default()
                },
            )
    }

    fn request() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
        (
            prop::sample::select(vec![
                "https://app.example.com",
                "https://a.example.org",
                "https://evil.example",
                "null",
            ]),
            prop::sample::select(vec!["GET", "PUT", "PATCH", "get"]),
            prop::option::of(prop::sample::select(vec![
                "authorization",
                "X-Custom",
                "authorization, x-other",
                "",
            ])),
            prop::option::of(prop::sample::select(vec!["true", "false"])),
        )
            .prop_map(|(origin, method, headers, pna)| {
                let mut lines = vec![
                    ("origin", origin),
                    ("access-control-request-method", method),
                ];
                if let Some(h) = headers {
                    lines.push(("access-control-request-headers", h));
                }
                if let Some(p) = pna {
                    lines.push(("access-control-request-private-network", p));
                }
                lines
            })
    }

    proptest! {
        /// Whatever the policy and the preflight, the template gives the
        /// very response built header by header: same status, same lines
        /// in the same order.
        #[test]
        fn template_and_header_by_header_agree(config in config(), request in request()) {
            let Ok(policy) = Policy::new(&config) else {
                return Ok(());
            };
            let decision = policy.evaluate(&Method::OPTIONS, &req(&request));
            let fast: Response<()> = policy.preflight_response(&decision).unwrap();
            let slow: Response<()> = decision.preflight_response().unwrap();
            prop_assert_eq!(fast.status(), slow.status());
            prop_assert_eq!(lines(&fast), lines(&slow));
        }
    }
}
