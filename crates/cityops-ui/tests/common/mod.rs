//! The console tests' application over the fixture city of `cityops_test_support::city` (惠州市
//! → 惠城区 → one street with a polygon and one without → one community → 2×2 unit grids; a
//! catalogue excerpt with filing standards, three departments, three users, five components).
//! In-memory SQLite; sessions are created directly in the store.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Duration;
use cityops_domain::{Clock, ManualClock};
use cityops_store::{ImportBatch, ImportRepo, Store};
// Each test binary uses its own part of the fixture city.
#[allow(unused_imports)]
pub use cityops_test_support::city::{
    CITY, COMMUNITY, DISTRICT, E, GRID_NE, GRID_NW, GRID_SE, GRID_SW, MID_LAT, MID_LNG, N,
    NO_LOGIN_HASH, PASSWORD, S, STREET, STREET_NO_GEOMETRY, W, batch, index, regions, start_time,
};
use cityops_test_support::sqlite::memory_store;
use cityops_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes.clone()).expect("UTF-8")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
    /// Asserts a 200 HTML page that contains every needle.
    #[track_caller]
    pub fn assert_page(&self, needles: &[&str]) {
        let body = self.text();
        assert_eq!(self.status, StatusCode::OK, "status; body {body}");
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "content type"
        );
        for n in needles {
            assert!(body.contains(n), "page should contain {n:?}");
        }
    }
}

/// The state over a fresh in-memory store holding `batch`.
pub async fn state_with(batch: &ImportBatch, demo_mode: bool) -> (AppState, Arc<ManualClock>) {
    let store = memory_store().await;
    store.apply_import(batch).await.expect("import the fixture");
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = Arc::new(ManualClock::new(start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = AppState::load(
        store,
        index(&batch.regions),
        dyn_clock,
        WebConfig::default(),
        demo_mode,
    )
    .await
    .expect("state");
    (state, clock)
}

/// The console alone, over the small fixture (no user has a usable password).
pub async fn app() -> TestApp {
    let (state, clock) = state_with(&batch(NO_LOGIN_HASH), false).await;
    TestApp {
        app: cityops_ui::router(state.clone()),
        state,
        clock,
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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

    /// GET with cookies (`"a=b; c=d"`).
    pub async fn get_with(&self, uri: &str, cookies: &str) -> Answer {
        self.send(
            Request::get(uri)
                .header(header::COOKIE, cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_with(&self, uri: &str, cookies: &str) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::COOKIE, cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Posts a form (`application/x-www-form-urlencoded`) with the session cookie; the body
    /// carries its own `csrf_token` (or none, to see the guard refuse it).
    pub async fn post_form(&self, uri: &str, cookie: &str, body: &str) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Creates a session for `username` in the store; returns the cookie header value.
    pub async fn session(&self, username: &str) -> String {
        let creds = self
            .state
            .store
            .credentials(username)
            .await
            .unwrap()
            .expect("user exists");
        let token = format!(
            "{:064x}",
            creds.user.id as u128 * 7919 + username.len() as u128
        );
        let now = self.clock.now();
        self.state
            .store
            .create_session(&cityops_store::NewSession::new(
                // The low half of the token differs between users (the high half is zeros).
                &token[32..],
                token_hash(&token),
                creds.user.id,
                now,
                now + Duration::hours(1),
            ))
            .await
            .unwrap();
        format!("{}={token}", cityops_ui::SESSION_COOKIE)
    }
}

/// The console behind the web crate's middleware, as the binary serves it (CSRF guard included).
pub async fn served() -> TestApp {
    let t = app().await;
    let app = cityops_web::router_with(t.state.clone(), cityops_ui::router(t.state.clone()));
    TestApp { app, ..t }
}

/// The value of `name="csrf_token"` in a page.
pub fn form_token(page: &str) -> String {
    let at = page
        .find(r#"name="csrf_token" value=""#)
        .expect("the form carries the token");
    let rest = &page[at + r#"name="csrf_token" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The console and API, as the binary serves them, over the case-workflow city of districts A
/// and B with its responsibility matrix (in-memory SQLite).
pub async fn case_city(config: WebConfig) -> TestApp {
    use cityops_test_support::city::{index_ab, load_case_city};
    let store: Arc<dyn Store> = Arc::new(memory_store().await);
    load_case_city(store.as_ref(), NO_LOGIN_HASH).await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = AppState::load(store, index_ab(), dyn_clock, config, false)
        .await
        .expect("state");
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    TestApp { app, state, clock }
}
