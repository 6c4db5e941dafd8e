//! 综合评价 against hand-computed figures: a scenario of ten cases with known outcomes (on time,
//! overdue, rework, return, two postponements, suspension, cancellation, merge, a verified citizen
//! report, a rejected one) is driven through the case service over HTTP on SQLite and PostgreSQL;
//! every figure of the department, supervisor, dispatcher, intake operator, inspector and street
//! is compared with the value worked out by hand below, and each figure with the length of its
//! drill-down list.
mod common;

use axum::http::StatusCode;
use chrono::{Datelike, Duration, NaiveDate};
use cityops_app::evaluation::{EvaluationQuery, Period};
use cityops_domain::evaluation::{Grade, Kind, Subject};
use cityops_domain::{PageRequest, RegionLevel, User};
use common::TestApp;
use common::cases::{A_NW, at};
use serde_json::{Value, json};

on_both_stores!(scenario_matches_hand_computed_figures);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn user(t: &TestApp, name: &str) -> User {
    let token = t.token(name).await;
    let id = t.user_id(&token).await;
    t.state.store.get_user(id).await.unwrap().unwrap()
}

/// An inspector's report of component 01001 at grid NW.
async fn inspector_report(t: &TestApp, token: &str) -> i64 {
    id(&t
        .report(
            token,
            at(
                A_NW,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await)
}

async fn scenario_matches_hand_computed_figures(t: TestApp) {
    let inspector = t.token("inspector1").await;
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let citizen = t.token("citizen").await;
    let citizen2 = t.token("citizen2").await;
    let t0 = t.clock_now(); // Monday 2026-11-23 09:00 local
    assert_eq!(t0.weekday(), chrono::Weekday::Mon);

    let file = json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1});
    // Filed (1 working day to handle), dispatched to the suggested municipal department, signed.
    let to_handling = |c: i64| {
        let (t, supervisor, dispatcher, handler, file) =
            (&t, &supervisor, &dispatcher, &handler, file.clone());
        async move {
            t.act_ok(supervisor, c, "file", file).await;
            t.act_ok(dispatcher, c, "dispatch", json!({})).await;
            t.act_ok(handler, c, "sign", json!({})).await;
        }
    };
    // Handled with a photo, sent to check, checked, closed.
    let to_closed = |c: i64, seed: u8| {
        let (t, intake, inspector, supervisor, handler) =
            (&t, &intake, &inspector, &supervisor, &handler);
        async move {
            let photo = t.upload(handler, seed).await;
            t.act_ok(handler, c, "handle", json!({"attachments": [photo]}))
                .await;
            t.act_ok(intake, c, "send_check", json!({})).await;
            t.act_ok(inspector, c, "check_pass", json!({})).await;
            let v = t.act_ok(supervisor, c, "close", json!({})).await;
            assert_eq!(v["status"], "closed");
        }
    };

    // C1: on time, all at once.
    let c1 = inspector_report(&t, &inspector).await;
    to_handling(c1).await;
    to_closed(c1, 1).await;
    // C2: 返工 once, then closed (on time).
    let c2 = inspector_report(&t, &inspector).await;
    to_handling(c2).await;
    let photo = t.upload(&handler, 2).await;
    t.act_ok(&handler, c2, "handle", json!({"attachments": [photo]}))
        .await;
    t.act_ok(&intake, c2, "send_check", json!({})).await;
    t.act_ok(&inspector, c2, "check_fail", json!({"reason": "未修好"}))
        .await;
    to_closed(c2, 3).await;
    // C3: 退回 by the department, dispatched again, signed — then left open: overdue later.
    let c3 = inspector_report(&t, &inspector).await;
    to_handling(c3).await;
    t.act_ok(&handler, c3, "return", json!({"reason": "非本单位职责"}))
        .await;
    t.act_ok(&dispatcher, c3, "dispatch", json!({})).await;
    t.act_ok(&handler, c3, "sign", json!({})).await;
    // C4: two postponements (due Tue 09:00 → Wed → Thu), handled Wednesday: on time.
    let c4 = inspector_report(&t, &inspector).await;
    to_handling(c4).await;
    for _ in 0..2 {
        t.act_ok(
            &handler,
            c4,
            "request_postpone",
            json!({"reason": "需协调"}),
        )
        .await;
        t.act_ok(&dispatcher, c4, "approve_postpone", json!({}))
            .await;
    }
    // C5: suspended Monday 09:00 with 8 working hours left, resumed Wednesday 09:00 (due
    // Thursday 09:00), handled Wednesday 16:00: on time because the suspension is excluded.
    let c5 = inspector_report(&t, &inspector).await;
    to_handling(c5).await;
    let until = t0 + Duration::days(2);
    t.act_ok(
        &handler,
        c5,
        "request_suspend",
        json!({"reason": "待协调", "until": until.to_rfc3339()}),
    )
    .await;
    t.act_ok(&dispatcher, c5, "approve_suspend", json!({}))
        .await;
    // C6: handled Wednesday 10:00, a day after its Tuesday 09:00 deadline: closed late.
    let c6 = inspector_report(&t, &inspector).await;
    to_handling(c6).await;
    // C7: filed, then cancelled (作废) by the supervisor.
    let c7 = inspector_report(&t, &inspector).await;
    t.act_ok(&supervisor, c7, "file", file.clone()).await;
    t.act_ok(&supervisor, c7, "cancel", json!({"reason": "重复立案"}))
        .await;
    // C8: a citizen's report merged by intake into C3.
    let c8 = id(&t
        .report(&citizen2, at(A_NW, json!({"description": "井盖坏了"})))
        .await);
    t.act_ok(&intake, c8, "merge", json!({"master_case_id": c3}))
        .await;
    // C9: a citizen's report, verified by the grid's inspector, filed, handled, closed, rated 5:
    // a report the inspector missed (漏报).
    let c9 = id(&t
        .report(&citizen, at(A_NW, json!({"description": "井盖缺失"})))
        .await);
    t.act_ok(&intake, c9, "send_verify", json!({})).await;
    t.act_ok(&inspector, c9, "verify", json!({"comment": "属实"}))
        .await;
    to_handling(c9).await;
    to_closed(c9, 4).await;
    t.act_ok(&citizen, c9, "rate", json!({"score": 5})).await;
    // C10: a citizen's report rejected (不予受理) by intake.
    let c10 = id(&t
        .report(&citizen, at(A_NW, json!({"description": "无关投诉"})))
        .await);
    t.act_ok(
        &intake,
        c10,
        "reject",
        json!({"reason": "不属于城市管理范围"}),
    )
    .await;

    // Wednesday 09:00: C5 resumes; 10:00: C6 handled late; 15:00 C4, 16:00 C5 handled.
    t.clock.set(t0 + Duration::days(2));
    t.act_ok(&dispatcher, c5, "resume", json!({})).await;
    t.clock.set(t0 + Duration::days(2) + Duration::hours(1));
    to_closed(c6, 5).await;
    t.clock.set(t0 + Duration::days(2) + Duration::hours(6));
    to_closed(c4, 6).await;
    t.clock.set(t0 + Duration::days(2) + Duration::hours(7));
    to_closed(c5, 7).await;
    // Evaluated Wednesday 17:00.
    t.clock.set(t0 + Duration::days(2) + Duration::hours(8));

    let leader = user(&t, "leader").await;
    let month = Period::month_of(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let q = |kind| EvaluationQuery {
        kind,
        period: month,
        level: RegionLevel::Street,
    };
    let municipal = t.department_id("441302-municipal").await;
    let row_of = |e: &cityops_app::evaluation::Evaluation, s: &Subject| {
        e.rows
            .iter()
            .find(|r| &r.row.subject == s)
            .unwrap_or_else(|| panic!("no row for {s} in {:?}", e.kind))
            .clone()
    };
    let check = |kind: Kind, subject: Subject, counts: Vec<u64>, score: f64, grade: Grade| {
        let (t, leader, q) = (&t, &leader, q(kind));
        async move {
            let e = t.state.app.evaluate(leader, &q).await.unwrap();
            let r = row_of(&e, &subject);
            let named: Vec<(&str, u64)> = kind
                .figures()
                .iter()
                .map(|f| f.key)
                .zip(r.row.counts.iter().copied())
                .collect();
            let expect: Vec<(&str, u64)> = kind
                .figures()
                .iter()
                .map(|f| f.key)
                .zip(counts.iter().copied())
                .collect();
            assert_eq!(named, expect, "{kind} {subject}");
            assert_eq!(r.row.score, score, "{kind} {subject} score");
            assert_eq!(r.row.grade, grade, "{kind} {subject} grade");
            assert_eq!(
                r.previous.as_ref().map(|p| p.counts.iter().sum::<u64>()),
                Some(0),
                "October had no cases"
            );
            // Each figure is the total of its drill-down list, and the list holds exactly the
            // cases it counts.
            for (i, f) in kind.figures().iter().enumerate() {
                let page = t
                    .state
                    .app
                    .evaluation_drill_down(
                        leader,
                        &q,
                        &subject,
                        f.key,
                        PageRequest {
                            page: 1,
                            page_size: 1000,
                        },
                    )
                    .await
                    .unwrap();
                assert_eq!(page.total, r.row.counts[i], "{kind} {subject} {}", f.key);
                assert_eq!(page.items.len() as u64, page.total);
            }
        }
    };

    // 专业部门 (惠城区市政管理所): C1–C6 and C9 were dispatched to it.
    // filed 7; should close 7 (6 handled + C3 overdue); closed 6; on time 5 (C6 late);
    // handled 6, on time 5; overdue open 1 (C3); reworked 1 (C2); postponed 1 (C4);
    // suspended 1 (C5); rated 1, satisfied 1 (C9).
    // Score: 立案数 7 → 100 ×10% + 结案率 6/7 ×30% + 按期处置率 5/7 ×30% + (100 − 返工率 1/7) ×30%
    let dept_score = 10.0 + 0.3 * (600.0 / 7.0) + 0.3 * (500.0 / 7.0) + 0.3 * (600.0 / 7.0);
    check(
        Kind::Departments,
        Subject::Id(municipal),
        vec![7, 7, 6, 5, 1, 6, 5, 1, 1, 1, 1, 1, 1],
        round2(dept_score),
        Grade::B,
    )
    .await;

    // 值班长: filed 8 (C1–C7, C9), all on time; C7 cancelled → accurate 7; closed 6 in limit.
    // 25 × 8/8 + 40 × 7/8 + 35 × 6/6 = 95
    let sup = user(&t, "supervisor").await;
    check(
        Kind::Supervisors,
        Subject::Id(sup.id),
        vec![8, 8, 1, 7, 6, 6],
        95.0,
        Grade::A,
    )
    .await;

    // 派遣员: dispatched 7 (C3's redispatch counts once), all on time, C2 reworked → accurate 6.
    // 派遣数 7 → 0 × 20% + 100 × 40% + 6/7 × 40%
    let disp = user(&t, "dispatcher").await;
    check(
        Kind::Dispatchers,
        Subject::Id(disp.id),
        vec![7, 7, 1, 6],
        round2(40.0 + 0.4 * (600.0 / 7.0)),
        Grade::C,
    )
    .await;

    // 受理员: accepted 3 (C8 merged, C9 sent to verify, C10 rejected); sent to verify 1 on time;
    // sent to check 6 (C1, C2, C4, C5, C6, C9), all on time. 受理数 3 → 0 × 25% + 40 + 35 = 75
    let op = user(&t, "intake").await;
    check(
        Kind::Operators,
        Subject::Id(op.id),
        vec![3, 1, 1, 6, 6],
        75.0,
        Grade::B,
    )
    .await;

    // 监督员 (inspector1, grids NW and NE): reported 7 (C1–C7), valid 7 (all filed); missed 1
    // (C9) of 8 filed in the grids; verified 1 on time; checked 6 on time.
    // 40 × 7/7 + 20 × (100 − 12.5) + 20 + 20 = 97.5
    let insp = user(&t, "inspector1").await;
    check(
        Kind::Inspectors,
        Subject::Id(insp.id),
        vec![7, 7, 1, 8, 1, 1, 6, 6],
        97.5,
        Grade::A,
    )
    .await;

    // 区域 (the street): filed 8, suspended 1 → net 7; public verified 1 (C9); should close 7;
    // closed 6; on time 5; overdue 1; reworked 1.
    // 10 × (100 − 12.5) + 20 × 90 (7 ≤ 100 on the street table) + 30 × 6/7 + 40 × 5/7
    let street_score = 8.75 + 18.0 + 0.3 * (600.0 / 7.0) + 0.4 * (500.0 / 7.0);
    check(
        Kind::Regions,
        Subject::Code(common::STREET.to_string()),
        vec![8, 1, 7, 1, 7, 6, 5, 1, 1],
        round2(street_score),
        Grade::B,
    )
    .await;

    // The city index of the district: closure 6/7, on time 5/7, rework 1/7, 1 overdue case.
    let index = t.state.app.city_index(&leader, month).await.unwrap();
    let (_, d) = index
        .iter()
        .find(|(_, r)| r.district_code == common::DISTRICT)
        .expect("district A");
    assert_eq!(
        (d.should_close, d.closed, d.handled_on_time, d.overdue_open),
        (7, 6, 5, 1)
    );
    assert_eq!((d.rated, d.satisfied), (1, 1));

    // A citizen sees no evaluation.
    let c = user(&t, "citizen").await;
    assert!(
        t.state
            .app
            .evaluate(&c, &q(Kind::Departments))
            .await
            .is_err()
    );
    let v = t.case(&intake, c10).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.json()["status"], "cancelled");
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
