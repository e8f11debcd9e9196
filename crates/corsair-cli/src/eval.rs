//! `corsair eval`: what a policy answers to one request, with no network.

use std::path::PathBuf;
use std::process::ExitCode;

use corsair::{Decision, Policy, Refusal, RequestKind, Verdict};
use http::{HeaderMap, HeaderValue, Method};

use crate::header_arg::{self, HeaderArg};
use crate::policy_file::load_policy;

/// Arguments of `corsair eval`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair eval --config cors.toml --origin https://app.example.com\n  \
corsair eval --config cors.toml --method OPTIONS \\\n      \
--header 'Origin: https://app.example.com' \\\n      \
--header 'Access-Control-Request-Method: PUT' \\\n      \
--header 'Access-Control-Request-Headers: authorization' --json\n\n\
Exit status: 0 when the request could be evaluated (allowed or refused), 2 for a bad \
config or bad arguments.")]
pub struct Args {
    /// The TOML file with a [cors] table.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// The request method (OPTIONS with Access-Control-Request-Method is a preflight).
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header, as 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'", value_parser = header_arg::parse)]
    pub headers: Vec<HeaderArg>,
    /// Shorthand for --header 'Origin: ORIGIN'.
    #[arg(long)]
    pub origin: Option<String>,
    /// Print one JSON object: kind, allowed, status, headers, reason.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let policy = match load_policy(&args.config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let method = match Method::from_bytes(args.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            eprintln!("error: `{}` is not a valid HTTP method", args.method);
            return ExitCode::from(2);
        }
    };
    let mut headers = HeaderMap::new();
    for h in args.headers {
        headers.append(h.name, h.value);
    }
    if let Some(origin) = &args.origin {
        match HeaderValue::from_str(origin) {
            Ok(v) => {
                headers.append(http::header::ORIGIN, v);
            }
            Err(_) => {
                eprintln!("error: --origin `{origin}` cannot be sent as a header value");
                return ExitCode::from(2);
            }
        }
    }
    for w in policy.warnings() {
        eprintln!("{w}");
    }
    let decision = policy.evaluate(&method, &headers);
    if args.json {
        println!("{}", json(&decision));
    } else {
        print!("{}", human(&policy, &method, &headers, &decision));
    }
    ExitCode::SUCCESS
}

/// The `--json` object: exactly `kind`, `allowed`, `status`, `headers`, `reason`.
pub fn json(d: &Decision) -> serde_json::Value {
    let headers: Vec<[String; 2]> = d
        .headers
        .iter()
        .map(|(n, v)| {
            [
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ]
        })
        .collect();
    serde_json::json!({
        "kind": d.kind.as_str(),
        "allowed": d.is_allowed(),
        "status": d.status.map(|s| s.as_u16()),
        "headers": headers,
        "reason": d.verdict.to_string(),
    })
}

fn human(policy: &Policy, method: &Method, headers: &HeaderMap, d: &Decision) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let origin = headers
        .get(http::header::ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let _ = writeln!(
        out,
        "request:  {method}{}",
        origin
            .as_deref()
            .map(|o| format!(" from origin {o}"))
            .unwrap_or_default()
    );
    let kind = match d.kind {
        RequestKind::NonCors => "not a CORS request (no Origin header)",
        RequestKind::Actual => "actual CORS request (the application answers; the policy adds headers)",
        RequestKind::Preflight => {
            "preflight (OPTIONS with Origin and Access-Control-Request-Method; the policy answers it itself)"
        }
    };
    let _ = writeln!(out, "kind:     {kind}");
    let verdict = if d.is_allowed() { "ALLOWED" } else { "REFUSED" };
    let _ = writeln!(out, "verdict:  {verdict}, {}", d.verdict);
    if let Some(status) = d.status {
        let _ = writeln!(
            out,
            "status:   {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
    }
    let mut any = false;
    for (n, v) in d.headers.iter() {
        if !any {
            let _ = writeln!(out, "headers:");
            any = true;
        }
        let _ = writeln!(out, "  {n}: {}", String::from_utf8_lossy(v.as_bytes()));
    }
    if !any {
        let _ = writeln!(out, "headers:  (none)");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", explain(policy, d));
    out
}

/// What the browser will do, in plain words, and how to change the policy.
fn explain(policy: &Policy, d: &Decision) -> String {
    match (&d.verdict, d.kind) {
        (Verdict::Allowed(_), RequestKind::NonCors) => {
            "Browsers only send Origin on cross-origin requests (and some same-origin ones); \
             without it the policy adds no CORS headers, only Vary: Origin when its answer depends \
             on the origin, so that caches keep answers for different origins apart."
                .to_string()
        }
        (Verdict::Allowed(_), RequestKind::Preflight) => {
            "The browser accepts this preflight and goes on to send the actual request.".to_string()
        }
        (Verdict::Allowed(_), _) => {
            let creds = if policy.allows_credentials() {
                " Credentialed requests (cookies) may read it too."
            } else {
                " Requests with credentials (credentials: 'include') would be blocked: the policy \
                 does not set allow_credentials."
            };
            format!("The page's script may read this response.{creds}")
        }
        (Verdict::Refused(r), kind) => {
            let what = if kind == RequestKind::Preflight {
                "The browser will not send the actual request: the preflight fails and the page's \
                 script sees a network error (TypeError: Failed to fetch)."
            } else {
                "The browser receives the response but hides it from the page's script, which sees \
                 a network error (TypeError: Failed to fetch)."
            };
            let fix = match r {
                Refusal::OriginNotAllowed { origin } => format!(
                    "To allow it, add \"{}\" to allow_origins.",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
                Refusal::MethodNotAllowed {
                    method,
                    case_mismatch: None,
                } => format!("To allow it, add \"{method}\" to allow_methods."),
                Refusal::MethodNotAllowed { .. } => String::new(),
                Refusal::HeaderNotAllowed { name } => format!(
                    "To allow it, add \"{}\" to allow_headers.",
                    name.to_ascii_lowercase()
                ),
                Refusal::PrivateNetworkNotAllowed => {
                    "To allow it, set allow_private_network = true.".to_string()
                }
                Refusal::MultipleOrigins | Refusal::MalformedMethod | Refusal::MalformedHeaders => {
                    "No browser sends this; it comes from a script or a broken proxy.".to_string()
                }
            };
            format!("{what}\n{fix}").trim_end().to_string()
        }
    }
}
