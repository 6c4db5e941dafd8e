//! The console over the small fixture city: redirects, every page in Chinese and English, the map
//! layers, assets, permissions, logout, and the login through the real JSON API.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;

const PAGES: [&str; 10] = [
    "/",
    "/map",
    "/regions",
    "/regions/441302001",
    "/catalogue",
    "/catalogue/component/01001",
    "/components",
    "/org",
    "/org/users",
    "/regions?q=%E6%A1%A5%E4%B8%9C",
];

#[tokio::test]
async fn pages_without_a_session_redirect_to_login() {
    let t = app().await;
    for page in PAGES {
        let a = t.get(page).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{page}");
        let loc = a.header("location").unwrap();
        if page == "/" {
            assert_eq!(loc, "/login");
        } else {
            assert!(loc.starts_with("/login?next=%2F"), "{page} → {loc}");
        }
    }
    // The next page survives the round trip, query included.
    let a = t.get("/components?category=01001").await;
    assert_eq!(
        a.header("location"),
        Some("/login?next=%2Fcomponents%3Fcategory%3D01001")
    );
    // A stale or forged cookie is no session either.
    let a = t
        .get_with("/", &format!("cityops_session={}", "ab".repeat(32)))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = t.get_with("/", "cityops_session=not-a-token").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // The JSON endpoint answers 401 instead.
    let a = t.get("/ui/layers/district.geojson").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["code"], "unauthenticated");
}

#[tokio::test]
async fn an_expired_session_redirects() {
    let t = app().await;
    let cookie = t.session("admin").await;
    assert_eq!(t.get_with("/", &cookie).await.status, StatusCode::OK);
    t.clock.advance(chrono::Duration::hours(2));
    let a = t.get_with("/", &cookie).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_renders_in_chinese() {
    let t = app().await;
    let c = t.session("admin").await;
    let page = |p: &'static str| {
        let c = c.clone();
        let t = &t;
        async move { t.get_with(p, &c).await }
    };

    let a = page("/").await;
    a.assert_page(&[
        "<html lang=\"zh-CN\">",
        "城市运行管理服务平台",
        "惠州市",
        "系统管理员",
        "管理员",
        "工作台",
        "基础数据",
        "组织机构",
        "各区县基础数据",
        "惠城区",
        "/org/users",
        "示意边界",
    ]);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert!(
        a.header("content-security-policy")
            .is_some_and(|c| c.contains("script-src 'self'"))
    );
    // KPI figures: 1 district, 2 streets, 1 community, 4 grids, 5 components, 3 departments, 3 users.
    let body = a.text();
    for (label, value) in [
        ("区县", "1"),
        ("单元网格", "4"),
        ("部件", "5"),
        ("部门", "3"),
        ("用户", "3"),
    ] {
        let needle = format!(
            "<span class=\"kpi-label\">{label}</span><span class=\"kpi-value\">{value}</span>"
        );
        assert!(body.contains(&needle), "{needle}");
    }

    page("/map").await.assert_page(&[
        "点位查询",
        "map-config",
        "leaflet.js",
        "单元网格",
        "15 级起显示",
        "上水井盖",
    ]);

    let a = page("/regions").await;
    a.assert_page(&["区划树", "桥东街道", "江北街道", "府城社区", "441302001001"]);

    let a = page("/regions?q=%E6%A1%A5%E4%B8%9C").await;
    a.assert_page(&["搜索结果", "桥东街道"]);
    assert!(
        !a.text().contains("<td class=\"mono\">441302002</td>"),
        "江北 does not match 桥东"
    );

    let a = page("/regions?q=4413020010").await;
    a.assert_page(&["搜索结果", "441302001", "441302001001"]);

    page("/regions?q=441302001001003")
        .await
        .assert_page(&["府城社区003网格"]);
    page("/regions?level=grid")
        .await
        .assert_page(&["府城社区004网格"]);

    let a = page("/regions/441302001001").await;
    a.assert_page(&[
        "府城社区",
        "示意边界",
        "桥东街道",
        "惠城区",
        "府城社区001网格",
        "下级区域",
        "map-config",
    ]);
    page("/regions/441302001001001").await.assert_page(&[
        "网格内部件",
        "部件01001-1",
        "破损",
        "惠城区市政管理所",
    ]);
    page("/regions/441302002")
        .await
        .assert_page(&["江北街道", "无边界数据"]);
    page("/regions/441302")
        .await
        .assert_page(&["官方边界", "桥东街道"]);
    page("/regions/441300")
        .await
        .assert_page(&["惠州市", "惠城区"]);
    let a = page("/regions/999999").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text().contains("没有该代码的区域"));

    let a = page("/catalogue").await;
    a.assert_page(&["部件事项目录", "上水井盖", "污水井盖", "停车场", "0101"]);
    assert!(
        !a.text().contains("私搭乱建"),
        "the component tab lists components only"
    );
    page("/catalogue?kind=matter")
        .await
        .assert_page(&["私搭乱建"]);
    let a = page("/catalogue?class=02").await;
    a.assert_page(&["停车场"]);
    assert!(
        !a.text().contains("上水井盖</a>"),
        "the class filter applies"
    );

    page("/catalogue/component/01001").await.assert_page(&[
        "上水井盖",
        "立案条件",
        "井盖缺失",
        "2紧急工作时",
        "1工作日",
        "井盖完好归位",
        "/components?category=01001",
        "运城市立案标准",
    ]);
    page("/catalogue/matter/01001")
        .await
        .assert_page(&["私搭乱建", "该小类暂无立案标准"]);
    assert_eq!(
        page("/catalogue/component/99999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page("/catalogue/other/01001").await.status,
        StatusCode::NOT_FOUND
    );

    let a = page("/components").await;
    a.assert_page(&[
        "部件01001-1",
        "部件02001-1",
        "惠城区市政管理所",
        "惠州市城市运行管理服务中心",
        "/map?lng=114.405000&#38;lat=23.095000&#38;z=18",
    ]);
    let a = page("/components?category=01001").await;
    a.assert_page(&["部件01001-3"]);
    assert!(!a.text().contains("部件02001-1"), "filtered by category");
    let a = page("/components?grid=441302001001004").await;
    a.assert_page(&["部件01002-1"]);
    assert!(!a.text().contains("部件01001-1"), "filtered by grid");
    let a = page("/components?department=441300-command").await;
    a.assert_page(&["部件02001-1"]);
    assert!(!a.text().contains("部件01001-1"), "filtered by department");
    let a = page("/components?grid=abc").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text().contains("单元网格代码应为 15 位数字"));
    assert!(a.text().contains("aria-invalid=\"true\""));

    page("/org")
        .await
        .assert_page(&["组织机构", "惠城区市政管理所", "市政", "惠阳区环卫所"]);
    let a = page("/org?region=441302").await;
    a.assert_page(&["惠城区市政管理所"]);
    assert!(!a.text().contains("惠阳区环卫所"), "filtered by region");
    page("/org/users")
        .await
        .assert_page(&["张监督", "李处置", "监督员", "处置单位", "桥东街道"]);
    page("/org/users?role=inspector")
        .await
        .assert_page(&["张监督"]);
}

#[tokio::test]
async fn paging_keeps_the_filters() {
    let t = app().await;
    let c = t.session("admin").await;
    let a = t.get_with("/components?category=01&page_size=10", &c).await;
    a.assert_page(&["第 1–4 条，共 4 条"]);
    // A page beyond the end is empty, not an error, and "previous" leads back to the last page.
    let a = t.get_with("/components?page=9", &c).await;
    a.assert_page(&["暂无数据", "上一页"]);
    assert!(
        a.text().contains("href=\"/components\" rel=\"prev\""),
        "{}",
        a.text()
    );
    let a = t.get_with("/components?page_size=10&page=1", &c).await;
    assert!(!a.text().contains("rel=\"next\""), "one page only");
}

#[tokio::test]
async fn english_is_chosen_by_query_and_remembered_in_a_cookie() {
    let t = app().await;
    let c = t.session("admin").await;
    let a = t.get_with("/?lang=en", &c).await;
    a.assert_page(&[
        "<html lang=\"en\">",
        "City Operation Management Service Platform",
        "Overview",
        "Base data by district",
        "Unit grids",
        "Administrator",
        "Log out",
        "href=\"/?lang=zh\"",
    ]);
    assert!(!a.text().contains("各区县基础数据"));
    assert!(
        a.all("set-cookie")
            .iter()
            .any(|v| v.starts_with("cityops_lang=en;")),
        "{:?}",
        a.all("set-cookie")
    );

    let with_lang = format!("{c}; cityops_lang=en");
    t.get_with("/catalogue/component/01001", &with_lang)
        .await
        .assert_page(&[
            "Filing condition",
            "2 urgent hours (natural hours)",
            "2紧急工作时",
            "Yuncheng filing standard",
        ]);
    t.get_with("/regions/441302001001", &with_lang)
        .await
        .assert_page(&["Synthetic (derived by rule, not official)", "Sub-regions"]);
    t.get_with("/components", &with_lang).await.assert_page(&[
        "Owner",
        "Maintainer",
        "Damaged",
        "Intact",
    ]);
    t.get_with("/org", &with_lang)
        .await
        .assert_page(&["Municipal works", "Area of responsibility"]);
    t.get_with("/map", &with_lang).await.assert_page(&[
        "Point lookup",
        "from zoom 15",
        "\"outside_city\":\"This point lies outside the city.\"",
    ]);
    t.get_with("/login", "cityops_lang=en").await.assert_page(&[
        "Username",
        "Password",
        "Wrong username or password.",
    ]);
    // Back to Chinese.
    t.get_with("/?lang=zh", &with_lang)
        .await
        .assert_page(&["<html lang=\"zh-CN\">", "各区县基础数据"]);
}

#[tokio::test]
async fn layers_are_feature_collections_filtered_by_bbox() {
    let t = app().await;
    let c = t.session("inspector1").await;
    let codes = |v: &serde_json::Value| -> Vec<String> {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect()
    };

    let a = t.get_with("/ui/layers/grid.geojson", &c).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("application/geo+json"));
    let v = a.json();
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(codes(&v), vec![GRID_NW, GRID_NE, GRID_SW, GRID_SE]);
    assert_eq!(v["truncated"], false);
    let f = &v["features"][0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "Polygon");
    assert_eq!(f["properties"]["name"], "府城社区001网格");
    assert_eq!(f["properties"]["synthetic"], true);
    assert_eq!(f["properties"]["label"], serde_json::json!([114.41, 23.09]));

    // The north-west quarter only (a box inside it touches no other grid).
    let a = t
        .get_with(
            "/ui/layers/grid.geojson?bbox=114.401,23.081,114.419,23.099",
            &c,
        )
        .await;
    assert_eq!(codes(&a.json()), vec![GRID_NW]);
    // The southern half.
    let a = t
        .get_with(
            "/ui/layers/grid.geojson?bbox=114.401,23.061,114.439,23.079",
            &c,
        )
        .await;
    assert_eq!(codes(&a.json()), vec![GRID_SW, GRID_SE]);
    // Outside the city: nothing.
    let a = t
        .get_with("/ui/layers/grid.geojson?bbox=100,10,100.1,10.1", &c)
        .await;
    assert!(codes(&a.json()).is_empty());
    // By parent and by code.
    let a = t
        .get_with(&format!("/ui/layers/street.geojson?parent={DISTRICT}"), &c)
        .await;
    assert_eq!(
        codes(&a.json()),
        vec![STREET],
        "the street without a polygon has no feature"
    );
    let a = t
        .get_with(&format!("/ui/layers/grid.geojson?code={GRID_SE}"), &c)
        .await;
    assert_eq!(codes(&a.json()), vec![GRID_SE]);
    let a = t.get_with("/ui/layers/district.geojson", &c).await;
    let v = a.json();
    assert_eq!(codes(&v), vec![DISTRICT]);
    assert_eq!(v["features"][0]["properties"]["synthetic"], false);

    // Bad requests.
    let a = t.get_with("/ui/layers/grid.geojson?bbox=1,2,3", &c).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["code"], "invalid_query");
    let a = t.get_with("/ui/layers/city.geojson", &c).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = t.get_with("/ui/layers/grid.json", &c).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assets_are_embedded_and_cacheable() {
    let t = app().await;
    let a = t.get("/assets/app.css").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(a.header("cache-control"), Some("public, max-age=3600"));
    let etag = a.header("etag").unwrap().to_string();
    assert!(a.text().contains("--primary: #1d4ed8"));

    // The versioned URL the pages link is immutable.
    let versioned = cityops_ui::assets::url("app.css");
    let a = t.get(&versioned).await;
    assert_eq!(
        a.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // Revalidation.
    let a = t
        .send(
            Request::get("/assets/app.css")
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_MODIFIED);
    assert!(a.bytes.is_empty());

    let a = t.get("/assets/vendor/leaflet/leaflet.js").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(a.text().starts_with("/* @preserve\n * Leaflet 1.9.4"));
    let a = t.get("/assets/vendor/leaflet/LICENSE").await;
    assert!(
        a.text().contains("BSD"),
        "the licence ships with the library"
    );
    assert_eq!(
        t.get("/assets/vendor/leaflet/images/layers.png")
            .await
            .header("content-type"),
        Some("image/png")
    );
    assert_eq!(t.get("/assets/map.js").await.status, StatusCode::OK);
    assert_eq!(t.get("/assets/nope.js").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.get("/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );

    // Compressed when the client accepts it.
    let a = t
        .send(
            Request::get("/assets/vendor/leaflet/leaflet.js")
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.header("content-encoding"), Some("gzip"));
    assert!(
        a.bytes.len() < 60_000,
        "gzip makes Leaflet small: {}",
        a.bytes.len()
    );

    // Every asset a page links exists.
    let c = t.session("admin").await;
    let page = t.get_with("/map", &c).await.text();
    for link in page
        .split("\"/assets/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().replace("&#38;", "&"))
    {
        let a = t.get(&format!("/assets/{link}")).await;
        assert_eq!(a.status, StatusCode::OK, "{link}");
    }
}

#[tokio::test]
async fn users_are_for_administrators_only() {
    let t = app().await;
    let c = t.session("inspector1").await;
    let a = t.get_with("/org/users", &c).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let body = a.text();
    assert!(body.contains("无权访问"), "{body}");
    assert!(body.contains("用户列表仅对管理员开放"));
    assert!(!body.contains("张监督</th>"), "no user rows");
    // The departments are visible, without the users tab.
    let a = t.get_with("/org", &c).await;
    a.assert_page(&["惠城区市政管理所", "张监督"]);
    assert!(!a.text().contains("href=\"/org/users\""));
    // The users KPI links nowhere for a non-administrator.
    assert!(
        !t.get_with("/", &c)
            .await
            .text()
            .contains("href=\"/org/users\"")
    );
    // English 403.
    let a = t.get_with("/org/users?lang=en", &c).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.text().contains("Access denied"));
}

#[tokio::test]
async fn logout_deletes_the_session() {
    let t = app().await;
    let c = t.session("handler").await;
    assert_eq!(t.get_with("/", &c).await.status, StatusCode::OK);
    let a = t.post_with("/logout", &c).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header("location"), Some("/login"));
    let cleared = a.header("set-cookie").unwrap();
    assert!(
        cleared.starts_with("cityops_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The old cookie no longer opens a page.
    assert_eq!(t.get_with("/", &c).await.status, StatusCode::SEE_OTHER);
    // Logging out without a session is harmless.
    assert_eq!(
        t.post_with("/logout", "").await.status,
        StatusCode::SEE_OTHER
    );
    // GET does not log out.
    assert_eq!(
        t.get("/logout").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// The console behind the web crate's middleware, as the binary serves it (CSRF guard included).
async fn served() -> TestApp {
    let t = app().await;
    let app = cityops_web::router_with(t.state.clone(), cityops_ui::router(t.state.clone()));
    TestApp { app, ..t }
}

/// The value of `name="csrf_token"` in a page.
fn form_token(page: &str) -> String {
    let at = page
        .find(r#"name="csrf_token" value=""#)
        .expect("the form carries the token");
    let rest = &page[at + r#"name="csrf_token" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_logout_form_carries_the_csrf_token_and_a_cross_site_logout_is_refused() {
    let t = served().await;
    let c = t.session("handler").await;
    let page = t.get_with("/", &c).await;
    page.assert_page(&[
        "<meta name=\"csrf-token\" content=\"",
        "hx-headers=\"{&#34;X-CSRF-Token&#34;: &#34;",
    ]);
    let token = form_token(&page.text());
    assert_eq!(token.len(), 64);
    assert!(
        page.text()
            .contains(&format!(r#"<meta name="csrf-token" content="{token}">"#)),
        "the meta tag holds the same token"
    );
    let post = |body: String, origin: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/logout")
            .header(header::HOST, "city.example")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, c.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    // Another site's form, with or without a guessed token; our form without the token.
    for (body, origin) in [
        (String::new(), "https://evil.example"),
        (format!("csrf_token={token}"), "https://evil.example"),
        (String::new(), "http://city.example"),
        (
            format!("csrf_token={}", "0".repeat(64)),
            "http://city.example",
        ),
    ] {
        let a = t.send(post(body.clone(), origin)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{body:?} from {origin}");
        assert!(a.text().contains("\"csrf\""), "{}", a.text());
        assert_eq!(
            t.get_with("/", &c).await.status,
            StatusCode::OK,
            "still logged in"
        );
    }
    // The console's own form (what the browser sends from the page): logged out.
    let a = t
        .send(post(format!("csrf_token={token}"), "http://city.example"))
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    assert_eq!(a.header("location"), Some("/login"));
    assert_eq!(t.get_with("/", &c).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_login_form_offers_remember_me() {
    let t = served().await;
    t.get("/login").await.assert_page(&[
        r#"<input id="remember" name="remember" type="checkbox""#,
        "记住我",
    ]);
    t.get("/login?lang=en")
        .await
        .assert_page(&["Remember me on this device"]);
    let js = t.get(&cityops_ui::assets::url("app.js")).await.text();
    assert!(
        js.contains("remember: form.remember.checked"),
        "app.js sends it"
    );
}

#[tokio::test]
async fn login_page_and_login_through_the_api() {
    // The console with the web crate's router behind it, and an admin with a real password.
    let hash = cityops_web::password::hash(PASSWORD);
    let (state, clock) = state_with(&batch(&hash), true).await;
    let app =
        cityops_ui::router(state.clone()).fallback_service(cityops_web::router(state.clone()));
    let t = TestApp { app, state, clock };

    let a = t.get("/login?next=%2Fregions%3Fq%3D1").await;
    a.assert_page(&[
        "<form id=\"login-form\"",
        "for=\"username\"",
        "for=\"password\"",
        "data-next=\"/regions?q=1\"",
        "cityops-demo",
        "惠州市",
    ]);
    // An outside `next` is dropped.
    assert!(
        t.get("/login?next=https%3A%2F%2Fevil.example%2F")
            .await
            .text()
            .contains("data-next=\"/\"")
    );
    assert!(
        t.get("/login?next=%2F%2Fevil.example")
            .await
            .text()
            .contains("data-next=\"/\"")
    );

    // What app.js does: POST the JSON, keep the cookie.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::json!({"username": "admin", "password": PASSWORD}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let cookie = a
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("cityops_session="));
    t.get_with("/", &cookie)
        .await
        .assert_page(&["系统管理员", "演示"]);
    // Logged in already: the login page forwards to `next`.
    let a = t.get_with("/login?next=%2Fmap", &cookie).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header("location"), Some("/map"));
    // The API stays reachable behind the console.
    assert_eq!(
        t.get("/api/v1/locate?lng=114.41&lat=23.09").await.json()["grid_code"],
        GRID_NW
    );
    // The wrong password: the code app.js translates.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"username":"admin","password":"nope"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["code"], "invalid_credentials");
}
