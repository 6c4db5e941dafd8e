//! Cache versions (`CacheRepo`) and the audit checkpoint (`AuditRepo`) on PostgreSQL: one row
//! each. The writes that change cached data call [`bump`] inside their own transaction.
use async_trait::async_trait;
use cityops_store::{AuditCheckpoint, AuditRepo, CacheRepo, CacheVersions, Result};
use sqlx::{PgConnection, Row};

use crate::{PgStore, db_err};

/// Which cached data a write changed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cached {
    Routing,
    Calendar,
    Catalogue,
}

/// Bumps the version of `what`, in the caller's transaction (recreating the row if it is gone).
pub(crate) async fn bump(conn: &mut PgConnection, what: Cached) -> Result<()> {
    let sql = match what {
        Cached::Routing => {
            "INSERT INTO cache_versions (id, routing) VALUES (1, 1)
             ON CONFLICT (id) DO UPDATE SET routing = cache_versions.routing + 1"
        }
        Cached::Calendar => {
            "INSERT INTO cache_versions (id, calendar) VALUES (1, 1)
             ON CONFLICT (id) DO UPDATE SET calendar = cache_versions.calendar + 1"
        }
        Cached::Catalogue => {
            "INSERT INTO cache_versions (id, catalogue) VALUES (1, 1)
             ON CONFLICT (id) DO UPDATE SET catalogue = cache_versions.catalogue + 1"
        }
    };
    sqlx::query(sql).execute(conn).await.map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl CacheRepo for PgStore {
    async fn cache_versions(&self) -> Result<CacheVersions> {
        let row =
            sqlx::query("SELECT routing, calendar, catalogue FROM cache_versions WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(CacheVersions::default());
        };
        Ok(CacheVersions {
            routing: row.try_get("routing").map_err(db_err)?,
            calendar: row.try_get("calendar").map_err(db_err)?,
            catalogue: row.try_get("catalogue").map_err(db_err)?,
        })
    }
}

#[async_trait]
impl AuditRepo for PgStore {
    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>> {
        let row = sqlx::query("SELECT seq, hash, verified_at FROM audit_checkpoint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AuditCheckpoint {
            seq: row.try_get("seq").map_err(db_err)?,
            hash: row.try_get("hash").map_err(db_err)?,
            verified_at: row.try_get("verified_at").map_err(db_err)?,
        }))
    }

    async fn save_audit_checkpoint(&self, cp: &AuditCheckpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoint (id, seq, hash, verified_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
                 verified_at = excluded.verified_at
             WHERE excluded.seq >= audit_checkpoint.seq",
        )
        .bind(cp.seq)
        .bind(&cp.hash)
        .bind(cp.verified_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
