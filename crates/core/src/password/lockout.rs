//! Lockout after repeated failures (`maxPasswordFailures` within `failuresExpireIn`
//! minutes locks the password for `passwordSuspensionDuration` minutes). Pure: the caller
//! passes the time.

use crate::app::PasswordConfiguration;

const MINUTE_MS: i64 = 60_000;

/// A password's failed logins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// When the first failure of the current window happened.
    pub since: Option<i64>,
    pub locked_until: Option<i64>,
}

impl Failures {
    pub fn locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// The failures after one more at `now`: a window older than `failuresExpireIn` starts
    /// over, and reaching `maxPasswordFailures` locks the password.
    pub fn after_failure(self, now: i64, policy: &PasswordConfiguration) -> Self {
        let window = i64::from(policy.failures_expire_in) * MINUTE_MS;
        let fresh = self.since.is_none_or(|since| now - since >= window)
            || self.locked_until.is_some_and(|u| now >= u);
        let (count, since) = if fresh {
            (1, now)
        } else {
            (self.count + 1, self.since.unwrap_or(now))
        };
        let locked_until = (count >= policy.max_password_failures.max(1))
            .then(|| now + i64::from(policy.password_suspension_duration) * MINUTE_MS);
        Self {
            count,
            since: Some(since),
            locked_until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordConfiguration {
        PasswordConfiguration {
            max_password_failures: 3,
            failures_expire_in: 10,
            password_suspension_duration: 15,
            ..PasswordConfiguration::default()
        }
    }

    #[test]
    fn the_third_failure_within_the_window_locks_for_the_suspension() {
        let p = policy();
        let f = Failures::default()
            .after_failure(0, &p)
            .after_failure(MINUTE_MS, &p);
        assert_eq!((f.count, f.locked(MINUTE_MS)), (2, false));
        let f = f.after_failure(2 * MINUTE_MS, &p);
        assert!(f.locked(2 * MINUTE_MS));
        assert!(f.locked(16 * MINUTE_MS));
        assert!(!f.locked(17 * MINUTE_MS));
    }

    #[test]
    fn failures_older_than_the_window_start_over() {
        let p = policy();
        let f = Failures::default()
            .after_failure(0, &p)
            .after_failure(MINUTE_MS, &p);
        let f = f.after_failure(11 * MINUTE_MS, &p);
        assert_eq!((f.count, f.locked(11 * MINUTE_MS)), (1, false));
    }

    #[test]
    fn a_failure_after_the_lock_ends_starts_a_new_window() {
        let p = policy();
        let mut f = Failures::default();
        for minute in 0..3 {
            f = f.after_failure(minute * MINUTE_MS, &p);
        }
        let f = f.after_failure(20 * MINUTE_MS, &p);
        assert_eq!((f.count, f.locked(20 * MINUTE_MS)), (1, false));
    }
}
