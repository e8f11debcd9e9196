//! A public, read-only axum API any site may call without credentials.
//!
//! `cargo run -p corsair-tower --example axum_public`, then:
//!
//! ```text
//! curl -i localhost:3002/v1/items -H 'origin: https://anyone.example'
//! ```
//!
//! `allow_origins = ["*"]` without credentials answers
//! `Access-Control-Allow-Origin: *` (no `Vary: Origin` needed: every
//! origin gets the same answer). Debug mode is on: a refused preflight says
//! why in `x-corsair-reason`.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use corsair::{ConfigErrors, Policy};
use corsair_tower::CorsLayer;
use tokio::net::TcpListener;

/// The application with a policy built in code.
pub fn app() -> Result<Router, ConfigErrors> {
    let policy = Policy::builder()
        .allow_origins(["*"])
        .allow_methods(["GET"])
        .allow_headers(["x-api-key"])
        .expose_headers(["x-total-count"])
        .max_age(7200)
        .build()?;
    Ok(Router::new()
        .route("/v1/items", get(items))
        .route("/v1/fail", get(fail))
        .layer(CorsLayer::new(policy).debug_header(true)))
}

async fn items() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                HeaderName::from_static("x-total-count"),
                HeaderValue::from_static("2"),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        r#"[{"id":1},{"id":2}]"#,
    )
        .into_response()
}

async fn fail() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "backend down\n").into_response()
}

/// Serves the app on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let app = app().map_err(|e| std::io::Error::other(e.to_string()))?;
    axum::serve(listener, app).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3002").await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener).await
}
