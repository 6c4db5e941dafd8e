//! The storage contract of CityOps: narrow repository traits that the application needs, the
//! records they exchange, and [`StoreError`]. One crate per database implements them
//! (`cityops-store-sqlite`, `cityops-store-postgres`); `cityops-store-conformance` runs the same
//! stories against both.
//!
//! Invariants: no SQL and no driver types here; every method that lists user-visible data takes
//! the filters (and, from the case workflow on, the caller's [`Scope`]) so that the store applies
//! them in its query, never the caller after loading.

pub mod audit;
pub mod cases;
pub mod changes;
pub mod claims;
pub mod dashboard;
pub mod evaluation;
pub mod export;
pub mod follow;
pub mod monitoring;
pub mod objects;
pub mod open311;
pub mod poi;
pub mod report;
pub mod review;
pub mod versions;

pub use audit::*;
pub use cases::*;
pub use changes::*;
pub use claims::*;
pub use dashboard::*;
pub use evaluation::*;
pub use export::*;
pub use follow::*;
pub use monitoring::*;
pub use objects::*;
pub use open311::*;
pub use poi::*;
pub use report::*;
pub use review::*;
pub use versions::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::{
    Category, CategoryKind, Component, ComponentId, Department, DepartmentKind, FilingStandard,
    Page, PageRequest, Region, RegionLevel, Role, Scope, User,
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

impl ComponentQuery {
    /// The category filter must be a 5-digit subclass or a 2-digit class code.
    pub fn validate(&self) -> Result<()> {
        match &self.category {
            Some(c) if !(matches!(c.len(), 2 | 5) && c.bytes().all(|b| b.is_ascii_digit())) => {
                Err(StoreError::Invalid(format!(
                    "category filter {c:?}: expected a 5-digit category or 2-digit class code"
                )))
            }
            _ => Ok(()),
        }
    }
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

impl NewUser {
    /// The names fit their limits ([`cityops_domain::limits`]): `Invalid` naming the user.
    pub fn validate(&self) -> Result<()> {
        use cityops_domain::limits::{DEPARTMENT_CODE, DISPLAY_NAME, USERNAME};
        let too_long = |e: cityops_domain::limits::TooLong| {
            StoreError::Invalid(format!("user {:?}: {e}", clip(&self.username)))
        };
        USERNAME.check(&self.username).map_err(too_long)?;
        DISPLAY_NAME.check(&self.display_name).map_err(too_long)?;
        DEPARTMENT_CODE
            .check_opt(self.department_code.as_deref())
            .map_err(too_long)
    }
}

/// At most 64 characters of a name, for messages about names that are too long.
fn clip(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A user with the password hash, for login only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// A login session to store: the SHA-256 of its secret token (never the token), a public id that
/// names it in `GET /api/v1/me/sessions` (neither the token nor its hash), and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Public id: 32 lowercase hex digits, random.
    pub id: String,
    pub token_hash: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client address at login.
    pub address: Option<String>,
    /// The `User-Agent` at login (truncated by the caller).
    pub user_agent: Option<String>,
}

impl NewSession {
    /// A session without client details (tests, tools).
    pub fn new(
        id: impl Into<String>,
        token_hash: impl Into<String>,
        user_id: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            token_hash: token_hash.into(),
            user_id,
            created_at,
            expires_at,
            address: None,
            user_agent: None,
        }
    }
}

/// One of a user's live sessions as the user may see it: no token, no token hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session of the token the listing was asked with.
    pub current: bool,
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
    /// Rejects a batch that names the same natural key twice (the upsert would be ambiguous) or a
    /// department that is its own parent. Every store calls this before writing.
    pub fn validate(&self) -> Result<()> {
        fn first_dup<K: std::hash::Hash + Eq + Copy>(keys: impl Iterator<Item = K>) -> Option<K> {
            let mut seen = std::collections::HashSet::new();
            keys.into_iter().find(|k| !seen.insert(*k))
        }
        let dup = |what: &str, key: String| {
            StoreError::Invalid(format!("{what} {key} appears twice in the import batch"))
        };
        if let Some(k) = first_dup(self.regions.iter().map(|r| r.code.as_str())) {
            return Err(dup("region", k.to_string()));
        }
        if let Some((k, c)) = first_dup(self.categories.iter().map(|c| (c.kind, c.code.as_str()))) {
            return Err(dup("category", format!("{k}/{c}")));
        }
        if let Some((k, c, s)) = first_dup(
            self.filing_standards
                .iter()
                .map(|f| (f.kind, f.code.as_str(), f.seq)),
        ) {
            return Err(dup("filing standard", format!("{k}/{c}#{s}")));
        }
        if let Some(k) = first_dup(self.departments.iter().map(|d| d.code.as_str())) {
            return Err(dup("department", k.to_string()));
        }
        if let Some(k) = first_dup(self.users.iter().map(|u| u.username.as_str())) {
            return Err(dup("user", k.to_string()));
        }
        if let Some(k) = first_dup(self.components.iter().map(|c| c.id.as_str())) {
            return Err(dup("component", k.to_string()));
        }
        {
            use cityops_domain::limits::{
                COMPONENT_NAME, DEPARTMENT_CODE, DEPARTMENT_NAME, REGION_NAME,
            };
            let named = |what: &str, key: &str, e: cityops_domain::limits::TooLong| {
                StoreError::Invalid(format!("{what} {}: {e}", clip(key)))
            };
            for r in &self.regions {
                REGION_NAME
                    .check(&r.name)
                    .map_err(|e| named("region", &r.code, e))?;
            }
            for d in &self.departments {
                DEPARTMENT_CODE
                    .check(&d.code)
                    .map_err(|e| named("department", &d.code, e))?;
                DEPARTMENT_NAME
                    .check(&d.name)
                    .map_err(|e| named("department", &d.code, e))?;
            }
            for u in &self.users {
                u.validate()?;
            }
            for c in &self.components {
                COMPONENT_NAME
                    .check(&c.name)
                    .map_err(|e| named("component", c.id.as_str(), e))?;
            }
        }
        if let Some(d) = self
            .departments
            .iter()
            .find(|d| d.parent_code.as_deref() == Some(d.code.as_str()))
        {
            return Err(StoreError::Invalid(format!(
                "department {} is its own parent",
                d.code
            )));
        }
        Ok(())
    }

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
    pub cases: u64,
    pub case_events: u64,
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
    async fn list_categories(
        &self,
        kind: Option<CategoryKind>,
        page: PageRequest,
    ) -> Result<Page<Category>>;
    async fn get_category(&self, kind: CategoryKind, code: &str) -> Result<Option<Category>>;
    /// The filing conditions of one category, ordered by seq.
    async fn filing_standards(&self, kind: CategoryKind, code: &str)
    -> Result<Vec<FilingStandard>>;
}

/// Departments and users.
#[async_trait]
pub trait OrgRepo: Send + Sync {
    /// Departments ordered by code; `region_code` keeps those whose scope lies within that region.
    async fn list_departments(
        &self,
        region_code: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Department>>;
    async fn get_department(&self, id: i64) -> Result<Option<Department>>;
    async fn get_department_by_code(&self, code: &str) -> Result<Option<Department>>;
    /// Creates a user; `Conflict` when the username exists.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn get_user(&self, id: i64) -> Result<Option<User>>;
    async fn credentials(&self, username: &str) -> Result<Option<UserCredentials>>;
    async fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<()>;
    /// Activates or deactivates an account; a deactivated user's sessions stop working at once.
    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<()>;
    /// Users ordered by username.
    async fn list_users(
        &self,
        role: Option<Role>,
        department_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<User>>;
}

/// Login sessions and bearer tokens, stored by the SHA-256 of the secret.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a session; `Conflict` for a token hash or id that exists, `Invalid` for an unknown
    /// user.
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    /// The active user of an unexpired session.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Removes expired sessions; returns how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;
    /// The unexpired sessions of a user, newest first (ties by id); `current` marks the one whose
    /// token hash is `current_token_hash`.
    async fn list_sessions(
        &self,
        user_id: i64,
        current_token_hash: &str,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<SessionInfo>>;
    /// Deletes the session `id` of this user (another user's id deletes nothing); whether one
    /// was deleted.
    async fn delete_user_session(&self, user_id: i64, id: &str) -> Result<bool>;
    /// Deletes every session of the user but the one of `keep_token_hash`; how many.
    async fn delete_other_sessions(&self, user_id: i64, keep_token_hash: &str) -> Result<u64>;
}

/// Components (部件).
#[async_trait]
pub trait ComponentRepo: Send + Sync {
    /// Ordered by id.
    async fn list_components(
        &self,
        query: &ComponentQuery,
        page: PageRequest,
    ) -> Result<Page<Component>>;
    async fn get_component(&self, id: &str) -> Result<Option<Component>>;
}

/// Everything the application needs from a database.
pub trait Store:
    Admin
    + ImportRepo
    + RegionRepo
    + CatalogueRepo
    + OrgRepo
    + SessionRepo
    + ComponentRepo
    + CaseRepo
    + RoutingRepo
    + InboxRepo
    + AttachmentRepo
    + CalendarRepo
    + CacheRepo
    + AuditRepo
    + AccessLogRepo
    + FollowRepo
    + DashboardRepo
    + EvaluationRepo
    + ReviewRepo
    + ExportRepo
    + ReportRepo
    + MonitoringRepo
    + ObjectRepo
    + PoiRepo
    + Open311Repo
{
}

impl<T> Store for T where
    T: Admin
        + ImportRepo
        + RegionRepo
        + CatalogueRepo
        + OrgRepo
        + SessionRepo
        + ComponentRepo
        + CaseRepo
        + RoutingRepo
        + InboxRepo
        + AttachmentRepo
        + CalendarRepo
        + CacheRepo
        + AuditRepo
        + AccessLogRepo
        + FollowRepo
        + DashboardRepo
        + EvaluationRepo
        + ReviewRepo
        + ExportRepo
        + ReportRepo
        + MonitoringRepo
        + ObjectRepo
        + PoiRepo
        + Open311Repo
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_query_category_filter() {
        let q = |c: &str| ComponentQuery {
            category: Some(c.to_string()),
            ..Default::default()
        };
        assert!(q("01").validate().is_ok());
        assert!(q("01001").validate().is_ok());
        assert!(q("010").validate().is_err());
        assert!(q("0a").validate().is_err());
        assert!(ComponentQuery::default().validate().is_ok());
    }

    #[test]
    fn batch_with_a_duplicate_key_is_invalid() {
        let dept = |code: &str, parent: Option<&str>| NewDepartment {
            code: code.into(),
            name: "x".into(),
            kind: DepartmentKind::Municipal,
            region_code: "441300".into(),
            parent_code: parent.map(str::to_string),
        };
        let ok = ImportBatch {
            departments: vec![dept("a", None), dept("b", Some("a"))],
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let twice = ImportBatch {
            departments: vec![dept("a", None), dept("a", None)],
            ..Default::default()
        };
        assert!(
            matches!(twice.validate(), Err(StoreError::Invalid(m)) if m.contains("department a"))
        );
        let own = ImportBatch {
            departments: vec![dept("a", Some("a"))],
            ..Default::default()
        };
        assert!(own.validate().is_err());
        let long_name = ImportBatch {
            departments: vec![NewDepartment {
                name: "局".repeat(101),
                ..dept("a", None)
            }],
            ..Default::default()
        };
        assert!(
            matches!(long_name.validate(), Err(StoreError::Invalid(m)) if m.contains("department name is too long"))
        );
        let user = |username: String| NewUser {
            username,
            display_name: "张三".into(),
            password_hash: "x".into(),
            roles: vec![],
            region_code: None,
            department_code: None,
            grids: vec![],
        };
        assert!(user("zhangsan".into()).validate().is_ok());
        let long = ImportBatch {
            users: vec![user("u".repeat(65))],
            ..Default::default()
        };
        assert!(
            matches!(long.validate(), Err(StoreError::Invalid(m)) if m.contains("username is too long"))
        );
    }
}
