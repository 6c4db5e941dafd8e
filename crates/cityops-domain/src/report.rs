//! 报表 (reports): the daily briefing (晨报), the weekly report (周报) and the monthly report
//! (月报) — which local days each covers, on which working day the server produces it, and the
//! tallies of a period's cases.
//!
//! The schedule follows the working calendar: a report is produced on the first working day on
//! or after its period ends, at the configured local time. The daily briefing of working day `D`
//! covers every day since the previous working day's briefing — `[previous working day, D)` —
//! so Monday's briefing covers Friday, Saturday and Sunday, the briefing after a holiday covers
//! the holiday, and consecutive briefings tile the calendar without a gap or an overlap. Weeks
//! are ISO weeks (Monday to Sunday), months calendar months.
//!
//! Pure: the application reads the cases and the names; the web crate renders the page, the CSV
//! and the XLSX.
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::case::CaseStatus;
use crate::error::DomainError;
use crate::evaluation::{EvalCase, overdue_open, should_close};

/// A kind of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// 晨报: the days since the previous working day.
    Daily,
    /// 周报: the ISO week before.
    Weekly,
    /// 月报: the calendar month before.
    Monthly,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [ReportKind::Daily, ReportKind::Weekly, ReportKind::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Weekly => "weekly",
            ReportKind::Monthly => "monthly",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ReportKind::Daily => "晨报",
            ReportKind::Weekly => "周报",
            ReportKind::Monthly => "月报",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ReportKind::Daily => "Daily briefing",
            ReportKind::Weekly => "Weekly report",
            ReportKind::Monthly => "Monthly report",
        }
    }

    /// The periods whose reports are produced on `day`: none on a day off; for a working day,
    /// every period of this kind that ends after the previous working day and by `day` (one
    /// briefing; the week or month that just ended, if it did — two after a long holiday).
    pub fn periods_produced_on(self, cal: &WorkingCalendar, day: NaiveDate) -> Vec<ReportPeriod> {
        if !cal.is_working_day(day) {
            return Vec::new();
        }
        let previous = previous_working_day(cal, day);
        match self {
            ReportKind::Daily => vec![ReportPeriod {
                from: previous,
                to: day,
            }],
            ReportKind::Weekly => {
                let mut out = Vec::new();
                let mut end = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                while end > previous {
                    out.push(ReportPeriod {
                        from: end - Duration::days(7),
                        to: end,
                    });
                    end -= Duration::days(7);
                }
                out.reverse();
                out
            }
            ReportKind::Monthly => {
                let mut out = Vec::new();
                let mut end = first_of_month(day);
                while end > previous {
                    let from = first_of_month(end - Duration::days(1));
                    out.push(ReportPeriod { from, to: end });
                    end = from;
                }
                out.reverse();
                out
            }
        }
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ReportKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "report kind",
                value: s.to_string(),
            })
    }
}

/// The local days a report covers: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReportPeriod {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
}

impl ReportPeriod {
    /// The last day covered.
    pub fn last_day(&self) -> NaiveDate {
        self.to - Duration::days(1)
    }

    /// Days covered.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }

    /// Whether the period is whole calendar months.
    pub fn is_months(&self) -> bool {
        self.from.day() == 1 && self.to.day() == 1
    }

    /// The period before: as many calendar months before when the period is whole months,
    /// otherwise as many days.
    pub fn previous(&self) -> ReportPeriod {
        if self.is_months() {
            let months = (self.to.year() - self.from.year()) * 12 + self.to.month() as i32
                - self.from.month() as i32;
            let mut from = self.from;
            for _ in 0..months {
                from = first_of_month(from - Duration::days(1));
            }
            ReportPeriod {
                from,
                to: self.from,
            }
        } else {
            ReportPeriod {
                from: self.from - Duration::days(self.days()),
                to: self.from,
            }
        }
    }
}

impl std::fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.days() == 1 {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{} – {}", self.from, self.last_day())
        }
    }
}

/// How far to look for a working day (longer than any holiday).
const SEARCH_DAYS: i64 = 60;

/// The first day of `d`'s month.
pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

/// The first day of the month after `d`'s.
pub fn next_month(d: NaiveDate) -> NaiveDate {
    (first_of_month(d) + Duration::days(32))
        .with_day(1)
        .expect("day 1 exists")
}

/// The last working day before `day` (the day before when none is found within 60 days).
pub fn previous_working_day(cal: &WorkingCalendar, day: NaiveDate) -> NaiveDate {
    (1..=SEARCH_DAYS)
        .map(|i| day - Duration::days(i))
        .find(|d| cal.is_working_day(*d))
        .unwrap_or(day - Duration::days(1))
}

/// The first working day on or after `day` (`day` itself when none is found within 60 days):
/// the day a report whose period ends at `day` is produced.
pub fn production_day(cal: &WorkingCalendar, day: NaiveDate) -> NaiveDate {
    (0..SEARCH_DAYS)
        .map(|i| day + Duration::days(i))
        .find(|d| cal.is_working_day(*d))
        .unwrap_or(day)
}

/// When the server produces reports (`[reports]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSchedule {
    /// The local time on a production day after which its reports are produced.
    pub at: NaiveTime,
    /// How many days back a missing report is still produced (after a downtime, or the first
    /// time a server starts on a history): 0 = only today's.
    pub backfill_days: u32,
    /// The kinds produced.
    pub kinds: Vec<ReportKind>,
    /// Besides the city's, one report per district for the district's leaders.
    pub districts: bool,
    /// How many rows the top lists (categories, places, overdue cases) hold.
    pub top: usize,
}

impl Default for ReportSchedule {
    fn default() -> Self {
        ReportSchedule {
            at: NaiveTime::from_hms_opt(7, 30, 0).expect("a time"),
            backfill_days: 14,
            kinds: ReportKind::ALL.to_vec(),
            districts: true,
            top: 10,
        }
    }
}

/// The most days a backfill reaches.
pub const MAX_BACKFILL_DAYS: u32 = 400;
/// The longest top list.
pub const MAX_TOP: usize = 100;

impl ReportSchedule {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.backfill_days > MAX_BACKFILL_DAYS {
            return Err(DomainError::Invalid(format!(
                "reports.backfill_days: at most {MAX_BACKFILL_DAYS}"
            )));
        }
        if !(1..=MAX_TOP).contains(&self.top) {
            return Err(DomainError::Invalid(format!("reports.top: 1 to {MAX_TOP}")));
        }
        Ok(())
    }

    /// The reports due by local time `now`, oldest production day first: every period of the
    /// scheduled kinds produced on a working day of the last `backfill_days` days, and today's
    /// once `at` has passed.
    pub fn due(
        &self,
        cal: &WorkingCalendar,
        now: NaiveDateTime,
    ) -> Vec<(ReportKind, ReportPeriod)> {
        let today = now.date();
        let mut out = Vec::new();
        for back in (0..=i64::from(self.backfill_days)).rev() {
            let day = today - Duration::days(back);
            if day == today && now.time() < self.at {
                continue;
            }
            for kind in ReportKind::ALL {
                if self.kinds.contains(&kind) {
                    out.extend(
                        kind.periods_produced_on(cal, day)
                            .into_iter()
                            .map(|p| (kind, p)),
                    );
                }
            }
        }
        out
    }
}

/// The stage counts of a period's cases (those reported in it), as of an instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// 上报
    pub reported: u64,
    /// 立案
    pub filed: u64,
    /// 派遣
    pub dispatched: u64,
    /// 处置 (a handling report stands)
    pub handled: u64,
    /// 按时处置
    pub handled_on_time: u64,
    /// 结案
    pub closed: u64,
    /// 作废 / 不予立案 / 合并
    pub cancelled: u64,
    /// 应结案
    pub should_close: u64,
    /// 超期未处置 (open past the handling deadline, not suspended)
    pub overdue: u64,
    /// 返工 (dispatched cases sent back at least once)
    pub reworked: u64,
}

impl Totals {
    /// 结案率: closed among those that should close, percent (`None` when none should).
    pub fn closure_rate(&self) -> Option<f64> {
        pct(self.closed, self.should_close)
    }

    /// 按时处置率: handled on time among those that should close, percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        pct(self.handled_on_time, self.should_close)
    }
}

fn pct(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| ((n as f64 * 100.0 / d as f64).min(100.0) * 100.0).round() / 100.0)
}

/// A count under a key (a source, a category code, a street code), most first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub key: String,
    pub count: u64,
}

/// What a report counts of its period's cases itself (the categories, the days and the overdue
/// cases come from the store's dashboard figures, which know each category's catalogue).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tallies {
    pub totals: Totals,
    /// By source (`citizen`, `inspector` …), most first.
    pub by_source: Vec<Counted>,
    /// The `top` streets (街道, 9-digit codes), most first.
    pub top_streets: Vec<Counted>,
}

fn ranked(counts: HashMap<&str, u64>, top: usize) -> Vec<Counted> {
    let mut v: Vec<Counted> = counts
        .into_iter()
        .map(|(k, count)| Counted {
            key: k.to_string(),
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    v.truncate(top);
    v
}

/// Tallies the cases reported in a period as of `as_of` (Unix seconds). Cases without a street
/// are left out of the streets.
pub fn tally(cases: &[EvalCase], as_of: i64, top: usize) -> Tallies {
    let mut t = Totals::default();
    let mut sources: HashMap<&str, u64> = HashMap::new();
    let mut streets: HashMap<&str, u64> = HashMap::new();
    for c in cases {
        let r = &c.rec;
        let cancelled = c.status == CaseStatus::Cancelled;
        t.reported += 1;
        t.filed += u64::from(r.fa.is_some());
        t.dispatched += u64::from(r.da.is_some());
        t.handled += u64::from(!cancelled && r.ha.is_some());
        t.handled_on_time += u64::from(!cancelled && r.ha.is_some() && r.ho == Some(true));
        t.closed += u64::from(c.status == CaseStatus::Closed);
        t.cancelled += u64::from(cancelled);
        t.should_close += u64::from(should_close(c, as_of));
        t.overdue += u64::from(overdue_open(c, as_of));
        t.reworked += u64::from(r.da.is_some() && r.rw > 0);
        *sources.entry(c.source.as_str()).or_default() += 1;
        if let Some(code) = c.street_code.as_deref() {
            *streets.entry(code).or_default() += 1;
        }
    }
    Tallies {
        totals: t,
        by_source: ranked(sources, usize::MAX),
        top_streets: ranked(streets, top),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{CalendarDay, DayKind};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// 2026: 国庆 October 1–7 off, Saturday October 10 worked (调休); weekends otherwise off.
    fn calendar() -> WorkingCalendar {
        let mut days: Vec<CalendarDay> = (1..=7)
            .map(|day| CalendarDay {
                date: NaiveDate::from_ymd_opt(2026, 10, day).unwrap(),
                kind: DayKind::Holiday,
                name: "国庆节".into(),
            })
            .collect();
        days.push(CalendarDay {
            date: d("2026-10-10"),
            kind: DayKind::Workday,
            name: "国庆节调休".into(),
        });
        WorkingCalendar::china_default(days)
    }

    #[test]
    fn monday_briefing_covers_the_weekend() {
        let cal = calendar();
        // Monday 2026-11-02.
        assert_eq!(
            ReportKind::Daily.periods_produced_on(&cal, d("2026-11-02")),
            vec![ReportPeriod {
                from: d("2026-10-30"),
                to: d("2026-11-02")
            }]
        );
        assert_eq!(
            ReportKind::Daily.periods_produced_on(&cal, d("2026-11-03")),
            vec![ReportPeriod {
                from: d("2026-11-02"),
                to: d("2026-11-03")
            }]
        );
        assert!(
            ReportKind::Daily
                .periods_produced_on(&cal, d("2026-11-01"))
                .is_empty()
        );
    }

    #[test]
    fn the_golden_week_moves_the_reports() {
        let cal = calendar();
        // The first working day after 国庆 is Thursday October 8: the briefing covers
        // September 30 to October 7, and September's monthly report is produced that day.
        assert_eq!(
            ReportKind::Daily.periods_produced_on(&cal, d("2026-10-08")),
            vec![ReportPeriod {
                from: d("2026-09-30"),
                to: d("2026-10-08")
            }]
        );
        assert_eq!(
            ReportKind::Monthly.periods_produced_on(&cal, d("2026-10-08")),
            vec![ReportPeriod {
                from: d("2026-09-01"),
                to: d("2026-10-01")
            }]
        );
        // The week of September 28 ends on Monday October 5, a holiday: produced October 8.
        assert_eq!(
            ReportKind::Weekly.periods_produced_on(&cal, d("2026-10-08")),
            vec![ReportPeriod {
                from: d("2026-09-28"),
                to: d("2026-10-05")
            }]
        );
        // Saturday October 10 is worked: a briefing for Friday.
        assert_eq!(
            ReportKind::Daily.periods_produced_on(&cal, d("2026-10-10")),
            vec![ReportPeriod {
                from: d("2026-10-09"),
                to: d("2026-10-10")
            }]
        );
        assert_eq!(production_day(&cal, d("2026-10-01")), d("2026-10-08"));
    }

    #[test]
    fn due_waits_for_the_hour_and_backfills() {
        let cal = calendar();
        let s = ReportSchedule {
            backfill_days: 0,
            ..ReportSchedule::default()
        };
        let early = d("2026-11-02").and_hms_opt(7, 0, 0).unwrap();
        assert!(s.due(&cal, early).is_empty());
        let late = d("2026-11-02").and_hms_opt(7, 30, 0).unwrap();
        let due = s.due(&cal, late);
        assert_eq!(
            due,
            vec![
                (
                    ReportKind::Daily,
                    ReportPeriod {
                        from: d("2026-10-30"),
                        to: d("2026-11-02")
                    }
                ),
                (
                    ReportKind::Weekly,
                    ReportPeriod {
                        from: d("2026-10-26"),
                        to: d("2026-11-02")
                    }
                ),
                (
                    ReportKind::Monthly,
                    ReportPeriod {
                        from: d("2026-10-01"),
                        to: d("2026-11-01")
                    }
                ),
            ]
        );
        let s = ReportSchedule {
            backfill_days: 7,
            kinds: vec![ReportKind::Daily],
            ..ReportSchedule::default()
        };
        // Days from October 26 to November 2 that are working days: 26–30 and November 2.
        assert_eq!(s.due(&cal, late).len(), 6);
        assert!(
            ReportSchedule {
                top: 0,
                ..ReportSchedule::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn previous_month_and_days() {
        let m = ReportPeriod {
            from: d("2026-03-01"),
            to: d("2026-04-01"),
        };
        assert_eq!(
            m.previous(),
            ReportPeriod {
                from: d("2026-02-01"),
                to: d("2026-03-01")
            }
        );
        let w = ReportPeriod {
            from: d("2026-10-26"),
            to: d("2026-11-02"),
        };
        assert_eq!(w.previous().from, d("2026-10-19"));
        assert_eq!(w.to_string(), "2026-10-26 – 2026-11-01");
    }

    fn case(id: i64, status: CaseStatus, street: Option<&str>) -> EvalCase {
        EvalCase {
            id,
            code: format!("2026110200{id:03}"),
            created_at: 1_000,
            source: crate::case::CaseSource::Citizen,
            status,
            category_code: None,
            grid_code: None,
            community_code: None,
            street_code: street.map(str::to_string),
            district_code: None,
            department_id: None,
            reporter_id: None,
            rec: crate::evaluation::EvalRecord::default(),
        }
    }

    #[test]
    fn tally_counts_each_stage_once() {
        let mut closed = case(1, CaseStatus::Closed, Some("441302001"));
        closed.rec.fa = Some(1_100);
        closed.rec.da = Some(1_200);
        closed.rec.ha = Some(1_300);
        closed.rec.ho = Some(true);
        closed.rec.rw = 1;
        // Dispatched, due at 2 000 and not handled: overdue at 5 000.
        let mut late = case(2, CaseStatus::Handling, Some("441302001"));
        late.rec.fa = Some(1_100);
        late.rec.da = Some(1_200);
        late.rec.dl = Some(2_000);
        let cancelled = case(3, CaseStatus::Cancelled, Some("441302002"));
        let unlocated = case(4, CaseStatus::Reported, None);
        let t = tally(&[closed, late, cancelled, unlocated], 5_000, 1);
        assert_eq!(
            t.totals,
            Totals {
                reported: 4,
                filed: 2,
                dispatched: 2,
                handled: 1,
                handled_on_time: 1,
                closed: 1,
                cancelled: 1,
                should_close: 2,
                overdue: 1,
                reworked: 1,
            }
        );
        assert_eq!(t.totals.closure_rate(), Some(50.0));
        assert_eq!(t.totals.on_time_rate(), Some(50.0));
        assert_eq!(
            t.top_streets,
            vec![Counted {
                key: "441302001".into(),
                count: 2
            }],
            "the top 1"
        );
        assert_eq!(t.by_source[0].count, 4);
        assert_eq!(Totals::default().closure_rate(), None);
    }

    proptest! {
        /// Every day of a stretch is covered by exactly one report of each kind, produced on a
        /// working day on or after the period's end.
        #[test]
        fn reports_tile_the_calendar(start in 0i64..700, offs in proptest::collection::vec(0u32..365, 0..20)) {
            let base = d("2025-06-01") + Duration::days(start);
            let days: Vec<CalendarDay> = offs
                .iter()
                .map(|o| CalendarDay {
                    date: base + Duration::days(i64::from(*o)),
                    kind: DayKind::Holiday,
                    name: "假".into(),
                })
                .collect();
            let cal = WorkingCalendar::china_default(days);
            for kind in ReportKind::ALL {
                let mut covered: HashMap<NaiveDate, u32> = HashMap::new();
                for i in 0..500 {
                    let day = base + Duration::days(i);
                    for p in kind.periods_produced_on(&cal, day) {
                        prop_assert!(cal.is_working_day(day));
                        prop_assert!(p.to <= day && p.from < p.to);
                        prop_assert_eq!(production_day(&cal, p.to), day);
                        let mut x = p.from;
                        while x < p.to {
                            *covered.entry(x).or_default() += 1;
                            x += Duration::days(1);
                        }
                    }
                }
                // Well inside the stretch (past the first report, before the last), every
                // day is covered once.
                for i in 100..400 {
                    let day = base + Duration::days(i);
                    prop_assert_eq!(covered.get(&day).copied(), Some(1), "{} {}", kind, day);
                }
            }
        }
    }
}
