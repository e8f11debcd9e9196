//! `corsair check`: do over the network what a browser does for a
//! cross-origin `fetch()`, and report the verdict with the fix.

use crate::http_client::{load_cacert, ClientConfig, ClientError, HttpClient, Resolve, Response};
use corsair::browser::{
    Browser, BrowserRequest, Credentials, Exchange, ExchangeKind, Outcome, Profile, Step,
};
use corsair::Origin;
use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code: the browser would allow the request.
pub const EXIT_ALLOWED: u8 = 0;
/// Exit code: the browser would block the request.
pub const EXIT_BLOCKED: u8 = 1;
/// Exit code: bad arguments or no response from the network.
pub const EXIT_ERROR: u8 = 2;

/// Arguments of `corsair check`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Examples:
  corsair check https://api.example.com/items --origin https://app.example.com
  corsair check https://api.example.com/items --origin https://app.example.com \\
      -X PUT -H 'Content-Type: application/json' --credentials include --browser firefox
  corsair check https://api.test:8443/ --origin https://app.test --resolve api.test:8443:127.0.0.1 --json

Exit status: 0 allowed, 1 blocked by CORS, 2 usage or network error.")]
pub struct CheckArgs {
    /// The URL the page fetches.
    pub url: String,
    /// The page's origin, as the browser sends it (e.g. https://app.example.com).
    #[arg(long)]
    pub origin: String,
    /// The request method, as passed to fetch().
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header set by the script, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The fetch() credentials mode: omit, same-origin or include.
    #[arg(long, default_value = "same-origin")]
    pub credentials: Credentials,
    /// Which browser to behave like: chromium, firefox, webkit or spec.
    #[arg(long, default_value = "chromium")]
    pub browser: Profile,
    /// Print one JSON object instead of the story.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for each response.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Connect to ADDR for HOST:PORT instead of resolving it (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<Resolve>,
    /// Also trust the certificate authorities in this PEM file (a staging or test CA).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<std::path::PathBuf>,
    /// Accept any server certificate, as curl's -k (self-signed staging hosts); the result says so.
    #[arg(long, short = 'k')]
    pub insecure: bool,
}

/// Runs `corsair check`.
pub fn run(args: CheckArgs) -> ExitCode {
    match prepare(&args) {
        Ok(request) => execute(&args, request),
        Err(message) => {
            eprintln!("corsair check: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn prepare(args: &CheckArgs) -> Result<BrowserRequest, String> {
    let origin = Origin::parse(&args.origin).map_err(|e| format!("invalid --origin: {e}"))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("invalid --header `{h}`: write 'Name: value'"))?;
        pairs.push((name.trim().to_string(), value.trim().to_string()));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let headers: Vec<(&str, &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    BrowserRequest::new(origin, &args.url, &args.method, headers, args.credentials)
        .map_err(|e| format!("fetch() would throw a TypeError: {e}"))
}

fn execute(args: &CheckArgs, request: BrowserRequest) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corsair check: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let extra_roots = match args.cacert.as_deref().map(load_cacert).transpose() {
        Ok(roots) => roots.unwrap_or_default(),
        Err(e) => {
            eprintln!("corsair check: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let client = HttpClient::new(ClientConfig {
        timeout: Duration::from_secs_f64(args.timeout),
        resolve: args.resolve.clone(),
        extra_roots,
        insecure: args.insecure,
    });
    let dropped = request.dropped_headers().to_vec();
    let method = request.method().to_string();
    let mut browser = Browser::new(args.browser);
    let result = runtime.block_on(drive(&client, &mut browser, request));
    let color = !args.json && std::io::stdout().is_terminal();
    match result {
        Ok(Driven { outcome, versions }) => {
            if args.json {
                let mut report = json_report(args, &outcome);
                let versions: Vec<String> = versions.iter().map(|v| format!("{v:?}")).collect();
                report["http_versions"] = serde_json::json!(versions);
                if args.insecure {
                    report["certificate_verified"] = serde_json::json!(false);
                }
                println!("{report}");
            } else {
                print!("{}", story(args, &method, &outcome, &dropped, color));
                if args.insecure && args.url.starts_with("https:") {
                    println!("note: the server's certificate was not verified (--insecure)");
                }
            }
            ExitCode::from(if outcome.allowed {
                EXIT_ALLOWED
            } else {
                EXIT_BLOCKED
            })
        }
        Err(DriveError {
            request,
            error,
            exchanges,
        }) => {
            let message = format!("{request}: {error}");
            if args.json {
                let v = serde_json::json!({
                    "allowed": false,
                    "network_error": message,
                    "error": null,
                    "preflight_sent": exchanges.iter().any(|e| e.kind == ExchangeKind::Preflight),
                    "exposed_headers": [],
                    "exchanges": exchanges,
                });
                println!("{v}");
            }
            eprintln!("corsair check: network error, no CORS verdict: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Something that answers the requests a [`Flow`](corsair::browser::Flow)
/// asks for: the network ([`HttpClient`]) or an in-process server.
pub trait Transport {
    /// Sends one request with exactly these headers and returns the
    /// response head.
    fn send(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
    ) -> impl Future<Output = Result<Response, ClientError>> + Send;
}

impl Transport for HttpClient {
    fn send(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
    ) -> impl Future<Output = Result<Response, ClientError>> + Send {
        HttpClient::send(self, method, url, headers)
    }
}

/// A finished flow: the browser's verdict and the HTTP version of each
/// response, in order.
#[derive(Debug)]
pub struct Driven {
    /// What the browser would do.
    pub outcome: Outcome,
    /// The HTTP version of each response.
    pub versions: Vec<http::Version>,
}

/// A flow that stopped because a request got no response: no CORS
/// verdict exists.
#[derive(Debug)]
pub struct DriveError {
    /// `METHOD URL` of the request that failed.
    pub request: String,
    /// Why it failed.
    pub error: ClientError,
    /// The exchanges completed before it.
    pub exchanges: Vec<Exchange>,
}

/// Runs one `fetch()` through `browser`: sends each request the flow asks
/// for with `transport` and feeds the responses back until the browser
/// decides. Used by `corsair check` and `corsair playground`.
pub async fn drive<T: Transport>(
    transport: &T,
    browser: &mut Browser,
    request: BrowserRequest,
) -> Result<Driven, DriveError> {
    let mut versions = Vec::new();
    let mut flow = browser.start(request);
    let mut step = flow.next_step();
    loop {
        match step {
            Step::SendPreflight(r) | Step::SendActual(r) => {
                match transport.send(&r.method, &r.url, &r.headers).await {
                    Ok(resp) => {
                        versions.push(resp.version);
                        step = flow.on_response(resp.status, &resp.headers);
                    }
                    Err(error) => {
                        return Err(DriveError {
                            request: format!("{} {}", r.method, r.url),
                            error,
                            exchanges: flow.exchanges().to_vec(),
                        })
                    }
                }
            }
            Step::Done(outcome) => {
                return Ok(Driven {
                    outcome: *outcome,
                    versions,
                })
            }
        }
    }
}

/// The `--json` object.
pub fn json_report(args: &CheckArgs, o: &Outcome) -> serde_json::Value {
    let error = o.error.as_ref().map(|e| {
        serde_json::json!({
            "code": e.code(),
            "message": e.message(args.browser),
            "stage": e.stage,
            "status": e.status,
            "explanation": e.explanation(),
            "fix": e.fix(),
            "detail": e.kind,
        })
    });
    serde_json::json!({
        "allowed": o.allowed,
        "browser": args.browser,
        "origin": args.origin,
        "url": args.url,
        "method": o.exchanges.iter().find(|x| x.kind == ExchangeKind::Actual).map(|x| x.request.method.as_str().to_string()),
        "credentials": args.credentials,
        "status": o.status,
        "final_url": o.final_url,
        "preflight_sent": o.preflight_sent,
        "preflight_cache_hit": o.preflight_cache_hit,
        "preflight_max_age": o.preflight_max_age,
        "redirects": o.redirects,
        "exposed_headers": o.exposed_headers,
        "dropped_headers": o.dropped_headers,
        "error": error,
        "exchanges": o.exchanges,
    })
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("1;32", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }
}

/// The human report: each request and response, the verdict, the fix.
pub fn story(
    args: &CheckArgs,
    method: &str,
    o: &Outcome,
    dropped: &[String],
    color: bool,
) -> String {
    let p = Paint(color);
    let mut s = String::new();
    s.push_str(&format!(
        "{} fetch(\"{}\", {{ method: \"{}\", credentials: \"{}\" }}) from {}, as {}\n",
        p.bold("corsair check:"),
        args.url,
        method,
        args.credentials.name(),
        args.origin,
        args.browser
    ));
    if !dropped.is_empty() {
        s.push_str(&format!(
            "{}\n",
            p.dim(&format!(
                "  (forbidden headers dropped, as fetch() does: {})",
                dropped.join(", ")
            ))
        ));
    }
    for (i, x) in o.exchanges.iter().enumerate() {
        let title = match x.kind {
            ExchangeKind::Preflight => "preflight",
            ExchangeKind::Actual if i > 0 && o.exchanges[i - 1].kind == ExchangeKind::Actual => {
                "redirected request"
            }
            ExchangeKind::Actual => "request",
        };
        s.push_str(&format!(
            "\n{} {} — {}\n",
            p.cyan(&format!("[{}]", i + 1)),
            p.bold(title),
            x.note
        ));
        s.push_str(&format!("  → {} {}\n", x.request.method, x.request.url));
        for (n, v) in &x.request.headers {
            s.push_str(&format!(
                "    {}: {}\n",
                n,
                String::from_utf8_lossy(v.as_bytes())
            ));
        }
        match &x.response {
            Some(r) => {
                s.push_str(&format!("  ← {}\n", r.status));
                for (n, v) in &r.headers {
                    let line = format!("    {}: {}", n, String::from_utf8_lossy(v.as_bytes()));
                    if n.as_str().starts_with("access-control-") || n == "location" || n == "vary" {
                        s.push_str(&format!("{}\n", p.bold(&line)));
                    } else {
                        s.push_str(&format!("{}\n", p.dim(&line)));
                    }
                }
            }
            None => s.push_str("  ← (no response)\n"),
        }
    }
    s.push('\n');
    match &o.error {
        None => {
            s.push_str(&format!(
                "{} the script can read the response (status {}).\n",
                p.green("ALLOWED:"),
                o.status.map_or_else(|| "?".into(), |x| x.to_string())
            ));
            s.push_str(&format!(
                "  Readable headers: {}\n",
                if o.exposed_headers.is_empty() {
                    "(none)".to_string()
                } else {
                    o.exposed_headers.join(", ")
                }
            ));
            if let Some(age) = o.preflight_max_age {
                s.push_str(&format!(
                    "  Preflight cached for {age} s by {}.\n",
                    args.browser
                ));
            }
        }
        Some(e) => {
            s.push_str(&format!("{} {}\n", p.red("BLOCKED:"), e.code()));
            s.push_str(&format!(
                "  {} console:\n    {}\n",
                args.browser,
                e.message(args.browser).replace('\n', "\n    ")
            ));
            s.push_str(&format!("  Why: {}\n", e.explanation()));
            let fix = e.fix();
            s.push_str(&format!("  {} {}\n", p.bold("Fix:"), fix.summary));
            if let (Some(h), Some(v)) = (&fix.header, &fix.value) {
                s.push_str(&format!("    {h}: {v}\n"));
            }
            s.push_str("  With corsair as the server's CORS layer:\n");
            for line in fix.toml.lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
    }
    s
}
