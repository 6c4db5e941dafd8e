//! A small hand-made city for the HTTP tests: 惠州市 → 惠城区 (a square) → one street with a
//! polygon and one without → one community → 2×2 square unit grids; a catalogue excerpt, three
//! departments, three users, five components. Served from an in-memory SQLite store.
#![allow(dead_code)]

pub mod cases;

use std::sync::Arc;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{NaiveDate, TimeZone, Utc};
use cityops_domain::{
    Category, CategoryKind, Clock, Component, ComponentId, ComponentStatus, DepartmentKind,
    FilingStandard, LimitUnit, LngLat, ManualClock, Region, RegionLevel, Role, TimeLimit,
};
use cityops_geo::RegionIndex;
use cityops_store::{Admin, ImportBatch, ImportRepo, NewDepartment, NewUser, Store};
use cityops_store_sqlite::SqliteStore;
use cityops_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

/// West, south, east, north edges of the district (and of the 2×2 grid block).
pub const W: f64 = 114.40;
pub const S: f64 = 23.06;
pub const E: f64 = 114.44;
pub const N: f64 = 23.10;
pub const MID_LNG: f64 = 114.42;
pub const MID_LAT: f64 = 23.08;

pub const DISTRICT: &str = "441302";
pub const STREET: &str = "441302001";
pub const STREET_NO_GEOMETRY: &str = "441302002";
pub const COMMUNITY: &str = "441302001001";
/// Numbered west → east, north → south.
pub const GRID_NW: &str = "441302001001001";
pub const GRID_NE: &str = "441302001001002";
pub const GRID_SW: &str = "441302001001003";
pub const GRID_SE: &str = "441302001001004";

fn square(code: &str, level: RegionLevel, name: &str, parent: Option<&str>, b: [f64; 4]) -> Region {
    let [w, s, e, n] = b;
    let geometry = format!(
        "{{\"type\":\"Polygon\",\"coordinates\":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"
    );
    // Small squares: metres per degree at 23° N.
    let area = (e - w) * 111_320.0 * 23.08_f64.to_radians().cos() * (n - s) * 110_574.0;
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent.map(str::to_string),
        geometry: Some(geometry),
        bbox: Some(b),
        center: Some(LngLat {
            lng: (w + e) / 2.0,
            lat: (s + n) / 2.0,
        }),
        area_m2: Some(area),
        synthetic: level != RegionLevel::District,
    }
}

fn bare(code: &str, level: RegionLevel, name: &str, parent: Option<&str>) -> Region {
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent.map(str::to_string),
        geometry: None,
        bbox: None,
        center: None,
        area_m2: None,
        synthetic: false,
    }
}

pub fn regions() -> Vec<Region> {
    vec![
        bare("441300", RegionLevel::City, "惠州市", None),
        square(
            DISTRICT,
            RegionLevel::District,
            "惠城区",
            Some("441300"),
            [W, S, E, N],
        ),
        square(
            STREET,
            RegionLevel::Street,
            "桥东街道",
            Some(DISTRICT),
            [W, S, E, N],
        ),
        bare(
            STREET_NO_GEOMETRY,
            RegionLevel::Street,
            "江北街道",
            Some(DISTRICT),
        ),
        square(
            COMMUNITY,
            RegionLevel::Community,
            "府城社区",
            Some(STREET),
            [W, S, E, N],
        ),
        square(
            GRID_NW,
            RegionLevel::Grid,
            "府城社区001网格",
            Some(COMMUNITY),
            [W, MID_LAT, MID_LNG, N],
        ),
        square(
            GRID_NE,
            RegionLevel::Grid,
            "府城社区002网格",
            Some(COMMUNITY),
            [MID_LNG, MID_LAT, E, N],
        ),
        square(
            GRID_SW,
            RegionLevel::Grid,
            "府城社区003网格",
            Some(COMMUNITY),
            [W, S, MID_LNG, MID_LAT],
        ),
        square(
            GRID_SE,
            RegionLevel::Grid,
            "府城社区004网格",
            Some(COMMUNITY),
            [MID_LNG, S, E, MID_LAT],
        ),
    ]
}

fn category(kind: CategoryKind, code: &str, class_name: &str, name: &str) -> Category {
    Category {
        kind,
        code: code.to_string(),
        class_code: code[..2].to_string(),
        class_name: class_name.to_string(),
        name: name.to_string(),
        old_code: None,
    }
}

fn standard(seq: u32, condition: &str, value: u32, unit: LimitUnit, text: &str) -> FilingStandard {
    FilingStandard {
        kind: CategoryKind::Component,
        code: "01001".to_string(),
        seq,
        filing_condition: condition.to_string(),
        limit: TimeLimit { value, unit },
        limit_text: text.to_string(),
        closure_condition: "井盖完好归位".to_string(),
        old_code: Some("0101".to_string()),
        source: "test".to_string(),
    }
}

/// A cheap Argon2id hash (the server verifies with the parameters in the PHC string).
pub fn cheap_hash(pw: &str) -> String {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(64, 1, 1, None).unwrap(),
    );
    let h: PasswordHash = argon.hash_password(pw.as_bytes()).unwrap();
    h.to_string()
}

fn user(
    username: &str,
    name: &str,
    roles: Vec<Role>,
    region: Option<&str>,
    dept: Option<&str>,
    grids: &[&str],
) -> NewUser {
    NewUser {
        username: username.to_string(),
        display_name: name.to_string(),
        password_hash: cheap_hash(PASSWORD),
        roles,
        region_code: region.map(str::to_string),
        department_code: dept.map(str::to_string),
        grids: grids.iter().map(|g| g.to_string()).collect(),
    }
}

fn component(cat: &str, seq: u32, lng: f64, lat: f64, grid: &str) -> Component {
    Component {
        id: ComponentId::new(DISTRICT, cat, seq).unwrap(),
        category_code: cat.to_string(),
        name: format!("部件{cat}-{seq}"),
        lng,
        lat,
        grid_code: Some(grid.to_string()),
        community_code: Some(COMMUNITY.to_string()),
        owner_department: Some("441302-municipal".to_string()),
        maintainer_department: if cat == "02001" {
            Some("441300-command".to_string())
        } else {
            None
        },
        status: ComponentStatus::Intact,
        surveyed_on: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
    }
}

pub fn batch() -> ImportBatch {
    ImportBatch {
        regions: regions(),
        categories: vec![
            category(CategoryKind::Component, "01001", "公用设施", "上水井盖"),
            category(CategoryKind::Component, "01002", "公用设施", "污水井盖"),
            category(CategoryKind::Component, "02001", "道路交通", "停车场"),
            category(CategoryKind::Matter, "01001", "市容环境", "私搭乱建"),
        ],
        filing_standards: vec![
            standard(0, "井盖缺失", 2, LimitUnit::UrgentHour, "2紧急工作时"),
            standard(1, "井盖破损、移位", 1, LimitUnit::WorkDay, "1工作日"),
        ],
        departments: vec![
            NewDepartment {
                code: "441300-command".into(),
                name: "惠州市城市运行管理服务中心".into(),
                kind: DepartmentKind::CommandCentre,
                region_code: "441300".into(),
                parent_code: None,
            },
            NewDepartment {
                code: "441302-municipal".into(),
                name: "惠城区市政管理所".into(),
                kind: DepartmentKind::Municipal,
                region_code: DISTRICT.into(),
                parent_code: Some("441300-command".into()),
            },
            NewDepartment {
                code: "441303-sanitation".into(),
                name: "惠阳区环卫所".into(),
                kind: DepartmentKind::Sanitation,
                region_code: "441303".into(),
                parent_code: None,
            },
        ],
        users: vec![
            user(
                "admin",
                "系统管理员",
                vec![Role::Admin],
                None,
                Some("441300-command"),
                &[],
            ),
            user(
                "inspector1",
                "张监督",
                vec![Role::Inspector],
                Some(STREET),
                None,
                &[GRID_NW, GRID_NE],
            ),
            user(
                "handler",
                "李处置",
                vec![Role::Handler],
                Some(DISTRICT),
                Some("441302-municipal"),
                &[],
            ),
        ],
        components: vec![
            component("01001", 1, 114.405, 23.095, GRID_NW),
            component("01001", 2, 114.410, 23.090, GRID_NW),
            component("01001", 3, 114.415, 23.085, GRID_NW),
            component("01002", 1, 114.430, 23.070, GRID_SE),
            component("02001", 1, 114.430, 23.090, GRID_NE),
        ],
    }
}

pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// Raw SQL on the test database, behind the store's back (tamper tests).
    pub sql: Option<cases::RawSql>,
}

pub async fn store() -> Arc<dyn Store> {
    let store = SqliteStore::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    store.migrate().await.expect("migrate");
    store
        .apply_import(&batch())
        .await
        .expect("import the fixture");
    Arc::new(store)
}

pub fn index() -> Arc<RegionIndex> {
    let rs = regions();
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

pub async fn app_with(config: WebConfig, demo_mode: bool) -> TestApp {
    let clock = Arc::new(ManualClock::new(start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = AppState::load(store().await, index(), dyn_clock, config, demo_mode)
        .await
        .expect("state");
    TestApp {
        app: cityops_web::router(state.clone()),
        state,
        clock,
        sql: None,
    }
}

pub async fn app() -> TestApp {
    app_with(WebConfig::default(), false).await
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes))
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes.clone()).expect("UTF-8")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts an error answer: status, JSON `{"code","message"}` with this code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "status; body {}",
            String::from_utf8_lossy(&self.bytes)
        );
        let v = self.json();
        assert_eq!(v["code"], code, "code; body {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message; body {v}"
        );
        assert_eq!(
            v.as_object().unwrap().len(),
            2,
            "exactly code and message: {v}"
        );
    }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_auth(&self, uri: &str, token: &str) -> Answer {
        self.send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns the token.
    pub async fn token(&self, username: &str) -> String {
        let a = self.login(username, PASSWORD).await;
        assert_eq!(a.status, StatusCode::OK, "login {username}: {}", a.text());
        a.json()["token"].as_str().unwrap().to_string()
    }
}
