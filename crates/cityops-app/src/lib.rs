//! cityops-app: the application layer between the entry points and the store.
//!
//! Every way a case is created, moved or read — the JSON API and the console (`cityops-web`,
//! `cityops-ui`), later Open311, MQTT alarms and the scheduler — calls the [`CaseService`]: it
//! looks up what the pure state machine of `cityops-domain` cannot know, applies it and stores
//! exactly what it decided. Beside it: the deadline [`watcher`] and the outbound [`notify`]
//! queue, the [`caches`] that stay true across processes, and the third-party [`review`]
//! service (第三方评价) over the same store and clock.
//!
//! Invariants: no HTTP, no SQL, no driver types — storage only through `Arc<dyn Store>`, errors as
//! [`ServiceError`] (each front end maps them onto its own codes); every "now" from the injected
//! [`cityops_domain::Clock`]; the service never edits what `case::report`, `case::apply` or
//! `case::mark_light` returned.

pub mod admin;
pub mod caches;
pub mod dashboard;
pub mod duplicates;
pub mod error;
pub mod eval_cache;
pub mod evaluation;
pub mod export;
pub mod live;
pub mod monitoring;
pub mod notify;
pub mod objects;
pub mod open311;
pub mod poi;
pub mod report;
pub mod report_limit;
pub mod review;
pub mod service;
pub mod sessions;
pub mod watcher;

use std::sync::Arc;
use std::time::Duration;

pub use caches::Catalogue;
pub use error::{Result, ServiceError};
pub use live::{CaseChange, LiveChanges};
pub use monitoring::{MonitoringService, MonitoringSettings};
pub use objects::{ObjectService, ObjectSettings};
pub use open311::Open311Service;
pub use report_limit::{ReportLimiter, ReportLimits};
pub use review::ReviewService;
pub use service::{
    CaseService, PUBLIC_REPORTER, PublicReceipt, ReportRequest, ServiceConfig, StoredCase,
    follow_token_hash, report_source,
};

/// Runs [`CaseService::refresh`] every `interval` until `shutdown` completes, so that a change
/// of the routing matrix, the calendar or the catalogue made through another process is used
/// here within `interval` even while no case is reported. `None` (nothing spawned) when the
/// interval is zero.
pub fn spawn_refresh(
    service: Arc<CaseService>,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    spawn_every(
        service,
        interval,
        shutdown,
        |s| async move { s.refresh().await },
    )
}

/// Runs `task` at once and then every `interval` (a late tick waits, ticks are never bunched)
/// until `shutdown` completes. `None` (nothing spawned) when the interval is zero.
pub(crate) fn spawn_every<F, Fut>(
    service: Arc<CaseService>,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
    task: F,
) -> Option<tokio::task::JoinHandle<()>>
where
    F: Fn(Arc<CaseService>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => task(service.clone()).await,
            }
        }
    }))
}
