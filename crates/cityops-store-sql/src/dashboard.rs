//! `DashboardRepo`: the command centre's figures (领导大屏), written once for both stores.
//!
//! Five statements, each answered by an index within the window (`cases_created_at`; the
//! events' `case_events_action_at` of migration 0010; the partial `cases_stage_due`), with the
//! caller's visibility as the same WHERE clause every case read uses ([`push_visibility`]):
//!
//! 1. the window's cases by source, with their closed / on-time / cancelled sums (the totals and
//!    rates are the sums of these rows);
//! 2. the window's cases by category (the classes are the sums of their categories' rows);
//! 3. the window's cases by district;
//! 4. the trend's days: one `CASE` over the day bounds numbers each case's day (bound values, no
//!    time zone arithmetic in SQL, so both dialects count the same local days), and the stage
//!    events (立案 `file`, 派遣 `dispatch`, 结案 `close`) likewise, each case once per day and kind;
//! 5. the overdue open cases: their count and the most overdue, by the running stage's due time.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cityops_store::{
    CaseCell, CaseMap, CaseMapDetail, CasePoint, CaseQuery, CaseVisibility, CategoryCount,
    CategoryKind, Dashboard, DashboardQuery, DayCount, KeyCount, Result, StoreError, TodayCounts,
};
use sqlx::{Pool, QueryBuilder};

use crate::cases::{
    CASE_COLUMNS, case, push_filters, push_visibility, text_drives, validate_query,
};
use crate::{Cols, Dialect, QueryBuilderExt, parse};

/// The index of the window's statements (reports by time).
const BY_TIME: &str = "cases_created_at";
/// The index of the map's single cases (a small box).
const BY_POINT: &str = "cases_lng_lat";
/// The index of the overdue statements (the running stages' due times).
const BY_DUE: &str = "cases_stage_due";
/// No index: a plain scan of the table (see `FigureSql::push_cases_by`).
const BY_SCAN: &str = "";

/// How the zoomed-out map reads its cases when only the box, the scope and a time window filter them:
/// a box over the whole city selects most cases, so reading them through the point (or the scope's
/// region) index costs a lookup per case — on the demo city (73k cases) 120–290 ms on SQLite, against
/// 4 ms through the time index for a 30-day window and 30 ms for a plain scan of all of them.
/// Other filters (status, text …) leave the choice to the planner.
fn cells_source(query: &CaseQuery) -> Option<&'static str> {
    if query.text.is_some() || !query.statuses.is_empty() {
        return None;
    }
    Some(if query.from.is_some() {
        BY_TIME
    } else {
        BY_SCAN
    })
}

/// `AND c.created_at >= from AND c.created_at < to`.
fn push_window<D: Dialect>(
    q: &mut QueryBuilder<D>,
    column: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) {
    q.push(format_args!(" AND {column} >= "));
    D::push_ts(q, from);
    q.push(format_args!(" AND {column} < "));
    D::push_ts(q, to);
}

/// `CASE WHEN <column> < b1 THEN 0 WHEN <column> < b2 THEN 1 … END`: the index of the day a
/// time falls on (the caller bounds the column to `[b0, bN)`).
fn push_day_index<D: Dialect>(q: &mut QueryBuilder<D>, column: &str, bounds: &[DateTime<Utc>]) {
    q.push("CASE");
    for (i, b) in bounds.iter().skip(1).enumerate() {
        q.push(format_args!(" WHEN {column} < "));
        D::push_ts(q, *b);
        q.push(format_args!(" THEN CAST({i} AS BIGINT)"));
    }
    q.push(" END");
}

fn count(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// Most first, then by key (a total order: both stores list alike).
fn ranked(map: BTreeMap<Option<String>, u64>) -> Vec<KeyCount> {
    let mut v: Vec<KeyCount> = map
        .into_iter()
        .map(|(key, count)| KeyCount { key, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    v
}

/// Most first, then by kind and code.
fn ranked_categories(
    map: BTreeMap<(Option<CategoryKind>, Option<String>), u64>,
) -> Vec<CategoryCount> {
    let mut v: Vec<CategoryCount> = map
        .into_iter()
        .map(|((kind, code), count)| CategoryCount { kind, code, count })
        .collect();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.code.cmp(&b.code))
    });
    v
}

/// Runs a `key, n` grouping over the window's visible cases.
async fn grouped<D: FigureSql>(
    pool: &Pool<D>,
    query: &DashboardQuery,
    vis: &CaseVisibility,
    column: &str,
) -> Result<BTreeMap<Option<String>, u64>> {
    let mut q = QueryBuilder::<D>::new(format!("SELECT {column} AS k, count(*) AS n"));
    D::push_cases_by(&mut q, BY_TIME);
    q.push(" WHERE 1 = 1");
    push_window(&mut q, "c.created_at", query.from, query.to);
    push_visibility(&mut q, vis);
    q.push(format_args!(" GROUP BY {column}"));
    let mut out = BTreeMap::new();
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        out.insert(r.get::<Option<String>>("k")?, count(r.get("n")?));
    }
    Ok(out)
}

/// `DashboardRepo::dashboard`.
pub async fn dashboard<D: FigureSql>(
    pool: &Pool<D>,
    query: &DashboardQuery,
    vis: &CaseVisibility,
) -> Result<Dashboard> {
    query.validate()?;

    // 1. By source, with the closed, on-time and cancelled sums.
    let mut q = QueryBuilder::<D>::new(
        "SELECT c.source AS k, count(*) AS n, \
         sum(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS closed, \
         sum(CASE WHEN c.status = 'closed' AND NOT c.overdue THEN 1 ELSE 0 END) AS on_time, \
         sum(CASE WHEN c.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled",
    );
    D::push_cases_by(&mut q, BY_TIME);
    q.push(" WHERE 1 = 1");
    push_window(&mut q, "c.created_at", query.from, query.to);
    push_visibility(&mut q, vis);
    q.push(" GROUP BY c.source");
    let (mut reported, mut closed, mut closed_on_time, mut cancelled) = (0, 0, 0, 0);
    let mut by_source = BTreeMap::new();
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        let n = count(r.get("n")?);
        reported += n;
        closed += count(r.get("closed")?);
        closed_on_time += count(r.get("on_time")?);
        cancelled += count(r.get("cancelled")?);
        by_source.insert(r.get::<Option<String>>("k")?, n);
    }

    // 2., 3. By category (and class), by district.
    let mut q = QueryBuilder::<D>::new("SELECT ");
    D::push_category_kind(&mut q);
    q.push(" AS kind, c.category_code AS k, count(*) AS n");
    D::push_cases_by(&mut q, BY_TIME);
    q.push(" WHERE 1 = 1");
    push_window(&mut q, "c.created_at", query.from, query.to);
    push_visibility(&mut q, vis);
    q.push(" GROUP BY 1, 2");
    type Key = (Option<CategoryKind>, Option<String>);
    let mut categories: BTreeMap<Key, u64> = BTreeMap::new();
    let mut classes: BTreeMap<Key, u64> = BTreeMap::new();
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        let kind: Option<String> = r.get("kind")?;
        let kind = kind
            .as_deref()
            .map(|k| parse::<CategoryKind>("category kind", k))
            .transpose()?;
        let code: Option<String> = r.get("k")?;
        let n = count(r.get("n")?);
        let class = code
            .as_deref()
            .map(|c| c.chars().take(2).collect::<String>());
        *categories.entry((kind, code)).or_default() += n;
        *classes.entry((kind, class)).or_default() += n;
    }
    let districts = grouped(pool, query, vis, "c.district_code").await?;

    // 4. The trend: reports by day, and each case once per day and stage event.
    let bounds = &query.day_bounds;
    let (first, last) = (bounds[0], bounds[bounds.len() - 1]);
    let mut daily: Vec<DayCount> = query
        .days
        .iter()
        .map(|&day| DayCount {
            day,
            reported: 0,
            closed: 0,
        })
        .collect();
    let mut q = QueryBuilder::<D>::new("SELECT ");
    push_day_index(&mut q, "c.created_at", bounds);
    q.push(" AS d, count(*) AS n");
    D::push_cases_by(&mut q, BY_TIME);
    q.push(" WHERE 1 = 1");
    push_window(&mut q, "c.created_at", first, last);
    push_visibility(&mut q, vis);
    q.push(" GROUP BY 1");
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        let d: Option<i64> = r.get("d")?;
        if let Some(day) = d.and_then(|d| daily.get_mut(usize::try_from(d).ok()?)) {
            day.reported = count(r.get("n")?);
        }
    }
    let today_index = daily.len() - 1;
    let mut today = TodayCounts {
        reported: daily[today_index].reported,
        ..TodayCounts::default()
    };
    let mut q = QueryBuilder::<D>::new("SELECT e.action AS action, ");
    push_day_index(&mut q, "e.at", bounds);
    q.push(
        " AS d, count(DISTINCT e.case_id) AS n FROM case_events e \
         JOIN cases c ON c.id = e.case_id WHERE e.action IN ('file', 'dispatch', 'close')",
    );
    push_window(&mut q, "e.at", first, last);
    push_visibility(&mut q, vis);
    q.push(" GROUP BY e.action, 2");
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        let action: String = r.get("action")?;
        let d: Option<i64> = r.get("d")?;
        let Some(d) = d.and_then(|d| usize::try_from(d).ok()) else {
            continue;
        };
        let n = count(r.get("n")?);
        if action == "close"
            && let Some(day) = daily.get_mut(d)
        {
            day.closed = n;
        }
        if d == today_index {
            match action.as_str() {
                "file" => today.filed = n,
                "dispatch" => today.dispatched = n,
                "close" => today.closed = n,
                _ => {}
            }
        }
    }

    // 5. Overdue open cases: the running stage's due time has passed (only open cases carry one).
    let mut q = QueryBuilder::<D>::new("SELECT count(*) AS n");
    D::push_cases_by(&mut q, BY_DUE);
    q.push(" WHERE c.stage_due < ");
    D::push_ts(&mut q, query.now);
    push_visibility(&mut q, vis);
    let overdue_total = count(Cols::<D>(&D::fetch_one(pool, q.build()).await?).get("n")?);
    let mut q = QueryBuilder::<D>::new(format!("SELECT {CASE_COLUMNS}"));
    D::push_cases_by(&mut q, BY_DUE);
    q.push(" WHERE c.stage_due < ");
    D::push_ts(&mut q, query.now);
    push_visibility(&mut q, vis);
    q.push(" ORDER BY c.stage_due ASC, c.id ASC LIMIT ")
        .bind(i64::from(query.overdue_limit));
    let overdue = D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(case::<D>)
        .collect::<Result<Vec<_>>>()?;

    Ok(Dashboard {
        reported,
        closed,
        closed_on_time,
        cancelled,
        by_category: ranked_categories(categories),
        by_class: ranked_categories(classes),
        by_district: ranked(districts),
        by_source: ranked(by_source),
        daily,
        today,
        overdue_total,
        overdue,
    })
}

/// The fragments of the figures that differ:
/// - which index reads `cases`: SQLite, without statistics, prefers the region range of a
///   scoped viewer (every case of the city: 200 ms in the demo city) over the window's time
///   range (a month: 15 ms), so it is told (`INDEXED BY`); PostgreSQL's planner has statistics;
/// - the cell index of a coordinate, i.e. `floor((expr - origin) / size)` for the non-negative
///   offsets inside the box (SQLite's `CAST … AS INTEGER` truncates, which is the floor there;
///   PostgreSQL's rounds, hence `floor`);
/// - the category kind of a case, which only its document holds (`json_extract` vs `->>`).
pub trait FigureSql: Dialect {
    fn push_cell_index(q: &mut QueryBuilder<Self>, expr: &str, origin: f64, size: f64);
    fn push_category_kind(q: &mut QueryBuilder<Self>);
    /// `FROM cases c`, read through `index` (`""`: through none, a plain scan).
    fn push_cases_by(q: &mut QueryBuilder<Self>, index: &str);
}

#[cfg(feature = "sqlite")]
impl FigureSql for sqlx::Sqlite {
    fn push_cases_by(q: &mut QueryBuilder<Self>, index: &str) {
        if index.is_empty() {
            q.push(" FROM cases c NOT INDEXED");
        } else {
            q.push(format_args!(" FROM cases c INDEXED BY {index}"));
        }
    }

    fn push_category_kind(q: &mut QueryBuilder<Self>) {
        q.push("json_extract(c.doc, '$.category_kind')");
    }

    fn push_cell_index(q: &mut QueryBuilder<Self>, expr: &str, origin: f64, size: f64) {
        q.push(format_args!("CAST(({expr} - "))
            .bind(origin)
            .push(") / ")
            .bind(size)
            .push(" AS INTEGER)");
    }
}

#[cfg(feature = "postgres")]
impl FigureSql for sqlx::Postgres {
    fn push_cases_by(q: &mut QueryBuilder<Self>, _index: &str) {
        q.push(" FROM cases c");
    }

    fn push_category_kind(q: &mut QueryBuilder<Self>) {
        q.push("(c.doc::json ->> 'category_kind')");
    }

    fn push_cell_index(q: &mut QueryBuilder<Self>, expr: &str, origin: f64, size: f64) {
        q.push(format_args!("CAST(floor(({expr} - "))
            .bind(origin)
            .push("::float8) / ")
            .bind(size)
            .push("::float8) AS INTEGER)");
    }
}

/// The most cells one view may ask for.
pub const MAX_CELLS: f64 = 40_000.0;
/// The most points one view may ask for.
pub const MAX_POINTS: u32 = 5_000;

/// `DashboardRepo::case_map`.
pub async fn case_map<D: FigureSql>(
    pool: &Pool<D>,
    query: &CaseQuery,
    vis: &CaseVisibility,
    detail: CaseMapDetail,
) -> Result<CaseMap> {
    validate_query(query)?;
    let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox else {
        return Err(StoreError::Invalid(
            "the map's case layer needs a bbox".into(),
        ));
    };
    if !(min_lng <= max_lng && min_lat <= max_lat) {
        return Err(StoreError::Invalid("bbox: min above max".into()));
    }
    let driving = text_drives(pool, query).await?;
    let now = query.now;
    let mut map = CaseMap {
        total: 0,
        cells: Vec::new(),
        points: Vec::new(),
    };
    match detail {
        CaseMapDetail::Cells { size } => {
            let cells = ((max_lng - min_lng) / size + 1.0) * ((max_lat - min_lat) / size + 1.0);
            if !(size.is_finite() && size > 0.0 && cells <= MAX_CELLS) {
                return Err(StoreError::Invalid(format!(
                    "cell size {size}: must be positive and give at most {MAX_CELLS} cells"
                )));
            }
            // The cells hold every case of the box once: their counts add up to the total (one
            // statement, not a count and then the cells).
            let source = cells_source(query);
            let mut q = QueryBuilder::<D>::new("SELECT ");
            D::push_cell_index(&mut q, "c.lng", min_lng, size);
            q.push(" AS gx, ");
            D::push_cell_index(&mut q, "c.lat", min_lat, size);
            q.push(
                " AS gy, count(*) AS n, avg(c.lng) AS lng, avg(c.lat) AS lat,                  sum(CASE WHEN c.stage_due < ",
            );
            D::push_ts(&mut q, now);
            q.push(" THEN 1 ELSE 0 END) AS red, sum(CASE WHEN c.stage_due >= ");
            D::push_ts(&mut q, now);
            q.push(" AND c.stage_yellow_at <= ");
            D::push_ts(&mut q, now);
            q.push(" THEN 1 ELSE 0 END) AS yellow");
            match source {
                Some(index) => D::push_cases_by(&mut q, index),
                None => {
                    q.push(" FROM cases c");
                }
            }
            q.push(" WHERE 1 = 1");
            push_filters(&mut q, query, driving);
            push_visibility(&mut q, vis);
            q.push(" GROUP BY 1, 2 ORDER BY 2, 1");
            for row in &D::fetch_all(pool, q.build().persistent(false)).await? {
                let r = Cols::<D>(row);
                map.cells.push(CaseCell {
                    lng: r.get("lng")?,
                    lat: r.get("lat")?,
                    count: count(r.get("n")?),
                    red: count(r.get("red")?),
                    yellow: count(r.get("yellow")?),
                });
            }
            map.total = map.cells.iter().map(|c| c.count).sum();
        }
        CaseMapDetail::Points { limit } => {
            if limit == 0 || limit > MAX_POINTS {
                return Err(StoreError::Invalid(format!(
                    "point limit {limit}: 1 to {MAX_POINTS}"
                )));
            }
            let mut q = QueryBuilder::<D>::new("SELECT count(*) AS n FROM cases c WHERE 1 = 1");
            push_filters(&mut q, query, driving);
            push_visibility(&mut q, vis);
            map.total = count(Cols::<D>(&D::fetch_one(pool, q.build()).await?).get("n")?);
            let mut q = QueryBuilder::<D>::new(
                "SELECT c.id, c.code, c.lng, c.lat, c.status, c.category_code,                  CASE WHEN c.stage_due < ",
            );
            D::push_ts(&mut q, now);
            q.push(" THEN 'red' WHEN c.stage_yellow_at <= ");
            D::push_ts(&mut q, now);
            q.push(" THEN 'yellow' ELSE 'green' END AS light");
            // Zoomed in: the box is small, its index drives (not a scoped viewer's region).
            D::push_cases_by(&mut q, BY_POINT);
            q.push(" WHERE 1 = 1");
            push_filters(&mut q, query, driving);
            push_visibility(&mut q, vis);
            q.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ")
                .bind(i64::from(limit));
            for row in &D::fetch_all(pool, q.build()).await? {
                let r = Cols::<D>(row);
                let status: String = r.get("status")?;
                let light: String = r.get("light")?;
                map.points.push(CasePoint {
                    id: r.get("id")?,
                    code: r.get("code")?,
                    lng: r.get("lng")?,
                    lat: r.get("lat")?,
                    status: parse("case status", &status)?,
                    light: parse("light", &light)?,
                    category_code: r.get("category_code")?,
                });
            }
        }
    }
    Ok(map)
}

/// Implements `DashboardRepo` for a store type, reading from the pool field `$read`. Expanded
/// once in each store crate.
#[macro_export]
macro_rules! shared_dashboard_repo {
    ($store:ty, read: $read:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::DashboardRepo for $store {
            async fn dashboard(
                &self,
                query: &::cityops_store::DashboardQuery,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<::cityops_store::Dashboard> {
                $crate::dashboard::dashboard(&self.$read, query, vis).await
            }

            async fn case_map(
                &self,
                query: &::cityops_store::CaseQuery,
                vis: &::cityops_store::CaseVisibility,
                detail: ::cityops_store::CaseMapDetail,
            ) -> ::cityops_store::Result<::cityops_store::CaseMap> {
                $crate::dashboard::case_map(&self.$read, query, vis, detail).await
            }
        }
    };
}
