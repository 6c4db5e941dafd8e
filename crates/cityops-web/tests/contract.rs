//! The OpenAPI document is exact: the server enforces what the document declares (enumerations,
//! code patterns, bounds) and the document declares what the server does (every status a shared
//! extractor can answer, optional bodies). `scripts/schemathesis` checks the same against the live
//! demo server; these tests keep the rules in the ordinary test run.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::cases::{A_SE, Backend, at, run};
use common::{TestApp, app};
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(&cityops_web::openapi_json()).unwrap()
}

/// The schema a `$ref` names (or the schema itself).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The schema of a property, through `$ref`, `oneOf: [null, …]` and `type: [T, null]` wrappers.
fn property<'a>(doc: &'a Value, schema: &str, name: &str) -> &'a Value {
    let p = &doc["components"]["schemas"][schema]["properties"][name];
    assert!(!p.is_null(), "{schema}.{name} is documented");
    let p = match p["oneOf"].as_array() {
        Some(options) => options.iter().find(|o| o["type"] != "null").unwrap_or(p),
        None => p,
    };
    resolve(doc, p)
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op));
        }
    }
    out
}

#[test]
fn every_operation_declares_what_its_extractors_answer() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let has = |s: &str| responses.contains_key(s);
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            assert!(has("401"), "{method} {path}: 401 with security");
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if !params.is_empty() {
            assert!(has("400"), "{method} {path}: 400 with parameters");
        }
        if !op["requestBody"].is_null() {
            for s in ["400", "413", "415", "422"] {
                assert!(has(s), "{method} {path}: {s} with a request body");
            }
        }
        for (status, r) in responses {
            if status.starts_with('4') {
                let schema = &r["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path}: {status} answers an ErrorBody"
                );
            }
        }
    }
    // Login is rate-limited, and says so.
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
}

#[test]
fn enumerations_and_codes_are_declared() {
    let doc = document();
    let enum_of = |schema: &str, name: &str| -> Vec<String> {
        property(&doc, schema, name)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{name} has an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(enum_of("CategoryView", "kind"), ["component", "matter"]);
    assert!(enum_of("CaseView", "status").contains(&"dispatched".to_string()));
    assert!(enum_of("CaseView", "light").contains(&"yellow".to_string()));
    assert!(enum_of("NewCaseRequest", "crs").contains(&"gcj02".to_string()));
    assert!(enum_of("RegionView", "level").contains(&"grid".to_string()));
    assert!(enum_of("ErrorBody", "code").contains(&"invalid_transition".to_string()));
    let roles = &property(&doc, "UserView", "roles")["items"];
    assert!(resolve(&doc, roles)["enum"].as_array().unwrap().len() >= 12);

    let pattern = |schema: &str, name: &str| -> String {
        property(&doc, schema, name)["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{name} has a pattern"))
            .to_string()
    };
    assert_eq!(pattern("RegionView", "code"), "^[0-9]{6}([0-9]{3}){0,3}$");
    assert_eq!(pattern("CategoryView", "code"), "^[0-9]{5}$");
    assert_eq!(pattern("ComponentView", "id"), "^[0-9]{17}$");

    // Parameters: codes have patterns, vocabularies enums, pages bounds.
    let param = |path: &str, name: &str| -> Value {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has the parameter {name}"));
        let s = &p["schema"];
        let s = match s["oneOf"].as_array() {
            Some(o) => o.iter().find(|o| o["type"] != "null").unwrap(),
            None => s,
        };
        resolve(&doc, s).clone()
    };
    assert!(param("/api/v1/regions/{code}", "code")["pattern"].is_string());
    assert!(param("/api/v1/components/{id}", "id")["pattern"].is_string());
    assert!(param("/api/v1/categories/{kind}/{code}", "kind")["enum"].is_array());
    assert!(param("/api/v1/categories/{kind}/{code}", "code")["pattern"].is_string());
    assert!(param("/api/v1/locate", "crs")["enum"].is_array());
    assert!(param("/api/v1/users", "role")["enum"].is_array());
    assert!(param("/api/v1/categories", "kind")["enum"].is_array());
    assert!(param("/api/v1/cases", "status")["pattern"].is_string());
    assert!(param("/api/v1/cases", "district")["pattern"].is_string());
    let page = param("/api/v1/cases", "page");
    assert_eq!(page["minimum"], 1);
    assert_eq!(page["maximum"], 1_000_000);
    assert_eq!(param("/api/v1/cases", "page_size")["maximum"], 1000);

    // The action body is optional, and says so.
    let action = &doc["paths"]["/api/v1/cases/{id}/actions/{action}"]["post"];
    assert_ne!(action["requestBody"]["required"], true);
}

#[tokio::test]
async fn query_values_outside_the_document_are_refused() {
    let t = app().await;
    let token = t.token("admin").await;
    for uri in [
        "/api/v1/regions?page=1000001",
        "/api/v1/regions?page=2147483648",
        "/api/v1/regions?page=0",
        "/api/v1/regions?page_size=1001",
        "/api/v1/regions?level=planet",
        "/api/v1/regions?level=",
        "/api/v1/regions?parent=44130",
        "/api/v1/categories?kind=thing",
        "/api/v1/categories?kind=",
        "/api/v1/locate?lng=114.41&lat=23.09&crs=WGS84",
        "/api/v1/locate?lng=114.41&lat=23.09&crs=",
        "/api/v1/locate?lng=181&lat=23.09",
    ] {
        t.get(uri).await.assert_error(400, "invalid_query");
    }
    for uri in [
        "/api/v1/users?role=mayor",
        "/api/v1/cases?status=open",
        "/api/v1/cases?status=filed,",
        "/api/v1/cases?status=filed,%20closed",
        "/api/v1/cases?light=blue",
        "/api/v1/cases?district=4413",
        "/api/v1/cases?grid=441302001001001&district=x",
        "/api/v1/cases?from=2026-13-01",
        "/api/v1/cases?bbox=114.4,23.0,114.5",
        "/api/v1/cases?bbox=1e2,0,1,1",
        "/api/v1/components?grid=4413",
        "/api/v1/departments?region=abc",
        "/api/v1/calendar/deadline?start=2027-09-30T10:00:00Z&value=100001&unit=work_day",
        "/api/v1/calendar/deadline?start=2027-09-30T10:00:00Z&value=1&unit=fortnight",
    ] {
        t.get_auth(uri, &token)
            .await
            .assert_error(400, "invalid_query");
    }
    // At the bounds, and a box given by its corners in the other order.
    for uri in [
        "/api/v1/regions?page=1000000",
        "/api/v1/cases?status=filed,closed&from=2026-11-01&to=2026-11-30T00:00:00Z",
        "/api/v1/cases?bbox=114.5,23.1,114.4,23.0",
        "/api/v1/components?bbox=114.5,23.1,114.4,23.0",
    ] {
        let a = t.get_auth(uri, &token).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    }
}

fn post(uri: &str, token: &str, content_type: Option<&str>, body: &'static str) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    b.body(Body::from(body)).unwrap()
}

async fn action_bodies(t: TestApp) {
    let intake = t.token("intake").await;
    let supervisor = t.token("supervisor").await;
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
    let uri = format!("/api/v1/cases/{id}/actions/supervise");

    // A body that is not JSON: 415; malformed JSON 400; a declared bound broken 422, whatever
    // the action (supervise needs no score, yet a score of 9 is still refused).
    let a = t
        .send(post(&uri, &supervisor, Some("text/plain"), "hello"))
        .await;
    a.assert_error(415, "unsupported_media_type");
    let a = t
        .send(post(&uri, &supervisor, Some("application/json"), "{"))
        .await;
    a.assert_error(400, "bad_request");
    let a = t
        .send(post(
            &uri,
            &supervisor,
            Some("application/json"),
            r#"{"score": 9}"#,
        ))
        .await;
    a.assert_error(422, "invalid_value");
    let a = t
        .send(post(
            &uri,
            &supervisor,
            Some("application/json"),
            r#"{"category_code": "1"}"#,
        ))
        .await;
    a.assert_error(422, "invalid_value");

    // No body, without a content type or with one, and `null`: no fields — the request reaches
    // the service, which asks for the comment `supervise` needs.
    for (ct, body) in [
        (None, ""),
        (Some("application/json"), ""),
        (Some("text/plain"), ""),
        (Some("application/json"), "null"),
    ] {
        let a = t.send(post(&uri, &supervisor, ct, body)).await;
        a.assert_error(422, "invalid_value");
        assert!(
            a.text().contains("needs comment"),
            "{ct:?} {body:?}: {}",
            a.text()
        );
        let a = t
            .send(post(
                &format!("/api/v1/cases/{id}/actions/nonsense"),
                &supervisor,
                ct,
                body,
            ))
            .await;
        a.assert_error(404, "not_found");
    }
    let a = t
        .send(post(
            &uri,
            &supervisor,
            Some("application/json"),
            r#"{"comment": "请加快处置"}"#,
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["supervised"], true);

    // A report's declared shapes.
    for body in [
        json!({"lng": 114.4, "lat": 23.1, "description": "x", "crs": "WGS84"}),
        json!({"lng": 114.4, "lat": 23.1, "description": "x", "source": "pigeon"}),
        json!({"lng": 114.4, "lat": 23.1, "description": "x", "category_code": "1001"}),
        json!({"lng": 114.4, "lat": 23.1, "description": "x", "component_id": "123"}),
        json!({"lng": 190.0, "lat": 23.1, "description": "x"}),
    ] {
        t.post_auth("/api/v1/cases", &intake, &body)
            .await
            .assert_error(422, "invalid_value");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_bodies_are_optional_and_checked() {
    run(
        Backend::Sqlite,
        cityops_web::WebConfig::default(),
        action_bodies,
    )
    .await;
}

/// Every free-text field a client can send has a `maxLength` in the document — the domain's
/// limit (`cityops_domain::limits`), in characters — and every other string field of a request
/// body a pattern, an enumeration or a format: nothing of unbounded length goes undeclared.
#[test]
fn request_texts_declare_their_limits() {
    use cityops_domain::limits;
    let doc = document();
    let max = |schema: &str, name: &str| property(&doc, schema, name)["maxLength"].as_u64();
    for (schema, name, limit) in [
        ("NewCaseRequest", "description", limits::DESCRIPTION),
        ("NewCaseRequest", "address", limits::ADDRESS),
        ("NewCaseRequest", "contact", limits::CONTACT),
        ("ActionBody", "comment", limits::COMMENT),
        ("ActionBody", "reason", limits::REASON),
        ("CalendarDayView", "name", limits::HOLIDAY_NAME),
        ("RuleInput", "department_code", limits::DEPARTMENT_CODE),
    ] {
        assert_eq!(
            max(schema, name),
            Some(limit.max_chars as u64),
            "{schema}.{name}"
        );
    }
    assert_eq!(max("NewCaseRequest", "description"), Some(2000));
    assert_eq!(max("NewCaseRequest", "address"), Some(200));
    for path in ["/api/v1/cases", "/api/v1/cases/stats"] {
        let q = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "q")
            .unwrap();
        let s = &q["schema"];
        assert_eq!(s["maxLength"], 200, "{path}?q: {s}");
    }

    // Every string property of every request body (JSON) is bounded somehow.
    let mut bodies = Vec::new();
    for (method, path, op) in operations(&doc) {
        for (media, content) in op["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if media == "application/json"
                && let Some(r) = content["schema"]["$ref"].as_str()
            {
                bodies.push((
                    format!("{method} {path}"),
                    r.rsplit('/').next().unwrap().to_string(),
                ));
            }
        }
    }
    assert!(bodies.iter().any(|(_, s)| s == "NewCaseRequest"));
    let mut seen = std::collections::BTreeSet::new();
    while let Some((op, schema)) = bodies.pop() {
        if !seen.insert(schema.clone()) {
            continue;
        }
        let s = &doc["components"]["schemas"][&schema];
        for (name, p) in s["properties"].as_object().into_iter().flatten() {
            let options: Vec<&Value> = match p["oneOf"].as_array() {
                Some(o) => o.iter().collect(),
                None => vec![p],
            };
            for o in options {
                if let Some(r) = o["$ref"].as_str().or(o["items"]["$ref"].as_str()) {
                    let target = r.rsplit('/').next().unwrap().to_string();
                    let t = &doc["components"]["schemas"][&target];
                    if t["properties"].is_object() {
                        bodies.push((op.clone(), target));
                    }
                    continue;
                }
                let is_string = o["type"] == "string"
                    || o["type"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t == "string"));
                if is_string {
                    let bounded = o["maxLength"].is_u64()
                        || o["pattern"].is_string()
                        || o["enum"].is_array()
                        || o["format"].is_string();
                    assert!(
                        bounded,
                        "{op}: {schema}.{name} is a string without a bound: {o}"
                    );
                }
            }
        }
    }
}
