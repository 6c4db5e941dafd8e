//! The console's Open311 page (Open311 接入, issue 13): administrators only; the issue form
//! shows the new key once and the key works on `/open311/v2/`; the revoke form refuses it at
//! once; both forms need the session's CSRF token; both languages.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;

/// Posts an Open311 request with `key`; the status.
async fn post_request(t: &TestApp, key: &str) -> StatusCode {
    let body = format!(
        "api_key={key}&service_code=C01001&lat={}&long={}&description=x",
        cityops_test_support::city::A_NW.1,
        cityops_test_support::city::A_NW.0
    );
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri("/open311/v2/requests.json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
    .status
}

/// The key shown on the answer page.
fn shown_key(page: &str) -> String {
    let at = page
        .find(r#"id="issued-key-value" class="mono" type="text" value=""#)
        .expect("the key is shown");
    let rest = &page[at + r#"id="issued-key-value" class="mono" type="text" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn administrators_issue_and_revoke_keys_that_work_at_once() {
    let mut config = cityops_web::WebConfig::default();
    config.open311.services = vec!["C01001".into()];
    let t = case_city(config).await;
    let admin = t.session("admin").await;

    // Not for other roles: no link, 403.
    let intake = t.session("intake").await;
    assert!(
        !t.get_with("/", &intake)
            .await
            .text()
            .contains("/open311/clients")
    );
    assert_eq!(
        t.get_with("/open311/clients", &intake).await.status,
        StatusCode::FORBIDDEN
    );
    let token = form_token(&t.get_with("/", &intake).await.text());
    let a = t
        .post_form(
            "/open311/clients",
            &intake,
            &format!("name=x&csrf_token={token}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // The administrator's page, in both languages.
    let page = t.get_with("/open311/clients", &admin).await;
    page.assert_page(&["Open311 接入应用", "签发新的 API key", "还没有接入应用"]);
    assert!(
        t.get_with("/", &admin)
            .await
            .text()
            .contains("/open311/clients")
    );
    let en = t.get_with("/open311/clients?lang=en", &admin).await;
    en.assert_page(&["Open311 client applications", "Issue a new API key"]);

    // Without the CSRF token the guard refuses the form.
    let a = t
        .post_form("/open311/clients", &admin, "name=%E6%83%A0%E6%B0%91APP")
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // A blank name comes back with its reason.
    let token = form_token(&page.text());
    let a = t
        .post_form(
            "/open311/clients",
            &admin,
            &format!("name=+&csrf_token={token}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.text().contains("请填写应用名称"));

    // Issued: the key is shown once and works.
    let a = t
        .post_form(
            "/open311/clients",
            &admin,
            &format!("name=%E6%83%A0%E6%B0%91APP&contact=dev%40example.org&csrf_token={token}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let key = shown_key(&a.text());
    assert_eq!(key.len(), 64);
    assert_eq!(post_request(&t, &key).await, StatusCode::OK);
    let list = t.get_with("/open311/clients", &admin).await;
    let text = list.text();
    assert!(text.contains("惠民APP") && text.contains("dev@example.org"));
    assert!(!text.contains(&key), "the key is never shown again");
    assert!(!text.contains("从未使用"), "used once");

    // Revoked: refused at once.
    let id = t
        .state
        .store
        .list_open311_clients(cityops_domain::PageRequest {
            page: 1,
            page_size: 10,
        })
        .await
        .unwrap()
        .items[0]
        .id;
    let a = t
        .post_form(
            &format!("/open311/clients/{id}/revoke"),
            &admin,
            &format!("confirm=true&csrf_token={token}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        a.header("location"),
        Some(format!("/open311/clients?revoked={id}").as_str())
    );
    let back = t
        .get_with(&format!("/open311/clients?revoked={id}"), &admin)
        .await;
    back.assert_page(&["已吊销接入应用", "已吊销于"]);
    assert_eq!(post_request(&t, &key).await, StatusCode::FORBIDDEN);
    let a = t
        .post_form(
            "/open311/clients/999999/revoke",
            &admin,
            &format!("csrf_token={token}"),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
