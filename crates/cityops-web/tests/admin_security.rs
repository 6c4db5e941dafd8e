//! Findings of the security review (issue 9) reproduced over HTTP, each now answered safely, on
//! SQLite and (when a server answers) PostgreSQL:
//!
//! - a department's notification read by one colleague stays unread for the others, and
//!   `POST /api/v1/inbox/read {}` marks nothing (422);
//! - photo ids cannot be found by counting, and someone else's photo is the same 404 as one that
//!   does not exist;
//! - an empty responsibility matrix must be asked for; every matrix and calendar change is kept
//!   and restorable; calendar years outside 2000–2100 are refused;
//! - a photo whose file is gone answers 404 `evidence_missing`, not 500.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::cases::{A_SE, at};
use common::{Answer, TestApp};
use serde_json::{Value, json};

on_both_stores!(
    shared_notifications_are_read_per_user,
    photo_ids_are_not_guessable with super::own_evidence_dir(),
    emptying_the_matrix_is_deliberate_and_reversible,
    calendar_changes_are_checked_kept_and_restorable,
    a_missing_evidence_file_is_404_evidence_missing with super::own_evidence_dir(),
);

/// A configuration whose evidence directory belongs to this test alone (the tests delete files).
fn own_evidence_dir() -> cityops_web::WebConfig {
    cityops_web::WebConfig {
        evidence_dir: std::env::temp_dir().join(format!(
            "cityops-evidence-{}",
            uuid::Uuid::new_v4().simple()
        )),
        ..Default::default()
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn send(t: &TestApp, method: Method, uri: &str, token: &str, ct: &str, body: &str) -> Answer {
    t.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// 4. read state per user

async fn inbox(t: &TestApp, token: &str) -> Value {
    let a = t.get_auth("/api/v1/inbox", token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

/// The notes of the department's inbox about `case`.
fn dispatch_note(v: &Value, case: i64) -> Value {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["case_id"] == case && n["recipient"]["kind"] == "department")
        .cloned()
        .unwrap_or_else(|| panic!("no department note of case {case} in {v}"))
}

async fn shared_notifications_are_read_per_user(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    // Two handlers of the same department (441302-municipal).
    let a = t.token("handler").await;
    let b = t.token("a_handler_dept").await;
    let case = id(&t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await);
    t.act_ok(&supervisor, case, "file", json!({"filing_seq": 1}))
        .await;
    t.act_ok(&dispatcher, case, "dispatch", json!({})).await;

    let note = dispatch_note(&inbox(&t, &a).await, case);
    let note_id = note["id"].as_i64().unwrap();
    assert_eq!(note["read_at"], Value::Null);
    assert_eq!(dispatch_note(&inbox(&t, &b).await, case)["id"], note_id);
    let (unread_a, unread_b) = (
        inbox(&t, &a).await["unread"].as_u64().unwrap(),
        inbox(&t, &b).await["unread"].as_u64().unwrap(),
    );
    assert!(unread_a >= 1 && unread_b >= 1);

    // `{}` used to mark the whole inbox read: now refused, and nothing is marked.
    t.post_auth("/api/v1/inbox/read", &a, &json!({}))
        .await
        .assert_error(422, "invalid_value");
    assert_eq!(inbox(&t, &a).await["unread"].as_u64(), Some(unread_a));

    // A reads the department's note: B still sees it unread.
    let r = t
        .post_auth("/api/v1/inbox/read", &a, &json!({"ids": [note_id]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"updated": 1, "unread": unread_a - 1}));
    assert_eq!(
        dispatch_note(&inbox(&t, &a).await, case)["read_at"],
        json!(t.clock_now()),
        "read for A"
    );
    let seen_by_b = inbox(&t, &b).await;
    assert_eq!(
        dispatch_note(&seen_by_b, case)["read_at"],
        Value::Null,
        "a colleague's read is not B's"
    );
    assert_eq!(seen_by_b["unread"].as_u64(), Some(unread_b));
    let unread_list = t.get_auth("/api/v1/inbox?unread=true", &b).await.json();
    assert!(
        unread_list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == note_id),
        "still in B's unread list: {unread_list}"
    );

    // B marks everything, explicitly.
    let r = t
        .post_auth("/api/v1/inbox/read", &b, &json!({"all": true}))
        .await;
    assert_eq!(r.json(), json!({"updated": unread_b, "unread": 0}));
    assert_eq!(inbox(&t, &b).await["unread"], 0);
    assert_eq!(
        inbox(&t, &a).await["unread"].as_u64(),
        Some(unread_a - 1),
        "B's reads are not A's"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. photo ids

async fn upload(t: &TestApp, token: &str, seed: u8) -> Value {
    let boundary = "cityops-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend(common::cases::png(seed));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/attachments")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    a.json()
}

async fn photo_ids_are_not_guessable(t: TestApp) {
    let owner = t.token("inspector1").await;
    let stranger = t.token("citizen").await;
    let mut ids = Vec::new();
    for seed in 201..=203 {
        let v = upload(&t, &owner, seed).await;
        let id = v["id"].as_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a UUID: {id}");
        assert_eq!(v["url"], format!("/api/v1/attachments/{id}"));
        ids.push(id);
    }
    // The owner gets them.
    for id in &ids {
        let a = t
            .get_auth(&format!("/api/v1/attachments/{id}"), &owner)
            .await;
        assert_eq!(a.status, StatusCode::OK);
    }

    // Counting finds nothing: row ids, and neighbours of a known id.
    let unknown = t
        .get_auth(
            &format!("/api/v1/attachments/{}", uuid::Uuid::new_v4()),
            &stranger,
        )
        .await;
    unknown.assert_error(404, "not_found");
    let mut probes: Vec<String> = (0..=40).map(|n| n.to_string()).collect();
    let known = uuid::Uuid::parse_str(&ids[1]).unwrap().as_u128();
    for delta in 1..=20u128 {
        probes.push(uuid::Uuid::from_u128(known + delta).to_string());
        probes.push(uuid::Uuid::from_u128(known - delta).to_string());
    }
    for p in &probes {
        for u in [
            format!("/api/v1/attachments/{p}"),
            format!("/api/v1/attachments/{p}/thumb"),
        ] {
            let a = t.get_auth(&u, &owner).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{u}: {}", a.text());
            assert_eq!(a.bytes, unknown.bytes, "{u}: one answer");
        }
    }

    // Someone else's photo: the very same answer as one that does not exist.
    for id in &ids {
        for u in [
            format!("/api/v1/attachments/{id}"),
            format!("/api/v1/attachments/{id}/thumb"),
        ] {
            let a = t.get_auth(&u, &stranger).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND);
            assert_eq!(a.bytes, unknown.bytes, "{u}: not yours = does not exist");
        }
    }

    // Citing them in a report: someone else's and a made-up id give one and the same message.
    let cite = |photo: &str| at(A_SE, json!({"attachments": [photo]}));
    let theirs = t
        .post_auth("/api/v1/cases", &stranger, &cite(&ids[0]))
        .await;
    theirs.assert_error(422, "invalid_value");
    let made_up = uuid::Uuid::new_v4().to_string();
    let none = t
        .post_auth("/api/v1/cases", &stranger, &cite(&made_up))
        .await;
    none.assert_error(422, "invalid_value");
    assert_eq!(
        theirs.json()["message"]
            .as_str()
            .unwrap()
            .replace(&ids[0], "X"),
        none.json()["message"]
            .as_str()
            .unwrap()
            .replace(&made_up, "X"),
    );

    // Linked by the owner's report, the case names the photo by its public id, also in its trail.
    let v = t
        .report(
            &owner,
            at(
                A_SE,
                json!({"category_kind": "component", "category_code": "01001", "attachments": [ids[2]]}),
            ),
        )
        .await;
    assert_eq!(v["attachments"], json!([ids[2]]));
    let case = id(&v);
    let events = t
        .get_auth(&format!("/api/v1/cases/{case}/events"), &owner)
        .await
        .json();
    assert_eq!(events["items"][0]["attachments"], json!([ids[2]]));
    let _ = std::fs::remove_dir_all(&t.state.config.evidence_dir);
}

// ---------------------------------------------------------------------------------------------
// 7. the matrix and the calendar: deliberate and reversible

const EMPTY_MATRIX: &str =
    "category_kind,category_code,region_code,department_code,auto_dispatch\n";

async fn emptying_the_matrix_is_deliberate_and_reversible(t: TestApp) {
    let admin = t.token("admin").await;
    let dispatcher = t.token("dispatcher").await;
    let before = t.state.routing().len();
    assert!(before > 0);
    let list_rules = t.get_auth("/api/v1/routing-rules", &admin).await.json();
    assert_eq!(list_rules["total"].as_u64(), Some(before as u64));

    // An empty file: refused with a clear code, the matrix intact (here and in the store).
    send(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "text/csv",
        EMPTY_MATRIX,
    )
    .await
    .assert_error(422, "empty_matrix");
    send(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "application/json",
        r#"{"rules": []}"#,
    )
    .await
    .assert_error(422, "empty_matrix");
    assert_eq!(t.state.routing().len(), before);
    assert_eq!(
        t.state.store.routing_rules().await.unwrap().len(),
        before,
        "nothing written"
    );

    // Deliberately: emptied, and kept as a version.
    let a = send(
        &t,
        Method::PUT,
        "/api/v1/routing-rules?allow_empty=true",
        &admin,
        "text/csv",
        EMPTY_MATRIX,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"rules": 0}));
    assert!(t.state.routing().is_empty());

    let versions = t.get_auth("/api/v1/routing/versions", &dispatcher).await;
    assert_eq!(versions.status, StatusCode::OK, "{}", versions.text());
    let versions = versions.json();
    assert_eq!(versions["total"], 2, "{versions}");
    let newest = &versions["items"][0];
    assert_eq!(newest["username"], "admin");
    assert_eq!(newest["items"], 0);
    assert_eq!(newest["summary"], "replaced from CSV (0 rules)");
    assert_eq!(newest["at"], json!(t.clock_now()));
    let fixture = versions["items"][1].clone();
    assert_eq!(fixture["items"].as_u64(), Some(before as u64));
    let fixture_id = fixture["id"].as_i64().unwrap();
    let emptied_id = newest["id"].as_i64().unwrap();
    let detail = t
        .get_auth(&format!("/api/v1/routing/versions/{fixture_id}"), &admin)
        .await
        .json();
    assert_eq!(
        detail["rules"], list_rules["items"],
        "the version holds the whole matrix"
    );

    // Restore: only administrators; the matrix is back in this process at once, as a new version.
    let restore = format!("/api/v1/routing/versions/{fixture_id}/restore");
    t.post_empty(&restore, &dispatcher)
        .await
        .assert_error(403, "forbidden");
    let a = t.post_empty(&restore, &admin).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["version"]["restored_from"], fixture_id);
    assert_eq!(v["version"]["username"], "admin");
    assert_eq!(t.state.routing().len(), before, "reloaded");
    assert_eq!(
        t.get_auth("/api/v1/routing-rules", &admin).await.json()["items"],
        list_rules["items"]
    );
    assert_eq!(
        t.get_auth("/api/v1/routing/versions", &admin).await.json()["total"],
        3
    );

    // Restoring the empty version is as deliberate as emptying.
    let restore_empty = format!("/api/v1/routing/versions/{emptied_id}/restore");
    t.post_empty(&restore_empty, &admin)
        .await
        .assert_error(422, "empty_matrix");
    assert_eq!(t.state.routing().len(), before);
    let a = t
        .post_empty(&format!("{restore_empty}?allow_empty=true"), &admin)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(t.state.routing().is_empty());

    // Unknown versions; a calendar version is no routing version.
    t.post_empty("/api/v1/routing/versions/999999/restore", &admin)
        .await
        .assert_error(404, "not_found");
    t.get_auth("/api/v1/routing/versions/999999", &admin)
        .await
        .assert_error(404, "not_found");
    t.get_auth("/api/v1/routing/versions", &t.token("handler").await)
        .await
        .assert_error(403, "forbidden");
}

async fn calendar_years(t: &TestApp, token: &str) -> Vec<i64> {
    t.get_auth("/api/v1/calendar", token).await.json()["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y.as_i64().unwrap())
        .collect()
}

async fn versions(t: &TestApp, token: &str) -> Value {
    let a = t.get_auth("/api/v1/calendar/versions", token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

async fn calendar_changes_are_checked_kept_and_restorable(t: TestApp) {
    let admin = t.token("admin").await;
    let years_before = calendar_years(&t, &admin).await;
    let kept_before = versions(&t, &admin).await["total"].as_u64().unwrap();

    // Years −1 and 9999 (JSON and CSV), a year-2101 day and a name with markup: 422, nothing written.
    for (ct, body) in [
        (
            "application/json",
            r#"{"days": [{"date": "-0001-10-01", "kind": "holiday", "name": "国庆节"}]}"#,
        ),
        (
            "application/json",
            r#"{"days": [{"date": "9999-10-01", "kind": "holiday", "name": "国庆节"}]}"#,
        ),
        ("text/csv", "date,kind,name\n9999-10-01,holiday,国庆节\n"),
        (
            "text/csv",
            "date,kind,name\n2040-10-01,holiday,国庆节\n2101-01-01,holiday,元旦\n",
        ),
        (
            "application/json",
            r#"{"days": [{"date": "2040-10-01", "kind": "holiday", "name": "<img src=x onerror=alert(1)>"}]}"#,
        ),
    ] {
        send(&t, Method::PUT, "/api/v1/calendar/days", &admin, ct, body)
            .await
            .assert_error(422, "invalid_value");
    }
    assert_eq!(
        calendar_years(&t, &admin).await,
        years_before,
        "nothing written"
    );
    assert_eq!(
        versions(&t, &admin).await["total"].as_u64(),
        Some(kept_before)
    );

    // A good change is kept with who and when; restoring the version before it undoes it.
    let a = send(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "text/csv",
        "date,kind,name\n2040-10-01,holiday,国庆节\n2040-10-13,workday,国庆节调休上班\n",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(calendar_years(&t, &admin).await.contains(&2040));
    let list = versions(&t, &admin).await;
    assert_eq!(list["total"].as_u64(), Some(kept_before + 1));
    let newest = &list["items"][0];
    assert_eq!(newest["username"], "admin");
    assert_eq!(newest["summary"], "2 days from CSV (2040)");
    let detail = t
        .get_auth(
            &format!("/api/v1/calendar/versions/{}", newest["id"]),
            &admin,
        )
        .await
        .json();
    assert!(
        detail["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2040-10-13" && d["kind"] == "workday"),
        "{detail}"
    );
    t.get_auth("/api/v1/calendar/versions", &t.token("dispatcher").await)
        .await
        .assert_error(403, "forbidden");

    // A second change (2041), then back to the version of the first: 2041 is gone again.
    let first = newest["id"].as_i64().unwrap();
    let a = send(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "application/json",
        r#"{"days": [{"date": "2041-01-01", "kind": "holiday", "name": "元旦"}]}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(calendar_years(&t, &admin).await.contains(&2041));
    let a = t
        .post_empty(
            &format!("/api/v1/calendar/versions/{first}/restore"),
            &admin,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["version"]["restored_from"], first);
    let years = calendar_years(&t, &admin).await;
    assert!(years.contains(&2040) && !years.contains(&2041), "{years:?}");
    assert_eq!(
        t.state.calendar().years(),
        years.iter().map(|y| *y as i32).collect::<Vec<_>>(),
        "the calendar in force reloaded"
    );
    assert_eq!(
        versions(&t, &admin).await["total"].as_u64(),
        Some(kept_before + 3)
    );
    t.post_empty("/api/v1/calendar/versions/999999/restore", &admin)
        .await
        .assert_error(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// 8. missing evidence files

async fn a_missing_evidence_file_is_404_evidence_missing(t: TestApp) {
    let owner = t.token("inspector1").await;
    let v = upload(&t, &owner, 77).await;
    let url = v["url"].as_str().unwrap().to_string();
    let thumb = v["thumb_url"].as_str().unwrap().to_string();
    assert_eq!(t.get_auth(&url, &owner).await.status, StatusCode::OK);

    let evidence = t.state.evidence();
    let sha = v["sha256"].as_str().unwrap();
    let photo_file = evidence
        .path_of(sha, cityops_evidence::ImageFormat::Png)
        .unwrap();
    std::fs::remove_file(&photo_file).unwrap();
    t.get_auth(&url, &owner)
        .await
        .assert_error(404, "evidence_missing");
    assert_eq!(
        t.get_auth(&thumb, &owner).await.status,
        StatusCode::OK,
        "the thumbnail is still there"
    );

    // A thumbnail altered on disk: the same answer (the genuine file is gone).
    let record = t
        .state
        .store
        .attachments_by_public_id(&[v["id"].as_str().unwrap().to_string()])
        .await
        .unwrap()
        .remove(0);
    let thumb_file = evidence
        .thumb_path_of(&record.attachment.thumb_sha256)
        .unwrap();
    std::fs::write(&thumb_file, b"not the thumbnail").unwrap();
    t.get_auth(&thumb, &owner)
        .await
        .assert_error(404, "evidence_missing");
    std::fs::remove_file(&thumb_file).unwrap();
    t.get_auth(&thumb, &owner)
        .await
        .assert_error(404, "evidence_missing");
    // Someone else still gets the ordinary 404: a missing file tells nothing about other photos.
    t.get_auth(&url, &t.token("citizen").await)
        .await
        .assert_error(404, "not_found");
    let _ = std::fs::remove_dir_all(&t.state.config.evidence_dir);
}

// ---------------------------------------------------------------------------------------------
// documentation

#[test]
fn the_new_routes_and_codes_are_documented() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    for (path, method) in [
        ("/api/v1/routing/versions", "get"),
        ("/api/v1/routing/versions/{id}", "get"),
        ("/api/v1/routing/versions/{id}/restore", "post"),
        ("/api/v1/calendar/versions", "get"),
        ("/api/v1/calendar/versions/{id}", "get"),
        ("/api/v1/calendar/versions/{id}/restore", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let codes = &doc["components"]["schemas"]["ErrorCodeName"]["enum"];
    for code in ["evidence_missing", "empty_matrix"] {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code} in {codes}"
        );
    }
    let put = &doc["paths"]["/api/v1/routing-rules"]["put"];
    assert!(
        put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "allow_empty"),
        "{put}"
    );
    assert!(
        put["responses"]["422"]["description"]
            .as_str()
            .unwrap()
            .contains("empty_matrix")
    );
    let photo = &doc["paths"]["/api/v1/attachments/{id}"]["get"];
    assert!(
        photo["responses"]["404"]["description"]
            .as_str()
            .unwrap()
            .contains("evidence_missing")
    );
    assert_eq!(
        photo["parameters"][0]["schema"]["$ref"],
        "#/components/schemas/AttachmentId"
    );
    // `{}` is not a valid mark-read body in the document either.
    let body = &doc["components"]["schemas"]["MarkReadRequest"];
    let variants = body["oneOf"].as_array().expect("oneOf");
    assert_eq!(variants.len(), 2);
    assert!(
        variants
            .iter()
            .all(|v| v["required"].as_array().is_some_and(|r| r.len() == 1))
    );
    assert_eq!(variants[0]["properties"]["ids"]["minItems"], 1);
    assert_eq!(variants[1]["properties"]["all"]["enum"], json!([true]));
}
