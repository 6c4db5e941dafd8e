//! Map layers of the console: `GET /ui/layers/{level}.geojson?bbox=&parent=&code=` answers a
//! GeoJSON FeatureCollection of the regions of one level (district, street, community, grid).
//!
//! Each level is built once per process, lazily, from `RegionRepo::regions_with_geometry`:
//! district, street and community polygons are simplified, grids are kept as stored. Every feature
//! is serialised once; a request only filters by bounding box, parent or code and concatenates.
//! A request returns at most [`max_features`] features (`"truncated": true` says more matched).
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::{Region, RegionLevel};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::UiState;
use crate::auth::JsonUser;
use crate::error::UiError;

/// The levels that have a layer.
pub const LAYER_LEVELS: [RegionLevel; 4] = [
    RegionLevel::District,
    RegionLevel::Street,
    RegionLevel::Community,
    RegionLevel::Grid,
];

/// Simplification tolerance of a level, in degrees (0 = as stored).
pub fn tolerance(level: RegionLevel) -> f64 {
    match level {
        RegionLevel::City | RegionLevel::District => 0.0004,
        RegionLevel::Street => 0.0002,
        RegionLevel::Community => 0.00005,
        RegionLevel::Grid => 0.0,
    }
}

/// The most features one request returns for a level.
pub fn max_features(level: RegionLevel) -> usize {
    match level {
        RegionLevel::City | RegionLevel::District => 200,
        RegionLevel::Street => 2_000,
        RegionLevel::Community => 3_000,
        RegionLevel::Grid => 6_000,
    }
}

/// One region, ready to send.
#[derive(Debug, Clone)]
pub struct Feature {
    pub code: String,
    pub parent: Option<String>,
    /// `[min_lng, min_lat, max_lng, max_lat]`
    pub bbox: [f64; 4],
    /// The serialised GeoJSON Feature.
    pub json: String,
}

/// The features of one level, ordered by code.
#[derive(Debug, Default)]
pub struct Layer {
    pub features: Vec<Feature>,
}

#[derive(Serialize)]
struct Properties<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent: Option<&'a str>,
    synthetic: bool,
    /// A point inside the region for its label: `[lng, lat]`.
    label: Option<[f64; 2]>,
}

impl Layer {
    /// Builds a layer from regions with geometry (regions without one are skipped).
    pub fn build(regions: &[Region], tolerance_deg: f64) -> Result<Layer, String> {
        let mut features = Vec::with_capacity(regions.len());
        for r in regions {
            let (Some(geometry), Some(bbox)) = (&r.geometry, r.bbox) else {
                continue;
            };
            if !bbox.iter().all(|v| v.is_finite()) {
                return Err(format!("region {}: bounding box is not finite", r.code));
            }
            let geometry = if tolerance_deg > 0.0 {
                cityops_geo::simplify_geometry_json(geometry, tolerance_deg)
                    .map_err(|e| format!("region {}: {e}", r.code))?
            } else {
                serde_json::from_str::<serde::de::IgnoredAny>(geometry)
                    .map_err(|e| format!("region {}: geometry is not JSON: {e}", r.code))?;
                geometry.clone()
            };
            let props = Properties {
                code: &r.code,
                name: &r.name,
                level: r.level.as_str(),
                parent: r.parent_code.as_deref(),
                synthetic: r.synthetic,
                label: r.center.map(|c| [c.lng, c.lat]),
            };
            let props = serde_json::to_string(&props).map_err(|e| e.to_string())?;
            let id = serde_json::to_string(&r.code).map_err(|e| e.to_string())?;
            let [w, so, e, n] = bbox;
            let json = format!(
                r#"{{"type":"Feature","id":{id},"bbox":[{w},{so},{e},{n}],"properties":{props},"geometry":{geometry}}}"#
            );
            features.push(Feature {
                code: r.code.clone(),
                parent: r.parent_code.clone(),
                bbox,
                json,
            });
        }
        features.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Layer { features })
    }

    /// The features matching the filters, at most `limit`, and how many matched in all.
    pub fn select(&self, filter: &Filter, limit: usize) -> (Vec<&Feature>, usize) {
        let mut out = Vec::new();
        let mut matched = 0;
        for f in &self.features {
            if let Some(c) = &filter.code
                && &f.code != c
            {
                continue;
            }
            if let Some(p) = &filter.parent
                && f.parent.as_ref() != Some(p)
            {
                continue;
            }
            if let Some(b) = filter.bbox
                && !(f.bbox[0] <= b[2]
                    && f.bbox[2] >= b[0]
                    && f.bbox[1] <= b[3]
                    && f.bbox[3] >= b[1])
            {
                continue;
            }
            matched += 1;
            if out.len() < limit {
                out.push(f);
            }
        }
        (out, matched)
    }

    /// A FeatureCollection of the selected features.
    pub fn collection(&self, filter: &Filter, limit: usize) -> String {
        let (features, matched) = self.select(filter, limit);
        let size: usize = features.iter().map(|f| f.json.len() + 1).sum();
        let mut out = String::with_capacity(size + 100);
        out.push_str(r#"{"type":"FeatureCollection","features":["#);
        for (i, f) in features.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&f.json);
        }
        out.push_str(&format!(
            r#"],"matched":{matched},"returned":{},"truncated":{}}}"#,
            features.len(),
            matched > features.len()
        ));
        out
    }
}

/// The layers of this process, each built on first use.
#[derive(Default)]
pub struct LayerCache {
    cells: [OnceCell<Arc<Layer>>; 4],
}

fn slot(level: RegionLevel) -> Option<usize> {
    LAYER_LEVELS.iter().position(|l| *l == level)
}

/// The layer of a level, built once from the store.
pub(crate) async fn layer(st: &UiState, level: RegionLevel) -> Result<Arc<Layer>, UiError> {
    let i = slot(level).ok_or_else(|| UiError::Internal(format!("no layer for level {level}")))?;
    st.caches.layers.cells[i]
        .get_or_try_init(|| async {
            let started = std::time::Instant::now();
            let regions = st.app.store.regions_with_geometry(level).await?;
            let n = regions.len();
            let layer = tokio::task::spawn_blocking(move || Layer::build(&regions, tolerance(level)))
                .await
                .map_err(|e| UiError::Internal(format!("building the {level} layer: {e}")))?
                .map_err(|e| UiError::Internal(format!("building the {level} layer: {e}")))?;
            tracing::info!(%level, regions = n, features = layer.features.len(), ms = started.elapsed().as_millis() as u64, "map layer built");
            Ok::<_, UiError>(Arc::new(layer))
        })
        .await
        .cloned()
}

/// Filters of a layer request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub bbox: Option<[f64; 4]>,
    pub parent: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LayerQuery {
    bbox: Option<String>,
    parent: Option<String>,
    code: Option<String>,
}

fn bad_query(message: String) -> Response {
    cityops_web::ApiError::invalid_query(message).into_response()
}

/// Parses `minLng,minLat,maxLng,maxLat`.
pub fn parse_bbox(s: &str) -> Option<[f64; 4]> {
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d]: [f64; 4] = parts.try_into().ok()?;
    let ok = [a, b, c, d].iter().all(|v| v.is_finite())
        && a <= c
        && b <= d
        && (-180.0..=180.0).contains(&a)
        && (-180.0..=180.0).contains(&c)
        && (-90.0..=90.0).contains(&b)
        && (-90.0..=90.0).contains(&d);
    ok.then_some([a, b, c, d])
}

/// `GET /ui/layers/{level}.geojson` (requires a session).
pub(crate) async fn handler(
    State(st): State<UiState>,
    _user: JsonUser,
    Path(file): Path<String>,
    Query(q): Query<LayerQuery>,
) -> Response {
    let Some(level) = file
        .strip_suffix(".geojson")
        .and_then(|l| l.parse::<RegionLevel>().ok())
        .filter(|l| slot(*l).is_some())
    else {
        return cityops_web::ApiError::not_found(format!(
            "No layer {file:?}: use district, street, community or grid .geojson."
        ))
        .into_response();
    };
    let bbox = match q.bbox.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match parse_bbox(s) {
            Some(b) => Some(b),
            None => return bad_query(format!("bbox {s:?}: expected minLng,minLat,maxLng,maxLat")),
        },
    };
    let clean = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = Filter {
        bbox,
        parent: clean(q.parent),
        code: clean(q.code),
    };
    let layer = match layer(&st, level).await {
        Ok(l) => l,
        Err(e) => return e.json(),
    };
    let body = layer.collection(&filter, max_features(level));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::LngLat;

    fn square(code: &str, parent: &str, w: f64, s: f64, size: f64) -> Region {
        let (e, n) = (w + size, s + size);
        Region {
            code: code.into(),
            level: RegionLevel::Grid,
            name: format!("网格{code}"),
            parent_code: Some(parent.into()),
            geometry: Some(format!(
                r#"{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"#
            )),
            bbox: Some([w, s, e, n]),
            center: Some(LngLat {
                lng: w + size / 2.0,
                lat: s + size / 2.0,
            }),
            area_m2: Some(1.0),
            synthetic: true,
        }
    }

    #[test]
    fn filters_by_bbox_parent_and_code_and_bounds_the_answer() {
        let regions: Vec<Region> = (0..10)
            .map(|i| {
                square(
                    &format!("441302001001{:03}", i + 1),
                    if i < 5 {
                        "441302001001"
                    } else {
                        "441302001002"
                    },
                    114.0 + f64::from(i) * 0.01,
                    23.0,
                    0.01,
                )
            })
            .collect();
        let layer = Layer::build(&regions, 0.0).unwrap();
        assert_eq!(layer.features.len(), 10);
        let all = Filter::default();
        assert_eq!(layer.select(&all, 100).1, 10);
        let west = Filter {
            bbox: Some([113.9, 22.9, 114.015, 23.1]),
            ..Filter::default()
        };
        let (got, matched) = layer.select(&west, 100);
        assert_eq!(matched, 2, "the box touches the first two squares");
        assert_eq!(got[0].code, "441302001001001");
        let by_parent = Filter {
            parent: Some("441302001002".into()),
            ..Filter::default()
        };
        assert_eq!(layer.select(&by_parent, 100).1, 5);
        let (got, matched) = layer.select(&all, 3);
        assert_eq!((got.len(), matched), (3, 10));
        let fc: serde_json::Value = serde_json::from_str(&layer.collection(&all, 3)).unwrap();
        assert_eq!(fc["type"], "FeatureCollection");
        assert_eq!(fc["features"].as_array().unwrap().len(), 3);
        assert_eq!(fc["truncated"], true);
        assert_eq!(
            fc["features"][0]["properties"]["name"],
            "网格441302001001001"
        );
        assert_eq!(fc["features"][0]["geometry"]["type"], "Polygon");
        let one = Filter {
            code: Some("441302001001004".into()),
            ..Filter::default()
        };
        assert_eq!(layer.select(&one, 10).0.len(), 1);
    }

    #[test]
    fn bbox_parsing() {
        assert_eq!(
            parse_bbox("114.4, 23.0,114.5,23.1"),
            Some([114.4, 23.0, 114.5, 23.1])
        );
        for bad in ["", "1,2,3", "a,1,2,3", "2,0,1,1", "0,0,181,1", "NaN,0,1,1"] {
            assert_eq!(parse_bbox(bad), None, "{bad}");
        }
    }
}
