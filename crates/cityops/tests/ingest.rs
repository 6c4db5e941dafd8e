//! 运行监测 reliability, end to end with the real binary and the real broker (issue 12): readings
//! published with `mosquitto_pub` at QoS 1 (each acknowledged by the broker) reach the store once
//! and only once — when the server is killed with SIGKILL in the middle of the ingest (SQLite and
//! PostgreSQL), when the broker restarts in the middle (a broker of the test's own, with
//! persistence), and when two server processes share the readings through the shared
//! subscription. No alarm and no case is raised twice.
//!
//! Each test uses its own MQTT group and client ids, so other servers on the shared broker keep
//! their own copies. Needs `mosquitto` and `mosquitto_pub` (Debian: mosquitto, mosquitto-clients).
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use cityops_test_support::postgres::with_empty_database;
use common::{Server, cityops, free_port, get, login, spawn_server, tempdir};
use serde_json::{Value, json};

/// Devices the tests publish for (ids of the Huizhou demo): the first gas detector reads 60 %LEL
/// (its rule, made instant by [`instant_gas_rule`]: level 3, a case from level 2); the others stay
/// normal.
const DEVICES: [(&str, &str, f64); 6] = [
    ("HZ-GAS-000001", "ch4_lel", 60.0),
    ("HZ-GAS-000002", "ch4_lel", 2.0),
    ("HZ-GAS-000003", "ch4_lel", 2.5),
    ("HZ-MH-000001", "level", 0.4),
    ("HZ-MH-000002", "level", 0.6),
    ("HZ-DRN-000001", "level", 0.3),
];
/// Readings per device (every 500 ms of device time).
const PER_DEVICE: usize = 120;

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// A demo city with its devices and default rules, without case history to speak of.
fn monitored_city(db: &str, dir: &Path) {
    let out = cityops(
        &["demo", "--no-serve", "--cases-per-day", "1", "--db", db],
        dir,
    );
    assert!(
        out.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The topics of one test (`t-<random>/telemetry/{device}`): servers of other tests on the same
/// broker neither see nor take its readings.
fn topic_space() -> String {
    format!("t-{}/telemetry", unique())
}

async fn serve(
    db: &str,
    dir: &Path,
    broker: &str,
    topics: &str,
    group: &str,
    client: &str,
) -> Server {
    let evidence = dir.join("evidence");
    spawn_server(
        &["serve", "--db", db, "--allow-demo-accounts"],
        dir,
        &[
            ("CITYOPS_EVIDENCE_DIR", evidence.as_os_str()),
            ("CITYOPS_MQTT_URL", broker.as_ref()),
            ("CITYOPS_MQTT_GROUP", group.as_ref()),
            ("CITYOPS_MQTT_TOPIC", topics.as_ref()),
            ("CITYOPS_MQTT_CLIENT_ID", client.as_ref()),
            ("CITYOPS_WATCHER_INTERVAL_SECS", "0".as_ref()),
            ("CITYOPS_REPORTS_INTERVAL_SECS", "0".as_ref()),
        ],
    )
    .await
}

/// The lines `mosquitto_pub -l` publishes: one reading per message, distinct times.
fn lines() -> Vec<(String, String)> {
    let base = Utc::now() - chrono::Duration::minutes(10);
    let mut out = Vec::new();
    for i in 0..PER_DEVICE {
        for (id, metric, value) in DEVICES {
            let ts = (base + chrono::Duration::milliseconds(500 * i as i64))
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            out.push((
                id.to_string(),
                json!({"metric": metric, "value": value, "ts": ts}).to_string(),
            ));
        }
    }
    out
}

/// One `mosquitto_pub -l` per device (the topic is the device's), fed line by line with a small
/// pause so that the ingest is still going when the test strikes; `true` when every publisher
/// exited successfully — then the broker acknowledged every message.
fn publish(broker_port: u16, topics: &str, lines: Vec<(String, String)>, pause: Duration) -> bool {
    let mut pubs: Vec<(String, Child)> = DEVICES
        .iter()
        .map(|(id, _, _)| {
            let child = Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &broker_port.to_string(), "-q", "1"])
                .args(["-t", &format!("{topics}/{id}"), "-l"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("mosquitto_pub (Debian: mosquitto-clients)");
            (id.to_string(), child)
        })
        .collect();
    for (id, line) in lines {
        let (_, child) = pubs.iter_mut().find(|(d, _)| *d == id).expect("device");
        let stdin = child.stdin.as_mut().expect("stdin");
        if writeln!(stdin, "{line}").is_err() {
            return false;
        }
        std::thread::sleep(pause);
    }
    pubs.into_iter().all(|(_, mut c)| {
        drop(c.stdin.take());
        c.wait().map(|s| s.success()).unwrap_or(false)
    })
}

/// One value of a server's `/metrics` (0 when absent).
async fn metric(base: &str, name: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

/// The telemetry counters of a server's `/metrics`: (stored, duplicate).
async fn counters(base: &str) -> (u64, u64) {
    (
        metric(base, r#"cityops_telemetry_readings_total{result="stored"}"#).await,
        metric(
            base,
            r#"cityops_telemetry_readings_total{result="duplicate"}"#,
        )
        .await,
    )
}

/// What the store holds of the published devices, read through the API as the administrator:
/// (readings, readings counted by the minute rollups).
async fn stored(base: &str, token: &str) -> (usize, i64) {
    let c = reqwest::Client::new();
    let from =
        (Utc::now() - chrono::Duration::minutes(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let to = (Utc::now() + chrono::Duration::minutes(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let long_from =
        (Utc::now() - chrono::Duration::hours(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (mut raw, mut rolled) = (0, 0);
    for (id, metric, _) in DEVICES {
        let (status, s) = get(
            &c,
            format!("{base}/api/v1/devices/{id}/series?metric={metric}&from={from}&to={to}"),
            Some(token),
        )
        .await;
        assert_eq!(status, 200, "{s}");
        raw += s["points"].as_array().unwrap().len();
        let (_, s) = get(
            &c,
            format!("{base}/api/v1/devices/{id}/series?metric={metric}&from={long_from}&to={to}"),
            Some(token),
        )
        .await;
        assert_eq!(s["resolution"], "minute", "{s}");
        rolled += s["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["count"].as_i64().unwrap())
            .sum::<i64>();
    }
    (raw, rolled)
}

/// The gas rule without its 30 s sustain: one reading over 50 %LEL raises the alarm, whatever
/// order the readings are taken in (the server's connections share the messages, and after a
/// restart the broker redelivers older readings after newer ones, which the rules ignore).
async fn instant_gas_rule(base: &str) {
    let c = reqwest::Client::new();
    let token = login(&c, base, "admin").await;
    let (_, rules) = get(&c, format!("{base}/api/v1/monitoring/rules"), Some(&token)).await;
    let mut gas = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "甲烷浓度分级报警")
        .cloned()
        .expect("the demo's gas rule");
    let id = gas["id"].as_i64().unwrap();
    gas["definition"]["sustain_secs"] = json!(0);
    let body = json!({
        "profile": gas["profile"], "name": gas["name"], "metric": gas["metric"],
        "definition": gas["definition"], "case_level": gas["case_level"],
        "category_code": gas["category_code"], "clear_after_secs": gas["clear_after_secs"],
        "enabled": gas["enabled"],
    });
    let r = c
        .put(format!("{base}/api/v1/monitoring/rules/{id}"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// Waits until the store holds every published reading (bounded), then checks nothing is there
/// twice, and that the leaking detector has one alarm with one case.
async fn check_once(base: &str, tag: &str) {
    let c = reqwest::Client::new();
    let token = login(&c, base, "admin").await;
    let want = DEVICES.len() * PER_DEVICE;
    let mut got = (0, 0);
    for _ in 0..300 {
        got = stored(base, &token).await;
        if got.0 >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        got,
        (want, want as i64),
        "{tag}: every acknowledged reading once, in the rollups once"
    );
    // The alarm task runs beside the writer: its alarm and case follow the readings shortly.
    let mut alarms = Value::Null;
    for _ in 0..100 {
        let (status, a) = get(
            &c,
            format!("{base}/api/v1/alarms?device_id=HZ-GAS-000001"),
            Some(&token),
        )
        .await;
        assert_eq!(status, 200);
        alarms = a;
        if alarms["items"][0]["case_id"].is_i64() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gas: Vec<&Value> = alarms["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "甲烷浓度分级报警")
        .collect();
    assert_eq!(gas.len(), 1, "{tag}: one alarm: {alarms}");
    let case = gas[0]["case_id"].as_i64().expect("the alarm opened a case");
    let (_, cases) = get(
        &c,
        format!("{base}/api/v1/cases?q=HZ-GAS-000001"),
        Some(&token),
    )
    .await;
    assert_eq!(cases["total"], 1, "{tag}: one case: {cases}");
    assert_eq!(cases["items"][0]["id"], case);
    eprintln!("{tag}: {want} readings stored once; one alarm, one case ({case})");
}

async fn sigkill_story(db: &str, dir: PathBuf, tag: &str) {
    monitored_city(db, &dir);
    let (group, client) = (format!("t-{}", unique()), format!("t-{}", unique()));
    let broker = "mqtt://127.0.0.1:1883";
    let topics = topic_space();
    let mut server = serve(db, &dir, broker, &topics, &group, &client).await;
    instant_gas_rule(&server.base).await;
    wait_subscribed(&server.base, 1883, &topics).await;
    let lines = lines();
    let t = topics.clone();
    let publisher = std::thread::spawn(move || publish(1883, &t, lines, Duration::from_millis(2)));
    // SIGKILL once a part is stored.
    loop {
        let (s, _) = counters(&server.base).await;
        if s >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().expect("SIGKILL the server");
    let _ = server.child.wait();
    eprintln!("{tag}: server killed during the ingest");
    assert!(
        publisher.join().unwrap(),
        "the broker acknowledged every message"
    );
    // The same client id: the broker delivers what the killed process had not acknowledged.
    let server = serve(db, &dir, broker, &topics, &group, &client).await;
    check_once(&server.base, tag).await;
}

/// Until the server's subscription is live: probe readings of an unknown device, published to
/// the broker on `port`, are counted as rejects by the server once it is.
async fn wait_subscribed(base: &str, port: u16, topics: &str) {
    let rejects = r#"cityops_telemetry_rejected_total{reason="unknown_device"}"#;
    for i in 0..200 {
        let probe = json!({"metric": "level", "value": 1.0, "ts": Utc::now().to_rfc3339()});
        let _ = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
            .args(["-t", &format!("{topics}/PROBE"), "-m", &probe.to_string()])
            .status();
        if metric(base, rejects).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50 + 10 * i.min(20))).await;
    }
    panic!("the server did not subscribe");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_ingest_on_sqlite_loses_and_repeats_nothing() {
    let dir = tempdir();
    sigkill_story("sqlite://ingest.db", dir.clone(), "sqlite-sigkill").await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_ingest_on_postgres_loses_and_repeats_nothing() {
    let dir = tempdir();
    let story_dir = dir.clone();
    with_empty_database(move |url| async move {
        sigkill_story(&url, story_dir, "postgres-sigkill").await;
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A broker of the test's own, persisting its sessions in `dir` (stopped when dropped).
struct Broker {
    child: Child,
    port: u16,
    conf: PathBuf,
}

impl Broker {
    fn start(dir: &Path, port: u16) -> Broker {
        // Started as root, mosquitto drops to its own user: it must be able to write here.
        let data = dir.join("broker");
        std::fs::create_dir_all(&data).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
                 persistence_location {}/\nmax_queued_messages 100000\n",
                data.display()
            ),
        )
        .unwrap();
        Self::spawn(conf, port)
    }

    fn spawn(conf: PathBuf, port: u16) -> Broker {
        let mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("mosquitto");
        let mut child = Command::new(mosquitto)
            .args(["-c", conf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian: mosquitto)");
        // A restarted broker first loads its saved sessions and queued messages: on a busy
        // machine that takes seconds. Wait for it (or for its exit) rather than for a fixed time.
        for _ in 0..600 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Broker { child, port, conf };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("mosquitto exited ({status}) before listening on {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("mosquitto did not listen on {port} within 30 s");
    }

    /// A graceful restart (SIGTERM: the broker saves its sessions and queued messages).
    fn restart(mut self) -> Broker {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
        let (conf, port) = (self.conf.clone(), self.port);
        std::mem::forget(self);
        Self::spawn(conf, port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The broker restarts while readings wait for the server: they were acknowledged to the
/// devices, queued for the server's persistent session, kept across the restart (persistence)
/// and delivered when the server is back; the rest follow once it has reconnected on its own.
#[tokio::test(flavor = "multi_thread")]
async fn broker_restart_during_ingest_loses_and_repeats_nothing() {
    let dir = tempdir();
    let port = free_port();
    let broker = Broker::start(&dir, port);
    let db = "sqlite://ingest.db";
    monitored_city(db, &dir);
    let url = format!("mqtt://127.0.0.1:{port}");
    let client = format!("r-{}", unique());
    let topics = topic_space();
    let server = serve(db, &dir, &url, &topics, "restart", &client).await;
    instant_gas_rule(&server.base).await;
    wait_subscribed(&server.base, port, &topics).await;
    // The server goes away (its session and subscription stay with the broker) …
    drop(server);
    let mut lines = lines();
    let second = lines.split_off(lines.len() / 2);
    // … half the readings are acknowledged by the broker and queued for it, the broker restarts …
    assert!(publish(port, &topics, lines, Duration::ZERO));
    let broker = broker.restart();
    eprintln!("broker restarted with readings queued for the server");
    // … the server comes back and takes them; the broker restarts again while it runs, the
    // server reconnects by itself and takes the other half.
    let server = serve(db, &dir, &url, &topics, "restart", &client).await;
    let (mut s, _) = counters(&server.base).await;
    for _ in 0..200 {
        if s >= (DEVICES.len() * PER_DEVICE / 2) as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        s = counters(&server.base).await.0;
    }
    eprintln!("after the first restart the server stored {s} readings");
    let broker = broker.restart();
    wait_subscribed(&server.base, port, &topics).await;
    assert!(publish(port, &topics, second, Duration::ZERO));
    check_once(&server.base, "broker-restart").await;
    drop(server);
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_share_the_readings_and_store_each_once() {
    let dir = tempdir();
    let db = "sqlite://ingest.db";
    monitored_city(db, &dir);
    let group = format!("pair-{}", unique());
    let broker = "mqtt://127.0.0.1:1883";
    let topics = topic_space();
    let a = serve(
        db,
        &dir,
        broker,
        &topics,
        &group,
        &format!("a-{}", unique()),
    )
    .await;
    instant_gas_rule(&a.base).await;
    let b = serve(
        db,
        &dir,
        broker,
        &topics,
        &group,
        &format!("b-{}", unique()),
    )
    .await;
    wait_subscribed(&a.base, 1883, &topics).await;
    wait_subscribed(&b.base, 1883, &topics).await;
    assert!(publish(1883, &topics, lines(), Duration::ZERO));
    check_once(&a.base, "two-servers").await;
    let (sa, da) = counters(&a.base).await;
    let (sb, db_) = counters(&b.base).await;
    let want = (DEVICES.len() * PER_DEVICE) as u64;
    eprintln!("two servers: {sa} + {sb} readings stored, {da} + {db_} duplicates");
    assert!(sa > 0 && sb > 0, "both servers took a share: {sa}, {sb}");
    assert_eq!(
        (sa + sb, da + db_),
        (want, 0),
        "each reading went to one server, once"
    );
    drop(a);
    drop(b);
    let _ = std::fs::remove_dir_all(&dir);
}
