//! 部件 (components): a filtered, paged table with links to the map.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::{Category, CategoryKind, Component, Department, PageRequest};
use cityops_store::{ComponentQuery, StoreError};
use serde::Deserialize;

use super::{num, render};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::layout::{Layout, Section};
use crate::tree::{self, RegionTree};
use crate::util::{Pager, fmt_int, non_empty, page_request, url_with};

/// Category and department names for tables and filters.
pub(crate) struct Lookups {
    pub categories: Vec<Category>,
    pub departments: Vec<Department>,
}

impl Lookups {
    fn category_names(&self) -> HashMap<&str, &str> {
        self.categories
            .iter()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect()
    }
    fn department_names(&self) -> HashMap<&str, &str> {
        self.departments
            .iter()
            .map(|d| (d.code.as_str(), d.name.as_str()))
            .collect()
    }
}

/// Component categories and all departments (up to 1000 of each).
pub(crate) async fn lookups(st: &UiState) -> Result<Lookups, StoreError> {
    let all = PageRequest {
        page: 1,
        page_size: 1000,
    };
    let categories = st
        .app
        .store
        .list_categories(Some(CategoryKind::Component), all)
        .await?
        .items;
    let departments = st.app.store.list_departments(None, all).await?.items;
    Ok(Lookups {
        categories,
        departments,
    })
}

/// One component as a table row.
pub(crate) struct ComponentRow {
    pub id: String,
    pub name: String,
    pub category_code: String,
    pub category_name: String,
    pub grid: Option<String>,
    /// The community's name (or code), where known.
    pub community: Option<String>,
    pub owner: String,
    pub maintainer: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub surveyed: String,
    pub lng: String,
    pub lat: String,
    pub map_url: String,
}

pub(crate) fn component_rows(
    lang: Lang,
    items: &[Component],
    lookups: &Lookups,
    tree: &RegionTree,
) -> Vec<ComponentRow> {
    let cats = lookups.category_names();
    let depts = lookups.department_names();
    let dept = |code: &Option<String>| match code {
        Some(c) => depts
            .get(c.as_str())
            .map_or_else(|| c.clone(), |n| n.to_string()),
        None => "—".to_string(),
    };
    items
        .iter()
        .map(|c| ComponentRow {
            id: c.id.as_str().to_string(),
            name: c.name.clone(),
            category_code: c.category_code.clone(),
            category_name: cats
                .get(c.category_code.as_str())
                .map_or_else(|| c.category_code.clone(), |n| n.to_string()),
            grid: c.grid_code.clone(),
            community: c
                .community_code
                .as_deref()
                .map(|code| tree.name(code).unwrap_or(code).to_string()),
            owner: dept(&c.owner_department),
            maintainer: dept(&c.maintainer_department),
            status: lang.component_status(c.status),
            status_key: c.status.as_str(),
            surveyed: c.surveyed_on.format("%Y-%m-%d").to_string(),
            lng: format!("{:.6}", c.lng),
            lat: format!("{:.6}", c.lat),
            map_url: url_with(
                "/map",
                &[
                    ("lng", format!("{:.6}", c.lng)),
                    ("lat", format!("{:.6}", c.lat)),
                    ("z", "18".into()),
                ],
            ),
        })
        .collect()
}

pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) struct CategoryGroup {
    pub code: String,
    pub name: String,
    pub selected: bool,
    pub options: Vec<SelectOption>,
}

#[derive(Template)]
#[template(path = "components.html")]
pub(crate) struct ComponentsPage {
    pub l: Layout,
    pub total: String,
    pub category_groups: Vec<CategoryGroup>,
    pub departments: Vec<SelectOption>,
    pub grid: String,
    pub category_error: Option<&'static str>,
    pub grid_error: Option<&'static str>,
    pub items: Vec<ComponentRow>,
    pub pager: Pager,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ComponentsQuery {
    category: Option<String>,
    grid: Option<String>,
    department: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

fn digits(s: &str, lens: &[usize]) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Category options grouped by class (大类).
pub(crate) fn category_groups(
    categories: &[Category],
    selected: Option<&str>,
) -> Vec<CategoryGroup> {
    let mut groups: Vec<CategoryGroup> = Vec::new();
    for c in categories {
        if groups.last().is_none_or(|g| g.code != c.class_code) {
            groups.push(CategoryGroup {
                code: c.class_code.clone(),
                name: c.class_name.clone(),
                selected: selected == Some(c.class_code.as_str()),
                options: Vec::new(),
            });
        }
        if let Some(g) = groups.last_mut() {
            g.options.push(SelectOption {
                value: c.code.clone(),
                label: c.name.clone(),
                selected: selected == Some(c.code.as_str()),
            });
        }
    }
    groups
}

/// `GET /components?category=&grid=&department=&page=`
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<ComponentsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let category = non_empty(&q.category);
    let grid = non_empty(&q.grid);
    let department = non_empty(&q.department);
    let category_error = category
        .as_deref()
        .filter(|c| !digits(c, &[2, 5]))
        .map(|_| t.invalid_category);
    let grid_error = grid
        .as_deref()
        .filter(|g| !digits(g, &[15]))
        .map(|_| t.invalid_grid);
    let page = page_request(num(&q.page), num(&q.page_size));
    let lookups = lookups(&st).await.lang(lang)?;

    let invalid = category_error.is_some() || grid_error.is_some();
    let (items, total) = if invalid {
        (Vec::new(), 0)
    } else {
        let query = ComponentQuery {
            bbox: None,
            category: category.clone(),
            grid_code: grid.clone(),
            department_code: department.clone(),
        };
        let got = st
            .app
            .store
            .list_components(&query, page)
            .await
            .lang(lang)?;
        (got.items, got.total)
    };
    let mut filters = vec![
        ("category", category.clone().unwrap_or_default()),
        ("grid", grid.clone().unwrap_or_default()),
        ("department", department.clone().unwrap_or_default()),
    ];
    if page.page_size != 50 {
        filters.push(("page_size", page.page_size.to_string()));
    }
    let pager = Pager::new("/components", &filters, page.page, page.page_size, total);
    let departments = lookups
        .departments
        .iter()
        .map(|d| SelectOption {
            value: d.code.clone(),
            label: d.name.clone(),
            selected: department.as_deref() == Some(d.code.as_str()),
        })
        .collect();
    let tree = tree::tree(&st).await.lang(lang)?;
    let rows = component_rows(lang, &items, &lookups, &tree);
    let l = Layout::new(&st, &ctx, Section::Components, t.components_title).await;
    let status = if invalid {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ComponentsPage {
        l,
        total: fmt_int(total),
        category_groups: category_groups(&lookups.categories, category.as_deref()),
        departments,
        grid: grid.unwrap_or_default(),
        category_error,
        grid_error,
        items: rows,
        pager,
    };
    render(status, &page, lang)
}
