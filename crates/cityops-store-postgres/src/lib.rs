//! PostgreSQL implementation of the CityOps store traits (plain PostgreSQL 15, no extensions).
//!
//! Invariants: every statement is parameterised (`&'static str` or [`sqlx::QueryBuilder`] with
//! bound values); an import is one transaction; bulk writes bind whole columns as arrays and
//! insert `FROM UNNEST(..)`, so the 65,535-parameter limit never applies; code-like columns are
//! `COLLATE "C"`, so ordering and prefix matching are bytewise like SQLite's.

mod cases;
mod import;
mod monitoring;
mod poi;
mod read;
mod versions;
mod workflow;

use std::str::FromStr;
use std::time::Duration;

use cityops_store::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// The migrations embedded from `crates/cityops-store-postgres/migrations`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections in the pool.
const POOL_SIZE: u32 = 10;
/// Connections that serve only the session lookup and the duplicate check.
const HOT_POOL_SIZE: u32 = 2;

/// The PostgreSQL store. Cheap to clone (the pool is reference-counted).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Connections of the request path that must never wait behind console reads: the session
    /// lookup and the duplicate check of every report.
    hot: PgPool,
    /// Reports and transitions waiting to be written in a group (see `cases`).
    queue: std::sync::Arc<cases::Queue>,
    /// The day partitions of readings this process has created or seen.
    partitions: std::sync::Arc<monitoring::Partitions>,
}

impl PgStore {
    /// Connects to `postgres://user[:password]@host[:port]/database`. Does not migrate; call
    /// [`cityops_store::Admin::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("cityops")
            // Acknowledged means durable, whatever the server's default: every commit of every
            // connection waits for its WAL flush (case writes also say so themselves).
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {e}")))?;
        let hot = PgPoolOptions::new()
            .max_connections(HOT_POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self {
            pool,
            hot,
            queue: std::sync::Arc::new(cases::new_queue()),
            partitions: Default::default(),
        })
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.hot.close().await;
        self.pool.close().await;
    }

    /// The columns of every application table as `(table, column)`, sorted: what the conformance
    /// suite compares with SQLite's `pragma_table_info`.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        cityops_store_sql::read::schema_columns(
            &self.pool,
            "SELECT table_name::text AS table_name, column_name::text AS column_name
               FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'
                -- The search index's grams are PostgreSQL's own (SQLite keeps them in FTS5).
                AND NOT (table_name = 'case_text' AND column_name = 'grams')
                -- The day partitions of readings are PostgreSQL's own (one table in SQLite).
                AND table_name NOT LIKE 'readings\\_%'",
        )
        .await
    }
}

/// Maps a driver error (shared by both stores).
pub(crate) use cityops_store_sql::db_err;

cityops_store_sql::shared_admin!(PgStore, backend: "postgres", read: pool, write: pool);

impl PgStore {
    /// After the SQL migrations: nothing (migration 0007 indexes the earlier cases in SQL).
    async fn after_migrations(&self) -> Result<()> {
        Ok(())
    }
}
