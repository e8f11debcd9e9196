//! Reading `Access-Control-Request-Headers` as a server: a comma-separated
//! list of header names (Fetch §3.2.2, "CORS-preflight request"), possibly
//! split over several header lines, with optional whitespace.
//!
//! Browsers send the names lowercase, sorted and joined with `,` (Fetch
//! §4.8 step 2.4), but a server must accept any list a proxy may have
//! reformatted. The reader is a single forward pass with no allocation, so a
//! hostile value (64 KiB of commas or names) costs time linear in its size
//! and nothing else.

use http::header::GetAll;
use http::HeaderValue;

use crate::names::is_token;

/// The longest `Access-Control-Request-Headers` a policy reads, in bytes
/// over all its lines; a longer one is refused as malformed. Browsers list
/// only the non-safelisted headers a script set (lowercase, deduplicated):
/// 2 KiB is about a hundred names, far more than any page sends, while
/// refusing longer lists unread keeps hostile preflights cheap.
pub const MAX_LEN: usize = 2048;

/// One element of the list, or the first thing that is not a header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListItem<'a> {
    /// A valid header name (a token), as written.
    Name(&'a str),
    /// Something that is not a token, or a header line that is not visible ASCII.
    Invalid(&'a [u8]),
}

/// Iterates over the names of every `Access-Control-Request-Headers` line,
/// skipping empty elements (`a,,b`) as RFC 9110 §5.6.1 asks recipients to.
pub fn names<'a>(lines: GetAll<'a, HeaderValue>) -> impl Iterator<Item = ListItem<'a>> + 'a {
    lines.into_iter().flat_map(|line| {
        line.as_bytes()
            .split(|&b| b == b',')
            .map(trim_ows)
            .filter(|item| !item.is_empty())
            .map(|item| match std::str::from_utf8(item) {
                Ok(s) if is_token(s) => ListItem::Name(s),
                _ => ListItem::Invalid(item),
            })
    })
}

/// Strips RFC 9110 optional whitespace (spaces and tabs) from both ends.
pub fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn collect(lines: &[&[u8]]) -> Vec<ListItem<'static>> {
        let mut map = HeaderMap::new();
        for l in lines {
            map.append(
                "access-control-request-headers",
                HeaderValue::from_bytes(l).unwrap(),
            );
        }
        let map: &'static HeaderMap = Box::leak(Box::new(map));
        names(map.get_all("access-control-request-headers")).collect()
    }

    #[test]
    fn spaces_order_and_several_lines() {
        assert_eq!(
            collect(&[b"x-b , X-A", b"\tcontent-type,,", b"", b" , "]),
            vec![
                ListItem::Name("x-b"),
                ListItem::Name("X-A"),
                ListItem::Name("content-type"),
            ]
        );
    }

    #[test]
    fn non_tokens_are_reported() {
        assert_eq!(
            collect(&[b"x-a, x b, y"]),
            vec![
                ListItem::Name("x-a"),
                ListItem::Invalid(b"x b"),
                ListItem::Name("y")
            ]
        );
        assert_eq!(
            collect(&[b"caf\xc3\xa9"]),
            vec![ListItem::Invalid(b"caf\xc3\xa9")]
        );
    }

    #[test]
    fn trims_only_ows() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
