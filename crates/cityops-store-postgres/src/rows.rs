//! Row decoding and value encoding shared by the queries.
use std::str::FromStr;

use cityops_domain::{ComponentStatus, LimitUnit, LngLat, TimeLimit};
use cityops_store::{
    Category, CategoryKind, Component, ComponentId, Department, DepartmentKind, FilingStandard,
    Region, RegionLevel, Result, Role, Scope, StoreError, User,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::db_err;

/// A value read from the database that the domain does not accept.
fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("unexpected {what} {value:?} in the database"))
}

fn parse<T: FromStr>(what: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| corrupt(what, value))
}

pub(crate) fn region(row: &PgRow) -> Result<Region> {
    let level: String = row.try_get("level").map_err(db_err)?;
    let bbox = match (
        row.try_get::<Option<f64>, _>("bbox_min_lng")
            .map_err(db_err)?,
        row.try_get::<Option<f64>, _>("bbox_min_lat")
            .map_err(db_err)?,
        row.try_get::<Option<f64>, _>("bbox_max_lng")
            .map_err(db_err)?,
        row.try_get::<Option<f64>, _>("bbox_max_lat")
            .map_err(db_err)?,
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let center = match (
        row.try_get::<Option<f64>, _>("center_lng")
            .map_err(db_err)?,
        row.try_get::<Option<f64>, _>("center_lat")
            .map_err(db_err)?,
    ) {
        (Some(lng), Some(lat)) => Some(LngLat { lng, lat }),
        _ => None,
    };
    Ok(Region {
        code: row.try_get("code").map_err(db_err)?,
        level: parse::<RegionLevel>("region level", &level)?,
        name: row.try_get("name").map_err(db_err)?,
        parent_code: row.try_get("parent_code").map_err(db_err)?,
        geometry: row.try_get("geometry").map_err(db_err)?,
        bbox,
        center,
        area_m2: row.try_get("area_m2").map_err(db_err)?,
        synthetic: row.try_get("synthetic").map_err(db_err)?,
    })
}

pub(crate) fn category(row: &PgRow) -> Result<Category> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    Ok(Category {
        kind: parse::<CategoryKind>("category kind", &kind)?,
        code: row.try_get("code").map_err(db_err)?,
        class_code: row.try_get("class_code").map_err(db_err)?,
        class_name: row.try_get("class_name").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        old_code: row.try_get("old_code").map_err(db_err)?,
    })
}

pub(crate) fn filing_standard(row: &PgRow) -> Result<FilingStandard> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    let unit: String = row.try_get("limit_unit").map_err(db_err)?;
    let seq: i32 = row.try_get("seq").map_err(db_err)?;
    let value: i32 = row.try_get("limit_value").map_err(db_err)?;
    Ok(FilingStandard {
        kind: parse::<CategoryKind>("category kind", &kind)?,
        code: row.try_get("code").map_err(db_err)?,
        seq: u32::try_from(seq).map_err(|_| corrupt("filing standard seq", &seq.to_string()))?,
        filing_condition: row.try_get("filing_condition").map_err(db_err)?,
        limit: TimeLimit {
            value: u32::try_from(value).map_err(|_| corrupt("time limit", &value.to_string()))?,
            unit: parse::<LimitUnit>("time limit unit", &unit)?,
        },
        limit_text: row.try_get("limit_text").map_err(db_err)?,
        closure_condition: row.try_get("closure_condition").map_err(db_err)?,
        old_code: row.try_get("old_code").map_err(db_err)?,
        source: row.try_get("source").map_err(db_err)?,
    })
}

pub(crate) fn department(row: &PgRow) -> Result<Department> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    Ok(Department {
        id: row.try_get("id").map_err(db_err)?,
        code: row.try_get("code").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        kind: parse::<DepartmentKind>("department kind", &kind)?,
        region_code: row.try_get("region_code").map_err(db_err)?,
        parent_id: row.try_get("parent_id").map_err(db_err)?,
    })
}

/// Decodes the user columns `id, username, display_name, roles, region_code, department_id,
/// active, grids`.
pub(crate) fn user(row: &PgRow) -> Result<User> {
    let roles: Vec<String> = row.try_get("roles").map_err(db_err)?;
    let roles = roles
        .iter()
        .map(|r| parse::<Role>("role", r))
        .collect::<Result<Vec<_>>>()?;
    Ok(User {
        id: row.try_get("id").map_err(db_err)?,
        username: row.try_get("username").map_err(db_err)?,
        display_name: row.try_get("display_name").map_err(db_err)?,
        roles,
        scope: Scope {
            region_code: row.try_get("region_code").map_err(db_err)?,
            department_id: row.try_get("department_id").map_err(db_err)?,
        },
        active: row.try_get("active").map_err(db_err)?,
        grids: row.try_get("grids").map_err(db_err)?,
    })
}

/// Decodes the component columns with the department codes as `owner_code`/`maintainer_code`.
pub(crate) fn component(row: &PgRow) -> Result<Component> {
    let id: String = row.try_get("id").map_err(db_err)?;
    let status: String = row.try_get("status").map_err(db_err)?;
    Ok(Component {
        id: ComponentId::parse(&id).map_err(|_| corrupt("component id", &id))?,
        category_code: row.try_get("category_code").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        lng: row.try_get("lng").map_err(db_err)?,
        lat: row.try_get("lat").map_err(db_err)?,
        grid_code: row.try_get("grid_code").map_err(db_err)?,
        community_code: row.try_get("community_code").map_err(db_err)?,
        owner_department: row.try_get("owner_code").map_err(db_err)?,
        maintainer_department: row.try_get("maintainer_code").map_err(db_err)?,
        status: ComponentStatus::parse(&status)
            .map_err(|_| corrupt("component status", &status))?,
        surveyed_on: row.try_get("surveyed_on").map_err(db_err)?,
    })
}
