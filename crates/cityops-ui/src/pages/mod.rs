//! The pages of the console.
pub(crate) mod cases;
pub(crate) mod cases_detail;
pub(crate) mod catalogue;
pub(crate) mod components;
pub(crate) mod evaluation;
pub(crate) mod login;
pub(crate) mod map;
pub(crate) mod monitoring;
pub(crate) mod monitoring_alarms;
pub(crate) mod monitoring_rules;
pub(crate) mod objects;
pub(crate) mod open311;
pub(crate) mod org;
pub(crate) mod overview;
pub(crate) mod phone;
pub(crate) mod phone_objects;
pub(crate) mod phone_places;
pub(crate) mod regions;
pub(crate) mod reports;
pub(crate) mod reviews;
pub(crate) mod screen;
pub(crate) mod versions;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::layout::{Layout, Section};

/// Renders a template as an HTML response that is never cached (pages show private data).
pub(crate) fn render<T: Template>(
    status: StatusCode,
    tpl: &T,
    lang: crate::Lang,
) -> Result<Response, PageError> {
    let body = tpl.render().lang(lang)?;
    let mut resp = (status, Html(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A page that explains a 4xx status (forbidden, not found, bad filter) inside the usual chrome.
#[derive(Template)]
#[template(path = "status.html")]
pub(crate) struct StatusPage {
    pub l: Layout,
    pub status: u16,
    pub heading: String,
    pub text: String,
}

pub(crate) async fn status_page(
    st: &UiState,
    ctx: &Ctx,
    status: StatusCode,
    section: Section,
    heading: &str,
    text: &str,
) -> Result<Response, PageError> {
    let l = Layout::new(st, ctx, section, heading).await;
    render(
        status,
        &StatusPage {
            l,
            status: status.as_u16(),
            heading: heading.to_string(),
            text: text.to_string(),
        },
        ctx.lang,
    )
}

/// A number from a query value; `None` when absent or malformed.
/// 303 to `to`, never cached: where a console form lands after its `POST`.
pub(crate) fn see_other(to: &str) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn num<T: std::str::FromStr>(s: &Option<String>) -> Option<T> {
    s.as_deref().and_then(|s| s.trim().parse().ok())
}

/// JSON for a `<script type="application/json">` block: `<` is escaped so the text cannot close
/// the element.
pub(crate) fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}
