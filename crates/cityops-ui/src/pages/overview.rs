//! 工作台 (overview): the work queues of the user's roles first (案件待办, each a card with its
//! count linking to the filtered list and its most urgent cases), then the counts of the base
//! data and the districts table.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::RegionLevel;

use serde_json::json;

use super::map::js_texts;
use super::{render, script_json};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::layout::{Layout, Section};
use crate::tree::{self, Node, RegionTree};
use crate::util::fmt_int;

pub(crate) struct Kpi {
    pub label: &'static str,
    pub value: String,
    pub href: Option<&'static str>,
}

pub(crate) struct DistrictRow {
    pub code: String,
    pub name: String,
    pub streets: String,
    pub communities: String,
    pub grids: String,
    pub area: String,
    pub boundary: &'static str,
    pub boundary_class: &'static str,
}

pub(crate) struct Account {
    pub username: String,
    pub department: String,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub(crate) struct OverviewPage {
    pub l: Layout,
    pub kpis: Vec<Kpi>,
    pub districts: Vec<DistrictRow>,
    pub totals: DistrictRow,
    pub account: Account,
    pub has_map: bool,
    pub config: String,
    /// The work queues of the user's roles (案件待办), first on the page.
    pub queues: Vec<super::cases::QueueCard>,
    pub c: &'static crate::i18n_cases::SliceTr,
}

/// The boundary label of a region: official, synthetic or none.
pub(crate) fn boundary(lang: crate::Lang, n: &Node) -> (&'static str, &'static str) {
    let t = lang.tr();
    match (n.has_boundary, n.synthetic) {
        (false, _) => (t.boundary_none, "none"),
        (true, true) => (t.boundary_synthetic, "synthetic"),
        (true, false) => (t.boundary_official, "official"),
    }
}

fn district_rows(lang: crate::Lang, tree: &RegionTree) -> (Vec<DistrictRow>, DistrictRow) {
    let t = lang.tr();
    let mut rows = Vec::new();
    let (mut s_sum, mut c_sum, mut g_sum, mut a_sum) = (0u64, 0u64, 0u64, 0f64);
    for d in tree.level(RegionLevel::District) {
        let streets = tree.streets_under(&d.code);
        let communities = tree.communities_under(&d.code);
        s_sum += streets;
        c_sum += communities;
        g_sum += d.grids;
        a_sum += d.area_m2.unwrap_or(0.0);
        let (boundary, boundary_class) = boundary(lang, d);
        rows.push(DistrictRow {
            code: d.code.clone(),
            name: d.name.clone(),
            streets: fmt_int(streets),
            communities: fmt_int(communities),
            grids: fmt_int(d.grids),
            area: d.area_m2.map_or_else(|| "—".to_string(), |a| lang.area(a)),
            boundary,
            boundary_class,
        });
    }
    let totals = DistrictRow {
        code: String::new(),
        name: t.total_row.to_string(),
        streets: fmt_int(s_sum),
        communities: fmt_int(c_sum),
        grids: fmt_int(g_sum),
        area: if a_sum > 0.0 {
            lang.area(a_sum)
        } else {
            "—".to_string()
        },
        boundary: "",
        boundary_class: "",
    };
    (rows, totals)
}

/// `GET /`
pub(crate) async fn page(State(st): State<UiState>, ctx: Ctx) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let tree = tree::tree(&st).await.lang(lang)?;
    let stats = st.app.cached_stats().await.lang(lang)?;
    let admin = ctx.is_admin();
    let kpis = vec![
        Kpi {
            label: t.kpi_districts,
            value: fmt_int(tree.count(RegionLevel::District)),
            href: Some("/regions"),
        },
        Kpi {
            label: t.kpi_streets,
            value: fmt_int(tree.count(RegionLevel::Street)),
            href: Some("/regions"),
        },
        Kpi {
            label: t.kpi_communities,
            value: fmt_int(tree.count(RegionLevel::Community)),
            href: Some("/regions"),
        },
        Kpi {
            label: t.kpi_grids,
            value: fmt_int(stats.grids),
            href: Some("/map"),
        },
        Kpi {
            label: t.kpi_components,
            value: fmt_int(stats.components),
            href: Some("/components"),
        },
        Kpi {
            label: t.kpi_categories,
            value: fmt_int(stats.categories),
            href: Some("/catalogue"),
        },
        Kpi {
            label: t.kpi_departments,
            value: fmt_int(stats.departments),
            href: Some("/org"),
        },
        Kpi {
            label: t.kpi_users,
            value: fmt_int(stats.users),
            href: admin.then_some("/org/users"),
        },
    ];
    let (districts, totals) = district_rows(lang, &tree);
    let department = match ctx.user.scope.department_id {
        Some(id) => st
            .app
            .store
            .get_department(id)
            .await
            .lang(lang)?
            .map(|d| d.name),
        None => None,
    };
    let scope = match &ctx.user.scope.region_code {
        Some(code) => tree
            .name(code)
            .map_or_else(|| code.clone(), |n| lang.named(n, code)),
        None => t.whole_city.to_string(),
    };
    let account = Account {
        username: ctx.user.username.clone(),
        department: department.unwrap_or_else(|| t.none.to_string()),
        scope,
    };
    // The districts of the city on a small map.
    let bounds = st.app.index.bbox();
    let city = tree.city();
    let has_map = bounds.is_some() && city.is_some();
    let config = match city {
        Some(c) if has_map => script_json(&json!({
            "mode": "region",
            "bounds": bounds,
            "region": { "code": c.code, "level": "city", "name": c.name, "bbox": bounds, "child_level": "district" },
            "t": js_texts(lang),
        })),
        _ => String::new(),
    };
    let queues = super::cases::queue_cards(&st, lang, &ctx.user)
        .await
        .lang(lang)?;
    let l = Layout::new(&st, &ctx, Section::Overview, t.overview_title).await;
    let l = if has_map { l.with_leaflet() } else { l };
    render(
        StatusCode::OK,
        &OverviewPage {
            l,
            kpis,
            districts,
            totals,
            account,
            has_map,
            config,
            queues,
            c: lang.cases(),
        },
        lang,
    )
}
