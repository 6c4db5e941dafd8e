//! Login throttling that cannot lock out the rightful user, on the injected clock:
//!
//! - Failed logins are counted per (username, client address) and per client address. After
//!   `free` failures each further attempt from there waits 1 s, then 2 s, 4 s, … up to a maximum
//!   (exponential backoff); good logins are never counted, and a good login clears the failures of
//!   its (username, address). A stranger guessing a username from one address therefore delays
//!   only himself: the user logs in from his own address as usual.
//! - Every attempt, good or bad, also counts against a per-address rate (governor GCRA): the cap
//!   on the password hashing one address can cause.
//!
//! Memory stays bounded: failures are forgotten an hour after the last one (or after the maximum
//! delay if that is longer), the tables hold at most [`MAX_KEYS`] entries each (when full, the
//! forgotten and then the not currently delayed entries are dropped), and the governor drops keys
//! whose bucket is full again.
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
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
/// More keys than this (per table) trigger housekeeping at once.
pub(crate) const MAX_KEYS: usize = 50_000;
/// Failures are forgotten this long after the last one (at least; see [`Backoff`]).
const FORGET_AFTER: chrono::Duration = chrono::Duration::hours(1);

/// The login throttle's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoginLimits {
    /// Failures per (username, address) before delays start.
    pub free_per_user: u32,
    /// Failures per address before delays start.
    pub free_per_ip: u32,
    /// The longest delay.
    pub max_delay: chrono::Duration,
    /// Attempts per minute and address.
    pub per_minute_per_ip: u32,
}

/// The failures of one key.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    last: DateTime<Utc>,
    /// No attempt before this.
    until: DateTime<Utc>,
}

/// Failures by key, bounded.
#[derive(Debug)]
struct Failures<K> {
    free: u32,
    entries: HashMap<K, Backoff>,
}

impl<K: std::hash::Hash + Eq + Clone> Failures<K> {
    fn new(free: u32) -> Self {
        Self {
            free,
            entries: HashMap::new(),
        }
    }

    fn forgotten(b: &Backoff, now: DateTime<Utc>, max_delay: chrono::Duration) -> bool {
        now - b.last >= FORGET_AFTER.max(max_delay)
    }

    /// How long `key` must still wait.
    fn wait(&self, key: &K, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.entries
            .get(key)
            .filter(|b| now < b.until)
            .map(|b| b.until - now)
    }

    fn fail(&mut self, key: &K, now: DateTime<Utc>, max_delay: chrono::Duration) {
        if self.entries.len() >= MAX_KEYS && !self.entries.contains_key(key) {
            self.housekeeping(now, max_delay);
        }
        let b = self.entries.entry(key.clone()).or_insert(Backoff {
            failures: 0,
            last: now,
            until: now,
        });
        if Self::forgotten(b, now, max_delay) {
            b.failures = 0;
        }
        b.failures = b.failures.saturating_add(1);
        b.last = now;
        if b.failures > self.free {
            let doublings = (b.failures - self.free - 1).min(30);
            let delay = chrono::Duration::seconds(1i64 << doublings).min(max_delay);
            b.until = now + delay;
        }
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }

    /// Drops forgotten entries; if the table is still full, the ones not delaying now; if still
    /// full, everything.
    fn housekeeping(&mut self, now: DateTime<Utc>, max_delay: chrono::Duration) {
        self.entries
            .retain(|_, b| !Self::forgotten(b, now, max_delay));
        if self.entries.len() >= MAX_KEYS {
            self.entries.retain(|_, b| now < b.until);
        }
        if self.entries.len() >= MAX_KEYS {
            self.entries.clear();
        }
        self.entries.shrink_to_fit();
    }
}

#[derive(Debug)]
struct Tables {
    by_user_ip: Failures<(String, String)>,
    by_ip: Failures<String>,
}

pub(crate) struct LoginLimiter {
    clock: InjectedClock,
    limits: LoginLimits,
    rate_by_ip: KeyedLimiter,
    failures: Mutex<Tables>,
    checks: AtomicU64,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// Whole seconds to wait, rounded up, at least 1.
fn secs(wait: chrono::Duration) -> u64 {
    let ms = wait.num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

impl LoginLimiter {
    pub fn new(clock: Arc<dyn Clock>, limits: LoginLimits) -> Self {
        let clock = InjectedClock(clock);
        Self {
            rate_by_ip: RateLimiter::new(
                quota(limits.per_minute_per_ip),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            failures: Mutex::new(Tables {
                by_user_ip: Failures::new(limits.free_per_user),
                by_ip: Failures::new(limits.free_per_ip),
            }),
            limits,
            clock,
            checks: AtomicU64::new(0),
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.0.now()
    }

    fn key(ip: &str, username: &str) -> (String, String) {
        (username.to_lowercase(), ip.to_string())
    }

    /// May this address try this username now? `Err(seconds)`: retry after that many seconds
    /// (at least 1). Counts one attempt against the address's rate.
    pub fn check(&self, ip: &str, username: &str) -> Result<(), u64> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) || self.rate_by_ip.len() > MAX_KEYS {
            self.housekeeping();
        }
        let now = self.now();
        {
            let t = self.tables();
            let wait = [
                t.by_user_ip.wait(&Self::key(ip, username), now),
                t.by_ip.wait(&ip.to_string(), now),
            ]
            .into_iter()
            .flatten()
            .max();
            if let Some(wait) = wait {
                return Err(secs(wait));
            }
        }
        let gnow = self.clock.now();
        self.rate_by_ip
            .check_key(&ip.to_string())
            .map_err(|nu| {
                let wait = nu.wait_time_from(gnow);
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
            .map_err(|s| s.max(1))
    }

    /// A failed login (unknown user or wrong password) from this address.
    pub fn failed(&self, ip: &str, username: &str) {
        let now = self.now();
        let max = self.limits.max_delay;
        let mut t = self.tables();
        t.by_user_ip.fail(&Self::key(ip, username), now, max);
        t.by_ip.fail(&ip.to_string(), now, max);
    }

    /// A good login: the failures of this (username, address) are cleared. The address's own
    /// count stays (a stranger with an account must not reset it by logging in between guesses).
    pub fn succeeded(&self, ip: &str, username: &str) {
        self.tables().by_user_ip.clear(&Self::key(ip, username));
    }

    /// Drops forgotten failures and rate keys whose bucket is full again.
    pub fn housekeeping(&self) {
        let now = self.now();
        let max = self.limits.max_delay;
        {
            let mut t = self.tables();
            t.by_user_ip.housekeeping(now, max);
            t.by_ip.housekeeping(now, max);
        }
        self.rate_by_ip.retain_recent();
        self.rate_by_ip.shrink_to_fit();
    }

    /// Keys currently tracked (rate keys + failure entries).
    pub fn tracked_keys(&self) -> usize {
        let t = self.tables();
        self.rate_by_ip.len() + t.by_user_ip.entries.len() + t.by_ip.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::ManualClock;

    fn limiter(limits: LoginLimits) -> (LoginLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        ));
        (LoginLimiter::new(clock.clone(), limits), clock)
    }

    const LIMITS: LoginLimits = LoginLimits {
        free_per_user: 3,
        free_per_ip: 100,
        max_delay: chrono::Duration::seconds(60),
        per_minute_per_ip: 1000,
    };

    #[test]
    fn failures_delay_the_guesser_with_growing_waits_not_the_user_elsewhere() {
        let (l, clock) = limiter(LIMITS);
        let mut waits = Vec::new();
        for _ in 0..10 {
            match l.check("10.0.0.1", "Admin") {
                Ok(()) => l.failed("10.0.0.1", "Admin"),
                Err(wait) => {
                    waits.push(wait);
                    clock.advance(chrono::Duration::seconds(wait as i64));
                }
            }
        }
        assert_eq!(
            waits,
            [1, 2, 4],
            "1 s, 2 s, 4 s after the three free failures"
        );
        let wait = l.check("10.0.0.1", "admin").unwrap_err();
        assert_eq!(wait, 8, "same username in another case");
        // The same username from another address, and another username from this address.
        assert_eq!(l.check("10.0.0.2", "admin"), Ok(()));
        assert_eq!(l.check("10.0.0.1", "handler"), Ok(()));
        // The delay is capped.
        for _ in 0..20 {
            clock.advance(chrono::Duration::seconds(61));
            l.failed("10.0.0.1", "admin");
        }
        assert_eq!(l.check("10.0.0.1", "admin"), Err(60));
        // A good login clears its (username, address).
        clock.advance(chrono::Duration::seconds(60));
        l.succeeded("10.0.0.1", "admin");
        l.failed("10.0.0.1", "admin");
        assert_eq!(l.check("10.0.0.1", "admin"), Ok(()));
    }

    #[test]
    fn good_logins_are_not_counted_and_failures_are_forgotten() {
        let (l, clock) = limiter(LIMITS);
        for _ in 0..50 {
            assert_eq!(l.check("10.0.0.1", "admin"), Ok(()));
            l.succeeded("10.0.0.1", "admin");
        }
        for _ in 0..5 {
            l.failed("10.0.0.1", "admin");
        }
        assert!(l.check("10.0.0.1", "admin").is_err());
        clock.advance(chrono::Duration::hours(1));
        l.housekeeping();
        assert_eq!(l.tracked_keys(), 0, "idle keys are dropped");
        l.failed("10.0.0.1", "admin");
        assert_eq!(
            l.check("10.0.0.1", "admin"),
            Ok(()),
            "counting starts afresh"
        );
    }

    #[test]
    fn per_address_failures_and_rate() {
        let (l, _clock) = limiter(LoginLimits {
            free_per_ip: 2,
            ..LIMITS
        });
        for name in ["a", "b", "c"] {
            l.failed("10.0.0.1", name);
        }
        assert_eq!(
            l.check("10.0.0.1", "d"),
            Err(1),
            "any username from that address"
        );
        assert_eq!(l.check("10.0.0.9", "d"), Ok(()));

        let (l, _clock) = limiter(LoginLimits {
            per_minute_per_ip: 2,
            ..LIMITS
        });
        assert!(l.check("10.0.0.1", "a").is_ok());
        assert!(l.check("10.0.0.1", "b").is_ok());
        assert_eq!(
            l.check("10.0.0.1", "c"),
            Err(30),
            "good or bad, every attempt counts"
        );
        assert!(l.check("10.0.0.9", "c").is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let (l, _clock) = limiter(LIMITS);
        for i in 0..(MAX_KEYS + 10) {
            l.failed(&format!("ip{i}"), "admin");
        }
        let t = l.tables();
        assert!(t.by_user_ip.entries.len() <= MAX_KEYS && t.by_ip.entries.len() <= MAX_KEYS);
        drop(t);
        // A delaying entry survives a flood of new keys that do not delay.
        let (l, _) = limiter(LoginLimits {
            free_per_user: 0,
            free_per_ip: 1_000_000,
            ..LIMITS
        });
        l.failed("10.0.0.1", "admin");
        for i in 0..MAX_KEYS {
            l.tables().by_user_ip.entries.insert(
                (format!("u{i}"), "x".into()),
                Backoff {
                    failures: 1,
                    last: l.now(),
                    until: l.now(),
                },
            );
        }
        l.failed("10.0.0.2", "other");
        assert!(l.check("10.0.0.1", "admin").is_err(), "still delayed");
        assert!(l.tables().by_user_ip.entries.len() <= MAX_KEYS);
    }
}
