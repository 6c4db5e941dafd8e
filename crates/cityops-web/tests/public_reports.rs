//! Citizens without an account (issue 10): an anonymous report answers the case code and a
//! follow token; following needs both (a wrong or missing token is the same 404 as an unknown
//! code); the answer holds no personal data; rating only after closure and only once; the
//! public report is rate-limited per client address. On SQLite and PostgreSQL.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::TestApp;
use common::cases::{A_NW, png};
use serde_json::{Value, json};

on_both_stores!(
    anonymous_report_follow_and_rate,
    wrong_or_missing_token_is_the_unknown_code_404,
    public_reports_are_limited_per_address,
    public_photo_upload_and_thumbnail,
    public_documents_every_route,
);

/// A 409 `invalid_transition` (its body also lists `allowed_actions`).
#[track_caller]
fn assert_refused(a: &common::Answer) {
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    assert_eq!(a.json()["code"], "invalid_transition");
}

async fn public_report(t: &TestApp, body: &Value) -> common::Answer {
    t.post_json("/api/v1/public/reports", body).await
}

fn report_body(extra: Value) -> Value {
    let mut v = json!({"lng": A_NW.0, "lat": A_NW.1, "description": "路灯不亮"});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

async fn follow(t: &TestApp, code: &str, token: &str) -> common::Answer {
    t.get(&format!("/api/v1/public/cases/{code}?token={token}"))
        .await
}

/// Walks a case from reported to closed as the staff.
async fn close(t: &TestApp, case: i64) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let inspector = t.token("inspector1").await;
    t.act_ok(
        &supervisor,
        case,
        "file",
        json!({"category_kind": "component", "category_code": "01001", "filing_seq": 1}),
    )
    .await;
    t.act_ok(&dispatcher, case, "dispatch", json!({})).await;
    t.act_ok(&handler, case, "sign", json!({})).await;
    let photo = t.upload(&handler, 7).await;
    t.act_ok(
        &handler,
        case,
        "handle",
        json!({"attachments": [photo], "comment": "张师傅已修复"}),
    )
    .await;
    t.act_ok(&intake, case, "send_check", json!({})).await;
    t.act_ok(&inspector, case, "check_pass", json!({})).await;
    t.act_ok(&supervisor, case, "close", json!({})).await;
}

async fn anonymous_report_follow_and_rate(t: TestApp) {
    let a = public_report(
        &t,
        &report_body(json!({"name": "王小明", "phone": "13812345678", "address": "府城路1号"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let r = a.json();
    let code = r["code"].as_str().unwrap().to_string();
    let token = r["token"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 13);
    assert_eq!(token.len(), 32, "128 bits in hex");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r["status"], "reported");

    // Staff see a citizen case with the contact (in full for intake, masked for others).
    let intake = t.token("intake").await;
    let list = t
        .get_auth(&format!("/api/v1/cases?q={code}"), &intake)
        .await
        .json();
    assert_eq!(list["total"], 1);
    let case = list["items"][0]["id"].as_i64().unwrap();
    let full = t.case(&intake, case).await.json();
    assert_eq!(full["source"], "citizen");
    assert_eq!(full["contact"], "王小明 13812345678");

    // Only the token's hash is stored: the token itself is nowhere in the table.
    let sql = t.sql.as_ref().unwrap();
    assert_eq!(
        sql.execute(&format!(
            "UPDATE case_follow_tokens SET created_at = created_at WHERE token_hash = '{token}'"
        ))
        .await,
        0
    );
    assert_eq!(
        sql.execute(&format!(
            "UPDATE case_follow_tokens SET created_at = created_at WHERE token_hash = '{}'",
            cityops_app::follow_token_hash(&token)
        ))
        .await,
        1
    );

    // Following: progress without personal data.
    let f = follow(&t, &code, &token).await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text());
    let text = f.text();
    for secret in [
        "王小明",
        "13812345678",
        "府城路",
        "路灯不亮",
        "reporter",
        "contact",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let v = f.json();
    assert_eq!(v["code"], code);
    assert_eq!(v["status"], "reported");
    assert_eq!(v["status_name"], "待受理");
    assert_eq!(v["can_rate"], false);
    assert_eq!(v["timeline"][0]["action"], "report");
    // The header works as well as the query.
    let h = t
        .send(
            Request::get(format!("/api/v1/public/cases/{code}"))
                .header("x-follow-token", token.to_uppercase())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());

    // Rating before closure: refused.
    let rate = |score: u8| json!({"token": token, "score": score, "comment": "很快"});
    let a = t
        .post_json(&format!("/api/v1/public/cases/{code}/rating"), &rate(5))
        .await;
    assert_refused(&a);

    close(&t, case).await;
    let v = follow(&t, &code, &token).await.json();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["can_rate"], true);
    assert_eq!(v["after_photos"].as_array().unwrap().len(), 1);
    assert!(!v.to_string().contains("张师傅"), "no comments, no names");

    // With a wrong token the rating is the 404 of an unknown code.
    let a = t
        .post_json(
            &format!("/api/v1/public/cases/{code}/rating"),
            &json!({"token": "0".repeat(32), "score": 5}),
        )
        .await;
    a.assert_error(404, "not_found");
    // A fraction is no score.
    let a = t
        .post_json(
            &format!("/api/v1/public/cases/{code}/rating"),
            &json!({"token": token, "score": 4.5}),
        )
        .await;
    a.assert_error(422, "invalid_value");
    let a = t
        .post_json(
            &format!("/api/v1/public/cases/{code}/rating"),
            &json!({"token": token, "score": 4.0}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["rating"], 4);
    assert_eq!(a.json()["can_rate"], false);
    // Once only.
    let a = t
        .post_json(&format!("/api/v1/public/cases/{code}/rating"), &rate(1))
        .await;
    assert_refused(&a);
    // The rating is an event of the audit chain, which still verifies.
    let admin = t.token("admin").await;
    let events = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), &admin)
        .await
        .json();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rate"),
        "{events}"
    );
    let audit = t
        .get_auth("/api/v1/audit/verify?full=true", &admin)
        .await
        .json();
    assert_eq!(audit["ok"], true, "{audit}");
}

async fn wrong_or_missing_token_is_the_unknown_code_404(t: TestApp) {
    let r = public_report(&t, &report_body(json!({}))).await.json();
    let code = r["code"].as_str().unwrap().to_string();
    let token = r["token"].as_str().unwrap().to_string();
    let other = public_report(&t, &report_body(json!({"description": "井盖破损"})))
        .await
        .json();
    let other_token = other["token"].as_str().unwrap().to_string();
    let unknown = follow(&t, "2099010100001", &token).await;
    unknown.assert_error(404, "not_found");
    for a in [
        follow(&t, &code, &"0".repeat(32)).await,
        follow(&t, &code, &other_token).await,
        t.get(&format!("/api/v1/public/cases/{code}")).await,
        follow(&t, &code, "short").await,
        follow(&t, "12", &token).await,
    ] {
        a.assert_error(404, "not_found");
        assert_eq!(a.bytes, unknown.bytes, "one and the same answer");
    }
    assert_eq!(follow(&t, &code, &token).await.status, StatusCode::OK);
}

async fn public_reports_are_limited_per_address(t: TestApp) {
    // The citizens' default quota per address is 30 a minute.
    let send = |peer: &'static str| {
        let body = report_body(json!({}));
        let t = &t;
        async move {
            t.send_from(
                peer,
                Request::builder()
                    .method(Method::POST)
                    .uri("/api/v1/public/reports")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
        }
    };
    for n in 0..30 {
        let a = send("198.51.100.7:4000").await;
        assert_eq!(a.status, StatusCode::CREATED, "report {n}: {}", a.text());
    }
    let a = send("198.51.100.7:4001").await;
    a.assert_error(429, "rate_limited");
    assert!(a.header("retry-after").is_some());
    // Another address is not affected.
    let a = send("198.51.100.8:4000").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
}

async fn public_photo_upload_and_thumbnail(t: TestApp) {
    let boundary = "cityops-public-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend(png(42));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/public/attachments")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let photo = a.json()["id"].as_str().unwrap().to_string();
    let r = public_report(
        &t,
        &json!({"lng": A_NW.0, "lat": A_NW.1, "description": "", "attachments": [photo]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = r.json();
    let (code, token) = (r["code"].as_str().unwrap(), r["token"].as_str().unwrap());
    let v = follow(&t, code, token).await.json();
    let thumbs = v["before_photos"].as_array().unwrap();
    assert_eq!(thumbs.len(), 1, "{v}");
    let url = thumbs[0].as_str().unwrap();
    assert!(url.ends_with(&photo));
    let img = t.get(&format!("{url}?token={token}")).await;
    assert_eq!(img.status, StatusCode::OK);
    assert_eq!(img.header("content-type"), Some("image/jpeg"));
    t.get(url).await.assert_error(404, "not_found");
    // An oversized upload is refused before it is read.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/public/attachments")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header(header::CONTENT_LENGTH, (64u64 << 20).to_string())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    a.assert_error(413, "payload_too_large");
}

async fn public_documents_every_route(t: TestApp) {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    for path in [
        "/api/v1/public/reports",
        "/api/v1/public/attachments",
        "/api/v1/public/cases/{code}",
        "/api/v1/public/cases/{code}/rating",
        "/api/v1/public/cases/{code}/photos/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(
        doc["components"]["schemas"]["PublicReportRequest"]["properties"]["phone"]["maxLength"],
        20
    );
    let _ = t;
}
