//! The storage contract of the case workflow: cases and their events (one hash chain), the
//! responsibility matrix, inboxes, attachments and the working calendar.
//!
//! Scope: every method that reads cases takes a [`CaseVisibility`] and applies it in its query.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConfigChange, ConfigVersion, Page, PageRequest, Result, Role};
pub use cityops_domain::calendar::{CalendarDay, DayKind, Light};
pub use cityops_domain::case::routing::RoutingRule;
pub use cityops_domain::case::{
    Case, CaseEvent, CaseSource, CaseStatus, CaseVisibility, NewCaseEvent, NewNotification,
    Notification, Recipient,
};

/// Sort orders of `GET /api/v1/cases`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Newest first (default).
    #[default]
    CreatedDesc,
    CreatedAsc,
    /// Soonest stage due time first (open cases with a running clock first).
    DueAsc,
    UpdatedDesc,
}

/// A work-queue condition read from the case record (工作台 queues).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseFlag {
    /// 延期/挂账申请待批: a postpone or suspend request waits for the dispatcher.
    Pending,
    /// 疑似重复: intake found an open case of the same category nearby (`duplicate_of`).
    Duplicate,
    /// 被退回: returned at least once (`return_count > 0`).
    Returned,
    /// 核查通过: the check passed, the case waits for closing.
    CheckPassed,
}

/// Filters of `GET /api/v1/cases`. All given filters must hold (AND).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseQuery {
    /// Any of these statuses (empty = all).
    pub statuses: Vec<CaseStatus>,
    /// The light of the current stage at `now`: red = due < now; yellow = yellow_at <= now <= due;
    /// green = neither.
    pub light: Option<Light>,
    pub source: Option<CaseSource>,
    /// A 5-digit category or a 2-digit class code.
    pub category: Option<String>,
    /// District, street, community or grid code: cases located within it.
    pub region_code: Option<String>,
    pub department_id: Option<i64>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// [min_lng, min_lat, max_lng, max_lat]
    pub bbox: Option<[f64; 4]>,
    /// Code, description or address contains.
    pub text: Option<String>,
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    /// The inspector who must verify or check now.
    pub assignee_id: Option<i64>,
    /// A work-queue condition of the case record.
    pub flag: Option<CaseFlag>,
    /// Suspended cases whose suspension ends at or before this instant (the watcher's resume).
    pub suspended_until_before: Option<DateTime<Utc>>,
    pub sort: CaseSort,
    /// "Now" for the light filter.
    pub now: DateTime<Utc>,
}

impl CaseQuery {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            statuses: Vec::new(),
            light: None,
            source: None,
            category: None,
            region_code: None,
            department_id: None,
            from: None,
            to: None,
            bbox: None,
            text: None,
            overdue: None,
            supervised: None,
            assignee_id: None,
            flag: None,
            suspended_until_before: None,
            sort: CaseSort::default(),
            now,
        }
    }
}

/// Counts of cases by status, for dashboards: within the caller's visibility.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCounts {
    pub total: u64,
    pub open: u64,
    pub closed: u64,
    pub cancelled: u64,
    pub overdue_open: u64,
    pub by_status: Vec<(CaseStatus, u64)>,
}

/// What the deadline watcher does with one case; pure (the domain's `mark_light`).
pub type MarkFn<'a> =
    &'a (dyn Fn(&Case) -> Option<(Case, NewCaseEvent, Vec<NewNotification>)> + Send + Sync);

/// Generated history written in bulk (the demo city): cases with ids, codes and versions
/// already set, all events in chain order, notifications and followers (user, case).
#[derive(Debug, Clone, Default)]
pub struct CaseHistory {
    pub cases: Vec<Case>,
    pub events: Vec<NewCaseEvent>,
    pub notifications: Vec<NewNotification>,
    pub followers: Vec<(i64, i64)>,
}

/// A step the machine took on a new report before it was stored (直接立案 then 一键直达): its
/// event and notifications, written with the report ([`CaseRepo::create_case_with_steps`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportStep {
    pub event: NewCaseEvent,
    pub notify: Vec<NewNotification>,
}

/// 重复案件: a case as the duplicate check sees it — what, where, since when, and whether it can
/// still be a duplicate's candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePoint {
    pub id: i64,
    pub category_code: Option<String>,
    pub lng: f64,
    pub lat: f64,
    pub created_at: DateTime<Utc>,
    /// Neither closed nor cancelled, and not merged into another case.
    pub candidate: bool,
}

/// One audit event of [`CaseRepo::duplicate_changes`]: its seq and its case as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateChange {
    pub seq: i64,
    pub point: DuplicatePoint,
}

/// Cases and their audit chain.
#[async_trait]
pub trait CaseRepo: Send + Sync {
    /// Stores a new case, its first event and notifications in one transaction. Assigns the id,
    /// the code (`YYYYMMDD` of `local_date` + the day's next 5-digit sequence, unique under
    /// concurrent intake), version 1; the reporter follows the case; the event's attachments
    /// are linked to the case. The event and notifications get the new id. `Invalid` (naming
    /// the ids, see [`crate::attachment_claim_error`]) when an attachment is missing or belongs
    /// to another case: then nothing of the report is written.
    async fn create_case(
        &self,
        case: &Case,
        local_date: NaiveDate,
        event: &NewCaseEvent,
        notify: &[NewNotification],
    ) -> Result<Case>;

    /// [`CaseRepo::create_case`] with the steps the machine took on the report before it was
    /// stored (直接立案, 一键直达), all in the same transaction: `case` is the state after the
    /// last step; the report's event comes first in the audit chain, then each step's, and the
    /// stored version is 1 + the number of steps. One durable write instead of one per step.
    async fn create_case_with_steps(
        &self,
        case: &Case,
        local_date: NaiveDate,
        event: &NewCaseEvent,
        notify: &[NewNotification],
        steps: &[ReportStep],
    ) -> Result<Case>;

    /// A case if it exists and is visible.
    async fn get_case(&self, id: i64, vis: &CaseVisibility) -> Result<Option<Case>>;

    async fn list_cases(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<Case>>;

    async fn count_cases(&self, query: &CaseQuery, vis: &CaseVisibility) -> Result<CaseCounts>;

    /// Writes a transition in one transaction: the case (only if the stored version is still
    /// `case.version`, else `Conflict`), the event (appended to the chain), the notifications,
    /// the follower `(user, case)` if any; links the event's attachments to the case (`Invalid`
    /// and nothing written when one is missing or belongs to another case). Returns the case
    /// with its version incremented.
    async fn save_transition(
        &self,
        case: &Case,
        event: &NewCaseEvent,
        notify: &[NewNotification],
        follow: Option<(i64, i64)>,
    ) -> Result<Case>;

    /// The events of a visible case in order; `None` when the case is missing or not visible.
    async fn case_events(
        &self,
        case_id: i64,
        vis: &CaseVisibility,
    ) -> Result<Option<Vec<CaseEvent>>>;

    /// The chain in seq order: events with seq > `after_seq`, at most `limit`.
    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<CaseEvent>>;

    /// The seq of the newest audit event (0 when the chain is empty): where a reader of
    /// [`CaseRepo::duplicate_changes`] starts.
    async fn audit_head(&self) -> Result<i64>;

    /// 重复案件: open, unmerged cases reported at or after `since` with an id above `after_id`,
    /// in id order, at most `limit` — what the duplicate index of a process starts from.
    async fn duplicate_points(
        &self,
        since: DateTime<Utc>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<DuplicatePoint>>;

    /// The cases of the audit events after `after_seq`, one row per event in seq order (at most
    /// `limit`), each case as it is now: how a process learns of the reports and changes that
    /// other processes made. Seq order is commit order on both stores (one chain, one writer at
    /// a time).
    async fn duplicate_changes(&self, after_seq: i64, limit: u32) -> Result<Vec<DuplicateChange>>;

    /// The duplicate check's candidates (at most 1,000 ids), whole, in the order of `ids`,
    /// whatever their scope (the system reads them); ids that do not exist are left out. Read
    /// like `EvaluationRepo::cases_by_ids`, on the hot path's own connections.
    async fn duplicate_cases(&self, ids: &[i64]) -> Result<Vec<Case>>;

    /// The deadline watcher: in one transaction takes up to `limit` open cases whose light is due
    /// to change at `now` (green with yellow_at <= now, or not yet red with due < now), skipping
    /// rows another process holds (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's single writer),
    /// applies `mark` and stores each changed case with its event and notifications. Each case
    /// is marked once per stage and light, however many processes run this at once. Returns
    /// how many cases changed.
    async fn mark_lights(&self, now: DateTime<Utc>, limit: u32, mark: MarkFn<'_>) -> Result<u64>;

    /// Bulk-writes generated history into an empty case table in one transaction, computing the
    /// chain hashes, and sets the daily code sequences past the codes it wrote.
    async fn import_history(&self, history: &CaseHistory) -> Result<u64>;
}

/// The responsibility matrix (权责清单). Every change is kept as a version
/// ([`crate::changes`]) in the same transaction, and bumps the routing cache version.
#[async_trait]
pub trait RoutingRepo: Send + Sync {
    /// All rules ordered by (kind, category, region).
    async fn routing_rules(&self) -> Result<Vec<RoutingRule>>;
    /// Replaces the whole matrix in one transaction and keeps the new matrix as a version made by
    /// `change`; returns how many rules it holds now. `Invalid` for a malformed rule, a duplicate
    /// (kind, category, region) or an unknown department. An empty `rules` empties the matrix:
    /// refusing that unless asked is the caller's business (the store keeps it restorable).
    async fn replace_routing_rules(
        &self,
        rules: &[RoutingRule],
        change: &ConfigChange,
    ) -> Result<u64>;
    /// The kept versions of the matrix, newest first.
    async fn routing_versions(&self, page: PageRequest) -> Result<Page<ConfigVersion>>;
    /// One version of the matrix with its rules (in key order); `None` when there is no such
    /// routing version.
    async fn routing_version(&self, id: i64) -> Result<Option<(ConfigVersion, Vec<RoutingRule>)>>;
    /// Makes version `id` the matrix again, in one transaction, kept as a new version (made by
    /// `change`, `restored_from` = `id`); returns the new version. `NotFound` when there is no
    /// such routing version; `Invalid` when a department it names no longer exists.
    async fn restore_routing_version(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion>;
}

/// Whose inbox: the user, their department and the roles they hold within their region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxOwner {
    pub user_id: i64,
    pub department_id: Option<i64>,
    pub roles: Vec<Role>,
    /// Region prefixes the roles apply in; `None` = everywhere.
    pub region_prefixes: Option<Vec<String>>,
}

/// Which notifications [`InboxRepo::mark_read`] marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMark<'a> {
    /// These ids (those outside the owner's inbox are ignored); none marks nothing.
    Ids(&'a [i64]),
    /// Everything unread in the owner's inbox: only ever on an explicit request.
    All,
}

/// Inboxes (待办/消息). Read state is per user: a notification to a department or a role is
/// read (or not) by each of its recipients on their own; a personal notification has one reader.
#[async_trait]
pub trait InboxRepo: Send + Sync {
    /// Newest first; `read_at` is when *this owner* read it.
    async fn inbox(
        &self,
        owner: &InboxOwner,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>>;
    /// How many notifications of the owner's inbox the owner has not read.
    async fn unread_count(&self, owner: &InboxOwner) -> Result<u64>;
    /// Marks notifications of the owner's inbox read for the owner alone (colleagues sharing a
    /// department or role notification keep their own state). Returns how many changed.
    async fn mark_read(
        &self,
        owner: &InboxOwner,
        which: ReadMark<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64>;
}

/// A stored photo's record (the bytes live on disk by content hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAttachment {
    pub sha256: String,
    pub mime: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub thumb_sha256: String,
    pub uploaded_by: i64,
    pub created_at: DateTime<Utc>,
    pub file_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The row id: what case events and claims refer to inside the store; never shown.
    pub id: i64,
    /// The random public id (a UUID) every URL and JSON names the photo by.
    pub public_id: String,
    #[serde(flatten)]
    pub attachment: NewAttachment,
    /// The case it was attached to by a report, a transition or a third-party review.
    pub case_id: Option<i64>,
}

/// A photo record with the code of its case, for the evidence check (`cityops check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentWithCase {
    pub attachment: Attachment,
    pub case_code: Option<String>,
}

/// Evidence records.
#[async_trait]
pub trait AttachmentRepo: Send + Sync {
    /// Stores the record under a new random public id (a version 7 UUID).
    async fn create_attachment(&self, a: &NewAttachment) -> Result<Attachment>;
    /// The attachments with these row ids that exist, in id order.
    async fn get_attachments(&self, ids: &[i64]) -> Result<Vec<Attachment>>;
    /// The attachments with these public ids that exist, in id order.
    async fn attachments_by_public_id(&self, public_ids: &[String]) -> Result<Vec<Attachment>>;
    /// The attachments linked to a case, in id order.
    async fn case_attachments(&self, case_id: i64) -> Result<Vec<Attachment>>;
    /// Every attachment with row id > `after_id`, at most `limit`, in id order, with its case's
    /// code: what the evidence check walks through.
    async fn attachments_after(&self, after_id: i64, limit: u32)
    -> Result<Vec<AttachmentWithCase>>;
}

/// The holiday schedule of the working calendar (节假日/调休). Every change is kept as a version
/// ([`crate::changes`]) in the same transaction, and bumps the calendar cache version.
#[async_trait]
pub trait CalendarRepo: Send + Sync {
    /// Ordered by date.
    async fn calendar_days(&self) -> Result<Vec<CalendarDay>>;
    /// Upserts days by date in one transaction and keeps the whole schedule after the change as
    /// a version made by `change`; returns how many were written. `Invalid` for a date given
    /// twice, a year outside 2000–2100 or a name that is not plain text
    /// ([`cityops_domain::calendar::validate_day`]). Writing no days changes nothing and keeps
    /// no version.
    async fn put_calendar_days(&self, days: &[CalendarDay], change: &ConfigChange) -> Result<u64>;
    /// The kept versions of the schedule, newest first.
    async fn calendar_versions(&self, page: PageRequest) -> Result<Page<ConfigVersion>>;
    /// One version of the schedule with its days (by date); `None` when there is no such
    /// calendar version.
    async fn calendar_version(&self, id: i64) -> Result<Option<(ConfigVersion, Vec<CalendarDay>)>>;
    /// Makes version `id` the whole schedule again (days not in it are removed), in one
    /// transaction, kept as a new version (made by `change`, `restored_from` = `id`); returns
    /// the new version. `NotFound` when there is no such calendar version.
    async fn restore_calendar_version(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults() {
        let q = CaseQuery::new(Utc::now());
        assert!(q.statuses.is_empty());
        assert_eq!(q.sort, CaseSort::CreatedDesc);
    }
}
