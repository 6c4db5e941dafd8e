//! The API's error codes: one table (code, HTTP status, default message), Meilisearch-style.
//!
//! Every error the server sends has the body `{"code": "snake_case_code", "message": "…"}`. The
//! codes are a stable contract: clients switch on `code`, never on `message`. Internal details
//! (SQL, file paths, panics) are logged, never sent.
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityops_app::ServiceError;
use cityops_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed (body or path).
    BadRequest,
    /// A query-string parameter is missing, malformed or out of range.
    InvalidQuery,
    /// The request body is not declared as JSON.
    UnsupportedMediaType,
    /// Login failed: unknown user or wrong password (deliberately not distinguished).
    InvalidCredentials,
    /// No valid session: not logged in, or the session expired or was revoked.
    Unauthenticated,
    /// Logged in, but the role or scope does not allow this.
    Forbidden,
    /// No such resource (or it lies outside the caller's scope).
    NotFound,
    /// `locate`: the point lies outside every district of the city.
    OutsideCity,
    /// The path exists but not with this method.
    MethodNotAllowed,
    /// A uniqueness conflict or an illegal state transition.
    Conflict,
    /// The request body is larger than the limit.
    PayloadTooLarge,
    /// Well-formed, but a value is not acceptable.
    InvalidValue,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// An unexpected server-side failure.
    Internal,
    /// A dependency (the database) is unavailable.
    ServiceUnavailable,
    /// The request took longer than the server's time limit.
    Timeout,
    /// A case action that is not possible in the case's current state; the body also carries
    /// `allowed_actions`.
    InvalidTransition,
    /// A state-changing request that a browser may have sent on another site's behalf: from
    /// another origin, or authenticated by the session cookie without the session's CSRF token.
    Csrf,
    /// An evidence photo's record exists but its file is missing (or damaged) on the server.
    EvidenceMissing,
    /// Replacing the responsibility matrix with no rules without `?allow_empty=true`.
    EmptyMatrix,
    /// A text is longer than its field allows (the message names the field and the limit; the
    /// limits are the `maxLength` of the document).
    TooLong,
    /// Too many expensive requests (text search, exports, counts) of one user at the same
    /// time; see `Retry-After`.
    TooManyConcurrent,
    /// An export with a row cap (XLSX) would hold more cases than the cap: narrow the filters.
    ExportTooLarge,
}

/// One row of the error table.
#[derive(Debug, Clone, Copy)]
pub struct ErrorSpec {
    pub code: ErrorCode,
    pub name: &'static str,
    pub status: StatusCode,
    pub message: &'static str,
}

/// The error table: every code the API can return, its HTTP status and its default message.
pub const ERROR_TABLE: [ErrorSpec; 23] = [
    spec(
        ErrorCode::BadRequest,
        "bad_request",
        StatusCode::BAD_REQUEST,
        "The request is malformed.",
    ),
    spec(
        ErrorCode::InvalidQuery,
        "invalid_query",
        StatusCode::BAD_REQUEST,
        "A query parameter is missing or invalid.",
    ),
    spec(
        ErrorCode::UnsupportedMediaType,
        "unsupported_media_type",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Expected a request with `Content-Type: application/json`.",
    ),
    spec(
        ErrorCode::InvalidCredentials,
        "invalid_credentials",
        StatusCode::UNAUTHORIZED,
        "Invalid username or password.",
    ),
    spec(
        ErrorCode::Unauthenticated,
        "unauthenticated",
        StatusCode::UNAUTHORIZED,
        "Login required.",
    ),
    spec(
        ErrorCode::Forbidden,
        "forbidden",
        StatusCode::FORBIDDEN,
        "You are not allowed to do this.",
    ),
    spec(
        ErrorCode::NotFound,
        "not_found",
        StatusCode::NOT_FOUND,
        "Not found.",
    ),
    spec(
        ErrorCode::OutsideCity,
        "outside_city",
        StatusCode::NOT_FOUND,
        "The point lies outside the city.",
    ),
    spec(
        ErrorCode::MethodNotAllowed,
        "method_not_allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not allowed on this path.",
    ),
    spec(
        ErrorCode::Conflict,
        "conflict",
        StatusCode::CONFLICT,
        "The request conflicts with the current state.",
    ),
    spec(
        ErrorCode::PayloadTooLarge,
        "payload_too_large",
        StatusCode::PAYLOAD_TOO_LARGE,
        "The request body is too large.",
    ),
    spec(
        ErrorCode::InvalidValue,
        "invalid_value",
        StatusCode::UNPROCESSABLE_ENTITY,
        "A value is invalid.",
    ),
    spec(
        ErrorCode::RateLimited,
        "rate_limited",
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests; try again later.",
    ),
    spec(
        ErrorCode::Internal,
        "internal",
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal server error.",
    ),
    spec(
        ErrorCode::ServiceUnavailable,
        "service_unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable.",
    ),
    spec(
        ErrorCode::Timeout,
        "timeout",
        StatusCode::SERVICE_UNAVAILABLE,
        "The request took too long.",
    ),
    spec(
        ErrorCode::InvalidTransition,
        "invalid_transition",
        StatusCode::CONFLICT,
        "This action is not possible in the case's current state.",
    ),
    spec(
        ErrorCode::Csrf,
        "csrf",
        StatusCode::FORBIDDEN,
        "Cross-site request refused: send it from this site with the session's CSRF token.",
    ),
    spec(
        ErrorCode::EvidenceMissing,
        "evidence_missing",
        StatusCode::NOT_FOUND,
        "The file of this evidence photo is missing on the server.",
    ),
    spec(
        ErrorCode::EmptyMatrix,
        "empty_matrix",
        StatusCode::UNPROCESSABLE_ENTITY,
        "The new responsibility matrix has no rules; add `?allow_empty=true` to empty it.",
    ),
    spec(
        ErrorCode::TooLong,
        "too_long",
        StatusCode::UNPROCESSABLE_ENTITY,
        "A text is longer than its field allows.",
    ),
    spec(
        ErrorCode::TooManyConcurrent,
        "too_many_concurrent",
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests of this kind at once; wait for one to finish.",
    ),
    spec(
        ErrorCode::ExportTooLarge,
        "export_too_large",
        StatusCode::UNPROCESSABLE_ENTITY,
        "The export would hold more cases than one file may; narrow the filters.",
    ),
];

const fn spec(
    code: ErrorCode,
    name: &'static str,
    status: StatusCode,
    message: &'static str,
) -> ErrorSpec {
    ErrorSpec {
        code,
        name,
        status,
        message,
    }
}

impl ErrorCode {
    pub fn spec(self) -> &'static ErrorSpec {
        // The table is ordered like the enum; the lookup falls back to a scan if that ever changes.
        let by_index = &ERROR_TABLE[self as usize];
        if by_index.code == self {
            by_index
        } else {
            ERROR_TABLE
                .iter()
                .find(|s| s.code == self)
                .unwrap_or(&ERROR_TABLE[ErrorCode::Internal as usize])
        }
    }
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }
    pub fn status(self) -> StatusCode {
        self.spec().status
    }
    pub fn default_message(self) -> &'static str {
        self.spec().message
    }

    /// The code used for a bare status produced outside our handlers (router 404/405, body
    /// limit 413, …).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidValue,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorCode::Timeout,
            s if s.is_client_error() => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `not_found`, `invalid_query`, `rate_limited`.
    #[schema(value_type = crate::wire::ErrorCodeName, example = "not_found")]
    pub code: String,
    /// Human-readable explanation (may change; do not parse).
    #[schema(example = "Not found.")]
    pub message: String,
    /// With `invalid_transition` only: the actions the caller may take on the case now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::wire::CaseActionName>>, example = json!(["dispatch", "return", "cancel"]))]
    pub allowed_actions: Option<Vec<String>>,
}

/// An error answered to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", .code.as_str())]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds, for `Retry-After` (429).
    pub retry_after: Option<u64>,
    /// With `invalid_transition`: the actions the caller may take now (sent in the body).
    pub allowed_actions: Option<Vec<String>>,
    /// A status other than the code's usual one, where the context makes it the better answer
    /// (e.g. 422 `outside_city` for a report located outside the city).
    pub status_override: Option<StatusCode>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            allowed_actions: None,
            status_override: None,
        }
    }
    /// 409 `invalid_transition` with the actions the caller may take now.
    pub fn invalid_transition(message: impl Into<String>, allowed: Vec<String>) -> Self {
        Self {
            allowed_actions: Some(allowed),
            ..Self::new(ErrorCode::InvalidTransition, message)
        }
    }
    /// The same error answered with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status_override = Some(status);
        self
    }
    /// The code with its default message.
    pub fn of(code: ErrorCode) -> Self {
        Self::new(code, code.default_message())
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidQuery, message)
    }
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidValue, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn unauthenticated() -> Self {
        Self::of(ErrorCode::Unauthenticated)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::of(ErrorCode::RateLimited)
        }
    }
    /// The error with a `Retry-After` of `secs` seconds.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
    /// 422 `too_long`, naming the field and its limit.
    pub fn too_long(t: &cityops_domain::limits::TooLong) -> Self {
        Self::new(ErrorCode::TooLong, t.to_string())
    }
    /// 429 `too_many_concurrent` with `Retry-After: 1`.
    pub fn too_many_concurrent() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::of(ErrorCode::TooManyConcurrent)
        }
    }
    /// An internal failure: the detail is logged here and replaced by the generic message. The
    /// detail may quote a client's input (a panic message, a database error): it is logged
    /// quoted and escaped (`?`), so it cannot start a log line of its own.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = ?detail.to_string(), "internal error");
        Self::of(ErrorCode::Internal)
    }
    pub fn status(&self) -> StatusCode {
        self.status_override.unwrap_or_else(|| self.code.status())
    }
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.as_str().to_string(),
            message: self.message.clone(),
            allowed_actions: self.allowed_actions.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::of(ErrorCode::NotFound),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            StoreError::Invalid(m) => ApiError::new(ErrorCode::InvalidValue, m),
            StoreError::Database(m) => ApiError::internal(format_args!("store: {m}")),
        }
    }
}

impl From<ServiceError> for ApiError {
    /// The case service's errors onto the table: not found 404, forbidden 403, invalid 422,
    /// invalid transition 409 (with the actor's `allowed_actions`), outside the city 422,
    /// a version conflict 409, store failures as [`StoreError`].
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(m) => ApiError::not_found(m),
            ServiceError::Forbidden(m) => ApiError::forbidden(m),
            ServiceError::Invalid(m) => ApiError::invalid_value(m),
            ServiceError::InvalidTransition { message, allowed } => ApiError::invalid_transition(
                message,
                allowed.iter().map(|a| a.as_str().to_string()).collect(),
            ),
            ServiceError::OutsideCity => ApiError::new(
                ErrorCode::OutsideCity,
                "The reported point lies outside the city.",
            )
            .with_status(StatusCode::UNPROCESSABLE_ENTITY),
            ServiceError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            ServiceError::EmptyMatrix => ApiError::of(ErrorCode::EmptyMatrix),
            ServiceError::TooLong(t) => ApiError::too_long(&t),
            ServiceError::RateLimited { retry_after_secs } => {
                ApiError::rate_limited(retry_after_secs)
            }
            e @ ServiceError::ExportTooLarge { .. } => {
                ApiError::new(ErrorCode::ExportTooLarge, e.to_string())
            }
            ServiceError::Store(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::JsonSyntaxError(_) => ErrorCode::BadRequest,
            JsonRejection::JsonDataError(_) => ErrorCode::InvalidValue,
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            other => match other.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
                _ => ErrorCode::BadRequest,
            },
        };
        ApiError::new(code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::invalid_query(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        match r.status() {
            s if s.is_server_error() => ApiError::internal(r.body_text()),
            _ => ApiError::bad_request(r.body_text()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_consistent() {
        let mut names = HashSet::new();
        for (i, s) in ERROR_TABLE.iter().enumerate() {
            assert_eq!(
                s.code as usize, i,
                "table order matches the enum at {}",
                s.name
            );
            assert!(names.insert(s.name), "duplicate code {}", s.name);
            assert!(
                s.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{} is snake_case",
                s.name
            );
            assert!(s.status.is_client_error() || s.status.is_server_error());
            assert_eq!(s.code.spec().name, s.name);
        }
    }

    #[test]
    fn store_errors_map_without_leaking() {
        let e = ApiError::from(StoreError::Database(
            "syntax error near SELECT at /var/lib/x".into(),
        ));
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(!e.message.contains("SELECT"));
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(StoreError::Conflict("username exists".into())).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(StoreError::Invalid("x".into())).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn status_fallbacks() {
        assert_eq!(
            ErrorCode::for_status(StatusCode::METHOD_NOT_ALLOWED).as_str(),
            "method_not_allowed"
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::IM_A_TEAPOT).as_str(),
            "bad_request"
        );
        assert_eq!(
            ErrorCode::for_status(StatusCode::BAD_GATEWAY).as_str(),
            "internal"
        );
        assert_eq!(ApiError::rate_limited(0).retry_after, Some(1));
    }

    #[test]
    fn invalid_transition_lists_the_allowed_actions() {
        let e = ApiError::invalid_transition("no", vec!["dispatch".into(), "cancel".into()]);
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["code"], "invalid_transition");
        assert_eq!(
            v["allowed_actions"],
            serde_json::json!(["dispatch", "cancel"])
        );
        // Other errors keep exactly `code` and `message`.
        let v = serde_json::to_value(ApiError::not_found("x").body()).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        let e = ApiError::of(ErrorCode::OutsideCity).with_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body().code, "outside_city");
    }
}
