//! Components (部件).
use axum::extract::State;
use cityops_store::ComponentQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::{ComponentList, ComponentView};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ComponentFilter {
    /// `minLng,minLat,maxLng,maxLat` (WGS84; each minimum at most its maximum).
    #[param(value_type = Option<crate::wire::BoundingBox>)]
    bbox: Option<String>,
    /// 5-digit category code, or a 2-digit class code.
    #[param(value_type = Option<crate::wire::CategoryOrClassCode>)]
    category: Option<String>,
    /// Unit grid code (15 digits).
    #[param(value_type = Option<crate::wire::GridCode>)]
    grid: Option<String>,
    /// Owner or maintainer department code.
    department: Option<String>,
}

/// Parses [`crate::wire::BBOX_PATTERN`] (400 `invalid_query` otherwise).
pub(crate) fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    crate::wire::parse_bbox(s).ok_or_else(|| {
        ApiError::invalid_query(format!(
            "bbox {s:?}: expected lng1,lat1,lng2,lat2 (two opposite corners, plain decimal degrees)"
        ))
    })
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// 部件列表: components ordered by id, filtered by box, category, grid and department. Requires
/// login.
#[utoipa::path(
    get,
    path = "/api/v1/components",
    tag = "components",
    security(("bearer" = []), ("cookie" = [])),
    params(ComponentFilter, PageParams),
    responses(
        (status = 200, body = ComponentList),
        (status = 400, description = "`invalid_query`: malformed bbox or paging", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn list_components(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(f): ApiQuery<ComponentFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ComponentList>> {
    let page = pp.request()?;
    let bbox = f.bbox.as_deref().map(parse_bbox).transpose()?;
    if let Some(c) = &f.category
        && !crate::wire::is_category_or_class(c)
    {
        return Err(ApiError::invalid_query(format!(
            "category {c:?}: expected a 5-digit category or 2-digit class code"
        )));
    }
    if let Some(g) = &f.grid
        && !crate::wire::is_grid_code(g)
    {
        return Err(ApiError::invalid_query(format!(
            "grid {g:?}: expected a 15-digit unit grid code"
        )));
    }
    let query = ComponentQuery {
        bbox,
        category: f.category,
        grid_code: f.grid,
        department_code: non_empty(f.department),
    };
    let got = state.store.list_components(&query, page).await?;
    Ok(axum::Json(ComponentList::from_page(
        got,
        ComponentView::from,
    )))
}

/// 部件详情: one component by its 17-digit id. Requires login.
#[utoipa::path(
    get,
    path = "/api/v1/components/{id}",
    tag = "components",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = crate::wire::ComponentIdCode, Path, description = "17-digit component id; any other is not found")),
    responses(
        (status = 200, body = ComponentView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub(crate) async fn get_component(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<ComponentView>> {
    let c = state
        .store
        .get_component(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No component with id {id:?}.")))?;
    Ok(axum::Json(ComponentView::from(c)))
}
