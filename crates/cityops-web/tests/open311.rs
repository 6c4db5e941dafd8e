//! Open311 GeoReport v2 (issue 13) over HTTP, on SQLite and PostgreSQL: every method in both
//! formats against the specification's field lists (ids as strings, a single request as an
//! array of one); a round trip — a POST with an issued key, the request by id and in the list,
//! the case handled and closed in our loop by the staff, then `closed` with the final note — in
//! JSON and XML; keys refused when missing, unknown or revoked; errors as the specification
//! writes them; tokens; the rate limits per key and per address; no personal data in a GET.
mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::cases::A_NW;
use common::{Answer, TestApp};
use serde_json::{Map, Value, json};

/// The fixture catalogue's categories as services (and one the catalogue lacks, left out).
fn config() -> cityops_web::WebConfig {
    let mut c = cityops_web::WebConfig::default();
    c.open311.services = ["C01001", "M01001", "M09009", "C02001"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    c.open311
        .names_en
        .insert("C01001".into(), "Water manhole cover".into());
    c.open311.jurisdictions = vec!["huizhou.gov.cn".into()];
    c
}

fn token_config() -> cityops_web::WebConfig {
    let mut c = config();
    c.open311.answer_tokens = true;
    c
}

fn limited_config() -> cityops_web::WebConfig {
    let mut c = config();
    c.report_limits.open311_per_key_per_minute = 3;
    c
}

on_both_stores!(
    discovery_and_services_in_both_formats with super::config(),
    round_trip_to_closed_in_json_and_xml with super::config(),
    keys_are_required_and_revoked_at_once with super::config(),
    errors_as_the_specification_writes_them with super::config(),
    tokens_resolve_to_the_request with super::token_config(),
    requests_are_limited_per_key_and_per_address with super::limited_config(),
    the_admin_api_is_documented with super::config(),
);

const SERVICE_FIELDS: [&str; 7] = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
];

const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

/// A tree of an XML answer in the Spark convention: an element with children is an object
/// (repeated children become an array), a text element its text, an empty one `""`.
fn xml(text: &str) -> (String, Value) {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut r = Reader::from_str(text);
    let mut stack: Vec<(String, Map<String, Value>, String, bool)> = Vec::new();
    let mut root = None;
    let insert = |m: &mut Map<String, Value>, k: String, v: Value| match m.get_mut(&k) {
        Some(Value::Array(a)) => a.push(v),
        Some(other) => {
            let first = other.take();
            *other = Value::Array(vec![first, v]);
        }
        None => {
            m.insert(k, v);
        }
    };
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push((
                e.name().as_ref().to_string(),
                Map::new(),
                String::new(),
                false,
            )),
            Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let parent = stack.last_mut().expect("a parent");
                parent.3 = true;
                insert(&mut parent.1, name, Value::String(String::new()));
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                let s = match g.xml10_content().as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("entity {other}"),
                };
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(s);
                }
            }
            Event::End(_) => {
                let (name, map, text, has_children) = stack.pop().unwrap();
                let v = if has_children || !map.is_empty() {
                    Value::Object(map)
                } else {
                    Value::String(text)
                };
                match stack.last_mut() {
                    Some(parent) => {
                        parent.3 = true;
                        insert(&mut parent.1, name, v);
                    }
                    None => root = Some((name, v)),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    root.expect("a root element")
}

/// The items of an XML list document `<root><item>…</item>…</root>`.
fn xml_items(a: &Answer, root: &str, item: &str) -> Vec<Value> {
    assert_eq!(a.header("content-type"), Some("text/xml; charset=utf-8"));
    let text = a.text();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"),
        "{text}"
    );
    let (name, v) = xml(&text);
    assert_eq!(name, root, "{text}");
    match v.get(item) {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
    }
}

/// The JSON answer (checked content type).
fn json_of(a: &Answer) -> Value {
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        a.text()
    );
    a.json()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(fields: &[&str]) -> BTreeSet<String> {
    fields.iter().map(|s| s.to_string()).collect()
}

/// A JSON error answer: `[{"code": status, "description": "…"}]`, exactly.
#[track_caller]
fn assert_json_error(a: &Answer, status: u16) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text());
    let v = json_of(a);
    let list = v.as_array().unwrap_or_else(|| panic!("an array: {v}"));
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(keys(&list[0]), set(&["code", "description"]), "{v}");
    assert_eq!(list[0]["code"], status, "{v}");
    assert!(
        list[0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

/// An XML error answer: `<errors><error><code>…</code><description>…</description></error></errors>`.
#[track_caller]
fn assert_xml_error(a: &Answer, status: u16) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text());
    let items = xml_items(a, "errors", "error");
    assert_eq!(items.len(), 1, "{}", a.text());
    assert_eq!(keys(&items[0]), set(&["code", "description"]));
    assert_eq!(items[0]["code"], status.to_string());
}

async fn post_form(t: &TestApp, peer: &str, uri: &str, form: &[(&str, &str)]) -> Answer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    t.send_from(
        peer,
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// Posts form pairs to `requests.{fmt}` from one address.
async fn post_pairs(t: &TestApp, fmt: &str, f: &[(&'static str, String)]) -> Answer {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(
        t,
        "198.51.100.2:5000",
        &format!("/open311/v2/requests.{fmt}"),
        &pairs,
    )
    .await
}

/// Issues a key through the admin API.
async fn issue_key(t: &TestApp, name: &str) -> (i64, String) {
    let admin = t.token("admin").await;
    let a = t
        .post_auth(
            "/api/v1/open311/clients",
            &admin,
            &json!({"name": name, "contact": "dev@example.org"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    let v = a.json();
    let key = v["api_key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 64);
    (v["client"]["id"].as_i64().unwrap(), key)
}

fn lat() -> String {
    A_NW.1.to_string()
}

fn long() -> String {
    A_NW.0.to_string()
}

async fn discovery_and_services_in_both_formats(t: TestApp) {
    // Discovery.
    let d = json_of(&t.get("/open311/v2/discovery.json").await);
    assert_eq!(
        keys(&d),
        set(&["changeset", "contact", "key_service", "endpoints"])
    );
    let ep = &d["endpoints"][0];
    assert_eq!(
        keys(ep),
        set(&["specification", "url", "changeset", "type", "formats"])
    );
    assert_eq!(ep["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(ep["formats"], json!(["text/xml", "application/json"]));
    let a = t.get("/open311/v2/discovery.xml").await;
    assert_eq!(a.header("content-type"), Some("text/xml; charset=utf-8"));
    let (root, x) = xml(&a.text());
    assert_eq!(root, "discovery");
    assert_eq!(
        x["endpoints"]["endpoint"]["formats"]["format"],
        json!(["text/xml", "application/json"])
    );

    // Services: the catalogue's categories of the list, in its order; M09009 is not in the
    // fixture catalogue and is left out.
    let s = json_of(&t.get("/open311/v2/services.json").await);
    let list = s.as_array().unwrap();
    let codes: Vec<&str> = list
        .iter()
        .map(|v| v["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["C01001", "M01001", "C02001"]);
    for v in list {
        assert_eq!(keys(v), set(&SERVICE_FIELDS), "{v}");
        assert_eq!(v["metadata"], true);
        assert_eq!(v["type"], "realtime");
    }
    assert_eq!(list[0]["service_name"], "上水井盖");
    assert_eq!(list[0]["group"], "公用设施");
    assert!(
        list[0]["keywords"]
            .as_str()
            .unwrap()
            .contains("Water manhole cover")
    );
    let en = json_of(&t.get("/open311/v2/services.json?locale=en").await);
    assert_eq!(en[0]["service_name"], "Water manhole cover");
    assert_eq!(
        en[1]["service_name"], "私搭乱建",
        "no English name: Chinese"
    );
    let x = xml_items(
        &t.get("/open311/v2/services.xml").await,
        "services",
        "service",
    );
    assert_eq!(x.len(), 3);
    for v in &x {
        assert_eq!(keys(v), set(&SERVICE_FIELDS), "{v}");
    }
    assert_eq!(x[0]["service_code"], "C01001");
    assert_eq!(x[0]["metadata"], "true");

    // Without a suffix: XML, unless ?format=json or Accept asks for JSON.
    let plain = t.get("/open311/v2/services").await;
    assert_eq!(
        plain.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    let f = t.get("/open311/v2/services?format=json").await;
    assert_eq!(json_of(&f), s);
    let acc = t
        .send(
            Request::get("/open311/v2/services")
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(json_of(&acc), s);
    // The suffix decides.
    let both = t.get("/open311/v2/services.xml?format=json").await;
    assert_eq!(both.header("content-type"), Some("text/xml; charset=utf-8"));

    // A service definition.
    let def = json_of(&t.get("/open311/v2/services/C01001.json").await);
    assert_eq!(keys(&def), set(&["service_code", "attributes"]));
    assert_eq!(def["service_code"], "C01001");
    let attrs = def["attributes"].as_array().unwrap();
    for a in attrs {
        assert_eq!(
            keys(a),
            set(&[
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
                "values"
            ])
        );
    }
    let severity = attrs.iter().find(|a| a["code"] == "severity").unwrap();
    assert_eq!(severity["datatype"], "singlevaluelist");
    assert_eq!(severity["values"][2]["key"], "severe");
    assert!(
        attrs
            .iter()
            .any(|a| a["code"] == "landmark" && a["datatype"] == "text")
    );
    let a = t.get("/open311/v2/services/C01001.xml").await;
    assert_eq!(a.status, StatusCode::OK);
    let (root, x) = xml(&a.text());
    assert_eq!(root, "service_definition");
    assert_eq!(x["attributes"]["attribute"][0]["code"], "severity");
    assert_eq!(
        x["attributes"]["attribute"][0]["values"]["value"][0]["key"],
        "minor"
    );

    // Jurisdictions: the city's code and name and the configured names; others 404.
    for j in ["441300", "惠州市", "huizhou.gov.cn", "HUIZHOU.GOV.CN", ""] {
        let uri = format!(
            "/open311/v2/services.json?jurisdiction_id={}",
            form_urlencoded::byte_serialize(j.as_bytes()).collect::<String>()
        );
        assert_eq!(t.get(&uri).await.status, StatusCode::OK, "{j}");
    }
    assert_json_error(
        &t.get("/open311/v2/services.json?jurisdiction_id=sfgov.org")
            .await,
        404,
    );
    assert_xml_error(
        &t.get("/open311/v2/services.xml?jurisdiction_id=sfgov.org")
            .await,
        404,
    );
    // An unknown service and an unknown method.
    assert_json_error(&t.get("/open311/v2/services/M99999.json").await, 404);
    assert_xml_error(&t.get("/open311/v2/services/bogus.xml").await, 404);
    assert_xml_error(&t.get("/open311/v2/nothing.xml").await, 404);
    // Methods other than GET (and POST on requests).
    let put = t
        .send(
            Request::builder()
                .method(Method::PUT)
                .uri("/open311/v2/services.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_json_error(&put, 405);
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
    let photo = t.upload(&handler, 9).await;
    t.act_ok(
        &handler,
        case,
        "handle",
        json!({"attachments": [photo], "comment": "张师傅已更换井盖"}),
    )
    .await;
    t.act_ok(&intake, case, "send_check", json!({})).await;
    t.act_ok(&inspector, case, "check_pass", json!({})).await;
    t.act_ok(&supervisor, case, "close", json!({})).await;
}

/// Personal data the client sent that no GET may show.
const SECRETS: [&str; 5] = ["小明", "13812345678", "xm@example.org", "acct-42", "dev-7"];

#[track_caller]
fn assert_no_personal_data(a: &Answer) {
    let text = a.text();
    for s in SECRETS {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
}

async fn round_trip_to_closed_in_json_and_xml(t: TestApp) {
    let (_, key) = issue_key(&t, "惠民APP").await;
    let (lat, long) = (lat(), long());
    let a = post_form(
        &t,
        "198.51.100.1:5000",
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "huizhou.gov.cn"),
            ("service_code", "C01001"),
            ("lat", &lat),
            ("long", &long),
            ("address_string", "府城路1号"),
            ("description", "井盖缺失，请联系 13812345678"),
            ("first_name", "小明"),
            ("last_name", "王"),
            ("email", "xm@example.org"),
            ("phone", "13812345678"),
            ("account_id", "acct-42"),
            ("deviceid", "dev-7"),
            ("media_url", "https://img.example/1.jpg"),
            ("attribute[severity]", "severe"),
            ("attribute[landmark]", "西湖东门"),
            ("attribute[fixmystreet_id]", "42"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = json_of(&a);
    let answer = v.as_array().unwrap();
    assert_eq!(answer.len(), 1);
    assert_eq!(
        keys(&answer[0]),
        set(&["service_request_id", "service_notice", "account_id"])
    );
    let id = answer[0]["service_request_id"]
        .as_str()
        .expect("the id is a string")
        .to_string();
    assert_eq!(id.len(), 13);
    assert_eq!(
        answer[0]["account_id"], "acct-42",
        "echoed in the POST answer only"
    );
    assert!(
        answer[0]["service_notice"]
            .as_str()
            .unwrap()
            .contains("2紧急工作时")
    );

    // Staff see a citizen case with the contact, the answers and the photo link.
    let intake = t.token("intake").await;
    let list = t
        .get_auth(&format!("/api/v1/cases?q={id}"), &intake)
        .await
        .json();
    assert_eq!(list["total"], 1, "{list}");
    let case_id = list["items"][0]["id"].as_i64().unwrap();
    let case = t.case(&intake, case_id).await.json();
    assert_eq!(case["source"], "citizen");
    assert_eq!(case["category_code"], "01001");
    assert_eq!(case["contact"], "小明 王 13812345678 xm@example.org");
    let desc = case["description"].as_str().unwrap();
    assert!(desc.contains("问题严重程度：严重"), "{desc}");
    assert!(desc.contains("西湖东门"), "{desc}");
    assert!(
        desc.contains("照片链接：https://img.example/1.jpg"),
        "{desc}"
    );
    assert!(case["location"]["grid_code"].is_string(), "located: {case}");

    // GET by id: an array of one, every field, open, no personal data.
    let one = t.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_no_personal_data(&one);
    let v = json_of(&one);
    let reqs = v.as_array().unwrap();
    assert_eq!(reqs.len(), 1, "{v}");
    let r = &reqs[0];
    assert_eq!(keys(r), set(&REQUEST_FIELDS), "{r}");
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "上报：待受理");
    assert_eq!(r["service_code"], "C01001");
    assert_eq!(r["service_name"], "上水井盖");
    assert_eq!(r["address"], "府城路1号");
    assert_eq!(r["media_url"], "https://img.example/1.jpg");
    assert_eq!(r["lat"], A_NW.1);
    assert_eq!(r["long"], A_NW.0);
    assert_eq!(r["requested_datetime"], "2026-11-23T09:00:00+08:00");
    assert!(
        r["expected_datetime"].is_null(),
        "no handling deadline before dispatch"
    );
    assert!(
        r["description"].as_str().unwrap().contains("138****5678"),
        "{r}"
    );
    // In the list (default window: the last 90 days).
    let list = json_of(&t.get("/open311/v2/requests.json").await);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str()),
        "{list}"
    );
    let list = t
        .get("/open311/v2/requests.xml?status=open&service_code=C01001")
        .await;
    assert_no_personal_data(&list);
    let items = xml_items(&list, "service_requests", "request");
    assert_eq!(items.len(), 1);
    assert_eq!(keys(&items[0]), set(&REQUEST_FIELDS));
    assert_eq!(items[0]["service_request_id"], id.as_str());
    assert_eq!(
        json_of(&t.get("/open311/v2/requests.json?status=closed").await),
        json!([])
    );

    // Handled and closed in our loop.
    t.clock.advance(chrono::Duration::hours(1));
    close(&t, case_id).await;

    for format in ["json", "xml"] {
        let a = t
            .get(&format!(
                "/open311/v2/requests/{id}.{format}?extensions=true"
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        assert_no_personal_data(&a);
        assert!(!a.text().contains("张师傅"), "no comments of the staff");
        let r = if format == "json" {
            json_of(&a)[0].clone()
        } else {
            xml_items(&a, "service_requests", "request")[0].clone()
        };
        let mut fields = set(&REQUEST_FIELDS);
        fields.extend(["extended_attributes".to_string(), "notes".to_string()]);
        assert_eq!(keys(&r), fields, "{format}: {r}");
        assert_eq!(r["status"], "closed", "{format}");
        assert_eq!(r["status_notes"], "结案：已结案", "{format}");
        assert_eq!(r["agency_responsible"], "惠城区市政管理所", "{format}");
        assert!(
            r["expected_datetime"]
                .as_str()
                .is_some_and(|d| d.ends_with("+08:00")),
            "{format}: {r}"
        );
        assert!(
            r["updated_datetime"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-23T10:00"),
            "{r}"
        );
        let notes = if format == "json" {
            r["notes"].as_array().unwrap().clone()
        } else {
            r["notes"]["note"].as_array().unwrap().clone()
        };
        assert_eq!(notes.len(), 8, "report + 7 actions: {notes:?}");
        assert_eq!(keys(&notes[0]), set(&["datetime", "description", "type"]));
        assert_eq!(notes[0]["type"], "opened");
        assert_eq!(notes[7]["type"], "closed");
        assert_eq!(notes[7]["description"], "结案：已结案");
        let ext = &r["extended_attributes"];
        assert_eq!(ext["channel"], "open311");
        assert_eq!(ext["case_status"], "closed");
    }
    // Closed in the list (JSON and XML).
    let closed = json_of(&t.get("/open311/v2/requests.json?status=closed").await);
    assert_eq!(closed[0]["service_request_id"], id.as_str());
    assert_eq!(closed[0]["status_notes"], "结案：已结案");
    let closed = xml_items(
        &t.get("/open311/v2/requests.xml?status=closed").await,
        "service_requests",
        "request",
    );
    assert_eq!(closed[0]["status"], "closed");
    // A list of ids overrides the other filters.
    let by_id = json_of(
        &t.get(&format!(
            "/open311/v2/requests.json?service_request_id={id},2099010100001&status=open"
        ))
        .await,
    );
    assert_eq!(by_id.as_array().unwrap().len(), 1);

    // The updates of the window (mySociety), the close among them.
    let u = t
        .get("/open311/v2/servicerequestupdates.xml?start_date=2026-11-23T00:00:00%2B08:00&end_date=2026-11-24T00:00:00%2B08:00")
        .await;
    assert_no_personal_data(&u);
    let updates = xml_items(&u, "service_requests_updates", "request_update");
    assert_eq!(updates.len(), 8, "{}", u.text());
    assert_eq!(
        keys(&updates[7]),
        set(&[
            "update_id",
            "service_request_id",
            "status",
            "description",
            "updated_datetime",
            "media_url",
            "external_status_code"
        ])
    );
    assert_eq!(updates[7]["status"], "closed");
    assert_eq!(updates[7]["external_status_code"], "closed");
    assert_eq!(updates[0]["service_request_id"], id.as_str());
    let uj = json_of(&t.get("/open311/v2/servicerequestupdates.json").await);
    assert_eq!(uj.as_array().unwrap().len(), 8);
    assert!(uj[0]["update_id"].is_string());

    // A POST in XML.
    let a = post_form(
        &t,
        "198.51.100.1:5001",
        "/open311/v2/requests.xml",
        &[
            ("api_key", &key),
            ("service_code", "M01001"),
            ("lat", &lat),
            ("long", &long),
            ("description", "违法搭建"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let items = xml_items(&a, "service_requests", "request");
    assert_eq!(
        keys(&items[0]),
        set(&["service_request_id", "service_notice", "account_id"])
    );
    let second = items[0]["service_request_id"].as_str().unwrap().to_string();
    assert_ne!(second, id);
    let x = xml_items(
        &t.get(&format!("/open311/v2/requests/{second}.xml")).await,
        "service_requests",
        "request",
    );
    assert_eq!(x[0]["service_code"], "M01001");
    assert_eq!(x[0]["status"], "open");
    assert_eq!(x[0]["media_url"], "", "an empty element");
}

async fn keys_are_required_and_revoked_at_once(t: TestApp) {
    let (lat, long) = (lat(), long());
    let form = |key: &'static str| -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("service_code", "C01001".to_string()),
            ("lat", lat.clone()),
            ("long", long.clone()),
            ("description", "井盖破损".to_string()),
        ];
        if !key.is_empty() {
            f.push(("api_key", key.to_string()));
        }
        f
    };
    assert_json_error(&post_pairs(&t, "json", &form("")).await, 403);
    assert_xml_error(&post_pairs(&t, "xml", &form("")).await, 403);
    assert_json_error(&post_pairs(&t, "json", &form("not-a-key")).await, 403);

    let (id, key) = issue_key(&t, "FixMyStreet").await;
    let key: &'static str = Box::leak(key.into_boxed_str());
    let ok = post_pairs(&t, "json", &form(key)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // The key in the query works as well.
    let q = post_form(
        &t,
        "198.51.100.2:5001",
        &format!("/open311/v2/requests.json?api_key={key}"),
        &[
            ("service_code", "C01001"),
            ("lat", &lat),
            ("long", &long),
            ("description", "x"),
        ],
    )
    .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());

    // The admin list shows it used, never the key.
    let admin = t.token("admin").await;
    let list = t.get_auth("/api/v1/open311/clients", &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text().contains(key));
    let v = list.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["active"], true);
    assert!(v["items"][0]["last_used_at"].is_string());
    // Only administrators.
    let intake = t.token("intake").await;
    t.get_auth("/api/v1/open311/clients", &intake)
        .await
        .assert_error(403, "forbidden");
    t.post_auth("/api/v1/open311/clients", &intake, &json!({"name": "x"}))
        .await
        .assert_error(403, "forbidden");
    t.post_auth("/api/v1/open311/clients", &admin, &json!({"name": ""}))
        .await
        .assert_error(422, "invalid_value");
    t.post_auth(
        "/api/v1/open311/clients",
        &admin,
        &json!({"name": "x".repeat(101)}),
    )
    .await
    .assert_error(422, "too_long");
    t.post_auth(
        "/api/v1/open311/clients",
        &admin,
        &json!({"name": "x", "key": "mine"}),
    )
    .await
    .assert_error(422, "invalid_value");

    // Revoked: refused at once.
    let r = t
        .post_empty(&format!("/api/v1/open311/clients/{id}/revoke"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    assert_json_error(&post_pairs(&t, "json", &form(key)).await, 403);
    assert_xml_error(&post_pairs(&t, "xml", &form(key)).await, 403);
    t.post_empty("/api/v1/open311/clients/999999/revoke", &admin)
        .await
        .assert_error(404, "not_found");
}

async fn errors_as_the_specification_writes_them(t: TestApp) {
    let (_, key) = issue_key(&t, "app").await;
    let (lat, long) = (lat(), long());
    let post = |form: Vec<(&'static str, String)>, fmt: &'static str| {
        let pairs: Vec<(String, String)> =
            form.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let t = &t;
        async move {
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(
                t,
                "198.51.100.3:5000",
                &format!("/open311/v2/requests.{fmt}"),
                &refs,
            )
            .await
        }
    };
    let with = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        // The first non-empty value of a parameter counts: the extras come first.
        let mut f: Vec<(&'static str, String)> =
            extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.push(("api_key", key.clone()));
        f.push(("description", "井盖".to_string()));
        f
    };
    // An unknown service: 404; a missing one: 400.
    assert_json_error(
        &post(
            with(&[("service_code", "M99999"), ("lat", &lat), ("long", &long)]),
            "json",
        )
        .await,
        404,
    );
    assert_xml_error(
        &post(
            with(&[("service_code", "M99999"), ("lat", &lat), ("long", &long)]),
            "xml",
        )
        .await,
        404,
    );
    assert_json_error(
        &post(with(&[("lat", &lat), ("long", &long)]), "json").await,
        400,
    );
    // No location, or only an address: 400 saying a location is required.
    let a = post(
        with(&[("service_code", "C01001"), ("address_string", "府城路1号")]),
        "json",
    )
    .await;
    assert_json_error(&a, 400);
    assert!(a.text().contains("location is required"), "{}", a.text());
    assert_xml_error(&post(with(&[("service_code", "C01001")]), "xml").await, 400);
    // Malformed values.
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", "north"),
                ("long", &long),
            ]),
            "json",
        )
        .await,
        400,
    );
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", &lat),
                ("long", &long),
                ("attribute[severity]", "awful"),
            ]),
            "json",
        )
        .await,
        400,
    );
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", &lat),
                ("long", &long),
                ("media_url", "ftp://x/y.jpg"),
            ]),
            "json",
        )
        .await,
        400,
    );
    let long_text = "井".repeat(2001);
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", &lat),
                ("long", &long),
                ("description", &long_text),
            ]),
            "json",
        )
        .await,
        400,
    );
    // Outside the city.
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", "39.9"),
                ("long", "116.4"),
            ]),
            "json",
        )
        .await,
        400,
    );
    // Not a form.
    let a = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/open311/v2/requests.json")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_json_error(&a, 400);
    // An unknown jurisdiction on a POST.
    assert_json_error(
        &post(
            with(&[
                ("service_code", "C01001"),
                ("lat", &lat),
                ("long", &long),
                ("jurisdiction_id", "sfgov.org"),
            ]),
            "json",
        )
        .await,
        404,
    );
    // Unknown requests and tokens.
    assert_json_error(&t.get("/open311/v2/requests/2099010100001.json").await, 404);
    assert_xml_error(&t.get("/open311/v2/requests/abc.xml").await, 404);
    assert_json_error(&t.get("/open311/v2/tokens/0123abcd.json").await, 404);
    assert_xml_error(&t.get("/open311/v2/tokens/0123abcd.xml").await, 404);
    // Filters: more than 90 days, a bad status, a bad date, an unknown service.
    assert_json_error(
        &t.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
            .await,
        400,
    );
    assert_xml_error(&t.get("/open311/v2/requests.xml?status=pending").await, 400);
    assert_json_error(
        &t.get("/open311/v2/requests.json?start_date=yesterday")
            .await,
        400,
    );
    assert_json_error(
        &t.get("/open311/v2/requests.json?service_code=M99999").await,
        404,
    );
    assert_json_error(
        &t.get("/open311/v2/requests.json?page_size=5000").await,
        400,
    );
    // A POST on a read-only method.
    let a = post_form(&t, "198.51.100.3:5001", "/open311/v2/services.json", &[]).await;
    assert_json_error(&a, 405);
}

async fn tokens_resolve_to_the_request(t: TestApp) {
    let s = json_of(&t.get("/open311/v2/services.json").await);
    assert_eq!(s[0]["type"], "batch");
    let (_, key) = issue_key(&t, "batch client").await;
    let (lat, long) = (lat(), long());
    let a = post_form(
        &t,
        "198.51.100.4:5000",
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "C01001"),
            ("lat", &lat),
            ("long", &long),
            ("description", "井盖"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = json_of(&a);
    assert_eq!(keys(&v[0]), set(&["token", "service_notice", "account_id"]));
    let token = v[0]["token"].as_str().unwrap().to_string();
    let r = json_of(&t.get(&format!("/open311/v2/tokens/{token}.json")).await);
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(keys(&r[0]), set(&["service_request_id", "token"]));
    assert_eq!(r[0]["token"], token.as_str());
    let id = r[0]["service_request_id"].as_str().unwrap().to_string();
    let x = xml_items(
        &t.get(&format!("/open311/v2/tokens/{token}.xml")).await,
        "service_requests",
        "request",
    );
    assert_eq!(x[0]["service_request_id"], id.as_str());
    let one = json_of(&t.get(&format!("/open311/v2/requests/{id}.json")).await);
    assert_eq!(one[0]["service_request_id"], id.as_str());
}

async fn requests_are_limited_per_key_and_per_address(t: TestApp) {
    let (_, key) = issue_key(&t, "busy client").await;
    let (lat, long) = (lat(), long());
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "C01001"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "井盖"),
    ];
    // Per key: 3 a minute, whatever the address.
    for n in 0..3 {
        let a = post_form(
            &t,
            &format!("198.51.100.{}:5000", 10 + n),
            "/open311/v2/requests.json",
            &form,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text());
    }
    let a = post_form(&t, "198.51.100.20:5000", "/open311/v2/requests.xml", &form).await;
    assert_xml_error(&a, 429);
    assert!(a.header("retry-after").is_some());
    // Per address: the citizens' 30 a minute, counted before the key (guessed keys too).
    for n in 0..30 {
        let a = post_form(
            &t,
            "198.51.100.30:5000",
            "/open311/v2/requests.json",
            &[("api_key", "guess")],
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{n}: {}", a.text());
    }
    let a = post_form(
        &t,
        "198.51.100.30:5001",
        "/open311/v2/requests.json",
        &[("api_key", "guess")],
    )
    .await;
    assert_json_error(&a, 429);
    assert!(a.header("retry-after").is_some());
}

async fn the_admin_api_is_documented(t: TestApp) {
    let doc: Value = serde_json::from_str(&cityops_web::openapi_json()).unwrap();
    let list = &doc["paths"]["/api/v1/open311/clients"];
    for (method, statuses) in [
        ("get", vec!["200", "400", "401", "403"]),
        (
            "post",
            vec!["201", "400", "401", "403", "413", "415", "422"],
        ),
    ] {
        for s in statuses {
            assert!(list[method]["responses"][s].is_object(), "{method} {s}");
        }
    }
    let revoke = &doc["paths"]["/api/v1/open311/clients/{id}/revoke"]["post"];
    for s in ["200", "400", "401", "403", "404"] {
        assert!(revoke["responses"][s].is_object(), "revoke {s}");
    }
    assert_eq!(
        doc["components"]["schemas"]["Open311ClientRequest"]["properties"]["name"]["maxLength"],
        100
    );
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| !p.starts_with("/open311")),
        "the Open311 interface has its own specification"
    );
    let _ = t;
}
