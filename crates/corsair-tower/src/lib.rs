//! # corsair-tower
//!
//! [`tower`](https://docs.rs/tower) middleware applying a [`corsair::Policy`]:
//! the same validated policy, from the same `[cors]` TOML table or built in
//! code, that `corsair eval` and the gateway use. Works with axum 0.8,
//! hyper 1 (through `hyper_util::service::TowerToHyperService`) and tonic
//! (gRPC-web, see [`presets::grpc_web`]).
//!
//! ```
//! use corsair::{ConfigFile, Policy};
//! use corsair_tower::CorsLayer;
//!
//! let file = ConfigFile::from_toml(r#"
//!     [cors]
//!     allow_origins = ["https://app.example.com", "https://*.example.org"]
//!     allow_methods = ["GET", "POST", "DELETE"]
//!     allow_headers = ["authorization", "content-type"]
//!     allow_credentials = true
//!     max_age = 600
//! "#).expect("valid TOML");
//! let policy = Policy::new(&file.cors).expect("valid policy");
//! let layer = CorsLayer::new(policy);
//! // axum: Router::new().route(...).layer(layer)
//! # drop(layer);
//! ```
//!
//! ## What the layer does
//!
//! - **Preflights** (`OPTIONS` with `Origin` and
//!   `Access-Control-Request-Method`, and nothing else: a plain `OPTIONS`
//!   goes to the application) are answered by the layer itself and never
//!   reach the inner service. Allowed: 204 (or `preflight_status`) with the
//!   `Access-Control-Allow-*` headers. Refused (origin, method, any
//!   requested header or private-network access not allowed): 403 with no
//!   `Access-Control-*` header, so the browser reports the failure.
//! - **Every other request** reaches the inner service. Its response, of
//!   any status (errors, 404s and 500s included, so the page can read
//!   them), gets the policy's headers: `Access-Control-*` headers set by
//!   the application are replaced by the policy's, and `Vary` is merged
//!   with the application's, never overwritten or duplicated, even when
//!   two layers are stacked. A refused origin gets no `Access-Control-*`
//!   header at all; `Vary: Origin` is still set so caches keep answers per
//!   origin.
//! - **Refusals are logged** with `tracing`, target `corsair`, with the
//!   refusal code and the reason (see [`log`] for the levels).
//!   [`CorsLayer::debug_header`] also sends the code to the client in
//!   [`X_CORSAIR_REASON`], never the allowlist.
//! - **The policy can be replaced at run time** through a [`PolicyHandle`]
//!   ([`CorsLayer::from_handle`]), without rebuilding the service.
//! - **No allocation** on an allowed actual request: the decision borrows
//!   precomputed header values from the policy and the request, and the
//!   response future is a plain enum, not a boxed future.
//!
//! The preflight response's body is `ResBody::default()`, so the layer
//! keeps the inner service's response type (axum's `Body`, tonic's `Body`,
//! `http_body_util::Full`/`Empty`, `String`, boxed bodies): stacking it
//! with axum's `Router::layer`, tonic's `Server::layer` or a hyper service
//! needs no body conversion.
//!
//! ## Where to put the layer
//!
//! **Outside authentication.** Browsers send preflights without
//! credentials (no cookies, no `Authorization`), so an auth layer that
//! runs first answers them 401 and the browser reports a CORS failure.
//! With `tower::ServiceBuilder` the first layer listed is the outermost;
//! with axum's `Router::layer` the *last* call is the outermost:
//!
//! ```ignore
//! let app = Router::new()
//!     .route("/api/items", get(list).post(create))
//!     .layer(auth_layer)   // inner: runs after CORS
//!     .layer(cors_layer);  // outer: answers preflights first
//! ```
//!
//! **axum: use `Router::layer` for the whole API.** It wraps the router's
//! fallback too, so a preflight for a path the application does not route
//! is still answered (204 or 403), and actual requests that end in a 404
//! or 405 still get the CORS headers the page needs to read the error.
//!
//! **axum `route_layer` and per-route layers.** `Router::route_layer`
//! wraps each route, method fallback included, so preflights for routed
//! paths are answered; but a request for a path with no route never
//! reaches the layer: axum answers a bare 404 without CORS headers, which
//! the page cannot read, and a preflight for it fails in the browser. To
//! give one route its own policy, put the layer on the method router,
//! `get(handler).layer(cors)`: axum applies `MethodRouter::layer` to its
//! method fallback too, so preflights for that route are answered (the
//! tests check these behaviours).
//!
//! **tonic / gRPC-web:** `Server::builder().accept_http1(true)`, then
//! `.layer(CorsLayer::new(presets::grpc_web(origins).build()?))`, then
//! `.layer(tonic_web::GrpcWebLayer::new())`: CORS outermost, so
//! preflights never reach the gRPC-web translation.
//!
//! ## Migrating from tower-http
//!
//! See [`migration`] for each `tower_http::cors::CorsLayer` option and its
//! equivalent.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod future;
mod handle;
mod layer;
pub mod log;
pub mod migration;
pub mod presets;
mod service;

pub use future::{Outcome, ResponseFuture};
pub use handle::PolicyHandle;
pub use layer::CorsLayer;
pub use service::Cors;

pub use corsair::{Decision, Policy, PolicyBuilder};

/// The debug-mode response header naming why a request was refused
/// (`x-corsair-reason: origin-not-allowed`); see [`CorsLayer::debug_header`].
pub const X_CORSAIR_REASON: http::HeaderName = http::HeaderName::from_static("x-corsair-reason");
