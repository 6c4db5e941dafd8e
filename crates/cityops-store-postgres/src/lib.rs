//! PostgreSQL implementation of the CityOps store traits (plain PostgreSQL 15, no extensions).
//!
//! Invariants: every statement is parameterised (`&'static str` or [`sqlx::QueryBuilder`] with
//! bound values); an import is one transaction; bulk writes bind whole columns as arrays and
//! insert `FROM UNNEST(..)`, so the 65,535-parameter limit never applies; code-like columns are
//! `COLLATE "C"`, so ordering and prefix matching are bytewise like SQLite's.

mod cases;
mod import;
mod read;
mod rows;
mod versions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cityops_store::{Admin, Result, StoreError, StoreStats};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// The migrations embedded from `crates/cityops-store-postgres/migrations`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections in the pool.
const POOL_SIZE: u32 = 10;

/// The PostgreSQL store. Cheap to clone (the pool is reference-counted).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `postgres://user[:password]@host[:port]/database`. Does not migrate; call
    /// [`Admin::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("cityops");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self { pool })
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The columns of every application table as `(table, column)`, sorted: what the conformance
    /// suite compares with SQLite's `pragma_table_info`.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name
               FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut columns = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("table_name").map_err(db_err)?,
                    r.try_get("column_name").map_err(db_err)?,
                ))
            })
            .collect::<Result<Vec<(String, String)>>>()?;
        columns.sort();
        Ok(columns)
    }
}

/// Maps a driver error: unique violations → `Conflict`; foreign-key, check and not-null
/// violations → `Invalid`; `RowNotFound` → `NotFound`; anything else → `Database`.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    use sqlx::error::ErrorKind;
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(d.message().to_string()),
            ErrorKind::ForeignKeyViolation
            | ErrorKind::CheckViolation
            | ErrorKind::NotNullViolation => StoreError::Invalid(d.message().to_string()),
            _ => StoreError::Database(e.to_string()),
        },
        _ => StoreError::Database(e.to_string()),
    }
}

#[async_trait]
impl Admin for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM regions) AS regions,
                    (SELECT count(*) FROM regions WHERE level = 'grid') AS grids,
                    (SELECT count(*) FROM categories) AS categories,
                    (SELECT count(*) FROM departments) AS departments,
                    (SELECT count(*) FROM users) AS users,
                    (SELECT count(*) FROM components) AS components,
                    (SELECT count(*) FROM cases) AS cases,
                    (SELECT count(*) FROM case_events) AS case_events",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let get = |c: &str| -> Result<u64> {
            Ok(row.try_get::<i64, _>(c).map_err(db_err)?.max(0) as u64)
        };
        Ok(StoreStats {
            regions: get("regions")?,
            grids: get("grids")?,
            categories: get("categories")?,
            departments: get("departments")?,
            users: get("users")?,
            components: get("components")?,
            cases: get("cases")?,
            case_events: get("case_events")?,
        })
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
