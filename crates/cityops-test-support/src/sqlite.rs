//! A fresh, migrated SQLite store: in memory (`sqlite::memory:`, one private database per
//! store) or in a file of a temporary directory that is removed when the [`TempStore`] drops.
use std::path::PathBuf;

use cityops_store::Admin;
use cityops_store_sqlite::SqliteStore;

/// Connects to `url` and migrates; a failure fails the test, naming the URL.
async fn migrated(url: &str) -> SqliteStore {
    let store = SqliteStore::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate {url}: {e}"));
    store
}

/// A migrated store over a new in-memory database (separate from every other).
pub async fn memory_store() -> SqliteStore {
    migrated("sqlite::memory:").await
}

/// A migrated store over the database file at `path` (created if missing): several of them on
/// one file stand for several server processes on one database.
pub async fn store_at(path: &std::path::Path) -> SqliteStore {
    migrated(&format!("sqlite://{}", path.display())).await
}

/// A migrated store over `cityops.db` in a new temporary directory (WAL, a writer and readers,
/// as a server runs it). The directory is removed on drop, also when the test panics.
pub struct TempStore {
    dir: PathBuf,
    /// `sqlite://…/cityops.db`: for a second store on the same file (a second process).
    pub url: String,
    /// The store under test.
    pub store: SqliteStore,
}

impl TempStore {
    /// Creates the directory, connects and migrates.
    pub async fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("cityops-test-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("cityops.db").display());
        let store = migrated(&url).await;
        Self { dir, url, store }
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
