//! `ReportRepo`, written once for both stores: the kept reports (报表历史), one per kind, period
//! and scope. Dates are `YYYY-MM-DD` text in both stores (text order = date order); the city's
//! scope is the empty region code, so the uniqueness of a key is one plain `UNIQUE` constraint.
use chrono::NaiveDate;
use cityops_store::{
    CaseVisibility, NewReport, Page, PageRequest, ReportFilter, ReportKey, ReportPeriod,
    ReportSummary, Result, StoreError, StoredReport,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, corrupt, push_prefix};

const SUMMARY_COLUMNS: &str =
    "r.id, r.kind, r.period_from, r.period_to, r.region_code, r.produced_at, r.produced_by";

fn date(r: &str) -> Result<NaiveDate> {
    r.parse().map_err(|_| corrupt("report date", r))
}

fn summary<D: Dialect>(row: &D::Row) -> Result<ReportSummary> {
    let r = Cols::<D>(row);
    let kind: String = r.get("kind")?;
    let region: String = r.get("region_code")?;
    Ok(ReportSummary {
        id: r.get("id")?,
        key: ReportKey {
            kind: kind.parse().map_err(|_| corrupt("report kind", &kind))?,
            period: ReportPeriod {
                from: date(&r.get::<String>("period_from")?)?,
                to: date(&r.get::<String>("period_to")?)?,
            },
            region_code: (!region.is_empty()).then_some(region),
        },
        produced_at: D::ts(row, "produced_at")?,
        produced_by: r.get("produced_by")?,
    })
}

/// `AND <vis may read the report r>`: everything for `vis.all`; the city's reports for a caller
/// whose region is the whole city (a city prefix of 4 digits); a district's report for a caller
/// whose region prefix the district's code starts with (a street's prefix covers none) — in SQL
/// what [`cityops_store::report_scope_admits`] says.
fn push_scope<D: Dialect>(q: &mut QueryBuilder<D>, vis: &CaseVisibility) {
    if vis.all {
        return;
    }
    let city = vis.region_prefixes.iter().any(|p| p.len() <= 4);
    let districts: Vec<&String> = vis
        .region_prefixes
        .iter()
        .filter(|p| p.len() <= 6)
        .collect();
    if !city && districts.is_empty() {
        q.push(" AND 1 = 0");
        return;
    }
    q.push(" AND (");
    if city {
        q.push("r.region_code = ''");
    }
    for (i, p) in districts.iter().enumerate() {
        if city || i > 0 {
            q.push(" OR ");
        }
        q.push("(r.region_code <> '' AND ");
        push_prefix(q, "r.region_code", p);
        q.push(")");
    }
    q.push(")");
}

/// `ReportRepo::save_report`.
pub async fn save_report<D: Dialect>(
    pool: &Pool<D>,
    report: &NewReport,
) -> Result<Option<ReportSummary>> {
    let key = &report.key;
    if key.period.from >= key.period.to {
        return Err(StoreError::Invalid(
            "a report's period must end after it starts".into(),
        ));
    }
    if let Some(code) = &key.region_code
        && (code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(StoreError::Invalid(format!(
            "a report's region is a district's 6-digit code, not {code:?}"
        )));
    }
    if serde_json::from_str::<serde_json::Value>(&report.content).is_err() {
        return Err(StoreError::Invalid(
            "a report's content must be JSON".into(),
        ));
    }
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO reports (kind, period_from, period_to, region_code, produced_at, \
         produced_by, content) VALUES (",
    );
    q.bind(key.kind.as_str().to_string())
        .push(", ")
        .bind(key.period.from.to_string())
        .push(", ")
        .bind(key.period.to.to_string())
        .push(", ")
        .bind(key.region_code.clone().unwrap_or_default())
        .push(", ");
    D::push_ts(&mut q, report.produced_at);
    q.push(", ")
        .bind(report.produced_by)
        .push(", ")
        .bind(report.content.clone())
        .push(") ON CONFLICT (kind, period_from, period_to, region_code) DO NOTHING RETURNING ")
        .push(SUMMARY_COLUMNS.replace("r.", ""));
    let row = D::fetch_optional(pool, q.build()).await?;
    row.as_ref().map(summary::<D>).transpose()
}

/// `ReportRepo::report_keys_since`.
pub async fn report_keys_since<D: Dialect>(
    pool: &Pool<D>,
    since: NaiveDate,
) -> Result<Vec<ReportKey>> {
    let mut q = QueryBuilder::<D>::new("SELECT ");
    q.push(SUMMARY_COLUMNS)
        .push(" FROM reports r WHERE r.period_to >= ")
        .bind(since.to_string())
        .push(" ORDER BY r.period_to, r.id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| summary::<D>(row).map(|s| s.key))
        .collect()
}

/// `ReportRepo::list_reports`.
pub async fn list_reports<D: Dialect>(
    pool: &Pool<D>,
    filter: &ReportFilter,
    vis: &CaseVisibility,
    page: PageRequest,
) -> Result<Page<ReportSummary>> {
    const FROM: &str = "FROM reports r";
    let select = format!("SELECT {SUMMARY_COLUMNS} {FROM}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(kind) = filter.kind {
            q.push(" AND r.kind = ").bind(kind.as_str().to_string());
        }
        if let Some(region) = &filter.region_code {
            q.push(" AND r.region_code = ")
                .bind(region.clone().unwrap_or_default());
        }
        if let Some(period) = filter.period {
            q.push(" AND r.period_from = ")
                .bind(period.from.to_string())
                .push(" AND r.period_to = ")
                .bind(period.to.to_string());
        }
        push_scope(q, vis);
    };
    paged(
        pool,
        &select,
        FROM,
        filters,
        " ORDER BY r.period_to DESC, CASE r.kind WHEN 'monthly' THEN 0 WHEN 'weekly' THEN 1 \
         ELSE 2 END, r.region_code, r.id",
        page,
        summary::<D>,
    )
    .await
}

/// `ReportRepo::report`.
pub async fn report<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    vis: &CaseVisibility,
) -> Result<Option<StoredReport>> {
    let mut q = QueryBuilder::<D>::new("SELECT ");
    q.push(SUMMARY_COLUMNS)
        .push(", r.content FROM reports r WHERE r.id = ")
        .bind(id);
    push_scope(&mut q, vis);
    let Some(row) = D::fetch_optional(pool, q.build()).await? else {
        return Ok(None);
    };
    Ok(Some(StoredReport {
        summary: summary::<D>(&row)?,
        content: Cols::<D>(&row).get("content")?,
    }))
}

/// Implements `ReportRepo` for a store type: reads from the pool field `$read`, writes through
/// `$write`. Expanded once in each store crate.
#[macro_export]
macro_rules! shared_report_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::ReportRepo for $store {
            async fn save_report(
                &self,
                report: &::cityops_store::NewReport,
            ) -> ::cityops_store::Result<Option<::cityops_store::ReportSummary>> {
                $crate::report::save_report(&self.$write, report).await
            }

            async fn report_keys_since(
                &self,
                since: ::chrono::NaiveDate,
            ) -> ::cityops_store::Result<Vec<::cityops_store::ReportKey>> {
                $crate::report::report_keys_since(&self.$read, since).await
            }

            async fn list_reports(
                &self,
                filter: &::cityops_store::ReportFilter,
                vis: &::cityops_store::CaseVisibility,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::ReportSummary>>
            {
                $crate::report::list_reports(&self.$read, filter, vis, page).await
            }

            async fn report(
                &self,
                id: i64,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<Option<::cityops_store::StoredReport>> {
                $crate::report::report(&self.$read, id, vis).await
            }
        }
    };
}
