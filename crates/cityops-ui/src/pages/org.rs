//! 组织机构 (organisation): departments for everyone, users for administrators only.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::{PageRequest, RegionLevel, Role};
use serde::Deserialize;

use super::components::SelectOption;
use super::{num, render, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::layout::{Layout, Section};
use crate::tree::{self, RegionTree};
use crate::util::{Pager, non_empty, page_request};

pub(crate) struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub region: String,
    pub region_code: String,
    pub parent: String,
}

#[derive(Template)]
#[template(path = "org_departments.html")]
pub(crate) struct DepartmentsPage {
    pub l: Layout,
    pub tab: &'static str,
    pub show_users_tab: bool,
    pub regions: Vec<SelectOption>,
    pub rows: Vec<DepartmentRow>,
    pub pager: Pager,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DepartmentsQuery {
    region: Option<String>,
    page: Option<String>,
}

/// The city and its districts, for the area filter.
fn region_options(tree: &RegionTree, selected: Option<&str>) -> Vec<SelectOption> {
    tree.city()
        .into_iter()
        .chain(tree.level(RegionLevel::District))
        .map(|n| SelectOption {
            value: n.code.clone(),
            label: format!("{} {}", n.name, n.code),
            selected: selected == Some(n.code.as_str()),
        })
        .collect()
}

fn region_name(tree: &RegionTree, code: &str) -> String {
    tree.name(code).unwrap_or(code).to_string()
}

/// Department names by id (all departments, up to 1000).
async fn department_names(
    st: &UiState,
) -> Result<(HashMap<i64, String>, Vec<SelectOption>), cityops_store::StoreError> {
    let all = st
        .app
        .store
        .list_departments(
            None,
            PageRequest {
                page: 1,
                page_size: 1000,
            },
        )
        .await?
        .items;
    let names = all.iter().map(|d| (d.id, d.name.clone())).collect();
    let options = all
        .into_iter()
        .map(|d| SelectOption {
            value: d.id.to_string(),
            label: d.name,
            selected: false,
        })
        .collect();
    Ok((names, options))
}

/// `GET /org?region=&page=`
pub(crate) async fn departments(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<DepartmentsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let tree = tree::tree(&st).await.lang(lang)?;
    let region = non_empty(&q.region);
    let page = page_request(num(&q.page), None);
    let got = st
        .app
        .store
        .list_departments(region.as_deref(), page)
        .await
        .lang(lang)?;
    let (names, _) = department_names(&st).await.lang(lang)?;
    let rows = got
        .items
        .into_iter()
        .map(|d| DepartmentRow {
            kind: lang.department_kind(d.kind),
            region: region_name(&tree, &d.region_code),
            parent: d
                .parent_id
                .and_then(|p| names.get(&p).cloned())
                .unwrap_or_else(|| "—".to_string()),
            region_code: d.region_code,
            code: d.code,
            name: d.name,
        })
        .collect();
    let pager = Pager::new(
        "/org",
        &[("region", region.clone().unwrap_or_default())],
        page.page,
        page.page_size,
        got.total,
    );
    let l = Layout::new(&st, &ctx, Section::Org, t.org_title).await;
    let page = DepartmentsPage {
        l,
        tab: "departments",
        show_users_tab: ctx.is_admin(),
        regions: region_options(&tree, region.as_deref()),
        rows,
        pager,
    };
    render(StatusCode::OK, &page, lang)
}

pub(crate) struct UserRow {
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub department: String,
    pub scope: String,
    pub grids: usize,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "org_users.html")]
pub(crate) struct UsersPage {
    pub l: Layout,
    pub tab: &'static str,
    pub show_users_tab: bool,
    pub roles: Vec<SelectOption>,
    pub departments: Vec<SelectOption>,
    pub rows: Vec<UserRow>,
    pub pager: Pager,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UsersQuery {
    role: Option<String>,
    department: Option<String>,
    page: Option<String>,
}

fn roles_text(lang: Lang, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| lang.role(*r))
        .collect::<Vec<_>>()
        .join(if lang == Lang::Zh { "、" } else { ", " })
}

/// `GET /org/users?role=&department=&page=` (administrators only; others get 403).
pub(crate) async fn users(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<UsersQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    if !ctx.is_admin() {
        return status_page(
            &st,
            &ctx,
            StatusCode::FORBIDDEN,
            Section::Org,
            t.forbidden_title,
            t.forbidden_users,
        )
        .await;
    }
    let tree = tree::tree(&st).await.lang(lang)?;
    let role = non_empty(&q.role).and_then(|r| r.parse::<Role>().ok());
    let department: Option<i64> = num(&q.department);
    let page = page_request(num(&q.page), None);
    let got = st
        .app
        .store
        .list_users(role, department, page)
        .await
        .lang(lang)?;
    let (names, mut dept_options) = department_names(&st).await.lang(lang)?;
    for o in &mut dept_options {
        o.selected = department.is_some_and(|d| d.to_string() == o.value);
    }
    let rows = got
        .items
        .into_iter()
        .map(|u| UserRow {
            roles: roles_text(lang, &u.roles),
            department: u
                .scope
                .department_id
                .and_then(|d| names.get(&d).cloned())
                .unwrap_or_else(|| "—".to_string()),
            scope: u
                .scope
                .region_code
                .as_deref()
                .map_or_else(|| t.whole_city.to_string(), |c| region_name(&tree, c)),
            grids: u.grids.len(),
            active: u.active,
            username: u.username,
            display_name: u.display_name,
        })
        .collect();
    let role_options = Role::ALL
        .iter()
        .map(|r| SelectOption {
            value: r.as_str().to_string(),
            label: lang.role(*r).to_string(),
            selected: role == Some(*r),
        })
        .collect();
    let filters = [
        (
            "role",
            role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        ),
        (
            "department",
            department.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ];
    let pager = Pager::new("/org/users", &filters, page.page, page.page_size, got.total);
    let l = Layout::new(&st, &ctx, Section::Org, t.tab_users).await;
    let page = UsersPage {
        l,
        tab: "users",
        show_users_tab: true,
        roles: role_options,
        departments: dept_options,
        rows,
        pager,
    };
    render(StatusCode::OK, &page, lang)
}
