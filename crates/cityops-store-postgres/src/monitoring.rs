//! Operation monitoring on PostgreSQL: the shared queries (`cityops_store_sql::monitoring`) and
//! the tuned reading writes. A batch of readings is one statement: the readings `UNNEST`ed from
//! four arrays into the partitioned `readings` table (`ON CONFLICT DO NOTHING`), and — from what
//! that insert returned, i.e. only what was new — the minute and hour rollups, in the same
//! statement, committed on its own (one round trip) and synchronously. Readings are partitioned by UTC day (`readings_YYYYMMDD`),
//! created ahead of the data as batches arrive; retention drops whole days.
use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cityops_store::{Reading, Result};
use sqlx::Row;

use crate::{PgStore, db_err};

cityops_store_sql::shared_monitoring_repo!(PgStore, read: pool, write: pool);

/// The statement of a batch: new readings, then both rollups of what was new.
const INSERT_READINGS: &str = "WITH new AS (
    INSERT INTO readings (device_key, metric, ts_ms, value)
    SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::int8[], $4::float8[])
    ON CONFLICT DO NOTHING
    RETURNING device_key, metric, ts_ms, value
), buckets AS (
    SELECT device_key, metric, r.res, (ts_ms / r.res) * r.res AS bucket_ms,
           count(*) AS n, sum(value) AS total, min(value) AS min_value, max(value) AS max_value
      FROM new CROSS JOIN (VALUES (60000), (3600000)) AS r(res)
     GROUP BY device_key, metric, r.res, (ts_ms / r.res) * r.res
), rolled AS (
    INSERT INTO reading_rollups (device_key, metric, resolution, bucket_ms, n, total, min_value, max_value)
    SELECT device_key, metric, res, bucket_ms, n, total, min_value, max_value FROM buckets
    ON CONFLICT (device_key, metric, resolution, bucket_ms) DO UPDATE
    SET n = reading_rollups.n + excluded.n, total = reading_rollups.total + excluded.total,
        min_value = LEAST(reading_rollups.min_value, excluded.min_value),
        max_value = GREATEST(reading_rollups.max_value, excluded.max_value)
    RETURNING 1
)
SELECT (SELECT count(*) FROM new) AS new, (SELECT count(*) FROM rolled) AS rolled";

/// The UTC day partitions known to exist (per process; `CREATE … IF NOT EXISTS` makes a second
/// process's attempt harmless).
pub(crate) type Partitions = Mutex<HashSet<NaiveDate>>;

fn partition_name(day: NaiveDate) -> String {
    format!("readings_{}", day.format("%Y%m%d"))
}

fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis()
}

impl PgStore {
    /// Creates the day partitions the readings fall in that this process has not seen yet. A
    /// day whose readings already went to the default partition cannot get its own (PostgreSQL
    /// refuses): those stay in the default partition, which works, only less tidily.
    async fn ensure_partitions(&self, readings: &[Reading]) -> Result<()> {
        let days: HashSet<NaiveDate> = readings.iter().map(|r| r.ts.date_naive()).collect();
        let missing: Vec<NaiveDate> = {
            let known = self.partitions.lock().expect("partitions");
            days.into_iter().filter(|d| !known.contains(d)).collect()
        };
        for day in missing {
            let next = day + Duration::days(1);
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF readings FOR VALUES FROM ({}) TO ({})",
                partition_name(day),
                day_start_ms(day),
                day_start_ms(next)
            );
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&self.pool)
                .await
            {
                tracing::warn!(%day, error = %e, "readings of this day stay in the default partition");
            }
            self.partitions.lock().expect("partitions").insert(day);
        }
        Ok(())
    }

    async fn insert_readings_tuned(&self, readings: &[Reading]) -> Result<u64> {
        self.ensure_partitions(readings).await?;
        let mut keys = Vec::with_capacity(readings.len());
        let mut metrics = Vec::with_capacity(readings.len());
        let mut times = Vec::with_capacity(readings.len());
        let mut values = Vec::with_capacity(readings.len());
        for r in readings {
            keys.push(r.device_key);
            metrics.push(i32::from(r.metric.code()));
            times.push(r.ts.timestamp_millis());
            values.push(r.value);
        }
        // One statement, committed on its own (atomic, and durable: the pool's connections run
        // with `synchronous_commit = on`): one round trip per batch.
        let row = sqlx::query(INSERT_READINGS)
            .bind(keys)
            .bind(metrics)
            .bind(times)
            .bind(values)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let new: i64 = row.try_get("new").map_err(db_err)?;
        Ok(new as u64)
    }

    async fn prune_readings_tuned(&self, before: DateTime<Utc>) -> Result<u64> {
        let cut = before.timestamp_millis();
        // Whole days before the cut: drop their partitions.
        let rows = sqlx::query(
            "SELECT c.relname::text AS name FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
             WHERE p.relname = 'readings' AND c.relname ~ '^readings_[0-9]{8}$'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for row in rows {
            let name: String = row.try_get("name").map_err(db_err)?;
            let Ok(day) = NaiveDate::parse_from_str(&name["readings_".len()..], "%Y%m%d") else {
                continue;
            };
            if day_start_ms(day + Duration::days(1)) <= cut {
                // The name is ours: matched `readings_[0-9]{8}` above.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {name}")))
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                self.partitions.lock().expect("partitions").remove(&day);
            }
        }
        // The rest (the cut's own day, the default partition) row by row.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM readings WHERE ts_ms < $1")
            .bind(cut)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query("DELETE FROM reading_rollups WHERE bucket_ms + resolution <= $1")
            .bind(cut)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(gone)
    }
}
