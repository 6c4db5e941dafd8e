//! The case pages of the console: role-aware queues on the 工作台 and in the navigation, the case
//! list with its filters in the URL, the case page with its timeline and the allowed actions as
//! forms that go through `CaseService::act` (CSRF token required), on the case-workflow city
//! (`cityops_test_support::city::case_batch`) over SQLite, behind the web crate's middleware.
mod common;

use axum::http::StatusCode;
use cityops_app::ReportRequest;
use cityops_domain::CategoryKind;
use cityops_domain::case::{CaseStatus, CaseVisibility};
use cityops_test_support::city::{A_NW, A_SE, B_PT};
use cityops_web::WebConfig;
use common::{TestApp, form_token, start_time};

/// The console and API over the case-workflow city, with its responsibility matrix.
async fn app() -> TestApp {
    common::case_city(WebConfig::default()).await
}

/// Reports a case as `username` at a point (category 01001, a manhole cover component class).
async fn report(t: &TestApp, username: &str, (lng, lat): (f64, f64), text: &str) -> i64 {
    let user = t
        .state
        .store
        .credentials(username)
        .await
        .unwrap()
        .unwrap()
        .user;
    let req = ReportRequest {
        lng: Some(lng),
        lat: Some(lat),
        description: text.to_string(),
        category_kind: Some(CategoryKind::Component),
        category_code: Some("01001".to_string()),
        address: Some(format!("{text}路 1 号")),
        contact: Some("张三明 13812345678".to_string()),
        ..ReportRequest::default()
    };
    t.state
        .app
        .report(&user, req)
        .await
        .expect("report")
        .case
        .id
}

async fn status_of(t: &TestApp, id: i64) -> CaseStatus {
    t.state
        .store
        .get_case(id, &CaseVisibility::everything())
        .await
        .unwrap()
        .unwrap()
        .status
}

/// The text of a queue's count on the 工作台 (`data-queue="key"` card).
fn card_count(page: &str, key: &str) -> String {
    let at = page
        .find(&format!("data-queue=\"{key}\""))
        .unwrap_or_else(|| panic!("queue card {key} on the page"));
    let rest = &page[at..];
    let c = rest.find("class=\"qcount\"").expect("count link");
    let rest = &rest[c..];
    let gt = rest.find('>').unwrap();
    rest[gt + 1..gt + 1 + rest[gt + 1..].find('<').unwrap()].to_string()
}

/// The navigation count of a queue link.
fn nav_count(page: &str, key: &str) -> String {
    let href = format!("href=\"/cases?queue={key}\"");
    let at = page.find(&href).unwrap_or_else(|| panic!("nav link {key}"));
    let rest = &page[at..];
    let c = rest.find("data-nav-count>").expect("nav count") + "data-nav-count>".len();
    rest[c..c + rest[c..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn each_role_sees_its_queue_with_the_right_count() {
    let t = app().await;
    let a1 = report(&t, "inspector2", A_NW, "井盖缺失一").await;
    let _a2 = report(&t, "inspector2", A_SE, "井盖缺失二").await;
    let _b = report(&t, "b_inspector", B_PT, "惠阳井盖").await;

    // Intake of district A: two new reports (not district B's).
    let intake = t.session("intake").await;
    let page = t.get_with("/", &intake).await;
    page.assert_page(&["我的待办", "新上报"]);
    let body = page.text();
    assert_eq!(card_count(&body, "new_reports"), "2");
    assert_eq!(nav_count(&body, "new_reports"), "2");
    assert!(
        !body.contains("data-queue=\"to_dispatch\""),
        "not the dispatcher's queue"
    );
    assert!(
        !body.contains("后续功能"),
        "no page says that something comes later"
    );

    // District B's intake sees one.
    let b_intake = t.session("b_intake").await;
    let body = t.get_with("/", &b_intake).await.text();
    assert_eq!(card_count(&body, "new_reports"), "1");

    // The supervisor files one: the dispatcher's queue shows it with the suggestion and why.
    let sup = t.session("supervisor").await;
    let page = t.get_with(&format!("/cases/{a1}"), &sup).await.text();
    let token = form_token(&page);
    let r = t
        .post_form(
            &format!("/cases/{a1}/act/file"),
            &sup,
            &format!("csrf_token={token}&category_code=01001&urgency=normal"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&t, a1).await, CaseStatus::Filed);

    let disp = t.session("dispatcher").await;
    let body = t.get_with("/", &disp).await.text();
    assert_eq!(card_count(&body, "to_dispatch"), "1");
    assert!(
        body.contains("惠城区市政管理所"),
        "the suggested department"
    );
    assert!(body.contains("依据权责清单"), "why it was suggested");
    let list = t.get_with("/cases?queue=to_dispatch", &disp).await;
    list.assert_page(&["待派遣", "依据权责清单", &format!("/cases/{a1}")]);

    // Handlers: nothing to sign yet; the municipal department's handler after dispatch.
    let handler = t.session("a_handler_dept").await;
    let body = t.get_with("/", &handler).await.text();
    assert_eq!(card_count(&body, "to_sign"), "0");
}

#[tokio::test]
async fn the_loop_by_forms_changes_the_case_and_needs_the_token() {
    let t = app().await;
    let id = report(&t, "inspector2", A_NW, "井盖破损").await;
    let b = report(&t, "b_inspector", B_PT, "惠阳井盖").await;

    // File (supervisor).
    let sup = t.session("supervisor").await;
    let page = t.get_with(&format!("/cases/{id}"), &sup).await;
    page.assert_page(&["流转记录", "上报", "data-action=\"file\"", "立案"]);
    let body = page.text();
    assert!(
        !body.contains("data-action=\"dispatch\""),
        "only the allowed actions"
    );
    assert!(!body.contains("data-action=\"sign\""));
    assert!(
        body.contains("13812345678"),
        "a supervisor sees the contact in full"
    );
    let token = form_token(&body);
    let r = t
        .post_form(
            &format!("/cases/{id}/act/file"),
            &sup,
            &format!(
                "csrf_token={token}&category_code=01001&urgency=normal&comment=%E7%AB%8B%E6%A1%88"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some(format!("/cases/{id}?done=file").as_str())
    );
    let after = t.get_with(&format!("/cases/{id}?done=file"), &sup).await;
    after.assert_page(&["已完成：立案", "id=\"action-notice\""]);

    // Dispatch (dispatcher): the button names the suggested department.
    let disp = t.session("dispatcher").await;
    let page = t.get_with(&format!("/cases/{id}"), &disp).await;
    page.assert_page(&["派遣至 惠城区市政管理所", "data-action=\"dispatch\""]);
    let body = page.text();
    assert!(!body.contains("data-action=\"file\""));
    let token = form_token(&body);
    let municipal = t
        .state
        .store
        .get_department_by_code("441302-municipal")
        .await
        .unwrap()
        .unwrap()
        .id;

    // A forged form without the token is refused and changes nothing.
    let forged = t
        .post_form(
            &format!("/cases/{id}/act/dispatch"),
            &disp,
            &format!("department_id={municipal}"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&t, id).await, CaseStatus::Filed);
    let wrong = t
        .post_form(
            &format!("/cases/{id}/act/dispatch"),
            &disp,
            &format!("csrf_token={}&department_id={municipal}", "0".repeat(64)),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&t, id).await, CaseStatus::Filed);

    let r = t
        .post_form(
            &format!("/cases/{id}/act/dispatch"),
            &disp,
            &format!("csrf_token={token}&department_id={municipal}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&t, id).await, CaseStatus::Dispatched);

    // Sign (the municipal department's handler), who sees it in the queue first.
    let handler = t.session("a_handler_dept").await;
    let body = t.get_with("/", &handler).await.text();
    assert_eq!(card_count(&body, "to_sign"), "1");
    let page = t.get_with(&format!("/cases/{id}"), &handler).await.text();
    assert!(page.contains("data-action=\"sign\""));
    // The deadline and the light in words.
    assert!(
        page.contains("签收时限 1 工作时，剩余 1 小时 0 分"),
        "deadline in words"
    );
    assert!(page.contains("绿灯：时限内"));
    assert!(page.contains("张*明"), "a handler sees the contact masked");
    assert!(!page.contains("13812345678"));
    let token = form_token(&page);
    let r = t
        .post_form(
            &format!("/cases/{id}/act/sign"),
            &handler,
            &format!("csrf_token={token}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&t, id).await, CaseStatus::Handling);
    let body = t.get_with("/", &handler).await.text();
    assert_eq!(card_count(&body, "to_sign"), "0");
    assert_eq!(card_count(&body, "handling"), "1");

    // The timeline holds every step.
    let page = t.get_with(&format!("/cases/{id}"), &handler).await.text();
    for step in ["上报", "立案", "派遣", "签收"] {
        assert!(page.contains(&format!("<strong>{step}</strong>")), "{step}");
    }

    // Another department never sees the case, not by id either; nor district B's case here.
    let other = t.session("b_handler").await;
    assert_eq!(
        t.get_with(&format!("/cases/{id}"), &other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get_with(&format!("/cases/{b}"), &handler).await.status,
        StatusCode::NOT_FOUND
    );
    let list = t.get_with("/cases", &other).await.text();
    assert!(!list.contains(&format!("/cases/{id}\"")));
    // Acting on a case outside the scope is the same 404, and changes nothing.
    let page = t.get_with("/cases", &other).await.text();
    let token = form_token(&page);
    let r = t
        .post_form(
            &format!("/cases/{id}/act/handle"),
            &other,
            &format!("csrf_token={token}&photos=x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&t, id).await, CaseStatus::Handling);
}

#[tokio::test]
async fn an_invalid_action_shows_the_error_inline_and_changes_nothing() {
    let t = app().await;
    let id = report(&t, "inspector2", A_NW, "井盖").await;
    let sup = t.session("supervisor").await;
    let page = t.get_with(&format!("/cases/{id}"), &sup).await.text();
    let token = form_token(&page);
    // Reject needs a reason.
    let r = t
        .post_form(
            &format!("/cases/{id}/act/reject"),
            &sup,
            &format!("csrf_token={token}&reason=+"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text();
    assert!(
        body.contains("id=\"error-reject\""),
        "the error beside its form"
    );
    assert!(body.contains("请填写“理由”"));
    assert_eq!(status_of(&t, id).await, CaseStatus::Reported);
    // In English too.
    let en = format!("{sup}; cityops_lang=en");
    let r = t
        .post_form(
            &format!("/cases/{id}/act/reject"),
            &en,
            &format!("csrf_token={token}"),
        )
        .await;
    assert!(r.text().contains("Please fill in “Reason”"));
    // An action the case does not allow now: the machine's refusal, inline.
    let r = t
        .post_form(
            &format!("/cases/{id}/act/close"),
            &sup,
            &format!("csrf_token={token}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("未能办理“结案”"));
    assert_eq!(status_of(&t, id).await, CaseStatus::Reported);
    // A category code that is malformed never reaches the service.
    let r = t
        .post_form(
            &format!("/cases/{id}/act/file"),
            &sup,
            &format!("csrf_token={token}&category_code=abc"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"error-file\""));
    assert_eq!(status_of(&t, id).await, CaseStatus::Reported);
}

#[tokio::test]
async fn the_list_keeps_filters_sort_and_page_in_the_url() {
    let t = app().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        t.clock.advance(chrono::Duration::minutes(1));
        ids.push(report(&t, "inspector2", A_NW, &format!("案件{i:02}")).await);
    }
    let intake = t.session("intake").await;
    // Oldest first, ten per page: page 2 holds the last two.
    let page = t
        .get_with(
            "/cases?status=reported&sort=created_asc&page_size=10&page=2",
            &intake,
        )
        .await;
    page.assert_page(&["案件10", "案件11"]);
    let body = page.text();
    assert!(
        !body.contains("案件09路"),
        "page 1's rows are not on page 2"
    );
    assert!(
        body.contains(
            r#"href="/cases?status=reported&#38;sort=created_asc&#38;page_size=10" rel="prev""#
        ),
        "the paging links keep the filters"
    );
    assert!(
        body.contains(r#"<input type="hidden" name="status" value="reported">"#),
        "so does the page form"
    );
    assert!(
        body.contains("<option value=\"reported\" selected>"),
        "the filter stays selected"
    );
    // The reported time's own name for the sort.
    let body = t
        .get_with("/cases?sort=reported_asc&page_size=10", &intake)
        .await
        .text();
    assert!(body.contains("案件00") && !body.contains("案件11"));
    // Newest first by default.
    let body = t.get_with("/cases?page_size=10", &intake).await.text();
    let (a, b) = (body.find("案件11").unwrap(), body.find("案件02").unwrap());
    assert!(a < b, "newest first");
    // Text search and a queue preset.
    let body = t
        .get_with("/cases?q=%E6%A1%88%E4%BB%B605", &intake)
        .await
        .text();
    assert!(body.contains("案件05"));
    assert!(!body.contains("案件06"));
    let body = t.get_with("/cases?queue=new_reports", &intake).await.text();
    assert!(body.contains("案件00") && body.contains("aria-current=\"page\""));
    // A malformed filter is named on the page.
    let bad = t.get_with("/cases?status=nonsense", &intake).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("nonsense"));
    // The status filter excludes what does not match.
    let body = t.get_with("/cases?status=closed", &intake).await.text();
    assert!(!body.contains("案件00"));
    // Dates: reported today (local) holds them, tomorrow nothing.
    let today = start_time()
        .with_timezone(&chrono_tz_shanghai())
        .format("%Y-%m-%d")
        .to_string();
    let body = t
        .get_with(&format!("/cases?from={today}&to={today}"), &intake)
        .await
        .text();
    assert!(body.contains("案件00"));
}

fn chrono_tz_shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

#[tokio::test]
async fn a_duplicate_is_shown_beside_its_master_and_merged_by_form() {
    let t = app().await;
    let master = report(&t, "inspector2", A_NW, "井盖丢失").await;
    t.clock.advance(chrono::Duration::minutes(5));
    let dup = report(&t, "inspector2", A_NW, "同一处井盖").await;
    let intake = t.session("intake").await;
    let body = t.get_with("/", &intake).await.text();
    assert_eq!(card_count(&body, "duplicates"), "1");
    let page = t.get_with(&format!("/cases/{dup}"), &intake).await;
    page.assert_page(&[
        "id=\"duplicate-compare\"",
        "同一处井盖",
        "井盖丢失",
        "data-action=\"merge\"",
        &format!("name=\"master_case_id\" type=\"number\" min=\"1\" value=\"{master}\""),
    ]);
    let token = form_token(&page.text());
    let r = t
        .post_form(
            &format!("/cases/{dup}/act/merge"),
            &intake,
            &format!("csrf_token={token}&master_case_id={master}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(status_of(&t, dup).await, CaseStatus::Cancelled);
    assert_eq!(status_of(&t, master).await, CaseStatus::Reported);
    let body = t.get_with("/", &intake).await.text();
    assert_eq!(card_count(&body, "duplicates"), "0");
    let page = t.get_with(&format!("/cases/{dup}"), &intake).await.text();
    assert!(
        page.contains(&format!("href=\"/cases/{master}\"")),
        "merged into, linked"
    );
}
