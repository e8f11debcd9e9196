//! What the gateway does to the messages it passes on: hop-by-hop and
//! forwarding headers ([`forwarded`]), normalised paths ([`path`]),
//! WebSocket upgrades ([`upgrade`]) and streamed bodies ([`body`]).

pub mod body;
pub mod forwarded;
pub mod path;
pub mod upgrade;
