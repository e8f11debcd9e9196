//! `corsair serve`: the command line over the `corsair-gateway` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use corsair::CorsConfig;
use corsair_gateway::{GatewayFile, LogStyle, Options, Overrides, Source};

/// How the access log and the other events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object a line, for log shippers.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Arguments of `corsair serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
corsair serve --config gateway.toml\n  \
corsair serve --upstream http://127.0.0.1:3000 --allow-origin https://app.example.com\n  \
corsair serve --upstream http://127.0.0.1:3000 --allow-origin https://app.example.com \\\n      \
--allow-credentials --allow-method PUT --allow-header authorization --listen 127.0.0.1:8080\n\n\
A config file is the [cors] policy with gateway keys added:\n  \
listen = \"127.0.0.1:8080\"\n  \
upstream = \"http://127.0.0.1:3000\"\n  \
admin = \"127.0.0.1:9090\"          # /metrics and /healthz (optional)\n  \
max_body_bytes = 10485760\n  \
server_names = [\"api.example.com\"] # the gateway's own names (WebSocket pages)\n  \
[timeouts]                        # optional: connect, upstream, upstream_body, idle,\n  \
upstream = \"30s\"                  #   body, handshake, shutdown\n  \
[cors]\n  \
allow_origins = [\"https://app.example.com\"]\n  \
[[routes]]                        # optional: own policy (and upstream) per path or host\n  \
path_prefix = \"/public\"\n  \
[routes.cors]\n  \
allow_origins = [\"*\"]\n\n\
The gateway answers preflights itself, forwards every other request to the configured \
upstream only (never to a URL taken from the request) and reloads the config file on \
SIGHUP or when it changes (once the file has stayed the same for 2 s: write it atomically). \
Paths are routed and forwarded normalised; ambiguous ones (%2F, ;, .. above /) get 400 unless \
a route sets allow_ambiguous_paths = true. Client-IP headers the gateway does not vouch for \
(X-Real-IP, True-Client-IP, ...) are removed: see strip_request_headers. Every key: \
docs/gateway.md.\n\n\
Exit status: 0 after a graceful shutdown (SIGTERM, SIGINT), 2 for a bad config or bad \
arguments (every problem is listed), 1 when the server cannot start (address in use).")]
pub struct Args {
    /// The gateway config file (TOML): listen, upstream, [cors], optional admin,
    /// [timeouts], max_body_bytes, [tls] and [[routes]].
    #[arg(long, short, value_name = "FILE", conflicts_with_all = ["upstream", "allow_origins"])]
    pub config: Option<PathBuf>,
    /// Quick start without a file: the upstream to forward to (http:// or https://).
    #[arg(long, value_name = "URL", requires = "allow_origins")]
    pub upstream: Option<String>,
    /// Quick start: an origin allowed to read responses (repeatable; patterns and `*` work
    /// as in allow_origins).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Quick start: a method preflights may ask for beyond GET, HEAD and POST (repeatable).
    #[arg(long = "allow-method", value_name = "METHOD")]
    pub allow_methods: Vec<String>,
    /// Quick start: a request header preflights may ask for (repeatable).
    #[arg(long = "allow-header", value_name = "NAME")]
    pub allow_headers: Vec<String>,
    /// Quick start: let credentialed requests (cookies, HTTP auth) read responses.
    #[arg(long)]
    pub allow_credentials: bool,
    /// The address to listen on (default 127.0.0.1:8080; overrides the file's `listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The admin address serving /metrics and /healthz (overrides the file's `admin`).
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<String>,
    /// The log format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// The most verbose level logged: error, warn, info (access log), debug, trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: tracing::Level,
}

impl From<LogFormat> for LogStyle {
    fn from(format: LogFormat) -> Self {
        match format {
            LogFormat::Json => LogStyle::Json,
            LogFormat::Pretty => LogStyle::Text,
        }
    }
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let source = match (&args.config, &args.upstream) {
        (Some(path), _) => Source::File(path.clone()),
        (None, Some(upstream)) => Source::Inline(Box::new(GatewayFile {
            upstream: Some(upstream.clone()),
            cors: Some(CorsConfig {
                allow_origins: args.allow_origins.clone(),
                allow_methods: args.allow_methods.clone(),
                allow_headers: args.allow_headers.clone(),
                allow_credentials: args.allow_credentials,
                ..CorsConfig::default()
            }),
            ..GatewayFile::default()
        })),
        (None, None) => {
            eprintln!(
                "error: give --config FILE, or --upstream URL with at least one --allow-origin \
                 ORIGIN (see `corsair serve --help`)"
            );
            return ExitCode::from(2);
        }
    };
    let options = Options {
        source,
        overrides: Overrides {
            listen: args.listen,
            admin: args.admin,
        },
        log_style: args.log_format.into(),
        log_level: args.log_level,
    };
    match corsair_gateway::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
