//! 小事不出责任区 statistics: how many problems closed at each stage of the ladder, per street.
//!
//! A rectified record counts at the stage it was closed at ([`Rectification::closed_stage`]):
//! before any notice (自查自改 or fixed on the spot), after notice 1, 2 or 3, or after the
//! hand-over to enforcement. The **小事不出责任区 rate** is the share of closed problems closed
//! before enforcement: `(closed − closed at enforcement) / closed`, `None` when none closed.
//! Records still open count apart (`open`, of them `in_enforcement`) and not in the rate.
//! Which records to count (a period, a district) is the caller's choice.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RectStage, Rectification};
use crate::RegionCode;

/// 分阶段办结统计 of one street (or of all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    /// 自查自改/当场整改: closed before any notice.
    pub before_notice: u32,
    /// Closed after 教育提醒.
    pub notice1: u32,
    /// Closed after 责令整改.
    pub notice2: u32,
    /// Closed after 警告.
    pub notice3: u32,
    /// Closed after 移交执法.
    pub enforcement: u32,
    /// Not closed yet.
    pub open: u32,
    /// Of the open ones, handed to enforcement.
    pub in_enforcement: u32,
}

impl StageCounts {
    fn count(&mut self, r: &Rectification) {
        match r.closed_stage() {
            Some(RectStage::Open) => self.before_notice += 1,
            Some(RectStage::Notice1) => self.notice1 += 1,
            Some(RectStage::Notice2) => self.notice2 += 1,
            Some(RectStage::Notice3) => self.notice3 += 1,
            Some(RectStage::Enforcement | RectStage::Rectified) => self.enforcement += 1,
            None => {
                self.open += 1;
                if r.stage == RectStage::Enforcement {
                    self.in_enforcement += 1;
                }
            }
        }
    }

    fn add(&mut self, o: &StageCounts) {
        self.before_notice += o.before_notice;
        self.notice1 += o.notice1;
        self.notice2 += o.notice2;
        self.notice3 += o.notice3;
        self.enforcement += o.enforcement;
        self.open += o.open;
        self.in_enforcement += o.in_enforcement;
    }

    /// Problems closed, at any stage.
    pub fn closed(&self) -> u32 {
        self.closed_in_zone() + self.enforcement
    }

    /// Problems closed before enforcement (小事不出责任区).
    pub fn closed_in_zone(&self) -> u32 {
        self.before_notice + self.notice1 + self.notice2 + self.notice3
    }

    /// 小事不出责任区率: closed before enforcement / all closed, in 0..=1; `None` when none closed.
    pub fn in_zone_rate(&self) -> Option<f64> {
        let closed = self.closed();
        (closed > 0).then(|| f64::from(self.closed_in_zone()) / f64::from(closed))
    }
}

/// The counts per street (`None`: records of objects located in no street) and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStats {
    pub by_street: BTreeMap<Option<RegionCode>, StageCounts>,
    pub total: StageCounts,
}

/// Counts `records` per street and stage of closure.
pub fn stage_statistics<'a>(records: impl IntoIterator<Item = &'a Rectification>) -> StageStats {
    let mut stats = StageStats::default();
    for r in records {
        stats
            .by_street
            .entry(r.street.clone())
            .or_default()
            .count(r);
    }
    for counts in stats.by_street.values() {
        stats.total.add(counts);
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::CheckKind;
    use crate::objects::object::tests::shop;
    use crate::objects::rectification::Notice;
    use crate::{LimitUnit, TimeLimit};
    use chrono::{DateTime, Duration, TimeZone, Utc};

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
            .single()
            .expect("time")
            + Duration::hours(h)
    }

    /// A record of `street` that reached `notices` notices, maybe handed over, maybe closed.
    fn record(street: Option<&str>, notices: usize, handed: bool, closed: bool) -> Rectification {
        let stages = [RectStage::Notice1, RectStage::Notice2, RectStage::Notice3];
        let notices: Vec<Notice> = stages[..notices]
            .iter()
            .enumerate()
            .map(|(i, &stage)| Notice {
                stage,
                sent_at: t(10 * i as i64),
                due: t(10 * i as i64 + 8),
                unscheduled: false,
            })
            .collect();
        let stage = if closed {
            RectStage::Rectified
        } else if handed {
            RectStage::Enforcement
        } else {
            notices.last().map_or(RectStage::Open, |n| n.stage)
        };
        Rectification {
            object: shop().code,
            item_code: "0101".into(),
            street: street.map(|s| RegionCode::parse(s).expect("street")),
            source: CheckKind::Inspection,
            opened_at: t(0),
            period: TimeLimit {
                value: 1,
                unit: LimitUnit::WorkDay,
            },
            stage,
            due: None,
            notices,
            handed_over_at: handed.then(|| t(40)),
            rectified_at: closed.then(|| t(50)),
            updated_at: t(50),
        }
    }

    #[test]
    fn counts_and_rates_by_hand() {
        let a = Some("441302001");
        let b = Some("441302002");
        let records = vec![
            // Street A: 2 before any notice, 1 after notice 1, 1 after notice 3, 1 after
            // enforcement, 1 open at notice 2.
            record(a, 0, false, true),
            record(a, 0, false, true),
            record(a, 1, false, true),
            record(a, 3, false, true),
            record(a, 3, true, true),
            record(a, 2, false, false),
            // Street B: 1 after notice 2, 1 after enforcement, 1 open at enforcement.
            record(b, 2, false, true),
            record(b, 3, true, true),
            record(b, 3, true, false),
            // Located in no street: open, no notice.
            record(None, 0, false, false),
        ];
        let stats = stage_statistics(&records);
        let street = |s: Option<&str>| {
            stats
                .by_street
                .get(&s.map(|s| RegionCode::parse(s).expect("street")))
                .copied()
                .expect("street counted")
        };
        let sa = street(a);
        assert_eq!(
            sa,
            StageCounts {
                before_notice: 2,
                notice1: 1,
                notice2: 0,
                notice3: 1,
                enforcement: 1,
                open: 1,
                in_enforcement: 0,
            }
        );
        // A: 4 of 5 closed before enforcement = 0.8.
        assert_eq!((sa.closed(), sa.closed_in_zone()), (5, 4));
        assert_eq!(sa.in_zone_rate(), Some(0.8));
        // B: 1 of 2 = 0.5; the open enforcement case is not in the rate.
        let sb = street(b);
        assert_eq!(
            (sb.notice2, sb.enforcement, sb.open, sb.in_enforcement),
            (1, 1, 1, 1)
        );
        assert_eq!(sb.in_zone_rate(), Some(0.5));
        // Unlocated: nothing closed, no rate.
        assert_eq!(street(None).open, 1);
        assert_eq!(street(None).in_zone_rate(), None);
        // Total: 5 of 7 closed before enforcement.
        assert_eq!((stats.total.closed(), stats.total.closed_in_zone()), (7, 5));
        assert_eq!(stats.total.open, 3);
        assert!((stats.total.in_zone_rate().expect("rate") - 5.0 / 7.0).abs() < 1e-12);
        assert_eq!(stage_statistics(&[]), StageStats::default());
    }
}
