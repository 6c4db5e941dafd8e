//! Every conformance story on a fresh PostgreSQL database (`cityops_test_support::postgres`:
//! created from `CITYOPS_TEST_POSTGRES_URL` and dropped afterwards even when the story fails).
//! Without a server the tests print a notice and pass, unless `CITYOPS_REQUIRE_POSTGRES=1`.
use cityops_test_support::postgres::with_store;
use cityops_test_support::sqlite::memory_store;

macro_rules! pg_stories {
    ($($story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                with_store(|store, _| async move {
                    cityops_store_conformance::stories::$story(&store).await;
                })
                .await;
            }
        )*
    };
}

mod stories {
    use super::*;
    cityops_store_conformance::for_each_story!(pg_stories);
}

/// Both migrated schemas expose the same tables and columns.
#[tokio::test]
async fn schema_matches_sqlite() {
    with_store(|pg, _| async move {
        let lite = memory_store().await;
        let lite_cols = lite.schema_columns().await.expect("sqlite columns");
        let pg_cols = pg.schema_columns().await.expect("postgres columns");
        assert!(lite_cols.len() > 40, "{lite_cols:?}");
        assert_eq!(lite_cols, pg_cols);
    })
    .await;
}
