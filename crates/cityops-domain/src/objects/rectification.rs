//! 三教而罚 (three reminders before a penalty): a failing item opens a rectification record
//! (整改记录); unless it is rectified the platform sends 教育提醒 (notice 1), 责令整改 (notice
//! 2) and 警告 (notice 3), each with its deadline on the working calendar, and when the third
//! runs out hands the object to enforcement (移交执法). A re-inspection that finds the item fine
//! closes it (已整改) at whatever stage it has reached — "小事不出责任区、大事依法快速处置".
//!
//! ```text
//! open ─(overdue)→ notice1 ─(overdue)→ notice2 ─(overdue)→ notice3 ─(overdue)→ enforcement
//!   └──────────────────┴───────────────────┴──────────────────┴───────────────────┴─→ rectified
//! ```
//!
//! A record opened by an **inspection** starts at `open` with no deadline: notice 1 is due at
//! once. One opened by the party's own **self-check** first gets its own rectification period
//! (自查自改, [`LadderConfig::self_check`]); only when that runs out does notice 1 go out.
//! "Overdue" means strictly after the deadline. Each notice's period runs from the moment it is
//! sent, so a watcher that was down sends the next notice late but never skips one.
//!
//! Like the case machine, one predicate (`blocked`) decides both what
//! [`Rectification::allowed_actions`] lists and what [`Rectification::apply`] accepts; the
//! watcher's [`Rectification::next_due`] / [`Rectification::advance`] go through it too.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::{Check, CheckKind, ChecklistItem, Checklists, ManagedObject, ObjectCode, ObjectError};
use crate::calendar::{Deadline, WorkingCalendar};
use crate::case::types::named_enum;
use crate::{DomainError, LimitUnit, RegionCode, TimeLimit};

named_enum!(
    /// 整改阶段 (stage of a rectification). Declared in ladder order: a record's stage only
    /// moves forward.
    RectStage, "rectification stage" {
        /// 待整改: opened, no notice sent yet.
        Open => "open", "待整改";
        /// 教育提醒: notice 1 sent.
        Notice1 => "notice1", "教育提醒";
        /// 责令整改: notice 2 sent.
        Notice2 => "notice2", "责令整改";
        /// 警告: notice 3 sent.
        Notice3 => "notice3", "警告";
        /// 移交执法: handed to enforcement (an enforcement case follows).
        Enforcement => "enforcement", "移交执法";
        /// 已整改: rectified and closed.
        Rectified => "rectified", "已整改";
    }
);

named_enum!(
    /// A step of the ladder.
    RectAction, "rectification action" {
        /// 发送教育提醒
        SendNotice1 => "send_notice1", "发送教育提醒";
        /// 发送责令整改通知
        SendNotice2 => "send_notice2", "发送责令整改通知";
        /// 发送警告
        SendNotice3 => "send_notice3", "发送警告";
        /// 移交执法
        HandToEnforcement => "hand_to_enforcement", "移交执法";
        /// 整改销号: the item is rectified.
        Rectify => "rectify", "整改销号";
    }
);

impl RectAction {
    /// The stage the action leads to.
    pub fn target(self) -> RectStage {
        match self {
            RectAction::SendNotice1 => RectStage::Notice1,
            RectAction::SendNotice2 => RectStage::Notice2,
            RectAction::SendNotice3 => RectStage::Notice3,
            RectAction::HandToEnforcement => RectStage::Enforcement,
            RectAction::Rectify => RectStage::Rectified,
        }
    }

    /// The stage the action is taken from (`None`: any open stage).
    fn source_stage(self) -> Option<RectStage> {
        match self {
            RectAction::SendNotice1 => Some(RectStage::Open),
            RectAction::SendNotice2 => Some(RectStage::Notice1),
            RectAction::SendNotice3 => Some(RectStage::Notice2),
            RectAction::HandToEnforcement => Some(RectStage::Notice3),
            RectAction::Rectify => None,
        }
    }
}

/// The steps the platform takes by itself, in ladder order.
const ESCALATIONS: [RectAction; 4] = [
    RectAction::SendNotice1,
    RectAction::SendNotice2,
    RectAction::SendNotice3,
    RectAction::HandToEnforcement,
];

/// The period a stage gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageLimit {
    /// A share of the item's default rectification period, in percent (100 = the period), in
    /// the period's unit.
    OfItem { percent: u32 },
    /// A fixed period in 工作日 or 工作时.
    Fixed(TimeLimit),
}

/// 三教而罚 configuration: the period of each stage. Configurable per city; the defaults:
///
/// | stage | period |
/// |---|---|
/// | self-check (自查自改) | the item's period |
/// | notice 1 (教育提醒) | the item's period |
/// | notice 2 (责令整改) | half the item's period |
/// | notice 3 (警告) | 1 工作日 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LadderConfig {
    pub self_check: StageLimit,
    pub notice1: StageLimit,
    pub notice2: StageLimit,
    pub notice3: StageLimit,
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            self_check: StageLimit::OfItem { percent: 100 },
            notice1: StageLimit::OfItem { percent: 100 },
            notice2: StageLimit::OfItem { percent: 50 },
            notice3: StageLimit::Fixed(TimeLimit {
                value: 1,
                unit: LimitUnit::WorkDay,
            }),
        }
    }
}

impl LadderConfig {
    /// Checks: percentages 1–1000; fixed periods of 1 to 2000 in 工作日 or 工作时.
    pub fn validate(&self) -> Result<(), ObjectError> {
        for (name, limit) in [
            ("self_check", self.self_check),
            ("notice1", self.notice1),
            ("notice2", self.notice2),
            ("notice3", self.notice3),
        ] {
            let bad = |why: String| ObjectError::InvalidLadder(format!("{name}: {why}"));
            match limit {
                StageLimit::OfItem { percent } if !(1..=1000).contains(&percent) => {
                    return Err(bad(format!("{percent} % is not within 1–1000")));
                }
                StageLimit::Fixed(l)
                    if !matches!(l.unit, LimitUnit::WorkDay | LimitUnit::WorkHour) =>
                {
                    return Err(bad(format!(
                        "{} is not counted on the working calendar",
                        l.unit.as_str()
                    )));
                }
                StageLimit::Fixed(l) if !(1..=2000).contains(&l.value) => {
                    return Err(bad(format!("{l} is not within 1–2000")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The period of a stage: `Open` is the self-check period; `None` past notice 3.
    pub fn limit(&self, stage: RectStage) -> Option<StageLimit> {
        match stage {
            RectStage::Open => Some(self.self_check),
            RectStage::Notice1 => Some(self.notice1),
            RectStage::Notice2 => Some(self.notice2),
            RectStage::Notice3 => Some(self.notice3),
            RectStage::Enforcement | RectStage::Rectified => None,
        }
    }

    /// The deadline of `stage` started at `start` for an item of `period`: the limit's
    /// counted time (at least one second) added on the calendar the unit's way.
    pub fn deadline(
        &self,
        stage: RectStage,
        period: TimeLimit,
        start: DateTime<Utc>,
        calendar: &WorkingCalendar,
    ) -> Result<Deadline, ObjectError> {
        self.validate()?;
        let limit = self
            .limit(stage)
            .ok_or_else(|| ObjectError::InvalidLadder(format!("stage {stage} has no deadline")))?;
        let (unit, seconds) = match limit {
            StageLimit::OfItem { percent } => (
                period.unit,
                calendar
                    .limit_seconds(period)
                    .saturating_mul(i64::from(percent))
                    / 100,
            ),
            StageLimit::Fixed(l) => (l.unit, calendar.limit_seconds(l)),
        };
        let due = calendar.add(unit, start, seconds.max(1));
        let tz = calendar.config().tz;
        let (from, to) = (
            start.with_timezone(&tz).year(),
            due.with_timezone(&tz).year(),
        );
        let unscheduled = matches!(unit, LimitUnit::WorkDay | LimitUnit::WorkHour)
            && (from..=to).any(|y| !calendar.has_schedule(y));
        Ok(Deadline { due, unscheduled })
    }
}

/// 整改通知 (a notice sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `notice1`, `notice2` or `notice3`.
    pub stage: RectStage,
    pub sent_at: DateTime<Utc>,
    /// 整改期限.
    pub due: DateTime<Utc>,
    /// The count crossed a year the holiday schedule does not cover.
    pub unscheduled: bool,
}

/// What the ladder asks for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum NextStep {
    /// Send this notice, with this deadline.
    SendNotice {
        stage: RectStage,
        deadline: Deadline,
    },
    /// Hand the object to enforcement (create the enforcement case).
    HandToEnforcement,
}

/// 整改记录 (rectification record) of one failing item of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub object: ObjectCode,
    pub item_code: String,
    /// The object's street when opened (statistics count per street).
    pub street: Option<RegionCode>,
    /// Who found the problem.
    pub source: CheckKind,
    pub opened_at: DateTime<Utc>,
    /// The item's default rectification period, kept as it was when opened.
    pub period: TimeLimit,
    pub stage: RectStage,
    /// The deadline of the current stage: the self-check period at `open` (none when opened by
    /// an inspection: notice 1 is due at once), the notice's at `notice1`–`notice3`, none after.
    pub due: Option<DateTime<Utc>>,
    /// Notices sent, in order.
    pub notices: Vec<Notice>,
    pub handed_over_at: Option<DateTime<Utc>>,
    pub rectified_at: Option<DateTime<Utc>>,
    /// The last change (no step may be taken before it).
    pub updated_at: DateTime<Utc>,
}

/// Instants as the stores keep them (microseconds), as the case machine does.
fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

impl Rectification {
    /// Opens the record of `item` failing on `object`, found at `at` by a check of `source`.
    pub fn open(
        object: &ManagedObject,
        item: &ChecklistItem,
        source: CheckKind,
        at: DateTime<Utc>,
        calendar: &WorkingCalendar,
        config: &LadderConfig,
    ) -> Result<Self, ObjectError> {
        let at = truncate_micros(at);
        let due = match source {
            CheckKind::SelfCheck => Some(
                config
                    .deadline(RectStage::Open, item.period, at, calendar)?
                    .due,
            ),
            CheckKind::Inspection => None,
        };
        Ok(Self {
            object: object.code.clone(),
            item_code: item.code.clone(),
            street: object.regions.street.clone(),
            source,
            opened_at: at,
            period: item.period,
            stage: RectStage::Open,
            due,
            notices: Vec::new(),
            handed_over_at: None,
            rectified_at: None,
            updated_at: at,
        })
    }

    /// Whether the record is still open (not rectified).
    pub fn is_open(&self) -> bool {
        self.stage != RectStage::Rectified
    }

    /// The one predicate: why `action` cannot be taken at `now`, if it cannot.
    fn blocked(&self, action: RectAction, now: DateTime<Utc>) -> Option<String> {
        if now < self.updated_at {
            return Some(format!(
                "{now} is before the record's last change at {}",
                self.updated_at
            ));
        }
        match action.source_stage() {
            None if self.stage == RectStage::Rectified => Some("it is already rectified".into()),
            None => None,
            Some(from) if self.stage != from => Some(format!(
                "it needs stage {from}, the record is at {}",
                self.stage
            )),
            Some(_) => match self.due {
                Some(due) if now <= due => Some(format!("the deadline {due} has not passed")),
                _ => None,
            },
        }
    }

    /// The actions possible at `now`.
    pub fn allowed_actions(&self, now: DateTime<Utc>) -> Vec<RectAction> {
        let now = truncate_micros(now);
        RectAction::ALL
            .iter()
            .copied()
            .filter(|a| self.blocked(*a, now).is_none())
            .collect()
    }

    fn refuse(&self, action: RectAction, why: String) -> ObjectError {
        ObjectError::Rectification {
            action,
            stage: self.stage,
            why,
        }
    }

    /// The escalation due at `now`, if any: the next notice with its deadline (from `now`), or
    /// the hand-over to enforcement. `None` while the current deadline runs, at enforcement
    /// and once rectified.
    pub fn next_due(
        &self,
        now: DateTime<Utc>,
        calendar: &WorkingCalendar,
        config: &LadderConfig,
    ) -> Result<Option<NextStep>, ObjectError> {
        let now = truncate_micros(now);
        let Some(action) = ESCALATIONS
            .into_iter()
            .find(|a| self.blocked(*a, now).is_none())
        else {
            return Ok(None);
        };
        self.step_of(action, now, calendar, config).map(Some)
    }

    fn step_of(
        &self,
        action: RectAction,
        now: DateTime<Utc>,
        calendar: &WorkingCalendar,
        config: &LadderConfig,
    ) -> Result<NextStep, ObjectError> {
        Ok(match action.target() {
            RectStage::Enforcement | RectStage::Rectified => NextStep::HandToEnforcement,
            stage => NextStep::SendNotice {
                stage,
                deadline: config.deadline(stage, self.period, now, calendar)?,
            },
        })
    }

    /// Takes the escalation due at `now`, if any: the record after it and what was done (send
    /// that notice; create the enforcement case).
    pub fn advance(
        &self,
        now: DateTime<Utc>,
        calendar: &WorkingCalendar,
        config: &LadderConfig,
    ) -> Result<Option<(Rectification, NextStep)>, ObjectError> {
        let now = truncate_micros(now);
        let Some(step) = self.next_due(now, calendar, config)? else {
            return Ok(None);
        };
        let action = match step {
            NextStep::SendNotice { stage, .. } => match stage {
                RectStage::Notice1 => RectAction::SendNotice1,
                RectStage::Notice2 => RectAction::SendNotice2,
                _ => RectAction::SendNotice3,
            },
            NextStep::HandToEnforcement => RectAction::HandToEnforcement,
        };
        let record = self.apply_step(action, now, Some(step))?;
        Ok(Some((record, step)))
    }

    /// Takes `action` at `now` (refused when [`Rectification::allowed_actions`] does not list it).
    pub fn apply(
        &self,
        action: RectAction,
        now: DateTime<Utc>,
        calendar: &WorkingCalendar,
        config: &LadderConfig,
    ) -> Result<Rectification, ObjectError> {
        let now = truncate_micros(now);
        if let Some(why) = self.blocked(action, now) {
            return Err(self.refuse(action, why));
        }
        let step = (action != RectAction::Rectify)
            .then(|| self.step_of(action, now, calendar, config))
            .transpose()?;
        self.apply_step(action, now, step)
    }

    /// 整改销号: rectified at `at`, from any open stage (also after the hand-over, when the
    /// enforcement case ends with the problem fixed).
    pub fn rectify(&self, at: DateTime<Utc>) -> Result<Rectification, ObjectError> {
        self.apply_step(RectAction::Rectify, truncate_micros(at), None)
    }

    /// Closes the record by a check that finds the item fine: any inspection (复查), or — only
    /// for a problem the party found itself and before any notice (自查自改) — a self-check.
    pub fn close_by(&self, check: &Check) -> Result<Rectification, ObjectError> {
        let refuse = |why: String| self.refuse(RectAction::Rectify, why);
        if check.object_code != self.object {
            return Err(refuse(format!(
                "the check is of object {}",
                check.object_code
            )));
        }
        match check.result(&self.item_code) {
            Some(r) if r.passed => {}
            Some(_) => return Err(refuse(format!("item {} still fails", self.item_code))),
            None => {
                return Err(refuse(format!(
                    "the check does not cover item {}",
                    self.item_code
                )));
            }
        }
        let own_fix = self.source == CheckKind::SelfCheck && self.stage == RectStage::Open;
        if check.kind == CheckKind::SelfCheck && !own_fix {
            return Err(refuse(
                "after a notice, or for a problem an inspection found, only a re-inspection closes it"
                    .into(),
            ));
        }
        self.rectify(check.at)
    }

    /// The only place a record changes; `step` carries the notice's deadline.
    fn apply_step(
        &self,
        action: RectAction,
        now: DateTime<Utc>,
        step: Option<NextStep>,
    ) -> Result<Rectification, ObjectError> {
        if let Some(why) = self.blocked(action, now) {
            return Err(self.refuse(action, why));
        }
        let mut next = self.clone();
        match (action, step) {
            (RectAction::Rectify, _) => {
                next.rectified_at = Some(now);
                next.due = None;
            }
            (RectAction::HandToEnforcement, _) => {
                next.handed_over_at = Some(now);
                next.due = None;
            }
            (_, Some(NextStep::SendNotice { stage, deadline })) if stage == action.target() => {
                next.notices.push(Notice {
                    stage,
                    sent_at: now,
                    due: deadline.due,
                    unscheduled: deadline.unscheduled,
                });
                next.due = Some(deadline.due);
            }
            _ => return Err(self.refuse(action, "the notice has no deadline".into())),
        }
        next.stage = action.target();
        next.updated_at = now;
        Ok(next)
    }

    /// The stage at which a rectified record was closed: `Open` (before any notice),
    /// `Notice1`–`Notice3` or `Enforcement`; `None` while open.
    pub fn closed_stage(&self) -> Option<RectStage> {
        if self.stage != RectStage::Rectified {
            return None;
        }
        Some(if self.handed_over_at.is_some() {
            RectStage::Enforcement
        } else {
            self.notices.last().map_or(RectStage::Open, |n| n.stage)
        })
    }
}

/// Opens a record for every failing item of `check` on `object` that has none open yet
/// (`already_open`: the item codes with an open record for this object).
pub fn open_for_failures(
    check: &Check,
    object: &ManagedObject,
    checklists: &Checklists,
    already_open: &[&str],
    calendar: &WorkingCalendar,
    config: &LadderConfig,
) -> Result<Vec<Rectification>, ObjectError> {
    check
        .failing()
        .filter(|r| !already_open.contains(&r.item_code.as_str()))
        .map(|r| {
            let item = checklists
                .item(&r.item_code)
                .ok_or_else(|| ObjectError::Checklist(format!("unknown item {}", r.item_code)))?;
            Rectification::open(object, item, check.kind, check.at, calendar, config)
        })
        .collect()
}

#[cfg(test)]
mod tests;
