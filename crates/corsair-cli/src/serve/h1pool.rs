//! The per-worker HTTP/1.1 client for plain-http upstreams, built on
//! `hyper::client::conn::http1`: each worker thread keeps a free-list of
//! idle `SendRequest`s per upstream authority. A request checks one out (or
//! connects and hands the connection future to the same worker's runtime),
//! and the sender goes back to the free-list when the response body has
//! been read to its end. No pool task, no dispatch channel between the
//! request and the connection beyond hyper's own.

use std::cell::RefCell;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::body::CappedBody;

/// The most idle connections a worker keeps per upstream.
const MAX_IDLE: usize = 1024;

/// The connect and idle timeouts of the plain-http pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolTimeouts {
    /// How long a TCP connect may take.
    pub connect: Duration,
    /// How long an idle connection is kept.
    pub idle: Duration,
}

struct Idle {
    sender: SendRequest<CappedBody>,
    since: Instant,
}

/// The free-lists of one worker. Few upstreams, so a list searched by
/// comparing the authorities' text exactly (they come from the config, so
/// the same upstream is always spelled the same): cheaper than hashing, or
/// than `Authority`'s case-insensitive equality, on every request.
type FreeLists = Vec<(Authority, Vec<Idle>)>;

thread_local! {
    static IDLE: RefCell<FreeLists> = const { RefCell::new(Vec::new()) };
}

/// Why a request got no response.
#[derive(Debug)]
pub enum SendError {
    /// No connection to the upstream.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The connection failed after it was made.
    Request(hyper::Error),
}

/// A sender whose response is on its way back, to be returned to the
/// free-list once the body is done.
#[derive(Debug)]
pub struct Checkout {
    authority: Authority,
    sender: SendRequest<CappedBody>,
    /// How long a connection may stay idle; also bounds the wait for one
    /// that is not yet ready to be pooled.
    idle: Duration,
}

/// An idle, ready sender to `authority`, if this worker has one; `now` is
/// the request's start (one clock read per request, not one per use).
fn pop(authority: &Authority, idle: Duration, now: Instant) -> Option<SendRequest<CappedBody>> {
    IDLE.with(|pool| {
        let mut pool = pool.borrow_mut();
        let (_, list) = pool
            .iter_mut()
            .find(|(a, _)| a.as_str() == authority.as_str())?;
        while let Some(entry) = list.pop() {
            if now.saturating_duration_since(entry.since) < idle && entry.sender.is_ready() {
                return Some(entry.sender);
            }
            // Closed, busy or stale: dropping it lets hyper close it.
        }
        None
    })
}

/// Puts `sender` on this worker's free-list for `authority`, idle since
/// `since`.
fn push(authority: Authority, sender: SendRequest<CappedBody>, since: Instant) {
    if sender.is_closed() {
        return;
    }
    IDLE.with(|pool| {
        let mut pool = pool.borrow_mut();
        let list = match pool
            .iter()
            .position(|(a, _)| a.as_str() == authority.as_str())
        {
            Some(i) => &mut pool[i].1,
            None => {
                pool.push((authority, Vec::new()));
                let last = pool.len() - 1;
                &mut pool[last].1
            }
        };
        if list.len() < MAX_IDLE {
            list.push(Idle { sender, since });
        }
    });
}

/// A new connection to `authority`: hyper's handle and connection future.
async fn open(
    authority: &Authority,
    timeouts: PoolTimeouts,
) -> Result<
    (
        SendRequest<CappedBody>,
        Connection<TokioIo<TcpStream>, CappedBody>,
    ),
    SendError,
> {
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream =
        match tokio::time::timeout(timeouts.connect, TcpStream::connect((host, port))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(SendError::Connect(Box::new(e))),
            Err(_) => return Err(SendError::Connect("connect timed out".into())),
        };
    let _ = stream.set_nodelay(true);
    http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SendError::Connect(Box::new(e)))
}

async fn connect(
    authority: &Authority,
    timeouts: PoolTimeouts,
) -> Result<SendRequest<CappedBody>, SendError> {
    let (sender, conn) = open(authority, timeouts).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(target: "corsair::upstream", "upstream connection ended: {e}");
        }
    });
    Ok(sender)
}

/// Sends a WebSocket handshake over a connection of its own, never
/// pooled: after a `101` the connection belongs to the WebSocket
/// (`hyper::upgrade::on` on the response takes it), and after any other
/// answer it closes with the response.
pub async fn send_upgrade(
    authority: &Authority,
    request: Request<CappedBody>,
    timeouts: PoolTimeouts,
) -> Result<Response<Incoming>, SendError> {
    let (mut sender, conn) = open(authority, timeouts).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(target: "corsair::upstream", "upstream connection ended: {e}");
        }
    });
    sender
        .send_request(request)
        .await
        .map_err(SendError::Request)
}

/// Sends `request` (origin-form target, Host set) to `authority` over an
/// idle connection of this worker or a new one; `now` is the time it is
/// sent. A request a reused connection could not take (closed before it
/// was written) is retried.
pub async fn send(
    authority: &Authority,
    mut request: Request<CappedBody>,
    timeouts: PoolTimeouts,
    now: Instant,
) -> Result<(Response<Incoming>, Checkout), SendError> {
    while let Some(mut sender) = pop(authority, timeouts.idle, now) {
        match sender.try_send_request(request).await {
            Ok(response) => {
                return Ok((
                    response,
                    Checkout {
                        authority: authority.clone(),
                        sender,
                        idle: timeouts.idle,
                    },
                ))
            }
            Err(mut e) => match e.take_message() {
                Some(unsent) => request = unsent,
                None => return Err(SendError::Request(e.into_error())),
            },
        }
    }
    // Boxed: connecting is the rare path, and its state (resolver, TCP
    // connect, handshake) would otherwise make every request's future
    // larger than everything else it holds.
    let mut sender = Box::pin(connect(authority, timeouts)).await?;
    let response = sender
        .send_request(request)
        .await
        .map_err(SendError::Request)?;
    Ok((
        response,
        Checkout {
            authority: authority.clone(),
            sender,
            idle: timeouts.idle,
        },
    ))
}

/// An upstream response body that, once read to its end, hands its
/// connection back to the worker's free-list (when dropped).
#[derive(Debug)]
pub struct PooledBody {
    inner: Incoming,
    checkout: Option<Checkout>,
    done: bool,
    /// When the response headers came: the connection counts as idle from
    /// then on (no clock read at the end of every body). For a body that
    /// streams for longer than the idle timeout, that only means its
    /// connection is closed instead of reused.
    answered: Instant,
}

impl PooledBody {
    /// `inner`, whose headers came at `answered`, returning `checkout`
    /// when done.
    pub fn new(inner: Incoming, checkout: Checkout, answered: Instant) -> Self {
        PooledBody {
            inner,
            checkout: Some(checkout),
            done: false,
            answered,
        }
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        if !(self.done || self.inner.is_end_stream()) {
            // Unread body: the connection is mid-message and cannot be reused.
            return;
        }
        let Some(Checkout {
            authority,
            mut sender,
            idle,
        }) = self.checkout.take()
        else {
            return;
        };
        let since = self.answered;
        if sender.is_ready() {
            push(authority, sender, since);
            return;
        }
        // The body is done but hyper's connection task has not yet turned
        // to the next message (or is still writing a request body the
        // upstream answered early). Pooling it only once it is ready keeps
        // the next request from finding a busy sender and opening a second
        // connection. The task runs on this worker's runtime, so it pushes
        // into this worker's free-list.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(idle, sender.ready()).await {
                push(authority, sender, since);
            }
        });
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.done = true,
            Poll::Ready(Some(Err(_))) => this.checkout = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
