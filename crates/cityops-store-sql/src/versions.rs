//! Cache versions (`CacheRepo`) and the audit checkpoint (`AuditRepo`): one row each, read and
//! written alike on both stores. The writes that change cached data run [`bump_sql`] inside their
//! own transaction (each store on its own connection type).
use cityops_store::{AuditCheckpoint, CacheVersions, Result};
use sqlx::Pool;

use crate::{Cols, Dialect, QueryExt};

/// Which cached data a write changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    Routing,
    Calendar,
    Catalogue,
}

/// The statement that bumps the version of `what` (recreating the row if it is gone); the same
/// text on both dialects.
pub fn bump_sql(what: Cached) -> &'static str {
    match what {
        Cached::Routing => {
            "INSERT INTO cache_versions (id, routing) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET routing = cache_versions.routing + 1"
        }
        Cached::Calendar => {
            "INSERT INTO cache_versions (id, calendar) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET calendar = cache_versions.calendar + 1"
        }
        Cached::Catalogue => {
            "INSERT INTO cache_versions (id, catalogue) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET catalogue = cache_versions.catalogue + 1"
        }
    }
}

/// `CacheRepo::cache_versions` (all zero before the first write).
pub async fn cache_versions<D: Dialect>(pool: &Pool<D>) -> Result<CacheVersions> {
    let row = D::fetch_optional(
        pool,
        sqlx::query("SELECT routing, calendar, catalogue FROM cache_versions WHERE id = 1"),
    )
    .await?;
    let Some(row) = row else {
        return Ok(CacheVersions::default());
    };
    let r = Cols::<D>(&row);
    Ok(CacheVersions {
        routing: r.get("routing")?,
        calendar: r.get("calendar")?,
        catalogue: r.get("catalogue")?,
    })
}

/// `AuditRepo::audit_checkpoint`.
pub async fn audit_checkpoint<D: Dialect>(pool: &Pool<D>) -> Result<Option<AuditCheckpoint>> {
    let row = D::fetch_optional(
        pool,
        sqlx::query("SELECT seq, hash, verified_at FROM audit_checkpoint WHERE id = 1"),
    )
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let r = Cols::<D>(&row);
    Ok(Some(AuditCheckpoint {
        seq: r.get("seq")?,
        hash: r.get("hash")?,
        verified_at: D::ts(&row, "verified_at")?,
    }))
}

/// `AuditRepo::save_audit_checkpoint`: never moves the checkpoint backwards.
pub async fn save_audit_checkpoint<D: Dialect>(pool: &Pool<D>, cp: &AuditCheckpoint) -> Result<()> {
    let q = sqlx::query(
        "INSERT INTO audit_checkpoint (id, seq, hash, verified_at) VALUES (1, $1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
         verified_at = excluded.verified_at WHERE excluded.seq >= audit_checkpoint.seq",
    )
    .arg(cp.seq)
    .arg(cp.hash.clone());
    D::execute(pool, D::arg_ts(q, cp.verified_at)).await?;
    Ok(())
}

/// Why a case write could not claim its photos: the owners (`id`, `case_id`) of the photos it
/// listed, as read back in the failed write's transaction, turned into the store's error.
pub fn attachment_claim_failure<D: Dialect>(
    case_id: i64,
    wanted: &[i64],
    linked: u64,
    owner_rows: &[D::Row],
) -> cityops_store::StoreError {
    let found: Result<Vec<(i64, Option<i64>)>> = owner_rows
        .iter()
        .map(|r| {
            let r = Cols::<D>(r);
            Ok((r.get("id")?, r.get("case_id")?))
        })
        .collect();
    match found {
        Ok(found) => {
            cityops_store::attachment_claim_error(case_id, wanted, &found).unwrap_or_else(|| {
                cityops_store::StoreError::Database(format!(
                    "linked {linked} of the attachments {wanted:?} of case {case_id}"
                ))
            })
        }
        Err(e) => e,
    }
}
