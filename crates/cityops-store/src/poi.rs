//! 公共服务设施 (public-service points of interest): public toilets (公厕), parks (公园), vendor
//! zones (摊规点) and car-free zones (无车区) — imported whole, listed, and found near a point.
//!
//! A POI is identified by its type and name: an import replaces the POI of the same type and name
//! and adds the others, all in one transaction (a failed import writes nothing). The nearby
//! search is answered from indexed position columns — a box around the point, widened until
//! enough POIs lie within its radius — never by reading the whole table.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use cityops_domain::poi::{Poi, PoiType};

use crate::{Page, PageRequest, Result};

/// A POI with its distance (m, great-circle) from the point a nearby search was made at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearbyPoi {
    pub poi: Poi,
    pub distance_m: f64,
}

/// The points of interest (公共服务设施).
#[async_trait]
pub trait PoiRepo: Send + Sync {
    /// Adds POIs, or replaces those whose type and name are kept already (keeping their id),
    /// all in one transaction: nothing is written when one fails (`Invalid`: a field over its
    /// limit, a position outside China, a type and name given twice). Positions are WGS84 and
    /// located by the caller. Answers (added, replaced).
    async fn replace_or_insert_pois(&self, pois: &[Poi]) -> Result<(u64, u64)>;

    /// A page of POIs, of one type or all, in the order they were first stored (by id).
    async fn list_pois(&self, poi_type: Option<PoiType>, page: PageRequest) -> Result<Page<Poi>>;

    /// At most `limit` POIs (of one type, or any) nearest to `(lng, lat)` (WGS84) within
    /// [`cityops_domain::poi::NEARBY_MAX_RADIUS_M`], nearest first (ties by id).
    async fn nearby_pois(
        &self,
        poi_type: Option<PoiType>,
        lng: f64,
        lat: f64,
        limit: u32,
    ) -> Result<Vec<NearbyPoi>>;
}
