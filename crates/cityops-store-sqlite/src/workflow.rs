//! The case workflow's supporting repositories on SQLite: the responsibility matrix and the
//! holiday schedule, each change kept as a version (their reads are shared; inboxes and
//! attachments are all shared, see `read`).
use std::collections::HashSet;

use cityops_store::{CalendarDay, ConfigChange, ConfigVersion, Result, RoutingRule, StoreError};
use cityops_store_sql::changes::{self, ConfigWrites};
use cityops_store_sql::workflow::{validate_days, validate_rules};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::case_write::BEGIN_WRITE;
use crate::{SqliteStore, db_err};

const CHUNK: usize = 1000;

/// Replaces the matrix with `rules` (validated) on the caller's transaction.
async fn replace_rules(conn: &mut SqliteConnection, rules: &[RoutingRule]) -> Result<()> {
    validate_rules(rules)?;
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
    Ok(())
}

/// Upserts `days` on the caller's transaction (no cache bump).
async fn upsert_days(conn: &mut SqliteConnection, days: &[CalendarDay]) -> Result<()> {
    for chunk in days.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO calendar_days (date, kind, name) ");
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(d.date.format("%Y-%m-%d").to_string())
                .push_bind(d.kind.as_str())
                .push_bind(d.name.as_str());
        });
        qb.push(" ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name");
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// The matrix and the schedule: this store's tuned writes; each change, its bump and its kept
/// version are written once in `cityops_store_sql::changes`.
impl ConfigWrites<Sqlite> for SqliteStore {
    fn replace_rules_on<'a>(
        conn: &'a mut SqliteConnection,
        rules: &'a [RoutingRule],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        replace_rules(conn, rules)
    }
    fn upsert_days_on<'a>(
        conn: &'a mut SqliteConnection,
        days: &'a [CalendarDay],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        upsert_days(conn, days)
    }
}

impl SqliteStore {
    pub(crate) async fn store_routing_rules(
        &self,
        rules: &[RoutingRule],
        change: &ConfigChange,
    ) -> Result<u64> {
        validate_rules(rules)?;
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        changes::replace_routing_on::<Sqlite, Self>(&mut tx, rules, change, None).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }

    pub(crate) async fn store_restore_routing(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let v = changes::restore_routing_on::<Sqlite, Self>(&mut tx, id, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(v)
    }

    pub(crate) async fn store_calendar_days(
        &self,
        days: &[CalendarDay],
        change: &ConfigChange,
    ) -> Result<u64> {
        // A date given twice, a year out of range or a name that is not plain text is refused,
        // as on every store.
        validate_days(days)?;
        if days.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        changes::change_calendar_on::<Sqlite, Self>(&mut tx, days, false, change, None).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(days.len() as u64)
    }

    pub(crate) async fn store_restore_calendar(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let v = changes::restore_calendar_on::<Sqlite, Self>(&mut tx, id, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(v)
    }
}
