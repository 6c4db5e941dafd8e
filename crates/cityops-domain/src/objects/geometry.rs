//! 门前三包责任区 (responsibility zones) and the small amount of plane geometry they need.
//!
//! Everything is computed on a [`LocalFrame`]: an equirectangular projection around one point,
//! metres east (x) and north (y). Over the few hundred metres a frontage or a scan check spans
//! its error is far below a phone's GPS error (≈ 0.1 % of the distance at 1 km). The domain
//! keeps this tiny projection of its own rather than depending on `cityops-geo`.
use serde::{Deserialize, Serialize};

use super::ObjectError;
use crate::LngLat;

/// Mean earth radius (m), as the duplicate rule uses.
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Most vertices a drawn zone may have.
pub const MAX_ZONE_VERTICES: usize = 256;
/// Smallest zone area accepted (m²).
const MIN_ZONE_AREA_M2: f64 = 0.01;

/// 局部平面坐标系 (local metric frame): equirectangular around `origin`, x east and y north in
/// metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    origin: LngLat,
    m_per_deg_lng: f64,
    m_per_deg_lat: f64,
}

impl LocalFrame {
    /// The frame centred at `origin`.
    pub fn at(origin: LngLat) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        Self {
            origin,
            m_per_deg_lng: m_per_deg_lat * origin.lat.to_radians().cos(),
            m_per_deg_lat,
        }
    }

    /// The point in metres from the origin.
    pub fn to_xy(&self, p: LngLat) -> (f64, f64) {
        (
            (p.lng - self.origin.lng) * self.m_per_deg_lng,
            (p.lat - self.origin.lat) * self.m_per_deg_lat,
        )
    }

    /// The point at `(x, y)` metres from the origin.
    pub fn to_lnglat(&self, (x, y): (f64, f64)) -> LngLat {
        LngLat {
            lng: self.origin.lng + x / self.m_per_deg_lng,
            lat: self.origin.lat + y / self.m_per_deg_lat,
        }
    }
}

type Xy = (f64, f64);

fn sub(a: Xy, b: Xy) -> Xy {
    (a.0 - b.0, a.1 - b.1)
}

fn dot(a: Xy, b: Xy) -> f64 {
    a.0 * b.0 + a.1 * b.1
}

fn norm(a: Xy) -> f64 {
    a.0.hypot(a.1)
}

/// The point of segment `a`–`b` nearest to `p` (`a` when the segment has no length).
fn nearest_on_segment(p: Xy, a: Xy, b: Xy) -> Xy {
    let ab = sub(b, a);
    let len2 = dot(ab, ab);
    if len2 <= f64::EPSILON {
        return a;
    }
    let t = (dot(sub(p, a), ab) / len2).clamp(0.0, 1.0);
    (a.0 + t * ab.0, a.1 + t * ab.1)
}

fn valid_point(p: LngLat) -> bool {
    LngLat::new(p.lng, p.lat).is_ok()
}

/// 门前三包责任区 (responsibility zone): a simple polygon in WGS84, the ring given once (not
/// closed: the last vertex is not the first repeated), counter-clockwise when derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<LngLat>", into = "Vec<LngLat>")]
pub struct ResponsibilityZone {
    ring: Vec<LngLat>,
}

impl ResponsibilityZone {
    /// A zone from its ring: 3 to [`MAX_ZONE_VERTICES`] valid points (a repeated closing point is
    /// dropped) enclosing some area.
    pub fn new(mut ring: Vec<LngLat>) -> Result<Self, ObjectError> {
        if ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        if ring.len() < 3 || ring.len() > MAX_ZONE_VERTICES {
            return Err(ObjectError::InvalidZone(format!(
                "a zone needs 3 to {MAX_ZONE_VERTICES} vertices, found {}",
                ring.len()
            )));
        }
        if let Some(p) = ring.iter().find(|p| !valid_point(**p)) {
            return Err(ObjectError::InvalidZone(format!(
                "invalid vertex lng={}, lat={}",
                p.lng, p.lat
            )));
        }
        let zone = Self { ring };
        if zone.area_m2() < MIN_ZONE_AREA_M2 {
            return Err(ObjectError::InvalidZone("the zone has no area".into()));
        }
        Ok(zone)
    }

    /// The vertices, ring not closed.
    pub fn ring(&self) -> &[LngLat] {
        &self.ring
    }

    fn xy(&self, frame: &LocalFrame) -> Vec<Xy> {
        self.ring.iter().map(|p| frame.to_xy(*p)).collect()
    }

    /// Area in square metres (shoelace on the frame of the first vertex).
    pub fn area_m2(&self) -> f64 {
        let Some(&first) = self.ring.first() else {
            return 0.0;
        };
        let pts = self.xy(&LocalFrame::at(first));
        let n = pts.len();
        let twice: f64 = (0..n)
            .map(|i| {
                let (a, b) = (pts[i], pts[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum();
        twice.abs() / 2.0
    }

    /// Whether `p` lies inside (boundary points may go either way; use
    /// [`ResponsibilityZone::distance_m`] for a tolerance).
    pub fn contains(&self, p: LngLat) -> bool {
        let pts = self.xy(&LocalFrame::at(p));
        let n = pts.len();
        let mut inside = false;
        for i in 0..n {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            if (a.1 > 0.0) != (b.1 > 0.0) {
                let x = a.0 + (0.0 - a.1) * (b.0 - a.0) / (b.1 - a.1);
                if x > 0.0 {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// Distance in metres from `p` to the zone: 0 inside, else to the nearest edge.
    pub fn distance_m(&self, p: LngLat) -> f64 {
        if self.contains(p) {
            return 0.0;
        }
        let pts = self.xy(&LocalFrame::at(p));
        let n = pts.len();
        (0..n)
            .map(|i| norm(nearest_on_segment((0.0, 0.0), pts[i], pts[(i + 1) % n])))
            .fold(f64::INFINITY, f64::min)
    }
}

impl TryFrom<Vec<LngLat>> for ResponsibilityZone {
    type Error = ObjectError;
    fn try_from(ring: Vec<LngLat>) -> Result<Self, Self::Error> {
        ResponsibilityZone::new(ring)
    }
}

impl From<ResponsibilityZone> for Vec<LngLat> {
    fn from(zone: ResponsibilityZone) -> Self {
        zone.ring
    }
}

/// Distance in metres from `p` to a polyline (street centre or kerb line); `None` when the line
/// has no valid point.
pub fn distance_to_polyline_m(p: LngLat, line: &[LngLat]) -> Option<f64> {
    nearest_on_polyline(&LocalFrame::at(p), line).map(|(foot, _)| norm(foot))
}

/// The nearest of several streets: its index and distance in metres.
pub fn nearest_street<'a>(
    p: LngLat,
    streets: impl IntoIterator<Item = &'a [LngLat]>,
) -> Option<(usize, f64)> {
    streets
        .into_iter()
        .enumerate()
        .filter_map(|(i, line)| distance_to_polyline_m(p, line).map(|d| (i, d)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The nearest point of the polyline on the frame (the frame's origin is the query point) and
/// the direction of the segment it lies on (zero for a single point).
fn nearest_on_polyline(frame: &LocalFrame, line: &[LngLat]) -> Option<(Xy, Xy)> {
    let pts: Vec<Xy> = line
        .iter()
        .filter(|p| valid_point(**p))
        .map(|p| frame.to_xy(*p))
        .collect();
    let mut best: Option<(Xy, Xy, f64)> = pts.first().map(|&p| (p, (0.0, 0.0), norm(p)));
    for w in pts.windows(2) {
        let foot = nearest_on_segment((0.0, 0.0), w[0], w[1]);
        let d = norm(foot);
        if best.is_none_or(|(_, _, bd)| d < bd) {
            best = Some((foot, sub(w[1], w[0]), d));
        }
    }
    best.map(|(foot, dir, _)| (foot, dir))
}

/// How the default frontage zone is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrontageConfig {
    /// Width along the street, centred at the foot of the perpendicular (default 30 m).
    pub width_m: f64,
    /// An object farther than this from the street gets no derived zone (default 60 m): it
    /// has no frontage on that street, and its zone must be drawn.
    pub max_depth_m: f64,
    /// An object nearer than this to the street line gets no derived zone (default 0.5 m): its
    /// position cannot tell which side of the street it is on.
    pub min_depth_m: f64,
}

impl Default for FrontageConfig {
    fn default() -> Self {
        Self {
            width_m: 30.0,
            max_depth_m: 60.0,
            min_depth_m: 0.5,
        }
    }
}

/// A derived frontage zone and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frontage {
    /// The zone: a rectangle from the building line to the street line.
    pub zone: ResponsibilityZone,
    /// 垂足: the foot of the perpendicular from the object on the street line (the kerb).
    pub foot: LngLat,
    /// Distance from the object to the street line (m): the depth of the zone.
    pub depth_m: f64,
}

/// 门前三包 default zone: when no zone is drawn, the frontage from the object's building line
/// to the street.
///
/// The object's point is taken to lie on its building line (建筑红线/门面). On the local frame
/// of the point, the nearest point of `street` is the foot `F` of the perpendicular (or the
/// nearest vertex); `n` is the unit vector from `F` to the object and `u` the street direction
/// perpendicular to it. The zone is the rectangle `F ± w/2·u` to `F ± w/2·u + d·n`, `d` = the
/// distance from the object to the street: its street edge lies on the street line centred at
/// `F`, and the object's point is the middle of its building-line edge. Over a frontage of
/// tens of metres a street is straight enough for the tangent at `F` to stand for it.
pub fn frontage_zone(
    point: LngLat,
    street: &[LngLat],
    config: &FrontageConfig,
) -> Result<Frontage, ObjectError> {
    if !valid_point(point) {
        return Err(ObjectError::NoFrontage(format!(
            "invalid object position lng={}, lat={}",
            point.lng, point.lat
        )));
    }
    if !(config.width_m.is_finite() && config.width_m > 0.0) {
        return Err(ObjectError::NoFrontage(format!(
            "the frontage width must be positive, not {}",
            config.width_m
        )));
    }
    let frame = LocalFrame::at(point);
    let (foot, _) = nearest_on_polyline(&frame, street)
        .ok_or_else(|| ObjectError::NoFrontage("the street has no valid point".into()))?;
    let depth = norm(foot);
    if depth < config.min_depth_m {
        return Err(ObjectError::NoFrontage(format!(
            "the object lies on the street line ({depth:.2} m away): draw its zone"
        )));
    }
    if depth > config.max_depth_m {
        return Err(ObjectError::NoFrontage(format!(
            "the object is {depth:.1} m from the street, more than {} m: draw its zone",
            config.max_depth_m
        )));
    }
    // n: from the foot to the object; u: along the street, so that (u, n) is counter-clockwise.
    let n = (-foot.0 / depth, -foot.1 / depth);
    let u = (n.1, -n.0);
    let h = config.width_m / 2.0;
    let corner = |along: f64, up: f64| {
        frame.to_lnglat((
            foot.0 + along * u.0 + up * n.0,
            foot.1 + along * u.1 + up * n.1,
        ))
    };
    let ring = vec![
        corner(-h, 0.0),
        corner(h, 0.0),
        corner(h, depth),
        corner(-h, depth),
    ];
    Ok(Frontage {
        zone: ResponsibilityZone::new(ring)?,
        foot: frame.to_lnglat(foot),
        depth_m: depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORIGIN: LngLat = LngLat {
        lng: 114.4158,
        lat: 23.1115,
    };

    fn at_m(x: f64, y: f64) -> LngLat {
        LocalFrame::at(ORIGIN).to_lnglat((x, y))
    }

    #[test]
    fn the_local_frame_round_trips_and_measures() {
        let f = LocalFrame::at(ORIGIN);
        let p = f.to_lnglat((120.0, -45.0));
        let (x, y) = f.to_xy(p);
        assert!((x - 120.0).abs() < 1e-6 && (y + 45.0).abs() < 1e-6);
        // Against the haversine distance of the duplicate rule.
        let d = crate::case::duplicate::distance_m(ORIGIN.lng, ORIGIN.lat, p.lng, p.lat);
        assert!((d - 120.0f64.hypot(45.0)).abs() < 0.05, "{d}");
    }

    #[test]
    fn a_shop_north_of_an_east_west_street() {
        // Street along y = 0 from x = -100 to 100; the shop 12 m north at x = 10.
        let street = [at_m(-100.0, 0.0), at_m(100.0, 0.0)];
        let shop = at_m(10.0, 12.0);
        let f = frontage_zone(shop, &street, &FrontageConfig::default()).expect("zone");
        assert!((f.depth_m - 12.0).abs() < 1e-6);
        let frame = LocalFrame::at(ORIGIN);
        let (fx, fy) = frame.to_xy(f.foot);
        assert!((fx - 10.0).abs() < 1e-3 && fy.abs() < 1e-3);
        let corners: Vec<Xy> = f.zone.ring().iter().map(|p| frame.to_xy(*p)).collect();
        let expect = [(-5.0, 0.0), (25.0, 0.0), (25.0, 12.0), (-5.0, 12.0)];
        for (c, e) in corners.iter().zip(expect) {
            assert!(
                (c.0 - e.0).abs() < 1e-3 && (c.1 - e.1).abs() < 1e-3,
                "{c:?}"
            );
        }
        assert!((f.zone.area_m2() - 360.0).abs() < 1e-3);
        assert!(f.zone.distance_m(shop) < 1e-6);
        assert!(f.zone.contains(at_m(10.0, 6.0)));
        assert!(!f.zone.contains(at_m(10.0, 20.0)));
        assert!((f.zone.distance_m(at_m(10.0, 20.0)) - 8.0).abs() < 1e-3);
        // Counter-clockwise ring (positive shoelace), as GeoJSON prefers.
        let twice: f64 = (0..4)
            .map(|i| {
                let (a, b) = (corners[i], corners[(i + 1) % 4]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum();
        assert!(twice > 0.0);
    }

    #[test]
    fn the_nearest_segment_and_street_are_chosen() {
        // An L-shaped street: the shop is nearer to its vertical leg.
        let street = [at_m(-100.0, 0.0), at_m(0.0, 0.0), at_m(0.0, 100.0)];
        let shop = at_m(8.0, 50.0);
        let f = frontage_zone(shop, &street, &FrontageConfig::default()).expect("zone");
        assert!((f.depth_m - 8.0).abs() < 1e-3);
        let far = [at_m(-100.0, 300.0), at_m(100.0, 300.0)];
        let streets: [&[LngLat]; 2] = [&far, &street];
        let (i, d) = nearest_street(shop, streets).expect("nearest");
        assert_eq!(i, 1);
        assert!((d - 8.0).abs() < 1e-3);
        assert_eq!(nearest_street(shop, std::iter::empty::<&[LngLat]>()), None);
    }

    #[test]
    fn no_frontage_when_too_far_on_the_line_or_no_street() {
        let street = [at_m(-100.0, 0.0), at_m(100.0, 0.0)];
        let cfg = FrontageConfig::default();
        let far = frontage_zone(at_m(0.0, 80.0), &street, &cfg).expect_err("too far");
        assert!(far.to_string().contains("80.0 m"), "{far}");
        assert!(frontage_zone(at_m(0.0, 0.1), &street, &cfg).is_err());
        assert!(frontage_zone(at_m(0.0, 10.0), &[], &cfg).is_err());
        let narrow = FrontageConfig {
            width_m: 0.0,
            ..cfg
        };
        assert!(frontage_zone(at_m(0.0, 10.0), &street, &narrow).is_err());
        // A street of one point: the zone faces that point.
        let f = frontage_zone(at_m(0.0, 10.0), &[at_m(0.0, 0.0)], &cfg).expect("point street");
        assert!((f.zone.area_m2() - 300.0).abs() < 1e-3);
    }

    #[test]
    fn drawn_zones_are_validated() {
        let sq = vec![
            at_m(0.0, 0.0),
            at_m(10.0, 0.0),
            at_m(10.0, 10.0),
            at_m(0.0, 10.0),
        ];
        let z = ResponsibilityZone::new(sq.clone()).expect("square");
        assert!((z.area_m2() - 100.0).abs() < 1e-3);
        let mut closed = sq.clone();
        closed.push(sq[0]);
        assert_eq!(
            ResponsibilityZone::new(closed)
                .expect("closed")
                .ring()
                .len(),
            4
        );
        assert!(ResponsibilityZone::new(sq[..2].to_vec()).is_err());
        let line = vec![at_m(0.0, 0.0), at_m(5.0, 0.0), at_m(10.0, 0.0)];
        assert!(ResponsibilityZone::new(line).is_err());
        let bad = vec![
            at_m(0.0, 0.0),
            LngLat {
                lng: f64::NAN,
                lat: 0.0,
            },
            at_m(0.0, 10.0),
        ];
        assert!(ResponsibilityZone::new(bad).is_err());
        let json = serde_json::to_string(&z).expect("json");
        assert_eq!(
            serde_json::from_str::<ResponsibilityZone>(&json).ok(),
            Some(z)
        );
        assert!(serde_json::from_str::<ResponsibilityZone>("[]").is_err());
    }

    proptest! {
        #[test]
        fn derived_zones_touch_the_object_and_the_street(
            px in -150.0f64..150.0,
            py in -150.0f64..150.0,
            street in proptest::collection::vec((-200.0f64..200.0, -200.0f64..200.0), 2..6),
            width in 5.0f64..60.0,
        ) {
            let cfg = FrontageConfig { width_m: width, max_depth_m: 1_000.0, min_depth_m: 0.5 };
            let point = at_m(px, py);
            let line: Vec<LngLat> = street.iter().map(|&(x, y)| at_m(x, y)).collect();
            let depth = distance_to_polyline_m(point, &line).expect("line");
            match frontage_zone(point, &line, &cfg) {
                Ok(f) => {
                    prop_assert!(f.zone.area_m2() > 0.0);
                    prop_assert!((f.zone.area_m2() - width * f.depth_m).abs() < 1e-3 * width * f.depth_m + 1e-3);
                    prop_assert!((f.depth_m - depth).abs() < 1e-6);
                    // The object lies on the building-line edge, the foot on the street edge.
                    prop_assert!(f.zone.distance_m(point) < 1e-3);
                    prop_assert!(f.zone.distance_m(f.foot) < 1e-3);
                    prop_assert!(distance_to_polyline_m(f.foot, &line).expect("line") < 1e-3);
                }
                Err(_) => prop_assert!(depth < cfg.min_depth_m),
            }
        }
    }
}
