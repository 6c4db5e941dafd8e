//! The OpenAPI schemas of the API's vocabularies and codes, generated from the code: every
//! enumeration lists the wire names of its domain type (`as_str` over the domain's list, so the
//! document cannot drift from what the server parses and answers), and every code carries the
//! pattern the server checks ([`is_region_code`], [`is_category_code`], …).
//!
//! Fields and parameters that travel as strings refer to these with
//! `#[schema(value_type = wire::Role)]` / `#[param(value_type = wire::Role)]`.
use std::borrow::Cow;

use cityops_domain::case::{CaseAction, CaseSource, CaseStatus, CloseKind, Stage, Urgency};
use cityops_domain::limits::{self, TextLimit};
use cityops_domain::{
    CategoryKind, ComponentStatus, DepartmentKind, LimitUnit, RegionLevel, Role,
    calendar::{DayKind, Light},
};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};

/// 6, 9, 12 or 15 digits: district (区县), street (街道), community (社区), unit grid (单元网格).
pub const REGION_CODE_PATTERN: &str = "^[0-9]{6}([0-9]{3}){0,3}$";
/// A 15-digit unit grid (单元网格) code.
pub const GRID_CODE_PATTERN: &str = "^[0-9]{15}$";
/// A 5-digit category (小类) code.
pub const CATEGORY_CODE_PATTERN: &str = "^[0-9]{5}$";
/// A 5-digit category or a 2-digit class (大类) code.
pub const CATEGORY_OR_CLASS_PATTERN: &str = "^[0-9]{2}([0-9]{3})?$";
/// A rule's category: 5-digit subclass, 2-digit class or `*` (every category of the kind).
pub const RULE_CATEGORY_PATTERN: &str = "^([0-9]{2}|[0-9]{5}|\\*)$";
/// A 17-digit component id (管理部件标识码).
pub const COMPONENT_ID_PATTERN: &str = "^[0-9]{17}$";
/// The public id of an evidence photo: a lower-case hyphenated UUID (random; never a counter).
pub const ATTACHMENT_ID_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// `lng1,lat1,lng2,lat2`: two opposite corners of a box (WGS84 degrees in plain decimal
/// notation, longitudes within ±180, latitudes within ±90), usually `minLng,minLat,maxLng,maxLat`.
pub const BBOX_PATTERN: &str = concat!(
    "^",
    "-?(180(\\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\\.[0-9]+)?),",
    "-?(90(\\.0+)?|[1-8]?[0-9](\\.[0-9]+)?),",
    "-?(180(\\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\\.[0-9]+)?),",
    "-?(90(\\.0+)?|[1-8]?[0-9](\\.[0-9]+)?)",
    "$"
);

/// Whether `s` matches `pattern` (one of this module's), as the document declares it.
fn matches(pattern: &'static str, s: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, regex::Regex>>> =
        LazyLock::new(Default::default);
    let mut map = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(pattern)
        .or_insert_with(|| regex::Regex::new(pattern).expect("the module's patterns compile"))
        .is_match(s)
}

/// [`REGION_CODE_PATTERN`].
pub fn is_region_code(s: &str) -> bool {
    matches(REGION_CODE_PATTERN, s)
}

/// [`GRID_CODE_PATTERN`].
pub fn is_grid_code(s: &str) -> bool {
    matches(GRID_CODE_PATTERN, s)
}

/// [`CATEGORY_CODE_PATTERN`].
pub fn is_category_code(s: &str) -> bool {
    matches(CATEGORY_CODE_PATTERN, s)
}

/// [`CATEGORY_OR_CLASS_PATTERN`].
pub fn is_category_or_class(s: &str) -> bool {
    matches(CATEGORY_OR_CLASS_PATTERN, s)
}

/// [`COMPONENT_ID_PATTERN`].
pub fn is_component_id(s: &str) -> bool {
    matches(COMPONENT_ID_PATTERN, s)
}

/// [`ATTACHMENT_ID_PATTERN`].
pub fn is_attachment_id(s: &str) -> bool {
    matches(ATTACHMENT_ID_PATTERN, s)
}

/// Parses [`BBOX_PATTERN`] into `[min_lng, min_lat, max_lng, max_lat]` (the corners in either
/// order); `None` when `s` does not match it.
pub fn parse_bbox(s: &str) -> Option<[f64; 4]> {
    if !matches(BBOX_PATTERN, s) {
        return None;
    }
    let v: Vec<f64> = s
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d] = <[f64; 4]>::try_from(v).ok()?;
    Some([a.min(c), b.min(d), a.max(c), b.max(d)])
}

fn string_schema(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description(Some(description.to_string()))
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $desc:literal, $values:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl $name {
            /// The wire names, in the domain's order.
            pub fn values() -> Vec<&'static str> {
                $values
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_schema($desc).enum_values(Some($name::values())).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

macro_rules! wire_pattern {
    ($(#[$doc:meta])* $name:ident, $desc:literal, $pattern:expr, $example:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_schema($desc)
                    .pattern(Some($pattern))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

fn names<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().copied().map(f).collect()
}

/// The levels an evaluation of regions is made at (the city is one subject: no ranking).
pub const EVALUATION_LEVELS: [RegionLevel; 4] = [
    RegionLevel::Grid,
    RegionLevel::Community,
    RegionLevel::Street,
    RegionLevel::District,
];

/// Every figure key of every evaluation kind, each once, in the kinds' order.
pub fn evaluation_figure_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    for kind in cityops_domain::evaluation::Kind::ALL {
        for f in kind.figures() {
            if !keys.contains(&f.key) {
                keys.push(f.key);
            }
        }
    }
    keys
}

/// A subject of an evaluation: a user or department id, or a region code (digits).
pub const EVALUATION_SUBJECT_PATTERN: &str = "^[0-9]{1,18}$";

/// [`EVALUATION_SUBJECT_PATTERN`].
pub fn is_evaluation_subject(s: &str) -> bool {
    matches(EVALUATION_SUBJECT_PATTERN, s)
}

/// A local date `YYYY-MM-DD` (years 0001–9999), strictly: what `format: date` accepts.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape || &s[..4] == "0000" {
        return None;
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

wire_enum!(
    /// `component` (部件) or `matter` (事项).
    CategoryKindName,
    "`component` (部件) or `matter` (事项).",
    names(&[CategoryKind::Component, CategoryKind::Matter], CategoryKind::as_str)
);
wire_enum!(
    /// Region levels.
    RegionLevelName,
    "Region level: 市/区县/街道/社区/单元网格.",
    names(&RegionLevel::ALL, RegionLevel::as_str)
);
wire_enum!(
    /// Roles.
    RoleName,
    "A role (角色).",
    names(&Role::ALL, Role::as_str)
);
wire_enum!(
    /// Department kinds.
    DepartmentKindName,
    "A department kind (部门类别).",
    names(&DepartmentKind::ALL, DepartmentKind::as_str)
);
wire_enum!(
    /// Case statuses.
    CaseStatusName,
    "A case status (案件状态).",
    names(CaseStatus::ALL, CaseStatus::as_str)
);
wire_enum!(
    /// Case sources.
    CaseSourceName,
    "Where a report came from (案件来源).",
    names(CaseSource::ALL, CaseSource::as_str)
);
wire_enum!(
    /// Urgency.
    UrgencyName,
    "`normal` (一般) or `urgent` (紧急).",
    names(Urgency::ALL, Urgency::as_str)
);
wire_enum!(
    /// Timed stages.
    StageName,
    "A timed stage of the case loop.",
    names(Stage::ALL, Stage::as_str)
);
wire_enum!(
    /// Case actions.
    CaseActionName,
    "A case action (`POST /api/v1/cases/{id}/actions/{action}`).",
    names(CaseAction::ALL, CaseAction::as_str)
);
wire_enum!(
    /// How a case was closed.
    CloseKindName,
    "`normal` (正常结案) or `overdue` (超时结案).",
    names(CloseKind::ALL, CloseKind::as_str)
);
wire_enum!(
    /// Lights.
    LightName,
    "The light of a stage: `green`, `yellow` or `red`.",
    names(&Light::ALL, Light::as_str)
);
wire_enum!(
    /// Limit units.
    LimitUnitName,
    "A time-limit unit (时限单位).",
    names(&LimitUnit::ALL, LimitUnit::as_str)
);
wire_enum!(
    /// Component statuses.
    ComponentStatusName,
    "A component's status (部件状态).",
    names(&ComponentStatus::ALL, ComponentStatus::as_str)
);
wire_enum!(
    /// Holiday-schedule day kinds.
    DayKindName,
    "`holiday` (法定节假日) or `workday` (调休上班).",
    names(&[DayKind::Holiday, DayKind::Workday], DayKind::as_str)
);
wire_enum!(
    /// Pending request kinds.
    PendingKindName,
    "`postpone` (延期) or `suspend` (挂账).",
    vec!["postpone", "suspend"]
);
wire_enum!(
    /// Coordinate systems of a given point.
    CrsName,
    "Coordinate system of a point: `wgs84` (the default; `cgcs2000` is the same to a metre) or \
     `gcj02` (what phones' map apps give).",
    Crs::ALL.iter().map(|c| c.as_str()).collect()
);
wire_enum!(
    /// Sort orders of the case list.
    CaseSortName,
    "Order of the case list.",
    vec!["created_desc", "created_asc", "due_asc", "updated_desc"]
);
wire_enum!(
    /// How a contact was seen in full.
    ContactAccessViaName,
    "`case` (a case's detail), `list` (a page of the case list) or `action` (an action's answer).",
    names(
        &cityops_store::ContactAccessVia::ALL,
        cityops_store::ContactAccessVia::as_str
    )
);
wire_enum!(
    /// Kinds of evaluated subject.
    EvaluationKindName,
    "Who is evaluated (评价对象): `departments` (专业部门), `regions` (区域), `inspectors` (监督员), \
     `operators` (受理员), `supervisors` (值班长) or `dispatchers` (派遣员).",
    names(cityops_domain::evaluation::Kind::ALL, cityops_domain::evaluation::Kind::as_str)
);
wire_enum!(
    /// Kinds of report.
    ReportKindName,
    "A kind of report (报表): `daily` (晨报, the days since the previous working day), `weekly` \
     (周报, an ISO week) or `monthly` (月报, a calendar month).",
    names(
        &cityops_domain::report::ReportKind::ALL,
        cityops_domain::report::ReportKind::as_str
    )
);
wire_enum!(
    /// The levels of region rows.
    EvaluationLevelName,
    "The level of region rows: `grid` (单元网格), `community` (社区), `street` (街道) or `district` (区县).",
    names(&EVALUATION_LEVELS, RegionLevel::as_str)
);
wire_enum!(
    /// Every figure key of every kind.
    EvaluationFigureName,
    "A counted figure (计数指标) of an evaluation kind (each kind has its own; see the `figures` of \
     `GET /api/v1/evaluation/{kind}`).",
    evaluation_figure_keys()
);
wire_enum!(
    /// Grades.
    GradeName,
    "评价等级: `A` (≥ 90), `B` (≥ 75), `C` (≥ 60), `D` (≥ 40) or `E` (below), by default.",
    names(
        &[
            cityops_domain::evaluation::Grade::A,
            cityops_domain::evaluation::Grade::B,
            cityops_domain::evaluation::Grade::C,
            cityops_domain::evaluation::Grade::D,
            cityops_domain::evaluation::Grade::E,
        ],
        cityops_domain::evaluation::Grade::as_str
    )
);
wire_enum!(
    /// How a component is measured.
    MeasureName,
    "`rate` (a rate of two figures, in percent), `count` (a figure scored by bands), `satisfaction` \
     (citizens' ratings) or `review` (the third-party review).",
    vec!["rate", "count", "satisfaction", "review"]
);
wire_enum!(
    /// Error codes.
    ErrorCodeName,
    "A stable error code (see the error table in the description).",
    crate::error::ERROR_TABLE.iter().map(|s| s.name).collect()
);

wire_pattern!(
    /// A region code.
    RegionCode,
    "Region code: 6 (区县), 9 (街道), 12 (社区) or 15 (单元网格) digits.",
    REGION_CODE_PATTERN,
    "441302001"
);
wire_pattern!(
    /// A unit grid code.
    GridCode,
    "Unit grid (单元网格) code: 15 digits.",
    GRID_CODE_PATTERN,
    "441302001001001"
);
wire_pattern!(
    /// A box.
    BoundingBox,
    "`lng1,lat1,lng2,lat2`: two opposite corners (WGS84 degrees, plain decimals), usually \
     `minLng,minLat,maxLng,maxLat`.",
    BBOX_PATTERN,
    "114.40,23.08,114.42,23.10"
);
wire_pattern!(
    /// A category code.
    CategoryCode,
    "5-digit category code (class + subclass).",
    CATEGORY_CODE_PATTERN,
    "01001"
);
wire_pattern!(
    /// A category or class code.
    CategoryOrClassCode,
    "5-digit category code or 2-digit class code.",
    CATEGORY_OR_CLASS_PATTERN,
    "01001"
);
wire_pattern!(
    /// A routing rule's category.
    RuleCategoryCode,
    "5-digit category, 2-digit class, or `*` for every category of the kind.",
    RULE_CATEGORY_PATTERN,
    "01"
);
wire_pattern!(
    /// A component id.
    ComponentIdCode,
    "17-digit component id (管理部件标识码).",
    COMPONENT_ID_PATTERN,
    "44130201001000042"
);
wire_pattern!(
    /// A management object's code.
    ObjectCodePattern,
    "赋码 (management object code): 16 digits — the issuing division (6), the kind (2), a sequence (7) \
     and a Damm check digit.",
    "^[0-9]{16}$",
    "4413020100001236"
);
wire_pattern!(
    /// An evidence photo's public id.
    AttachmentId,
    "Public id of an evidence photo (证据照片): a random UUID, lower case.",
    ATTACHMENT_ID_PATTERN,
    "0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07"
);

/// A comma-separated list of case statuses, e.g. `dispatched,handling`.
pub struct CaseStatusList;

impl utoipa::PartialSchema for CaseStatusList {
    fn schema() -> RefOr<Schema> {
        let one = format!("({})", CaseStatusName::values().join("|"));
        string_schema("Case statuses, comma-separated (no spaces), e.g. `dispatched,handling`.")
            .pattern(Some(format!("^{one}(,{one})*$")))
            .examples(["dispatched,handling"])
            .into()
    }
}

impl utoipa::ToSchema for CaseStatusList {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CaseStatusList")
    }
}

/// A date (`YYYY-MM-DD`, a whole local day) or an RFC 3339 instant.
pub struct DateOrInstant;

impl utoipa::PartialSchema for DateOrInstant {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, SchemaFormat};
        let of = |f: KnownFormat| {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .format(Some(SchemaFormat::KnownFormat(f)))
        };
        AnyOfBuilder::new()
            .item(of(KnownFormat::Date))
            .item(of(KnownFormat::DateTime))
            .description(Some(
                "A date (`YYYY-MM-DD`, local to the calendar's zone) or an RFC 3339 instant.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for DateOrInstant {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DateOrInstant")
    }
}

/// A coordinate system the API accepts for a given point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    Wgs84,
    Cgcs2000,
    Gcj02,
}

impl Crs {
    pub const ALL: [Crs; 3] = [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02];
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
        }
    }
}

/// The longest text each free-text field of a request takes, from the domain's limits
/// ([`cityops_domain::limits`]): `(schema, property, limit)`. The document declares them as
/// `maxLength` (see `openapi::TextLimits`); the server enforces the same constants.
pub const TEXT_LIMITS: [(&str, &str, TextLimit); 28] = [
    ("NewCaseRequest", "description", limits::DESCRIPTION),
    ("NewCaseRequest", "address", limits::ADDRESS),
    ("NewCaseRequest", "contact", limits::CONTACT),
    ("ActionBody", "comment", limits::COMMENT),
    ("ActionBody", "reason", limits::REASON),
    ("CalendarDayView", "name", limits::HOLIDAY_NAME),
    ("RuleInput", "department_code", limits::DEPARTMENT_CODE),
    ("PublicReportRequest", "description", limits::DESCRIPTION),
    ("PublicReportRequest", "address", limits::ADDRESS),
    ("PublicReportRequest", "name", limits::PERSON_NAME),
    ("PublicReportRequest", "phone", limits::PHONE),
    ("PublicRatingBody", "comment", limits::COMMENT),
    ("ReviewBody", "comment", limits::COMMENT),
    (
        "Open311ClientRequest",
        "name",
        cityops_domain::open311::CLIENT_NAME,
    ),
    (
        "Open311ClientRequest",
        "contact",
        cityops_domain::open311::CLIENT_CONTACT,
    ),
    (
        "ObjectBody",
        "name",
        cityops_domain::objects::object::OBJECT_NAME,
    ),
    ("ObjectBody", "address", limits::ADDRESS),
    ("ObjectBody", "responsible_name", limits::PERSON_NAME),
    ("ObjectBody", "responsible_phone", limits::PHONE),
    ("ObjectBody", "responsible_username", limits::USERNAME),
    ("ObjectBody", "owner_department", limits::DEPARTMENT_CODE),
    ("CheckItemBody", "note", limits::COMMENT),
    (
        "ObjectUpdateBody",
        "name",
        cityops_domain::objects::object::OBJECT_NAME,
    ),
    ("ObjectUpdateBody", "address", limits::ADDRESS),
    ("ObjectUpdateBody", "responsible_name", limits::PERSON_NAME),
    ("ObjectUpdateBody", "responsible_phone", limits::PHONE),
    ("ObjectUpdateBody", "responsible_username", limits::USERNAME),
    (
        "ObjectUpdateBody",
        "owner_department",
        limits::DEPARTMENT_CODE,
    ),
];

/// Query parameters with a text limit: `(path, parameter, limit)`.
pub const PARAM_LIMITS: [(&str, &str, TextLimit); 4] = [
    ("/api/v1/cases", "q", limits::SEARCH_QUERY),
    ("/api/v1/cases/stats", "q", limits::SEARCH_QUERY),
    ("/api/v1/cases/export.csv", "q", limits::SEARCH_QUERY),
    ("/api/v1/cases/export.xlsx", "q", limits::SEARCH_QUERY),
];

wire_enum!(
    /// Monitoring metrics.
    MetricName,
    "A measured quantity (监测指标): `ch4_lel` (%LEL), `pressure` (MPa), `flow` (m³/h), `level` (m), \
     `depth` (cm), `strain` (με), `deflection` (mm), `tilt` (°), `laeq` and `lamax` (dB(A)), \
     `rainfall` (mm/h).",
    names(
        cityops_domain::monitoring::Metric::ALL,
        cityops_domain::monitoring::Metric::as_str
    )
);
wire_enum!(
    /// Device types.
    DeviceTypeName,
    "A monitoring device type (监测设备类型).",
    names(
        cityops_domain::monitoring::DeviceType::ALL,
        cityops_domain::monitoring::DeviceType::as_str
    )
);
wire_enum!(
    /// Types of points of interest.
    PoiTypeName,
    "A type of point of interest (公共服务设施): `toilet` (公厕), `park` (公园), `vendor_zone` (摊规点) \
     or `car_free_zone` (无车区).",
    names(cityops_domain::poi::PoiType::ALL, cityops_domain::poi::PoiType::as_str)
);
wire_enum!(
    /// The eight points of the compass.
    CompassName,
    "A walking direction on the 8-point compass (八方位).",
    names(&cityops_domain::poi::Compass8::ALL, cityops_domain::poi::Compass8::as_str)
);
wire_enum!(
    /// Device statuses.
    DeviceStatusName,
    "A device's status: `normal`, `alarm` (an active alarm), `offline` (its offline rule fired), \
     `inactive` (out of service).",
    names(&cityops_app::monitoring::DeviceStatus::ALL, cityops_app::monitoring::DeviceStatus::as_str)
);
wire_enum!(
    /// Alarm statuses.
    AlarmStatusName,
    "An alarm's status: `raised` (报警中), `acknowledged` (已确认), `cleared` (已解除).",
    names(
        cityops_domain::monitoring::AlarmStatus::ALL,
        cityops_domain::monitoring::AlarmStatus::as_str
    )
);
wire_enum!(
    /// Why a reading was refused.
    RejectReasonName,
    "Why a reading was not taken.",
    names(
        cityops_domain::monitoring::RejectReason::ALL,
        cityops_domain::monitoring::RejectReason::as_str
    )
);

wire_enum!(
    /// Kinds of management object.
    ObjectKindName,
    "A kind of management object (管理对象类型): `street_shop` (沿街商铺), `restaurant` (沿街餐饮), \
     `residential_compound` (住宅小区), `commercial_complex` (商业综合体), `school` (学校), \
     `construction_site` (建筑工地), `market` (农贸市场) …",
    names(
        cityops_domain::objects::ObjectKind::ALL,
        cityops_domain::objects::ObjectKind::as_str
    )
);
wire_enum!(
    /// Kinds of check.
    CheckKindName,
    "`self_check` (自查, by the responsible party) or `inspection` (巡查, by an inspector or enforcement officer).",
    names(
        cityops_domain::objects::CheckKind::ALL,
        cityops_domain::objects::CheckKind::as_str
    )
);
wire_enum!(
    /// Stages of a rectification record.
    RectStageName,
    "A stage of 三教而罚: `open` (待整改), `notice1` (教育提醒), `notice2` (责令整改), `notice3` (警告), \
     `enforcement` (移交执法), `rectified` (已整改).",
    names(
        cityops_domain::objects::RectStage::ALL,
        cityops_domain::objects::RectStage::as_str
    )
);
wire_enum!(
    /// Open or closed records.
    RectStatusName,
    "`open` (not rectified, also when handed over) or `closed` (rectified).",
    names(&cityops_store::RectStatus::ALL, cityops_store::RectStatus::as_str)
);
wire_enum!(
    /// Kinds of discrepancy.
    DiscrepancyKindName,
    "How the self-check saw an item the inspection found failing: `self_reported_fine` (自查合格、巡查不合格), \
     `failing_in_both` or `not_self_checked`.",
    vec!["self_reported_fine", "failing_in_both", "not_self_checked"]
);
wire_enum!(
    /// Evidence a failing item needs.
    EvidenceName,
    "`photo` (a failing result needs a photo) or `none`.",
    vec!["photo", "none"]
);

/// Every schema of this module, for the document's components.
pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
    use utoipa::{PartialSchema, ToSchema};
    fn one<T: ToSchema>() -> (String, RefOr<Schema>) {
        (T::name().into_owned(), <T as PartialSchema>::schema())
    }
    vec![
        one::<CategoryKindName>(),
        one::<RegionLevelName>(),
        one::<RoleName>(),
        one::<DepartmentKindName>(),
        one::<CaseStatusName>(),
        one::<CaseSourceName>(),
        one::<UrgencyName>(),
        one::<StageName>(),
        one::<CaseActionName>(),
        one::<CloseKindName>(),
        one::<LightName>(),
        one::<LimitUnitName>(),
        one::<ComponentStatusName>(),
        one::<DayKindName>(),
        one::<PendingKindName>(),
        one::<CrsName>(),
        one::<CaseSortName>(),
        one::<ContactAccessViaName>(),
        one::<EvaluationKindName>(),
        one::<EvaluationLevelName>(),
        one::<ReportKindName>(),
        one::<MetricName>(),
        one::<DeviceTypeName>(),
        one::<PoiTypeName>(),
        one::<CompassName>(),
        one::<DeviceStatusName>(),
        one::<AlarmStatusName>(),
        one::<RejectReasonName>(),
        one::<EvaluationFigureName>(),
        one::<GradeName>(),
        one::<MeasureName>(),
        one::<ErrorCodeName>(),
        one::<CaseStatusList>(),
        one::<DateOrInstant>(),
        one::<RegionCode>(),
        one::<GridCode>(),
        one::<BoundingBox>(),
        one::<CategoryCode>(),
        one::<CategoryOrClassCode>(),
        one::<RuleCategoryCode>(),
        one::<ComponentIdCode>(),
        one::<AttachmentId>(),
        one::<ObjectKindName>(),
        one::<CheckKindName>(),
        one::<RectStageName>(),
        one::<RectStatusName>(),
        one::<DiscrepancyKindName>(),
        one::<EvidenceName>(),
        one::<ObjectCodePattern>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_checks_agree_on_samples() {
        assert!(is_region_code("441302"));
        assert!(is_region_code("441302001001001"));
        assert!(!is_region_code("4413020"));
        assert!(!is_region_code(" 441302"));
        assert!(!is_region_code("441302\n"));
        assert!(is_grid_code("441302001001001") && !is_grid_code("441302001001"));
        assert_eq!(
            parse_bbox("114.42,23.1,114.4,23.08"),
            Some([114.4, 23.08, 114.42, 23.1])
        );
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,2,3,4",
            "NaN,0,1,1",
            "1e1,0,1,1",
            "181,0,1,1",
            "0,91,1,1",
            " 1,2,3,4",
            "01,2,3,4",
        ] {
            assert_eq!(parse_bbox(bad), None, "{bad}");
        }
        assert_eq!(
            parse_bbox("-180,-90,180.0,90.00"),
            Some([-180.0, -90.0, 180.0, 90.0])
        );
        assert!(is_category_or_class("01") && is_category_or_class("01001"));
        assert!(!is_category_or_class("010"));
        assert!(is_component_id("44130201001000042"));
        assert!(!is_component_id("4413020100100004"));
        assert_eq!(CrsName::values(), ["wgs84", "cgcs2000", "gcj02"]);
        assert!(CaseActionName::values().contains(&"approve_postpone"));
        assert!(is_attachment_id("0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07"));
        assert!(!is_attachment_id("0193A4C2-5F10-7C3E-9A41-3F2D8E6B1C07"));
        assert!(!is_attachment_id("12"));
        assert_eq!(
            parse_date("2026-11-01"),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        );
        for bad in [
            "2026-1-01",
            "2026-11-1",
            "0000-01-01",
            "2026-02-30",
            "2026/11/01",
            " 2026-11-01",
            "+2026-11-0",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert!(is_evaluation_subject("441302001") && is_evaluation_subject("7"));
        assert!(
            !is_evaluation_subject("")
                && !is_evaluation_subject("-1")
                && !is_evaluation_subject(&"1".repeat(19))
        );
        let keys = evaluation_figure_keys();
        assert!(keys.contains(&"filed") && keys.contains(&"dispatched_on_time"));
        assert_eq!(
            keys.len(),
            keys.iter().collect::<std::collections::BTreeSet<_>>().len()
        );
    }
}
