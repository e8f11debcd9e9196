//! The WHATWG MIME type parser (MIME Sniffing Standard §4.4 "parse a MIME
//! type"), which Fetch uses to decide whether a `Content-Type` request
//! header is CORS-safelisted (Fetch §2.2.2 "CORS-safelisted
//! request-header").
//!
//! It is written here because the `mime` crate implements RFC 2045-style
//! parsing, which accepts and rejects different inputs: the WHATWG parser
//! strips HTTP whitespace, lowercases type and subtype, skips malformed
//! parameters instead of failing, and keeps the first of duplicate
//! parameters.
//!
//! The input is a string of code points; a header value (bytes) is first
//! *isomorphic decoded* (each byte becomes the code point of the same
//! number), which [`parse_mime_type_bytes`] does.

use std::fmt;

/// A parsed MIME type (MIME Sniffing §4.1 "MIME type").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeType {
    type_: String,
    subtype: String,
    parameters: Vec<(String, String)>,
}

impl MimeType {
    /// The type, lowercase ASCII (`text` in `text/plain`).
    pub fn type_(&self) -> &str {
        &self.type_
    }

    /// The subtype, lowercase ASCII (`plain` in `text/plain`).
    pub fn subtype(&self) -> &str {
        &self.subtype
    }

    /// The essence, `type/subtype` (MIME Sniffing §4.1 "essence").
    pub fn essence(&self) -> String {
        format!("{}/{}", self.type_, self.subtype)
    }

    /// The parameters in order; names are lowercase, values as parsed
    /// (quotes and escapes removed). A name appears at most once: the
    /// parser keeps the first occurrence.
    pub fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }

    /// The value of the parameter `name` (lowercase), if present.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// MIME Sniffing §4.5 "serialize a MIME type": values that are empty or
/// contain non-token code points are quoted, with `"` and `\` escaped.
impl fmt::Display for MimeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.type_, self.subtype)?;
        for (name, value) in &self.parameters {
            write!(f, ";{name}=")?;
            if !value.is_empty() && value.chars().all(is_token_char) {
                f.write_str(value)?;
            } else {
                f.write_str("\"")?;
                for c in value.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")?;
            }
        }
        Ok(())
    }
}

/// MIME Sniffing §4.4 "parse a MIME type" on a string. Returns `None` for
/// failure.
pub fn parse_mime_type(input: &str) -> Option<MimeType> {
    let chars: Vec<char> = input.chars().collect();
    parse_chars(&chars)
}

/// "Parse a MIME type" on the isomorphic decoding of a header value (Fetch
/// §2.2.2 uses this for `Content-Type`). Returns `None` for failure.
pub fn parse_mime_type_bytes(input: &[u8]) -> Option<MimeType> {
    let chars: Vec<char> = input.iter().map(|&b| char::from(b)).collect();
    parse_chars(&chars)
}

/// Fetch §2.2 "HTTP whitespace": LF, CR, HT, SP.
fn is_http_whitespace(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t' | ' ')
}

/// MIME Sniffing §2 "HTTP token code point" (RFC 9110 `tchar`).
fn is_token_char(c: char) -> bool {
    c.is_ascii() && crate::names::is_tchar(c as u8)
}

/// MIME Sniffing §2 "HTTP quoted-string token code point": HT, U+0020 to
/// U+007E, U+0080 to U+00FF.
fn is_quoted_string_token_char(c: char) -> bool {
    matches!(c, '\t' | ' '..='~' | '\u{80}'..='\u{ff}')
}

fn parse_chars(input: &[char]) -> Option<MimeType> {
    // 1. Strip leading and trailing HTTP whitespace.
    let start = input
        .iter()
        .position(|&c| !is_http_whitespace(c))
        .unwrap_or(input.len());
    let end = input
        .iter()
        .rposition(|&c| !is_http_whitespace(c))
        .map_or(start, |i| i + 1);
    let s = &input[start..end.max(start)];
    let mut pos = 0;

    // 3-4. type: up to "/", non-empty tokens only.
    let type_ = collect(s, &mut pos, |c| c != '/');
    if type_.is_empty() || !type_.iter().all(|&c| is_token_char(c)) {
        return None;
    }
    // 5-6.
    if pos >= s.len() {
        return None;
    }
    pos += 1;
    // 7-9. subtype: up to ";", trailing whitespace removed.
    let mut subtype = collect(s, &mut pos, |c| c != ';');
    while subtype.last().is_some_and(|&c| is_http_whitespace(c)) {
        subtype = &subtype[..subtype.len() - 1];
    }
    if subtype.is_empty() || !subtype.iter().all(|&c| is_token_char(c)) {
        return None;
    }
    let mut mime = MimeType {
        type_: lower(type_),
        subtype: lower(subtype),
        parameters: Vec::new(),
    };

    // 11. Parameters.
    while pos < s.len() {
        pos += 1; // skip ";"
        collect(s, &mut pos, is_http_whitespace);
        let name = lower(collect(s, &mut pos, |c| c != ';' && c != '='));
        if pos < s.len() {
            if s[pos] == ';' {
                continue;
            }
            pos += 1; // skip "="
        }
        if pos >= s.len() {
            break;
        }
        let value: String;
        if s[pos] == '"' {
            value = collect_quoted_string(s, &mut pos);
            collect(s, &mut pos, |c| c != ';');
        } else {
            let mut raw = collect(s, &mut pos, |c| c != ';');
            while raw.last().is_some_and(|&c| is_http_whitespace(c)) {
                raw = &raw[..raw.len() - 1];
            }
            if raw.is_empty() {
                continue;
            }
            value = raw.iter().collect();
        }
        if !name.is_empty()
            && name.chars().all(is_token_char)
            && value.chars().all(is_quoted_string_token_char)
            && !mime.parameters.iter().any(|(n, _)| *n == name)
        {
            mime.parameters.push((name, value));
        }
    }
    Some(mime)
}

fn collect<'a>(s: &'a [char], pos: &mut usize, keep: impl Fn(char) -> bool) -> &'a [char] {
    let start = *pos;
    while *pos < s.len() && keep(s[*pos]) {
        *pos += 1;
    }
    &s[start..*pos]
}

fn lower(s: &[char]) -> String {
    s.iter().map(|c| c.to_ascii_lowercase()).collect()
}

/// Fetch §2.2 "collect an HTTP quoted string" with extract-value true;
/// `s[*pos]` is `"`.
fn collect_quoted_string(s: &[char], pos: &mut usize) -> String {
    let mut value = String::new();
    *pos += 1;
    loop {
        value.extend(collect(s, pos, |c| c != '"' && c != '\\'));
        if *pos >= s.len() {
            break;
        }
        let quote_or_backslash = s[*pos];
        *pos += 1;
        if quote_or_backslash == '\\' {
            if *pos >= s.len() {
                value.push('\\');
                break;
            }
            value.push(s[*pos]);
            *pos += 1;
        } else {
            break;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        // (input, expected serialization or None for failure)
        let cases: &[(&str, Option<&str>)] = &[
            ("text/plain", Some("text/plain")),
            ("TEXT/PLAIN", Some("text/plain")),
            (" \t text/plain \r\n", Some("text/plain")),
            ("text/plain;charset=UTF-8", Some("text/plain;charset=UTF-8")),
            (
                "text/plain; CHARSET=utf-8",
                Some("text/plain;charset=utf-8"),
            ),
            (
                "text/plain;charset=a;charset=b",
                Some("text/plain;charset=a"),
            ),
            (
                "text/plain;charset=\"a;b\"",
                Some("text/plain;charset=\"a;b\""),
            ),
            (
                "text/plain;charset=\"a\\\"b\"",
                Some("text/plain;charset=\"a\\\"b\""),
            ),
            (
                "text/plain;charset=\"unterminated",
                Some("text/plain;charset=unterminated"),
            ),
            (
                "text/plain;charset=\"x\\",
                Some("text/plain;charset=\"x\\\\\""),
            ),
            ("text/plain;charset=\"\"", Some("text/plain;charset=\"\"")),
            ("text/plain;charset=", Some("text/plain")),
            ("text/plain;charset", Some("text/plain")),
            ("text/plain;=x", Some("text/plain")),
            ("text/plain;a b=c", Some("text/plain")),
            ("text/plain;a=b c", Some("text/plain;a=\"b c\"")),
            ("text/plain;;;a=b", Some("text/plain;a=b")),
            ("text/plain ;a=b", Some("text/plain;a=b")),
            (
                "multipart/form-data; boundary=x",
                Some("multipart/form-data;boundary=x"),
            ),
            ("text/plain garbage", None),
            ("text", None),
            ("text/", None),
            ("/plain", None),
            ("", None),
            ("   ", None),
            ("te xt/plain", None),
            ("text/pla(in", None),
            ("text /plain", None),
            ("text/plain\u{0100}", None),
            ("*/*", Some("*/*")),
        ];
        for (input, expected) in cases {
            let got = parse_mime_type(input).map(|m| m.to_string());
            assert_eq!(got.as_deref(), *expected, "input {input:?}");
        }
    }

    #[test]
    fn bytes_are_isomorphic_decoded() {
        let m = parse_mime_type_bytes(b"text/plain;x=\xe9").expect("parses");
        assert_eq!(m.parameter("x"), Some("\u{e9}"));
        assert_eq!(m.essence(), "text/plain");
    }
}
