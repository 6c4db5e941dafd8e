//! Import parsers (数据导入): division CSV, boundary and unit-grid GeoJSON, component CSV and
//! GeoJSON.
//!
//! Every parser reads and validates the whole input before it returns, so the caller writes all
//! of it in one transaction or nothing. The first error (in file order) is returned; it names the
//! CSV line (1-based, the header is line 1) or the GeoJSON feature (0-based index and its code/id)
//! and what is wrong. Coordinates come back in WGS84; with `gcj02 = true` the input is taken as
//! GCJ-02 (what Chinese web maps and phone map apps give) and converted.
use std::collections::HashMap;

use chrono::NaiveDate;
use cityops_domain::{Component, ComponentId, ComponentStatus, Region, RegionLevel};
use cityops_geo::gcj02;
use serde_json::{Map, Value};

use crate::ImportError;

// ---------------------------------------------------------------------------------------------
// CSV plumbing

/// A parsed CSV with at least one data row, read by the shared reader ([`cityops_csv`]): the
/// header's column positions and the rows with their 1-based line numbers.
struct Csv {
    table: cityops_csv::Table,
}

/// A reader error as an import error naming the line (and the column, when one is at fault).
fn csv_error(e: cityops_csv::CsvError) -> ImportError {
    ImportError::Line {
        line: e.line,
        message: e.detail(),
    }
}

impl Csv {
    /// Reads `text`, checks that every `required` column is in the header and that every row has
    /// as many fields as the header.
    fn read(text: &str, what: &'static str, required: &[&str]) -> Result<Self, ImportError> {
        let table = cityops_csv::read(text).map_err(csv_error)?;
        table.require_columns(what, required).map_err(csv_error)?;
        table.check_widths().map_err(csv_error)?;
        if table.rows().is_empty() {
            return Err(ImportError::Document {
                what: "CSV",
                message: format!("the {what} file has no data rows"),
            });
        }
        Ok(Self { table })
    }

    /// The data rows with their lines.
    fn rows(&self) -> impl Iterator<Item = (u64, &cityops_csv::Row)> {
        self.table.rows().iter().map(|r| (r.line(), r))
    }

    fn len(&self) -> usize {
        self.table.rows().len()
    }

    /// The trimmed value of `column` in `rec`, `None` when the column is absent or the cell empty.
    fn get<'r>(&self, rec: &'r cityops_csv::Row, column: &str) -> Option<&'r str> {
        self.table.get(rec, column)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `code` against the length of `level`.
fn check_region_code(code: &str, level: RegionLevel) -> Result<(), String> {
    if !all_digits(code) {
        return Err(format!("code {code:?} is not all digits"));
    }
    if code.len() != level.code_len() {
        return Err(format!(
            "code {code:?} has {} digits, a {} ({}) code has {}",
            code.len(),
            level,
            level.name_zh(),
            level.code_len()
        ));
    }
    Ok(())
}

/// The parent a region code implies by its structure: a city has none (the province is not part
/// of the tree), a district's is its city (`xxxx00`), the others are prefixes.
pub(crate) fn implied_parent(code: &str, level: RegionLevel) -> Option<String> {
    match level {
        RegionLevel::City => None,
        RegionLevel::District => Some(format!("{}00", &code[..4])),
        RegionLevel::Street => Some(code[..6].to_string()),
        RegionLevel::Community => Some(code[..9].to_string()),
        RegionLevel::Grid => Some(code[..12].to_string()),
    }
}

/// A region code's level when only its length is known: 6 digits ending in "00" is a city,
/// other 6-digit codes are districts, then 9 street, 12 community, 15 grid.
pub fn infer_level(code: &str) -> Option<RegionLevel> {
    if !all_digits(code) {
        return None;
    }
    match code.len() {
        6 if code.ends_with("00") => Some(RegionLevel::City),
        6 => Some(RegionLevel::District),
        9 => Some(RegionLevel::Street),
        12 => Some(RegionLevel::Community),
        15 => Some(RegionLevel::Grid),
        _ => None,
    }
}

fn plain_region(
    code: String,
    level: RegionLevel,
    name: String,
    parent_code: Option<String>,
) -> Region {
    Region {
        code,
        level,
        name,
        parent_code,
        geometry: None,
        bbox: None,
        center: None,
        area_m2: None,
        synthetic: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Divisions CSV

/// Parses a division CSV (区划代码表) with the columns `level,code,name,parent_code` (any order,
/// more columns ignored). Levels are `city`, `district`, `street` and `community`; codes have 6,
/// 6, 9 and 12 digits; a street's code starts with its district's, a community's with its
/// street's. Every parent must be in the file with the level above, except for the rows of the
/// file's top level (the root of what is imported): a city's parent (the province) is dropped,
/// other top-level rows keep theirs, which must then already exist where the batch is written.
/// Regions come back in file order, without geometry.
pub fn parse_divisions_csv(text: &str) -> Result<Vec<Region>, ImportError> {
    let csv = Csv::read(text, "division", &["level", "code", "name", "parent_code"])?;
    let mut regions: Vec<Region> = Vec::with_capacity(csv.len());
    let mut lines: Vec<u64> = Vec::with_capacity(csv.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, rec) in csv.rows() {
        let err = |message: String| ImportError::Line { line, message };
        let level_text = csv
            .get(rec, "level")
            .ok_or_else(|| err("level is empty".into()))?;
        let level: RegionLevel = level_text.parse().map_err(|_| {
            err(format!(
                "unknown level {level_text:?}; expected city, district, street or community"
            ))
        })?;
        if level == RegionLevel::Grid {
            return Err(err(
                "unit grids have polygons: import them as GeoJSON, not in the division CSV".into(),
            ));
        }
        let code = csv
            .get(rec, "code")
            .ok_or_else(|| err("code is empty".into()))?;
        check_region_code(code, level).map_err(err)?;
        let name = csv
            .get(rec, "name")
            .ok_or_else(|| err(format!("name of {code} is empty")))?;
        let parent = csv.get(rec, "parent_code");
        let parent = match (level, parent) {
            (RegionLevel::City, _) => None,
            (_, None) => return Err(err(format!("{level} {code} has no parent_code"))),
            (_, Some(p)) => {
                let plevel = level.parent().unwrap_or(RegionLevel::City);
                if !all_digits(p) || p.len() != plevel.code_len() {
                    return Err(err(format!(
                        "parent_code {p:?} of {level} {code} is not a {plevel} code ({} digits)",
                        plevel.code_len()
                    )));
                }
                let prefix_ok = match level {
                    RegionLevel::District => p.ends_with("00") && code[..2] == p[..2],
                    _ => code.starts_with(p),
                };
                if !prefix_ok {
                    return Err(err(format!(
                        "{level} code {code} does not belong to its parent_code {p}"
                    )));
                }
                Some(p.to_string())
            }
        };
        if let Some(&first) = seen.get(code) {
            return Err(err(format!(
                "code {code} already appears on line {}",
                lines[first]
            )));
        }
        seen.insert(code.to_string(), regions.len());
        regions.push(plain_region(
            code.to_string(),
            level,
            name.to_string(),
            parent,
        ));
        lines.push(line);
    }
    let top = regions
        .iter()
        .map(|r| r.level)
        .min()
        .unwrap_or(RegionLevel::City);
    for (r, line) in regions.iter().zip(&lines) {
        let Some(p) = &r.parent_code else { continue };
        match seen.get(p) {
            Some(&i) => {
                let expected = r.level.parent().unwrap_or(RegionLevel::City);
                if regions[i].level != expected {
                    return Err(ImportError::Line {
                        line: *line,
                        message: format!(
                            "parent {p} of {} {} is a {} (line {}), expected a {expected}",
                            r.level, r.code, regions[i].level, lines[i]
                        ),
                    });
                }
            }
            None if r.level == top => {}
            None => {
                return Err(ImportError::Line {
                    line: *line,
                    message: format!("parent {p} of {} {} is not in the file", r.level, r.code),
                });
            }
        }
    }
    Ok(regions)
}

// ---------------------------------------------------------------------------------------------
// GeoJSON plumbing

/// The features of a FeatureCollection, as raw JSON values (so that one bad feature yields an
/// error naming it rather than a parse error of the whole document).
fn feature_values(text: &str) -> Result<Vec<Value>, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::Document {
        what: "GeoJSON",
        message: format!("not valid JSON: {e}"),
    })?;
    let Value::Object(mut doc) = doc else {
        return Err(ImportError::Document {
            what: "GeoJSON",
            message: "expected a FeatureCollection object".into(),
        });
    };
    match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(ImportError::Document {
                what: "GeoJSON",
                message: format!("expected a FeatureCollection, found type {other:?}"),
            });
        }
        None => {
            return Err(ImportError::Document {
                what: "GeoJSON",
                message: "expected a FeatureCollection: \"type\" is missing".into(),
            });
        }
    }
    match doc.remove("features") {
        Some(Value::Array(features)) if !features.is_empty() => Ok(features),
        Some(Value::Array(_)) => Err(ImportError::Document {
            what: "GeoJSON",
            message: "the FeatureCollection has no features".into(),
        }),
        _ => Err(ImportError::Document {
            what: "GeoJSON",
            message: "\"features\" is missing or not an array".into(),
        }),
    }
}

/// A property as text: strings as they are (trimmed), integers and other numbers printed,
/// `null`/empty as `None`.
fn prop_text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Splits a feature value into (properties, geometry), checking that it is a Feature.
fn feature_parts(
    index: usize,
    fv: &Value,
    label: Option<String>,
) -> Result<(Map<String, Value>, &Value), ImportError> {
    let err = |message: String| ImportError::Feature {
        index,
        id: label.clone(),
        message,
    };
    let Value::Object(obj) = fv else {
        return Err(err("is not a JSON object".into()));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        other => return Err(err(format!("has type {other:?}, expected \"Feature\""))),
    }
    let props = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(err("\"properties\" is not an object".into())),
    };
    let geometry = obj.get("geometry").unwrap_or(&Value::Null);
    Ok((props, geometry))
}

/// The properties object of a raw feature, or an empty map.
fn raw_props(fv: &Value) -> Map<String, Value> {
    fv.get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn valid_lng_lat(lng: f64, lat: f64) -> bool {
    lng.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lng)
        && (-90.0..=90.0).contains(&lat)
}

/// Reads a Polygon/MultiPolygon geometry, checks its coordinates and converts it to WGS84.
fn polygonal(geometry: &Value, gcj02_input: bool) -> Result<geo::MultiPolygon<f64>, String> {
    if geometry.is_null() {
        return Err("has no geometry".into());
    }
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    if kind != "Polygon" && kind != "MultiPolygon" {
        return Err(format!(
            "geometry type is {kind}, expected Polygon or MultiPolygon"
        ));
    }
    let g: geojson::Geometry = serde_json::from_value(geometry.clone())
        .map_err(|e| format!("invalid {kind} geometry: {e}"))?;
    let mut mp = cityops_geo::polygonal_from_geojson(&g)
        .map_err(|e| format!("invalid {kind} geometry: {e}"))?;
    if mp.0.is_empty() {
        return Err(format!("the {kind} has no polygon"));
    }
    for poly in &mp.0 {
        if poly.exterior().0.len() < 4 {
            return Err(format!("a {kind} ring has fewer than 4 positions"));
        }
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            if let Some(c) = ring.0.iter().find(|c| !valid_lng_lat(c.x, c.y)) {
                return Err(format!(
                    "coordinate [{}, {}] is not a longitude/latitude",
                    c.x, c.y
                ));
            }
        }
    }
    if gcj02_input {
        gcj02::multipolygon_gcj02_to_wgs84(&mut mp);
    }
    Ok(mp)
}

#[derive(Clone, Copy)]
enum PolygonFile {
    Boundaries(Option<RegionLevel>),
    Grids,
}

fn parse_polygon_features(
    text: &str,
    file: PolygonFile,
    gcj02_input: bool,
) -> Result<Vec<Region>, ImportError> {
    let features = feature_values(text)?;
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, fv) in features.iter().enumerate() {
        let code = prop_text(&raw_props(fv), "code");
        let label = code.as_ref().map(|c| format!("code {c}"));
        let err = |message: String| ImportError::Feature {
            index,
            id: label.clone(),
            message,
        };
        let (props, geometry) = feature_parts(index, fv, label.clone())?;
        let code = code.ok_or_else(|| err("property \"code\" is missing".into()))?;
        let given_level = match prop_text(&props, "level") {
            Some(l) => Some(l.parse::<RegionLevel>().map_err(|_| {
                err(format!(
                    "unknown level {l:?}; expected city, district, street, community or grid"
                ))
            })?),
            None => None,
        };
        let level = match file {
            PolygonFile::Grids => {
                if let Some(l) = given_level.filter(|l| *l != RegionLevel::Grid) {
                    return Err(err(format!(
                        "level is {l}, but a grid file holds only unit grids"
                    )));
                }
                RegionLevel::Grid
            }
            PolygonFile::Boundaries(arg) => {
                match given_level.or(arg).or_else(|| infer_level(&code)) {
                    Some(l) => l,
                    None => {
                        return Err(err(format!(
                            "cannot tell the level of code {code:?} from its length"
                        )));
                    }
                }
            }
        };
        check_region_code(&code, level).map_err(err)?;
        let name = match prop_text(&props, "name") {
            Some(n) => n,
            None if level == RegionLevel::Grid => format!("单元网格{code}"),
            None => return Err(err("property \"name\" is missing".into())),
        };
        if let Some(&first) = seen.get(&code) {
            return Err(err(format!(
                "code {code} already appears in feature {first}"
            )));
        }
        let mp = polygonal(geometry, gcj02_input).map_err(err)?;
        let parent = implied_parent(&code, level);
        out.push(cityops_geo::region_with_geometry(
            &code,
            level,
            &name,
            parent.as_deref(),
            &mp,
            false,
        ));
        seen.insert(code, index);
    }
    Ok(out)
}

/// Parses region boundaries (行政区划边界): a GeoJSON FeatureCollection of Polygon/MultiPolygon
/// features with the properties `code` (required), `name` (required except for grids) and
/// optionally `level`. A feature's level is its `level` property, else the `level` argument, else
/// inferred from the code's length (6 digits ending in 00 = city, other 6 = district, 9 street,
/// 12 community, 15 grid). The parent is implied by the code (a district's is `xxxx00`, a city has
/// none). `gcj02`: the coordinates are GCJ-02 and are converted to WGS84.
pub fn parse_boundaries_geojson(
    text: &str,
    level: Option<RegionLevel>,
    gcj02: bool,
) -> Result<Vec<Region>, ImportError> {
    parse_polygon_features(text, PolygonFile::Boundaries(level), gcj02)
}

/// Parses unit grids (单元网格): a GeoJSON FeatureCollection of Polygon/MultiPolygon features with
/// a 15-digit `code` (6 district + 3 street + 3 community + 3 sequence) and an optional `name`;
/// the parent is the community given by the first 12 digits.
pub fn parse_grids_geojson(text: &str, gcj02: bool) -> Result<Vec<Region>, ImportError> {
    parse_polygon_features(text, PolygonFile::Grids, gcj02)
}

// ---------------------------------------------------------------------------------------------
// Components

/// The columns of a component CSV; `grid_code`, `owner_department`, `maintainer_department` and
/// `status` may be empty (status then defaults to `intact`); an optional `community_code` column
/// is also read.
pub const COMPONENT_COLUMNS: [&str; 10] = [
    "id",
    "category_code",
    "name",
    "lng",
    "lat",
    "grid_code",
    "owner_department",
    "maintainer_department",
    "status",
    "surveyed_on",
];

const COMPONENT_REQUIRED: [&str; 6] = ["id", "category_code", "name", "lng", "lat", "surveyed_on"];

/// A component status as English (`intact` …) or Chinese (完好, 破损, 丢失, 废弃, 移除).
fn parse_status(s: &str) -> Result<ComponentStatus, String> {
    let by_zh = match s {
        "完好" => Some(ComponentStatus::Intact),
        "破损" => Some(ComponentStatus::Damaged),
        "丢失" => Some(ComponentStatus::Lost),
        "废弃" => Some(ComponentStatus::Abandoned),
        "移除" => Some(ComponentStatus::Removed),
        _ => None,
    };
    by_zh.map(Ok).unwrap_or_else(|| {
        ComponentStatus::parse(&s.to_ascii_lowercase()).map_err(|_| {
            format!("unknown status {s:?}; expected intact, damaged, lost, abandoned or removed")
        })
    })
}

/// A date as `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` (the CSRQ form of GB/T 47678.5).
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .ok_or_else(|| format!("surveyed_on {s:?} is not a date (YYYY-MM-DD or YYYYMMDD)"))
}

/// Builds one component from its fields (`get` reads one by name) and WGS84/GCJ-02 coordinates.
fn build_component(
    get: impl Fn(&str) -> Option<String>,
    lng: f64,
    lat: f64,
    gcj02_input: bool,
) -> Result<Component, String> {
    let id_text = get("id").ok_or("id is empty")?;
    let id = ComponentId::parse(&id_text).map_err(|_| {
        format!(
            "id {id_text:?} is not a 17-digit component id (6 region + 5 category + 6 sequence)"
        )
    })?;
    let category_code = get("category_code").ok_or("category_code is empty")?;
    if category_code.len() != 5 || !all_digits(&category_code) {
        return Err(format!(
            "category_code {category_code:?} is not a 5-digit category code"
        ));
    }
    if id.category_code() != category_code {
        return Err(format!(
            "id {id_text} carries category {} but category_code is {category_code}",
            id.category_code()
        ));
    }
    let name = get("name").ok_or("name is empty")?;
    if !valid_lng_lat(lng, lat) {
        return Err(format!(
            "coordinate lng={lng}, lat={lat} is not a longitude/latitude"
        ));
    }
    let (lng, lat) = if gcj02_input {
        gcj02::gcj02_to_wgs84(lng, lat)
    } else {
        (lng, lat)
    };
    let grid_code = get("grid_code");
    if let Some(g) = &grid_code
        && (g.len() != 15 || !all_digits(g))
    {
        return Err(format!("grid_code {g:?} is not a 15-digit unit grid code"));
    }
    let community_code = match (get("community_code"), &grid_code) {
        (Some(c), _) if c.len() != 12 || !all_digits(&c) => {
            return Err(format!(
                "community_code {c:?} is not a 12-digit community code"
            ));
        }
        (Some(c), Some(g)) if !g.starts_with(&c) => {
            return Err(format!("grid_code {g} does not lie in community_code {c}"));
        }
        (Some(c), _) => Some(c),
        (None, Some(g)) => Some(g[..12].to_string()),
        (None, None) => None,
    };
    let status = match get("status") {
        Some(s) => parse_status(&s)?,
        None => ComponentStatus::Intact,
    };
    let surveyed_on = parse_date(&get("surveyed_on").ok_or("surveyed_on is empty")?)?;
    Ok(Component {
        id,
        category_code,
        name,
        lng,
        lat,
        grid_code,
        community_code,
        owner_department: get("owner_department"),
        maintainer_department: get("maintainer_department"),
        status,
        surveyed_on,
    })
}

/// Parses a component CSV (部件普查数据) with the header
/// `id,category_code,name,lng,lat,grid_code,owner_department,maintainer_department,status,surveyed_on`
/// (WGS84 coordinates). See [`parse_components_csv_crs`] for GCJ-02 input.
pub fn parse_components_csv(text: &str) -> Result<Vec<Component>, ImportError> {
    parse_components_csv_crs(text, false)
}

/// [`parse_components_csv`] with the choice of input coordinates (`gcj02 = true`: GCJ-02,
/// converted to WGS84).
pub fn parse_components_csv_crs(text: &str, gcj02: bool) -> Result<Vec<Component>, ImportError> {
    let csv = Csv::read(text, "component", &COMPONENT_REQUIRED)?;
    let mut out = Vec::with_capacity(csv.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, rec) in csv.rows() {
        let err = |message: String| ImportError::Line { line, message };
        let number = |col: &str| -> Result<f64, ImportError> {
            let v = csv
                .get(rec, col)
                .ok_or_else(|| err(format!("{col} is empty")))?;
            v.parse::<f64>()
                .map_err(|_| err(format!("{col} {v:?} is not a number")))
        };
        let (lng, lat) = (number("lng")?, number("lat")?);
        let c = build_component(|k| csv.get(rec, k).map(str::to_string), lng, lat, gcj02)
            .map_err(err)?;
        if let Some(first) = seen.insert(c.id.as_str().to_string(), line) {
            return Err(err(format!(
                "id {} already appears on line {first}",
                c.id.as_str()
            )));
        }
        out.push(c);
    }
    Ok(out)
}

/// Parses components as a GeoJSON FeatureCollection of Point features whose properties are the
/// CSV columns (`id` may also be the feature's `id`). `gcj02`: the coordinates are GCJ-02.
pub fn parse_components_geojson(text: &str, gcj02: bool) -> Result<Vec<Component>, ImportError> {
    let features = feature_values(text)?;
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, fv) in features.iter().enumerate() {
        let mut props = raw_props(fv);
        if !props.contains_key("id") {
            match fv.get("id") {
                Some(Value::String(s)) => {
                    props.insert("id".into(), Value::String(s.clone()));
                }
                Some(Value::Number(n)) => {
                    props.insert("id".into(), Value::String(n.to_string()));
                }
                _ => {}
            }
        }
        let label = prop_text(&props, "id").map(|id| format!("id {id}"));
        let err = |message: String| ImportError::Feature {
            index,
            id: label.clone(),
            message,
        };
        let (_, geometry) = feature_parts(index, fv, label.clone())?;
        if geometry.is_null() {
            return Err(err("has no geometry".into()));
        }
        let kind = geometry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("(none)");
        if kind != "Point" {
            return Err(err(format!("geometry type is {kind}, expected Point")));
        }
        let coords = geometry.get("coordinates").and_then(Value::as_array);
        let (lng, lat) = match coords.map(|c| c.iter().map(Value::as_f64).collect::<Vec<_>>()) {
            Some(c) if c.len() >= 2 && c[0].is_some() && c[1].is_some() => {
                (c[0].unwrap_or(f64::NAN), c[1].unwrap_or(f64::NAN))
            }
            _ => return Err(err("Point coordinates are not [lng, lat] numbers".into())),
        };
        let c = build_component(|k| prop_text(&props, k), lng, lat, gcj02).map_err(err)?;
        if let Some(first) = seen.insert(c.id.as_str().to_string(), index) {
            return Err(err(format!(
                "id {} already appears in feature {first}",
                c.id.as_str()
            )));
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_err(r: Result<impl std::fmt::Debug, ImportError>) -> (u64, String) {
        match r {
            Err(ImportError::Line { line, message }) => (line, message),
            other => panic!("expected a line error, got {other:?}"),
        }
    }

    fn feature_err(
        r: Result<impl std::fmt::Debug, ImportError>,
    ) -> (usize, Option<String>, String) {
        match r {
            Err(ImportError::Feature { index, id, message }) => (index, id, message),
            other => panic!("expected a feature error, got {other:?}"),
        }
    }

    const DIVISIONS: &str = "level,code,name,parent_code
city,441300,惠州市,440000
district,441302,惠城区,441300
street,441302001,桥东街道,441302
community,441302001001,新岗社区居委会,441302001
";

    #[test]
    fn divisions_parse() {
        let r = parse_divisions_csv(DIVISIONS).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].level, RegionLevel::City);
        assert_eq!(
            r[0].parent_code, None,
            "the province is not part of the tree"
        );
        assert_eq!(r[1].parent_code.as_deref(), Some("441300"));
        assert_eq!(r[3].level, RegionLevel::Community);
        assert_eq!(r[3].name, "新岗社区居委会");
        assert!(r.iter().all(|x| x.geometry.is_none() && !x.synthetic));
    }

    #[test]
    fn divisions_subtree_keeps_root_parent() {
        let text = "level,code,name,parent_code\nstreet,441302001,桥东街道,441302\ncommunity,441302001001,新岗社区,441302001\n";
        let r = parse_divisions_csv(text).unwrap();
        assert_eq!(r[0].parent_code.as_deref(), Some("441302"));
    }

    #[test]
    fn divisions_errors_name_the_line() {
        let (line, msg) = line_err(parse_divisions_csv(
            &DIVISIONS.replace("street,441302001,", "street,44130200,"),
        ));
        assert_eq!(line, 4);
        assert!(msg.contains("44130200") && msg.contains("9"), "{msg}");

        let (line, msg) = line_err(parse_divisions_csv(
            &DIVISIONS.replace("district,", "distrikt,"),
        ));
        assert_eq!(line, 3);
        assert!(msg.contains("distrikt"), "{msg}");

        // a community whose street is missing
        let text = DIVISIONS.replace(
            "441302001001,新岗社区居委会,441302001",
            "441302002001,新岗社区居委会,441302002",
        );
        let (line, msg) = line_err(parse_divisions_csv(&text));
        assert_eq!(line, 5);
        assert!(
            msg.contains("441302002") && msg.contains("not in the file"),
            "{msg}"
        );

        // a code under the wrong parent
        let text = DIVISIONS.replace(
            "441302001001,新岗社区居委会,441302001",
            "441303001001,新岗社区居委会,441302001",
        );
        let (line, msg) = line_err(parse_divisions_csv(&text));
        assert_eq!(line, 5);
        assert!(msg.contains("does not belong"), "{msg}");

        // duplicate
        let text = format!("{DIVISIONS}district,441302,惠城区,441300\n");
        let (line, msg) = line_err(parse_divisions_csv(&text));
        assert_eq!(line, 6);
        assert!(msg.contains("line 3"), "{msg}");

        // header
        let (line, msg) = line_err(parse_divisions_csv("level,code,name\ncity,441300,惠州市\n"));
        assert_eq!(line, 1);
        assert!(msg.contains("parent_code"), "{msg}");

        // wrong field count
        let (line, msg) = line_err(parse_divisions_csv(&format!(
            "{DIVISIONS}street,441302002\n"
        )));
        assert_eq!(line, 6);
        assert!(msg.contains("fields"), "{msg}");

        // empty name
        let (line, msg) = line_err(parse_divisions_csv(&DIVISIONS.replace("惠城区", "")));
        assert_eq!(line, 3);
        assert!(msg.contains("name"), "{msg}");

        // grids do not belong in the CSV
        let (line, _) = line_err(parse_divisions_csv(&format!(
            "{DIVISIONS}grid,441302001001001,网格,441302001001\n"
        )));
        assert_eq!(line, 6);

        assert!(matches!(
            parse_divisions_csv("level,code,name,parent_code\n"),
            Err(ImportError::Document { .. })
        ));
    }

    fn square(lng: f64, lat: f64, d: f64) -> String {
        format!(
            "{{\"type\":\"Polygon\",\"coordinates\":[[[{lng},{lat}],[{x},{lat}],[{x},{y}],[{lng},{y}],[{lng},{lat}]]]}}",
            x = lng + d,
            y = lat + d
        )
    }

    fn fc(features: &[String]) -> String {
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
            features.join(",")
        )
    }

    fn feature(props: &str, geometry: &str) -> String {
        format!("{{\"type\":\"Feature\",\"properties\":{props},\"geometry\":{geometry}}}")
    }

    #[test]
    fn boundaries_parse_and_infer_levels() {
        let text = fc(&[
            feature(
                r#"{"code":"441302","name":"惠城区"}"#,
                &square(114.40, 23.08, 0.01),
            ),
            feature(
                r#"{"code":441302001,"name":"桥东街道"}"#,
                &square(114.40, 23.08, 0.005),
            ),
            feature(
                r#"{"code":"441300","name":"惠州市","level":"city"}"#,
                &square(114.3, 23.0, 0.2),
            ),
        ]);
        let r = parse_boundaries_geojson(&text, None, false).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].level, r[0].parent_code.as_deref()),
            (RegionLevel::District, Some("441300"))
        );
        assert_eq!(
            (r[1].level, r[1].parent_code.as_deref()),
            (RegionLevel::Street, Some("441302"))
        );
        assert_eq!(
            (r[2].level, r[2].parent_code.as_deref()),
            (RegionLevel::City, None)
        );
        assert!(
            r.iter()
                .all(|x| x.geometry.is_some() && x.bbox.is_some() && !x.synthetic)
        );
        let bbox = r[0].bbox.unwrap();
        assert!(
            (bbox[0] - 114.40).abs() < 1e-9 && (bbox[3] - 23.09).abs() < 1e-9,
            "{bbox:?}"
        );

        // the level argument applies where the feature has none
        let text = fc(&[feature(
            r#"{"code":"441300","name":"惠州市"}"#,
            &square(114.3, 23.0, 0.2),
        )]);
        let r = parse_boundaries_geojson(&text, Some(RegionLevel::District), false).unwrap();
        assert_eq!(r[0].level, RegionLevel::District);
    }

    #[test]
    fn boundaries_gcj02_are_converted() {
        let text = fc(&[feature(
            r#"{"code":"441302","name":"惠城区"}"#,
            &square(114.40, 23.08, 0.01),
        )]);
        let wgs = parse_boundaries_geojson(&text, None, false).unwrap();
        let conv = parse_boundaries_geojson(&text, None, true).unwrap();
        let (a, b) = (wgs[0].bbox.unwrap(), conv[0].bbox.unwrap());
        // GCJ-02 is offset by a few hundred metres in Guangdong: WGS84 lies south-west of it.
        let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
        assert!(
            dx > 0.002 && dx < 0.01 && dy > -0.01 && dy < 0.0,
            "dx={dx} dy={dy}"
        );
    }

    #[test]
    fn boundaries_errors_name_the_feature() {
        let good = feature(
            r#"{"code":"441302","name":"惠城区"}"#,
            &square(114.40, 23.08, 0.01),
        );
        let line = r#"{"type":"LineString","coordinates":[[114.0,23.0],[114.1,23.1]]}"#;
        let (i, id, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[
                good.clone(),
                feature(r#"{"code":"441303","name":"惠阳区"}"#, line),
            ]),
            None,
            false,
        ));
        assert_eq!((i, id.as_deref()), (1, Some("code 441303")));
        assert!(msg.contains("LineString"), "{msg}");

        let (i, id, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[
                good.clone(),
                good.clone(),
                feature(r#"{"name":"无码"}"#, &square(114.0, 23.0, 0.1)),
            ]),
            None,
            false,
        ));
        assert_eq!((i, id), (1, Some("code 441302".to_string())));
        assert!(msg.contains("feature 0"), "duplicate first: {msg}");

        let (i, id, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[feature(r#"{"name":"无码"}"#, &square(114.0, 23.0, 0.1))]),
            None,
            false,
        ));
        assert_eq!((i, id), (0, None));
        assert!(msg.contains("code"), "{msg}");

        let (_, _, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[feature(
                r#"{"code":"4413021","name":"x"}"#,
                &square(114.0, 23.0, 0.1),
            )]),
            None,
            false,
        ));
        assert!(msg.contains("4413021"), "{msg}");

        let (_, _, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[feature(r#"{"code":"441302","name":"x"}"#, "null")]),
            None,
            false,
        ));
        assert!(msg.contains("no geometry"), "{msg}");

        let (_, _, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[feature(
                r#"{"code":"441302","name":"x"}"#,
                &square(214.0, 23.0, 0.1),
            )]),
            None,
            false,
        ));
        assert!(msg.contains("longitude"), "{msg}");

        let (_, _, msg) = feature_err(parse_boundaries_geojson(
            &fc(&[feature(r#"{"code":"441302"}"#, &square(114.0, 23.0, 0.1))]),
            None,
            false,
        ));
        assert!(msg.contains("name"), "{msg}");

        let e = parse_boundaries_geojson(r#"{"type":"Feature"}"#, None, false).unwrap_err();
        assert!(e.to_string().contains("FeatureCollection"), "{e}");
        let e = parse_boundaries_geojson("{not json", None, false).unwrap_err();
        assert!(e.to_string().contains("JSON"), "{e}");
    }

    #[test]
    fn grids_parse_and_check_codes() {
        let text = fc(&[
            feature(
                r#"{"code":"441302001001001"}"#,
                &square(114.40, 23.08, 0.001),
            ),
            feature(
                r#"{"code":"441302001001002","name":"新岗2号网格"}"#,
                &square(114.401, 23.08, 0.001),
            ),
        ]);
        let r = parse_grids_geojson(&text, false).unwrap();
        assert_eq!(r.len(), 2);
        assert!(
            r.iter().all(|g| g.level == RegionLevel::Grid
                && g.parent_code.as_deref() == Some("441302001001"))
        );
        assert_eq!(r[1].name, "新岗2号网格");
        assert!(!r[0].name.is_empty());
        let area = r[0].area_m2.unwrap();
        assert!(
            (9_000.0..13_000.0).contains(&area),
            "≈ 102 m × 111 m: {area}"
        );

        let text = fc(&[
            feature(
                r#"{"code":"441302001001001"}"#,
                &square(114.40, 23.08, 0.001),
            ),
            feature(r#"{"code":"441302001001"}"#, &square(114.40, 23.08, 0.001)),
        ]);
        let (i, id, msg) = feature_err(parse_grids_geojson(&text, false));
        assert_eq!((i, id.as_deref()), (1, Some("code 441302001001")));
        assert!(msg.contains("15"), "{msg}");

        let text = fc(&[feature(
            r#"{"code":"441302001001001","level":"community"}"#,
            &square(114.4, 23.08, 0.001),
        )]);
        let (i, _, msg) = feature_err(parse_grids_geojson(&text, false));
        assert_eq!(i, 0);
        assert!(msg.contains("community"), "{msg}");
    }

    const COMPONENTS: &str = "id,category_code,name,lng,lat,grid_code,owner_department,maintainer_department,status,surveyed_on
44130201001000001,01001,供水井盖,114.41,23.09,441302001001001,441300-water_supply,441300-water_supply,intact,2025-03-01
44130204002000001,04002,行道树,114.42,23.10,,,,,20250302
44130201037000001,01037,路灯,114.43,23.11,441302001001002,441300-municipal,441300-municipal,破损,2025/03/03
";

    #[test]
    fn components_csv_parse() {
        let c = parse_components_csv(COMPONENTS).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].id.as_str(), "44130201001000001");
        assert_eq!(c[0].community_code.as_deref(), Some("441302001001"));
        assert_eq!(
            c[0].owner_department.as_deref(),
            Some("441300-water_supply")
        );
        assert_eq!(c[1].status, ComponentStatus::Intact, "default");
        assert_eq!(
            (
                c[1].grid_code.clone(),
                c[1].community_code.clone(),
                c[1].owner_department.clone()
            ),
            (None, None, None)
        );
        assert_eq!(
            c[1].surveyed_on,
            NaiveDate::from_ymd_opt(2025, 3, 2).unwrap()
        );
        assert_eq!(c[2].status, ComponentStatus::Damaged);
        assert_eq!((c[2].lng, c[2].lat), (114.43, 23.11));

        let g = parse_components_csv_crs(COMPONENTS, true).unwrap();
        assert!((g[0].lng - 114.41).abs() > 0.002, "converted from GCJ-02");
    }

    #[test]
    fn components_csv_errors_name_the_line() {
        let cases: [(&str, &str, u64, &str); 7] = [
            (
                "44130201001000001,01001",
                "4413020100100001,01001",
                2,
                "17-digit",
            ),
            (
                "44130204002000001,04002",
                "44130204002000001,04003",
                3,
                "carries category 04002",
            ),
            ("114.42,23.10", "114.42,north", 3, "lat"),
            ("破损", "broken", 4, "broken"),
            ("2025/03/03", "yesterday", 4, "yesterday"),
            ("441302001001002", "4413020010010", 4, "grid_code"),
            ("114.41,23.09", "191.41,23.09", 2, "longitude"),
        ];
        for (from, to, want_line, want_text) in cases {
            let (line, msg) = line_err(parse_components_csv(&COMPONENTS.replacen(from, to, 1)));
            assert_eq!(line, want_line, "{to}: {msg}");
            assert!(msg.contains(want_text), "{to}: {msg}");
        }
        let dup =
            format!("{COMPONENTS}44130201001000001,01001,供水井盖,114.41,23.09,,,,,2025-03-01\n");
        let (line, msg) = line_err(parse_components_csv(&dup));
        assert_eq!(line, 5);
        assert!(msg.contains("line 2"), "{msg}");
        let (line, msg) = line_err(parse_components_csv("id,name,lng,lat\n1,x,1,2\n"));
        assert_eq!(line, 1);
        assert!(
            msg.contains("category_code") && msg.contains("surveyed_on"),
            "{msg}"
        );
    }

    fn point_feature(props: &str, lng: f64, lat: f64) -> String {
        feature(
            props,
            &format!("{{\"type\":\"Point\",\"coordinates\":[{lng},{lat}]}}"),
        )
    }

    #[test]
    fn components_geojson_parse() {
        let text = fc(&[
            point_feature(
                r#"{"id":"44130201001000001","category_code":"01001","name":"供水井盖","grid_code":"441302001001001","status":"damaged","surveyed_on":"2025-01-02"}"#,
                114.41,
                23.09,
            ),
            // id as the feature id, number properties
            r#"{"type":"Feature","id":"44130203005000007","properties":{"category_code":"03005","name":"垃圾箱","surveyed_on":20250103},"geometry":{"type":"Point","coordinates":[114.42,23.1]}}"#
                .to_string(),
        ]);
        let c = parse_components_geojson(&text, false).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].status, ComponentStatus::Damaged);
        assert_eq!(c[0].community_code.as_deref(), Some("441302001001"));
        assert_eq!(c[1].id.as_str(), "44130203005000007");
        assert_eq!(
            c[1].surveyed_on,
            NaiveDate::from_ymd_opt(2025, 1, 3).unwrap()
        );
        let g = parse_components_geojson(&text, true).unwrap();
        assert!(g[0].lng < c[0].lng && g[0].lat > c[0].lat - 0.01);
    }

    #[test]
    fn components_geojson_errors_name_the_feature() {
        let ok = point_feature(
            r#"{"id":"44130201001000001","category_code":"01001","name":"供水井盖","surveyed_on":"2025-01-02"}"#,
            114.41,
            23.09,
        );
        let poly = feature(
            r#"{"id":"44130201001000002","category_code":"01001","name":"供水井盖","surveyed_on":"2025-01-02"}"#,
            &square(114.0, 23.0, 0.1),
        );
        let (i, id, msg) = feature_err(parse_components_geojson(&fc(&[ok.clone(), poly]), false));
        assert_eq!((i, id.as_deref()), (1, Some("id 44130201001000002")));
        assert!(msg.contains("Point"), "{msg}");

        let nodate = point_feature(
            r#"{"id":"44130201001000003","category_code":"01001","name":"供水井盖"}"#,
            114.41,
            23.09,
        );
        let (i, id, msg) = feature_err(parse_components_geojson(
            &fc(&[ok.clone(), ok.clone(), nodate]),
            false,
        ));
        assert_eq!((i, id.as_deref()), (1, Some("id 44130201001000001")));
        assert!(msg.contains("feature 0"), "{msg}");

        let nodate = point_feature(
            r#"{"id":"44130201001000003","category_code":"01001","name":"供水井盖"}"#,
            114.41,
            23.09,
        );
        let (i, _, msg) = feature_err(parse_components_geojson(&fc(&[ok, nodate]), false));
        assert_eq!(i, 1);
        assert!(msg.contains("surveyed_on"), "{msg}");
    }

    #[test]
    fn level_inference() {
        assert_eq!(infer_level("441300"), Some(RegionLevel::City));
        assert_eq!(infer_level("441302"), Some(RegionLevel::District));
        assert_eq!(infer_level("441302001"), Some(RegionLevel::Street));
        assert_eq!(infer_level("441302001001"), Some(RegionLevel::Community));
        assert_eq!(infer_level("441302001001001"), Some(RegionLevel::Grid));
        assert_eq!(infer_level("4413"), None);
    }
}
