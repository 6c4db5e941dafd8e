//! The deadline watcher (超时监控): marks cases yellow (黄灯) and overdue (红灯) once per stage
//! and light, and resumes suspended cases (挂账) whose suspension ran out.
//!
//! Several server processes may run it against one database: the store takes the cases to mark
//! with `FOR UPDATE SKIP LOCKED` (PostgreSQL) or under its single writer (SQLite), and a resume
//! that loses a version race is skipped. "Now" is read only from the service's clock; the
//! interval only decides when to look. Whom a light concerns is the state machine's decision
//! ([`case::mark_light`]); the watcher stores and sends exactly that.
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use cityops_domain::PageRequest;
use cityops_domain::case::{self, Case, CaseStatus, CaseVisibility};
use cityops_store::CaseQuery;

use crate::error::Result;
use crate::notify::OutboundMessage;
use crate::service::CaseService;

/// Cases marked per store transaction.
const MARK_BATCH: u32 = 500;
/// Suspended cases read per round.
const RESUME_BATCH: u32 = 200;
/// A safety stop for one tick (each round marks or resumes at least one case).
const MAX_ROUNDS: usize = 100_000;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Cases that turned yellow or red.
    pub marked: u64,
    /// Suspended cases resumed.
    pub resumed: u64,
}

/// One pass: marks every case whose light is due to change now, then resumes every suspended
/// case whose suspension ended by now.
pub async fn tick(service: &CaseService) -> Result<TickReport> {
    service.refresh().await;
    let now = service.clock().now();
    let cal = service.calendar();
    let mut report = TickReport::default();
    // The notes of each batch, pushed to the outbound channels once the batch committed.
    let outbound = Mutex::new(Vec::new());
    // And the changes, announced to the live listeners once the batch committed.
    let changes = Mutex::new(Vec::new());
    let mark = |c: &Case| {
        let marked = case::mark_light(c, now, &cal);
        if let Some((c, event, notes)) = &marked {
            outbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(OutboundMessage::for_case(c, notes));
            changes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((c.clone(), event.action.clone()));
        }
        marked
    };
    for _ in 0..MAX_ROUNDS {
        let marked = service.store().mark_lights(now, MARK_BATCH, &mark).await;
        let committed = std::mem::take(&mut *outbound.lock().unwrap_or_else(|e| e.into_inner()));
        let changed = std::mem::take(&mut *changes.lock().unwrap_or_else(|e| e.into_inner()));
        let n = marked?;
        service.publish(committed);
        for (c, action) in &changed {
            service.announce(c, action);
        }
        if n == 0 {
            break;
        }
        report.marked += n;
    }

    let mut query = CaseQuery::new(now);
    query.statuses = vec![CaseStatus::Suspended];
    query.suspended_until_before = Some(now);
    let everything = CaseVisibility::everything();
    let mut tried = std::collections::HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let page = service
            .store()
            .list_cases(
                &query,
                &everything,
                PageRequest {
                    page: 1,
                    page_size: RESUME_BATCH,
                },
            )
            .await?;
        let fresh: Vec<Case> = page
            .items
            .into_iter()
            .filter(|c| tried.insert(c.id))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for c in &fresh {
            match service.resume_expired(c).await {
                Ok(true) => report.resumed += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(case = c.id, error = %e, "resuming a suspended case failed")
                }
            }
        }
    }
    if report.marked > 0 || report.resumed > 0 {
        tracing::info!(
            marked = report.marked,
            resumed = report.resumed,
            "deadline watcher"
        );
    }
    Ok(report)
}

async fn tick_logged(service: &CaseService) {
    if let Err(e) = tick(service).await {
        tracing::warn!(error = %e, "deadline watcher tick failed");
    }
}

/// Runs [`tick`] at once and then every `interval` until `shutdown` completes. `None` (nothing
/// spawned) when the interval is zero.
pub fn spawn(
    service: Arc<CaseService>,
    interval: StdDuration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        // Catch up at once (cases may have run over while no server was up), then keep time.
        tick_logged(&service).await;
        let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => tick_logged(&service).await,
            }
        }
        tracing::debug!("deadline watcher stopped");
    }))
}
