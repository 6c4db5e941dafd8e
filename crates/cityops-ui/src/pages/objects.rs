//! 一码管全域 (management objects) in the console:
//!
//! - `/objects`: the coded objects the viewer may see (kind, street and text filters in the URL,
//!   paged), a small map of the page's objects, links to each object's QR label and to the label
//!   sheets of the filtered objects;
//! - `/objects/{code}`: one object — its fields, the responsibility zone on a small map, its QR
//!   label, the responsible party (in full for the roles that go to the object or send its
//!   notices — supervisors, inspectors, enforcement officers, department handlers — and the party
//!   themselves; masked for everyone else), the latest self-check and inspection with their
//!   failing items and photos, the 双保险 discrepancies of its inspections, the credibility score
//!   and the 三教而罚 rectification records with the notices sent, their deadlines and the
//!   enforcement case;
//! - `/objects/labels`: A4 sheets of the filtered objects' labels for printing (`@media print`);
//! - `/objects/discrepancies`: the discrepancies per street (supervisors, leaders, administrators);
//! - `/objects/stats`: problems closed at each stage per street and the 小事不出责任区 rate.
//!
//! Everything is read through `cityops_app::ObjectService` (scope, roles and the store's
//! queries are its business); the labels are drawn by `cityops_web::labels`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_app::ServiceError;
use cityops_app::objects::object_scope;
use cityops_domain::case::CaseVisibility;
use cityops_domain::objects::{DiscrepancyKind, ObjectCode, ObjectKind, RectStage, Rectification};
use cityops_domain::{PageRequest, RegionLevel, Role, User};
use cityops_store::{
    DiscrepancyFilter, ObjectFilter, RectificationFilter, StoredCheck, StoredObject,
    StoredRectification,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cases::service_error;
use super::{render, script_json, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n_objects::ObjectsTr;
use crate::layout::{Layout, Section};
use crate::tree;
use crate::util::{Pager, fmt_int, url_with};

/// Objects per page of the list.
const PAGE_SIZE: u32 = 50;
/// Checks shown on an object's page.
const CHECKS_SHOWN: u32 = 20;
/// Rectification records shown on an object's page.
const RECTS_SHOWN: u32 = 100;
/// Labels laid out on one print page (30 A4 sheets).
const LABELS_MAX: u32 = 270;

/// A `<select>` option.
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// `2026-11-22 14:30` in the working calendar's zone.
pub(crate) fn local(st: &UiState, t: DateTime<Utc>) -> String {
    t.with_timezone(&st.app.calendar().config().tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The 403 page when the viewer's role sees no objects.
async fn forbidden(st: &UiState, ctx: &Ctx, text: &str) -> Result<Response, PageError> {
    status_page(
        st,
        ctx,
        StatusCode::FORBIDDEN,
        Section::Objects,
        ctx.lang.tr().forbidden_title,
        text,
    )
    .await
}

async fn not_found(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    status_page(
        st,
        ctx,
        StatusCode::NOT_FOUND,
        Section::Objects,
        ctx.lang.tr().not_found_title,
        ctx.lang.objects().not_found,
    )
    .await
}

/// Whether the navigation shows 一码管全域 to this user (a role that sees objects).
pub(crate) fn may_see_objects(user: &User) -> bool {
    object_scope(user).is_ok()
}

/// Whether the user reads the supervisors' views (discrepancies, statistics) — the service's
/// rule.
pub(crate) fn supervises(user: &User) -> bool {
    user.roles
        .iter()
        .any(|r| matches!(r, Role::Admin | Role::Supervisor | Role::Leader))
}

/// Whether `user` sees an object's responsible party in full: the party, and the roles that go to
/// the object or send its notices.
fn sees_party(user: &User, object: &StoredObject) -> bool {
    object.object.responsible.user_id == Some(user.id)
        || user.roles.iter().any(|r| {
            matches!(
                r,
                Role::Supervisor | Role::Inspector | Role::Enforcement | Role::Handler
            )
        })
}

fn party_text(user: &User, object: &StoredObject) -> String {
    let p = &object.object.responsible;
    if sees_party(user, object) {
        format!("{} {}", p.name, p.phone)
    } else {
        let m = p.public();
        format!("{} {}", m.name, m.phone)
    }
}

/// The streets the viewer's scope reaches (every street for a scope without a region).
async fn street_options(
    st: &UiState,
    user: &User,
    selected: Option<&str>,
) -> Result<Vec<Opt>, PageError> {
    let tree = tree::tree(st).await.lang(crate::Lang::default())?;
    let prefixes = object_scope(user)
        .map(|s| s.region_prefixes)
        .unwrap_or_default();
    Ok(tree
        .level(RegionLevel::Street)
        .into_iter()
        .filter(|n| {
            prefixes.is_empty()
                || prefixes
                    .iter()
                    .any(|p| n.code.starts_with(p.as_str()) || p.starts_with(n.code.as_str()))
        })
        .map(|n| Opt {
            value: n.code.clone(),
            label: n.name.clone(),
            selected: selected == Some(n.code.as_str()),
        })
        .collect())
}

async fn street_name(st: &UiState, code: Option<&str>) -> String {
    let Some(code) = code else {
        return String::new();
    };
    match tree::tree(st).await {
        Ok(t) => t.name(code).unwrap_or(code).to_string(),
        Err(_) => code.to_string(),
    }
}

/// The filters of the list and of the label sheets, as the query gives them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    kind: Option<String>,
    street: Option<String>,
    q: Option<String>,
    page: Option<String>,
}

/// The filters checked: the store's filter, the values to show again, an error to show.
struct Filters {
    filter: ObjectFilter,
    kind: String,
    street: String,
    q: String,
    error: Option<String>,
}

impl ListQuery {
    fn filters(&self, o: &ObjectsTr) -> Filters {
        let trim = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or("").to_string();
        let (kind, street, q) = (trim(&self.kind), trim(&self.street), trim(&self.q));
        let mut error = None;
        let kind_v = kind.parse::<ObjectKind>().ok();
        let street_ok = street.len() == 9 && street.bytes().all(|b| b.is_ascii_digit());
        if !street.is_empty() && !street_ok {
            error = Some(o.err_street.to_string());
        }
        Filters {
            filter: ObjectFilter {
                kind: kind_v,
                street: street_ok.then(|| street.clone()),
                q: (!q.is_empty()).then(|| q.chars().take(100).collect()),
                responsible_user_id: None,
            },
            kind: if kind_v.is_some() {
                kind
            } else {
                String::new()
            },
            street: if street_ok { street } else { String::new() },
            q,
            error,
        }
    }

    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(1)
            .clamp(1, 1_000_000)
    }
}

fn kind_options(o: &ObjectsTr, selected: &str) -> Vec<Opt> {
    ObjectKind::ALL
        .iter()
        .map(|k| Opt {
            value: k.as_str().to_string(),
            label: o.kind(*k).to_string(),
            selected: k.as_str() == selected,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The list

/// One row of the list.
pub(crate) struct Row {
    pub code: String,
    pub grouped: String,
    pub name: String,
    pub kind: &'static str,
    pub address: String,
    pub street: String,
    pub party: String,
}

#[derive(Template)]
#[template(path = "objects_list.html")]
pub(crate) struct ListPage {
    pub l: Layout,
    pub o: &'static ObjectsTr,
    pub kinds: Vec<Opt>,
    pub streets: Vec<Opt>,
    pub q: String,
    pub error: Option<String>,
    pub rows: Vec<Row>,
    pub pager: Pager,
    pub clear_url: String,
    pub labels_url: String,
    pub map_config: String,
    pub supervises: bool,
}

/// `GET /objects`
pub(crate) async fn list(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    if !may_see_objects(&ctx.user) {
        return forbidden(&st, &ctx, o.forbidden).await;
    }
    let f = q.filters(o);
    let page = q.page();
    let objects = st
        .app
        .objects
        .list(
            &ctx.user,
            f.filter.clone(),
            PageRequest {
                page,
                page_size: PAGE_SIZE,
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    let tree = tree::tree(&st).await.lang(lang)?;
    let rows = objects
        .items
        .iter()
        .map(|s| {
            let ob = &s.object;
            Row {
                code: ob.code.to_string(),
                grouped: ob.code.grouped(),
                name: ob.name.clone(),
                kind: o.kind(ob.kind),
                address: ob.address.clone(),
                street: ob
                    .regions
                    .street
                    .as_ref()
                    .map(|c| tree.name(c.as_str()).unwrap_or(c.as_str()).to_string())
                    .unwrap_or_default(),
                party: party_text(&ctx.user, s),
            }
        })
        .collect();
    let filters = [
        ("kind", f.kind.clone()),
        ("street", f.street.clone()),
        ("q", f.q.clone()),
    ];
    let pager = Pager::new("/objects", &filters, page, PAGE_SIZE, objects.total);
    let points: Vec<Value> = objects
        .items
        .iter()
        .map(|s| {
            let ob = &s.object;
            json!({
                "code": ob.code.as_str(), "name": ob.name, "kind": o.kind(ob.kind),
                "lng": ob.point.lng, "lat": ob.point.lat,
            })
        })
        .collect();
    let map_config = json!({
        "mode": "points",
        "tile_url": st.app.config.map_tile_url,
        "bounds": st.app.index.bbox(),
        "points": points,
        "t": { "open": o.object_title },
    });
    let l = Layout::new(&st, &ctx, Section::Objects, o.list_title)
        .await
        .with_leaflet();
    let mut resp = render(
        StatusCode::OK,
        &ListPage {
            l,
            o,
            kinds: kind_options(o, &f.kind),
            streets: street_options(&st, &ctx.user, Some(f.street.as_str())).await?,
            q: f.q.clone(),
            error: f.error,
            rows,
            pager,
            clear_url: "/objects".into(),
            labels_url: url_with("/objects/labels", &filters),
            map_config: script_json(&map_config),
            supervises: supervises(&ctx.user),
        },
        lang,
    )?;
    if let Some(csp) = super::screen::tile_csp(&st) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------
// The object's page

/// A failing (or noted) item of a check, with its photos.
pub(crate) struct ItemView {
    pub code: String,
    pub text: String,
    pub passed: bool,
    pub note: String,
    /// (thumbnail URL, photo URL).
    pub photos: Vec<(String, String)>,
}

/// A check as the page shows it.
pub(crate) struct CheckView {
    pub id: i64,
    pub at: String,
    pub kind: &'static str,
    pub kind_key: &'static str,
    pub by: String,
    pub summary: String,
    /// (text, far).
    pub position: Option<(String, bool)>,
    pub failing: Vec<ItemView>,
}

/// A discrepancy of an inspection.
pub(crate) struct DiscView {
    pub at: String,
    pub item_code: String,
    pub item_text: String,
    pub kind: &'static str,
    pub kind_key: &'static str,
    pub compared: String,
}

/// A rectification record.
pub(crate) struct RectView {
    pub id: i64,
    pub item_code: String,
    pub item_text: String,
    pub legal_basis: String,
    pub stage: &'static str,
    pub stage_key: &'static str,
    pub source: &'static str,
    pub opened: String,
    pub due: String,
    pub overdue: bool,
    pub notices: Vec<String>,
    /// (href, label) of the enforcement case.
    pub case: Option<(String, String)>,
    pub case_pending: bool,
    pub closed: Option<String>,
}

#[derive(Template)]
#[template(path = "objects_detail.html")]
pub(crate) struct DetailPage {
    pub l: Layout,
    pub o: &'static ObjectsTr,
    pub code: String,
    pub grouped: String,
    pub name: String,
    pub kind: &'static str,
    pub fields: Vec<(&'static str, String)>,
    pub map_config: String,
    pub label_url: String,
    pub scan_url: String,
    pub credibility: String,
    pub credibility_hint: String,
    pub has_credibility: bool,
    pub latest_self: Option<CheckView>,
    pub latest_insp: Option<CheckView>,
    pub checks: Vec<CheckView>,
    pub discrepancies: Vec<DiscView>,
    pub rects: Vec<RectView>,
    pub open_count: usize,
}

fn check_view(
    st: &UiState,
    o: &ObjectsTr,
    c: &StoredCheck,
    photos: &HashMap<i64, String>,
) -> CheckView {
    let items = st.app.objects.checklists();
    let photo = |id: &i64| {
        photos.get(id).map(|p| {
            (
                format!("/api/v1/attachments/{p}/thumb"),
                format!("/api/v1/attachments/{p}"),
            )
        })
    };
    CheckView {
        id: c.id,
        at: local(st, c.check.at),
        kind: o.check_kind(c.check.kind),
        kind_key: c.check.kind.as_str(),
        by: c.by_name.clone(),
        summary: o.summary(c.check.results.len(), c.check.failing().count()),
        position: c
            .position_check
            .map(|p| (o.position(p.distance_m, p.far), p.far)),
        failing: c
            .check
            .results
            .iter()
            .filter(|r| !r.passed || r.note.is_some() || !r.photo_ids.is_empty())
            .map(|r| ItemView {
                code: r.item_code.clone(),
                text: items
                    .item(&r.item_code)
                    .map(|i| i.text.clone())
                    .unwrap_or_default(),
                passed: r.passed,
                note: r.note.clone().unwrap_or_default(),
                photos: r.photo_ids.iter().filter_map(photo).collect(),
            })
            .collect(),
    }
}

fn rect_view(
    st: &UiState,
    o: &ObjectsTr,
    r: &StoredRectification,
    now: DateTime<Utc>,
    cases: &HashMap<i64, String>,
) -> RectView {
    let rec: &Rectification = &r.record;
    let item = st.app.objects.checklists().item(&rec.item_code);
    let due = match (rec.stage, rec.due) {
        (RectStage::Open, None) => o.due_now.to_string(),
        (_, Some(d)) => local(st, d),
        _ => String::new(),
    };
    RectView {
        id: r.id,
        item_code: rec.item_code.clone(),
        item_text: item.map(|i| i.text.clone()).unwrap_or_default(),
        legal_basis: item.map(|i| i.legal_basis.clone()).unwrap_or_default(),
        stage: o.stage(rec.stage),
        stage_key: rec.stage.as_str(),
        source: o.check_kind(rec.source),
        opened: local(st, rec.opened_at),
        overdue: rec.is_open() && rec.due.is_some_and(|d| d < now),
        due,
        notices: rec
            .notices
            .iter()
            .map(|n| {
                let mut s = o.notice(n.stage, &local(st, n.sent_at), &local(st, n.due));
                if n.unscheduled {
                    s.push_str(o.unscheduled);
                }
                s
            })
            .collect(),
        case: r.enforcement_case_id.map(|id| {
            (
                format!("/cases/{id}"),
                cases.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
            )
        }),
        case_pending: rec.stage == RectStage::Enforcement && r.enforcement_case_id.is_none(),
        closed: rec
            .rectified_at
            .map(|t| ObjectsTr::at(o.rectified_at, &local(st, t))),
    }
}

/// The map of an object's page: its point and its zone.
fn zone_config(o: &ObjectsTr, s: &StoredObject, tile_url: &Option<String>) -> Value {
    let ob = &s.object;
    json!({
        "mode": "zone",
        "tile_url": tile_url,
        "point": [ob.point.lng, ob.point.lat],
        "zone": ob.zone.as_ref().map(|z| z.ring().iter().map(|p| [p.lng, p.lat]).collect::<Vec<_>>()),
        "t": { "point": o.object_point, "zone": o.f_zone },
    })
}

/// `GET /objects/{code}`
pub(crate) async fn detail(
    State(st): State<UiState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    if !may_see_objects(&ctx.user) {
        return forbidden(&st, &ctx, o.forbidden).await;
    }
    let Ok(code) = ObjectCode::parse(&code) else {
        return not_found(&st, &ctx).await;
    };
    let svc = &st.app.objects;
    let d = match svc.detail(&ctx.user, &code).await {
        Ok(d) => d,
        Err(ServiceError::NotFound(_)) => return not_found(&st, &ctx).await,
        Err(ServiceError::Forbidden(_)) => return forbidden(&st, &ctx, o.forbidden).await,
        Err(e) => return Err(service_error(e)).lang(lang),
    };
    let checks = svc
        .checks(
            &ctx.user,
            &code,
            None,
            PageRequest {
                page: 1,
                page_size: CHECKS_SHOWN,
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    let rects = svc
        .rectifications(
            &ctx.user,
            RectificationFilter {
                object: Some(code.clone()),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: RECTS_SHOWN,
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    // Photos of every check shown, in one look-up.
    let mut photo_ids: Vec<i64> = checks
        .items
        .iter()
        .chain(d.latest_self_check.iter())
        .chain(d.latest_inspection.iter())
        .flat_map(|c| {
            c.check
                .results
                .iter()
                .flat_map(|r| r.photo_ids.iter().copied())
        })
        .collect();
    photo_ids.sort_unstable();
    photo_ids.dedup();
    let photos = svc
        .photo_public_ids(&photo_ids)
        .await
        .map_err(service_error)
        .lang(lang)?;
    // The enforcement cases' codes, where the viewer may see them.
    let vis = CaseVisibility::for_user(&ctx.user);
    let mut cases = HashMap::new();
    for id in rects.items.iter().filter_map(|r| r.enforcement_case_id) {
        if let Some(c) = st.app.store.get_case(id, &vis).await.lang(lang)? {
            cases.insert(id, c.code);
        }
    }
    let now = st.app.clock.now();
    let ob = &d.object.object;
    let tree = tree::tree(&st).await.lang(lang)?;
    let regions = [
        ob.regions.district.as_ref(),
        ob.regions.street.as_ref(),
        ob.regions.community.as_ref(),
        ob.regions.grid.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| tree.name(c.as_str()).unwrap_or(c.as_str()).to_string())
    .collect::<Vec<_>>()
    .join(" / ");
    let department = match ob.owner_department_id {
        Some(id) => st
            .app
            .store
            .get_department(id)
            .await
            .lang(lang)?
            .map(|d| d.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut party = party_text(&ctx.user, &d.object);
    if ob.responsible.user_id.is_some() {
        party = format!("{party}（{}）", o.f_party_account);
    }
    let zone = match &ob.zone {
        Some(z) => ObjectsTr::n(o.zone_area, fmt_int(z.area_m2().round() as u64)),
        None => o.zone_none.to_string(),
    };
    let fields = vec![
        (o.f_code, ob.code.grouped()),
        (o.f_kind, o.kind(ob.kind).to_string()),
        (o.f_name, ob.name.clone()),
        (o.f_address, ob.address.clone()),
        (o.f_regions, regions),
        (
            o.f_position,
            format!("{:.6}, {:.6}", ob.point.lng, ob.point.lat),
        ),
        (o.f_zone, zone),
        (o.f_party, party),
        (o.f_department, department),
    ];
    let discrepancies = checks
        .items
        .iter()
        .filter_map(|c| c.comparison.as_ref().map(|cmp| (c, cmp)))
        .flat_map(|(c, cmp)| cmp.discrepancies.iter().map(move |x| (c, cmp, x)))
        .map(|(c, cmp, x)| DiscView {
            at: local(&st, c.check.at),
            item_code: x.item_code.clone(),
            item_text: svc
                .checklists()
                .item(&x.item_code)
                .map(|i| i.text.clone())
                .unwrap_or_default(),
            kind: o.discrepancy(x.kind),
            kind_key: ObjectsTr::discrepancy_key(x.kind),
            compared: match cmp.self_check_at {
                Some(t) => ObjectsTr::at(o.compared_with, &local(&st, t)),
                None => o.no_self_check.to_string(),
            },
        })
        .collect();
    let rect_views: Vec<RectView> = rects
        .items
        .iter()
        .map(|r| rect_view(&st, o, r, now, &cases))
        .collect();
    let open_count = rects.items.iter().filter(|r| r.record.is_open()).count();
    let origin = cityops_web::labels::public_origin(&st.app.config, &headers);
    let title = format!("{} {}", ob.name, ob.code.grouped());
    let l = Layout::new(&st, &ctx, Section::Objects, title)
        .await
        .with_leaflet();
    let page = DetailPage {
        l,
        o,
        code: ob.code.to_string(),
        grouped: ob.code.grouped(),
        name: ob.name.clone(),
        kind: o.kind(ob.kind),
        fields,
        map_config: script_json(&zone_config(o, &d.object, &st.app.config.map_tile_url)),
        label_url: format!("/api/v1/objects/{}/label.svg", ob.code),
        scan_url: cityops_web::labels::scan_url(&origin, &ob.code),
        has_credibility: d.credibility.is_some(),
        credibility: o.credibility(d.credibility),
        credibility_hint: ObjectsTr::n(
            o.credibility_hint,
            st.app.objects.settings().credibility_window,
        ),
        latest_self: d
            .latest_self_check
            .as_ref()
            .map(|c| check_view(&st, o, c, &photos)),
        latest_insp: d
            .latest_inspection
            .as_ref()
            .map(|c| check_view(&st, o, c, &photos)),
        checks: checks
            .items
            .iter()
            .map(|c| check_view(&st, o, c, &photos))
            .collect(),
        discrepancies,
        rects: rect_views,
        open_count,
    };
    let mut resp = render(StatusCode::OK, &page, lang)?;
    if let Some(csp) = super::screen::tile_csp(&st) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------
// Label sheets

#[derive(Template)]
#[template(path = "objects_labels.html")]
pub(crate) struct LabelsPage {
    pub l: Layout,
    pub o: &'static ObjectsTr,
    pub count: String,
    pub capped: Option<String>,
    /// Each A4 sheet: its labels as inline SVG.
    pub sheets: Vec<Vec<String>>,
    pub back_url: String,
    pub pager: Pager,
}

/// `GET /objects/labels?kind=&street=&q=&page=`: up to [`LABELS_MAX`] labels of the filtered
/// objects laid out on A4 sheets, printed with the browser's print dialog.
pub(crate) async fn labels(
    State(st): State<UiState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    if !may_see_objects(&ctx.user) {
        return forbidden(&st, &ctx, o.forbidden).await;
    }
    let f = q.filters(o);
    let page = q.page();
    let objects = st
        .app
        .objects
        .list(
            &ctx.user,
            f.filter.clone(),
            PageRequest {
                page,
                page_size: LABELS_MAX,
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    let mut svgs = Vec::with_capacity(objects.items.len());
    for s in &objects.items {
        let data = cityops_web::labels::label_data(&st.app, &headers, &s.object);
        let svg = cityops_web::labels::label_svg(&data)
            .map_err(|e| crate::error::UiError::Internal(e.to_string()))
            .lang(lang)?;
        svgs.push(svg);
    }
    let sheets = svgs
        .chunks(cityops_web::labels::PER_SHEET)
        .map(<[String]>::to_vec)
        .collect();
    let filters = [
        ("kind", f.kind.clone()),
        ("street", f.street.clone()),
        ("q", f.q.clone()),
    ];
    let per = cityops_web::labels::PER_SHEET as u64;
    let l = Layout::new(&st, &ctx, Section::Objects, o.sheets_title).await;
    render(
        StatusCode::OK,
        &LabelsPage {
            l,
            o,
            count: o.sheets(objects.total, objects.total.div_ceil(per)),
            capped: (objects.total > u64::from(LABELS_MAX))
                .then(|| ObjectsTr::n(o.sheets_capped, LABELS_MAX)),
            sheets,
            back_url: url_with("/objects", &filters),
            pager: Pager::new("/objects/labels", &filters, page, LABELS_MAX, objects.total),
        },
        lang,
    )
}

// ---------------------------------------------------------------------------------------------
// Discrepancies per street

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiscQuery {
    street: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

pub(crate) struct DiscRow {
    pub at: String,
    pub code: String,
    pub grouped: String,
    pub object: String,
    pub street: String,
    pub item_code: String,
    pub item_text: String,
    pub kind: &'static str,
    pub kind_key: &'static str,
    pub self_check_at: String,
}

#[derive(Template)]
#[template(path = "objects_discrepancies.html")]
pub(crate) struct DiscPage {
    pub l: Layout,
    pub o: &'static ObjectsTr,
    pub streets: Vec<Opt>,
    pub kinds: Vec<Opt>,
    pub from: String,
    pub to: String,
    pub error: Option<String>,
    /// (street name, street code, count), most first.
    pub per_street: Vec<(String, String, String)>,
    pub rows: Vec<DiscRow>,
    pub pager: Pager,
}

const DISC_KINDS: [DiscrepancyKind; 3] = [
    DiscrepancyKind::SelfReportedFine,
    DiscrepancyKind::FailingInBoth,
    DiscrepancyKind::NotSelfChecked,
];

/// A period of local dates `[from, to]` from the query: default the last `days` days to today.
fn period(
    st: &UiState,
    from: &Option<String>,
    to: &Option<String>,
    days: i64,
) -> Result<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>), ()> {
    let tz = st.app.calendar().config().tz;
    let today = st.app.clock.now().with_timezone(&tz).date_naive();
    let parse = |s: &Option<String>| -> Result<Option<NaiveDate>, ()> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ()),
        }
    };
    let to_d = parse(to)?.unwrap_or(today);
    let from_d = parse(from)?.unwrap_or(to_d - Duration::days(days - 1));
    if to_d < from_d || (to_d - from_d).num_days() > 3660 {
        return Err(());
    }
    let start = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(a), Some(b)) = (start(from_d), start(to_d + Duration::days(1))) else {
        return Err(());
    };
    Ok((from_d, to_d, a, b))
}

/// `GET /objects/discrepancies`
pub(crate) async fn discrepancies(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<DiscQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    if !supervises(&ctx.user) {
        return forbidden(&st, &ctx, o.forbidden_supervisors).await;
    }
    let trim = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or("").to_string();
    let street = trim(&q.street);
    let street_ok = street.len() == 9 && street.bytes().all(|b| b.is_ascii_digit());
    let kind = DISC_KINDS
        .into_iter()
        .find(|k| ObjectsTr::discrepancy_key(*k) == trim(&q.kind));
    let mut error = (!street.is_empty() && !street_ok).then(|| o.err_street.to_string());
    let (from_d, to_d, from, to) = match period(&st, &q.from, &q.to, 30) {
        Ok(p) => p,
        Err(()) => {
            error = Some(o.err_period.to_string());
            period(&st, &None, &None, 30)
                .map_err(|()| crate::error::UiError::Internal("the default period".into()))
                .lang(lang)?
        }
    };
    let filter = DiscrepancyFilter {
        street: street_ok.then(|| street.clone()),
        kind,
        from: Some(from),
        to: Some(to),
        ..Default::default()
    };
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(1u32)
        .clamp(1, 1_000_000);
    let svc = &st.app.objects;
    let list = svc
        .discrepancies(
            &ctx.user,
            filter.clone(),
            PageRequest {
                page,
                page_size: PAGE_SIZE,
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    // Per street: the period's discrepancies, counted in the store.
    let counts = svc
        .discrepancies_per_street(
            &ctx.user,
            DiscrepancyFilter {
                street: None,
                ..filter.clone()
            },
        )
        .await
        .map_err(service_error)
        .lang(lang)?;
    let tree = tree::tree(&st).await.lang(lang)?;
    let name_of = |code: Option<&str>| match code {
        None => String::new(),
        Some(c) => tree.name(c).unwrap_or(c).to_string(),
    };
    let mut per_street: Vec<(String, String, u64)> = counts
        .into_iter()
        .map(|(code, n)| match code {
            Some(code) => (name_of(Some(&code)), code, n),
            None => (o.no_street.to_string(), String::new(), n),
        })
        .collect();
    per_street.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let mut rows = Vec::with_capacity(list.items.len());
    for x in &list.items {
        rows.push(DiscRow {
            at: local(&st, x.at),
            code: x.object_code.to_string(),
            grouped: x.object_code.grouped(),
            object: x.object_name.clone(),
            street: name_of(x.street.as_deref()),
            item_code: x.item_code.clone(),
            item_text: svc
                .checklists()
                .item(&x.item_code)
                .map(|i| i.text.clone())
                .unwrap_or_default(),
            kind: o.discrepancy(x.kind),
            kind_key: ObjectsTr::discrepancy_key(x.kind),
            self_check_at: x
                .self_check_at
                .map(|t| local(&st, t))
                .unwrap_or_else(|| o.no_self_check.to_string()),
        });
    }
    let (from_s, to_s) = (from_d.to_string(), to_d.to_string());
    let filters = [
        (
            "street",
            if street_ok {
                street.clone()
            } else {
                String::new()
            },
        ),
        (
            "kind",
            kind.map(ObjectsTr::discrepancy_key)
                .unwrap_or_default()
                .to_string(),
        ),
        ("from", from_s.clone()),
        ("to", to_s.clone()),
    ];
    let l = Layout::new(&st, &ctx, Section::ObjectDiscrepancies, o.disc_title).await;
    render(
        StatusCode::OK,
        &DiscPage {
            l,
            o,
            streets: street_options(&st, &ctx.user, street_ok.then_some(street.as_str())).await?,
            kinds: DISC_KINDS
                .iter()
                .map(|k| Opt {
                    value: ObjectsTr::discrepancy_key(*k).to_string(),
                    label: o.discrepancy(*k).to_string(),
                    selected: Some(*k) == kind,
                })
                .collect(),
            from: from_s,
            to: to_s,
            error,
            per_street: per_street
                .into_iter()
                .map(|(n, c, k)| (n, c, fmt_int(k)))
                .collect(),
            rows,
            pager: Pager::new(
                "/objects/discrepancies",
                &filters,
                page,
                PAGE_SIZE,
                list.total,
            ),
        },
        lang,
    )
}

// ---------------------------------------------------------------------------------------------
// 小事不出责任区 statistics

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
}

pub(crate) struct StatsRow {
    pub street: String,
    pub code: String,
    pub cells: Vec<String>,
    pub rate: String,
    pub total: bool,
}

#[derive(Template)]
#[template(path = "objects_stats.html")]
pub(crate) struct StatsPage {
    pub l: Layout,
    pub o: &'static ObjectsTr,
    pub from: String,
    pub to: String,
    pub error: Option<String>,
    pub rows: Vec<StatsRow>,
}

fn stats_row(
    street: String,
    code: String,
    c: &cityops_domain::objects::StageCounts,
    total: bool,
) -> StatsRow {
    StatsRow {
        street,
        code,
        cells: [
            c.before_notice,
            c.notice1,
            c.notice2,
            c.notice3,
            c.enforcement,
            c.closed(),
            c.open,
            c.in_enforcement,
        ]
        .iter()
        .map(|n| fmt_int(u64::from(*n)))
        .collect(),
        rate: c
            .in_zone_rate()
            .map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0)),
        total,
    }
}

/// `GET /objects/stats`
pub(crate) async fn stats(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<StatsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    if !supervises(&ctx.user) {
        return forbidden(&st, &ctx, o.forbidden_supervisors).await;
    }
    let mut error = None;
    let (from_d, to_d, from, to) = match period(&st, &q.from, &q.to, 90) {
        Ok(p) => p,
        Err(()) => {
            error = Some(o.err_period.to_string());
            period(&st, &None, &None, 90)
                .map_err(|()| crate::error::UiError::Internal("the default period".into()))
                .lang(lang)?
        }
    };
    let stats = st
        .app
        .objects
        .stage_stats(&ctx.user, from, to)
        .await
        .map_err(service_error)
        .lang(lang)?;
    let mut rows = Vec::new();
    for (street, counts) in &stats.by_street {
        let code = street
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let name = if code.is_empty() {
            o.no_street.to_string()
        } else {
            street_name(&st, Some(&code)).await
        };
        rows.push(stats_row(name, code, counts, false));
    }
    if !rows.is_empty() {
        rows.push(stats_row(
            o.total.to_string(),
            String::new(),
            &stats.total,
            true,
        ));
    }
    let l = Layout::new(&st, &ctx, Section::ObjectStats, o.stats_title).await;
    render(
        StatusCode::OK,
        &StatsPage {
            l,
            o,
            from: from_d.to_string(),
            to: to_d.to_string(),
            error,
            rows,
        },
        lang,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_of_the_query() {
        let o = crate::Lang::Zh.objects();
        let q = ListQuery {
            kind: Some("restaurant".into()),
            street: Some("4413".into()),
            q: Some(" 肠粉 ".into()),
            page: Some("x".into()),
        };
        let f = q.filters(o);
        assert_eq!(f.filter.kind, Some(ObjectKind::Restaurant));
        assert_eq!(f.filter.street, None);
        assert_eq!(f.filter.q.as_deref(), Some("肠粉"));
        assert_eq!(f.error.as_deref(), Some(o.err_street));
        assert_eq!(q.page(), 1);
        let all = ListQuery::default().filters(o);
        assert_eq!(all.filter, ObjectFilter::default());
        assert_eq!(
            kind_options(o, "school")
                .iter()
                .filter(|k| k.selected)
                .count(),
            1
        );
    }
}
