//! 考核事实 (evaluation facts): what the comprehensive evaluation reads of a case — who took each
//! step, when, and whether it came within its limit — recorded by the state machine at the moment
//! each step happens, so a figure never depends on re-deriving old deadlines.
//!
//! Every field is set by [`CaseFacts::record`], which `report`/`apply` call with the case before
//! and after the transition. The definitions of the figures built on these facts are in
//! `crate::evaluation` and `docs/EVALUATION.md`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::types::{Case, CaseAction, CaseStatus};
use crate::calendar::WorkingCalendar;
use crate::catalogue::LimitUnit;
use crate::org::Role;

/// How a case ended without being closed (作废的方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelKind {
    /// 不予受理/不予立案
    Reject,
    /// 核实不属实
    Unverified,
    /// 作废 (after filing, by the supervisor)
    Cancel,
    /// 合并 into a master case
    Merge,
}

impl CancelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelKind::Reject => "reject",
            CancelKind::Unverified => "unverified",
            CancelKind::Cancel => "cancel",
            CancelKind::Merge => "merge",
        }
    }
}

/// The facts of one case (short JSON names: one copy per case is stored beside the record).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseFacts {
    /// 受理员: the intake operator who first decided on the report (发核实, 不予受理, 合并).
    #[serde(rename = "acc", skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<i64>,
    /// 发核实: when, by whom, and the working seconds from the report's arrival to it.
    #[serde(rename = "vs_at", skip_serializing_if = "Option::is_none")]
    pub verify_sent_at: Option<DateTime<Utc>>,
    #[serde(rename = "vs_by", skip_serializing_if = "Option::is_none")]
    pub verify_sent_by: Option<i64>,
    #[serde(rename = "vs_s", skip_serializing_if = "Option::is_none")]
    pub verify_sent_secs: Option<i64>,
    /// 核实: the inspector asked, the due time of the task and when it was answered.
    #[serde(rename = "v_by", skip_serializing_if = "Option::is_none")]
    pub verifier_id: Option<i64>,
    #[serde(rename = "v_due", skip_serializing_if = "Option::is_none")]
    pub verify_due: Option<DateTime<Utc>>,
    #[serde(rename = "v_at", skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
    /// 立案 (last filing: a case returned to intake is filed again).
    #[serde(rename = "f_at", skip_serializing_if = "Option::is_none")]
    pub filed_at: Option<DateTime<Utc>>,
    #[serde(rename = "f_by", skip_serializing_if = "Option::is_none")]
    pub filed_by: Option<i64>,
    #[serde(rename = "f_ok", skip_serializing_if = "Option::is_none")]
    pub filed_on_time: Option<bool>,
    /// 派遣 (last dispatch).
    #[serde(rename = "d_at", skip_serializing_if = "Option::is_none")]
    pub dispatched_at: Option<DateTime<Utc>>,
    #[serde(rename = "d_by", skip_serializing_if = "Option::is_none")]
    pub dispatched_by: Option<i64>,
    #[serde(rename = "d_ok", skip_serializing_if = "Option::is_none")]
    pub dispatched_on_time: Option<bool>,
    /// 签收 (last signing).
    #[serde(rename = "s_at", skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// 处置反馈 that still stands (a failed check — 返工 — clears it until the next one).
    #[serde(rename = "h_at", skip_serializing_if = "Option::is_none")]
    pub handled_at: Option<DateTime<Utc>>,
    /// The handling deadline (捆绑截止时间, postponements and suspension included) when handled.
    #[serde(rename = "h_due", skip_serializing_if = "Option::is_none")]
    pub handle_due: Option<DateTime<Utc>>,
    #[serde(rename = "h_ok", skip_serializing_if = "Option::is_none")]
    pub handled_on_time: Option<bool>,
    /// 发核查: when, by whom, working seconds from the handling report to it.
    #[serde(rename = "cs_at", skip_serializing_if = "Option::is_none")]
    pub check_sent_at: Option<DateTime<Utc>>,
    #[serde(rename = "cs_by", skip_serializing_if = "Option::is_none")]
    pub check_sent_by: Option<i64>,
    #[serde(rename = "cs_s", skip_serializing_if = "Option::is_none")]
    pub check_sent_secs: Option<i64>,
    /// 核查: the inspector asked (last task), its due time and when it was answered.
    #[serde(rename = "c_by", skip_serializing_if = "Option::is_none")]
    pub checker_id: Option<i64>,
    #[serde(rename = "c_due", skip_serializing_if = "Option::is_none")]
    pub check_due: Option<DateTime<Utc>>,
    #[serde(rename = "c_at", skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// 结案: by whom and whether within the closing limit.
    #[serde(rename = "x_by", skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<i64>,
    #[serde(rename = "x_ok", skip_serializing_if = "Option::is_none")]
    pub closed_in_limit: Option<bool>,
    /// 作废/不予受理/合并: how and by whom.
    #[serde(rename = "k", skip_serializing_if = "Option::is_none")]
    pub cancel_kind: Option<CancelKind>,
    #[serde(rename = "k_by", skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<i64>,
    /// 挂账: approvals, natural seconds spent suspended, and the start of a running suspension.
    #[serde(rename = "sus_n", skip_serializing_if = "is_zero")]
    pub suspend_count: u32,
    #[serde(rename = "sus_s", skip_serializing_if = "is_zero_i64")]
    pub suspended_secs: i64,
    #[serde(rename = "sus_at", skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<DateTime<Utc>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// Whether `now` lies within the running stage's due time (no due time: nothing can be late).
fn in_limit(case: &Case, now: DateTime<Utc>) -> bool {
    case.clock
        .as_ref()
        .and_then(|k| k.due)
        .is_none_or(|due| now <= due)
}

impl CaseFacts {
    /// Records `action`, taken by `actor` in `role` at `now`, which turned `before` into `after`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        action: CaseAction,
        actor: Option<i64>,
        role: Role,
        before: &Case,
        after: &Case,
        now: DateTime<Utc>,
        cal: &WorkingCalendar,
    ) {
        use CaseAction as A;
        // A suspension ends with the resume, or with whatever ends the case while suspended.
        if before.status == CaseStatus::Suspended
            && after.status != CaseStatus::Suspended
            && let Some(since) = self.suspended_at.take()
        {
            self.suspended_secs += (now - since).num_seconds().max(0);
        }
        let by_intake = role == Role::Intake;
        match action {
            A::SendVerify => {
                if by_intake {
                    self.accepted_by.get_or_insert(actor.unwrap_or_default());
                }
                let since = before
                    .clock
                    .as_ref()
                    .map_or(before.created_at, |k| k.started_at);
                self.verify_sent_at = Some(now);
                self.verify_sent_by = actor;
                self.verify_sent_secs = Some(cal.elapsed(LimitUnit::WorkHour, since, now));
                self.verifier_id = after.assignee_id;
                self.verify_due = after.clock.as_ref().and_then(|k| k.due);
                self.verified_at = None;
            }
            A::Verify => {
                self.verified_at = Some(now);
                if after.status == CaseStatus::Cancelled {
                    self.cancel_kind = Some(CancelKind::Unverified);
                    self.cancelled_by = actor;
                }
            }
            A::File => {
                self.filed_at = Some(now);
                self.filed_by = actor;
                self.filed_on_time = Some(in_limit(before, now));
            }
            A::Reject => {
                if by_intake {
                    self.accepted_by.get_or_insert(actor.unwrap_or_default());
                }
                self.cancel_kind = Some(CancelKind::Reject);
                self.cancelled_by = actor;
            }
            A::Dispatch => {
                self.dispatched_at = Some(now);
                self.dispatched_by = actor;
                self.dispatched_on_time = Some(in_limit(before, now));
            }
            A::Sign => self.signed_at = Some(now),
            A::Handle => {
                self.handled_at = Some(now);
                self.handle_due = before.deadline;
                self.handled_on_time = Some(before.deadline.is_none_or(|d| now <= d));
            }
            A::SendCheck => {
                let since = self.handled_at.unwrap_or(now);
                self.check_sent_at = Some(now);
                self.check_sent_by = actor;
                self.check_sent_secs = Some(cal.elapsed(LimitUnit::WorkHour, since, now));
                self.checker_id = after.assignee_id;
                self.check_due = after.clock.as_ref().and_then(|k| k.due);
                self.checked_at = None;
            }
            A::CheckPass => self.checked_at = Some(now),
            A::CheckFail => {
                self.checked_at = Some(now);
                self.handled_at = None;
                self.handle_due = None;
                self.handled_on_time = None;
            }
            A::Close => {
                self.closed_by = actor;
                self.closed_in_limit = Some(in_limit(before, now));
            }
            A::Cancel => {
                self.cancel_kind = Some(CancelKind::Cancel);
                self.cancelled_by = actor;
            }
            A::Merge => {
                if by_intake {
                    self.accepted_by.get_or_insert(actor.unwrap_or_default());
                }
                self.cancel_kind = Some(CancelKind::Merge);
                self.cancelled_by = actor;
            }
            A::ApproveSuspend => {
                self.suspend_count += 1;
                self.suspended_at = Some(now);
            }
            A::Return
            | A::RequestPostpone
            | A::ApprovePostpone
            | A::DenyPostpone
            | A::RequestSuspend
            | A::Resume
            | A::Supervise
            | A::Rate => {}
        }
    }

    /// Natural seconds suspended up to `at` (a running suspension counts up to `at`).
    pub fn suspended_secs_at(&self, at: DateTime<Utc>) -> i64 {
        self.suspended_secs
            + self
                .suspended_at
                .map_or(0, |since| (at - since).num_seconds().max(0))
    }
}
