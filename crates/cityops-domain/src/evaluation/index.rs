//! 城市管理指数 (city management index): one 0–100 number per district and period from weighted
//! indicators — closure, handling on time, rework, overdue cases per km², citizen satisfaction and
//! the third-party review.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EvalCase, overdue_open, should_close};
use crate::case::CaseStatus;

/// Weights (percent, summing to 100) and the overdue density that scores 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CityIndexConfig {
    pub closure: f64,
    pub on_time: f64,
    pub rework: f64,
    pub overdue_density: f64,
    pub satisfaction: f64,
    pub review: f64,
    /// Overdue open cases per km² at which the density indicator reaches 0 (linear from 100 at 0).
    pub overdue_per_km2_zero: f64,
    /// A rating at or above this counts as satisfied.
    pub satisfied_from: u8,
}

impl Default for CityIndexConfig {
    fn default() -> Self {
        CityIndexConfig {
            closure: 25.0,
            on_time: 25.0,
            rework: 15.0,
            overdue_density: 15.0,
            satisfaction: 10.0,
            review: 10.0,
            overdue_per_km2_zero: 1.0,
            satisfied_from: 4,
        }
    }
}

impl CityIndexConfig {
    pub fn validate(&self) -> Result<(), String> {
        let w = [
            self.closure,
            self.on_time,
            self.rework,
            self.overdue_density,
            self.satisfaction,
            self.review,
        ];
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err("city index weights must be ≥ 0".into());
        }
        let sum: f64 = w.iter().sum();
        if (sum - 100.0).abs() > 1e-6 {
            return Err(format!("city index weights sum to {sum}, not 100"));
        }
        if self.overdue_per_km2_zero <= 0.0 {
            return Err("overdue_per_km2_zero must be > 0".into());
        }
        Ok(())
    }
}

/// A district to score: its code, area and the third-party review's mean score (1–5) of the
/// departments working there, if any review was made.
#[derive(Debug, Clone, PartialEq)]
pub struct CityIndexInput {
    pub district_code: String,
    pub area_km2: f64,
    pub review_mean: Option<f64>,
}

/// One district's index with its indicators (each 0–100) and raw counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CityIndexRow {
    pub district_code: String,
    pub should_close: u64,
    pub closed: u64,
    pub handled_on_time: u64,
    pub reworked: u64,
    pub overdue_open: u64,
    pub rated: u64,
    pub satisfied: u64,
    pub closure: f64,
    pub on_time: f64,
    pub rework: f64,
    pub overdue_density: f64,
    pub satisfaction: f64,
    pub review: f64,
    pub index: f64,
    pub rank: u32,
}

fn pct(n: u64, d: u64) -> f64 {
    if d == 0 {
        100.0
    } else {
        n as f64 * 100.0 / d as f64
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The index of every district in `districts` over the cases of a period, ranked.
pub fn city_index(
    cases: &[EvalCase],
    districts: &[CityIndexInput],
    as_of: i64,
    cfg: &CityIndexConfig,
) -> Vec<CityIndexRow> {
    #[derive(Default)]
    struct Acc {
        should_close: u64,
        closed: u64,
        on_time: u64,
        reworked: u64,
        overdue: u64,
        rated: u64,
        satisfied: u64,
    }
    let mut acc: BTreeMap<&str, Acc> = districts
        .iter()
        .map(|d| (d.district_code.as_str(), Acc::default()))
        .collect();
    for c in cases {
        let Some(a) = c.district_code.as_deref().and_then(|d| acc.get_mut(d)) else {
            continue;
        };
        let sc = should_close(c, as_of);
        a.should_close += u64::from(sc);
        a.closed += u64::from(c.status == CaseStatus::Closed);
        a.on_time += u64::from(
            c.status != CaseStatus::Cancelled && c.rec.ha.is_some() && c.rec.ho == Some(true),
        );
        a.reworked += u64::from(c.rec.da.is_some() && c.rec.rw > 0);
        a.overdue += u64::from(overdue_open(c, as_of));
        if let Some(r) = c.rec.rt {
            a.rated += 1;
            a.satisfied += u64::from(r >= cfg.satisfied_from);
        }
    }
    let mut rows: Vec<CityIndexRow> = districts
        .iter()
        .map(|d| {
            let a = &acc[d.district_code.as_str()];
            let closure = pct(a.closed, a.should_close).min(100.0);
            let on_time = pct(a.on_time, a.should_close).min(100.0);
            let rework = if a.should_close == 0 {
                100.0
            } else {
                (100.0 - pct(a.reworked, a.should_close)).max(0.0)
            };
            let density = if d.area_km2 > 0.0 {
                a.overdue as f64 / d.area_km2
            } else {
                0.0
            };
            let overdue_density = (100.0 * (1.0 - density / cfg.overdue_per_km2_zero)).max(0.0);
            let satisfaction = pct(a.satisfied, a.rated);
            let review = d
                .review_mean
                .map_or(100.0, |m| (m * 20.0).clamp(0.0, 100.0));
            let index = (closure * cfg.closure
                + on_time * cfg.on_time
                + rework * cfg.rework
                + overdue_density * cfg.overdue_density
                + satisfaction * cfg.satisfaction
                + review * cfg.review)
                / 100.0;
            CityIndexRow {
                district_code: d.district_code.clone(),
                should_close: a.should_close,
                closed: a.closed,
                handled_on_time: a.on_time,
                reworked: a.reworked,
                overdue_open: a.overdue,
                rated: a.rated,
                satisfied: a.satisfied,
                closure: round2(closure),
                on_time: round2(on_time),
                rework: round2(rework),
                overdue_density: round2(overdue_density),
                satisfaction: round2(satisfaction),
                review: round2(review),
                index: round2(index),
                rank: 0,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.index
            .total_cmp(&a.index)
            .then_with(|| a.district_code.cmp(&b.district_code))
    });
    let mut prev: Option<(f64, u32)> = None;
    for (i, r) in rows.iter_mut().enumerate() {
        let rank = match prev {
            Some((s, k)) if s == r.index => k,
            _ => i as u32 + 1,
        };
        r.rank = rank;
        prev = Some((r.index, rank));
    }
    rows
}
