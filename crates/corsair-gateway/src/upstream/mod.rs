//! Where requests go and how: target URLs that never come from the request
//! ([`target`]), the forwarding service ([`proxy`]), the per-worker HTTP/1.1
//! connection pool ([`h1pool`]), the https client ([`client`]) and the
//! answers when the upstream fails ([`failure`]).

pub mod client;
pub mod failure;
pub mod h1pool;
pub mod proxy;
pub mod target;
