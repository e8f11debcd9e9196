//! A plain hyper 1 server: a `tower::service_fn` wrapped in the CORS layer,
//! served through `hyper_util::service::TowerToHyperService`, with a policy
//! that can be replaced while the server runs.
//!
//! `cargo run -p corsair-tower --example hyper_service`, then:
//!
//! ```text
//! curl -i localhost:3003/ -H 'origin: https://app.example.com'
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use corsair::{ConfigErrors, Policy};
use corsair_tower::{CorsLayer, PolicyHandle};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::Layer;

/// The first policy the server runs with.
pub fn initial_policy() -> Result<Policy, ConfigErrors> {
    Policy::builder()
        .allow_origins(["https://app.example.com"])
        .allow_methods(["GET", "PUT"])
        .allow_headers(["content-type"])
        .build()
}

async fn handle_request(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello from {}\n", request.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Accepts connections on `listener` until the task is dropped, one task
/// per connection.
pub async fn serve(listener: TcpListener, handle: PolicyHandle) -> std::io::Result<()> {
    // The handler inside a CORS layer that reads `handle`'s policy.
    let service = CorsLayer::from_handle(handle).layer(tower::service_fn(handle_request));
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = PolicyHandle::new(initial_policy()?);
    let listener = TcpListener::bind("127.0.0.1:3003").await?;
    println!("listening on http://{}", listener.local_addr()?);
    // A real server would call `handle.store(new_policy)` on reload.
    serve(listener, handle).await?;
    Ok(())
}
