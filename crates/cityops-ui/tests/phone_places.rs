//! The citizens' phone page 附近公厕/公园 (`/m/places`, issue 13): without an account it lists the
//! places of the chosen type nearest to the city centre with the walking distance and direction,
//! the opening hours and a `geo:` link, tabs for every type, both languages; a given point (also in
//! GCJ-02) moves the list; the report page links to it; its script is served from the binary.
mod common;

use cityops_domain::poi::{PoiCrs, parse_pois_csv};
use cityops_test_support::city::{MID_LAT, MID_LNG};
use common::{NO_LOGIN_HASH, TestApp, batch, state_with};

async fn places_app() -> TestApp {
    let (state, clock) = state_with(&batch(NO_LOGIN_HASH), false).await;
    // North of the centre of the fixture city (its middle: the city region has no label point).
    let csv = format!(
        "type,name,lng,lat,address,opening_hours,note\n\
         toilet,府城北公厕,{MID_LNG},{},府城路 1 号,全天开放,无障碍厕位\n\
         toilet,府城东公厕,{},{MID_LAT},,06:00-22:00,\n\
         park,府城公园,{},{},府城路,06:00-22:00,\n\
         vendor_zone,府城夜市摊规点,{},{MID_LAT},,17:30-23:00,\n",
        MID_LAT + 0.001,
        MID_LNG + 0.005,
        MID_LNG - 0.002,
        MID_LAT - 0.002,
        MID_LNG + 0.001,
    );
    let imports = parse_pois_csv(&csv, PoiCrs::Wgs84).expect("the POI file");
    cityops_app::poi::import_pois(state.store.as_ref(), &state.index, imports)
        .await
        .expect("import");
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    TestApp { app, state, clock }
}

#[tokio::test]
async fn the_page_lists_the_nearest_toilets_for_citizens() {
    let t = places_app().await;
    let page = t.get("/m/places").await;
    page.assert_page(&[
        "<title>附近公厕/公园",
        r#"id="m-places""#,
        r#"data-type="toilet""#,
        "data-centre-lng=\"114.42\"",
        "data-centre-lat=\"23.08\"",
        // Every type has its tab; the toilets' is active.
        r#"href="/m/places?type=toilet" data-type="toilet" class="active" aria-current="page">公厕</a>"#,
        ">公园</a>",
        ">摊规点</a>",
        ">无车区</a>",
        "以下为市中心附近的结果",
        // Nearest first, with distance and direction, hours, address, note and the map link.
        "府城北公厕",
        "北方向 · 111 米",
        "开放时间：全天开放",
        "地址：府城路 1 号",
        "无障碍厕位",
        "府城东公厕",
        "东方向 · 511 米",
        r#"href="geo:23.081000,114.420000?q=23.081000,114.420000("#,
        "在地图中打开",
        // The script and its strings; no asset from another host.
        "/assets/phone_places.js?v=",
        r#"id="m-places-strings""#,
        r#""northeast":"东北""#,
        r#""walk":"{dir}方向 · {distance}""#,
    ]);
    let body = page.text();
    assert!(
        body.find("府城北公厕").unwrap() < body.find("府城东公厕").unwrap(),
        "nearest first"
    );
    assert!(!body.contains("府城公园"), "only the chosen type");
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no external asset"
    );

    // Another tab, in English.
    t.get("/m/places?type=park&lang=en").await.assert_page(&[
        "Nearby toilets &#38; parks",
        r#"data-type="park" class="active" aria-current="page">Parks</a>"#,
        ">Toilets</a>",
        ">Vendors</a>",
        ">Car-free</a>",
        "These are near the city centre",
        "府城公园",
        "southwest",
        "Open: 06:00-22:00",
        "Open in maps",
        r#""northeast":"northeast""#,
    ]);
    // An unknown type shows the toilets.
    t.get("/m/places?type=bench")
        .await
        .assert_page(&[r#"data-type="toilet""#, "府城北公厕"]);
}

#[tokio::test]
async fn a_given_point_moves_the_list_also_in_gcj02() {
    let t = places_app().await;
    // Beside the vendor zone, east of the centre.
    let (lng, lat) = (MID_LNG + 0.001, MID_LAT);
    let page = t
        .get(&format!("/m/places?type=vendor_zone&lng={lng}&lat={lat}"))
        .await;
    page.assert_page(&[
        "以下为所给位置附近的结果",
        r#"data-given="1""#,
        "府城夜市摊规点",
        "17:30-23:00",
    ]);
    let (g_lng, g_lat) = cityops_geo::gcj02::wgs84_to_gcj02(lng, lat);
    let page = t
        .get(&format!(
            "/m/places?type=vendor_zone&lng={g_lng}&lat={g_lat}&crs=gcj02"
        ))
        .await;
    page.assert_page(&[r#"data-crs="gcj02""#, "府城夜市摊规点", " 0 米"]);
    // Nothing of a type within 20 km: said so.
    t.get("/m/places?type=car_free_zone")
        .await
        .assert_page(&["20 公里内没有找到。"]);
}

#[tokio::test]
async fn the_report_page_links_to_it_and_its_script_is_served() {
    let t = places_app().await;
    t.get("/m/report")
        .await
        .assert_page(&[r#"id="m-places-link" href="/m/places""#, "附近公厕/公园"]);
    let js = t.get("/assets/phone_places.js").await;
    assert_eq!(js.status, axum::http::StatusCode::OK);
    assert!(js.text().contains("/api/v1/public/nearby"));
    assert!(js.text().contains("navigator.geolocation"));
    // The API the script calls answers the same place first.
    let api = t
        .get(&format!(
            "/api/v1/public/nearby?type=toilet&lng={MID_LNG}&lat={MID_LAT}"
        ))
        .await
        .json();
    assert_eq!(api["items"][0]["name"], "府城北公厕");
    assert_eq!(api["items"][0]["direction_zh"], "北");
}
