//! Evidence photos (证据照片): upload (multipart), then download the stripped photo or its thumbnail
//! (缩略图).
//!
//! Uploads are recognised by content (JPEG, PNG, WebP), stripped of EXIF/XMP (GPS, camera serial
//! numbers), checked to decode, thumbnailed and stored on disk by content hash
//! ([`cityops_evidence::EvidenceStore`], on the blocking pool: decoding is CPU work); the record
//! goes to the store. A report or action cites the returned `id` in its `attachments`, which links
//! the photo to the case.
//!
//! Ids: a photo is named everywhere by its public id, a random UUID (never the row id), so ids
//! cannot be found by counting; "no such photo" and "not yours" are one answer (404, same code
//! and message). A photo whose file has gone from the evidence directory is 404
//! `evidence_missing` (logged with the photo and case), never 500; `cityops check` lists them.
//!
//! Body limit: this route alone lifts the server-wide JSON body limit ([`DefaultBodyLimit`]) and
//! counts the multipart body itself — at most `max_upload_bytes` for the file and
//! `max_upload_bytes` + [`MULTIPART_OVERHEAD`] for the whole request, so the limit follows the
//! configuration and a too-large upload is refused as soon as it passes the limit (413).
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use cityops_domain::case::CaseVisibility;
use cityops_evidence::{EvidenceError, ImageFormat, THUMB_MIME};
use cityops_store::{Attachment, NewAttachment};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiPath, CurrentUser};
use crate::state::AppState;

/// Room for the multipart boundaries, part headers and small extra fields around the file.
pub(crate) const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// How long browsers may keep a downloaded photo (private caches only: access is per user).
const CACHE_CONTROL: &str = "private, max-age=86400";
/// Longest kept original file name (characters).
const MAX_FILE_NAME: usize = 200;

/// The evidence routes. The upload route lifts the server-wide body limit and counts itself.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(upload_attachment))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(get_attachment))
        .routes(routes!(get_thumbnail))
}

/// A stored evidence photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct AttachmentView {
    /// The public id (a random UUID): what reports and actions cite in `attachments`.
    #[schema(value_type = crate::wire::AttachmentId)]
    pub id: String,
    /// SHA-256 (hex) of the stored, metadata-free photo.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// `image/jpeg`, `image/png` or `image/webp` (recognised from the content).
    #[schema(example = "image/jpeg")]
    pub mime: String,
    /// Size of the stored photo in bytes.
    pub bytes: i64,
    /// Width and height as displayed (EXIF orientation applied).
    pub width: i32,
    pub height: i32,
    /// Where to download the photo.
    #[schema(example = "/api/v1/attachments/0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07")]
    pub url: String,
    /// Where to download the JPEG thumbnail (at most 320 px).
    #[schema(example = "/api/v1/attachments/0193a4c2-5f10-7c3e-9a41-3f2d8e6b1c07/thumb")]
    pub thumb_url: String,
    /// The case it is linked to (by a report, an action or a third-party review), if any.
    pub case_id: Option<i64>,
    pub file_name: Option<String>,
    pub uploaded_by: i64,
    pub created_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        let n = a.attachment;
        Self {
            url: format!("/api/v1/attachments/{}", a.public_id),
            thumb_url: format!("/api/v1/attachments/{}/thumb", a.public_id),
            id: a.public_id,
            sha256: n.sha256,
            mime: n.mime,
            bytes: n.bytes,
            width: n.width,
            height: n.height,
            case_id: a.case_id,
            file_name: n.file_name,
            uploaded_by: n.uploaded_by,
            created_at: n.created_at,
        }
    }
}

/// The multipart form of an upload (documentation only): one field, `file`.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct UploadForm {
    /// The photo: JPEG, PNG or WebP, recognised by content (the name and declared type are
    /// ignored).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

pub(super) fn too_large(max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The photo is larger than the limit of {max} bytes."),
    )
}

pub(super) fn multipart_rejection(r: MultipartRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(ErrorCode::PayloadTooLarge, r.body_text()),
        _ => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Expected a `multipart/form-data` request with the photo in the field `file`.",
        ),
    }
}

fn multipart_error(e: MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(ErrorCode::PayloadTooLarge, e.body_text()),
        s if s.is_server_error() => ApiError::internal(e.body_text()),
        _ => ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text())),
    }
}

/// The last path segment of a client's file name, without control characters, at most
/// [`MAX_FILE_NAME`] characters; `None` when nothing is left.
fn clean_file_name(name: Option<&str>) -> Option<String> {
    let name = name?.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_string())
}

/// Reads the one `file` field, counting every byte of the body: the file may have `max_file`
/// bytes, the whole body `max_file` + [`MULTIPART_OVERHEAD`]. Any other field is 422, as the
/// document's form has `file` only.
pub(super) async fn read_upload(
    mut mp: Multipart,
    max_file: usize,
) -> ApiResult<(Vec<u8>, Option<String>)> {
    let max_total = max_file.saturating_add(MULTIPART_OVERHEAD);
    let mut total = 0usize;
    let mut file: Option<(Vec<u8>, Option<String>)> = None;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let is_file = field.name() == Some("file");
        if !is_file {
            return Err(ApiError::invalid_value(format!(
                "Unknown multipart field {:?}: send the photo alone, in the field `file`.",
                field.name().unwrap_or("")
            )));
        }
        if file.is_some() {
            return Err(ApiError::invalid_value(
                "Send one photo per request (one `file` field).",
            ));
        }
        let name = if is_file {
            clean_file_name(field.file_name())
        } else {
            None
        };
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            total = total.saturating_add(chunk.len());
            if is_file {
                if buf.len() + chunk.len() > max_file {
                    return Err(too_large(max_file));
                }
                buf.extend_from_slice(&chunk);
            }
            if total > max_total {
                return Err(too_large(max_file));
            }
        }
        if is_file {
            file = Some((buf, name));
        }
    }
    file.ok_or_else(|| {
        ApiError::invalid_value("The multipart field `file` (the photo) is missing.")
    })
}

pub(super) fn evidence_error(e: EvidenceError) -> ApiError {
    match e {
        EvidenceError::TooLarge { max } => too_large(max),
        EvidenceError::UnsupportedType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "The file is not a JPEG, PNG or WebP image.",
        ),
        EvidenceError::Corrupt(why) => {
            ApiError::invalid_value(format!("The image is damaged or truncated: {why}"))
        }
        EvidenceError::TooManyPixels => ApiError::invalid_value(
            "The image has too many pixels (width × height is over the limit).",
        ),
        e @ (EvidenceError::InvalidHash | EvidenceError::Io(_)) => {
            ApiError::internal(format_args!("evidence store: {e}"))
        }
    }
}

/// 上传证据照片: one photo in the multipart field `file` → 201 with its record.
///
/// JPEG, PNG and WebP are recognised by their content; EXIF/XMP metadata (GPS position, camera)
/// is removed losslessly, the photo must decode, and a JPEG thumbnail is made. Any logged-in user.
/// Cite the `id` in a report's or an action's `attachments` to link it to the case.
#[utoipa::path(
    post,
    path = "/api/v1/attachments",
    tag = "evidence",
    security(("bearer" = []), ("cookie" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; `Location` names the photo", body = AttachmentView),
        (status = 400, description = "`bad_request`: malformed multipart body", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over `max_upload_bytes` (default 10 MiB)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not multipart, or not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 422, description = "`invalid_value`: no `file` field, two of them, another field, a damaged image or too many pixels", body = ErrorBody),
    )
)]
pub(crate) async fn upload_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let max_file = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_file.saturating_add(MULTIPART_OVERHEAD) as u64) {
        return Err(too_large(max_file));
    }
    let multipart = multipart.map_err(multipart_rejection)?;
    let (bytes, file_name) = read_upload(multipart, max_file).await?;
    let evidence = state.evidence().clone();
    let stored = tokio::task::spawn_blocking(move || evidence.store(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(evidence_error)?;
    let record = NewAttachment {
        sha256: stored.sha256,
        mime: stored.mime.to_string(),
        bytes: i64::try_from(stored.bytes).unwrap_or(i64::MAX),
        width: i32::try_from(stored.width).unwrap_or(i32::MAX),
        height: i32::try_from(stored.height).unwrap_or(i32::MAX),
        thumb_sha256: stored.thumb_sha256,
        uploaded_by: user.0.id,
        created_at: state.clock.now(),
        file_name,
    };
    let saved = state.store.create_attachment(&record).await?;
    tracing::info!(attachment = %saved.public_id, user = user.0.id, bytes = record.bytes,
        mime = %record.mime, "evidence photo stored");
    let view = AttachmentView::from(saved);
    let mut resp = (StatusCode::CREATED, axum::Json(&view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&view.url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// The one answer for a photo that does not exist and for one the user may not see.
fn no_such_attachment() -> ApiError {
    ApiError::not_found("No such attachment.")
}

/// The attachment if the user may see it: they uploaded it, it is linked to a case they can
/// see, or a check of an object they can see holds it. Anything else — an unknown or malformed id included — is the same 404, as if it did not
/// exist.
async fn visible_attachment(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<Attachment> {
    if !crate::wire::is_attachment_id(id) {
        return Err(no_such_attachment());
    }
    let a = state
        .store
        .attachments_by_public_id(&[id.to_string()])
        .await?
        .into_iter()
        .find(|a| a.public_id == id)
        .ok_or_else(no_such_attachment)?;
    if a.attachment.uploaded_by == user.0.id {
        return Ok(a);
    }
    if let Some(case_id) = a.case_id
        && state
            .store
            .get_case(case_id, &CaseVisibility::for_user(&user.0))
            .await?
            .is_some()
    {
        return Ok(a);
    }
    // A photo of a 码上办 check: whoever may see its object.
    if state.objects.may_see_check_photo(&user.0, a.id).await? {
        return Ok(a);
    }
    Err(no_such_attachment())
}

fn format_of(mime: &str) -> Option<ImageFormat> {
    [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp]
        .into_iter()
        .find(|f| f.mime() == mime)
}

/// Whether `If-None-Match` names this entity tag (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// A photo's file could not be served: gone from the evidence directory (404 `evidence_missing`,
/// logged as a warning) or no longer matching its hash (the same answer, logged as an error: the
/// stored evidence was altered). Other failures are internal.
fn evidence_file_error(a: &Attachment, sha256: &str, thumb: bool, e: EvidenceError) -> ApiError {
    let case = a.case_id;
    match e {
        EvidenceError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(attachment = %a.public_id, case_id = ?case, sha256, thumb,
                "evidence file missing");
            ApiError::of(ErrorCode::EvidenceMissing)
        }
        EvidenceError::Corrupt(_) => {
            tracing::error!(attachment = %a.public_id, case_id = ?case, sha256, thumb,
                "evidence file does not match its hash");
            ApiError::new(
                ErrorCode::EvidenceMissing,
                "The file of this evidence photo is damaged on the server.",
            )
        }
        other => ApiError::internal(format_args!("evidence file {sha256}: {other}")),
    }
}

/// Answers the photo's file (or its thumbnail), verified against its hash, as `mime`.
pub(super) async fn serve_file(
    state: &AppState,
    headers: &HeaderMap,
    a: &Attachment,
    thumb: bool,
    download_name: String,
) -> ApiResult<Response> {
    let (sha256, mime) = if thumb {
        (a.attachment.thumb_sha256.clone(), THUMB_MIME)
    } else {
        (a.attachment.sha256.clone(), a.attachment.mime.as_str())
    };
    let etag = format!("\"{sha256}\"");
    let mut resp = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let format = if thumb {
            None
        } else {
            Some(format_of(mime).ok_or_else(|| {
                ApiError::internal(format_args!("attachment with unknown mime {mime}"))
            })?)
        };
        let evidence = state.evidence().clone();
        let sha = sha256.clone();
        let bytes = tokio::task::spawn_blocking(move || match format {
            Some(f) => evidence.read(&sha, f),
            None => evidence.read_thumb(&sha),
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| evidence_file_error(a, &sha256, thumb, e))?;
        let mut resp = bytes.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(mime).map_err(ApiError::internal)?,
        );
        if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{download_name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        resp
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

/// 下载证据照片: the stored photo (metadata removed), with its MIME type.
///
/// Allowed for the uploader and for users who can see the case it is linked to; 404 otherwise.
/// Supports `If-None-Match` (the `ETag` is the SHA-256).
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    tag = "evidence",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = crate::wire::AttachmentId, Path, description = "The photo's public id")),
    responses(
        (status = 200, description = "The photo, in the type it was uploaded as", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such attachment, or not visible to you (one answer); `evidence_missing`: its file is gone from the server", body = ErrorBody),
    )
)]
pub(crate) async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let a = visible_attachment(&state, &user, &id).await?;
    let ext = format_of(&a.attachment.mime).map_or("bin", ImageFormat::extension);
    let name = format!("attachment-{}.{ext}", a.public_id);
    serve_file(&state, &headers, &a, false, name).await
}

/// 缩略图: the JPEG thumbnail (at most 320 × 320) of a photo; same access as the photo.
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}/thumb",
    tag = "evidence",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = crate::wire::AttachmentId, Path, description = "The photo's public id")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such attachment, or not visible to you (one answer); `evidence_missing`: its file is gone from the server", body = ErrorBody),
    )
)]
pub(crate) async fn get_thumbnail(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let a = visible_attachment(&state, &user, &id).await?;
    let name = format!("attachment-{}-thumb.jpg", a.public_id);
    serve_file(&state, &headers, &a, true, name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_file_name(None), None);
        assert_eq!(clean_file_name(Some("")), None);
        assert_eq!(
            clean_file_name(Some("C:\\Users\\x\\IMG_0001.JPG")).as_deref(),
            Some("IMG_0001.JPG")
        );
        assert_eq!(
            clean_file_name(Some("../../etc/passwd")).as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_file_name(Some("井盖\n照片.jpg")).as_deref(),
            Some("井盖照片.jpg")
        );
        assert_eq!(clean_file_name(Some("dir/")), None);
        let long = "a".repeat(500);
        assert_eq!(
            clean_file_name(Some(&long)).map(|s| s.chars().count()),
            Some(MAX_FILE_NAME)
        );
    }

    #[test]
    fn entity_tags() {
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, "\"abc\""));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(not_modified(&h, "\"abc\""));
        assert!(!not_modified(&h, "\"abd\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(not_modified(&h, "\"abd\""));
    }

    #[test]
    fn mime_types_map_back_to_formats() {
        assert_eq!(format_of("image/jpeg"), Some(ImageFormat::Jpeg));
        assert_eq!(format_of("image/png"), Some(ImageFormat::Png));
        assert_eq!(format_of("image/webp"), Some(ImageFormat::Webp));
        assert_eq!(format_of("text/plain"), None);
    }

    #[test]
    fn evidence_errors_map_to_stable_codes() {
        assert_eq!(
            evidence_error(EvidenceError::TooLarge { max: 10 }).code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            evidence_error(EvidenceError::UnsupportedType).code,
            ErrorCode::UnsupportedMediaType
        );
        assert_eq!(
            evidence_error(EvidenceError::Corrupt("eof".into())).code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            evidence_error(EvidenceError::TooManyPixels).code,
            ErrorCode::InvalidValue
        );
        let internal = evidence_error(EvidenceError::Io(std::io::Error::other("/srv/x")));
        assert_eq!(internal.code, ErrorCode::Internal);
        assert!(!internal.message.contains("/srv/x"));
    }
}
