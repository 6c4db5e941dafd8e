//! Reference data embedded in the binary (copies of `data/` in the repository; see
//! `data/SOURCES.md` for sources and licences and `data/NOTES.md` for what is official and what
//! is synthetic):
//! - the official statistical division codes (统计用区划代码 2023) of the three demo cities;
//! - their county-level district boundaries, converted from GCJ-02 to WGS84 when loaded;
//! - the GB/T 47678.5-2026 catalogue: 153 management components (管理部件) and 250 management
//!   matters (管理事项), with the GB/T 30428.2-2013 code where Yuncheng's table maps it;
//! - Yuncheng's filing, handling and closing standard (立案、处置和结案标准) mapped to the 2026
//!   codes, plus a configurable default standard for every category it does not cover;
//! - China's official public holidays (2025, 2026).
use std::collections::{BTreeMap, HashMap};

use cityops_domain::{
    Category, CategoryKind, FilingStandard, LimitUnit, Region, RegionLevel, TimeLimit,
};

use crate::DemoCity;
use crate::import::{parse_boundaries_geojson, parse_divisions_csv};

const HUIZHOU_DIVISIONS: &str = include_str!("../../../data/cities/huizhou/divisions.csv");
const XIAMEN_DIVISIONS: &str = include_str!("../../../data/cities/xiamen/divisions.csv");
const BOZHOU_DIVISIONS: &str = include_str!("../../../data/cities/bozhou/divisions.csv");
const HUIZHOU_DISTRICTS: &str = include_str!("../../../data/cities/huizhou/districts.geojson");
const XIAMEN_DISTRICTS: &str = include_str!("../../../data/cities/xiamen/districts.geojson");
const BOZHOU_DISTRICTS: &str = include_str!("../../../data/cities/bozhou/districts.geojson");
const CATALOGUE: &str = include_str!("../../../data/catalogue/gbt47678_5_2026.csv");
const YUNCHENG: &str = include_str!("../../../data/catalogue/yuncheng_filing_standards.csv");
const HOLIDAYS: &str = include_str!("../../../data/calendar/cn_public_holidays.csv");

/// `source` of filing standards taken from Yuncheng's table.
pub const SOURCE_YUNCHENG: &str = "yuncheng";
/// `source` of the default standard given to categories Yuncheng's table does not cover.
pub const SOURCE_DEFAULT: &str = "default";

/// The division CSV text of a city as embedded.
pub fn divisions_csv(city: DemoCity) -> &'static str {
    match city {
        DemoCity::Huizhou => HUIZHOU_DIVISIONS,
        DemoCity::Xiamen => XIAMEN_DIVISIONS,
        DemoCity::Bozhou => BOZHOU_DIVISIONS,
    }
}

/// The district boundary GeoJSON text of a city as embedded (GCJ-02 coordinates).
pub fn districts_geojson(city: DemoCity) -> &'static str {
    match city {
        DemoCity::Huizhou => HUIZHOU_DISTRICTS,
        DemoCity::Xiamen => XIAMEN_DISTRICTS,
        DemoCity::Bozhou => BOZHOU_DISTRICTS,
    }
}

/// The official divisions of a demo city: the city (without parent: the province is not part of
/// the tree), its districts, streets/towns and communities/villages, in file order, without
/// geometry.
pub fn divisions(city: DemoCity) -> Vec<Region> {
    // The embedded file is checked by the tests below; a failure here is a build defect.
    parse_divisions_csv(divisions_csv(city))
        .unwrap_or_else(|e| panic!("embedded divisions of {city} are invalid: {e}"))
}

/// The district polygons of a demo city, converted from GCJ-02 to WGS84, with bbox, center and
/// area; ordered by code; parent = the city; names as in the official divisions; `synthetic =
/// false` (official outlines, approximate).
pub fn districts(city: DemoCity) -> Vec<Region> {
    let mut d =
        parse_boundaries_geojson(districts_geojson(city), Some(RegionLevel::District), true)
            .unwrap_or_else(|e| panic!("embedded district boundaries of {city} are invalid: {e}"));
    d.sort_by(|a, b| a.code.cmp(&b.code));
    let official: HashMap<String, String> = divisions(city)
        .into_iter()
        .filter(|r| r.level == RegionLevel::District)
        .map(|r| (r.code, r.name))
        .collect();
    for r in &mut d {
        r.parent_code = Some(city.code().to_string());
        if let Some(name) = official.get(&r.code) {
            r.name.clone_from(name);
        }
    }
    d
}

/// The public holiday CSV (`date,kind,name`; kind `holiday` or `workday` = 调休上班) for the
/// working calendar.
pub fn holidays_csv() -> &'static str {
    HOLIDAYS
}

fn csv_rows(text: &'static str) -> (HashMap<String, usize>, Vec<csv::StringRecord>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = r.headers().expect("embedded CSV has a header").clone();
    let cols = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_string(), i))
        .collect();
    let rows = r
        .records()
        .map(|x| x.expect("embedded CSV is well-formed"))
        .collect();
    (cols, rows)
}

/// One row of Yuncheng's table that maps to a 2026 code.
struct YunchengRow {
    kind: CategoryKind,
    code_2026: String,
    code_2013: String,
    filing_condition: String,
    limit: TimeLimit,
    limit_text: String,
    closure_condition: String,
}

/// The Yuncheng rows with a 2026 code, in file order. `kind_2013` "event" (事件) becomes a
/// management matter (管理事项), "component" (部件) a management component.
fn yuncheng_rows() -> Vec<YunchengRow> {
    let (c, rows) = csv_rows(YUNCHENG);
    let f = |r: &csv::StringRecord, k: &str| r.get(c[k]).unwrap_or("").trim().to_string();
    rows.iter()
        .filter(|r| !f(r, "code_2026").is_empty())
        .map(|r| {
            let kind = match f(r, "kind_2013").as_str() {
                "event" => CategoryKind::Matter,
                "component" => CategoryKind::Component,
                other => panic!("embedded Yuncheng table: unknown kind_2013 {other:?}"),
            };
            let unit: LimitUnit = f(r, "limit_unit")
                .parse()
                .expect("embedded Yuncheng table: limit_unit");
            let value: u32 = f(r, "limit_value")
                .parse()
                .expect("embedded Yuncheng table: limit_value");
            YunchengRow {
                kind,
                code_2026: f(r, "code_2026"),
                code_2013: f(r, "code_2013"),
                filing_condition: f(r, "filing_condition"),
                limit: TimeLimit { value, unit },
                limit_text: f(r, "time_limit_text"),
                closure_condition: f(r, "closure_condition"),
            }
        })
        .collect()
}

/// The GB/T 47678.5-2026 catalogue: 153 components and 250 matters ordered by (kind, code), each
/// with its GB/T 30428.2-2013 code (`old_code`) where Yuncheng's table maps it.
pub fn categories() -> Vec<Category> {
    let old: HashMap<(CategoryKind, String), String> = yuncheng_rows()
        .into_iter()
        .map(|r| ((r.kind, r.code_2026), r.code_2013))
        .collect();
    let (c, rows) = csv_rows(CATALOGUE);
    let mut out: Vec<Category> = rows
        .iter()
        .map(|r| {
            let f = |k: &str| r.get(c[k]).unwrap_or("").trim().to_string();
            let kind: CategoryKind = f("kind").parse().expect("embedded catalogue: kind");
            let code = f("code");
            Category {
                kind,
                old_code: old.get(&(kind, code.clone())).cloned(),
                class_code: f("class_code"),
                class_name: f("class_name"),
                name: f("name"),
                code,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    out
}

/// The standard given to every category that Yuncheng's table does not cover, so that each
/// category has at least one filing condition to choose when a case is filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultStandard {
    pub limit: TimeLimit,
    /// 立案条件
    pub filing_condition: String,
    /// 结案条件
    pub closure_condition: String,
}

impl Default for DefaultStandard {
    /// 5 工作日: the limit Yuncheng's table gives to ordinary (non-safety) repairs and clean-ups
    /// (e.g. a sunken manhole frame, a broken road surface), so an unlisted category is neither
    /// rushed nor left open for weeks. A city replaces it with its own standard.
    fn default() -> Self {
        Self {
            limit: TimeLimit {
                value: 5,
                unit: LimitUnit::WorkDay,
            },
            filing_condition: "经核实存在该类问题，影响市容环境、公共秩序或设施正常使用"
                .to_string(),
            closure_condition: "问题已处置，恢复正常".to_string(),
        }
    }
}

/// Yuncheng's filing standards mapped to the 2026 codes (source `yuncheng`) plus
/// [`DefaultStandard::default`] for every other category (source `default`).
pub fn filing_standards() -> Vec<FilingStandard> {
    filing_standards_with(&DefaultStandard::default())
}

/// Every Yuncheng row with a 2026 code becomes a standard of that (kind, code), `seq` numbering
/// the rows of one (kind, code) in file order from 0; every category of the catalogue without
/// one gets `default` (seq 0). Ordered by (kind, code, seq).
pub fn filing_standards_with(default: &DefaultStandard) -> Vec<FilingStandard> {
    let mut by_cat: BTreeMap<(CategoryKind, String), Vec<FilingStandard>> = BTreeMap::new();
    for r in yuncheng_rows() {
        let list = by_cat.entry((r.kind, r.code_2026.clone())).or_default();
        list.push(FilingStandard {
            kind: r.kind,
            code: r.code_2026,
            seq: list.len() as u32,
            filing_condition: r.filing_condition,
            limit: r.limit,
            limit_text: r.limit_text,
            closure_condition: r.closure_condition,
            old_code: Some(r.code_2013),
            source: SOURCE_YUNCHENG.to_string(),
        });
    }
    for c in categories() {
        by_cat.entry((c.kind, c.code.clone())).or_insert_with(|| {
            vec![FilingStandard {
                kind: c.kind,
                code: c.code.clone(),
                seq: 0,
                filing_condition: default.filing_condition.clone(),
                limit: default.limit,
                limit_text: default.limit.to_string(),
                closure_condition: default.closure_condition.clone(),
                old_code: c.old_code.clone(),
                source: SOURCE_DEFAULT.to_string(),
            }]
        });
    }
    by_cat.into_values().flatten().collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn catalogue_counts_and_codes() {
        let cats = categories();
        let comps = cats
            .iter()
            .filter(|c| c.kind == CategoryKind::Component)
            .count();
        let matters = cats
            .iter()
            .filter(|c| c.kind == CategoryKind::Matter)
            .count();
        assert_eq!((comps, matters), (153, 250));
        let mut keys = HashSet::new();
        for c in &cats {
            assert!(
                c.code.len() == 5 && c.code.bytes().all(|b| b.is_ascii_digit()),
                "{c:?}"
            );
            assert_eq!(&c.code[..2], c.class_code, "{c:?}");
            assert!(!c.name.is_empty() && !c.class_name.is_empty());
            assert!(keys.insert((c.kind, c.code.clone())), "duplicate {c:?}");
        }
        let get = |k, code: &str| cats.iter().find(|c| c.kind == k && c.code == code).unwrap();
        assert_eq!(get(CategoryKind::Component, "01001").name, "供水井盖");
        assert_eq!(
            get(CategoryKind::Component, "01001").old_code.as_deref(),
            Some("0101")
        );
        assert_eq!(get(CategoryKind::Matter, "06001").name, "私搭乱建");
        assert_eq!(
            get(CategoryKind::Matter, "06001").old_code.as_deref(),
            Some("0101")
        );
        assert_eq!(
            get(CategoryKind::Matter, "08011").old_code.as_deref(),
            Some("0311")
        );
        assert_eq!(
            get(CategoryKind::Matter, "01001").old_code,
            None,
            "mirrored matters have no 2013 event code"
        );
        assert_eq!(get(CategoryKind::Component, "01077").old_code, None);
        assert_eq!(cats.iter().filter(|c| c.old_code.is_some()).count(), 118);
    }

    #[test]
    fn every_category_has_a_standard() {
        let cats = categories();
        let stds = filing_standards();
        let keys: HashSet<(CategoryKind, &str)> =
            cats.iter().map(|c| (c.kind, c.code.as_str())).collect();
        for s in &stds {
            assert!(
                keys.contains(&(s.kind, s.code.as_str())),
                "standard for unknown category {s:?}"
            );
            assert!(s.limit.value > 0);
            assert!(
                !s.filing_condition.is_empty()
                    && !s.closure_condition.is_empty()
                    && !s.limit_text.is_empty()
            );
        }
        for c in &cats {
            let mine: Vec<_> = stds
                .iter()
                .filter(|s| s.kind == c.kind && s.code == c.code)
                .collect();
            assert!(!mine.is_empty(), "no standard for {c:?}");
            let seqs: Vec<u32> = mine.iter().map(|s| s.seq).collect();
            assert_eq!(
                seqs,
                (0..mine.len() as u32).collect::<Vec<_>>(),
                "{}",
                c.code
            );
        }
        let yuncheng = stds.iter().filter(|s| s.source == SOURCE_YUNCHENG).count();
        assert_eq!(yuncheng, 341, "every Yuncheng row with a 2026 code");
        let defaults = stds.iter().filter(|s| s.source == SOURCE_DEFAULT).count();
        assert_eq!(defaults, 403 - 118);
    }

    #[test]
    fn known_yuncheng_rows() {
        let stds = filing_standards();
        let cover: Vec<_> = stds
            .iter()
            .filter(|s| s.kind == CategoryKind::Component && s.code == "01001")
            .collect();
        assert_eq!(cover.len(), 4);
        assert_eq!(
            cover[0].limit,
            TimeLimit {
                value: 2,
                unit: LimitUnit::UrgentHour
            }
        );
        assert_eq!(cover[0].limit_text, "2紧急工作时");
        assert!(cover[0].filing_condition.contains("缺失"));
        assert_eq!(cover[0].old_code.as_deref(), Some("0101"));
        assert_eq!(
            cover[1].limit,
            TimeLimit {
                value: 4,
                unit: LimitUnit::WorkHour
            }
        );
        assert_eq!(
            cover[3].limit,
            TimeLimit {
                value: 5,
                unit: LimitUnit::WorkDay
            }
        );

        let shack: Vec<_> = stds
            .iter()
            .filter(|s| s.kind == CategoryKind::Matter && s.code == "06001")
            .collect();
        assert_eq!(shack.len(), 2);
        assert_eq!(
            shack[0].limit,
            TimeLimit {
                value: 2,
                unit: LimitUnit::NaturalDay
            }
        );
        assert_eq!(
            shack[1].limit,
            TimeLimit {
                value: 15,
                unit: LimitUnit::WorkDay
            }
        );

        let lamp = stds
            .iter()
            .find(|s| s.kind == CategoryKind::Component && s.code == "01077")
            .unwrap();
        assert_eq!(lamp.source, SOURCE_DEFAULT);
        assert_eq!(
            lamp.limit,
            TimeLimit {
                value: 5,
                unit: LimitUnit::WorkDay
            }
        );
        assert_eq!(lamp.limit_text, "5工作日");
    }

    #[test]
    fn default_standard_is_configurable() {
        let d = DefaultStandard {
            limit: TimeLimit {
                value: 3,
                unit: LimitUnit::WorkDay,
            },
            filing_condition: "发现即立案".into(),
            closure_condition: "恢复".into(),
        };
        let stds = filing_standards_with(&d);
        let s = stds
            .iter()
            .find(|s| s.kind == CategoryKind::Matter && s.code == "09011")
            .unwrap();
        assert_eq!(
            (
                s.limit.value,
                s.filing_condition.as_str(),
                s.source.as_str()
            ),
            (3, "发现即立案", SOURCE_DEFAULT)
        );
    }

    #[test]
    fn divisions_are_complete() {
        for (city, counts) in [
            (DemoCity::Huizhou, [1, 5, 84, 1364]),
            (DemoCity::Xiamen, [1, 6, 54, 555]),
            (DemoCity::Bozhou, [1, 4, 96, 1360]),
        ] {
            let d = divisions(city);
            let n = |l| d.iter().filter(|r| r.level == l).count();
            assert_eq!(
                [
                    n(RegionLevel::City),
                    n(RegionLevel::District),
                    n(RegionLevel::Street),
                    n(RegionLevel::Community)
                ],
                counts,
                "{city}"
            );
            assert_eq!(d[0].code, city.code());
            assert_eq!(d[0].name, city.name_zh());
            assert_eq!(d[0].parent_code, None);
        }
    }

    #[test]
    fn districts_have_wgs84_polygons() {
        for city in DemoCity::ALL {
            let d = districts(city);
            let divs = divisions(city);
            let official: Vec<&str> = divs
                .iter()
                .filter(|r| r.level == RegionLevel::District)
                .map(|r| r.code.as_str())
                .collect();
            let mut got: Vec<&str> = d.iter().map(|r| r.code.as_str()).collect();
            got.sort();
            let mut want = official.clone();
            want.sort();
            assert_eq!(got, want, "{city}");
            for r in &d {
                assert!(r.geometry.is_some() && !r.synthetic);
                assert_eq!(r.parent_code.as_deref(), Some(city.code()));
                assert!(
                    divs.iter().any(|x| x.code == r.code && x.name == r.name),
                    "{}",
                    r.code
                );
                assert!(r.area_m2.unwrap() > 50e6, "{}: {:?}", r.code, r.area_m2);
            }
            // the core box lies within the districts' extent
            let [a, b, c, e] = city.core_bbox();
            let minx = d
                .iter()
                .map(|r| r.bbox.unwrap()[0])
                .fold(f64::MAX, f64::min);
            let maxy = d
                .iter()
                .map(|r| r.bbox.unwrap()[3])
                .fold(f64::MIN, f64::max);
            assert!(minx < a && maxy > e && b < e && a < c, "{city}");
        }
    }

    #[test]
    fn holidays_are_embedded() {
        assert!(holidays_csv().starts_with("date,kind,name"));
        assert!(holidays_csv().contains("2026-"));
    }
}
