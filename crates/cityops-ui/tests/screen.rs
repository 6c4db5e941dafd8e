//! The big screen (`/screen`), its figures (`/screen/data.json`), the map's case layer
//! (`/ui/cases.json`) and the map page's case controls, over the case-workflow fixture city
//! (two districts) with cases reported and moved through the API.
mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use cityops_test_support::city::{A_NW, A_SE, B_PT, NO_LOGIN_HASH, case_batch};
use common::{Answer, TestApp, state_with};
use serde_json::{Value, json};

async fn app() -> TestApp {
    let (state, clock) = state_with(&case_batch(NO_LOGIN_HASH), false).await;
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    TestApp { app, state, clock }
}

/// The session token of a cookie `cityops_session=<token>`.
fn token(cookie: &str) -> String {
    cookie.split_once('=').expect("name=value").1.to_string()
}

async fn post(t: &TestApp, uri: &str, cookie: &str, body: Value) -> Answer {
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", token(cookie)))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn report(t: &TestApp, cookie: &str, p: (f64, f64), extra: Value) -> i64 {
    let mut body = json!({"lng": p.0, "lat": p.1, "description": "大屏测试"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let a = post(t, "/api/v1/cases", cookie, body).await;
    assert_eq!(a.status, StatusCode::CREATED, "report: {}", a.text());
    a.json()["id"].as_i64().unwrap()
}

async fn act(t: &TestApp, cookie: &str, id: i64, action: &str, body: Value) {
    let a = post(
        t,
        &format!("/api/v1/cases/{id}/actions/{action}"),
        cookie,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{action}: {}", a.text());
}

/// Every case `cookie`'s user may see, from the case list.
async fn listed(t: &TestApp, cookie: &str, query: &str) -> Vec<Value> {
    let a = t
        .get_with(&format!("/api/v1/cases?page_size=1000{query}"), cookie)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["items"].as_array().unwrap().clone()
}

fn count_by(items: &[Value], key: impl Fn(&Value) -> Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for v in items {
        *m.entry(key(v).to_string()).or_default() += 1;
    }
    m
}

fn figures(rows: &Value, key: &str) -> BTreeMap<String, u64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r[key].to_string(), r["count"].as_u64().unwrap()))
        .collect()
}

/// Five reports in two districts, one filed, one rejected: the figures equal what the case list
/// counts, for the city's leader and for district B's.
async fn city_with_cases() -> (TestApp, Sessions) {
    let t = app().await;
    let mut cookies = BTreeMap::new();
    // One session per user (the fixture's tokens are derived from the user).
    for who in [
        "intake",
        "b_intake",
        "citizen",
        "supervisor",
        "leader",
        "b_leader",
        "handler",
    ] {
        cookies.insert(who, t.session(who).await);
    }
    let s = Sessions(cookies);
    let (intake, b_intake, citizen, supervisor) = (
        s.get("intake"),
        s.get("b_intake"),
        s.get("citizen"),
        s.get("supervisor"),
    );
    let component = json!({"category_kind": "component", "category_code": "01001"});
    let a1 = report(&t, &intake, A_NW, component.clone()).await;
    let a2 = report(&t, &intake, A_SE, component.clone()).await;
    let a3 = report(&t, &citizen, A_SE, json!({})).await;
    let a4 = report(
        &t,
        &intake,
        A_NW,
        json!({"source": "hotline", "category_kind": "matter", "category_code": "04001"}),
    )
    .await;
    let b1 = report(&t, &b_intake, B_PT, component).await;
    act(&t, &supervisor, a1, "file", json!({})).await;
    act(
        &t,
        &intake,
        a4,
        "reject",
        json!({"reason": "不属于受理范围"}),
    )
    .await;
    assert_eq!([a1, a2, a3, a4, b1].len(), 5);
    (t, s)
}

/// The session cookies of the fixture users.
struct Sessions(BTreeMap<&'static str, String>);

impl Sessions {
    fn get(&self, who: &str) -> String {
        self.0.get(who).cloned().expect("a session")
    }
}

#[tokio::test]
async fn figures_equal_the_case_list() {
    let (t, sessions) = city_with_cases().await;
    for who in ["leader", "b_leader"] {
        let cookie = sessions.get(who);
        let all = listed(&t, &cookie, "").await;
        assert!(!all.is_empty(), "{who} sees cases");
        let a = t.get_with("/screen/data.json", &cookie).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        assert_eq!(a.header("cache-control"), Some("no-store"));
        let d = a.json();
        let n = all.len() as u64;
        assert_eq!(d["window"]["reported"], n, "{who}");
        assert_eq!(d["today"]["reported"], n, "{who}: all reported today");
        let status_n = |s: &str| all.iter().filter(|c| c["status"] == s).count() as u64;
        assert_eq!(d["window"]["cancelled"], status_n("cancelled"), "{who}");
        assert_eq!(d["window"]["closed"], status_n("closed"), "{who}");
        assert_eq!(d["today"]["closed"], status_n("closed"), "{who}");
        let filed_today = all
            .iter()
            .filter(|c| !matches!(c["status"].as_str(), Some("reported" | "cancelled")))
            .count() as u64;
        assert_eq!(d["today"]["filed"], filed_today, "{who}");
        assert_eq!(
            figures(&d["by_source"], "key"),
            count_by(&all, |c| c["source"].clone()),
            "{who}: by source"
        );
        assert_eq!(
            figures(&d["by_district"], "code"),
            count_by(&all, |c| c["location"]["district_code"].clone()),
            "{who}: by district"
        );
        let by_category: BTreeMap<String, u64> = d["by_category"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    json!([r["kind"], r["code"]]).to_string(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            by_category,
            count_by(&all, |c| json!([c["category_kind"], c["category_code"]])),
            "{who}: by category"
        );
        let trend = d["trend"].as_array().unwrap();
        assert_eq!(trend.len(), 30);
        assert_eq!(trend.last().unwrap()["reported"], n);
        let sum: u64 = trend.iter().map(|x| x["reported"].as_u64().unwrap()).sum();
        assert_eq!(sum, n, "nothing before today");
    }

    // Days later the open cases ran over their limits: the overdue list is the red cases.
    t.clock.advance(Duration::days(6));
    // (The earlier sessions expired meanwhile: the dispatcher sees what the leader sees.)
    let cookie = t.session("dispatcher").await;
    let red = listed(&t, &cookie, "&light=red").await;
    assert!(!red.is_empty(), "some case ran over");
    let d = t.get_with("/screen/data.json?days=7", &cookie).await.json();
    assert_eq!(d["overdue_total"], red.len() as u64);
    let mut listed_ids: Vec<i64> = red.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let mut shown: Vec<i64> = d["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    listed_ids.sort_unstable();
    shown.sort_unstable();
    assert_eq!(shown, listed_ids);
    assert!(
        d["overdue"][0]["overdue_for"]
            .as_str()
            .is_some_and(|s| s.contains('天')),
        "{}",
        d["overdue"][0]
    );
    assert_eq!(d["today"]["reported"], 0, "a new day");
    assert_eq!(d["window_days"], 7);

    // Bad windows are refused; roles without dashboards get 403, no session 401.
    let bad = t.get_with("/screen/data.json?days=0", &cookie).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let handler = t.session("inspector1").await;
    let a = t.get_with("/screen/data.json", &handler).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert_eq!(a.json()["code"], "forbidden");
    assert_eq!(
        t.get("/screen/data.json").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn big_screen_and_map_render() {
    let (t, sessions) = city_with_cases().await;
    let leader = sessions.get("leader");
    let page = t.get_with("/screen", &leader).await;
    page.assert_page(&[
        "城市运行指挥大屏",
        r#"id="kpi-reported""#,
        r#"id="kpi-filed""#,
        r#"id="kpi-dispatched""#,
        r#"id="kpi-closed""#,
        r#"id="kpi-closure-rate""#,
        r#"id="kpi-on-time-rate""#,
        r#"id="overdue-list""#,
        r#"id="chart-trend""#,
        r#"id="chart-category""#,
        r#"id="chart-district""#,
        r#"id="chart-source""#,
        r#"id="screen-map""#,
        r#"id="ticker""#,
        "/assets/vendor/echarts/echarts.min.js?v=",
        "/assets/screen.js?v=",
        "近30日 上报与结案",
    ]);
    let en = t.get_with("/screen?lang=en", &leader).await;
    en.assert_page(&["City Operations Command Screen", "Overdue cases"]);
    for asset in [
        "screen.js",
        "screen.css",
        "screen_map.js",
        "vendor/echarts/echarts.min.js",
    ] {
        let a = t.get(&format!("/assets/{asset}")).await;
        assert_eq!(a.status, StatusCode::OK, "{asset}");
    }
    // Leaders see the navigation link; handlers neither the link nor the page.
    t.get_with("/", &leader)
        .await
        .assert_page(&[r#"href="/screen""#]);
    let handler = sessions.get("handler");
    assert!(
        !t.get_with("/", &handler)
            .await
            .text()
            .contains(r#"href="/screen""#)
    );
    assert_eq!(
        t.get_with("/screen", &handler).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        t.get("/screen").await.status.is_redirection(),
        "login first"
    );

    // The map page's case controls.
    t.get_with("/map", &leader).await.assert_page(&[
        r#"id="cases-toggle""#,
        r#"id="cases-heat""#,
        r#"id="case-status""#,
        r#"id="case-category""#,
        r#"id="case-source""#,
        r#"id="case-days""#,
        r#"id="case-config""#,
        "/assets/screen_map.js?v=",
    ]);
}

#[tokio::test]
async fn case_layer_sends_the_view_only() {
    let (t, sessions) = city_with_cases().await;
    let leader = sessions.get("leader");
    let all = listed(&t, &leader, "").await;
    let bbox = "114.30,23.00,114.60,23.20";
    let cells = t
        .get_with(&format!("/ui/cases.json?bbox={bbox}&zoom=10"), &leader)
        .await;
    assert_eq!(cells.status, StatusCode::OK, "{}", cells.text());
    let c = cells.json();
    assert_eq!(c["mode"], "cells");
    let sum: u64 = c["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, c["total"].as_u64().unwrap());
    assert_eq!(c["total"], all.len() as u64);

    let points = t
        .get_with(&format!("/ui/cases.json?bbox={bbox}&zoom=16"), &leader)
        .await
        .json();
    assert_eq!(points["mode"], "points");
    let mut got: Vec<i64> = points["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let mut want: Vec<i64> = all.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    assert!(
        points["points"][0].get("description").is_none(),
        "no personal data"
    );

    // Only the view: a box around A's north-west point holds the cases there.
    let (lng, lat) = A_NW;
    let small = format!(
        "{},{},{},{}",
        lng - 0.001,
        lat - 0.001,
        lng + 0.001,
        lat + 0.001
    );
    let near = t
        .get_with(&format!("/ui/cases.json?bbox={small}&zoom=17"), &leader)
        .await
        .json();
    let expected = all
        .iter()
        .filter(|c| (c["location"]["lng"].as_f64().unwrap() - lng).abs() < 0.001)
        .count() as u64;
    assert_eq!(near["total"], expected);

    // Filters.
    let cancelled_free = t
        .get_with(
            &format!("/ui/cases.json?bbox={bbox}&zoom=16&status=open"),
            &leader,
        )
        .await
        .json();
    let open = all
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("closed" | "cancelled")))
        .count() as u64;
    assert_eq!(cancelled_free["total"], open);
    let hotline = t
        .get_with(
            &format!("/ui/cases.json?bbox={bbox}&zoom=16&source=hotline"),
            &leader,
        )
        .await
        .json();
    assert_eq!(
        hotline["total"],
        all.iter().filter(|c| c["source"] == "hotline").count() as u64
    );
    // A citizen sees only their own case.
    let citizen = sessions.get("citizen");
    let theirs = t
        .get_with(&format!("/ui/cases.json?bbox={bbox}&zoom=16"), &citizen)
        .await
        .json();
    assert_eq!(theirs["total"], 1);
    // Bad requests.
    for bad in [
        "/ui/cases.json?zoom=10".to_string(),
        format!("/ui/cases.json?bbox={bbox}&status=weird"),
        format!("/ui/cases.json?bbox={bbox}&category=1"),
        format!("/ui/cases.json?bbox={bbox}&zoom=99"),
    ] {
        assert_eq!(
            t.get_with(&bad, &leader).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

/// A city with a tile server: the map and the big screen draw its basemap, and the pages allow
/// its images (and nothing else from elsewhere).
#[tokio::test]
async fn configured_basemap() {
    use std::sync::Arc;

    use cityops_domain::{Clock, ManualClock};
    use cityops_store::{ImportRepo, Store};

    let batch = case_batch(NO_LOGIN_HASH);
    let store = cityops_test_support::sqlite::memory_store().await;
    store.apply_import(&batch).await.expect("import");
    let store: Arc<dyn Store> = Arc::new(store);
    let clock = Arc::new(ManualClock::new(cityops_test_support::city::start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let config = cityops_web::WebConfig {
        map_tile_url: Some("https://tiles.city.example/{z}/{x}/{y}.png".into()),
        ..cityops_web::WebConfig::default()
    };
    let state = cityops_web::AppState::load(
        store,
        cityops_test_support::city::index(&batch.regions),
        dyn_clock,
        config,
        false,
    )
    .await
    .expect("state");
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    let t = TestApp { app, state, clock };
    let leader = t.session("leader").await;
    for page in ["/map", "/screen"] {
        let a = t.get_with(page, &leader).await;
        a.assert_page(&["https://tiles.city.example/{z}/{x}/{y}.png"]);
        let csp = a.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("img-src 'self' data: https://tiles.city.example;"),
            "{page}: {csp}"
        );
        assert!(csp.contains("script-src 'self';"), "{page}: {csp}");
    }
    // Without a tile server the map says so and allows no other origin.
    let (t, sessions) = city_with_cases().await;
    let a = t.get_with("/map", &sessions.get("leader")).await;
    assert!(!a.text().contains("tiles.city.example"));
    assert!(
        a.header("content-security-policy")
            .is_some_and(|c| c.contains("img-src 'self' data:;"))
    );
}
