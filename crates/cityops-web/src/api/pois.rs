//! 公共服务设施 (public-service points of interest: 公厕 public toilets, 公园 parks, 摊规点 vendor
//! zones, 无车区 car-free zones): the citizens' nearby search without an account
//! (`GET /api/v1/public/nearby`, rate-limited per client address), the staff's list
//! (`GET /api/v1/pois`) and the administrators' import from CSV or GeoJSON
//! (`POST /api/v1/pois/import`, all or nothing, errors naming the line or feature). The import
//! and the search themselves are `cityops_app::poi`'s.
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use cityops_app::poi::{NearbyPlace, NearbyQuery};
use cityops_app::report_limit::InjectedClock;
use cityops_domain::poi::{
    NEARBY_MAX_LIMIT, Poi, PoiCrs, PoiType, parse_pois_csv, parse_pois_geojson,
};
use cityops_domain::{Clock, Role};
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::routing::{body_rejection, content_type};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiQuery, ClientIp, CurrentUser, PageParams};
use crate::state::AppState;

/// The POI routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(nearby))
        .routes(routes!(list_pois))
        .routes(routes!(import_pois))
}

// ---------------------------------------------------------------------------------------------
// The per-address limit of public look-ups

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, InjectedClock, NoOpMiddleware<Duration>>;

/// Checks are counted; every this many the limiter drops idle addresses.
const HOUSEKEEPING_EVERY: u64 = 1024;
/// More addresses than this trigger housekeeping at once.
const MAX_KEYS: usize = 100_000;

/// Public look-ups (the nearby search) per minute and client address, on the injected clock (a
/// burst of the quota, then one every 60/n s). Apart from the citizens' report quota: looking for
/// a toilet must not use up a citizen's reports. One per process; memory bounded like the report
/// limiter's.
pub(crate) struct LookupLimiter {
    clock: InjectedClock,
    per_address: Option<Keyed>,
    checks: AtomicU64,
}

impl LookupLimiter {
    /// `per_minute` look-ups per address; 0 = no limit.
    pub(crate) fn new(clock: Arc<dyn Clock>, per_minute: u32) -> Self {
        let clock = InjectedClock(clock);
        Self {
            per_address: NonZeroU32::new(per_minute).map(|n| {
                RateLimiter::new(
                    Quota::per_minute(n),
                    DefaultKeyedStateStore::default(),
                    clock.clone(),
                )
            }),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one look-up of `address`. `Err(seconds)`: refused, retry after that many seconds.
    pub(crate) fn check(&self, address: &str) -> Result<(), u64> {
        let Some(l) = &self.per_address else {
            return Ok(());
        };
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) || l.len() > MAX_KEYS {
            l.retain_recent();
            l.shrink_to_fit();
        }
        let now = self.clock.now();
        l.check_key(&address.to_string()).map_err(|nu| {
            let wait = nu.wait_time_from(now);
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

impl AppState {
    /// Takes one public look-up of client address `ip` (as [`crate::extract::ClientIp`] gives
    /// it) on the per-address quota: 429 `rate_limited` with `Retry-After` when it is used up.
    /// An unknown address (an in-process request) is not counted.
    pub(crate) fn count_public_lookup(&self, ip: &str) -> Result<(), ApiError> {
        if ip == "unknown" {
            return Ok(());
        }
        self.shared
            .lookups
            .check(ip)
            .map_err(ApiError::rate_limited)
    }

    /// Takes one public look-up (a nearby search) of the request's client address on the
    /// per-address quota (`public_lookups_per_minute`): 429 `rate_limited` with `Retry-After`
    /// when it is used up. In-process requests (no address) are not counted. For the console's
    /// public pages, which look up as the API does.
    pub fn check_public_lookup(
        &self,
        headers: &HeaderMap,
        extensions: &axum::http::Extensions,
    ) -> Result<(), ApiError> {
        match crate::net::client_ip(headers, extensions, &self.config) {
            Some(ip) => self
                .shared
                .lookups
                .check(&ip.to_string())
                .map_err(ApiError::rate_limited),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Views

/// A POI as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PoiView {
    pub id: i64,
    /// `toilet`, `park`, `vendor_zone` or `car_free_zone`.
    #[serde(rename = "type")]
    #[schema(value_type = crate::wire::PoiTypeName)]
    pub poi_type: &'static str,
    /// The type in Chinese (公厕, 公园, 摊规点, 无车区).
    #[schema(example = "公厕")]
    pub type_name: &'static str,
    #[schema(example = "西湖公园1号公厕")]
    pub name: String,
    pub address: Option<String>,
    /// Longitude, WGS84.
    #[schema(example = 114.3921)]
    pub lng: f64,
    /// Latitude, WGS84.
    #[schema(example = 23.0838)]
    pub lat: f64,
    /// 开放时间 as written (`全天开放`, `06:00-22:00`).
    pub opening_hours: Option<String>,
    /// 备注
    pub note: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub district_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub street_code: Option<String>,
    #[schema(value_type = Option<crate::wire::RegionCode>)]
    pub community_code: Option<String>,
    #[schema(value_type = Option<crate::wire::GridCode>)]
    pub grid_code: Option<String>,
}

impl From<Poi> for PoiView {
    fn from(p: Poi) -> Self {
        Self {
            id: p.id,
            poi_type: p.poi_type.as_str(),
            type_name: p.poi_type.name_zh(),
            name: p.name,
            address: p.address,
            lng: p.lng,
            lat: p.lat,
            opening_hours: p.opening_hours,
            note: p.note,
            district_code: p.district_code,
            street_code: p.street_code,
            community_code: p.community_code,
            grid_code: p.grid_code,
        }
    }
}

/// A page of POIs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PoiList {
    pub items: Vec<PoiView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// A nearby POI: the POI, how far and which way to walk from where the citizen stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct NearbyPoiView {
    pub id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::wire::PoiTypeName)]
    pub poi_type: &'static str,
    #[schema(example = "公厕")]
    pub type_name: &'static str,
    #[schema(example = "西湖公园1号公厕")]
    pub name: String,
    pub address: Option<String>,
    /// Longitude, WGS84.
    #[schema(example = 114.3921)]
    pub lng: f64,
    /// Latitude, WGS84.
    #[schema(example = 23.0838)]
    pub lat: f64,
    pub opening_hours: Option<String>,
    pub note: Option<String>,
    /// Great-circle distance from the citizen, metres (rounded).
    #[schema(example = 212)]
    pub distance_m: u32,
    /// The initial bearing from the citizen, degrees clockwise from north.
    #[schema(minimum = 0.0, maximum = 360.0, example = 41.5)]
    pub bearing_deg: f64,
    /// The walking direction on the 8-point compass (`north`, `northeast`, …).
    #[schema(value_type = crate::wire::CompassName)]
    pub direction: &'static str,
    /// The same in Chinese (北, 东北, 东, 东南, 南, 西南, 西, 西北).
    #[schema(example = "东北")]
    pub direction_zh: &'static str,
    /// The POI as an RFC 5870 `geo:` URI with its name as the label: opens the phone's map app.
    #[schema(example = "geo:23.0838,114.3921?q=23.0838,114.3921(%E5%85%AC%E5%8E%95)")]
    pub geo_uri: String,
}

impl From<NearbyPlace> for NearbyPoiView {
    fn from(n: NearbyPlace) -> Self {
        let p = n.poi;
        Self {
            id: p.id,
            poi_type: p.poi_type.as_str(),
            type_name: p.poi_type.name_zh(),
            geo_uri: p.geo_uri(),
            name: p.name,
            address: p.address,
            lng: p.lng,
            lat: p.lat,
            opening_hours: p.opening_hours,
            note: p.note,
            distance_m: n.walk.distance_m.round().clamp(0.0, f64::from(u32::MAX)) as u32,
            bearing_deg: (n.walk.bearing_deg * 10.0).round() / 10.0 % 360.0,
            direction: n.walk.direction.as_str(),
            direction_zh: n.walk.direction.name_zh(),
        }
    }
}

/// The nearby answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct NearbyView {
    /// Where the search stood, WGS84 (converted when `crs=gcj02` was given).
    pub lng: f64,
    pub lat: f64,
    /// The coordinate system of every position of the answer: always `wgs84`.
    #[schema(example = "wgs84")]
    pub crs: &'static str,
    /// The POIs within 20 km, nearest first (ties by id); at most `limit`.
    pub items: Vec<NearbyPoiView>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// A `crs` as the document lists it (`wgs84`, `cgcs2000`, `gcj02`; exactly).
fn crs_name(c: &str) -> Option<PoiCrs> {
    crate::wire::CrsName::values()
        .contains(&c)
        .then(|| PoiCrs::parse(c))
        .flatten()
}

/// `?type=&lng=&lat=&limit=&crs=` of the nearby search. Read as text so that every bad value is
/// one 422 `invalid_value` naming it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NearbyParams {
    /// Only this type (default: any).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<crate::wire::PoiTypeName>)]
    poi_type: Option<String>,
    /// Where the citizen stands: longitude, degrees east.
    #[param(value_type = f64, required = true, minimum = -180.0, maximum = 180.0, example = 114.3925)]
    lng: Option<String>,
    /// Latitude, degrees north.
    #[param(value_type = f64, required = true, minimum = -90.0, maximum = 90.0, example = 23.0820)]
    lat: Option<String>,
    /// How many POIs at most, 1–50. Default 5.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50, example = 5)]
    limit: Option<String>,
    /// Coordinate system of the point: `wgs84` (the default; `cgcs2000` is the same to a metre) or
    /// `gcj02` (what phones' map apps give).
    #[param(value_type = Option<crate::wire::CrsName>)]
    crs: Option<String>,
}

impl NearbyParams {
    fn query(&self) -> Result<NearbyQuery, ApiError> {
        // Absent is the default; present, a value must be one the document lists (also not empty).
        let poi_type = match self.poi_type.as_deref() {
            None => None,
            Some(t) => Some(t.parse::<PoiType>().map_err(|_| {
                ApiError::invalid_value(format!(
                    "type {t:?}: expected toilet, park, vendor_zone or car_free_zone"
                ))
            })?),
        };
        let number = |name: &str, v: &Option<String>, (lo, hi): (f64, f64)| {
            let text = v
                .as_deref()
                .ok_or_else(|| ApiError::invalid_value(format!("{name} is required")))?;
            text.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && (lo..=hi).contains(x))
                .ok_or_else(|| {
                    ApiError::invalid_value(format!(
                        "{name} {text:?}: expected a number from {lo} to {hi}"
                    ))
                })
        };
        let lng = number("lng", &self.lng, (-180.0, 180.0))?;
        let lat = number("lat", &self.lat, (-90.0, 90.0))?;
        let limit = match self.limit.as_deref() {
            None => None,
            Some(t) => Some(
                t.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=NEARBY_MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid_value(format!(
                            "limit {t:?}: expected a whole number from 1 to {NEARBY_MAX_LIMIT}"
                        ))
                    })?,
            ),
        };
        let crs = match self.crs.as_deref() {
            None => PoiCrs::Wgs84,
            Some(c) => crs_name(c).ok_or_else(|| {
                ApiError::invalid_value(format!("crs {c:?}: expected wgs84, cgcs2000 or gcj02"))
            })?,
        };
        Ok(NearbyQuery {
            poi_type,
            lng,
            lat,
            crs,
            limit,
        })
    }
}

/// 附近的公厕、公园: the public toilets, parks, vendor zones (摊规点) or car-free zones (无车区)
/// nearest to a point, within 20 km, nearest first, with the distance and walking direction
/// (八方位) from it. No login; `crs=gcj02` takes a phone map app's coordinates. Counted per client
/// address (429 `rate_limited` beyond `public_lookups_per_minute`).
#[utoipa::path(
    get,
    path = "/api/v1/public/nearby",
    tag = "public",
    params(NearbyParams),
    responses(
        (status = 200, body = NearbyView),
        (status = 400, description = "`invalid_query`: a parameter given twice", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a missing or non-numeric `lng`/`lat`, a point out of range, an unknown `type` or `crs`, a `limit` outside 1–50", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many look-ups from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next look-up is taken"))),
    )
)]
pub(crate) async fn nearby(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(p): ApiQuery<NearbyParams>,
) -> ApiResult<axum::Json<NearbyView>> {
    state.count_public_lookup(&ip)?;
    let q = p.query()?;
    let answer = cityops_app::poi::nearby(state.store.as_ref(), &q).await?;
    Ok(axum::Json(NearbyView {
        lng: answer.lng,
        lat: answer.lat,
        crs: "wgs84",
        items: answer.places.into_iter().map(NearbyPoiView::from).collect(),
    }))
}

/// `?type=` of the POI list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PoiParams {
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<crate::wire::PoiTypeName>)]
    poi_type: Option<PoiType>,
}

/// Whether a user works for the city (any role but citizen and device gateway).
fn is_staff(user: &cityops_domain::User) -> bool {
    user.roles
        .iter()
        .any(|r| !matches!(r, Role::Citizen | Role::Gateway))
}

/// 公共服务设施台账: the POIs (of one type, or all) in the order they were first stored. Staff
/// only (any role but citizen and device gateway).
#[utoipa::path(
    get,
    path = "/api/v1/pois",
    tag = "pois",
    security(("bearer" = []), ("cookie" = [])),
    params(PoiParams, PageParams),
    responses(
        (status = 200, body = PoiList),
        (status = 400, description = "`invalid_query`: an unknown type, bad paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: a citizen or device gateway account", body = ErrorBody),
    )
)]
pub(crate) async fn list_pois(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<PoiParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<PoiList>> {
    if !is_staff(&user) {
        return Err(ApiError::forbidden(
            "The list of points of interest is for the city's staff.",
        ));
    }
    let page = pp.request()?;
    let got = state.store.list_pois(p.poi_type, page).await?;
    Ok(axum::Json(PoiList {
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        items: got.items.into_iter().map(PoiView::from).collect(),
    }))
}

/// `?crs=` of an import: the coordinate system of positions that do not name their own.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportParams {
    /// `wgs84` (the default; `cgcs2000` is the same) or `gcj02`: positions without a `crs`
    /// column or property are taken in this system.
    #[param(value_type = Option<crate::wire::CrsName>)]
    crs: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PoiImportAnswer {
    /// POIs new to the store.
    pub added: u64,
    /// POIs of a type and name kept already, replaced.
    pub replaced: u64,
    /// POIs stored now, of every type.
    pub total: u64,
}

/// A GeoJSON FeatureCollection of POIs (RFC 7946): Point features, or Polygon/MultiPolygon
/// features whose centroid is taken.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[allow(dead_code)] // Documents the body; the handler reads it as text, naming each bad feature.
pub(crate) struct PoiFeatureCollection {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$", example = "FeatureCollection")]
    pub kind: String,
    /// The features: `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]},
    /// "properties": {"type": "toilet", "name": "…", "address": "…", "opening_hours": "…",
    /// "note": "…", "crs": "gcj02"}}`.
    #[schema(value_type = Vec<Object>)]
    pub features: Vec<serde_json::Value>,
}

const CSV_EXAMPLE: &str = "type,name,lng,lat,address,opening_hours,note,crs\n\
    toilet,西湖公园1号公厕,114.3921,23.0838,惠城区环城西二路,全天开放,无障碍厕位,\n";

/// 公共服务设施导入: adds POIs or replaces those of the same type and name, from CSV
/// (`text/csv`, header `type,name,lng,lat,address,opening_hours,note,crs`) or a GeoJSON
/// FeatureCollection (`application/geo+json` or `application/json`: Point features, or polygons
/// whose centroid is taken; properties `type`, `name`, `address`, `opening_hours`, `note`, `crs`).
/// All or nothing: a bad line or feature — named in the 422 message —, or a point outside the
/// city's districts, writes nothing. Administrators only.
#[utoipa::path(
    post,
    path = "/api/v1/pois/import",
    tag = "pois",
    security(("bearer" = []), ("cookie" = [])),
    params(ImportParams),
    request_body(content(
        (String = "text/csv", example = json!(CSV_EXAMPLE)),
        (PoiFeatureCollection = "application/geo+json"),
        (PoiFeatureCollection = "application/json"),
    )),
    responses(
        (status = 200, body = PoiImportAnswer),
        (status = 400, description = "`bad_request`: an unreadable body; `invalid_query`: an unknown `crs`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither CSV nor (Geo)JSON", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a bad line or feature (named), a point outside the city, no POIs", body = ErrorBody),
    )
)]
pub(crate) async fn import_pois(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<PoiImportAnswer>> {
    user.require(Role::Admin)?;
    let body = body.map_err(body_rejection)?;
    let crs = match p.crs.as_deref() {
        None => PoiCrs::Wgs84,
        Some(c) => crs_name(c).ok_or_else(|| {
            ApiError::invalid_query(format!("crs {c:?}: expected wgs84, cgcs2000 or gcj02"))
        })?,
    };
    let kind = content_type(&headers);
    let csv = match kind.as_str() {
        "text/csv" => true,
        "application/geo+json" | "application/json" => false,
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Expected `text/csv`, `application/geo+json` or `application/json`.",
            ));
        }
    };
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid_value(format!("The file is not UTF-8: {e}")))?;
    let imports = if csv {
        parse_pois_csv(text, crs)
    } else {
        parse_pois_geojson(text, crs)
    }
    .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    let (added, replaced) =
        cityops_app::poi::import_pois(state.store.as_ref(), &state.index, imports).await?;
    let total = state
        .store
        .list_pois(
            None,
            cityops_domain::PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await?
        .total;
    tracing::info!(added, replaced, by = %user.0.username, "POIs imported");
    Ok(axum::Json(PoiImportAnswer {
        added,
        replaced,
        total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_limited_per_address_and_zero_is_off() {
        let clock = Arc::new(cityops_domain::ManualClock::new(
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        ));
        let l = LookupLimiter::new(clock.clone(), 2);
        assert_eq!(l.check("10.0.0.1"), Ok(()));
        assert_eq!(l.check("10.0.0.1"), Ok(()));
        assert_eq!(l.check("10.0.0.1"), Err(30));
        assert_eq!(l.check("10.0.0.2"), Ok(()), "another address");
        clock.advance(chrono::Duration::seconds(30));
        assert_eq!(l.check("10.0.0.1"), Ok(()));
        let off = LookupLimiter::new(clock, 0);
        for _ in 0..1000 {
            assert_eq!(off.check("10.0.0.1"), Ok(()));
        }
    }
}
