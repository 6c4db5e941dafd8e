//! 综合评价 and 城市管理指数 over HTTP, on SQLite and (when a server answers) PostgreSQL: cases are
//! moved through the loop by the fixture's cast, then every kind is evaluated and every figure of
//! every row is followed to its drill-down, whose total must equal the figure; the city index and
//! its monthly trend (cached a minute on the injected clock); who may not see them, and the
//! answers to malformed or impossible parameters.
mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::Duration;
use common::TestApp;
use common::cases::{A_NW, A_SE, B_PT, at};
use serde_json::{Value, json};

on_both_stores!(
    every_kind_and_every_figure_drills_down_to_its_cases,
    the_city_index_and_its_trend,
    who_may_see_evaluations_and_bad_parameters,
    kept_periods_equal_a_full_read,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// A hotline report (by `intake`) of component 01001 at `p`.
async fn hotline(t: &TestApp, intake: &str, p: (f64, f64)) -> i64 {
    id(&t
        .report(
            intake,
            at(
                p,
                json!({"category_kind": "component", "category_code": "01001", "contact": "王先生 13800000000"}),
            ),
        )
        .await)
}

/// The loop's cases in district A (and one in district B):
/// - a hotline report filed, dispatched, signed, handled, checked and closed;
/// - a citizen report sent to verify, verified, filed, dispatched and signed (in handling);
/// - a hotline report filed and then cancelled (作废);
/// - a citizen report rejected (不予受理);
/// - a report in district B, filed.
async fn the_loop(t: &TestApp) -> Vec<i64> {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let inspector = t.token("inspector1").await;
    let inspector2 = t.token("inspector2").await;
    let citizen = t.token("citizen").await;
    let b_intake = t.token("b_intake").await;
    let b_supervisor = t.token("b_supervisor").await;

    let closed = hotline(t, &intake, A_NW).await;
    t.act_ok(&supervisor, closed, "file", json!({"filing_seq": 1}))
        .await;
    t.act_ok(&dispatcher, closed, "dispatch", json!({})).await;
    t.act_ok(&handler, closed, "sign", json!({})).await;
    let photo = t.upload(&handler, 7).await;
    t.act_ok(&handler, closed, "handle", json!({"attachments": [photo]}))
        .await;
    t.clock.advance(Duration::minutes(20));
    t.act_ok(&intake, closed, "send_check", json!({})).await;
    t.act_ok(&inspector, closed, "check_pass", json!({})).await;
    t.act_ok(&supervisor, closed, "close", json!({})).await;

    let handling = id(&t
        .report(&citizen, at(A_SE, json!({"description": "污水井盖破损"})))
        .await);
    t.act_ok(&intake, handling, "send_verify", json!({})).await;
    t.act_ok(&inspector2, handling, "verify", json!({"comment": "属实"}))
        .await;
    t.act_ok(
        &supervisor,
        handling,
        "file",
        json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1}),
    )
    .await;
    t.act_ok(&dispatcher, handling, "dispatch", json!({})).await;
    t.act_ok(&handler, handling, "sign", json!({})).await;

    let cancelled = hotline(t, &intake, A_SE).await;
    t.act_ok(&supervisor, cancelled, "file", json!({"filing_seq": 1}))
        .await;
    t.act_ok(
        &supervisor,
        cancelled,
        "cancel",
        json!({"reason": "重复受理"}),
    )
    .await;

    let rejected = id(&t
        .report(
            &citizen,
            at(A_NW, json!({"description": "不是城市管理问题"})),
        )
        .await);
    t.act_ok(
        &intake,
        rejected,
        "reject",
        json!({"reason": "非城市管理问题"}),
    )
    .await;

    let b = hotline(t, &b_intake, B_PT).await;
    t.act_ok(&b_supervisor, b, "file", json!({"filing_seq": 1}))
        .await;
    t.clock.advance(Duration::minutes(5));
    vec![closed, handling, cancelled, rejected, b]
}

/// The evaluation of `kind` (a query string may follow), asserting 200.
async fn evaluation(t: &TestApp, token: &str, kind_and_query: &str) -> Value {
    let a = t
        .get_auth(&format!("/api/v1/evaluation/{kind_and_query}"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{kind_and_query}: {}", a.text());
    a.json()
}

/// Follows every figure of every row to its drill-down (in pages of `page_size`): the total
/// equals the figure, the pages together list that many distinct cases, each visible to the
/// caller. Returns the figures by (subject name, figure key).
async fn follow_every_figure(
    t: &TestApp,
    token: &str,
    e: &Value,
) -> BTreeMap<(String, String), u64> {
    let mut seen = BTreeMap::new();
    let figures: Vec<&str> = e["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    for row in e["rows"].as_array().unwrap() {
        let counts = row["counts"].as_array().unwrap();
        assert_eq!(counts.len(), figures.len(), "{row}");
        assert_eq!(
            row["components"].as_array().unwrap().len(),
            e["components"].as_array().unwrap().len()
        );
        for (c, key) in counts.iter().zip(&figures) {
            assert_eq!(c["key"], *key);
            let value = c["value"].as_u64().unwrap();
            let url = c["cases_url"].as_str().unwrap();
            assert!(url.starts_with("/api/v1/evaluation/"), "{url}");
            let mut ids = std::collections::BTreeSet::new();
            for page in 1..=3 {
                let a = t
                    .get_auth(&format!("{url}&page_size=2&page={page}"), token)
                    .await;
                assert_eq!(a.status, StatusCode::OK, "{url}: {}", a.text());
                let list = a.json();
                assert_eq!(list["total"].as_u64(), Some(value), "{url}: {list}");
                for item in list["items"].as_array().unwrap() {
                    assert!(ids.insert(id(item)), "each case once: {url}");
                    // The item view of the case list: the case is visible to the caller.
                    assert_eq!(t.case(token, id(item)).await.status, StatusCode::OK);
                }
            }
            assert_eq!(ids.len() as u64, value.min(6), "{url}");
            seen.insert(
                (row["name"].as_str().unwrap().to_string(), key.to_string()),
                value,
            );
        }
    }
    seen
}

fn figure(seen: &BTreeMap<(String, String), u64>, name: &str, key: &str) -> u64 {
    *seen
        .get(&(name.to_string(), key.to_string()))
        .unwrap_or_else(|| panic!("no figure {key} of {name}: {seen:?}"))
}

async fn every_kind_and_every_figure_drills_down_to_its_cases(t: TestApp) {
    the_loop(&t).await;
    let admin = t.token("admin").await;
    let leader = t.token("leader").await;

    // 专业部门: the district-A municipal department got two cases, closed one.
    let e = evaluation(&t, &admin, "departments").await;
    assert_eq!(e["kind"], "departments");
    assert!(e["level"].is_null());
    assert_eq!(e["from"], "2026-11-01");
    assert_eq!(e["to"], "2026-11-23", "the current month so far");
    assert_eq!(e["previous_to"], "2026-10-31");
    let keys: Vec<&str> = e["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    let domain: Vec<&str> = cityops_domain::evaluation::Kind::Departments
        .figures()
        .iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(keys, domain);
    let weights: f64 = e["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .sum();
    assert!((weights - 100.0).abs() < 1e-9, "{e}");
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "惠城区市政管理所", "filed"), 2);
    assert_eq!(figure(&seen, "惠城区市政管理所", "closed"), 1);
    assert_eq!(figure(&seen, "惠城区市政管理所", "handled"), 1);
    assert_eq!(figure(&seen, "惠城区市政管理所", "rated"), 0);
    // Ranks are 1-based and ordered by score; grades come with every row.
    let rows = e["rows"].as_array().unwrap();
    assert_eq!(rows[0]["rank"], 1);
    for w in rows.windows(2) {
        assert!(w[0]["score"].as_f64() >= w[1]["score"].as_f64());
    }
    let total: u64 = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|g| e["grades"][g].as_u64().unwrap())
        .sum();
    assert_eq!(total, e["total"].as_u64().unwrap());
    assert_eq!(e["total"].as_u64().unwrap() as usize, rows.len());

    // 值班长: filed three in district A, one of them cancelled, closed one.
    let e = evaluation(&t, &admin, "supervisors").await;
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "supervisor", "filed"), 3);
    assert_eq!(figure(&seen, "supervisor", "cancelled"), 1);
    assert_eq!(figure(&seen, "supervisor", "closed"), 1);
    assert_eq!(figure(&seen, "b_supervisor", "filed"), 1);

    // 受理员, 派遣员, 监督员.
    let e = evaluation(&t, &admin, "operators").await;
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "intake", "verify_sent"), 1);
    assert_eq!(figure(&seen, "intake", "check_sent"), 1);
    let e = evaluation(&t, &admin, "dispatchers").await;
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "dispatcher", "dispatched"), 2);
    let e = evaluation(&t, &admin, "inspectors").await;
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "张监督", "check_tasks"), 1);
    assert_eq!(figure(&seen, "inspector2", "verify_tasks"), 1);

    // 区域 at every level; the default is the street.
    let e = evaluation(&t, &admin, "regions").await;
    assert_eq!(e["level"], "street");
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "桥东街道", "filed"), 3, "{seen:?}");
    for level in ["grid", "community", "district"] {
        let e = evaluation(&t, &admin, &format!("regions?level={level}")).await;
        assert_eq!(e["level"], level);
        assert!(
            e["rows"][0]["counts"][0]["cases_url"]
                .as_str()
                .unwrap()
                .contains(&format!("level={level}"))
        );
        follow_every_figure(&t, &admin, &e).await;
    }
    let e = evaluation(&t, &admin, "regions?level=district").await;
    let seen = follow_every_figure(&t, &admin, &e).await;
    assert_eq!(figure(&seen, "惠城区", "filed"), 3);
    assert_eq!(figure(&seen, "惠阳区", "filed"), 1);

    // District A's leader sees district A only: district B's case counts nowhere.
    let e = evaluation(&t, &leader, "regions?level=district").await;
    let seen = follow_every_figure(&t, &leader, &e).await;
    assert_eq!(figure(&seen, "惠城区", "filed"), 3);
    assert!(!seen.contains_key(&("惠阳区".to_string(), "filed".to_string())));
    let e = evaluation(&t, &leader, "supervisors").await;
    let seen = follow_every_figure(&t, &leader, &e).await;
    assert!(!seen.contains_key(&("b_supervisor".to_string(), "filed".to_string())));

    // Paging of the rows; an explicit period; the previous period beside each row.
    let all = evaluation(&t, &admin, "departments").await;
    let one = evaluation(&t, &admin, "departments?page_size=1&page=2").await;
    assert_eq!(one["rows"].as_array().unwrap().len(), 1);
    assert_eq!(one["rows"][0], all["rows"][1]);
    assert_eq!(one["total"], all["total"]);
    let e = evaluation(&t, &admin, "departments?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(e["previous_from"], "2026-10-01");
    assert_eq!(e["previous_to"], "2026-10-31");
    for row in e["rows"].as_array().unwrap() {
        assert_eq!(row["previous"]["counts"][0], 0, "nothing in October");
        assert!(row["rank_change"].is_i64());
    }
    // Next month the cases count in the previous period only.
    let e = evaluation(&t, &admin, "departments?from=2026-12-01&to=2026-12-31").await;
    for row in e["rows"].as_array().unwrap() {
        assert_eq!(row["counts"][0]["value"], 0);
    }
    let e = evaluation(&t, &admin, "departments?to=2026-10-31").await;
    assert_eq!(
        e["from"], "2026-10-01",
        "from defaults to the first of to's month"
    );
}

async fn the_city_index_and_its_trend(t: TestApp) {
    let ids = the_loop(&t).await;
    let admin = t.token("admin").await;
    let leader = t.token("leader").await;
    let a = t.get_auth("/api/v1/evaluation/city-index", &admin).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["from"], "2026-11-01");
    assert_eq!(v["to"], "2026-11-23");
    let weights: f64 = [
        "closure",
        "on_time",
        "rework",
        "overdue_density",
        "satisfaction",
        "review",
    ]
    .iter()
    .map(|k| v["weights"][k].as_f64().unwrap())
    .sum();
    assert!((weights - 100.0).abs() < 1e-9);
    let districts = v["districts"].as_array().unwrap();
    let codes: Vec<&str> = districts
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{v}");
    assert!(codes.contains(&common::DISTRICT) && codes.contains(&common::cases::DISTRICT_B));
    for d in districts {
        let i = d["index"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&i), "{d}");
    }
    let a_row = districts
        .iter()
        .find(|d| d["code"] == common::DISTRICT)
        .unwrap();
    assert_eq!(a_row["closed"], 1);
    assert_eq!(a_row["name"], "惠城区");
    // The leader of district A sees district A only.
    let v = t
        .get_auth("/api/v1/evaluation/city-index", &leader)
        .await
        .json();
    let codes: Vec<&str> = v["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [common::DISTRICT]);

    // The trend: the last three months, November (so far) last, its index as the month's.
    let a = t
        .get_auth("/api/v1/evaluation/city-index/trend?months=3", &admin)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let trend = a.json();
    let months: Vec<&str> = trend["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2026-09", "2026-10", "2026-11"]);
    assert_eq!(trend["months"][0]["complete"], true);
    assert_eq!(trend["months"][2]["complete"], false);
    assert_eq!(trend["months"][2]["to"], "2026-11-30");
    let nov = |trend: &Value| -> f64 {
        trend["months"][2]["districts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == common::DISTRICT)
            .unwrap()["index"]
            .as_f64()
            .unwrap()
    };
    let month = t
        .get_auth(
            "/api/v1/evaluation/city-index?from=2026-11-01&to=2026-11-30",
            &admin,
        )
        .await
        .json();
    let month_a = month["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == common::DISTRICT)
        .unwrap()["index"]
        .as_f64()
        .unwrap();
    assert_eq!(nov(&trend), month_a);
    assert_eq!(
        t.get_auth("/api/v1/evaluation/city-index/trend", &admin)
            .await
            .json()["months"]
            .as_array()
            .unwrap()
            .len(),
        12,
        "twelve months by default"
    );

    // A case of district A turns overdue: within the minute the trend still answers what it
    // computed (the big screen re-reads it without recomputing), a minute later the change.
    let handling = ids[1];
    let before = nov(&trend);
    t.clock.advance(Duration::days(30));
    let v = t
        .get_auth(&format!("/api/v1/cases/{handling}"), &admin)
        .await
        .json();
    assert_eq!(v["status"], "handling");
    // The clock moved 30 days: the cached months are stale and the current month is now
    // December; compare the same month (November) again, recomputed.
    let again = t
        .get_auth("/api/v1/evaluation/city-index/trend?months=3", &admin)
        .await
        .json();
    assert_eq!(again["months"][1]["month"], "2026-11");
    let nov_again = again["months"][1]["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == common::DISTRICT)
        .unwrap()["index"]
        .as_f64()
        .unwrap();
    assert!(
        nov_again < before,
        "the handling case is overdue now: {nov_again} < {before}"
    );
    // Cached within the minute: a case closed meanwhile does not show yet.
    let cached = t
        .get_auth("/api/v1/evaluation/city-index/trend?months=3", &admin)
        .await
        .json();
    assert_eq!(cached, again);
    let handler = t.token("handler").await;
    let photo = t.upload(&handler, 9).await;
    t.act_ok(
        &handler,
        handling,
        "handle",
        json!({"attachments": [photo]}),
    )
    .await;
    t.clock.advance(Duration::seconds(30));
    let cached = t
        .get_auth("/api/v1/evaluation/city-index/trend?months=3", &admin)
        .await
        .json();
    assert_eq!(cached["months"], again["months"], "kept for a minute");
    t.clock.advance(Duration::seconds(31));
    let fresh = t
        .get_auth("/api/v1/evaluation/city-index/trend?months=3", &admin)
        .await
        .json();
    assert_ne!(
        fresh["months"][1], again["months"][1],
        "recomputed after a minute"
    );
}

async fn who_may_see_evaluations_and_bad_parameters(t: TestApp) {
    the_loop(&t).await;
    let admin = t.token("admin").await;
    let paths = [
        "/api/v1/evaluation/departments",
        "/api/v1/evaluation/regions/cases?subject=441302001&figure=filed",
        "/api/v1/evaluation/city-index",
        "/api/v1/evaluation/city-index/trend",
    ];
    // Citizens and inspectors: 403; nobody: 401.
    for who in ["citizen", "inspector1"] {
        let token = t.token(who).await;
        for p in paths {
            t.get_auth(p, &token).await.assert_error(403, "forbidden");
        }
    }
    for p in paths {
        t.get(p).await.assert_error(401, "unauthenticated");
    }
    // A department's handler sees its own department's cases.
    let handler = t.token("handler").await;
    let e = evaluation(&t, &handler, "departments").await;
    follow_every_figure(&t, &handler, &e).await;

    for (uri, status, code) in [
        ("/api/v1/evaluation/nope", 400, "bad_request"),
        (
            "/api/v1/evaluation/nope/cases?subject=1&figure=filed",
            400,
            "bad_request",
        ),
        (
            "/api/v1/evaluation/departments?from=2026-13-01",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments?from=2026-11-1",
            400,
            "invalid_query",
        ),
        ("/api/v1/evaluation/departments?to=", 400, "invalid_query"),
        (
            "/api/v1/evaluation/departments?from=0000-01-01",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/regions?level=city",
            400,
            "invalid_query",
        ),
        ("/api/v1/evaluation/regions?level=", 400, "invalid_query"),
        (
            "/api/v1/evaluation/departments?page=0",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments?page_size=1001",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments?from=2026-11-30&to=2026-11-01",
            422,
            "invalid_value",
        ),
        (
            "/api/v1/evaluation/departments?from=2025-01-01&to=2026-11-01",
            422,
            "invalid_value",
        ),
        (
            "/api/v1/evaluation/departments/cases?figure=filed",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments/cases?subject=1",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments/cases?subject=x1&figure=filed",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments/cases?subject=1&figure=nope",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/departments/cases?subject=1&figure=dispatched_on_time",
            422,
            "invalid_value",
        ),
        (
            "/api/v1/evaluation/city-index?from=2026-11-30&to=2026-11-01",
            422,
            "invalid_value",
        ),
        (
            "/api/v1/evaluation/city-index?to=20261101",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/city-index/trend?months=0",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/city-index/trend?months=37",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/evaluation/city-index/trend?months=x",
            400,
            "invalid_query",
        ),
    ] {
        let a = t.get_auth(uri, &admin).await;
        assert_eq!(a.status.as_u16(), status, "{uri}: {}", a.text());
        a.assert_error(status, code);
    }
    // The longest period (367 days) and the calendar's extremes are answered.
    for uri in [
        "/api/v1/evaluation/departments?from=2025-11-01&to=2026-11-02",
        "/api/v1/evaluation/regions?from=0001-01-01&to=0001-01-31&level=grid",
        "/api/v1/evaluation/operators?from=9999-12-01&to=9999-12-31",
        "/api/v1/evaluation/regions/cases?from=9999-12-31&to=9999-12-31&subject=441302&figure=filed&level=district",
        "/api/v1/evaluation/departments/cases?subject=999999999999999999&figure=filed",
        "/api/v1/evaluation/city-index/trend?months=36",
    ] {
        let a = t.get_auth(uri, &admin).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    }
    // Expensive: a user with as many expensive reads running as allowed gets 429.
    let admin_id = t.user_id(&admin).await;
    let held: Vec<_> = (0..t.state.config.expensive_per_user)
        .map(|_| t.state.try_expensive(admin_id).expect("a place"))
        .collect();
    for p in paths {
        let a = t.get_auth(p, &admin).await;
        a.assert_error(429, "too_many_concurrent");
        assert_eq!(a.header("retry-after"), Some("1"));
    }
    drop(held);
    assert_eq!(t.get_auth(paths[0], &admin).await.status, StatusCode::OK);
}

#[test]
fn the_document_declares_the_evaluation_operations_exactly() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    let op = &doc["paths"]["/api/v1/evaluation/{kind}"]["get"];
    for s in ["200", "400", "401", "403", "422", "429"] {
        assert!(op["responses"][s].is_object(), "{s}");
    }
    let params = op["parameters"].as_array().unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let kinds = &doc["components"]["schemas"]["EvaluationKindName"]["enum"];
    assert_eq!(
        kinds,
        &json!([
            "departments",
            "regions",
            "inspectors",
            "operators",
            "supervisors",
            "dispatchers"
        ])
    );
    assert_eq!(
        doc["components"]["schemas"]["EvaluationLevelName"]["enum"],
        json!(["grid", "community", "street", "district"])
    );
    assert_eq!(param("from")["schema"]["format"], "date");
    assert_eq!(param("to")["schema"]["format"], "date");
    let drill = &doc["paths"]["/api/v1/evaluation/{kind}/cases"]["get"];
    let subject = drill["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "subject")
        .unwrap();
    assert_eq!(subject["required"], true);
    assert_eq!(subject["schema"]["pattern"], "^[0-9]{1,18}$");
    let trend = &doc["paths"]["/api/v1/evaluation/city-index/trend"]["get"];
    let months = &trend["parameters"][0]["schema"];
    assert_eq!(
        (months["minimum"].as_u64(), months["maximum"].as_u64()),
        (Some(1), Some(36))
    );
    assert!(doc["paths"]["/api/v1/evaluation/city-index"]["get"]["responses"]["422"].is_object());
    let grades = &doc["components"]["schemas"]["GradeName"]["enum"];
    assert_eq!(grades, &json!(["A", "B", "C", "D", "E"]));
}

/// The evaluation keeps a period's cases between requests (checked against the store's day
/// fingerprints): after every kind of write — a report, actions, a case of another day — what it
/// uses equals a full read of the store, for a city-wide and a district's visibility.
async fn kept_periods_equal_a_full_read(t: TestApp) {
    let ids = the_loop(&t).await;
    let admin = t
        .state
        .store
        .credentials("admin")
        .await
        .unwrap()
        .expect("admin")
        .user;
    let b_leader = t
        .state
        .store
        .credentials("b_leader")
        .await
        .unwrap()
        .expect("b_leader")
        .user;
    // A leader of the whole city (scope 441300): read as "everything", which must be the same
    // cases as the region's filter.
    let mut batch = cityops_store::ImportBatch::default();
    batch.users.push(cityops_store::NewUser {
        username: "city_leader".into(),
        display_name: "市领导".into(),
        password_hash: "x".into(),
        roles: vec![cityops_domain::Role::Leader],
        region_code: Some("441300".into()),
        department_code: None,
        grids: Vec::new(),
    });
    t.state
        .store
        .apply_import(&batch)
        .await
        .expect("a city leader");
    let city_leader = t
        .state
        .store
        .credentials("city_leader")
        .await
        .unwrap()
        .expect("city_leader")
        .user;
    let month = cityops_app::evaluation::Period::month_of(t.state.app.today());
    let check = |label: &'static str| {
        let t = &t;
        let (admin, b_leader, city_leader) = (&admin, &b_leader, &city_leader);
        async move {
            for user in [admin, b_leader, city_leader] {
                let kept = t.state.app.period_cases(user, month).await.unwrap();
                let (from, to) = month.bounds(&t.state.app.calendar().config().tz);
                let full = t
                    .state
                    .store
                    .evaluation_cases(
                        from,
                        to,
                        &cityops_domain::case::CaseVisibility::for_user(user),
                    )
                    .await
                    .unwrap();
                assert_eq!(*kept, full, "{label}: {}", user.username);
            }
        }
    };
    // What the server reads at start: four periods, kept.
    t.state.app.warm_evaluation().await.expect("warm");
    assert_eq!(t.state.app.kept_evaluation_periods(), 4);
    check("first read").await;
    check("nothing changed").await;
    let handler = t.token("handler").await;
    let photo = t.upload(&handler, 9).await;
    t.act_ok(&handler, ids[1], "handle", json!({"attachments": [photo]}))
        .await;
    check("a case handled").await;
    let b_intake = t.token("b_intake").await;
    hotline(&t, &b_intake, B_PT).await;
    check("a new report in district B").await;
    // A case of another day of the month.
    t.clock.advance(Duration::days(1));
    let intake = t.token("intake").await;
    let next_day = hotline(&t, &intake, A_NW).await;
    let supervisor = t.token("supervisor").await;
    t.act_ok(&supervisor, next_day, "file", json!({"filing_seq": 1}))
        .await;
    check("a case of the next day").await;
}
