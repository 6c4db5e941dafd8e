//! Failures of a page: logged, then shown as a plain page (or JSON for the console's JSON
//! endpoints) without internal details.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use cityops_store::StoreError;

use crate::i18n::Lang;

/// Why a page could not be produced.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UiError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

impl UiError {
    /// A stand-alone error page in the user's language (500, or 503 for a store that is down).
    pub fn page(&self, lang: Lang) -> Response {
        tracing::error!(error = %self, "console page failed");
        let t = lang.tr();
        let status = match self {
            UiError::Store(StoreError::Database(_)) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{} · {}</title><link rel=\"stylesheet\" href=\"{}\"></head><body class=\"bare\"><main class=\"error-box\"><h1>{}</h1><p>{}</p><p><a href=\"/\">{}</a></p></main></body></html>",
            lang.html(),
            t.error_title,
            t.platform,
            crate::assets::url("app.css"),
            t.error_title,
            t.error_text,
            t.back_home
        );
        let mut resp = (status, Html(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }

    /// The API's JSON error shape.
    pub fn json(&self) -> Response {
        match self {
            UiError::Store(e) => cityops_web::ApiError::from(clone_store_error(e)).into_response(),
            other => cityops_web::ApiError::internal(other).into_response(),
        }
    }
}

fn clone_store_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
        StoreError::Database(m) => StoreError::Database(m.clone()),
    }
}

/// Page handlers return `Result<Response, PageError>`: the error carries the language.
#[derive(Debug)]
pub(crate) struct PageError {
    pub lang: Lang,
    pub error: UiError,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.error.page(self.lang)
    }
}

/// Attaches the language to an error.
pub(crate) trait WithLang<T> {
    fn lang(self, lang: Lang) -> Result<T, PageError>;
}

impl<T, E: Into<UiError>> WithLang<T> for Result<T, E> {
    fn lang(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError {
            lang,
            error: e.into(),
        })
    }
}
