//! 区域 (regions): the tree city → district → street → community with search, and one region's
//! details with its children and a small map.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::{Region, RegionLevel};
use cityops_store::{ComponentQuery, RegionQuery};
use serde::Deserialize;
use serde_json::json;

use super::components::{ComponentRow, component_rows, lookups};
use super::{num, render, script_json, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::layout::{Layout, Section};
use crate::pages::map::{js_texts, region_json};
use crate::pages::overview::boundary;
use crate::tree::{self, Node, RegionTree};
use crate::util::{Pager, fmt_int, non_empty, page_request};

/// One region in a table or the tree.
pub(crate) struct Row {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent: String,
    pub parent_code: String,
    pub children: String,
    pub grids: String,
    pub area: String,
    pub boundary: &'static str,
    pub boundary_class: &'static str,
}

/// Direct children of a node (for a community: its unit grids).
fn children_count(n: &Node) -> u64 {
    if n.level == RegionLevel::Community {
        n.grids
    } else {
        n.children.len() as u64
    }
}

fn row_of_node(lang: Lang, tree: &RegionTree, n: &Node) -> Row {
    let (boundary, boundary_class) = boundary(lang, n);
    let parent_code = n.parent.clone().unwrap_or_default();
    Row {
        code: n.code.clone(),
        name: n.name.clone(),
        level: lang.level(n.level),
        parent: tree.name(&parent_code).unwrap_or(&parent_code).to_string(),
        parent_code,
        children: fmt_int(children_count(n)),
        grids: fmt_int(n.grids),
        area: n.area_m2.map_or_else(|| "—".to_string(), |a| lang.area(a)),
        boundary,
        boundary_class,
    }
}

/// A region from the store (e.g. a grid, which the tree does not keep).
fn row_of_region(lang: Lang, tree: &RegionTree, r: &Region) -> Row {
    if let Some(n) = tree.get(&r.code) {
        return row_of_node(lang, tree, n);
    }
    let t = lang.tr();
    let (boundary, boundary_class) = match (r.bbox.is_some(), r.synthetic) {
        (false, _) => (t.boundary_none, "none"),
        (true, true) => (t.boundary_synthetic, "synthetic"),
        (true, false) => (t.boundary_official, "official"),
    };
    let parent_code = r.parent_code.clone().unwrap_or_default();
    Row {
        code: r.code.clone(),
        name: r.name.clone(),
        level: lang.level(r.level),
        parent: tree.name(&parent_code).unwrap_or(&parent_code).to_string(),
        parent_code,
        children: "0".to_string(),
        grids: if r.level == RegionLevel::Grid {
            "1".to_string()
        } else {
            "0".to_string()
        },
        area: r.area_m2.map_or_else(|| "—".to_string(), |a| lang.area(a)),
        boundary,
        boundary_class,
    }
}

pub(crate) struct LevelOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub(crate) struct TreeStreet {
    pub row: Row,
    pub communities: Vec<Row>,
}

pub(crate) struct TreeDistrict {
    pub row: Row,
    pub streets: Vec<TreeStreet>,
}

#[derive(Template)]
#[template(path = "regions.html")]
pub(crate) struct RegionsPage {
    pub l: Layout,
    pub q: String,
    pub level: String,
    pub levels: Vec<LevelOption>,
    pub results: Option<Vec<Row>>,
    pub pager: Option<Pager>,
    pub city: Option<Row>,
    pub tree: Vec<TreeDistrict>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegionsQuery {
    q: Option<String>,
    level: Option<String>,
    page: Option<String>,
}

/// Most results of a search by code.
const CODE_SEARCH_LIMIT: usize = 200;

/// `GET /regions?q=&level=&page=`
pub(crate) async fn index(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<RegionsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let tree = tree::tree(&st).await.lang(lang)?;
    let search = non_empty(&q.q).map(|s| s.chars().take(50).collect::<String>());
    let level = non_empty(&q.level)
        .and_then(|l| l.parse::<RegionLevel>().ok())
        .filter(|l| *l != RegionLevel::City);
    let levels = [
        RegionLevel::District,
        RegionLevel::Street,
        RegionLevel::Community,
        RegionLevel::Grid,
    ]
    .into_iter()
    .map(|lv| LevelOption {
        value: lv.as_str(),
        label: lang.level(lv),
        selected: Some(lv) == level,
    })
    .collect();

    let (results, pager) = match (&search, level) {
        (None, None) => (None, None),
        (Some(s), lv) if s.bytes().all(|b| b.is_ascii_digit()) => {
            // A code or the beginning of one.
            let mut rows: Vec<Row> = tree
                .by_code_prefix(s, CODE_SEARCH_LIMIT)
                .into_iter()
                .filter(|n| lv.is_none_or(|l| l == n.level))
                .map(|n| row_of_node(lang, &tree, n))
                .collect();
            if s.len() == 15
                && lv.is_none_or(|l| l == RegionLevel::Grid)
                && let Some(g) = st.app.store.get_region(s).await.lang(lang)?
            {
                rows.push(row_of_region(lang, &tree, &g));
            }
            (Some(rows), None)
        }
        (name, lv) => {
            let page = page_request(num(&q.page), None);
            let query = RegionQuery {
                level: lv,
                parent_code: None,
                name_contains: name.clone(),
            };
            let got = st.app.store.list_regions(&query, page).await.lang(lang)?;
            let rows = got
                .items
                .iter()
                .map(|r| row_of_region(lang, &tree, r))
                .collect();
            let filters = [
                ("q", name.clone().unwrap_or_default()),
                (
                    "level",
                    lv.map(|l| l.as_str().to_string()).unwrap_or_default(),
                ),
            ];
            let pager = Pager::new("/regions", &filters, page.page, page.page_size, got.total);
            (Some(rows), Some(pager))
        }
    };

    let city = tree.city().map(|c| row_of_node(lang, &tree, c));
    let districts = tree
        .level(RegionLevel::District)
        .into_iter()
        .map(|d| TreeDistrict {
            row: row_of_node(lang, &tree, d),
            streets: d
                .children
                .iter()
                .filter_map(|c| tree.get(c))
                .map(|s| TreeStreet {
                    row: row_of_node(lang, &tree, s),
                    communities: s
                        .children
                        .iter()
                        .filter_map(|c| tree.get(c))
                        .map(|c| row_of_node(lang, &tree, c))
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let l = Layout::new(&st, &ctx, Section::Regions, t.regions_title).await;
    let page = RegionsPage {
        l,
        q: search.unwrap_or_default(),
        level: level.map(|l| l.as_str().to_string()).unwrap_or_default(),
        levels,
        results,
        pager,
        city,
        tree: districts,
    };
    render(StatusCode::OK, &page, lang)
}

/// The facts of one region as shown.
pub(crate) struct RegionInfo {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub area: String,
    pub center: String,
    pub extent: String,
    pub boundary: &'static str,
    pub boundary_class: &'static str,
    pub grids: String,
}

pub(crate) struct Crumb {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "region.html")]
pub(crate) struct RegionPage {
    pub l: Layout,
    pub region: RegionInfo,
    pub ancestors: Vec<Crumb>,
    pub has_map: bool,
    pub config: String,
    pub child_level: Option<&'static str>,
    pub children_are_grids: bool,
    pub children: Option<Vec<Row>>,
    pub show_components: bool,
    pub items: Vec<ComponentRow>,
    pub pager: Option<Pager>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    page: Option<String>,
}

/// `GET /regions/{code}`
pub(crate) async fn detail(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let tree = tree::tree(&st).await.lang(lang)?;
    let Some(region) = st.app.store.get_region(&code).await.lang(lang)? else {
        return status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Regions,
            t.not_found_title,
            t.region_not_found,
        )
        .await;
    };
    let ancestors: Vec<Crumb> = tree
        .ancestors(region.parent_code.as_deref())
        .into_iter()
        .map(|n| Crumb {
            code: n.code.clone(),
            name: n.name.clone(),
        })
        .collect();
    let node = tree.get(&region.code);
    let (boundary, boundary_class) = match (
        region.geometry.is_some() || region.bbox.is_some(),
        region.synthetic,
    ) {
        (false, _) => (t.boundary_none, "none"),
        (true, true) => (t.boundary_synthetic, "synthetic"),
        (true, false) => (t.boundary_official, "official"),
    };
    let info = RegionInfo {
        code: region.code.clone(),
        name: region.name.clone(),
        level: lang.level(region.level),
        area: region
            .area_m2
            .map_or_else(|| "—".to_string(), |a| lang.area(a)),
        center: region.center.map_or_else(
            || "—".to_string(),
            |c| format!("{:.6}, {:.6}", c.lng, c.lat),
        ),
        extent: region.bbox.map_or_else(
            || "—".to_string(),
            |b| format!("{:.5}, {:.5} – {:.5}, {:.5}", b[0], b[1], b[2], b[3]),
        ),
        boundary,
        boundary_class,
        grids: match region.level {
            RegionLevel::Grid => String::new(),
            _ => fmt_int(node.map_or(0, |n| n.grids)),
        },
    };

    // The map: the region's own box, or for a region without one (the city) the box of the index.
    let map_bbox = region.bbox.or_else(|| {
        if region.level == RegionLevel::City {
            st.app.index.bbox()
        } else {
            None
        }
    });
    let has_map = map_bbox.is_some();
    let page = page_request(num(&q.page), None);
    let path = format!("/regions/{}", region.code);
    let (children, show_components, items, pager) = if region.level == RegionLevel::Grid {
        let lookups = lookups(&st).await.lang(lang)?;
        let query = ComponentQuery {
            grid_code: Some(region.code.clone()),
            ..ComponentQuery::default()
        };
        let got = st
            .app
            .store
            .list_components(&query, page)
            .await
            .lang(lang)?;
        let pager = Pager::new(&path, &[], page.page, page.page_size, got.total);
        let rows = component_rows(lang, &got.items, &lookups, &tree);
        (None, true, rows, Some(pager))
    } else {
        let query = RegionQuery {
            level: None,
            parent_code: Some(region.code.clone()),
            name_contains: None,
        };
        let got = st.app.store.list_regions(&query, page).await.lang(lang)?;
        let pager = Pager::new(&path, &[], page.page, page.page_size, got.total);
        let rows = got
            .items
            .iter()
            .map(|r| row_of_region(lang, &tree, r))
            .collect();
        (Some(rows), false, Vec::new(), Some(pager))
    };
    let mut region_cfg = region_json(&region);
    region_cfg["bbox"] = json!(map_bbox);
    let config = json!({
        "mode": "region",
        "bounds": map_bbox,
        "region": region_cfg,
        "categories": {},
        "t": js_texts(lang),
    });
    let l = Layout::new(&st, &ctx, Section::Regions, region.name.clone()).await;
    let l = if has_map { l.with_leaflet() } else { l };
    let page = RegionPage {
        l,
        region: info,
        ancestors,
        has_map,
        config: script_json(&config),
        child_level: region.level.child().map(|c| lang.level(c)),
        children_are_grids: region.level == RegionLevel::Community,
        children,
        show_components,
        items,
        pager,
    };
    render(StatusCode::OK, &page, lang)
}
