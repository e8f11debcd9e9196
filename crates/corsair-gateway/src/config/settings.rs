//! The validated gateway configuration: every value checked, every problem
//! of every route reported at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use corsair::{CorsConfig, Policy};

use crate::config::file::{GatewayFile, TlsFile};
use crate::upstream::target::Upstream;

/// Default `max_body_bytes`: 10 MiB.
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;

/// The request headers removed before forwarding unless
/// `strip_request_headers` says otherwise: client-IP claims the gateway
/// does not vouch for (it writes `X-Forwarded-For` and `Forwarded` itself).
pub const DEFAULT_STRIP: [&str; 5] = [
    "x-real-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
    "x-forwarded-port",
];

/// Whether `h` is a bare host name or bracketed IPv6 address (no scheme,
/// path, port or space).
fn valid_host(h: &str) -> bool {
    let bare = h.strip_prefix('[').and_then(|v6| v6.strip_suffix(']'));
    match bare {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => !h.is_empty() && !h.contains(['/', ' ', ':', '@', '[', ']']),
    }
}

/// The timeouts, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to an upstream.
    pub connect: Duration,
    /// Waiting for an upstream's response headers.
    pub upstream: Duration,
    /// Idle connections, both sides; on HTTP/1.1 also the wait for a
    /// whole request head.
    pub idle: Duration,
    /// Between two reads of a request body.
    pub body: Duration,
    /// Between two reads of an upstream's response body.
    pub upstream_body: Duration,
    /// A TLS handshake on the listening side.
    pub handshake: Duration,
    /// Draining in-flight requests at shutdown.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            upstream: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            body: Duration::from_secs(60),
            upstream_body: Duration::from_secs(60),
            handshake: Duration::from_secs(10),
            shutdown: Duration::from_secs(30),
        }
    }
}

/// One way to route requests: a match, a policy and an upstream.
#[derive(Debug, Clone)]
pub struct Route {
    /// `routes[N]` or `top-level`, for logs and metrics.
    pub name: String,
    /// The path prefix, without a trailing `/` (except for `/` itself).
    pub path_prefix: Option<String>,
    /// The host, lowercase.
    pub host: Option<String>,
    /// Where matching requests go.
    pub upstream: Upstream,
    /// The policy.
    pub policy: Arc<Policy>,
    /// Forward ambiguous paths instead of answering 400.
    pub allow_ambiguous_paths: bool,
}

impl Route {
    /// Whether this route takes a request for `host` (lowercase, port
    /// stripped) and `path`.
    pub fn matches(&self, host: &str, path: &str) -> bool {
        if let Some(h) = &self.host {
            // `h` is stored lowercase; the request's host is compared
            // without copying it to lowercase first.
            if !h.eq_ignore_ascii_case(host) {
                return false;
            }
        }
        match &self.path_prefix {
            None => true,
            Some(p) if p == "/" => true,
            Some(p) => {
                path.starts_with(p.as_str())
                    && matches!(path.as_bytes().get(p.len()), None | Some(b'/'))
            }
        }
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The gateway's address.
    pub listen: SocketAddr,
    /// The admin address.
    pub admin: Option<SocketAddr>,
    /// TLS on the listening side.
    pub tls: Option<TlsFile>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// The largest request body forwarded.
    pub max_body_bytes: u64,
    /// Forward the client's Host.
    pub preserve_host: bool,
    /// Request headers removed before forwarding.
    pub strip_request_headers: Vec<http::HeaderName>,
    /// The gateway's own host names (lowercase): `server_names` and every
    /// route's `host`.
    pub server_names: Vec<String>,
    /// Routes, most specific first (longest prefix, then host before no host).
    pub routes: Vec<Route>,
    /// The top-level route, for requests no route takes.
    pub fallback: Route,
}

impl Settings {
    /// The index in `routes` of the route taking a request for `host`
    /// (lowercase, no port) and `path`; `None` for the top-level one.
    pub fn route_index(&self, host: &str, path: &str) -> Option<usize> {
        self.routes.iter().position(|r| r.matches(host, path))
    }

    /// Every warning of every policy, with the route it belongs to.
    pub fn warnings(&self) -> Vec<String> {
        std::iter::once(&self.fallback)
            .chain(&self.routes)
            .flat_map(|r| {
                r.policy
                    .warnings()
                    .iter()
                    .map(move |w| format!("{}: {w}", r.name))
            })
            .collect()
    }
}

/// Every problem found in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid gateway config: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

fn addr(field: &str, text: &str, problems: &mut Vec<String>) -> Option<SocketAddr> {
    match text.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(format!(
                "{field} `{text}`: not an address: write IP:PORT, e.g. \"127.0.0.1:8080\""
            ));
            None
        }
    }
}

fn policy(name: &str, cors: Option<&CorsConfig>, problems: &mut Vec<String>) -> Option<Policy> {
    let Some(cors) = cors else {
        problems.push(format!(
            "{name}: no [cors] policy: add a [cors] table (or [routes.cors] for a route) with at \
             least allow_origins"
        ));
        return None;
    };
    match Policy::new(cors) {
        Ok(p) => Some(p),
        Err(e) => {
            let cors_table = if name == "top-level" {
                "[cors]"
            } else {
                "cors"
            };
            problems.extend(
                e.problems
                    .iter()
                    .map(|p| format!("{name} {cors_table}: {p}")),
            );
            None
        }
    }
}

/// Validates a parsed file: the settings, or every problem.
pub fn validate(file: &GatewayFile) -> Result<Settings, Problems> {
    let mut problems = Vec::new();
    let listen = addr(
        "listen",
        file.listen.as_deref().unwrap_or("127.0.0.1:8080"),
        &mut problems,
    );
    let admin = file
        .admin
        .as_deref()
        .map(|a| addr("admin", a, &mut problems));
    let mut timeouts = Timeouts::default();
    for (field, value, slot) in [
        ("connect", &file.timeouts.connect, &mut timeouts.connect),
        ("upstream", &file.timeouts.upstream, &mut timeouts.upstream),
        ("idle", &file.timeouts.idle, &mut timeouts.idle),
        ("body", &file.timeouts.body, &mut timeouts.body),
        (
            "upstream_body",
            &file.timeouts.upstream_body,
            &mut timeouts.upstream_body,
        ),
        (
            "handshake",
            &file.timeouts.handshake,
            &mut timeouts.handshake,
        ),
        ("shutdown", &file.timeouts.shutdown, &mut timeouts.shutdown),
    ] {
        if let Some(v) = value {
            match v.parse() {
                Ok(d) if d.is_zero() => {
                    problems.push(format!("timeouts.{field}: must be more than zero"))
                }
                Ok(d) => *slot = d,
                Err(e) => problems.push(format!("timeouts.{field}: {e}")),
            }
        }
    }
    let max_body_bytes = file.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
    let strip_request_headers = match &file.strip_request_headers {
        None => DEFAULT_STRIP
            .iter()
            .map(|n| http::HeaderName::from_static(n))
            .collect(),
        Some(names) => names
            .iter()
            .filter_map(|n| match http::HeaderName::from_bytes(n.as_bytes()) {
                Ok(name) => Some(name),
                Err(_) => {
                    problems.push(format!(
                        "strip_request_headers `{n}`: not a header name: write e.g. \"x-real-ip\""
                    ));
                    None
                }
            })
            .collect(),
    };
    let mut server_names = Vec::new();
    for n in &file.server_names {
        if valid_host(n) {
            server_names.push(n.to_ascii_lowercase());
        } else {
            problems.push(format!(
                "server_names `{n}`: write a host name, e.g. \"api.example.com\" (no scheme, port or path)"
            ));
        }
    }
    if let Some(tls) = &file.tls {
        for (field, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if !path.is_file() {
                problems.push(format!(
                    "{field} `{}`: no such file: give the path of a PEM file",
                    path.display()
                ));
            }
        }
    }

    let top_upstream = match &file.upstream {
        Some(u) => Upstream::parse(u)
            .map_err(|e| problems.push(format!("upstream {e}")))
            .ok(),
        None => {
            problems.push(
                "upstream: missing: add e.g. upstream = \"http://127.0.0.1:3000\" (routes without \
                 their own upstream use it)"
                    .into(),
            );
            None
        }
    };
    let top_policy = policy("top-level", file.cors.as_ref(), &mut problems);

    let mut routes = Vec::new();
    for (i, r) in file.routes.iter().enumerate() {
        let name = format!("routes[{i}]");
        let mut ok = true;
        if r.path_prefix.is_none() && r.host.is_none() {
            problems.push(format!(
                "{name}: give a path_prefix, a host or both, or the route never matches"
            ));
            ok = false;
        }
        let path_prefix = match &r.path_prefix {
            Some(p) if !p.starts_with('/') => {
                problems.push(format!("{name}.path_prefix `{p}`: must start with `/`"));
                ok = false;
                None
            }
            Some(p) if p == "/" => Some(p.clone()),
            Some(p) => Some(p.trim_end_matches('/').to_string()),
            None => None,
        };
        let host = r.host.as_ref().map(|h| h.to_ascii_lowercase());
        if let Some(h) = &host {
            if !valid_host(h) {
                problems.push(format!(
                    "{name}.host `{h}`: write a host name, e.g. \"api.example.com\""
                ));
                ok = false;
            }
        }
        let upstream = match &r.upstream {
            Some(u) => match Upstream::parse(u) {
                Ok(u) => Some(u),
                Err(e) => {
                    problems.push(format!("{name}.upstream {e}"));
                    None
                }
            },
            None => top_upstream.clone(),
        };
        let policy = policy(&name, r.cors.as_ref(), &mut problems);
        if let (true, Some(upstream), Some(policy)) = (ok, upstream, policy) {
            routes.push(Route {
                name,
                path_prefix,
                host,
                upstream,
                policy: Arc::new(policy),
                allow_ambiguous_paths: r.allow_ambiguous_paths,
            });
        }
    }
    for h in routes.iter().filter_map(|r| r.host.as_ref()) {
        if !server_names.contains(h) {
            server_names.push(h.clone());
        }
    }

    match (listen, admin, top_upstream, top_policy) {
        (Some(listen), admin, Some(upstream), Some(policy))
            if problems.is_empty() && !matches!(admin, Some(None)) =>
        {
            // Most specific first: longest prefix, then a route with a host.
            routes.sort_by_key(|r| {
                (
                    std::cmp::Reverse(r.path_prefix.as_ref().map_or(0, |p| p.len())),
                    r.host.is_none(),
                )
            });
            Ok(Settings {
                listen,
                admin: admin.flatten(),
                tls: file.tls.clone(),
                timeouts,
                max_body_bytes,
                preserve_host: file.preserve_host,
                strip_request_headers,
                server_names,
                routes,
                fallback: Route {
                    name: "top-level".into(),
                    path_prefix: None,
                    host: None,
                    upstream,
                    policy: Arc::new(policy),
                    allow_ambiguous_paths: file.allow_ambiguous_paths,
                },
            })
        }
        _ => Err(Problems(problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Settings {
        fn route(&self, host: &str, path: &str) -> &Route {
            self.route_index(host, path)
                .map_or(&self.fallback, |i| &self.routes[i])
        }
    }

    fn file(text: &str) -> GatewayFile {
        GatewayFile::from_toml(text).unwrap()
    }

    #[test]
    fn every_problem_of_every_route_is_reported() {
        let f = file(
            r#"
            listen = "nowhere"
            upstream = "127.0.0.1:3000"
            [timeouts]
            upstream = "soon"
            [cors]
            allow_origins = ["https://a.example/"]
            [[routes]]
            path_prefix = "public"
            [routes.cors]
            allow_origins = ["*"]
            allow_credentials = true
            [[routes]]
            host = "api.example.com"
            "#,
        );
        let p = validate(&f).unwrap_err();
        let text = p.to_string();
        for needle in [
            "listen `nowhere`",
            "upstream `127.0.0.1:3000`",
            "timeouts.upstream",
            "top-level [cors]",
            "routes[0].path_prefix",
            "routes[0] cors",
            "routes[1]: no [cors] policy",
        ] {
            assert!(text.contains(needle), "missing {needle}:\n{text}");
        }
    }

    #[test]
    fn longest_prefix_wins_then_host() {
        let f = file(
            r#"
            upstream = "http://127.0.0.1:3000"
            [cors]
            allow_origins = ["https://a.example"]
            [[routes]]
            path_prefix = "/api"
            [routes.cors]
            allow_origins = ["https://b.example"]
            [[routes]]
            path_prefix = "/api/public/"
            upstream = "http://127.0.0.1:3001"
            [routes.cors]
            allow_origins = ["*"]
            [[routes]]
            path_prefix = "/api"
            host = "Admin.Example.com"
            [routes.cors]
            allow_origins = ["https://admin.example"]
            "#,
        );
        let s = validate(&f).unwrap();
        assert_eq!(s.route("x", "/api/public/a").name, "routes[1]");
        assert_eq!(s.route("x", "/api/public").name, "routes[1]");
        assert_eq!(s.route("x", "/api/publicity").name, "routes[0]");
        assert_eq!(s.route("admin.example.com", "/api/x").name, "routes[2]");
        assert_eq!(s.route("x", "/api").name, "routes[0]");
        assert_eq!(s.route("x", "/apix").name, "top-level");
        assert_eq!(s.route("x", "/").name, "top-level");
    }
}
