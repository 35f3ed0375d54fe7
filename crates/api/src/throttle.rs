//! Throttling of failed client authentications at the token endpoint (`DECISIONS.md`): a
//! client_id that fails more than its quota cools down, and while it does every attempt
//! is 429 without its secret being checked, so guesses made then teach nothing.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// Distinct client_ids whose failure counts are kept before the idle ones are dropped.
const TRACKED: usize = 4096;

pub struct ClientThrottle {
    failures: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    /// Until when each cooling client_id is refused.
    cooling: moka::sync::Cache<String, Instant>,
}

impl ClientThrottle {
    /// `per_minute` failures of one client_id are answered 401; more cool it down for
    /// `60 / per_minute` seconds at a time.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            cooling: moka::sync::Cache::builder()
                .max_capacity(TRACKED as u64)
                .time_to_live(Duration::from_secs(61))
                .build(),
        }
    }

    /// How long `client_id` still cools down, if it does.
    pub fn cooling_down(&self, client_id: &str) -> Option<Duration> {
        let until = self.cooling.get(client_id)?;
        let left = until.checked_duration_since(Instant::now())?;
        Some(left)
    }

    /// Counts a failed authentication of an existing client; the cool-down when it is one
    /// too many.
    pub fn failed(&self, client_id: &str) -> Option<Duration> {
        if self.failures.len() > TRACKED {
            self.failures.retain_recent();
        }
        let refused = self.failures.check_key(&client_id.to_owned()).err()?;
        let wait = refused.wait_time_from(self.clock.now());
        self.cooling
            .insert(client_id.to_owned(), Instant::now() + wait);
        Some(wait)
    }
}

/// Whole seconds for `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_is_per_client_and_cools_down() {
        let t = ClientThrottle::new(NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            assert_eq!(t.failed("a"), None);
        }
        assert!(t.cooling_down("a").is_none());
        let wait = t.failed("a").expect("the fourth failure cools down");
        assert!(
            wait <= Duration::from_secs(20) && wait > Duration::from_secs(19),
            "{wait:?}"
        );
        assert!(t.cooling_down("a").is_some());
        assert!(t.cooling_down("b").is_none());
        assert_eq!(t.failed("b"), None);
        assert_eq!(retry_after_secs(wait), 20);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    }
}
