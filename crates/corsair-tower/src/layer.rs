//! [`CorsLayer`]: the `tower::Layer` that wraps a service in [`Cors`].

use std::sync::Arc;

use corsair::Policy;
use tower_layer::Layer;

use crate::handle::{PolicyHandle, PolicySource};
use crate::service::Cors;

/// A `tower::Layer` applying a corsair [`Policy`] to a service.
///
/// Preflights are answered by the layer and never reach the service;
/// every other response gets the policy's headers (see the
/// [crate documentation](crate) for the full behaviour and where to put
/// the layer).
///
/// Cloning is cheap (one `Arc`); the layer is `Send + Sync`.
#[derive(Debug, Clone)]
pub struct CorsLayer {
    pub(crate) source: PolicySource,
    pub(crate) debug_header: bool,
}

impl CorsLayer {
    /// A layer with a fixed policy.
    pub fn new(policy: Policy) -> Self {
        Self::from_arc(Arc::new(policy))
    }

    /// A layer with a fixed, already shared policy.
    pub fn from_arc(policy: Arc<Policy>) -> Self {
        CorsLayer {
            source: PolicySource::Fixed(policy),
            debug_header: false,
        }
    }

    /// A layer reading its policy from `handle` on every request, so that
    /// [`PolicyHandle::store`] changes it at run time.
    pub fn from_handle(handle: PolicyHandle) -> Self {
        CorsLayer {
            source: PolicySource::Swappable(handle),
            debug_header: false,
        }
    }

    /// Debug mode: every refused request's response carries
    /// [`X_CORSAIR_REASON`](crate::X_CORSAIR_REASON) with the refusal code
    /// (`origin-not-allowed`, `header-not-allowed`, ...), visible in the
    /// browser's network panel. Only the code is sent: never the allowlist
    /// nor the configured names. Off by default; the same reasons are
    /// always logged with `tracing` (target `corsair`).
    pub fn debug_header(mut self, enabled: bool) -> Self {
        self.debug_header = enabled;
        self
    }
}

impl From<Policy> for CorsLayer {
    fn from(policy: Policy) -> Self {
        CorsLayer::new(policy)
    }
}

impl From<PolicyHandle> for CorsLayer {
    fn from(handle: PolicyHandle) -> Self {
        CorsLayer::from_handle(handle)
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors::new(inner, self.clone())
    }
}
