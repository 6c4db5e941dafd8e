//! The evaluation's view of one case: a compact record stored beside each case (the `facts`
//! column) and read back for a whole period at once.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{CancelKind, Case, CaseSource, CaseStatus};
use crate::region::RegionLevel;

fn secs(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

/// What the evaluation needs of a case beyond its indexed columns, with times as Unix seconds
/// (one integer to read, not a date to parse: a month of a large city is read in one go).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalRecord {
    /// The handling deadline now (捆绑截止时间; postponements and suspensions included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dl: Option<i64>,
    /// The inspector's verification result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vf: Option<bool>,
    /// The reporter's rating 1–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rt: Option<u8>,
    /// 返工 / 退回 / 延期 counts.
    #[serde(skip_serializing_if = "is_zero")]
    pub rw: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub rn: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub pp: u32,
    /// 挂账: approvals, seconds suspended before the running suspension, its start.
    #[serde(skip_serializing_if = "is_zero")]
    pub sn: u32,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub ss: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sa: Option<i64>,
    /// 受理员
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acc: Option<i64>,
    /// 发核实: by, working seconds after arrival.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vsb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vss: Option<i64>,
    /// 核实: inspector, due, answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vd: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub va: Option<i64>,
    /// 立案: at, by, in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fa: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fo: Option<bool>,
    /// 派遣: at, by, in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub da: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dok: Option<bool>,
    /// 签收
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sg: Option<i64>,
    /// 处置: the standing handling report, its deadline then, in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hd: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ho: Option<bool>,
    /// 发核查: by, working seconds after the handling report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub css: Option<i64>,
    /// 核查: inspector, due, answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cd: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<i64>,
    /// 结案: at, by, within the closing limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xa: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xo: Option<bool>,
    /// 作废: how, by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<CancelKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kb: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

impl EvalRecord {
    /// The record of a case as it stands.
    pub fn of(case: &Case) -> Self {
        let f = &case.facts;
        EvalRecord {
            dl: secs(case.deadline),
            vf: case.verified,
            rt: case.rating,
            rw: case.rework_count,
            rn: case.return_count,
            pp: case.postpone_count,
            sn: f.suspend_count,
            ss: f.suspended_secs,
            sa: secs(f.suspended_at),
            acc: f.accepted_by,
            vsb: f.verify_sent_by,
            vss: f.verify_sent_secs,
            vb: f.verifier_id,
            vd: secs(f.verify_due),
            va: secs(f.verified_at),
            fa: secs(f.filed_at),
            fb: f.filed_by,
            fo: f.filed_on_time,
            da: secs(f.dispatched_at),
            db: f.dispatched_by,
            dok: f.dispatched_on_time,
            sg: secs(f.signed_at),
            ha: secs(f.handled_at),
            hd: secs(f.handle_due),
            ho: f.handled_on_time,
            csb: f.check_sent_by,
            css: f.check_sent_secs,
            cb: f.checker_id,
            cd: secs(f.check_due),
            ca: secs(f.checked_at),
            xa: if case.status == CaseStatus::Closed {
                secs(case.closed_at)
            } else {
                None
            },
            xb: f.closed_by,
            xo: f.closed_in_limit,
            k: f.cancel_kind,
            kb: f.cancelled_by,
        }
    }
}

/// One case of an evaluation period: its indexed columns and its [`EvalRecord`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCase {
    pub id: i64,
    pub code: String,
    /// Reported at (Unix seconds).
    pub created_at: i64,
    pub source: CaseSource,
    pub status: CaseStatus,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
    pub community_code: Option<String>,
    pub street_code: Option<String>,
    pub district_code: Option<String>,
    pub department_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub rec: EvalRecord,
}

impl EvalCase {
    /// The case as the evaluation sees it (the stores build the same from their columns).
    pub fn of(case: &Case) -> Self {
        let l = &case.location;
        EvalCase {
            id: case.id,
            code: case.code.clone(),
            created_at: case.created_at.timestamp(),
            source: case.source,
            status: case.status,
            category_code: case.category_code.clone(),
            grid_code: l.grid_code.clone(),
            community_code: l.community_code.clone(),
            street_code: l.street_code.clone(),
            district_code: l.district_code.clone(),
            department_id: case.department_id,
            reporter_id: case.reporter_id,
            rec: EvalRecord::of(case),
        }
    }

    /// The located code at a level (`None` for the city level or when not located so deep).
    pub fn region(&self, level: RegionLevel) -> Option<&str> {
        match level {
            RegionLevel::District => self.district_code.as_deref(),
            RegionLevel::Street => self.street_code.as_deref(),
            RegionLevel::Community => self.community_code.as_deref(),
            RegionLevel::Grid => self.grid_code.as_deref(),
            _ => None,
        }
    }

    /// 公众举报: citizens and the hotline.
    pub fn is_public(&self) -> bool {
        matches!(self.source, CaseSource::Citizen | CaseSource::Hotline)
    }
}
