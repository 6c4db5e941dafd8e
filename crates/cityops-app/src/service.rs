//! The case service (案件服务): what every entry point — the JSON API, the console, Open311, IoT
//! alarms, the scheduler — calls to report a case and to act on one. It looks up what the pure
//! state machine cannot know — where the point lies, the category and its filing standard,
//! duplicates, the responsibility matrix, the inspector of a place, the master case of a merge —
//! applies [`case::report`] / [`case::apply`] and stores exactly what they return, with its audit
//! event and notifications, then hands the notifications to the outbound [`Notifier`].
//!
//! Scope: a case is loaded only through [`CaseVisibility::for_user`], so a case outside the
//! caller's scope is [`ServiceError::NotFound`] for every action. All "now" comes from the
//! injected clock.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use cityops_domain::calendar::{CalendarConfig, WorkingCalendar};
use cityops_domain::case::duplicate::DuplicateRule;
use cityops_domain::case::routing::{RouteDecision, RoutingMatrix};
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseLocation, CaseSource, CaseVisibility, Context,
    NewNotification, NewReport, Transition, Urgency, WorkflowConfig,
};
use cityops_domain::{CategoryKind, Clock, FilingStandard, Role, TimeLimit, User};
use cityops_geo::RegionIndex;
use cityops_geo::gcj02::gcj02_to_wgs84;
use cityops_store::{ReportStep, Store, StoreError};
use tokio::task::JoinHandle;

use crate::caches::{CATALOGUE_RELOAD_AFTER, Caches, Catalogue, all_pages};
use crate::duplicates::{DuplicateIndex, DuplicateIndexConfig};
use crate::error::{Result, ServiceError, save_error};
use crate::notify::{Channel, LogChannel, Notifier, NotifierStats, OutboundMessage, channels_for};
use crate::report_limit::{ReportLimiter, ReportLimits, Reporter};
use crate::sessions::SessionCache;

mod public;
pub use public::{PUBLIC_REPORTER, PublicReceipt, follow_token_hash};

/// What the case service is configured with. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// Stage limits and workflow rules (节点时限、延期、挂账、直接立案).
    pub workflow: WorkflowConfig,
    /// The duplicate rule (default 50 m, 72 h).
    pub duplicate: DuplicateRule,
    /// The in-memory duplicate index: how often it reads other processes' changes (default
    /// 1 s) and how many reports it holds (default 1,000,000).
    pub duplicate_index: DuplicateIndexConfig,
    /// Time zone, working hours and the yellow-light ratio of the working calendar.
    pub calendar: CalendarConfig,
    /// Most photos one report or action may carry. Default 9.
    pub max_photos: usize,
    /// Outbound webhook for notifications (POST JSON); `None` = log only.
    pub webhook_url: Option<String>,
    /// How often this process asks the store whether another process changed the routing
    /// matrix, the calendar or the catalogue. Default 2 s.
    pub cache_check_interval: StdDuration,
    /// How long a looked-up session is trusted without asking the store again (a logout in this
    /// process ends it at once; one in another process within this time). Default 1 s; zero
    /// disables the cache.
    pub session_cache_ttl: StdDuration,
    /// Reports per minute per account (staff, citizens) and per client address (citizens).
    pub report_limits: ReportLimits,
    /// 综合评价: weights, score bands, grades, intake send limits and the city index.
    pub evaluation: crate::evaluation::EvaluationSettings,
    /// 报表: when the daily, weekly and monthly reports are produced, and for which scopes.
    pub reports: cityops_domain::report::ReportSchedule,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            workflow: WorkflowConfig::default(),
            duplicate: DuplicateRule::default(),
            duplicate_index: DuplicateIndexConfig::default(),
            calendar: CalendarConfig::default(),
            max_photos: 9,
            webhook_url: None,
            cache_check_interval: StdDuration::from_secs(2),
            session_cache_ttl: StdDuration::from_secs(1),
            report_limits: ReportLimits::default(),
            evaluation: Default::default(),
            reports: Default::default(),
        }
    }
}

/// The one answer for a photo id that does not exist or is someone else's.
pub(crate) fn unknown_photo(public_id: &str) -> String {
    format!("attachment {public_id} does not exist or was not uploaded by you")
}

/// Sessions one process keeps in its session cache at most.
const SESSION_CACHE_ENTRIES: usize = 100_000;

/// A report (上报) as an entry point hands it over: raw, as the user gave it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportRequest {
    /// Longitude; may be omitted when `component_id` is given (the component's point is used).
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// `wgs84` (default, also CGCS2000) or `gcj02`.
    pub crs: Option<String>,
    pub description: String,
    pub category_kind: Option<CategoryKind>,
    /// 5-digit category code; optional for citizens; defaults to the component's category.
    pub category_code: Option<String>,
    pub urgency: Option<Urgency>,
    pub address: Option<String>,
    /// The component (部件) the report is about (17 digits).
    pub component_id: Option<String>,
    /// The reporter's name and phone (hotline, citizen).
    pub contact: Option<String>,
    /// Public ids of photos uploaded by the same user (see
    /// [`CaseService::resolve_attachments`]).
    pub attachments: Vec<String>,
    /// The declared source (intake operators: `hotline`, `video_ai`, `iot`).
    pub source: Option<String>,
    /// The client's address as the entry point saw it, for the citizens' per-address quota
    /// (`None` for entry points without one).
    pub client_address: Option<String>,
    /// The department a system report is suggested to, instead of the responsibility matrix's
    /// (三教而罚's hand-over to the 城管执法 department, `cityops_app::objects`). Entry points
    /// that take a user's input leave it `None`.
    pub department_id: Option<i64>,
}

/// A case as the service stored it, with the public ids of its photos.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub case: Case,
    pub attachments: Vec<String>,
}

/// The outbound notifier and its background task, started at first use.
#[derive(Default)]
struct NotifierSlot {
    running: Option<(Notifier, JoinHandle<()>)>,
    /// Counters of the last notifier, kept after shutdown.
    final_stats: Option<NotifierStats>,
}

/// The case service. One per process (cheap to share behind an `Arc`).
pub struct CaseService {
    store: Arc<dyn Store>,
    index: Arc<RegionIndex>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    caches: Caches,
    sessions: SessionCache,
    report_limiter: ReportLimiter,
    /// 重复案件: the window's open reports, in memory.
    duplicates: DuplicateIndex,
    notifier: Mutex<NotifierSlot>,
    /// Durable case changes for live listeners (the big screen's event stream).
    live: crate::live::LiveChanges,
    /// 城市管理指数 of recent months, kept briefly (the big screen's trend).
    pub(crate) index_cache: crate::evaluation::CityIndexCache,
    /// The evaluation's cases of recent periods, checked against the store's day fingerprints
    /// before each use.
    pub(crate) eval_cache: crate::eval_cache::EvalCaseCache,
    /// The code prefix of the whole city (its 4 digits), read once: a visibility holding it
    /// admits every case (none lies outside the city).
    pub(crate) city_prefix: tokio::sync::OnceCell<Option<String>>,
}

impl std::fmt::Debug for CaseService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseService")
            .field("backend", &self.store.backend())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CaseService {
    /// A service with an empty routing matrix and the default calendar; [`CaseService::load`]
    /// (or the first version check) reads them from the store.
    pub fn new(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: ServiceConfig,
    ) -> Self {
        let caches = Caches::new(&config.calendar);
        let sessions = SessionCache::new(
            chrono::Duration::from_std(config.session_cache_ttl)
                .unwrap_or(chrono::Duration::zero()),
            SESSION_CACHE_ENTRIES,
        );
        let report_limiter = ReportLimiter::new(clock.clone(), config.report_limits);
        let duplicates = DuplicateIndex::new(config.duplicate, config.duplicate_index);
        Self {
            store,
            index,
            clock,
            config,
            caches,
            sessions,
            report_limiter,
            duplicates,
            notifier: Mutex::new(NotifierSlot::default()),
            live: crate::live::LiveChanges::default(),
            index_cache: Default::default(),
            eval_cache: Default::default(),
            city_prefix: tokio::sync::OnceCell::new(),
        }
    }

    /// A service with the calendar and the routing matrix loaded from the store.
    pub async fn load(
        store: Arc<dyn Store>,
        index: Arc<RegionIndex>,
        clock: Arc<dyn Clock>,
        config: ServiceConfig,
    ) -> Result<Self, StoreError> {
        let service = Self::new(store, index, clock, config);
        let versions = service.store.cache_versions().await?;
        service.reload_calendar().await?;
        service.reload_routing().await?;
        service.caches.set_versions(versions);
        Ok(service)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn index(&self) -> &Arc<RegionIndex> {
        &self.index
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The evaluation's configuration.
    pub fn evaluation_settings(&self) -> &crate::evaluation::EvaluationSettings {
        &self.config.evaluation
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    // -----------------------------------------------------------------------------------------
    // Sessions

    /// The active user of an unexpired session (by the SHA-256 of its token), from the session
    /// cache when it was looked up within `session_cache_ttl`.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let now = self.clock.now();
        if let Some(user) = self.sessions.get(token_hash, now) {
            return Ok(Some(user));
        }
        let user = self
            .store
            .session_user(token_hash, now)
            .await?
            .filter(|u| u.active);
        if let Some(u) = &user {
            self.sessions.put(token_hash, u, now);
        }
        Ok(user)
    }

    /// Ends a session (logout): deleted from the store and forgotten by this process at once.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.sessions.forget(token_hash);
        self.store.delete_session(token_hash).await?;
        self.sessions.forget(token_hash);
        Ok(())
    }

    /// Forgets the cached sessions of a user whose account changed (deactivated, new password).
    pub fn forget_user_sessions(&self, user_id: i64) {
        self.sessions.forget_user(user_id);
    }

    /// Revokes one of a user's sessions by its public id (another user's id revokes nothing);
    /// whether one was revoked. Takes effect at once in this process: the user's cached sessions
    /// are forgotten (the cache knows tokens by hash, not by id), before and after the delete.
    pub async fn revoke_session(&self, user_id: i64, id: &str) -> Result<bool, StoreError> {
        self.sessions.forget_user(user_id);
        let revoked = self.store.delete_user_session(user_id, id).await?;
        self.sessions.forget_user(user_id);
        Ok(revoked)
    }

    /// Revokes every session of a user but the one of `keep_token_hash`; how many. At once in
    /// this process, like [`CaseService::revoke_session`].
    pub async fn revoke_other_sessions(
        &self,
        user_id: i64,
        keep_token_hash: &str,
    ) -> Result<u64, StoreError> {
        self.sessions.forget_user(user_id);
        let revoked = self
            .store
            .delete_other_sessions(user_id, keep_token_hash)
            .await?;
        self.sessions.forget_user(user_id);
        Ok(revoked)
    }

    // -----------------------------------------------------------------------------------------
    // Caches

    /// The current working calendar (cheap: an `Arc` clone).
    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        self.caches.calendar()
    }

    /// The current responsibility matrix (cheap: an `Arc` clone).
    pub fn routing(&self) -> Arc<RoutingMatrix> {
        self.caches.routing()
    }

    /// Rebuilds the working calendar from the holiday schedule in the store.
    pub async fn reload_calendar(&self) -> Result<(), StoreError> {
        let days = self.store.calendar_days().await?;
        let cal = WorkingCalendar::new(self.config.calendar.clone(), days)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.caches.set_calendar(cal);
        Ok(())
    }

    /// Rebuilds the responsibility matrix from the rules in the store.
    pub async fn reload_routing(&self) -> Result<(), StoreError> {
        let rules = self.store.routing_rules().await?;
        self.caches.set_routing(RoutingMatrix::new(rules));
        Ok(())
    }

    /// Drops the cached catalogue (after this process imported categories or departments): the
    /// next use loads it again.
    pub fn forget_catalogue(&self) {
        self.caches.set_catalogue(None);
    }

    /// Compares the cached data's versions with the store's, at most once per
    /// `cache_check_interval` in this process, and reloads what another process changed.
    /// Failures are logged: the caches then stay as they are until the next check.
    pub async fn refresh(&self) {
        if !self.caches.due(self.config.cache_check_interval) {
            return;
        }
        if let Err(e) = self.refresh_now().await {
            tracing::warn!(error = %e, "checking the cached data's versions failed");
        }
    }

    /// [`CaseService::refresh`] without waiting for the interval.
    pub async fn refresh_now(&self) -> Result<(), StoreError> {
        // Read the versions first: a change after this read is seen by the next check.
        let now = self.store.cache_versions().await?;
        let Some(had) = self.caches.loaded_versions() else {
            // The first check: what is cached was loaded before anyone counted; reload all.
            self.reload_calendar().await?;
            self.reload_routing().await?;
            self.forget_catalogue();
            self.caches.set_versions(now);
            return Ok(());
        };
        if now.routing != had.routing {
            self.reload_routing().await?;
            tracing::info!(version = now.routing, "responsibility matrix reloaded");
        }
        if now.calendar != had.calendar {
            self.reload_calendar().await?;
            tracing::info!(version = now.calendar, "working calendar reloaded");
        }
        if now.catalogue != had.catalogue {
            self.forget_catalogue();
            tracing::info!(
                version = now.catalogue,
                "catalogue dropped; reloads at next use"
            );
        }
        self.caches.set_versions(now);
        Ok(())
    }

    /// The in-memory catalogue, loaded at first use.
    pub async fn catalogue(&self) -> Result<Arc<Catalogue>> {
        if let Some(c) = self.caches.catalogue() {
            return Ok(c);
        }
        let loaded = Arc::new(Catalogue::load(self.store.as_ref(), self.clock.now()).await?);
        let mut guard = self
            .caches
            .catalogue
            .write()
            .unwrap_or_else(|e| e.into_inner());
        // Another request may have loaded it meanwhile: keep the first.
        Ok(guard.get_or_insert(loaded).clone())
    }

    /// Reloads the catalogue after a lookup miss, unless it was loaded within the last minute.
    async fn catalogue_after_miss(&self, current: Arc<Catalogue>) -> Result<Arc<Catalogue>> {
        let now = self.clock.now();
        if now >= current.loaded_at && now - current.loaded_at < CATALOGUE_RELOAD_AFTER {
            return Ok(current);
        }
        let loaded = Arc::new(Catalogue::load(self.store.as_ref(), now).await?);
        self.caches.set_catalogue(Some(loaded.clone()));
        Ok(loaded)
    }

    /// The filing standards of a category (cached after the first lookup).
    async fn standards(
        &self,
        cat: &Catalogue,
        kind: CategoryKind,
        code: &str,
    ) -> Result<Arc<Vec<FilingStandard>>> {
        if let Some(s) = cat.cached_standards(kind, code) {
            return Ok(s);
        }
        let got = Arc::new(self.store.filing_standards(kind, code).await?);
        cat.remember_standards(kind, code, got.clone());
        Ok(got)
    }

    /// Resolves a category given by code and optional kind against the catalogue: `Invalid` when
    /// it does not exist, or when the code names both a component and a matter category and no
    /// kind was given.
    async fn resolve_category(
        &self,
        cat: Arc<Catalogue>,
        kind: Option<CategoryKind>,
        code: &str,
    ) -> Result<(Arc<Catalogue>, CategoryKind)> {
        let code = code.trim();
        cityops_domain::catalogue::parse_category_code(code)
            .map_err(|e| ServiceError::invalid(e.to_string()))?;
        let pick = |cat: &Catalogue| -> Result<Option<CategoryKind>> {
            match kind {
                Some(k) => Ok(cat.category(k, code).map(|_| k)),
                None => match cat.kinds_of(code).as_slice() {
                    [] => Ok(None),
                    [k] => Ok(Some(*k)),
                    _ => Err(ServiceError::invalid(format!(
                        "category {code} exists as a component (部件) and as a matter (事项) category: \
                         give category_kind"
                    ))),
                },
            }
        };
        if let Some(k) = pick(&cat)? {
            return Ok((cat, k));
        }
        let cat = self.catalogue_after_miss(cat).await?;
        match pick(&cat)? {
            Some(k) => Ok((cat, k)),
            None => Err(ServiceError::invalid(match kind {
                Some(k) => format!("unknown category {} {code}", k.as_str()),
                None => format!("unknown category {code}"),
            })),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Notifications

    /// Hands the notifications of a committed write to the outbound channels (log, and the
    /// webhook when configured), starting the notifier on the current runtime at first use.
    /// Never blocks and never fails; after [`CaseService::shutdown`] messages are only counted.
    pub fn publish(&self, msgs: Vec<OutboundMessage>) {
        if msgs.is_empty() {
            return;
        }
        let mut slot = self.notifier.lock().unwrap_or_else(|e| e.into_inner());
        if slot.final_stats.is_some() {
            tracing::debug!(
                messages = msgs.len(),
                "notifier stopped; notifications kept in the inboxes only"
            );
            return;
        }
        let (notifier, _) = slot.running.get_or_insert_with(|| {
            let channels = match channels_for(self.config.webhook_url.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "the webhook is unusable; notifications go to the log only");
                    vec![Arc::new(LogChannel) as Arc<dyn Channel>]
                }
            };
            Notifier::new(channels)
        });
        notifier.publish(msgs);
    }

    fn publish_case(&self, case: &Case, notify: &[NewNotification]) {
        self.publish(OutboundMessage::for_case(case, notify));
    }

    /// The live case changes (durable reports, actions and watcher marks) from now on.
    pub fn subscribe_changes(
        &self,
    ) -> tokio::sync::broadcast::Receiver<Arc<crate::live::CaseChange>> {
        self.live.subscribe()
    }

    /// Announces a durable change of `case` by `action` to the live listeners and the duplicate
    /// index (never waits).
    pub fn announce(&self, case: &Case, action: &str) {
        self.duplicates.observe(case, self.clock.now());
        self.live.send(crate::live::CaseChange::of(case, action));
    }

    /// The outbound notifier's counters (zero before the first notification).
    pub fn notifier_stats(&self) -> NotifierStats {
        let slot = self.notifier.lock().unwrap_or_else(|e| e.into_inner());
        match (&slot.running, slot.final_stats) {
            (Some((n, _)), _) => n.stats(),
            (None, Some(s)) => s,
            (None, None) => NotifierStats::default(),
        }
    }

    /// Graceful shutdown: closes the outbound queue and waits (at most `timeout`) until what is
    /// queued has been delivered. Later notifications are stored in the inboxes only.
    pub async fn shutdown(&self, timeout: StdDuration) -> NotifierStats {
        let running = {
            let mut slot = self.notifier.lock().unwrap_or_else(|e| e.into_inner());
            let running = slot.running.take();
            slot.final_stats = Some(NotifierStats::default());
            running
        };
        let Some((notifier, task)) = running else {
            return NotifierStats::default();
        };
        let stats = notifier.stats_handle();
        // Dropping the last sender closes the queue; the task delivers the rest, then ends.
        drop(notifier);
        if tokio::time::timeout(timeout, task).await.is_err() {
            tracing::warn!(
                ?timeout,
                "outbound notifications still undelivered at shutdown"
            );
        }
        let last = stats.get();
        self.notifier
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .final_stats = Some(last);
        tracing::info!(
            delivered = last.delivered,
            failed = last.failed,
            dropped = last.dropped,
            "notifier drained"
        );
        last
    }

    // -----------------------------------------------------------------------------------------
    // Reading

    /// A case the user may see: `NotFound` when it does not exist or lies outside the scope.
    pub async fn visible_case(&self, user: &User, id: i64) -> Result<Case> {
        self.store
            .get_case(id, &CaseVisibility::for_user(user))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No case {id}.")))
    }

    /// The public ids of a case's photos, in upload order.
    pub async fn attachment_ids(&self, case_id: i64) -> Result<Vec<String>> {
        Ok(self
            .store
            .case_attachments(case_id)
            .await?
            .into_iter()
            .map(|a| a.public_id)
            .collect())
    }

    /// Row id → public id of a case's photos (to show the photos its events name).
    pub async fn attachment_public_ids(&self, case_id: i64) -> Result<HashMap<i64, String>> {
        Ok(self
            .store
            .case_attachments(case_id)
            .await?
            .into_iter()
            .map(|a| (a.id, a.public_id))
            .collect())
    }

    /// Turns the public ids of photos a report or action names into their row ids. A photo that
    /// does not exist and one uploaded by someone else get one and the same answer (nobody
    /// learns that another user's photo exists); a photo of the user's that a case already holds
    /// is named as such. At most `max_photos`, none twice.
    pub async fn resolve_attachments(
        &self,
        user: &User,
        public_ids: &[String],
    ) -> Result<Vec<i64>> {
        if public_ids.is_empty() {
            return Ok(Vec::new());
        }
        if public_ids.len() > self.config.max_photos {
            return Err(ServiceError::invalid(format!(
                "at most {} photos per report or action",
                self.config.max_photos
            )));
        }
        let mut seen = HashSet::with_capacity(public_ids.len());
        if public_ids.iter().any(|id| !seen.insert(id.as_str())) {
            return Err(ServiceError::invalid("an attachment is listed twice"));
        }
        let found = self.store.attachments_by_public_id(public_ids).await?;
        let mut ids = Vec::with_capacity(public_ids.len());
        for public in public_ids {
            match found
                .iter()
                .find(|a| &a.public_id == public && a.attachment.uploaded_by == user.id)
            {
                None => return Err(ServiceError::invalid(unknown_photo(public))),
                Some(a) if a.case_id.is_some() => {
                    return Err(ServiceError::invalid(format!(
                        "attachment {public} already belongs to a case"
                    )));
                }
                Some(a) => ids.push(a.id),
            }
        }
        Ok(ids)
    }

    /// Checks the photos of a report or action by row id: they exist, this user uploaded them, no
    /// case has them yet, and there are at most `max_photos`. (The store checks "no case has
    /// them" again inside the case's transaction, so two concurrent reports cannot both claim
    /// one photo.) Missing and someone else's are one answer.
    pub async fn check_attachments(&self, user: &User, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        if ids.len() > self.config.max_photos {
            return Err(ServiceError::invalid(format!(
                "at most {} photos per report or action",
                self.config.max_photos
            )));
        }
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != ids.len() {
            return Err(ServiceError::invalid("an attachment is listed twice"));
        }
        let found = self.store.get_attachments(&sorted).await?;
        for id in &sorted {
            match found.iter().find(|a| a.id == *id) {
                Some(a) if a.attachment.uploaded_by == user.id => {
                    if a.case_id.is_some() {
                        return Err(ServiceError::invalid(format!(
                            "attachment {} already belongs to a case",
                            a.public_id
                        )));
                    }
                }
                _ => {
                    return Err(ServiceError::invalid(
                        "an attachment does not exist or was not uploaded by you",
                    ));
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// 上报: reports a case for `user` (source from the role), locates it, checks category,
    /// photos and duplicates, suggests the department, stores it; inspector reports of the
    /// configured categories are filed directly, and dispatched at once where the matrix says so.
    pub async fn report(&self, user: &User, req: ReportRequest) -> Result<StoredCase> {
        let source = report_source(user, req.source.as_deref())?;
        // Every attempt counts (an oversized or malformed one too), before any work is done.
        self.report_limiter
            .check(Reporter {
                user_id: user.id,
                citizen: source == CaseSource::Citizen,
                address: req.client_address.as_deref(),
            })
            .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })?;
        self.report_counted(user, source, req).await
    }

    /// A report the system files (an IoT alarm's case) under `user`, one of its own accounts
    /// ([`CaseService::system_account`]): source `iot`, no rate limit (alarms are bounded by
    /// one active alarm per device and rule), located, duplicate-checked and routed like any.
    pub async fn report_as_system(&self, user: &User, req: ReportRequest) -> Result<StoredCase> {
        self.report_counted(user, CaseSource::Iot, req).await
    }

    /// [`CaseService::report`] after the rate limiter took the report (the anonymous public
    /// report counts per address only: [`CaseService::report_public`]).
    pub(crate) async fn report_counted(
        &self,
        user: &User,
        source: CaseSource,
        req: ReportRequest,
    ) -> Result<StoredCase> {
        cityops_domain::limits::check_report(
            &req.description,
            req.address.as_deref(),
            req.contact.as_deref(),
        )?;
        self.refresh().await;
        let now = self.clock.now();
        let mut cat = self.catalogue().await?;

        let component = match non_empty(req.component_id.clone()) {
            Some(id) => Some(
                self.store
                    .get_component(&id)
                    .await?
                    .ok_or_else(|| ServiceError::invalid(format!("unknown component {id}")))?,
            ),
            None => None,
        };
        let (lng, lat) = match (req.lng, req.lat, &component) {
            (Some(lng), Some(lat), _) => wgs84_point(lng, lat, req.crs.as_deref())?,
            (None, None, Some(c)) => (c.lng, c.lat),
            _ => {
                return Err(ServiceError::invalid(
                    "lng and lat are required (or a component_id to report at the component)",
                ));
            }
        };
        let Some(located) = self.index.locate(lng, lat).map(|l| l.into_owned()) else {
            return Err(ServiceError::OutsideCity);
        };
        let location = CaseLocation {
            lng,
            lat,
            grid_code: located.grid_code,
            community_code: located.community_code,
            street_code: located.street_code,
            district_code: Some(located.district_code),
            address: non_empty(req.address.clone()),
        };

        let code = non_empty(req.category_code.clone()).or_else(|| {
            component
                .as_ref()
                .filter(|_| {
                    req.category_kind
                        .is_none_or(|k| k == CategoryKind::Component)
                })
                .map(|c| c.category_code.clone())
        });
        let category = match code {
            Some(code) => {
                let kind = req
                    .category_kind
                    .or(component.as_ref().map(|_| CategoryKind::Component));
                let (c, kind) = self.resolve_category(cat, kind, &code).await?;
                cat = c;
                Some((kind, code))
            }
            None if source == CaseSource::Citizen => None,
            None => {
                return Err(ServiceError::invalid(
                    "category_code is required (only citizens may report without a category)",
                ));
            }
        };
        let attachments = self.resolve_attachments(user, &req.attachments).await?;

        let owner = component
            .as_ref()
            .and_then(|c| c.owner_department.as_deref())
            .and_then(|code| cat.department_id(code));
        let mut duplicate_of = None;
        let mut route = None;
        if let Some((kind, code)) = &category {
            duplicate_of = self
                .duplicates
                .find(self.store.as_ref(), code, lng, lat, now)
                .await?;
            route = self.routing().route(*kind, code, &location, owner);
        }
        if let Some(department_id) = req.department_id {
            route = Some(RouteDecision {
                department_id,
                auto_dispatch: false,
                by_component_owner: false,
            });
        }

        let calendar = self.calendar();
        let ctx = Context {
            now,
            calendar: &calendar,
            config: &self.config.workflow,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let input = NewReport {
            source,
            category_kind: category.as_ref().map(|(k, _)| *k),
            category_code: category.as_ref().map(|(_, c)| c.clone()),
            urgency: req.urgency.unwrap_or(Urgency::Normal),
            description: req.description.trim().to_string(),
            location,
            component_id: component.as_ref().map(|c| c.id.as_str().to_string()),
            contact: non_empty(req.contact),
            attachments,
            suggested_department_id: route.map(|r| r.department_id),
            duplicate_of,
        };
        let actor = Actor::user(user);
        let (new_case, event, notify) = case::report(input, &actor, &ctx)?;
        let local_date = now.with_timezone(&calendar.config().tz).date_naive();
        // 直接立案 (and 一键直达): the machine's steps on the report are stored with it, in
        // one durable write.
        let steps = match &category {
            Some((kind, code)) if source == CaseSource::Inspector => {
                self.direct_steps(&new_case, &cat, *kind, code, route, &ctx)
                    .await
            }
            _ => Vec::new(),
        };
        let stored = match steps.last() {
            None => {
                self.store
                    .create_case(&new_case, local_date, &event, &notify)
                    .await?
            }
            Some(last) => {
                let written: Vec<ReportStep> = steps
                    .iter()
                    .map(|t| ReportStep {
                        event: t.event.clone(),
                        notify: t.notify.clone(),
                    })
                    .collect();
                self.store
                    .create_case_with_steps(&last.case, local_date, &event, &notify, &written)
                    .await?
            }
        };
        self.publish_case(&stored, &notify);
        self.announce(&stored, &event.action);
        for t in &steps {
            self.publish_case(&stored, &t.notify);
            self.announce(&stored, &t.event.action);
        }
        let attachments = if event.attachments.is_empty() {
            Vec::new()
        } else {
            self.attachment_ids(stored.id).await?
        };
        Ok(StoredCase {
            case: stored,
            attachments,
        })
    }

    /// 直接立案: an inspector's report of a configured category is filed at once (skipping
    /// intake) and, where the matrix says so, dispatched (一键直达). Answers the machine's
    /// transitions on the unsaved report, to be stored with it; a step that cannot be taken
    /// leaves the report (or the filed case) for the people in the loop, and is logged.
    async fn direct_steps(
        &self,
        reported: &Case,
        cat: &Catalogue,
        kind: CategoryKind,
        code: &str,
        route: Option<RouteDecision>,
        ctx: &Context<'_>,
    ) -> Vec<Transition> {
        if !self
            .config
            .workflow
            .direct_file_categories
            .iter()
            .any(|c| c == code)
        {
            return Vec::new();
        }
        let standard = match self.standards(cat, kind, code).await {
            Ok(standards) => pick_standard(&standards, None, kind, code),
            Err(e) => Err(e),
        };
        let standard = match standard {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(category = code, error = %e, "direct filing failed; left for intake");
                return Vec::new();
            }
        };
        let input = ActionInput {
            comment: Some("监督员上报，直接立案".into()),
            filing_seq: standard.as_ref().map(|s| s.seq),
            ..ActionInput::default()
        };
        let file_ctx = Context {
            handle_limit: standard.map(|s| s.limit),
            suggested_department: route.map(|r| r.department_id),
            ..*ctx
        };
        let filed = match case::apply(
            reported,
            CaseAction::File,
            &Actor::system(),
            &input,
            &file_ctx,
        ) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(category = code, error = %e, "direct filing failed; left for intake");
                return Vec::new();
            }
        };
        let Some(r) = route.filter(|r| r.auto_dispatch) else {
            return vec![filed];
        };
        let input = ActionInput {
            department_id: Some(r.department_id),
            comment: Some(AUTO_DISPATCH_COMMENT.into()),
            ..ActionInput::default()
        };
        match case::apply(
            &filed.case,
            CaseAction::Dispatch,
            &Actor::system(),
            &input,
            ctx,
        ) {
            Ok(dispatched) => vec![filed, dispatched],
            Err(e) => {
                tracing::warn!(category = code, error = %e, "automatic dispatch failed; left for the dispatcher");
                vec![filed]
            }
        }
    }

    /// Applies an action as the system (automatic filing/dispatch, resuming) and stores it.
    async fn system_step(
        &self,
        case: &Case,
        action: CaseAction,
        input: &ActionInput,
        handle_limit: Option<TimeLimit>,
        suggested_department: Option<i64>,
    ) -> Result<Case> {
        let calendar = self.calendar();
        let ctx = Context {
            now: self.clock.now(),
            calendar: &calendar,
            config: &self.config.workflow,
            handle_limit,
            master: None,
            suggested_department,
        };
        let t = case::apply(case, action, &Actor::system(), input, &ctx)?;
        self.save(t).await
    }

    /// 一键直达: dispatches a freshly filed case to the matrix's department. A failure leaves the
    /// case filed for the dispatcher (and is logged).
    async fn auto_dispatch(&self, case: Case, department_id: i64) -> Case {
        let input = ActionInput {
            department_id: Some(department_id),
            comment: Some(AUTO_DISPATCH_COMMENT.into()),
            ..ActionInput::default()
        };
        match self
            .system_step(&case, CaseAction::Dispatch, &input, None, None)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(case = case.id, error = %e, "automatic dispatch failed; left for the dispatcher");
                case
            }
        }
    }

    /// Stores a transition exactly as the machine returned it, then pushes its notifications
    /// to the outbound channels.
    async fn save(&self, t: Transition) -> Result<Case> {
        let stored = self
            .store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .map_err(save_error)?;
        self.publish_case(&stored, &t.notify);
        self.announce(&stored, &t.event.action);
        Ok(stored)
    }

    /// Who verifies or checks the case: the inspector of its grid, else of its community, else
    /// of its street, else the reporter when an inspector ([`case::assign::pick_inspector`]).
    async fn inspector_for(&self, case: &Case) -> Result<Option<i64>> {
        let inspectors =
            all_pages(|req| self.store.list_users(Some(Role::Inspector), None, req)).await?;
        // Only a reporter who is an (active) inspector can take the task back, and every
        // inspector is in the list already: no further lookup.
        let reporter = case
            .reporter_id
            .and_then(|id| inspectors.iter().find(|u| u.id == id));
        Ok(case::assign::pick_inspector(
            &case.location,
            reporter,
            &inspectors,
        ))
    }

    /// Takes an action on a visible case for `user`: fills in what the machine needs (filing
    /// standard, department, inspector, master case, the matrix's department), checks photos,
    /// applies and stores it. After filing, dispatches automatically where the matrix says so
    /// (一键直达). `photos` are public ids of the user's photos (resolved after the status and
    /// role checks, and added to `input.attachments`).
    pub async fn act(
        &self,
        user: &User,
        case_id: i64,
        action: CaseAction,
        mut input: ActionInput,
        photos: &[String],
    ) -> Result<StoredCase> {
        self.refresh().await;
        let case = self.visible_case(user, case_id).await?;
        let now = self.clock.now();
        let calendar = self.calendar();
        let cfg = &self.config.workflow;
        let actor = Actor::user(user);
        let mut cat = self.catalogue().await?;

        // Status, role and state conditions first: those answer before any field is checked.
        if !case::allowed_actions(&case, &actor, now, cfg).contains(&action) {
            let ctx = Context {
                now,
                calendar: &calendar,
                config: cfg,
                handle_limit: None,
                master: None,
                suggested_department: None,
            };
            return Err(match case::apply(&case, action, &actor, &input, &ctx) {
                Err(e) => e.into(),
                Ok(_) => ServiceError::InvalidTransition {
                    message: format!("{action} is not possible now"),
                    allowed: Vec::new(),
                },
            });
        }
        if !photos.is_empty() {
            let ids = self.resolve_attachments(user, photos).await?;
            input.attachments.extend(ids);
        }
        self.check_attachments(user, &input.attachments).await?;

        let mut handle_limit = None;
        let mut master = None;
        let mut route = None;
        match action {
            CaseAction::File => {
                let code = non_empty(input.category_code.clone())
                    .or_else(|| case.category_code.clone())
                    .ok_or_else(|| ServiceError::invalid("file needs category_code"))?;
                let kind = input.category_kind.or_else(|| {
                    (case.category_code.as_deref() == Some(code.as_str()))
                        .then_some(case.category_kind)
                        .flatten()
                });
                let (c, kind) = self.resolve_category(cat, kind, &code).await?;
                cat = c;
                let standards = self.standards(&cat, kind, &code).await?;
                let standard = pick_standard(&standards, input.filing_seq, kind, &code)?;
                input.category_kind = Some(kind);
                input.category_code = Some(code.clone());
                input.filing_seq = standard.as_ref().map(|s| s.seq);
                handle_limit = standard.map(|s| s.limit);
                let owner = match &case.component_id {
                    Some(id) => self
                        .store
                        .get_component(id)
                        .await?
                        .and_then(|c| c.owner_department)
                        .and_then(|code| cat.department_id(&code)),
                    None => None,
                };
                route = self.routing().route(kind, &code, &case.location, owner);
            }
            CaseAction::Dispatch => {
                if let Some(d) = input.department_id.or(case.suggested_department_id)
                    && self.store.get_department(d).await?.is_none()
                {
                    return Err(ServiceError::invalid(format!("no department {d}")));
                }
            }
            CaseAction::SendVerify | CaseAction::SendCheck => match input.assignee_id {
                Some(id) => match self.store.get_user(id).await? {
                    Some(u) if u.active && u.has_role(Role::Inspector) => {}
                    _ => {
                        return Err(ServiceError::invalid(format!(
                            "assignee {id} is not an active inspector"
                        )));
                    }
                },
                None => {
                    input.assignee_id =
                        Some(self.inspector_for(&case).await?.ok_or_else(|| {
                            ServiceError::invalid(
                                "no inspector patrols this case's grid, community or street: give assignee_id",
                            )
                        })?);
                }
            },
            CaseAction::Merge => {
                let id = input.master_case_id.or(case.duplicate_of).ok_or_else(|| {
                    ServiceError::invalid("merge needs master_case_id (the case to merge into)")
                })?;
                input.master_case_id = Some(id);
                master = Some(
                    self.store
                        .get_case(id, &CaseVisibility::for_user(user))
                        .await?
                        .ok_or_else(|| ServiceError::invalid(format!("no master case {id}")))?,
                );
            }
            _ => {}
        }

        let ctx = Context {
            now,
            calendar: &calendar,
            config: cfg,
            handle_limit,
            master: master.as_ref(),
            suggested_department: route.map(|r| r.department_id),
        };
        let t = case::apply(&case, action, &actor, &input, &ctx)?;
        let mut stored = self.save(t).await?;
        if let Some(r) = route.filter(|r| r.auto_dispatch) {
            stored = self.auto_dispatch(stored, r.department_id).await;
        }
        let attachments = self.attachment_ids(stored.id).await?;
        Ok(StoredCase {
            case: stored,
            attachments,
        })
    }

    /// Resumes one suspended case whose suspension ran out, as the system. `Ok(false)` when
    /// another process already did (a version conflict).
    pub async fn resume_expired(&self, case: &Case) -> Result<bool> {
        let input = ActionInput {
            comment: Some("挂账期满，自动恢复".into()),
            ..ActionInput::default()
        };
        match self
            .system_step(case, CaseAction::Resume, &input, None, None)
            .await
        {
            Ok(_) => Ok(true),
            Err(ServiceError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The filing condition of a filing: the one with `seq` if given (`Invalid` when the category
/// has no such condition), else seq 0 or the first; `None` when the category has no filing
/// standard.
/// The comment of an automatic dispatch (一键直达).
const AUTO_DISPATCH_COMMENT: &str = "一键直达：按权责清单自动派遣";

fn pick_standard(
    standards: &[FilingStandard],
    seq: Option<u32>,
    kind: CategoryKind,
    code: &str,
) -> Result<Option<FilingStandard>> {
    match seq {
        Some(s) => standards
            .iter()
            .find(|f| f.seq == s)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                ServiceError::invalid(format!(
                    "category {} {code} has no filing condition {s} (it has {})",
                    kind.as_str(),
                    standards
                        .iter()
                        .map(|f| f.seq.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        None => Ok(standards
            .iter()
            .find(|f| f.seq == 0)
            .or_else(|| standards.iter().min_by_key(|f| f.seq))
            .cloned()),
    }
}

/// The case source of a report by this user (`Forbidden` when the role may not report, or may
/// not declare the given source).
pub fn report_source(user: &User, declared: Option<&str>) -> Result<CaseSource> {
    let may = |s: CaseSource| match s {
        CaseSource::Inspector => user.has_role(Role::Inspector),
        CaseSource::Citizen => user.has_role(Role::Citizen),
        CaseSource::Hotline | CaseSource::VideoAi | CaseSource::Iot => user.has_role(Role::Intake),
        CaseSource::Leader => user.has_role(Role::Leader),
    };
    match declared.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let source: CaseSource = s
                .parse()
                .map_err(|e: cityops_domain::DomainError| ServiceError::invalid(e.to_string()))?;
            if may(source) {
                Ok(source)
            } else {
                Err(ServiceError::Forbidden(format!(
                    "Your roles may not report as {} ({}).",
                    source.as_str(),
                    source.name_zh()
                )))
            }
        }
        None => [
            CaseSource::Inspector,
            CaseSource::Hotline,
            CaseSource::Leader,
            CaseSource::Citizen,
        ]
        .into_iter()
        .find(|s| may(*s))
        .ok_or_else(|| {
            ServiceError::Forbidden(
                "Reporting requires the role inspector, intake, leader or citizen.".into(),
            )
        }),
    }
}

/// Converts a point given in `crs` to WGS84 and checks it (`Invalid` for malformed values).
fn wgs84_point(lng: f64, lat: f64, crs: Option<&str>) -> Result<(f64, f64)> {
    let valid = lng.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lng)
        && (-90.0..=90.0).contains(&lat);
    if !valid {
        return Err(ServiceError::invalid(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    match crs
        .map(|c| c.trim().to_ascii_lowercase())
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        None | Some("wgs84") | Some("cgcs2000") => Ok((lng, lat)),
        Some("gcj02") => Ok(gcj02_to_wgs84(lng, lat)),
        Some(other) => Err(ServiceError::invalid(format!(
            "unknown crs {other:?}: expected wgs84 or gcj02"
        ))),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::Scope;

    fn user(roles: Vec<Role>) -> User {
        User {
            id: 1,
            username: "u".into(),
            display_name: "u".into(),
            roles,
            scope: Scope::default(),
            active: true,
            grids: vec![],
        }
    }

    #[test]
    fn sources_follow_roles() {
        assert_eq!(
            report_source(&user(vec![Role::Inspector]), None).unwrap(),
            CaseSource::Inspector
        );
        assert_eq!(
            report_source(&user(vec![Role::Intake]), None).unwrap(),
            CaseSource::Hotline
        );
        assert_eq!(
            report_source(&user(vec![Role::Intake]), Some("iot")).unwrap(),
            CaseSource::Iot
        );
        assert_eq!(
            report_source(&user(vec![Role::Citizen]), None).unwrap(),
            CaseSource::Citizen
        );
        assert_eq!(
            report_source(&user(vec![Role::Leader]), None).unwrap(),
            CaseSource::Leader
        );
        let e = report_source(&user(vec![Role::Citizen]), Some("video_ai")).unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)));
        let e = report_source(&user(vec![Role::Handler]), None).unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)));
        let e = report_source(&user(vec![Role::Intake]), Some("telepathy")).unwrap_err();
        assert!(matches!(e, ServiceError::Invalid(_)));
    }

    #[test]
    fn points_are_checked_and_converted() {
        assert!(wgs84_point(f64::NAN, 23.0, None).is_err());
        assert!(wgs84_point(200.0, 23.0, None).is_err());
        assert!(wgs84_point(114.0, 23.0, Some("mercator")).is_err());
        assert_eq!(
            wgs84_point(114.0, 23.0, Some("WGS84")).unwrap(),
            (114.0, 23.0)
        );
        let (lng, lat) = wgs84_point(114.0, 23.0, Some("gcj02")).unwrap();
        assert!((lng - 114.0).abs() > 1e-4 && (lng - 114.0).abs() < 0.01);
        assert!((lat - 23.0).abs() < 0.01);
    }

    #[test]
    fn filing_conditions_are_picked_by_seq() {
        use cityops_domain::LimitUnit;
        let f = |seq, value| FilingStandard {
            kind: CategoryKind::Component,
            code: "01001".into(),
            seq,
            filing_condition: "x".into(),
            limit: TimeLimit {
                value,
                unit: LimitUnit::WorkHour,
            },
            limit_text: String::new(),
            closure_condition: String::new(),
            old_code: None,
            source: "t".into(),
        };
        let s = vec![f(1, 4), f(2, 8)];
        assert_eq!(
            pick_standard(&s, None, CategoryKind::Component, "01001")
                .unwrap()
                .unwrap()
                .seq,
            1
        );
        assert_eq!(
            pick_standard(&s, Some(2), CategoryKind::Component, "01001")
                .unwrap()
                .unwrap()
                .limit
                .value,
            8
        );
        assert!(pick_standard(&s, Some(7), CategoryKind::Component, "01001").is_err());
        assert!(
            pick_standard(&[], None, CategoryKind::Component, "01001")
                .unwrap()
                .is_none()
        );
    }
}
