//! Cases (案件): report, list, detail, actions, events and counts. Every read goes through the
//! caller's [`CaseVisibility`] inside the store query: a case outside the scope is 404 here, absent
//! from lists and not counted.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cityops_app::{Catalogue, StoredCase};
use cityops_domain::User;
use cityops_domain::calendar::Light;
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseSource, CaseStatus, CaseVisibility,
};
use cityops_domain::privacy::ContactDisclosure;
use cityops_store::{CaseQuery, CaseSort, ContactAccess, ContactAccessVia};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::{
    ActionBody, CaseEventList, CaseEventView, CaseList, CaseLocationView, CaseStatsView, CaseView,
    NewCaseRequest, PendingView, TimeLimitView, action_names,
};

/// The case routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_case, list_cases))
        .routes(routes!(case_stats))
        .routes(routes!(export_cases_csv))
        .routes(routes!(export_cases_xlsx))
        .routes(routes!(get_case))
        .routes(routes!(case_action))
        .routes(routes!(case_events))
}

/// 上报: reports a case. The source follows the role: inspectors report as `inspector`,
/// citizens as `citizen`, intake operators as `hotline` (or declare `video_ai`/`iot`), leaders
/// as `leader`; other roles get 403. The point is located (422 `outside_city` outside every
/// district), the category checked (optional for citizens), the photos checked, a nearby open
/// case of the same category flagged as `duplicate_of`, and the department suggested by the
/// responsibility matrix. Inspector reports of configured categories are filed directly.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    request_body = NewCaseRequest,
    responses(
        (status = 201, body = CaseView),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the role may not report (as this source)", body = ErrorBody),
        (status = 422, description = "`outside_city`, `invalid_value` (category, photos, point) or `too_long` (a text over its `maxLength`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many reports from this account (or, for citizens, this address); see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next report is taken"))),
    )
)]
pub(crate) async fn report_case(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<NewCaseRequest>,
) -> ApiResult<(StatusCode, axum::Json<CaseView>)> {
    req.check().map_err(ApiError::invalid_value)?;
    let mut req: cityops_app::ReportRequest = req.into();
    // Without a peer address (an in-process call) there is no address to count.
    req.client_address = Some(ip).filter(|ip| ip != "unknown");
    let stored = state.app.report(&user, req).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(stored_view(&state, &user, stored).await?),
    ))
}

/// Filters of the case list and counts. Every given filter must be well formed (400
/// `invalid_query` otherwise); an empty value is not a filter but an error.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CaseFilter {
    /// Statuses, comma-separated, e.g. `dispatched,handling`.
    #[param(value_type = Option<crate::wire::CaseStatusList>)]
    status: Option<String>,
    /// The current stage's light now: `green`, `yellow` or `red`.
    #[param(value_type = Option<crate::wire::LightName>)]
    light: Option<Light>,
    /// `inspector`, `citizen`, `hotline`, `video_ai`, `iot` or `leader`.
    #[param(value_type = Option<crate::wire::CaseSourceName>)]
    source: Option<CaseSource>,
    /// A 5-digit category or a 2-digit class code.
    #[param(value_type = Option<crate::wire::CategoryOrClassCode>)]
    category: Option<String>,
    /// District code (6 digits).
    #[param(pattern = "^[0-9]{6}$", example = "441302")]
    district: Option<String>,
    /// Street code (9 digits).
    #[param(pattern = "^[0-9]{9}$", example = "441302001")]
    street: Option<String>,
    /// Community code (12 digits).
    #[param(pattern = "^[0-9]{12}$", example = "441302001001")]
    community: Option<String>,
    /// Unit grid code (15 digits).
    #[param(value_type = Option<crate::wire::GridCode>)]
    grid: Option<String>,
    /// The current department.
    department_id: Option<i64>,
    /// Reported at or after: a date (local, Asia/Shanghai) or an RFC 3339 instant.
    #[param(value_type = Option<crate::wire::DateOrInstant>)]
    from: Option<String>,
    /// Reported before: a date (that whole local day included) or an RFC 3339 instant.
    #[param(value_type = Option<crate::wire::DateOrInstant>)]
    to: Option<String>,
    /// Two opposite corners of a box, `minLng,minLat,maxLng,maxLat` (WGS84).
    #[param(value_type = Option<crate::wire::BoundingBox>)]
    bbox: Option<String>,
    /// Code, description or address contains (a literal substring; Latin letters match either
    /// case). At most 200 characters.
    q: Option<String>,
    overdue: Option<bool>,
    supervised: Option<bool>,
    /// `created_desc` (default), `created_asc`, `due_asc` or `updated_desc`.
    #[param(value_type = Option<crate::wire::CaseSortName>)]
    sort: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date (local midnight in the calendar's zone; `end` = the next midnight) or an RFC 3339
/// instant.
pub(crate) fn instant(
    state: &AppState,
    name: &str,
    v: &str,
    end: bool,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || {
        ApiError::invalid_query(format!(
            "{name}: expected a date (YYYY-MM-DD) or an RFC 3339 instant, got {v:?}"
        ))
    };
    if !(v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-') {
        return Err(bad());
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad())?;
    let date = if end {
        date.succ_opt()
            .ok_or_else(|| ApiError::invalid_query(format!("{name}: date out of range")))?
    } else {
        date
    };
    let tz = state.calendar().config().tz;
    tz.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::invalid_query(format!("{name}: no such local time")))
}

fn region_filter(f: &CaseFilter) -> Result<Option<String>, ApiError> {
    let mut found = None;
    for (name, v, len) in [
        ("grid", &f.grid, 15),
        ("community", &f.community, 12),
        ("street", &f.street, 9),
        ("district", &f.district, 6),
    ] {
        if let Some(code) = v {
            if code.len() != len || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::invalid_query(format!(
                    "{name}: expected {len} digits, got {code:?}"
                )));
            }
            // The finest given region filters (each is checked).
            found = found.or_else(|| Some(code.clone()));
        }
    }
    Ok(found)
}

impl CaseFilter {
    fn query(&self, state: &AppState) -> Result<CaseQuery, ApiError> {
        let mut q = CaseQuery::new(state.clock.now());
        if let Some(list) = &self.status {
            for s in list.split(',') {
                let status = s
                    .parse::<CaseStatus>()
                    .map_err(|e| ApiError::invalid_query(format!("status: {e}")))?;
                if !q.statuses.contains(&status) {
                    q.statuses.push(status);
                }
            }
        }
        q.light = self.light;
        q.source = self.source;
        if let Some(c) = &self.category {
            if !crate::wire::is_category_or_class(c) {
                return Err(ApiError::invalid_query(format!(
                    "category: expected a 5-digit category or 2-digit class code, got {c:?}"
                )));
            }
            q.category = Some(c.clone());
        }
        q.region_code = region_filter(self)?;
        q.department_id = self.department_id;
        q.from = self
            .from
            .as_deref()
            .map(|v| instant(state, "from", v, false))
            .transpose()?;
        q.to = self
            .to
            .as_deref()
            .map(|v| instant(state, "to", v, true))
            .transpose()?;
        q.bbox = self
            .bbox
            .as_deref()
            .map(super::components::parse_bbox)
            .transpose()?;
        if let Some(text) = &self.q {
            cityops_domain::limits::SEARCH_QUERY
                .check(text)
                .map_err(|e| ApiError::invalid_query(e.to_string()))?;
        }
        q.text = non_empty(&self.q).map(str::to_string);
        q.overdue = self.overdue;
        q.supervised = self.supervised;
        q.sort = match self.sort.as_deref() {
            None | Some("created_desc") => CaseSort::CreatedDesc,
            Some("created_asc") => CaseSort::CreatedAsc,
            Some("due_asc") => CaseSort::DueAsc,
            Some("updated_desc") => CaseSort::UpdatedDesc,
            Some(other) => {
                return Err(ApiError::invalid_query(format!(
                    "sort: expected created_desc, created_asc, due_asc or updated_desc, got {other:?}"
                )));
            }
        };
        Ok(q)
    }
}

/// 案件列表: the cases within the caller's scope matching all given filters, paged.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(CaseFilter, PageParams),
    responses(
        (status = 200, body = CaseList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many text searches (`q`) of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn list_cases(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(f): ApiQuery<CaseFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<CaseList>> {
    let page = pp.request()?;
    let query = f.query(&state)?;
    // A text search is expensive: a few at a time per user.
    let _permit = match query.text {
        Some(_) => Some(state.expensive_permit(&user)?),
        None => None,
    };
    let got = state
        .store
        .list_cases(&query, &CaseVisibility::for_user(&user), page)
        .await?;
    log_contacts(&state, &user, &got.items, ContactAccessVia::List).await?;
    let cat = state.app.catalogue().await?;
    Ok(axum::Json(CaseList::from_page(got, |c| {
        build_view(&state, &user, &cat, &c, None)
    })))
}

/// 案件统计: counts by status within the caller's scope (and the list's filters).
#[utoipa::path(
    get,
    path = "/api/v1/cases/stats",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(CaseFilter),
    responses(
        (status = 200, body = CaseStatsView),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many counts and searches of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn case_stats(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(f): ApiQuery<CaseFilter>,
) -> ApiResult<axum::Json<CaseStatsView>> {
    let query = f.query(&state)?;
    let _permit = state.expensive_permit(&user)?;
    let counts = state
        .store
        .count_cases(&query, &CaseVisibility::for_user(&user))
        .await?;
    Ok(axum::Json(counts.into()))
}

/// 案件导出 (CSV): every case of the list's filters and sort (no paging) within the caller's
/// scope, one row per case with its stage times, deadlines, in-time flags, who took each step,
/// counts and the reporter's contact (masked by the privacy rules; a full view is written to
/// the contact access log). UTF-8 with a byte order mark, RFC 4180, a header row of stable
/// English keys; streamed. The columns are described in `docs/EXPORT.md`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/export.csv",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(CaseFilter),
    responses(
        (status = 200, description = "The cases as CSV (`attachment; filename=\"cases-YYYYMMDD-HHMMSS.csv\"`)", body = String, content_type = "text/csv",
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many exports, counts and searches of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn export_cases_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(f): ApiQuery<CaseFilter>,
) -> ApiResult<axum::response::Response> {
    let query = f.query(&state)?;
    crate::export::csv_response(&state, &user, query).await
}

/// 案件导出 (Excel): the same cases and columns as the CSV export as an XLSX workbook — a
/// header row in Chinese and one in English (frozen), times as Excel date-times in the working
/// calendar's zone. At most 200,000 cases: a larger export is refused with 422
/// `export_too_large` before anything is read; narrow the filters (or export CSV).
#[utoipa::path(
    get,
    path = "/api/v1/cases/export.xlsx",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(CaseFilter),
    responses(
        (status = 200, description = "The cases as an XLSX workbook (`attachment; filename=\"cases-YYYYMMDD-HHMMSS.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 200,000 cases match; narrow the filters", body = ErrorBody),
        (status = 429, description = "`too_many_concurrent`: too many exports, counts and searches of this user at once", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1)"))),
    )
)]
pub(crate) async fn export_cases_xlsx(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(f): ApiQuery<CaseFilter>,
) -> ApiResult<axum::response::Response> {
    let query = f.query(&state)?;
    crate::export::xlsx_response(&state, &user, query).await
}

/// 案件详情: one case with its photos and the actions the caller may take now. 404 when it does
/// not exist or lies outside the caller's scope.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, body = CaseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
    )
)]
pub(crate) async fn get_case(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = state.app.visible_case(&user, id).await?;
    log_contacts(
        &state,
        &user,
        std::slice::from_ref(&case),
        ContactAccessVia::Case,
    )
    .await?;
    let attachments = state.app.attachment_ids(case.id).await?;
    Ok(axum::Json(
        stored_view(&state, &user, StoredCase { case, attachments }).await?,
    ))
}

/// The optional JSON body of an action: no body (any or no content type) or `null` means no
/// fields; anything else must be JSON (415 otherwise) of the documented shape (400 malformed,
/// 422 wrong fields or values).
fn action_input(headers: &HeaderMap, body: &Bytes) -> Result<(ActionInput, Vec<String>), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((ActionInput::default(), Vec::new()));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::of(crate::error::ErrorCode::UnsupportedMediaType));
    }
    let parsed: Option<ActionBody> =
        serde_json::from_slice(body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::invalid_value(e.to_string()),
            _ => ApiError::bad_request(format!("malformed JSON: {e}")),
        })?;
    let parsed = parsed.unwrap_or_default();
    parsed.check().map_err(ApiError::invalid_value)?;
    Ok(parsed.into_input())
}

/// 案件操作: takes an action — `send_verify`, `verify`, `file`, `reject`, `dispatch`, `return`,
/// `sign`, `handle`, `request_postpone`, `approve_postpone`, `deny_postpone`, `request_suspend`,
/// `approve_suspend`, `resume`, `send_check`, `check_pass`, `check_fail`, `close`, `cancel`,
/// `supervise`, `merge`, `rate` — with the fields it needs (the body may be empty). Answers the
/// case after the action. 409 `invalid_transition` (with `allowed_actions`) when the case's
/// state does not allow it; 403 when the caller's role or relation to the case does not; 404
/// for an unknown action or a case outside the scope; 409 `conflict` when the case changed
/// meanwhile.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions/{action}",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("id" = i64, Path, description = "Case id"),
        ("action" = crate::wire::CaseActionName, Path, description = "The action, e.g. `dispatch`; any other is not found"),
    ),
    request_body(content = Option<ActionBody>, description = "Fields of the action. Optional: no body (with any or no content type) or `null` means no fields."),
    responses(
        (status = 200, body = CaseView),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the role or relation to the case may not take this action", body = ErrorBody),
        (status = 404, description = "`not_found`: unknown action, or no such case in the caller's scope", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (with `allowed_actions`) or `conflict`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body that is not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a missing or invalid field", body = ErrorBody),
    )
)]
pub(crate) async fn case_action(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath((id, action)): ApiPath<(i64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<CaseView>> {
    let action: CaseAction = action.parse().map_err(|_| {
        ApiError::not_found(format!(
            "Unknown action {action:?}; the actions are: {}.",
            action_names().join(", ")
        ))
    })?;
    let (input, photos) = action_input(&headers, &body)?;
    let stored = state.app.act(&user, id, action, input, &photos).await?;
    log_contacts(
        &state,
        &user,
        std::slice::from_ref(&stored.case),
        ContactAccessVia::Action,
    )
    .await?;
    Ok(axum::Json(stored_view(&state, &user, stored).await?))
}

/// 流转记录: the events of a visible case in chain order, with their hashes.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/events",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Case id"), PageParams),
    responses(
        (status = 200, body = CaseEventList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
    )
)]
pub(crate) async fn case_events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<CaseEventList>> {
    let page = pp.request()?;
    let events = state
        .store
        .case_events(id, &CaseVisibility::for_user(&user))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No case {id}.")))?;
    let total = events.len() as u64;
    let photos = if events.iter().any(|e| !e.event.attachments.is_empty()) {
        state.app.attachment_public_ids(id).await?
    } else {
        Default::default()
    };
    let items = events
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(page.page_size as usize)
        .map(|e| CaseEventView::new(e, &photos))
        .collect();
    Ok(axum::Json(CaseEventList {
        items,
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}

/// Writes every full view of a reporter's contact among `cases` to the access log, in one
/// statement, before the answer shows them (no answer shows a contact the log does not hold).
pub(crate) async fn log_contacts(
    state: &AppState,
    user: &User,
    cases: &[Case],
    via: ContactAccessVia,
) -> ApiResult<()> {
    let at = state.clock.now();
    let entries: Vec<ContactAccess> = cases
        .iter()
        .filter(|c| {
            c.contact.is_some() && ContactDisclosure::for_user(user, c.reporter_id).logged()
        })
        .map(|c| ContactAccess {
            at,
            user_id: user.id,
            case_id: c.id,
            via,
        })
        .collect();
    if !entries.is_empty() {
        state.store.log_contact_access(&entries).await?;
    }
    Ok(())
}

/// The view of a case the service stored or read, with its photos' public ids.
async fn stored_view(state: &AppState, user: &User, stored: StoredCase) -> ApiResult<CaseView> {
    let cat = state.app.catalogue().await?;
    Ok(build_view(
        state,
        user,
        &cat,
        &stored.case,
        Some(stored.attachments),
    ))
}

/// Builds the view of a case for `user` (names from memory; light and allowed actions at now).
pub(crate) fn build_view(
    state: &AppState,
    user: &User,
    cat: &Catalogue,
    case: &Case,
    attachments: Option<Vec<String>>,
) -> CaseView {
    let now = state.clock.now();
    let calendar = state.app.calendar();
    let actor = Actor::user(user);
    let region = |c: &Option<String>| {
        c.as_deref()
            .and_then(|c| state.region_name(c))
            .map(str::to_string)
    };
    let dept = |d: Option<i64>| d.and_then(|d| cat.department(d)).map(|d| d.name.clone());
    let loc = &case.location;
    let clock = case.clock.as_ref();
    CaseView {
        id: case.id,
        code: case.code.clone(),
        status: case.status.as_str().into(),
        status_name: case.status.name_zh().into(),
        source: case.source.as_str().into(),
        source_name: case.source.name_zh().into(),
        category_kind: case.category_kind.map(|k| k.as_str().into()),
        category_code: case.category_code.clone(),
        category_name: case
            .category_kind
            .zip(case.category_code.as_deref())
            .and_then(|(k, c)| cat.category(k, c))
            .map(|c| c.name.clone()),
        filing_seq: case.filing_seq,
        urgency: case.urgency.as_str().into(),
        description: case.description.clone(),
        location: CaseLocationView {
            lng: loc.lng,
            lat: loc.lat,
            grid_name: region(&loc.grid_code),
            grid_code: loc.grid_code.clone(),
            community_name: region(&loc.community_code),
            community_code: loc.community_code.clone(),
            street_name: region(&loc.street_code),
            street_code: loc.street_code.clone(),
            district_name: region(&loc.district_code),
            district_code: loc.district_code.clone(),
            address: loc.address.clone(),
        },
        component_id: case.component_id.clone(),
        reporter_id: case.reporter_id,
        contact: case
            .contact
            .as_deref()
            .map(|c| ContactDisclosure::for_user(user, case.reporter_id).show(c)),
        assignee_id: case.assignee_id,
        department_id: case.department_id,
        department_name: dept(case.department_id),
        suggested_department_id: case.suggested_department_id,
        suggested_department_name: dept(case.suggested_department_id),
        handle_limit: case.handle_limit.map(TimeLimitView::from),
        deadline: case.deadline,
        light: case::current_light(case, now, &calendar).as_str().into(),
        stage: clock.map(|k| k.stage.as_str().into()),
        stage_started_at: clock.map(|k| k.started_at),
        stage_due: clock.and_then(|k| k.due),
        stage_unscheduled: clock.is_some_and(|k| k.unscheduled),
        overdue: case.overdue,
        supervised: case.supervised,
        postpone_count: case.postpone_count,
        rework_count: case.rework_count,
        return_count: case.return_count,
        pending: case.pending.as_ref().map(PendingView::from),
        suspended_until: case.suspended_until,
        verified: case.verified,
        check_passed: case.check_passed,
        duplicate_of: case.duplicate_of,
        merged_into: case.merged_into,
        rating: case.rating,
        close_kind: case.close_kind.map(|k| k.as_str().into()),
        created_at: case.created_at,
        updated_at: case.updated_at,
        closed_at: case.closed_at,
        version: case.version,
        allowed_actions: case::allowed_actions(case, &actor, now, &state.app.config().workflow)
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        attachments,
    }
}
