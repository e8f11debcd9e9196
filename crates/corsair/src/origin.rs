//! Origins exactly as browsers serialize them in the `Origin` request header.
//!
//! The `Origin` header carries the *serialization of an origin* (HTML Standard
//! §7.1.1 "serialization of an origin", RFC 6454 §6.2): `scheme "://" host
//! [":" port]`, or `null` for an opaque origin. Browsers always produce the
//! canonical form the URL Standard's serializers give: lowercase scheme and
//! host, IPv6 in brackets and compressed (URL Standard §3.6 "host
//! serializing"), dotted-decimal IPv4 (§3.5 "IPv4 serializer"), and no
//! default port (§4.1 "default port"). Anything else never comes from a
//! browser, so [`OriginRef::parse`] refuses it with a typed [`OriginError`]
//! that says how to write it instead.
//!
//! The parser is written by hand rather than taken from the `url` crate
//! because it must be *strict*: `url` accepts and normalizes
//! `HTTPS://Example.COM:443/`, while an allowlist that compares bytes needs
//! to know that no browser ever sends that.
//!
//! Parsing an [`OriginRef`] never allocates; [`Origin`] is the owned form.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a string is not a browser-serialized origin.
///
/// Every variant's message names the problem and how to write the origin
/// the way a browser sends it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// The input is empty.
    #[error("the origin is empty: write it as scheme://host[:port], e.g. https://app.example.com")]
    Empty,
    /// No `scheme://` prefix, e.g. `example.com`.
    #[error("no scheme: write https://{0} (an origin is scheme://host[:port])")]
    MissingScheme(String),
    /// The scheme has characters a URL scheme may not have.
    #[error("invalid scheme `{0}`: a scheme starts with a letter followed by letters, digits, `+`, `-` or `.`")]
    InvalidScheme(String),
    /// The scheme has uppercase letters; browsers lowercase it.
    #[error("uppercase scheme: browsers send the scheme in lowercase, write `{0}`")]
    UppercaseScheme(String),
    /// `file:` URLs have opaque origins, which serialize as `null`.
    #[error("file: URLs have an opaque origin that browsers send as `null`, never as file://...")]
    FileScheme,
    /// Nothing between `://` and the port or end.
    #[error("empty host: an origin needs a host after scheme://")]
    EmptyHost,
    /// `user:pass@` appears before the host.
    #[error(
        "userinfo (`user@`) is never part of an origin: remove everything up to and including `@`"
    )]
    Userinfo,
    /// A path, query or fragment follows the host (including a trailing `/`).
    #[error("an origin has no path, query or fragment: remove `{0}` (write scheme://host[:port] with no trailing slash)")]
    Path(String),
    /// The port is empty, has non-digits, or has leading zeros.
    #[error("invalid port `{0}`: a port is 1 to 5 digits with no leading zero")]
    InvalidPort(String),
    /// The port does not fit in 16 bits.
    #[error("port {0} is out of range: ports go from 0 to 65535")]
    PortOutOfRange(String),
    /// The port is the scheme's default, which browsers never write.
    #[error("port {port} is the default for {scheme}: browsers omit it, write {canonical}")]
    DefaultPort {
        /// The scheme.
        scheme: String,
        /// The default port that was written.
        port: u16,
        /// The origin as a browser would send it.
        canonical: String,
    },
    /// A non-ASCII character; browsers send internationalized hosts as punycode.
    #[error("non-ASCII characters: browsers send internationalized hosts in punycode (xn--...), write it that way")]
    NonAscii,
    /// The host has uppercase letters; browsers lowercase hosts.
    #[error("uppercase host: browsers send hosts in lowercase, write `{0}`")]
    UppercaseHost(String),
    /// The host contains a forbidden domain code point (URL Standard §3.2).
    #[error("the host contains `{0}`, which no URL host may contain")]
    ForbiddenHostChar(char),
    /// The bracketed IPv6 address does not parse.
    #[error("`{0}` is not a valid IPv6 address")]
    InvalidIpv6(String),
    /// The IPv6 address is valid but not in the URL Standard's canonical form.
    #[error("IPv6 address not in canonical form: browsers send [{0}]")]
    NonCanonicalIpv6(String),
    /// The host ends in a number, so it is an IPv4 address, but not written in dotted decimal.
    #[error("`{0}` is parsed by browsers as an IPv4 address: write it in dotted decimal (four numbers 0-255, no leading zeros)")]
    NonCanonicalIpv4(String),
}

/// The scheme's default port (URL Standard §4.1 "special scheme").
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// The host of a tuple origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name, in lowercase ASCII (punycode for IDNs).
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets in the origin).
    Ipv6(Ipv6Addr),
}

impl Host<'_> {
    /// Whether the host is `localhost` (or a subdomain of it) or a loopback
    /// address: the hosts that browsers treat as potentially trustworthy even
    /// over `http` (Secure Contexts §3.2).
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HostKind {
    Domain,
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Parts {
    Opaque,
    Tuple {
        scheme_end: usize,
        host_start: usize,
        host_end: usize,
        host: HostKind,
        port: Option<u16>,
    },
}

/// A borrowed, validated browser-serialized origin. Parsing never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OriginRef<'a> {
    text: &'a str,
    parts: Parts,
}

/// An owned, validated browser-serialized origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    text: Box<str>,
    parts: Parts,
}

impl<'a> OriginRef<'a> {
    /// Parses an `Origin` header value, accepting only the exact serialization
    /// a browser sends (HTML Standard §7.1.1; RFC 6454 §7.1 for the `null` value).
    pub fn parse(text: &'a str) -> Result<Self, OriginError> {
        let parts = parse_parts(text)?;
        Ok(OriginRef { text, parts })
    }

    /// The origin exactly as serialized.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Whether this is the opaque origin, serialized as `null`.
    pub fn is_opaque(&self) -> bool {
        matches!(self.parts, Parts::Opaque)
    }

    /// The scheme (`https`), or `None` for an opaque origin.
    pub fn scheme(&self) -> Option<&'a str> {
        match self.parts {
            Parts::Opaque => None,
            Parts::Tuple { scheme_end, .. } => Some(&self.text[..scheme_end]),
        }
    }

    /// The host, or `None` for an opaque origin.
    pub fn host(&self) -> Option<Host<'a>> {
        match self.parts {
            Parts::Opaque => None,
            Parts::Tuple {
                host_start,
                host_end,
                host,
                ..
            } => Some(match host {
                HostKind::Domain => Host::Domain(&self.text[host_start..host_end]),
                HostKind::Ipv4(ip) => Host::Ipv4(ip),
                HostKind::Ipv6(ip) => Host::Ipv6(ip),
            }),
        }
    }

    /// The host as written in the origin (IPv6 with its brackets).
    pub fn host_str(&self) -> Option<&'a str> {
        match self.parts {
            Parts::Opaque => None,
            Parts::Tuple {
                host_start,
                host_end,
                host,
                ..
            } => Some(match host {
                HostKind::Ipv6(_) => &self.text[host_start - 1..host_end + 1],
                _ => &self.text[host_start..host_end],
            }),
        }
    }

    /// The explicit port; `None` when the origin uses its scheme's default
    /// port (or has none) or is opaque.
    pub fn port(&self) -> Option<u16> {
        match self.parts {
            Parts::Opaque => None,
            Parts::Tuple { port, .. } => port,
        }
    }

    /// The port a connection would use: the explicit one or the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        self.port().or_else(|| self.scheme().and_then(default_port))
    }

    /// Same origin (HTML Standard §7.1.1 "same origin"): identical tuples.
    /// An opaque origin received as `null` has no identity to compare, so it
    /// is never the same origin as anything.
    pub fn is_same_origin(&self, other: &OriginRef<'_>) -> bool {
        !self.is_opaque() && !other.is_opaque() && self.text == other.text
    }

    /// The registrable domain ("eTLD+1") of the host by the Public Suffix
    /// List, or `None` for IP addresses, opaque origins and hosts that are
    /// themselves public suffixes (URL Standard §3.3 "registrable domain").
    pub fn registrable_domain(&self) -> Option<&'a str> {
        match self.host()? {
            Host::Domain(d) => psl::domain_str(d),
            _ => None,
        }
    }

    /// Schemeful same site (HTML Standard §7.1.2 "same site"): same scheme and
    /// the same registrable domain (or the same host when there is none).
    pub fn is_same_site(&self, other: &OriginRef<'_>) -> bool {
        if self.is_opaque() || other.is_opaque() {
            return false;
        }
        if self.scheme() != other.scheme() {
            return false;
        }
        match (self.registrable_domain(), other.registrable_domain()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.host() == other.host(),
            _ => false,
        }
    }

    /// Whether a browser treats this origin as potentially trustworthy
    /// (Secure Contexts §3.1): `https`/`wss`, or a loopback host.
    pub fn is_potentially_trustworthy(&self) -> bool {
        match (self.scheme(), self.host()) {
            (Some("https" | "wss"), _) => true,
            (Some(_), Some(h)) => h.is_loopback(),
            _ => false,
        }
    }

    /// The owned form.
    pub fn to_owned(&self) -> Origin {
        Origin {
            text: self.text.into(),
            parts: self.parts,
        }
    }
}

impl Origin {
    /// Parses and owns an origin; see [`OriginRef::parse`].
    pub fn parse(text: &str) -> Result<Self, OriginError> {
        OriginRef::parse(text).map(|o| o.to_owned())
    }

    /// Parses an `Origin` header value. A value that is not visible ASCII is
    /// refused as [`OriginError::NonAscii`].
    pub fn from_header(value: &http::HeaderValue) -> Result<Self, OriginError> {
        let text = value.to_str().map_err(|_| OriginError::NonAscii)?;
        Self::parse(text)
    }

    /// The borrowed view, which carries every accessor.
    pub fn as_ref(&self) -> OriginRef<'_> {
        OriginRef {
            text: &self.text,
            parts: self.parts,
        }
    }

    /// The origin exactly as serialized.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The opaque origin, `null`.
    pub fn opaque() -> Self {
        Origin {
            text: "null".into(),
            parts: Parts::Opaque,
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = OriginError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Origin::parse(s)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for OriginRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

fn parse_parts(s: &str) -> Result<Parts, OriginError> {
    if s == "null" {
        return Ok(Parts::Opaque);
    }
    if s.is_empty() {
        return Err(OriginError::Empty);
    }
    if !s.is_ascii() {
        return Err(OriginError::NonAscii);
    }
    let Some(scheme_end) = s.find("://") else {
        return Err(OriginError::MissingScheme(s.to_string()));
    };
    let scheme = &s[..scheme_end];
    check_scheme(scheme)?;
    if scheme == "file" {
        return Err(OriginError::FileScheme);
    }
    let host_start = scheme_end + 3;
    let rest = &s[host_start..];
    // Userinfo ends at the last `@` before the path (URL Standard §4.4 authority state).
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..authority_end].contains('@') {
        return Err(OriginError::Userinfo);
    }

    let (host, host_start, host_end, after_host) = if let Some(inner) = rest.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or_else(|| OriginError::InvalidIpv6(inner.to_string()))?;
        let text = &inner[..close];
        let ip: Ipv6Addr = text
            .parse()
            .map_err(|_| OriginError::InvalidIpv6(text.to_string()))?;
        let canonical = serialize_ipv6(ip);
        if canonical != text {
            return Err(OriginError::NonCanonicalIpv6(canonical));
        }
        let hs = host_start + 1;
        (HostKind::Ipv6(ip), hs, hs + close, hs + close + 1)
    } else {
        let end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
        let text = &rest[..end];
        let kind = check_host(text)?;
        (kind, host_start, host_start + end, host_start + end)
    };

    let tail = &s[after_host..];
    let port = if let Some(p) = tail.strip_prefix(':') {
        let digits_end = p.find(['/', '?', '#']).unwrap_or(p.len());
        if digits_end < p.len() {
            return Err(OriginError::Path(p[digits_end..].to_string()));
        }
        let port = parse_port(p)?;
        if default_port(scheme) == Some(port) {
            return Err(OriginError::DefaultPort {
                scheme: scheme.to_string(),
                port,
                canonical: s[..after_host].to_string(),
            });
        }
        Some(port)
    } else if tail.is_empty() {
        None
    } else {
        return Err(OriginError::Path(tail.to_string()));
    };
    Ok(Parts::Tuple {
        scheme_end,
        host_start,
        host_end,
        host,
        port,
    })
}

fn check_scheme(scheme: &str) -> Result<(), OriginError> {
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid {
        return Err(OriginError::InvalidScheme(scheme.to_string()));
    }
    if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(OriginError::UppercaseScheme(scheme.to_ascii_lowercase()));
    }
    Ok(())
}

/// Forbidden domain code points (URL Standard §3.2), restricted to ASCII
/// since non-ASCII input is refused earlier.
fn is_forbidden_domain_char(b: u8) -> bool {
    b <= 0x20
        || b == 0x7f
        || matches!(
            b,
            b'#' | b'/'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'^'
                | b'|'
                | b'%'
        )
}

fn check_host(host: &str) -> Result<HostKind, OriginError> {
    if host.is_empty() {
        return Err(OriginError::EmptyHost);
    }
    if let Some(b) = host.bytes().find(|&b| is_forbidden_domain_char(b)) {
        return Err(OriginError::ForbiddenHostChar(b as char));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(OriginError::UppercaseHost(host.to_ascii_lowercase()));
    }
    if ends_in_a_number(host) {
        return match parse_canonical_ipv4(host) {
            Some(ip) => Ok(HostKind::Ipv4(ip)),
            None => Err(OriginError::NonCanonicalIpv4(host.to_string())),
        };
    }
    Ok(HostKind::Domain)
}

/// URL Standard §3.5 "ends in a number checker": the last label (ignoring one
/// trailing empty label) is all digits, or `0x`-prefixed hex.
fn ends_in_a_number(host: &str) -> bool {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let last = trimmed.rsplit('.').next().unwrap_or("");
    if last.is_empty() {
        return false;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Dotted decimal with exactly four parts, each 0-255 without leading zeros:
/// the only form the URL Standard's IPv4 serializer (§3.5) produces.
fn parse_canonical_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in host.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        octets[n] = part.parse().ok()?;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(octets))
}

/// Digits only, at least one, no leading zero: the port syntax of a
/// serialized origin (URL Standard §4.4, "port state", serialized).
fn is_port_syntax(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !(p.len() > 1 && p.starts_with('0'))
}

/// The explicit port of a browser-serialized origin with this scheme, or
/// `None` when `p` is not one (bad syntax, over 65535, or the scheme's
/// default port, which browsers omit). Never allocates.
pub(crate) fn serialized_port(scheme: &str, p: &str) -> Option<u16> {
    if !is_port_syntax(p) || p.len() > 5 {
        return None;
    }
    let port: u16 = p.parse().ok()?;
    (default_port(scheme) != Some(port)).then_some(port)
}

fn parse_port(p: &str) -> Result<u16, OriginError> {
    if !is_port_syntax(p) {
        return Err(OriginError::InvalidPort(p.to_string()));
    }
    if p.len() > 5 {
        return Err(OriginError::PortOutOfRange(p.to_string()));
    }
    p.parse::<u16>()
        .map_err(|_| OriginError::PortOutOfRange(p.to_string()))
}

/// The URL Standard's IPv6 serializer (§3.6): lowercase hex pieces without
/// leading zeros, the first longest run of two or more zero pieces
/// compressed to `::`, and never the dotted IPv4 tail that Rust's `Display`
/// uses for IPv4-mapped addresses.
pub fn serialize_ipv6(ip: Ipv6Addr) -> String {
    let pieces = ip.segments();
    let (mut best_start, mut best_len) = (None, 1usize);
    let mut i = 0;
    while i < 8 {
        if pieces[i] == 0 {
            let start = i;
            while i < 8 && pieces[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = Some(start);
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut out = String::with_capacity(39);
    let mut ignore0 = false;
    for (idx, piece) in pieces.iter().enumerate() {
        if ignore0 && *piece == 0 {
            continue;
        }
        ignore0 = false;
        if best_start == Some(idx) {
            out.push_str(if idx == 0 { "::" } else { ":" });
            ignore0 = true;
            continue;
        }
        out.push_str(&format!("{piece:x}"));
        if idx != 7 {
            out.push(':');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_browser_serializations() {
        for ok in [
            "https://example.com",
            "http://localhost:3000",
            "https://a.b.c.example.co.uk:8443",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
            "http://[::ffff:102:304]",
            "https://xn--bcher-kva.example",
            "chrome-extension://abcdefghijklmnop",
            "https://api.example.com_.evil.com",
            "http://host:0",
            "null",
        ] {
            let o = OriginRef::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(o.as_str(), ok);
        }
    }

    #[test]
    fn refuses_everything_else_with_a_typed_error() {
        use OriginError::*;
        type Check = fn(&OriginError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, Empty)),
            ("example.com", |e| matches!(e, MissingScheme(_))),
            ("https://example.com/", |e| matches!(e, Path(p) if p == "/")),
            ("https://example.com:8080/x", |e| matches!(e, Path(_))),
            ("https://example.com?x", |e| matches!(e, Path(_))),
            ("https://user@example.com", |e| matches!(e, Userinfo)),
            ("https://", |e| matches!(e, EmptyHost)),
            ("https://:443", |e| matches!(e, EmptyHost)),
            ("https://example.com:65536", |e| {
                matches!(e, PortOutOfRange(_))
            }),
            ("https://example.com:999999", |e| {
                matches!(e, PortOutOfRange(_))
            }),
            ("https://example.com:", |e| matches!(e, InvalidPort(_))),
            ("https://example.com:08080", |e| matches!(e, InvalidPort(_))),
            ("https://example.com:+80", |e| matches!(e, InvalidPort(_))),
            ("https://example.com:443", |e| {
                matches!(e, DefaultPort { .. })
            }),
            ("http://example.com:80", |e| matches!(e, DefaultPort { .. })),
            ("https://bücher.example", |e| matches!(e, NonAscii)),
            (
                "https://Example.com",
                |e| matches!(e, UppercaseHost(h) if h == "example.com"),
            ),
            (
                "HTTPS://example.com",
                |e| matches!(e, UppercaseScheme(s) if s == "https"),
            ),
            ("ht tp://example.com", |e| matches!(e, InvalidScheme(_))),
            ("1http://example.com", |e| matches!(e, InvalidScheme(_))),
            ("https://exa mple.com", |e| {
                matches!(e, ForbiddenHostChar(' '))
            }),
            ("https://exa%2ecom", |e| matches!(e, ForbiddenHostChar('%'))),
            ("http://[::1", |e| matches!(e, InvalidIpv6(_))),
            ("http://[zz::1]", |e| matches!(e, InvalidIpv6(_))),
            (
                "http://[0:0::1]",
                |e| matches!(e, NonCanonicalIpv6(c) if c == "::1"),
            ),
            ("http://[::FFFF:1.2.3.4]", |e| {
                matches!(e, NonCanonicalIpv6(_))
            }),
            ("http://127.1", |e| matches!(e, NonCanonicalIpv4(_))),
            ("http://0x7f.0.0.1", |e| matches!(e, NonCanonicalIpv4(_))),
            ("http://127.000.0.1", |e| matches!(e, NonCanonicalIpv4(_))),
            ("http://256.0.0.1", |e| matches!(e, NonCanonicalIpv4(_))),
            ("http://example.123", |e| matches!(e, NonCanonicalIpv4(_))),
            ("file:///etc/passwd", |e| matches!(e, FileScheme)),
            ("Null", |e| matches!(e, MissingScheme(_))),
        ];
        for (input, check) in cases {
            match OriginRef::parse(input) {
                Ok(o) => panic!("{input:?} parsed as {o:?}"),
                Err(e) => assert!(check(&e), "{input:?} gave {e:?}"),
            }
        }
    }

    #[test]
    fn accessors() {
        let o = OriginRef::parse("http://[::1]:8080").unwrap();
        assert_eq!(o.scheme(), Some("http"));
        assert_eq!(o.host(), Some(Host::Ipv6(Ipv6Addr::LOCALHOST)));
        assert_eq!(o.host_str(), Some("[::1]"));
        assert_eq!(o.port(), Some(8080));
        assert!(o.is_potentially_trustworthy());
        let o = OriginRef::parse("https://www.example.co.uk").unwrap();
        assert_eq!(o.effective_port(), Some(443));
        assert_eq!(o.registrable_domain(), Some("example.co.uk"));
        assert!(!OriginRef::parse("http://example.com")
            .unwrap()
            .is_potentially_trustworthy());
        assert!(OriginRef::parse("http://app.localhost:1")
            .unwrap()
            .is_potentially_trustworthy());
    }

    #[test]
    fn same_origin_and_same_site() {
        let p = |s| OriginRef::parse(s).unwrap();
        assert!(p("https://a.example.com").is_same_origin(&p("https://a.example.com")));
        assert!(!p("https://a.example.com").is_same_origin(&p("https://a.example.com:8443")));
        assert!(!p("null").is_same_origin(&p("null")));
        assert!(p("https://a.example.com").is_same_site(&p("https://b.example.com:8443")));
        assert!(!p("https://a.example.com").is_same_site(&p("http://a.example.com")));
        assert!(!p("https://a.github.io").is_same_site(&p("https://b.github.io")));
        assert!(!p("https://example.co.uk").is_same_site(&p("https://other.co.uk")));
        assert!(p("http://127.0.0.1:1").is_same_site(&p("http://127.0.0.1:2")));
        assert!(!p("http://127.0.0.1").is_same_site(&p("http://127.0.0.2")));
        assert!(!p("null").is_same_site(&p("null")));
    }

    #[test]
    fn ipv6_serializer_matches_url_standard() {
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
            ("::ffff:1.2.3.4", "::ffff:102:304"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("ABCD::", "abcd::"),
        ];
        for (input, want) in cases {
            assert_eq!(serialize_ipv6(input.parse().unwrap()), want, "{input}");
        }
    }
}
