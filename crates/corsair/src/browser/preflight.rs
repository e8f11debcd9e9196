//! The CORS-preflight request and the judgement of its response (Fetch
//! §4.9 "CORS-preflight fetch").

use super::check::cors_check;
use super::error::CorsErrorKind;
use super::header_list::{lines, parse_token_list};
use super::profile::Profile;
use super::request::{Credentials, HttpRequest};
use super::safelist::is_cors_non_wildcard_request_header_name;
use crate::names::is_cors_safelisted_method;

/// Fetch §4.9 steps 1-5: `OPTIONS` to the same URL with `Accept: */*`,
/// `Origin`, `Access-Control-Request-Method` and, when there are unsafe
/// headers, `Access-Control-Request-Headers` joined with `,` (no space).
/// No credentials and none of the request's own headers.
pub fn preflight_request(
    url: &url::Url,
    method: &str,
    unsafe_names: &[String],
    request_origin: &str,
) -> HttpRequest {
    let mut headers = http::HeaderMap::new();
    headers.append(http::header::ACCEPT, http::HeaderValue::from_static("*/*"));
    // Method tokens and origins are visible ASCII, so these cannot fail;
    // fall back to omitting rather than panicking.
    if let Ok(v) = http::HeaderValue::from_str(request_origin) {
        headers.append(http::header::ORIGIN, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(method) {
        headers.append(http::header::ACCESS_CONTROL_REQUEST_METHOD, v);
    }
    if !unsafe_names.is_empty() {
        if let Ok(v) = http::HeaderValue::from_str(&unsafe_names.join(",")) {
            headers.append(http::header::ACCESS_CONTROL_REQUEST_HEADERS, v);
        }
    }
    HttpRequest {
        method: http::Method::OPTIONS,
        url: url.clone(),
        headers,
        include_credentials: false,
    }
}

/// What a successful preflight allowed, for the cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PreflightResult {
    /// `Access-Control-Allow-Methods` elements (case kept).
    pub methods: Vec<String>,
    /// `Access-Control-Allow-Headers` elements.
    pub header_names: Vec<String>,
    /// The effective max-age in seconds, after the profile's cap.
    pub max_age: u64,
}

/// What the preflight is judged against.
#[derive(Debug, Clone, Copy)]
pub struct PreflightInput<'a> {
    /// The browser.
    pub profile: Profile,
    /// The actual request's credentials mode (Fetch §4.9 step 7 note: the
    /// CORS check uses the request's, not the preflight's).
    pub credentials: Credentials,
    /// The byte-serialized request origin.
    pub request_origin: &'a str,
    /// The actual request's method.
    pub method: &'a str,
    /// The actual request's header names (lowercase).
    pub header_names: &'a [String],
    /// Its CORS-unsafe request-header names.
    pub unsafe_names: &'a [String],
}

/// Fetch §4.9 step 7: the preflight response must be an ok status
/// (200-299) and pass the CORS check; then `Access-Control-Allow-Methods`
/// and `-Headers` must parse as token lists and allow the method and every
/// unsafe header (`*` only without credentials; never for
/// `Authorization`).
pub fn judge_preflight(
    input: PreflightInput<'_>,
    status: u16,
    headers: &http::HeaderMap,
) -> Result<PreflightResult, CorsErrorKind> {
    if (300..400).contains(&status) {
        return Err(CorsErrorKind::RedirectInPreflight { status });
    }
    let ok = (200..300).contains(&status);
    if input.profile.preflight_status_first() && !ok {
        return Err(CorsErrorKind::PreflightNotOk { status });
    }
    cors_check(headers, input.credentials, input.request_origin)?;
    if !ok {
        return Err(CorsErrorKind::PreflightNotOk { status });
    }
    let joined = |name: &str| {
        lines(headers, name)
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let methods = parse_token_list(&lines(headers, "access-control-allow-methods"))
        .map_err(|e| CorsErrorKind::InvalidAllowMethodsToken {
            token: e.element,
            value: joined("access-control-allow-methods"),
        })?
        .unwrap_or_default();
    let header_names = parse_token_list(&lines(headers, "access-control-allow-headers"))
        .map_err(|e| CorsErrorKind::InvalidAllowHeadersToken {
            token: e.element,
            value: joined("access-control-allow-headers"),
        })?
        .unwrap_or_default();
    let include = input.credentials == Credentials::Include;
    let star_methods = methods.iter().any(|m| m == "*");
    if !methods.iter().any(|m| m == input.method)
        && !is_cors_safelisted_method(input.method)
        && (include || !star_methods)
    {
        return Err(CorsErrorKind::MethodNotAllowed {
            method: input.method.to_string(),
            wildcard_ignored: star_methods,
        });
    }
    let star_headers = header_names.iter().any(|h| h == "*");
    let listed = |name: &str| header_names.iter().any(|h| h.eq_ignore_ascii_case(name));
    // Every header the answer does not allow, in the order Fetch checks
    // them: non-wildcard names (Authorization) first (step 7.6), then the
    // sorted CORS-unsafe names (step 7.7). The error names the first.
    let star_covers = !include && star_headers;
    let mut disallowed: Vec<String> = Vec::new();
    for name in input.header_names {
        let covered = star_covers && input.profile.wildcard_covers_authorization();
        if is_cors_non_wildcard_request_header_name(name) && !listed(name) && !covered {
            disallowed.push(name.clone());
        }
    }
    for name in input.unsafe_names {
        if !listed(name) && !star_covers && !disallowed.contains(name) {
            disallowed.push(name.clone());
        }
    }
    if let Some(name) = disallowed.first() {
        return Err(CorsErrorKind::HeaderNotAllowed {
            name: name.clone(),
            wildcard_ignored: star_headers,
            disallowed,
        });
    }
    let max_age = input
        .profile
        .max_age(&lines(headers, "access-control-max-age"));
    Ok(PreflightResult {
        methods,
        header_names,
        max_age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "https://app.example";

    use crate::test_util::headers as h;

    #[test]
    fn request_shape() {
        let url = url::Url::parse("https://api.example/v1?q=1").expect("url");
        let r = preflight_request(&url, "PUT", &["content-type".into(), "x-b".into()], O);
        assert_eq!(r.method, http::Method::OPTIONS);
        assert_eq!(r.url, url);
        let names: Vec<_> = r.headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "accept",
                "origin",
                "access-control-request-method",
                "access-control-request-headers"
            ]
        );
        assert_eq!(
            r.headers["access-control-request-headers"],
            "content-type,x-b"
        );
        assert_eq!(r.headers["accept"], "*/*");
        let r = preflight_request(&url, "patch", &[], "null");
        assert!(r.headers.get("access-control-request-headers").is_none());
        assert_eq!(r.headers["access-control-request-method"], "patch");
        assert_eq!(r.headers["origin"], "null");
    }

    #[test]
    fn judgement_table() {
        let acao = ("access-control-allow-origin", O);
        let star = ("access-control-allow-origin", "*");
        let acac = ("access-control-allow-credentials", "true");
        let acam = |v| ("access-control-allow-methods", v);
        let acah = |v| ("access-control-allow-headers", v);
        use Credentials::*;
        // (status, response headers, credentials, method, request header names, unsafe names, expected code or "")
        type Case<'a> = (
            u16,
            Vec<(&'a str, &'a str)>,
            Credentials,
            &'a str,
            &'a [&'a str],
            &'a [&'a str],
            &'a str,
        );
        let cases: Vec<Case> = vec![
            (204, vec![acao, acam("PUT")], Omit, "PUT", &[], &[], ""),
            (200, vec![star, acam("PUT")], Omit, "PUT", &[], &[], ""),
            (299, vec![star, acam("PUT")], Omit, "PUT", &[], &[], ""),
            (
                300,
                vec![star, acam("PUT")],
                Omit,
                "PUT",
                &[],
                &[],
                "redirect-in-preflight",
            ),
            (301, vec![], Omit, "PUT", &[], &[], "redirect-in-preflight"),
            (
                404,
                vec![star, acam("PUT")],
                Omit,
                "PUT",
                &[],
                &[],
                "preflight-not-ok",
            ),
            (404, vec![], Omit, "PUT", &[], &[], "missing-allow-origin"),
            (500, vec![acao], Omit, "PUT", &[], &[], "preflight-not-ok"),
            (204, vec![acao], Omit, "PUT", &[], &[], "method-not-allowed"),
            (
                204,
                vec![acao, acam("put")],
                Omit,
                "PUT",
                &[],
                &[],
                "method-not-allowed",
            ),
            (
                204,
                vec![acao, acam("PATCH")],
                Omit,
                "patch",
                &[],
                &[],
                "method-not-allowed",
            ),
            (204, vec![acao, acam("patch")], Omit, "patch", &[], &[], ""),
            (204, vec![acao, acam("*")], Omit, "DELETE", &[], &[], ""),
            (
                204,
                vec![acao, acac, acam("*")],
                Include,
                "DELETE",
                &[],
                &[],
                "method-not-allowed",
            ),
            (
                204,
                vec![acao, acac, acam("DELETE")],
                Include,
                "DELETE",
                &[],
                &[],
                "",
            ),
            (
                204,
                vec![acao, acam("DELETE")],
                Include,
                "DELETE",
                &[],
                &[],
                "credentials-not-true",
            ),
            (
                204,
                vec![star, acac, acam("DELETE")],
                Include,
                "DELETE",
                &[],
                &[],
                "wildcard-with-credentials",
            ),
            (
                204,
                vec![acao, acam("PUT DELETE")],
                Omit,
                "PUT",
                &[],
                &[],
                "invalid-allow-methods-token",
            ),
            (
                204,
                vec![acao, acam("GET"), acah("x-a;")],
                Omit,
                "POST",
                &["x-a"],
                &["x-a"],
                "invalid-allow-headers-token",
            ),
            // A safelisted method needs no listing, even with a bad list elsewhere ok.
            (
                204,
                vec![acao, acah("X-A")],
                Omit,
                "POST",
                &["x-a"],
                &["x-a"],
                "",
            ),
            (
                204,
                vec![acao, acah("x-b")],
                Omit,
                "POST",
                &["x-a"],
                &["x-a"],
                "header-not-allowed",
            ),
            (
                204,
                vec![acao, acah("*")],
                Omit,
                "GET",
                &["x-a"],
                &["x-a"],
                "",
            ),
            (
                204,
                vec![acao, acac, acah("*")],
                Include,
                "GET",
                &["x-a"],
                &["x-a"],
                "header-not-allowed",
            ),
            (
                204,
                vec![acao, acah("*")],
                Omit,
                "GET",
                &["authorization"],
                &["authorization"],
                "header-not-allowed",
            ),
            (
                204,
                vec![acao, acah("*, Authorization")],
                Omit,
                "GET",
                &["authorization"],
                &["authorization"],
                "",
            ),
            (
                204,
                vec![acao, acah(" , x-a ,")],
                Omit,
                "GET",
                &["x-a"],
                &["x-a"],
                "",
            ),
            (
                204,
                vec![acao, acah("x-a"), acah("x-b")],
                Omit,
                "GET",
                &["x-a", "x-b"],
                &["x-a", "x-b"],
                "",
            ),
        ];
        for (status, hs, cred, method, names, unsafe_names, want) in cases {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let unsafe_names: Vec<String> = unsafe_names.iter().map(|s| s.to_string()).collect();
            let input = PreflightInput {
                profile: Profile::Spec,
                credentials: cred,
                request_origin: O,
                method,
                header_names: &names,
                unsafe_names: &unsafe_names,
            };
            let got = judge_preflight(input, status, &h(&hs))
                .err()
                .map(|e| e.code())
                .unwrap_or("");
            assert_eq!(got, want, "{status} {hs:?} {cred:?} {method} {names:?}");
        }
    }

    #[test]
    fn wildcard_and_authorization_per_profile() {
        let star = h(&[
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-headers", "*"),
        ]);
        let names: Vec<String> = vec!["authorization".into(), "x-a".into()];
        let judge = |profile, credentials| {
            judge_preflight(
                PreflightInput {
                    profile,
                    credentials,
                    request_origin: O,
                    method: "GET",
                    header_names: &names,
                    unsafe_names: &names,
                },
                204,
                &star,
            )
        };
        // Fetch: `*` never covers Authorization.
        let spec = judge(Profile::Spec, Credentials::Omit).expect_err("spec refuses");
        assert_eq!(
            spec,
            CorsErrorKind::HeaderNotAllowed {
                name: "authorization".into(),
                wildcard_ignored: true,
                disallowed: vec!["authorization".into()],
            }
        );
        // Chromium 156 (pf-get-auth-acah-star-omit): it does without credentials...
        assert!(judge(Profile::Chromium, Credentials::Omit).is_ok());
        assert!(judge(Profile::Chromium, Credentials::SameOrigin).is_ok());
        // ...and `*` is a literal name with credentials, in every profile.
        for p in Profile::ALL {
            match judge(p, Credentials::Include) {
                Err(CorsErrorKind::HeaderNotAllowed { disallowed, .. }) => {
                    assert_eq!(disallowed, ["authorization", "x-a"], "{p}")
                }
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn status_order_per_profile() {
        let names: Vec<String> = vec![];
        let mk = |profile| PreflightInput {
            profile,
            credentials: Credentials::Omit,
            request_origin: O,
            method: "PUT",
            header_names: &names,
            unsafe_names: &names,
        };
        let h = http::HeaderMap::new();
        assert_eq!(
            judge_preflight(mk(Profile::Chromium), 404, &h)
                .err()
                .map(|e| e.code()),
            Some("missing-allow-origin")
        );
        assert_eq!(
            judge_preflight(mk(Profile::Webkit), 404, &h)
                .err()
                .map(|e| e.code()),
            Some("preflight-not-ok")
        );
        // Firefox checks access first, as Chromium does
        // (hw-preflight-404-without-cors).
        assert_eq!(
            judge_preflight(mk(Profile::Firefox), 404, &h)
                .err()
                .map(|e| e.code()),
            Some("missing-allow-origin")
        );
    }

    #[test]
    fn max_age_capped_by_profile() {
        let names: Vec<String> = vec![];
        let hs = {
            let mut m = http::HeaderMap::new();
            m.append(
                "access-control-allow-origin",
                http::HeaderValue::from_static("*"),
            );
            m.append(
                "access-control-allow-methods",
                http::HeaderValue::from_static("PUT"),
            );
            m.append(
                "access-control-max-age",
                http::HeaderValue::from_static("86400"),
            );
            m
        };
        for (profile, want) in [
            (Profile::Spec, 86400),
            (Profile::Chromium, 7200),
            (Profile::Firefox, 86400),
            (Profile::Webkit, 600),
        ] {
            let input = PreflightInput {
                profile,
                credentials: Credentials::Omit,
                request_origin: O,
                method: "PUT",
                header_names: &names,
                unsafe_names: &names,
            };
            assert_eq!(
                judge_preflight(input, 204, &hs).map(|r| r.max_age),
                Ok(want)
            );
        }
    }
}
