//! The HTTP API end to end, in process (`tower::ServiceExt::oneshot`), over an in-memory SQLite
//! store with a small hand-made city.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use cityops_web::WebConfig;
use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// auth

#[tokio::test]
async fn login_sets_token_and_cookie_and_me_resolves_the_user() {
    let t = app().await;
    let a = t.login("handler", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    let token = v["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert_eq!(
        v["expires_at"],
        json!(
            (start_time() + Duration::hours(12))
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        )
    );
    assert_eq!(v["user"]["username"], "handler");
    assert_eq!(v["user"]["roles"], json!(["handler"]));
    assert_eq!(v["user"]["department"]["code"], "441302-municipal");
    assert!(v["user"].get("password_hash").is_none());

    let cookie = a.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with(&format!("cityops_session={token};")),
        "{cookie}"
    );
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "without `remember` the cookie ends with the browser: {cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "not Secure over plain HTTP: {cookie}"
    );
    assert_eq!(v["csrf_token"].as_str().map(str::len), Some(64));
    assert_ne!(v["csrf_token"], v["token"]);

    // Bearer token.
    let me = t.get_auth("/api/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let me = me.json();
    assert_eq!(me["username"], "handler");
    assert_eq!(me["display_name"], "李处置");
    assert_eq!(me["role_names"], json!(["处置单位"]));
    assert_eq!(me["scope"]["region_code"], DISTRICT);
    assert_eq!(me["department"]["name"], "惠城区市政管理所");
    assert_eq!(me["department"]["kind"], "municipal");
    assert_eq!(
        me["region"],
        json!({"code": DISTRICT, "name": "惠城区", "level": "district"})
    );

    // The cookie alone works as well.
    let me2 = t
        .send(
            Request::get("/api/v1/me")
                .header(
                    header::COOKIE,
                    format!("theme=dark; cityops_session={token}"),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me2.status, StatusCode::OK);
    assert_eq!(me2.json()["username"], "handler");

    // Inspector: grids come back.
    let it = t.token("inspector1").await;
    let me = t.get_auth("/api/v1/me", &it).await.json();
    assert_eq!(me["grids"], json!([GRID_NW, GRID_NE]));
    assert_eq!(me["department"], Value::Null);
    assert_eq!(me["region"]["name"], "桥东街道");
}

#[tokio::test]
async fn secure_cookie_when_configured() {
    let t = app_with(
        WebConfig {
            secure_cookies: true,
            session_ttl_hours: 2,
            ..WebConfig::default()
        },
        false,
    )
    .await;
    let a = t
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "admin", "password": PASSWORD, "remember": true}),
        )
        .await;
    let cookie = a.header("set-cookie").unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("Max-Age=7200"),
        "remembered: Max-Age = the session's lifetime; {cookie}"
    );
    assert_eq!(
        a.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let t = app().await;
    let wrong = t.login("admin", "not the password").await;
    let unknown = t.login("nobody", PASSWORD).await;
    let empty = t.login("", "").await;
    for a in [&wrong, &unknown, &empty] {
        a.assert_error(401, "invalid_credentials");
        assert!(a.header("set-cookie").is_none());
    }
    assert_eq!(wrong.json(), unknown.json(), "indistinguishable answers");
}

#[tokio::test]
async fn failed_logins_slow_down_the_guesser_and_good_ones_are_not_counted() {
    let t = app().await;
    // Good logins never count: more than the old per-username budget of 10 a minute.
    for _ in 0..15 {
        assert_eq!(t.login("admin", PASSWORD).await.status, StatusCode::OK);
    }
    // Five failures are free; then each attempt of this username from this address waits,
    // 1 s, 2 s, 4 s …
    for _ in 0..5 {
        t.login("admin", "guess")
            .await
            .assert_error(401, "invalid_credentials");
    }
    t.login("admin", "guess")
        .await
        .assert_error(401, "invalid_credentials");
    let limited = t.login("ADMIN", PASSWORD).await;
    limited.assert_error(429, "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("1"));
    t.clock.advance(Duration::seconds(1));
    t.login("admin", "guess")
        .await
        .assert_error(401, "invalid_credentials");
    let limited = t.login("admin", PASSWORD).await;
    assert_eq!(limited.header("retry-after"), Some("2"), "the wait doubles");
    // Another username from the same address is not affected.
    assert_eq!(t.login("handler", PASSWORD).await.status, StatusCode::OK);
    t.clock.advance(Duration::seconds(2));
    assert_eq!(t.login("admin", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn login_is_rate_limited_per_client_address() {
    let t = app_with(
        WebConfig {
            login_per_minute_per_ip: 3,
            ..WebConfig::default()
        },
        false,
    )
    .await;
    for name in ["a", "b", "c"] {
        t.login(name, "x")
            .await
            .assert_error(401, "invalid_credentials");
    }
    let a = t.login("admin", PASSWORD).await;
    a.assert_error(429, "rate_limited");
    assert_eq!(a.header("retry-after"), Some("20"));
}

#[tokio::test]
async fn forwarded_for_is_used_only_when_trusted() {
    let login = |xff: &'static str| {
        Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", xff)
            .body(Body::from(r#"{"username":"nobody","password":"x"}"#))
            .unwrap()
    };
    let trusted = app_with(
        WebConfig {
            login_per_minute_per_ip: 1,
            trust_forwarded_for: true,
            ..WebConfig::default()
        },
        false,
    )
    .await;
    trusted
        .send(login("203.0.113.7, 10.0.0.1"))
        .await
        .assert_error(401, "invalid_credentials");
    trusted
        .send(login("203.0.113.7"))
        .await
        .assert_error(429, "rate_limited");
    trusted
        .send(login("198.51.100.9"))
        .await
        .assert_error(401, "invalid_credentials");

    // Not trusted: the header is ignored, every request counts for the same (peer) address.
    let untrusted = app_with(
        WebConfig {
            login_per_minute_per_ip: 1,
            ..WebConfig::default()
        },
        false,
    )
    .await;
    untrusted
        .send(login("203.0.113.7"))
        .await
        .assert_error(401, "invalid_credentials");
    untrusted
        .send(login("198.51.100.9"))
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test]
async fn sessions_expire_on_the_injected_clock_and_logout_revokes() {
    let t = app().await;
    let token = t.token("admin").await;
    t.clock.advance(Duration::hours(11) + Duration::minutes(59));
    assert_eq!(
        t.get_auth("/api/v1/me", &token).await.status,
        StatusCode::OK
    );
    t.clock.advance(Duration::minutes(2));
    t.get_auth("/api/v1/me", &token)
        .await
        .assert_error(401, "unauthenticated");

    // Logout: the token stops working and the cookie is cleared.
    let token = t.token("admin").await;
    let out = t
        .send(
            Request::post("/api/v1/auth/logout")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    t.get_auth("/api/v1/me", &token)
        .await
        .assert_error(401, "unauthenticated");
    // Logout without any token.
    t.send(
        Request::post("/api/v1/auth/logout")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn logins_purge_expired_sessions_now_and_then() {
    let t = app().await;
    let _first = t.token("admin").await;
    t.clock.advance(Duration::hours(13));
    // The first session has expired; this login purges it (the last purge was over an hour ago).
    let _second = t.token("admin").await;
    let left = t
        .state
        .store
        .purge_expired_sessions(t.state.clock.now())
        .await
        .unwrap();
    assert_eq!(left, 0, "the expired session was already deleted");
}

#[tokio::test]
async fn me_requires_a_valid_session() {
    let t = app().await;
    t.get("/api/v1/me")
        .await
        .assert_error(401, "unauthenticated");
    t.get_auth("/api/v1/me", "garbage")
        .await
        .assert_error(401, "unauthenticated");
    t.get_auth("/api/v1/me", &"ab".repeat(32))
        .await
        .assert_error(401, "unauthenticated");
    t.send(
        Request::get("/api/v1/me")
            .header(header::AUTHORIZATION, "Basic YWRtaW46eA==")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .assert_error(401, "unauthenticated");
}

// ---------------------------------------------------------------------------------------------
// locate

#[tokio::test]
async fn locate_inside_each_grid_with_names() {
    let t = app().await;
    for (lng, lat, grid) in [
        (114.41, 23.09, GRID_NW),
        (114.43, 23.09, GRID_NE),
        (114.41, 23.07, GRID_SW),
        (114.43, 23.07, GRID_SE),
    ] {
        let a = t.get(&format!("/api/v1/locate?lng={lng}&lat={lat}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let v = a.json();
        assert_eq!(v["grid_code"], grid);
        assert_eq!(v["community_code"], COMMUNITY);
        assert_eq!(v["street_code"], STREET);
        assert_eq!(v["district_code"], DISTRICT);
        assert_eq!(v["district_name"], "惠城区");
        assert_eq!(v["street_name"], "桥东街道");
        assert_eq!(v["community_name"], "府城社区");
        assert_eq!(v["lng"], json!(lng));
    }
    // Public: no login needed, and no database: it still answers when names were not loaded.
}

#[tokio::test]
async fn locate_outside_the_city_is_404_outside_city() {
    let t = app().await;
    t.get("/api/v1/locate?lng=114.50&lat=23.08")
        .await
        .assert_error(404, "outside_city");
    t.get("/api/v1/locate?lng=0&lat=0")
        .await
        .assert_error(404, "outside_city");
}

#[tokio::test]
async fn locate_rejects_malformed_points() {
    let t = app().await;
    for q in [
        "",
        "?lng=114.41",
        "?lat=23.09",
        "?lng=abc&lat=23.09",
        "?lng=NaN&lat=23.09",
        "?lng=inf&lat=23.09",
        "?lng=114.41&lat=-inf",
        "?lng=181&lat=23.09",
        "?lng=114.41&lat=91",
        "?lng=114.41&lat=23.09&crs=bd09",
    ] {
        t.get(&format!("/api/v1/locate{q}"))
            .await
            .assert_error(400, "invalid_query");
    }
}

#[tokio::test]
async fn locate_converts_gcj02() {
    let t = app().await;
    // A WGS84 point just west of the NW/NE grid edge; its GCJ-02 coordinates lie east of it.
    let (wlng, wlat) = (114.4195, 23.09);
    let (glng, glat) = cityops_geo::gcj02::wgs84_to_gcj02(wlng, wlat);
    assert!(
        glng > MID_LNG,
        "the GCJ-02 offset crosses the grid edge ({glng})"
    );

    let as_wgs = t
        .get(&format!("/api/v1/locate?lng={glng}&lat={glat}"))
        .await
        .json();
    assert_eq!(as_wgs["grid_code"], GRID_NE);
    let as_gcj = t
        .get(&format!("/api/v1/locate?lng={glng}&lat={glat}&crs=gcj02"))
        .await
        .json();
    assert_eq!(as_gcj["grid_code"], GRID_NW);
    assert!(
        (as_gcj["lng"].as_f64().unwrap() - wlng).abs() < 1e-6,
        "answers the WGS84 point: {as_gcj}"
    );
    assert!((as_gcj["lat"].as_f64().unwrap() - wlat).abs() < 1e-6);
    let explicit = t
        .get(&format!("/api/v1/locate?lng={wlng}&lat={wlat}&crs=wgs84"))
        .await
        .json();
    assert_eq!(explicit["grid_code"], GRID_NW);
}

// ---------------------------------------------------------------------------------------------
// regions

#[tokio::test]
async fn regions_list_filters_and_pages() {
    let t = app().await;
    let all = t.get("/api/v1/regions").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let v = all.json();
    assert_eq!(v["total"], 9);
    assert_eq!(v["page"], 1);
    assert_eq!(v["page_size"], 50);
    let codes: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted, "ordered by code");
    assert!(
        v["items"][0].get("geometry").is_none(),
        "lists carry no geometry"
    );

    let streets = t.get("/api/v1/regions?level=street").await.json();
    assert_eq!(streets["total"], 2);
    assert_eq!(streets["items"][0]["level_name"], "街道");
    assert_eq!(streets["items"][0]["bbox"], json!([W, S, E, N]));
    assert_eq!(streets["items"][1]["bbox"], Value::Null);

    let grids = t
        .get(&format!("/api/v1/regions?parent={COMMUNITY}"))
        .await
        .json();
    assert_eq!(grids["total"], 4);
    assert_eq!(grids["items"][0]["bbox"], json!([W, MID_LAT, MID_LNG, N]));

    let q = t.get("/api/v1/regions?q=%E6%B1%9F%E5%8C%97").await.json(); // 江北
    assert_eq!(q["total"], 1);
    assert_eq!(q["items"][0]["code"], STREET_NO_GEOMETRY);

    let p2 = t
        .get("/api/v1/regions?level=grid&page=2&page_size=3")
        .await
        .json();
    assert_eq!(p2["total"], 4);
    assert_eq!(p2["page"], 2);
    assert_eq!(p2["page_size"], 3);
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert_eq!(p2["items"][0]["code"], GRID_SE);

    for bad in [
        "level=province",
        "page=0",
        "page_size=0",
        "page_size=1001",
        "page=abc",
        "page=-1",
    ] {
        t.get(&format!("/api/v1/regions?{bad}"))
            .await
            .assert_error(400, "invalid_query");
    }
    assert_eq!(
        t.get("/api/v1/regions?page_size=1000").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn region_detail_and_geometry() {
    let t = app().await;
    let d = t.get(&format!("/api/v1/regions/{DISTRICT}")).await;
    assert_eq!(d.status, StatusCode::OK);
    let v = d.json();
    assert_eq!(v["name"], "惠城区");
    assert_eq!(v["parent_code"], "441300");
    assert_eq!(v["center"], json!({"lng": 114.42, "lat": 23.08}));

    let f = t
        .get(&format!("/api/v1/regions/{GRID_NW}?geometry=true"))
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text());
    assert_eq!(f.header("content-type"), Some("application/geo+json"));
    let v = f.json();
    assert_eq!(v["type"], "Feature");
    assert_eq!(v["id"], GRID_NW);
    assert_eq!(v["geometry"]["type"], "Polygon");
    assert_eq!(v["geometry"]["coordinates"][0].as_array().unwrap().len(), 5);
    assert_eq!(v["properties"]["level"], "grid");
    assert_eq!(v["properties"]["parent_code"], COMMUNITY);
    assert_eq!(v["properties"]["synthetic"], true);
    assert!(v["properties"]["area_m2"].as_f64().unwrap() > 4_000_000.0);

    // Simplification keeps a square a square (nothing to remove) and still answers a polygon.
    let s = t
        .get(&format!(
            "/api/v1/regions/{DISTRICT}?geometry=true&tolerance=0.001"
        ))
        .await
        .json();
    assert_eq!(s["geometry"]["type"], "Polygon");
    assert_eq!(s["geometry"]["coordinates"][0].as_array().unwrap().len(), 5);

    // A region without a polygon: a Feature with null geometry.
    let n = t
        .get(&format!(
            "/api/v1/regions/{STREET_NO_GEOMETRY}?geometry=true"
        ))
        .await
        .json();
    assert_eq!(n["geometry"], Value::Null);
    assert_eq!(n["properties"]["name"], "江北街道");

    t.get("/api/v1/regions/441399")
        .await
        .assert_error(404, "not_found");
    t.get(&format!(
        "/api/v1/regions/{DISTRICT}?geometry=true&tolerance=-1"
    ))
    .await
    .assert_error(400, "invalid_query");
    t.get(&format!("/api/v1/regions/{DISTRICT}?geometry=yes"))
        .await
        .assert_error(400, "invalid_query");
}

// ---------------------------------------------------------------------------------------------
// catalogue

#[tokio::test]
async fn categories_list_and_detail() {
    let t = app().await;
    let all = t.get("/api/v1/categories").await.json();
    assert_eq!(all["total"], 4);
    let comp = t.get("/api/v1/categories?kind=component").await.json();
    assert_eq!(comp["total"], 3);
    assert!(
        comp["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["kind"] == "component")
    );
    let matter = t
        .get("/api/v1/categories?kind=matter&page_size=1")
        .await
        .json();
    assert_eq!(matter["total"], 1);
    assert_eq!(matter["items"][0]["name"], "私搭乱建");
    t.get("/api/v1/categories?kind=thing")
        .await
        .assert_error(400, "invalid_query");

    let d = t.get("/api/v1/categories/component/01001").await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let v = d.json();
    assert_eq!(v["name"], "上水井盖");
    assert_eq!(v["class_name"], "公用设施");
    let fs = v["filing_standards"].as_array().unwrap();
    assert_eq!(fs.len(), 2);
    assert_eq!(fs[0]["seq"], 0);
    assert_eq!(
        fs[0]["limit"],
        json!({"value": 2, "unit": "urgent_hour", "unit_name": "紧急工作时", "text": "2紧急工作时"})
    );
    assert_eq!(fs[1]["filing_condition"], "井盖破损、移位");

    let m = t.get("/api/v1/categories/matter/01001").await.json();
    assert_eq!(m["name"], "私搭乱建");
    assert_eq!(m["filing_standards"], json!([]));

    t.get("/api/v1/categories/component/09999")
        .await
        .assert_error(404, "not_found");
    t.get("/api/v1/categories/thing/01001")
        .await
        .assert_error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// organisation

#[tokio::test]
async fn departments_require_login_and_filter_by_region() {
    let t = app().await;
    t.get("/api/v1/departments")
        .await
        .assert_error(401, "unauthenticated");
    let token = t.token("inspector1").await;
    let all = t.get_auth("/api/v1/departments", &token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let v = all.json();
    assert_eq!(v["total"], 3);
    assert_eq!(v["items"][0]["code"], "441300-command");
    assert_eq!(v["items"][1]["parent_id"], v["items"][0]["id"]);
    let huicheng = t
        .get_auth(&format!("/api/v1/departments?region={DISTRICT}"), &token)
        .await
        .json();
    let codes: Vec<&str> = huicheng["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["441302-municipal"]);
}

#[tokio::test]
async fn users_are_for_administrators_only() {
    let t = app().await;
    t.get("/api/v1/users")
        .await
        .assert_error(401, "unauthenticated");
    let inspector = t.token("inspector1").await;
    t.get_auth("/api/v1/users", &inspector)
        .await
        .assert_error(403, "forbidden");

    let admin = t.token("admin").await;
    let all = t.get_auth("/api/v1/users", &admin).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let v = all.json();
    assert_eq!(v["total"], 3);
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "handler", "inspector1"]);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u.get("password_hash").is_none())
    );

    let inspectors = t
        .get_auth("/api/v1/users?role=inspector", &admin)
        .await
        .json();
    assert_eq!(inspectors["total"], 1);
    assert_eq!(inspectors["items"][0]["username"], "inspector1");

    let me = t
        .get_auth("/api/v1/me", &t.token("handler").await)
        .await
        .json();
    let dept = me["department"]["id"].as_i64().unwrap();
    let by_dept = t
        .get_auth(&format!("/api/v1/users?department_id={dept}"), &admin)
        .await
        .json();
    assert_eq!(by_dept["total"], 1);
    assert_eq!(by_dept["items"][0]["username"], "handler");

    t.get_auth("/api/v1/users?role=king", &admin)
        .await
        .assert_error(400, "invalid_query");
    t.get_auth("/api/v1/users?department_id=x", &admin)
        .await
        .assert_error(400, "invalid_query");
}

// ---------------------------------------------------------------------------------------------
// components

#[tokio::test]
async fn components_filter_by_bbox_category_grid_department_and_page() {
    let t = app().await;
    t.get("/api/v1/components")
        .await
        .assert_error(401, "unauthenticated");
    let token = t.token("handler").await;

    let all = t.get_auth("/api/v1/components", &token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let v = all.json();
    assert_eq!(v["total"], 5);
    assert_eq!(v["items"][0]["id"], "44130201001000001");
    assert_eq!(v["items"][0]["status"], "intact");
    assert_eq!(v["items"][0]["surveyed_on"], "2026-05-01");

    // The NW grid block.
    let nw = t
        .get_auth(
            &format!("/api/v1/components?bbox={W},{MID_LAT},{MID_LNG},{N}"),
            &token,
        )
        .await
        .json();
    assert_eq!(nw["total"], 3);
    let paged = t
        .get_auth(
            &format!("/api/v1/components?bbox={W},{MID_LAT},{MID_LNG},{N}&page=2&page_size=2"),
            &token,
        )
        .await
        .json();
    assert_eq!(paged["total"], 3);
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["items"][0]["id"], "44130201001000003");

    let cat = t
        .get_auth("/api/v1/components?category=01002", &token)
        .await
        .json();
    assert_eq!(cat["total"], 1);
    let class = t
        .get_auth("/api/v1/components?category=01", &token)
        .await
        .json();
    assert_eq!(class["total"], 4);
    let grid = t
        .get_auth(&format!("/api/v1/components?grid={GRID_NE}"), &token)
        .await
        .json();
    assert_eq!(grid["total"], 1);
    assert_eq!(grid["items"][0]["category_code"], "02001");
    let maint = t
        .get_auth("/api/v1/components?department=441300-command", &token)
        .await
        .json();
    assert_eq!(maint["total"], 1);
    let owner = t
        .get_auth("/api/v1/components?department=441302-municipal", &token)
        .await
        .json();
    assert_eq!(owner["total"], 5);

    for bad in [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=181,23,114.4,23.1",
        "bbox=NaN,0,1,1",
        "bbox=1e2,0,1,1",
        "category=010",
        "page_size=5000",
    ] {
        t.get_auth(&format!("/api/v1/components?{bad}"), &token)
            .await
            .assert_error(400, "invalid_query");
    }

    let one = t
        .get_auth("/api/v1/components/44130202001000001", &token)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["grid_code"], GRID_NE);
    t.get_auth("/api/v1/components/44130202001000099", &token)
        .await
        .assert_error(404, "not_found");
    t.get("/api/v1/components/44130202001000001")
        .await
        .assert_error(401, "unauthenticated");
}

// ---------------------------------------------------------------------------------------------
// errors

#[tokio::test]
async fn framework_rejections_come_out_in_the_error_shape() {
    let t = app().await;
    // Malformed JSON.
    let a = t
        .send(
            Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"username\": "))
                .unwrap(),
        )
        .await;
    a.assert_error(400, "bad_request");
    // Well-formed, wrong shape.
    t.post_json("/api/v1/auth/login", &json!({"username": "admin"}))
        .await
        .assert_error(422, "invalid_value");
    t.post_json(
        "/api/v1/auth/login",
        &json!({"username": 1, "password": "x"}),
    )
    .await
    .assert_error(422, "invalid_value");
    // Not declared as JSON.
    t.send(
        Request::post("/api/v1/auth/login")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await
    .assert_error(415, "unsupported_media_type");
    // Too large (1 MiB default).
    let big = json!({"username": "admin", "password": "x".repeat(2 * 1024 * 1024)});
    t.post_json("/api/v1/auth/login", &big)
        .await
        .assert_error(413, "payload_too_large");
    // Unknown path, wrong method.
    t.get("/api/v1/nothing-here")
        .await
        .assert_error(404, "not_found");
    let m = t
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri("/api/v1/regions")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    m.assert_error(405, "method_not_allowed");
    assert!(
        m.header("allow").is_some_and(|a| a.contains("GET")),
        "Allow is kept: {:?}",
        m.headers
    );
    // Query that does not deserialize.
    t.get("/api/v1/regions?page=1.5")
        .await
        .assert_error(400, "invalid_query");
}

#[tokio::test]
async fn a_small_body_limit_is_enforced() {
    let t = app_with(
        WebConfig {
            body_limit_bytes: 64,
            ..WebConfig::default()
        },
        false,
    )
    .await;
    t.post_json(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": "y".repeat(100)}),
    )
    .await
    .assert_error(413, "payload_too_large");
    assert_eq!(t.login("admin", PASSWORD).await.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// documentation, health, metrics

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let t = app().await;
    let a = t.get("/api/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    let served = a.json();
    let generated: Value =
        serde_json::from_str(&cityops_web::openapi_json()).expect("openapi_json() is JSON");
    assert_eq!(
        served, generated,
        "the served document is the generated one"
    );
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        served["openapi"]
    );
    let paths = served["paths"].as_object().unwrap();
    for (p, method) in [
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/locate", "get"),
        ("/api/v1/regions", "get"),
        ("/api/v1/regions/{code}", "get"),
        ("/api/v1/categories", "get"),
        ("/api/v1/categories/{kind}/{code}", "get"),
        ("/api/v1/departments", "get"),
        ("/api/v1/users", "get"),
        ("/api/v1/components", "get"),
        ("/api/v1/components/{id}", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|o| o.get(method)).is_some(),
            "{method} {p} documented"
        );
    }
    let schemas = served["components"]["schemas"].as_object().unwrap();
    for s in [
        "ErrorBody",
        "RegionList",
        "RegionView",
        "LoginRequest",
        "LoginResponse",
        "MeView",
        "LocateView",
        "ComponentList",
    ] {
        assert!(schemas.contains_key(s), "schema {s}");
    }
    assert!(served["components"]["securitySchemes"]["bearer"].is_object());
    let params = served["paths"]["/api/v1/regions"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    for n in ["level", "parent", "q", "page", "page_size"] {
        assert!(names.contains(&n), "regions parameter {n} in {names:?}");
    }

    // Swagger UI is served from the binary (no network).
    let docs = t.get("/api/docs/").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.text().to_lowercase().contains("swagger"),
        "Swagger UI page"
    );
}

#[tokio::test]
async fn healthz_reports_ok() {
    let t = app().await;
    // On this machine (loopback): everything.
    let a = t
        .send_from(
            "127.0.0.1:40000",
            Request::get("/healthz").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], "ok");
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["grids_indexed"], 4);
    assert_eq!(v["time"], "2026-11-23T01:00:00Z");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let t = app().await;
    t.get(&format!("/api/v1/regions/{DISTRICT}")).await;
    t.get(&format!("/api/v1/regions/{STREET}")).await;
    t.get("/api/v1/locate?lng=114.41&lat=23.09").await;
    t.get("/api/v1/locate?lng=114.60&lat=23.09").await;
    t.get("/no/such/path").await;
    let a = t
        .send_from(
            "127.0.0.1:40000",
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = a.text();
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    assert!(
        text.lines()
            .any(|l| l.starts_with("cityops_http_requests_total{")
                && l.contains("route=\"/api/v1/regions/{code}\"")
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")
                && l.ends_with(" 2")),
        "{text}"
    );
    assert!(
        has("route=\"unmatched\""),
        "unmatched paths share one label: {text}"
    );
    assert!(!has(DISTRICT), "raw paths never become labels");
    assert!(has("cityops_http_request_duration_seconds_bucket{"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("cityops_locate_total{result=\"found\"} 1")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("cityops_locate_total{result=\"outside\"} 1")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "cityops_store_rows{table=\"grids\"} 4"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "cityops_store_rows{table=\"components\"} 5"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "cityops_locate_index_grids 4"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn every_response_has_a_request_id_and_security_headers() {
    let t = app().await;
    let a = t.get("/api/v1/regions").await;
    assert!(
        a.header("x-request-id").is_some_and(|id| id.len() == 36),
        "{:?}",
        a.headers
    );
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    let given = t
        .send(
            Request::get("/healthz")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        given.header("x-request-id"),
        Some("abc-123"),
        "a client's request id is kept"
    );
    let err = t.get("/nope").await;
    assert!(err.header("x-request-id").is_some());
}

#[tokio::test]
async fn locate_works_without_region_names() {
    // `AppState::new` (no names loaded): codes only, names null.
    let clock: std::sync::Arc<dyn cityops_domain::Clock> =
        std::sync::Arc::new(cityops_domain::ManualClock::new(start_time()));
    let state =
        cityops_web::AppState::new(store().await, index(), clock, WebConfig::default(), false);
    let app = cityops_web::router(state);
    use tower::ServiceExt;
    let resp = app
        .oneshot(
            Request::get("/api/v1/locate?lng=114.43&lat=23.07")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["grid_code"], GRID_SE);
    assert_eq!(v["district_name"], Value::Null);
}
