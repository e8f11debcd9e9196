//! The gateway config file: the `[cors]` policy with gateway keys added.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! upstream = "http://127.0.0.1:3000"
//! admin = "127.0.0.1:9090"
//! max_body_bytes = 10485760
//! preserve_host = false
//! [timeouts]
//! connect = "5s"
//! upstream = "30s"
//! idle = "60s"
//! body = "60s"
//! upstream_body = "60s"
//! handshake = "10s"
//! shutdown = "30s"
//! [tls]
//! cert = "cert.pem"
//! key = "key.pem"
//! [cors]
//! allow_origins = ["https://app.example.com"]
//! [[routes]]
//! path_prefix = "/public"
//! upstream = "http://127.0.0.1:3001"
//! [routes.cors]
//! allow_origins = ["*"]
//! ```
//!
//! Parsing checks only the shape (unknown keys are errors, so a typo is
//! reported); [`crate::config::settings`] checks the values and reports every problem.

use std::path::PathBuf;

use corsair::CorsConfig;
use serde::Deserialize;

use crate::config::duration::DurationText;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// The address the gateway listens on (default 127.0.0.1:8080).
    pub listen: Option<String>,
    /// The upstream every request goes to unless a route says otherwise.
    pub upstream: Option<String>,
    /// The admin address serving /metrics and /healthz (off when absent).
    pub admin: Option<String>,
    /// The largest request body forwarded, in bytes (default 10 MiB).
    pub max_body_bytes: Option<u64>,
    /// Forward the client's `Host` instead of the upstream's (default false).
    #[serde(default)]
    pub preserve_host: bool,
    /// Request headers removed before forwarding: client-IP headers the
    /// gateway does not vouch for (default: `X-Real-IP`, `True-Client-IP`,
    /// `CF-Connecting-IP`, `X-Client-IP`, `X-Forwarded-Port`); a list here
    /// replaces the default.
    pub strip_request_headers: Option<Vec<String>>,
    /// The host names the gateway is reached by (and each route's `host`):
    /// a WebSocket handshake whose `Origin` is one of them is the gateway's
    /// own page, let through whatever the policy says.
    #[serde(default)]
    pub server_names: Vec<String>,
    /// Forward paths the gateway and an upstream may read differently
    /// (`%2F`, `%5C`, `;`, `..` above the root) for requests no route takes,
    /// instead of answering 400 (default false).
    #[serde(default)]
    pub allow_ambiguous_paths: bool,
    /// Timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsFile,
    /// TLS on the listening side.
    pub tls: Option<TlsFile>,
    /// The policy of requests that match no route.
    pub cors: Option<CorsConfig>,
    /// Parts of the API with their own policy and upstream.
    #[serde(default)]
    pub routes: Vec<RouteFile>,
}

/// `[timeouts]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    /// Connecting to the upstream (default 5s).
    pub connect: Option<DurationText>,
    /// Waiting for the upstream's response headers (default 30s).
    pub upstream: Option<DurationText>,
    /// Keeping an idle connection open, client and upstream side; on
    /// HTTP/1.1 it also bounds the wait for a whole request head
    /// (default 60s).
    pub idle: Option<DurationText>,
    /// Between two reads of a request body (default 60s).
    pub body: Option<DurationText>,
    /// Between two reads of an upstream's response body (default 60s).
    pub upstream_body: Option<DurationText>,
    /// A TLS handshake on the listening side (default 10s).
    pub handshake: Option<DurationText>,
    /// Draining in-flight requests on SIGTERM/SIGINT (default 30s).
    pub shutdown: Option<DurationText>,
}

/// `[tls]`: PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// One `[[routes]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// Requests whose path starts with this (at a `/` boundary).
    pub path_prefix: Option<String>,
    /// Requests for this host (the `Host` header or the HTTP/2 authority).
    pub host: Option<String>,
    /// The upstream of this route (default: the top-level one).
    pub upstream: Option<String>,
    /// The policy of this route.
    pub cors: Option<CorsConfig>,
    /// Forward ambiguous paths on this route instead of answering 400
    /// (default false).
    #[serde(default)]
    pub allow_ambiguous_paths: bool,
}

impl GatewayFile {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }
}
