//! The region tree: city (市) → district (区/县) → street (街道/镇) → community (社区/村) → unit grid
//! (单元网格), with the official codes: 6-digit division codes (GB/T 2260) for cities and districts,
//! 9-digit street codes, 12-digit community codes (统计用区划代码) and the 15-digit unit-grid code of
//! GB/T 30428.1 / GB/T 47678.3 (6 district + 3 street + 3 community + 3 sequence).
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A level of the region tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 市
    City,
    /// 区/县
    District,
    /// 街道/镇/乡
    Street,
    /// 社区/村
    Community,
    /// 单元网格
    Grid,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 5] = [
        RegionLevel::City,
        RegionLevel::District,
        RegionLevel::Street,
        RegionLevel::Community,
        RegionLevel::Grid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::City => "city",
            RegionLevel::District => "district",
            RegionLevel::Street => "street",
            RegionLevel::Community => "community",
            RegionLevel::Grid => "grid",
        }
    }

    /// 中文名
    pub fn name_zh(self) -> &'static str {
        match self {
            RegionLevel::City => "市",
            RegionLevel::District => "区县",
            RegionLevel::Street => "街道",
            RegionLevel::Community => "社区",
            RegionLevel::Grid => "单元网格",
        }
    }

    /// The number of digits of a code at this level. City and district codes both have 6.
    pub fn code_len(self) -> usize {
        match self {
            RegionLevel::City | RegionLevel::District => 6,
            RegionLevel::Street => 9,
            RegionLevel::Community => 12,
            RegionLevel::Grid => 15,
        }
    }

    pub fn child(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::City => Some(RegionLevel::District),
            RegionLevel::District => Some(RegionLevel::Street),
            RegionLevel::Street => Some(RegionLevel::Community),
            RegionLevel::Community => Some(RegionLevel::Grid),
            RegionLevel::Grid => None,
        }
    }

    pub fn parent(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::City => None,
            RegionLevel::District => Some(RegionLevel::City),
            RegionLevel::Street => Some(RegionLevel::District),
            RegionLevel::Community => Some(RegionLevel::Street),
            RegionLevel::Grid => Some(RegionLevel::Community),
        }
    }
}

impl fmt::Display for RegionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RegionLevel {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "region level",
                value: s.to_string(),
            })
    }
}

/// A region code: 6, 9, 12 or 15 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = matches!(s.len(), 6 | 9 | 12 | 15) && s.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(DomainError::InvalidRegionCode(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit district (county-level) part.
    pub fn district_part(&self) -> &str {
        &self.0[..6]
    }

    /// The code of the enclosing region one level up by the code's structure (not for 6-digit codes,
    /// whose parent a code alone cannot tell).
    pub fn structural_parent(&self) -> Option<RegionCode> {
        match self.0.len() {
            9 => Some(Self(self.0[..6].to_string())),
            12 => Some(Self(self.0[..9].to_string())),
            15 => Some(Self(self.0[..12].to_string())),
            _ => None,
        }
    }

    /// Whether `other` is this region or lies inside it, judged by the code prefix. A 6-digit city
    /// code (ending in "00") also covers its districts.
    pub fn covers(&self, other: &str) -> bool {
        covers(self.as_str(), other)
    }
}

/// Whether the region `scope` covers the region `code` (same code, or a descendant by code
/// prefix; a city code `xxxx00` covers all district codes `xxxx..`).
pub fn covers(scope: &str, code: &str) -> bool {
    if code.starts_with(scope) {
        return true;
    }
    scope.len() == 6 && scope.ends_with("00") && code.len() >= 6 && code[..4] == scope[..4]
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(value: RegionCode) -> Self {
        value.0
    }
}

/// A point in WGS84 / CGCS2000 (the stored coordinate system).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LngLat {
    pub lng: f64,
    pub lat: f64,
}

impl LngLat {
    pub fn new(lng: f64, lat: f64) -> Result<Self, DomainError> {
        if lng.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lng)
            && (-90.0..=90.0).contains(&lat)
        {
            Ok(Self { lng, lat })
        } else {
            Err(DomainError::InvalidCoordinate { lng, lat })
        }
    }
}

/// One node of the region tree. `geometry` is a GeoJSON geometry (Polygon or MultiPolygon, WGS84)
/// kept as text: only the geography crate interprets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub code: String,
    pub level: RegionLevel,
    pub name: String,
    pub parent_code: Option<String>,
    /// GeoJSON geometry text, WGS84.
    pub geometry: Option<String>,
    /// [min_lng, min_lat, max_lng, max_lat]
    pub bbox: Option<[f64; 4]>,
    /// A representative point inside the region.
    pub center: Option<LngLat>,
    /// Area in square metres.
    pub area_m2: Option<f64>,
    /// True when the polygon was derived by CityOps (not an official boundary).
    pub synthetic: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_nest() {
        let grid = RegionCode::parse("441302001002015").unwrap();
        assert_eq!(grid.structural_parent().unwrap().as_str(), "441302001002");
        assert_eq!(grid.district_part(), "441302");
        assert!(RegionCode::parse("44130").is_err());
        assert!(RegionCode::parse("44130200100x").is_err());
        assert!(covers("441300", "441302001"));
        assert!(covers("441302", "441302001002015"));
        assert!(!covers("441302", "441303001"));
        assert!(!covers("441302001", "441302002001"));
    }

    #[test]
    fn levels_round_trip() {
        for l in RegionLevel::ALL {
            assert_eq!(l.as_str().parse::<RegionLevel>().unwrap(), l);
        }
        assert!("province".parse::<RegionLevel>().is_err());
    }
}
