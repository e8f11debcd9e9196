//! Which request headers a script may send cross-origin without a
//! preflight (Fetch §2.2.2 "CORS-safelisted request-header",
//! "CORS-unsafe request-header byte", "CORS-unsafe request-header names",
//! "CORS non-wildcard request-header name").

use super::mime::parse_mime_type_bytes;
use super::profile::Profile;
use crate::names::is_forbidden_request_header;

/// Fetch §2.2.2: a safelisted value is at most 128 bytes.
pub const MAX_SAFELISTED_VALUE_LEN: usize = 128;

/// Fetch §2.2.2 "CORS-unsafe request-header names" step 4: when the
/// safelisted values together exceed 1024 bytes, they all become unsafe.
pub const SAFELIST_BUDGET: usize = 1024;

/// Fetch §2.2.2 "CORS-unsafe request-header byte": a control byte other
/// than HT, or one of `"():<>?@[\]{}` and DEL.
pub fn is_cors_unsafe_request_header_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09)
        || matches!(
            b,
            b'"' | b'('
                | b')'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'{'
                | b'}'
                | 0x7f
        )
}

/// Fetch §2.2.2 "CORS non-wildcard request-header name": `Authorization`,
/// which `Access-Control-Allow-Headers: *` never covers (Chromium's
/// `*` does: [`super::Profile::wildcard_covers_authorization`]).
pub fn is_cors_non_wildcard_request_header_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
}

/// Fetch §2.2.2 "CORS-safelisted request-header" as the spec defines it.
pub fn is_cors_safelisted_request_header(name: &str, value: &[u8]) -> bool {
    is_safelisted_for(Profile::Spec, name, value)
}

/// "CORS-safelisted request-header" with the profile's deviations (see
/// [`Profile::safelisted_request_header`]).
pub fn is_safelisted_for(profile: Profile, name: &str, value: &[u8]) -> bool {
    // Step 1: the value length limit applies to every name.
    if value.len() > MAX_SAFELISTED_VALUE_LEN {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if let Some(verdict) = profile.safelisted_request_header(&lower, value) {
        return verdict;
    }
    match lower.as_str() {
        "accept" => !value.iter().any(|&b| is_cors_unsafe_request_header_byte(b)),
        "accept-language" | "content-language" => value.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')
        }),
        "content-type" => {
            if value.iter().any(|&b| is_cors_unsafe_request_header_byte(b)) {
                return false;
            }
            match parse_mime_type_bytes(value) {
                Some(m) => matches!(
                    m.essence().as_str(),
                    "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
                ),
                None => false,
            }
        }
        "range" => is_safelisted_range(value),
        _ => false,
    }
}

/// Fetch §2.2.2 `range` rule: "parse a single range header value" with
/// allowWhitespace false succeeds and has a start (suffix ranges such as
/// `bytes=-500` are not safelisted).
pub fn is_safelisted_range(value: &[u8]) -> bool {
    matches!(parse_single_range(value, false), Some((Some(_), _)))
}

/// Fetch §2.2.2 "parse a single range header value": `bytes=start-end`
/// with either side optional but not both, start ≤ end. Returns
/// `(start, end)` or `None` for failure.
pub fn parse_single_range(
    value: &[u8],
    allow_whitespace: bool,
) -> Option<(Option<u64>, Option<u64>)> {
    let rest = value.strip_prefix(b"bytes")?;
    let mut pos = 0;
    let skip_ws = |pos: &mut usize| {
        if allow_whitespace {
            while rest.get(*pos).is_some_and(|b| matches!(b, b' ' | b'\t')) {
                *pos += 1;
            }
        }
    };
    let digits = |pos: &mut usize| -> Option<Option<u64>> {
        let start = *pos;
        while rest.get(*pos).is_some_and(u8::is_ascii_digit) {
            *pos += 1;
        }
        if start == *pos {
            return Some(None);
        }
        // A number too large for u64 cannot be a byte offset: failure.
        std::str::from_utf8(&rest[start..*pos])
            .ok()?
            .parse::<u64>()
            .ok()
            .map(Some)
    };
    skip_ws(&mut pos);
    if rest.get(pos) != Some(&b'=') {
        return None;
    }
    pos += 1;
    skip_ws(&mut pos);
    let start = digits(&mut pos)?;
    skip_ws(&mut pos);
    if rest.get(pos) != Some(&b'-') {
        return None;
    }
    pos += 1;
    skip_ws(&mut pos);
    let end = digits(&mut pos)?;
    if pos != rest.len() {
        return None;
    }
    match (start, end) {
        (None, None) => None,
        (Some(s), Some(e)) if s > e => None,
        r => Some(r),
    }
}

/// Fetch §2.2.2 "CORS-unsafe request-header names": the names of headers
/// that are not safelisted, plus all safelisted ones when their values
/// together exceed [`SAFELIST_BUDGET`] bytes; lowercased, deduplicated and
/// sorted ("convert header names to a sorted-lowercase set").
///
/// Forbidden request-headers are skipped: scripts cannot set them, and the
/// user agent's own (`Origin`, `Sec-Fetch-*`, ...) never need a preflight
/// (Chromium's `CorsUnsafeNotForbiddenRequestHeaderNames` does the same).
pub fn cors_unsafe_request_header_names<'a, I>(profile: Profile, headers: I) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut unsafe_names = Vec::new();
    let mut potentially_unsafe = Vec::new();
    let mut budget = 0usize;
    for (name, value) in headers {
        if is_forbidden_request_header(name, value) {
            continue;
        }
        if is_safelisted_for(profile, name, value) {
            potentially_unsafe.push(name.to_ascii_lowercase());
            budget += value.len();
        } else {
            unsafe_names.push(name.to_ascii_lowercase());
        }
    }
    if budget > SAFELIST_BUDGET {
        unsafe_names.extend(potentially_unsafe);
    }
    unsafe_names.sort();
    unsafe_names.dedup();
    unsafe_names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safelisted_values() {
        let long = vec![b'a'; 129];
        let exactly = vec![b'a'; 128];
        // (name, value, safelisted per spec)
        let cases: &[(&str, &[u8], bool)] = &[
            ("Accept", b"application/json", true),
            ("accept", b"text/html, */*;q=0.8", true),
            ("accept", b"a\"b", false),
            ("accept", b"{", false),
            ("accept", b"a\tb", true),
            ("accept", b"a\x01", false),
            ("accept", b"\x7f", false),
            ("accept", &exactly, true),
            ("accept", &long, false),
            ("accept-language", b"en-US,en;q=0.9", true),
            ("accept-language", b"en_US", false),
            ("content-language", b"de-DE", true),
            ("content-language", b"de/DE", false),
            ("content-type", b"text/plain", true),
            ("content-type", b"Text/Plain; charset=utf-8", true),
            ("content-type", b"application/x-www-form-urlencoded", true),
            (
                "content-type",
                b"multipart/form-data; boundary=something",
                true,
            ),
            ("content-type", b"application/json", false),
            ("content-type", b"text/plain garbage", false),
            ("content-type", b"text/plain;charset=\"utf-8\"", false), // `"` is unsafe
            ("content-type", b"text/plain; a=(b)", false),
            ("content-type", b"text/html", false),
            ("content-type", b"text/plain, application/json", false),
            ("range", b"bytes=0-", true),
            ("range", b"bytes=0-100", true),
            ("range", b"bytes=-500", false),
            ("range", b"bytes=100-0", false),
            ("range", b"bytes=0-1,2-3", false),
            ("range", b"bytes = 0-1", false),
            ("range", b"BYTES=0-1", false),
            ("range", b"bytes=", false),
            ("range", b"bytes=-", false),
            ("range", b"items=0-1", false),
            ("x-custom", b"1", false),
            ("authorization", b"Bearer x", false),
            ("dpr", b"2", false),
        ];
        for (name, value, want) in cases {
            assert_eq!(
                is_cors_safelisted_request_header(name, value),
                *want,
                "{name}: {:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn unsafe_bytes() {
        let unsafe_set: Vec<u8> = (0u8..=0xff)
            .filter(|&b| is_cors_unsafe_request_header_byte(b))
            .collect();
        // 31 controls (all but HT) + 13 delimiters + DEL
        assert_eq!(unsafe_set.len(), 31 + 13 + 1);
        assert!(!is_cors_unsafe_request_header_byte(b'\t'));
        assert!(!is_cors_unsafe_request_header_byte(0x80));
        assert!(!is_cors_unsafe_request_header_byte(b','));
        assert!(!is_cors_unsafe_request_header_byte(b'/'));
    }

    #[test]
    fn range_parser_with_whitespace() {
        assert_eq!(
            parse_single_range(b"bytes = 1 - 2", true),
            Some((Some(1), Some(2)))
        );
        assert_eq!(
            parse_single_range(b"bytes=-5", false),
            Some((None, Some(5)))
        );
        assert_eq!(
            parse_single_range(b"bytes=99999999999999999999999-", false),
            None
        );
    }

    #[test]
    fn unsafe_names_sorted_lowercase_dedup_and_budget() {
        let h: Vec<(&str, &[u8])> = vec![
            ("X-B", b"1"),
            ("x-a", b"1"),
            ("X-a", b"2"),
            ("Accept", b"*/*"),
            ("Cookie", b"a=b"),
            ("Content-Type", b"application/json"),
        ];
        assert_eq!(
            cors_unsafe_request_header_names(Profile::Spec, h),
            vec!["content-type", "x-a", "x-b"]
        );
        // 9 safelisted headers of 120 bytes: 1080 > 1024, all become unsafe.
        let v = vec![b'a'; 120];
        let many: Vec<(&str, &[u8])> = (0..9).map(|_| ("accept", v.as_slice())).collect();
        assert_eq!(
            cors_unsafe_request_header_names(Profile::Spec, many),
            vec!["accept"]
        );
        // 8 of them: 960 bytes, within budget.
        let some: Vec<(&str, &[u8])> = (0..8).map(|_| ("accept", v.as_slice())).collect();
        assert!(cors_unsafe_request_header_names(Profile::Spec, some).is_empty());
    }

    #[test]
    fn chromium_extra_safelist() {
        let h: Vec<(&str, &[u8])> = vec![("DPR", b"2"), ("Range", b"BYTES=0-1")];
        assert!(cors_unsafe_request_header_names(Profile::Chromium, h.clone()).is_empty());
        assert_eq!(
            cors_unsafe_request_header_names(Profile::Spec, h),
            vec!["dpr", "range"]
        );
    }
}
