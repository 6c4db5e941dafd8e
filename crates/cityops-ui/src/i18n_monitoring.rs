//! The strings of the operation-monitoring pages (运行监测: the device map, the alarm wall, the
//! device page, the rule editor), Chinese first with a complete English translation: both
//! [`MONITORING_ZH`] and [`MONITORING_EN`] fill every field, so a missing string does not
//! compile. Names of device types, metrics and alarm statuses come from the domain in Chinese and
//! from here in English.
use cityops_domain::monitoring::DeviceType;
use cityops_domain::monitoring::{AlarmStatus, Direction, Metric, RuleKind};

use crate::i18n::Lang;

/// Every text of the monitoring pages.
#[derive(Debug)]
pub struct MonitoringTr {
    // Navigation
    pub nav_group: &'static str,
    pub nav_map: &'static str,
    pub nav_alarms: &'static str,
    pub nav_alarms_count: &'static str,
    pub nav_rules: &'static str,
    // Refusals
    pub forbidden: &'static str,
    pub not_running_title: &'static str,
    pub not_running: &'static str,
    pub device_not_found: &'static str,
    // Device statuses and levels
    pub status_normal: &'static str,
    pub status_alarm: &'static str,
    pub status_offline: &'static str,
    pub status_inactive: &'static str,
    pub level_1: &'static str,
    pub level_2: &'static str,
    pub level_3: &'static str,
    pub level_hint: &'static str,
    // Lifelines
    pub lifeline_gas: &'static str,
    pub lifeline_water: &'static str,
    pub lifeline_drainage: &'static str,
    pub lifeline_bridge: &'static str,
    pub lifeline_city_appearance: &'static str,
    pub lifeline_noise: &'static str,
    pub lifeline_weather: &'static str,
    // The device map
    pub map_title: &'static str,
    pub map_intro: &'static str,
    pub devices_in_scope: &'static str,
    pub filter_lifeline: &'static str,
    pub filter_type: &'static str,
    pub all_lifelines: &'static str,
    pub all_types: &'static str,
    pub statuses: &'static str,
    pub active_alarms: &'static str,
    pub no_active_alarms: &'static str,
    pub open_device: &'static str,
    pub open_wall: &'static str,
    pub shown_of: &'static str,
    pub region_layers: &'static str,
    pub live_on: &'static str,
    pub live_off: &'static str,
    pub loading: &'static str,
    // The alarm wall
    pub wall_title: &'static str,
    pub wall_intro: &'static str,
    pub show_active: &'static str,
    pub show_all: &'static str,
    pub filter_level: &'static str,
    pub any_level: &'static str,
    pub filter_show: &'static str,
    pub apply: &'static str,
    pub col_level: &'static str,
    pub col_raised: &'static str,
    pub col_device: &'static str,
    pub col_area: &'static str,
    pub col_rule: &'static str,
    pub col_value: &'static str,
    pub col_status: &'static str,
    pub col_case: &'static str,
    pub col_actions: &'static str,
    pub acknowledge: &'static str,
    pub acknowledged_by_at: &'static str,
    pub reminders_sent: &'static str,
    pub handed_to_enforcement: &'static str,
    pub case_not_visible: &'static str,
    pub no_case: &'static str,
    pub wall_empty: &'static str,
    pub wall_empty_all: &'static str,
    pub done_ack: &'static str,
    pub err_ack_conflict: &'static str,
    pub err_ack_not_found: &'static str,
    pub new_alarm_announce: &'static str,
    pub counts_active: &'static str,
    pub counts_raised: &'static str,
    // Alarm changes (live)
    pub what_raised: &'static str,
    pub what_escalated: &'static str,
    pub what_acknowledged: &'static str,
    pub what_cleared: &'static str,
    pub what_case: &'static str,
    pub what_reminded: &'static str,
    pub what_enforcement: &'static str,
    // The device page
    pub device_title: &'static str,
    pub back_to_map: &'static str,
    pub fields_title: &'static str,
    pub f_id: &'static str,
    pub f_type: &'static str,
    pub f_lifeline: &'static str,
    pub f_name: &'static str,
    pub f_location: &'static str,
    pub f_point: &'static str,
    pub f_component: &'static str,
    pub f_department: &'static str,
    pub f_profile: &'static str,
    pub f_responsible: &'static str,
    pub f_status: &'static str,
    pub f_in_service: &'static str,
    pub f_metrics: &'static str,
    pub in_service: &'static str,
    pub out_of_service: &'static str,
    pub show_on_map: &'static str,
    pub charts_title: &'static str,
    pub range_2h: &'static str,
    pub range_24h: &'static str,
    pub range_7d: &'static str,
    pub range_30d: &'static str,
    pub res_raw: &'static str,
    pub res_minute: &'static str,
    pub res_hour: &'static str,
    pub chart_avg: &'static str,
    pub chart_min: &'static str,
    pub chart_max: &'static str,
    pub chart_band: &'static str,
    pub chart_empty: &'static str,
    pub chart_failed: &'static str,
    pub chart_of: &'static str,
    pub threshold: &'static str,
    pub day_limit: &'static str,
    pub night_limit: &'static str,
    pub night_max_limit: &'static str,
    pub device_alarms_active: &'static str,
    pub device_alarms_recent: &'static str,
    pub device_rules: &'static str,
    pub no_rules: &'static str,
    pub none: &'static str,
    // The rule editor
    pub rules_title: &'static str,
    pub rules_intro: &'static str,
    pub rules_read_only: &'static str,
    pub profile_devices: &'static str,
    pub add_rule: &'static str,
    pub add_rule_hint: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub create: &'static str,
    pub saved: &'static str,
    pub col_name: &'static str,
    pub col_kind: &'static str,
    pub col_metric: &'static str,
    pub col_params: &'static str,
    pub col_case_rule: &'static str,
    pub col_clear: &'static str,
    pub col_enabled: &'static str,
    pub enabled: &'static str,
    pub disabled: &'static str,
    pub no_rules_yet: &'static str,
    pub r_profile: &'static str,
    pub r_profile_hint: &'static str,
    pub r_name: &'static str,
    pub r_kind: &'static str,
    pub r_metric: &'static str,
    pub r_case_level: &'static str,
    pub r_no_case: &'static str,
    pub r_category: &'static str,
    pub r_category_hint: &'static str,
    pub r_clear_after: &'static str,
    pub r_enabled: &'static str,
    pub r_direction: &'static str,
    pub r_above: &'static str,
    pub r_below: &'static str,
    pub r_level1: &'static str,
    pub r_level2: &'static str,
    pub r_level3: &'static str,
    pub r_levels_hint: &'static str,
    pub r_hysteresis: &'static str,
    pub r_sustain: &'static str,
    pub r_per_minute: &'static str,
    pub r_level: &'static str,
    pub r_minutes: &'static str,
    pub r_day_limit: &'static str,
    pub r_night_limit: &'static str,
    pub r_night_max_excess: &'static str,
    pub r_day_starts: &'static str,
    pub r_night_starts: &'static str,
    pub r_min_rainfall: &'static str,
    pub r_rain_window: &'static str,
    pub r_depth1: &'static str,
    pub r_depth2: &'static str,
    pub r_depth3: &'static str,
    pub kind_threshold: &'static str,
    pub kind_rate: &'static str,
    pub kind_offline: &'static str,
    pub kind_noise: &'static str,
    pub kind_waterlogging: &'static str,
    pub seconds: &'static str,
    pub minutes: &'static str,
    pub err_not_saved: &'static str,
    pub err_required: &'static str,
    pub err_number: &'static str,
    pub err_levels: &'static str,
    pub err_case_category: &'static str,
    pub err_category: &'static str,
    pub err_negative: &'static str,
    pub err_positive: &'static str,
    pub err_hours: &'static str,
    pub err_level: &'static str,
    pub err_kind: &'static str,
    pub err_metric: &'static str,
    pub err_too_long: &'static str,
    pub err_not_found: &'static str,
    // The big screen
    pub screen_alarms: &'static str,
    pub screen_alarms_none: &'static str,
}

pub static MONITORING_ZH: MonitoringTr = MonitoringTr {
    nav_group: "监测",
    nav_map: "运行监测",
    nav_alarms: "报警",
    nav_alarms_count: "待确认的报警",
    nav_rules: "报警规则",
    forbidden: "运行监测仅向指挥中心、领导和权属部门开放。",
    not_running_title: "运行监测未启用",
    not_running: "本服务器没有运行运行监测（设备接入与报警）。",
    device_not_found: "没有这台设备，或它不在您的辖区内。",
    status_normal: "正常",
    status_alarm: "报警",
    status_offline: "离线",
    status_inactive: "停用",
    level_1: "一级",
    level_2: "二级",
    level_3: "三级",
    level_hint: "三级最严重",
    lifeline_gas: "燃气",
    lifeline_water: "供水",
    lifeline_drainage: "排水",
    lifeline_bridge: "桥梁",
    lifeline_city_appearance: "广告牌",
    lifeline_noise: "噪声",
    lifeline_weather: "气象",
    map_title: "运行监测",
    map_intro: "辖区内的监测设备：绿色正常，报警按级别着色，灰色离线，空心为停用。",
    devices_in_scope: "台设备",
    filter_lifeline: "专项",
    filter_type: "设备类型",
    all_lifelines: "全部专项",
    all_types: "全部类型",
    statuses: "设备状态",
    active_alarms: "当前报警",
    no_active_alarms: "当前没有报警",
    open_device: "打开设备",
    open_wall: "报警墙",
    shown_of: "显示 {n} / {total} 台",
    region_layers: "区划图层",
    live_on: "实时",
    live_off: "未连接",
    loading: "加载中…",
    wall_title: "报警墙",
    wall_intro: "当前报警，最新在前；新报警无需刷新即出现。确认表示已有人接手，报警在恢复正常后自动解除。",
    show_active: "当前报警",
    show_all: "全部报警（含已解除）",
    filter_level: "级别",
    any_level: "全部级别",
    filter_show: "范围",
    apply: "查询",
    col_level: "级别",
    col_raised: "报警时间",
    col_device: "设备",
    col_area: "区域",
    col_rule: "规则",
    col_value: "数值",
    col_status: "状态",
    col_case: "案件",
    col_actions: "操作",
    acknowledge: "确认",
    acknowledged_by_at: "确认于",
    reminders_sent: "已催办 {n} 次",
    handed_to_enforcement: "已移交执法",
    case_not_visible: "已立案",
    no_case: "—",
    wall_empty: "当前没有报警。",
    wall_empty_all: "没有报警记录。",
    done_ack: "报警已确认。",
    err_ack_conflict: "该报警已被确认或已解除，无需再次确认。",
    err_ack_not_found: "没有这条报警，或它不在您的辖区内。",
    new_alarm_announce: "新报警",
    counts_active: "当前报警",
    counts_raised: "待确认",
    what_raised: "新报警",
    what_escalated: "报警升级",
    what_acknowledged: "已确认",
    what_cleared: "已解除",
    what_case: "已立案",
    what_reminded: "已催办",
    what_enforcement: "移交执法",
    device_title: "监测设备",
    back_to_map: "运行监测",
    fields_title: "设备信息",
    f_id: "设备编号",
    f_type: "设备类型",
    f_lifeline: "专项",
    f_name: "名称",
    f_location: "所在区域",
    f_point: "坐标",
    f_component: "关联部件",
    f_department: "权属单位",
    f_profile: "规则模板",
    f_responsible: "责任人",
    f_status: "状态",
    f_in_service: "启用",
    f_metrics: "监测指标",
    in_service: "在用",
    out_of_service: "停用",
    show_on_map: "在地图上查看",
    charts_title: "监测曲线",
    range_2h: "近2小时",
    range_24h: "近24小时",
    range_7d: "近7天",
    range_30d: "近30天",
    res_raw: "原始读数",
    res_minute: "分钟汇总",
    res_hour: "小时汇总",
    chart_avg: "均值",
    chart_min: "最小值",
    chart_max: "最大值",
    chart_band: "最小–最大",
    chart_empty: "该时段没有读数。",
    chart_failed: "曲线加载失败。",
    chart_of: "读数",
    threshold: "阈值",
    day_limit: "昼间限值",
    night_limit: "夜间限值",
    night_max_limit: "夜间最大声级限值",
    device_alarms_active: "当前报警",
    device_alarms_recent: "最近报警",
    device_rules: "适用的报警规则",
    no_rules: "该规则模板下没有规则。",
    none: "无",
    rules_title: "报警规则",
    rules_intro: "按规则模板分组；设备通过规则模板使用其中已启用的规则。修改保存后即刻生效。",
    rules_read_only: "仅系统管理员可以修改报警规则，您看到的是只读视图。",
    profile_devices: "适用设备类型",
    add_rule: "新增规则",
    add_rule_hint: "选择规则类型后只需填写该类型的参数。",
    edit: "编辑",
    save: "保存规则",
    cancel: "取消",
    create: "新增规则",
    saved: "规则已保存，即刻生效。",
    col_name: "规则名称",
    col_kind: "类型",
    col_metric: "指标",
    col_params: "参数",
    col_case_rule: "立案",
    col_clear: "解除",
    col_enabled: "状态",
    enabled: "启用",
    disabled: "停用",
    no_rules_yet: "还没有报警规则。",
    r_profile: "规则模板",
    r_profile_hint: "通常是设备类型代码，如 gas_detector",
    r_name: "规则名称",
    r_kind: "规则类型",
    r_metric: "监测指标",
    r_case_level: "立案级别",
    r_no_case: "不立案",
    r_category: "案件类别代码",
    r_category_hint: "5位代码；立案时必填",
    r_clear_after: "恢复正常后解除（秒）",
    r_enabled: "启用",
    r_direction: "方向",
    r_above: "超上限（≥）",
    r_below: "超下限（≤）",
    r_level1: "一级阈值",
    r_level2: "二级阈值",
    r_level3: "三级阈值",
    r_levels_hint: "至少填一级；级别越高越严重，阈值依次更严",
    r_hysteresis: "回差",
    r_sustain: "持续时间（秒）",
    r_per_minute: "每分钟变化量",
    r_level: "报警级别",
    r_minutes: "无数据时长（分钟）",
    r_day_limit: "昼间限值 dB(A)",
    r_night_limit: "夜间限值 dB(A)",
    r_night_max_excess: "夜间最大声级超出量 dB(A)",
    r_day_starts: "昼间开始（时）",
    r_night_starts: "夜间开始（时）",
    r_min_rainfall: "最小降雨强度 mm/h",
    r_rain_window: "降雨时间窗（分钟）",
    r_depth1: "一级积水深度 cm",
    r_depth2: "二级积水深度 cm",
    r_depth3: "三级积水深度 cm",
    kind_threshold: "分级阈值",
    kind_rate: "变化速率",
    kind_offline: "离线",
    kind_noise: "施工噪声",
    kind_waterlogging: "内涝（雨量+积水）",
    seconds: "秒",
    minutes: "分钟",
    err_not_saved: "规则未保存：",
    err_required: "请填写「{f}」。",
    err_number: "「{f}」应为数字：{v}",
    err_levels: "阈值至少填一级，且级别越高越严重（超上限时依次增大，超下限时依次减小）。",
    err_case_category: "立案的规则需要填写案件类别代码。",
    err_category: "案件类别代码应为5位数字：{v}",
    err_negative: "「{f}」不能为负数。",
    err_positive: "「{f}」应大于0。",
    err_hours: "昼间和夜间开始时间应为0–23之间的两个不同整点。",
    err_level: "级别应为1至3。",
    err_kind: "未知的规则类型。",
    err_metric: "未知的监测指标。",
    err_too_long: "规则模板最多64个字符，规则名称最多100个字符。",
    err_not_found: "没有这条规则。",
    screen_alarms: "运行监测报警",
    screen_alarms_none: "当前没有报警",
};

pub static MONITORING_EN: MonitoringTr = MonitoringTr {
    nav_group: "Monitoring",
    nav_map: "Device map",
    nav_alarms: "Alarms",
    nav_alarms_count: "Alarms waiting to be acknowledged",
    nav_rules: "Alarm rules",
    forbidden: "Operation monitoring is for the command centre, leaders and the owning departments.",
    not_running_title: "Operation monitoring is off",
    not_running: "This server does not run operation monitoring (device ingest and alarms).",
    device_not_found: "There is no such device, or it lies outside your region.",
    status_normal: "Normal",
    status_alarm: "Alarm",
    status_offline: "Offline",
    status_inactive: "Out of service",
    level_1: "Level 1",
    level_2: "Level 2",
    level_3: "Level 3",
    level_hint: "level 3 is the most severe",
    lifeline_gas: "Gas",
    lifeline_water: "Water supply",
    lifeline_drainage: "Drainage",
    lifeline_bridge: "Bridges",
    lifeline_city_appearance: "Billboards",
    lifeline_noise: "Noise",
    lifeline_weather: "Weather",
    map_title: "Operation monitoring",
    map_intro: "The monitoring devices in your region: green normal, alarms coloured by level, grey offline, hollow out of service.",
    devices_in_scope: "devices",
    filter_lifeline: "Lifeline",
    filter_type: "Device type",
    all_lifelines: "All lifelines",
    all_types: "All types",
    statuses: "Device status",
    active_alarms: "Active alarms",
    no_active_alarms: "No active alarms",
    open_device: "Open device",
    open_wall: "Alarm wall",
    shown_of: "{n} of {total} devices shown",
    region_layers: "Boundaries",
    live_on: "Live",
    live_off: "Not connected",
    loading: "Loading…",
    wall_title: "Alarm wall",
    wall_intro: "Active alarms, newest first; new alarms appear without reloading. Acknowledging says someone has taken it; an alarm clears by itself once readings are back to normal.",
    show_active: "Active alarms",
    show_all: "All alarms (cleared too)",
    filter_level: "Level",
    any_level: "All levels",
    filter_show: "Show",
    apply: "Show",
    col_level: "Level",
    col_raised: "Raised",
    col_device: "Device",
    col_area: "Area",
    col_rule: "Rule",
    col_value: "Value",
    col_status: "Status",
    col_case: "Case",
    col_actions: "Actions",
    acknowledge: "Acknowledge",
    acknowledged_by_at: "Acknowledged",
    reminders_sent: "{n} reminders sent",
    handed_to_enforcement: "Handed to enforcement",
    case_not_visible: "Case opened",
    no_case: "—",
    wall_empty: "No active alarms.",
    wall_empty_all: "No alarms on record.",
    done_ack: "Alarm acknowledged.",
    err_ack_conflict: "That alarm has been acknowledged or cleared already.",
    err_ack_not_found: "There is no such alarm, or it lies outside your region.",
    new_alarm_announce: "New alarm",
    counts_active: "Active",
    counts_raised: "To acknowledge",
    what_raised: "New alarm",
    what_escalated: "Escalated",
    what_acknowledged: "Acknowledged",
    what_cleared: "Cleared",
    what_case: "Case opened",
    what_reminded: "Reminder sent",
    what_enforcement: "Handed to enforcement",
    device_title: "Monitoring device",
    back_to_map: "Operation monitoring",
    fields_title: "Device",
    f_id: "Device ID",
    f_type: "Type",
    f_lifeline: "Lifeline",
    f_name: "Name",
    f_location: "Area",
    f_point: "Coordinates",
    f_component: "Component",
    f_department: "Owner",
    f_profile: "Rule profile",
    f_responsible: "Responsible party",
    f_status: "Status",
    f_in_service: "Service",
    f_metrics: "Metrics",
    in_service: "In service",
    out_of_service: "Out of service",
    show_on_map: "Show on the map",
    charts_title: "Readings",
    range_2h: "2 hours",
    range_24h: "24 hours",
    range_7d: "7 days",
    range_30d: "30 days",
    res_raw: "raw readings",
    res_minute: "per minute",
    res_hour: "per hour",
    chart_avg: "Average",
    chart_min: "Minimum",
    chart_max: "Maximum",
    chart_band: "Min–max",
    chart_empty: "No readings in this period.",
    chart_failed: "The chart could not be loaded.",
    chart_of: "Reading",
    threshold: "Threshold",
    day_limit: "Day limit",
    night_limit: "Night limit",
    night_max_limit: "Night LAmax limit",
    device_alarms_active: "Active alarms",
    device_alarms_recent: "Recent alarms",
    device_rules: "Alarm rules that apply",
    no_rules: "This rule profile has no rules.",
    none: "None",
    rules_title: "Alarm rules",
    rules_intro: "Grouped by rule profile; a device uses the enabled rules of its profile. A saved change takes effect at once.",
    rules_read_only: "Only administrators change alarm rules; this is a read-only view.",
    profile_devices: "Device type",
    add_rule: "Add a rule",
    add_rule_hint: "Choose the kind of rule; only its parameters are needed.",
    edit: "Edit",
    save: "Save rule",
    cancel: "Cancel",
    create: "Add rule",
    saved: "Rule saved; it takes effect at once.",
    col_name: "Rule",
    col_kind: "Kind",
    col_metric: "Metric",
    col_params: "Parameters",
    col_case_rule: "Case",
    col_clear: "Clears",
    col_enabled: "Status",
    enabled: "Enabled",
    disabled: "Disabled",
    no_rules_yet: "No alarm rules yet.",
    r_profile: "Rule profile",
    r_profile_hint: "usually a device type code, e.g. gas_detector",
    r_name: "Name",
    r_kind: "Kind",
    r_metric: "Metric",
    r_case_level: "Opens a case from",
    r_no_case: "No case",
    r_category: "Case category code",
    r_category_hint: "5 digits; required when it opens cases",
    r_clear_after: "Clears after back to normal (s)",
    r_enabled: "Enabled",
    r_direction: "Direction",
    r_above: "Above (≥)",
    r_below: "Below (≤)",
    r_level1: "Level 1 threshold",
    r_level2: "Level 2 threshold",
    r_level3: "Level 3 threshold",
    r_levels_hint: "at least one; each higher level must be stricter",
    r_hysteresis: "Hysteresis",
    r_sustain: "Sustained for (s)",
    r_per_minute: "Change per minute",
    r_level: "Alarm level",
    r_minutes: "No data for (minutes)",
    r_day_limit: "Day limit dB(A)",
    r_night_limit: "Night limit dB(A)",
    r_night_max_excess: "Night LAmax excess dB(A)",
    r_day_starts: "Day starts (hour)",
    r_night_starts: "Night starts (hour)",
    r_min_rainfall: "Minimum rainfall mm/h",
    r_rain_window: "Rain window (minutes)",
    r_depth1: "Level 1 depth cm",
    r_depth2: "Level 2 depth cm",
    r_depth3: "Level 3 depth cm",
    kind_threshold: "Graded threshold",
    kind_rate: "Rate of change",
    kind_offline: "Offline",
    kind_noise: "Construction noise",
    kind_waterlogging: "Waterlogging (rain + depth)",
    seconds: "s",
    minutes: "min",
    err_not_saved: "The rule was not saved: ",
    err_required: "Please fill in “{f}”.",
    err_number: "“{f}” must be a number: {v}",
    err_levels: "Give at least one threshold, each higher level stricter than the one below (rising for “above”, falling for “below”).",
    err_case_category: "A rule that opens cases needs the category code of those cases.",
    err_category: "The case category code has 5 digits: {v}",
    err_negative: "“{f}” must not be negative.",
    err_positive: "“{f}” must be greater than 0.",
    err_hours: "Day and night start at two different whole hours from 0 to 23.",
    err_level: "The level is 1 to 3.",
    err_kind: "Unknown kind of rule.",
    err_metric: "Unknown metric.",
    err_too_long: "A rule profile has at most 64 characters, a name at most 100.",
    err_not_found: "There is no such rule.",
    screen_alarms: "Monitoring alarms",
    screen_alarms_none: "No active alarms",
};

/// The lifelines (专项) in the order the pages list them.
pub const LIFELINES: [&str; 7] = [
    "gas",
    "water",
    "drainage",
    "bridge",
    "city_appearance",
    "noise",
    "weather",
];

impl MonitoringTr {
    fn zh(&self) -> bool {
        std::ptr::eq(self, &MONITORING_ZH)
    }

    /// A lifeline's name (`gas`, `water`, … as [`DeviceType::lifeline`] gives them).
    pub fn lifeline(&self, key: &str) -> &'static str {
        match key {
            "gas" => self.lifeline_gas,
            "water" => self.lifeline_water,
            "drainage" => self.lifeline_drainage,
            "bridge" => self.lifeline_bridge,
            "city_appearance" => self.lifeline_city_appearance,
            "noise" => self.lifeline_noise,
            "weather" => self.lifeline_weather,
            _ => "—",
        }
    }

    pub fn device_type(&self, t: DeviceType) -> &'static str {
        if self.zh() { t.name_zh() } else { t.name_en() }
    }

    pub fn metric(&self, m: Metric) -> &'static str {
        if self.zh() { m.name_zh() } else { m.name_en() }
    }

    pub fn alarm_status(&self, s: AlarmStatus) -> &'static str {
        match (self.zh(), s) {
            (true, s) => s.name_zh(),
            (false, AlarmStatus::Raised) => "Raised",
            (false, AlarmStatus::Acknowledged) => "Acknowledged",
            (false, AlarmStatus::Cleared) => "Cleared",
        }
    }

    /// A device status (`normal`, `alarm`, `offline`, `inactive`).
    pub fn device_status(&self, key: &str) -> &'static str {
        match key {
            "alarm" => self.status_alarm,
            "offline" => self.status_offline,
            "inactive" => self.status_inactive,
            _ => self.status_normal,
        }
    }

    /// An alarm level's name (1 least severe … 3 most severe).
    pub fn level(&self, level: u8) -> &'static str {
        match level {
            0 | 1 => self.level_1,
            2 => self.level_2,
            _ => self.level_3,
        }
    }

    /// What an alarm change did (`raised`, `escalated`, …).
    pub fn what(&self, what: &str) -> &'static str {
        match what {
            "raised" => self.what_raised,
            "escalated" => self.what_escalated,
            "acknowledged" => self.what_acknowledged,
            "cleared" => self.what_cleared,
            "case" => self.what_case,
            "reminded" => self.what_reminded,
            "enforcement" => self.what_enforcement,
            _ => "",
        }
    }

    /// A rule kind's name by its key (`threshold`, `rate_of_change`, …).
    pub fn kind(&self, key: &str) -> &'static str {
        match key {
            "threshold" => self.kind_threshold,
            "rate_of_change" => self.kind_rate,
            "offline" => self.kind_offline,
            "construction_noise" => self.kind_noise,
            "waterlogging" => self.kind_waterlogging,
            _ => "—",
        }
    }

    pub fn direction(&self, d: Direction) -> &'static str {
        match d {
            Direction::Above => self.r_above,
            Direction::Below => self.r_below,
        }
    }

    pub fn reminders(&self, n: u32) -> String {
        self.reminders_sent.replace("{n}", &n.to_string())
    }

    pub fn required(&self, field: &str) -> String {
        self.err_required.replace("{f}", field)
    }

    pub fn not_a_number(&self, field: &str, value: &str) -> String {
        self.err_number.replace("{f}", field).replace("{v}", value)
    }

    /// The parameters of a rule in a line ("≥ 10 / 25 / 50 %LEL · 回差 1 · 持续 0 秒").
    pub fn params(&self, kind: &RuleKind, metric: Metric) -> String {
        let unit = metric.unit();
        let levels = |ls: &[Option<f64>; 3]| {
            ls.iter()
                .map(|l| l.map_or_else(|| "—".to_string(), num))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let sep = " · ";
        match kind {
            RuleKind::Threshold {
                direction,
                levels: ls,
                hysteresis,
                sustain_secs,
            } => {
                let sign = match direction {
                    Direction::Above => "≥",
                    Direction::Below => "≤",
                };
                format!(
                    "{sign} {} {unit}{sep}{} {}{sep}{} {sustain_secs} {}",
                    levels(ls),
                    self.r_hysteresis,
                    num(*hysteresis),
                    self.r_sustain_short(),
                    self.seconds
                )
            }
            RuleKind::RateOfChange { per_minute, level } => format!(
                "|Δ| ≥ {} {unit}/{}{sep}{}",
                num(*per_minute),
                self.minutes,
                self.level(*level)
            ),
            RuleKind::Offline { minutes, level } => format!(
                "{} {minutes} {}{sep}{}",
                self.offline_short(),
                self.minutes,
                self.level(*level)
            ),
            RuleKind::ConstructionNoise {
                day_limit,
                night_limit,
                night_max_excess,
                day_starts_hour,
                night_starts_hour,
                hysteresis,
                level,
            } => format!(
                "{} {} / {} {} dB(A){sep}LAmax +{}{sep}{day_starts_hour:02}:00–{night_starts_hour:02}:00{sep}{} {}{sep}{}",
                self.day_limit,
                num(*day_limit),
                self.night_limit,
                num(*night_limit),
                num(*night_max_excess),
                self.r_hysteresis,
                num(*hysteresis),
                self.level(*level)
            ),
            RuleKind::Waterlogging {
                depth_levels,
                min_rainfall,
                rain_window_mins,
                hysteresis,
            } => format!(
                "≥ {} cm{sep}≥ {} mm/h ({rain_window_mins} {}){sep}{} {}",
                levels(depth_levels),
                num(*min_rainfall),
                self.minutes,
                self.r_hysteresis,
                num(*hysteresis)
            ),
        }
    }

    fn r_sustain_short(&self) -> &'static str {
        if self.zh() { "持续" } else { "sustained" }
    }

    fn offline_short(&self) -> &'static str {
        if self.zh() {
            "无数据"
        } else {
            "no data for"
        }
    }
}

/// A number without needless decimals (10 → "10", 0.25 → "0.25").
pub fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The key of a rule kind (as in the API's `definition.kind`).
pub fn kind_key(kind: &RuleKind) -> &'static str {
    match kind {
        RuleKind::Threshold { .. } => "threshold",
        RuleKind::RateOfChange { .. } => "rate_of_change",
        RuleKind::Offline { .. } => "offline",
        RuleKind::ConstructionNoise { .. } => "construction_noise",
        RuleKind::Waterlogging { .. } => "waterlogging",
    }
}

impl Lang {
    /// The monitoring pages' strings.
    pub fn monitoring(self) -> &'static MonitoringTr {
        match self {
            Lang::Zh => &MONITORING_ZH,
            Lang::En => &MONITORING_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(num(10.0), "10");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1.0 / 3.0), "0.3333");
        assert_eq!(Lang::En.monitoring().level(3), "Level 3");
        assert_eq!(Lang::Zh.monitoring().lifeline("gas"), "燃气");
        for t in DeviceType::ALL {
            assert_ne!(MONITORING_ZH.lifeline(t.lifeline()), "—", "{t:?}");
            assert!(LIFELINES.contains(&t.lifeline()));
        }
        let p = MONITORING_ZH.params(
            &RuleKind::Threshold {
                direction: Direction::Above,
                levels: [Some(10.0), Some(25.0), None],
                hysteresis: 1.0,
                sustain_secs: 0,
            },
            Metric::Ch4Lel,
        );
        assert_eq!(p, "≥ 10 / 25 / — %LEL · 回差 1 · 持续 0 秒");
    }
}
