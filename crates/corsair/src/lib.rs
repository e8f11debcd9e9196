//! # corsair
//!
//! A spec-exact CORS engine (WHATWG Fetch, RFC 6454, RFC 9110) with both
//! halves of the protocol:
//!
//! - [`origin`]: origins exactly as browsers serialize them, same-origin and
//!   schemeful same-site with the Public Suffix List.
//! - [`names`]: the Fetch Standard's method and header-name tables.
//! - [`config`]: the `[cors]` TOML table shared by every corsair tool.
//! - [`policy`]: the server side: a validated [`Policy`] that classifies each
//!   request and returns a [`Decision`] with its reason and headers.
//! - [`browser`]: the browser side: preflight decisions, CORS checks,
//!   redirects, the preflight cache and per-browser diagnostics.
//!
//! The crate is pure: no I/O, no async, no global state. It uses the
//! [`http`] crate's types at its edges.
//!
//! ```
//! use corsair::{ConfigFile, Policy};
//! use http::{HeaderMap, HeaderValue, Method};
//!
//! let file = ConfigFile::from_toml(r#"
//!     [cors]
//!     allow_origins = ["https://app.example.com"]
//!     allow_methods = ["GET", "PUT"]
//! "#).unwrap();
//! let policy = Policy::new(&file.cors).unwrap();
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("origin", HeaderValue::from_static("https://app.example.com"));
//! let decision = policy.evaluate(&Method::GET, &headers);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.headers.allow_origin.unwrap(), "https://app.example.com");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod browser;
pub mod config;
pub mod names;
pub mod origin;
pub mod policy;
#[cfg(test)]
mod test_util;

pub use config::{ConfigFile, ConfigSyntaxError, CorsConfig};
pub use origin::{Host, Origin, OriginError, OriginRef};
pub use policy::{
    Allowed, ConfigErrors, CorsHeaders, Decision, Policy, PolicyBuilder, Portable, PortableNames,
    PortableOrigins, PortablePattern, PortablePort, Problem, Refusal, RequestKind, Severity,
    Verdict,
};
