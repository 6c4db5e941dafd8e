//! The case state machine (案件流转): for every action, the statuses it is possible in, the roles
//! (and relationships: the case's department, the assigned inspector, the reporter) that may take
//! it, what it requires, which deadlines it sets, which event it emits and whom it notifies.
//!
//! Pure: callers look up what the machine cannot know (the filing standard's limit, the master
//! case of a merge, the suggested department) and pass it in [`Context`].
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::event::{NewCaseEvent, NewNotification, Recipient};
use super::types::*;
use crate::calendar::{Light, WorkingCalendar};
use crate::catalogue::{CategoryKind, LimitUnit, TimeLimit};
use crate::org::{Role, User};

/// Stage limits and rules the city configures (节点时限).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkflowConfig {
    pub verify_limit: TimeLimit,
    pub file_limit: TimeLimit,
    pub dispatch_limit: TimeLimit,
    pub sign_limit: TimeLimit,
    pub check_limit: TimeLimit,
    pub close_limit: TimeLimit,
    /// Used when a category has no filing standard.
    pub default_handle_limit: TimeLimit,
    /// 延期: at most this many approvals.
    pub max_postpones: u32,
    /// 挂账: at most this many days.
    pub max_suspend_days: i64,
    /// Categories (5-digit codes) whose inspector reports are filed directly, without intake.
    pub direct_file_categories: Vec<String>,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        let wh = |value| TimeLimit {
            value,
            unit: LimitUnit::WorkHour,
        };
        Self {
            verify_limit: wh(2),
            file_limit: wh(1),
            dispatch_limit: wh(1),
            sign_limit: wh(1),
            check_limit: wh(2),
            close_limit: wh(1),
            default_handle_limit: TimeLimit {
                value: 5,
                unit: LimitUnit::WorkDay,
            },
            max_postpones: 2,
            max_suspend_days: 365,
            direct_file_categories: Vec::new(),
        }
    }
}

impl WorkflowConfig {
    pub fn stage_limit(&self, stage: Stage) -> Option<TimeLimit> {
        Some(match stage {
            Stage::Verify => self.verify_limit,
            Stage::File => self.file_limit,
            Stage::Dispatch => self.dispatch_limit,
            Stage::Sign => self.sign_limit,
            Stage::Check => self.check_limit,
            Stage::Close => self.close_limit,
            Stage::Handle => return None,
        })
    }
}

/// Who acts: a user's roles and scope, or the system (watcher, automatic steps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the system.
    pub user_id: Option<i64>,
    pub roles: Vec<Role>,
    pub department_id: Option<i64>,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            user_id: None,
            roles: Vec::new(),
            department_id: None,
        }
    }
    pub fn user(user: &User) -> Self {
        Self {
            user_id: Some(user.id),
            roles: user.roles.clone(),
            department_id: user.scope.department_id,
        }
    }
    pub fn is_system(&self) -> bool {
        self.user_id.is_none()
    }
    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The fields an action may carry (PRODUCT.md §8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionInput {
    pub comment: Option<String>,
    pub reason: Option<String>,
    pub category_kind: Option<CategoryKind>,
    pub category_code: Option<String>,
    pub filing_seq: Option<u32>,
    pub urgency: Option<Urgency>,
    pub department_id: Option<i64>,
    /// The inspector to verify or check (default: the inspector of the case's grid).
    pub assignee_id: Option<i64>,
    pub attachments: Vec<i64>,
    /// 挂账 until.
    pub until: Option<DateTime<Utc>>,
    /// 1–5 for `rate`.
    pub score: Option<u8>,
    /// For `verify`: whether the problem exists (default true).
    pub confirmed: Option<bool>,
    /// For `merge`: the master case.
    pub master_case_id: Option<i64>,
}

/// What the machine needs that it cannot look up itself.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a WorkingCalendar,
    pub config: &'a WorkflowConfig,
    /// The handling limit of the category/filing condition being filed (from the filing standard).
    pub handle_limit: Option<TimeLimit>,
    /// For `merge`: the master case.
    pub master: Option<&'a Case>,
    /// For `file`: the department the responsibility matrix (权责清单) suggests for the newly
    /// filed category and place, recorded on the case and in the filing event.
    pub suggested_department: Option<i64>,
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    /// Not possible in the case's status (or state): 409, with what this actor may do now.
    #[error("{action} is not possible now: {why}")]
    InvalidTransition {
        action: CaseAction,
        status: CaseStatus,
        why: String,
        allowed: Vec<CaseAction>,
    },
    /// Possible, but not for this actor's role or relationship to the case: 403.
    #[error("your role may not {action} this case")]
    Forbidden { action: CaseAction },
    /// A required field is missing: 422.
    #[error("{action} needs {field}")]
    Missing {
        action: CaseAction,
        field: &'static str,
    },
    /// A field has an invalid value: 422.
    #[error("{0}")]
    Invalid(String),
    /// A text is longer than its field allows ([`crate::limits`]): 422 `too_long`.
    #[error(transparent)]
    TooLong(#[from] crate::limits::TooLong),
}

/// The result of an action: the case after it, the event to append and whom to notify.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub case: Case,
    pub event: NewCaseEvent,
    pub notify: Vec<NewNotification>,
    /// Users who start following another case (a merged reporter follows the master).
    pub follow: Option<(i64, i64)>,
}

/// A new report (上报), before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub source: CaseSource,
    pub category_kind: Option<CategoryKind>,
    pub category_code: Option<String>,
    pub urgency: Urgency,
    pub description: String,
    pub location: CaseLocation,
    pub component_id: Option<String>,
    pub contact: Option<String>,
    pub attachments: Vec<i64>,
    pub suggested_department_id: Option<i64>,
    pub duplicate_of: Option<i64>,
}

fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let micros = t.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(t)
}

fn start_clock(
    stage: Stage,
    limit: TimeLimit,
    now: DateTime<Utc>,
    cal: &WorkingCalendar,
) -> StageClock {
    let d = cal.deadline(now, limit);
    StageClock {
        stage,
        started_at: now,
        limit,
        due: Some(d.due),
        yellow_at: Some(cal.yellow_at(limit.unit, now, d.due)),
        unscheduled: d.unscheduled,
    }
}

/// The handling limit as urgency counts it: urgent cases count continuously.
pub fn effective_handle_limit(limit: TimeLimit, urgency: Urgency) -> TimeLimit {
    match (urgency, limit.unit) {
        (Urgency::Urgent, LimitUnit::WorkHour) => TimeLimit {
            value: limit.value,
            unit: LimitUnit::UrgentHour,
        },
        (Urgency::Urgent, LimitUnit::WorkDay) => TimeLimit {
            value: limit.value,
            unit: LimitUnit::NaturalDay,
        },
        _ => limit,
    }
}

/// Creates a case from a report: status `reported`, the filing clock running, intake notified.
pub fn report(
    input: NewReport,
    actor: &Actor,
    ctx: &Context<'_>,
) -> Result<(Case, NewCaseEvent, Vec<NewNotification>), CaseError> {
    let now = truncate_micros(ctx.now);
    crate::limits::check_report(
        &input.description,
        input.location.address.as_deref(),
        input.contact.as_deref(),
    )?;
    if input.description.trim().is_empty() && input.attachments.is_empty() {
        return Err(CaseError::Invalid(
            "a report needs a description or a photo".into(),
        ));
    }
    if input.category_code.is_some() != input.category_kind.is_some() {
        return Err(CaseError::Invalid(
            "category_code and category_kind go together".into(),
        ));
    }
    let clock = start_clock(Stage::File, ctx.config.file_limit, now, ctx.calendar);
    let case = Case {
        id: 0,
        code: String::new(),
        status: CaseStatus::Reported,
        source: input.source,
        category_kind: input.category_kind,
        category_code: input.category_code,
        filing_seq: None,
        urgency: input.urgency,
        description: input.description,
        location: input.location,
        component_id: input.component_id,
        reporter_id: actor.user_id,
        contact: input.contact,
        assignee_id: None,
        department_id: None,
        suggested_department_id: input.suggested_department_id,
        clock: Some(clock),
        handle_limit: None,
        deadline: None,
        light: Light::Green,
        overdue: false,
        supervised: false,
        postpone_count: 0,
        rework_count: 0,
        return_count: 0,
        pending: None,
        suspended_until: None,
        suspend_remaining: None,
        verified: None,
        check_passed: false,
        merged_into: None,
        duplicate_of: input.duplicate_of,
        rating: None,
        close_kind: None,
        created_at: now,
        updated_at: now,
        closed_at: None,
        version: 0,
        facts: Default::default(),
    };
    let event = NewCaseEvent {
        case_id: 0,
        action: "report".into(),
        actor_id: actor.user_id,
        actor_role: report_role(actor, input.source),
        at: now,
        from_status: None,
        to_status: CaseStatus::Reported,
        comment: None,
        attachments: input.attachments,
        data: serde_json::json!({
            "source": case.source.as_str(),
            "category_code": case.category_code,
            "duplicate_of": case.duplicate_of,
        }),
    };
    let notify = vec![note(
        &case,
        Recipient::Role {
            role: Role::Intake,
            region_code: case.location.region_code().map(str::to_string),
        },
        "report",
        "待受理",
        now,
    )];
    Ok((case, event, notify))
}

fn report_role(actor: &Actor, source: CaseSource) -> Option<Role> {
    let want = match source {
        CaseSource::Inspector => Role::Inspector,
        CaseSource::Citizen => Role::Citizen,
        CaseSource::Hotline => Role::Intake,
        CaseSource::Leader => Role::Leader,
        CaseSource::VideoAi | CaseSource::Iot => return actor.roles.first().copied(),
    };
    if actor.has(want) {
        Some(want)
    } else {
        actor.roles.first().copied()
    }
}

fn note(
    case: &Case,
    recipient: Recipient,
    action: &str,
    what: &str,
    now: DateTime<Utc>,
) -> NewNotification {
    NewNotification {
        recipient,
        case_id: case.id,
        action: action.to_string(),
        title: if case.code.is_empty() {
            what.to_string()
        } else {
            format!("{what}：案件 {}", case.code)
        },
        created_at: now,
    }
}

fn role_note(
    case: &Case,
    role: Role,
    action: &str,
    what: &str,
    now: DateTime<Utc>,
) -> NewNotification {
    note(
        case,
        Recipient::Role {
            role,
            region_code: case.location.region_code().map(str::to_string),
        },
        action,
        what,
        now,
    )
}

/// The statuses in which an action is possible at all (for someone).
fn status_allows(action: CaseAction, case: &Case) -> bool {
    use CaseAction as A;
    use CaseStatus as S;
    let s = case.status;
    match action {
        A::SendVerify => s == S::Reported,
        A::Verify => s == S::Verifying,
        A::File => s == S::Reported,
        A::Reject => matches!(s, S::Reported | S::Verifying),
        A::Dispatch => s == S::Filed,
        A::Return => matches!(s, S::Filed | S::Dispatched | S::Handling),
        A::Sign => s == S::Dispatched,
        A::Handle => s == S::Handling,
        A::RequestPostpone | A::RequestSuspend => s == S::Handling && case.pending.is_none(),
        A::ApprovePostpone | A::DenyPostpone => {
            s == S::Handling && matches!(case.pending, Some(PendingRequest::Postpone { .. }))
        }
        A::ApproveSuspend => {
            s == S::Handling && matches!(case.pending, Some(PendingRequest::Suspend { .. }))
        }
        A::Resume => s == S::Suspended,
        A::SendCheck => s == S::Handled,
        A::CheckPass | A::CheckFail => s == S::Checking && !case.check_passed,
        A::Close => s == S::Checking && case.check_passed,
        A::Cancel | A::Supervise => s.is_open(),
        A::Merge => matches!(s, S::Reported | S::Verifying) && case.merged_into.is_none(),
        A::Rate => s == S::Closed && case.rating.is_none(),
    }
}

/// The role this actor takes the action in, if any may (role and relationship to the case).
fn acting_role(action: CaseAction, case: &Case, actor: &Actor) -> Option<Role> {
    use CaseAction as A;
    if actor.is_system() {
        // The system files/dispatches automatically, resumes suspensions when they run out.
        return matches!(action, A::File | A::Dispatch | A::Resume).then_some(Role::Admin);
    }
    let first = |roles: &[Role]| roles.iter().copied().find(|r| actor.has(*r));
    let own_department =
        || actor.department_id.is_some() && actor.department_id == case.department_id;
    let assigned = || actor.user_id.is_some() && actor.user_id == case.assignee_id;
    match action {
        A::SendVerify | A::Reject | A::Merge | A::SendCheck => {
            first(&[Role::Intake, Role::Supervisor])
        }
        A::File | A::Cancel | A::Close => first(&[Role::Supervisor]),
        A::Verify | A::CheckPass | A::CheckFail => {
            if assigned() {
                first(&[Role::Inspector])
            } else {
                None
            }
        }
        A::Dispatch | A::ApprovePostpone | A::DenyPostpone | A::ApproveSuspend | A::Resume => {
            first(&[Role::Dispatcher])
        }
        A::Return => {
            if case.status == CaseStatus::Filed {
                first(&[Role::Dispatcher])
            } else if own_department() {
                first(&[Role::Handler, Role::Enforcement])
            } else {
                None
            }
        }
        A::Sign | A::Handle | A::RequestPostpone | A::RequestSuspend => {
            if own_department() {
                first(&[Role::Handler, Role::Enforcement])
            } else {
                None
            }
        }
        A::Supervise => first(&[Role::Leader, Role::Dispatcher, Role::Supervisor]),
        A::Rate => {
            if actor.user_id.is_some() && actor.user_id == case.reporter_id {
                actor.roles.first().copied()
            } else {
                first(&[Role::Reviewer])
            }
        }
    }
}

/// State conditions beyond the status (postponement limits, overdue …): `Some(why)` blocks.
fn state_blocks(
    action: CaseAction,
    case: &Case,
    now: DateTime<Utc>,
    cfg: &WorkflowConfig,
) -> Option<String> {
    match action {
        CaseAction::RequestPostpone => {
            if case.postpone_count >= cfg.max_postpones {
                Some(format!(
                    "the case has been postponed {} times, the most allowed",
                    case.postpone_count
                ))
            } else if case.deadline.is_some_and(|d| now > d) {
                Some("the case is already overdue; an overdue case cannot be postponed".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The actions this actor may take on this case now.
pub fn allowed_actions(
    case: &Case,
    actor: &Actor,
    now: DateTime<Utc>,
    cfg: &WorkflowConfig,
) -> Vec<CaseAction> {
    CaseAction::ALL
        .iter()
        .copied()
        .filter(|a| {
            status_allows(*a, case)
                && acting_role(*a, case, actor).is_some()
                && state_blocks(*a, case, now, cfg).is_none()
        })
        .collect()
}

fn required<T: Clone>(
    v: &Option<T>,
    action: CaseAction,
    field: &'static str,
) -> Result<T, CaseError> {
    v.clone().ok_or(CaseError::Missing { action, field })
}

fn required_text(
    v: &Option<String>,
    action: CaseAction,
    field: &'static str,
) -> Result<String, CaseError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(CaseError::Missing { action, field }),
    }
}

/// Applies an action. On success the returned case is the new state (same id and version: the
/// store increments the version when it writes).
pub fn apply(
    case: &Case,
    action: CaseAction,
    actor: &Actor,
    input: &ActionInput,
    ctx: &Context<'_>,
) -> Result<Transition, CaseError> {
    use CaseAction as A;
    use CaseStatus as S;
    let now = truncate_micros(ctx.now);
    let cfg = ctx.config;
    let cal = ctx.calendar;
    let invalid = |why: String| CaseError::InvalidTransition {
        action,
        status: case.status,
        why,
        allowed: allowed_actions(case, actor, now, cfg),
    };
    if !status_allows(action, case) {
        return Err(invalid(format!(
            "the case is {} ({})",
            case.status.as_str(),
            case.status.name_zh()
        )));
    }
    let role = acting_role(action, case, actor).ok_or(CaseError::Forbidden { action })?;
    if let Some(why) = state_blocks(action, case, now, cfg) {
        return Err(invalid(why));
    }
    crate::limits::check_action(input.comment.as_deref(), input.reason.as_deref())?;

    let mut c = case.clone();
    c.updated_at = now;
    // A stage that ran past its due time makes the case overdue, whoever notices first.
    if let Some(due) = c.clock.as_ref().and_then(|k| k.due)
        && now > due
    {
        c.overdue = true;
    }
    let mut notify = Vec::new();
    let mut follow = None;
    let mut data = serde_json::Map::new();
    let reason = input
        .reason
        .as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let comment = input
        .comment
        .as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| reason.clone());
    let dept_note = |c: &Case, what: &str| {
        c.department_id.map(|d| {
            note(
                c,
                Recipient::Department { department_id: d },
                action.as_str(),
                what,
                now,
            )
        })
    };

    match action {
        A::SendVerify => {
            let inspector = required(&input.assignee_id, action, "assignee_id")?;
            c.status = S::Verifying;
            c.assignee_id = Some(inspector);
            c.clock = Some(start_clock(Stage::Verify, cfg.verify_limit, now, cal));
            data.insert("assignee_id".into(), inspector.into());
            notify.push(note(
                &c,
                Recipient::User { user_id: inspector },
                action.as_str(),
                "待核实",
                now,
            ));
        }
        A::Verify => {
            let confirmed = input.confirmed.unwrap_or(true);
            c.verified = Some(confirmed);
            c.assignee_id = None;
            data.insert("confirmed".into(), confirmed.into());
            if confirmed {
                c.status = S::Reported;
                c.clock = Some(start_clock(Stage::File, cfg.file_limit, now, cal));
                notify.push(role_note(
                    &c,
                    Role::Supervisor,
                    action.as_str(),
                    "已核实待立案",
                    now,
                ));
            } else {
                required_text(&input.reason, action, "reason")?;
                c.status = S::Cancelled;
                c.clock = None;
                c.closed_at = Some(now);
                notify.push(role_note(
                    &c,
                    Role::Intake,
                    action.as_str(),
                    "核实不属实",
                    now,
                ));
            }
        }
        A::File => {
            let kind = input
                .category_kind
                .or(c.category_kind)
                .unwrap_or(CategoryKind::Matter);
            let code = input
                .category_code
                .clone()
                .or(c.category_code.clone())
                .ok_or(CaseError::Missing {
                    action,
                    field: "category_code",
                })?;
            crate::catalogue::parse_category_code(&code)
                .map_err(|e| CaseError::Invalid(e.to_string()))?;
            let urgency = input.urgency.unwrap_or(c.urgency);
            let limit = ctx.handle_limit.unwrap_or(cfg.default_handle_limit);
            c.category_kind = Some(kind);
            c.category_code = Some(code.clone());
            c.filing_seq = Some(input.filing_seq.unwrap_or(0));
            c.urgency = urgency;
            c.handle_limit = Some(effective_handle_limit(limit, urgency));
            c.status = S::Filed;
            c.assignee_id = None;
            c.clock = Some(start_clock(Stage::Dispatch, cfg.dispatch_limit, now, cal));
            if let Some(d) = ctx.suggested_department {
                c.suggested_department_id = Some(d);
                data.insert("suggested_department_id".into(), d.into());
            }
            data.insert("category_code".into(), code.into());
            data.insert("category_kind".into(), kind.as_str().into());
            data.insert("urgency".into(), urgency.as_str().into());
            data.insert(
                "handle_limit".into(),
                c.handle_limit.map(|l| l.to_string()).into(),
            );
            notify.push(role_note(
                &c,
                Role::Dispatcher,
                action.as_str(),
                "待派遣",
                now,
            ));
        }
        A::Reject => {
            required_text(&input.reason, action, "reason")?;
            c.status = S::Cancelled;
            c.clock = None;
            c.assignee_id = None;
            c.closed_at = Some(now);
            if let Some(r) = c.reporter_id {
                notify.push(note(
                    &c,
                    Recipient::User { user_id: r },
                    action.as_str(),
                    "不予受理",
                    now,
                ));
            }
        }
        A::Dispatch => {
            let dept =
                input
                    .department_id
                    .or(c.suggested_department_id)
                    .ok_or(CaseError::Missing {
                        action,
                        field: "department_id",
                    })?;
            let limit = c.handle_limit.unwrap_or(cfg.default_handle_limit);
            let handle = start_clock(Stage::Handle, limit, now, cal);
            c.status = S::Dispatched;
            c.department_id = Some(dept);
            c.deadline = handle.due;
            let mut sign = start_clock(Stage::Sign, cfg.sign_limit, now, cal);
            sign.unscheduled |= handle.unscheduled;
            c.clock = Some(sign);
            data.insert("department_id".into(), dept.into());
            data.insert("deadline".into(), c.deadline.map(|d| d.to_rfc3339()).into());
            notify.extend(dept_note(&c, "待签收"));
        }
        A::Return => {
            let why = required_text(&input.reason, action, "reason")?;
            c.return_count += 1;
            c.pending = None;
            if case.status == S::Filed {
                c.status = S::Reported;
                c.clock = Some(start_clock(Stage::File, cfg.file_limit, now, cal));
                notify.push(role_note(
                    &c,
                    Role::Supervisor,
                    action.as_str(),
                    "派遣员退回",
                    now,
                ));
            } else {
                data.insert("department_id".into(), c.department_id.into());
                c.status = S::Filed;
                c.department_id = None;
                c.deadline = None;
                c.clock = Some(start_clock(Stage::Dispatch, cfg.dispatch_limit, now, cal));
                notify.push(role_note(
                    &c,
                    Role::Dispatcher,
                    action.as_str(),
                    "部门退回待重新派遣",
                    now,
                ));
            }
            data.insert("reason".into(), why.into());
        }
        A::Sign => {
            let limit = c.handle_limit.unwrap_or(cfg.default_handle_limit);
            let started = c.clock.as_ref().map_or(now, |k| k.started_at);
            let due = c
                .deadline
                .unwrap_or_else(|| cal.deadline(started, limit).due);
            c.status = S::Handling;
            c.clock = Some(StageClock {
                stage: Stage::Handle,
                started_at: started,
                limit,
                due: Some(due),
                yellow_at: Some(cal.yellow_at(limit.unit, started, due)),
                unscheduled: c.clock.as_ref().is_some_and(|k| k.unscheduled),
            });
        }
        A::Handle => {
            if input.attachments.is_empty() {
                return Err(CaseError::Missing {
                    action,
                    field: "attachments (after-photos)",
                });
            }
            c.status = S::Handled;
            c.pending = None;
            c.clock = Some(start_clock(Stage::Check, cfg.check_limit, now, cal));
            notify.push(role_note(
                &c,
                Role::Intake,
                action.as_str(),
                "已处置待核查",
                now,
            ));
        }
        A::RequestPostpone => {
            let why = required_text(&input.reason, action, "reason")?;
            c.pending = Some(PendingRequest::Postpone {
                reason: why,
                requested_by: actor.user_id.unwrap_or_default(),
            });
            notify.push(role_note(
                &c,
                Role::Dispatcher,
                action.as_str(),
                "延期申请待审批",
                now,
            ));
        }
        A::ApprovePostpone => {
            let limit = c.handle_limit.unwrap_or(cfg.default_handle_limit);
            let base = c.deadline.unwrap_or(now);
            let new_due = cal.add(limit.unit, base, cal.limit_seconds(limit));
            c.deadline = Some(new_due);
            c.postpone_count += 1;
            c.pending = None;
            if let Some(k) = c.clock.as_mut() {
                k.due = Some(new_due);
                k.yellow_at = Some(cal.yellow_at(k.limit.unit, k.started_at, new_due));
            }
            data.insert("deadline".into(), new_due.to_rfc3339().into());
            notify.extend(dept_note(&c, "延期已批准"));
        }
        A::DenyPostpone => {
            required_text(&input.reason, action, "reason")?;
            c.pending = None;
            notify.extend(dept_note(&c, "延期被驳回"));
        }
        A::RequestSuspend => {
            let why = required_text(&input.reason, action, "reason")?;
            let until = required(&input.until, action, "until")?;
            if until <= now {
                return Err(CaseError::Invalid("until must lie in the future".into()));
            }
            if until > now + Duration::days(cfg.max_suspend_days) {
                return Err(CaseError::Invalid(format!(
                    "a case can be suspended for at most {} days",
                    cfg.max_suspend_days
                )));
            }
            c.pending = Some(PendingRequest::Suspend {
                reason: why,
                until,
                requested_by: actor.user_id.unwrap_or_default(),
            });
            notify.push(role_note(
                &c,
                Role::Dispatcher,
                action.as_str(),
                "挂账申请待审批",
                now,
            ));
        }
        A::ApproveSuspend => {
            let Some(PendingRequest::Suspend { until, .. }) = c.pending.clone() else {
                return Err(invalid("no suspension was requested".into()));
            };
            let until = until.max(now);
            let remaining = c
                .clock
                .as_ref()
                .and_then(|k| k.due.map(|d| (k.limit.unit, d)))
                .map_or(0, |(unit, due)| {
                    if due > now {
                        cal.elapsed(unit, now, due)
                    } else {
                        0
                    }
                });
            c.status = S::Suspended;
            c.pending = None;
            c.suspended_until = Some(until);
            c.suspend_remaining = Some(remaining);
            if let Some(k) = c.clock.as_mut() {
                k.due = None;
                k.yellow_at = None;
            }
            c.light = Light::Green;
            data.insert("until".into(), until.to_rfc3339().into());
            data.insert("remaining_seconds".into(), remaining.into());
            notify.extend(dept_note(&c, "挂账已批准"));
        }
        A::Resume => {
            let remaining = c.suspend_remaining.unwrap_or(0).max(0);
            let limit = c.handle_limit.unwrap_or(cfg.default_handle_limit);
            let due = cal.add(limit.unit, now, remaining);
            let yellow_left =
                ((1.0 - cal.config().yellow_ratio) * cal.limit_seconds(limit) as f64) as i64;
            let yellow_at = if remaining > yellow_left {
                cal.add(limit.unit, now, remaining - yellow_left)
            } else {
                now
            };
            c.status = S::Handling;
            c.suspended_until = None;
            c.suspend_remaining = None;
            c.deadline = Some(due);
            c.clock = Some(StageClock {
                stage: Stage::Handle,
                started_at: c.clock.as_ref().map_or(now, |k| k.started_at),
                limit,
                due: Some(due),
                yellow_at: Some(yellow_at),
                unscheduled: false,
            });
            c.light = Light::Green;
            data.insert("deadline".into(), due.to_rfc3339().into());
            notify.extend(dept_note(&c, "挂账恢复"));
        }
        A::SendCheck => {
            let inspector = required(&input.assignee_id, action, "assignee_id")?;
            c.status = S::Checking;
            c.assignee_id = Some(inspector);
            data.insert("assignee_id".into(), inspector.into());
            notify.push(note(
                &c,
                Recipient::User { user_id: inspector },
                action.as_str(),
                "待核查",
                now,
            ));
        }
        A::CheckPass => {
            c.check_passed = true;
            c.assignee_id = None;
            c.clock = Some(start_clock(Stage::Close, cfg.close_limit, now, cal));
            notify.push(role_note(
                &c,
                Role::Supervisor,
                action.as_str(),
                "核查通过待结案",
                now,
            ));
        }
        A::CheckFail => {
            required_text(&input.reason, action, "reason")?;
            let limit = c.handle_limit.unwrap_or(cfg.default_handle_limit);
            let handle = start_clock(Stage::Handle, limit, now, cal);
            c.status = S::Handling;
            c.rework_count += 1;
            c.assignee_id = None;
            c.deadline = handle.due;
            c.clock = Some(handle);
            data.insert("rework_count".into(), c.rework_count.into());
            notify.extend(dept_note(&c, "核查不通过，返工"));
        }
        A::Close => {
            c.status = S::Closed;
            c.close_kind = Some(if c.overdue {
                CloseKind::Overdue
            } else {
                CloseKind::Normal
            });
            c.closed_at = Some(now);
            c.clock = None;
            data.insert(
                "close_kind".into(),
                c.close_kind.map(CloseKind::as_str).into(),
            );
            if let Some(r) = c.reporter_id {
                notify.push(note(
                    &c,
                    Recipient::User { user_id: r },
                    action.as_str(),
                    "已结案",
                    now,
                ));
            }
        }
        A::Cancel => {
            required_text(&input.reason, action, "reason")?;
            c.status = S::Cancelled;
            c.clock = None;
            c.pending = None;
            c.assignee_id = None;
            c.suspended_until = None;
            c.closed_at = Some(now);
            if let Some(r) = c.reporter_id {
                notify.push(note(
                    &c,
                    Recipient::User { user_id: r },
                    action.as_str(),
                    "已作废",
                    now,
                ));
            }
        }
        A::Supervise => {
            required_text(&input.comment, action, "comment")?;
            c.supervised = true;
            match dept_note(&c, "督办") {
                Some(n) => notify.push(n),
                None => notify.push(role_note(
                    &c,
                    Role::Dispatcher,
                    action.as_str(),
                    "督办",
                    now,
                )),
            }
        }
        A::Merge => {
            let master = ctx.master.ok_or(CaseError::Missing {
                action,
                field: "master_case_id",
            })?;
            if master.id == c.id {
                return Err(CaseError::Invalid(
                    "a case cannot be merged into itself".into(),
                ));
            }
            if !master.status.is_open() || master.merged_into.is_some() {
                return Err(CaseError::Invalid(format!(
                    "the master case {} is {} and cannot take merged reports",
                    master.code,
                    master.status.as_str()
                )));
            }
            c.status = S::Cancelled;
            c.merged_into = Some(master.id);
            c.clock = None;
            c.assignee_id = None;
            c.closed_at = Some(now);
            data.insert("master_case_id".into(), master.id.into());
            data.insert("master_case_code".into(), master.code.clone().into());
            if let Some(r) = c.reporter_id {
                follow = Some((r, master.id));
                notify.push(note(
                    &c,
                    Recipient::User { user_id: r },
                    action.as_str(),
                    "已并入主案件",
                    now,
                ));
            }
        }
        A::Rate => {
            let score = required(&input.score, action, "score")?;
            if !(1..=5).contains(&score) {
                return Err(CaseError::Invalid("score must be 1 to 5".into()));
            }
            c.rating = Some(score);
            data.insert("score".into(), score.into());
        }
    }
    if action != A::ApproveSuspend && action != A::Resume {
        c.light = current_light(&c, now, cal);
    }
    let mut facts = std::mem::take(&mut c.facts);
    facts.record(action, actor.user_id, role, case, &c, now, cal);
    c.facts = facts;
    if let Some(r) = &reason {
        data.entry("reason").or_insert_with(|| r.clone().into());
    }
    let event = NewCaseEvent {
        case_id: c.id,
        action: action.as_str().into(),
        actor_id: actor.user_id,
        actor_role: Some(role).filter(|_| !actor.is_system()),
        at: now,
        from_status: Some(case.status),
        to_status: c.status,
        comment,
        attachments: input.attachments.clone(),
        data: serde_json::Value::Object(data),
    };
    Ok(Transition {
        case: c,
        event,
        notify,
        follow,
    })
}

/// The light of the case's current stage at `now` (green while no clock runs).
pub fn current_light(case: &Case, now: DateTime<Utc>, _cal: &WorkingCalendar) -> Light {
    match case.clock.as_ref() {
        Some(StageClock {
            due: Some(due),
            yellow_at,
            ..
        }) if case.status.is_open() => {
            if now > *due {
                Light::Red
            } else if yellow_at.is_some_and(|y| now >= y) {
                Light::Yellow
            } else {
                Light::Green
            }
        }
        _ => Light::Green,
    }
}

/// What the deadline watcher does to one case at `now`: mark it yellow (黄灯预警) or red (超时)
/// once per stage, with whom to tell. Returns the new state, the event and the notifications, or
/// `None` when nothing changes. Callers store all three as they are.
pub fn mark_light(
    case: &Case,
    now: DateTime<Utc>,
    cal: &WorkingCalendar,
) -> Option<(Case, NewCaseEvent, Vec<NewNotification>)> {
    let now = truncate_micros(now);
    let light = current_light(case, now, cal);
    if light <= case.light {
        return None;
    }
    let mut c = case.clone();
    c.light = light;
    if light == Light::Red {
        c.overdue = true;
    }
    let stage = c.clock.as_ref().map(|k| k.stage.as_str());
    let event = NewCaseEvent {
        case_id: c.id,
        action: if light == Light::Red {
            "overdue"
        } else {
            "light_yellow"
        }
        .into(),
        actor_id: None,
        actor_role: None,
        at: now,
        from_status: Some(c.status),
        to_status: c.status,
        comment: None,
        attachments: Vec::new(),
        data: serde_json::json!({ "stage": stage, "light": light.as_str() }),
    };
    let title = if light == Light::Red {
        "已超时"
    } else {
        "黄灯预警"
    };
    let notify = vec![note(&c, light_recipient(&c), &event.action, title, now)];
    Some((c, event, notify))
}

/// Whom a yellow or red light concerns: whoever owns the running stage — the department for
/// signing and handling (else the region's dispatchers), the assigned inspector for verifying and
/// checking (else the region's intake operators), the dispatchers for dispatching, the
/// supervisor (值班长) for filing and closing.
pub fn light_recipient(case: &Case) -> Recipient {
    let role = |role: Role| Recipient::Role {
        role,
        region_code: case.location.region_code().map(str::to_string),
    };
    match case.clock.as_ref().map(|k| k.stage) {
        Some(Stage::Sign | Stage::Handle) => case
            .department_id
            .map(|d| Recipient::Department { department_id: d })
            .unwrap_or_else(|| role(Role::Dispatcher)),
        Some(Stage::Verify | Stage::Check) => case
            .assignee_id
            .map(|u| Recipient::User { user_id: u })
            .unwrap_or_else(|| role(Role::Intake)),
        Some(Stage::Dispatch) => role(Role::Dispatcher),
        Some(Stage::File | Stage::Close) | None => role(Role::Supervisor),
    }
}
