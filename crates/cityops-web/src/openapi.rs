//! The OpenAPI 3.1 document, generated from the handlers: every route is registered once with
//! utoipa-axum, which yields both the axum routes and their documentation.
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{
    attachments, audit, auth, calendar, cases, catalogue, components, geo, inbox, org, routing,
    system,
};
use crate::error::ErrorBody;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CityOps API",
        description = "城市运行管理服务平台 (city operation management service platform) — JSON API.\n\n\
            Errors: `{\"code\": \"snake_case_code\", \"message\": \"…\"}` with codes bad_request, invalid_query, \
            unsupported_media_type (400/415), invalid_credentials, unauthenticated (401), forbidden (403), \
            not_found, outside_city (404; 422 for a reported point), method_not_allowed (405), conflict, \
            invalid_transition (409; its body also lists `allowed_actions`), payload_too_large (413), \
            invalid_value (422), rate_limited (429), internal (500), service_unavailable, timeout (503).\n\n\
            Lists: `{\"items\", \"total\", \"page\", \"page_size\"}` with `?page=` (from 1) and `?page_size=` \
            (default 50, at most 1000).",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecurityAddon),
    tags(
        (name = "auth", description = "登录与会话 (login and sessions)"),
        (name = "geography", description = "基础数据：区域与定位 (regions and locate)"),
        (name = "catalogue", description = "部件与事项分类、立案标准 (categories and filing standards)"),
        (name = "organisation", description = "部门与用户 (departments and users)"),
        (name = "components", description = "部件 (components)"),
        (name = "cases", description = "案件：上报、流转、流转记录、审计 (cases: report, workflow, events, audit)"),
        (name = "evidence", description = "证据照片 (evidence photos)"),
        (name = "inbox", description = "待办与消息 (inbox)"),
        (name = "routing", description = "权责清单 (responsibility matrix)"),
        (name = "calendar", description = "工作日历 (working calendar)"),
        (name = "system", description = "健康检查、指标 (health, metrics)"),
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("The `token` of `POST /api/v1/auth/login`.".to_string());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::extract::SESSION_COOKIE,
            ))),
        );
    }
}

/// All documented routes, with their documentation.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(system::metrics_handler))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(geo::locate))
        .routes(routes!(geo::list_regions))
        .routes(routes!(geo::get_region))
        .routes(routes!(catalogue::list_categories))
        .routes(routes!(catalogue::get_category))
        .routes(routes!(org::list_departments))
        .routes(routes!(org::list_users))
        .routes(routes!(components::list_components))
        .routes(routes!(components::get_component))
        .merge(cases::router())
        .merge(audit::router())
        .merge(attachments::router())
        .merge(inbox::router())
        .merge(routing::router())
        .merge(calendar::router())
}

/// The OpenAPI 3.1 document as pretty-printed JSON (what `GET /api/openapi.json` serves).
pub fn openapi_json() -> String {
    api_router()
        .into_openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| {
            // Serialising plain data structures cannot fail; keep the answer valid JSON regardless.
            tracing::error!(error = %e, "serialising the OpenAPI document failed");
            "{}".to_string()
        })
}
