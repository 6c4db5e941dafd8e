//! The case list's text search over HTTP (issue 9: "a `q=` search costs 0.45 s and 20 at once
//! from one inspector slow `/healthz`"): indexed on both stores, short Chinese queries included,
//! and at most `expensive_per_user` searches and counts of one user at once — more answer 429
//! `too_many_concurrent` with `Retry-After: 1` at once, other users and cheap requests unaffected.
#[allow(unused_imports)]
mod common;

use axum::http::StatusCode;
use common::TestApp;
use common::cases::{A_NW, A_SE, at};
use serde_json::json;

on_both_stores!(
    text_search_finds_two_chinese_characters,
    a_user_gets_a_few_expensive_requests_at_once,
);

async fn total(t: &TestApp, token: &str, uri: &str) -> u64 {
    let a = t.get_auth(uri, token).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    a.json()["total"].as_u64().unwrap()
}

async fn text_search_finds_two_chinese_characters(t: TestApp) {
    let citizen = t.token("citizen").await;
    let admin = t.token("admin").await;
    for (p, d) in [
        (A_NW, "井盖破损"),
        (A_SE, "路面有坑，疑似井盖"),
        (A_SE, "路灯不亮"),
    ] {
        t.report(&citizen, at(p, json!({"description": d}))).await;
    }
    let q = |s: &str| format!("/api/v1/cases?q={}", urlencode(s));
    assert_eq!(total(&t, &admin, &q("井盖")).await, 2);
    assert_eq!(total(&t, &admin, &q("井")).await, 2);
    assert_eq!(total(&t, &admin, &q("疑似井盖")).await, 1);
    assert_eq!(total(&t, &admin, &q("路")).await, 2);
    assert_eq!(total(&t, &admin, &q("不存在")).await, 0);
    let stats = t
        .get_auth(
            &format!("/api/v1/cases/stats?q={}", urlencode("井盖")),
            &admin,
        )
        .await;
    assert_eq!(stats.json()["total"], 2);
    // Longer than the limit: refused before any search.
    let a = t.get_auth(&q(&"井".repeat(201)), &admin).await;
    a.assert_error(400, "invalid_query");
}

async fn a_user_gets_a_few_expensive_requests_at_once(t: TestApp) {
    let inspector = t.token("inspector1").await;
    let other = t.token("a_inspector").await;
    let inspector_id = t.user_id(&inspector).await;
    let search = format!("/api/v1/cases?q={}", urlencode("井盖"));
    assert_eq!(total(&t, &inspector, &search).await, 0);
    // Two searches of this inspector are running (held here instead of slow requests).
    assert_eq!(t.state.config.expensive_per_user, 2);
    let first = t.state.try_expensive(inspector_id).expect("first place");
    let second = t.state.try_expensive(inspector_id).expect("second place");
    for uri in [search.as_str(), "/api/v1/cases/stats"] {
        let a = t.get_auth(uri, &inspector).await;
        a.assert_error(429, "too_many_concurrent");
        assert_eq!(a.header("retry-after"), Some("1"), "{uri}");
    }
    // A plain list page is cheap and not limited; another user searches as usual.
    assert_eq!(total(&t, &inspector, "/api/v1/cases").await, 0);
    assert_eq!(total(&t, &other, &search).await, 0);
    // A place comes back when a search ends.
    drop(first);
    assert_eq!(total(&t, &inspector, &search).await, 0);
    drop(second);
    assert!(t.state.try_expensive(inspector_id).is_some());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
