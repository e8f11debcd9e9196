//! The origin allowlist: exact origins, `*`, subdomain and port patterns,
//! and anchored regular expressions, with every entry validated up front.
//!
//! Matching is done on the exact bytes of the browser's serialization
//! (HTML Standard §7.1.1), never case-folded or normalized: a request whose
//! `Origin` is not a valid serialization is never allowed by a pattern or a
//! regex. Exact origins are found with one hash lookup, whatever their
//! number; patterns are indexed by their parent host, so a lookup costs one
//! hash probe per label of the request's host.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use regex::RegexSet;

use super::problems::Problems;
use crate::origin::{Host, OriginError, OriginRef};

/// Which entry of the allowlist let an origin through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginMatch {
    /// An exact entry of `allow_origins`.
    Exact,
    /// The `*` entry.
    Any,
    /// A pattern of `allow_origins`, as written.
    Pattern(Arc<str>),
    /// A regex of `allow_origin_regex`, as written.
    Regex(Arc<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortRule {
    /// No explicit port: the scheme's default.
    Default,
    Exact(u16),
    /// `:*`, any port including the default.
    Any,
}

impl PortRule {
    fn matches(self, port: Option<u16>) -> bool {
        match self {
            PortRule::Default => port.is_none(),
            PortRule::Exact(p) => port == Some(p),
            PortRule::Any => true,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) scheme: Box<str>,
    /// `true`: the key is a parent and the host must be a strict subdomain;
    /// `false`: the key is the host itself (a port-only wildcard).
    pub(crate) subdomains: bool,
    pub(crate) port: PortRule,
    pub(crate) source: Arc<str>,
}

/// The compiled allowlist.
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginMatcher {
    any: bool,
    /// foldhash instead of SipHash: the keys come from the config, so an
    /// attacker cannot choose colliding entries, and a lookup is several
    /// times cheaper.
    exact: HashSet<Box<str>, foldhash::fast::RandomState>,
    /// Patterns keyed by the host they are anchored to (foldhash, as above).
    patterns: HashMap<Box<str>, Vec<Pattern>, foldhash::fast::RandomState>,
    /// Whether any pattern is a port wildcard on an exact host, the only
    /// kind keyed by the request's own host.
    host_patterns: bool,
    regexes: Option<RegexSet>,
    regex_sources: Vec<Arc<str>>,
}

impl OriginMatcher {
    /// Whether `*` is in the allowlist.
    pub(crate) fn allows_any(&self) -> bool {
        self.any
    }

    /// The exact entries.
    pub(crate) fn exact(&self) -> impl Iterator<Item = &str> {
        self.exact.iter().map(|e| &**e)
    }

    /// The patterns, each with the host it is anchored to.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = (&str, &Pattern)> {
        self.patterns
            .iter()
            .flat_map(|(host, list)| list.iter().map(move |p| (&**host, p)))
    }

    /// The regexes as written.
    pub(crate) fn regex_sources(&self) -> impl Iterator<Item = &str> {
        self.regex_sources.iter().map(|r| &**r)
    }

    /// Which entry allows `origin` (the raw `Origin` header value), if any.
    pub(crate) fn find(&self, origin: &str) -> Option<OriginMatch> {
        if self.exact.contains(origin) {
            return Some(OriginMatch::Exact);
        }
        if self.any {
            return Some(OriginMatch::Any);
        }
        if !self.patterns.is_empty() {
            if let Some(source) = self.find_pattern_unparsed(origin) {
                return Some(OriginMatch::Pattern(source));
            }
        }
        let regexes = self.regexes.as_ref()?;
        // Regexes only ever see browser serializations of tuple origins.
        let parsed = OriginRef::parse(origin).ok()?;
        if parsed.is_opaque() {
            return None;
        }
        let index = regexes.matches(origin).iter().next()?;
        self.regex_sources
            .get(index)
            .cloned()
            .map(OriginMatch::Regex)
    }

    /// Pattern lookup without a full parse. It is as strict as one: the
    /// scheme is compared with the pattern's, the port must be a serialized
    /// port ([`crate::origin::serialized_port`]), the host must be a
    /// pattern's key (a validated host from the config) or a parent key
    /// preceded by plain DNS labels, so nothing that is not a browser
    /// serialization can match.
    fn find_pattern_unparsed(&self, origin: &str) -> Option<Arc<str>> {
        let (scheme, rest) = origin.split_once("://")?;
        let (host, port) = match rest.rfind(':') {
            // A colon inside IPv6 brackets is not a port separator.
            Some(i) if !rest[i..].contains(']') => (
                &rest[..i],
                Some(crate::origin::serialized_port(scheme, &rest[i + 1..])?),
            ),
            _ => (rest, None),
        };
        let is_domain = !host.starts_with('[') && host.parse::<std::net::Ipv4Addr>().is_err();
        self.find_pattern(scheme, host, is_domain, port)
    }

    fn find_pattern(
        &self,
        scheme: &str,
        host: &str,
        is_domain: bool,
        port: Option<u16>,
    ) -> Option<Arc<str>> {
        let check = |key: &str, subdomains: bool| {
            self.patterns.get(key).and_then(|list| {
                list.iter()
                    .find(|p| {
                        p.subdomains == subdomains && &*p.scheme == scheme && p.port.matches(port)
                    })
                    .map(|p| p.source.clone())
            })
        };
        if self.host_patterns {
            if let Some(found) = check(host, false) {
                return Some(found);
            }
        }
        if !is_domain {
            return None;
        }
        // Walk the parents of `host` from the longest; every label skipped
        // so far must be a plain DNS-style label, so that characters some
        // browsers accept in hosts (`_`, `~`, `` ` ``) cannot smuggle a
        // different host in front of an allowed parent. Each label is
        // checked once, when the walk passes it.
        let mut label_start = 0;
        for (i, b) in host.bytes().enumerate() {
            if b == b'.' {
                if !is_subdomain_label(&host[label_start..i]) {
                    return None;
                }
                label_start = i + 1;
                if let Some(found) = check(&host[label_start..], true) {
                    return Some(found);
                }
            }
        }
        None
    }
}

fn is_subdomain_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Builds the matcher from `allow_origins` and `allow_origin_regex`,
/// recording every problem.
pub(crate) fn compile(
    entries: &[String],
    regexes: &[String],
    credentials: bool,
    problems: &mut Problems,
) -> OriginMatcher {
    const FIELD: &str = "allow_origins";
    let mut m = OriginMatcher::default();
    let mut seen = HashSet::new();
    for entry in entries {
        if !seen.insert(entry.as_str()) {
            problems.warn(FIELD, Some(entry), "listed more than once");
            continue;
        }
        if entry == "*" {
            if credentials {
                problems.error(
                    FIELD,
                    Some(entry),
                    "`*` cannot be used with allow_credentials = true: browsers refuse \
                     `Access-Control-Allow-Origin: *` on credentialed requests (Fetch §3.2.3), \
                     and reflecting every origin instead would let any site read your users' data. \
                     List the origins you trust",
                );
            }
            m.any = true;
            continue;
        }
        if entry == "null" {
            problems.error(
                FIELD,
                Some(entry),
                "never allow `null`: it is the origin of sandboxed iframes, data: URLs, file: pages \
                 and some redirects, so any site can send `Origin: null` from a sandboxed iframe \
                 and read the response. Allow the real origins of your pages instead",
            );
            continue;
        }
        if entry.contains('*') {
            if let Some(p) = compile_pattern(entry, credentials, problems) {
                let (key, pattern) = p;
                m.host_patterns |= !pattern.subdomains;
                m.patterns.entry(key).or_default().push(pattern);
            }
            continue;
        }
        match OriginRef::parse(entry) {
            Ok(origin) => {
                warn_insecure(entry, origin, credentials, problems);
                m.exact.insert(entry.as_str().into());
            }
            Err(e) => problems.error(FIELD, Some(entry), origin_error_message(&e)),
        }
    }
    if m.any && (entries.len() > 1 || !regexes.is_empty()) {
        problems.warn(
            FIELD,
            Some("*"),
            "`*` already allows every origin: the other origin entries have no effect",
        );
    }
    compile_regexes(&mut m, regexes, problems);
    if !m.any && m.exact.is_empty() && m.patterns.is_empty() && m.regexes.is_none() {
        problems.warn(
            FIELD,
            None,
            "no origin is allowed, so every cross-origin request is refused: \
             add the origins of your pages, e.g. allow_origins = [\"https://app.example.com\"]",
        );
    }
    m
}

fn origin_error_message(e: &OriginError) -> String {
    format!("not an origin as browsers send it: {e}")
}

fn warn_insecure(entry: &str, origin: OriginRef<'_>, credentials: bool, problems: &mut Problems) {
    if credentials && !origin.is_potentially_trustworthy() {
        problems.warn(
            "allow_origins",
            Some(entry),
            "an insecure (http) origin trusted with credentials: anyone on the network path of \
             that page can inject script into it and read your users' data. Use https",
        );
    }
}

/// Parses `scheme://*.parent[:port|:*]` or `scheme://host:*`.
fn compile_pattern(
    entry: &str,
    credentials: bool,
    problems: &mut Problems,
) -> Option<(Box<str>, Pattern)> {
    const FIELD: &str = "allow_origins";
    let Some((scheme, rest)) = entry.split_once("://") else {
        problems.error(
            FIELD,
            Some(entry),
            format!("a pattern needs a scheme: write https://{entry}"),
        );
        return None;
    };
    let split_at = if rest.starts_with('[') {
        rest.find(']')
            .map(|i| i + 1)
            .filter(|&i| rest[i..].starts_with(':'))
    } else {
        rest.rfind(':')
    };
    let (host_part, port_part) = match split_at {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if host_part == "*" {
        problems.error(
            FIELD,
            Some(entry),
            format!(
                "`{scheme}://*` would allow every {scheme} site: use `*` for a public API \
                 without credentials, or list the origins you trust"
            ),
        );
        return None;
    }
    let (subdomains, parent) = match host_part.strip_prefix("*.") {
        Some(parent) => (true, parent),
        None => (false, host_part),
    };
    if parent.contains('*') || (!subdomains && host_part.contains('*')) {
        let hint = if host_part.starts_with('*') && !host_part.starts_with("*.") {
            format!(
                "the wildcard must be a whole label followed by a dot: `{scheme}://*.{}` \
                 (otherwise it would also match hosts like `evil{}`)",
                host_part.trim_start_matches('*').trim_start_matches('.'),
                host_part.trim_start_matches('*')
            )
        } else {
            "only the leftmost label may be a wildcard, as in `https://*.example.com`".to_string()
        };
        problems.error(FIELD, Some(entry), hint);
        return None;
    }
    let port = match port_part {
        None => PortRule::Default,
        Some("*") => PortRule::Any,
        Some(p) => {
            // Reuse the strict origin parser for the port rules (digits, range, default port).
            match OriginRef::parse(&format!("{scheme}://example.invalid:{p}")) {
                Ok(o) => PortRule::Exact(o.port().unwrap_or(0)),
                Err(e) => {
                    problems.error(FIELD, Some(entry), origin_error_message(&e));
                    return None;
                }
            }
        }
    };
    if !subdomains && port == PortRule::Default {
        problems.error(
            FIELD,
            Some(entry),
            "a `*` must be the leftmost label or the port",
        );
        return None;
    }
    // Check scheme and host through the strict origin parser.
    let probe = format!("{scheme}://{parent}");
    let origin = match OriginRef::parse(&probe) {
        Ok(o) => o,
        Err(e) => {
            problems.error(FIELD, Some(entry), origin_error_message(&e));
            return None;
        }
    };
    if subdomains {
        match origin.host() {
            Some(Host::Domain(d)) => {
                if is_public_suffix(d) {
                    problems.error(
                        FIELD,
                        Some(entry),
                        format!(
                            "`{d}` is a public suffix: `*.{d}` covers sites run by anyone. \
                             Allow your own domain, e.g. `{scheme}://*.yourcompany.{d}`"
                        ),
                    );
                    return None;
                }
            }
            _ => {
                problems.error(
                    FIELD,
                    Some(entry),
                    "an IP address has no subdomains: list the exact origin instead",
                );
                return None;
            }
        }
    }
    warn_insecure(entry, origin, credentials, problems);
    Some((
        parent.into(),
        Pattern {
            scheme: scheme.into(),
            subdomains,
            port,
            source: entry.into(),
        },
    ))
}

/// Whether `domain` is itself a public suffix on the Public Suffix List
/// (ICANN and private sections: `com`, `co.uk`, `github.io`). Unknown
/// top-level names (`localhost`, `internal`) are not, so `*.localhost`
/// patterns stay possible for development.
fn is_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes())
        .is_some_and(|s| s.is_known() && s.as_bytes() == domain.as_bytes())
}

fn compile_regexes(m: &mut OriginMatcher, regexes: &[String], problems: &mut Problems) {
    const FIELD: &str = "allow_origin_regex";
    let mut anchored = Vec::new();
    for source in regexes {
        let full = format!("^(?:{source})$");
        match regex::Regex::new(&full) {
            Ok(re) => {
                if re.is_match("null") {
                    problems.error(
                        FIELD,
                        Some(source),
                        "this regex matches `null`, the origin of sandboxed iframes and data: URLs \
                         that any site can produce: make it match only scheme://host origins",
                    );
                    continue;
                }
                if let Some(example) = unescaped_dot_example(source) {
                    problems.warn(
                        FIELD,
                        Some(source),
                        format!(
                            "an unescaped `.` matches any character, so this also allows hosts like \
                             `{example}`: write `\\.` for a literal dot"
                        ),
                    );
                }
                anchored.push(full);
                m.regex_sources.push(source.as_str().into());
            }
            Err(e) => problems.error(FIELD, Some(source), format!("does not compile: {e}")),
        }
    }
    if !anchored.is_empty() {
        match RegexSet::new(&anchored) {
            Ok(set) => m.regexes = Some(set),
            Err(e) => problems.error(
                FIELD,
                None,
                format!("the regexes together are too large: {e}"),
            ),
        }
    }
}

/// If `source` has a `.` outside a character class that is not escaped and
/// sits between two letters or digits (as in `example.com`), returns the
/// source with that dot replaced by `X`, to show what it also matches.
fn unescaped_dot_example(source: &str) -> Option<String> {
    let bytes = source.as_bytes();
    let (mut escaped, mut in_class) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'.' if !in_class => {
                let before = i > 0 && bytes[i - 1].is_ascii_alphanumeric();
                let after = bytes.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric());
                if before && after {
                    let mut s = source.to_string();
                    s.replace_range(i..i + 1, "X");
                    return Some(s.trim_start_matches('^').trim_end_matches('$').to_string());
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(entries: &[&str], regexes: &[&str]) -> (OriginMatcher, Problems) {
        let mut p = Problems::default();
        let e: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        let r: Vec<String> = regexes.iter().map(|s| s.to_string()).collect();
        let m = compile(&e, &r, false, &mut p);
        (m, p)
    }

    #[test]
    fn subdomain_patterns_need_a_real_subdomain() {
        let (m, p) = matcher(&["https://*.example.org"], &[]);
        assert!(!p.has_errors(), "{:?}", p.0);
        assert!(m.find("https://a.example.org").is_some());
        assert!(m.find("https://a.b.example.org").is_some());
        for refused in [
            "https://example.org",
            "https://evilexample.org",
            "http://a.example.org",
            "https://a.example.org:8443",
            "https://a.example.org.evil.com",
            "https://.example.org",
            "https://a..example.org",
            "https://a~.example.org",
            "https://A.example.org",
            "https://a.example.org/",
            "null",
        ] {
            assert_eq!(m.find(refused), None, "{refused}");
        }
    }

    #[test]
    fn port_wildcards() {
        let (m, p) = matcher(&["http://localhost:*", "https://*.example.org:*"], &[]);
        assert!(!p.has_errors(), "{:?}", p.0);
        assert!(m.find("http://localhost").is_some());
        assert!(m.find("http://localhost:3000").is_some());
        assert!(m.find("https://localhost:3000").is_none());
        assert!(m.find("http://sub.localhost:3000").is_none());
        assert!(m.find("https://a.example.org:1").is_some());
        assert!(m.find("https://example.org:1").is_none());
        let (m, p) = matcher(&["http://[::1]:*", "http://127.0.0.1:*"], &[]);
        assert!(!p.has_errors(), "{:?}", p.0);
        assert!(m.find("http://[::1]:5173").is_some());
        assert!(m.find("http://127.0.0.1:5173").is_some());
        assert!(m.find("http://127.0.0.2:5173").is_none());
        let (m, _) = matcher(&["https://*.example.org:8443"], &[]);
        assert!(m.find("https://a.example.org:8443").is_some());
        assert!(m.find("https://a.example.org").is_none());
        // The unparsed pattern path is as strict as the origin parser.
        let (m, _) = matcher(&["https://*.example.org:*", "http://[::1]:*"], &[]);
        for refused in [
            "https://a.example.org:443",
            "https://a.example.org:",
            "https://a.example.org:08443",
            "https://a.example.org:65536",
            "https://a.example.org:8443/",
            "https://user@a.example.org",
            "https://a.example.org#x",
            "https://a.example.org?x",
            "HTTPS://a.example.org",
            "https://a.example.org.",
            "http://[::1]:0x50",
            "http://[::1]/",
        ] {
            assert_eq!(m.find(refused), None, "{refused}");
        }
        assert!(m.find("https://a.example.org:8443").is_some());
        assert!(m.find("https://a.example.org").is_some());
        assert!(m.find("http://[::1]").is_some());
    }

    #[test]
    fn regexes_are_anchored() {
        let (m, p) = matcher(&[], &["https://pr-[0-9]+\\.preview\\.example\\.net"]);
        assert!(!p.has_errors());
        assert!(m.find("https://pr-12.preview.example.net").is_some());
        assert!(m
            .find("https://pr-12.preview.example.net.evil.com")
            .is_none());
        assert!(m
            .find("https://x.https://pr-12.preview.example.net")
            .is_none());
    }

    #[test]
    fn exact_entries_share_no_suffix() {
        let (m, _) = matcher(&["https://foo.com", "https://bar.com"], &[]);
        assert!(m.find("https://barfoo.com").is_none());
        assert!(m.find("https://foo.com.bar.com").is_none());
        assert!(m.find("http://foo.com").is_none());
        assert_eq!(m.find("https://foo.com"), Some(OriginMatch::Exact));
    }

    #[test]
    fn unescaped_dots_are_found() {
        assert_eq!(
            unescaped_dot_example("^https://api.example\\.com$").as_deref(),
            Some("https://apiXexample\\.com")
        );
        assert_eq!(unescaped_dot_example("https://api\\.example\\.com"), None);
        assert_eq!(unescaped_dot_example("https://[a.b]+\\.com"), None);
        assert_eq!(unescaped_dot_example("https://.*\\.example\\.com"), None);
    }

    #[test]
    fn public_suffixes() {
        for ps in ["com", "co.uk", "github.io"] {
            assert!(is_public_suffix(ps), "{ps}");
        }
        for not in ["example.com", "localhost", "internal", "example.github.io"] {
            assert!(!is_public_suffix(not), "{not}");
        }
    }
}
