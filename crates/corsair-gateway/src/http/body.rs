//! The gateway's bodies: the response body (the upstream's stream or a
//! short message) and the request body cap that enforces `max_body_bytes`
//! while streaming, never buffering the body. Both sides are timed between
//! reads on the worker's coarse clock (`timeouts.body`,
//! `timeouts.upstream_body`), and a body that breaks is told apart by
//! side: the client's is a 400, the upstream's is cut and logged.

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::runtime::timer::ReadTimeout;
use crate::upstream::h1pool::PooledBody;
use crate::upstream::proxy::{Shared, Target};

/// The error type of the gateway's bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body: empty (preflights), a short message (errors), or the
/// upstream's body streamed frame by frame.
#[derive(Debug, Default)]
pub enum GatewayBody {
    /// No body.
    #[default]
    Empty,
    /// A message made by the gateway; `None` once sent.
    Full(Option<Bytes>),
    /// The upstream's body.
    Upstream(UpstreamBody),
}

/// Where an upstream's body comes from.
#[derive(Debug)]
enum Source {
    /// The https client's response.
    Direct(Incoming),
    /// A plain-http upstream's body; its connection goes back to the
    /// worker's pool at the end.
    Pooled(PooledBody),
}

/// An upstream's response body on its way to the client, timed between
/// reads (`timeouts.upstream_body`). When it breaks or stalls, the
/// client's response is cut (the HTTP/1.1 connection closed before the
/// body's end, the HTTP/2 stream reset: never a complete-looking body),
/// and the failure is logged and counted: the access log has already
/// written the status.
#[derive(Debug)]
pub struct UpstreamBody {
    source: Source,
    status: StatusCode,
    target: Arc<Target>,
    shared: Arc<Shared>,
    /// Bytes passed on so far.
    sent: u64,
    read_timeout: ReadTimeout,
}

impl UpstreamBody {
    /// The https client's `body` of a response with `status`.
    pub fn direct(
        body: Incoming,
        status: StatusCode,
        target: Arc<Target>,
        shared: Arc<Shared>,
    ) -> Self {
        Self::new(Source::Direct(body), status, target, shared)
    }

    /// A pooled connection's `body` of a response with `status`.
    pub fn pooled(
        body: PooledBody,
        status: StatusCode,
        target: Arc<Target>,
        shared: Arc<Shared>,
    ) -> Self {
        Self::new(Source::Pooled(body), status, target, shared)
    }

    fn new(source: Source, status: StatusCode, target: Arc<Target>, shared: Arc<Shared>) -> Self {
        UpstreamBody {
            source,
            status,
            target,
            shared,
            sent: 0,
            read_timeout: ReadTimeout::default(),
        }
    }

    /// Logs and counts a body that did not reach its end.
    fn failed(&self, code: &'static str, error: &dyn std::fmt::Display) {
        self.shared.metrics.upstream_body_error(code);
        tracing::warn!(
            target: "corsair::upstream",
            upstream = self.target.upstream.as_str(),
            status = self.status.as_u16(),
            bytes_sent = self.sent,
            error = %error,
            "{code}: the client's response was cut"
        );
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = match &mut this.source {
            Source::Direct(body) => Pin::new(body).poll_frame(cx),
            Source::Pooled(body) => Pin::new(body).poll_frame(cx),
        };
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent += data.len() as u64;
                }
                this.read_timeout
                    .progressed(this.target.upstream_body_timeout);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.failed("upstream-body-broken", &e);
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let timeout = this.target.upstream_body_timeout;
                if !this.read_timeout.expired(timeout, cx) {
                    return Poll::Pending;
                }
                let error = Stalled("upstream", timeout);
                this.failed("upstream-body-timeout", &error);
                Poll::Ready(Some(Err(Box::new(error))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.source {
            Source::Direct(body) => body.is_end_stream(),
            Source::Pooled(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Direct(body) => body.size_hint(),
            Source::Pooled(body) => body.size_hint(),
        }
    }
}

/// A body that sent nothing for longer than its between-reads timeout.
#[derive(Debug)]
pub struct Stalled(&'static str, Duration);

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} sent no body data for {:?}", self.0, self.1)
    }
}

impl std::error::Error for Stalled {}

impl GatewayBody {
    /// A body holding `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        GatewayBody::Full(Some(bytes.into()))
    }
}

impl Body for GatewayBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            GatewayBody::Empty => Poll::Ready(None),
            GatewayBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            GatewayBody::Upstream(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GatewayBody::Empty => true,
            GatewayBody::Full(bytes) => bytes.is_none(),
            GatewayBody::Upstream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GatewayBody::Empty => SizeHint::with_exact(0),
            GatewayBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            GatewayBody::Upstream(body) => body.size_hint(),
        }
    }
}

/// The error a [`CappedBody`] ends with when the client sends more than
/// the limit.
#[derive(Debug)]
pub struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body larger than max_body_bytes")
    }
}

impl std::error::Error for BodyTooLarge {}

/// The most of an unwanted request body [`drain`] reads and throws away.
const DRAIN_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// The longest [`drain`] waits for the rest of an unwanted request body.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

/// Reads the rest of a request body nobody will forward (the gateway
/// answered 413, 502 or 504 before the client finished sending it) and
/// throws it away, in a task of its own, for at most [`DRAIN_MAX_BYTES`]
/// and [`DRAIN_MAX_TIME`].
///
/// Without this, the client connection is closed with the client's data
/// still unread, the kernel answers that with a reset, and the client
/// (a browser among them) sees a broken pipe or a reset instead of the
/// gateway's answer and its CORS headers: the "lingering close" every
/// HTTP server needs (RFC 9112 §9.6). Past the limits the connection is
/// closed anyway: an endless upload does not keep a task busy.
pub fn drain(body: Incoming) {
    if body.is_end_stream() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut body = body;
        let mut left = DRAIN_MAX_BYTES;
        let discard = async {
            while let Some(Ok(frame)) = body.frame().await {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                if n >= left {
                    break;
                }
                left -= n;
            }
        };
        let _ = tokio::time::timeout(DRAIN_MAX_TIME, discard).await;
    });
}

/// What went wrong with a request body on the client's side, for the
/// proxy to answer that (413, 400, 408) rather than blame the upstream
/// when the send fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFault {
    /// More than `max_body_bytes`.
    TooLarge = 1,
    /// The client's body is not valid HTTP (a malformed chunk, a reset).
    Broken = 2,
    /// Nothing came for `timeouts.body`.
    Stalled = 3,
}

/// The flag a [`CappedBody`] raises when the client's side of the body
/// fails ([`ClientFault`]). An empty body cannot fail and has no flag to
/// share (no allocation for the usual bodiless request).
#[derive(Debug, Clone, Default)]
pub struct Tripped(Option<Arc<AtomicU8>>);

impl Tripped {
    /// What went wrong on the client's side, if anything.
    pub fn fault(&self) -> Option<ClientFault> {
        match self.0.as_ref()?.load(Ordering::Relaxed) {
            1 => Some(ClientFault::TooLarge),
            2 => Some(ClientFault::Broken),
            3 => Some(ClientFault::Stalled),
            _ => None,
        }
    }

    fn set(&self, fault: ClientFault) {
        if let Some(t) = &self.0 {
            t.store(fault as u8, Ordering::Relaxed);
        }
    }
}

/// A request body passed through frame by frame that fails once more than
/// `limit` bytes went by, when the client's body breaks, or when nothing
/// comes for `timeout` (nginx's `client_body_timeout`), and raises a flag
/// ([`Tripped`]) the proxy reads to answer for the client's fault.
/// Whatever of the client's body is left unread when it is dropped (over
/// the limit, or the upstream failed) is [`drain`]ed.
#[derive(Debug)]
pub struct CappedBody {
    /// `None` once read to its end or handed to [`drain`].
    inner: Option<Incoming>,
    /// Read to its end (not cut).
    finished: bool,
    remaining: u64,
    tripped: Tripped,
    timeout: Duration,
    read_timeout: ReadTimeout,
}

impl CappedBody {
    /// Caps `inner` at `limit` bytes and `timeout` between reads; the flag
    /// returned says what went wrong.
    pub fn new(inner: Incoming, limit: u64, timeout: Duration) -> (Self, Tripped) {
        let tripped = match inner.is_end_stream() {
            true => Tripped::default(),
            false => Tripped(Some(Arc::new(AtomicU8::new(0)))),
        };
        let body = CappedBody {
            inner: Some(inner),
            finished: false,
            remaining: limit,
            tripped: tripped.clone(),
            timeout,
            read_timeout: ReadTimeout::default(),
        };
        (body, tripped)
    }

    /// Ends the body for the client's `fault`: a stalled or broken client
    /// stream is dropped (its connection closes after the answer), one over
    /// the limit is drained so the client reads the 413.
    fn fail(
        &mut self,
        fault: ClientFault,
        error: BoxError,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.tripped.set(fault);
        if let Some(inner) = self.inner.take() {
            if fault == ClientFault::TooLarge {
                drain(inner);
            }
        }
        Poll::Ready(Some(Err(error)))
    }
}

impl Drop for CappedBody {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            drain(inner);
        }
    }
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let Some(inner) = &mut this.inner else {
            return Poll::Ready(if this.finished {
                None
            } else {
                Some(Err(Box::new(BodyTooLarge)))
            });
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > this.remaining {
                        return this.fail(ClientFault::TooLarge, Box::new(BodyTooLarge));
                    }
                    this.remaining -= n;
                }
                this.read_timeout.progressed(this.timeout);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => this.fail(ClientFault::Broken, Box::new(e)),
            Poll::Ready(None) => {
                this.finished = true;
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let timeout = this.timeout;
                if !this.read_timeout.expired(timeout, cx) {
                    return Poll::Pending;
                }
                this.fail(ClientFault::Stalled, Box::new(Stalled("client", timeout)))
            }
        }
    }
    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.is_end_stream(),
            None => self.finished,
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}
