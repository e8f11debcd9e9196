//! `corsair serve`, run as the real binary in front of a real upstream (a
//! small hyper server in the test), everything on loopback with random
//! ports. Every gateway process is killed when its guard drops, panics
//! included.

mod serve_support;

use serve_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_is_applied_on_the_wire() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);

    // Allowed actual request: forwarded, ACAO for the origin, Vary: origin.
    let r = get(&gw.url("/items?x=1"), Some(APP)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "hello from a");
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.all("vary"), ["origin"]);
    // Forwarding headers, and the upstream's Host by default.
    assert_eq!(r.header("x-seen-host"), Some(up.addr.to_string().as_str()));
    assert_eq!(r.header("x-seen-xff"), Some("127.0.0.1"));
    assert_eq!(r.header("x-seen-proto"), Some("http"));
    assert_eq!(
        r.header("x-seen-xfh"),
        Some(format!("127.0.0.1:{}", gw.port).as_str())
    );
    assert_eq!(
        r.header("x-seen-forwarded"),
        Some(format!("for=127.0.0.1;host=\"127.0.0.1:{}\";proto=http", gw.port).as_str())
    );

    // Refused actual request: still forwarded (the browser blocks the
    // read), but no Access-Control-* header at all.
    let r = get(&gw.url("/items"), Some(OTHER)).await;
    assert_eq!(r.status, 200);
    assert!(r
        .headers
        .keys()
        .all(|k| !k.as_str().starts_with("access-control-")));
    assert_eq!(r.all("vary"), ["origin"]);

    // The upstream's own CORS headers are replaced; its Vary is merged.
    let r = get(&gw.url("/own-cors"), Some(APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(r.all("vary"), ["Accept-Encoding", "origin"]);
    let r = get(&gw.url("/own-cors"), Some(OTHER)).await;
    assert_eq!(r.header("access-control-allow-origin"), None);

    // Preflights: answered by the gateway, allowed and refused.
    let r = preflight(&gw.url("/items"), APP, "PUT", Some("authorization")).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    let r = preflight(&gw.url("/items"), APP, "DELETE", None).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = preflight(&gw.url("/items"), OTHER, "PUT", None).await;
    assert_eq!(r.status, 403);
    let r = preflight(&gw.url("/items"), APP, "PUT", Some("x-custom")).await;
    assert_eq!(r.status, 403);

    // A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
    let r = send(&client(), Method::OPTIONS, &gw.url("/plain"), &[], empty())
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter()
            .filter(|s| s.starts_with("OPTIONS"))
            .collect::<Vec<_>>(),
        ["OPTIONS /plain"],
        "preflights reached the upstream: {seen:?}"
    );
    assert!(seen.contains(&"GET /items?x=1".to_string()), "{seen:?}");

    let m = gw.metrics().await;
    assert!(
        m.contains("corsair_requests_total{kind=\"preflight\",decision=\"origin-exact\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("corsair_requests_total{kind=\"actual\",decision=\"origin-not-allowed\"} 2"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_access_log_has_a_line_per_request_with_the_decision() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let log_path = std::env::temp_dir().join(format!("corsair-access-{}.log", free_port()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut gw = Gateway::start_logging(
        &["--config", file.0.to_str().unwrap()],
        &["--log-format", "json", "--log-level", "info"],
        Stdio::from(log),
    );
    assert_eq!(
        get(&gw.url("/items?token=secret"), Some(APP)).await.status,
        200
    );
    assert_eq!(get(&gw.url("/items"), Some(OTHER)).await.status, 200);
    assert_eq!(
        preflight(&gw.url("/items"), APP, "DELETE", None)
            .await
            .status,
        403
    );
    let access = || {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        text.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))
            })
            .filter(|v| v["target"] == "corsair::access")
            .collect::<Vec<_>>()
    };
    wait_until("three access log lines", || async { access().len() == 3 }).await;
    // Each worker thread writes its lines in batches: lines of different
    // connections may come out of order, so each is found by its content.
    let lines = access();
    let find = |method: &str, decision: &str| {
        lines
            .iter()
            .find(|l| l["method"] == method && l["decision"] == decision)
            .unwrap_or_else(|| panic!("no {method} {decision} line in {lines:?}"))
            .clone()
    };
    let allowed = find("GET", "origin-exact");
    // The query is left out: it may hold secrets.
    assert_eq!(allowed["path"], "/items");
    assert_eq!(allowed["status"], 200);
    assert_eq!(allowed["kind"], "actual");
    assert_eq!(allowed["level"], "INFO");
    assert_eq!(allowed["message"], "request");
    assert!(allowed["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(allowed["route"].is_string());
    assert!(allowed["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let refused = find("GET", "origin-not-allowed");
    assert_eq!(refused["status"], 200);
    assert_eq!(refused["kind"], "actual");
    let preflight = find("OPTIONS", "method-not-allowed");
    assert_eq!(preflight["kind"], "preflight");
    assert_eq!(preflight["status"], 403);
    // Lines still batched when the gateway is told to stop are written
    // before it exits: none is lost.
    for _ in 0..40 {
        assert_eq!(get(&gw.url("/more"), Some(APP)).await.status, 200);
    }
    gw.signal("-TERM");
    gw.wait_for_clean_exit();
    assert_eq!(access().len(), 43);
    let _ = std::fs::remove_file(&log_path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_are_not_forwarded() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let r = send(
        &client(),
        Method::GET,
        &gw.url("/"),
        &[
            ("connection", "x-hop"),
            ("x-hop", "secret"),
            ("x-forwarded-for", "203.0.113.9"),
        ],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(r.header("x-seen-connection-named"), Some(""));
    assert_eq!(r.header("x-seen-xff"), Some("203.0.113.9, 127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_gives_502_with_cors_then_recovers() {
    // Reserve a port with nothing listening on it yet.
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let file = ConfigFile::new(&config(addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let r = get(&gw.url("/x"), Some(APP)).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.text.contains("upstream-unreachable"), "{}", r.text);
    assert_eq!(
        gw.metric("corsair_upstream_errors_total{error=\"upstream-unreachable\"}")
            .await,
        1
    );

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _up = start_upstream_on(listener, "late").await;
    let r = get(&gw.url("/x"), Some(APP)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "hello from late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_gives_504_with_cors() {
    let up = start_upstream("a").await;
    // A timeout with room for a busy CI machine to answer the fast request
    // below, and far from the slow one.
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nupstream = \"1s\"", POLICY));
    let gw = Gateway::with_config(&file);
    let start = Instant::now();
    let r = get(&gw.url("/slow?ms=8000"), Some(APP)).await;
    assert_eq!(r.status, 504);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert!(r.text.contains("upstream-timeout"));
    // A fast request still works.
    assert_eq!(get(&gw.url("/slow?ms=10"), Some(APP)).await.status, 200);
}

/// Writes `head`, then (when `trickle`) one more header byte every 200 ms
/// (slowloris), and reads until the gateway closes the connection: how
/// long that took, and what it sent.
fn held_open(port: u16, head: &'static [u8], trickle: bool) -> (Duration, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();
    s.write_all(head).unwrap();
    if trickle {
        let mut writer = s.try_clone().unwrap();
        std::thread::spawn(move || {
            while writer.write_all(b"x").is_ok() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A reset after the close is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the gateway kept the connection open: {e}"),
        }
    }
    (start.elapsed(), String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_clients_are_cut_off_after_the_idle_timeout() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nidle = \"1s\"", POLICY));
    let gw = Gateway::with_config(&file);
    let port = gw.port;
    let trickling = std::thread::spawn(move || {
        held_open(port, b"GET /a HTTP/1.1\r\nHost: a\r\nX-Slow: ", true)
    });
    let idle =
        std::thread::spawn(move || held_open(port, b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", false));
    // A head that keeps coming, a byte at a time, never ends: the deadline
    // is for the whole head, so the trickle does not move it.
    let (elapsed, out) = trickling.join().unwrap();
    assert!(!out.contains(" 200 "), "{out}");
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(5),
        "trickling client cut off after {elapsed:?}"
    );
    // A kept-alive connection answered and then left idle.
    let (elapsed, out) = idle.join().unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(5),
        "idle client cut off after {elapsed:?}"
    );
    // Clients that keep talking are not.
    assert_eq!(get(&gw.url("/a"), Some(APP)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_drops_nothing_and_applies_the_new_policy() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let url = gw.url("/load");
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (url, failures, done, stop) =
            (url.clone(), failures.clone(), done.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let c = client();
            // Bounded: until told to stop, at most 20,000 requests per task.
            for _ in 0..20_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match send(&c, Method::GET, &url, &[("origin", APP)], empty()).await {
                    Ok(r) if r.status == 200 => {}
                    _ => {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // Rewrite the file several times while the requests run; each write
    // is picked up by the once-a-second check.
    let new_policy = POLICY.replace(APP, "https://new.example.com");
    for (i, policy) in [&new_policy, POLICY, &new_policy].iter().enumerate() {
        file.rewrite(&config(up.addr, "", policy));
        wait_until("a reload", || async {
            gw.metric("corsair_config_reloads_total{result=\"ok\"}")
                .await
                > i as u64
        })
        .await;
    }
    let during = done.load(Ordering::SeqCst);
    wait_until("the new policy", || async {
        get(&gw.url("/"), Some("https://new.example.com"))
            .await
            .header("access-control-allow-origin")
            == Some("https://new.example.com")
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let total = done.load(Ordering::SeqCst);
    assert!(
        during > 100 && total < 80_000,
        "load did not overlap the reloads: {during}/{total}"
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "requests failed during reloads"
    );
    eprintln!("reload under load: {total} requests, 3 reloads, 0 failures");
    assert_eq!(
        get(&gw.url("/"), Some(APP))
            .await
            .header("access-control-allow-origin"),
        None
    );
    assert_eq!(
        gw.metric("corsair_config_reloads_total{result=\"ok\"}")
            .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_reload_keeps_the_old_policy() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    file.rewrite(&config(
        up.addr,
        "",
        "allow_origins = [\"*\"]\nallow_credentials = true",
    ));
    wait_until("the failed reload", || async {
        gw.metric("corsair_config_reloads_total{result=\"failed\"}")
            .await
            >= 1
    })
    .await;
    let r = get(&gw.url("/"), Some(APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let r = get(&gw.url("/"), Some(OTHER)).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(
        gw.metric("corsair_config_reloads_total{result=\"ok\"}")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    // The file is unchanged, so only the signal can trigger this reload.
    gw.signal("-HUP");
    wait_until("the SIGHUP reload", || async {
        gw.metric("corsair_config_reloads_total{result=\"ok\"}")
            .await
            == 1
    })
    .await;
    assert_eq!(get(&gw.url("/"), Some(APP)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_completes_in_flight_requests() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let mut gw = Gateway::with_config(&file);
    let url = gw.url("/slow?ms=1500");
    let slow = tokio::spawn(async move { get(&url, Some(APP)).await });
    // Signal only once the request is in flight (a fixed sleep could
    // signal before a busy machine has even sent it).
    let seen = up.seen.clone();
    wait_until("the slow request to reach the upstream", || {
        let seen = seen.clone();
        async move { seen.lock().unwrap().iter().any(|r| r.contains("/slow")) }
    })
    .await;
    gw.signal("-TERM");
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "slow done");
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    gw.wait_for_clean_exit();
    assert!(TcpStream::connect(("127.0.0.1", gw.port)).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let h2: Client<HttpConnector, TestBody> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let r = send(
        &h2,
        Method::GET,
        &gw.url("/h2"),
        &[("origin", APP)],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "hello from a");
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(
        r.header("x-seen-xfh"),
        Some(format!("127.0.0.1:{}", gw.port).as_str())
    );
    let r = send(
        &h2,
        Method::OPTIONS,
        &gw.url("/h2"),
        &[("origin", APP), ("access-control-request-method", "PUT")],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_stream_both_ways_without_buffering() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(
        up.addr,
        &format!("max_body_bytes = {}", SIZE + 1),
        POLICY,
    ));
    let gw = Gateway::with_config(&file);
    let r = upload(&gw, boxed(Zeros { remaining: SIZE })).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text, SIZE.to_string());

    // Download: count the bytes without keeping them.
    let req = Request::get(gw.url(&format!("/download?bytes={SIZE}")))
        .header("origin", APP)
        .body(empty())
        .unwrap();
    let resp = client().request(req).await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], APP);
    let mut body = resp.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        n += frame.unwrap().data_ref().map_or(0, |d| d.len() as u64);
    }
    assert_eq!(n, SIZE);
    let peak = gw.peak_rss_kib();
    eprintln!("streamed 2 x {SIZE} bytes; gateway peak RSS {peak} KiB");
    assert!(
        peak < 100 * 1024,
        "gateway peak RSS {peak} KiB: a body was buffered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_max_body_bytes_get_413_with_cors() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "max_body_bytes = 1000", POLICY));
    let gw = Gateway::with_config(&file);
    // Declared length over the limit: refused before contacting the upstream.
    let r = upload(&gw, text("x".repeat(1001))).await.unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert!(r.text.contains("body-too-large"));
    // Chunked, no declared length: cut while streaming.
    let r = upload(&gw, boxed(Zeros { remaining: 1 << 20 }))
        .await
        .unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    // Under the limit: fine.
    let r = upload(&gw, text("x".repeat(1000))).await.unwrap();
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "1000"));
    assert_eq!(gw.metric("corsair_request_body_too_large_total").await, 2);
}

/// A client still sending a body the gateway has refused must get the 413
/// (with CORS headers), not a broken pipe or a reset: the gateway reads
/// the rest of the body away before closing (up to a bound). Several
/// rounds and megabytes, so that an early close would show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uploads_still_get_their_answer() {
    const SIZE: u64 = 4 * 1024 * 1024;
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "max_body_bytes = 1000", POLICY));
    let gw = Gateway::with_config(&file);
    for round in 0..5 {
        // Declared length over the limit: refused before any of it is read.
        let declared = Full::new(Bytes::from(vec![b'x'; SIZE as usize]));
        let r = upload(&gw, boxed(declared))
            .await
            .unwrap_or_else(|e| panic!("round {round}, declared length: {e:?}"));
        assert_eq!(r.status, 413);
        assert_eq!(r.header("access-control-allow-origin"), Some(APP));
        // Chunked: cut after 1000 bytes while the client goes on sending.
        let r = upload(&gw, boxed(Zeros { remaining: SIZE }))
            .await
            .unwrap_or_else(|e| panic!("round {round}, chunked: {e:?}"));
        assert_eq!(r.status, 413);
        assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    }
    // A client that waits for `100 Continue` before sending gets the 413
    // straight away, never an invitation to send what would be refused.
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\nContent-Length: {SIZE}\r\nExpect: 100-continue\r\n\r\n"
    );
    let r = raw(gw.port, head.as_bytes());
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // The same for a 502: the upstream is down, the upload is not read.
    let down: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let file = ConfigFile::new(&config(down, "", POLICY));
    let gw = Gateway::with_config(&file);
    for round in 0..3 {
        let r = upload(
            &gw,
            boxed(Full::new(Bytes::from(vec![b'x'; SIZE as usize]))),
        )
        .await
        .unwrap_or_else(|e| panic!("round {round}, upstream down: {e:?}"));
        assert_eq!(r.status, 502);
        assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_hostile_requests_are_rejected_cleanly() {
    let up = start_upstream("a").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let r = raw(gw.port, b"THIS IS NOT HTTP\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = raw(gw.port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let r = raw(gw.port, big.as_bytes());
    assert!(r.starts_with("HTTP/1.1 431"), "{r}");
    // Not an open proxy: an absolute-form target goes to the configured
    // upstream (path only), CONNECT is refused.
    let r = raw(
        gw.port,
        b"GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("x-upstream: a"), "{r}");
    assert!(up
        .seen
        .lock()
        .unwrap()
        .contains(&"GET /latest/meta-data".to_string()));
    let r = raw(
        gw.port,
        b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 405"), "{r}");
    // Still serving.
    assert_eq!(get(&gw.url("/"), Some(APP)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_have_their_own_policies_and_upstreams() {
    let a = start_upstream("a").await;
    let b = start_upstream("b").await;
    let text = format!(
        r#"upstream = "http://{a}"
[cors]
allow_origins = ["https://app.example.com"]

[[routes]]
path_prefix = "/public"
upstream = "http://{b}"
[routes.cors]
allow_origins = ["*"]

[[routes]]
path_prefix = "/public/admin"
[routes.cors]
allow_origins = ["https://admin.example.com"]
allow_credentials = true

[[routes]]
host = "partner.localhost"
[routes.cors]
allow_origins = ["https://partner.example.com"]
"#,
        a = a.addr,
        b = b.addr
    );
    let file = ConfigFile::new(&text);
    let gw = Gateway::with_config(&file);

    let r = get(&gw.url("/public/x"), Some(OTHER)).await;
    assert_eq!(
        (r.text.as_str(), r.header("access-control-allow-origin")),
        ("hello from b", Some("*"))
    );
    let r = get(
        &gw.url("/public/admin/x"),
        Some("https://admin.example.com"),
    )
    .await;
    assert_eq!(r.text, "hello from a");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://admin.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = get(&gw.url("/private"), Some(OTHER)).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = get(&gw.url("/private"), Some(APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    let r = send(
        &client(),
        Method::GET,
        &gw.url("/private"),
        &[
            ("origin", "https://partner.example.com"),
            ("host", "Partner.localhost:1234"),
        ],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://partner.example.com")
    );
    // Preflights use the route's policy too.
    let r = preflight(&gw.url("/public/x"), OTHER, "GET", None).await;
    assert_eq!(r.status, 204);
    let r = preflight(&gw.url("/private"), OTHER, "GET", None).await;
    assert_eq!(r.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_start_flags() {
    let up = start_upstream("a").await;
    let upstream = format!("http://{}", up.addr);
    let gw = Gateway::start(&[
        "--upstream",
        &upstream,
        "--allow-origin",
        APP,
        "--allow-credentials",
        "--allow-method",
        "PUT",
    ]);
    let r = get(&gw.url("/"), Some(APP)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let r = preflight(&gw.url("/"), APP, "PUT", None).await;
    assert_eq!(r.status, 204);
    let h = send(
        &client(),
        Method::GET,
        &format!("http://127.0.0.1:{}/healthz", gw.admin),
        &[],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!((h.status, h.text.as_str()), (StatusCode::OK, "ok\n"));
}

/// A bare HTTP/1.1 upstream that answers `ok` to every request and counts
/// the connections it accepted; with `close_after`, it closes each
/// connection that long after its first answer, without saying so (as an
/// upstream with a short keep-alive timeout does).
async fn counting_upstream(
    close_after: Option<Duration>,
) -> (SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        head.drain(..end + 4);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(answer).await.is_err() {
                            return;
                        }
                        if let Some(after) = close_after {
                            tokio::time::sleep(after).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_are_reused() {
    let (addr, accepted, task) = counting_upstream(None).await;
    let file = ConfigFile::new(&config(addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    // Exactly one client connection (a pooled client may open a second one
    // when a request races the return of the first): one gateway worker,
    // so one upstream connection, however quickly requests follow each
    // other.
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    for _ in 0..50 {
        sender.ready().await.unwrap();
        let request = Request::get("/a")
            .header("host", format!("127.0.0.1:{}", gw.port))
            .header("origin", APP)
            .body(empty())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&text[..], b"ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closing_idle_connections_is_not_an_error() {
    let (addr, accepted, task) = counting_upstream(Some(Duration::from_millis(50))).await;
    let file = ConfigFile::new(&config(addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let c = client();
    for _ in 0..5 {
        let r = send(&c, Method::GET, &gw.url("/a"), &[("origin", APP)], empty())
            .await
            .unwrap();
        assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "ok"));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
    assert_eq!(
        gw.metric("corsair_upstream_errors_total{error=\"upstream-unreachable\"}")
            .await,
        0
    );
    task.abort();
}

#[test]
fn invalid_configs_exit_2_listing_every_problem() {
    let file = ConfigFile::new(
        r#"upstream = "localhost:3000"
listen = "everywhere"
[timeouts]
upstream = "soon"
[cors]
allow_origins = ["*"]
allow_credentials = true
[[routes]]
path_prefix = "/x"
[routes.cors]
allow_origins = ["https://a.example/path"]
"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["serve", "--config", file.0.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "upstream `localhost:3000`",
        "listen `everywhere`",
        "timeouts.upstream",
        "top-level [cors]",
        "routes[0] cors",
    ] {
        assert!(err.contains(needle), "missing {needle}:\n{err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_style_upgrades_are_tunnelled_for_trusted_origins_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, handshakes, last) = echo_upgrade_upstream().await;
    // The gateway's own pages are those on its configured names.
    let file = ConfigFile::new(&config(addr, "server_names = [\"127.0.0.1\"]", POLICY));
    let gw = Gateway::with_config(&file);
    let own = format!("http://127.0.0.1:{}", gw.port);
    // An allowed origin, the gateway's own host, and a program (no Origin).
    let mut open = Vec::new();
    for origin in [Some(APP), Some(own.as_str()), None] {
        let (answer, stream) = upgrade_handshake(gw.port, origin, "websocket").await;
        let mut stream = stream.unwrap_or_else(|| panic!("{origin:?}: {answer}"));
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("\r\nupgrade: websocket\r\n"), "{answer}");
        assert!(lower.contains("\r\nconnection: upgrade\r\n"), "{answer}");
        // The upstream saw the upgrade asked for, as a proxied request.
        let seen = last.lock().unwrap().clone();
        assert!(seen.contains("\r\nconnection: upgrade\r\n"), "{seen}");
        assert!(
            seen.contains("\r\nx-forwarded-for: 127.0.0.1\r\n"),
            "{seen}"
        );
        // Bytes go both ways, in several exchanges.
        for message in [&b"ping"[..], &[7u8; 100_000][..], b"bye"] {
            stream.write_all(message).await.unwrap();
            let mut back = vec![0u8; message.len()];
            tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back))
                .await
                .expect("echo within 5 s")
                .unwrap();
            assert_eq!(back, message);
        }
        open.push(stream);
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 3);
    assert_eq!(
        gw.metric("corsair_upgrades_total{result=\"tunnelled\"}")
            .await,
        3
    );
    assert_eq!(gw.metric("corsair_tunnels_open").await, 3);
    // Closing the client side closes the tunnel.
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(5);
    while gw.metric("corsair_tunnels_open").await != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gw.metric("corsair_tunnels_open").await, 0);
    // A page elsewhere that the policy does not trust: refused by the
    // gateway, the upstream never asked.
    for origin in [OTHER, "null", "https://app.example.com.evil.example"] {
        let (answer, stream) = upgrade_handshake(gw.port, Some(origin), "websocket").await;
        assert!(stream.is_none());
        assert!(answer.starts_with("HTTP/1.1 403"), "{origin}: {answer}");
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 3);
    assert_eq!(
        gw.metric("corsair_upgrades_total{result=\"refused\"}")
            .await,
        3
    );
    // Any other upgrade (h2c above all, which would carry later requests
    // past the CORS layer) is not passed on: the upstream gets a plain
    // request, and the answer is an ordinary one with CORS headers.
    for protocol in ["h2c", "echo"] {
        let (answer, stream) = upgrade_handshake(gw.port, Some(APP), protocol).await;
        assert!(stream.is_none(), "{protocol}: {answer}");
        assert!(answer.starts_with("HTTP/1.1 426"), "{protocol}: {answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("access-control-allow-origin: https://app.example.com"),
            "{answer}"
        );
        let seen = last.lock().unwrap().clone();
        assert!(!seen.contains("\r\nupgrade:"), "{seen}");
    }
    // Ordinary requests on the same gateway are unaffected.
    let r = get(&gw.url("/plain"), Some(APP)).await;
    assert_eq!(r.status, 426);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
}
