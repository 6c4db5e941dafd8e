//! 综合评价 in the console (`/evaluation`, `/evaluation/{kind}`, `/evaluation/{kind}/cases`) and
//! the big screen's 城市管理指数 panel, over the case-workflow fixture city with cases moved
//! through the loop by the API, on SQLite and (when a server answers) PostgreSQL: every kind's
//! page renders in Chinese and English, every count links to a page whose total is the count,
//! the numbers are the API's, and who may not see them gets 403.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use cityops_domain::evaluation::Kind;
use cityops_domain::{Clock, ManualClock};
use cityops_store::Store;
use cityops_test_support::city::{A_NW, A_SE, B_PT, NO_LOGIN_HASH, case_batch, routing_rules};
use cityops_web::{AppState, WebConfig};
use common::{Answer, TestApp, start_time};
use serde_json::{Value, json};

/// The console and the API over `store` holding the case-workflow city and its matrix.
async fn app_on(store: Arc<dyn Store>) -> TestApp {
    let batch = case_batch(NO_LOGIN_HASH);
    store.apply_import(&batch).await.expect("the fixture");
    let rules = routing_rules(store.as_ref()).await;
    store
        .replace_routing_rules(
            &rules,
            &cityops_store::ConfigChange::new(None, start_time(), "fixture"),
        )
        .await
        .expect("routing rules");
    let clock = Arc::new(ManualClock::new(start_time()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let state = AppState::load(
        store,
        common::index(&batch.regions),
        dyn_clock,
        WebConfig::default(),
        false,
    )
    .await
    .expect("state");
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    TestApp { app, state, clock }
}

fn token(cookie: &str) -> String {
    cookie.split_once('=').expect("name=value").1.to_string()
}

async fn post(t: &TestApp, uri: &str, cookie: &str, body: Value) -> Answer {
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", token(cookie)))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn report(t: &TestApp, cookie: &str, p: (f64, f64), extra: Value) -> i64 {
    let mut body = json!({"lng": p.0, "lat": p.1, "description": "评价测试"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let a = post(t, "/api/v1/cases", cookie, body).await;
    assert_eq!(a.status, StatusCode::CREATED, "report: {}", a.text());
    a.json()["id"].as_i64().unwrap()
}

async fn act(t: &TestApp, cookie: &str, id: i64, action: &str, body: Value) {
    let a = post(
        t,
        &format!("/api/v1/cases/{id}/actions/{action}"),
        cookie,
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{action}: {}", a.text());
}

/// One session per user (the fixture's session tokens are derived from the user).
struct Sessions(BTreeMap<&'static str, String>);

impl Sessions {
    async fn new(t: &TestApp) -> Self {
        let mut m = BTreeMap::new();
        for who in [
            "intake",
            "supervisor",
            "dispatcher",
            "handler",
            "inspector1",
            "inspector2",
            "citizen",
            "b_intake",
            "leader",
            "admin",
        ] {
            m.insert(who, t.session(who).await);
        }
        Sessions(m)
    }

    fn get(&self, who: &str) -> String {
        self.0.get(who).cloned().expect("a session")
    }
}

/// Reports in both districts; in district A one closed, one in handling, one cancelled after
/// filing, one rejected.
async fn the_loop(t: &TestApp, s: &Sessions) {
    let (intake, supervisor, dispatcher) =
        (s.get("intake"), s.get("supervisor"), s.get("dispatcher"));
    let (handler, inspector, inspector2) =
        (s.get("handler"), s.get("inspector1"), s.get("inspector2"));
    let (citizen, b_intake) = (s.get("citizen"), s.get("b_intake"));
    let component = json!({"category_kind": "component", "category_code": "01001"});
    let closed = report(t, &intake, A_NW, component.clone()).await;
    act(t, &supervisor, closed, "file", json!({"filing_seq": 1})).await;
    act(t, &dispatcher, closed, "dispatch", json!({})).await;
    act(t, &handler, closed, "sign", json!({})).await;
    // The after photo: a record of the handler's (its file is never read here).
    let handler_id = t
        .state
        .store
        .credentials("handler")
        .await
        .unwrap()
        .expect("handler")
        .user
        .id;
    let photo = t
        .state
        .store
        .create_attachment(&cityops_store::NewAttachment {
            sha256: "a".repeat(64),
            mime: "image/jpeg".into(),
            bytes: 10,
            width: 1,
            height: 1,
            thumb_sha256: "b".repeat(64),
            uploaded_by: handler_id,
            created_at: t.clock.now(),
            file_name: None,
        })
        .await
        .unwrap();
    act(
        t,
        &handler,
        closed,
        "handle",
        json!({"comment": "已处置", "attachments": [photo.public_id]}),
    )
    .await;
    act(t, &intake, closed, "send_check", json!({})).await;
    act(t, &inspector, closed, "check_pass", json!({})).await;
    act(t, &supervisor, closed, "close", json!({})).await;
    let handling = report(t, &citizen, A_SE, json!({})).await;
    act(t, &intake, handling, "send_verify", json!({})).await;
    act(t, &inspector2, handling, "verify", json!({})).await;
    act(
        t,
        &supervisor,
        handling,
        "file",
        json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1}),
    )
    .await;
    act(t, &dispatcher, handling, "dispatch", json!({})).await;
    act(t, &handler, handling, "sign", json!({})).await;
    let cancelled = report(t, &intake, A_SE, component.clone()).await;
    act(t, &supervisor, cancelled, "file", json!({"filing_seq": 1})).await;
    act(
        t,
        &supervisor,
        cancelled,
        "cancel",
        json!({"reason": "重复"}),
    )
    .await;
    let rejected = report(t, &citizen, A_NW, json!({})).await;
    act(
        t,
        &intake,
        rejected,
        "reject",
        json!({"reason": "非城市管理问题"}),
    )
    .await;
    report(t, &b_intake, B_PT, component).await;
    t.clock.advance(Duration::minutes(5));
}

/// HTML attribute text back to the URL it encodes.
fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

/// The count links of a ranking page: (href, figure, count).
fn count_links(page: &str) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for part in page.split("<a href=\"").skip(1) {
        let Some((href, rest)) = part.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(" data-figure=\"") else {
            continue;
        };
        let (figure, rest) = rest.split_once('"').unwrap();
        let rest = rest
            .strip_prefix(" data-count=\"")
            .expect("the count follows");
        let (count, _) = rest.split_once('"').unwrap();
        out.push((unescape(href), figure.to_string(), count.parse().unwrap()));
    }
    out
}

/// Case links of a drill-down page (each case once).
fn case_ids(page: &str) -> BTreeSet<String> {
    page.split("<a class=\"mono\" href=\"/cases/")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().to_string())
        .collect()
}

async fn pages_render_and_every_count_opens_as_many_cases(t: TestApp) {
    let s = Sessions::new(&t).await;
    the_loop(&t, &s).await;
    let leader = s.get("leader");
    let admin = s.get("admin");

    // The navigation offers 综合评价 to the evaluation roles only.
    let home = t.get_with("/", &leader).await;
    home.assert_page(&[r#"href="/evaluation""#, "综合评价"]);
    let home = t.get_with("/", &s.get("inspector1")).await;
    assert!(!home.text().contains(r#"href="/evaluation""#));

    // /evaluation is the departments' tab.
    let page = t.get_with("/evaluation", &leader).await;
    page.assert_page(&[
        "综合评价",
        "专业部门",
        "监督员",
        "受理员",
        "值班长",
        "派遣员",
        r#"id="eval-table""#,
        r#"id="chart-scores""#,
        r#"id="chart-grades""#,
        "2026-11-01 至 2026-11-30",
        "month=2026-10",
        "惠城区市政管理所",
        "evaluation.js",
        "echarts.min.js",
    ]);

    let mut followed = 0;
    for kind in Kind::ALL {
        for (lang, query) in [("zh", ""), ("en", "?lang=en")] {
            for who in [&leader, &admin] {
                let uri = format!("/evaluation/{}{query}", kind.as_str());
                let page = t.get_with(&uri, who).await;
                let mut needles: Vec<&str> = vec![r#"id="eval-table""#];
                for f in kind.figures() {
                    needles.push(if lang == "zh" { f.zh } else { f.en });
                }
                for c in kind.components() {
                    needles.push(if lang == "zh" { c.zh } else { c.en });
                }
                page.assert_page(&needles);
                let text = page.text();
                if lang == "en" {
                    assert!(text.contains("Performance evaluation"), "{uri}");
                    assert!(text.contains(r#"<html lang="en">"#));
                }
                let links = count_links(&text);
                let rows = text.matches("<tr data-subject=").count();
                assert_eq!(links.len(), rows * kind.figures().len(), "{uri}");
                if lang == "en" {
                    continue;
                }
                // Every count's page shows the same total and lists those cases.
                for (href, figure, count) in links {
                    assert!(
                        href.starts_with(&format!("/evaluation/{}/cases?", kind.as_str())),
                        "{href}"
                    );
                    assert!(href.contains(&format!("figure={figure}")));
                    let drill = t.get_with(&href, who).await;
                    drill.assert_page(&[&format!(r#"data-total="{count}""#)]);
                    assert_eq!(
                        case_ids(&drill.text()).len() as u64,
                        count.min(50),
                        "{href}"
                    );
                    followed += 1;
                }
            }
        }
    }
    assert!(followed > 100, "{followed} count links followed");

    // The numbers are the API's.
    let api = t
        .get_with(
            "/api/v1/evaluation/departments?from=2026-11-01&to=2026-11-30",
            &admin,
        )
        .await
        .json();
    let page = t.get_with("/evaluation/departments", &admin).await.text();
    let links = count_links(&page);
    for row in api["rows"].as_array().unwrap() {
        let subject = row["subject"].as_str().unwrap();
        for c in row["counts"].as_array().unwrap() {
            let key = c["key"].as_str().unwrap();
            let (_, _, n) = links
                .iter()
                .find(|(href, f, _)| f == key && href.contains(&format!("subject={subject}&")))
                .unwrap_or_else(|| panic!("{subject} {key} on the page"));
            assert_eq!(*n, c["value"].as_u64().unwrap(), "{subject} {key}");
        }
    }
    // The municipal department's figures as the loop made them.
    let municipal = api["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "惠城区市政管理所")
        .unwrap();
    assert_eq!(
        municipal["counts"][0]["value"], 2,
        "filed (dispatched here)"
    );
    assert_eq!(municipal["counts"][2]["value"], 1, "closed");

    // Regions at every level; a drill-down names the subject and the figure.
    for level in ["grid", "community", "street", "district"] {
        let page = t
            .get_with(&format!("/evaluation/regions?level={level}"), &admin)
            .await;
        page.assert_page(&[&format!(r#"<option value="{level}" selected>"#)]);
        for (href, _, count) in count_links(&page.text()) {
            assert!(href.contains(&format!("level={level}")), "{href}");
            let drill = t.get_with(&href, &admin).await;
            drill.assert_page(&[&format!(r#"data-total="{count}""#), "返回综合评价"]);
        }
    }
    let drill = t
        .get_with(
            "/evaluation/regions/cases?month=2026-11&level=district&subject=441302&figure=filed",
            &admin,
        )
        .await;
    drill.assert_page(&["惠城区 · 立案数", r#"data-total="3""#]);
    let drill = t
        .get_with(
            "/evaluation/regions/cases?month=2026-11&level=district&subject=441302&figure=filed&lang=en",
            &admin,
        )
        .await;
    drill.assert_page(&[
        "惠城区 · Filed",
        r#"data-total="3""#,
        "Back to the evaluation",
    ]);

    // A custom period and the month's arrows.
    let page = t
        .get_with(
            "/evaluation/supervisors?from=2026-11-20&to=2026-11-23",
            &admin,
        )
        .await;
    page.assert_page(&["2026-11-20 至 2026-11-23", r#"value="2026-11-20""#]);
    let page = t
        .get_with("/evaluation/supervisors?month=2026-10", &admin)
        .await;
    page.assert_page(&["2026-10-01 至 2026-10-31", "month=2026-09", "month=2026-11"]);
    assert!(
        count_links(&page.text()).iter().all(|(_, _, n)| *n == 0),
        "October is empty"
    );

    // Refused: who may not see evaluations, unknown kinds, malformed parameters.
    for who in ["citizen", "inspector1"] {
        let cookie = s.get(who);
        for uri in [
            "/evaluation",
            "/evaluation/regions",
            "/evaluation/departments/cases?subject=1&figure=filed",
        ] {
            let a = t.get_with(uri, &cookie).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{who} {uri}");
        }
    }
    assert_eq!(
        t.get_with("/evaluation/nope", &admin).await.status,
        StatusCode::NOT_FOUND
    );
    for uri in [
        "/evaluation/departments?month=2026-13",
        "/evaluation/departments?from=2026-11-30&to=2026-11-01",
        "/evaluation/regions?level=city",
        "/evaluation/departments/cases?subject=1&figure=dispatched",
        "/evaluation/departments/cases?subject=abc&figure=filed",
    ] {
        let a = t.get_with(uri, &admin).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(a.text().contains(r#"id="eval-error""#), "{uri}");
    }
    let a = t.get("/evaluation").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "login first");

    // The big screen's 城市管理指数 panel and the trend it reads.
    let screen = t.get_with("/screen", &leader).await;
    screen.assert_page(&[
        "城市管理指数",
        r#"id="chart-index-trend""#,
        r#"id="chart-index-rank""#,
        r#""index":true"#,
    ]);
    let trend = t
        .get_with("/api/v1/evaluation/city-index/trend?months=12", &leader)
        .await;
    assert_eq!(trend.status, StatusCode::OK, "{}", trend.text());
    let months = trend.json()["months"].as_array().unwrap().clone();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["month"], "2026-11");
    assert_eq!(months[11]["districts"][0]["name"], "惠城区");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let store = cityops_test_support::sqlite::memory_store().await;
    pages_render_and_every_count_opens_as_many_cases(app_on(Arc::new(store)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    cityops_test_support::postgres::with_store(|store, _url| async move {
        pages_render_and_every_count_opens_as_many_cases(app_on(Arc::new(store)).await).await;
    })
    .await;
}
