//! `FollowRepo`: follow tokens (kept as SHA-256 only) and followers, alike on both stores.
use chrono::{DateTime, Utc};
use cityops_store::{Case, Result, StoreError};
use sqlx::Pool;

use crate::cases::{CASE_SELECT, case};
use crate::{Dialect, QueryExt};

/// `FollowRepo::add_follow_token`.
pub async fn add_follow_token<D: Dialect>(
    pool: &Pool<D>,
    case_id: i64,
    token_hash: &str,
    created_at: DateTime<Utc>,
) -> Result<()> {
    let q = sqlx::query(
        "INSERT INTO case_follow_tokens (case_id, token_hash, created_at) VALUES ($1, $2, $3)",
    )
    .arg(case_id)
    .arg(token_hash.to_string());
    D::execute(pool, D::arg_ts(q, created_at))
        .await
        .map_err(|e| match e {
            StoreError::Invalid(_) => StoreError::Invalid(format!("no case {case_id}")),
            other => other,
        })?;
    Ok(())
}

/// The lookup of `FollowRepo::case_by_follow_token` (the columns of [`CASE_SELECT`]): the code
/// and the hash must name one row.
const BY_TOKEN: &str = "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc FROM cases c \
     WHERE c.code = $1 AND c.id IN \
     (SELECT t.case_id FROM case_follow_tokens t WHERE t.token_hash = $2)";

/// `FollowRepo::case_by_follow_token`.
pub async fn case_by_follow_token<D: Dialect>(
    pool: &Pool<D>,
    code: &str,
    token_hash: &str,
) -> Result<Option<Case>> {
    debug_assert!(BY_TOKEN.starts_with(CASE_SELECT));
    let q = sqlx::query(BY_TOKEN)
        .arg(code.to_string())
        .arg(token_hash.to_string());
    D::fetch_optional(pool, q)
        .await?
        .as_ref()
        .map(case::<D>)
        .transpose()
}

/// `FollowRepo::follow_case`.
pub async fn follow_case<D: Dialect>(pool: &Pool<D>, user_id: i64, case_id: i64) -> Result<bool> {
    let exists = sqlx::query("SELECT 1 AS one FROM cases WHERE id = $1").arg(case_id);
    if D::fetch_optional(pool, exists).await?.is_none() {
        return Err(StoreError::Invalid(format!("no case {case_id}")));
    }
    let q = sqlx::query(
        "INSERT INTO case_followers (case_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .arg(case_id)
    .arg(user_id);
    Ok(D::execute(pool, q).await? > 0)
}
