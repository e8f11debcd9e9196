//! `corsair export` and `corsair import`: one policy as the configuration of
//! nginx, HAProxy, Caddy, Apache, Envoy, Traefik, Kong, the Gateway API,
//! S3 or API Gateway, and such a configuration read back and audited
//! (`corsair_export`).

use std::path::PathBuf;
use std::process::ExitCode;

use corsair::{CorsConfig, Severity};
use corsair_export::{ExportError, Options, Route, Target};
use serde::Deserialize;

/// Arguments of `corsair export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair export --config cors.toml --to nginx --upstream http://127.0.0.1:3000 --listen 127.0.0.1:8080 > nginx.conf\n  \
nginx -p \"$PWD\" -c \"$PWD/nginx.conf\"\n  \
corsair export --config gateway.toml --to haproxy --snippet\n  \
corsair export --config cors.toml --to envoy --approximate\n\n\
Targets: nginx, haproxy, caddy, apache (complete configs, or --snippet), envoy, traefik, kong, \
gateway-api, s3, apigateway. docs/export.md says what each can express.\n\n\
Exit status: 0 when exported, 2 when the target cannot enforce the policy exactly (each \
difference is listed; --approximate exports anyway unless it would grant more) or the \
config is invalid.")]
pub struct ExportArgs {
    /// A file with a [cors] table, or a `corsair serve` config with [[routes]].
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// The target.
    #[arg(long, value_name = "TARGET")]
    pub to: Target,
    /// Where the proxy forwards requests (default: the file's `upstream`).
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// The address the proxy listens on (default: the file's `listen`, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Print only the part to paste into an existing config.
    #[arg(long)]
    pub snippet: bool,
    /// Export even where the target differs from the policy, with each difference as a comment.
    #[arg(long)]
    pub approximate: bool,
    /// Where Apache keeps its pid file and runtime files.
    #[arg(long, value_name = "DIR", default_value = "/tmp/corsair-apache")]
    pub runtime_dir: String,
}

/// Arguments of `corsair import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair import --from nginx /etc/nginx/conf.d/api.conf\n  \
corsair import --from traefik dynamic.yml > cors.toml\n  \
corsair import --from s3 bucket-cors.json --json\n\n\
Prints the policy as corsair config (TOML) on stdout, and every problem on stderr with the \
line it comes from: reflected origins, unanchored regexes, `*` with credentials, `null`, \
insecure origins, wildcards over public suffixes.\n\n\
Exit status: 0 when the config is safe, 1 when it has errors (printed), 2 when it cannot be \
read.")]
pub struct ImportArgs {
    /// The format of FILE.
    #[arg(long, value_name = "TARGET")]
    pub from: Target,
    /// The configuration to read.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print one JSON object: routes and findings.
    #[arg(long)]
    pub json: bool,
}

/// The parts of a config file `export` reads; other keys belong to other
/// tools.
#[derive(Debug, Deserialize)]
struct File {
    upstream: Option<String>,
    listen: Option<String>,
    cors: Option<CorsConfig>,
    #[serde(default)]
    routes: Vec<RouteFile>,
}

#[derive(Debug, Deserialize)]
struct RouteFile {
    path_prefix: Option<String>,
    host: Option<String>,
    upstream: Option<String>,
    cors: Option<CorsConfig>,
}

/// The routes of a file: each `[[routes]]` with a policy (its own or the
/// top-level one), then the top-level `[cors]` for the rest of the site.
fn routes_of(file: &File) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for (i, r) in file.routes.iter().enumerate() {
        if let Some(host) = &r.host {
            return Err(format!(
                "routes[{i}] matches the host `{host}`: export routes by path only (one export per \
                 host, with that host's routes)"
            ));
        }
        if let Some(upstream) = r
            .upstream
            .as_ref()
            .filter(|u| Some(*u) != file.upstream.as_ref())
        {
            return Err(format!(
                "routes[{i}] has its own upstream `{upstream}`: export sends every route to one \
                 upstream, so export the routes of each upstream on their own"
            ));
        }
        let Some(cors) = r.cors.clone().or_else(|| file.cors.clone()) else {
            continue;
        };
        routes.push(Route {
            name: format!("routes[{i}]"),
            path_prefix: r.path_prefix.clone(),
            cors,
        });
    }
    if let Some(cors) = &file.cors {
        routes.push(Route::whole_site(cors.clone()));
    }
    Ok(routes)
}

/// Runs `corsair export`.
pub fn run_export(args: ExportArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.config.display());
            return ExitCode::from(2);
        }
    };
    let file: File = match toml::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "error: {}: {}",
                args.config.display(),
                e.to_string().trim_end()
            );
            return ExitCode::from(2);
        }
    };
    let routes = match routes_of(&file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.config.display());
            return ExitCode::from(2);
        }
    };
    let upstream = args.upstream.or(file.upstream);
    if args.to.is_proxy() && !args.snippet && upstream.is_none() {
        eprintln!(
            "error: a complete {} config needs the upstream: pass --upstream http://HOST:PORT \
             (or --snippet for the part to paste)",
            args.to
        );
        return ExitCode::from(2);
    }
    let options = Options {
        upstream: upstream.unwrap_or_else(|| Options::default().upstream),
        listen: args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| Options::default().listen),
        snippet: args.snippet,
        approximate: args.approximate,
        runtime_dir: args.runtime_dir,
    };
    match corsair_export::export(&routes, args.to, &options) {
        Ok(exported) => {
            for gap in &exported.approximations {
                eprintln!("warning: {gap}");
            }
            print!("{}", exported.text);
            ExitCode::SUCCESS
        }
        Err(e @ ExportError::Gaps { .. }) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.config.display());
            ExitCode::from(2)
        }
    }
}

/// Runs `corsair import`.
pub fn run_import(args: ImportArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let imported = match corsair_export::import(args.from, &text) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    if args.json {
        let routes: Vec<serde_json::Value> = imported
            .routes
            .iter()
            .map(|r| {
                serde_json::json!({"name": r.name, "path_prefix": r.path_prefix, "cors": r.cors})
            })
            .collect();
        let findings: Vec<serde_json::Value> = imported
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "line": f.line,
                    "severity": if f.severity == Severity::Error { "error" } else { "warning" },
                    "message": f.message,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"from": args.from.name(), "routes": routes, "findings": findings})
        );
    } else {
        print!("{}", toml_of(&imported.routes));
        for f in &imported.findings {
            eprintln!("{}: {f}", args.file.display());
        }
    }
    if imported.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The routes as corsair config: `[cors]` for one whole-site route, else
/// `[[routes]]`.
fn toml_of(routes: &[Route]) -> String {
    #[derive(serde::Serialize)]
    struct One<'a> {
        cors: &'a CorsConfig,
    }
    #[derive(serde::Serialize)]
    struct Many<'a> {
        routes: Vec<RouteOut<'a>>,
    }
    #[derive(serde::Serialize)]
    struct RouteOut<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        path_prefix: Option<&'a str>,
        cors: &'a CorsConfig,
    }
    let text = match routes {
        [one] if one.path_prefix.is_none() => toml::to_string(&One { cors: &one.cors }),
        _ => toml::to_string(&Many {
            routes: routes
                .iter()
                .map(|r| RouteOut {
                    path_prefix: r.path_prefix.as_deref(),
                    cors: &r.cors,
                })
                .collect(),
        }),
    };
    text.unwrap_or_default()
}
