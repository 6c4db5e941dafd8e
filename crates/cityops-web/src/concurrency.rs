//! A per-user limit on expensive requests running at once (the case list's text search, case
//! counts; exports when they come): one user — one inspector's script, one stuck browser tab
//! refreshing — must not occupy the database for everyone. Over the limit the request is refused
//! at once with 429 `too_many_concurrent` and `Retry-After: 1`, never queued.
//!
//! Memory stays bounded by the requests in flight: a user's entry exists only while they hold a
//! permit and is removed with the last one.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Inner {
    per_user: usize,
    running: Mutex<HashMap<i64, usize>>,
}

/// The limiter. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ExpensiveLimiter(Arc<Inner>);

/// One expensive request of a user running; dropping it frees the place.
#[derive(Debug)]
pub struct ExpensivePermit {
    inner: Option<Arc<Inner>>,
    user_id: i64,
}

impl ExpensiveLimiter {
    /// At most `per_user` expensive requests per user at once; 0 = no limit.
    pub fn new(per_user: u32) -> Self {
        Self(Arc::new(Inner {
            per_user: per_user as usize,
            running: Mutex::new(HashMap::new()),
        }))
    }

    /// A permit for one more expensive request of `user_id`, or `None` when they have as many
    /// running as allowed.
    pub fn try_acquire(&self, user_id: i64) -> Option<ExpensivePermit> {
        if self.0.per_user == 0 {
            return Some(ExpensivePermit {
                inner: None,
                user_id,
            });
        }
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(user_id).or_insert(0);
        if *n >= self.0.per_user {
            return None;
        }
        *n += 1;
        Some(ExpensivePermit {
            inner: Some(self.0.clone()),
            user_id,
        })
    }

    /// Users with an expensive request running.
    pub fn users_running(&self) -> usize {
        self.0
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Drop for ExpensivePermit {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let mut running = inner.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_places_come_back_when_dropped() {
        let l = ExpensiveLimiter::new(2);
        let a = l.try_acquire(1).expect("first");
        let b = l.try_acquire(1).expect("second");
        assert!(l.try_acquire(1).is_none(), "a third at once is refused");
        let other = l.try_acquire(2).expect("another user is not affected");
        assert_eq!(l.users_running(), 2);
        drop(a);
        let c = l.try_acquire(1).expect("a place came back");
        drop((b, c, other));
        assert_eq!(l.users_running(), 0, "no entry outlives its permits");
        assert!(l.0.running.lock().unwrap().is_empty());
    }

    #[test]
    fn zero_is_no_limit() {
        let l = ExpensiveLimiter::new(0);
        let permits: Vec<_> = (0..100).map(|_| l.try_acquire(1).unwrap()).collect();
        assert_eq!(permits.len(), 100);
        assert_eq!(l.users_running(), 0);
    }
}
