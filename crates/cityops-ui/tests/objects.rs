//! 一码管全域 in the console and on the phone (issue 14): the object list, the object's page, the
//! label sheets, the discrepancies and the stage statistics render for the roles that see them
//! (and refuse the others); the scan page shows the public card to anyone without anything
//! personal; the responsible party's self-check and the inspector's inspection are real forms
//! (CSRF, photos, position) that go through the service and show what they did — a far scan
//! flagged, the discrepancy with the self-check, the rectification opened; the 三教而罚 ladder's
//! notices and its enforcement case then appear on the object's page and the scan page; the QR
//! label is served as SVG.
mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use cityops_app::ObjectSettings;
use cityops_app::objects::ObjectInput;
use cityops_domain::User;
use cityops_domain::objects::{ObjectCode, ObjectKind, RectStage};
use cityops_store::{NewAttachment, RectificationFilter};
use cityops_test_support::city::{A_NW, B_PT};
use cityops_web::WebConfig;
use common::{Answer, TestApp, case_city};

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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts a form with the session's CSRF token (or none without a session).
async fn post_form(
    t: &TestApp,
    uri: &str,
    cookie: Option<&str>,
    fields: &[(&str, String)],
) -> Answer {
    let mut all: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    if let Some(c) = cookie {
        all.push(("csrf_token".into(), csrf(c)));
    }
    let body = all
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
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

/// The case city with the ladder's enforcement case filed under the fixture's matter category.
async fn objects_app() -> TestApp {
    case_city(WebConfig {
        objects: ObjectSettings {
            case_categories: BTreeMap::new(),
            fallback_case_category: "01001".into(),
            upkeep_interval: std::time::Duration::ZERO,
            ..ObjectSettings::default()
        },
        ..WebConfig::default()
    })
    .await
}

/// A street-front shop in district A whose responsible party is `a_responsible_party`.
async fn shop(t: &TestApp) -> ObjectCode {
    let admin = user(t, "admin").await;
    let stored = t
        .state
        .objects
        .create(
            &admin,
            ObjectInput {
                code: None,
                kind: ObjectKind::StreetShop,
                name: "府城老街杂货店".into(),
                address: "惠城区府城路 8 号".into(),
                lng: A_NW.0,
                lat: A_NW.1,
                crs: None,
                zone: None,
                responsible_name: "陈小明".into(),
                responsible_phone: "13800001234".into(),
                responsible_username: Some("a_responsible_party".into()),
                owner_department: None,
            },
        )
        .await
        .expect("the shop");
    stored.object.code
}

/// A photo uploaded by `username` (a record; the pages only link it).
async fn photo(t: &TestApp, username: &str, n: u8) -> String {
    let u = user(t, username).await;
    t.state
        .store
        .create_attachment(&NewAttachment {
            sha256: format!("{n:x}").repeat(64)[..64].to_string(),
            mime: "image/jpeg".into(),
            bytes: 10,
            width: 1,
            height: 1,
            thumb_sha256: format!("{:x}", n + 1).repeat(64)[..64].to_string(),
            uploaded_by: u.id,
            created_at: cityops_domain::Clock::now(t.clock.as_ref()),
            file_name: None,
        })
        .await
        .unwrap()
        .public_id
}

/// Asserts that an HTML answer (of any status) contains every needle.
#[track_caller]
fn contains(a: &Answer, needles: &[&str]) {
    let body = a.text();
    for n in needles {
        assert!(
            body.contains(n),
            "the page ({}) should contain {n:?}",
            a.status
        );
    }
}

/// The `?check=` a posted check redirects to.
fn check_location(a: &Answer, code: &ObjectCode) -> String {
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    let loc = a.header("location").expect("location").to_string();
    assert!(loc.starts_with(&format!("/m/o/{code}?check=")), "{loc}");
    loc
}

#[tokio::test]
async fn the_console_lists_objects_and_shows_one_with_its_label() {
    let t = objects_app().await;
    let code = shop(&t).await;
    let sup = t.session("supervisor").await;
    let list = t.get_with("/objects", &sup).await;
    list.assert_page(&[
        "<title>管理对象",
        "一码管全域",
        r#"href="/objects/discrepancies""#,
        r#"href="/objects/stats""#,
        "府城老街杂货店",
        &code.grouped(),
        "沿街商铺",
        // The supervisor sees the party in full; the label and the sheets are linked.
        "陈小明 13800001234",
        &format!("/api/v1/objects/{code}/label.svg"),
        r#"id="print-labels" href="/objects/labels""#,
        r#"id="obj-map-config""#,
        "objects.js",
    ]);
    // Filters: another kind finds nothing; a malformed street is said.
    let none = t.get_with("/objects?kind=school", &sup).await;
    assert!(!none.text().contains("府城老街杂货店"));
    t.get_with("/objects?street=12", &sup)
        .await
        .assert_page(&["街道须为 9 位街道代码"]);
    // The object's page.
    let page = t.get_with(&format!("/objects/{code}"), &sup).await;
    page.assert_page(&[
        r#"id="object-title">府城老街杂货店"#,
        r#"id="object-code""#,
        "对象信息",
        "惠城区府城路 8 号",
        "陈小明 13800001234（已关联账号）",
        "门前三包责任区",
        r#"id="obj-map-config""#,
        &format!(r#"src="/api/v1/objects/{code}/label.svg""#),
        &format!("/m/o/{code}"),
        "自查可信度",
        "暂无数据",
        "没有整改记录。",
        "还没有检查记录。",
    ]);
    // Masked for a leader; in English for whoever asks.
    let leader = t.session("leader").await;
    let p = t.get_with(&format!("/objects/{code}"), &leader).await;
    p.assert_page(&["陈*明 138****1234"]);
    assert!(!p.text().contains("13800001234"));
    t.get_with(&format!("/objects/{code}?lang=en"), &sup)
        .await
        .assert_page(&[
            "Self-check credibility",
            "Street-front shop",
            "Responsibility zone",
        ]);
    // Unknown and malformed codes are one 404; a citizen is refused.
    let missing = ObjectCode::new("441302", ObjectKind::School, 999).unwrap();
    assert_eq!(
        t.get_with(&format!("/objects/{missing}"), &sup)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get_with("/objects/123", &sup).await.status,
        StatusCode::NOT_FOUND
    );
    let citizen = t.session("citizen").await;
    assert_eq!(
        t.get_with("/objects", &citizen).await.status,
        StatusCode::FORBIDDEN
    );
    // District B's supervisor does not see district A's object.
    let b = t.session("b_supervisor").await;
    assert_eq!(
        t.get_with(&format!("/objects/{code}"), &b).await.status,
        StatusCode::NOT_FOUND
    );

    // The label: SVG, the QR code's URL on this host; the A4 sheet page with the label inline.
    let label = t
        .send(
            Request::get(format!("/api/v1/objects/{code}/label.svg"))
                .header(header::COOKIE, &sup)
                .header(header::HOST, "city.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(label.status, StatusCode::OK);
    assert_eq!(label.header("content-type"), Some("image/svg+xml"));
    let svg = label.text();
    assert!(svg.starts_with("<svg") && svg.contains("码上办") && svg.contains("府城老街杂货店"));
    assert!(svg.contains(&format!(r#"data-code="{code}""#)));
    let sheets = t.get_with("/objects/labels?kind=street_shop", &sup).await;
    sheets.assert_page(&[
        r#"class="print-labels""#,
        r#"<section class="sheet""#,
        r#"class="sheet-label"><svg xmlns="http://www.w3.org/2000/svg" width="64mm""#,
        "共 1 个对象，1 页",
        r#"data-print"#,
    ]);
    let sheet = t
        .get_with("/api/v1/objects/labels.svg?street=441302001", &sup)
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert_eq!(sheet.header("x-total-count"), Some("1"));
    assert!(sheet.text().contains(r#"width="210mm" height="297mm""#));
    assert_eq!(
        t.get_with("/api/v1/objects/labels.svg?kind=shop", &sup)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.get_with(&format!("/api/v1/objects/{missing}/label.svg"), &sup)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&format!("/api/v1/objects/{code}/label.svg"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn scan_self_check_inspection_and_the_notice_ladder() {
    let t = objects_app().await;
    let code = shop(&t).await;
    let scan = format!("/m/o/{code}");

    // Anyone who scans: the public card, nothing personal, a login link.
    let public = t.get(&scan).await;
    public.assert_page(&[
        "<title>码上办",
        r#"id="m-object-name">府城老街杂货店"#,
        "沿街商铺",
        "暂无检查记录",
        r#"id="m-no-notices""#,
        &format!("/login?next=%2Fm%2Fo%2F{code}"),
    ]);
    let text = public.text();
    assert!(
        !text.contains("陈") && !text.contains("1380000"),
        "nothing personal"
    );
    assert!(!text.contains(r#"id="m-check""#));
    assert_eq!(
        t.get("/m/o/4413020100000000").await.status,
        StatusCode::NOT_FOUND
    );

    // The responsible party: the self-check form, item by item.
    let party = t.session("a_responsible_party").await;
    let form = t.get_with(&scan, &party).await;
    form.assert_page(&[
        r#"id="m-check""#,
        r#"data-kind="self_check""#,
        &format!(r#"action="/m/o/{code}/self-check""#),
        r#"name="r.0101" value="pass" checked"#,
        r#"name="r.0604""#,
        "市容整洁",
        "须拍照",
        "提交自查",
        "phone_objects.js",
    ]);
    // Without the token the guard refuses; a failing item that needs a photo without one is
    // refused with the reason and the answers kept.
    let no_token = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("{scan}/self-check"))
                .header(header::COOKIE, &party)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("r.0101=pass"))
                .unwrap(),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let refused = post_form(
        &t,
        &format!("{scan}/self-check"),
        Some(&party),
        &[("r.0101", "fail".into()), ("n.0101", "门口堆了货".into())],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    contains(
        &refused,
        &[
            "提交失败",
            r#"name="r.0101" value="fail" checked"#,
            "门口堆了货",
        ],
    );

    // The self-check: everything fine but 0604 (no photo needed), 0102 failing with a photo.
    let p1 = photo(&t, "a_responsible_party", 1).await;
    let a = post_form(
        &t,
        &format!("{scan}/self-check"),
        Some(&party),
        &[
            ("r.0101", "pass".into()),
            ("r.0102", "fail".into()),
            ("n.0102", "后门堆放纸箱，今天清理".into()),
            ("p.0102", p1.clone()),
            ("r.0604", "fail".into()),
            ("n.0604", "上周漏查".into()),
            ("lng", A_NW.0.to_string()),
            ("lat", A_NW.1.to_string()),
        ],
    )
    .await;
    let loc = check_location(&a, &code);
    t.get_with(&loc, &party).await.assert_page(&[
        r#"id="m-outcome""#,
        "自查已提交",
        "共 3 项，2 项不合格。",
        r#"id="m-opened">已开启整改：2 项"#,
    ]);
    // The party cannot inspect.
    let no = post_form(
        &t,
        &format!("{scan}/inspection"),
        Some(&party),
        &[("r.0101", "pass".into())],
    )
    .await;
    contains(&no, &["你的账号不能对该对象自查或巡查"]);

    // The inspector: the inspection form; the scan comes from far away (district B) and finds
    // 0101 failing, which the self-check called fine.
    let insp = t.session("a_inspector").await;
    t.get_with(&scan, &insp).await.assert_page(&[
        r#"data-kind="inspection""#,
        &format!(r#"action="/m/o/{code}/inspection""#),
        r#"id="m-check-lng""#,
        "提交巡查",
    ]);
    let p2 = photo(&t, "a_inspector", 3).await;
    let a = post_form(
        &t,
        &format!("{scan}/inspection"),
        Some(&insp),
        &[
            ("r.0101", "fail".into()),
            ("n.0101", "店外摆卖".into()),
            ("p.0101", p2.clone()),
            ("r.0102", "fail".into()),
            ("p.0102", photo(&t, "a_inspector", 5).await),
            ("r.0201", "pass".into()),
            ("lng", B_PT.0.to_string()),
            ("lat", B_PT.1.to_string()),
            ("crs", "wgs84".into()),
        ],
    )
    .await;
    let loc = check_location(&a, &code);
    let done = t.get_with(&loc, &insp).await;
    done.assert_page(&[
        "巡查已提交",
        "共 3 项，2 项不合格。",
        r#"id="m-position" data-far="1""#,
        "已标记为位置异常",
        r#"id="m-discrepancies""#,
        "自查合格、巡查不合格",
        "自查、巡查均不合格",
        r#"id="m-opened">已开启整改：1 项"#,
        r#"id="m-credibility">对象自查可信度：0.0"#,
    ]);

    // The ladder: notice 1 of the inspection's record goes out at once.
    let report = t.state.objects.upkeep().await.expect("upkeep");
    assert_eq!(report.notices, 1);
    let sup = t.session("supervisor").await;
    let page = t.get_with(&format!("/objects/{code}"), &sup).await;
    page.assert_page(&[
        r#"data-stage="notice1""#,
        "教育提醒：",
        "巡查",
        "店外摆卖",
        "位置异常：距对象",
        "自查合格、巡查不合格",
        "对比自查：",
        &format!("/api/v1/attachments/{p2}/thumb"),
        r#"class="badge open-count">3<"#,
    ]);
    t.get(&scan)
        .await
        .assert_page(&[r#"data-stage="notice1""#, "教育提醒：", "期限"]);

    assert_eq!(
        t.get_with("/objects/stats", &party).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get_with("/objects/discrepancies", &insp).await.status,
        StatusCode::FORBIDDEN
    );
    // The party's own list holds their object.
    t.get_with("/objects", &party)
        .await
        .assert_page(&["府城老街杂货店", "陈小明 13800001234"]);

    // Notices 2 and 3 on the working calendar, then the hand-over and its enforcement case.
    let svc = &t.state.objects;
    let admin = user(&t, "admin").await;
    let record = |stage: RectStage| {
        let admin = admin.clone();
        let code = code.clone();
        async move {
            svc.rectifications(
                &admin,
                RectificationFilter {
                    object: Some(code),
                    stage: Some(stage),
                    ..Default::default()
                },
                cityops_domain::PageRequest {
                    page: 1,
                    page_size: 10,
                },
            )
            .await
            .unwrap()
            .items
        }
    };
    let mut case_id = None;
    for _ in 0..30 {
        t.clock.advance(Duration::hours(12));
        svc.upkeep().await.expect("upkeep");
        if let Some(r) = record(RectStage::Enforcement)
            .await
            .into_iter()
            .find(|r| r.record.item_code == "0101" && r.enforcement_case_id.is_some())
        {
            assert_eq!(
                r.record.notices.len(),
                3,
                "three notices before the hand-over"
            );
            case_id = r.enforcement_case_id;
            break;
        }
    }
    let case_id = case_id.expect("the unrectified item became an enforcement case");
    // The sessions above have expired meanwhile: district A's supervisor looks now.
    let sup = t.session("a_supervisor").await;
    let page = t.get_with(&format!("/objects/{code}"), &sup).await;
    page.assert_page(&[
        r#"data-stage="enforcement""#,
        "移交执法",
        "责令整改：",
        "警告：",
        &format!(r#"href="/cases/{case_id}""#),
    ]);
    let case = t
        .state
        .store
        .get_case(case_id, &cityops_domain::case::CaseVisibility::everything())
        .await
        .unwrap()
        .expect("the case");
    assert!(case.description.contains(&code.grouped()));
    // The scan page shows the hand-over to the public, still without anything personal.
    let public = t.get(&scan).await;
    public.assert_page(&[r#"data-stage="enforcement""#, "警告："]);
    assert!(!public.text().contains("1380000"));

    // Supervisors' views: the discrepancies per street and the stage statistics.
    let disc = t.get_with("/objects/discrepancies", &sup).await;
    disc.assert_page(&[
        r#"id="disc-table""#,
        "府城老街杂货店",
        "自查合格、巡查不合格",
        r#"id="per-street""#,
        // The street's row, counted in the store, links to its list.
        r#"<a href="/objects/discrepancies?street="#,
    ]);
    let stats = t.get_with("/objects/stats", &sup).await;
    stats.assert_page(&[r#"id="stats-table""#, "合计", "小事不出责任区率"]);
    t.get_with("/objects/stats?from=2026-12-01&to=2026-11-01", &sup)
        .await
        .assert_page(&["期间无效"]);
}
