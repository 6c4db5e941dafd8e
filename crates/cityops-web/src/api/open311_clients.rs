//! Open311 client applications (接入应用) and their API keys, for administrators: list them,
//! issue a key (shown once in the answer; the store keeps its SHA-256), revoke one (at once, in
//! every server process: keys are looked up in the store on every Open311 POST).
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cityops_store::{Open311Client, Page};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::list_view;

/// The routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, issue_key))
        .routes(routes!(revoke_key))
}

/// A client application (no key: the key is shown once, at its issue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Open311ClientView {
    pub id: i64,
    /// The application's name (应用名称).
    #[schema(example = "惠民 APP")]
    pub name: String,
    /// Who to call about it.
    #[schema(example = "dev@huimin.example")]
    pub contact: String,
    /// The administrator who issued its key.
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When its key was revoked (吊销); absent while it works.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its key was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether its key is accepted now.
    pub active: bool,
}

impl From<Open311Client> for Open311ClientView {
    fn from(c: Open311Client) -> Self {
        Self {
            active: c.revoked_at.is_none(),
            id: c.id,
            name: c.name,
            contact: c.contact,
            created_by: c.created_by,
            created_at: c.created_at,
            revoked_at: c.revoked_at,
            last_used_at: c.last_used_at,
        }
    }
}

list_view!(
    /// A page of Open311 client applications, newest first.
    Open311ClientList,
    Open311ClientView
);

/// `POST /api/v1/open311/clients`: a new client application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311ClientRequest {
    /// The application's name (应用名称), kept without surrounding space.
    #[schema(min_length = 1, example = "惠民 APP")]
    pub name: String,
    /// Who to call about it (a person, a mail address); may be empty.
    #[serde(default)]
    #[schema(example = "dev@huimin.example")]
    pub contact: String,
}

/// The answer to a new key: the client and its API key — shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IssuedKeyView {
    pub client: Open311ClientView,
    /// The API key (64 hex digits) for Open311's `api_key`. Shown only now; the server keeps its
    /// SHA-256.
    #[schema(example = "9f2c4e0b1a7d3c5e8f6a2b4d0c9e7f1a3b5d7c9e1f3a5b7d9c1e3f5a7b9d1c3e")]
    pub api_key: String,
}

/// 接入应用: the Open311 client applications, newest first (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/open311/clients",
    tag = "open311",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Open311ClientList),
        (status = 403, description = "`forbidden`: administrators only", body = ErrorBody),
    )
)]
pub(crate) async fn list_clients(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Open311ClientList>> {
    let page = pp.request()?;
    let got = state.open311.clients(&user, page).await?;
    Ok(axum::Json(Open311ClientList::from_page(
        got,
        Open311ClientView::from,
    )))
}

/// 签发 API key: registers a client application and answers its new API key, shown only in this
/// answer (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/open311/clients",
    tag = "open311",
    security(("bearer" = []), ("cookie" = [])),
    request_body = Open311ClientRequest,
    responses(
        (status = 201, body = IssuedKeyView),
        (status = 403, description = "`forbidden`: administrators only", body = ErrorBody),
        (status = 422, description = "`invalid_value` (an empty name) or `too_long` (name over 100, contact over 200 characters)", body = ErrorBody),
    )
)]
pub(crate) async fn issue_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<Open311ClientRequest>,
) -> ApiResult<(StatusCode, axum::Json<IssuedKeyView>)> {
    let (client, api_key) = state
        .open311
        .issue_key(&user, &body.name, &body.contact)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedKeyView {
            client: client.into(),
            api_key,
        }),
    ))
}

/// 吊销 API key: the client's key is refused from now on, by every server process
/// (administrators). Revoking a revoked key changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/open311/clients/{id}/revoke",
    tag = "open311",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "The client application's id")),
    responses(
        (status = 200, body = Open311ClientView),
        (status = 403, description = "`forbidden`: administrators only", body = ErrorBody),
        (status = 404, description = "`not_found`: no such client application", body = ErrorBody),
    )
)]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Open311ClientView>> {
    let client = state.open311.revoke(&user, id).await?;
    Ok(axum::Json(client.into()))
}
