//! 第三方评价 (third-party review): the samples of closed cases drawn per period and department,
//! the reviews of the sampled cases, and the per-department review scores the evaluation
//! (综合评价) reads. What a sample holds is the domain's to decide
//! ([`cityops_domain::review::draw_sample`]); the store lists the candidates, keeps the sample
//! once, and answers in SQL within the caller's scope.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::review::{NewReview, Review, ReviewPeriod};

use crate::{CaseVisibility, Page, PageRequest, Result};

/// A closed case of a period (`closed_at` in the period) that a department handled: what a
/// sample is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCandidate {
    pub case_id: i64,
    pub department_id: i64,
    pub closed_at: DateTime<Utc>,
}

/// The cases drawn for one department in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentSample {
    pub department_id: i64,
    pub case_ids: Vec<i64>,
}

/// One sampled case as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledCase {
    pub period: ReviewPeriod,
    pub department_id: i64,
    pub case_id: i64,
    /// When it was drawn (the first draw; drawing again keeps it).
    pub drawn_at: DateTime<Utc>,
}

/// A reviewer's task (评价任务): a sampled case, with its review once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTask {
    pub sample: SampledCase,
    /// The case's code (`YYYYMMDD` + 5 digits).
    pub case_code: String,
    pub review: Option<Review>,
    /// The public id of the review's photo.
    pub photo: Option<String>,
}

/// The review scores of one department over a range of periods (评价得分): what the
/// evaluation reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DepartmentReviewScore {
    pub department_id: i64,
    /// Cases sampled for the department in samples whose period lies within the range (each
    /// case once, however many samples hold it).
    pub sampled: u64,
    /// Of those, the cases reviewed.
    pub reviewed: u64,
    /// The sum of their scores.
    pub score_sum: u64,
    /// `score_sum / reviewed`; `None` before the first review.
    pub mean: Option<f64>,
}

impl DepartmentReviewScore {
    /// The row with its mean computed from the counts.
    pub fn new(department_id: i64, sampled: u64, reviewed: u64, score_sum: u64) -> Self {
        Self {
            department_id,
            sampled,
            reviewed,
            score_sum,
            mean: (reviewed > 0).then(|| score_sum as f64 / reviewed as f64),
        }
    }
}

/// Samples, reviews and their scores.
#[async_trait]
pub trait ReviewRepo: Send + Sync {
    /// The closed cases (status `closed`, `closed_at` in the period) that have a department, in
    /// case id order.
    async fn review_candidates(&self, period: &ReviewPeriod) -> Result<Vec<ReviewCandidate>>;

    /// Keeps the drawn cases of a period, idempotently: a department that already has a sample
    /// of this period keeps it (nothing of `samples` is added for it), a case is never kept
    /// twice for one period. Returns how many sampled cases were added. `Invalid` for an
    /// unknown department or case.
    async fn save_review_sample(
        &self,
        period: &ReviewPeriod,
        samples: &[DepartmentSample],
        drawn_at: DateTime<Utc>,
    ) -> Result<u64>;

    /// The kept sample of exactly this period, by department and case.
    async fn review_sample(&self, period: &ReviewPeriod) -> Result<Vec<SampledCase>>;

    /// The sampled cases `vis` sees (the reviewer's tasks): those still to review first, then
    /// the newest periods first, by case id.
    async fn review_tasks(
        &self,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<ReviewTask>>;

    /// Stores the review of a sampled case `vis` sees, for the earliest sample that holds it,
    /// and links its photo to the case, in one transaction. `NotFound` when the case is in no
    /// sample (or not visible); `Conflict` when it has been reviewed already (one review per
    /// case); `Invalid` when the photo is missing, not the reviewer's, or already linked to a
    /// case (then nothing is written).
    async fn save_review(&self, review: &NewReview, vis: &CaseVisibility) -> Result<Review>;

    /// Per department (by id) with a sample whose period lies within `[from, to)`: cases
    /// sampled and reviewed, the score sum and mean. Departments without a sample are absent.
    async fn review_scores(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DepartmentReviewScore>> {
        self.review_scores_within(from, to, None).await
    }

    /// [`ReviewRepo::review_scores`] of the departments whose region lies within
    /// `region_code` (all of them when `None`): a scoped leader's view.
    async fn review_scores_within(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        region_code: Option<&str>,
    ) -> Result<Vec<DepartmentReviewScore>>;
}
