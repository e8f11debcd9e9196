//! Where a layer reads its policy from: a fixed policy, or a
//! [`PolicyHandle`] whose policy can be replaced at run time.

use std::sync::Arc;

use arc_swap::ArcSwap;
use corsair::Policy;

/// A shared, atomically replaceable [`Policy`].
///
/// Every [`CorsLayer`](crate::CorsLayer) built with
/// [`CorsLayer::from_handle`](crate::CorsLayer::from_handle) reads the
/// handle's current policy once per request, so [`PolicyHandle::store`]
/// takes effect on the next request without rebuilding any service. A
/// request already being evaluated finishes with the policy it started
/// with. Reading is lock-free and allocation-free (`arc-swap`).
///
/// ```
/// use corsair::Policy;
/// use corsair_tower::{CorsLayer, PolicyHandle};
///
/// let first = Policy::builder().allow_origins(["https://a.example"]).build()?;
/// let handle = PolicyHandle::new(first);
/// let layer = CorsLayer::from_handle(handle.clone());
/// // ... later, e.g. when the config file changes:
/// let second = Policy::builder().allow_origins(["https://b.example"]).build()?;
/// handle.store(second);
/// # drop(layer);
/// # Ok::<(), corsair::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct PolicyHandle {
    current: Arc<ArcSwap<Policy>>,
}

impl PolicyHandle {
    /// A handle holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self::from_arc(Arc::new(policy))
    }

    /// A handle holding an already shared policy.
    pub fn from_arc(policy: Arc<Policy>) -> Self {
        PolicyHandle {
            current: Arc::new(ArcSwap::new(policy)),
        }
    }

    /// Replaces the policy for every layer built from this handle (or a
    /// clone of it), starting with the next request.
    pub fn store(&self, policy: Policy) {
        self.store_arc(Arc::new(policy));
    }

    /// Same as [`PolicyHandle::store`] with an already shared policy.
    pub fn store_arc(&self, policy: Arc<Policy>) {
        self.current.store(policy);
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }
}

/// The policy of one layer: fixed at build time, or read from a handle.
#[derive(Debug, Clone)]
pub(crate) enum PolicySource {
    Fixed(Arc<Policy>),
    Swappable(PolicyHandle),
}

impl PolicySource {
    /// Runs `f` with the policy in force now. The `arc-swap` guard lives
    /// only for the call, never across an `.await`.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Policy) -> R) -> R {
        match self {
            PolicySource::Fixed(policy) => f(policy),
            PolicySource::Swappable(handle) => f(&handle.current.load()),
        }
    }
}
