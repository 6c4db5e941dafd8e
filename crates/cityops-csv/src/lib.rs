//! cityops-csv — the one CSV reader of CityOps (CSV 读取): the administrators' imports (divisions,
//! components), the working-calendar file and upload, and the responsibility-matrix upload all
//! read their text through [`read`].
//!
//! What every reader gets: a UTF-8 BOM is tolerated; the first non-blank record is the header
//! (names trimmed and lower-cased, a name twice is an error); fields may be quoted (RFC 4180) and
//! are trimmed on access; blank lines and lines of empty fields are skipped; each row keeps its
//! 1-based line number in the file (the header is line 1), so that every error — [`CsvError`] —
//! names the line and, where one field is at fault, the column. Reading is all or nothing: the
//! caller gets the whole table or the first error, never part of a file.
//!
//! Why a crate of its own: the domain (calendar) and the seed crate (imports) read CSV, and the
//! web crate must not depend on the seed crate, which embeds the reference data (divisions,
//! boundaries, catalogue). This crate depends on `csv` and `thiserror` only and does no I/O.
use std::collections::HashMap;
use std::fmt;

/// A CSV problem at a line (1-based, header = line 1), and the column when one field is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", ColumnLabel(.column))]
pub struct CsvError {
    /// 1-based line in the file.
    pub line: u64,
    /// The column (header name) at fault, if one is.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

struct ColumnLabel<'a>(&'a Option<String>);

impl fmt::Display for ColumnLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(c) => write!(f, ", column {c}"),
            None => Ok(()),
        }
    }
}

impl CsvError {
    /// A problem with a whole line.
    pub fn at_line(line: u64, message: impl Into<String>) -> Self {
        Self {
            line,
            column: None,
            message: message.into(),
        }
    }

    /// The message with the column in front (`column kind: …`), for error types that carry a
    /// line and a message only.
    pub fn detail(&self) -> String {
        match &self.column {
            Some(c) => format!("column {c}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// One data row: its line and its fields as written (trimmed on access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    line: u64,
    fields: Vec<String>,
}

impl Row {
    /// The 1-based line the row starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the row has no field (never true for a row of a [`Table`]).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Field `i`, trimmed.
    pub fn field(&self, i: usize) -> Option<&str> {
        self.fields.get(i).map(|f| f.trim())
    }

    /// All fields, trimmed.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.trim())
    }

    /// Fields `i..` joined by commas as written, trimmed: a last column that may hold unquoted
    /// commas (`2026-10-01,holiday,a, b` → `a, b`). Empty when there are fewer fields.
    pub fn rest(&self, i: usize) -> String {
        self.fields
            .get(i..)
            .map(|f| f.join(","))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// A problem with this row as a whole.
    pub fn error(&self, message: impl Into<String>) -> CsvError {
        CsvError::at_line(self.line, message)
    }

    /// A problem with one field of this row.
    pub fn error_in(&self, column: &str, message: impl Into<String>) -> CsvError {
        CsvError {
            line: self.line,
            column: Some(column.to_string()),
            message: message.into(),
        }
    }
}

/// A CSV file read whole: the header and the data rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    header_line: u64,
    header: Vec<String>,
    columns: HashMap<String, usize>,
    rows: Vec<Row>,
}

/// Reads CSV text (see the crate documentation). Errors: an empty file, an unreadable record, a
/// header naming a column twice.
pub fn read(text: &str) -> Result<Table, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    // The `csv` crate's own line numbers count from where it began reading, before the blank
    // lines and the `\n` of a `\r\n` it skips: the lines are counted here instead.
    let mut lines = LineCounter::new(text.as_bytes());
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let from = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let line = lines.record_line(from);
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(CsvError::at_line(line, format!("unreadable CSV: {e}"))),
        }
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let fields: Vec<String> = rec.iter().map(str::to_string).collect();
        if header.is_none() {
            header = Some((line, fields));
        } else {
            rows.push(Row { line, fields });
        }
    }
    let Some((header_line, raw)) = header else {
        return Err(CsvError::at_line(1, "the file is empty: expected a header"));
    };
    let header: Vec<String> = raw.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut columns = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if columns.insert(name.clone(), i).is_some() {
            return Err(CsvError::at_line(
                header_line,
                format!("column {name:?} appears twice in the header"),
            ));
        }
    }
    Ok(Table {
        header_line,
        header,
        columns,
        rows,
    })
}

/// 1-based line numbers of byte offsets, counting `\r\n`, `\n` and `\r` as one line break each.
struct LineCounter<'t> {
    text: &'t [u8],
    /// Bytes before `pos` are counted.
    pos: usize,
    /// Line breaks before `pos`.
    breaks: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t [u8]) -> Self {
        Self {
            text,
            pos: 0,
            breaks: 0,
        }
    }

    /// The line of the record the reader will read from byte `from` on: the first byte that is
    /// not a line break (blank lines are skipped). Offsets must not decrease.
    fn record_line(&mut self, from: usize) -> u64 {
        let mut start = from.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        while self.pos < start {
            let b = self.text[self.pos];
            let after_cr = self.pos > 0 && self.text[self.pos - 1] == b'\r';
            if b == b'\r' || (b == b'\n' && !after_cr) {
                self.breaks += 1;
            }
            self.pos += 1;
        }
        self.breaks + 1
    }
}

impl Table {
    /// The header's column names (trimmed, lower-case), in file order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The line of the header (1 unless the file starts with blank lines).
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    /// The data rows in file order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The header must be exactly `expected` (a fixed format such as the calendar's).
    pub fn expect_header(&self, expected: &[&str]) -> Result<(), CsvError> {
        if self
            .header
            .iter()
            .map(String::as_str)
            .eq(expected.iter().copied())
        {
            return Ok(());
        }
        Err(CsvError::at_line(
            self.header_line,
            format!(
                "expected the header `{}`, found `{}`",
                expected.join(","),
                self.header.join(",")
            ),
        ))
    }

    /// The header must name every `required` column (any order, more columns allowed); `what`
    /// names the file in the message (`division`, `component` …).
    pub fn require_columns(&self, what: &str, required: &[&str]) -> Result<(), CsvError> {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !self.columns.contains_key(*c))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(CsvError::at_line(
            self.header_line,
            format!(
                "the {what} header lacks column(s) {}; expected {}",
                missing.join(", "),
                required.join(",")
            ),
        ))
    }

    /// Every row must have as many fields as the header.
    pub fn check_widths(&self) -> Result<(), CsvError> {
        let width = self.header.len();
        match self.rows.iter().find(|r| r.len() != width) {
            None => Ok(()),
            Some(r) => Err(r.error(format!(
                "expected {width} fields as in the header, found {}",
                r.len()
            ))),
        }
    }

    /// The position of `column` (lower-case name) in the header.
    pub fn column(&self, column: &str) -> Option<usize> {
        self.columns.get(column).copied()
    }

    /// The trimmed value of `column` in `row`; `None` when the column is absent or the cell empty.
    pub fn get<'r>(&self, row: &'r Row, column: &str) -> Option<&'r str> {
        row.field(self.column(column)?).filter(|s| !s.is_empty())
    }

    /// The trimmed value of `column` in `row`, or an error naming the line and the column.
    pub fn require<'r>(&self, row: &'r Row, column: &str) -> Result<&'r str, CsvError> {
        self.get(row, column)
            .ok_or_else(|| row.error_in(column, format!("{column} is empty")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_the_header() {
        let t = read("\u{feff}Date, Kind ,name\r\n2026-10-01,holiday,国庆节\r\n\r\n,,\n2026-10-08,workday,\"调休, 上班\"\n").unwrap();
        assert_eq!(t.header(), ["date", "kind", "name"]);
        assert_eq!(t.header_line(), 1);
        let lines: Vec<u64> = t.rows().iter().map(Row::line).collect();
        assert_eq!(lines, [2, 5], "blank lines and empty records are skipped");
        assert_eq!(t.get(&t.rows()[1], "name"), Some("调休, 上班"));
        assert_eq!(t.get(&t.rows()[0], "kind"), Some("holiday"));
        assert_eq!(t.get(&t.rows()[0], "nothing"), None);
        t.expect_header(&["date", "kind", "name"]).unwrap();
        t.check_widths().unwrap();
    }

    #[test]
    fn a_quoted_field_over_two_lines_keeps_its_first_line() {
        let t = read("a,b\n1,\"x\ny\"\n2,z\n").unwrap();
        let lines: Vec<u64> = t.rows().iter().map(Row::line).collect();
        assert_eq!(lines, [2, 4]);
        assert_eq!(t.get(&t.rows()[0], "b"), Some("x\ny"));
    }

    #[test]
    fn line_breaks_of_every_kind_and_blank_lines_count() {
        for (text, want) in [
            ("a,b\r\n1,2\r\n\r\n3,4\r\n", [2, 4]),
            ("a,b\n1,2\n\n3,4", [2, 4]),
            ("a,b\r1,2\r\r3,4\r", [2, 4]),
            ("\n\na,b\n\n1,2\n3,4\n", [5, 6]),
            ("a,b\n1,\"x\r\ny\"\r\n3,4\n", [2, 4]),
        ] {
            let t = read(text).unwrap();
            let lines: Vec<u64> = t.rows().iter().map(Row::line).collect();
            assert_eq!(lines, want, "{text:?}");
        }
    }

    #[test]
    fn the_rest_of_a_row_keeps_unquoted_commas() {
        let t = read("date,kind,name\n2026-10-01,holiday,a, b\n2026-10-02,holiday\n").unwrap();
        assert_eq!(t.rows()[0].rest(2), "a, b");
        assert_eq!(t.rows()[1].rest(2), "");
        assert_eq!(t.rows()[1].rest(7), "");
    }

    #[test]
    fn errors_name_the_line_and_the_column() {
        let e = read("").unwrap_err();
        assert_eq!(e.line, 1);
        let e = read("a,b,A\n1,2,3\n").unwrap_err();
        assert_eq!((e.line, e.message.contains("\"a\"")), (1, true), "{e}");

        let t = read("a,b\n1,2\n3\n").unwrap();
        let e = t.check_widths().unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: expected 2 fields as in the header, found 1"
        );

        let e = t.expect_header(&["a", "c"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: expected the header `a,c`, found `a,b`"
        );
        let e = t.require_columns("test", &["b", "c", "d"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: the test header lacks column(s) c, d; expected b,c,d"
        );

        let t = read("\n\na,b\n1,\n").unwrap();
        assert_eq!(t.header_line(), 3);
        let e = t.require(&t.rows()[0], "b").unwrap_err();
        assert_eq!(e.to_string(), "line 4, column b: b is empty");
        assert_eq!(e.detail(), "column b: b is empty");
        assert_eq!(t.require(&t.rows()[0], "a"), Ok("1"));
    }
}
