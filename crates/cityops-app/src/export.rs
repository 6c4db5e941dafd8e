//! 案件导出 (case export): one row per case of a case-list query, with everything an auditor
//! needs to recompute the evaluation's figures without the platform — the stage times, the
//! deadlines, the in-time flags the state machine recorded, who took each step, and the counts.
//!
//! [`COLUMNS`] is the one table of the export's columns: key (the CSV header), Chinese and
//! English names (the XLSX headers), type, meaning (the documentation, `docs/EXPORT.md`, is
//! generated from it: [`columns_markdown`]) and the value of each case. Both writers (CSV and
//! XLSX, in `cityops-web`) only render the [`Cell`]s it yields.
//!
//! An export reads the cases in keyset pages ([`cityops_store::ExportRepo::export_cases`]: one
//! statement per page), within the caller's [`CaseVisibility`] in the store query. Reporters'
//! contacts follow the privacy rules (`cityops_domain::privacy`): masked, or in full for the
//! roles that call back — and then every case whose contact the file holds in full is written to
//! the contact access log in one statement, before the first row is produced.
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use cityops_domain::User;
use cityops_domain::calendar::WorkingCalendar;
use cityops_domain::case::{Case, CaseStatus, CaseVisibility};
use cityops_domain::privacy::ContactDisclosure;
use cityops_store::{CaseCursor, CaseQuery, ContactAccessVia, ContactExport, Store};

use crate::caches::Catalogue;
use crate::error::{Result, ServiceError};
use crate::service::CaseService;

/// The most rows an XLSX export holds (Excel's sheet holds 1,048,576; a file this large is
/// already slow to open). A larger export is refused (`ExportTooLarge`): narrow the filters, or
/// export CSV, which has no cap.
pub const XLSX_MAX_ROWS: u64 = 200_000;

/// Cases read per statement.
pub const EXPORT_PAGE: u32 = 1_000;

/// One value of the export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (CSV: an empty field; XLSX: a blank cell).
    Empty,
    Text(String),
    Int(i64),
    Bool(bool),
    /// A local time with its offset (the working calendar's zone).
    Time(DateTime<FixedOffset>),
}

/// What a column holds (its CSV form and XLSX type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// An integer: an id, a count, seconds or minutes.
    Int,
    /// Text: a code, a key or a name.
    Text,
    /// A local time: RFC 3339 with its offset in CSV (`2026-03-02T09:15:00+08:00`), an Excel
    /// date-time in XLSX.
    Time,
    /// `true`, `false`, or empty when not decided.
    Bool,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Int => "integer",
            ColumnType::Text => "text",
            ColumnType::Time => "time",
            ColumnType::Bool => "true/false",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            ColumnType::Int => "整数",
            ColumnType::Text => "文本",
            ColumnType::Time => "时间",
            ColumnType::Bool => "是/否",
        }
    }
}

/// What a column's value is computed from.
pub struct RowSource<'a> {
    pub case: &'a Case,
    pub catalogue: &'a Catalogue,
    pub calendar: &'a WorkingCalendar,
    /// The contact as the exporting user may see it (masked or in full).
    pub contact: Option<String>,
    /// The instant of the export (a running suspension counts up to it).
    pub now: DateTime<Utc>,
}

impl RowSource<'_> {
    fn time(&self, t: Option<DateTime<Utc>>) -> Cell {
        t.map_or(Cell::Empty, |t| {
            Cell::Time(t.with_timezone(&self.calendar.config().tz).fixed_offset())
        })
    }
}

/// One column of the export.
pub struct Column {
    /// The CSV header: stable, snake_case English.
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub ty: ColumnType,
    pub meaning_zh: &'static str,
    pub meaning_en: &'static str,
    value: fn(&RowSource<'_>) -> Cell,
}

impl Column {
    /// The column's value for one case.
    pub fn value(&self, src: &RowSource<'_>) -> Cell {
        (self.value)(src)
    }
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("key", &self.key).finish()
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}
fn opt_text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Empty, text)
}
fn id(v: Option<i64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Int)
}
fn flag(v: Option<bool>) -> Cell {
    v.map_or(Cell::Empty, Cell::Bool)
}
fn count(n: u32) -> Cell {
    Cell::Int(i64::from(n))
}

/// When the case ended as `status` (closed or cancelled): `closed_at` of that status only.
fn ended(c: &Case, status: CaseStatus) -> Option<DateTime<Utc>> {
    c.closed_at.filter(|_| c.status == status)
}

const fn col(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    ty: ColumnType,
    meaning_zh: &'static str,
    meaning_en: &'static str,
    value: fn(&RowSource<'_>) -> Cell,
) -> Column {
    Column {
        key,
        zh,
        en,
        ty,
        meaning_zh,
        meaning_en,
        value,
    }
}

use ColumnType::{Bool, Int, Text, Time};

/// The export's columns, in file order.
#[rustfmt::skip]
pub static COLUMNS: &[Column] = &[
    col("id", "案件ID", "Case id", Int,
        "案件的内部编号（各表的引用键）。",
        "The case's internal id (what other records refer to).",
        |s| Cell::Int(s.case.id)),
    col("code", "案件编号", "Case code", Text,
        "上报日期 YYYYMMDD + 当日 5 位序号。",
        "Report date YYYYMMDD + the day's 5-digit number.",
        |s| text(&s.case.code)),
    col("source", "来源", "Source", Text,
        "inspector 监督员上报、citizen 公众举报、hotline 热线、video_ai 视频智能发现、iot 物联感知、leader 领导批示。",
        "inspector, citizen, hotline, video_ai, iot or leader.",
        |s| text(s.case.source.as_str())),
    col("source_name", "来源名称", "Source name", Text,
        "来源的中文名称。",
        "The source's Chinese name.",
        |s| text(s.case.source.name_zh())),
    col("status", "状态", "Status", Text,
        "导出时的状态：reported、verifying、filed、dispatched、handling、handled、checking、suspended、closed、cancelled。",
        "The status at the export: reported, verifying, filed, dispatched, handling, handled, checking, suspended, closed or cancelled.",
        |s| text(s.case.status.as_str())),
    col("status_name", "状态名称", "Status name", Text,
        "状态的中文名称。",
        "The status's Chinese name.",
        |s| text(s.case.status.name_zh())),
    col("category_kind", "大类类型", "Category kind", Text,
        "component 部件、matter 事件；空 = 未分类（公众举报待受理）。",
        "component or matter; empty = not classified yet (a citizen's report before intake).",
        |s| opt_text(s.case.category_kind.map(|k| k.as_str()))),
    col("category_code", "小类代码", "Category code", Text,
        "GB/T 30428 小类代码（5 位）。",
        "The GB/T 30428 category code (5 digits).",
        |s| opt_text(s.case.category_code.as_deref())),
    col("category_name", "小类名称", "Category name", Text,
        "小类名称（来自分类目录）。",
        "The category's name (from the catalogue).",
        |s| {
            opt_text(
                s.case
                    .category_kind
                    .zip(s.case.category_code.as_deref())
                    .and_then(|(k, c)| s.catalogue.category(k, c))
                    .map(|c| c.name.as_str()),
            )
        }),
    col("urgency", "紧急程度", "Urgency", Text,
        "normal 一般、urgent 紧急（紧急案件处置时限按自然时连续计）。",
        "normal or urgent (an urgent case's handling limit counts continuously).",
        |s| text(s.case.urgency.as_str())),
    col("district_code", "区代码", "District code", Text,
        "定位所在区（6 位）。",
        "The district the point lies in (6 digits).",
        |s| opt_text(s.case.location.district_code.as_deref())),
    col("street_code", "街道代码", "Street code", Text,
        "定位所在街道（9 位）。",
        "The street (9 digits).",
        |s| opt_text(s.case.location.street_code.as_deref())),
    col("community_code", "社区代码", "Community code", Text,
        "定位所在社区（12 位）。",
        "The community (12 digits).",
        |s| opt_text(s.case.location.community_code.as_deref())),
    col("grid_code", "单元网格代码", "Grid code", Text,
        "定位所在单元网格（15 位）。",
        "The unit grid (15 digits).",
        |s| opt_text(s.case.location.grid_code.as_deref())),
    col("department_id", "处置部门ID", "Department id", Int,
        "当前（最后派遣的）处置部门；专业部门考核按此计。",
        "The current (last dispatched) department; the departments' evaluation counts the case for it.",
        |s| id(s.case.department_id)),
    col("department_name", "处置部门", "Department", Text,
        "处置部门名称。",
        "The department's name.",
        |s| {
            opt_text(
                s.case
                    .department_id
                    .and_then(|d| s.catalogue.department(d))
                    .map(|d| d.name.as_str()),
            )
        }),
    col("reporter_id", "上报人ID", "Reporter id", Int,
        "上报的用户（监督员、公众、受理员）。",
        "The user who reported (inspector, citizen, intake operator).",
        |s| id(s.case.reporter_id)),
    col("contact", "联系方式", "Contact", Text,
        "上报人姓名和电话：受理员、值班长、派遣员与上报人本人看到全文（每次导出写入个人信息访问记录），其他角色看到脱敏文本（张*明 138****0000）。",
        "The reporter's name and phone: in full for intake operators, supervisors, dispatchers and the reporter (each export is written to the contact access log), masked for every other role (张*明 138****0000).",
        |s| opt_text(s.contact.as_deref())),
    col("reported_at", "上报时间", "Reported at", Time,
        "案件到达平台的时间（考核期按此归属）。",
        "When the report arrived (an evaluation period holds the cases reported in it).",
        |s| s.time(Some(s.case.created_at))),
    col("verify_sent_at", "发核实时间", "Sent to verify at", Time,
        "受理员最后一次发核实的时间。",
        "When intake last sent the report to be verified.",
        |s| s.time(s.case.facts.verify_sent_at)),
    col("verify_due", "核实时限", "Verification due", Time,
        "最后一次核实任务的截止时间。",
        "The due time of the last verification task.",
        |s| s.time(s.case.facts.verify_due)),
    col("verified_at", "核实时间", "Verified at", Time,
        "监督员答复核实的时间；按时核实 = verified_at ≤ verify_due。",
        "When the inspector answered; verified on time = verified_at ≤ verify_due.",
        |s| s.time(s.case.facts.verified_at)),
    col("filed_at", "立案时间", "Filed at", Time,
        "最后一次立案的时间（退回后会再次立案）。",
        "When the case was last filed (a returned case is filed again).",
        |s| s.time(s.case.facts.filed_at)),
    col("dispatched_at", "派遣时间", "Dispatched at", Time,
        "最后一次派遣的时间；有值的案件计入专业部门考核。",
        "When the case was last dispatched; only dispatched cases count for departments.",
        |s| s.time(s.case.facts.dispatched_at)),
    col("signed_at", "签收时间", "Signed at", Time,
        "处置部门最后一次签收的时间。",
        "When the department last signed for the case.",
        |s| s.time(s.case.facts.signed_at)),
    col("handled_at", "处置反馈时间", "Handled at", Time,
        "仍然有效的处置反馈时间（核查不通过返工后清空，直到再次反馈）。",
        "The handling report that still stands (a failed check clears it until the next report).",
        |s| s.time(s.case.facts.handled_at)),
    col("check_sent_at", "发核查时间", "Sent to check at", Time,
        "受理员最后一次发核查的时间。",
        "When intake last sent the case to be checked.",
        |s| s.time(s.case.facts.check_sent_at)),
    col("check_due", "核查时限", "Check due", Time,
        "最后一次核查任务的截止时间。",
        "The due time of the last check task.",
        |s| s.time(s.case.facts.check_due)),
    col("checked_at", "核查时间", "Checked at", Time,
        "监督员答复核查的时间；按时核查 = checked_at ≤ check_due。",
        "When the inspector answered the check; checked on time = checked_at ≤ check_due.",
        |s| s.time(s.case.facts.checked_at)),
    col("closed_at", "结案时间", "Closed at", Time,
        "结案时间（仅已结案的案件）。",
        "When the case was closed (closed cases only).",
        |s| s.time(ended(s.case, CaseStatus::Closed))),
    col("cancelled_at", "作废时间", "Cancelled at", Time,
        "不予受理、核实不属实、作废或合并的时间（仅已作废的案件）。",
        "When the case was rejected, found untrue, cancelled or merged (cancelled cases only).",
        |s| s.time(ended(s.case, CaseStatus::Cancelled))),
    col("cancel_kind", "作废方式", "Cancelled how", Text,
        "reject 不予受理/不予立案、unverified 核实不属实、cancel 立案后作废、merge 合并。",
        "reject (not accepted or not filed), unverified (found untrue), cancel (cancelled after filing) or merge.",
        |s| opt_text(s.case.facts.cancel_kind.map(|k| k.as_str()))),
    col("merged_into", "合并至案件ID", "Merged into", Int,
        "合并到的主案件。",
        "The master case a merged report went into.",
        |s| id(s.case.merged_into)),
    col("deadline", "处置截止时间（当前）", "Handling deadline now", Time,
        "当前的处置截止时间（捆绑截止时间，含延期与挂账）；超期未处置 = 在办、未挂账、未处置且 deadline < 评价时刻。",
        "The handling deadline now (postponements and suspensions included); overdue, not handled = open, not suspended, not handled and deadline < the evaluation instant.",
        |s| s.time(s.case.deadline)),
    col("handle_due", "处置截止时间（反馈时）", "Handling deadline at the report", Time,
        "仍然有效的处置反馈当时的处置截止时间。",
        "The handling deadline when the standing handling report was made.",
        |s| s.time(s.case.facts.handle_due)),
    col("filed_on_time", "按时立案", "Filed on time", Bool,
        "最后一次立案是否在立案时限内（由状态机当时记录）。",
        "Whether the last filing came within the filing limit (recorded by the state machine then).",
        |s| flag(s.case.facts.filed_on_time)),
    col("dispatched_on_time", "按时派遣", "Dispatched on time", Bool,
        "最后一次派遣是否在派遣时限内。",
        "Whether the last dispatch came within the dispatch limit.",
        |s| flag(s.case.facts.dispatched_on_time)),
    col("handled_on_time", "按期处置", "Handled on time", Bool,
        "仍然有效的处置反馈是否在处置截止时间内；按期结案 = 已结案且此项为 true。",
        "Whether the standing handling report came by its deadline; closed on time = closed and this is true.",
        |s| flag(s.case.facts.handled_on_time)),
    col("closed_in_limit", "按时结案", "Closed in time", Bool,
        "结案是否在结案时限内（值班长考核）。",
        "Whether the closing came within the closing limit (the supervisors' evaluation).",
        |s| flag(s.case.facts.closed_in_limit)),
    col("verify_sent_work_secs", "发核实用时（工作秒）", "Working seconds to send to verify", Int,
        "从上报到达（或重新受理）到发核实的工作时间秒数；核实按时派发 = 不超过配置的分钟数 × 60。",
        "Working seconds from the report's arrival (or return to intake) to sending it to verify; sent on time = at most the configured minutes × 60.",
        |s| id(s.case.facts.verify_sent_secs)),
    col("check_sent_work_secs", "发核查用时（工作秒）", "Working seconds to send to check", Int,
        "从处置反馈到发核查的工作时间秒数。",
        "Working seconds from the handling report to sending the check.",
        |s| id(s.case.facts.check_sent_secs)),
    col("accepted_by", "受理员ID", "Accepted by", Int,
        "最先处理该上报的受理员（发核实、不予受理或合并）。",
        "The intake operator who first decided on the report (sent to verify, rejected or merged).",
        |s| id(s.case.facts.accepted_by)),
    col("verify_sent_by", "发核实人ID", "Sent to verify by", Int,
        "最后一次发核实的用户。",
        "Who last sent the report to be verified.",
        |s| id(s.case.facts.verify_sent_by)),
    col("verifier_id", "核实监督员ID", "Verifier", Int,
        "最后一次核实任务的监督员。",
        "The inspector of the last verification task.",
        |s| id(s.case.facts.verifier_id)),
    col("filed_by", "立案人ID", "Filed by", Int,
        "最后一次立案的值班长（系统直接立案时为空）。",
        "The supervisor who last filed the case (empty when the system filed it directly).",
        |s| id(s.case.facts.filed_by)),
    col("dispatched_by", "派遣员ID", "Dispatched by", Int,
        "最后一次派遣的派遣员（一键直达时为空）。",
        "The dispatcher who last dispatched the case (empty for an automatic dispatch).",
        |s| id(s.case.facts.dispatched_by)),
    col("check_sent_by", "发核查人ID", "Sent to check by", Int,
        "最后一次发核查的用户。",
        "Who last sent the case to be checked.",
        |s| id(s.case.facts.check_sent_by)),
    col("checker_id", "核查监督员ID", "Checker", Int,
        "最后一次核查任务的监督员。",
        "The inspector of the last check task.",
        |s| id(s.case.facts.checker_id)),
    col("closed_by", "结案人ID", "Closed by", Int,
        "结案的值班长。",
        "The supervisor who closed the case.",
        |s| id(s.case.facts.closed_by)),
    col("cancelled_by", "作废人ID", "Cancelled by", Int,
        "不予受理、核实不属实、作废或合并的用户。",
        "Who rejected, found untrue, cancelled or merged the case.",
        |s| id(s.case.facts.cancelled_by)),
    col("rework_count", "返工次数", "Reworks", Int,
        "核查不通过返工的次数（> 0 计入返工数）。",
        "How often a failed check sent the case back (> 0 counts as reworked).",
        |s| count(s.case.rework_count)),
    col("return_count", "退回次数", "Returns", Int,
        "处置部门退回的次数。",
        "How often a department returned the case.",
        |s| count(s.case.return_count)),
    col("postpone_count", "延期次数", "Postponements", Int,
        "批准延期的次数（> 0 计入延期数）。",
        "Approved postponements (> 0 counts as postponed).",
        |s| count(s.case.postpone_count)),
    col("suspend_count", "挂账次数", "Suspensions", Int,
        "批准挂账的次数（> 0 计入挂账数）。",
        "Approved suspensions (> 0 counts as suspended).",
        |s| count(s.case.facts.suspend_count)),
    col("suspended_minutes", "挂账时长（分钟）", "Minutes suspended", Int,
        "挂账的自然时间分钟数（向下取整；正在挂账的计到导出时刻）。",
        "Natural minutes spent suspended (rounded down; a running suspension counts up to the export).",
        |s| Cell::Int(s.case.facts.suspended_secs_at(s.now) / 60)),
    col("verified", "核实属实", "Verified", Bool,
        "监督员核实结果：true 属实、false 不属实、空 = 未核实。",
        "The inspector's verification: true (confirmed), false (untrue), empty (not verified).",
        |s| flag(s.case.verified)),
    col("rating", "公众评价", "Rating", Int,
        "上报人评价 1–5（≥ 配置的满意分计为满意）；空 = 未评价。",
        "The reporter's rating 1–5 (at least the configured score counts as satisfied); empty = not rated.",
        |s| s.case.rating.map_or(Cell::Empty, |r| Cell::Int(i64::from(r)))),
];

/// The column table as Markdown (the body of `docs/EXPORT.md`'s column list).
pub fn columns_markdown() -> String {
    let mut out = String::from(
        "| # | key | 中文 | English | 类型 type | 含义 | Meaning |\n|---|---|---|---|---|---|---|\n",
    );
    for (i, c) in COLUMNS.iter().enumerate() {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} {} | {} | {} |\n",
            i + 1,
            c.key,
            c.zh,
            c.en,
            c.ty.zh(),
            c.ty.as_str(),
            c.meaning_zh,
            c.meaning_en
        ));
    }
    out
}

/// A running export: the query, the caller's visibility and where the next page starts.
pub struct CaseExport {
    store: Arc<dyn Store>,
    user: User,
    query: CaseQuery,
    vis: CaseVisibility,
    next: Option<CaseCursor>,
    done: bool,
    /// The cases whose contact this export shows in full (logged before the first row).
    full_contacts: HashSet<i64>,
    catalogue: Arc<Catalogue>,
    calendar: Arc<WorkingCalendar>,
    now: DateTime<Utc>,
    max_rows: Option<u64>,
    rows: u64,
    /// How many cases matched when the export started (counted only for a capped export).
    pub counted: Option<u64>,
}

impl CaseService {
    /// Starts an export of the cases `user` sees that match `query` (the case list's filters and
    /// sort). With `max_rows`, the matching cases are counted first and more than that is
    /// [`ServiceError::ExportTooLarge`]. When the user's role sees contacts in full, every case
    /// of the export with a contact (not reported by the user) is written to the contact access
    /// log now, in one statement; a case that matches only later (reported meanwhile) is exported
    /// with its contact masked.
    pub async fn start_export(
        &self,
        user: &User,
        query: CaseQuery,
        max_rows: Option<u64>,
    ) -> Result<CaseExport> {
        let vis = CaseVisibility::for_user(user);
        let store = self.store().clone();
        let counted = match max_rows {
            Some(max) => {
                let n = store.count_cases(&query, &vis).await?.total;
                if n > max {
                    return Err(ServiceError::ExportTooLarge { rows: n, max });
                }
                Some(n)
            }
            None => None,
        };
        let catalogue = self.catalogue().await?;
        let now = self.clock().now();
        let full_contacts = if ContactDisclosure::for_user(user, None).logged() {
            store
                .log_contacts_matching(
                    &query,
                    &vis,
                    ContactExport {
                        user_id: user.id,
                        at: now,
                        via: ContactAccessVia::Export,
                    },
                )
                .await?
                .into_iter()
                .collect()
        } else {
            HashSet::new()
        };
        Ok(CaseExport {
            store,
            user: user.clone(),
            query,
            vis,
            next: None,
            done: false,
            full_contacts,
            catalogue,
            calendar: self.calendar(),
            now,
            max_rows,
            rows: 0,
            counted,
        })
    }
}

impl CaseExport {
    /// The next page of rows (one store statement), each row in [`COLUMNS`] order; `None` after
    /// the last. More rows than a capped export's maximum (cases reported meanwhile) is
    /// [`ServiceError::ExportTooLarge`].
    pub async fn next_rows(&mut self) -> Result<Option<Vec<Vec<Cell>>>> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .export_cases(&self.query, &self.vis, self.next, EXPORT_PAGE)
            .await?;
        self.next = page.next;
        self.done = page.next.is_none();
        if page.cases.is_empty() {
            self.done = true;
            return Ok(None);
        }
        self.rows += page.cases.len() as u64;
        if let Some(max) = self.max_rows.filter(|max| self.rows > *max) {
            return Err(ServiceError::ExportTooLarge {
                rows: self.rows,
                max,
            });
        }
        Ok(Some(page.cases.iter().map(|c| self.row(c)).collect()))
    }

    /// The contact of `case` as this export shows it.
    fn contact(&self, case: &Case) -> Option<String> {
        let contact = case.contact.as_deref()?;
        Some(
            match ContactDisclosure::for_user(&self.user, case.reporter_id) {
                ContactDisclosure::Full if !self.full_contacts.contains(&case.id) => {
                    ContactDisclosure::Masked.show(contact)
                }
                d => d.show(contact),
            },
        )
    }

    /// One case's row.
    pub fn row(&self, case: &Case) -> Vec<Cell> {
        let src = RowSource {
            case,
            catalogue: &self.catalogue,
            calendar: &self.calendar,
            contact: self.contact(case),
            now: self.now,
        };
        COLUMNS.iter().map(|c| c.value(&src)).collect()
    }

    /// The instant of the export.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The working calendar's zone offset at `t` (for file names and the XLSX's note).
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.calendar.config().tz).fixed_offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_snake_case_and_every_column_is_described() {
        let mut seen = HashSet::new();
        for c in COLUMNS {
            assert!(seen.insert(c.key), "duplicate key {}", c.key);
            assert!(
                c.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is snake_case",
                c.key
            );
            for s in [c.zh, c.en, c.meaning_zh, c.meaning_en] {
                assert!(!s.trim().is_empty(), "{} is described", c.key);
                assert!(!s.contains('|'), "{}: no `|` in a Markdown cell", c.key);
            }
        }
    }

    /// `docs/EXPORT.md` lists exactly this table (regenerate it with
    /// `CITYOPS_WRITE_EXPORT_DOC=1 cargo test -p cityops-app export_doc`).
    #[test]
    fn export_doc_lists_the_columns() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/EXPORT.md");
        let doc = std::fs::read_to_string(path).expect("docs/EXPORT.md");
        let (begin, end) = ("<!-- columns:begin -->\n", "<!-- columns:end -->");
        let start = doc.find(begin).expect("columns:begin marker") + begin.len();
        let stop = doc.find(end).expect("columns:end marker");
        let want = columns_markdown();
        if doc[start..stop] != want && std::env::var_os("CITYOPS_WRITE_EXPORT_DOC").is_some() {
            let new = format!("{}{}{}", &doc[..start], want, &doc[stop..]);
            std::fs::write(path, new).expect("write docs/EXPORT.md");
            return;
        }
        assert_eq!(
            doc[start..stop],
            want,
            "docs/EXPORT.md lists the columns of cityops_app::export::COLUMNS"
        );
    }
}
