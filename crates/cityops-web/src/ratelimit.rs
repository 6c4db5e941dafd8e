//! Login rate limiting (governor GCRA), keyed by client address and by username, on the injected
//! clock. Memory stays bounded: keys whose bucket is full again are dropped regularly, so only
//! the keys seen within about one minute are kept.
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cityops_domain::Clock;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The injected [`Clock`] as a governor clock: instants are durations since the Unix epoch.
#[derive(Clone)]
pub(crate) struct InjectedClock(Arc<dyn Clock>);

impl GovernorClock for InjectedClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        let t = self.0.now();
        let secs = u64::try_from(t.timestamp()).unwrap_or(0);
        Duration::new(secs, t.timestamp_subsec_nanos())
    }
}

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, InjectedClock, NoOpMiddleware<Duration>>;

/// Checks are counted; every this many checks the limiters drop idle keys.
const HOUSEKEEPING_EVERY: u64 = 512;
/// More keys than this trigger housekeeping at once.
const MAX_KEYS: usize = 50_000;

pub(crate) struct LoginLimiter {
    clock: InjectedClock,
    by_ip: KeyedLimiter,
    by_user: KeyedLimiter,
    checks: AtomicU64,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub fn new(clock: Arc<dyn Clock>, per_user_per_minute: u32, per_ip_per_minute: u32) -> Self {
        let clock = InjectedClock(clock);
        Self {
            by_ip: RateLimiter::new(
                quota(per_ip_per_minute),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            by_user: RateLimiter::new(
                quota(per_user_per_minute),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one login attempt for this address and username. `Err(seconds)`: refused, retry
    /// after that many seconds (at least 1).
    pub fn check(&self, ip: &str, username: &str) -> Result<(), u64> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY)
            || self.by_ip.len() > MAX_KEYS
            || self.by_user.len() > MAX_KEYS
        {
            self.housekeeping();
        }
        let now = self.clock.now();
        let retry = |wait: Duration| wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.by_ip
            .check_key(&ip.to_string())
            .map_err(|nu| retry(nu.wait_time_from(now)).max(1))?;
        self.by_user
            .check_key(&username.to_lowercase())
            .map_err(|nu| retry(nu.wait_time_from(now)).max(1))?;
        Ok(())
    }

    /// Drops keys whose bucket is full again (indistinguishable from new keys).
    pub fn housekeeping(&self) {
        for l in [&self.by_ip, &self.by_user] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Keys currently tracked (addresses + usernames).
    pub fn tracked_keys(&self) -> usize {
        self.by_ip.len() + self.by_user.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::ManualClock;

    #[test]
    fn limits_per_user_and_recovers_with_the_clock() {
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        ));
        let l = LoginLimiter::new(clock.clone(), 3, 100);
        for _ in 0..3 {
            assert_eq!(l.check("10.0.0.1", "Admin"), Ok(()));
        }
        // Same user, other case, other address: still the same username bucket.
        let wait = l.check("10.0.0.2", "admin").unwrap_err();
        assert_eq!(wait, 20, "one attempt every 60/3 s");
        assert_eq!(l.check("10.0.0.1", "other"), Ok(()));
        clock.advance(chrono::Duration::seconds(20));
        assert_eq!(l.check("10.0.0.1", "admin"), Ok(()));
        clock.advance(chrono::Duration::minutes(2));
        l.housekeeping();
        assert_eq!(l.tracked_keys(), 0, "idle keys are dropped");
    }

    #[test]
    fn limits_per_address() {
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        ));
        let l = LoginLimiter::new(clock, 100, 2);
        assert!(l.check("10.0.0.1", "a").is_ok());
        assert!(l.check("10.0.0.1", "b").is_ok());
        assert_eq!(l.check("10.0.0.1", "c"), Err(30));
        assert!(l.check("10.0.0.9", "c").is_ok());
    }
}
