//! Evidence photos, inboxes, the responsibility matrix admin and the working calendar admin, over
//! HTTP against the hand-made test city, on SQLite and (when a server answers) PostgreSQL.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use cityops_domain::case::{
    Actor, Case, CaseLocation, CaseSource, Context, NewNotification, NewReport, Recipient, Urgency,
    report,
};
use cityops_domain::{Role, User};
use cityops_store::NewUser;
use cityops_web::WebConfig;
use common::{
    Answer, COMMUNITY, DISTRICT, GRID_NW, PASSWORD, STREET, STREET_NO_GEOMETRY, TestApp, cheap_hash,
};
use image::{GenericImageView, ImageEncoder};
use serde_json::{Value, json};

// Every scenario runs on SQLite and, when a server answers, on a fresh PostgreSQL database
// (`common::cases`: the shared case-workflow fixture; `CITYOPS_REQUIRE_POSTGRES=1` makes a
// missing server a failure).
on_both_stores!(
    upload_strips_exif_and_serves_photo_and_thumbnail,
    only_the_uploader_and_those_who_see_the_case_may_download,
    uploads_are_recognised_by_content,
    uploads_over_the_limit_are_refused with super::small_upload_config(),
    photos_larger_than_the_json_body_limit_upload,
    inboxes_hold_what_is_addressed_to_the_user_department_and_role,
    routing_matrix_replace_export_round_trip_and_suggest,
    a_bad_matrix_writes_nothing_and_names_the_line,
    a_new_years_schedule_changes_deadlines,
);

// ---------------------------------------------------------------------------------------------
// helpers

const BOUNDARY: &str = "cityops-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body with one part per `(name, file name, bytes)`.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload_with(t: &TestApp, token: &str, body: Vec<u8>, with_length: bool) -> Answer {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/attachments")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if with_length {
        req = req.header(header::CONTENT_LENGTH, body.len());
    }
    t.send(req.body(Body::from(body)).unwrap()).await
}

async fn upload(t: &TestApp, token: &str, file_name: &str, bytes: &[u8]) -> Answer {
    upload_with(
        t,
        token,
        multipart(&[("file", Some(file_name), bytes)]),
        true,
    )
    .await
}

async fn send_body(
    t: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Answer {
    t.send(
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap(),
    )
    .await
}

async fn post_json_auth(t: &TestApp, uri: &str, token: &str, body: &Value) -> Answer {
    send_body(
        t,
        Method::POST,
        uri,
        token,
        "application/json",
        body.to_string(),
    )
    .await
}

/// A baseline JPEG of `w` × `h` pixels (a smooth gradient, or noise when `noisy`).
fn jpeg(w: u32, h: u32, noisy: bool, quality: u8) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if noisy {
            // xorshift: incompressible pixels make a large file
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let [a, b, c, _] = state.to_le_bytes();
            image::Rgb([a, b, c])
        } else {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

const SECRET: &[u8] = b"CITYOPS-SECRET-CAMERA-0042";

/// An EXIF APP1 segment (little-endian TIFF): IFD0 with an ImageDescription naming the camera
/// and a GPS IFD pointer; the GPS IFD holds latitude/longitude (23°5'0" N, 114°25'0" E).
fn exif_app1() -> Vec<u8> {
    let mut tiff: Vec<u8> = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    // IFD0 at 8: 2 entries → 2 + 24 + 4 = 30 bytes; the description follows at 38.
    let desc_off = 8 + 30;
    let desc_len = SECRET.len() as u32 + 1;
    let gps_off = desc_off + desc_len;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x010E, 2, desc_len, desc_off); // ImageDescription, ASCII
    entry(&mut tiff, 0x8825, 4, 1, gps_off); // GPSInfo IFD pointer
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(SECRET);
    tiff.push(0);
    // GPS IFD: 4 entries → 2 + 48 + 4 = 54 bytes; rationals follow.
    let lat_off = gps_off + 54;
    let lng_off = lat_off + 24;
    tiff.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, u32::from(b'N')); // GPSLatitudeRef "N\0"
    entry(&mut tiff, 0x0002, 5, 3, lat_off); // GPSLatitude
    entry(&mut tiff, 0x0003, 2, 2, u32::from(b'E')); // GPSLongitudeRef "E\0"
    entry(&mut tiff, 0x0004, 5, 3, lng_off); // GPSLongitude
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (deg, min) in [(23u32, 5u32), (114, 25)] {
        for (num, den) in [(deg, 1u32), (min, 1), (0, 1)] {
            tiff.extend_from_slice(&num.to_le_bytes());
            tiff.extend_from_slice(&den.to_le_bytes());
        }
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    seg.extend_from_slice(&payload);
    seg
}

/// `jpeg` with the EXIF segment inserted right after SOI.
fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let plain = jpeg(w, h, false, 90);
    assert_eq!(&plain[..2], &[0xFF, 0xD8]);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&exif_app1());
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether a JPEG has an APP1 (EXIF/XMP) segment before its image data.
fn has_app1(jpeg: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xE1 {
            return true;
        }
        if marker == 0xDA {
            return false;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        i += 2 + len;
    }
    false
}

async fn add_user(
    t: &TestApp,
    username: &str,
    roles: Vec<Role>,
    region: Option<&str>,
    dept: Option<&str>,
) -> User {
    t.state
        .store
        .create_user(&NewUser {
            username: username.to_string(),
            display_name: username.to_string(),
            password_hash: cheap_hash(PASSWORD),
            roles,
            region_code: region.map(str::to_string),
            department_code: dept.map(str::to_string),
            grids: Vec::new(),
        })
        .await
        .expect("create user")
}

async fn user(t: &TestApp, username: &str) -> User {
    t.state
        .store
        .credentials(username)
        .await
        .unwrap()
        .expect("fixture user")
        .user
}

async fn dept_id(t: &TestApp, code: &str) -> i64 {
    t.state
        .store
        .get_department_by_code(code)
        .await
        .unwrap()
        .expect("fixture department")
        .id
}

/// A report by `reporter` in the north-west grid, citing `attachments`, stored with the given
/// notifications (as the intake would, through the store).
async fn make_case(
    t: &TestApp,
    reporter: &User,
    attachments: Vec<i64>,
    notify: Vec<NewNotification>,
) -> Case {
    // `attachments` are row ids: the store's own key, which events keep.
    let now = t.state.clock.now();
    let calendar = t.state.calendar();
    let ctx = Context {
        now,
        calendar: &calendar,
        config: &t.state.config.workflow,
        handle_limit: None,
        master: None,
        suggested_department: None,
    };
    let input = NewReport {
        source: CaseSource::Inspector,
        category_kind: None,
        category_code: None,
        urgency: Urgency::Normal,
        description: "井盖缺失".into(),
        location: CaseLocation {
            lng: 114.405,
            lat: 23.095,
            grid_code: Some(GRID_NW.into()),
            community_code: Some(COMMUNITY.into()),
            street_code: Some(STREET.into()),
            district_code: Some(DISTRICT.into()),
            address: None,
        },
        component_id: None,
        contact: None,
        attachments,
        suggested_department_id: None,
        duplicate_of: None,
    };
    let (case, event, _) = report(input, &Actor::user(reporter), &ctx).unwrap();
    let local_date = now.with_timezone(&calendar.config().tz).date_naive();
    t.state
        .store
        .create_case(&case, local_date, &event, &notify)
        .await
        .expect("create case")
}

fn note(recipient: Recipient, action: &str, title: &str, at: DateTime<Utc>) -> NewNotification {
    NewNotification {
        recipient,
        case_id: 0,
        action: action.into(),
        title: title.into(),
        created_at: at,
    }
}

// ---------------------------------------------------------------------------------------------
// evidence

async fn upload_strips_exif_and_serves_photo_and_thumbnail(t: TestApp) {
    let token = t.token("inspector1").await;
    let original = jpeg_with_exif(800, 600);
    assert!(contains(&original, SECRET) && has_app1(&original));

    let a = upload(&t, &token, "IMG_0001.JPG", &original).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let v = a.json();
    let id = v["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a random public id: {id}"
    );
    assert_eq!(v["mime"], "image/jpeg");
    assert_eq!(
        (v["width"].as_i64(), v["height"].as_i64()),
        (Some(800), Some(600))
    );
    assert_eq!(v["url"], format!("/api/v1/attachments/{id}"));
    assert_eq!(v["thumb_url"], format!("/api/v1/attachments/{id}/thumb"));
    assert_eq!(v["file_name"], "IMG_0001.JPG");
    assert_eq!(v["case_id"], Value::Null);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(a.header("location"), v["url"].as_str());

    let photo = t.get_auth(v["url"].as_str().unwrap(), &token).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.header("content-type"), Some("image/jpeg"));
    assert!(
        photo
            .header("cache-control")
            .is_some_and(|c| c.starts_with("private, max-age=")),
        "{:?}",
        photo.header("cache-control")
    );
    assert_eq!(photo.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(photo.bytes.len() as i64, v["bytes"].as_i64().unwrap());
    assert!(!has_app1(&photo.bytes), "the stored photo has no APP1");
    assert!(!contains(&photo.bytes, b"Exif\0\0"));
    assert!(!contains(&photo.bytes, SECRET));
    let decoded = image::load_from_memory(&photo.bytes).expect("the photo decodes");
    assert_eq!(decoded.dimensions(), (800, 600));

    let thumb = t.get_auth(v["thumb_url"].as_str().unwrap(), &token).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    let small = image::load_from_memory(&thumb.bytes).expect("the thumbnail decodes");
    assert_eq!(small.dimensions(), (320, 240));
    assert!(thumb.bytes.len() < photo.bytes.len());

    // The ETag is the content hash: a revalidation costs no body.
    let etag = photo.header("etag").unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", v["sha256"].as_str().unwrap()));
    let again = t
        .send(
            Request::get(v["url"].as_str().unwrap())
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::IF_NONE_MATCH, &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
}

async fn only_the_uploader_and_those_who_see_the_case_may_download(t: TestApp) {
    let inspector = user(&t, "inspector1").await;
    let citizen = add_user(&t, "citizen1", vec![Role::Citizen], None, None).await;
    let (tok_insp, tok_admin, tok_handler, tok_citizen) = (
        t.token("inspector1").await,
        t.token("admin").await,
        t.token("handler").await,
        t.token(&citizen.username).await,
    );
    let a = upload(&t, &tok_insp, "p.jpg", &jpeg(64, 48, false, 85)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let public = a.json()["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/attachments/{public}");
    let thumb = format!("/api/v1/attachments/{public}/thumb");
    let id = t
        .state
        .store
        .attachments_by_public_id(std::slice::from_ref(&public))
        .await
        .unwrap()[0]
        .id;

    // Not linked to a case yet: only the uploader, not even an administrator.
    assert_eq!(t.get_auth(&url, &tok_insp).await.status, StatusCode::OK);
    t.get_auth(&url, &tok_admin)
        .await
        .assert_error(404, "not_found");
    t.get(&url).await.assert_error(401, "unauthenticated");

    // Cited by a report: linked to the case; who sees the case sees the photo.
    let case = make_case(&t, &inspector, vec![id], Vec::new()).await;
    let stored = t.state.store.get_attachments(&[id]).await.unwrap();
    assert_eq!(stored[0].case_id, Some(case.id));
    for (tok, status) in [
        (&tok_insp, 200),
        (&tok_admin, 200),
        (&tok_handler, 404),
        (&tok_citizen, 404),
    ] {
        for u in [&url, &thumb] {
            let got = t.get_auth(u, tok).await;
            assert_eq!(got.status.as_u16(), status, "{u}: {}", got.text());
            if status == 404 {
                got.assert_error(404, "not_found");
            }
        }
    }
    t.get_auth("/api/v1/attachments/999999", &tok_insp)
        .await
        .assert_error(404, "not_found");
    t.get_auth(&format!("/api/v1/attachments/{id}"), &tok_insp)
        .await
        .assert_error(404, "not_found");
    t.get_auth("/api/v1/attachments/abc", &tok_insp)
        .await
        .assert_error(404, "not_found");
}

async fn uploads_are_recognised_by_content(t: TestApp) {
    let token = t.token("inspector1").await;

    // A text file named .jpg.
    upload(&t, &token, "photo.jpg", b"this is not a photo, just text\n")
        .await
        .assert_error(415, "unsupported_media_type");
    // A JPEG cut off in the middle of its image data.
    let whole = jpeg(200, 150, true, 90);
    upload(&t, &token, "cut.jpg", &whole[..whole.len() / 2])
        .await
        .assert_error(422, "invalid_value");
    // A PNG named .jpg is fine: the content decides.
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&[200u8; 3 * 16 * 8], 16, 8, image::ExtendedColorType::Rgb8)
        .unwrap();
    let a = upload(&t, &token, "really-a.jpg", &png).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.json()["mime"], "image/png");
    let got = t.get_auth(a.json()["url"].as_str().unwrap(), &token).await;
    assert_eq!(got.header("content-type"), Some("image/png"));

    // No `file` field; two of them; not multipart at all.
    upload_with(&t, &token, multipart(&[("note", None, b"hello")]), true)
        .await
        .assert_error(422, "invalid_value");
    let small = jpeg(8, 8, false, 80);
    upload_with(
        &t,
        &token,
        multipart(&[
            ("file", Some("a.jpg"), &small),
            ("file", Some("b.jpg"), &small),
        ]),
        true,
    )
    .await
    .assert_error(422, "invalid_value");
    post_json_auth(&t, "/api/v1/attachments", &token, &json!({"file": "x"}))
        .await
        .assert_error(415, "unsupported_media_type");
    // Not logged in.
    t.send(
        Request::post("/api/v1/attachments")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(&[("file", Some("a.jpg"), &small)])))
            .unwrap(),
    )
    .await
    .assert_error(401, "unauthenticated");
}

const SMALL_UPLOAD_LIMIT: usize = 100_000;

fn small_upload_config() -> WebConfig {
    WebConfig {
        max_upload_bytes: SMALL_UPLOAD_LIMIT,
        ..WebConfig::default()
    }
}

async fn uploads_over_the_limit_are_refused(t: TestApp) {
    let limit = SMALL_UPLOAD_LIMIT;
    assert_eq!(t.state.config.max_upload_bytes, limit);
    let token = t.token("inspector1").await;
    let big = jpeg(400, 300, true, 100);
    assert!(big.len() > limit, "{}", big.len());
    // Declared too large: refused before reading.
    upload_with(
        &t,
        &token,
        multipart(&[("file", Some("big.jpg"), &big)]),
        true,
    )
    .await
    .assert_error(413, "payload_too_large");
    // Without a declared length (streamed): refused while counting.
    upload_with(
        &t,
        &token,
        multipart(&[("file", Some("big.jpg"), &big)]),
        false,
    )
    .await
    .assert_error(413, "payload_too_large");
    // Any other field is refused before it is read (the form has `file` only).
    let padding = vec![b'x'; limit + 80_000];
    let small = jpeg(8, 8, false, 80);
    upload_with(
        &t,
        &token,
        multipart(&[("pad", None, &padding), ("file", Some("s.jpg"), &small)]),
        false,
    )
    .await
    .assert_error(422, "invalid_value");
    // Just under the limit is fine.
    let fits = jpeg(64, 64, true, 100);
    assert!(fits.len() < limit);
    let a = upload(&t, &token, "fits.jpg", &fits).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
}

/// The upload limit (10 MiB by default) is not the server-wide JSON body limit (1 MiB).
async fn photos_larger_than_the_json_body_limit_upload(t: TestApp) {
    assert!(t.state.config.body_limit_bytes < 2 * 1024 * 1024);
    let token = t.token("inspector1").await;
    let big = jpeg(1200, 1000, true, 100);
    assert!(big.len() > 2 * 1024 * 1024, "{}", big.len());
    assert!(big.len() < t.state.config.max_upload_bytes);
    for with_length in [true, false] {
        let a = upload_with(
            &t,
            &token,
            multipart(&[("file", Some("big.jpg"), &big)]),
            with_length,
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
        assert_eq!(a.json()["width"], 1200);
    }
}

// ---------------------------------------------------------------------------------------------
// inbox

async fn inboxes_hold_what_is_addressed_to_the_user_department_and_role(t: TestApp) {
    let inspector = user(&t, "inspector1").await;
    let municipal = dept_id(&t, "441302-municipal").await;
    add_user(
        &t,
        "dispatcher_north",
        vec![Role::Dispatcher],
        Some(STREET_NO_GEOMETRY),
        None,
    )
    .await;
    add_user(
        &t,
        "sanitation",
        vec![Role::Handler],
        None,
        Some("441303-sanitation"),
    )
    .await;
    let t0 = t.state.clock.now();
    let later = |m: i64| t0 + chrono::Duration::minutes(m);
    let case = make_case(
        &t,
        &inspector,
        Vec::new(),
        vec![
            note(
                Recipient::User {
                    user_id: inspector.id,
                },
                "verify",
                "待核实",
                later(1),
            ),
            note(
                Recipient::Department {
                    department_id: municipal,
                },
                "dispatch",
                "待签收",
                later(2),
            ),
            note(
                Recipient::Role {
                    role: Role::Dispatcher,
                    region_code: Some(GRID_NW.into()),
                },
                "file",
                "待派遣",
                later(3),
            ),
            note(
                Recipient::Role {
                    role: Role::Dispatcher,
                    region_code: None,
                },
                "supervise",
                "督办",
                later(4),
            ),
        ],
    )
    .await;

    let inbox = |username: &'static str| {
        let t = &t;
        async move {
            let token = t.token(username).await;
            let a = t.get_auth("/api/v1/inbox", &token).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text());
            let v = a.json();
            let titles: Vec<String> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["title"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(v["total"].as_u64().unwrap() as usize, titles.len());
            (token, v, titles)
        }
    };
    let (tok_insp, v, titles) = inbox("inspector1").await;
    assert_eq!(titles, vec!["待核实"]);
    let n = &v["items"][0];
    assert_eq!(n["case_id"], case.id);
    assert_eq!(n["case_code"], case.code.as_str());
    assert_eq!(n["action"], "verify");
    assert_eq!(n["read_at"], Value::Null);
    assert_eq!(
        n["recipient"],
        json!({"kind": "user", "user_id": inspector.id})
    );
    assert_eq!(
        (v["page"].as_u64(), v["page_size"].as_u64()),
        (Some(1), Some(50))
    );

    let (tok_handler, _, titles) = inbox("handler").await;
    assert_eq!(titles, vec!["待签收"]);
    // Newest first; the role note for the district reaches the district's dispatcher.
    let (_, _, titles) = inbox("dispatcher").await;
    assert_eq!(titles, vec!["督办", "待派遣"]);
    // Another street's dispatcher gets only the region-less role note.
    let (_, _, titles) = inbox("dispatcher_north").await;
    assert_eq!(titles, vec!["督办"]);
    let (_, _, titles) = inbox("sanitation").await;
    assert!(titles.is_empty());
    let (_, _, titles) = inbox("admin").await;
    assert!(titles.is_empty(), "{titles:?}");

    // Marking someone else's notification read changes nothing.
    let dept_note = {
        let a = t.get_auth("/api/v1/inbox", &tok_handler).await;
        a.json()["items"][0]["id"].as_i64().unwrap()
    };
    let a = post_json_auth(
        &t,
        "/api/v1/inbox/read",
        &tok_insp,
        &json!({"ids": [dept_note]}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"updated": 0, "unread": 1}));
    let a = t.get_auth("/api/v1/inbox?unread=true", &tok_handler).await;
    assert_eq!(a.json()["total"], 1);

    // `{}` marks nothing; marking everything must be asked for, and marks only one's own.
    post_json_auth(&t, "/api/v1/inbox/read", &tok_insp, &json!({}))
        .await
        .assert_error(422, "invalid_value");
    let a = t.get_auth("/api/v1/inbox?unread=true", &tok_insp).await;
    assert_eq!(a.json()["total"], 1, "nothing was marked");
    let a = post_json_auth(&t, "/api/v1/inbox/read", &tok_insp, &json!({"all": true})).await;
    assert_eq!(a.json(), json!({"updated": 1, "unread": 0}));
    let a = t.get_auth("/api/v1/inbox?unread=true", &tok_insp).await;
    assert_eq!(a.json()["total"], 0);
    let a = t.get_auth("/api/v1/inbox", &tok_insp).await;
    assert_eq!(a.json()["items"][0]["read_at"], json!(t0));
    let a = t.get_auth("/api/v1/inbox?unread=true", &tok_handler).await;
    assert_eq!(a.json()["total"], 1, "the department note is still unread");

    // The owner marks by id; again is a no-op.
    for expect in [1, 0] {
        let a = post_json_auth(
            &t,
            "/api/v1/inbox/read",
            &tok_handler,
            &json!({"ids": [dept_note, dept_note]}),
        )
        .await;
        assert_eq!(a.json(), json!({"updated": expect, "unread": 0}));
    }

    // Paging and errors.
    let (tok_disp, _, _) = inbox("dispatcher").await;
    let a = t
        .get_auth("/api/v1/inbox?page=2&page_size=1", &tok_disp)
        .await;
    let v = a.json();
    assert_eq!(
        (v["total"].as_u64(), v["items"][0]["title"].as_str()),
        (Some(2), Some("待派遣"))
    );
    t.get_auth("/api/v1/inbox?unread=maybe", &tok_disp)
        .await
        .assert_error(400, "invalid_query");
    t.get("/api/v1/inbox")
        .await
        .assert_error(401, "unauthenticated");
    post_json_auth(&t, "/api/v1/inbox/read", &tok_disp, &json!({"ids": "all"}))
        .await
        .assert_error(422, "invalid_value");
    let many: Vec<i64> = (1..=1001).collect();
    post_json_auth(&t, "/api/v1/inbox/read", &tok_disp, &json!({"ids": many}))
        .await
        .assert_error(422, "invalid_value");
}

// ---------------------------------------------------------------------------------------------
// responsibility matrix

async fn export_csv(t: &TestApp, token: &str) -> String {
    let a = t.get_auth("/api/v1/routing-rules.csv", token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(
        a.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        a.header("content-type")
    );
    a.text()
}

async fn suggest(t: &TestApp, token: &str, query: &str) -> Value {
    let a = t
        .get_auth(&format!("/api/v1/routing/suggest?{query}"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.text());
    a.json()
}

async fn routing_matrix_replace_export_round_trip_and_suggest(t: TestApp) {
    let admin = t.token("admin").await;
    let disp = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let sanitation = dept_id(&t, "441303-sanitation").await;

    let rules = json!({"rules": [
        {"category_kind": "matter", "category_code": "*", "region_code": "441300", "department_code": "441300-command"},
        {"category_kind": "component", "category_code": "01", "region_code": DISTRICT, "department_code": "441302-municipal", "auto_dispatch": true},
        {"category_kind": "component", "category_code": "01001", "region_code": STREET, "department_code": "441302-municipal"},
        {"category_kind": "component", "category_code": "02", "region_code": "441300", "department_id": sanitation},
    ]});
    let put_json = |token: &str, body: &Value| {
        let (t, token, body) = (&t, token.to_string(), body.to_string());
        async move {
            send_body(
                t,
                Method::PUT,
                "/api/v1/routing-rules",
                &token,
                "application/json",
                body,
            )
            .await
        }
    };
    let a = put_json(&admin, &rules).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"rules": 4}));

    // The list names the departments; dispatchers may read it, handlers may not.
    let a = t.get_auth("/api/v1/routing-rules", &disp).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["total"], 4);
    let first = &v["items"][0];
    assert_eq!(first["category_kind"], "component");
    assert_eq!(first["category_code"], "01");
    assert_eq!(first["department_code"], "441302-municipal");
    assert_eq!(first["department_name"], "惠城区市政管理所");
    assert_eq!(first["auto_dispatch"], true);
    let a = t
        .get_auth("/api/v1/routing-rules?page=2&page_size=3", &disp)
        .await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 1);
    t.get_auth("/api/v1/routing-rules", &handler)
        .await
        .assert_error(403, "forbidden");
    t.get_auth("/api/v1/routing-rules.csv", &handler)
        .await
        .assert_error(403, "forbidden");

    // The export, put back as CSV, gives the same export.
    let csv = export_csv(&t, &disp).await;
    assert_eq!(
        csv.lines().next(),
        Some("category_kind,category_code,region_code,department_code,auto_dispatch")
    );
    assert_eq!(csv.lines().count(), 5);
    assert!(
        csv.contains("component,02,441300,441303-sanitation,false\n"),
        "{csv}"
    );
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "text/csv; charset=utf-8",
        csv.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"rules": 4}));
    assert_eq!(export_csv(&t, &admin).await, csv);

    // The matrix in force picks the most specific rule; the component's owner comes first.
    let at = "lng=114.405&lat=23.095";
    let s = suggest(
        &t,
        &disp,
        &format!("category_kind=component&category_code=01001&{at}"),
    )
    .await;
    assert_eq!(s["department"]["code"], "441302-municipal");
    assert_eq!(s["rule"]["category_code"], "01001");
    assert_eq!(s["rule"]["region_code"], STREET);
    assert_eq!(s["auto_dispatch"], false);
    assert_eq!(s["location"]["grid_code"], GRID_NW);
    let s = suggest(
        &t,
        &disp,
        &format!("category_kind=component&category_code=01002&{at}"),
    )
    .await;
    assert_eq!(s["rule"]["category_code"], "01");
    assert_eq!(s["auto_dispatch"], true);
    let s = suggest(
        &t,
        &disp,
        &format!("category_kind=component&category_code=02001&{at}"),
    )
    .await;
    assert_eq!(s["department"]["code"], "441303-sanitation");
    assert_eq!(s["by_component_owner"], false);
    // The car park component 02001 at (114.43, 23.09) is owned by the municipal department.
    let component = cityops_domain::ComponentId::new(DISTRICT, "02001", 1).unwrap();
    let s = suggest(
        &t,
        &disp,
        &format!(
            "category_kind=component&category_code=02001&lng=114.43&lat=23.09&component_id={}",
            component.as_str()
        ),
    )
    .await;
    assert_eq!(s["department"]["code"], "441302-municipal");
    assert_eq!(s["by_component_owner"], true);
    assert_eq!(s["rule"]["department_code"], "441303-sanitation");
    let s = suggest(
        &t,
        &admin,
        &format!("category_kind=matter&category_code=01001&{at}"),
    )
    .await;
    assert_eq!(s["department"]["code"], "441300-command");
    t.get_auth(
        "/api/v1/routing/suggest?category_kind=matter&category_code=01001&lng=100&lat=10",
        &disp,
    )
    .await
    .assert_error(404, "outside_city");
    t.get_auth(
        &format!("/api/v1/routing/suggest?category_kind=thing&category_code=01001&{at}"),
        &disp,
    )
    .await
    .assert_error(400, "invalid_query");
    t.get_auth(
        &format!("/api/v1/routing/suggest?category_kind=matter&category_code=01001&{at}"),
        &handler,
    )
    .await
    .assert_error(403, "forbidden");
}

async fn a_bad_matrix_writes_nothing_and_names_the_line(t: TestApp) {
    let admin = t.token("admin").await;
    let disp = t.token("dispatcher").await;
    // In the export's order: kind, category, region.
    let good = "category_kind,category_code,region_code,department_code,auto_dispatch\n\
                component,01,441302,441302-municipal,true\n\
                matter,*,441300,441300-command,false\n";
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "text/csv",
        good,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let before = export_csv(&t, &admin).await;
    assert_eq!(before, good);

    let bad_cases = [
        // unknown department on line 3
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             component,01,441302,no-such-department,false\n",
            "line 3",
        ),
        // an unknown region, a category not in the catalogue, a bad shape
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             matter,*,441399,441300-command,false\n",
            "line 3: unknown region 441399",
        ),
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             component,09,441300,441300-command,false\n",
            "line 2: category component 09 is not in the catalogue",
        ),
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             \n\
             matter,123,441300,441300-command,false\n",
            "line 4",
        ),
        // a duplicate names both lines
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             matter,*,441300,441302-municipal,false\n",
            "line 3: matter * in 441300 is already given at line 2",
        ),
        (
            "kind,code,region,dept,auto\nmatter,*,441300,441300-command,false\n",
            "line 1",
        ),
    ];
    for (csv, expect) in bad_cases {
        let a = send_body(
            &t,
            Method::PUT,
            "/api/v1/routing-rules",
            &admin,
            "text/csv",
            csv,
        )
        .await;
        a.assert_error(422, "invalid_value");
        let msg = a.json()["message"].as_str().unwrap().to_string();
        assert!(msg.contains(expect), "{expect:?} in {msg:?}");
        assert_eq!(
            export_csv(&t, &admin).await,
            before,
            "unchanged after {expect}"
        );
    }
    // JSON errors name the index.
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "application/json",
        json!({"rules": [{"category_kind": "matter", "category_code": "*", "region_code": "441300", "department_id": 999}]}).to_string(),
    )
    .await;
    a.assert_error(422, "invalid_value");
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("rules[0]: unknown department id 999")
    );
    // Only administrators replace; other content types are refused.
    send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &disp,
        "text/csv",
        good,
    )
    .await
    .assert_error(403, "forbidden");
    send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "text/plain",
        good,
    )
    .await
    .assert_error(415, "unsupported_media_type");
    send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "application/json",
        "{",
    )
    .await
    .assert_error(400, "bad_request");
    assert_eq!(export_csv(&t, &admin).await, before);
    assert_eq!(
        t.state.routing().len(),
        2,
        "the matrix in force is unchanged"
    );

    // An empty matrix must be asked for (`?allow_empty=true`).
    let empty = "category_kind,category_code,region_code,department_code,auto_dispatch\n";
    send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules",
        &admin,
        "text/csv",
        empty,
    )
    .await
    .assert_error(422, "empty_matrix");
    assert_eq!(t.state.routing().len(), 2, "refused: the matrix is intact");
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/routing-rules?allow_empty=true",
        &admin,
        "text/csv",
        empty,
    )
    .await;
    assert_eq!(a.json(), json!({"rules": 0}));
    assert!(t.state.routing().is_empty());
}

// ---------------------------------------------------------------------------------------------
// working calendar

async fn deadline(t: &TestApp, token: &str, query: &str) -> Value {
    let a = t
        .get_auth(&format!("/api/v1/calendar/deadline?{query}"), token)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.text());
    a.json()
}

async fn a_new_years_schedule_changes_deadlines(t: TestApp) {
    let admin = t.token("admin").await;
    let handler = t.token("handler").await;

    let a = t.get_auth("/api/v1/calendar", &handler).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let cal = a.json();
    assert_eq!(cal["tz"], "Asia/Shanghai");
    assert_eq!(
        cal["hours"],
        json!([{"start": "08:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}])
    );
    assert_eq!(cal["yellow_ratio"], 0.8);
    assert_eq!(cal["working_seconds_per_day"], 28_800);
    assert!(!cal["years"].as_array().unwrap().contains(&json!(2027)));

    // Three working days from Thursday 2027-09-30 10:00: without a 2027 schedule, the plain week.
    let q = "start=2027-09-30T10:00:00%2B08:00&value=3&unit=work_day";
    let d = deadline(&t, &handler, q).await;
    assert_eq!(d["due"], "2027-10-05T02:00:00Z");
    assert_eq!(d["due_local"], "2027-10-05T10:00:00+08:00");
    assert_eq!(d["unscheduled"], true);

    // A bad line writes nothing and is named.
    let bad = "date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-32,holiday,国庆节\n";
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "text/csv",
        bad,
    )
    .await;
    a.assert_error(422, "invalid_value");
    assert!(
        a.json()["message"].as_str().unwrap().contains("line 3"),
        "{}",
        a.text()
    );
    assert!(!t.state.calendar().has_schedule(2027));

    // Only administrators.
    let schedule = "date,kind,name\n\
                    2027-09-26,workday,国庆节调休\n\
                    2027-10-01,holiday,国庆节\n2027-10-02,holiday,国庆节\n2027-10-03,holiday,国庆节\n\
                    2027-10-04,holiday,国庆节\n2027-10-05,holiday,国庆节\n2027-10-06,holiday,国庆节\n\
                    2027-10-07,holiday,国庆节\n\
                    2027-10-09,workday,国庆节调休\n";
    send_body(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &handler,
        "text/csv",
        schedule,
    )
    .await
    .assert_error(403, "forbidden");

    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "text/csv",
        schedule,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["written"], 9);
    assert!(v["years"].as_array().unwrap().contains(&json!(2027)));

    // Now: the Golden Week is off, Friday 10-08 and the make-up Saturday 10-09 count.
    let d = deadline(&t, &handler, q).await;
    assert_eq!(d["due"], "2027-10-11T02:00:00Z");
    assert_eq!(d["unscheduled"], false);
    // Natural days ignore the schedule.
    let d = deadline(
        &t,
        &handler,
        "start=2027-09-30T10:00:00%2B08:00&value=3&unit=natural_day",
    )
    .await;
    assert_eq!(d["due"], "2027-10-03T02:00:00Z");
    assert_eq!(d["unscheduled"], false);
    // 4 working hours from 16:00 on 10-08: 2 h that day, 2 h on the make-up Saturday.
    let d = deadline(
        &t,
        &handler,
        "start=2027-10-08T08:00:00Z&value=4&unit=work_hour",
    )
    .await;
    assert_eq!(d["due_local"], "2027-10-09T10:00:00+08:00");

    let a = t.get_auth("/api/v1/calendar?year=2027", &handler).await;
    let days = a.json()["days"].as_array().unwrap().clone();
    assert_eq!(days.len(), 9);
    assert_eq!(
        days[0],
        json!({"date": "2027-09-26", "kind": "workday", "name": "国庆节调休"})
    );

    // JSON replaces by date: 10-09 becomes an ordinary Saturday again.
    let a = send_body(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "application/json",
        json!({"days": [{"date": "2027-10-08", "kind": "holiday", "name": "国庆节"}]}).to_string(),
    )
    .await;
    assert_eq!(a.json()["written"], 1);
    let d = deadline(&t, &handler, q).await;
    assert_eq!(d["due"], "2027-10-12T02:00:00Z", "10-09 and 10-11, 10-12");

    // Query errors.
    for bad in [
        "start=yesterday&value=3&unit=work_day",
        "start=2027-09-30T10:00:00Z&value=3&unit=fortnight",
        "start=2027-09-30T10:00:00Z&value=-1&unit=work_day",
        "start=2027-09-30T10:00:00Z&unit=work_day",
    ] {
        t.get_auth(&format!("/api/v1/calendar/deadline?{bad}"), &handler)
            .await
            .assert_error(400, "invalid_query");
    }
    send_body(
        &t,
        Method::PUT,
        "/api/v1/calendar/days",
        &admin,
        "text/csv",
        "date,kind,name\n",
    )
    .await
    .assert_error(422, "invalid_value");
    t.get("/api/v1/calendar")
        .await
        .assert_error(401, "unauthenticated");
}

// ---------------------------------------------------------------------------------------------
// documentation

#[test]
fn the_extra_routes_are_documented() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    for (path, method) in [
        ("/api/v1/attachments", "post"),
        ("/api/v1/attachments/{id}", "get"),
        ("/api/v1/attachments/{id}/thumb", "get"),
        ("/api/v1/inbox", "get"),
        ("/api/v1/inbox/read", "post"),
        ("/api/v1/routing-rules", "get"),
        ("/api/v1/routing-rules", "put"),
        ("/api/v1/routing-rules.csv", "get"),
        ("/api/v1/routing/suggest", "get"),
        ("/api/v1/calendar", "get"),
        ("/api/v1/calendar/days", "put"),
        ("/api/v1/calendar/deadline", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    assert!(
        doc["paths"]["/api/v1/attachments"]["post"]["requestBody"]["content"]
            ["multipart/form-data"]
            .is_object()
    );
}
