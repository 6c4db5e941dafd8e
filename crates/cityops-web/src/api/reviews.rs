//! 第三方评价 (third-party review): leaders and administrators draw a period's sample of closed
//! cases for every department and read the per-department scores; reviewers (第三方评价员) list
//! the sampled cases of their region and score them 1–5 with a comment and an optional photo
//! (uploaded first with `POST /api/v1/attachments`). The handlers parse, call
//! [`cityops_app::ReviewService`] and build the views; the service checks roles, the store the
//! reviewer's region.
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use cityops_app::Catalogue;
use cityops_app::review::DrawnSample;
use cityops_domain::review::{Review, ReviewPeriod};
use cityops_store::{DepartmentReviewScore, ReviewTask};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::cases::instant;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;

/// The review routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(draw_sample))
        .routes(routes!(review_tasks))
        .routes(routes!(review_scores))
        .routes(routes!(submit_review))
}

/// The period of a draw or of the scores: both bounds, one bound (a month from or up to it), or
/// neither (last month).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PeriodParams {
    /// Start of the period: a date (local midnight, Asia/Shanghai) or an RFC 3339 instant.
    /// Alone: the month from it (to the same local time a calendar month later). Without
    /// `from` and `to`: last month (上月) in the calendar's zone.
    #[param(value_type = Option<crate::wire::DateOrInstant>)]
    from: Option<String>,
    /// End of the period (excluded): a date (that whole local day included) or an RFC 3339
    /// instant. At most 366 days after `from`. Alone: the month up to it.
    #[param(value_type = Option<crate::wire::DateOrInstant>)]
    to: Option<String>,
}

/// `t` moved by `months` calendar months in the calendar's zone (the same local time).
fn months_from(state: &AppState, t: DateTime<Utc>, months: i32) -> Option<DateTime<Utc>> {
    let tz = state.calendar().config().tz;
    let local = t.with_timezone(&tz).naive_local();
    let moved = if months >= 0 {
        local.checked_add_months(chrono::Months::new(months.unsigned_abs()))?
    } else {
        local.checked_sub_months(chrono::Months::new(months.unsigned_abs()))?
    };
    tz.from_local_datetime(&moved)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

impl PeriodParams {
    /// `None` for last month; 400 `invalid_query` for a malformed bound; 422 `invalid_value` for
    /// an empty or inverted period, or one longer than 366 days.
    fn period(&self, state: &AppState) -> Result<Option<ReviewPeriod>, ApiError> {
        let out_of_range = || ApiError::invalid_value("the period lies outside the calendar");
        let (from, to) = match (self.from.as_deref(), self.to.as_deref()) {
            (None, None) => return Ok(None),
            (Some(from), Some(to)) => (
                instant(state, "from", from, false)?,
                instant(state, "to", to, true)?,
            ),
            (Some(from), None) => {
                let from = instant(state, "from", from, false)?;
                (from, months_from(state, from, 1).ok_or_else(out_of_range)?)
            }
            (None, Some(to)) => {
                let to = instant(state, "to", to, true)?;
                (months_from(state, to, -1).ok_or_else(out_of_range)?, to)
            }
        };
        ReviewPeriod::new(from, to)
            .map(Some)
            .map_err(|e| ApiError::invalid_value(e.to_string()))
    }
}

/// A review period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ReviewPeriodView {
    pub from: DateTime<Utc>,
    /// The end (excluded).
    pub to: DateTime<Utc>,
}

impl From<ReviewPeriod> for ReviewPeriodView {
    fn from(p: ReviewPeriod) -> Self {
        Self {
            from: p.from,
            to: p.to,
        }
    }
}

/// A department's code and name from the catalogue cache (absent for an unknown id).
fn department(cat: &Catalogue, id: i64) -> (Option<String>, Option<String>) {
    cat.department(id)
        .map(|d| (Some(d.code.clone()), Some(d.name.clone())))
        .unwrap_or_default()
}

/// One department's sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct SampleDepartmentView {
    pub department_id: i64,
    #[schema(example = "441302-municipal")]
    pub department_code: Option<String>,
    #[schema(example = "惠城区市政管理所")]
    pub department_name: Option<String>,
    /// Its closed cases in the period.
    pub closed: u64,
    /// The sampled cases' ids.
    pub case_ids: Vec<i64>,
    /// When its sample was drawn (the first draw).
    pub drawn_at: DateTime<Utc>,
}

/// 抽样结果: the period's whole sample, by department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct SampleView {
    pub period: ReviewPeriodView,
    /// Sampled cases this request added (0 when the period had been drawn before).
    pub added: u64,
    pub departments: Vec<SampleDepartmentView>,
}

impl SampleView {
    fn new(s: DrawnSample, cat: &Catalogue) -> Self {
        Self {
            period: s.period.into(),
            added: s.added,
            departments: s
                .departments
                .into_iter()
                .map(|d| {
                    let (department_code, department_name) = department(cat, d.department_id);
                    SampleDepartmentView {
                        department_id: d.department_id,
                        department_code,
                        department_name,
                        closed: d.closed as u64,
                        case_ids: d.case_ids,
                        drawn_at: d.drawn_at,
                    }
                })
                .collect(),
        }
    }
}

/// 评价结果: a review of a sampled case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ReviewView {
    pub case_id: i64,
    /// The department the case was sampled for.
    pub department_id: i64,
    /// The period of the sample it answers.
    pub period: ReviewPeriodView,
    pub reviewer_id: i64,
    /// 1 (很不满意) to 5 (很满意).
    #[schema(minimum = 1, maximum = 5)]
    pub score: u8,
    pub comment: String,
    /// The photo's public id (`GET /api/v1/attachments/{id}`), if one was given.
    #[schema(value_type = Option<crate::wire::AttachmentId>)]
    pub photo: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl ReviewView {
    fn new(r: Review, photo: Option<String>) -> Self {
        Self {
            case_id: r.case_id,
            department_id: r.department_id,
            period: r.period.into(),
            reviewer_id: r.reviewer_id,
            score: r.score,
            comment: r.comment,
            photo,
            created_at: r.created_at,
        }
    }
}

/// 评价任务: a sampled case of the reviewer's region, with its review once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ReviewTaskView {
    pub case_id: i64,
    #[schema(example = "2026030200001")]
    pub case_code: String,
    pub department_id: i64,
    pub department_name: Option<String>,
    pub period: ReviewPeriodView,
    pub drawn_at: DateTime<Utc>,
    /// The review; null while the case waits for one.
    pub review: Option<ReviewView>,
}

impl ReviewTaskView {
    fn new(t: ReviewTask, cat: &Catalogue) -> Self {
        Self {
            case_id: t.sample.case_id,
            case_code: t.case_code,
            department_id: t.sample.department_id,
            department_name: department(cat, t.sample.department_id).1,
            period: t.sample.period.into(),
            drawn_at: t.sample.drawn_at,
            review: t.review.map(|r| ReviewView::new(r, t.photo)),
        }
    }
}

/// A page of review tasks, those still to review first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ReviewTaskList {
    pub items: Vec<ReviewTaskView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// One department's review score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DepartmentScoreView {
    pub department_id: i64,
    pub department_code: Option<String>,
    pub department_name: Option<String>,
    /// Cases sampled for it in the samples within the period (each case once).
    pub sampled: u64,
    /// Of those, the reviewed ones.
    pub reviewed: u64,
    /// The sum of their scores.
    pub score_sum: u64,
    /// The mean score (1–5); null before the first review.
    pub mean: Option<f64>,
}

impl DepartmentScoreView {
    fn new(s: DepartmentReviewScore, cat: &Catalogue) -> Self {
        let (department_code, department_name) = department(cat, s.department_id);
        Self {
            department_id: s.department_id,
            department_code,
            department_name,
            sampled: s.sampled,
            reviewed: s.reviewed,
            score_sum: s.score_sum,
            mean: s.mean,
        }
    }
}

/// 评价得分: per department, the reviews of the samples whose period lies within the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ReviewScoresView {
    pub period: ReviewPeriodView,
    pub departments: Vec<DepartmentScoreView>,
}

/// `POST /api/v1/reviews/{case_id}`: a review.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    /// 1 (很不满意) to 5 (很满意). An integer; JSON's `4.0` is the integer 4.
    #[schema(minimum = 1, maximum = 5, value_type = i64)]
    #[serde(deserialize_with = "whole_number")]
    pub score: i64,
    /// 评价意见 (not blank).
    #[schema(min_length = 1)]
    pub comment: String,
    /// The public id of a photo the reviewer uploaded with `POST /api/v1/attachments` (linked
    /// to the case with the review).
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::AttachmentId>)]
    pub attachment_id: Option<String>,
}

/// A whole number as JSON Schema reads an integer: `4` and `4.0` alike; a fraction is a
/// deserialisation error (422 `invalid_value`).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = f64::deserialize(d)?;
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Ok(v as i64)
    } else {
        Err(serde::de::Error::custom(format!(
            "score {v}: expected a whole number 1 to 5"
        )))
    }
}

/// 抽样: draws the sample of the period (default: last month) for every department that closed
/// cases in it, reproducibly (period, department, the city's salt), and keeps it; drawing a
/// period again changes nothing. Answers the period's whole sample. Leaders and administrators.
#[utoipa::path(
    post,
    path = "/api/v1/reviews/samples",
    tag = "reviews",
    security(("bearer" = []), ("cookie" = [])),
    params(PeriodParams),
    responses(
        (status = 200, body = SampleView),
        (status = 400, description = "`invalid_query`: a malformed bound", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader or administrator", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an empty or inverted period, one over 366 days, or one not over yet", body = ErrorBody),
    )
)]
pub(crate) async fn draw_sample(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> ApiResult<axum::Json<SampleView>> {
    let period = p.period(&state)?;
    let drawn = state.reviews.draw(&user, period).await?;
    let cat = state.app.catalogue().await?;
    Ok(axum::Json(SampleView::new(drawn, &cat)))
}

/// 评价任务: the sampled cases of the reviewer's region, those still to review first, then the
/// newest periods. Reviewers (第三方评价员) only.
#[utoipa::path(
    get,
    path = "/api/v1/reviews/tasks",
    tag = "reviews",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = ReviewTaskList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a third-party reviewer", body = ErrorBody),
    )
)]
pub(crate) async fn review_tasks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ReviewTaskList>> {
    let page = pp.request()?;
    let got = state.reviews.tasks(&user, page).await?;
    let cat = state.app.catalogue().await?;
    let got = got.map(|t| ReviewTaskView::new(t, &cat));
    Ok(axum::Json(ReviewTaskList {
        items: got.items,
        total: got.total,
        page: got.page,
        page_size: got.page_size,
    }))
}

/// 评价得分: per department, the cases sampled, reviewed, the score sum and mean of the samples
/// within the period (default: last month); a scoped leader sees the departments of their
/// region. Leaders and administrators.
#[utoipa::path(
    get,
    path = "/api/v1/reviews/scores",
    tag = "reviews",
    security(("bearer" = []), ("cookie" = [])),
    params(PeriodParams),
    responses(
        (status = 200, body = ReviewScoresView),
        (status = 400, description = "`invalid_query`: a malformed bound", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader or administrator", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an empty or inverted period, or one over 366 days", body = ErrorBody),
    )
)]
pub(crate) async fn review_scores(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> ApiResult<axum::Json<ReviewScoresView>> {
    let period = p.period(&state)?;
    let (period, scores) = state.reviews.scores(&user, period).await?;
    let cat = state.app.catalogue().await?;
    Ok(axum::Json(ReviewScoresView {
        period: period.into(),
        departments: scores
            .into_iter()
            .map(|s| DepartmentScoreView::new(s, &cat))
            .collect(),
    }))
}

/// 提交评价: the reviewer's score, comment and optional photo for a sampled case of their
/// region, once per case. Reviewers (第三方评价员) only.
#[utoipa::path(
    post,
    path = "/api/v1/reviews/{case_id}",
    tag = "reviews",
    security(("bearer" = []), ("cookie" = [])),
    params(("case_id" = i64, Path, description = "The sampled case's id")),
    request_body = ReviewBody,
    responses(
        (status = 201, body = ReviewView),
        (status = 400, description = "`bad_request`: a malformed path or body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a third-party reviewer", body = ErrorBody),
        (status = 404, description = "`not_found`: the case is in no review sample of the reviewer's region", body = ErrorBody),
        (status = 409, description = "`conflict`: the case has been reviewed already", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body that is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value` (score outside 1–5, blank comment, a photo that is not the reviewer's or already on a case) or `too_long` (the comment over its `maxLength`)", body = ErrorBody),
    )
)]
pub(crate) async fn submit_review(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(case_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> ApiResult<(StatusCode, axum::Json<ReviewView>)> {
    let saved = state
        .reviews
        .submit(
            &user,
            case_id,
            body.score,
            &body.comment,
            body.attachment_id.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ReviewView::new(saved, body.attachment_id)),
    ))
}
