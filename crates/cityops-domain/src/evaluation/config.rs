//! What a city configures of the evaluation: weights, score bands of the count indicators, grade
//! thresholds and the intake send limits (STANDARDS.md §5.3; defaults from there).
use serde::{Deserialize, Serialize};

/// Which way a count indicator scores: fewer is better (a department's or a grid's case load) or
/// more is better (an operator's or a dispatcher's throughput).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandDirection {
    /// The first step with `count <= bound` scores.
    AtMost,
    /// The first step with `count >= bound` scores.
    AtLeast,
}

/// A count indicator's score (计数类指标分值): steps tried in order, `otherwise` when none fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountBands {
    pub direction: BandDirection,
    /// `(bound, score)` pairs.
    pub steps: Vec<(u64, f64)>,
    pub otherwise: f64,
}

impl CountBands {
    fn at_most(steps: &[(u64, f64)]) -> Self {
        CountBands {
            direction: BandDirection::AtMost,
            steps: steps.to_vec(),
            otherwise: 0.0,
        }
    }
    fn at_least(steps: &[(u64, f64)]) -> Self {
        CountBands {
            direction: BandDirection::AtLeast,
            steps: steps.to_vec(),
            otherwise: 0.0,
        }
    }

    /// The score of a count.
    pub fn score(&self, count: u64) -> f64 {
        self.steps
            .iter()
            .find(|(bound, _)| match self.direction {
                BandDirection::AtMost => count <= *bound,
                BandDirection::AtLeast => count >= *bound,
            })
            .map_or(self.otherwise, |(_, s)| *s)
    }
}

/// The grade thresholds (评价等级): A ≥ a, B ≥ b, C ≥ c, D ≥ d, else E.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradeThresholds {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

impl Default for GradeThresholds {
    fn default() -> Self {
        GradeThresholds {
            a: 90.0,
            b: 75.0,
            c: 60.0,
            d: 40.0,
        }
    }
}

/// Weights of a composite value in percent, in the order of the kind's components
/// ([`super::Kind::components`]); they must sum to 100.
pub type Weights = Vec<f64>;

/// The whole evaluation configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaluationConfig {
    /// 监督员: valid-report rate, missed-report rate (negative), verify on time, check on time.
    pub inspector_weights: Weights,
    /// 受理员: accepted count, verify sent on time, check sent on time.
    pub operator_weights: Weights,
    /// 值班长: filed on time, accurate filing, closed on time.
    pub supervisor_weights: Weights,
    /// 派遣员: dispatched count, dispatched on time, accurate dispatch.
    pub dispatcher_weights: Weights,
    /// 专业部门: filed count, closure rate, handled on time, rework rate (negative), citizen
    /// satisfaction, third-party review. The last two default to 0 (the standard's formula).
    pub department_weights: Weights,
    /// 区域: public-report rate (negative), filed count, closure rate, closed on time.
    pub region_weights: Weights,
    /// 受理数分值 (≥2001→100 … ≤100→0).
    pub operator_count_bands: CountBands,
    /// 派遣数分值: the standard gives no table; the operators' table by default (🟡).
    pub dispatcher_count_bands: CountBands,
    /// 专业部门立案数分值 (≤50→100 … >1000→0).
    pub department_count_bands: CountBands,
    /// 区域立案数分值 per level: grid (0→100, 1–2→90 … ≥9→0) as the standard gives it; the
    /// community, street and district tables are not in the standard (🟡) and default to the grid
    /// table scaled by 10, 50 and 500.
    pub grid_count_bands: CountBands,
    pub community_count_bands: CountBands,
    pub street_count_bands: CountBands,
    pub district_count_bands: CountBands,
    pub grades: GradeThresholds,
    /// 核实按时派发: 发核实 within this many working minutes of the report's arrival (eGova: 30).
    pub send_verify_minutes: i64,
    /// 核查按时派发: 发核查 within this many working minutes of the handling report (eGova: 30).
    pub send_check_minutes: i64,
    /// A rating at or above this counts as satisfied (满意).
    pub satisfied_from: u8,
}

fn grid_scaled(k: u64) -> CountBands {
    CountBands::at_most(&[
        (0, 100.0),
        (2 * k, 90.0),
        (4 * k, 75.0),
        (6 * k, 60.0),
        (8 * k, 40.0),
    ])
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        let operator = CountBands::at_least(&[
            (2001, 100.0),
            (1201, 90.0),
            (501, 75.0),
            (301, 60.0),
            (101, 40.0),
        ]);
        EvaluationConfig {
            inspector_weights: vec![40.0, 20.0, 20.0, 20.0],
            operator_weights: vec![25.0, 40.0, 35.0],
            supervisor_weights: vec![25.0, 40.0, 35.0],
            dispatcher_weights: vec![20.0, 40.0, 40.0],
            department_weights: vec![10.0, 30.0, 30.0, 30.0, 0.0, 0.0],
            region_weights: vec![10.0, 20.0, 30.0, 40.0],
            operator_count_bands: operator.clone(),
            dispatcher_count_bands: operator,
            department_count_bands: CountBands::at_most(&[
                (50, 100.0),
                (100, 90.0),
                (200, 75.0),
                (500, 60.0),
                (1000, 40.0),
            ]),
            grid_count_bands: grid_scaled(1),
            community_count_bands: grid_scaled(10),
            street_count_bands: grid_scaled(50),
            district_count_bands: grid_scaled(500),
            grades: GradeThresholds::default(),
            send_verify_minutes: 30,
            send_check_minutes: 30,
            satisfied_from: 4,
        }
    }
}

impl EvaluationConfig {
    /// Checks that every kind's weights have one entry per component and sum to 100 %.
    pub fn validate(&self) -> Result<(), String> {
        for kind in super::Kind::ALL {
            let w = self.weights(*kind);
            let n = kind.components().len();
            if w.len() != n {
                return Err(format!(
                    "{} weights: {} given, {n} components",
                    kind.as_str(),
                    w.len()
                ));
            }
            if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(format!("{} weights must be ≥ 0", kind.as_str()));
            }
            let sum: f64 = w.iter().sum();
            if (sum - 100.0).abs() > 1e-6 {
                return Err(format!("{} weights sum to {sum}, not 100", kind.as_str()));
            }
        }
        let g = &self.grades;
        if !(g.a >= g.b && g.b >= g.c && g.c >= g.d) {
            return Err("grade thresholds must fall from A to D".into());
        }
        Ok(())
    }

    /// The weights of a kind's composite value.
    pub fn weights(&self, kind: super::Kind) -> &[f64] {
        use super::Kind as K;
        match kind {
            K::Inspectors => &self.inspector_weights,
            K::Operators => &self.operator_weights,
            K::Supervisors => &self.supervisor_weights,
            K::Dispatchers => &self.dispatcher_weights,
            K::Departments => &self.department_weights,
            K::Regions => &self.region_weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_standards_tables() {
        let c = EvaluationConfig::default();
        c.validate().unwrap();
        let d = &c.department_count_bands;
        assert_eq!(
            [0, 50, 51, 100, 101, 200, 201, 500, 501, 1000, 1001].map(|n| d.score(n)),
            [
                100.0, 100.0, 90.0, 90.0, 75.0, 75.0, 60.0, 60.0, 40.0, 40.0, 0.0
            ]
        );
        let o = &c.operator_count_bands;
        assert_eq!(
            [2001, 2000, 1201, 1200, 501, 500, 301, 300, 101, 100, 0].map(|n| o.score(n)),
            [
                100.0, 90.0, 90.0, 75.0, 75.0, 60.0, 60.0, 40.0, 40.0, 0.0, 0.0
            ]
        );
        let g = &c.grid_count_bands;
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(|n| g.score(n)),
            [100.0, 90.0, 90.0, 75.0, 75.0, 60.0, 60.0, 40.0, 40.0, 0.0]
        );
    }

    #[test]
    fn weights_must_sum_to_100() {
        let mut c = EvaluationConfig {
            region_weights: vec![10.0, 20.0, 30.0, 10.0],
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().contains("regions"));
        c.region_weights = vec![10.0, 20.0, 30.0, 40.0];
        c.operator_weights = vec![50.0, 50.0];
        assert!(c.validate().is_err());
    }
}
