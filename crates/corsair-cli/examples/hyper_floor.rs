//! The floor under any hyper-based gateway, for `bench/gateway.sh`.
//!
//! A pass-through HTTP/1.1 proxy that does as little as hyper allows and
//! nothing else: no CORS, no header touched (not even hop-by-hop or
//! `X-Forwarded-*`), no timeouts, no pool (each client connection gets one
//! upstream connection of its own for its whole life), no logging, no
//! metrics. Threads as in `corsair serve`: one acceptor hands connections
//! round-robin to `TOKIO_WORKER_THREADS` workers, each with its own
//! single-threaded runtime; mimalloc, like the `corsair` binary.
//!
//! With `static` in place of the upstream it forwards nothing and answers
//! every request with the same fixed 204 and the preflight headers
//! `corsair serve` sends for the benchmark's policy, without evaluating
//! anything: the floor for answering preflights with hyper's server.
//!
//! Whatever this does per second is the most `corsair serve` could do with
//! hyper's HTTP/1.1 server and client: the benchmark prints it next to
//! nginx so the gap that belongs to hyper is told apart from the gap that
//! belongs to corsair. Not a tool: never run it where anything else could
//! reach it.
//!
//! ```text
//! cargo run --release -p corsair-cli --example hyper_floor -- 127.0.0.1:8081 127.0.0.1:3000
//! cargo run --release -p corsair-cli --example hyper_floor -- 127.0.0.1:8082 static
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::client::conn::http1 as client;
use hyper::server::conn::http1 as server;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: hyper_floor LISTEN_ADDR UPSTREAM_ADDR (e.g. 127.0.0.1:8081 127.0.0.1:3000)"
        );
        std::process::exit(2);
    };
    let (Ok(listen), Some(upstream)) = (listen.parse::<SocketAddr>(), Mode::parse(&upstream))
    else {
        eprintln!("error: LISTEN_ADDR must be IP:PORT, UPSTREAM_ADDR IP:PORT or `static`");
        std::process::exit(2);
    };
    let workers = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2usize)
        .max(1);

    let mut queues = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (tx, rx) = mpsc::unbounded_channel::<std::net::TcpStream>();
        queues.push(tx);
        std::thread::spawn(move || worker(rx, upstream));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the acceptor: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {listen}: {e}");
                std::process::exit(1);
            }
        };
        let mut next = 0;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            next = (next + 1) % queues.len();
            let _ = queues[next].send(stream);
        }
    });
}

/// What the floor does with a request.
#[derive(Clone, Copy)]
enum Mode {
    /// Forwards it, untouched, to this address.
    Proxy(SocketAddr),
    /// Answers it with a fixed preflight response.
    Static,
}

impl Mode {
    fn parse(arg: &str) -> Option<Mode> {
        if arg == "static" {
            return Some(Mode::Static);
        }
        arg.parse().ok().map(Mode::Proxy)
    }
}

/// One worker thread: serves the connections it is handed.
fn worker(mut incoming: mpsc::UnboundedReceiver<std::net::TcpStream>, mode: Mode) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("error: cannot start a worker");
        return;
    };
    runtime.block_on(async move {
        while let Some(stream) = incoming.recv().await {
            tokio::spawn(async move {
                let Ok(stream) = TcpStream::from_std(stream) else {
                    return;
                };
                let _ = match mode {
                    Mode::Proxy(upstream) => proxy(stream, upstream).await,
                    Mode::Static => answer(stream).await,
                };
            });
        }
    });
}

/// Serves one client connection over one upstream connection of its own.
async fn proxy(stream: TcpStream, upstream: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let up = TcpStream::connect(upstream).await?;
    up.set_nodelay(true)?;
    let (sender, conn) = client::handshake::<_, Incoming>(TokioIo::new(up)).await?;
    tokio::spawn(conn);
    // hyper's HTTP/1.1 server handles one request at a time per connection,
    // so the lock is never contended; it only satisfies `Service::call(&self)`.
    let sender = Arc::new(Mutex::new(sender));
    let service = service_fn(move |req: Request<Incoming>| {
        let sender = sender.clone();
        async move {
            let mut sender = sender.lock().await;
            sender.ready().await?;
            let response: Response<Incoming> = sender.send_request(req).await?;
            Ok::<_, hyper::Error>(response)
        }
    });
    server::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await?;
    Ok(())
}

/// Answers every request on one connection with the same preflight response
/// (the headers `corsair serve` sends for the benchmark's policy).
async fn answer(stream: TcpStream) -> Result<(), Box<dyn std::error::Error>> {
    let service = service_fn(|_req: Request<Incoming>| async {
        Response::builder()
            .status(204)
            .header("access-control-allow-origin", "https://app.example.com")
            .header("access-control-allow-methods", "GET, PUT")
            .header("access-control-allow-headers", "authorization")
            .header("access-control-max-age", "600")
            .header(
                "vary",
                "origin, access-control-request-method, access-control-request-headers",
            )
            .body(http_body_util::Empty::<bytes::Bytes>::new())
    });
    server::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await?;
    Ok(())
}
