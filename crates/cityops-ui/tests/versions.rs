//! The console's change history (变更记录) of the responsibility matrix and the working calendar:
//! administrators only; every kept version listed with who and when; the restore button restores
//! (and reloads the caches), an empty matrix only when the confirmation box is ticked.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::NaiveDate;
use cityops_domain::CategoryKind;
use cityops_domain::calendar::{CalendarDay, DayKind};
use cityops_domain::case::routing::RoutingRule;
use cityops_store::ConfigChange;
use common::*;

/// Posts the restore form as the browser does: with the page's CSRF token, through the web
/// crate's guard.
async fn post_form(t: &TestApp, uri: &str, cookies: &str, body: &str) -> Answer {
    let token = form_token(&t.get_with("/", cookies).await.text());
    let body = if body.is_empty() {
        format!("csrf_token={token}")
    } else {
        format!("{body}&csrf_token={token}")
    };
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn versions_are_listed_and_restored_by_administrators() {
    let t = served().await;
    let store = &t.state.store;
    let admin_id = store.credentials("admin").await.unwrap().unwrap().user.id;
    let dept = store
        .get_department_by_code("441302-municipal")
        .await
        .unwrap()
        .unwrap()
        .id;
    let by = |summary: &str| ConfigChange::new(Some(admin_id), start_time(), summary);
    let rule = RoutingRule {
        category_kind: CategoryKind::Matter,
        category_code: "*".into(),
        region_code: DISTRICT.into(),
        department_id: dept,
        auto_dispatch: false,
    };
    store
        .replace_routing_rules(std::slice::from_ref(&rule), &by("one rule"))
        .await
        .unwrap();
    store
        .replace_routing_rules(&[], &ConfigChange::new(None, start_time(), "emptied"))
        .await
        .unwrap();
    t.state.reload_routing().await.unwrap();
    assert!(t.state.routing().is_empty());
    let listed = store
        .routing_versions(cityops_domain::PageRequest {
            page: 1,
            page_size: 10,
        })
        .await
        .unwrap()
        .items;
    let (emptied, first) = (listed[0].id, listed[1].id);

    // Not for other roles: no link, 403 page, and a restore changes nothing.
    let inspector = t.session("inspector1").await;
    assert!(
        !t.get_with("/", &inspector)
            .await
            .text()
            .contains("href=\"/versions\"")
    );
    let a = t.get_with("/versions", &inspector).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.text().contains("配置变更记录仅对管理员开放"),
        "{}",
        a.text()
    );
    let a = post_form(
        &t,
        &format!("/versions/routing/{first}/restore"),
        &inspector,
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(t.state.routing().is_empty());

    // The administrator's list: newest first, who and when, a restore form per older version.
    let c = t.session("admin").await;
    assert!(
        t.get_with("/", &c)
            .await
            .text()
            .contains("href=\"/versions\"")
    );
    let a = t.get_with("/versions", &c).await;
    a.assert_page(&[
        "配置变更记录",
        "权责清单",
        &format!("#{emptied}"),
        &format!("#{first}"),
        "one rule",
        "emptied",
        "系统管理员（admin）",
        "系统",
        "当前版本",
        "2026-",
        &format!("action=\"/versions/routing/{first}/restore\""),
    ]);
    assert!(
        !a.text()
            .contains(&format!("action=\"/versions/routing/{emptied}/restore\"")),
        "the version in force has no restore button"
    );

    // Restore the first version: the matrix is back (and in force), kept as a new version.
    let a = post_form(&t, &format!("/versions/routing/{first}/restore"), &c, "").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    let to = a.header("location").unwrap().to_string();
    assert!(to.starts_with("/versions?kind=routing&restored="), "{to}");
    assert_eq!(store.routing_rules().await.unwrap(), vec![rule.clone()]);
    assert_eq!(t.state.routing().len(), 1, "the matrix in force reloaded");
    let a = t.get_with(&to, &c).await;
    a.assert_page(&["已恢复，并保存为新版本", "restore of version"]);

    // The empty version asks for a confirmation: without it nothing happens.
    assert!(a.text().contains("name=\"allow_empty\""));
    let restore_empty = format!("/versions/routing/{emptied}/restore");
    let a = post_form(&t, &restore_empty, &c, "").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let to = a.header("location").unwrap().to_string();
    assert_eq!(to, "/versions?kind=routing&error=empty_matrix");
    assert_eq!(t.state.routing().len(), 1, "still in force");
    t.get_with(&to, &c)
        .await
        .assert_page(&["该版本的权责清单为空"]);
    // Without the page's CSRF token (another site's form) nothing is restored.
    let forged = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(&restore_empty)
                .header(header::COOKIE, &c)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("allow_empty=true"))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    assert!(
        !t.state.routing().is_empty(),
        "the forged restore did nothing"
    );
    let a = post_form(&t, &restore_empty, &c, "allow_empty=true").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(t.state.routing().is_empty());

    // The calendar tab.
    let day = |y: i32, name: &str| CalendarDay {
        date: NaiveDate::from_ymd_opt(y, 10, 1).unwrap(),
        kind: DayKind::Holiday,
        name: name.into(),
    };
    store
        .put_calendar_days(&[day(2035, "国庆节")], &by("2035"))
        .await
        .unwrap();
    store
        .put_calendar_days(&[day(2036, "国庆节")], &by("2036"))
        .await
        .unwrap();
    t.state.reload_calendar().await.unwrap();
    let older = store
        .calendar_versions(cityops_domain::PageRequest {
            page: 1,
            page_size: 10,
        })
        .await
        .unwrap()
        .items[1]
        .id;
    t.get_with("/versions?kind=calendar", &c)
        .await
        .assert_page(&[
            "工作日历",
            "2035",
            "2036",
            &format!("action=\"/versions/calendar/{older}/restore\""),
        ]);
    let a = post_form(&t, &format!("/versions/calendar/{older}/restore"), &c, "").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(t.state.calendar().years(), vec![2035], "2036 is gone again");

    // English, and what does not exist.
    t.get_with("/versions?lang=en", &c)
        .await
        .assert_page(&["Configuration change history", "Restore this version"]);
    assert_eq!(
        t.get_with("/versions?kind=nothing", &c).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_form(&t, "/versions/routing/999999/restore", &c, "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_form(&t, &format!("/versions/calendar/{first}/restore"), &c, "")
            .await
            .status,
        StatusCode::NOT_FOUND,
        "a routing version is no calendar version"
    );
    // GET does not restore.
    assert_eq!(
        t.get_with(&format!("/versions/routing/{first}/restore"), &c)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}
