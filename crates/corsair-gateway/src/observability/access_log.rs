//! The access log: one `tracing` event per request, target
//! `corsair::access`, level info, with the method, path, status, latency,
//! route and the CORS decision (kind and reason code).

use std::time::Instant;

use http::{Method, StatusCode};

/// The `tracing` target of access log events.
pub const TARGET: &str = "corsair::access";

/// Whether access log events are recorded (so the request fields are only
/// copied when they will be written).
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// What the log says about one request.
#[derive(Debug)]
pub struct Entry {
    /// When the gateway got the request.
    pub start: Instant,
    /// The request method.
    pub method: Method,
    /// The request path (no query: it may hold secrets).
    pub path: String,
    /// The route that took the request.
    pub route: String,
}

impl Entry {
    /// Writes the event; `kind` is `non-cors`, `actual` or `preflight`,
    /// `decision` the reason code (`origin-exact`, `origin-not-allowed`, ...).
    pub fn write(self, status: StatusCode, kind: &'static str, decision: &'static str) {
        tracing::info!(
            target: TARGET,
            method = self.method.as_str(),
            path = self.path,
            status = status.as_u16(),
            // Nanoseconds divided once: `4.574685`, not the
            // `4.574685000000001` that seconds times 1000 can give.
            latency_ms = self.start.elapsed().as_nanos() as f64 / 1e6,
            route = self.route,
            kind = kind,
            decision = decision,
            "request"
        );
    }
}
