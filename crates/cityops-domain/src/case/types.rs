//! The case record (案卷) and its vocabulary: statuses, sources, urgency, stages and actions.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Light;
use crate::catalogue::{CategoryKind, LimitUnit, TimeLimit};
use crate::error::DomainError;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $s:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s,)+ }
            }
            pub fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| DomainError::Unknown { what: $what, value: s.to_string() })
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// The status of a case (案件状态), STANDARDS.md §4.4 and PRODUCT.md §3.
    CaseStatus, "case status" {
        /// 待受理: reported, waiting for intake / filing.
        Reported => "reported", "待受理";
        /// 核实中: sent to the grid inspector to verify before filing.
        Verifying => "verifying", "核实中";
        /// 已立案/待派遣
        Filed => "filed", "已立案";
        /// 已派遣/待签收
        Dispatched => "dispatched", "已派遣";
        /// 处置中
        Handling => "handling", "处置中";
        /// 已处置/待核查
        Handled => "handled", "已处置";
        /// 核查中
        Checking => "checking", "核查中";
        /// 已结案
        Closed => "closed", "已结案";
        /// 作废/不予立案/已合并
        Cancelled => "cancelled", "已作废";
        /// 挂账 (clock stopped)
        Suspended => "suspended", "挂账";
    }
);

impl CaseStatus {
    /// Closed and cancelled cases are finished: they change only by rating (closed).
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Closed | CaseStatus::Cancelled)
    }
}

named_enum!(
    /// Where a report came from (案件来源), STANDARDS.md §4.3.
    CaseSource, "case source" {
        /// 监督员上报
        Inspector => "inspector", "监督员上报";
        /// 公众举报 (H5, app, Open311)
        Citizen => "citizen", "公众举报";
        /// 热线 (12345/12319), typed by the intake operator
        Hotline => "hotline", "热线";
        /// 视频智能抓拍
        VideoAi => "video_ai", "视频智能发现";
        /// 物联感知报警
        Iot => "iot", "物联感知";
        /// 领导批示
        Leader => "leader", "领导批示";
    }
);

named_enum!(
    /// Urgency (紧急程度). Urgent cases count their handling limit continuously (紧急工作时).
    Urgency, "urgency" {
        /// 一般
        Normal => "normal", "一般";
        /// 紧急
        Urgent => "urgent", "紧急";
    }
);

named_enum!(
    /// A timed stage of the loop; each has its own limit (节点时限).
    Stage, "stage" {
        /// 核实
        Verify => "verify", "核实";
        /// 立案
        File => "file", "立案";
        /// 派遣
        Dispatch => "dispatch", "派遣";
        /// 签收
        Sign => "sign", "签收";
        /// 处置
        Handle => "handle", "处置";
        /// 核查 (including sending the check)
        Check => "check", "核查";
        /// 结案
        Close => "close", "结案";
    }
);

named_enum!(
    /// The actions of `POST /api/v1/cases/{id}/actions/{action}` (PRODUCT.md §8).
    CaseAction, "case action" {
        /// 发核实: intake sends a report to the grid inspector to verify.
        SendVerify => "send_verify", "发核实";
        /// 核实: the inspector confirms (or not) that the problem exists.
        Verify => "verify", "核实";
        /// 立案
        File => "file", "立案";
        /// 不予受理/不予立案
        Reject => "reject", "不予受理";
        /// 派遣
        Dispatch => "dispatch", "派遣";
        /// 退回: a wrong dispatch goes back to the dispatcher; a filed case back to intake.
        Return => "return", "退回";
        /// 签收
        Sign => "sign", "签收";
        /// 处置反馈 (with after-photos)
        Handle => "handle", "处置反馈";
        /// 申请延期
        RequestPostpone => "request_postpone", "申请延期";
        /// 批准延期
        ApprovePostpone => "approve_postpone", "批准延期";
        /// 驳回延期
        DenyPostpone => "deny_postpone", "驳回延期";
        /// 申请挂账
        RequestSuspend => "request_suspend", "申请挂账";
        /// 批准挂账
        ApproveSuspend => "approve_suspend", "批准挂账";
        /// 挂账恢复
        Resume => "resume", "挂账恢复";
        /// 发核查
        SendCheck => "send_check", "发核查";
        /// 核查通过
        CheckPass => "check_pass", "核查通过";
        /// 核查不通过 (返工)
        CheckFail => "check_fail", "核查不通过";
        /// 结案
        Close => "close", "结案";
        /// 作废
        Cancel => "cancel", "作废";
        /// 督办
        Supervise => "supervise", "督办";
        /// 合并 (a duplicate into its master case)
        Merge => "merge", "合并";
        /// 评价 (the reporter's or a reviewer's rating of a closed case)
        Rate => "rate", "评价";
    }
);

named_enum!(
    /// How a case was closed (结案类型).
    CloseKind, "close kind" {
        /// 正常结案
        Normal => "normal", "正常结案";
        /// 超时结案
        Overdue => "overdue", "超时结案";
    }
);

/// Where a case is: the reported point and the regions it was located in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseLocation {
    pub lng: f64,
    pub lat: f64,
    pub grid_code: Option<String>,
    pub community_code: Option<String>,
    pub street_code: Option<String>,
    pub district_code: Option<String>,
    pub address: Option<String>,
}

impl CaseLocation {
    /// The most specific located region code: what scope checks match by prefix.
    pub fn region_code(&self) -> Option<&str> {
        self.grid_code
            .as_deref()
            .or(self.community_code.as_deref())
            .or(self.street_code.as_deref())
            .or(self.district_code.as_deref())
    }
}

/// A request waiting for the dispatcher's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingRequest {
    /// 延期申请
    Postpone { reason: String, requested_by: i64 },
    /// 挂账申请
    Suspend {
        reason: String,
        until: DateTime<Utc>,
        requested_by: i64,
    },
}

/// The deadline of the current stage. `due`/`yellow_at` are `None` while the clock is stopped
/// (suspended) or the stage has no limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageClock {
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    pub limit: TimeLimit,
    pub due: Option<DateTime<Utc>>,
    pub yellow_at: Option<DateTime<Utc>>,
    /// The computation crossed a year without a holiday schedule: the due time may be wrong.
    pub unscheduled: bool,
}

/// A case (案卷/案件) as the workflow sees it. `id`, `code` and `version` are assigned by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    /// `YYYYMMDD` + 5-digit daily sequence (local date of the report).
    pub code: String,
    pub status: CaseStatus,
    pub source: CaseSource,
    pub category_kind: Option<CategoryKind>,
    pub category_code: Option<String>,
    /// The filing condition (立案条件) chosen at filing, by its seq within the category.
    pub filing_seq: Option<u32>,
    pub urgency: Urgency,
    pub description: String,
    pub location: CaseLocation,
    /// The component (部件) the report is about, if any.
    pub component_id: Option<String>,
    pub reporter_id: Option<i64>,
    /// The reporter's name and phone for hotline/citizen reports.
    pub contact: Option<String>,
    /// The inspector who must verify or check now.
    pub assignee_id: Option<i64>,
    /// The department handling the case now (or last, once closed).
    pub department_id: Option<i64>,
    /// What the responsibility matrix suggests.
    pub suggested_department_id: Option<i64>,
    pub clock: Option<StageClock>,
    /// The original handling limit (处置时限) fixed at filing: postponement adds one of these.
    pub handle_limit: Option<TimeLimit>,
    /// The handling deadline (处置截止时间) once dispatched.
    pub deadline: Option<DateTime<Utc>>,
    /// Light of the current stage as last marked by a transition or the watcher.
    pub light: Light,
    /// 超期: some stage ran over its limit (sticky).
    pub overdue: bool,
    /// 督办
    pub supervised: bool,
    /// 延期 approvals so far (at most 2).
    pub postpone_count: u32,
    /// 返工 count.
    pub rework_count: u32,
    /// 退回 count.
    pub return_count: u32,
    pub pending: Option<PendingRequest>,
    /// 挂账 until (set while suspended).
    pub suspended_until: Option<DateTime<Utc>>,
    /// Counted seconds left on the stage when the clock stopped.
    pub suspend_remaining: Option<i64>,
    /// The inspector's verification result.
    pub verified: Option<bool>,
    /// 核查通过, waiting for closing.
    pub check_passed: bool,
    /// The master case this one was merged into.
    pub merged_into: Option<i64>,
    /// A possible duplicate found at intake (open case of the same category nearby).
    pub duplicate_of: Option<i64>,
    pub rating: Option<u8>,
    pub close_kind: Option<CloseKind>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, incremented by every stored transition.
    pub version: i64,
    /// 考核事实: who took each step and whether in time (for the evaluation).
    #[serde(default)]
    pub facts: super::facts::CaseFacts,
}

impl Case {
    /// The time unit the current stage counts in.
    pub fn stage_unit(&self) -> Option<LimitUnit> {
        self.clock.as_ref().map(|c| c.limit.unit)
    }
}
