//! `GET /api/v1/audit/verify` resumes from the last verified link (the audit checkpoint) and
//! `?full=true` re-checks every event, on SQLite and (when a server answers) PostgreSQL. Edits
//! are made behind the store's back with raw SQL.
// The shared test module re-exports more than this file uses.
#[allow(unused_imports)]
mod common;

use common::TestApp;
use common::cases::{A_NW, A_SE, at};
use serde_json::{Value, json};

on_both_stores!(
    verification_resumes_from_the_checkpoint,
    an_edit_after_the_checkpoint_is_found,
    an_edit_before_the_checkpoint_needs_full,
    an_edit_of_the_checkpoint_event_is_found,
    a_cut_chain_is_found,
);

/// A hotline report (by `intake`) of component 01001 at `p`; returns the case id.
async fn hotline(t: &TestApp, intake: &str, p: (f64, f64)) -> i64 {
    let v = t
        .report(
            intake,
            at(
                p,
                json!({"category_kind": "component", "category_code": "01001", "contact": "王先生 13800000000"}),
            ),
        )
        .await;
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn verify(t: &TestApp, query: &str) -> Value {
    let leader = t.token("leader").await;
    let a = t
        .get_auth(&format!("/api/v1/audit/verify{query}"), &leader)
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text());
    a.json()
}

/// Four events: two reports, a filing and a cancellation (seq 1 report, 2 file, 3 report,
/// 4 cancel); returns the two case ids.
async fn four_events(t: &TestApp) -> (i64, i64) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let a = hotline(t, &intake, A_NW).await;
    t.act_ok(&supervisor, a, "file", json!({"comment": "立案"}))
        .await;
    let b = hotline(t, &intake, A_SE).await;
    t.act_ok(&supervisor, b, "cancel", json!({"reason": "重复"}))
        .await;
    (a, b)
}

async fn checkpoint_seq(t: &TestApp) -> Option<i64> {
    t.state
        .store
        .audit_checkpoint()
        .await
        .expect("audit_checkpoint")
        .map(|cp| cp.seq)
}

fn assert_intact(v: &Value, from_seq: i64, checked: u64, head_seq: i64) {
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["broken"].is_null(), "{v}");
    assert_eq!(v["from_seq"], from_seq, "{v}");
    assert_eq!(v["full"], from_seq == 0, "{v}");
    assert_eq!(v["checked"], checked, "{v}");
    assert_eq!(v["head_seq"], head_seq, "{v}");
}

async fn verification_resumes_from_the_checkpoint(t: TestApp) {
    assert_intact(&verify(&t, "").await, 0, 0, 0);
    assert_eq!(checkpoint_seq(&t).await, None, "an empty chain sets none");

    let (a, _) = four_events(&t).await;
    let first = verify(&t, "").await;
    assert_intact(&first, 0, 4, 4);
    assert_eq!(checkpoint_seq(&t).await, Some(4));

    // One new event: only it is checked, from the checkpoint's link.
    let dispatcher = t.token("dispatcher").await;
    t.act_ok(&dispatcher, a, "dispatch", json!({})).await;
    let v = verify(&t, "").await;
    assert_intact(&v, 4, 1, 5);
    assert_ne!(v["head_hash"], first["head_hash"]);
    assert_eq!(checkpoint_seq(&t).await, Some(5));
    assert_intact(&verify(&t, "").await, 5, 0, 5);

    // full=true checks everything again and keeps the checkpoint at the head.
    assert_intact(&verify(&t, "?full=true").await, 0, 5, 5);
    assert_intact(&verify(&t, "?full=false").await, 5, 0, 5);
    assert_eq!(checkpoint_seq(&t).await, Some(5));

    let leader = t.token("leader").await;
    t.get_auth("/api/v1/audit/verify?full=yes", &leader)
        .await
        .assert_error(400, "invalid_query");
}

async fn an_edit_after_the_checkpoint_is_found(t: TestApp) {
    let (a, _) = four_events(&t).await;
    assert_intact(&verify(&t, "").await, 0, 4, 4);
    let dispatcher = t.token("dispatcher").await;
    t.act_ok(&dispatcher, a, "dispatch", json!({"comment": "派遣"}))
        .await;
    let sql = t.sql.clone().expect("raw SQL");
    assert_eq!(
        sql.execute("UPDATE case_events SET comment = '未派遣' WHERE seq = 5")
            .await,
        1
    );
    let v = verify(&t, "").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["from_seq"], 4);
    assert_eq!(v["full"], false);
    assert_eq!(v["broken"]["seq"], 5, "{v}");
    assert_eq!(v["checked"], 0);
    assert_eq!(v["head_seq"], 4);
    assert_eq!(
        checkpoint_seq(&t).await,
        Some(4),
        "a broken chain moves nothing"
    );
}

async fn an_edit_before_the_checkpoint_needs_full(t: TestApp) {
    four_events(&t).await;
    assert_intact(&verify(&t, "").await, 0, 4, 4);
    let sql = t.sql.clone().expect("raw SQL");
    assert_eq!(
        sql.execute("UPDATE case_events SET comment = '未立案' WHERE seq = 2")
            .await,
        1
    );
    // The incremental check starts after seq 4: it cannot see the edit.
    assert_intact(&verify(&t, "").await, 4, 0, 4);
    let v = verify(&t, "?full=true").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["full"], true);
    assert_eq!(v["from_seq"], 0);
    assert_eq!(v["broken"]["seq"], 2, "{v}");
    assert!(
        v["broken"]["reason"].as_str().unwrap().contains("hash"),
        "{v}"
    );
    assert_eq!(v["checked"], 1);
    assert_eq!(v["head_seq"], 1);
    assert_eq!(checkpoint_seq(&t).await, Some(4));
}

async fn an_edit_of_the_checkpoint_event_is_found(t: TestApp) {
    four_events(&t).await;
    assert_intact(&verify(&t, "").await, 0, 4, 4);
    let sql = t.sql.clone().expect("raw SQL");
    assert_eq!(
        sql.execute("UPDATE case_events SET comment = '未取消' WHERE seq = 4")
            .await,
        1
    );
    // The checkpoint's own link changed: the whole chain is checked to find the break.
    let v = verify(&t, "").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["full"], true, "{v}");
    assert_eq!(v["broken"]["seq"], 4, "{v}");
    assert_eq!(v["checked"], 3);
    assert_eq!(v["head_seq"], 3);
}

async fn a_cut_chain_is_found(t: TestApp) {
    four_events(&t).await;
    assert_intact(&verify(&t, "").await, 0, 4, 4);
    // The last event is deleted: the chain before it still links, but the verified link is gone.
    let sql = t.sql.clone().expect("raw SQL");
    assert_eq!(
        sql.execute("DELETE FROM case_events WHERE seq = 4").await,
        1
    );
    let v = verify(&t, "").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["seq"], 4, "{v}");
    assert!(
        v["broken"]["reason"].as_str().unwrap().contains("missing"),
        "{v}"
    );
    assert_eq!(v["checked"], 3);
    assert_eq!(v["head_seq"], 3);
    assert_eq!(checkpoint_seq(&t).await, Some(4));
}

#[test]
fn the_full_parameter_is_documented() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).expect("OpenAPI JSON");
    let op = &doc["paths"]["/api/v1/audit/verify"]["get"];
    let params = op["parameters"].as_array().expect("parameters");
    let full = params
        .iter()
        .find(|p| p["name"] == "full")
        .expect("the full parameter");
    assert_eq!(full["in"], "query");
    let schema = &doc["components"]["schemas"]["AuditVerifyView"]["properties"];
    assert!(
        schema.get("from_seq").is_some() && schema.get("full").is_some(),
        "{schema}"
    );
}
