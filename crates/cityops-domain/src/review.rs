//! 第三方评价 (third-party review): reviewers (第三方评价员 — deputies, CPPCC members, volunteers)
//! score a sample of the closed cases (已结案) of each department and period, 1 to 5 with a
//! comment (评价意见) and an optional photo; the scores enter the department's evaluation.
//!
//! The sample (抽样) is random but reproducible: the same period, department, city salt and
//! closed cases always give the same cases, whoever draws them and in whatever order the
//! candidates come. Each candidate case is ranked by SHA-256 over a seed (the period's start and
//! end, the department and the configured city salt) and its id; the lowest ranks are drawn. A
//! department with `n` closed cases in the period gets `min(n, max(k, ⌈share·n⌉))` of them
//! ([`ReviewConfig::sample_size_for`]).
//!
//! Pure: no I/O, no clock — "now" is always an argument.
use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::limits::{self, TooLong};

/// Cases drawn per department and period at least (unless it closed fewer), by default.
pub const DEFAULT_SAMPLE_SIZE: u32 = 5;
/// The share of a department's closed cases drawn at least, in percent, by default.
pub const DEFAULT_MIN_SHARE_PERCENT: u32 = 10;
/// The most cases a configured sample size may name.
pub const MAX_SAMPLE_SIZE: u32 = 1_000;
/// The longest review period: a (leap) year.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The lowest score (很不满意).
pub const MIN_SCORE: u8 = 1;
/// The highest score (很满意).
pub const MAX_SCORE: u8 = 5;
/// The longest city salt (characters).
pub const MAX_SALT_CHARS: usize = 200;

/// Why a review, a period or the configuration is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// A score outside 1..=5.
    #[error("score {0}: expected a whole number from 1 to 5")]
    Score(i64),
    /// A review without a comment (评价意见).
    #[error("comment: a review needs a comment")]
    EmptyComment,
    /// A comment longer than [`limits::COMMENT`].
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// A period that ends before it starts, or is longer than a year.
    #[error("review period: {0}")]
    Period(String),
    /// A configuration value out of range.
    #[error("review configuration: {0}")]
    Config(String),
}

/// How samples are drawn (配置): per department and period at least `sample_size` cases and at
/// least `min_share_percent` % of its closed cases (all of them when it closed fewer), ranked by
/// a hash seeded with the city's `salt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewConfig {
    /// 每部门每期抽样数 `k` (default 5).
    pub sample_size: u32,
    /// 最低抽样比例, in percent of the department's closed cases (default 10).
    pub min_share_percent: u32,
    /// 城市盐值: part of every seed, so another city (or another salt) draws other cases. Set
    /// one per deployment and keep it from the departments until the period is over.
    pub salt: String,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            sample_size: DEFAULT_SAMPLE_SIZE,
            min_share_percent: DEFAULT_MIN_SHARE_PERCENT,
            salt: "cityops".to_string(),
        }
    }
}

impl ReviewConfig {
    /// `Config` when a value is out of range: a sample size of 1 to [`MAX_SAMPLE_SIZE`], a
    /// share of at most 100 %, a salt of at most [`MAX_SALT_CHARS`] characters.
    pub fn validate(&self) -> Result<(), ReviewError> {
        if !(1..=MAX_SAMPLE_SIZE).contains(&self.sample_size) {
            return Err(ReviewError::Config(format!(
                "sample_size {}: expected 1 to {MAX_SAMPLE_SIZE}",
                self.sample_size
            )));
        }
        if self.min_share_percent > 100 {
            return Err(ReviewError::Config(format!(
                "min_share_percent {}: expected 0 to 100",
                self.min_share_percent
            )));
        }
        if self.salt.chars().count() > MAX_SALT_CHARS {
            return Err(ReviewError::Config(format!(
                "salt: at most {MAX_SALT_CHARS} characters"
            )));
        }
        Ok(())
    }

    /// How many of `n` candidate cases are drawn: `min(n, max(k, ⌈share·n⌉))`, in integers (a
    /// share of 10 % of 30 cases is 3, never 4 by a rounding error).
    pub fn sample_size_for(&self, n: usize) -> usize {
        let k = self.sample_size as usize;
        let share = (n as u128 * u128::from(self.min_share_percent)).div_ceil(100);
        let share = usize::try_from(share).unwrap_or(usize::MAX);
        n.min(k.max(share))
    }
}

/// A review period (评价周期): `[from, to)`, at microsecond precision (what both stores keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReviewPeriod {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl ReviewPeriod {
    /// `[from, to)` truncated to microseconds; `Period` when it is empty, inverted or longer
    /// than [`MAX_PERIOD_DAYS`].
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, ReviewError> {
        let (from, to) = (from.trunc_subsecs(6), to.trunc_subsecs(6));
        if from >= to {
            return Err(ReviewError::Period(format!(
                "from ({}) must lie before to ({})",
                stamp(from),
                stamp(to)
            )));
        }
        if to - from > Duration::days(MAX_PERIOD_DAYS) {
            return Err(ReviewError::Period(format!(
                "at most {MAX_PERIOD_DAYS} days, got {} days",
                (to - from).num_days()
            )));
        }
        Ok(Self { from, to })
    }

    /// Whether `t` lies in `[from, to)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    /// Whether the period is over at `now` (its end is not after `now`): only then is the set
    /// of its closed cases final.
    pub fn is_over(&self, now: DateTime<Utc>) -> bool {
        self.to <= now
    }

    /// The local calendar month `year-month` in `tz` (from its first local midnight to the next
    /// month's); `None` for a month that does not exist.
    pub fn local_month<Tz: TimeZone>(tz: &Tz, year: i32, month: u32) -> Option<Self> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Self::new(day_start(tz, first), day_start(tz, next)).ok()
    }

    /// The month before the local month of `now` (上月): the last whole month at `now`, what a
    /// monthly draw is for by default.
    pub fn month_before<Tz: TimeZone>(tz: &Tz, now: DateTime<Utc>) -> Self {
        let today = now.with_timezone(tz).date_naive();
        let (year, month) = if today.month() == 1 {
            (today.year() - 1, 12)
        } else {
            (today.year(), today.month() - 1)
        };
        Self::local_month(tz, year, month).unwrap_or_else(|| {
            // Only outside chrono's calendar; a day before `now` then.
            Self {
                from: now - Duration::days(1),
                to: now,
            }
        })
    }
}

/// Where local day `day` starts in `tz`: the earliest instant of a repeated midnight; past a
/// skipped midnight, the first quarter hour that exists.
fn day_start<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let mut t = midnight;
    for _ in 0..24 * 4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&midnight)
}

/// Fixed-width RFC 3339 UTC with microseconds: how an instant enters a seed.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The seed of one department's draw in one period (SHA-256 over length-prefixed fields, so no
/// two different inputs give the same bytes).
fn seed(salt: &str, period: &ReviewPeriod, department_id: i64) -> [u8; 32] {
    let (from, to, department) = (
        stamp(period.from),
        stamp(period.to),
        department_id.to_string(),
    );
    let mut h = Sha256::new();
    for field in [
        "cityops/review-sample/v1",
        salt,
        from.as_str(),
        to.as_str(),
        department.as_str(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// 抽样: the closed cases of `department_id` in `period` a reviewer gets, drawn from
/// `candidates` (case ids; order and repetitions do not matter). The same arguments always give
/// the same cases, in draw order (lowest rank first); [`ReviewConfig::sample_size_for`] of
/// them.
pub fn draw_sample(
    config: &ReviewConfig,
    period: &ReviewPeriod,
    department_id: i64,
    candidates: &[i64],
) -> Vec<i64> {
    let seed = seed(&config.salt, period, department_id);
    let mut ids = candidates.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut ranked: Vec<([u8; 32], i64)> = ids
        .into_iter()
        .map(|id| {
            let mut h = Sha256::new();
            h.update(seed);
            h.update(id.to_be_bytes());
            (h.finalize().into(), id)
        })
        .collect();
    ranked.sort_unstable();
    let n = config.sample_size_for(ranked.len());
    ranked.into_iter().take(n).map(|(_, id)| id).collect()
}

/// A review as the reviewer submits it: the sample, department and period are the store's to
/// find (the case's sample).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReview {
    pub case_id: i64,
    pub reviewer_id: i64,
    /// 1 (很不满意) to 5 (很满意).
    pub score: u8,
    /// 评价意见.
    pub comment: String,
    /// The row id of the photo (the store links it to the case).
    pub attachment_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Checks a score given as any integer: 1..=5.
pub fn check_score(score: i64) -> Result<u8, ReviewError> {
    match u8::try_from(score) {
        Ok(s) if (MIN_SCORE..=MAX_SCORE).contains(&s) => Ok(s),
        _ => Err(ReviewError::Score(score)),
    }
}

impl NewReview {
    /// The score is 1 to 5; the comment is not blank and at most [`limits::COMMENT`] long.
    pub fn validate(&self) -> Result<(), ReviewError> {
        check_score(i64::from(self.score))?;
        if self.comment.trim().is_empty() {
            return Err(ReviewError::EmptyComment);
        }
        limits::COMMENT.check(&self.comment)?;
        Ok(())
    }
}

/// A stored review (评价结果) of a sampled case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub case_id: i64,
    /// The department the case was sampled for (the one that handled it).
    pub department_id: i64,
    /// The period of the sample the review answers.
    pub period: ReviewPeriod,
    pub reviewer_id: i64,
    pub score: u8,
    pub comment: String,
    /// The row id of the photo, if one was given.
    pub attachment_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
    }

    fn period() -> ReviewPeriod {
        ReviewPeriod::new(at(2026, 2, 28, 16), at(2026, 3, 31, 16)).unwrap()
    }

    #[test]
    fn sizes_follow_the_rule_in_integers() {
        let c = ReviewConfig::default();
        assert_eq!(c.sample_size_for(0), 0);
        assert_eq!(c.sample_size_for(3), 3, "all of a small department");
        assert_eq!(c.sample_size_for(5), 5);
        assert_eq!(c.sample_size_for(30), 5);
        assert_eq!(c.sample_size_for(50), 5);
        assert_eq!(c.sample_size_for(51), 6, "10 % of 51 rounds up");
        // 0.1 · 30 is 3.0000000000000004 in floating point; the rule means 3.
        let c = ReviewConfig {
            sample_size: 1,
            ..ReviewConfig::default()
        };
        assert_eq!(c.sample_size_for(30), 3);
        assert_eq!(c.sample_size_for(1000), 100);
        let all = ReviewConfig {
            min_share_percent: 100,
            ..ReviewConfig::default()
        };
        assert_eq!(all.sample_size_for(77), 77);
    }

    #[test]
    fn configuration_is_checked() {
        assert!(ReviewConfig::default().validate().is_ok());
        for bad in [
            ReviewConfig {
                sample_size: 0,
                ..ReviewConfig::default()
            },
            ReviewConfig {
                sample_size: MAX_SAMPLE_SIZE + 1,
                ..ReviewConfig::default()
            },
            ReviewConfig {
                min_share_percent: 101,
                ..ReviewConfig::default()
            },
            ReviewConfig {
                salt: "盐".repeat(MAX_SALT_CHARS + 1),
                ..ReviewConfig::default()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(ReviewError::Config(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_seed_separates_its_fields() {
        let p = period();
        let c = |salt: &str| ReviewConfig {
            salt: salt.into(),
            ..ReviewConfig::default()
        };
        let ids: Vec<i64> = (1..=200).collect();
        let base = draw_sample(&c("惠州"), &p, 12, &ids);
        assert_eq!(base.len(), 20);
        assert_eq!(base, draw_sample(&c("惠州"), &p, 12, &ids));
        assert_ne!(base, draw_sample(&c("厦门"), &p, 12, &ids), "another salt");
        assert_ne!(
            base,
            draw_sample(&c("惠州"), &p, 13, &ids),
            "another department"
        );
        let later = ReviewPeriod::new(p.from, p.to + Duration::days(1)).unwrap();
        assert_ne!(
            base,
            draw_sample(&c("惠州"), &later, 12, &ids),
            "another period"
        );
        // Field boundaries count: salt "a" + department 12 ≠ salt "a1" + department 2.
        assert_ne!(seed("a", &p, 12), seed("a1", &p, 2));
    }

    #[test]
    fn periods_are_checked_and_months_are_local() {
        assert!(matches!(
            ReviewPeriod::new(at(2026, 3, 2, 0), at(2026, 3, 1, 0)),
            Err(ReviewError::Period(_))
        ));
        assert!(ReviewPeriod::new(at(2026, 3, 1, 0), at(2026, 3, 1, 0)).is_err());
        assert!(ReviewPeriod::new(at(2025, 1, 1, 0), at(2026, 1, 3, 0)).is_err());
        assert!(ReviewPeriod::new(at(2024, 1, 1, 0), at(2025, 1, 1, 0)).is_ok());
        let p = ReviewPeriod::new(
            at(2026, 3, 1, 0) + Duration::nanoseconds(1_234_567),
            at(2026, 4, 1, 0),
        )
        .unwrap();
        assert_eq!(p.from, at(2026, 3, 1, 0) + Duration::microseconds(1_234));
        let tz = chrono_tz::Asia::Shanghai;
        // March 2026 in Shanghai: 2026-02-28T16:00Z to 2026-03-31T16:00Z.
        assert_eq!(ReviewPeriod::local_month(&tz, 2026, 3), Some(period()));
        assert_eq!(ReviewPeriod::local_month(&tz, 2026, 13), None);
        // On 1 April 00:30 local, last month is March; in January, December.
        assert_eq!(
            ReviewPeriod::month_before(&tz, at(2026, 3, 31, 16) + Duration::minutes(30)),
            period()
        );
        let dec = ReviewPeriod::month_before(&tz, at(2026, 1, 15, 0));
        assert_eq!(dec, ReviewPeriod::local_month(&tz, 2025, 12).unwrap());
        assert!(dec.is_over(at(2026, 1, 15, 0)));
        assert!(period().contains(at(2026, 2, 28, 16)));
        assert!(!period().contains(at(2026, 3, 31, 16)));
    }

    #[test]
    fn reviews_are_validated() {
        let ok = NewReview {
            case_id: 1,
            reviewer_id: 2,
            score: 4,
            comment: "处置及时".into(),
            attachment_id: None,
            created_at: at(2026, 4, 2, 1),
        };
        assert_eq!(ok.validate(), Ok(()));
        for score in [0, 6] {
            assert_eq!(
                NewReview {
                    score,
                    ..ok.clone()
                }
                .validate(),
                Err(ReviewError::Score(i64::from(score)))
            );
        }
        assert_eq!(
            NewReview {
                comment: " \n".into(),
                ..ok.clone()
            }
            .validate(),
            Err(ReviewError::EmptyComment)
        );
        let long = NewReview {
            comment: "好".repeat(limits::COMMENT.max_chars + 1),
            ..ok
        };
        assert!(matches!(long.validate(), Err(ReviewError::TooLong(_))));
        assert_eq!(check_score(5), Ok(5));
        assert_eq!(check_score(-1), Err(ReviewError::Score(-1)));
        assert_eq!(check_score(261), Err(ReviewError::Score(261)));
    }
}
