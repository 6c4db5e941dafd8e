//! `ExportRepo`, written once for both stores: keyset pages of a case list query (one statement
//! per page, resuming after the last case's sort key and id, so page 100 costs what page 1
//! costs — the list's `OFFSET` would walk every earlier row again), and the contact access log of
//! a whole export as one `INSERT … SELECT … RETURNING`.
use cityops_store::{
    CaseCursor, CasePage, CaseQuery, CaseSort, CaseVisibility, ContactExport, Result, StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::cases::{CASE_COLUMNS, case, order_by, planned, push_filters, push_visibility};
use crate::{Cols, Dialect, QueryBuilderExt};

/// The most cases one export page may hold.
pub const MAX_EXPORT_PAGE: u32 = 5_000;

/// The column a sort orders by (before the id that breaks ties).
fn sort_column(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::CreatedDesc | CaseSort::CreatedAsc => "c.created_at",
        CaseSort::DueAsc => "c.stage_due",
        CaseSort::UpdatedDesc => "c.updated_at",
    }
}

/// `AND <the case comes after the cursor in the sort's order>` ([`order_by`]: descending or
/// ascending by the key, then by id the same way; by due time ascending with the cases without
/// a running clock last).
fn push_after<D: Dialect>(q: &mut QueryBuilder<D>, sort: CaseSort, after: CaseCursor) {
    let col = sort_column(sort);
    let (cmp, id_cmp) = match sort {
        CaseSort::CreatedDesc | CaseSort::UpdatedDesc => ("<", "<"),
        CaseSort::CreatedAsc | CaseSort::DueAsc => (">", ">"),
    };
    match (sort, after.key) {
        (CaseSort::DueAsc, None) => {
            q.push(" AND c.stage_due IS NULL AND c.id > ")
                .bind(after.id);
        }
        (_, Some(key)) => {
            q.push(format_args!(" AND ({col} {cmp} "));
            D::push_ts(q, key);
            q.push(format_args!(" OR ({col} = "));
            D::push_ts(q, key);
            q.push(format_args!(" AND c.id {id_cmp} "))
                .bind(after.id)
                .push(")");
            if sort == CaseSort::DueAsc {
                q.push(" OR c.stage_due IS NULL");
            }
            q.push(")");
        }
        // Creation and update times are never NULL: a cursor without a key cannot come from
        // these sorts; it resumes after the id alone, in the sort's id direction.
        (_, None) => {
            q.push(format_args!(" AND c.id {id_cmp} ")).bind(after.id);
        }
    }
}

/// `ExportRepo::export_cases`.
///
/// The text filter (`q`) never drives an export's plan: the pages walk the sort's order and the
/// text index only filters (`driving = false`), so the whole export reads each row once and
/// every page is one statement (the list instead counts the index's matches first to choose).
pub async fn export_cases<D: Dialect>(
    pool: &Pool<D>,
    query: &CaseQuery,
    vis: &CaseVisibility,
    after: Option<CaseCursor>,
    limit: u32,
) -> Result<CasePage> {
    crate::cases::validate_query(query)?;
    if !(1..=MAX_EXPORT_PAGE).contains(&limit) {
        return Err(StoreError::Invalid(format!(
            "an export page holds 1 to {MAX_EXPORT_PAGE} cases ({limit} asked)"
        )));
    }
    let planned = planned(query);
    let mut q = QueryBuilder::<D>::new("SELECT ");
    q.push(CASE_COLUMNS).push(format_args!(
        ", {} AS sort_key FROM cases c WHERE 1 = 1",
        sort_column(query.sort)
    ));
    push_filters(&mut q, &planned, false);
    push_visibility(&mut q, vis);
    if let Some(after) = after {
        push_after(&mut q, query.sort, after);
    }
    q.push(order_by(query.sort))
        .push(" LIMIT ")
        .bind(i64::from(limit));
    let rows = D::fetch_all(pool, q.build().persistent(query.text.is_none())).await?;
    let mut cases = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in &rows {
        let c = case::<D>(row)?;
        last = Some(CaseCursor {
            key: D::opt_ts(row, "sort_key")?,
            id: c.id,
        });
        cases.push(c);
    }
    let next = if cases.len() == limit as usize {
        last
    } else {
        None
    };
    Ok(CasePage { cases, next })
}

/// `ExportRepo::log_contacts_matching`: one `INSERT … SELECT` over the query's cases, returning
/// the logged case ids.
pub async fn log_contacts_matching<D: Dialect>(
    pool: &Pool<D>,
    query: &CaseQuery,
    vis: &CaseVisibility,
    who: ContactExport,
) -> Result<Vec<i64>> {
    crate::cases::validate_query(query)?;
    let planned = planned(query);
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO contact_access_log (at, user_id, case_id, via) SELECT ",
    );
    D::push_ts(&mut q, who.at);
    q.push(", ")
        .bind(who.user_id)
        .push(", c.id, ")
        .bind(who.via.as_str())
        .push(" FROM cases c WHERE 1 = 1");
    push_filters(&mut q, &planned, false);
    push_visibility(&mut q, vis);
    q.push(" AND ");
    D::push_doc_field(&mut q, "contact");
    q.push(" IS NOT NULL AND (c.reporter_id IS NULL OR c.reporter_id <> ")
        .bind(who.user_id)
        .push(") RETURNING case_id");
    D::fetch_all(pool, q.build().persistent(false))
        .await?
        .iter()
        .map(|row| Cols::<D>(row).get("case_id"))
        .collect()
}

/// Implements `ExportRepo` for a store type: pages from the pool field `$read`, the log through
/// `$write`. Expanded once in each store crate.
#[macro_export]
macro_rules! shared_export_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::ExportRepo for $store {
            async fn export_cases(
                &self,
                query: &::cityops_store::CaseQuery,
                vis: &::cityops_store::CaseVisibility,
                after: Option<::cityops_store::CaseCursor>,
                limit: u32,
            ) -> ::cityops_store::Result<::cityops_store::CasePage> {
                $crate::export::export_cases(&self.$read, query, vis, after, limit).await
            }

            async fn log_contacts_matching(
                &self,
                query: &::cityops_store::CaseQuery,
                vis: &::cityops_store::CaseVisibility,
                who: ::cityops_store::ContactExport,
            ) -> ::cityops_store::Result<Vec<i64>> {
                $crate::export::log_contacts_matching(&self.$write, query, vis, who).await
            }
        }
    };
}
