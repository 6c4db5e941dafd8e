//! The console's third-party review page (第三方评价, `/reviews`) on the case-workflow city over
//! SQLite, behind the web crate's middleware: a leader draws last month's sample with the
//! button and sees the per-department scores; a reviewer (navigation entry, zh-CN and English)
//! sees the sampled cases linking to their case pages, scores one with the form (CSRF token
//! required), is told why a refused review was refused with what they typed kept; other roles
//! get 403 and no entry.
mod common;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use cityops_app::ReportRequest;
use cityops_domain::case::{ActionInput, CaseAction, CaseStatus, CaseVisibility};
use cityops_domain::{CategoryKind, Clock, User};
use cityops_store::NewAttachment;
use cityops_test_support::city::A_NW;
use cityops_web::WebConfig;
use common::{TestApp, form_token};

async fn app() -> TestApp {
    common::case_city(WebConfig::default()).await
}

async fn user(t: &TestApp, username: &str) -> User {
    t.state
        .store
        .credentials(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
        .user
}

/// Reports in grid NW of district A as intake and walks the case to `closed` through the case
/// service, as the district's staff.
async fn closed_case(t: &TestApp, text: &str) -> i64 {
    let app = &t.state.app;
    let req = ReportRequest {
        lng: Some(A_NW.0),
        lat: Some(A_NW.1),
        description: text.to_string(),
        category_kind: Some(CategoryKind::Component),
        category_code: Some("01001".to_string()),
        contact: Some("张三明 13812345678".to_string()),
        ..ReportRequest::default()
    };
    let id = app
        .report(&user(t, "intake").await, req)
        .await
        .expect("report")
        .case
        .id;
    let steps: [(&str, CaseAction, ActionInput); 7] = [
        (
            "supervisor",
            CaseAction::File,
            ActionInput {
                filing_seq: Some(1),
                ..ActionInput::default()
            },
        ),
        ("dispatcher", CaseAction::Dispatch, ActionInput::default()),
        ("a_handler_dept", CaseAction::Sign, ActionInput::default()),
        (
            "a_handler_dept",
            CaseAction::Handle,
            ActionInput {
                comment: Some("已修复".into()),
                ..ActionInput::default()
            },
        ),
        ("intake", CaseAction::SendCheck, ActionInput::default()),
        ("inspector1", CaseAction::CheckPass, ActionInput::default()),
        ("supervisor", CaseAction::Close, ActionInput::default()),
    ];
    for (who, action, mut input) in steps {
        if action == CaseAction::Handle {
            // The after-photo the handling needs (a record is enough to link it).
            let photo = t
                .state
                .store
                .create_attachment(&NewAttachment {
                    sha256: format!("{id:064x}"),
                    mime: "image/jpeg".into(),
                    bytes: 1000,
                    width: 640,
                    height: 480,
                    thumb_sha256: format!("{:064x}", id + 1_000_000),
                    uploaded_by: user(t, who).await.id,
                    created_at: t.clock.now(),
                    file_name: None,
                })
                .await
                .expect("create_attachment");
            input.attachments = vec![photo.id];
        }
        app.act(&user(t, who).await, id, action, input, &[])
            .await
            .unwrap_or_else(|e| panic!("{action} by {who}: {e}"));
    }
    let case = t
        .state
        .store
        .get_case(id, &CaseVisibility::everything())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.status, CaseStatus::Closed);
    id
}

/// Percent-encodes a form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn leaders_draw_and_reviewers_score_on_the_review_page() {
    let t = app().await;
    let mut closed = Vec::new();
    for i in 0..3 {
        closed.push(closed_case(&t, &format!("井盖破损 {i}")).await);
    }
    // 1 December 2026, 10:00 local: November is over.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).single().unwrap());

    // The leader: the scores of last month (none yet) and the draw button.
    let leader = t.session("leader").await;
    let page = t.get_with("/reviews", &leader).await;
    page.assert_page(&[
        "部门评价得分",
        "所选周期内尚无评价样本",
        "action=\"/reviews/samples\"",
        "value=\"2026-11-01\"",
        "value=\"2026-11-30\"",
        "href=\"/reviews\"",
    ]);
    assert!(
        !page.text().contains("id=\"review-tasks\""),
        "leaders do not review"
    );
    let token = form_token(&page.text());
    // Without the token nothing is drawn.
    let forged = t
        .post_form("/reviews/samples", &leader, "from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let r = t
        .post_form(
            "/reviews/samples",
            &leader,
            &format!("csrf_token={token}&from=2026-11-01&to=2026-11-30"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.header("location").unwrap().to_string();
    assert_eq!(to, "/reviews?from=2026-11-01&to=2026-11-30&drawn=3");
    let page = t.get_with(&to, &leader).await;
    page.assert_page(&["已抽取样本，新增案件 3", "惠城区市政管理所"]);
    // Drawing again changes nothing, and says so.
    let r = t
        .post_form(
            "/reviews/samples",
            &leader,
            &format!("csrf_token={token}&from=2026-11-01&to=2026-11-30"),
        )
        .await;
    let page = t.get_with(r.header("location").unwrap(), &leader).await;
    page.assert_page(&["本周期样本此前已抽取"]);
    // A period not over yet is refused with the reason.
    let r = t
        .post_form(
            "/reviews/samples",
            &leader,
            &format!("csrf_token={token}&from=2026-12-01&to=2026-12-31"),
        )
        .await;
    let page = t.get_with(r.header("location").unwrap(), &leader).await;
    page.assert_page(&["该周期尚未结束"]);

    // The reviewer: the navigation entry, the sampled cases linking to their pages, a form each.
    let reviewer = t.session("reviewer").await;
    let page = t.get_with("/reviews", &reviewer).await;
    let mut needles = vec![
        "href=\"/reviews\"".to_string(),
        "评价任务".to_string(),
        "待评价".to_string(),
    ];
    for id in &closed {
        needles.push(format!("href=\"/cases/{id}\""));
        needles.push(format!("action=\"/reviews/{id}\""));
    }
    page.assert_page(&needles.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        !page.text().contains("id=\"review-scores\""),
        "reviewers do not draw"
    );
    // The case page opens for the reviewer.
    t.get_with(&format!("/cases/{}", closed[0]), &reviewer)
        .await
        .assert_page(&["已结案"]);
    let token = form_token(&page.text());

    // A refused review: no score; the reason beside the form, the comment kept.
    let r = t
        .post_form(
            &format!("/reviews/{}", closed[0]),
            &reviewer,
            &format!("csrf_token={token}&comment={}", enc("路面已平整")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text();
    assert!(
        body.contains(&format!("id=\"error-{}\"", closed[0])),
        "{body}"
    );
    assert!(body.contains("请选择 1–5 分"));
    assert!(body.contains(">路面已平整</textarea>"));

    // The review.
    let r = t
        .post_form(
            &format!("/reviews/{}", closed[0]),
            &reviewer,
            &format!("csrf_token={token}&score=5&comment={}", enc("路面已平整")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.header("location").unwrap().to_string();
    assert_eq!(to, format!("/reviews?done={}", closed[0]));
    let page = t.get_with(&to, &reviewer).await;
    page.assert_page(&["评价已提交：案件", "已评价", "5 很满意", "路面已平整"]);
    assert!(
        !page
            .text()
            .contains(&format!("action=\"/reviews/{}\"", closed[0])),
        "no form for a reviewed case"
    );
    // Once per case: the reason at the top.
    let r = t
        .post_form(
            &format!("/reviews/{}", closed[0]),
            &reviewer,
            &format!("csrf_token={token}&score=1&comment=x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("该案件已评价"));

    // In English.
    t.get_with("/reviews?lang=en", &reviewer)
        .await
        .assert_page(&[
            "Third-party review",
            "Review tasks",
            "5 Very satisfied",
            "Send the review",
        ]);

    // The leader's scores show the review.
    let page = t
        .get_with("/reviews?from=2026-11-01&to=2026-11-30", &leader)
        .await;
    let body = page.text();
    let row = &body[body
        .find("<th scope=\"row\">惠城区市政管理所</th>")
        .expect("the row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    for cell in [">3<", ">1<", ">5.00<", ">5<"] {
        assert!(row.contains(cell), "{cell} in {row}");
    }

    // Other roles: 403 and no entry.
    let inspector = t.session("inspector1").await;
    let page = t.get_with("/reviews", &inspector).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        !t.get_with("/", &inspector)
            .await
            .text()
            .contains("href=\"/reviews\"")
    );
    let token = form_token(&t.get_with("/", &inspector).await.text());
    let r = t
        .post_form(
            &format!("/reviews/{}", closed[1]),
            &inspector,
            &format!("csrf_token={token}&score=3&comment=x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post_form(
            "/reviews/samples",
            &reviewer,
            &format!(
                "csrf_token={}&from=2026-11-01&to=2026-11-30",
                form_token(&t.get_with("/", &reviewer).await.text())
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
