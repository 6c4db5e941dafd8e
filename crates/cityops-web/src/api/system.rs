//! Health check.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::HealthView;

/// 健康检查: pings the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses(
        (status = 200, description = "Up", body = HealthView),
        (status = 503, description = "The database does not answer", body = HealthView),
    )
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let ping = state.store.ping().await;
    if let Err(e) = &ping {
        tracing::error!(error = %e, "health check: database unreachable");
    }
    let ok = ping.is_ok();
    let body = HealthView {
        status: if ok { "ok" } else { "unavailable" }.to_string(),
        backend: state.store.backend().to_string(),
        database: if ok { "ok" } else { "unreachable" }.to_string(),
        grids_indexed: state.index.grid_count(),
        time: state.clock.now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /metrics` — Prometheus text exposition (OpenMetrics).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses((status = 200, description = "Prometheus metrics (OpenMetrics text)", content_type = "application/openmetrics-text", body = String))
)]
pub(crate) async fn metrics_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
    // Cheap: at most one COUNT round per refresh interval; a failing store keeps the old gauges.
    if let Err(e) = state.cached_stats().await {
        tracing::warn!(error = %e, "store stats unavailable for /metrics");
    }
    state
        .metrics()
        .set_limiter_keys(state.shared.login_limiter.tracked_keys());
    let body = state.metrics().encode().map_err(ApiError::internal)?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}
