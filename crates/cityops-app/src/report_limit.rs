//! Report rate limiting (上报限流): how many reports one account — and, for citizens, one client
//! address — may send per minute, counted by governor's GCRA on the injected clock (a burst of
//! the quota, then one report every 60/n seconds).
//!
//! It lives in the application layer because every entry point that takes citizens' reports
//! (the JSON API now, Open311 next) must share one count per account: a citizen must not get a
//! second quota by switching API. Staff roles get a generous quota (an inspector on a patrol
//! reports a lot, an intake operator types a hotline's calls), citizens a tight one; citizens'
//! reports are also counted per client address, so one address cannot spread a flood over many
//! accounts. Each quota is configurable; 0 turns it off (benchmarks).
//!
//! Memory stays bounded: every few hundred checks — or at once when a map holds too many keys —
//! keys whose bucket is full again are dropped (they are indistinguishable from new keys).
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cityops_domain::Clock;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// The report quotas, per minute (burst of n, then one every 60/n s); 0 = no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    /// Reports per minute and account of every role but citizens. Default 600.
    pub staff_per_minute: u32,
    /// Reports per minute and citizen account. Default 10.
    pub citizen_per_minute: u32,
    /// Citizens' reports per minute and client address (several citizens may share one
    /// address behind a carrier's NAT, so this is looser than the account's). Default 30.
    pub citizen_per_address_per_minute: u32,
    /// Open311 requests (POST) per minute and client application (API key). Default 60. They
    /// also count on the citizens' per-address quota.
    pub open311_per_key_per_minute: u32,
}

impl Default for ReportLimits {
    fn default() -> Self {
        Self {
            staff_per_minute: 600,
            citizen_per_minute: 10,
            citizen_per_address_per_minute: 30,
            open311_per_key_per_minute: 60,
        }
    }
}

impl ReportLimits {
    /// No limit at all.
    pub fn off() -> Self {
        Self {
            staff_per_minute: 0,
            citizen_per_minute: 0,
            citizen_per_address_per_minute: 0,
            open311_per_key_per_minute: 0,
        }
    }
}

/// The injected [`Clock`] as a governor clock: instants are durations since the Unix epoch.
#[derive(Clone)]
pub struct InjectedClock(pub Arc<dyn Clock>);

impl GovernorClock for InjectedClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        let t = self.0.now();
        let secs = u64::try_from(t.timestamp()).unwrap_or(0);
        Duration::new(secs, t.timestamp_subsec_nanos())
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, InjectedClock, NoOpMiddleware<Duration>>;

/// Checks are counted; every this many checks the limiters drop idle keys.
const HOUSEKEEPING_EVERY: u64 = 1024;
/// More keys than this in one map trigger housekeeping at once.
const MAX_KEYS: usize = 100_000;

/// Who sends a report, as the limiter counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reporter<'a> {
    pub user_id: i64,
    /// Counted on the citizens' quotas (the report's source is `citizen`).
    pub citizen: bool,
    /// The client address as the entry point saw it (`None`: not a network entry point).
    pub address: Option<&'a str>,
}

/// The report limiter. One per process (the quotas hold per process; several processes behind
/// a load balancer multiply them, which the defaults leave room for).
pub struct ReportLimiter {
    clock: InjectedClock,
    staff: Option<Keyed<i64>>,
    citizen: Option<Keyed<i64>>,
    address: Option<Keyed<String>>,
    /// Open311 requests per client application (by its id).
    open311: Option<Keyed<i64>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for ReportLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportLimiter")
            .field("tracked_keys", &self.tracked_keys())
            .finish()
    }
}

fn keyed<K: Hash + Eq + Clone>(per_minute: u32, clock: &InjectedClock) -> Option<Keyed<K>> {
    let n = NonZeroU32::new(per_minute)?;
    Some(RateLimiter::new(
        Quota::per_minute(n),
        DefaultKeyedStateStore::default(),
        clock.clone(),
    ))
}

/// Whole seconds to wait, rounded up, at least 1.
fn retry_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl ReportLimiter {
    pub fn new(clock: Arc<dyn Clock>, limits: ReportLimits) -> Self {
        let clock = InjectedClock(clock);
        Self {
            staff: keyed(limits.staff_per_minute, &clock),
            citizen: keyed(limits.citizen_per_minute, &clock),
            address: keyed(limits.citizen_per_address_per_minute, &clock),
            open311: keyed(limits.open311_per_key_per_minute, &clock),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one report of `who`. `Err(seconds)`: refused, retry after that many seconds.
    pub fn check(&self, who: Reporter<'_>) -> Result<(), u64> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) || self.largest_map() > MAX_KEYS {
            self.housekeeping();
        }
        let now = self.clock.now();
        let account = if who.citizen {
            &self.citizen
        } else {
            &self.staff
        };
        if let Some(l) = account {
            l.check_key(&who.user_id)
                .map_err(|nu| retry_secs(nu.wait_time_from(now)))?;
        }
        if who.citizen
            && let (Some(l), Some(addr)) = (&self.address, who.address)
        {
            l.check_key(&addr.to_string())
                .map_err(|nu| retry_secs(nu.wait_time_from(now)))?;
        }
        Ok(())
    }

    /// Takes one anonymous request (a public report or photo upload) of a client address, on
    /// the citizens' per-address quota. `Err(seconds)`: refused, retry after that many seconds.
    pub fn check_address(&self, address: &str) -> Result<(), u64> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) || self.largest_map() > MAX_KEYS {
            self.housekeeping();
        }
        let now = self.clock.now();
        match &self.address {
            Some(l) => l
                .check_key(&address.to_string())
                .map_err(|nu| retry_secs(nu.wait_time_from(now))),
            None => Ok(()),
        }
    }

    /// Takes one Open311 request of the client application `client_id` on its per-key quota.
    /// `Err(seconds)`: refused, retry after that many seconds. (The request's client address is
    /// counted separately, [`ReportLimiter::check_address`], on the citizens' quota.)
    pub fn check_open311_key(&self, client_id: i64) -> Result<(), u64> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) || self.largest_map() > MAX_KEYS {
            self.housekeeping();
        }
        let now = self.clock.now();
        match &self.open311 {
            Some(l) => l
                .check_key(&client_id)
                .map_err(|nu| retry_secs(nu.wait_time_from(now))),
            None => Ok(()),
        }
    }

    fn largest_map(&self) -> usize {
        let a = self.staff.as_ref().map_or(0, Keyed::len);
        let b = self.citizen.as_ref().map_or(0, Keyed::len);
        let c = self.address.as_ref().map_or(0, Keyed::len);
        let d = self.open311.as_ref().map_or(0, Keyed::len);
        a.max(b).max(c).max(d)
    }

    /// Drops keys whose bucket is full again.
    pub fn housekeeping(&self) {
        if let Some(l) = &self.staff {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.citizen {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.address {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.open311 {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Keys currently tracked (accounts + addresses).
    pub fn tracked_keys(&self) -> usize {
        self.staff.as_ref().map_or(0, Keyed::len)
            + self.citizen.as_ref().map_or(0, Keyed::len)
            + self.address.as_ref().map_or(0, Keyed::len)
            + self.open311.as_ref().map_or(0, Keyed::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::ManualClock;

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        ))
    }

    fn citizen(user_id: i64, address: &str) -> Reporter<'_> {
        Reporter {
            user_id,
            citizen: true,
            address: Some(address),
        }
    }

    #[test]
    fn citizens_get_a_burst_then_one_every_six_seconds() {
        let clock = clock();
        let l = ReportLimiter::new(clock.clone(), ReportLimits::default());
        for _ in 0..10 {
            assert_eq!(l.check(citizen(1, "10.0.0.1")), Ok(()));
        }
        assert_eq!(l.check(citizen(1, "10.0.0.1")), Err(6));
        // Another citizen at another address is not affected.
        assert_eq!(l.check(citizen(2, "10.0.0.2")), Ok(()));
        clock.advance(chrono::Duration::seconds(6));
        assert_eq!(l.check(citizen(1, "10.0.0.1")), Ok(()));
        assert!(l.check(citizen(1, "10.0.0.1")).is_err());
        clock.advance(chrono::Duration::minutes(2));
        l.housekeeping();
        assert_eq!(l.tracked_keys(), 0, "idle keys are dropped");
    }

    #[test]
    fn one_address_cannot_spread_over_many_accounts() {
        let l = ReportLimiter::new(clock(), ReportLimits::default());
        for user in 0..30 {
            assert_eq!(l.check(citizen(user, "10.0.0.9")), Ok(()), "{user}");
        }
        assert_eq!(l.check(citizen(99, "10.0.0.9")), Err(2));
        assert_eq!(l.check(citizen(99, "10.0.0.8")), Ok(()));
    }

    #[test]
    fn open311_keys_have_their_own_quota() {
        let clock = clock();
        let l = ReportLimiter::new(
            clock.clone(),
            ReportLimits {
                open311_per_key_per_minute: 2,
                ..ReportLimits::default()
            },
        );
        assert_eq!(l.check_open311_key(1), Ok(()));
        assert_eq!(l.check_open311_key(1), Ok(()));
        assert_eq!(l.check_open311_key(1), Err(30));
        assert_eq!(l.check_open311_key(2), Ok(()), "another key");
        clock.advance(chrono::Duration::seconds(30));
        assert_eq!(l.check_open311_key(1), Ok(()));
    }

    #[test]
    fn staff_are_counted_per_account_only_and_zero_is_off() {
        let l = ReportLimiter::new(
            clock(),
            ReportLimits {
                staff_per_minute: 3,
                ..ReportLimits::default()
            },
        );
        let staff = |user_id| Reporter {
            user_id,
            citizen: false,
            address: Some("10.0.0.1"),
        };
        for _ in 0..3 {
            assert_eq!(l.check(staff(5)), Ok(()));
        }
        assert_eq!(l.check(staff(5)), Err(20));
        assert_eq!(l.check(staff(6)), Ok(()), "one office address, many staff");
        let off = ReportLimiter::new(clock(), ReportLimits::off());
        for _ in 0..10_000 {
            assert_eq!(off.check(citizen(1, "10.0.0.1")), Ok(()));
            assert_eq!(off.check(staff(1)), Ok(()));
        }
        assert_eq!(off.tracked_keys(), 0);
    }
}
