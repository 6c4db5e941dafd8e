//! Cache versions (`CacheRepo`) and the audit checkpoint (`AuditRepo`) on PostgreSQL: the shared
//! code of `cityops-store-sql`.
use async_trait::async_trait;
use cityops_store::{AuditCheckpoint, AuditRepo, CacheRepo, CacheVersions, Result};
use cityops_store_sql::versions as shared;
pub(crate) use cityops_store_sql::versions::Cached;
use sqlx::PgConnection;

use crate::{PgStore, db_err};

/// Bumps the version of `what`, in the caller's transaction.
pub(crate) async fn bump(conn: &mut PgConnection, what: Cached) -> Result<()> {
    sqlx::query(shared::bump_sql(what))
        .execute(conn)
        .await
        .map_err(db_err)
        .map(drop)
}

#[async_trait]
impl CacheRepo for PgStore {
    async fn cache_versions(&self) -> Result<CacheVersions> {
        shared::cache_versions(&self.pool).await
    }
}

#[async_trait]
impl AuditRepo for PgStore {
    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>> {
        shared::audit_checkpoint(&self.pool).await
    }

    async fn save_audit_checkpoint(&self, cp: &AuditCheckpoint) -> Result<()> {
        shared::save_audit_checkpoint(&self.pool, cp).await
    }
}
