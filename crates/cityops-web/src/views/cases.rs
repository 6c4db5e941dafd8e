//! The JSON shapes of the case workflow (案件): the case, its events, lists, counts, the request
//! bodies of reporting and of actions, and the audit verification answer.
use chrono::{DateTime, Utc};
use cityops_domain::case::{ActionInput, CaseAction, PendingRequest, Urgency};
use cityops_domain::{CategoryKind, Page, TimeLimit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::TimeLimitView;

/// Where a case is: the reported point (WGS84) and the regions it was located in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseLocationView {
    pub lng: f64,
    pub lat: f64,
    /// 单元网格 (15 digits).
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    /// 社区 (12 digits).
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    /// 街道 (9 digits).
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    pub street_name: Option<String>,
    /// 区县 (6 digits).
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub district_code: Option<String>,
    pub district_name: Option<String>,
    pub address: Option<String>,
}

/// A request waiting for the dispatcher (延期/挂账申请).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingView {
    /// `postpone` (延期) or `suspend` (挂账).
    #[schema(value_type = crate::wire::PendingKindName)]
    pub kind: String,
    pub reason: String,
    /// For `suspend`: until when.
    pub until: Option<DateTime<Utc>>,
    pub requested_by: i64,
}

impl From<&PendingRequest> for PendingView {
    fn from(p: &PendingRequest) -> Self {
        match p {
            PendingRequest::Postpone {
                reason,
                requested_by,
            } => Self {
                kind: "postpone".into(),
                reason: reason.clone(),
                until: None,
                requested_by: *requested_by,
            },
            PendingRequest::Suspend {
                reason,
                until,
                requested_by,
            } => Self {
                kind: "suspend".into(),
                reason: reason.clone(),
                until: Some(*until),
                requested_by: *requested_by,
            },
        }
    }
}

impl From<TimeLimit> for TimeLimitView {
    fn from(l: TimeLimit) -> Self {
        Self {
            value: l.value,
            unit: l.unit.as_str().to_string(),
            unit_name: l.unit.name_zh().to_string(),
            text: l.to_string(),
        }
    }
}

/// A case (案件) as the requesting user sees it (PRODUCT.md §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    /// `YYYYMMDD` + 5-digit daily sequence (the local date of the report).
    #[schema(example = "2026112300001")]
    pub code: String,
    /// `reported`, `verifying`, `filed`, `dispatched`, `handling`, `handled`, `checking`,
    /// `closed`, `cancelled` or `suspended`.
    #[schema(value_type = crate::wire::CaseStatusName)]
    pub status: String,
    /// 状态中文名, e.g. 已派遣.
    pub status_name: String,
    /// `inspector`, `citizen`, `hotline`, `video_ai`, `iot` or `leader`.
    #[schema(value_type = crate::wire::CaseSourceName)]
    pub source: String,
    pub source_name: String,
    /// `component` (部件) or `matter` (事项); null until categorised.
    #[schema(value_type = Option<crate::wire::CategoryKindName>)]
    pub category_kind: Option<String>,
    /// 5 digits; null until categorised.
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    pub category_name: Option<String>,
    /// The filing condition (立案条件) chosen at filing, by its seq.
    pub filing_seq: Option<u32>,
    /// `normal` or `urgent`.
    #[schema(value_type = crate::wire::UrgencyName)]
    pub urgency: String,
    pub description: String,
    pub location: CaseLocationView,
    /// The component (部件, 17 digits) the report is about.
    #[schema(value_type = Option<crate::wire::ComponentIdCode>)]
    pub component_id: Option<String>,
    pub reporter_id: Option<i64>,
    /// The reporter's name/phone (hotline and citizen reports) — in full only to the roles that
    /// call reporters back (intake, supervisor, dispatcher; each such view is written to the
    /// contact access log) and to the reporter; masked for everyone else (`张* 138****0000`).
    pub contact: Option<String>,
    /// The inspector who must verify or check now.
    pub assignee_id: Option<i64>,
    /// The department handling the case now.
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    /// What the responsibility matrix (权责清单) suggests.
    pub suggested_department_id: Option<i64>,
    pub suggested_department_name: Option<String>,
    /// 处置时限 fixed at filing.
    pub handle_limit: Option<TimeLimitView>,
    /// 处置截止时间 (once dispatched).
    pub deadline: Option<DateTime<Utc>>,
    /// The light of the current stage now: `green`, `yellow` or `red`.
    #[schema(value_type = crate::wire::LightName)]
    pub light: String,
    /// The timed stage now: `verify`, `file`, `dispatch`, `sign`, `handle`, `check` or `close`.
    #[schema(value_type = Option<crate::wire::StageName>)]
    pub stage: Option<String>,
    pub stage_started_at: Option<DateTime<Utc>>,
    /// When the current stage runs out (null while the clock is stopped).
    pub stage_due: Option<DateTime<Utc>>,
    /// The stage's due time was computed across a year without a holiday schedule.
    pub stage_unscheduled: bool,
    /// 超期 (some stage ran over its limit).
    pub overdue: bool,
    /// 督办
    pub supervised: bool,
    pub postpone_count: u32,
    pub rework_count: u32,
    pub return_count: u32,
    /// A postponement or suspension waiting for the dispatcher.
    pub pending: Option<PendingView>,
    /// 挂账 until (while suspended).
    pub suspended_until: Option<DateTime<Utc>>,
    /// The inspector's verification result (核实).
    pub verified: Option<bool>,
    /// 核查通过, waiting for closing.
    pub check_passed: bool,
    /// A possible duplicate found at intake: the open case nearby.
    pub duplicate_of: Option<i64>,
    /// The master case this one was merged into.
    pub merged_into: Option<i64>,
    /// 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
    /// `normal` or `overdue` (closed cases).
    #[schema(value_type = Option<crate::wire::CloseKindName>)]
    pub close_kind: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// The actions the requesting user may take now (`POST /api/v1/cases/{id}/actions/{action}`).
    #[schema(value_type = Vec<crate::wire::CaseActionName>, example = json!(["sign", "return"]))]
    pub allowed_actions: Vec<String>,
    /// Public ids of the photos linked to the case (single-case answers; null in lists):
    /// `GET /api/v1/attachments/{id}`.
    #[schema(value_type = Option<Vec<crate::wire::AttachmentId>>)]
    pub attachments: Option<Vec<String>>,
}

/// `POST /api/v1/cases`: a report (上报).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewCaseRequest {
    /// Longitude; may be omitted when `component_id` is given (the component's point is used).
    #[schema(minimum = -180.0, maximum = 180.0, example = 114.415)]
    pub lng: Option<f64>,
    #[schema(minimum = -90.0, maximum = 90.0, example = 23.085)]
    pub lat: Option<f64>,
    /// `wgs84` (default, also CGCS2000) or `gcj02` (what phones' map apps give).
    #[schema(value_type = Option<crate::wire::CrsName>)]
    pub crs: Option<String>,
    pub description: String,
    /// `component` or `matter`; may be omitted when the code names one category only.
    #[schema(value_type = Option<crate::wire::CategoryKindName>)]
    pub category_kind: Option<CategoryKind>,
    /// 5-digit category code. Optional for citizens; defaults to the component's category.
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    /// `normal` (default) or `urgent`.
    #[schema(value_type = Option<crate::wire::UrgencyName>)]
    pub urgency: Option<Urgency>,
    pub address: Option<String>,
    /// The component (部件) the report is about (17 digits).
    #[schema(value_type = Option<crate::wire::ComponentIdCode>)]
    pub component_id: Option<String>,
    /// The reporter's name and phone (hotline, citizen).
    pub contact: Option<String>,
    /// Public ids of photos uploaded with `POST /api/v1/attachments` by the same user.
    #[schema(value_type = Vec<crate::wire::AttachmentId>)]
    pub attachments: Vec<String>,
    /// Intake operators may declare `video_ai` or `iot` (default `hotline`); other roles report
    /// as themselves (`inspector`, `citizen`, `leader`).
    #[schema(value_type = Option<crate::wire::CaseSourceName>)]
    pub source: Option<String>,
}

/// The body of `POST /api/v1/cases/{id}/actions/{action}`: the fields the action needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ActionBody {
    pub comment: Option<String>,
    /// Required by `reject`, `return`, `check_fail`, `cancel`, `request_postpone`,
    /// `deny_postpone`, `request_suspend` and `verify` with `confirmed: false`.
    pub reason: Option<String>,
    /// `file`: `component` or `matter` (default: as reported or inferred from the code).
    #[schema(value_type = Option<crate::wire::CategoryKindName>)]
    pub category_kind: Option<CategoryKind>,
    /// `file`: the category (default: as reported).
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    /// `file`: the filing condition (立案条件) by seq; its limit becomes the handling limit.
    pub filing_seq: Option<u32>,
    /// `file`: `normal` or `urgent`.
    #[schema(value_type = Option<crate::wire::UrgencyName>)]
    pub urgency: Option<Urgency>,
    /// `dispatch`: the department (default: the suggested one).
    pub department_id: Option<i64>,
    /// `send_verify`/`send_check`: the inspector (default: the inspector of the case's grid).
    pub assignee_id: Option<i64>,
    /// Public ids of photos uploaded by the same user (`handle` needs after-photos).
    #[schema(value_type = Vec<crate::wire::AttachmentId>)]
    pub attachments: Vec<String>,
    /// `request_suspend`: until when (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `rate`: 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub score: Option<u8>,
    /// `verify`: whether the problem exists (default true).
    pub confirmed: Option<bool>,
    /// `merge`: the master case (default: the duplicate candidate found at intake).
    pub master_case_id: Option<i64>,
}

/// Checks what the document declares of a report's fields (the service checks the rest).
impl NewCaseRequest {
    pub fn check(&self) -> Result<(), String> {
        use crate::wire::{CaseSourceName, CrsName, is_category_code, is_component_id};
        if let Some(lng) = self.lng
            && !(-180.0..=180.0).contains(&lng)
        {
            return Err("lng must lie in [-180, 180]".into());
        }
        if let Some(lat) = self.lat
            && !(-90.0..=90.0).contains(&lat)
        {
            return Err("lat must lie in [-90, 90]".into());
        }
        if let Some(c) = &self.crs
            && !CrsName::values().contains(&c.as_str())
        {
            return Err(format!("crs {c:?}: expected wgs84, cgcs2000 or gcj02"));
        }
        if let Some(s) = &self.source
            && !CaseSourceName::values().contains(&s.as_str())
        {
            return Err(format!("source {s:?}: unknown source"));
        }
        if let Some(c) = &self.category_code
            && !is_category_code(c)
        {
            return Err(format!("category_code {c:?}: expected 5 digits"));
        }
        if let Some(c) = &self.component_id
            && !is_component_id(c)
        {
            return Err(format!("component_id {c:?}: expected 17 digits"));
        }
        check_attachment_ids(&self.attachments)
    }
}

/// Every photo id has the documented shape (a UUID).
fn check_attachment_ids(ids: &[String]) -> Result<(), String> {
    match ids.iter().find(|id| !crate::wire::is_attachment_id(id)) {
        Some(id) => Err(format!("attachments: {id:?} is not a photo id (a UUID)")),
        None => Ok(()),
    }
}

impl ActionBody {
    /// Checks what the document declares of the fields, whatever the action (an action ignores
    /// the fields it does not need, but never accepts a malformed one).
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = self.score
            && !(1..=5).contains(&s)
        {
            return Err(format!("score {s}: expected 1 to 5"));
        }
        if let Some(c) = &self.category_code
            && !crate::wire::is_category_code(c)
        {
            return Err(format!("category_code {c:?}: expected 5 digits"));
        }
        check_attachment_ids(&self.attachments)
    }

    /// The action's input without its photos, and the public ids of the photos (resolved by
    /// [`cityops_app::CaseService::act`]).
    pub fn into_input(mut self) -> (ActionInput, Vec<String>) {
        let photos = std::mem::take(&mut self.attachments);
        (self.into(), photos)
    }
}

/// Everything but the photos, which name public ids (see [`ActionBody::into_input`]).
impl From<ActionBody> for ActionInput {
    fn from(b: ActionBody) -> Self {
        ActionInput {
            comment: b.comment,
            reason: b.reason,
            category_kind: b.category_kind,
            category_code: b.category_code,
            filing_seq: b.filing_seq,
            urgency: b.urgency,
            department_id: b.department_id,
            assignee_id: b.assignee_id,
            attachments: Vec::new(),
            until: b.until,
            score: b.score,
            confirmed: b.confirmed,
            master_case_id: b.master_case_id,
        }
    }
}

/// The names of every case action, for messages and documentation.
pub fn action_names() -> Vec<&'static str> {
    CaseAction::ALL.iter().map(|a| a.as_str()).collect()
}

/// One event of a case's audit trail (流转记录), with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseEventView {
    /// Position in the global chain.
    pub seq: i64,
    pub case_id: i64,
    /// An action (`file`, `dispatch` …) or a system event (`report`, `light_yellow`, `overdue`).
    pub action: String,
    /// Null for the system.
    pub actor_id: Option<i64>,
    #[schema(value_type = Option<crate::wire::RoleName>)]
    pub actor_role: Option<String>,
    pub at: DateTime<Utc>,
    #[schema(value_type = Option<crate::wire::CaseStatusName>)]
    pub from_status: Option<String>,
    #[schema(value_type = crate::wire::CaseStatusName)]
    pub to_status: String,
    pub comment: Option<String>,
    /// Public ids of the photos the event linked.
    #[schema(value_type = Vec<crate::wire::AttachmentId>)]
    pub attachments: Vec<String>,
    /// Action-specific facts (department, deadline, category …).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl CaseEventView {
    /// The view of an event; `photos` maps the photos' row ids (what the event stores) to their
    /// public ids.
    pub fn new(
        e: cityops_domain::case::CaseEvent,
        photos: &std::collections::HashMap<i64, String>,
    ) -> Self {
        let ev = e.event;
        Self {
            seq: e.seq,
            case_id: ev.case_id,
            action: ev.action,
            actor_id: ev.actor_id,
            actor_role: ev.actor_role.map(|r| r.as_str().to_string()),
            at: ev.at,
            from_status: ev.from_status.map(|s| s.as_str().to_string()),
            to_status: ev.to_status.as_str().to_string(),
            comment: ev.comment,
            attachments: ev
                .attachments
                .iter()
                .filter_map(|id| photos.get(id).cloned())
                .collect(),
            data: ev.data,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

super::list_view!(
    /// A page of cases.
    CaseList,
    CaseView
);
super::list_view!(
    /// A page of a case's events, in chain order.
    CaseEventList,
    CaseEventView
);

/// Case counts within the caller's scope (and the filters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseStatsView {
    pub total: u64,
    pub open: u64,
    pub closed: u64,
    pub cancelled: u64,
    /// Open cases that ran over a limit.
    pub overdue_open: u64,
    /// Status → count (statuses without cases are left out).
    #[schema(value_type = Object, example = json!({"reported": 3, "closed": 10}))]
    pub by_status: std::collections::BTreeMap<String, u64>,
}

impl From<cityops_store::CaseCounts> for CaseStatsView {
    fn from(c: cityops_store::CaseCounts) -> Self {
        Self {
            total: c.total,
            open: c.open,
            closed: c.closed,
            cancelled: c.cancelled,
            overdue_open: c.overdue_open,
            by_status: c
                .by_status
                .into_iter()
                .map(|(s, n)| (s.as_str().to_string(), n))
                .collect(),
        }
    }
}

/// One full view of a reporter's contact (个人信息访问记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ContactAccessView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who saw the contact.
    pub user_id: i64,
    pub case_id: i64,
    /// `case` (detail), `list` (a page of the case list) or `action` (an action's answer).
    #[schema(value_type = crate::wire::ContactAccessViaName)]
    pub via: String,
}

super::list_view!(
    /// A page of the contact access log, newest first.
    ContactAccessList,
    ContactAccessView
);

/// The first broken link of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BrokenLinkView {
    pub seq: i64,
    pub reason: String,
}

/// `GET /api/v1/audit/verify`: the audit chain recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyView {
    /// True when every stored event matches its hash and links to its predecessor.
    pub ok: bool,
    /// Events verified (up to the first broken one).
    pub checked: u64,
    /// The last verified event's seq (0 for an empty chain).
    pub head_seq: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLinkView>,
    /// The verification checked the events after this seq (the last link an earlier
    /// verification found intact, itself re-checked); 0 when it started from the first event.
    pub from_seq: i64,
    /// True when every event was checked from the first (`?full=true`, the first verification,
    /// or a checkpoint whose link changed).
    pub full: bool,
}

impl From<NewCaseRequest> for cityops_app::ReportRequest {
    fn from(r: NewCaseRequest) -> Self {
        Self {
            lng: r.lng,
            lat: r.lat,
            crs: r.crs,
            description: r.description,
            category_kind: r.category_kind,
            category_code: r.category_code,
            urgency: r.urgency,
            address: r.address,
            component_id: r.component_id,
            contact: r.contact,
            attachments: r.attachments,
            source: r.source,
            client_address: None,
            department_id: None,
        }
    }
}
