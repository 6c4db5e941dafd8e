//! Every conformance story on a fresh SQLite store: in a temporary file (WAL, writer + readers)
//! and in memory (`sqlite::memory:`, one shared connection).
use std::path::PathBuf;

use cityops_store::{Admin, ImportRepo};
use cityops_store_conformance::fixtures;
use cityops_store_sqlite::SqliteStore;

/// A migrated store in a temporary directory, removed on drop (also when a story panics).
struct TempStore {
    dir: PathBuf,
    url: String,
    store: SqliteStore,
}

impl TempStore {
    async fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cityops-store-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let url = format!("sqlite://{}", dir.join("cityops.db").display());
        let store = SqliteStore::connect(&url).await.expect("connect");
        store.migrate().await.expect("migrate");
        Self { dir, url, store }
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn memory_store() -> SqliteStore {
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

macro_rules! file_stories {
    ($($story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                let db = TempStore::new().await;
                cityops_store_conformance::stories::$story(&db.store).await;
                db.store.close().await;
            }
        )*
    };
}

mod file {
    use super::*;
    cityops_store_conformance::for_each_story!(file_stories);
}

macro_rules! memory_stories {
    ($($story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                let store = memory_store().await;
                cityops_store_conformance::stories::$story(&store).await;
            }
        )*
    };
}

mod memory {
    use super::*;
    cityops_store_conformance::for_each_story!(memory_stories);
}

/// Two in-memory stores are separate databases.
#[tokio::test]
async fn memory_stores_are_independent() {
    let a = memory_store().await;
    let b = memory_store().await;
    a.apply_import(&fixtures::batch()).await.expect("import");
    assert_eq!(a.stats().await.expect("stats").regions, 12);
    assert_eq!(b.stats().await.expect("stats").regions, 0);
}

/// Data written by one store is there when the file is opened again.
#[tokio::test]
async fn file_store_persists() {
    let db = TempStore::new().await;
    db.store
        .apply_import(&fixtures::batch())
        .await
        .expect("import");
    db.store.close().await;
    let again = SqliteStore::connect(&db.url).await.expect("reopen");
    again.migrate().await.expect("migrate is idempotent");
    assert_eq!(again.stats().await.expect("stats").components, 5);
    again.close().await;
}
