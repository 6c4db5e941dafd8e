//! 运行监测 (operation monitoring) in the console: `/monitoring`, the device map (every device in
//! the viewer's scope as a marker coloured by its status, filters by lifeline and type, the
//! counts per status and the active alarms beside), read from `/ui/monitoring/devices.json`; and
//! `/monitoring/devices/{id}`, one device: its fields, rules, active and recent alarms and a chart
//! per metric (read by the page's script from `GET /api/v1/devices/{id}/series`).
//!
//! Who sees what is the monitoring service's rule ([`monitoring_scope`]): the device map reads the
//! registry the process keeps in memory and filters it by the same located codes and department
//! the service's queries use, plus one paged query of the active alarms — never a query per
//! device. The alarm wall, its event stream and the rule editor are in `monitoring_alarms` and
//! `monitoring_rules`.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use cityops_app::ServiceError;
use cityops_app::monitoring::{MonitoringService, Registry, monitoring_scope};
use cityops_domain::case::CaseVisibility;
use cityops_domain::monitoring::{Alarm, AlarmStatus, Device, DeviceType, RuleKind};
use cityops_domain::{PageRequest, Role, User};
use cityops_store::AlarmFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use super::screen::LangOf;
use super::{render, script_json, status_page};
use crate::UiState;
use crate::auth::{Ctx, JsonUser};
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::i18n_monitoring::{LIFELINES, MonitoringTr, num};
use crate::layout::{Layout, Section};

/// Active alarms read per page, and the most pages read (the wall's worth many times over).
const ALARM_PAGE: u32 = 1000;
const ALARM_PAGES: u32 = 20;
/// Active alarms the device map lists beside the map.
const MAP_ALARMS: usize = 50;

/// Who a viewer may watch: the located-code prefixes of their region (empty: everywhere) or
/// their department — the same test as the monitoring service's queries.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    prefixes: Vec<String>,
    department: Option<i64>,
}

impl Scope {
    pub fn of(user: &User) -> Result<Scope, ServiceError> {
        let (prefixes, department) = monitoring_scope(user)?;
        Ok(Scope {
            prefixes,
            department,
        })
    }

    /// Whether a device with these located codes (grid, community, street, district) and owner
    /// department is in scope.
    pub fn admits_codes(&self, codes: [Option<&str>; 4], department: Option<i64>) -> bool {
        if let Some(d) = self.department {
            return department == Some(d);
        }
        self.prefixes.is_empty()
            || self.prefixes.iter().any(|p| {
                codes
                    .iter()
                    .any(|c| c.is_some_and(|c| c.starts_with(p.as_str())))
            })
    }

    pub fn admits(&self, d: &Device) -> bool {
        self.admits_codes(
            [
                d.grid_code.as_deref(),
                d.community_code.as_deref(),
                d.street_code.as_deref(),
                d.district_code.as_deref(),
            ],
            d.department_id,
        )
    }
}

/// Whether the navigation shows 运行监测 to this user: monitoring runs and their roles watch.
pub(crate) fn may_watch(st: &UiState, user: &User) -> bool {
    st.app.ingest.is_some() && monitoring_scope(user).is_ok()
}

/// The service and the viewer's scope, or the page that says why not (503 not running, 403).
pub(crate) async fn guard(
    st: &UiState,
    ctx: &Ctx,
    section: Section,
) -> Result<Result<(Arc<MonitoringService>, Scope), Response>, PageError> {
    let m = ctx.lang.monitoring();
    let Ok(service) = st.app.monitoring() else {
        let page = status_page(
            st,
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            section,
            m.not_running_title,
            m.not_running,
        )
        .await?;
        return Ok(Err(page));
    };
    match Scope::of(&ctx.user) {
        Ok(scope) => Ok(Ok((service.clone(), scope))),
        Err(_) => {
            let page = status_page(
                st,
                ctx,
                StatusCode::FORBIDDEN,
                section,
                ctx.lang.tr().forbidden_title,
                m.forbidden,
            )
            .await?;
            Ok(Err(page))
        }
    }
}

/// The active alarms `user` may see, newest first (paged reads, bounded).
pub(crate) async fn active_alarms(
    service: &MonitoringService,
    user: &User,
) -> Result<Vec<Alarm>, ServiceError> {
    let mut all = Vec::new();
    for page in 1..=ALARM_PAGES {
        let got = service
            .list_alarms(
                user,
                AlarmFilter {
                    active: true,
                    ..Default::default()
                },
                PageRequest {
                    page,
                    page_size: ALARM_PAGE,
                },
            )
            .await?;
        let n = got.items.len();
        all.extend(got.items);
        if n < ALARM_PAGE as usize || all.len() as u64 >= got.total {
            break;
        }
    }
    Ok(all)
}

/// Whether an alarm comes from an offline rule (a device that stopped reporting).
pub(crate) fn is_offline(reg: &Registry, a: &Alarm) -> bool {
    reg.is_offline_alarm(a)
}

/// Active alarms by device.
pub(crate) fn alarm_statuses(alarms: &[Alarm]) -> HashMap<&str, Vec<&Alarm>> {
    let mut out: HashMap<&str, Vec<&Alarm>> = HashMap::new();
    for a in alarms {
        out.entry(a.device_id.as_str()).or_default().push(a);
    }
    out
}

/// A device's status for the pages (`Registry::status`): `inactive`, `alarm`, `offline` or
/// `normal`, and its level (0: none).
pub(crate) fn device_status(
    reg: &Registry,
    d: &Device,
    by_device: &HashMap<&str, Vec<&Alarm>>,
) -> (&'static str, u8) {
    let mine = by_device.get(d.id.as_str()).into_iter().flatten().copied();
    let (status, level) = reg.status(d, mine);
    (status.as_str(), level.unwrap_or(0))
}

/// `2026-11-22 14:30` in the working calendar's zone.
pub(crate) fn local(st: &UiState, t: DateTime<Utc>) -> String {
    t.with_timezone(&st.app.calendar().config().tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn api_error(e: ServiceError) -> Response {
    cityops_web::ApiError::from(e).into_response()
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The names the device map and the big screen show for types, lifelines, statuses and levels.
pub(crate) fn names_json(m: &MonitoringTr) -> Value {
    let types: serde_json::Map<String, Value> = DeviceType::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_string(),
                json!({"name": m.device_type(*t), "lifeline": t.lifeline()}),
            )
        })
        .collect();
    let lifelines: serde_json::Map<String, Value> = LIFELINES
        .iter()
        .map(|k| (k.to_string(), Value::from(m.lifeline(k))))
        .collect();
    json!({
        "types": types,
        "lifelines": lifelines,
        "statuses": {
            "normal": m.status_normal,
            "alarm": m.status_alarm,
            "offline": m.status_offline,
            "inactive": m.status_inactive,
        },
        "levels": {"1": m.level_1, "2": m.level_2, "3": m.level_3},
        "what": {
            "raised": m.what_raised,
            "escalated": m.what_escalated,
            "acknowledged": m.what_acknowledged,
            "cleared": m.what_cleared,
            "case": m.what_case,
            "reminded": m.what_reminded,
            "enforcement": m.what_enforcement,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// The device map

#[derive(Template)]
#[template(path = "monitoring_map.html")]
pub(crate) struct MapPage {
    pub l: Layout,
    pub m: &'static MonitoringTr,
    pub lifelines: Vec<(&'static str, &'static str, bool)>,
    /// Type code, name, lifeline, selected.
    pub types: Vec<(&'static str, &'static str, &'static str, bool)>,
    pub map_config: String,
    pub config: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MapQuery {
    /// A device to show (its id): the map opens on it.
    device: Option<String>,
    lifeline: Option<String>,
    #[serde(rename = "type")]
    device_type: Option<String>,
}

/// `GET /monitoring`
pub(crate) async fn map_page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<MapQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let m = lang.monitoring();
    let (service, scope) = match guard(&st, &ctx, Section::Monitoring).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let lifeline = q
        .lifeline
        .as_deref()
        .filter(|l| LIFELINES.contains(l))
        .map(str::to_string);
    let device_type = q
        .device_type
        .as_deref()
        .and_then(|t| t.parse::<DeviceType>().ok());
    // The device to open on, if the viewer may see it (from the registry, no query).
    let focus = q.device.as_deref().and_then(|id| {
        let reg = service.registry();
        reg.devices()
            .find(|e| e.device.id == id && scope.admits(&e.device))
            .map(|e| json!({"id": e.device.id, "lng": e.device.lng, "lat": e.device.lat}))
    });
    let map_config = json!({
        "tile_url": st.app.config.map_tile_url,
        "mode": "full",
        "locate": false,
        "bounds": st.app.index.bbox(),
        "focus": Value::Null,
        "region": Value::Null,
        "zoom": {
            "streets": super::map::ZOOM_STREETS,
            "communities": super::map::ZOOM_COMMUNITIES,
            "grids": super::map::ZOOM_GRIDS,
            "components": super::map::ZOOM_COMPONENTS,
        },
        "categories": {},
        "classes": {},
        "t": super::map::js_texts(lang),
    });
    let config = json!({
        "names": names_json(m),
        "focus": focus,
        "t": {
            "open_device": m.open_device,
            "shown_of": m.shown_of,
            "no_active_alarms": m.no_active_alarms,
            "live_on": m.live_on,
            "live_off": m.live_off,
            "loading": m.loading,
        },
    });
    let l = Layout::new(&st, &ctx, Section::Monitoring, m.map_title)
        .await
        .with_leaflet();
    let mut resp = render(
        StatusCode::OK,
        &MapPage {
            l,
            m,
            lifelines: LIFELINES
                .iter()
                .map(|k| (*k, m.lifeline(k), lifeline.as_deref() == Some(*k)))
                .collect(),
            types: DeviceType::ALL
                .iter()
                .map(|t| {
                    (
                        t.as_str(),
                        m.device_type(*t),
                        t.lifeline(),
                        device_type == Some(*t),
                    )
                })
                .collect(),
            map_config: script_json(&map_config),
            config: script_json(&config),
        },
        lang,
    )?;
    if let Some(csp) = super::screen::tile_csp(&st) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// `GET /ui/monitoring/devices.json`: every device in the viewer's scope, compact
/// (`id`, `type`, `lng`, `lat`, `status`, `level`), the counts per status, and the newest active
/// alarms with their device's name. From the registry in memory and one paged read of the
/// active alarms. 401 without a session, 403 for roles that do not watch, 503 when monitoring
/// does not run.
pub(crate) async fn devices_json(
    State(st): State<UiState>,
    JsonUser(user): JsonUser,
    LangOf(lang): LangOf,
) -> Response {
    let service = match st.app.monitoring() {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let scope = match Scope::of(&user) {
        Ok(s) => s,
        Err(e) => return api_error(e),
    };
    let alarms = match active_alarms(&service, &user).await {
        Ok(a) => a,
        Err(e) => return api_error(e),
    };
    let m = lang.monitoring();
    let reg = service.registry();
    let statuses = alarm_statuses(&alarms);
    let mut counts: HashMap<&str, u64> = HashMap::new();
    let mut by_id = HashMap::new();
    let mut devices: Vec<Value> = Vec::new();
    let mut entries: Vec<_> = reg.devices().filter(|e| scope.admits(&e.device)).collect();
    entries.sort_by(|a, b| a.device.id.cmp(&b.device.id));
    for e in entries {
        let d = &e.device;
        let (status, level) = device_status(&reg, d, &statuses);
        *counts.entry(status).or_default() += 1;
        by_id.insert(d.id.as_str(), d);
        devices.push(json!({
            "id": d.id,
            "type": d.device_type.as_str(),
            "lng": d.lng,
            "lat": d.lat,
            "status": status,
            "level": level,
        }));
    }
    let newest: Vec<Value> = alarms
        .iter()
        .take(MAP_ALARMS)
        .map(|a| {
            let d = by_id.get(a.device_id.as_str());
            let offline = is_offline(&reg, a);
            json!({
                "id": a.id,
                "device_id": a.device_id,
                "device_name": d.map(|d| d.name.as_str()),
                "type": d.map(|d| d.device_type.as_str()),
                "rule": a.rule,
                "level": a.level,
                "status": a.status.as_str(),
                "status_name": m.alarm_status(a.status),
                "value": num(a.value),
                "unit": if offline { m.minutes } else { a.metric.unit() },
                "metric": m.metric(a.metric),
                "raised_at": local(&st, a.raised_at),
                "offline": offline,
                "case_id": a.case_id,
            })
        })
        .collect();
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    no_store(
        axum::Json(json!({
            "generated_at": st.app.clock.now(),
            "total": devices.len(),
            "counts": {
                "normal": count("normal"),
                "alarm": count("alarm"),
                "offline": count("offline"),
                "inactive": count("inactive"),
            },
            "devices": devices,
            "alarms_total": alarms.len(),
            "alarms": newest,
        }))
        .into_response(),
    )
}

// ---------------------------------------------------------------------------------------------
// Alarm rows (the wall and the device page)

/// One alarm as the wall and the device page show it.
pub(crate) struct AlarmRow {
    pub id: i64,
    pub level: u8,
    pub level_name: &'static str,
    pub raised: String,
    pub device_id: String,
    pub device_name: String,
    pub type_name: &'static str,
    pub area: String,
    pub rule: String,
    pub metric: &'static str,
    pub value: String,
    pub status_key: &'static str,
    pub status_name: &'static str,
    pub note: Vec<String>,
    pub case_id: Option<i64>,
    /// The case's code when the viewer may see it.
    pub case_code: Option<String>,
    pub can_ack: bool,
    pub offline: bool,
}

/// The rows of `alarms`: device names and areas from the registry and the region tree, case
/// codes in one read of the cases the viewer may see.
pub(crate) async fn alarm_rows(
    st: &UiState,
    lang: Lang,
    user: &User,
    reg: &Registry,
    alarms: Vec<Alarm>,
) -> Result<Vec<AlarmRow>, PageError> {
    let m = lang.monitoring();
    let tree = crate::tree::tree(st).await.lang(lang)?;
    let case_ids: Vec<i64> = alarms.iter().filter_map(|a| a.case_id).collect();
    let codes: HashMap<i64, String> = if case_ids.is_empty() {
        HashMap::new()
    } else {
        st.app
            .store
            .cases_by_ids(&case_ids, &CaseVisibility::for_user(user))
            .await
            .lang(lang)?
            .into_iter()
            .map(|c| (c.id, c.code))
            .collect()
    };
    let devices: HashMap<&str, &Device> = {
        let ids: std::collections::HashSet<&str> =
            alarms.iter().map(|a| a.device_id.as_str()).collect();
        reg.devices()
            .map(|e| &e.device)
            .filter(|d| ids.contains(d.id.as_str()))
            .map(|d| (d.id.as_str(), d))
            .collect()
    };
    let sep = if lang == Lang::Zh { " · " } else { ", " };
    Ok(alarms
        .into_iter()
        .map(|a| {
            let d = devices.get(a.device_id.as_str()).copied();
            let area = d
                .map(|d| {
                    [d.district_code.as_deref(), d.street_code.as_deref()]
                        .into_iter()
                        .flatten()
                        .map(|c| tree.name(c).unwrap_or(c).to_string())
                        .collect::<Vec<_>>()
                        .join(sep)
                })
                .unwrap_or_default();
            let mut note = Vec::new();
            if let Some(at) = a.acknowledged_at {
                note.push(format!("{} {}", m.acknowledged_by_at, local(st, at)));
            }
            if a.reminders > 0 {
                note.push(m.reminders(a.reminders));
            }
            if a.escalated_at.is_some() {
                note.push(m.handed_to_enforcement.to_string());
            }
            if let Some(at) = a.cleared_at {
                note.push(format!("{} {}", m.what_cleared, local(st, at)));
            }
            let offline = is_offline(reg, &a);
            AlarmRow {
                id: a.id,
                level: a.level.clamp(1, 3),
                level_name: m.level(a.level),
                raised: local(st, a.raised_at),
                device_name: d.map_or_else(|| a.device_id.clone(), |d| d.name.clone()),
                type_name: d.map_or("", |d| m.device_type(d.device_type)),
                device_id: a.device_id,
                area,
                rule: a.rule,
                // An offline alarm's value is the minutes without data.
                metric: if offline {
                    m.status_offline
                } else {
                    m.metric(a.metric)
                },
                value: if offline {
                    format!("{} {}", num(a.value), m.minutes)
                } else {
                    format!("{} {}", num(a.value), a.metric.unit())
                },
                status_key: a.status.as_str(),
                status_name: m.alarm_status(a.status),
                note,
                case_code: a.case_id.and_then(|c| codes.get(&c).cloned()),
                case_id: a.case_id,
                can_ack: a.status == AlarmStatus::Raised,
                offline,
            }
        })
        .collect())
}

/// Where an acknowledgement goes back to: a monitoring page, else the wall.
pub(crate) fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b)
            if b.starts_with("/monitoring")
                && !b.starts_with("//")
                && !b.contains(['\r', '\n', '\\']) =>
        {
            b.to_string()
        }
        _ => "/monitoring/alarms".to_string(),
    }
}

/// `url` with `done`/`error` query parameters removed.
pub(crate) fn without_notices(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            !kv.is_empty() && !matches!(kv.split('=').next(), Some("done" | "error" | "lang"))
        })
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

// ---------------------------------------------------------------------------------------------
// The navigation's count of alarms waiting to be acknowledged

/// How long a user's count is reused (on the injected clock).
const COUNT_TTL_SECS: i64 = 5;

/// The raised (not yet acknowledged) alarms each user may see, kept a few seconds.
#[derive(Default)]
pub(crate) struct AlarmCounts {
    by_user: Mutex<HashMap<i64, (DateTime<Utc>, u64)>>,
}

impl AlarmCounts {
    pub fn forget(&self, user_id: i64) {
        if let Ok(mut m) = self.by_user.lock() {
            m.remove(&user_id);
        }
    }
}

/// The number of raised alarms `user` may see: cached, else one count query.
pub(crate) async fn raised_count(st: &UiState, user: &User) -> Option<u64> {
    let service = st.app.monitoring().ok()?;
    let now = st.app.clock.now();
    if let Ok(m) = st.caches.alarm_counts.by_user.lock()
        && let Some((at, n)) = m.get(&user.id)
        && now >= *at
        && now - *at < Duration::seconds(COUNT_TTL_SECS)
    {
        return Some(*n);
    }
    let got = service
        .list_alarms(
            user,
            AlarmFilter {
                status: Some(AlarmStatus::Raised),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await;
    match got {
        Ok(p) => {
            if let Ok(mut m) = st.caches.alarm_counts.by_user.lock() {
                m.retain(|_, (at, _)| now - *at < Duration::seconds(COUNT_TTL_SECS));
                m.insert(user.id, (now, p.total));
            }
            Some(p.total)
        }
        Err(e) => {
            tracing::warn!(error = %e, "alarm count unavailable for the navigation");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The device page

/// A label and a value (with a link) of the device's fields.
pub(crate) struct Field {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
}

/// A rule of the device's profile.
pub(crate) struct RuleLine {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub metric: &'static str,
    pub params: String,
    pub case: String,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "monitoring_device.html")]
pub(crate) struct DevicePage {
    pub l: Layout,
    pub m: &'static MonitoringTr,
    pub id: String,
    pub name: String,
    pub type_name: &'static str,
    pub status_key: &'static str,
    pub status_name: &'static str,
    pub level: u8,
    pub level_name: &'static str,
    pub fields: Vec<Field>,
    pub rules: Vec<RuleLine>,
    pub rows: Vec<AlarmRow>,
    pub recent: Vec<AlarmRow>,
    pub metrics: Vec<(&'static str, String)>,
    pub back: String,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
    pub config: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NoticeQuery {
    pub done: Option<String>,
    pub error: Option<String>,
}

/// The notice and error of an acknowledgement's redirect.
pub(crate) fn notices(
    m: &MonitoringTr,
    q: &NoticeQuery,
) -> (Option<&'static str>, Option<&'static str>) {
    let done = (q.done.as_deref() == Some("ack")).then_some(m.done_ack);
    let error = match q.error.as_deref() {
        Some("ack_conflict") => Some(m.err_ack_conflict),
        Some("ack_not_found") => Some(m.err_ack_not_found),
        _ => None,
    };
    (done, error)
}

/// The lines a metric's chart draws for the enabled rules of the device: graded thresholds
/// (and waterlogging depths) per level, the construction-noise limits.
fn threshold_lines(
    m: &MonitoringTr,
    rules: &[cityops_domain::monitoring::Rule],
    metric: cityops_domain::monitoring::Metric,
) -> Vec<Value> {
    use cityops_domain::monitoring::Metric;
    let mut lines = Vec::new();
    let mut graded = |levels: &[Option<f64>; 3]| {
        for (i, v) in levels.iter().enumerate() {
            if let Some(v) = v {
                let level = i as u8 + 1;
                lines.push(json!({"value": v, "level": level, "label": format!("{} {}", m.level(level), num(*v))}));
            }
        }
    };
    for r in rules.iter().filter(|r| r.enabled) {
        match &r.kind {
            RuleKind::Threshold { levels, .. } if r.metric == metric => graded(levels),
            RuleKind::Waterlogging { depth_levels, .. } if metric == Metric::Depth => {
                graded(depth_levels)
            }
            _ => {}
        }
    }
    for r in rules.iter().filter(|r| r.enabled) {
        if let RuleKind::ConstructionNoise {
            day_limit,
            night_limit,
            night_max_excess,
            level,
            ..
        } = &r.kind
        {
            match metric {
                Metric::Laeq => {
                    lines.push(json!({"value": day_limit, "level": level, "label": format!("{} {}", m.day_limit, num(*day_limit))}));
                    lines.push(json!({"value": night_limit, "level": level, "label": format!("{} {}", m.night_limit, num(*night_limit))}));
                }
                Metric::Lamax => {
                    let v = night_limit + night_max_excess;
                    lines.push(json!({"value": v, "level": level, "label": format!("{} {}", m.night_max_limit, num(v))}));
                }
                _ => {}
            }
        }
    }
    lines
}

/// Whether the user may read responsible parties' contacts (as the API decides).
fn sees_contacts(user: &User) -> bool {
    user.has_role(Role::Admin)
        || cityops_domain::privacy::CONTACT_ROLES
            .iter()
            .any(|r| user.has_role(*r))
}

/// `GET /monitoring/devices/{id}`
pub(crate) async fn device_page(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let m = lang.monitoring();
    let (service, _scope) = match guard(&st, &ctx, Section::Monitoring).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let not_found = || async {
        status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Monitoring,
            lang.tr().not_found_title,
            m.device_not_found,
        )
        .await
    };
    if cityops_domain::monitoring::check_device_id(&id).is_err() {
        return not_found().await;
    }
    let stored = match service.device(&ctx.user, &id).await {
        Ok(d) => d,
        Err(ServiceError::NotFound(_) | ServiceError::Forbidden(_)) => return not_found().await,
        Err(e) => return Err(super::cases::service_error(e)).lang(lang),
    };
    let d = stored.device;
    let reg = service.registry();
    let active = service
        .list_alarms(
            &ctx.user,
            AlarmFilter {
                device_id: Some(id.clone()),
                active: true,
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?
        .items;
    let recent = service
        .list_alarms(
            &ctx.user,
            AlarmFilter {
                device_id: Some(id.clone()),
                status: Some(AlarmStatus::Cleared),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 20,
            },
        )
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?
        .items;
    let statuses = alarm_statuses(&active);
    let (status_key, level) = device_status(&reg, &d, &statuses);
    let all_rules = service
        .rules(&ctx.user)
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?;
    let rules: Vec<_> = all_rules
        .into_iter()
        .filter(|r| r.profile == d.profile)
        .collect();
    let tree = crate::tree::tree(&st).await.lang(lang)?;
    let cat = st
        .app
        .app
        .catalogue()
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?;
    let place: Vec<(String, String)> = [
        d.district_code.as_deref(),
        d.street_code.as_deref(),
        d.community_code.as_deref(),
        d.grid_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| (c.to_string(), tree.name(c).unwrap_or(c).to_string()))
    .collect();
    let location = place
        .iter()
        .map(|(_, n)| n.as_str())
        .collect::<Vec<_>>()
        .join(" › ");
    let responsible = d.responsible.as_deref().map(|r| {
        if sees_contacts(&ctx.user) {
            r.to_string()
        } else {
            cityops_domain::privacy::mask_contact(r)
        }
    });
    let status_text = if status_key == "alarm" {
        format!("{} · {}", m.device_status(status_key), m.level(level))
    } else {
        m.device_status(status_key).to_string()
    };
    let fields = vec![
        Field {
            label: m.f_id,
            value: d.id.clone(),
            href: None,
        },
        Field {
            label: m.f_type,
            value: m.device_type(d.device_type).to_string(),
            href: None,
        },
        Field {
            label: m.f_lifeline,
            value: m.lifeline(d.device_type.lifeline()).to_string(),
            href: None,
        },
        Field {
            label: m.f_metrics,
            value: d
                .device_type
                .metrics()
                .iter()
                .map(|x| format!("{} ({})", m.metric(*x), x.unit()))
                .collect::<Vec<_>>()
                .join(if lang == Lang::Zh { "、" } else { ", " }),
            href: None,
        },
        Field {
            label: m.f_location,
            value: if location.is_empty() {
                m.none.to_string()
            } else {
                location
            },
            href: place.last().map(|(c, _)| format!("/regions/{c}")),
        },
        Field {
            label: m.f_point,
            value: format!("{:.6}, {:.6}", d.lng, d.lat),
            href: Some(format!("/map?lng={:.6}&lat={:.6}&z=17", d.lng, d.lat)),
        },
        Field {
            label: m.f_component,
            value: d.component_id.clone().unwrap_or_else(|| m.none.to_string()),
            href: None,
        },
        Field {
            label: m.f_department,
            value: super::cases::department_name(&cat, d.department_id),
            href: None,
        },
        Field {
            label: m.f_profile,
            value: d.profile.clone(),
            href: Some(format!("/monitoring/rules#profile-{}", d.profile)),
        },
        Field {
            label: m.f_responsible,
            value: responsible.unwrap_or_else(|| m.none.to_string()),
            href: None,
        },
        Field {
            label: m.f_in_service,
            value: if d.active {
                m.in_service
            } else {
                m.out_of_service
            }
            .to_string(),
            href: None,
        },
    ];
    let rule_lines = rules
        .iter()
        .map(|r| RuleLine {
            id: r.id,
            name: r.name.clone(),
            kind: m.kind(crate::i18n_monitoring::kind_key(&r.kind)),
            // An offline rule counts any reading: it watches no one metric.
            metric: if matches!(r.kind, RuleKind::Offline { .. }) {
                ""
            } else {
                m.metric(r.metric)
            },
            params: m.params(&r.kind, r.metric),
            case: r.case_level.map_or_else(
                || m.r_no_case.to_string(),
                |l| format!("{} ≥ {}", m.col_case_rule, m.level(l)),
            ),
            enabled: r.enabled,
        })
        .collect();
    let metrics: Vec<Value> = d
        .device_type
        .metrics()
        .iter()
        .map(|x| {
            json!({
                "metric": x.as_str(),
                "name": m.metric(*x),
                "unit": x.unit(),
                "lines": threshold_lines(m, &rules, *x),
            })
        })
        .collect();
    let config = json!({
        "device": d.id,
        "now": st.app.clock.now(),
        "metrics": metrics,
        "t": {
            "avg": m.chart_avg,
            "min": m.chart_min,
            "max": m.chart_max,
            "band": m.chart_band,
            "empty": m.chart_empty,
            "failed": m.chart_failed,
            "loading": m.loading,
            "raw": m.res_raw,
            "minute": m.res_minute,
            "hour": m.res_hour,
            "reading": m.chart_of,
        },
    });
    let back = without_notices(&ctx.path_and_query);
    let (notice, error) = notices(m, &q);
    let rows = alarm_rows(&st, lang, &ctx.user, &reg, active).await?;
    let recent = alarm_rows(&st, lang, &ctx.user, &reg, recent).await?;
    let title = format!("{} {}", d.name, d.id);
    let l = Layout::new(&st, &ctx, Section::Monitoring, title).await;
    render(
        StatusCode::OK,
        &DevicePage {
            l,
            m,
            name: d.name.clone(),
            type_name: m.device_type(d.device_type),
            status_name: m.device_status(status_key),
            status_key,
            level,
            level_name: m.level(level),
            fields: {
                let mut f = fields;
                f.insert(
                    4,
                    Field {
                        label: m.f_status,
                        value: status_text,
                        href: None,
                    },
                );
                f
            },
            rules: rule_lines,
            rows,
            recent,
            metrics: d
                .device_type
                .metrics()
                .iter()
                .map(|x| (x.as_str(), format!("{} ({})", m.metric(*x), x.unit())))
                .collect(),
            back,
            notice,
            error,
            config: script_json(&config),
            id: d.id,
        },
        lang,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(district: &str, street: &str, department: Option<i64>) -> Device {
        Device {
            id: "D-1".into(),
            device_type: DeviceType::GasDetector,
            name: "井".into(),
            lng: 114.4,
            lat: 23.1,
            grid_code: Some(format!("{street}001001")),
            community_code: Some(format!("{street}001")),
            street_code: Some(street.into()),
            district_code: Some(district.into()),
            component_id: None,
            department_id: department,
            profile: "gas_detector".into(),
            responsible: None,
            active: true,
        }
    }

    #[test]
    fn scope_by_region_or_department() {
        let d = device("441302", "441302001", Some(7));
        let all = Scope {
            prefixes: vec![],
            department: None,
        };
        let district = Scope {
            prefixes: vec!["441302".into()],
            department: None,
        };
        let other = Scope {
            prefixes: vec!["441303".into()],
            department: None,
        };
        let grid = Scope {
            prefixes: vec!["441302001001001".into()],
            department: None,
        };
        let dept = Scope {
            prefixes: vec![],
            department: Some(7),
        };
        let other_dept = Scope {
            prefixes: vec![],
            department: Some(8),
        };
        assert!(all.admits(&d) && district.admits(&d) && grid.admits(&d) && dept.admits(&d));
        assert!(!other.admits(&d) && !other_dept.admits(&d));
    }

    #[test]
    fn back_links_stay_on_monitoring_pages() {
        assert_eq!(
            safe_back(Some("/monitoring/alarms?level=3")),
            "/monitoring/alarms?level=3"
        );
        assert_eq!(safe_back(Some("//evil.example/")), "/monitoring/alarms");
        assert_eq!(safe_back(Some("/cases")), "/monitoring/alarms");
        assert_eq!(safe_back(None), "/monitoring/alarms");
        assert_eq!(
            without_notices("/monitoring/alarms?done=ack&level=2&error=x"),
            "/monitoring/alarms?level=2"
        );
        assert_eq!(
            without_notices("/monitoring/devices/A?done=ack"),
            "/monitoring/devices/A"
        );
    }
}
