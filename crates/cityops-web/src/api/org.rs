//! Departments and users.
use axum::extract::State;
use cityops_domain::Role;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::{DepartmentList, DepartmentView, UserList, UserView};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DepartmentFilter {
    /// Region code: departments whose scope lies within this region.
    #[param(example = "441302")]
    region: Option<String>,
}

/// 部门列表: departments ordered by code. Requires login.
#[utoipa::path(
    get,
    path = "/api/v1/departments",
    tag = "organisation",
    security(("bearer" = []), ("cookie" = [])),
    params(DepartmentFilter, PageParams),
    responses(
        (status = 200, body = DepartmentList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn list_departments(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(f): ApiQuery<DepartmentFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<DepartmentList>> {
    let page = pp.request()?;
    let region = f.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let got = state.store.list_departments(region, page).await?;
    Ok(axum::Json(DepartmentList::from_page(
        got,
        DepartmentView::from,
    )))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserFilter {
    /// Role, e.g. `inspector`, `handler`, `admin`.
    #[param(example = "inspector")]
    role: Option<String>,
    /// Department id.
    department_id: Option<i64>,
}

/// 用户列表: users ordered by username. Administrators only (403 `forbidden` otherwise).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "organisation",
    security(("bearer" = []), ("cookie" = [])),
    params(UserFilter, PageParams),
    responses(
        (status = 200, body = UserList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
    )
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(f): ApiQuery<UserFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<UserList>> {
    user.require(Role::Admin)?;
    let page = pp.request()?;
    let role = match f.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|e| ApiError::invalid_query(e.to_string()))?,
        ),
        None => None,
    };
    let got = state.store.list_users(role, f.department_id, page).await?;
    Ok(axum::Json(UserList::from_page(got, UserView::from)))
}
