//! The per-worker HTTP/1.1 client for plain-http upstreams, built on
//! `hyper::client::conn::http1`: each worker thread keeps a free-list of
//! idle `SendRequest`s per upstream authority. A request checks one out (or
//! connects and hands the connection future to the same worker's runtime),
//! and the sender goes back to the free-list when the response body has
//! been read to its end. No pool task, no dispatch channel between the
//! request and the connection beyond hyper's own.
//!
//! Why not hyper-util's pooled client, which the https upstreams use: its
//! pool is shared behind a lock and hands each request to the connection
//! through a dispatch task, work a worker that owns its connections does
//! not need; side by side it cost more than 3 % of a proxied request (the
//! commit that introduced this module has the counts).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::client::conn::TrySendError;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::http::body::CappedBody;

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
    let connecting = TcpStream::connect((host, port));
    let stream =
        match crate::runtime::timer::timeout(Instant::now(), timeouts.connect, connecting).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(SendError::Connect(Box::new(e))),
            Err(_) => return Err(SendError::Connect("connect timed out".into())),
        };
    let _ = stream.set_nodelay(true);
    http1::Builder::new()
        // One buffer per write (hyper copies small bodies into it) rather
        // than a queue of buffers for a vectored write: less bookkeeping
        // per request for the small messages an API mostly carries.
        .writev(false)
        .handshake(TokioIo::new(stream))
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
    authority: Authority,
    request: Request<CappedBody>,
    timeouts: PoolTimeouts,
) -> Result<Response<Incoming>, SendError> {
    let (mut sender, conn) = open(&authority, timeouts).await?;
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

/// What [`send`] resolves to: the upstream's response and the connection
/// to give back when its body is done.
pub type Sent = Result<(Response<Incoming>, Checkout), SendError>;

/// Sends `request` (origin-form target, Host set) to `authority` over an
/// idle connection of this worker or a new one; `now` is the time it is
/// sent.
///
/// The common case (an idle connection is at hand) is handed to that
/// connection here, before the future is first polled, and the future is
/// a small state machine around hyper's own: no `async` frame that would
/// hold the request a second time (the future is boxed per request, and
/// under 1 KiB it takes the allocator's fast path). A request the reused
/// connection could not take (it closed before the request was written)
/// goes on to [`send_slow`], as does a request with no idle connection.
pub fn send(
    authority: &Authority,
    request: Request<CappedBody>,
    timeouts: PoolTimeouts,
    now: Instant,
) -> impl Future<Output = Sent> + Send {
    match pop(authority, timeouts.idle, now) {
        Some(mut sender) => Sending::Reused {
            attempt: sender.try_send_request(request),
            sender: Some(sender),
            authority: Some(authority.clone()),
            timeouts,
            now,
        },
        None => Sending::Slow {
            future: Box::pin(send_slow(authority.clone(), request, timeouts, now)),
        },
    }
}

pin_project_lite::pin_project! {
    /// The future of [`send`].
    #[project = SendingProj]
    enum Sending<F> {
        /// On an idle connection of this worker: hyper's future for the
        /// answer, and the connection to return with it.
        Reused {
            #[pin]
            attempt: F,
            sender: Option<SendRequest<CappedBody>>,
            authority: Option<Authority>,
            timeouts: PoolTimeouts,
            now: Instant,
        },
        /// The rare paths, boxed: another idle connection, or a new one.
        Slow {
            future: Pin<Box<dyn Future<Output = Sent> + Send>>,
        },
        /// The answer has been returned.
        Done,
    }
}

impl<F> Future for Sending<F>
where
    F: Future<Output = Result<Response<Incoming>, TrySendError<Request<CappedBody>>>>,
{
    type Output = Sent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Sent> {
        let next = match self.as_mut().project() {
            SendingProj::Reused {
                attempt,
                sender,
                authority,
                timeouts,
                now,
            } => match ready!(attempt.poll(cx)) {
                Ok(response) => match (sender.take(), authority.take()) {
                    (Some(sender), Some(authority)) => {
                        let idle = timeouts.idle;
                        self.set(Sending::Done);
                        return Poll::Ready(Ok((
                            response,
                            Checkout {
                                authority,
                                sender,
                                idle,
                            },
                        )));
                    }
                    // Taken only here, just before `Done`.
                    _ => return Poll::Pending,
                },
                Err(mut e) => match (e.take_message(), authority.take()) {
                    // Closed before the request was written: try again.
                    (Some(unsent), Some(authority)) => Sending::Slow {
                        future: Box::pin(send_slow(authority, unsent, *timeouts, *now)),
                    },
                    _ => {
                        self.set(Sending::Done);
                        return Poll::Ready(Err(SendError::Request(e.into_error())));
                    }
                },
            },
            SendingProj::Slow { future } => {
                let sent = ready!(future.as_mut().poll(cx));
                self.set(Sending::Done);
                return Poll::Ready(sent);
            }
            // Polled after completion: stay pending rather than panic.
            SendingProj::Done => return Poll::Pending,
        };
        self.set(next);
        self.poll(cx)
    }
}

/// [`send`] without an idle connection at hand, or after the one it had
/// closed: the next idle connection, else a new one.
async fn send_slow(
    authority: Authority,
    mut request: Request<CappedBody>,
    timeouts: PoolTimeouts,
    now: Instant,
) -> Sent {
    while let Some(mut sender) = pop(&authority, timeouts.idle, now) {
        match sender.try_send_request(request).await {
            Ok(response) => {
                return Ok((
                    response,
                    Checkout {
                        authority,
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
    let mut sender = connect(&authority, timeouts).await?;
    let response = sender
        .send_request(request)
        .await
        .map_err(SendError::Request)?;
    Ok((
        response,
        Checkout {
            authority,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback server that accepts connections and keeps them open
    /// (reading and answering nothing) until the test ends; returns its
    /// authority.
    async fn silent_server() -> Authority {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        addr.to_string().parse().unwrap()
    }

    fn timeouts() -> PoolTimeouts {
        PoolTimeouts {
            connect: Duration::from_secs(2),
            idle: Duration::from_secs(60),
        }
    }

    /// Empties this thread's free-lists (each test runs on its own thread,
    /// but the same thread may run several tests one after another).
    fn clear() {
        IDLE.with(|pool| pool.borrow_mut().clear());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_returned_sender_is_reused_for_its_authority_only() {
        clear();
        let a = silent_server().await;
        let b = silent_server().await;
        let mut sender = connect(&a, timeouts()).await.unwrap();
        sender.ready().await.unwrap();
        let now = Instant::now();
        push(a.clone(), sender, now);
        assert!(pop(&b, timeouts().idle, now).is_none());
        let again = pop(&a, timeouts().idle, now).expect("the idle sender");
        assert!(again.is_ready());
        // Taken: the list is empty now.
        assert!(pop(&a, timeouts().idle, now).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_sender_idle_too_long_is_dropped_not_reused() {
        clear();
        let a = silent_server().await;
        let mut sender = connect(&a, timeouts()).await.unwrap();
        sender.ready().await.unwrap();
        let since = Instant::now();
        push(a.clone(), sender, since);
        let idle = Duration::from_secs(1);
        assert!(pop(&a, idle, since + idle).is_none());
        // It was dropped, not kept for later.
        assert!(pop(&a, idle, since).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_closed_connection_is_never_pooled() {
        clear();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: Authority = listener.local_addr().unwrap().to_string().parse().unwrap();
        let sender = connect(&addr, timeouts()).await.unwrap();
        // The server closes the connection as soon as it is accepted.
        drop(listener.accept().await.unwrap());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sender.is_closed() {
            assert!(Instant::now() < deadline, "hyper never saw the close");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        push(addr.clone(), sender, Instant::now());
        assert!(pop(&addr, timeouts().idle, Instant::now()).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn connecting_to_nothing_is_a_connect_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let authority: Authority = format!("127.0.0.1:{port}").parse().unwrap();
        assert!(matches!(
            connect(&authority, timeouts()).await,
            Err(SendError::Connect(_))
        ));
    }
}
