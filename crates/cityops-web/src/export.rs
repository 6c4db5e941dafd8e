//! 案件导出 (case export) as files: CSV (streamed) and XLSX, both rendering the one column
//! table of [`cityops_app::export::COLUMNS`]. Used by `GET /api/v1/cases/export.csv` and
//! `…/export.xlsx` and by the console's export links (`cityops-ui`), which parse their filters
//! each their own way and hand over a [`CaseQuery`].
//!
//! - CSV: UTF-8 with a byte order mark (Excel then reads Chinese correctly), RFC 4180 (CRLF,
//!   fields quoted when needed), one header row of the stable English keys; the body is streamed
//!   page by page (one store statement per page), so memory stays flat whatever the size. A text
//!   that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed
//!   with `'`.
//! - XLSX: a header row in Chinese and one in English, both frozen (with the id and code
//!   columns), an autofilter, column widths, times as real Excel date-times (local time of the
//!   working calendar's zone), true/false as booleans. At most
//!   [`cityops_app::export::XLSX_MAX_ROWS`] rows: a larger export is refused before anything is
//!   read (422 `export_too_large`). The sheet is written in rust_xlsxwriter's constant-memory
//!   mode on a blocking thread and the file is streamed out as it is zipped.
//!
//! Both take a place of the caller's expensive requests ([`AppState::expensive_permit`], 429
//! `too_many_concurrent`) and hold it until the last byte is produced.
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use cityops_app::ServiceError;
use cityops_app::export::{COLUMNS, CaseExport, Cell, ColumnType};
use cityops_domain::User;
use cityops_store::CaseQuery;
use futures_util::StreamExt;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};
use tokio::sync::mpsc;

use crate::concurrency::ExpensivePermit;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The media type of the CSV answer.
pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
/// The media type of the XLSX answer.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The byte order mark that tells Excel the CSV is UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

type Chunk = Result<Bytes, std::io::Error>;

fn body_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// `cases-YYYYMMDD-HHMMSS.<ext>` of the export's local instant.
fn file_name(export: &CaseExport, ext: &str) -> String {
    format!(
        "cases-{}.{ext}",
        export.local(export.now()).format("%Y%m%d-%H%M%S")
    )
}

/// A file to download: its type, `Content-Disposition: attachment` with `name`, never cached.
pub(crate) fn file_response(content_type: &'static str, name: &str, body: Body) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Personal data (contacts) and a moment's state: never kept by a cache.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A text a spreadsheet would read as a formula, made inert.
fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// A cell as CSV text.
pub fn csv_field(cell: &Cell) -> std::borrow::Cow<'_, str> {
    match cell {
        Cell::Empty => "".into(),
        Cell::Text(s) => inert(s),
        Cell::Int(n) => n.to_string().into(),
        Cell::Bool(b) => if *b { "true" } else { "false" }.into(),
        Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::Secs, false).into(),
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// The byte order mark and the header row.
fn csv_head() -> Result<Vec<u8>, csv::Error> {
    let mut w = csv_writer();
    w.write_record(COLUMNS.iter().map(|c| c.key))?;
    let mut out = BOM.to_vec();
    out.extend(w.into_inner().map_err(|e| e.into_error())?);
    Ok(out)
}

/// Rows as CSV records.
fn csv_rows(rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv_writer();
    for row in rows {
        w.write_record(row.iter().map(|c| csv_field(c).into_owned()))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// A streamed CSV answer.
struct CsvStream {
    export: CaseExport,
    /// Held until the last byte: the export counts as one of the user's expensive requests.
    _permit: ExpensivePermit,
    /// The head and first page, read before the answer started.
    first: Option<Vec<u8>>,
}

/// The CSV export of `query`'s cases as `user` sees them.
pub async fn csv_response(state: &AppState, user: &User, query: CaseQuery) -> ApiResult<Response> {
    let permit = state.expensive_permit(user)?;
    let mut export = state.app.start_export(user, query, None).await?;
    // The first page before the answer starts: a failing read is an error status, not a cut
    // file.
    let mut first = csv_head().map_err(ApiError::internal)?;
    if let Some(rows) = export.next_rows().await? {
        first.extend(csv_rows(&rows).map_err(ApiError::internal)?);
    }
    let name = file_name(&export, "csv");
    let stream = futures_util::stream::unfold(
        Some(CsvStream {
            export,
            _permit: permit,
            first: Some(first),
        }),
        |st| async move {
            let mut st = st?;
            if let Some(bytes) = st.first.take() {
                return Some((Ok(Bytes::from(bytes)), Some(st)));
            }
            match st.export.next_rows().await {
                Ok(Some(rows)) => match csv_rows(&rows) {
                    Ok(bytes) => Some((Ok(Bytes::from(bytes)), Some(st))),
                    Err(e) => Some((Err(body_error(e)), None)),
                },
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed midway");
                    Some((Err(body_error(e)), None))
                }
            }
        },
    );
    // Fused: the compression layer polls a body once more after its end.
    Ok(file_response(
        CSV_TYPE,
        &name,
        Body::from_stream(stream.fuse()),
    ))
}

/// Writes into the answer's body: chunks of 64 KiB through a bounded channel (the zip writer
/// waits while the client is slow).
struct BodyWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl BodyWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A page of rows for the sheet, or why the export stopped.
type RowsMsg = Result<Vec<Vec<Cell>>, String>;

/// A column's width in characters: its widest header (a Chinese character counts two) or its
/// type's usual content, whichever is wider.
fn column_width(zh: &str, en: &str, ty: ColumnType) -> f64 {
    let zh_width: usize = zh.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    let content = match ty {
        ColumnType::Int => 10,
        ColumnType::Text => 14,
        ColumnType::Time => 19,
        ColumnType::Bool => 8,
    };
    (zh_width.max(en.len()).max(content) + 2).min(40) as f64
}

/// Builds the sheet from the pages as they arrive, then zips it into `out`.
fn write_xlsx(mut pages: mpsc::Receiver<RowsMsg>, out: &mut BodyWriter) -> Result<(), String> {
    let xlsx = |e: XlsxError| e.to_string();
    let mut book = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8EEF7")
        .set_align(FormatAlign::Center);
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = book.add_worksheet_with_constant_memory().map_err(xlsx)?;
    sheet.set_name("案件 cases").map_err(xlsx)?;
    let last_col = (COLUMNS.len() - 1) as u16;
    for (i, c) in COLUMNS.iter().enumerate() {
        sheet
            .set_column_width(i as u16, column_width(c.zh, c.en, c.ty))
            .map_err(xlsx)?;
    }
    // Constant-memory mode flushes a row once a later row is written: rows go strictly in order.
    for (i, c) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, c.zh, &head)
            .map_err(xlsx)?;
    }
    for (i, c) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(1, i as u16, c.en, &head)
            .map_err(xlsx)?;
    }
    sheet.set_freeze_panes(2, 2).map_err(xlsx)?;
    let mut row: u32 = 2;
    while let Some(page) = pages.blocking_recv() {
        for cells in page? {
            for (i, cell) in cells.iter().enumerate() {
                let col = i as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        sheet.write_string(row, col, s).map_err(xlsx)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(row, col, *n as f64).map_err(xlsx)?;
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(row, col, *b).map_err(xlsx)?;
                    }
                    Cell::Time(t) => {
                        let local = t.naive_local();
                        use chrono::{Datelike, Timelike};
                        let dt = ExcelDateTime::from_ymd(
                            local.year() as u16,
                            local.month() as u8,
                            local.day() as u8,
                        )
                        .and_then(|d| {
                            d.and_hms(local.hour() as u16, local.minute() as u8, local.second())
                        })
                        .map_err(xlsx)?;
                        sheet
                            .write_datetime_with_format(row, col, &dt, &time)
                            .map_err(xlsx)?;
                    }
                }
            }
            row += 1;
        }
    }
    sheet
        .autofilter(1, 0, row.saturating_sub(1).max(1), last_col)
        .map_err(xlsx)?;
    book.save_to_writer(&mut *out).map_err(xlsx)?;
    out.flush().map_err(|e| e.to_string())
}

/// The XLSX export of `query`'s cases as `user` sees them: 422 `export_too_large` beyond
/// `xlsx_max_rows` ([`cityops_app::export::XLSX_MAX_ROWS`] unless configured otherwise).
pub async fn xlsx_response(state: &AppState, user: &User, query: CaseQuery) -> ApiResult<Response> {
    let permit = state.expensive_permit(user)?;
    let mut export = state
        .app
        .start_export(user, query, Some(state.config.xlsx_max_rows))
        .await?;
    let first = export.next_rows().await?;
    let name = file_name(&export, "xlsx");
    let (body_tx, body_rx) = mpsc::channel::<Chunk>(8);
    let (rows_tx, rows_rx) = mpsc::channel::<RowsMsg>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let mut out = BodyWriter {
            tx: body_tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_xlsx(rows_rx, &mut out) {
            tracing::error!(error = %e, "XLSX export failed");
            let _ = out.tx.blocking_send(Err(body_error(e)));
        }
    });
    tokio::spawn(async move {
        // The place is given back when the file is complete (or abandoned).
        let _permit = permit;
        let mut page = Ok(first);
        loop {
            let msg = match page {
                Ok(Some(rows)) => Ok(rows),
                Ok(None) => break,
                Err(e) => Err(export_error(&e)),
            };
            let failed = msg.is_err();
            if rows_tx.send(msg).await.is_err() || failed {
                break;
            }
            page = export.next_rows().await;
        }
        drop(rows_tx);
        let _ = writer.await;
    });
    let stream = futures_util::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(file_response(
        XLSX_TYPE,
        &name,
        Body::from_stream(stream.fuse()),
    ))
}

fn export_error(e: &ServiceError) -> String {
    tracing::error!(error = %e, "XLSX export failed midway");
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    #[test]
    fn csv_fields() {
        let t = FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, 2, 9, 15, 0)
            .unwrap();
        assert_eq!(csv_field(&Cell::Time(t)), "2026-03-02T09:15:00+08:00");
        assert_eq!(csv_field(&Cell::Bool(true)), "true");
        assert_eq!(csv_field(&Cell::Bool(false)), "false");
        assert_eq!(csv_field(&Cell::Int(-3)), "-3");
        assert_eq!(csv_field(&Cell::Empty), "");
        assert_eq!(csv_field(&Cell::Text("井盖".into())), "井盖");
        // A formula a spreadsheet would run is made text; numbers stay numbers.
        for f in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_field(&Cell::Text(f.into())), format!("'{f}"));
        }
    }

    #[test]
    fn rows_are_rfc_4180_and_the_head_starts_with_the_mark() {
        let head = csv_head().unwrap();
        assert!(head.starts_with(BOM));
        let head = std::str::from_utf8(&head[BOM.len()..]).unwrap();
        assert!(head.starts_with("id,code,source,"));
        assert!(head.ends_with("\r\n"));
        let rows = csv_rows(&[vec![
            Cell::Text("a,b".into()),
            Cell::Text("say \"hi\"".into()),
            Cell::Text("two\nlines".into()),
        ]])
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&rows).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn widths_fit_the_headers() {
        for c in COLUMNS {
            let w = column_width(c.zh, c.en, c.ty);
            assert!((8.0..=40.0).contains(&w), "{}: {w}", c.key);
        }
        assert_eq!(
            column_width("上报时间", "Reported at", ColumnType::Time),
            21.0
        );
    }
}
