//! An axum API called with credentials (cookies or `Authorization`) by a
//! single-page app served from other origins.
//!
//! `cargo run -p corsair-tower --example axum_credentials`, then:
//!
//! ```text
//! curl -i -X OPTIONS localhost:3001/api/items -H 'origin: https://app.example.com' \
//!      -H 'access-control-request-method: POST' -H 'access-control-request-headers: content-type'
//! ```
//!
//! The policy comes from the same `[cors]` TOML the CLI and the gateway
//! read. CORS is the outermost layer, outside authentication: preflights
//! carry no credentials and must be answered before auth runs, and the
//! 401s of the auth layer still get CORS headers so the page can read them.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use corsair::{ConfigFile, Policy};
use corsair_tower::CorsLayer;
use tokio::net::TcpListener;

/// The policy, as it would sit in a config file.
pub const CONFIG: &str = r#"
[cors]
allow_origins = ["https://app.example.com", "https://*.preview.example.com"]
allow_methods = ["GET", "POST", "DELETE"]
allow_headers = ["authorization", "content-type"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age = 600
"#;

/// The application: routes, then authentication, then CORS outermost.
pub fn app() -> Result<Router, Box<dyn std::error::Error>> {
    let file = ConfigFile::from_toml(CONFIG)?;
    let policy = Policy::new(&file.cors)?;
    Ok(Router::new()
        .route("/api/me", get(me))
        .route("/api/items", get(list).post(create))
        .layer(middleware::from_fn(require_auth))
        .layer(CorsLayer::new(policy)))
}

/// Lets through requests with a session cookie or a bearer token.
async fn require_auth(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let has_session = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.split(';').any(|kv| kv.trim().starts_with("session=")));
    if has_session || headers.contains_key(header::AUTHORIZATION) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, "log in first\n").into_response()
    }
}

fn json(body: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::HeaderName::from_static("x-request-id"),
                HeaderValue::from_static("req-1"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn me() -> Response {
    json(r#"{"user":"ada"}"#)
}

async fn list() -> Response {
    json(r#"[{"id":1}]"#)
}

async fn create() -> Response {
    (StatusCode::CREATED, json(r#"{"id":2}"#)).into_response()
}

/// Serves the app on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let app = app().map_err(|e| std::io::Error::other(e.to_string()))?;
    axum::serve(listener, app).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener).await
}
