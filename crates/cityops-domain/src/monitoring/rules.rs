//! Alarm rules (报警规则) and the rule engine: graded thresholds (分级阈值) with hysteresis and a
//! sustain time, rate of change (变化速率), offline (离线), construction-site noise (施工噪声,
//! GB 12523-2011) and waterlogging (内涝: rain and standing water combined) (PRODUCT.md §5,
//! STANDARDS.md §8).
//!
//! The engine is pure: for each (device, rule) the caller keeps a [`RuleState`], feeds it the
//! device's readings with [`evaluate`] and the passing of time with [`tick`], and acts on the
//! [`AlarmSignal`]s: raise or escalate the active alarm of the device and rule, or clear it.
//! Levels run 1 (一级, least severe) to 3 (三级, most severe); an active alarm's level only rises.
//!
//! Feed a device's readings in timestamp order where you can (at equal timestamps rainfall before
//! depth). A reading older than the latest one of its metric counts as a sign of life only: it
//! never changes a level, so out-of-order delivery does not flap.
use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::alarm::{MAX_LEVEL, check_level};
use super::device::{DeviceType, Metric, Reading};
use crate::DomainError;
use crate::catalogue::parse_category_code;

/// The default time a condition must be back to normal before its alarm clears (seconds).
/// The shortest span a rate of change is measured over (seconds): readings closer together are
/// measured from the same earlier reading.
pub const RATE_MIN_SPAN_SECS: u32 = 10;

pub const DEFAULT_CLEAR_AFTER_SECS: u32 = 300;

/// Which side of a threshold is abnormal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 超上限: at or above the threshold.
    Above,
    /// 超下限: at or below the threshold.
    Below,
}

/// An alarm rule (报警规则) of a rule profile (规则模板).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The store's id; 0 before it is stored.
    pub id: i64,
    /// The rule profile (规则模板) code; devices name one.
    pub profile: String,
    /// E.g. "甲烷浓度分级报警".
    pub name: String,
    /// The metric watched. Offline: shown on the alarm only (any reading of the device counts);
    /// Waterlogging: [`Metric::Depth`]; ConstructionNoise: [`Metric::Laeq`].
    pub metric: Metric,
    pub kind: RuleKind,
    /// An alarm at or above this level creates a case (立案).
    pub case_level: Option<u8>,
    /// The 5-digit GB/T 47678.5 category of that case, if known.
    pub category_code: Option<String>,
    /// Back to normal this long (seconds) → the alarm clears. Default
    /// [`DEFAULT_CLEAR_AFTER_SECS`].
    pub clear_after_secs: u32,
    pub enabled: bool,
}

/// What a rule judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// 分级阈值: `levels[0]` is level 1 (least severe) … `levels[2]` level 3; None = level not used.
    /// A level holds once the value is at (or beyond) its threshold for `sustain_secs`; an active
    /// level holds until the value is back past its threshold by more than `hysteresis`.
    Threshold {
        direction: Direction,
        levels: [Option<f64>; 3],
        hysteresis: f64,
        sustain_secs: u32,
    },
    /// 变化速率: |Δvalue| per minute between consecutive readings of the metric at or over
    /// `per_minute` raises `level`.
    RateOfChange { per_minute: f64, level: u8 },
    /// 离线: no reading of any metric for `minutes` raises `level`.
    Offline { minutes: u32, level: u8 },
    /// 施工噪声 (GB 12523-2011 建筑施工场界环境噪声排放标准): LAeq over the day/night limit, or
    /// at night LAmax over `night_limit + night_max_excess`, raises `level` (over: strictly; a
    /// value at the limit complies). Each reading is judged at its own local time; day is
    /// [`day_starts_hour`, `night_starts_hour`) local time; `hysteresis` (dB) applies to the
    /// limits on the way back to normal.
    ConstructionNoise {
        day_limit: f64,
        night_limit: f64,
        night_max_excess: f64,
        day_starts_hour: u8,
        night_starts_hour: u8,
        hysteresis: f64,
        level: u8,
    },
    /// 内涝 (rain + water combined): depth (cm) over a level's threshold while the latest
    /// rainfall reading of the same device within `rain_window_mins` is at least `min_rainfall`
    /// (mm/h). Rain is needed to raise or escalate; an active alarm holds while the water stays
    /// (hysteresis as for thresholds), rain or not.
    Waterlogging {
        depth_levels: [Option<f64>; 3],
        min_rainfall: f64,
        rain_window_mins: u32,
        hysteresis: f64,
    },
}

impl Rule {
    /// Validates: levels 1..=3; thresholds of the used levels strictly increasing in severity
    /// (Above: ascending values; Below: descending), at least one level set; hysteresis ≥ 0 and
    /// finite; per_minute > 0; minutes > 0; hours < 24 and day_starts != night_starts; name
    /// non-empty; category_code None or 5 digits; Waterlogging watches Depth and
    /// ConstructionNoise Laeq.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::Invalid("rule name is empty".into()));
        }
        if let Some(level) = self.case_level {
            check_level(level)?;
        }
        if let Some(code) = &self.category_code {
            parse_category_code(code)?;
        }
        let ensure = |ok: bool, why: &str| {
            let why = || DomainError::Invalid(format!("rule {:?}: {why}", self.name));
            if ok { Ok(()) } else { Err(why()) }
        };
        const LEVELS: &str = "thresholds: at least one, numbers, strictly more severe by level";
        const HYSTERESIS: &str = "hysteresis must be a number ≥ 0";
        match &self.kind {
            RuleKind::Threshold {
                direction,
                levels,
                hysteresis,
                ..
            } => {
                ensure(levels_ok(*direction, levels), LEVELS)?;
                ensure(non_negative(*hysteresis), HYSTERESIS)
            }
            RuleKind::RateOfChange { per_minute, level } => {
                let positive = per_minute.is_finite() && *per_minute > 0.0;
                ensure(positive, "the rate per minute must be > 0")?;
                check_level(*level).map(drop)
            }
            RuleKind::Offline { minutes, level } => {
                ensure(*minutes > 0, "offline minutes must be > 0")?;
                check_level(*level).map(drop)
            }
            RuleKind::ConstructionNoise {
                day_limit: day,
                night_limit: night,
                night_max_excess: excess,
                day_starts_hour: from,
                night_starts_hour: to,
                hysteresis,
                level,
            } => {
                let limits = day.is_finite() && night.is_finite() && non_negative(*excess);
                let hours = *from < 24 && *to < 24 && from != to;
                ensure(self.metric == Metric::Laeq, "noise watches laeq")?;
                ensure(limits, "noise limits: numbers, the LAmax excess ≥ 0")?;
                ensure(hours, "day and night start at two hours 0–23")?;
                ensure(non_negative(*hysteresis), HYSTERESIS)?;
                check_level(*level).map(drop)
            }
            RuleKind::Waterlogging {
                depth_levels,
                min_rainfall,
                rain_window_mins,
                hysteresis,
            } => {
                ensure(self.metric == Metric::Depth, "waterlogging watches depth")?;
                ensure(levels_ok(Direction::Above, depth_levels), LEVELS)?;
                ensure(non_negative(*min_rainfall), "rainfall must be ≥ 0")?;
                ensure(*rain_window_mins > 0, "the rain window must be > 0 minutes")?;
                ensure(non_negative(*hysteresis), HYSTERESIS)
            }
        }
    }

    /// The metrics whose readings this rule judges, as a static slice: empty for Offline
    /// (meaning any metric of the device), Depth and Rainfall for Waterlogging, Laeq and Lamax
    /// for ConstructionNoise, else just `self.metric`.
    pub fn watches(&self) -> &'static [Metric] {
        match self.kind {
            RuleKind::Offline { .. } => &[],
            RuleKind::Waterlogging { .. } => &[Metric::Depth, Metric::Rainfall],
            RuleKind::ConstructionNoise { .. } => &[Metric::Laeq, Metric::Lamax],
            RuleKind::Threshold { .. } | RuleKind::RateOfChange { .. } => Metric::ALL
                .iter()
                .find(|m| **m == self.metric)
                .map_or(&[], std::slice::from_ref),
        }
    }

    /// Whether a reading of `metric` matters to this rule (beyond being a sign of life).
    pub fn uses(&self, metric: Metric) -> bool {
        let watched = self.watches();
        watched.is_empty() || watched.contains(&metric)
    }
}

/// At least one level used, all used ones finite and strictly more severe level by level.
fn levels_ok(direction: Direction, levels: &[Option<f64>; 3]) -> bool {
    let used: Vec<f64> = levels.iter().flatten().copied().collect();
    !used.is_empty()
        && used.iter().all(|t| t.is_finite())
        && used.windows(2).all(|w| match direction {
            Direction::Above => w[0] < w[1],
            Direction::Below => w[0] > w[1],
        })
}

fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// What the engine remembers per (device, rule) between readings. `Default` = nothing seen yet.
/// Plain data: keep it in memory or serialise it as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    /// The level of the active alarm; None: nothing active.
    active: Option<u8>,
    /// Per level L (index L − 1): since when the condition has held at L or above, unbroken.
    holding: [Option<DateTime<Utc>>; 3],
    /// While an alarm is active: since when the condition has been normal.
    normal_since: Option<DateTime<Utc>>,
    /// The timestamp of the latest reading of each metric the rule judged.
    latest: Vec<(Metric, DateTime<Utc>)>,
    /// Rate of change: the reading it is measured from (at least [`RATE_MIN_SPAN_SECS`] before).
    previous: Option<(f64, DateTime<Utc>)>,
    /// Rate of change: the latest rate measured and its level (0: normal), which readings closer
    /// than the minimum span to `previous` keep.
    rate: (f64, u8),
    /// The latest reading of any metric.
    last_seen: Option<DateTime<Utc>>,
    /// The first tick (a device never seen is offline counted from there) and the latest one.
    first_tick: Option<DateTime<Utc>>,
    last_tick: Option<DateTime<Utc>>,
    /// Waterlogging: the latest rainfall reading.
    rain: Option<(f64, DateTime<Utc>)>,
    /// Construction noise: whether the latest LAeq / LAmax reading was over its limit.
    noise_over: [bool; 2],
}

impl RuleState {
    /// The level of the active alarm, if any.
    pub fn active_level(&self) -> Option<u8> {
        self.active
    }

    /// The timestamp of the device's latest reading seen by this state, if any.
    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.last_seen
    }

    fn active_or_0(&self) -> u8 {
        self.active.unwrap_or(0)
    }

    /// Records a reading of `metric` at `ts`; false if it is older than the latest one.
    fn advance(&mut self, metric: Metric, ts: DateTime<Utc>) -> bool {
        let Some((_, latest)) = self.latest.iter_mut().find(|(m, _)| *m == metric) else {
            self.latest.push((metric, ts));
            return true;
        };
        let newer = ts >= *latest;
        *latest = (*latest).max(ts);
        newer
    }

    fn clear(&mut self) {
        self.active = None;
        self.normal_since = None;
        self.holding = [None; 3];
    }
}

/// What the caller does with the device's alarm for the rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AlarmSignal {
    /// The condition holds at `level` and that level is higher than what was active (or nothing
    /// was active): raise or escalate. `value` is the reading's value (RateOfChange: the rate per
    /// minute; Offline: the minutes offline).
    Active {
        level: u8,
        value: f64,
        at: DateTime<Utc>,
    },
    /// Back to normal for the rule's clear_after_secs: clear the alarm.
    Cleared { at: DateTime<Utc> },
}

fn secs(s: u32) -> Duration {
    Duration::seconds(i64::from(s))
}

fn mins(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

/// The configured level if `hit` (as a usable one: an unchecked rule's 0 or 7 does not break
/// the engine), else 0 (normal).
fn level_if(hit: bool, level: u8) -> u8 {
    if hit { level.clamp(1, MAX_LEVEL) } else { 0 }
}

/// The graded condition level (0 = normal): the highest level whose threshold the value reaches,
/// each level up to the active one widened by the hysteresis.
fn graded(direction: Direction, levels: &[Option<f64>; 3], h: f64, value: f64, active: u8) -> u8 {
    let mut cond = 0;
    for (level, t) in (1..=MAX_LEVEL).zip(levels) {
        let Some(t) = *t else { continue };
        let band = if level <= active { h } else { 0.0 };
        let hit = match direction {
            Direction::Above => value >= t - band,
            Direction::Below => value <= t + band,
        };
        if hit {
            cond = level;
        }
    }
    cond
}

fn is_day(hour: u32, day_starts: u8, night_starts: u8) -> bool {
    let (d, n) = (u32::from(day_starts), u32::from(night_starts));
    if d <= n {
        d <= hour && hour < n
    } else {
        hour >= d || hour < n
    }
}

/// Evaluates one reading of the device (any metric of the device: ones the rule does not judge
/// only update state such as last_seen or the latest rainfall). `tz` gives local time for
/// day/night. A disabled rule only notes the sign of life.
pub fn evaluate(
    rule: &Rule,
    state: &mut RuleState,
    reading: &Reading,
    tz: Tz,
) -> Option<AlarmSignal> {
    let (ts, value) = (reading.ts, reading.value);
    let newer = state.last_seen.is_none_or(|seen| ts > seen);
    if newer {
        state.last_seen = Some(ts);
    }
    if !rule.enabled {
        return None;
    }
    let active = state.active_or_0();
    match rule.kind {
        RuleKind::Threshold {
            direction,
            levels,
            hysteresis,
            sustain_secs,
        } => {
            if reading.metric != rule.metric || !state.advance(reading.metric, ts) {
                return None;
            }
            let cond = graded(direction, &levels, hysteresis, value, active);
            settle(rule, state, cond, value, ts, sustain_secs)
        }
        RuleKind::RateOfChange { per_minute, level } => {
            if reading.metric != rule.metric || !state.advance(reading.metric, ts) {
                return None;
            }
            let Some((v0, t0)) = state.previous else {
                state.previous = Some((value, ts));
                return None;
            };
            let minutes = (ts - t0).num_milliseconds() as f64 / 60_000.0;
            // Over a span of at least RATE_MIN_SPAN_SECS: readings a few milliseconds apart
            // would turn the sensor's last digit into a steep "rate".
            if minutes * 60.0 < f64::from(RATE_MIN_SPAN_SECS) {
                // Within the span: the latest measured rate still stands (so a steady device
                // still clears in time).
                let (rate, cond) = state.rate;
                return settle(rule, state, cond, rate, ts, 0);
            }
            state.previous = Some((value, ts));
            let rate = (value - v0).abs() / minutes;
            let cond = level_if(rate >= per_minute, level);
            state.rate = (rate, cond);
            settle(rule, state, cond, rate, ts, 0)
        }
        RuleKind::Offline { minutes, .. } => {
            // Back online: a new reading the last tick would not have found stale.
            let timely = state.last_tick.is_none_or(|now| now - ts < mins(minutes));
            if newer && timely && state.active.is_some() {
                settle(rule, state, 0, value, ts, 0)
            } else {
                None
            }
        }
        RuleKind::ConstructionNoise {
            day_limit,
            night_limit,
            night_max_excess,
            day_starts_hour,
            night_starts_hour,
            hysteresis,
            level,
        } => {
            let slot = match reading.metric {
                Metric::Laeq => 0,
                Metric::Lamax => 1,
                _ => return None,
            };
            if !state.advance(reading.metric, ts) {
                return None;
            }
            let day = is_day(
                ts.with_timezone(&tz).hour(),
                day_starts_hour,
                night_starts_hour,
            );
            let limit = match (slot, day) {
                (0, true) => Some(day_limit),
                (0, false) => Some(night_limit),
                (_, true) => None,
                (_, false) => Some(night_limit + night_max_excess),
            };
            let band = if active > 0 { hysteresis } else { 0.0 };
            state.noise_over[slot] = limit.is_some_and(|l| value > l - band);
            let cond = level_if(state.noise_over.contains(&true), level);
            settle(rule, state, cond, value, ts, 0)
        }
        RuleKind::Waterlogging {
            depth_levels,
            min_rainfall,
            rain_window_mins,
            hysteresis,
        } => match reading.metric {
            Metric::Rainfall => {
                if state.advance(Metric::Rainfall, ts) {
                    state.rain = Some((value, ts));
                }
                None
            }
            Metric::Depth => {
                if !state.advance(Metric::Depth, ts) {
                    return None;
                }
                let window = mins(rain_window_mins);
                let raining = state.rain.is_some_and(|(rain, at)| {
                    rain >= min_rainfall && ts - at <= window && at - ts <= window
                });
                let cond = graded(Direction::Above, &depth_levels, hysteresis, value, active);
                let cond = if raining { cond } else { cond.min(active) };
                settle(rule, state, cond, value, ts, 0)
            }
            _ => None,
        },
    }
}

/// Applies the condition level `cond` (0 = normal) found at `ts`: sustain, raise/escalate, clear.
fn settle(
    rule: &Rule,
    state: &mut RuleState,
    cond: u8,
    value: f64,
    ts: DateTime<Utc>,
    sustain_secs: u32,
) -> Option<AlarmSignal> {
    for (i, since) in (0u8..).zip(state.holding.iter_mut()) {
        if cond > i {
            since.get_or_insert(ts);
        } else {
            *since = None;
        }
    }
    if cond == 0 {
        state.active?;
        let since = *state.normal_since.get_or_insert(ts);
        if ts - since >= secs(rule.clear_after_secs) {
            state.clear();
            return Some(AlarmSignal::Cleared { at: ts });
        }
        return None;
    }
    state.normal_since = None;
    let sustain = secs(sustain_secs);
    let reached = (1..=cond.min(MAX_LEVEL)).rev().find(|level| {
        state.holding[usize::from(*level) - 1].is_some_and(|since| ts - since >= sustain)
    })?;
    if reached > state.active_or_0() {
        state.active = Some(reached);
        Some(AlarmSignal::Active {
            level: reached,
            value,
            at: ts,
        })
    } else {
        None
    }
}

/// Time passing without (or between) readings: Offline fires when now − last_seen ≥ minutes (a
/// device never seen counts from the first tick); an active alarm whose condition has been
/// normal for clear_after_secs clears (`at: now`).
pub fn tick(rule: &Rule, state: &mut RuleState, now: DateTime<Utc>) -> Option<AlarmSignal> {
    if !rule.enabled {
        return None;
    }
    let first = *state.first_tick.get_or_insert(now);
    if state.last_tick.is_none_or(|t| now > t) {
        state.last_tick = Some(now);
    }
    if let RuleKind::Offline { minutes, level } = rule.kind {
        let silent = now - state.last_seen.unwrap_or(first);
        if silent >= mins(minutes) {
            state.normal_since = None;
            let level = level_if(true, level);
            if level <= state.active_or_0() {
                return None;
            }
            state.active = Some(level);
            return Some(AlarmSignal::Active {
                level,
                value: silent.num_seconds() as f64 / 60.0,
                at: now,
            });
        }
    }
    let since = state.normal_since?;
    if state.active.is_some() && now - since >= secs(rule.clear_after_secs) {
        state.clear();
        Some(AlarmSignal::Cleared { at: now })
    } else {
        None
    }
}

/// A reading of the device seen elsewhere at `ts` — another process's share of the messages, as
/// the store's rollups tell: what an Offline rule counts from (a device whose readings go to
/// another server is not offline). Back online clears an active Offline alarm at the next
/// [`tick`]. No other kind of rule is moved by it.
pub fn observe(rule: &Rule, state: &mut RuleState, ts: DateTime<Utc>) {
    let RuleKind::Offline { minutes, .. } = rule.kind else {
        return;
    };
    if state.last_seen.is_some_and(|seen| ts <= seen) {
        return;
    }
    state.last_seen = Some(ts);
    let timely = state.last_tick.is_none_or(|now| now - ts < mins(minutes));
    if timely && state.active.is_some() && state.normal_since.is_none() {
        state.normal_since = Some(ts);
    }
}

/// The demo/default rule profiles: one per [`DeviceType`], named
/// [`DeviceType::default_profile`], each with an Offline rule (30 min, level 1, no case, cleared
/// by the next reading).
///
/// Only the noise figures are a standard's (GB 12523-2011: LAeq 70 dB(A) by day, 55 dB(A) at
/// night, LAmax at night at most 15 dB(A) over; day 06:00–22:00). Every other threshold is
/// **illustrative**, not official (no lifeline alarm table was found, STANDARDS.md §8.2):
/// configure them per site.
pub fn default_rules() -> Vec<Rule> {
    use Direction::{Above, Below};
    use RuleKind::{ConstructionNoise, RateOfChange, Waterlogging};
    use {DeviceType as D, Metric as M};
    /// Type, name, metric, kind, case level, case category.
    type Row = (
        D,
        &'static str,
        M,
        RuleKind,
        Option<u8>,
        Option<&'static str>,
    );
    #[rustfmt::skip]
    let table = [
        // %LEL; a case (01011 燃气井盖异常) from level 2.
        (D::GasDetector, "甲烷浓度分级报警", M::Ch4Lel, graded_kind(Above, [10.0, 25.0, 50.0], 2.0, 30), Some(2), Some("01011")),
        // Information to the water company (reminders); no catalogue category fits a low pressure.
        (D::WaterPressure, "供水压力过低", M::Pressure, graded_kind(Below, [0.20, 0.15, 0.10], 0.01, 120), None, None),
        (D::WaterPressure, "供水压力突变（疑似爆管）", M::Pressure, RateOfChange { per_minute: 0.05, level: 2 }, None, None),
        (D::WaterFlow, "供水流量异常偏大", M::Flow, graded_kind(Above, [1000.0, 1500.0, 2000.0], 50.0, 300), None, None),
        // Outfall levels; a case (01073 雨污水排放口异常) at level 3.
        (D::DrainageLevel, "排水管网液位分级报警", M::Level, graded_kind(Above, [1.0, 1.5, 2.0], 0.05, 60), Some(3), Some("01073")),
        // Overflow risk; a case (01002 污水井盖异常) at level 3.
        (D::ManholeLevel, "窨井液位分级报警", M::Level, graded_kind(Above, [1.5, 2.0, 2.5], 0.05, 60), Some(3), Some("01002")),
        // Depth in cm while it rains ≥ 5 mm/h (within the hour).
        (D::Waterlogging, "道路积水内涝报警", M::Depth, Waterlogging {
            depth_levels: [Some(15.0), Some(27.0), Some(40.0)],
            min_rainfall: 5.0, rain_window_mins: 60, hysteresis: 2.0,
        // 01004 雨水箅子异常: the catalogue has no "standing water" matter; a blocked inlet is
        // what the drainage department checks first.
        }, Some(2), Some("01004")),
        (D::BridgeStrain, "桥梁应变超限", M::Strain, graded_kind(Above, [300.0, 400.0, 500.0], 10.0, 60), Some(3), Some("02009")),
        (D::BridgeDeflection, "桥梁挠度超限", M::Deflection, graded_kind(Above, [20.0, 30.0, 40.0], 1.0, 60), Some(3), Some("02009")),
        (D::BridgeTilt, "桥梁倾角超限（正向）", M::Tilt, graded_kind(Above, [0.1, 0.2, 0.3], 0.02, 60), Some(3), Some("02009")),
        (D::BridgeTilt, "桥梁倾角超限（负向）", M::Tilt, graded_kind(Below, [-0.1, -0.2, -0.3], 0.02, 60), Some(3), Some("02009")),
        (D::BillboardTilt, "广告牌倾斜超限（正向）", M::Tilt, graded_kind(Above, [1.0, 2.0, 3.0], 0.2, 60), Some(2), Some("03006")),
        (D::BillboardTilt, "广告牌倾斜超限（负向）", M::Tilt, graded_kind(Below, [-1.0, -2.0, -3.0], 0.2, 60), Some(2), Some("03006")),
        // GB 12523-2011. Reminders to the site (ReminderPolicy), then enforcement: the alarm makes
        // no case itself; 08001 施工扰民 is the category once enforcement takes it on.
        (D::Noise, "施工场界噪声超标", M::Laeq, ConstructionNoise {
            day_limit: 70.0, night_limit: 55.0, night_max_excess: 15.0,
            day_starts_hour: 6, night_starts_hour: 22, hysteresis: 1.0, level: 1,
        }, None, Some("08001")),
        // mm/h: 短时强降水 → 暴雨; information, no case.
        (D::RainGauge, "降雨强度分级报警", M::Rainfall, graded_kind(Above, [30.0, 50.0, 100.0], 2.0, 0), None, None),
    ];
    let offline = DeviceType::ALL.iter().map(|t| {
        let kind = RuleKind::Offline {
            minutes: 30,
            level: 1,
        };
        (*t, "设备离线", t.metrics()[0], kind, None, None)
    });
    let rule = |(t, name, metric, kind, case_level, category): Row| {
        let offline = matches!(kind, RuleKind::Offline { .. });
        Rule {
            id: 0,
            profile: t.default_profile().to_string(),
            name: name.to_string(),
            metric,
            kind,
            case_level,
            category_code: category.map(str::to_string),
            clear_after_secs: if offline { 0 } else { DEFAULT_CLEAR_AFTER_SECS },
            enabled: true,
        }
    };
    table.into_iter().chain(offline).map(rule).collect()
}

/// A graded threshold kind with all three levels used.
fn graded_kind(direction: Direction, l: [f64; 3], hysteresis: f64, sustain_secs: u32) -> RuleKind {
    let levels = l.map(Some);
    RuleKind::Threshold {
        direction,
        levels,
        hysteresis,
        sustain_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Above, Below};
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;
    use proptest::prelude::*;

    /// 2026-07-01 12:00 in Shanghai.
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 4, 0, 0).unwrap()
    }

    /// A script time: seconds after t0, or `hh:mm` Shanghai time (hours before 12: the next day).
    fn time(s: &str) -> DateTime<Utc> {
        let secs = match s.split_once(':') {
            Some((h, m)) => {
                let (h, m): (i64, i64) = (h.parse().unwrap(), m.parse().unwrap());
                (h - 12).rem_euclid(24) * 3600 + m * 60
            }
            None => s.parse().unwrap(),
        };
        t0() + Duration::seconds(secs)
    }

    /// Plays whitespace-separated steps — `time=value` (a reading of the rule's metric),
    /// `metric@time=value` or `tick@time` — and answers the signals: `A<level>=<value>@<time>`,
    /// `C@<time>`.
    fn play(rule: &Rule, st: &mut RuleState, script: &str) -> String {
        let mut out = Vec::new();
        for step in script.split_whitespace() {
            let (what, rest) = step.split_once('@').unwrap_or(("", step));
            let (when, value) = rest.split_once('=').unwrap_or((rest, "0"));
            let ts = time(when);
            let read = reading(
                what.parse().unwrap_or(rule.metric),
                value.parse().unwrap(),
                ts,
            );
            let sig = match what {
                "tick" => tick(rule, st, ts),
                _ => evaluate(rule, st, &read, Shanghai),
            };
            match sig {
                Some(AlarmSignal::Active { level, value, at }) if at == ts => {
                    out.push(format!("A{level}={value}@{when}"));
                }
                Some(AlarmSignal::Cleared { at }) if at == ts => out.push(format!("C@{when}")),
                None => {}
                Some(other) => panic!("{other:?} at {step}"),
            }
        }
        out.join(" ")
    }

    /// Plays a script from nothing.
    fn fresh(rule: &Rule, script: &str) -> String {
        play(rule, &mut RuleState::default(), script)
    }

    // Builders, one line each.
    #[rustfmt::skip]
    fn reading(metric: Metric, value: f64, ts: DateTime<Utc>) -> Reading {
        Reading { device_key: 1, metric, value, ts }
    }

    #[rustfmt::skip]
    fn rule(metric: Metric, kind: RuleKind) -> Rule {
        let (profile, name) = ("p".to_string(), "测试规则".to_string());
        Rule { id: 0, profile, name, metric, kind, case_level: None, category_code: None, clear_after_secs: 300, enabled: true }
    }

    #[rustfmt::skip]
    fn threshold(direction: Direction, levels: [Option<f64>; 3], hysteresis: f64, sustain_secs: u32) -> RuleKind {
        RuleKind::Threshold { direction, levels, hysteresis, sustain_secs }
    }

    /// GB 12523-2011 figures.
    #[rustfmt::skip]
    fn noise_kind(day_starts_hour: u8, night_starts_hour: u8, hysteresis: f64, level: u8) -> RuleKind {
        let (day_limit, night_limit, night_max_excess) = (70.0, 55.0, 15.0);
        RuleKind::ConstructionNoise { day_limit, night_limit, night_max_excess, day_starts_hour, night_starts_hour, hysteresis, level }
    }

    #[rustfmt::skip]
    fn flood_kind(depth_levels: [Option<f64>; 3], min_rainfall: f64, rain_window_mins: u32, hysteresis: f64) -> RuleKind {
        RuleKind::Waterlogging { depth_levels, min_rainfall, rain_window_mins, hysteresis }
    }

    fn gas(sustain: u32) -> Rule {
        let kind = graded_kind(Above, [10.0, 25.0, 50.0], 2.0, sustain);
        rule(Metric::Ch4Lel, kind)
    }

    fn noise(day_starts: u8, night_starts: u8) -> Rule {
        rule(Metric::Laeq, noise_kind(day_starts, night_starts, 1.0, 1))
    }

    fn flood(window: u32) -> Rule {
        let kind = flood_kind([Some(15.0), Some(27.0), Some(40.0)], 5.0, window, 2.0);
        rule(Metric::Depth, kind)
    }

    fn offline(minutes: u32, level: u8) -> Rule {
        rule(Metric::Flow, RuleKind::Offline { minutes, level })
    }

    fn rate(per_minute: f64, level: u8) -> Rule {
        rule(
            Metric::Pressure,
            RuleKind::RateOfChange { per_minute, level },
        )
    }

    #[test]
    fn check_accepts_sound_rules_only_and_watches_what_they_need() {
        assert!(gas(0).check().is_ok() && noise(6, 22).check().is_ok());
        assert!(flood(60).check().is_ok() && offline(30, 1).check().is_ok());
        assert!(levels_ok(Below, &[Some(5.0), None, Some(1.0)]));
        assert!(!levels_ok(Above, &[None; 3]));
        assert!(!levels_ok(Above, &[Some(1.0), Some(1.0), None]));
        assert!(!levels_ok(Below, &[Some(1.0), Some(2.0), None]));
        assert!(!levels_ok(Above, &[Some(1.0), Some(f64::NAN), None]));
        let lv = [Some(10.0), Some(25.0), None];
        let mut bad = vec![
            rule(Metric::Ch4Lel, threshold(Above, lv, -1.0, 0)),
            rule(Metric::Ch4Lel, threshold(Below, lv, 1.0, 0)),
            rate(0.0, 1),
            offline(0, 1),
            offline(30, 4),
            noise(6, 6),
            noise(6, 24),
            flood(0),
            rule(Metric::Lamax, noise(6, 22).kind),
            rule(Metric::Rainfall, flood(60).kind),
        ];
        let (mut unnamed, mut level_0, mut code_4) = (gas(0), gas(0), gas(0));
        unnamed.name = " ".into();
        level_0.case_level = Some(0);
        code_4.category_code = Some("0101".into());
        bad.extend([unnamed, level_0, code_4]);
        for r in bad {
            assert!(r.check().is_err(), "{r:?}");
        }
        assert_eq!(gas(0).watches(), &[Metric::Ch4Lel]);
        assert!(offline(5, 1).watches().is_empty() && offline(5, 1).uses(Metric::Laeq));
        assert_eq!(flood(60).watches(), &[Metric::Depth, Metric::Rainfall]);
        assert_eq!(noise(6, 22).watches(), &[Metric::Laeq, Metric::Lamax]);
        assert!(flood(60).uses(Metric::Rainfall) && !flood(60).uses(Metric::Laeq));
    }

    #[test]
    fn graded_levels_raise_and_escalate_once_each() {
        let script = "0=5 60=12 120=11 180=30 240=26 300=12 360=60 420=55";
        assert_eq!(fresh(&gas(0), script), "A1=12@60 A2=30@180 A3=60@360");
    }

    #[test]
    fn clears_after_the_clear_time_at_a_reading_or_a_tick() {
        let (r, mut st) = (gas(0), RuleState::default());
        // Normal from 60; abnormal again (at a lower level) at 200: the clock restarts.
        let got = play(&r, &mut st, "0=30 60=1 200=12 300=1 500=1 tick@599 600=2");
        assert_eq!((got.as_str(), st.active_level()), ("A2=30@0 C@600", None));
        let script = "660=11 700=0 tick@999 tick@1000 tick@2000 2100=1";
        assert_eq!(play(&r, &mut st, script), "A1=11@660 C@1000");
    }

    #[test]
    fn hysteresis_holds_an_active_level_and_below_mirrors_above() {
        // 10 raises; 8 is within 2 of it (still abnormal); 7.9 is normal.
        let script = "0=10 60=8.5 120=9.9 180=10 240=8 600=7.9 899=7 900=7";
        assert_eq!(fresh(&gas(0), script), "A1=10@0 C@900");
        let low = graded_kind(Below, [0.2, 0.15, 0.1], 0.01, 0);
        let low = rule(Metric::Pressure, low);
        let script = "0=0.3 60=0.14 120=0.155 180=0.205 480=0.3 780=0.3";
        assert_eq!(fresh(&low, script), "A2=0.14@60 C@780");
    }

    #[test]
    fn sustain_needs_the_condition_unbroken() {
        // Level 1 holds from 130 (100 was normal), level 2 from 200.
        let script = "0=12 60=13 100=5 130=12 200=30 250=30 319=30 320=30";
        assert_eq!(fresh(&gas(120), script), "A1=30@250 A2=30@320");
        assert_eq!(fresh(&gas(0), "0=12"), "A1=12@0");
    }

    #[test]
    fn older_readings_and_other_metrics_are_signs_of_life_only() {
        let (r, mut st) = (gas(0), RuleState::default());
        let script = "600=30 0=1 100=60 flow@1300=999 1200=0";
        assert_eq!(play(&r, &mut st, script), "A2=30@600");
        let seen = (st.active_level(), st.last_seen());
        assert_eq!(seen, (Some(2), Some(time("1300"))));
        assert_eq!(play(&r, &mut st, "1400=1 1500=1"), "C@1500");
    }

    #[test]
    fn rate_of_change_between_consecutive_readings() {
        let r = rate(0.2, 2);
        let script = "0=1 60=0.875 60=0 30=0.5 90=0.625 120=0.5 150=0.5 449=0.5 450=0.5";
        assert_eq!(fresh(&r, script), "A2=0.5@90 C@450");
    }

    #[test]
    fn readings_seen_elsewhere_keep_a_device_online_and_bring_it_back() {
        let r = offline(30, 1);
        let mut st = RuleState::default();
        assert_eq!(tick(&r, &mut st, time("0")), None);
        // Another server took its readings: observed from the store, never offline here.
        observe(&r, &mut st, time("1200"));
        assert_eq!(tick(&r, &mut st, time("2400")), None);
        assert!(matches!(
            tick(&r, &mut st, time("3001")),
            Some(AlarmSignal::Active { level: 1, .. })
        ));
        // Back (elsewhere): cleared once normal for the rule's clear time (300 s here); an older
        // sighting changes nothing.
        observe(&r, &mut st, time("1000"));
        assert_eq!(st.active_level(), Some(1));
        observe(&r, &mut st, time("3100"));
        assert_eq!(tick(&r, &mut st, time("3200")), None);
        assert!(matches!(
            tick(&r, &mut st, time("3400")),
            Some(AlarmSignal::Cleared { .. })
        ));
        // Other kinds are not moved by it.
        let mut g = RuleState::default();
        observe(&gas(0), &mut g, time("10"));
        assert_eq!(g.last_seen(), None);
    }

    #[test]
    fn rate_of_change_is_measured_over_a_span_not_between_jittery_neighbours() {
        let r = rate(0.2, 2);
        // ±0.01 each second is 0.6/min between neighbours, but nothing over 10 s.
        let jitter: Vec<String> = (0..=30)
            .map(|s| format!("{s}={}", if s % 2 == 0 { 0.5 } else { 0.51 }))
            .collect();
        assert_eq!(fresh(&r, &jitter.join(" ")), "");
        // A real drop still shows: 0.5 → 0.3 within 12 s.
        assert_eq!(fresh(&r, "0=0.5 5=0.45 12=0.3"), "A2=1@12");
    }

    #[test]
    fn construction_noise_by_local_day_and_night() {
        let (r, mut st) = (noise(6, 22), RuleState::default());
        // 70 is allowed; LAmax counts at night only; 69.5 is within the 1 dB hysteresis.
        let day = "14:00=70 lamax@14:01=90 14:02=71 14:03=69.5 14:04=60 14:08=60 14:09=60";
        assert_eq!(play(&r, &mut st, day), "A1=71@14:02 C@14:09");
        assert_eq!(play(&r, &mut st, "21:59=60 22:00=60"), "A1=60@22:00");
        // At night LAmax may be 15 over 55; over that it holds until LAmax is back.
        let mut st = RuleState::default();
        let night = "23:00=50 lamax@23:00=70 lamax@23:01=71 23:20=50 lamax@23:21=60 23:30=50";
        assert_eq!(play(&r, &mut st, night), "A1=71@23:01 C@23:30");
        assert_eq!(play(&r, &mut st, "05:59=60 06:00=60"), "A1=60@05:59");
        assert!(is_day(23, 22, 6) && !is_day(7, 22, 6) && is_day(6, 6, 22) && !is_day(22, 6, 22));
    }

    #[test]
    fn offline_from_the_last_reading_or_the_first_tick() {
        let (r, mut st) = (offline(30, 1), RuleState::default());
        // Never seen: counted from the first tick; a reading stale at the last tick: no change.
        let script = "tick@0 tick@1799 tick@1800 tick@3600 laeq@1000=1";
        assert_eq!(play(&r, &mut st, script), "A1=30@1800");
        let script = "laeq@3700=1 tick@3999 tick@4000 tick@5499 tick@5500";
        assert_eq!(play(&r, &mut st, script), "C@4000 A1=30@5500");
        let mut at_once = r;
        at_once.clear_after_secs = 0;
        assert_eq!(play(&at_once, &mut st, "depth@6500=1"), "C@6500");
    }

    #[test]
    fn waterlogging_needs_rain_to_raise_but_not_to_stay() {
        let (r, mut st) = (flood(60), RuleState::default());
        // No rain at 0, too little at 240 (no escalation); 14 is within the hysteresis of 15.
        let script = "0=20 rainfall@60=8 120=20 rainfall@180=1 240=30 300=14 rainfall@360=20";
        assert_eq!(play(&r, &mut st, script), "A1=20@120");
        // Enough rain within the hour before.
        assert_eq!(play(&r, &mut st, "3960=45 3961=45"), "A3=45@3960");
        let script = "rainfall@0=20 3601=45 rainfall@3601=6 3602=45";
        assert_eq!(fresh(&r, script), "A3=45@3602", "rain too long ago");
    }

    #[test]
    fn disabled_rules_only_note_signs_of_life() {
        let (mut r, mut st) = (gas(0), RuleState::default());
        r.enabled = false;
        assert_eq!(play(&r, &mut st, "0=60 tick@99999"), "");
        assert_eq!((st.active_level(), st.last_seen()), (None, Some(t0())));
    }

    #[test]
    fn default_rules_cover_every_type_and_pass_their_check() {
        let rules = default_rules();
        for r in &rules {
            r.check().unwrap_or_else(|e| panic!("{}: {e}", r.name));
            // A rule that opens cases names their category (the case service needs one).
            assert!(
                r.case_level.is_none() || r.category_code.is_some(),
                "{}",
                r.name
            );
        }
        let offline = |r: &Rule| r.kind == self::offline(30, 1).kind;
        for t in DeviceType::ALL {
            let mine = || rules.iter().filter(|r| r.profile == t.default_profile());
            assert!(mine().any(|r| offline(r) && r.case_level.is_none()));
            assert!(mine().any(|r| !offline(r)), "{t:?}");
            assert!(mine().all(|r| r.watches().iter().all(|m| t.metrics().contains(m))));
        }
        let gas = rules.iter().find(|r| r.metric == Metric::Ch4Lel).unwrap();
        let case = (gas.case_level, gas.category_code.as_deref());
        assert_eq!(case, (Some(2), Some("01011")));
        let noise = rules.iter().find(|r| r.uses(Metric::Lamax) && !offline(r));
        let noise = noise.unwrap();
        assert_eq!(noise.kind, noise_kind(6, 22, 1.0, 1), "GB 12523-2011");
        let json = serde_json::to_value(noise).unwrap();
        assert_eq!(json["kind"]["kind"], "construction_noise");
        assert_eq!(&serde_json::from_value::<Rule>(json).unwrap(), noise);
    }

    /// Rules of every kind with finite but otherwise unchecked parameters.
    fn any_kind() -> impl Strategy<Value = RuleKind> {
        let lv = || proptest::array::uniform3(proptest::option::of(-100.0..100.0f64));
        let (level, h) = (|| 0u8..5, || 0.0..5.0f64);
        let dir = || prop_oneof![Just(Above), Just(Below)];
        prop_oneof![
            (dir(), lv(), h(), 0u32..300).prop_map(|(d, l, h, s)| threshold(d, l, h, s)),
            (0.01..50.0f64, level())
                .prop_map(|(per_minute, level)| RuleKind::RateOfChange { per_minute, level }),
            (0u32..60, level()).prop_map(|(minutes, level)| RuleKind::Offline { minutes, level }),
            (0u8..30, 0u8..30, h(), level()).prop_map(|(d, n, h, l)| noise_kind(d, n, h, l)),
            (lv(), 0.0..20.0f64, 0u32..120, h()).prop_map(|(l, r, w, h)| flood_kind(l, r, w, h)),
        ]
    }

    /// (tick?, metric index, value, seconds after the previous event — sometimes before it).
    type Event = (bool, usize, f64, i64);

    fn events() -> impl Strategy<Value = Vec<Event>> {
        let value = prop_oneof![8 => -120.0..120.0f64, 1 => -1e300..1e300f64];
        let dt = -600i64..3600;
        let event = (prop::bool::weighted(0.2), 0..Metric::ALL.len(), value, dt);
        proptest::collection::vec(event, 0..80)
    }

    /// Runs the events; checks the state's active level against the signals as it goes.
    fn run(rule: &Rule, events: &[Event], tz: Tz) -> Vec<AlarmSignal> {
        let (mut st, mut now, mut out) = (RuleState::default(), t0(), Vec::new());
        for &(is_tick, m, value, dt) in events {
            now += Duration::seconds(dt);
            out.extend(match is_tick {
                true => tick(rule, &mut st, now),
                false => evaluate(rule, &mut st, &reading(Metric::ALL[m], value, now), tz),
            });
            let level = match out.last() {
                Some(AlarmSignal::Active { level, .. }) => Some(*level),
                _ => None,
            };
            assert_eq!(st.active_level(), level);
        }
        out
    }

    proptest! {
        /// A value hovering within [t − h, t + h] after crossing t raises at most once and never
        /// clears.
        #[test]
        fn hysteresis_never_flaps(
            t in -100.0..100.0f64, h in 0.0..10.0f64, below: bool, sustain in 0u32..300,
            clear in 0u32..600,
            steps in prop::collection::vec((-1.0..=1.0f64, 1i64..600, any::<bool>()), 0..60),
        ) {
            let (s, direction) = if below { (-1.0, Below) } else { (1.0, Above) };
            let kind = threshold(direction, [Some(s * t), None, None], h, sustain);
            let r = Rule { clear_after_secs: clear, ..rule(Metric::Level, kind) };
            let level = Metric::ALL.iter().position(|m| *m == Metric::Level).unwrap();
            let mut events: Vec<Event> = vec![(false, level, s * t, 0)];
            for (f, dt, also_tick) in steps {
                events.push((false, level, s * (t + h * f), dt));
                if also_tick {
                    events.push((true, level, 0.0, dt));
                }
            }
            let sigs = run(&r, &events, Shanghai);
            let raised = sigs.iter().filter(|s| matches!(s, AlarmSignal::Active { .. })).count();
            let cleared = sigs.iter().any(|s| matches!(s, AlarmSignal::Cleared { .. }));
            prop_assert!(raised <= 1 && !cleared, "{:?}", sigs);
        }

        /// Between two Cleared the Active levels strictly rise, and a Cleared always follows an
        /// Active (every kind of rule, checked or not).
        #[test]
        fn levels_rise_until_cleared(kind in any_kind(), clear in 0u32..900, events in events()) {
            let r = Rule { clear_after_secs: clear, ..rule(Metric::Ch4Lel, kind) };
            let mut active: Option<u8> = None;
            for sig in run(&r, &events, Shanghai) {
                match sig {
                    AlarmSignal::Active { level, .. } => {
                        prop_assert!((1..=MAX_LEVEL).contains(&level));
                        prop_assert!(level > active.unwrap_or(0), "{} after {:?}", level, active);
                        active = Some(level);
                    }
                    AlarmSignal::Cleared { .. } => prop_assert!(active.take().is_some()),
                }
            }
        }

        /// The engine never panics on finite inputs, whatever the rule, time zone, metric mix
        /// and the order and spacing of readings and ticks.
        #[test]
        fn never_panics(
            kind in any_kind(), m in 0..Metric::ALL.len(), clear: u32, events in events(),
            tz in prop_oneof![Just(Shanghai), Just(chrono_tz::UTC), Just(chrono_tz::America::St_Johns)],
        ) {
            let r = Rule { clear_after_secs: clear, ..rule(Metric::ALL[m], kind) };
            let _ = (r.check(), r.watches());
            run(&r, &events, tz);
        }
    }
}
