//! Method and header-name rules of the Fetch Standard shared by the policy
//! engine and the browser model.
//!
//! These are tiny fixed tables from WHATWG Fetch §2.2.1 (methods) and §2.2.2
//! (headers), and RFC 9110 §5.6.2 (tokens). They are written here, not taken
//! from a crate, because no crate tracks the Fetch tables exactly.

/// RFC 9110 §5.6.2 `tchar`: the bytes allowed in a token (method and header names).
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// RFC 9110 §5.6.2 `token = 1*tchar`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Fetch §2.2.1 "CORS-safelisted method": `GET`, `HEAD` or `POST`
/// (byte-case-sensitive: these are the normalized forms).
pub fn is_cors_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Fetch §2.2.1 "forbidden method": `CONNECT`, `TRACE` or `TRACK`, matched
/// byte-case-insensitively.
pub fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Fetch §2.2.1 "normalize a method": `DELETE`, `GET`, `HEAD`, `OPTIONS`,
/// `POST` and `PUT` are uppercased when they match case-insensitively; every
/// other method (notably `patch`) is left exactly as written.
pub fn normalize_method(method: &str) -> std::borrow::Cow<'_, str> {
    for m in ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"] {
        if m.eq_ignore_ascii_case(method) {
            return if m == method {
                std::borrow::Cow::Borrowed(method)
            } else {
                std::borrow::Cow::Owned(m.to_string())
            };
        }
    }
    std::borrow::Cow::Borrowed(method)
}

/// Fetch §2.2.2 "forbidden request-header" by name alone: headers that
/// scripts can never set, so listing them in a CORS allowlist has no effect.
/// (The `X-HTTP-Method` family is forbidden only for forbidden-method
/// values; see [`is_forbidden_request_header`].)
pub fn is_forbidden_request_header_name(name: &str) -> bool {
    const NAMES: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
        || starts_with_ignore_case(name, "proxy-")
        || starts_with_ignore_case(name, "sec-")
}

/// Fetch §2.2.2 "forbidden request-header" (name and value): the names of
/// [`is_forbidden_request_header_name`], plus `X-HTTP-Method`,
/// `X-HTTP-Method-Override` and `X-Method-Override` when any comma-separated
/// value is a forbidden method.
pub fn is_forbidden_request_header(name: &str, value: &[u8]) -> bool {
    if is_forbidden_request_header_name(name) {
        return true;
    }
    let overrides = [
        "x-http-method",
        "x-http-method-override",
        "x-method-override",
    ];
    if overrides.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return value.split(|&b| b == b',').any(|part| {
            std::str::from_utf8(part)
                .map(|m| is_forbidden_method(m.trim_matches([' ', '\t'])))
                .unwrap_or(false)
        });
    }
    false
}

/// Fetch §2.2.2 "CORS-safelisted response-header name" without the
/// `Access-Control-Expose-Headers` list: the headers a script can always read.
pub fn is_cors_safelisted_response_header_name(name: &str) -> bool {
    [
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

/// Fetch §2.2.2 "forbidden response-header name": `Set-Cookie` and
/// `Set-Cookie2`, which scripts can never read, even when exposed.
pub fn is_forbidden_response_header_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("set-cookie2")
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("x-request-id"));
        assert!(is_token("PATCH"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a,b"));
        assert!(!is_token("naïve"));
        assert!(!is_token("a:b"));
    }

    #[test]
    fn methods() {
        assert!(is_forbidden_method("connect"));
        assert!(is_forbidden_method("TRACK"));
        assert!(!is_forbidden_method("PATCH"));
        assert_eq!(normalize_method("put"), "PUT");
        assert_eq!(normalize_method("Delete"), "DELETE");
        assert_eq!(normalize_method("patch"), "patch");
        assert_eq!(normalize_method("POST"), "POST");
        assert!(is_cors_safelisted_method("GET"));
        assert!(!is_cors_safelisted_method("get"));
        assert!(!is_cors_safelisted_method("PUT"));
    }

    #[test]
    fn forbidden_headers() {
        assert!(is_forbidden_request_header_name("Cookie"));
        assert!(is_forbidden_request_header_name("sec-fetch-mode"));
        assert!(is_forbidden_request_header_name("Proxy-Authorization"));
        assert!(!is_forbidden_request_header_name("authorization"));
        assert!(is_forbidden_request_header(
            "x-http-method-override",
            b"GET, TRACE"
        ));
        assert!(!is_forbidden_request_header(
            "x-http-method-override",
            b"PATCH"
        ));
        assert!(is_forbidden_response_header_name("Set-Cookie"));
        assert!(is_cors_safelisted_response_header_name("Content-Type"));
        assert!(!is_cors_safelisted_response_header_name("x-request-id"));
    }
}
