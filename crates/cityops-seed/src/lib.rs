//! cityops-seed — the reference data CityOps ships with (official division codes and district
//! boundaries of three demo cities, the GB/T 47678.5-2026 catalogue, Yuncheng's filing standard
//! mapped to the 2026 codes, the public-holiday calendar), the import parsers for administrators'
//! files (division CSV, boundary / grid GeoJSON, component CSV / GeoJSON), and the demo city
//! generator (演示城市).
//!
//! Invariants: no database driver and no HTTP here. Parsers read the whole input and validate it
//! before returning anything; every error names the CSV line (1-based, the header is line 1) or the
//! GeoJSON feature (0-based index and its code/id) and what is wrong. Coordinates are returned in
//! WGS84; GCJ-02 input (火星坐标) is converted when the caller says so.
use std::fmt;
use std::str::FromStr;

use cityops_domain::DomainError;

pub mod accounts;
pub mod demo;
pub mod devices;
pub mod history;
pub mod import;
pub mod objects;
pub mod pois;
pub mod reference;

/// Errors of the import parsers and of the demo generator.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A problem on one line of a CSV file (1-based, header = line 1).
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    /// A problem with one feature of a GeoJSON FeatureCollection (0-based index).
    #[error("feature {index}{}: {message}", feature_label(.id))]
    Feature {
        index: usize,
        id: Option<String>,
        message: String,
    },
    /// The document as a whole is unusable (not CSV with the expected header, not a
    /// FeatureCollection, empty …).
    #[error("{what}: {message}")]
    Document { what: &'static str, message: String },
    /// The demo city could not be generated.
    #[error("demo city: {0}")]
    Demo(String),
}

fn feature_label(id: &Option<String>) -> String {
    match id {
        Some(id) => format!(" ({id})"),
        None => String::new(),
    }
}

/// One of the three demo cities whose official divisions and district boundaries are embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DemoCity {
    /// 惠州市 (Guangdong), the default.
    #[default]
    Huizhou,
    /// 厦门市 (Fujian)
    Xiamen,
    /// 亳州市 (Anhui)
    Bozhou,
}

impl DemoCity {
    pub const ALL: [DemoCity; 3] = [DemoCity::Huizhou, DemoCity::Xiamen, DemoCity::Bozhou];

    /// The lower-case identifier used on the command line: "huizhou", "xiamen", "bozhou".
    pub fn as_str(self) -> &'static str {
        match self {
            DemoCity::Huizhou => "huizhou",
            DemoCity::Xiamen => "xiamen",
            DemoCity::Bozhou => "bozhou",
        }
    }

    /// The 6-digit division code of the city (GB/T 2260).
    pub fn code(self) -> &'static str {
        match self {
            DemoCity::Huizhou => "441300",
            DemoCity::Xiamen => "350200",
            DemoCity::Bozhou => "341600",
        }
    }

    /// 中文名
    pub fn name_zh(self) -> &'static str {
        match self {
            DemoCity::Huizhou => "惠州市",
            DemoCity::Xiamen => "厦门市",
            DemoCity::Bozhou => "亳州市",
        }
    }

    /// The urban core (WGS84 `[min_lng, min_lat, max_lng, max_lat]`) that the demo covers with
    /// ~100 m unit grids and components.
    pub fn core_bbox(self) -> [f64; 4] {
        match self {
            DemoCity::Huizhou => [114.33, 23.03, 114.48, 23.15],
            DemoCity::Xiamen => [118.06, 24.43, 118.20, 24.56],
            DemoCity::Bozhou => [115.72, 33.82, 115.83, 33.90],
        }
    }
}

impl fmt::Display for DemoCity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DemoCity {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        DemoCity::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t) || c.code() == t || c.name_zh() == t)
            .ok_or_else(|| DomainError::Unknown {
                what: "demo city (huizhou, xiamen or bozhou)",
                value: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_city_parses() {
        assert_eq!("huizhou".parse::<DemoCity>().unwrap(), DemoCity::Huizhou);
        assert_eq!("Xiamen".parse::<DemoCity>().unwrap(), DemoCity::Xiamen);
        assert_eq!("341600".parse::<DemoCity>().unwrap(), DemoCity::Bozhou);
        assert_eq!("亳州市".parse::<DemoCity>().unwrap(), DemoCity::Bozhou);
        let err = "shenzhen".parse::<DemoCity>().unwrap_err().to_string();
        assert!(err.contains("shenzhen"), "{err}");
        assert_eq!(DemoCity::default(), DemoCity::Huizhou);
        for c in DemoCity::ALL {
            assert_eq!(c.to_string().parse::<DemoCity>().unwrap(), c);
            let [a, b, x, y] = c.core_bbox();
            assert!(a < x && b < y);
        }
    }

    #[test]
    fn error_messages_name_the_place() {
        let e = ImportError::Line {
            line: 3,
            message: "bad code".into(),
        };
        assert_eq!(e.to_string(), "line 3: bad code");
        let e = ImportError::Feature {
            index: 2,
            id: Some("code 441302".into()),
            message: "no geometry".into(),
        };
        assert_eq!(e.to_string(), "feature 2 (code 441302): no geometry");
        let e = ImportError::Feature {
            index: 0,
            id: None,
            message: "no code".into(),
        };
        assert_eq!(e.to_string(), "feature 0: no code");
    }
}
