//! Configuration: built-in defaults, then a TOML file (`--config`), then `CITYOPS_*` environment
//! variables, then command-line flags.
use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…` (CITYOPS_DATABASE_URL).
    pub database_url: String,
    /// Address to listen on (CITYOPS_LISTEN).
    pub listen: String,
    /// Session and token lifetime in hours.
    pub session_ttl_hours: i64,
    /// Failed logins per (username, client address) before further attempts from there wait,
    /// 1 s, 2 s, 4 s, … (good logins are not counted) (CITYOPS_LOGIN_FREE_FAILURES).
    pub login_free_failures: u32,
    /// Failed logins per client address, any usernames, before that address waits likewise.
    pub login_free_failures_per_ip: u32,
    /// The longest such wait, in seconds (at most a day).
    pub login_max_delay_secs: u64,
    /// Login attempts, good or bad, per minute and client address.
    pub login_per_minute_per_ip: u32,
    /// Always mark the session cookie `Secure` and send HSTS (served over TLS). Without it both
    /// follow the request: HTTPS as a trusted proxy reports it (CITYOPS_SECURE_COOKIES).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` / `Forwarded` are believed:
    /// IP addresses or CIDR blocks, a list or one comma-separated string
    /// (CITYOPS_TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1").
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// The public origin of the site (`https://city.example`), accepted as `Origin` of
    /// state-changing requests besides the one `Host` names (CITYOPS_PUBLIC_ORIGIN).
    pub public_origin: Option<String>,
    /// Bearer token for `/metrics` from other machines; without it `/metrics` answers only on
    /// loopback (CITYOPS_METRICS_TOKEN).
    pub metrics_token: Option<String>,
    /// MQTT broker the server takes telemetry from (CITYOPS_MQTT_URL, `mqtt://host:port`);
    /// empty: no MQTT ingest (HTTP batches still work).
    pub mqtt_url: String,
    /// This process's MQTT client id (CITYOPS_MQTT_CLIENT_ID); the broker keeps one persistent
    /// session per id, so give each server process its own, stable across restarts. Default
    /// `cityops-<listen address>`.
    pub mqtt_client_id: Option<String>,
    /// The shared subscription group (CITYOPS_MQTT_GROUP): processes of one group share the
    /// readings, each message goes to one of them.
    pub mqtt_group: String,
    /// The topics devices publish under, `{mqtt_topic}/{device_id}` (CITYOPS_MQTT_TOPIC;
    /// default `cityops/telemetry`).
    pub mqtt_topic: String,
    /// 1: each message acknowledged after its readings are durably stored; 0: at most once
    /// (CITYOPS_MQTT_QOS).
    pub mqtt_qos: u8,
    /// MQTT connections per process, all in the group (CITYOPS_MQTT_CONNECTIONS): the broker
    /// sends each only so many unacknowledged messages, and a message is acknowledged after its
    /// readings are written, so more connections carry more at once.
    pub mqtt_connections: usize,
    /// How long the broker keeps a process's MQTT session after its connection drops, in seconds
    /// (CITYOPS_MQTT_SESSION_EXPIRY_SECS): readings queued meanwhile survive a restart within it;
    /// a process that leaves for good keeps taking its share of the group's readings until then.
    pub mqtt_session_expiry_secs: u32,
    /// 运行监测 (`[monitoring]`): `retention_days`, `reminder_every_minutes`,
    /// `escalate_after` (reminders before enforcement), `max_future_secs` (clock skew of
    /// devices), `upkeep_interval_secs` (reminders, registry check, retention; 0 = never).
    pub monitoring: MonitoringConfig,
    /// `tracing` filter, e.g. `info,cityops_web=debug` (CITYOPS_LOG).
    pub log: String,
    /// Where evidence photos are stored, by content hash (CITYOPS_EVIDENCE_DIR); relative paths
    /// are taken from the working directory.
    pub evidence_dir: String,
    /// Largest photo upload in bytes.
    pub max_upload_bytes: usize,
    /// Most photos one report or action may carry.
    pub max_photos: usize,
    /// How often the deadline watcher runs, in seconds (0 = never).
    pub watcher_interval_secs: u64,
    /// How often each server process checks whether another process changed the routing
    /// matrix, the calendar or the catalogue, in milliseconds (CITYOPS_CACHE_CHECK_MILLIS).
    pub cache_check_millis: u64,
    /// How long a server process trusts a session it looked up before asking the database again,
    /// in milliseconds (CITYOPS_SESSION_CACHE_MILLIS; 0 = ask every time). A logout through this
    /// process ends the session at once; a logout or deactivation elsewhere within this time.
    pub session_cache_millis: u64,
    /// Outbound webhook for notifications (POST JSON, `http://`); unset = log only.
    pub webhook_url: Option<String>,
    /// Share of a time limit after which the light turns yellow (0–1).
    pub yellow_ratio: f64,
    /// Duplicate check: radius in metres.
    pub duplicate_radius_m: f64,
    /// Duplicate check: window in hours.
    pub duplicate_window_hours: i64,
    /// Duplicate check: how often each server process reads the reports and changes other
    /// processes made into its in-memory duplicate index, in milliseconds
    /// (CITYOPS_DUPLICATE_CATCH_UP_MILLIS; 0 = before every report).
    pub duplicate_catch_up_millis: u64,
    /// Duplicate check: most open reports one process holds in its duplicate index (the oldest
    /// leave first beyond it).
    pub duplicate_index_max: usize,
    /// Categories (5-digit codes) whose inspector reports are filed directly (直接立案).
    pub direct_file_categories: Vec<String>,
    /// Reports per minute per staff account (CITYOPS_REPORT_RATE_PER_MINUTE; a burst of this
    /// many, then one every 60/n s; 0 = no limit, as the benchmarks run).
    pub report_rate_per_minute: u32,
    /// Reports per minute per citizen account (CITYOPS_CITIZEN_REPORT_RATE_PER_MINUTE; 0 = no
    /// limit).
    pub citizen_report_rate_per_minute: u32,
    /// Citizens' reports per minute per client address
    /// (CITYOPS_CITIZEN_REPORT_RATE_PER_ADDRESS; 0 = no limit).
    pub citizen_report_rate_per_address: u32,
    /// Open311 requests (POST) per minute and client application's API key
    /// (CITYOPS_OPEN311_RATE_PER_KEY; 0 = no limit). Each also counts on the citizens' quota of
    /// its client address.
    pub open311_rate_per_key: u32,
    /// Expensive requests (case text search, counts, exports) one user may run at once
    /// (CITYOPS_EXPENSIVE_PER_USER; 0 = no limit).
    pub expensive_per_user: u32,
    /// Public look-ups (the citizens' search for the nearest toilet, park …) per minute and client
    /// address (CITYOPS_PUBLIC_LOOKUPS_PER_MINUTE; 0 = no limit).
    pub public_lookups_per_minute: u32,
    /// Basemap tiles of the console's maps, for a city with a tile server
    /// (CITYOPS_MAP_TILE_URL, e.g. `https://tiles.city.example/{z}/{x}/{y}.png`); unset = no
    /// basemap (district, street, community and grid boundaries only).
    pub map_tile_url: Option<String>,
    /// 综合评价 (`[evaluation]` in the TOML file): weights per kind (percent, summing to 100),
    /// score bands of the count indicators, grade thresholds, intake send limits. Defaults from
    /// STANDARDS.md §5.3; see docs/EVALUATION.md.
    pub evaluation: cityops_domain::evaluation::EvaluationConfig,
    /// 城市管理指数 (`[city_index]`): indicator weights and the overdue density that scores 0.
    pub city_index: cityops_domain::evaluation::CityIndexConfig,
    /// Third-party review (第三方评价): cases drawn per department and period at least
    /// (CITYOPS_REVIEW_SAMPLE_SIZE, 1–1000).
    pub review_sample_size: u32,
    /// … and at least this share of its closed cases, in percent
    /// (CITYOPS_REVIEW_MIN_SHARE_PERCENT, 0–100).
    pub review_min_share_percent: u32,
    /// The city's salt of the reproducible draw (CITYOPS_REVIEW_SALT): set one per deployment
    /// and keep it from the departments until a period is over.
    pub review_salt: String,
    /// 报表 (`[reports]`): the local time after which a working day's reports are produced
    /// (`at = "07:30"`), how many days a missing report is still produced (`backfill_days`),
    /// which kinds (`kinds = ["daily", "weekly", "monthly"]`), whether each district gets its
    /// own (`districts`) and the length of the top lists (`top`).
    pub reports: cityops_domain::report::ReportSchedule,
    /// How often the server looks for reports that are due, in seconds (0 = never)
    /// (CITYOPS_REPORTS_INTERVAL_SECS).
    pub reports_interval_secs: u64,
    /// Open311 GeoReport v2 (`[open311]`): the published `services` (codes such as `M06010`,
    /// `C01037`), their English names (`names_en`), the names `jurisdiction_id` may take besides
    /// the city's code and name (`jurisdictions`), the discovery document's `contact` and
    /// `key_service`, and `answer_tokens` (POST answers a token instead of the id). See
    /// docs/OPEN311.md.
    pub open311: cityops_domain::open311::Open311Config,
    /// 一码管全域 (`[objects]`): `upkeep_interval_secs` (the 三教而罚 ladder; 0 = never),
    /// `enforcement_departments` (codes tried for the enforcement case, `{district}`/`{city}`
    /// replaced), `owner_departments` (the default supervising department, `{street}`…),
    /// `max_scan_distance_m`, `ladder` (the stages' periods). See docs/OBJECTS.md.
    pub objects: ObjectsConfig,
}

/// `[objects]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectsConfig {
    pub upkeep_interval_secs: u64,
    pub enforcement_departments: Vec<String>,
    pub owner_departments: Vec<String>,
    pub max_scan_distance_m: f64,
    pub ladder: cityops_domain::objects::LadderConfig,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        let s = cityops_app::ObjectSettings::default();
        Self {
            upkeep_interval_secs: s.upkeep_interval.as_secs(),
            enforcement_departments: s.enforcement_departments,
            owner_departments: s.owner_departments,
            max_scan_distance_m: s.position.max_distance_m,
            ladder: s.ladder,
        }
    }
}

impl ObjectsConfig {
    /// The object service's settings (the street lines come from the demo city, if any).
    pub fn settings(&self) -> cityops_app::ObjectSettings {
        cityops_app::ObjectSettings {
            upkeep_interval: std::time::Duration::from_secs(self.upkeep_interval_secs),
            enforcement_departments: self.enforcement_departments.clone(),
            owner_departments: self.owner_departments.clone(),
            position: cityops_domain::objects::PositionConfig {
                max_distance_m: self.max_scan_distance_m,
            },
            ladder: self.ladder,
            ..Default::default()
        }
    }
}

/// `[monitoring]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitoringConfig {
    pub retention_days: u32,
    pub reminder_every_minutes: u32,
    pub escalate_after: u32,
    pub max_future_secs: u32,
    pub upkeep_interval_secs: u64,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        let s = cityops_app::MonitoringSettings::default();
        Self {
            retention_days: s.retention_days,
            reminder_every_minutes: s.reminders.every_minutes,
            escalate_after: s.reminders.escalate_after,
            max_future_secs: s.window.max_future.num_seconds() as u32,
            upkeep_interval_secs: 30,
        }
    }
}

impl MonitoringConfig {
    /// The monitoring service's settings.
    pub fn settings(&self) -> cityops_app::MonitoringSettings {
        let d = cityops_app::MonitoringSettings::default();
        cityops_app::MonitoringSettings {
            window: cityops_domain::monitoring::ReadingWindow {
                max_future: chrono::Duration::seconds(i64::from(self.max_future_secs)),
                max_age: chrono::Duration::days(i64::from(self.retention_days.max(1))),
            },
            retention_days: self.retention_days.max(1),
            reminders: cityops_domain::monitoring::ReminderPolicy {
                every_minutes: self.reminder_every_minutes.max(1),
                escalate_after: self.escalate_after,
            },
            ..d
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://cityops.db".into(),
            listen: "127.0.0.1:8080".into(),
            session_ttl_hours: 12,
            login_free_failures: 5,
            login_free_failures_per_ip: 20,
            login_max_delay_secs: 900,
            login_per_minute_per_ip: 60,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            public_origin: None,
            metrics_token: None,
            mqtt_url: "mqtt://127.0.0.1:1883".into(),
            mqtt_client_id: None,
            mqtt_group: "cityops".into(),
            mqtt_topic: "cityops/telemetry".into(),
            mqtt_qos: 1,
            mqtt_connections: 4,
            mqtt_session_expiry_secs: 600,
            monitoring: MonitoringConfig::default(),
            log: "info".into(),
            evidence_dir: "cityops-evidence".into(),
            max_upload_bytes: 10 * 1024 * 1024,
            max_photos: 9,
            watcher_interval_secs: 30,
            cache_check_millis: 2000,
            session_cache_millis: 1000,
            webhook_url: None,
            yellow_ratio: 0.8,
            duplicate_radius_m: 50.0,
            duplicate_window_hours: 72,
            duplicate_catch_up_millis: 1000,
            duplicate_index_max: 1_000_000,
            direct_file_categories: Vec::new(),
            report_rate_per_minute: 600,
            citizen_report_rate_per_minute: 10,
            citizen_report_rate_per_address: 30,
            open311_rate_per_key: 60,
            expensive_per_user: 2,
            public_lookups_per_minute: 120,
            map_tile_url: None,
            evaluation: Default::default(),
            city_index: Default::default(),
            review_sample_size: cityops_domain::review::DEFAULT_SAMPLE_SIZE,
            review_min_share_percent: cityops_domain::review::DEFAULT_MIN_SHARE_PERCENT,
            review_salt: cityops_domain::review::ReviewConfig::default().salt,
            reports: Default::default(),
            reports_interval_secs: 300,
            open311: Default::default(),
            objects: ObjectsConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults ← TOML file (when given) ← `CITYOPS_*` environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.exists(),
                "config file {} does not exist",
                path.display()
            );
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("CITYOPS_"));
        let config: Config = fig.extract().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// The trusted proxies, parsed.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<cityops_web::net::Cidr>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|e: String| anyhow::anyhow!("trusted_proxies: {e}"))
            })
            .collect()
    }

    /// The third-party review's part of the configuration.
    pub fn review(&self) -> cityops_domain::review::ReviewConfig {
        cityops_domain::review::ReviewConfig {
            sample_size: self.review_sample_size,
            min_share_percent: self.review_min_share_percent,
            salt: self.review_salt.clone(),
        }
    }

    /// Checks values the types cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.trusted_proxies()?;
        self.evaluation
            .validate()
            .map_err(|e| anyhow::anyhow!("[evaluation]: {e}"))?;
        self.city_index
            .validate()
            .map_err(|e| anyhow::anyhow!("[city_index]: {e}"))?;
        self.review().validate()?;
        self.reports
            .validate()
            .map_err(|e| anyhow::anyhow!("[reports]: {e}"))?;
        self.objects
            .ladder
            .validate()
            .map_err(|e| anyhow::anyhow!("[objects] ladder: {e}"))?;
        anyhow::ensure!(
            self.objects.max_scan_distance_m.is_finite() && self.objects.max_scan_distance_m > 0.0,
            "[objects] max_scan_distance_m must be positive"
        );
        self.open311
            .service_codes()
            .map_err(|e| anyhow::anyhow!("[open311] services: {e}"))?;
        if let Some(origin) = &self.public_origin {
            anyhow::ensure!(
                origin.starts_with("https://") || origin.starts_with("http://"),
                "public_origin must look like https://host[:port], got {origin:?}"
            );
        }
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.yellow_ratio),
            "yellow_ratio must lie between 0 and 1, got {}",
            self.yellow_ratio
        );
        anyhow::ensure!(
            self.duplicate_radius_m.is_finite() && self.duplicate_radius_m >= 0.0,
            "duplicate_radius_m must be a distance in metres ≥ 0"
        );
        anyhow::ensure!(
            self.duplicate_window_hours >= 0,
            "duplicate_window_hours must be ≥ 0"
        );
        anyhow::ensure!(
            self.duplicate_index_max > 0,
            "duplicate_index_max must be ≥ 1"
        );
        if let Some(url) = self
            .map_tile_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            anyhow::ensure!(
                (url.starts_with("https://") || url.starts_with("http://"))
                    && ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)),
                "map_tile_url must be an http(s) URL with {{z}}, {{x}} and {{y}}, got {url:?}"
            );
        }
        for code in &self.direct_file_categories {
            anyhow::ensure!(
                code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()),
                "direct_file_categories: {code:?} is not a 5-digit category code"
            );
        }
        Ok(())
    }
}

/// A list of strings, or one string of comma-separated items (what an environment variable
/// holds).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match ListOrCommas::deserialize(d)? {
        ListOrCommas::List(l) => l,
        ListOrCommas::Commas(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn file_then_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "listen = \"0.0.0.0:9000\"\nsession_ttl_hours = 4\n",
            )?;
            jail.set_env("CITYOPS_DATABASE_URL", "postgres://x@127.0.0.1/db");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.session_ttl_hours, 4);
            assert_eq!(c.database_url, "postgres://x@127.0.0.1/db");
            assert_eq!(c.login_free_failures, 5);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn report_keys() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.reports, cityops_domain::report::ReportSchedule::default());
            assert_eq!(c.reports_interval_secs, 300);
            jail.create_file(
                "c.toml",
                "[reports]\nat = \"08:15\"\nbackfill_days = 3\nkinds = [\"daily\"]\ndistricts = false\n",
            )?;
            jail.set_env("CITYOPS_REPORTS_INTERVAL_SECS", "0");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.reports.at.to_string(), "08:15:00");
            assert_eq!(c.reports.backfill_days, 3);
            assert_eq!(
                c.reports.kinds,
                vec![cityops_domain::report::ReportKind::Daily]
            );
            assert!(!c.reports.districts);
            assert_eq!(c.reports_interval_secs, 0);
            jail.create_file("bad.toml", "[reports]\ntop = 0\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            jail.create_file("bad2.toml", "[reports]\nkinds = [\"yearly\"]\n")?;
            assert!(Config::load(Some(Path::new("bad2.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn workflow_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "direct_file_categories = [\"01001\"]\nyellow_ratio = 0.75\nwebhook_url = \"http://127.0.0.1:9/hook\"\n",
            )?;
            jail.set_env("CITYOPS_WATCHER_INTERVAL_SECS", "5");
            jail.set_env("CITYOPS_EVIDENCE_DIR", "/var/lib/cityops/evidence");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.direct_file_categories, vec!["01001".to_string()]);
            assert_eq!(c.yellow_ratio, 0.75);
            assert_eq!(c.webhook_url.as_deref(), Some("http://127.0.0.1:9/hook"));
            assert_eq!(c.watcher_interval_secs, 5);
            assert_eq!(c.evidence_dir, "/var/lib/cityops/evidence");
            assert_eq!(c.duplicate_radius_m, 50.0);
            jail.create_file("bad.toml", "yellow_ratio = 1.5\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            jail.create_file("bad2.toml", "direct_file_categories = [\"1\"]\n")?;
            assert!(Config::load(Some(Path::new("bad2.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn limit_keys() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                (
                    c.report_rate_per_minute,
                    c.citizen_report_rate_per_minute,
                    c.citizen_report_rate_per_address,
                    c.expensive_per_user
                ),
                (600, 10, 30, 2)
            );
            jail.set_env("CITYOPS_REPORT_RATE_PER_MINUTE", "0");
            jail.set_env("CITYOPS_CITIZEN_REPORT_RATE_PER_MINUTE", "5");
            jail.set_env("CITYOPS_EXPENSIVE_PER_USER", "0");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.report_rate_per_minute, 0);
            assert_eq!(c.citizen_report_rate_per_minute, 5);
            assert_eq!(c.expensive_per_user, 0);
            let w = crate::app::web_config(&c);
            assert_eq!(w.report_limits.staff_per_minute, 0);
            assert_eq!(w.report_limits.citizen_per_minute, 5);
            assert_eq!(w.report_limits.citizen_per_address_per_minute, 30);
            assert_eq!(w.expensive_per_user, 0);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn security_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\npublic_origin = \"https://city.example\"\n",
            )?;
            jail.set_env("CITYOPS_METRICS_TOKEN", "s3cret-metrics");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies, ["10.0.0.0/8", "::1"]);
            assert_eq!(c.trusted_proxies().map_err(|e| e.to_string())?.len(), 2);
            assert_eq!(c.metrics_token.as_deref(), Some("s3cret-metrics"));
            jail.set_env("CITYOPS_TRUSTED_PROXIES", "127.0.0.1, 192.168.0.0/16");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.trusted_proxies, ["127.0.0.1", "192.168.0.0/16"]);
            jail.set_env("CITYOPS_TRUSTED_PROXIES", "my-proxy");
            assert!(Config::load(Some(Path::new("c.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn review_keys() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.review(), cityops_domain::review::ReviewConfig::default());
            jail.set_env("CITYOPS_REVIEW_SAMPLE_SIZE", "8");
            jail.set_env("CITYOPS_REVIEW_MIN_SHARE_PERCENT", "20");
            jail.set_env("CITYOPS_REVIEW_SALT", "惠州-2026");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            let r = crate::app::web_config(&c).review;
            assert_eq!(
                (r.sample_size, r.min_share_percent, r.salt.as_str()),
                (8, 20, "惠州-2026")
            );
            jail.set_env("CITYOPS_REVIEW_MIN_SHARE_PERCENT", "101");
            assert!(Config::load(None).is_err());
            jail.set_env("CITYOPS_REVIEW_MIN_SHARE_PERCENT", "10");
            jail.set_env("CITYOPS_REVIEW_SAMPLE_SIZE", "0");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(Config::load(Some(Path::new("/nonexistent/cityops.toml"))).is_err());
    }

    #[test]
    fn map_tile_url_is_checked_and_passed_on() {
        let ok = Config {
            map_tile_url: Some("https://tiles.city.example/{z}/{x}/{y}.png".into()),
            ..Config::default()
        };
        ok.validate().expect("a tile URL");
        assert_eq!(
            crate::app::web_config(&ok).map_tile_url.as_deref(),
            Some("https://tiles.city.example/{z}/{x}/{y}.png")
        );
        assert_eq!(
            crate::app::web_config(&Config::default()).map_tile_url,
            None,
            "no basemap by default"
        );
        for bad in [
            "tiles.city.example/{z}/{x}/{y}.png",
            "https://tiles.city.example/a.png",
        ] {
            let c = Config {
                map_tile_url: Some(bad.into()),
                ..Config::default()
            };
            assert!(c.validate().is_err(), "{bad}");
        }
    }
}
