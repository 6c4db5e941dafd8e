//! Every conformance story on a fresh SQLite store (`cityops_test_support::sqlite`): in a
//! temporary file (WAL, writer + readers) and in memory (`sqlite::memory:`, one shared
//! connection).
use cityops_store::{Admin, ImportRepo};
use cityops_store_conformance::fixtures;
use cityops_store_sqlite::SqliteStore;
use cityops_test_support::sqlite::{TempStore, memory_store};

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
