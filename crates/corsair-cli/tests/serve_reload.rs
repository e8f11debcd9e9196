//! `corsair serve` reloads a changed config file only once it has settled,
//! so a file written in steps never has a part of it live; a file renamed
//! into place is applied at once.

mod serve_support;

use serve_support::*;

/// The `Access-Control-Allow-Origin` the gateway answers `OTHER` with.
async fn granted(gw: &Gateway) -> Option<String> {
    get(&gw.url("/"), Some(OTHER))
        .await
        .header("access-control-allow-origin")
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_in_two_steps_never_has_its_first_half_live() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    assert_eq!(granted(&gw).await, None);
    let path = file.0.clone();
    let upstream = up.addr;
    // In place (same file), the way a careless script writes: first a
    // permissive policy, the real one 1.6 s later.
    let writer = std::thread::spawn(move || {
        std::fs::write(&path, config(upstream, "", "allow_origins = [\"*\"]")).unwrap();
        std::thread::sleep(Duration::from_millis(1600));
        std::fs::write(
            &path,
            config(upstream, "", &format!("allow_origins = [\"{OTHER}\"]")),
        )
        .unwrap();
    });
    let start = Instant::now();
    let mut applied = None;
    while start.elapsed() < Duration::from_secs(8) {
        let acao = granted(&gw).await;
        assert_ne!(acao.as_deref(), Some("*"), "the first half went live");
        if acao.as_deref() == Some(OTHER) {
            applied = Some(start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    writer.join().unwrap();
    let applied = applied.expect("the final file was applied");
    assert!(applied >= Duration::from_millis(1600), "{applied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_renamed_into_place_is_applied_at_once() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&config(up.addr, "", POLICY));
    let gw = Gateway::with_config(&file);
    let start = Instant::now();
    file.rewrite(&config(
        up.addr,
        "",
        &format!("allow_origins = [\"{OTHER}\"]"),
    ));
    wait_until("the renamed file", || async {
        granted(&gw).await.as_deref() == Some(OTHER)
    })
    .await;
    // One poll (0.5 s) and the request, not the settle time.
    assert!(
        start.elapsed() < Duration::from_millis(1800),
        "{:?}",
        start.elapsed()
    );
}
