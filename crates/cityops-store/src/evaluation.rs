//! The storage contract of the comprehensive evaluation (综合评价): a period's cases as the
//! evaluation reads them, and the cases behind a figure (the drill-down), always within the
//! caller's [`CaseVisibility`].
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::evaluation::EvalCase;

use crate::{Case, CaseVisibility, Result};

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

    /// The visible cases among `ids` (at most 1,000), in the order of `ids`; ids that do not exist
    /// or are not visible are left out.
    async fn cases_by_ids(&self, ids: &[i64], vis: &CaseVisibility) -> Result<Vec<Case>>;
}
