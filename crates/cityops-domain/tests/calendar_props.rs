//! Properties of the working calendar (工作日历) over the shipped 2025–2026 holiday schedule.
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use cityops_domain::{LimitUnit, TimeLimit, WorkingCalendar, parse_calendar_csv};
use proptest::prelude::*;

const CSV: &str = include_str!("../../../data/calendar/cn_public_holidays.csv");

fn cal() -> WorkingCalendar {
    WorkingCalendar::china_default(parse_calendar_csv(CSV).expect("shipped calendar parses"))
}

/// 2024-12-01 00:00 Beijing time: the strategies start a little before the schedule and run into
/// the unscheduled 2027.
fn origin() -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(2024, 12, 1, 0, 0, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc)
}

/// Any second from December 2024 to the end of 2026.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(25 * 31 * 86_400)).prop_map(|s| origin() + Duration::seconds(s))
}

/// Any minute from December 2024 to the end of 2026.
fn minute() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(25 * 31 * 1440)).prop_map(|m| origin() + Duration::minutes(m))
}

/// 2020-01-01 00:00 Beijing time.
fn early() -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc)
}

/// Any second from 2020 to 2030: years before, inside and after the schedule, where whole plain
/// weeks are skipped.
fn wide_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(11 * 366 * 86_400)).prop_map(|s| early() + Duration::seconds(s))
}

/// Any minute from 2020 to 2030.
fn wide_minute() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(11 * 366 * 1440)).prop_map(|m| early() + Duration::minutes(m))
}

/// A narrow or a wide instant.
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![instant(), wide_instant()]
}

fn unit() -> impl Strategy<Value = LimitUnit> {
    prop::sample::select(LimitUnit::ALL.to_vec())
}

fn counted_unit() -> impl Strategy<Value = LimitUnit> {
    prop::sample::select(vec![LimitUnit::WorkHour, LimitUnit::WorkDay])
}

/// Whether the minute starting at `t` lies inside working time: the slow, obvious definition.
fn working_minute(c: &WorkingCalendar, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&Shanghai);
    let date: NaiveDate = local.date_naive();
    let time = local.time();
    c.is_working_day(date)
        && c.config()
            .hours
            .periods
            .iter()
            .any(|&(start, end)| start <= time && time < end)
}

/// The deadline of `hours` work hours by stepping minute by minute (start on a whole minute).
fn brute_deadline(c: &WorkingCalendar, start: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    let mut left = i64::from(hours) * 60;
    let mut t = start;
    while left > 0 {
        if working_minute(c, t) {
            left -= 1;
        }
        t += Duration::minutes(1);
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn deadline_is_monotone_in_value(start in any_instant(), unit in unit(), a in 0u32..300, b in 0u32..300) {
        let c = cal();
        let (lo, hi) = (a.min(b), a.max(b));
        let d_lo = c.deadline(start, TimeLimit { value: lo, unit }).due;
        let d_hi = c.deadline(start, TimeLimit { value: hi, unit }).due;
        prop_assert!(d_lo <= d_hi, "{lo} → {d_lo}, {hi} → {d_hi}");
    }

    #[test]
    fn due_is_never_before_start(start in instant(), unit in unit(), value in 0u32..500) {
        let c = cal();
        let due = c.deadline(start, TimeLimit { value, unit }).due;
        prop_assert!(due >= start);
        if value == 0 {
            prop_assert_eq!(due, start);
        }
    }

    #[test]
    fn elapsed_to_the_deadline_is_the_limit(start in any_instant(), unit in unit(), value in 0u32..3000) {
        let c = cal();
        let limit = TimeLimit { value, unit };
        let due = c.deadline(start, limit).due;
        prop_assert_eq!(c.elapsed(unit, start, due), c.limit_seconds(limit));
        prop_assert_eq!(c.elapsed(unit, due, start), -c.limit_seconds(limit));
    }

    #[test]
    fn add_is_associative(start in any_instant(), unit in unit(), a in 1i64..20_000_000, b in 0i64..20_000_000) {
        let c = cal();
        let stepwise = c.add(unit, c.add(unit, start, a), b);
        prop_assert_eq!(stepwise, c.add(unit, start, a + b));
    }

    #[test]
    fn a_due_instant_is_working_time_or_a_period_end(start in instant(), unit in counted_unit(), value in 1u32..100) {
        let c = cal();
        let due = c.deadline(start, TimeLimit { value, unit }).due;
        // Just before the due instant the clock was running.
        prop_assert!(c.elapsed(unit, due - Duration::seconds(1), due) == 1);
    }

    #[test]
    fn work_hours_match_minute_stepping(start in prop_oneof![minute(), wide_minute()], hours in 0u32..120) {
        let c = cal();
        let due = c.deadline(start, TimeLimit { value: hours, unit: LimitUnit::WorkHour }).due;
        prop_assert_eq!(due, brute_deadline(&c, start, hours));
    }

    #[test]
    fn elapsed_matches_minute_counting(from in prop_oneof![minute(), wide_minute()], minutes in 0i64..(20 * 1440)) {
        let c = cal();
        let to = from + Duration::minutes(minutes);
        let mut t = from;
        let mut counted = 0;
        while t < to {
            if working_minute(&c, t) {
                counted += 60;
            }
            t += Duration::minutes(1);
        }
        prop_assert_eq!(c.elapsed(LimitUnit::WorkHour, from, to), counted);
        prop_assert_eq!(c.elapsed(LimitUnit::WorkDay, from, to), counted);
    }

    #[test]
    fn elapsed_is_additive(a in any_instant(), b in any_instant(), m in any_instant(), unit in unit()) {
        let c = cal();
        prop_assert_eq!(
            c.elapsed(unit, a, m) + c.elapsed(unit, m, b),
            c.elapsed(unit, a, b)
        );
    }

    #[test]
    fn going_back_is_undone_by_elapsed(end in any_instant(), unit in unit(), secs in 0i64..20_000_000) {
        let c = cal();
        let back = c.add(unit, end, -secs);
        prop_assert!(back <= end);
        prop_assert_eq!(c.elapsed(unit, back, end), secs);
    }

    #[test]
    fn lights_follow_elapsed_share(start in instant(), unit in unit(), value in 1u32..50, probe in 0i64..3_000_000) {
        let c = cal();
        let limit = TimeLimit { value, unit };
        let due = c.deadline(start, limit).due;
        let now = start + Duration::seconds(probe);
        let light = c.light(unit, start, due, now);
        let elapsed = c.elapsed(unit, start, now) as f64;
        let full = c.limit_seconds(limit) as f64;
        let expected = if now > due {
            cityops_domain::Light::Red
        } else if elapsed >= 0.8 * full {
            cityops_domain::Light::Yellow
        } else {
            cityops_domain::Light::Green
        };
        prop_assert_eq!(light, expected, "elapsed {} of {}", elapsed, full);
        // The yellow instant is when the share is first reached.
        let yellow = c.yellow_at(unit, start, due);
        prop_assert!(c.light(unit, start, due, yellow) >= cityops_domain::Light::Yellow);
        prop_assert_eq!(
            c.light(unit, start, due, yellow - Duration::seconds(1)),
            cityops_domain::Light::Green
        );
    }
}
