//! `CaseRepo` on SQLite: cases as a JSON document plus projected columns, one hash chain of
//! events, daily code sequences.
//!
//! Every transaction that appends events starts with `BEGIN IMMEDIATE` on the writer: that takes
//! SQLite's write lock first (the chain lock — also against other processes on the same file),
//! then reads the chain head and hashes the new events from it. Reports are written in groups
//! (see `intake`).
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use cityops_store::{
    Case, CaseCounts, CaseEvent, CaseHistory, CaseQuery, CaseRepo, CaseSort, CaseStatus,
    CaseVisibility, Light, MarkFn, NewCaseEvent, NewNotification, Page, PageRequest, Result,
    StoreError,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::case_rows::{self, CASE_COLUMNS};
use crate::case_write::{
    BEGIN_WRITE, bulk_cases, bulk_code_seq, bulk_events, bulk_followers, bulk_notifications,
    follow, head_and_last_id, insert_event, insert_notifications, link_attachments, update_case,
};
use crate::rows::ts;
use crate::{SqliteStore, db_err};

/// `AND <visibility>` for the `cases` table.
pub(crate) fn push_visibility(q: &mut QueryBuilder<Sqlite>, vis: &CaseVisibility) {
    if vis.all {
        return;
    }
    q.push(" AND (0 = 1");
    for p in &vis.region_prefixes {
        q.push(" OR substr(cases.region_code, 1, ")
            .push_bind(p.chars().count() as i64)
            .push(") = ")
            .push_bind(p.clone());
    }
    if let Some(d) = vis.department_id {
        q.push(" OR cases.department_id = ").push_bind(d);
    }
    if let Some(u) = vis.user_id {
        q.push(" OR cases.assignee_id = ")
            .push_bind(u)
            .push(" OR cases.reporter_id = ")
            .push_bind(u)
            .push(
                " OR EXISTS (SELECT 1 FROM case_followers f WHERE f.case_id = cases.id AND f.user_id = ",
            )
            .push_bind(u)
            .push(")");
    }
    q.push(")");
}

/// The code prefix a region filter covers: a city code `xxxx00` covers every `xxxx…` code (as
/// `cityops_domain::region::covers`).
fn region_filter_prefix(code: &str) -> &str {
    if code.len() == 6 && code.is_ascii() && code.ends_with("00") {
        &code[..4]
    } else {
        code
    }
}

/// `AND <query filters>`; `Invalid` for a malformed category filter.
fn push_filters(q: &mut QueryBuilder<Sqlite>, query: &CaseQuery) -> Result<()> {
    if !query.statuses.is_empty() {
        q.push(" AND cases.status IN (");
        let mut sep = q.separated(", ");
        for s in &query.statuses {
            sep.push_bind(s.as_str());
        }
        q.push(")");
    }
    if let Some(light) = query.light {
        let now = ts(query.now);
        match light {
            Light::Red => {
                q.push(" AND cases.stage_due < ").push_bind(now);
            }
            Light::Yellow => {
                q.push(" AND cases.stage_yellow_at <= ")
                    .push_bind(now.clone())
                    .push(" AND cases.stage_due >= ")
                    .push_bind(now);
            }
            Light::Green => {
                q.push(" AND (cases.stage_due IS NULL OR (cases.stage_due >= ")
                    .push_bind(now.clone())
                    .push(" AND (cases.stage_yellow_at IS NULL OR cases.stage_yellow_at > ")
                    .push_bind(now)
                    .push(")))");
            }
        }
    }
    if let Some(source) = query.source {
        q.push(" AND cases.source = ").push_bind(source.as_str());
    }
    if let Some(c) = &query.category {
        if !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_category(c));
        }
        match c.len() {
            5 => {
                q.push(" AND cases.category_code = ").push_bind(c.clone());
            }
            2 => {
                q.push(" AND substr(cases.category_code, 1, 2) = ")
                    .push_bind(c.clone());
            }
            _ => return Err(bad_category(c)),
        }
    }
    if let Some(r) = &query.region_code {
        let p = region_filter_prefix(r);
        // The range lets the index narrow; the substr keeps it exact.
        q.push(" AND cases.region_code >= ")
            .push_bind(p.to_string())
            .push(" AND cases.region_code < ")
            .push_bind(format!("{p}\u{10FFFF}"))
            .push(" AND substr(cases.region_code, 1, ")
            .push_bind(p.chars().count() as i64)
            .push(") = ")
            .push_bind(p.to_string());
    }
    if let Some(d) = query.department_id {
        q.push(" AND cases.department_id = ").push_bind(d);
    }
    if let Some(from) = query.from {
        q.push(" AND cases.created_at >= ").push_bind(ts(from));
    }
    if let Some(to) = query.to {
        q.push(" AND cases.created_at < ").push_bind(ts(to));
    }
    if let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox {
        q.push(" AND cases.lng BETWEEN ")
            .push_bind(min_lng)
            .push(" AND ")
            .push_bind(max_lng)
            .push(" AND cases.lat BETWEEN ")
            .push_bind(min_lat)
            .push(" AND ")
            .push_bind(max_lat);
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        // instr: a literal, case-sensitive "contains" (no wildcards to escape).
        q.push(" AND (instr(cases.code, ")
            .push_bind(text.to_string())
            .push(") > 0 OR instr(json_extract(cases.doc, '$.description'), ")
            .push_bind(text.to_string())
            .push(") > 0 OR instr(coalesce(json_extract(cases.doc, '$.location.address'), ''), ")
            .push_bind(text.to_string())
            .push(") > 0)");
    }
    if let Some(o) = query.overdue {
        q.push(" AND cases.overdue = ").push_bind(o);
    }
    if let Some(s) = query.supervised {
        q.push(" AND cases.supervised = ").push_bind(s);
    }
    if let Some(t) = query.suspended_until_before {
        q.push(" AND cases.status = 'suspended' AND cases.suspended_until <= ")
            .push_bind(ts(t));
    }
    Ok(())
}

fn bad_category(c: &str) -> StoreError {
    StoreError::Invalid(format!(
        "category filter {c:?}: expected a 5-digit category or 2-digit class code"
    ))
}

fn order_by(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::CreatedDesc => " ORDER BY cases.created_at DESC, cases.id DESC",
        CaseSort::CreatedAsc => " ORDER BY cases.created_at ASC, cases.id ASC",
        CaseSort::DueAsc => {
            " ORDER BY cases.stage_due IS NULL, cases.stage_due ASC, cases.created_at ASC, cases.id ASC"
        }
        CaseSort::UpdatedDesc => " ORDER BY cases.updated_at DESC, cases.id DESC",
    }
}

/// The daily sequence key of a code's date.
fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// `YYYYMMDD` + 5 digits → (day key, number).
fn parse_code(code: &str) -> Result<(String, i64)> {
    let bad = || StoreError::Invalid(format!("case code {code:?}: expected YYYYMMDD + 5 digits"));
    if code.len() != 13 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let day = NaiveDate::parse_from_str(&code[..8], "%Y%m%d").map_err(|_| bad())?;
    let n = code[8..].parse::<i64>().map_err(|_| bad())?;
    Ok((day_key(day), n))
}

impl SqliteStore {
    async fn select_cases(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<Case>> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM cases WHERE 1 = 1");
        push_filters(&mut count, query)?;
        push_visibility(&mut count, vis);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1"));
        push_filters(&mut q, query)?;
        push_visibility(&mut q, vis);
        q.push(order_by(query.sort))
            .push(" LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        let items = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::case)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
    }

    async fn visible(&self, id: i64, vis: &CaseVisibility) -> Result<Option<Case>> {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE cases.id = "
        ));
        q.push_bind(id);
        push_visibility(&mut q, vis);
        q.build()
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(case_rows::case)
            .transpose()
    }
}

#[async_trait]
impl CaseRepo for SqliteStore {
    async fn create_case(
        &self,
        case: &Case,
        local_date: NaiveDate,
        event: &NewCaseEvent,
        notify: &[NewNotification],
    ) -> Result<Case> {
        self.intake(case, local_date, event, notify).await
    }

    async fn get_case(&self, id: i64, vis: &CaseVisibility) -> Result<Option<Case>> {
        self.visible(id, vis).await
    }

    async fn list_cases(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<Case>> {
        self.select_cases(query, vis, page).await
    }

    async fn count_cases(&self, query: &CaseQuery, vis: &CaseVisibility) -> Result<CaseCounts> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT cases.status AS status, count(*) AS n, coalesce(sum(cases.overdue), 0) AS overdue \
             FROM cases WHERE 1 = 1",
        );
        push_filters(&mut q, query)?;
        push_visibility(&mut q, vis);
        q.push(" GROUP BY cases.status");
        let rows = q.build().fetch_all(&self.read).await.map_err(db_err)?;
        let mut by: HashMap<CaseStatus, (u64, u64)> = HashMap::new();
        for r in &rows {
            let s: String = r.try_get("status").map_err(db_err)?;
            let status: CaseStatus = s
                .parse()
                .map_err(|_| StoreError::Database(format!("unexpected case status {s:?}")))?;
            let n: i64 = r.try_get("n").map_err(db_err)?;
            let o: i64 = r.try_get("overdue").map_err(db_err)?;
            by.insert(status, (n.max(0) as u64, o.max(0) as u64));
        }
        let mut counts = CaseCounts::default();
        for status in CaseStatus::ALL {
            let Some(&(n, overdue)) = by.get(status) else {
                continue;
            };
            counts.total += n;
            match status {
                CaseStatus::Closed => counts.closed += n,
                CaseStatus::Cancelled => counts.cancelled += n,
                _ => {
                    counts.open += n;
                    counts.overdue_open += overdue;
                }
            }
            counts.by_status.push((*status, n));
        }
        Ok(counts)
    }

    async fn save_transition(
        &self,
        case: &Case,
        event: &NewCaseEvent,
        notify: &[NewNotification],
        follow_case: Option<(i64, i64)>,
    ) -> Result<Case> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let stored = update_case(conn, case).await?;
        let (seq, prev, _) = head_and_last_id(conn).await?;
        let mut ev = event.clone();
        ev.case_id = case.id;
        insert_event(conn, &ev, seq + 1, prev).await?;
        insert_notifications(conn, notify, case.id).await?;
        if let Some((user, followed)) = follow_case {
            follow(conn, followed, user).await?;
        }
        link_attachments(conn, case.id, &ev.attachments).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn case_events(
        &self,
        case_id: i64,
        vis: &CaseVisibility,
    ) -> Result<Option<Vec<CaseEvent>>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT 1 FROM cases WHERE cases.id = ");
        q.push_bind(case_id);
        push_visibility(&mut q, vis);
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        if q.build()
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .is_none()
        {
            return Ok(None);
        }
        let events = sqlx::query("SELECT * FROM case_events WHERE case_id = ? ORDER BY seq")
            .bind(case_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::event)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(events))
    }

    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<CaseEvent>> {
        sqlx::query("SELECT * FROM case_events WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::event)
            .collect()
    }

    async fn duplicate_candidates(
        &self,
        category_code: &str,
        bbox: [f64; 4],
        since: DateTime<Utc>,
    ) -> Result<Vec<Case>> {
        let [min_lng, min_lat, max_lng, max_lat] = bbox;
        let sql: &'static str = {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            SQL.get_or_init(|| {
                format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE category_code = ? AND created_at >= ? \
                     AND lng BETWEEN ? AND ? AND lat BETWEEN ? AND ? \
                     AND status NOT IN ('closed', 'cancelled') AND merged_into IS NULL ORDER BY id"
                )
            })
        };
        sqlx::query(sql)
            .bind(category_code)
            .bind(ts(since))
            .bind(min_lng)
            .bind(max_lng)
            .bind(min_lat)
            .bind(max_lat)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::case)
            .collect()
    }

    async fn mark_lights(&self, now: DateTime<Utc>, limit: u32, mark: MarkFn<'_>) -> Result<u64> {
        let at = ts(now);
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        // Both arms are index range scans (the partial indexes on stage_yellow_at / stage_due).
        let sql: &'static str = {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            SQL.get_or_init(|| {
                format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE cases.id IN ( \
                       SELECT id FROM cases WHERE stage_yellow_at <= ?1 AND light = 'green' \
                       UNION SELECT id FROM cases WHERE stage_due < ?1 AND light <> 'red') \
                     ORDER BY cases.stage_due, cases.id LIMIT ?2"
                )
            })
        };
        let rows = sqlx::query(sql)
            .bind(&at)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        let mut changed = 0u64;
        let (mut seq, mut prev, _) = head_and_last_id(conn).await?;
        for row in &rows {
            let case = case_rows::case(row)?;
            if !case.status.is_open() {
                continue;
            }
            let Some((mut next, mut event, notify)) = mark(&case) else {
                continue;
            };
            // The stored version is the one just read: the write lock is held.
            next.id = case.id;
            next.code = case.code.clone();
            next.version = case.version;
            update_case(conn, &next).await?;
            event.case_id = case.id;
            seq += 1;
            prev = insert_event(conn, &event, seq, prev).await?;
            insert_notifications(conn, &notify, case.id).await?;
            changed += 1;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn import_history(&self, history: &CaseHistory) -> Result<u64> {
        let started = std::time::Instant::now();
        // Validate before taking the write lock.
        let mut days: HashMap<String, i64> = HashMap::new();
        for c in &history.cases {
            if c.id <= 0 || c.version < 1 {
                return Err(StoreError::Invalid(format!(
                    "history case {:?} needs an id and a version",
                    c.code
                )));
            }
            let (day, n) = parse_code(&c.code)?;
            let last = days.entry(day).or_insert(0);
            *last = (*last).max(n);
        }
        if let Some(n) = history.notifications.iter().find(|n| n.case_id <= 0) {
            return Err(StoreError::Invalid(format!(
                "history notification {:?} names no case",
                n.title
            )));
        }
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let any: Option<i64> = sqlx::query_scalar("SELECT id FROM cases LIMIT 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if any.is_some() {
            return Err(StoreError::Conflict(
                "history can only be imported into an empty case table".into(),
            ));
        }
        bulk_cases(conn, &history.cases).await?;
        let (seq, prev, _) = head_and_last_id(conn).await?;
        bulk_events(conn, &history.events, seq, prev).await?;
        bulk_notifications(conn, &history.notifications).await?;
        bulk_followers(conn, &history.followers).await?;
        let days: Vec<(String, i64)> = days.into_iter().collect();
        bulk_code_seq(conn, &days).await?;
        tx.commit().await.map_err(db_err)?;
        tracing::info!(
            cases = history.cases.len(),
            events = history.events.len(),
            notifications = history.notifications.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "case history imported"
        );
        Ok(history.cases.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse() {
        assert_eq!(
            parse_code("2026030200017").unwrap(),
            ("2026-03-02".to_string(), 17)
        );
        assert!(parse_code("20260302001").is_err());
        assert!(parse_code("2026130200001").is_err());
        assert!(parse_code("2026030200a01").is_err());
    }

    #[test]
    fn city_codes_cover_their_districts() {
        assert_eq!(region_filter_prefix("441300"), "4413");
        assert_eq!(region_filter_prefix("441302"), "441302");
        assert_eq!(region_filter_prefix("441302001"), "441302001");
    }
}
