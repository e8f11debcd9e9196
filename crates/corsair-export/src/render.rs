//! Small helpers the targets share: comments, token and list regexes, the
//! upstream URL.

use corsair::policy::escape_regex;
use corsair::{Portable, PortableNames};

use crate::{ExportError, Gap};

/// The RFC 9110 `tchar` class, for a regex; `'` and `` ` `` are written
/// `\x27` and `\x60` so that the regex fits in single quotes (HAProxy,
/// Apache) and backquotes (Caddy).
pub const TOKEN_CLASS: &str = "[!#$%&\\x27*+.^_\\x60|~0-9A-Za-z-]";

/// `text` as comment lines starting with `marker` (`#`, `//`).
pub fn comment(marker: &str, text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                format!("{marker}\n")
            } else {
                format!("{marker} {l}\n")
            }
        })
        .collect()
}

/// The approximations as comment lines, empty when there is none.
pub fn approximations(marker: &str, gaps: &[Gap]) -> String {
    if gaps.is_empty() {
        return String::new();
    }
    let mut text = String::from("APPROXIMATIONS (exported with --approximate):\n");
    for g in gaps {
        text.push_str(&format!("- {g}\n"));
    }
    comment(marker, &text)
}

/// A regex matching an allowed `Access-Control-Request-Method` value.
pub fn method_regex(portable: &Portable) -> String {
    match &portable.methods {
        PortableNames::Any => format!("^{TOKEN_CLASS}+$"),
        PortableNames::List { names, .. } => {
            let mut all: Vec<String> = ["GET", "HEAD", "POST"]
                .iter()
                .map(|m| m.to_string())
                .collect();
            for n in names {
                if !all.contains(n) {
                    all.push(n.clone());
                }
            }
            let alts: Vec<String> = all.iter().map(|m| escape_regex(m)).collect();
            format!("^(?:{})$", alts.join("|"))
        }
    }
}

/// A regex (to be matched ASCII case-insensitively) matching an allowed
/// `Access-Control-Request-Headers` value: a comma list, with optional
/// whitespace and empty items, of allowed names. It does not check the
/// length limit.
pub fn headers_regex(portable: &Portable) -> String {
    let name = match &portable.headers {
        PortableNames::Any => format!("{TOKEN_CLASS}+"),
        PortableNames::List { names, .. } if names.is_empty() => return "^[ \\t,]*$".into(),
        PortableNames::List { names, .. } => {
            let alts: Vec<String> = names.iter().map(|n| escape_regex(n)).collect();
            format!("(?:{})", alts.join("|"))
        }
    };
    format!("^[ \\t,]*(?:{name}[ \\t]*(?:,[ \\t,]*|$))*$")
}

/// The upstream a complete config proxies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `http` or `https`.
    pub scheme: String,
    /// The host, without the port (IPv6 in brackets).
    pub host: String,
    /// The port, the scheme's default when the URL has none.
    pub port: u16,
    /// `host[:port]` as written.
    pub authority: String,
}

impl Upstream {
    /// `scheme://authority`, as written.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// `host:port`, with the default port spelled out.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Whether it is reached over TLS.
    pub fn tls(&self) -> bool {
        self.scheme == "https"
    }
}

/// Parses the upstream URL.
///
/// # Errors
/// When the URL is not `http://` or `https://` with a host, an optional
/// numeric port and no path.
pub fn upstream(url: &str) -> Result<Upstream, ExportError> {
    let bad = || {
        ExportError::Unusable(format!(
            "--upstream `{url}`: give the upstream as http://HOST:PORT or https://HOST:PORT, \
             without a path"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") {
        return Err(bad());
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', ' ', '"', '\'']) {
        return Err(bad());
    }
    let default = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        // A colon inside IPv6 brackets is not a port separator.
        Some((host, port)) if !port.contains(']') => {
            (host, port.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (authority, default),
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Upstream {
        scheme: scheme.to_string(),
        host: host.to_string(),
        port,
        authority: authority.to_string(),
    })
}

/// `text` between `open` and `close` when it holds none of `forbidden`
/// (the characters the target's quoting cannot carry), else an error
/// naming `what` the text was meant to be.
pub fn enclose(
    text: &str,
    forbidden: &[char],
    open: &str,
    close: &str,
    what: &str,
) -> Result<String, ExportError> {
    if text.contains(forbidden) || text.contains('\n') {
        return Err(ExportError::Unusable(format!(
            "`{text}` cannot be written as {what}"
        )));
    }
    Ok(format!("{open}{text}{close}"))
}

/// The one route of `routes`, for targets that hold a single policy.
///
/// # Errors
/// When there are several, saying why `target_holds` one.
pub fn single<'a, 'b>(
    routes: &'a [&'b crate::Prepared<'b>],
    target_holds: &str,
) -> Result<&'a crate::Prepared<'b>, ExportError> {
    match routes {
        [r] => Ok(r),
        _ => Err(ExportError::Unusable(format!(
            "{target_holds}: export one route at a time"
        ))),
    }
}

/// The listen address as `host:port`.
///
/// # Errors
/// When it is not `HOST:PORT`.
pub fn listen_addr(listen: &str) -> Result<(String, u16), ExportError> {
    let bad = || ExportError::Unusable(format!("--listen `{listen}`: give HOST:PORT"));
    let (host, port) = listen.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || host.contains([' ', '"', '\'', ';', '{', '}']) {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// The allowed origins as a target with origin lists takes them: `["*"]`,
/// or the exact origins, the patterns as written (`https://*.example.com`)
/// and each regex anchored, in that order.
pub fn origin_list(portable: &Portable) -> (Vec<String>, Vec<String>) {
    match &portable.origins {
        corsair::PortableOrigins::Any => (vec!["*".into()], Vec::new()),
        corsair::PortableOrigins::List {
            exact,
            patterns,
            regexes,
            ..
        } => {
            let mut plain = exact.clone();
            plain.extend(patterns.iter().map(|p| p.source.clone()));
            let anchored = patterns
                .iter()
                .map(|p| format!("^{}$", p.regex()))
                .chain(regexes.iter().map(|r| format!("^(?:{r})$")))
                .collect();
            (plain, anchored)
        }
    }
}

/// The names of a list rule, or `["*"]` for any.
pub fn names(rule: &PortableNames) -> Vec<String> {
    match rule {
        PortableNames::Any => vec!["*".into()],
        PortableNames::List { names, .. } => names.clone(),
    }
}

/// A comma list header value split into its items.
pub fn items(value: &Option<String>) -> Vec<String> {
    value
        .as_deref()
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `value` as YAML after `header` comment lines.
pub fn yaml(header: &str, value: &serde_json::Value) -> Result<String, ExportError> {
    let body = serde_norway::to_string(value)
        .map_err(|e| ExportError::Unusable(format!("cannot write YAML: {e}")))?;
    Ok(format!("{header}{body}"))
}

/// `value` as pretty JSON (JSON has no comments: approximations go to
/// stderr only).
pub fn json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_get_their_default_port() {
        let u = upstream("https://api.example.com/").unwrap();
        assert_eq!(
            (u.address(), u.origin(), u.tls()),
            (
                "api.example.com:443".into(),
                "https://api.example.com".into(),
                true
            )
        );
        let u = upstream("http://127.0.0.1:3000").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 3000));
        assert_eq!(upstream("http://[::1]").unwrap().address(), "[::1]:80");
        for bad in [
            "ftp://a",
            "http://a/path",
            "http://a:port",
            "http://:80",
            "a:80",
        ] {
            assert!(upstream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enclose_refuses_what_the_quoting_cannot_carry() {
        assert_eq!(enclose("a b", &['"'], "\"", "\"", "x").unwrap(), "\"a b\"");
        assert!(enclose("a\"b", &['"'], "\"", "\"", "x").is_err());
        assert!(enclose("a\nb", &[], "'", "'", "x").is_err());
    }
}
