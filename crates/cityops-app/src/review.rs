//! 第三方评价 (third-party review, issue 11): leaders and administrators draw the month's sample
//! of closed cases for every department (on demand; drawing again changes nothing), reviewers
//! (第三方评价员) score the sampled cases of their region 1–5 with a comment and an optional
//! photo, and the per-department scores are read for the evaluation (综合评价).
//!
//! The sample is the domain's ([`cityops_domain::review::draw_sample`]: reproducible from the
//! period, the department and the configured city salt); a period is drawn only once it is over,
//! so the set of its closed cases — and with it the sample — is final. Scope: a reviewer reads
//! and reviews only through [`CaseVisibility::for_user`] (the closed cases of their region),
//! checked by the store in its query. Every "now" comes from the injected clock.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cityops_domain::case::CaseVisibility;
use cityops_domain::review::{
    NewReview, Review, ReviewConfig, ReviewError, ReviewPeriod, check_score, draw_sample,
};
use cityops_domain::{Page, PageRequest, Role, User};
use cityops_store::{DepartmentReviewScore, DepartmentSample, ReviewTask, StoreError};

use crate::error::{Result, ServiceError};
use crate::service::CaseService;

impl From<ReviewError> for ServiceError {
    /// A comment over its limit is `TooLong` (422 `too_long`); everything else `Invalid`.
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::TooLong(t) => ServiceError::TooLong(t),
            other => ServiceError::Invalid(other.to_string()),
        }
    }
}

/// Whether `user` reviews sampled cases (第三方评价员).
pub fn may_review(user: &User) -> bool {
    user.has_role(Role::Reviewer)
}

/// Whether `user` draws samples and reads the review scores: leaders (领导) and administrators.
pub fn may_manage_reviews(user: &User) -> bool {
    user.has_role(Role::Leader) || user.has_role(Role::Admin)
}

fn require_reviewer(user: &User) -> Result<()> {
    if may_review(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only third-party reviewers (第三方评价员) review sampled cases.".into(),
        ))
    }
}

fn require_manager(user: &User) -> Result<()> {
    if may_manage_reviews(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only leaders and administrators draw review samples and read review scores.".into(),
        ))
    }
}

/// One department's sample of a period, after a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnDepartment {
    pub department_id: i64,
    /// Its closed cases in the period.
    pub closed: usize,
    /// The sampled cases, by id.
    pub case_ids: Vec<i64>,
    /// When they were drawn (the first draw).
    pub drawn_at: DateTime<Utc>,
}

/// What a draw answers: the period's whole sample, by department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnSample {
    pub period: ReviewPeriod,
    pub departments: Vec<DrawnDepartment>,
    /// Sampled cases this draw added (0 when the period had been drawn).
    pub added: u64,
}

/// The review service. One per process, beside the case service.
pub struct ReviewService {
    app: Arc<CaseService>,
    config: ReviewConfig,
}

impl std::fmt::Debug for ReviewService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewService")
            .field("sample_size", &self.config.sample_size)
            .field("min_share_percent", &self.config.min_share_percent)
            .finish_non_exhaustive()
    }
}

impl ReviewService {
    /// A review service over the case service's store, clock and calendar. `config` should have
    /// been validated ([`ReviewConfig::validate`]); the binary refuses to start otherwise.
    pub fn new(app: Arc<CaseService>, config: ReviewConfig) -> Self {
        Self { app, config }
    }

    pub fn config(&self) -> &ReviewConfig {
        &self.config
    }

    fn now(&self) -> DateTime<Utc> {
        self.app.clock().now()
    }

    /// The period a draw and the scores use by default: last month (上月) in the calendar's
    /// zone, the last whole month at "now".
    pub fn default_period(&self) -> ReviewPeriod {
        ReviewPeriod::month_before(&self.app.config().calendar.tz, self.now())
    }

    /// 抽样: draws the sample of `period` (default: last month) for every department that
    /// closed cases in it and has no sample of it yet, and keeps it; answers the period's whole
    /// sample. Idempotent: a period drawn before keeps its cases. Leaders and administrators
    /// only; `Invalid` for a period that is not over yet.
    pub async fn draw(&self, user: &User, period: Option<ReviewPeriod>) -> Result<DrawnSample> {
        require_manager(user)?;
        let now = self.now();
        let period = period.unwrap_or_else(|| self.default_period());
        if !period.is_over(now) {
            return Err(ServiceError::invalid(format!(
                "the period ends at {}: its sample can be drawn once it is over",
                period.to.to_rfc3339()
            )));
        }
        let store = self.app.store();
        let mut closed: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for c in store.review_candidates(&period).await? {
            closed.entry(c.department_id).or_default().push(c.case_id);
        }
        let drawn: BTreeSet<i64> = store
            .review_sample(&period)
            .await?
            .into_iter()
            .map(|s| s.department_id)
            .collect();
        let samples: Vec<DepartmentSample> = closed
            .iter()
            .filter(|(d, _)| !drawn.contains(d))
            .map(|(&department_id, ids)| DepartmentSample {
                department_id,
                case_ids: draw_sample(&self.config, &period, department_id, ids),
            })
            .filter(|s| !s.case_ids.is_empty())
            .collect();
        let added = store.save_review_sample(&period, &samples, now).await?;
        let mut departments: BTreeMap<i64, DrawnDepartment> = BTreeMap::new();
        for s in store.review_sample(&period).await? {
            departments
                .entry(s.department_id)
                .or_insert_with(|| DrawnDepartment {
                    department_id: s.department_id,
                    closed: closed.get(&s.department_id).map_or(0, Vec::len),
                    case_ids: Vec::new(),
                    drawn_at: s.drawn_at,
                })
                .case_ids
                .push(s.case_id);
        }
        tracing::info!(
            user = user.id,
            from = %period.from,
            to = %period.to,
            departments = departments.len(),
            added,
            "review sample drawn"
        );
        Ok(DrawnSample {
            period,
            departments: departments.into_values().collect(),
            added,
        })
    }

    /// 评价任务: the sampled cases the reviewer may review (the closed cases of their region),
    /// those still to review first. Reviewers only.
    pub async fn tasks(&self, user: &User, page: PageRequest) -> Result<Page<ReviewTask>> {
        require_reviewer(user)?;
        Ok(self
            .app
            .store()
            .review_tasks(&CaseVisibility::for_user(user), page)
            .await?)
    }

    /// 提交评价: the reviewer's score (1–5), comment and optional photo (the public id of a photo
    /// they uploaded and no case holds yet) for a sampled case they may see. `NotFound` when the
    /// case is in no sample (or outside their region), `Conflict` when it was reviewed already.
    pub async fn submit(
        &self,
        user: &User,
        case_id: i64,
        score: i64,
        comment: &str,
        photo: Option<&str>,
    ) -> Result<Review> {
        require_reviewer(user)?;
        let mut review = NewReview {
            case_id,
            reviewer_id: user.id,
            score: check_score(score)?,
            comment: comment.to_string(),
            attachment_id: None,
            created_at: self.now(),
        };
        review.validate()?;
        if let Some(public_id) = photo {
            let ids = self
                .app
                .resolve_attachments(user, &[public_id.to_string()])
                .await?;
            review.attachment_id = ids.first().copied();
        }
        let saved = self
            .app
            .store()
            .save_review(&review, &CaseVisibility::for_user(user))
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ServiceError::NotFound(format!(
                    "Case {case_id} is in no review sample of your region."
                )),
                StoreError::Conflict(m) => ServiceError::Conflict(m),
                other => other.into(),
            })?;
        tracing::info!(
            user = user.id,
            case_id,
            score = saved.score,
            "third-party review saved"
        );
        Ok(saved)
    }

    /// 评价得分: per department, the reviews of the samples within `period` (default: last
    /// month) — of the departments within the user's region when they have one. Leaders and
    /// administrators only.
    pub async fn scores(
        &self,
        user: &User,
        period: Option<ReviewPeriod>,
    ) -> Result<(ReviewPeriod, Vec<DepartmentReviewScore>)> {
        require_manager(user)?;
        let period = period.unwrap_or_else(|| self.default_period());
        let scores = self
            .app
            .store()
            .review_scores_within(period.from, period.to, user.scope.region_code.as_deref())
            .await?;
        Ok((period, scores))
    }
}
