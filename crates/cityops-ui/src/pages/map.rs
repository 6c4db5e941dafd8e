//! 地图 (map): Leaflet without a basemap — district, street and community boundaries, unit grids
//! and components when zoomed in, and a click to locate any point.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::{CategoryKind, ComponentStatus, PageRequest, Region, RegionLevel};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{num, render, script_json};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::layout::{Layout, Section};

/// Zoom levels from which the layers are drawn (shared with `map.js` through the page config).
pub(crate) const ZOOM_STREETS: u8 = 9;
pub(crate) const ZOOM_COMMUNITIES: u8 = 12;
pub(crate) const ZOOM_GRIDS: u8 = 15;
pub(crate) const ZOOM_COMPONENTS: u8 = 16;

pub(crate) struct LayerRow {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: Option<String>,
}

#[derive(Template)]
#[template(path = "map.html")]
pub(crate) struct MapPage {
    pub l: Layout,
    pub layers: Vec<LayerRow>,
    pub config: String,
    /// The case layer (`screen_map.js`): its strings, filter choices and settings.
    pub s: &'static crate::i18n_screen::SliceTr,
    pub case_classes: Vec<(String, String)>,
    pub case_sources: Vec<(&'static str, &'static str)>,
    pub case_config: String,
    pub basemap: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MapQuery {
    lng: Option<String>,
    lat: Option<String>,
    z: Option<String>,
    region: Option<String>,
}

/// The texts `map.js` shows.
pub(crate) fn js_texts(lang: Lang) -> Value {
    let t = lang.tr();
    let statuses: Map<String, Value> = ComponentStatus::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                Value::from(lang.component_status(*s)),
            )
        })
        .collect();
    json!({
        "outside_city": t.outside_city,
        "locate_failed": t.locate_failed,
        "loading": t.loading,
        "lng": t.lng,
        "lat": t.lat,
        "zoom": t.zoom,
        "grid": lang.level(RegionLevel::Grid),
        "community": lang.level(RegionLevel::Community),
        "street": lang.level(RegionLevel::Street),
        "district": lang.level(RegionLevel::District),
        "components_shown": t.components_shown,
        "components_zoom_in": t.components_zoom_in,
        "no_grid_here": t.no_grid_here,
        "open_region": t.open_region,
        "component": t.component_label,
        "category": t.col_category,
        "status": t.col_status,
        "id": t.col_id,
        "details": t.details,
        "statuses": statuses,
    })
}

/// Component category names by code (for the popups) and class names by class code (for the
/// legend).
pub(crate) async fn category_names(
    st: &UiState,
) -> Result<(Map<String, Value>, Map<String, Value>), cityops_store::StoreError> {
    let all = PageRequest {
        page: 1,
        page_size: 1000,
    };
    let cats = st
        .app
        .store
        .list_categories(Some(CategoryKind::Component), all)
        .await?;
    let classes = cats
        .items
        .iter()
        .map(|c| (c.class_code.clone(), Value::from(c.class_name.clone())))
        .collect();
    let names = cats
        .items
        .into_iter()
        .map(|c| (c.code, Value::from(c.name)))
        .collect();
    Ok((names, classes))
}

/// The map's view of a region: code, level, bounding box and the level of its children.
pub(crate) fn region_json(r: &Region) -> Value {
    json!({
        "code": r.code,
        "level": r.level.as_str(),
        "name": r.name,
        "bbox": r.bbox,
        "child_level": r.level.child().map(|l| l.as_str()),
    })
}

fn valid_point(lng: f64, lat: f64) -> bool {
    lng.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lng)
        && (-90.0..=90.0).contains(&lat)
}

/// `GET /map?lng=&lat=&z=&region=`
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<MapQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let bounds = st.app.index.bbox();
    let focus = match (num::<f64>(&q.lng), num::<f64>(&q.lat)) {
        (Some(lng), Some(lat)) if valid_point(lng, lat) => {
            let z = num::<f64>(&q.z)
                .filter(|z| (6.0..=19.0).contains(z))
                .unwrap_or(17.0);
            Some(json!({ "lng": lng, "lat": lat, "zoom": z }))
        }
        _ => None,
    };
    let region = match q.region.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => st
            .app
            .store
            .get_region(code)
            .await
            .lang(lang)?
            .filter(|r| r.bbox.is_some())
            .map(|r| region_json(&r)),
        None => None,
    };
    let (categories, classes) = category_names(&st).await.lang(lang)?;
    let config = json!({
        "tile_url": st.app.config.map_tile_url,
        "mode": "full",
        "bounds": bounds,
        "focus": focus,
        "region": region,
        "zoom": {
            "streets": ZOOM_STREETS,
            "communities": ZOOM_COMMUNITIES,
            "grids": ZOOM_GRIDS,
            "components": ZOOM_COMPONENTS,
        },
        "categories": categories,
        "classes": classes,
        "t": js_texts(lang),
    });
    let layers = vec![
        LayerRow {
            key: "district",
            label: t.layer_districts,
            hint: None,
        },
        LayerRow {
            key: "street",
            label: t.layer_streets,
            hint: Some(t.from_zoom(ZOOM_STREETS)),
        },
        LayerRow {
            key: "community",
            label: t.layer_communities,
            hint: Some(t.from_zoom(ZOOM_COMMUNITIES)),
        },
        LayerRow {
            key: "grid",
            label: t.layer_grids,
            hint: Some(t.from_zoom(ZOOM_GRIDS)),
        },
        LayerRow {
            key: "component",
            label: t.layer_components,
            hint: Some(t.from_zoom(ZOOM_COMPONENTS)),
        },
    ];
    let l = Layout::new(&st, &ctx, Section::Map, t.map_title)
        .await
        .with_leaflet();
    let case_classes = case_classes(&st).await.lang(lang)?;
    let mut resp = render(
        StatusCode::OK,
        &MapPage {
            l,
            layers,
            config: script_json(&config),
            s: lang.screen(),
            case_classes,
            case_sources: cityops_domain::case::CaseSource::ALL
                .iter()
                .map(|s| (s.as_str(), lang.case_source(*s)))
                .collect(),
            case_config: script_json(&super::screen::case_filter_config(lang)),
            basemap: st.app.config.map_tile_url.is_some(),
        },
        lang,
    )?;
    if let Some(csp) = super::screen::tile_csp(&st) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// The class filter of the case layer: each 2-digit class code with the class names it has in
/// the component (部件) and matter (事件) catalogues.
async fn case_classes(st: &UiState) -> Result<Vec<(String, String)>, cityops_store::StoreError> {
    let all = PageRequest {
        page: 1,
        page_size: 1000,
    };
    let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in st.app.store.list_categories(None, all).await?.items {
        let v = names.entry(c.class_code.clone()).or_default();
        if !v.contains(&c.class_name) {
            v.push(c.class_name);
        }
    }
    Ok(names
        .into_iter()
        .map(|(code, names)| {
            let label = format!("{code} {}", names.join(" / "));
            (code, label)
        })
        .collect())
}
