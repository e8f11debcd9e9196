//! Refusal logging, in a test binary of its own: `tracing`'s per-callsite
//! interest cache is process-wide, so a thread-local subscriber must not
//! race other tests that hit the same callsites without one.

mod common;

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{preflight, request};
use corsair::Policy;
use corsair_tower::CorsLayer;
use http::{Request, Response};
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};

const APP: &str = "https://app.example.com";

fn policy() -> Policy {
    Policy::builder()
        .allow_origins([APP])
        .allow_headers(["x-api-key"])
        .build()
        .expect("valid policy")
}

/// An app answering 200 and counting its calls.
fn app(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |_req: Request<Full<Bytes>>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok")))) }
    })
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn refusals_are_logged_with_code_and_reason() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let calls = Arc::new(AtomicUsize::new(0));
    let svc = CorsLayer::new(policy()).layer(app(calls));
    svc.clone()
        .oneshot(preflight("/items", "https://evil.example", "GET", ""))
        .await
        .unwrap();
    svc.clone()
        .oneshot(preflight("/items", APP, "GET", "x-other"))
        .await
        .unwrap();
    svc.oneshot(request("GET", "/items", &[("origin", APP)]))
        .await
        .unwrap();

    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one event per refusal, none when allowed: {text}"
    );
    assert!(lines[0].contains("DEBUG corsair:"), "{}", lines[0]);
    assert!(
        lines[0].contains("code=\"origin-not-allowed\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("the origin `https://evil.example` matches no entry"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("kind=\"preflight\"") && lines[0].contains("path=\"/items\""));
    assert!(lines[1].contains("INFO corsair:"), "{}", lines[1]);
    assert!(
        lines[1].contains("code=\"header-not-allowed\""),
        "{}",
        lines[1]
    );
}
