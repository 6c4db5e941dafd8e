//! Languages of the console: Chinese (zh-CN, the working language) and a complete English
//! translation. Every text of the pages is a field of [`Tr`]; both [`ZH`] and [`EN`] must fill
//! every field, so a missing translation does not compile.
//!
//! `?lang=en` or `?lang=zh` on any console URL selects the language and stores it in the
//! `cityops_lang` cookie; without either, pages are Chinese.
use axum::extract::Request;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cityops_domain::{ComponentStatus, DepartmentKind, LimitUnit, RegionLevel, Role};
use cityops_web::extract::{CookieJar, site_cookie};

/// Name of the language cookie.
pub const LANG_COOKIE: &str = "cityops_lang";

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (default)
    #[default]
    Zh,
    /// English
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }
    /// The value of `?lang=` and of the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    /// The `lang` attribute of `<html>`.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
    pub fn tr(self) -> &'static Tr {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The language of a request: the `?lang=` of this request (see [`remember_lang`]), else the
    /// cookie, else Chinese.
    pub fn of(parts: &Parts) -> Lang {
        if let Some(l) = parts.extensions.get::<Lang>() {
            return *l;
        }
        cookie(&parts.headers, LANG_COOKIE)
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }

    pub fn level(self, level: RegionLevel) -> &'static str {
        match self {
            Lang::Zh => level.name_zh(),
            Lang::En => match level {
                RegionLevel::City => "City",
                RegionLevel::District => "District",
                RegionLevel::Street => "Street/town",
                RegionLevel::Community => "Community/village",
                RegionLevel::Grid => "Unit grid",
            },
        }
    }

    pub fn role(self, role: Role) -> &'static str {
        match self {
            Lang::Zh => role.name_zh(),
            Lang::En => match role {
                Role::Intake => "Intake operator",
                Role::Supervisor => "Shift supervisor",
                Role::Dispatcher => "Dispatcher",
                Role::Handler => "Department handler",
                Role::Inspector => "Inspector",
                Role::Leader => "Leader",
                Role::Citizen => "Citizen",
                Role::ResponsibleParty => "Responsible party",
                Role::Enforcement => "Enforcement officer",
                Role::LegalReviewer => "Legal reviewer",
                Role::Reviewer => "Third-party reviewer",
                Role::Admin => "Administrator",
                Role::Gateway => "Device gateway",
            },
        }
    }

    pub fn department_kind(self, kind: DepartmentKind) -> &'static str {
        match self {
            Lang::Zh => kind.name_zh(),
            Lang::En => match kind {
                DepartmentKind::CommandCentre => "Command centre",
                DepartmentKind::Municipal => "Municipal works",
                DepartmentKind::Landscaping => "Landscaping",
                DepartmentKind::Sanitation => "Sanitation",
                DepartmentKind::Enforcement => "Urban law enforcement",
                DepartmentKind::WaterSupply => "Water supply",
                DepartmentKind::Gas => "Gas",
                DepartmentKind::TrafficPolice => "Traffic police",
                DepartmentKind::Housing => "Housing and construction",
                DepartmentKind::Drainage => "Drainage",
                DepartmentKind::Power => "Power supply",
                DepartmentKind::Telecom => "Telecommunications",
                DepartmentKind::Environment => "Ecology and environment",
                DepartmentKind::StreetOffice => "Street office",
                DepartmentKind::Other => "Other",
            },
        }
    }

    pub fn limit_unit(self, unit: LimitUnit) -> &'static str {
        match self {
            Lang::Zh => unit.name_zh(),
            Lang::En => match unit {
                LimitUnit::UrgentHour => "urgent hours (natural hours)",
                LimitUnit::WorkHour => "working hours",
                LimitUnit::WorkDay => "working days",
                LimitUnit::NaturalDay => "calendar days",
            },
        }
    }

    pub fn component_status(self, status: ComponentStatus) -> &'static str {
        match (self, status) {
            (Lang::Zh, ComponentStatus::Intact) => "完好",
            (Lang::Zh, ComponentStatus::Damaged) => "破损",
            (Lang::Zh, ComponentStatus::Lost) => "丢失",
            (Lang::Zh, ComponentStatus::Abandoned) => "废弃",
            (Lang::Zh, ComponentStatus::Removed) => "移除",
            (Lang::En, ComponentStatus::Intact) => "Intact",
            (Lang::En, ComponentStatus::Damaged) => "Damaged",
            (Lang::En, ComponentStatus::Lost) => "Lost",
            (Lang::En, ComponentStatus::Abandoned) => "Abandoned",
            (Lang::En, ComponentStatus::Removed) => "Removed",
        }
    }

    /// Where a filing standard came from.
    pub fn standard_source(self, source: &str) -> String {
        match (self, source) {
            (Lang::Zh, "yuncheng") => "运城市立案标准（映射至 2026 版代码）".to_string(),
            (Lang::En, "yuncheng") => {
                "Yuncheng filing standard (mapped to the 2026 codes)".to_string()
            }
            (Lang::Zh, "default") => "平台默认标准".to_string(),
            (Lang::En, "default") => "Platform default".to_string(),
            (_, other) => other.to_string(),
        }
    }

    /// "name（code）" / "name (code)".
    pub fn named(self, name: &str, code: &str) -> String {
        match self {
            Lang::Zh => format!("{name}（{code}）"),
            Lang::En => format!("{name} ({code})"),
        }
    }

    /// An area in m², in the unit that suits its size.
    pub fn area(self, m2: f64) -> String {
        if !m2.is_finite() {
            return "—".to_string();
        }
        let (zh_km, zh_m, en_km, en_m) = ("平方公里", "平方米", "km²", "m²");
        if m2 >= 100_000.0 {
            let km2 = m2 / 1_000_000.0;
            let v = if km2 >= 100.0 {
                crate::util::fmt_int(km2.round() as u64)
            } else {
                format!("{km2:.2}")
            };
            match self {
                Lang::Zh => format!("{v} {zh_km}"),
                Lang::En => format!("{v} {en_km}"),
            }
        } else {
            let v = crate::util::fmt_int(m2.round() as u64);
            match self {
                Lang::Zh => format!("{v} {zh_m}"),
                Lang::En => format!("{v} {en_m}"),
            }
        }
    }
}

/// Reads one cookie of a request (the API's reader: axum-extra's `CookieJar`).
pub(crate) use cityops_web::extract::cookie_value as cookie;

/// Middleware: `?lang=en|zh` selects the language of this request and is remembered in a cookie.
pub async fn remember_lang(mut req: Request, next: Next) -> Response {
    let chosen = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    });
    if let Some(lang) = chosen {
        req.extensions_mut().insert(lang);
    }
    let resp = next.run(req).await;
    match chosen {
        // Remembered for a year; readable by the page (not HttpOnly), not a secret (not Secure).
        Some(lang) => {
            let remembered = site_cookie(
                LANG_COOKIE,
                lang.code().to_string(),
                365 * 24 * 3600,
                false,
                false,
            );
            (CookieJar::new().add(remembered), resp).into_response()
        }
        None => resp,
    }
}

/// Every text of the console in one language.
#[derive(Debug)]
pub struct Tr {
    // Layout
    pub platform: &'static str,
    pub platform_short: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    pub nav_overview: &'static str,
    pub nav_map: &'static str,
    pub nav_group_base: &'static str,
    pub nav_regions: &'static str,
    pub nav_components: &'static str,
    pub nav_catalogue: &'static str,
    pub nav_group_admin: &'static str,
    pub nav_org: &'static str,
    pub lang_switch: &'static str,
    pub lang_switch_label: &'static str,
    pub logout: &'static str,
    pub signed_in_as: &'static str,
    pub footer: &'static str,
    // Common
    pub code: &'static str,
    pub name: &'static str,
    pub level: &'static str,
    pub all: &'static str,
    pub none: &'static str,
    pub empty: &'static str,
    pub apply: &'static str,
    pub reset: &'static str,
    pub prev: &'static str,
    pub next: &'static str,
    pub go_to_page: &'static str,
    pub go: &'static str,
    pub pagination: &'static str,
    pub view_on_map: &'static str,
    pub details: &'static str,
    pub actions: &'static str,
    pub whole_city: &'static str,
    pub filters: &'static str,
    // Login
    pub login_title: &'static str,
    pub login_tagline: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    /// The login form's "remember me" checkbox (the session cookie outlives the browser).
    pub remember_me: &'static str,
    pub login_submit: &'static str,
    pub logging_in: &'static str,
    pub err_invalid_credentials: &'static str,
    pub err_rate_limited: &'static str,
    pub err_network: &'static str,
    pub err_login_generic: &'static str,
    pub err_required: &'static str,
    pub noscript_login: &'static str,
    pub demo_hint: &'static str,
    pub login_features: [&'static str; 3],
    // Overview
    pub overview_title: &'static str,
    pub overview_intro: &'static str,
    pub kpi_districts: &'static str,
    pub kpi_streets: &'static str,
    pub kpi_communities: &'static str,
    pub kpi_grids: &'static str,
    pub kpi_components: &'static str,
    pub kpi_categories: &'static str,
    pub kpi_departments: &'static str,
    pub kpi_users: &'static str,
    pub districts_table_title: &'static str,
    pub col_district: &'static str,
    pub col_streets: &'static str,
    pub col_communities: &'static str,
    pub col_grids: &'static str,
    pub col_area: &'static str,
    pub col_boundary: &'static str,
    pub total_row: &'static str,
    pub data_note_title: &'static str,
    pub data_note_official: &'static str,
    pub data_note_synthetic: &'static str,
    pub data_note_coords: &'static str,
    pub quick_links: &'static str,
    pub my_account: &'static str,
    pub scope_label: &'static str,
    pub department_label: &'static str,
    pub roles_label: &'static str,
    pub city_map_title: &'static str,
    // Map
    pub map_title: &'static str,
    pub layers: &'static str,
    pub layer_districts: &'static str,
    pub layer_streets: &'static str,
    pub layer_communities: &'static str,
    pub layer_grids: &'static str,
    pub layer_components: &'static str,
    pub zoom_from: &'static str,
    pub locate_title: &'static str,
    pub locate_hint: &'static str,
    pub outside_city: &'static str,
    pub locate_failed: &'static str,
    pub loading: &'static str,
    pub lng: &'static str,
    pub lat: &'static str,
    pub zoom: &'static str,
    pub components_shown: &'static str,
    pub components_zoom_in: &'static str,
    pub no_grid_here: &'static str,
    pub map_no_basemap: &'static str,
    pub region_label: &'static str,
    pub legend: &'static str,
    pub open_region: &'static str,
    pub component_label: &'static str,
    // Regions
    pub regions_title: &'static str,
    pub search_label: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub results_title: &'static str,
    pub no_results: &'static str,
    pub tree_title: &'static str,
    pub tree_hint: &'static str,
    pub col_children: &'static str,
    pub col_parent: &'static str,
    pub area: &'static str,
    pub center: &'static str,
    pub extent: &'static str,
    pub parent: &'static str,
    pub boundary: &'static str,
    pub boundary_official: &'static str,
    pub boundary_synthetic: &'static str,
    pub boundary_none: &'static str,
    pub children_title: &'static str,
    pub components_in_grid: &'static str,
    pub region_not_found: &'static str,
    pub grid_count: &'static str,
    pub region_info: &'static str,
    pub region_map: &'static str,
    pub breadcrumb: &'static str,
    // Catalogue
    pub catalogue_title: &'static str,
    pub catalogue_intro: &'static str,
    pub tab_components: &'static str,
    pub tab_matters: &'static str,
    pub class_label: &'static str,
    pub col_class: &'static str,
    pub col_old_code: &'static str,
    pub kind_label: &'static str,
    pub kind_component: &'static str,
    pub kind_matter: &'static str,
    pub standard_title: &'static str,
    pub col_seq: &'static str,
    pub col_filing_condition: &'static str,
    pub col_limit: &'static str,
    pub col_closure: &'static str,
    pub col_source: &'static str,
    pub no_standards: &'static str,
    pub components_of_category: &'static str,
    pub category_not_found: &'static str,
    pub limit_rule_note: &'static str,
    // Components
    pub components_title: &'static str,
    pub filter_category: &'static str,
    pub filter_grid: &'static str,
    pub filter_grid_placeholder: &'static str,
    pub filter_department: &'static str,
    pub col_id: &'static str,
    pub col_category: &'static str,
    pub col_grid: &'static str,
    pub col_owner: &'static str,
    pub col_maintainer: &'static str,
    pub col_status: &'static str,
    pub col_surveyed: &'static str,
    pub col_location: &'static str,
    pub invalid_grid: &'static str,
    pub invalid_category: &'static str,
    // Organisation
    pub org_title: &'static str,
    pub tab_departments: &'static str,
    pub tab_users: &'static str,
    pub col_kind: &'static str,
    pub col_region: &'static str,
    pub col_parent_dept: &'static str,
    pub filter_region: &'static str,
    pub col_username: &'static str,
    pub col_display_name: &'static str,
    pub col_roles: &'static str,
    pub col_department: &'static str,
    pub col_scope: &'static str,
    pub col_grids_assigned: &'static str,
    pub col_active: &'static str,
    pub active: &'static str,
    pub inactive: &'static str,
    pub filter_role: &'static str,
    pub admin_only: &'static str,
    // Change history of the responsibility matrix and the calendar
    pub nav_versions: &'static str,
    pub versions_title: &'static str,
    pub versions_intro: &'static str,
    pub tab_routing_versions: &'static str,
    pub tab_calendar_versions: &'static str,
    pub col_version: &'static str,
    pub col_changed_at: &'static str,
    pub col_changed_by: &'static str,
    pub col_summary: &'static str,
    pub col_items: &'static str,
    pub col_restored_from: &'static str,
    pub col_action: &'static str,
    pub system_actor: &'static str,
    pub current_version: &'static str,
    pub restore: &'static str,
    pub confirm_empty_matrix: &'static str,
    pub restored_notice: &'static str,
    pub error_empty_matrix: &'static str,
    pub error_restore_failed: &'static str,
    pub forbidden_versions: &'static str,
    pub no_such_version: &'static str,
    // Errors
    pub forbidden_title: &'static str,
    pub forbidden_users: &'static str,
    pub not_found_title: &'static str,
    pub error_title: &'static str,
    pub error_text: &'static str,
    pub bad_request_title: &'static str,
    pub back_home: &'static str,
}

impl Tr {
    /// "共 N 条" / "N items".
    pub fn total_items(&self, n: impl std::fmt::Display) -> String {
        if std::ptr::eq(self, &ZH) {
            format!("共 {n} 条")
        } else {
            format!("{n} items")
        }
    }
    /// "第 a–b 条，共 N 条" / "a–b of N".
    pub fn rows_of(
        &self,
        a: impl std::fmt::Display,
        b: impl std::fmt::Display,
        n: impl std::fmt::Display,
    ) -> String {
        if std::ptr::eq(self, &ZH) {
            format!("第 {a}–{b} 条，共 {n} 条")
        } else {
            format!("{a}–{b} of {n}")
        }
    }
    /// "第 p / n 页" / "Page p of n".
    pub fn page_of(&self, p: impl std::fmt::Display, n: impl std::fmt::Display) -> String {
        if std::ptr::eq(self, &ZH) {
            format!("第 {p} / {n} 页")
        } else {
            format!("Page {p} of {n}")
        }
    }
    /// The "zoom in from level z" hint of a map layer.
    pub fn from_zoom(&self, z: impl std::fmt::Display) -> String {
        if std::ptr::eq(self, &ZH) {
            format!("{z} 级起显示")
        } else {
            format!("from zoom {z}")
        }
    }
}

/// 简体中文
pub static ZH: Tr = Tr {
    platform: "城市运行管理服务平台",
    platform_short: "运管服平台",
    skip_to_content: "跳到正文",
    nav_label: "主导航",
    nav_overview: "工作台",
    nav_map: "地图",
    nav_group_base: "基础数据",
    nav_regions: "区域",
    nav_components: "部件",
    nav_catalogue: "目录",
    nav_group_admin: "管理",
    nav_org: "组织机构",
    lang_switch: "English",
    lang_switch_label: "切换为英文界面",
    logout: "退出",
    signed_in_as: "当前用户",
    footer: "CityOps 城市运行管理服务平台 · 开源软件 (Apache-2.0)",
    code: "代码",
    name: "名称",
    level: "级别",
    all: "全部",
    none: "无",
    empty: "暂无数据",
    apply: "查询",
    reset: "重置",
    prev: "上一页",
    next: "下一页",
    go_to_page: "跳至页码",
    go: "跳转",
    pagination: "分页",
    view_on_map: "地图",
    details: "详情",
    actions: "操作",
    whole_city: "全市",
    filters: "筛选条件",
    login_title: "登录",
    login_tagline: "发现、立案、派遣、处置、核查、结案、评价 —— 城市公共空间问题的闭环管理",
    username: "用户名",
    password: "密码",
    remember_me: "记住我（在此设备上保持登录）",
    login_submit: "登录",
    logging_in: "正在登录…",
    err_invalid_credentials: "用户名或密码错误。",
    err_rate_limited: "尝试次数过多，请稍后再试。",
    err_network: "无法连接服务器，请检查网络后重试。",
    err_login_generic: "登录失败：",
    err_required: "请填写用户名和密码。",
    noscript_login: "登录需要启用浏览器的 JavaScript。",
    demo_hint: "演示环境：账号 admin、intake、supervisor、dispatcher、leader、inspector1 等，密码均为 cityops-demo。",
    login_features: [
        "市、区、街道三级，一网统管",
        "单元网格与部件精确定位",
        "立案、处置、结案标准统一",
    ],
    overview_title: "工作台",
    overview_intro: "您的待办案件在前，其后是本市基础数据：区域、单元网格、部件、部门与用户。",
    kpi_districts: "区县",
    kpi_streets: "街道（乡镇）",
    kpi_communities: "社区（村）",
    kpi_grids: "单元网格",
    kpi_components: "部件",
    kpi_categories: "部件事项分类",
    kpi_departments: "部门",
    kpi_users: "用户",
    districts_table_title: "各区县基础数据",
    col_district: "区县",
    col_streets: "街道",
    col_communities: "社区",
    col_grids: "单元网格",
    col_area: "面积",
    col_boundary: "边界",
    total_row: "合计",
    data_note_title: "数据说明",
    data_note_official: "区县边界为官方行政区划边界（由 GCJ-02 转换为 WGS84）。",
    data_note_synthetic: "街道、社区与单元网格边界为本平台按规则生成的示意边界，并非官方边界；导入正式网格数据后即被替换。",
    data_note_coords: "坐标统一以 WGS84/CGCS2000 存储。",
    quick_links: "常用入口",
    my_account: "我的账号",
    scope_label: "数据范围",
    department_label: "所属部门",
    roles_label: "角色",
    city_map_title: "区县分布",
    map_title: "地图",
    layers: "图层",
    layer_districts: "区县边界",
    layer_streets: "街道边界",
    layer_communities: "社区边界",
    layer_grids: "单元网格",
    layer_components: "部件",
    zoom_from: "级起显示",
    locate_title: "点位查询",
    locate_hint: "点击地图任意位置，查询该点所在的单元网格、社区、街道和区县。",
    outside_city: "该点位于本市范围之外。",
    locate_failed: "查询失败，请重试。",
    loading: "加载中…",
    lng: "经度",
    lat: "纬度",
    zoom: "缩放级别",
    components_shown: "显示 {n} / 共 {total} 个部件",
    components_zoom_in: "放大至 16 级以显示部件",
    no_grid_here: "不在单元网格内",
    map_no_basemap: "无底图 · WGS84",
    region_label: "所在区域",
    legend: "图例",
    open_region: "查看区域详情",
    component_label: "部件",
    regions_title: "区域",
    search_label: "名称或代码",
    search_placeholder: "例如 桥东 或 441302001",
    search: "搜索",
    results_title: "搜索结果",
    no_results: "没有找到匹配的区域。",
    tree_title: "区划树",
    tree_hint: "市 → 区县 → 街道（乡镇）→ 社区（村）；点击名称查看详情与地图。",
    col_children: "下级数",
    col_parent: "上级",
    area: "面积",
    center: "中心点",
    extent: "范围",
    parent: "上级区域",
    boundary: "边界",
    boundary_official: "官方边界",
    boundary_synthetic: "示意边界（按规则生成，非官方）",
    boundary_none: "无边界数据",
    children_title: "下级区域",
    components_in_grid: "网格内部件",
    region_not_found: "没有该代码的区域。",
    grid_count: "单元网格数",
    region_info: "基本信息",
    region_map: "区域地图",
    breadcrumb: "位置",
    catalogue_title: "部件事项目录",
    catalogue_intro: "管理部件与管理事项分类（GB/T 47678.5-2026），及各小类的立案条件、处置时限和结案条件。",
    tab_components: "部件",
    tab_matters: "事项",
    class_label: "大类",
    col_class: "大类",
    col_old_code: "原代码（GB/T 30428.2-2013）",
    kind_label: "类型",
    kind_component: "管理部件",
    kind_matter: "管理事项",
    standard_title: "立案、处置与结案标准",
    col_seq: "序号",
    col_filing_condition: "立案条件",
    col_limit: "处置时限",
    col_closure: "结案条件",
    col_source: "来源",
    no_standards: "该小类暂无立案标准。",
    components_of_category: "本类部件",
    category_not_found: "没有该代码的分类。",
    limit_rule_note: "紧急工作时、自然日按自然时间连续计算；工作时、工作日按工作日历计算（节假日顺延）。",
    components_title: "部件",
    filter_category: "类别",
    filter_grid: "单元网格代码",
    filter_grid_placeholder: "15 位代码",
    filter_department: "权属或养护单位",
    col_id: "标识码",
    col_category: "类别",
    col_grid: "单元网格",
    col_owner: "权属单位",
    col_maintainer: "养护单位",
    col_status: "状态",
    col_surveyed: "普查日期",
    col_location: "位置",
    invalid_grid: "单元网格代码应为 15 位数字。",
    invalid_category: "类别代码应为 5 位小类或 2 位大类代码。",
    org_title: "组织机构",
    tab_departments: "部门",
    tab_users: "用户",
    col_kind: "类型",
    col_region: "辖区",
    col_parent_dept: "上级部门",
    filter_region: "辖区",
    col_username: "用户名",
    col_display_name: "姓名",
    col_roles: "角色",
    col_department: "部门",
    col_scope: "数据范围",
    col_grids_assigned: "责任网格",
    col_active: "状态",
    active: "启用",
    inactive: "停用",
    filter_role: "角色",
    admin_only: "仅管理员",
    nav_versions: "变更记录",
    versions_title: "配置变更记录",
    versions_intro: "权责清单与工作日历的每次修改都保存为一个完整版本（谁、何时、改了什么），可随时恢复；恢复本身也记为新版本。",
    tab_routing_versions: "权责清单",
    tab_calendar_versions: "工作日历",
    col_version: "版本",
    col_changed_at: "时间",
    col_changed_by: "操作人",
    col_summary: "说明",
    col_items: "条目数",
    col_restored_from: "恢复自",
    col_action: "操作",
    system_actor: "系统",
    current_version: "当前版本",
    restore: "恢复此版本",
    confirm_empty_matrix: "确认清空权责清单",
    restored_notice: "已恢复，并保存为新版本",
    error_empty_matrix: "该版本的权责清单为空：请勾选“确认清空权责清单”后再恢复。",
    error_restore_failed: "无法恢复该版本：其中引用的部门已不存在或数据无效。",
    forbidden_versions: "配置变更记录仅对管理员开放。",
    no_such_version: "没有这个版本。",
    forbidden_title: "无权访问",
    forbidden_users: "用户列表仅对管理员开放。如需查看，请联系平台管理员。",
    not_found_title: "未找到",
    error_title: "服务器错误",
    error_text: "服务器处理请求时出错，请稍后重试。",
    bad_request_title: "查询条件有误",
    back_home: "返回工作台",
};

/// English
pub static EN: Tr = Tr {
    platform: "City Operation Management Service Platform",
    platform_short: "City Operations",
    skip_to_content: "Skip to content",
    nav_label: "Main navigation",
    nav_overview: "Overview",
    nav_map: "Map",
    nav_group_base: "Base data",
    nav_regions: "Regions",
    nav_components: "Components",
    nav_catalogue: "Catalogue",
    nav_group_admin: "Administration",
    nav_org: "Organisation",
    lang_switch: "中文",
    lang_switch_label: "Switch to Chinese",
    logout: "Log out",
    signed_in_as: "Signed in as",
    footer: "CityOps City Operation Management Service Platform · open source (Apache-2.0)",
    code: "Code",
    name: "Name",
    level: "Level",
    all: "All",
    none: "None",
    empty: "No data",
    apply: "Apply",
    reset: "Reset",
    prev: "Previous",
    next: "Next",
    go_to_page: "Go to page",
    go: "Go",
    pagination: "Pagination",
    view_on_map: "Map",
    details: "Details",
    actions: "Actions",
    whole_city: "Whole city",
    filters: "Filters",
    login_title: "Log in",
    login_tagline: "Report, file, dispatch, handle, check, close and evaluate — closing the loop on every problem in the city's public space",
    username: "Username",
    password: "Password",
    remember_me: "Remember me on this device",
    login_submit: "Log in",
    logging_in: "Logging in…",
    err_invalid_credentials: "Wrong username or password.",
    err_rate_limited: "Too many attempts; please try again later.",
    err_network: "The server cannot be reached; check the network and try again.",
    err_login_generic: "Login failed: ",
    err_required: "Enter your username and password.",
    noscript_login: "Logging in needs JavaScript enabled in the browser.",
    demo_hint: "Demo: accounts admin, intake, supervisor, dispatcher, leader, inspector1 …, all with the password cityops-demo.",
    login_features: [
        "City, district and street levels in one system",
        "Unit grids and components located precisely",
        "One standard for filing, handling and closing",
    ],
    overview_title: "Overview",
    overview_intro: "Your work queues first, then the city's base data: regions, unit grids, components, departments and users.",
    kpi_districts: "Districts",
    kpi_streets: "Streets and towns",
    kpi_communities: "Communities and villages",
    kpi_grids: "Unit grids",
    kpi_components: "Components",
    kpi_categories: "Categories",
    kpi_departments: "Departments",
    kpi_users: "Users",
    districts_table_title: "Base data by district",
    col_district: "District",
    col_streets: "Streets",
    col_communities: "Communities",
    col_grids: "Unit grids",
    col_area: "Area",
    col_boundary: "Boundary",
    total_row: "Total",
    data_note_title: "About the data",
    data_note_official: "District boundaries are the official administrative boundaries (converted from GCJ-02 to WGS84).",
    data_note_synthetic: "Street, community and unit-grid boundaries are synthetic: derived by CityOps by rule, not official. Importing official grid data replaces them.",
    data_note_coords: "Coordinates are stored in WGS84/CGCS2000.",
    quick_links: "Shortcuts",
    my_account: "My account",
    scope_label: "Data scope",
    department_label: "Department",
    roles_label: "Roles",
    city_map_title: "Districts of the city",
    map_title: "Map",
    layers: "Layers",
    layer_districts: "District boundaries",
    layer_streets: "Street boundaries",
    layer_communities: "Community boundaries",
    layer_grids: "Unit grids",
    layer_components: "Components",
    zoom_from: "from zoom",
    locate_title: "Point lookup",
    locate_hint: "Click anywhere on the map to find the unit grid, community, street and district of that point.",
    outside_city: "This point lies outside the city.",
    locate_failed: "The lookup failed; please try again.",
    loading: "Loading…",
    lng: "Longitude",
    lat: "Latitude",
    zoom: "Zoom",
    components_shown: "Showing {n} of {total} components",
    components_zoom_in: "Zoom in to level 16 to see components",
    no_grid_here: "Not inside a unit grid",
    map_no_basemap: "No basemap · WGS84",
    region_label: "Regions here",
    legend: "Legend",
    open_region: "Open region",
    component_label: "Component",
    regions_title: "Regions",
    search_label: "Name or code",
    search_placeholder: "e.g. 桥东 or 441302001",
    search: "Search",
    results_title: "Results",
    no_results: "No region matches.",
    tree_title: "Region tree",
    tree_hint: "City → district → street/town → community/village; click a name for its details and map.",
    col_children: "Children",
    col_parent: "Parent",
    area: "Area",
    center: "Centre point",
    extent: "Extent",
    parent: "Parent region",
    boundary: "Boundary",
    boundary_official: "Official boundary",
    boundary_synthetic: "Synthetic (derived by rule, not official)",
    boundary_none: "No boundary data",
    children_title: "Sub-regions",
    components_in_grid: "Components in this grid",
    region_not_found: "There is no region with this code.",
    grid_count: "Unit grids",
    region_info: "Details",
    region_map: "Map of the region",
    breadcrumb: "Breadcrumb",
    catalogue_title: "Component and matter catalogue",
    catalogue_intro: "The categories of managed components and matters (GB/T 47678.5-2026) with each subclass's filing conditions, handling time limits and closure conditions.",
    tab_components: "Components",
    tab_matters: "Matters",
    class_label: "Class",
    col_class: "Class",
    col_old_code: "Former code (GB/T 30428.2-2013)",
    kind_label: "Kind",
    kind_component: "Managed component",
    kind_matter: "Managed matter",
    standard_title: "Filing, handling and closure standard",
    col_seq: "No.",
    col_filing_condition: "Filing condition",
    col_limit: "Handling time limit",
    col_closure: "Closure condition",
    col_source: "Source",
    no_standards: "This subclass has no filing standard yet.",
    components_of_category: "Components of this category",
    category_not_found: "There is no category with this code.",
    limit_rule_note: "Urgent hours and calendar days run continuously; working hours and working days follow the working calendar (holidays are skipped).",
    components_title: "Components",
    filter_category: "Category",
    filter_grid: "Unit grid code",
    filter_grid_placeholder: "15 digits",
    filter_department: "Owner or maintainer",
    col_id: "ID",
    col_category: "Category",
    col_grid: "Unit grid",
    col_owner: "Owner",
    col_maintainer: "Maintainer",
    col_status: "Status",
    col_surveyed: "Surveyed on",
    col_location: "Location",
    invalid_grid: "A unit grid code has 15 digits.",
    invalid_category: "A category code has 5 digits (subclass) or 2 digits (class).",
    org_title: "Organisation",
    tab_departments: "Departments",
    tab_users: "Users",
    col_kind: "Kind",
    col_region: "Area of responsibility",
    col_parent_dept: "Parent department",
    filter_region: "Area",
    col_username: "Username",
    col_display_name: "Name",
    col_roles: "Roles",
    col_department: "Department",
    col_scope: "Data scope",
    col_grids_assigned: "Assigned grids",
    col_active: "Status",
    active: "Active",
    inactive: "Disabled",
    filter_role: "Role",
    admin_only: "Administrators only",
    nav_versions: "Change history",
    versions_title: "Configuration change history",
    versions_intro: "Every change of the responsibility matrix and of the working calendar is kept as a complete version (who, when, what) and can be restored; a restore is itself kept as a new version.",
    tab_routing_versions: "Responsibility matrix",
    tab_calendar_versions: "Working calendar",
    col_version: "Version",
    col_changed_at: "When",
    col_changed_by: "By",
    col_summary: "Summary",
    col_items: "Entries",
    col_restored_from: "Restored from",
    col_action: "Action",
    system_actor: "System",
    current_version: "Current version",
    restore: "Restore this version",
    confirm_empty_matrix: "Yes, empty the responsibility matrix",
    restored_notice: "Restored, and kept as a new version",
    error_empty_matrix: "This version of the responsibility matrix is empty: tick “Yes, empty the responsibility matrix” to restore it.",
    error_restore_failed: "This version cannot be restored: a department it names no longer exists, or its data is invalid.",
    forbidden_versions: "The change history is for administrators only.",
    no_such_version: "There is no such version.",
    forbidden_title: "Access denied",
    forbidden_users: "Only administrators may see the user list. Ask your platform administrator if you need it.",
    not_found_title: "Not found",
    error_title: "Server error",
    error_text: "The server failed to handle the request; please try again later.",
    bad_request_title: "Invalid filter",
    back_home: "Back to the overview",
};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    #[test]
    fn parses_and_reads_cookies() {
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cityops_lang=en"),
        );
        assert_eq!(cookie(&h, LANG_COOKIE).as_deref(), Some("en"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn formatted_texts_follow_the_language() {
        assert_eq!(Lang::Zh.tr().total_items("1,000"), "共 1,000 条");
        assert_eq!(Lang::En.tr().total_items("1,000"), "1,000 items");
        assert_eq!(Lang::En.tr().page_of(2, 9), "Page 2 of 9");
        assert_eq!(Lang::Zh.area(2_500_000.0), "2.50 平方公里");
        assert_eq!(Lang::En.area(12_345.4), "12,345 m²");
        assert_eq!(Lang::En.area(1_234_000_000.0), "1,234 km²");
        assert_eq!(Lang::En.level(RegionLevel::Grid), "Unit grid");
        assert_eq!(Lang::Zh.role(Role::Admin), "管理员");
    }

    #[test]
    fn translations_differ_where_they_should() {
        // A field left in the wrong language is a likely copy-paste slip: the platform names and
        // navigation must differ between the two languages.
        assert_ne!(ZH.platform, EN.platform);
        assert_ne!(ZH.nav_overview, EN.nav_overview);
        assert!(EN.nav_overview.is_ascii());
        assert!(EN.forbidden_users.is_ascii());
    }
}
