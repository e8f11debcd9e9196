//! The CORS check (Fetch §4.10 "CORS check") on a response to a CORS
//! request: the preflight, every redirect, and the final response.

use super::error::CorsErrorKind;
use super::header_list::get_combined;
use super::request::Credentials;

/// Fetch §4.10 "CORS check": `Access-Control-Allow-Origin` must be `*`
/// (only when credentials mode is not `include`) or byte-equal to
/// `request_origin` (the byte-serialized request origin, `null` after a
/// cross-origin redirect); under `include`, `Access-Control-Allow-Credentials`
/// must be exactly `true`.
///
/// On failure the error is classified the way Chromium's `CheckAccess`
/// (services/network/public/cpp/cors/cors.cc) does, for diagnostics only:
/// a value with a space or comma is "multiple", one that does not parse as
/// a URL is "invalid", anything else a "mismatch". The verdict is the
/// spec's in every case.
pub fn cors_check(
    headers: &http::HeaderMap,
    credentials: Credentials,
    request_origin: &str,
) -> Result<(), CorsErrorKind> {
    let Some(origin) = get_combined(headers, "access-control-allow-origin") else {
        return Err(CorsErrorKind::MissingAllowOrigin);
    };
    let include = credentials == Credentials::Include;
    if origin == b"*" {
        return if include {
            Err(CorsErrorKind::WildcardWithCredentials)
        } else {
            Ok(())
        };
    }
    if origin != request_origin.as_bytes() {
        return Err(unequal_allow_origin(
            String::from_utf8_lossy(&origin).into_owned(),
        ));
    }
    if !include {
        return Ok(());
    }
    match get_combined(headers, "access-control-allow-credentials") {
        Some(v) if v == b"true" => Ok(()),
        v => Err(CorsErrorKind::CredentialsNotTrue {
            value: v.map(|v| String::from_utf8_lossy(&v).into_owned()),
        }),
    }
}

/// What an `Access-Control-Allow-Origin` value that is not the request's
/// origin is: several values (a space or a comma), not an origin at all
/// (not `null` and not a URL), or another origin. Also how
/// `corsair explain` classifies a value a console message quotes.
pub(crate) fn unequal_allow_origin(value: String) -> CorsErrorKind {
    if value.bytes().any(|b| b == b' ' || b == b',') {
        CorsErrorKind::MultipleAllowOrigin { value }
    } else if value != "null" && url::Url::parse(&value).is_err() {
        CorsErrorKind::InvalidAllowOrigin { value }
    } else {
        CorsErrorKind::AllowOriginMismatch { value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Credentials::*;

    use crate::test_util::headers as h;

    #[test]
    fn table() {
        const O: &str = "https://app.example";
        let acao = "access-control-allow-origin";
        let acac = "access-control-allow-credentials";
        // (headers, credentials, request origin, expected code or "")
        type Case<'a> = (&'a [(&'a str, &'a str)], Credentials, &'a str, &'a str);
        let cases: &[Case] = &[
            (&[], Omit, O, "missing-allow-origin"),
            (&[(acao, "*")], Omit, O, ""),
            (&[(acao, "*")], SameOrigin, O, ""),
            (&[(acao, "*")], Include, O, "wildcard-with-credentials"),
            (
                &[(acao, "*"), (acac, "true")],
                Include,
                O,
                "wildcard-with-credentials",
            ),
            (&[(acao, O)], Omit, O, ""),
            (&[(acao, O)], Include, O, "credentials-not-true"),
            (&[(acao, O), (acac, "true")], Include, O, ""),
            (
                &[(acao, O), (acac, "TRUE")],
                Include,
                O,
                "credentials-not-true",
            ),
            (
                &[(acao, O), (acac, "true"), (acac, "true")],
                Include,
                O,
                "credentials-not-true",
            ),
            (
                &[(acao, "https://app.example/")],
                Omit,
                O,
                "allow-origin-mismatch",
            ),
            (
                &[(acao, "HTTPS://APP.EXAMPLE")],
                Omit,
                O,
                "allow-origin-mismatch",
            ),
            (
                &[(acao, "https://other.example")],
                Omit,
                O,
                "allow-origin-mismatch",
            ),
            (&[(acao, "null")], Omit, O, "allow-origin-mismatch"),
            (&[(acao, "null")], Omit, "null", ""),
            (&[(acao, "*.example")], Omit, O, "invalid-allow-origin"),
            (
                &[(acao, "https://app.example, https://b.example")],
                Omit,
                O,
                "multiple-allow-origin",
            ),
            (&[(acao, O), (acao, O)], Omit, O, "multiple-allow-origin"),
            (&[(acao, O), (acao, "*")], Omit, O, "multiple-allow-origin"),
            (&[(acao, "")], Omit, O, "invalid-allow-origin"),
        ];
        for (headers, cred, origin, want) in cases {
            let got = cors_check(&h(headers), *cred, origin)
                .err()
                .map(|e| e.code())
                .unwrap_or("");
            assert_eq!(got, *want, "{headers:?} {cred:?} {origin}");
        }
    }

    #[test]
    fn values_are_read_without_surrounding_whitespace() {
        // An HTTP parser strips OWS around a field value; a hand-built map
        // may keep it (hw-acao-surrounding-spaces: Chromium allows this).
        let r = h(&[
            ("access-control-allow-origin", "  https://app.example \t"),
            ("access-control-allow-credentials", " true "),
        ]);
        assert_eq!(cors_check(&r, Include, "https://app.example"), Ok(()));
        let r = h(&[("access-control-allow-origin", " * ")]);
        assert_eq!(cors_check(&r, Omit, "https://app.example"), Ok(()));
    }
}
