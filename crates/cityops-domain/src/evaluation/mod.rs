//! 综合评价 (comprehensive evaluation): the counts and rates of STANDARDS.md §5.2 and the
//! composite values, grades and ranks of §5.3 for inspectors, intake operators, supervisors,
//! dispatchers, departments and regions.
//!
//! A period's figures cover the cases *reported* in it, as they stand at the evaluation instant
//! `as_of`. Every figure is a predicate over one case and one subject ([`flags`]); a tally counts
//! the cases for which it holds and a drill-down lists the same cases ([`matching`]), so a figure
//! always equals the length of its list. The definitions, with their formulas, are in
//! `docs/EVALUATION.md` (Chinese and English).
mod config;
mod index;
mod record;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use config::{BandDirection, CountBands, EvaluationConfig, GradeThresholds, Weights};
pub use index::{CityIndexConfig, CityIndexInput, CityIndexRow, city_index};
pub use record::{EvalCase, EvalRecord};

use crate::case::{CancelKind, CaseSource, CaseStatus};
use crate::error::DomainError;
use crate::region::RegionLevel;

/// Who is evaluated (评价对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 专业部门
    Departments,
    /// 区域 (grid, community, street, district)
    Regions,
    /// 监督员
    Inspectors,
    /// 受理员
    Operators,
    /// 值班长
    Supervisors,
    /// 派遣员
    Dispatchers,
}

/// A counted figure (计数指标) of a kind: its key, Chinese and English names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// A component of a composite value (综合指标分项): a rate of two figures (in percent; negative
/// components score 100 − rate), a count scored by bands, or an outside score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Component {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub measure: Measure,
}

/// How a component is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Measure {
    /// `numerator / denominator` in percent, figures by index; score = rate (or 100 − rate).
    Rate {
        numerator: usize,
        denominator: usize,
        negative: bool,
    },
    /// A figure's count scored by the kind's [`CountBands`].
    Count { figure: usize },
    /// A mean rating 1–5 of the figures' cases (citizens' ratings): score = mean × 20.
    Satisfaction { satisfied: usize, rated: usize },
    /// The third-party review's mean score 1–5 given from outside: score = mean × 20.
    Review,
}

const fn fig(key: &'static str, zh: &'static str, en: &'static str) -> Figure {
    Figure { key, zh, en }
}

const fn rate(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    numerator: usize,
    denominator: usize,
    negative: bool,
) -> Component {
    Component {
        key,
        zh,
        en,
        measure: Measure::Rate {
            numerator,
            denominator,
            negative,
        },
    }
}

const DEPARTMENT_FIGURES: &[Figure] = &[
    fig("filed", "立案数（派至本部门）", "Filed (dispatched here)"),
    fig("should_close", "应结案数", "Should close"),
    fig("closed", "结案数", "Closed"),
    fig("closed_on_time", "按期结案数", "Closed on time"),
    fig("closed_late", "超期结案数", "Closed late"),
    fig("handled", "处置数", "Handled"),
    fig("handled_on_time", "按期处置数", "Handled on time"),
    fig("overdue_open", "超期未处置数", "Overdue, not handled"),
    fig("reworked", "返工数", "Reworked"),
    fig("postponed", "延期数", "Postponed"),
    fig("suspended", "挂账数", "Suspended"),
    fig("rated", "评价数", "Rated by citizens"),
    fig("satisfied", "满意数", "Satisfied"),
];
const DEPARTMENT_COMPONENTS: &[Component] = &[
    Component {
        key: "filed_score",
        zh: "立案数分值",
        en: "Filed count score",
        measure: Measure::Count { figure: 0 },
    },
    rate("closure_rate", "结案率", "Closure rate", 2, 1, false),
    rate(
        "handled_on_time_rate",
        "按期处置率",
        "Handled on time rate",
        6,
        1,
        false,
    ),
    rate("rework_rate", "返工率", "Rework rate", 8, 1, true),
    Component {
        key: "satisfaction",
        zh: "公众满意度",
        en: "Citizen satisfaction",
        measure: Measure::Satisfaction {
            satisfied: 12,
            rated: 11,
        },
    },
    Component {
        key: "review",
        zh: "第三方评价",
        en: "Third-party review",
        measure: Measure::Review,
    },
];

const REGION_FIGURES: &[Figure] = &[
    fig("filed", "立案数", "Filed"),
    fig("suspended_filed", "挂账数", "Suspended"),
    fig("net_filed", "立案数（扣除挂账）", "Filed, less suspended"),
    fig(
        "public_verified",
        "监督举报核实数",
        "Public reports verified",
    ),
    fig("should_close", "应结案数", "Should close"),
    fig("closed", "结案数", "Closed"),
    fig("closed_on_time", "按期结案数", "Closed on time"),
    fig("overdue_open", "超期未处置数", "Overdue, not handled"),
    fig("reworked", "返工数", "Reworked"),
];
const REGION_COMPONENTS: &[Component] = &[
    rate(
        "public_report_rate",
        "监督举报率",
        "Public report rate",
        3,
        0,
        true,
    ),
    Component {
        key: "filed_score",
        zh: "立案数分值",
        en: "Filed count score",
        measure: Measure::Count { figure: 2 },
    },
    rate("closure_rate", "结案率", "Closure rate", 5, 4, false),
    rate(
        "closed_on_time_rate",
        "按期结案率",
        "Closed on time rate",
        6,
        4,
        false,
    ),
];

const INSPECTOR_FIGURES: &[Figure] = &[
    fig("reported", "上报数", "Reported"),
    fig("valid", "有效上报数", "Valid reports"),
    fig("missed", "漏报数", "Missed (public reports verified)"),
    fig("filed_in_grids", "责任网格立案数", "Filed in own grids"),
    fig("verify_tasks", "应核实数", "Verifications due"),
    fig("verified_on_time", "按时核实数", "Verified on time"),
    fig("check_tasks", "应核查数", "Checks due"),
    fig("checked_on_time", "按时核查数", "Checked on time"),
];
const INSPECTOR_COMPONENTS: &[Component] = &[
    rate("valid_rate", "有效上报率", "Valid report rate", 1, 0, false),
    rate("missed_rate", "漏报率", "Missed report rate", 2, 3, true),
    rate(
        "verified_on_time_rate",
        "按时核实率",
        "Verified on time rate",
        5,
        4,
        false,
    ),
    rate(
        "checked_on_time_rate",
        "按时核查率",
        "Checked on time rate",
        7,
        6,
        false,
    ),
];

const OPERATOR_FIGURES: &[Figure] = &[
    fig("accepted", "受理数", "Accepted"),
    fig("verify_sent", "发核实数", "Sent to verify"),
    fig(
        "verify_sent_on_time",
        "核实按时派发数",
        "Sent to verify on time",
    ),
    fig("check_sent", "发核查数", "Sent to check"),
    fig(
        "check_sent_on_time",
        "核查按时派发数",
        "Sent to check on time",
    ),
];
const OPERATOR_COMPONENTS: &[Component] = &[
    Component {
        key: "accepted_score",
        zh: "受理数分值",
        en: "Accepted count score",
        measure: Measure::Count { figure: 0 },
    },
    rate(
        "verify_sent_on_time_rate",
        "核实按时派发率",
        "Verify sent on time rate",
        2,
        1,
        false,
    ),
    rate(
        "check_sent_on_time_rate",
        "核查按时派发率",
        "Check sent on time rate",
        4,
        3,
        false,
    ),
];

const SUPERVISOR_FIGURES: &[Figure] = &[
    fig("filed", "立案数", "Filed"),
    fig("filed_on_time", "按时立案数", "Filed on time"),
    fig("cancelled", "作废数", "Cancelled after filing"),
    fig("accurate_filed", "准确立案数", "Accurately filed"),
    fig("closed", "结案数", "Closed"),
    fig("closed_in_limit", "按时结案数", "Closed in time"),
];
const SUPERVISOR_COMPONENTS: &[Component] = &[
    rate(
        "filed_on_time_rate",
        "按时立案率",
        "Filed on time rate",
        1,
        0,
        false,
    ),
    rate(
        "accurate_filed_rate",
        "准确立案率",
        "Accurate filing rate",
        3,
        0,
        false,
    ),
    rate(
        "closed_in_limit_rate",
        "按时结案率",
        "Closed in time rate",
        5,
        4,
        false,
    ),
];

const DISPATCHER_FIGURES: &[Figure] = &[
    fig("dispatched", "派遣数（应派遣数）", "Dispatched"),
    fig("dispatched_on_time", "按时派遣数", "Dispatched on time"),
    fig("reworked", "返工数", "Reworked"),
    fig("accurate", "准确派遣数", "Accurately dispatched"),
];
const DISPATCHER_COMPONENTS: &[Component] = &[
    Component {
        key: "dispatched_score",
        zh: "派遣数分值",
        en: "Dispatched count score",
        measure: Measure::Count { figure: 0 },
    },
    rate(
        "dispatched_on_time_rate",
        "按时派遣率",
        "Dispatched on time rate",
        1,
        0,
        false,
    ),
    rate(
        "accurate_rate",
        "准确派遣率",
        "Accurate dispatch rate",
        3,
        0,
        false,
    ),
];

/// The most figures any kind has.
pub const MAX_FIGURES: usize = 13;

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Departments,
        Kind::Regions,
        Kind::Inspectors,
        Kind::Operators,
        Kind::Supervisors,
        Kind::Dispatchers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Departments => "departments",
            Kind::Regions => "regions",
            Kind::Inspectors => "inspectors",
            Kind::Operators => "operators",
            Kind::Supervisors => "supervisors",
            Kind::Dispatchers => "dispatchers",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Kind::Departments => "专业部门",
            Kind::Regions => "区域",
            Kind::Inspectors => "监督员",
            Kind::Operators => "受理员",
            Kind::Supervisors => "值班长",
            Kind::Dispatchers => "派遣员",
        }
    }

    pub fn figures(self) -> &'static [Figure] {
        match self {
            Kind::Departments => DEPARTMENT_FIGURES,
            Kind::Regions => REGION_FIGURES,
            Kind::Inspectors => INSPECTOR_FIGURES,
            Kind::Operators => OPERATOR_FIGURES,
            Kind::Supervisors => SUPERVISOR_FIGURES,
            Kind::Dispatchers => DISPATCHER_FIGURES,
        }
    }

    pub fn components(self) -> &'static [Component] {
        match self {
            Kind::Departments => DEPARTMENT_COMPONENTS,
            Kind::Regions => REGION_COMPONENTS,
            Kind::Inspectors => INSPECTOR_COMPONENTS,
            Kind::Operators => OPERATOR_COMPONENTS,
            Kind::Supervisors => SUPERVISOR_COMPONENTS,
            Kind::Dispatchers => DISPATCHER_COMPONENTS,
        }
    }

    /// The index of a figure by key.
    pub fn figure(self, key: &str) -> Option<usize> {
        self.figures().iter().position(|f| f.key == key)
    }

    /// Whether the subjects are people (user ids), departments (ids) or regions (codes).
    pub fn is_people(self) -> bool {
        !matches!(self, Kind::Departments | Kind::Regions)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "evaluation kind",
                value: s.to_string(),
            })
    }
}

/// Who a row is about: a user or department id, or a region code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Subject {
    Id(i64),
    Code(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Id(i) => write!(f, "{i}"),
            Subject::Code(c) => f.write_str(c),
        }
    }
}

/// What a tally needs besides the cases.
#[derive(Debug, Clone)]
pub struct Env<'a> {
    /// The evaluation instant (Unix seconds): a deadline before it has passed.
    pub as_of: i64,
    /// The level of region rows.
    pub level: RegionLevel,
    /// The inspectors responsible for each grid (漏报 is counted against them).
    pub inspectors_of_grid: &'a HashMap<String, Vec<i64>>,
    /// Third-party review: per department, the number of reviews and their mean score 1–5.
    pub reviews: &'a HashMap<i64, (u64, f64)>,
    pub config: &'a EvaluationConfig,
}

/// 评价等级
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    E,
}

impl Grade {
    pub fn of(score: f64, t: &GradeThresholds) -> Grade {
        if score >= t.a {
            Grade::A
        } else if score >= t.b {
            Grade::B
        } else if score >= t.c {
            Grade::C
        } else if score >= t.d {
            Grade::D
        } else {
            Grade::E
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::E => "E",
        }
    }
}

/// One component's value and score in a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComponentValue {
    /// The rate in percent, the count, or the mean 1–5; `None` when its denominator is 0 (then it
    /// scores 100: nothing was due, nothing was missed).
    pub value: Option<f64>,
    /// 0–100.
    pub score: f64,
    /// The component's weight in percent.
    pub weight: f64,
}

/// One evaluated subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub subject: Subject,
    /// The counts in the order of [`Kind::figures`].
    pub counts: Vec<u64>,
    pub components: Vec<ComponentValue>,
    /// 综合指标值, 0–100, rounded to 2 decimals.
    pub score: f64,
    pub grade: Grade,
    /// 1-based; equal scores share a rank (1, 2, 2, 4).
    pub rank: u32,
}

#[inline]
fn due_passed(due: Option<i64>, as_of: i64) -> bool {
    due.is_some_and(|d| d < as_of)
}

/// 应结案/应处置: handled (the handling report stands), or open, not suspended, not handled and
/// past its handling deadline. Cancelled cases never count.
pub fn should_close(c: &EvalCase, as_of: i64) -> bool {
    if c.status == CaseStatus::Cancelled {
        return false;
    }
    c.rec.ha.is_some() || overdue_open(c, as_of)
}

/// 超期未处置: open, not suspended, not handled, past its handling deadline.
pub fn overdue_open(c: &EvalCase, as_of: i64) -> bool {
    c.status.is_open()
        && c.status != CaseStatus::Suspended
        && c.rec.ha.is_none()
        && due_passed(c.rec.dl, as_of)
}

fn handled(c: &EvalCase) -> bool {
    c.status != CaseStatus::Cancelled && c.rec.ha.is_some()
}

fn handled_on_time(c: &EvalCase) -> bool {
    handled(c) && c.rec.ho == Some(true)
}

fn closed(c: &EvalCase) -> bool {
    c.status == CaseStatus::Closed
}

fn filed(c: &EvalCase) -> bool {
    c.rec.fa.is_some()
}

fn in_time(done: Option<i64>, due: Option<i64>) -> bool {
    match (done, due) {
        (Some(d), Some(due)) => d <= due,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

fn task_due(done: Option<i64>, due: Option<i64>, as_of: i64) -> bool {
    done.is_some() || due_passed(due, as_of)
}

/// The subjects a case can count for in a kind (each at most once).
pub fn subjects_of(kind: Kind, c: &EvalCase, env: &Env<'_>, out: &mut Vec<Subject>) {
    out.clear();
    let push_id = |id: Option<i64>, out: &mut Vec<Subject>| {
        if let Some(id) = id {
            let s = Subject::Id(id);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    };
    let r = &c.rec;
    match kind {
        Kind::Departments => {
            if r.da.is_some() {
                push_id(c.department_id, out);
            }
        }
        Kind::Regions => {
            if let Some(code) = c.region(env.level) {
                out.push(Subject::Code(code.to_string()));
            }
        }
        Kind::Inspectors => {
            if c.source == CaseSource::Inspector {
                push_id(c.reporter_id, out);
            }
            push_id(r.vb, out);
            push_id(r.cb, out);
            if let Some(ids) = c
                .grid_code
                .as_ref()
                .and_then(|g| env.inspectors_of_grid.get(g))
            {
                for id in ids {
                    push_id(Some(*id), out);
                }
            }
        }
        Kind::Operators => {
            push_id(r.acc, out);
            push_id(r.vsb, out);
            push_id(r.csb, out);
        }
        Kind::Supervisors => {
            push_id(r.fb, out);
            push_id(r.xb, out);
        }
        Kind::Dispatchers => push_id(r.db, out),
    }
}

/// Which of the kind's figures hold for case `c` and subject `s` (in [`Kind::figures`] order).
pub fn flags(kind: Kind, c: &EvalCase, s: &Subject, env: &Env<'_>) -> [bool; MAX_FIGURES] {
    let mut f = [false; MAX_FIGURES];
    let r = &c.rec;
    let as_of = env.as_of;
    let id = match s {
        Subject::Id(i) => Some(*i),
        Subject::Code(_) => None,
    };
    let is = |x: Option<i64>| x.is_some() && x == id;
    match kind {
        Kind::Departments => {
            if r.da.is_none() || c.department_id != id {
                return f;
            }
            let sc = should_close(c, as_of);
            f[0] = true;
            f[1] = sc;
            f[2] = closed(c);
            f[3] = closed(c) && r.ho == Some(true);
            f[4] = closed(c) && r.ho != Some(true);
            f[5] = handled(c);
            f[6] = handled_on_time(c);
            f[7] = overdue_open(c, as_of);
            f[8] = r.rw > 0;
            f[9] = r.pp > 0;
            f[10] = r.sn > 0;
            f[11] = r.rt.is_some();
            f[12] = r.rt.is_some_and(|x| x >= env.config.satisfied_from);
        }
        Kind::Regions => {
            let Subject::Code(code) = s else { return f };
            if c.region(env.level) != Some(code.as_str()) {
                return f;
            }
            let fl = filed(c);
            f[0] = fl;
            f[1] = fl && r.sn > 0;
            f[2] = fl && r.sn == 0;
            f[3] = fl && c.is_public() && r.vf == Some(true);
            f[4] = should_close(c, as_of);
            f[5] = closed(c);
            f[6] = closed(c) && r.ho == Some(true);
            f[7] = overdue_open(c, as_of);
            f[8] = r.rw > 0;
        }
        Kind::Inspectors => {
            let Some(p) = id else { return f };
            let reported = c.source == CaseSource::Inspector && c.reporter_id == Some(p);
            let in_grids = c
                .grid_code
                .as_ref()
                .and_then(|g| env.inspectors_of_grid.get(g))
                .is_some_and(|ids| ids.contains(&p));
            f[0] = reported;
            f[1] = reported && filed(c);
            f[2] = in_grids && filed(c) && c.is_public() && r.vf == Some(true);
            f[3] = in_grids && filed(c);
            f[4] = is(r.vb) && task_due(r.va, r.vd, as_of);
            f[5] = is(r.vb) && in_time(r.va, r.vd);
            f[6] = is(r.cb) && task_due(r.ca, r.cd, as_of);
            f[7] = is(r.cb) && in_time(r.ca, r.cd);
        }
        Kind::Operators => {
            let cfg = env.config;
            f[0] = is(r.acc);
            f[1] = is(r.vsb);
            f[2] = is(r.vsb) && r.vss.is_some_and(|x| x <= cfg.send_verify_minutes * 60);
            f[3] = is(r.csb);
            f[4] = is(r.csb) && r.css.is_some_and(|x| x <= cfg.send_check_minutes * 60);
        }
        Kind::Supervisors => {
            let filer = is(r.fb) && filed(c);
            let cancelled = c.status == CaseStatus::Cancelled && r.k == Some(CancelKind::Cancel);
            f[0] = filer;
            f[1] = filer && r.fo == Some(true);
            f[2] = filer && cancelled;
            f[3] = filer && !cancelled;
            f[4] = is(r.xb) && closed(c);
            f[5] = is(r.xb) && closed(c) && r.xo == Some(true);
        }
        Kind::Dispatchers => {
            let d = is(r.db) && r.da.is_some();
            f[0] = d;
            f[1] = d && r.dok == Some(true);
            f[2] = d && r.rw > 0;
            f[3] = d && r.rw == 0;
        }
    }
    f
}

/// Counts every figure of every subject. Subjects in `include` get a row even without cases.
pub fn tally(
    kind: Kind,
    cases: &[EvalCase],
    env: &Env<'_>,
    include: &[Subject],
) -> BTreeMap<Subject, Vec<u64>> {
    let n = kind.figures().len();
    let mut out: BTreeMap<Subject, Vec<u64>> =
        include.iter().map(|s| (s.clone(), vec![0; n])).collect();
    let mut subjects = Vec::new();
    for c in cases {
        subjects_of(kind, c, env, &mut subjects);
        for s in subjects.drain(..) {
            let f = flags(kind, c, &s, env);
            let counts = out.entry(s).or_insert_with(|| vec![0; n]);
            for (i, count) in counts.iter_mut().enumerate() {
                *count += u64::from(f[i]);
            }
        }
    }
    out
}

/// The ids of the cases behind one figure of one subject (the drill-down), in the given order.
pub fn matching(
    kind: Kind,
    figure: usize,
    subject: &Subject,
    cases: &[EvalCase],
    env: &Env<'_>,
) -> Vec<i64> {
    let mut subjects = Vec::new();
    cases
        .iter()
        .filter(|c| {
            subjects_of(kind, c, env, &mut subjects);
            subjects.contains(subject) && flags(kind, c, subject, env)[figure]
        })
        .map(|c| c.id)
        .collect()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn count_bands<'a>(kind: Kind, env: &Env<'a>) -> &'a CountBands {
    let cfg = env.config;
    match kind {
        Kind::Departments => &cfg.department_count_bands,
        Kind::Operators => &cfg.operator_count_bands,
        Kind::Dispatchers => &cfg.dispatcher_count_bands,
        Kind::Regions => match env.level {
            RegionLevel::Grid => &cfg.grid_count_bands,
            RegionLevel::Community => &cfg.community_count_bands,
            RegionLevel::Street => &cfg.street_count_bands,
            _ => &cfg.district_count_bands,
        },
        Kind::Inspectors | Kind::Supervisors => &cfg.department_count_bands,
    }
}

/// The components, composite value and grade of one subject's counts.
pub fn score(
    kind: Kind,
    subject: &Subject,
    counts: &[u64],
    env: &Env<'_>,
) -> (Vec<ComponentValue>, f64, Grade) {
    let weights = env.config.weights(kind);
    let mut total = 0.0;
    let comps = kind
        .components()
        .iter()
        .enumerate()
        .map(|(i, comp)| {
            let weight = weights.get(i).copied().unwrap_or(0.0);
            let (value, score) = match comp.measure {
                Measure::Rate {
                    numerator,
                    denominator,
                    negative,
                } => {
                    let den = counts[denominator];
                    if den == 0 {
                        (None, 100.0)
                    } else {
                        let r = counts[numerator] as f64 * 100.0 / den as f64;
                        let s = if negative { 100.0 - r } else { r };
                        (Some(round2(r)), s.clamp(0.0, 100.0))
                    }
                }
                Measure::Count { figure } => {
                    let n = counts[figure];
                    (Some(n as f64), count_bands(kind, env).score(n))
                }
                Measure::Satisfaction { satisfied, rated } => {
                    let den = counts[rated];
                    if den == 0 {
                        (None, 100.0)
                    } else {
                        let r = counts[satisfied] as f64 * 100.0 / den as f64;
                        (Some(round2(r)), r)
                    }
                }
                Measure::Review => match (subject, kind) {
                    (Subject::Id(d), Kind::Departments) => match env.reviews.get(d) {
                        Some((n, mean)) if *n > 0 => (Some(round2(*mean)), mean * 20.0),
                        _ => (None, 100.0),
                    },
                    _ => (None, 100.0),
                },
            };
            total += score * weight / 100.0;
            ComponentValue {
                value,
                score: round2(score),
                weight,
            }
        })
        .collect();
    let total = round2(total);
    (comps, total, Grade::of(total, &env.config.grades))
}

/// Tallies, scores, grades and ranks a kind's subjects.
pub fn evaluate(kind: Kind, cases: &[EvalCase], env: &Env<'_>, include: &[Subject]) -> Vec<Row> {
    let mut rows: Vec<Row> = tally(kind, cases, env, include)
        .into_iter()
        .map(|(subject, counts)| {
            let (components, score, grade) = score(kind, &subject, &counts, env);
            Row {
                subject,
                counts,
                components,
                score,
                grade,
                rank: 0,
            }
        })
        .collect();
    rank(&mut rows);
    rows
}

/// Sorts by score (highest first, ties by subject) and numbers the ranks, equal scores sharing
/// one (1, 2, 2, 4).
pub fn rank(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.subject.cmp(&b.subject))
    });
    let mut prev: Option<(f64, u32)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        let rank = match prev {
            Some((s, r)) if s == row.score => r,
            _ => i as u32 + 1,
        };
        row.rank = rank;
        prev = Some((row.score, rank));
    }
}

#[cfg(test)]
mod tests;
