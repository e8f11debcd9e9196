//! The listener: accepts connections (plain or TLS), serves HTTP/1.1 and
//! HTTP/2 (prior knowledge on plain connections, ALPN on TLS) and, when told
//! to stop, stops accepting and drains in-flight requests for at most the
//! shutdown timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::config::settings::Timeouts;
use crate::gateway::{Gateway, State};
use crate::http::forwarded::ClientInfo;
use crate::observability::logging;
use crate::runtime::accept::Acceptor;
use crate::runtime::connection::{self, h2c_preface, Conn, IdleWatch, Tracked};
use crate::runtime::timer::{self, CoarseTimer};

/// The largest request head (request line and headers) accepted; bigger
/// ones get 431 on HTTP/1.1.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The connection builders, HTTP/1.1 and HTTP/2, with the gateway's
/// limits.
struct Builders {
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    /// How long an HTTP/2 connection may go without a new stream.
    idle: Duration,
}

impl Builders {
    fn new(idle: Duration) -> Builders {
        let mut h1 = http1::Builder::new();
        h1.timer(CoarseTimer)
            .header_read_timeout(idle)
            // The head's own limit, checked once it is parsed: the buffer
            // limit alone lets a larger head through when it arrives in
            // one read.
            .max_header_size(MAX_HEAD_BYTES)
            .max_buf_size(MAX_HEAD_BYTES)
            .keep_alive(true)
            // A client may shut its side once its request is sent and
            // still wait for the answer (RFC 9112 §9.6 leaves it open);
            // an EOF in the middle of a request still ends the connection.
            .half_close(true)
            .writev(false);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(CoarseTimer)
            .keep_alive_interval(Some(idle))
            .max_header_list_size(MAX_HEAD_BYTES as u32);
        Builders { h1, h2, idle }
    }

    /// Serves `io` over HTTP/2 when `h2`, else HTTP/1.1 (with upgrades),
    /// counted in this worker's registry for graceful shutdown.
    fn serve<I>(&self, io: I, mut service: Gateway, h2: bool) -> Tracked<I>
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        if h2 {
            // HTTP/1.1 connections are cut when idle by hyper's header-read
            // timeout; HTTP/2 ones by the watch, fed with each new stream.
            let watch = IdleWatch::new(self.idle);
            service.count_streams(watch.streams());
            Tracked::new(Conn::H2(self.h2.serve_connection(io, service)), Some(watch))
        } else {
            Tracked::new(
                Conn::H1(self.h1.serve_connection(io, service).with_upgrades()),
                None,
            )
        }
    }
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
    let mut acceptor = Acceptor::new(listener, "gateway");
    let mut next = 0;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = acceptor.accept() => accepted,
            _ = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        next = (next + 1) % workers.len();
        let _ = workers[next].send((stream, peer));
    }
    drop(acceptor);
    tracing::info!(target: "corsair::server", "stopped accepting; draining in-flight requests (at most {drain:?})");
}

/// Serves the connections `incoming` brings until `stop` turns true, then
/// drains for at most `drain`. Returns false when the drain timed out.
pub async fn serve(
    mut incoming: mpsc::UnboundedReceiver<Accepted>,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) -> bool {
    let idle = timeouts.idle;
    let builders = Arc::new(Builders::new(idle));
    // The clock of this worker's header-read and upstream timeouts; ends
    // with the runtime.
    tokio::spawn(timer::drive());
    // This worker's batched access-log lines written at least this often.
    tokio::spawn(logging::flush_every(timer::TICK));
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
        let builders = builders.clone();
        let state = state.clone();
        let tls = tls.clone();
        let local = async move {
            let client = ClientInfo::new(peer, tls.is_some());
            let service = Gateway::new(state, client);
            let result = match tls {
                None => {
                    // HTTP/2 with prior knowledge (h2c) or HTTP/1.1; a
                    // client that sends nothing decisive within the idle
                    // timeout is dropped.
                    let h2 = timer::timeout(Instant::now(), idle, h2c_preface(&stream)).await;
                    let Ok(Ok(h2)) = h2 else {
                        return;
                    };
                    builders.serve(TokioIo::new(stream), service, h2).await
                }
                Some(acceptor) => {
                    let handshake =
                        timer::timeout(Instant::now(), timeouts.handshake, acceptor.accept(stream))
                            .await;
                    let stream = match handshake {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(target: "corsair::server", %peer, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => return,
                    };
                    // The protocol the TLS handshake agreed on (ALPN).
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    builders.serve(TokioIo::new(stream), service, h2).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(target: "corsair::server", %peer, "connection ended: {e}");
            }
        };
        tokio::spawn(local);
    }
    drop(incoming);
    tokio::time::timeout(timeouts.shutdown, connection::drain())
        .await
        .is_ok()
}

/// Resolves once `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}
