//! SQLite implementation of the CityOps store traits (the embedded default database).
//!
//! Layout: one writer (a pool of exactly one connection, so concurrent writes queue in Rust instead
//! of failing with `SQLITE_BUSY`) and a read pool of `query_only` connections, all in WAL mode with
//! a busy timeout and foreign keys on. The writer runs with `synchronous = FULL`: every commit
//! flushes the WAL before it returns, so a write that was acknowledged survives a power loss
//! (`NORMAL` in WAL mode may lose the last commits); reports and transitions are written in
//! groups (`group_write`), so a storm of reports costs one flush per group, not one per report.
//! A checkpointer on its own connection copies the WAL into the database file beside the writer
//! and hands the last pages to the writer so that the WAL restarts (`Checkpointer`).
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
use std::sync::atomic::{AtomicBool, Ordering};
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
    checkpoint: Option<Arc<Checkpointer>>,
}

/// How often the WAL is checkpointed beside the writer: often enough that a round copies a few
/// MB, not tens (the database file's flush at its end delays the WAL flushes of the commits
/// beside it).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// When the WAL should start again from its beginning, and how (see [`Checkpointer`]).
#[derive(Debug, Clone, Copy)]
struct RestartRule {
    /// A WAL of at least this many frames (4 KiB pages) is restarted.
    at_frames: i64,
    /// The checkpointer copies again, at once, while a pass had more than this many new frames
    /// to copy, so that few are left for the writer.
    left_frames: i64,
    /// The most passes in a row.
    max_passes: usize,
}

/// ~8 MB of WAL; a pass that found at most ~2 MB new leaves the writer a short copy (0.1–33 ms,
/// median 7.7 ms, in a traced run, against 40–60 ms for its own checkpoint of the whole WAL).
/// Measured against the writer's own checkpoint alone and other settings in
/// `docs/PERFORMANCE.md` ("The WAL restarts…").
const RESTART: RestartRule = RestartRule {
    at_frames: 2_000,
    left_frames: 500,
    max_passes: 4,
};

/// The connection that copies committed WAL pages into the database file beside the writer, and
/// the hand-over that lets the WAL start again from its beginning without stalling the writer.
///
/// SQLite restarts the WAL at a write only when, as that write began, every frame had been copied
/// (and no reader still reads frames). Under a steady stream of commits that moment never comes:
/// a commit always lands between the end of a checkpoint and the next write, the WAL grows to
/// `wal_autocheckpoint` and the writer then copies ~40 MB itself, stalling every write queued
/// behind it (40–60 ms every ~600 ms at 2,500 reports/s). So the checkpointer copies in passes
/// until few frames are new, then asks the writer ([`Self::restart_wanted`]); the writer copies
/// those few itself before its next group, and that group's write starts the WAL again.
#[derive(Debug)]
struct Checkpointer {
    pool: SqlitePool,
    restart: AtomicBool,
}

impl Checkpointer {
    /// One round: a PASSIVE checkpoint (it never waits for, nor blocks, the writer or the readers)
    /// and, when the WAL is long, more passes until few frames are left, then the request to the
    /// writer. Answers the WAL's length in frames as the last pass found it.
    async fn round(&self, rule: RestartRule) -> std::result::Result<i64, sqlx::Error> {
        let mut copied_before = None;
        let mut log = 0;
        for _ in 0..rule.max_passes {
            let (_busy, frames, copied) = wal_checkpoint(&self.pool).await?;
            log = frames;
            if log < rule.at_frames {
                return Ok(log);
            }
            // The frames this pass found new: the WAL's length less what an earlier pass copied.
            let new = copied_before.map_or(log, |c| log - c);
            copied_before = Some(copied);
            if new <= rule.left_frames {
                break;
            }
        }
        self.restart.store(true, Ordering::Release);
        Ok(log)
    }

    /// Whether the writer should copy the last frames before its next write (asked once).
    fn restart_wanted(&self) -> bool {
        self.restart.swap(false, Ordering::AcqRel)
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (busy, frames in the WAL, frames copied into the database).
async fn wal_checkpoint<'c, E>(conn: E) -> std::result::Result<(i64, i64, i64), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await
}

/// Runs the checkpointer every [`CHECKPOINT_EVERY`] until the last clone of the store is dropped.
fn spawn_checkpointer(checkpointer: std::sync::Weak<Checkpointer>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(c) = checkpointer.upgrade() else {
                return;
            };
            if c.pool.is_closed() {
                return;
            }
            if let Err(e) = c.round(RESTART).await {
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
                    // Checkpoints run beside the writer (`Checkpointer`), and the WAL restarts at
                    // ~8 MB; the writer checkpoints all by itself only when the WAL passes
                    // ~40 MB, as a backstop.
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
        let checkpoint = Arc::new(Checkpointer {
            pool: checkpoint,
            restart: AtomicBool::new(false),
        });
        spawn_checkpointer(Arc::downgrade(&checkpoint));
        Ok(Self {
            write,
            read,
            hot,
            queue: Arc::new(group_write::new_queue()),
            checkpoint: Some(checkpoint),
        })
    }

    /// Before a group's write: when the checkpointer asks, the writer copies the WAL's last
    /// frames itself, so that the write starts the WAL again from its beginning.
    pub(crate) async fn restart_wal_if_wanted(&self) {
        let Some(c) = &self.checkpoint else { return };
        if c.restart_wanted()
            && let Err(e) = wal_checkpoint(&self.write).await
        {
            tracing::debug!(error = %e, "the writer's WAL checkpoint failed; the next round asks again");
        }
    }

    /// The writer pool, for tools and tests that need raw SQL (e.g. the audit test that edits a
    /// stored event behind the store's back). Application code goes through the traits.
    pub fn pool(&self) -> &SqlitePool {
        &self.write
    }

    /// Closes the pools (waits for connections in use to be returned).
    pub async fn close(&self) {
        if let Some(c) = &self.checkpoint {
            c.pool.close().await;
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

    /// The WAL starts again from its beginning under a steady stream of commits: the checkpointer
    /// copies until few frames are new and asks the writer, which copies the rest before its next
    /// write. Without the hand-over, a commit between the checkpoint and the next write keeps the
    /// WAL growing (what happens under load without it).
    #[tokio::test]
    async fn wal_restarts_when_the_writer_copies_the_last_frames() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
                .await
                .unwrap();
        let c = store
            .checkpoint
            .clone()
            .expect("a file database has a checkpointer");
        let rule = RestartRule {
            at_frames: 100,
            left_frames: 10,
            max_passes: 4,
        };
        let write = |n: usize| {
            let pool = store.write.clone();
            async move {
                for _ in 0..n {
                    sqlx::query("INSERT INTO t (b) VALUES (randomblob(3000))")
                        .execute(&pool)
                        .await
                        .unwrap();
                }
            }
        };
        let frames = || async { wal_checkpoint(&c.pool).await.unwrap().1 };
        sqlx::query("CREATE TABLE t (b BLOB)")
            .execute(&store.write)
            .await
            .unwrap();

        // A short WAL: nothing asked of the writer.
        write(5).await;
        assert!(c.round(rule).await.unwrap() < rule.at_frames);
        assert!(!c.restart_wanted());

        // Under load a commit always lands while a checkpoint copies, so the WAL is never all
        // copied when the next write begins. A reader that holds its snapshot while one more
        // commit lands and the checkpoint runs makes the same state here.
        let mut reader = store.read.acquire().await.unwrap();
        let pin = "BEGIN; SELECT count(*) FROM t;";

        // Without the hand-over the WAL grows on.
        write(200).await;
        sqlx::raw_sql(pin).execute(&mut *reader).await.unwrap();
        write(1).await;
        let (_, long, copied) = wal_checkpoint(&c.pool).await.unwrap();
        assert!(
            long >= 200 && copied < long,
            "{copied} of {long} frames copied"
        );
        sqlx::query("COMMIT").execute(&mut *reader).await.unwrap();
        write(1).await;
        assert!(frames().await > long, "the WAL grew on");

        // With it: the round copies in passes and asks; the writer copies the last frames
        // before its write, and that write starts the WAL again.
        write(200).await;
        sqlx::raw_sql(pin).execute(&mut *reader).await.unwrap();
        write(1).await;
        let log = c.round(rule).await.unwrap();
        assert!(log >= 200, "{log} frames");
        sqlx::query("COMMIT").execute(&mut *reader).await.unwrap();
        store.restart_wal_if_wanted().await;
        assert!(!c.restart_wanted(), "asked once");
        write(1).await;
        let after = frames().await;
        assert!(
            after < 10,
            "the WAL restarted: {after} frames, {log} before"
        );

        drop(reader);
        store.close().await;
    }
}
