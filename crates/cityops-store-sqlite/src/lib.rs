//! SQLite implementation of the CityOps store traits (the embedded default database).
//!
//! Layout: one writer (a pool of exactly one connection, so concurrent writes queue in Rust instead
//! of failing with `SQLITE_BUSY`) and a read pool of `query_only` connections, all in WAL mode with
//! a busy timeout and foreign keys on. The writer runs with `synchronous = FULL`: every commit
//! flushes the WAL before it returns, so a write that was acknowledged survives a power loss
//! (`NORMAL` in WAL mode may lose the last commits); reports and transitions are written in
//! groups (`group_write`), so a storm of reports costs one flush per group, not one per report.
//! `sqlite::memory:` (tests) uses one shared connection for both, so the data lives as long as the
//! store.
//!
//! Invariants: every statement is parameterised (`&'static str` or [`sqlx::QueryBuilder`] with
//! bound values); an import is one transaction on the writer; timestamps are stored as fixed-width
//! RFC 3339 UTC text (`2026-01-02T03:04:05.000000Z`) so that text order is time order.
//!
//! Case workflow: a case is its JSON document (`cases.doc`) plus projected columns for every filter,
//! sort and scope check; events form one hash chain in `case_events`. Every transaction that
//! appends events opens with `BEGIN IMMEDIATE`, so it holds SQLite's write lock (the chain lock,
//! also against other processes on the same file) before it reads the chain head.
//!
//! Rule for new queries: inside a write transaction use only that transaction, never the read
//! pool — with `sqlite::memory:` both pools are the same single connection, so waiting for a
//! reader while holding the writer would deadlock until the acquire timeout.

mod case_rows;
mod case_write;
mod cases;
mod group_write;
mod import;
mod monitoring;
mod poi;
mod read;
mod rows;
mod versions;
mod workflow;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cityops_store::{Result, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The migrations embedded from `crates/cityops-store-sqlite/migrations`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Number of read connections for a file database.
const READ_POOL_SIZE: u32 = 4;
/// Number of connections that serve only the session lookup and the duplicate check.
const HOT_POOL_SIZE: u32 = 2;

/// The SQLite store. Cheap to clone (the pools are reference-counted).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The single writer connection.
    write: SqlitePool,
    /// Readers (the same pool as `write` for an in-memory database).
    read: SqlitePool,
    /// Readers of the request path that must never wait behind console reads: the session
    /// lookup and the duplicate check of every report (the same pool as `write` in memory).
    hot: SqlitePool,
    /// Reports and transitions waiting to be written in a group (see `group_write`).
    queue: Arc<group_write::Queue>,
    /// The connection that checkpoints the WAL beside the writer (file databases only); the
    /// checkpointer task stops when the last clone of the store is dropped.
    checkpoint: Option<Arc<SqlitePool>>,
}

/// How often the WAL is checkpointed beside the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies committed WAL pages into the database file every [`CHECKPOINT_EVERY`] with a PASSIVE
/// checkpoint on its own connection: it never waits for, nor blocks, the writer or the readers,
/// so commits (and the answers waiting for them) do not stall on a checkpoint of many pages.
fn spawn_checkpointer(pool: std::sync::Weak<SqlitePool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(pool) = pool.upgrade() else { return };
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(pool.as_ref())
                .await
            {
                tracing::debug!(error = %e, "WAL checkpoint failed; the writer's own checkpoint remains");
            }
        }
    });
}

/// Whether a SQLite URL names an in-memory database.
fn is_memory_url(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteStore {
    /// Opens (creating it if missing, with its parent directory) the database at `url`:
    /// `sqlite://path/to/file.db`, `sqlite:file.db` or `sqlite::memory:`. Does not migrate; call
    /// [`cityops_store::Admin::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid SQLite URL {url:?}: {e}")))?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal);

        if is_memory_url(url) {
            // One connection that never expires: closing the last connection drops the database.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(base)
                .await
                .map_err(|e| StoreError::Database(format!("cannot open {url}: {e}")))?;
            return Ok(Self {
                write: pool.clone(),
                hot: pool.clone(),
                read: pool,
                queue: Arc::new(group_write::new_queue()),
                checkpoint: None,
            });
        }

        if let Some(dir) = base
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            create_dir(dir)?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Acknowledged means durable: flush the WAL at every commit.
                    .synchronous(SqliteSynchronous::Full)
                    // Savepoint journals (a write group member by member) in memory, not a file.
                    .pragma("temp_store", "MEMORY")
                    // Checkpoints run beside the writer (`checkpointer`); the writer checkpoints
                    // itself only when the WAL passes ~40 MB, as a backstop.
                    .pragma("wal_autocheckpoint", "10000")
                    // 64 MB of page cache: large writes (imports, history) spill less.
                    .pragma("cache_size", "-65536"),
            )
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url}: {e}")))?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_POOL_SIZE)
            .connect_with(base.clone().pragma("query_only", "ON"))
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url} for reading: {e}")))?;
        let hot = SqlitePoolOptions::new()
            .max_connections(HOT_POOL_SIZE)
            .connect_with(base.clone().pragma("query_only", "ON"))
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url} for reading: {e}")))?;
        let checkpoint = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base)
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {url} to checkpoint: {e}")))?;
        let checkpoint = Arc::new(checkpoint);
        spawn_checkpointer(Arc::downgrade(&checkpoint));
        Ok(Self {
            write,
            read,
            hot,
            queue: Arc::new(group_write::new_queue()),
            checkpoint: Some(checkpoint),
        })
    }

    /// The writer pool, for tools and tests that need raw SQL (e.g. the audit test that edits a
    /// stored event behind the store's back). Application code goes through the traits.
    pub fn pool(&self) -> &SqlitePool {
        &self.write
    }

    /// Closes the pools (waits for connections in use to be returned).
    pub async fn close(&self) {
        if let Some(c) = &self.checkpoint {
            c.close().await;
        }
        self.hot.close().await;
        self.read.close().await;
        self.write.close().await;
    }

    /// The columns of every application table as `(table, column)`, sorted: what the conformance
    /// suite compares with PostgreSQL's `information_schema.columns`.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        cityops_store_sql::read::schema_columns(
            &self.read,
            "SELECT m.name AS table_name, p.name AS column_name
               FROM sqlite_master m JOIN pragma_table_info(m.name) p
              WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'
                -- The FTS5 search index (virtual tables and their shadow tables) is SQLite's own.
                AND substr(m.name, 1, 12) <> 'case_trigram' AND substr(m.name, 1, 10) <> 'case_grams'",
        )
        .await
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        StoreError::Database(format!("cannot create directory {}: {e}", dir.display()))
    })
}

/// Maps a driver error (shared by both stores).
pub(crate) use cityops_store_sql::db_err;

cityops_store_sql::shared_admin!(SqliteStore, backend: "sqlite", read: read, write: write);

impl SqliteStore {
    /// After the SQL migrations: the character grams of the cases stored before the search index
    /// (once; see `case_write::backfill_grams`).
    async fn after_migrations(&self) -> Result<()> {
        let mut tx = self
            .write
            .begin_with(case_write::BEGIN_WRITE)
            .await
            .map_err(db_err)?;
        let n = case_write::backfill_grams(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        if n > 0 {
            tracing::info!(
                cases = n,
                "search index: character grams of earlier cases written"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_store::Admin;

    #[test]
    fn memory_urls() {
        assert!(is_memory_url("sqlite::memory:"));
        assert!(is_memory_url("sqlite://file:x?mode=memory"));
        assert!(!is_memory_url("sqlite://data/cityops.db"));
    }

    #[tokio::test]
    async fn file_database_is_created_in_wal_mode() {
        let dir = std::env::temp_dir().join(format!("cityops-sqlite-{}", std::process::id()));
        let path = dir.join("nested").join("t.db");
        let _ = std::fs::remove_dir_all(&dir);
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        assert!(path.exists());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.write)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        // The writer flushes at every commit (FULL = 2): an acknowledged write survives power loss.
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.write)
            .await
            .unwrap();
        assert_eq!(sync, 2);
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.read)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // Readers refuse writes; the writer takes them.
        assert!(
            sqlx::query("INSERT INTO meta (key, value) VALUES ('a', 'b')")
                .execute(&store.read)
                .await
                .is_err()
        );
        store.set_meta("a", "b").await.unwrap();
        assert_eq!(store.get_meta("a").await.unwrap().as_deref(), Some("b"));
        store.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
