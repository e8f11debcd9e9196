//! The pooled upstream client for https upstreams: HTTP/1.1 and HTTP/2
//! (ALPN), rustls with the `ring` provider and the webpki roots. Plain-http
//! upstreams use the per-worker HTTP/1.1 pool in `h1pool` instead.

use std::sync::Arc;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::settings::Timeouts;
use crate::http::body::CappedBody;

/// The client every route shares; its pool keeps connections per upstream.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, CappedBody>;

/// Builds the client. Connect and idle timeouts are fixed for the life of
/// the process (a reload that changes them logs that a restart is needed).
pub fn build(timeouts: &Timeouts) -> Result<UpstreamClient, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(timeouts.connect));
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("cannot set up TLS for https upstreams: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(timeouts.idle)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(https))
}
