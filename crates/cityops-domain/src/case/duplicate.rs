//! The duplicate rule (重复案件): a new report within `radius_m` of an open case of the same
//! category reported within `window_hours` is flagged with that case as its candidate.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::types::Case;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DuplicateRule {
    pub radius_m: f64,
    pub window_hours: i64,
}

impl Default for DuplicateRule {
    fn default() -> Self {
        Self {
            radius_m: 50.0,
            window_hours: 72,
        }
    }
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres (haversine).
pub fn distance_m(lng1: f64, lat1: f64, lng2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

impl DuplicateRule {
    /// The box `[min_lng, min_lat, max_lng, max_lat]` that contains every point within the radius:
    /// what the store pre-filters candidates by.
    pub fn bbox(&self, lng: f64, lat: f64) -> [f64; 4] {
        let dlat = (self.radius_m / EARTH_RADIUS_M).to_degrees() * 1.01;
        let dlng = dlat / lat.to_radians().cos().abs().max(1e-6);
        [lng - dlng, lat - dlat, lng + dlng, lat + dlat]
    }

    /// Reports at or after this instant are within the window.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::hours(self.window_hours)
    }

    /// The nearest open case of the same category within the radius and window, if any.
    pub fn pick<'a>(
        &self,
        category_code: &str,
        lng: f64,
        lat: f64,
        now: DateTime<Utc>,
        candidates: impl IntoIterator<Item = &'a Case>,
    ) -> Option<&'a Case> {
        let since = self.since(now);
        candidates
            .into_iter()
            .filter(|c| {
                c.status.is_open()
                    && c.merged_into.is_none()
                    && c.created_at >= since
                    && c.category_code.as_deref() == Some(category_code)
            })
            .map(|c| (distance_m(lng, lat, c.location.lng, c.location.lat), c))
            .filter(|(d, _)| *d <= self.radius_m)
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)))
            .map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_boxes() {
        // 0.001° of latitude ≈ 111 m.
        let d = distance_m(114.4, 23.1, 114.4, 23.101);
        assert!((d - 111.2).abs() < 0.5, "{d}");
        let r = DuplicateRule::default();
        let [a, b, c, e] = r.bbox(114.4, 23.1);
        assert!(distance_m(114.4, 23.1, a, 23.1) > 50.0 && distance_m(114.4, 23.1, c, 23.1) > 50.0);
        assert!(
            distance_m(114.4, 23.1, 114.4, b) > 50.0 && distance_m(114.4, 23.1, 114.4, e) > 50.0
        );
        assert!(distance_m(114.4, 23.1, a, 23.1) < 52.0);
    }
}
