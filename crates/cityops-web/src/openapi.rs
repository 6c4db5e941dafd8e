//! The OpenAPI 3.1 document, generated from the handlers: every route is registered once with
//! utoipa-axum, which yields both the axum routes and their documentation.
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{
    attachments, audit, auth, calendar, cases, catalogue, components, evaluation, geo, inbox,
    monitoring, object_labels, objects, open311_clients, org, pois, public, reports, reviews,
    routing, sessions, system,
};
use crate::error::ErrorBody;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CityOps API",
        description = "城市运行管理服务平台 (city operation management service platform) — JSON API.\n\n\
            Errors: `{\"code\": \"snake_case_code\", \"message\": \"…\"}` with codes bad_request, invalid_query, \
            unsupported_media_type (400/415), invalid_credentials, unauthenticated (401), forbidden, csrf (403), \
            not_found, outside_city (404; 422 for a reported point), evidence_missing (404: a photo's file \
            is gone), method_not_allowed (405), conflict, invalid_transition (409; its body also lists \
            `allowed_actions`), payload_too_large (413), invalid_value, empty_matrix, too_long (422: a text \
            over its field's `maxLength`, counted in characters), export_too_large (422: an XLSX export over its \
            row cap), rate_limited, too_many_concurrent (429, with `Retry-After`), internal (500), service_unavailable, timeout (503).\n\n\
            Cross-site requests: a `POST`, `PUT`, `PATCH` or `DELETE` without an `Authorization` header must come \
            from this site (`Sec-Fetch-Site`, `Origin`), and one authenticated by the session cookie must also \
            send the session's CSRF token as `X-CSRF-Token` (the `csrf_token` of the login answer); otherwise \
            403 `csrf`. Bearer-token calls need neither.\n\n\
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
        (name = "evaluation", description = "综合评价与城市管理指数 (performance evaluation and the city management index)"),
        (name = "public", description = "公众：匿名上报、进度查询、评价 (citizens without an account: report, follow, rate)"),
        (name = "monitoring", description = "运行监测：监测数据上报、设备台账、报警与报警规则 (operation monitoring: telemetry, devices, alarms and their rules)"),
        (name = "objects", description = "一码管全域：管理对象赋码、码上办自查与巡查、双保险比对、三教而罚整改与移交执法 (management objects: codes, checklists, self-checks and inspections, discrepancies, the rectification ladder and its hand-over to enforcement; the public card is under `public`)"),
        (name = "pois", description = "公共服务设施：公厕、公园、摊规点、无车区的台账与导入 (points of interest: public toilets, parks, vendor zones, car-free zones; the citizens' nearby search is under `public`)"),
        (name = "reports", description = "报表：晨报、周报、月报的历史、CSV 与 XLSX (reports: daily briefings, weekly and monthly reports, their history, CSV and XLSX)"),
        (name = "open311", description = "Open311 接入应用与 API key (Open311 client applications and their API keys; the GeoReport v2 interface itself is under /open311/v2/, outside this document)"),
        (name = "reviews", description = "第三方评价：抽样、评价任务、评分 (third-party review: samples, tasks, scores)"),
        (name = "system", description = "健康检查、指标 (health, metrics)"),
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in crate::wire::schemas() {
            components.schemas.insert(name, schema);
        }
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

/// The answers the shared extractors and middleware give, added to every operation they apply to
/// (a handler's own, more specific description of the same status is kept):
///
/// - security (`CurrentUser`) → 401 `unauthenticated`;
/// - query parameters (`ApiQuery`) → 400 `invalid_query`; path parameters (`ApiPath`) → 400
///   `bad_request`;
/// - a request body → 400 `bad_request` (malformed), 413 `payload_too_large` (over the body
///   limit), 415 `unsupported_media_type` (a content type the operation does not take), 422
///   `invalid_value` (well-formed but wrong fields).
/// - a state-changing method (`POST`, `PUT`, `PATCH`, `DELETE`) → 403 `csrf` (the CSRF guard,
///   [`crate::csrf`]); a handler's own 403 gets `csrf` added to its description.
///
/// Runs on the whole document, after every route has been merged (see [`document`]).
struct CommonResponses;

impl CommonResponses {
    fn apply(op: &mut Operation, state_changing: bool) {
        let has_in = |loc: ParameterIn| {
            op.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => p.parameter_in == loc,
                RefOr::Ref(_) => false,
            })
        };
        let mut wanted: Vec<(&str, &str)> = Vec::new();
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            wanted.push((
                "401",
                "`unauthenticated`: no valid session (bearer token or cookie)",
            ));
        }
        if has_in(ParameterIn::Query) {
            wanted.push((
                "400",
                "`invalid_query`: a query parameter is missing or invalid",
            ));
        }
        if has_in(ParameterIn::Path) {
            wanted.push(("400", "`bad_request`: a malformed path parameter"));
        }
        if op.request_body.is_some() {
            wanted.push(("400", "`bad_request`: a malformed body"));
            wanted.push(("413", "`payload_too_large`: the body is over the limit"));
            wanted.push((
                "415",
                "`unsupported_media_type`: a content type the operation does not take",
            ));
            wanted.push(("422", "`invalid_value`: a missing or invalid field"));
        }
        for (status, description) in wanted {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(description));
        }
        if state_changing {
            const CSRF: &str = "`csrf`: from another site, or by the session cookie without the \
                 CSRF token (`X-CSRF-Token`)";
            match op.responses.responses.get_mut("403") {
                Some(RefOr::T(r)) => r.description = format!("{}; or {CSRF}", r.description),
                Some(RefOr::Ref(_)) => {}
                None => {
                    op.responses
                        .responses
                        .insert("403".to_string(), error_response(CSRF));
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

/// The text limits of [`crate::wire::TEXT_LIMITS`] and [`crate::wire::PARAM_LIMITS`] as
/// `maxLength` on their properties and parameters (utoipa's `max_length` takes literals only; the
/// limits are defined once, in the domain).
struct TextLimits;

impl TextLimits {
    /// Sets `maxLength` on the string schema `schema` (through `oneOf: [null, …]`); false when it
    /// is not an inline string schema.
    fn set(schema: &mut RefOr<Schema>, max: usize) -> bool {
        match schema {
            RefOr::T(Schema::Object(o)) => {
                o.max_length = Some(max);
                true
            }
            RefOr::T(Schema::OneOf(one)) => one.items.iter_mut().any(|s| Self::set(s, max)),
            _ => false,
        }
    }

    /// Applies every limit; the names of those that found no place (a renamed field).
    fn apply(doc: &mut utoipa::openapi::OpenApi) -> Vec<String> {
        let mut missed = Vec::new();
        let schemas = doc.components.as_mut().map(|c| &mut c.schemas);
        let mut schemas = schemas;
        for (schema, property, limit) in crate::wire::TEXT_LIMITS {
            let done = schemas
                .as_mut()
                .and_then(|all| all.get_mut(schema))
                .and_then(|s| match s {
                    RefOr::T(Schema::Object(o)) => o.properties.get_mut(property),
                    _ => None,
                })
                .is_some_and(|p| Self::set(p, limit.max_chars));
            if !done {
                missed.push(format!("{schema}.{property}"));
            }
        }
        for (path, name, limit) in crate::wire::PARAM_LIMITS {
            let done = doc
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.get.as_mut())
                .and_then(|op| op.parameters.as_mut())
                .and_then(|ps| {
                    ps.iter_mut().find_map(|p| match p {
                        RefOr::T(p) if p.name == name => Some(p),
                        _ => None,
                    })
                })
                .and_then(|p| p.schema.as_mut())
                .is_some_and(|s| Self::set(s, limit.max_chars));
            if !done {
                missed.push(format!("{path}?{name}"));
            }
        }
        missed
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (op, state_changing) in [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ] {
                if let Some(op) = op {
                    Self::apply(op, state_changing);
                }
            }
        }
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
        .routes(routes!(auth::change_password))
        .routes(routes!(
            sessions::list_sessions,
            sessions::revoke_other_sessions
        ))
        .routes(routes!(sessions::revoke_session))
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
        .merge(evaluation::router())
        .merge(public::router())
        .merge(reviews::router())
        .merge(reports::router())
        .merge(monitoring::router())
        .merge(objects::router())
        .merge(pois::router())
        .merge(open311_clients::router())
        .merge(object_labels::router())
}

/// The whole document: the routes' operations with the [`CommonResponses`] added.
pub(crate) fn document(
    router: OpenApiRouter<AppState>,
) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = router.split_for_parts();
    CommonResponses.modify(&mut doc);
    let missed = TextLimits::apply(&mut doc);
    debug_assert!(missed.is_empty(), "text limits without a field: {missed:?}");
    if !missed.is_empty() {
        tracing::error!(
            ?missed,
            "text limits without a field in the OpenAPI document"
        );
    }
    (routes, doc)
}

/// The OpenAPI 3.1 document as pretty-printed JSON (what `GET /api/openapi.json` serves).
pub fn openapi_json() -> String {
    document(api_router())
        .1
        .to_pretty_json()
        .unwrap_or_else(|e| {
            // Serialising plain data structures cannot fail; keep the answer valid JSON regardless.
            tracing::error!(error = %e, "serialising the OpenAPI document failed");
            "{}".to_string()
        })
}
