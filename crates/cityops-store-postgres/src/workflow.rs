//! The responsibility matrix and the holiday schedule on PostgreSQL: each write and each restore
//! in one transaction with its kept version (`config_versions`) and its cache-version bump. The
//! bump comes first: its row lock orders concurrent changes, so the content a version keeps is
//! the state its own transaction left.
use cityops_store::{
    CalendarDay, ConfigChange, ConfigSubject, ConfigVersion, Result, RoutingRule, StoreError,
};
use cityops_store_sql::changes::{
    calendar_days_on, content, insert_version, parse_content, sorted_rules, version_content_on,
};
use cityops_store_sql::workflow::{validate_days, validate_rules};
use sqlx::{PgConnection, Postgres};

use crate::versions::{Cached, bump};
use crate::{PgStore, db_err};

/// Replaces the matrix with `rules` (validated) on the caller's transaction.
async fn replace_rules_on(conn: &mut PgConnection, rules: &[RoutingRule]) -> Result<()> {
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
async fn upsert_days_on(conn: &mut PgConnection, days: &[CalendarDay]) -> Result<()> {
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

/// Replacing the responsibility matrix, and restoring a kept version of it.
impl PgStore {
    pub(crate) async fn store_routing_rules(
        &self,
        rules: &[RoutingRule],
        change: &ConfigChange,
    ) -> Result<u64> {
        validate_rules(rules)?;
        let sorted = sorted_rules(rules);
        let text = content(&sorted)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        bump(&mut tx, Cached::Routing).await?;
        replace_rules_on(&mut tx, &sorted).await?;
        insert_version::<Postgres>(
            &mut tx,
            ConfigSubject::Routing,
            change,
            None,
            sorted.len(),
            text,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }

    pub(crate) async fn store_restore_routing(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let text = version_content_on::<Postgres>(&mut tx, ConfigSubject::Routing, id).await?;
        let rules = sorted_rules(&parse_content::<RoutingRule>(id, &text)?);
        bump(&mut tx, Cached::Routing).await?;
        replace_rules_on(&mut tx, &rules).await?;
        let v = insert_version::<Postgres>(
            &mut tx,
            ConfigSubject::Routing,
            change,
            Some(id),
            rules.len(),
            content(&rules)?,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(v)
    }
}

/// Upserting calendar days, and restoring a kept version of the schedule.
impl PgStore {
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
        bump(&mut tx, Cached::Calendar).await?;
        upsert_days_on(&mut tx, days).await?;
        let all = calendar_days_on::<Postgres>(&mut tx).await?;
        insert_version::<Postgres>(
            &mut tx,
            ConfigSubject::Calendar,
            change,
            None,
            all.len(),
            content(&all)?,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(days.len() as u64)
    }

    pub(crate) async fn store_restore_calendar(
        &self,
        id: i64,
        change: &ConfigChange,
    ) -> Result<ConfigVersion> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let text = version_content_on::<Postgres>(&mut tx, ConfigSubject::Calendar, id).await?;
        let days = parse_content::<CalendarDay>(id, &text)?;
        validate_days(&days)?;
        bump(&mut tx, Cached::Calendar).await?;
        sqlx::query("DELETE FROM calendar_days")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        upsert_days_on(&mut tx, &days).await?;
        let all = calendar_days_on::<Postgres>(&mut tx).await?;
        let v = insert_version::<Postgres>(
            &mut tx,
            ConfigSubject::Calendar,
            change,
            Some(id),
            all.len(),
            content(&all)?,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(v)
    }
}
