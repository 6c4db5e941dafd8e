//! The phone pages (issue 10): each page renders for its role (and for citizens without an
//! account), the duplicate prompt lists a nearby open case of the same category and following it
//! really adds a follower, signing and handling through the phone forms change the case, the
//! inspector's check result too, and a citizen follows an anonymous report with code and token.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cityops_app::ReportRequest;
use cityops_domain::User;
use cityops_domain::case::{ActionInput, CaseAction, CaseStatus, CaseVisibility};
use cityops_store::NewAttachment;
use cityops_test_support::city::{A_NW, NO_LOGIN_HASH, case_batch};
use common::{Answer, TestApp, state_with};

async fn phone_app() -> TestApp {
    let (state, clock) = state_with(&case_batch(NO_LOGIN_HASH), false).await;
    let app = cityops_web::router_with(state.clone(), cityops_ui::router(state.clone()));
    TestApp { app, state, clock }
}

async fn user(t: &TestApp, name: &str) -> User {
    t.state
        .store
        .credentials(name)
        .await
        .unwrap()
        .expect("user")
        .user
}

/// The CSRF token of a session cookie `cityops_session=<token>`.
fn csrf(cookie: &str) -> String {
    cityops_web::csrf::token_for(cookie.split_once('=').unwrap().1)
}

async fn post_form(
    t: &TestApp,
    uri: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Answer {
    let mut all: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(c) = cookie {
        all.push(("csrf_token".into(), csrf(c)));
    }
    let body = all
        .iter()
        .map(|(k, v)| format!("{}={}", k, urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    t.send(req.body(Body::from(body)).unwrap()).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An inspector's report of a manhole cover (01001) at a point of grid NW.
async fn inspector_report(t: &TestApp, description: &str) -> cityops_domain::case::Case {
    let inspector = user(t, "inspector1").await;
    t.state
        .app
        .report(
            &inspector,
            ReportRequest {
                lng: Some(A_NW.0),
                lat: Some(A_NW.1),
                description: description.into(),
                category_code: Some("01001".into()),
                category_kind: Some(cityops_domain::CategoryKind::Component),
                ..ReportRequest::default()
            },
        )
        .await
        .expect("report")
        .case
}

async fn act(t: &TestApp, who: &str, id: i64, action: CaseAction, input: ActionInput) {
    let u = user(t, who).await;
    t.state
        .app
        .act(&u, id, action, input, &[])
        .await
        .unwrap_or_else(|e| panic!("{action} by {who}: {e}"));
}

async fn status_of(t: &TestApp, id: i64) -> cityops_domain::case::Case {
    t.state
        .store
        .get_case(id, &CaseVisibility::everything())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn each_phone_page_renders_for_its_role() {
    let t = phone_app().await;
    let inspector = t.session("inspector1").await;
    let handler = t.session("handler").await;

    let a = t.get_with("/m/report", &inspector).await;
    a.assert_page(&[
        "问题上报",
        r#"capture="environment""#,
        r#"id="m-cat-search""#,
        r#"data-code="01001""#,
        "上水井盖",
        r#"id="m-tab-tasks""#,
        r#"name="csrf-token" content=""#,
        "/assets/phone.js",
    ]);
    assert!(
        !a.text().contains(r#"id="m-phone""#),
        "staff give no contact"
    );
    let a = t.get_with("/m/tasks", &inspector).await;
    a.assert_page(&["待核实", "待核查", r#"id="m-verify""#]);
    let a = t.get_with("/m/tasks", &handler).await;
    a.assert_page(&["待签收", "处置中", r#"id="m-to-sign""#]);
    assert!(!a.text().contains("待核实"));
    t.get_with("/m/me", &handler)
        .await
        .assert_page(&["李处置", "退出登录"]);

    // Citizens without an account: the public report, follow and me.
    let a = t.get("/m/report").await;
    a.assert_page(&[
        "我要反映问题",
        r#"id="m-phone""#,
        r#"data-public="1""#,
        r#"id="m-tab-follow""#,
    ]);
    assert!(!a.text().contains(r#"id="m-tab-tasks""#));
    t.get("/m/follow")
        .await
        .assert_page(&["进度查询", r#"id="m-follow-token""#]);
    t.get("/m/me")
        .await
        .assert_page(&["未登录", "工作人员登录"]);
    // Tasks need a session.
    let a = t.get("/m/tasks").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // English is complete.
    t.get("/m/report?lang=en")
        .await
        .assert_page(&["Report a problem", "Follow", "Send report"]);
    // The service worker that keeps the report page for offline use.
    let a = t.get("/m/sw.js").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("/m/report"));
    // /m sends each role to its tab.
    let a = t.get_with("/m", &handler).await;
    assert_eq!(a.header("location"), Some("/m/tasks"));
    let a = t.get("/m").await;
    assert_eq!(a.header("location"), Some("/m/report"));
}

#[tokio::test]
async fn the_duplicate_prompt_lists_a_nearby_case_and_following_it_adds_a_follower() {
    let t = phone_app().await;
    let case = inspector_report(&t, "井盖缺失").await;
    let other = t.session("inspector2").await;
    let near = format!(
        "/m/nearby?lng={}&lat={}&crs=wgs84&category=01001",
        A_NW.0 + 0.0001,
        A_NW.1
    );
    let a = t.get_with(&near, &other).await;
    a.assert_page(&[
        "是同一问题吗？",
        &case.code,
        "井盖缺失",
        "是同一问题，关注此案件",
    ]);
    // Another category, or 200 m away: nothing.
    let a = t
        .get_with(&near.replace("category=01001", "category=01002"), &other)
        .await;
    assert!(!a.text().contains(&case.code));
    let far = format!(
        "/m/nearby?lng={}&lat={}&category=01001",
        A_NW.0 + 0.002,
        A_NW.1
    );
    assert!(!t.get_with(&far, &other).await.text().contains(&case.code));
    // Visitors without a session see no one's cases.
    assert!(!t.get(&near).await.text().contains(&case.code));

    // "Same problem": inspector2 follows the case instead of reporting it again.
    let inspector2 = user(&t, "inspector2").await;
    let mine = CaseVisibility {
        user_id: Some(inspector2.id),
        ..CaseVisibility::default()
    };
    assert!(
        t.state
            .store
            .get_case(case.id, &mine)
            .await
            .unwrap()
            .is_none()
    );
    let a = post_form(
        &t,
        &format!("/m/cases/{}/follow", case.id),
        Some(&other),
        &[],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    assert_eq!(
        a.header("location"),
        Some(format!("/m/report?followed={}", case.code).as_str())
    );
    assert!(
        t.state
            .store
            .get_case(case.id, &mine)
            .await
            .unwrap()
            .is_some(),
        "a follower now"
    );
    let before = t
        .state
        .store
        .count_cases(
            &cityops_store::CaseQuery::new(cityops_domain::Clock::now(t.clock.as_ref())),
            &CaseVisibility::everything(),
        )
        .await
        .unwrap()
        .total;
    assert_eq!(before, 1, "no second case");
}

#[tokio::test]
async fn signing_handling_and_checking_through_the_phone_forms_change_the_case() {
    let t = phone_app().await;
    let case = inspector_report(&t, "井盖破损").await;
    act(
        &t,
        "supervisor",
        case.id,
        CaseAction::File,
        ActionInput {
            category_code: Some("01001".into()),
            category_kind: Some(cityops_domain::CategoryKind::Component),
            ..ActionInput::default()
        },
    )
    .await;
    let municipal = t
        .state
        .store
        .get_department_by_code("441302-municipal")
        .await
        .unwrap()
        .unwrap()
        .id;
    act(
        &t,
        "dispatcher",
        case.id,
        CaseAction::Dispatch,
        ActionInput {
            department_id: Some(municipal),
            ..ActionInput::default()
        },
    )
    .await;

    let handler = t.session("handler").await;
    let page = t.get_with("/m/tasks", &handler).await;
    page.assert_page(&[&case.code, "m-do-sign", "签收"]);
    let a = post_form(
        &t,
        &format!("/m/cases/{}/act", case.id),
        Some(&handler),
        &[("action", "sign")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    assert!(a.header("location").unwrap().starts_with("/m/tasks?done="));
    assert_eq!(status_of(&t, case.id).await.status, CaseStatus::Handling);

    // Handling needs the after photo: without it the page says why and nothing changes.
    let a = post_form(
        &t,
        &format!("/m/cases/{}/act", case.id),
        Some(&handler),
        &[("action", "handle"), ("comment", "已更换")],
    )
    .await;
    assert!(a.header("location").unwrap().starts_with("/m/tasks?error="));
    assert_eq!(status_of(&t, case.id).await.status, CaseStatus::Handling);
    let h = user(&t, "handler").await;
    let photo = t
        .state
        .store
        .create_attachment(&NewAttachment {
            sha256: "a".repeat(64),
            mime: "image/jpeg".into(),
            bytes: 10,
            width: 1,
            height: 1,
            thumb_sha256: "b".repeat(64),
            uploaded_by: h.id,
            created_at: cityops_domain::Clock::now(t.clock.as_ref()),
            file_name: None,
        })
        .await
        .unwrap();
    t.get_with("/m/tasks", &handler)
        .await
        .assert_page(&["m-do-handle", r#"capture="environment""#]);
    let a = post_form(
        &t,
        &format!("/m/cases/{}/act", case.id),
        Some(&handler),
        &[
            ("action", "handle"),
            ("comment", "已更换"),
            ("photo", &photo.public_id),
        ],
    )
    .await;
    assert!(
        a.header("location").unwrap().starts_with("/m/tasks?done="),
        "{:?}",
        a.header("location")
    );
    assert_eq!(status_of(&t, case.id).await.status, CaseStatus::Handled);

    // The inspector checks it with one tap.
    act(
        &t,
        "intake",
        case.id,
        CaseAction::SendCheck,
        ActionInput::default(),
    )
    .await;
    let inspector = t.session("inspector1").await;
    t.get_with("/m/tasks", &inspector).await.assert_page(&[
        &case.code,
        "m-do-check-pass",
        "核查不通过",
    ]);
    let a = post_form(
        &t,
        &format!("/m/cases/{}/act", case.id),
        Some(&inspector),
        &[("action", "check_pass")],
    )
    .await;
    assert!(a.header("location").unwrap().starts_with("/m/tasks?done="));
    assert!(status_of(&t, case.id).await.check_passed);

    // Without the CSRF token the form is refused and nothing changes.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/m/cases/{}/act", case.id))
                .header(header::COOKIE, &handler)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("action=sign"))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_citizen_follows_an_anonymous_report_by_code_and_token() {
    let t = phone_app().await;
    let receipt = t
        .state
        .app
        .report_public(ReportRequest {
            lng: Some(A_NW.0),
            lat: Some(A_NW.1),
            description: "路灯不亮".into(),
            contact: Some("王小明 13812345678".into()),
            ..ReportRequest::default()
        })
        .await
        .expect("anonymous report");
    let code = receipt.case.case.code.clone();
    let a = post_form(
        &t,
        "/m/follow",
        None,
        &[("code", &code), ("token", &receipt.token)],
    )
    .await;
    a.assert_page(&[&code, r#"id="m-follow-status""#, "待受理"]);
    let text = a.text();
    assert!(
        !text.contains("王小明") && !text.contains("13812345678") && !text.contains("路灯不亮")
    );
    assert!(!text.contains(r#"id="m-rate""#), "no rating before closure");
    let a = post_form(
        &t,
        "/m/follow",
        None,
        &[("code", &code), ("token", &"0".repeat(32))],
    )
    .await;
    a.assert_page(&["没有找到"]);
    assert!(!a.text().contains(r#"id="m-follow-status""#));
    // Rating before closure is refused through the page too.
    let a = post_form(
        &t,
        "/m/follow/rate",
        None,
        &[("code", &code), ("token", &receipt.token), ("score", "5")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.text().contains(r#"id="m-rate-thanks""#));
    assert_eq!(status_of(&t, receipt.case.case.id).await.rating, None);
}
