//! The gateway's metrics, kept in atomics and written in the Prometheus text
//! format (version 0.0.4) by the admin listener. No registry, no locks.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::failure::Failure;

/// The request kinds, as [`corsair::RequestKind::as_str`] writes them.
const KINDS: [&str; 3] = ["non-cors", "actual", "preflight"];
/// Every decision code of [`corsair::Verdict::code`].
const DECISIONS: [&str; 12] = [
    "non-cors",
    "origin-exact",
    "origin-any",
    "origin-pattern",
    "origin-regex",
    "origin-not-allowed",
    "multiple-origins",
    "malformed-method",
    "method-not-allowed",
    "malformed-headers",
    "header-not-allowed",
    "private-network-not-allowed",
];
const FAILURES: [Failure; 3] = [Failure::Connect, Failure::Timeout, Failure::Broken];
/// Upper bounds of the upstream latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every counter of the gateway.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; DECISIONS.len()]; KINDS.len()],
    upstream_errors: [AtomicU64; FAILURES.len()],
    bodies_too_large: AtomicU64,
    /// Non-cumulative counts per bucket, plus one for +Inf.
    latency_buckets: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    in_flight: AtomicU64,
    upgrades_tunnelled: AtomicU64,
    upgrades_refused: AtomicU64,
    tunnels_open: AtomicU64,
}

impl Metrics {
    /// Counts a request by its CORS decision.
    pub fn request(&self, kind: &str, decision: &str) {
        let k = KINDS.iter().position(|x| *x == kind);
        let d = DECISIONS.iter().position(|x| *x == decision);
        if let (Some(k), Some(d)) = (k, d) {
            self.requests[k][d].fetch_add(1, Relaxed);
        }
    }

    /// Records how long the upstream took to send its response headers.
    pub fn upstream_latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.latency_buckets[i].fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// Counts a request the gateway answered itself.
    pub fn failure(&self, failure: Failure) {
        if let Some(i) = FAILURES.iter().position(|f| *f == failure) {
            self.upstream_errors[i].fetch_add(1, Relaxed);
        } else if failure == Failure::BodyTooLarge {
            self.bodies_too_large.fetch_add(1, Relaxed);
        }
    }

    /// Counts a reload.
    pub fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Relaxed);
        }
    }

    /// One more request in flight, until [`Metrics::request_ended`].
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Relaxed);
    }

    /// One request fewer in flight (answered, or dropped unanswered).
    pub fn request_ended(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
    }

    /// Counts a protocol upgrade refused for its origin.
    pub fn upgrade_refused(&self) {
        self.upgrades_refused.fetch_add(1, Relaxed);
    }

    /// Counts a tunnel opened after a `101`; the guard counts it closed
    /// when dropped.
    pub fn tunnel_opened(&self) -> TunnelOpen<'_> {
        self.upgrades_tunnelled.fetch_add(1, Relaxed);
        self.tunnels_open.fetch_add(1, Relaxed);
        TunnelOpen(self)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "corsair_requests_total",
            "counter",
            "Requests by CORS request kind and decision.",
        );
        for (k, kind) in KINDS.iter().enumerate() {
            for (d, decision) in DECISIONS.iter().enumerate() {
                let n = self.requests[k][d].load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "corsair_requests_total{{kind=\"{kind}\",decision=\"{decision}\"}} {n}"
                    );
                }
            }
        }
        family(
            &mut out,
            "corsair_upstream_errors_total",
            "counter",
            "Requests answered 502/504 because the upstream failed.",
        );
        for (i, f) in FAILURES.iter().enumerate() {
            let n = self.upstream_errors[i].load(Relaxed);
            let _ = writeln!(
                out,
                "corsair_upstream_errors_total{{error=\"{}\"}} {n}",
                f.code()
            );
        }
        family(
            &mut out,
            "corsair_upstream_response_seconds",
            "histogram",
            "Time until the upstream's response headers.",
        );
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "corsair_upstream_response_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.latency_buckets[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(
            out,
            "corsair_upstream_response_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "corsair_upstream_response_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "corsair_upstream_response_seconds_count {cumulative}");
        let plain: [PlainFamily; 5] = [
            (
                "corsair_request_body_too_large_total",
                "counter",
                "Requests answered 413.",
                &[("", &self.bodies_too_large)],
            ),
            (
                "corsair_config_reloads_total",
                "counter",
                "Config reloads by result.",
                &[
                    ("{result=\"ok\"}", &self.reloads_ok),
                    ("{result=\"failed\"}", &self.reloads_failed),
                ],
            ),
            (
                "corsair_upgrades_total",
                "counter",
                "Protocol upgrades (WebSocket handshakes) by result.",
                &[
                    ("{result=\"tunnelled\"}", &self.upgrades_tunnelled),
                    ("{result=\"refused\"}", &self.upgrades_refused),
                ],
            ),
            (
                "corsair_tunnels_open",
                "gauge",
                "Upgraded connections open now.",
                &[("", &self.tunnels_open)],
            ),
            (
                "corsair_requests_in_flight",
                "gauge",
                "Requests being served.",
                &[("", &self.in_flight)],
            ),
        ];
        for (name, kind, help, samples) in plain {
            family(&mut out, name, kind, help);
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {}", value.load(Relaxed));
            }
        }
        out
    }
}

/// A family written as is: name, type, help, then its samples as
/// (labels, value).
type PlainFamily<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a AtomicU64)]);

/// The `# HELP` and `# TYPE` lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Counts a tunnel out of [`Metrics::tunnel_opened`]'s gauge when dropped.
#[derive(Debug)]
pub struct TunnelOpen<'a>(&'a Metrics);

impl Drop for TunnelOpen<'_> {
    fn drop(&mut self) {
        self.0.tunnels_open.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("actual", "origin-exact");
        m.request("preflight", "origin-not-allowed");
        m.upstream_latency(Duration::from_micros(500));
        m.upstream_latency(Duration::from_millis(30));
        m.failure(Failure::Timeout);
        m.reload(false);
        let text = m.render();
        assert!(
            text.contains("corsair_requests_total{kind=\"actual\",decision=\"origin-exact\"} 1\n")
        );
        assert!(text.contains(
            "corsair_requests_total{kind=\"preflight\",decision=\"origin-not-allowed\"} 1\n"
        ));
        assert!(text.contains("corsair_upstream_response_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("corsair_upstream_response_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("corsair_upstream_response_seconds_count 2\n"));
        assert!(text.contains("corsair_upstream_errors_total{error=\"upstream-timeout\"} 1\n"));
        assert!(text.contains("corsair_config_reloads_total{result=\"failed\"} 1\n"));
        assert!(text.contains("# TYPE corsair_tunnels_open gauge\n"));
        m.upgrade_refused();
        let tunnel = m.tunnel_opened();
        let text = m.render();
        assert!(text.contains("corsair_upgrades_total{result=\"refused\"} 1\n"));
        assert!(text.contains("corsair_upgrades_total{result=\"tunnelled\"} 1\n"));
        assert!(text.contains("corsair_tunnels_open 1\n"));
        drop(tunnel);
        assert!(m.render().contains("corsair_tunnels_open 0\n"));
    }
}
