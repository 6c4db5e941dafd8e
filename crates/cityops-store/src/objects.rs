//! 一码管全域 (management objects, issue 14): coded objects with their responsible party and
//! zone, the self-checks and inspections of them (码上办) with the 双保险 discrepancies found,
//! and the rectification records of the 三教而罚 ladder.
//!
//! What the stores guarantee:
//! - an object code is issued once: the next number of (division, kind) is taken by one atomic
//!   upsert of `object_code_sequences` in the transaction that inserts the object, and codes are
//!   unique in the table — also with several processes on one database;
//! - an import writes every object or none;
//! - a check is written with its photos' claims, its discrepancies and the rectification records
//!   it opens and closes in one transaction; at most one record is open per object and item (a
//!   unique index), and a record changes only at the version it was read at (`Conflict`
//!   otherwise), so two processes racing on one record keep one change;
//! - the hand-over of a record to enforcement is claimed by one caller at a time (a claim older
//!   than `stale_before` may be taken over), and its case is linked once.
//!
//! Every read that a person asks for takes an [`ObjectScope`] the store turns into its `WHERE`
//! clause; the ladder's own reads (due records) see everything.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::objects::{
    Check, CheckKind, CheckResult, Comparison, Discrepancy, DiscrepancyKind, ManagedObject,
    ObjectCode, ObjectKind, ObjectRegions, PositionCheck, RectStage, Rectification,
    ResponsibilityZone, ResponsibleParty,
};

use crate::{Page, PageRequest, Result, StoreError};
use cityops_domain::LngLat;

/// Which objects (and so which checks, records and discrepancies) a reader may see. The parts
/// given must all hold; an empty scope ([`ObjectScope::everything`]) sees every object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectScope {
    /// Objects whose located district/street/community/grid code starts with one of these
    /// (empty: anywhere). The reader's region goes here.
    pub region_prefixes: Vec<String>,
    /// Only objects supervised by this department (a department handler's scope).
    pub department_id: Option<i64>,
    /// Only the objects this user answers for (a responsible party's scope).
    pub responsible_user_id: Option<i64>,
}

impl ObjectScope {
    /// Every object (administrators, the ladder).
    pub fn everything() -> Self {
        Self::default()
    }

    /// Whether the scope admits `object` (the same test as the SQL, for objects in memory).
    pub fn admits(&self, object: &ManagedObject) -> bool {
        let r = &object.regions;
        let codes = [&r.grid, &r.community, &r.street, &r.district];
        (self.region_prefixes.is_empty()
            || self.region_prefixes.iter().any(|p| {
                codes.iter().any(|c| {
                    c.as_ref()
                        .is_some_and(|c| c.as_str().starts_with(p.as_str()))
                })
            }))
            && self
                .department_id
                .is_none_or(|d| object.owner_department_id == Some(d))
            && self
                .responsible_user_id
                .is_none_or(|u| object.responsible.user_id == Some(u))
    }
}

/// Filters of the object list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectFilter {
    pub kind: Option<ObjectKind>,
    /// The 9-digit street code.
    pub street: Option<String>,
    /// Code, name or address contains (literal, case-insensitive for Latin letters).
    pub q: Option<String>,
    /// Only the objects of this responsible party (by account).
    pub responsible_user_id: Option<i64>,
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredObject {
    pub id: i64,
    pub object: ManagedObject,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who created it (`None`: an import by the system).
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
    /// Starts at 1; every update adds one ([`ObjectRepo::update_object`] checks it).
    pub version: i64,
}

/// An object to create: everything but the code, which the store issues unless one is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObject {
    /// An existing code to keep (an object coded before); `None`: the store issues the next
    /// number of `division` and `kind`.
    pub code: Option<ObjectCode>,
    /// The 6-digit division that issues the code (the object's district).
    pub division: String,
    pub kind: ObjectKind,
    pub name: String,
    pub address: String,
    pub point: LngLat,
    pub zone: Option<ResponsibilityZone>,
    pub regions: ObjectRegions,
    pub responsible: ResponsibleParty,
    pub owner_department_id: Option<i64>,
    pub by_user: Option<i64>,
    pub at: DateTime<Utc>,
}

impl NewObject {
    /// The object it becomes under `code`.
    pub fn with_code(&self, code: ObjectCode) -> ManagedObject {
        ManagedObject {
            code,
            kind: self.kind,
            name: self.name.clone(),
            address: self.address.clone(),
            point: self.point,
            zone: self.zone.clone(),
            regions: self.regions.clone(),
            responsible: self.responsible.clone(),
            owner_department_id: self.owner_department_id,
        }
    }

    /// The domain's checks of the fields ([`ManagedObject::validate`]) and of the division:
    /// `Invalid` naming the object.
    pub fn validate(&self) -> Result<()> {
        let code = match &self.code {
            Some(c) => c.clone(),
            None => ObjectCode::new(&self.division, self.kind, 1)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        };
        self.with_code(code)
            .validate()
            .map_err(|e| StoreError::Invalid(format!("object {:?}: {e}", self.name)))
    }
}

/// A check as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCheck {
    pub id: i64,
    pub check: Check,
    /// Where the label was scanned against the object, when a position was given.
    pub position_check: Option<PositionCheck>,
    /// An inspection's comparison with the latest self-check before it (双保险).
    pub comparison: Option<Comparison>,
    /// The self-check it was compared with.
    pub compared_with: Option<i64>,
    /// The display name of the user who checked.
    pub by_name: String,
}

/// A check to record, with what the domain decided about it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckRecord {
    pub check: Check,
    pub position_check: Option<PositionCheck>,
    pub comparison: Option<Comparison>,
    pub compared_with: Option<i64>,
    /// Records opened by this check (failing items with no open record).
    pub open: Vec<Rectification>,
    /// Records closed by this check (the item now passes).
    pub close: Vec<RectificationUpdate>,
}

/// What recording a check wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCheck {
    pub check: StoredCheck,
    pub opened: Vec<StoredRectification>,
    pub closed: Vec<StoredRectification>,
}

/// A record's new state, written only if the record is still at `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct RectificationUpdate {
    pub id: i64,
    pub expected_version: i64,
    pub record: Rectification,
}

/// A rectification record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRectification {
    pub id: i64,
    pub record: Rectification,
    /// Starts at 1; every change adds one.
    pub version: i64,
    pub object_name: String,
    /// The check that opened it.
    pub opened_by_check: Option<i64>,
    /// The check that closed it.
    pub closed_by_check: Option<i64>,
    /// The enforcement case it was handed over as (移交执法).
    pub enforcement_case_id: Option<i64>,
}

/// Open (not rectified) or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RectStatus {
    Open,
    Closed,
}

impl RectStatus {
    pub const ALL: [RectStatus; 2] = [RectStatus::Open, RectStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            RectStatus::Open => "open",
            RectStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for RectStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        RectStatus::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("unknown status {s:?}")))
    }
}

/// Filters of the rectification list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RectificationFilter {
    pub object: Option<ObjectCode>,
    pub status: Option<RectStatus>,
    pub stage: Option<RectStage>,
    /// The 9-digit street code the record was counted in.
    pub street: Option<String>,
}

/// One discrepancy (双保险 比对差异) as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDiscrepancy {
    /// The inspection that found it.
    pub check_id: i64,
    pub object_code: ObjectCode,
    pub object_name: String,
    /// The object's street when it was found.
    pub street: Option<String>,
    pub item_code: String,
    pub kind: DiscrepancyKind,
    pub at: DateTime<Utc>,
    /// The inspector.
    pub by_user: i64,
    /// The self-check compared with.
    pub self_check_at: Option<DateTime<Utc>>,
}

/// Filters of the discrepancy list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscrepancyFilter {
    pub street: Option<String>,
    pub object: Option<ObjectCode>,
    pub kind: Option<DiscrepancyKind>,
    /// Found at or after.
    pub from: Option<DateTime<Utc>>,
    /// Found before.
    pub to: Option<DateTime<Utc>>,
}

/// Management objects, their checks and their rectification records.
#[async_trait]
pub trait ObjectRepo: Send + Sync {
    /// Creates an object, issuing its code (or keeping `new.code`: `Conflict` when taken).
    /// `Invalid`: fields the domain refuses, an unknown user or department; `Conflict`: the
    /// division and kind have used every number.
    async fn create_object(&self, new: &NewObject) -> Result<StoredObject>;

    /// Creates every object in one transaction, in order (codes issued in that order): all or
    /// nothing. Errors as [`ObjectRepo::create_object`], naming the object.
    async fn import_objects(&self, new: &[NewObject]) -> Result<Vec<StoredObject>>;

    /// Replaces the object of `object.code` (everything but the code) if it is still at
    /// `expected_version`: `NotFound` for no such object, `Conflict` when someone changed it
    /// meanwhile.
    async fn update_object(
        &self,
        object: &ManagedObject,
        expected_version: i64,
        by_user: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<StoredObject>;

    /// One object within the scope.
    async fn object(&self, code: &ObjectCode, scope: &ObjectScope) -> Result<Option<StoredObject>>;

    /// A page of objects within the scope, by code.
    async fn list_objects(
        &self,
        filter: &ObjectFilter,
        scope: &ObjectScope,
        page: PageRequest,
    ) -> Result<Page<StoredObject>>;

    /// Records a check in one transaction: the check; the claims of its photos (row ids of its
    /// results: uploaded by the checker, held by no case and no other check — else `Invalid`);
    /// its discrepancies; the records it opens (`Conflict` when one is open already for that
    /// item) and closes (`Conflict` when one changed meanwhile). `NotFound`: no such object.
    async fn record_check(&self, new: &NewCheckRecord) -> Result<RecordedCheck>;

    /// A page of an object's checks within the scope (of one kind, or both), newest first.
    /// `NotFound` when the object is not within the scope.
    async fn list_checks(
        &self,
        object: &ObjectCode,
        kind: Option<CheckKind>,
        scope: &ObjectScope,
        page: PageRequest,
    ) -> Result<Page<StoredCheck>>;

    /// The object's latest self-check at or before `at` (the one an inspection is compared with).
    async fn latest_self_check(
        &self,
        object: &ObjectCode,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredCheck>>;

    /// The object's open records (not rectified; also those handed over), by id.
    async fn open_rectifications(&self, object: &ObjectCode) -> Result<Vec<StoredRectification>>;

    /// One record.
    async fn rectification(&self, id: i64) -> Result<Option<StoredRectification>>;

    /// A page of records within the scope, newest first.
    async fn list_rectifications(
        &self,
        filter: &RectificationFilter,
        scope: &ObjectScope,
        page: PageRequest,
    ) -> Result<Page<StoredRectification>>;

    /// At most `limit` records whose next ladder step may be due at `now` (the deadline of their
    /// stage is not after `now`, or an inspection opened them and no notice went out yet),
    /// earliest first.
    async fn due_rectifications(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredRectification>>;

    /// Writes a record's new state if it is still at `update.expected_version` (`Conflict`
    /// otherwise: another process took the step). Answers it as stored.
    async fn save_rectification(&self, update: &RectificationUpdate)
    -> Result<StoredRectification>;

    /// At most `limit` records handed to enforcement whose case is not linked yet and not
    /// claimed since `stale_before`.
    async fn rectifications_awaiting_case(
        &self,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredRectification>>;

    /// Claims the opening of a handed-over record's enforcement case at `now`: true for the one
    /// caller that may open it (no case, and no claim or only one made before `stale_before`).
    async fn claim_enforcement(
        &self,
        id: i64,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<bool>;

    /// Links the enforcement case to a record that has none, and in the same transaction gives
    /// the case the check photos among `photo_ids` that no case holds (the evidence). Answers
    /// whether it linked (false: a case was linked before).
    async fn link_enforcement_case(&self, id: i64, case_id: i64, photo_ids: &[i64])
    -> Result<bool>;

    /// A page of discrepancies within the scope, newest first.
    async fn list_discrepancies(
        &self,
        filter: &DiscrepancyFilter,
        scope: &ObjectScope,
        page: PageRequest,
    ) -> Result<Page<StoredDiscrepancy>>;

    /// How many discrepancies the filter finds within the scope, per street (`None`: objects
    /// outside any street), most first then by street code — all of them, counted in the store.
    async fn discrepancies_per_street(
        &self,
        filter: &DiscrepancyFilter,
        scope: &ObjectScope,
    ) -> Result<Vec<(Option<String>, u64)>>;

    /// The records opened in `[from, to)` within the scope (what the stage statistics count).
    async fn rectifications_opened(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: &ObjectScope,
    ) -> Result<Vec<Rectification>>;

    /// The object whose check holds the photo `attachment_id`, if one does.
    async fn check_photo_object(&self, attachment_id: i64) -> Result<Option<ObjectCode>>;
}
