//! `CaseRepo` on SQLite: cases as a JSON document plus projected columns, one hash chain of
//! events, daily code sequences.
//!
//! Every transaction that appends events starts with `BEGIN IMMEDIATE` on the writer: that takes
//! SQLite's write lock first (the chain lock — also against other processes on the same file),
//! then reads the chain head and hashes the new events from it. Reports and transitions are
//! written in groups (see `group_write`).
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cityops_store::{CaseHistory, MarkFn, Result, StoreError};
use sqlx::{Sqlite, SqliteConnection};

use crate::case_write::{
    BEGIN_WRITE, bulk_cases, bulk_code_seq, bulk_events, bulk_followers, bulk_notifications,
    head_and_last_id, insert_event, insert_notifications, update_case,
};
use crate::rows::ts;
use crate::{SqliteStore, db_err};
use cityops_store_sql::cases::{self, CASE_COLUMNS, split_code};

/// The daily sequence key (`YYYY-MM-DD`) and number of a case code.
fn parse_code(code: &str) -> Result<(String, i64)> {
    let (day, n) = split_code(code)?;
    Ok((day.format("%Y-%m-%d").to_string(), n))
}

/// The case writes, tuned for this backend (the reads are shared: `cityops_store_sql::shared_case_repos!`).
impl SqliteStore {
    pub(crate) async fn store_marks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        mark: MarkFn<'_>,
    ) -> Result<u64> {
        let at = ts(now);
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        // Both arms are index range scans (the partial indexes on stage_yellow_at / stage_due).
        let sql: &'static str = {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            SQL.get_or_init(|| {
                format!(
                    "SELECT {CASE_COLUMNS} FROM cases c WHERE c.id IN ( \
                       SELECT id FROM cases WHERE stage_yellow_at <= ?1 AND light = 'green' \
                       UNION SELECT id FROM cases WHERE stage_due < ?1 AND light <> 'red') \
                     ORDER BY c.stage_due, c.id LIMIT ?2"
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
            let case = cases::case::<Sqlite>(row)?;
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

    pub(crate) async fn store_history(&self, history: &CaseHistory) -> Result<u64> {
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
    fn codes_parse_to_day_keys() {
        assert_eq!(
            parse_code("2026030200017").unwrap(),
            ("2026-03-02".to_string(), 17)
        );
        assert!(parse_code("20260302001").is_err());
        assert!(parse_code("2026130200001").is_err());
    }
}
