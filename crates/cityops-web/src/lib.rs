//! cityops-web: the CityOps HTTP server — the JSON API under `/api/v1`, its OpenAPI 3.1 document
//! (`/api/openapi.json`, browsable offline at `/api/docs`), `/healthz`, `/metrics` and the
//! the hook through which the binary mounts the server-rendered console (`cityops-ui`).
//!
//! Invariants: this crate knows storage only through `Arc<dyn Store>` (never a concrete
//! database); every "now" comes from the injected [`cityops_domain::Clock`]; every error leaves as
//! `{"code", "message"}` with a code from [`error::ERROR_TABLE`]; every route is registered once
//! with utoipa-axum so that the document and the routes cannot drift apart.

mod api;
pub mod concurrency;
pub mod csrf;
pub mod error;
pub mod export;
pub mod extract;
pub mod labels;
pub mod live;
mod metrics;
mod middleware;
pub mod net;
pub mod open311;
mod openapi;
pub mod password;
mod ratelimit;
pub mod report_files;
mod state;
pub mod views;
pub mod wire;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

pub use api::public::{FOLLOW_TOKEN_HEADER, PublicCaseView, PublicStepView, public_case_view};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use openapi::openapi_json;
pub use state::{AppState, WebConfig, open_evidence};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

async fn fallback() -> ApiError {
    ApiError::not_found("No such path.")
}

/// The API, documentation, health and metrics with the middleware stack.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] plus `pages` (the console's HTML routes, state already applied), all behind the
/// same middleware: request id, tracing, metrics, security headers, time and body limits.
pub fn router_with(state: AppState, pages: Router) -> Router {
    let (api, doc) = openapi::document(openapi::api_router());
    let routes = api
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .merge(live_routes())
        .merge(open311::router())
        .with_state(state.clone())
        .merge(pages)
        .fallback(fallback);
    with_middleware(routes, &state)
}

/// The routes outside the API document: the big screen's event stream ([`live`]).
fn live_routes() -> Router<AppState> {
    Router::new().route("/screen/events", axum::routing::get(live::stream_handler))
}

/// Wraps every route (and the fallback) in the middleware stack, outermost first: request id,
/// tracing, metrics, compression, security headers (HSTS over HTTPS), JSON error bodies, panic →
/// 500, time limit, the CSRF guard ([`csrf`], over every route, API and console alike), body
/// limits (JSON bodies `body_limit_bytes`; photo uploads their own, larger limit).
fn with_middleware(routes: Router, state: &AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    // The hard cap on any request body: the larger of the JSON limit and a photo upload. Handlers
    // read bodies through extractors bounded by `DefaultBodyLimit` (the JSON limit), except the
    // upload route, which lifts that and counts its multipart body itself.
    let hard_limit = body_limit.max(
        state
            .config
            .max_upload_bytes
            .saturating_add(api::attachments::MULTIPART_OVERHEAD),
    );
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
            let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), route, uri = %req.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::track_metrics))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::time_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(hard_limit));
    routes.layer(layers)
}

/// Serves the application on `listener` until `shutdown` completes, then finishes the requests
/// in flight (graceful shutdown). Client addresses are passed to handlers (login rate limits).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, Router::new(), shutdown).await
}

/// [`serve`] with the console's `pages` mounted beside the API (see [`router_with`]).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    pages: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, backend = state.store.backend(), grids = state.index.grid_count(), "listening");
    }
    // Compute the hash that unknown-user logins verify against now, not on the first such login.
    drop(tokio::task::spawn_blocking(|| {
        let _ = password::dummy_hash();
    }));
    let app = router_with(state, pages);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    tracing::info!("server stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use cityops_domain::{Clock, ManualClock};
    use cityops_geo::RegionIndex;
    use cityops_store::{Admin, Store};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn state(config: WebConfig) -> AppState {
        let store = cityops_store_sqlite::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        AppState::new(
            store,
            Arc::new(RegionIndex::build(&[], &[], &[], &[]).unwrap()),
            clock,
            config,
            false,
        )
    }

    async fn panics() -> &'static str {
        panic!("secret detail in a panic")
    }

    async fn slow() -> &'static str {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        "late"
    }

    async fn call(app: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        let resp = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn panics_and_timeouts_become_json_errors() {
        let st = state(WebConfig {
            request_timeout_secs: 1,
            ..WebConfig::default()
        })
        .await;
        let routes = Router::new()
            .route("/panic", get(panics))
            .route("/slow", get(slow));
        let app = with_middleware(routes.with_state(st.clone()), &st);

        let (status, body) = call(app.clone(), "/panic").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"code": "internal", "message": "Internal server error."})
        );

        let started = std::time::Instant::now();
        let (status, body) = call(app, "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "timeout");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }
}
