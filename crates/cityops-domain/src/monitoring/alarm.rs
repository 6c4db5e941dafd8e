//! Alarms (报警): raised → acknowledged → cleared, one active alarm per device and rule, the
//! level only rising while it is active; reminders to the responsible party and, after enough
//! of them, escalation to enforcement.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::case::types::named_enum;

use super::device::Metric;

named_enum!(
    /// Where an alarm stands (报警状态).
    AlarmStatus, "alarm status" {
        /// 报警中: raised, nobody has taken it yet.
        Raised => "raised", "报警中";
        /// 已确认: an operator has acknowledged it; still active.
        Acknowledged => "acknowledged", "已确认";
        /// 已解除: back to normal for the rule's clear time (or cleared by hand).
        Cleared => "cleared", "已解除";
    }
);

impl AlarmStatus {
    /// Raised and acknowledged alarms are active: at most one per device and rule.
    pub fn is_active(self) -> bool {
        !matches!(self, AlarmStatus::Cleared)
    }
}

/// The highest alarm level (三级, most severe).
pub const MAX_LEVEL: u8 = 3;

/// Checks an alarm level: 1 (一级, least severe) to 3 (三级, most severe).
pub fn check_level(level: u8) -> Result<u8, DomainError> {
    if (1..=MAX_LEVEL).contains(&level) {
        Ok(level)
    } else {
        Err(DomainError::Invalid(format!(
            "alarm level {level}: 1 (least severe) to {MAX_LEVEL}"
        )))
    }
}

/// An alarm as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: i64,
    pub device_id: String,
    pub rule_id: i64,
    /// The rule's name when the alarm was raised.
    pub rule: String,
    pub metric: Metric,
    /// The highest level reached while active.
    pub level: u8,
    pub status: AlarmStatus,
    pub raised_at: DateTime<Utc>,
    /// The value that raised it (or last escalated it).
    pub value: f64,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<i64>,
    pub cleared_at: Option<DateTime<Utc>>,
    /// The case the alarm created (an alarm at or above the rule's case level).
    pub case_id: Option<i64>,
    /// Reminders sent to the responsible party so far.
    pub reminders: u32,
    pub last_reminder_at: Option<DateTime<Utc>>,
    /// Handed over to enforcement after the reminders ran out.
    pub escalated_at: Option<DateTime<Utc>>,
}

impl Alarm {
    /// 确认: an operator takes the alarm. Only a raised alarm can be acknowledged.
    pub fn acknowledge(&mut self, by: i64, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != AlarmStatus::Raised {
            return Err(DomainError::Invalid(format!(
                "alarm {} is {}, only a raised alarm can be acknowledged",
                self.id,
                self.status.as_str()
            )));
        }
        self.status = AlarmStatus::Acknowledged;
        self.acknowledged_at = Some(now);
        self.acknowledged_by = Some(by);
        self.updated_at = now;
        Ok(())
    }

    /// 升级: the condition now holds at a higher level. Answers whether anything changed; an
    /// acknowledged alarm that escalates is raised again (it needs fresh attention).
    pub fn escalate(&mut self, level: u8, value: f64, now: DateTime<Utc>) -> bool {
        if !self.status.is_active() || level <= self.level {
            return false;
        }
        self.level = level;
        self.value = value;
        self.status = AlarmStatus::Raised;
        self.updated_at = now;
        true
    }

    /// 解除: back to normal (or cleared by hand). Answers whether it was active.
    pub fn clear(&mut self, now: DateTime<Utc>) -> bool {
        if !self.status.is_active() {
            return false;
        }
        self.status = AlarmStatus::Cleared;
        self.cleared_at = Some(now);
        self.updated_at = now;
        true
    }
}

/// Whether an alarm at `level` creates a case under a rule whose case level is `case_level`.
pub fn needs_case(level: u8, case_level: Option<u8>) -> bool {
    case_level.is_some_and(|c| level >= c)
}

/// How the responsible party is reminded of an active alarm (e.g. 噪声超标短信提醒), and when
/// enforcement takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Minutes between reminders while the alarm stays active. Default 30.
    pub every_minutes: u32,
    /// Reminders after which the alarm is handed to enforcement. Default 3.
    pub escalate_after: u32,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        Self {
            every_minutes: 30,
            escalate_after: 3,
        }
    }
}

/// What is due for an active alarm now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderStep {
    /// Send reminder number `n` (1-based) to the responsible party.
    Remind(u32),
    /// The reminders ran out: hand it to enforcement (执法).
    Escalate,
}

impl ReminderPolicy {
    /// What is due for `alarm` at `now`: the first reminder at once, the next ones
    /// `every_minutes` apart, then — `every_minutes` after the last — escalation, once.
    pub fn due(&self, alarm: &Alarm, now: DateTime<Utc>) -> Option<ReminderStep> {
        if !alarm.status.is_active() || alarm.escalated_at.is_some() {
            return None;
        }
        let waited = |since: DateTime<Utc>| {
            now - since >= Duration::minutes(i64::from(self.every_minutes.max(1)))
        };
        match alarm.last_reminder_at {
            None if alarm.reminders == 0 => Some(ReminderStep::Remind(1)),
            Some(last) if waited(last) => {
                if alarm.reminders >= self.escalate_after {
                    Some(ReminderStep::Escalate)
                } else {
                    Some(ReminderStep::Remind(alarm.reminders + 1))
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn alarm(now: DateTime<Utc>) -> Alarm {
        Alarm {
            id: 1,
            device_id: "HZ-NOISE-0001".into(),
            rule_id: 7,
            rule: "施工噪声".into(),
            metric: Metric::Laeq,
            level: 1,
            status: AlarmStatus::Raised,
            raised_at: now,
            value: 72.0,
            updated_at: now,
            acknowledged_at: None,
            acknowledged_by: None,
            cleared_at: None,
            case_id: None,
            reminders: 0,
            last_reminder_at: None,
            escalated_at: None,
        }
    }

    #[test]
    fn lifecycle_raised_acknowledged_escalated_cleared() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 23, 0, 0).unwrap();
        let mut a = alarm(t);
        a.acknowledge(5, t).unwrap();
        assert_eq!(a.status, AlarmStatus::Acknowledged);
        assert!(a.acknowledge(5, t).is_err(), "twice");
        assert!(!a.escalate(1, 80.0, t), "same level is no escalation");
        assert!(a.escalate(2, 80.0, t));
        assert_eq!((a.level, a.status), (2, AlarmStatus::Raised));
        assert!(a.clear(t));
        assert!(!a.clear(t));
        assert!(!a.escalate(3, 90.0, t), "a cleared alarm stays cleared");
        assert!(a.acknowledge(5, t).is_err());
    }

    #[test]
    fn a_case_from_the_configured_level_up() {
        assert!(!needs_case(1, Some(2)));
        assert!(needs_case(2, Some(2)));
        assert!(needs_case(3, Some(2)));
        assert!(!needs_case(3, None));
        assert!(check_level(0).is_err() && check_level(4).is_err() && check_level(2).is_ok());
    }

    #[test]
    fn reminders_then_enforcement_once() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 23, 0, 0).unwrap();
        let p = ReminderPolicy {
            every_minutes: 30,
            escalate_after: 3,
        };
        let mut a = alarm(t);
        let mut sent = Vec::new();
        let mut now = t;
        for _ in 0..(6 * 10) {
            if let Some(step) = p.due(&a, now) {
                sent.push((step, (now - t).num_minutes()));
                match step {
                    ReminderStep::Remind(n) => {
                        a.reminders = n;
                        a.last_reminder_at = Some(now);
                    }
                    ReminderStep::Escalate => a.escalated_at = Some(now),
                }
            }
            now += Duration::minutes(5);
        }
        assert_eq!(
            sent,
            vec![
                (ReminderStep::Remind(1), 0),
                (ReminderStep::Remind(2), 30),
                (ReminderStep::Remind(3), 60),
                (ReminderStep::Escalate, 90),
            ]
        );
        a.clear(now);
        assert_eq!(p.due(&a, now + Duration::hours(5)), None);
    }
}
