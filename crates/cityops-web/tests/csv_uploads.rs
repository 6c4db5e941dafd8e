//! The CSV uploads (`PUT /api/v1/routing-rules` and `PUT /api/v1/calendar/days` with
//! `text/csv`) read their text with the shared CSV reader of the imports (`cityops_csv`): quoted
//! fields (even over two lines) count their lines as a CSV reader does, a bad line is named, and a
//! bad file writes nothing. On SQLite and PostgreSQL.
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Answer, TestApp};

on_both_stores!(
    a_bad_routing_line_is_named_and_writes_nothing,
    a_bad_calendar_line_is_named_and_writes_nothing,
);

async fn put_csv(t: &TestApp, uri: &str, token: &str, body: &str) -> Answer {
    t.send(
        Request::builder()
            .method(Method::PUT)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn matrix_csv(t: &TestApp, token: &str) -> String {
    let a = t.get_auth("/api/v1/routing-rules.csv", token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.text()
}

/// The years the holiday schedule in force covers.
async fn years(t: &TestApp, token: &str) -> Vec<i64> {
    let a = t.get_auth("/api/v1/calendar", token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["years"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|y| y.as_i64())
        .collect()
}

fn message(a: &Answer) -> String {
    a.json()["message"].as_str().unwrap_or_default().to_string()
}

async fn a_bad_routing_line_is_named_and_writes_nothing(t: TestApp) {
    let admin = t.token("admin").await;
    // A BOM, upper-case header names, quoted fields: read as the imports read them.
    let good = "\u{feff}Category_Kind,category_code,region_code,department_code,auto_dispatch\r\n\
                \"component\",\"01\",441302,441302-municipal,TRUE\r\n\
                matter,*,441300,\"441300-command\",0\r\n";
    let a = put_csv(&t, "/api/v1/routing-rules", &admin, good).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["rules"], 2);
    let before = matrix_csv(&t, &admin).await;

    let bad_cases = [
        // A field quoted over two lines: the rule after it starts on line 4, not line 3.
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,\"441300-\ncommand\",false\n\
             component,01,441302,441302-municipal,maybe\n",
            "line 4: auto_dispatch \"maybe\"",
        ),
        // Too few fields after a blank line.
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             \n\
             component,01,441302\n",
            "line 4: expected 5 fields, found 3",
        ),
        // A header that names a column twice.
        (
            "category_kind,category_code,region_code,department_code,department_code\n\
             matter,*,441300,441300-command,false\n",
            "line 1: column \"department_code\" appears twice",
        ),
        // A department that does not exist, among good lines.
        (
            "category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             component,01,441302,441302-municipal,true\n\
             component,02,441302,no-such-department,false\n",
            "line 4",
        ),
        ("", "line 1"),
    ];
    for (csv, expect) in bad_cases {
        let a = put_csv(&t, "/api/v1/routing-rules", &admin, csv).await;
        a.assert_error(422, "invalid_value");
        let m = message(&a);
        assert!(m.contains(expect), "{expect:?} not in {m:?}");
        assert_eq!(
            matrix_csv(&t, &admin).await,
            before,
            "a bad file writes nothing"
        );
    }
}

async fn a_bad_calendar_line_is_named_and_writes_nothing(t: TestApp) {
    let admin = t.token("admin").await;
    // A quoted name with a comma, a blank line, an unquoted comma in the last name.
    let good = "date,kind,name\n\
                2031-10-01,holiday,\"国庆节, 第一天\"\n\
                \n\
                2031-10-02,holiday,国庆节, 第二天\n";
    let a = put_csv(&t, "/api/v1/calendar/days", &admin, good).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(years(&t, &admin).await.contains(&2031));
    let names = t.get_auth("/api/v1/calendar?year=2031", &admin).await;
    assert_eq!(names.status, StatusCode::OK, "{}", names.text());
    let text = names.text();
    assert!(
        text.contains("国庆节, 第一天") && text.contains("国庆节, 第二天"),
        "{text}"
    );

    let bad_cases = [
        // A name quoted over two lines is not plain text: refused on its first line.
        (
            "date,kind,name\n\
             2032-10-01,holiday,\"国庆节\n第一天\"\n\
             2032-10-32,holiday,国庆节\n",
            "line 2: date 2032-10-01: the name must be plain text",
        ),
        // Years outside 2000–2100 and markup in names.
        (
            "date,kind,name\n2032-10-01,holiday,国庆节\n9999-01-01,holiday,元旦\n",
            "line 3: date 9999-01-01: the year must lie in 2000–2100",
        ),
        (
            "date,kind,name\n2032-10-01,holiday,<b>国庆节</b>\n",
            "line 2: date 2032-10-01: the name must be plain text",
        ),
        (
            "date,kind,name\n2032-10-01,holiday,国庆节\n\n2032-10-02,vacation,国庆节\n",
            "line 4",
        ),
        ("date,kind,name\n2032-10-01,holiday\n", "line 2"),
        ("date,kind\n2032-10-01,holiday\n", "line 1"),
    ];
    for (csv, expect) in bad_cases {
        let a = put_csv(&t, "/api/v1/calendar/days", &admin, csv).await;
        a.assert_error(422, "invalid_value");
        let m = message(&a);
        assert!(m.contains(expect), "{expect:?} not in {m:?}");
        assert!(
            !years(&t, &admin).await.contains(&2032),
            "a bad file writes nothing"
        );
    }
}
