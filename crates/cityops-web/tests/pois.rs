//! 公共服务设施 (public toilets, parks, vendor zones, car-free zones; issue 13) over HTTP, on
//! SQLite and PostgreSQL: an administrator imports CSV and GeoJSON (a bad line or feature named in
//! the 422, nothing written; others get 403); citizens without an account find the nearest toilet
//! in WGS84 and in GCJ-02 with its distance and walking direction; bad input is a 422 with the
//! house error body; look-ups are limited per client address; staff list the POIs.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cityops_geo::gcj02::wgs84_to_gcj02;
use common::TestApp;
use common::cases::{A_NW, B_PT};
use serde_json::{Value, json};

on_both_stores!(
    nearby_in_wgs84_and_gcj02,
    bad_nearby_input_is_422,
    import_errors_name_the_line_or_feature_and_write_nothing,
    only_administrators_import_and_staff_list,
    lookups_are_limited_per_address with super::limited(),
);

fn limited() -> cityops_web::WebConfig {
    cityops_web::WebConfig {
        public_lookups_per_minute: 2,
        ..Default::default()
    }
}

async fn import(t: &TestApp, token: &str, content_type: &str, body: &str) -> common::Answer {
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/pois/import")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn list(t: &TestApp, token: &str, query: &str) -> Value {
    let a = t.get_auth(&format!("/api/v1/pois{query}"), token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

/// Toilets north (111 m) and east (≈307 m) of point A_NW, one in district B, a park beside A_NW.
fn city_csv() -> String {
    let (lng, lat) = A_NW;
    format!(
        "type,name,lng,lat,address,opening_hours,note,crs\n\
         toilet,北边公厕,{lng},{},府城路,全天开放,无障碍厕位,\n\
         公厕,东边公厕,{},{lat},,06:00-22:00,,\n\
         toilet,惠阳公厕,{},{},,,,\n\
         park,府城公园,{},{lat},府城路,,,\n",
        lat + 0.001,
        lng + 0.003,
        B_PT.0,
        B_PT.1,
        lng + 0.0002,
    )
}

async fn nearby_in_wgs84_and_gcj02(t: TestApp) {
    let admin = t.token("admin").await;
    let a = import(&t, &admin, "text/csv", &city_csv()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"added": 4, "replaced": 0, "total": 4}));

    let (lng, lat) = A_NW;
    let a = t
        .get(&format!(
            "/api/v1/public/nearby?type=toilet&lng={lng}&lat={lat}"
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["crs"], "wgs84");
    let items = v["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["北边公厕", "东边公厕", "惠阳公厕"], "nearest first");
    let north = &items[0];
    assert_eq!(north["type"], "toilet");
    assert_eq!(north["type_name"], "公厕");
    assert_eq!(north["distance_m"], 111);
    assert_eq!(north["direction"], "north");
    assert_eq!(north["direction_zh"], "北");
    assert_eq!(north["opening_hours"], "全天开放");
    assert_eq!(north["note"], "无障碍厕位");
    assert_eq!(north["address"], "府城路");
    assert!(
        north["geo_uri"]
            .as_str()
            .unwrap()
            .starts_with("geo:23.091000,114.410000?q=23.091000,114.410000(%E5%8C%97"),
        "{north}"
    );
    assert_eq!(items[1]["direction"], "east");
    assert_eq!(items[1]["direction_zh"], "东");
    assert_eq!(items[1]["opening_hours"], "06:00-22:00");
    assert_eq!(items[2]["direction_zh"], "东");
    assert!(items[1]["distance_m"].as_u64().unwrap() > 300);

    // The same point as a phone's map app gives it (GCJ-02): the same answer, to the metre.
    let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
    let g = t
        .get(&format!(
            "/api/v1/public/nearby?type=toilet&lng={g_lng}&lat={g_lat}&crs=gcj02"
        ))
        .await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.text());
    let g = g.json();
    assert!((g["lng"].as_f64().unwrap() - lng).abs() < 1e-5, "{g}");
    assert!((g["lat"].as_f64().unwrap() - lat).abs() < 1e-5, "{g}");
    let g_items = g["items"].as_array().unwrap();
    assert_eq!(g_items.len(), 3);
    for (w, g) in items.iter().zip(g_items) {
        assert_eq!(w["id"], g["id"]);
        let d = w["distance_m"].as_i64().unwrap() - g["distance_m"].as_i64().unwrap();
        assert!(d.abs() <= 1, "{w} vs {g}");
        assert_eq!(w["direction"], g["direction"]);
    }
    // Without conversion the GCJ-02 point lies some 500 m off: the distances differ.
    let raw = t
        .get(&format!(
            "/api/v1/public/nearby?type=toilet&lng={g_lng}&lat={g_lat}"
        ))
        .await
        .json();
    assert_ne!(raw["items"][0]["distance_m"], items[0]["distance_m"]);

    // Any type, a limit; the default limit is 5.
    let any = t
        .get(&format!(
            "/api/v1/public/nearby?lng={lng}&lat={lat}&limit=1"
        ))
        .await
        .json();
    assert_eq!(any["items"].as_array().unwrap().len(), 1);
    assert_eq!(any["items"][0]["name"], "府城公园");
    assert_eq!(any["items"][0]["type"], "park");
    let all = t
        .get(&format!("/api/v1/public/nearby?lng={lng}&lat={lat}"))
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    let none = t
        .get(&format!(
            "/api/v1/public/nearby?type=car_free_zone&lng={lng}&lat={lat}"
        ))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["items"], json!([]));

    // Importing the same file again replaces (by type and name) and adds nothing.
    let a = import(&t, &admin, "text/csv", &city_csv()).await;
    assert_eq!(a.json(), json!({"added": 0, "replaced": 4, "total": 4}));
}

async fn bad_nearby_input_is_422(t: TestApp) {
    for query in [
        "lat=23.09",
        "lng=114.41",
        "lng=&lat=23.09",
        "lng=east&lat=23.09",
        "lng=114.41&lat=95",
        "lng=NaN&lat=23.09",
        "lng=inf&lat=23.09",
        "lng=114.41&lat=23.09&type=bench",
        "lng=114.41&lat=23.09&crs=bd09",
        "lng=114.41&lat=23.09&limit=0",
        "lng=114.41&lat=23.09&limit=51",
        "lng=114.41&lat=23.09&limit=2.5",
        "lng=114.41&lat=23.09&type=",
        "lng=114.41&lat=23.09&crs=",
        "lng=114.41&lat=23.09&crs=GCJ02",
        "lng=114.41&lat=23.09&limit=",
        "lng=%20114.41&lat=23.09",
    ] {
        let a = t.get(&format!("/api/v1/public/nearby?{query}")).await;
        a.assert_error(422, "invalid_value");
        let m = a.json()["message"].as_str().unwrap().to_string();
        let named = ["lng", "lat", "type", "crs", "limit"]
            .iter()
            .any(|p| m.contains(p));
        assert!(named, "{query}: the message names the parameter: {m}");
    }
    t.get("/api/v1/public/nearby?lng=114.41&lng=114.42&lat=23.09")
        .await
        .assert_error(400, "invalid_query");
}

async fn import_errors_name_the_line_or_feature_and_write_nothing(t: TestApp) {
    let admin = t.token("admin").await;
    let (lng, lat) = A_NW;
    // Line 3 has an unknown type: nothing of the file is written, line 2 included.
    let csv = format!("type,name,lng,lat\ntoilet,好公厕,{lng},{lat}\nbench,长椅,{lng},{lat}\n");
    let a = import(&t, &admin, "text/csv", &csv).await;
    a.assert_error(422, "invalid_value");
    let m = a.json()["message"].as_str().unwrap().to_string();
    assert!(m.contains("line 3") && m.contains("bench"), "{m}");
    // A point outside the city's districts, on line 4 (after a blank line).
    let csv =
        format!("type,name,lng,lat\ntoilet,好公厕,{lng},{lat}\n\ntoilet,城外公厕,113.0,23.0\n");
    let a = import(&t, &admin, "text/csv", &csv).await;
    a.assert_error(422, "invalid_value");
    let m = a.json()["message"].as_str().unwrap().to_string();
    assert!(m.contains("line 4") && m.contains("outside"), "{m}");
    // GeoJSON: feature 1 is a LineString.
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "park", "name": "好公园"},
         "geometry": {"type": "Point", "coordinates": [lng, lat]}},
        {"type": "Feature", "properties": {"type": "park", "name": "线公园"},
         "geometry": {"type": "LineString", "coordinates": [[lng, lat], [lng + 0.001, lat]]}},
    ]});
    let a = import(&t, &admin, "application/geo+json", &geojson.to_string()).await;
    a.assert_error(422, "invalid_value");
    let m = a.json()["message"].as_str().unwrap().to_string();
    assert!(m.contains("feature 1") && m.contains("线公园"), "{m}");
    // A header alone, and an empty collection: no POIs.
    import(&t, &admin, "text/csv", "type,name,lng,lat\n")
        .await
        .assert_error(422, "invalid_value");
    import(
        &t,
        &admin,
        "application/json",
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .await
    .assert_error(422, "invalid_value");
    assert_eq!(list(&t, &admin, "").await["total"], 0, "nothing written");

    // The good features, in GCJ-02 by the query (one names its own crs), are written.
    let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "park", "name": "好公园"},
         "geometry": {"type": "Point", "coordinates": [g_lng, g_lat]}},
        {"type": "Feature", "properties": {"type": "car_free_zone", "name": "步行街", "crs": "wgs84"},
         "geometry": {"type": "Polygon", "coordinates": [[[lng, lat], [lng + 0.002, lat],
             [lng + 0.002, lat + 0.002], [lng, lat + 0.002], [lng, lat]]]}},
    ]});
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/pois/import?crs=gcj02")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "application/geo+json")
                .body(Body::from(geojson.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = list(&t, &admin, "").await;
    assert_eq!(v["total"], 2);
    let park = &v["items"][0];
    assert!((park["lng"].as_f64().unwrap() - lng).abs() < 1e-5, "{park}");
    assert_eq!(park["grid_code"], "441302001001001");
    let zone = &v["items"][1];
    assert!((zone["lng"].as_f64().unwrap() - (lng + 0.001)).abs() < 1e-9);
    assert!((zone["lat"].as_f64().unwrap() - (lat + 0.001)).abs() < 1e-9);
    assert_eq!(zone["type_name"], "无车区");
    // An unknown crs in the query.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/pois/import?crs=bd09")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(city_csv()))
                .unwrap(),
        )
        .await;
    a.assert_error(400, "invalid_query");
}

async fn only_administrators_import_and_staff_list(t: TestApp) {
    let inspector = t.token("inspector1").await;
    let citizen = t.token("citizen").await;
    let admin = t.token("admin").await;
    import(&t, &inspector, "text/csv", &city_csv())
        .await
        .assert_error(403, "forbidden");
    import(&t, &citizen, "text/csv", &city_csv())
        .await
        .assert_error(403, "forbidden");
    assert_eq!(list(&t, &admin, "").await["total"], 0);
    import(&t, &admin, "text/plain", &city_csv())
        .await
        .assert_error(415, "unsupported_media_type");
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/pois/import")
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(city_csv()))
                .unwrap(),
        )
        .await;
    assert!(
        a.status == StatusCode::UNAUTHORIZED || a.status == StatusCode::FORBIDDEN,
        "{}",
        a.status
    );
    assert_eq!(
        import(&t, &admin, "text/csv; charset=utf-8", &city_csv())
            .await
            .status,
        StatusCode::OK
    );

    // Staff list, by id, filtered and paged; citizens may not; without a session 401.
    let v = list(&t, &inspector, "").await;
    assert_eq!(v["total"], 4);
    assert_eq!(v["page"], 1);
    assert_eq!(v["page_size"], 50);
    assert_eq!(v["items"][0]["name"], "北边公厕");
    assert_eq!(v["items"][0]["district_code"], "441302");
    let v = list(&t, &inspector, "?type=park").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["name"], "府城公园");
    let v = list(&t, &inspector, "?type=toilet&page=2&page_size=2").await;
    assert_eq!(
        (v["total"].as_u64(), v["items"].as_array().unwrap().len()),
        (Some(3), 1)
    );
    t.get_auth("/api/v1/pois?type=bench", &inspector)
        .await
        .assert_error(400, "invalid_query");
    t.get_auth("/api/v1/pois", &citizen)
        .await
        .assert_error(403, "forbidden");
    t.get("/api/v1/pois")
        .await
        .assert_error(401, "unauthenticated");
}

async fn lookups_are_limited_per_address(t: TestApp) {
    let uri = "/api/v1/public/nearby?lng=114.41&lat=23.09";
    let t = &t;
    let from = move |peer: &'static str| async move {
        t.send_from(peer, Request::get(uri).body(Body::empty()).unwrap())
            .await
    };
    assert_eq!(from("10.1.2.3:4000").await.status, StatusCode::OK);
    assert_eq!(from("10.1.2.3:4001").await.status, StatusCode::OK);
    let refused = from("10.1.2.3:4002").await;
    refused.assert_error(429, "rate_limited");
    assert_eq!(refused.header("retry-after"), Some("30"));
    assert_eq!(
        from("10.9.9.9:4000").await.status,
        StatusCode::OK,
        "another address"
    );
    t.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(from("10.1.2.3:4003").await.status, StatusCode::OK);
}
