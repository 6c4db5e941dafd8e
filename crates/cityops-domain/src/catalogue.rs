//! The category catalogue of GB/T 47678.5-2026 (管理部件和事项): 153 component (部件) and 250
//! matter (事项) subclasses, each with a 5-digit code (2-digit class + 3-digit subclass), and the
//! city's filing standard (立案、处置和结案标准): per subclass one or more filing conditions, each with
//! a handling time limit and a closure condition.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// 部件 (component) or 事项 (matter). The same 5-digit code exists in both kinds, so a category is
/// identified by (kind, code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    /// 管理部件
    Component,
    /// 管理事项
    Matter,
}

impl CategoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CategoryKind::Component => "component",
            CategoryKind::Matter => "matter",
        }
    }
}

impl fmt::Display for CategoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CategoryKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "component" => Ok(CategoryKind::Component),
            "matter" => Ok(CategoryKind::Matter),
            _ => Err(DomainError::Unknown {
                what: "category kind",
                value: s.to_string(),
            }),
        }
    }
}

/// Validates a 5-digit GB/T 47678.5-2026 category code.
pub fn parse_category_code(code: &str) -> Result<&str, DomainError> {
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(DomainError::InvalidCategoryCode(code.to_string()))
    }
}

/// One subclass (小类) of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub kind: CategoryKind,
    /// 5 digits: class (大类) + subclass (小类).
    pub code: String,
    pub class_code: String,
    pub class_name: String,
    pub name: String,
    /// The GB/T 30428.2-2013 code (4 digits) where known.
    pub old_code: Option<String>,
}

/// The unit a time limit is counted in (STANDARDS.md §3.7, §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// 紧急工作时: natural hours, counted continuously.
    UrgentHour,
    /// 工作时: hours of the working calendar.
    WorkHour,
    /// 工作日: days of the working calendar.
    WorkDay,
    /// 自然日 (also 紧急工作日): calendar days, counted continuously.
    NaturalDay,
}

impl LimitUnit {
    pub const ALL: [LimitUnit; 4] = [
        LimitUnit::UrgentHour,
        LimitUnit::WorkHour,
        LimitUnit::WorkDay,
        LimitUnit::NaturalDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LimitUnit::UrgentHour => "urgent_hour",
            LimitUnit::WorkHour => "work_hour",
            LimitUnit::WorkDay => "work_day",
            LimitUnit::NaturalDay => "natural_day",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            LimitUnit::UrgentHour => "紧急工作时",
            LimitUnit::WorkHour => "工作时",
            LimitUnit::WorkDay => "工作日",
            LimitUnit::NaturalDay => "自然日",
        }
    }
}

impl FromStr for LimitUnit {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LimitUnit::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "time limit unit",
                value: s.to_string(),
            })
    }
}

/// A time limit: a value and its unit, e.g. 4 工作时.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub value: u32,
    pub unit: LimitUnit,
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.value, self.unit.name_zh())
    }
}

/// One filing condition (立案条件) of a category with its handling limit (处置时限) and closure
/// condition (结案条件).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingStandard {
    pub kind: CategoryKind,
    /// GB/T 47678.5-2026 code, or a local extension code.
    pub code: String,
    /// Position of this condition within its category (0-based), stable across imports.
    pub seq: u32,
    pub filing_condition: String,
    pub limit: TimeLimit,
    /// The limit as the source wrote it, e.g. "2紧急工作时".
    pub limit_text: String,
    pub closure_condition: String,
    /// GB/T 30428.2-2013 code of the source table.
    pub old_code: Option<String>,
    /// Where the standard came from, e.g. "yuncheng" or "default".
    pub source: String,
}
