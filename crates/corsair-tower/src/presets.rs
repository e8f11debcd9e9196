//! Ready-made policies for common setups, returned as a
//! [`PolicyBuilder`] so that more can be added before building.

use corsair::PolicyBuilder;

/// The request headers gRPC-web clients (grpc-web, Connect, improbable's
/// client) send from a browser.
pub const GRPC_WEB_REQUEST_HEADERS: [&str; 4] =
    ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"];

/// The response headers a gRPC-web client must read: the status travels in
/// headers for trailers-only responses.
pub const GRPC_WEB_EXPOSED_HEADERS: [&str; 3] =
    ["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// gRPC-web from browser pages at `origins` (exact origins or patterns
/// such as `https://*.example.com`): `POST` with the headers of
/// [`GRPC_WEB_REQUEST_HEADERS`], exposing [`GRPC_WEB_EXPOSED_HEADERS`],
/// preflights cached for 2 hours (Chromium's cap).
///
/// Add `authorization` with `.allow_headers(["authorization"])`, and
/// `.allow_credentials(true)` if the pages send cookies.
///
/// ```
/// let policy = corsair_tower::presets::grpc_web(["https://app.example.com"])
///     .allow_headers(["authorization"])
///     .build()?;
/// let layer = corsair_tower::CorsLayer::new(policy);
/// # drop(layer);
/// # Ok::<(), corsair::ConfigErrors>(())
/// ```
pub fn grpc_web<I, S>(origins: I) -> PolicyBuilder
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    corsair::Policy::builder()
        .allow_origins(origins)
        .allow_methods(["POST"])
        .allow_headers(GRPC_WEB_REQUEST_HEADERS)
        .expose_headers(GRPC_WEB_EXPOSED_HEADERS)
        .max_age(7200)
}
