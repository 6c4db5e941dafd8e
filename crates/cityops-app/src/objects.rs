//! 一码管全域 in the application layer: [`ObjectService`] — what the JSON API, the console and
//! phone pages (码上办) and the scheduler call for management objects, their checks and the
//! 三教而罚 ladder.
//!
//! - **Objects** are created, imported and updated by administrators and supervisors (within
//!   their region): each is located in the region index (grid → community → street → district;
//!   outside the city is refused), coded by its district (赋码, issued by the store), linked to
//!   its responsible party's account (role `responsible_party`) and supervising department, and
//!   given a 门前三包 zone — the one drawn, else the frontage derived by the domain's
//!   [`frontage_zone`] from the nearest street line ([`ObjectSettings::streets`]: the demo city
//!   passes its main roads), else from the nearest edge of the object's unit grid (the fixture
//!   and imported cities have no street lines: a grid edge stands in for the street), else none.
//! - **Checks** (码上办): a self-check only by the object's responsible party, an inspection by an
//!   inspector or enforcement officer whose region holds the object
//!   ([`cityops_domain::objects::may_check`]); validated against the kind's checklist; the scan
//!   position checked (far scans flagged, never refused); an inspection compared with the latest
//!   self-check before it (双保险, the discrepancies stored); failing items open rectification
//!   records and passing ones close those a check may close — all written in one transaction
//!   (retried when another check of the object raced it).
//! - **The ladder** ([`ObjectService::upkeep`], every process runs it through [`spawn_upkeep`]):
//!   due notices 1–3 are taken with the domain's deadlines on the working calendar, stored at the
//!   record's version (so one process takes each step) and pushed through the outbound channel to
//!   the responsible party; after notice 3 runs out the record is handed over and one process —
//!   the one whose claim the store takes — files the enforcement case through
//!   [`CaseService::report_counted`] under the inactive system account [`LADDER_REPORTER`],
//!   routed to the 城管执法 department ([`ObjectSettings::enforcement_departments`]), with the
//!   evidence chain (inspections, photos, notices) in its description and the inspections' photos
//!   linked to it; the record names the case and the case's description names the object code and
//!   the record.
//!
//! Who sees what: [`object_scope`] (region for the command centre, leaders, inspectors and
//! enforcement officers; department for department handlers; own objects for responsible
//! parties), applied in the store's queries. Every "now" is the injected clock's.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use cityops_domain::case::visibility::region_prefix;
use cityops_domain::case::{CaseSource, CaseVisibility, Recipient, Urgency};
use cityops_domain::objects::{
    Check, CheckKind, CheckResult, ChecklistItem, Checklists, Comparison, FrontageConfig,
    LadderConfig, ManagedObject, NextStep, ObjectCode, ObjectDraft, ObjectError, ObjectKind,
    ObjectRegions, PositionCheck, PositionConfig, PublicCard, RectStage, Rectification,
    ResponsibilityZone, ResponsibleParty, StageStats, compare, credibility, frontage_zone,
    may_check, nearest_street, open_for_failures, stage_statistics,
};
use cityops_domain::{CategoryKind, Clock, LngLat, Page, PageRequest, RegionCode, Role, User};
use cityops_geo::gcj02::gcj02_to_wgs84;
use cityops_store::{
    CaseQuery, DiscrepancyFilter, NewCheckRecord, NewObject, ObjectFilter, ObjectScope,
    RectificationFilter, RectificationUpdate, Store, StoreError, StoredCheck, StoredDiscrepancy,
    StoredObject, StoredRectification,
};

use crate::error::{Result, ServiceError};
use crate::notify::OutboundMessage;
use crate::service::{CaseService, ReportRequest, unknown_photo};

/// The account enforcement cases of the ladder are reported under (inactive: nobody logs in).
pub const LADDER_REPORTER: &str = "objects-ladder";
const LADDER_REPORTER_NAME: &str = "三教而罚（逾期移交执法）";

/// How long a claim to open an enforcement case holds before another process may take it over.
const CASE_CLAIM_STALE: Duration = Duration::seconds(120);
/// Records one upkeep run looks at (the next run takes the rest).
const UPKEEP_BATCH: u32 = 500;
/// Attempts of a check whose records another check of the object changed meanwhile.
const CHECK_ATTEMPTS: usize = 3;

/// The words of an enforcement case's description that name its record (整改记录编号), found by
/// the text search when a process died between reporting and linking.
fn record_marker(id: i64) -> String {
    format!("整改记录编号 {id}。")
}

/// A street (road) centre line the default frontage zones are derived from (WGS84).
#[derive(Debug, Clone, PartialEq)]
pub struct StreetLine {
    pub name: String,
    pub points: Vec<LngLat>,
}

/// What 一码管全域 is configured with (`[objects]`). `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSettings {
    /// The periods of the ladder's stages (三教而罚).
    pub ladder: LadderConfig,
    /// When a scan is far from its object (default 200 m).
    pub position: PositionConfig,
    /// How a default frontage zone is drawn (30 m wide, at most 60 m deep).
    pub frontage: FrontageConfig,
    /// Inspections the credibility score looks back over (default 10).
    pub credibility_window: usize,
    /// The department codes tried, in order, for the enforcement case; `{district}` and `{city}`
    /// stand for the object's district and city codes. Default: the district's 城管执法大队, then
    /// the city's 城市管理和综合执法局 (the demo organisation's codes).
    pub enforcement_departments: Vec<String>,
    /// The department codes tried, in order, for an object's supervising department when none is
    /// given; `{street}`, `{district}`, `{city}` as above. Default: the street office.
    pub owner_departments: Vec<String>,
    /// The matter category (事项) of the enforcement case per checklist category (two digits);
    /// others get [`ObjectSettings::fallback_case_category`].
    pub case_categories: BTreeMap<String, String>,
    /// The matter category of an enforcement case whose checklist category has none (or whose
    /// category the catalogue lacks). Default `06036` 乱堆杂物.
    pub fallback_case_category: String,
    /// How often [`spawn_upkeep`] runs the ladder (default 60 s; zero: never).
    pub upkeep_interval: StdDuration,
    /// Street centre lines for the default frontage (the binary passes the demo city's roads).
    pub streets: Vec<StreetLine>,
}

impl Default for ObjectSettings {
    fn default() -> Self {
        // Illustrative like the checklist: the matter of GB/T 47678.5 nearest to each category.
        let case_categories = [
            ("01", "09005"), // 市容整洁 → 店外经营
            ("02", "06010"), // 环境卫生 → 暴露垃圾
            ("03", "06027"), // 餐饮油烟 → 油烟污染
            ("04", "01013"), // 燃气安全 → 消防设施异常 (no gas-safety matter in the catalogue)
            ("05", "06045"), // 市政绿化 → 非法占绿毁绿
            ("06", "06036"), // 门前三包 → 乱堆杂物
            ("07", "07003"), // 户外广告与招牌 → 违规户外广告
            ("08", "09012"), // 消防与安全通道 → 占用消防通道
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        Self {
            ladder: LadderConfig::default(),
            position: PositionConfig::default(),
            frontage: FrontageConfig::default(),
            credibility_window: cityops_domain::objects::DEFAULT_CREDIBILITY_WINDOW,
            enforcement_departments: vec![
                "{district}-enforcement".into(),
                "{city}-enforcement".into(),
            ],
            owner_departments: vec!["{street}-street".into()],
            case_categories,
            fallback_case_category: "06036".into(),
            upkeep_interval: StdDuration::from_secs(60),
            streets: Vec::new(),
        }
    }
}

/// An object as an administrator or supervisor gives it (create, update, one line of an import).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectInput {
    /// Keep this code (an object coded before); `None`: one is issued. Ignored by updates.
    pub code: Option<ObjectCode>,
    pub kind: ObjectKind,
    pub name: String,
    pub address: String,
    pub lng: f64,
    pub lat: f64,
    /// `wgs84` (default, also `cgcs2000`) or `gcj02`, for the point and the zone.
    pub crs: Option<String>,
    /// The 门前三包 zone as drawn (ring, not closed); `None`: derived from the nearest street.
    pub zone: Option<Vec<LngLat>>,
    pub responsible_name: String,
    pub responsible_phone: String,
    /// The party's account (role `responsible_party`), by username; needed to self-check.
    pub responsible_username: Option<String>,
    /// The supervising department by code; `None`: the default ([`ObjectSettings::owner_departments`]).
    pub owner_department: Option<String>,
}

impl ObjectInput {
    /// The input of an import line (coordinates as given: the import says their `crs`).
    pub fn from_draft(d: ObjectDraft, crs: Option<&str>) -> Self {
        Self {
            code: d.code,
            kind: d.kind,
            name: d.name,
            address: d.address,
            lng: d.point.lng,
            lat: d.point.lat,
            crs: crs.map(str::to_string),
            zone: d.zone.map(|z| z.ring().to_vec()),
            responsible_name: d.responsible_name,
            responsible_phone: d.responsible_phone,
            responsible_username: d.responsible_username,
            owner_department: d.owner_department,
        }
    }
}

/// The format of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    GeoJson,
}

/// One item of a check as the phone sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckItemInput {
    pub item_code: String,
    /// 合格 (true) or 不合格 (false).
    pub passed: bool,
    pub note: Option<String>,
    /// Public ids of photos the checker uploaded first (`POST /api/v1/attachments`).
    pub photos: Vec<String>,
}

/// A self-check or an inspection as the phone sends it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckInput {
    pub results: Vec<CheckItemInput>,
    /// Where the label was scanned, when the phone knows.
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// `wgs84` (default) or `gcj02`.
    pub crs: Option<String>,
}

/// What recording a check did.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub check: StoredCheck,
    /// The scan position against the object (far scans are flagged, not refused).
    pub position: Option<PositionCheck>,
    /// An inspection's comparison with the latest self-check (双保险).
    pub comparison: Option<Comparison>,
    /// Rectification records opened by failing items.
    pub opened: Vec<StoredRectification>,
    /// Records closed because their item now passes.
    pub closed: Vec<StoredRectification>,
    /// The object's credibility after this check (inspections only).
    pub credibility: Option<f64>,
}

/// An object with what its page shows beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDetail {
    pub object: StoredObject,
    /// 自查可信度 over the last [`ObjectSettings::credibility_window`] inspections.
    pub credibility: Option<f64>,
    /// Open rectification records (with their notices and deadlines), by id.
    pub open_rectifications: Vec<StoredRectification>,
    pub latest_self_check: Option<StoredCheck>,
    pub latest_inspection: Option<StoredCheck>,
}

/// The latest check as the public card shows it: no person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicCheck {
    pub kind: CheckKind,
    pub at: DateTime<Utc>,
    pub items: usize,
    pub failing: usize,
}

/// 公开信息卡: what anyone who scans the label sees — the domain's card without the
/// responsible party (nothing personal), the latest result and the open problems' stages.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicObjectCard {
    pub card: PublicCard,
    pub latest: Option<PublicCheck>,
    pub open_rectifications: Vec<Rectification>,
}

/// What one run of the ladder did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpkeepReport {
    /// Notices sent (1, 2 or 3).
    pub notices: usize,
    /// Records handed to enforcement.
    pub handed_over: usize,
    /// Enforcement cases filed (by this process).
    pub cases: usize,
}

/// Which objects `user` may see: everything for administrators (and staff without a region);
/// their region for the command centre, leaders, inspectors, enforcement officers and legal
/// reviewers; their department's objects for department handlers (else their region); their own
/// objects for responsible parties. `Forbidden` for citizens, reviewers and gateways.
pub fn object_scope(user: &User) -> Result<ObjectScope> {
    let regional = user.roles.iter().any(|r| {
        matches!(
            r,
            Role::Admin
                | Role::Leader
                | Role::Supervisor
                | Role::Dispatcher
                | Role::Intake
                | Role::Inspector
                | Role::Enforcement
                | Role::LegalReviewer
        )
    });
    let region = |code: &Option<String>| ObjectScope {
        region_prefixes: code.iter().map(|c| region_prefix(c)).collect(),
        ..ObjectScope::default()
    };
    if user.has_role(Role::Admin) {
        return Ok(ObjectScope::everything());
    }
    if regional {
        return Ok(region(&user.scope.region_code));
    }
    if user.has_role(Role::Handler) {
        return Ok(match user.scope.department_id {
            Some(d) => ObjectScope {
                department_id: Some(d),
                ..ObjectScope::default()
            },
            None => region(&user.scope.region_code),
        });
    }
    if user.has_role(Role::ResponsibleParty) {
        return Ok(ObjectScope {
            responsible_user_id: Some(user.id),
            ..ObjectScope::default()
        });
    }
    Err(ServiceError::Forbidden(
        "Management objects are for staff and their responsible parties.".into(),
    ))
}

/// Whether `user` may create, import and change objects at `regions`: administrators anywhere,
/// supervisors within their region.
fn may_manage(user: &User, regions: Option<&ObjectRegions>) -> bool {
    if user.has_role(Role::Admin) {
        return true;
    }
    if !user.has_role(Role::Supervisor) {
        return false;
    }
    match regions.and_then(ObjectRegions::finest) {
        Some(code) => user.scope.covers_region(code.as_str()),
        None => true,
    }
}

/// Whether `user` reads the supervisors' views (discrepancies, statistics).
fn supervises(user: &User) -> bool {
    user.roles
        .iter()
        .any(|r| matches!(r, Role::Admin | Role::Supervisor | Role::Leader))
}

/// Instants as the stores keep them (microseconds).
fn kept(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

fn object_error(e: ObjectError) -> ServiceError {
    match e {
        ObjectError::TooLong(t) => ServiceError::TooLong(t),
        other => ServiceError::Invalid(other.to_string()),
    }
}

/// A point in WGS84 from input in `crs`.
fn wgs84(lng: f64, lat: f64, crs: Option<&str>) -> Result<LngLat> {
    let valid = lng.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lng)
        && (-90.0..=90.0).contains(&lat);
    if !valid {
        return Err(ServiceError::invalid(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    match crs
        .map(|c| c.trim().to_ascii_lowercase())
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        None | Some("wgs84") | Some("cgcs2000") => Ok(LngLat { lng, lat }),
        Some("gcj02") => {
            let (lng, lat) = gcj02_to_wgs84(lng, lat);
            Ok(LngLat { lng, lat })
        }
        Some(other) => Err(ServiceError::invalid(format!(
            "unknown crs {other:?}: expected wgs84 or gcj02"
        ))),
    }
}

/// The outer rings of a GeoJSON Polygon or MultiPolygon, as polylines (closed).
fn outer_rings(geometry: &str) -> Vec<Vec<LngLat>> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(geometry) else {
        return Vec::new();
    };
    let ring = |r: &serde_json::Value| -> Vec<LngLat> {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let p = p.as_array()?;
                Some(LngLat {
                    lng: p.first()?.as_f64()?,
                    lat: p.get(1)?.as_f64()?,
                })
            })
            .collect()
    };
    let coords = &v["coordinates"];
    match v["type"].as_str() {
        Some("Polygon") => coords
            .as_array()
            .and_then(|rings| rings.first())
            .map(|r| vec![ring(r)])
            .unwrap_or_default(),
        Some("MultiPolygon") => coords
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|poly| poly.as_array()?.first().map(ring))
            .collect(),
        _ => Vec::new(),
    }
}

/// `{street}`, `{district}`, `{city}` of a department code template, for `regions`; `None` when
/// the template names a level the object lacks.
fn fill(template: &str, regions: &ObjectRegions) -> Option<String> {
    let mut out = template.to_string();
    for (key, code) in [
        (
            "{street}",
            regions.street.as_ref().map(|c| c.as_str().to_string()),
        ),
        (
            "{district}",
            regions.district.as_ref().map(|c| c.as_str().to_string()),
        ),
        (
            "{city}",
            regions
                .district
                .as_ref()
                .map(|c| format!("{}00", &c.as_str()[..4])),
        ),
    ] {
        if out.contains(key) {
            out = out.replace(key, &code?);
        }
    }
    Some(out)
}

/// The management-object service. One per process, beside the [`CaseService`] it files
/// enforcement cases through.
pub struct ObjectService {
    cases: Arc<CaseService>,
    settings: ObjectSettings,
    checklists: Arc<Checklists>,
}

impl std::fmt::Debug for ObjectService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectService")
            .field("settings", &self.settings.ladder)
            .finish_non_exhaustive()
    }
}

impl ObjectService {
    /// A service over `cases` with `checklists`.
    pub fn new(cases: Arc<CaseService>, settings: ObjectSettings, checklists: Checklists) -> Self {
        Self {
            cases,
            settings,
            checklists: Arc::new(checklists),
        }
    }

    /// A service with the demo checklist set (8 categories, 34 items; illustrative).
    pub fn with_demo_checklists(
        cases: Arc<CaseService>,
        settings: ObjectSettings,
    ) -> std::result::Result<Self, ObjectError> {
        Ok(Self::new(cases, settings, Checklists::demo()?))
    }

    pub fn checklists(&self) -> &Checklists {
        &self.checklists
    }

    pub fn settings(&self) -> &ObjectSettings {
        &self.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.cases.clock()
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.cases.store()
    }

    fn now(&self) -> DateTime<Utc> {
        kept(self.cases.clock().now())
    }

    // -----------------------------------------------------------------------------------------
    // Objects

    /// An object `user` may see (`NotFound` otherwise, as if it did not exist).
    pub async fn get(&self, user: &User, code: &ObjectCode) -> Result<StoredObject> {
        let scope = object_scope(user)?;
        self.store()
            .object(code, &scope)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No object {code}.")))
    }

    /// An object with its credibility, open records and latest checks.
    pub async fn detail(&self, user: &User, code: &ObjectCode) -> Result<ObjectDetail> {
        let object = self.get(user, code).await?;
        let store = self.store();
        let all = ObjectScope::everything();
        let window = self.settings.credibility_window.max(1);
        let inspections = store
            .list_checks(
                code,
                Some(CheckKind::Inspection),
                &all,
                PageRequest {
                    page: 1,
                    page_size: u32::try_from(window).unwrap_or(100).min(1000),
                },
            )
            .await?;
        let comparisons: Vec<Comparison> = inspections
            .items
            .iter()
            .filter_map(|c| c.comparison.clone())
            .collect();
        let latest_self_check = store
            .list_checks(
                code,
                Some(CheckKind::SelfCheck),
                &all,
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await?
            .items
            .into_iter()
            .next();
        Ok(ObjectDetail {
            credibility: credibility(code, &comparisons, window),
            open_rectifications: store.open_rectifications(code).await?,
            latest_self_check,
            latest_inspection: inspections.items.into_iter().next(),
            object,
        })
    }

    /// A page of the objects `user` may see.
    pub async fn list(
        &self,
        user: &User,
        filter: ObjectFilter,
        page: PageRequest,
    ) -> Result<Page<StoredObject>> {
        let scope = object_scope(user)?;
        if let Some(s) = &filter.street
            && !(s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ServiceError::invalid("street: a 9-digit street code"));
        }
        Ok(self.store().list_objects(&filter, &scope, page).await?)
    }

    /// 赋码: creates an object (administrators; supervisors within their region). Located,
    /// coded by its district, its zone drawn or derived.
    pub async fn create(&self, user: &User, input: ObjectInput) -> Result<StoredObject> {
        if !may_manage(user, None) {
            return Err(ServiceError::Forbidden(
                "Only administrators and supervisors create objects.".into(),
            ));
        }
        let mut lookups = Lookups::default();
        let new = self.new_object(user, input, &mut lookups).await?;
        if !may_manage(user, Some(&new.regions)) {
            return Err(ServiceError::Forbidden(
                "The object lies outside your region.".into(),
            ));
        }
        if let Some(code) = &new.code
            && self
                .store()
                .object(code, &ObjectScope::everything())
                .await?
                .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "Object code {code} is taken."
            )));
        }
        let stored = self.store().create_object(&new).await.map_err(conflict)?;
        tracing::info!(object = %stored.object.code, user = user.id, "management object created");
        Ok(stored)
    }

    /// Replaces an object's fields (not its code) if it is still at `expected_version`
    /// (`Conflict` otherwise). Administrators; supervisors within their region (before and
    /// after the change).
    pub async fn update(
        &self,
        user: &User,
        code: &ObjectCode,
        input: ObjectInput,
        expected_version: i64,
    ) -> Result<StoredObject> {
        let current = self.get(user, code).await?;
        if !may_manage(user, Some(&current.object.regions)) {
            return Err(ServiceError::Forbidden(
                "Only administrators and supervisors change objects.".into(),
            ));
        }
        let mut lookups = Lookups::default();
        let new = self.new_object(user, input, &mut lookups).await?;
        if !may_manage(user, Some(&new.regions)) {
            return Err(ServiceError::Forbidden(
                "The object would lie outside your region.".into(),
            ));
        }
        let object = new.with_code(code.clone());
        let stored = self
            .store()
            .update_object(&object, expected_version, Some(user.id), self.now())
            .await
            .map_err(conflict)?;
        tracing::info!(object = %code, user = user.id, version = stored.version, "management object changed");
        Ok(stored)
    }

    /// Imports objects all or nothing (administrators; supervisors, every object within their
    /// region). Every problem names its line or feature; nothing is written when one fails.
    pub async fn import(
        &self,
        user: &User,
        inputs: Vec<(String, ObjectInput)>,
    ) -> Result<Vec<StoredObject>> {
        if !may_manage(user, None) {
            return Err(ServiceError::Forbidden(
                "Only administrators and supervisors import objects.".into(),
            ));
        }
        if inputs.is_empty() {
            return Err(ServiceError::invalid("The import holds no object."));
        }
        let mut lookups = Lookups::default();
        let mut news = Vec::with_capacity(inputs.len());
        let mut kept: HashMap<ObjectCode, String> = HashMap::new();
        for (origin, input) in inputs {
            let at = |e: ServiceError| match e {
                ServiceError::Invalid(m) => ServiceError::Invalid(format!("{origin}: {m}")),
                ServiceError::TooLong(t) => ServiceError::Invalid(format!("{origin}: {t}")),
                ServiceError::OutsideCity => {
                    ServiceError::Invalid(format!("{origin}: the point lies outside the city"))
                }
                ServiceError::Forbidden(m) => ServiceError::Forbidden(format!("{origin}: {m}")),
                ServiceError::Conflict(m) => ServiceError::Invalid(format!("{origin}: {m}")),
                other => other,
            };
            let new = self
                .new_object(user, input, &mut lookups)
                .await
                .map_err(at)?;
            if !may_manage(user, Some(&new.regions)) {
                return Err(at(ServiceError::Forbidden(
                    "the object lies outside your region".into(),
                )));
            }
            if let Some(code) = &new.code {
                if let Some(first) = kept.insert(code.clone(), origin.clone()) {
                    return Err(at(ServiceError::invalid(format!(
                        "code {code} is already given on {first}"
                    ))));
                }
                if self
                    .store()
                    .object(code, &ObjectScope::everything())
                    .await?
                    .is_some()
                {
                    return Err(at(ServiceError::invalid(format!("code {code} is taken"))));
                }
            }
            news.push(new);
        }
        let stored = self.store().import_objects(&news).await.map_err(conflict)?;
        tracing::info!(
            objects = stored.len(),
            user = user.id,
            "management objects imported"
        );
        Ok(stored)
    }

    /// Parses an import file and imports it ([`ObjectService::import`]); `crs` is the file's
    /// coordinate system (`wgs84` default, or `gcj02`).
    pub async fn import_file(
        &self,
        user: &User,
        text: &str,
        format: ImportFormat,
        crs: Option<&str>,
    ) -> Result<Vec<StoredObject>> {
        let drafts = match format {
            ImportFormat::Csv => cityops_domain::objects::parse_objects_csv(text),
            ImportFormat::GeoJson => cityops_domain::objects::parse_objects_geojson(text),
        }
        .map_err(object_error)?;
        let inputs = drafts
            .into_iter()
            .map(|d| (d.origin.clone(), ObjectInput::from_draft(d, crs)))
            .collect();
        self.import(user, inputs).await
    }

    /// The store's new object for `input`: located, its party and department resolved, its zone
    /// drawn or derived, validated.
    async fn new_object(
        &self,
        user: &User,
        input: ObjectInput,
        lookups: &mut Lookups,
    ) -> Result<NewObject> {
        let point = wgs84(input.lng, input.lat, input.crs.as_deref())?;
        let located = self
            .cases
            .index()
            .locate(point.lng, point.lat)
            .map(|l| l.into_owned())
            .ok_or(ServiceError::OutsideCity)?;
        let code_of = |c: Option<String>| {
            c.map(|c| {
                RegionCode::parse(&c).map_err(|_| {
                    ServiceError::Store(StoreError::Database(format!("bad region {c}")))
                })
            })
            .transpose()
        };
        let regions = ObjectRegions {
            district: code_of(Some(located.district_code.clone()))?,
            street: code_of(located.street_code)?,
            community: code_of(located.community_code)?,
            grid: code_of(located.grid_code)?,
        };
        let zone = match input.zone {
            Some(ring) => {
                let ring = ring
                    .into_iter()
                    .map(|p| wgs84(p.lng, p.lat, input.crs.as_deref()))
                    .collect::<Result<Vec<_>>>()?;
                Some(ResponsibilityZone::new(ring).map_err(object_error)?)
            }
            None => self.default_zone(point, &regions, lookups).await?,
        };
        let user_id = match input
            .responsible_username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(username) => Some(lookups.party(self.store().as_ref(), username).await?),
            None => None,
        };
        let owner_department_id = match input
            .owner_department
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(code) => Some(
                lookups
                    .department(self.store().as_ref(), code)
                    .await?
                    .ok_or_else(|| ServiceError::invalid(format!("unknown department {code}")))?,
            ),
            None => {
                let mut found = None;
                for t in &self.settings.owner_departments {
                    if let Some(code) = fill(t, &regions)
                        && let Some(id) = lookups.department(self.store().as_ref(), &code).await?
                    {
                        found = Some(id);
                        break;
                    }
                }
                found
            }
        };
        let new = NewObject {
            code: input.code,
            division: located.district_code,
            kind: input.kind,
            name: input.name.trim().to_string(),
            address: input.address.trim().to_string(),
            point,
            zone,
            regions,
            responsible: ResponsibleParty {
                user_id,
                name: input.responsible_name.trim().to_string(),
                phone: input.responsible_phone.trim().to_string(),
            },
            owner_department_id,
            by_user: Some(user.id),
            at: self.now(),
        };
        let check = new.with_code(match &new.code {
            Some(c) => c.clone(),
            None => ObjectCode::new(&new.division, new.kind, 1).map_err(object_error)?,
        });
        check.validate().map_err(object_error)?;
        Ok(new)
    }

    /// 门前三包 default: the frontage to the nearest street line within the configured depth,
    /// else to the nearest edge of the object's unit grid, else none.
    async fn default_zone(
        &self,
        point: LngLat,
        regions: &ObjectRegions,
        lookups: &mut Lookups,
    ) -> Result<Option<ResponsibilityZone>> {
        let cfg = &self.settings.frontage;
        let streets = self.settings.streets.iter().map(|s| s.points.as_slice());
        if let Some((i, d)) = nearest_street(point, streets)
            && d <= cfg.max_depth_m
            && let Ok(f) = frontage_zone(point, &self.settings.streets[i].points, cfg)
        {
            return Ok(Some(f.zone));
        }
        let Some(grid) = &regions.grid else {
            return Ok(None);
        };
        let rings = lookups
            .grid_rings(self.store().as_ref(), grid.as_str())
            .await?;
        let best = rings
            .iter()
            .filter_map(|r| frontage_zone(point, r, cfg).ok())
            .min_by(|a, b| a.depth_m.total_cmp(&b.depth_m));
        Ok(best.map(|f| f.zone))
    }

    /// 公开信息卡 of an object, for anyone (no login): kind, name, address, position, zone, the
    /// latest result and the open problems' stages and deadlines — nothing personal.
    pub async fn public_card(&self, code: &ObjectCode) -> Result<PublicObjectCard> {
        let store = self.store();
        let all = ObjectScope::everything();
        let object = store
            .object(code, &all)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No object {code}.")))?;
        let latest = store
            .list_checks(
                code,
                None,
                &all,
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await?
            .items
            .into_iter()
            .next()
            .map(|c| PublicCheck {
                kind: c.check.kind,
                at: c.check.at,
                items: c.check.results.len(),
                failing: c.check.failing().count(),
            });
        Ok(PublicObjectCard {
            card: object.object.public_card(),
            latest,
            open_rectifications: store
                .open_rectifications(code)
                .await?
                .into_iter()
                .map(|r| r.record)
                .collect(),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Checks (码上办)

    /// 自查: the object's responsible party checks it.
    pub async fn self_check(
        &self,
        user: &User,
        code: &ObjectCode,
        input: CheckInput,
    ) -> Result<CheckOutcome> {
        self.record(user, code, CheckKind::SelfCheck, input).await
    }

    /// 巡查: an inspector or enforcement officer checks it; compared with the latest self-check.
    pub async fn inspect(
        &self,
        user: &User,
        code: &ObjectCode,
        input: CheckInput,
    ) -> Result<CheckOutcome> {
        self.record(user, code, CheckKind::Inspection, input).await
    }

    async fn record(
        &self,
        user: &User,
        code: &ObjectCode,
        kind: CheckKind,
        input: CheckInput,
    ) -> Result<CheckOutcome> {
        let object = self.get(user, code).await?.object;
        if !may_check(kind, user, &object) {
            return Err(ServiceError::Forbidden(match kind {
                CheckKind::SelfCheck => {
                    "Only the object's responsible party self-checks it.".into()
                }
                CheckKind::Inspection => {
                    "Only inspectors and enforcement officers of the object's region inspect it."
                        .into()
                }
            }));
        }
        let position = match (input.lng, input.lat) {
            (Some(lng), Some(lat)) => Some(wgs84(lng, lat, input.crs.as_deref())?),
            (None, None) => None,
            _ => return Err(ServiceError::invalid("lng and lat go together")),
        };
        let photos = self.resolve_photos(user, &input.results).await?;
        let check = Check {
            kind,
            object_code: object.code.clone(),
            by_user: user.id,
            at: self.now(),
            position,
            results: input
                .results
                .into_iter()
                .map(|r| CheckResult {
                    photo_ids: r
                        .photos
                        .iter()
                        .filter_map(|p| photos.get(p).copied())
                        .collect(),
                    item_code: r.item_code,
                    passed: r.passed,
                    note: r
                        .note
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty()),
                })
                .collect(),
        };
        check
            .validate(&object, &self.checklists)
            .map_err(object_error)?;
        let position = check.position_check(&object, &self.settings.position);
        self.cases.refresh().await;
        let calendar = self.cases.calendar();
        let mut attempt = 0;
        let recorded = loop {
            attempt += 1;
            let (comparison, compared_with) = match kind {
                CheckKind::SelfCheck => (None, None),
                CheckKind::Inspection => {
                    let latest = self.store().latest_self_check(code, check.at).await?;
                    (
                        Some(
                            compare(&check, latest.as_ref().map(|c| &c.check))
                                .map_err(object_error)?,
                        ),
                        latest.map(|c| c.id),
                    )
                }
            };
            let open = self.store().open_rectifications(code).await?;
            let already: Vec<&str> = open.iter().map(|r| r.record.item_code.as_str()).collect();
            let opened = open_for_failures(
                &check,
                &object,
                &self.checklists,
                &already,
                &calendar,
                &self.settings.ladder,
            )
            .map_err(object_error)?;
            let close = open
                .iter()
                .filter_map(|r| {
                    r.record
                        .close_by(&check)
                        .ok()
                        .map(|record| RectificationUpdate {
                            id: r.id,
                            expected_version: r.version,
                            record,
                        })
                })
                .collect();
            let new = NewCheckRecord {
                check: check.clone(),
                position_check: position,
                comparison,
                compared_with,
                open: opened,
                close,
            };
            match self.store().record_check(&new).await {
                Ok(r) => break r,
                Err(StoreError::Conflict(m)) if attempt < CHECK_ATTEMPTS => {
                    tracing::debug!(object = %code, error = %m, "a check raced another; again");
                }
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict(m)),
                Err(e) => return Err(e.into()),
            }
        };
        tracing::info!(object = %code, user = user.id, kind = %kind, failing = recorded.check.check.failing().count(),
            far = position.is_some_and(|p| p.far), opened = recorded.opened.len(), closed = recorded.closed.len(),
            "object checked");
        for r in &recorded.closed {
            self.publish_about(
                &object,
                r,
                "rectified",
                format!(
                    "【已整改】{name}（{code}）检查项{item}经复查合格，整改销号。",
                    name = object.name,
                    code = object.code.grouped(),
                    item = r.record.item_code,
                ),
            );
        }
        let credibility = match kind {
            CheckKind::Inspection => self.credibility(code).await?,
            CheckKind::SelfCheck => None,
        };
        Ok(CheckOutcome {
            position,
            comparison: recorded.check.comparison.clone(),
            opened: recorded.opened,
            closed: recorded.closed,
            check: recorded.check,
            credibility,
        })
    }

    /// The row ids of the photos a check names: every one uploaded by `user` and held by no case
    /// (missing and someone else's are one answer); at most 9 per item (the domain checks it).
    async fn resolve_photos(
        &self,
        user: &User,
        results: &[CheckItemInput],
    ) -> Result<HashMap<String, i64>> {
        let mut wanted: Vec<String> = results.iter().flat_map(|r| r.photos.clone()).collect();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let n = wanted.len();
        wanted.sort();
        wanted.dedup();
        if wanted.len() != n {
            return Err(ServiceError::invalid("a photo is listed twice"));
        }
        let found = self.store().attachments_by_public_id(&wanted).await?;
        let mut out = HashMap::with_capacity(wanted.len());
        for public in wanted {
            match found
                .iter()
                .find(|a| a.public_id == public && a.attachment.uploaded_by == user.id)
            {
                None => return Err(ServiceError::invalid(unknown_photo(&public))),
                Some(a) if a.case_id.is_some() => {
                    return Err(ServiceError::invalid(format!(
                        "attachment {public} already belongs to a case"
                    )));
                }
                Some(a) => {
                    out.insert(public, a.id);
                }
            }
        }
        Ok(out)
    }

    /// A page of an object's checks (`NotFound` when `user` may not see the object: a responsible
    /// party sees only their own objects' checks).
    pub async fn checks(
        &self,
        user: &User,
        code: &ObjectCode,
        kind: Option<CheckKind>,
        page: PageRequest,
    ) -> Result<Page<StoredCheck>> {
        let scope = object_scope(user)?;
        self.store()
            .list_checks(code, kind, &scope, page)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ServiceError::NotFound(format!("No object {code}.")),
                other => other.into(),
            })
    }

    /// 自查可信度 of an object over its last inspections (`None` without data).
    pub async fn credibility(&self, code: &ObjectCode) -> Result<Option<f64>> {
        let window = self.settings.credibility_window.max(1);
        let page = self
            .store()
            .list_checks(
                code,
                Some(CheckKind::Inspection),
                &ObjectScope::everything(),
                PageRequest {
                    page: 1,
                    page_size: u32::try_from(window).unwrap_or(1000).min(1000),
                },
            )
            .await?;
        let comparisons: Vec<Comparison> = page
            .items
            .into_iter()
            .filter_map(|c| c.comparison)
            .collect();
        Ok(credibility(code, &comparisons, window))
    }

    /// Row id → public id of photos (what views show).
    pub async fn photo_public_ids(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .store()
            .get_attachments(ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a.public_id))
            .collect())
    }

    /// Whether `user` may see the photo `attachment_id` through the check holding it (the
    /// object is within their scope).
    pub async fn may_see_check_photo(&self, user: &User, attachment_id: i64) -> Result<bool> {
        let Ok(scope) = object_scope(user) else {
            return Ok(false);
        };
        let Some(code) = self.store().check_photo_object(attachment_id).await? else {
            return Ok(false);
        };
        Ok(self.store().object(&code, &scope).await?.is_some())
    }

    // -----------------------------------------------------------------------------------------
    // Rectifications, discrepancies, statistics

    /// A page of the rectification records of the objects `user` may see.
    pub async fn rectifications(
        &self,
        user: &User,
        filter: RectificationFilter,
        page: PageRequest,
    ) -> Result<Page<StoredRectification>> {
        let scope = object_scope(user)?;
        Ok(self
            .store()
            .list_rectifications(&filter, &scope, page)
            .await?)
    }

    /// 双保险 discrepancies within `user`'s region, newest first (supervisors, leaders,
    /// administrators).
    pub async fn discrepancies(
        &self,
        user: &User,
        filter: DiscrepancyFilter,
        page: PageRequest,
    ) -> Result<Page<StoredDiscrepancy>> {
        if !supervises(user) {
            return Err(ServiceError::Forbidden(
                "The discrepancy list is for supervisors and leaders.".into(),
            ));
        }
        let scope = object_scope(user)?;
        Ok(self
            .store()
            .list_discrepancies(&filter, &scope, page)
            .await?)
    }

    /// The discrepancies the filter finds within `user`'s scope, counted per street (most first;
    /// supervisors, leaders, administrators).
    pub async fn discrepancies_per_street(
        &self,
        user: &User,
        filter: DiscrepancyFilter,
    ) -> Result<Vec<(Option<String>, u64)>> {
        if !supervises(user) {
            return Err(ServiceError::Forbidden(
                "The discrepancy list is for supervisors and leaders.".into(),
            ));
        }
        let scope = object_scope(user)?;
        Ok(self
            .store()
            .discrepancies_per_street(&filter, &scope)
            .await?)
    }

    /// 小事不出责任区: the records opened in `[from, to)` within `user`'s region, counted per
    /// street by the stage they closed at (supervisors, leaders, administrators).
    pub async fn stage_stats(
        &self,
        user: &User,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<StageStats> {
        if !supervises(user) {
            return Err(ServiceError::Forbidden(
                "The statistics are for supervisors and leaders.".into(),
            ));
        }
        if to <= from {
            return Err(ServiceError::invalid("to must be after from"));
        }
        let scope = object_scope(user)?;
        let records = self.store().rectifications_opened(from, to, &scope).await?;
        Ok(stage_statistics(&records))
    }

    // -----------------------------------------------------------------------------------------
    // The ladder (三教而罚)

    /// One run of the ladder at the clock's now: sends the notices that are due, hands records
    /// whose warning ran out to enforcement and files their cases (one process each, whichever
    /// runs it). Safe to run in several processes at once.
    pub async fn upkeep(&self) -> Result<UpkeepReport> {
        self.cases.refresh().await;
        let now = self.now();
        let calendar = self.cases.calendar();
        let mut report = UpkeepReport::default();
        let due = self.store().due_rectifications(now, UPKEEP_BATCH).await?;
        for r in due {
            let (next, step) = match r.record.advance(now, &calendar, &self.settings.ladder) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(record = r.id, error = %e, "a rectification step failed");
                    continue;
                }
            };
            let saved = match self
                .store()
                .save_rectification(&RectificationUpdate {
                    id: r.id,
                    expected_version: r.version,
                    record: next,
                })
                .await
            {
                Ok(s) => s,
                // Another process took this step (or a re-inspection closed the record).
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            match step {
                NextStep::SendNotice { stage, deadline } => {
                    report.notices += 1;
                    self.send_notice(&saved, stage, deadline.due, &calendar)
                        .await;
                }
                NextStep::HandToEnforcement => {
                    report.handed_over += 1;
                    match self.open_enforcement_case(&saved).await {
                        Ok(Some(_)) => report.cases += 1,
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(record = saved.id, error = %e, "the enforcement case could not be filed; retried later");
                        }
                    }
                }
            }
        }
        let waiting = self
            .store()
            .rectifications_awaiting_case(now - CASE_CLAIM_STALE, 100)
            .await?;
        for r in waiting {
            match self.open_enforcement_case(&r).await {
                Ok(Some(_)) => report.cases += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(record = r.id, error = %e, "the enforcement case could not be filed; retried later");
                }
            }
        }
        Ok(report)
    }

    /// The object of a record (everything scope).
    async fn object_of(&self, r: &StoredRectification) -> Result<ManagedObject> {
        Ok(self
            .store()
            .object(&r.record.object, &ObjectScope::everything())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No object {}.", r.record.object)))?
            .object)
    }

    fn item(&self, code: &str) -> Option<&ChecklistItem> {
        self.checklists.item(code)
    }

    /// Pushes a message about an object's record: to the party's account, else the supervising
    /// department, else the supervisors of its street (or district).
    fn publish_about(
        &self,
        object: &ManagedObject,
        r: &StoredRectification,
        action: &str,
        title: String,
    ) {
        let recipient = match (object.responsible.user_id, object.owner_department_id) {
            (Some(user_id), _) => Recipient::User { user_id },
            (None, Some(department_id)) => Recipient::Department { department_id },
            (None, None) => Recipient::Role {
                role: Role::Supervisor,
                region_code: object
                    .regions
                    .street
                    .as_ref()
                    .or(object.regions.district.as_ref())
                    .map(|c| c.as_str().to_string()),
            },
        };
        self.cases.publish(vec![OutboundMessage {
            case_id: r.enforcement_case_id.unwrap_or(0),
            case_code: object.code.to_string(),
            action: format!("object_{action}"),
            title,
            recipient,
            created_at: self.now(),
        }]);
    }

    async fn send_notice(
        &self,
        r: &StoredRectification,
        stage: RectStage,
        due: DateTime<Utc>,
        calendar: &cityops_domain::calendar::WorkingCalendar,
    ) {
        let object = match self.object_of(r).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(record = r.id, error = %e, "notice without its object");
                return;
            }
        };
        let tz = calendar.config().tz;
        let text = self
            .item(&r.record.item_code)
            .map(|i| i.text.as_str())
            .unwrap_or("");
        let title = format!(
            "【{stage_name}】{name}（{code}）检查项{item}「{text}」不合格，请于{due}前整改。",
            stage_name = stage.name_zh(),
            name = object.name,
            code = object.code.grouped(),
            item = r.record.item_code,
            due = due.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        );
        tracing::info!(record = r.id, object = %object.code, stage = %stage, %due, "rectification notice sent");
        self.publish_about(&object, r, stage.as_str(), title);
    }

    /// The ladder's reporter account.
    async fn reporter(&self) -> Result<User> {
        self.cases
            .system_account(LADDER_REPORTER, LADDER_REPORTER_NAME, vec![Role::Inspector])
            .await
    }

    /// 移交执法: files the enforcement case of a handed-over record, if this caller's claim is
    /// taken (answers the case id), and links it both ways with the inspections' photos.
    pub async fn open_enforcement_case(&self, r: &StoredRectification) -> Result<Option<i64>> {
        if r.enforcement_case_id.is_some() || r.record.stage != RectStage::Enforcement {
            return Ok(None);
        }
        let now = self.now();
        if !self
            .store()
            .claim_enforcement(r.id, now, now - CASE_CLAIM_STALE)
            .await?
        {
            return Ok(None);
        }
        let object = self.object_of(r).await?;
        let (inspections, photos) = self.evidence(r).await?;
        // A claimer that died after reporting but before linking left its case: link that one.
        if let Some(case_id) = self.case_of_record(r.id).await? {
            self.store()
                .link_enforcement_case(r.id, case_id, &photos)
                .await?;
            return Ok(Some(case_id));
        }
        let department_id = self.enforcement_department(&object).await?;
        let category = self.case_category(&r.record.item_code).await?;
        let calendar = self.cases.calendar();
        let description = self.evidence_text(r, &object, &inspections, &photos, &calendar);
        let req = ReportRequest {
            lng: Some(object.point.lng),
            lat: Some(object.point.lat),
            description,
            category_kind: Some(CategoryKind::Matter),
            category_code: Some(category),
            urgency: Some(Urgency::Normal),
            address: Some(object.address.clone()).filter(|a| !a.trim().is_empty()),
            contact: Some(format!(
                "{} {}",
                object.responsible.name, object.responsible.phone
            )),
            department_id,
            ..ReportRequest::default()
        };
        let user = self.reporter().await?;
        let stored = self
            .cases
            .report_counted(&user, CaseSource::Inspector, req)
            .await?;
        let case_id = stored.case.id;
        if self
            .store()
            .link_enforcement_case(r.id, case_id, &photos)
            .await?
        {
            tracing::info!(record = r.id, object = %object.code, case = %stored.case.code, "handed to enforcement");
            let linked = StoredRectification {
                enforcement_case_id: Some(case_id),
                ..r.clone()
            };
            self.publish_about(
                &object,
                &linked,
                "enforcement",
                format!(
                    "【移交执法】{name}（{code}）检查项{item}经三次通知逾期未整改，已移交执法（案件 {case}）。",
                    name = object.name,
                    code = object.code.grouped(),
                    item = r.record.item_code,
                    case = stored.case.code,
                ),
            );
        } else {
            tracing::warn!(
                record = r.id,
                case = case_id,
                "another process linked an enforcement case first"
            );
        }
        Ok(Some(case_id))
    }

    /// The case a claimer filed for record `id` before dying, found by the marker its
    /// description holds.
    async fn case_of_record(&self, id: i64) -> Result<Option<i64>> {
        let mut q = CaseQuery::new(self.cases.clock().now());
        q.source = Some(CaseSource::Inspector);
        q.text = Some(record_marker(id));
        let page = self
            .store()
            .list_cases(
                &q,
                &CaseVisibility::everything(),
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await?;
        Ok(page.items.first().map(|c| c.id))
    }

    /// The inspections of the record's object that found its item failing since it was opened,
    /// oldest first, and their photos.
    async fn evidence(&self, r: &StoredRectification) -> Result<(Vec<StoredCheck>, Vec<i64>)> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let batch = self
                .store()
                .list_checks(
                    &r.record.object,
                    Some(CheckKind::Inspection),
                    &ObjectScope::everything(),
                    PageRequest {
                        page,
                        page_size: 200,
                    },
                )
                .await?;
            let n = batch.items.len();
            let mut older = false;
            for c in batch.items {
                if c.check.at < r.record.opened_at {
                    older = true;
                    continue;
                }
                if c.check
                    .result(&r.record.item_code)
                    .is_some_and(|x| !x.passed)
                {
                    out.push(c);
                }
            }
            if older || n < 200 || page >= 50 {
                break;
            }
            page += 1;
        }
        out.reverse();
        let photos = out
            .iter()
            .filter_map(|c| c.check.result(&r.record.item_code))
            .flat_map(|x| x.photo_ids.iter().copied())
            .collect();
        Ok((out, photos))
    }

    /// 证据链: the description of the enforcement case (within the description limit).
    fn evidence_text(
        &self,
        r: &StoredRectification,
        object: &ManagedObject,
        inspections: &[StoredCheck],
        photos: &[i64],
        calendar: &cityops_domain::calendar::WorkingCalendar,
    ) -> String {
        let tz = calendar.config().tz;
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let item = self.item(&r.record.item_code);
        let mut head = format!(
            "【三教而罚·移交执法】{name}（{kind}，对象编码 {code}，{address}）检查项 {item}「{text}」",
            name = object.name,
            kind = object.kind.name_zh(),
            code = object.code.grouped(),
            address = object.address,
            item = r.record.item_code,
            text = item.map(|i| i.text.as_str()).unwrap_or(""),
        );
        head.push_str("经教育提醒、责令整改、警告三次通知逾期仍未整改，移交执法。");
        if let Some(i) = item {
            head.push_str(&format!("依据：{}。", i.legal_basis));
        }
        let mut notices = String::from("通知：");
        for n in &r.record.notices {
            notices.push_str(&format!(
                "{}（{} 发出，期限 {}）；",
                n.stage.name_zh(),
                local(n.sent_at),
                local(n.due)
            ));
        }
        let mut checks = String::from("巡查记录：");
        for c in inspections.iter().rev().take(10).rev() {
            let n = c
                .check
                .result(&r.record.item_code)
                .map_or(0, |x| x.photo_ids.len());
            checks.push_str(&format!(
                "{} {} 巡查不合格（巡查记录 {}，照片 {n} 张{}）；",
                local(c.check.at),
                c.by_name,
                c.id,
                if c.position_check.is_some_and(|p| p.far) {
                    "，扫码位置异常"
                } else {
                    ""
                }
            ));
        }
        let tail = format!(
            "证据照片 {} 张已附于本案。{}",
            photos.len(),
            record_marker(r.id)
        );
        let limit = cityops_domain::limits::DESCRIPTION.max_chars;
        let mut text = head;
        for part in [notices, checks] {
            if text.chars().count() + part.chars().count() + tail.chars().count() <= limit {
                text.push_str(&part);
            }
        }
        if text.chars().count() + tail.chars().count() > limit {
            let keep = limit.saturating_sub(tail.chars().count() + 1);
            text = text.chars().take(keep).collect::<String>() + "…";
        }
        text.push_str(&tail);
        text
    }

    /// The enforcement department of an object: the first configured code that exists.
    async fn enforcement_department(&self, object: &ManagedObject) -> Result<Option<i64>> {
        for t in &self.settings.enforcement_departments {
            if let Some(code) = fill(t, &object.regions)
                && let Some(d) = self.store().get_department_by_code(&code).await?
            {
                return Ok(Some(d.id));
            }
        }
        tracing::warn!(object = %object.code, "no enforcement department found; the matrix routes the case");
        Ok(None)
    }

    /// The matter category of an item's enforcement case: configured for its checklist category
    /// and known to the catalogue, else the fallback.
    async fn case_category(&self, item_code: &str) -> Result<String> {
        let cat = self.cases.catalogue().await?;
        let wanted = item_code
            .get(..2)
            .and_then(|c| self.settings.case_categories.get(c));
        for code in wanted
            .into_iter()
            .chain([&self.settings.fallback_case_category])
        {
            if cat.category(CategoryKind::Matter, code).is_some() {
                return Ok(code.clone());
            }
        }
        Err(ServiceError::invalid(format!(
            "the catalogue has no matter category for item {item_code} (nor the fallback {})",
            self.settings.fallback_case_category
        )))
    }
}

/// A conflict of an object write: 409 with the store's message.
fn conflict(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(m) => ServiceError::Conflict(m),
        other => other.into(),
    }
}

/// Look-ups an import repeats for many objects, kept for its duration.
#[derive(Default)]
struct Lookups {
    parties: HashMap<String, i64>,
    departments: HashMap<String, Option<i64>>,
    grids: HashMap<String, Vec<Vec<LngLat>>>,
}

impl Lookups {
    /// The account of a responsible party by username (must hold the role).
    async fn party(&mut self, store: &dyn Store, username: &str) -> Result<i64> {
        if let Some(id) = self.parties.get(username) {
            return Ok(*id);
        }
        let user = store
            .credentials(username)
            .await?
            .map(|c| c.user)
            .ok_or_else(|| ServiceError::invalid(format!("unknown account {username}")))?;
        if !user.has_role(Role::ResponsibleParty) {
            return Err(ServiceError::invalid(format!(
                "account {username} is not a responsible party (责任人)"
            )));
        }
        self.parties.insert(username.to_string(), user.id);
        Ok(user.id)
    }

    async fn department(&mut self, store: &dyn Store, code: &str) -> Result<Option<i64>> {
        if let Some(d) = self.departments.get(code) {
            return Ok(*d);
        }
        let d = store.get_department_by_code(code).await?.map(|d| d.id);
        self.departments.insert(code.to_string(), d);
        Ok(d)
    }

    async fn grid_rings(&mut self, store: &dyn Store, grid: &str) -> Result<&Vec<Vec<LngLat>>> {
        if !self.grids.contains_key(grid) {
            let rings = store
                .get_region(grid)
                .await?
                .and_then(|r| r.geometry)
                .map(|g| outer_rings(&g))
                .unwrap_or_default();
            self.grids.insert(grid.to_string(), rings);
        }
        Ok(&self.grids[grid])
    }
}

/// Runs [`ObjectService::upkeep`] every [`ObjectSettings::upkeep_interval`] until `shutdown`.
/// `None` (nothing spawned) when the interval is zero.
pub fn spawn_upkeep(
    service: Arc<ObjectService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    let interval = service.settings.upkeep_interval;
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => match service.upkeep().await {
                    Ok(r) if r != UpkeepReport::default() => {
                        tracing::info!(notices = r.notices, handed_over = r.handed_over, cases = r.cases, "rectification ladder");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "rectification ladder failed"),
                },
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::Scope;

    fn user(roles: Vec<Role>, region: Option<&str>, dept: Option<i64>) -> User {
        User {
            id: 7,
            username: "u".into(),
            display_name: "u".into(),
            roles,
            scope: Scope {
                region_code: region.map(str::to_string),
                department_id: dept,
            },
            active: true,
            grids: vec![],
        }
    }

    #[test]
    fn scopes_by_role() {
        assert_eq!(
            object_scope(&user(vec![Role::Admin], Some("441302"), None)).ok(),
            Some(ObjectScope::everything())
        );
        let s = object_scope(&user(vec![Role::Supervisor], Some("441300"), Some(3))).expect("ok");
        assert_eq!(s.region_prefixes, vec!["4413"]);
        let s = object_scope(&user(vec![Role::Enforcement], Some("441302"), Some(3))).expect("ok");
        assert_eq!(
            (s.region_prefixes, s.department_id),
            (vec!["441302".into()], None)
        );
        let s = object_scope(&user(vec![Role::Handler], Some("441302"), Some(3))).expect("ok");
        assert_eq!(s.department_id, Some(3));
        let s = object_scope(&user(vec![Role::ResponsibleParty], None, None)).expect("ok");
        assert_eq!(s.responsible_user_id, Some(7));
        for r in [Role::Citizen, Role::Reviewer, Role::Gateway] {
            assert!(object_scope(&user(vec![r], None, None)).is_err(), "{r}");
        }
    }

    #[test]
    fn department_templates_and_rings() {
        let regions = ObjectRegions::from_grid(RegionCode::parse("441302001001001").expect("grid"))
            .expect("regions");
        assert_eq!(
            fill("{street}-street", &regions).as_deref(),
            Some("441302001-street")
        );
        assert_eq!(
            fill("{city}-enforcement", &regions).as_deref(),
            Some("441300-enforcement")
        );
        assert_eq!(fill("{street}-street", &ObjectRegions::default()), None);
        let rings = outer_rings(
            r#"{"type":"MultiPolygon","coordinates":[[[[1,2],[3,4],[5,6],[1,2]]],[[[7,8],[9,10],[11,12],[7,8]]]]}"#,
        );
        assert_eq!(rings.len(), 2);
        assert_eq!(rings[1][0], LngLat { lng: 7.0, lat: 8.0 });
        assert!(outer_rings("nope").is_empty());
    }

    #[test]
    fn points_convert_and_refuse() {
        assert!(wgs84(114.4, 23.1, Some("gcj02")).is_ok_and(|p| (p.lng - 114.4).abs() > 1e-4));
        assert_eq!(
            wgs84(114.4, 23.1, None).ok(),
            Some(LngLat {
                lng: 114.4,
                lat: 23.1
            })
        );
        assert!(wgs84(f64::NAN, 1.0, None).is_err());
        assert!(wgs84(114.4, 23.1, Some("bd09")).is_err());
    }
}
