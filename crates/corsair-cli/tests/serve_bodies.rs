//! Bodies through `corsair serve` that go wrong on either side: a client
//! that stalls or sends a malformed body gets 408 or 400 (never counted as
//! an upstream failure), and an upstream body that breaks or stalls
//! mid-way cuts the client's response and is logged and counted.

mod serve_support;

use std::io::BufRead;

use serve_support::*;

/// A gateway whose warnings go to a file, read by [`Logged::text`].
struct Logged {
    gw: Gateway,
    path: PathBuf,
}

impl Logged {
    fn start(file: &ConfigFile) -> Logged {
        let path = std::env::temp_dir().join(format!("corsair-bodies-{}.log", free_port()));
        let log = std::fs::File::create(&path).unwrap();
        let gw = Gateway::start_logging(
            &["--config", file.0.to_str().unwrap()],
            &["--log-level", "warn"],
            Stdio::from(log),
        );
        Logged { gw, path }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap_or_default()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An upstream on a raw socket: reads a request head, writes `answer`,
/// then holds the connection open for `hold`.
fn raw_upstream(answer: &'static [u8], hold: Duration) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = stream.write_all(answer);
                std::thread::sleep(hold);
            });
        }
    });
    addr
}

/// Sends `request` on a raw connection (after `then`, which may write
/// more), and reads until the gateway closes or 6 s pass; returns what
/// came and how long it took.
fn exchange(port: u16, request: &[u8], then: impl FnOnce(&mut TcpStream)) -> (String, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
    s.write_all(request).unwrap();
    then(&mut s);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_body_gets_408_with_cors() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nbody = \"1s\"", POLICY));
    let gw = Gateway::with_config(&file);
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\nContent-Length: 1000000\r\n\r\n"
    );
    let (answer, took) = tokio::task::block_in_place(|| {
        exchange(gw.port, head.as_bytes(), |s| {
            // A few bytes, then nothing (a client trickling one byte every
            // few seconds looks the same to the gateway).
            let _ = s.write_all(b"abc");
        })
    });
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("client-body-timeout"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&format!("access-control-allow-origin: {APP}")),
        "{answer}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(
        gw.metric("corsair_client_errors_total{error=\"client-body-timeout\"}")
            .await,
        1
    );
    assert_eq!(
        gw.metric("corsair_upstream_errors_total{error=\"upstream-broken\"}")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_body_is_the_clients_error_not_the_upstreams() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let logged = Logged::start(&file);
    let request = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\nzz\r\n"
    );
    let (answer, _) =
        tokio::task::block_in_place(|| exchange(logged.gw.port, request.as_bytes(), |_| {}));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("client-body-broken"), "{answer}");
    let gw = &logged.gw;
    for error in [
        "upstream-broken",
        "upstream-unreachable",
        "upstream-timeout",
    ] {
        let metric = format!("corsair_upstream_errors_total{{error=\"{error}\"}}");
        assert_eq!(gw.metric(&metric).await, 0, "{error}");
    }
    assert_eq!(
        gw.metric("corsair_client_errors_total{error=\"client-body-broken\"}")
            .await,
        1
    );
    // No upstream alert in the log.
    let text = logged.text();
    assert!(!text.contains("WARN"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_body_that_breaks_cuts_the_response_and_is_logged() {
    let addr = raw_upstream(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        Duration::from_secs(1),
    );
    let file = ConfigFile::new(&config(addr, "", POLICY));
    let logged = Logged::start(&file);
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\n\r\n");
    let (answer, _) =
        tokio::task::block_in_place(|| exchange(logged.gw.port, request.as_bytes(), |_| {}));
    // Never a complete-looking body: no last chunk.
    assert!(!answer.contains("0\r\n\r\n"), "{answer:?}");
    let gw = &logged.gw;
    assert_eq!(
        gw.metric("corsair_upstream_body_errors_total{error=\"upstream-body-broken\"}")
            .await,
        1
    );
    let text = logged.text();
    let line = text
        .lines()
        .find(|l| l.contains("upstream-body-broken"))
        .unwrap_or_else(|| panic!("no warning in:\n{text}"));
    assert!(
        line.contains("WARN") && line.contains("status=200"),
        "{line}"
    );
    assert!(line.contains("bytes_sent="), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_body_that_stalls_is_cut_after_upstream_body() {
    let addr = raw_upstream(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        Duration::from_secs(8),
    );
    let file = ConfigFile::new(&config(addr, "[timeouts]\nupstream_body = \"1s\"", POLICY));
    let logged = Logged::start(&file);
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\n\r\n");
    let (answer, took) =
        tokio::task::block_in_place(|| exchange(logged.gw.port, request.as_bytes(), |_| {}));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.contains("hello"), "{answer:?}");
    assert!(!answer.contains("0\r\n\r\n"), "{answer:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(
        logged
            .gw
            .metric("corsair_upstream_body_errors_total{error=\"upstream-body-timeout\"}")
            .await,
        1
    );
    assert!(logged.text().contains("upstream-body-timeout"));
}
