//! The strings of the big screen (领导大屏) and of the map's case layer, Chinese first with a
//! complete English translation: both [`SCREEN_ZH`] and [`SCREEN_EN`] fill every field, so a
//! missing string does not compile.
use cityops_domain::calendar::Light;
use cityops_domain::case::{CaseSource, CaseStatus};

use crate::i18n::Lang;

/// Every text of the big screen and the map's case layer.
#[derive(Debug)]
pub struct SliceTr {
    // Navigation and page
    pub nav_screen: &'static str,
    pub screen_title: &'static str,
    pub screen_subtitle: &'static str,
    pub screen_forbidden: &'static str,
    pub back_to_console: &'static str,
    // Tiles
    pub today: &'static str,
    pub today_reported: &'static str,
    pub today_filed: &'static str,
    pub today_dispatched: &'static str,
    pub today_closed: &'static str,
    pub closure_rate: &'static str,
    pub closure_rate_hint: &'static str,
    pub on_time_rate: &'static str,
    pub on_time_rate_hint: &'static str,
    pub window_label: &'static str,
    pub window_reported: &'static str,
    pub cases_unit: &'static str,
    // Panels
    pub overdue_title: &'static str,
    pub overdue_none: &'static str,
    pub overdue_by: &'static str,
    pub col_code: &'static str,
    pub col_category: &'static str,
    pub col_district: &'static str,
    pub col_status: &'static str,
    pub trend_title: &'static str,
    pub by_category_title: &'static str,
    pub by_district_title: &'static str,
    pub by_source_title: &'static str,
    pub map_title: &'static str,
    pub ticker_title: &'static str,
    pub ticker_waiting: &'static str,
    pub reported: &'static str,
    pub closed: &'static str,
    pub uncategorised: &'static str,
    pub unlocated: &'static str,
    pub live_on: &'static str,
    pub live_off: &'static str,
    pub updated_at: &'static str,
    pub days: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
    pub kind_component: &'static str,
    pub kind_matter: &'static str,
    // The map's case layer
    pub cases_layer: &'static str,
    pub heat_layer: &'static str,
    pub case_filters: &'static str,
    pub filter_status: &'static str,
    pub filter_category: &'static str,
    pub filter_source: &'static str,
    pub filter_time: &'static str,
    pub any: &'static str,
    pub status_open: &'static str,
    pub status_closed: &'static str,
    pub status_overdue: &'static str,
    pub time_7: &'static str,
    pub time_30: &'static str,
    pub time_90: &'static str,
    pub time_365: &'static str,
    pub time_all: &'static str,
    pub cases_in_view: &'static str,
    pub cases_zoom_for_points: &'static str,
    pub cases_capped: &'static str,
    pub open_case: &'static str,
    pub light_green: &'static str,
    pub light_yellow: &'static str,
    pub light_red: &'static str,
    pub basemap_configured: &'static str,
}

pub const SCREEN_ZH: SliceTr = SliceTr {
    nav_screen: "指挥大屏",
    screen_title: "城市运行指挥大屏",
    screen_subtitle: "城市运行管理服务平台",
    screen_forbidden: "指挥大屏仅向领导、值班长、派遣员、受理员和管理员开放。",
    back_to_console: "返回工作台",
    today: "今日",
    today_reported: "今日上报",
    today_filed: "今日立案",
    today_dispatched: "今日派遣",
    today_closed: "今日结案",
    closure_rate: "结案率",
    closure_rate_hint: "已结案 ÷（上报 − 作废）",
    on_time_rate: "按期结案率",
    on_time_rate_hint: "按期结案 ÷ 已结案",
    window_label: "近{n}日",
    window_reported: "上报",
    cases_unit: "件",
    overdue_title: "超期案件",
    overdue_none: "当前没有超期案件",
    overdue_by: "超期",
    col_code: "案件编号",
    col_category: "类别",
    col_district: "区域",
    col_status: "状态",
    trend_title: "近30日 上报与结案",
    by_category_title: "案件类别 TOP10",
    by_district_title: "各区案件",
    by_source_title: "案件来源",
    map_title: "案件分布",
    ticker_title: "实时动态",
    ticker_waiting: "等待新的案件动态…",
    reported: "上报",
    closed: "结案",
    uncategorised: "未分类",
    unlocated: "未定位",
    live_on: "实时",
    live_off: "重连中",
    updated_at: "更新于",
    days: "天",
    hours: "小时",
    minutes: "分",
    kind_component: "部件",
    kind_matter: "事件",
    cases_layer: "案件",
    heat_layer: "热力图",
    case_filters: "案件筛选",
    filter_status: "状态",
    filter_category: "类别",
    filter_source: "来源",
    filter_time: "上报时间",
    any: "全部",
    status_open: "办理中",
    status_closed: "已结案",
    status_overdue: "已超期",
    time_7: "近7日",
    time_30: "近30日",
    time_90: "近90日",
    time_365: "近一年",
    time_all: "全部时间",
    cases_in_view: "视野内 {n} 件案件",
    cases_zoom_for_points: "放大到 {z} 级显示单个案件",
    cases_capped: "显示最新 {n} 件（共 {total} 件）",
    open_case: "查看案件",
    light_green: "绿灯",
    light_yellow: "黄灯",
    light_red: "红灯",
    basemap_configured: "底图由本市瓦片服务提供。",
};

pub const SCREEN_EN: SliceTr = SliceTr {
    nav_screen: "Big screen",
    screen_title: "City Operations Command Screen",
    screen_subtitle: "City operations management platform",
    screen_forbidden: "The big screen is for leaders, duty supervisors, dispatchers, intake operators and administrators.",
    back_to_console: "Back to the console",
    today: "Today",
    today_reported: "Reported today",
    today_filed: "Filed today",
    today_dispatched: "Dispatched today",
    today_closed: "Closed today",
    closure_rate: "Closure rate",
    closure_rate_hint: "closed ÷ (reported − cancelled)",
    on_time_rate: "On-time closure rate",
    on_time_rate_hint: "closed on time ÷ closed",
    window_label: "last {n} days",
    window_reported: "reported",
    cases_unit: "cases",
    overdue_title: "Overdue cases",
    overdue_none: "No case is overdue now",
    overdue_by: "Overdue by",
    col_code: "Case",
    col_category: "Category",
    col_district: "District",
    col_status: "Status",
    trend_title: "Last 30 days: reported and closed",
    by_category_title: "Top 10 categories",
    by_district_title: "Cases by district",
    by_source_title: "Cases by source",
    map_title: "Where the cases are",
    ticker_title: "Live",
    ticker_waiting: "Waiting for case changes…",
    reported: "Reported",
    closed: "Closed",
    uncategorised: "Uncategorised",
    unlocated: "Not located",
    live_on: "Live",
    live_off: "Reconnecting",
    updated_at: "Updated",
    days: "d",
    hours: "h",
    minutes: "min",
    kind_component: "Component",
    kind_matter: "Matter",
    cases_layer: "Cases",
    heat_layer: "Heat map",
    case_filters: "Case filters",
    filter_status: "Status",
    filter_category: "Category",
    filter_source: "Source",
    filter_time: "Reported",
    any: "All",
    status_open: "Open",
    status_closed: "Closed",
    status_overdue: "Overdue",
    time_7: "Last 7 days",
    time_30: "Last 30 days",
    time_90: "Last 90 days",
    time_365: "Last year",
    time_all: "Any time",
    cases_in_view: "{n} cases in view",
    cases_zoom_for_points: "Zoom to level {z} for single cases",
    cases_capped: "Showing the newest {n} of {total}",
    open_case: "Open the case",
    light_green: "Green",
    light_yellow: "Yellow",
    light_red: "Red",
    basemap_configured: "Basemap from the city's tile server.",
};

impl Lang {
    /// The big screen's and the case layer's strings.
    pub fn screen(self) -> &'static SliceTr {
        match self {
            Lang::Zh => &SCREEN_ZH,
            Lang::En => &SCREEN_EN,
        }
    }

    /// 案件状态 in this language.
    pub fn case_status(self, s: CaseStatus) -> &'static str {
        // One table of status words for the console: the case pages' (`i18n_cases`).
        self.cases().status(s)
    }

    /// 案件来源 in this language.
    pub fn case_source(self, s: CaseSource) -> &'static str {
        self.cases().source(s)
    }

    /// The light (红黄绿灯) in this language.
    pub fn light(self, l: Light) -> &'static str {
        let t = self.screen();
        match l {
            Light::Green => t.light_green,
            Light::Yellow => t.light_yellow,
            Light::Red => t.light_red,
        }
    }

    /// What an event of the ticker did (`report`, an action, a watcher mark).
    pub fn case_event(self, action: &str) -> String {
        use cityops_domain::case::CaseAction;
        match (self, action) {
            (Lang::Zh, "report") => "新上报".into(),
            (Lang::En, "report") => "Reported".into(),
            (Lang::Zh, "light_yellow") => "亮黄灯".into(),
            (Lang::En, "light_yellow") => "Turned yellow".into(),
            (Lang::Zh, "light_red" | "overdue") => "超期亮红灯".into(),
            (Lang::En, "light_red" | "overdue") => "Overdue (red)".into(),
            (lang, a) => match a.parse::<CaseAction>() {
                Ok(act) if lang == Lang::Zh => act.name_zh().into(),
                Ok(act) => {
                    let s = act.as_str().replace('_', " ");
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
                Err(_) => a.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_source_is_named() {
        for s in CaseStatus::ALL {
            assert!(!Lang::En.case_status(*s).is_empty());
            assert_eq!(Lang::Zh.case_status(*s), s.name_zh());
        }
        for s in CaseSource::ALL {
            assert!(!Lang::En.case_source(*s).is_empty());
        }
        assert_eq!(Lang::Zh.case_event("file"), "立案");
        assert_eq!(Lang::En.case_event("send_check"), "Send check");
        assert_eq!(Lang::Zh.case_event("report"), "新上报");
    }
}
