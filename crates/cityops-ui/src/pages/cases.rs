//! 案件 (cases): the work queues (待办队列) of the 工作台, the case list (案件列表) whose filters,
//! sort and page all live in the URL (a saved filter is the URL; a queue is a preset such as
//! `/cases?queue=to_dispatch`), and the queue counts of the navigation.
//!
//! Every read goes through the store with the user's [`CaseVisibility`]: a case outside the
//! scope is never loaded. Names of categories, departments and regions come from the in-memory
//! catalogue and region names, never one query per row.
use std::collections::HashMap;
use std::sync::Mutex;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_app::Catalogue;
use cityops_domain::calendar::{Light, WorkingCalendar};
use cityops_domain::case::{self, Case, CaseSource, CaseStatus, CaseVisibility};
use cityops_domain::privacy::ContactDisclosure;
use cityops_domain::{LimitUnit, PageRequest, Role, User};
use cityops_store::{CaseFlag, CaseQuery, CaseSort, ContactAccess, ContactAccessVia, StoreError};
use serde::Deserialize;

use super::render;
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, UiError, WithLang};
use crate::i18n::Lang;
use crate::i18n_cases::SliceTr;
use crate::layout::{Layout, Section};
use crate::util::{Pager, fmt_int, url_with};

/// A work queue (待办队列): a named preset of the case list for one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// 受理员: 新上报 (待受理).
    NewReports,
    /// 受理员/值班长: 疑似重复 — reports with an open case of the same category nearby.
    Duplicates,
    /// 受理员: 待发核查 — handled, waiting to be sent to the inspector.
    ToSendCheck,
    /// 值班长: 待立案.
    ToFile,
    /// 值班长: 待结案 — the check passed.
    ToClose,
    /// 派遣员: 待派遣.
    ToDispatch,
    /// 派遣员: 退回案件 — filed again after a wrong dispatch was returned.
    Returned,
    /// 派遣员: 延期/挂账申请.
    Requests,
    /// 处置单位: 待签收.
    ToSign,
    /// 处置单位: 处置中.
    Handling,
    /// 处置单位: 即将到期 (黄灯).
    DueSoon,
    /// 处置单位: 已超期 (红灯).
    Overdue,
    /// 监督员: 待核实 (assigned to me).
    ToVerify,
    /// 监督员: 待核查 (assigned to me).
    ToCheck,
    /// 领导/管理员: 在办案件.
    Open,
    /// 领导/管理员: 红灯案件.
    RedNow,
    /// 领导/管理员: 督办案件.
    Supervised,
    /// 领导/管理员: 今日上报.
    ReportedToday,
}

const OPEN: [CaseStatus; 8] = [
    CaseStatus::Reported,
    CaseStatus::Verifying,
    CaseStatus::Filed,
    CaseStatus::Dispatched,
    CaseStatus::Handling,
    CaseStatus::Handled,
    CaseStatus::Checking,
    CaseStatus::Suspended,
];

impl Queue {
    pub const ALL: [Queue; 18] = [
        Queue::NewReports,
        Queue::Duplicates,
        Queue::ToSendCheck,
        Queue::ToFile,
        Queue::ToClose,
        Queue::ToDispatch,
        Queue::Returned,
        Queue::Requests,
        Queue::ToSign,
        Queue::Handling,
        Queue::DueSoon,
        Queue::Overdue,
        Queue::ToVerify,
        Queue::ToCheck,
        Queue::Open,
        Queue::RedNow,
        Queue::Supervised,
        Queue::ReportedToday,
    ];

    /// The value of `?queue=`.
    pub fn key(self) -> &'static str {
        match self {
            Queue::NewReports => "new_reports",
            Queue::Duplicates => "duplicates",
            Queue::ToSendCheck => "to_send_check",
            Queue::ToFile => "to_file",
            Queue::ToClose => "to_close",
            Queue::ToDispatch => "to_dispatch",
            Queue::Returned => "returned",
            Queue::Requests => "requests",
            Queue::ToSign => "to_sign",
            Queue::Handling => "handling",
            Queue::DueSoon => "due_soon",
            Queue::Overdue => "overdue",
            Queue::ToVerify => "to_verify",
            Queue::ToCheck => "to_check",
            Queue::Open => "open",
            Queue::RedNow => "red_now",
            Queue::Supervised => "supervised",
            Queue::ReportedToday => "reported_today",
        }
    }

    /// The list URL of the queue.
    pub fn href(self) -> &'static str {
        match self {
            Queue::NewReports => "/cases?queue=new_reports",
            Queue::Duplicates => "/cases?queue=duplicates",
            Queue::ToSendCheck => "/cases?queue=to_send_check",
            Queue::ToFile => "/cases?queue=to_file",
            Queue::ToClose => "/cases?queue=to_close",
            Queue::ToDispatch => "/cases?queue=to_dispatch",
            Queue::Returned => "/cases?queue=returned",
            Queue::Requests => "/cases?queue=requests",
            Queue::ToSign => "/cases?queue=to_sign",
            Queue::Handling => "/cases?queue=handling",
            Queue::DueSoon => "/cases?queue=due_soon",
            Queue::Overdue => "/cases?queue=overdue",
            Queue::ToVerify => "/cases?queue=to_verify",
            Queue::ToCheck => "/cases?queue=to_check",
            Queue::Open => "/cases?queue=open",
            Queue::RedNow => "/cases?queue=red_now",
            Queue::Supervised => "/cases?queue=supervised",
            Queue::ReportedToday => "/cases?queue=reported_today",
        }
    }

    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.key() == s)
    }

    /// The queues of a user's roles, in the order of the roles' work.
    pub fn for_user(user: &User) -> Vec<Queue> {
        let mut out: Vec<Queue> = Vec::new();
        let mut add = |qs: &[Queue]| {
            for q in qs {
                if !out.contains(q) {
                    out.push(*q);
                }
            }
        };
        if user.has_role(Role::Intake) {
            add(&[Queue::NewReports, Queue::Duplicates, Queue::ToSendCheck]);
        }
        if user.has_role(Role::Supervisor) {
            add(&[Queue::ToFile, Queue::Duplicates, Queue::ToClose]);
        }
        if user.has_role(Role::Dispatcher) {
            add(&[Queue::ToDispatch, Queue::Returned, Queue::Requests]);
        }
        if user.has_role(Role::Handler) || user.has_role(Role::Enforcement) {
            add(&[
                Queue::ToSign,
                Queue::Handling,
                Queue::DueSoon,
                Queue::Overdue,
            ]);
        }
        if user.has_role(Role::Inspector) {
            add(&[Queue::ToVerify, Queue::ToCheck]);
        }
        if user.has_role(Role::Leader) || user.has_role(Role::Admin) {
            add(&[
                Queue::Open,
                Queue::RedNow,
                Queue::Supervised,
                Queue::ReportedToday,
            ]);
        }
        out
    }

    /// The list query of the queue for `user` at `now` (the scope is applied separately).
    pub fn query(self, user: &User, now: DateTime<Utc>, cal: &WorkingCalendar) -> CaseQuery {
        let mut q = CaseQuery::new(now);
        q.sort = CaseSort::DueAsc;
        let working = [CaseStatus::Dispatched, CaseStatus::Handling];
        match self {
            Queue::NewReports | Queue::ToFile => q.statuses = vec![CaseStatus::Reported],
            Queue::Duplicates => {
                q.statuses = vec![CaseStatus::Reported, CaseStatus::Verifying];
                q.flag = Some(CaseFlag::Duplicate);
            }
            Queue::ToSendCheck => q.statuses = vec![CaseStatus::Handled],
            Queue::ToClose => {
                q.statuses = vec![CaseStatus::Checking];
                q.flag = Some(CaseFlag::CheckPassed);
            }
            Queue::ToDispatch => q.statuses = vec![CaseStatus::Filed],
            Queue::Returned => {
                q.statuses = vec![CaseStatus::Filed];
                q.flag = Some(CaseFlag::Returned);
            }
            Queue::Requests => {
                q.statuses = vec![CaseStatus::Handling];
                q.flag = Some(CaseFlag::Pending);
            }
            Queue::ToSign => q.statuses = vec![CaseStatus::Dispatched],
            Queue::Handling => q.statuses = vec![CaseStatus::Handling],
            Queue::DueSoon => {
                q.statuses = working.to_vec();
                q.light = Some(Light::Yellow);
            }
            Queue::Overdue => {
                q.statuses = working.to_vec();
                q.light = Some(Light::Red);
            }
            Queue::ToVerify => {
                q.statuses = vec![CaseStatus::Verifying];
                q.assignee_id = Some(user.id);
            }
            Queue::ToCheck => {
                q.statuses = vec![CaseStatus::Checking];
                q.assignee_id = Some(user.id);
            }
            Queue::Open => q.statuses = OPEN.to_vec(),
            Queue::RedNow => {
                q.statuses = OPEN.to_vec();
                q.light = Some(Light::Red);
            }
            Queue::Supervised => {
                q.statuses = OPEN.to_vec();
                q.supervised = Some(true);
            }
            Queue::ReportedToday => {
                q.statuses = CaseStatus::ALL.to_vec();
                q.from = Some(local_midnight(cal, now));
                q.sort = CaseSort::CreatedDesc;
            }
        }
        q
    }
}

/// The start of the local day (the calendar's zone) that holds `now`.
pub(crate) fn local_midnight(cal: &WorkingCalendar, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = cal.config().tz;
    let date = now.with_timezone(&tz).date_naive();
    local_date_start(cal, date).unwrap_or(now)
}

fn local_date_start(cal: &WorkingCalendar, date: NaiveDate) -> Option<DateTime<Utc>> {
    cal.config()
        .tz
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// `2026-11-22 14:30` in the calendar's zone.
pub(crate) fn fmt_local(cal: &WorkingCalendar, t: DateTime<Utc>) -> String {
    t.with_timezone(&cal.config().tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// How long the counts of the navigation are reused for one user (on the injected clock).
const COUNTS_TTL_SECS: i64 = 5;

/// The counts of one user's queues and when they were counted.
type Counted = (DateTime<Utc>, Vec<(Queue, u64)>);

/// The navigation's queue counts of each user, kept a few seconds.
#[derive(Default)]
pub(crate) struct QueueCounts {
    by_user: Mutex<HashMap<i64, Counted>>,
}

impl QueueCounts {
    /// Keeps counts just computed (the 工作台 counts its queues anyway).
    fn put(&self, user_id: i64, now: DateTime<Utc>, counts: Vec<(Queue, u64)>) {
        if let Ok(mut m) = self.by_user.lock() {
            // Keep the map small: drop stale entries of other users.
            m.retain(|_, (at, _)| now - *at < Duration::seconds(COUNTS_TTL_SECS));
            m.insert(user_id, (now, counts));
        }
    }

    /// Forgets a user's counts (after they acted, so their queues show the change at once).
    pub fn forget(&self, user_id: i64) {
        if let Ok(mut m) = self.by_user.lock() {
            m.remove(&user_id);
        }
    }
}

/// The counts of the user's queues: from the cache when fresh, else one count query per queue
/// (each answered by the status index within the scope).
pub(crate) async fn queue_counts(st: &UiState, user: &User) -> Result<Vec<(Queue, u64)>, UiError> {
    let now = st.app.clock.now();
    if let Ok(m) = st.caches.queue_counts.by_user.lock()
        && let Some((at, counts)) = m.get(&user.id)
        && now >= *at
        && now - *at < Duration::seconds(COUNTS_TTL_SECS)
    {
        return Ok(counts.clone());
    }
    let cal = st.app.calendar();
    let vis = CaseVisibility::for_user(user);
    let mut counts = Vec::new();
    for q in Queue::for_user(user) {
        let n = st
            .app
            .store
            .count_cases(&q.query(user, now, &cal), &vis)
            .await?
            .total;
        counts.push((q, n));
    }
    st.caches.queue_counts.put(user.id, now, counts.clone());
    Ok(counts)
}

/// The time left (or over) of a case's running stage, in the unit of its rule.
#[derive(Debug, Clone)]
pub(crate) struct TimeLeft {
    pub text: String,
    /// `ok`, `soon`, `over` or `none` (CSS).
    pub class: &'static str,
}

/// A counted amount in the unit, one decimal without a trailing `.0`.
fn amount(cal: &WorkingCalendar, unit: LimitUnit, secs: i64) -> String {
    let per = match unit {
        LimitUnit::UrgentHour | LimitUnit::WorkHour => 3600.0,
        LimitUnit::WorkDay => cal.working_seconds_per_day().max(1) as f64,
        LimitUnit::NaturalDay => 86_400.0,
    };
    let v = (secs.unsigned_abs() as f64 / per * 10.0).round() / 10.0;
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

pub(crate) fn time_left(
    lang: Lang,
    case: &Case,
    light: Light,
    now: DateTime<Utc>,
    cal: &WorkingCalendar,
) -> TimeLeft {
    let t = lang.cases();
    if !case.status.is_open() {
        return TimeLeft {
            text: t.status(case.status).to_string(),
            class: "none",
        };
    }
    if case.status == CaseStatus::Suspended {
        return TimeLeft {
            text: match case.suspended_until {
                Some(u) => t.suspended_until(&fmt_local(cal, u)),
                None => t.status(case.status).to_string(),
            },
            class: "none",
        };
    }
    match case.clock.as_ref().and_then(|k| k.due.map(|d| (k, d))) {
        Some((k, due)) => {
            let secs = cal.remaining(k.limit.unit, now, due);
            let unit = lang.limit_unit(k.limit.unit);
            let a = amount(cal, k.limit.unit, secs);
            if secs < 0 {
                TimeLeft {
                    text: t.overdue_by(&a, unit),
                    class: "over",
                }
            } else {
                TimeLeft {
                    text: t.left(&a, unit),
                    class: if light == Light::Yellow { "soon" } else { "ok" },
                }
            }
        }
        None => TimeLeft {
            text: "—".to_string(),
            class: "none",
        },
    }
}

/// CSS class of a light.
pub(crate) fn light_class(l: Light) -> &'static str {
    l.as_str()
}

/// One row of a case table.
#[derive(Debug, Clone)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub code: String,
    pub category: String,
    pub address: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub department: String,
    pub light: &'static str,
    pub light_label: &'static str,
    pub left: TimeLeft,
    pub reported: String,
    /// 派遣员: the suggested department and why the matrix suggested it.
    pub suggested: String,
    pub why: String,
    pub duplicate_of: Option<i64>,
}

/// The category's name (or code), from the in-memory catalogue.
pub(crate) fn category_name(cat: &Catalogue, case: &Case) -> String {
    match (case.category_kind, case.category_code.as_deref()) {
        (Some(k), Some(c)) => cat
            .category(k, c)
            .map_or_else(|| c.to_string(), |x| x.name.clone()),
        (None, Some(c)) => c.to_string(),
        _ => "—".to_string(),
    }
}

pub(crate) fn department_name(cat: &Catalogue, id: Option<i64>) -> String {
    id.and_then(|d| cat.department(d))
        .map_or_else(|| "—".to_string(), |d| d.name.clone())
}

/// Why the responsibility matrix suggests the case's department: the rule that matches it now
/// (category or class or `*`, × region → department), or the component's owner.
pub(crate) fn why_suggested(st: &UiState, lang: Lang, cat: &Catalogue, case: &Case) -> String {
    let t = lang.cases();
    let Some(suggested) = case.suggested_department_id else {
        return t.no_rule.to_string();
    };
    let matrix = st.app.routing();
    let rule = case
        .category_kind
        .zip(case.category_code.as_deref())
        .and_then(|(k, c)| matrix.rule_for(k, c, &case.location));
    match rule {
        Some(r) if r.department_id == suggested => {
            let what = if r.category_code == "*" {
                t.any_category.to_string()
            } else {
                case.category_kind
                    .and_then(|k| cat.category(k, &r.category_code))
                    .map_or_else(
                        || r.category_code.clone(),
                        |c| lang.named(&c.name, &r.category_code),
                    )
            };
            let region = st
                .app
                .region_name(&r.region_code)
                .map_or_else(|| r.region_code.clone(), |n| lang.named(n, &r.region_code));
            t.rule_matched(
                &what,
                &region,
                &department_name(cat, Some(r.department_id)),
                r.auto_dispatch,
            )
        }
        _ if case.component_id.is_some() => t.by_owner.to_string(),
        _ => t.rule_changed.to_string(),
    }
}

pub(crate) fn case_row(
    st: &UiState,
    lang: Lang,
    cat: &Catalogue,
    cal: &WorkingCalendar,
    now: DateTime<Utc>,
    case: &Case,
    explain: bool,
) -> CaseRow {
    let t = lang.cases();
    let light = case::current_light(case, now, cal);
    CaseRow {
        id: case.id,
        code: case.code.clone(),
        category: category_name(cat, case),
        address: case
            .location
            .address
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| {
                case.location
                    .street_code
                    .as_deref()
                    .and_then(|c| st.app.region_name(c))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "—".to_string()),
        status: t.status(case.status),
        status_key: case.status.as_str(),
        department: department_name(cat, case.department_id),
        light: light_class(light),
        light_label: t.light(light),
        left: time_left(lang, case, light, now, cal),
        reported: fmt_local(cal, case.created_at),
        suggested: department_name(cat, case.suggested_department_id),
        why: if explain {
            why_suggested(st, lang, cat, case)
        } else {
            String::new()
        },
        duplicate_of: case.duplicate_of,
    }
}

/// Writes every full view of a reporter's contact among `cases` to the access log in one
/// statement, before the page shows them (as the API does).
pub(crate) async fn log_contacts(
    st: &UiState,
    user: &User,
    cases: &[Case],
    via: ContactAccessVia,
) -> Result<(), StoreError> {
    let at = st.app.clock.now();
    let entries: Vec<ContactAccess> = cases
        .iter()
        .filter(|c| {
            c.contact.is_some() && ContactDisclosure::for_user(user, c.reporter_id).logged()
        })
        .map(|c| ContactAccess {
            at,
            user_id: user.id,
            case_id: c.id,
            via,
        })
        .collect();
    if !entries.is_empty() {
        st.app.store.log_contact_access(&entries).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The case list

/// The list's URL parameters, all text: malformed values are reported on the page.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ListParams {
    pub queue: Option<String>,
    pub status: Option<String>,
    pub light: Option<String>,
    pub source: Option<String>,
    pub category: Option<String>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub overdue: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub page_size: Option<String>,
}

fn val(s: &Option<String>) -> String {
    s.as_deref().map(str::trim).unwrap_or("").to_string()
}

impl ListParams {
    /// The filters as URL pairs (without page), in a fixed order.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("queue", val(&self.queue)),
            ("status", val(&self.status)),
            ("light", val(&self.light)),
            ("source", val(&self.source)),
            ("category", val(&self.category)),
            ("region", val(&self.region)),
            ("department", val(&self.department)),
            ("q", val(&self.q)),
            ("from", val(&self.from)),
            ("to", val(&self.to)),
            ("overdue", val(&self.overdue)),
            ("sort", val(&self.sort)),
            ("page_size", val(&self.page_size)),
        ]
    }

    /// The case query these parameters describe, or the first malformed parameter's message.
    pub fn query(
        &self,
        t: &SliceTr,
        user: &User,
        now: DateTime<Utc>,
        cal: &WorkingCalendar,
    ) -> Result<(Option<Queue>, CaseQuery), String> {
        let bad = |name: &str, v: &str| t.bad_filter(name, v);
        let queue = match val(&self.queue).as_str() {
            "" => None,
            v => Some(Queue::parse(v).ok_or_else(|| bad("queue", v))?),
        };
        let mut q = match queue {
            Some(qu) => qu.query(user, now, cal),
            None => CaseQuery::new(now),
        };
        let status = val(&self.status);
        if !status.is_empty() {
            let mut list = Vec::new();
            for s in status.split(',') {
                list.push(s.parse::<CaseStatus>().map_err(|_| bad("status", s))?);
            }
            q.statuses = list;
        }
        match val(&self.light).as_str() {
            "" => {}
            "green" => q.light = Some(Light::Green),
            "yellow" => q.light = Some(Light::Yellow),
            "red" => q.light = Some(Light::Red),
            v => return Err(bad("light", v)),
        }
        let source = val(&self.source);
        if !source.is_empty() {
            q.source = Some(
                source
                    .parse::<CaseSource>()
                    .map_err(|_| bad("source", &source))?,
            );
        }
        let category = val(&self.category);
        if !category.is_empty() {
            if !(matches!(category.len(), 2 | 5) && category.bytes().all(|b| b.is_ascii_digit())) {
                return Err(bad("category", &category));
            }
            q.category = Some(category);
        }
        let region = val(&self.region);
        if !region.is_empty() {
            if !(matches!(region.len(), 6 | 9 | 12 | 15)
                && region.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad("region", &region));
            }
            q.region_code = Some(region);
        }
        let department = val(&self.department);
        if !department.is_empty() {
            q.department_id = Some(
                department
                    .parse::<i64>()
                    .map_err(|_| bad("department", &department))?,
            );
        }
        let text = val(&self.q);
        if !text.is_empty() {
            cityops_domain::limits::SEARCH_QUERY
                .check(&text)
                .map_err(|_| bad("q", &text))?;
            q.text = Some(text);
        }
        let date = |name: &str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| local_date_start(cal, d))
                .ok_or_else(|| bad(name, v))
        };
        let from = val(&self.from);
        if !from.is_empty() {
            q.from = Some(date("from", &from)?);
        }
        let to = val(&self.to);
        if !to.is_empty() {
            // The whole day `to` is included.
            q.to = Some(date("to", &to)? + Duration::days(1));
        }
        match val(&self.overdue).as_str() {
            "" => {}
            "true" | "1" => q.overdue = Some(true),
            "false" | "0" => q.overdue = Some(false),
            v => return Err(bad("overdue", v)),
        }
        match val(&self.sort).as_str() {
            "" => {}
            // The reported time is the creation time: both names are accepted.
            "created_desc" | "reported_desc" => q.sort = CaseSort::CreatedDesc,
            "created_asc" | "reported_asc" => q.sort = CaseSort::CreatedAsc,
            "due_asc" => q.sort = CaseSort::DueAsc,
            "updated_desc" => q.sort = CaseSort::UpdatedDesc,
            v => return Err(bad("sort", v)),
        }
        Ok((queue, q))
    }
}

fn sort_key(s: CaseSort) -> &'static str {
    match s {
        CaseSort::CreatedDesc => "created_desc",
        CaseSort::CreatedAsc => "created_asc",
        CaseSort::DueAsc => "due_asc",
        CaseSort::UpdatedDesc => "updated_desc",
    }
}

/// A sortable column heading: its link and the current direction.
pub(crate) struct SortLink {
    pub href: String,
    /// `ascending`, `descending` or `none` (`aria-sort`).
    pub aria: &'static str,
    pub arrow: &'static str,
}

/// An option of a filter's select.
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn opts(current: &str, items: impl IntoIterator<Item = (String, String)>) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

/// A queue link of the list's head (the user's queues as tabs).
pub(crate) struct QueueTab {
    pub href: String,
    pub label: &'static str,
    pub count: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "cases_list.html")]
pub(crate) struct ListPage {
    pub l: Layout,
    pub c: &'static SliceTr,
    pub heading: String,
    pub hint: &'static str,
    pub rows: Vec<CaseRow>,
    pub pager: Pager,
    pub error: Option<String>,
    pub tabs: Vec<QueueTab>,
    pub queue: String,
    /// The filters' current values (text fields).
    pub v: Values,
    pub statuses: Vec<Opt>,
    pub lights: Vec<Opt>,
    pub sources: Vec<Opt>,
    pub regions: Vec<Opt>,
    pub departments: Vec<Opt>,
    pub sort_created: SortLink,
    pub sort_due: SortLink,
    pub sort_updated: SortLink,
    pub clear_url: String,
    pub explain: bool,
    /// The export links with the current filters (none while the filters are malformed).
    pub export_csv: Option<String>,
    pub export_xlsx: Option<String>,
}

/// The current values of the list's text filters, for the form.
pub(crate) struct Values {
    pub q: String,
    pub category: String,
    pub from: String,
    pub to: String,
    pub overdue: String,
    pub sort: String,
}

/// `GET /cases`
pub(crate) async fn list(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.cases();
    let now = st.app.clock.now();
    let cal = st.app.calendar();
    let cat = st
        .app
        .app
        .catalogue()
        .await
        .map_err(service_error)
        .lang(lang)?;
    let vis = CaseVisibility::for_user(&ctx.user);
    let page_no = p
        .page
        .as_deref()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let page_size = p
        .page_size
        .as_deref()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(50)
        .clamp(10, 200);
    let page = PageRequest {
        page: page_no,
        page_size,
    };
    let parsed = p.query(t, &ctx.user, now, &cal);
    let mut status = StatusCode::OK;
    let (queue, sort, rows, total, error) = match parsed {
        Err(msg) => {
            status = StatusCode::BAD_REQUEST;
            (None, CaseSort::CreatedDesc, Vec::new(), 0, Some(msg))
        }
        Ok((queue, query)) => {
            // A text search is expensive: a few at a time per user (as the API).
            let permit = if query.text.is_some() {
                match st.app.try_expensive(ctx.user.id) {
                    Some(p) => Some(p),
                    None => {
                        status = StatusCode::TOO_MANY_REQUESTS;
                        None
                    }
                }
            } else {
                None
            };
            if status == StatusCode::TOO_MANY_REQUESTS {
                (
                    queue,
                    query.sort,
                    Vec::new(),
                    0,
                    Some(t.too_many.to_string()),
                )
            } else {
                let got = st
                    .app
                    .store
                    .list_cases(&query, &vis, page)
                    .await
                    .lang(lang)?;
                drop(permit);
                let explain = matches!(queue, Some(Queue::ToDispatch | Queue::Returned));
                let rows = got
                    .items
                    .iter()
                    .map(|c| case_row(&st, lang, &cat, &cal, now, c, explain))
                    .collect();
                (queue, query.sort, rows, got.total, None)
            }
        }
    };
    let explain = matches!(queue, Some(Queue::ToDispatch | Queue::Returned));
    let pairs = p.pairs();
    // The exports take the filters and sort, not the page.
    let export_pairs: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| *k != "page_size")
        .cloned()
        .collect();
    let (export_csv, export_xlsx) = if error.is_none() {
        (
            Some(url_with("/cases/export.csv", &export_pairs)),
            Some(url_with("/cases/export.xlsx", &export_pairs)),
        )
    } else {
        (None, None)
    };
    let pager = Pager::new("/cases", &pairs, page_no, page_size, total);
    // A column's link: its first sort, or (for the reported time, when active) the other
    // direction.
    let link = |next: CaseSort| {
        let mut params: Vec<(&str, String)> = pairs
            .iter()
            .filter(|(k, _)| *k != "sort")
            .cloned()
            .collect();
        params.push(("sort", sort_key(next).to_string()));
        url_with("/cases", &params)
    };
    let sort_created = match sort {
        CaseSort::CreatedDesc => SortLink {
            href: link(CaseSort::CreatedAsc),
            aria: "descending",
            arrow: "↓",
        },
        CaseSort::CreatedAsc => SortLink {
            href: link(CaseSort::CreatedDesc),
            aria: "ascending",
            arrow: "↑",
        },
        _ => SortLink {
            href: link(CaseSort::CreatedDesc),
            aria: "none",
            arrow: "",
        },
    };
    let (due_aria, due_arrow) = if sort == CaseSort::DueAsc {
        ("ascending", "↑")
    } else {
        ("none", "")
    };
    let sort_due = SortLink {
        href: link(CaseSort::DueAsc),
        aria: due_aria,
        arrow: due_arrow,
    };
    let (upd_aria, upd_arrow) = if sort == CaseSort::UpdatedDesc {
        ("descending", "↓")
    } else {
        ("none", "")
    };
    let sort_updated = SortLink {
        href: link(CaseSort::UpdatedDesc),
        aria: upd_aria,
        arrow: upd_arrow,
    };

    let counts = queue_counts(&st, &ctx.user).await.lang(lang)?;
    let tabs = counts
        .iter()
        .map(|(q, n)| QueueTab {
            href: q.href().to_string(),
            label: t.queue(*q),
            count: fmt_int(*n),
            active: queue == Some(*q),
        })
        .collect();
    let statuses = opts(
        &val(&p.status),
        CaseStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), t.status(*s).to_string())),
    );
    let lights = opts(
        &val(&p.light),
        [Light::Green, Light::Yellow, Light::Red]
            .into_iter()
            .map(|l| (l.as_str().to_string(), t.light(l).to_string())),
    );
    let sources = opts(
        &val(&p.source),
        CaseSource::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), t.source(*s).to_string())),
    );
    let tree = crate::tree::tree(&st).await.lang(lang)?;
    let regions = opts(
        &val(&p.region),
        tree.level(cityops_domain::RegionLevel::District)
            .into_iter()
            .chain(tree.level(cityops_domain::RegionLevel::Street))
            .map(|n| (n.code.clone(), n.name.clone())),
    );
    let depts = st
        .app
        .store
        .list_departments(
            None,
            PageRequest {
                page: 1,
                page_size: 1000,
            },
        )
        .await
        .lang(lang)?;
    let departments = opts(
        &val(&p.department),
        depts.items.into_iter().map(|d| (d.id.to_string(), d.name)),
    );
    let (heading, hint) = match queue {
        Some(q) => (t.queue(q).to_string(), t.queue_hint(q)),
        None => (t.list_title.to_string(), t.list_hint),
    };
    let l = Layout::new(&st, &ctx, Section::Cases, heading.clone()).await;
    render(
        status,
        &ListPage {
            l,
            c: t,
            heading,
            hint,
            rows,
            pager,
            error,
            tabs,
            queue: queue.map(|q| q.key().to_string()).unwrap_or_default(),
            v: Values {
                q: val(&p.q),
                category: val(&p.category),
                from: val(&p.from),
                to: val(&p.to),
                overdue: val(&p.overdue),
                sort: val(&p.sort),
            },
            statuses,
            lights,
            sources,
            regions,
            departments,
            sort_created,
            sort_due,
            sort_updated,
            clear_url: "/cases".to_string(),
            explain,
            export_csv,
            export_xlsx,
        },
        lang,
    )
}

/// `GET /cases/export.csv`: every case of the list's current filters (work queue included), as
/// the API's CSV export ([`cityops_web::export`]).
pub(crate) async fn export_csv(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Response {
    export(st, ctx, p, false).await
}

/// `GET /cases/export.xlsx`: the same as an Excel workbook.
pub(crate) async fn export_xlsx(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> Response {
    export(st, ctx, p, true).await
}

async fn export(st: UiState, ctx: Ctx, p: ListParams, xlsx: bool) -> Response {
    let lang = ctx.lang;
    let t = lang.cases();
    let now = st.app.clock.now();
    let cal = st.app.calendar();
    let query = match p.query(t, &ctx.user, now, &cal) {
        Ok((_, q)) => q,
        Err(msg) => return export_failed(lang, StatusCode::BAD_REQUEST, &msg),
    };
    let got = if xlsx {
        cityops_web::export::xlsx_response(&st.app, &ctx.user, query).await
    } else {
        cityops_web::export::csv_response(&st.app, &ctx.user, query).await
    };
    got.unwrap_or_else(|e| {
        use cityops_web::ErrorCode;
        let message = match e.code {
            ErrorCode::TooManyConcurrent => t.too_many,
            ErrorCode::ExportTooLarge => t.export_too_large,
            _ => {
                tracing::error!(error = %e, "console export failed");
                lang.tr().error_text
            }
        };
        let mut resp = export_failed(lang, e.status(), message);
        if let Some(secs) = e.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    })
}

/// A plain page saying why an export could not be made, with a way back to the list.
fn export_failed(lang: Lang, status: StatusCode, message: &str) -> Response {
    let t = lang.cases();
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{} · {}</title><link rel=\"stylesheet\" href=\"{}\"></head><body class=\"bare\"><main class=\"error-box\"><h1>{}</h1><p role=\"alert\">{}</p><p><a href=\"/cases\">{}</a></p></main></body></html>",
        lang.html(),
        t.export_failed,
        lang.tr().platform,
        crate::assets::url("app.css"),
        t.export_failed,
        escape(message),
        t.list_title,
    );
    let mut resp = (status, axum::response::Html(body)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// A service error as a page error (store failures keep their kind).
pub(crate) fn service_error(e: cityops_app::ServiceError) -> UiError {
    match e {
        cityops_app::ServiceError::Store(s) => UiError::Store(s),
        other => UiError::Internal(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// The 工作台 queues

/// A queue card of the 工作台: its count, what it holds, and its first cases.
pub(crate) struct QueueCard {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub count: String,
    pub href: String,
    pub rows: Vec<CaseRow>,
    pub explain: bool,
}

/// How many cases each 工作台 card previews.
const PREVIEW: u32 = 5;

/// The cards of the user's queues, each with its count and first cases (one list query each:
/// the page's count is the queue's count).
pub(crate) async fn queue_cards(
    st: &UiState,
    lang: Lang,
    user: &User,
) -> Result<Vec<QueueCard>, UiError> {
    let t = lang.cases();
    let now = st.app.clock.now();
    let cal = st.app.calendar();
    let cat = st.app.app.catalogue().await.map_err(service_error)?;
    let vis = CaseVisibility::for_user(user);
    let mut cards = Vec::new();
    let mut counts = Vec::new();
    for q in Queue::for_user(user) {
        let got = st
            .app
            .store
            .list_cases(
                &q.query(user, now, &cal),
                &vis,
                PageRequest {
                    page: 1,
                    page_size: PREVIEW,
                },
            )
            .await?;
        let explain = matches!(q, Queue::ToDispatch | Queue::Returned);
        counts.push((q, got.total));
        cards.push(QueueCard {
            key: q.key(),
            label: t.queue(q),
            hint: t.queue_hint(q),
            count: fmt_int(got.total),
            href: q.href().to_string(),
            rows: got
                .items
                .iter()
                .map(|c| case_row(st, lang, &cat, &cal, now, c, explain))
                .collect(),
            explain,
        });
    }
    // The navigation of this page shows the same counts.
    st.caches.queue_counts.put(user.id, now, counts);
    Ok(cards)
}
