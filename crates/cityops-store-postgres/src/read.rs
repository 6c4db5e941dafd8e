//! Queries of the region, catalogue, organisation, session and component repositories.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_store::{
    CatalogueRepo, Category, CategoryKind, Component, ComponentQuery, ComponentRepo, Department,
    FilingStandard, NewUser, OrgRepo, Page, PageRequest, Region, RegionLevel, RegionQuery,
    RegionRepo, Result, Role, SessionRepo, StoreError, User, UserCredentials,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use crate::rows;
use crate::{PgStore, db_err};

const REGION_LIST_COLUMNS: &str = "SELECT code, level, name, parent_code, NULL AS geometry, bbox_min_lng, \
     bbox_min_lat, bbox_max_lng, bbox_max_lat, center_lng, center_lat, area_m2, synthetic FROM regions";
const CATEGORY_COLUMNS: &str =
    "SELECT kind, code, class_code, class_name, name, old_code FROM categories";
const DEPARTMENT_COLUMNS: &str =
    "SELECT id, code, name, kind, region_code, parent_id FROM departments";
const USER_COLUMNS: &str = "SELECT id, username, display_name, roles, region_code, department_id, active, grids FROM users";
const COMPONENT_COLUMNS: &str = "SELECT c.id, c.category_code, c.name, c.lng, c.lat, c.grid_code, \
     c.community_code, o.code AS owner_code, m.code AS maintainer_code, c.status, c.surveyed_on \
     FROM components c LEFT JOIN departments o ON o.id = c.owner_department_id \
     LEFT JOIN departments m ON m.id = c.maintainer_department_id";

/// `%text%` for `ILIKE … ESCAPE '\'`, with the wildcards of `text` escaped.
pub(crate) fn like_contains(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Runs a filtered, paged list: `count(*)` over `from` + filters, then `select` + filters + `order`
/// with LIMIT/OFFSET.
async fn paged<T>(
    pool: &PgPool,
    select: &'static str,
    from: &'static str,
    filters: impl Fn(&mut QueryBuilder<Postgres>),
    order: &'static str,
    page: PageRequest,
    decode: fn(&PgRow) -> Result<T>,
) -> Result<Page<T>> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) ");
    count.push(from).push(" WHERE 1 = 1");
    filters(&mut count);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(db_err)?;

    let mut q = QueryBuilder::<Postgres>::new(select);
    q.push(" WHERE 1 = 1");
    filters(&mut q);
    q.push(order)
        .push(" LIMIT ")
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset());
    let items = q
        .build()
        .fetch_all(pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total.max(0) as u64, page))
}

/// `AND <column> lies within region <scope>`, the SQL twin of `cityops_domain::region::covers`:
/// the code starts with the scope, or the scope is a city code `xxxx00` and the code is at least
/// 6 digits starting with `xxxx`.
fn push_covers(q: &mut QueryBuilder<Postgres>, column: &str, scope: &str) {
    q.push(format_args!(" AND (starts_with({column}, "))
        .push_bind(scope.to_string())
        .push(")");
    if scope.len() == 6 && scope.is_ascii() && scope.ends_with("00") {
        q.push(format_args!(
            " OR (length({column}) >= 6 AND starts_with({column}, "
        ))
        .push_bind(scope[..4].to_string())
        .push("))");
    }
    q.push(")");
}

#[async_trait]
impl RegionRepo for PgStore {
    async fn get_region(&self, code: &str) -> Result<Option<Region>> {
        sqlx::query("SELECT * FROM regions WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::region)
            .transpose()
    }

    async fn list_regions(&self, query: &RegionQuery, page: PageRequest) -> Result<Page<Region>> {
        let filters = |q: &mut QueryBuilder<Postgres>| {
            if let Some(level) = query.level {
                q.push(" AND level = ").push_bind(level.as_str());
            }
            if let Some(parent) = &query.parent_code {
                q.push(" AND parent_code = ").push_bind(parent.clone());
            }
            if let Some(name) = &query.name_contains {
                q.push(" AND name ILIKE ")
                    .push_bind(like_contains(name))
                    .push(" ESCAPE E'\\\\'");
            }
        };
        paged(
            &self.pool,
            REGION_LIST_COLUMNS,
            "FROM regions",
            filters,
            " ORDER BY code",
            page,
            rows::region,
        )
        .await
    }

    async fn regions_with_geometry(&self, level: RegionLevel) -> Result<Vec<Region>> {
        sqlx::query("SELECT * FROM regions WHERE level = $1 AND geometry IS NOT NULL ORDER BY code")
            .bind(level.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::region)
            .collect()
    }
}

#[async_trait]
impl CatalogueRepo for PgStore {
    async fn list_categories(
        &self,
        kind: Option<CategoryKind>,
        page: PageRequest,
    ) -> Result<Page<Category>> {
        let filters = |q: &mut QueryBuilder<Postgres>| {
            if let Some(kind) = kind {
                q.push(" AND kind = ").push_bind(kind.as_str());
            }
        };
        paged(
            &self.pool,
            CATEGORY_COLUMNS,
            "FROM categories",
            filters,
            " ORDER BY kind, code",
            page,
            rows::category,
        )
        .await
    }

    async fn get_category(&self, kind: CategoryKind, code: &str) -> Result<Option<Category>> {
        sqlx::query("SELECT kind, code, class_code, class_name, name, old_code FROM categories WHERE kind = $1 AND code = $2")
            .bind(kind.as_str())
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::category)
            .transpose()
    }

    async fn filing_standards(
        &self,
        kind: CategoryKind,
        code: &str,
    ) -> Result<Vec<FilingStandard>> {
        sqlx::query("SELECT * FROM filing_standards WHERE kind = $1 AND code = $2 ORDER BY seq")
            .bind(kind.as_str())
            .bind(code)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::filing_standard)
            .collect()
    }
}

#[async_trait]
impl OrgRepo for PgStore {
    async fn list_departments(
        &self,
        region_code: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Department>> {
        let filters = |q: &mut QueryBuilder<Postgres>| {
            if let Some(scope) = region_code {
                push_covers(q, "region_code", scope);
            }
        };
        paged(
            &self.pool,
            DEPARTMENT_COLUMNS,
            "FROM departments",
            filters,
            " ORDER BY code",
            page,
            rows::department,
        )
        .await
    }

    async fn get_department(&self, id: i64) -> Result<Option<Department>> {
        sqlx::query(
            "SELECT id, code, name, kind, region_code, parent_id FROM departments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::department)
        .transpose()
    }

    async fn get_department_by_code(&self, code: &str) -> Result<Option<Department>> {
        sqlx::query(
            "SELECT id, code, name, kind, region_code, parent_id FROM departments WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::department)
        .transpose()
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let department_id: Option<i64> = match user.department_code.as_deref() {
            None => None,
            Some(code) => Some(
                sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "user {}: unknown department code {code:?}",
                            user.username
                        ))
                    })?,
            ),
        };
        let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, roles, region_code, department_id, grids, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id, username, display_name, roles, region_code, department_id, active, grids",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(roles)
        .bind(&user.region_code)
        .bind(department_id)
        .bind(&user.grids)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("username {:?} exists", user.username)),
            other => other,
        })?;
        let created = rows::user(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn get_user(&self, id: i64) -> Result<Option<User>> {
        sqlx::query("SELECT id, username, display_name, roles, region_code, department_id, active, grids FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::user)
            .transpose()
    }

    async fn credentials(&self, username: &str) -> Result<Option<UserCredentials>> {
        let row = sqlx::query(
            "SELECT id, username, display_name, roles, region_code, department_id, active, grids, password_hash
               FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(UserCredentials {
                user: rows::user(&row)?,
                password_hash: row.try_get("password_hash").map_err(db_err)?,
            })),
        }
    }

    async fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<()> {
        let done = sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn list_users(
        &self,
        role: Option<Role>,
        department_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<User>> {
        let filters = |q: &mut QueryBuilder<Postgres>| {
            if let Some(role) = role {
                q.push(" AND ")
                    .push_bind(role.as_str())
                    .push(" = ANY(roles)");
            }
            if let Some(id) = department_id {
                q.push(" AND department_id = ").push_bind(id);
            }
        };
        paged(
            &self.pool,
            USER_COLUMNS,
            "FROM users",
            filters,
            " ORDER BY username",
            page,
            rows::user,
        )
        .await
    }
}

#[async_trait]
impl SessionRepo for PgStore {
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(created_at)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::Invalid(_) => StoreError::Invalid(format!("session for unknown user {user_id}")),
                other => other,
            })?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.roles, u.region_code, u.department_id, u.active, u.grids
               FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::user)
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl ComponentRepo for PgStore {
    async fn list_components(
        &self,
        query: &ComponentQuery,
        page: PageRequest,
    ) -> Result<Page<Component>> {
        query.validate()?;
        let filters = |q: &mut QueryBuilder<Postgres>| {
            if let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox {
                q.push(" AND c.lng >= ")
                    .push_bind(min_lng)
                    .push(" AND c.lng <= ")
                    .push_bind(max_lng)
                    .push(" AND c.lat >= ")
                    .push_bind(min_lat)
                    .push(" AND c.lat <= ")
                    .push_bind(max_lat);
            }
            if let Some(c) = &query.category {
                if c.len() == 5 {
                    q.push(" AND c.category_code = ").push_bind(c.clone());
                } else {
                    // Digits only (checked above), so the pattern needs no escaping; the "C"
                    // collation lets the index serve the prefix match.
                    q.push(" AND c.category_code LIKE ")
                        .push_bind(format!("{c}%"));
                }
            }
            if let Some(grid) = &query.grid_code {
                q.push(" AND c.grid_code = ").push_bind(grid.clone());
            }
            if let Some(dept) = &query.department_code {
                q.push(" AND (c.owner_department_id = (SELECT id FROM departments WHERE code = ")
                    .push_bind(dept.clone())
                    .push(") OR c.maintainer_department_id = (SELECT id FROM departments WHERE code = ")
                    .push_bind(dept.clone())
                    .push("))");
            }
        };
        paged(
            &self.pool,
            COMPONENT_COLUMNS,
            "FROM components c",
            filters,
            " ORDER BY c.id",
            page,
            rows::component,
        )
        .await
    }

    async fn get_component(&self, id: &str) -> Result<Option<Component>> {
        let mut q = QueryBuilder::<Postgres>::new(COMPONENT_COLUMNS);
        q.push(" WHERE c.id = ").push_bind(id.to_string());
        q.build()
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(rows::component)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("惠城"), "%惠城%");
        assert_eq!(like_contains("10%_a\\b"), "%10\\%\\_a\\\\b%");
    }
}
