//! The case closed loop over HTTP with real logins, and every special operation, on SQLite and
//! (when a server answers) PostgreSQL. Time moves only on the manual clock; the deadline watcher
//! is called directly (`watcher::tick`).
mod common;

use std::collections::BTreeSet;

use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_app::watcher;
use cityops_domain::LimitUnit;
use common::TestApp;
use common::cases::{A_NW, A_SE, DIRECT, at, one_work_day};
use serde_json::{Value, json};

on_both_stores!(
    full_loop,
    return_and_redispatch,
    reject_and_cancel,
    supervise_and_list_filters,
    suspend_stops_the_clock_and_resumes,
    postpone_limits,
    merge_a_duplicate,
    direct_filing_and_auto_dispatch with super::direct_filing_config(),
    // Many refused citizen reports in a row: every attempt counts against the report quota
    // (tests/limits.rs), which this scenario is not about.
    refusals_and_validation with super::no_report_quota(),
    case_codes_are_daily_and_unique_under_concurrency,
    watcher_marks_yellow_and_red_once,
    audit_detects_an_edited_event,
    watcher_task_ticks_and_stops,
    two_watchers_mark_each_case_once,
);

fn direct_filing_config() -> cityops_web::WebConfig {
    let mut c = cityops_web::WebConfig::default();
    c.workflow.direct_file_categories = vec![DIRECT.to_string(), "01001".to_string()];
    c
}

fn no_report_quota() -> cityops_web::WebConfig {
    cityops_web::WebConfig {
        report_limits: cityops_app::ReportLimits::off(),
        ..cityops_web::WebConfig::default()
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

async fn event_actions(t: &TestApp, token: &str, case: i64) -> Vec<String> {
    let a = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// A hotline report (by `intake`) of component 01001 at `p`.
async fn hotline(t: &TestApp, intake: &str, p: (f64, f64)) -> Value {
    t.report(
        intake,
        at(
            p,
            json!({"category_kind": "component", "category_code": "01001", "contact": "王先生 13800000000"}),
        ),
    )
    .await
}

/// Report → file (condition `seq`) → dispatch (suggested) → sign: a case in handling.
async fn handling_case(t: &TestApp, seq: u32) -> i64 {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let c = id(&hotline(t, &intake, A_SE).await);
    t.act_ok(&supervisor, c, "file", json!({"filing_seq": seq}))
        .await;
    t.act_ok(&dispatcher, c, "dispatch", json!({})).await;
    let v = t.act_ok(&handler, c, "sign", json!({})).await;
    assert_eq!(v["status"], "handling");
    c
}

async fn full_loop(t: TestApp) {
    let citizen = t.token("citizen").await;
    let intake = t.token("intake").await;
    let inspector = t.token("inspector1").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let admin = t.token("admin").await;
    let inspector_id = t.user_id(&inspector).await;
    let citizen_id = t.user_id(&citizen).await;
    let municipal = t.department_id("441302-municipal").await;

    // 上报 by a citizen, without a category.
    let c = t
        .report(
            &citizen,
            at(
                A_NW,
                json!({"description": "井盖缺失", "address": "府城路1号"}),
            ),
        )
        .await;
    let case = id(&c);
    assert_eq!(c["code"], "2026112300001");
    assert_eq!(c["status"], "reported");
    assert_eq!(c["source"], "citizen");
    assert_eq!(c["reporter_id"], citizen_id);
    assert!(c["category_code"].is_null());
    assert_eq!(c["location"]["grid_code"], common::GRID_NW);
    assert_eq!(c["location"]["community_code"], common::COMMUNITY);
    assert_eq!(c["location"]["street_code"], common::STREET);
    assert_eq!(c["location"]["district_code"], common::DISTRICT);
    assert_eq!(c["location"]["district_name"], "惠城区");
    assert_eq!(c["location"]["address"], "府城路1号");
    assert_eq!(c["light"], "green");
    assert_eq!(c["stage"], "file");
    assert_eq!(
        c["allowed_actions"],
        json!([]),
        "a citizen may do nothing yet"
    );
    assert_eq!(c["attachments"], json!([]));

    let v = t.case(&intake, case).await.json();
    let allowed = strings(&v["allowed_actions"]);
    for a in ["send_verify", "reject", "merge"] {
        assert!(
            allowed.contains(&a.to_string()),
            "intake may {a}: {allowed:?}"
        );
    }
    assert!(!allowed.contains(&"file".to_string()), "{allowed:?}");

    // 发核实 to the inspector of the grid, 核实.
    let v = t.act_ok(&intake, case, "send_verify", json!({})).await;
    assert_eq!(v["status"], "verifying");
    assert_eq!(v["assignee_id"], inspector_id);
    assert_eq!(v["stage"], "verify");
    let v = t
        .act_ok(&inspector, case, "verify", json!({"comment": "属实"}))
        .await;
    assert_eq!(v["status"], "reported");
    assert_eq!(v["verified"], true);

    // 立案 with the category and filing condition 1 (1 working day).
    let v = t
        .act_ok(
            &supervisor,
            case,
            "file",
            json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1, "urgency": "normal"}),
        )
        .await;
    assert_eq!(v["status"], "filed");
    assert_eq!(v["category_name"], "上水井盖");
    assert_eq!(v["filing_seq"], 1);
    assert_eq!(v["handle_limit"]["value"], 1);
    assert_eq!(v["handle_limit"]["unit"], "work_day");
    assert_eq!(v["suggested_department_id"], municipal);
    assert_eq!(v["suggested_department_name"], "惠城区市政管理所");

    // 派遣 to the suggested department.
    let v = t.act_ok(&dispatcher, case, "dispatch", json!({})).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["department_id"], municipal);
    assert_eq!(v["department_name"], "惠城区市政管理所");
    let deadline0 = time(&v["deadline"]);
    let cal = t.state.calendar();
    assert_eq!(
        deadline0,
        cal.deadline(t.clock_now(), one_work_day()).due,
        "one working day from now"
    );

    // 签收, 申请延期, 批准延期: the deadline moves by one original limit.
    let v = t.act_ok(&handler, case, "sign", json!({})).await;
    assert_eq!(v["status"], "handling");
    assert_eq!(v["stage"], "handle");
    let v = t
        .act_ok(
            &handler,
            case,
            "request_postpone",
            json!({"reason": "需协调供水部门"}),
        )
        .await;
    assert_eq!(v["pending"]["kind"], "postpone");
    let v = t
        .act_ok(&dispatcher, case, "approve_postpone", json!({}))
        .await;
    assert_eq!(v["postpone_count"], 1);
    assert!(v["pending"].is_null());
    let deadline1 = time(&v["deadline"]);
    assert_eq!(
        deadline1,
        cal.add(
            LimitUnit::WorkDay,
            deadline0,
            cal.limit_seconds(one_work_day())
        )
    );
    assert!(deadline1 > deadline0);

    // 处置 with an uploaded after-photo.
    let photo = t.upload(&handler, 1).await;
    let v = t
        .act_ok(
            &handler,
            case,
            "handle",
            json!({"attachments": [photo], "comment": "已更换井盖"}),
        )
        .await;
    assert_eq!(v["status"], "handled");
    assert_eq!(v["attachments"], json!([photo]));

    // 发核查, 核查不通过 → 返工 to the same department.
    let v = t.act_ok(&intake, case, "send_check", json!({})).await;
    assert_eq!(v["status"], "checking");
    assert_eq!(v["assignee_id"], inspector_id);
    let v = t
        .act_ok(
            &inspector,
            case,
            "check_fail",
            json!({"reason": "井盖未固定"}),
        )
        .await;
    assert_eq!(v["status"], "handling");
    assert_eq!(v["rework_count"], 1);
    assert_eq!(v["department_id"], municipal);

    // 再处置, 核查通过, 结案, 评价.
    let photo2 = t.upload(&handler, 2).await;
    t.act_ok(&handler, case, "handle", json!({"attachments": [photo2]}))
        .await;
    t.act_ok(&intake, case, "send_check", json!({})).await;
    let v = t.act_ok(&inspector, case, "check_pass", json!({})).await;
    assert_eq!(v["check_passed"], true);
    assert_eq!(v["status"], "checking");
    let v = t.act_ok(&supervisor, case, "close", json!({})).await;
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_kind"], "normal");
    assert!(v["closed_at"].is_string());
    let v = t.case(&citizen, case).await.json();
    assert_eq!(v["allowed_actions"], json!(["rate"]));
    let v = t.act_ok(&citizen, case, "rate", json!({"score": 5})).await;
    assert_eq!(v["rating"], 5);
    assert_eq!(v["allowed_actions"], json!([]));
    // In upload order, by their public ids.
    assert_eq!(v["attachments"], json!([photo.clone(), photo2]));

    // The trail: every step once, in order, chained.
    let a = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), &citizen)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let events = a.json();
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "report",
            "send_verify",
            "verify",
            "file",
            "dispatch",
            "sign",
            "request_postpone",
            "approve_postpone",
            "handle",
            "send_check",
            "check_fail",
            "handle",
            "send_check",
            "check_pass",
            "close",
            "rate"
        ]
    );
    assert_eq!(events["total"], 16);
    let items = events["items"].as_array().unwrap();
    for w in items.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"], "chained");
        assert!(w[1]["seq"].as_i64() > w[0]["seq"].as_i64());
    }
    assert_eq!(items[8]["attachments"], json!([photo]));
    assert_eq!(items[10]["comment"], "井盖未固定");
    assert_eq!(items[4]["actor_role"], "dispatcher");
    // Paging of the trail.
    let a = t
        .get_auth(
            &format!("/api/v1/cases/{case}/events?page=2&page_size=10"),
            &citizen,
        )
        .await
        .json();
    assert_eq!(a["items"].as_array().unwrap().len(), 6);
    assert_eq!(a["total"], 16);

    let a = t.get_auth("/api/v1/audit/verify", &admin).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], 16);
    assert_eq!(v["head_hash"], items[15]["hash"]);
    assert!(v["broken"].is_null());
    t.get_auth("/api/v1/audit/verify", &citizen)
        .await
        .assert_error(403, "forbidden");
}

async fn return_and_redispatch(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let handler2 = t.token("handler2").await;
    let sanitation = t.department_id("441302-sanitation").await;

    let c = hotline(&t, &intake, A_SE).await;
    assert_eq!(c["source"], "hotline");
    assert_eq!(c["contact"], "王先生 13800000000");
    let case = id(&c);
    t.act_ok(&supervisor, case, "file", json!({})).await;
    t.act(
        &dispatcher,
        case,
        "dispatch",
        json!({"department_id": 999_999}),
    )
    .await
    .assert_error(422, "invalid_value");
    t.act_ok(&dispatcher, case, "dispatch", json!({})).await;

    // 退回 needs a reason.
    t.act(&handler, case, "return", json!({}))
        .await
        .assert_error(422, "invalid_value");
    let v = t
        .act_ok(
            &handler,
            case,
            "return",
            json!({"reason": "不属于本单位职责"}),
        )
        .await;
    assert_eq!(v["status"], "filed");
    assert!(v["department_id"].is_null());
    assert_eq!(v["return_count"], 1);
    // The department no longer sees it.
    t.case(&handler, case).await.assert_error(404, "not_found");

    let v = t
        .act_ok(
            &dispatcher,
            case,
            "dispatch",
            json!({"department_id": sanitation}),
        )
        .await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["department_id"], sanitation);
    assert_eq!(v["department_name"], "惠城区环卫所");
    let v = t.act_ok(&handler2, case, "sign", json!({})).await;
    assert_eq!(v["status"], "handling");
    assert_eq!(
        event_actions(&t, &dispatcher, case).await,
        ["report", "file", "dispatch", "return", "dispatch", "sign"]
    );

    // The dispatcher may return a filed case to intake.
    let c2 = id(&hotline(&t, &intake, A_SE).await);
    t.act_ok(&supervisor, c2, "file", json!({})).await;
    let v = t
        .act_ok(&dispatcher, c2, "return", json!({"reason": "分类有误"}))
        .await;
    assert_eq!(v["status"], "reported");
}

async fn reject_and_cancel(t: TestApp) {
    let citizen = t.token("citizen").await;
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;

    let case = id(&t.report(&citizen, at(A_NW, json!({}))).await);
    t.act(&intake, case, "reject", json!({}))
        .await
        .assert_error(422, "invalid_value");
    let v = t
        .act_ok(&intake, case, "reject", json!({"reason": "非城市管理问题"}))
        .await;
    assert_eq!(v["status"], "cancelled");
    assert!(v["closed_at"].is_string());
    let v = t.case(&citizen, case).await.json();
    assert_eq!(v["status"], "cancelled");

    let c2 = id(&hotline(&t, &intake, A_NW).await);
    t.act(&supervisor, c2, "cancel", json!({"reason": " "}))
        .await
        .assert_error(422, "invalid_value");
    let v = t
        .act_ok(&supervisor, c2, "cancel", json!({"reason": "重复受理"}))
        .await;
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["allowed_actions"], json!([]));
    // Finished cases refuse further steps with the (empty) list of what is possible.
    let a = t.act(&supervisor, c2, "file", json!({})).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let body = a.json();
    assert_eq!(body["code"], "invalid_transition");
    assert_eq!(body["allowed_actions"], json!([]));
}

async fn supervise_and_list_filters(t: TestApp) {
    let intake = t.token("intake").await;
    let citizen = t.token("citizen").await;
    let leader = t.token("leader").await;
    let dispatcher = t.token("dispatcher").await;

    let a = id(&hotline(&t, &intake, A_NW).await);
    t.clock.advance(Duration::minutes(5));
    let b = id(&t
        .report(
            &citizen,
            at(
                A_SE,
                json!({"description": "路灯不亮", "address": "江滨路"}),
            ),
        )
        .await);
    t.clock.advance(Duration::minutes(5));
    let c = id(&t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "matter", "category_code": "01001", "source": "video_ai"}),
            ),
        )
        .await);

    t.act(&leader, a, "supervise", json!({}))
        .await
        .assert_error(422, "invalid_value");
    let v = t
        .act_ok(&leader, a, "supervise", json!({"comment": "请尽快处理"}))
        .await;
    assert_eq!(v["supervised"], true);

    let ids = |v: Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let list = |q: &'static str| {
        let t = &t;
        let dispatcher = dispatcher.clone();
        async move {
            let a = t.get_auth(&format!("/api/v1/cases{q}"), &dispatcher).await;
            assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.text());
            a.json()
        }
    };
    let all = list("").await;
    assert_eq!(all["total"], 3);
    assert_eq!(ids(all.clone()), [c, b, a], "newest first");
    assert!(
        all["items"][0]["attachments"].is_null(),
        "no photos in lists"
    );
    assert_eq!(ids(list("?sort=created_asc").await), [a, b, c]);
    assert_eq!(ids(list("?supervised=true").await), [a]);
    assert_eq!(ids(list("?source=citizen").await), [b]);
    assert_eq!(ids(list("?source=video_ai").await), [c]);
    assert_eq!(ids(list("?category=01001").await), [c, a]);
    assert_eq!(ids(list("?category=01").await), [c, a]);
    assert_eq!(ids(list("?grid=441302001001001").await), [a], "grid NW");
    assert_eq!(ids(list("?community=441302001001").await), [c, b, a]);
    assert_eq!(ids(list("?district=441302").await), [c, b, a]);
    assert_eq!(ids(list("?district=441303").await), Vec::<i64>::new());
    assert_eq!(ids(list("?bbox=114.42,23.06,114.44,23.08").await), [c, b]);
    assert_eq!(ids(list("?q=路灯").await), [b]);
    assert_eq!(ids(list("?q=江滨").await), [b]);
    assert_eq!(ids(list("?status=reported,filed").await), [c, b, a]);
    assert_eq!(ids(list("?status=filed").await), Vec::<i64>::new());
    assert_eq!(ids(list("?light=green").await), [c, b, a]);
    assert_eq!(ids(list("?overdue=true").await), Vec::<i64>::new());
    assert_eq!(ids(list("?from=2026-11-23&to=2026-11-23").await), [c, b, a]);
    assert_eq!(ids(list("?from=2026-11-24").await), Vec::<i64>::new());
    assert_eq!(ids(list("?to=2026-11-22").await), Vec::<i64>::new());
    assert_eq!(
        ids(list("?from=2026-11-23T01:04:00Z&to=2026-11-23T01:06:00Z").await),
        [b]
    );
    let p = list("?page=2&page_size=2").await;
    assert_eq!(
        (p["total"].as_u64(), p["page"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(ids(p), [a]);
    let code = all["items"][2]["code"].as_str().unwrap().to_string();
    assert_eq!(
        ids(t
            .get_auth(&format!("/api/v1/cases?q={code}"), &dispatcher)
            .await
            .json()),
        [a]
    );
    for bad in [
        "?status=done",
        "?light=blue",
        "?source=fax",
        "?category=1",
        "?grid=12",
        "?from=yesterday",
        "?bbox=1,2,3",
        "?bbox=3,2,1,91",
        "?sort=random",
        "?page=0",
    ] {
        t.get_auth(&format!("/api/v1/cases{bad}"), &dispatcher)
            .await
            .assert_error(400, "invalid_query");
    }

    let s = t.get_auth("/api/v1/cases/stats", &dispatcher).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text());
    let s = s.json();
    assert_eq!(s["total"], 3);
    assert_eq!(s["open"], 3);
    assert_eq!(s["by_status"]["reported"], 3);
    let s = t
        .get_auth("/api/v1/cases/stats?source=citizen", &dispatcher)
        .await
        .json();
    assert_eq!(s["total"], 1);
    // A citizen counts only their own.
    let s = t.get_auth("/api/v1/cases/stats", &citizen).await.json();
    assert_eq!(s["total"], 1);
    assert_eq!(ids(t.get_auth("/api/v1/cases", &citizen).await.json()), [b]);
}

async fn suspend_stops_the_clock_and_resumes(t: TestApp) {
    let handler = t.token("handler").await;
    let dispatcher = t.token("dispatcher").await;
    // Condition 0 of 01001: 2 urgent hours (continuous), so the arithmetic is plain.
    let case = handling_case(&t, 0).await;
    let v = t.case(&handler, case).await.json();
    let approved_at = t.clock_now();
    let left = time(&v["deadline"]) - approved_at;
    assert_eq!(left, Duration::hours(2));

    let until = approved_at + Duration::days(10);
    t.act(
        &handler,
        case,
        "request_suspend",
        json!({"reason": "待拆迁"}),
    )
    .await
    .assert_error(422, "invalid_value");
    t.act(
        &handler,
        case,
        "request_suspend",
        json!({"reason": "待拆迁", "until": (approved_at + Duration::days(400)).to_rfc3339()}),
    )
    .await
    .assert_error(422, "invalid_value");
    let v = t
        .act_ok(
            &handler,
            case,
            "request_suspend",
            json!({"reason": "待拆迁", "until": until.to_rfc3339()}),
        )
        .await;
    assert_eq!(v["pending"]["kind"], "suspend");
    assert_eq!(time(&v["pending"]["until"]), until);
    // Only the dispatcher approves.
    t.act(&handler, case, "approve_suspend", json!({}))
        .await
        .assert_error(403, "forbidden");
    let v = t
        .act_ok(&dispatcher, case, "approve_suspend", json!({}))
        .await;
    assert_eq!(v["status"], "suspended");
    assert!(v["stage_due"].is_null());
    assert_eq!(time(&v["suspended_until"]), until);

    // Five days later: the clock stood still.
    t.clock.advance(Duration::days(5));
    let r = watcher::tick(&t.state.app).await.unwrap();
    assert_eq!((r.marked, r.resumed), (0, 0));
    let v = t.case(&handler, case).await.json();
    assert_eq!(v["light"], "green");
    assert_eq!(v["overdue"], false);
    let v = t.act_ok(&dispatcher, case, "resume", json!({})).await;
    assert_eq!(v["status"], "handling");
    assert_eq!(
        time(&v["deadline"]) - t.clock_now(),
        left,
        "the rest of the limit"
    );
    assert_eq!(v["stage_due"], v["deadline"]);

    // Suspended again until two days later; the watcher resumes it when that passes.
    t.act_ok(
        &handler,
        case,
        "request_suspend",
        json!({"reason": "等待材料", "until": (t.clock_now() + Duration::days(2)).to_rfc3339()}),
    )
    .await;
    t.act_ok(&dispatcher, case, "approve_suspend", json!({}))
        .await;
    t.clock.advance(Duration::days(1));
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().resumed, 0);
    t.clock.advance(Duration::days(2));
    let r = watcher::tick(&t.state.app).await.unwrap();
    assert_eq!(r.resumed, 1);
    let v = t.case(&handler, case).await.json();
    assert_eq!(v["status"], "handling");
    assert_eq!(time(&v["deadline"]) - t.clock_now(), left);
    assert_eq!(
        watcher::tick(&t.state.app).await.unwrap().resumed,
        0,
        "once"
    );
    let trail = event_actions(&t, &handler, case).await;
    assert_eq!(
        trail.iter().filter(|a| *a == "resume").count(),
        2,
        "{trail:?}"
    );
    let events = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), &handler)
        .await
        .json();
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "resume");
    assert!(last["actor_id"].is_null(), "the system resumed it");
}

async fn postpone_limits(t: TestApp) {
    let handler = t.token("handler").await;
    let dispatcher = t.token("dispatcher").await;
    let case = handling_case(&t, 1).await;
    for n in 1..=2 {
        t.act_ok(
            &handler,
            case,
            "request_postpone",
            json!({"reason": "材料未到"}),
        )
        .await;
        let v = t
            .act_ok(&dispatcher, case, "approve_postpone", json!({}))
            .await;
        assert_eq!(v["postpone_count"], n);
    }
    let v = t.case(&handler, case).await.json();
    assert!(!strings(&v["allowed_actions"]).contains(&"request_postpone".to_string()));
    let a = t
        .act(
            &handler,
            case,
            "request_postpone",
            json!({"reason": "还要延"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    let body = a.json();
    assert_eq!(body["code"], "invalid_transition");
    assert_eq!(body["allowed_actions"], v["allowed_actions"]);
    assert!(strings(&body["allowed_actions"]).contains(&"handle".to_string()));

    // A denied request does not count.
    let c2 = handling_case(&t, 1).await;
    t.act_ok(&handler, c2, "request_postpone", json!({"reason": "x"}))
        .await;
    t.act(&dispatcher, c2, "deny_postpone", json!({}))
        .await
        .assert_error(422, "invalid_value");
    let v = t
        .act_ok(
            &dispatcher,
            c2,
            "deny_postpone",
            json!({"reason": "理由不充分"}),
        )
        .await;
    assert_eq!(v["postpone_count"], 0);
    assert!(v["pending"].is_null());

    // Not once overdue.
    t.clock.advance(Duration::days(7));
    let v = t.case(&handler, c2).await.json();
    assert_eq!(v["light"], "red");
    let a = t
        .act(&handler, c2, "request_postpone", json!({"reason": "晚了"}))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    assert_eq!(a.json()["code"], "invalid_transition");
}

async fn merge_a_duplicate(t: TestApp) {
    let inspector = t.token("inspector1").await;
    let citizen2 = t.token("citizen2").await;
    let citizen = t.token("citizen").await;
    let intake = t.token("intake").await;
    let body = |p: (f64, f64)| {
        at(
            p,
            json!({"category_kind": "component", "category_code": "01001"}),
        )
    };
    let master = t.report(&inspector, body(A_NW)).await;
    assert_eq!(master["source"], "inspector");
    assert!(master["duplicate_of"].is_null());
    let m = id(&master);
    // About 20 m east: flagged with its candidate.
    t.clock.advance(Duration::hours(1));
    let dup = t.report(&citizen2, body((A_NW.0 + 0.0002, A_NW.1))).await;
    assert_eq!(dup["duplicate_of"], m);
    // Far away, or another category, or outside the window: not flagged.
    let far = t.report(&citizen, body(A_SE)).await;
    assert!(far["duplicate_of"].is_null());
    let other = t
        .report(
            &citizen,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01002"}),
            ),
        )
        .await;
    assert!(other["duplicate_of"].is_null());

    let d = id(&dup);
    t.case(&citizen2, m).await.assert_error(404, "not_found");
    let v = t.act_ok(&intake, d, "merge", json!({})).await;
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["merged_into"], m);
    // The merged reporter now follows the master case.
    let v = t.case(&citizen2, m).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let list = t.get_auth("/api/v1/cases", &citizen2).await.json();
    assert_eq!(list["total"], 2);

    // A later report beyond the window is not flagged.
    t.clock.advance(Duration::hours(73));
    let late = t.report(&citizen, body(A_NW)).await;
    assert!(late["duplicate_of"].is_null());
    // Merging into itself or into a closed case is refused.
    t.act(
        &intake,
        id(&late),
        "merge",
        json!({"master_case_id": id(&late)}),
    )
    .await
    .assert_error(422, "invalid_value");
    t.act(&intake, id(&late), "merge", json!({"master_case_id": d}))
        .await
        .assert_error(422, "invalid_value");
    t.act(&intake, id(&late), "merge", json!({}))
        .await
        .assert_error(422, "invalid_value");
}

async fn direct_filing_and_auto_dispatch(t: TestApp) {
    let inspector = t.token("inspector1").await;
    let citizen = t.token("citizen").await;
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let handler = t.token("handler").await;
    let municipal = t.department_id("441302-municipal").await;

    // 直接立案 + 一键直达.
    let v = t
        .report(
            &inspector,
            at(
                A_NW,
                json!({"category_kind": "matter", "category_code": DIRECT}),
            ),
        )
        .await;
    assert_eq!(v["status"], "dispatched", "{v}");
    assert_eq!(v["department_id"], municipal);
    let case = id(&v);
    let events = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), &inspector)
        .await
        .json();
    let items = events["items"].as_array().unwrap();
    let steps: Vec<(&str, bool)> = items
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor_id"].is_null()))
        .collect();
    assert_eq!(
        steps,
        [("report", false), ("file", true), ("dispatch", true)]
    );
    t.act_ok(&handler, case, "sign", json!({})).await;

    // Direct filing without a 一键直达 rule stops at filed.
    let v = t
        .report(
            &inspector,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await;
    assert_eq!(v["status"], "filed");
    assert_eq!(v["suggested_department_id"], municipal);
    assert_eq!(v["handle_limit"]["unit"], "urgent_hour", "condition 0");

    // Only inspector reports are filed directly.
    let v = t
        .report(
            &citizen,
            at(
                A_NW,
                json!({"category_kind": "matter", "category_code": DIRECT}),
            ),
        )
        .await;
    assert_eq!(v["status"], "reported");

    // Filing by the supervisor dispatches at once where the matrix says so.
    let v = t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "matter", "category_code": DIRECT}),
            ),
        )
        .await;
    assert_eq!(v["status"], "reported");
    let v = t.act_ok(&supervisor, id(&v), "file", json!({})).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["department_id"], municipal);
}

async fn refusals_and_validation(t: TestApp) {
    let intake = t.token("intake").await;
    let citizen = t.token("citizen").await;
    let supervisor = t.token("supervisor").await;
    let handler = t.token("handler").await;
    let inspector = t.token("inspector1").await;

    let case = id(&hotline(&t, &intake, A_NW).await);
    // 409 with what the supervisor may do instead.
    let a = t.act(&supervisor, case, "close", json!({})).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    let body = a.json();
    assert_eq!(body["code"], "invalid_transition");
    assert!(body["message"].as_str().unwrap().contains("close"));
    let view = t.case(&supervisor, case).await.json();
    assert_eq!(body["allowed_actions"], view["allowed_actions"]);
    assert!(strings(&body["allowed_actions"]).contains(&"file".to_string()));
    // 403: possible now, but not for this role.
    t.act(&intake, case, "file", json!({}))
        .await
        .assert_error(403, "forbidden");
    let own = id(&t.report(&citizen, at(A_NW, json!({}))).await);
    t.act(&citizen, own, "file", json!({}))
        .await
        .assert_error(403, "forbidden");
    let a = t.act(&inspector, case, "verify", json!({})).await;
    assert_invalid_transition(&a);

    // Unknown actions, bodies that are not what an action takes.
    let a = t
        .act(&supervisor, case, "approve_everything", json!({}))
        .await;
    a.assert_error(404, "not_found");
    assert!(a.json()["message"].as_str().unwrap().contains("dispatch"));
    t.act(&supervisor, case, "file", json!({"categroy_code": "01001"}))
        .await
        .assert_error(422, "invalid_value");
    t.act(&supervisor, case, "file", json!({"urgency": "asap"}))
        .await
        .assert_error(422, "invalid_value");
    t.act(&supervisor, case, "file", json!({"category_code": "99999"}))
        .await
        .assert_error(422, "invalid_value");
    t.act(&supervisor, case, "file", json!({"filing_seq": 7}))
        .await
        .assert_error(422, "invalid_value");
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/cases/{case}/actions/file"))
                .header(header::AUTHORIZATION, format!("Bearer {supervisor}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    a.assert_error(400, "bad_request");
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/cases/{case}/actions/file"))
                .header(header::AUTHORIZATION, format!("Bearer {supervisor}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(axum::body::Body::from("file it"))
                .unwrap(),
        )
        .await;
    a.assert_error(415, "unsupported_media_type");
    // JSON bodies keep the JSON limit (photo uploads have their own).
    let huge = json!({"comment": "x".repeat(2 * 1024 * 1024)});
    t.act(&supervisor, case, "file", huge.clone())
        .await
        .assert_error(413, "payload_too_large");
    t.post_auth("/api/v1/cases", &intake, &huge)
        .await
        .assert_error(413, "payload_too_large");
    // An empty body is no fields.
    let a = t
        .post_empty(&format!("/api/v1/cases/{case}/actions/file"), &supervisor)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["status"], "filed");
    t.case(&supervisor, 999_999)
        .await
        .assert_error(404, "not_found");
    t.act(&supervisor, 999_999, "file", json!({}))
        .await
        .assert_error(404, "not_found");
    t.get("/api/v1/cases")
        .await
        .assert_error(401, "unauthenticated");
    t.post_json("/api/v1/cases", &at(A_NW, json!({})))
        .await
        .assert_error(401, "unauthenticated");

    // Reports: roles, points, categories, photos.
    t.post_auth("/api/v1/cases", &handler, &at(A_NW, json!({})))
        .await
        .assert_error(403, "forbidden");
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"source": "video_ai"})),
    )
    .await
    .assert_error(403, "forbidden");
    let a = t
        .post_auth("/api/v1/cases", &citizen, &at((113.0, 22.0), json!({})))
        .await;
    a.assert_error(422, "outside_city");
    t.post_auth("/api/v1/cases", &citizen, &json!({"description": "无坐标"}))
        .await
        .assert_error(422, "invalid_value");
    t.post_auth("/api/v1/cases", &citizen, &at(A_NW, json!({"crs": "bd09"})))
        .await
        .assert_error(422, "invalid_value");
    t.post_auth("/api/v1/cases", &intake, &at(A_NW, json!({})))
        .await
        .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &intake,
        &at(A_NW, json!({"category_code": "01001"})),
    )
    .await
    .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &intake,
        &at(A_NW, json!({"category_code": "01009"})),
    )
    .await
    .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"description": " "})),
    )
    .await
    .assert_error(422, "invalid_value");
    // The code names one category only: the kind is inferred.
    let v = t
        .report(&intake, at(A_NW, json!({"category_code": "01002"})))
        .await;
    assert_eq!(v["category_kind"], "component");
    assert_eq!(v["category_name"], "污水井盖");
    // GCJ-02 input is converted before locating.
    let v = t
        .report(
            &citizen,
            at((A_NW.0 + 0.0055, A_NW.1 - 0.0025), json!({"crs": "gcj02"})),
        )
        .await;
    assert!(
        (v["location"]["lng"].as_f64().unwrap() - A_NW.0).abs() < 0.001,
        "{v}"
    );
    // A report at a component takes its point and category.
    let v = t
        .report(
            &citizen,
            json!({"component_id": "44130202001000001", "description": "停车场破损"}),
        )
        .await;
    assert_eq!(v["component_id"], "44130202001000001");
    assert_eq!(v["category_code"], "02001");
    assert_eq!(v["location"]["grid_code"], common::GRID_NE);
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &json!({"component_id": "44130202001000099", "description": "x"}),
    )
    .await
    .assert_error(422, "invalid_value");

    // Photos: only one's own, unlinked, existing, within the limit.
    let mine = t.upload(&citizen, 7).await;
    let theirs = t.upload(&intake, 8).await;
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"attachments": [theirs]})),
    )
    .await
    .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"attachments": [mine, mine]})),
    )
    .await
    .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"attachments": [424_242]})),
    )
    .await
    .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(
            A_NW,
            json!({"attachments": ["0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07"]}),
        ),
    )
    .await
    .assert_error(422, "invalid_value");
    let many: Vec<String> = (0..=t.state.config.max_photos)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"attachments": many})),
    )
    .await
    .assert_error(422, "invalid_value");
    let v = t
        .report(
            &citizen,
            at(A_NW, json!({"description": "", "attachments": [mine]})),
        )
        .await;
    assert_eq!(v["attachments"], json!([mine]));
    t.post_auth(
        "/api/v1/cases",
        &citizen,
        &at(A_NW, json!({"attachments": [mine]})),
    )
    .await
    .assert_error(422, "invalid_value");
}

#[track_caller]
fn assert_invalid_transition(a: &common::Answer) {
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    let v = a.json();
    assert_eq!(v["code"], "invalid_transition", "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(v["allowed_actions"].is_array(), "{v}");
}

async fn case_codes_are_daily_and_unique_under_concurrency(t: TestApp) {
    let intake = t.token("intake").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let app = t.app.clone();
        let token = intake.clone();
        let body = at(
            (
                114.401 + f64::from(i) * 0.0005,
                23.061 + f64::from(i) * 0.0005,
            ),
            json!({"category_kind": "component", "category_code": "01001"}),
        );
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let resp = app
                .oneshot(
                    Request::builder()
                        .method(Method::POST)
                        .uri("/api/v1/cases")
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(axum::body::Body::from(body.to_string()))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = resp.status();
            let bytes = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }));
    }
    let mut codes = BTreeSet::new();
    for task in tasks {
        let (status, v) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        codes.insert(v["code"].as_str().unwrap().to_string());
    }
    let expected: BTreeSet<String> = (1..=64).map(|n| format!("20261123{n:05}")).collect();
    assert_eq!(codes, expected);

    // The date is the local (Asia/Shanghai) one: 17:00 UTC is already the next day there.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 23, 16, 30, 0).unwrap());
    let v = hotline(&t, &intake, A_NW).await;
    assert_eq!(v["code"], "2026112400001");
}

async fn watcher_marks_yellow_and_red_once(t: TestApp) {
    let intake = t.token("intake").await;
    let dispatcher = t.token("dispatcher").await;
    // A new report must be filed within one working hour (Monday 09:00 local → 10:00).
    let case = id(&hotline(&t, &intake, A_NW).await);
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().marked, 0);

    t.clock.advance(Duration::minutes(50));
    assert_eq!(
        t.case(&intake, case).await.json()["light"],
        "yellow",
        "the view computes the light now"
    );
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().marked, 1);
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().marked, 0, "once");
    let list = t
        .get_auth("/api/v1/cases?light=yellow", &dispatcher)
        .await
        .json();
    assert_eq!(list["total"], 1);

    t.clock.advance(Duration::minutes(20));
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().marked, 1);
    assert_eq!(watcher::tick(&t.state.app).await.unwrap().marked, 0, "once");
    let v = t.case(&intake, case).await.json();
    assert_eq!(v["light"], "red");
    assert_eq!(v["overdue"], true);
    let trail = event_actions(&t, &intake, case).await;
    assert_eq!(trail, ["report", "light_yellow", "overdue"]);
    for q in ["?light=red", "?overdue=true"] {
        let list = t
            .get_auth(&format!("/api/v1/cases{q}"), &dispatcher)
            .await
            .json();
        assert_eq!(list["total"], 1, "{q}");
    }
    // The case waits to be filed: the supervisors (值班长) of the region own that stage and hear
    // of the yellow light and of the overrun once each, as the state machine decided; the
    // dispatchers, who own no stage of it yet, hear nothing.
    let supervisor = t.token("supervisor").await;
    let heard = |token: String| {
        let t = &t;
        async move {
            let inbox = t.get_auth("/api/v1/inbox", &token).await;
            assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text());
            let mut got: Vec<String> = inbox.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["case_id"] == case && n["action"] != "report")
                .map(|n| n["action"].as_str().unwrap().to_string())
                .collect();
            got.sort();
            got
        }
    };
    assert_eq!(heard(supervisor).await, ["light_yellow", "overdue"]);
    assert_eq!(heard(dispatcher.clone()).await, Vec::<String>::new());
    let s = t.get_auth("/api/v1/cases/stats", &dispatcher).await.json();
    assert_eq!(s["overdue_open"], 1);
}

async fn audit_detects_an_edited_event(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let leader = t.token("leader").await;
    let case = id(&hotline(&t, &intake, A_NW).await);
    t.act_ok(&supervisor, case, "file", json!({"comment": "立案"}))
        .await;
    let other = id(&hotline(&t, &intake, A_SE).await);
    t.act_ok(&supervisor, other, "cancel", json!({"reason": "重复"}))
        .await;
    let v = t.get_auth("/api/v1/audit/verify", &leader).await.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], 4);
    assert_eq!(v["head_seq"], 4);

    // Someone edits the filing event's comment in the database.
    let sql = t.sql.clone().expect("raw SQL");
    let n = sql
        .execute("UPDATE case_events SET comment = '未立案' WHERE seq = 2")
        .await;
    assert_eq!(n, 1);
    // Before the checkpoint the first verification left: only a full one looks (tests/audit.rs).
    let v = t
        .get_auth("/api/v1/audit/verify?full=true", &leader)
        .await
        .json();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["broken"]["seq"], 2);
    assert_eq!(v["checked"], 1);
    assert_eq!(v["head_seq"], 1);
    assert!(v["broken"]["reason"].as_str().unwrap().contains("hash"));
}

async fn watcher_task_ticks_and_stops(t: TestApp) {
    let intake = t.token("intake").await;
    let case = id(&hotline(&t, &intake, A_NW).await);
    t.clock.advance(Duration::minutes(50));
    assert!(
        watcher::spawn(t.state.app.clone(), std::time::Duration::ZERO, async {}).is_none(),
        "interval 0 = no watcher"
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = watcher::spawn(
        t.state.app.clone(),
        std::time::Duration::from_secs(3600),
        async {
            let _ = stopped.await;
        },
    )
    .expect("a watcher");
    // The first tick is due at once and runs before the stop is noticed.
    stop.send(()).unwrap();
    task.await.unwrap();
    assert_eq!(
        event_actions(&t, &intake, case).await,
        ["report", "light_yellow"]
    );
}

#[tokio::test]
async fn the_case_api_is_documented() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (p, method) in [
        ("/api/v1/cases", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/stats", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/actions/{action}", "post"),
        ("/api/v1/cases/{id}/events", "get"),
        ("/api/v1/audit/verify", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|o| o.get(method)).is_some(),
            "{method} {p} documented"
        );
    }
    let names: Vec<&str> = doc["paths"]["/api/v1/cases"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in [
        "status",
        "light",
        "source",
        "category",
        "district",
        "street",
        "community",
        "grid",
        "department_id",
        "from",
        "to",
        "bbox",
        "q",
        "overdue",
        "supervised",
        "sort",
        "page",
        "page_size",
    ] {
        assert!(names.contains(&n), "list parameter {n} in {names:?}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "CaseView",
        "CaseList",
        "NewCaseRequest",
        "ActionBody",
        "CaseEventList",
        "CaseStatsView",
        "AuditVerifyView",
    ] {
        assert!(schemas.contains_key(s), "schema {s}");
    }
    for f in [
        "id",
        "code",
        "status",
        "source",
        "category_code",
        "urgency",
        "location",
        "department_id",
        "suggested_department_id",
        "deadline",
        "light",
        "allowed_actions",
    ] {
        assert!(
            schemas["CaseView"]["properties"].get(f).is_some(),
            "CaseView.{f}"
        );
    }
    assert!(schemas["ErrorBody"]["properties"]["allowed_actions"].is_object());
}

/// Two servers (on PostgreSQL: two connection pools to one database; on SQLite: two states over
/// one store) run the watcher at the same instant: every case is marked once per light.
async fn two_watchers_mark_each_case_once(t: TestApp) {
    use std::sync::Arc;

    use cityops_store::Store;
    use common::cases::RawSql;

    let intake = t.token("intake").await;
    let mut cases = Vec::new();
    for i in 0..30 {
        let p = (114.401 + f64::from(i) * 0.001, 23.062);
        cases.push(id(&hotline(&t, &intake, p).await));
    }
    let second: Arc<dyn Store> = match &t.sql {
        Some(RawSql::Postgres(url)) => Arc::new(
            cityops_store_postgres::PgStore::connect(url)
                .await
                .expect("second pool"),
        ),
        _ => t.state.store.clone(),
    };
    let other = cityops_web::AppState::load(
        second,
        common::cases::index_ab(),
        t.state.clock.clone(),
        (*t.state.config).clone(),
        false,
    )
    .await
    .expect("second state");

    for (minutes, action) in [(50, "light_yellow"), (20, "overdue")] {
        t.clock.advance(Duration::minutes(minutes));
        let (a, b) = tokio::join!(watcher::tick(&t.state.app), watcher::tick(&other.app));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.marked + b.marked, 30, "{action}: {a:?} {b:?}");
        let events = t.state.store.audit_events(0, 10_000).await.unwrap();
        for c in &cases {
            let n = events
                .iter()
                .filter(|e| e.event.case_id == *c && e.event.action == action)
                .count();
            assert_eq!(n, 1, "case {c}: {action} once");
        }
    }
    let v = t
        .get_auth("/api/v1/audit/verify", &t.token("admin").await)
        .await
        .json();
    assert_eq!(v["ok"], true, "{v}");
}
