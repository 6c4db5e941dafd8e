//! The ladder with hand-computed deadlines (a weekend; National Day 2026 with its make-up
//! Saturday) and property tests of the machine.
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;
use crate::calendar::parse_calendar_csv;
use crate::objects::check::tests::{check, result};
use crate::objects::object::tests::shop;

const HOLIDAYS: &str = include_str!("../../../../../data/calendar/cn_public_holidays.csv");

fn cal() -> WorkingCalendar {
    WorkingCalendar::china_default(parse_calendar_csv(HOLIDAYS).expect("shipped calendar"))
}

/// A Beijing-time instant.
fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid local time")
        .with_timezone(&Utc)
}

fn item(code: &str, value: u32, unit: LimitUnit) -> ChecklistItem {
    let mut item = Checklists::demo()
        .expect("demo")
        .item(code)
        .expect("item")
        .clone();
    item.period = TimeLimit { value, unit };
    item
}

fn notice(step: Option<NextStep>) -> (RectStage, DateTime<Utc>) {
    match step {
        Some(NextStep::SendNotice { stage, deadline }) => {
            assert!(!deadline.unscheduled);
            (stage, deadline.due)
        }
        other => panic!("expected a notice, got {other:?}"),
    }
}

#[test]
fn the_ladder_across_national_day_and_its_make_up_saturday() {
    let (c, cfg) = (cal(), LadderConfig::default());
    // An inspection on Tue 29 Sep 2026 10:00 finds item 0101 (3 工作日) failing.
    let r = Rectification::open(
        &shop(),
        &item("0101", 3, LimitUnit::WorkDay),
        CheckKind::Inspection,
        at(2026, 9, 29, 10, 0),
        &c,
        &cfg,
    )
    .expect("open");
    assert_eq!((r.stage, r.due), (RectStage::Open, None));
    assert_eq!(r.street.as_ref().map(RegionCode::as_str), Some("441302001"));

    // Notice 1 at once, 3 工作日 = 24 h: Tue 10–12, 14–18 (6 h), Wed 30 Sep (8 h → 14 h),
    // 1–7 Oct National Day, Thu 8 Oct (8 h → 22 h), Fri 9 Oct 08:00–10:00 → Fri 9 Oct 10:00.
    let now = at(2026, 9, 29, 10, 0);
    let (r, step) = r.advance(now, &c, &cfg).expect("ok").expect("notice 1");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice1, at(2026, 10, 9, 10, 0))
    );
    assert_eq!(r.stage, RectStage::Notice1);

    // Not overdue at the deadline itself.
    assert_eq!(r.next_due(at(2026, 10, 9, 10, 0), &c, &cfg), Ok(None));
    assert_eq!(
        r.allowed_actions(at(2026, 10, 9, 10, 0)),
        vec![RectAction::Rectify]
    );

    // Notice 2 at Fri 9 Oct 10:05, half of 24 h = 12 h: Fri 10:05–12:00 and 14–18 (5 h 55),
    // Sat 10 Oct is a make-up workday: 08–12 (4 h → 9 h 55), 14:00 + 2 h 05 → Sat 10 Oct 16:05.
    let (r, step) = r
        .advance(at(2026, 10, 9, 10, 5), &c, &cfg)
        .expect("ok")
        .expect("notice 2");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice2, at(2026, 10, 10, 16, 5))
    );

    // Notice 3 at Sat 16:10, 1 工作日 = 8 h: Sat 16:10–18:00 (1 h 50), Sunday off, Mon 12 Oct
    // 08–12 (4 h → 5 h 50), 14:00 + 2 h 10 → Mon 12 Oct 16:10.
    let (r, step) = r
        .advance(at(2026, 10, 10, 16, 10), &c, &cfg)
        .expect("ok")
        .expect("notice 3");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice3, at(2026, 10, 12, 16, 10))
    );
    assert_eq!(r.advance(at(2026, 10, 12, 16, 10), &c, &cfg), Ok(None));

    // Past the warning: hand over, once.
    let (r, step) = r
        .advance(at(2026, 10, 12, 16, 11), &c, &cfg)
        .expect("ok")
        .expect("hand-over");
    assert_eq!(step, NextStep::HandToEnforcement);
    assert_eq!(r.stage, RectStage::Enforcement);
    assert_eq!(r.handed_over_at, Some(at(2026, 10, 12, 16, 11)));
    assert_eq!(r.advance(at(2026, 11, 30, 9, 0), &c, &cfg), Ok(None));
    let dues: Vec<_> = r.notices.iter().map(|n| n.due).collect();
    assert_eq!(
        dues,
        vec![
            at(2026, 10, 9, 10, 0),
            at(2026, 10, 10, 16, 5),
            at(2026, 10, 12, 16, 10)
        ]
    );

    // The enforcement case ends with the problem fixed.
    let done = r.rectify(at(2026, 10, 20, 9, 0)).expect("rectified");
    assert_eq!(done.closed_stage(), Some(RectStage::Enforcement));
    assert!(done.allowed_actions(at(2026, 12, 1, 9, 0)).is_empty());
}

#[test]
fn a_self_found_problem_gets_its_own_period_over_a_weekend() {
    let (c, cfg) = (cal(), LadderConfig::default());
    // Self-check on Fri 6 Mar 2026 15:00, item 0202 (2 工作日 = 16 h): Fri 15–18 (3 h), Mon 9 Mar
    // (8 h → 11 h), Tue 10 Mar 08–12 (4 h → 15 h), 14:00–15:00 → Tue 10 Mar 15:00.
    let r = Rectification::open(
        &shop(),
        &item("0202", 2, LimitUnit::WorkDay),
        CheckKind::SelfCheck,
        at(2026, 3, 6, 15, 0),
        &c,
        &cfg,
    )
    .expect("open");
    assert_eq!(r.due, Some(at(2026, 3, 10, 15, 0)));
    assert_eq!(r.next_due(at(2026, 3, 10, 15, 0), &c, &cfg), Ok(None));
    assert_eq!(
        r.allowed_actions(at(2026, 3, 9, 9, 0)),
        vec![RectAction::Rectify]
    );

    // Fixed by the party itself before the deadline: closed by its next self-check.
    let fixed = check(
        CheckKind::SelfCheck,
        at(2026, 3, 10, 14, 0),
        vec![result("0202", true, &[])],
    );
    let closed = r.close_by(&fixed).expect("closed");
    assert_eq!(closed.closed_stage(), Some(RectStage::Open));
    assert_eq!(closed.rectified_at, Some(at(2026, 3, 10, 14, 0)));

    // Not fixed: notice 1 from Tue 15:30 with the full 16 h → Thu 12 Mar 15:30.
    let (r, step) = r
        .advance(at(2026, 3, 10, 15, 30), &c, &cfg)
        .expect("ok")
        .expect("notice 1");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice1, at(2026, 3, 12, 15, 30))
    );
    // Now a self-check no longer closes it; a re-inspection does.
    let later_self = check(
        CheckKind::SelfCheck,
        at(2026, 3, 11, 9, 0),
        vec![result("0202", true, &[])],
    );
    assert!(r.close_by(&later_self).is_err());
    let reinspection = check(
        CheckKind::Inspection,
        at(2026, 3, 11, 9, 0),
        vec![result("0202", true, &[])],
    );
    let closed = r.close_by(&reinspection).expect("closed");
    assert_eq!(closed.closed_stage(), Some(RectStage::Notice1));
    // A re-inspection that still finds it failing, or does not cover it, closes nothing.
    let failing = check(
        CheckKind::Inspection,
        at(2026, 3, 11, 9, 0),
        vec![result("0202", false, &[1])],
    );
    assert!(r.close_by(&failing).is_err());
    let other_item = check(
        CheckKind::Inspection,
        at(2026, 3, 11, 9, 0),
        vec![result("0101", true, &[])],
    );
    assert!(r.close_by(&other_item).is_err());
}

#[test]
fn configured_periods_and_hours() {
    let c = cal();
    let cfg = LadderConfig {
        notice2: StageLimit::Fixed(TimeLimit {
            value: 4,
            unit: LimitUnit::WorkHour,
        }),
        ..LadderConfig::default()
    };
    // Item 0404 (2 工作时) found Mon 2 Mar 2026 17:00: notice 1 due Tue 3 Mar 09:00.
    let r = Rectification::open(
        &shop(),
        &item("0404", 2, LimitUnit::WorkHour),
        CheckKind::Inspection,
        at(2026, 3, 2, 17, 0),
        &c,
        &cfg,
    )
    .expect("open");
    let (r, step) = r
        .advance(at(2026, 3, 2, 17, 0), &c, &cfg)
        .expect("ok")
        .expect("n1");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice1, at(2026, 3, 3, 9, 0))
    );
    // Notice 2 fixed at 4 工作时 from Tue 11:00: 11–12, 14–17 → Tue 17:00.
    let (_, step) = r
        .advance(at(2026, 3, 3, 11, 0), &c, &cfg)
        .expect("ok")
        .expect("n2");
    assert_eq!(
        notice(Some(step)),
        (RectStage::Notice2, at(2026, 3, 3, 17, 0))
    );
    // Half of 1 工作时 is 30 minutes.
    let half = LadderConfig {
        notice1: StageLimit::OfItem { percent: 50 },
        ..LadderConfig::default()
    };
    let d = half
        .deadline(
            RectStage::Notice1,
            TimeLimit {
                value: 1,
                unit: LimitUnit::WorkHour,
            },
            at(2026, 3, 2, 11, 50),
            &c,
        )
        .expect("deadline");
    assert_eq!(d.due, at(2026, 3, 2, 14, 20));
    // Beyond the schedule (2027 is not published) the deadline is flagged.
    let d = LadderConfig::default()
        .deadline(
            RectStage::Notice1,
            TimeLimit {
                value: 3,
                unit: LimitUnit::WorkDay,
            },
            at(2026, 12, 30, 10, 0),
            &c,
        )
        .expect("deadline");
    assert!(d.unscheduled);
}

#[test]
fn refusals_name_the_reason() {
    let (c, cfg) = (cal(), LadderConfig::default());
    let r = Rectification::open(
        &shop(),
        &item("0101", 1, LimitUnit::WorkDay),
        CheckKind::Inspection,
        at(2026, 3, 2, 9, 0),
        &c,
        &cfg,
    )
    .expect("open");
    let e = r
        .apply(RectAction::SendNotice2, at(2026, 3, 2, 9, 0), &c, &cfg)
        .expect_err("skip a notice");
    assert!(e.to_string().contains("needs stage notice1"), "{e}");
    let e = r.rectify(at(2026, 3, 1, 9, 0)).expect_err("time back");
    assert!(
        e.to_string().contains("before the record's last change"),
        "{e}"
    );
    let n1 = r
        .apply(RectAction::SendNotice1, at(2026, 3, 2, 9, 0), &c, &cfg)
        .expect("notice 1");
    let e = n1
        .apply(RectAction::SendNotice2, at(2026, 3, 2, 10, 0), &c, &cfg)
        .expect_err("early");
    assert!(e.to_string().contains("has not passed"), "{e}");
    let done = n1.rectify(at(2026, 3, 2, 10, 0)).expect("rectify");
    let e = done.rectify(at(2026, 3, 2, 11, 0)).expect_err("twice");
    assert!(e.to_string().contains("already rectified"), "{e}");
    let mut other = check(
        CheckKind::Inspection,
        at(2026, 3, 2, 11, 0),
        vec![result("0101", true, &[])],
    );
    other.object_code =
        ObjectCode::new("441302", crate::objects::ObjectKind::School, 3).expect("code");
    assert!(n1.close_by(&other).is_err());
    // Bad configurations.
    for bad in [
        LadderConfig {
            notice2: StageLimit::OfItem { percent: 0 },
            ..cfg
        },
        LadderConfig {
            notice3: StageLimit::Fixed(TimeLimit {
                value: 1,
                unit: LimitUnit::NaturalDay,
            }),
            ..cfg
        },
        LadderConfig {
            notice3: StageLimit::Fixed(TimeLimit {
                value: 0,
                unit: LimitUnit::WorkDay,
            }),
            ..cfg
        },
    ] {
        assert!(bad.validate().is_err());
        assert!(n1.next_due(at(2026, 3, 5, 9, 0), &c, &bad).is_err());
    }
    assert_eq!(cfg.validate(), Ok(()));
    let json = serde_json::to_string(&cfg).expect("json");
    assert_eq!(serde_json::from_str::<LadderConfig>(&json).ok(), Some(cfg));
    assert_eq!(
        serde_json::from_str::<LadderConfig>(r#"{"notice2": {"of_item": {"percent": 25}}}"#)
            .map(|c| c.notice2)
            .ok(),
        Some(StageLimit::OfItem { percent: 25 })
    );
}

#[test]
fn failures_open_records_once() {
    let (c, cfg) = (cal(), LadderConfig::default());
    let set = Checklists::demo().expect("demo");
    let inspection = check(
        CheckKind::Inspection,
        at(2026, 3, 2, 9, 0),
        vec![
            result("0101", false, &[1]),
            result("0201", true, &[]),
            result("0301", false, &[2]),
        ],
    );
    let opened =
        open_for_failures(&inspection, &shop(), &set, &["0301"], &c, &cfg).expect("opened");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].item_code, "0101");
    assert_eq!(opened[0].period, set.item("0101").expect("item").period);
    let unknown = check(
        CheckKind::Inspection,
        at(2026, 3, 2, 9, 0),
        vec![result("9999", false, &[1])],
    );
    assert!(open_for_failures(&unknown, &shop(), &set, &[], &c, &cfg).is_err());
}

/// Whether the second before `t` is working time: `t` lies in (or ends) a working period.
fn on_working_time(c: &WorkingCalendar, t: DateTime<Utc>) -> bool {
    c.elapsed(LimitUnit::WorkHour, t - Duration::seconds(1), t) == 1
}

#[derive(Debug, Clone)]
enum Move {
    Advance,
    Rectify,
    Try(usize),
}

fn moves() -> impl Strategy<Value = Vec<(i64, Move)>> {
    proptest::collection::vec(
        (
            0i64..6_000,
            prop_oneof![
                6 => Just(Move::Advance),
                1 => Just(Move::Rectify),
                3 => (0..RectAction::ALL.len()).prop_map(Move::Try),
            ],
        ),
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_ladder_only_moves_forward_on_working_time(
        start_minutes in 0i64..(280 * 24 * 60),
        value in 1u32..8,
        hours in any::<bool>(),
        self_found in any::<bool>(),
        steps in moves(),
    ) {
        let (c, cfg) = (cal(), LadderConfig::default());
        let unit = if hours { LimitUnit::WorkHour } else { LimitUnit::WorkDay };
        let source = if self_found { CheckKind::SelfCheck } else { CheckKind::Inspection };
        let mut now = at(2026, 1, 5, 8, 0) + Duration::minutes(start_minutes);
        let mut r = Rectification::open(&shop(), &item("0101", value, unit), source, now, &c, &cfg)
            .expect("open");
        if let Some(due) = r.due {
            prop_assert!(due > now && on_working_time(&c, due));
        }
        for (gap, mv) in steps {
            now += Duration::minutes(gap);
            let before = r.clone();
            match mv {
                Move::Advance => {
                    if let Some((next, _)) = r.advance(now, &c, &cfg).expect("advance") {
                        r = next;
                    }
                }
                Move::Rectify => {
                    let done = r.rectify(now);
                    prop_assert_eq!(done.is_ok(), before.is_open());
                    if let Ok(done) = done {
                        r = done;
                    }
                }
                Move::Try(i) => {
                    // One predicate: allowed exactly when apply accepts.
                    let action = RectAction::ALL[i];
                    let allowed = r.allowed_actions(now).contains(&action);
                    let applied = r.apply(action, now, &c, &cfg);
                    prop_assert_eq!(allowed, applied.is_ok(), "{} at {}", action, r.stage);
                    if let Ok(next) = applied {
                        r = next;
                    }
                }
            }
            // Forward only; a rectified record never changes again.
            prop_assert!(r.stage >= before.stage);
            if !before.is_open() {
                prop_assert_eq!(&r, &before);
                prop_assert!(r.allowed_actions(now).is_empty());
                prop_assert_eq!(r.next_due(now, &c, &cfg), Ok(None));
            }
            // Deadlines strictly increase, each on working time, each notice sent only after
            // the previous deadline ran out.
            let mut last_due = if source == CheckKind::SelfCheck {
                Some(r.opened_at)
            } else {
                None
            };
            for n in &r.notices {
                prop_assert!(n.due > n.sent_at);
                prop_assert!(on_working_time(&c, n.due), "{:?}", n);
                if let Some(prev) = last_due {
                    prop_assert!(n.due > prev && n.sent_at >= prev);
                }
                last_due = Some(n.due);
            }
            let notices = r.notices.len();
            let stage_ok = match r.stage {
                RectStage::Open => notices == 0,
                RectStage::Notice1 => notices == 1,
                RectStage::Notice2 => notices == 2,
                RectStage::Notice3 => notices == 3,
                RectStage::Enforcement => notices == 3 && r.handed_over_at.is_some(),
                RectStage::Rectified => r.rectified_at.is_some(),
            };
            prop_assert!(stage_ok, "{:?}", r);
        }
    }
}
