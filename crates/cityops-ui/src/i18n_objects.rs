//! The strings of the 一码管全域 pages (management objects: the console's object list, object
//! page, label sheets, 双保险 discrepancies and 小事不出责任区 statistics; the phone's 码上办 scan
//! page with its self-check and inspection forms), Chinese first with a complete English
//! translation: both [`OBJECTS_ZH`] and [`OBJECTS_EN`] fill every field, so a missing string does
//! not compile. Names of kinds and ladder stages come from the domain in Chinese and from here in
//! English; checklist item texts exist in Chinese only (the checklist data has no translation),
//! their categories in both.
use cityops_domain::objects::{CheckKind, DiscrepancyKind, ObjectKind, RectStage};

use crate::i18n::Lang;

/// Every text of the management-object pages.
#[derive(Debug)]
pub struct ObjectsTr {
    // Navigation
    pub nav_group: &'static str,
    pub nav_objects: &'static str,
    pub nav_discrepancies: &'static str,
    pub nav_stats: &'static str,
    // Refusals
    pub forbidden: &'static str,
    pub forbidden_supervisors: &'static str,
    pub not_found: &'static str,
    // The list
    pub list_title: &'static str,
    pub list_intro: &'static str,
    pub f_kind: &'static str,
    pub f_street: &'static str,
    pub f_q: &'static str,
    pub f_q_ph: &'static str,
    pub all_kinds: &'static str,
    pub all_streets: &'static str,
    pub err_street: &'static str,
    pub results: &'static str,
    pub col_code: &'static str,
    pub col_name: &'static str,
    pub col_kind: &'static str,
    pub col_address: &'static str,
    pub col_street: &'static str,
    pub col_party: &'static str,
    pub col_label: &'static str,
    pub print_labels: &'static str,
    pub print_labels_hint: &'static str,
    pub map_title: &'static str,
    pub map_hint: &'static str,
    pub map_capped: &'static str,
    pub label_svg: &'static str,
    // The object page
    pub object_title: &'static str,
    pub back_to_list: &'static str,
    pub card_title: &'static str,
    pub f_code: &'static str,
    pub f_name: &'static str,
    pub f_address: &'static str,
    pub f_regions: &'static str,
    pub f_department: &'static str,
    pub f_party: &'static str,
    pub f_party_account: &'static str,
    pub f_zone: &'static str,
    pub f_position: &'static str,
    pub zone_area: &'static str,
    pub zone_none: &'static str,
    pub zone_map_title: &'static str,
    pub zone_legend: &'static str,
    pub object_point: &'static str,
    pub label_title: &'static str,
    pub label_alt: &'static str,
    pub label_download: &'static str,
    pub scan_page: &'static str,
    pub credibility_title: &'static str,
    pub credibility_none: &'static str,
    pub credibility_hint: &'static str,
    pub latest_self_check: &'static str,
    pub latest_inspection: &'static str,
    pub no_check: &'static str,
    pub check_summary: &'static str,
    pub by: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub position_far: &'static str,
    pub position_near: &'static str,
    pub position_unknown: &'static str,
    pub checks_title: &'static str,
    pub checks_none: &'static str,
    pub col_at: &'static str,
    pub col_check_kind: &'static str,
    pub col_by: &'static str,
    pub col_result: &'static str,
    pub col_position: &'static str,
    pub col_failing: &'static str,
    pub photos: &'static str,
    pub discrepancies_title: &'static str,
    pub discrepancies_none: &'static str,
    pub compared_with: &'static str,
    pub no_self_check: &'static str,
    pub rect_title: &'static str,
    pub rect_none: &'static str,
    pub col_item: &'static str,
    pub col_stage: &'static str,
    pub col_opened: &'static str,
    pub col_due: &'static str,
    pub col_notices: &'static str,
    pub col_case: &'static str,
    pub col_source: &'static str,
    pub notice_line: &'static str,
    pub no_notice: &'static str,
    pub due_now: &'static str,
    pub overdue: &'static str,
    pub case_link: &'static str,
    pub case_pending: &'static str,
    pub rectified_at: &'static str,
    pub legal_basis: &'static str,
    pub unscheduled: &'static str,
    // Discrepancies (per street)
    pub disc_title: &'static str,
    pub disc_intro: &'static str,
    pub f_disc_kind: &'static str,
    pub all_disc_kinds: &'static str,
    pub col_object: &'static str,
    pub col_self_check_at: &'static str,
    pub per_street: &'static str,
    pub col_count: &'static str,
    pub disc_none: &'static str,
    // Statistics
    pub stats_title: &'static str,
    pub stats_intro: &'static str,
    pub f_from: &'static str,
    pub f_to: &'static str,
    pub err_period: &'static str,
    pub col_before_notice: &'static str,
    pub col_notice1: &'static str,
    pub col_notice2: &'static str,
    pub col_notice3: &'static str,
    pub col_enforcement: &'static str,
    pub col_closed: &'static str,
    pub col_open: &'static str,
    pub col_in_enforcement: &'static str,
    pub col_rate: &'static str,
    pub total: &'static str,
    pub no_street: &'static str,
    pub stats_none: &'static str,
    pub rate_hint: &'static str,
    // Label sheets
    pub sheets_title: &'static str,
    pub sheets_intro: &'static str,
    pub sheets_count: &'static str,
    pub sheets_capped: &'static str,
    pub print: &'static str,
    pub sheets_none: &'static str,
    // The phone's scan page (码上办)
    pub m_title: &'static str,
    pub m_card: &'static str,
    pub m_latest: &'static str,
    pub m_latest_none: &'static str,
    pub m_open_title: &'static str,
    pub m_open_none: &'static str,
    pub m_login_hint: &'static str,
    pub m_login: &'static str,
    pub m_no_action: &'static str,
    pub m_self_title: &'static str,
    pub m_self_intro: &'static str,
    pub m_insp_title: &'static str,
    pub m_insp_intro: &'static str,
    pub m_note: &'static str,
    pub m_photo: &'static str,
    pub m_photo_required: &'static str,
    pub m_photo_needs_js: &'static str,
    pub m_uploading: &'static str,
    pub m_upload_failed: &'static str,
    pub m_need_photo: &'static str,
    pub m_locating: &'static str,
    pub m_located: &'static str,
    pub m_locate_failed: &'static str,
    pub m_locate_again: &'static str,
    pub m_submit_self: &'static str,
    pub m_submit_insp: &'static str,
    pub m_failed: &'static str,
    pub m_done_self: &'static str,
    pub m_done_insp: &'static str,
    pub m_done_counts: &'static str,
    pub m_far: &'static str,
    pub m_near: &'static str,
    pub m_found: &'static str,
    pub m_opened: &'static str,
    pub m_closed: &'static str,
    pub m_credibility: &'static str,
    pub m_no_items: &'static str,
    pub m_item_count: &'static str,
}

/// 中文.
pub static OBJECTS_ZH: ObjectsTr = ObjectsTr {
    nav_group: "一码管全域",
    nav_objects: "管理对象",
    nav_discrepancies: "双保险比对",
    nav_stats: "分阶段办结",
    forbidden: "管理对象只对工作人员和对象的责任人开放。",
    forbidden_supervisors: "此页面供值班长、领导和管理员查看。",
    not_found: "没有这个管理对象，或它不在你的管辖范围内。",
    list_title: "管理对象",
    list_intro: "沿街商铺、住宅小区、商业综合体、学校、工地等固定管理对象的赋码台账：每个对象一个永久编码和二维码，责任人扫码自查，巡查人员扫码核验。",
    f_kind: "对象类型",
    f_street: "所在街道",
    f_q: "编码、名称或地址",
    f_q_ph: "例如：肠粉 或 441302",
    all_kinds: "全部类型",
    all_streets: "全部街道",
    err_street: "街道须为 9 位街道代码。",
    results: "对象列表",
    col_code: "对象编码",
    col_name: "名称",
    col_kind: "类型",
    col_address: "地址",
    col_street: "街道",
    col_party: "责任人",
    col_label: "标牌",
    print_labels: "打印二维码标牌",
    print_labels_hint: "按当前筛选条件生成 A4 标牌页（每页 9 张）",
    map_title: "对象分布",
    map_hint: "本页对象的位置（演示数据为示意位置）；点击查看对象。",
    map_capped: "地图只显示本页的对象。",
    label_svg: "SVG",
    object_title: "管理对象",
    back_to_list: "管理对象",
    card_title: "对象信息",
    f_code: "对象编码",
    f_name: "名称",
    f_address: "地址",
    f_regions: "所在区域",
    f_department: "主管部门",
    f_party: "责任人",
    f_party_account: "已关联账号",
    f_zone: "门前三包责任区",
    f_position: "位置",
    zone_area: "约 {n} 平方米",
    zone_none: "未划定",
    zone_map_title: "责任区",
    zone_legend: "蓝色区域为门前三包责任区，圆点为对象位置。",
    object_point: "对象位置",
    label_title: "二维码标牌",
    label_alt: "对象的码上办二维码标牌",
    label_download: "下载标牌（SVG）",
    scan_page: "打开扫码页面",
    credibility_title: "自查可信度",
    credibility_none: "暂无数据",
    credibility_hint: "近 {n} 次巡查中，自查报合格而巡查不合格的检查项越少，可信度越高；尚无可比对的巡查时不计分。",
    latest_self_check: "最近自查",
    latest_inspection: "最近巡查",
    no_check: "暂无",
    check_summary: "{n} 项，其中 {f} 项不合格",
    by: "检查人",
    pass: "合格",
    fail: "不合格",
    position_far: "位置异常：距对象 {d} 米",
    position_near: "距对象 {d} 米",
    position_unknown: "未提供位置",
    checks_title: "自查与巡查记录",
    checks_none: "还没有检查记录。",
    col_at: "时间",
    col_check_kind: "类型",
    col_by: "检查人",
    col_result: "结果",
    col_position: "扫码位置",
    col_failing: "不合格项",
    photos: "照片",
    discrepancies_title: "双保险比对差异",
    discrepancies_none: "巡查结果与自查一致，没有差异。",
    compared_with: "对比自查：{t}",
    no_self_check: "巡查前没有自查",
    rect_title: "三教而罚 · 整改记录",
    rect_none: "没有整改记录。",
    col_item: "检查项",
    col_stage: "阶段",
    col_opened: "发现时间",
    col_due: "整改期限",
    col_notices: "已发通知",
    col_case: "执法案件",
    col_source: "发现方式",
    notice_line: "{stage}：{sent} 发出，期限 {due}",
    no_notice: "尚未发通知",
    due_now: "待发教育提醒",
    overdue: "已逾期",
    case_link: "执法案件",
    case_pending: "正在移交执法",
    rectified_at: "{t} 整改销号",
    legal_basis: "依据",
    unscheduled: "（跨越未排定节假日的年份）",
    disc_title: "双保险比对差异",
    disc_intro: "巡查结果与此前最近一次自查的比对：自查报合格而巡查不合格的检查项，按街道汇总。",
    f_disc_kind: "差异类型",
    all_disc_kinds: "全部差异",
    col_object: "管理对象",
    col_self_check_at: "对比的自查",
    per_street: "按街道统计",
    col_count: "差异数",
    disc_none: "没有符合条件的比对差异。",
    stats_title: "小事不出责任区 · 分阶段办结统计",
    stats_intro: "所选期间内发现的问题按街道统计其在哪一阶段整改完毕：通知前（自查自改或当场整改）、教育提醒、责令整改、警告后，或移交执法后。",
    f_from: "发现自",
    f_to: "至",
    err_period: "期间无效：结束日期须在开始日期之后。",
    col_before_notice: "通知前",
    col_notice1: "教育提醒后",
    col_notice2: "责令整改后",
    col_notice3: "警告后",
    col_enforcement: "移交执法后",
    col_closed: "已整改",
    col_open: "未整改",
    col_in_enforcement: "其中已移交执法",
    col_rate: "小事不出责任区率",
    total: "合计",
    no_street: "未定位街道",
    stats_none: "所选期间内没有发现问题。",
    rate_hint: "小事不出责任区率 = 移交执法前整改完毕的问题 ÷ 全部已整改问题。",
    sheets_title: "打印二维码标牌",
    sheets_intro: "A4 纸，每页 3×3 张（每张 64×90 毫米）。打印时请选择“实际大小”（100%），不要缩放。",
    sheets_count: "共 {n} 个对象，{p} 页",
    sheets_capped: "一次最多排版 {n} 张标牌；请用筛选条件缩小范围。",
    print: "打印",
    sheets_none: "没有符合条件的管理对象。",
    m_title: "码上办",
    m_card: "对象信息",
    m_latest: "最近检查",
    m_latest_none: "暂无检查记录",
    m_open_title: "整改通知",
    m_open_none: "暂无待整改问题",
    m_login_hint: "责任人自查、巡查人员核验，请先登录。",
    m_login: "登录",
    m_no_action: "你的账号不能对该对象自查或巡查。",
    m_self_title: "责任人自查",
    m_self_intro: "逐项检查；不合格的项须说明情况，标有“须拍照”的须拍照。",
    m_insp_title: "巡查核验",
    m_insp_intro: "逐项核验；提交时附带手机定位，距对象较远的扫码会被标记。",
    m_note: "说明",
    m_photo: "拍照",
    m_photo_required: "不合格须拍照",
    m_photo_needs_js: "拍照上传需要启用 JavaScript。",
    m_uploading: "正在上传…",
    m_upload_failed: "照片上传失败：",
    m_need_photo: "不合格且须拍照的检查项还没有照片：",
    m_locating: "正在定位…",
    m_located: "已定位",
    m_locate_failed: "无法获取定位，将不附带位置提交。",
    m_locate_again: "重新定位",
    m_submit_self: "提交自查",
    m_submit_insp: "提交巡查",
    m_failed: "提交失败",
    m_done_self: "自查已提交",
    m_done_insp: "巡查已提交",
    m_done_counts: "共 {n} 项，{f} 项不合格。",
    m_far: "扫码位置距对象 {d} 米，已标记为位置异常。",
    m_near: "扫码位置距对象 {d} 米。",
    m_found: "与自查的比对差异",
    m_opened: "已开启整改：{n} 项（将按期推送整改通知）",
    m_closed: "复查合格，整改销号：{n} 项",
    m_credibility: "对象自查可信度：{n}",
    m_no_items: "该类型对象没有检查清单。",
    m_item_count: "{n} 项",
};

/// English.
pub static OBJECTS_EN: ObjectsTr = ObjectsTr {
    nav_group: "One code for all",
    nav_objects: "Management objects",
    nav_discrepancies: "Double check",
    nav_stats: "Closed by stage",
    forbidden: "Management objects are open to staff and to the objects' responsible parties.",
    forbidden_supervisors: "This page is for shift supervisors, leaders and administrators.",
    not_found: "No such management object, or it lies outside your area.",
    list_title: "Management objects",
    list_intro: "The coded register of fixed management objects — street-front shops, residential compounds, commercial complexes, schools, construction sites: each has a permanent code and a QR label; its responsible party self-checks by scanning, inspectors verify by scanning.",
    f_kind: "Kind",
    f_street: "Street",
    f_q: "Code, name or address",
    f_q_ph: "e.g. a name or 441302",
    all_kinds: "All kinds",
    all_streets: "All streets",
    err_street: "The street must be a 9-digit street code.",
    results: "Objects",
    col_code: "Code",
    col_name: "Name",
    col_kind: "Kind",
    col_address: "Address",
    col_street: "Street",
    col_party: "Responsible party",
    col_label: "Label",
    print_labels: "Print QR labels",
    print_labels_hint: "A4 label sheets (9 a page) of the objects the filters select",
    map_title: "Where they are",
    map_hint: "The objects of this page (positions in the demo data are illustrative); click one to open it.",
    map_capped: "The map shows the objects of this page only.",
    label_svg: "SVG",
    object_title: "Management object",
    back_to_list: "Management objects",
    card_title: "Object",
    f_code: "Code",
    f_name: "Name",
    f_address: "Address",
    f_regions: "Located in",
    f_department: "Supervising department",
    f_party: "Responsible party",
    f_party_account: "has an account",
    f_zone: "Responsibility zone",
    f_position: "Position",
    zone_area: "about {n} m²",
    zone_none: "not drawn",
    zone_map_title: "Responsibility zone",
    zone_legend: "The blue area is the frontage responsibility zone; the dot is the object.",
    object_point: "The object",
    label_title: "QR label",
    label_alt: "The object's 码上办 QR label",
    label_download: "Download the label (SVG)",
    scan_page: "Open the scan page",
    credibility_title: "Self-check credibility",
    credibility_none: "No data yet",
    credibility_hint: "Over the last {n} inspections: the fewer items the self-check called fine that the inspection found failing, the higher; no score before an inspection can be compared.",
    latest_self_check: "Latest self-check",
    latest_inspection: "Latest inspection",
    no_check: "None yet",
    check_summary: "{n} items, {f} failing",
    by: "By",
    pass: "Pass",
    fail: "Fail",
    position_far: "Far from the object: {d} m",
    position_near: "{d} m from the object",
    position_unknown: "No position",
    checks_title: "Self-checks and inspections",
    checks_none: "No checks yet.",
    col_at: "When",
    col_check_kind: "Kind",
    col_by: "By",
    col_result: "Result",
    col_position: "Scan position",
    col_failing: "Failing items",
    photos: "Photos",
    discrepancies_title: "Double-check discrepancies",
    discrepancies_none: "The inspections agree with the self-checks.",
    compared_with: "Compared with the self-check of {t}",
    no_self_check: "No self-check before the inspection",
    rect_title: "Three reminders before a penalty · rectifications",
    rect_none: "No rectification records.",
    col_item: "Item",
    col_stage: "Stage",
    col_opened: "Found",
    col_due: "Deadline",
    col_notices: "Notices sent",
    col_case: "Enforcement case",
    col_source: "Found by",
    notice_line: "{stage}: sent {sent}, due {due}",
    no_notice: "No notice sent yet",
    due_now: "Notice 1 due now",
    overdue: "overdue",
    case_link: "Enforcement case",
    case_pending: "Being handed to enforcement",
    rectified_at: "Rectified {t}",
    legal_basis: "Legal basis",
    unscheduled: "(crosses a year without a holiday schedule)",
    disc_title: "Double-check discrepancies",
    disc_intro: "Inspections compared with the latest self-check before them: items the self-check called fine that the inspection found failing, counted per street.",
    f_disc_kind: "Discrepancy",
    all_disc_kinds: "All discrepancies",
    col_object: "Object",
    col_self_check_at: "Self-check compared",
    per_street: "Per street",
    col_count: "Discrepancies",
    disc_none: "No discrepancies match.",
    stats_title: "Small matters stay in the zone · closed by stage",
    stats_intro: "The problems found in the period, per street, by the stage they were rectified at: before any notice (self-corrected or fixed on the spot), after notice 1, 2 or 3, or after the hand-over to enforcement.",
    f_from: "Found from",
    f_to: "to",
    err_period: "Invalid period: the end must come after the start.",
    col_before_notice: "Before notice",
    col_notice1: "After notice 1",
    col_notice2: "After notice 2",
    col_notice3: "After warning",
    col_enforcement: "After enforcement",
    col_closed: "Rectified",
    col_open: "Open",
    col_in_enforcement: "of them with enforcement",
    col_rate: "In-zone rate",
    total: "Total",
    no_street: "No street",
    stats_none: "No problems were found in the period.",
    rate_hint: "In-zone rate = problems rectified before the hand-over to enforcement ÷ all rectified problems.",
    sheets_title: "Print QR labels",
    sheets_intro: "A4 paper, 3 × 3 labels a page (64 × 90 mm each). Print at actual size (100 %), without scaling.",
    sheets_count: "{n} objects, {p} pages",
    sheets_capped: "At most {n} labels are laid out at once; narrow the filters.",
    print: "Print",
    sheets_none: "No management objects match.",
    m_title: "Scan to act",
    m_card: "Object",
    m_latest: "Latest check",
    m_latest_none: "No checks yet",
    m_open_title: "Rectification notices",
    m_open_none: "No open problems",
    m_login_hint: "Responsible parties self-check and inspectors verify after logging in.",
    m_login: "Log in",
    m_no_action: "Your account cannot self-check or inspect this object.",
    m_self_title: "Self-check",
    m_self_intro: "Check item by item; say what is wrong with a failing item, and take a photo where it says so.",
    m_insp_title: "Inspection",
    m_insp_intro: "Verify item by item; the phone's position is sent along, and a scan far from the object is flagged.",
    m_note: "Note",
    m_photo: "Take a photo",
    m_photo_required: "a photo is needed when failing",
    m_photo_needs_js: "Taking photos needs JavaScript.",
    m_uploading: "Uploading…",
    m_upload_failed: "The photo could not be uploaded: ",
    m_need_photo: "Failing items that need a photo have none: ",
    m_locating: "Locating…",
    m_located: "Located",
    m_locate_failed: "No position available; the check goes without one.",
    m_locate_again: "Locate again",
    m_submit_self: "Submit the self-check",
    m_submit_insp: "Submit the inspection",
    m_failed: "Not submitted",
    m_done_self: "Self-check submitted",
    m_done_insp: "Inspection submitted",
    m_done_counts: "{n} items, {f} failing.",
    m_far: "Scanned {d} m from the object: flagged as far.",
    m_near: "Scanned {d} m from the object.",
    m_found: "Discrepancies with the self-check",
    m_opened: "Rectifications opened: {n} (notices follow on schedule)",
    m_closed: "Rectified on re-inspection: {n}",
    m_credibility: "Self-check credibility: {n}",
    m_no_items: "Objects of this kind have no checklist.",
    m_item_count: "{n} items",
};

impl ObjectsTr {
    fn zh(&self) -> bool {
        std::ptr::eq(self, &OBJECTS_ZH)
    }

    pub fn kind(&self, k: ObjectKind) -> &'static str {
        if self.zh() { k.name_zh() } else { k.name_en() }
    }

    pub fn stage(&self, s: RectStage) -> &'static str {
        match (self.zh(), s) {
            (true, s) => s.name_zh(),
            (false, RectStage::Open) => "Open",
            (false, RectStage::Notice1) => "Notice 1 (education)",
            (false, RectStage::Notice2) => "Notice 2 (order to rectify)",
            (false, RectStage::Notice3) => "Notice 3 (warning)",
            (false, RectStage::Enforcement) => "Handed to enforcement",
            (false, RectStage::Rectified) => "Rectified",
        }
    }

    pub fn check_kind(&self, k: CheckKind) -> &'static str {
        match (self.zh(), k) {
            (true, k) => k.name_zh(),
            (false, CheckKind::SelfCheck) => "Self-check",
            (false, CheckKind::Inspection) => "Inspection",
        }
    }

    pub fn discrepancy(&self, k: DiscrepancyKind) -> &'static str {
        match (self.zh(), k) {
            (true, DiscrepancyKind::SelfReportedFine) => "自查合格、巡查不合格",
            (true, DiscrepancyKind::FailingInBoth) => "自查、巡查均不合格",
            (true, DiscrepancyKind::NotSelfChecked) => "自查未查、巡查不合格",
            (false, DiscrepancyKind::SelfReportedFine) => "Fine in the self-check, failing",
            (false, DiscrepancyKind::FailingInBoth) => "Failing in both",
            (false, DiscrepancyKind::NotSelfChecked) => "Not self-checked, failing",
        }
    }

    /// The key of a discrepancy kind (as in the API).
    pub fn discrepancy_key(k: DiscrepancyKind) -> &'static str {
        match k {
            DiscrepancyKind::SelfReportedFine => "self_reported_fine",
            DiscrepancyKind::FailingInBoth => "failing_in_both",
            DiscrepancyKind::NotSelfChecked => "not_self_checked",
        }
    }

    pub fn summary(&self, n: usize, failing: usize) -> String {
        self.check_summary
            .replace("{n}", &n.to_string())
            .replace("{f}", &failing.to_string())
    }

    pub fn done_counts(&self, n: usize, failing: usize) -> String {
        self.m_done_counts
            .replace("{n}", &n.to_string())
            .replace("{f}", &failing.to_string())
    }

    pub fn position(&self, distance_m: f64, far: bool) -> String {
        let d = format!("{distance_m:.0}");
        if far {
            self.position_far.replace("{d}", &d)
        } else {
            self.position_near.replace("{d}", &d)
        }
    }

    pub fn scan_position(&self, distance_m: f64, far: bool) -> String {
        let d = format!("{distance_m:.0}");
        if far {
            self.m_far.replace("{d}", &d)
        } else {
            self.m_near.replace("{d}", &d)
        }
    }

    pub fn notice(&self, stage: RectStage, sent: &str, due: &str) -> String {
        self.notice_line
            .replace("{stage}", self.stage(stage))
            .replace("{sent}", sent)
            .replace("{due}", due)
    }

    pub fn n(template: &str, n: impl std::fmt::Display) -> String {
        template.replace("{n}", &n.to_string())
    }

    pub fn sheets(&self, n: u64, pages: u64) -> String {
        self.sheets_count
            .replace("{n}", &n.to_string())
            .replace("{p}", &pages.to_string())
    }

    pub fn at(template: &str, t: &str) -> String {
        template.replace("{t}", t)
    }

    /// A credibility score as shown (`87.5`), or "no data".
    pub fn credibility(&self, c: Option<f64>) -> String {
        match c {
            Some(v) => format!("{v:.1}"),
            None => self.credibility_none.to_string(),
        }
    }
}

impl Lang {
    /// The management-object pages' strings.
    pub fn objects(self) -> &'static ObjectsTr {
        match self {
            Lang::Zh => &OBJECTS_ZH,
            Lang::En => &OBJECTS_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_templates() {
        let en = Lang::En.objects();
        let zh = Lang::Zh.objects();
        for k in ObjectKind::ALL {
            assert!(!en.kind(*k).is_empty() && zh.kind(*k) == k.name_zh());
        }
        for s in RectStage::ALL {
            assert_ne!(en.stage(*s), zh.stage(*s));
        }
        assert_eq!(zh.summary(34, 2), "34 项，其中 2 项不合格");
        assert_eq!(en.position(312.4, true), "Far from the object: 312 m");
        assert_eq!(
            zh.notice(RectStage::Notice1, "2026-03-02 10:00", "2026-03-03 10:00"),
            "教育提醒：2026-03-02 10:00 发出，期限 2026-03-03 10:00"
        );
        assert_eq!(zh.credibility(None), "暂无数据");
        assert_eq!(en.credibility(Some(87.54)), "87.5");
        assert_eq!(
            ObjectsTr::n(zh.m_opened, 2),
            "已开启整改：2 项（将按期推送整改通知）"
        );
    }
}
