//! A coarse timer: the gateway's one mechanism for its timeouts (hyper's
//! HTTP/1.1 header-read timeout, which is also the idle and slowloris
//! timeout; HTTP/2 keep-alive and idle; the TLS handshake; the upstream's
//! response head; request and upstream bodies between reads; the admin
//! listener).
//!
//! Why not tokio's timer: hyper arms its header-read timeout once per
//! request, and the gateway one upstream timeout per request; each tokio
//! `Sleep` is registered in the runtime's timer wheel (behind the time
//! driver's lock) and taken out again, which cost more than 3 % of a
//! proxied request's CPU (the commit that introduced this module has the
//! side-by-side callgrind counts).
//!
//! This is hyper's own extension point for timers ([`hyper::rt::Timer`]),
//! not a replacement for tokio's: each worker keeps its pending deadlines
//! in a thread-local slab, and one task per worker ([`drive`]) wakes the
//! expired ones every [`TICK`]. Registering and cancelling are a push and
//! a pop; a deadline never fires early, and late by a tick (more only when
//! the worker is too busy to run its tick), which is nothing next to a
//! timeout of seconds. It serves the connections of the thread that runs
//! [`drive`] (each worker, and the control thread for the admin listener):
//! they live on one thread (single-threaded runtimes), so a sleep is
//! registered, polled and dropped there.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

use slab::Slab;

use crate::runtime::refresh;

/// How often [`drive`] wakes the expired sleeps: the most a deadline can be
/// late.
pub const TICK: Duration = Duration::from_millis(100);

/// The pending deadlines of one thread, and the tasks to wake.
type Pending = Slab<(Instant, Waker)>;

/// The wakers of the sleeps due at `now` (they stay registered until
/// dropped: a woken sleep finds its deadline passed when polled).
fn due(pending: &Pending, now: Instant) -> Vec<Waker> {
    pending
        .iter()
        .map(|(_, entry)| entry)
        .filter(|(deadline, _)| *deadline <= now)
        .map(|(_, waker)| waker.clone())
        .collect()
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    /// The time [`drive`] read at its last tick, if it runs on this thread.
    static NOW: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The time, as of this worker's last tick (one [`TICK`] old at most on a
/// worker with time to spare; the clock itself on a thread without
/// [`drive`]). Deadlines are compared with it: being behind, it can only
/// make one fire late, never early, and the check reads no clock.
fn coarse_now() -> Instant {
    NOW.with(Cell::get).unwrap_or_else(Instant::now)
}

/// This thread's slab, as a number a sleep can compare (so that a sleep
/// dropped on another thread never touches that thread's slab).
fn slab_id(slab: &RefCell<Pending>) -> usize {
    slab as *const RefCell<Pending> as usize
}

/// Wakes this worker's expired sleeps every [`TICK`], for as long as the
/// worker's runtime runs.
pub async fn drive() {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let now = Instant::now();
        NOW.with(|n| n.set(Some(now)));
        // Woken outside the borrow: waking schedules a task, and the task
        // may create or drop a sleep.
        let due = PENDING.with(|p| due(&p.borrow(), now));
        for waker in due {
            waker.wake();
        }
    }
}

/// The timer to give hyper's HTTP/1.1 server (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct CoarseTimer;

impl Timer for CoarseTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(CoarseSleep {
            deadline,
            slot: None,
        })
    }

    /// hyper reads this to set each request's deadline: the clock itself
    /// (the coarse time may be stale on a busy worker, and a deadline set
    /// from it would fire early).
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CoarseSleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A sleep of [`CoarseTimer`]: registered in its thread's slab when first
/// polled before its deadline, taken out when dropped.
#[derive(Debug)]
struct CoarseSleep {
    deadline: Instant,
    /// The slab entry and the slab's thread, once registered.
    slot: Option<(usize, usize)>,
}

impl CoarseSleep {
    fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let Some((i, owner)) = self.slot else {
            return;
        };
        PENDING.with(|p| {
            if slab_id(p) == owner {
                if let Some((d, _)) = p.borrow_mut().get_mut(i) {
                    *d = deadline;
                }
            }
        });
    }
}

impl Future for CoarseSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if coarse_now() >= this.deadline {
            return Poll::Ready(());
        }
        PENDING.with(|p| {
            let id = slab_id(p);
            let mut slab = p.borrow_mut();
            match this.slot {
                Some((i, owner)) if owner == id => {
                    if let Some((deadline, waker)) = slab.get_mut(i) {
                        *deadline = this.deadline;
                        refresh(waker, cx.waker());
                    }
                }
                _ => {
                    let i = slab.insert((this.deadline, cx.waker().clone()));
                    this.slot = Some((i, id));
                }
            }
        });
        Poll::Pending
    }
}

impl Sleep for CoarseSleep {}

impl Drop for CoarseSleep {
    fn drop(&mut self) {
        let Some((i, owner)) = self.slot else {
            return;
        };
        // During thread teardown the slab may be gone already: nothing to do.
        let _ = PENDING.try_with(|p| {
            if slab_id(p) == owner {
                if let Ok(mut slab) = p.try_borrow_mut() {
                    slab.try_remove(i);
                }
            }
        });
    }
}

/// A between-reads timeout on the worker's coarse clock (the request
/// body's `timeouts.body`, the upstream body's `timeouts.upstream_body`):
/// armed at the first read that has to wait, so a body that arrives
/// whole registers nothing, and moved on by each read that brings data.
#[derive(Default)]
pub struct ReadTimeout {
    sleep: Option<Pin<Box<dyn Sleep>>>,
}

impl std::fmt::Debug for ReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTimeout")
            .field("armed", &self.sleep.is_some())
            .finish()
    }
}

impl ReadTimeout {
    /// A read brought data: the next may wait `timeout` from now.
    pub fn progressed(&mut self, timeout: Duration) {
        if let Some(sleep) = &mut self.sleep {
            CoarseTimer.reset(sleep, Instant::now() + timeout);
        }
    }

    /// A read has to wait: whether `timeout` has passed since the last
    /// data (or since the first wait); if not, `cx` is woken when it does.
    pub fn expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        let sleep = self.sleep.get_or_insert_with(|| CoarseTimer.sleep(timeout));
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// `future`'s output, or [`Elapsed`] once `duration` has passed since
/// `start` (at most one [`TICK`] late): `tokio::time::timeout` on this
/// worker's coarse clock, for the per-request upstream timeout. `start` is
/// a time the caller has already read (no clock read here).
pub fn timeout<F: Future>(start: Instant, duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: CoarseSleep {
            deadline: start + duration,
            slot: None,
        },
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`].
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: CoarseSleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn pending() -> usize {
        PENDING.with(|p| p.borrow().len())
    }

    #[test]
    fn a_sleep_registers_when_pending_and_leaves_when_dropped() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let before = pending();
        let mut sleep = CoarseTimer.sleep(Duration::from_secs(60));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert_eq!(pending(), before + 1);
        // Polled again: still one entry.
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert_eq!(pending(), before + 1);
        // Not due: nobody is woken.
        let due_now = PENDING.with(|p| due(&p.borrow(), Instant::now()));
        assert!(due_now.is_empty());
        drop(sleep);
        assert_eq!(pending(), before);
    }

    #[test]
    fn due_sleeps_are_woken_and_then_ready() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut sleep = CoarseTimer.sleep(Duration::from_millis(30));
        let mut later = CoarseTimer.sleep(Duration::from_secs(60));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert!(later.as_mut().poll(&mut cx).is_pending());
        std::thread::sleep(Duration::from_millis(40));
        let due_now = PENDING.with(|p| due(&p.borrow(), Instant::now()));
        assert_eq!(due_now.len(), 1);
        for w in due_now {
            w.wake();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
        assert!(later.as_mut().poll(&mut cx).is_pending());
    }

    #[test]
    fn reset_moves_the_deadline() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        let mut sleep = CoarseTimer.sleep(Duration::from_secs(60));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        CoarseTimer.reset(&mut sleep, Instant::now());
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
        CoarseTimer.reset(&mut sleep, Instant::now() + Duration::from_secs(60));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
    }

    #[test]
    fn slots_are_reused() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        let before = PENDING.with(|p| p.borrow().vacant_key());
        for _ in 0..100 {
            let mut sleep = CoarseTimer.sleep(Duration::from_secs(60));
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
        }
        // Each sleep left its entry free for the next one.
        let after = PENDING.with(|p| p.borrow().vacant_key());
        assert_eq!(after, before);
    }
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_timeout_passes_the_output_or_elapses() {
        tokio::spawn(drive());
        let now = Instant::now();
        let quick = timeout(now, Duration::from_secs(5), async { 7 }).await;
        assert_eq!(quick, Ok(7));
        let slow = timeout(
            Instant::now(),
            Duration::from_millis(50),
            tokio::time::sleep(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(slow, Err(Elapsed));
        // Fired by the drive task soon after the deadline, long before the
        // inner sleep's 5 s (the margin is for a busy test machine).
        assert!(
            now.elapsed() < Duration::from_secs(2),
            "{:?}",
            now.elapsed()
        );
    }
}
