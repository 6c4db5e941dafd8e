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
