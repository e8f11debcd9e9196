//! What the `corsair serve` tests share: a real upstream (a small hyper
//! server), the gateway binary under a guard that kills it, config files,
//! and clients.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;

pub use std::convert::Infallible;
pub use std::io::{Read, Write};
pub use std::net::{SocketAddr, TcpStream};
pub use std::path::PathBuf;
pub use std::pin::Pin;
pub use std::process::{Child, Command, Stdio};
pub use std::sync::atomic::{AtomicUsize, Ordering};
pub use std::sync::{Arc, Mutex};
pub use std::task::{Context, Poll};
pub use std::time::{Duration, Instant};

pub use bytes::Bytes;
pub use common::free_port;
pub use corsair_gateway::runtime::accept::Acceptor;
pub use http::{HeaderMap, Method, Request, Response, StatusCode};
pub use http_body::{Body, Frame, SizeHint};
pub use http_body_util::combinators::BoxBody;
pub use http_body_util::{BodyExt, Empty, Full};
pub use hyper::body::Incoming;
pub use hyper_util::client::legacy::connect::HttpConnector;
pub use hyper_util::client::legacy::Client;
pub use hyper_util::rt::{TokioExecutor, TokioIo};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestBody = BoxBody<Bytes, BoxError>;

pub const APP: &str = "https://app.example.com";
pub const OTHER: &str = "https://other.example.com";

// ---------------------------------------------------------------- upstream

/// A body of `remaining` zero bytes, made on the fly in 64 KiB chunks.
pub struct Zeros {
    pub remaining: u64,
}

pub static ZEROS: [u8; 65536] = [0; 65536];

impl Body for Zeros {
    type Data = Bytes;
    type Error = BoxError;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(ZEROS.len() as u64);
        self.remaining -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
            &ZEROS[..n as usize],
        )))))
    }
    fn size_hint(&self) -> SizeHint {
        // Unknown length: the body goes chunked, like a generated stream.
        SizeHint::default()
    }
}

pub fn boxed<B>(body: B) -> TestBody
where
    B: Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

pub fn text(s: impl Into<String>) -> TestBody {
    boxed(Full::new(Bytes::from(s.into())))
}

/// A test upstream: records each request as "METHOD path" and answers by path.
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<String>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn query_num(uri: &http::Uri, key: &str) -> u64 {
    uri.query()
        .and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub async fn upstream_answer(name: &'static str, req: Request<Incoming>) -> Response<TestBody> {
    let path = req.uri().path().to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .map(|v| v.to_str().unwrap_or("?").to_string())
            .unwrap_or_default()
    };
    // Every line of a header, as one list.
    let all = |n: &str| {
        let lines: Vec<&str> = req
            .headers()
            .get_all(n)
            .iter()
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        lines.join(", ")
    };
    let mut builder = Response::builder()
        .header("x-upstream", name)
        .header("x-seen-host", header("host"))
        .header("x-seen-xff", header("x-forwarded-for"))
        .header("x-seen-proto", header("x-forwarded-proto"))
        .header("x-seen-xfh", header("x-forwarded-host"))
        .header("x-seen-forwarded", header("forwarded"))
        .header("x-seen-connection-named", header("x-hop"))
        .header("x-seen-via", all("via"))
        .header("x-seen-cookie", header("cookie"))
        .header(
            "x-seen-cookie-lines",
            req.headers().get_all("cookie").iter().count().to_string(),
        );
    let seen_claims: Vec<String> = [
        "x-real-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "x-client-ip",
        "x-forwarded-port",
        "x-secret",
    ]
    .iter()
    .filter(|n| req.headers().contains_key(**n))
    .map(|n| n.to_string())
    .collect();
    builder = builder.header("x-seen-claims", seen_claims.join(","));
    match path.as_str() {
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(query_num(req.uri(), "ms"))).await;
            builder.body(text("slow done")).unwrap()
        }
        "/own-cors" => {
            builder = builder
                .header("access-control-allow-origin", "*")
                .header("access-control-allow-credentials", "true")
                .header("vary", "Accept-Encoding");
            builder.body(text("own cors")).unwrap()
        }
        "/upload" => {
            let mut body = req.into_body();
            let mut n: u64 = 0;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => n += f.data_ref().map_or(0, |d| d.len() as u64),
                    Err(_) => break,
                }
            }
            builder.body(text(n.to_string())).unwrap()
        }
        "/download" => {
            let n = query_num(req.uri(), "bytes");
            builder.body(boxed(Zeros { remaining: n })).unwrap()
        }
        _ => builder.body(text(format!("hello from {name}"))).unwrap(),
    }
}

pub async fn start_upstream_on(listener: tokio::net::TcpListener, name: &'static str) -> Upstream {
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let task = tokio::spawn(async move {
        let mut acceptor = Acceptor::new(listener, "test upstream");
        loop {
            let (stream, _) = acceptor.accept().await;
            let seen = seen2.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {}", req.method(), req.uri()));
                    async move { Ok::<_, Infallible>(upstream_answer(name, req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Upstream { addr, seen, task }
}

pub async fn start_upstream(name: &'static str) -> Upstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_upstream_on(listener, name).await
}

// ---------------------------------------------------------------- gateway

/// A config file deleted on drop.
pub struct ConfigFile(pub PathBuf);

impl ConfigFile {
    pub fn new(text: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "corsair-serve-test-{}-{n}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }
    /// Replaces the content atomically (write + rename), as editors and
    /// config managers do.
    pub fn rewrite(&self, text: &str) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A running `corsair serve`; killed on drop.
pub struct Gateway {
    pub child: Child,
    pub port: u16,
    pub admin: u16,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Starts `corsair serve ARGS --listen ... --admin ...`, logging
    /// warnings and errors to the test's stderr, and waits until both
    /// ports accept connections.
    pub fn start(args: &[&str]) -> Gateway {
        Gateway::start_logging(args, &["--log-level", "warn"], Stdio::inherit())
    }

    /// [`Gateway::start`] with its own log options and log destination.
    pub fn start_logging(args: &[&str], log: &[&str], stderr: Stdio) -> Gateway {
        Gateway::start_limited(None, args, log, stderr)
    }

    /// [`Gateway::start_logging`] with at most `descriptors` open files
    /// (`ulimit -n`), when given.
    pub fn start_limited(
        descriptors: Option<u32>,
        args: &[&str],
        log: &[&str],
        stderr: Stdio,
    ) -> Gateway {
        let port = free_port();
        let admin = free_port();
        let mut command = match descriptors {
            None => Command::new(env!("CARGO_BIN_EXE_corsair")),
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\"")])
                    .arg(env!("CARGO_BIN_EXE_corsair"));
                sh
            }
        };
        let child = command
            .arg("serve")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin", &format!("127.0.0.1:{admin}")])
            .args(log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn corsair serve");
        let mut gw = Gateway { child, port, admin };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = gw.child.try_wait() {
                panic!("corsair serve exited early: {status}");
            }
            let up = |p| TcpStream::connect(("127.0.0.1", p)).is_ok();
            if up(port) && up(admin) {
                return gw;
            }
            assert!(Instant::now() < deadline, "corsair serve did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (10 s at most) for the process to exit, and checks it exited
    /// with success.
    pub fn wait_for_clean_exit(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "the gateway did not exit");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status}");
    }

    pub fn with_config(file: &ConfigFile) -> Gateway {
        Gateway::start(&["--config", file.0.to_str().unwrap()])
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }

    pub async fn metrics(&self) -> String {
        let r = send(
            &client(),
            Method::GET,
            &format!("http://127.0.0.1:{}/metrics", self.admin),
            &[],
            empty(),
        )
        .await
        .unwrap();
        r.text
    }

    /// The value of one metric line (0 when absent).
    pub async fn metric(&self, line_prefix: &str) -> u64 {
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(line_prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The peak resident set size of the gateway, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

// ---------------------------------------------------------------- client

pub fn client() -> Client<HttpConnector, TestBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn empty() -> TestBody {
    boxed(Empty::<Bytes>::new())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

pub async fn send(
    client: &Client<HttpConnector, TestBody>,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: TestBody,
) -> Result<Reply, BoxError> {
    let mut req = Request::builder().method(method).uri(url);
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let resp = client.request(req.body(body)?).await?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// POSTs `body` to the gateway's `/upload` from the allowed origin.
pub async fn upload(gw: &Gateway, body: TestBody) -> Result<Reply, BoxError> {
    send(
        &client(),
        Method::POST,
        &gw.url("/upload"),
        &[("origin", APP)],
        body,
    )
    .await
}

pub async fn get(url: &str, origin: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    send(&client(), Method::GET, url, &headers, empty())
        .await
        .unwrap()
}

pub async fn preflight(url: &str, origin: &str, method: &str, headers: Option<&str>) -> Reply {
    let mut h = vec![
        ("origin", origin),
        ("access-control-request-method", method),
    ];
    if let Some(hs) = headers {
        h.push(("access-control-request-headers", hs));
    }
    send(&client(), Method::OPTIONS, url, &h, empty())
        .await
        .unwrap()
}

/// Writes raw bytes and returns what the gateway answered before closing
/// (or within 3 s).
pub fn raw(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    // The gateway may answer and close before reading everything.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.len() > 12 {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn config(upstream: SocketAddr, extra: &str, cors: &str) -> String {
    format!("upstream = \"http://{upstream}\"\n{extra}\n[cors]\n{cors}\n",)
}

pub const POLICY: &str = r#"allow_origins = ["https://app.example.com"]
allow_methods = ["GET", "PUT"]
allow_headers = ["authorization"]
max_age = 600"#;

pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- tests

// ---------------------------------------------------------------- upgrades

/// An upstream that answers `Upgrade: websocket` with a 101 and then sends
/// back every byte it gets (no WebSocket framing: the gateway only carries
/// bytes). It counts handshakes and keeps the last one's head.
pub async fn echo_upgrade_upstream() -> (SocketAddr, Arc<AtomicUsize>, Arc<Mutex<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new(String::new()));
    let (c, l) = (count.clone(), last.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (c, l) = (c.clone(), l.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                c.fetch_add(1, Ordering::SeqCst);
                *l.lock().unwrap() = text.clone();
                if !text.contains("\r\nupgrade: websocket\r\n") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let switch = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
                if stream.write_all(switch).await.is_err() {
                    return;
                }
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    (addr, count, last)
}

/// Opens an upgraded connection through the gateway: the answer's head,
/// and the stream when it is a 101.
pub async fn upgrade_handshake(
    port: u16,
    origin: Option<&str>,
    protocol: &str,
) -> (String, Option<tokio::net::TcpStream>) {
    upgrade_handshake_for(port, &format!("127.0.0.1:{port}"), origin, protocol).await
}

/// [`upgrade_handshake`] with the `Host` the client claims.
pub async fn upgrade_handshake_for(
    port: u16,
    host: &str,
    origin: Option<&str>,
    protocol: &str,
) -> (String, Option<tokio::net::TcpStream>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "GET /ws HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: Upgrade\r\nUpgrade: {protocol}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the end of the head, so nothing after it is eaten.
    while !answer.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
            Ok(Ok(1)) => answer.push(byte[0]),
            _ => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let switched = answer.starts_with("HTTP/1.1 101");
    (answer, switched.then_some(stream))
}
