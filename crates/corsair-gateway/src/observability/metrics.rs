//! The gateway's metrics, kept in atomics and written in the Prometheus text
//! format (version 0.0.4) by the admin listener. No registry, no locks.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::upstream::failure::Failure;

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
/// The client's failures, counted apart from the upstream's.
const CLIENT_FAILURES: [Failure; 2] = [Failure::ClientBodyBroken, Failure::ClientBodyTimeout];
/// How an upstream's response body can fail once its head was passed on.
const BODY_FAILURES: [&str; 2] = ["upstream-body-broken", "upstream-body-timeout"];
/// Upper bounds of the upstream latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every counter of the gateway, in `T`: atomics in a worker's shard, plain
/// totals when rendered.
#[derive(Debug, Default)]
struct Counters<T> {
    requests: [[T; DECISIONS.len()]; KINDS.len()],
    upstream_errors: [T; FAILURES.len()],
    upstream_body_errors: [T; BODY_FAILURES.len()],
    client_errors: [T; CLIENT_FAILURES.len()],
    bodies_too_large: T,
    /// Non-cumulative counts per bucket, plus one for +Inf.
    latency_buckets: [T; BUCKETS.len() + 1],
    latency_sum_micros: T,
    reloads_ok: T,
    reloads_failed: T,
    /// A gauge: a shard's value may wrap below zero (a request counted in
    /// on one shard and out on another); the wrapping sum is right.
    in_flight: T,
    upgrades_tunnelled: T,
    upgrades_refused: T,
    tunnels_open: T,
}

/// One worker's counters, on cache lines of their own: the request path
/// only ever writes its own worker's shard, so two workers never contend
/// for a line (x86 prefetches lines in pairs: 128 bytes apart).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Counters<AtomicU64>);

impl Counters<u64> {
    /// Adds `shard`'s counts (wrapping: see `in_flight`).
    fn add(&mut self, shard: &Counters<AtomicU64>) {
        let add = |total: &mut u64, n: &AtomicU64| *total = total.wrapping_add(n.load(Relaxed));
        for (totals, counts) in self.requests.iter_mut().zip(&shard.requests) {
            for (total, n) in totals.iter_mut().zip(counts) {
                add(total, n);
            }
        }
        for (total, n) in self.upstream_errors.iter_mut().zip(&shard.upstream_errors) {
            add(total, n);
        }
        for (total, n) in self
            .upstream_body_errors
            .iter_mut()
            .zip(&shard.upstream_body_errors)
        {
            add(total, n);
        }
        for (total, n) in self.client_errors.iter_mut().zip(&shard.client_errors) {
            add(total, n);
        }
        for (total, n) in self.latency_buckets.iter_mut().zip(&shard.latency_buckets) {
            add(total, n);
        }
        add(&mut self.bodies_too_large, &shard.bodies_too_large);
        add(&mut self.latency_sum_micros, &shard.latency_sum_micros);
        add(&mut self.reloads_ok, &shard.reloads_ok);
        add(&mut self.reloads_failed, &shard.reloads_failed);
        add(&mut self.in_flight, &shard.in_flight);
        add(&mut self.upgrades_tunnelled, &shard.upgrades_tunnelled);
        add(&mut self.upgrades_refused, &shard.upgrades_refused);
        add(&mut self.tunnels_open, &shard.tunnels_open);
    }
}

thread_local! {
    /// The shard this thread writes (worker threads set theirs; every
    /// other thread writes shard 0, which the workers share only with the
    /// rare control-plane writes: reloads).
    static SHARD: Cell<usize> = const { Cell::new(0) };
}

/// The gateway's metrics: one shard per worker, summed when rendered.
#[derive(Debug)]
pub struct Metrics {
    shards: Box<[Shard]>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(1)
    }
}

impl Metrics {
    /// Metrics for `workers` worker threads.
    pub fn new(workers: usize) -> Self {
        Metrics {
            shards: (0..workers.max(1)).map(|_| Shard::default()).collect(),
        }
    }

    /// Makes the current thread write shard `index` (a worker's index).
    pub fn enter_worker(index: usize) {
        SHARD.with(|s| s.set(index));
    }

    /// The current thread's shard.
    fn shard(&self) -> &Counters<AtomicU64> {
        let i = SHARD.with(Cell::get) % self.shards.len();
        &self.shards[i].0
    }

    /// Counts a request by its CORS decision.
    pub fn request(&self, kind: &str, decision: &str) {
        let k = KINDS.iter().position(|x| *x == kind);
        let d = DECISIONS.iter().position(|x| *x == decision);
        if let (Some(k), Some(d)) = (k, d) {
            self.shard().requests[k][d].fetch_add(1, Relaxed);
        }
    }

    /// Records how long the upstream took to send its response headers.
    pub fn upstream_latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        let shard = self.shard();
        shard.latency_buckets[i].fetch_add(1, Relaxed);
        shard
            .latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    /// Counts a request the gateway answered itself.
    pub fn failure(&self, failure: Failure) {
        let shard = self.shard();
        if let Some(i) = FAILURES.iter().position(|f| *f == failure) {
            shard.upstream_errors[i].fetch_add(1, Relaxed);
        } else if let Some(i) = CLIENT_FAILURES.iter().position(|f| *f == failure) {
            shard.client_errors[i].fetch_add(1, Relaxed);
        } else if failure == Failure::BodyTooLarge {
            shard.bodies_too_large.fetch_add(1, Relaxed);
        }
    }

    /// Counts an upstream response body that failed after its head was
    /// passed on (`code` is one of `upstream-body-broken`,
    /// `upstream-body-timeout`).
    pub fn upstream_body_error(&self, code: &str) {
        if let Some(i) = BODY_FAILURES.iter().position(|c| *c == code) {
            self.shard().upstream_body_errors[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts a reload.
    pub fn reload(&self, ok: bool) {
        let shard = self.shard();
        if ok {
            shard.reloads_ok.fetch_add(1, Relaxed);
        } else {
            shard.reloads_failed.fetch_add(1, Relaxed);
        }
    }

    /// One more request in flight, until [`Metrics::request_ended`].
    pub fn request_started(&self) {
        self.shard().in_flight.fetch_add(1, Relaxed);
    }

    /// One request fewer in flight (answered, or dropped unanswered).
    pub fn request_ended(&self) {
        self.shard().in_flight.fetch_sub(1, Relaxed);
    }

    /// Counts a protocol upgrade refused for its origin.
    pub fn upgrade_refused(&self) {
        self.shard().upgrades_refused.fetch_add(1, Relaxed);
    }

    /// Counts a tunnel opened after a `101`; the guard counts it closed
    /// when dropped.
    pub fn tunnel_opened(&self) -> TunnelOpen<'_> {
        let shard = self.shard();
        shard.upgrades_tunnelled.fetch_add(1, Relaxed);
        shard.tunnels_open.fetch_add(1, Relaxed);
        TunnelOpen(self)
    }

    /// Every shard's counts, added up.
    fn totals(&self) -> Counters<u64> {
        let mut totals = Counters::<u64>::default();
        for shard in self.shards.iter() {
            totals.add(&shard.0);
        }
        totals
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let totals = self.totals();
        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "corsair_requests_total",
            "counter",
            "Requests by CORS request kind and decision.",
        );
        for (k, kind) in KINDS.iter().enumerate() {
            for (d, decision) in DECISIONS.iter().enumerate() {
                let n = totals.requests[k][d];
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
            let n = totals.upstream_errors[i];
            let _ = writeln!(
                out,
                "corsair_upstream_errors_total{{error=\"{}\"}} {n}",
                f.code()
            );
        }
        family(
            &mut out,
            "corsair_upstream_body_errors_total",
            "counter",
            "Upstream response bodies that broke or stalled after the head was sent (the client's response was cut).",
        );
        for (i, code) in BODY_FAILURES.iter().enumerate() {
            let n = totals.upstream_body_errors[i];
            let _ = writeln!(
                out,
                "corsair_upstream_body_errors_total{{error=\"{code}\"}} {n}"
            );
        }
        family(
            &mut out,
            "corsair_client_errors_total",
            "counter",
            "Requests answered 400/408 because the client's body was malformed or stalled.",
        );
        for (i, f) in CLIENT_FAILURES.iter().enumerate() {
            let n = totals.client_errors[i];
            let _ = writeln!(
                out,
                "corsair_client_errors_total{{error=\"{}\"}} {n}",
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
            cumulative += totals.latency_buckets[i];
            let _ = writeln!(
                out,
                "corsair_upstream_response_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += totals.latency_buckets[BUCKETS.len()];
        let _ = writeln!(
            out,
            "corsair_upstream_response_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "corsair_upstream_response_seconds_sum {}",
            totals.latency_sum_micros as f64 / 1e6
        );
        let _ = writeln!(out, "corsair_upstream_response_seconds_count {cumulative}");
        let plain: [PlainFamily; 5] = [
            (
                "corsair_request_body_too_large_total",
                "counter",
                "Requests answered 413.",
                &[("", totals.bodies_too_large)],
            ),
            (
                "corsair_config_reloads_total",
                "counter",
                "Config reloads by result.",
                &[
                    ("{result=\"ok\"}", totals.reloads_ok),
                    ("{result=\"failed\"}", totals.reloads_failed),
                ],
            ),
            (
                "corsair_upgrades_total",
                "counter",
                "Protocol upgrades (WebSocket handshakes) by result.",
                &[
                    ("{result=\"tunnelled\"}", totals.upgrades_tunnelled),
                    ("{result=\"refused\"}", totals.upgrades_refused),
                ],
            ),
            (
                "corsair_tunnels_open",
                "gauge",
                "Upgraded connections open now.",
                &[("", totals.tunnels_open)],
            ),
            (
                "corsair_requests_in_flight",
                "gauge",
                "Requests being served.",
                &[("", totals.in_flight)],
            ),
        ];
        for (name, kind, help, samples) in plain {
            family(&mut out, name, kind, help);
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        }
        out
    }
}

/// A family written as is: name, type, help, then its samples as
/// (labels, value).
type PlainFamily<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, u64)]);

/// The `# HELP` and `# TYPE` lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Counts a tunnel out of [`Metrics::tunnel_opened`]'s gauge when dropped.
#[derive(Debug)]
pub struct TunnelOpen<'a>(&'a Metrics);

impl Drop for TunnelOpen<'_> {
    fn drop(&mut self) {
        self.0.shard().tunnels_open.fetch_sub(1, Relaxed);
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

    #[test]
    fn shards_written_by_different_workers_add_up() {
        let m = std::sync::Arc::new(Metrics::new(2));
        let threads: Vec<_> = (0..2)
            .map(|index| {
                let m = m.clone();
                std::thread::spawn(move || {
                    Metrics::enter_worker(index);
                    for _ in 0..1000 {
                        m.request("actual", "origin-exact");
                        m.request_started();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert!(
            text.contains(
                "corsair_requests_total{kind=\"actual\",decision=\"origin-exact\"} 2000\n"
            ),
            "{text}"
        );
        assert!(text.contains("corsair_requests_in_flight 2000\n"));
        // Counted in on the workers' shards, out on another: the gauge still
        // adds up (each shard alone has wrapped below zero).
        Metrics::enter_worker(1);
        for _ in 0..2000 {
            m.request_ended();
        }
        assert!(m.render().contains("corsair_requests_in_flight 0\n"));
    }
}
