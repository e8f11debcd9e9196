//! The gateway's configuration: the file's shape ([`file`]), durations
//! written as text ([`duration`]), the validated settings and routes
//! ([`settings`]) and hot reload ([`reload`]).

pub mod duration;
pub mod file;
pub mod reload;
pub mod settings;
