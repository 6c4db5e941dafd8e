//! 公共服务设施 (public-service points of interest, POIs): the places a citizen looks for on the
//! street — public toilets (公厕), parks (公园), vendor zones (摊规点, 摊贩规范经营点: where street
//! vendors may trade) and car-free zones (无车区: pedestrian streets and squares).
//!
//! What lives here: the [`PoiType`], the [`Poi`] record, the import files read whole before
//! anything is written (CSV — [`parse_pois_csv`] — and a GeoJSON FeatureCollection —
//! [`parse_pois_geojson`]; every error names the line or the feature), and what the "nearby"
//! answer says about a POI: the great-circle distance ([`distance_m`]), the initial bearing
//! ([`bearing_deg`]) and the walking direction on the 8-point compass ([`Compass8`], 北/东北/东/…).
//!
//! Pure like the rest of the domain: coordinates given in GCJ-02 (what phones' map apps give) are
//! returned as they are, marked [`PoiCrs::Gcj02`]; the caller converts them to WGS84 (the
//! geography crate does) and locates them in the city before they are stored.
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use cityops_csv::{CsvError, Row, Table};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::DomainError;
use crate::case::types::named_enum;
use crate::limits::TextLimit;
use crate::monitoring::csv::{CHINA_LAT, CHINA_LNG};

named_enum!(
    /// The kind of a point of interest (公共服务设施类型).
    PoiType, "POI type" {
        /// 公厕: a public toilet.
        Toilet => "toilet", "公厕";
        /// 公园: a park, a public garden or green.
        Park => "park", "公园";
        /// 摊规点 (摊贩规范经营点): a vendor zone, where street vendors may trade at set hours.
        VendorZone => "vendor_zone", "摊规点";
        /// 无车区: a car-free zone — a pedestrian street or square.
        CarFreeZone => "car_free_zone", "无车区";
    }
);

impl PoiType {
    /// The English name (`Public toilet`, …).
    pub fn name_en(self) -> &'static str {
        match self {
            PoiType::Toilet => "Public toilet",
            PoiType::Park => "Park",
            PoiType::VendorZone => "Vendor zone",
            PoiType::CarFreeZone => "Car-free zone",
        }
    }

    /// A type from an import file: its code (`toilet`), its Chinese name (`公厕`) or its English
    /// name, any case.
    pub fn from_name(text: &str) -> Option<PoiType> {
        let t = text.trim();
        PoiType::ALL.iter().copied().find(|p| {
            p.as_str().eq_ignore_ascii_case(t)
                || p.name_zh() == t
                || p.name_en().eq_ignore_ascii_case(t)
        })
    }
}

/// The longest name of a POI (characters).
pub const POI_NAME: TextLimit = TextLimit {
    field: "name",
    max_chars: 100,
};
/// The longest address of a POI (characters), as a reported address.
pub const POI_ADDRESS: TextLimit = crate::limits::ADDRESS;
/// The longest opening hours (开放时间) of a POI (characters).
pub const POI_OPENING_HOURS: TextLimit = TextLimit {
    field: "opening_hours",
    max_chars: 100,
};
/// The longest note (备注) of a POI (characters).
pub const POI_NOTE: TextLimit = TextLimit {
    field: "note",
    max_chars: 500,
};

/// A point of interest (公共服务设施点位). Its position is WGS84; the region codes are where the
/// city's index located it (district → unit grid; the finer ones may be absent outside the
/// gridded core). Identified in the store by `id`, and in imports by its type and name (an
/// import replaces the POI of the same type and name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poi {
    /// The store's number (0 until stored).
    pub id: i64,
    pub poi_type: PoiType,
    /// 名称, e.g. `西湖公园`, `麦地路公厕`.
    pub name: String,
    /// 地址
    pub address: Option<String>,
    /// Longitude, WGS84.
    pub lng: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// 开放时间 as written (`全天开放`, `06:00-22:00`).
    pub opening_hours: Option<String>,
    /// 备注 (e.g. 无障碍设施、母婴室).
    pub note: Option<String>,
    /// 所在区县
    pub district_code: Option<String>,
    /// 所在街道
    pub street_code: Option<String>,
    /// 所在社区
    pub community_code: Option<String>,
    /// 所在单元网格
    pub grid_code: Option<String>,
}

impl Poi {
    /// A POI not located yet (no region codes) and not stored (`id` 0).
    pub fn new(poi_type: PoiType, name: impl Into<String>, lng: f64, lat: f64) -> Self {
        Self {
            id: 0,
            poi_type,
            name: name.into(),
            address: None,
            lng,
            lat,
            opening_hours: None,
            note: None,
            district_code: None,
            street_code: None,
            community_code: None,
            grid_code: None,
        }
    }

    /// Checks the texts against their limits and the position (finite, within China): what a
    /// store accepts.
    pub fn check(&self) -> Result<(), DomainError> {
        let label = |m: String| DomainError::Invalid(format!("POI {:?}: {m}", clip(&self.name)));
        check_text(POI_NAME.field, &self.name, POI_NAME.max_chars, true).map_err(label)?;
        for (limit, value) in [
            (POI_ADDRESS, &self.address),
            (POI_OPENING_HOURS, &self.opening_hours),
            (POI_NOTE, &self.note),
        ] {
            if let Some(v) = value {
                check_text(limit.field, v, limit.max_chars, false).map_err(label)?;
            }
        }
        check_position(self.lng, self.lat).map_err(label)
    }
}

impl Poi {
    /// The POI as an RFC 5870 `geo:` URI (WGS84) with its name as the label
    /// (`geo:23.083800,114.392100?q=23.083800,114.392100(%E5%85%AC%E5%8E%95)`): what opens the
    /// phone's map app at the place.
    pub fn geo_uri(&self) -> String {
        let mut label = String::with_capacity(self.name.len() * 3);
        for b in self.name.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                label.push(char::from(b));
            } else {
                label.push_str(&format!("%{b:02X}"));
            }
        }
        let (lng, lat) = (self.lng, self.lat);
        format!("geo:{lat:.6},{lng:.6}?q={lat:.6},{lng:.6}({label})")
    }
}

/// At most 40 characters of a name, for messages.
fn clip(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A text of at most `max` characters without control characters (and not blank when `required`).
fn check_text(field: &str, text: &str, max: usize, required: bool) -> Result<(), String> {
    if required && text.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(format!(
            "{field} has {chars} characters; at most {max} are allowed"
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{field} contains a control character"));
    }
    Ok(())
}

/// A finite longitude and latitude within China's extent.
fn check_position(lng: f64, lat: f64) -> Result<(), String> {
    let inside = |v: f64, (lo, hi): (f64, f64)| v.is_finite() && v >= lo && v <= hi;
    if !inside(lng, CHINA_LNG) {
        return Err(format!(
            "lng {lng} is outside China ({}–{} E)",
            CHINA_LNG.0, CHINA_LNG.1
        ));
    }
    if !inside(lat, CHINA_LAT) {
        return Err(format!(
            "lat {lat} is outside China ({}–{} N)",
            CHINA_LAT.0, CHINA_LAT.1
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Import

/// The coordinate system of an imported position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoiCrs {
    /// WGS84 (also CGCS2000, the same to a metre): stored as given. The default.
    #[default]
    Wgs84,
    /// GCJ-02 (web maps and phones' map apps in China): converted to WGS84 by the caller.
    Gcj02,
}

impl PoiCrs {
    /// `wgs84`, `cgcs2000` (= WGS84) or `gcj02`, any case.
    pub fn parse(text: &str) -> Option<PoiCrs> {
        match text.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "cgcs2000" => Some(PoiCrs::Wgs84),
            "gcj02" => Some(PoiCrs::Gcj02),
            _ => None,
        }
    }

    /// `wgs84` or `gcj02`.
    pub fn as_str(self) -> &'static str {
        match self {
            PoiCrs::Wgs84 => "wgs84",
            PoiCrs::Gcj02 => "gcj02",
        }
    }
}

/// Where an imported POI was written: what every later error about it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoiSource {
    /// A line of a CSV file (1-based; the header is line 1).
    Line(u64),
    /// A feature of a GeoJSON FeatureCollection (0-based index in `features`).
    Feature(usize),
}

impl fmt::Display for PoiSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoiSource::Line(n) => write!(f, "POI file line {n}"),
            PoiSource::Feature(i) => write!(f, "POI GeoJSON feature {i}"),
        }
    }
}

/// One POI of an import file, as written: its position in [`PoiImport::crs`] (convert it to
/// WGS84 before storing), not located yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoiImport {
    pub source: PoiSource,
    pub crs: PoiCrs,
    pub poi: Poi,
}

impl PoiImport {
    /// An error about this POI that names where it was written: `POI file line 3 (西湖公园): …`.
    pub fn error(&self, message: impl fmt::Display) -> DomainError {
        DomainError::Invalid(format!(
            "{} ({}): {message}",
            self.source,
            clip(&self.poi.name)
        ))
    }
}

/// The columns of a POI file, in the documented order.
pub const POI_CSV_COLUMNS: [&str; 8] = [
    "type",
    "name",
    "lng",
    "lat",
    "address",
    "opening_hours",
    "note",
    "crs",
];

/// The columns that must be present (and non-empty on every line).
const POI_CSV_REQUIRED: [&str; 4] = ["type", "name", "lng", "lat"];

fn line_error(e: CsvError) -> DomainError {
    DomainError::Invalid(format!("POI file line {}: {}", e.line, e.detail()))
}

/// Parses a POI file (公共服务设施导入, CSV):
///
/// ```text
/// type,name,lng,lat,address,opening_hours,note,crs
/// toilet,西湖公园1号公厕,114.3921,23.0838,惠城区环城西二路,全天开放,无障碍厕位,
/// park,西湖公园,114.3925,23.0820,惠城区环城西二路,06:00-22:00,,gcj02
/// ```
///
/// `type`, `name`, `lng`, `lat` are required; the other columns may be left out or empty. `type`
/// is the code (`toilet`, `park`, `vendor_zone`, `car_free_zone`), the Chinese name (`公厕`,
/// `公园`, `摊规点`, `无车区`) or the English one. `crs` is `wgs84` (also `cgcs2000`) or `gcj02`;
/// empty or absent, `default_crs`. A type and name given twice is refused. Every error names its
/// line (the header is line 1) and, where one field is at fault, the column:
/// `POI file line 3: column lng: …`. All or nothing: either every line is returned or the first
/// problem.
pub fn parse_pois_csv(text: &str, default_crs: PoiCrs) -> Result<Vec<PoiImport>, DomainError> {
    let table = cityops_csv::read(text).map_err(line_error)?;
    check_header(&table).map_err(line_error)?;
    table.check_widths().map_err(line_error)?;
    let mut first: HashMap<(PoiType, String), PoiSource> = HashMap::new();
    let mut out = Vec::with_capacity(table.rows().len());
    for row in table.rows() {
        let import = parse_row(&table, row, default_crs).map_err(line_error)?;
        let key = (import.poi.poi_type, import.poi.name.clone());
        if let Some(PoiSource::Line(line)) = first.insert(key, import.source) {
            return Err(line_error(row.error_in(
                "name",
                format!(
                    "{} {:?} is already given on line {line}",
                    import.poi.poi_type.name_zh(),
                    import.poi.name
                ),
            )));
        }
        out.push(import);
    }
    Ok(out)
}

fn check_header(table: &Table) -> Result<(), CsvError> {
    table.require_columns("POI", &POI_CSV_REQUIRED)?;
    let unknown: Vec<&str> = table
        .header()
        .iter()
        .map(String::as_str)
        .filter(|h| !h.is_empty() && !POI_CSV_COLUMNS.contains(h))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CsvError::at_line(
        table.header_line(),
        format!(
            "unknown column(s) {} in the POI header; expected {}",
            unknown.join(", "),
            POI_CSV_COLUMNS.join(",")
        ),
    ))
}

fn parse_row(table: &Table, row: &Row, default_crs: PoiCrs) -> Result<PoiImport, CsvError> {
    let type_text = table.require(row, "type")?;
    let poi_type = PoiType::from_name(type_text)
        .ok_or_else(|| row.error_in("type", unknown_type(type_text)))?;
    let name = table.require(row, "name")?;
    let number = |column: &str| -> Result<f64, CsvError> {
        let t = table.require(row, column)?;
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| row.error_in(column, format!("{t:?} is not a number")))
    };
    let (lng, lat) = (number("lng")?, number("lat")?);
    let crs = match table.get(row, "crs") {
        None => default_crs,
        Some(c) => PoiCrs::parse(c)
            .ok_or_else(|| row.error_in("crs", format!("{c:?}: expected wgs84 or gcj02")))?,
    };
    let text = |column: &str| table.get(row, column).map(str::to_string);
    let poi = Poi {
        address: text("address"),
        opening_hours: text("opening_hours"),
        note: text("note"),
        ..Poi::new(poi_type, name, lng, lat)
    };
    check_fields(&poi).map_err(|(column, m)| row.error_in(column, m))?;
    Ok(PoiImport {
        source: PoiSource::Line(row.line()),
        crs,
        poi,
    })
}

fn unknown_type(text: &str) -> String {
    let known: Vec<&str> = PoiType::ALL.iter().map(|t| t.as_str()).collect();
    format!(
        "unknown POI type {text:?}: expected one of {} (or 公厕, 公园, 摊规点, 无车区)",
        known.join(", ")
    )
}

/// The field checks of an imported POI: (column at fault, message).
fn check_fields(poi: &Poi) -> Result<(), (&'static str, String)> {
    check_text("name", &poi.name, POI_NAME.max_chars, true).map_err(|m| ("name", m))?;
    for (column, limit, value) in [
        ("address", POI_ADDRESS, &poi.address),
        ("opening_hours", POI_OPENING_HOURS, &poi.opening_hours),
        ("note", POI_NOTE, &poi.note),
    ] {
        if let Some(v) = value {
            check_text(column, v, limit.max_chars, false).map_err(|m| (column, m))?;
        }
    }
    let in_range = |v: f64, (lo, hi): (f64, f64)| v >= lo && v <= hi;
    if !in_range(poi.lng, CHINA_LNG) {
        return Err((
            "lng",
            format!(
                "{} is outside China ({}–{} E)",
                poi.lng, CHINA_LNG.0, CHINA_LNG.1
            ),
        ));
    }
    if !in_range(poi.lat, CHINA_LAT) {
        return Err((
            "lat",
            format!(
                "{} is outside China ({}–{} N)",
                poi.lat, CHINA_LAT.0, CHINA_LAT.1
            ),
        ));
    }
    Ok(())
}

/// Parses a POI GeoJSON FeatureCollection (公共服务设施导入, GeoJSON): Point features, or
/// Polygon/MultiPolygon features (a park's or a pedestrian street's outline) whose centroid
/// becomes the POI's position; the properties are the CSV's columns (`type`, `name`, `address`,
/// `opening_hours`, `note`, `crs`). RFC 7946 says WGS84; a `crs` property, else `default_crs`,
/// says otherwise (Chinese web maps export GCJ-02). Every error names the feature by its 0-based
/// index in `features` (and its name once known): `POI GeoJSON feature 2 (西湖公园): …`.
pub fn parse_pois_geojson(text: &str, default_crs: PoiCrs) -> Result<Vec<PoiImport>, DomainError> {
    let doc_err = |m: String| DomainError::Invalid(format!("POI GeoJSON: {m}"));
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value =
        serde_json::from_str(text).map_err(|e| doc_err(format!("not valid JSON: {e}")))?;
    let Value::Object(mut doc) = doc else {
        return Err(doc_err("expected a FeatureCollection object".into()));
    };
    match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        other => {
            return Err(doc_err(format!(
                "expected a FeatureCollection, found type {other:?}"
            )));
        }
    }
    let Some(Value::Array(features)) = doc.remove("features") else {
        return Err(doc_err("\"features\" is missing or not an array".into()));
    };
    let mut first: HashMap<(PoiType, String), usize> = HashMap::new();
    let mut out = Vec::with_capacity(features.len());
    for (index, feature) in features.iter().enumerate() {
        let import = parse_feature(index, feature, default_crs)?;
        let key = (import.poi.poi_type, import.poi.name.clone());
        if let Some(earlier) = first.insert(key, index) {
            return Err(import.error(format!(
                "{} {:?} is already given in feature {earlier}",
                import.poi.poi_type.name_zh(),
                import.poi.name
            )));
        }
        out.push(import);
    }
    Ok(out)
}

fn parse_feature(
    index: usize,
    feature: &Value,
    default_crs: PoiCrs,
) -> Result<PoiImport, DomainError> {
    let source = PoiSource::Feature(index);
    let name_of = |props: Option<&Map<String, Value>>| {
        props
            .and_then(|p| prop_text(p, "name"))
            .map(|n| format!(" ({})", clip(&n)))
            .unwrap_or_default()
    };
    let err = |props: Option<&Map<String, Value>>, m: String| {
        DomainError::Invalid(format!("{source}{}: {m}", name_of(props)))
    };
    let Value::Object(obj) = feature else {
        return Err(err(None, "is not a JSON object".into()));
    };
    let props = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(err(None, "\"properties\" is not an object".into())),
    };
    let err = |m: String| err(Some(&props), m);
    match obj.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        other => return Err(err(format!("has type {other:?}, expected \"Feature\""))),
    }
    let type_text =
        prop_text(&props, "type").ok_or_else(|| err("property type is missing".into()))?;
    let poi_type = PoiType::from_name(&type_text).ok_or_else(|| err(unknown_type(&type_text)))?;
    let name = prop_text(&props, "name").ok_or_else(|| err("property name is missing".into()))?;
    let crs = match prop_text(&props, "crs") {
        None => default_crs,
        Some(c) => PoiCrs::parse(&c)
            .ok_or_else(|| err(format!("property crs {c:?}: expected wgs84 or gcj02")))?,
    };
    let (lng, lat) = feature_position(obj.get("geometry").unwrap_or(&Value::Null)).map_err(&err)?;
    let poi = Poi {
        address: prop_text(&props, "address"),
        opening_hours: prop_text(&props, "opening_hours"),
        note: prop_text(&props, "note"),
        ..Poi::new(poi_type, name, lng, lat)
    };
    check_fields(&poi).map_err(|(column, m)| err(format!("property {column}: {m}")))?;
    Ok(PoiImport { source, crs, poi })
}

/// A property as text: strings trimmed, numbers printed, `null`/empty as `None`.
fn prop_text(props: &Map<String, Value>, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The position of a feature: a Point's coordinates, or a (Multi)Polygon's centroid.
fn feature_position(geometry: &Value) -> Result<(f64, f64), String> {
    if geometry.is_null() {
        return Err("has no geometry".into());
    }
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    let coords = geometry.get("coordinates").unwrap_or(&Value::Null);
    match kind {
        "Point" => {
            position(coords).ok_or_else(|| "Point coordinates are not [lng, lat] numbers".into())
        }
        "Polygon" => {
            let rings = rings(coords).ok_or("Polygon coordinates are not rings of [lng, lat]")?;
            centroid(&[rings]).ok_or_else(|| "the Polygon has no area and no points".into())
        }
        "MultiPolygon" => {
            let polygons: Option<Vec<_>> = coords
                .as_array()
                .map(|ps| ps.iter().map(rings).collect::<Option<Vec<_>>>())
                .unwrap_or(None);
            let polygons =
                polygons.ok_or("MultiPolygon coordinates are not polygons of [lng, lat] rings")?;
            centroid(&polygons).ok_or_else(|| "the MultiPolygon has no area and no points".into())
        }
        other => Err(format!(
            "geometry type is {other}, expected Point, Polygon or MultiPolygon"
        )),
    }
}

fn position(v: &Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    if a.len() < 2 {
        return None;
    }
    let (x, y) = (a[0].as_f64()?, a[1].as_f64()?);
    (x.is_finite() && y.is_finite()).then_some((x, y))
}

type Ring = Vec<(f64, f64)>;

fn rings(v: &Value) -> Option<Vec<Ring>> {
    v.as_array()?
        .iter()
        .map(|ring| ring.as_array()?.iter().map(position).collect())
        .collect()
}

/// The area-weighted centroid of polygons (exterior ring minus holes), in degrees — planar, which
/// is exact enough for a park; the mean of the vertices when the area is zero.
fn centroid(polygons: &[Vec<Ring>]) -> Option<(f64, f64)> {
    // Relative to the first vertex: the shoelace sums of coordinates near 114° would lose the
    // digits that matter.
    let origin = *polygons.iter().flatten().flatten().next()?;
    let (mut area, mut cx, mut cy) = (0.0, 0.0, 0.0);
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for polygon in polygons {
        for (i, ring) in polygon.iter().enumerate() {
            let ring: Ring = ring
                .iter()
                .map(|p| (p.0 - origin.0, p.1 - origin.1))
                .collect();
            // The exterior ring adds, holes subtract, whatever their winding.
            let (a, x, y) = ring_moments(&ring);
            let sign = if (i == 0) == (a >= 0.0) { 1.0 } else { -1.0 };
            area += sign * a;
            cx += sign * x;
            cy += sign * y;
            for p in ring {
                n += 1;
                sx += p.0;
                sy += p.1;
            }
        }
    }
    if area.abs() > 1e-14 {
        Some((origin.0 + cx / (3.0 * area), origin.1 + cy / (3.0 * area)))
    } else if n > 0 {
        Some((origin.0 + sx / n as f64, origin.1 + sy / n as f64))
    } else {
        None
    }
}

/// (signed area, Σ(xᵢ+xᵢ₊₁)·cross, Σ(yᵢ+yᵢ₊₁)·cross / 2 scaled alike) of a ring: the shoelace
/// sums, so that the centroid is `(x / 3A, y / 3A)`.
fn ring_moments(ring: &[(f64, f64)]) -> (f64, f64, f64) {
    let (mut a, mut x, mut y) = (0.0, 0.0, 0.0);
    let n = ring.len();
    for i in 0..n {
        let (p, q) = (ring[i], ring[(i + 1) % n]);
        let cross = p.0 * q.1 - q.0 * p.1;
        a += cross;
        x += (p.0 + q.0) * cross;
        y += (p.1 + q.1) * cross;
    }
    (a / 2.0, x / 2.0, y / 2.0)
}

// ---------------------------------------------------------------------------------------------
// Nearby: distance and walking direction

/// The mean Earth radius (m) of [`distance_m`].
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// How far a nearby search looks (m): POIs farther than 20 km are not "nearby".
pub const NEARBY_MAX_RADIUS_M: f64 = 20_000.0;

/// The radii (m) a nearby search tries in turn — a box around the point of each, widening until
/// enough POIs lie within the radius — ending at [`NEARBY_MAX_RADIUS_M`].
pub const NEARBY_RADII_M: [f64; 6] = [
    500.0,
    1_000.0,
    2_000.0,
    5_000.0,
    10_000.0,
    NEARBY_MAX_RADIUS_M,
];

/// The most POIs a nearby answer holds.
pub const NEARBY_MAX_LIMIT: u32 = 50;
/// How many POIs a nearby answer holds when the caller does not say.
pub const NEARBY_DEFAULT_LIMIT: u32 = 5;

/// The great-circle (haversine) distance in metres from `(lng1, lat1)` to `(lng2, lat2)`.
pub fn distance_m(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    crate::case::duplicate::distance_m(lng1, lat1, lng2, lat2)
}

/// The initial bearing (degrees clockwise from north, `[0, 360)`) of the great circle from
/// `(lng1, lat1)` to `(lng2, lat2)`: which way to set off. 0 when the points coincide.
pub fn bearing_deg(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lng2 - lng1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    if y == 0.0 && x == 0.0 {
        return 0.0;
    }
    let b = y.atan2(x).to_degrees().rem_euclid(360.0);
    // rem_euclid may round a tiny negative angle up to 360.
    if b >= 360.0 { 0.0 } else { b }
}

/// The box `[min_lng, min_lat, max_lng, max_lat]` holding every point within `radius_m` of
/// `(lng, lat)` (a little larger): what a store pre-filters by, on indexed columns.
pub fn search_box(lng: f64, lat: f64, radius_m: f64) -> [f64; 4] {
    let dlat = (radius_m / EARTH_RADIUS_M).to_degrees() * 1.01;
    let dlng = dlat / lat.to_radians().cos().abs().max(1e-6);
    [lng - dlng, lat - dlat, lng + dlng, lat + dlat]
}

/// The eight points of the compass (八方位): the walking direction from the citizen to a POI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compass8 {
    /// 北
    North,
    /// 东北
    Northeast,
    /// 东
    East,
    /// 东南
    Southeast,
    /// 南
    South,
    /// 西南
    Southwest,
    /// 西
    West,
    /// 西北
    Northwest,
}

impl Compass8 {
    /// Clockwise from north.
    pub const ALL: [Compass8; 8] = [
        Compass8::North,
        Compass8::Northeast,
        Compass8::East,
        Compass8::Southeast,
        Compass8::South,
        Compass8::Southwest,
        Compass8::West,
        Compass8::Northwest,
    ];

    /// The point a bearing (degrees clockwise from north, any value) falls in: each covers 45°
    /// centred on its direction (北 is 337.5°–22.5°).
    pub fn from_bearing(deg: f64) -> Compass8 {
        let d = if deg.is_finite() {
            deg.rem_euclid(360.0)
        } else {
            0.0
        };
        let i = ((d + 22.5) / 45.0).floor() as usize % 8;
        Compass8::ALL[i]
    }

    /// The English name in the API (`north`, `northeast`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Compass8::North => "north",
            Compass8::Northeast => "northeast",
            Compass8::East => "east",
            Compass8::Southeast => "southeast",
            Compass8::South => "south",
            Compass8::Southwest => "southwest",
            Compass8::West => "west",
            Compass8::Northwest => "northwest",
        }
    }

    /// The Chinese name (北, 东北, 东, 东南, 南, 西南, 西, 西北).
    pub fn name_zh(self) -> &'static str {
        match self {
            Compass8::North => "北",
            Compass8::Northeast => "东北",
            Compass8::East => "东",
            Compass8::Southeast => "东南",
            Compass8::South => "南",
            Compass8::Southwest => "西南",
            Compass8::West => "西",
            Compass8::Northwest => "西北",
        }
    }

    /// The abbreviation (`N`, `NE`, …).
    pub fn abbreviation(self) -> &'static str {
        match self {
            Compass8::North => "N",
            Compass8::Northeast => "NE",
            Compass8::East => "E",
            Compass8::Southeast => "SE",
            Compass8::South => "S",
            Compass8::Southwest => "SW",
            Compass8::West => "W",
            Compass8::Northwest => "NW",
        }
    }
}

impl fmt::Display for Compass8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to get from the citizen to a POI: the distance (m), the initial bearing and its compass
/// point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Walk {
    pub distance_m: f64,
    pub bearing_deg: f64,
    pub direction: Compass8,
}

impl Walk {
    /// From `(lng, lat)` (WGS84) to `poi`.
    pub fn to(lng: f64, lat: f64, poi: &Poi) -> Walk {
        let bearing = bearing_deg(lng, lat, poi.lng, poi.lat);
        Walk {
            distance_m: distance_m(lng, lat, poi.lng, poi.lat),
            bearing_deg: bearing,
            direction: Compass8::from_bearing(bearing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "type,name,lng,lat,address,opening_hours,note,crs";

    fn csv_error(lines: &str) -> String {
        match parse_pois_csv(&format!("{HEADER}\n{lines}"), PoiCrs::Wgs84) {
            Ok(p) => panic!("expected an error, parsed {} POIs", p.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn types_by_code_and_names() {
        assert_eq!(PoiType::from_name("toilet"), Some(PoiType::Toilet));
        assert_eq!(PoiType::from_name(" 公园 "), Some(PoiType::Park));
        assert_eq!(PoiType::from_name("摊规点"), Some(PoiType::VendorZone));
        assert_eq!(
            PoiType::from_name("Car-free zone"),
            Some(PoiType::CarFreeZone)
        );
        assert_eq!(PoiType::from_name("TOILET"), Some(PoiType::Toilet));
        assert_eq!(PoiType::from_name("toilets"), None);
        assert_eq!("vendor_zone".parse::<PoiType>(), Ok(PoiType::VendorZone));
        assert_eq!(PoiType::CarFreeZone.name_zh(), "无车区");
        assert_eq!(PoiType::ALL.len(), 4);
    }

    #[test]
    fn a_good_csv_with_bom_crlf_blank_lines_and_both_crs() {
        let text = format!(
            "\u{feff}{HEADER}\r\n\
             toilet,西湖公园1号公厕,114.3921,23.0838,惠城区环城西二路,全天开放,无障碍厕位,\r\n\
             \r\n\
             公园,\"西湖公园\",114.3925,23.0820,,06:00-22:00,,GCJ02\r\n\
             vendor_zone,江北夜市摊规点,114.41,23.11,,18:00-23:30,,\r\n"
        );
        let got = parse_pois_csv(&text, PoiCrs::Wgs84).unwrap();
        assert_eq!(got.len(), 3);
        let t = &got[0];
        assert_eq!(t.source, PoiSource::Line(2));
        assert_eq!(t.crs, PoiCrs::Wgs84);
        assert_eq!(t.poi.poi_type, PoiType::Toilet);
        assert_eq!(t.poi.name, "西湖公园1号公厕");
        assert_eq!((t.poi.lng, t.poi.lat), (114.3921, 23.0838));
        assert_eq!(t.poi.address.as_deref(), Some("惠城区环城西二路"));
        assert_eq!(t.poi.opening_hours.as_deref(), Some("全天开放"));
        assert_eq!(t.poi.note.as_deref(), Some("无障碍厕位"));
        assert_eq!(t.poi.id, 0);
        assert_eq!(t.poi.district_code, None);
        let p = &got[1];
        assert_eq!(p.source, PoiSource::Line(4), "the blank line counts");
        assert_eq!(p.crs, PoiCrs::Gcj02);
        assert_eq!(p.poi.poi_type, PoiType::Park);
        assert_eq!(p.poi.address, None);
        assert_eq!(got[2].poi.poi_type, PoiType::VendorZone);
        // The default crs applies where the column is empty or absent.
        let minimal = "name,type,lat,lng\n东门公厕,toilet,23.1,114.4\n";
        let got = parse_pois_csv(minimal, PoiCrs::Gcj02).unwrap();
        assert_eq!(got[0].crs, PoiCrs::Gcj02);
        assert_eq!((got[0].poi.lng, got[0].poi.lat), (114.4, 23.1));
        assert!(parse_pois_csv(HEADER, PoiCrs::Wgs84).unwrap().is_empty());
    }

    #[test]
    fn every_csv_error_names_its_line() {
        let cases: &[(&str, &str)] = &[
            (
                "toilet,a,114,23,,,,\nbench,b,114,23,,,,",
                "POI file line 3: column type: unknown POI type \"bench\"",
            ),
            (
                "toilet,,114,23,,,,",
                "POI file line 2: column name: name is empty",
            ),
            (
                "toilet,a,east,23,,,,",
                "POI file line 2: column lng: \"east\" is not a number",
            ),
            ("toilet,a,NaN,23,,,,", "POI file line 2: column lng:"),
            (
                "toilet,a,114,91,,,,",
                "POI file line 2: column lat: 91 is outside China",
            ),
            (
                "toilet,a,200,23,,,,",
                "POI file line 2: column lng: 200 is outside China",
            ),
            (
                "toilet,a,114,23,,,,bd09",
                "POI file line 2: column crs: \"bd09\"",
            ),
            ("toilet,a,114,23,,,", "POI file line 2: expected 8 fields"),
            (
                "toilet,\"a\nb\",114,23,,,,",
                "POI file line 2: column name: name contains a control character",
            ),
            (
                "toilet,a,114,23,,,,\n\npark,a,114,23,,,,\n公厕,a,114.1,23,,,,",
                "POI file line 5: column name: 公厕 \"a\" is already given on line 2",
            ),
        ];
        for (lines, want) in cases {
            let got = csv_error(lines);
            assert!(
                got.starts_with(want),
                "{lines:?}\n got: {got}\nwant: {want}…"
            );
        }
        let long = format!("toilet,{},114,23,,,,", "厕".repeat(101));
        assert!(
            csv_error(&long).starts_with("POI file line 2: column name: name has 101 characters")
        );
        let note = format!("toilet,a,114,23,,,{},", "注".repeat(501));
        assert!(csv_error(&note).starts_with("POI file line 2: column note: note has 501"));
    }

    #[test]
    fn csv_header_errors_name_line_one() {
        let e = parse_pois_csv("type,name,lng\ntoilet,a,114\n", PoiCrs::Wgs84).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("POI file line 1: the POI header lacks column(s) lat"),
            "{e}"
        );
        let e = parse_pois_csv("type,name,lng,lat,colour\n", PoiCrs::Wgs84).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("POI file line 1: unknown column(s) colour"),
            "{e}"
        );
        let e = parse_pois_csv("", PoiCrs::Wgs84).unwrap_err();
        assert!(e.to_string().starts_with("POI file line 1:"), "{e}");
    }

    fn geojson(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    #[test]
    fn geojson_points_and_polygon_centroids() {
        let text = geojson(
            r#"{"type":"Feature","properties":{"type":"toilet","name":"江北公厕","opening_hours":"全天开放"},
                "geometry":{"type":"Point","coordinates":[114.41,23.11]}},
               {"type":"Feature","properties":{"type":"公园","name":"方园","crs":"gcj02","address":"江北"},
                "geometry":{"type":"Polygon","coordinates":[[[114.0,23.0],[114.02,23.0],[114.02,23.02],[114.0,23.02],[114.0,23.0]],
                                                            [[114.0,23.0],[114.01,23.0],[114.01,23.01],[114.0,23.01],[114.0,23.0]]]}},
               {"type":"Feature","properties":{"type":"car_free_zone","name":"两块"},
                "geometry":{"type":"MultiPolygon","coordinates":[
                   [[[114.0,23.0],[114.0,23.01],[114.01,23.01],[114.01,23.0],[114.0,23.0]]],
                   [[[114.1,23.0],[114.1,23.01],[114.11,23.01],[114.11,23.0],[114.1,23.0]]]]}}"#,
        );
        let got = parse_pois_geojson(&text, PoiCrs::Wgs84).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].source, PoiSource::Feature(0));
        assert_eq!((got[0].poi.lng, got[0].poi.lat), (114.41, 23.11));
        assert_eq!(got[0].poi.opening_hours.as_deref(), Some("全天开放"));
        // A 0.02° square without its south-west quarter: the centroid moves north-east.
        let p = &got[1].poi;
        assert_eq!(got[1].crs, PoiCrs::Gcj02);
        assert_eq!(p.poi_type, PoiType::Park);
        let want = 0.01 + 0.005 / 3.0;
        assert!((p.lng - (114.0 + want)).abs() < 1e-9, "{}", p.lng);
        assert!((p.lat - (23.0 + want)).abs() < 1e-9, "{}", p.lat);
        // Two equal squares, wound clockwise: the centroid lies between them.
        let z = &got[2].poi;
        assert!(
            (z.lng - 114.055).abs() < 1e-9 && (z.lat - 23.005).abs() < 1e-9,
            "{z:?}"
        );
    }

    #[test]
    fn every_geojson_error_names_its_feature() {
        let point = r#"{"type":"Point","coordinates":[114.4,23.1]}"#;
        let feature = |props: &str, geometry: &str| {
            format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#)
        };
        let good = feature(r#"{"type":"toilet","name":"a"}"#, point);
        let cases: Vec<(String, &str)> = vec![
            (
                format!("{good},{}", feature(r#"{"type":"bench","name":"b"}"#, point)),
                "POI GeoJSON feature 1 (b): unknown POI type \"bench\"",
            ),
            (
                feature(r#"{"type":"toilet"}"#, point),
                "POI GeoJSON feature 0: property name is missing",
            ),
            (
                feature(r#"{"type":"toilet","name":"a"}"#, r#"{"type":"LineString","coordinates":[[114,23],[114.1,23]]}"#),
                "POI GeoJSON feature 0 (a): geometry type is LineString",
            ),
            (
                feature(r#"{"type":"toilet","name":"a"}"#, "null"),
                "POI GeoJSON feature 0 (a): has no geometry",
            ),
            (
                feature(r#"{"type":"toilet","name":"a"}"#, r#"{"type":"Point","coordinates":[114]}"#),
                "POI GeoJSON feature 0 (a): Point coordinates",
            ),
            (
                feature(r#"{"type":"toilet","name":"a"}"#, r#"{"type":"Point","coordinates":[14,23]}"#),
                "POI GeoJSON feature 0 (a): property lng: 14 is outside China",
            ),
            (
                feature(r#"{"type":"toilet","name":"a","crs":"bd09"}"#, point),
                "POI GeoJSON feature 0 (a): property crs",
            ),
            (
                format!("{good},{good}"),
                "POI GeoJSON feature 1 (a): 公厕 \"a\" is already given in feature 0",
            ),
            ("[]".to_string(), "POI GeoJSON feature 0: is not a JSON object"),
            (
                r#"{"type":"Feature","properties":{"name":"x","type":"park"},"geometry":{"type":"Polygon","coordinates":[[[114,23],"x"]]}}"#.into(),
                "POI GeoJSON feature 0 (x): Polygon coordinates",
            ),
        ];
        for (features, want) in &cases {
            let got = parse_pois_geojson(&geojson(features), PoiCrs::Wgs84)
                .unwrap_err()
                .to_string();
            assert!(got.starts_with(want), "\n got: {got}\nwant: {want}…");
        }
        for (doc, want) in [
            ("{", "POI GeoJSON: not valid JSON"),
            (
                r#"{"type":"Feature"}"#,
                "POI GeoJSON: expected a FeatureCollection",
            ),
            (
                r#"{"type":"FeatureCollection"}"#,
                "POI GeoJSON: \"features\" is missing",
            ),
        ] {
            let got = parse_pois_geojson(doc, PoiCrs::Wgs84)
                .unwrap_err()
                .to_string();
            assert!(got.starts_with(want), "{got}");
        }
        assert!(
            parse_pois_geojson(&geojson(""), PoiCrs::Wgs84)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn geo_uris_encode_the_label() {
        assert_eq!(
            Poi::new(PoiType::Toilet, "公厕 1", 114.3921, 23.0838).geo_uri(),
            "geo:23.083800,114.392100?q=23.083800,114.392100(%E5%85%AC%E5%8E%95%201)"
        );
    }

    #[test]
    fn import_errors_name_the_source() {
        let i = PoiImport {
            source: PoiSource::Line(7),
            crs: PoiCrs::Wgs84,
            poi: Poi::new(PoiType::Park, "西湖公园", 114.39, 23.08),
        };
        assert_eq!(
            i.error("lies outside the city").to_string(),
            "POI file line 7 (西湖公园): lies outside the city"
        );
        assert!(i.poi.check().is_ok());
        let bad = Poi::new(PoiType::Park, " ", 114.39, 23.08);
        assert!(bad.check().is_err());
        let bad = Poi::new(PoiType::Park, "p", f64::NAN, 23.08);
        assert!(bad.check().is_err());
    }

    #[test]
    fn distances_bearings_and_compass_points() {
        // 惠州 西湖 to 惠州 江北: about 4.2 km to the north-east.
        let (lng, lat) = (114.3925, 23.0820);
        let d = distance_m(lng, lat, 114.4160, 23.1110);
        assert!((3_900.0..4_100.0).contains(&d), "{d}");
        // One degree of latitude is about 111.2 km.
        let d = distance_m(114.0, 23.0, 114.0, 24.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
        let cases = [
            ((114.0, 23.01), Compass8::North, 0.0),
            ((114.01, 23.01), Compass8::Northeast, 45.0),
            ((114.01, 23.0), Compass8::East, 90.0),
            ((114.01, 22.99), Compass8::Southeast, 135.0),
            ((114.0, 22.99), Compass8::South, 180.0),
            ((113.99, 22.99), Compass8::Southwest, 225.0),
            ((113.99, 23.0), Compass8::West, 270.0),
            ((113.99, 23.01), Compass8::Northwest, 315.0),
        ];
        for ((to_lng, to_lat), want, approx) in cases {
            let b = bearing_deg(114.0, 23.0, to_lng, to_lat);
            // Diagonals are a little off 45° (a degree of longitude is shorter than one of latitude).
            assert!(
                (b - approx).abs() < 4.0 || (b - approx - 360.0).abs() < 4.0,
                "{b} vs {approx}"
            );
            assert_eq!(Compass8::from_bearing(b), want, "{b}");
        }
        assert_eq!(bearing_deg(114.0, 23.0, 114.0, 23.0), 0.0);
        assert_eq!(Compass8::from_bearing(22.4), Compass8::North);
        assert_eq!(Compass8::from_bearing(22.5), Compass8::Northeast);
        assert_eq!(Compass8::from_bearing(337.5), Compass8::North);
        assert_eq!(Compass8::from_bearing(-90.0), Compass8::West);
        assert_eq!(Compass8::from_bearing(f64::NAN), Compass8::North);
        let names: Vec<&str> = Compass8::ALL.iter().map(|c| c.name_zh()).collect();
        assert_eq!(
            names,
            ["北", "东北", "东", "东南", "南", "西南", "西", "西北"]
        );
        let walk = Walk::to(
            lng,
            lat,
            &Poi::new(PoiType::Park, "江北", 114.4160, 23.1110),
        );
        assert_eq!(walk.direction, Compass8::Northeast);
        assert_eq!(walk.direction.as_str(), "northeast");
    }

    proptest! {
        /// Distances are symmetric, non-negative, zero to oneself, bounded by half the Earth's
        /// circumference, satisfy the triangle inequality, and every point within a radius lies
        /// in its search box.
        #[test]
        fn distances_behave(
            a in (73.0f64..136.0, 3.0f64..54.0),
            b in (73.0f64..136.0, 3.0f64..54.0),
            c in (73.0f64..136.0, 3.0f64..54.0),
            r in 1.0f64..20_000.0,
            (dx, dy) in (-1.0f64..1.0, -1.0f64..1.0),
        ) {
            let ab = distance_m(a.0, a.1, b.0, b.1);
            let ba = distance_m(b.0, b.1, a.0, a.1);
            prop_assert!(ab >= 0.0 && (ab - ba).abs() < 1e-6);
            prop_assert!(ab <= std::f64::consts::PI * EARTH_RADIUS_M + 1.0);
            prop_assert!(distance_m(a.0, a.1, a.0, a.1).abs() < 1e-9);
            let (bc, ac) = (distance_m(b.0, b.1, c.0, c.1), distance_m(a.0, a.1, c.0, c.1));
            prop_assert!(ac <= ab + bc + 1e-6);
            // A point near `a` (a step of at most ~0.2°): inside the box of any radius it is within.
            let p = (a.0 + dx * 0.2, a.1 + dy * 0.2);
            let d = distance_m(a.0, a.1, p.0, p.1);
            let [x0, y0, x1, y1] = search_box(a.0, a.1, r);
            if d <= r {
                prop_assert!(p.0 >= x0 && p.0 <= x1 && p.1 >= y0 && p.1 <= y1, "{d} m <= {r} m but outside the box");
            }
        }

        /// Bearings lie in [0, 360), the compass point is the one nearest the bearing, and going
        /// a short way along a bearing ends up in that direction.
        #[test]
        fn bearings_behave(
            a in (73.0f64..136.0, 3.0f64..54.0),
            b in (73.0f64..136.0, 3.0f64..54.0),
            heading in 0.0f64..360.0,
            step in 10.0f64..5_000.0,
        ) {
            let bearing = bearing_deg(a.0, a.1, b.0, b.1);
            prop_assert!((0.0..360.0).contains(&bearing));
            let point = Compass8::from_bearing(bearing);
            let centre = Compass8::ALL.iter().position(|c| *c == point).unwrap() as f64 * 45.0;
            let off = (bearing - centre).rem_euclid(360.0);
            prop_assert!(off <= 22.5 + 1e-9 || off >= 360.0 - 22.5 - 1e-9, "{bearing} → {point:?}");
            // A short step along `heading` (flat approximation): the bearing back is the heading.
            let (s, c) = heading.to_radians().sin_cos();
            let dlat = (step * c / EARTH_RADIUS_M).to_degrees();
            let dlng = (step * s / EARTH_RADIUS_M).to_degrees() / a.1.to_radians().cos();
            let got = bearing_deg(a.0, a.1, a.0 + dlng, a.1 + dlat);
            let diff = (got - heading).rem_euclid(360.0);
            prop_assert!(!(1.0..=359.0).contains(&diff), "heading {heading}, got {got}");
            let d = distance_m(a.0, a.1, a.0 + dlng, a.1 + dlat);
            prop_assert!((d - step).abs() < step * 0.01 + 0.01, "step {step}, got {d}");
        }
    }
}
