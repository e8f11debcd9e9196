//! A tonic gRPC server reachable from browsers through gRPC-web
//! (`tonic-web`), with the policy of `corsair_tower::presets::grpc_web`.
//!
//! `cargo run -p corsair-tower --example tonic_grpc_web`, then:
//!
//! ```text
//! printf '\0\0\0\0\5hello' | curl -i --data-binary @- localhost:3004/corsair.example.Echo/Say \
//!      -H 'content-type: application/grpc-web+proto' -H 'x-grpc-web: 1' -H 'origin: https://app.example.com'
//! ```
//!
//! To stay light the service is hand-written instead of generated from a
//! `.proto`: `Echo/Say` is a real unary gRPC method served by
//! `tonic::server::Grpc`, with a codec that passes the message bytes
//! through. Layer order: CORS first (outermost, so preflights never reach
//! the gRPC-web translation), then `GrpcWebLayer`.

use std::convert::Infallible;
use std::future::{ready, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use corsair_tower::{presets, CorsLayer};
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::Status;
use tonic_web::GrpcWebLayer;

/// The origins whose pages call the service.
pub const ORIGINS: [&str; 1] = ["https://app.example.com"];

/// A codec whose messages are the raw bytes of the frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The `corsair.example.Echo` service: `Say` answers with its request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl NamedService for Echo {
    const NAME: &'static str = "corsair.example.Echo";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<http::Request<Body>> for Echo {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            if request.uri().path() != "/corsair.example.Echo/Say" {
                return Ok(Status::unimplemented("Echo has only Say").into_http());
            }
            let say = tower::service_fn(|message: tonic::Request<Bytes>| {
                ready(Ok::<_, Status>(tonic::Response::new(message.into_inner())))
            });
            Ok(Grpc::new(RawCodec).unary(say, request).await)
        })
    }
}

/// Serves gRPC and gRPC-web on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener) -> Result<(), Box<dyn std::error::Error>> {
    let policy = presets::grpc_web(ORIGINS).build()?;
    Server::builder()
        .accept_http1(true)
        .layer(CorsLayer::new(policy))
        .layer(GrpcWebLayer::new())
        .add_service(Echo)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:3004").await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener).await
}
