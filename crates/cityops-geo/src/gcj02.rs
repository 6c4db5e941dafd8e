//! GCJ-02 (国测局坐标, "火星坐标", used by AMap/Tencent basemaps) ↔ WGS84 (≈ CGCS2000 at metre level).
//!
//! The forward transform is the widely published one (Krasovsky 1940 ellipsoid constants); the inverse
//! is iterative (fixed point on the forward transform) and converges below 1e-9°. Points outside the
//! customary mainland-China rectangle are returned unchanged, as the obfuscation is not applied there.
use geo::MapCoordsInPlace;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by the GCJ-02 algorithm.
const A: f64 = 6_378_245.0;
/// First eccentricity squared of the same ellipsoid.
const EE: f64 = 0.006_693_421_622_965_943;
const PI: f64 = std::f64::consts::PI;

/// Whether the GCJ-02 shift applies (the usual rectangle around mainland China).
pub fn in_china(lng: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lng) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The (Δlng, Δlat) offset GCJ-02 adds at a WGS84 point.
fn delta(lng: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lng - 105.0, lat - 35.0);
    let dlng = transform_lng(lng - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (dlng, dlat)
}

/// WGS84 → GCJ-02. Identity outside mainland China.
pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let (dlng, dlat) = delta(lng, lat);
    (lng + dlng, lat + dlat)
}

/// GCJ-02 → WGS84 by iterative inverse (error < 1e-6°, in practice < 1e-9°). Identity outside
/// mainland China.
pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    // Fixed-point iteration: w ← w − (f(w) − g). The shift varies slowly (|∂δ/∂x| ≪ 1), so this
    // contracts fast; 2–4 rounds reach 1e-10°.
    let (mut w_lng, mut w_lat) = (lng, lat);
    for _ in 0..30 {
        let (g_lng, g_lat) = wgs84_to_gcj02(w_lng, w_lat);
        let (e_lng, e_lat) = (g_lng - lng, g_lat - lat);
        w_lng -= e_lng;
        w_lat -= e_lat;
        if e_lng.abs() < 1e-11 && e_lat.abs() < 1e-11 {
            break;
        }
    }
    (w_lng, w_lat)
}

/// Converts every coordinate of a multipolygon from GCJ-02 to WGS84 in place.
pub fn multipolygon_gcj02_to_wgs84(mp: &mut geo::MultiPolygon<f64>) {
    mp.map_coords_in_place(|c| {
        let (x, y) = gcj02_to_wgs84(c.x, c.y);
        geo::Coord { x, y }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_beijing_vector() {
        // Beijing railway station: WGS-84 (116.42079, 39.90105) → GCJ-02 (116.42703, 39.90245).
        let (lng, lat) = wgs84_to_gcj02(116.42079, 39.90105);
        assert!((lng - 116.42703).abs() < 1e-5, "lng {lng}");
        assert!((lat - 39.90245).abs() < 1e-5, "lat {lat}");
        let (lng, lat) = gcj02_to_wgs84(116.42703, 39.90245);
        assert!((lng - 116.42079).abs() < 1e-5, "lng {lng}");
        assert!((lat - 39.90105).abs() < 1e-5, "lat {lat}");
    }

    #[test]
    fn outside_china_is_identity() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(-74.0, 40.7), (-74.0, 40.7));
    }

    #[test]
    fn shift_is_hundreds_of_metres() {
        // Huizhou: the offset is a few hundred metres, mostly eastwards/southwards varying by place.
        let (lng, lat) = wgs84_to_gcj02(114.41, 23.11);
        let d = ((lng - 114.41).powi(2) + (lat - 23.11).powi(2)).sqrt();
        assert!(d > 0.002 && d < 0.01, "offset {d}°");
    }

    #[test]
    fn multipolygon_conversion_moves_every_vertex() {
        let mut mp = geo::MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (114.0, 23.0),
                (114.1, 23.0),
                (114.1, 23.1),
                (114.0, 23.0),
            ]),
            vec![],
        )]);
        multipolygon_gcj02_to_wgs84(&mut mp);
        for c in mp.0[0].exterior().coords() {
            let (g_lng, g_lat) = wgs84_to_gcj02(c.x, c.y);
            let back_close = [(114.0, 23.0), (114.1, 23.0), (114.1, 23.1)]
                .iter()
                .any(|(x, y)| (g_lng - x).abs() < 1e-9 && (g_lat - y).abs() < 1e-9);
            assert!(back_close, "{c:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip_is_accurate(lng in 73.0f64..135.0, lat in 3.0f64..53.0) {
            let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
            let (w_lng, w_lat) = gcj02_to_wgs84(g_lng, g_lat);
            prop_assert!((w_lng - lng).abs() < 1e-8, "lng {} vs {}", w_lng, lng);
            prop_assert!((w_lat - lat).abs() < 1e-8, "lat {} vs {}", w_lat, lat);
        }
    }
}
