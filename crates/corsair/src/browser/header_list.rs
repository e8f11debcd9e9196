//! Reading CORS response headers the way Fetch does: "get" (combine field
//! lines with `, `) and "extract header list values" for the list-valued
//! headers `Access-Control-Allow-Methods`, `Access-Control-Allow-Headers`
//! and `Access-Control-Expose-Headers` (Fetch §2.2 "extract header list
//! values", §3.2.3 ABNF `#method` / `#field-name`).

use crate::names::is_tchar;

/// A list header whose elements are not all tokens (Fetch §4.9 step 7.3:
/// the preflight fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidToken {
    /// The first offending element, lossily decoded, trimmed of whitespace.
    pub element: String,
}

/// Fetch §2.2 "get": all field lines named `name`, combined with `, `, or
/// `None` when there is none. Names compare case-insensitively; each line
/// is a normalized header value (see [`lines`]).
pub fn get_combined(headers: &http::HeaderMap, name: &str) -> Option<Vec<u8>> {
    let mut it = lines(headers, name).into_iter();
    let first = it.next()?;
    let mut out = first.to_vec();
    for v in it {
        out.extend_from_slice(b", ");
        out.extend_from_slice(v);
    }
    Some(out)
}

/// The field lines named `name`, in order, as header values: without
/// leading or trailing HTTP tab or space bytes (Fetch §2.2 "header value";
/// RFC 9112 §5 excludes that whitespace from the field value, so an HTTP
/// parser never delivers it, but a hand-built [`http::HeaderMap`] may hold
/// it). Chromium agrees: `hw-acao-surrounding-spaces` in corsair-conformance
/// (`ACAO: "  <origin>  "` is allowed).
pub fn lines<'a>(headers: &'a http::HeaderMap, name: &str) -> Vec<&'a [u8]> {
    headers
        .get_all(name)
        .iter()
        .map(|v| super::profile::trim_ows(v.as_bytes()))
        .collect()
}

/// Fetch §2.2 "extract header list values" for a `#token` header given its
/// field lines: `Ok(None)` when there are none, `Ok(Some(tokens))` with
/// every element (RFC 9110 §5.6.1: empty elements and optional whitespace
/// around commas are allowed), or `Err` when an element is not a token.
/// Tokens keep their case.
pub fn parse_token_list(lines: &[&[u8]]) -> Result<Option<Vec<String>>, InvalidToken> {
    if lines.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for line in lines {
        for element in line.split(|&b| b == b',') {
            let element = super::profile::trim_ows(element);
            if element.is_empty() {
                continue;
            }
            if !element.iter().all(|&b| is_tchar(b)) {
                return Err(InvalidToken {
                    element: String::from_utf8_lossy(element).into_owned(),
                });
            }
            // All bytes are ASCII tchar, so this is valid UTF-8.
            out.push(element.iter().map(|&b| char::from(b)).collect());
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        type Case<'a> = (&'a [&'a [u8]], Result<Option<Vec<&'a str>>, &'a str>);
        let cases: &[Case] = &[
            (&[], Ok(None)),
            (&[b""], Ok(Some(vec![]))),
            (&[b"GET"], Ok(Some(vec!["GET"]))),
            (&[b"GET, PUT ,patch"], Ok(Some(vec!["GET", "PUT", "patch"]))),
            (&[b",,GET,,\t,"], Ok(Some(vec!["GET"]))),
            (&[b"x-a", b"X-B"], Ok(Some(vec!["x-a", "X-B"]))),
            (&[b"*"], Ok(Some(vec!["*"]))),
            (&[b"x-a x-b"], Err("x-a x-b")),
            (&[b"x-a;q=1"], Err("x-a;q=1")),
            (&[b"ok", b"\"quoted\""], Err("\"quoted\"")),
            (&[b"caf\xc3\xa9"], Err("caf\u{e9}")),
            (&[b"a:b"], Err("a:b")),
        ];
        for (lines, want) in cases {
            let got = parse_token_list(lines);
            let want = want
                .clone()
                .map(|o| o.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>()))
                .map_err(|e| InvalidToken {
                    element: e.to_string(),
                });
            assert_eq!(got, want, "{lines:?}");
        }
    }

    #[test]
    fn combined_get() {
        let mut h = http::HeaderMap::new();
        assert_eq!(get_combined(&h, "access-control-allow-origin"), None);
        h.append(
            "Access-Control-Allow-Origin",
            http::HeaderValue::from_static("https://a.example"),
        );
        h.append(
            "access-control-allow-origin",
            http::HeaderValue::from_static("*"),
        );
        assert_eq!(
            get_combined(&h, "access-control-allow-origin").as_deref(),
            Some(&b"https://a.example, *"[..])
        );
    }
}
