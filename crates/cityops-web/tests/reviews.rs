//! Third-party review over HTTP (第三方评价, issue 11), on SQLite and PostgreSQL: a leader draws
//! last month's sample once it is over (again changes nothing), a reviewer of the district reads
//! the sampled (closed) cases — and no open one —, scores one with a comment and a photo, once;
//! the scores show it per department; every role but the right ones gets 403. And the API
//! document declares every status of the four operations.
mod common;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::TestApp;
use common::cases::{A_NW, at};
use serde_json::{Value, json};

on_both_stores!(reviewers_score_a_drawn_sample, review_refusals);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Reports at a grid of inspector1 as intake (a hotline report with the caller's contact).
async fn report(t: &TestApp, text: &str) -> i64 {
    let intake = t.token("intake").await;
    id(&t
        .report(
            &intake,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001",
                       "description": text, "contact": "张三明 13800000000"}),
            ),
        )
        .await)
}

/// Walks a case from reported to closed as the staff of district A (the district's municipal
/// department handles it).
async fn close(t: &TestApp, case: i64) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let inspector = t.token("inspector1").await;
    t.act_ok(
        &supervisor,
        case,
        "file",
        json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1}),
    )
    .await;
    t.act_ok(&dispatcher, case, "dispatch", json!({})).await;
    t.act_ok(&handler, case, "sign", json!({})).await;
    let photo = t.upload(&handler, 100 + (case % 100) as u8).await;
    t.act_ok(
        &handler,
        case,
        "handle",
        json!({"comment": "已修复", "attachments": [photo]}),
    )
    .await;
    t.act_ok(&intake, case, "send_check", json!({})).await;
    t.act_ok(&inspector, case, "check_pass", json!({})).await;
    let v = t.act_ok(&supervisor, case, "close", json!({})).await;
    assert_eq!(v["status"], "closed");
}

/// 1 December 2026, 10:00 in Asia/Shanghai: November (the tests' month) is over.
fn december() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).single().unwrap()
}

/// Three cases closed in November in district A, one still open; returns (closed, open).
async fn november(t: &TestApp) -> (Vec<i64>, i64) {
    let mut closed = Vec::new();
    for i in 0..3 {
        let c = report(t, &format!("井盖破损 {i}")).await;
        close(t, c).await;
        closed.push(c);
    }
    let open = report(t, "井盖缺失").await;
    (closed, open)
}

async fn reviewers_score_a_drawn_sample(t: TestApp) {
    let (closed, open) = november(&t).await;
    let leader = t.token("leader").await;
    let reviewer = t.token("reviewer").await;
    let admin = t.token("admin").await;

    // Not before the month is over.
    t.post_empty(
        "/api/v1/reviews/samples?from=2026-11-01&to=2026-11-30",
        &leader,
    )
    .await
    .assert_error(422, "invalid_value");
    t.clock.set(december());

    // The default period is last month (local), drawn for every department; again changes
    // nothing.
    let a = t.post_empty("/api/v1/reviews/samples", &leader).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let drawn = a.json();
    assert_eq!(drawn["period"]["from"], "2026-10-31T16:00:00Z");
    assert_eq!(drawn["period"]["to"], "2026-11-30T16:00:00Z");
    assert_eq!(drawn["added"], 3);
    let depts = drawn["departments"].as_array().unwrap();
    assert_eq!(depts.len(), 1, "{drawn}");
    assert_eq!(depts[0]["department_code"], "441302-municipal");
    assert_eq!(depts[0]["closed"], 3);
    let mut sampled: Vec<i64> = depts[0]["case_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    sampled.sort_unstable();
    let mut want = closed.clone();
    want.sort_unstable();
    assert_eq!(sampled, want, "fewer than five closed: all of them");
    let again = t
        .post_empty(
            "/api/v1/reviews/samples?from=2026-11-01&to=2026-11-30",
            &admin,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["added"], 0);
    assert_eq!(again.json()["departments"], drawn["departments"]);

    // The reviewer's tasks: the three sampled cases, none reviewed yet.
    let a = t.get_auth("/api/v1/reviews/tasks", &reviewer).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let tasks = a.json();
    assert_eq!(tasks["total"], 3);
    assert!(
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["review"].is_null() && t["department_name"] == "惠城区市政管理所")
    );
    // The reviewer reads the closed cases (contact masked), never the open one.
    let case = t.case(&reviewer, closed[0]).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text());
    assert_eq!(case.json()["contact"], "张*明 138****0000");
    t.case(&reviewer, open).await.assert_error(404, "not_found");
    let listed = t.get_auth("/api/v1/cases", &reviewer).await.json();
    assert_eq!(listed["total"], 3, "closed cases only");

    // A review with a photo.
    let photo = t.upload(&reviewer, 31).await;
    let a = t
        .post_auth(
            &format!("/api/v1/reviews/{}", closed[0]),
            &reviewer,
            &json!({"score": 4, "comment": "井盖已更换，路面平整", "attachment_id": photo}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let review = a.json();
    assert_eq!(review["case_id"], closed[0]);
    assert_eq!(review["score"], 4);
    assert_eq!(review["photo"], photo.as_str());
    assert_eq!(review["period"]["from"], "2026-10-31T16:00:00Z");
    assert_eq!(review["created_at"], "2026-12-01T02:00:00Z");
    // Once per case.
    t.post_auth(
        &format!("/api/v1/reviews/{}", closed[0]),
        &reviewer,
        &json!({"score": 5, "comment": "再评"}),
    )
    .await
    .assert_error(409, "conflict");
    // The leader sees the review's photo (linked to a case they see).
    let a = t
        .get_auth(&format!("/api/v1/attachments/{photo}"), &leader)
        .await;
    assert_eq!(a.status, StatusCode::OK);

    let tasks = t.get_auth("/api/v1/reviews/tasks", &reviewer).await.json();
    let items = tasks["items"].as_array().unwrap();
    assert!(items[0]["review"].is_null() && items[1]["review"].is_null());
    assert_eq!(items[2]["case_id"], closed[0], "reviewed last");
    assert_eq!(items[2]["review"]["score"], 4);
    assert_eq!(items[2]["review"]["photo"], photo.as_str());

    // The scores: per department, last month by default.
    let a = t.get_auth("/api/v1/reviews/scores", &leader).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let scores = a.json();
    let d = &scores["departments"][0];
    assert_eq!(d["department_code"], "441302-municipal");
    assert_eq!(
        (&d["sampled"], &d["reviewed"], &d["score_sum"], &d["mean"]),
        (&json!(3), &json!(1), &json!(4), &json!(4.0))
    );
    let same = t
        .get_auth(
            "/api/v1/reviews/scores?from=2026-11-01&to=2026-11-30",
            &admin,
        )
        .await
        .json();
    assert_eq!(same["departments"], scores["departments"]);
    // A leader of district B sees the departments of district B: none sampled.
    let b = t
        .get_auth("/api/v1/reviews/scores", &t.token("b_leader").await)
        .await
        .json();
    assert_eq!(b["departments"], json!([]));

    // Every other role: 403.
    for who in ["intake", "handler", "citizen", "a_inspector"] {
        let token = t.token(who).await;
        t.get_auth("/api/v1/reviews/tasks", &token)
            .await
            .assert_error(403, "forbidden");
        t.post_auth(
            &format!("/api/v1/reviews/{}", closed[1]),
            &token,
            &json!({"score": 3, "comment": "x"}),
        )
        .await
        .assert_error(403, "forbidden");
        t.post_empty("/api/v1/reviews/samples", &token)
            .await
            .assert_error(403, "forbidden");
        t.get_auth("/api/v1/reviews/scores", &token)
            .await
            .assert_error(403, "forbidden");
    }
    // Leaders draw and read scores but do not review; reviewers the reverse.
    t.get_auth("/api/v1/reviews/tasks", &leader)
        .await
        .assert_error(403, "forbidden");
    t.post_auth(
        &format!("/api/v1/reviews/{}", closed[1]),
        &leader,
        &json!({"score": 3, "comment": "x"}),
    )
    .await
    .assert_error(403, "forbidden");
    t.get_auth("/api/v1/reviews/scores", &reviewer)
        .await
        .assert_error(403, "forbidden");
    t.post_empty("/api/v1/reviews/samples", &reviewer)
        .await
        .assert_error(403, "forbidden");
}

async fn review_refusals(t: TestApp) {
    let (closed, open) = november(&t).await;
    t.clock.set(december());
    let leader = t.token("leader").await;
    let reviewer = t.token("reviewer").await;
    let a = t.post_empty("/api/v1/reviews/samples", &leader).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let post = |case: i64, body: Value| {
        let (t, reviewer) = (&t, reviewer.clone());
        async move {
            t.post_auth(&format!("/api/v1/reviews/{case}"), &reviewer, &body)
                .await
        }
    };
    // Scores outside 1–5, fractions, a blank comment, a long one, unknown fields.
    for (body, code) in [
        (json!({"score": 0, "comment": "差"}), "invalid_value"),
        (json!({"score": 6, "comment": "好"}), "invalid_value"),
        (json!({"score": 3.5, "comment": "好"}), "invalid_value"),
        (json!({"score": 3, "comment": "  "}), "invalid_value"),
        (json!({"score": 3}), "invalid_value"),
        (
            json!({"score": 3, "comment": "好".repeat(1001)}),
            "too_long",
        ),
        (
            json!({"score": 3, "comment": "好", "stars": 3}),
            "invalid_value",
        ),
        (
            json!({"score": 3, "comment": "好", "attachment_id": "0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07"}),
            "invalid_value",
        ),
    ] {
        post(closed[0], body.clone()).await.assert_error(422, code);
    }
    // A score written as 4.0 is the score 4.
    let a = post(closed[0], json!({"score": 4.0, "comment": "好"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    // Someone else's photo, and one already on a case.
    let handler_photo = t.upload(&t.token("handler").await, 41).await;
    post(
        closed[1],
        json!({"score": 3, "comment": "好", "attachment_id": handler_photo}),
    )
    .await
    .assert_error(422, "invalid_value");
    let mine = t.upload(&reviewer, 42).await;
    let a = post(
        closed[1],
        json!({"score": 3, "comment": "好", "attachment_id": mine}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    post(
        closed[2],
        json!({"score": 3, "comment": "好", "attachment_id": mine}),
    )
    .await
    .assert_error(422, "invalid_value");
    // Not in a sample (open, unknown).
    post(open, json!({"score": 3, "comment": "好"}))
        .await
        .assert_error(404, "not_found");
    post(999_999, json!({"score": 3, "comment": "好"}))
        .await
        .assert_error(404, "not_found");
    let a_reviewer = t.token("a_reviewer").await;
    assert_eq!(
        t.get_auth("/api/v1/reviews/tasks", &a_reviewer)
            .await
            .json()["total"],
        3,
        "another reviewer of district A shares the tasks"
    );
    // Periods: malformed (400); inverted or longer than a year (422).
    for (q, status, code) in [
        ("?from=2026-11-31&to=2026-12-01", 400, "invalid_query"),
        ("?from=yesterday&to=2026-11-30", 400, "invalid_query"),
        ("?from=2026-11-30&to=2026-11-01", 422, "invalid_value"),
        ("?from=2025-01-01&to=2026-11-30", 422, "invalid_value"),
    ] {
        t.get_auth(&format!("/api/v1/reviews/scores{q}"), &leader)
            .await
            .assert_error(status, code);
        t.post_empty(&format!("/api/v1/reviews/samples{q}"), &leader)
            .await
            .assert_error(status, code);
    }
    // One bound alone: the month from it, or up to it.
    let scores = |q: &'static str| {
        let t = &t;
        let leader = &leader;
        async move {
            let a = t
                .get_auth(&format!("/api/v1/reviews/scores{q}"), leader)
                .await;
            assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.text());
            a.json()["period"].clone()
        }
    };
    assert_eq!(
        scores("?to=2026-10-31").await,
        scores("?from=2026-10-01&to=2026-10-31").await
    );
    assert_eq!(
        scores("?from=2026-10-01").await,
        scores("?from=2026-10-01&to=2026-10-31").await
    );
}

#[test]
fn the_review_api_is_documented() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    let statuses = |method: &str, path: &str| -> Vec<String> {
        let mut s: Vec<String> = doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        statuses("post", "/api/v1/reviews/samples"),
        ["200", "400", "401", "403", "422"]
    );
    assert_eq!(
        statuses("get", "/api/v1/reviews/tasks"),
        ["200", "400", "401", "403"]
    );
    assert_eq!(
        statuses("get", "/api/v1/reviews/scores"),
        ["200", "400", "401", "403", "422"]
    );
    assert_eq!(
        statuses("post", "/api/v1/reviews/{case_id}"),
        [
            "201", "400", "401", "403", "404", "409", "413", "415", "422"
        ]
    );
    let body = &doc["components"]["schemas"]["ReviewBody"]["properties"];
    assert_eq!(body["score"]["minimum"], 1);
    assert_eq!(body["score"]["maximum"], 5);
    assert_eq!(body["comment"]["maxLength"], 1000);
    assert_eq!(body["comment"]["minLength"], 1);
    assert_eq!(
        doc["components"]["schemas"]["ReviewBody"]["required"],
        json!(["score", "comment"])
    );
}
