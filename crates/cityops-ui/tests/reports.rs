//! 报表 in the console: `/reports` lists the kept reports within the reader's region with their
//! files, in Chinese and English; `/reports/{id}` shows the report's tables (the same numbers as
//! its API answer); a leader produces a past period's report with the page's form (CSRF token
//! required) and lands on it; who may not read reports gets 403, an unknown report 404.
mod common;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use cityops_app::ReportRequest;
use cityops_test_support::city::{A_NW, B_PT};
use cityops_web::WebConfig;
use common::{TestApp, form_token};

async fn app() -> TestApp {
    let mut config = WebConfig::default();
    config.reports.backfill_days = 0;
    common::case_city(config).await
}

/// Reports a case at `p` as `username` through the case service.
async fn report(t: &TestApp, username: &str, p: (f64, f64)) {
    let user = t
        .state
        .store
        .credentials(username)
        .await
        .unwrap()
        .expect("user")
        .user;
    let req = ReportRequest {
        lng: Some(p.0),
        lat: Some(p.1),
        description: "报表测试".into(),
        category_kind: Some(cityops_domain::CategoryKind::Component),
        category_code: Some("01001".into()),
        ..Default::default()
    };
    t.state.app.report(&user, req).await.expect("reported");
}

#[tokio::test]
async fn the_report_pages() {
    let t = app().await;
    report(&t, "intake", A_NW).await;
    report(&t, "intake", A_NW).await;
    report(&t, "b_intake", B_PT).await;
    // Tuesday 2026-11-24, 07:40 in Shanghai: Tuesday's briefing (Monday) of the city and both
    // districts.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 23, 23, 40, 0).unwrap());
    assert_eq!(t.state.app.produce_due_reports().await.unwrap(), 3);

    let admin = t.session("admin").await;
    let page = t.get_with("/reports", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_page(&[
        "报表",
        "晨报",
        "2026-11-23",
        "惠城区",
        "惠阳区",
        "全市",
        "/api/v1/reports/",
    ]);
    let text = page.text();
    assert_eq!(text.matches("data-report=").count(), 3, "{text}");
    let en = t.get_with("/reports?lang=en", &admin).await;
    en.assert_page(&["Reports", "Daily briefing", "Whole city"]);
    // Filtered to the city.
    let city = t.get_with("/reports?scope=city&kind=daily", &admin).await;
    assert_eq!(city.text().matches("data-report=").count(), 1);
    let id: i64 = {
        let s = city.text();
        let at = s.find("data-report=\"").unwrap() + "data-report=\"".len();
        s[at..at + s[at..].find('"').unwrap()].parse().unwrap()
    };

    // The report's page: its tables, its files, the same numbers as the API.
    let one = t.get_with(&format!("/reports/{id}"), &admin).await;
    assert_eq!(one.status, StatusCode::OK);
    one.assert_page(&[
        "惠州市晨报 2026-11-23",
        "概况",
        "上报数 Reported",
        "高发问题类别",
        "超期案件",
        "部门综合评价",
        &format!("/api/v1/reports/{id}/xlsx"),
        "report-config",
    ]);
    let api = t
        .get_with(&format!("/api/v1/reports/{id}"), &admin)
        .await
        .json();
    assert_eq!(api["content"]["totals"]["reported"], 3);
    assert!(
        one.text().contains("<td class=\"num\">3</td>"),
        "the reported count"
    );

    // The leader of district A sees A's briefing only, and produces October's report of A.
    let leader = t.session("leader").await;
    let mine = t.get_with("/reports", &leader).await;
    assert_eq!(mine.text().matches("data-report=").count(), 1);
    assert_eq!(
        t.get_with(&format!("/reports/{id}"), &leader).await.status,
        StatusCode::NOT_FOUND,
        "the city's report is not the district leader's"
    );
    let token = form_token(&mine.text());
    let forged = t
        .post_form(
            "/reports",
            &leader,
            "kind=monthly&day=2026-10-15&scope=441302",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token");
    let made = t
        .post_form(
            "/reports",
            &leader,
            &format!("csrf_token={token}&kind=monthly&day=2026-10-15&scope=441302"),
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let to = made.header("location").unwrap().to_string();
    assert!(to.starts_with("/reports/"), "{to}");
    t.get_with(&to, &leader)
        .await
        .assert_page(&["惠城区月报 2026-10-01 – 2026-10-31"]);
    // A month not over, and another district: back to the list with the reason.
    let refused = t
        .post_form(
            "/reports",
            &leader,
            &format!("csrf_token={token}&kind=monthly&day=2026-11-15&scope=441302"),
        )
        .await;
    assert_eq!(refused.header("location"), Some("/reports?error=not_over"));
    t.get_with("/reports?error=not_over", &leader)
        .await
        .assert_page(&["该期间还没有结束"]);
    let refused = t
        .post_form(
            "/reports",
            &leader,
            &format!("csrf_token={token}&kind=daily&day=2026-11-20&scope=441303"),
        )
        .await;
    assert_eq!(refused.header("location"), Some("/reports?error=scope"));

    // Supervisors read but do not produce (no form); handlers and citizens read nothing.
    let supervisor = t.session("supervisor").await;
    let page = t.get_with("/reports", &supervisor).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("produce-form"));
    for who in ["handler", "citizen"] {
        let s = t.session(who).await;
        assert_eq!(
            t.get_with("/reports", &s).await.status,
            StatusCode::FORBIDDEN,
            "{who}"
        );
    }
    assert_eq!(
        t.get_with("/reports/999999", &admin).await.status,
        StatusCode::NOT_FOUND
    );
}
