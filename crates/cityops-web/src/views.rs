//! The JSON shapes of the API (documented with utoipa). Domain types stay free of HTTP concerns;
//! these views are built from them at the edge.
use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::{Category, Component, Department, FilingStandard, Page, Region, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A point (WGS84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LngLatView {
    pub lng: f64,
    pub lat: f64,
}

/// A region of the tree (市/区县/街道/社区/单元网格), without its geometry (a region with a polygon
/// has a `bbox`; fetch the polygon with `GET /api/v1/regions/{code}?geometry=true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegionView {
    /// 6, 9, 12 or 15 digits.
    #[schema(value_type = crate::wire::RegionCode)]
    pub code: String,
    /// `city`, `district`, `street`, `community` or `grid`.
    #[schema(value_type = crate::wire::RegionLevelName)]
    pub level: String,
    /// 级别中文名, e.g. 街道.
    pub level_name: String,
    pub name: String,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub parent_code: Option<String>,
    /// `[min_lng, min_lat, max_lng, max_lat]` (WGS84).
    pub bbox: Option<Vec<f64>>,
    /// A representative point inside the region.
    pub center: Option<LngLatView>,
    /// Geodesic area in m².
    pub area_m2: Option<f64>,
    /// True when the polygon was derived by CityOps, not an official boundary.
    pub synthetic: bool,
}

impl From<Region> for RegionView {
    fn from(r: Region) -> Self {
        Self {
            level: r.level.as_str().to_string(),
            level_name: r.level.name_zh().to_string(),
            code: r.code,
            name: r.name,
            parent_code: r.parent_code,
            bbox: r.bbox.map(|b| b.to_vec()),
            center: r.center.map(|c| LngLatView {
                lng: c.lng,
                lat: c.lat,
            }),
            area_m2: r.area_m2,
            synthetic: r.synthetic,
        }
    }
}

/// Properties of a region as a GeoJSON Feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegionFeatureProperties {
    #[schema(value_type = crate::wire::RegionCode)]
    pub code: String,
    pub name: String,
    #[schema(value_type = crate::wire::RegionLevelName)]
    pub level: String,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub parent_code: Option<String>,
    pub area_m2: Option<f64>,
    pub synthetic: bool,
}

/// A region as a GeoJSON Feature (RFC 7946, WGS84).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegionFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature", pattern = "^Feature$")]
    pub kind: String,
    pub id: String,
    /// A GeoJSON Polygon or MultiPolygon, or null when the region has no polygon.
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
    pub properties: RegionFeatureProperties,
}

/// A category (小类) of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryView {
    /// `component` (部件) or `matter` (事项).
    #[schema(value_type = crate::wire::CategoryKindName)]
    pub kind: String,
    /// 5 digits: class (大类) + subclass (小类).
    #[schema(value_type = crate::wire::CategoryCode)]
    pub code: String,
    #[schema(example = "01", pattern = "^[0-9]{2}$")]
    pub class_code: String,
    pub class_name: String,
    pub name: String,
    /// GB/T 30428.2-2013 code where known.
    pub old_code: Option<String>,
}

impl From<Category> for CategoryView {
    fn from(c: Category) -> Self {
        Self {
            kind: c.kind.as_str().to_string(),
            code: c.code,
            class_code: c.class_code,
            class_name: c.class_name,
            name: c.name,
            old_code: c.old_code,
        }
    }
}

/// A handling time limit (处置时限).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimeLimitView {
    pub value: u32,
    /// `urgent_hour`, `work_hour`, `work_day` or `natural_day`.
    #[schema(value_type = crate::wire::LimitUnitName)]
    pub unit: String,
    /// 单位中文名, e.g. 工作时.
    pub unit_name: String,
    /// As the source wrote it, e.g. `2紧急工作时`.
    pub text: String,
}

/// One filing condition (立案条件) with its time limit and closure condition (结案条件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FilingStandardView {
    pub seq: u32,
    pub filing_condition: String,
    pub limit: TimeLimitView,
    pub closure_condition: String,
    pub old_code: Option<String>,
    /// Where the standard came from, e.g. `yuncheng` or `default`.
    pub source: String,
}

impl From<FilingStandard> for FilingStandardView {
    fn from(f: FilingStandard) -> Self {
        Self {
            seq: f.seq,
            filing_condition: f.filing_condition,
            limit: TimeLimitView {
                value: f.limit.value,
                unit: f.limit.unit.as_str().to_string(),
                unit_name: f.limit.unit.name_zh().to_string(),
                text: f.limit_text,
            },
            closure_condition: f.closure_condition,
            old_code: f.old_code,
            source: f.source,
        }
    }
}

/// A category with its filing standard (立案、处置和结案标准).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryDetail {
    #[serde(flatten)]
    pub category: CategoryView,
    pub filing_standards: Vec<FilingStandardView>,
}

/// A department (处置单位/部门).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentView {
    pub id: i64,
    #[schema(example = "441302-municipal")]
    pub code: String,
    pub name: String,
    /// e.g. `municipal`, `sanitation`, `street_office`.
    #[schema(value_type = crate::wire::DepartmentKindName)]
    pub kind: String,
    /// 类别中文名, e.g. 市政.
    pub kind_name: String,
    /// The region the department is responsible for.
    #[schema(value_type = crate::wire::RegionCode)]
    pub region_code: String,
    pub parent_id: Option<i64>,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        Self {
            id: d.id,
            code: d.code,
            name: d.name,
            kind: d.kind.as_str().to_string(),
            kind_name: d.kind.name_zh().to_string(),
            region_code: d.region_code,
            parent_id: d.parent_id,
        }
    }
}

/// A user's data scope; both null = the whole deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub region_code: Option<String>,
    pub department_id: Option<i64>,
}

/// A user account (never with its password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// e.g. `admin`, `intake`, `inspector`.
    #[schema(value_type = Vec<crate::wire::RoleName>)]
    pub roles: Vec<String>,
    /// 角色中文名, in the order of `roles`.
    pub role_names: Vec<String>,
    pub scope: ScopeView,
    pub active: bool,
    /// Unit grids (or communities) an inspector patrols.
    #[schema(value_type = Vec<crate::wire::RegionCode>)]
    pub grids: Vec<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            role_names: u.roles.iter().map(|r| r.name_zh().to_string()).collect(),
            scope: ScopeView {
                region_code: u.scope.region_code,
                department_id: u.scope.department_id,
            },
            active: u.active,
            grids: u.grids,
        }
    }
}

/// A region referred to by code, with its name and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegionRef {
    #[schema(value_type = crate::wire::RegionCode)]
    pub code: String,
    pub name: String,
    #[schema(value_type = crate::wire::RegionLevelName)]
    pub level: String,
}

/// The logged-in user with the department and region of the scope resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub department: Option<DepartmentView>,
    pub region: Option<RegionRef>,
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "admin", max_length = 1024)]
    pub username: String,
    #[schema(example = "cityops-demo", max_length = 1024)]
    pub password: String,
    /// 记住我: keep the session cookie after the browser closes (until the session expires).
    /// Default false: the cookie ends with the browser.
    #[serde(default)]
    pub remember: bool,
}

/// 修改密码: the current password and the new one (checked by the password policy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// At least 10 characters, not containing the username, strong enough (zxcvbn score ≥ 3).
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; also set as the `cityops_session` cookie.
    pub token: String,
    /// For requests authenticated by the cookie instead: send it as the `X-CSRF-Token` header
    /// with every `POST`, `PUT`, `PATCH` and `DELETE` (bearer requests need none).
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: MeView,
}

/// One of the user's sessions (never its token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// The session's id, for `DELETE /api/v1/me/sessions/{id}`.
    #[schema(
        pattern = "^[0-9a-f]{32}$",
        example = "3f2a9c0d4e5b6a7f8091a2b3c4d5e6f7"
    )]
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client address at login.
    pub address: Option<String>,
    /// The browser or client at login (`User-Agent`).
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

impl From<cityops_store::SessionInfo> for SessionView {
    fn from(s: cityops_store::SessionInfo) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            address: s.address,
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

/// `DELETE /api/v1/me/sessions`: how many other sessions were revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevokedView {
    pub revoked: u64,
}

/// A component (部件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentView {
    /// 17-digit 管理部件标识码.
    #[schema(value_type = crate::wire::ComponentIdCode)]
    pub id: String,
    #[schema(value_type = crate::wire::CategoryCode)]
    pub category_code: String,
    pub name: String,
    pub lng: f64,
    pub lat: f64,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub grid_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    /// 权属单位 (department code).
    pub owner_department: Option<String>,
    /// 养护单位 (department code).
    pub maintainer_department: Option<String>,
    /// `intact`, `damaged`, `lost`, `abandoned` or `removed`.
    #[schema(value_type = crate::wire::ComponentStatusName)]
    pub status: String,
    pub surveyed_on: NaiveDate,
}

impl From<Component> for ComponentView {
    fn from(c: Component) -> Self {
        Self {
            id: c.id.as_str().to_string(),
            category_code: c.category_code,
            name: c.name,
            lng: c.lng,
            lat: c.lat,
            grid_code: c.grid_code,
            community_code: c.community_code,
            owner_department: c.owner_department,
            maintainer_department: c.maintainer_department,
            status: c.status.as_str().to_string(),
            surveyed_on: c.surveyed_on,
        }
    }
}

/// Where a point lies: grid, community, street and district (WGS84 coordinates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LocateView {
    /// The point in WGS84 (converted when the request used `crs=gcj02`).
    pub lng: f64,
    pub lat: f64,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    pub street_name: Option<String>,
    #[schema(value_type = crate::wire::RegionCode)]
    pub district_code: String,
    pub district_name: Option<String>,
}

/// `GET /healthz`. Everyone gets `status`; the rest only administrators and callers on this
/// machine (loopback), so that strangers learn neither the version nor the backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok` or `unavailable`.
    #[schema(pattern = "^(ok|unavailable)$")]
    pub status: String,
    /// `sqlite` or `postgres`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(sqlite|postgres)$")]
    pub backend: Option<String>,
    /// `ok` or `unreachable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(ok|unreachable)$")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grids_indexed: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

macro_rules! list_view {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Items matching the filters, over all pages.
            pub total: u64,
            pub page: u32,
            pub page_size: u32,
        }

        impl $name {
            pub fn from_page<T>(p: Page<T>, f: impl FnMut(T) -> $item) -> Self {
                let p = p.map(f);
                Self { items: p.items, total: p.total, page: p.page, page_size: p.page_size }
            }
        }
    };
}

list_view!(
    /// A page of regions.
    RegionList,
    RegionView
);
list_view!(
    /// A page of categories.
    CategoryList,
    CategoryView
);
list_view!(
    /// A page of departments.
    DepartmentList,
    DepartmentView
);
list_view!(
    /// A page of users.
    UserList,
    UserView
);
list_view!(
    /// A page of components.
    ComponentList,
    ComponentView
);
list_view!(
    /// A page of the user's sessions.
    SessionList,
    SessionView
);

pub(crate) use list_view;

pub mod cases;
pub use cases::*;
