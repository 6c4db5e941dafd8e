//! The texts of the case pages (案件: 工作台 queues, case list, case page), Chinese first with a
//! complete English translation. Like [`crate::i18n::Tr`], every field must be filled in both
//! [`SLICE_ZH`] and [`SLICE_EN`], so a missing translation does not compile; texts with values
//! are methods that match on the language.
use cityops_app::ServiceError;
use cityops_domain::calendar::Light;
use cityops_domain::case::{CaseAction, CaseSource, CaseStatus, PendingRequest, Stage, Urgency};

use crate::i18n::Lang;
use crate::pages::cases::Queue;

/// The case pages' texts of one language.
#[derive(Debug)]
pub struct SliceTr {
    pub lang: Lang,
    pub nav_cases: &'static str,
    pub nav_group_cases: &'static str,
    pub no_rule: &'static str,
    pub any_category: &'static str,
    pub by_owner: &'static str,
    pub rule_changed: &'static str,
    pub too_many: &'static str,
    pub export: &'static str,
    pub export_hint: &'static str,
    pub export_failed: &'static str,
    pub export_too_large: &'static str,
    pub list_title: &'static str,
    pub list_hint: &'static str,
    pub my_queues: &'static str,
    pub all_cases: &'static str,
    pub f_text: &'static str,
    pub f_text_ph: &'static str,
    pub f_status: &'static str,
    pub f_light: &'static str,
    pub f_source: &'static str,
    pub f_category: &'static str,
    pub f_category_ph: &'static str,
    pub f_region: &'static str,
    pub f_department: &'static str,
    pub f_from: &'static str,
    pub f_to: &'static str,
    pub f_overdue: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub col_code: &'static str,
    pub col_category: &'static str,
    pub col_address: &'static str,
    pub col_status: &'static str,
    pub col_department: &'static str,
    pub col_suggested: &'static str,
    pub col_light: &'static str,
    pub col_left: &'static str,
    pub col_reported: &'static str,
    pub col_updated: &'static str,
    pub results: &'static str,
    pub sort_updated: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub map_this: &'static str,
    pub map_nearby: &'static str,
    pub map_grid: &'static str,
    pub case_title: &'static str,
    pub system: &'static str,
    pub urgency_label: &'static str,
    pub coords: &'static str,
    pub grid: &'static str,
    pub community: &'static str,
    pub street: &'static str,
    pub district: &'static str,
    pub contact: &'static str,
    pub handle_deadline: &'static str,
    pub handle_limit: &'static str,
    pub supervised: &'static str,
    pub counts: &'static str,
    pub component: &'static str,
    pub pending: &'static str,
    pub suspended_label: &'static str,
    pub duplicate_of: &'static str,
    pub merged_into: &'static str,
    pub closed_at: &'static str,
    pub rating: &'static str,
    pub no_clock: &'static str,
    pub comment: &'static str,
    pub reason: &'static str,
    pub until: &'static str,
    pub until_hint: &'static str,
    pub confirmed: &'static str,
    pub confirmed_yes: &'static str,
    pub confirmed_no: &'static str,
    pub reason_if_no: &'static str,
    pub category_hint: &'static str,
    pub suggested_hint: &'static str,
    pub after_photos: &'static str,
    pub before_photos: &'static str,
    pub photo_hint: &'static str,
    pub photo_needs_js: &'static str,
    pub handle_comment: &'static str,
    pub master_case: &'static str,
    pub score: &'static str,
    pub compare_title: &'static str,
    pub this_case: &'static str,
    pub description: &'static str,
    pub no_photos: &'static str,
    pub map_title: &'static str,
    pub fields_title: &'static str,
    pub actions_title: &'static str,
    pub no_actions: &'static str,
    pub timeline_title: &'static str,
    pub viewer: &'static str,
    pub close: &'static str,
    pub queues_title: &'static str,
    pub queues_intro: &'static str,
    pub no_queues: &'static str,
    pub view_all: &'static str,
    pub uploading: &'static str,
    pub uploaded: &'static str,
    pub upload_failed: &'static str,
}

pub const SLICE_ZH: SliceTr = SliceTr {
    lang: Lang::Zh,
    nav_cases: "案件列表",
    nav_group_cases: "案件",
    no_rule: "权责清单无匹配规则",
    any_category: "任意类别",
    by_owner: "依据：部件权属单位",
    rule_changed: "依据立案时的权责清单（规则现已变更）",
    too_many: "同时进行的检索过多，请稍后再试。",
    export: "导出",
    export_hint: "按当前筛选导出全部案件（不分页），列说明见 docs/EXPORT.md",
    export_failed: "导出失败",
    export_too_large: "符合条件的案件超过 Excel 导出上限，请缩小筛选范围，或导出 CSV（没有上限）。",
    list_title: "案件列表",
    list_hint: "本人权限范围内的全部案件；筛选、排序与页码均保存在网址中，可收藏或分享。",
    my_queues: "我的待办",
    all_cases: "全部案件",
    f_text: "关键词",
    f_text_ph: "案件编号、描述或地址",
    f_status: "状态",
    f_light: "亮灯",
    f_source: "来源",
    f_category: "类别代码",
    f_category_ph: "5 位小类或 2 位大类",
    f_region: "区域",
    f_department: "处置单位",
    f_from: "上报起",
    f_to: "上报止",
    f_overdue: "曾超期",
    yes: "是",
    no: "否",
    col_code: "案件编号",
    col_category: "类别",
    col_address: "地址",
    col_status: "状态",
    col_department: "处置单位",
    col_suggested: "建议派遣",
    col_light: "亮灯",
    col_left: "剩余/超期",
    col_reported: "上报时间",
    col_updated: "更新时间",
    results: "查询结果",
    sort_updated: "按最近更新排序",
    not_found_title: "未找到案件",
    not_found_text: "该案件不存在，或不在您的权限范围内。",
    map_this: "本案件",
    map_nearby: "附近在办案件",
    map_grid: "所在单元网格",
    case_title: "案件",
    system: "系统",
    urgency_label: "紧急程度",
    coords: "坐标（WGS84）",
    grid: "单元网格",
    community: "社区",
    street: "街道",
    district: "区县",
    contact: "上报人联系方式",
    handle_deadline: "处置截止时间",
    handle_limit: "处置时限",
    supervised: "督办",
    counts: "延期/返工/退回",
    component: "部件编号",
    pending: "待批申请",
    suspended_label: "挂账至",
    duplicate_of: "疑似重复于",
    merged_into: "已合并至",
    closed_at: "结案时间",
    rating: "评价",
    no_clock: "当前环节不计时",
    comment: "意见",
    reason: "理由",
    until: "挂账至",
    until_hint: "本地时间（北京时间）",
    confirmed: "核实结果",
    confirmed_yes: "问题属实",
    confirmed_no: "问题不属实",
    reason_if_no: "问题不属实时必填",
    category_hint: "5 位类别代码，可改为正确的类别",
    suggested_hint: "已预选权责清单建议的单位",
    after_photos: "处置后照片",
    before_photos: "处置前照片",
    photo_hint: "选择照片后自动上传（JPEG/PNG/WebP）",
    photo_needs_js: "上传照片需要启用浏览器脚本。",
    handle_comment: "处置说明",
    master_case: "主案件编号（ID）",
    score: "评分（1–5）",
    compare_title: "疑似重复：与主案件对照",
    this_case: "本案件",
    description: "问题描述",
    no_photos: "暂无照片",
    map_title: "位置",
    fields_title: "案件信息",
    actions_title: "可办理操作",
    no_actions: "您当前没有可对此案件办理的操作。",
    timeline_title: "流转记录",
    viewer: "照片查看",
    close: "关闭",
    queues_title: "我的待办",
    queues_intro: "按您的角色列出待办队列，按紧急程度排序（超期、临近到期在前）；点击数字查看完整列表。",
    no_queues: "您的角色没有案件待办队列。",
    view_all: "查看全部",
    uploading: "正在上传…",
    uploaded: "已上传",
    upload_failed: "上传失败：",
};

pub const SLICE_EN: SliceTr = SliceTr {
    lang: Lang::En,
    nav_cases: "Case list",
    nav_group_cases: "Cases",
    no_rule: "no rule of the responsibility matrix matches",
    any_category: "any category",
    by_owner: "because: the component's owner",
    rule_changed: "from the matrix at filing (the rule has changed since)",
    too_many: "Too many searches at once; please try again in a moment.",
    export: "Export",
    export_hint: "Export every case of the current filters (all pages); the columns are described in docs/EXPORT.md",
    export_failed: "Export failed",
    export_too_large: "More cases match than an Excel export holds: narrow the filters, or export CSV (no cap).",
    list_title: "Case list",
    list_hint: "Every case within your scope; filters, sort and page live in the URL, so a bookmark keeps them.",
    my_queues: "My queues",
    all_cases: "All cases",
    f_text: "Search",
    f_text_ph: "Case code, description or address",
    f_status: "Status",
    f_light: "Light",
    f_source: "Source",
    f_category: "Category code",
    f_category_ph: "5-digit category or 2-digit class",
    f_region: "Region",
    f_department: "Department",
    f_from: "Reported from",
    f_to: "Reported to",
    f_overdue: "Ever overdue",
    yes: "Yes",
    no: "No",
    col_code: "Case code",
    col_category: "Category",
    col_address: "Address",
    col_status: "Status",
    col_department: "Department",
    col_suggested: "Suggested department",
    col_light: "Light",
    col_left: "Time left / over",
    col_reported: "Reported",
    col_updated: "Updated",
    results: "Results",
    sort_updated: "Sort by last update",
    not_found_title: "Case not found",
    not_found_text: "The case does not exist or lies outside your scope.",
    map_this: "This case",
    map_nearby: "Open cases nearby",
    map_grid: "Its unit grid",
    case_title: "Case",
    system: "System",
    urgency_label: "Urgency",
    coords: "Coordinates (WGS84)",
    grid: "Unit grid",
    community: "Community",
    street: "Street",
    district: "District",
    contact: "Reporter's contact",
    handle_deadline: "Handling deadline",
    handle_limit: "Handling time limit",
    supervised: "Supervised",
    counts: "Postponed / reworked / returned",
    component: "Component",
    pending: "Pending request",
    suspended_label: "Suspended until",
    duplicate_of: "Possible duplicate of",
    merged_into: "Merged into",
    closed_at: "Closed",
    rating: "Rating",
    no_clock: "The current step has no time limit",
    comment: "Comment",
    reason: "Reason",
    until: "Suspend until",
    until_hint: "Local time (China Standard Time)",
    confirmed: "Verification result",
    confirmed_yes: "The problem exists",
    confirmed_no: "The problem does not exist",
    reason_if_no: "Required when the problem does not exist",
    category_hint: "5-digit category code; correct it if needed",
    suggested_hint: "The matrix's suggestion is preselected",
    after_photos: "After photos",
    before_photos: "Before photos",
    photo_hint: "Photos upload as soon as you choose them (JPEG/PNG/WebP)",
    photo_needs_js: "Uploading photos needs JavaScript.",
    handle_comment: "What was done",
    master_case: "Master case (ID)",
    score: "Score (1–5)",
    compare_title: "Possible duplicate: side by side with the master case",
    this_case: "This case",
    description: "Description",
    no_photos: "No photos",
    map_title: "Location",
    fields_title: "Case details",
    actions_title: "Actions",
    no_actions: "You cannot take any action on this case now.",
    timeline_title: "Timeline",
    viewer: "Photo viewer",
    close: "Close",
    queues_title: "My work queues",
    queues_intro: "The queues of your roles, most urgent first (overdue, then due soon); click a count for the full list.",
    no_queues: "Your roles have no case queues.",
    view_all: "View all",
    uploading: "Uploading…",
    uploaded: "Uploaded",
    upload_failed: "Upload failed: ",
};

impl Lang {
    /// The case pages' texts.
    pub fn cases(self) -> &'static SliceTr {
        match self {
            Lang::Zh => &SLICE_ZH,
            Lang::En => &SLICE_EN,
        }
    }
}

fn zh(t: &SliceTr) -> bool {
    t.lang == Lang::Zh
}

impl SliceTr {
    pub fn status(&self, s: CaseStatus) -> &'static str {
        if zh(self) {
            return s.name_zh();
        }
        match s {
            CaseStatus::Reported => "Reported",
            CaseStatus::Verifying => "Verifying",
            CaseStatus::Filed => "Filed",
            CaseStatus::Dispatched => "Dispatched",
            CaseStatus::Handling => "Handling",
            CaseStatus::Handled => "Handled",
            CaseStatus::Checking => "Checking",
            CaseStatus::Closed => "Closed",
            CaseStatus::Cancelled => "Cancelled",
            CaseStatus::Suspended => "Suspended",
        }
    }

    pub fn light(&self, l: Light) -> &'static str {
        match (zh(self), l) {
            (true, Light::Green) => "绿灯",
            (true, Light::Yellow) => "黄灯",
            (true, Light::Red) => "红灯",
            (false, Light::Green) => "Green",
            (false, Light::Yellow) => "Yellow",
            (false, Light::Red) => "Red",
        }
    }

    /// The light in words: what it means.
    pub fn light_words(&self, l: Light) -> &'static str {
        match (zh(self), l) {
            (true, Light::Green) => "绿灯：时限内",
            (true, Light::Yellow) => "黄灯：临近到期",
            (true, Light::Red) => "红灯：已超期",
            (false, Light::Green) => "green: within the limit",
            (false, Light::Yellow) => "yellow: due soon",
            (false, Light::Red) => "red: overdue",
        }
    }

    pub fn source(&self, s: CaseSource) -> &'static str {
        if zh(self) {
            return s.name_zh();
        }
        match s {
            CaseSource::Inspector => "Inspector",
            CaseSource::Citizen => "Citizen",
            CaseSource::Hotline => "Hotline",
            CaseSource::VideoAi => "Video AI",
            CaseSource::Iot => "IoT alarm",
            CaseSource::Leader => "Leader directive",
        }
    }

    pub fn urgency(&self, u: Urgency) -> &'static str {
        match (zh(self), u) {
            (true, _) => u.name_zh(),
            (false, Urgency::Normal) => "Normal",
            (false, Urgency::Urgent) => "Urgent",
        }
    }

    pub fn stage(&self, s: Stage) -> &'static str {
        if zh(self) {
            return s.name_zh();
        }
        match s {
            Stage::Verify => "Verification",
            Stage::File => "Filing",
            Stage::Dispatch => "Dispatch",
            Stage::Sign => "Signing",
            Stage::Handle => "Handling",
            Stage::Check => "Check",
            Stage::Close => "Closing",
        }
    }

    pub fn action(&self, a: CaseAction) -> &'static str {
        if zh(self) {
            return a.name_zh();
        }
        match a {
            CaseAction::SendVerify => "Send to verify",
            CaseAction::Verify => "Verify",
            CaseAction::File => "File",
            CaseAction::Reject => "Reject",
            CaseAction::Dispatch => "Dispatch",
            CaseAction::Return => "Return",
            CaseAction::Sign => "Sign for it",
            CaseAction::Handle => "Report handling",
            CaseAction::RequestPostpone => "Request postponement",
            CaseAction::ApprovePostpone => "Approve postponement",
            CaseAction::DenyPostpone => "Deny postponement",
            CaseAction::RequestSuspend => "Request suspension",
            CaseAction::ApproveSuspend => "Approve suspension",
            CaseAction::Resume => "Resume",
            CaseAction::SendCheck => "Send to check",
            CaseAction::CheckPass => "Check passed",
            CaseAction::CheckFail => "Check failed (rework)",
            CaseAction::Close => "Close",
            CaseAction::Cancel => "Cancel",
            CaseAction::Supervise => "Supervise",
            CaseAction::Merge => "Merge",
            CaseAction::Rate => "Rate",
        }
    }

    /// The action of a timeline event (case actions, the report, the watcher's lights).
    pub fn event_action(&self, action: &str) -> String {
        if let Ok(a) = action.parse::<CaseAction>() {
            return self.action(a).to_string();
        }
        match (zh(self), action) {
            (true, "report") => "上报".into(),
            (false, "report") => "Reported".into(),
            (true, "light_yellow") => "亮黄灯".into(),
            (false, "light_yellow") => "Turned yellow".into(),
            (true, "light_red") => "亮红灯（超期）".into(),
            (false, "light_red") => "Turned red (overdue)".into(),
            (_, other) => other.to_string(),
        }
    }

    pub fn queue(&self, q: Queue) -> &'static str {
        let (zh_, en) = match q {
            Queue::NewReports => ("新上报", "New reports"),
            Queue::Duplicates => ("疑似重复", "Possible duplicates"),
            Queue::ToSendCheck => ("待发核查", "To send for check"),
            Queue::ToFile => ("待立案", "To file"),
            Queue::ToClose => ("待结案", "To close"),
            Queue::ToDispatch => ("待派遣", "To dispatch"),
            Queue::Returned => ("退回案件", "Returned"),
            Queue::Requests => ("延期/挂账申请", "Postpone/suspend requests"),
            Queue::ToSign => ("待签收", "To sign for"),
            Queue::Handling => ("处置中", "In handling"),
            Queue::DueSoon => ("即将到期", "Due soon"),
            Queue::Overdue => ("已超期", "Overdue"),
            Queue::ToVerify => ("待核实", "To verify"),
            Queue::ToCheck => ("待核查", "To check"),
            Queue::Open => ("在办案件", "Open cases"),
            Queue::RedNow => ("红灯案件", "Red now"),
            Queue::Supervised => ("督办案件", "Supervised"),
            Queue::ReportedToday => ("今日上报", "Reported today"),
        };
        if zh(self) { zh_ } else { en }
    }

    pub fn queue_hint(&self, q: Queue) -> &'static str {
        let (zh_, en) = match q {
            Queue::NewReports => (
                "待受理的新上报：发核实、不予受理或合并。",
                "New reports waiting for intake: send to verify, reject or merge.",
            ),
            Queue::Duplicates => (
                "附近 50 米内有同类在办案件的上报，可对照后合并。",
                "Reports with an open case of the same category nearby: compare and merge.",
            ),
            Queue::ToSendCheck => (
                "处置单位已反馈，待发监督员核查。",
                "Handled by the department, waiting to be sent to the inspector for checking.",
            ),
            Queue::ToFile => (
                "待立案的上报（含已核实）。",
                "Reports waiting to be filed (verified ones included).",
            ),
            Queue::ToClose => (
                "核查通过，待结案。",
                "The check passed; waiting to be closed.",
            ),
            Queue::ToDispatch => (
                "已立案待派遣；显示权责清单建议的单位及依据。",
                "Filed, waiting for dispatch; with the matrix's suggestion and why.",
            ),
            Queue::Returned => (
                "处置单位退回、需重新派遣的案件。",
                "Returned by a department; to be dispatched again.",
            ),
            Queue::Requests => (
                "处置单位的延期或挂账申请，待审批。",
                "Postponement or suspension requests waiting for approval.",
            ),
            Queue::ToSign => (
                "已派遣至本单位，待签收。",
                "Dispatched to your department, waiting to be signed for.",
            ),
            Queue::Handling => ("本单位处置中的案件。", "Cases your department is handling."),
            Queue::DueSoon => (
                "黄灯：当前环节临近到期。",
                "Yellow: the current step is due soon.",
            ),
            Queue::Overdue => (
                "红灯：当前环节已超期。",
                "Red: the current step is overdue.",
            ),
            Queue::ToVerify => (
                "派给您核实的上报。",
                "Reports assigned to you for verification.",
            ),
            Queue::ToCheck => (
                "派给您核查处置结果的案件。",
                "Cases assigned to you to check the result.",
            ),
            Queue::Open => ("全部未结案件。", "Every case not yet closed."),
            Queue::RedNow => (
                "当前环节已超期的在办案件。",
                "Open cases whose current step is overdue.",
            ),
            Queue::Supervised => ("领导督办的在办案件。", "Open cases under supervision."),
            Queue::ReportedToday => (
                "今日（本地时间）上报的案件。",
                "Cases reported today (local time).",
            ),
        };
        if zh(self) { zh_ } else { en }
    }

    pub fn suspended_until(&self, until: &str) -> String {
        if zh(self) {
            format!("挂账至 {until}")
        } else {
            format!("suspended until {until}")
        }
    }

    pub fn left(&self, amount: &str, unit: &str) -> String {
        if zh(self) {
            format!("剩余 {amount} {unit}")
        } else {
            format!("{amount} {unit} left")
        }
    }

    pub fn overdue_by(&self, amount: &str, unit: &str) -> String {
        if zh(self) {
            format!("超期 {amount} {unit}")
        } else {
            format!("overdue by {amount} {unit}")
        }
    }

    pub fn rule_matched(&self, what: &str, region: &str, dept: &str, auto: bool) -> String {
        match (zh(self), auto) {
            (true, false) => format!("依据权责清单：{what} × {region} → {dept}"),
            (true, true) => format!("依据权责清单：{what} × {region} → {dept}（一键直达）"),
            (false, false) => format!("matrix rule: {what} × {region} → {dept}"),
            (false, true) => format!("matrix rule: {what} × {region} → {dept} (auto-dispatch)"),
        }
    }

    pub fn bad_filter(&self, name: &str, value: &str) -> String {
        if zh(self) {
            format!("筛选条件 {name} 的值无效：{value}")
        } else {
            format!("The filter {name} has an invalid value: {value}")
        }
    }

    pub fn photo_alt(&self, n: usize) -> String {
        if zh(self) {
            format!("照片 {n}")
        } else {
            format!("Photo {n}")
        }
    }

    /// How many photos an event carries.
    pub fn photo_count(&self, n: &usize) -> String {
        match (zh(self), *n) {
            (true, n) => format!("照片 {n} 张"),
            (false, 1) => "1 photo".to_string(),
            (false, n) => format!("{n} photos"),
        }
    }

    pub fn action_done(&self, action: &str) -> String {
        if zh(self) {
            format!("已完成：{action}。")
        } else {
            format!("Done: {action}.")
        }
    }

    pub fn action_failed(&self, action: &str) -> String {
        if zh(self) {
            format!("未能办理“{action}”：")
        } else {
            format!("“{action}” was not possible:")
        }
    }

    pub fn dispatch_to(&self, dept: &str) -> String {
        if zh(self) {
            format!("派遣至 {dept}")
        } else {
            format!("Dispatch to {dept}")
        }
    }

    pub fn required(&self, label: &str) -> String {
        if zh(self) {
            format!("请填写“{label}”。")
        } else {
            format!("Please fill in “{label}”.")
        }
    }

    pub fn invalid(&self, label: &str, value: &str) -> String {
        if zh(self) {
            format!("“{label}”的值无效：{value}")
        } else {
            format!("“{label}” has an invalid value: {value}")
        }
    }

    pub fn counts_text(&self, postponed: u32, reworked: u32, returned: u32) -> String {
        if zh(self) {
            format!("延期 {postponed} 次 / 返工 {reworked} 次 / 退回 {returned} 次")
        } else {
            format!("{postponed} / {reworked} / {returned}")
        }
    }

    pub fn pending_text(
        &self,
        p: &PendingRequest,
        fmt: &dyn Fn(chrono::DateTime<chrono::Utc>) -> String,
    ) -> String {
        match (zh(self), p) {
            (true, PendingRequest::Postpone { reason, .. }) => format!("申请延期：{reason}"),
            (false, PendingRequest::Postpone { reason, .. }) => {
                format!("postponement requested: {reason}")
            }
            (true, PendingRequest::Suspend { reason, until, .. }) => {
                format!("申请挂账至 {}：{reason}", fmt(*until))
            }
            (false, PendingRequest::Suspend { reason, until, .. }) => {
                format!("suspension until {} requested: {reason}", fmt(*until))
            }
        }
    }

    /// "处置时限 4 工作时，剩余 1 小时 20 分（截止 …，绿灯：时限内）"; `working`: a limit in working
    /// days, whose time left is said as working hours ("剩余工作时间 21 小时 56 分").
    pub fn stage_deadline(
        &self,
        stage: &str,
        limit: &str,
        secs: i64,
        working: bool,
        due: &str,
        light: &str,
    ) -> String {
        let a = secs.unsigned_abs();
        let (h, m) = (a / 3600, (a % 3600) / 60);
        if zh(self) {
            let dur = match (h > 0, working) {
                (true, true) => format!("工作时间 {h} 小时 {m} 分"),
                (true, false) => format!("{h} 小时 {m} 分"),
                (false, true) => format!("工作时间 {m} 分"),
                (false, false) => format!("{m} 分"),
            };
            if secs >= 0 {
                format!("{stage}时限 {limit}，剩余 {dur}（截止 {due}，{light}）")
            } else {
                format!("{stage}时限 {limit}，已超期 {dur}（截止 {due}，{light}）")
            }
        } else {
            let of = if working { " of working time" } else { "" };
            let dur = if h > 0 {
                format!("{h} h {m} min{of}")
            } else {
                format!("{m} min{of}")
            };
            if secs >= 0 {
                format!("{stage} limit {limit}, {dur} left (due {due}; {light})")
            } else {
                format!("{stage} limit {limit}, overdue by {dur} (was due {due}; {light})")
            }
        }
    }

    pub fn stage_stopped(&self, stage: &str, limit: &str) -> String {
        if zh(self) {
            format!("{stage}时限 {limit}，计时已暂停")
        } else {
            format!("{stage} limit {limit}; the clock is stopped")
        }
    }

    pub fn handle_words(&self, limit: &str, due: &str) -> String {
        if zh(self) {
            format!("处置时限 {limit}，处置截止 {due}")
        } else {
            format!("handling limit {limit}, handling due {due}")
        }
    }

    /// A refused action in the user's language, with the server's reason.
    pub fn service_error(&self, e: &ServiceError) -> String {
        let head = match (zh(self), e) {
            (true, ServiceError::Forbidden(_)) => "您的角色不能办理此操作",
            (false, ServiceError::Forbidden(_)) => "Your role may not take this action",
            (true, ServiceError::InvalidTransition { .. }) => "案件当前状态不允许此操作",
            (false, ServiceError::InvalidTransition { .. }) => {
                "The case's state does not allow this action now"
            }
            (true, ServiceError::Conflict(_)) => "案件已被他人更新，请刷新后重试",
            (false, ServiceError::Conflict(_)) => {
                "Someone else changed the case meanwhile; reload and try again"
            }
            (true, ServiceError::TooLong(_)) => "文字超出长度限制",
            (false, ServiceError::TooLong(_)) => "A text is longer than allowed",
            (true, ServiceError::RateLimited { .. }) => "操作过于频繁，请稍后再试",
            (false, ServiceError::RateLimited { .. }) => "Too many requests; try again shortly",
            (true, _) => "输入有误",
            (false, _) => "The input is not valid",
        };
        if zh(self) {
            format!("{head}（{e}）")
        } else {
            format!("{head} ({e})")
        }
    }
}
