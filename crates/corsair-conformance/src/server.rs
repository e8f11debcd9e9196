//! Recording HTTP/1.1 servers on `127.0.0.1` (hyper 1 + tokio): each one
//! answers with a handler function and logs every request it receives.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use corsair_gateway::runtime::accept::Acceptor;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// A request as a server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The label of the server that received it.
    pub server: String,
    /// The method, byte for byte.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Every header line, names lowercase, values lossily decoded.
    pub headers: Vec<(String, String)>,
}

impl Received {
    /// The values of a header (lowercase name), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header.
    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// The shared log of every request received, in arrival order.
pub type RequestLog = Arc<Mutex<Vec<Received>>>;

/// A handler: the request's parts (the body is read and dropped) to a response.
pub type Handler = Arc<dyn Fn(&http::request::Parts) -> Response<Full<Bytes>> + Send + Sync>;

/// A running server; it stops accepting when dropped.
pub struct TestServer {
    addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and serves `handler` on `runtime`, logging to `log`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        label: &str,
        log: RequestLog,
        handler: Handler,
    ) -> std::io::Result<TestServer> {
        TestServer::start_on(bind_loopback()?, runtime, label, log, handler)
    }

    /// Serves `handler` on a listener bound earlier (to learn its port
    /// before the handler is built).
    pub fn start_on(
        std_listener: std::net::TcpListener,
        runtime: &tokio::runtime::Handle,
        label: &str,
        log: RequestLog,
        handler: Handler,
    ) -> std::io::Result<TestServer> {
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let label: Arc<str> = label.into();
        let accept = runtime.spawn(async move {
            let mut acceptor = Acceptor::new(listener, "scenario server");
            loop {
                let (stream, _) = acceptor.accept().await;
                let (label, log, handler) =
                    (Arc::clone(&label), Arc::clone(&log), Arc::clone(&handler));
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (label, log, handler) =
                            (Arc::clone(&label), Arc::clone(&log), Arc::clone(&handler));
                        async move {
                            let (parts, body) = request.into_parts();
                            // Read the whole body so the connection can be reused.
                            let _ = http_body_util::BodyExt::collect(body).await;
                            record(&log, &label, &parts);
                            Ok::<_, Infallible>(handler(&parts))
                        }
                    });
                    let _ = http1::Builder::new()
                        .auto_date_header(false)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(TestServer { addr, accept })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Binds `127.0.0.1:0`.
pub fn bind_loopback() -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:0")
}

fn record(log: &RequestLog, label: &str, parts: &http::request::Parts) {
    let received = Received {
        server: label.to_string(),
        method: parts.method.as_str().to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(received);
}

/// Builds a response from a status, header pairs and a body; invalid names
/// or values are skipped (scenarios are checked before they run).
pub fn response(
    status: u16,
    headers: &[(String, String)],
    body: &'static str,
) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            builder = builder.header(n, v);
        }
    }
    builder
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap_or_else(|_| {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}
