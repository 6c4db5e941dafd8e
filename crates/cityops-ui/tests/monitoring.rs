//! 运行监测 in the console, over the case-workflow city with operation monitoring running: the
//! device map, the alarm wall, the device page and the rule editor render in Chinese and English;
//! `/ui/monitoring/devices.json` holds the viewer's devices only (a district leader's district, a
//! department's own) with their status; citizens are refused and strangers sent to log in; an
//! administrator edits and adds rules through the editor's forms (a refused rule shows why and
//! saves nothing; others may only read); an alarm is acknowledged through the wall's form; the
//! event stream `/monitoring/events` brings a raised alarm to a watcher in scope and not to one
//! outside it; the big screen's alarm panel counts it.
mod common;

use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use cityops_domain::Clock;
use cityops_domain::monitoring::{
    Device, DeviceRecord, DeviceType, Direction, Metric, Reading, Rule, RuleKind,
};
use cityops_test_support::city::{A_NW, A_SE, B_PT};
use cityops_web::WebConfig;
use common::{TestApp, form_token};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn user(t: &TestApp, name: &str) -> cityops_domain::User {
    t.state
        .store
        .credentials(name)
        .await
        .unwrap()
        .expect("user")
        .user
}

fn device(id: &str, kind: DeviceType, name: &str, p: (f64, f64)) -> Device {
    Device {
        id: id.into(),
        device_type: kind,
        name: name.into(),
        lng: p.0,
        lat: p.1,
        grid_code: None,
        community_code: None,
        street_code: None,
        district_code: None,
        component_id: None,
        department_id: None,
        profile: kind.default_profile().into(),
        responsible: Some("张工 13900000000".into()),
        active: true,
    }
}

/// The city with three devices (two gas detectors in district A, one owned by its municipal
/// department; a noise monitor in district B) and a graded gas rule that opens cases from
/// level 2. Answers the rule's id.
async fn app() -> (TestApp, i64) {
    let t = common::case_city(WebConfig::default()).await;
    let admin = user(&t, "admin").await;
    let m = t.state.monitoring().expect("monitoring runs");
    let records = vec![
        DeviceRecord {
            device: device("A-GAS-1", DeviceType::GasDetector, "文明一路燃气井", A_NW),
            department_code: Some("441302-municipal".into()),
        },
        DeviceRecord {
            device: device("A-GAS-2", DeviceType::GasDetector, "麦地路燃气井", A_SE),
            department_code: None,
        },
        DeviceRecord {
            device: device("B-NOISE-1", DeviceType::Noise, "淡水某项目工地", B_PT),
            department_code: None,
        },
    ];
    assert_eq!(m.import_devices(&admin, records).await.unwrap(), (3, 0));
    let rule = m
        .save_rule(
            &admin,
            Rule {
                id: 0,
                profile: "gas_detector".into(),
                name: "甲烷浓度分级报警".into(),
                metric: Metric::Ch4Lel,
                kind: RuleKind::Threshold {
                    direction: Direction::Above,
                    levels: [Some(10.0), Some(25.0), Some(50.0)],
                    hysteresis: 1.0,
                    sustain_secs: 0,
                },
                case_level: Some(2),
                category_code: Some("01002".into()),
                clear_after_secs: 0,
                enabled: true,
            },
        )
        .await
        .unwrap();
    (t, rule.id)
}

/// Posts a reading of `device` through the ingest path and waits for its active alarm (the
/// alarm task runs beside the writer). Answers the alarm as the API shows it.
async fn raise(t: &TestApp, device: &str, value: f64) -> cityops_domain::monitoring::Alarm {
    raise_with(t, device, value, false).await
}

/// As [`raise`]; with `case`, waits for the alarm's case too.
async fn raise_with(
    t: &TestApp,
    device: &str,
    value: f64,
    case: bool,
) -> cityops_domain::monitoring::Alarm {
    let m = t.state.monitoring().unwrap();
    let key = m.registry().active(device).expect("registered").key;
    let ingest = t.state.ingest.as_ref().unwrap();
    let reading = Reading {
        device_key: key,
        metric: Metric::Ch4Lel,
        value,
        ts: t.clock.now() - Duration::seconds(5),
    };
    let stored = ingest
        .try_submit(vec![reading])
        .expect("queued")
        .stored()
        .await;
    assert_eq!(stored.expect("stored"), 1);
    let admin = user(t, "admin").await;
    for _ in 0..500 {
        let got = m
            .list_alarms(
                &admin,
                cityops_store::AlarmFilter {
                    device_id: Some(device.into()),
                    active: true,
                    ..Default::default()
                },
                cityops_domain::PageRequest {
                    page: 1,
                    page_size: 10,
                },
            )
            .await
            .unwrap();
        if let Some(a) = got.items.into_iter().next()
            && (!case || a.case_id.is_some())
        {
            return a;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("no alarm for {device} within 10 s");
}

fn ids(v: &Value) -> Vec<String> {
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_page_renders_in_both_languages() {
    let (t, rule) = app().await;
    let alarm = raise_with(&t, "A-GAS-1", 31.5, true).await;
    let admin = t.session("admin").await;
    let page = t.get_with("/monitoring", &admin).await;
    page.assert_page(&[
        "运行监测",
        "设备状态",
        "报警",
        "离线",
        "停用",
        "燃气",
        "可燃气体监测仪",
        "mon-config",
        "monitoring_map.js",
        "/monitoring/alarms",
        "/monitoring/rules",
    ]);
    t.get_with("/monitoring?lang=en", &admin)
        .await
        .assert_page(&[
            "Operation monitoring",
            "Device status",
            "Combustible gas detector",
            "Out of service",
        ]);

    let wall = t.get_with("/monitoring/alarms", &admin).await;
    wall.assert_page(&[
        "报警墙",
        "二级",
        "文明一路燃气井",
        "A-GAS-1",
        "甲烷浓度分级报警",
        "31.5 %LEL",
        "报警中",
        "确认",
        &format!("/monitoring/alarms/{}/acknowledge", alarm.id),
        "惠城区",
    ]);
    let case_id = alarm.case_id.expect("level 2 opens a case");
    assert!(
        wall.text().contains(&format!("/cases/{case_id}")),
        "the case link"
    );
    t.get_with("/monitoring/alarms?lang=en", &admin)
        .await
        .assert_page(&["Alarm wall", "Level 2", "Raised", "Acknowledge"]);

    let dev = t.get_with("/monitoring/devices/A-GAS-1", &admin).await;
    dev.assert_page(&[
        "文明一路燃气井",
        "设备信息",
        "可燃气体监测仪",
        "惠城区",
        "监测曲线",
        "近24小时",
        "甲烷浓度分级报警",
        "≥ 10 / 25 / 50 %LEL",
        "device-config",
        "chart-ch4_lel",
        "13900000000",
    ]);
    let cfg = dev.text();
    assert!(
        cfg.contains(r#""value":25.0"#) || cfg.contains(r#""value":25"#),
        "threshold lines"
    );
    t.get_with("/monitoring/devices/A-GAS-1?lang=en", &admin)
        .await
        .assert_page(&["Readings", "24 hours", "Alarm rules that apply", "Level 2"]);
    assert_eq!(
        t.get_with("/monitoring/devices/NO-SUCH", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let rules = t.get_with("/monitoring/rules", &admin).await;
    rules.assert_page(&[
        "报警规则",
        "可燃气体监测仪（gas_detector）",
        "甲烷浓度分级报警",
        "分级阈值",
        "≥ 二级 · 01002",
        "新增规则",
        &format!("/monitoring/rules?edit={rule}"),
    ]);
    t.get_with("/monitoring/rules?lang=en", &admin)
        .await
        .assert_page(&["Alarm rules", "Graded threshold", "Add a rule", "Edit"]);

    // The navigation's 监测 group, with the alarm waiting to be acknowledged.
    let home = t.get_with("/", &admin).await.text();
    assert!(home.contains(r#"href="/monitoring/alarms""#), "nav entry");
    assert!(home.contains("监测"));

    // The big screen's alarm panel and its figures.
    t.get_with("/screen", &admin)
        .await
        .assert_page(&["运行监测报警", "sc-alarms"]);
    let s = t.get_with("/screen/alarms.json", &admin).await.json();
    assert_eq!(s["total"], 1);
    assert_eq!(s["levels"], serde_json::json!([0, 1, 0]));
    let gas = &s["by_lifeline"][0];
    assert_eq!(
        (gas["key"].as_str(), gas["total"].as_u64()),
        (Some("gas"), Some(1))
    );
    assert_eq!(s["newest"][0]["device_name"], "文明一路燃气井");
}

#[tokio::test]
async fn each_viewer_sees_the_devices_of_their_scope() {
    let (t, _) = app().await;
    raise(&t, "A-GAS-1", 60.0).await;
    let admin = t.session("admin").await;
    let all = t.get_with("/ui/monitoring/devices.json", &admin).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let all = all.json();
    assert_eq!(ids(&all), ["A-GAS-1", "A-GAS-2", "B-NOISE-1"]);
    let gas = &all["devices"][0];
    assert_eq!(
        (gas["status"].as_str(), gas["level"].as_u64()),
        (Some("alarm"), Some(3))
    );
    assert_eq!(all["devices"][1]["status"], "normal");
    assert_eq!(all["counts"]["alarm"], 1);
    assert_eq!(all["counts"]["normal"], 2);
    assert_eq!(all["alarms"][0]["device_name"], "文明一路燃气井");
    for key in ["id", "type", "lng", "lat", "status", "level"] {
        assert!(gas.get(key).is_some(), "{key}");
    }

    // A district leader: their district's devices only; district B's leader theirs.
    let leader = t.session("leader").await;
    let a = t
        .get_with("/ui/monitoring/devices.json", &leader)
        .await
        .json();
    assert_eq!(ids(&a), ["A-GAS-1", "A-GAS-2"]);
    let b_leader = t.session("b_leader").await;
    let b = t
        .get_with("/ui/monitoring/devices.json", &b_leader)
        .await
        .json();
    assert_eq!(ids(&b), ["B-NOISE-1"]);
    assert!(
        b["alarms"].as_array().unwrap().is_empty(),
        "A's alarm is not B's"
    );
    // A department sees its own devices.
    let dept = t.session("a_handler_dept").await;
    let d = t
        .get_with("/ui/monitoring/devices.json", &dept)
        .await
        .json();
    assert_eq!(ids(&d), ["A-GAS-1"]);
    // B's leader cannot open A's device, nor see its alarm on the wall.
    assert_eq!(
        t.get_with("/monitoring/devices/A-GAS-1", &b_leader)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let wall = t.get_with("/monitoring/alarms", &b_leader).await;
    assert_eq!(wall.status, StatusCode::OK);
    assert!(!wall.text().contains("A-GAS-1"));
    // The responsible party's phone is masked for a leader.
    let page = t.get_with("/monitoring/devices/A-GAS-1", &leader).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("13900000000"));

    // Citizens are refused; strangers are sent to log in (pages) or get 401 (JSON).
    let citizen = t.session("citizen").await;
    for uri in [
        "/monitoring",
        "/monitoring/alarms",
        "/monitoring/rules",
        "/monitoring/devices/A-GAS-1",
    ] {
        assert_eq!(
            t.get_with(uri, &citizen).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
        let anon = t.get(uri).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(anon.header("location").unwrap().starts_with("/login"));
    }
    let c = t.get_with("/ui/monitoring/devices.json", &citizen).await;
    assert_eq!(c.status, StatusCode::FORBIDDEN, "{}", c.text());
    assert_eq!(
        t.get_with("/monitoring/events", &citizen).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get("/ui/monitoring/devices.json").await.status,
        StatusCode::UNAUTHORIZED
    );
    // No 监测 in the citizen's navigation.
    let home = t.get_with("/", &citizen).await.text();
    assert!(!home.contains(r#"href="/monitoring""#));
}

#[tokio::test]
async fn the_administrator_edits_and_adds_rules_through_the_forms() {
    let (t, rule) = app().await;
    let admin = t.session("admin").await;
    let page = t
        .get_with(&format!("/monitoring/rules?edit={rule}"), &admin)
        .await;
    page.assert_page(&[&format!(r#"action="/monitoring/rules/{rule}""#), "保存规则"]);
    let token = form_token(&page.text());
    let m = t.state.monitoring().unwrap();
    let form = |token: &str, level1: &str, level2: &str| {
        format!(
            "csrf_token={token}&profile=gas_detector&name=%E7%94%B2%E7%83%B7&kind=threshold&metric=ch4_lel\
             &direction=above&level1={level1}&level2={level2}&level3=50&hysteresis=2&sustain_secs=30\
             &case_level=3&category_code=01002&clear_after_secs=120&enabled=on"
        )
    };
    let fields = |level1: &str, level2: &str| form(&token, level1, level2);
    // Without the CSRF token: refused by the guard.
    let forged = t
        .post_form(
            &format!("/monitoring/rules/{rule}"),
            &admin,
            "profile=gas_detector&name=x&kind=threshold&metric=ch4_lel&level1=1",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let saved = t
        .post_form(
            &format!("/monitoring/rules/{rule}"),
            &admin,
            &fields("12", "30"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        saved.header("location"),
        Some(format!("/monitoring/rules?saved={rule}#rule-{rule}").as_str())
    );
    let kept = m.registry().rule(rule).unwrap().as_ref().clone();
    assert_eq!(kept.name, "甲烷");
    assert_eq!(
        kept.kind,
        RuleKind::Threshold {
            direction: Direction::Above,
            levels: [Some(12.0), Some(30.0), Some(50.0)],
            hysteresis: 2.0,
            sustain_secs: 30,
        }
    );
    assert_eq!((kept.case_level, kept.clear_after_secs), (Some(3), 120));
    t.get_with(&format!("/monitoring/rules?saved={rule}"), &admin)
        .await
        .assert_page(&["规则已保存", "≥ 12 / 30 / 50 %LEL"]);

    // Thresholds out of order: the form again with the reason, nothing saved.
    let refused = t
        .post_form(
            &format!("/monitoring/rules/{rule}"),
            &admin,
            &fields("40", "30"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(text.contains("阈值至少填一级"), "{text}");
    assert!(
        text.contains(r#"value="40""#),
        "the values stay in the form"
    );
    assert_eq!(m.registry().rule(rule).unwrap().as_ref(), &kept);
    // A case level without its category, in English.
    let refused = t
        .post_form(
            &format!("/monitoring/rules/{rule}?lang=en"),
            &admin,
            &fields("12", "30").replace("&category_code=01002", "&category_code="),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("needs the category code"));
    assert_eq!(m.registry().rule(rule).unwrap().as_ref(), &kept);

    // A new rule: an offline rule for the noise monitors.
    let before = m.rules(&user(&t, "admin").await).await.unwrap().len();
    let made = t
        .post_form(
            "/monitoring/rules",
            &admin,
            &format!(
                "csrf_token={token}&profile=noise&name=%E7%A6%BB%E7%BA%BF&kind=offline&metric=laeq\
                 &level1=&minutes=15&offline_level=1&case_level=&category_code=&clear_after_secs=0&enabled=on"
            ),
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let rules = m.rules(&user(&t, "admin").await).await.unwrap();
    assert_eq!(rules.len(), before + 1);
    let new = rules.iter().find(|r| r.name == "离线").unwrap();
    assert_eq!(
        new.kind,
        RuleKind::Offline {
            minutes: 15,
            level: 1
        }
    );
    assert_eq!(new.profile, "noise");

    // Others read the rules but have no forms and cannot post.
    let supervisor = t.session("supervisor").await;
    let page = t.get_with("/monitoring/rules", &supervisor).await;
    page.assert_page(&["仅系统管理员可以修改报警规则", "甲烷"]);
    assert!(!page.text().contains("rule-form"));
    let token = form_token(&page.text());
    let denied = t
        .post_form(
            &format!("/monitoring/rules/{rule}"),
            &supervisor,
            &form(&token, "1", "2"),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(m.registry().rule(rule).unwrap().as_ref(), &kept);
}

#[tokio::test]
async fn an_alarm_is_acknowledged_through_the_wall() {
    let (t, _) = app().await;
    let alarm = raise(&t, "A-GAS-2", 12.0).await;
    assert_eq!(alarm.level, 1);
    let supervisor = t.session("supervisor").await;
    let wall = t.get_with("/monitoring/alarms", &supervisor).await;
    wall.assert_page(&["一级", "麦地路燃气井", "确认"]);
    let token = form_token(&wall.text());
    let uri = format!("/monitoring/alarms/{}/acknowledge", alarm.id);
    let back = "%2Fmonitoring%2Falarms%3Flevel%3D1";
    let done = t
        .post_form(
            &uri,
            &supervisor,
            &format!("csrf_token={token}&back={back}"),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(
        done.header("location"),
        Some("/monitoring/alarms?level=1&done=ack")
    );
    let m = t.state.monitoring().unwrap();
    let a = m
        .alarm(&user(&t, "supervisor").await, alarm.id)
        .await
        .unwrap();
    assert_eq!(
        a.status,
        cityops_domain::monitoring::AlarmStatus::Acknowledged
    );
    let page = t
        .get_with("/monitoring/alarms?level=1&done=ack", &supervisor)
        .await;
    page.assert_page(&["报警已确认", "已确认"]);
    assert!(!page.text().contains(&uri), "no second button");
    // Twice: back with the reason.
    let again = t
        .post_form(
            &uri,
            &supervisor,
            &format!("csrf_token={token}&back={back}"),
        )
        .await;
    assert_eq!(
        again.header("location"),
        Some("/monitoring/alarms?level=1&error=ack_conflict")
    );
    // Out of scope: as if there were no such alarm; a foreign `back` is not followed.
    let b = t.session("b_supervisor").await;
    let b_token = form_token(&t.get_with("/monitoring/alarms", &b).await.text());
    let other = t
        .post_form(
            &uri,
            &b,
            &format!("csrf_token={b_token}&back=https%3A%2F%2Fevil.example%2F"),
        )
        .await;
    assert_eq!(
        other.header("location"),
        Some("/monitoring/alarms?error=ack_not_found")
    );
}

/// Reads the stream until an `alarm` event or `wait` passes; answers the events' text.
async fn read_events(body: &mut Body, wait: StdDuration, until: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while !seen.contains(until) {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    seen.push_str(&String::from_utf8_lossy(data));
                }
            }
            Ok(_) | Err(_) => break,
        }
    }
    seen
}

#[tokio::test]
async fn the_event_stream_brings_alarms_to_watchers_in_scope_only() {
    let (t, _) = app().await;
    let open = |cookie: String| {
        let app = t.app.clone();
        async move {
            let resp = app
                .oneshot(
                    Request::get("/monitoring/events")
                        .header(header::COOKIE, cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            assert!(
                resp.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/event-stream")
            );
            resp.into_body()
        }
    };
    let mut a = open(t.session("leader").await).await;
    let mut b = open(t.session("b_leader").await).await;
    assert!(
        read_events(&mut a, StdDuration::from_secs(5), "event: ready")
            .await
            .contains("event: ready")
    );
    assert!(
        read_events(&mut b, StdDuration::from_secs(5), "event: ready")
            .await
            .contains("event: ready")
    );

    raise(&t, "A-GAS-1", 12.0).await;
    let got = read_events(&mut a, StdDuration::from_secs(10), "event: alarm").await;
    assert!(got.contains("event: alarm"), "{got}");
    let data = got
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("data");
    let ch: Value = serde_json::from_str(data).unwrap();
    assert_eq!(ch["what"], "raised");
    assert_eq!(ch["device_id"], "A-GAS-1");
    assert_eq!(ch["device_name"], "文明一路燃气井");
    assert_eq!(ch["level"], 1);
    assert_eq!(ch["lifeline"], "gas");

    let none = read_events(&mut b, StdDuration::from_millis(800), "event: alarm").await;
    assert!(!none.contains("event: alarm"), "{none}");
}
