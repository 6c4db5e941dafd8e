//! A short-lived cache of sessions (token hash → user), so that a burst of requests presenting
//! one token costs one store lookup instead of one per request.
//!
//! Bounded in time and size: an entry lives at most `ttl` (default 1 s, on the injected clock)
//! and the cache holds at most `max_entries` sessions (when full it is emptied, which costs only
//! a lookup per token). Logout (`forget`) and a change to an account (`forget_user`) take effect at
//! once in this process; in another process (a second server, the `cityops user` command) they
//! take effect when that process's entry expires, i.e. within `ttl`. A `ttl` of zero disables the
//! cache.
use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::User;

/// Sessions seen recently.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<String, (User, DateTime<Utc>)>>,
}

impl SessionCache {
    /// A cache whose entries live `ttl` and which holds at most `max_entries`.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (User, DateTime<Utc>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user of `token_hash` if it was looked up less than `ttl` before `now`.
    pub fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<User> {
        if self.ttl <= Duration::zero() {
            return None;
        }
        let mut entries = self.entries();
        match entries.get(token_hash) {
            Some((user, until)) if now < *until => Some(user.clone()),
            Some(_) => {
                entries.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Remembers that `token_hash` belonged to the active `user` at `now`.
    pub fn put(&self, token_hash: &str, user: &User, now: DateTime<Utc>) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= self.max_entries && !entries.contains_key(token_hash) {
            entries.clear();
        }
        entries.insert(token_hash.to_string(), (user.clone(), now + self.ttl));
    }

    /// Forgets one session (logout).
    pub fn forget(&self, token_hash: &str) {
        self.entries().remove(token_hash);
    }

    /// Forgets every session of a user (deactivation, a new password, new roles).
    pub fn forget_user(&self, user_id: i64) {
        self.entries().retain(|_, (u, _)| u.id != user_id);
    }

    /// Sessions held now (expired ones included until they are next looked up).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether the cache holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::{Role, Scope};

    fn user(id: i64) -> User {
        User {
            id,
            username: format!("u{id}"),
            display_name: format!("U{id}"),
            roles: vec![Role::Inspector],
            scope: Scope::default(),
            active: true,
            grids: vec![],
        }
    }

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn entries_expire_after_the_ttl_on_the_given_clock() {
        let c = SessionCache::new(Duration::milliseconds(1000), 10);
        c.put("a", &user(1), t(0));
        assert_eq!(c.get("a", t(999)).map(|u| u.id), Some(1));
        assert_eq!(c.get("a", t(1000)), None);
        assert!(c.is_empty(), "an expired entry is dropped when looked up");
    }

    #[test]
    fn logout_and_account_changes_forget_at_once() {
        let c = SessionCache::new(Duration::seconds(60), 10);
        c.put("a", &user(1), t(0));
        c.put("b", &user(1), t(0));
        c.put("c", &user(2), t(0));
        c.forget("a");
        assert_eq!(c.get("a", t(1)), None);
        c.forget_user(1);
        assert_eq!(c.get("b", t(1)), None);
        assert_eq!(c.get("c", t(1)).map(|u| u.id), Some(2));
    }

    #[test]
    fn bounded_in_size_and_disabled_by_a_zero_ttl() {
        let c = SessionCache::new(Duration::seconds(60), 3);
        for i in 0..10 {
            c.put(&format!("t{i}"), &user(i), t(0));
            assert!(c.len() <= 3);
        }
        let off = SessionCache::new(Duration::zero(), 3);
        off.put("a", &user(1), t(0));
        assert_eq!(off.get("a", t(0)), None);
    }
}
