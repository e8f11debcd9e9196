//! [`Acceptor`]: one accept loop for every listener of the project (the
//! gateway, its admin listener, the playground, the test servers), so that
//! all of them behave alike when `accept` fails.
//!
//! An accept that fails for lack of resources (no file descriptors left,
//! no buffer space, no memory) fails again at once while the condition
//! lasts: a loop that simply retries spins at 100 % CPU and writes a log
//! line per try. Here such failures back off (10 ms, doubling up to 1 s,
//! reset by the next success), and are logged at most once per second
//! with how many there were. Failures that belong to one connection (the
//! client reset it before it was accepted) are retried at once.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// The first pause after a resource failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// At most one log line this often.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// A listener that hands out connections and never returns an error.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    failures: Failures,
}

impl Acceptor {
    /// Accepts on `listener`; `name` says which listener in the logs.
    pub fn new(listener: TcpListener, name: &'static str) -> Self {
        Acceptor {
            listener,
            failures: Failures::new(name),
        }
    }

    /// The listener's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection, waiting out failures (see the module docs).
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok(pair) => {
                    self.failures.succeeded();
                    return pair;
                }
                Err(e) => {
                    if let Some(pause) = self.failures.failed(&e, Instant::now()) {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
    }
}

/// The failure bookkeeping of one listener: the backoff and the log rate.
#[derive(Debug)]
struct Failures {
    name: &'static str,
    /// The pause after the next resource failure.
    backoff: Duration,
    /// Failures since the last log line.
    unlogged: u64,
    last_log: Option<Instant>,
}

impl Failures {
    fn new(name: &'static str) -> Self {
        Failures {
            name,
            backoff: FIRST_BACKOFF,
            unlogged: 0,
            last_log: None,
        }
    }

    fn succeeded(&mut self) {
        self.backoff = FIRST_BACKOFF;
    }

    /// Records a failure at `now`: the pause to take before accepting
    /// again (`None`: at once), and a log line when one is due.
    fn failed(&mut self, error: &io::Error, now: Instant) -> Option<Duration> {
        self.unlogged += 1;
        let due = self
            .last_log
            .is_none_or(|last| now.saturating_duration_since(last) >= LOG_EVERY);
        if due {
            tracing::warn!(
                target: "corsair::server",
                listener = self.name,
                failures = self.unlogged,
                "accept failed: {error}; if the process is out of file descriptors, raise \
                 its limit (ulimit -n) or lower the number of open connections"
            );
            self.unlogged = 0;
            self.last_log = Some(now);
        }
        if belongs_to_one_connection(error) {
            return None;
        }
        let pause = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Some(pause)
    }
}

/// Whether `accept` failed for one connection only (the next one may
/// succeed at once), rather than for lack of resources.
fn belongs_to_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `EMFILE`, as Linux reports running out of descriptors.
    fn out_of_descriptors() -> io::Error {
        io::Error::from_raw_os_error(24)
    }

    #[test]
    fn resource_failures_back_off_doubling_to_a_second_and_reset_on_success() {
        let mut f = Failures::new("test");
        let now = Instant::now();
        let pauses: Vec<_> = (0..9)
            .map(|_| f.failed(&out_of_descriptors(), now).unwrap())
            .collect();
        let ms: Vec<_> = pauses.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        f.succeeded();
        assert_eq!(
            f.failed(&out_of_descriptors(), now),
            Some(Duration::from_millis(10))
        );
    }

    #[test]
    fn one_connections_failure_is_retried_at_once() {
        let mut f = Failures::new("test");
        let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(f.failed(&reset, Instant::now()), None);
        // It does not grow the backoff either.
        assert_eq!(
            f.failed(&out_of_descriptors(), Instant::now()),
            Some(FIRST_BACKOFF)
        );
    }

    #[test]
    fn failures_are_logged_at_most_once_a_second_with_their_count() {
        let mut f = Failures::new("test");
        let start = Instant::now();
        f.failed(&out_of_descriptors(), start);
        assert_eq!((f.unlogged, f.last_log), (0, Some(start)));
        for i in 1..=50 {
            f.failed(&out_of_descriptors(), start + Duration::from_millis(i * 10));
        }
        // 50 failures within the second: none logged yet.
        assert_eq!((f.unlogged, f.last_log), (50, Some(start)));
        let later = start + Duration::from_millis(1001);
        f.failed(&out_of_descriptors(), later);
        assert_eq!((f.unlogged, f.last_log), (0, Some(later)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn connections_are_handed_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut acceptor = Acceptor::new(listener, "test");
        let addr = acceptor.local_addr().unwrap();
        let client = tokio::spawn(TcpStream::connect(addr));
        let (_, peer) = acceptor.accept().await;
        let client = client.await.unwrap().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    }
}
