//! End-to-end: the real `cityops` binary creates the demo city, serves it over HTTP, and the
//! contract endpoints answer — on SQLite and (when a server answers) on PostgreSQL.

use std::time::Duration;

mod common;

use cityops_test_support::postgres::with_empty_database;
use common::{Server, bin, cityops, get, login, spawn_server, tempdir};
use serde_json::{Value, json};
use std::process::Command;

/// Starts `cityops demo` and waits until it serves.
async fn start_demo(db: &str, dir: &std::path::Path) -> Server {
    spawn_server(&["demo", "--db", db], dir, &[]).await
}

async fn check_demo(server: &Server) {
    let c = reqwest::Client::new();
    let b = &server.base;

    // Login as the demo administrator.
    let r = c
        .post(format!("{b}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "cityops-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers().get("set-cookie").is_some(),
        "login sets a session cookie"
    );
    let login: Value = r.json().await.unwrap();
    let token = login["token"].as_str().expect("token").to_string();
    let (s, me) = get(&c, format!("{b}/api/v1/me"), Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "admin");

    // Wrong password → 401 with the error shape.
    let r = c
        .post(format!("{b}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let e: Value = r.json().await.unwrap();
    assert!(e["code"].is_string() && e["message"].is_string());

    // Region tree: 5 districts, 84 streets, 1364 communities, ≥ 20,000 grids.
    let (s, d) = get(&c, format!("{b}/api/v1/regions?level=district"), None).await;
    assert_eq!(s, 200);
    assert_eq!(d["total"], 5);
    let (_, st) = get(
        &c,
        format!("{b}/api/v1/regions?level=street&page_size=1"),
        None,
    )
    .await;
    assert_eq!(st["total"], 84);
    let (_, co) = get(
        &c,
        format!("{b}/api/v1/regions?level=community&page_size=1"),
        None,
    )
    .await;
    assert_eq!(co["total"], 1364);
    let (_, g) = get(
        &c,
        format!("{b}/api/v1/regions?level=grid&page_size=1"),
        None,
    )
    .await;
    assert!(
        g["total"].as_u64().unwrap() >= 20_000,
        "grids: {}",
        g["total"]
    );

    // Locate: a point in the core gets a grid whose code nests in its community/street/district.
    let (s, loc) = get(&c, format!("{b}/api/v1/locate?lng=114.41&lat=23.09"), None).await;
    assert_eq!(s, 200, "{loc}");
    let grid = loc["grid_code"].as_str().expect("grid in the core");
    assert_eq!(grid.len(), 15);
    assert_eq!(&grid[..12], loc["community_code"].as_str().unwrap());
    assert_eq!(&grid[..9], loc["street_code"].as_str().unwrap());
    assert_eq!(&grid[..6], loc["district_code"].as_str().unwrap());
    // Every district's representative point locates to that district.
    for item in d["items"].as_array().unwrap() {
        let code = item["code"].as_str().unwrap();
        let (s, detail) = get(&c, format!("{b}/api/v1/regions/{code}"), None).await;
        assert_eq!(s, 200);
        let center = &detail["center"];
        let (s, loc) = get(
            &c,
            format!(
                "{b}/api/v1/locate?lng={}&lat={}",
                center["lng"], center["lat"]
            ),
            None,
        )
        .await;
        assert_eq!(s, 200, "{code}: {loc}");
        assert_eq!(loc["district_code"], code);
    }
    // Outside the city → 404 outside_city; malformed → 400.
    let (s, e) = get(&c, format!("{b}/api/v1/locate?lng=116.4&lat=39.9"), None).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("outside_city")));
    let (s, _) = get(&c, format!("{b}/api/v1/locate?lng=abc&lat=23.1"), None).await;
    assert_eq!(s, 400);

    // Catalogue.
    let (_, comp) = get(
        &c,
        format!("{b}/api/v1/categories?kind=component&page_size=1"),
        None,
    )
    .await;
    assert_eq!(comp["total"], 153);
    let (_, mat) = get(
        &c,
        format!("{b}/api/v1/categories?kind=matter&page_size=1"),
        None,
    )
    .await;
    assert_eq!(mat["total"], 250);

    // Components: ≥ 50,000 with 17-digit ids, filtered by bbox.
    let (s, all) = get(
        &c,
        format!("{b}/api/v1/components?page_size=1"),
        Some(&token),
    )
    .await;
    assert_eq!(s, 200);
    assert!(all["total"].as_u64().unwrap() >= 50_000);
    let (s, some) = get(
        &c,
        format!("{b}/api/v1/components?bbox=114.40,23.08,114.42,23.10&page_size=5"),
        Some(&token),
    )
    .await;
    assert_eq!(s, 200);
    for it in some["items"].as_array().unwrap() {
        assert_eq!(it["id"].as_str().unwrap().len(), 17);
        let (lng, lat) = (it["lng"].as_f64().unwrap(), it["lat"].as_f64().unwrap());
        assert!((114.40..=114.42).contains(&lng) && (23.08..=23.10).contains(&lat));
    }

    // The console is mounted beside the API: the login page renders, the home page asks for a login.
    let r = c.get(format!("{b}/login")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("登录"));
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect.get(format!("{b}/")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let r = c
        .get(format!("{b}/"))
        .header("cookie", format!("cityops_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("惠州市"));

    // Contract documents.
    let (s, doc) = get(&c, format!("{b}/api/openapi.json"), None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let metrics = c
        .get(format!("{b}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("# TYPE"));
}

/// Starts `cityops serve` on a database another process already serves (the demo city, so
/// `--allow-demo-accounts`) and waits until it serves.
async fn start_second(db: &str, dir: &std::path::Path) -> Server {
    let evidence = dir.join("second-evidence");
    spawn_server(
        &["serve", "--db", db, "--allow-demo-accounts"],
        dir,
        &[("CITYOPS_EVIDENCE_DIR", evidence.as_os_str())],
    )
    .await
}

/// Two server processes on one database: a change of the responsibility matrix (权责清单) made
/// through `first` is used by `second` without a restart (each process compares the store's
/// cache versions every `cache_check_millis`, default 2 s).
async fn check_second_process_sees_routing_change(first: &Server, second: &Server) {
    let c = reqwest::Client::new();
    let (t1, t2) = (
        login(&c, &first.base, "admin").await,
        login(&c, &second.base, "admin").await,
    );
    // 暴露垃圾 (matter 06010) at a point of the core, as the second process routes it now.
    let suggest = format!(
        "{}/api/v1/routing/suggest?category_kind=matter&category_code=06010&lng=114.41&lat=23.09",
        second.base
    );
    let (s, before) = get(&c, suggest.clone(), Some(&t2)).await;
    assert_eq!(s, 200, "{before}");
    let community = before["location"]["community_code"]
        .as_str()
        .expect("the point lies in a community")
        .to_string();
    let old = before["department"]["code"].as_str().map(str::to_string);
    let (_, depts) = get(
        &c,
        format!("{}/api/v1/departments?page_size=100", first.base),
        Some(&t1),
    )
    .await;
    let new = depts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .find(|code| Some(*code) != old.as_deref())
        .expect("another department")
        .to_string();
    // Through the first process: the matrix as it is, plus a rule for this community.
    let csv = c
        .get(format!("{}/api/v1/routing-rules.csv", first.base))
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines: Vec<&str> = csv
        .lines()
        .filter(|l| !l.starts_with(&format!("matter,06010,{community},")))
        .collect();
    let rule = format!("matter,06010,{community},{new},false");
    lines.push(&rule);
    let r = c
        .put(format!("{}/api/v1/routing-rules", first.base))
        .bearer_auth(&t1)
        .header("content-type", "text/csv")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    // The second process picks the change up by itself (bounded wait, no restart).
    let mut seen = None;
    for _ in 0..120 {
        let (_, now) = get(&c, suggest.clone(), Some(&t2)).await;
        seen = now["department"]["code"].as_str().map(str::to_string);
        if seen.as_deref() == Some(new.as_str()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        seen.as_deref(),
        Some(new.as_str()),
        "the second process still routes by the old matrix"
    );
}

/// A report that was answered `201`: its case id and its (unique) description.
struct Acked {
    id: i64,
    description: String,
}

/// Clients reporting at once; the server is killed once this many reports were acknowledged.
const BURST_CLIENTS: usize = 32;
const KILL_AFTER: usize = 120;

/// A burst of concurrent reports (上报) from four inspectors, then `SIGKILL` in the middle of it:
/// no shutdown, no flush, requests in flight. Returns every report that was answered `201`.
/// Any answer other than `201` before the kill is a failure; after the kill, requests fail to
/// connect or lose their answer, which is what a crash does to a client.
async fn report_burst_then_kill(server: &mut Server, tag: &str) -> Vec<Acked> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let c = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 1..=4 {
        tokens.push(login(&c, &server.base, &format!("inspector{i}")).await);
    }
    let acked = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let killed = Arc::new(AtomicBool::new(false));
    // Categories the demo files directly for inspectors (06010, 07001) and ones it does not:
    // a direct-file report is answered after its second transaction (the automatic `file`).
    let categories = ["06010", "06011", "07001", "06013"];
    let mut tasks = Vec::new();
    for client in 0..BURST_CLIENTS {
        let (c, base, token) = (c.clone(), server.base.clone(), tokens[client % 4].clone());
        let (acked, refused, killed) = (acked.clone(), refused.clone(), killed.clone());
        let tag = tag.to_string();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let description = format!("{tag} {client}-{i}");
                let r = c
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "lng": 114.36 + 0.0021 * client as f64 + 0.00003 * f64::from(i % 100),
                        "lat": 23.06 + 0.0007 * f64::from(i % 90),
                        "description": description,
                        "category_kind": "matter",
                        "category_code": categories[(client + i as usize) % categories.len()],
                    }))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                let status = r.status().as_u16();
                match r.json::<Value>().await {
                    Ok(body) if status == 201 => acked.lock().unwrap().push(Acked {
                        id: body["id"].as_i64().expect("case id"),
                        description,
                    }),
                    // The answer was cut off by the kill: the client cannot know, nor can we.
                    Err(_) if killed.load(Ordering::SeqCst) => break,
                    other => refused
                        .lock()
                        .unwrap()
                        .push(format!("{description}: {status} {other:?}")),
                }
            }
        }));
    }
    for _ in 0..2400 {
        if acked.lock().unwrap().len() >= KILL_AFTER {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    // `Child::kill` is SIGKILL on Unix.
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().expect("reap the server");
    for t in tasks {
        t.await.expect("client task");
    }
    let refused = refused.lock().unwrap().clone();
    assert!(
        refused.is_empty(),
        "reports refused under load: {refused:?}"
    );
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!(
        "{tag}: {} reports acknowledged before SIGKILL ({BURST_CLIENTS} clients)",
        acked.len()
    );
    assert!(
        acked.len() >= KILL_AFTER,
        "only {} reports were acknowledged before the kill",
        acked.len()
    );
    acked
}

/// After the restart: every acknowledged report is there, unchanged, with its `report` event; no
/// report of the burst is there twice; and the audit chain verifies from its first event.
async fn check_acknowledged_reports_survived(server: &Server, tag: &str, acked: &[Acked]) {
    let c = reqwest::Client::new();
    let b = &server.base;
    let admin = login(&c, b, "admin").await;
    for a in acked {
        let (s, case) = get(&c, format!("{b}/api/v1/cases/{}", a.id), Some(&admin)).await;
        assert_eq!(s, 200, "acknowledged case {} is lost after the crash", a.id);
        assert_eq!(case["description"], a.description.as_str());
        let (s, events) = get(
            &c,
            format!("{b}/api/v1/cases/{}/events", a.id),
            Some(&admin),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            events["items"][0]["action"], "report",
            "case {} has its report event: {events}",
            a.id
        );
    }
    // Every case of the burst, by its tag: each description at most once.
    let mut seen = std::collections::HashMap::new();
    for page in 1.. {
        let (s, list) = get(
            &c,
            format!("{b}/api/v1/cases?q={tag}&page_size=500&page={page}"),
            Some(&admin),
        )
        .await;
        assert_eq!(s, 200, "{list}");
        let items = list["items"].as_array().unwrap();
        for item in items {
            let d = item["description"].as_str().unwrap().to_string();
            *seen.entry(d).or_insert(0) += 1;
        }
        if items.len() < 500 {
            break;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "reports stored twice: {twice:?}");
    for a in acked {
        assert!(
            seen.contains_key(&a.description),
            "{} is not listed",
            a.description
        );
    }
    let (s, v) = get(
        &c,
        format!("{b}/api/v1/audit/verify?full=true"),
        Some(&admin),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["ok"], true,
        "the audit chain verifies after the crash: {v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_on_sqlite_serves_the_contract_and_reuses_its_file() {
    let dir = tempdir();
    let mut server = start_demo("sqlite://demo.db", &dir).await;
    check_demo(&server).await;
    let second = start_second("sqlite://demo.db", &dir).await;
    check_second_process_sees_routing_change(&server, &second).await;
    drop(second);
    // Acknowledged means durable: a burst of reports, SIGKILL in the middle, restart.
    let acked = report_burst_then_kill(&mut server, "sqlite-crash-burst").await;
    drop(server);
    assert!(dir.join("demo.db").exists());
    // The demo keeps its photos beside its database.
    assert!(dir.join("demo-evidence").is_dir());
    // The full account list lies beside the database: every grid inspector (网格员) is in it.
    let accounts = std::fs::read_to_string(dir.join("demo.accounts.csv")).unwrap();
    assert!(accounts.starts_with("username,display_name,roles,"));
    assert!(accounts.contains("\ninspector1,"));
    assert!(accounts.lines().any(|l| l.starts_with("inspector-4413")));
    // Second run reuses the file (no rebuild): the city is still there, and so is every report
    // that was acknowledged before the crash.
    let server = start_demo("sqlite://demo.db", &dir).await;
    check_acknowledged_reports_survived(&server, "sqlite-crash-burst", &acked).await;
    let c = reqwest::Client::new();
    let (_, d) = get(
        &c,
        format!("{}/api/v1/regions?level=district", server.base),
        None,
    )
    .await;
    assert_eq!(d["total"], 5);
    drop(server);
    // Another city in the same file is refused.
    let out = cityops(
        &[
            "demo",
            "--city",
            "xiamen",
            "--db",
            "sqlite://demo.db",
            "--no-serve",
        ],
        &dir,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("huizhou"));
    // `serve` refuses a demo database unless told.
    let out = cityops(
        &[
            "serve",
            "--db",
            "sqlite://demo.db",
            "--listen",
            "127.0.0.1:0",
        ],
        &dir,
    );
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The demo on a fresh, empty PostgreSQL database (`cityops_test_support::postgres`: dropped
/// afterwards even when an assertion fails; skipped without a server unless
/// `CITYOPS_REQUIRE_POSTGRES=1`).
#[tokio::test(flavor = "multi_thread")]
async fn demo_on_postgres() {
    let dir = tempdir();
    let story_dir = dir.clone();
    with_empty_database(move |url| async move {
        let mut server = start_demo(&url, &story_dir).await;
        check_demo(&server).await;
        // Acknowledged means durable: a burst of reports, SIGKILL in the middle, restart.
        let acked = report_burst_then_kill(&mut server, "postgres-crash-burst").await;
        drop(server);
        let server = start_demo(&url, &story_dir).await;
        check_acknowledged_reports_survived(&server, "postgres-crash-burst", &acked).await;
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_writes_all_or_nothing_and_user_add_creates_an_administrator() {
    let dir = tempdir();
    let db = "sqlite://import.db";
    let ok = cityops(&["migrate", "--db", db], &dir);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let good = "level,code,name,parent_code\ncity,441300,惠州市,440000\ndistrict,441302,惠城区,441300\nstreet,441302001,桥东街道,441302\n";
    std::fs::write(dir.join("good.csv"), good).unwrap();
    let out = cityops(&["import", "divisions", "good.csv", "--db", db], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["regions"], 3);

    // A file with one bad line names it and writes nothing (the new good line is not there).
    let bad = "level,code,name,parent_code\nstreet,441302002,桥西街道,441302\ncommunity,4413020020,坏社区,441302002\n";
    std::fs::write(dir.join("bad.csv"), bad).unwrap();
    let out = cityops(&["import", "divisions", "bad.csv", "--db", db], &dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "error names the line: {err}");

    // user add (password from the environment), then the count of users is visible via a fresh import summary.
    let out = Command::new(bin())
        .args([
            "user",
            "add",
            "--username",
            "root-admin",
            "--role",
            "admin",
            "--db",
            db,
        ])
        .current_dir(&dir)
        .env("CITYOPS_NEW_PASSWORD", "a-long-enough-password")
        .env("CITYOPS_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(bin())
        .args(["user", "add", "--username", "root-admin", "--db", db])
        .current_dir(&dir)
        .env("CITYOPS_NEW_PASSWORD", "a-long-enough-password")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a duplicate username is refused");
    let out = Command::new(bin())
        .args(["user", "add", "--username", "weak", "--db", db])
        .current_dir(&dir)
        .env("CITYOPS_NEW_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a short password is refused");
    // The password policy: zxcvbn's estimate and its reason, and never the username inside.
    let weak = |username: &str, password: &str| {
        let out = Command::new(bin())
            .args([
                "user",
                "add",
                "--username",
                username,
                "--role",
                "admin",
                "--db",
                db,
            ])
            .current_dir(&dir)
            .env("CITYOPS_NEW_PASSWORD", password)
            .env("CITYOPS_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{password:?} is refused for {username}"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = weak("weak-admin", "aaaaaaaaaa");
    assert!(
        err.contains("too easy to guess") && err.contains("Repeats like \"aaa\" are easy to guess"),
        "the reason is named: {err}"
    );
    let err = weak("zhangwei", "Zhangwei-Tower-7731");
    assert!(err.contains("must not contain the username"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_an_unusable_evidence_directory() {
    let dir = tempdir();
    let out = cityops(&["migrate", "--db", "sqlite://plain.db"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A regular file where the directory should be: no directory can be created below it.
    std::fs::write(dir.join("blocker"), b"not a directory").unwrap();
    let out = Command::new(bin())
        .args([
            "serve",
            "--db",
            "sqlite://plain.db",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(&dir)
        .env("CITYOPS_LOG", "warn")
        .env("CITYOPS_EVIDENCE_DIR", dir.join("blocker").join("evidence"))
        .env_remove("CITYOPS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server must not start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("evidence directory"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cityops import pois` (公厕、公园…): points located in the city's districts, CSV or GeoJSON
/// (`--gcj02` for web-map coordinates); a bad line or a point outside the city is named and writes
/// nothing; an import again replaces by type and name.
#[test]
fn import_pois_locates_and_writes_all_or_nothing() {
    let dir = tempdir();
    let db = "sqlite://pois.db";
    let run = |args: &[&str]| {
        let out = cityops(args, &dir);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert!(run(&["migrate", "--db", db]).0);
    std::fs::write(
        dir.join("divisions.csv"),
        "level,code,name,parent_code\ncity,441300,惠州市,440000\ndistrict,441302,惠城区,441300\n",
    )
    .unwrap();
    assert!(run(&["import", "divisions", "divisions.csv", "--db", db]).0);
    let square = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": "441302", "name": "惠城区"},
        "geometry": {"type": "Polygon", "coordinates": [[[114.40, 23.06], [114.44, 23.06],
            [114.44, 23.10], [114.40, 23.10], [114.40, 23.06]]]}}]});
    std::fs::write(dir.join("district.geojson"), square.to_string()).unwrap();
    let (ok, _, err) = run(&[
        "import",
        "boundaries",
        "district.geojson",
        "--level",
        "district",
        "--db",
        db,
    ]);
    assert!(ok, "{err}");

    let good = "type,name,lng,lat,opening_hours\ntoilet,府城公厕,114.41,23.09,全天开放\npark,府城公园,114.42,23.08,\n";
    std::fs::write(dir.join("good.csv"), good).unwrap();
    let (ok, out, err) = run(&["import", "pois", "good.csv", "--db", db]);
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary, json!({"added": 2, "replaced": 0}));

    // Line 3 lies outside the district: named, and line 2 (new) is not written either.
    let bad = "type,name,lng,lat\ntoilet,新公厕,114.41,23.09\ntoilet,城外公厕,113.0,23.0\n";
    std::fs::write(dir.join("bad.csv"), bad).unwrap();
    let (ok, _, err) = run(&["import", "pois", "bad.csv", "--db", db]);
    assert!(!ok);
    assert!(err.contains("line 3") && err.contains("outside"), "{err}");

    // GeoJSON in GCJ-02: the same two by type and name are replaced.
    let (g_lng, g_lat) = cityops_geo::gcj02::wgs84_to_gcj02(114.41, 23.09);
    let features = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "toilet", "name": "府城公厕"},
         "geometry": {"type": "Point", "coordinates": [g_lng, g_lat]}},
        {"type": "Feature", "properties": {"type": "park", "name": "府城公园", "crs": "wgs84"},
         "geometry": {"type": "Point", "coordinates": [114.42, 23.08]}}]});
    std::fs::write(dir.join("pois.geojson"), features.to_string()).unwrap();
    let (ok, out, err) = run(&["import", "pois", "pois.geojson", "--gcj02", "--db", db]);
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary, json!({"added": 0, "replaced": 2}));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_subcommand_has_help() {
    let dir = std::env::temp_dir();
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["import", "--help"],
        vec!["import", "grids", "--help"],
        vec!["import", "pois", "--help"],
        vec!["user", "add", "--help"],
        vec!["check", "--help"],
    ] {
        let out = cityops(&args, &dir);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let out = cityops(&["openapi"], &dir);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["paths"]["/api/v1/locate"].is_object());
}

/// `cityops check` on a database with three photos (one linked to a case): all intact → success;
/// then one photo altered and another's thumbnail deleted → both listed with the photo's public id
/// and case code, exit status 1.
async fn check_finds_missing_and_altered_evidence(store: &dyn cityops_store::Store, url: &str) {
    use cityops_domain::case::CaseSource;
    use cityops_evidence::{EvidenceConfig, EvidenceStore};
    use cityops_store_conformance::case_fixtures::{World, at_min, location, new_report};

    let dir = tempdir();
    let evidence_dir = dir.join("evidence");
    let evidence = EvidenceStore::new(EvidenceConfig::new(&evidence_dir)).unwrap();
    let w = World::new(store).await;
    let mut made = Vec::new();
    for (i, photo) in cityops_seed::history::demo_photos(3)
        .into_iter()
        .enumerate()
    {
        let p = evidence.store(&photo.bytes).unwrap();
        let record = cityops_store::NewAttachment {
            sha256: p.sha256.clone(),
            mime: p.mime.to_string(),
            bytes: p.bytes as i64,
            width: p.width as i32,
            height: p.height as i32,
            thumb_sha256: p.thumb_sha256.clone(),
            uploaded_by: w.uid("citizen1"),
            created_at: at_min(i as i64),
            file_name: None,
        };
        made.push((store.create_attachment(&record).await.unwrap(), p));
    }
    let mut report = new_report(
        CaseSource::Citizen,
        None,
        location("441302001001001", 114.405, 23.055, ""),
        "photo",
    );
    report.attachments = vec![made[0].0.id];
    let case = w.create(store, "citizen1", report, at_min(5)).await;

    let check = || {
        Command::new(bin())
            .args(["check", "--db", url, "--evidence-dir"])
            .arg(&evidence_dir)
            .current_dir(&dir)
            .env("CITYOPS_LOG", "warn")
            .env_remove("CITYOPS_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = check();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checked 3 evidence photos"), "{stdout}");
    assert!(
        stdout.contains("0 files missing, 0 with a hash mismatch"),
        "{stdout}"
    );

    // Alter one byte of the linked photo; delete the second photo's thumbnail.
    let (a1, p1) = &made[0];
    let path = evidence.path_of(&p1.sha256, p1.format).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (a2, p2) = &made[1];
    std::fs::remove_file(evidence.thumb_path_of(&p2.thumb_sha256).unwrap()).unwrap();

    let out = check();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "hash mismatch\tphoto\tattachment {}\tcase {}\tsha256 {}",
            a1.public_id, case.code, p1.sha256
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "missing\tthumbnail\tattachment {}\tcase -\tsha256 {}",
            a2.public_id, p2.thumb_sha256
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&made[2].0.public_id),
        "the intact photo is not listed"
    );
    assert!(
        stdout.contains("1 files missing, 1 with a hash mismatch"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 evidence files are missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_lists_missing_and_altered_evidence_on_sqlite() {
    use cityops_store::Admin;
    let dir = tempdir();
    let url = format!("sqlite://{}", dir.join("check.db").display());
    let store = cityops_store_sqlite::SqliteStore::connect(&url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    check_finds_missing_and_altered_evidence(&store, &url).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_lists_missing_and_altered_evidence_on_postgres() {
    cityops_test_support::postgres::with_store(|store, url| async move {
        check_finds_missing_and_altered_evidence(&store, &url).await;
    })
    .await;
}
