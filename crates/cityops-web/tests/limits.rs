//! Limits (issue 9, finding "no length limits on case text and no rate limit on reports"): a
//! citizen posted a description, contact and address of 1,000,000 characters each (201) and 30
//! reports in a row (30 × 201). Now each text field has a limit in characters (422 `too_long`,
//! nothing written) and reports are rate-limited per account and, for citizens, per address
//! (429 `rate_limited` with `Retry-After`), on SQLite and PostgreSQL.
#[allow(unused_imports)]
mod common;

use axum::http::StatusCode;
use common::TestApp;
use common::cases::{A_NW, A_SE, at};
use serde_json::json;

on_both_stores!(
    a_megabyte_of_text_is_refused_and_nothing_written,
    texts_at_their_limits_are_taken,
    long_action_texts_are_refused,
    a_citizen_is_rate_limited_others_are_not,
    reports_without_limits_when_configured_off with cityops_web::WebConfig {
        report_limits: cityops_app::ReportLimits::off(),
        ..cityops_web::WebConfig::default()
    },
);

/// Cases the administrator can see.
async fn case_count(t: &TestApp) -> u64 {
    let admin = t.token("admin").await;
    let a = t.get_auth("/api/v1/cases", &admin).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["total"].as_u64().unwrap()
}

async fn a_megabyte_of_text_is_refused_and_nothing_written(t: TestApp) {
    let citizen = t.token("citizen").await;
    let before = case_count(&t).await;
    let big = "a".repeat(1_000_000);
    for (field, body) in [
        ("description", json!({"description": big})),
        (
            "address",
            json!({"description": "井盖破损", "address": big}),
        ),
        (
            "contact",
            json!({"description": "井盖破损", "contact": big}),
        ),
    ] {
        let a = t
            .post_auth("/api/v1/cases", &citizen, &at(A_NW, body))
            .await;
        a.assert_error(422, "too_long");
        let message = a.json()["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with(&format!("{field} is too long: 1000000 characters")),
            "{message}"
        );
    }
    assert_eq!(case_count(&t).await, before, "nothing was written");
    // Characters, not bytes: 2,001 Chinese characters (6,003 bytes) are one too many.
    let a = t
        .post_auth(
            "/api/v1/cases",
            &citizen,
            &at(A_NW, json!({"description": "井".repeat(2_001)})),
        )
        .await;
    a.assert_error(422, "too_long");
    assert_eq!(case_count(&t).await, before);
}

async fn texts_at_their_limits_are_taken(t: TestApp) {
    let citizen = t.token("citizen").await;
    let case = t
        .report(
            &citizen,
            at(
                A_SE,
                json!({
                    "description": "井".repeat(2_000),
                    "address": "路".repeat(200),
                    "contact": "王".repeat(128),
                }),
            ),
        )
        .await;
    assert_eq!(case["description"].as_str().unwrap().chars().count(), 2_000);
}

async fn long_action_texts_are_refused(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let case = t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    let a = t
        .act(
            &supervisor,
            id,
            "supervise",
            json!({"comment": "快".repeat(1_001)}),
        )
        .await;
    a.assert_error(422, "too_long");
    assert!(a.text().contains("comment is too long"), "{}", a.text());
    let a = t
        .act(
            &supervisor,
            id,
            "cancel",
            json!({"reason": "x".repeat(1_001)}),
        )
        .await;
    a.assert_error(422, "too_long");
    // Nothing happened to the case.
    let after = t.case(&supervisor, id).await.json();
    assert_eq!(after["version"], case["version"]);
    assert_eq!(after["supervised"], false);
    t.act_ok(
        &supervisor,
        id,
        "supervise",
        json!({"comment": "快".repeat(1_000)}),
    )
    .await;
}

async fn a_citizen_is_rate_limited_others_are_not(t: TestApp) {
    let citizen = t.token("citizen").await;
    let other = t.token("citizen2").await;
    let intake = t.token("intake").await;
    let mut created = 0;
    let mut limited = None;
    for i in 0..30 {
        let body = at(A_NW, json!({"description": format!("第{i}次上报")}));
        let a = t.post_auth("/api/v1/cases", &citizen, &body).await;
        match a.status {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                a.assert_error(429, "rate_limited");
                let retry: u64 = a.header("retry-after").unwrap().parse().unwrap();
                limited.get_or_insert((i, retry));
            }
            s => panic!("report {i}: {s} {}", a.text()),
        }
    }
    // A burst of 10 (the citizens' default quota per minute), then one every 6 s.
    assert_eq!(created, 10);
    assert_eq!(limited, Some((10, 6)));
    // Another citizen and a staff member report as usual meanwhile.
    t.report(&other, at(A_NW, json!({"description": "另一位市民"})))
        .await;
    t.report(
        &intake,
        at(
            A_SE,
            json!({"category_kind": "component", "category_code": "01001"}),
        ),
    )
    .await;
    // The quota comes back with the (injected) clock: one more report after 6 s.
    t.clock.advance(chrono::Duration::seconds(6));
    t.report(&citizen, at(A_NW, json!({"description": "六秒以后"})))
        .await;
    let a = t
        .post_auth(
            "/api/v1/cases",
            &citizen,
            &at(A_NW, json!({"description": "again"})),
        )
        .await;
    a.assert_error(429, "rate_limited");
}

async fn reports_without_limits_when_configured_off(t: TestApp) {
    let citizen = t.token("citizen").await;
    for i in 0..30 {
        t.report(
            &citizen,
            at(A_NW, json!({"description": format!("第{i}次")})),
        )
        .await;
    }
}
