//! `EvaluationRepo`, written once for both stores: a period's cases with their evaluation
//! records (one statement through `cases_created_at`), and a drill-down page of cases by id.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cityops_domain::evaluation::{EvalCase, EvalRecord};
use cityops_store::{
    Case, CaseSource, CaseStatus, CaseVisibility, DayFingerprint, MAX_FINGERPRINT_DAYS, Result,
    StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::cases::{CASE_SELECT, case, push_visibility};
use crate::dashboard::FigureSql;
use crate::{Cols, Dialect, parse};

/// The most ids one drill-down page may ask for.
pub const MAX_IDS: usize = 1000;

/// The visible cases reported in `[from, to)`, by report time then id.
pub async fn evaluation_cases<D: FigureSql>(
    pool: &Pool<D>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    vis: &CaseVisibility,
) -> Result<Vec<EvalCase>> {
    if from > to {
        return Err(StoreError::Invalid(
            "evaluation period: it ends before it starts".into(),
        ));
    }
    let mut q = QueryBuilder::<D>::new(
        "SELECT c.id, c.code, c.created_at, c.source, c.status, c.category_code, c.grid_code, \
         c.community_code, c.street_code, c.district_code, c.department_id, c.reporter_id, \
         c.facts",
    );
    // Through the report-time range even for a scoped viewer (SQLite would prefer the region's).
    D::push_cases_by(&mut q, "cases_created_at");
    q.push(" WHERE c.created_at >= ");
    D::push_ts(&mut q, from);
    q.push(" AND c.created_at < ");
    D::push_ts(&mut q, to);
    push_visibility(&mut q, vis);
    q.push(" ORDER BY c.created_at, c.id");
    let rows = D::fetch_all(pool, q.build()).await?;
    rows.iter()
        .map(|row| {
            let r = Cols::<D>(row);
            let source: String = r.get("source")?;
            let status: String = r.get("status")?;
            let facts: String = r.get("facts")?;
            let rec: EvalRecord = serde_json::from_str(&facts)
                .map_err(|e| StoreError::Database(format!("unreadable evaluation record: {e}")))?;
            Ok(EvalCase {
                id: r.get("id")?,
                code: r.get("code")?,
                created_at: D::ts(row, "created_at")?.timestamp(),
                source: parse::<CaseSource>("case source", &source)?,
                status: parse::<CaseStatus>("case status", &status)?,
                category_code: r.get("category_code")?,
                grid_code: r.get("grid_code")?,
                community_code: r.get("community_code")?,
                street_code: r.get("street_code")?,
                district_code: r.get("district_code")?,
                department_id: r.get("department_id")?,
                reporter_id: r.get("reporter_id")?,
                rec,
            })
        })
        .collect()
}

/// `EvaluationRepo::evaluation_fingerprints`: one statement, a `UNION ALL` of one aggregate per
/// day over its range of `cases_eval_fingerprint` (an index that holds every column read and the
/// usual visibility filters: no row lookups, no sort). A `GROUP BY` over a day expression would
/// sort the period's cases, and a join to a list of days lets SQLite's planner scan every case
/// per day under a region's visibility.
pub async fn evaluation_fingerprints<D: FigureSql>(
    pool: &Pool<D>,
    bounds: &[DateTime<Utc>],
    vis: &CaseVisibility,
) -> Result<Vec<DayFingerprint>> {
    if bounds.len() < 2 || bounds.len() > MAX_FINGERPRINT_DAYS + 1 {
        return Err(StoreError::Invalid(format!(
            "fingerprints of 1 to {MAX_FINGERPRINT_DAYS} days ({} bounds given)",
            bounds.len()
        )));
    }
    if bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(StoreError::Invalid(
            "fingerprint day bounds must ascend".into(),
        ));
    }
    let days = bounds.len() - 1;
    let mut q = QueryBuilder::<D>::new("");
    for (i, w) in bounds.windows(2).enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push(format_args!(
            "SELECT CAST({i} AS BIGINT) AS i, count(*) AS n, \
             CAST(coalesce(sum(c.version), 0) AS BIGINT) AS v, max(c.updated_at) AS u"
        ));
        D::push_cases_by(&mut q, "cases_eval_fingerprint");
        q.push(" WHERE c.created_at >= ");
        D::push_ts(&mut q, w[0]);
        q.push(" AND c.created_at < ");
        D::push_ts(&mut q, w[1]);
        push_visibility(&mut q, vis);
    }
    let mut out = vec![
        DayFingerprint {
            cases: 0,
            version_sum: 0,
            last_write: None,
        };
        days
    ];
    for row in D::fetch_all(pool, q.build().persistent(false)).await? {
        let r = Cols::<D>(&row);
        let i: i64 = r.get("i")?;
        let n: i64 = r.get("n")?;
        let day = out
            .get_mut(usize::try_from(i).unwrap_or(usize::MAX))
            .ok_or_else(|| StoreError::Database(format!("fingerprint of day {i} of {days}")))?;
        *day = DayFingerprint {
            cases: n as u64,
            version_sum: r.get("v")?,
            last_write: D::opt_ts(&row, "u")?,
        };
    }
    Ok(out)
}

/// The visible cases among `ids`, in the order of `ids`.
pub async fn cases_by_ids<D: Dialect>(
    pool: &Pool<D>,
    ids: &[i64],
    vis: &CaseVisibility,
) -> Result<Vec<Case>> {
    if ids.len() > MAX_IDS {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_IDS} cases at once ({} asked)",
            ids.len()
        )));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<D>::new(CASE_SELECT);
    q.push(" WHERE ");
    D::push_in_ids(&mut q, "c.id", ids);
    push_visibility(&mut q, vis);
    let rows = D::fetch_all(pool, q.build()).await?;
    let mut by_id: HashMap<i64, Case> = rows
        .iter()
        .map(|row| case::<D>(row).map(|c| (c.id, c)))
        .collect::<Result<_>>()?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Implements `EvaluationRepo` for a store type, reading from the pool field `$read`. Expanded
/// once in each store crate.
#[macro_export]
macro_rules! shared_evaluation_repo {
    ($store:ty, read: $read:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::EvaluationRepo for $store {
            async fn evaluation_cases(
                &self,
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Vec<::cityops_domain::evaluation::EvalCase>> {
                $crate::evaluation::evaluation_cases(&self.$read, from, to, vis).await
            }

            async fn evaluation_fingerprints(
                &self,
                bounds: &[::chrono::DateTime<::chrono::Utc>],
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Vec<::cityops_store::DayFingerprint>> {
                $crate::evaluation::evaluation_fingerprints(&self.$read, bounds, vis).await
            }

            async fn cases_by_ids(
                &self,
                ids: &[i64],
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Vec<::cityops_store::Case>> {
                $crate::evaluation::cases_by_ids(&self.$read, ids, vis).await
            }
        }
    };
}
