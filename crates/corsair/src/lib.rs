//! # corsair
//!
//! A spec-exact CORS engine (WHATWG Fetch, RFC 6454, RFC 9110) with both
//! halves of the protocol:
//!
//! - [`origin`]: origins exactly as browsers serialize them, same-origin and
//!   schemeful same-site with the Public Suffix List.
//! - [`names`]: the Fetch Standard's method and header-name tables.
//! - [`browser`]: the browser side: preflight decisions, CORS checks,
//!   redirects, the preflight cache and per-browser diagnostics.
//!
//! The crate is pure: no I/O, no async, no global state. It uses the
//! [`http`] crate's types at its edges.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod browser;
pub mod names;
pub mod origin;

pub use origin::{Host, Origin, OriginError, OriginRef};
