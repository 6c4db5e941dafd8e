//! 附近公厕/公园 (`/m/places`): the citizens' phone page that finds the nearest public toilets
//! (公厕), parks (公园), vendor zones (摊规点) and car-free zones (无车区) — no login, 390 px, one
//! tab per type.
//!
//! The server renders the list for the city centre (or for `?lng=&lat=[&crs=gcj02]`, a point a
//! wrapper app gives) with a note that says so, so the page shows something at once and works
//! without JavaScript; `phone_places.js` then asks the browser for its position
//! (`navigator.geolocation`) and replaces the list with the answer of
//! `GET /api/v1/public/nearby` for where the citizen stands — or keeps the city centre's list with
//! a note when the position is refused or unavailable. Each place shows its name, the walking
//! distance and direction (八方位), the opening hours, the address and a `geo:` link that opens the
//! phone's map app. The page's own look-up counts on the same per-address quota as the API's.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use cityops_app::poi::{NearbyQuery, nearby};
use cityops_domain::poi::{Compass8, PoiCrs, PoiType};
use cityops_domain::{PageRequest, RegionLevel};
use cityops_store::RegionQuery;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::i18n_public::{PublicTr, compass};
use crate::pages::phone::{PhoneCtx, PhoneLayout, Tab};
use crate::pages::render;

/// Places listed at most.
const PLACES_MAX: u32 = 20;

/// One type tab.
pub(crate) struct PlaceTab {
    pub code: &'static str,
    pub name: &'static str,
    pub active: bool,
}

/// One place of the list.
pub(crate) struct PlaceItem {
    pub name: String,
    pub walk: String,
    pub opening_hours: Option<String>,
    pub address: Option<String>,
    pub note: Option<String>,
    pub geo_uri: String,
}

#[derive(Template)]
#[template(path = "phone_places.html")]
pub(crate) struct PlacesPage {
    pub l: PhoneLayout,
    pub t: &'static PublicTr,
    pub tabs: Vec<PlaceTab>,
    pub poi_type: &'static str,
    /// The city centre (WGS84), where the list stands until the browser gives a position.
    pub centre_lng: f64,
    pub centre_lat: f64,
    /// The coordinate system the browser's positions are in (`gcj02` from a wrapper app that
    /// says so, else `wgs84`).
    pub crs: &'static str,
    /// Whether the list stands at a point the page was given (not the city centre).
    pub given_point: bool,
    pub note: String,
    pub note_error: bool,
    pub items: Vec<PlaceItem>,
    pub strings: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PlacesQuery {
    #[serde(rename = "type")]
    poi_type: Option<String>,
    lng: Option<String>,
    lat: Option<String>,
    crs: Option<String>,
}

/// The city centre: the city region's label point, else the middle of everything indexed.
async fn city_centre(st: &UiState) -> (f64, f64) {
    let city = st
        .app
        .store
        .list_regions(
            &RegionQuery {
                level: Some(RegionLevel::City),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .ok()
        .and_then(|p| p.items.into_iter().next())
        .and_then(|r| r.center);
    match (city, st.app.index.bbox()) {
        (Some(c), _) => (c.lng, c.lat),
        (None, Some(b)) => ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0),
        (None, None) => (0.0, 0.0),
    }
}

/// The strings `phone_places.js` shows, as JSON safe inside a `<script>` element.
fn strings_json(lang: Lang, t: &PublicTr) -> String {
    let compass_names: serde_json::Map<String, serde_json::Value> = Compass8::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), compass(lang, *c).into()))
        .collect();
    crate::pages::script_json(&serde_json::json!({
        "locating": t.locating,
        "located": t.located,
        "locate_failed": t.locate_failed,
        "no_geolocation": t.no_geolocation,
        "loading": t.loading,
        "nothing_near": t.nothing_near,
        "lookup_failed": t.lookup_failed,
        "too_many": t.too_many,
        "opening_hours": t.opening_hours,
        "address": t.address,
        "open_in_map": t.open_in_map,
        "colon": t.colon,
        "metres": t.metres,
        "kilometres": t.kilometres,
        "walk": t.walk,
        "compass": compass_names,
    }))
}

/// A finite number from a query value.
fn number(v: &Option<String>) -> Option<f64> {
    v.as_deref()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// `GET /m/places?type=toilet|park|vendor_zone|car_free_zone[&lng=&lat=&crs=]`.
pub(crate) async fn places_page(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    headers: HeaderMap,
    extensions: Extensions,
    Query(q): Query<PlacesQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.public();
    let poi_type = q
        .poi_type
        .as_deref()
        .and_then(|s| s.trim().parse::<PoiType>().ok())
        .unwrap_or(PoiType::Toilet);
    let crs = match q.crs.as_deref().and_then(PoiCrs::parse) {
        Some(PoiCrs::Gcj02) => PoiCrs::Gcj02,
        _ => PoiCrs::Wgs84,
    };
    let centre = city_centre(&st).await;
    let given = match (number(&q.lng), number(&q.lat)) {
        (Some(lng), Some(lat))
            if (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat) =>
        {
            Some((lng, lat))
        }
        _ => None,
    };
    let (lng, lat, point_crs) = match given {
        Some((lng, lat)) => (lng, lat, crs),
        None => (centre.0, centre.1, PoiCrs::Wgs84),
    };
    let mut note = if given.is_some() {
        t.point_note
    } else {
        t.centre_note
    }
    .to_string();
    let mut note_error = false;
    let mut items = Vec::new();
    match st.app.check_public_lookup(&headers, &extensions) {
        Err(_) => {
            note = t.too_many.to_string();
            note_error = true;
        }
        Ok(()) => {
            let query = NearbyQuery {
                poi_type: Some(poi_type),
                lng,
                lat,
                crs: point_crs,
                limit: Some(PLACES_MAX),
            };
            match nearby(st.app.store.as_ref(), &query).await {
                Ok(answer) => {
                    items = answer
                        .places
                        .into_iter()
                        .map(|p| PlaceItem {
                            walk: t.walk(lang, p.walk.direction, p.walk.distance_m),
                            geo_uri: p.poi.geo_uri(),
                            name: p.poi.name,
                            opening_hours: p.poi.opening_hours,
                            address: p.poi.address,
                            note: p.poi.note,
                        })
                        .collect();
                    if items.is_empty() {
                        note = format!("{note} {}", t.nothing_near);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "nearby places for the phone page");
                    note = t.lookup_failed.to_string();
                    note_error = true;
                }
            }
        }
    }
    let page = PlacesPage {
        l: PhoneLayout::new(&ctx, Tab::Places, t.places_title),
        t,
        tabs: PoiType::ALL
            .iter()
            .map(|p| PlaceTab {
                code: p.as_str(),
                name: t.tab(*p),
                active: *p == poi_type,
            })
            .collect(),
        poi_type: poi_type.as_str(),
        centre_lng: centre.0,
        centre_lat: centre.1,
        crs: crs.as_str(),
        given_point: given.is_some(),
        note,
        note_error,
        items,
        strings: strings_json(lang, t),
    };
    render(StatusCode::OK, &page, lang)
}
