//! 报警墙 (the live alarm wall): `/monitoring/alarms`, the active alarms the viewer may see,
//! newest first, with their level, device, rule, value, time and case, and a 确认 button per
//! raised alarm (`POST /monitoring/alarms/{id}/acknowledge` → `MonitoringService::acknowledge`;
//! htmx swaps the wall in place, without JS the form posts and lands back on the page).
//!
//! `/monitoring/events` is the wall's event stream (server-sent events): the monitoring service's
//! alarm changes, each tested against the viewer's scope in memory (the device's located codes
//! from the registry, or those the change carries), with a greeting, keep-alive comments, a
//! `resync` when the listener fell behind the bounded broadcast, and an end after
//! [`MAX_STREAM`] (the browser reconnects) — as the big screen's `/screen/events`.
//!
//! `/screen/alarms.json` is the big screen's alarm panel: active alarms by lifeline and level and
//! the newest few.
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use cityops_app::ServiceError;
use cityops_app::monitoring::{AlarmChange, Registry};
use cityops_domain::PageRequest;
use cityops_domain::monitoring::AlarmStatus;
use cityops_store::AlarmFilter;
use futures_util::stream::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::Receiver;

use super::monitoring::{
    AlarmRow, NoticeQuery, Scope, active_alarms, alarm_rows, guard, local, notices, safe_back,
    without_notices,
};
use super::screen::LangOf;
use super::{num, render, see_other, status_page};
use crate::UiState;
use crate::auth::{Ctx, JsonUser};
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::i18n_monitoring::{LIFELINES, MonitoringTr, num as fmt_num};
use crate::layout::{Layout, Section};
use crate::util::{Pager, page_request, url_with};

/// Alarms per page of the wall.
const WALL_PAGE: u32 = 100;
/// The longest one stream lives before the browser reconnects (as the big screen's).
pub(crate) const MAX_STREAM: Duration = cityops_web::live::MAX_STREAM;
/// The newest alarms the big screen lists.
const SCREEN_NEWEST: usize = 3;

#[derive(Template)]
#[template(path = "monitoring_alarms.html")]
pub(crate) struct WallPage {
    pub l: Layout,
    pub m: &'static MonitoringTr,
    pub rows: Vec<AlarmRow>,
    pub pager: Pager,
    pub all: bool,
    pub levels: Vec<(String, &'static str, bool)>,
    pub active_total: String,
    pub raised_total: String,
    pub back: String,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
    pub config: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WallQuery {
    level: Option<String>,
    show: Option<String>,
    page: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

async fn count(st: &UiState, ctx: &Ctx, filter: AlarmFilter) -> Result<u64, PageError> {
    let service = st
        .app
        .monitoring()
        .map_err(|e| crate::error::UiError::Internal(e.to_string()))
        .lang(ctx.lang)?;
    Ok(service
        .list_alarms(
            &ctx.user,
            filter,
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .map_err(super::cases::service_error)
        .lang(ctx.lang)?
        .total)
}

/// `GET /monitoring/alarms?level=&show=active|all&page=`
pub(crate) async fn wall(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<WallQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let m = lang.monitoring();
    let (service, _scope) = match guard(&st, &ctx, Section::Alarms).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let level = num::<u8>(&q.level).filter(|l| (1..=3).contains(l));
    let all = q.show.as_deref() == Some("all");
    let page = page_request(num(&q.page), Some(WALL_PAGE));
    let got = service
        .list_alarms(
            &ctx.user,
            AlarmFilter {
                active: !all,
                level,
                ..Default::default()
            },
            page,
        )
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?;
    let reg = service.registry();
    let rows = alarm_rows(&st, lang, &ctx.user, &reg, got.items).await?;
    let mut filters = Vec::new();
    if let Some(l) = level {
        filters.push(("level", l.to_string()));
    }
    if all {
        filters.push(("show", "all".to_string()));
    }
    let pager = Pager::new(
        "/monitoring/alarms",
        &filters,
        page.page,
        page.page_size,
        got.total,
    );
    let active_total = count(
        &st,
        &ctx,
        AlarmFilter {
            active: true,
            ..Default::default()
        },
    )
    .await?;
    let raised_total = count(
        &st,
        &ctx,
        AlarmFilter {
            status: Some(AlarmStatus::Raised),
            ..Default::default()
        },
    )
    .await?;
    let (notice, error) = notices(
        m,
        &NoticeQuery {
            done: q.done.clone(),
            error: q.error.clone(),
        },
    );
    let config = json!({
        "t": {
            "live_on": m.live_on,
            "live_off": m.live_off,
            "new_alarm": m.new_alarm_announce,
        },
        "names": super::monitoring::names_json(m),
    });
    let l = Layout::new(&st, &ctx, Section::Alarms, m.wall_title).await;
    render(
        StatusCode::OK,
        &WallPage {
            l,
            m,
            rows,
            pager,
            all,
            levels: std::iter::once((String::new(), m.any_level, level.is_none()))
                .chain(
                    (1..=3u8)
                        .rev()
                        .map(|x| (x.to_string(), m.level(x), level == Some(x))),
                )
                .collect(),
            active_total: crate::util::fmt_int(active_total),
            raised_total: crate::util::fmt_int(raised_total),
            back: without_notices(&url_with("/monitoring/alarms", &filters)),
            notice,
            error,
            config: super::script_json(&config),
        },
        lang,
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AckForm {
    back: Option<String>,
}

fn with_param(url: &str, kv: &str) -> String {
    if url.contains('?') {
        format!("{url}&{kv}")
    } else {
        format!("{url}?{kv}")
    }
}

/// `POST /monitoring/alarms/{id}/acknowledge` (form: `csrf_token`, `back`): 确认, then back to
/// the page it came from with a notice (`done=ack`, or `error=ack_conflict|ack_not_found`).
pub(crate) async fn acknowledge(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AckForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (service, _scope) = match guard(&st, &ctx, Section::Alarms).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let back = safe_back(f.back.as_deref());
    let Ok(id) = id.parse::<i64>() else {
        return Ok(see_other(&with_param(&back, "error=ack_not_found")));
    };
    match service.acknowledge(&ctx.user, id).await {
        Ok(_) => {
            st.caches.alarm_counts.forget(ctx.user.id);
            Ok(see_other(&with_param(&back, "done=ack")))
        }
        Err(ServiceError::Conflict(_) | ServiceError::InvalidTransition { .. }) => {
            Ok(see_other(&with_param(&back, "error=ack_conflict")))
        }
        Err(ServiceError::Store(cityops_store::StoreError::Conflict(_))) => {
            Ok(see_other(&with_param(&back, "error=ack_conflict")))
        }
        Err(ServiceError::NotFound(_)) => Ok(see_other(&with_param(&back, "error=ack_not_found"))),
        Err(ServiceError::Forbidden(_)) => {
            status_page(
                &st,
                &ctx,
                StatusCode::FORBIDDEN,
                Section::Alarms,
                lang.tr().forbidden_title,
                lang.monitoring().forbidden,
            )
            .await
        }
        Err(e) => Err(super::cases::service_error(e)).lang(lang),
    }
}

// ---------------------------------------------------------------------------------------------
// The event stream

/// Whether a change concerns a device in `scope`: the registry's located codes of the device
/// when it knows it, else the codes the change carries.
pub(crate) fn change_in_scope(reg: &Registry, scope: &Scope, ch: &AlarmChange) -> bool {
    match reg.active(&ch.alarm.device_id) {
        Some(e) => scope.admits(&e.device),
        None => scope.admits_codes(
            [
                None,
                None,
                ch.street_code.as_deref(),
                ch.district_code.as_deref(),
            ],
            ch.department_id,
        ),
    }
}

/// A change as the pages read it (names in the viewer's language; no personal data).
pub(crate) fn change_json(lang: Lang, reg: &Registry, ch: &AlarmChange) -> Value {
    let m = lang.monitoring();
    let a = &ch.alarm;
    let d = reg.active(&a.device_id).map(|e| &e.device);
    json!({
        "what": ch.what,
        "what_name": m.what(ch.what),
        "id": a.id,
        "device_id": a.device_id,
        "device_name": d.map(|d| d.name.as_str()),
        "type": d.map(|d| d.device_type.as_str()),
        "lifeline": d.map(|d| d.device_type.lifeline()),
        "rule": a.rule,
        "level": a.level,
        "level_name": m.level(a.level),
        "status": a.status.as_str(),
        "metric": m.metric(a.metric),
        "value": fmt_num(a.value),
        "unit": if super::monitoring::is_offline(reg, a) { m.minutes } else { a.metric.unit() },
        "raised_at": a.raised_at,
        "at": a.updated_at,
        "case_id": a.case_id,
    })
}

/// The events of one listener: `ready`, then `alarm` for each change in scope and `resync` when
/// it fell behind, until `lifetime` or the service goes away (`cityops_web::live`'s stream).
pub(crate) fn events(
    rx: Receiver<Arc<AlarmChange>>,
    service: Arc<cityops_app::MonitoringService>,
    scope: Scope,
    lang: Lang,
    lifetime: Duration,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    cityops_web::live::broadcast_events(rx, lifetime, move |change: &AlarmChange| {
        let reg = service.registry();
        if !change_in_scope(&reg, &scope, change) {
            return None;
        }
        Event::default()
            .event("alarm")
            .json_data(change_json(lang, &reg, change))
            .map_err(|e| tracing::warn!(error = %e, "an alarm change could not be encoded"))
            .ok()
    })
}

/// `GET /monitoring/events`: server-sent events of the alarm changes in the viewer's scope.
/// 401 without a session, 403 for roles that do not watch, 503 when monitoring does not run.
pub(crate) async fn stream_handler(
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
        Err(e) => return cityops_web::ApiError::from(e).into_response(),
    };
    let rx = service.subscribe();
    cityops_web::live::sse_response(events(rx, service, scope, lang, MAX_STREAM))
}

// ---------------------------------------------------------------------------------------------
// The big screen's alarm panel

/// Whether the big screen shows the alarm panel to this user.
pub(crate) fn screen_shows_alarms(st: &UiState, user: &cityops_domain::User) -> bool {
    super::monitoring::may_watch(st, user)
}

/// `GET /screen/alarms.json`: the active alarms the viewer may see by lifeline (each with its
/// counts by level 1–3) and the newest few. 401/403/503 as the device map's JSON.
pub(crate) async fn screen_alarms(
    State(st): State<UiState>,
    JsonUser(user): JsonUser,
    LangOf(lang): LangOf,
) -> Response {
    let service = match st.app.monitoring() {
        Ok(s) => s.clone(),
        Err(e) => return e.into_response(),
    };
    let alarms = match active_alarms(&service, &user).await {
        Ok(a) => a,
        Err(e) => return cityops_web::ApiError::from(e).into_response(),
    };
    let m = lang.monitoring();
    let reg = service.registry();
    let devices: std::collections::HashMap<&str, &cityops_domain::monitoring::Device> = reg
        .devices()
        .map(|e| (e.device.id.as_str(), &e.device))
        .collect();
    let mut by: std::collections::HashMap<&str, [u64; 3]> = std::collections::HashMap::new();
    let mut levels = [0u64; 3];
    for a in &alarms {
        let lifeline = devices
            .get(a.device_id.as_str())
            .map_or("", |d| d.device_type.lifeline());
        let i = usize::from(a.level.clamp(1, 3) - 1);
        by.entry(lifeline).or_default()[i] += 1;
        levels[i] += 1;
    }
    let by_lifeline: Vec<Value> = LIFELINES
        .iter()
        .map(|k| {
            let c = by.get(k).copied().unwrap_or_default();
            json!({"key": k, "name": m.lifeline(k), "levels": c, "total": c.iter().sum::<u64>()})
        })
        .collect();
    let newest: Vec<Value> = alarms
        .iter()
        .take(SCREEN_NEWEST)
        .map(|a| {
            let d = devices.get(a.device_id.as_str());
            json!({
                "id": a.id,
                "device_id": a.device_id,
                "device_name": d.map_or(a.device_id.as_str(), |d| d.name.as_str()),
                "lifeline": d.map(|d| m.lifeline(d.device_type.lifeline())),
                "rule": a.rule,
                "level": a.level,
                "level_name": m.level(a.level),
                "value": fmt_num(a.value),
                "unit": if super::monitoring::is_offline(&reg, a) { m.minutes } else { a.metric.unit() },
                "at": local(&st, a.raised_at),
                "case_id": a.case_id,
            })
        })
        .collect();
    let mut resp = axum::Json(json!({
        "total": alarms.len(),
        "levels": levels,
        "by_lifeline": by_lifeline,
        "newest": newest,
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
