//! The responsibility matrix and the holiday schedule on PostgreSQL: the tuned writes (`UNNEST`);
//! each change with its bump and kept version is written once in `cityops_store_sql::changes`.
use cityops_store::{CalendarDay, ConfigChange, ConfigVersion, Result, RoutingRule, StoreError};
use cityops_store_sql::changes::{self, ConfigWrites};
use cityops_store_sql::workflow::{validate_days, validate_rules};
use sqlx::{PgConnection, Postgres};

use crate::{PgStore, db_err};

/// Replaces the matrix with `rules` (validated) on the caller's transaction.
async fn replace_rules(conn: &mut PgConnection, rules: &[RoutingRule]) -> Result<()> {
    validate_rules(rules)?;
    let mut departments: Vec<i64> = rules.iter().map(|r| r.department_id).collect();
    departments.sort_unstable();
    departments.dedup();
    let known: Vec<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE id = ANY($1)")
        .bind(&departments)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    if let Some(missing) = departments.iter().find(|d| !known.contains(d)) {
        return Err(StoreError::Invalid(format!(
            "routing rule refers to unknown department {missing}"
        )));
    }
    sqlx::query("DELETE FROM routing_rules")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO routing_rules (category_kind, category_code, region_code, department_id, auto_dispatch)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::bool[])",
    )
    .bind(rules.iter().map(|r| r.category_kind.as_str()).collect::<Vec<_>>())
    .bind(rules.iter().map(|r| r.category_code.as_str()).collect::<Vec<_>>())
    .bind(rules.iter().map(|r| r.region_code.as_str()).collect::<Vec<_>>())
    .bind(rules.iter().map(|r| r.department_id).collect::<Vec<_>>())
    .bind(rules.iter().map(|r| r.auto_dispatch).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Upserts `days` on the caller's transaction.
async fn upsert_days(conn: &mut PgConnection, days: &[CalendarDay]) -> Result<()> {
    sqlx::query(
        "INSERT INTO calendar_days (date, kind, name)
         SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[])
         ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name",
    )
    .bind(days.iter().map(|d| d.date).collect::<Vec<_>>())
    .bind(days.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>())
    .bind(days.iter().map(|d| d.name.as_str()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The matrix and the schedule: this store's tuned writes; each change, its bump and its kept
/// version are written once in `cityops_store_sql::changes`.
impl ConfigWrites<Postgres> for PgStore {
    fn replace_rules_on<'a>(
        conn: &'a mut PgConnection,
        rules: &'a [RoutingRule],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        replace_rules(conn, rules)
    }
    fn upsert_days_on<'a>(
        conn: &'a mut PgConnection,
        days: &'a [CalendarDay],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        upsert_days(conn, days)
    }
}

impl PgStore {
    pub(crate) async fn store_routing_rules(
        &self,
        rules: &[RoutingRule],
        change: &ConfigChange,
    ) -> Result<u64> {
        validate_rules(rules)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        changes::replace_routing_on::<Postgres, Self>(&mut tx, rules, change, None).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }

    pub(crate) async fn store_restore_routing(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let v = changes::restore_routing_on::<Postgres, Self>(&mut tx, id, change).await?;
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        changes::change_calendar_on::<Postgres, Self>(&mut tx, days, false, change, None).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(days.len() as u64)
    }

    pub(crate) async fn store_restore_calendar(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let v = changes::restore_calendar_on::<Postgres, Self>(&mut tx, id, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(v)
    }
}
