//! 一码管全域 (management objects, issue 14): the objects (list, one, create, change, import from
//! CSV or GeoJSON), their public card (no login), the checklists, the 码上办 checks (self-checks
//! and inspections, and the list of an object's checks), the rectification records of the 三教而罚
//! ladder, the 双保险 discrepancies and the 小事不出责任区 statistics. Everything is decided by
//! `cityops_app::objects::ObjectService`; the handlers parse, call it and build views.
//!
//! Object codes in paths are the 16 plain digits; a well-formed code that names no object (or
//! whose check digit does not match) is 404, as is an object outside the caller's scope.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use cityops_app::objects::{
    CheckInput, CheckItemInput, CheckOutcome, ImportFormat, ObjectDetail, ObjectInput,
    PublicObjectCard,
};
use cityops_domain::LngLat;
use cityops_domain::objects::{
    Check, ChecklistItem, Comparison, Notice, ObjectCode, ObjectKind, RectStage, Rectification,
    StageCounts,
};
use cityops_store::{
    DiscrepancyFilter, DiscrepancyKind, ObjectFilter, RectStatus, RectificationFilter, StoredCheck,
    StoredDiscrepancy, StoredObject, StoredRectification,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::routing::{body_rejection, content_type};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, CurrentUser, PageParams};
use crate::state::AppState;

/// The object routes. (`GET /api/v1/objects/{code}/label.svg`, the printable QR label, is the
/// label module's.)
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_objects, create_object))
        .routes(routes!(import_objects))
        .routes(routes!(list_discrepancies))
        .routes(routes!(object_stats))
        .routes(routes!(get_object, update_object))
        .routes(routes!(public_object))
        .routes(routes!(checklists))
        .routes(routes!(self_check))
        .routes(routes!(inspection))
        .routes(routes!(object_checks))
        .routes(routes!(list_rectifications))
}

/// The object code of a path: 16 digits (else 400); one that cannot be a code is 404.
fn code_of_path(text: &str) -> ApiResult<ObjectCode> {
    if !(text.len() == ObjectCode::LEN && text.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::bad_request(
            "An object code is 16 digits (赋码), e.g. 4413020100001236.",
        ));
    }
    ObjectCode::parse(text).map_err(|_| ApiError::not_found(format!("No object {text}.")))
}

// ---------------------------------------------------------------------------------------------
// Views

/// A point (WGS84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PointView {
    #[schema(minimum = -180, maximum = 180, example = 114.4158)]
    pub lng: f64,
    #[schema(minimum = -90, maximum = 90, example = 23.1115)]
    pub lat: f64,
}

impl From<LngLat> for PointView {
    fn from(p: LngLat) -> Self {
        Self {
            lng: p.lng,
            lat: p.lat,
        }
    }
}

/// 责任人 (the responsible party).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PartyView {
    /// The party's account (role `responsible_party`), if it has one.
    pub user_id: Option<i64>,
    pub name: String,
    pub phone: String,
}

/// A management object (管理对象).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ObjectView {
    /// 赋码: 16 digits, permanent.
    #[schema(value_type = crate::wire::ObjectCodePattern)]
    pub code: String,
    /// The code as printed on labels, e.g. `441302-01-0000123-6`.
    pub code_grouped: String,
    #[schema(value_type = crate::wire::ObjectKindName)]
    pub kind: &'static str,
    pub kind_name: &'static str,
    pub name: String,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    /// 门前三包责任区: the ring (not closed), drawn or derived from the nearest street.
    pub zone: Option<Vec<PointView>>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub district_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    #[schema(value_type = Option<crate::wire::GridCode>)]
    pub grid_code: Option<String>,
    pub responsible: PartyView,
    /// 主管部门.
    pub owner_department_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    /// Send it back with `PUT` (optimistic concurrency).
    pub version: i64,
}

fn code_str(c: &Option<cityops_domain::RegionCode>) -> Option<String> {
    c.as_ref().map(|c| c.as_str().to_string())
}

impl From<StoredObject> for ObjectView {
    fn from(s: StoredObject) -> Self {
        let o = s.object;
        Self {
            code_grouped: o.code.grouped(),
            code: o.code.to_string(),
            kind: o.kind.as_str(),
            kind_name: o.kind.name_zh(),
            district_code: code_str(&o.regions.district),
            street_code: code_str(&o.regions.street),
            community_code: code_str(&o.regions.community),
            grid_code: code_str(&o.regions.grid),
            name: o.name,
            address: o.address,
            lng: o.point.lng,
            lat: o.point.lat,
            zone: o
                .zone
                .map(|z| z.ring().iter().copied().map(PointView::from).collect()),
            responsible: PartyView {
                user_id: o.responsible.user_id,
                name: o.responsible.name,
                phone: o.responsible.phone,
            },
            owner_department_id: o.owner_department_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            created_by: s.created_by,
            updated_by: s.updated_by,
            version: s.version,
        }
    }
}

/// A page of objects.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ObjectList {
    pub items: Vec<ObjectView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// A time limit (期限): a number of 工作日 or 工作时.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ItemPeriodView {
    pub value: u32,
    #[schema(value_type = crate::wire::LimitUnitName)]
    pub unit: &'static str,
}

/// A notice sent (整改通知).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct NoticeView {
    /// `notice1` (教育提醒), `notice2` (责令整改) or `notice3` (警告).
    #[schema(value_type = crate::wire::RectStageName)]
    pub stage: &'static str,
    pub stage_name: &'static str,
    pub sent_at: DateTime<Utc>,
    /// 整改期限 on the working calendar.
    pub due: DateTime<Utc>,
    /// The count crossed a year the holiday schedule does not cover.
    pub unscheduled: bool,
}

impl From<&Notice> for NoticeView {
    fn from(n: &Notice) -> Self {
        Self {
            stage: n.stage.as_str(),
            stage_name: n.stage.name_zh(),
            sent_at: n.sent_at,
            due: n.due,
            unscheduled: n.unscheduled,
        }
    }
}

/// A rectification record (整改记录) of one failing item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct RectificationView {
    pub id: i64,
    #[schema(value_type = crate::wire::ObjectCodePattern)]
    pub object_code: String,
    pub object_name: String,
    /// The checklist item (4 digits).
    pub item_code: String,
    pub item_text: String,
    /// The object's street when it was opened.
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    /// Who found it: `self_check` or `inspection`.
    #[schema(value_type = crate::wire::CheckKindName)]
    pub source: &'static str,
    #[schema(value_type = crate::wire::RectStageName)]
    pub stage: &'static str,
    pub stage_name: &'static str,
    pub opened_at: DateTime<Utc>,
    /// The item's rectification period.
    pub period: ItemPeriodView,
    /// The current stage's deadline (none while notice 1 is due, after the hand-over and once
    /// rectified).
    pub due: Option<DateTime<Utc>>,
    /// The notices sent, in order, with their deadlines.
    pub notices: Vec<NoticeView>,
    pub handed_over_at: Option<DateTime<Utc>>,
    pub rectified_at: Option<DateTime<Utc>>,
    /// The stage it was closed at (小事不出责任区: before `enforcement`).
    #[schema(value_type = Option<crate::wire::RectStageName>)]
    pub closed_stage: Option<&'static str>,
    /// The enforcement case (移交执法), once filed.
    pub enforcement_case_id: Option<i64>,
    pub version: i64,
}

fn period_view(p: cityops_domain::TimeLimit) -> ItemPeriodView {
    ItemPeriodView {
        value: p.value,
        unit: p.unit.as_str(),
    }
}

fn item_text(state: &AppState, code: &str) -> String {
    state
        .objects
        .checklists()
        .item(code)
        .map(|i| i.text.clone())
        .unwrap_or_default()
}

fn rect_view(state: &AppState, s: StoredRectification) -> RectificationView {
    let r = s.record;
    RectificationView {
        id: s.id,
        object_code: r.object.to_string(),
        object_name: s.object_name,
        item_text: item_text(state, &r.item_code),
        street_code: code_str(&r.street),
        source: r.source.as_str(),
        stage: r.stage.as_str(),
        stage_name: r.stage.name_zh(),
        opened_at: r.opened_at,
        period: period_view(r.period),
        due: r.due,
        notices: r.notices.iter().map(NoticeView::from).collect(),
        handed_over_at: r.handed_over_at,
        rectified_at: r.rectified_at,
        closed_stage: r.closed_stage().map(RectStage::as_str),
        enforcement_case_id: s.enforcement_case_id,
        version: s.version,
        item_code: r.item_code,
    }
}

/// The result of one item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct CheckResultView {
    pub item_code: String,
    /// 合格 (true) or 不合格 (false).
    pub passed: bool,
    pub note: Option<String>,
    /// Photos (public ids: `GET /api/v1/attachments/{id}`).
    #[schema(value_type = Vec<crate::wire::AttachmentId>)]
    pub photos: Vec<String>,
}

/// One failing inspection item and how the self-check saw it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DiscrepancyItemView {
    pub item_code: String,
    /// `self_reported_fine` (自查合格、巡查不合格: what counts against credibility),
    /// `failing_in_both` or `not_self_checked`.
    #[schema(value_type = crate::wire::DiscrepancyKindName)]
    pub kind: String,
}

/// 双保险: an inspection against the latest self-check before it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ComparisonView {
    /// The self-check compared with, if there was one.
    pub self_check_at: Option<DateTime<Utc>>,
    /// Every item the inspection found failing.
    pub discrepancies: Vec<DiscrepancyItemView>,
    /// Items inspected that the self-check had reported fine.
    pub self_fine_inspected: u32,
    /// Of those, the ones found failing.
    pub self_fine_failing: u32,
}

fn kind_name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl From<&Comparison> for ComparisonView {
    fn from(c: &Comparison) -> Self {
        Self {
            self_check_at: c.self_check_at,
            discrepancies: c
                .discrepancies
                .iter()
                .map(|d| DiscrepancyItemView {
                    item_code: d.item_code.clone(),
                    kind: kind_name(d.kind),
                })
                .collect(),
            self_fine_inspected: c.self_fine_inspected,
            self_fine_failing: c.self_fine_failing,
        }
    }
}

/// A self-check (自查) or an inspection (巡查).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct CheckView {
    pub id: i64,
    #[schema(value_type = crate::wire::ObjectCodePattern)]
    pub object_code: String,
    #[schema(value_type = crate::wire::CheckKindName)]
    pub kind: &'static str,
    pub kind_name: &'static str,
    /// Who checked (their account) and their name.
    pub by_user: i64,
    pub by_name: String,
    pub at: DateTime<Utc>,
    /// Where the label was scanned (WGS84).
    pub position: Option<PointView>,
    /// Metres from the scan to the object (0 inside its zone).
    pub distance_m: Option<f64>,
    /// 位置异常: scanned farther than allowed from the object.
    pub far: bool,
    pub results: Vec<CheckResultView>,
    /// Inspections: the comparison with the latest self-check.
    pub comparison: Option<ComparisonView>,
}

fn check_view(c: &StoredCheck, photos: &HashMap<i64, String>) -> CheckView {
    let Check {
        kind,
        object_code,
        by_user,
        at,
        position,
        results,
    } = &c.check;
    CheckView {
        id: c.id,
        object_code: object_code.to_string(),
        kind: kind.as_str(),
        kind_name: kind.name_zh(),
        by_user: *by_user,
        by_name: c.by_name.clone(),
        at: *at,
        position: position.map(PointView::from),
        distance_m: c.position_check.map(|p| p.distance_m),
        far: c.position_check.is_some_and(|p| p.far),
        results: results
            .iter()
            .map(|r| CheckResultView {
                item_code: r.item_code.clone(),
                passed: r.passed,
                note: r.note.clone(),
                photos: r
                    .photo_ids
                    .iter()
                    .filter_map(|id| photos.get(id).cloned())
                    .collect(),
            })
            .collect(),
        comparison: c.comparison.as_ref().map(ComparisonView::from),
    }
}

/// The public ids of the photos of these checks.
async fn photos_of(state: &AppState, checks: &[&StoredCheck]) -> ApiResult<HashMap<i64, String>> {
    let ids: Vec<i64> = checks
        .iter()
        .flat_map(|c| c.check.results.iter())
        .flat_map(|r| r.photo_ids.iter().copied())
        .collect();
    Ok(state.objects.photo_public_ids(&ids).await?)
}

/// An object with its page's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ObjectDetailView {
    #[serde(flatten)]
    pub object: ObjectView,
    /// 自查可信度, 0–100, over the last inspections (`null`: no inspection after a self-check).
    pub credibility: Option<f64>,
    /// Open rectification records with their notices and deadlines.
    pub open_rectifications: Vec<RectificationView>,
    pub latest_self_check: Option<CheckView>,
    pub latest_inspection: Option<CheckView>,
    /// The items of its kind's checklist.
    pub checklist_items: usize,
}

async fn detail_view(state: &AppState, d: ObjectDetail) -> ApiResult<ObjectDetailView> {
    let checks: Vec<&StoredCheck> = d
        .latest_self_check
        .iter()
        .chain(d.latest_inspection.iter())
        .collect();
    let photos = photos_of(state, &checks).await?;
    let items = state
        .objects
        .checklists()
        .checklist_for(d.object.object.kind)
        .len();
    Ok(ObjectDetailView {
        credibility: d.credibility,
        open_rectifications: d
            .open_rectifications
            .into_iter()
            .map(|r| rect_view(state, r))
            .collect(),
        latest_self_check: d.latest_self_check.as_ref().map(|c| check_view(c, &photos)),
        latest_inspection: d.latest_inspection.as_ref().map(|c| check_view(c, &photos)),
        checklist_items: items,
        object: ObjectView::from(d.object),
    })
}

// ---------------------------------------------------------------------------------------------
// Objects

/// Which objects a list holds.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ObjectParams {
    /// Only this kind.
    #[param(value_type = Option<crate::wire::ObjectKindName>)]
    kind: Option<String>,
    /// Only objects in this street (9-digit code).
    #[param(pattern = "^[0-9]{9}$", example = "441302001")]
    street: Option<String>,
    /// Code, name or address contains.
    #[param(max_length = 64)]
    q: Option<String>,
}

pub(crate) fn parse_kind(text: Option<&str>, what: &str) -> ApiResult<Option<ObjectKind>> {
    text.map(|t| {
        t.parse::<ObjectKind>()
            .map_err(|_| ApiError::invalid_query(format!("{what}: unknown object kind {t:?}")))
    })
    .transpose()
}

pub(crate) fn street_param(s: Option<String>) -> ApiResult<Option<String>> {
    match s {
        Some(s) if !(s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())) => {
            Err(ApiError::invalid_query("street: a 9-digit street code"))
        }
        other => Ok(other),
    }
}

/// 管理对象: the objects the caller may see (the command centre, leaders, inspectors and
/// enforcement officers within their region, a department its own, a responsible party theirs),
/// by code.
#[utoipa::path(
    get,
    path = "/api/v1/objects",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(ObjectParams, PageParams),
    responses(
        (status = 200, body = ObjectList),
        (status = 400, description = "`invalid_query`: an unknown kind, a malformed street, a long `q`, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a role that sees no objects (citizen, reviewer, gateway)", body = ErrorBody),
    )
)]
pub(crate) async fn list_objects(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<ObjectParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ObjectList>> {
    let page = pp.request()?;
    if p.q.as_ref().is_some_and(|q| q.chars().count() > 64) {
        return Err(ApiError::invalid_query("q: at most 64 characters"));
    }
    let filter = ObjectFilter {
        kind: parse_kind(p.kind.as_deref(), "kind")?,
        street: street_param(p.street)?,
        q: p.q,
        responsible_user_id: None,
    };
    let got = state.objects.list(&user, filter, page).await?;
    Ok(axum::Json(ObjectList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got.items.into_iter().map(ObjectView::from).collect(),
    }))
}

/// An object as an administrator or supervisor gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectBody {
    #[schema(value_type = crate::wire::ObjectKindName)]
    pub kind: String,
    /// 对象名称 (a shop's signboard name).
    #[schema(example = "老街肠粉店")]
    pub name: String,
    #[schema(example = "惠城区水东街 12 号")]
    pub address: String,
    /// Its position, on the building line (门面) where known.
    #[schema(minimum = -180, maximum = 180, example = 114.4158)]
    pub lng: f64,
    #[schema(minimum = -90, maximum = 90, example = 23.1115)]
    pub lat: f64,
    /// The coordinate system of `lng`/`lat` and `zone`: `wgs84` (default) or `gcj02`.
    #[schema(value_type = Option<crate::wire::CrsName>)]
    pub crs: Option<String>,
    /// 门前三包责任区 as drawn (3–256 vertices, ring not closed); omitted: derived from the
    /// nearest street (the frontage to the kerb).
    #[schema(min_items = 3, max_items = 256)]
    pub zone: Option<Vec<PointView>>,
    /// 责任人.
    #[schema(example = "陈小明")]
    pub responsible_name: String,
    #[schema(example = "13800001234")]
    pub responsible_phone: String,
    /// The party's account (role `responsible_party`), needed for self-checks.
    #[schema(example = "shop1")]
    pub responsible_username: Option<String>,
    /// The supervising department by code; omitted: the street office.
    #[schema(example = "441302001-street")]
    pub owner_department: Option<String>,
}

impl ObjectBody {
    fn input(self) -> ApiResult<ObjectInput> {
        let kind = self.kind.parse::<ObjectKind>().map_err(|_| {
            ApiError::invalid_value(format!("kind: unknown object kind {:?}", self.kind))
        })?;
        if let Some(c) = &self.crs
            && !crate::wire::CrsName::values().contains(&c.as_str())
        {
            return Err(ApiError::invalid_value(format!("crs: unknown {c:?}")));
        }
        Ok(ObjectInput {
            code: None,
            kind,
            name: self.name,
            address: self.address,
            lng: self.lng,
            lat: self.lat,
            crs: self.crs,
            zone: self.zone.map(|z| {
                z.into_iter()
                    .map(|p| LngLat {
                        lng: p.lng,
                        lat: p.lat,
                    })
                    .collect()
            }),
            responsible_name: self.responsible_name,
            responsible_phone: self.responsible_phone,
            responsible_username: self.responsible_username,
            owner_department: self.owner_department,
        })
    }
}

/// 赋码: creates an object — located in the region tree, coded by its district, given its zone
/// (drawn, or derived from the nearest street). Administrators; supervisors within their region.
#[utoipa::path(
    post,
    path = "/api/v1/objects",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ObjectBody,
    responses(
        (status = 201, body = ObjectView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or supervisor, or outside the supervisor's region", body = ErrorBody),
        (status = 409, description = "`conflict`: the district has issued every code of the kind", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a bad field, an unknown account or department, a zone without area; `too_long`; `outside_city`: the point lies outside the city", body = ErrorBody),
    )
)]
pub(crate) async fn create_object(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ObjectBody>,
) -> ApiResult<(StatusCode, axum::Json<ObjectView>)> {
    let input = body.input()?;
    let stored = state.objects.create(&user, input).await?;
    Ok((StatusCode::CREATED, axum::Json(ObjectView::from(stored))))
}

/// `PUT`: the object's fields as for `POST` (a zone left out is derived again), and the
/// version it was read at.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectUpdateBody {
    #[schema(value_type = crate::wire::ObjectKindName)]
    pub kind: String,
    pub name: String,
    pub address: String,
    #[schema(minimum = -180, maximum = 180, example = 114.4158)]
    pub lng: f64,
    #[schema(minimum = -90, maximum = 90, example = 23.1115)]
    pub lat: f64,
    #[schema(value_type = Option<crate::wire::CrsName>)]
    pub crs: Option<String>,
    #[schema(min_items = 3, max_items = 256)]
    pub zone: Option<Vec<PointView>>,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub responsible_username: Option<String>,
    pub owner_department: Option<String>,
    /// The `version` it was read at; a change meanwhile answers 409.
    #[schema(minimum = 1)]
    pub version: i64,
}

impl ObjectUpdateBody {
    fn split(self) -> (ObjectBody, i64) {
        (
            ObjectBody {
                kind: self.kind,
                name: self.name,
                address: self.address,
                lng: self.lng,
                lat: self.lat,
                crs: self.crs,
                zone: self.zone,
                responsible_name: self.responsible_name,
                responsible_phone: self.responsible_phone,
                responsible_username: self.responsible_username,
                owner_department: self.owner_department,
            },
            self.version,
        )
    }
}

/// 管理对象: one object the caller may see, with its credibility (自查可信度), open
/// rectification records and latest checks.
#[utoipa::path(
    get,
    path = "/api/v1/objects/{code}",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    responses(
        (status = 200, body = ObjectDetailView),
        (status = 400, description = "`bad_request`: not 16 digits", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a role that sees no objects", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object in the caller's scope", body = ErrorBody),
    )
)]
pub(crate) async fn get_object(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<axum::Json<ObjectDetailView>> {
    let code = code_of_path(&code)?;
    let d = state.objects.detail(&user, &code).await?;
    Ok(axum::Json(detail_view(&state, d).await?))
}

/// 修改: replaces an object's fields (its code never changes) at the version it was read at.
/// Administrators; supervisors within their region. A zone left out is derived again.
#[utoipa::path(
    put,
    path = "/api/v1/objects/{code}",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    request_body = ObjectUpdateBody,
    responses(
        (status = 200, body = ObjectView),
        (status = 400, description = "`bad_request`: not 16 digits, or a malformed body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or supervisor of its region", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object in the caller's scope", body = ErrorBody),
        (status = 409, description = "`conflict`: changed by someone else since `version`", body = ErrorBody),
        (status = 422, description = "`invalid_value`, `too_long`, `outside_city`: as for `POST /api/v1/objects`", body = ErrorBody),
    )
)]
pub(crate) async fn update_object(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<ObjectUpdateBody>,
) -> ApiResult<axum::Json<ObjectView>> {
    let code = code_of_path(&code)?;
    let (body, version) = body.split();
    if version < 1 {
        return Err(ApiError::invalid_value("version: at least 1"));
    }
    let input = body.input()?;
    let stored = state.objects.update(&user, &code, input, version).await?;
    Ok(axum::Json(ObjectView::from(stored)))
}

/// `?crs=` of an import.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportParams {
    /// The coordinate system of the file's positions and zones: `wgs84` (default) or `gcj02`.
    #[param(value_type = Option<crate::wire::CrsName>)]
    crs: Option<String>,
}

/// What an import created.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ObjectImportAnswer {
    pub created: u64,
    /// The codes issued (or kept), in the file's order.
    #[schema(value_type = Vec<crate::wire::ObjectCodePattern>)]
    pub codes: Vec<String>,
}

/// A GeoJSON FeatureCollection of objects (documentation of the body; read as text).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct ObjectFeatureCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$", example = "FeatureCollection")]
    pub kind: String,
    /// The features: a `Point` geometry (the position) or a `Polygon` (the zone, with the
    /// position as properties `lng`/`lat`); properties `kind`, `name`, `address`,
    /// `responsible_name`, `responsible_phone`, and optionally `code`, `responsible_username`,
    /// `owner_department`.
    #[schema(value_type = Vec<Object>)]
    pub features: Vec<serde_json::Value>,
}

const CSV_EXAMPLE: &str = "code,kind,name,address,lng,lat,responsible_name,responsible_phone,responsible_username,owner_department,zone\n\
    ,restaurant,老街肠粉店,惠城区水东街 12 号,114.4158,23.1115,陈小明,13800001234,,,\n";

/// 批量导入: creates objects from CSV (`text/csv`, header
/// `code,kind,name,address,lng,lat,responsible_name,responsible_phone,responsible_username,owner_department,zone`;
/// a zone as `lng lat;lng lat;…`) or a GeoJSON FeatureCollection (`application/geo+json` or
/// `application/json`). All or nothing: a bad line or feature — named in the 422 message —, a
/// point outside the city, an unknown account or department, a code taken writes nothing.
/// Administrators; supervisors, every object within their region.
#[utoipa::path(
    post,
    path = "/api/v1/objects/import",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(ImportParams),
    request_body(content(
        (String = "text/csv", example = json!(CSV_EXAMPLE)),
        (ObjectFeatureCollection = "application/geo+json"),
        (ObjectFeatureCollection = "application/json"),
    )),
    responses(
        (status = 201, body = ObjectImportAnswer),
        (status = 400, description = "`bad_request`: an unreadable body; `invalid_query`: an unknown `crs`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or supervisor, or an object outside the supervisor's region", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 409, description = "`conflict`: a kept code was taken meanwhile, or a district has issued every code of a kind", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither CSV nor (Geo)JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a bad line or feature (named), no objects", body = ErrorBody),
    )
)]
pub(crate) async fn import_objects(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, axum::Json<ObjectImportAnswer>)> {
    let body = body.map_err(body_rejection)?;
    let crs = p.crs.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = crs
        && !crate::wire::CrsName::values().contains(&c)
    {
        return Err(ApiError::invalid_query(format!(
            "crs {c:?}: expected wgs84, cgcs2000 or gcj02"
        )));
    }
    let format = match content_type(&headers).as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/geo+json" | "application/json" => ImportFormat::GeoJson,
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Expected `text/csv`, `application/geo+json` or `application/json`.",
            ));
        }
    };
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid_value(format!("The file is not UTF-8: {e}")))?;
    let stored = state.objects.import_file(&user, text, format, crs).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ObjectImportAnswer {
            created: stored.len() as u64,
            codes: stored.iter().map(|s| s.object.code.to_string()).collect(),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------
// The public card

/// The latest check as the public sees it: no person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PublicCheckView {
    #[schema(value_type = crate::wire::CheckKindName)]
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    /// Items checked.
    pub items: usize,
    /// Of them, failing.
    pub failing: usize,
}

/// An open problem as the public sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PublicRectificationView {
    pub item_code: String,
    pub item_text: String,
    #[schema(value_type = crate::wire::RectStageName)]
    pub stage: &'static str,
    pub stage_name: &'static str,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub notices: Vec<NoticeView>,
}

/// 公开信息卡: what anyone who scans the label sees — nothing personal.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PublicObjectView {
    #[schema(value_type = crate::wire::ObjectCodePattern)]
    pub code: String,
    pub code_grouped: String,
    #[schema(value_type = crate::wire::ObjectKindName)]
    pub kind: &'static str,
    pub kind_name: &'static str,
    pub name: String,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    /// 门前三包责任区.
    pub zone: Option<Vec<PointView>>,
    /// The latest self-check or inspection.
    pub latest: Option<PublicCheckView>,
    /// Problems being rectified, with the notices sent and their deadlines.
    pub open_rectifications: Vec<PublicRectificationView>,
}

fn public_rect(state: &AppState, r: &Rectification) -> PublicRectificationView {
    PublicRectificationView {
        item_code: r.item_code.clone(),
        item_text: item_text(state, &r.item_code),
        stage: r.stage.as_str(),
        stage_name: r.stage.name_zh(),
        opened_at: r.opened_at,
        due: r.due,
        notices: r.notices.iter().map(NoticeView::from).collect(),
    }
}

/// 扫码公开信息卡: an object's public card for anyone who scans its label — kind, name,
/// address, position and 门前三包 zone, the latest result and the open problems; no names, no
/// phones, no accounts. No login; counted per client address (429 beyond
/// `public_lookups_per_minute`).
#[utoipa::path(
    get,
    path = "/api/v1/public/objects/{code}",
    tag = "public",
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    responses(
        (status = 200, body = PublicObjectView),
        (status = 400, description = "`bad_request`: not 16 digits", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many look-ups from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next look-up is taken"))),
    )
)]
pub(crate) async fn public_object(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<axum::Json<PublicObjectView>> {
    state.count_public_lookup(&ip)?;
    let code = code_of_path(&code)?;
    let PublicObjectCard {
        card,
        latest,
        open_rectifications,
    } = state.objects.public_card(&code).await?;
    Ok(axum::Json(PublicObjectView {
        code_grouped: card.code.grouped(),
        code: card.code.to_string(),
        kind: card.kind.as_str(),
        kind_name: card.kind.name_zh(),
        name: card.name,
        address: card.address,
        lng: card.point.lng,
        lat: card.point.lat,
        zone: card
            .zone
            .map(|z| z.ring().iter().copied().map(PointView::from).collect()),
        latest: latest.map(|l| PublicCheckView {
            kind: l.kind.as_str(),
            at: l.at,
            items: l.items,
            failing: l.failing,
        }),
        open_rectifications: open_rectifications
            .iter()
            .map(|r| public_rect(&state, r))
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Checklists

/// `?kind=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChecklistParams {
    /// Only the items that apply to this kind of object (its 码上办 checklist).
    #[param(value_type = Option<crate::wire::ObjectKindName>)]
    kind: Option<String>,
}

/// A checklist category (清单类别).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ChecklistCategoryView {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// A checklist item (检查项).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ChecklistItemView {
    /// 4 digits: the category + a sequence.
    pub code: String,
    pub category: String,
    pub text: String,
    /// The kinds of object it applies to.
    #[schema(value_type = Vec<crate::wire::ObjectKindName>)]
    pub kinds: Vec<&'static str>,
    /// 法律依据.
    pub legal_basis: String,
    /// 取证要求: `photo` (a failing result needs a photo) or `none`.
    #[schema(value_type = crate::wire::EvidenceName)]
    pub evidence: String,
    /// 默认整改期限.
    pub period: ItemPeriodView,
}

impl From<&ChecklistItem> for ChecklistItemView {
    fn from(i: &ChecklistItem) -> Self {
        Self {
            code: i.code.clone(),
            category: i.category.clone(),
            text: i.text.clone(),
            kinds: i.kinds.iter().map(|k| k.as_str()).collect(),
            legal_basis: i.legal_basis.clone(),
            evidence: kind_name(i.evidence),
            period: period_view(i.period),
        }
    }
}

/// 码上办管理清单.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ChecklistView {
    /// What is official and what is illustrative in this set.
    pub note: String,
    pub categories: Vec<ChecklistCategoryView>,
    pub items: Vec<ChecklistItemView>,
}

/// 管理清单: the checklist categories and items (8 categories, 34 items in the demo set — an
/// illustrative completion, see `note`), or the items of one kind of object.
#[utoipa::path(
    get,
    path = "/api/v1/checklists",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(ChecklistParams),
    responses(
        (status = 200, body = ChecklistView),
        (status = 400, description = "`invalid_query`: an unknown kind", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn checklists(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    ApiQuery(p): ApiQuery<ChecklistParams>,
) -> ApiResult<axum::Json<ChecklistView>> {
    let kind = parse_kind(p.kind.as_deref(), "kind")?;
    let set = state.objects.checklists();
    let items: Vec<&ChecklistItem> = match kind {
        Some(k) => set.checklist_for(k),
        None => set.items().iter().collect(),
    };
    let categories = set
        .categories()
        .iter()
        .filter(|c| items.iter().any(|i| i.category == c.code))
        .map(|c| ChecklistCategoryView {
            code: c.code.clone(),
            name: c.name_zh.clone(),
            name_en: c.name_en.clone(),
        })
        .collect();
    Ok(axum::Json(ChecklistView {
        note: set.note().to_string(),
        categories,
        items: items.into_iter().map(ChecklistItemView::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Checks

/// The result of one item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckItemBody {
    /// The checklist item (4 digits).
    #[schema(pattern = "^[0-9]{4}$", example = "0101")]
    pub item_code: String,
    /// 合格 (true) or 不合格 (false).
    pub passed: bool,
    pub note: Option<String>,
    /// Photos uploaded first (`POST /api/v1/attachments`): a failing item whose evidence is
    /// `photo` needs one.
    #[serde(default)]
    #[schema(value_type = Vec<crate::wire::AttachmentId>, max_items = 9)]
    pub photos: Vec<String>,
}

/// A self-check or an inspection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckBody {
    /// Item by item: all or some of the object's checklist, each once.
    #[schema(min_items = 1, max_items = 64)]
    pub results: Vec<CheckItemBody>,
    /// Where the label was scanned (the phone's position), given together.
    #[schema(minimum = -180, maximum = 180, example = 114.4158)]
    pub lng: Option<f64>,
    #[schema(minimum = -90, maximum = 90, example = 23.1115)]
    pub lat: Option<f64>,
    /// `wgs84` (default) or `gcj02` (what phones' map apps give).
    #[schema(value_type = Option<crate::wire::CrsName>)]
    pub crs: Option<String>,
}

impl CheckBody {
    fn input(self) -> ApiResult<CheckInput> {
        if let Some(c) = &self.crs
            && !crate::wire::CrsName::values().contains(&c.as_str())
        {
            return Err(ApiError::invalid_value(format!("crs: unknown {c:?}")));
        }
        let mut results = Vec::with_capacity(self.results.len());
        for (i, r) in self.results.into_iter().enumerate() {
            if let Some(bad) = r.photos.iter().find(|p| !crate::wire::is_attachment_id(p)) {
                return Err(ApiError::invalid_value(format!(
                    "results[{i}].photos: {bad:?} is not a photo id"
                )));
            }
            results.push(CheckItemInput {
                item_code: r.item_code,
                passed: r.passed,
                note: r.note,
                photos: r.photos,
            });
        }
        Ok(CheckInput {
            results,
            lng: self.lng,
            lat: self.lat,
            crs: self.crs,
        })
    }
}

/// The scan position against the object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub(crate) struct PositionView {
    /// Metres from the scan to the object (0 inside its zone).
    pub distance_m: f64,
    /// 位置异常: farther than allowed (the check is kept, flagged).
    pub far: bool,
}

/// What a check did.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct CheckAnswer {
    pub check: CheckView,
    /// The position check (`null` without a position).
    pub position: Option<PositionView>,
    /// Inspections: 双保险, the comparison with the latest self-check.
    pub comparison: Option<ComparisonView>,
    /// Rectification records opened by failing items (三教而罚 starts).
    pub opened: Vec<RectificationView>,
    /// Records closed because the item now passes (整改销号).
    pub closed: Vec<RectificationView>,
    /// Inspections: the object's credibility (自查可信度) now.
    pub credibility: Option<f64>,
}

async fn check_answer(state: &AppState, o: CheckOutcome) -> ApiResult<CheckAnswer> {
    let photos = photos_of(state, &[&o.check]).await?;
    Ok(CheckAnswer {
        check: check_view(&o.check, &photos),
        position: o.position.map(|p| PositionView {
            distance_m: p.distance_m,
            far: p.far,
        }),
        comparison: o.comparison.as_ref().map(ComparisonView::from),
        opened: o.opened.into_iter().map(|r| rect_view(state, r)).collect(),
        closed: o.closed.into_iter().map(|r| rect_view(state, r)).collect(),
        credibility: o.credibility,
    })
}

/// 自查 (码上办): the object's responsible party checks it item by item (photos uploaded first).
/// Failing items open rectification records with their own period (自查自改); a self-check
/// closes a record it opened itself while no notice went out.
#[utoipa::path(
    post,
    path = "/api/v1/objects/{code}/self-checks",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    request_body = CheckBody,
    responses(
        (status = 201, body = CheckAnswer),
        (status = 400, description = "`bad_request`: not 16 digits, or a malformed body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the object's responsible party", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object in the caller's scope", body = ErrorBody),
        (status = 409, description = "`conflict`: other checks of the object kept changing its records", body = ErrorBody),
        (status = 422, description = "`invalid_value`: an item not on the kind's checklist, given twice, failing without its photo, a photo that is not the caller's; `too_long`", body = ErrorBody),
    )
)]
pub(crate) async fn self_check(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<(StatusCode, axum::Json<CheckAnswer>)> {
    let code = code_of_path(&code)?;
    let input = body.input()?;
    let outcome = state.objects.self_check(&user, &code, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(check_answer(&state, outcome).await?),
    ))
}

/// 巡查 (码上办): an inspector or enforcement officer of the object's region checks it item by
/// item, with photos and the scanner's position (a scan far from the object is flagged, not
/// refused). Compared with the latest self-check (双保险: the discrepancies); failing items open
/// rectification records (notice 1 is due at once), passing ones close open records (复查).
#[utoipa::path(
    post,
    path = "/api/v1/objects/{code}/inspections",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    request_body = CheckBody,
    responses(
        (status = 201, body = CheckAnswer),
        (status = 400, description = "`bad_request`: not 16 digits, or a malformed body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an inspector or enforcement officer of the object's region", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object in the caller's scope", body = ErrorBody),
        (status = 409, description = "`conflict`: other checks of the object kept changing its records", body = ErrorBody),
        (status = 422, description = "`invalid_value`: as for a self-check, or a position given half; `too_long`", body = ErrorBody),
    )
)]
pub(crate) async fn inspection(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<(StatusCode, axum::Json<CheckAnswer>)> {
    let code = code_of_path(&code)?;
    let input = body.input()?;
    let outcome = state.objects.inspect(&user, &code, input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(check_answer(&state, outcome).await?),
    ))
}

/// `?kind=` of an object's checks.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CheckParams {
    /// Only self-checks or only inspections.
    #[param(value_type = Option<crate::wire::CheckKindName>)]
    kind: Option<String>,
}

/// A page of checks.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct CheckList {
    pub items: Vec<CheckView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// 检查记录: an object's self-checks and inspections, newest first. A responsible party sees
/// only their own objects' (another object is 404).
#[utoipa::path(
    get,
    path = "/api/v1/objects/{code}/checks",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$"), CheckParams, PageParams),
    responses(
        (status = 200, body = CheckList),
        (status = 400, description = "`bad_request`: not 16 digits; `invalid_query`: an unknown kind, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a role that sees no objects", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object in the caller's scope", body = ErrorBody),
    )
)]
pub(crate) async fn object_checks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(p): ApiQuery<CheckParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<CheckList>> {
    let page = pp.request()?;
    let code = code_of_path(&code)?;
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            k.parse()
                .map_err(|_| ApiError::invalid_query(format!("kind: unknown check kind {k:?}")))
        })
        .transpose()?;
    let got = state.objects.checks(&user, &code, kind, page).await?;
    let refs: Vec<&StoredCheck> = got.items.iter().collect();
    let photos = photos_of(&state, &refs).await?;
    Ok(axum::Json(CheckList {
        items: got.items.iter().map(|c| check_view(c, &photos)).collect(),
        total: got.total,
        page: got.page,
        page_size: got.page_size,
    }))
}

// ---------------------------------------------------------------------------------------------
// Rectifications

/// Which records a list holds.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RectificationParams {
    /// Only the records of this object.
    #[param(value_type = Option<crate::wire::ObjectCodePattern>)]
    object: Option<String>,
    /// `open` (not rectified; also those handed over) or `closed`.
    #[param(value_type = Option<crate::wire::RectStatusName>)]
    status: Option<String>,
    /// Only records at this stage.
    #[param(value_type = Option<crate::wire::RectStageName>)]
    stage: Option<String>,
    /// Only records counted in this street (9 digits).
    #[param(pattern = "^[0-9]{9}$", example = "441302001")]
    street: Option<String>,
}

/// A page of rectification records.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct RectificationList {
    pub items: Vec<RectificationView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// 整改记录 (三教而罚): the records of the objects the caller may see, newest first, with the
/// notices sent and their deadlines, the stage and the enforcement case once handed over.
#[utoipa::path(
    get,
    path = "/api/v1/rectifications",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(RectificationParams, PageParams),
    responses(
        (status = 200, body = RectificationList),
        (status = 400, description = "`invalid_query`: a malformed object code or street, an unknown status or stage, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a role that sees no objects", body = ErrorBody),
    )
)]
pub(crate) async fn list_rectifications(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<RectificationParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<RectificationList>> {
    let page = pp.request()?;
    // A well-formed code that cannot be one (its check digit) names no record: an empty page,
    // once every parameter was checked.
    let (object, impossible) = match p.object.as_deref() {
        None => (None, false),
        Some(o) if o.len() == ObjectCode::LEN && o.bytes().all(|b| b.is_ascii_digit()) => {
            match ObjectCode::parse(o) {
                Ok(c) => (Some(c), false),
                Err(_) => (None, true),
            }
        }
        Some(_) => return Err(ApiError::invalid_query("object: a 16-digit object code")),
    };
    let status = p
        .status
        .as_deref()
        .map(|s| {
            s.parse::<RectStatus>().map_err(|_| {
                ApiError::invalid_query(format!("status: {s:?} is neither open nor closed"))
            })
        })
        .transpose()?;
    let stage = p
        .stage
        .as_deref()
        .map(|s| {
            s.parse::<RectStage>()
                .map_err(|_| ApiError::invalid_query(format!("stage: unknown stage {s:?}")))
        })
        .transpose()?;
    let filter = RectificationFilter {
        object,
        status,
        stage,
        street: street_param(p.street)?,
    };
    if impossible {
        return Ok(axum::Json(RectificationList {
            items: Vec::new(),
            total: 0,
            page: page.page,
            page_size: page.page_size,
        }));
    }
    let got = state.objects.rectifications(&user, filter, page).await?;
    Ok(axum::Json(RectificationList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got
            .items
            .into_iter()
            .map(|r| rect_view(&state, r))
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Discrepancies and statistics

/// Which discrepancies a list holds.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiscrepancyParams {
    /// Only those found in this street (9 digits).
    #[param(pattern = "^[0-9]{9}$", example = "441302001")]
    street: Option<String>,
    /// Only this kind (default: all; `self_reported_fine` is what counts against credibility).
    #[param(value_type = Option<crate::wire::DiscrepancyKindName>)]
    kind: Option<String>,
}

/// A 双保险 discrepancy.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DiscrepancyView {
    /// The inspection that found it.
    pub check_id: i64,
    #[schema(value_type = crate::wire::ObjectCodePattern)]
    pub object_code: String,
    pub object_name: String,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    pub item_code: String,
    pub item_text: String,
    #[schema(value_type = crate::wire::DiscrepancyKindName)]
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The inspector.
    pub by_user: i64,
    /// The self-check compared with.
    pub self_check_at: Option<DateTime<Utc>>,
}

/// A page of discrepancies.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct DiscrepancyList {
    pub items: Vec<DiscrepancyView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

fn discrepancy_view(state: &AppState, d: StoredDiscrepancy) -> DiscrepancyView {
    DiscrepancyView {
        check_id: d.check_id,
        object_code: d.object_code.to_string(),
        object_name: d.object_name,
        street_code: d.street,
        item_text: item_text(state, &d.item_code),
        item_code: d.item_code,
        kind: kind_name(d.kind),
        at: d.at,
        by_user: d.by_user,
        self_check_at: d.self_check_at,
    }
}

/// 双保险比对差异: the items inspections found failing, with how the self-check before saw them
/// (`self_reported_fine`: reported fine, found failing), newest first, within the caller's region.
/// Supervisors, leaders and administrators.
#[utoipa::path(
    get,
    path = "/api/v1/objects/discrepancies",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(DiscrepancyParams, PageParams),
    responses(
        (status = 200, body = DiscrepancyList),
        (status = 400, description = "`invalid_query`: a malformed street, an unknown kind, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a supervisor, leader or administrator", body = ErrorBody),
    )
)]
pub(crate) async fn list_discrepancies(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<DiscrepancyParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<DiscrepancyList>> {
    let page = pp.request()?;
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            serde_json::from_value::<DiscrepancyKind>(serde_json::Value::String(k.to_string()))
                .map_err(|_| {
                    ApiError::invalid_query(format!("kind: unknown discrepancy kind {k:?}"))
                })
        })
        .transpose()?;
    let filter = DiscrepancyFilter {
        street: street_param(p.street)?,
        kind,
        ..DiscrepancyFilter::default()
    };
    let got = state.objects.discrepancies(&user, filter, page).await?;
    Ok(axum::Json(DiscrepancyList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got
            .items
            .into_iter()
            .map(|d| discrepancy_view(&state, d))
            .collect(),
    }))
}

/// `?from=&to=`: local dates, both included.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsParams {
    /// First day (`YYYY-MM-DD`, local); default the first of this month.
    #[param(value_type = Option<String>, format = Date, example = "2026-03-01")]
    from: Option<String>,
    /// Last day (`YYYY-MM-DD`, local, included); default today.
    #[param(value_type = Option<String>, format = Date, example = "2026-03-31")]
    to: Option<String>,
}

/// The problems of one street (or of all) by the stage they closed at.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct StageCountsView {
    /// The street (`null` in `total`, or for objects located in no street).
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    pub street_name: Option<String>,
    /// 自查自改/当场整改: closed before any notice.
    pub before_notice: u32,
    /// Closed after 教育提醒.
    pub notice1: u32,
    /// Closed after 责令整改.
    pub notice2: u32,
    /// Closed after 警告.
    pub notice3: u32,
    /// Closed after 移交执法.
    pub enforcement: u32,
    /// Not closed yet.
    pub open: u32,
    /// Of the open ones, handed to enforcement.
    pub in_enforcement: u32,
    pub closed: u32,
    /// Closed before enforcement (小事不出责任区).
    pub closed_in_zone: u32,
    /// 小事不出责任区率: closed before enforcement / closed, 0–1 (`null`: none closed).
    pub in_zone_rate: Option<f64>,
}

fn counts_view(street: Option<String>, name: Option<String>, c: &StageCounts) -> StageCountsView {
    StageCountsView {
        street_code: street,
        street_name: name,
        before_notice: c.before_notice,
        notice1: c.notice1,
        notice2: c.notice2,
        notice3: c.notice3,
        enforcement: c.enforcement,
        open: c.open,
        in_enforcement: c.in_enforcement,
        closed: c.closed(),
        closed_in_zone: c.closed_in_zone(),
        in_zone_rate: c.in_zone_rate(),
    }
}

/// The statistics of a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct ObjectStatsView {
    /// The period counted: records opened in `[from, to)` (local midnights).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub streets: Vec<StageCountsView>,
    pub total: StageCountsView,
}

/// 小事不出责任区: the rectification records opened in the period within the caller's region,
/// per street, counted by the stage they closed at — before any notice, after notice 1, 2 or 3,
/// after the hand-over to enforcement — and the rate of those closed before enforcement.
/// Supervisors, leaders and administrators.
#[utoipa::path(
    get,
    path = "/api/v1/objects/stats",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(StatsParams),
    responses(
        (status = 200, body = ObjectStatsView),
        (status = 400, description = "`invalid_query`: a malformed date", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a supervisor, leader or administrator", body = ErrorBody),
        (status = 422, description = "`invalid_value`: `to` before `from`", body = ErrorBody),
    )
)]
pub(crate) async fn object_stats(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<axum::Json<ObjectStatsView>> {
    let tz = state.app.calendar().config().tz;
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let date = |v: Option<&str>, what: &str, default: NaiveDate| -> ApiResult<NaiveDate> {
        match v {
            None => Ok(default),
            Some(s) => crate::wire::parse_date(s).ok_or_else(|| {
                ApiError::invalid_query(format!("{what}: a date YYYY-MM-DD, not {s:?}"))
            }),
        }
    };
    let from = date(
        p.from.as_deref(),
        "from",
        today.with_day0(0).unwrap_or(today),
    )?;
    let to = date(p.to.as_deref(), "to", today)?;
    if to < from {
        return Err(ApiError::invalid_value("to must not lie before from"));
    }
    let midnight = |d: NaiveDate| -> ApiResult<DateTime<Utc>> {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ApiError::invalid_value("a date outside the calendar"))
    };
    let (start, end) = (
        midnight(from)?,
        midnight(
            to.succ_opt()
                .ok_or_else(|| ApiError::invalid_value("to: the last day of the calendar"))?,
        )?,
    );
    let stats = state.objects.stage_stats(&user, start, end).await?;
    let streets = stats
        .by_street
        .iter()
        .map(|(street, c)| {
            let code = street.as_ref().map(|s| s.as_str().to_string());
            let name = code
                .as_ref()
                .and_then(|c| state.shared.region_names.get(c).cloned());
            counts_view(code, name, c)
        })
        .collect();
    Ok(axum::Json(ObjectStatsView {
        from: start,
        to: end,
        streets,
        total: counts_view(None, None, &stats.total),
    }))
}
