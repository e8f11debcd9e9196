//! Connections that hold `corsair serve`'s resources: idle and trickling
//! clients of the admin listener are cut off, and running out of file
//! descriptors neither spins an accept loop nor wedges the gateway.

mod serve_support;

use serve_support::*;

/// Whether the server closed `stream` within `within` (a read returns end
/// of file or an error).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // Whatever the server says before closing (a 408, say).
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

/// The CPU time (user + system) the process has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which ends with the last `)`.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the file, in clock ticks
    // (100 a second on Linux).
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_cuts_off_idle_and_trickling_clients() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nidle = \"1s\"", POLICY));
    let gw = Gateway::with_config(&file);
    let admin = gw.admin;
    let start = Instant::now();
    let (idle, trickled) = tokio::task::block_in_place(|| {
        let mut idle = TcpStream::connect(("127.0.0.1", admin)).unwrap();
        let mut trickle = TcpStream::connect(("127.0.0.1", admin)).unwrap();
        let writer = trickle.try_clone().unwrap();
        let trickler = std::thread::spawn(move || {
            let mut writer = writer;
            for b in b"GET /metrics HTTP/1.1\r\nHost: admin\r\n".iter() {
                if writer.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        let idle_closed = closed_within(&mut idle, Duration::from_secs(4));
        let trickle_closed = closed_within(&mut trickle, Duration::from_secs(4));
        drop(trickler);
        (idle_closed, trickle_closed)
    });
    assert!(idle, "an idle admin connection stayed open");
    assert!(trickled, "a trickling admin connection stayed open");
    assert!(start.elapsed() < Duration::from_secs(5));
    let health = send(
        &client(),
        Method::GET,
        &format!("http://127.0.0.1:{admin}/healthz"),
        &[],
        empty(),
    )
    .await
    .unwrap();
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_neither_spins_nor_wedges() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "[timeouts]\nidle = \"30s\"", POLICY));
    let log_path = std::env::temp_dir().join(format!("corsair-fds-{}.log", free_port()));
    let log = std::fs::File::create(&log_path).unwrap();
    let gw = Gateway::start_limited(
        Some(64),
        &["--config", file.0.to_str().unwrap()],
        &["--log-level", "warn"],
        Stdio::from(log),
    );
    // More connections than the gateway has descriptors left, on both
    // listeners: the last ones wait in the kernel's queues, and every
    // accept of them fails.
    let mut held = Vec::new();
    for port in [gw.port, gw.admin] {
        for _ in 0..60 {
            held.push(TcpStream::connect(("127.0.0.1", port)).unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_time(gw.pid());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_time(gw.pid()) - before;
    // A spinning accept loop burns a whole CPU: 2 s here.
    assert!(used < Duration::from_millis(500), "{used:?} of CPU in 2 s");
    drop(held);
    // Back to normal once the connections are gone.
    wait_until("a proxied request", || async {
        let reply = send(
            &client(),
            Method::GET,
            &gw.url("/"),
            &[("origin", APP)],
            empty(),
        )
        .await;
        reply.is_ok_and(|r| r.status == StatusCode::OK)
    })
    .await;
    wait_until("/healthz", || async {
        let url = format!("http://127.0.0.1:{}/healthz", gw.admin);
        let reply = send(&client(), Method::GET, &url, &[], empty()).await;
        reply.is_ok_and(|r| r.status == StatusCode::OK)
    })
    .await;
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    let warnings = text.lines().filter(|l| l.contains("accept failed")).count();
    assert!(warnings >= 1, "no warning in:\n{text}");
    // At most one a second per listener (with slack for the edges).
    assert!(warnings <= 12, "{warnings} warnings:\n{text}");
    assert!(text.contains("ulimit -n"), "{text}");
}
