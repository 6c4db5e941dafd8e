//! 报表 (reports) on SQLite and (when a server answers) PostgreSQL: the schedule produces the
//! daily briefing and the weekly report of the city and of each district on the working-calendar
//! day after the period, once; what they count is the period's cases; a report is a snapshot that
//! later actions do not change; the history is read within the reader's region; CSV and XLSX
//! (opened in LibreOffice when installed, required on CI); a leader's report on demand; who may
//! not.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use common::TestApp;
use common::cases::{A_NW, A_SE, B_PT, at};
use common::office::{convert, soffice};
use serde_json::{Value, json};

on_both_stores!(
    the_schedule_keeps_each_report_once_and_counts_its_days with super::schedule(),
    reports_on_demand_and_who_may_read_them with super::schedule(),
);

/// One day of backfill: what the tests' clock makes due is exactly known.
fn schedule() -> cityops_web::WebConfig {
    cityops_web::WebConfig {
        reports: cityops_domain::report::ReportSchedule {
            backfill_days: 1,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Monday 2026-11-23 (the fixture clock, 09:00 in Shanghai): in district A a hotline report
/// closed through the loop, a citizen report dispatched, a hotline report filed then cancelled;
/// in district B a hotline report filed.
async fn monday(t: &TestApp) -> Vec<i64> {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let inspector = t.token("inspector1").await;
    let citizen = t.token("citizen").await;
    let b_intake = t.token("b_intake").await;
    let b_supervisor = t.token("b_supervisor").await;
    let hotline = |p| {
        at(
            p,
            json!({"category_kind": "component", "category_code": "01001"}),
        )
    };

    let closed = id(&t.report(&intake, hotline(A_NW)).await);
    t.act_ok(&supervisor, closed, "file", json!({"filing_seq": 1}))
        .await;
    t.act_ok(&dispatcher, closed, "dispatch", json!({})).await;
    t.act_ok(&handler, closed, "sign", json!({})).await;
    let photo = t.upload(&handler, 3).await;
    t.act_ok(&handler, closed, "handle", json!({"attachments": [photo]}))
        .await;
    t.act_ok(&intake, closed, "send_check", json!({})).await;
    t.act_ok(&inspector, closed, "check_pass", json!({})).await;
    t.act_ok(&supervisor, closed, "close", json!({})).await;

    let dispatched = id(&t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await);
    t.act_ok(&supervisor, dispatched, "file", json!({"filing_seq": 1}))
        .await;
    t.act_ok(&dispatcher, dispatched, "dispatch", json!({}))
        .await;

    let cancelled = id(&t
        .report(&citizen, at(A_SE, json!({"description": "路灯不亮"})))
        .await);
    t.act_ok(
        &intake,
        cancelled,
        "reject",
        json!({"reason": "非城市管理问题"}),
    )
    .await;

    let b = id(&t.report(&b_intake, hotline(B_PT)).await);
    t.act_ok(&b_supervisor, b, "file", json!({"filing_seq": 1}))
        .await;
    vec![closed, dispatched, cancelled, b]
}

/// Tuesday 2026-11-24, 07:40 in Shanghai: after the reports' hour.
fn tuesday_morning() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 23, 40, 0).unwrap()
}

/// The history as `token` reads it (one page of 100), as `(kind, from, to, region)` → id.
async fn history(
    t: &TestApp,
    token: &str,
    query: &str,
) -> Vec<(String, String, String, Value, i64)> {
    let a = t
        .get_auth(&format!("/api/v1/reports?page_size=100{query}"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    let items = v["items"].as_array().unwrap();
    assert_eq!(v["total"].as_u64(), Some(items.len() as u64));
    items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["period_from"].as_str().unwrap().to_string(),
                i["period_to"].as_str().unwrap().to_string(),
                i["region_code"].clone(),
                id(i),
            )
        })
        .collect()
}

fn find(h: &[(String, String, String, Value, i64)], kind: &str, from: &str, region: Value) -> i64 {
    h.iter()
        .find(|(k, f, _, r, _)| k == kind && f == from && *r == region)
        .unwrap_or_else(|| panic!("no {kind} report from {from} of {region}: {h:?}"))
        .4
}

async fn report(t: &TestApp, token: &str, id: i64) -> Value {
    let a = t.get_auth(&format!("/api/v1/reports/{id}"), token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

async fn the_schedule_keeps_each_report_once_and_counts_its_days(t: TestApp) {
    let cases = monday(&t).await;
    // Monday 09:00, before anything ran: Monday's briefing (Friday to Sunday) and last week's
    // report are due, of the city and of both districts; Sunday, the day before, is no working day.
    assert_eq!(t.state.app.produce_due_reports().await.unwrap(), 2 * 3);
    t.clock.set(tuesday_morning() - Duration::minutes(20));
    assert_eq!(
        t.state.app.produce_due_reports().await.unwrap(),
        0,
        "07:20: not yet"
    );
    t.clock.set(tuesday_morning());
    // Tuesday's briefing covers Monday, for the city and both districts; nothing else is new.
    assert_eq!(t.state.app.produce_due_reports().await.unwrap(), 3);
    assert_eq!(
        t.state.app.produce_due_reports().await.unwrap(),
        0,
        "each report once"
    );

    let admin = t.token("admin").await;
    let h = history(&t, &admin, "").await;
    assert_eq!(h.len(), 9, "{h:?}");
    // Newest period first, the city's before the districts'.
    assert_eq!(
        (h[0].0.as_str(), h[0].1.as_str(), h[0].2.as_str(), &h[0].3),
        ("daily", "2026-11-23", "2026-11-24", &Value::Null)
    );
    let city = report(&t, &admin, find(&h, "daily", "2026-11-23", Value::Null)).await;
    assert_eq!(city["title"], "惠州市晨报 2026-11-23");
    assert_eq!(
        city["xlsx_url"],
        format!("/api/v1/reports/{}/xlsx", id(&city))
    );
    let c = &city["content"];
    let totals = &c["totals"];
    // Four cases reported on Monday: three filed, two dispatched, one handled and closed, one
    // rejected (cancelled).
    assert_eq!(totals["reported"], 4, "{c}");
    assert_eq!(totals["filed"], 3);
    assert_eq!(totals["dispatched"], 2);
    assert_eq!(totals["handled"], 1);
    assert_eq!(totals["closed"], 1);
    assert_eq!(totals["cancelled"], 1);
    assert_eq!(c["previous"]["reported"], 0, "nothing the Friday before");
    assert_eq!(c["previous_period"]["from"], "2026-11-22");
    let sources: Vec<(&str, u64)> = c["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(sources, vec![("hotline", 3), ("citizen", 1)]);
    assert_eq!(c["top_categories"][0]["key"], "component:01001");
    assert_eq!(c["top_categories"][0]["count"], 3);
    assert_eq!(c["days"].as_array().unwrap().len(), 1);
    assert_eq!(c["days"][0]["reported"], 4);
    assert_eq!(c["days"][0]["closed"], 1);
    // The department evaluation of the day is in it.
    assert!(
        c["departments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"].as_str().is_some_and(|n| !n.is_empty())),
        "{c}"
    );
    // District A's briefing counts A's three cases, B's its one.
    let a = report(&t, &admin, find(&h, "daily", "2026-11-23", json!("441302"))).await;
    assert_eq!(a["content"]["totals"]["reported"], 3);
    assert_eq!(a["content"]["scope_name"], "惠城区");
    let b = report(&t, &admin, find(&h, "daily", "2026-11-23", json!("441303"))).await;
    assert_eq!(b["content"]["totals"]["reported"], 1);
    // Monday's briefing (Friday to Sunday) found nothing; last week's report neither.
    let weekend = report(&t, &admin, find(&h, "daily", "2026-11-20", Value::Null)).await;
    assert_eq!(weekend["content"]["period"]["to"], "2026-11-23");
    assert_eq!(weekend["content"]["totals"]["reported"], 0);
    assert_eq!(weekend["content"]["days"].as_array().unwrap().len(), 3);

    // A snapshot: the dispatched case moves on, the kept briefing does not.
    let handler = t.token("handler").await;
    t.act_ok(&handler, cases[1], "sign", json!({})).await;
    let again = report(&t, &admin, id(&city)).await;
    assert_eq!(again["content"], city["content"]);

    // The files.
    let csv = t
        .get_auth(&format!("/api/v1/reports/{}/csv", id(&city)), &admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"daily-city-2026-11-23.csv\"")
    );
    let text = csv.text();
    assert!(text.starts_with("\u{feff}惠州市晨报 2026-11-23"), "{text}");
    assert!(text.contains("上报数 Reported,reported,4,0,"), "{text}");
    let xlsx = t
        .get_auth(&format!("/api/v1/reports/{}/xlsx", id(&city)), &admin)
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(&xlsx.bytes[..2], b"PK");
    if let Some(soffice) = soffice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("report.xlsx");
        std::fs::write(&file, &xlsx.bytes).expect("write the workbook");
        let pdf = std::fs::read(convert(soffice, dir.path(), &file, "pdf")).expect("the PDF");
        assert!(pdf.starts_with(b"%PDF"), "a PDF");
        // The first sheet as LibreOffice reads it: the title, the headers, the figures.
        let sheet = convert(
            soffice,
            dir.path(),
            &file,
            "csv:Text - txt - csv (StarCalc):44,34,76",
        );
        let text = std::fs::read_to_string(sheet).expect("the sheet as CSV");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("惠州市晨报 2026-11-23 · 概况"),
            "{text}"
        );
        assert!(lines[2].starts_with("指标,键,本期,上期,环比"), "{text}");
        assert!(
            lines[4].starts_with("上报数 Reported,reported,4,0"),
            "{text}"
        );
    }
}

async fn reports_on_demand_and_who_may_read_them(t: TestApp) {
    monday(&t).await;
    t.clock.set(tuesday_morning());
    let leader = t.token("leader").await;
    let admin = t.token("admin").await;

    // 422: a week that is not over, a malformed day, an unknown kind, a region that is no
    // district, an unknown field; 403: a district outside the leader's region.
    for (body, status) in [
        (json!({"kind": "weekly", "day": "2026-11-23"}), 422),
        (json!({"kind": "daily", "day": "2026-11-24"}), 422),
        (json!({"kind": "daily", "day": "23/11/2026"}), 422),
        (json!({"kind": "daily", "day": "1999-12-31"}), 422),
        (json!({"kind": "yearly", "day": "2026-11-23"}), 422),
        (
            json!({"kind": "daily", "day": "2026-11-23", "region_code": "441399"}),
            422,
        ),
        (
            json!({"kind": "daily", "day": "2026-11-23", "region_code": "441303"}),
            403,
        ),
        (json!({"kind": "daily", "day": "2026-11-23", "x": 1}), 422),
    ] {
        let a = t.post_auth("/api/v1/reports", &leader, &body).await;
        assert_eq!(a.status.as_u16(), status, "{body}: {}", a.text());
    }
    // The leader of district A: a report of October for A, then the same again (kept: 200).
    let body = json!({"kind": "monthly", "day": "2026-10-15", "region_code": "441302"});
    let first = t.post_auth("/api/v1/reports", &leader, &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first = first.json();
    assert_eq!(first["period_from"], "2026-10-01");
    assert_eq!(first["period_to"], "2026-11-01");
    assert_eq!(first["kind_name"], "月报");
    let again = t.post_auth("/api/v1/reports", &leader, &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(id(&again.json()), id(&first));
    // The city's Monday, by the administrator.
    let city = t
        .post_auth(
            "/api/v1/reports",
            &admin,
            &json!({"kind": "daily", "day": "2026-11-23"}),
        )
        .await;
    assert_eq!(city.status, StatusCode::CREATED, "{}", city.text());
    let city = id(&city.json());
    assert_eq!(
        report(&t, &admin, city).await["content"]["totals"]["reported"],
        4
    );

    // The leader of A reads A's report, not the city's; B's supervisor neither; the admin both.
    let mine = history(&t, &leader, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].4, id(&first));
    assert_eq!(
        t.get_auth(&format!("/api/v1/reports/{city}"), &leader)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let b_supervisor = t.token("b_supervisor").await;
    assert!(history(&t, &b_supervisor, "").await.is_empty());
    assert_eq!(
        t.get_auth(
            &format!("/api/v1/reports/{}/xlsx", id(&first)),
            &b_supervisor
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(history(&t, &admin, "").await.len(), 2);
    assert_eq!(history(&t, &admin, "&scope=city").await.len(), 1);
    assert_eq!(
        history(&t, &admin, "&kind=monthly&scope=441302")
            .await
            .len(),
        1
    );
    // Only leaders and administrators produce; handlers and citizens read nothing.
    let supervisor = t.token("supervisor").await;
    t.post_auth(
        "/api/v1/reports",
        &supervisor,
        &json!({"kind": "daily", "day": "2026-11-23"}),
    )
    .await
    .assert_error(403, "forbidden");
    for who in ["handler", "citizen"] {
        let token = t.token(who).await;
        t.get_auth("/api/v1/reports", &token)
            .await
            .assert_error(403, "forbidden");
    }
    // Malformed history filters.
    for q in ["&kind=yearly", "&scope=4413", "&page=0"] {
        t.get_auth(&format!("/api/v1/reports?{q}"), &admin)
            .await
            .assert_error(400, "invalid_query");
    }
}
