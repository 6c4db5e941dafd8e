//! The category catalogue (部件/事项分类) and filing standards.
use axum::extract::State;
use cityops_domain::CategoryKind;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, PageParams};
use crate::state::AppState;
use crate::views::{CategoryDetail, CategoryList, CategoryView, FilingStandardView};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CategoryFilter {
    /// `component` (部件) or `matter` (事项); both when absent.
    #[param(value_type = Option<crate::wire::CategoryKindName>)]
    kind: Option<CategoryKind>,
}

/// 分类列表: categories ordered by (kind, code).
#[utoipa::path(
    get,
    path = "/api/v1/categories",
    tag = "catalogue",
    params(CategoryFilter, PageParams),
    responses(
        (status = 200, body = CategoryList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
    )
)]
pub(crate) async fn list_categories(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<CategoryFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<CategoryList>> {
    let page = pp.request()?;
    let got = state.store.list_categories(f.kind, page).await?;
    Ok(axum::Json(CategoryList::from_page(got, CategoryView::from)))
}

/// 分类详情: one category with its filing standard (立案条件, 处置时限, 结案条件).
#[utoipa::path(
    get,
    path = "/api/v1/categories/{kind}/{code}",
    tag = "catalogue",
    params(
        ("kind" = crate::wire::CategoryKindName, Path, description = "`component` or `matter`; any other is not found"),
        ("code" = crate::wire::CategoryCode, Path, description = "5-digit category code; any other is not found"),
    ),
    responses(
        (status = 200, body = CategoryDetail),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub(crate) async fn get_category(
    State(state): State<AppState>,
    ApiPath((kind, code)): ApiPath<(String, String)>,
) -> ApiResult<axum::Json<CategoryDetail>> {
    let not_found = || ApiError::not_found(format!("No category {kind}/{code}."));
    let k = kind.parse::<CategoryKind>().map_err(|_| not_found())?;
    let category = state
        .store
        .get_category(k, &code)
        .await?
        .ok_or_else(not_found)?;
    let standards = state.store.filing_standards(k, &code).await?;
    Ok(axum::Json(CategoryDetail {
        category: CategoryView::from(category),
        filing_standards: standards
            .into_iter()
            .map(FilingStandardView::from)
            .collect(),
    }))
}
