//! 运行监测 (operation monitoring) over HTTP, on SQLite and PostgreSQL: devices imported from CSV
//! (a bad line named, nothing written), a rule written by the administrator, readings posted by
//! a device gateway — a gas reading over the case level becomes an alarm and a routed IoT case
//! linked both ways; the same batch again is stored once and raises nothing new; bad readings are
//! listed with their reason; the alarm is acknowledged once, and clears when the value is back;
//! the chart reads what was stored; who sees which device and alarm; `/metrics` counts it.
mod common;

use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::TestApp;
use serde_json::{Value, json};

on_both_stores!(
    gas_over_threshold_becomes_an_alarm_and_a_routed_case,
    who_sees_which_devices,
    noise_reminders_then_enforcement_with_a_case,
);

const DEVICES_CSV: &str = "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\n\
    A-GAS-1,gas_detector,文明一路燃气井,114.41,23.09,,441302-municipal,,,true\n\
    B-NOISE-1,noise,惠阳某项目工地,114.46,23.08,,,,张工 13900000000,true\n";

async fn import_csv(t: &TestApp, token: &str, csv: &str) -> common::Answer {
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/devices/import")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(csv.to_string()))
            .unwrap(),
    )
    .await
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn reading(device: &str, metric: &str, value: f64, at: DateTime<Utc>) -> Value {
    json!({"device_id": device, "metric": metric, "value": value, "ts": ts(at)})
}

/// Waits (polling) until `f` answers `Some`: the alarm task runs beside the ingest path.
async fn eventually<F, Fut>(what: &str, mut f: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Value>>,
{
    for _ in 0..500 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 10 s");
}

async fn setup(t: &TestApp) {
    let admin = t.token("admin").await;
    let a = import_csv(t, &admin, DEVICES_CSV).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json(), json!({"added": 2, "replaced": 0}));
    let rule = json!({
        "profile": "gas_detector", "name": "甲烷浓度分级报警", "metric": "ch4_lel",
        "definition": {"kind": "threshold", "direction": "above", "levels": [10.0, 25.0, 50.0],
                       "hysteresis": 1.0, "sustain_secs": 0},
        "case_level": 2, "category_code": "01002", "clear_after_secs": 0, "enabled": true
    });
    let r = t.post_auth("/api/v1/monitoring/rules", &admin, &rule).await;
    assert_eq!(r.status, 201, "{}", r.text());
}

async fn gas_over_threshold_becomes_an_alarm_and_a_routed_case(t: TestApp) {
    let admin = t.token("admin").await;
    // A bad line is named and nothing is written.
    let bad = "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\n\
        X-1,gas_detector,好,114.41,23.09,,,,,true\n\
        X-2,toaster,坏,114.41,23.09,,,,,true\n";
    let a = import_csv(&t, &admin, bad).await;
    a.assert_error(422, "invalid_value");
    assert!(
        a.json()["message"].as_str().unwrap().contains('3'),
        "{}",
        a.text()
    );
    let a = import_csv(
        &t,
        &admin,
        "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\n\
         X-3,gas_detector,远,100.0,30.0,,,,,true\n",
    )
    .await;
    a.assert_error(422, "invalid_value");
    let a = import_csv(
        &t,
        &admin,
        "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\n\
         X-4,gas_detector,无主,114.41,23.09,,no-such-dept,,,true\n",
    )
    .await;
    a.assert_error(422, "invalid_value");
    let none = t.get_auth("/api/v1/devices", &admin).await.json();
    assert_eq!(none["total"], 0, "nothing half-written");

    setup(&t).await;
    // A rule that opens cases needs their category.
    let r = t
        .post_auth(
            "/api/v1/monitoring/rules",
            &admin,
            &json!({"profile": "gas_detector", "name": "x", "metric": "ch4_lel",
                    "definition": {"kind": "threshold", "direction": "above",
                                   "levels": [1.0, null, null], "hysteresis": 0.0, "sustain_secs": 0},
                    "case_level": 1, "category_code": null, "clear_after_secs": 0, "enabled": true}),
        )
        .await;
    r.assert_error(422, "invalid_value");

    let gateway = t.token("a_gateway").await;
    let now = t.clock_now();
    // Normal, then over level 2 (25 %LEL), plus bad readings of each kind.
    let batch = json!({"readings": [
        reading("A-GAS-1", "ch4_lel", 4.0, now - Duration::seconds(20)),
        reading("A-GAS-1", "ch4_lel", 31.5, now - Duration::seconds(10)),
        reading("NO-SUCH", "ch4_lel", 31.5, now),
        reading("A-GAS-1", "laeq", 31.5, now),  // a metric gas detectors do not report
        reading("A-GAS-1", "ch4_lel", 400.0, now),
        reading("A-GAS-1", "ch4_lel", 3.0, now + Duration::hours(1)),
    ]});
    let a = t.post_auth("/api/v1/telemetry", &gateway, &batch).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        a.json(),
        json!({"accepted": 2, "stored": 2, "duplicates": 0, "rejected": [
            {"index": 2, "reason": "unknown_device"},
            {"index": 3, "reason": "unknown_metric"},
            {"index": 4, "reason": "implausible"},
            {"index": 5, "reason": "future_timestamp"},
        ]})
    );

    let supervisor = t.token("a_supervisor").await;
    let alarm = eventually("the alarm and its case", || async {
        let list = t
            .get_auth("/api/v1/alarms?device_id=A-GAS-1", &supervisor)
            .await
            .json();
        let a = list["items"].get(0)?.clone();
        a["case_id"].as_i64().map(|_| a)
    })
    .await;
    assert_eq!(alarm["level"], 2);
    assert_eq!(alarm["status"], "raised");
    assert_eq!(alarm["value"], 31.5);
    let case_id = alarm["case_id"].as_i64().unwrap();
    let case = t.case(&supervisor, case_id).await.json();
    assert_eq!(case["source"], "iot");
    assert_eq!(case["category_code"], "01002");
    assert_eq!(case["location"]["district_code"], common::DISTRICT);
    assert_eq!(
        case["suggested_department_id"],
        t.department_id("441302-municipal").await,
        "routed by the responsibility matrix"
    );
    assert!(
        case["description"].as_str().unwrap().contains("A-GAS-1"),
        "{case}"
    );
    // And back from the case to its alarm.
    let back = t
        .get_auth(&format!("/api/v1/alarms?case_id={case_id}"), &supervisor)
        .await
        .json();
    assert_eq!(back["items"][0]["id"], alarm["id"]);

    // The same batch again: stored once, no second alarm, no second case.
    let again = json!({"readings": [
        reading("A-GAS-1", "ch4_lel", 4.0, now - Duration::seconds(20)),
        reading("A-GAS-1", "ch4_lel", 31.5, now - Duration::seconds(10)),
    ]});
    let a = t.post_auth("/api/v1/telemetry", &gateway, &again).await;
    assert_eq!(a.json()["duplicates"], 2, "{}", a.text());
    let all = t.get_auth("/api/v1/alarms", &supervisor).await.json();
    assert_eq!(all["total"], 1);

    // Acknowledged once.
    let ack = format!("/api/v1/alarms/{}/acknowledge", alarm["id"]);
    let a = t.post_empty(&ack, &supervisor).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["status"], "acknowledged");
    t.post_empty(&ack, &supervisor)
        .await
        .assert_error(409, "conflict");

    // Back to normal: cleared (the rule clears at once).
    let a = t
        .post_auth(
            "/api/v1/telemetry",
            &gateway,
            &json!({"readings": [reading("A-GAS-1", "ch4_lel", 2.0, now)]}),
        )
        .await;
    assert_eq!(a.status, 200);
    eventually("the alarm cleared", || async {
        let a = t
            .get_auth(&format!("/api/v1/alarms/{}", alarm["id"]), &supervisor)
            .await
            .json();
        (a["status"] == "cleared").then_some(a)
    })
    .await;

    // The chart: the three readings, raw.
    let from = ts(now - Duration::minutes(5));
    let to = ts(now + Duration::minutes(1));
    let series = t
        .get_auth(
            &format!("/api/v1/devices/A-GAS-1/series?metric=ch4_lel&from={from}&to={to}"),
            &supervisor,
        )
        .await;
    assert_eq!(series.status, 200, "{}", series.text());
    let s = series.json();
    assert_eq!(s["resolution"], "raw");
    let values: Vec<f64> = s["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [4.0, 31.5, 2.0]);

    // A whole day: minute rollups.
    let day = ts(now + Duration::minutes(1));
    let s = t
        .get_auth(
            &format!("/api/v1/devices/A-GAS-1/series?metric=ch4_lel&to={day}"),
            &supervisor,
        )
        .await
        .json();
    assert_eq!(s["resolution"], "minute");
    let counted: i64 = s["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, 3, "each reading counted once in the rollups");

    // `/metrics` counts the readings and the rejects by reason.
    let m = t
        .send_from(
            "127.0.0.1:40000",
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await
        .text();
    assert!(
        m.contains("cityops_telemetry_readings_total{result=\"duplicate\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("cityops_telemetry_rejected_total{reason=\"implausible\"} 1"),
        "{m}"
    );
}

async fn who_sees_which_devices(t: TestApp) {
    setup(&t).await;
    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    let admin = t.token("admin").await;
    assert_eq!(
        ids(t.get_auth("/api/v1/devices", &admin).await.json()),
        ["A-GAS-1", "B-NOISE-1"]
    );
    let b_leader = t.token("b_leader").await;
    let b = t.get_auth("/api/v1/devices", &b_leader).await.json();
    assert_eq!(ids(b.clone()), ["B-NOISE-1"]);
    // A leader is not among those who see contacts: the site manager's phone is masked.
    let who = b["items"][0]["responsible"].as_str().unwrap();
    assert!(!who.contains("13900000000"), "{who}");
    t.get_auth("/api/v1/devices/A-GAS-1", &b_leader)
        .await
        .assert_error(404, "not_found");
    // A department sees its own devices.
    let handler = t.token("a_handler_dept").await;
    assert_eq!(
        ids(t.get_auth("/api/v1/devices", &handler).await.json()),
        ["A-GAS-1"]
    );
    let d = t.get_auth("/api/v1/devices/A-GAS-1", &handler).await;
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["status"], "normal");
    assert_eq!(d.json()["rules"][0]["name"], "甲烷浓度分级报警");
    // Citizens, inspectors and gateways do not read the registry; only gateways post readings.
    for who in ["citizen", "a_inspector", "a_gateway"] {
        let token = t.token(who).await;
        t.get_auth("/api/v1/devices", &token)
            .await
            .assert_error(403, "forbidden");
    }
    let citizen = t.token("citizen").await;
    t.post_auth(
        "/api/v1/telemetry",
        &citizen,
        &json!({"readings": [reading("A-GAS-1", "ch4_lel", 1.0, t.clock_now())]}),
    )
    .await
    .assert_error(403, "forbidden");
    // Only administrators write rules and import devices.
    let supervisor = t.token("a_supervisor").await;
    import_csv(&t, &supervisor, DEVICES_CSV)
        .await
        .assert_error(403, "forbidden");
}

/// 噪声超标: a construction site's monitor over the night limit (GB 12523-2011: 55 dB(A)) raises an
/// alarm that opens no case; the site's manager is reminded every 30 minutes, and after the third
/// reminder the alarm goes to enforcement — then, once, it becomes a case.
async fn noise_reminders_then_enforcement_with_a_case(t: TestApp) {
    setup(&t).await;
    let admin = t.token("admin").await;
    let rule = json!({
        "profile": "noise", "name": "施工场界噪声超标", "metric": "laeq",
        "definition": {"kind": "construction_noise", "day_limit": 70.0, "night_limit": 55.0,
                       "night_max_excess": 15.0, "day_starts_hour": 6, "night_starts_hour": 22,
                       "hysteresis": 1.0, "level": 1},
        "case_level": null, "category_code": "01002", "clear_after_secs": 300, "enabled": true
    });
    let r = t.post_auth("/api/v1/monitoring/rules", &admin, &rule).await;
    assert_eq!(r.status, 201, "{}", r.text());
    // 23:00 in Shanghai: night.
    let night = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 15, 0, 0).unwrap();
    t.clock.set(night);
    let gateway = t.token("a_gateway").await;
    let a = t
        .post_auth(
            "/api/v1/telemetry",
            &gateway,
            &json!({"readings": [reading("B-NOISE-1", "laeq", 63.5, night)]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let supervisor = admin.clone();
    let alarm = eventually("the noise alarm", || async {
        let list = t
            .get_auth("/api/v1/alarms?device_id=B-NOISE-1", &supervisor)
            .await
            .json();
        list["items"].get(0).cloned()
    })
    .await;
    assert_eq!(
        alarm["case_id"],
        Value::Null,
        "a noise alarm opens no case itself"
    );

    let monitoring = t.state.monitoring().expect("monitoring").clone();
    let step = |minutes: i64| {
        t.clock.set(night + Duration::minutes(minutes));
        monitoring.remind_due()
    };
    assert_eq!(step(0).await.unwrap(), 1, "the first reminder at once");
    assert_eq!(step(10).await.unwrap(), 0);
    assert_eq!(step(30).await.unwrap(), 1);
    assert_eq!(step(60).await.unwrap(), 1);
    let a = t
        .get_auth(&format!("/api/v1/alarms/{}", alarm["id"]), &supervisor)
        .await
        .json();
    assert_eq!(
        (a["reminders"].as_i64(), &a["escalated_at"]),
        (Some(3), &Value::Null)
    );
    // The third reminder has run out: enforcement, and the case.
    assert_eq!(step(90).await.unwrap(), 1);
    assert_eq!(step(200).await.unwrap(), 0, "escalated once");
    let a = t
        .get_auth(&format!("/api/v1/alarms/{}", alarm["id"]), &supervisor)
        .await
        .json();
    assert!(a["escalated_at"].is_string(), "{a}");
    let case_id = a["case_id"].as_i64().expect("the enforcement case");
    let case = t.case(&supervisor, case_id).await.json();
    assert_eq!(case["source"], "iot");
    assert_eq!(case["location"]["district_code"], common::cases::DISTRICT_B);
}
