//! The case-workflow fixture: the small city of `common` plus a second district (惠阳区, east of
//! 惠城区) with one grid, users of every role, a second department per district, the
//! responsibility matrix; and a harness that runs one scenario on SQLite (always) and on a fresh
//! PostgreSQL database (when one answers; required with `CITYOPS_REQUIRE_POSTGRES=1`).
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cityops_domain::case::routing::RoutingRule;
use cityops_domain::{
    Category, CategoryKind, Clock, ManualClock, Region, RegionLevel, Role, TimeLimit,
};
use cityops_geo::RegionIndex;
use cityops_store::{Admin, ImportBatch, NewDepartment, NewUser, Store};
use cityops_store_postgres::PgStore;
use cityops_store_sqlite::SqliteStore;
use cityops_web::{AppState, WebConfig};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use super::{
    Answer, DISTRICT, E, GRID_SE, GRID_SW, N, PASSWORD, S, STREET, TestApp, batch, cheap_hash,
    regions, start_time,
};

/// The second district and its one street, community and grid (a square east of 惠城区).
pub const DISTRICT_B: &str = "441303";
pub const STREET_B: &str = "441303001";
pub const COMMUNITY_B: &str = "441303001001";
pub const GRID_B: &str = "441303001001001";
pub const E_B: f64 = 114.48;

/// A point in grid NW of district A, one in grid SE, one in district B.
pub const A_NW: (f64, f64) = (114.41, 23.09);
pub const A_SE: (f64, f64) = (114.43, 23.07);
pub const B_PT: (f64, f64) = (114.46, 23.08);

/// A matter category without a filing standard (default limit), routed with 一键直达.
pub const DIRECT: &str = "04001";

fn square(code: &str, level: RegionLevel, name: &str, parent: &str, b: [f64; 4]) -> Region {
    let [w, s, e, n] = b;
    Region {
        code: code.into(),
        level,
        name: name.into(),
        parent_code: Some(parent.into()),
        geometry: Some(format!(
            "{{\"type\":\"Polygon\",\"coordinates\":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"
        )),
        bbox: Some(b),
        center: Some(cityops_domain::LngLat {
            lng: (w + e) / 2.0,
            lat: (s + n) / 2.0,
        }),
        area_m2: Some(1.0),
        synthetic: level != RegionLevel::District,
    }
}

fn regions_ab() -> Vec<Region> {
    let b = [E, S, E_B, N];
    let mut rs = regions();
    rs.push(square(
        DISTRICT_B,
        RegionLevel::District,
        "惠阳区",
        "441300",
        b,
    ));
    rs.push(square(
        STREET_B,
        RegionLevel::Street,
        "淡水街道",
        DISTRICT_B,
        b,
    ));
    rs.push(square(
        COMMUNITY_B,
        RegionLevel::Community,
        "土湖社区",
        STREET_B,
        b,
    ));
    rs.push(square(
        GRID_B,
        RegionLevel::Grid,
        "土湖社区001网格",
        COMMUNITY_B,
        b,
    ));
    rs
}

fn user(
    username: &str,
    roles: Vec<Role>,
    region: Option<&str>,
    dept: Option<&str>,
    grids: &[&str],
) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: username.into(),
        password_hash: cheap_hash(PASSWORD),
        roles,
        region_code: region.map(str::to_string),
        department_code: dept.map(str::to_string),
        grids: grids.iter().map(|g| g.to_string()).collect(),
    }
}

/// Every role, scoped to district A, as `a_<role>`; the department roles also as `a_<role>_dept`
/// with the district-A municipal department.
pub const DEPARTMENT_ROLES: [Role; 4] = [
    Role::Handler,
    Role::Enforcement,
    Role::ResponsibleParty,
    Role::LegalReviewer,
];

pub fn case_batch() -> ImportBatch {
    let mut b = batch();
    b.regions = regions_ab();
    b.categories.push(Category {
        kind: CategoryKind::Matter,
        code: DIRECT.into(),
        class_code: "04".into(),
        class_name: "宣传广告".into(),
        name: "非法小广告".into(),
        old_code: None,
    });
    b.departments.push(NewDepartment {
        code: "441303-municipal".into(),
        name: "惠阳区市政管理所".into(),
        kind: cityops_domain::DepartmentKind::Municipal,
        region_code: DISTRICT_B.into(),
        parent_code: None,
    });
    b.departments.push(NewDepartment {
        code: "441302-sanitation".into(),
        name: "惠城区环卫所".into(),
        kind: cityops_domain::DepartmentKind::Sanitation,
        region_code: DISTRICT.into(),
        parent_code: None,
    });
    let a = Some(DISTRICT);
    let bb = Some(DISTRICT_B);
    b.users.extend([
        // The loop's cast in district A.
        user("intake", vec![Role::Intake], a, None, &[]),
        user("supervisor", vec![Role::Supervisor], a, None, &[]),
        user("dispatcher", vec![Role::Dispatcher], a, None, &[]),
        user("leader", vec![Role::Leader], a, None, &[]),
        user("reviewer", vec![Role::Reviewer], a, None, &[]),
        user("citizen", vec![Role::Citizen], None, None, &[]),
        user("citizen2", vec![Role::Citizen], None, None, &[]),
        user(
            "inspector2",
            vec![Role::Inspector],
            Some(STREET),
            None,
            &[GRID_SW, GRID_SE],
        ),
        user(
            "handler2",
            vec![Role::Handler],
            a,
            Some("441302-sanitation"),
            &[],
        ),
        // District B.
        user("b_intake", vec![Role::Intake], bb, None, &[]),
        user("b_supervisor", vec![Role::Supervisor], bb, None, &[]),
        user("b_dispatcher", vec![Role::Dispatcher], bb, None, &[]),
        user("b_leader", vec![Role::Leader], bb, None, &[]),
        user(
            "b_inspector",
            vec![Role::Inspector],
            Some(STREET_B),
            None,
            &[GRID_B],
        ),
        user(
            "b_handler",
            vec![Role::Handler],
            bb,
            Some("441303-municipal"),
            &[],
        ),
        user("b_citizen", vec![Role::Citizen], None, None, &[]),
    ]);
    // The scope matrix: every role scoped to district A.
    for role in Role::ALL {
        b.users.push(user(
            &format!("a_{}", role.as_str()),
            vec![role],
            a,
            None,
            &[],
        ));
        if DEPARTMENT_ROLES.contains(&role) {
            b.users.push(user(
                &format!("a_{}_dept", role.as_str()),
                vec![role],
                a,
                Some("441302-municipal"),
                &[],
            ));
        }
    }
    b
}

pub fn index_ab() -> Arc<RegionIndex> {
    let rs = regions_ab();
    let of = |l: RegionLevel| {
        rs.iter()
            .filter(|r| r.level == l)
            .cloned()
            .collect::<Vec<_>>()
    };
    Arc::new(
        RegionIndex::build(
            &of(RegionLevel::District),
            &of(RegionLevel::Street),
            &of(RegionLevel::Community),
            &of(RegionLevel::Grid),
        )
        .expect("index"),
    )
}

/// The responsibility matrix: component class 01 to each district's municipal department,
/// `04001` in district A straight to the district-A municipal department (一键直达).
async fn routing(store: &dyn Store) -> Vec<RoutingRule> {
    let id = |code: &'static str| async move {
        store
            .get_department_by_code(code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("department {code}"))
            .id
    };
    let rule = |kind, code: &str, region: &str, dept, auto| RoutingRule {
        category_kind: kind,
        category_code: code.into(),
        region_code: region.into(),
        department_id: dept,
        auto_dispatch: auto,
    };
    vec![
        rule(
            CategoryKind::Component,
            "01",
            DISTRICT,
            id("441302-municipal").await,
            false,
        ),
        rule(
            CategoryKind::Component,
            "01",
            DISTRICT_B,
            id("441303-municipal").await,
            false,
        ),
        rule(
            CategoryKind::Matter,
            DIRECT,
            DISTRICT,
            id("441302-municipal").await,
            true,
        ),
        rule(
            CategoryKind::Matter,
            "*",
            "441300",
            id("441302-sanitation").await,
            false,
        ),
    ]
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
    store
        .apply_import(&case_batch())
        .await
        .expect("import the fixture");
    let rules = routing(store.as_ref()).await;
    store
        .replace_routing_rules(&rules)
        .await
        .expect("routing rules");
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

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn pg_admin_url() -> String {
    std::env::var("CITYOPS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_string())
}

fn pg_required() -> bool {
    std::env::var("CITYOPS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced (query parameters kept).
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

async fn pg_admin() -> Option<PgConnection> {
    let url = pg_admin_url();
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await {
        Ok(Ok(c)) => Some(c),
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            assert!(
                !pg_required(),
                "CITYOPS_REQUIRE_POSTGRES=1 but PostgreSQL at {url} does not answer: {why}"
            );
            eprintln!("SKIPPED: no PostgreSQL at {url} ({why})");
            None
        }
    }
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
            let store = SqliteStore::connect("sqlite::memory:")
                .await
                .expect("in-memory SQLite");
            store.migrate().await.expect("migrate");
            let pool = store.pool().clone();
            let mut t = app_on(Arc::new(store), config).await;
            t.sql = Some(RawSql::Sqlite(pool));
            body(t).await;
        }
        Backend::Postgres => {
            let Some(mut admin) = pg_admin().await else {
                return;
            };
            let name = format!("cityops_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let url = with_database(&pg_admin_url(), &name);
            let outcome = tokio::spawn(async move {
                let store = PgStore::connect(&url).await.expect("connect");
                store.migrate().await.expect("migrate");
                let guard = store.clone();
                let mut t = app_on(Arc::new(store), config).await;
                t.sql = Some(RawSql::Postgres(url));
                body(t).await;
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
                    Ok(p) => std::panic::resume_unwind(p),
                    Err(e) => panic!("scenario task failed: {e}"),
                }
            }
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

    /// Uploads a photo through `POST /api/v1/attachments`; returns its id.
    pub async fn upload(&self, token: &str, seed: u8) -> i64 {
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
        a.json()["id"].as_i64().expect("attachment id")
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
