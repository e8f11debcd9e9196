//! The misconfiguration classes a scan reports, with stable ids, and the
//! severity scale.

use serde::Serialize;

/// A kind of CORS misconfiguration. The kebab-case id is stable: it is the
/// `class` in JSON and the rule id in SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Any origin is reflected in `Access-Control-Allow-Origin`.
    ReflectAnyOrigin,
    /// `Origin: null` is allowed.
    NullOrigin,
    /// `Access-Control-Allow-Origin: *`: informational, raised when the
    /// response is sensitive (sets cookies, or was reached with credentials).
    WildcardOrigin,
    /// `https://TARGET.evil.example` is allowed (prefix match).
    PostDomain,
    /// `https://evilTARGET` is allowed (suffix match).
    PreDomain,
    /// A substring of the domain is allowed (`contains`-style match).
    SubstringMatch,
    /// A dot of the host matched any character (unescaped regex dot).
    UnescapedDot,
    /// Any subdomain is trusted.
    AnySubdomain,
    /// An `http://` origin is trusted by an `https` resource.
    InsecureOrigin,
    /// A host where anyone can publish pages is trusted.
    ThirdPartyHost,
    /// Characters some browsers accept in hosts end the matched part early.
    SpecialCharBypass,
    /// A localhost origin is trusted on a production host.
    LocalhostOrigin,
    /// `Access-Control-Allow-Origin` is not a value browsers accept.
    InvalidAcao,
    /// An origin-dependent answer without `Vary: Origin` (cache poisoning).
    MissingVary,
    /// The preflight echoes any method or header without checking it.
    PreflightReflectsAnything,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 15] = [
        Class::ReflectAnyOrigin,
        Class::NullOrigin,
        Class::WildcardOrigin,
        Class::PostDomain,
        Class::PreDomain,
        Class::SubstringMatch,
        Class::UnescapedDot,
        Class::AnySubdomain,
        Class::InsecureOrigin,
        Class::ThirdPartyHost,
        Class::SpecialCharBypass,
        Class::LocalhostOrigin,
        Class::InvalidAcao,
        Class::MissingVary,
        Class::PreflightReflectsAnything,
    ];

    /// The stable id (`reflect-any-origin`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Class::ReflectAnyOrigin => "reflect-any-origin",
            Class::NullOrigin => "null-origin",
            Class::WildcardOrigin => "wildcard-origin",
            Class::PostDomain => "post-domain",
            Class::PreDomain => "pre-domain",
            Class::SubstringMatch => "substring-match",
            Class::UnescapedDot => "unescaped-dot",
            Class::AnySubdomain => "any-subdomain",
            Class::InsecureOrigin => "insecure-origin",
            Class::ThirdPartyHost => "third-party-host",
            Class::SpecialCharBypass => "special-char-bypass",
            Class::LocalhostOrigin => "localhost-origin",
            Class::InvalidAcao => "invalid-acao",
            Class::MissingVary => "missing-vary",
            Class::PreflightReflectsAnything => "preflight-reflects-anything",
        }
    }

    /// One line: what is wrong.
    pub fn title(self) -> &'static str {
        match self {
            Class::ReflectAnyOrigin => "Any origin is allowed (the Origin header is reflected)",
            Class::NullOrigin => "The `null` origin is allowed",
            Class::WildcardOrigin => "Any origin may read the response (`*`)",
            Class::PostDomain => "Origins that merely start with the site's domain are allowed",
            Class::PreDomain => "Origins that merely end with the site's domain are allowed",
            Class::SubstringMatch => "Origins that merely contain part of the domain are allowed",
            Class::UnescapedDot => "A dot in the allowlist matches any character",
            Class::AnySubdomain => "Every subdomain is trusted",
            Class::InsecureOrigin => "An http:// origin is trusted by an https resource",
            Class::ThirdPartyHost => "A host where anyone can publish pages is trusted",
            Class::SpecialCharBypass => "Special characters in the host bypass the allowlist",
            Class::LocalhostOrigin => "localhost origins are trusted on a production host",
            Class::InvalidAcao => "Access-Control-Allow-Origin has a value browsers reject",
            Class::MissingVary => "Origin-dependent answer without Vary: Origin",
            Class::PreflightReflectsAnything => "The preflight allows whatever it is asked",
        }
    }

    /// How an attacker uses it, in one sentence.
    pub fn exploit(self) -> &'static str {
        match self {
            Class::ReflectAnyOrigin => "Any web page the victim visits can read this resource in the victim's name.",
            Class::NullOrigin => "Any page can send `Origin: null` from a sandboxed iframe and read the resource.",
            Class::WildcardOrigin => "Any page can read the response; data that needed authentication here is exposed to anyone who can reach it without (for instance from inside the network).",
            Class::PostDomain => "The attacker registers a domain such as TARGET.evil.example and reads the resource from it.",
            Class::PreDomain => "The attacker registers a domain ending in the site's name (evilexample.com) and reads the resource from it.",
            Class::SubstringMatch => "The attacker registers a domain containing part of the site's name and reads the resource from it.",
            Class::UnescapedDot => "The attacker registers a domain where a dot is replaced by a letter (apixexample.com) and reads the resource.",
            Class::AnySubdomain => "Any XSS or subdomain takeover on any subdomain becomes a way to read this resource.",
            Class::InsecureOrigin => "An attacker on the network path injects script into the http:// page and reads the https resource.",
            Class::ThirdPartyHost => "The attacker publishes a page on the trusted hosting service and reads the resource from it.",
            Class::SpecialCharBypass => "The attacker registers a domain like TARGET_.evil.example, which Safari or Chromium accept, and reads the resource.",
            Class::LocalhostOrigin => "Any program or page served on the victim's localhost (a dev server, a malicious package) can read the resource.",
            Class::InvalidAcao => "Browsers block the response, so legitimate pages fail; the header shows the allowlist is built by hand.",
            Class::MissingVary => "A shared cache stores the answer for one origin and serves it to another: an attacker can poison the cache or break legitimate pages.",
            Class::PreflightReflectsAnything => "Every method and header passes the preflight, so the preflight protects nothing beyond the origin check.",
        }
    }
}

/// How much an attacker gains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing to gain by itself (`*` on a response that
    /// shows nothing sensitive).
    Info,
    /// Little to gain or needs much more.
    Low,
    /// Needs another foothold (a subdomain XSS, a network position, a cache).
    Medium,
    /// Readable with credentials from a domain an attacker can register.
    High,
    /// Readable with credentials from any page.
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}
