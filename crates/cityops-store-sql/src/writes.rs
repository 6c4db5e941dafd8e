//! The small single-statement writes both stores make alike (meta, passwords, activation,
//! sessions). Bulk and workflow writes are tuned per backend and live in the store crates.
use chrono::{DateTime, Utc};
use cityops_store::{NewSession, NewUser, Result, StoreError, User};
use sqlx::Pool;

use crate::{Cols, Dialect, QueryExt, rows};

/// `Admin::set_meta`: inserts or replaces a `meta` value.
pub async fn set_meta<D: Dialect>(pool: &Pool<D>, key: &str, value: &str) -> Result<()> {
    let q = sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .arg(key.to_string())
    .arg(value.to_string());
    D::execute(pool, q).await?;
    Ok(())
}

/// `NotFound` when a statement about one row changed none.
fn one(changed: u64) -> Result<()> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// `OrgRepo::set_password_hash`.
pub async fn set_password_hash<D: Dialect>(
    pool: &Pool<D>,
    user_id: i64,
    password_hash: &str,
) -> Result<()> {
    let q = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .arg(password_hash.to_string())
        .arg(user_id);
    one(D::execute(pool, q).await?)
}

/// `OrgRepo::set_user_active`.
pub async fn set_user_active<D: Dialect>(pool: &Pool<D>, user_id: i64, active: bool) -> Result<()> {
    let q = sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
        .arg(active)
        .arg(user_id);
    one(D::execute(pool, q).await?)
}

/// `SessionRepo::create_session`; `Invalid` for an unknown user.
pub async fn create_session<D: Dialect>(pool: &Pool<D>, session: &NewSession) -> Result<()> {
    let q = sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, id, address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .arg(session.token_hash.clone())
    .arg(session.user_id);
    let q = D::arg_ts(D::arg_ts(q, session.created_at), session.expires_at)
        .arg(session.id.clone())
        .arg(session.address.clone())
        .arg(session.user_agent.clone());
    D::execute(pool, q).await.map_err(|e| match e {
        StoreError::Invalid(_) => {
            StoreError::Invalid(format!("session for unknown user {}", session.user_id))
        }
        other => other,
    })?;
    Ok(())
}

/// `SessionRepo::delete_user_session`: whether the user's session `id` was deleted.
pub async fn delete_user_session<D: Dialect>(
    pool: &Pool<D>,
    user_id: i64,
    id: &str,
) -> Result<bool> {
    let q = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .arg(user_id)
        .arg(id.to_string());
    Ok(D::execute(pool, q).await? > 0)
}

/// `SessionRepo::delete_other_sessions`: how many of the user's other sessions were deleted.
pub async fn delete_other_sessions<D: Dialect>(
    pool: &Pool<D>,
    user_id: i64,
    keep_token_hash: &str,
) -> Result<u64> {
    let q = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .arg(user_id)
        .arg(keep_token_hash.to_string());
    D::execute(pool, q).await
}

/// `SessionRepo::delete_session`.
pub async fn delete_session<D: Dialect>(pool: &Pool<D>, token_hash: &str) -> Result<()> {
    let q = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").arg(token_hash.to_string());
    D::execute(pool, q).await?;
    Ok(())
}

/// `SessionRepo::purge_expired_sessions`: how many expired sessions were removed.
pub async fn purge_expired_sessions<D: Dialect>(pool: &Pool<D>, now: DateTime<Utc>) -> Result<u64> {
    let q = D::arg_ts(
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1"),
        now,
    );
    D::execute(pool, q).await
}

/// `OrgRepo::create_user`: the department code is looked up on `read`, the user inserted on
/// `write` (a department removed in between fails the foreign key: `Invalid`); `Conflict` for a
/// taken username.
pub async fn create_user<D: Dialect>(
    read: &Pool<D>,
    write: &Pool<D>,
    user: &NewUser,
    now: DateTime<Utc>,
) -> Result<User> {
    user.validate()?;
    let department_id: Option<i64> = match user.department_code.as_deref() {
        None => None,
        Some(code) => {
            let q = sqlx::query("SELECT id FROM departments WHERE code = $1").arg(code.to_string());
            let row = D::fetch_optional(read, q).await?.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "user {}: unknown department code {code:?}",
                    user.username
                ))
            })?;
            Some(Cols::<D>(&row).get("id")?)
        }
    };
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    let grids: Vec<&str> = user.grids.iter().map(String::as_str).collect();
    let q = sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, roles, region_code, \
         department_id, grids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id, username, display_name, roles, region_code, department_id, active, grids",
    )
    .arg(user.username.clone())
    .arg(user.display_name.clone())
    .arg(user.password_hash.clone());
    let q = D::arg_list(q, &roles)
        .arg(user.region_code.clone())
        .arg(department_id);
    let q = D::arg_ts(D::arg_list(q, &grids), now);
    let row = D::fetch_one(write, q).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("username {:?} exists", user.username))
        }
        other => other,
    })?;
    rows::user::<D>(&row)
}
