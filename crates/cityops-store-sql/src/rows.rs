//! Decoding of the rows of the reference tables: regions, categories, filing standards,
//! departments, users and components.
use cityops_domain::{ComponentStatus, LimitUnit, LngLat, TimeLimit};
use cityops_store::{
    Category, CategoryKind, Component, ComponentId, Department, DepartmentKind, FilingStandard,
    Region, RegionLevel, Result, Role, Scope, SessionInfo, User,
};

use crate::{Cols, Dialect, corrupt, parse};

/// Decodes a `regions` row (`geometry` may be selected as NULL).
pub fn region<D: Dialect>(row: &D::Row) -> Result<Region> {
    let r = Cols::<D>(row);
    let level: String = r.get("level")?;
    let bbox = match (
        r.get::<Option<f64>>("bbox_min_lng")?,
        r.get::<Option<f64>>("bbox_min_lat")?,
        r.get::<Option<f64>>("bbox_max_lng")?,
        r.get::<Option<f64>>("bbox_max_lat")?,
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let center = match (
        r.get::<Option<f64>>("center_lng")?,
        r.get::<Option<f64>>("center_lat")?,
    ) {
        (Some(lng), Some(lat)) => Some(LngLat { lng, lat }),
        _ => None,
    };
    Ok(Region {
        code: r.get("code")?,
        level: parse::<RegionLevel>("region level", &level)?,
        name: r.get("name")?,
        parent_code: r.get("parent_code")?,
        geometry: r.get("geometry")?,
        bbox,
        center,
        area_m2: r.get("area_m2")?,
        synthetic: r.get("synthetic")?,
    })
}

/// Decodes a `categories` row.
pub fn category<D: Dialect>(row: &D::Row) -> Result<Category> {
    let r = Cols::<D>(row);
    let kind: String = r.get("kind")?;
    Ok(Category {
        kind: parse::<CategoryKind>("category kind", &kind)?,
        code: r.get("code")?,
        class_code: r.get("class_code")?,
        class_name: r.get("class_name")?,
        name: r.get("name")?,
        old_code: r.get("old_code")?,
    })
}

/// Decodes a `filing_standards` row.
pub fn filing_standard<D: Dialect>(row: &D::Row) -> Result<FilingStandard> {
    let r = Cols::<D>(row);
    let kind: String = r.get("kind")?;
    let unit: String = r.get("limit_unit")?;
    let seq: i32 = r.get("seq")?;
    let value: i32 = r.get("limit_value")?;
    Ok(FilingStandard {
        kind: parse::<CategoryKind>("category kind", &kind)?,
        code: r.get("code")?,
        seq: u32::try_from(seq).map_err(|_| corrupt("filing standard seq", &seq.to_string()))?,
        filing_condition: r.get("filing_condition")?,
        limit: TimeLimit {
            value: u32::try_from(value).map_err(|_| corrupt("time limit", &value.to_string()))?,
            unit: parse::<LimitUnit>("time limit unit", &unit)?,
        },
        limit_text: r.get("limit_text")?,
        closure_condition: r.get("closure_condition")?,
        old_code: r.get("old_code")?,
        source: r.get("source")?,
    })
}

/// Decodes a `departments` row.
pub fn department<D: Dialect>(row: &D::Row) -> Result<Department> {
    let r = Cols::<D>(row);
    let kind: String = r.get("kind")?;
    Ok(Department {
        id: r.get("id")?,
        code: r.get("code")?,
        name: r.get("name")?,
        kind: parse::<DepartmentKind>("department kind", &kind)?,
        region_code: r.get("region_code")?,
        parent_id: r.get("parent_id")?,
    })
}

/// Decodes the user columns `id, username, display_name, roles, region_code, department_id,
/// active, grids`.
pub fn user<D: Dialect>(row: &D::Row) -> Result<User> {
    let r = Cols::<D>(row);
    let roles = D::list(row, "roles")?;
    let roles = roles
        .iter()
        .map(|r| parse::<Role>("role", r))
        .collect::<Result<Vec<_>>>()?;
    Ok(User {
        id: r.get("id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        roles,
        scope: Scope {
            region_code: r.get("region_code")?,
            department_id: r.get("department_id")?,
        },
        active: r.get("active")?,
        grids: D::list(row, "grids")?,
    })
}

/// Decodes the component columns with the department codes as `owner_code`/`maintainer_code`.
pub fn component<D: Dialect>(row: &D::Row) -> Result<Component> {
    let r = Cols::<D>(row);
    let id: String = r.get("id")?;
    let status: String = r.get("status")?;
    Ok(Component {
        id: ComponentId::parse(&id).map_err(|_| corrupt("component id", &id))?,
        category_code: r.get("category_code")?,
        name: r.get("name")?,
        lng: r.get("lng")?,
        lat: r.get("lat")?,
        grid_code: r.get("grid_code")?,
        community_code: r.get("community_code")?,
        owner_department: r.get("owner_code")?,
        maintainer_department: r.get("maintainer_code")?,
        status: ComponentStatus::parse(&status)
            .map_err(|_| corrupt("component status", &status))?,
        surveyed_on: r.get("surveyed_on")?,
    })
}

/// Decodes a `sessions` row (`id, created_at, expires_at, address, user_agent, token_hash`):
/// the user-visible part (`current` false) and the token hash, for the caller to compare.
pub fn session_info<D: Dialect>(row: &D::Row) -> Result<(SessionInfo, String)> {
    let r = Cols::<D>(row);
    Ok((
        SessionInfo {
            id: r.get("id")?,
            created_at: D::ts(row, "created_at")?,
            expires_at: D::ts(row, "expires_at")?,
            address: r.get("address")?,
            user_agent: r.get("user_agent")?,
            current: false,
        },
        r.get("token_hash")?,
    ))
}
