//! The working calendar (工作日历) and deadline arithmetic (时限计算) of the case workflow
//! (STANDARDS.md §3.7, §4.6).
//!
//! Four ways of counting time, one per [`LimitUnit`]:
//!
//! - 紧急工作时 ([`LimitUnit::UrgentHour`]) and 自然日 ([`LimitUnit::NaturalDay`]) count natural time
//!   continuously: nights, weekends and holidays count.
//! - 工作时 ([`LimitUnit::WorkHour`]) and 工作日 ([`LimitUnit::WorkDay`]) count only the time inside the
//!   working periods (作息时间, default 08:00–12:00 and 14:00–18:00, local time) of working days. A
//!   working day is a weekday that is not a public holiday (法定节假日), or a make-up working day
//!   (调休上班) on a weekend. One 工作日 is the working time of one standard day (8 h by default), so
//!   1 工作日 started at 10:00 on a Friday ends at 10:00 on the next working day.
//!
//! Every computation is a walk over days (never minutes). Outside the dates the holiday schedule
//! covers, the week is plain Monday–Friday and whole weeks are skipped in one step, so a limit of
//! any size costs O(days of the schedule + 7). Week skipping uses the nominal length of the working
//! periods; it is exact unless a daylight-saving transition falls inside a working period (never the
//! case for Asia/Shanghai).
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{DomainError, LimitUnit, TimeLimit};

/// What a dated entry of the holiday schedule says about its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 法定节假日: no work, even on a weekday.
    Holiday,
    /// 调休上班: a make-up working day, even on a weekend.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "节假日",
            DayKind::Workday => "调休上班",
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DayKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "holiday" => Ok(DayKind::Holiday),
            "workday" => Ok(DayKind::Workday),
            _ => Err(DomainError::Unknown {
                what: "calendar day kind",
                value: s.to_string(),
            }),
        }
    }
}

/// One dated entry of the holiday schedule, e.g. `2026-10-01, holiday, 国庆节`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// The years a holiday schedule may name (a typo such as `-1` or `9999` is refused, not stored).
pub const CALENDAR_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// Longest name of a schedule entry, in characters.
pub const MAX_DAY_NAME_CHARS: usize = 50;

/// Checks one schedule entry: its year lies in [`CALENDAR_YEARS`], and its name is plain text of
/// 1 to [`MAX_DAY_NAME_CHARS`] characters — no control or bidirectional-override characters and
/// no markup (`<`, `>`), as it is shown in the console and written into files.
pub fn validate_day(day: &CalendarDay) -> Result<(), String> {
    use chrono::Datelike;
    if !CALENDAR_YEARS.contains(&day.date.year()) {
        return Err(format!(
            "date {}: the year must lie in {}–{}",
            day.date,
            CALENDAR_YEARS.start(),
            CALENDAR_YEARS.end()
        ));
    }
    let name = &day.name;
    if name.trim().is_empty() {
        return Err(format!("date {}: the name is empty", day.date));
    }
    let chars = name.chars().count();
    if chars > MAX_DAY_NAME_CHARS {
        return Err(format!(
            "date {}: the name has {chars} characters, at most {MAX_DAY_NAME_CHARS} are allowed",
            day.date
        ));
    }
    if let Some(c) = name.chars().find(|c| !plain_text_char(*c)) {
        return Err(format!(
            "date {}: the name must be plain text (found {:?})",
            day.date, c
        ));
    }
    Ok(())
}

/// Not a control character, a bidirectional control or markup.
fn plain_text_char(c: char) -> bool {
    !(c.is_control()
        || matches!(c, '<' | '>')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

/// Parses the holiday schedule CSV: header `date,kind,name`, then one `YYYY-MM-DD,holiday|workday,name`
/// a line (the name may contain commas; blank lines are skipped). Read by the shared CSV reader
/// (`cityops_csv`); errors name the 1-based line.
pub fn parse_calendar_csv(text: &str) -> Result<Vec<CalendarDay>, DomainError> {
    let csv_error = |e: cityops_csv::CsvError| {
        line_error(usize::try_from(e.line).unwrap_or(usize::MAX), e.detail())
    };
    let table = cityops_csv::read(text).map_err(csv_error)?;
    table
        .expect_header(&["date", "kind", "name"])
        .map_err(csv_error)?;
    let mut seen: HashMap<NaiveDate, u64> = HashMap::new();
    let mut days = Vec::new();
    for row in table.rows() {
        let line = row.line();
        if row.len() < 3 {
            return Err(csv_error(row.error(format!(
                "expected 3 fields `date,kind,name`, found {}",
                row.len()
            ))));
        }
        let date = row.field(0).unwrap_or_default();
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            csv_error(row.error(format!("invalid date {date:?}: expected YYYY-MM-DD")))
        })?;
        let kind = row.field(1).unwrap_or_default();
        let kind = kind.parse::<DayKind>().map_err(|_| {
            csv_error(row.error(format!(
                "unknown kind {kind:?}: expected `holiday` or `workday`"
            )))
        })?;
        if let Some(first) = seen.insert(date, line) {
            return Err(csv_error(
                row.error(format!("date {date} is already given on line {first}")),
            ));
        }
        let day = CalendarDay {
            date,
            kind,
            name: row.rest(2),
        };
        validate_day(&day).map_err(|e| csv_error(row.error(e)))?;
        days.push(day);
    }
    Ok(days)
}

fn line_error(line: usize, message: String) -> DomainError {
    DomainError::CalendarLine { line, message }
}

/// The working periods of a working day (作息时间), in local time: sorted, non-overlapping, each
/// with start < end, at least one. Default 08:00–12:00 and 14:00–18:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "Vec<(NaiveTime, NaiveTime)>",
    into = "Vec<(NaiveTime, NaiveTime)>"
)]
pub struct WorkingHours {
    pub periods: Vec<(NaiveTime, NaiveTime)>,
}

impl WorkingHours {
    /// Validated working hours.
    pub fn new(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, DomainError> {
        let hours = WorkingHours { periods };
        hours.validate()?;
        Ok(hours)
    }

    /// Checks: at least one period, each start < end, sorted, no overlap (touching is allowed).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.periods.is_empty() {
            return Err(DomainError::InvalidWorkingHours(
                "no working period".to_string(),
            ));
        }
        for (i, &(start, end)) in self.periods.iter().enumerate() {
            if start >= end {
                return Err(DomainError::InvalidWorkingHours(format!(
                    "period {} ({start}–{end}) does not end after it starts",
                    i + 1
                )));
            }
            if let Some(&(next_start, next_end)) = self.periods.get(i + 1)
                && next_start < end
            {
                return Err(DomainError::InvalidWorkingHours(format!(
                    "period {} ({next_start}–{next_end}) starts before period {} ({start}–{end}) ends",
                    i + 2,
                    i + 1
                )));
            }
        }
        Ok(())
    }

    /// The working seconds of one working day (28 800 = 8 h by default): the length of one 工作日.
    pub fn seconds_per_day(&self) -> i64 {
        self.periods
            .iter()
            .map(|&(start, end)| (end - start).num_seconds().max(0))
            .sum()
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        let hm = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        WorkingHours {
            periods: vec![(hm(8), hm(12)), (hm(14), hm(18))],
        }
    }
}

impl TryFrom<Vec<(NaiveTime, NaiveTime)>> for WorkingHours {
    type Error = DomainError;
    fn try_from(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, Self::Error> {
        WorkingHours::new(periods)
    }
}

impl From<WorkingHours> for Vec<(NaiveTime, NaiveTime)> {
    fn from(hours: WorkingHours) -> Self {
        hours.periods
    }
}

/// The timing scheme (计时方案): local time zone, working hours and the yellow-light ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarConfig {
    /// The zone the working periods and dates are read in (default Asia/Shanghai).
    pub tz: Tz,
    pub hours: WorkingHours,
    /// The share of the limit after which the light turns yellow (黄灯), in [0, 1]; default 0.8.
    pub yellow_ratio: f64,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            tz: chrono_tz::Asia::Shanghai,
            hours: WorkingHours::default(),
            yellow_ratio: 0.8,
        }
    }
}

/// The result of a deadline computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// 截止时间: the instant the limit runs out.
    pub due: DateTime<Utc>,
    /// True when a working-time count crossed a year the holiday schedule does not cover (its
    /// weekends were assumed, its holidays unknown): the deadline may be wrong.
    pub unscheduled: bool,
}

/// The traffic light (亮灯) of a stage against its time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// 绿灯: less than the yellow ratio of the limit used.
    Green,
    /// 黄灯: at least the yellow ratio used, not yet overdue.
    Yellow,
    /// 红灯: overdue (超时).
    Red,
}

impl Light {
    pub const ALL: [Light; 3] = [Light::Green, Light::Yellow, Light::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Light::Green => "绿灯",
            Light::Yellow => "黄灯",
            Light::Red => "红灯",
        }
    }
}

impl fmt::Display for Light {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Light {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Light::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "light",
                value: s.to_string(),
            })
    }
}

/// The working calendar: the holiday schedule plus a timing scheme. Built once, then every lookup is
/// a hash probe and every computation a walk over days.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    config: CalendarConfig,
    /// Sorted by date, one entry per date.
    days: Vec<CalendarDay>,
    by_date: HashMap<NaiveDate, usize>,
    years: BTreeSet<i32>,
    /// First and last dated entry: outside, the week is plain Monday–Friday.
    span: Option<(NaiveDate, NaiveDate)>,
    /// Nominal working seconds of a day (one 工作日).
    day_seconds: i64,
}

/// Whether a unit counts working time (true) or natural time (false).
fn counts_working_time(unit: LimitUnit) -> bool {
    matches!(unit, LimitUnit::WorkHour | LimitUnit::WorkDay)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// `start + seconds`, clamped to the representable range.
fn add_natural(start: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    Duration::try_seconds(seconds)
        .and_then(|d| start.checked_add_signed(d))
        .unwrap_or(if seconds > 0 {
            DateTime::<Utc>::MAX_UTC
        } else {
            DateTime::<Utc>::MIN_UTC
        })
}

/// Days the walks stay away from the ends of the date range (so local conversions cannot overflow).
const EDGE_DAYS: u64 = 14;

impl WorkingCalendar {
    /// Builds a calendar; rejects invalid working hours, a yellow ratio outside [0, 1] and a date
    /// given twice.
    pub fn new(config: CalendarConfig, days: Vec<CalendarDay>) -> Result<Self, DomainError> {
        config.hours.validate()?;
        if !(config.yellow_ratio.is_finite() && (0.0..=1.0).contains(&config.yellow_ratio)) {
            return Err(DomainError::InvalidCalendar(format!(
                "yellow ratio {} is not within [0, 1]",
                config.yellow_ratio
            )));
        }
        let mut seen = BTreeSet::new();
        for day in &days {
            if !seen.insert(day.date) {
                return Err(DomainError::InvalidCalendar(format!(
                    "date {} is given twice",
                    day.date
                )));
            }
        }
        Ok(Self::build(config, days))
    }

    /// The Chinese default (Asia/Shanghai, 08:00–12:00 and 14:00–18:00, yellow at 80 %) over the given
    /// holiday schedule. Where a date is given twice the later entry wins.
    pub fn china_default(days: Vec<CalendarDay>) -> Self {
        let mut last: HashMap<NaiveDate, usize> = HashMap::new();
        for (i, day) in days.iter().enumerate() {
            last.insert(day.date, i);
        }
        let days = days
            .into_iter()
            .enumerate()
            .filter(|(i, day)| last.get(&day.date) == Some(i))
            .map(|(_, day)| day)
            .collect();
        Self::build(CalendarConfig::default(), days)
    }

    /// `days` must hold each date at most once.
    fn build(config: CalendarConfig, mut days: Vec<CalendarDay>) -> Self {
        days.sort_by_key(|d| d.date);
        let by_date = days.iter().enumerate().map(|(i, d)| (d.date, i)).collect();
        let years = days.iter().map(|d| d.date.year()).collect();
        let span = match (days.first(), days.last()) {
            (Some(first), Some(last)) => Some((first.date, last.date)),
            _ => None,
        };
        let day_seconds = config.hours.seconds_per_day();
        WorkingCalendar {
            config,
            days,
            by_date,
            years,
            span,
            day_seconds,
        }
    }

    pub fn config(&self) -> &CalendarConfig {
        &self.config
    }

    /// The holiday schedule, sorted by date.
    pub fn days(&self) -> &[CalendarDay] {
        &self.days
    }

    /// The schedule entry of a date, if any (e.g. 国庆节 on 2026-10-01).
    pub fn day(&self, date: NaiveDate) -> Option<&CalendarDay> {
        self.by_date.get(&date).map(|&i| &self.days[i])
    }

    /// 工作日: a weekday that is not a holiday, or a make-up working day (调休上班).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.day(date) {
            Some(day) => day.kind == DayKind::Workday,
            None => !is_weekend(date),
        }
    }

    /// Whether the holiday schedule has any entry in `year`.
    pub fn has_schedule(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years the holiday schedule covers, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// The working seconds of one 工作日 (28 800 by default).
    pub fn working_seconds_per_day(&self) -> i64 {
        self.day_seconds
    }

    /// The due instant of a limit started at `start`: [`LimitUnit::UrgentHour`] = start + value
    /// natural hours; [`LimitUnit::NaturalDay`] = start + value × 24 h; [`LimitUnit::WorkHour`] counts
    /// only time inside working periods of working days (local time); [`LimitUnit::WorkDay`] counts
    /// value × the working time of one standard day the same way, so a limit started at 10:00 on a
    /// Friday with 1 work day ends 10:00 on the next working day. A limit of 0 is due at `start`;
    /// a count that ends exactly at the end of a working period is due then (not at the next start).
    pub fn deadline(&self, start: DateTime<Utc>, limit: TimeLimit) -> Deadline {
        let due = self.add(limit.unit, start, self.limit_seconds(limit));
        let unscheduled = counts_working_time(limit.unit)
            && limit.value > 0
            && !self.scheduled_between(self.local_date(start), self.local_date(due));
        Deadline { due, unscheduled }
    }

    /// Time elapsed between two instants in seconds, counted the unit's way (working time for
    /// 工作时/工作日, natural time otherwise). Negative when `to` is before `from`.
    pub fn elapsed(&self, unit: LimitUnit, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if !counts_working_time(unit) {
            return (to - from).num_seconds();
        }
        if from <= to {
            self.working_between(from, to).num_seconds()
        } else {
            -self.working_between(to, from).num_seconds()
        }
    }

    /// The counted time left from `now` until `due` (negative when overdue): what a suspension
    /// (挂账) keeps and [`WorkingCalendar::resume`] spends.
    pub fn remaining(&self, unit: LimitUnit, now: DateTime<Utc>, due: DateTime<Utc>) -> i64 {
        self.elapsed(unit, now, due)
    }

    /// The length of a limit in seconds of its own counting: value × 3600 for hours, value × the
    /// working seconds of a day for 工作日, value × 86 400 for 自然日.
    pub fn limit_seconds(&self, limit: TimeLimit) -> i64 {
        let value = i64::from(limit.value);
        match limit.unit {
            LimitUnit::UrgentHour | LimitUnit::WorkHour => value * 3600,
            LimitUnit::WorkDay => value * self.day_seconds,
            LimitUnit::NaturalDay => value * 86_400,
        }
    }

    /// After a suspension (挂账) stopped the clock: the instant when `remaining_seconds` of counted
    /// time, counted from `resume_at` (挂账恢复), run out. A negative remainder (the stage was already
    /// overdue) gives an instant before `resume_at` that keeps the overdue amount.
    pub fn resume(
        &self,
        unit: LimitUnit,
        remaining_seconds: i64,
        resume_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.add(unit, resume_at, remaining_seconds)
    }

    /// Adds `seconds` of counted time in `unit`'s counting to `start`: the earliest instant at which
    /// that much time has been counted since `start` (so a count ending with a working period stays
    /// at its end). Zero gives `start`. Negative goes back: the latest instant from which that much
    /// time is counted up to `start`. Results beyond the representable range are clamped.
    pub fn add(&self, unit: LimitUnit, start: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        if seconds == 0 {
            return start;
        }
        if !counts_working_time(unit) {
            return add_natural(start, seconds);
        }
        let magnitude = Duration::try_seconds(seconds.checked_abs().unwrap_or(i64::MAX));
        match (magnitude, seconds > 0) {
            (Some(d), true) => self.add_working_forward(start, d),
            (Some(d), false) => self.add_working_backward(start, d),
            (None, true) => DateTime::<Utc>::MAX_UTC,
            (None, false) => DateTime::<Utc>::MIN_UTC,
        }
    }

    /// The light of a stage started at `start`, due at `due`, seen at `now`: [`Light::Red`] if
    /// `now > due`; [`Light::Yellow`] if the counted time since `start` is at least `yellow_ratio` of
    /// the counted time from `start` to `due` (the full limit); else [`Light::Green`].
    pub fn light(
        &self,
        unit: LimitUnit,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Light {
        if now > due {
            Light::Red
        } else if now >= self.yellow_at(unit, start, due) {
            Light::Yellow
        } else {
            Light::Green
        }
    }

    /// The instant the light turns yellow: `start` + `yellow_ratio` × the counted time from `start`
    /// to `due` (rounded to the nearest second), counted the unit's way.
    pub fn yellow_at(
        &self,
        unit: LimitUnit,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let limit = self.elapsed(unit, start, due).max(0);
        // Exact for any realistic limit: f64 holds integers up to 2^53 seconds.
        let yellow = (self.config.yellow_ratio * limit as f64).round() as i64;
        self.add(unit, start, yellow.clamp(0, limit))
    }

    // ---- internals ----

    /// The local date of an instant (the UTC date where the local one is not representable).
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let offset = self
            .config
            .tz
            .offset_from_utc_datetime(&t.naive_utc())
            .fix();
        t.naive_utc()
            .checked_add_signed(Duration::seconds(i64::from(offset.local_minus_utc())))
            .map_or(t.date_naive(), |local| local.date())
    }

    /// Whether every year from the one of `from` to the one of `to` has a schedule.
    fn scheduled_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let (a, b) = (from.year().min(to.year()), from.year().max(to.year()));
        let covered = self.years.range(a..=b).count() as i64;
        covered == i64::from(b) - i64::from(a) + 1
    }

    /// The instant of a local date and time; a time skipped by a daylight-saving gap maps to the first
    /// instant after the gap, an ambiguous one to its earlier instant.
    fn local_instant(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        let mut local = date.and_time(time);
        for _ in 0..=4 * 24 {
            match self.config.tz.from_local_datetime(&local) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(earliest, _) => return Some(earliest.with_timezone(&Utc)),
                LocalResult::None => local = local.checked_add_signed(Duration::minutes(15))?,
            }
        }
        None
    }

    /// The working periods of a date as instants, in order; none on a non-working day.
    fn periods_on(
        &self,
        date: NaiveDate,
    ) -> impl DoubleEndedIterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let periods: &[(NaiveTime, NaiveTime)] = if self.is_working_day(date) {
            &self.config.hours.periods
        } else {
            &[]
        };
        periods.iter().filter_map(move |&(start, end)| {
            let start = self.local_instant(date, start)?;
            let end = self.local_instant(date, end)?;
            Some((start, end.max(start)))
        })
    }

    /// Nominal working time of a plain (Monday–Friday) week.
    fn week_seconds(&self) -> i64 {
        5 * self.day_seconds
    }

    /// How many whole weeks starting at `date` (going forward) contain no schedule entry.
    fn plain_weeks_forward(&self, date: NaiveDate) -> i64 {
        match self.span {
            Some((first, last)) if date <= last => {
                if date < first {
                    (first - date).num_days() / 7
                } else {
                    0
                }
            }
            _ => i64::MAX,
        }
    }

    /// How many whole weeks ending at `date` (going backward) contain no schedule entry.
    fn plain_weeks_backward(&self, date: NaiveDate) -> i64 {
        match self.span {
            Some((first, last)) if date >= first => {
                if date > last {
                    (date - last).num_days() / 7
                } else {
                    0
                }
            }
            _ => i64::MAX,
        }
    }

    /// Whole plain weeks to skip with `remaining` still to count, keeping some time for the last
    /// (partial) week so the day walk finds the exact instant.
    fn weeks_to_skip(&self, remaining: Duration, available: i64) -> i64 {
        let week = self.week_seconds();
        if week <= 0 || available <= 0 {
            return 0;
        }
        let secs = remaining.num_seconds();
        let whole = if remaining.subsec_nanos() == 0 {
            (secs - 1) / week
        } else {
            secs / week
        };
        whole.clamp(0, available)
    }

    fn add_working_forward(&self, start: DateTime<Utc>, mut remaining: Duration) -> DateTime<Utc> {
        let limit = NaiveDate::MAX
            .checked_sub_days(Days::new(EDGE_DAYS))
            .unwrap_or(NaiveDate::MAX);
        let mut date = self.local_date(start);
        let mut first = true;
        loop {
            if date >= limit {
                return DateTime::<Utc>::MAX_UTC;
            }
            if !first {
                let room = (limit - date).num_days() / 7;
                let weeks = self.weeks_to_skip(remaining, self.plain_weeks_forward(date).min(room));
                if weeks > 0 {
                    remaining -= Duration::seconds(weeks * self.week_seconds());
                    date += Duration::days(weeks * 7);
                    continue;
                }
            }
            for (period_start, period_end) in self.periods_on(date) {
                let from = if first {
                    period_start.max(start)
                } else {
                    period_start
                };
                if period_end <= from {
                    continue;
                }
                let available = period_end - from;
                if available >= remaining {
                    return from + remaining;
                }
                remaining -= available;
            }
            first = false;
            date += Duration::days(1);
        }
    }

    fn add_working_backward(&self, end: DateTime<Utc>, mut remaining: Duration) -> DateTime<Utc> {
        let limit = NaiveDate::MIN
            .checked_add_days(Days::new(EDGE_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let mut date = self.local_date(end);
        let mut first = true;
        loop {
            if date <= limit {
                return DateTime::<Utc>::MIN_UTC;
            }
            if !first {
                let room = (date - limit).num_days() / 7;
                let weeks =
                    self.weeks_to_skip(remaining, self.plain_weeks_backward(date).min(room));
                if weeks > 0 {
                    remaining -= Duration::seconds(weeks * self.week_seconds());
                    date -= Duration::days(weeks * 7);
                    continue;
                }
            }
            for (period_start, period_end) in self.periods_on(date).rev() {
                let to = if first {
                    period_end.min(end)
                } else {
                    period_end
                };
                if to <= period_start {
                    continue;
                }
                let available = to - period_start;
                if available >= remaining {
                    return to - remaining;
                }
                remaining -= available;
            }
            first = false;
            date -= Duration::days(1);
        }
    }

    /// Working time inside `[from, to]`, `from <= to`.
    fn working_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let first = self.local_date(from);
        let last = self.local_date(to);
        let mut total = Duration::zero();
        let mut date = first;
        loop {
            if date > first && date < last {
                // Days strictly between the two ends are counted whole.
                let room = (last - date).num_days() / 7;
                let weeks = self.plain_weeks_forward(date).min(room);
                if weeks > 0 {
                    total += Duration::seconds(weeks * self.week_seconds());
                    date += Duration::days(weeks * 7);
                    continue;
                }
            }
            for (period_start, period_end) in self.periods_on(date) {
                let start = period_start.max(from);
                let end = period_end.min(to);
                if end > start {
                    total += end - start;
                }
            }
            if date >= last {
                return total;
            }
            date += Duration::days(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = include_str!("../../../data/calendar/cn_public_holidays.csv");

    fn cal() -> WorkingCalendar {
        WorkingCalendar::china_default(parse_calendar_csv(CSV).expect("shipped calendar parses"))
    }

    /// A Beijing-time instant.
    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid local time")
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn lim(value: u32, unit: LimitUnit) -> TimeLimit {
        TimeLimit { value, unit }
    }

    fn due(
        c: &WorkingCalendar,
        start: DateTime<Utc>,
        value: u32,
        unit: LimitUnit,
    ) -> DateTime<Utc> {
        c.deadline(start, lim(value, unit)).due
    }

    #[test]
    fn parses_the_shipped_2026_rows() {
        let days = parse_calendar_csv(CSV).expect("parses");
        let national: Vec<_> = days
            .iter()
            .filter(|d| d.date.year() == 2026 && d.name == "国庆节")
            .collect();
        assert_eq!(national.len(), 7);
        assert!(national.iter().all(|d| d.kind == DayKind::Holiday));
        assert_eq!(national[0].date, date(2026, 10, 1));
        let spring: Vec<_> = days
            .iter()
            .filter(|d| d.date.year() == 2026 && d.name == "春节")
            .map(|d| d.date)
            .collect();
        assert_eq!(spring.first(), Some(&date(2026, 2, 15)));
        assert_eq!(spring.last(), Some(&date(2026, 2, 23)));
        let c = cal();
        assert_eq!(c.years(), vec![2025, 2026]);
        assert_eq!(
            c.day(date(2026, 10, 1)).map(|d| d.name.as_str()),
            Some("国庆节")
        );
    }

    #[test]
    fn schedule_entries_have_sane_years_and_plain_names() {
        let day = |y: i32, name: &str| CalendarDay {
            date: NaiveDate::from_ymd_opt(y, 10, 1).expect("date"),
            kind: DayKind::Holiday,
            name: name.into(),
        };
        assert!(validate_day(&day(2000, "国庆节")).is_ok());
        assert!(validate_day(&day(2100, "国庆节、中秋节")).is_ok());
        assert!(validate_day(&day(2026, "Christmas & New Year")).is_ok());
        assert!(validate_day(&day(2026, &"节".repeat(MAX_DAY_NAME_CHARS))).is_ok());
        for (y, name) in [
            (-1, "国庆节"),
            (1999, "国庆节"),
            (2101, "国庆节"),
            (9999, "国庆节"),
            (2026, ""),
            (2026, "   "),
            (2026, "<script>"),
            (2026, "a > b"),
            (2026, "国庆节\n伪造的一行"),
            (2026, "国庆\u{0}节"),
            (2026, "国庆节\u{202e}"),
            (2026, &"节".repeat(MAX_DAY_NAME_CHARS + 1)),
        ] {
            assert!(validate_day(&day(y, name)).is_err(), "{y} {name:?}");
        }
        let err =
            parse_calendar_csv("date,kind,name\n2026-10-01,holiday,国庆节\n9999-10-01,holiday,x\n")
                .expect_err("year 9999");
        assert!(
            matches!(&err, DomainError::CalendarLine { line: 3, message } if message.contains("2000–2100")),
            "{err}"
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = parse_calendar_csv("date,kind\n").expect_err("bad header");
        assert!(
            matches!(err, DomainError::CalendarLine { line: 1, .. }),
            "{err}"
        );
        let err =
            parse_calendar_csv("date,kind,name\n2026-10-01,holiday,国庆节\n2026-13-01,holiday,x\n")
                .expect_err("bad date");
        assert!(
            matches!(err, DomainError::CalendarLine { line: 3, .. }),
            "{err}"
        );
        let err =
            parse_calendar_csv("date,kind,name\n\n2026-10-01,vacation,x\n").expect_err("bad kind");
        assert!(
            matches!(err, DomainError::CalendarLine { line: 3, .. }),
            "{err}"
        );
        let err = parse_calendar_csv("date,kind,name\n2026-10-01,holiday\n").expect_err("2 fields");
        assert!(
            matches!(err, DomainError::CalendarLine { line: 2, .. }),
            "{err}"
        );
        let err =
            parse_calendar_csv("date,kind,name\n2026-10-01,holiday,a\n2026-10-01,workday,b\n")
                .expect_err("duplicate");
        assert!(err.to_string().contains("line 2"), "{err}");
        let days = parse_calendar_csv("\u{feff}date,kind,name\r\n2026-10-01,holiday,a, b\r\n")
            .expect("bom, crlf, comma in name");
        assert_eq!(days[0].name, "a, b");
    }

    #[test]
    fn working_hours_are_validated() {
        let t = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).expect("time");
        assert!(WorkingHours::new(vec![]).is_err());
        assert!(WorkingHours::new(vec![(t(9, 0), t(9, 0))]).is_err());
        assert!(WorkingHours::new(vec![(t(14, 0), t(18, 0)), (t(8, 0), t(12, 0))]).is_err());
        assert!(WorkingHours::new(vec![(t(8, 0), t(12, 30)), (t(12, 0), t(18, 0))]).is_err());
        assert!(WorkingHours::new(vec![(t(8, 0), t(12, 0)), (t(12, 0), t(18, 0))]).is_ok());
        assert_eq!(WorkingHours::default().seconds_per_day(), 8 * 3600);
        let bad = CalendarConfig {
            yellow_ratio: 1.5,
            ..CalendarConfig::default()
        };
        assert!(WorkingCalendar::new(bad, vec![]).is_err());
        let days = parse_calendar_csv(CSV).expect("parses");
        let mut twice = days.clone();
        twice.push(days[0].clone());
        assert!(WorkingCalendar::new(CalendarConfig::default(), twice).is_err());
        assert!(WorkingCalendar::new(CalendarConfig::default(), days).is_ok());
    }

    #[test]
    fn holidays_and_make_up_workdays() {
        let c = cal();
        // 2026 National Day: Thu 1 Oct – Wed 7 Oct off; Sat 10 Oct is a make-up workday.
        assert!(c.is_working_day(date(2026, 9, 30)));
        assert!(!c.is_working_day(date(2026, 10, 1)));
        assert!(!c.is_working_day(date(2026, 10, 7)));
        assert!(c.is_working_day(date(2026, 10, 8)));
        assert!(c.is_working_day(date(2026, 10, 10)));
        assert!(!c.is_working_day(date(2026, 10, 11)));
        // Plain weekend and plain weekday.
        assert!(!c.is_working_day(date(2026, 3, 7)));
        assert!(c.is_working_day(date(2026, 3, 9)));
        // 1 work day from Wed 30 Sep 10:00 skips the whole National Day week.
        assert_eq!(
            due(&c, at(2026, 9, 30, 10, 0), 1, LimitUnit::WorkDay),
            at(2026, 10, 8, 10, 0)
        );
        // Spring Festival: 4 work hours from Fri 13 Feb 16:00 = 2 h on Friday + 2 h on the make-up
        // Saturday 14 Feb.
        assert_eq!(
            due(&c, at(2026, 2, 13, 16, 0), 4, LimitUnit::WorkHour),
            at(2026, 2, 14, 10, 0)
        );
        // From that Saturday 17:00, 2 work hours: 1 h, then nothing until Tue 24 Feb.
        assert_eq!(
            due(&c, at(2026, 2, 14, 17, 0), 2, LimitUnit::WorkHour),
            at(2026, 2, 24, 9, 0)
        );
        // New Year 2026: Thu 1 – Sat 3 Jan off, Sun 4 Jan works.
        assert_eq!(
            due(&c, at(2025, 12, 31, 17, 0), 2, LimitUnit::WorkHour),
            at(2026, 1, 4, 9, 0)
        );
    }

    #[test]
    fn lunch_break_and_period_ends() {
        let c = cal();
        // Mon 2 Mar 2026.
        assert_eq!(
            due(&c, at(2026, 3, 2, 11, 0), 2, LimitUnit::WorkHour),
            at(2026, 3, 2, 15, 0)
        );
        assert_eq!(
            due(&c, at(2026, 3, 2, 12, 30), 1, LimitUnit::WorkHour),
            at(2026, 3, 2, 15, 0)
        );
        // Ends exactly at a period end: stays at 12:00, not 14:00.
        assert_eq!(
            due(&c, at(2026, 3, 2, 8, 0), 4, LimitUnit::WorkHour),
            at(2026, 3, 2, 12, 0)
        );
        assert_eq!(
            due(&c, at(2026, 3, 2, 8, 0), 1, LimitUnit::WorkDay),
            at(2026, 3, 2, 18, 0)
        );
        // Zero is due at once, even outside working time.
        assert_eq!(
            due(&c, at(2026, 3, 7, 3, 0), 0, LimitUnit::WorkHour),
            at(2026, 3, 7, 3, 0)
        );
        assert_eq!(
            c.elapsed(
                LimitUnit::WorkHour,
                at(2026, 3, 2, 11, 0),
                at(2026, 3, 2, 15, 0)
            ),
            7200
        );
    }

    #[test]
    fn overnight_and_friday_to_monday() {
        let c = cal();
        assert_eq!(
            due(&c, at(2026, 3, 2, 17, 0), 2, LimitUnit::WorkHour),
            at(2026, 3, 3, 9, 0)
        );
        assert_eq!(
            due(&c, at(2026, 3, 2, 20, 0), 1, LimitUnit::WorkHour),
            at(2026, 3, 3, 9, 0)
        );
        // Fri 6 Mar 10:00 + 1 work day = Mon 9 Mar 10:00.
        assert_eq!(
            due(&c, at(2026, 3, 6, 10, 0), 1, LimitUnit::WorkDay),
            at(2026, 3, 9, 10, 0)
        );
        assert_eq!(
            due(&c, at(2026, 3, 6, 10, 0), 3, LimitUnit::WorkDay),
            at(2026, 3, 11, 10, 0)
        );
        // Started on Saturday: counting begins Monday 08:00.
        assert_eq!(
            due(&c, at(2026, 3, 7, 10, 0), 1, LimitUnit::WorkDay),
            at(2026, 3, 9, 18, 0)
        );
        assert_eq!(
            c.elapsed(
                LimitUnit::WorkDay,
                at(2026, 3, 6, 10, 0),
                at(2026, 3, 9, 10, 0)
            ),
            8 * 3600
        );
    }

    #[test]
    fn natural_units_run_through_weekends() {
        let c = cal();
        // Fri 6 Mar 22:00 + 4 urgent hours = Sat 02:00.
        assert_eq!(
            due(&c, at(2026, 3, 6, 22, 0), 4, LimitUnit::UrgentHour),
            at(2026, 3, 7, 2, 0)
        );
        // Through the National Day holiday too.
        assert_eq!(
            due(&c, at(2026, 9, 30, 20, 0), 24, LimitUnit::UrgentHour),
            at(2026, 10, 1, 20, 0)
        );
        assert_eq!(
            due(&c, at(2026, 3, 6, 10, 0), 2, LimitUnit::NaturalDay),
            at(2026, 3, 8, 10, 0)
        );
        assert_eq!(
            c.elapsed(
                LimitUnit::UrgentHour,
                at(2026, 3, 6, 22, 0),
                at(2026, 3, 7, 2, 0)
            ),
            4 * 3600
        );
        let d = c.deadline(at(2027, 3, 6, 10, 0), lim(2, LimitUnit::NaturalDay));
        assert!(
            !d.unscheduled,
            "natural time does not depend on the schedule"
        );
    }

    #[test]
    fn unscheduled_years_are_flagged() {
        let c = cal();
        assert!(c.has_schedule(2026));
        assert!(!c.has_schedule(2027));
        // Thu 31 Dec 2026 17:00 + 2 work hours runs into Fri 1 Jan 2027, which no schedule covers.
        let d = c.deadline(at(2026, 12, 31, 17, 0), lim(2, LimitUnit::WorkHour));
        assert_eq!(d.due, at(2027, 1, 1, 9, 0));
        assert!(d.unscheduled);
        let d = c.deadline(at(2026, 12, 31, 16, 0), lim(2, LimitUnit::WorkHour));
        assert_eq!(d.due, at(2026, 12, 31, 18, 0));
        assert!(!d.unscheduled);
        assert!(
            c.deadline(at(2027, 5, 3, 9, 0), lim(1, LimitUnit::WorkDay))
                .unscheduled
        );
        assert!(
            c.deadline(at(2024, 12, 31, 9, 0), lim(1, LimitUnit::WorkDay))
                .unscheduled
        );
        // Whole plain weeks after the schedule: 10 work days from Sun 28 Feb 2027 end on Friday
        // 12 Mar 18:00, not on the Monday after; and back the same way.
        assert_eq!(
            due(&c, at(2027, 2, 28, 10, 0), 10, LimitUnit::WorkDay),
            at(2027, 3, 12, 18, 0)
        );
        assert_eq!(
            c.add(LimitUnit::WorkDay, at(2027, 3, 13, 10, 0), -10 * 8 * 3600),
            at(2027, 3, 1, 8, 0)
        );
        // And before it (2024).
        assert_eq!(
            due(&c, at(2024, 3, 3, 10, 0), 10, LimitUnit::WorkDay),
            at(2024, 3, 15, 18, 0)
        );
    }

    #[test]
    fn lights_at_79_80_100_101_percent() {
        let c = cal();
        // 10 work hours from Mon 2 Mar 08:00: due Tue 10:00; 80 % = 8 h = Mon 18:00.
        let start = at(2026, 3, 2, 8, 0);
        let d = c.deadline(start, lim(10, LimitUnit::WorkHour)).due;
        assert_eq!(d, at(2026, 3, 3, 10, 0));
        let light = |now| c.light(LimitUnit::WorkHour, start, d, now);
        assert_eq!(light(at(2026, 3, 2, 17, 54)), Light::Green); // 79 %
        assert_eq!(light(at(2026, 3, 2, 18, 0)), Light::Yellow); // 80 %
        assert_eq!(light(at(2026, 3, 2, 23, 0)), Light::Yellow); // still 80 % overnight
        assert_eq!(light(d), Light::Yellow); // 100 %
        assert_eq!(light(at(2026, 3, 3, 10, 6)), Light::Red); // 101 %
        assert_eq!(
            c.yellow_at(LimitUnit::WorkHour, start, d),
            at(2026, 3, 2, 18, 0)
        );
        // Natural hours: 10 urgent hours from 08:00, yellow at 16:00.
        let d = c.deadline(start, lim(10, LimitUnit::UrgentHour)).due;
        let light = |now| c.light(LimitUnit::UrgentHour, start, d, now);
        assert_eq!(light(at(2026, 3, 2, 15, 54)), Light::Green);
        assert_eq!(light(at(2026, 3, 2, 16, 0)), Light::Yellow);
        assert_eq!(light(d), Light::Yellow);
        assert_eq!(light(at(2026, 3, 2, 18, 6)), Light::Red);
        assert!(Light::Green < Light::Yellow && Light::Yellow < Light::Red);
        for l in Light::ALL {
            assert_eq!(l.as_str().parse::<Light>(), Ok(l));
        }
        assert_eq!(Light::Red.to_string(), "red");
    }

    #[test]
    fn resume_after_suspension_keeps_the_remaining_time() {
        let c = cal();
        let start = at(2026, 3, 2, 8, 0);
        let d = c.deadline(start, lim(10, LimitUnit::WorkHour)).due;
        // Suspended (挂账) at Mon 16:00 with 8 - 6 = 2 h of Monday + 2 h of Tuesday left.
        let left = c.remaining(LimitUnit::WorkHour, at(2026, 3, 2, 16, 0), d);
        assert_eq!(left, 4 * 3600);
        // Resumed Fri 6 Mar 15:00: 3 h on Friday, 1 h on Monday.
        assert_eq!(
            c.resume(LimitUnit::WorkHour, left, at(2026, 3, 6, 15, 0)),
            at(2026, 3, 9, 9, 0)
        );
        // Overdue by 1 working hour when suspended: still overdue by 1 h after resuming Monday 9:00.
        let overdue = c.remaining(LimitUnit::WorkHour, at(2026, 3, 3, 11, 0), d);
        assert_eq!(overdue, -3600);
        assert_eq!(
            c.resume(LimitUnit::WorkHour, overdue, at(2026, 3, 9, 9, 0)),
            at(2026, 3, 9, 8, 0)
        );
        // Going back across a lunch break lands on the period start (the latest such instant).
        assert_eq!(
            c.add(LimitUnit::WorkHour, at(2026, 3, 2, 15, 0), -3600),
            at(2026, 3, 2, 14, 0)
        );
    }

    #[test]
    fn a_year_of_work_days_is_fast_and_exact() {
        let c = cal();
        let start = at(2025, 1, 2, 9, 30);
        let timer = std::time::Instant::now();
        let d = c.deadline(start, lim(250, LimitUnit::WorkDay));
        let took = timer.elapsed();
        assert!(took.as_millis() < 200, "250 work days took {took:?}");
        assert!(!d.unscheduled);
        // Independent count: 250 working days after 2 Jan 2025, ending at the same time of day.
        let mut day = date(2025, 1, 2);
        let mut counted = 0;
        while counted < 250 {
            day = day.succ_opt().expect("date");
            if c.is_working_day(day) {
                counted += 1;
            }
        }
        assert_eq!(d.due, at(day.year(), day.month(), day.day(), 9, 30));
        assert_eq!(c.elapsed(LimitUnit::WorkDay, start, d.due), 250 * 8 * 3600);
        // Far beyond the schedule: plain weeks are skipped, still exact.
        let far = c.deadline(at(2026, 3, 2, 8, 0), lim(5 * 52 * 100, LimitUnit::WorkDay));
        assert!(far.unscheduled);
        assert_eq!(
            c.elapsed(LimitUnit::WorkDay, at(2026, 3, 2, 8, 0), far.due),
            5 * 52 * 100 * 8 * 3600
        );
        // The largest limit does not hang or panic.
        let huge = c.deadline(start, lim(u32::MAX, LimitUnit::WorkHour));
        assert!(huge.due > start);
        let huge = c.deadline(start, lim(u32::MAX, LimitUnit::NaturalDay));
        assert_eq!(huge.due, DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn custom_hours_and_zone() {
        let t = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
        let config = CalendarConfig {
            tz: chrono_tz::Europe::Berlin,
            hours: WorkingHours::new(vec![(t(9), t(17))]).expect("hours"),
            yellow_ratio: 0.5,
        };
        let c = WorkingCalendar::new(config, vec![]).expect("calendar");
        assert_eq!(c.working_seconds_per_day(), 8 * 3600);
        let berlin = |d: u32, h: u32| {
            chrono_tz::Europe::Berlin
                .with_ymd_and_hms(2026, 3, d, h, 0, 0)
                .single()
                .expect("time")
                .with_timezone(&Utc)
        };
        // Fri 27 Mar 2026 15:00 + 4 work hours = Mon 30 Mar 11:00 (across the DST switch on Sunday).
        assert_eq!(
            due(&c, berlin(27, 15), 4, LimitUnit::WorkHour),
            berlin(30, 11)
        );
        assert_eq!(
            c.yellow_at(LimitUnit::WorkHour, berlin(27, 15), berlin(30, 11)),
            berlin(27, 17)
        );
    }
}
