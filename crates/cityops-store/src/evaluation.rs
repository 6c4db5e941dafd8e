//! The storage contract of the comprehensive evaluation (综合评价): a period's cases as the
//! evaluation reads them, and the cases behind a figure (the drill-down), always within the
//! caller's [`CaseVisibility`].
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::evaluation::EvalCase;

use crate::{Case, CaseVisibility, Result};

/// What changes whenever a case of a day changes (within a visibility): how many cases were
/// reported that day, the sum of their versions (every write adds one to its case's) and the
/// latest write. Equal fingerprints mean the day's cases — and their evaluation records — are
/// what they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DayFingerprint {
    pub cases: u64,
    pub version_sum: i64,
    pub last_write: Option<DateTime<Utc>>,
}

/// The most days one fingerprint read covers.
pub const MAX_FINGERPRINT_DAYS: usize = 400;

/// Reads for the evaluation.
#[async_trait]
pub trait EvaluationRepo: Send + Sync {
    /// The visible cases reported at or after `from` and before `to`, ascending by report time
    /// then id, each with its evaluation record. One statement, whatever the period's size.
    async fn evaluation_cases(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        vis: &CaseVisibility,
    ) -> Result<Vec<EvalCase>>;

    /// The fingerprint of each day `[bounds[i], bounds[i + 1])` (ascending instants, at most
    /// [`MAX_FINGERPRINT_DAYS`] days) over the visible cases reported in it. One statement.
    /// `Invalid` for fewer than two bounds, too many, or bounds that do not ascend.
    async fn evaluation_fingerprints(
        &self,
        bounds: &[DateTime<Utc>],
        vis: &CaseVisibility,
    ) -> Result<Vec<DayFingerprint>>;

    /// The visible cases among `ids` (at most 1,000), in the order of `ids`; ids that do not exist
    /// or are not visible are left out.
    async fn cases_by_ids(&self, ids: &[i64], vis: &CaseVisibility) -> Result<Vec<Case>>;
}
