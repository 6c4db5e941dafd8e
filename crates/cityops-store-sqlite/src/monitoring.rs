//! Operation monitoring on SQLite: the shared queries (`cityops_store_sql::monitoring`) and the
//! tuned reading writes — multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` of up to 1,000
//! readings per statement, then the rollups of what was new, in one transaction on the writer
//! (durable at commit: the writer runs with `synchronous = FULL`).
use chrono::{DateTime, Utc};
use cityops_store::{Reading, Result};
use cityops_store_sql::monitoring::{ROLLUP_UPSERT, RollupAdds, add_to_rollups};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::{SqliteStore, db_err};

/// Readings per statement (4 values each: well inside SQLite's bound-variable limit).
const ROWS_PER_STATEMENT: usize = 1_000;

cityops_store_sql::shared_monitoring_repo!(SqliteStore, read: read, write: write);

impl SqliteStore {
    async fn insert_readings_tuned(&self, readings: &[Reading]) -> Result<u64> {
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let mut adds = RollupAdds::new();
        let mut new = 0u64;
        for chunk in readings.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO readings (device_key, metric, ts_ms, value) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.device_key)
                    .push_bind(i64::from(r.metric.code()))
                    .push_bind(r.ts.timestamp_millis())
                    .push_bind(r.value);
            });
            q.push(" ON CONFLICT DO NOTHING RETURNING device_key, metric, ts_ms, value");
            for row in q.build().fetch_all(&mut *tx).await.map_err(db_err)? {
                let metric: i64 = row.try_get("metric").map_err(db_err)?;
                add_to_rollups(
                    &mut adds,
                    row.try_get("device_key").map_err(db_err)?,
                    metric as i16,
                    row.try_get("ts_ms").map_err(db_err)?,
                    row.try_get("value").map_err(db_err)?,
                );
                new += 1;
            }
        }
        let adds: Vec<_> = adds.into_iter().collect();
        for chunk in adds.chunks(ROWS_PER_STATEMENT / 2) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO reading_rollups (device_key, metric, resolution, bucket_ms, n, \
                 total, min_value, max_value) ",
            );
            q.push_values(
                chunk,
                |mut b, ((key, metric, res, bucket), (n, sum, min, max))| {
                    b.push_bind(*key)
                        .push_bind(i64::from(*metric))
                        .push_bind(*res)
                        .push_bind(*bucket)
                        .push_bind(*n)
                        .push_bind(*sum)
                        .push_bind(*min)
                        .push_bind(*max);
                },
            );
            q.push(ROLLUP_UPSERT);
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(new)
    }

    async fn prune_readings_tuned(&self, before: DateTime<Utc>) -> Result<u64> {
        let cut = before.timestamp_millis();
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM readings WHERE ts_ms < ?1")
            .bind(cut)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query("DELETE FROM reading_rollups WHERE bucket_ms + resolution <= ?1")
            .bind(cut)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(gone)
    }
}
