//! 一码管全域 (one code for every management object): Huizhou's practice of coding the fixed
//! management objects of the city — street-front shops, residential compounds, commercial
//! complexes, schools, construction sites … — and managing each through its code.
//!
//! - [`kind`]: the kinds of management object (管理对象类型) with stable codes.
//! - [`code`]: the permanent object code (赋码) with its check digit.
//! - [`object`]: the object record (管理对象), its responsible party (责任人) and its public card.
//! - [`geometry`]: the responsibility zone (门前三包责任区) and the default frontage zone derived
//!   from the nearest street, on a small local metric projection.
//! - [`checklist`]: the checklists (码上办管理清单) as data: categories and items per kind.
//! - [`check`]: self-checks (自查) and inspections (巡查), validated against the checklist, and
//!   the scan-position check.
//! - [`compare`](mod@compare): 双保险 — each inspection compared with the latest self-check before it, and a
//!   per-object credibility score.
//! - [`rectification`]: 三教而罚 — the rectification ladder (教育提醒 → 责令整改 → 警告 → 移交执法)
//!   on the working calendar.
//! - [`import`]: the CSV and GeoJSON import files, every error naming its line or feature.
//! - [`stats`]: problems closed at each stage per street and the 小事不出责任区 rate.
//!
//! Pure like the rest of the domain: no I/O, every "now" is an argument. The demo checklist set
//! (`data/checklists/huizhou_demo.json`) is embedded at compile time; its completion beyond what
//! Huizhou published is illustrative (see [`checklist`]).
pub mod check;
pub mod checklist;
pub mod code;
pub mod compare;
pub mod geometry;
pub mod import;
pub mod kind;
pub mod object;
pub mod rectification;
pub mod stats;

use std::fmt::Write as _;

pub use check::{
    Check, CheckIssue, CheckKind, CheckResult, PositionCheck, PositionConfig, check_position,
    may_check,
};
pub use checklist::{
    ChecklistCategory, ChecklistItem, Checklists, DEMO_CATEGORIES, DEMO_CHECKLISTS_JSON,
    DEMO_ITEMS, Evidence,
};
pub use code::{ObjectCode, check_digit};
pub use compare::{
    Comparison, DEFAULT_CREDIBILITY_WINDOW, Discrepancy, DiscrepancyKind, compare, credibility,
    latest_self_check_before,
};
pub use geometry::{
    Frontage, FrontageConfig, LocalFrame, ResponsibilityZone, distance_to_polyline_m,
    frontage_zone, nearest_street,
};
pub use import::{
    MAX_IMPORT_OBJECTS, OBJECT_CSV_COLUMNS, ObjectDraft, parse_objects_csv, parse_objects_geojson,
};
pub use kind::ObjectKind;
pub use object::{ManagedObject, ObjectRegions, PublicCard, PublicParty, ResponsibleParty};
pub use rectification::{
    LadderConfig, NextStep, Notice, RectAction, RectStage, Rectification, StageLimit,
    open_for_failures,
};
pub use stats::{StageCounts, StageStats, stage_statistics};

/// Why a management object, a checklist, a check or a rectification step is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectError {
    /// A malformed object code (赋码).
    #[error("invalid object code {code:?}: {why}")]
    InvalidCode { code: String, why: String },
    /// A management object whose fields break a rule.
    #[error("invalid management object: {0}")]
    InvalidObject(String),
    /// A text longer than its field allows.
    #[error(transparent)]
    TooLong(#[from] crate::limits::TooLong),
    /// A responsibility-zone polygon that cannot be used.
    #[error("invalid responsibility zone: {0}")]
    InvalidZone(String),
    /// No default frontage zone can be derived (no street, too far from it, on its line).
    #[error("cannot derive the frontage zone: {0}")]
    NoFrontage(String),
    /// The checklist data is malformed; the message names the category or item.
    #[error("checklist data: {0}")]
    Checklist(String),
    /// A self-check or inspection that does not fit the object's checklist.
    #[error("invalid check: {}", join_issues(.0))]
    InvalidCheck(Vec<CheckIssue>),
    /// Two checks that cannot be compared (different objects, wrong kinds).
    #[error("cannot compare: {0}")]
    Incomparable(String),
    /// A rectification step that is not possible now.
    #[error("{action} is not possible at stage {stage}: {why}")]
    Rectification {
        action: RectAction,
        stage: RectStage,
        why: String,
    },
    /// A rectification-ladder configuration that breaks a rule.
    #[error("invalid rectification ladder: {0}")]
    InvalidLadder(String),
}

fn join_issues(issues: &[CheckIssue]) -> String {
    let mut s = String::new();
    for (i, issue) in issues.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{issue}");
    }
    s
}
