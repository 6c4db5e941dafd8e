//! Case export (issue 11, 案件导出 CSV / Excel) over HTTP, on SQLite and PostgreSQL: the export
//! holds exactly the cases of the list's filters, its header is the column table's keys, an
//! evaluation figure recomputed from the file equals `CaseService::evaluate`, contacts are masked
//! by the privacy rules and every full view is logged (`via = export`); the XLSX opens in
//! LibreOffice (`soffice --headless --convert-to pdf`; required with `CITYOPS_REQUIRE_SOFFICE=1`).
#[allow(unused_imports)]
mod common;

use axum::http::StatusCode;
use chrono::Duration;
use cityops_app::evaluation::{EvaluationQuery, Period};
use cityops_app::export::COLUMNS;
use cityops_domain::RegionLevel;
use cityops_domain::evaluation::{Kind, Subject};
use common::cases::{A_SE, B_PT, at};
use common::office::{convert, soffice};
use common::{Answer, TestApp};
use serde_json::{Value, json};

on_both_stores!(
    csv_export_is_the_list_and_recomputes_the_evaluation,
    xlsx_export_opens_in_libreoffice,
    xlsx_export_has_a_row_cap with super::capped(),
    exports_share_the_expensive_places,
    exports_stream_through_compression,
);

const CONTACT: &str = "张三明 13800000000";
const MASKED: &str = "张*明 138****0000";
const CSV: &str = "/api/v1/cases/export.csv";
const XLSX: &str = "/api/v1/cases/export.xlsx";

fn capped() -> cityops_web::WebConfig {
    cityops_web::WebConfig {
        xlsx_max_rows: 2,
        ..Default::default()
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// A parsed CSV export: its header and rows by key.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn parse(a: &Answer) -> Table {
        assert_eq!(
            a.status,
            StatusCode::OK,
            "export: {}",
            String::from_utf8_lossy(&a.bytes)
        );
        assert_eq!(a.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(
            a.header("content-disposition").is_some_and(|d| d
                .starts_with("attachment; filename=\"cases-")
                && d.ends_with(".csv\"")),
            "{:?}",
            a.header("content-disposition")
        );
        assert_eq!(a.header("cache-control"), Some("no-store"));
        assert_eq!(
            &a.bytes[..3],
            b"\xEF\xBB\xBF",
            "UTF-8 byte order mark first"
        );
        let text = std::str::from_utf8(&a.bytes[3..]).expect("UTF-8");
        assert!(text.contains("\r\n"), "RFC 4180 line ends");
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows = r
            .records()
            .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
            .collect();
        Table { header, rows }
    }

    fn col(&self, key: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == key)
            .unwrap_or_else(|| panic!("no column {key}"))
    }

    fn values(&self, key: &str) -> Vec<&str> {
        let i = self.col(key);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    fn count(&self, pred: impl Fn(&Row<'_>) -> bool) -> usize {
        self.rows
            .iter()
            .filter(|r| {
                pred(&Row {
                    table: self,
                    cells: r,
                })
            })
            .count()
    }
}

/// One row, read by key.
struct Row<'t> {
    table: &'t Table,
    cells: &'t [String],
}

impl<'t> Row<'t> {
    fn get(&self, key: &str) -> &'t str {
        self.cells[self.table.col(key)].as_str()
    }
}

/// District A: five citizen reports with a contact, filed and dispatched to the municipal
/// department — one closed in time, one closed after its deadline, one handled, one only
/// dispatched — and one filed but not dispatched; one report in district B. Returns the
/// municipal department's id.
async fn history(t: &TestApp) -> i64 {
    let citizen = t.token("citizen").await;
    let supervisor = t.token("supervisor").await;
    let dispatcher = t.token("dispatcher").await;
    let handler = t.token("handler").await;
    let intake = t.token("intake").await;
    let inspector = t.token("inspector2").await;
    let body = || {
        at(
            A_SE,
            json!({"category_kind": "component", "category_code": "01001", "contact": CONTACT}),
        )
    };
    let mut cases = Vec::new();
    for _ in 0..5 {
        let c = id(&t.report(&citizen, body()).await);
        t.act_ok(&supervisor, c, "file", json!({})).await;
        cases.push(c);
    }
    for &c in &cases[..4] {
        t.act_ok(&dispatcher, c, "dispatch", json!({})).await;
    }
    let close = async |c: i64, seed: u8| {
        let photo = t.upload(&handler, seed).await;
        t.act_ok(&handler, c, "handle", json!({"attachments": [photo]}))
            .await;
        t.act_ok(&intake, c, "send_check", json!({})).await;
        t.act_ok(&inspector, c, "check_pass", json!({})).await;
        t.act_ok(&supervisor, c, "close", json!({})).await
    };
    for &c in &cases[..3] {
        t.act_ok(&handler, c, "sign", json!({})).await;
    }
    let v = close(cases[0], 1).await;
    assert_eq!(v["status"], "closed");
    // Two weeks later, past every handling deadline: the second is handled late and closed,
    // the third handled late but not yet checked.
    t.clock.advance(Duration::days(14));
    close(cases[1], 2).await;
    let photo = t.upload(&handler, 3).await;
    t.act_ok(
        &handler,
        cases[2],
        "handle",
        json!({"attachments": [photo]}),
    )
    .await;
    // District B: outside district A's scope and filters.
    let b = t.token("b_citizen").await;
    t.report(&b, at(B_PT, json!({"contact": CONTACT}))).await;
    t.department_id("441302-municipal").await
}

async fn access_log_vias(t: &TestApp, user_id: i64) -> Vec<String> {
    let admin = t.token("admin").await;
    let a = t
        .get_auth(
            &format!("/api/v1/audit/contact-access?user_id={user_id}&page_size=1000"),
            &admin,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["via"].as_str().unwrap().to_string())
        .collect()
}

async fn csv_export_is_the_list_and_recomputes_the_evaluation(t: TestApp) {
    let municipal = history(&t).await;
    let supervisor = t.token("supervisor").await;
    let supervisor_id = t.user_id(&supervisor).await;
    let filter = format!("department_id={municipal}&from=2026-11-01&to=2026-11-30");

    // The rows are the list's cases.
    let list = t
        .get_auth(
            &format!("/api/v1/cases?{filter}&page_size=1000"),
            &supervisor,
        )
        .await
        .json();
    let listed: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(list["total"], 4, "the four dispatched cases");
    let logged_before = access_log_vias(&t, supervisor_id).await.len();
    let table = Table::parse(&t.get_auth(&format!("{CSV}?{filter}"), &supervisor).await);
    assert_eq!(
        table.header,
        COLUMNS.iter().map(|c| c.key).collect::<Vec<_>>(),
        "the header is the column table's keys"
    );
    assert_eq!(table.rows.len() as u64, list["total"].as_u64().unwrap());
    assert_eq!(
        table.values("id"),
        listed,
        "the list's cases in the list's order"
    );
    assert!(
        table
            .values("department_name")
            .iter()
            .all(|d| *d == "惠城区市政管理所"),
        "{:?}",
        table.values("department_name")
    );
    assert!(
        table
            .values("reported_at")
            .iter()
            .all(|t| t.starts_with("2026-11-23T") && t.ends_with("+08:00")),
        "local times with their offset: {:?}",
        table.values("reported_at")
    );

    // A figure recomputed from the file equals the evaluation's.
    let user = t
        .state
        .store
        .get_user(supervisor_id)
        .await
        .unwrap()
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let eval = t
        .state
        .app
        .evaluate(
            &user,
            &EvaluationQuery {
                kind: Kind::Departments,
                period: Period::month_of(day),
                level: RegionLevel::District,
            },
        )
        .await
        .expect("evaluation");
    let row = eval
        .rows
        .iter()
        .find(|r| r.row.subject == Subject::Id(municipal))
        .expect("the department's row");
    let figure = |key: &str| row.row.counts[Kind::Departments.figure(key).unwrap()] as usize;
    let closed_on_time = table.count(|r| {
        !r.get("dispatched_at").is_empty()
            && r.get("status") == "closed"
            && r.get("handled_on_time") == "true"
    });
    let closed = table.count(|r| !r.get("dispatched_at").is_empty() && r.get("status") == "closed");
    let handled =
        table.count(|r| r.get("status") != "cancelled" && !r.get("handled_at").is_empty());
    assert_eq!(closed_on_time, 1, "one closed in time");
    assert_eq!(closed, 2, "two closed");
    assert_eq!(closed_on_time, figure("closed_on_time"));
    assert_eq!(closed, figure("closed"));
    assert_eq!(handled, figure("handled"));
    assert_eq!(
        table
            .count(|r| r.get("filed_on_time") == "true"
                && r.get("filed_by") == supervisor_id.to_string()),
        4,
        "who filed, and in time"
    );

    // The supervisor calls back: contacts in full, each written to the access log once.
    assert!(table.values("contact").iter().all(|c| *c == CONTACT));
    let vias = access_log_vias(&t, supervisor_id).await;
    assert_eq!(vias.len() - logged_before, 4, "{vias:?}");
    assert_eq!(vias[..4], ["export"; 4]);

    // A leader sees them masked, and nothing is logged for it.
    let leader = t.token("leader").await;
    let leader_id = t.user_id(&leader).await;
    let table = Table::parse(&t.get_auth(&format!("{CSV}?{filter}"), &leader).await);
    assert_eq!(table.rows.len(), 4);
    assert!(
        table.values("contact").iter().all(|c| *c == MASKED),
        "{:?}",
        table.values("contact")
    );
    assert!(access_log_vias(&t, leader_id).await.is_empty());

    // The reporter sees their own contact, unlogged; district B's case is theirs only.
    let citizen = t.token("citizen").await;
    let citizen_id = t.user_id(&citizen).await;
    let table = Table::parse(&t.get_auth(CSV, &citizen).await);
    assert_eq!(table.rows.len(), 5, "the citizen's own five reports");
    assert!(table.values("contact").iter().all(|c| *c == CONTACT));
    assert!(access_log_vias(&t, citizen_id).await.is_empty());

    // The list's filters, checked the same way.
    t.get_auth(&format!("{CSV}?status=nope"), &supervisor)
        .await
        .assert_error(400, "invalid_query");
    let open = Table::parse(
        &t.get_auth(
            &format!("{CSV}?{filter}&status=handled,handling"),
            &supervisor,
        )
        .await,
    );
    assert_eq!(open.rows.len(), 1, "the handled one");
}

async fn xlsx_export_opens_in_libreoffice(t: TestApp) {
    let municipal = history(&t).await;
    let dispatcher = t.token("dispatcher").await;
    let a = t
        .get_auth(&format!("{XLSX}?department_id={municipal}"), &dispatcher)
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(
        a.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(
        a.header("content-disposition")
            .is_some_and(|d| d.ends_with(".xlsx\"")),
        "{:?}",
        a.header("content-disposition")
    );
    assert_eq!(&a.bytes[..2], b"PK", "a zip container");
    let Some(soffice) = soffice() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cases.xlsx");
    std::fs::write(&file, &a.bytes).expect("write the workbook");
    let pdf = std::fs::read(convert(soffice, dir.path(), &file, "pdf")).expect("the PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    // What LibreOffice reads back: two header rows, one row per case, real dates.
    let csv = convert(
        soffice,
        dir.path(),
        &file,
        "csv:Text - txt - csv (StarCalc):44,34,76",
    );
    let text = std::fs::read_to_string(csv).expect("the sheet as CSV");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 4, "{text}");
    assert!(lines[0].starts_with("案件ID,案件编号,"), "{}", lines[0]);
    assert!(lines[1].starts_with("Case id,Case code,"), "{}", lines[1]);
    let reported = COLUMNS.iter().position(|c| c.key == "reported_at").unwrap();
    for line in &lines[2..] {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert!(
            rec[reported].starts_with("2026-11-23 "),
            "a date-time shown in its format: {line}"
        );
        assert_eq!(
            &rec[COLUMNS.iter().position(|c| c.key == "contact").unwrap()],
            CONTACT
        );
    }
    // The dispatcher's full views were logged as one export.
    let dispatcher_id = t.user_id(&dispatcher).await;
    assert_eq!(
        access_log_vias(&t, dispatcher_id).await.len(),
        4 + 4,
        "4 dispatch answers + 4 exported"
    );
}

async fn xlsx_export_has_a_row_cap(t: TestApp) {
    let municipal = history(&t).await;
    let supervisor = t.token("supervisor").await;
    let supervisor_id = t.user_id(&supervisor).await;
    let logged = access_log_vias(&t, supervisor_id).await.len();
    // Four cases, a cap of two: refused before anything is read or logged.
    let a = t
        .get_auth(&format!("{XLSX}?department_id={municipal}"), &supervisor)
        .await;
    a.assert_error(422, "export_too_large");
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("narrow the filters")
    );
    assert_eq!(access_log_vias(&t, supervisor_id).await.len(), logged);
    // Narrowed to two, it fits; CSV has no cap.
    let a = t
        .get_auth(
            &format!("{XLSX}?department_id={municipal}&status=closed"),
            &supervisor,
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    let table = Table::parse(
        &t.get_auth(&format!("{CSV}?department_id={municipal}"), &supervisor)
            .await,
    );
    assert_eq!(table.rows.len(), 4);
}

async fn exports_share_the_expensive_places(t: TestApp) {
    let leader = t.token("leader").await;
    let leader_id = t.user_id(&leader).await;
    let first = t.state.try_expensive(leader_id).expect("first place");
    let second = t.state.try_expensive(leader_id).expect("second place");
    for uri in [CSV, XLSX] {
        let a = t.get_auth(uri, &leader).await;
        a.assert_error(429, "too_many_concurrent");
        assert_eq!(a.header("retry-after"), Some("1"), "{uri}");
    }
    drop(first);
    let table = Table::parse(&t.get_auth(CSV, &leader).await);
    assert!(table.rows.is_empty());
    // The export gave its place back when its body ended.
    let again = t
        .state
        .try_expensive(leader_id)
        .expect("the export's place is free again");
    drop((second, again));
    // Without a session: 401.
    t.get(CSV).await.assert_error(401, "unauthenticated");
}

/// With `Accept-Encoding: gzip` the compression layer wraps the streamed body and polls it once
/// more after its end: the stream must end cleanly (a panic here once cut every compressed export).
async fn exports_stream_through_compression(t: TestApp) {
    history(&t).await;
    let dispatcher = t.token("dispatcher").await;
    for uri in [CSV, XLSX] {
        let a = t
            .send(
                axum::http::Request::get(uri)
                    .header("authorization", format!("Bearer {dispatcher}"))
                    .header("accept-encoding", "gzip")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.header("content-encoding"), Some("gzip"), "{uri}");
        assert!(a.bytes.starts_with(&[0x1f, 0x8b]), "{uri}: a gzip stream");
    }
}
