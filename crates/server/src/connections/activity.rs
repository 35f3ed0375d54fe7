//! What one connection is doing, so that a silent one is closed: headers must arrive within
//! the header timeout (counted from the first byte of a request, or from the accept), and
//! a keep-alive connection with no request in flight closes after the idle timeout.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const NONE: u64 = u64::MAX;

pub struct Activity {
    epoch: Instant,
    in_flight: AtomicU32,
    /// Milliseconds after `epoch` when the bytes of the next request head began, or `NONE`.
    head_since: AtomicU64,
    /// Milliseconds after `epoch` when the last response was made.
    idle_since: AtomicU64,
}

impl Activity {
    /// A new connection waits for its first request's headers from now on.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            in_flight: AtomicU32::new(0),
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    pub fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Bytes arrived: with no request in flight they start the next request's head.
    pub fn read(&self) {
        if self.idle() && self.head_since.load(Ordering::Relaxed) == NONE {
            self.head_since.store(self.now(), Ordering::Relaxed);
        }
    }

    /// A request's headers were read; the guard marks its response made when dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(NONE, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Resolves when the connection has been silent for too long; never while a request
    /// is in flight. It looks again at least every quarter of the header timeout rather
    /// than being woken by every request, so a request costs no wake-up of this task, and
    /// a deadline is noticed at most that late.
    pub async fn expired(&self, header_timeout: Duration, idle_timeout: Duration) {
        let tick = millis(header_timeout / 4).max(1);
        loop {
            let now = self.now();
            let wait = if self.idle() {
                let head = self.head_since.load(Ordering::Relaxed);
                let deadline = if head == NONE {
                    self.idle_since.load(Ordering::Relaxed) + millis(idle_timeout)
                } else {
                    head + millis(header_timeout)
                };
                if now >= deadline {
                    return;
                }
                (deadline - now).min(tick)
            } else {
                tick
            };
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NONE / 2)
}

pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since.store(a.now(), Ordering::Relaxed);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_silent_new_connection_expires_after_the_header_timeout() {
        let a = Activity::new();
        let started = Instant::now();
        a.expired(HEADERS, IDLE).await;
        assert_eq!(started.elapsed(), HEADERS);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_lasts_the_idle_timeout() {
        let a = Activity::new();
        drop(a.begin());
        let started = Instant::now();
        a.expired(HEADERS, IDLE).await;
        assert_eq!(started.elapsed().as_secs(), 60);
        // Once bytes of a new request arrive, only the header timeout is left.
        let b = Activity::new();
        drop(b.begin());
        tokio::time::sleep(Duration::from_secs(5)).await;
        b.read();
        let started = Instant::now();
        b.expired(HEADERS, IDLE).await;
        assert_eq!(started.elapsed().as_secs(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_never_expires() {
        let a = Activity::new();
        let guard = a.begin();
        let waiting = tokio::time::timeout(Duration::from_secs(600), a.expired(HEADERS, IDLE));
        assert!(waiting.await.is_err(), "expired with a request in flight");
        drop(guard);
        let started = Instant::now();
        a.expired(HEADERS, IDLE).await;
        assert_eq!(started.elapsed().as_secs(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_stalled_on_a_kept_alive_connection_is_caught_within_a_tick() {
        let a = Activity::new();
        drop(a.begin());
        let watched = Arc::clone(&a);
        let started = Instant::now();
        let watch = tokio::spawn(async move { watched.expired(HEADERS, IDLE).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        a.read();
        watch.await.unwrap();
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(11) && waited <= Duration::from_millis(13_500),
            "{waited:?}"
        );
    }
}
