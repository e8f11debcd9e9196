//! Logging refusals with `tracing`, target `corsair`.
//!
//! Refusals a server sees all the time (an origin not in the allowlist,
//! malformed or duplicated request headers, which only broken or hostile
//! clients send) are logged at `debug`. Refusals of a request from an
//! *allowed* origin (a method, header or private-network access the policy
//! does not allow) are logged at `info`: they usually mean the front end
//! and the policy disagree, which someone should fix.

use corsair::{Decision, Refusal, Verdict};
use http::Request;

/// The `tracing` target of every event of this crate.
pub const TARGET: &str = "corsair";

/// Logs `decision` if it is a refusal.
pub(crate) fn refusal<B>(decision: &Decision, request: &Request<B>) {
    let Verdict::Refused(refusal) = &decision.verdict else {
        return;
    };
    let kind = decision.kind.as_str();
    let code = decision.verdict.code();
    let method = request.method().as_str();
    let path = request.uri().path();
    let reason = &decision.verdict;
    match refusal {
        Refusal::MethodNotAllowed { .. }
        | Refusal::HeaderNotAllowed { .. }
        | Refusal::PrivateNetworkNotAllowed => tracing::info!(
            target: TARGET,
            kind,
            code,
            method,
            path,
            "CORS request refused: {reason}"
        ),
        _ => tracing::debug!(
            target: TARGET,
            kind,
            code,
            method,
            path,
            "CORS request refused: {reason}"
        ),
    }
}
