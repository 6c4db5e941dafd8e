//! The case-workflow fixture (`cityops_test_support::city::case_batch`: the small city of
//! `common` plus a second district (惠阳区, east of 惠城区) with one grid, users of every role, a
//! second department per district, the responsibility matrix); and a harness that runs one
//! scenario on SQLite (always) and on a fresh PostgreSQL database
//! (`cityops_test_support::postgres`: when one answers; required with
//! `CITYOPS_REQUIRE_POSTGRES=1`).
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cityops_domain::{Clock, ManualClock, TimeLimit};
use cityops_store::{ImportBatch, Store};
use cityops_test_support::city;
// Each test binary uses its own part of the fixture city.
#[allow(unused_imports)]
pub use cityops_test_support::city::{
    A_NW, A_SE, B_PT, COMMUNITY_B, DEPARTMENT_ROLES, DIRECT, DISTRICT_B, E_B, GRID_B, STREET_B,
    index_ab,
};
use cityops_test_support::{postgres, sqlite};
use cityops_web::{AppState, WebConfig};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use super::{Answer, PASSWORD, TestApp, cheap_hash, start_time};

/// The case-workflow city, every user with the password [`PASSWORD`].
pub fn case_batch() -> ImportBatch {
    city::case_batch(&cheap_hash(PASSWORD))
}

/// Raw SQL access to the test database.
#[derive(Debug, Clone)]
pub enum RawSql {
    Sqlite(sqlx::SqlitePool),
    Postgres(String),
}

impl RawSql {
    /// Executes one statement; returns the rows affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            RawSql::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .expect("raw SQL")
                .rows_affected(),
            RawSql::Postgres(url) => {
                let mut c = PgConnection::connect(url).await.expect("connect");
                let n = sqlx::query(sql)
                    .execute(&mut c)
                    .await
                    .expect("raw SQL")
                    .rows_affected();
                let _ = c.close().await;
                n
            }
        }
    }
}

/// Imports the fixture into a migrated store and builds the application on a manual clock.
pub async fn app_on(store: Arc<dyn Store>, mut config: WebConfig) -> TestApp {
    // Every login of a test comes from the same (unknown) address.
    config.login_per_minute_per_ip = config.login_per_minute_per_ip.max(10_000);
    // Scenarios move the clock by days; their sessions must outlive that.
    config.session_ttl_hours = config.session_ttl_hours.max(24 * 400);
    city::load_case_city(store.as_ref(), &cheap_hash(PASSWORD)).await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = AppState::load(store, index_ab(), dyn_clock, config, false)
        .await
        .expect("state");
    TestApp {
        app: cityops_web::router(state.clone()),
        state,
        clock,
        sql: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `body` on a fresh application over `backend` (a fresh database for PostgreSQL, dropped
/// afterwards even when the body panics; then the panic is re-raised).
pub async fn run<F, Fut>(backend: Backend, config: WebConfig, body: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let store = sqlite::memory_store().await;
            let pool = store.pool().clone();
            let mut t = app_on(Arc::new(store), config).await;
            t.sql = Some(RawSql::Sqlite(pool));
            body(t).await;
        }
        Backend::Postgres => {
            postgres::with_store(move |store, url| async move {
                let mut t = app_on(Arc::new(store), config).await;
                t.sql = Some(RawSql::Postgres(url));
                body(t).await;
            })
            .await;
        }
    }
}

/// One scenario as a test on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident $(with $config:expr)?),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    #[allow(unused_mut, unused_assignments)]
                    let mut config = cityops_web::WebConfig::default();
                    $( config = $config; )?
                    $crate::common::cases::run($crate::common::cases::Backend::Sqlite, config, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    #[allow(unused_mut, unused_assignments)]
                    let mut config = cityops_web::WebConfig::default();
                    $( config = $config; )?
                    $crate::common::cases::run($crate::common::cases::Backend::Postgres, config, super::$name).await;
                }
            )*
        }
    };
}

/// A tiny PNG (distinct per `seed`, so each upload is a new photo).
pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([seed, (x * 30) as u8, (y * 30) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

impl TestApp {
    /// "Now" on the test's manual clock.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub async fn post_auth(&self, uri: &str, token: &str, body: &Value) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// A POST without a body.
    pub async fn post_empty(&self, uri: &str, token: &str) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Uploads a photo through `POST /api/v1/attachments`; returns its public id.
    pub async fn upload(&self, token: &str, seed: u8) -> String {
        let boundary = "cityops-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p{seed}.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend(png(seed));
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let a = self
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/attachments")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "upload: {}", a.text());
        a.json()["id"].as_str().expect("attachment id").to_string()
    }

    /// Reports a case; asserts 201 and returns the case.
    pub async fn report(&self, token: &str, body: Value) -> Value {
        let a = self.post_auth("/api/v1/cases", token, &body).await;
        assert_eq!(a.status, StatusCode::CREATED, "report: {}", a.text());
        a.json()
    }

    /// Takes an action; returns the raw answer.
    pub async fn act(&self, token: &str, id: i64, action: &str, body: Value) -> Answer {
        self.post_auth(
            &format!("/api/v1/cases/{id}/actions/{action}"),
            token,
            &body,
        )
        .await
    }

    /// Takes an action that must succeed; returns the case after it.
    pub async fn act_ok(&self, token: &str, id: i64, action: &str, body: Value) -> Value {
        let a = self.act(token, id, action, body).await;
        assert_eq!(a.status, StatusCode::OK, "{action} on {id}: {}", a.text());
        a.json()
    }

    pub async fn case(&self, token: &str, id: i64) -> Answer {
        self.get_auth(&format!("/api/v1/cases/{id}"), token).await
    }

    /// The user's id (via `/api/v1/me`).
    pub async fn user_id(&self, token: &str) -> i64 {
        self.get_auth("/api/v1/me", token).await.json()["id"]
            .as_i64()
            .expect("user id")
    }

    /// The id of a department by code.
    pub async fn department_id(&self, code: &str) -> i64 {
        self.state
            .store
            .get_department_by_code(code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("department {code}"))
            .id
    }
}

/// A report body at a point.
pub fn at(p: (f64, f64), extra: Value) -> Value {
    let mut v = json!({"lng": p.0, "lat": p.1, "description": "测试上报"});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

/// The handling limit of component 01001's filing condition 1 (1 working day).
pub fn one_work_day() -> TimeLimit {
    TimeLimit {
        value: 1,
        unit: cityops_domain::LimitUnit::WorkDay,
    }
}
