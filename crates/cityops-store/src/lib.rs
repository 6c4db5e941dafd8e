//! The storage contract of CityOps: narrow repository traits that the application needs, the
//! records they exchange, and [`StoreError`]. One crate per database implements them
//! (`cityops-store-sqlite`, `cityops-store-postgres`); `cityops-store-conformance` runs the same
//! stories against both.
//!
//! Invariants: no SQL and no driver types here; every method that lists user-visible data takes
//! the filters (and, from the case workflow on, the caller's [`Scope`]) so that the store applies
//! them in its query, never the caller after loading.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::{
    Category, CategoryKind, Component, ComponentId, Department, DepartmentKind, FilingStandard, Page, PageRequest,
    Region, RegionLevel, Role, Scope, User,
};

/// Errors a store can return.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict (e.g. a username that exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The data violates a rule the store checks (e.g. a reference to a missing department).
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The database is unreachable or failed.
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Filters of `GET /api/v1/regions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionQuery {
    pub level: Option<RegionLevel>,
    pub parent_code: Option<String>,
    /// Name contains (substring).
    pub name_contains: Option<String>,
}

/// Filters of `GET /api/v1/components`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentQuery {
    /// [min_lng, min_lat, max_lng, max_lat]
    pub bbox: Option<[f64; 4]>,
    /// 5-digit category code, or a 2-digit class code.
    pub category: Option<String>,
    pub grid_code: Option<String>,
    pub department_code: Option<String>,
}

/// A department as it is imported: identified by its code, parent by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDepartment {
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub region_code: String,
    pub parent_code: Option<String>,
}

/// A user as it is created: the password is already hashed (argon2id PHC string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub region_code: Option<String>,
    /// Department by code.
    pub department_code: Option<String>,
    pub grids: Vec<String>,
}

/// A user with the password hash, for login only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// Everything one import writes, in one transaction: all or nothing. Rows are upserted by their
/// natural key (region code, (kind, code), (kind, code, seq), department code, username,
/// component id). Departments are written before users and components, which refer to them by code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportBatch {
    pub regions: Vec<Region>,
    pub categories: Vec<Category>,
    /// Replaces all filing standards of the (kind, code) pairs it mentions.
    pub filing_standards: Vec<FilingStandard>,
    pub departments: Vec<NewDepartment>,
    pub users: Vec<NewUser>,
    pub components: Vec<Component>,
}

impl ImportBatch {
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
            && self.categories.is_empty()
            && self.filing_standards.is_empty()
            && self.departments.is_empty()
            && self.users.is_empty()
            && self.components.is_empty()
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub regions: u64,
    pub categories: u64,
    pub filing_standards: u64,
    pub departments: u64,
    pub users: u64,
    pub components: u64,
}

/// Counts by table, for `/metrics`, the demo banner and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    pub regions: u64,
    pub grids: u64,
    pub categories: u64,
    pub departments: u64,
    pub users: u64,
    pub components: u64,
}

/// Schema management and health.
#[async_trait]
pub trait Admin: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies the embedded migrations.
    async fn migrate(&self) -> Result<()>;
    /// A cheap round trip to the database.
    async fn ping(&self) -> Result<()>;
    async fn stats(&self) -> Result<StoreStats>;
    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
}

/// Bulk writes of reference data (regions, catalogue, organisation, components).
#[async_trait]
pub trait ImportRepo: Send + Sync {
    /// Writes the whole batch in one transaction; on any error nothing is written.
    async fn apply_import(&self, batch: &ImportBatch) -> Result<ImportSummary>;
}

/// The region tree (基础数据).
#[async_trait]
pub trait RegionRepo: Send + Sync {
    async fn get_region(&self, code: &str) -> Result<Option<Region>>;
    /// Lists regions ordered by code, without geometry (`geometry: None`).
    async fn list_regions(&self, query: &RegionQuery, page: PageRequest) -> Result<Page<Region>>;
    /// All regions of a level with geometry, ordered by code: what the spatial index is built from.
    async fn regions_with_geometry(&self, level: RegionLevel) -> Result<Vec<Region>>;
}

/// The category catalogue and the filing standards.
#[async_trait]
pub trait CatalogueRepo: Send + Sync {
    /// Ordered by (kind, code).
    async fn list_categories(&self, kind: Option<CategoryKind>, page: PageRequest) -> Result<Page<Category>>;
    async fn get_category(&self, kind: CategoryKind, code: &str) -> Result<Option<Category>>;
    /// The filing conditions of one category, ordered by seq.
    async fn filing_standards(&self, kind: CategoryKind, code: &str) -> Result<Vec<FilingStandard>>;
}

/// Departments and users.
#[async_trait]
pub trait OrgRepo: Send + Sync {
    /// Departments ordered by code; `region_code` keeps those whose scope lies within that region.
    async fn list_departments(&self, region_code: Option<&str>, page: PageRequest) -> Result<Page<Department>>;
    async fn get_department(&self, id: i64) -> Result<Option<Department>>;
    async fn get_department_by_code(&self, code: &str) -> Result<Option<Department>>;
    /// Creates a user; `Conflict` when the username exists.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn get_user(&self, id: i64) -> Result<Option<User>>;
    async fn credentials(&self, username: &str) -> Result<Option<UserCredentials>>;
    async fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<()>;
    /// Users ordered by username.
    async fn list_users(&self, role: Option<Role>, department_id: Option<i64>, page: PageRequest) -> Result<Page<User>>;
}

/// Login sessions and bearer tokens, stored by the SHA-256 of the secret.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn create_session(&self, token_hash: &str, user_id: i64, created_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()>;
    /// The active user of an unexpired session.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Removes expired sessions; returns how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Components (部件).
#[async_trait]
pub trait ComponentRepo: Send + Sync {
    /// Ordered by id.
    async fn list_components(&self, query: &ComponentQuery, page: PageRequest) -> Result<Page<Component>>;
    async fn get_component(&self, id: &str) -> Result<Option<Component>>;
}

/// Everything the application needs from a database.
pub trait Store: Admin + ImportRepo + RegionRepo + CatalogueRepo + OrgRepo + SessionRepo + ComponentRepo {}

impl<T> Store for T where T: Admin + ImportRepo + RegionRepo + CatalogueRepo + OrgRepo + SessionRepo + ComponentRepo {}
