//! The evaluation's cases of a period, kept between requests and exact.
//!
//! An evaluation reads every case reported in its period (and the period before) with its
//! evaluation record: tens of thousands of rows a month in a large city. Most of them do not
//! change between two requests, so the period's records are kept per (visibility, period), and
//! before each use the store is asked for one fingerprint per local day of the period
//! ([`cityops_store::DayFingerprint`]: the day's cases, the sum of their versions, the latest
//! write — one statement over an index). Days whose fingerprint is unchanged are used as kept;
//! the others are read again and merged in. So an answer always equals a full recomputation: a
//! write to any case of the period changes its day's fingerprint (every write adds one to the
//! case's version and sets its update time), whichever process made it.
//!
//! The fingerprints are read before the cases: a write that lands between the two reads leaves
//! newer records under older fingerprints, which only makes the next request read that day again.
//! Bounded: at most [`EVAL_CACHE_ENTRIES`] periods, the least recently used dropped first.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cityops_domain::case::CaseVisibility;
use cityops_domain::evaluation::EvalCase;
use cityops_store::{DayFingerprint, Store};

/// The most (visibility, period) entries kept.
pub const EVAL_CACHE_ENTRIES: usize = 6;

struct Entry {
    vis: CaseVisibility,
    /// Where each local day of the period starts, and where the last one ends.
    bounds: Vec<DateTime<Utc>>,
    prints: Vec<DayFingerprint>,
    cases: Arc<Vec<EvalCase>>,
    used: u64,
}

/// What one read did (for tests and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheUse {
    /// Days read from the store.
    pub days_read: usize,
    /// Days used as kept.
    pub days_kept: usize,
}

/// The kept periods.
#[derive(Default)]
pub struct EvalCaseCache {
    entries: Mutex<Vec<Entry>>,
    tick: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for EvalCaseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalCaseCache").finish_non_exhaustive()
    }
}

/// Half-open ranges `[start, end)` of consecutive day indices that changed.
fn changed_ranges(old: &[DayFingerprint], new: &[DayFingerprint]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, (a, b)) in old.iter().zip(new).enumerate() {
        if a != b {
            match out.last_mut() {
                Some((_, end)) if *end == i => *end = i + 1,
                _ => out.push((i, i + 1)),
            }
        }
    }
    out
}

impl EvalCaseCache {
    /// The visible cases reported in `[bounds[0], bounds[last])`, ascending by report time then
    /// id, as `EvaluationRepo::evaluation_cases` answers — read only where a day changed.
    pub async fn cases(
        &self,
        store: &dyn Store,
        bounds: &[DateTime<Utc>],
        vis: &CaseVisibility,
    ) -> cityops_store::Result<(Arc<Vec<EvalCase>>, CacheUse)> {
        let (Some(&from), Some(&to)) = (bounds.first(), bounds.last()) else {
            return Err(cityops_store::StoreError::Invalid(
                "a period needs its day bounds".into(),
            ));
        };
        // Everyone who sees everything shares one entry (the store ignores the rest of `vis`).
        let everything;
        let vis = if vis.all {
            everything = CaseVisibility::everything();
            &everything
        } else {
            vis
        };
        let prints = store.evaluation_fingerprints(bounds, vis).await?;
        let kept = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .iter()
                .find(|e| e.vis == *vis && e.bounds == bounds)
                .map(|e| (e.prints.clone(), e.cases.clone()))
        };
        let days = prints.len();
        let (cases, used) = match kept {
            Some((old, cases)) if old == prints => (
                cases,
                CacheUse {
                    days_read: 0,
                    days_kept: days,
                },
            ),
            Some((old, cases)) => {
                let ranges = changed_ranges(&old, &prints);
                let read: usize = ranges.iter().map(|(a, b)| b - a).sum();
                let in_changed = |t: i64| {
                    ranges
                        .iter()
                        .any(|(a, b)| bounds[*a].timestamp() <= t && t < bounds[*b].timestamp())
                };
                let mut merged: Vec<EvalCase> = cases
                    .iter()
                    .filter(|c| !in_changed(c.created_at))
                    .cloned()
                    .collect();
                for (a, b) in &ranges {
                    merged.extend(store.evaluation_cases(bounds[*a], bounds[*b], vis).await?);
                }
                merged.sort_by_key(|c| (c.created_at, c.id));
                (
                    Arc::new(merged),
                    CacheUse {
                        days_read: read,
                        days_kept: days - read,
                    },
                )
            }
            None => (
                Arc::new(store.evaluation_cases(from, to, vis).await?),
                CacheUse {
                    days_read: days,
                    days_kept: 0,
                },
            ),
        };
        if used.days_read > 0 {
            self.keep(vis, bounds, prints, cases.clone());
        } else {
            self.touch(vis, bounds);
        }
        Ok((cases, used))
    }

    fn next_tick(&self) -> u64 {
        self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn touch(&self, vis: &CaseVisibility, bounds: &[DateTime<Utc>]) {
        let tick = self.next_tick();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.vis == *vis && e.bounds == bounds)
        {
            e.used = tick;
        }
    }

    fn keep(
        &self,
        vis: &CaseVisibility,
        bounds: &[DateTime<Utc>],
        prints: Vec<DayFingerprint>,
        cases: Arc<Vec<EvalCase>>,
    ) {
        let tick = self.next_tick();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| !(e.vis == *vis && e.bounds == bounds));
        if entries.len() >= EVAL_CACHE_ENTRIES
            && let Some(oldest) = entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i)
        {
            entries.swap_remove(oldest);
        }
        entries.push(Entry {
            vis: vis.clone(),
            bounds: bounds.to_vec(),
            prints,
            cases,
            used: tick,
        });
    }

    /// Periods kept.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u64) -> DayFingerprint {
        DayFingerprint {
            cases: n,
            version_sum: n as i64,
            last_write: None,
        }
    }

    #[test]
    fn changed_days_become_ranges() {
        let old = [fp(1), fp(2), fp(3), fp(4), fp(5)];
        let new = [fp(1), fp(9), fp(9), fp(4), fp(9)];
        assert_eq!(changed_ranges(&old, &new), vec![(1, 3), (4, 5)]);
        assert!(changed_ranges(&old, &old).is_empty());
    }
}
