//! The region, catalogue, organisation, session and component repositories: the shared queries
//! of `cityops-store-sql` on the read pool (writes on the writer), and the user insert.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_store::{
    CatalogueRepo, Category, CategoryKind, Component, ComponentQuery, ComponentRepo, Department,
    FilingStandard, NewUser, OrgRepo, Page, PageRequest, Region, RegionLevel, RegionQuery,
    RegionRepo, Result, Role, SessionRepo, User, UserCredentials,
};
use cityops_store_sql::{read, writes};

use crate::SqliteStore;

#[async_trait]
impl RegionRepo for SqliteStore {
    async fn get_region(&self, code: &str) -> Result<Option<Region>> {
        read::get_region(&self.read, code).await
    }

    async fn list_regions(&self, query: &RegionQuery, page: PageRequest) -> Result<Page<Region>> {
        read::list_regions(&self.read, query, page).await
    }

    async fn regions_with_geometry(&self, level: RegionLevel) -> Result<Vec<Region>> {
        read::regions_with_geometry(&self.read, level).await
    }
}

#[async_trait]
impl CatalogueRepo for SqliteStore {
    async fn list_categories(
        &self,
        kind: Option<CategoryKind>,
        page: PageRequest,
    ) -> Result<Page<Category>> {
        read::list_categories(&self.read, kind, page).await
    }

    async fn get_category(&self, kind: CategoryKind, code: &str) -> Result<Option<Category>> {
        read::get_category(&self.read, kind, code).await
    }

    async fn filing_standards(
        &self,
        kind: CategoryKind,
        code: &str,
    ) -> Result<Vec<FilingStandard>> {
        read::filing_standards(&self.read, kind, code).await
    }
}

#[async_trait]
impl OrgRepo for SqliteStore {
    async fn list_departments(
        &self,
        region_code: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Department>> {
        read::list_departments(&self.read, region_code, page).await
    }

    async fn get_department(&self, id: i64) -> Result<Option<Department>> {
        read::get_department(&self.read, Some(id), None).await
    }

    async fn get_department_by_code(&self, code: &str) -> Result<Option<Department>> {
        read::get_department(&self.read, None, Some(code)).await
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        writes::create_user(&self.read, &self.write, user, Utc::now()).await
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        read::get_user(&self.read, id).await
    }

    async fn credentials(&self, username: &str) -> Result<Option<UserCredentials>> {
        read::credentials(&self.read, username).await
    }

    async fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<()> {
        writes::set_password_hash(&self.write, user_id, password_hash).await
    }

    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<()> {
        writes::set_user_active(&self.write, user_id, active).await
    }

    async fn list_users(
        &self,
        role: Option<Role>,
        department_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        read::list_users(&self.read, role, department_id, page).await
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        writes::create_session(&self.write, token_hash, user_id, created_at, expires_at).await
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        read::session_user(&self.read, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        writes::delete_session(&self.write, token_hash).await
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        writes::purge_expired_sessions(&self.write, now).await
    }
}

#[async_trait]
impl ComponentRepo for SqliteStore {
    async fn list_components(
        &self,
        query: &ComponentQuery,
        page: PageRequest,
    ) -> Result<Page<Component>> {
        read::list_components(&self.read, query, page).await
    }

    async fn get_component(&self, id: &str) -> Result<Option<Component>> {
        read::get_component(&self.read, id).await
    }
}
