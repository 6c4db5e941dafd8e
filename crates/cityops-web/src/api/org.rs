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
    #[param(value_type = Option<crate::wire::RegionCode>)]
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
    if let Some(r) = &f.region
        && !crate::wire::is_region_code(r)
    {
        return Err(ApiError::invalid_query(format!(
            "region {r:?}: expected a region code of 6, 9, 12 or 15 digits"
        )));
    }
    let got = state
        .store
        .list_departments(f.region.as_deref(), page)
        .await?;
    Ok(axum::Json(DepartmentList::from_page(
        got,
        DepartmentView::from,
    )))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserFilter {
    /// Role, e.g. `inspector`, `handler`, `admin`.
    #[param(value_type = Option<crate::wire::RoleName>)]
    role: Option<Role>,
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
    let got = state
        .store
        .list_users(f.role, f.department_id, page)
        .await?;
    Ok(axum::Json(UserList::from_page(got, UserView::from)))
}
