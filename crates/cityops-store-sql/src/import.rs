//! What the two `apply_import` write paths share: the department references of a batch,
//! resolved by code before anything but the departments is written.
use std::collections::HashMap;

use cityops_store::{ImportBatch, ImportSummary, Result, StoreError};

use crate::{Cols, Dialect};

/// Every department code in the database with its id (read inside the import's transaction,
/// after the batch's departments are upserted).
pub async fn department_ids<D: Dialect>(conn: &mut D::Connection) -> Result<HashMap<String, i64>> {
    D::fetch_all_on(conn, sqlx::query("SELECT code, id FROM departments"))
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            Ok((r.get("code")?, r.get("id")?))
        })
        .collect()
}

/// The department ids a batch refers to, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRefs {
    /// The parent of each of `batch.departments`.
    pub parents: Vec<Option<i64>>,
    /// The department of each of `batch.users`.
    pub users: Vec<Option<i64>>,
    /// The (owner, maintainer) of each of `batch.components`.
    pub components: Vec<(Option<i64>, Option<i64>)>,
}

/// Looks up a department code in `ids`, or names the row that refers to an unknown one.
fn resolve(
    ids: &HashMap<String, i64>,
    code: Option<&str>,
    referrer: impl FnOnce() -> String,
) -> Result<Option<i64>> {
    match code {
        None => Ok(None),
        Some(c) => ids.get(c).copied().map(Some).ok_or_else(|| {
            StoreError::Invalid(format!("{}: unknown department code {c:?}", referrer()))
        }),
    }
}

/// Resolves every department reference of `batch` against `ids`; `Invalid` naming the first
/// row that refers to an unknown code.
pub fn resolve_departments(
    batch: &ImportBatch,
    ids: &HashMap<String, i64>,
) -> Result<DepartmentRefs> {
    let parents = batch
        .departments
        .iter()
        .map(|d| {
            resolve(ids, d.parent_code.as_deref(), || {
                format!("department {}", d.code)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let users = batch
        .users
        .iter()
        .map(|u| {
            resolve(ids, u.department_code.as_deref(), || {
                format!("user {}", u.username)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let components = batch
        .components
        .iter()
        .map(|c| {
            let owner = resolve(ids, c.owner_department.as_deref(), || {
                format!("component {} (owner)", c.id.as_str())
            })?;
            let maintainer = resolve(ids, c.maintainer_department.as_deref(), || {
                format!("component {} (maintainer)", c.id.as_str())
            })?;
            Ok((owner, maintainer))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DepartmentRefs {
        parents,
        users,
        components,
    })
}

/// What a committed import wrote (logged with its duration since `started`).
pub fn committed(batch: &ImportBatch, started: std::time::Instant) -> ImportSummary {
    tracing::debug!(
        regions = batch.regions.len(),
        components = batch.components.len(),
        ms = started.elapsed().as_millis() as u64,
        "import committed"
    );
    let n = |len: usize| len as u64;
    ImportSummary {
        regions: n(batch.regions.len()),
        categories: n(batch.categories.len()),
        filing_standards: n(batch.filing_standards.len()),
        departments: n(batch.departments.len()),
        users: n(batch.users.len()),
        components: n(batch.components.len()),
    }
}
