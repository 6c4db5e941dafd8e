//! Citizens without an account (公众匿名上报): report, upload a photo, follow the case with its
//! code and follow token, rate it after closure. No login; every call that writes is counted on
//! the citizens' per-address quota (429 `rate_limited`).
//!
//! Privacy: the follow answer carries no personal data — no names, no contacts, no comments
//! (staff write names into them), no description — only the status in plain words, the public
//! timeline (when, which step) and the before/after thumbnails. An unknown code and a wrong
//! token are one and the same 404, so a bare sequential code reveals nothing.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use cityops_app::PublicReceipt;
use cityops_domain::case::{Case, CaseEvent, CaseStatus};
use cityops_domain::limits;
use cityops_store::NewAttachment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::attachments::{
    MULTIPART_OVERHEAD, evidence_error, multipart_rejection, read_upload, serve_file, too_large,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::state::AppState;

/// The header a follow token may come in (instead of `?token=`).
pub const FOLLOW_TOKEN_HEADER: &str = "x-follow-token";

/// The public routes. The photo upload lifts the server-wide body limit and counts itself.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(public_upload))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(public_report))
        .routes(routes!(followed_case))
        .routes(routes!(rate_followed_case))
        .routes(routes!(followed_photo))
}

/// `POST /api/v1/public/reports`: a citizen's report without an account (匿名上报).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PublicReportRequest {
    /// Longitude of the problem.
    #[schema(minimum = -180.0, maximum = 180.0, example = 114.415)]
    pub lng: f64,
    #[schema(minimum = -90.0, maximum = 90.0, example = 23.085)]
    pub lat: f64,
    /// `wgs84` (default, also CGCS2000) or `gcj02` (what phones' map apps give).
    #[schema(value_type = Option<crate::wire::CrsName>)]
    pub crs: Option<String>,
    /// What is wrong (问题描述). A report needs a description or a photo.
    pub description: String,
    /// 5-digit category code, if the citizen picked one (optional).
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    /// `component` or `matter`: needed when the code names a category of each kind.
    #[schema(value_type = Option<crate::wire::CategoryKindName>)]
    pub category_kind: Option<cityops_domain::CategoryKind>,
    pub address: Option<String>,
    /// The citizen's name (optional; shown masked to most staff).
    pub name: Option<String>,
    /// The citizen's phone (optional; shown masked to most staff).
    pub phone: Option<String>,
    /// Public ids of photos uploaded with `POST /api/v1/public/attachments`.
    #[schema(value_type = Vec<crate::wire::AttachmentId>)]
    pub attachments: Vec<String>,
}

impl PublicReportRequest {
    /// Checks the fields the document declares (the service checks the rest).
    fn check(&self) -> Result<(), ApiError> {
        use crate::wire::{CrsName, is_attachment_id, is_category_code};
        if !(-180.0..=180.0).contains(&self.lng) || !(-90.0..=90.0).contains(&self.lat) {
            return Err(ApiError::invalid_value(
                "lng must lie in [-180, 180] and lat in [-90, 90]",
            ));
        }
        if let Some(c) = &self.crs
            && !CrsName::values().contains(&c.as_str())
        {
            return Err(ApiError::invalid_value(format!(
                "crs {c:?}: expected wgs84, cgcs2000 or gcj02"
            )));
        }
        if let Some(c) = &self.category_code
            && !is_category_code(c)
        {
            return Err(ApiError::invalid_value(format!(
                "category_code {c:?}: expected 5 digits"
            )));
        }
        if let Some(id) = self.attachments.iter().find(|id| !is_attachment_id(id)) {
            return Err(ApiError::invalid_value(format!(
                "attachments: {id:?} is not a photo id (a UUID)"
            )));
        }
        let too_long = |e| ApiError::from(cityops_app::ServiceError::TooLong(e));
        if let Some(n) = &self.name {
            limits::PERSON_NAME.check(n).map_err(too_long)?;
        }
        if let Some(p) = &self.phone {
            limits::PHONE.check(p).map_err(too_long)?;
        }
        Ok(())
    }

    /// The contact kept with the case: name and phone in one field, as staff know it.
    fn contact(&self) -> Option<String> {
        let parts: Vec<&str> = [self.name.as_deref(), self.phone.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The answer to an anonymous report: the code and the follow token, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicReceiptView {
    /// The case code (案件编号).
    #[schema(example = "2026112200001")]
    pub code: String,
    /// The follow token (查询凭证): 32 hex digits. Shown only now; the server keeps its hash.
    #[schema(example = "3f1c9a0e5b7d2c4f8a6e1b0d9c7f5a3e")]
    pub token: String,
    #[schema(value_type = crate::wire::CaseStatusName)]
    pub status: CaseStatus,
    /// Where to follow the case (the token goes in `?token=` or `X-Follow-Token`).
    #[schema(example = "/api/v1/public/cases/2026112200001")]
    pub follow_url: String,
}

impl From<&PublicReceipt> for PublicReceiptView {
    fn from(r: &PublicReceipt) -> Self {
        Self {
            code: r.case.case.code.clone(),
            token: r.token.clone(),
            status: r.case.case.status,
            follow_url: format!("/api/v1/public/cases/{}", r.case.case.code),
        }
    }
}

/// One step of the public timeline: when, which step, the status after it — no names, no
/// comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicStepView {
    pub at: DateTime<Utc>,
    /// The action (`report`, `file`, `dispatch`, `handle`, `close`, `rate` …).
    #[schema(example = "dispatch")]
    pub action: String,
    #[schema(value_type = crate::wire::CaseStatusName)]
    pub status: CaseStatus,
    /// The status in plain Chinese words (已派遣 …).
    #[schema(example = "已派遣")]
    pub status_name: String,
}

/// A followed case's progress, without personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicCaseView {
    #[schema(example = "2026112200001")]
    pub code: String,
    #[schema(value_type = crate::wire::CaseStatusName)]
    pub status: CaseStatus,
    /// The status in plain Chinese words (处置中 …).
    #[schema(example = "处置中")]
    pub status_name: String,
    /// 5-digit category code, once known.
    #[schema(value_type = Option<crate::wire::CategoryCode>)]
    pub category_code: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The citizen's rating (1–5), once given.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
    /// Whether the case may be rated now (closed, not yet rated).
    pub can_rate: bool,
    pub timeline: Vec<PublicStepView>,
    /// Thumbnails of the photos reported with the case (before).
    pub before_photos: Vec<String>,
    /// Thumbnails of the photos of the handling (after).
    pub after_photos: Vec<String>,
}

impl PublicStepView {
    /// The step as a public note in plain Chinese (`派遣：已派遣`, `结案：已结案`): what Open311
    /// answers as `status_notes` and as the notes of a request's history.
    pub fn note(&self) -> String {
        format!("{}：{}", step_name_zh(&self.action), self.status_name)
    }
}

/// The name of a step of the public timeline in plain Chinese: the case action's (派遣, 结案 …),
/// 上报 for the report, the deadline watcher's marks as 即将超时 and 已超时.
pub fn step_name_zh(action: &str) -> &'static str {
    match action {
        "report" => "上报",
        "light_yellow" => "即将超时",
        "overdue" => "已超时",
        other => other
            .parse::<cityops_domain::case::CaseAction>()
            .map_or("处理", |a| a.name_zh()),
    }
}

/// The public timeline of a case (公开进度): when, which step, the status after it — no actors,
/// no comments (staff write names into them), no photos. What the follow view and Open311 show.
pub fn public_timeline(events: &[CaseEvent]) -> Vec<PublicStepView> {
    events
        .iter()
        .map(|e| PublicStepView {
            at: e.event.at,
            action: e.event.action.clone(),
            status: e.event.to_status,
            status_name: e.event.to_status.name_zh().to_string(),
        })
        .collect()
}

/// Builds the public view of a followed case: thumbnails by public id, reported photos before,
/// handling photos after.
pub fn public_case_view(
    case: &Case,
    events: &[CaseEvent],
    public_ids: &std::collections::HashMap<i64, String>,
) -> PublicCaseView {
    let photos = |actions: &[&str]| -> Vec<String> {
        events
            .iter()
            .filter(|e| actions.contains(&e.event.action.as_str()))
            .flat_map(|e| e.event.attachments.iter())
            .filter_map(|id| public_ids.get(id))
            .map(|p| format!("/api/v1/public/cases/{}/photos/{p}", case.code))
            .collect()
    };
    PublicCaseView {
        code: case.code.clone(),
        status: case.status,
        status_name: case.status.name_zh().to_string(),
        category_code: case.category_code.clone(),
        reported_at: case.created_at,
        updated_at: case.updated_at,
        closed_at: case.closed_at,
        rating: case.rating,
        can_rate: case.status == CaseStatus::Closed && case.rating.is_none(),
        timeline: public_timeline(events),
        before_photos: photos(&["report"]),
        after_photos: photos(&["handle"]),
    }
}

/// The answer to a photo upload: the id to cite in the report's `attachments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicPhotoView {
    #[schema(value_type = crate::wire::AttachmentId)]
    pub id: String,
}

/// The follow token, as a query parameter (or in the `X-Follow-Token` header).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TokenParam {
    /// The follow token of the anonymous report (32 hex digits).
    token: Option<String>,
}

/// The follow token from the query, else from the header.
fn token_of(q: &TokenParam, headers: &HeaderMap) -> String {
    q.token
        .clone()
        .or_else(|| {
            headers
                .get(FOLLOW_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// 匿名上报: reports a problem without an account. Filed as a citizen report (located,
/// duplicate-checked, routed); the name and phone, if given, are kept as the case's contact
/// (masked for most staff). Answers the case code and a follow token, shown only this once.
#[utoipa::path(
    post,
    path = "/api/v1/public/reports",
    tag = "public",
    request_body = PublicReportRequest,
    responses(
        (status = 201, body = PublicReceiptView),
        (status = 422, description = "`outside_city`, `invalid_value` (category, photos, point, no description nor photo) or `too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many reports from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next report is taken"))),
    )
)]
pub(crate) async fn public_report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<PublicReportRequest>,
) -> ApiResult<(StatusCode, axum::Json<PublicReceiptView>)> {
    body.check()?;
    let req = cityops_app::ReportRequest {
        lng: Some(body.lng),
        lat: Some(body.lat),
        crs: body.crs.clone(),
        description: body.description.clone(),
        category_code: body.category_code.clone(),
        category_kind: body.category_kind,
        address: body.address.clone(),
        contact: body.contact(),
        attachments: body.attachments.clone(),
        client_address: Some(ip).filter(|ip| ip != "unknown"),
        ..cityops_app::ReportRequest::default()
    };
    let receipt = state.app.report_public(req).await?;
    tracing::info!(case = %receipt.case.case.code, "anonymous report filed");
    Ok((
        StatusCode::CREATED,
        axum::Json(PublicReceiptView::from(&receipt)),
    ))
}

/// 匿名上传照片: one photo (JPEG, PNG or WebP) in the multipart field `file`, for an anonymous
/// report; metadata removed, size-limited and counted on the per-address quota.
#[utoipa::path(
    post,
    path = "/api/v1/public/attachments",
    tag = "public",
    request_body(content = super::attachments::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = PublicPhotoView),
        (status = 413, description = "`payload_too_large`: over `max_upload_bytes`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not multipart, or not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 422, description = "`invalid_value`: no `file` field, another field, a damaged image", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next upload is taken"))),
    )
)]
pub(crate) async fn public_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, axum::Json<PublicPhotoView>)> {
    let max_file = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_file.saturating_add(MULTIPART_OVERHEAD) as u64) {
        return Err(too_large(max_file));
    }
    state
        .app
        .check_public_address(Some(ip.as_str()).filter(|ip| *ip != "unknown"))?;
    let multipart = multipart.map_err(multipart_rejection)?;
    let (bytes, file_name) = read_upload(multipart, max_file).await?;
    let evidence = state.evidence().clone();
    let stored = tokio::task::spawn_blocking(move || evidence.store(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(evidence_error)?;
    let reporter = state.app.public_reporter().await?;
    let record = NewAttachment {
        sha256: stored.sha256,
        mime: stored.mime.to_string(),
        bytes: i64::try_from(stored.bytes).unwrap_or(i64::MAX),
        width: i32::try_from(stored.width).unwrap_or(i32::MAX),
        height: i32::try_from(stored.height).unwrap_or(i32::MAX),
        thumb_sha256: stored.thumb_sha256,
        uploaded_by: reporter.id,
        created_at: state.clock.now(),
        file_name,
    };
    let saved = state.store.create_attachment(&record).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PublicPhotoView {
            id: saved.public_id,
        }),
    ))
}

/// The followed case and its public view.
async fn followed(state: &AppState, code: &str, token: &str) -> ApiResult<PublicCaseView> {
    let (case, events) = state.app.followed_case(code, token).await?;
    let ids = state.app.attachment_public_ids(case.id).await?;
    Ok(public_case_view(&case, &events, &ids))
}

/// 进度查询: a case followed by its code and follow token (`?token=` or `X-Follow-Token`):
/// the status in plain words, the public timeline and the before/after thumbnails, no personal
/// data. An unknown code and a wrong or missing token are the same 404.
#[utoipa::path(
    get,
    path = "/api/v1/public/cases/{code}",
    tag = "public",
    params(
        ("code" = String, Path, description = "The case code (13 digits)", example = "2026112200001"),
        TokenParam,
        ("X-Follow-Token" = Option<String>, Header, description = "The follow token, instead of `?token=`"),
    ),
    responses(
        (status = 200, body = PublicCaseView),
        (status = 404, description = "`not_found`: no case with this code and token (one answer)", body = ErrorBody),
    )
)]
pub(crate) async fn followed_case(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<TokenParam>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PublicCaseView>> {
    let token = token_of(&q, &headers);
    Ok(axum::Json(followed(&state, &code, &token).await?))
}

/// `POST /api/v1/public/cases/{code}/rating`: the citizen's rating of the closed case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicRatingBody {
    /// The follow token of the anonymous report (32 hex digits).
    #[schema(
        pattern = "^[0-9A-Fa-f]{32}$",
        example = "3f1c9a0e5b7d2c4f8a6e1b0d9c7f5a3e"
    )]
    pub token: String,
    /// 1 (very unsatisfied) to 5 (very satisfied). An integer; JSON's `2.0` is the integer 2.
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "whole_score")]
    pub score: u8,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A score as JSON Schema reads an integer: `4` and `4.0` alike; anything else (a fraction,
/// out of 0–255) is a deserialisation error (422 `invalid_value`).
fn whole_score<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = f64::deserialize(d)?;
    if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
        Ok(v as u8)
    } else {
        Err(serde::de::Error::custom(format!(
            "score {v}: expected a whole number 1 to 5"
        )))
    }
}

/// 评价: rates a closed case with its follow token, once (the case machine's `rate`, appended to
/// the audit chain). 409 `invalid_transition` before closure and after a rating.
#[utoipa::path(
    post,
    path = "/api/v1/public/cases/{code}/rating",
    tag = "public",
    params(("code" = String, Path, description = "The case code (13 digits)", example = "2026112200001")),
    request_body = PublicRatingBody,
    responses(
        (status = 200, body = PublicCaseView),
        (status = 404, description = "`not_found`: no case with this code and token (one answer)", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: not closed yet, or rated already", body = ErrorBody),
    )
)]
pub(crate) async fn rate_followed_case(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PublicRatingBody>,
) -> ApiResult<axum::Json<PublicCaseView>> {
    if body.token.len() != 32 || !body.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid_value(
            "token: expected the 32 hex digits of the follow token",
        ));
    }
    if !(1..=5).contains(&body.score) {
        return Err(ApiError::invalid_value(format!(
            "score {}: expected 1 to 5",
            body.score
        )));
    }
    state
        .app
        .rate_followed(&code, &body.token, body.score, body.comment.clone())
        .await?;
    Ok(axum::Json(followed(&state, &code, &body.token).await?))
}

/// 照片: the thumbnail of a photo of a followed case (code and token as for the case).
#[utoipa::path(
    get,
    path = "/api/v1/public/cases/{code}/photos/{id}",
    tag = "public",
    params(
        ("code" = String, Path, description = "The case code (13 digits)", example = "2026112200001"),
        ("id" = crate::wire::AttachmentId, Path, description = "The photo's public id"),
        TokenParam,
        ("X-Follow-Token" = Option<String>, Header, description = "The follow token, instead of `?token=`"),
    ),
    responses(
        (status = 200, description = "The JPEG thumbnail", content_type = "image/jpeg"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "`not_found`: no such case, token or photo of the case (one answer); `evidence_missing`", body = ErrorBody),
    )
)]
pub(crate) async fn followed_photo(
    State(state): State<AppState>,
    ApiPath((code, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TokenParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = token_of(&q, &headers);
    let (case, _) = state.app.followed_case(&code, &token).await?;
    let a = state
        .store
        .case_attachments(case.id)
        .await?
        .into_iter()
        .find(|a| a.public_id == id)
        .ok_or_else(|| ApiError::not_found("No such photo of this case."))?;
    let name = format!("photo-{}.jpg", a.public_id);
    serve_file(&state, &headers, &a, true, name).await
}
