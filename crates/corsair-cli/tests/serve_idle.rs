//! `corsair serve` closes idle HTTP/2 connections (GOAWAY) without cutting
//! the streams still open, and answers a client that half-closed its side
//! after sending a whole request.

mod serve_support;

use serve_support::*;

/// A gateway in front of the test upstream with `idle = "1s"`.
async fn gateway_with_idle_timeout() -> (Upstream, ConfigFile, Gateway) {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nidle = \"1s\"", POLICY));
    let gw = Gateway::with_config(&file);
    (up, file, gw)
}

/// An HTTP/2 (prior knowledge) connection to the gateway: its sender, and
/// a task that ends when the connection does.
async fn h2_connection(
    port: u16,
) -> (
    hyper::client::conn::http2::SendRequest<TestBody>,
    tokio::task::JoinHandle<()>,
) {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        // The client answers the gateway's pings and sends its own: it
        // stays responsive, as a real one would.
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Duration::from_millis(300))
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    (sender, task)
}

fn get_request(url: &str) -> Request<TestBody> {
    Request::get(url)
        .header("origin", APP)
        .body(empty())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_get_goaway() {
    let (_up, _file, gw) = gateway_with_idle_timeout().await;
    let (mut sender, conn) = h2_connection(gw.port).await;
    let r = sender
        .send_request(get_request(&gw.url("/")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let idle_since = Instant::now();
    // Closed between one and two idle timeouts (and a tick) after the
    // last stream began: well within 5 s.
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the gateway closes an idle HTTP/2 connection")
        .unwrap();
    assert!(idle_since.elapsed() >= Duration::from_millis(900));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_is_not_cut_by_the_idle_timeout() {
    let (_up, _file, gw) = gateway_with_idle_timeout().await;
    let (mut sender, _conn) = h2_connection(gw.port).await;
    // 2.5 s without a new stream: the idle watch fires while this one is
    // open, and the graceful GOAWAY lets it finish.
    let r = sender
        .send_request(get_request(&gw.url("/slow?ms=2500")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"slow done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_closed_client_gets_its_response_and_its_log_line() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let log_path = std::env::temp_dir().join(format!("corsair-halfclose-{}.log", free_port()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut gw = Gateway::start_logging(
        &["--config", file.0.to_str().unwrap()],
        &["--log-format", "json", "--log-level", "info"],
        Stdio::from(log),
    );
    let answer = tokio::task::block_in_place(|| {
        let mut s = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("GET /half HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\n\r\n").as_bytes())
            .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    });
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.contains("hello from api"), "{answer}");
    assert_eq!(up.seen.lock().unwrap().as_slice(), ["GET /half"]);
    gw.signal("-TERM");
    gw.wait_for_clean_exit();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        text.lines()
            .any(|l| l.contains("\"path\":\"/half\"") && l.contains("\"status\":200")),
        "{text}"
    );
}
