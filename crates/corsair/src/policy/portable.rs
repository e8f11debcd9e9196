//! The policy as the plain values another HTTP engine needs to enforce it
//! (nginx, HAProxy, Caddy, Apache, Envoy, ...): the allowlist as one
//! anchored regular expression, the exact header values [`Policy::evaluate`]
//! answers with, and which of them echo the request.
//!
//! The header values come from the policy itself, so an exported config
//! answers byte for byte what corsair answers; `corsair-export` turns them
//! into each target's syntax.

use super::origins::PortRule;
use super::{NameRule, Policy};

/// What the allowlist accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortableOrigins {
    /// `*`: every origin (`Access-Control-Allow-Origin: *` without
    /// credentials, the origin itself with them).
    Any,
    /// A list; `regex` is one anchored expression matching exactly the
    /// browser serializations the list allows.
    List {
        /// Exact origins, as configured.
        exact: Vec<String>,
        /// Subdomain and port patterns.
        patterns: Vec<PortablePattern>,
        /// `allow_origin_regex` entries, as written (unanchored).
        regexes: Vec<String>,
        /// `^(?:…|…)$` over every entry, in the syntax common to PCRE, RE2
        /// and Rust's `regex`, or why it cannot be written so.
        regex: Result<String, String>,
    },
}

/// A subdomain or port pattern of `allow_origins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortablePattern {
    /// The entry as written.
    pub source: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The parent host (subdomain pattern) or the host itself (port
    /// wildcard).
    pub host: String,
    /// Whether one or more labels must precede `host`.
    pub subdomains: bool,
    /// The port rule.
    pub port: PortablePort,
}

/// A pattern's port rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortablePort {
    /// No port in the origin (the scheme's default).
    Default,
    /// Exactly this port.
    Exact(u16),
    /// `:*`: any port, or none.
    Any,
}

/// Allowed methods or request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortableNames {
    /// `*`: any valid token, echoed back in the answer.
    Any,
    /// Only these (methods case-sensitive, headers lowercase and compared
    /// case-insensitively); `value` is the `Access-Control-Allow-*` answer.
    List {
        /// The names.
        names: Vec<String>,
        /// The header value answered, when the list is not empty.
        value: Option<String>,
    },
}

/// Everything an engine needs to answer as [`Policy::evaluate`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portable {
    /// The allowlist.
    pub origins: PortableOrigins,
    /// `Access-Control-Allow-Credentials: true` on allowed answers.
    pub credentials: bool,
    /// `Access-Control-Allow-Methods`.
    pub methods: PortableNames,
    /// `Access-Control-Allow-Headers`.
    pub headers: PortableNames,
    /// `Access-Control-Expose-Headers` on allowed actual responses.
    pub expose: Option<String>,
    /// `Access-Control-Max-Age` on allowed preflights.
    pub max_age: Option<String>,
    /// Whether Private Network Access preflights are allowed.
    pub private_network: bool,
    /// The status of an allowed preflight.
    pub preflight_status: u16,
    /// `Vary` on every non-preflight response, when the answer depends on
    /// the origin.
    pub vary_actual: Option<String>,
    /// `Vary` on every preflight answer.
    pub vary_preflight: String,
    /// The longest `Access-Control-Request-Headers` read; longer ones are
    /// refused.
    pub request_headers_max_len: usize,
}

impl Policy {
    /// The policy as plain values for another engine ([`Portable`]).
    pub fn portable(&self) -> Portable {
        let names = |rule: &NameRule, value: &Option<http::HeaderValue>| match rule {
            NameRule::Any => PortableNames::Any,
            NameRule::List(list) => PortableNames::List {
                names: list.iter().map(|n| n.to_string()).collect(),
                value: text(value),
            },
        };
        Portable {
            origins: self.portable_origins(),
            credentials: self.credentials,
            methods: names(&self.methods, &self.acam),
            headers: names(&self.headers, &self.acah),
            expose: text(&self.aceh),
            max_age: text(&self.acma),
            private_network: self.private_network,
            preflight_status: self.preflight_status.as_u16(),
            vary_actual: text(&self.vary_actual),
            vary_preflight: self.vary_preflight.to_str().unwrap_or_default().to_string(),
            request_headers_max_len: super::header_list::MAX_LEN,
        }
    }

    fn portable_origins(&self) -> PortableOrigins {
        if self.origins.allows_any() {
            return PortableOrigins::Any;
        }
        let mut exact: Vec<String> = self.origins.exact().map(str::to_string).collect();
        exact.sort();
        let mut patterns: Vec<PortablePattern> = self
            .origins
            .patterns()
            .map(|(host, p)| PortablePattern {
                source: p.source.to_string(),
                scheme: p.scheme.to_string(),
                host: host.to_string(),
                subdomains: p.subdomains,
                port: match p.port {
                    PortRule::Default => PortablePort::Default,
                    PortRule::Exact(n) => PortablePort::Exact(n),
                    PortRule::Any => PortablePort::Any,
                },
            })
            .collect();
        patterns.sort_by(|a, b| a.source.cmp(&b.source));
        let regexes: Vec<String> = self.origins.regex_sources().map(str::to_string).collect();
        let regex = combined_regex(&exact, &patterns, &regexes);
        PortableOrigins::List {
            exact,
            patterns,
            regexes,
            regex,
        }
    }
}

fn text(value: &Option<http::HeaderValue>) -> Option<String> {
    value
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Escapes every ASCII punctuation character: `\` before punctuation is a
/// literal in PCRE, RE2 and Rust's `regex` alike.
pub fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl PortablePattern {
    /// The unanchored expression for this pattern: subdomain labels as the
    /// policy accepts them (`[a-z0-9_-]`, 1 to 63 characters), the port as
    /// the rule says.
    pub fn regex(&self) -> String {
        let labels = if self.subdomains {
            "(?:[a-z0-9_-]{1,63}\\.)+"
        } else {
            ""
        };
        let port = match self.port {
            PortablePort::Default => String::new(),
            PortablePort::Exact(n) => format!(":{n}"),
            PortablePort::Any => "(?::[0-9]{1,5})?".to_string(),
        };
        format!(
            "{}://{labels}{}{port}",
            escape_regex(&self.scheme),
            escape_regex(&self.host)
        )
    }
}

fn combined_regex(
    exact: &[String],
    patterns: &[PortablePattern],
    regexes: &[String],
) -> Result<String, String> {
    let mut alternatives: Vec<String> = exact.iter().map(|e| escape_regex(e)).collect();
    alternatives.extend(patterns.iter().map(PortablePattern::regex));
    for r in regexes {
        portable_syntax(r).map_err(|why| format!("allow_origin_regex `{r}`: {why}"))?;
        alternatives.push(format!("(?:{r})"));
    }
    Ok(format!("^(?:{})$", alternatives.join("|")))
}

/// Checks that `source` means the same in PCRE, RE2 (Go, Envoy) and Rust's
/// `regex`: literals, `.`, classes, groups `(…)` and `(?:…)`, alternation,
/// the quantifiers `* + ? {n,m}`, anchors, and the escapes `\d \w \s` and
/// escaped punctuation. Flags, named groups, Unicode classes and
/// `\A \z \b` are refused: at least one of the engines reads them
/// differently or not at all.
pub fn portable_syntax(source: &str) -> Result<(), String> {
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let Some(&next) = bytes.get(i + 1) else {
                    return Err("ends with a lone `\\`".into());
                };
                if !(next.is_ascii_punctuation() || matches!(next, b'd' | b'w' | b's')) {
                    return Err(format!(
                        "the escape `\\{}` is not read the same by every regex engine",
                        next as char
                    ));
                }
                i += 2;
            }
            b'(' if bytes.get(i + 1) == Some(&b'?') => {
                if bytes.get(i + 2) != Some(&b':') {
                    return Err(
                        "flags, named groups and look-arounds (`(?…`) are not read the same by \
                         every regex engine; only `(?:…)` is"
                            .into(),
                    );
                }
                i += 3;
            }
            b'[' if bytes.get(i + 1) == Some(&b'[') || source[i..].starts_with("[[:") => {
                return Err(
                    "POSIX classes `[[:…:]]` are not read the same by every regex engine".into(),
                );
            }
            c if !c.is_ascii() => {
                return Err(
                    "non-ASCII characters are not read the same by every regex engine".into(),
                );
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorsConfig;

    fn policy(origins: &[&str], regexes: &[&str]) -> Policy {
        Policy::new(&CorsConfig {
            allow_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_origin_regex: regexes.iter().map(|s| s.to_string()).collect(),
            allow_methods: vec!["PUT".into()],
            allow_headers: vec!["x-a".into(), "Content-Type".into()],
            ..CorsConfig::default()
        })
        .unwrap()
    }

    /// The combined regex accepts exactly what the policy accepts, on
    /// origins a browser can send and on near misses.
    #[test]
    fn the_regex_agrees_with_the_policy() {
        let p = policy(
            &[
                "https://app.example.com",
                "https://*.example.org",
                "http://localhost:*",
                "https://*.corp.example:8443",
            ],
            &["https://pr-[0-9]+\\.preview\\.example\\.net"],
        );
        let PortableOrigins::List { regex, .. } = p.portable().origins else {
            panic!("a list")
        };
        let re = regex::Regex::new(&regex.unwrap()).unwrap();
        for origin in [
            "https://app.example.com",
            "https://app.example.com:443",
            "https://app.example.com.evil.com",
            "http://app.example.com",
            "https://a.example.org",
            "https://a.b.example.org",
            "https://example.org",
            "https://a.example.org.evil.com",
            "https://evilexample.org",
            "https://a.example.org:8443",
            "http://localhost",
            "http://localhost:3000",
            "http://localhost.evil.com:3000",
            "https://x.corp.example:8443",
            "https://x.corp.example",
            "https://pr-12.preview.example.net",
            "https://pr-12.preview.example.net.evil.com",
            "https://pr-.preview.example.net",
            "null",
        ] {
            let header = http::HeaderValue::from_str(origin).unwrap();
            let mut h = http::HeaderMap::new();
            h.insert(http::header::ORIGIN, header);
            let allowed = p.evaluate(&http::Method::GET, &h).is_allowed();
            assert_eq!(re.is_match(origin), allowed, "{origin}");
        }
    }

    #[test]
    fn header_values_are_the_policys() {
        let portable = policy(&["https://a.example"], &[]).portable();
        assert_eq!(
            portable.methods,
            PortableNames::List {
                names: vec!["PUT".into()],
                value: Some("PUT".into())
            }
        );
        let PortableNames::List { value, .. } = portable.headers else {
            panic!("a list")
        };
        assert_eq!(value.as_deref(), Some("x-a, content-type"));
        assert_eq!(portable.preflight_status, 204);
        assert_eq!(portable.vary_actual.as_deref(), Some("origin"));
    }

    #[test]
    fn unportable_regexes_are_named() {
        for bad in [
            "(?i)https://a\\.example",
            "https://\\p{L}+\\.example",
            "\\Ahttps://a",
        ] {
            let p = policy(&[], &[bad]);
            let PortableOrigins::List { regex, .. } = p.portable().origins else {
                panic!("a list")
            };
            assert!(regex.unwrap_err().contains(bad), "{bad}");
        }
        assert!(portable_syntax("https://(app|a\\.b)\\.example\\.com(:[0-9]+)?").is_ok());
    }
}
