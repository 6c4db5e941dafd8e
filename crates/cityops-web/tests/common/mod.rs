//! The HTTP tests' application over the fixture city of `cityops_test_support::city` (惠州市 →
//! 惠城区 → one street with a polygon and one without → one community → 2×2 unit grids; a
//! catalogue excerpt, three departments, three users, five components), every user with the
//! password [`PASSWORD`]. Served from an in-memory SQLite store.
#![allow(dead_code)]

pub mod cases;
pub mod office;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use cityops_domain::{Clock, ManualClock};
use cityops_geo::RegionIndex;
use cityops_store::{ImportBatch, ImportRepo, Store};
// Each test binary uses its own part of the fixture city.
#[allow(unused_imports)]
pub use cityops_test_support::city::{
    COMMUNITY, DISTRICT, E, GRID_NE, GRID_NW, GRID_SE, GRID_SW, MID_LAT, MID_LNG, N, PASSWORD, S,
    STREET, STREET_NO_GEOMETRY, W, cheap_hash, regions, start_time,
};
use cityops_test_support::{city, sqlite::memory_store};
use cityops_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The fixture city, every user with the password [`PASSWORD`].
pub fn batch() -> ImportBatch {
    city::batch(&cheap_hash(PASSWORD))
}

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// Raw SQL on the test database, behind the store's back (tamper tests).
    pub sql: Option<cases::RawSql>,
}

/// A fresh in-memory store holding [`batch`].
pub async fn store() -> Arc<dyn Store> {
    let store = memory_store().await;
    store
        .apply_import(&batch())
        .await
        .expect("import the fixture");
    Arc::new(store)
}

/// The point index of the fixture city.
pub fn index() -> Arc<RegionIndex> {
    city::index(&regions())
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

    /// Sends `req` as if from `peer` (the TCP peer address a real socket would give).
    pub async fn send_from(&self, peer: &str, mut req: Request<Body>) -> Answer {
        let addr: std::net::SocketAddr = peer.parse().expect("ip:port");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        self.send(req).await
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
