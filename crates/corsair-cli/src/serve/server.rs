//! The listener: accepts connections (plain or TLS), serves HTTP/1.1 and
//! HTTP/2 (prior knowledge on plain connections, ALPN on TLS) and, when told
//! to stop, stops accepting and drains in-flight requests for at most the
//! shutdown timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use super::forwarded::ClientInfo;
use super::gateway::{Gateway, State};
use super::timer::{self, CoarseTimer};

/// The largest request head (request line and headers) accepted; bigger
/// ones get 431 on HTTP/1.1.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection builder: HTTP/1.1 and HTTP/2 with the gateway's limits.
fn builder(idle: Duration) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(CoarseTimer)
        .header_read_timeout(idle)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(idle))
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    builder
}

/// An accepted connection handed to a worker.
pub type Accepted = (std::net::TcpStream, SocketAddr);

/// Accepts on `listener` until `stop` turns true and hands each connection
/// to the next worker in turn (each worker runs its own single-threaded
/// runtime, so a connection, its requests and its upstream connections stay
/// on one thread: no cross-thread wakeups per request).
pub async fn accept(
    listener: TcpListener,
    workers: Vec<mpsc::UnboundedSender<Accepted>>,
    drain: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut next = 0;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(target: "corsair::server", "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        next = (next + 1) % workers.len();
        let _ = workers[next].send((stream, peer));
    }
    drop(listener);
    tracing::info!(target: "corsair::server", "stopped accepting; draining in-flight requests (at most {drain:?})");
}

/// Serves the connections `incoming` brings until `stop` turns true, then
/// drains for at most `drain`. Returns false when the drain timed out.
pub async fn serve(
    mut incoming: mpsc::UnboundedReceiver<Accepted>,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    idle: Duration,
    drain: Duration,
    mut stop: watch::Receiver<bool>,
) -> bool {
    let builder = Arc::new(builder(idle));
    let graceful = GracefulShutdown::new();
    // The clock of this worker's header-read and upstream timeouts; ends
    // with the runtime.
    tokio::spawn(timer::drive());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = incoming.recv() => match accepted {
                Some(pair) => pair,
                None => break,
            },
            _ = stopped(&mut stop) => break,
        };
        let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
            continue;
        };
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let client = ClientInfo::new(peer, tls.is_some());
            let service = Gateway::new(state, client);
            let result = match tls {
                None => {
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    let stream = match handshake {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(target: "corsair::server", %peer, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(target: "corsair::server", %peer, "connection ended: {e}");
            }
        });
    }
    drop(incoming);
    tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_ok()
}

/// Resolves once `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}
