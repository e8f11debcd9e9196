//! Which response headers a script can read (Fetch §2.2.6 "CORS-filtered
//! response", §3.3.4 `Access-Control-Expose-Headers`).

use super::header_list::{lines, parse_token_list};
use super::request::Credentials;
use crate::names::{is_cors_safelisted_response_header_name, is_forbidden_response_header_name};

/// The lowercase names of headers present in `headers` that a script can
/// read through `response.headers`, sorted and deduplicated.
///
/// - `basic` (a same-origin response, Fetch §2.2.6 "basic filtered
///   response"): every header except `Set-Cookie`/`Set-Cookie2`.
/// - CORS: the CORS-safelisted response-header names, plus the names in
///   `Access-Control-Expose-Headers`; `*` there exposes every header only
///   when the credentials mode is not `include` (Fetch §4.1 main fetch
///   step 14.1). A list with an invalid token is ignored (extraction
///   fails). `Set-Cookie` is never exposed.
pub fn exposed_header_names(
    headers: &http::HeaderMap,
    basic: bool,
    credentials: Credentials,
) -> Vec<String> {
    let exposed: Vec<String> = if basic {
        Vec::new()
    } else {
        parse_token_list(&lines(headers, "access-control-expose-headers"))
            .ok()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect()
    };
    let star = exposed.iter().any(|n| n == "*") && credentials != Credentials::Include;
    let mut out: Vec<String> = headers
        .keys()
        .map(|n| n.as_str().to_string())
        .filter(|n| !is_forbidden_response_header_name(n))
        .filter(|n| {
            basic || star || is_cors_safelisted_response_header_name(n) || exposed.contains(n)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_util::headers as h;

    #[test]
    fn table() {
        let base: &[(&str, &str)] = &[
            ("content-type", "text/plain"),
            ("content-length", "3"),
            ("x-request-id", "1"),
            ("x-other", "2"),
            ("set-cookie", "a=b"),
            ("date", "now"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            h(&v)
        };
        let aceh = "access-control-expose-headers";
        type Case<'a> = (http::HeaderMap, bool, Credentials, &'a [&'a str]);
        let cases: Vec<Case> = vec![
            (
                with(&[]),
                false,
                Credentials::Omit,
                &["content-length", "content-type"],
            ),
            (
                with(&[(aceh, "X-Request-Id")]),
                false,
                Credentials::Omit,
                &["content-length", "content-type", "x-request-id"],
            ),
            (
                with(&[(aceh, "x-request-id, set-cookie")]),
                false,
                Credentials::Omit,
                &["content-length", "content-type", "x-request-id"],
            ),
            (
                with(&[(aceh, "*")]),
                false,
                Credentials::SameOrigin,
                &[
                    "access-control-expose-headers",
                    "content-length",
                    "content-type",
                    "date",
                    "x-other",
                    "x-request-id",
                ],
            ),
            (
                with(&[(aceh, "*")]),
                false,
                Credentials::Include,
                &["content-length", "content-type"],
            ),
            (
                with(&[(aceh, "*, x-other")]),
                false,
                Credentials::Include,
                &["content-length", "content-type", "x-other"],
            ),
            (
                with(&[(aceh, "x-other y z")]),
                false,
                Credentials::Omit,
                &["content-length", "content-type"],
            ),
            (
                with(&[]),
                true,
                Credentials::Include,
                &[
                    "content-length",
                    "content-type",
                    "date",
                    "x-other",
                    "x-request-id",
                ],
            ),
        ];
        for (headers, basic, cred, want) in cases {
            assert_eq!(
                exposed_header_names(&headers, basic, cred),
                want.to_vec(),
                "{headers:?}"
            );
        }
    }
}
