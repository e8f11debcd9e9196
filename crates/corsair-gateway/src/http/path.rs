//! Request paths normalised for routing and forwarding (RFC 3986 §6.2.2),
//! and the paths a gateway must not pass on because it and an upstream may
//! read them as different paths.
//!
//! Routes are chosen by path prefix. If the gateway matched the raw path
//! and an upstream decoded or normalised it (Go and Python merge slashes
//! and resolve dot segments, Spring cuts `;...` out of segments, many
//! decode `%2F`), then `//admin`, `/%61dmin`, `/x/../admin` or
//! `/public/..%2fadmin` would take another route's policy and still reach
//! `/admin`. So the gateway routes by the normalised path and forwards that
//! same path, and flags what no normalisation can make unambiguous.
//!
//! No crate does this: `http::Uri` keeps the path as sent, and URL parsers
//! (the `url` crate) follow the WHATWG URL Standard, which decodes nothing
//! and would re-encode; here the rules are RFC 3986's plus the refusals.

use std::borrow::Cow;

/// Why a path is ambiguous: the gateway and an upstream may read it as
/// different paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// `%2F`: a separator to some upstreams, data to others.
    EncodedSlash,
    /// `%5C`: a separator to Windows servers once decoded.
    EncodedBackslash,
    /// A raw `\`: a separator on Windows servers (browsers turn it into `/`).
    Backslash,
    /// A `;`: Tomcat and Spring cut `;...` out of each segment.
    PathParameter,
    /// A `..` segment climbing above `/`.
    AboveRoot,
    /// `%00`-`%1F` or `%7F`: control characters once decoded.
    EncodedControl,
    /// A `%` not followed by two hex digits.
    BadPercent,
}

impl Ambiguity {
    /// A short, stable code for responses, logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Ambiguity::EncodedSlash => "encoded-slash",
            Ambiguity::EncodedBackslash => "encoded-backslash",
            Ambiguity::Backslash => "backslash",
            Ambiguity::PathParameter => "path-parameter",
            Ambiguity::AboveRoot => "above-root",
            Ambiguity::EncodedControl => "encoded-control",
            Ambiguity::BadPercent => "bad-percent",
        }
    }

    /// What was found and what to do, in one sentence.
    pub fn explain(self) -> &'static str {
        match self {
            Ambiguity::EncodedSlash => {
                "the path has an encoded slash (%2F), which upstreams decode differently; \
                 send it unencoded, or set allow_ambiguous_paths = true on the route"
            }
            Ambiguity::EncodedBackslash => {
                "the path has an encoded backslash (%5C), a separator to some upstreams; \
                 send `/`, or set allow_ambiguous_paths = true on the route"
            }
            Ambiguity::Backslash => {
                "the path has a backslash, a separator to some upstreams; send `/`, or set \
                 allow_ambiguous_paths = true on the route"
            }
            Ambiguity::PathParameter => {
                "the path has a `;`, which some upstreams cut out of the segment; encode it \
                 as %3B, or set allow_ambiguous_paths = true on the route"
            }
            Ambiguity::AboveRoot => {
                "the path has a `..` segment above the root; remove it, or set \
                 allow_ambiguous_paths = true on the route"
            }
            Ambiguity::EncodedControl => {
                "the path has an encoded control character (%00-%1F, %7F); remove it, or set \
                 allow_ambiguous_paths = true on the route"
            }
            Ambiguity::BadPercent => {
                "the path has a `%` not followed by two hex digits; encode it as %25, or set \
                 allow_ambiguous_paths = true on the route"
            }
        }
    }
}

impl std::fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.explain())
    }
}

/// A request path normalised for routing and forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized<'a> {
    /// The normalised path (no query): borrowed when it was normal already.
    pub path: Cow<'a, str>,
    /// The first ambiguity found, in path order.
    pub ambiguity: Option<Ambiguity>,
}

/// Normalises the path of a request target (without its query): RFC 3986
/// §6.2.2.1 (percent-encoded hex in uppercase), §6.2.2.2 (unreserved
/// characters decoded) and §6.2.2.3 (dot segments removed, §5.2.4), and
/// runs of `/` merged into one. A `..` above the root is clamped there
/// (as §5.2.4 says) and flagged. A path with a malformed `%` is returned
/// as it is, flagged [`Ambiguity::BadPercent`] (decoding next to a stray
/// `%` could make a new escape out of it), and so is anything but an
/// origin-form path (`*`, empty).
pub fn normalize(path: &str) -> Normalized<'_> {
    if !path.starts_with('/') || is_normal(path.as_bytes()) {
        return Normalized {
            path: Cow::Borrowed(path),
            ambiguity: None,
        };
    }
    let mut ambiguity = None;
    let mut bad_percent = false;
    let mut flag = |a| {
        bad_percent |= a == Ambiguity::BadPercent;
        ambiguity.get_or_insert(a);
    };
    // Segments after decoding, as byte ranges of `decoded`.
    let mut decoded: Vec<u8> = Vec::with_capacity(path.len());
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for raw in path.as_bytes()[1..].split(|b| *b == b'/') {
        let start = decoded.len();
        decode_segment(raw, &mut decoded, &mut flag);
        segments.push((start, decoded.len()));
    }
    // The closure's borrows end here.
    let flag_above_root = |ambiguity: &mut Option<Ambiguity>| {
        ambiguity.get_or_insert(Ambiguity::AboveRoot);
    };
    if bad_percent {
        return Normalized {
            path: Cow::Borrowed(path),
            ambiguity: Some(Ambiguity::BadPercent),
        };
    }
    // Empty segments are merged slashes, except the last one, which is
    // the trailing slash.
    let last = segments.len() - 1;
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(segments.len());
    let mut trailing_slash = false;
    for (i, &(start, end)) in segments.iter().enumerate() {
        let segment = &decoded[start..end];
        let is_last = i == last;
        match segment {
            b"" => trailing_slash = is_last,
            b"." => trailing_slash = is_last,
            b".." => {
                if out.pop().is_none() {
                    flag_above_root(&mut ambiguity);
                }
                trailing_slash = is_last;
            }
            _ => {
                out.push((start, end));
                trailing_slash = false;
            }
        }
    }
    let mut normal = Vec::with_capacity(path.len());
    for &(start, end) in &out {
        normal.push(b'/');
        normal.extend_from_slice(&decoded[start..end]);
    }
    if trailing_slash || normal.is_empty() {
        normal.push(b'/');
    }
    // Only ASCII was decoded or edited: the rest is the input's own UTF-8.
    let normal = String::from_utf8(normal)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Normalized {
        path: if normal == path {
            Cow::Borrowed(path)
        } else {
            Cow::Owned(normal)
        },
        ambiguity,
    }
}

/// The fast path: no `%`, `;`, `\`, empty segment or dot segment, so the
/// path (which starts with `/`) is its own normal form and nothing in it
/// is ambiguous.
fn is_normal(path: &[u8]) -> bool {
    let mut start = 1;
    for i in 1..=path.len() {
        match path.get(i) {
            Some(b'%' | b';' | b'\\') => return false,
            Some(b'/') | None => {
                let segment = &path[start..i];
                // An empty segment is a merged slash, except at the end.
                let empty = segment.is_empty() && i < path.len();
                if empty || segment == b"." || segment == b".." {
                    return false;
                }
                start = i + 1;
            }
            Some(_) => {}
        }
    }
    true
}

/// Appends `raw` to `out` with unreserved characters decoded and other
/// percent-encodings in uppercase; flags what is ambiguous.
fn decode_segment(raw: &[u8], out: &mut Vec<u8>, flag: &mut impl FnMut(Ambiguity)) {
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        match b {
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    let c = hi << 4 | lo;
                    if is_unreserved(c) {
                        out.push(c);
                    } else {
                        match c {
                            b'/' => flag(Ambiguity::EncodedSlash),
                            b'\\' => flag(Ambiguity::EncodedBackslash),
                            0..=0x1f | 0x7f => flag(Ambiguity::EncodedControl),
                            _ => {}
                        }
                        out.push(b'%');
                        out.extend_from_slice(&[HEX[usize::from(hi)], HEX[usize::from(lo)]]);
                    }
                    i += 3;
                    continue;
                }
                _ => {
                    flag(Ambiguity::BadPercent);
                    out.push(b);
                }
            },
            b';' => {
                flag(Ambiguity::PathParameter);
                out.push(b);
            }
            b'\\' => {
                flag(Ambiguity::Backslash);
                out.push(b);
            }
            _ => out.push(b),
        }
        i += 1;
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §2.3: ALPHA / DIGIT / `-` / `.` / `_` / `~`.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(p: &str) -> (String, Option<Ambiguity>) {
        let n = normalize(p);
        (n.path.into_owned(), n.ambiguity)
    }

    #[test]
    fn the_bypasses_are_normalised_or_flagged() {
        use Ambiguity::*;
        for (input, path, ambiguity) in [
            ("//admin/users", "/admin/users", None),
            ("/%61dmin/users", "/admin/users", None),
            ("/x/../admin/users", "/admin/users", None),
            ("/a/%2E%2e/b", "/b", None),
            ("/admin/./users", "/admin/users", None),
            ("/admin///users//", "/admin/users/", None),
            (
                "/public/..%2fadmin/users",
                "/public/..%2Fadmin/users",
                Some(EncodedSlash),
            ),
            (
                "/public/..;/admin/users",
                "/public/..;/admin/users",
                Some(PathParameter),
            ),
            ("/%2e%2e/admin", "/admin", Some(AboveRoot)),
            ("/a/../../b", "/b", Some(AboveRoot)),
            ("/a%5cb", "/a%5Cb", Some(EncodedBackslash)),
            ("/a\\b", "/a\\b", Some(Backslash)),
            ("/a%00", "/a%00", Some(EncodedControl)),
            ("/a%7f", "/a%7F", Some(EncodedControl)),
            ("/a%zz", "/a%zz", Some(BadPercent)),
            ("/a%4", "/a%4", Some(BadPercent)),
            ("/a%", "/a%", Some(BadPercent)),
            // Left as sent: decoding `%41` would make `%Ab` an escape.
            ("//x;/%%41b", "//x;/%%41b", Some(BadPercent)),
            // The first one in path order.
            ("/a;b/%2f", "/a;b/%2F", Some(PathParameter)),
        ] {
            assert_eq!(norm(input), (path.to_string(), ambiguity), "{input}");
        }
    }

    #[test]
    fn encodings_of_data_stay_encoded_in_uppercase() {
        assert_eq!(norm("/%7e%41"), ("/~A".into(), None));
        assert_eq!(norm("/a%3bb"), ("/a%3Bb".into(), None));
        assert_eq!(norm("/a%20b"), ("/a%20b".into(), None));
        assert_eq!(norm("/caf%c3%a9"), ("/caf%C3%A9".into(), None));
    }

    #[test]
    fn dot_segments_and_trailing_slashes() {
        for (input, path) in [
            ("/", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/a/.", "/a/"),
            ("/a/..", "/"),
            ("/a/b/..", "/a/"),
            ("/a/b/", "/a/b/"),
            ("/a/./", "/a/"),
            ("//", "/"),
        ] {
            assert_eq!(normalize(input).path, path, "{input}");
        }
    }

    #[test]
    fn normal_paths_are_borrowed() {
        for p in [
            "/",
            "/api/v1/users",
            "/a.b/c..d/.e/f.",
            "/a-b_c~d",
            "/...",
            "/a/.../b",
        ] {
            let n = normalize(p);
            assert!(matches!(n.path, Cow::Borrowed(_)), "{p}");
            assert_eq!((n.path.as_ref(), n.ambiguity), (p, None), "{p}");
            assert!(is_normal(p.as_bytes()), "{p}");
        }
        for p in ["*", ""] {
            assert_eq!(normalize(p).path, p);
        }
    }

    #[test]
    fn the_fast_path_sends_every_candidate_to_the_slow_one() {
        for p in [
            "//a", "/a//", "/./a", "/a/.", "/a/..", "/../a", "/a/../b", "/%41", "/;", "/\\",
        ] {
            assert!(!is_normal(p.as_bytes()), "{p}");
        }
    }

    fn fragment() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "/", "//", ".", "..", "%2e", "%2E", "%2f", "%41", "%7e", "%3b", ";", "a", "b", "%",
            "%4", "\\", "~", "é", "%00",
        ])
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent_and_leaves_no_dot_or_empty_segment(
            parts in prop::collection::vec(fragment(), 0..12)
        ) {
            let input = format!("/{}", parts.concat());
            let once = normalize(&input);
            let path = once.path.as_ref();
            if once.ambiguity == Some(Ambiguity::BadPercent) {
                prop_assert_eq!(path, input.as_str());
                return Ok(());
            }
            prop_assert!(path.starts_with('/'));
            prop_assert!(!path.contains("//"), "{path}");
            prop_assert!(path.split('/').skip(1).all(|s| s != "." && s != ".."), "{path}");
            let twice = normalize(path);
            prop_assert_eq!(twice.path.as_ref(), path);
            // A second pass finds nothing the first did not.
            if once.ambiguity.is_none() {
                prop_assert_eq!(twice.ambiguity, None);
            }
            // The fast path never skips a path that normalising changes.
            if is_normal(input.as_bytes()) {
                prop_assert_eq!(path, input.as_str());
                prop_assert_eq!(once.ambiguity, None);
            }
        }
    }
}
