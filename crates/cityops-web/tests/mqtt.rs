//! 运行监测 over the real broker (Mosquitto at 127.0.0.1:1883, or `CITYOPS_TEST_MQTT_URL`), on
//! SQLite and PostgreSQL: the server's MQTT ingest (a shared subscription of its own group)
//! takes a reading published with `mosquitto_pub` over a threshold, and it becomes an alarm and
//! a routed IoT case; a malformed payload, an unknown device and a NaN are counted, never fatal.
mod common;

use std::process::Command;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use common::TestApp;
use serde_json::{Value, json};

on_both_stores!(a_published_reading_over_a_threshold_becomes_a_routed_case,);

fn broker() -> String {
    std::env::var("CITYOPS_TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into())
}

fn mosquitto_pub(topic: &str, payload: &str) {
    let (host, port) = cityops_ingest::mqtt::host_port(&broker()).expect("broker URL");
    let out = Command::new("mosquitto_pub")
        .args([
            "-h",
            &host,
            "-p",
            &port.to_string(),
            "-q",
            "1",
            "-t",
            topic,
            "-m",
            payload,
        ])
        .output()
        .expect("mosquitto_pub runs (Debian package mosquitto-clients)");
    assert!(
        out.status.success(),
        "mosquitto_pub: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn until<F, Fut, T>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..1000 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 20 s");
}

async fn a_published_reading_over_a_threshold_becomes_a_routed_case(t: TestApp) {
    let admin = t.token("admin").await;
    let suffix = format!("{}-{}", std::process::id(), rand_suffix());
    let device = format!("MQ-GAS-{suffix}");
    let csv = format!(
        "id,type,name,lng,lat,component_id,department_code,profile,responsible,active\n\
         {device},gas_detector,江北燃气阀门井,114.41,23.09,,441302-municipal,,,true\n"
    );
    let a = t
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/devices/import")
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let rule = json!({
        "profile": "gas_detector", "name": "甲烷浓度分级报警", "metric": "ch4_lel",
        "definition": {"kind": "threshold", "direction": "above", "levels": [10.0, 25.0, 50.0],
                       "hysteresis": 1.0, "sustain_secs": 0},
        "case_level": 2, "category_code": "01002", "clear_after_secs": 300, "enabled": true
    });
    assert_eq!(
        t.post_auth("/api/v1/monitoring/rules", &admin, &rule)
            .await
            .status,
        201
    );

    // The server's MQTT ingest, in a group of its own (other servers on this broker keep theirs).
    let ingest = t.state.ingest.clone().expect("monitoring runs");
    let mut settings =
        cityops_ingest::mqtt::MqttSettings::new(&broker(), &format!("cityops-test-{suffix}"));
    settings.group = format!("test-{suffix}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = cityops_ingest::mqtt::spawn(ingest.clone(), settings, async {
        let _ = stopped.await;
    })
    .expect("MQTT settings");

    let topic = format!("cityops/telemetry/{device}");
    let supervisor = t.token("a_supervisor").await;
    let now = t.clock_now();
    // Publish a normal reading until one is stored: then the subscription is live.
    let mut n = 0i64;
    until("the subscription", || {
        n += 1;
        let at = now - chrono::Duration::seconds(600 - n);
        mosquitto_pub(
            &topic,
            &json!({"metric": "ch4_lel", "value": 1.0, "ts": ts(at)}).to_string(),
        );
        let stats = ingest.stats().clone();
        async move { (stats.snapshot().stored_new > 0).then_some(()) }
    })
    .await;

    // Bad payloads are counted and change nothing.
    mosquitto_pub(&topic, "{not json");
    mosquitto_pub(
        "cityops/telemetry/NO-SUCH-DEVICE",
        &json!({"metric": "ch4_lel", "value": 80.0, "ts": ts(now)}).to_string(),
    );
    mosquitto_pub(
        &topic,
        r#"{"metric": "ch4_lel", "value": "NaN", "ts": "2026-11-23T01:00:00Z"}"#,
    );

    // Over level 2, as an array of one.
    let published = Instant::now();
    mosquitto_pub(
        &topic,
        &json!([{"metric": "ch4_lel", "value": 36.0, "ts": ts(now)}]).to_string(),
    );
    let alarm: Value = until("the alarm and its case", || async {
        let list = t
            .get_auth(&format!("/api/v1/alarms?device_id={device}"), &supervisor)
            .await
            .json();
        let a = list["items"].get(0)?.clone();
        a["case_id"].as_i64().map(|_| a)
    })
    .await;
    eprintln!(
        "published → alarm and case seen through the API: {} ms (polled every 20 ms)",
        published.elapsed().as_millis()
    );
    assert_eq!(alarm["level"], 2);
    assert_eq!(alarm["value"], 36.0);
    let case = t
        .case(&supervisor, alarm["case_id"].as_i64().unwrap())
        .await
        .json();
    assert_eq!(case["source"], "iot");
    assert_eq!(
        case["suggested_department_id"],
        t.department_id("441302-municipal").await
    );

    let s = ingest.stats().snapshot();
    let rejected = |r: &str| {
        s.rejected
            .iter()
            .find(|(x, _)| x.as_str() == r)
            .map_or(0, |(_, n)| *n)
    };
    assert!(rejected("malformed") >= 1, "{s:?}");
    assert!(rejected("unknown_device") >= 1, "{s:?}");
    assert!(rejected("not_finite") >= 1, "{s:?}");

    let _ = stop.send(());
    task.await.expect("the MQTT task ends cleanly");
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}
