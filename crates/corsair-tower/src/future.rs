//! [`ResponseFuture`]: the future of [`Cors`](crate::Cors), either a
//! ready preflight response or the inner service's future whose response
//! gets the policy's headers. No boxing: the future is a plain enum.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use corsair::{CorsHeaders, Decision, RequestKind};
use http::Response;
use pin_project_lite::pin_project;

use crate::service::set_reason;

/// What the layer decided about one request: its kind and the decision's
/// reason code ([`corsair::Verdict::code`]), read from the response future
/// with [`ResponseFuture::outcome`] (for access logs and metrics, without
/// evaluating the policy a second time). `Copy`, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How Fetch classifies the request.
    pub kind: RequestKind,
    /// The reason code: `non-cors`, `origin-exact`, `origin-not-allowed`, ...
    pub code: &'static str,
    /// Whether the policy lets the requesting origin read the response
    /// (always true for a request that is not CORS).
    pub allowed: bool,
}

impl Outcome {
    pub(crate) fn of(decision: &Decision) -> Self {
        Outcome {
            kind: decision.kind,
            code: decision.verdict.code(),
            allowed: decision.is_allowed(),
        }
    }
}

pin_project! {
    /// The response future of [`Cors`](crate::Cors).
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        outcome: Outcome,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        /// A preflight answered by the layer; `None` once returned.
        Preflight { response: Option<Response<B>> },
        /// The inner service's future and the headers to add to its response.
        Inner {
            #[pin]
            future: F,
            headers: CorsHeaders,
            reason: Option<&'static str>,
        },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn preflight(response: Response<B>, outcome: Outcome) -> Self {
        ResponseFuture {
            state: State::Preflight {
                response: Some(response),
            },
            outcome,
        }
    }

    pub(crate) fn inner(
        future: F,
        headers: CorsHeaders,
        reason: Option<&'static str>,
        outcome: Outcome,
    ) -> Self {
        ResponseFuture {
            state: State::Inner {
                future,
                headers,
                reason,
            },
            outcome,
        }
    }

    /// What the layer decided about the request this future answers.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Preflight { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: a contract violation by
                // the caller; stay pending rather than panic.
                None => Poll::Pending,
            },
            StateProj::Inner {
                future,
                headers,
                reason,
            } => {
                let mut response = ready!(future.poll(cx))?;
                headers.apply_to(response.headers_mut());
                if let Some(code) = reason.take() {
                    set_reason(&mut response, code);
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
