//! Exported configs proven against the real servers: the policy suite's
//! policies exported by `corsair-export` as one config with a route per
//! policy, run by the real nginx, HAProxy, Caddy or Apache in front of a
//! loopback upstream, and every request of the policy suite (and hostile
//! variants) sent to it; each answer is compared with what
//! [`Policy::evaluate`] decides: the preflight status, each
//! `Access-Control-*` header, and `Vary` (as a set of field names).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsair::{CorsConfig, CorsHeaders, Policy};
use corsair_export::{Options, Route, Target};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::observation::Tally;
use crate::policy_suite::{policies, shapes, Pages};
use crate::server::{bind_loopback, response, RequestLog, TestServer};

/// The policies under test: the policy suite's, and two that use what it
/// does not (Private Network Access, a 200 preflight, a port wildcard).
pub fn routes(pages: &Pages) -> Vec<Route> {
    let mut list = policies(pages);
    list.push((
        "pna-on",
        CorsConfig {
            allow_origins: vec![pages.a.clone(), "http://localhost:*".into()],
            allow_methods: vec!["PUT".into()],
            allow_headers: vec!["x-custom".into()],
            allow_private_network: true,
            preflight_status: Some(200),
            max_age: Some(60),
            ..CorsConfig::default()
        },
    ));
    list.into_iter()
        .map(|(name, cors)| Route {
            name: name.to_string(),
            path_prefix: Some(format!("/p/{name}")),
            cors,
        })
        .collect()
}

/// Page origins for the requests (no page is served: only the `Origin`
/// values matter).
pub fn pages() -> Pages {
    Pages {
        a: "http://127.0.0.1:41001".into(),
        b: "http://127.0.0.1:41002".into(),
        local_port: 41003,
    }
}

/// One request: method and headers, without the path.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// The method.
    pub method: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
}

/// Every request: for each origin (the pages', hostile ones, none) and
/// each request shape of the policy suite, the preflight a browser sends
/// when one is needed and the actual request; plus preflights the suite's
/// browsers never send (Private Network Access, malformed and oversized
/// header lists, an unknown method).
pub fn requests(pages: &Pages) -> Vec<WireRequest> {
    let p = pages.local_port;
    let mut origins: Vec<Option<String>> = pages.all().into_iter().map(|(_, o)| Some(o)).collect();
    origins.extend(
        [
            "null".to_string(),
            "http://evil.example".into(),
            format!("http://localhost:{p}.evil.example"),
            format!("{}.evil.example", pages.a),
            format!("http://evil.localhost.example:{p}"),
            pages.a.to_uppercase(),
        ]
        .into_iter()
        .map(Some),
    );
    origins.push(None);
    let mut out = Vec::new();
    for origin in &origins {
        let with_origin = |mut headers: Vec<(String, String)>| {
            if let Some(o) = origin {
                headers.insert(0, ("Origin".to_string(), o.clone()));
            }
            headers
        };
        for shape in shapes() {
            // Fetch normalizes only DELETE, GET, HEAD, OPTIONS, POST, PUT.
            let upper = shape.method.to_ascii_uppercase();
            let method = if matches!(
                upper.as_str(),
                "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT"
            ) {
                upper
            } else {
                shape.method.to_string()
            };
            let safelisted = matches!(method.as_str(), "GET" | "HEAD" | "POST");
            if shape.acrh.is_some() || !safelisted {
                let mut h = vec![("Access-Control-Request-Method".to_string(), method.clone())];
                if let Some(acrh) = shape.acrh {
                    h.push(("Access-Control-Request-Headers".into(), acrh.into()));
                }
                out.push(WireRequest {
                    method: "OPTIONS".into(),
                    headers: with_origin(h),
                });
            }
            out.push(WireRequest {
                method,
                headers: with_origin(shape.headers.clone()),
            });
        }
        let extra: Vec<Vec<(&str, String)>> = vec![
            vec![
                ("Access-Control-Request-Method", "PUT".into()),
                ("Access-Control-Request-Private-Network", "true".into()),
            ],
            vec![
                ("Access-Control-Request-Method", "PUT".into()),
                ("Access-Control-Request-Headers", "x-custom x-other".into()),
            ],
            vec![
                ("Access-Control-Request-Method", "PUT".into()),
                (
                    "Access-Control-Request-Headers",
                    " X-Custom , ,content-type".into(),
                ),
            ],
            vec![
                ("Access-Control-Request-Method", "GET".into()),
                ("Access-Control-Request-Headers", "x-custom,".repeat(300)),
            ],
            vec![("Access-Control-Request-Method", "PROPFIND".into())],
            vec![("Access-Control-Request-Method", "GET".into())],
        ];
        for headers in extra {
            out.push(WireRequest {
                method: "OPTIONS".into(),
                headers: with_origin(
                    headers
                        .into_iter()
                        .map(|(n, v)| (n.to_string(), v))
                        .collect(),
                ),
            });
        }
    }
    out
}

/// What the upstream answers to everything: its own CORS headers (which
/// the policy replaces) and a `Vary` to merge with.
const UPSTREAM_HEADERS: [(&str, &str); 4] = [
    ("access-control-allow-origin", "*"),
    ("access-control-expose-headers", "x-upstream"),
    ("vary", "Accept-Encoding"),
    ("x-request-id", "1"),
];

/// A running target server.
pub struct Running {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The binary each proxy target runs with, and how it is started.
pub fn binary(target: Target) -> &'static str {
    match target {
        Target::Nginx => "/usr/sbin/nginx",
        Target::Haproxy => "/usr/sbin/haproxy",
        Target::Caddy => "/usr/bin/caddy",
        Target::Apache => "/usr/sbin/apache2",
        _ => "",
    }
}

/// The Debian package holding [`binary`].
pub fn package(target: Target) -> &'static str {
    match target {
        Target::Nginx => "nginx-light",
        Target::Haproxy => "haproxy",
        Target::Caddy => "caddy",
        Target::Apache => "apache2",
        _ => "",
    }
}

/// Exports `routes` to `target` in front of `upstream`, starts the real
/// server, and waits until it accepts connections.
pub fn start(target: Target, routes: &[Route], upstream: &str) -> Result<Running, String> {
    let listener = bind_loopback().map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    drop(listener);
    let dir = std::env::temp_dir().join(format!(
        "corsair-export-{}-{}-{}",
        target.name(),
        std::process::id(),
        addr.port()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let options = Options {
        upstream: upstream.to_string(),
        listen: addr.to_string(),
        runtime_dir: dir.display().to_string(),
        ..Options::default()
    };
    let exported = corsair_export::export(routes, target, &options).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{}.conf", target.name()));
    std::fs::write(&file, &exported.text).map_err(|e| e.to_string())?;
    let mut command = Command::new(binary(target));
    let f = file.display().to_string();
    match target {
        Target::Nginx => command.args(["-p", &dir.display().to_string(), "-c", &f, "-e", "stderr"]),
        Target::Haproxy => command.args(["-db", "-f", &f]),
        Target::Caddy => command
            .args(["run", "--adapter", "caddyfile", "--config", &f])
            .env("HOME", &dir)
            .env("XDG_DATA_HOME", &dir)
            .env("XDG_CONFIG_HOME", &dir),
        Target::Apache => command.args(["-f", &f, "-DFOREGROUND"]),
        _ => return Err(format!("{target} is not a server")),
    };
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary(target)))?;
    let mut running = Running { child, addr, dir };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(running);
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            let log = std::fs::read_to_string(running.dir.join("server.log")).unwrap_or_default();
            return Err(format!(
                "{target} exited ({status}) with the exported config {}:\n{log}\n--- config ---\n{}",
                file.display(),
                exported.text
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("{target} did not listen on {addr} within 15 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP/1.1 answer: status and headers.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
}

/// Sends one request with `Connection: close` and reads the answer head.
pub fn send(addr: SocketAddr, path: &str, request: &WireRequest) -> Result<Answer, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n",
        request.method
    );
    for (n, v) in &request.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if matches!(request.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    match parsed.parse(&buf) {
        Ok(httparse::Status::Complete(_)) => {}
        other => {
            return Err(format!(
                "no complete answer ({other:?}): {:?}",
                String::from_utf8_lossy(&buf[..buf.len().min(300)])
            ))
        }
    }
    Ok(Answer {
        status: parsed.code.unwrap_or(0),
        headers: parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).trim().to_string(),
                )
            })
            .collect(),
    })
}

/// What the policy answers: `(status of a preflight answered by the
/// policy, headers)`; `None` status when the request goes upstream.
pub fn expected(policy: &Policy, request: &WireRequest) -> (Option<u16>, HeaderMap) {
    let mut headers = HeaderMap::new();
    for (n, v) in &request.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.append(n, v);
        }
    }
    let method = Method::from_bytes(request.method.as_bytes()).unwrap_or(Method::GET);
    let decision = policy.evaluate(&method, &headers);
    if let Some(status) = decision.status {
        let mut answer = HeaderMap::new();
        decision.headers.apply_to(&mut answer);
        return (Some(status.as_u16()), answer);
    }
    let mut answer = HeaderMap::new();
    for (n, v) in UPSTREAM_HEADERS {
        answer.append(n, HeaderValue::from_static(v));
    }
    decision.headers.apply_to(&mut answer);
    (None, answer)
}

fn vary_set(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut set: Vec<String> = values
        .flat_map(|v| {
            v.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    set.sort();
    set.dedup();
    set
}

/// The differences between the policy's answer and the server's.
pub fn compare(policy: &Policy, request: &WireRequest, answer: &Answer) -> Vec<String> {
    let (status, want) = expected(policy, request);
    let mut problems = Vec::new();
    match status {
        Some(s) if s != answer.status => {
            problems.push(format!("status {} (policy: {s})", answer.status))
        }
        None if answer.status != 200 => problems.push(format!(
            "status {} (the upstream answered 200)",
            answer.status
        )),
        _ => {}
    }
    let got = |name: &str| -> Vec<String> {
        answer
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    for name in CorsHeaders::ACCESS_CONTROL_NAMES {
        let want: Vec<String> = want
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .collect();
        let have = got(name);
        if want != have {
            problems.push(format!("{name}: {have:?} (policy: {want:?})"));
        }
    }
    let want_vary = vary_set(
        want.get_all("vary")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string()),
    );
    let have_vary = vary_set(got("vary").into_iter());
    if want_vary != have_vary {
        problems.push(format!("vary: {have_vary:?} (policy: {want_vary:?})"));
    }
    problems
}

/// A difference the server makes before any configuration runs, so no
/// export can avoid it (docs/export.md lists them).
pub fn documented_difference(target: Target, request: &WireRequest) -> Option<&'static str> {
    let lowercase_method = request.method.bytes().any(|b| b.is_ascii_lowercase());
    match target {
        Target::Nginx if lowercase_method => Some(
            "nginx answers 400 to a method that is not uppercase (browsers send `patch` as written)",
        ),
        _ => None,
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct ProxyReport {
    /// Agreements and disagreements.
    pub tally: Tally,
    /// Differences the server makes on its own, by description, with their
    /// count (not in `tally`).
    pub documented: std::collections::BTreeMap<&'static str, usize>,
}

impl ProxyReport {
    /// `N requests agree with <target>, M disagree`, and the documented
    /// differences.
    pub fn summary_line(&self, target: Target) -> String {
        let mut line = format!(
            "{} requests agree with {target}, {} disagree",
            self.tally.agree,
            self.tally.disagreements.len()
        );
        for (what, n) in &self.documented {
            line.push_str(&format!("; {n} documented: {what}"));
        }
        line
    }
}

/// Runs every request against `target` running the export of [`routes`],
/// and tallies the agreements.
pub fn run(target: Target, runtime: &tokio::runtime::Handle) -> Result<ProxyReport, String> {
    let pages = pages();
    let routes = routes(&pages);
    let log: RequestLog = Arc::default();
    let upstream = TestServer::start(
        runtime,
        "upstream",
        log,
        Arc::new(|_parts: &http::request::Parts| {
            let headers: Vec<(String, String)> = UPSTREAM_HEADERS
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            response(200, &headers, "upstream")
        }),
    )
    .map_err(|e| e.to_string())?;
    let server = start(target, &routes, &upstream.origin())?;
    let requests = requests(&pages);
    let mut report = ProxyReport::default();
    for route in &routes {
        let policy = Policy::new(&route.cors).map_err(|e| e.to_string())?;
        let path = format!("{}/x", route.path_prefix.as_deref().unwrap_or(""));
        for (i, request) in requests.iter().enumerate() {
            let problems = match send(server.addr, &path, request) {
                Ok(answer) => compare(&policy, request, &answer),
                Err(e) => vec![e],
            };
            if !problems.is_empty() {
                if let Some(what) = documented_difference(target, request) {
                    *report.documented.entry(what).or_default() += 1;
                    continue;
                }
            }
            let problems = if problems.is_empty() {
                problems
            } else {
                let mut p = vec![format!("  {} {:?}", request.method, request.headers)];
                p.extend(problems.into_iter().map(|x| format!("    {x}")));
                p
            };
            report
                .tally
                .record(&format!("{}#{i}", route.name), target.name(), problems);
        }
    }
    drop(server);
    Ok(report)
}

/// The environment variable that, set to `1`, makes a missing server fail
/// its export test instead of skipping it (`scripts/test.sh` sets it).
pub const REQUIRE_SERVERS_ENV: &str = "CORSAIR_REQUIRE_SERVERS";

/// Whether a missing server fails its test.
pub fn servers_required() -> bool {
    std::env::var(REQUIRE_SERVERS_ENV).is_ok_and(|v| v == "1")
}

/// Whether `target`'s binary is installed.
pub fn installed(target: Target) -> bool {
    Path::new(binary(target)).exists()
}
