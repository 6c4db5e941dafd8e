//! 部件事项目录 (catalogue): the categories of components and matters, and one category's
//! filing standard (立案条件, 处置时限, 结案条件).
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_domain::{Category, CategoryKind, PageRequest};
use cityops_store::ComponentQuery;
use serde::Deserialize;

use super::components::SelectOption;
use super::{render, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::layout::{Layout, Section};
use crate::util::{fmt_int, non_empty};

pub(crate) struct Tab {
    pub label: &'static str,
    pub href: String,
    pub count: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
pub(crate) struct CataloguePage {
    pub l: Layout,
    pub kind: &'static str,
    pub class: String,
    pub tabs: Vec<Tab>,
    pub classes: Vec<SelectOption>,
    pub rows: Vec<Category>,
    pub total: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CatalogueQuery {
    kind: Option<String>,
    class: Option<String>,
}

/// The whole catalogue of one kind (a few hundred subclasses at most).
async fn all_of(
    st: &UiState,
    kind: CategoryKind,
) -> Result<Vec<Category>, cityops_store::StoreError> {
    Ok(st
        .app
        .store
        .list_categories(
            Some(kind),
            PageRequest {
                page: 1,
                page_size: 1000,
            },
        )
        .await?
        .items)
}

/// `GET /catalogue?kind=component|matter&class=`
pub(crate) async fn index(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let kind = non_empty(&q.kind)
        .and_then(|k| k.parse::<CategoryKind>().ok())
        .unwrap_or(CategoryKind::Component);
    let class = non_empty(&q.class).unwrap_or_default();
    let components = all_of(&st, CategoryKind::Component).await.lang(lang)?;
    let matters = all_of(&st, CategoryKind::Matter).await.lang(lang)?;
    let tabs = vec![
        Tab {
            label: t.tab_components,
            href: "/catalogue?kind=component".into(),
            count: fmt_int(components.len() as u64),
            active: kind == CategoryKind::Component,
        },
        Tab {
            label: t.tab_matters,
            href: "/catalogue?kind=matter".into(),
            count: fmt_int(matters.len() as u64),
            active: kind == CategoryKind::Matter,
        },
    ];
    let all = if kind == CategoryKind::Component {
        components
    } else {
        matters
    };
    let mut classes: Vec<SelectOption> = Vec::new();
    for c in &all {
        if classes.last().is_none_or(|o| o.value != c.class_code) {
            classes.push(SelectOption {
                value: c.class_code.clone(),
                label: c.class_name.clone(),
                selected: c.class_code == class,
            });
        }
    }
    let rows: Vec<Category> = all
        .into_iter()
        .filter(|c| class.is_empty() || c.class_code == class)
        .collect();
    let l = Layout::new(&st, &ctx, Section::Catalogue, t.catalogue_title).await;
    let page = CataloguePage {
        l,
        kind: kind.as_str(),
        class,
        tabs,
        classes,
        total: fmt_int(rows.len() as u64),
        rows,
    };
    render(StatusCode::OK, &page, lang)
}

pub(crate) struct StandardRow {
    pub seq: u32,
    pub condition: String,
    pub limit: String,
    pub limit_source: Option<String>,
    pub unit_key: &'static str,
    pub closure: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "category.html")]
pub(crate) struct CategoryPage {
    pub l: Layout,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub c: Category,
    pub standards: Vec<StandardRow>,
    pub component_count: Option<String>,
}

/// The time limit in the page's language; the source's own wording when it says more.
fn limit_texts(
    lang: Lang,
    value: u32,
    unit: cityops_domain::LimitUnit,
    text: &str,
) -> (String, Option<String>) {
    match lang {
        Lang::Zh => {
            let normal = format!("{value}{}", unit.name_zh());
            let shown = if text.trim().is_empty() {
                normal.clone()
            } else {
                text.to_string()
            };
            let extra = (shown != normal).then_some(normal);
            (shown, extra)
        }
        Lang::En => {
            let shown = format!("{value} {}", lang.limit_unit(unit));
            (shown, (!text.trim().is_empty()).then(|| text.to_string()))
        }
    }
}

/// `GET /catalogue/{kind}/{code}`
pub(crate) async fn detail(
    State(st): State<UiState>,
    ctx: Ctx,
    Path((kind, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let Ok(kind) = kind.parse::<CategoryKind>() else {
        return status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Catalogue,
            t.not_found_title,
            t.category_not_found,
        )
        .await;
    };
    let Some(category) = st.app.store.get_category(kind, &code).await.lang(lang)? else {
        return status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Catalogue,
            t.not_found_title,
            t.category_not_found,
        )
        .await;
    };
    let standards = st
        .app
        .store
        .filing_standards(kind, &code)
        .await
        .lang(lang)?
        .into_iter()
        .map(|s| {
            let (limit, limit_source) =
                limit_texts(lang, s.limit.value, s.limit.unit, &s.limit_text);
            StandardRow {
                seq: s.seq + 1,
                condition: s.filing_condition,
                limit,
                limit_source,
                unit_key: s.limit.unit.as_str(),
                closure: s.closure_condition,
                source: lang.standard_source(&s.source),
            }
        })
        .collect();
    let component_count = if kind == CategoryKind::Component {
        let q = ComponentQuery {
            category: Some(code.clone()),
            ..ComponentQuery::default()
        };
        let n = st
            .app
            .store
            .list_components(
                &q,
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await
            .lang(lang)?
            .total;
        Some(fmt_int(n))
    } else {
        None
    };
    let kind_label = match kind {
        CategoryKind::Component => t.kind_component,
        CategoryKind::Matter => t.kind_matter,
    };
    let l = Layout::new(&st, &ctx, Section::Catalogue, category.name.clone()).await;
    let page = CategoryPage {
        l,
        kind: kind.as_str(),
        kind_label,
        c: category,
        standards,
        component_count,
    };
    render(StatusCode::OK, &page, lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::LimitUnit;

    #[test]
    fn limits_in_both_languages() {
        assert_eq!(
            limit_texts(Lang::Zh, 2, LimitUnit::UrgentHour, "2紧急工作时"),
            ("2紧急工作时".into(), None)
        );
        assert_eq!(
            limit_texts(Lang::Zh, 15, LimitUnit::WorkDay, "15天"),
            ("15天".into(), Some("15工作日".into()))
        );
        assert_eq!(
            limit_texts(Lang::En, 2, LimitUnit::UrgentHour, "2紧急工作时"),
            (
                "2 urgent hours (natural hours)".into(),
                Some("2紧急工作时".into())
            )
        );
    }
}
