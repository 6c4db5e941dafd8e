//! Paging and the read queries of the admin, region, catalogue, organisation, session and
//! component repositories.
use chrono::{DateTime, Utc};
use cityops_store::{
    Category, CategoryKind, Component, ComponentQuery, Department, FilingStandard, Page,
    PageRequest, Region, RegionLevel, RegionQuery, Result, Role, SessionInfo, StoreStats, User,
    UserCredentials,
};
use sqlx::{Pool, QueryBuilder};

use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, push_prefix, rows};

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

/// A count of `n` rows as a page total.
fn total<D: Dialect>(row: &D::Row) -> Result<u64> {
    Ok(Cols::<D>(row).get::<i64>("n")?.max(0) as u64)
}

/// Runs a filtered, paged list: `count(*)` over `from` + filters, then `select` + filters +
/// `order` (which must end in a unique column, so pages are stable) with LIMIT/OFFSET.
pub async fn paged<D: Dialect, T>(
    pool: &Pool<D>,
    select: &str,
    from: &str,
    filters: impl Fn(&mut QueryBuilder<D>),
    order: &str,
    page: PageRequest,
    decode: fn(&D::Row) -> Result<T>,
) -> Result<Page<T>> {
    let mut count = QueryBuilder::<D>::new("SELECT count(*) AS n ");
    count.push(from).push(" WHERE 1 = 1");
    filters(&mut count);
    let total = total::<D>(&D::fetch_one(pool, count.build()).await?)?;

    let mut q = QueryBuilder::<D>::new(select);
    q.push(" WHERE 1 = 1");
    filters(&mut q);
    q.push(order)
        .push(" LIMIT ")
        .bind(page.limit())
        .push(" OFFSET ")
        .bind(page.offset());
    let items = D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total, page))
}

/// Row counts of the main tables.
pub async fn stats<D: Dialect>(pool: &Pool<D>) -> Result<StoreStats> {
    let row = D::fetch_one(
        pool,
        sqlx::query(
            "SELECT (SELECT count(*) FROM regions) AS regions,
                    (SELECT count(*) FROM regions WHERE level = 'grid') AS grids,
                    (SELECT count(*) FROM categories) AS categories,
                    (SELECT count(*) FROM departments) AS departments,
                    (SELECT count(*) FROM users) AS users,
                    (SELECT count(*) FROM components) AS components,
                    (SELECT count(*) FROM cases) AS cases,
                    (SELECT count(*) FROM case_events) AS case_events",
        ),
    )
    .await?;
    let get = |c: &str| -> Result<u64> { Ok(Cols::<D>(&row).get::<i64>(c)?.max(0) as u64) };
    Ok(StoreStats {
        regions: get("regions")?,
        grids: get("grids")?,
        categories: get("categories")?,
        departments: get("departments")?,
        users: get("users")?,
        components: get("components")?,
        cases: get("cases")?,
        case_events: get("case_events")?,
    })
}

/// The `(table_name, column_name)` rows of the backend's catalogue query `sql`, sorted: what the
/// conformance suite compares between the backends.
pub async fn schema_columns<D: Dialect>(
    pool: &Pool<D>,
    sql: &'static str,
) -> Result<Vec<(String, String)>> {
    let mut columns = D::fetch_all(pool, sqlx::query(sql))
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            Ok((r.get("table_name")?, r.get("column_name")?))
        })
        .collect::<Result<Vec<(String, String)>>>()?;
    columns.sort();
    Ok(columns)
}

/// `Admin::ping`: one round trip.
pub async fn ping<D: Dialect>(pool: &Pool<D>) -> Result<()> {
    D::fetch_one(pool, sqlx::query("SELECT 1 AS n")).await?;
    Ok(())
}

/// A value of the `meta` table.
pub async fn get_meta<D: Dialect>(pool: &Pool<D>, key: &str) -> Result<Option<String>> {
    D::fetch_optional(
        pool,
        sqlx::query("SELECT value FROM meta WHERE key = $1").arg(key.to_string()),
    )
    .await?
    .map(|row| Cols::<D>(&row).get("value"))
    .transpose()
}

/// `RegionRepo::get_region`.
pub async fn get_region<D: Dialect>(pool: &Pool<D>, code: &str) -> Result<Option<Region>> {
    D::fetch_optional(
        pool,
        sqlx::query("SELECT * FROM regions WHERE code = $1").arg(code.to_string()),
    )
    .await?
    .as_ref()
    .map(rows::region::<D>)
    .transpose()
}

/// `RegionRepo::list_regions` (without geometry).
pub async fn list_regions<D: Dialect>(
    pool: &Pool<D>,
    query: &RegionQuery,
    page: PageRequest,
) -> Result<Page<Region>> {
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(level) = query.level {
            q.push(" AND level = ").bind(level.as_str());
        }
        if let Some(parent) = &query.parent_code {
            q.push(" AND parent_code = ").bind(parent.clone());
        }
        if let Some(name) = &query.name_contains {
            q.push(" AND ");
            D::push_contains(q, "name", name);
        }
    };
    paged(
        pool,
        REGION_LIST_COLUMNS,
        "FROM regions",
        filters,
        " ORDER BY code",
        page,
        rows::region::<D>,
    )
    .await
}

/// `RegionRepo::regions_with_geometry`.
pub async fn regions_with_geometry<D: Dialect>(
    pool: &Pool<D>,
    level: RegionLevel,
) -> Result<Vec<Region>> {
    D::fetch_all(
        pool,
        sqlx::query(
            "SELECT * FROM regions WHERE level = $1 AND geometry IS NOT NULL ORDER BY code",
        )
        .arg(level.as_str()),
    )
    .await?
    .iter()
    .map(rows::region::<D>)
    .collect()
}

/// `CatalogueRepo::list_categories`.
pub async fn list_categories<D: Dialect>(
    pool: &Pool<D>,
    kind: Option<CategoryKind>,
    page: PageRequest,
) -> Result<Page<Category>> {
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(kind) = kind {
            q.push(" AND kind = ").bind(kind.as_str());
        }
    };
    paged(
        pool,
        CATEGORY_COLUMNS,
        "FROM categories",
        filters,
        " ORDER BY kind, code",
        page,
        rows::category::<D>,
    )
    .await
}

/// `CatalogueRepo::get_category`.
pub async fn get_category<D: Dialect>(
    pool: &Pool<D>,
    kind: CategoryKind,
    code: &str,
) -> Result<Option<Category>> {
    D::fetch_optional(
        pool,
        sqlx::query(
            "SELECT kind, code, class_code, class_name, name, old_code FROM categories \
             WHERE kind = $1 AND code = $2",
        )
        .arg(kind.as_str())
        .arg(code.to_string()),
    )
    .await?
    .as_ref()
    .map(rows::category::<D>)
    .transpose()
}

/// `CatalogueRepo::filing_standards`.
pub async fn filing_standards<D: Dialect>(
    pool: &Pool<D>,
    kind: CategoryKind,
    code: &str,
) -> Result<Vec<FilingStandard>> {
    D::fetch_all(
        pool,
        sqlx::query("SELECT * FROM filing_standards WHERE kind = $1 AND code = $2 ORDER BY seq")
            .arg(kind.as_str())
            .arg(code.to_string()),
    )
    .await?
    .iter()
    .map(rows::filing_standard::<D>)
    .collect()
}

/// `AND <column> lies within region <scope>`, the SQL twin of `cityops_domain::region::covers`:
/// the code starts with the scope, or the scope is a city code `xxxx00` and the code is at least
/// 6 digits starting with `xxxx`.
pub(crate) fn push_covers<D: Dialect>(q: &mut QueryBuilder<D>, column: &str, scope: &str) {
    q.push(" AND (");
    push_prefix(q, column, scope);
    if scope.len() == 6 && scope.is_ascii() && scope.ends_with("00") {
        q.push(format_args!(" OR (length({column}) >= 6 AND "));
        push_prefix(q, column, &scope[..4]);
        q.push(")");
    }
    q.push(")");
}

/// `OrgRepo::list_departments`.
pub async fn list_departments<D: Dialect>(
    pool: &Pool<D>,
    region_code: Option<&str>,
    page: PageRequest,
) -> Result<Page<Department>> {
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(scope) = region_code {
            push_covers(q, "region_code", scope);
        }
    };
    paged(
        pool,
        DEPARTMENT_COLUMNS,
        "FROM departments",
        filters,
        " ORDER BY code",
        page,
        rows::department::<D>,
    )
    .await
}

/// `OrgRepo::get_department` (by id) and `get_department_by_code` (by code).
pub async fn get_department<D: Dialect>(
    pool: &Pool<D>,
    id: Option<i64>,
    code: Option<&str>,
) -> Result<Option<Department>> {
    let mut q = QueryBuilder::<D>::new(DEPARTMENT_COLUMNS);
    match (id, code) {
        (Some(id), _) => q.push(" WHERE id = ").bind(id),
        (None, Some(code)) => q.push(" WHERE code = ").bind(code.to_string()),
        (None, None) => return Ok(None),
    };
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(rows::department::<D>)
        .transpose()
}

/// `OrgRepo::get_user`.
pub async fn get_user<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Option<User>> {
    let mut q = QueryBuilder::<D>::new(USER_COLUMNS);
    q.push(" WHERE id = ").bind(id);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(rows::user::<D>)
        .transpose()
}

/// `OrgRepo::credentials`.
pub async fn credentials<D: Dialect>(
    pool: &Pool<D>,
    username: &str,
) -> Result<Option<UserCredentials>> {
    let row = D::fetch_optional(
        pool,
        sqlx::query(
            "SELECT id, username, display_name, roles, region_code, department_id, active, grids, \
             password_hash FROM users WHERE username = $1",
        )
        .arg(username.to_string()),
    )
    .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(UserCredentials {
            user: rows::user::<D>(&row)?,
            password_hash: Cols::<D>(&row).get("password_hash")?,
        })),
    }
}

/// `OrgRepo::list_users`.
pub async fn list_users<D: Dialect>(
    pool: &Pool<D>,
    role: Option<Role>,
    department_id: Option<i64>,
    page: PageRequest,
) -> Result<Page<User>> {
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(role) = role {
            q.push(" AND ");
            D::push_has_role(q, "users.roles", role.as_str());
        }
        if let Some(id) = department_id {
            q.push(" AND department_id = ").bind(id);
        }
    };
    paged(
        pool,
        USER_COLUMNS,
        "FROM users",
        filters,
        " ORDER BY username",
        page,
        rows::user::<D>,
    )
    .await
}

/// `SessionRepo::session_user`: the active user of an unexpired session.
pub async fn session_user<D: Dialect>(
    pool: &Pool<D>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let q = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.roles, u.region_code, u.department_id, \
         u.active, u.grids FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
    )
    .arg(token_hash.to_string());
    D::fetch_optional(pool, D::arg_ts(q, now))
        .await?
        .as_ref()
        .map(rows::user::<D>)
        .transpose()
}

/// `SessionRepo::list_sessions`: the user's unexpired sessions, newest first.
pub async fn list_sessions<D: Dialect>(
    pool: &Pool<D>,
    user_id: i64,
    current_token_hash: &str,
    now: DateTime<Utc>,
    page: PageRequest,
) -> Result<Page<SessionInfo>> {
    let filters = |q: &mut QueryBuilder<D>| {
        q.push(" AND user_id = ").bind(user_id);
        q.push(" AND expires_at > ");
        D::push_ts(q, now);
    };
    let page = paged(
        pool,
        "SELECT id, created_at, expires_at, address, user_agent, token_hash FROM sessions",
        "FROM sessions",
        filters,
        " ORDER BY created_at DESC, id",
        page,
        rows::session_info::<D>,
    )
    .await?;
    // The token hash is compared here and never leaves the store.
    Ok(page.map(|(mut info, hash)| {
        info.current = hash == current_token_hash;
        info
    }))
}

/// `ComponentRepo::list_components`; `Invalid` for a malformed category filter.
pub async fn list_components<D: Dialect>(
    pool: &Pool<D>,
    query: &ComponentQuery,
    page: PageRequest,
) -> Result<Page<Component>> {
    query.validate()?;
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox {
            q.push(" AND c.lng >= ")
                .bind(min_lng)
                .push(" AND c.lng <= ")
                .bind(max_lng)
                .push(" AND c.lat >= ")
                .bind(min_lat)
                .push(" AND c.lat <= ")
                .bind(max_lat);
        }
        if let Some(c) = &query.category {
            if c.len() == 5 {
                q.push(" AND c.category_code = ").bind(c.clone());
            } else {
                // Digits only (validated above): the range serves the prefix from the index.
                q.push(" AND ");
                push_prefix(q, "c.category_code", c);
            }
        }
        if let Some(grid) = &query.grid_code {
            q.push(" AND c.grid_code = ").bind(grid.clone());
        }
        if let Some(dept) = &query.department_code {
            q.push(" AND (c.owner_department_id = (SELECT id FROM departments WHERE code = ")
                .bind(dept.clone())
                .push(") OR c.maintainer_department_id = (SELECT id FROM departments WHERE code = ")
                .bind(dept.clone())
                .push("))");
        }
    };
    paged(
        pool,
        COMPONENT_COLUMNS,
        "FROM components c",
        filters,
        " ORDER BY c.id",
        page,
        rows::component::<D>,
    )
    .await
}

/// `ComponentRepo::get_component`.
pub async fn get_component<D: Dialect>(pool: &Pool<D>, id: &str) -> Result<Option<Component>> {
    let mut q = QueryBuilder::<D>::new(COMPONENT_COLUMNS);
    q.push(" WHERE c.id = ").bind(id.to_string());
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(rows::component::<D>)
        .transpose()
}
