//! One worker's client connections, served by hyper's HTTP/1.1 or HTTP/2
//! connection, and their graceful shutdown.
//!
//! hyper-util's `auto` builder and `GracefulShutdown` would do this, at a
//! cost on every request: `auto` reads the first bytes itself and then
//! wraps the connection's every read to hand them back, and each poll of a
//! watched connection also polls a shutdown channel; side by side with
//! callgrind that was more than 3 % of a preflight's instructions (the
//! commit that introduced this module has the counts). Here the protocol
//! is chosen once ([`h2c_preface`] peeks at the first bytes without
//! reading them; TLS connections go by ALPN), and a worker keeps its
//! connections' wakers in a thread-local registry that [`drain`] wakes
//! once, at shutdown.
//! Connections never leave their worker's thread (single-threaded
//! runtimes).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

use hyper::rt::{Read, Write};
use hyper::server::conn::{http1, http2};
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpStream;

use crate::gateway::Gateway;
use slab::Slab;

use crate::runtime::refresh;
use crate::runtime::timer::CoarseTimer;

/// The HTTP/2 connection preface (RFC 9113 §3.4), which a client speaking
/// HTTP/2 with prior knowledge (h2c) sends first.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a plain connection starts with the HTTP/2 preface. The bytes
/// are peeked, not read: they stay for hyper. Decided as soon as a byte
/// differs (the second one for `POST`, `PUT` or `PATCH`); a client sending
/// a prefix of the preface and then nothing keeps this waiting, so the
/// caller bounds it with a timeout. A closed connection is not HTTP/2.
pub async fn h2c_preface(stream: &TcpStream) -> std::io::Result<bool> {
    let mut buf = [0u8; PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 || buf[..n] != PREFACE[..n] {
            return Ok(false);
        }
        if n == PREFACE.len() {
            return Ok(true);
        }
        // Only part of the preface so far: the socket stays readable, so
        // peeking again at once would spin.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A client connection, HTTP/1.1 (with upgrades, for WebSockets) or
/// HTTP/2. One per connection, inside its task's own allocation: boxing
/// the larger variant would only add a pointer to follow on every poll.
#[allow(clippy::large_enum_variant)]
pub enum Conn<I: Read + Write + Unpin + Send + 'static> {
    /// HTTP/1.1.
    H1(http1::UpgradeableConnection<I, Gateway>),
    /// HTTP/2.
    H2(http2::Connection<I, Gateway, TokioExecutor>),
}

impl<I: Read + Write + Unpin + Send + 'static> Conn<I> {
    /// Finishes the requests in flight, takes no new ones.
    fn graceful_shutdown(self: Pin<&mut Self>) {
        // Both connection types are `Unpin` when their I/O is.
        match self.get_mut() {
            Conn::H1(c) => Pin::new(c).graceful_shutdown(),
            Conn::H2(c) => Pin::new(c).graceful_shutdown(),
        }
    }
}

impl<I: Read + Write + Unpin + Send + 'static> Future for Conn<I> {
    type Output = hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Conn::H1(c) => Pin::new(c).poll(cx),
            Conn::H2(c) => Pin::new(c).poll(cx),
        }
    }
}

/// The connections of one worker.
#[derive(Default)]
struct Registry {
    /// Set once by [`drain`]: connections finish what they have and close.
    draining: bool,
    /// The wakers of the live connections polled so far.
    wakers: Slab<Waker>,
    /// The live connections (counted from their start, before any poll).
    live: usize,
    /// [`drain`]'s waker, woken when the last connection ends.
    drained: Option<Waker>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
    /// [`Registry::draining`], readable on every poll for the price of a
    /// thread-local load (no lazy initialisation, no borrow).
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Tells when an HTTP/2 connection has gone `idle` without a new stream:
/// hyper's HTTP/2 server pings an idle client but never closes it, so a
/// client that answers pings would keep its connection (and a descriptor)
/// forever. The service counts each new stream ([`IdleWatch::streams`]);
/// the watch's deadline, on the worker's coarse clock, is moved on while
/// the count moves. When it passes with no new stream the connection is
/// shut down gracefully: GOAWAY, and the streams still open finish.
pub struct IdleWatch {
    streams: Arc<AtomicUsize>,
    seen: usize,
    idle: Duration,
    sleep: Pin<Box<dyn Sleep>>,
}

impl IdleWatch {
    /// A watch over a connection that may stay `idle` between streams.
    pub fn new(idle: Duration) -> Self {
        IdleWatch {
            streams: Arc::new(AtomicUsize::new(0)),
            seen: 0,
            idle,
            sleep: CoarseTimer.sleep(idle),
        }
    }

    /// The counter the connection's service adds one to per stream.
    pub fn streams(&self) -> Arc<AtomicUsize> {
        self.streams.clone()
    }

    /// Whether `idle` has passed since the last stream began (between
    /// `idle` and twice `idle` after it); otherwise `cx` is woken at the
    /// next deadline.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
            let streams = self.streams.load(Ordering::Relaxed);
            if streams == self.seen {
                return true;
            }
            self.seen = streams;
            CoarseTimer.reset(&mut self.sleep, Instant::now() + self.idle);
        }
    }
}

/// A connection counted in its worker's registry until it ends (or is
/// dropped), and told to shut down gracefully when [`drain`] runs (or, for
/// HTTP/2, when its [`IdleWatch`] says it is idle).
pub struct Tracked<I: Read + Write + Unpin + Send + 'static> {
    conn: Conn<I>,
    idle: Option<IdleWatch>,
    slot: Option<usize>,
    /// The waker in the registry: the registry is touched again only when
    /// the task's waker changes (for a spawned task, never).
    registered: Option<Waker>,
    shutting_down: bool,
}

impl<I: Read + Write + Unpin + Send + 'static> Tracked<I> {
    /// Counts `conn` in this worker's registry; `idle` closes it when it
    /// has no new stream for a while (HTTP/2).
    pub fn new(conn: Conn<I>, idle: Option<IdleWatch>) -> Self {
        REGISTRY.with(|r| r.borrow_mut().live += 1);
        Tracked {
            conn,
            idle,
            slot: None,
            registered: None,
            shutting_down: false,
        }
    }
}

impl<I: Read + Write + Unpin + Send + 'static> Future for Tracked<I> {
    type Output = hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Conn` is `Unpin` (see `Conn::graceful_shutdown`).
        let this = self.get_mut();
        let known = this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if !known {
            REGISTRY.with(|r| {
                let mut r = r.borrow_mut();
                if r.draining {
                    return;
                }
                match this.slot.and_then(|i| r.wakers.get_mut(i)) {
                    Some(w) => refresh(w, cx.waker()),
                    None => this.slot = Some(r.wakers.insert(cx.waker().clone())),
                }
            });
            this.registered = Some(cx.waker().clone());
        }
        if !this.shutting_down {
            let idle = this.idle.as_mut().is_some_and(|w| w.expired(cx));
            if idle || DRAINING.with(Cell::get) {
                this.shutting_down = true;
                Pin::new(&mut this.conn).graceful_shutdown();
            }
        }
        Pin::new(&mut this.conn).poll(cx)
    }
}

impl<I: Read + Write + Unpin + Send + 'static> Drop for Tracked<I> {
    fn drop(&mut self) {
        // During thread teardown the registry may be gone: nothing to do.
        let _ = REGISTRY.try_with(|r| {
            let Ok(mut r) = r.try_borrow_mut() else {
                return;
            };
            if let Some(i) = self.slot {
                r.wakers.try_remove(i);
            }
            r.live = r.live.saturating_sub(1);
            if r.live == 0 {
                if let Some(w) = r.drained.take() {
                    w.wake();
                }
            }
        });
    }
}

/// Tells every connection of this worker to finish its requests in flight
/// and close, and resolves once all of them have ended.
pub async fn drain() {
    let wakers: Vec<Waker> = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.draining = true;
        DRAINING.with(|d| d.set(true));
        r.wakers.drain().collect()
    });
    for w in wakers {
        w.wake();
    }
    std::future::poll_fn(|cx| {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            if r.live == 0 {
                Poll::Ready(())
            } else {
                r.drained = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    })
    .await
}

/// Connections in this worker's registry (for tests).
#[cfg(test)]
fn live() -> usize {
    REGISTRY.with(|r| r.borrow().live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn the_preface_is_told_from_http1_without_reading_it() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for (sent, h2) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], false),
            (b"POST / HTTP/1.1\r\n\r\n", false),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04", true),
            (b"PRI * HTTP/1.1\r\n\r\n", false),
            (b"", false),
        ] {
            let client = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut c = TcpStream::connect(addr).await.unwrap();
                // The preface in two pieces.
                let (a, b) = sent.split_at(sent.len() / 2);
                c.write_all(a).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                c.write_all(b).await.unwrap();
                c
            });
            let (server, _) = listener.accept().await.unwrap();
            let c = client.await.unwrap();
            if sent.is_empty() {
                drop(c);
            }
            assert_eq!(h2c_preface(&server).await.unwrap(), h2, "{sent:?}");
            // Nothing was consumed.
            let mut buf = vec![0u8; sent.len()];
            if !sent.is_empty() {
                server.peek(&mut buf).await.unwrap();
                assert_eq!(&buf[..], &sent[..buf.len()]);
            }
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drain_waits_for_every_connection_and_wakes_them() {
        // A stand-in for a connection: registered like one, never served.
        assert_eq!(live(), 0);
        REGISTRY.with(|r| r.borrow_mut().live += 2);
        let drained = tokio::spawn(drain());
        tokio::task::yield_now().await;
        assert!(!drained.is_finished());
        for _ in 0..2 {
            REGISTRY.with(|r| {
                let mut r = r.borrow_mut();
                r.live -= 1;
                if r.live == 0 {
                    if let Some(w) = r.drained.take() {
                        w.wake();
                    }
                }
            });
        }
        tokio::time::timeout(Duration::from_secs(1), drained)
            .await
            .unwrap()
            .unwrap();
    }
}
