//! Components (部件): the city's fixed assets, each with the 17-digit management component id of
//! GB/T 47678.5-2026 (6-digit division + 2-digit class + 3-digit subclass + 6-digit sequence).
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// 管理部件标识码 (17 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ComponentId(String);

impl ComponentId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(DomainError::InvalidComponentId(s.to_string()))
        }
    }

    /// Builds an id from a 6-digit division code, a 5-digit category code and a sequence number.
    pub fn new(division: &str, category_code: &str, seq: u32) -> Result<Self, DomainError> {
        if seq == 0 || seq > 999_999 {
            return Err(DomainError::Invalid(format!(
                "component sequence {seq} out of range 1..=999999"
            )));
        }
        Self::parse(&format!("{division}{category_code}{seq:06}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn division(&self) -> &str {
        &self.0[..6]
    }
    pub fn category_code(&self) -> &str {
        &self.0[6..11]
    }
    pub fn sequence(&self) -> u32 {
        self.0[11..].parse().unwrap_or(0)
    }
}

impl TryFrom<String> for ComponentId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ComponentId::parse(&value)
    }
}

impl From<ComponentId> for String {
    fn from(value: ComponentId) -> Self {
        value.0
    }
}

/// 管理部件状态
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// 完好
    Intact,
    /// 破损
    Damaged,
    /// 丢失
    Lost,
    /// 废弃
    Abandoned,
    /// 移除
    Removed,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Intact,
        ComponentStatus::Damaged,
        ComponentStatus::Lost,
        ComponentStatus::Abandoned,
        ComponentStatus::Removed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Intact => "intact",
            ComponentStatus::Damaged => "damaged",
            ComponentStatus::Lost => "lost",
            ComponentStatus::Abandoned => "abandoned",
            ComponentStatus::Removed => "removed",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "component status",
                value: s.to_string(),
            })
    }
}

/// A component instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub id: ComponentId,
    /// 5-digit component category code.
    pub category_code: String,
    pub name: String,
    pub lng: f64,
    pub lat: f64,
    /// 所在单元网格标识码; None when the point lies outside the gridded area.
    pub grid_code: Option<String>,
    pub community_code: Option<String>,
    /// 权属单位 (department code).
    pub owner_department: Option<String>,
    /// 养护单位 (department code).
    pub maintainer_department: Option<String>,
    pub status: ComponentStatus,
    /// 初始日期
    pub surveyed_on: chrono::NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_id_structure() {
        let id = ComponentId::new("441302", "01001", 42).unwrap();
        assert_eq!(id.as_str(), "44130201001000042");
        assert_eq!(id.division(), "441302");
        assert_eq!(id.category_code(), "01001");
        assert_eq!(id.sequence(), 42);
        assert!(ComponentId::parse("4413020100100004").is_err());
        assert!(ComponentId::new("441302", "01001", 1_000_000).is_err());
    }
}
