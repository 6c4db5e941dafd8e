//! cityops-ingest: readings in, alarms out (运行监测接入).
//!
//! ```text
//! MQTT (mqtt.rs: $share/cityops/cityops/telemetry/+)  ─┐
//! HTTP POST /api/v1/telemetry (cityops-web)           ─┴─► payload.rs: parse, check against the
//!      registry ─► bounded queue (permits = readings) ─► one writer task: takes everything
//!      queued, one durable `insert_readings` (duplicates stored once) ─► rules in memory, in
//!      order ─► signals ─► alarm task ─► MonitoringService::apply_signal (alarm, case)
//!      ─► the submitters are answered (HTTP 200 / MQTT PUBACK) only after the write.
//! ```
//!
//! Backpressure is explicit: the queue holds at most `queue_readings` readings. HTTP batches
//! that do not fit are refused at once ([`IngestError::Overloaded`], 503); the MQTT path waits
//! for room, so it stops reading from the broker (which holds the messages). Nothing here
//! panics on input: every bad reading is counted by reason ([`IngestStats`]) and logged.
//!
//! Invariants: no HTTP types, no SQL; the store only through `cityops_app`'s service; every
//! "now" from the injected clock.
pub mod mqtt;
pub mod payload;
pub mod simulate;
mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cityops_app::MonitoringService;
use cityops_app::monitoring::DeviceEntry;
use cityops_domain::monitoring::rules::{self, RuleKind};
use cityops_domain::monitoring::{AlarmSignal, Reading, RejectReason, Rule, RuleState};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

pub use payload::{Batch, BatchReading, Parsed};
pub use stats::{IngestStats, StatsSnapshot};

/// How the pipeline is sized.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestConfig {
    /// Readings waiting to be written at most (the bounded queue). Default 200,000.
    pub queue_readings: usize,
    /// Readings one write takes at most. Default 20,000.
    pub batch_max: usize,
    /// How often offline rules and clear timers are checked. Default 10 s.
    pub tick_every: Duration,
    /// Signals waiting for the alarm task at most. Default 4,096.
    pub alarm_queue: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            queue_readings: 200_000,
            batch_max: 20_000,
            tick_every: Duration::from_secs(10),
            alarm_queue: 4_096,
        }
    }
}

/// Why readings were not taken.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    /// The queue is full: try again shortly.
    #[error("the ingest queue is full; retry shortly")]
    Overloaded,
    /// More readings than the queue can ever hold at once.
    #[error("a batch may hold at most {0} readings")]
    TooLarge(usize),
    /// The store did not take them (nothing acknowledged).
    #[error("the readings could not be stored: {0}")]
    Store(String),
    /// The pipeline has stopped.
    #[error("ingest has stopped")]
    Stopped,
}

struct Job {
    readings: Vec<Reading>,
    _permit: OwnedSemaphorePermit,
    done: Option<oneshot::Sender<Result<u64, IngestError>>>,
}

/// A handle on the pipeline: cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    tx: mpsc::UnboundedSender<Job>,
    room: Arc<Semaphore>,
    capacity: usize,
    stats: Arc<IngestStats>,
    monitoring: Arc<MonitoringService>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// A submission waiting for its write.
pub struct Pending(oneshot::Receiver<Result<u64, IngestError>>);

impl Pending {
    /// Waits until the readings are durably stored: how many were new.
    pub async fn stored(self) -> Result<u64, IngestError> {
        self.0.await.unwrap_or(Err(IngestError::Stopped))
    }
}

impl Ingest {
    /// Starts the writer and the alarm task.
    pub fn spawn(
        monitoring: Arc<MonitoringService>,
        config: IngestConfig,
    ) -> (Ingest, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (alarm_tx, alarm_rx) = mpsc::channel(config.alarm_queue.max(1));
        let stats = Arc::new(IngestStats::default());
        let room = Arc::new(Semaphore::new(config.queue_readings));
        let ingest = Ingest {
            tx,
            room: room.clone(),
            capacity: config.queue_readings,
            stats: stats.clone(),
            monitoring: monitoring.clone(),
        };
        let alarms = tokio::spawn(alarm_task(monitoring.clone(), alarm_rx, stats.clone()));
        let writer = Writer {
            monitoring,
            stats,
            states: HashMap::new(),
            alarm_tx,
            batch_max: config.batch_max.max(1),
            seen_read_at: None,
        };
        let handle = tokio::spawn(async move {
            writer.run(rx, config.tick_every).await;
            // The writer ends when every handle is gone; the alarm task when the writer's
            // sender is dropped, after the last signals.
            let _ = alarms.await;
        });
        (ingest, handle)
    }

    pub fn stats(&self) -> &Arc<IngestStats> {
        &self.stats
    }

    pub fn monitoring(&self) -> &Arc<MonitoringService> {
        &self.monitoring
    }

    /// Readings waiting to be written now.
    pub fn queued(&self) -> usize {
        self.capacity - self.room.available_permits()
    }

    /// Counts the rejects of a parsed payload.
    pub fn count_rejects(&self, rejected: &[(usize, RejectReason)]) {
        for (_, r) in rejected {
            self.stats.reject(*r);
        }
    }

    fn permits(&self, n: usize) -> Result<u32, IngestError> {
        if n > self.capacity {
            return Err(IngestError::TooLarge(self.capacity));
        }
        Ok(n as u32)
    }

    fn enqueue(
        &self,
        readings: Vec<Reading>,
        permit: OwnedSemaphorePermit,
    ) -> Result<Pending, IngestError> {
        let (done, wait) = oneshot::channel();
        self.stats.received(readings.len());
        self.tx
            .send(Job {
                readings,
                _permit: permit,
                done: Some(done),
            })
            .map_err(|_| IngestError::Stopped)?;
        Ok(Pending(wait))
    }

    /// Queues readings if there is room now (the HTTP path): `Overloaded` otherwise.
    pub fn try_submit(&self, readings: Vec<Reading>) -> Result<Pending, IngestError> {
        let n = self.permits(readings.len().max(1))?;
        let permit = self.room.clone().try_acquire_many_owned(n).map_err(|_| {
            self.stats
                .reject_n(RejectReason::Overloaded, readings.len());
            IngestError::Overloaded
        })?;
        self.enqueue(readings, permit)
    }

    /// Queues readings, waiting for room (the MQTT path: while it waits, the broker holds the
    /// messages).
    pub async fn submit(&self, readings: Vec<Reading>) -> Result<Pending, IngestError> {
        let n = self.permits(readings.len().max(1))?;
        let permit = self
            .room
            .clone()
            .acquire_many_owned(n)
            .await
            .map_err(|_| IngestError::Stopped)?;
        self.enqueue(readings, permit)
    }
}

type Signal = (Arc<DeviceEntry>, Arc<Rule>, AlarmSignal);

/// The one task that writes readings and runs the rules (it alone holds their state).
struct Writer {
    monitoring: Arc<MonitoringService>,
    stats: Arc<IngestStats>,
    states: HashMap<(i64, i64), RuleState>,
    alarm_tx: mpsc::Sender<Signal>,
    batch_max: usize,
    /// When the store was last asked when devices were seen.
    seen_read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Delays between attempts to store a batch before its submitters are told it failed.
const RETRIES: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, tick_every: Duration) {
        let mut tick = tokio::time::interval(tick_every.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                job = rx.recv() => {
                    let Some(job) = job else { break };
                    let mut jobs = vec![job];
                    let mut n = jobs[0].readings.len();
                    // Everything queued meanwhile goes into the same write (group commit).
                    while n < self.batch_max {
                        match rx.try_recv() {
                            Ok(j) => {
                                n += j.readings.len();
                                jobs.push(j);
                            }
                            Err(_) => break,
                        }
                    }
                    self.write(jobs).await;
                }
                _ = tick.tick() => self.tick().await,
            }
        }
    }

    async fn write(&mut self, mut jobs: Vec<Job>) {
        let readings: Vec<Reading> = jobs
            .iter()
            .flat_map(|j| j.readings.iter().copied())
            .collect();
        let store = self.monitoring.store().clone();
        let mut result = store.insert_readings(&readings).await;
        for delay in RETRIES {
            if result.is_ok() {
                break;
            }
            tracing::warn!(readings = readings.len(), error = ?result.as_ref().err(), "storing readings failed; retrying");
            tokio::time::sleep(delay).await;
            result = store.insert_readings(&readings).await;
        }
        match result {
            Ok(new) => {
                self.stats.stored(readings.len(), new);
                self.evaluate(&readings).await;
                for j in &mut jobs {
                    if let Some(done) = j.done.take() {
                        let _ = done.send(Ok(new));
                    }
                }
            }
            Err(e) => {
                self.stats.write_failed(readings.len());
                tracing::error!(readings = readings.len(), error = %e, "readings not stored; not acknowledged");
                for j in &mut jobs {
                    if let Some(done) = j.done.take() {
                        let _ = done.send(Err(IngestError::Store(e.to_string())));
                    }
                }
            }
        }
    }

    /// The rules of each reading's device, in the order the readings came.
    async fn evaluate(&mut self, readings: &[Reading]) {
        let registry = self.monitoring.registry();
        let tz = self.monitoring.tz();
        for r in readings {
            let Some(entry) = registry.by_key(r.device_key) else {
                continue;
            };
            for rule in &entry.rules {
                let state = self.states.entry((entry.key, rule.id)).or_default();
                if let Some(signal) = rules::evaluate(rule, state, r, tz) {
                    self.signal(entry.clone(), rule.clone(), signal).await;
                }
            }
        }
    }

    /// Offline rules and clear timers. Offline counts from the latest reading any process
    /// stored (the store's minute rollups of the last hours): with several servers sharing the
    /// subscription, a device's readings are spread over them.
    async fn tick(&mut self) {
        let registry = self.monitoring.registry();
        let now = self.monitoring.clock().now();
        // Once a minute, over the longest offline time of the rules (plus a margin).
        let due = self
            .seen_read_at
            .is_none_or(|t| now - t >= chrono::Duration::seconds(60));
        let window = registry
            .devices()
            .flat_map(|e| e.rules.iter())
            .filter_map(|r| match r.kind {
                RuleKind::Offline { minutes, .. } => Some(i64::from(minutes)),
                _ => None,
            })
            .max();
        let seen = match window {
            Some(m) if due => {
                self.seen_read_at = Some(now);
                self.monitoring
                    .store()
                    .last_seen(now - chrono::Duration::minutes(m + 10))
                    .await
            }
            _ => Ok(Vec::new()),
        };
        match seen {
            Ok(seen) => {
                for (key, at) in seen {
                    let Some(entry) = registry.by_key(key) else {
                        continue;
                    };
                    for rule in &entry.rules {
                        if matches!(rule.kind, RuleKind::Offline { .. }) {
                            let state = self.states.entry((key, rule.id)).or_default();
                            rules::observe(rule, state, at);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "when devices were last seen could not be read"),
        }
        for entry in registry.devices() {
            if !entry.device.active {
                continue;
            }
            for rule in &entry.rules {
                let offline = matches!(rule.kind, RuleKind::Offline { .. });
                let key = (entry.key, rule.id);
                if !offline && !self.states.contains_key(&key) {
                    continue;
                }
                let state = self.states.entry(key).or_default();
                if let Some(signal) = rules::tick(rule, state, now) {
                    self.signal(entry.clone(), rule.clone(), signal).await;
                }
            }
        }
    }

    async fn signal(&self, entry: Arc<DeviceEntry>, rule: Arc<Rule>, signal: AlarmSignal) {
        self.stats.signalled();
        if self.alarm_tx.send((entry, rule, signal)).await.is_err() {
            tracing::error!("the alarm task has stopped; a signal is lost");
        }
    }
}

async fn alarm_task(
    monitoring: Arc<MonitoringService>,
    mut rx: mpsc::Receiver<Signal>,
    stats: Arc<IngestStats>,
) {
    while let Some((entry, rule, signal)) = rx.recv().await {
        let mut attempt = 0;
        loop {
            match monitoring.apply_signal(&entry, &rule, signal).await {
                Ok(Some(a)) => {
                    stats.alarm_applied(a.case_id.is_some());
                    break;
                }
                Ok(None) => break,
                Err(e) if attempt < RETRIES.len() => {
                    tracing::warn!(device = %entry.device.id, rule = rule.id, error = %e, "applying an alarm signal failed; retrying");
                    tokio::time::sleep(RETRIES[attempt]).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(device = %entry.device.id, rule = rule.id, error = %e, "an alarm signal could not be applied");
                    break;
                }
            }
        }
    }
}
