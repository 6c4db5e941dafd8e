//! Counters of the ingest path, read by `/metrics`: readings received, stored (new and
//! duplicate), rejected by reason, failed writes, batches, alarm signals and cases.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use cityops_domain::monitoring::RejectReason;

/// The counters (monotonic since the process started).
#[derive(Debug, Default)]
pub struct IngestStats {
    received: AtomicU64,
    stored_new: AtomicU64,
    stored_duplicate: AtomicU64,
    write_failed: AtomicU64,
    batches: AtomicU64,
    rejected: [AtomicU64; 9],
    signals: AtomicU64,
    alarms: AtomicU64,
    alarm_cases: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub received: u64,
    pub stored_new: u64,
    pub stored_duplicate: u64,
    pub write_failed: u64,
    pub batches: u64,
    /// By reason, in the order of [`RejectReason::ALL`].
    pub rejected: Vec<(RejectReason, u64)>,
    pub signals: u64,
    pub alarms: u64,
    pub alarm_cases: u64,
}

fn slot(r: RejectReason) -> usize {
    RejectReason::ALL
        .iter()
        .position(|x| *x == r)
        .expect("every reason has a slot")
}

impl IngestStats {
    pub(crate) fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Relaxed);
    }
    pub(crate) fn stored(&self, n: usize, new: u64) {
        self.batches.fetch_add(1, Relaxed);
        self.stored_new.fetch_add(new, Relaxed);
        self.stored_duplicate
            .fetch_add((n as u64).saturating_sub(new), Relaxed);
    }
    pub(crate) fn write_failed(&self, n: usize) {
        self.write_failed.fetch_add(n as u64, Relaxed);
    }
    /// Counts one rejected reading.
    pub fn reject(&self, r: RejectReason) {
        self.reject_n(r, 1);
    }
    /// Counts `n` rejected readings.
    pub fn reject_n(&self, r: RejectReason, n: usize) {
        self.rejected[slot(r)].fetch_add(n as u64, Relaxed);
        tracing::debug!(reason = r.as_str(), n, "readings rejected");
    }
    pub(crate) fn signalled(&self) {
        self.signals.fetch_add(1, Relaxed);
    }
    pub(crate) fn alarm_applied(&self, with_case: bool) {
        self.alarms.fetch_add(1, Relaxed);
        if with_case {
            self.alarm_cases.fetch_add(1, Relaxed);
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            received: self.received.load(Relaxed),
            stored_new: self.stored_new.load(Relaxed),
            stored_duplicate: self.stored_duplicate.load(Relaxed),
            write_failed: self.write_failed.load(Relaxed),
            batches: self.batches.load(Relaxed),
            rejected: RejectReason::ALL
                .iter()
                .map(|r| (*r, self.rejected[slot(*r)].load(Relaxed)))
                .collect(),
            signals: self.signals.load(Relaxed),
            alarms: self.alarms.load(Relaxed),
            alarm_cases: self.alarm_cases.load(Relaxed),
        }
    }
}
