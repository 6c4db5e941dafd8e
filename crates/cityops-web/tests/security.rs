//! Issue 9's findings against the API, each reproduced as the attacker (or the careless user)
//! did it, now getting the safe answer: cross-site requests with the session cookie, login
//! throttling that locked out the rightful user, forged log lines, `/metrics` and `/healthz` for
//! strangers, cookies without `Secure` over HTTPS, sessions one could not see or revoke.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cityops_web::WebConfig;
use common::cases::{A_SE, at};
use common::*;
use serde_json::{Value, json};

/// The site as the tests' browser sees it.
const HOST: &str = "city.example";
const ORIGIN: &str = "http://city.example";
const EVIL: &str = "https://evil.example";

/// A browser's session: the cookie's token and the CSRF token the login answered with.
struct Browser {
    token: String,
    csrf: String,
}

impl Browser {
    fn cookie(&self) -> String {
        format!("cityops_session={}", self.token)
    }
}

async fn browser(t: &TestApp, username: &str) -> Browser {
    let a = t.login(username, PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "login {username}: {}", a.text());
    let v = a.json();
    Browser {
        token: v["token"].as_str().unwrap().to_string(),
        csrf: v["csrf_token"].as_str().unwrap().to_string(),
    }
}

/// A request carrying the session cookie, with `headers` on top.
fn with_cookie(
    method: Method,
    uri: &str,
    b: &Browser,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut r = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST)
        .header(header::COOKIE, b.cookie());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body.into()).unwrap()
}

/// The attack: a form on evil.example posts with the cookie, a typeless body.
fn attack(uri: &str, b: &Browser) -> Request<Body> {
    with_cookie(
        Method::POST,
        uri,
        b,
        &[
            ("origin", EVIL),
            ("sec-fetch-site", "cross-site"),
            ("content-type", "text/plain"),
        ],
        Body::empty(),
    )
}

/// The same request from the console: same origin, the token in the header, a JSON body.
fn from_console(uri: &str, b: &Browser) -> Request<Body> {
    with_cookie(
        Method::POST,
        uri,
        b,
        &[
            ("origin", ORIGIN),
            ("sec-fetch-site", "same-origin"),
            ("x-csrf-token", &b.csrf),
            ("content-type", "application/json"),
        ],
        "{}",
    )
}

fn multipart(seed: u8) -> (String, Vec<u8>) {
    let boundary = "cityops-csrf-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend(common::cases::png(seed));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The case's status and number of events, as its reporter sees them.
async fn state_of(t: &TestApp, token: &str, id: i64) -> (Value, usize) {
    let case = t.case(token, id).await.json();
    let events = t
        .get_auth(&format!("/api/v1/cases/{id}/events"), token)
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .len();
    (case["status"].clone(), events)
}

// ---------------------------------------------------------------------------------------------
// 1. CSRF

async fn cross_site_workflow_actions_are_refused(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = browser(&t, "supervisor").await;
    let dispatcher = browser(&t, "dispatcher").await;
    let handler = browser(&t, "handler").await;
    let case = t
        .report(
            &intake,
            at(
                A_SE,
                json!({"category_kind": "component", "category_code": "01001"}),
            ),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    let action = |a: &str| format!("/api/v1/cases/{id}/actions/{a}");

    // file: the attack, and every way around the check, each refused with the case unchanged.
    let before = state_of(&t, &intake, id).await;
    let sneaky = [
        attack(&action("file"), &supervisor),
        // Only the Origin (an older browser without Sec-Fetch-*).
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("origin", EVIL)],
            Body::empty(),
        ),
        // A sibling site.
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("sec-fetch-site", "same-site")],
            Body::empty(),
        ),
        // A sandboxed frame.
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("origin", "null")],
            Body::empty(),
        ),
        // No origin headers at all, but no token either (a non-browser replaying the cookie, or
        // a browser that sends neither).
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("content-type", "application/json")],
            "{}",
        ),
        // Another session's token.
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("x-csrf-token", &dispatcher.csrf)],
            Body::empty(),
        ),
        // A form field that is not the token.
        with_cookie(
            Method::POST,
            &action("file"),
            &supervisor,
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("csrf_token={}", dispatcher.csrf),
        ),
    ];
    for req in sneaky {
        let what = format!("{:?}", req.headers());
        let a = t.send(req).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{what}: {}", a.text());
        a.assert_error(403, "csrf");
        assert_eq!(
            state_of(&t, &intake, id).await,
            before,
            "unchanged after {what}"
        );
    }
    // From the console: works.
    let a = t.send(from_console(&action("file"), &supervisor)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["status"], "filed");

    // dispatch: refused cross-site, works with the token in an HTML form's field.
    let before = state_of(&t, &intake, id).await;
    t.send(attack(&action("dispatch"), &dispatcher))
        .await
        .assert_error(403, "csrf");
    assert_eq!(state_of(&t, &intake, id).await, before);
    let a = t
        .send(with_cookie(
            Method::POST,
            &action("dispatch"),
            &dispatcher,
            &[
                ("origin", ORIGIN),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            format!("comment=&csrf_token={}", dispatcher.csrf),
        ))
        .await;
    // The guard let it through; the action's own parser then wants JSON (or nothing).
    assert_ne!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    let a = t.send(from_console(&action("dispatch"), &dispatcher)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["status"], "dispatched");

    // sign: refused cross-site; a bearer token is unaffected (a browser never adds one itself).
    let before = state_of(&t, &intake, id).await;
    t.send(attack(&action("sign"), &handler))
        .await
        .assert_error(403, "csrf");
    assert_eq!(state_of(&t, &intake, id).await, before);
    let a = t
        .send(
            Request::post(action("sign"))
                .header(header::AUTHORIZATION, format!("Bearer {}", handler.token))
                .header("origin", EVIL)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["status"], "handling");

    // A photo upload (multipart) with the cookie from another site: refused before anything is
    // read or stored; from the console with the header: stored.
    let (ct, body) = multipart(7);
    t.send(with_cookie(
        Method::POST,
        "/api/v1/attachments",
        &handler,
        &[("origin", EVIL), ("content-type", &ct)],
        body.clone(),
    ))
    .await
    .assert_error(403, "csrf");
    let a = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/attachments",
            &handler,
            &[
                ("origin", ORIGIN),
                ("sec-fetch-site", "same-origin"),
                ("x-csrf-token", &handler.csrf),
                ("content-type", &ct),
            ],
            body,
        ))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());

    // Logout with the cookie is a state change like any other.
    t.send(attack("/api/v1/auth/logout", &handler))
        .await
        .assert_error(403, "csrf");
    assert_eq!(
        t.get_auth("/api/v1/me", &handler.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_from_another_site_is_refused() {
    let t = app().await;
    let login = |headers: &[(&str, &str)]| {
        let mut r = Request::post("/api/v1/auth/login")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(Body::from(
            json!({"username": "admin", "password": PASSWORD}).to_string(),
        ))
        .unwrap()
    };
    for headers in [
        &[("origin", EVIL)][..],
        &[("sec-fetch-site", "cross-site")],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://sub.city.example"),
        ],
    ] {
        let a = t.send(login(headers)).await;
        a.assert_error(403, "csrf");
        assert!(
            a.header("set-cookie").is_none(),
            "no session for {headers:?}"
        );
    }
    let a = t
        .send(login(&[
            ("origin", ORIGIN),
            ("sec-fetch-site", "same-origin"),
        ]))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // A stale session cookie does not make login need a token.
    let stale = Browser {
        token: "ab".repeat(32),
        csrf: String::new(),
    };
    let a = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/auth/login",
            &stale,
            &[("origin", ORIGIN), ("content-type", "application/json")],
            json!({"username": "admin", "password": PASSWORD}).to_string(),
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[test]
fn the_document_declares_csrf() {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    let r = &doc["paths"]["/api/v1/cases/{id}/actions/{action}"]["post"]["responses"]["403"];
    assert!(r["description"].as_str().unwrap().contains("`csrf`"), "{r}");
    assert!(
        doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["403"].is_object(),
        "login CSRF"
    );
    assert!(
        doc["paths"]["/api/v1/cases"]["get"]["responses"]["403"].is_null()
            || !doc["paths"]["/api/v1/cases"]["get"]["responses"]["403"]["description"]
                .as_str()
                .unwrap_or_default()
                .contains("csrf"),
        "reads are not guarded"
    );
    let codes = &doc["components"]["schemas"]["ErrorCodeName"]["enum"];
    assert!(
        codes.as_array().unwrap().contains(&json!("csrf")),
        "{codes}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Login throttling (log lines: tests/log_lines.rs)

fn login_request(username: &str, password: &str) -> Request<Body> {
    Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap()
}

#[tokio::test]
async fn a_strangers_guesses_do_not_lock_out_the_user() {
    let t = app().await;
    let (stranger, user) = ("203.0.113.66:51000", "198.51.100.7:52000");
    let mut refused = 0;
    for i in 0..50 {
        let a = t
            .send_from(stranger, login_request("admin", &format!("guess-{i}")))
            .await;
        match a.status.as_u16() {
            401 => {}
            429 => refused += 1,
            other => panic!("guess {i}: {other} {}", a.text()),
        }
    }
    assert!(
        refused >= 40,
        "the guesser is slowed down: {refused} of 50 refused"
    );
    // The rightful user, from his own address, with his password: logged in.
    let a = t.send_from(user, login_request("admin", PASSWORD)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // Still logged in after more guesses, and from yet another address.
    for _ in 0..10 {
        t.send_from(stranger, login_request("admin", "again")).await;
    }
    let a = t
        .send_from("192.0.2.44:1234", login_request("admin", PASSWORD))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

// ---------------------------------------------------------------------------------------------
// 6. /metrics and /healthz

#[tokio::test]
async fn metrics_are_for_this_machine_or_the_token_holder() {
    let get = |uri: &str, auth: Option<&str>| {
        let mut r = Request::get(uri);
        if let Some(a) = auth {
            r = r.header(header::AUTHORIZATION, a);
        }
        r.body(Body::empty()).unwrap()
    };
    let t = app().await;
    // No token configured: loopback only; strangers do not even learn it exists.
    t.send_from("203.0.113.9:4000", get("/metrics", None))
        .await
        .assert_error(404, "not_found");
    t.get("/metrics").await.assert_error(404, "not_found");
    let a = t.send_from("127.0.0.1:4000", get("/metrics", None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("cityops_logins_total") || a.text().contains("# TYPE"));
    assert_eq!(
        t.send_from("[::1]:4000", get("/metrics", None))
            .await
            .status,
        StatusCode::OK
    );
    // A proxy on this machine forwards strangers: they stay strangers.
    let mut forwarded = get("/metrics", None);
    forwarded
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
    t.send_from("127.0.0.1:4000", forwarded)
        .await
        .assert_error(404, "not_found");

    // With a token: other machines present it.
    let t = app_with(
        WebConfig {
            metrics_token: Some("s3cret-metrics-token".into()),
            ..WebConfig::default()
        },
        false,
    )
    .await;
    let stranger = "203.0.113.9:4000";
    t.send_from(stranger, get("/metrics", None))
        .await
        .assert_error(401, "unauthenticated");
    t.send_from(stranger, get("/metrics", Some("Bearer wrong")))
        .await
        .assert_error(401, "unauthenticated");
    // A user's session token is not the metrics token.
    let admin = t.token("admin").await;
    t.send_from(stranger, get("/metrics", Some(&format!("Bearer {admin}"))))
        .await
        .assert_error(401, "unauthenticated");
    let a = t
        .send_from(
            stranger,
            get("/metrics", Some("Bearer s3cret-metrics-token")),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn healthz_tells_strangers_the_status_only() {
    let t = app().await;
    let health = |auth: Option<String>| {
        let mut r = Request::get("/healthz");
        if let Some(token) = auth {
            r = r.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        r.body(Body::empty()).unwrap()
    };
    let stranger = "203.0.113.9:4000";
    let a = t.send_from(stranger, health(None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"status": "ok"}), "no version, no backend");
    let handler = t.token("handler").await;
    assert_eq!(
        t.send_from(stranger, health(Some(handler))).await.json(),
        json!({"status": "ok"}),
        "a user who is not an administrator"
    );
    let admin = t.token("admin").await;
    let v = t.send_from(stranger, health(Some(admin))).await.json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["backend"], "sqlite");
    let v = t.send_from("127.0.0.1:4000", health(None)).await.json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["database"], "ok");
}

// ---------------------------------------------------------------------------------------------
// 9. Cookies, HSTS, sessions

fn login_via(headers: &[(&str, &str)], remember: bool) -> Request<Body> {
    let mut r =
        Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::from(
        json!({"username": "admin", "password": PASSWORD, "remember": remember}).to_string(),
    ))
    .unwrap()
}

#[tokio::test]
async fn secure_cookie_and_hsts_follow_https_from_a_trusted_proxy() {
    let t = app_with(
        WebConfig {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()],
            ..WebConfig::default()
        },
        false,
    )
    .await;
    let proxy = "10.1.2.3:443";
    // Plain HTTP: no Secure, no HSTS; the cookie ends with the browser.
    let a = t.send_from(proxy, login_via(&[], false)).await;
    let cookie = a.header("set-cookie").unwrap();
    assert!(
        !cookie.contains("Secure") && !cookie.contains("Max-Age"),
        "{cookie}"
    );
    assert_eq!(a.header("strict-transport-security"), None);

    // The trusted proxy says HTTPS (either header): Secure and HSTS.
    for h in [
        ("x-forwarded-proto", "https"),
        (
            "forwarded",
            "for=198.51.100.7;proto=https;host=city.example",
        ),
    ] {
        let a = t.send_from(proxy, login_via(&[h], false)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let cookie = a.header("set-cookie").unwrap();
        assert!(cookie.contains("; Secure"), "{h:?}: {cookie}");
        assert!(!cookie.contains("Max-Age"), "{cookie}");
        assert_eq!(
            a.header("strict-transport-security"),
            Some("max-age=31536000")
        );
        // Every answer over HTTPS carries HSTS, errors included.
        let mut r = Request::get("/api/v1/nope").body(Body::empty()).unwrap();
        r.headers_mut().insert(h.0, h.1.parse().unwrap());
        assert_eq!(
            t.send_from(proxy, r)
                .await
                .header("strict-transport-security"),
            Some("max-age=31536000")
        );
    }
    // Remember me: Max-Age = the session's lifetime.
    let a = t
        .send_from(proxy, login_via(&[("x-forwarded-proto", "https")], true))
        .await;
    let cookie = a.header("set-cookie").unwrap();
    assert!(
        cookie.contains("Max-Age=43200") && cookie.contains("; Secure"),
        "{cookie}"
    );

    // Anyone else saying so is ignored.
    let stranger = "203.0.113.9:5555";
    let a = t
        .send_from(
            stranger,
            login_via(&[("x-forwarded-proto", "https")], false),
        )
        .await;
    assert!(!a.header("set-cookie").unwrap().contains("Secure"));
    assert_eq!(a.header("strict-transport-security"), None);

    // Logout over HTTPS clears the cookie with the same attributes.
    let token = a.json()["token"].as_str().unwrap().to_string();
    let out = t
        .send_from(
            proxy,
            Request::post("/api/v1/auth/logout")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("; Secure"),
        "{cleared}"
    );
}

async fn sessions_are_listed_and_revoked_at_once(t: TestApp) {
    let login = |ua: &'static str, peer: &'static str| {
        let t = &t;
        async move {
            let r = Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::USER_AGENT, ua)
                .body(Body::from(
                    json!({"username": "admin", "password": PASSWORD}).to_string(),
                ))
                .unwrap();
            let a = t.send_from(peer, r).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text());
            a.json()["token"].as_str().unwrap().to_string()
        }
    };
    let phone = login("CityOps Phone/1.0", "198.51.100.7:1000").await;
    t.clock.advance(chrono::Duration::minutes(1));
    let tablet = login("CityOps Tablet/1.0", "198.51.100.8:1000").await;
    t.clock.advance(chrono::Duration::minutes(1));
    let desk = login("Mozilla/5.0 (Desk)", "192.0.2.10:1000").await;
    let other = t.token("handler").await;

    let a = t.get_auth("/api/v1/me/sessions", &desk).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let list = a.json();
    assert_eq!(list["total"], 3);
    let items = list["items"].as_array().unwrap();
    let agents: Vec<&str> = items
        .iter()
        .map(|s| s["user_agent"].as_str().unwrap())
        .collect();
    assert_eq!(
        agents,
        [
            "Mozilla/5.0 (Desk)",
            "CityOps Tablet/1.0",
            "CityOps Phone/1.0"
        ],
        "newest first"
    );
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[1]["current"], false);
    assert_eq!(items[2]["address"], "198.51.100.7");
    for s in items {
        let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "address",
                "created_at",
                "current",
                "expires_at",
                "id",
                "user_agent"
            ],
            "{s}"
        );
    }
    let text = a.text();
    for token in [&phone, &tablet, &desk] {
        assert!(!text.contains(token.as_str()), "no token in the list");
        assert!(
            !text.contains(&cityops_web::extract::token_hash(token)),
            "no token hash in the list"
        );
    }
    let id_of = |ua: &str| {
        items.iter().find(|s| s["user_agent"] == ua).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let phone_id = id_of("CityOps Phone/1.0");

    // Another user sees only his own and cannot revoke the administrator's.
    let theirs = t.get_auth("/api/v1/me/sessions", &other).await.json();
    assert_eq!(theirs["total"], 1);
    let delete = |uri: String, token: &str| {
        Request::delete(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    t.send(delete(format!("/api/v1/me/sessions/{phone_id}"), &other))
        .await
        .assert_error(404, "not_found");
    t.send(delete("/api/v1/me/sessions/not-an-id".into(), &desk))
        .await
        .assert_error(404, "not_found");

    // The phone was just used, so this process holds it in its session cache; revoking it
    // takes effect at once all the same (the clock does not move).
    assert_eq!(
        t.get_auth("/api/v1/me", &phone).await.status,
        StatusCode::OK
    );
    let a = t
        .send(delete(format!("/api/v1/me/sessions/{phone_id}"), &desk))
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    t.get_auth("/api/v1/me", &phone)
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(t.get_auth("/api/v1/me", &desk).await.status, StatusCode::OK);

    // All others: the tablet goes, this session and the other user's stay.
    assert_eq!(
        t.get_auth("/api/v1/me", &tablet).await.status,
        StatusCode::OK
    );
    let a = t.send(delete("/api/v1/me/sessions".into(), &desk)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"revoked": 1}));
    t.get_auth("/api/v1/me", &tablet)
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(t.get_auth("/api/v1/me", &desk).await.status, StatusCode::OK);
    assert_eq!(
        t.get_auth("/api/v1/me", &other).await.status,
        StatusCode::OK
    );
    let left = t.get_auth("/api/v1/me/sessions", &desk).await.json();
    assert_eq!(left["total"], 1);

    // One's own current session, by id.
    let own = left["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.send(delete(format!("/api/v1/me/sessions/{own}"), &desk))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    t.get_auth("/api/v1/me", &desk)
        .await
        .assert_error(401, "unauthenticated");
}

fn change_password(token: &str, current: &str, new: &str) -> Request<Body> {
    Request::post("/api/v1/me/password")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"current_password": current, "new_password": new}).to_string(),
        ))
        .unwrap()
}

/// A password change needs the current password, obeys the policy, and ends the user's other
/// sessions at once (a thief holding an old session loses it).
async fn a_password_change_is_checked_and_ends_other_sessions(t: TestApp) {
    let stolen = t.token("admin").await;
    let mine = t.token("admin").await;
    t.send(change_password(
        &mine,
        "not-the-password",
        "Correct-Horse-Battery-9",
    ))
    .await
    .assert_error(403, "forbidden");
    let weak = t.send(change_password(&mine, PASSWORD, "aaaaaaaaaa")).await;
    weak.assert_error(422, "invalid_value");
    t.send(change_password(&mine, PASSWORD, "my-admin-password-2026"))
        .await
        .assert_error(422, "invalid_value");
    assert_eq!(
        t.get_auth("/api/v1/me", &stolen).await.status,
        StatusCode::OK,
        "refused changes end nothing"
    );
    let ok = t
        .send(change_password(&mine, PASSWORD, "Correct-Horse-Battery-9"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["revoked"], 1);
    t.get_auth("/api/v1/me", &stolen)
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(t.get_auth("/api/v1/me", &mine).await.status, StatusCode::OK);
    t.login("admin", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        t.login("admin", "Correct-Horse-Battery-9").await.status,
        StatusCode::OK
    );
}

crate::on_both_stores!(
    cross_site_workflow_actions_are_refused,
    sessions_are_listed_and_revoked_at_once,
    a_password_change_is_checked_and_ends_other_sessions,
);
