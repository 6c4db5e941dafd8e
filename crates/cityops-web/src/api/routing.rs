//! The responsibility matrix (权责清单) admin: list, replace (JSON or CSV, all or nothing), export
//! CSV, and the department the matrix picks at a point (派遣建议).
//!
//! CSV format (UTF-8, header required, a BOM is tolerated):
//!
//! ```text
//! category_kind,category_code,region_code,department_code,auto_dispatch
//! matter,*,441300,441300-command,false
//! component,01,441302,441302-municipal,true
//! ```
//!
//! `category_code` is a 5-digit subclass, a 2-digit class or `*`; `region_code` a city, district,
//! street or community code; `auto_dispatch` (一键直达) `true`/`false` (also `1`/`0`, empty =
//! false). Every line is checked — shapes, known category, region and department, no duplicate
//! (kind, category, region) — before anything is written; errors name the line.
//!
//! Deliberate and reversible: a replacement with no rules is refused (422 `empty_matrix`) unless
//! `?allow_empty=true`; every change is kept as a version (who, when, a summary, the whole
//! matrix), listed by `GET /api/v1/routing/versions` and restored by
//! `POST /api/v1/routing/versions/{id}/restore` (itself a new version); every process reloads the
//! matrix after a change or a restore (the store's cache versions).
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use cityops_domain::case::CaseLocation;
use cityops_domain::case::routing::RoutingRule;
use cityops_domain::catalogue::parse_category_code;
use cityops_domain::{CategoryKind, Department, PageRequest, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiPath, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;

/// The CSV header, also the column order of the export.
pub(crate) const CSV_HEADER: [&str; 5] = [
    "category_kind",
    "category_code",
    "region_code",
    "department_code",
    "auto_dispatch",
];
/// Most problems listed in one error message.
const MAX_REPORTED: usize = 20;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, replace_rules))
        .routes(routes!(export_rules_csv))
        .routes(routes!(suggest))
        .routes(routes!(list_routing_versions))
        .routes(routes!(get_routing_version))
        .routes(routes!(restore_routing_version))
}

/// 403 unless the user holds one of `roles`.
fn require_any(user: &CurrentUser, roles: &[Role]) -> ApiResult<()> {
    if roles.iter().any(|r| user.0.has_role(*r)) {
        return Ok(());
    }
    let names: Vec<String> = roles
        .iter()
        .map(|r| format!("{} ({})", r.as_str(), r.name_zh()))
        .collect();
    Err(ApiError::forbidden(format!(
        "This requires one of the roles {}.",
        names.join(", ")
    )))
}

const READERS: [Role; 2] = [Role::Admin, Role::Dispatcher];

/// A department, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct DepartmentRef {
    pub id: i64,
    #[schema(example = "441302-municipal")]
    pub code: String,
    pub name: String,
}

impl From<Department> for DepartmentRef {
    fn from(d: Department) -> Self {
        Self {
            id: d.id,
            code: d.code,
            name: d.name,
        }
    }
}

/// One rule of the matrix with its department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct RoutingRuleView {
    /// `component` or `matter`.
    #[schema(value_type = crate::wire::CategoryKindName)]
    pub category_kind: String,
    /// A 5-digit subclass, a 2-digit class or `*`.
    #[schema(value_type = crate::wire::RuleCategoryCode)]
    pub category_code: String,
    /// The region the rule applies in.
    #[schema(value_type = crate::wire::RegionCode)]
    pub region_code: String,
    pub department_id: i64,
    /// Null only if the department has disappeared.
    pub department_code: Option<String>,
    pub department_name: Option<String>,
    /// 一键直达: dispatched automatically at filing.
    pub auto_dispatch: bool,
}

/// A page of the matrix, ordered by kind, category and region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct RoutingRuleList {
    pub items: Vec<RoutingRuleView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// Departments by id, each looked up once.
async fn departments_by_id(state: &AppState, ids: Vec<i64>) -> ApiResult<HashMap<i64, Department>> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(d) = state.store.get_department(id).await? {
            out.insert(id, d);
        }
    }
    Ok(out)
}

fn rule_view(r: RoutingRule, depts: &HashMap<i64, Department>) -> RoutingRuleView {
    let d = depts.get(&r.department_id);
    RoutingRuleView {
        category_kind: r.category_kind.as_str().to_string(),
        category_code: r.category_code,
        region_code: r.region_code,
        department_id: r.department_id,
        department_code: d.map(|d| d.code.clone()),
        department_name: d.map(|d| d.name.clone()),
        auto_dispatch: r.auto_dispatch,
    }
}

/// 权责清单: the rules of the responsibility matrix with their departments. Administrators and
/// dispatchers.
#[utoipa::path(
    get,
    path = "/api/v1/routing-rules",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = RoutingRuleList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither administrator nor dispatcher", body = ErrorBody),
    )
)]
pub(crate) async fn list_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<RoutingRuleList>> {
    require_any(&user, &READERS)?;
    let page = pp.request()?;
    let rules = state.store.routing_rules().await?;
    let total = rules.len() as u64;
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let items: Vec<RoutingRule> = rules
        .into_iter()
        .skip(skip)
        .take(page.page_size as usize)
        .collect();
    let ids: Vec<i64> = items.iter().map(|r| r.department_id).collect();
    let depts = departments_by_id(&state, ids).await?;
    Ok(axum::Json(RoutingRuleList {
        items: items.into_iter().map(|r| rule_view(r, &depts)).collect(),
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}

/// The matrix as CSV text (the format PUT accepts).
async fn rules_csv(state: &AppState) -> ApiResult<String> {
    let rules = state.store.routing_rules().await?;
    let ids: Vec<i64> = rules.iter().map(|r| r.department_id).collect();
    let depts = departments_by_id(state, ids).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
    for r in &rules {
        let dept = depts.get(&r.department_id).ok_or_else(|| {
            ApiError::internal(format_args!(
                "routing rule refers to missing department {}",
                r.department_id
            ))
        })?;
        w.write_record([
            r.category_kind.as_str(),
            r.category_code.as_str(),
            r.region_code.as_str(),
            dept.code.as_str(),
            if r.auto_dispatch { "true" } else { "false" },
        ])
        .map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// 导出权责清单: the whole matrix as CSV (`category_kind,category_code,region_code,department_code,auto_dispatch`),
/// which `PUT /api/v1/routing-rules` with `Content-Type: text/csv` accepts back unchanged.
/// Administrators and dispatchers.
#[utoipa::path(
    get,
    path = "/api/v1/routing-rules.csv",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The matrix as CSV", body = String, content_type = "text/csv"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither administrator nor dispatcher", body = ErrorBody),
    )
)]
pub(crate) async fn export_rules_csv(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Response> {
    require_any(&user, &READERS)?;
    let text = rules_csv(&state).await?;
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"routing-rules.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// One rule of a replacement: the department by `department_code` or `department_id`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleInput {
    #[schema(value_type = crate::wire::CategoryKindName)]
    pub category_kind: String,
    #[schema(value_type = crate::wire::RuleCategoryCode)]
    pub category_code: String,
    /// A city, district, street or community code.
    #[schema(value_type = crate::wire::RegionCode)]
    pub region_code: String,
    #[schema(example = "441302-municipal")]
    pub department_code: Option<String>,
    pub department_id: Option<i64>,
    /// Default false.
    #[serde(default)]
    pub auto_dispatch: bool,
}

/// `{"rules": [...]}`: the whole new matrix.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplaceRulesRequest {
    pub rules: Vec<RuleInput>,
}

/// How many rules the matrix holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct ReplaceRulesResponse {
    pub rules: u64,
}

/// A rule as given, with where it was given (`line 4`, `rules[3]`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Located {
    at: String,
    rule: ParsedRule,
}

/// The parsed but unresolved fields of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ParsedRule {
    category_kind: String,
    category_code: String,
    region_code: String,
    department: DeptKey,
    auto_dispatch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum DeptKey {
    Code(String),
    Id(i64),
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" | "" => Some(false),
        _ => None,
    }
}

/// Parses the CSV form with the shared CSV reader (`cityops_csv`, as the imports); every error
/// names its 1-based line. Blank lines are skipped.
fn parse_csv(body: &[u8]) -> Result<Vec<Located>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the CSV is not UTF-8: {e}"))?;
    let table = cityops_csv::read(text).map_err(|e| e.to_string())?;
    table
        .expect_header(&CSV_HEADER)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in table.rows() {
        let line = row.line();
        if row.len() != CSV_HEADER.len() {
            errors.push(format!(
                "line {line}: expected {} fields, found {}",
                CSV_HEADER.len(),
                row.len()
            ));
            continue;
        }
        let rec: Vec<String> = row.fields().map(str::to_string).collect();
        let Some(auto) = parse_bool(&rec[4]) else {
            errors.push(format!(
                "line {line}: auto_dispatch {:?}: expected true or false",
                rec[4]
            ));
            continue;
        };
        if rec[3].is_empty() {
            errors.push(format!("line {line}: department_code is empty"));
            continue;
        }
        let mut rec = rec.into_iter();
        let mut next = || rec.next().unwrap_or_default();
        out.push(Located {
            at: format!("line {line}"),
            rule: ParsedRule {
                category_kind: next(),
                category_code: next(),
                region_code: next(),
                department: DeptKey::Code(next()),
                auto_dispatch: auto,
            },
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(summarise(errors))
    }
}

fn summarise(mut errors: Vec<String>) -> String {
    let more = errors.len().saturating_sub(MAX_REPORTED);
    errors.truncate(MAX_REPORTED);
    let mut msg = errors.join("; ");
    if more > 0 {
        msg.push_str(&format!("; and {more} more"));
    }
    msg
}

/// Parses the JSON form; errors name `rules[i]`.
fn from_json(req: ReplaceRulesRequest) -> Result<Vec<Located>, String> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in req.rules.into_iter().enumerate() {
        let at = format!("rules[{i}]");
        let department = match (
            r.department_code.map(|c| c.trim().to_string()),
            r.department_id,
        ) {
            (Some(code), None) if !code.is_empty() => {
                if let Err(e) = cityops_domain::limits::DEPARTMENT_CODE.check(&code) {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
                DeptKey::Code(code)
            }
            (None, Some(id)) => DeptKey::Id(id),
            (Some(_), Some(_)) => {
                errors.push(format!(
                    "{at}: give department_code or department_id, not both"
                ));
                continue;
            }
            _ => {
                errors.push(format!(
                    "{at}: department_code or department_id is required"
                ));
                continue;
            }
        };
        out.push(Located {
            at,
            rule: ParsedRule {
                category_kind: r.category_kind.trim().to_string(),
                category_code: r.category_code.trim().to_string(),
                region_code: r.region_code.trim().to_string(),
                department,
                auto_dispatch: r.auto_dispatch,
            },
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(summarise(errors))
    }
}

/// Subclass and class codes of one kind of the catalogue.
#[derive(Default)]
struct CatalogueCodes {
    codes: HashSet<String>,
    classes: HashSet<String>,
}

async fn catalogue_codes(state: &AppState, kind: CategoryKind) -> ApiResult<CatalogueCodes> {
    let mut out = CatalogueCodes::default();
    let mut page = 1;
    loop {
        let req = PageRequest {
            page,
            page_size: cityops_domain::page::MAX_PAGE_SIZE,
        };
        let got = state.store.list_categories(Some(kind), req).await?;
        let n = got.items.len();
        for c in got.items {
            out.classes.insert(c.class_code);
            out.codes.insert(c.code);
        }
        if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total {
            break;
        }
        page += 1;
    }
    Ok(out)
}

/// Checks every rule against the shapes, the catalogue, the regions and the departments, and
/// for duplicates; resolves department codes. All problems are reported, none is written.
async fn resolve(state: &AppState, given: Vec<Located>) -> ApiResult<Vec<RoutingRule>> {
    let mut catalogue: HashMap<CategoryKind, CatalogueCodes> = HashMap::new();
    let mut regions: HashMap<String, bool> = HashMap::new();
    let mut depts: HashMap<DeptKey, Option<i64>> = HashMap::new();
    let mut first_at: HashMap<(CategoryKind, String, String), String> = HashMap::new();
    let mut rules = Vec::with_capacity(given.len());
    let mut errors = Vec::new();
    for Located { at, rule: r } in given {
        let kind = match r.category_kind.parse::<CategoryKind>() {
            Ok(k) => k,
            Err(_) => {
                errors.push(format!(
                    "{at}: category_kind {:?}: expected component or matter",
                    r.category_kind
                ));
                continue;
            }
        };
        // Shapes first (the department is resolved below).
        let mut rule = RoutingRule {
            category_kind: kind,
            category_code: r.category_code.clone(),
            region_code: r.region_code.clone(),
            department_id: 0,
            auto_dispatch: r.auto_dispatch,
        };
        if let Err(e) = rule.validate() {
            errors.push(format!("{at}: {e}"));
            continue;
        }
        if rule.category_code != "*" {
            let codes = match catalogue.entry(kind) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(catalogue_codes(state, kind).await?),
            };
            let known = if rule.category_code.len() == 5 {
                codes.codes.contains(&rule.category_code)
            } else {
                codes.classes.contains(&rule.category_code)
            };
            if !known {
                errors.push(format!(
                    "{at}: category {} {} is not in the catalogue",
                    kind.as_str(),
                    rule.category_code
                ));
                continue;
            }
        }
        let region_known = match regions.get(&rule.region_code) {
            Some(k) => *k,
            None => {
                let k = state.store.get_region(&rule.region_code).await?.is_some();
                regions.insert(rule.region_code.clone(), k);
                k
            }
        };
        if !region_known {
            errors.push(format!("{at}: unknown region {}", rule.region_code));
            continue;
        }
        let dept = match depts.get(&r.department) {
            Some(d) => *d,
            None => {
                let d = match &r.department {
                    DeptKey::Code(c) => state.store.get_department_by_code(c).await?,
                    DeptKey::Id(id) => state.store.get_department(*id).await?,
                }
                .map(|d| d.id);
                depts.insert(r.department.clone(), d);
                d
            }
        };
        let Some(dept) = dept else {
            errors.push(match &r.department {
                DeptKey::Code(c) => format!("{at}: unknown department {c}"),
                DeptKey::Id(id) => format!("{at}: unknown department id {id}"),
            });
            continue;
        };
        rule.department_id = dept;
        let key = (kind, rule.category_code.clone(), rule.region_code.clone());
        if let Some(first) = first_at.get(&key) {
            errors.push(format!(
                "{at}: {} {} in {} is already given at {first}",
                kind.as_str(),
                rule.category_code,
                rule.region_code
            ));
            continue;
        }
        first_at.insert(key, at);
        rules.push(rule);
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(ApiError::invalid_value(summarise(errors)))
    }
}

/// The media type of a request body, lower-case, without parameters (`text/csv`).
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Maps a failed body read (413 over the limit) onto the error table.
pub(crate) fn body_rejection(r: BytesRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(ErrorCode::PayloadTooLarge, r.body_text()),
        _ => ApiError::bad_request(r.body_text()),
    }
}

/// A JSON body: syntax errors are 400, shape errors 422.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid_value(e.to_string()),
        _ => ApiError::bad_request(format!("Malformed JSON: {e}")),
    })
}

/// `?allow_empty=true`: the deliberate "yes, empty the matrix".
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AllowEmpty {
    /// Allow a matrix without rules (every suggestion and automatic dispatch stops). Default false.
    allow_empty: Option<bool>,
}

/// 替换权责清单: replaces the whole matrix, from JSON (`{"rules": [...]}`) or from CSV
/// (`Content-Type: text/csv`, the format of the export). Administrators only.
///
/// Every rule is checked first; on any problem nothing is written and the 422 message names the
/// lines (`line 4: unknown department …`). A matrix without rules is refused with 422
/// `empty_matrix` unless `?allow_empty=true`. Takes effect at once and is kept as a version
/// (`GET /api/v1/routing/versions`), so it can be undone.
#[utoipa::path(
    put,
    path = "/api/v1/routing-rules",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(AllowEmpty),
    request_body(content(
        (ReplaceRulesRequest = "application/json"),
        (String = "text/csv", example = "category_kind,category_code,region_code,department_code,auto_dispatch\nmatter,*,441300,441300-command,false\n"),
    )),
    responses(
        (status = 200, body = ReplaceRulesResponse),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor CSV", body = ErrorBody),
        (status = 422, description = "`invalid_value`: a rule is wrong (the message names the line); `empty_matrix`: no rules without `?allow_empty=true`", body = ErrorBody),
    )
)]
pub(crate) async fn replace_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<AllowEmpty>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<axum::Json<ReplaceRulesResponse>> {
    user.require(Role::Admin)?;
    let body = body.map_err(body_rejection)?;
    let (given, from) = match content_type(&headers).as_str() {
        "text/csv" => (parse_csv(&body).map_err(ApiError::invalid_value)?, "CSV"),
        "application/json" => (
            from_json(parse_json::<ReplaceRulesRequest>(&body)?)
                .map_err(ApiError::invalid_value)?,
            "JSON",
        ),
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("Expected `application/json` or `text/csv`, not {other:?}."),
            ));
        }
    };
    let rules = resolve(&state, given).await?;
    let summary = format!("replaced from {from} ({} rules)", rules.len());
    let n = state
        .app
        .replace_routing(&user.0, &rules, q.allow_empty.unwrap_or(false), &summary)
        .await?;
    Ok(axum::Json(ReplaceRulesResponse { rules: n }))
}

/// One kept version of the responsibility matrix or the holiday schedule (without content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct ConfigVersionView {
    pub id: i64,
    /// Who made the change (null: the system — the demo generator, the command line, the
    /// migration that started keeping versions).
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    #[schema(example = "replaced from CSV (12 rules)")]
    pub summary: String,
    /// The version this one restored (a restore is itself a version).
    pub restored_from: Option<i64>,
    /// Rules (or days) the version holds.
    pub items: i64,
}

impl From<cityops_store::ConfigVersion> for ConfigVersionView {
    fn from(v: cityops_store::ConfigVersion) -> Self {
        Self {
            id: v.id,
            user_id: v.user_id,
            username: v.username,
            display_name: v.display_name,
            at: v.at,
            summary: v.summary,
            restored_from: v.restored_from,
            items: v.items,
        }
    }
}

/// A page of kept versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct ConfigVersionList {
    pub items: Vec<ConfigVersionView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

impl From<cityops_domain::Page<cityops_store::ConfigVersion>> for ConfigVersionList {
    fn from(p: cityops_domain::Page<cityops_store::ConfigVersion>) -> Self {
        let p = p.map(ConfigVersionView::from);
        Self {
            items: p.items,
            total: p.total,
            page: p.page,
            page_size: p.page_size,
        }
    }
}

/// A kept version of the matrix with its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct RoutingVersionView {
    pub version: ConfigVersionView,
    /// The whole matrix as it was, in (kind, category, region) order.
    pub rules: Vec<RoutingRuleView>,
}

/// What a restore made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct RestoreResponse {
    /// The new version the restore is kept as (`restored_from` names the restored one).
    pub version: ConfigVersionView,
}

/// 权责清单版本: the kept versions of the matrix (who, when, what), newest first.
/// Administrators and dispatchers.
#[utoipa::path(
    get,
    path = "/api/v1/routing/versions",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, body = ConfigVersionList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither administrator nor dispatcher", body = ErrorBody),
    )
)]
pub(crate) async fn list_routing_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ConfigVersionList>> {
    require_any(&user, &READERS)?;
    let page = pp.request()?;
    Ok(axum::Json(state.store.routing_versions(page).await?.into()))
}

/// 权责清单版本详情: one kept version with the whole matrix as it was. Administrators and
/// dispatchers.
#[utoipa::path(
    get,
    path = "/api/v1/routing/versions/{id}",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Version id")),
    responses(
        (status = 200, body = RoutingVersionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: neither administrator nor dispatcher", body = ErrorBody),
        (status = 404, description = "`not_found`: no such routing version", body = ErrorBody),
    )
)]
pub(crate) async fn get_routing_version(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<RoutingVersionView>> {
    require_any(&user, &READERS)?;
    let (version, rules) = state
        .store
        .routing_version(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No routing version {id}.")))?;
    let ids: Vec<i64> = rules.iter().map(|r| r.department_id).collect();
    let depts = departments_by_id(&state, ids).await?;
    Ok(axum::Json(RoutingVersionView {
        version: version.into(),
        rules: rules.into_iter().map(|r| rule_view(r, &depts)).collect(),
    }))
}

/// 恢复权责清单: makes a kept version the matrix again, at once in every process; the restore is
/// kept as a new version. A version without rules needs `?allow_empty=true`. Administrators only.
#[utoipa::path(
    post,
    path = "/api/v1/routing/versions/{id}/restore",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "Version id"), AllowEmpty),
    responses(
        (status = 200, body = RestoreResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody),
        (status = 404, description = "`not_found`: no such routing version", body = ErrorBody),
        (status = 422, description = "`empty_matrix`: the version has no rules and `allow_empty` is not true; `invalid_value`: a department it names no longer exists", body = ErrorBody),
    )
)]
pub(crate) async fn restore_routing_version(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AllowEmpty>,
) -> ApiResult<axum::Json<RestoreResponse>> {
    user.require(Role::Admin)?;
    let version = state
        .app
        .restore_routing_version(&user.0, id, q.allow_empty.unwrap_or(false))
        .await?;
    Ok(axum::Json(RestoreResponse {
        version: version.into(),
    }))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SuggestParams {
    /// `component` or `matter`.
    #[param(value_type = crate::wire::CategoryKindName)]
    category_kind: CategoryKind,
    /// The 5-digit category.
    #[param(value_type = crate::wire::CategoryCode)]
    category_code: String,
    /// Longitude (WGS84).
    #[param(minimum = -180.0, maximum = 180.0, example = 114.41)]
    lng: f64,
    /// Latitude (WGS84).
    #[param(minimum = -90.0, maximum = 90.0, example = 23.09)]
    lat: f64,
    /// A component (17 digits): its owner department comes first.
    #[param(value_type = Option<crate::wire::ComponentIdCode>)]
    component_id: Option<String>,
}

/// Where a point lies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct PlaceView {
    pub grid_code: Option<String>,
    pub community_code: Option<String>,
    pub street_code: Option<String>,
    pub district_code: String,
}

/// The matrix's choice at a point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct SuggestionView {
    pub location: PlaceView,
    /// The department a case would be dispatched to; null when no rule covers it.
    pub department: Option<DepartmentRef>,
    /// 一键直达: it would be dispatched automatically at filing.
    pub auto_dispatch: bool,
    /// Chosen because the component's owner is this department.
    pub by_component_owner: bool,
    /// The rule of the matrix that matched, if any.
    pub rule: Option<RoutingRuleView>,
}

/// 派遣建议: the department the responsibility matrix picks for a category at a point (the
/// component's owner first). Administrators, dispatchers and intake operators.
#[utoipa::path(
    get,
    path = "/api/v1/routing/suggest",
    tag = "routing",
    security(("bearer" = []), ("cookie" = [])),
    params(SuggestParams),
    responses(
        (status = 200, body = SuggestionView),
        (status = 400, description = "`invalid_query`: missing or malformed parameter", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`outside_city`, or `not_found`: no such component", body = ErrorBody),
    )
)]
pub(crate) async fn suggest(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<SuggestParams>,
) -> ApiResult<axum::Json<SuggestionView>> {
    require_any(&user, &[Role::Admin, Role::Dispatcher, Role::Intake])?;
    let kind = p.category_kind;
    let code = parse_category_code(&p.category_code)
        .map_err(|e| ApiError::invalid_query(e.to_string()))?;
    if !((-180.0..=180.0).contains(&p.lng) && (-90.0..=90.0).contains(&p.lat)) {
        return Err(ApiError::invalid_query(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    if let Some(c) = &p.component_id
        && !crate::wire::is_component_id(c)
    {
        return Err(ApiError::invalid_query(format!(
            "component_id {c:?}: expected 17 digits"
        )));
    }
    let place = state
        .index
        .locate(p.lng, p.lat)
        .map(|l| l.into_owned())
        .ok_or_else(|| ApiError::of(ErrorCode::OutsideCity))?;
    let owner = match p.component_id.as_deref() {
        None => None,
        Some(id) => {
            let c = state
                .store
                .get_component(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("No component with id {id:?}.")))?;
            match c.owner_department {
                Some(code) => state
                    .store
                    .get_department_by_code(&code)
                    .await?
                    .map(|d| d.id),
                None => None,
            }
        }
    };
    let location = CaseLocation {
        lng: p.lng,
        lat: p.lat,
        grid_code: place.grid_code.clone(),
        community_code: place.community_code.clone(),
        street_code: place.street_code.clone(),
        district_code: Some(place.district_code.clone()),
        address: None,
    };
    let matrix = state.routing();
    let rule = matrix.rule_for(kind, code, &location).cloned();
    let decision = matrix.route(kind, code, &location, owner);
    let ids: Vec<i64> = decision
        .iter()
        .map(|d| d.department_id)
        .chain(rule.iter().map(|r| r.department_id))
        .collect();
    let depts = departments_by_id(&state, ids).await?;
    Ok(axum::Json(SuggestionView {
        location: PlaceView {
            grid_code: place.grid_code,
            community_code: place.community_code,
            street_code: place.street_code,
            district_code: place.district_code,
        },
        department: decision
            .and_then(|d| depts.get(&d.department_id).cloned())
            .map(DepartmentRef::from),
        auto_dispatch: decision.is_some_and(|d| d.auto_dispatch),
        by_component_owner: decision.is_some_and(|d| d.by_component_owner),
        rule: rule.map(|r| rule_view(r, &depts)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_named() {
        let ok = parse_csv(
            "\u{feff}category_kind,category_code,region_code,department_code,auto_dispatch\n\
             matter,*,441300,441300-command,false\n\
             \n\
             component, 01 ,441302,441302-municipal,TRUE\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].at, "line 2");
        assert_eq!(ok[1].at, "line 4");
        assert_eq!(ok[1].rule.category_code, "01");
        assert!(ok[1].rule.auto_dispatch);
        assert_eq!(
            ok[1].rule.department,
            DeptKey::Code("441302-municipal".into())
        );

        let e = parse_csv(b"kind,code\n").unwrap_err();
        assert!(e.starts_with("line 1: expected the header"), "{e}");
        let e = parse_csv(
            b"category_kind,category_code,region_code,department_code,auto_dispatch\n\
              matter,*,441300,x,false\n\
              matter,*,441300,x\n\
              matter,*,441300,x,maybe\n",
        )
        .unwrap_err();
        assert!(e.contains("line 3: expected 5 fields, found 4"), "{e}");
        assert!(e.contains("line 4: auto_dispatch \"maybe\""), "{e}");
        assert!(!e.contains("line 2"), "{e}");
        assert!(parse_csv(b"").unwrap_err().starts_with("line 1"));
    }

    #[test]
    fn json_rules_need_exactly_one_department() {
        let req: ReplaceRulesRequest = serde_json::from_value(serde_json::json!({"rules": [
            {"category_kind": "matter", "category_code": "*", "region_code": "441300", "department_id": 3},
            {"category_kind": "matter", "category_code": "01", "region_code": "441300", "department_code": "a", "auto_dispatch": true},
        ]}))
        .unwrap();
        let got = from_json(req).unwrap();
        assert_eq!(got[0].rule.department, DeptKey::Id(3));
        assert!(!got[0].rule.auto_dispatch);
        assert_eq!(got[1].at, "rules[1]");
        assert!(got[1].rule.auto_dispatch);

        let req: ReplaceRulesRequest = serde_json::from_value(serde_json::json!({"rules": [
            {"category_kind": "matter", "category_code": "*", "region_code": "441300"},
            {"category_kind": "matter", "category_code": "*", "region_code": "441300", "department_id": 1, "department_code": "a"},
        ]}))
        .unwrap();
        let e = from_json(req).unwrap_err();
        assert!(
            e.contains("rules[0]: department_code or department_id is required"),
            "{e}"
        );
        assert!(
            e.contains("rules[1]: give department_code or department_id, not both"),
            "{e}"
        );
    }

    #[test]
    fn many_errors_are_capped() {
        let errors: Vec<String> = (0..30).map(|i| format!("line {i}: bad")).collect();
        let msg = summarise(errors);
        assert!(msg.contains("line 19: bad"));
        assert!(!msg.contains("line 20: bad"));
        assert!(msg.ends_with("and 10 more"));
    }

    #[test]
    fn json_errors_are_classified() {
        assert_eq!(
            parse_json::<ReplaceRulesRequest>(b"{").unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            parse_json::<ReplaceRulesRequest>(br#"{"rules": 3}"#)
                .unwrap_err()
                .code,
            ErrorCode::InvalidValue
        );
    }
}
