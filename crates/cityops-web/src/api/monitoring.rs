//! 运行监测 (operation monitoring): telemetry batches in (`POST /api/v1/telemetry`, device
//! gateways), the device registry (list, one device, its chart, CSV import), alarms (list, one,
//! acknowledge) and the alarm rules (list, create, replace). Who sees which device and alarm is
//! the monitoring service's business (`cityops_app::monitoring::monitoring_scope`), applied in
//! the store's query.
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use cityops_app::monitoring::{DeviceEntry, Registry, Series};
use cityops_domain::Role;
use cityops_domain::monitoring::{
    Alarm, AlarmStatus, Device, DeviceType, Metric, Rule, RuleKind, parse_devices_csv,
};
use cityops_ingest::IngestError;
use cityops_ingest::payload::{Batch, BatchReading, MAX_READINGS, parse_batch};
use cityops_store::{AlarmFilter, DeviceFilter, StoredDevice};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::routing::{body_rejection, content_type};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;

/// The monitoring routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_telemetry))
        .routes(routes!(list_devices))
        .routes(routes!(import_devices))
        .routes(routes!(get_device))
        .routes(routes!(device_series))
        .routes(routes!(list_alarms))
        .routes(routes!(get_alarm))
        .routes(routes!(acknowledge_alarm))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(replace_rule))
}

// ---------------------------------------------------------------------------------------------
// Telemetry

/// One reading of a batch.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TelemetryReading {
    /// The device's id (as in its MQTT topic).
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", example = "HZ-GAS-000001")]
    pub device_id: String,
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: String,
    /// The value in the metric's unit.
    #[schema(example = 12.5)]
    pub value: f64,
    /// When it was measured (RFC 3339).
    pub ts: DateTime<Utc>,
}

/// `POST /api/v1/telemetry`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TelemetryBody {
    /// 1–10,000 readings.
    #[schema(min_items = 1, max_items = 10000)]
    pub readings: Vec<TelemetryReading>,
}

/// A reading that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct RejectedReading {
    /// Its position in `readings` (from 0).
    pub index: usize,
    /// `unknown_device`, `unknown_metric`, `not_finite`, `implausible`, `future_timestamp`,
    /// `too_old`.
    #[schema(value_type = crate::wire::RejectReasonName)]
    pub reason: &'static str,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct TelemetryAnswer {
    /// Readings checked and stored durably (new or already stored).
    pub accepted: usize,
    /// Of those, stored for the first time.
    pub stored: u64,
    /// Of those, stored before (a repeated batch).
    pub duplicates: u64,
    pub rejected: Vec<RejectedReading>,
}

/// 监测数据上报: a batch of readings from a device gateway. Answered after the readings are
/// durably stored (and their rules evaluated); a reading already stored is stored once. Bad
/// readings are listed with their reason, the others are taken. Device gateways and
/// administrators.
#[utoipa::path(
    post,
    path = "/api/v1/telemetry",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    request_body = TelemetryBody,
    responses(
        (status = 200, body = TelemetryAnswer),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a device gateway or administrator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a field of the wrong type, an unknown metric name, no readings or more than 10,000", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: the ingest queue is full (retry after `Retry-After`) or the readings could not be stored", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub(crate) async fn post_telemetry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<TelemetryBody>,
) -> ApiResult<axum::Json<TelemetryAnswer>> {
    if !(user.has_role(Role::Gateway) || user.has_role(Role::Admin)) {
        return Err(ApiError::forbidden(
            "Only device gateways and administrators post telemetry.",
        ));
    }
    let ingest = state.ingest.as_ref().ok_or_else(unavailable)?;
    if body.readings.is_empty() || body.readings.len() > MAX_READINGS {
        return Err(ApiError::invalid_value(format!(
            "readings: 1 to {MAX_READINGS} per batch, got {}",
            body.readings.len()
        )));
    }
    // What the document declares is checked here (422); what only the registry or the clock
    // can judge comes back per reading in the answer.
    for (i, r) in body.readings.iter().enumerate() {
        if cityops_domain::monitoring::check_device_id(&r.device_id).is_err() {
            return Err(ApiError::invalid_value(format!(
                "readings[{i}].device_id: 1–64 characters of A–Z, a–z, 0–9, '-', '_', '.'"
            )));
        }
        if r.metric.parse::<Metric>().is_err() {
            return Err(ApiError::invalid_value(format!(
                "readings[{i}].metric: unknown metric {:?}",
                r.metric
            )));
        }
    }
    let batch = Batch {
        readings: body
            .readings
            .into_iter()
            .map(|r| BatchReading {
                device_id: r.device_id,
                metric: r.metric,
                value: serde_json::Value::from(r.value),
                ts: r.ts,
            })
            .collect(),
    };
    let monitoring = ingest.monitoring();
    let parsed = parse_batch(
        &monitoring.registry(),
        &batch,
        monitoring.clock().now(),
        &monitoring.settings().window,
    );
    ingest.count_rejects(&parsed.rejected);
    let rejected = parsed
        .rejected
        .iter()
        .map(|(index, r)| RejectedReading {
            index: *index,
            reason: r.as_str(),
        })
        .collect();
    let accepted = parsed.readings.len();
    let stored = if accepted == 0 {
        0
    } else {
        let pending = ingest.try_submit(parsed.readings).map_err(ingest_error)?;
        pending.stored().await.map_err(ingest_error)?
    };
    Ok(axum::Json(TelemetryAnswer {
        accepted,
        stored,
        duplicates: accepted as u64 - stored.min(accepted as u64),
        rejected,
    }))
}

fn unavailable() -> ApiError {
    ApiError::new(
        ErrorCode::ServiceUnavailable,
        "Operation monitoring is not running in this server.",
    )
}

fn ingest_error(e: IngestError) -> ApiError {
    match e {
        IngestError::TooLarge(n) => {
            ApiError::invalid_value(format!("a batch may hold at most {n} readings"))
        }
        IngestError::Overloaded => {
            ApiError::new(ErrorCode::ServiceUnavailable, e.to_string()).with_retry_after(1)
        }
        IngestError::Store(_) | IngestError::Stopped => {
            ApiError::new(ErrorCode::ServiceUnavailable, e.to_string()).with_retry_after(5)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Devices

/// A metric a device reports.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct MetricView {
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub unit: &'static str,
}

impl From<Metric> for MetricView {
    fn from(m: Metric) -> Self {
        Self {
            metric: m.as_str(),
            name: m.name_zh(),
            name_en: m.name_en(),
            unit: m.unit(),
        }
    }
}

/// A device (设备).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DeviceView {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = crate::wire::DeviceTypeName)]
    pub device_type: &'static str,
    pub type_name: &'static str,
    /// `gas`, `water`, `drainage`, `bridge`, `city_appearance`, `noise`, `weather`.
    pub lifeline: &'static str,
    pub name: String,
    pub metrics: Vec<MetricView>,
    pub lng: f64,
    pub lat: f64,
    #[schema(value_type = Option<crate::wire::GridCode>)]
    pub grid_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub district_code: Option<String>,
    pub component_id: Option<String>,
    pub department_id: Option<i64>,
    /// The rule profile whose rules apply.
    pub profile: String,
    /// The responsible party (name and phone), masked for roles that may not see contacts.
    pub responsible: Option<String>,
    pub active: bool,
    /// `alarm` (an active alarm), `offline` (its offline rule fired), `normal`, `inactive`.
    #[schema(value_type = crate::wire::DeviceStatusName)]
    pub status: &'static str,
    /// The highest level of its active alarms.
    pub alarm_level: Option<u8>,
    pub updated_at: DateTime<Utc>,
}

/// A page of devices.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DeviceList {
    pub items: Vec<DeviceView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

fn device_view(
    d: StoredDevice,
    registry: &Registry,
    active: &[Alarm],
    see_contacts: bool,
) -> DeviceView {
    let (status, alarm_level) = registry.status(
        &d.device,
        active.iter().filter(|a| a.device_id == d.device.id),
    );
    let status = status.as_str();
    let Device {
        id,
        device_type,
        name,
        lng,
        lat,
        grid_code,
        community_code,
        street_code,
        district_code,
        component_id,
        department_id,
        profile,
        responsible,
        active: is_active,
    } = d.device;
    DeviceView {
        id,
        device_type: device_type.as_str(),
        type_name: device_type.name_zh(),
        lifeline: device_type.lifeline(),
        name,
        metrics: device_type
            .metrics()
            .iter()
            .copied()
            .map(MetricView::from)
            .collect(),
        lng,
        lat,
        grid_code,
        community_code,
        street_code,
        district_code,
        component_id,
        department_id,
        profile,
        responsible: responsible.map(|r| {
            if see_contacts {
                r
            } else {
                cityops_domain::privacy::mask_contact(&r)
            }
        }),
        active: is_active,
        status,
        alarm_level,
        updated_at: d.updated_at,
    }
}

fn sees_contacts(user: &cityops_domain::User) -> bool {
    user.has_role(Role::Admin)
        || cityops_domain::privacy::CONTACT_ROLES
            .iter()
            .any(|r| user.has_role(*r))
}

/// Which devices a list holds.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeviceParams {
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<crate::wire::DeviceTypeName>)]
    device_type: Option<String>,
    /// Id or name contains.
    #[param(max_length = 64)]
    q: Option<String>,
}

/// 设备台账: the devices the caller may see (the command centre and leaders within their
/// region, a department its own), by id, with their status.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(DeviceParams, PageParams),
    responses(
        (status = 200, body = DeviceList),
        (status = 400, description = "`invalid_query`: an unknown type, a long `q`, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<DeviceParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<DeviceList>> {
    let page = pp.request()?;
    let device_type = p
        .device_type
        .as_deref()
        .map(|t| {
            t.parse::<DeviceType>()
                .map_err(|_| ApiError::invalid_query(format!("type: unknown device type {t:?}")))
        })
        .transpose()?;
    if p.q.as_ref().is_some_and(|q| q.chars().count() > 64) {
        return Err(ApiError::invalid_query("q: at most 64 characters"));
    }
    let monitoring = state.monitoring()?;
    let got = monitoring
        .list_devices(
            &user,
            DeviceFilter {
                device_type,
                q: p.q,
                ..Default::default()
            },
            page,
        )
        .await?;
    // The page's devices' active alarms, in one query (a device has at most one per rule).
    let alarms = if got.items.is_empty() {
        Vec::new()
    } else {
        monitoring
            .list_alarms(
                &user,
                AlarmFilter {
                    device_ids: got.items.iter().map(|d| d.device.id.clone()).collect(),
                    active: true,
                    ..Default::default()
                },
                cityops_domain::PageRequest {
                    page: 1,
                    page_size: cityops_domain::page::MAX_PAGE_SIZE,
                },
            )
            .await?
            .items
    };
    let registry = monitoring.registry();
    let contacts = sees_contacts(&user);
    Ok(axum::Json(DeviceList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got
            .items
            .into_iter()
            .map(|d| device_view(d, &registry, &alarms, contacts))
            .collect(),
    }))
}

/// A device with its active alarms and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DeviceDetail {
    #[serde(flatten)]
    pub device: DeviceView,
    pub alarms: Vec<AlarmView>,
    pub rules: Vec<RuleView>,
}

fn device_id_of(id: &str) -> ApiResult<()> {
    cityops_domain::monitoring::check_device_id(id)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// 设备: one device the caller may see, with its active alarms and the rules of its profile.
#[utoipa::path(
    get,
    path = "/api/v1/devices/{id}",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = String, Path, description = "The device's id", pattern = "^[A-Za-z0-9._-]{1,64}$")),
    responses(
        (status = 200, body = DeviceDetail),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 404, description = "`not_found`: no such device in the caller's scope", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn get_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<DeviceDetail>> {
    device_id_of(&id)?;
    let monitoring = state.monitoring()?;
    let d = monitoring.device(&user, &id).await?;
    let alarms = monitoring
        .list_alarms(
            &user,
            AlarmFilter {
                device_id: Some(id.clone()),
                active: true,
                ..Default::default()
            },
            cityops_domain::PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await?
        .items;
    let registry = monitoring.registry();
    let rules: Vec<RuleView> = registry
        .active(&id)
        .map(|e: &std::sync::Arc<DeviceEntry>| {
            e.rules
                .iter()
                .map(|r| RuleView::from(r.as_ref().clone()))
                .collect()
        })
        .unwrap_or_default();
    let view = device_view(d, &registry, &alarms, sees_contacts(&user));
    Ok(axum::Json(DeviceDetail {
        device: view,
        alarms: alarms.into_iter().map(AlarmView::from).collect(),
        rules,
    }))
}

/// The chart of one metric.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeriesParams {
    #[param(value_type = crate::wire::MetricName)]
    metric: String,
    /// Start (RFC 3339); default 24 hours before `to`.
    from: Option<DateTime<Utc>>,
    /// End (RFC 3339, exclusive); default now.
    to: Option<DateTime<Utc>>,
}

/// One point of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct SeriesPoint {
    pub ts: DateTime<Utc>,
    /// The reading, or the bucket's average.
    pub value: f64,
    /// A bucket's minimum and maximum and its number of readings (rollups only).
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub count: Option<i64>,
}

/// A chart.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct SeriesView {
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: &'static str,
    pub unit: &'static str,
    /// `raw` up to 2 hours, `minute` rollups up to 2 days, `hour` rollups beyond.
    pub resolution: &'static str,
    pub points: Vec<SeriesPoint>,
}

/// 监测曲线: a device's readings of one metric over a range — raw for short ranges, minute or
/// hour rollups (average, minimum, maximum) for longer ones.
#[utoipa::path(
    get,
    path = "/api/v1/devices/{id}/series",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = String, Path, description = "The device's id", pattern = "^[A-Za-z0-9._-]{1,64}$"), SeriesParams),
    responses(
        (status = 200, body = SeriesView),
        (status = 400, description = "`bad_request` / `invalid_query`: a malformed id, metric or time", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 404, description = "`not_found`: no such device in the caller's scope", body = ErrorBody),
        (status = 422, description = "`invalid_value`: `to` not after `from`, more than a year, or a metric the device does not report", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn device_series(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<SeriesParams>,
) -> ApiResult<axum::Json<SeriesView>> {
    device_id_of(&id)?;
    let metric: Metric = p
        .metric
        .parse()
        .map_err(|_| ApiError::invalid_query(format!("metric: unknown metric {:?}", p.metric)))?;
    let monitoring = state.monitoring()?;
    let to = p.to.unwrap_or_else(|| monitoring.clock().now());
    let from = p.from.unwrap_or(to - Duration::hours(24));
    if to <= from || to - from > Duration::days(366) {
        return Err(ApiError::invalid_value(
            "`to` must be after `from`, at most a year later",
        ));
    }
    let series = monitoring.series(&user, &id, metric, from, to).await?;
    let (resolution, points) = match series {
        Series::Raw(points) => (
            "raw",
            points
                .into_iter()
                .map(|p| SeriesPoint {
                    ts: p.ts,
                    value: p.value,
                    min: None,
                    max: None,
                    count: None,
                })
                .collect(),
        ),
        Series::Rollup(res, points) => (
            match res {
                cityops_store::Resolution::Minute => "minute",
                cityops_store::Resolution::Hour => "hour",
            },
            points
                .into_iter()
                .map(|p| SeriesPoint {
                    ts: p.start,
                    value: p.avg,
                    min: Some(p.min),
                    max: Some(p.max),
                    count: Some(p.count),
                })
                .collect(),
        ),
    };
    Ok(axum::Json(SeriesView {
        metric: metric.as_str(),
        unit: metric.unit(),
        resolution,
        points,
    }))
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ImportAnswer {
    pub added: u64,
    pub replaced: u64,
}

/// 设备导入: adds or replaces devices from CSV (`Content-Type: text/csv`, header
/// `id,type,name,lng,lat,component_id,department_code,profile,responsible,active`), all or
/// nothing: a bad line (named in the 422 message), an unknown department or a point outside the
/// city writes nothing. Administrators only.
#[utoipa::path(
    post,
    path = "/api/v1/devices/import",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    request_body(content(
        (String = "text/csv", example = "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\nHZ-GAS-900001,gas_detector,文明一路燃气井,114.4123,23.1101,,441300-gas,,,true\n"),
    )),
    responses(
        (status = 200, body = ImportAnswer),
        (status = 400, description = "`bad_request`: an unreadable body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not CSV", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a bad line (named), an unknown department, a point outside the city", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn import_devices(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<ImportAnswer>> {
    user.require(Role::Admin)?;
    let body = body.map_err(body_rejection)?;
    if content_type(&headers) != "text/csv" {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Expected `text/csv`.",
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid_value(format!("The CSV is not UTF-8: {e}")))?;
    let records = parse_devices_csv(text).map_err(|e| ApiError::invalid_value(e.to_string()))?;
    if records.is_empty() {
        return Err(ApiError::invalid_value("No devices given."));
    }
    let monitoring = state.monitoring()?;
    let (added, replaced) = monitoring.import_devices(&user.0, records).await?;
    Ok(axum::Json(ImportAnswer { added, replaced }))
}

// ---------------------------------------------------------------------------------------------
// Alarms

/// An alarm (报警).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct AlarmView {
    pub id: i64,
    pub device_id: String,
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: &'static str,
    pub metric_name: &'static str,
    pub unit: &'static str,
    /// The rule's name.
    pub rule: String,
    pub rule_id: i64,
    /// 1 (least severe) to 3.
    #[schema(minimum = 1, maximum = 3)]
    pub level: u8,
    #[schema(value_type = crate::wire::AlarmStatusName)]
    pub status: &'static str,
    pub status_name: &'static str,
    pub raised_at: DateTime<Utc>,
    pub value: f64,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<i64>,
    pub cleared_at: Option<DateTime<Utc>>,
    /// The case the alarm opened.
    pub case_id: Option<i64>,
    pub reminders: u32,
    pub escalated_at: Option<DateTime<Utc>>,
}

impl From<Alarm> for AlarmView {
    fn from(a: Alarm) -> Self {
        Self {
            id: a.id,
            device_id: a.device_id,
            metric: a.metric.as_str(),
            metric_name: a.metric.name_zh(),
            unit: a.metric.unit(),
            rule: a.rule,
            rule_id: a.rule_id,
            level: a.level,
            status: a.status.as_str(),
            status_name: a.status.name_zh(),
            raised_at: a.raised_at,
            value: a.value,
            updated_at: a.updated_at,
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
            cleared_at: a.cleared_at,
            case_id: a.case_id,
            reminders: a.reminders,
            escalated_at: a.escalated_at,
        }
    }
}

/// A page of alarms.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct AlarmList {
    pub items: Vec<AlarmView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// Which alarms a list holds.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlarmParams {
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    device_id: Option<String>,
    #[param(value_type = Option<crate::wire::AlarmStatusName>)]
    status: Option<String>,
    /// Only raised and acknowledged ones.
    active: Option<bool>,
    #[param(minimum = 1, maximum = 3)]
    level: Option<u8>,
    /// The alarm that opened this case.
    #[param(minimum = 1)]
    case_id: Option<i64>,
}

/// 报警列表: the alarms the caller may see, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alarms",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(AlarmParams, PageParams),
    responses(
        (status = 200, body = AlarmList),
        (status = 400, description = "`invalid_query`: an unknown status, a level outside 1–3, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn list_alarms(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<AlarmParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<AlarmList>> {
    let page = pp.request()?;
    let status = p
        .status
        .as_deref()
        .map(|s| {
            s.parse::<AlarmStatus>()
                .map_err(|_| ApiError::invalid_query(format!("status: unknown status {s:?}")))
        })
        .transpose()?;
    if p.level.is_some_and(|l| !(1..=3).contains(&l)) {
        return Err(ApiError::invalid_query("level: 1 to 3"));
    }
    if let Some(id) = &p.device_id {
        cityops_domain::monitoring::check_device_id(id)
            .map_err(|e| ApiError::invalid_query(e.to_string()))?;
    }
    if p.case_id.is_some_and(|c| c < 1) {
        return Err(ApiError::invalid_query("case_id: a positive id"));
    }
    let monitoring = state.monitoring()?;
    let got = monitoring
        .list_alarms(
            &user,
            AlarmFilter {
                device_id: p.device_id,
                status,
                active: p.active.unwrap_or(false),
                level: p.level,
                case_id: p.case_id,
                ..Default::default()
            },
            page,
        )
        .await?;
    Ok(axum::Json(AlarmList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got.items.into_iter().map(AlarmView::from).collect(),
    }))
}

/// 报警: one alarm the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/alarms/{id}",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The alarm's id")),
    responses(
        (status = 200, body = AlarmView),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alarm in the caller's scope", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn get_alarm(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<AlarmView>> {
    let monitoring = state.monitoring()?;
    Ok(axum::Json(monitoring.alarm(&user, id).await?.into()))
}

/// 确认报警: the caller takes a raised alarm (it stays active until cleared).
#[utoipa::path(
    post,
    path = "/api/v1/alarms/{id}/acknowledge",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The alarm's id")),
    responses(
        (status = 200, body = AlarmView),
        (status = 400, description = "`bad_request`: a malformed id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 404, description = "`not_found`: no such alarm in the caller's scope", body = ErrorBody),
        (status = 409, description = "`conflict`: the alarm is not raised (acknowledged or cleared already), or changed meanwhile", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn acknowledge_alarm(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<AlarmView>> {
    let monitoring = state.monitoring()?;
    Ok(axum::Json(monitoring.acknowledge(&user, id).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// Rules

/// An alarm rule (报警规则): its kind and parameters as in `definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct RuleView {
    pub id: i64,
    /// The rule profile (规则模板) devices name.
    #[schema(max_length = 64)]
    pub profile: String,
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: String,
    /// The kind and its parameters: `{"kind": "threshold", "direction": "above", "levels":
    /// [10, 25, 50], "hysteresis": 1, "sustain_secs": 0}`, `rate_of_change`, `offline`,
    /// `construction_noise`, `waterlogging`.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    /// Alarms at or above this level open a case.
    #[schema(minimum = 1, maximum = 3)]
    pub case_level: Option<u8>,
    /// The category of those cases (5 digits).
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    /// Seconds back to normal before the alarm clears.
    #[schema(maximum = 86400)]
    pub clear_after_secs: u32,
    pub enabled: bool,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id,
            profile: r.profile,
            name: r.name,
            metric: r.metric.as_str().to_string(),
            definition: serde_json::to_value(&r.kind).unwrap_or_default(),
            case_level: r.case_level,
            category_code: r.category_code,
            clear_after_secs: r.clear_after_secs,
            enabled: r.enabled,
        }
    }
}

/// A rule as written by the rule editor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleBody {
    #[schema(min_length = 1, max_length = 64)]
    pub profile: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(value_type = crate::wire::MetricName)]
    pub metric: String,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    #[schema(minimum = 1, maximum = 3)]
    pub case_level: Option<u8>,
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    #[schema(maximum = 86400)]
    pub clear_after_secs: u32,
    pub enabled: bool,
}

impl RuleBody {
    fn rule(self, id: i64) -> ApiResult<Rule> {
        let metric: Metric = self
            .metric
            .parse()
            .map_err(|_| ApiError::invalid_value(format!("metric: unknown {:?}", self.metric)))?;
        let kind: RuleKind = serde_json::from_value(self.definition)
            .map_err(|e| ApiError::invalid_value(format!("definition: {e}")))?;
        if self.case_level.is_some_and(|l| !(1..=3).contains(&l)) {
            return Err(ApiError::invalid_value("case_level: 1 to 3"));
        }
        if self.profile.trim().is_empty() || self.name.trim().is_empty() {
            return Err(ApiError::invalid_value(
                "profile and name must not be empty",
            ));
        }
        if self.clear_after_secs > 86_400 {
            return Err(ApiError::invalid_value("clear_after_secs: at most 86400"));
        }
        if self.profile.chars().count() > 64 || self.name.chars().count() > 100 {
            return Err(ApiError::invalid_value(
                "profile: at most 64 characters, name: at most 100",
            ));
        }
        Ok(Rule {
            id,
            profile: self.profile,
            name: self.name,
            metric,
            kind,
            case_level: self.case_level,
            category_code: self.category_code,
            clear_after_secs: self.clear_after_secs,
            enabled: self.enabled,
        })
    }
}

/// 报警规则: every rule, by id.
#[utoipa::path(
    get,
    path = "/api/v1/monitoring/rules",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = Vec<RuleView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a role that watches devices", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Vec<RuleView>>> {
    let monitoring = state.monitoring()?;
    Ok(axum::Json(
        monitoring
            .rules(&user)
            .await?
            .into_iter()
            .map(RuleView::from)
            .collect(),
    ))
}

/// 新建报警规则 (administrators): checked (levels ordered, a case category when it opens
/// cases); in force at once in this process, within seconds in the others.
#[utoipa::path(
    post,
    path = "/api/v1/monitoring/rules",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    request_body = RuleBody,
    responses(
        (status = 201, body = RuleView),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an unknown metric or kind, thresholds out of order, a case level without a category", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<(StatusCode, axum::Json<RuleView>)> {
    let monitoring = state.monitoring()?;
    let rule = body.rule(0)?;
    let saved = monitoring.save_rule(&user, rule).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// 修改报警规则 (administrators): replaces a rule.
#[utoipa::path(
    put,
    path = "/api/v1/monitoring/rules/{id}",
    tag = "monitoring",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The rule's id", minimum = 1)),
    request_body = RuleBody,
    responses(
        (status = 200, body = RuleView),
        (status = 400, description = "`bad_request`: malformed JSON or id", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such rule", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an unknown metric or kind, thresholds out of order, a case level without a category", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: monitoring is not running", body = ErrorBody),
    )
)]
pub(crate) async fn replace_rule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<axum::Json<RuleView>> {
    if id < 1 {
        return Err(ApiError::not_found(format!("no rule {id}")));
    }
    let monitoring = state.monitoring()?;
    let rule = body.rule(id)?;
    Ok(axum::Json(monitoring.save_rule(&user, rule).await?.into()))
}
