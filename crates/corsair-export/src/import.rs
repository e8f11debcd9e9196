//! Reading a target's configuration back into `[cors]` tables, with the
//! traps found on the way, so an existing config can be audited offline.
//!
//! Structured formats (Envoy, Traefik, Kong, Gateway API, S3, API Gateway)
//! are read field by field, one route per route or rule. The four proxies'
//! configs are read directive by directive: every line that sets an
//! `Access-Control-*` response header, and every condition that tests the
//! request's `Origin` (a map key, an ACL, a matcher, an expression), each
//! finding with its line. An origin echoed without such a condition
//! reflects every origin.

use std::fmt;

use corsair::{CorsConfig, Policy, Severity};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::{Route, Target};

/// Something worth knowing about an imported config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The line it comes from (1-based), when the format has lines.
    pub line: Option<usize>,
    /// Error (the config is unsafe or invalid) or warning.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(line) => write!(f, "line {line}: {level}: {}", self.message),
            None => write!(f, "{level}: {}", self.message),
        }
    }
}

/// What [`import`] read.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// One route per route or rule of the config.
    pub routes: Vec<Route>,
    /// The traps found, and every problem `corsair validate` finds in each
    /// route's policy.
    pub findings: Vec<Finding>,
}

impl Imported {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Why a config could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read this {target} config: {message}")]
pub struct ImportError {
    /// The format.
    pub target: Target,
    /// What is wrong.
    pub message: String,
}

fn error(target: Target, message: impl Into<String>) -> ImportError {
    ImportError {
        target,
        message: message.into(),
    }
}

/// Reads `text`, a `target` configuration.
///
/// # Errors
/// When the text is not that format at all, or sets no CORS header.
pub fn import(target: Target, text: &str) -> Result<Imported, ImportError> {
    let mut findings = Vec::new();
    let routes = match target {
        Target::Nginx | Target::Haproxy | Target::Caddy | Target::Apache => {
            vec![directives::read(target, text, &mut findings)?]
        }
        _ => {
            let value: Value = serde_norway::from_str(text)
                .map_err(|e| error(target, format!("not YAML or JSON: {e}")))?;
            structured::read(target, &value, &mut findings)?
        }
    };
    for route in &routes {
        match Policy::new(&route.cors) {
            Ok(policy) => findings.extend(policy.warnings().iter().map(|p| Finding {
                line: None,
                severity: p.severity,
                message: format!("{}: {p}", route.name),
            })),
            Err(errors) => findings.extend(errors.problems.iter().map(|p| Finding {
                line: None,
                severity: p.severity,
                message: format!("{}: {p}", route.name),
            })),
        }
    }
    Ok(Imported { routes, findings })
}

/// Strips the anchors a target needs (`^(?:…)$`, `^…$`) from a regex, and
/// says whether it was anchored at both ends.
fn unanchor(regex: &str) -> (String, bool) {
    let r = regex.trim();
    if let Some(inner) = r.strip_prefix("^(?:").and_then(|s| s.strip_suffix(")$")) {
        return (inner.to_string(), true);
    }
    match (r.strip_prefix('^'), r.ends_with('$') && !r.ends_with("\\$")) {
        (Some(rest), true) => (rest[..rest.len() - 1].to_string(), true),
        _ => (r.to_string(), false),
    }
}

/// The `allow_origins` pattern a regex written by `export` stands for
/// (`PortablePattern::regex`), if it is one.
fn pattern_of(regex: &str) -> Option<String> {
    static SHAPE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r"^(https?)://\(\?:\[a-z0-9_-\]\{1,63\}\\\.\)\+((?:[a-z0-9_-]|\\[.-])+)(?::([0-9]+)|(\(\?::\[0-9\]\{1,5\}\)\?))?$",
        )
        .ok()
    });
    let shape = SHAPE.as_ref()?;
    let c = shape.captures(regex)?;
    let host = c[2].replace('\\', "");
    let port = match (c.get(3), c.get(4)) {
        (Some(p), _) => format!(":{}", p.as_str()),
        (None, Some(_)) => ":*".into(),
        _ => String::new(),
    };
    Some(format!("{}://*.{host}{port}", &c[1]))
}

/// The top-level alternatives of a regex (`a|b(c|d)` is `a`, `b(c|d)`).
fn alternatives(regex: &str) -> Vec<String> {
    let (mut depth, mut class, mut escaped) = (0i32, false, false);
    let mut parts = vec![String::new()];
    for c in regex.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if class {
            class = c != ']';
        } else {
            match c {
                '[' => class = true,
                '(' => depth += 1,
                ')' => depth -= 1,
                '|' if depth == 0 => {
                    parts.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// Whether the parentheses of `regex` balance (so a `(?:…)` around it is one
/// group).
fn balanced(regex: &str) -> bool {
    let (mut depth, mut escaped) = (0i32, false);
    for c in regex.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '(') => depth += 1,
            (false, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The origin an escaped literal regex stands for (`https\:\/\/a\.com`).
fn literal(regex: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if !next.is_ascii_punctuation() {
                    return None;
                }
                out.push(next);
            }
            c if c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_') => out.push(c),
            _ => return None,
        }
    }
    out.contains("://").then_some(out)
}

/// Adds an origin regex, with a finding when it was not anchored.
fn add_regex(cors: &mut CorsConfig, regex: &str, line: Option<usize>, findings: &mut Vec<Finding>) {
    let (inner, anchored) = unanchor(regex);
    if anchored {
        let parts = alternatives(&inner);
        if parts.len() > 1 {
            for part in parts {
                add_regex(cors, &format!("^{part}$"), line, findings);
            }
            return;
        }
        if let Some(pattern) = pattern_of(&inner) {
            push_unique(&mut cors.allow_origins, vec![pattern]);
            return;
        }
        if let Some(origin) = literal(&inner) {
            push_unique(&mut cors.allow_origins, vec![origin]);
            return;
        }
        if let Some(group) = inner.strip_prefix("(?:").and_then(|g| g.strip_suffix(')')) {
            if alternatives(group).len() == 1 && balanced(group) {
                push_unique(&mut cors.allow_origin_regex, vec![group.to_string()]);
                return;
            }
        }
    }
    if !anchored {
        findings.push(Finding {
            line,
            severity: Severity::Error,
            message: format!(
                "the origin regex `{regex}` is not anchored at both ends, so it also matches \
                 origins that merely contain it (`https://evil.com/?{}`-like hosts such as \
                 `{}.evil.com`): write `^…$`",
                inner, inner
            ),
        });
    }
    if !cors.allow_origin_regex.contains(&inner) {
        cors.allow_origin_regex.push(inner);
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !into.contains(&i) {
            into.push(i);
        }
    }
}

mod directives {
    //! The four proxies, line by line.

    use super::*;

    /// A value that echoes a request header, by target syntax.
    fn echoes(value: &str, header: &str) -> bool {
        let v = value.to_ascii_lowercase();
        let h = header.to_ascii_lowercase();
        let nginx = format!("$http_{}", h.replace('-', "_"));
        v.contains(&nginx)
            || v.contains(&format!("%{{{h}}}i"))
            || v.contains(&format!(":{h}}}"))
            || v.contains(&format!("hdr({h})"))
            || v.contains(&format!("header.{h}}}"))
            || (h == "origin" && v.contains("txn.corsair_origin"))
    }

    /// The regexes the directive reader uses, compiled once.
    struct Patterns {
        /// `NAME VALUE` of a response header set by a line, whatever the
        /// target's keyword.
        setter: Regex,
        /// Caddy's `header @m {` blocks hold `Name value` lines.
        block_line: Regex,
        /// Conditions on Origin: a regex after `~`, `~*`, `-m reg`, `=~`,
        /// `.matches(`, `header_regexp Origin`, `SetEnvIf Origin`.
        origin_regex: Regex,
        /// nginx: a `map $http_origin` block, and its regex keys.
        map_start: Regex,
        map_key: Regex,
        /// HAProxy: exact origins in an ACL.
        origin_exact: Regex,
    }

    fn patterns() -> Result<&'static Patterns, String> {
        static PATTERNS: LazyLock<Result<Patterns, String>> = LazyLock::new(|| {
            let re = |p: &str| Regex::new(p).map_err(|e| e.to_string());
            Ok(Patterns {
                setter: re(
                    r#"(?i)(?:add_header|set-header|add-header|\bhdr|header(?:\s+@\S+)?|Header\s+(?:always\s+)?(?:set|add|append|merge))\s+['"]?(access-control-[a-z-]+|vary)['"]?\s+("(?:[^"\\]|\\.)*"|'[^']*'|[^\s;{}]+)"#,
                )?,
                block_line: re(r#"(?i)^\s*(access-control-[a-z-]+)\s+("[^"]*"|\S+)\s*$"#)?,
                origin_regex: re(r#"(?ix)
            \$http_origin\s*~\*?\s*"([^"]+)"
            | \$http_origin\s*~\*?\s*([^"\s]\S*)\s*\)\s*\{
            | (?:req\.f?hdr\(origin\)\s+-m\s+reg\s+(?:-i\s+)?)['"]?([^'"\s]+)
            | (?:origin\}?\s*=~\s*)(?:m;([^;]+);|/([^/]+)/|m\#([^\#]+)\#)
            | (?:header\.origin\}\.matches\(r?")([^"]+)"
            | (?:header_regexp\s+(?:\S+\s+)?origin\s+)(\S+)
            | (?:setenvif(?:nocase)?\s+origin\s+)"?([^"\s]+)"?"#)?,
                map_start: re(r"^\s*map\s+\$http_origin\s+\S+\s*\{")?,
                map_key: re(r#"^\s*"?~\*?([^"\s]+)"?\s+(\S+?);"#)?,
                origin_exact: re(
                    r#"(?i)req\.f?hdr\(origin\)\s+(?:-m\s+str\s+)?((?:https?://\S+\s*)+)"#,
                )?,
            })
        });
        PATTERNS.as_ref().map_err(Clone::clone)
    }

    pub(super) fn read(
        target: Target,
        text: &str,
        findings: &mut Vec<Finding>,
    ) -> Result<Route, ImportError> {
        let Patterns {
            setter,
            block_line,
            origin_regex,
            map_start,
            map_key,
            origin_exact,
        } = patterns().map_err(|e| error(target, e))?;
        let mut in_origin_map = false;

        let variables = if target == Target::Nginx {
            nginx_map_values(text)
        } else {
            Default::default()
        };
        let mut cors = CorsConfig::default();
        let mut reflects: Option<usize> = None;
        let mut restricted = false;
        let mut in_header_block = false;
        let mut any = false;
        for (i, raw_line) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw_line.trim();
            if line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            if target == Target::Caddy {
                if line.starts_with("header") && line.ends_with('{') {
                    in_header_block = true;
                    continue;
                }
                if in_header_block && line == "}" {
                    in_header_block = false;
                    continue;
                }
            }
            if map_start.is_match(raw_line) {
                in_origin_map = true;
                continue;
            }
            if in_origin_map {
                if line == "}" {
                    in_origin_map = false;
                } else if let Some(c) = map_key.captures(raw_line) {
                    if !matches!(&c[2], "\"\"" | "''" | "0") {
                        add_regex(&mut cors, &c[1], Some(n), findings);
                        restricted = true;
                    }
                }
                continue;
            }
            for c in origin_regex.captures_iter(raw_line) {
                let re = [1, 2, 3, 4, 5, 6, 7, 8, 9]
                    .iter()
                    .find_map(|g| c.get(*g))
                    .map(|m| m.as_str().to_string());
                if let Some(re) = re {
                    add_regex(&mut cors, &re, Some(n), findings);
                    restricted = true;
                }
            }
            if let Some(c) = origin_exact.captures(raw_line) {
                for o in c[1].split_whitespace() {
                    push_unique(
                        &mut cors.allow_origins,
                        vec![o.trim_matches(['\'', '"']).to_string()],
                    );
                }
                restricted = true;
            }
            let mut sets = Vec::new();
            for c in setter.captures_iter(raw_line) {
                sets.push((c[1].to_ascii_lowercase(), c[2].to_string()));
            }
            if in_header_block {
                if let Some(c) = block_line.captures(raw_line) {
                    sets.push((c[1].to_ascii_lowercase(), c[2].to_string()));
                }
            }
            for (name, value) in sets {
                let value = value
                    .trim_matches(['"', '\''])
                    .trim_start_matches("expr=")
                    .to_string();
                // An nginx variable set by a map: the value it can take.
                let value = match variables.get(value.as_str()) {
                    Some(Some(v)) => v.clone(),
                    Some(None) => continue,
                    None => value,
                };
                any |= name.starts_with("access-control-");
                match name.as_str() {
                    "access-control-allow-origin" => {
                        if value == "*" {
                            push_unique(&mut cors.allow_origins, vec!["*".into()]);
                        } else if echoes(&value, "origin") {
                            reflects.get_or_insert(n);
                        } else if value.contains("://") || value == "null" {
                            push_unique(&mut cors.allow_origins, vec![value]);
                        }
                    }
                    "access-control-allow-credentials" => {
                        cors.allow_credentials |= value.eq_ignore_ascii_case("true");
                    }
                    "access-control-allow-methods" => {
                        if echoes(&value, "access-control-request-method") {
                            cors.allow_methods = vec!["*".into()];
                        } else {
                            push_unique(&mut cors.allow_methods, list(&value));
                        }
                    }
                    "access-control-allow-headers" => {
                        if echoes(&value, "access-control-request-headers") {
                            cors.allow_headers = vec!["*".into()];
                        } else {
                            push_unique(&mut cors.allow_headers, list(&value));
                        }
                    }
                    "access-control-expose-headers" => {
                        push_unique(&mut cors.expose_headers, list(&value))
                    }
                    "access-control-max-age" => {
                        if let Ok(age) = value.parse::<i64>() {
                            cors.max_age = Some(age);
                        }
                    }
                    "access-control-allow-private-network" => {
                        cors.allow_private_network |= value.eq_ignore_ascii_case("true");
                    }
                    _ => {}
                }
            }
            if let Some(status) = preflight_status(target, line) {
                if status != 204 && (200..300).contains(&status) {
                    cors.preflight_status = Some(status);
                }
            }
        }
        if !any {
            return Err(error(target, "it sets no Access-Control-* response header"));
        }
        if let Some(line) = reflects {
            if !restricted {
                findings.push(Finding {
                    line: Some(line),
                    severity: Severity::Error,
                    message: format!(
                        "Access-Control-Allow-Origin echoes the request's Origin with no condition \
                         on it: every site is allowed{}. List the origins you trust",
                        if cors.allow_credentials {
                            ", with your users' cookies (any site can read their data)"
                        } else {
                            ""
                        }
                    ),
                });
                push_unique(&mut cors.allow_origins, vec!["*".into()]);
            }
        }
        Ok(Route::whole_site(cors))
    }

    /// nginx `map` blocks and `set` lines: each variable's first non-empty
    /// value other than a map's default (`None`: only empty values), so that
    /// a header set from a variable reads as its value.
    fn nginx_map_values(text: &str) -> std::collections::HashMap<String, Option<String>> {
        let mut out = std::collections::HashMap::new();
        let mut current: Option<String> = None;
        for line in text.lines().map(str::trim) {
            // `set $var value;` (often inside an `if` on the origin).
            if let Some(rest) = line.strip_prefix("set ") {
                if let Some((var, value)) =
                    rest.trim_end_matches(';').split_once(char::is_whitespace)
                {
                    let value = value.trim().trim_matches(['"', '\'']);
                    if var.starts_with('$') && !value.is_empty() {
                        out.insert(var.to_string(), Some(value.to_string()));
                    }
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("map ") {
                if let Some(var) = rest
                    .trim_end_matches('{')
                    .split_whitespace()
                    .last()
                    .filter(|v| v.starts_with('$'))
                {
                    out.insert(var.to_string(), None);
                    current = Some(var.to_string());
                }
                continue;
            }
            let Some(var) = &current else { continue };
            if line == "}" {
                current = None;
                continue;
            }
            let Some((key, value)) = line.trim_end_matches(';').split_once(char::is_whitespace)
            else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            if key != "default" && !value.is_empty() {
                out.entry(var.clone()).and_modify(|v: &mut Option<String>| {
                    v.get_or_insert_with(|| value.to_string());
                });
            }
        }
        out
    }

    /// The status a preflight-answering line returns, if the line is one.
    fn preflight_status(target: Target, line: &str) -> Option<u16> {
        let grab = |prefix: &str| {
            line.split(prefix)
                .nth(1)
                .and_then(|rest| rest.trim_start().get(..3))
                .and_then(|s| s.parse().ok())
        };
        match target {
            Target::Nginx if line.starts_with("return 2") => grab("return"),
            Target::Haproxy if line.contains("http-request return status 2") => grab("status"),
            Target::Caddy if line.starts_with("respond") => line
                .split_whitespace()
                .last()
                .and_then(|s| s.parse().ok())
                .filter(|s: &u16| (200..300).contains(s)),
            Target::Apache if line.contains("[R=2") => grab("[R="),
            _ => None,
        }
    }
}

mod structured {
    //! Envoy, Traefik, Kong, Gateway API, S3 and API Gateway.

    use super::*;

    fn strings(v: &Value) -> Vec<String> {
        match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => list(s),
            _ => Vec::new(),
        }
    }

    fn age(v: &Value) -> Option<i64> {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    }

    fn origin(cors: &mut CorsConfig, entry: &str, regex: bool, findings: &mut Vec<Finding>) {
        if regex {
            add_regex(cors, entry, None, findings);
        } else {
            push_unique(&mut cors.allow_origins, vec![entry.to_string()]);
        }
    }

    fn route(name: String, path_prefix: Option<String>, cors: CorsConfig) -> Route {
        Route {
            name,
            path_prefix: path_prefix.filter(|p| !p.is_empty() && p != "/"),
            cors,
        }
    }

    pub(super) fn read(
        target: Target,
        v: &Value,
        findings: &mut Vec<Finding>,
    ) -> Result<Vec<Route>, ImportError> {
        let routes = match target {
            Target::Envoy => envoy(v, findings),
            Target::Traefik => traefik(v, findings),
            Target::Kong => kong(v, findings),
            Target::GatewayApi => gateway(v, findings),
            Target::S3 => s3(v, findings),
            Target::ApiGateway => apigateway(v),
            _ => Vec::new(),
        };
        if routes.is_empty() {
            return Err(error(target, "no CORS configuration found in it"));
        }
        Ok(routes)
    }

    fn envoy(v: &Value, findings: &mut Vec<Finding>) -> Vec<Route> {
        let mut out = Vec::new();
        let hosts = v["route_config"]["virtual_hosts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for host in hosts {
            for r in host["routes"].as_array().cloned().unwrap_or_default() {
                let policy = &r["typed_per_filter_config"]["envoy.filters.http.cors"];
                if policy.is_null() {
                    continue;
                }
                let mut cors = CorsConfig::default();
                for m in policy["allow_origin_string_match"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    if let Some(e) = m["exact"].as_str() {
                        origin(&mut cors, e, false, findings);
                    } else if let Some(re) = m["safe_regex"]["regex"].as_str() {
                        if re == ".*" {
                            origin(&mut cors, "*", false, findings);
                        } else {
                            origin(&mut cors, re, true, findings);
                        }
                    } else if let Some(p) = m["prefix"].as_str().or(m["contains"].as_str()) {
                        findings.push(Finding {
                            line: None,
                            severity: Severity::Error,
                            message: format!(
                                "a prefix or contains origin match (`{p}`) also allows other hosts \
                                 (`{p}.evil.com`): match exact origins or an anchored regex"
                            ),
                        });
                        origin(
                            &mut cors,
                            &format!("{}.*", corsair::policy::escape_regex(p)),
                            true,
                            findings,
                        );
                    }
                }
                cors.allow_methods = strings(&policy["allow_methods"]);
                cors.allow_headers = strings(&policy["allow_headers"]);
                cors.expose_headers = strings(&policy["expose_headers"]);
                cors.allow_credentials = policy["allow_credentials"].as_bool().unwrap_or(false);
                cors.max_age = age(&policy["max_age"]);
                cors.allow_private_network = policy["allow_private_network_access"]
                    .as_bool()
                    .unwrap_or(false);
                if policy["forward_not_matching_preflights"].as_bool() != Some(false) {
                    findings.push(Finding {
                        line: None,
                        severity: Severity::Warning,
                        message: "forward_not_matching_preflights is not false: preflights from \
                                  origins the policy refuses reach the upstream"
                            .into(),
                    });
                }
                let m = &r["match"];
                let prefix = m["path_separated_prefix"]
                    .as_str()
                    .or(m["prefix"].as_str())
                    .map(str::to_string);
                let name = r["name"].as_str().unwrap_or("route").to_string();
                out.push(route(name, prefix, cors));
            }
        }
        out
    }

    fn traefik(v: &Value, findings: &mut Vec<Finding>) -> Vec<Route> {
        let mut out = Vec::new();
        let middlewares = v["http"]["middlewares"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, m) in middlewares {
            let h = &m["headers"];
            if h.is_null() {
                continue;
            }
            let mut cors = CorsConfig::default();
            for o in strings(&h["accessControlAllowOriginList"]) {
                origin(&mut cors, &o, false, findings);
            }
            for re in strings(&h["accessControlAllowOriginListRegex"]) {
                origin(&mut cors, &re, true, findings);
            }
            cors.allow_methods = strings(&h["accessControlAllowMethods"]);
            cors.allow_headers = strings(&h["accessControlAllowHeaders"]);
            cors.expose_headers = strings(&h["accessControlExposeHeaders"]);
            cors.allow_credentials = h["accessControlAllowCredentials"]
                .as_bool()
                .unwrap_or(false);
            cors.max_age = age(&h["accessControlMaxAge"]);
            let prefix = v["http"]["routers"]
                .as_object()
                .and_then(|routers| {
                    routers
                        .values()
                        .find(|r| strings(&r["middlewares"]).iter().any(|x| x == &name))
                })
                .and_then(|r| r["rule"].as_str())
                .and_then(|rule| rule.split('`').nth(1))
                .map(|p| p.trim_end_matches('/').to_string());
            out.push(route(name, prefix, cors));
        }
        out
    }

    fn kong(v: &Value, findings: &mut Vec<Finding>) -> Vec<Route> {
        let mut out = Vec::new();
        let mut visit = |name: String, path: Option<String>, plugins: &Value| {
            for p in plugins.as_array().cloned().unwrap_or_default() {
                if p["name"].as_str() != Some("cors") {
                    continue;
                }
                let c = &p["config"];
                let mut cors = CorsConfig::default();
                for o in strings(&c["origins"]) {
                    let is_regex = o != "*" && o.chars().any(|ch| "^$()[]|\\+?{}".contains(ch));
                    origin(&mut cors, &o, is_regex, findings);
                }
                cors.allow_methods = strings(&c["methods"]);
                cors.allow_headers = strings(&c["headers"]);
                cors.expose_headers = strings(&c["exposed_headers"]);
                cors.allow_credentials = c["credentials"].as_bool().unwrap_or(false);
                cors.max_age = age(&c["max_age"]);
                cors.allow_private_network = c["private_network"].as_bool().unwrap_or(false);
                if cors.allow_origins.iter().any(|o| o == "*") && cors.allow_credentials {
                    findings.push(Finding {
                        line: None,
                        severity: Severity::Error,
                        message: format!(
                            "{name}: origins `*` with credentials: Kong then reflects any origin \
                             with Access-Control-Allow-Credentials, so every site can read your \
                             users' data. List the origins you trust"
                        ),
                    });
                }
                out.push(route(name.clone(), path.clone(), cors));
            }
        };
        for s in v["services"].as_array().cloned().unwrap_or_default() {
            for r in s["routes"].as_array().cloned().unwrap_or_default() {
                let name = r["name"].as_str().unwrap_or("route").to_string();
                let path = strings(&r["paths"]).first().map(|p| {
                    let p = p.trim_start_matches('~');
                    p.strip_suffix("(?:/|$)")
                        .map(|s| s.replace('\\', ""))
                        .unwrap_or_else(|| p.to_string())
                });
                visit(name, path, &r["plugins"]);
            }
            let name = s["name"].as_str().unwrap_or("service").to_string();
            visit(name, None, &s["plugins"]);
        }
        visit("global".into(), None, &v["plugins"]);
        out
    }

    fn gateway(v: &Value, findings: &mut Vec<Finding>) -> Vec<Route> {
        let mut out = Vec::new();
        for (i, rule) in v["spec"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            for f in rule["filters"].as_array().cloned().unwrap_or_default() {
                if f["type"].as_str() != Some("CORS") {
                    continue;
                }
                let c = &f["cors"];
                let mut cors = CorsConfig::default();
                for o in strings(&c["allowOrigins"]) {
                    origin(&mut cors, &o, false, findings);
                }
                cors.allow_methods = strings(&c["allowMethods"]);
                cors.allow_headers = strings(&c["allowHeaders"]);
                cors.expose_headers = strings(&c["exposeHeaders"]);
                cors.allow_credentials = c["allowCredentials"].as_bool().unwrap_or(false);
                cors.max_age = age(&c["maxAge"]);
                if cors.allow_origins.iter().any(|o| o == "*") && cors.allow_credentials {
                    findings.push(Finding {
                        line: None,
                        severity: Severity::Error,
                        message: "allowOrigins `*` with allowCredentials: implementations then \
                                  reflect any origin with credentials. List the origins you trust"
                            .into(),
                    });
                }
                let prefix = rule["matches"][0]["path"]["value"]
                    .as_str()
                    .map(str::to_string);
                out.push(route(format!("rules[{i}]"), prefix, cors));
            }
        }
        out
    }

    fn s3(v: &Value, findings: &mut Vec<Finding>) -> Vec<Route> {
        let rules = v["CORSRules"].as_array().cloned().unwrap_or_default();
        if rules.len() > 1 {
            findings.push(Finding {
                line: None,
                severity: Severity::Warning,
                message: format!(
                    "{} CORSRules: S3 uses the first that matches each request; they are merged \
                     here into one policy",
                    rules.len()
                ),
            });
        }
        let mut cors = CorsConfig::default();
        for rule in &rules {
            for o in strings(&rule["AllowedOrigins"]) {
                origin(&mut cors, &o, false, findings);
            }
            push_unique(&mut cors.allow_methods, strings(&rule["AllowedMethods"]));
            push_unique(&mut cors.allow_headers, strings(&rule["AllowedHeaders"]));
            push_unique(&mut cors.expose_headers, strings(&rule["ExposeHeaders"]));
            if let Some(a) = age(&rule["MaxAgeSeconds"]) {
                cors.max_age = Some(a);
            }
        }
        // S3 answers Access-Control-Allow-Credentials: true to every listed
        // origin: that is the policy it enforces.
        cors.allow_credentials = !cors.allow_origins.iter().any(|o| o == "*");
        if rules.is_empty() {
            return Vec::new();
        }
        vec![route("CORSRules".into(), None, cors)]
    }

    fn apigateway(v: &Value) -> Vec<Route> {
        let c = if v["CorsConfiguration"].is_object() {
            &v["CorsConfiguration"]
        } else {
            v
        };
        if c["AllowOrigins"].is_null() {
            return Vec::new();
        }
        let cors = CorsConfig {
            allow_origins: strings(&c["AllowOrigins"]),
            allow_methods: strings(&c["AllowMethods"]),
            allow_headers: strings(&c["AllowHeaders"]),
            expose_headers: strings(&c["ExposeHeaders"]),
            allow_credentials: c["AllowCredentials"].as_bool().unwrap_or(false),
            max_age: age(&c["MaxAge"]),
            ..CorsConfig::default()
        };
        vec![route("CorsConfiguration".into(), None, cors)]
    }
}
