//! `corsair serve`: a CORS gateway in front of any HTTP API.
//!
//! Preflights are answered by the gateway with the policy (corsair-tower's
//! `CorsLayer`) and never forwarded; every other request is forwarded to the
//! configured upstream, and its response gets the policy's headers (the
//! upstream's own `Access-Control-*` headers are replaced, `Vary` merged).
//! When the upstream fails, the gateway answers 502/504 with the CORS
//! headers the policy grants, so the page can read the error.
//!
//! Modules: [`args`] (command line), [`config`] (file shape), [`settings`]
//! (validated config, routes), [`upstream`] (target URLs: never taken from
//! the request), [`forwarded`] (hop-by-hop and forwarding headers),
//! [`body`] (streaming bodies, `max_body_bytes`), [`failure`] (502/504/413
//! answers), [`proxy`] (the forwarding service), [`gateway`] (route choice,
//! CORS layer, access log), [`server`] (listener, HTTP/1.1 + HTTP/2,
//! graceful shutdown), [`tls`], [`reload`], [`admin`] and [`metrics`].

mod access_log;
mod admin;
mod args;
mod body;
mod client;
mod config;
mod drain;
mod duration;
mod failure;
mod forwarded;
mod gateway;
mod h1pool;
mod log_line;
mod logging;
mod metrics;
mod proxy;
mod reload;
mod server;
mod settings;
mod slots;
mod timer;
mod tls;
mod upgrade;
mod upstream;

use std::process::ExitCode;
use std::sync::Arc;

use arc_swap::ArcSwap;
use corsair::CorsConfig;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot, watch};

pub use args::Args;
use config::GatewayFile;
use gateway::{Snapshot, State};
use metrics::Metrics;
use proxy::Shared;
use settings::Settings;

/// Command-line values that override the file's, on every reload too.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    listen: Option<String>,
    admin: Option<String>,
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

/// The quick-start config made from the flags.
fn quick_start(args: &Args) -> GatewayFile {
    GatewayFile {
        upstream: args.upstream.clone(),
        cors: Some(CorsConfig {
            allow_origins: args.allow_origins.clone(),
            allow_methods: args.allow_methods.clone(),
            allow_headers: args.allow_headers.clone(),
            allow_credentials: args.allow_credentials,
            ..CorsConfig::default()
        }),
        ..GatewayFile::default()
    }
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    logging::init(args.log_format, args.log_level);
    let overrides = Overrides {
        listen: args.listen.clone(),
        admin: args.admin.clone(),
    };
    let (settings, source) = match &args.config {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read config file {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            let source = reload::Source {
                path: path.clone(),
                overrides,
            };
            match source.load(&text) {
                Ok(s) => (s, Some((source, text))),
                Err(problems) => {
                    report(&problems);
                    return ExitCode::from(2);
                }
            }
        }
        None if args.upstream.is_some() => {
            let mut file = quick_start(&args);
            overrides.apply(&mut file);
            match settings::validate(&file) {
                Ok(s) => (s, None),
                Err(p) => {
                    report(&p.0);
                    return ExitCode::from(2);
                }
            }
        }
        None => {
            eprintln!(
                "error: give --config FILE, or --upstream URL with at least one --allow-origin \
                 ORIGIN (see `corsair serve --help`)"
            );
            return ExitCode::from(2);
        }
    };
    for w in settings.warnings() {
        tracing::warn!(target: "corsair::config", "{w}");
    }
    let tls = match settings.tls.as_ref().map(tls::acceptor).transpose() {
        Ok(t) => t,
        Err(e) => {
            report(&[e]);
            return ExitCode::from(2);
        }
    };
    // The control runtime: signals, reloads, the admin listener and the
    // acceptor. Requests are served by the worker threads (see `serve`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
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

fn report(problems: &[String]) {
    let n = problems.len();
    eprintln!(
        "error: invalid gateway config: {n} problem{}",
        if n == 1 { "" } else { "s" }
    );
    for p in problems {
        eprintln!("  {p}");
    }
}

async fn serve(
    settings: Settings,
    source: Option<(reload::Source, String)>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> ExitCode {
    // Signal handlers first, so a SIGHUP sent once the port is open never
    // kills the process.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
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
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let listener = match TcpListener::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot listen on {}: {e} (is another process using it? change `listen` or --listen)",
                settings.listen
            );
            return ExitCode::FAILURE;
        }
    };
    let admin = match settings.admin {
        Some(addr) => match TcpListener::bind(addr).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: cannot listen on admin address {addr}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let idle = settings.timeouts.idle;
    let drain = settings.timeouts.shutdown;
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
    if let Some(admin) = admin {
        if let Ok(addr) = admin.local_addr() {
            tracing::info!(target: "corsair::server", "admin on http://{addr} (/metrics, /healthz)");
        }
        tokio::spawn(admin::run(admin, metrics.clone(), stop_rx.clone()));
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
                    Ok(rt) => rt.block_on(server::serve(rx, state, tls, idle, drain, stop_rx)),
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
            eprintln!("error: cannot start a worker thread: {e}");
            return ExitCode::FAILURE;
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
    ExitCode::SUCCESS
}
