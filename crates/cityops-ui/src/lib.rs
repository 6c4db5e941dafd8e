//! cityops-ui: the CityOps web console (管理控制台) — server-rendered HTML pages for what the
//! foundation holds today: the overview (工作台), the map (地图), the region tree (区域), components
//! (部件), the category catalogue (部件事项目录), the organisation (组织机构), third-party review
//! (第三方评价: the reviewer's sampled cases and forms; the leaders' scores and draw) and, for
//! administrators, the change history of the responsibility matrix and the calendar (变更记录) with
//! a restore button per version; 运行监测 (operation monitoring: the device map, the live alarm
//! wall with its event stream, the device page with its charts, the rule editor).
//!
//! Pages are askama templates (checked at compile time), Chinese first with a complete English
//! translation ([`i18n`]); `?lang=en|zh` switches and remembers the choice in a cookie. All assets
//! (CSS, a little vanilla JS, Leaflet 1.9.4) are embedded in the binary and served under
//! `/assets/…` ([`assets`]); nothing is fetched from another host.
//!
//! Invariants: this crate talks to storage only through [`cityops_web::AppState`] (the
//! `Arc<dyn Store>`); it logs in through the JSON API (`POST /api/v1/auth/login`) and resolves
//! sessions exactly like the API (SHA-256 of the cookie's token). Map layers are built once per
//! process from `regions_with_geometry` ([`layers`]), never per request.
//!
//! Wiring: `cityops_web::router(state.clone()).merge(cityops_ui::router(state))`.

pub mod assets;
mod auth;
mod error;
pub mod i18n;
pub mod i18n_cases;
pub mod i18n_eval;
pub mod i18n_monitoring;
pub mod i18n_objects;
pub mod i18n_open311;
pub mod i18n_phone;
pub mod i18n_public;
pub mod i18n_reports;
pub mod i18n_reviews;
pub mod i18n_screen;
pub mod layers;
mod layout;
mod pages;
mod tree;
mod util;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use cityops_web::AppState;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::SESSION_COOKIE;
pub use i18n::{LANG_COOKIE, Lang};

/// The state of the console's handlers: the application state plus the console's caches.
#[derive(Clone)]
pub(crate) struct UiState {
    pub app: AppState,
    pub caches: Arc<Caches>,
}

/// Process-wide caches, filled lazily on first use and never rebuilt.
#[derive(Default)]
pub(crate) struct Caches {
    pub layers: layers::LayerCache,
    pub tree: tokio::sync::OnceCell<Arc<tree::RegionTree>>,
    /// The navigation's queue counts per user, kept a few seconds.
    pub queue_counts: pages::cases::QueueCounts,
    /// The navigation's count of alarms waiting to be acknowledged, per user, kept a few seconds.
    pub alarm_counts: pages::monitoring::AlarmCounts,
}

/// The console's routes with the state applied. Merge it with `cityops_web::router(state)`; it
/// sets no fallback, so the API's JSON 404 stays the fallback of the merged router.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let ui = UiState {
        app: state,
        caches: Arc::new(Caches::default()),
    };
    Router::new()
        .route("/", get(pages::overview::page))
        .route("/cases", get(pages::cases::list))
        .route("/cases/export.csv", get(pages::cases::export_csv))
        .route("/cases/export.xlsx", get(pages::cases::export_xlsx))
        .route("/cases/{id}", get(pages::cases_detail::page))
        .route("/cases/{id}/act/{action}", post(pages::cases_detail::act))
        .route("/evaluation", get(pages::evaluation::index))
        .route("/evaluation/{kind}", get(pages::evaluation::kind_page))
        .route("/evaluation/{kind}/cases", get(pages::evaluation::cases))
        .route("/login", get(pages::login::page))
        .route("/logout", post(auth::logout))
        .route("/map", get(pages::map::page))
        .route("/monitoring", get(pages::monitoring::map_page))
        .route("/monitoring/alarms", get(pages::monitoring_alarms::wall))
        .route(
            "/monitoring/alarms/{id}/acknowledge",
            post(pages::monitoring_alarms::acknowledge),
        )
        .route(
            "/monitoring/events",
            get(pages::monitoring_alarms::stream_handler),
        )
        .route(
            "/monitoring/devices/{id}",
            get(pages::monitoring::device_page),
        )
        .route(
            "/monitoring/rules",
            get(pages::monitoring_rules::page).post(pages::monitoring_rules::create),
        )
        .route(
            "/monitoring/rules/{id}",
            post(pages::monitoring_rules::update),
        )
        .route(
            "/ui/monitoring/devices.json",
            get(pages::monitoring::devices_json),
        )
        .route(
            "/screen/alarms.json",
            get(pages::monitoring_alarms::screen_alarms),
        )
        .route("/screen", get(pages::screen::page))
        .route("/screen/data.json", get(pages::screen::data))
        .route("/ui/cases.json", get(pages::screen::cases))
        .route("/objects", get(pages::objects::list))
        .route("/objects/labels", get(pages::objects::labels))
        .route("/objects/discrepancies", get(pages::objects::discrepancies))
        .route("/objects/stats", get(pages::objects::stats))
        .route("/objects/{code}", get(pages::objects::detail))
        .route("/m/o/{code}", get(pages::phone_objects::scan_page))
        .route(
            "/m/o/{code}/self-check",
            post(pages::phone_objects::self_check),
        )
        .route(
            "/m/o/{code}/inspection",
            post(pages::phone_objects::inspection),
        )
        .route("/regions", get(pages::regions::index))
        .route("/regions/{code}", get(pages::regions::detail))
        .route("/catalogue", get(pages::catalogue::index))
        .route("/catalogue/{kind}/{code}", get(pages::catalogue::detail))
        .route("/components", get(pages::components::page))
        .route("/org", get(pages::org::departments))
        .route("/org/users", get(pages::org::users))
        .route(
            "/reports",
            get(pages::reports::page).post(pages::reports::produce),
        )
        .route("/reports/{id}", get(pages::reports::report))
        .route("/reviews", get(pages::reviews::page))
        .route("/reviews/samples", post(pages::reviews::draw))
        .route("/reviews/{case_id}", post(pages::reviews::submit))
        .route(
            "/open311/clients",
            get(pages::open311::page).post(pages::open311::issue),
        )
        .route("/open311/clients/{id}/revoke", post(pages::open311::revoke))
        .route("/versions", get(pages::versions::page))
        .route(
            "/versions/{kind}/{id}/restore",
            post(pages::versions::restore),
        )
        .route("/m", get(pages::phone::home))
        .route("/m/report", get(pages::phone::report_page))
        .route("/m/sw.js", get(pages::phone::service_worker))
        .route("/m/nearby", get(pages::phone::nearby))
        .route("/m/places", get(pages::phone_places::places_page))
        .route("/m/tasks", get(pages::phone::tasks_page))
        .route("/m/me", get(pages::phone::me_page))
        .route(
            "/m/follow",
            get(pages::phone::follow_page).post(pages::phone::follow_lookup),
        )
        .route("/m/follow/rate", post(pages::phone::follow_rate))
        .route("/m/cases/{id}/act", post(pages::phone::act))
        .route("/m/cases/{id}/follow", post(pages::phone::follow_case))
        .route("/ui/layers/{file}", get(layers::handler))
        .route("/assets/{*path}", get(assets::handler))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn(util::security_headers))
                .layer(axum::middleware::from_fn(i18n::remember_lang))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                )),
        )
        .with_state(ui)
}
