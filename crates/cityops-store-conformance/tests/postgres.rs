//! Every conformance story on a fresh PostgreSQL database `cityops_test_<uuid>` (created from
//! `CITYOPS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, and dropped
//! afterwards even when the story fails). Without a server the tests print a notice and pass,
//! unless `CITYOPS_REQUIRE_POSTGRES=1`.
use std::future::Future;
use std::time::Duration;

use cityops_store::Admin;
use cityops_store_postgres::PgStore;
use cityops_store_sqlite::SqliteStore;
use sqlx::{Connection, PgConnection};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("CITYOPS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

fn postgres_required() -> bool {
    std::env::var("CITYOPS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| i + authority);
    let mut out = format!("{}/{database}", &base[..path]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn admin_connection() -> Option<PgConnection> {
    let url = admin_url();
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await {
        Ok(Ok(conn)) => Some(conn),
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            assert!(
                !postgres_required(),
                "CITYOPS_REQUIRE_POSTGRES=1 but PostgreSQL at {url} does not answer: {why}"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL at {url} ({why}); set CITYOPS_TEST_POSTGRES_URL or start a server"
            );
            None
        }
    }
}

/// Creates a fresh database, runs `body` on a connected, migrated store (and its URL), drops the database,
/// then re-raises the body's panic if it had one.
async fn with_fresh_database<F, Fut>(body: F)
where
    F: FnOnce(PgStore, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(mut admin) = admin_connection().await else {
        return;
    };
    let name = format!("cityops_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = with_database(&admin_url(), &name);
    let outcome = tokio::spawn(async move {
        let store = PgStore::connect(&url)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate");
        let guard = store.clone();
        body(store, url).await;
        guard.close().await;
    })
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop test database");
    let _ = admin.close().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("story task failed: {e}"),
        }
    }
}

macro_rules! pg_stories {
    ($($story:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $story() {
                with_fresh_database(|store, _| async move {
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
    with_fresh_database(|pg, _| async move {
        let lite = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        lite.migrate().await.expect("migrate sqlite");
        let lite_cols = lite.schema_columns().await.expect("sqlite columns");
        let pg_cols = pg.schema_columns().await.expect("postgres columns");
        assert!(lite_cols.len() > 40, "{lite_cols:?}");
        assert_eq!(lite_cols, pg_cols);
    })
    .await;
}

#[test]
fn database_urls() {
    assert_eq!(
        with_database(DEFAULT_URL, "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "z"),
        "postgres://h:5432/z"
    );
}
