//! corsair-gateway: a CORS gateway in front of any HTTP API, the engine of
//! `corsair serve`.
//!
//! Preflights are answered by the gateway with the policy (corsair-tower's
//! `CorsLayer`) and never forwarded; every other request is forwarded to the
//! configured upstream, and its response gets the policy's headers (the
//! upstream's own `Access-Control-*` headers are replaced, `Vary` merged).
//! When the upstream fails, the gateway answers 502/504 with the CORS
//! headers the policy grants, so the page can read the error.
//!
//! The folders follow a request:
//! - [`config`]: the file's shape, the validated settings and routes, hot
//!   reload;
//! - [`runtime`]: the listener, the worker threads and their connections
//!   (HTTP/1.1 and HTTP/2, TLS), timeouts and graceful shutdown;
//! - [`gateway`]: the per-connection service, route choice, the CORS layer;
//! - [`http`]: what the gateway does to messages: forwarding headers,
//!   WebSocket upgrades, streamed bodies;
//! - [`upstream`]: where requests go and how (the proxy, its connection
//!   pools, 502/504 answers);
//! - [`observability`]: the access log, metrics and the admin listener.
//!
//! # Thread per core
//!
//! Requests are served by worker threads, one single-threaded tokio runtime
//! each; a connection, its requests and its upstream connections live on
//! the thread that accepted it. Per-thread state (the timer's deadlines,
//! the connection registry, the metrics shard, the access-log batch) is
//! therefore only ever touched by its own thread, so it needs no lock; the
//! types that hold such state are `!Send` where the compiler can say so,
//! and every future touching them is spawned on its worker's own runtime.
//! The only cross-thread traffic is the acceptor handing over connections
//! and a reload swapping a worker's config snapshot.

pub mod config;
pub mod gateway;
pub mod http;
pub mod observability;
pub mod runtime;
pub mod upstream;

pub use config::file::GatewayFile;
pub use observability::log_line::Style as LogStyle;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot, watch};

use config::reload;
use config::settings::{self, Settings};
use gateway::{Snapshot, State};
use observability::{admin, logging, metrics::Metrics};
use runtime::{server, tls};
use upstream::{client, h1pool, proxy::Shared};

/// Values given on the command line that override the file's, on every
/// reload too.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The address to listen on.
    pub listen: Option<String>,
    /// The admin address.
    pub admin: Option<String>,
}

impl Overrides {
    fn apply(&self, file: &mut GatewayFile) {
        if let Some(l) = &self.listen {
            file.listen = Some(l.clone());
        }
        if let Some(a) = &self.admin {
            file.admin = Some(a.clone());
        }
    }
}

/// Where the gateway's configuration comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A config file, reloaded on SIGHUP and when it changes.
    File(PathBuf),
    /// A config built in memory (the command line's quick start): never
    /// reloaded.
    Inline(Box<GatewayFile>),
}

/// How to start a gateway.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration.
    pub source: Source,
    /// Command-line values that win over the file's.
    pub overrides: Overrides,
    /// The log line format.
    pub log_style: LogStyle,
    /// The most verbose level logged (`info` includes the access log).
    pub log_level: tracing::Level,
}

/// Why a gateway could not start (or stopped with an error).
#[derive(Debug)]
pub enum Error {
    /// The configuration is wrong: every problem, each saying what to change.
    Config(Vec<String>),
    /// Something outside the config stopped the start (an address in use,
    /// no threads, no signal handlers).
    Start(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(problems) => {
                let n = problems.len();
                write!(
                    f,
                    "invalid gateway config: {n} problem{}",
                    if n == 1 { "" } else { "s" }
                )?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            Error::Start(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The process exit status for this error: 2 for a config the user
    /// must fix, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => 2,
            Error::Start(_) => 1,
        }
    }
}

/// Runs a gateway until SIGTERM or SIGINT, then drains in-flight requests.
/// Installs the `tracing` subscriber first, so call it once per process.
pub fn run(options: Options) -> Result<(), Error> {
    logging::init(options.log_style, options.log_level);
    let (settings, source) = match options.source {
        Source::File(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::Config(vec![format!(
                    "cannot read config file {}: {e}",
                    path.display()
                )])
            })?;
            let source = reload::Source {
                path,
                overrides: options.overrides,
            };
            let settings = source.load(&text).map_err(Error::Config)?;
            (settings, Some((source, text)))
        }
        Source::Inline(mut file) => {
            options.overrides.apply(&mut file);
            let settings = settings::validate(&file).map_err(|p| Error::Config(p.0))?;
            (settings, None)
        }
    };
    for w in settings.warnings() {
        tracing::warn!(target: "corsair::config", "{w}");
    }
    let tls = settings
        .tls
        .as_ref()
        .map(tls::acceptor)
        .transpose()
        .map_err(|e| Error::Config(vec![e]))?;
    // The control runtime: signals, reloads, the admin listener and the
    // acceptor. Requests are served by the worker threads (see `serve`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Start(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(settings, source, tls))
}

/// How many worker threads serve requests: `TOKIO_WORKER_THREADS` when set
/// (as for tokio's own runtime), else one per CPU.
fn worker_count() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
}

async fn serve(
    settings: Settings,
    source: Option<(reload::Source, String)>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(), Error> {
    // Signal handlers first, so a SIGHUP sent once the port is open never
    // kills the process.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            return Err(Error::Start(format!("cannot install signal handlers: {e}")));
        }
    };
    let hangup = signal(SignalKind::hangup()).ok();
    let workers = worker_count();
    let metrics = Arc::new(Metrics::new(workers));
    // Each worker gets its own client, snapshot and reference counts.
    let mut shared = Vec::with_capacity(workers);
    for _ in 0..workers {
        match client::build(&settings.timeouts) {
            Ok(client) => shared.push(Arc::new(Shared {
                client,
                pool: h1pool::PoolTimeouts {
                    connect: settings.timeouts.connect,
                    idle: settings.timeouts.idle,
                },
                metrics: metrics.clone(),
            })),
            Err(e) => {
                return Err(Error::Start(e.to_string()));
            }
        }
    }
    let listener = match TcpListener::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            return Err(Error::Start(format!("cannot listen on {}: {e} (is another process using it? change `listen` or --listen)",
                settings.listen)));
        }
    };
    let admin = match settings.admin {
        Some(addr) => match TcpListener::bind(addr).await {
            Ok(l) => Some(l),
            Err(e) => {
                return Err(Error::Start(format!(
                    "cannot listen on admin address {addr}: {e}"
                )));
            }
        },
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let timeouts = settings.timeouts;
    let drain = timeouts.shutdown;
    let listen = settings.listen;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        target: "corsair::server",
        routes = settings.routes.len(),
        upstream = settings.fallback.upstream.as_str(),
        "listening on {scheme}://{listen}"
    );
    let states: Vec<Arc<State>> = shared
        .into_iter()
        .map(|shared| {
            Arc::new(State {
                snapshot: ArcSwap::from_pointee(Snapshot::new(settings.clone(), &shared)),
                shared,
            })
        })
        .collect();
    // This thread's coarse clock, for the admin listener's timeouts (each
    // worker runs its own).
    tokio::spawn(runtime::timer::drive());
    if let Some(admin) = admin {
        if let Ok(addr) = admin.local_addr() {
            tracing::info!(target: "corsair::server", "admin on http://{addr} (/metrics, /healthz)");
        }
        tokio::spawn(admin::run(
            admin,
            metrics.clone(),
            timeouts.idle,
            stop_rx.clone(),
        ));
    }
    match source {
        Some((source, text)) => {
            tokio::spawn(reload::watch(
                source,
                states.clone(),
                metrics.clone(),
                text,
                hangup,
                stop_rx.clone(),
            ));
        }
        None => {
            // Quick start: nothing to reload; keep SIGHUP from killing us.
            if let Some(mut h) = hangup {
                tokio::spawn(async move {
                    while h.recv().await.is_some() {
                        tracing::info!(target: "corsair::reload", "SIGHUP ignored: started without --config, nothing to reload");
                    }
                });
            }
        }
    }
    // One single-threaded runtime per worker thread: a connection, its
    // requests and its upstream connections live on one thread.
    let mut senders = Vec::with_capacity(workers);
    let mut done = Vec::with_capacity(workers);
    for (index, state) in states.iter().enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        let (done_tx, done_rx) = oneshot::channel();
        done.push(done_rx);
        let (state, tls, stop_rx) = (state.clone(), tls.clone(), stop_rx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("corsair-worker-{index}"))
            .spawn(move || {
                Metrics::enter_worker(index);
                logging::batch_this_thread();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let drained = match runtime {
                    Ok(rt) => rt.block_on(server::serve(rx, state, tls, timeouts, stop_rx)),
                    Err(e) => {
                        tracing::error!(target: "corsair::server", "cannot start worker {index}: {e}");
                        true
                    }
                };
                // Every access-log line of the worker out before the
                // process may exit.
                logging::flush();
                let _ = done_tx.send(drained);
            });
        if let Err(e) = spawned {
            return Err(Error::Start(format!("cannot start a worker thread: {e}")));
        }
    }
    let acceptor = tokio::spawn(server::accept(listener, senders, drain, stop_rx));
    tokio::select! {
        _ = term.recv() => tracing::info!(target: "corsair::server", "SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!(target: "corsair::server", "SIGINT: shutting down"),
    }
    let _ = stop_tx.send(true);
    let _ = acceptor.await;
    let mut drained = true;
    for d in done {
        drained &= d.await.unwrap_or(true);
    }
    if drained {
        tracing::info!(target: "corsair::server", "all connections closed");
    } else {
        tracing::warn!(target: "corsair::server", "drain timeout reached; closing the remaining connections");
    }
    Ok(())
}
