//! Turning probe responses into findings.
//!
//! Whether a probe origin can read a response is decided by the browser
//! model's CORS check (Fetch §4.9), once with credentials mode `include` and
//! once with `omit`: the credentials factor decides the severity.

use corsair::browser::check::cors_check;
use corsair::browser::Credentials;
use http::header::{self, HeaderMap};
use serde::Serialize;

use super::class::{Class, Severity};

/// One request sent and the response head received, as evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// `GET` or `OPTIONS`.
    pub method: String,
    /// The request headers that matter (Origin, Access-Control-Request-*).
    pub request_headers: Vec<[String; 2]>,
    /// The response status.
    pub status: u16,
    /// The response's CORS-relevant headers (Access-Control-*, Vary).
    pub response_headers: Vec<[String; 2]>,
}

impl Evidence {
    /// Builds evidence from a request and a response, keeping only the
    /// headers that prove something.
    pub fn new(method: &str, request: &HeaderMap, status: u16, response: &HeaderMap) -> Self {
        Evidence {
            method: method.to_string(),
            request_headers: relevant(request),
            status,
            response_headers: relevant(response),
        }
    }
}

fn relevant(headers: &HeaderMap) -> Vec<[String; 2]> {
    headers
        .iter()
        .filter(|(n, _)| {
            let n = n.as_str();
            n == "origin" || n == "vary" || n.starts_with("access-control-")
        })
        .map(|(n, v)| {
            [
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ]
        })
        .collect()
}

/// One misconfiguration found on a target.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The stable class id.
    pub class: Class,
    /// How much an attacker gains.
    pub severity: Severity,
    /// The probe origin that proved it (or the origin used for the check).
    pub origin: String,
    /// Whether the response is readable with credentials (cookies) by that origin.
    pub credentials: bool,
    /// Why this severity, in one sentence.
    pub why: String,
    /// The attack in one sentence.
    pub exploit: String,
    /// The fix in words, and a corrected corsair policy.
    pub fix: String,
    /// The probe request and the response headers that prove it.
    pub evidence: Evidence,
    /// Other probe origins that succeeded for the same root cause.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// What a probe's responses allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not readable.
    None,
    /// Readable without credentials only.
    Anonymous,
    /// Readable with credentials.
    Credentialed,
}

/// What the CORS check says about `headers` for `origin`: `*` counts as
/// anonymous access for any origin, so it is reported separately.
pub fn access(headers: &HeaderMap, origin: &str) -> Access {
    if cors_check(headers, Credentials::Include, origin).is_ok() {
        Access::Credentialed
    } else if cors_check(headers, Credentials::Omit, origin).is_ok() {
        Access::Anonymous
    } else {
        Access::None
    }
}

/// Whether the response names the origin itself (rather than `*`).
pub fn reflects(headers: &HeaderMap, origin: &str) -> bool {
    headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_some_and(|v| v.as_bytes() == origin.as_bytes())
}

/// The severity of an origin class given the access it grants.
pub fn origin_severity(class: Class, access: Access, via_preflight_only: bool) -> Option<Severity> {
    let with_credentials = match class {
        Class::ReflectAnyOrigin | Class::NullOrigin => Severity::Critical,
        Class::PostDomain
        | Class::PreDomain
        | Class::SubstringMatch
        | Class::UnescapedDot
        | Class::SpecialCharBypass
        | Class::ThirdPartyHost => Severity::High,
        Class::AnySubdomain | Class::InsecureOrigin | Class::LocalhostOrigin => Severity::Medium,
        _ => return None,
    };
    let sev = match access {
        Access::None => return None,
        Access::Credentialed => with_credentials,
        Access::Anonymous => Severity::Low,
    };
    // A preflight that lets the origin through without the response being
    // readable still lets the attacker send non-simple requests.
    Some(if via_preflight_only {
        sev.min(Severity::Medium)
    } else {
        sev
    })
}

/// The sentence explaining the severity.
pub fn why(access: Access, via_preflight_only: bool) -> String {
    match (access, via_preflight_only) {
        (_, true) => "The preflight lets this origin send non-simple requests (any method and headers it asks for), with credentials if allowed, although the response of the simple probe was not readable.".into(),
        (Access::Credentialed, _) => "The response allows credentials, so the origin reads it with the victim's cookies.".into(),
        (Access::Anonymous, _) => "The response is readable without credentials only: the attacker gets what an anonymous visitor gets.".into(),
        (Access::None, _) => String::new(),
    }
}

/// Problems with the `Access-Control-Allow-Origin` header itself: several
/// headers, a list, a pattern, or `*` together with credentials.
pub fn invalid_acao(headers: &HeaderMap) -> Option<String> {
    let values: Vec<_> = headers
        .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .collect();
    if values.len() > 1 {
        return Some(format!(
            "{} Access-Control-Allow-Origin headers; browsers accept exactly one",
            values.len()
        ));
    }
    let value = String::from_utf8_lossy(values.first()?.as_bytes()).into_owned();
    if value == "*" {
        let creds = headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_some_and(|v| v.as_bytes() == b"true");
        return creds.then(|| "`*` together with Access-Control-Allow-Credentials: true, which browsers reject for credentialed requests".to_string());
    }
    if value.contains(',') || value.contains(' ') {
        return Some(format!("`{value}` is a list; browsers accept one origin"));
    }
    if value.contains('*') {
        return Some(format!(
            "`{value}` is a pattern; browsers compare the value byte for byte with the origin"
        ));
    }
    if value != "null" && corsair::OriginRef::parse(&value).is_err() {
        return Some(format!(
            "`{value}` is not an origin as browsers serialize it"
        ));
    }
    None
}

/// Whether `Vary` lists `Origin` (or is `*`).
pub fn varies_on_origin(headers: &HeaderMap) -> bool {
    headers.get_all(header::VARY).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .map(|s| String::from_utf8_lossy(s).trim().to_ascii_lowercase())
            .any(|s| s == "origin" || s == "*")
    })
}

/// The fix for a class, with a corrected corsair policy for the target.
/// The `allow_origins` value for a fix: the `--trusted` origins, or a
/// placeholder page origin under the site's registrable domain, marked as such.
pub fn pages_toml(trusted: &[String], registrable: &str) -> String {
    if trusted.is_empty() {
        format!("[\"https://app.{registrable}\"]   # the origins of your own pages")
    } else {
        let quoted: Vec<String> = trusted.iter().map(|t| format!("{t:?}")).collect();
        format!("[{}]", quoted.join(", "))
    }
}

/// The fix for a class in words, with a corsair policy whose
/// `allow_origins` is `pages` (see [`pages_toml`]).
pub fn fix(class: Class, pages: &str, credentials: bool) -> String {
    let creds = if credentials {
        "\nallow_credentials = true"
    } else {
        ""
    };
    let policy = format!("[cors]\nallow_origins = {pages}{creds}");
    let words = match class {
        Class::ReflectAnyOrigin | Class::PostDomain | Class::PreDomain | Class::SubstringMatch | Class::SpecialCharBypass => {
            "Compare the whole Origin value byte for byte against an explicit allowlist; never reflect it, and never match with startsWith, endsWith, contains or an unanchored regex."
        }
        Class::NullOrigin => "Never allow `null`: remove it from the allowlist.",
        Class::UnescapedDot => "Escape every dot in origin regexes (`\\.`) and anchor them, or list exact origins.",
        Class::AnySubdomain => "Allow only the subdomains that serve your pages, by name.",
        Class::InsecureOrigin => "Allow only https:// origins.",
        Class::ThirdPartyHost => "Remove hosts where anyone can publish pages from the allowlist.",
        Class::LocalhostOrigin => "Allow localhost origins only in development configurations, not in production.",
        Class::InvalidAcao => "Send exactly one Access-Control-Allow-Origin with the one matching origin (or `*` without credentials).",
        Class::MissingVary => "Send `Vary: Origin` on every response whose CORS headers depend on the Origin (corsair does this for you).",
        Class::PreflightReflectsAnything => "Answer preflights with the methods and headers you support, and refuse the others (corsair checks each one).",
        Class::WildcardOrigin => "Do not send `*` on authenticated resources: list the origins you trust.",
    };
    format!("{words}\nA corsair policy that does it:\n{policy}")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_util::headers as h;

    #[test]
    fn access_levels() {
        let o = "https://evil.example";
        assert_eq!(
            access(
                &h(&[
                    ("access-control-allow-origin", o),
                    ("access-control-allow-credentials", "true")
                ]),
                o
            ),
            Access::Credentialed
        );
        assert_eq!(
            access(&h(&[("access-control-allow-origin", o)]), o),
            Access::Anonymous
        );
        assert_eq!(
            access(&h(&[("access-control-allow-origin", "*")]), o),
            Access::Anonymous
        );
        assert_eq!(
            access(
                &h(&[("access-control-allow-origin", "https://other.example")]),
                o
            ),
            Access::None
        );
        assert_eq!(access(&h(&[]), o), Access::None);
    }

    #[test]
    fn invalid_values() {
        assert!(invalid_acao(&h(&[(
            "access-control-allow-origin",
            "https://a.com, https://b.com"
        )]))
        .is_some());
        assert!(invalid_acao(&h(&[("access-control-allow-origin", "*.example.com")])).is_some());
        assert!(invalid_acao(&h(&[
            ("access-control-allow-origin", "https://a.com"),
            ("access-control-allow-origin", "https://a.com")
        ]))
        .is_some());
        assert!(invalid_acao(&h(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true")
        ]))
        .is_some());
        assert!(invalid_acao(&h(&[("access-control-allow-origin", "https://a.com/")])).is_some());
        assert!(invalid_acao(&h(&[("access-control-allow-origin", "*")])).is_none());
        assert!(invalid_acao(&h(&[("access-control-allow-origin", "https://a.com")])).is_none());
        assert!(invalid_acao(&h(&[])).is_none());
    }

    #[test]
    fn vary() {
        assert!(varies_on_origin(&h(&[("vary", "Accept-Encoding, Origin")])));
        assert!(varies_on_origin(&h(&[
            ("vary", "accept"),
            ("vary", "origin")
        ])));
        assert!(varies_on_origin(&h(&[("vary", "*")])));
        assert!(!varies_on_origin(&h(&[("vary", "accept-encoding")])));
    }

    #[test]
    fn severities() {
        assert_eq!(
            origin_severity(Class::ReflectAnyOrigin, Access::Credentialed, false),
            Some(Severity::Critical)
        );
        assert_eq!(
            origin_severity(Class::PostDomain, Access::Credentialed, false),
            Some(Severity::High)
        );
        assert_eq!(
            origin_severity(Class::PostDomain, Access::Anonymous, false),
            Some(Severity::Low)
        );
        assert_eq!(
            origin_severity(Class::ReflectAnyOrigin, Access::Credentialed, true),
            Some(Severity::Medium)
        );
        assert_eq!(
            origin_severity(Class::AnySubdomain, Access::None, false),
            None
        );
    }
}
