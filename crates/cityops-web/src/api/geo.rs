//! Geography: `locate` (in memory, no database) and the region tree.
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::RegionLevel;
use cityops_geo::gcj02::gcj02_to_wgs84;
use cityops_store::RegionQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiPath, ApiQuery, PageParams};
use crate::state::AppState;
use crate::views::{LocateView, RegionFeature, RegionFeatureProperties, RegionList, RegionView};
use crate::wire::{Crs, is_region_code};

/// `?lng=&lat=&crs=`
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LocateParams {
    /// Longitude, degrees east.
    #[param(minimum = -180.0, maximum = 180.0, example = 114.4163)]
    lng: f64,
    /// Latitude, degrees north.
    #[param(minimum = -90.0, maximum = 90.0, example = 23.1115)]
    lat: f64,
    /// Coordinate system of the point: `wgs84` (also CGCS2000, the default) or `gcj02` (what
    /// phones' map apps give).
    #[param(value_type = Option<crate::wire::CrsName>)]
    crs: Option<Crs>,
}

/// 定位: the unit grid, community, street and district of a point.
///
/// Public and answered from memory. Points outside every district get 404 `outside_city`.
#[utoipa::path(
    get,
    path = "/api/v1/locate",
    tag = "geography",
    params(LocateParams),
    responses(
        (status = 200, body = LocateView),
        (status = 400, description = "`invalid_query`: missing, non-numeric, non-finite or out-of-range coordinates, unknown crs", body = ErrorBody),
        (status = 404, description = "`outside_city`", body = ErrorBody),
    )
)]
pub(crate) async fn locate(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<LocateParams>,
) -> ApiResult<axum::Json<LocateView>> {
    if !(p.lng.is_finite() && p.lat.is_finite()) {
        return Err(ApiError::invalid_query(
            "lng and lat must be finite numbers",
        ));
    }
    if !(-180.0..=180.0).contains(&p.lng) || !(-90.0..=90.0).contains(&p.lat) {
        return Err(ApiError::invalid_query(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    let (lng, lat) = match p.crs {
        None | Some(Crs::Wgs84) | Some(Crs::Cgcs2000) => (p.lng, p.lat),
        Some(Crs::Gcj02) => gcj02_to_wgs84(p.lng, p.lat),
    };
    let Some(loc) = state.index.locate(lng, lat).map(|l| l.into_owned()) else {
        state.metrics().locate(false);
        return Err(ApiError::of(ErrorCode::OutsideCity));
    };
    state.metrics().locate(true);
    let name = |c: &Option<String>| {
        c.as_deref()
            .and_then(|c| state.region_name(c))
            .map(str::to_string)
    };
    Ok(axum::Json(LocateView {
        lng,
        lat,
        grid_name: name(&loc.grid_code),
        community_name: name(&loc.community_code),
        street_name: name(&loc.street_code),
        district_name: state.region_name(&loc.district_code).map(str::to_string),
        grid_code: loc.grid_code,
        community_code: loc.community_code,
        street_code: loc.street_code,
        district_code: loc.district_code,
    }))
}

/// Filters of the region list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RegionFilter {
    /// `city`, `district`, `street`, `community` or `grid`.
    #[param(value_type = Option<crate::wire::RegionLevelName>)]
    level: Option<RegionLevel>,
    /// Parent region code: its direct children.
    #[param(value_type = Option<crate::wire::RegionCode>)]
    parent: Option<String>,
    /// Name contains this text.
    q: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// 区域列表: regions ordered by code (without geometry), filtered by level, parent and name.
#[utoipa::path(
    get,
    path = "/api/v1/regions",
    tag = "geography",
    params(RegionFilter, PageParams),
    responses(
        (status = 200, body = RegionList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
    )
)]
pub(crate) async fn list_regions(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<RegionFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<RegionList>> {
    let page = pp.request()?;
    if let Some(p) = &f.parent
        && !is_region_code(p)
    {
        return Err(ApiError::invalid_query(format!(
            "parent {p:?}: expected a region code of 6, 9, 12 or 15 digits"
        )));
    }
    let query = RegionQuery {
        level: f.level,
        parent_code: f.parent,
        name_contains: non_empty(f.q),
    };
    let got = state.store.list_regions(&query, page).await?;
    Ok(axum::Json(RegionList::from_page(got, RegionView::from)))
}

/// Options of the region detail.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RegionDetailParams {
    /// `true`: answer a GeoJSON Feature with the polygon.
    geometry: Option<bool>,
    /// With `geometry=true`: simplify the polygon with this tolerance in degrees (e.g. 0.0001 ≈
    /// 10 m). Default: no simplification.
    #[param(minimum = 0.0, example = 0.0001)]
    tolerance: Option<f64>,
}

/// 区域详情: one region; with `?geometry=true` a GeoJSON Feature with its polygon.
#[utoipa::path(
    get,
    path = "/api/v1/regions/{code}",
    tag = "geography",
    params(("code" = crate::wire::RegionCode, Path, description = "Region code (6, 9, 12 or 15 digits); any other is not found"), RegionDetailParams),
    responses(
        (status = 200, description = "The region; a GeoJSON Feature (`application/geo+json`) with `geometry=true`",
            content((RegionView = "application/json"), (RegionFeature = "application/geo+json"))),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub(crate) async fn get_region(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(p): ApiQuery<RegionDetailParams>,
) -> ApiResult<Response> {
    let tolerance = match p.tolerance {
        Some(t) if !(t.is_finite() && t >= 0.0) => {
            return Err(ApiError::invalid_query(
                "tolerance must be a finite number of degrees ≥ 0",
            ));
        }
        t => t,
    };
    let region = state
        .store
        .get_region(&code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No region with code {code:?}.")))?;
    if !p.geometry.unwrap_or(false) {
        return Ok(axum::Json(RegionView::from(region)).into_response());
    }
    let geometry = match &region.geometry {
        None => None,
        Some(g) => {
            let text = match tolerance {
                Some(t) if t > 0.0 => cityops_geo::simplify_geometry_json(g, t)
                    .map_err(|e| ApiError::internal(format_args!("region {}: {e}", region.code)))?,
                _ => g.clone(),
            };
            Some(
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
                    ApiError::internal(format_args!("region {} geometry: {e}", region.code))
                })?,
            )
        }
    };
    let feature = RegionFeature {
        kind: "Feature".to_string(),
        id: region.code.clone(),
        geometry,
        properties: RegionFeatureProperties {
            code: region.code,
            name: region.name,
            level: region.level.as_str().to_string(),
            parent_code: region.parent_code,
            area_m2: region.area_m2,
            synthetic: region.synthetic,
        },
    };
    let mut resp = axum::Json(feature).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(resp)
}
