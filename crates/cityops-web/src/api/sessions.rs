//! The user's own sessions: list them, revoke one, revoke all others. A session is named by its
//! public id, never by its token or the token's hash; another user's id is simply not found.
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, CurrentUser, PageParams, session_token, token_hash};
use crate::state::AppState;
use crate::views::{RevokedView, SessionList, SessionView};

/// The hash of the request's own token (the caller is authenticated, so there is one).
fn own_token_hash(headers: &HeaderMap) -> ApiResult<String> {
    let token = session_token(headers)?.ok_or_else(ApiError::unauthenticated)?;
    Ok(token_hash(&token))
}

/// 我的会话: the current user's unexpired sessions, newest first; `current` marks this one.
#[utoipa::path(
    get,
    path = "/api/v1/me/sessions",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = SessionList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<SessionList>> {
    let page = pp.request()?;
    let current = own_token_hash(&headers)?;
    let got = state
        .store
        .list_sessions(user.id, &current, state.clock.now(), page)
        .await?;
    Ok(axum::Json(SessionList::from_page(got, SessionView::from)))
}

/// 注销会话: revokes one of the current user's sessions (this one included) at once.
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions/{id}",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = String, Path, description = "The session's id (`GET /api/v1/me/sessions`); any other, or another user's, is not found")),
    responses(
        (status = 204, description = "Revoked: its token no longer works"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    if state.app.revoke_session(user.id, &id).await? {
        tracing::info!(user_id = user.id, session = ?id, "session revoked");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("You have no session with this id."))
    }
}

/// 注销其他会话: revokes every session of the current user but this one, at once.
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "How many other sessions were revoked", body = RevokedView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_other_sessions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> ApiResult<axum::Json<RevokedView>> {
    let current = own_token_hash(&headers)?;
    let revoked = state.app.revoke_other_sessions(user.id, &current).await?;
    tracing::info!(user_id = user.id, revoked, "other sessions revoked");
    Ok(axum::Json(RevokedView { revoked }))
}
