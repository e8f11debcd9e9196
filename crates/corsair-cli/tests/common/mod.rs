//! A tiny HTTP/1.1 test server shared by the CLI's integration tests: one
//! thread per connection, one request per connection, answers decided by a
//! closure, every request recorded.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub type Response = (u16, Vec<(String, String)>);
pub type Handler = dyn Fn(&Seen) -> (u16, Vec<(String, String)>) + Send + Sync;

/// A tiny HTTP/1.1 server on 127.0.0.1 with a random port.
pub struct Server {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start(
        handler: impl Fn(&Seen) -> (u16, Vec<(String, String)>) + Send + Sync + 'static,
    ) -> Server {
        Self::spawn(handler, |stream, handler, seen| {
            serve(stream, handler, seen)
        })
    }

    /// The same server over TLS with a fresh self-signed certificate for
    /// `host`; returns the server and the certificate's PEM (for `--cacert`).
    pub fn start_tls(
        host: &str,
        handler: impl Fn(&Seen) -> (u16, Vec<(String, String)>) + Send + Sync + 'static,
    ) -> (Server, String) {
        let cert = rcgen::generate_simple_self_signed(vec![host.to_string()]).expect("cert");
        let pem = cert.cert.pem();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("server config");
        let config = Arc::new(config);
        let server = Self::spawn(handler, move |stream, handler, seen| {
            if let Ok(conn) = rustls::ServerConnection::new(config.clone()) {
                serve(rustls::StreamOwned::new(conn, stream), handler, seen);
            }
        });
        (server, pem)
    }

    /// Accepts connections on a random loopback port, one thread each.
    fn spawn(
        handler: impl Fn(&Seen) -> (u16, Vec<(String, String)>) + Send + Sync + 'static,
        connection: impl Fn(TcpStream, &Handler, &Mutex<Vec<Seen>>) + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let connection = Arc::new(connection);
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, seen, connection) =
                    (handler.clone(), seen2.clone(), connection.clone());
                std::thread::spawn(move || connection(stream, &*handler, &seen));
            }
        });
        Server { port, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn serve<S: Read + Write>(stream: S, handler: &Handler, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
            break;
        }
        if let Some((n, v)) = l.trim_end().split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let req = Seen {
        method,
        path,
        headers,
    };
    seen.lock().expect("lock").push(req.clone());
    let (status, resp_headers) = handler(&req);
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n");
    for (n, v) in resp_headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let stream = reader.get_mut();
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

/// A free loopback port (bound, then released).
///
/// The port comes from 20000-32767, below Linux's ephemeral range
/// (32768-60999): a port the kernel handed out for `:0` could be handed
/// out again, as the source port of any outgoing connection, between this
/// check and the child's own bind (CI once failed that way). Each call in
/// a process takes the next port of a sequence with a random start, so
/// two calls never return the same port, and one found in use is skipped.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_768;
    static START: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        nanos ^ std::process::id().wrapping_mul(2_654_435_761)
    });
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + start.wrapping_add(n) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}-{}", LOW + SPAN - 1)
}

/// Waits until `child` listens on `port`; if it exits first, panics with
/// its standard error (spawn it with `Stdio::piped()` stderr to see it).
pub fn wait_listening(child: &mut std::process::Child, port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("the process exited with {status} before listening: {err}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on port {port} after 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
