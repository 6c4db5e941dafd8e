//! 报表文件 (report files): a kept report ([`cityops_app::report::ReportContent`]) as tables,
//! and the tables as CSV and as XLSX. The console's report page shows the same tables
//! ([`tables`]), so the page, the CSV and the workbook never disagree.
//!
//! - CSV: UTF-8 with a byte order mark, RFC 4180 (CRLF); the report's title line, then each table
//!   after a blank line: its title, a Chinese and an English header row, its rows. A text a
//!   spreadsheet would read as a formula is prefixed with `'`.
//! - XLSX (rust_xlsxwriter): one sheet per table, bold frozen header rows in Chinese and English,
//!   column widths, dates as real dates and times as real date-times (local time of the working
//!   calendar's zone), rates as numbers with two decimals.
use std::borrow::Cow;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use cityops_app::report::ReportContent;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

/// A cell of a report table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    Int(u64),
    /// A rate or a score, shown with two decimals.
    Num(f64),
    Date(NaiveDate),
    /// A local date-time.
    Time(NaiveDateTime),
}

impl Value {
    fn opt_num(v: Option<f64>) -> Value {
        v.map_or(Value::Empty, Value::Num)
    }

    /// As text (the page and the CSV).
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Num(x) => format!("{x:.2}"),
            Value::Date(d) => d.to_string(),
            Value::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// Whether it is a number (right-aligned on the page).
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Num(_))
    }
}

/// A column: Chinese and English header, and its width in characters in the workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
    pub width: f64,
}

const fn col(zh: &'static str, en: &'static str, width: f64) -> Col {
    Col {
        zh: Cow::Borrowed(zh),
        en: Cow::Borrowed(en),
        width,
    }
}

/// A table of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Key (the sheet's and the page section's id).
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// A line under the title (e.g. the total of overdue cases).
    pub note: Option<String>,
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Value>>,
}

/// The figures of the summary, in order: key, Chinese, English.
const SUMMARY: [(&str, &str, &str); 10] = [
    ("reported", "上报数", "Reported"),
    ("filed", "立案数", "Filed"),
    ("dispatched", "派遣数", "Dispatched"),
    ("handled", "处置数", "Handled"),
    ("handled_on_time", "按时处置数", "Handled on time"),
    ("closed", "结案数", "Closed"),
    ("cancelled", "作废数", "Cancelled"),
    ("should_close", "应结案数", "Should close"),
    ("overdue", "超期未处置数", "Overdue, not handled"),
    ("reworked", "返工数", "Reworked"),
];

fn totals_values(t: &cityops_domain::report::Totals) -> [u64; 10] {
    [
        t.reported,
        t.filed,
        t.dispatched,
        t.handled,
        t.handled_on_time,
        t.closed,
        t.cancelled,
        t.should_close,
        t.overdue,
        t.reworked,
    ]
}

/// The department figures a report shows, by evaluation key.
const DEPARTMENT_FIGURES: [&str; 6] = [
    "should_close",
    "closed",
    "closed_on_time",
    "handled_on_time",
    "overdue_open",
    "reworked",
];

fn change(now: f64, before: f64) -> Value {
    if before == 0.0 {
        Value::Empty
    } else {
        Value::Num(((now - before) * 10_000.0 / before).round() / 100.0)
    }
}

/// The report as tables, times in `tz`.
pub fn tables<Z: TimeZone>(r: &ReportContent, tz: &Z) -> Vec<Table> {
    let local = |t: DateTime<Utc>| t.with_timezone(tz).naive_local();
    let mut out = Vec::new();

    let now = totals_values(&r.totals);
    let before = totals_values(&r.previous);
    let mut rows: Vec<Vec<Value>> = SUMMARY
        .iter()
        .zip(now.iter().zip(before.iter()))
        .map(|((key, zh, en), (n, b))| {
            vec![
                Value::Text(format!("{zh} {en}")),
                Value::Text((*key).to_string()),
                Value::Int(*n),
                Value::Int(*b),
                change(*n as f64, *b as f64),
            ]
        })
        .collect();
    for (key, zh, en, n, b) in [
        (
            "closure_rate",
            "结案率 %",
            "Closure rate %",
            r.totals.closure_rate(),
            r.previous.closure_rate(),
        ),
        (
            "on_time_rate",
            "按时处置率 %",
            "On-time rate %",
            r.totals.on_time_rate(),
            r.previous.on_time_rate(),
        ),
    ] {
        rows.push(vec![
            Value::Text(format!("{zh} {en}")),
            Value::Text(key.to_string()),
            Value::opt_num(n),
            Value::opt_num(b),
            match (n, b) {
                (Some(n), Some(b)) => Value::Num(((n - b) * 100.0).round() / 100.0),
                _ => Value::Empty,
            },
        ]);
    }
    out.push(Table {
        key: "summary",
        zh: "概况",
        en: "Summary",
        note: Some(format!(
            "本期 this period {}；上期 previous {}；环比 change in % (rates: in points)",
            r.period, r.previous_period
        )),
        cols: vec![
            col("指标", "Figure", 30.0),
            col("键", "Key", 16.0),
            col("本期", "This period", 12.0),
            col("上期", "Previous", 12.0),
            col("环比", "Change", 10.0),
        ],
        rows,
    });

    let counted = |items: &[cityops_app::report::NamedCount]| -> Vec<Vec<Value>> {
        items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    Value::Int(i as u64 + 1),
                    Value::Text(c.name.clone()),
                    Value::Text(c.key.clone()),
                    Value::Int(c.count),
                    Value::Num(c.share),
                ]
            })
            .collect()
    };
    let counted_cols = |zh: &'static str, en: &'static str| {
        vec![
            col("序号", "No.", 6.0),
            col(zh, en, 26.0),
            col("代码", "Code", 16.0),
            col("案件数", "Cases", 10.0),
            col("占比 %", "Share %", 10.0),
        ]
    };
    out.push(Table {
        key: "sources",
        zh: "案件来源",
        en: "Sources",
        note: None,
        cols: counted_cols("来源", "Source"),
        rows: counted(&r.by_source),
    });
    out.push(Table {
        key: "categories",
        zh: "高发问题类别",
        en: "Top categories",
        note: None,
        cols: counted_cols("类别", "Category"),
        rows: counted(&r.top_categories),
    });
    out.push(Table {
        key: "streets",
        zh: "高发街道",
        en: "Top streets",
        note: None,
        cols: counted_cols("街道", "Street"),
        rows: counted(&r.top_streets),
    });
    out.push(Table {
        key: "days",
        zh: "每日上报与结案",
        en: "Reported and closed per day",
        note: None,
        cols: vec![
            col("日期", "Day", 12.0),
            col("上报", "Reported", 10.0),
            col("结案", "Closed", 10.0),
        ],
        rows: r
            .days
            .iter()
            .map(|d| {
                vec![
                    Value::Date(d.day),
                    Value::Int(d.reported),
                    Value::Int(d.closed),
                ]
            })
            .collect(),
    });
    out.push(Table {
        key: "overdue",
        zh: "超期案件",
        en: "Overdue cases",
        note: Some(format!(
            "截至 as of {}：共 {} 件超期 (overdue in all)，列出超期最久的 {} 件 (the longest overdue)",
            local(r.as_of).format("%Y-%m-%d %H:%M"),
            r.overdue_total,
            r.overdue.len()
        )),
        cols: vec![
            col("案件编号", "Case code", 16.0),
            col("类别", "Category", 18.0),
            col("责任部门", "Department", 22.0),
            col("街道", "Street", 14.0),
            col("地址", "Address", 28.0),
            col("应完成时间", "Due", 18.0),
            col("超期小时", "Hours overdue", 10.0),
        ],
        rows: r
            .overdue
            .iter()
            .map(|o| {
                vec![
                    Value::Text(o.code.clone()),
                    Value::Text(o.category.clone()),
                    Value::Text(o.department.clone()),
                    Value::Text(o.place.clone()),
                    Value::Text(o.address.clone()),
                    Value::Time(local(o.due)),
                    Value::Num(o.overdue_hours),
                ]
            })
            .collect(),
    });
    let idx: Vec<Option<usize>> = DEPARTMENT_FIGURES
        .iter()
        .map(|k| r.department_figures.iter().position(|f| f.key == *k))
        .collect();
    // The figures' names are the evaluation's, as kept with the report.
    let label = |i: Option<usize>, key: &'static str| -> (String, String) {
        i.and_then(|i| r.department_figures.get(i))
            .map_or((key.to_string(), key.to_string()), |f| {
                (f.zh.clone(), f.en.clone())
            })
    };
    let mut cols = vec![col("排名", "Rank", 6.0), col("部门", "Department", 26.0)];
    for (i, k) in idx.iter().zip(DEPARTMENT_FIGURES) {
        let (zh, en) = label(*i, k);
        cols.push(Col {
            zh: zh.into(),
            en: en.into(),
            width: 12.0,
        });
    }
    cols.push(col("综合得分", "Score", 10.0));
    cols.push(col("等级", "Grade", 6.0));
    out.push(Table {
        key: "departments",
        zh: "部门综合评价",
        en: "Department evaluation",
        note: None,
        cols,
        rows: r
            .departments
            .iter()
            .map(|d| {
                let mut row = vec![Value::Int(u64::from(d.rank)), Value::Text(d.name.clone())];
                row.extend(idx.iter().map(|i| {
                    i.and_then(|i| d.counts.get(i).copied())
                        .map_or(Value::Empty, Value::Int)
                }));
                row.push(Value::Num(d.score));
                row.push(Value::Text(d.grade.clone()));
                row
            })
            .collect(),
    });
    out
}

/// The file name of a report: `daily-441300-2026-11-02.xlsx`, ASCII only.
pub fn file_name(r: &ReportContent, ext: &str) -> String {
    format!(
        "{}-{}-{}.{ext}",
        r.kind.as_str(),
        r.region_code.as_deref().unwrap_or("city"),
        r.period.from
    )
}

/// A text a spreadsheet would read as a formula, made inert.
fn inert(s: &str) -> String {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The report as CSV.
pub fn csv_bytes<Z: TimeZone>(r: &ReportContent, tz: &Z) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record([inert(&r.title())])?;
    w.write_record([format!(
        "生成于 produced at {}",
        r.as_of
            .with_timezone(tz)
            .naive_local()
            .format("%Y-%m-%d %H:%M")
    )])?;
    for t in tables(r, tz) {
        w.write_record([""])?;
        w.write_record([format!("{} {}", t.zh, t.en)])?;
        if let Some(note) = &t.note {
            w.write_record([inert(note)])?;
        }
        w.write_record(t.cols.iter().map(|c| c.zh.as_ref()))?;
        w.write_record(t.cols.iter().map(|c| c.en.as_ref()))?;
        for row in &t.rows {
            w.write_record(row.iter().map(|v| match v {
                Value::Text(s) => inert(s),
                other => other.text(),
            }))?;
        }
    }
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(w.into_inner().map_err(|e| e.into_error())?);
    Ok(out)
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn excel_time(t: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    excel_date(t.date())?.and_hms(t.hour() as u16, t.minute() as u8, t.second())
}

/// The report as an XLSX workbook: one sheet per table.
pub fn xlsx_bytes<Z: TimeZone>(r: &ReportContent, tz: &Z) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8EEF7")
        .set_align(FormatAlign::Center);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let num = Format::new().set_num_format("0.00");
    for t in tables(r, tz) {
        let sheet = book.add_worksheet();
        sheet.set_name(t.zh)?;
        sheet.write_string_with_format(0, 0, format!("{} · {}", r.title(), t.zh), &title)?;
        sheet.write_string(1, 0, t.note.as_deref().unwrap_or(t.en))?;
        let (zh_row, en_row) = (2, 3);
        for (i, c) in t.cols.iter().enumerate() {
            let i = i as u16;
            sheet.set_column_width(i, c.width)?;
            sheet.write_string_with_format(zh_row, i, c.zh.as_ref(), &head)?;
            sheet.write_string_with_format(en_row, i, c.en.as_ref(), &head)?;
        }
        sheet.set_freeze_panes(en_row + 1, 0)?;
        for (j, row) in t.rows.iter().enumerate() {
            let y = en_row + 1 + j as u32;
            for (i, v) in row.iter().enumerate() {
                let x = i as u16;
                match v {
                    Value::Empty => {}
                    Value::Text(s) => {
                        sheet.write_string(y, x, s)?;
                    }
                    Value::Int(n) => {
                        sheet.write_number(y, x, *n as f64)?;
                    }
                    Value::Num(n) => {
                        sheet.write_number_with_format(y, x, *n, &num)?;
                    }
                    // Excel's dates run from 1900 to 9999: outside, the text.
                    Value::Date(d) => match excel_date(*d) {
                        Ok(e) => {
                            sheet.write_datetime_with_format(y, x, &e, &date)?;
                        }
                        Err(_) => {
                            sheet.write_string(y, x, v.text())?;
                        }
                    },
                    Value::Time(t) => match excel_time(*t) {
                        Ok(e) => {
                            sheet.write_datetime_with_format(y, x, &e, &time)?;
                        }
                        Err(_) => {
                            sheet.write_string(y, x, v.text())?;
                        }
                    },
                }
            }
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_app::report::{DayLine, DepartmentLine, FigureLabel, NamedCount, OverdueLine};
    use cityops_domain::report::{ReportKind, ReportPeriod, Totals};

    fn content() -> ReportContent {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        ReportContent {
            kind: ReportKind::Daily,
            period: ReportPeriod {
                from: d("2026-10-30"),
                to: d("2026-11-02"),
            },
            region_code: None,
            scope_name: "惠州市".into(),
            as_of: "2026-11-01T23:30:00Z".parse().unwrap(),
            totals: Totals {
                reported: 120,
                closed: 60,
                should_close: 80,
                handled_on_time: 70,
                ..Totals::default()
            },
            previous_period: ReportPeriod {
                from: d("2026-10-27"),
                to: d("2026-10-30"),
            },
            previous: Totals {
                reported: 100,
                closed: 50,
                should_close: 100,
                handled_on_time: 90,
                ..Totals::default()
            },
            by_source: vec![NamedCount {
                key: "citizen".into(),
                name: "市民上报".into(),
                count: 120,
                share: 100.0,
            }],
            top_categories: vec![NamedCount {
                key: "matter:01001".into(),
                name: "=HYPERLINK(\"x\")".into(),
                count: 7,
                share: 5.83,
            }],
            top_streets: vec![],
            days: vec![DayLine {
                day: d("2026-10-30"),
                reported: 40,
                closed: 20,
            }],
            overdue_total: 3,
            overdue: vec![OverdueLine {
                id: 1,
                code: "2026103000001".into(),
                category: "井盖缺失".into(),
                department: "市政所".into(),
                place: "桥东街道".into(),
                address: "东平大道".into(),
                due: "2026-10-31T02:00:00Z".parse().unwrap(),
                overdue_hours: 21.5,
            }],
            department_figures: vec![FigureLabel {
                key: "closed".into(),
                zh: "结案数".into(),
                en: "Closed".into(),
            }],
            departments: vec![DepartmentLine {
                rank: 1,
                name: "市政所".into(),
                counts: vec![60],
                score: 91.5,
                grade: "A".into(),
            }],
        }
    }

    fn shanghai() -> chrono::FixedOffset {
        chrono::FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn summary_compares_with_the_previous_period() {
        let t = tables(&content(), &shanghai());
        let summary = &t[0];
        assert_eq!(summary.rows[0][2], Value::Int(120));
        assert_eq!(summary.rows[0][3], Value::Int(100));
        assert_eq!(summary.rows[0][4], Value::Num(20.0), "+20 %");
        // Closure rate 75 % against 50 %: +25 points.
        let closure = summary
            .rows
            .iter()
            .find(|r| r[1] == Value::Text("closure_rate".into()))
            .unwrap();
        assert_eq!(closure[2], Value::Num(75.0));
        assert_eq!(closure[4], Value::Num(25.0));
        // The overdue case's due time in Shanghai time.
        let overdue = t.iter().find(|t| t.key == "overdue").unwrap();
        assert_eq!(overdue.rows[0][5].text(), "2026-10-31 10:00");
        let departments = t.iter().find(|t| t.key == "departments").unwrap();
        assert_eq!(departments.rows[0][3], Value::Int(60), "closed by its key");
        assert_eq!(departments.rows[0][2], Value::Empty, "a figure not kept");
    }

    #[test]
    fn csv_is_inert_and_readable() {
        let bytes = csv_bytes(&content(), &shanghai()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("\r\n"));
        assert!(text.contains("超期案件 Overdue cases"));
        let xlsx = xlsx_bytes(&content(), &shanghai()).unwrap();
        assert_eq!(&xlsx[..2], b"PK");
        // A date Excel cannot hold is written as text, not an error.
        let mut old = content();
        old.days[0].day = "1800-01-01".parse().unwrap();
        old.overdue[0].due = "1800-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(&xlsx_bytes(&old, &shanghai()).unwrap()[..2], b"PK");
        assert_eq!(file_name(&content(), "csv"), "daily-city-2026-10-30.csv");
    }
}
