//! Open311 GeoReport v2 under `/open311/v2/` (公众诉求开放接口), read and write: `discovery`,
//! `services`, `services/{service_code}`, `requests` (GET and POST), `requests/{id}`,
//! `tokens/{token}` and mySociety's `servicerequestupdates` (GET), each with `.xml` or `.json`
//! (see [`format`] for the negotiation without a suffix), and the extensions `page`/`page_size`,
//! `extensions=true` (notes and `extended_attributes`) and `locale=en` (English service names).
//!
//! Outside the JSON API: the specification is its own contract (errors as `<errors>` / a JSON
//! array of `{code, description}`, HTTP 400/403/404/429), so these routes are not in the
//! OpenAPI document and bypass the API's `{code, message}` errors. A POST carries its API key in
//! the form (or the query), never a cookie, so the CSRF guard lets `/open311/v2/` through.
//!
//! Layers: handlers parse the form and the query, call [`cityops_app::Open311Service`] and build
//! the answer from [`view`]; the pure mapping (status, notes, services, attributes, windows)
//! is the domain's `cityops_domain::open311`.
pub mod format;
mod handlers;
mod view;

use axum::Router;
use axum::routing::get;

pub use format::{Doc, Format, Node, Open311Error};

use crate::state::AppState;

/// The interface's last change, as the discovery document states it.
pub const CHANGESET: &str = "2026-12-01T00:00:00+08:00";

/// The routes under `/open311/v2/`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{method}",
            get(handlers::get_method)
                .post(handlers::post_method)
                .fallback(handlers::not_allowed),
        )
        .route(
            "/open311/v2/{collection}/{item}",
            get(handlers::get_item).fallback(handlers::not_allowed),
        )
}
