//! The case workflow's supporting repositories on SQLite: the responsibility matrix and the
//! holiday schedule (their reads are shared; inboxes and attachments are all shared, see `read`).
use std::collections::HashSet;

use cityops_store::{CalendarDay, Result, RoutingRule, StoreError};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::case_write::BEGIN_WRITE;
use crate::versions::{Cached, bump};
use crate::{SqliteStore, db_err};
use cityops_store_sql::workflow::validate_rules;

const CHUNK: usize = 1000;

/// Replacing the responsibility matrix.
impl SqliteStore {
    pub(crate) async fn store_routing_rules(&self, rules: &[RoutingRule]) -> Result<u64> {
        validate_rules(rules)?;
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let wanted: Vec<i64> = rules
            .iter()
            .map(|r| r.department_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !wanted.is_empty() {
            let list =
                serde_json::to_string(&wanted).map_err(|e| StoreError::Database(e.to_string()))?;
            let known: HashSet<i64> = sqlx::query_scalar(
                "SELECT id FROM departments WHERE id IN (SELECT value FROM json_each(?))",
            )
            .bind(list)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
            if let Some(r) = rules.iter().find(|r| !known.contains(&r.department_id)) {
                return Err(StoreError::Invalid(format!(
                    "routing rule {}/{}/{}: unknown department {}",
                    r.category_kind, r.category_code, r.region_code, r.department_id
                )));
            }
        }
        sqlx::query("DELETE FROM routing_rules")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        for chunk in rules.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO routing_rules (category_kind, category_code, region_code, \
                 department_id, auto_dispatch) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.category_kind.as_str())
                    .push_bind(r.category_code.as_str())
                    .push_bind(r.region_code.as_str())
                    .push_bind(r.department_id)
                    .push_bind(r.auto_dispatch);
            });
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }
        bump(conn, Cached::Routing).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }
}

/// Upserting calendar days.
impl SqliteStore {
    pub(crate) async fn store_calendar_days(&self, days: &[CalendarDay]) -> Result<u64> {
        cityops_store_sql::workflow::validate_days(days)?;
        if days.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        for chunk in days.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("INSERT INTO calendar_days (date, kind, name) ");
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(d.date.format("%Y-%m-%d").to_string())
                    .push_bind(d.kind.as_str())
                    .push_bind(d.name.as_str());
            });
            qb.push(" ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name");
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }
        bump(conn, Cached::Calendar).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(days.len() as u64)
    }
}
