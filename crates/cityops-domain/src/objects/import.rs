//! 管理对象导入 (importing management objects): a CSV file (one object a line) or a GeoJSON
//! FeatureCollection (one object a feature), read whole and checked before anything is returned,
//! so that an import is all or nothing. Every error names its line (`object file line 3: column
//! lng: …`) or feature (`feature 2: …`, counted from 1).
//!
//! CSV (read by the shared reader, `cityops_csv`: BOM, quotes, exact line numbers):
//!
//! ```text
//! code,kind,name,address,lng,lat,responsible_name,responsible_phone,responsible_username,owner_department,zone
//! ,restaurant,老街肠粉店,惠城区水东街 12 号,114.4158,23.1115,陈小明,13800001234,shop1,441302001-street,
//! ```
//!
//! `kind`, `name`, `address`, `lng`, `lat`, `responsible_name` and `responsible_phone` are
//! required; the other columns may be left out of the header or empty. `kind` is the code
//! (`restaurant`) or the Chinese name (`沿街餐饮`); `code` keeps an object's existing code (赋码
//! issued before; checked, check digit included) — empty, the platform issues one; `zone` is the
//! responsibility zone as `lng lat;lng lat;…` (3 to 256 vertices) — empty, the platform derives
//! the frontage. `responsible_username` names the party's account (role `responsible_party`),
//! `owner_department` the supervising department by code; both are resolved by the application.
//!
//! GeoJSON: a `FeatureCollection` whose features have a `Point` geometry (the object's position)
//! or a `Polygon` geometry (its zone; the position is then the properties `lng` and `lat`), and
//! the properties of the CSV columns (`lng`/`lat` as numbers).
//!
//! Coordinates are taken as given: the caller converts GCJ-02 input to WGS84 and locates.
use std::collections::HashMap;

use cityops_csv::{CsvError, Row, Table};
use serde_json::Value;

use super::{ObjectCode, ObjectError, ObjectKind, ResponsibilityZone};
use crate::LngLat;

/// The columns of an object file, in the documented order.
pub const OBJECT_CSV_COLUMNS: [&str; 11] = [
    "code",
    "kind",
    "name",
    "address",
    "lng",
    "lat",
    "responsible_name",
    "responsible_phone",
    "responsible_username",
    "owner_department",
    "zone",
];

/// The columns (and GeoJSON properties) that must be present and not empty.
const REQUIRED: [&str; 7] = [
    "kind",
    "name",
    "address",
    "lng",
    "lat",
    "responsible_name",
    "responsible_phone",
];

/// The most objects one import may hold.
pub const MAX_IMPORT_OBJECTS: usize = 50_000;

/// One object of an import file, checked for its shape; the application resolves the account,
/// the department, the regions and the zone, and validates the whole object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDraft {
    /// Where it came from, for messages: `object file line 3` or `feature 2`.
    pub origin: String,
    /// An existing code to keep; `None`: one is issued.
    pub code: Option<ObjectCode>,
    pub kind: ObjectKind,
    pub name: String,
    pub address: String,
    /// As given (the caller converts the coordinate system).
    pub point: LngLat,
    pub zone: Option<ResponsibilityZone>,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub responsible_username: Option<String>,
    pub owner_department: Option<String>,
}

fn csv_error(e: CsvError) -> ObjectError {
    ObjectError::InvalidObject(format!("object file line {}: {}", e.line, e.detail()))
}

/// The kind of a code (`restaurant`) or Chinese name (`沿街餐饮`).
pub fn parse_kind(text: &str) -> Result<ObjectKind, String> {
    ObjectKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == text || k.name_zh() == text)
        .ok_or_else(|| {
            let known: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.as_str()).collect();
            format!(
                "unknown object kind {text:?}: expected one of {}",
                known.join(", ")
            )
        })
}

fn coordinate(text: &str, what: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{what} {text:?} is not a number"))
}

fn point(lng: f64, lat: f64) -> Result<LngLat, String> {
    LngLat::new(lng, lat).map_err(|_| format!("invalid position lng={lng}, lat={lat}"))
}

/// A zone written `lng lat;lng lat;…`.
pub fn parse_zone_text(text: &str) -> Result<ResponsibilityZone, String> {
    let mut ring = Vec::new();
    for (i, pair) in text.split(';').map(str::trim).enumerate() {
        if pair.is_empty() {
            continue;
        }
        let mut parts = pair.split_whitespace();
        let (Some(lng), Some(lat), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("vertex {} {pair:?}: expected \"lng lat\"", i + 1));
        };
        ring.push(point(coordinate(lng, "lng")?, coordinate(lat, "lat")?)?);
    }
    ResponsibilityZone::new(ring).map_err(|e| e.to_string())
}

fn text_field(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn parse_code(text: &str) -> Result<ObjectCode, String> {
    ObjectCode::parse(text).map_err(|e| e.to_string())
}

/// Parses an object file (CSV, see the module documentation). Either every line is a valid
/// object or the first problem is returned, naming its line.
pub fn parse_objects_csv(text: &str) -> Result<Vec<ObjectDraft>, ObjectError> {
    let table = cityops_csv::read(text).map_err(csv_error)?;
    table
        .require_columns("object", &REQUIRED)
        .map_err(csv_error)?;
    let unknown: Vec<&str> = table
        .header()
        .iter()
        .map(String::as_str)
        .filter(|h| !h.is_empty() && !OBJECT_CSV_COLUMNS.contains(h))
        .collect();
    if !unknown.is_empty() {
        return Err(csv_error(CsvError::at_line(
            table.header_line(),
            format!(
                "unknown column(s) {} in the object header; expected {}",
                unknown.join(", "),
                OBJECT_CSV_COLUMNS.join(",")
            ),
        )));
    }
    table.check_widths().map_err(csv_error)?;
    if table.rows().len() > MAX_IMPORT_OBJECTS {
        return Err(ObjectError::InvalidObject(format!(
            "an import holds at most {MAX_IMPORT_OBJECTS} objects, this file {}",
            table.rows().len()
        )));
    }
    let mut codes: HashMap<ObjectCode, String> = HashMap::new();
    let mut out = Vec::with_capacity(table.rows().len());
    for row in table.rows() {
        let draft = csv_row(&table, row).map_err(csv_error)?;
        if let Some(code) = &draft.code
            && let Some(first) = codes.insert(code.clone(), draft.origin.clone())
        {
            return Err(ObjectError::InvalidObject(format!(
                "{}: column code: code {code} is already given on {first}",
                draft.origin
            )));
        }
        out.push(draft);
    }
    Ok(out)
}

fn csv_row(table: &Table, row: &Row) -> Result<ObjectDraft, CsvError> {
    fn at<'a>(row: &'a Row, column: &'static str) -> impl Fn(String) -> CsvError + 'a {
        move |m| row.error_in(column, m)
    }
    let kind = parse_kind(table.require(row, "kind")?).map_err(at(row, "kind"))?;
    let lng = coordinate(table.require(row, "lng")?, "lng").map_err(at(row, "lng"))?;
    let lat = coordinate(table.require(row, "lat")?, "lat").map_err(at(row, "lat"))?;
    Ok(ObjectDraft {
        origin: format!("object file line {}", row.line()),
        code: table
            .get(row, "code")
            .map(parse_code)
            .transpose()
            .map_err(at(row, "code"))?,
        kind,
        name: table.require(row, "name")?.to_string(),
        address: table.require(row, "address")?.to_string(),
        point: point(lng, lat).map_err(at(row, "lng"))?,
        zone: table
            .get(row, "zone")
            .map(parse_zone_text)
            .transpose()
            .map_err(at(row, "zone"))?,
        responsible_name: table.require(row, "responsible_name")?.to_string(),
        responsible_phone: table.require(row, "responsible_phone")?.to_string(),
        responsible_username: text_field(table.get(row, "responsible_username")),
        owner_department: text_field(table.get(row, "owner_department")),
    })
}

/// A `[lng, lat]` position of a GeoJSON geometry.
fn position(v: &Value) -> Result<LngLat, String> {
    match v.as_array().map(Vec::as_slice) {
        Some([lng, lat, ..]) => match (lng.as_f64(), lat.as_f64()) {
            (Some(lng), Some(lat)) => point(lng, lat),
            _ => Err("a position must be [lng, lat] numbers".into()),
        },
        _ => Err("a position must be [lng, lat]".into()),
    }
}

/// Parses a GeoJSON `FeatureCollection` of objects (see the module documentation). Either every
/// feature is a valid object or the first problem is returned, naming its feature (from 1).
pub fn parse_objects_geojson(text: &str) -> Result<Vec<ObjectDraft>, ObjectError> {
    let bad = |m: String| ObjectError::InvalidObject(m);
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(format!("not GeoJSON: {e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(bad("expected a GeoJSON FeatureCollection".into()));
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the FeatureCollection has no features array".into()))?;
    if features.len() > MAX_IMPORT_OBJECTS {
        return Err(bad(format!(
            "an import holds at most {MAX_IMPORT_OBJECTS} objects, this file {}",
            features.len()
        )));
    }
    let mut codes: HashMap<ObjectCode, usize> = HashMap::new();
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        let draft = feature(f, n).map_err(|m| bad(format!("feature {n}: {m}")))?;
        if let Some(code) = &draft.code
            && let Some(first) = codes.insert(code.clone(), n)
        {
            return Err(bad(format!(
                "feature {n}: code {code} is already given by feature {first}"
            )));
        }
        out.push(draft);
    }
    Ok(out)
}

fn feature(f: &Value, n: usize) -> Result<ObjectDraft, String> {
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err("not a Feature".into());
    }
    let empty = serde_json::Map::new();
    let props = match f.get("properties") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return Err("properties must be an object".into()),
    };
    let text = |key: &str| -> Result<Option<String>, String> {
        match props.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(text_field(Some(s))),
            Some(_) => Err(format!("property {key} must be a string")),
        }
    };
    let required = |key: &str| -> Result<String, String> {
        text(key)?.ok_or_else(|| format!("property {key} is missing or empty"))
    };
    let number = |key: &str| -> Result<Option<f64>, String> {
        match props.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("property {key} must be a number")),
        }
    };
    let geometry = f
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or("the feature has no geometry")?;
    let coords = geometry
        .get("coordinates")
        .ok_or("the geometry has no coordinates")?;
    let (pt, zone) = match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => (position(coords)?, None),
        Some("Polygon") => {
            let ring = coords
                .as_array()
                .and_then(|rings| rings.first())
                .and_then(Value::as_array)
                .ok_or("a Polygon needs an outer ring")?;
            let ring = ring.iter().map(position).collect::<Result<Vec<_>, _>>()?;
            let zone = ResponsibilityZone::new(ring).map_err(|e| e.to_string())?;
            let (Some(lng), Some(lat)) = (number("lng")?, number("lat")?) else {
                return Err(
                    "a Polygon feature (the zone) needs the object's position as properties lng and lat"
                        .into(),
                );
            };
            (point(lng, lat)?, Some(zone))
        }
        other => {
            return Err(format!(
                "geometry {} is neither a Point nor a Polygon",
                other.unwrap_or("(none)")
            ));
        }
    };
    let kind = parse_kind(&required("kind")?)?;
    Ok(ObjectDraft {
        origin: format!("feature {n}"),
        code: text("code")?.as_deref().map(parse_code).transpose()?,
        kind,
        name: required("name")?,
        address: required("address")?,
        point: pt,
        zone,
        responsible_name: required("responsible_name")?,
        responsible_phone: required("responsible_phone")?,
        responsible_username: text("responsible_username")?,
        owner_department: text("owner_department")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "code,kind,name,address,lng,lat,responsible_name,responsible_phone,responsible_username,owner_department,zone\n";

    #[test]
    fn a_good_file_and_its_defaults() {
        let code = ObjectCode::new("441302", ObjectKind::Restaurant, 7).expect("code");
        let text = format!(
            "{HEADER},restaurant,老街肠粉店,水东街 12 号,114.4158,23.1115,陈小明,13800001234,shop1,441302001-street,\n\
             {},沿街商铺,杂货店,水东街 14 号,114.4159,23.1116,李四,13900001111,,,\"114.41 23.11;114.4101 23.11;114.4101 23.1101\"\n",
            code.grouped()
        );
        let drafts = parse_objects_csv(&text).expect("parsed");
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].origin, "object file line 2");
        assert_eq!(drafts[0].kind, ObjectKind::Restaurant);
        assert_eq!(drafts[0].code, None);
        assert_eq!(drafts[0].responsible_username.as_deref(), Some("shop1"));
        assert_eq!(drafts[1].kind, ObjectKind::StreetShop);
        assert_eq!(drafts[1].code.as_ref(), Some(&code));
        assert_eq!(drafts[1].zone.as_ref().map(|z| z.ring().len()), Some(3));
        assert_eq!(drafts[1].owner_department, None);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        for (body, want) in [
            (",toaster,x,y,114.41,23.11,a,1,,,\n", "line 2: column kind"),
            (",school,x,y,east,23.11,a,1,,,\n", "line 2: column lng"),
            (
                ",school,x,y,114.41,91,a,1,,,\n",
                "line 2: column lng: invalid position",
            ),
            (",school,x,,114.41,23.11,a,1,,,\n", "line 2: column address"),
            ("12,school,x,y,114.41,23.11,a,1,,,\n", "line 2: column code"),
            (
                ",school,x,y,114.41,23.11,a,1,,,1 2;3\n",
                "line 2: column zone",
            ),
        ] {
            let e = parse_objects_csv(&format!("{HEADER}\n{body}")).expect_err(body);
            let msg = e.to_string().replace("line 3", "line 2");
            assert!(msg.contains(want), "{body}: {e}");
        }
        let twice = ObjectCode::new("441302", ObjectKind::School, 3).expect("code");
        let text = format!(
            "{HEADER}{twice},school,a,b,114.41,23.11,c,1,,,\n{twice},school,a,b,114.41,23.11,c,1,,,\n"
        );
        let e = parse_objects_csv(&text).expect_err("twice");
        assert!(
            e.to_string().contains("line 3") && e.to_string().contains("line 2"),
            "{e}"
        );
        let e = parse_objects_csv("kind,name,colour\nschool,a,red\n").expect_err("header");
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn geojson_points_and_polygons() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[114.41,23.11]},
           "properties":{"kind":"school","name":"一小","address":"a","responsible_name":"王","responsible_phone":"1"}},
          {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114.41,23.11],[114.4101,23.11],[114.4101,23.1101],[114.41,23.11]]]},
           "properties":{"kind":"market","name":"市场","address":"b","responsible_name":"李","responsible_phone":"2","lng":114.41,"lat":23.11}}
        ]}"#;
        let drafts = parse_objects_geojson(text).expect("parsed");
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[1].origin, "feature 2");
        assert_eq!(drafts[1].zone.as_ref().map(|z| z.ring().len()), Some(3));
        let bad = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[114.41,23.11]},
           "properties":{"kind":"school","name":"一小","address":"a","responsible_name":"王","responsible_phone":"1"}},
          {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[114.41,23.11],[114.4101,23.11],[114.4101,23.1101]]]},
           "properties":{"kind":"market","name":"市场","address":"b","responsible_name":"李","responsible_phone":"2"}}
        ]}"#;
        let e = parse_objects_geojson(bad).expect_err("no position");
        assert!(e.to_string().contains("feature 2"), "{e}");
        assert!(parse_objects_geojson("[]").is_err());
    }
}
