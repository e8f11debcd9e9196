//! A global request-rate limit shared by every scanning task.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests at least `1/rate` seconds apart across all tasks.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// `rate` requests per second; `None` or 0 for no limit.
    pub fn new(rate: Option<f64>) -> Self {
        let interval = rate
            .filter(|r| *r > 0.0 && r.is_finite())
            .map(|r| Duration::from_secs_f64(1.0 / r));
        RateLimiter {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this request's slot.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spaces_requests() {
        let l = RateLimiter::new(Some(100.0));
        let start = Instant::now();
        for _ in 0..11 {
            l.wait().await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(95),
            "{:?}",
            start.elapsed()
        );
        let unlimited = RateLimiter::new(None);
        let start = Instant::now();
        for _ in 0..1000 {
            unlimited.wait().await;
        }
        assert!(start.elapsed() < Duration::from_millis(50));
    }
}
