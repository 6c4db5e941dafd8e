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
    /// `minLng,minLat,maxLng,maxLat` (WGS84).
    #[param(example = "114.40,23.08,114.42,23.10")]
    bbox: Option<String>,
    /// 5-digit category code, or a 2-digit class code.
    #[param(example = "01001")]
    category: Option<String>,
    /// Unit grid code (15 digits).
    grid: Option<String>,
    /// Owner or maintainer department code.
    department: Option<String>,
}

/// Parses `minLng,minLat,maxLng,maxLat`.
pub(crate) fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let bad = || {
        ApiError::invalid_query(format!(
            "bbox {s:?}: expected minLng,minLat,maxLng,maxLat (4 finite numbers, min ≤ max)"
        ))
    };
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != 4 {
        return Err(bad());
    }
    let mut b = [0.0; 4];
    for (slot, p) in b.iter_mut().zip(&parts) {
        *slot = p.parse::<f64>().map_err(|_| bad())?;
        if !slot.is_finite() {
            return Err(bad());
        }
    }
    let [min_lng, min_lat, max_lng, max_lat] = b;
    let lng_ok = |v: f64| (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    if min_lng > max_lng
        || min_lat > max_lat
        || !lng_ok(min_lng)
        || !lng_ok(max_lng)
        || !lat_ok(min_lat)
        || !lat_ok(max_lat)
    {
        return Err(bad());
    }
    Ok(b)
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
    let bbox = match non_empty(f.bbox) {
        Some(b) => Some(parse_bbox(&b)?),
        None => None,
    };
    let category = non_empty(f.category);
    if let Some(c) = &category
        && !(matches!(c.len(), 2 | 5) && c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::invalid_query(format!(
            "category {c:?}: expected a 5-digit category or 2-digit class code"
        )));
    }
    let query = ComponentQuery {
        bbox,
        category,
        grid_code: non_empty(f.grid),
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
    params(("id" = String, Path, description = "17-digit component id")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_parsing() {
        assert_eq!(
            parse_bbox("114.4, 23.0,114.5,23.1").unwrap(),
            [114.4, 23.0, 114.5, 23.1]
        );
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,2,3,4",
            "NaN,0,1,1",
            "inf,0,1,1",
            "2,0,1,1",
            "0,2,1,1",
            "0,0,181,1",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }
}
