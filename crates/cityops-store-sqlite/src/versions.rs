//! Cache versions (`CacheRepo`) and the audit checkpoint (`AuditRepo`) on SQLite: the shared code
//! of `cityops-store-sql`, on the read pool and the writer.
use async_trait::async_trait;
use cityops_store::{AuditCheckpoint, AuditRepo, CacheRepo, CacheVersions, Result};
use cityops_store_sql::versions as shared;
pub(crate) use cityops_store_sql::versions::Cached;
use sqlx::SqliteConnection;

use crate::{SqliteStore, db_err};

/// Bumps the version of `what`, in the caller's transaction.
pub(crate) async fn bump(conn: &mut SqliteConnection, what: Cached) -> Result<()> {
    sqlx::query(shared::bump_sql(what))
        .execute(conn)
        .await
        .map_err(db_err)
        .map(drop)
}

#[async_trait]
impl CacheRepo for SqliteStore {
    async fn cache_versions(&self) -> Result<CacheVersions> {
        shared::cache_versions(&self.read).await
    }
}

#[async_trait]
impl AuditRepo for SqliteStore {
    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>> {
        shared::audit_checkpoint(&self.read).await
    }

    async fn save_audit_checkpoint(&self, cp: &AuditCheckpoint) -> Result<()> {
        shared::save_audit_checkpoint(&self.write, cp).await
    }
}
