//! 报表 (reports): the history of daily briefings (晨报), weekly (周报) and monthly (月报)
//! reports of the city and of each district, one report with what it says, its CSV and its XLSX,
//! and a leader's report on demand. The schedule produces them on its own
//! (`cityops_app::report::spawn`); who may read which is the service's and the store's business.
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use cityops_app::report::{Report, ReportContent};
use cityops_domain::report::ReportKind;
use cityops_store::{ReportFilter, ReportSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::export::{CSV_TYPE, XLSX_TYPE, file_response};
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::report_files;
use crate::state::AppState;
use crate::wire;

/// The report routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, produce_report))
        .routes(routes!(get_report))
        .routes(routes!(report_csv))
        .routes(routes!(report_xlsx))
}

fn kind_param(v: &str) -> Result<ReportKind, ApiError> {
    v.parse().map_err(|_| {
        ApiError::invalid_query(format!(
            "kind: expected daily, weekly or monthly, got {v:?}"
        ))
    })
}

/// Which reports the history lists.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportListParams {
    /// Only this kind.
    #[param(value_type = Option<crate::wire::ReportKindName>)]
    kind: Option<String>,
    /// Only the city's reports (`city`) or one district's (its 6-digit code).
    #[param(pattern = "^(city|[0-9]{6})$", example = "city")]
    scope: Option<String>,
}

/// A line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ReportLineView {
    pub id: i64,
    #[schema(value_type = crate::wire::ReportKindName)]
    pub kind: &'static str,
    /// 晨报 / 周报 / 月报.
    pub kind_name: &'static str,
    /// The first day covered (local).
    pub period_from: NaiveDate,
    /// The day after the last one covered.
    pub period_to: NaiveDate,
    /// The district covered; absent for the whole city.
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub region_code: Option<String>,
    pub produced_at: DateTime<Utc>,
    /// Who asked for it; absent when the schedule produced it.
    pub produced_by: Option<i64>,
    /// Its CSV and XLSX.
    pub csv_url: String,
    pub xlsx_url: String,
}

impl From<ReportSummary> for ReportLineView {
    fn from(s: ReportSummary) -> Self {
        Self {
            id: s.id,
            kind: s.key.kind.as_str(),
            kind_name: s.key.kind.name_zh(),
            period_from: s.key.period.from,
            period_to: s.key.period.to,
            region_code: s.key.region_code,
            produced_at: s.produced_at,
            produced_by: s.produced_by,
            csv_url: format!("/api/v1/reports/{}/csv", s.id),
            xlsx_url: format!("/api/v1/reports/{}/xlsx", s.id),
        }
    }
}

/// A page of the history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ReportList {
    pub items: Vec<ReportLineView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// A report with what it says.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ReportView {
    #[serde(flatten)]
    pub line: ReportLineView,
    /// `惠州市晨报 2026-11-02`.
    pub title: String,
    /// What it says, as kept when it was produced: `totals` and `previous` (the period before),
    /// `by_source`, `top_categories`, `top_streets`, `days`, `overdue_total` and `overdue`
    /// (as of `as_of`), `department_figures` and `departments` (the department evaluation).
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// `POST /api/v1/reports`: a report on demand.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProduceBody {
    #[schema(value_type = crate::wire::ReportKindName)]
    pub kind: String,
    /// A day of the period: the day itself, its ISO week (Monday to Sunday) or its month. The
    /// period must be over.
    #[schema(value_type = String, format = Date, example = "2026-11-02")]
    pub day: String,
    /// A district of the city within the caller's region; absent for the whole city.
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub region_code: Option<String>,
}

/// 报表历史: the reports the caller may read (the city's for a city-wide role, a district's for
/// its own), newest period first.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "reports",
    security(("bearer" = []), ("cookie" = [])),
    params(ReportListParams, PageParams),
    responses(
        (status = 200, body = ReportList),
        (status = 400, description = "`invalid_query`: an unknown kind, a malformed scope or page", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader, supervisor, dispatcher or administrator", body = ErrorBody),
    )
)]
pub(crate) async fn list_reports(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<ReportListParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ReportList>> {
    let page = pp.request()?;
    let kind = p.kind.as_deref().map(kind_param).transpose()?;
    let region_code = match p.scope.as_deref() {
        None => None,
        Some("city") => Some(None),
        Some(code) if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => {
            Some(Some(code.to_string()))
        }
        Some(other) => {
            return Err(ApiError::invalid_query(format!(
                "scope: expected city or a 6-digit district code, got {other:?}"
            )));
        }
    };
    let got = state
        .app
        .reports(
            &user,
            &ReportFilter {
                kind,
                region_code,
                period: None,
            },
            page,
        )
        .await?;
    Ok(axum::Json(ReportList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got.items.into_iter().map(ReportLineView::from).collect(),
    }))
}

/// 生成报表: a leader's (or an administrator's) report of a past day, week or month, of the
/// city or of a district in their region. 201 with the new report; 200 with the kept one when
/// it exists already (a report is never produced twice).
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "reports",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ProduceBody,
    responses(
        (status = 200, description = "Kept already: that report", body = ReportLineView),
        (status = 201, description = "Produced now", body = ReportLineView),
        (status = 400, description = "`bad_request`: a malformed body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader or administrator, or a district outside the caller's region", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body that is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an unknown kind or field, a malformed day, a period not over yet, or a region that is not a district of the city", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many expensive requests of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn produce_report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ProduceBody>,
) -> ApiResult<(StatusCode, axum::Json<ReportLineView>)> {
    let kind: ReportKind = body.kind.parse().map_err(|_| {
        ApiError::invalid_value(format!(
            "kind: expected daily, weekly or monthly, got {:?}",
            body.kind
        ))
    })?;
    let day = wire::parse_date(&body.day).ok_or_else(|| {
        ApiError::invalid_value(format!("day: expected YYYY-MM-DD, got {:?}", body.day))
    })?;
    // Producing computes the period's evaluation: one of the user's expensive requests.
    let _permit = state.expensive_permit(&user)?;
    let (summary, new) = state
        .app
        .produce_report(&user, kind, day, body.region_code)
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(summary.into())))
}

async fn report_of(state: &AppState, user: &cityops_domain::User, id: i64) -> ApiResult<Report> {
    Ok(state.app.report_by_id(user, id).await?)
}

/// 报表: one report with what it says.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, body = ReportView),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader, supervisor, dispatcher or administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such report in the caller's region", body = ErrorBody),
    )
)]
pub(crate) async fn get_report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ReportView>> {
    let r = report_of(&state, &user, id).await?;
    let content = serde_json::to_value(&r.content).map_err(ApiError::internal)?;
    Ok(axum::Json(ReportView {
        title: r.content.title(),
        line: r.summary.into(),
        content,
    }))
}

/// The report's tables as CSV (UTF-8 with a byte order mark).
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/csv",
    tag = "reports",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report as CSV", content_type = "text/csv", body = String),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader, supervisor, dispatcher or administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such report in the caller's region", body = ErrorBody),
    )
)]
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let r = report_of(&state, &user, id).await?;
    let zone = state.app.calendar().config().tz;
    let bytes = report_files::csv_bytes(&r.content, &zone).map_err(ApiError::internal)?;
    Ok(file_response(
        CSV_TYPE,
        &report_files::file_name(&r.content, "csv"),
        Body::from(bytes),
    ))
}

/// The report as an XLSX workbook, one sheet per table.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/xlsx",
    tag = "reports",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report as XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a leader, supervisor, dispatcher or administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such report in the caller's region", body = ErrorBody),
    )
)]
pub(crate) async fn report_xlsx(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let r = report_of(&state, &user, id).await?;
    let content: ReportContent = r.content;
    let name = report_files::file_name(&content, "xlsx");
    let zone = state.app.calendar().config().tz;
    let bytes = tokio::task::spawn_blocking(move || report_files::xlsx_bytes(&content, &zone))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(file_response(XLSX_TYPE, &name, Body::from(bytes)))
}
