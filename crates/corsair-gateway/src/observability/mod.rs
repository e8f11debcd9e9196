//! What the gateway tells its operators: the access log ([`access_log`],
//! written by [`logging`] in the formats of [`log_line`]), the metrics
//! ([`metrics`]) and the admin listener serving them ([`admin`]).

pub mod access_log;
pub mod admin;
pub mod log_line;
pub mod logging;
pub mod metrics;
