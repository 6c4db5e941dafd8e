//! Prometheus metrics (prometheus-client): HTTP requests by route template, method and status,
//! request latency, `locate` answers, logins, and table counts refreshed from the store at most
//! every `stats_refresh_secs`.
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cityops_store::StoreStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub(crate) struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    locate: Family<ResultLabels, Counter>,
    logins: Family<ResultLabels, Counter>,
    store_rows: Family<TableLabels, Gauge>,
    index_grids: Gauge,
    limiter_keys: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cityops");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        let locate = Family::<ResultLabels, Counter>::default();
        let logins = Family::<ResultLabels, Counter>::default();
        let store_rows = Family::<TableLabels, Gauge>::default();
        let index_grids = Gauge::default();
        let limiter_keys = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template and method",
            http_duration.clone(),
        );
        registry.register(
            "locate",
            "locate answers by result (found, outside)",
            locate.clone(),
        );
        registry.register(
            "logins",
            "login attempts by result (ok, invalid, rate_limited)",
            logins.clone(),
        );
        registry.register(
            "store_rows",
            "rows per table (refreshed at most every stats_refresh_secs)",
            store_rows.clone(),
        );
        registry.register(
            "locate_index_grids",
            "unit grids in the in-memory locate index",
            index_grids.clone(),
        );
        registry.register(
            "login_limiter_keys",
            "client addresses and usernames tracked by the login rate limiter",
            limiter_keys.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            locate,
            logins,
            store_rows,
            index_grids,
            limiter_keys,
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&HttpLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(seconds);
    }

    pub fn locate(&self, found: bool) {
        self.locate
            .get_or_create(&ResultLabels {
                result: if found { "found" } else { "outside" },
            })
            .inc();
    }

    pub fn login(&self, result: &'static str) {
        self.logins.get_or_create(&ResultLabels { result }).inc();
    }

    pub fn set_index_grids(&self, n: usize) {
        self.index_grids.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn set_limiter_keys(&self, n: usize) {
        self.limiter_keys.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn set_store_stats(&self, s: &StoreStats) {
        for (table, n) in [
            ("regions", s.regions),
            ("grids", s.grids),
            ("categories", s.categories),
            ("departments", s.departments),
            ("users", s.users),
            ("components", s.components),
        ] {
            self.store_rows
                .get_or_create(&TableLabels { table })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Middleware: counts every request by its route template (never the raw path, so the label set
/// stays small) and records its latency.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics().observe_request(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
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
