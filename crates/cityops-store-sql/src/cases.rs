//! Cases: the projection (the columns computed from a `Case`), case codes and their daily limit,
//! the decoding of cases and events, the scope and query filters, and the case reads.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::case::visibility::region_prefix;
use cityops_store::{
    Case, CaseCounts, CaseEvent, CaseFlag, CaseQuery, CaseSort, CaseStatus, CaseVisibility,
    DuplicateChange, DuplicatePoint, Light, NewCaseEvent, Page, PageRequest, Result, Role,
    StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, corrupt, parse, push_prefix};

/// The columns a case is decoded from ([`case`]), over `cases c`.
pub const CASE_COLUMNS: &str = "c.id, c.code, c.version, c.lng, c.lat, c.doc";
/// `SELECT` [`CASE_COLUMNS`] `FROM cases c`.
pub const CASE_SELECT: &str = "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc FROM cases c";
/// The columns of `case_events` in write order.
pub const EVENT_COLUMNS: &str = "seq, case_id, action, actor_id, actor_role, at, from_status, \
     to_status, comment, attachments, data, prev_hash, hash";
const EVENT_SELECT: &str = "SELECT e.seq, e.case_id, e.action, e.actor_id, e.actor_role, e.at, \
     e.from_status, e.to_status, e.comment, e.attachments, e.data, e.prev_hash, e.hash";

/// The most cases one day can number: codes are `YYYYMMDD` + 5 digits.
pub const DAILY_CASE_LIMIT: i64 = 99_999;

/// The code of the `n`-th case reported on `day`: `YYYYMMDD` + 5 digits. `Conflict` (naming the
/// limit) past the [`DAILY_CASE_LIMIT`]-th case of a day, never a 14-digit code.
pub fn case_code(day: NaiveDate, n: i64) -> Result<String> {
    if !(1..=DAILY_CASE_LIMIT).contains(&n) {
        return Err(StoreError::Conflict(format!(
            "the case codes of {day} are exhausted: a day numbers at most {DAILY_CASE_LIMIT} \
             cases (YYYYMMDD + 5 digits)"
        )));
    }
    Ok(format!("{}{n:05}", day.format("%Y%m%d")))
}

/// Splits a case code `YYYYMMDD` + 5 digits into its day and number; `Invalid` otherwise.
pub fn split_code(code: &str) -> Result<(NaiveDate, i64)> {
    let bad = || StoreError::Invalid(format!("case code {code:?}: expected YYYYMMDD + 5 digits"));
    if code.len() != 13 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let day = NaiveDate::parse_from_str(&code[..8], "%Y%m%d").map_err(|_| bad())?;
    let n: i64 = code[8..].parse().map_err(|_| bad())?;
    if n < 1 {
        return Err(bad());
    }
    Ok((day, n))
}

/// The values of the projected columns of `cases` (everything but id, code and version), in the
/// order of [`PROJECTED`]. Timestamps stay typed; each store binds them its own way.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection<'a> {
    pub doc: String,
    pub status: &'static str,
    pub source: &'static str,
    pub category_code: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub district_code: Option<&'a str>,
    pub street_code: Option<&'a str>,
    pub community_code: Option<&'a str>,
    pub grid_code: Option<&'a str>,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub lng: f64,
    pub lat: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub stage_due: Option<DateTime<Utc>>,
    pub stage_yellow_at: Option<DateTime<Utc>>,
    pub light: &'static str,
    pub overdue: bool,
    pub supervised: bool,
    pub suspended_until: Option<DateTime<Utc>>,
    pub merged_into: Option<i64>,
    /// The evaluation's record of the case (`EvalRecord` as JSON).
    pub facts: String,
}

/// The projected columns, in [`Projection`] order.
pub const PROJECTED: &str = "doc, status, source, category_code, region_code, district_code, \
     street_code, community_code, grid_code, department_id, assignee_id, reporter_id, lng, lat, \
     created_at, updated_at, stage_due, stage_yellow_at, light, overdue, supervised, \
     suspended_until, merged_into, facts";

/// Serialises a record for a JSON text column.
pub fn json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode {what}: {e}")))
}

/// The projection of `case` as stored. The stage clock (`stage_due`, `stage_yellow_at`) is
/// projected only while the case is open: a closed or cancelled case never turns yellow or red,
/// is never due, and sorts with the clockless cases, whatever its document still carries.
pub fn project(case: &Case) -> Result<Projection<'_>> {
    let clock = case.clock.as_ref().filter(|_| case.status.is_open());
    let loc = &case.location;
    Ok(Projection {
        doc: json("case", case)?,
        status: case.status.as_str(),
        source: case.source.as_str(),
        category_code: case.category_code.as_deref(),
        region_code: loc.region_code(),
        district_code: loc.district_code.as_deref(),
        street_code: loc.street_code.as_deref(),
        community_code: loc.community_code.as_deref(),
        grid_code: loc.grid_code.as_deref(),
        department_id: case.department_id,
        assignee_id: case.assignee_id,
        reporter_id: case.reporter_id,
        lng: loc.lng,
        lat: loc.lat,
        created_at: case.created_at,
        updated_at: case.updated_at,
        stage_due: clock.and_then(|k| k.due),
        stage_yellow_at: clock.and_then(|k| k.yellow_at),
        light: case.light.as_str(),
        overdue: case.overdue,
        supervised: case.supervised,
        suspended_until: case.suspended_until,
        merged_into: case.merged_into,
        facts: json(
            "evaluation facts",
            &cityops_domain::evaluation::EvalRecord::of(case),
        )?,
    })
}

/// Decodes [`CASE_COLUMNS`]: the document, with id, code, version and the point from their
/// columns (the columns are authoritative; they hold the exact doubles).
pub fn case<D: Dialect>(row: &D::Row) -> Result<Case> {
    let r = Cols::<D>(row);
    let doc: String = r.get("doc")?;
    let mut case: Case = serde_json::from_str(&doc)
        .map_err(|e| StoreError::Database(format!("unreadable case document: {e}")))?;
    case.id = r.get("id")?;
    case.code = r.get("code")?;
    case.version = r.get("version")?;
    case.location.lng = r.get("lng")?;
    case.location.lat = r.get("lat")?;
    Ok(case)
}

/// Decodes a `case_events` row.
pub fn event<D: Dialect>(row: &D::Row) -> Result<CaseEvent> {
    let r = Cols::<D>(row);
    let role: Option<String> = r.get("actor_role")?;
    let from: Option<String> = r.get("from_status")?;
    let to: String = r.get("to_status")?;
    let attachments: String = r.get("attachments")?;
    let data: String = r.get("data")?;
    Ok(CaseEvent {
        seq: r.get("seq")?,
        event: NewCaseEvent {
            case_id: r.get("case_id")?,
            action: r.get("action")?,
            actor_id: r.get("actor_id")?,
            actor_role: role
                .as_deref()
                .map(|s| parse::<Role>("role", s))
                .transpose()?,
            at: D::ts(row, "at")?,
            from_status: from
                .as_deref()
                .map(|s| parse::<CaseStatus>("case status", s))
                .transpose()?,
            to_status: parse::<CaseStatus>("case status", &to)?,
            comment: r.get("comment")?,
            attachments: serde_json::from_str(&attachments)
                .map_err(|_| corrupt("attachment list", &attachments))?,
            data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        },
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}

/// `AND <the case is visible>` over `cases c` (the domain's `CaseVisibility`, in SQL).
///
/// Every alternative is one an index answers — the region by a range of `region_code`, the
/// department, assignee and reporter by their indexes, the followed cases as `c.id IN` the
/// user's rows of `case_followers` ([`Dialect::push_followed`]), a third-party reviewer's
/// closed cases by the `(status, created_at)` index (within a region, that or the region's) —
/// and nothing else stands in the OR, so SQLite unions the indexes' rows (`MULTI-INDEX OR`) and
/// PostgreSQL ORs bitmap index scans (`BitmapOr`), instead of testing every case (an
/// inspector's count in the demo city: 43 → 0.2 ms on SQLite, 59 → 5 ms on PostgreSQL).
pub fn push_visibility<D: Dialect>(q: &mut QueryBuilder<D>, vis: &CaseVisibility) {
    if vis.all {
        return;
    }
    let mut first = true;
    let mut or = |q: &mut QueryBuilder<D>| {
        q.push(if first { " AND (" } else { " OR " });
        first = false;
    };
    for p in &vis.region_prefixes {
        or(q);
        push_prefix(q, "c.region_code", p);
    }
    if let Some(d) = vis.department_id {
        or(q);
        q.push("c.department_id = ").bind(d);
    }
    if let Some(u) = vis.user_id {
        or(q);
        q.push("c.assignee_id = ")
            .bind(u)
            .push(" OR c.reporter_id = ")
            .bind(u)
            .push(" OR ");
        D::push_followed(q, u);
    }
    if vis.closed_all {
        or(q);
        q.push("c.status = ").bind(CaseStatus::Closed.as_str());
    }
    for p in &vis.closed_region_prefixes {
        or(q);
        q.push("(c.status = ")
            .bind(CaseStatus::Closed.as_str())
            .push(" AND ");
        push_prefix(q, "c.region_code", p);
        q.push(")");
    }
    if first {
        // Nothing is visible.
        q.push(" AND 1 = 0");
    } else {
        q.push(")");
    }
}

/// Checks what SQL cannot: the category filter is a 5-digit category or a 2-digit class code
/// (`Invalid` otherwise, on every store; a well-formed code no case has simply matches nothing).
pub fn validate_query(query: &CaseQuery) -> Result<()> {
    match &query.category {
        Some(c) if !(matches!(c.len(), 2 | 5) && c.bytes().all(|b| b.is_ascii_digit())) => {
            Err(StoreError::Invalid(format!(
                "category filter {c:?}: expected a 5-digit category or 2-digit class code"
            )))
        }
        _ => Ok(()),
    }
}

/// How a query's text filter should be planned: whether the text index drives (few matches;
/// always when there is no text or the dialect does not count). One count of the index's
/// matches (SQLite), before the list's own count.
pub async fn text_drives<D: Dialect>(pool: &Pool<D>, query: &CaseQuery) -> Result<bool> {
    let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(true);
    };
    if !D::COUNTS_TEXT_HITS {
        return Ok(true);
    }
    Ok(text_hits(pool, text).await? <= crate::search::DRIVING_MAX_HITS)
}

/// How many cases' searchable text contains `text`, from the text index alone.
pub async fn text_hits<D: Dialect>(pool: &Pool<D>, text: &str) -> Result<u64> {
    let mut q = QueryBuilder::<D>::new("SELECT count(*) AS n FROM (");
    D::push_text_ids(&mut q, &crate::search::fold(text));
    q.push(") hits");
    let n: i64 = Cols::<D>(&D::fetch_one(pool, q.build().persistent(false)).await?).get("n")?;
    Ok(n.max(0) as u64)
}

/// Whether `query` filters by its text alone (every other filter unset).
fn only_text(query: &CaseQuery) -> bool {
    query.text.as_deref().is_some_and(|t| !t.is_empty())
        && *query
            == CaseQuery {
                text: query.text.clone(),
                sort: query.sort,
                ..CaseQuery::new(query.now)
            }
}

/// `AND …` for every filter of a [validated](validate_query) query, over `cases c`; `driving`
/// as [`text_drives`] answered.
pub fn push_filters<D: Dialect>(q: &mut QueryBuilder<D>, query: &CaseQuery, driving: bool) {
    if !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" AND ");
        D::push_in_strs(q, "c.status", &statuses);
    }
    if let Some(light) = query.light {
        let now = query.now;
        match light {
            Light::Red => {
                q.push(" AND c.stage_due < ");
                D::push_ts(q, now);
            }
            Light::Yellow => {
                q.push(" AND c.stage_yellow_at <= ");
                D::push_ts(q, now);
                q.push(" AND c.stage_due >= ");
                D::push_ts(q, now);
            }
            Light::Green => {
                q.push(" AND (c.stage_due IS NULL OR (c.stage_due >= ");
                D::push_ts(q, now);
                q.push(" AND (c.stage_yellow_at IS NULL OR c.stage_yellow_at > ");
                D::push_ts(q, now);
                q.push(")))");
            }
        }
    }
    if let Some(source) = query.source {
        q.push(" AND c.source = ").bind(source.as_str());
    }
    if let Some(c) = &query.category {
        if c.len() == 5 {
            q.push(" AND c.category_code = ").bind(c.clone());
        } else {
            q.push(" AND ");
            push_prefix(q, "c.category_code", c);
        }
    }
    if let Some(region) = &query.region_code {
        q.push(" AND ");
        push_prefix(q, "c.region_code", &region_prefix(region));
    }
    if let Some(d) = query.department_id {
        q.push(" AND c.department_id = ").bind(d);
    }
    if let Some(from) = query.from {
        q.push(" AND c.created_at >= ");
        D::push_ts(q, from);
    }
    if let Some(to) = query.to {
        q.push(" AND c.created_at < ");
        D::push_ts(q, to);
    }
    if let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox {
        q.push(" AND c.lng BETWEEN ")
            .bind(min_lng)
            .push(" AND ")
            .bind(max_lng)
            .push(" AND c.lat BETWEEN ")
            .bind(min_lat)
            .push(" AND ")
            .bind(max_lat);
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        q.push(" AND ");
        D::push_text_match(q, &crate::search::fold(text), driving);
    }
    if let Some(overdue) = query.overdue {
        q.push(" AND c.overdue = ").bind(overdue);
    }
    if let Some(supervised) = query.supervised {
        q.push(" AND c.supervised = ").bind(supervised);
    }
    if let Some(a) = query.assignee_id {
        q.push(" AND c.assignee_id = ").bind(a);
    }
    if let Some(flag) = query.flag {
        push_flag(q, flag);
    }
    if let Some(t) = query.suspended_until_before {
        q.push(" AND c.status = 'suspended' AND c.suspended_until <= ");
        D::push_ts(q, t);
    }
}

/// `AND <the case carries flag>`, read from the case document (no projected column: the
/// queues that use a flag also filter by status, whose index drives).
fn push_flag<D: Dialect>(q: &mut QueryBuilder<D>, flag: CaseFlag) {
    q.push(" AND ");
    match flag {
        CaseFlag::Pending => {
            D::push_doc_field(q, "pending");
            q.push(" IS NOT NULL");
        }
        CaseFlag::Duplicate => {
            D::push_doc_field(q, "duplicate_of");
            q.push(" IS NOT NULL");
        }
        CaseFlag::Returned => {
            q.push("CAST(");
            D::push_doc_field(q, "return_count");
            q.push(" AS INTEGER) > 0");
        }
        CaseFlag::CheckPassed => {
            D::push_doc_field(q, "check_passed");
            q.push(" = '1'");
        }
    }
}

/// The ORDER BY of a sort: a total order (the id breaks every tie), cases without a running
/// clock last when sorting by due time.
pub fn order_by(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::CreatedDesc => " ORDER BY c.created_at DESC, c.id DESC",
        CaseSort::CreatedAsc => " ORDER BY c.created_at ASC, c.id ASC",
        CaseSort::DueAsc => " ORDER BY c.stage_due ASC NULLS LAST, c.id ASC",
        CaseSort::UpdatedDesc => " ORDER BY c.updated_at DESC, c.id DESC",
    }
}

/// `CaseRepo::get_case`.
pub async fn get_case<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    vis: &CaseVisibility,
) -> Result<Option<Case>> {
    let mut q = QueryBuilder::<D>::new(CASE_SELECT);
    q.push(" WHERE c.id = ").bind(id);
    push_visibility(&mut q, vis);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(case::<D>)
        .transpose()
}

/// The query as the case reads plan it: no status filter reads as "every status" — the same
/// cases, but the (status, created_at) index can drive the plan instead of a walk over a scope's
/// whole region (a city-wide scope on SQLite, whose planner has no statistics: ~250 → ~1 ms for
/// a page at 73k cases).
pub fn planned(query: &CaseQuery) -> std::borrow::Cow<'_, CaseQuery> {
    if query.statuses.is_empty() {
        std::borrow::Cow::Owned(CaseQuery {
            statuses: CaseStatus::ALL.to_vec(),
            ..query.clone()
        })
    } else {
        std::borrow::Cow::Borrowed(query)
    }
}

/// `CaseRepo::list_cases`.
pub async fn list_cases<D: Dialect>(
    pool: &Pool<D>,
    query: &CaseQuery,
    vis: &CaseVisibility,
    page: PageRequest,
) -> Result<Page<Case>> {
    validate_query(query)?;
    // A text search is planned for its own words: PostgreSQL's generic plan of a prepared
    // statement would not know whether `q` matches six cases or sixty thousand.
    let persistent = query.text.is_none();
    let planned = planned(query);
    let filters = |q: &mut QueryBuilder<D>, driving: bool| {
        push_filters(q, &planned, driving);
        push_visibility(q, vis);
    };
    // A text search of a user who sees everything, and no other filter: the text index alone
    // counts the matches (every indexed text is a case's), and the page is read along the sort.
    let (total, driving) = match query.text.as_deref() {
        Some(text) if vis.all && only_text(query) => {
            let total = text_hits(pool, text).await?;
            (total, total <= crate::search::DRIVING_MAX_HITS)
        }
        _ => {
            let driving = text_drives(pool, query).await?;
            let mut count = QueryBuilder::<D>::new("SELECT count(*) AS n FROM cases c WHERE 1 = 1");
            filters(&mut count, driving);
            let row = D::fetch_one(pool, count.build().persistent(persistent)).await?;
            let n: i64 = Cols::<D>(&row).get("n")?;
            (n.max(0) as u64, driving)
        }
    };
    let mut q = QueryBuilder::<D>::new(CASE_SELECT);
    q.push(" WHERE 1 = 1");
    filters(&mut q, driving);
    q.push(order_by(query.sort))
        .push(" LIMIT ")
        .bind(page.limit())
        .push(" OFFSET ")
        .bind(page.offset());
    let items = D::fetch_all(pool, q.build().persistent(persistent))
        .await?
        .iter()
        .map(case::<D>)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total, page))
}

/// `CaseRepo::count_cases`.
pub async fn count_cases<D: Dialect>(
    pool: &Pool<D>,
    query: &CaseQuery,
    vis: &CaseVisibility,
) -> Result<CaseCounts> {
    validate_query(query)?;
    let driving = text_drives(pool, query).await?;
    let mut q = QueryBuilder::<D>::new(
        "SELECT c.status AS status, count(*) AS n, \
         sum(CASE WHEN c.overdue THEN 1 ELSE 0 END) AS overdue FROM cases c WHERE 1 = 1",
    );
    push_filters(&mut q, query, driving);
    push_visibility(&mut q, vis);
    q.push(" GROUP BY c.status");
    let mut by: BTreeMap<CaseStatus, (u64, u64)> = BTreeMap::new();
    let persistent = query.text.is_none();
    for row in &D::fetch_all(pool, q.build().persistent(persistent)).await? {
        let r = Cols::<D>(row);
        let status: String = r.get("status")?;
        let n: i64 = r.get("n")?;
        let overdue: Option<i64> = r.get("overdue")?;
        by.insert(
            parse::<CaseStatus>("case status", &status)?,
            (n.max(0) as u64, overdue.unwrap_or(0).max(0) as u64),
        );
    }
    let mut counts = CaseCounts::default();
    for (status, (n, overdue)) in by {
        counts.total += n;
        match status {
            CaseStatus::Closed => counts.closed += n,
            CaseStatus::Cancelled => counts.cancelled += n,
            _ => {
                counts.open += n;
                counts.overdue_open += overdue;
            }
        }
        counts.by_status.push((status, n));
    }
    Ok(counts)
}

/// `CaseRepo::case_events`: `None` when the case is missing or not visible.
pub async fn case_events<D: Dialect>(
    pool: &Pool<D>,
    case_id: i64,
    vis: &CaseVisibility,
) -> Result<Option<Vec<CaseEvent>>> {
    let mut q = QueryBuilder::<D>::new(EVENT_SELECT);
    q.push(" FROM cases c LEFT JOIN case_events e ON e.case_id = c.id WHERE c.id = ")
        .bind(case_id);
    push_visibility(&mut q, vis);
    q.push(" ORDER BY e.seq");
    let rows = D::fetch_all(pool, q.build()).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        // The LEFT JOIN yields one all-NULL row for a case without events.
        if Cols::<D>(row).get::<Option<i64>>("seq")?.is_some() {
            events.push(event::<D>(row)?);
        }
    }
    Ok(Some(events))
}

/// `CaseRepo::audit_events`: the chain after `after_seq`, in order.
pub async fn audit_events<D: Dialect>(
    pool: &Pool<D>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<CaseEvent>> {
    const SQL: &str = "SELECT e.seq, e.case_id, e.action, e.actor_id, e.actor_role, e.at, \
         e.from_status, e.to_status, e.comment, e.attachments, e.data, e.prev_hash, e.hash \
         FROM case_events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2";
    D::fetch_all(pool, sqlx::query(SQL).arg(after_seq).arg(i64::from(limit)))
        .await?
        .iter()
        .map(event::<D>)
        .collect()
}

/// The columns a [`DuplicatePoint`] is decoded from ([`duplicate_point`]), over `cases c`.
macro_rules! point_columns {
    () => {
        "c.id, c.category_code, c.lng, c.lat, c.created_at, \
         (c.status NOT IN ('closed', 'cancelled') AND c.merged_into IS NULL) AS candidate"
    };
}

/// Decodes a row of `point_columns!()`.
fn duplicate_point<D: Dialect>(row: &D::Row) -> Result<DuplicatePoint> {
    let r = Cols::<D>(row);
    Ok(DuplicatePoint {
        id: r.get("id")?,
        category_code: r.get("category_code")?,
        lng: r.get("lng")?,
        lat: r.get("lat")?,
        created_at: D::ts(row, "created_at")?,
        candidate: r.get("candidate")?,
    })
}

/// `CaseRepo::audit_head`.
pub async fn audit_head<D: Dialect>(pool: &Pool<D>) -> Result<i64> {
    const SQL: &str = "SELECT coalesce(max(seq), 0) AS seq FROM case_events";
    let row = D::fetch_one(pool, sqlx::query(SQL)).await?;
    Cols::<D>(&row).get("seq")
}

/// `CaseRepo::duplicate_points`: open, unmerged cases since an instant, by id. The lowest id of
/// the window, read first from the recency index `cases_created_at` (`+ 0` keeps SQLite from
/// walking the table in id order for it), starts the id range, so a long history costs only its
/// window.
pub async fn duplicate_points<D: Dialect>(
    pool: &Pool<D>,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u32,
) -> Result<Vec<DuplicatePoint>> {
    const LOWEST: &str = "SELECT min(w.id + 0) AS lo FROM cases w WHERE w.created_at >= $1";
    const SQL: &str = concat!(
        "SELECT ",
        point_columns!(),
        " FROM cases c WHERE c.id >= $1 AND c.created_at >= $2 \
         AND c.status NOT IN ('closed', 'cancelled') AND c.merged_into IS NULL \
         ORDER BY c.id LIMIT $3"
    );
    let row = D::fetch_one(pool, D::arg_ts(sqlx::query(LOWEST), since)).await?;
    let Some(lowest) = Cols::<D>(&row).get::<Option<i64>>("lo")? else {
        return Ok(Vec::new());
    };
    let from = lowest.max(after_id.saturating_add(1));
    let q = D::arg_ts(sqlx::query(SQL).arg(from), since).arg(i64::from(limit));
    D::fetch_all(pool, q)
        .await?
        .iter()
        .map(duplicate_point::<D>)
        .collect()
}

/// `CaseRepo::duplicate_changes`: the case of each event after a seq, as it is now.
pub async fn duplicate_changes<D: Dialect>(
    pool: &Pool<D>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<DuplicateChange>> {
    const SQL: &str = concat!(
        "SELECT e.seq, ",
        point_columns!(),
        " FROM case_events e JOIN cases c ON c.id = e.case_id \
         WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"
    );
    let q = sqlx::query(SQL).arg(after_seq).arg(i64::from(limit));
    D::fetch_all(pool, q)
        .await?
        .iter()
        .map(|row| {
            Ok(DuplicateChange {
                seq: Cols::<D>(row).get("seq")?,
                point: duplicate_point::<D>(row)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_day_and_five_digits() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(case_code(day, 7).unwrap(), "2026030200007");
        assert_eq!(case_code(day, 99_999).unwrap(), "2026030299999");
        let err = case_code(day, 100_000).unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("99999")),
            "{err:?}"
        );
        assert!(case_code(day, 0).is_err());
        assert_eq!(split_code("2026030200017").unwrap(), (day, 17));
        assert!(split_code("20260302123456").is_err(), "14 digits");
        assert!(split_code("202603020001").is_err(), "too short");
        assert!(split_code("2026133200001").is_err(), "no such day");
        assert!(split_code("2026030200a01").is_err());
        assert!(split_code("2026030200000").is_err(), "number 0");
    }

    #[test]
    fn sorts_are_total() {
        for sort in [
            CaseSort::CreatedDesc,
            CaseSort::CreatedAsc,
            CaseSort::DueAsc,
            CaseSort::UpdatedDesc,
        ] {
            assert!(
                order_by(sort).trim_end().ends_with("c.id ASC")
                    || order_by(sort).ends_with("c.id DESC")
            );
        }
    }

    #[test]
    fn category_filters_are_validated() {
        let mut q = CaseQuery::new(Utc::now());
        for ok in ["01", "01001", "99999"] {
            q.category = Some(ok.into());
            assert!(validate_query(&q).is_ok(), "{ok}");
        }
        for bad in ["1", "011", "0100a", "abcde", "", "010011"] {
            q.category = Some(bad.into());
            assert!(
                matches!(validate_query(&q), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
