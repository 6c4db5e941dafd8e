//! The scope matrix (数据权限): users of every role scoped to district A (and the department
//! roles also with a district-A department) against cases in district B, on every case endpoint.
//! A foreign case must be invisible — 404 on detail, events, every action and its photos; absent
//! from lists (with any filter) and inboxes; not counted. Users of district B see the same cases
//! (so the 404s cannot come from a broken endpoint).
mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use cityops_domain::Role;
use cityops_domain::case::CaseAction;
use common::TestApp;
use common::cases::{A_NW, B_PT, DEPARTMENT_ROLES, at};
use serde_json::{Value, json};

on_both_stores!(foreign_district_cases_are_invisible_to_every_role);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Cases in district B in many states, with a photo on one; returns (case ids, photo's public id).
async fn district_b_cases(t: &TestApp) -> (Vec<i64>, String) {
    let citizen = t.token("b_citizen").await;
    let intake = t.token("b_intake").await;
    let supervisor = t.token("b_supervisor").await;
    let dispatcher = t.token("b_dispatcher").await;
    let handler = t.token("b_handler").await;
    let inspector = t.token("b_inspector").await;
    let body = || {
        at(
            B_PT,
            json!({"category_kind": "component", "category_code": "01001", "description": "惠阳区井盖"}),
        )
    };
    let mut ids = Vec::new();

    // reported (citizen), verifying
    let reported = id(&t
        .report(&citizen, at(B_PT, json!({"description": "惠阳区问题"})))
        .await);
    ids.push(reported);
    let verifying = id(&t.report(&intake, body()).await);
    let v = t.act_ok(&intake, verifying, "send_verify", json!({})).await;
    assert_eq!(v["status"], "verifying");
    ids.push(verifying);
    // filed, dispatched, handling
    let mut at_stage = Vec::new();
    for _ in 0..4 {
        let c = id(&t.report(&intake, body()).await);
        t.act_ok(&supervisor, c, "file", json!({})).await;
        at_stage.push(c);
    }
    ids.push(at_stage[0]);
    for &c in &at_stage[1..] {
        let v = t.act_ok(&dispatcher, c, "dispatch", json!({})).await;
        assert_eq!(v["department_name"], "惠阳区市政管理所");
    }
    ids.push(at_stage[1]);
    for &c in &at_stage[2..] {
        t.act_ok(&handler, c, "sign", json!({})).await;
    }
    ids.push(at_stage[2]);
    // handled with a photo, then checked and closed
    let closed = at_stage[3];
    let photo = t.upload(&handler, 42).await;
    t.act_ok(&handler, closed, "handle", json!({"attachments": [photo]}))
        .await;
    t.act_ok(&intake, closed, "send_check", json!({})).await;
    t.act_ok(&inspector, closed, "check_pass", json!({})).await;
    let v = t.act_ok(&supervisor, closed, "close", json!({})).await;
    assert_eq!(v["status"], "closed");
    ids.push(closed);
    // supervised
    let supervised = id(&t.report(&intake, body()).await);
    t.act_ok(
        &t.token("b_leader").await,
        supervised,
        "supervise",
        json!({"comment": "督办"}),
    )
    .await;
    ids.push(supervised);
    (ids, photo)
}

fn item_ids(v: &Value) -> BTreeSet<i64> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn foreign_district_cases_are_invisible_to_every_role(t: TestApp) {
    let (foreign, photo) = district_b_cases(&t).await;
    let foreign_set: BTreeSet<i64> = foreign.iter().copied().collect();
    let codes: Vec<String> = {
        let d = t.token("b_dispatcher").await;
        let mut codes = Vec::new();
        for &c in &foreign {
            let a = t.case(&d, c).await;
            assert_eq!(a.status, StatusCode::OK, "district B sees its case {c}");
            codes.push(a.json()["code"].as_str().unwrap().to_string());
            let e = t.get_auth(&format!("/api/v1/cases/{c}/events"), &d).await;
            assert_eq!(e.status, StatusCode::OK);
        }
        let list = t.get_auth("/api/v1/cases?page_size=1000", &d).await.json();
        assert_eq!(item_ids(&list), foreign_set, "district B lists its cases");
        let h = t.token("b_handler").await;
        let a = t
            .get_auth(&format!("/api/v1/attachments/{photo}"), &h)
            .await;
        assert_eq!(a.status, StatusCode::OK, "the photo is served in scope");
        codes
    };
    // One case in district A, visible to A's command centre.
    let a_case = id(&t
        .report(
            &t.token("intake").await,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await);
    let a_dispatcher = t.token("a_dispatcher").await;
    assert_eq!(t.case(&a_dispatcher, a_case).await.status, StatusCode::OK);

    let mut users: Vec<String> = Role::ALL
        .iter()
        .map(|r| format!("a_{}", r.as_str()))
        .collect();
    users.extend(
        DEPARTMENT_ROLES
            .iter()
            .map(|r| format!("a_{}_dept", r.as_str())),
    );
    users.push("handler".into());
    users.push("inspector1".into());

    let filters = [
        "",
        "?district=441303",
        "?street=441303001",
        "?community=441303001001",
        "?grid=441303001001001",
        "?bbox=114.44,23.06,114.48,23.10",
        "?status=reported,verifying,filed,dispatched,handling,closed",
        "?category=01001",
        "?category=01",
        "?source=citizen",
        "?source=hotline",
        "?supervised=true",
        "?light=green",
        "?from=2026-11-01&to=2026-12-31",
        "?sort=due_asc",
        "?sort=updated_desc",
        "?q=惠阳",
    ];
    let b_dept = t.department_id("441303-municipal").await;
    for name in &users {
        let token = t.token(name).await;
        for &c in &foreign {
            t.case(&token, c).await.assert_error(404, "not_found");
            t.get_auth(&format!("/api/v1/cases/{c}/events"), &token)
                .await
                .assert_error(404, "not_found");
            for action in CaseAction::ALL {
                let a = t
                    .act(
                        &token,
                        c,
                        action.as_str(),
                        json!({"reason": "x", "comment": "x"}),
                    )
                    .await;
                assert_eq!(
                    a.status,
                    StatusCode::NOT_FOUND,
                    "{name} {action} on foreign case {c}: {}",
                    a.text()
                );
                a.assert_error(404, "not_found");
            }
        }
        for f in filters
            .iter()
            .map(|f| f.to_string())
            .chain([format!("?department_id={b_dept}")])
            .chain(codes.iter().map(|c| format!("?q={c}")))
        {
            let sep = if f.is_empty() { "?" } else { "&" };
            let a = t
                .get_auth(&format!("/api/v1/cases{f}{sep}page_size=1000"), &token)
                .await;
            assert_eq!(a.status, StatusCode::OK, "{name} list {f}: {}", a.text());
            let got = item_ids(&a.json());
            assert!(
                got.is_disjoint(&foreign_set),
                "{name} lists foreign cases with {f:?}: {got:?}"
            );
            let s = t.get_auth(&format!("/api/v1/cases/stats{f}"), &token).await;
            assert_eq!(s.status, StatusCode::OK, "{name} stats {f}: {}", s.text());
            assert_eq!(
                s.json()["total"].as_u64(),
                Some(got.len() as u64),
                "{name} counts what it lists ({f:?})"
            );
        }
        for f in [
            "?district=441303",
            "?grid=441303001001001",
            "?bbox=114.45,23.07,114.47,23.09",
        ] {
            let s = t
                .get_auth(&format!("/api/v1/cases/stats{f}"), &token)
                .await
                .json();
            assert_eq!(s["total"], 0, "{name} counts nothing in district B ({f})");
        }
        for p in [
            format!("/api/v1/attachments/{photo}"),
            format!("/api/v1/attachments/{photo}/thumb"),
        ] {
            t.get_auth(&p, &token).await.assert_error(404, "not_found");
        }
        let inbox = t.get_auth("/api/v1/inbox?page_size=1000", &token).await;
        assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text());
        for n in inbox.json()["items"].as_array().unwrap() {
            let c = n["case_id"].as_i64().unwrap();
            assert!(
                !foreign_set.contains(&c),
                "{name}'s inbox shows foreign case {c}: {n}"
            );
        }
    }

    // A foreign case cannot be named as the master of a merge either.
    let intake = t.token("a_intake").await;
    t.act(
        &intake,
        a_case,
        "merge",
        json!({"master_case_id": foreign[0]}),
    )
    .await
    .assert_error(422, "invalid_value");
    // Command-centre users of A do see A's case in lists and counts.
    let list = t.get_auth("/api/v1/cases", &a_dispatcher).await.json();
    assert_eq!(item_ids(&list), BTreeSet::from([a_case]));
}
