//! 一码管全域 (issue 14) over HTTP, on SQLite and PostgreSQL: objects created (coded, located,
//! zone derived), imported all or nothing (the bad line named), listed and read within scope; the
//! public card (no login, nothing personal); the 三教而罚 ladder on the working calendar with
//! hand-computed deadlines (a holiday and a make-up Saturday), driven by the injected clock and one
//! upkeep run at a time; a scan far from the object flagged; a responsible party kept to their own
//! objects; the escalation filing exactly one enforcement case with several service instances
//! over one database; and the whole loop — self-check fine, inspection failing, discrepancy
//! listed, notices 1–3, the enforcement case with its evidence, visible in the rectification list
//! and the case API.
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, TimeZone, Utc};
use cityops_domain::{Clock, Role};
use cityops_store::NewUser;
use cityops_web::{AppState, WebConfig};
use common::{Answer, GRID_NW, PASSWORD, STREET, TestApp, cheap_hash};
use serde_json::{Value, json};

fn config() -> WebConfig {
    let mut c = WebConfig::default();
    // The fixture city's stand-ins: its district municipal department plays 城管执法, and its
    // catalogue excerpt has one matter category for every checklist category.
    c.objects.enforcement_departments = vec!["{district}-municipal".into()];
    c.objects.case_categories.clear();
    c.objects.fallback_case_category = "01001".into();
    c.objects.upkeep_interval = std::time::Duration::ZERO;
    c
}

on_both_stores!(
    objects_are_coded_located_imported_and_scoped with super::config(),
    the_public_card_shows_nothing_personal with super::config(),
    a_self_found_problem_and_the_ladder_across_a_make_up_saturday with super::config(),
    a_scan_far_from_the_object_is_flagged with super::config(),
    a_responsible_party_sees_only_their_own_objects with super::config(),
    several_instances_file_one_enforcement_case with super::config(),
    the_full_loop_to_an_enforcement_case_with_evidence with super::config(),
);

/// A Beijing-time instant.
fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .expect("UTC+8")
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid local time")
        .with_timezone(&Utc)
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an instant: {v}"))
}

/// A point inside grid NW of the fixture city, 33 m from its northern edge (the fixture city has
/// no street lines: a default zone faces the nearest grid edge).
const SHOP: (f64, f64) = (114.4102, 23.0997);

impl TestApp {
    async fn put_auth(&self, uri: &str, token: &str, body: &Value) -> Answer {
        self.send(
            Request::builder()
                .method(Method::PUT)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn post_text(&self, uri: &str, token: &str, content_type: &str, body: &str) -> Answer {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Sets the clock to `t`.
    fn set_clock(&self, t: DateTime<Utc>) {
        let now = self.clock.now();
        assert!(t >= now, "the clock only moves forward");
        self.clock.advance(t - now);
    }

    /// One run of the ladder.
    async fn upkeep(&self) -> cityops_app::objects::UpkeepReport {
        self.state.objects.upkeep().await.expect("upkeep")
    }

    /// Creates an object as `token`; answers its code.
    async fn create_object(&self, token: &str, name: &str, party: Option<&str>) -> String {
        let mut body = json!({
            "kind": "restaurant", "name": name, "address": format!("{name} 门牌"),
            "lng": SHOP.0, "lat": SHOP.1,
            "responsible_name": "陈小明", "responsible_phone": "13800001234",
        });
        if let Some(p) = party {
            body["responsible_username"] = json!(p);
        }
        let a = self.post_auth("/api/v1/objects", token, &body).await;
        assert_eq!(a.status, 201, "create: {}", a.text());
        a.json()["code"].as_str().unwrap().to_string()
    }

    /// The rectification records of an object (as `token`).
    async fn records(&self, token: &str, code: &str) -> Vec<Value> {
        let a = self
            .get_auth(&format!("/api/v1/rectifications?object={code}"), token)
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()["items"].as_array().unwrap().clone()
    }

    /// Adds a responsible party account.
    async fn add_party(&self, username: &str) {
        self.state
            .store
            .create_user(&NewUser {
                username: username.into(),
                display_name: format!("{username} 责任人"),
                password_hash: cheap_hash(PASSWORD),
                roles: vec![Role::ResponsibleParty],
                region_code: None,
                department_code: None,
                grids: vec![],
            })
            .await
            .expect("party account");
    }
}

fn dues(record: &Value) -> Vec<(String, DateTime<Utc>)> {
    record["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["stage"].as_str().unwrap().to_string(), instant(&n["due"])))
        .collect()
}

/// The total of `GET /api/v1/objects{q}` as `token`.
async fn total(t: &TestApp, q: &str, token: &str) -> u64 {
    let a = t.get_auth(&format!("/api/v1/objects{q}"), token).await;
    assert_eq!(a.status, 200, "{q}: {}", a.text());
    a.json()["total"].as_u64().unwrap()
}

async fn objects_are_coded_located_imported_and_scoped(t: TestApp) {
    let admin = t.token("admin").await;
    let supervisor = t.token("a_supervisor").await;
    let inspector = t.token("inspector2").await;
    // Create: coded by its district, located to its grid, zone derived (the fixture city has no
    // street lines: the nearest edge of its unit grid stands in).
    let a = t
        .post_auth(
            "/api/v1/objects",
            &supervisor,
            &json!({"kind": "street_shop", "name": "杂货店", "address": "一号路 1 号",
                    "lng": SHOP.0, "lat": SHOP.1, "responsible_name": "王五",
                    "responsible_phone": "13900002222", "responsible_username": "a_responsible_party"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let o = a.json();
    let code = o["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("44130201"), "{code}");
    assert_eq!(
        o["code_grouped"],
        format!(
            "{}-{}-{}-{}",
            &code[..6],
            &code[6..8],
            &code[8..15],
            &code[15..]
        )
    );
    assert_eq!(o["grid_code"], GRID_NW);
    assert_eq!(o["street_code"], STREET);
    assert_eq!(o["version"], 1);
    let zone = o["zone"].as_array().expect("a derived zone");
    assert_eq!(zone.len(), 4);
    assert!(o["responsible"]["user_id"].is_i64());
    // Only administrators and supervisors of the place create; bad input is refused whole.
    let body = json!({"kind": "school", "name": "一小", "address": "x", "lng": SHOP.0, "lat": SHOP.1,
                      "responsible_name": "李", "responsible_phone": "1"});
    t.post_auth("/api/v1/objects", &inspector, &body)
        .await
        .assert_error(403, "forbidden");
    let b_supervisor = t.token("b_supervisor").await;
    t.post_auth("/api/v1/objects", &b_supervisor, &body)
        .await
        .assert_error(403, "forbidden");
    let mut far = body.clone();
    far["lng"] = json!(100.0);
    t.post_auth("/api/v1/objects", &admin, &far)
        .await
        .assert_error(422, "outside_city");
    let mut nobody = body.clone();
    nobody["responsible_username"] = json!("inspector2");
    t.post_auth("/api/v1/objects", &admin, &nobody)
        .await
        .assert_error(422, "invalid_value");
    let mut long = body.clone();
    long["name"] = json!("店".repeat(101));
    t.post_auth("/api/v1/objects", &admin, &long)
        .await
        .assert_error(422, "too_long");

    // Import: a bad line is named and nothing is written.
    let header = "code,kind,name,address,lng,lat,responsible_name,responsible_phone,responsible_username,owner_department,zone\n";
    let bad = format!(
        "{header},school,二小,二号路,{},{},李,1,,,\n,toaster,坏,x,{},{},李,1,,,\n",
        SHOP.0, SHOP.1, SHOP.0, SHOP.1
    );
    let a = t
        .post_text("/api/v1/objects/import", &admin, "text/csv", &bad)
        .await;
    a.assert_error(422, "invalid_value");
    assert!(
        a.json()["message"].as_str().unwrap().contains("line 3"),
        "{}",
        a.text()
    );
    let outside = format!("{header},school,二小,二号路,100.0,30.0,李,1,,,\n");
    let a = t
        .post_text("/api/v1/objects/import", &admin, "text/csv", &outside)
        .await;
    a.assert_error(422, "invalid_value");
    assert!(
        a.json()["message"].as_str().unwrap().contains("line 2"),
        "{}",
        a.text()
    );
    let list = t.get_auth("/api/v1/objects", &admin).await.json();
    assert_eq!(list["total"], 1, "nothing half-written");
    let good = format!(
        "{header},school,二小,二号路,{},{},李,1,,441302-municipal,\n,market,菜市场,三号路,{},{},赵,2,,,\"{} {};{} {};{} {}\"\n",
        SHOP.0,
        SHOP.1,
        SHOP.0 + 0.001,
        SHOP.1,
        SHOP.0,
        SHOP.1,
        SHOP.0 + 0.0002,
        SHOP.1,
        SHOP.0 + 0.0002,
        SHOP.1 + 0.0002
    );
    let a = t
        .post_text("/api/v1/objects/import", &admin, "text/csv", &good)
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["created"], 2);
    let geo = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [SHOP.0, SHOP.1]},
         "properties": {"kind": "hospital", "name": "卫生站", "address": "四号路",
                        "responsible_name": "周", "responsible_phone": "3"}}]});
    let a = t
        .post_text(
            "/api/v1/objects/import",
            &admin,
            "application/geo+json",
            &geo.to_string(),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    t.post_text("/api/v1/objects/import", &admin, "text/plain", "x")
        .await
        .assert_error(415, "unsupported_media_type");

    // Lists: filters and scope.
    assert_eq!(total(&t, "", &admin).await, 4);
    assert_eq!(total(&t, "?kind=school", &admin).await, 1);
    assert_eq!(total(&t, "?q=菜市", &admin).await, 1);
    assert_eq!(total(&t, &format!("?street={STREET}"), &admin).await, 4);
    assert_eq!(total(&t, "", &b_supervisor).await, 0, "another district");
    let party = t.token("a_responsible_party").await;
    assert_eq!(total(&t, "", &party).await, 1, "a party sees their own");
    t.get_auth("/api/v1/objects?kind=toaster", &admin)
        .await
        .assert_error(400, "invalid_query");
    let citizen = t.token("citizen").await;
    t.get_auth("/api/v1/objects", &citizen)
        .await
        .assert_error(403, "forbidden");

    // One object; update at its version.
    let one = t
        .get_auth(&format!("/api/v1/objects/{code}"), &inspector)
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert!(one.json()["checklist_items"].as_u64().unwrap() > 10);
    t.get_auth(&format!("/api/v1/objects/{code}"), &b_supervisor)
        .await
        .assert_error(404, "not_found");
    t.get_auth("/api/v1/objects/4413020100000000", &admin)
        .await
        .assert_error(404, "not_found");
    t.get_auth("/api/v1/objects/12", &admin)
        .await
        .assert_error(400, "bad_request");
    let mut change = json!({"kind": "restaurant", "name": "杂货店（改餐饮）", "address": "一号路 1 号",
        "lng": SHOP.0, "lat": SHOP.1, "responsible_name": "王五", "responsible_phone": "13900002222",
        "responsible_username": "a_responsible_party", "version": 1});
    let a = t
        .put_auth(&format!("/api/v1/objects/{code}"), &supervisor, &change)
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        (a.json()["version"].clone(), a.json()["kind"].clone()),
        (json!(2), json!("restaurant"))
    );
    assert_eq!(a.json()["code"], code, "the code never changes");
    t.put_auth(&format!("/api/v1/objects/{code}"), &supervisor, &change)
        .await
        .assert_error(409, "conflict");
    change["version"] = json!(2);
    t.put_auth(&format!("/api/v1/objects/{code}"), &inspector, &change)
        .await
        .assert_error(403, "forbidden");
    // The checklist of a kind.
    let list = t
        .get_auth("/api/v1/checklists?kind=construction_site", &inspector)
        .await;
    assert_eq!(list.status, 200);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|i| i["code"] == "0105"));
    assert!(!items.iter().any(|i| i["code"] == "0301"));
    let all = t.get_auth("/api/v1/checklists", &inspector).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 34);
    assert_eq!(all["categories"].as_array().unwrap().len(), 8);
}

async fn the_public_card_shows_nothing_personal(t: TestApp) {
    let admin = t.token("admin").await;
    let code = t
        .create_object(&admin, "老街肠粉店", Some("a_responsible_party"))
        .await;
    let a = t.get(&format!("/api/v1/public/objects/{code}")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let text = a.text();
    for personal in ["13800001234", "陈小明", "陈*明", "responsible", "user_id"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    let card = a.json();
    assert_eq!(card["name"], "老街肠粉店");
    assert_eq!(card["kind"], "restaurant");
    assert!(card["latest"].is_null());
    assert_eq!(card["open_rectifications"], json!([]));
    t.get("/api/v1/public/objects/4413020200000000")
        .await
        .assert_error(404, "not_found");
    t.get("/api/v1/public/objects/abc")
        .await
        .assert_error(400, "bad_request");
}

/// A self-check opens its own record with the item's period (自查自改); only when that runs out
/// does notice 1 go out; the working calendar has a make-up Saturday. A re-inspection closes the
/// record at notice 1, which the statistics count as closed before enforcement.
async fn a_self_found_problem_and_the_ladder_across_a_make_up_saturday(t: TestApp) {
    let admin = t.token("admin").await;
    let cal = "date,kind,name\n2026-11-25,holiday,示意假日\n2026-11-28,workday,示意调休\n";
    let a = t
        .send(
            Request::builder()
                .method(Method::PUT)
                .uri("/api/v1/calendar/days")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(cal))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let code = t
        .create_object(&admin, "肠粉店", Some("a_responsible_party"))
        .await;
    let party = t.token("a_responsible_party").await;
    let inspector = t.token("inspector2").await;

    // Thu 26 Nov 15:00: the party finds 0101 (1 工作日) failing, with a photo.
    t.set_clock(at(2026, 11, 26, 15, 0));
    let photo = t.upload(&party, 1).await;
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/self-checks"),
            &party,
            &json!({"results": [{"item_code": "0101", "passed": false, "photos": [photo]},
                                {"item_code": "0201", "passed": true}]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let opened = &a.json()["opened"][0];
    // Its own period, 8 working hours: Thu 15–18 (3 h), Fri 27 08–12 (4 h → 7 h), 14:00 + 1 h.
    assert_eq!(opened["stage"], "open");
    assert_eq!(instant(&opened["due"]), at(2026, 11, 27, 15, 0));
    assert_eq!(opened["source"], "self_check");

    t.set_clock(at(2026, 11, 27, 15, 0));
    assert_eq!(
        t.upkeep().await.notices,
        0,
        "not overdue at the deadline itself"
    );
    // Fri 15:01: notice 1, 8 h: Fri 15:01–18:00 (2 h 59), Sat 28 is a make-up workday:
    // 08–12 (4 h → 6 h 59), 14:00 + 1 h 01 → Sat 28 Nov 15:01.
    t.set_clock(at(2026, 11, 27, 15, 1));
    let queued = t.state.app.notifier_stats().queued;
    let r = t.upkeep().await;
    assert_eq!((r.notices, r.handed_over, r.cases), (1, 0, 0));
    assert_eq!(
        t.state.app.notifier_stats().queued,
        queued + 1,
        "the notice went to the outbound channel"
    );
    assert_eq!(t.upkeep().await.notices, 0, "sent once");
    let rec = t.records(&party, &code).await;
    assert_eq!(rec[0]["stage"], "notice1");
    assert_eq!(
        dues(&rec[0]),
        vec![("notice1".to_string(), at(2026, 11, 28, 15, 1))]
    );
    assert_eq!(
        instant(&rec[0]["notices"][0]["sent_at"]),
        at(2026, 11, 27, 15, 1)
    );

    // After a notice only a re-inspection closes it: the party's self-check does not.
    t.set_clock(at(2026, 11, 28, 9, 0));
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/self-checks"),
            &party,
            &json!({"results": [{"item_code": "0101", "passed": true}]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["closed"], json!([]));
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": true}], "lng": SHOP.0, "lat": SHOP.1}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let closed = &a.json()["closed"][0];
    assert_eq!(
        (closed["stage"].clone(), closed["closed_stage"].clone()),
        (json!("rectified"), json!("notice1"))
    );
    t.set_clock(at(2026, 12, 7, 9, 0));
    assert_eq!(
        t.upkeep().await,
        Default::default(),
        "nothing more once rectified"
    );

    let supervisor = t.token("a_supervisor").await;
    let s = t
        .get_auth(
            "/api/v1/objects/stats?from=2026-11-01&to=2026-11-30",
            &supervisor,
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text());
    let s = s.json();
    assert_eq!(s["total"]["notice1"], 1);
    assert_eq!(s["total"]["closed_in_zone"], 1);
    assert_eq!(s["total"]["in_zone_rate"], 1.0);
    assert_eq!(s["streets"][0]["street_code"], STREET);
    t.get_auth(
        "/api/v1/objects/stats?from=2026-11-30&to=2026-11-01",
        &supervisor,
    )
    .await
    .assert_error(422, "invalid_value");
    t.get_auth("/api/v1/objects/stats", &party)
        .await
        .assert_error(403, "forbidden");
}

async fn a_scan_far_from_the_object_is_flagged(t: TestApp) {
    let admin = t.token("admin").await;
    let code = t.create_object(&admin, "肠粉店", None).await;
    let inspector = t.token("inspector2").await;
    // About 1.1 km east of the shop, still inside the city: flagged, not refused.
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": true}], "lng": SHOP.0 + 0.011, "lat": SHOP.1}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let v = a.json();
    assert_eq!(v["position"]["far"], true);
    let d = v["position"]["distance_m"].as_f64().unwrap();
    assert!((1_000.0..1_200.0).contains(&d), "{d}");
    assert_eq!(v["check"]["far"], true);
    // Near the shop: not flagged; a GCJ-02 position is converted first (≈ 550 m here: far).
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": true}], "lng": SHOP.0 + 0.0005, "lat": SHOP.1}),
        )
        .await;
    assert_eq!(a.json()["position"]["far"], false, "{}", a.text());
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": true}], "lng": SHOP.0, "lat": SHOP.1, "crs": "gcj02"}),
        )
        .await;
    assert_eq!(a.json()["position"]["far"], true, "{}", a.text());
    let checks = t
        .get_auth(
            &format!("/api/v1/objects/{code}/checks?kind=inspection"),
            &inspector,
        )
        .await
        .json();
    let far: Vec<bool> = checks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["far"].as_bool().unwrap())
        .collect();
    assert_eq!(
        far,
        vec![true, false, true],
        "newest first, kept with their flag"
    );
    // A position given half, an item off the kind's list, a failing item without its photo.
    for body in [
        json!({"results": [{"item_code": "0101", "passed": true}], "lng": SHOP.0}),
        json!({"results": [{"item_code": "0105", "passed": true}]}),
        json!({"results": [{"item_code": "0101", "passed": false}]}),
        json!({"results": [{"item_code": "0101", "passed": true}, {"item_code": "0101", "passed": true}]}),
    ] {
        t.post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &body,
        )
        .await
        .assert_error(422, "invalid_value");
    }
    // Only inspectors and enforcement officers of the place inspect.
    let b_inspector = t.token("b_inspector").await;
    t.post_auth(
        &format!("/api/v1/objects/{code}/inspections"),
        &b_inspector,
        &json!({"results": [{"item_code": "0101", "passed": true}]}),
    )
    .await
    .assert_error(404, "not_found");
    let officer = t.token("a_enforcement").await;
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &officer,
            &json!({"results": [{"item_code": "0101", "passed": true}]}),
        )
        .await;
    assert_eq!(
        a.status,
        201,
        "an enforcement officer inspects: {}",
        a.text()
    );
    let supervisor = t.token("a_supervisor").await;
    t.post_auth(
        &format!("/api/v1/objects/{code}/inspections"),
        &supervisor,
        &json!({"results": [{"item_code": "0101", "passed": true}]}),
    )
    .await
    .assert_error(403, "forbidden");
}

async fn a_responsible_party_sees_only_their_own_objects(t: TestApp) {
    let admin = t.token("admin").await;
    t.add_party("shop_b").await;
    let mine = t
        .create_object(&admin, "甲店", Some("a_responsible_party"))
        .await;
    let theirs = t.create_object(&admin, "乙店", Some("shop_b")).await;
    let party = t.token("a_responsible_party").await;
    let other = t.token("shop_b").await;
    let body = json!({"results": [{"item_code": "0101", "passed": true}]});
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{theirs}/self-checks"),
            &other,
            &body,
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    // Another party's object and its checks do not exist for this one.
    t.get_auth(&format!("/api/v1/objects/{theirs}/checks"), &party)
        .await
        .assert_error(404, "not_found");
    t.get_auth(&format!("/api/v1/objects/{theirs}"), &party)
        .await
        .assert_error(404, "not_found");
    t.post_auth(
        &format!("/api/v1/objects/{theirs}/self-checks"),
        &party,
        &body,
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(t.records(&party, &theirs).await, Vec::<Value>::new());
    // Their own: yes.
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{mine}/self-checks"),
            &party,
            &body,
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let mine_checks = t
        .get_auth(&format!("/api/v1/objects/{mine}/checks"), &party)
        .await;
    assert_eq!(mine_checks.status, 200);
    assert_eq!(mine_checks.json()["total"], 1);
    // An inspector sees both objects' checks but may not self-check.
    let inspector = t.token("inspector2").await;
    assert_eq!(
        t.get_auth(&format!("/api/v1/objects/{theirs}/checks"), &inspector)
            .await
            .json()["total"],
        1
    );
    t.post_auth(
        &format!("/api/v1/objects/{mine}/self-checks"),
        &inspector,
        &body,
    )
    .await
    .assert_error(403, "forbidden");
    // A photo of one party's check is not the other's to see.
    let photo = t.upload(&other, 3).await;
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{theirs}/self-checks"),
            &other,
            &json!({"results": [{"item_code": "0101", "passed": false, "photos": [photo]}]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    t.get_auth(&format!("/api/v1/attachments/{photo}"), &party)
        .await
        .assert_error(404, "not_found");
    let seen = t
        .get_auth(&format!("/api/v1/attachments/{photo}"), &inspector)
        .await;
    assert_eq!(seen.status, 200, "the inspector sees the check's photo");
    // Nor may one party use the other's photo.
    t.post_auth(
        &format!("/api/v1/objects/{mine}/self-checks"),
        &party,
        &json!({"results": [{"item_code": "0101", "passed": false, "photos": [photo]}]}),
    )
    .await
    .assert_error(422, "invalid_value");
}

/// Brings a failing inspection of a new object to the point where its warning ran out; answers
/// the object's code. Starts Mon 23 Nov 10:00.
async fn to_the_last_deadline(t: &TestApp) -> String {
    let admin = t.token("admin").await;
    let code = t
        .create_object(&admin, "肠粉店", Some("a_responsible_party"))
        .await;
    let inspector = t.token("inspector2").await;
    t.set_clock(at(2026, 11, 23, 10, 0));
    let photo = t.upload(&inspector, 7).await;
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": false, "photos": [photo]}]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    for (h, d, m) in [(10, 23, 0), (10, 24, 1), (16, 24, 2)] {
        t.set_clock(at(2026, 11, d, h, m));
        assert_eq!(t.upkeep().await.notices, 1);
    }
    t.set_clock(at(2026, 11, 26, 16, 3));
    code
}

async fn several_instances_file_one_enforcement_case(t: TestApp) {
    let code = to_the_last_deadline(&t).await;
    // A second and third service over the same database and clock (as other server processes).
    let clock: Arc<dyn Clock> = t.clock.clone();
    let mut others = Vec::new();
    for _ in 0..2 {
        others.push(
            AppState::load(
                t.state.store.clone(),
                t.state.index.clone(),
                clock.clone(),
                config(),
                false,
            )
            .await
            .expect("another instance"),
        );
    }
    let (a, b, c) = tokio::join!(
        t.state.objects.upkeep(),
        others[0].objects.upkeep(),
        others[1].objects.upkeep(),
    );
    let reports = [a.expect("a"), b.expect("b"), c.expect("c")];
    assert_eq!(
        reports.iter().map(|r| r.handed_over).sum::<usize>(),
        1,
        "{reports:?}"
    );
    assert_eq!(
        reports.iter().map(|r| r.cases).sum::<usize>(),
        1,
        "{reports:?}"
    );
    // Running again anywhere files nothing more.
    let (a, b) = tokio::join!(t.state.objects.upkeep(), others[0].objects.upkeep());
    assert_eq!(a.expect("a").cases + b.expect("b").cases, 0);
    let admin = t.token("admin").await;
    let rec = t.records(&admin, &code).await;
    assert_eq!(rec[0]["stage"], "enforcement");
    let case_id = rec[0]["enforcement_case_id"].as_i64().expect("a case");
    let cases = t
        .get_auth("/api/v1/cases?q=整改记录编号&page_size=100", &admin)
        .await
        .json();
    let ids: Vec<i64> = cases["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![case_id], "exactly one enforcement case");
}

async fn the_full_loop_to_an_enforcement_case_with_evidence(t: TestApp) {
    let admin = t.token("admin").await;
    // A holiday on Wednesday 25 November (the notices' deadlines skip it).
    let a = t
        .send(
            Request::builder()
                .method(Method::PUT)
                .uri("/api/v1/calendar/days")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from("date,kind,name\n2026-11-25,holiday,示意假日\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let code = t
        .create_object(&admin, "老街肠粉店", Some("a_responsible_party"))
        .await;
    let party = t.token("a_responsible_party").await;
    let inspector = t.token("inspector2").await;
    let supervisor = t.token("a_supervisor").await;

    // Mon 23 Nov 09:00: the party's self-check, all fine.
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/self-checks"),
            &party,
            &json!({"results": [{"item_code": "0101", "passed": true}, {"item_code": "0201", "passed": true},
                                {"item_code": "0301", "passed": true}], "lng": SHOP.0, "lat": SHOP.1}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!(a.json()["opened"], json!([]));

    // 10:00: the inspector finds 0101 failing (photo), the rest fine.
    t.set_clock(at(2026, 11, 23, 10, 0));
    let photo = t.upload(&inspector, 9).await;
    let a = t
        .post_auth(
            &format!("/api/v1/objects/{code}/inspections"),
            &inspector,
            &json!({"results": [{"item_code": "0101", "passed": false, "note": "店外摆卖", "photos": [photo]},
                                {"item_code": "0201", "passed": true}],
                    "lng": SHOP.0, "lat": SHOP.1}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let v = a.json();
    assert_eq!(v["position"]["far"], false);
    assert_eq!(
        v["comparison"]["discrepancies"],
        json!([{"item_code": "0101", "kind": "self_reported_fine"}])
    );
    assert_eq!(
        v["credibility"], 50.0,
        "one of two items self-reported fine was failing"
    );
    assert_eq!(v["opened"][0]["stage"], "open");
    assert!(v["opened"][0]["due"].is_null(), "notice 1 is due at once");
    assert_eq!(v["check"]["results"][0]["photos"], json!([photo]));

    // The discrepancy on the supervisors' list of the street.
    let d = t
        .get_auth(
            &format!("/api/v1/objects/discrepancies?street={STREET}"),
            &supervisor,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["total"], 1);
    assert_eq!(d["items"][0]["object_code"], code);
    assert_eq!(d["items"][0]["kind"], "self_reported_fine");
    t.get_auth("/api/v1/objects/discrepancies", &inspector)
        .await
        .assert_error(403, "forbidden");

    // Notice 1 at once, 1 工作日 = 8 h: Mon 10–12 (2 h), 14–18 (4 h → 6 h), Tue 08:00 + 2 h.
    let r = t.upkeep().await;
    assert_eq!((r.notices, r.handed_over), (1, 0));
    // Notice 2 at Tue 10:01, half: 4 h: Tue 10:01–12:00 (1 h 59), 14:00 + 2 h 01 → 16:01.
    t.set_clock(at(2026, 11, 24, 10, 0));
    assert_eq!(
        t.upkeep().await.notices,
        0,
        "not before the deadline has passed"
    );
    t.set_clock(at(2026, 11, 24, 10, 1));
    assert_eq!(t.upkeep().await.notices, 1);
    // Notice 3 at Tue 16:02, 1 工作日: Tue 16:02–18:00 (1 h 58), Wed 25 is a holiday, Thu 26
    // 08–12 (4 h → 5 h 58), 14:00 + 2 h 02 → Thu 26 Nov 16:02.
    t.set_clock(at(2026, 11, 24, 16, 2));
    assert_eq!(t.upkeep().await.notices, 1);
    let rec = t.records(&party, &code).await;
    assert_eq!(rec[0]["stage"], "notice3");
    assert_eq!(
        dues(&rec[0]),
        vec![
            ("notice1".to_string(), at(2026, 11, 24, 10, 0)),
            ("notice2".to_string(), at(2026, 11, 24, 16, 1)),
            ("notice3".to_string(), at(2026, 11, 26, 16, 2)),
        ]
    );
    // The public card shows the open problem and its deadlines.
    let card = t
        .get(&format!("/api/v1/public/objects/{code}"))
        .await
        .json();
    assert_eq!(card["open_rectifications"][0]["stage"], "notice3");
    assert_eq!(card["latest"]["kind"], "inspection");

    // The warning runs out: handed to enforcement, one case with the evidence.
    t.set_clock(at(2026, 11, 26, 16, 2));
    assert_eq!(t.upkeep().await, Default::default());
    t.set_clock(at(2026, 11, 26, 16, 3));
    let r = t.upkeep().await;
    assert_eq!((r.handed_over, r.cases), (1, 1));
    let rec = t.records(&supervisor, &code).await;
    assert_eq!(rec[0]["stage"], "enforcement");
    assert_eq!(instant(&rec[0]["handed_over_at"]), at(2026, 11, 26, 16, 3));
    let case_id = rec[0]["enforcement_case_id"].as_i64().expect("the case");
    let open = t
        .get_auth(
            "/api/v1/rectifications?status=open&stage=enforcement",
            &supervisor,
        )
        .await
        .json();
    assert_eq!(open["total"], 1);

    let case = t.case(&admin, case_id).await;
    assert_eq!(case.status, 200, "{}", case.text());
    let case = case.json();
    let description = case["description"].as_str().unwrap();
    let grouped = format!(
        "{}-{}-{}-{}",
        &code[..6],
        &code[6..8],
        &code[8..15],
        &code[15..]
    );
    for part in [
        grouped.as_str(),
        "0101",
        "教育提醒",
        "责令整改",
        "警告",
        "整改记录编号",
        "巡查不合格",
    ] {
        assert!(description.contains(part), "{part} in {description}");
    }
    assert_eq!(
        case["attachments"],
        json!([photo]),
        "the inspection's photo"
    );
    assert_eq!(case["source"], "inspector");
    let municipal = t.department_id("441302-municipal").await;
    assert_eq!(
        case["suggested_department_id"], municipal,
        "routed to the enforcement department"
    );
    // The case is in the audit chain.
    let events = t
        .get_auth(&format!("/api/v1/cases/{case_id}/events"), &admin)
        .await;
    assert_eq!(events.status, 200);
    let verify = t.get_auth("/api/v1/audit/verify", &admin).await;
    assert_eq!(verify.status, 200, "{}", verify.text());
    // Nothing more: a later run files no second case.
    t.set_clock(at(2026, 12, 10, 9, 0));
    assert_eq!(t.upkeep().await, Default::default());
    // The party sees the record and its case id; the inspection photo is the case's now.
    let mine = t.records(&party, &code).await;
    assert_eq!(mine[0]["enforcement_case_id"], case_id);
    let detail = t
        .get_auth(&format!("/api/v1/objects/{code}"), &supervisor)
        .await
        .json();
    assert_eq!(detail["open_rectifications"][0]["stage"], "enforcement");
    assert_eq!(detail["credibility"], 50.0);
}
