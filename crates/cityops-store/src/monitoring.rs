//! 运行监测 (operation monitoring): the device registry, readings with their minute and hour
//! rollups, the rules and the alarms.
//!
//! Readings are keyed by (device key, metric, timestamp in milliseconds): storing the same reading
//! twice stores it once (a broker redelivers after a restart), and the rollups count only what
//! was newly stored, in the same transaction. An alarm is active (raised or acknowledged) at
//! most once per device and rule — the stores enforce it with a unique index, so two server
//! processes raising the same alarm keep one.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cityops_domain::monitoring::{
    Alarm, AlarmStatus, Device, DeviceType, Metric, Reading, Rule, RuleKind,
};

use crate::{Page, PageRequest, Result};

/// A device as stored: its number in the store (what readings are kept by) and its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDevice {
    /// The store's number of the device (readings and rollups are kept by it).
    pub key: i64,
    pub device: Device,
    pub updated_at: DateTime<Utc>,
}

/// Which devices a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    pub device_type: Option<DeviceType>,
    /// Devices whose located district/street/community/grid code starts with one of these
    /// (empty: everywhere). The caller's region scope goes here.
    pub region_prefixes: Vec<String>,
    /// Only devices of this owner department (a handler's scope).
    pub department_id: Option<i64>,
    /// Id or name contains (literal).
    pub q: Option<String>,
}

/// The resolution of a rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Minute,
    Hour,
}

impl Resolution {
    /// The bucket's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Resolution::Minute => 60_000,
            Resolution::Hour => 3_600_000,
        }
    }
    /// The bucket `ts_ms` falls in (its start, in milliseconds).
    pub fn bucket(self, ts_ms: i64) -> i64 {
        ts_ms.div_euclid(self.millis()) * self.millis()
    }
}

/// One bucket of a rollup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RollupPoint {
    pub start: DateTime<Utc>,
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
}

/// One stored reading, as a chart reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReadingPoint {
    pub ts: DateTime<Utc>,
    pub value: f64,
}

/// An alarm to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlarm {
    pub device_id: String,
    pub rule_id: i64,
    pub rule: String,
    pub metric: Metric,
    pub level: u8,
    pub value: f64,
    pub raised_at: DateTime<Utc>,
}

/// What raising an alarm did.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmRaise {
    /// A new alarm.
    Raised(Alarm),
    /// One was active for the device and rule already (raised by another process, or before).
    Active(Alarm),
}

/// Which alarms a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmFilter {
    pub device_id: Option<String>,
    /// Only the alarms of these devices (a page of devices' statuses); empty: any device.
    pub device_ids: Vec<String>,
    pub status: Option<AlarmStatus>,
    /// Only active ones (raised or acknowledged); `status` wins when both are given.
    pub active: bool,
    pub level: Option<u8>,
    /// The alarm that created this case.
    pub case_id: Option<i64>,
    /// As in [`DeviceFilter`]: the device's located codes.
    pub region_prefixes: Vec<String>,
    pub department_id: Option<i64>,
}

/// The registry, readings, rules and alarms of operation monitoring.
#[async_trait]
pub trait MonitoringRepo: Send + Sync {
    /// Adds devices, or replaces those whose id is kept already, all in one transaction: nothing
    /// is written when one fails (`Invalid`: an unknown department). Answers (added, replaced).
    async fn upsert_devices(&self, devices: &[Device]) -> Result<(u64, u64)>;

    /// A page of devices, by id.
    async fn list_devices(
        &self,
        filter: &DeviceFilter,
        page: PageRequest,
    ) -> Result<Page<StoredDevice>>;

    /// One device by id.
    async fn device(&self, id: &str) -> Result<Option<StoredDevice>>;

    /// Every device (the registry the ingest path checks against), by key.
    async fn all_devices(&self) -> Result<Vec<StoredDevice>>;

    /// (number of devices, latest change): changes when the registry changes, in any process.
    async fn devices_fingerprint(&self) -> Result<(i64, Option<DateTime<Utc>>)>;

    /// Stores the readings not stored yet — (device key, metric, timestamp) is the key — and
    /// adds the newly stored ones to the minute and hour rollups, in one durable transaction.
    /// Answers how many were new.
    async fn insert_readings(&self, readings: &[Reading]) -> Result<u64>;

    /// A device's readings of a metric in `[from, to)`, oldest first, at most `limit`.
    async fn readings(
        &self,
        device_key: i64,
        metric: Metric,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ReadingPoint>>;

    /// A device's rollup of a metric in `[from, to)`, oldest first.
    async fn rollups(
        &self,
        device_key: i64,
        metric: Metric,
        resolution: Resolution,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupPoint>>;

    /// The latest minute with a reading of each device since `since` (device key, that minute's
    /// end): what a restarted process knows of when devices were last seen.
    async fn last_seen(&self, since: DateTime<Utc>) -> Result<Vec<(i64, DateTime<Utc>)>>;

    /// Deletes readings and rollups older than `before` (retention). Answers the readings
    /// deleted (PostgreSQL drops whole days: the count is of what it could count).
    async fn prune_readings(&self, before: DateTime<Utc>) -> Result<u64>;

    /// Every rule, by id.
    async fn rules(&self) -> Result<Vec<Rule>>;

    /// Keeps a rule: a new one when its id is 0, else replaces the rule with that id
    /// (`NotFound`). Answers it as kept.
    async fn save_rule(&self, rule: &Rule) -> Result<Rule>;

    /// Raises an alarm unless one is active for its device and rule (then that one is
    /// answered and nothing written).
    async fn raise_alarm(&self, alarm: &NewAlarm) -> Result<AlarmRaise>;

    /// Writes an alarm's changed state (level, value, status, acknowledgement, clearing, case,
    /// reminders) if it is still as `expected_updated_at` says (`Conflict` otherwise: someone
    /// else changed it first).
    async fn update_alarm(&self, alarm: &Alarm, expected_updated_at: DateTime<Utc>) -> Result<()>;

    /// Claims the opening of an alarm's case at `now`: true for the one caller that may open it —
    /// the alarm has no case and no claim, or only a claim made before `stale_before` (its
    /// claimer died before linking). Every other caller gets false and opens nothing.
    async fn claim_alarm_case(
        &self,
        alarm_id: i64,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<bool>;

    /// Sets the case of an alarm that has none; answers whether it did (false: one was set).
    async fn link_alarm_case(&self, alarm_id: i64, case_id: i64) -> Result<bool>;

    /// One alarm.
    async fn alarm(&self, id: i64) -> Result<Option<Alarm>>;

    /// A page of alarms, newest first.
    async fn list_alarms(&self, filter: &AlarmFilter, page: PageRequest) -> Result<Page<Alarm>>;
}
