//! The probe origins of a scan, derived from the target's own host and from
//! its registrable domain (Public Suffix List), one list per finding class.
//!
//! Each probe stands for one way an allowlist is commonly got wrong; if the
//! server lets the probe origin read its response, the class is a finding.

use super::class::Class;

/// One origin to send, and the class it tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The class a successful probe proves.
    pub class: Class,
    /// The `Origin` header value.
    pub origin: String,
}

/// Hosts where anyone can publish a page (third-party dev and hosting
/// services): trusting them trusts every user of the service.
pub const THIRD_PARTY_ORIGINS: [&str; 8] = [
    "https://codepen.io",
    "https://cdpn.io",
    "https://jsfiddle.net",
    "https://fiddle.jshell.net",
    "https://corsair-probe.github.io",
    "https://corsair-probe.netlify.app",
    "https://corsair-probe.vercel.app",
    "https://corsair-probe.herokuapp.com",
];

/// Characters that some browsers accept in hosts (Safari accepts the
/// backtick and braces) and that sloppy regexes treat as the end of a host.
pub const SPECIAL_CHARS: [char; 12] = ['_', '-', '~', '`', '!', '$', '&', '\'', '+', ',', ';', '='];

/// The attacker-controlled domain used in probes (`.example` is reserved, RFC 2606).
pub const EVIL: &str = "evil.example";

/// The probes for a target `scheme://host`, deduplicated, in class order.
/// `trusted` origins (the ones the site means to allow) are never probes.
pub fn derive(scheme: &str, host: &str, trusted: &[String]) -> Vec<Probe> {
    let registrable = psl::domain_str(host).unwrap_or(host);
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    let is_loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "[::1]";
    let mut out: Vec<Probe> = Vec::new();
    let mut push = |class: Class, origin: String| {
        if !trusted.contains(&origin) && !out.iter().any(|p| p.origin == origin) {
            out.push(Probe { class, origin });
        }
    };
    push(Class::ReflectAnyOrigin, format!("https://{EVIL}"));
    push(Class::NullOrigin, "null".into());
    // A probe host that is a real subdomain of the site's registrable domain
    // proves only that subdomains are trusted, so such hosts are kept out of
    // the other classes.
    let under_site = |h: &str| h == registrable || h.ends_with(&format!(".{registrable}"));
    if !is_ip {
        for base in [host, registrable] {
            push(Class::PostDomain, format!("https://{base}.{EVIL}"));
        }
        push(Class::PreDomain, format!("https://evil{registrable}"));
        // Substrings: the registrable domain (and host) cut at either end.
        for base in [registrable, host] {
            if base.len() > 3 {
                for cut in [&base[1..], &base[..base.len() - 1]] {
                    if !under_site(cut) {
                        push(Class::SubstringMatch, format!("https://{cut}"));
                    }
                }
            }
        }
        // Unescaped dots: each dot of the host replaced by a letter.
        for (i, _) in host.match_indices('.') {
            let mut s = host.to_string();
            s.replace_range(i..i + 1, "x");
            push(Class::UnescapedDot, format!("https://{s}"));
        }
        push(Class::AnySubdomain, format!("https://evil.{host}"));
        if registrable != host {
            push(Class::AnySubdomain, format!("https://evil.{registrable}"));
        }
        for c in SPECIAL_CHARS {
            push(
                Class::SpecialCharBypass,
                format!("https://{host}{c}.{EVIL}"),
            );
        }
    }
    if scheme == "https" {
        push(Class::InsecureOrigin, format!("http://{host}"));
        if registrable != host && !is_ip {
            push(Class::InsecureOrigin, format!("http://{registrable}"));
        }
    }
    for o in THIRD_PARTY_ORIGINS {
        push(Class::ThirdPartyHost, o.to_string());
    }
    if !is_loopback {
        for o in [
            "http://localhost",
            "http://localhost:3000",
            "http://127.0.0.1",
            "http://127.0.0.1:8080",
        ] {
            push(Class::LocalhostOrigin, o.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_for_a_subdomain_api() {
        let probes = derive("https", "api.example.com", &[]);
        let has = |class: Class, origin: &str| {
            probes
                .iter()
                .any(|p| p.class == class && p.origin == origin)
        };
        assert!(has(Class::ReflectAnyOrigin, "https://evil.example"));
        assert!(has(Class::NullOrigin, "null"));
        assert!(has(
            Class::PostDomain,
            "https://api.example.com.evil.example"
        ));
        assert!(has(Class::PostDomain, "https://example.com.evil.example"));
        assert!(has(Class::PreDomain, "https://evilexample.com"));
        assert!(probes
            .iter()
            .all(|p| p.origin != "https://evilapi.example.com"));
        assert!(probes.iter().all(|p| p.origin != "https://pi.example.com"));
        assert!(has(Class::SubstringMatch, "https://xample.com"));
        assert!(has(Class::SubstringMatch, "https://example.co"));
        assert!(has(Class::UnescapedDot, "https://apixexample.com"));
        assert!(has(Class::UnescapedDot, "https://api.examplexcom"));
        assert!(has(Class::AnySubdomain, "https://evil.api.example.com"));
        assert!(has(Class::AnySubdomain, "https://evil.example.com"));
        assert!(has(Class::InsecureOrigin, "http://api.example.com"));
        assert!(has(Class::InsecureOrigin, "http://example.com"));
        assert!(has(
            Class::SpecialCharBypass,
            "https://api.example.com_.evil.example"
        ));
        assert!(has(Class::ThirdPartyHost, "https://codepen.io"));
        assert!(has(Class::LocalhostOrigin, "http://localhost:3000"));
        let mut origins: Vec<_> = probes.iter().map(|p| &p.origin).collect();
        let n = origins.len();
        origins.dedup();
        assert_eq!(origins.len(), n);
    }

    #[test]
    fn trusted_origins_are_never_probes() {
        let trusted = vec!["https://evil.api.example.com".to_string()];
        let probes = derive("https", "api.example.com", &trusted);
        assert!(probes.iter().all(|p| p.origin != trusted[0]));
    }

    #[test]
    fn plain_http_targets_and_ips() {
        let probes = derive("http", "127.0.0.1", &[]);
        assert!(probes.iter().all(|p| p.class != Class::InsecureOrigin));
        assert!(probes.iter().all(|p| p.class != Class::LocalhostOrigin));
        assert!(probes.iter().all(|p| p.class != Class::PostDomain));
    }
}
