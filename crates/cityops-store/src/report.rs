//! 报表 (reports): the daily briefings (晨报), weekly (周报) and monthly (月报) reports the server
//! produced, kept as history. What a report says is the application's (an opaque JSON document,
//! rendered by the web crate); the store keeps one report per kind, period and scope, and lists
//! them within the caller's scope, checked in its query.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::report::{ReportKind, ReportPeriod};

use crate::{CaseVisibility, Page, PageRequest, Result};

/// What identifies a report: one per kind, period and scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReportKey {
    pub kind: ReportKind,
    pub period: ReportPeriod,
    /// The district (6-digit code) the report covers; `None` for the whole city.
    pub region_code: Option<String>,
}

/// A report to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub key: ReportKey,
    pub produced_at: DateTime<Utc>,
    /// Who asked for it; `None` when the schedule produced it.
    pub produced_by: Option<i64>,
    /// Its content, JSON.
    pub content: String,
}

/// A kept report, without its content (a line of the history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub id: i64,
    pub key: ReportKey,
    pub produced_at: DateTime<Utc>,
    pub produced_by: Option<i64>,
}

/// A kept report with its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    pub summary: ReportSummary,
    pub content: String,
}

/// Which reports a history lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub kind: Option<ReportKind>,
    /// Only the reports of this scope: `Some(None)` the city's, `Some(Some(code))` a district's.
    pub region_code: Option<Option<String>>,
    /// Only the reports of exactly this period.
    pub period: Option<ReportPeriod>,
}

/// Whether `vis` may read a report of `region_code` (`None`: the whole city's): everything for
/// `vis.all`; the city's for a caller whose region is the whole city (a 4-digit city prefix); a
/// district's for a caller whose region prefix (at most a district's 6 digits) the district's code
/// starts with. The rule [`ReportRepo::list_reports`] and [`ReportRepo::report`] apply in SQL.
pub fn report_scope_admits(vis: &CaseVisibility, region_code: Option<&str>) -> bool {
    vis.all
        || match region_code {
            None => vis.region_prefixes.iter().any(|p| p.len() <= 4),
            Some(code) => vis
                .region_prefixes
                .iter()
                .any(|p| p.len() <= 6 && code.starts_with(p.as_str())),
        }
}

/// The history of reports.
///
/// Scope: a report of the whole city is visible to a caller whose `vis.all` is set; a district's
/// report to a caller who sees everything or whose region prefixes hold the district's code.
#[async_trait]
pub trait ReportRepo: Send + Sync {
    /// Keeps a report unless one with the same key is kept already (then nothing is written and
    /// `None` is answered: two servers producing the same report keep one). `Invalid` for a
    /// period that does not end after it starts, a region code that is not 6 digits, content
    /// that is not JSON or an unknown `produced_by`.
    async fn save_report(&self, report: &NewReport) -> Result<Option<ReportSummary>>;

    /// The keys of the reports kept whose period ends on or after `since`: what the schedule
    /// does not produce again.
    async fn report_keys_since(&self, since: NaiveDate) -> Result<Vec<ReportKey>>;

    /// The reports `vis` may read, newest period first (then monthly, weekly, daily; the city's
    /// before the districts' by code).
    async fn list_reports(
        &self,
        filter: &ReportFilter,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<ReportSummary>>;

    /// One report with its content, if `vis` may read it.
    async fn report(&self, id: i64, vis: &CaseVisibility) -> Result<Option<StoredReport>>;
}
