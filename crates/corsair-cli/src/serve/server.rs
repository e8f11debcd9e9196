//! The listener: accepts connections (plain or TLS), serves HTTP/1.1 and
//! HTTP/2 (prior knowledge on plain connections, ALPN on TLS) and, when told
//! to stop, stops accepting and drains in-flight requests for at most the
//! shutdown timeout.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::forwarded::ClientInfo;
use super::gateway::{Gateway, State};

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
        .timer(TokioTimer::new())
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

/// Serves `listener` until `stop` turns true, then drains for at most `drain`.
pub async fn run(
    listener: TcpListener,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    idle: Duration,
    drain: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let builder = Arc::new(builder(idle));
    let graceful = GracefulShutdown::new();
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
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let client = ClientInfo {
                peer,
                tls: tls.is_some(),
            };
            let service = Gateway::new(state, client);
            let result = match tls {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
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
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(target: "corsair::server", %peer, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    tracing::info!(target: "corsair::server", "stopped accepting; draining in-flight requests (at most {drain:?})");
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => tracing::info!(target: "corsair::server", "all connections closed"),
        Err(_) => {
            tracing::warn!(target: "corsair::server", "drain timeout reached; closing the remaining connections")
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}
