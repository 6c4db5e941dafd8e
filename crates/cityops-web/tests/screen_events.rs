//! The big screen's event stream, `GET /screen/events` (server-sent events of durable case
//! changes): a report arrives on the stream of a leader who may see it, without personal data;
//! a leader of another district hears only of their district; roles without dashboards get 403,
//! no session 401.
mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use common::cases::{A_NW, B_PT, at};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A hang guard only (the events arrive as soon as the report is stored): never a timing check.
const GUARD: Duration = Duration::from_secs(30);

struct Stream {
    body: Body,
    buf: String,
}

impl Stream {
    async fn open(t: &TestApp, token: &str) -> Stream {
        let resp = t
            .app
            .clone()
            .oneshot(
                Request::get("/screen/events")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::ACCEPT_ENCODING, "gzip, br")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .expect("infallible");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        assert!(
            resp.headers().get(header::CONTENT_ENCODING).is_none(),
            "an event stream is never compressed (it would be buffered)"
        );
        let mut s = Stream {
            body: resp.into_body(),
            buf: String::new(),
        };
        let (name, _) = s.next().await;
        assert_eq!(name, "ready", "the stream greets first");
        s
    }

    /// The next event (name, data), skipping keep-alive comments.
    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if block.lines().all(|l| l.starts_with(':') || l.is_empty()) {
                    continue;
                }
                return (name, data);
            }
            let frame = tokio::time::timeout(GUARD, self.body.frame())
                .await
                .expect("an event within the guard")
                .expect("the stream is open")
                .expect("a frame");
            if let Ok(bytes) = frame.into_data() {
                self.buf
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
            }
        }
    }

    /// The next `change` event as JSON.
    async fn change(&mut self) -> Value {
        loop {
            let (name, data) = self.next().await;
            if name == "change" {
                return serde_json::from_str(&data).expect("JSON change");
            }
        }
    }
}

async fn report_arrives_on_the_stream(t: TestApp) {
    let leader = t.token("leader").await;
    let b_leader = t.token("b_leader").await;
    let intake = t.token("intake").await;
    let b_intake = t.token("b_intake").await;
    let mut city_a = Stream::open(&t, &leader).await;
    let mut city_b = Stream::open(&t, &b_leader).await;

    let a = t
        .report(
            &intake,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001", "contact": "王先生 13800000000", "description": "井盖破损 王先生家门口"}),
            ),
        )
        .await;
    let ch = city_a.change().await;
    assert_eq!(ch["id"], a["id"]);
    assert_eq!(ch["code"], a["code"]);
    assert_eq!(ch["action"], "report");
    assert_eq!(ch["status"], "reported");
    assert_eq!(ch["light"], "green");
    assert_eq!(ch["category_code"], "01001");
    assert_eq!(ch["district_code"], a["location"]["district_code"]);
    let keys: Vec<&str> = ch.as_object().unwrap().keys().map(String::as_str).collect();
    for private in [
        "contact",
        "description",
        "address",
        "reporter_id",
        "assignee_id",
    ] {
        assert!(!keys.contains(&private), "{private} must not be sent: {ch}");
    }
    assert!(!ch.to_string().contains("王先生"), "no personal data: {ch}");

    // An action is announced as well.
    let supervisor = t.token("supervisor").await;
    let id = a["id"].as_i64().unwrap();
    t.act_ok(&supervisor, id, "file", json!({})).await;
    let ch = city_a.change().await;
    assert_eq!(
        (ch["id"].as_i64(), ch["action"].as_str()),
        (Some(id), Some("file"))
    );
    assert_eq!(ch["status"], "filed");

    // District B's leader heard of neither: the first change on their stream is B's report.
    let b = t
        .report(
            &b_intake,
            at(
                B_PT,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await;
    let ch = city_b.change().await;
    assert_eq!(ch["id"], b["id"], "only the visible district's changes");
    // And A's leader does not hear of B's case: the next change they see is A's next one.
    let a2 = t
        .report(
            &intake,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await;
    assert_eq!(city_a.change().await["id"], a2["id"]);
}

async fn dashboard_roles_only(t: TestApp) {
    for user in ["handler", "inspector1", "citizen"] {
        let token = t.token(user).await;
        let a = t.get_auth("/screen/events", &token).await;
        a.assert_error(403, "forbidden");
    }
    let a = t.get("/screen/events").await;
    a.assert_error(401, "unauthenticated");
}

on_both_stores!(report_arrives_on_the_stream, dashboard_roles_only);
