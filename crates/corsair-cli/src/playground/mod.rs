//! `corsair playground`: a page on one origin and a demo API on another,
//! to see CORS happen, predicted by corsair and real in the browser, side
//! by side.
//!
//! Two HTTP/1.1 servers on loopback share one [`state::Shared`]:
//! - the page server ([`page_server`]) serves the embedded page
//!   ([`assets`]) and its JSON API (validate/set the policy, predict,
//!   received requests, Server-Sent Events);
//! - the demo API ([`demo_api`]) answers with the page-editable policy and
//!   logs every request it receives.

mod assets;
mod demo_api;
mod page_server;
mod predict;
mod reply;
mod sse;
mod state;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use corsair_gateway::runtime::accept::Acceptor;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::http_client::{ClientConfig, HttpClient};
use state::Shared;

/// Arguments of `corsair playground`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Example:
  corsair playground
  # then open the printed address, e.g. http://127.0.0.1:7878/

  corsair playground --listen 127.0.0.1:9000 --api-port 9100

The page runs a real fetch() in your browser and, beside it, corsair's prediction
of what the browser will do; the demo API on the other port applies the policy you
edit on the page. Both servers listen on loopback only; nothing is fetched from the
internet. Stop with Ctrl-C.")]
pub struct Args {
    /// Where the page is served (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The demo API's port, on the same address (default: the page's port + 1; 0 picks a free port).
    #[arg(long, value_name = "PORT")]
    pub api_port: Option<u16>,
    /// Seconds to wait for each response when predicting requests to other servers.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// Runs `corsair playground` until interrupted.
pub fn run(args: Args) -> ExitCode {
    match start(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("corsair playground: {message}");
            ExitCode::from(2)
        }
    }
}

fn start(args: &Args) -> Result<(), String> {
    let ip = args.listen.ip();
    if !ip.is_loopback() {
        return Err(format!(
            "{ip} is not a loopback address: the playground sends requests to any URL typed in its \
             page, so it only listens on this machine; use --listen 127.0.0.1:PORT (or [::1]:PORT)"
        ));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let page = bind(args.listen, "--listen").await?;
        let page_addr = page.local_addr().map_err(|e| e.to_string())?;
        let api_port = match args.api_port {
            Some(p) => p,
            None if page_addr.port() == 0 || args.listen.port() == 0 => 0,
            None => page_addr
                .port()
                .checked_add(1)
                .ok_or("the page's port is 65535: give --api-port")?,
        };
        let api = bind(SocketAddr::new(ip, api_port), "--api-port").await?;
        let api_addr = api.local_addr().map_err(|e| e.to_string())?;
        let client = HttpClient::new(ClientConfig {
            timeout: Duration::from_secs_f64(args.timeout),
            resolve: Vec::new(),
            extra_roots: Vec::new(),
            insecure: false,
        });
        let shared = Arc::new(Shared::new(page_addr.port(), api_addr.port(), client)?);
        println!("corsair playground");
        println!(
            "  page:     {}   <- open this in your browser",
            url_of(page_addr)
        );
        println!("  demo API: {}", url_of(api_addr));
        println!("Press Ctrl-C to stop.");
        let page_shared = Arc::clone(&shared);
        tokio::spawn(accept(page, true, move |req| {
            page_server::serve(Arc::clone(&page_shared), req)
        }));
        accept(api, false, move |req| {
            demo_api::serve(Arc::clone(&shared), req)
        })
        .await;
        Ok(())
    })
}

fn url_of(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("http://{ip}:{}/", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/", addr.port()),
    }
}

async fn bind(addr: SocketAddr, flag: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("{addr} is already in use: pick another port with {flag} (or stop the other playground)")
        } else {
            format!("cannot listen on {addr}: {e}")
        }
    })
}

/// Accepts connections forever, serving each with `handler`.
async fn accept<F, Fut, B>(listener: TcpListener, date_header: bool, handler: F)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<hyper::Response<B>, std::convert::Infallible>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut acceptor = Acceptor::new(listener, "playground");
    loop {
        let (stream, _) = acceptor.accept().await;
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            // The demo API sends no Date header, so that its responses are
            // the same in the prediction and on the wire.
            let _ = http1::Builder::new()
                .auto_date_header(date_header)
                .serve_connection(TokioIo::new(stream), service_fn(handler))
                .await;
        });
    }
}
