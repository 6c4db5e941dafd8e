//! 双保险 (double insurance): the responsible party self-checks, the inspector verifies, and the
//! platform compares the two. Each inspection is compared with the object's latest self-check
//! before it; over its recent inspections an object earns a credibility score.
//!
//! **Credibility (自查可信度)** of an object over its last `N` inspections (default
//! [`DEFAULT_CREDIBILITY_WINDOW`] = 10):
//!
//! ```text
//! score = 100 × (1 − concealed / fine)
//! ```
//!
//! where `fine` counts the items those inspections checked that the latest self-check before
//! each had reported as 合格, and `concealed` those of them the inspection found 不合格
//! ([`DiscrepancyKind::SelfReportedFine`]). Items failing in both, or not self-checked, tell
//! nothing about the honesty of the self-check and count in neither. With no such item (no
//! inspection, or no self-check before any) the score is `None`, not 100: no data is no trust.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Check, CheckKind, ObjectCode, ObjectError};

/// Inspections the credibility score looks back over by default.
pub const DEFAULT_CREDIBILITY_WINDOW: usize = 10;

/// How an item the inspection found failing compares with the self-check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// 自查合格、巡查不合格: the self-check said fine, the inspection found it failing — the
    /// discrepancy that counts against credibility.
    SelfReportedFine,
    /// 自查、巡查均不合格: both found it failing (the party reported it honestly).
    FailingInBoth,
    /// 自查未查: failing, and the self-check did not cover it (or there was no self-check).
    NotSelfChecked,
}

/// One failing inspection item and how the self-check saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub item_code: String,
    pub kind: DiscrepancyKind,
}

/// 比对结果: one inspection against the latest self-check before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub object_code: ObjectCode,
    pub inspection_at: DateTime<Utc>,
    /// The self-check compared with, if there was one.
    pub self_check_at: Option<DateTime<Utc>>,
    /// Every item the inspection found failing, in the inspection's order.
    pub discrepancies: Vec<Discrepancy>,
    /// Items inspected that the self-check had reported fine.
    pub self_fine_inspected: u32,
    /// Of those, the ones the inspection found failing.
    pub self_fine_failing: u32,
}

/// The latest self-check of the inspection's object at or before the inspection.
pub fn latest_self_check_before<'a>(
    checks: impl IntoIterator<Item = &'a Check>,
    inspection: &Check,
) -> Option<&'a Check> {
    checks
        .into_iter()
        .filter(|c| {
            c.kind == CheckKind::SelfCheck
                && c.object_code == inspection.object_code
                && c.at <= inspection.at
        })
        .max_by_key(|c| c.at)
}

/// Compares an inspection with the self-check before it (see [`latest_self_check_before`]).
/// Refused when the kinds are wrong, the objects differ or the self-check is later.
pub fn compare(inspection: &Check, self_check: Option<&Check>) -> Result<Comparison, ObjectError> {
    if inspection.kind != CheckKind::Inspection {
        return Err(ObjectError::Incomparable(
            "the first check must be an inspection".into(),
        ));
    }
    if let Some(s) = self_check {
        if s.kind != CheckKind::SelfCheck {
            return Err(ObjectError::Incomparable(
                "the second check must be a self-check".into(),
            ));
        }
        if s.object_code != inspection.object_code {
            return Err(ObjectError::Incomparable(format!(
                "the self-check is of {}, the inspection of {}",
                s.object_code, inspection.object_code
            )));
        }
        if s.at > inspection.at {
            return Err(ObjectError::Incomparable(
                "the self-check is later than the inspection".into(),
            ));
        }
    }
    let mut out = Comparison {
        object_code: inspection.object_code.clone(),
        inspection_at: inspection.at,
        self_check_at: self_check.map(|s| s.at),
        discrepancies: Vec::new(),
        self_fine_inspected: 0,
        self_fine_failing: 0,
    };
    for r in &inspection.results {
        let said = self_check
            .and_then(|s| s.result(&r.item_code))
            .map(|s| s.passed);
        if said == Some(true) {
            out.self_fine_inspected += 1;
        }
        if r.passed {
            continue;
        }
        let kind = match said {
            Some(true) => {
                out.self_fine_failing += 1;
                DiscrepancyKind::SelfReportedFine
            }
            Some(false) => DiscrepancyKind::FailingInBoth,
            None => DiscrepancyKind::NotSelfChecked,
        };
        out.discrepancies.push(Discrepancy {
            item_code: r.item_code.clone(),
            kind,
        });
    }
    Ok(out)
}

/// 自查可信度 of `object` over its last `last_n` inspections among `comparisons` (others'
/// comparisons are ignored; order does not matter): `100 × (1 − concealed / fine)`, in
/// 0..=100, or `None` without data — see the [module documentation](self).
pub fn credibility(object: &ObjectCode, comparisons: &[Comparison], last_n: usize) -> Option<f64> {
    let mut own: Vec<&Comparison> = comparisons
        .iter()
        .filter(|c| &c.object_code == object)
        .collect();
    own.sort_by_key(|c| std::cmp::Reverse(c.inspection_at));
    let (fine, failing) = own
        .iter()
        .take(last_n)
        .fold((0u64, 0u64), |(fine, failing), c| {
            (
                fine + u64::from(c.self_fine_inspected),
                failing + u64::from(c.self_fine_failing.min(c.self_fine_inspected)),
            )
        });
    (fine > 0).then(|| 100.0 * (1.0 - failing as f64 / fine as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::check::tests::{check, result};
    use crate::objects::object::tests::shop;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0)
            .single()
            .expect("time")
            + Duration::days(d)
    }

    #[test]
    fn an_inspection_against_the_self_check() {
        let self_check = check(
            CheckKind::SelfCheck,
            day(0),
            vec![
                result("0101", true, &[]),
                result("0201", true, &[]),
                result("0301", false, &[1]),
                result("0401", true, &[]),
            ],
        );
        let inspection = check(
            CheckKind::Inspection,
            day(2),
            vec![
                result("0101", false, &[2]), // said fine, failing
                result("0201", true, &[]),   // said fine, fine
                result("0301", false, &[3]), // both failing
                result("0502", false, &[4]), // not self-checked
            ],
        );
        let c = compare(&inspection, Some(&self_check)).expect("comparable");
        let kinds: Vec<_> = c
            .discrepancies
            .iter()
            .map(|d| (d.item_code.as_str(), d.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("0101", DiscrepancyKind::SelfReportedFine),
                ("0301", DiscrepancyKind::FailingInBoth),
                ("0502", DiscrepancyKind::NotSelfChecked),
            ]
        );
        assert_eq!((c.self_fine_inspected, c.self_fine_failing), (2, 1));
        assert_eq!(c.self_check_at, Some(day(0)));
        // Without a self-check every failing item is "not self-checked".
        let alone = compare(&inspection, None).expect("comparable");
        assert!(
            alone
                .discrepancies
                .iter()
                .all(|d| d.kind == DiscrepancyKind::NotSelfChecked)
        );
        assert_eq!((alone.self_fine_inspected, alone.self_fine_failing), (0, 0));
        // Refusals.
        assert!(compare(&self_check, None).is_err());
        assert!(compare(&inspection, Some(&inspection)).is_err());
        let mut later = self_check.clone();
        later.at = day(3);
        assert!(compare(&inspection, Some(&later)).is_err());
        let mut other = self_check.clone();
        other.object_code =
            ObjectCode::new("441302", crate::objects::ObjectKind::School, 5).expect("code");
        assert!(compare(&inspection, Some(&other)).is_err());
    }

    #[test]
    fn the_latest_self_check_before_is_picked() {
        let s = |d| {
            check(
                CheckKind::SelfCheck,
                day(d),
                vec![result("0101", true, &[])],
            )
        };
        let inspection = check(CheckKind::Inspection, day(5), vec![]);
        let mut elsewhere = s(4);
        elsewhere.object_code =
            ObjectCode::new("441302", crate::objects::ObjectKind::School, 5).expect("code");
        let checks = vec![
            s(1),
            s(5),
            s(6),
            s(3),
            elsewhere,
            check(CheckKind::Inspection, day(4), vec![]),
        ];
        let picked = latest_self_check_before(&checks, &inspection).expect("one");
        assert_eq!(picked.at, day(5), "same instant counts as before");
        assert!(latest_self_check_before(&checks[2..3], &inspection).is_none());
    }

    fn cmp(d: i64, fine: u32, failing: u32) -> Comparison {
        Comparison {
            object_code: shop().code,
            inspection_at: day(d),
            self_check_at: (fine > 0).then(|| day(d - 1)),
            discrepancies: vec![],
            self_fine_inspected: fine,
            self_fine_failing: failing,
        }
    }

    #[test]
    fn credibility_by_hand() {
        let code = shop().code;
        // Oldest first: I1 4 fine / 2 concealed, I2 4/0, I3 no self-check, I4 2/1; given
        // out of order.
        let all = vec![cmp(21, 2, 1), cmp(0, 4, 2), cmp(14, 0, 0), cmp(7, 4, 0)];
        // All four: 3 concealed of 10 → 100 × (1 − 0.3) = 70.
        assert!((credibility(&code, &all, 10).expect("score") - 70.0).abs() < 1e-9);
        // Last three (I2, I3, I4): 1 of 6 → 83.33….
        assert!((credibility(&code, &all, 3).expect("score") - 100.0 * 5.0 / 6.0).abs() < 1e-9);
        // Last two (I3, I4): 1 of 2 → 50.
        assert!((credibility(&code, &all, 2).expect("score") - 50.0).abs() < 1e-9);
        // Only I3 (no self-check): no data.
        assert_eq!(credibility(&code, &[cmp(14, 0, 0)], 10), None);
        assert_eq!(credibility(&code, &[], 10), None);
        assert_eq!(credibility(&code, &all, 0), None);
        // Honest throughout: 100.
        assert_eq!(credibility(&code, &[cmp(1, 5, 0)], 10), Some(100.0));
        // Another object's comparisons do not count.
        let other = ObjectCode::new("441302", crate::objects::ObjectKind::School, 5).expect("code");
        assert_eq!(credibility(&other, &all, 10), None);
    }

    proptest! {
        #[test]
        fn credibility_stays_within_0_and_100(
            rounds in proptest::collection::vec(
                (
                    proptest::collection::vec(proptest::option::of(any::<bool>()), 6),
                    proptest::collection::vec(proptest::option::of(any::<bool>()), 6),
                    any::<bool>(),
                ),
                0..12,
            ),
            last_n in 0usize..15,
        ) {
            let items = ["0101", "0201", "0301", "0401", "0502", "0601"];
            let results = |said: &[Option<bool>]| -> Vec<_> {
                items
                    .iter()
                    .zip(said)
                    .filter_map(|(code, r)| r.map(|passed| result(code, passed, &[1])))
                    .collect()
            };
            let mut comparisons = Vec::new();
            for (i, (own, found, has_self)) in rounds.iter().enumerate() {
                let d = 2 * i as i64;
                let s = check(CheckKind::SelfCheck, day(d), results(own));
                let inspection = check(CheckKind::Inspection, day(d + 1), results(found));
                let c = compare(&inspection, has_self.then_some(&s)).expect("comparable");
                prop_assert!(c.self_fine_failing <= c.self_fine_inspected);
                prop_assert_eq!(
                    c.discrepancies.len(),
                    inspection.failing().count()
                );
                comparisons.push(c);
            }
            if let Some(score) = credibility(&shop().code, &comparisons, last_n) {
                prop_assert!((0.0..=100.0).contains(&score), "{}", score);
            }
        }
    }
}
