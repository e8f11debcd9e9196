//! One corsair CORS policy as the native configuration of the proxies and
//! services teams already run (nginx, HAProxy, Caddy, Apache, Envoy,
//! Traefik, Kong, the Kubernetes Gateway API, S3, API Gateway), and those
//! configurations read back into a `[cors]` table.
//!
//! **Exact or refused.** Each target can express only part of a policy.
//! [`export`] first lists every [`Gap`] between the policy and what the
//! target would do ([`features`] holds the table); with any gap it refuses
//! unless [`Options::approximate`] is set, and then every approximation is
//! written as a comment in the output and returned in
//! [`Exported::approximations`]. A gap that would grant more than the policy
//! (S3 answering `Access-Control-Allow-Credentials: true` to a policy
//! without credentials, say) is refused even then.
//!
//! The header values come from [`corsair::Policy::portable`], so an
//! exported nginx, HAProxy, Caddy or Apache config answers what
//! [`corsair::Policy::evaluate`] answers; corsair-conformance runs each of
//! those servers with the exported config and compares every answer.
//!
//! ```
//! use corsair::CorsConfig;
//! use corsair_export::{export, Options, Route, Target};
//!
//! let cors = CorsConfig {
//!     allow_origins: vec!["https://app.example.com".into()],
//!     allow_methods: vec!["PUT".into()],
//!     ..CorsConfig::default()
//! };
//! let routes = [Route::whole_site(cors)];
//! let options = Options { upstream: "http://127.0.0.1:3000".into(), ..Options::default() };
//! let nginx = export(&routes, Target::Nginx, &options).unwrap();
//! assert!(nginx.text.contains("server 127.0.0.1:3000;"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod features;
pub mod import;
mod render;
pub mod target;
mod targets;

use corsair::{CorsConfig, Policy, Portable};

pub use features::{Feature, Gap, Support};
pub use import::{import, Finding, ImportError, Imported};
pub use target::Target;

/// A policy and where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// A name for comments and generated identifiers (`cors`, `routes[0]`).
    pub name: String,
    /// The path prefix it applies to; `None` is the whole site.
    pub path_prefix: Option<String>,
    /// The policy.
    pub cors: CorsConfig,
}

impl Route {
    /// One policy for every path.
    pub fn whole_site(cors: CorsConfig) -> Route {
        Route {
            name: "cors".into(),
            path_prefix: None,
            cors,
        }
    }
}

/// How to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where the proxy forwards requests (a complete config only).
    pub upstream: String,
    /// The address the proxy listens on (a complete config only).
    pub listen: String,
    /// Only the part to paste into an existing config, with a comment
    /// saying where it goes.
    pub snippet: bool,
    /// Export even when the target cannot do exactly what the policy says,
    /// writing each approximation as a comment.
    pub approximate: bool,
    /// Where the config will live, for targets that need a directory for
    /// their own files (nginx's pid and temp paths, Apache's).
    pub runtime_dir: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            upstream: "http://127.0.0.1:3000".into(),
            listen: "127.0.0.1:8080".into(),
            snippet: false,
            approximate: false,
            runtime_dir: "/tmp/corsair-export".into(),
        }
    }
}

/// An exported configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The target's configuration text.
    pub text: String,
    /// Each approximation made (empty for an exact export).
    pub approximations: Vec<Gap>,
}

/// Why an export was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A route's policy is not valid.
    #[error("{route}: the policy is not valid:\n{errors}")]
    InvalidPolicy {
        /// The route.
        route: String,
        /// What `corsair validate` says.
        errors: String,
    },
    /// The target would get these features wrong.
    #[error("{target} cannot enforce this policy exactly:\n{}\n{}", list(.gaps), advice(.gaps))]
    Gaps {
        /// The target.
        target: Target,
        /// Every gap.
        gaps: Vec<Gap>,
    },
    /// The options or routes are not usable for the target.
    #[error("{0}")]
    Unusable(String),
}

fn list(gaps: &[Gap]) -> String {
    gaps.iter()
        .map(|g| format!("  - {g}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn advice(gaps: &[Gap]) -> String {
    if gaps.iter().any(|g| g.support == Support::Never) {
        "Change the policy, or export to a target that can express it (docs/export.md has the table)."
            .into()
    } else {
        "Pass --approximate to export anyway, with each approximation written as a comment.".into()
    }
}

/// A route whose policy is validated, with its portable values.
#[derive(Debug, Clone)]
pub(crate) struct Prepared<'a> {
    pub route: &'a Route,
    pub portable: Portable,
    /// A short identifier: `r0`, `r1`, ...
    pub id: String,
}

/// Exports `routes` to `target`.
///
/// # Errors
/// [`ExportError::Gaps`] when the target cannot enforce a route exactly
/// (and `options.approximate` is not set, or a gap would grant more), an
/// invalid policy, or routes the target cannot hold.
pub fn export(
    routes: &[Route],
    target: Target,
    options: &Options,
) -> Result<Exported, ExportError> {
    if routes.is_empty() {
        return Err(ExportError::Unusable(
            "nothing to export: the file has no [cors] table and no [[routes]] with one".into(),
        ));
    }
    let mut prepared = Vec::new();
    let mut gaps = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let policy = Policy::new(&route.cors).map_err(|e| ExportError::InvalidPolicy {
            route: route.name.clone(),
            errors: e.to_string(),
        })?;
        let portable = policy.portable();
        gaps.extend(features::gaps(target, route, &portable));
        prepared.push(Prepared {
            route,
            portable,
            id: format!("r{i}"),
        });
    }
    if !gaps.is_empty()
        && (!options.approximate || gaps.iter().any(|g| g.support == Support::Never))
    {
        return Err(ExportError::Gaps { target, gaps });
    }
    let text = targets::render(target, &prepared, options, &gaps)?;
    Ok(Exported {
        text,
        approximations: gaps,
    })
}
