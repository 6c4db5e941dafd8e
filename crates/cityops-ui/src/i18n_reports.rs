//! The strings of the report pages (报表), Chinese first with a complete English translation:
//! both [`REPORTS_ZH`] and [`REPORTS_EN`] fill every field, so a missing string does not compile.
use cityops_domain::report::ReportKind;

use crate::i18n::Lang;

/// Every text of the report pages.
#[derive(Debug)]
pub struct ReportTr {
    pub nav_reports: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    // The history
    pub filter_kind: &'static str,
    pub all_kinds: &'static str,
    pub filter_scope: &'static str,
    pub all_scopes: &'static str,
    pub city: &'static str,
    pub show: &'static str,
    pub col_report: &'static str,
    pub col_kind: &'static str,
    pub col_period: &'static str,
    pub col_scope: &'static str,
    pub col_produced: &'static str,
    pub col_files: &'static str,
    pub by_schedule: &'static str,
    pub on_demand: &'static str,
    pub empty: &'static str,
    // Producing one
    pub produce_title: &'static str,
    pub produce_hint: &'static str,
    pub produce_day: &'static str,
    pub produce_button: &'static str,
    pub err_not_over: &'static str,
    pub err_invalid: &'static str,
    pub err_scope: &'static str,
    // One report
    pub back: &'static str,
    pub download_xlsx: &'static str,
    pub download_csv: &'static str,
    pub produced_at: &'static str,
    pub previous_period: &'static str,
    pub chart_days: &'static str,
    pub reported: &'static str,
    pub closed: &'static str,
    pub empty_table: &'static str,
}

pub static REPORTS_ZH: ReportTr = ReportTr {
    nav_reports: "报表",
    title: "报表",
    intro: "晨报在每个工作日早上生成，覆盖上一个工作日以来的各天；周报、月报在周期结束后的第一个工作日生成。每份报表生成后不再改变，可随时下载。",
    forbidden: "报表仅向领导、值班长、派遣员和系统管理员开放。",
    not_found: "没有这份报表，或它不在您的辖区内。",
    filter_kind: "类型",
    all_kinds: "全部类型",
    filter_scope: "范围",
    all_scopes: "全部范围",
    city: "全市",
    show: "查询",
    col_report: "报表",
    col_kind: "类型",
    col_period: "统计期间",
    col_scope: "范围",
    col_produced: "生成时间",
    col_files: "下载",
    by_schedule: "按计划生成",
    on_demand: "手动生成",
    empty: "还没有报表。服务器会在工作日早上自动生成。",
    produce_title: "生成报表",
    produce_hint: "选择类型和其中的任意一天：当天、所在的周（周一至周日）或所在的月。只能生成已经结束的期间；已生成的报表不会重复生成。",
    produce_day: "日期",
    produce_button: "生成",
    err_not_over: "该期间还没有结束，只能生成过去的期间。",
    err_invalid: "类型、日期或范围不正确。",
    err_scope: "该范围不在您的辖区内。",
    back: "返回报表列表",
    download_xlsx: "下载 XLSX",
    download_csv: "下载 CSV",
    produced_at: "生成于",
    previous_period: "上期",
    chart_days: "每日上报与结案",
    reported: "上报",
    closed: "结案",
    empty_table: "无",
};

pub static REPORTS_EN: ReportTr = ReportTr {
    nav_reports: "Reports",
    title: "Reports",
    intro: "The daily briefing is produced every working-day morning and covers the days since the previous working day; weekly and monthly reports on the first working day after their period. A report never changes once produced and can be downloaded at any time.",
    forbidden: "Reports are for leaders, duty supervisors, dispatchers and administrators.",
    not_found: "There is no such report, or it lies outside your region.",
    filter_kind: "Kind",
    all_kinds: "All kinds",
    filter_scope: "Scope",
    all_scopes: "All scopes",
    city: "Whole city",
    show: "Show",
    col_report: "Report",
    col_kind: "Kind",
    col_period: "Period",
    col_scope: "Scope",
    col_produced: "Produced",
    col_files: "Download",
    by_schedule: "on schedule",
    on_demand: "on demand",
    empty: "No reports yet. The server produces them on working-day mornings.",
    produce_title: "Produce a report",
    produce_hint: "Choose a kind and any day of its period: that day, its week (Monday to Sunday) or its month. Only periods that are over; a report already kept is not produced again.",
    produce_day: "Day",
    produce_button: "Produce",
    err_not_over: "That period is not over yet: only past periods can be reported.",
    err_invalid: "The kind, the day or the scope is not valid.",
    err_scope: "That scope lies outside your region.",
    back: "Back to the reports",
    download_xlsx: "Download XLSX",
    download_csv: "Download CSV",
    produced_at: "Produced",
    previous_period: "Previous period",
    chart_days: "Reported and closed per day",
    reported: "Reported",
    closed: "Closed",
    empty_table: "None",
};

impl ReportTr {
    /// A kind's name in this language.
    pub fn kind(&self, kind: ReportKind) -> &'static str {
        if std::ptr::eq(self, &REPORTS_ZH) {
            kind.name_zh()
        } else {
            kind.name_en()
        }
    }
}

impl Lang {
    /// The report pages' strings.
    pub fn reports(self) -> &'static ReportTr {
        match self {
            Lang::Zh => &REPORTS_ZH,
            Lang::En => &REPORTS_EN,
        }
    }
}
