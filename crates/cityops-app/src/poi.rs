//! 公共服务设施 (public-service points of interest: 公厕、公园、摊规点、无车区): what every entry
//! point that imports POIs (the API, `cityops import pois`, the demo city) or looks for the nearest
//! ones (the API, the phone page) shares — GCJ-02 converted to WGS84 at the edge, each POI located
//! in the city's index (a POI outside every district is refused, naming its line or feature), the
//! whole file written in one transaction, and the nearby answer with the walking distance and
//! direction from the citizen.
use cityops_domain::poi::{
    NEARBY_DEFAULT_LIMIT, NEARBY_MAX_LIMIT, Poi, PoiCrs, PoiImport, PoiType, Walk,
};
use cityops_geo::RegionIndex;
use cityops_geo::gcj02::gcj02_to_wgs84;
use cityops_store::Store;

use crate::{Result, ServiceError};

/// Converts every imported POI to WGS84 and fills its region codes from the index. The first POI
/// outside every district of the city is refused (`Invalid`, naming its line or feature); no
/// partial answer.
pub fn locate_pois(index: &RegionIndex, imports: Vec<PoiImport>) -> Result<Vec<Poi>> {
    let mut out = Vec::with_capacity(imports.len());
    for import in imports {
        let (lng, lat) = match import.crs {
            PoiCrs::Wgs84 => (import.poi.lng, import.poi.lat),
            PoiCrs::Gcj02 => gcj02_to_wgs84(import.poi.lng, import.poi.lat),
        };
        let Some(located) = index.locate(lng, lat).map(|l| l.into_owned()) else {
            return Err(ServiceError::invalid(
                import
                    .error(format!(
                        "({lng:.6}, {lat:.6}) lies outside the city's districts"
                    ))
                    .to_string(),
            ));
        };
        out.push(Poi {
            lng,
            lat,
            district_code: Some(located.district_code),
            street_code: located.street_code,
            community_code: located.community_code,
            grid_code: located.grid_code,
            ..import.poi
        });
    }
    Ok(out)
}

/// Imports POIs: located ([`locate_pois`]), then added or replaced (by type and name) in one
/// transaction — all or nothing. Answers (added, replaced).
pub async fn import_pois(
    store: &dyn Store,
    index: &RegionIndex,
    imports: Vec<PoiImport>,
) -> Result<(u64, u64)> {
    if imports.is_empty() {
        return Err(ServiceError::invalid("no POIs given"));
    }
    let pois = locate_pois(index, imports)?;
    Ok(store.replace_or_insert_pois(&pois).await?)
}

/// A nearby search (附近的公厕、公园…): where the citizen stands, in `crs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearbyQuery {
    /// One type, or any.
    pub poi_type: Option<PoiType>,
    pub lng: f64,
    pub lat: f64,
    pub crs: PoiCrs,
    /// 1–[`NEARBY_MAX_LIMIT`]; `None`: [`NEARBY_DEFAULT_LIMIT`].
    pub limit: Option<u32>,
}

/// One POI of a nearby answer and how to walk there from the citizen.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyPlace {
    pub poi: Poi,
    pub walk: Walk,
}

/// The answer of a nearby search: where the citizen stands in WGS84, and the POIs nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyAnswer {
    pub lng: f64,
    pub lat: f64,
    pub places: Vec<NearbyPlace>,
}

/// Checks a nearby search and converts its point to WGS84 (`Invalid` for a point that is not a
/// finite longitude and latitude, or a limit outside 1–50).
pub fn nearby_point(q: &NearbyQuery) -> Result<(f64, f64, u32)> {
    let valid = q.lng.is_finite()
        && q.lat.is_finite()
        && (-180.0..=180.0).contains(&q.lng)
        && (-90.0..=90.0).contains(&q.lat);
    if !valid {
        return Err(ServiceError::invalid(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    let limit = q.limit.unwrap_or(NEARBY_DEFAULT_LIMIT);
    if !(1..=NEARBY_MAX_LIMIT).contains(&limit) {
        return Err(ServiceError::invalid(format!(
            "limit {limit}: expected 1 to {NEARBY_MAX_LIMIT}"
        )));
    }
    let (lng, lat) = match q.crs {
        PoiCrs::Wgs84 => (q.lng, q.lat),
        PoiCrs::Gcj02 => gcj02_to_wgs84(q.lng, q.lat),
    };
    Ok((lng, lat, limit))
}

/// The POIs nearest to the citizen (within 20 km), nearest first, with the walking distance and
/// direction (八方位) from where they stand.
pub async fn nearby(store: &dyn Store, q: &NearbyQuery) -> Result<NearbyAnswer> {
    let (lng, lat, limit) = nearby_point(q)?;
    let found = store.nearby_pois(q.poi_type, lng, lat, limit).await?;
    Ok(NearbyAnswer {
        lng,
        lat,
        places: found
            .into_iter()
            .map(|n| NearbyPlace {
                walk: Walk {
                    distance_m: n.distance_m,
                    ..Walk::to(lng, lat, &n.poi)
                },
                poi: n.poi,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::poi::{Compass8, PoiSource, parse_pois_csv};
    use cityops_test_support::city;

    fn index() -> std::sync::Arc<RegionIndex> {
        city::index(&city::regions())
    }

    #[test]
    fn imports_are_converted_and_located_or_refused_by_line() {
        let (lng, lat) = city::A_NW;
        // The same point written in GCJ-02 (as a phone's map app would give it).
        let (g_lng, g_lat) = cityops_geo::gcj02::wgs84_to_gcj02(lng, lat);
        let csv = format!(
            "type,name,lng,lat,crs\n\
             toilet,西北公厕,{lng},{lat},\n\
             park,西北公园,{g_lng},{g_lat},gcj02\n"
        );
        let pois = locate_pois(&index(), parse_pois_csv(&csv, PoiCrs::Wgs84).unwrap()).unwrap();
        assert_eq!(pois.len(), 2);
        assert_eq!(pois[0].grid_code.as_deref(), Some(city::GRID_NW));
        assert_eq!(pois[0].district_code.as_deref(), Some(city::DISTRICT));
        assert!((pois[1].lng - lng).abs() < 1e-5 && (pois[1].lat - lat).abs() < 1e-5);
        assert_eq!(pois[1].grid_code.as_deref(), Some(city::GRID_NW));

        let outside = "type,name,lng,lat\ntoilet,城内,114.41,23.09\npark,城外,113.0,23.0\n";
        let imports = parse_pois_csv(outside, PoiCrs::Wgs84).unwrap();
        assert_eq!(imports[1].source, PoiSource::Line(3));
        let e = locate_pois(&index(), imports).unwrap_err().to_string();
        assert!(
            e.starts_with("POI file line 3 (城外): (113.000000, 23.000000) lies outside"),
            "{e}"
        );
    }

    #[test]
    fn nearby_points_are_checked_and_converted() {
        let q = |lng, lat, crs, limit| NearbyQuery {
            poi_type: Some(PoiType::Toilet),
            lng,
            lat,
            crs,
            limit,
        };
        assert_eq!(
            nearby_point(&q(114.41, 23.09, PoiCrs::Wgs84, None)).unwrap(),
            (114.41, 23.09, 5)
        );
        let (lng, lat, limit) = nearby_point(&q(114.41, 23.09, PoiCrs::Gcj02, Some(50))).unwrap();
        let (back_lng, back_lat) = cityops_geo::gcj02::wgs84_to_gcj02(lng, lat);
        assert!((lng - 114.41).abs() > 1e-3, "converted");
        assert!((back_lng - 114.41).abs() < 1e-6 && (back_lat - 23.09).abs() < 1e-6);
        assert_eq!(limit, 50);
        for bad in [
            q(f64::NAN, 23.0, PoiCrs::Wgs84, None),
            q(181.0, 23.0, PoiCrs::Wgs84, None),
            q(114.0, 23.0, PoiCrs::Wgs84, Some(0)),
            q(114.0, 23.0, PoiCrs::Wgs84, Some(51)),
        ] {
            assert!(matches!(nearby_point(&bad), Err(ServiceError::Invalid(_))));
        }
    }

    #[tokio::test]
    async fn nearby_answers_distance_and_direction() {
        let store = cityops_test_support::sqlite::memory_store().await;
        let (lng, lat) = city::A_NW;
        let csv = format!(
            "type,name,lng,lat\ntoilet,东边公厕,{},{lat}\ntoilet,北边公厕,{lng},{}\n",
            lng + 0.003,
            lat + 0.001
        );
        let imports = parse_pois_csv(&csv, PoiCrs::Wgs84).unwrap();
        assert_eq!(
            import_pois(&store, &index(), imports).await.unwrap(),
            (2, 0)
        );
        assert!(matches!(
            import_pois(&store, &index(), Vec::new()).await,
            Err(ServiceError::Invalid(_))
        ));
        let got = nearby(
            &store,
            &NearbyQuery {
                poi_type: Some(PoiType::Toilet),
                lng,
                lat,
                crs: PoiCrs::Wgs84,
                limit: None,
            },
        )
        .await
        .unwrap();
        let names: Vec<&str> = got.places.iter().map(|p| p.poi.name.as_str()).collect();
        assert_eq!(names, ["北边公厕", "东边公厕"]);
        assert_eq!(got.places[0].walk.direction, Compass8::North);
        assert_eq!(got.places[1].walk.direction, Compass8::East);
        assert!((got.places[0].walk.distance_m - 111.2).abs() < 1.0);
    }
}
