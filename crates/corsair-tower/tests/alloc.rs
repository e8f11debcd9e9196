//! The allowed actual request allocates nothing beyond the inner service.
//!
//! A counting global allocator (per thread, so the test harness's other
//! threads do not count) compares the same call with and without the layer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{header, HeaderValue, Request, Response};
use tower::{Layer, Service};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every operation to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone)]
struct App;

impl Service<Request<String>> for App {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<String>) -> Self::Future {
        let mut response = Response::new(String::new());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        ready(Ok(response))
    }
}

fn request(origin: Option<&'static str>) -> Request<String> {
    let mut request = Request::new(String::new());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_static(origin));
    }
    request
}

/// Allocations made by one call of `service` (request built beforehand,
/// response dropped afterwards).
fn allocations<S>(service: &mut S, request: Request<String>) -> usize
where
    S: Service<Request<String>, Response = Response<String>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    let before = ALLOCATIONS.with(Cell::get);
    let response = {
        assert!(service.poll_ready(&mut cx).is_ready());
        let future = pin!(service.call(request));
        match future.poll(&mut cx) {
            Poll::Ready(Ok(response)) => response,
            _ => panic!("the services here answer at once"),
        }
    };
    let after = ALLOCATIONS.with(Cell::get);
    drop(response);
    after - before
}

#[test]
fn allowed_actual_and_non_cors_requests_allocate_nothing_more() {
    let policy = corsair::Policy::builder()
        .allow_origins(["https://app.example.com", "https://*.example.org"])
        .expose_headers(["x-request-id"])
        .allow_credentials(true)
        .build()
        .expect("policy");
    let fixed = corsair_tower::CorsLayer::new(policy.clone());
    let handle = corsair_tower::PolicyHandle::new(policy);
    let swappable = corsair_tower::CorsLayer::from_handle(handle);
    for layer in [fixed, swappable] {
        let mut bare = App;
        let mut wrapped = layer.layer(App);
        for origin in [
            None,
            Some("https://app.example.com"),
            Some("https://a.example.org"),
        ] {
            // Warm up once: thread-local state of arc-swap and the first
            // clone of a policy value may allocate once per thread.
            allocations(&mut wrapped, request(origin));
            let floor = allocations(&mut bare, request(origin));
            let with_layer = allocations(&mut wrapped, request(origin));
            assert_eq!(with_layer, floor, "origin {origin:?}");
        }
    }
}
