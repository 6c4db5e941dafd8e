//! 领导大屏 (the big screen, `/screen`): a 1920×1080 dark page for the command centre — today's
//! reported, filed, dispatched and closed cases, the closure and on-time rates, the overdue
//! cases, the cases by category, district and source, the 30-day trend, a map and a live ticker.
//! The figures come from `/screen/data.json` (the store's `DashboardRepo`, within the viewer's
//! visibility); the page re-reads them, throttled, whenever the event stream `/screen/events`
//! (`cityops_web::live`) announces a change, and appends the change to the ticker. For the
//! roles that see evaluations a 城市管理指数 panel shows each district's monthly index (last 12
//! months) and this month's ranking, read from `GET /api/v1/evaluation/city-index/trend` once a
//! minute.
//!
//! Also the map's case layer, `/ui/cases.json` (used by `/map` and the big screen): the cases of
//! the view only, as counted cells when zoomed out and as points (capped) when zoomed in.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use cityops_app::ServiceError;
use cityops_app::dashboard::{MAX_WINDOW_DAYS, TREND_DAYS, may_view_dashboard};
use cityops_domain::CategoryKind;
use cityops_domain::case::{CaseSource, CaseStatus, CaseVisibility};
use cityops_store::{CaseMapDetail, CaseQuery, Dashboard, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{render, script_json, status_page};
use crate::UiState;
use crate::auth::{Ctx, JsonUser};
use crate::error::{PageError, UiError, WithLang};
use crate::i18n::Lang;
use crate::i18n_screen::SliceTr;
use crate::layout::Section;
use crate::tree;

/// From this zoom the case layer sends single cases (below it, counted cells).
pub(crate) const CASE_POINTS_ZOOM: f64 = 15.0;
/// The most single cases one view gets.
pub(crate) const CASE_POINTS_LIMIT: u32 = 2000;
/// Cells per 256-pixel tile side (a cell is about 64 px on screen).
const CELLS_PER_TILE: f64 = 4.0;
/// Overdue cases the big screen lists.
const SCREEN_OVERDUE: u32 = 12;
/// Categories the big screen charts.
const SCREEN_CATEGORIES: usize = 10;

#[derive(Template)]
#[template(path = "screen_page.html")]
pub(crate) struct ScreenPage {
    pub lang: Lang,
    pub s: &'static SliceTr,
    pub city: String,
    pub toggle_url: String,
    pub csrf_token: String,
    pub config: String,
    /// The 城市管理指数 panel (for the roles that see evaluations).
    pub show_index: bool,
    pub e: &'static crate::i18n_eval::EvalTr,
    /// The 运行监测报警 panel (when monitoring runs and the viewer watches devices).
    pub show_alarms: bool,
    pub m: &'static crate::i18n_monitoring::MonitoringTr,
}

impl ScreenPage {
    pub fn asset(&self, path: &str) -> String {
        crate::assets::url(path)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DataQuery {
    days: Option<String>,
}

fn service_error(e: ServiceError) -> UiError {
    match e {
        ServiceError::Store(e) => UiError::Store(e),
        other => UiError::Internal(other.to_string()),
    }
}

/// The texts and settings `screen.js` needs.
fn js_config(lang: Lang, st: &UiState, show_index: bool, show_alarms: bool) -> Value {
    let s = lang.screen();
    json!({
        // The 运行监测报警 panel reads `/screen/alarms.json`, re-read when `/monitoring/events`
        // announces an alarm change.
        "alarms": show_alarms,
        "alarm_names": super::monitoring::names_json(lang.monitoring()),
        "alarms_none": lang.monitoring().screen_alarms_none,
        // The 城市管理指数 panel reads `GET /api/v1/evaluation/city-index/trend`.
        "index": show_index,
        "index_t": super::evaluation::screen_texts(lang),
        "lang": lang.code(),
        "bounds": st.app.index.bbox(),
        "tile_url": st.app.config.map_tile_url,
        "trend_days": TREND_DAYS,
        "t": {
            "reported": s.reported,
            "closed": s.closed,
            "live_on": s.live_on,
            "live_off": s.live_off,
            "updated_at": s.updated_at,
            "overdue_none": s.overdue_none,
            "ticker_waiting": s.ticker_waiting,
            "cases_unit": s.cases_unit,
            "uncategorised": s.uncategorised,
            "unlocated": s.unlocated,
        },
        "events": event_names(lang),
        "sources": CaseSource::ALL.iter().map(|x| (x.as_str().to_string(), Value::from(lang.case_source(*x)))).collect::<serde_json::Map<String, Value>>(),
        "statuses": CaseStatus::ALL.iter().map(|x| (x.as_str().to_string(), Value::from(lang.case_status(*x)))).collect::<serde_json::Map<String, Value>>(),
    })
}

/// The ticker's words for each event name.
fn event_names(lang: Lang) -> serde_json::Map<String, Value> {
    let mut names: Vec<String> = ["report", "light_yellow", "overdue"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(
        cityops_domain::case::CaseAction::ALL
            .iter()
            .map(|a| a.as_str().to_string()),
    );
    names
        .into_iter()
        .map(|n| {
            let v = Value::from(lang.case_event(&n));
            (n, v)
        })
        .collect()
}

/// `GET /screen`
pub(crate) async fn page(State(st): State<UiState>, ctx: Ctx) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let s = lang.screen();
    if !may_view_dashboard(&ctx.user) {
        return status_page(
            &st,
            &ctx,
            StatusCode::FORBIDDEN,
            Section::Overview,
            s.screen_title,
            s.screen_forbidden,
        )
        .await;
    }
    let city = tree::tree(&st)
        .await
        .lang(lang)?
        .city()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    // The categories and districts come with the figures; the page itself needs only its texts.
    let show_index = cityops_app::evaluation::may_evaluate(&ctx.user);
    let show_alarms = super::monitoring_alarms::screen_shows_alarms(&st, &ctx.user);
    let config = js_config(lang, &st, show_index, show_alarms);
    let mut resp = render(
        StatusCode::OK,
        &ScreenPage {
            lang,
            s,
            city,
            toggle_url: crate::layout::toggle_url(&ctx.path_and_query, lang.other()),
            csrf_token: ctx.csrf_token.clone(),
            config: script_json(&config),
            show_index,
            e: lang.eval(),
            show_alarms,
            m: lang.monitoring(),
        },
        lang,
    )?;
    if let Some(csp) = tile_csp(&st) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// The console's CSP with the basemap's origin added to `img-src`, when a tile URL is set.
pub(crate) fn tile_csp(st: &UiState) -> Option<HeaderValue> {
    let url = st.app.config.map_tile_url.as_deref()?;
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    // `{s}` subdomains: allow every subdomain of the host.
    let host = host.replace("{s}.", "*.");
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'))
    {
        return None;
    }
    let csp = crate::util::CSP.replace(
        "img-src 'self' data:",
        &format!("img-src 'self' data: {scheme}://{host}"),
    );
    HeaderValue::from_str(&csp).ok()
}

fn rate(r: Option<f64>) -> Value {
    r.map_or(Value::Null, |r| json!((r * 1000.0).round() / 10.0))
}

/// How long ago `due` passed, in the language (天/小时/分).
fn overdue_for(lang: Lang, now: DateTime<Utc>, due: DateTime<Utc>) -> String {
    let s = lang.screen();
    let mins = (now - due).num_minutes().max(0);
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    let sep = if lang == Lang::Zh { "" } else { " " };
    if d > 0 {
        format!("{d}{sep}{}{sep}{h}{sep}{}", s.days, s.hours)
    } else if h > 0 {
        format!("{h}{sep}{}{sep}{m}{sep}{}", s.hours, s.minutes)
    } else {
        format!("{m}{sep}{}", s.minutes)
    }
}

/// The figures as the big screen shows them (names in the language).
pub(crate) async fn data_json(
    st: &UiState,
    lang: Lang,
    d: &Dashboard,
    window_days: u32,
    now: DateTime<Utc>,
) -> Result<Value, UiError> {
    let s = lang.screen();
    let tree = tree::tree(st).await?;
    let cat = st.app.app.catalogue().await.map_err(service_error)?;
    let kind_name = |k: Option<CategoryKind>| match k {
        Some(CategoryKind::Component) => s.kind_component,
        Some(CategoryKind::Matter) => s.kind_matter,
        None => "",
    };
    let category_name = |k: Option<CategoryKind>, code: Option<&str>| match (k, code) {
        (Some(k), Some(c)) => cat
            .category(k, c)
            .map_or_else(|| c.to_string(), |x| x.name.clone()),
        (None, Some(c)) => c.to_string(),
        _ => s.uncategorised.to_string(),
    };
    let by_category: Vec<Value> = d
        .by_category
        .iter()
        .take(SCREEN_CATEGORIES)
        .map(|c| {
            json!({
                "kind": c.kind.map(|k| k.as_str()),
                "kind_name": kind_name(c.kind),
                "code": c.code,
                "name": category_name(c.kind, c.code.as_deref()),
                "count": c.count,
            })
        })
        .collect();
    let by_class: Vec<Value> = d
        .by_class
        .iter()
        .map(|c| {
            // A class is named by any category of it that was counted.
            let name = d
                .by_category
                .iter()
                .filter(|x| x.kind == c.kind)
                .filter_map(|x| {
                    let code = x.code.as_deref()?;
                    (Some(&code[..2.min(code.len())]) == c.code.as_deref())
                        .then(|| cat.category(x.kind?, code))
                        .flatten()
                })
                .map(|x| x.class_name.clone())
                .next()
                .unwrap_or_else(|| {
                    c.code
                        .clone()
                        .unwrap_or_else(|| s.uncategorised.to_string())
                });
            json!({
                "kind": c.kind.map(|k| k.as_str()),
                "kind_name": kind_name(c.kind),
                "code": c.code,
                "name": name,
                "count": c.count,
            })
        })
        .collect();
    let region_name = |code: Option<&str>| match code {
        Some(c) => tree.name(c).unwrap_or(c).to_string(),
        None => s.unlocated.to_string(),
    };
    let by_district: Vec<Value> = d
        .by_district
        .iter()
        .map(|k| json!({"code": k.key, "name": region_name(k.key.as_deref()), "count": k.count}))
        .collect();
    let by_source: Vec<Value> = d
        .by_source
        .iter()
        .map(|k| {
            let name = k
                .key
                .as_deref()
                .and_then(|x| x.parse::<CaseSource>().ok())
                .map_or_else(
                    || k.key.clone().unwrap_or_default(),
                    |x| lang.case_source(x).to_string(),
                );
            json!({"key": k.key, "name": name, "count": k.count})
        })
        .collect();
    let trend: Vec<Value> = d
        .daily
        .iter()
        .map(|x| {
            json!({
                "day": x.day.to_string(),
                "label": x.day.format("%m-%d").to_string(),
                "reported": x.reported,
                "closed": x.closed,
            })
        })
        .collect();
    let overdue: Vec<Value> = d
        .overdue
        .iter()
        .map(|c| {
            let due = c.clock.as_ref().and_then(|k| k.due);
            json!({
                "id": c.id,
                "code": c.code,
                "category": category_name(c.category_kind, c.category_code.as_deref()),
                "district": region_name(c.location.district_code.as_deref()),
                "street": c.location.street_code.as_deref().map(|x| region_name(Some(x))),
                "status": lang.case_status(c.status),
                "due": due,
                "overdue_for": due.map(|due| overdue_for(lang, now, due)),
                "lng": c.location.lng,
                "lat": c.location.lat,
            })
        })
        .collect();
    Ok(json!({
        "generated_at": now,
        "window_days": window_days,
        "window_label": s.window_label.replace("{n}", &window_days.to_string()),
        "today": d.today,
        "window": {
            "reported": d.reported,
            "closed": d.closed,
            "closed_on_time": d.closed_on_time,
            "cancelled": d.cancelled,
            "closure_rate": rate(d.closure_rate()),
            "on_time_rate": rate(d.on_time_rate()),
        },
        "trend": trend,
        "by_category": by_category,
        "by_class": by_class,
        "by_district": by_district,
        "by_source": by_source,
        "overdue_total": d.overdue_total,
        "overdue": overdue,
    }))
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /screen/data.json?days=30`: the figures of the last `days` local days (1–366, default
/// 30) as the big screen shows them. 401 without a session, 403 without dashboard rights.
pub(crate) async fn data(
    State(st): State<UiState>,
    JsonUser(user): JsonUser,
    lang_parts: LangOf,
    Query(q): Query<DataQuery>,
) -> Response {
    let lang = lang_parts.0;
    let days = match q.days.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => TREND_DAYS,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_WINDOW_DAYS).contains(&n) => n,
            _ => {
                return cityops_web::ApiError::invalid_query(format!(
                    "days {s:?}: a whole number from 1 to {MAX_WINDOW_DAYS}"
                ))
                .into_response();
            }
        },
    };
    let now = st.app.clock.now();
    let d = match st.app.app.dashboard(&user, days, SCREEN_OVERDUE).await {
        Ok(d) => d,
        Err(e) => return cityops_web::ApiError::from(e).into_response(),
    };
    match data_json(&st, lang, &d, days, now).await {
        Ok(v) => no_store(axum::Json(v).into_response()),
        Err(e) => e.json(),
    }
}

/// The language of a JSON request (cookie or `?lang=`).
pub(crate) struct LangOf(pub Lang);

impl axum::extract::FromRequestParts<UiState> for LangOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _st: &UiState,
    ) -> Result<Self, Self::Rejection> {
        Ok(LangOf(Lang::of(parts)))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CasesQuery {
    bbox: Option<String>,
    zoom: Option<String>,
    status: Option<String>,
    category: Option<String>,
    source: Option<String>,
    days: Option<String>,
}

fn bad(message: String) -> Response {
    cityops_web::ApiError::invalid_query(message).into_response()
}

/// `GET /ui/cases.json?bbox=&zoom=&status=open|closed|overdue&category=&source=&days=`: the
/// case layer of a map view within the user's visibility — counted cells below zoom
/// [`CASE_POINTS_ZOOM`], else the newest [`CASE_POINTS_LIMIT`] cases.
pub(crate) async fn cases(
    State(st): State<UiState>,
    JsonUser(user): JsonUser,
    Query(q): Query<CasesQuery>,
) -> Response {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let Some(bbox) = clean(&q.bbox) else {
        return bad("bbox is required: minLng,minLat,maxLng,maxLat".into());
    };
    let Some(bbox) = crate::layers::parse_bbox(&bbox) else {
        return bad(format!(
            "bbox {bbox:?}: expected minLng,minLat,maxLng,maxLat"
        ));
    };
    let zoom = match clean(&q.zoom) {
        None => 10.0,
        Some(z) => match z.parse::<f64>() {
            Ok(z) if (0.0..=22.0).contains(&z) => z,
            _ => return bad(format!("zoom {z:?}: a number from 0 to 22")),
        },
    };
    let now = st.app.clock.now();
    let mut query = CaseQuery::new(now);
    query.bbox = Some(bbox);
    match clean(&q.status).as_deref() {
        None => {}
        Some("open") => {
            query.statuses = CaseStatus::ALL
                .iter()
                .copied()
                .filter(|s| s.is_open())
                .collect()
        }
        Some("closed") => query.statuses = vec![CaseStatus::Closed],
        Some("overdue") => query.light = Some(cityops_domain::calendar::Light::Red),
        Some(other) => {
            return bad(format!(
                "status {other:?}: open, closed or overdue (or none for all)"
            ));
        }
    }
    query.category = clean(&q.category);
    if let Some(src) = clean(&q.source) {
        match src.parse::<CaseSource>() {
            Ok(s) => query.source = Some(s),
            Err(_) => return bad(format!("source {src:?}: not a case source")),
        }
    }
    if let Some(days) = clean(&q.days) {
        match days.parse::<i64>() {
            Ok(n) if (1..=3660).contains(&n) => query.from = Some(now - Duration::days(n)),
            _ => return bad(format!("days {days:?}: a whole number from 1 to 3660")),
        }
    }
    let detail = if zoom >= CASE_POINTS_ZOOM {
        CaseMapDetail::Points {
            limit: CASE_POINTS_LIMIT,
        }
    } else {
        CaseMapDetail::Cells {
            size: 360.0 / 2f64.powf(zoom.floor()) / CELLS_PER_TILE,
        }
    };
    let vis = CaseVisibility::for_user(&user);
    match st.app.store.case_map(&query, &vis, detail).await {
        Ok(map) => {
            let mode = match detail {
                CaseMapDetail::Points { .. } => "points",
                CaseMapDetail::Cells { .. } => "cells",
            };
            no_store(
                axum::Json(json!({
                    "mode": mode,
                    "total": map.total,
                    "cells": map.cells,
                    "points": map.points,
                    "limit": CASE_POINTS_LIMIT,
                    "points_zoom": CASE_POINTS_ZOOM,
                }))
                .into_response(),
            )
        }
        Err(StoreError::Invalid(m)) => bad(m),
        Err(e) => cityops_web::ApiError::from(e).into_response(),
    }
}

/// The filter choices of the map's case layer (codes of the catalogue classes by kind).
pub(crate) fn case_filter_config(lang: Lang) -> Value {
    use cityops_domain::calendar::Light;
    let s = lang.screen();
    let lights: serde_json::Map<String, Value> = [Light::Green, Light::Yellow, Light::Red]
        .iter()
        .map(|l| (l.as_str().to_string(), Value::from(lang.light(*l))))
        .collect();
    json!({
        "points_zoom": CASE_POINTS_ZOOM,
        // Loaded after Leaflet (the page's scripts run in order; Leaflet comes last).
        "heat_src": crate::assets::url("vendor/leaflet.heat/leaflet-heat.js"),
        "t": {
            "cases_in_view": s.cases_in_view,
            "cases_zoom_for_points": s.cases_zoom_for_points,
            "cases_capped": s.cases_capped,
            "open_case": s.open_case,
            "status": s.col_status,
            "category": s.col_category,
        },
        "statuses": CaseStatus::ALL.iter().map(|x| (x.as_str().to_string(), Value::from(lang.case_status(*x)))).collect::<serde_json::Map<String, Value>>(),
        "lights": lights,
    })
}
