//! The strings of the Open311 page (接入应用: the client applications of the Open311 interface
//! and their API keys, for administrators), Chinese first with a complete English translation:
//! both [`OPEN311_ZH`] and [`OPEN311_EN`] fill every field, so a missing string does not
//! compile.
use crate::i18n::Lang;

/// Every text of the Open311 page.
#[derive(Debug)]
pub struct Open311Tr {
    pub nav: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub forbidden: &'static str,
    pub not_found: &'static str,
    // The issue form
    pub issue_title: &'static str,
    pub f_name: &'static str,
    pub f_name_hint: &'static str,
    pub f_contact: &'static str,
    pub f_contact_hint: &'static str,
    pub issue: &'static str,
    // The new key, shown once
    pub issued_title: &'static str,
    pub issued_once: &'static str,
    pub f_key: &'static str,
    // The list
    pub col_id: &'static str,
    pub col_name: &'static str,
    pub col_contact: &'static str,
    pub col_created: &'static str,
    pub col_last_used: &'static str,
    pub col_status: &'static str,
    pub col_action: &'static str,
    pub active: &'static str,
    pub revoked_at: &'static str,
    pub never_used: &'static str,
    pub revoke: &'static str,
    pub revoke_confirm: &'static str,
    pub revoked_notice: &'static str,
    pub empty: &'static str,
    // Errors of the form
    pub err_name: &'static str,
    pub err_too_long: &'static str,
    // The interface
    pub endpoint_title: &'static str,
    pub endpoint_text: &'static str,
}

/// 中文.
pub const OPEN311_ZH: Open311Tr = Open311Tr {
    nav: "Open311 接入",
    title: "Open311 接入应用",
    intro: "第三方应用通过 Open311 GeoReport v2 接口（/open311/v2/）查询服务、提交和跟踪诉求。提交诉求需要管理员签发的 API key；key 只在签发时显示一次，平台只保存其 SHA-256。吊销立即对所有服务器进程生效。",
    forbidden: "只有管理员可以管理 Open311 接入应用。",
    not_found: "没有这个接入应用。",
    issue_title: "签发新的 API key",
    f_name: "应用名称",
    f_name_hint: "例如：惠民 APP",
    f_contact: "联系人",
    f_contact_hint: "负责人或邮箱（可不填）",
    issue: "签发",
    issued_title: "已签发 API key",
    issued_once: "请立即复制并交给应用开发者：离开本页后无法再次查看。",
    f_key: "API key",
    col_id: "编号",
    col_name: "应用名称",
    col_contact: "联系人",
    col_created: "签发时间",
    col_last_used: "最近使用",
    col_status: "状态",
    col_action: "操作",
    active: "有效",
    revoked_at: "已吊销于",
    never_used: "从未使用",
    revoke: "吊销",
    revoke_confirm: "确认吊销",
    revoked_notice: "已吊销接入应用",
    empty: "还没有接入应用。",
    err_name: "请填写应用名称。",
    err_too_long: "应用名称最多 100 字，联系人最多 200 字。",
    endpoint_title: "接口地址",
    endpoint_text: "服务发现：/open311/v2/discovery.xml（或 .json）；服务列表：/open311/v2/services.xml；提交诉求：POST /open311/v2/requests.xml。说明见 docs/OPEN311.md。",
};

/// English.
pub const OPEN311_EN: Open311Tr = Open311Tr {
    nav: "Open311 clients",
    title: "Open311 client applications",
    intro: "Other applications list services, post requests and follow them through the Open311 GeoReport v2 interface (/open311/v2/). Posting needs an API key issued by an administrator; the key is shown once, at its issue, and the platform keeps only its SHA-256. A revocation holds at once in every server process.",
    forbidden: "Only administrators manage Open311 client applications.",
    not_found: "No such client application.",
    issue_title: "Issue a new API key",
    f_name: "Application name",
    f_name_hint: "e.g. Huimin app",
    f_contact: "Contact",
    f_contact_hint: "A person or a mail address (optional)",
    issue: "Issue",
    issued_title: "API key issued",
    issued_once: "Copy it now and hand it to the application's developers: it cannot be shown again once you leave this page.",
    f_key: "API key",
    col_id: "ID",
    col_name: "Application",
    col_contact: "Contact",
    col_created: "Issued",
    col_last_used: "Last used",
    col_status: "Status",
    col_action: "Action",
    active: "Active",
    revoked_at: "Revoked at",
    never_used: "Never used",
    revoke: "Revoke",
    revoke_confirm: "Yes, revoke",
    revoked_notice: "Revoked client application",
    empty: "No client applications yet.",
    err_name: "Give the application a name.",
    err_too_long: "The name takes at most 100 characters, the contact at most 200.",
    endpoint_title: "Endpoints",
    endpoint_text: "Discovery: /open311/v2/discovery.xml (or .json); services: /open311/v2/services.xml; post a request: POST /open311/v2/requests.xml. See docs/OPEN311.md.",
};

impl Lang {
    /// The Open311 page's strings.
    pub fn open311(self) -> &'static Open311Tr {
        match self {
            Lang::Zh => &OPEN311_ZH,
            Lang::En => &OPEN311_EN,
        }
    }
}
