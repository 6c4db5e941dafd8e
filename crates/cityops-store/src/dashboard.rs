//! The storage contract of the command centre's figures (指挥中心/领导大屏): what a big screen
//! shows, counted by the store within the caller's [`CaseVisibility`] (never after loading).
//!
//! The store knows no time zone: the caller (the application layer, which holds the working
//! calendar's zone) passes the instants at which each local day starts.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{Case, CaseQuery, CaseStatus, CaseVisibility, CategoryKind, Light, Result, StoreError};

/// What [`DashboardRepo::dashboard`] counts.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardQuery {
    /// The window (统计区间) of the breakdowns and rates: cases reported at or after `from` and
    /// before `to`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The local days of the trend (近N日), oldest first; the last one is "today" (今日).
    pub days: Vec<NaiveDate>,
    /// Where each day starts, plus where the last one ends: `days.len() + 1` instants, ascending.
    pub day_bounds: Vec<DateTime<Utc>>,
    /// "Now": an open case whose running stage was due before it is overdue (超时).
    pub now: DateTime<Utc>,
    /// How many overdue open cases to list (most overdue first).
    pub overdue_limit: u32,
}

impl DashboardQuery {
    /// `Invalid` unless there is at least one day, one bound more than days, ascending bounds and
    /// `from <= to`.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(StoreError::Invalid(format!("dashboard query: {m}")));
        if self.days.is_empty() || self.days.len() > 366 {
            return bad("between 1 and 366 days");
        }
        if self.day_bounds.len() != self.days.len() + 1 {
            return bad("one day bound more than days");
        }
        if self.day_bounds.windows(2).any(|w| w[0] >= w[1]) {
            return bad("day bounds must ascend");
        }
        if self.from > self.to {
            return bad("the window ends before it starts");
        }
        Ok(())
    }

    /// Start and end of "today" (the last day).
    pub fn today(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let n = self.day_bounds.len();
        (self.day_bounds[n - 2], self.day_bounds[n - 1])
    }
}

/// A count under a key (a category, class, district or source code; `None` = not located or
/// without a category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: Option<String>,
    pub count: u64,
}

/// A count of a category (or a class: the 2-digit code) of one catalogue: the codes of the
/// component (部件) and matter (事件) catalogues overlap, so the kind is part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCount {
    pub kind: Option<CategoryKind>,
    pub code: Option<String>,
    pub count: u64,
}

/// One day of the trend: cases reported (上报) that day and cases closed (结案) that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub reported: u64,
    pub closed: u64,
}

/// Today's figures (今日): cases reported, and cases filed (立案), dispatched (派遣) and closed
/// (结案) today — each case counted once per kind, from the events of its stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodayCounts {
    pub reported: u64,
    pub filed: u64,
    pub dispatched: u64,
    pub closed: u64,
}

/// The figures of a window, for the command centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Cases reported in the window.
    pub reported: u64,
    /// Of those, closed (已结案) …
    pub closed: u64,
    /// … closed without any stage running over (按期结案) …
    pub closed_on_time: u64,
    /// … and cancelled (作废/不予立案/合并).
    pub cancelled: u64,
    /// By kind and 5-digit category, most first (ties by kind and code).
    pub by_category: Vec<CategoryCount>,
    /// By kind and 2-digit class (大类), most first (ties by kind and code).
    pub by_class: Vec<CategoryCount>,
    /// By district code, most first (ties by code).
    pub by_district: Vec<KeyCount>,
    /// By source (`inspector`, `citizen` …), most first (ties by name).
    pub by_source: Vec<KeyCount>,
    /// One entry per day of the query, oldest first.
    pub daily: Vec<DayCount>,
    pub today: TodayCounts,
    /// Every open case whose running stage is past due at `now` (not only the window's).
    pub overdue_total: u64,
    /// The `overdue_limit` most overdue of them, the longest overdue first (ties by id).
    pub overdue: Vec<Case>,
}

impl Dashboard {
    /// 结案率: closed cases among the window's cases that were not cancelled; `None` when there
    /// are none.
    pub fn closure_rate(&self) -> Option<f64> {
        let base = self.reported.saturating_sub(self.cancelled);
        (base > 0).then(|| self.closed as f64 / base as f64)
    }

    /// 按期结案率: closed cases that ran over no stage limit, among the closed; `None` when
    /// none closed.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.closed_on_time as f64 / self.closed as f64)
    }
}

/// How much of the map's case layer to send for a view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaseMapDetail {
    /// Counts per square cell of `size` degrees (zoomed out: a city holds tens of thousands of
    /// cases; a view gets at most a few hundred cells).
    Cells { size: f64 },
    /// The cases themselves, at most `limit` (newest first).
    Points { limit: u32 },
}

/// A cell of the map's case layer: where its cases are (their mean point) and their lights at
/// the query's `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseCell {
    pub lng: f64,
    pub lat: f64,
    pub count: u64,
    pub red: u64,
    pub yellow: u64,
}

/// A case on the map: no personal data, only what the marker and its popup show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasePoint {
    pub id: i64,
    pub code: String,
    pub lng: f64,
    pub lat: f64,
    pub status: CaseStatus,
    /// The running stage's light at the query's `now` (green for closed cases).
    pub light: Light,
    pub category_code: Option<String>,
}

/// The case layer of one view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseMap {
    /// How many cases match (in the view, with the filters).
    pub total: u64,
    pub cells: Vec<CaseCell>,
    pub points: Vec<CasePoint>,
}

/// The command centre's figures.
#[async_trait]
pub trait DashboardRepo: Send + Sync {
    /// Counts what [`Dashboard`] holds for `query`, over the cases `vis` admits. `Invalid` for a
    /// malformed query ([`DashboardQuery::validate`]).
    async fn dashboard(&self, query: &DashboardQuery, vis: &CaseVisibility) -> Result<Dashboard>;

    /// The map's case layer: the cases of `query` (its `bbox` is required: only the view is
    /// sent) that `vis` admits, as cells or points. Cells are ordered by (row, column) of the
    /// grid anchored at the box's south-west corner; points newest first. `Invalid` without a
    /// box, with a cell size that is not positive or a limit of 0 or above 5,000.
    async fn case_map(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        detail: CaseMapDetail,
    ) -> Result<CaseMap>;
}
