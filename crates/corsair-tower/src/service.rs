//! [`Cors`]: the service that answers preflights and adds the policy's
//! headers to every other response.

use std::task::{Context, Poll};

use corsair::{Decision, Verdict};
use http::{HeaderValue, Request, Response};
use tower_service::Service;

use crate::future::{Outcome, ResponseFuture};
use crate::layer::CorsLayer;
use crate::{log, X_CORSAIR_REASON};

/// A service wrapped by [`CorsLayer`].
///
/// - a preflight (`OPTIONS` with `Origin` and
///   `Access-Control-Request-Method`) is answered here, allowed (204 or the
///   configured status, with the `Access-Control-Allow-*` headers) or
///   refused (403, no `Access-Control-*` header); the inner service is not
///   called;
/// - every other request goes to the inner service, and its response, of
///   any status, gets the policy's headers with
///   [`CorsHeaders::apply_to`](corsair::CorsHeaders::apply_to): the inner
///   service's own `Access-Control-*` headers are replaced and its `Vary`
///   is merged, never overwritten or duplicated.
///
/// The preflight response's body is `ResBody::default()`: an empty body for
/// axum's `Body`, tonic's `Body`, `Full<Bytes>`, `Empty<Bytes>`, `String`
/// and the boxed bodies of `http-body-util`, so the layer keeps the inner
/// service's response type unchanged.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    layer: CorsLayer,
}

impl<S> Cors<S> {
    /// Wraps `inner` with the policy and options of `layer`.
    pub fn new(inner: S, layer: CorsLayer) -> Self {
        Cors { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The refusal code to send in debug mode, if any.
fn debug_reason(enabled: bool, decision: &Decision) -> Option<&'static str> {
    match &decision.verdict {
        Verdict::Refused(_) if enabled => Some(decision.verdict.code()),
        _ => None,
    }
}

/// Sets [`X_CORSAIR_REASON`] to a refusal code.
pub(crate) fn set_reason<B>(response: &mut Response<B>, code: &'static str) {
    response
        .headers_mut()
        .insert(X_CORSAIR_REASON, HeaderValue::from_static(code));
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let decision = self
            .layer
            .source
            .with(|policy| policy.evaluate(request.method(), request.headers()));
        log::refusal(&decision, &request);
        let reason = debug_reason(self.layer.debug_header, &decision);
        let outcome = Outcome::of(&decision);
        // The policy writes the answer (from its ready headers when they
        // fit): the same response as `decision.preflight_response()`, even
        // if a reload swapped the policy in between.
        let preflight = match decision.is_preflight() {
            true => self
                .layer
                .source
                .with(|policy| policy.preflight_response::<ResBody>(&decision)),
            false => None,
        };
        if let Some(mut response) = preflight {
            if let Some(code) = reason {
                set_reason(&mut response, code);
            }
            return ResponseFuture::preflight(response, outcome);
        }
        ResponseFuture::inner(self.inner.call(request), decision.headers, reason, outcome)
    }
}
