//! The cache-version bump inside SQLite write transactions (the `CacheRepo`/`AuditRepo` impls are
//! shared: `cityops_store_sql::shared_repos!`).
use cityops_store::Result;
use cityops_store_sql::versions as shared;
pub(crate) use cityops_store_sql::versions::Cached;
use sqlx::SqliteConnection;

use crate::db_err;

/// Bumps the version of `what`, in the caller's transaction.
pub(crate) async fn bump(conn: &mut SqliteConnection, what: Cached) -> Result<()> {
    sqlx::query(shared::bump_sql(what))
        .execute(conn)
        .await
        .map_err(db_err)
        .map(drop)
}
