//! A fresh PostgreSQL database per test (测试库): created on the server named by
//! `CITYOPS_TEST_POSTGRES_URL`, handed to the test (empty, or as a connected and migrated
//! [`PgStore`]), and dropped afterwards, also when the test panics (the panic is then re-raised).
//!
//! Without a server the helpers print `SKIPPED: …` on stderr and return without running the test
//! body, so that `cargo test` passes on a machine without PostgreSQL; with
//! `CITYOPS_REQUIRE_POSTGRES=1` a missing server fails the test instead.
use std::future::Future;
use std::time::Duration;

use cityops_store::Admin;
use cityops_store_postgres::PgStore;
use sqlx::{Connection, PgConnection};

/// The administrative URL used when `CITYOPS_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long the first connection to the server may take before it counts as absent.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL of a database on the test server that may create and drop databases
/// (`CITYOPS_TEST_POSTGRES_URL`, else [`DEFAULT_ADMIN_URL`]).
pub fn admin_url() -> String {
    std::env::var("CITYOPS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// Whether a missing server fails the test (`CITYOPS_REQUIRE_POSTGRES=1`) instead of skipping it.
pub fn required() -> bool {
    std::env::var("CITYOPS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced by `database` (user, host, port and query kept).
pub fn with_database(url: &str, database: &str) -> String {
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

/// A connection to the administrative database, or `None` after printing the skip notice.
///
/// # Panics
/// When the server does not answer and [`required`] is set.
pub async fn admin_connection() -> Option<PgConnection> {
    let url = admin_url();
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(&url)).await {
        Ok(Ok(conn)) => Some(conn),
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            assert!(
                !required(),
                "CITYOPS_REQUIRE_POSTGRES=1 but PostgreSQL at {url} does not answer: {why}"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL at {url} ({why}); set CITYOPS_TEST_POSTGRES_URL or start a server"
            );
            None
        }
    }
}

/// Runs `body` with the URL of a fresh, empty database `cityops_test_<uuid>`, then drops the
/// database (`WITH (FORCE)`, so connections the body left open do not stop it) and re-raises
/// the body's panic if it had one. Returns at once, without running `body`, when no server
/// answers and none is [`required`].
///
/// The body runs in its own task so that a panic in it still reaches the drop.
pub async fn with_empty_database<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(mut admin) = admin_connection().await else {
        return;
    };
    let name = format!("cityops_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    let url = with_database(&admin_url(), &name);
    let outcome = tokio::spawn(body(url)).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap_or_else(|e| panic!("drop test database {name}: {e}"));
    let _ = admin.close().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// Runs `body` on a connected, migrated [`PgStore`] over a fresh database, with the database's
/// URL (for more stores, i.e. more processes, or raw SQL behind the store's back); closes the
/// store and drops the database afterwards as [`with_empty_database`] does.
pub async fn with_store<F, Fut>(body: F)
where
    F: FnOnce(PgStore, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_empty_database(|url| async move {
        let store = PgStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect to the test database: {e}"));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate the test database: {e}"));
        let guard = store.clone();
        body(store, url).await;
        guard.close().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database(DEFAULT_ADMIN_URL, "x"),
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

    /// The database exists while the body runs and is gone afterwards, also after a panic,
    /// which reaches the caller.
    #[tokio::test]
    async fn the_database_is_dropped_even_after_a_panic() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let slot = seen.clone();
        let outcome = tokio::spawn(with_empty_database(move |url| async move {
            let mut c = PgConnection::connect(&url).await.expect("connect");
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(&mut c)
                .await
                .expect("current_database");
            *slot.lock().expect("lock") = Some(name);
            panic!("the body fails");
        }))
        .await;
        let Some(name) = seen.lock().expect("lock").clone() else {
            // No server and not required: the body never ran and nothing panicked.
            assert!(outcome.is_ok());
            return;
        };
        assert!(name.starts_with("cityops_test_"), "{name}");
        let panic = outcome.expect_err("the panic is re-raised");
        assert!(panic.is_panic());
        let mut admin = admin_connection()
            .await
            .expect("the server answered before");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("count");
        assert_eq!(left, 0, "{name} was dropped");
    }
}
