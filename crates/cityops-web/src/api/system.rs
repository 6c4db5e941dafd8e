//! Health check and metrics. Both tell more than a stranger needs: `/metrics` answers only on
//! loopback or with the configured `metrics_token`; `/healthz` gives everyone else the status
//! alone.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::Role;

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::optional_user;
use crate::net::direct_loopback;
use crate::state::AppState;
use crate::views::HealthView;

/// 健康检查: pings the database. The status for everyone; backend, database, index size, time
/// and version only for administrators and callers on this machine.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses(
        (status = 200, description = "Up", body = HealthView),
        (status = 503, description = "The database does not answer", body = HealthView),
    )
)]
pub(crate) async fn healthz(State(state): State<AppState>, req: Request) -> Response {
    let ping = state.store.ping().await;
    if let Err(e) = &ping {
        tracing::error!(error = %e, "health check: database unreachable");
    }
    let ok = ping.is_ok();
    let insider = direct_loopback(req.headers(), req.extensions())
        || optional_user(req.headers(), &state)
            .await
            .is_some_and(|u| u.has_role(Role::Admin));
    let body = HealthView {
        status: if ok { "ok" } else { "unavailable" }.to_string(),
        backend: insider.then(|| state.store.backend().to_string()),
        database: insider.then(|| if ok { "ok" } else { "unreachable" }.to_string()),
        grids_indexed: insider.then(|| state.index.grid_count()),
        time: insider.then(|| state.clock.now()),
        version: insider.then(|| env!("CARGO_PKG_VERSION").to_string()),
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

/// Whether the request may read `/metrics`: from this machine, or with the configured token as
/// `Authorization: Bearer <metrics_token>`.
fn may_read_metrics(req: &Request, state: &AppState) -> Result<(), ApiError> {
    if direct_loopback(req.headers(), req.extensions()) {
        return Ok(());
    }
    let Some(expected) = state
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        // Nothing to authenticate with: the endpoint does not exist for other machines.
        return Err(ApiError::not_found("No such path."));
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(t) if crate::csrf::same(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "/metrics needs `Authorization: Bearer <metrics_token>`.",
        )),
    }
}

/// `GET /metrics` — Prometheus text exposition (OpenMetrics). Open on loopback; from other
/// machines only with `Authorization: Bearer <metrics_token>` (without a configured token: 404).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus metrics (OpenMetrics text)", content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "`unauthenticated`: from another machine without the configured `metrics_token`", body = ErrorBody),
        (status = 404, description = "`not_found`: from another machine when no `metrics_token` is configured", body = ErrorBody),
    )
)]
pub(crate) async fn metrics_handler(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    may_read_metrics(&req, &state)?;
    // Cheap: at most one COUNT round per refresh interval; a failing store keeps the old gauges.
    if let Err(e) = state.cached_stats().await {
        tracing::warn!(error = %e, "store stats unavailable for /metrics");
    }
    state
        .metrics()
        .set_limiter_keys(state.shared.login_limiter.tracked_keys());
    if let Some(ingest) = &state.ingest {
        state
            .metrics()
            .set_ingest(&ingest.stats().snapshot(), ingest.queued());
    }
    let body = state.metrics().encode().map_err(ApiError::internal)?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}
