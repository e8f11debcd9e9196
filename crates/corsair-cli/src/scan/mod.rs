//! `corsair scan`: find CORS misconfigurations before attackers do.
//!
//! For each target the scan derives probe origins from the target's host and
//! registrable domain ([`probes`]), sends each as an actual `GET` and as a
//! preflight, judges every response with the browser model's CORS check
//! ([`judge`]), and reports every class it can prove ([`class`]), not just
//! the first.

pub mod class;
pub mod judge;
pub mod limiter;
pub mod openapi;
pub mod probes;
pub mod report;
pub mod sarif;
pub mod target;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::header_arg::{self, HeaderArg};
use crate::http_client::{load_cacert, ClientConfig, HttpClient, Resolve};

/// Arguments of `corsair scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair scan https://api.example.com/me\n  \
corsair scan --targets urls.txt --concurrency 32 --rate 200 --json > report.json\n  \
corsair scan https://api.example.com/me --trusted https://app.example.com \\\n      \
--header 'Cookie: session=...' --sarif cors.sarif\n  \
corsair scan https://staging.example.com/ --resolve staging.example.com:443:10.0.0.5\n  \
corsair scan --openapi openapi.yaml --server https://staging.example.com -k --header 'Authorization: Bearer ...'\n\n\
Classes: reflect-any-origin, null-origin, wildcard-origin, post-domain, pre-domain, \
substring-match, unescaped-dot, any-subdomain, insecure-origin, third-party-host, \
special-char-bypass, localhost-origin, invalid-acao, missing-vary, preflight-reflects-anything.\n\n\
--openapi scans every operation of the spec with its own method and headers (a method that \
changes state is only preflighted, never sent); one root cause across operations is reported \
once, with the list of operations.\n\n\
Exit status: 0 no findings (informational ones aside), 1 findings, 2 usage errors or no target \
could be scanned.")]
pub struct Args {
    /// URLs to scan.
    pub urls: Vec<String>,
    /// A file with one URL per line (`-` for standard input; `#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Print one JSON object: {"targets":[{"url","findings":[...],"error"}]}.
    #[arg(long)]
    pub json: bool,
    /// Also write a SARIF 2.1.0 log to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Targets scanned at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Requests per second across the whole scan (default: no limit).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Seconds to wait for each response.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
    /// A header sent with every request, as 'Name: value' (repeatable), e.g. a session cookie.
    #[arg(long = "header", short = 'H', value_name = "'NAME: VALUE'", value_parser = header_arg::parse)]
    pub headers: Vec<HeaderArg>,
    /// An origin the site means to allow (repeatable; corsair patterns like https://*.example.com work).
    #[arg(long, value_name = "ORIGIN")]
    pub trusted: Vec<String>,
    /// Connect to ADDR for HOST:PORT, keeping the URL's host (as curl's --resolve).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<Resolve>,
    /// Also trust the certificate authorities in this PEM file (a staging or test CA).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept any server certificate, as curl's -k (self-signed staging hosts); each result says so.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Scan every operation of this OpenAPI 3.x / Swagger 2.0 description (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    pub openapi: Option<PathBuf>,
    /// The server to scan with --openapi, instead of the spec's `servers` (e.g. a staging host).
    #[arg(long, value_name = "URL", requires = "openapi")]
    pub server: Option<String>,
}

fn read_targets(args: &Args) -> Result<Vec<String>, String> {
    let mut urls = args.urls.clone();
    if let Some(path) = &args.targets {
        let lines: Vec<String> = if path.as_os_str() == "-" {
            std::io::stdin().lock().lines().collect::<Result<_, _>>()
        } else {
            std::fs::read_to_string(path).map(|t| t.lines().map(str::to_string).collect())
        }
        .map_err(|e| format!("cannot read targets from {}: {e}", path.display()))?;
        urls.extend(
            lines
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        );
    }
    if urls.is_empty() && args.openapi.is_none() {
        return Err("no target: give URLs, --targets FILE or --openapi FILE".into());
    }
    Ok(urls)
}

/// The operations of `--openapi`, if given.
fn read_operations(args: &Args) -> Result<Vec<openapi::Operation>, String> {
    let Some(path) = &args.openapi else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    openapi::operations(&text, args.server.as_deref())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let urls = match read_targets(&args) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        eprintln!("error: --timeout must be a positive number of seconds");
        return ExitCode::from(2);
    }
    let trusted = match corsair::Policy::builder()
        .allow_origins(args.trusted.iter().cloned())
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --trusted: {}", e.to_string().trim_end());
            return ExitCode::from(2);
        }
    };
    let extra_roots = match args.cacert.as_deref().map(load_cacert).transpose() {
        Ok(roots) => roots.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let operations = match read_operations(&args) {
        Ok(ops) => ops,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let targets: Vec<(String, Option<openapi::Operation>)> = urls
        .into_iter()
        .map(|u| (u, None))
        .chain(operations.into_iter().map(|op| (op.url.clone(), Some(op))))
        .collect();
    let reports = runtime.block_on(scan_all(&args, targets, trusted, extra_roots));
    let spec = args.openapi.as_ref().map(|p| p.display().to_string());
    if let Some(path) = &args.sarif {
        let text = serde_json::to_string_pretty(&sarif::log(&reports, spec.as_deref()))
            .unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write SARIF to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if args.json {
        let mut out = serde_json::json!({ "targets": reports });
        if let Some(spec) = &spec {
            out["spec"] = serde_json::json!(spec);
            out["root_causes"] = serde_json::json!(report::root_causes(&reports));
        }
        println!("{out}");
    } else if spec.is_some() {
        print!("{}", report::human_by_operation(&reports));
    } else {
        print!("{}", report::human(&reports));
    }
    // Informational findings (`*` on a response that shows nothing
    // sensitive) are reported but do not fail the scan.
    let findings = reports.iter().any(|r| {
        r.findings
            .iter()
            .any(|f| f.severity > class::Severity::Info)
    });
    let all_failed = reports.iter().all(|r| r.error.is_some());
    if findings {
        ExitCode::from(1)
    } else if all_failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

async fn scan_all(
    args: &Args,
    targets: Vec<(String, Option<openapi::Operation>)>,
    trusted: corsair::Policy,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Vec<target::TargetReport> {
    let client = HttpClient::new(ClientConfig {
        timeout: Duration::from_secs_f64(args.timeout),
        resolve: args.resolve.clone(),
        extra_roots,
        insecure: args.insecure,
    });
    let shared = Arc::new((
        client,
        limiter::RateLimiter::new(args.rate),
        args.headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect::<Vec<_>>(),
        trusted,
        args.trusted.clone(),
    ));
    let bar = (targets.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} targets, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let semaphore = Arc::new(tokio::sync::Semaphore::new(usize::from(args.concurrency)));
    let mut tasks = Vec::with_capacity(targets.len());
    let insecure = args.insecure;
    for (url, operation) in targets {
        let task_url = url.clone();
        let shared = shared.clone();
        let semaphore = semaphore.clone();
        let bar = bar.clone();
        tasks.push((
            tokio::spawn(async move {
                let _permit = semaphore.acquire().await;
                let (client, limiter, extra, trusted, trusted_list) = &*shared;
                let scanner = target::Scanner {
                    client,
                    limiter,
                    extra,
                    trusted,
                    trusted_list,
                    insecure,
                };
                let report = scanner.scan(&url, operation.as_ref()).await;
                if let Some(bar) = bar {
                    bar.inc(1);
                }
                report
            }),
            task_url,
        ));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for (t, url) in tasks {
        match t.await {
            Ok(r) => reports.push(r),
            Err(e) => {
                let mut r = target::TargetReport::new(&url, None);
                r.error = Some(format!("internal error while scanning: {e}"));
                reports.push(r);
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    reports
}
