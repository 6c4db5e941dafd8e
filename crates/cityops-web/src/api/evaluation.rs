//! 综合评价 (comprehensive evaluation) and 城市管理指数 (city management index): the ranking of a
//! kind of subject for a period (`CaseService::evaluate`), the cases behind each of its figures
//! (`CaseService::evaluation_drill_down`: as many as the figure), and the index of every district
//! for a period and for each of the last months. Who may see them and which cases count is the
//! service's business (`require_evaluation`, the caller's visibility in the store query); the
//! handlers parse, call and build views. Every read is expensive: a few at a time per user.
use axum::extract::State;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cityops_app::evaluation::{CityIndexRows, EvaluationQuery, MAX_TREND_MONTHS, Period};
use cityops_domain::RegionLevel;
use cityops_domain::evaluation::{Kind, Measure, Subject};
use cityops_store::ContactAccessVia;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::CaseList;
use crate::wire;

/// The evaluation routes. The city index's static paths are matched before `{kind}`.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(city_index))
        .routes(routes!(city_index_trend))
        .routes(routes!(evaluation))
        .routes(routes!(drill_down))
}

/// The period of an evaluation: local dates (the calendar's zone), both inclusive.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PeriodParams {
    /// The first day (`YYYY-MM-DD`, local). Default: the first day of `to`'s month.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    from: Option<String>,
    /// The last day, included (`YYYY-MM-DD`, local). Default: today. Without `from` and `to`:
    /// the current month so far. A period is at most 367 days.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-30")]
    to: Option<String>,
}

/// The level of region rows.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LevelParams {
    /// The level of the rows of `regions` (default `street`); ignored by the other kinds.
    #[param(value_type = Option<crate::wire::EvaluationLevelName>)]
    level: Option<String>,
}

/// Which figure of which subject the drill-down lists.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DrillParams {
    /// The row's `subject`: a user or department id, or a region code of the `level`.
    #[param(pattern = "^[0-9]{1,18}$", example = "441302001")]
    subject: String,
    /// A figure key of the kind (a key of another kind is 422).
    #[param(value_type = crate::wire::EvaluationFigureName)]
    figure: String,
}

/// How many months the trend covers.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendParams {
    /// The last `months` calendar months, the current one (so far) last: 1–36, default 12.
    #[param(minimum = 1, maximum = 36, example = 12)]
    months: Option<u32>,
}

fn date_param(name: &str, v: &str) -> Result<NaiveDate, ApiError> {
    wire::parse_date(v).ok_or_else(|| {
        ApiError::invalid_query(format!(
            "{name}: expected a date YYYY-MM-DD (years 0001–9999), got {v:?}"
        ))
    })
}

impl PeriodParams {
    /// The period as the service takes it (`to` exclusive): 400 for a malformed date, 422 for a
    /// period that ends before it starts or is too long.
    fn period(&self, state: &AppState) -> Result<Period, ApiError> {
        let from = self
            .from
            .as_deref()
            .map(|v| date_param("from", v))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|v| date_param("to", v))
            .transpose()?;
        if from.is_none() && to.is_none() {
            return Ok(Period::month_so_far(state.app.today()));
        }
        let to = to.unwrap_or_else(|| state.app.today());
        let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
        if from > to {
            return Err(ApiError::invalid_value(format!(
                "the period ends ({to}) before it starts ({from})"
            )));
        }
        Ok(Period::new(from, to + Duration::days(1))?)
    }
}

impl LevelParams {
    fn level(&self) -> Result<RegionLevel, ApiError> {
        match self.level.as_deref() {
            None => Ok(RegionLevel::Street),
            Some(v) => wire::EVALUATION_LEVELS
                .into_iter()
                .find(|l| l.as_str() == v)
                .ok_or_else(|| {
                    ApiError::invalid_query(format!(
                        "level: expected grid, community, street or district, got {v:?}"
                    ))
                }),
        }
    }
}

fn kind_param(kind: &str) -> Result<Kind, ApiError> {
    kind.parse::<Kind>().map_err(|_| {
        ApiError::bad_request(format!(
            "Unknown evaluation kind {kind:?}; the kinds are: {}.",
            wire::EvaluationKindName::values().join(", ")
        ))
    })
}

/// A counted figure of a kind (计数指标).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationFigureView {
    #[schema(value_type = crate::wire::EvaluationFigureName)]
    pub key: String,
    pub zh: String,
    pub en: String,
}

/// A component of the composite value (综合指标分项) and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationComponentView {
    pub key: String,
    pub zh: String,
    pub en: String,
    /// The weight in percent (the weights of a kind sum to 100).
    pub weight: f64,
    #[schema(value_type = crate::wire::MeasureName)]
    pub measure: String,
}

/// One figure of one row, with the URL of the cases behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationCountView {
    #[schema(value_type = crate::wire::EvaluationFigureName)]
    pub key: String,
    pub value: u64,
    /// `GET` it for the cases behind the figure (its `total` equals `value`).
    #[schema(
        example = "/api/v1/evaluation/departments/cases?from=2026-11-01&to=2026-11-30&subject=3&figure=closed"
    )]
    pub cases_url: String,
}

/// One component of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationScoreView {
    pub key: String,
    /// The rate in percent, the count, or the mean rating; `null` when nothing was due (its
    /// denominator is 0: then it scores 100).
    pub value: Option<f64>,
    /// 0–100.
    pub score: f64,
}

/// A subject's result in the previous period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationPreviousView {
    /// In the order of `figures`.
    pub counts: Vec<u64>,
    pub score: f64,
    #[schema(value_type = crate::wire::GradeName)]
    pub grade: String,
    pub rank: u32,
}

/// One evaluated subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationRowView {
    /// A user or department id, or a region code: the drill-down's `subject`.
    #[schema(pattern = "^[0-9]{1,18}$", example = "441302001")]
    pub subject: String,
    pub name: String,
    /// In the order of `figures`.
    pub counts: Vec<EvaluationCountView>,
    /// In the order of `components`.
    pub components: Vec<EvaluationScoreView>,
    /// 综合指标值, 0–100.
    pub score: f64,
    #[schema(value_type = crate::wire::GradeName)]
    pub grade: String,
    /// 1-based; equal scores share a rank.
    pub rank: u32,
    pub previous: Option<EvaluationPreviousView>,
    /// Places gained since the previous period (negative: lost); `null` without one.
    pub rank_change: Option<i64>,
}

/// How many subjects got each grade.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[allow(non_snake_case)]
pub struct GradeCountsView {
    pub A: u64,
    pub B: u64,
    pub C: u64,
    pub D: u64,
    pub E: u64,
}

/// An evaluation: the kind's figures and components, and its subjects ranked (paged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationView {
    #[schema(value_type = crate::wire::EvaluationKindName)]
    pub kind: String,
    /// The level of the rows (`regions` only).
    #[schema(value_type = Option<crate::wire::EvaluationLevelName>)]
    pub level: Option<String>,
    /// The first day of the period (local).
    pub from: NaiveDate,
    /// The last day of the period, included.
    pub to: NaiveDate,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    /// The evaluation instant: deadlines before it have passed.
    pub as_of: DateTime<Utc>,
    pub figures: Vec<EvaluationFigureView>,
    pub components: Vec<EvaluationComponentView>,
    /// The grades of all subjects (every page).
    pub grades: GradeCountsView,
    /// This page of subjects, by rank.
    pub rows: Vec<EvaluationRowView>,
    /// Subjects over all pages.
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

fn measure_name(m: Measure) -> &'static str {
    match m {
        Measure::Rate { .. } => "rate",
        Measure::Count { .. } => "count",
        Measure::Satisfaction { .. } => "satisfaction",
        Measure::Review => "review",
    }
}

/// The query string of an evaluation's period and level (what the drill-down repeats).
fn period_query(kind: Kind, period: Period, level: RegionLevel) -> String {
    let mut q = format!("from={}&to={}", period.from, period.last_day());
    if kind == Kind::Regions {
        q.push_str("&level=");
        q.push_str(level.as_str());
    }
    q
}

/// 综合评价: the subjects of a kind ranked by their composite value (综合指标值) for a period,
/// each with its figures (every one linked to its cases), components, grade, rank and the
/// previous period (as many calendar months before, or as many days). Leaders, the command
/// centre and administrators see every subject within their region; department staff their
/// own department's cases.
#[utoipa::path(
    get,
    path = "/api/v1/evaluation/{kind}",
    tag = "evaluation",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("kind" = crate::wire::EvaluationKindName, Path, description = "Who is evaluated; any other value is 400 `bad_request`"),
        PeriodParams,
        LevelParams,
        PageParams,
    ),
    responses(
        (status = 200, body = EvaluationView),
        (status = 400, description = "`bad_request`: an unknown kind; `invalid_query`: a malformed date, level or page", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: evaluations are for leaders, the command centre, departments and administrators", body = ErrorBody),
        (status = 422, description = "`invalid_value`: the period ends before it starts, or is longer than 367 days", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many expensive reads of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn evaluation(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(p): ApiQuery<PeriodParams>,
    ApiQuery(l): ApiQuery<LevelParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<EvaluationView>> {
    let kind = kind_param(&kind)?;
    let period = p.period(&state)?;
    let level = l.level()?;
    let page = pp.request()?;
    cityops_app::evaluation::require_evaluation(&user)?;
    let _permit = state.expensive_permit(&user)?;
    let e = state
        .app
        .evaluate(
            &user,
            &EvaluationQuery {
                kind,
                period,
                level,
            },
        )
        .await?;
    let weights = state.app.evaluation_settings().evaluation.weights(kind);
    let base = format!(
        "/api/v1/evaluation/{kind}/cases?{}",
        period_query(kind, period, level)
    );
    let mut grades = GradeCountsView::default();
    for r in &e.rows {
        let n = match r.row.grade {
            cityops_domain::evaluation::Grade::A => &mut grades.A,
            cityops_domain::evaluation::Grade::B => &mut grades.B,
            cityops_domain::evaluation::Grade::C => &mut grades.C,
            cityops_domain::evaluation::Grade::D => &mut grades.D,
            cityops_domain::evaluation::Grade::E => &mut grades.E,
        };
        *n += 1;
    }
    let total = e.rows.len() as u64;
    let rows = e
        .rows
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(page.page_size as usize)
        .map(|r| {
            let subject = r.row.subject.to_string();
            EvaluationRowView {
                counts: e
                    .figures
                    .iter()
                    .zip(&r.row.counts)
                    .map(|(f, n)| EvaluationCountView {
                        key: f.key.to_string(),
                        value: *n,
                        cases_url: format!("{base}&subject={subject}&figure={}", f.key),
                    })
                    .collect(),
                components: e
                    .components
                    .iter()
                    .zip(&r.row.components)
                    .map(|(c, v)| EvaluationScoreView {
                        key: c.key.to_string(),
                        value: v.value,
                        score: v.score,
                    })
                    .collect(),
                score: r.row.score,
                grade: r.row.grade.as_str().to_string(),
                rank: r.row.rank,
                rank_change: r
                    .previous
                    .as_ref()
                    .map(|p| i64::from(p.rank) - i64::from(r.row.rank)),
                previous: r.previous.map(|p| EvaluationPreviousView {
                    counts: p.counts,
                    score: p.score,
                    grade: p.grade.as_str().to_string(),
                    rank: p.rank,
                }),
                subject,
                name: r.name,
            }
        })
        .collect();
    Ok(axum::Json(EvaluationView {
        kind: kind.as_str().to_string(),
        level: (kind == Kind::Regions).then(|| level.as_str().to_string()),
        from: e.period.from,
        to: e.period.last_day(),
        previous_from: e.previous_period.from,
        previous_to: e.previous_period.last_day(),
        as_of: e.as_of,
        figures: e
            .figures
            .iter()
            .map(|f| EvaluationFigureView {
                key: f.key.to_string(),
                zh: f.zh.to_string(),
                en: f.en.to_string(),
            })
            .collect(),
        components: e
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| EvaluationComponentView {
                key: c.key.to_string(),
                zh: c.zh.to_string(),
                en: c.en.to_string(),
                weight: weights.get(i).copied().unwrap_or(0.0),
                measure: measure_name(c.measure).to_string(),
            })
            .collect(),
        grades,
        rows,
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}

/// 指标明细: the cases behind one figure of one subject — as many as the figure — newest report
/// first, answered like the case list (the same item view; contacts shown in full are logged).
#[utoipa::path(
    get,
    path = "/api/v1/evaluation/{kind}/cases",
    tag = "evaluation",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("kind" = crate::wire::EvaluationKindName, Path, description = "Who is evaluated; any other value is 400 `bad_request`"),
        PeriodParams,
        LevelParams,
        DrillParams,
        PageParams,
    ),
    responses(
        (status = 200, body = CaseList),
        (status = 400, description = "`bad_request`: an unknown kind; `invalid_query`: a malformed date, level, subject, figure or page", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: evaluations are for leaders, the command centre, departments and administrators", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a figure of another kind, or a period that ends before it starts or is longer than 367 days", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many expensive reads of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn drill_down(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(p): ApiQuery<PeriodParams>,
    ApiQuery(l): ApiQuery<LevelParams>,
    ApiQuery(d): ApiQuery<DrillParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<CaseList>> {
    let kind = kind_param(&kind)?;
    let period = p.period(&state)?;
    let level = l.level()?;
    let page = pp.request()?;
    if !wire::is_evaluation_subject(&d.subject) {
        return Err(ApiError::invalid_query(format!(
            "subject: expected an id or a region code (digits), got {:?}",
            d.subject
        )));
    }
    if !wire::evaluation_figure_keys().contains(&d.figure.as_str()) {
        return Err(ApiError::invalid_query(format!(
            "figure: unknown figure {:?}",
            d.figure
        )));
    }
    let subject = subject_of(kind, &d.subject);
    cityops_app::evaluation::require_evaluation(&user)?;
    let _permit = state.expensive_permit(&user)?;
    let got = state
        .app
        .evaluation_drill_down(
            &user,
            &EvaluationQuery {
                kind,
                period,
                level,
            },
            &subject,
            &d.figure,
            page,
        )
        .await?;
    super::cases::log_contacts(&state, &user, &got.items, ContactAccessVia::List).await?;
    let cat = state.app.catalogue().await?;
    Ok(axum::Json(CaseList::from_page(got, |c| {
        super::cases::build_view(&state, &user, &cat, &c, None)
    })))
}

/// The subject a drill-down names: a region code for `regions`, else an id (the pattern holds
/// at most 18 digits, so it always fits).
pub(crate) fn subject_of(kind: Kind, s: &str) -> Subject {
    match (kind, s.parse::<i64>()) {
        (Kind::Regions, _) | (_, Err(_)) => Subject::Code(s.to_string()),
        (_, Ok(id)) => Subject::Id(id),
    }
}

/// The weights of the city index's indicators (percent, summing to 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexWeightsView {
    pub closure: f64,
    pub on_time: f64,
    pub rework: f64,
    pub overdue_density: f64,
    pub satisfaction: f64,
    pub review: f64,
}

/// One district's 城市管理指数 with its indicators (each 0–100) and the counts behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexDistrictView {
    #[schema(value_type = crate::wire::RegionCode)]
    pub code: String,
    pub name: String,
    /// 0–100.
    pub index: f64,
    /// 1-based; equal indexes share a rank.
    pub rank: u32,
    /// 结案率: closed ÷ should close.
    pub closure: f64,
    /// 按期处置率: handled on time ÷ should close.
    pub on_time: f64,
    /// 100 − 返工率.
    pub rework: f64,
    /// 100 at no overdue open case per km², 0 at the configured density.
    pub overdue_density: f64,
    /// 公众满意度: satisfied ÷ rated.
    pub satisfaction: f64,
    /// 第三方评价 (100 until reviews are made).
    pub review: f64,
    pub should_close: u64,
    pub closed: u64,
    pub handled_on_time: u64,
    pub reworked: u64,
    pub overdue_open: u64,
    pub rated: u64,
    pub satisfied: u64,
}

/// 城市管理指数 of every district for a period, ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexView {
    pub from: NaiveDate,
    /// The last day, included.
    pub to: NaiveDate,
    pub as_of: DateTime<Utc>,
    pub weights: CityIndexWeightsView,
    pub districts: Vec<CityIndexDistrictView>,
}

/// One district's index in a month of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexPointView {
    #[schema(value_type = crate::wire::RegionCode)]
    pub code: String,
    pub name: String,
    pub index: f64,
    pub rank: u32,
}

/// One month of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexMonthView {
    /// `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$", example = "2026-11")]
    pub month: String,
    pub from: NaiveDate,
    /// The month's last day.
    pub to: NaiveDate,
    /// False for the current month (counted so far).
    pub complete: bool,
    /// Ranked.
    pub districts: Vec<CityIndexPointView>,
}

/// 城市管理指数 of each of the last months, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CityIndexTrendView {
    pub as_of: DateTime<Utc>,
    pub months: Vec<CityIndexMonthView>,
}

fn district_view(
    name: &str,
    r: &cityops_domain::evaluation::CityIndexRow,
) -> CityIndexDistrictView {
    CityIndexDistrictView {
        code: r.district_code.clone(),
        name: name.to_string(),
        index: r.index,
        rank: r.rank,
        closure: r.closure,
        on_time: r.on_time,
        rework: r.rework,
        overdue_density: r.overdue_density,
        satisfaction: r.satisfaction,
        review: r.review,
        should_close: r.should_close,
        closed: r.closed,
        handled_on_time: r.handled_on_time,
        reworked: r.reworked,
        overdue_open: r.overdue_open,
        rated: r.rated,
        satisfied: r.satisfied,
    }
}

/// 城市管理指数: every district's index for a period (default: the current month so far) — a
/// weighted sum of closure, handling on time, rework, overdue cases per km², citizen
/// satisfaction and the third-party review — ranked. Districts outside the caller's region are
/// left out.
#[utoipa::path(
    get,
    path = "/api/v1/evaluation/city-index",
    tag = "evaluation",
    security(("bearer" = []), ("cookie" = [])),
    params(PeriodParams),
    responses(
        (status = 200, body = CityIndexView),
        (status = 400, description = "`invalid_query`: a malformed date", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: evaluations are for leaders, the command centre, departments and administrators", body = ErrorBody),
        (status = 422, description = "`invalid_value`: the period ends before it starts, or is longer than 367 days", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many expensive reads of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn city_index(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> ApiResult<axum::Json<CityIndexView>> {
    let period = p.period(&state)?;
    cityops_app::evaluation::require_evaluation(&user)?;
    let _permit = state.expensive_permit(&user)?;
    let rows = state.app.city_index(&user, period).await?;
    let w = &state.app.evaluation_settings().city_index;
    Ok(axum::Json(CityIndexView {
        from: period.from,
        to: period.last_day(),
        as_of: state.clock.now(),
        weights: CityIndexWeightsView {
            closure: w.closure,
            on_time: w.on_time,
            rework: w.rework,
            overdue_density: w.overdue_density,
            satisfaction: w.satisfaction,
            review: w.review,
        },
        districts: rows.iter().map(|(n, r)| district_view(n, r)).collect(),
    }))
}

fn month_view(period: Period, rows: &CityIndexRows, today: NaiveDate) -> CityIndexMonthView {
    CityIndexMonthView {
        month: period.from.format("%Y-%m").to_string(),
        from: period.from,
        to: period.last_day(),
        complete: period.to <= today,
        districts: rows
            .iter()
            .map(|(name, r)| CityIndexPointView {
                code: r.district_code.clone(),
                name: name.clone(),
                index: r.index,
                rank: r.rank,
            })
            .collect(),
    }
}

/// 城市管理指数 trend: every district's index in each of the last `months` calendar months
/// (the current month so far last). Months are computed once a minute at most per visibility
/// (the big screen re-reads it).
#[utoipa::path(
    get,
    path = "/api/v1/evaluation/city-index/trend",
    tag = "evaluation",
    security(("bearer" = []), ("cookie" = [])),
    params(TrendParams),
    responses(
        (status = 200, body = CityIndexTrendView),
        (status = 400, description = "`invalid_query`: `months` is not a whole number from 1 to 36", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: evaluations are for leaders, the command centre, departments and administrators", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many expensive reads of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn city_index_trend(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> ApiResult<axum::Json<CityIndexTrendView>> {
    let months = p.months.unwrap_or(12);
    if !(1..=MAX_TREND_MONTHS).contains(&months) {
        return Err(ApiError::invalid_query(format!(
            "months: a whole number from 1 to {MAX_TREND_MONTHS}, got {months}"
        )));
    }
    cityops_app::evaluation::require_evaluation(&user)?;
    let _permit = state.expensive_permit(&user)?;
    let trend = state.app.city_index_trend(&user, months).await?;
    let today = state.app.today();
    Ok(axum::Json(CityIndexTrendView {
        as_of: state.clock.now(),
        months: trend
            .iter()
            .map(|m| month_view(m.period, &m.rows, today))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_app::evaluation::MAX_PERIOD_DAYS;

    #[test]
    fn the_documented_limits_are_the_services() {
        // The parameters' descriptions and bounds say 367 days and 36 months.
        assert_eq!(MAX_PERIOD_DAYS, 367);
        assert_eq!(MAX_TREND_MONTHS, 36);
        assert_eq!(
            subject_of(Kind::Regions, "441302001"),
            Subject::Code("441302001".into())
        );
        assert_eq!(subject_of(Kind::Departments, "7"), Subject::Id(7));
    }
}
