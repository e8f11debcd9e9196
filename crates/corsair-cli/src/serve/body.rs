//! The gateway's bodies: the response body (the upstream's stream or a
//! short message) and the request body cap that enforces `max_body_bytes`
//! while streaming, never buffering the body.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::h1pool::PooledBody;

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

/// A request body passed through frame by frame that fails once more than
/// `limit` bytes went by, and raises a flag the proxy reads to answer 413.
#[derive(Debug)]
pub struct CappedBody {
    inner: Incoming,
    remaining: u64,
    tripped: Arc<AtomicBool>,
}

impl CappedBody {
    /// Caps `inner` at `limit` bytes; `tripped` is set when it is exceeded.
    pub fn new(inner: Incoming, limit: u64, tripped: Arc<AtomicBool>) -> Self {
        CappedBody {
            inner,
            remaining: limit,
            tripped,
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
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > this.remaining {
                        this.tripped.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                    this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
