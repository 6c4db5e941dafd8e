//! The storage contract of the case export (案件导出): the cases of a list query read in keyset
//! pages (one statement per page, however deep the export goes — no `OFFSET` walk), and the
//! contact access log of a whole export written in one statement.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Case, CaseQuery, CaseVisibility, ContactAccessVia, Result};

/// Where the next page of an export starts: the sort key and id of the last case read. The key
/// is the column the query's sort orders by — `created_at`, `updated_at`, or the running
/// stage's due time (`None` for a case without one, which sorts last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCursor {
    pub key: Option<DateTime<Utc>>,
    pub id: i64,
}

/// One page of an export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    /// Where the next page starts; `None` when this page was the last (fewer cases than asked).
    pub next: Option<CaseCursor>,
}

/// Who exports and how the full views of contacts are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactExport {
    pub user_id: i64,
    pub at: DateTime<Utc>,
    pub via: ContactAccessVia,
}

/// Reads for exports.
#[async_trait]
pub trait ExportRepo: Send + Sync {
    /// Up to `limit` (1–5,000) visible cases matching `query`, in the order of its sort (ties
    /// by id, as the list), after `after` (from the first case when `None`). One statement.
    async fn export_cases(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        after: Option<CaseCursor>,
        limit: u32,
    ) -> Result<CasePage>;

    /// Writes one contact access entry (`who.at`, `who.user_id`, the case, `who.via`) for every
    /// visible case matching `query` that carries a reporter's contact and was not reported by
    /// `who.user_id` (the reporter's own view is not logged), in ONE statement; returns the
    /// logged case ids. The caller shows in full only the contacts of these cases.
    async fn log_contacts_matching(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        who: ContactExport,
    ) -> Result<Vec<i64>>;
}
