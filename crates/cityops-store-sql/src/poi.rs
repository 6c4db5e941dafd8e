//! `PoiRepo` (公共服务设施: 公厕、公园、摊规点、无车区), written once for both stores: the dialects
//! agree on all of it (plain columns, `ON CONFLICT (poi_type, name)`, range predicates on
//! doubles), so there is no tuned path; [`shared_poi_repo!`] expands the trait impl in each store.
//!
//! The nearby search reads no more than a box around the point: `lat BETWEEN … AND lng BETWEEN …`
//! over the indexes `(poi_type, lat, lng)` and `(lat, lng)` (migration 0018), for radii from
//! 500 m widening to 20 km ([`NEARBY_RADII_M`]) until `limit` POIs lie within the radius; the exact
//! great-circle distances are computed and sorted here. Every POI within the radius lies in the
//! box, so the first radius that holds `limit` of them answers exactly the nearest `limit`.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cityops_domain::poi::{NEARBY_RADII_M, Poi, PoiType, distance_m, search_box};
use cityops_store::{NearbyPoi, Page, PageRequest, Result, StoreError};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, db_err, parse};

const POI_COLUMNS: &str = "p.id, p.poi_type, p.name, p.address, p.lng, p.lat, p.opening_hours, \
     p.note, p.district_code, p.street_code, p.community_code, p.grid_code";

fn poi<D: Dialect>(row: &D::Row) -> Result<Poi> {
    let r = Cols::<D>(row);
    let poi_type: String = r.get("poi_type")?;
    Ok(Poi {
        id: r.get("id")?,
        poi_type: parse("POI type", &poi_type)?,
        name: r.get("name")?,
        address: r.get("address")?,
        lng: r.get("lng")?,
        lat: r.get("lat")?,
        opening_hours: r.get("opening_hours")?,
        note: r.get("note")?,
        district_code: r.get("district_code")?,
        street_code: r.get("street_code")?,
        community_code: r.get("community_code")?,
        grid_code: r.get("grid_code")?,
    })
}

/// `PoiRepo::replace_or_insert_pois`: every POI checked first, then one transaction; (added,
/// replaced).
pub async fn replace_or_insert_pois<D: Dialect>(
    pool: &Pool<D>,
    pois: &[Poi],
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let mut seen = HashSet::with_capacity(pois.len());
    for p in pois {
        p.check().map_err(|e| StoreError::Invalid(e.to_string()))?;
        if !seen.insert((p.poi_type, p.name.as_str())) {
            return Err(StoreError::Invalid(format!(
                "{} {:?} is given twice",
                p.poi_type.name_zh(),
                p.name
            )));
        }
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    let (mut added, mut replaced) = (0, 0);
    for p in pois {
        let exists = sqlx::query("SELECT id FROM pois WHERE poi_type = $1 AND name = $2")
            .arg(p.poi_type.as_str())
            .arg(p.name.clone());
        let found = !D::fetch_all_on(&mut *tx, exists).await?.is_empty();
        let mut q = QueryBuilder::<D>::new(
            "INSERT INTO pois (poi_type, name, address, lng, lat, opening_hours, note, \
             district_code, street_code, community_code, grid_code, updated_at) VALUES (",
        );
        q.bind(p.poi_type.as_str())
            .push(", ")
            .bind(p.name.clone())
            .push(", ")
            .bind(p.address.clone())
            .push(", ")
            .bind(p.lng)
            .push(", ")
            .bind(p.lat)
            .push(", ")
            .bind(p.opening_hours.clone())
            .push(", ")
            .bind(p.note.clone())
            .push(", ")
            .bind(p.district_code.clone())
            .push(", ")
            .bind(p.street_code.clone())
            .push(", ")
            .bind(p.community_code.clone())
            .push(", ")
            .bind(p.grid_code.clone())
            .push(", ");
        D::push_ts(&mut q, now);
        q.push(
            ") ON CONFLICT (poi_type, name) DO UPDATE SET address = excluded.address, \
             lng = excluded.lng, lat = excluded.lat, opening_hours = excluded.opening_hours, \
             note = excluded.note, district_code = excluded.district_code, \
             street_code = excluded.street_code, community_code = excluded.community_code, \
             grid_code = excluded.grid_code, updated_at = excluded.updated_at RETURNING id",
        );
        D::fetch_all_on(&mut *tx, q.build()).await?;
        if found {
            replaced += 1;
        } else {
            added += 1;
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok((added, replaced))
}

/// `PoiRepo::list_pois`.
pub async fn list_pois<D: Dialect>(
    pool: &Pool<D>,
    poi_type: Option<PoiType>,
    page: PageRequest,
) -> Result<Page<Poi>> {
    const FROM: &str = "FROM pois p";
    let select = format!("SELECT {POI_COLUMNS} {FROM}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(t) = poi_type {
            q.push(" AND p.poi_type = ").bind(t.as_str());
        }
    };
    paged(
        pool,
        &select,
        FROM,
        filters,
        " ORDER BY p.id",
        page,
        poi::<D>,
    )
    .await
}

/// `PoiRepo::nearby_pois`: boxes of widening radius on the indexed position (see the module
/// documentation), exact distances sorted here.
pub async fn nearby_pois<D: Dialect>(
    pool: &Pool<D>,
    poi_type: Option<PoiType>,
    lng: f64,
    lat: f64,
    limit: u32,
) -> Result<Vec<NearbyPoi>> {
    if limit == 0 || !(lng.is_finite() && lat.is_finite()) {
        return Ok(Vec::new());
    }
    let limit = limit as usize;
    let mut within = Vec::new();
    for (i, radius) in NEARBY_RADII_M.iter().copied().enumerate() {
        let [x0, y0, x1, y1] = search_box(lng, lat, radius);
        let mut q = QueryBuilder::<D>::new(format!("SELECT {POI_COLUMNS} FROM pois p WHERE "));
        if let Some(t) = poi_type {
            q.push("p.poi_type = ").bind(t.as_str()).push(" AND ");
        }
        q.push("p.lat >= ")
            .bind(y0)
            .push(" AND p.lat <= ")
            .bind(y1)
            .push(" AND p.lng >= ")
            .bind(x0)
            .push(" AND p.lng <= ")
            .bind(x1);
        within = D::fetch_all(pool, q.build())
            .await?
            .iter()
            .map(poi::<D>)
            .map(|p| {
                p.map(|poi| NearbyPoi {
                    distance_m: distance_m(lng, lat, poi.lng, poi.lat),
                    poi,
                })
            })
            .filter(|p| p.as_ref().map_or(true, |p| p.distance_m <= radius))
            .collect::<Result<Vec<_>>>()?;
        if within.len() >= limit || i + 1 == NEARBY_RADII_M.len() {
            break;
        }
    }
    within.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.poi.id.cmp(&b.poi.id))
    });
    within.truncate(limit);
    Ok(within)
}

/// Implements `cityops_store::PoiRepo` for `$store` with the shared queries: reads from the pool
/// field `$read`, writes through `$write`.
#[macro_export]
macro_rules! shared_poi_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::PoiRepo for $store {
            async fn replace_or_insert_pois(
                &self,
                pois: &[::cityops_store::Poi],
            ) -> ::cityops_store::Result<(u64, u64)> {
                $crate::poi::replace_or_insert_pois(&self.$write, pois, ::chrono::Utc::now()).await
            }
            async fn list_pois(
                &self,
                poi_type: Option<::cityops_store::PoiType>,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Poi>> {
                $crate::poi::list_pois(&self.$read, poi_type, page).await
            }
            async fn nearby_pois(
                &self,
                poi_type: Option<::cityops_store::PoiType>,
                lng: f64,
                lat: f64,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::NearbyPoi>> {
                $crate::poi::nearby_pois(&self.$read, poi_type, lng, lat, limit).await
            }
        }
    };
}
