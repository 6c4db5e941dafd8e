//! Prometheus metrics (prometheus-client): HTTP requests by route template, method and status,
//! request latency, `locate` answers, logins, and table counts refreshed from the store at most
//! every `stats_refresh_secs`.
use cityops_store::StoreStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The ingest counters as `/metrics` last published them (the pipeline keeps its own totals;
/// each scrape adds what grew since).
#[derive(Default)]
struct IngestSeen {
    snapshot: cityops_ingest::StatsSnapshot,
}

pub(crate) struct Metrics {
    registry: Registry,
    telemetry_readings: Family<ResultLabels, Counter>,
    telemetry_rejected: Family<ReasonLabels, Counter>,
    telemetry_batches: Counter,
    telemetry_queue: Gauge,
    alarm_signals: Counter,
    alarm_cases: Counter,
    ingest_seen: std::sync::Mutex<IngestSeen>,
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
        let telemetry_readings = Family::<ResultLabels, Counter>::default();
        let telemetry_rejected = Family::<ReasonLabels, Counter>::default();
        let telemetry_batches = Counter::default();
        let telemetry_queue = Gauge::default();
        let alarm_signals = Counter::default();
        let alarm_cases = Counter::default();
        registry.register(
            "telemetry_readings",
            "readings by result: received (checked and queued), stored (new), duplicate (stored before), failed (not stored)",
            telemetry_readings.clone(),
        );
        registry.register(
            "telemetry_rejected",
            "readings refused, by reason",
            telemetry_rejected.clone(),
        );
        registry.register(
            "telemetry_batches",
            "durable writes of readings",
            telemetry_batches.clone(),
        );
        registry.register(
            "telemetry_queue_readings",
            "readings waiting in the ingest queue",
            telemetry_queue.clone(),
        );
        registry.register(
            "alarm_signals",
            "alarm rule signals (raise, escalate, clear)",
            alarm_signals.clone(),
        );
        registry.register(
            "alarm_cases",
            "alarm signals whose alarm has a case",
            alarm_cases.clone(),
        );
        Self {
            registry,
            telemetry_readings,
            telemetry_rejected,
            telemetry_batches,
            telemetry_queue,
            alarm_signals,
            alarm_cases,
            ingest_seen: Default::default(),
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

    /// Publishes the ingest pipeline's counters and queue depth.
    pub fn set_ingest(&self, now: &cityops_ingest::StatsSnapshot, queued: usize) {
        let mut seen = self.ingest_seen.lock().unwrap_or_else(|e| e.into_inner());
        let was = &seen.snapshot;
        let grow = |c: &Counter, new: u64, old: u64| {
            c.inc_by(new.saturating_sub(old));
        };
        grow(
            &self
                .telemetry_readings
                .get_or_create(&ResultLabels { result: "received" }),
            now.received,
            was.received,
        );
        grow(
            &self
                .telemetry_readings
                .get_or_create(&ResultLabels { result: "stored" }),
            now.stored_new,
            was.stored_new,
        );
        grow(
            &self.telemetry_readings.get_or_create(&ResultLabels {
                result: "duplicate",
            }),
            now.stored_duplicate,
            was.stored_duplicate,
        );
        grow(
            &self
                .telemetry_readings
                .get_or_create(&ResultLabels { result: "failed" }),
            now.write_failed,
            was.write_failed,
        );
        for (i, (reason, n)) in now.rejected.iter().enumerate() {
            let old = was.rejected.get(i).map_or(0, |(_, o)| *o);
            grow(
                &self.telemetry_rejected.get_or_create(&ReasonLabels {
                    reason: reason.as_str(),
                }),
                *n,
                old,
            );
        }
        grow(&self.telemetry_batches, now.batches, was.batches);
        grow(&self.alarm_signals, now.signals, was.signals);
        grow(&self.alarm_cases, now.alarm_cases, was.alarm_cases);
        self.telemetry_queue.set(queued as i64);
        seen.snapshot = now.clone();
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
