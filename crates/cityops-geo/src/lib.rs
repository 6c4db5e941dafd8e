//! cityops-geo — geography for CityOps: GCJ-02 ↔ WGS84 (火星坐标), GeoJSON polygon I/O, the derived
//! (synthetic) street / community / unit-grid polygons of a demo city, and the in-memory locate index
//! (point → 单元网格 / 社区 / 街道 / 区县). No database, no HTTP.
//!
//! All coordinates are WGS84 longitude/latitude in degrees unless a function says otherwise.
use std::fmt::Write as _;

use cityops_domain::{LngLat, Region, RegionLevel};
use geo::{
    BoundingRect, Coord, GeodesicArea, InteriorPoint, LineString, MultiPolygon, Orient, Polygon,
    Simplify, orient::Direction,
};

pub mod derive;
pub mod gcj02;
mod index;
mod pip;

pub use index::{Location, LocationBuf, RegionIndex};

/// Errors of the geography crate; each message names what failed.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The text is not a GeoJSON geometry object.
    #[error("invalid GeoJSON geometry: {0}")]
    Json(String),
    /// A geometry of a type other than Polygon/MultiPolygon where an area was expected.
    #[error("expected a Polygon or MultiPolygon geometry, found {0}")]
    NotPolygonal(String),
    /// A structurally broken polygon (too few points, non-finite numbers, …).
    #[error("invalid polygon: {0}")]
    InvalidPolygon(String),
    /// A region that needs a geometry has none.
    #[error("region {code} has no geometry")]
    MissingGeometry { code: String },
    /// A region's geometry text failed to parse.
    #[error("region {code}: {source}")]
    RegionGeometry {
        code: String,
        #[source]
        source: Box<GeoError>,
    },
    /// A child region whose parent is not among the given regions.
    #[error("{level} {code}: parent {parent} is not among the given regions")]
    UnknownParent {
        level: &'static str,
        code: String,
        parent: String,
    },
    /// Derivation parameters out of range.
    #[error("invalid derivation parameter: {0}")]
    InvalidParams(String),
    /// The partition of a region produced an empty child (should not happen; reported, not hidden).
    #[error("derived polygon of {level} {code} is empty")]
    EmptyDerived { level: &'static str, code: String },
    /// A community would need more unit grids than the 3-digit sequence allows.
    #[error("community {community} would need {count} unit grids (> 999); use a larger cell size")]
    TooManyGrids { community: String, count: usize },
}

/// Parses a GeoJSON geometry object (Polygon or MultiPolygon) given as text.
pub fn parse_polygonal(geometry_json: &str) -> Result<MultiPolygon<f64>, GeoError> {
    let g: geojson::Geometry = geometry_json
        .parse()
        .map_err(|e: geojson::Error| GeoError::Json(e.to_string()))?;
    polygonal_from_geojson(&g)
}

fn ring_from_positions(
    ring: &[geojson::Position],
    what: &str,
) -> Result<LineString<f64>, GeoError> {
    let mut coords = Vec::with_capacity(ring.len() + 1);
    for (i, p) in ring.iter().enumerate() {
        let s = p.as_slice();
        if s.len() < 2 {
            return Err(GeoError::InvalidPolygon(format!(
                "{what}: position {i} has fewer than 2 numbers"
            )));
        }
        if !s[0].is_finite() || !s[1].is_finite() {
            return Err(GeoError::InvalidPolygon(format!(
                "{what}: position {i} is not finite"
            )));
        }
        coords.push(Coord { x: s[0], y: s[1] });
    }
    let mut ls = LineString(coords);
    ls.close();
    // A closed ring needs at least 3 distinct positions (4 with the closing one).
    if ls.0.len() < 4 {
        return Err(GeoError::InvalidPolygon(format!(
            "{what}: ring has fewer than 4 positions"
        )));
    }
    Ok(ls)
}

fn polygon_from_rings(
    rings: &[Vec<geojson::Position>],
    what: &str,
) -> Result<Polygon<f64>, GeoError> {
    let Some((exterior, holes)) = rings.split_first() else {
        return Err(GeoError::InvalidPolygon(format!("{what}: no rings")));
    };
    let exterior = ring_from_positions(exterior, &format!("{what} exterior ring"))?;
    let holes = holes
        .iter()
        .enumerate()
        .map(|(i, h)| ring_from_positions(h, &format!("{what} hole {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

/// Converts a GeoJSON Polygon or MultiPolygon geometry into a `MultiPolygon`.
pub fn polygonal_from_geojson(g: &geojson::Geometry) -> Result<MultiPolygon<f64>, GeoError> {
    match &g.value {
        geojson::GeometryValue::Polygon { coordinates } => {
            Ok(MultiPolygon(vec![polygon_from_rings(
                coordinates,
                "polygon",
            )?]))
        }
        geojson::GeometryValue::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                return Err(GeoError::InvalidPolygon(
                    "multipolygon has no polygons".into(),
                ));
            }
            coordinates
                .iter()
                .enumerate()
                .map(|(i, p)| polygon_from_rings(p, &format!("polygon {i}")))
                .collect::<Result<Vec<_>, _>>()
                .map(MultiPolygon)
        }
        other => Err(GeoError::NotPolygonal(other.type_name().to_string())),
    }
}

/// Rounds a coordinate to 7 decimals (≈ 1 cm), the precision of stored geometry.
pub(crate) fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Rounds every coordinate to 7 decimals, drops repeated consecutive points and rings/parts that
/// degenerate, and orients rings as RFC 7946 asks (exterior counter-clockwise, holes clockwise).
pub(crate) fn normalize(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    fn ring(ls: &LineString<f64>) -> Option<LineString<f64>> {
        let mut out: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
        for c in &ls.0 {
            let r = Coord {
                x: round7(c.x),
                y: round7(c.y),
            };
            if out.last() != Some(&r) {
                out.push(r);
            }
        }
        let mut ls = LineString(out);
        ls.close();
        (ls.0.len() >= 4).then_some(ls)
    }
    let polys =
        mp.0.iter()
            .filter_map(|p| {
                let ext = ring(p.exterior())?;
                let holes = p.interiors().iter().filter_map(ring).collect();
                Some(Polygon::new(ext, holes))
            })
            .collect();
    MultiPolygon(polys).orient(Direction::Default)
}

fn write_ring(out: &mut String, ls: &LineString<f64>) {
    out.push('[');
    for (i, c) in ls.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // `{}` of f64 prints the shortest text that round-trips, so 7-decimal values stay short.
        let _ = write!(out, "[{},{}]", round7(c.x), round7(c.y));
    }
    out.push(']');
}

fn write_polygon(out: &mut String, p: &Polygon<f64>) {
    out.push('[');
    write_ring(out, p.exterior());
    for h in p.interiors() {
        out.push(',');
        write_ring(out, h);
    }
    out.push(']');
}

/// GeoJSON geometry text: Polygon when one part, else MultiPolygon; coordinates rounded to 7 decimals.
pub fn to_geometry_json(mp: &MultiPolygon<f64>) -> String {
    let mut out = String::with_capacity(
        64 + mp
            .0
            .iter()
            .map(|p| p.exterior().0.len() * 26)
            .sum::<usize>(),
    );
    if mp.0.len() == 1 {
        out.push_str(r#"{"type":"Polygon","coordinates":"#);
        write_polygon(&mut out, &mp.0[0]);
    } else {
        out.push_str(r#"{"type":"MultiPolygon","coordinates":["#);
        for (i, p) in mp.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_polygon(&mut out, p);
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// Simplifies (Douglas–Peucker, `tolerance_deg` in degrees) a Polygon/MultiPolygon geometry text for map
/// payloads. Rings that collapse are dropped; a polygon whose exterior collapses is dropped; if every part
/// would collapse the original geometry is returned (rounded).
pub fn simplify_geometry_json(geometry_json: &str, tolerance_deg: f64) -> Result<String, GeoError> {
    if !(tolerance_deg.is_finite() && tolerance_deg >= 0.0) {
        return Err(GeoError::InvalidParams(format!(
            "simplify tolerance {tolerance_deg}"
        )));
    }
    let mp = parse_polygonal(geometry_json)?;
    let simplified = normalize(&mp.simplify(tolerance_deg));
    if simplified.0.is_empty() {
        return Ok(to_geometry_json(&normalize(&mp)));
    }
    Ok(to_geometry_json(&simplified))
}

/// Fills geometry, bbox, center (a point inside), area_m2 (geodesic) of a Region. The geometry is
/// stored rounded to 7 decimals and bbox/center/area are computed from that stored form.
pub fn region_with_geometry(
    code: &str,
    level: RegionLevel,
    name: &str,
    parent_code: Option<&str>,
    mp: &MultiPolygon<f64>,
    synthetic: bool,
) -> Region {
    let mp = normalize(mp);
    let bbox = mp
        .bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    let center = mp.interior_point().map(|p| LngLat {
        lng: round7(p.x()),
        lat: round7(p.y()),
    });
    let area_m2 = if mp.0.is_empty() {
        None
    } else {
        Some(mp.geodesic_area_unsigned())
    };
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent_code.map(str::to_string),
        geometry: (!mp.0.is_empty()).then(|| to_geometry_json(&mp)),
        bbox,
        center,
        area_m2,
        synthetic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[114,23],[114.01,23],[114.01,23.01],[114,23.01],[114,23]]]}"#;

    #[test]
    fn parse_and_write_round_trip() {
        let mp = parse_polygonal(SQUARE).unwrap();
        assert_eq!(mp.0.len(), 1);
        assert_eq!(mp.0[0].exterior().0.len(), 5);
        let text = to_geometry_json(&mp);
        assert_eq!(text, SQUARE);
        let again = parse_polygonal(&text).unwrap();
        assert_eq!(again, mp);
    }

    #[test]
    fn multipolygon_and_rounding() {
        let text = r#"{"type":"MultiPolygon","coordinates":[[[[1.123456789,2],[3,2],[3,4],[1.123456789,2]]],[[[10,10],[11,10],[11,11],[10,10]]]]}"#;
        let mp = parse_polygonal(text).unwrap();
        assert_eq!(mp.0.len(), 2);
        let out = to_geometry_json(&mp);
        assert!(out.starts_with(r#"{"type":"MultiPolygon""#), "{out}");
        assert!(out.contains("1.1234568"), "{out}");
        assert!(!out.contains("1.12345678"), "{out}");
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let e = parse_polygonal(r#"{"type":"Point","coordinates":[1,2]}"#).unwrap_err();
        assert!(e.to_string().contains("Point"), "{e}");
        let e = parse_polygonal(r#"{"type":"Polygon","coordinates":[[[1,2],[3,4]]]}"#).unwrap_err();
        assert!(e.to_string().contains("fewer than 4"), "{e}");
        let e = parse_polygonal("not json").unwrap_err();
        assert!(matches!(e, GeoError::Json(_)), "{e}");
    }

    #[test]
    fn unclosed_ring_is_closed() {
        let mp =
            parse_polygonal(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}"#).unwrap();
        assert_eq!(mp.0[0].exterior().0.len(), 4);
    }

    #[test]
    fn region_fields_are_filled() {
        let mp = parse_polygonal(SQUARE).unwrap();
        let r = region_with_geometry(
            "441302001",
            RegionLevel::Street,
            "桥东街道",
            Some("441302"),
            &mp,
            true,
        );
        assert_eq!(r.bbox, Some([114.0, 23.0, 114.01, 23.01]));
        let c = r.center.unwrap();
        assert!(c.lng > 114.0 && c.lng < 114.01 && c.lat > 23.0 && c.lat < 23.01);
        // 0.01° × 0.01° at 23°N ≈ 1024.7 m × 1106.9 m.
        let a = r.area_m2.unwrap();
        assert!((a - 1_134_000.0).abs() < 5_000.0, "area {a}");
        assert!(r.synthetic);
        assert_eq!(r.parent_code.as_deref(), Some("441302"));
        assert!(r.geometry.unwrap().contains("Polygon"));
    }

    #[test]
    fn simplify_reduces_vertices_and_keeps_shape() {
        // A circle-ish ring of 720 points.
        let pts: Vec<String> = (0..=720)
            .map(|i| {
                let a = (i % 720) as f64 / 720.0 * std::f64::consts::TAU;
                format!("[{},{}]", 114.0 + 0.01 * a.cos(), 23.0 + 0.01 * a.sin())
            })
            .collect();
        let text = format!(
            r#"{{"type":"Polygon","coordinates":[[{}]]}}"#,
            pts.join(",")
        );
        let out = simplify_geometry_json(&text, 0.0005).unwrap();
        let mp = parse_polygonal(&out).unwrap();
        let n = mp.0[0].exterior().0.len();
        assert!(n < 100 && n > 8, "{n} vertices");
        // A huge tolerance would collapse the ring; the original comes back instead of nothing.
        let out = simplify_geometry_json(&text, 10.0).unwrap();
        assert!(parse_polygonal(&out).is_ok());
        assert!(simplify_geometry_json(&text, -1.0).is_err());
    }
}
