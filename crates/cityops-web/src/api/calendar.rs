//! The working calendar (工作日历) admin: the timing scheme and holiday schedule in force, adding a
//! year's schedule (法定节假日 and 调休 make-up working days) as it is published, and a deadline
//! check (时限试算) so an administrator can see what the new schedule does.
//!
//! CSV format of `PUT /api/v1/calendar/days` (`Content-Type: text/csv`): header `date,kind,name`,
//! then `YYYY-MM-DD,holiday|workday,name` (the format of `data/calendar/cn_public_holidays.csv`).
//! Years lie in 2000–2100 and names are plain text of at most 50 characters (no control
//! characters, no markup); anything else is 422 and writes nothing.
//!
//! Reversible: every change is kept as a version (who, when, a summary, the whole schedule),
//! listed by `GET /api/v1/calendar/versions` and restored by
//! `POST /api/v1/calendar/versions/{id}/restore` (itself a new version); every process reloads
//! the calendar after a change or a restore (the store's cache versions).
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use cityops_domain::calendar::{CalendarDay, DayKind, parse_calendar_csv, validate_day};
use cityops_domain::{LimitUnit, Role, TimeLimit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::routing::{
    ConfigVersionList, ConfigVersionView, RestoreResponse, body_rejection, content_type, parse_json,
};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;

/// Largest limit value the deadline check accepts.
const MAX_LIMIT_VALUE: u32 = 100_000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_calendar))
        .routes(routes!(put_days))
        .routes(routes!(deadline))
        .routes(routes!(list_calendar_versions))
        .routes(routes!(get_calendar_version))
        .routes(routes!(restore_calendar_version))
}

/// One entry of the holiday schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarDayView {
    #[schema(value_type = String, format = Date, example = "2027-10-01")]
    pub date: NaiveDate,
    /// `holiday` (法定节假日: no work, even on a weekday) or `workday` (调休上班: a make-up
    /// working day, even on a weekend).
    #[schema(value_type = crate::wire::DayKindName)]
    pub kind: String,
    #[schema(example = "国庆节")]
    pub name: String,
}

impl From<&CalendarDay> for CalendarDayView {
    fn from(d: &CalendarDay) -> Self {
        Self {
            date: d.date,
            kind: d.kind.as_str().to_string(),
            name: d.name.clone(),
        }
    }
}

/// A working period of a working day, local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct PeriodView {
    #[schema(example = "08:00")]
    pub start: String,
    #[schema(example = "12:00")]
    pub end: String,
}

/// The working calendar in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct CalendarView {
    /// Years the holiday schedule covers; deadlines counted in other years are flagged
    /// `unscheduled`.
    pub years: Vec<i32>,
    pub days: Vec<CalendarDayView>,
    /// 作息时间: the working periods of a working day.
    pub hours: Vec<PeriodView>,
    #[schema(example = "Asia/Shanghai")]
    pub tz: String,
    /// Share of a limit after which the light turns yellow.
    #[schema(example = 0.8)]
    pub yellow_ratio: f64,
    /// Working seconds of one 工作日 (28 800 = 8 h by default).
    pub working_seconds_per_day: i64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CalendarFilter {
    /// Only the schedule entries of this year.
    #[param(example = 2026)]
    year: Option<i32>,
}

/// 工作日历: time zone, working hours, yellow ratio and the holiday schedule. Requires login.
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    params(CalendarFilter),
    responses(
        (status = 200, body = CalendarView),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn get_calendar(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(f): ApiQuery<CalendarFilter>,
) -> ApiResult<axum::Json<CalendarView>> {
    use chrono::Datelike;
    let cal = state.calendar();
    let config = cal.config();
    Ok(axum::Json(CalendarView {
        years: cal.years(),
        days: cal
            .days()
            .iter()
            .filter(|d| f.year.is_none_or(|y| d.date.year() == y))
            .map(CalendarDayView::from)
            .collect(),
        hours: config
            .hours
            .periods
            .iter()
            .map(|(s, e)| PeriodView {
                start: s.format("%H:%M").to_string(),
                end: e.format("%H:%M").to_string(),
            })
            .collect(),
        tz: config.tz.name().to_string(),
        yellow_ratio: config.yellow_ratio,
        working_seconds_per_day: cal.working_seconds_per_day(),
    }))
}

/// `{"days": [...]}`: schedule entries to add or replace (by date).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutDaysRequest {
    pub days: Vec<CalendarDayView>,
}

/// What the upload changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct PutDaysResponse {
    /// Entries written (added or replaced).
    pub written: u64,
    /// Years the schedule covers now.
    pub years: Vec<i32>,
}

/// Checks the JSON entries; errors name `days[i]`.
fn days_from_json(req: PutDaysRequest) -> Result<Vec<CalendarDay>, String> {
    let mut out: Vec<CalendarDay> = Vec::with_capacity(req.days.len());
    let mut errors = Vec::new();
    let mut first: std::collections::HashMap<NaiveDate, usize> = Default::default();
    for (i, d) in req.days.into_iter().enumerate() {
        let Ok(kind) = d.kind.trim().parse::<DayKind>() else {
            errors.push(format!(
                "days[{i}]: unknown kind {:?}: expected holiday or workday",
                d.kind
            ));
            continue;
        };
        if let Some(j) = first.insert(d.date, i) {
            errors.push(format!(
                "days[{i}]: date {} is already given at days[{j}]",
                d.date
            ));
            continue;
        }
        let day = CalendarDay {
            date: d.date,
            kind,
            name: d.name.trim().to_string(),
        };
        if let Err(e) = validate_day(&day) {
            errors.push(format!("days[{i}]: {e}"));
            continue;
        }
        out.push(day);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("; "))
    }
}

/// 维护节假日: adds or replaces holiday-schedule entries by date, from CSV (`Content-Type:
/// text/csv`, header `date,kind,name`) or JSON (`{"days": [...]}`), in one transaction; the
/// calendar takes effect at once. Administrators only.
///
/// A bad line writes nothing; the 422 message names it (`calendar line 3: …`).
#[utoipa::path(
    put,
    path = "/api/v1/calendar/days",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    request_body(content(
        (PutDaysRequest = "application/json"),
        (String = "text/csv", example = "date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-09,workday,国庆节调休\n"),
    )),
    responses(
        (status = 200, body = PutDaysResponse),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor CSV", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a bad line or entry (named): a year outside 2000–2100, a name that is not plain text (at most 50 characters), a date given twice", body = ErrorBody),
    )
)]
pub(crate) async fn put_days(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<PutDaysResponse>> {
    user.require(Role::Admin)?;
    let body = body.map_err(body_rejection)?;
    let (days, from) = match content_type(&headers).as_str() {
        "text/csv" => {
            let text = std::str::from_utf8(&body)
                .map_err(|e| ApiError::invalid_value(format!("The CSV is not UTF-8: {e}")))?;
            (
                parse_calendar_csv(text).map_err(|e| ApiError::invalid_value(e.to_string()))?,
                "CSV",
            )
        }
        "application/json" => (
            days_from_json(parse_json::<PutDaysRequest>(&body)?)
                .map_err(ApiError::invalid_value)?,
            "JSON",
        ),
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("Expected `application/json` or `text/csv`, not {other:?}."),
            ));
        }
    };
    if days.is_empty() {
        return Err(ApiError::invalid_value("No calendar days given."));
    }
    let years: std::collections::BTreeSet<i32> = {
        use chrono::Datelike;
        days.iter().map(|d| d.date.year()).collect()
    };
    let years: Vec<String> = years.iter().map(ToString::to_string).collect();
    let summary = format!("{} days from {from} ({})", days.len(), years.join(", "));
    let written = state
        .app
        .put_calendar_days(&user.0, &days, &summary)
        .await?;
    Ok(axum::Json(PutDaysResponse {
        written,
        years: state.calendar().years(),
    }))
}

/// A kept version of the holiday schedule with its days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct CalendarVersionView {
    pub version: ConfigVersionView,
    /// The whole schedule as it was, by date.
    pub days: Vec<CalendarDayView>,
}

/// 工作日历版本: the kept versions of the holiday schedule (who, when, what), newest first.
/// Administrators only.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/versions",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = ConfigVersionList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    )
)]
pub(crate) async fn list_calendar_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ConfigVersionList>> {
    user.require(Role::Admin)?;
    let page = pp.request()?;
    Ok(axum::Json(
        state.store.calendar_versions(page).await?.into(),
    ))
}

/// 工作日历版本详情: one kept version with the whole holiday schedule as it was. Administrators
/// only.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/versions/{id}",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Version id")),
    responses(
        (status = 200, body = CalendarVersionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such calendar version", body = ErrorBody),
    )
)]
pub(crate) async fn get_calendar_version(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<CalendarVersionView>> {
    user.require(Role::Admin)?;
    let (version, days) = state
        .store
        .calendar_version(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No calendar version {id}.")))?;
    Ok(axum::Json(CalendarVersionView {
        version: version.into(),
        days: days.iter().map(CalendarDayView::from).collect(),
    }))
}

/// 恢复工作日历: makes a kept version the whole holiday schedule again (days added since are
/// removed), at once in every process; the restore is kept as a new version. Administrators only.
#[utoipa::path(
    post,
    path = "/api/v1/calendar/versions/{id}/restore",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Version id")),
    responses(
        (status = 200, body = RestoreResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such calendar version", body = ErrorBody),
        (status = 422, description = "`invalid_value`: the version holds a day the calendar no longer accepts (kept from before the limits on years and names)", body = ErrorBody),
    )
)]
pub(crate) async fn restore_calendar_version(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<RestoreResponse>> {
    user.require(Role::Admin)?;
    let version = state.app.restore_calendar_version(&user.0, id).await?;
    Ok(axum::Json(RestoreResponse {
        version: version.into(),
    }))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeadlineParams {
    /// When the limit starts (RFC 3339; encode `+` as `%2B`).
    #[param(value_type = String, format = DateTime, example = "2027-09-30T10:00:00+08:00")]
    start: String,
    /// The limit's value, 0–100000.
    #[param(minimum = 0, maximum = 100_000, example = 3)]
    value: u32,
    /// `work_hour` (工作时), `work_day` (工作日), `urgent_hour` (紧急工作时) or `natural_day` (自然日).
    #[param(value_type = crate::wire::LimitUnitName)]
    unit: LimitUnit,
}

/// The due instant of a limit on the calendar in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct DeadlineView {
    pub start: DateTime<Utc>,
    pub value: u32,
    #[schema(value_type = crate::wire::LimitUnitName)]
    pub unit: String,
    /// 截止时间 (UTC).
    pub due: DateTime<Utc>,
    /// The same instant in the calendar's time zone.
    #[schema(value_type = String, example = "2027-10-11T10:00:00+08:00")]
    pub due_local: DateTime<FixedOffset>,
    /// True when working time was counted through a year without a holiday schedule: the
    /// deadline may be wrong until that year's schedule is added.
    pub unscheduled: bool,
}

/// RFC 3339, also when a `+` of the offset arrived as a space (an unencoded query string).
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc3339(&s.replace(' ', "+")))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// 时限试算: when a limit started at `start` runs out on the working calendar in force, and
/// whether the count crossed a year without a holiday schedule. Requires login.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/deadline",
    tag = "calendar",
    security(("bearer" = []), ("cookie" = [])),
    params(DeadlineParams),
    responses(
        (status = 200, body = DeadlineView),
        (status = 400, description = "`invalid_query`: missing or malformed start, value or unit", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn deadline(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(p): ApiQuery<DeadlineParams>,
) -> ApiResult<axum::Json<DeadlineView>> {
    let start = parse_instant(&p.start).ok_or_else(|| {
        ApiError::invalid_query(format!(
            "start {:?} is not an RFC 3339 instant such as 2027-09-30T10:00:00+08:00",
            p.start
        ))
    })?;
    let unit = p.unit;
    if p.value > MAX_LIMIT_VALUE {
        return Err(ApiError::invalid_query(format!(
            "value must be at most {MAX_LIMIT_VALUE}"
        )));
    }
    let cal = state.calendar();
    let d = cal.deadline(
        start,
        TimeLimit {
            value: p.value,
            unit,
        },
    );
    Ok(axum::Json(DeadlineView {
        start,
        value: p.value,
        unit: unit.as_str().to_string(),
        due: d.due,
        due_local: d.due.with_timezone(&cal.config().tz).fixed_offset(),
        unscheduled: d.unscheduled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_with_or_without_an_encoded_plus() {
        let want = chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 9, 30, 2, 0, 0).unwrap();
        assert_eq!(parse_instant("2027-09-30T10:00:00+08:00"), Some(want));
        assert_eq!(parse_instant("2027-09-30T10:00:00 08:00"), Some(want));
        assert_eq!(parse_instant("2027-09-30T02:00:00Z"), Some(want));
        assert_eq!(parse_instant("2027-09-30"), None);
    }

    #[test]
    fn json_days_are_checked_by_index() {
        let req: PutDaysRequest = serde_json::from_value(serde_json::json!({"days": [
            {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"},
            {"date": "2027-10-09", "kind": "workday", "name": " 国庆节调休 "},
        ]}))
        .unwrap();
        let days = days_from_json(req).unwrap();
        assert_eq!(days[1].kind, DayKind::Workday);
        assert_eq!(days[1].name, "国庆节调休");

        let req: PutDaysRequest = serde_json::from_value(serde_json::json!({"days": [
            {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"},
            {"date": "2027-10-02", "kind": "rest", "name": "?"},
            {"date": "2027-10-01", "kind": "workday", "name": "again"},
        ]}))
        .unwrap();
        let e = days_from_json(req).unwrap_err();
        assert!(e.contains("days[1]: unknown kind \"rest\""), "{e}");
        assert!(
            e.contains("days[2]: date 2027-10-01 is already given at days[0]"),
            "{e}"
        );
    }
}
