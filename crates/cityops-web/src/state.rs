//! The application state shared by every request, and the server configuration.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use cityops_app::{CaseService, ReportLimits, ReviewService, ServiceConfig};
use cityops_domain::calendar::{CalendarConfig, WorkingCalendar};
use cityops_domain::case::WorkflowConfig;
use cityops_domain::case::duplicate::DuplicateRule;
use cityops_domain::case::routing::RoutingMatrix;
use cityops_domain::review::ReviewConfig;
use cityops_domain::{Clock, PageRequest, RegionLevel};
use cityops_evidence::{EvidenceConfig, EvidenceError, EvidenceStore};
use cityops_geo::RegionIndex;
use cityops_store::{RegionQuery, Store, StoreError, StoreStats};

use crate::concurrency::{ExpensiveLimiter, ExpensivePermit};
use crate::metrics::Metrics;
use crate::net::Cidr;
use crate::ratelimit::{LoginLimiter, LoginLimits};

/// How often expired sessions are deleted.
const SESSION_PURGE_EVERY: Duration = Duration::hours(1);

/// Server configuration. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct WebConfig {
    /// Lifetime of a login session (hours). Default 12.
    pub session_ttl_hours: i64,
    /// Failed logins allowed per (username, client address) before each further attempt from
    /// there must wait: 1 s after the next failure, then 2 s, 4 s, … up to `login_max_delay_secs`.
    /// Good logins are not counted; the same username from another address is not affected.
    /// Default 5.
    pub login_free_failures: u32,
    /// Failed logins allowed per client address (any usernames) before that address waits
    /// likewise. Default 20 (offices share an address).
    pub login_free_failures_per_ip: u32,
    /// The longest wait after repeated failed logins (seconds, at most a day). Default 900.
    pub login_max_delay_secs: u64,
    /// Login attempts (good or bad) allowed per minute and client address: the cap on password
    /// hashing one address can cause. Default 60.
    pub login_per_minute_per_ip: u32,
    /// Mark the session cookie `Secure` and send `Strict-Transport-Security` on every response,
    /// whatever the request says (served over HTTPS). Default false: both follow the request
    /// (HTTPS as a trusted proxy reports it).
    pub secure_cookies: bool,
    /// Reverse proxies (IP addresses or CIDR blocks) whose `X-Forwarded-For`,
    /// `X-Forwarded-Proto` and `Forwarded: proto=` are believed; from anyone else they are
    /// ignored. Default none.
    pub trusted_proxies: Vec<Cidr>,
    /// Take the client address from the first `X-Forwarded-For` entry whoever sends it (older
    /// setting; prefer `trusted_proxies`). Default false.
    pub trust_forwarded_for: bool,
    /// The site's public origin (`https://city.example`), accepted as a request's `Origin` besides
    /// the one its `Host` names (behind a proxy that rewrites `Host`). Default none.
    pub public_origin: Option<String>,
    /// Bearer token that opens `/metrics` to other machines; without it `/metrics` answers only
    /// on loopback. Default none.
    pub metrics_token: Option<String>,
    /// Time limit of one request (seconds). Default 30.
    pub request_timeout_secs: u64,
    /// Largest accepted request body (bytes). Default 1 MiB.
    pub body_limit_bytes: usize,
    /// How long the table counts shown by `/metrics` and `/` may be reused (seconds). Default 30.
    pub stats_refresh_secs: i64,
    /// The platform name shown in the console.
    pub platform_name: String,
    /// Stage limits and workflow rules (节点时限、延期、挂账、直接立案).
    pub workflow: WorkflowConfig,
    /// The duplicate rule (default 50 m, 72 h).
    pub duplicate: DuplicateRule,
    /// The in-memory duplicate index (catch-up 1 s, at most 1,000,000 reports).
    pub duplicate_index: cityops_app::duplicates::DuplicateIndexConfig,
    /// Time zone, working hours and the yellow-light ratio of the working calendar.
    pub calendar: CalendarConfig,
    /// Where evidence photos are stored (by content hash). Default `cityops-evidence`.
    pub evidence_dir: PathBuf,
    /// Largest photo upload (bytes). Default 10 MiB.
    pub max_upload_bytes: usize,
    /// Most photos one report or action may carry. Default 9.
    pub max_photos: usize,
    /// How often the deadline watcher runs (seconds; 0 = not at all). Default 30.
    pub watcher_interval_secs: u64,
    /// Outbound webhook for notifications (POST JSON); `None` = log only.
    pub webhook_url: Option<String>,
    /// How often each process checks whether another process changed the routing matrix, the
    /// calendar or the catalogue (milliseconds). Default 2000.
    pub cache_check_millis: u64,
    /// How long a looked-up session is trusted without asking the store (ms; 0 = always ask).
    pub session_cache_millis: u64,
    /// Reports per minute per account (staff 600, citizens 10) and per client address
    /// (citizens 30); 0 = no limit.
    pub report_limits: ReportLimits,
    /// Expensive requests (case text search, exports, counts) one user may have running at
    /// once; more answer 429 `too_many_concurrent`. Default 2; 0 = no limit.
    pub expensive_per_user: u32,
    /// Public look-ups (the nearby search of toilets, parks …) per minute and client address;
    /// more answer 429 `rate_limited`. Default 120; 0 = no limit.
    pub public_lookups_per_minute: u32,
    /// The most cases an XLSX export holds (default
    /// [`cityops_app::export::XLSX_MAX_ROWS`], 200,000); a larger one answers 422
    /// `export_too_large`. Not a setting of the binary: the documented cap; tests lower it.
    pub xlsx_max_rows: u64,
    /// The map's basemap tiles (`https://tiles.city.example/{z}/{x}/{y}.png`), for cities that
    /// run a tile server; `None` (default) = no basemap, boundaries only.
    pub map_tile_url: Option<String>,
    /// 综合评价 and 城市管理指数 settings.
    pub evaluation: cityops_app::evaluation::EvaluationSettings,
    /// Third-party review (第三方评价): the sample size per department and period (default 5),
    /// the minimum share (default 10 %) and the city's salt of the reproducible draw.
    pub review: ReviewConfig,
    /// 报表: when the daily briefing, weekly and monthly reports are produced (07:30 on working
    /// days, backfilling 14 days, the city and each district).
    pub reports: cityops_domain::report::ReportSchedule,
    /// How often the server looks for reports that are due (seconds; 0 = never). Default 300.
    pub reports_interval_secs: u64,
    /// 运行监测: reading window, retention, reminders, registry checks.
    pub monitoring: cityops_app::MonitoringSettings,
    /// Open311 GeoReport v2 (`/open311/v2/`): the published services, the jurisdiction's names,
    /// the discovery document's texts, ids or tokens.
    pub open311: cityops_domain::open311::Open311Config,
    /// 一码管全域: the 三教而罚 ladder, the scan distance, the frontage, the enforcement
    /// department, the street lines of default zones.
    pub objects: cityops_app::ObjectSettings,
}

impl WebConfig {
    /// The case service's part of the configuration.
    pub fn service(&self) -> ServiceConfig {
        ServiceConfig {
            workflow: self.workflow.clone(),
            duplicate: self.duplicate,
            duplicate_index: self.duplicate_index,
            calendar: self.calendar.clone(),
            max_photos: self.max_photos,
            webhook_url: self.webhook_url.clone(),
            cache_check_interval: std::time::Duration::from_millis(self.cache_check_millis),
            session_cache_ttl: std::time::Duration::from_millis(self.session_cache_millis),
            report_limits: self.report_limits,
            evaluation: self.evaluation.clone(),
            reports: self.reports.clone(),
        }
    }

    /// The evidence store's part of the configuration.
    pub fn evidence(&self) -> EvidenceConfig {
        let mut config = EvidenceConfig::new(self.evidence_dir.clone());
        config.max_bytes = self.max_upload_bytes;
        config
    }
}

/// Opens the evidence directory and proves it writable (creates it if missing, then writes and
/// removes a probe file). The server refuses to start without it: photos must never land in a
/// temporary directory that a reboot empties.
pub fn open_evidence(config: &WebConfig) -> Result<EvidenceStore, EvidenceError> {
    let store = EvidenceStore::new(config.evidence())?;
    // A name no other caller uses at the same time (several states may share a directory).
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, Ordering::Relaxed);
    let probe = config
        .evidence_dir
        .join(format!(".write-probe-{}-{n}", std::process::id()));
    std::fs::write(&probe, b"probe")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            EvidenceError::Io(std::io::Error::new(
                e.kind(),
                format!("{} is not writable: {e}", config.evidence_dir.display()),
            ))
        })?;
    Ok(store)
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: 12,
            login_free_failures: 5,
            login_free_failures_per_ip: 20,
            login_max_delay_secs: 900,
            login_per_minute_per_ip: 60,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            trust_forwarded_for: false,
            public_origin: None,
            metrics_token: None,
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
            stats_refresh_secs: 30,
            platform_name: "城市运行管理服务平台".to_string(),
            workflow: WorkflowConfig::default(),
            duplicate: DuplicateRule::default(),
            duplicate_index: Default::default(),
            calendar: CalendarConfig::default(),
            // The binary sets a directory beside the database; the library default keeps tests
            // and embedders out of the working directory.
            evidence_dir: std::env::temp_dir().join("cityops-evidence"),
            max_upload_bytes: 10 * 1024 * 1024,
            max_photos: 9,
            watcher_interval_secs: 30,
            webhook_url: None,
            cache_check_millis: 2000,
            session_cache_millis: 1000,
            report_limits: ReportLimits::default(),
            expensive_per_user: 2,
            public_lookups_per_minute: 120,
            xlsx_max_rows: cityops_app::export::XLSX_MAX_ROWS,
            map_tile_url: None,
            evaluation: Default::default(),
            review: ReviewConfig::default(),
            reports: Default::default(),
            monitoring: Default::default(),
            reports_interval_secs: 300,
            open311: Default::default(),
            objects: Default::default(),
        }
    }
}

/// Everything a request handler needs. Cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub index: Arc<RegionIndex>,
    pub clock: Arc<dyn Clock>,
    /// Shared, not copied: the state is cloned for every request, and the configuration holds
    /// the calendar, the workflow rules and the Open311 services (a copy per request cost intake
    /// more than half of its CPU).
    pub config: Arc<WebConfig>,
    pub demo_mode: bool,
    /// The case service (cityops-app): every case read and write goes through it.
    pub app: Arc<CaseService>,
    /// The third-party review service (第三方评价), over the case service.
    pub reviews: Arc<ReviewService>,
    /// Operation monitoring (运行监测): the ingest pipeline and, through it, the monitoring
    /// service. `None` for a state built without it (`AppState::new`): its endpoints answer 503.
    pub ingest: Option<cityops_ingest::Ingest>,
    /// Open311 (公众诉求开放接口): client applications, services, requests.
    pub open311: Arc<cityops_app::Open311Service>,
    /// 一码管全域: management objects, their checks and the rectification ladder.
    pub objects: Arc<cityops_app::ObjectService>,
    pub(crate) shared: Arc<Shared>,
}

/// Process-local state behind the `Arc`: metrics, rate limiters, caches.
pub(crate) struct Shared {
    pub metrics: Metrics,
    pub login_limiter: LoginLimiter,
    /// Region names by code (city … grid), for `locate` answers without a database query.
    pub region_names: HashMap<String, String>,
    pub stats: tokio::sync::Mutex<Option<(DateTime<Utc>, StoreStats)>>,
    /// When expired sessions were last purged (Unix seconds on the injected clock).
    pub sessions_purged_at: AtomicI64,
    /// Evidence photos on disk.
    pub evidence: Arc<EvidenceStore>,
    /// Expensive requests running per user.
    pub expensive: ExpensiveLimiter,
    /// Public look-ups per client address (`GET /api/v1/public/nearby`).
    pub lookups: crate::api::pois::LookupLimiter,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("grids_indexed", &self.index.grid_count())
            .field("config", &self.config)
            .field("demo_mode", &self.demo_mode)
            .field("region_names", &self.shared.region_names.len())
            .finish()
    }
}

impl AppState {
    /// Builds the state without region names: `locate` then answers codes only (names `null`).
    pub fn new(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        demo_mode: bool,
    ) -> Self {
        Self::with_region_names(store, index, clock, config, demo_mode, HashMap::new())
    }

    /// Builds the state and loads the names of all regions (city to grid) into memory, so that
    /// `locate` answers names as well, without touching the database per request; the case
    /// service loads the calendar and the responsibility matrix.
    ///
    /// # Panics
    /// When the evidence directory cannot be opened for writing: check it first with
    /// [`open_evidence`] (the binary does, and refuses to start).
    pub async fn load(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        demo_mode: bool,
    ) -> Result<Self, StoreError> {
        let names = load_region_names(store.as_ref()).await?;
        let app = CaseService::load(
            store.clone(),
            index.clone(),
            clock.clone(),
            config.service(),
        )
        .await?;
        let monitoring = config.monitoring.clone();
        Self::assemble(store, index, clock, config, demo_mode, names, Arc::new(app))
            .with_monitoring(monitoring, cityops_ingest::IngestConfig::default())
            .await
    }

    /// Builds the state with the given region names (code → name). The case service starts with
    /// an empty routing matrix and the default calendar until [`AppState::reload_routing`] /
    /// [`AppState::reload_calendar`] or its first version check.
    ///
    /// # Panics
    /// When the evidence directory cannot be opened (see [`AppState::load`]).
    pub fn with_region_names(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        demo_mode: bool,
        region_names: HashMap<String, String>,
    ) -> Self {
        let app = CaseService::new(
            store.clone(),
            index.clone(),
            clock.clone(),
            config.service(),
        );
        Self::assemble(
            store,
            index,
            clock,
            config,
            demo_mode,
            region_names,
            Arc::new(app),
        )
    }

    fn assemble(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        demo_mode: bool,
        region_names: HashMap<String, String>,
        app: Arc<CaseService>,
    ) -> Self {
        let metrics = Metrics::new();
        metrics.set_index_grids(index.grid_count());
        let login_limiter = LoginLimiter::new(
            clock.clone(),
            LoginLimits {
                free_per_user: config.login_free_failures,
                free_per_ip: config.login_free_failures_per_ip,
                // At most a day: a longer wait would only lock out an office behind one address.
                max_delay: Duration::seconds(config.login_max_delay_secs.clamp(1, 86_400) as i64),
                per_minute_per_ip: config.login_per_minute_per_ip,
            },
        );
        let evidence = match open_evidence(&config) {
            Ok(e) => Arc::new(e),
            Err(e) => panic!(
                "the evidence directory {} is not usable: {e}",
                config.evidence_dir.display()
            ),
        };
        let reviews = Arc::new(ReviewService::new(app.clone(), config.review.clone()));
        let open311 = Arc::new(cityops_app::Open311Service::new(
            app.clone(),
            config.open311.clone(),
            config.report_limits,
        ));
        let objects = Arc::new(
            cityops_app::ObjectService::with_demo_checklists(app.clone(), config.objects.clone())
                .expect("the embedded checklist set is valid (tested in cityops-domain)"),
        );
        let shared = Shared {
            metrics,
            login_limiter,
            region_names,
            stats: tokio::sync::Mutex::new(None),
            sessions_purged_at: AtomicI64::new(i64::MIN),
            evidence,
            expensive: ExpensiveLimiter::new(config.expensive_per_user),
            lookups: crate::api::pois::LookupLimiter::new(
                clock.clone(),
                config.public_lookups_per_minute,
            ),
        };
        Self {
            store,
            index,
            clock,
            config: Arc::new(config),
            demo_mode,
            app,
            reviews,
            ingest: None,
            open311,
            objects,
            shared: Arc::new(shared),
        }
    }

    /// The state with operation monitoring: the monitoring service over this state's case
    /// service (registry loaded) and its ingest pipeline, started.
    pub async fn with_monitoring(
        mut self,
        settings: cityops_app::MonitoringSettings,
        ingest: cityops_ingest::IngestConfig,
    ) -> Result<Self, StoreError> {
        let monitoring = cityops_app::MonitoringService::new(self.app.clone(), settings)
            .await
            .map_err(|e| match e {
                cityops_app::ServiceError::Store(e) => e,
                other => StoreError::Database(other.to_string()),
            })?;
        let (ingest, _writer) = cityops_ingest::Ingest::spawn(monitoring, ingest);
        self.ingest = Some(ingest);
        Ok(self)
    }

    /// The monitoring service, or 503 when this state runs without it.
    pub fn monitoring(
        &self,
    ) -> Result<&Arc<cityops_app::MonitoringService>, crate::error::ApiError> {
        self.ingest.as_ref().map(|i| i.monitoring()).ok_or_else(|| {
            crate::error::ApiError::new(
                crate::error::ErrorCode::ServiceUnavailable,
                "Operation monitoring is not running in this server.",
            )
        })
    }

    /// The name of a region, if the names were loaded.
    pub fn region_name(&self, code: &str) -> Option<&str> {
        self.shared.region_names.get(code).map(String::as_str)
    }

    /// The table counts, re-read from the store at most every `stats_refresh_secs` (one query
    /// at a time; concurrent callers wait for it and reuse the answer). Updates the gauges.
    pub async fn cached_stats(&self) -> Result<StoreStats, StoreError> {
        let mut guard = self.shared.stats.lock().await;
        let now = self.clock.now();
        if let Some((at, stats)) = *guard
            && now >= at
            && now - at < Duration::seconds(self.config.stats_refresh_secs)
        {
            return Ok(stats);
        }
        match self.store.stats().await {
            Ok(stats) => {
                *guard = Some((now, stats));
                self.shared.metrics.set_store_stats(&stats);
                Ok(stats)
            }
            // A failing database must not hide the last known counts from the console.
            Err(e) => match *guard {
                Some((_, stats)) => {
                    tracing::warn!(error = %e, "store stats failed; using the previous counts");
                    Ok(stats)
                }
                None => Err(e),
            },
        }
    }

    /// Deletes expired sessions, at most once per `SESSION_PURGE_EVERY` (called on login, so no
    /// background task is needed). Failures are logged, never fatal.
    pub(crate) async fn purge_sessions_now_and_then(&self) {
        let now = self.clock.now();
        let last = self.shared.sessions_purged_at.load(Ordering::Relaxed);
        if last != i64::MIN
            && now.timestamp().saturating_sub(last) < SESSION_PURGE_EVERY.num_seconds()
        {
            return;
        }
        // Only one caller wins the slot; the others skip.
        if self
            .shared
            .sessions_purged_at
            .compare_exchange(last, now.timestamp(), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        match self.store.purge_expired_sessions(now).await {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The current working calendar (cheap: an `Arc` clone).
    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        self.app.calendar()
    }

    /// Rebuilds the working calendar from the holiday schedule in the store (this process; the
    /// others see the change through the store's version within their check interval).
    pub async fn reload_calendar(&self) -> Result<(), StoreError> {
        self.app.reload_calendar().await
    }

    /// The current responsibility matrix (cheap: an `Arc` clone).
    pub fn routing(&self) -> Arc<RoutingMatrix> {
        self.app.routing()
    }

    /// Rebuilds the responsibility matrix from the rules in the store (this process; the others
    /// see the change through the store's version within their check interval).
    pub async fn reload_routing(&self) -> Result<(), StoreError> {
        self.app.reload_routing().await
    }

    /// Evidence photos on disk.
    pub fn evidence(&self) -> &EvidenceStore {
        &self.shared.evidence
    }

    /// A place for one more expensive request (text search, counts, exports) of `user_id`, or
    /// `None` when they have `expensive_per_user` running. Handlers answer `None` with 429
    /// `too_many_concurrent`; tests hold a permit to fill the place without a slow request.
    pub fn try_expensive(&self, user_id: i64) -> Option<ExpensivePermit> {
        self.shared.expensive.try_acquire(user_id)
    }

    /// [`AppState::try_expensive`] as the handlers answer it.
    pub(crate) fn expensive_permit(
        &self,
        user: &cityops_domain::User,
    ) -> Result<ExpensivePermit, crate::error::ApiError> {
        self.try_expensive(user.id).ok_or_else(|| {
            tracing::info!(user_id = user.id, "too many expensive requests at once");
            crate::error::ApiError::too_many_concurrent()
        })
    }
}

/// Loads code → name for every region, level by level, in pages of 1000.
async fn load_region_names(store: &dyn Store) -> Result<HashMap<String, String>, StoreError> {
    let mut names = HashMap::new();
    for level in RegionLevel::ALL {
        let query = RegionQuery {
            level: Some(level),
            ..RegionQuery::default()
        };
        let mut page = 1;
        loop {
            let req = PageRequest {
                page,
                page_size: cityops_domain::page::MAX_PAGE_SIZE,
            };
            let got = store.list_regions(&query, req).await?;
            let n = got.items.len();
            names.extend(got.items.into_iter().map(|r| (r.code, r.name)));
            if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total
            {
                break;
            }
            page += 1;
        }
    }
    Ok(names)
}
