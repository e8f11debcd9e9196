//! The gateway's bodies: the response body (the upstream's stream or a
//! short message) and the request body cap that enforces `max_body_bytes`
//! while streaming, never buffering the body.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::upstream::h1pool::PooledBody;

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
    Upstream(Incoming),
    /// A plain-http upstream's body; its connection goes back to the
    /// worker's pool at the end.
    Pooled(PooledBody),
}

impl GatewayBody {
    /// A body holding `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        GatewayBody::Full(Some(bytes.into()))
    }
}

impl Body for GatewayBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            GatewayBody::Empty => Poll::Ready(None),
            GatewayBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            GatewayBody::Upstream(body) => Pin::new(body).poll_frame(cx),
            GatewayBody::Pooled(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GatewayBody::Empty => true,
            GatewayBody::Full(bytes) => bytes.is_none(),
            GatewayBody::Upstream(body) => body.is_end_stream(),
            GatewayBody::Pooled(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GatewayBody::Empty => SizeHint::with_exact(0),
            GatewayBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            GatewayBody::Upstream(body) => body.size_hint(),
            GatewayBody::Pooled(body) => body.size_hint(),
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

/// Whether a [`CappedBody`] was cut for going over its limit, for the
/// proxy to answer 413 rather than 502 when the send fails. An empty body
/// cannot go over, and has no flag to share (no allocation for the usual
/// bodiless request).
#[derive(Debug, Clone, Default)]
pub struct Tripped(Option<Arc<AtomicBool>>);

impl Tripped {
    /// Whether the body went over its limit.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|t| t.load(Ordering::Relaxed))
    }

    fn set(&self) {
        if let Some(t) = &self.0 {
            t.store(true, Ordering::Relaxed);
        }
    }
}

/// A request body passed through frame by frame that fails once more than
/// `limit` bytes went by, and raises a flag ([`Tripped`]) the proxy reads
/// to answer 413.
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
}

impl CappedBody {
    /// Caps `inner` at `limit` bytes; the flag returned is raised when it
    /// is exceeded.
    pub fn new(inner: Incoming, limit: u64) -> (Self, Tripped) {
        let tripped = match inner.is_end_stream() {
            true => Tripped::default(),
            false => Tripped(Some(Arc::new(AtomicBool::new(false)))),
        };
        let body = CappedBody {
            inner: Some(inner),
            finished: false,
            remaining: limit,
            tripped: tripped.clone(),
        };
        (body, tripped)
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
    type Error = Box<dyn std::error::Error + Send + Sync>;

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
                        this.tripped.set();
                        if let Some(inner) = this.inner.take() {
                            drain(inner);
                        }
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                    this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => {
                this.finished = true;
                this.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
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
