//! 运行监测 (operation monitoring) in the application layer: the device registry every process
//! keeps in memory (reloaded when the store's fingerprint of it moves), who sees which devices
//! and alarms, and the alarm lifecycle — a rule's signal raises, escalates or clears the one
//! active alarm of its device and rule; an alarm at or above the rule's case level becomes a case
//! through the [`CaseService`] (source `iot`, located, routed like any report) linked both ways;
//! reminders go to the responsible party through the outbound channels and, when they run out,
//! the alarm is handed to enforcement.
//!
//! The ingest path (`cityops-ingest`) validates readings against [`Registry`], stores them,
//! evaluates the rules and hands the signals to [`MonitoringService::apply_signal`].
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use cityops_domain::case::{CaseSource, CaseVisibility, Recipient, Urgency};
use cityops_domain::monitoring::alarm::needs_case;
use cityops_domain::monitoring::{
    Alarm, AlarmSignal, Device, DeviceRecord, ReadingWindow, ReminderPolicy, ReminderStep, Rule,
    RuleKind,
};
use cityops_domain::{CategoryKind, Clock, Page, PageRequest, Role, User};
use cityops_store::{
    AlarmFilter, AlarmRaise, CaseQuery, DeviceFilter, Metric, NewAlarm, ReadingPoint, Resolution,
    RollupPoint, Store, StoreError, StoredDevice,
};
use tokio::sync::broadcast;

use crate::error::{Result, ServiceError};
use crate::notify::OutboundMessage;
use crate::service::{CaseService, ReportRequest};

/// The account alarm cases are reported under (an inactive intake account: nobody logs in).
pub const IOT_REPORTER: &str = "iot-monitor";
const IOT_REPORTER_NAME: &str = "物联感知（自动报警）";

/// How long a claim to open an alarm's case holds before another process may take it over.
const CASE_CLAIM_STALE: Duration = Duration::seconds(60);

/// The words of a case's description that name its alarm (报警编号), found by the text search.
fn alarm_marker(alarm_id: i64) -> String {
    format!("报警编号 {alarm_id}。")
}

/// Alarm changes kept for slow listeners of the alarm wall; older ones are skipped.
const LIVE_CAPACITY: usize = 1024;

/// What operation monitoring is configured with (`[monitoring]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringSettings {
    /// How far from "now" readings may lie (clock skew ahead; the retention behind).
    pub window: ReadingWindow,
    /// Days of raw readings and rollups kept. Default 30.
    pub retention_days: u32,
    /// Reminders to the responsible party of an active alarm, then enforcement.
    pub reminders: ReminderPolicy,
    /// How often the registry is compared with the store's (another process's import). Default 5 s.
    pub registry_check: StdDuration,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        Self {
            window: ReadingWindow::default(),
            retention_days: 30,
            reminders: ReminderPolicy::default(),
            registry_check: StdDuration::from_secs(5),
        }
    }
}

/// A registered device with the enabled rules of its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEntry {
    pub key: i64,
    pub device: Device,
    pub rules: Vec<Arc<Rule>>,
}

/// The registry as one process holds it: devices by id and by key, rules by id.
#[derive(Debug, Default)]
pub struct Registry {
    by_id: HashMap<String, Arc<DeviceEntry>>,
    by_key: HashMap<i64, Arc<DeviceEntry>>,
    rules: HashMap<i64, Arc<Rule>>,
    fingerprint: (i64, Option<DateTime<Utc>>),
    rules_seen: Vec<Rule>,
}

impl Registry {
    fn build(
        devices: Vec<StoredDevice>,
        rules: Vec<Rule>,
        fp: (i64, Option<DateTime<Utc>>),
    ) -> Self {
        let mut by_profile: HashMap<&str, Vec<Arc<Rule>>> = HashMap::new();
        let mut by_rule = HashMap::new();
        let shared: Vec<Arc<Rule>> = rules.iter().cloned().map(Arc::new).collect();
        for r in &shared {
            by_rule.insert(r.id, r.clone());
            if r.enabled {
                by_profile
                    .entry(r.profile.as_str())
                    .or_default()
                    .push(r.clone());
            }
        }
        let mut by_id = HashMap::with_capacity(devices.len());
        let mut by_key = HashMap::with_capacity(devices.len());
        for d in devices {
            let entry = Arc::new(DeviceEntry {
                key: d.key,
                rules: by_profile
                    .get(d.device.profile.as_str())
                    .cloned()
                    .unwrap_or_default(),
                device: d.device,
            });
            by_key.insert(entry.key, entry.clone());
            by_id.insert(entry.device.id.clone(), entry);
        }
        Self {
            by_id,
            by_key,
            rules: by_rule,
            fingerprint: fp,
            rules_seen: rules,
        }
    }

    /// An active device by id (what its readings are checked against).
    pub fn active(&self, id: &str) -> Option<&Arc<DeviceEntry>> {
        self.by_id.get(id).filter(|e| e.device.active)
    }

    /// A device by the store's key.
    pub fn by_key(&self, key: i64) -> Option<&Arc<DeviceEntry>> {
        self.by_key.get(&key)
    }

    /// Every device.
    pub fn devices(&self) -> impl Iterator<Item = &Arc<DeviceEntry>> {
        self.by_key.values()
    }

    /// A rule by id.
    pub fn rule(&self, id: i64) -> Option<&Arc<Rule>> {
        self.rules.get(&id)
    }

    /// Whether an alarm comes from an offline rule (a device that stopped reporting).
    pub fn is_offline_alarm(&self, a: &Alarm) -> bool {
        self.rule(a.rule_id)
            .is_some_and(|r| matches!(r.kind, RuleKind::Offline { .. }))
    }

    /// A device's status from its active alarms (in any order): `Inactive` out of service;
    /// `Alarm` with the highest level of its alarms other than offline ones; else `Offline` with
    /// the highest level of those; else `Normal`. What the API and the pages show.
    pub fn status<'a>(
        &self,
        device: &Device,
        active: impl IntoIterator<Item = &'a Alarm>,
    ) -> (DeviceStatus, Option<u8>) {
        if !device.active {
            return (DeviceStatus::Inactive, None);
        }
        let (mut alarm, mut offline) = (None::<u8>, None::<u8>);
        for a in active.into_iter().filter(|a| a.status.is_active()) {
            let slot = if self.is_offline_alarm(a) {
                &mut offline
            } else {
                &mut alarm
            };
            *slot = Some(slot.map_or(a.level, |l| l.max(a.level)));
        }
        match (alarm, offline) {
            (Some(l), _) => (DeviceStatus::Alarm, Some(l)),
            (None, Some(l)) => (DeviceStatus::Offline, Some(l)),
            (None, None) => (DeviceStatus::Normal, None),
        }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A device's status (设备状态), derived from its active alarms ([`Registry::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceStatus {
    Normal,
    Alarm,
    Offline,
    Inactive,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 4] = [
        DeviceStatus::Normal,
        DeviceStatus::Alarm,
        DeviceStatus::Offline,
        DeviceStatus::Inactive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Normal => "normal",
            DeviceStatus::Alarm => "alarm",
            DeviceStatus::Offline => "offline",
            DeviceStatus::Inactive => "inactive",
        }
    }
}

/// Who sees which devices and alarms: the command centre's roles and leaders within their
/// region, a department's people their department's devices; nobody else.
pub fn monitoring_scope(user: &User) -> Result<(Vec<String>, Option<i64>)> {
    let vis = CaseVisibility::for_user(user);
    let watches = user.roles.iter().any(|r| {
        matches!(
            r,
            Role::Admin
                | Role::Leader
                | Role::Supervisor
                | Role::Dispatcher
                | Role::Intake
                | Role::Handler
                | Role::Enforcement
        )
    });
    if !watches {
        return Err(ServiceError::Forbidden(
            "Operation monitoring is for the command centre, leaders and departments.".into(),
        ));
    }
    if vis.all {
        return Ok((Vec::new(), None));
    }
    if !vis.region_prefixes.is_empty() {
        return Ok((vis.region_prefixes, None));
    }
    match vis.department_id {
        Some(d) => Ok((Vec::new(), Some(d))),
        None => Err(ServiceError::Forbidden(
            "Your account has neither a region nor a department.".into(),
        )),
    }
}

/// A chart's series: raw readings for short ranges, rollups for long ones.
#[derive(Debug, Clone, PartialEq)]
pub enum Series {
    Raw(Vec<ReadingPoint>),
    Rollup(Resolution, Vec<RollupPoint>),
}

/// Raw readings up to this range; minute rollups up to [`MINUTE_ROLLUPS_UP_TO`]; hours beyond.
pub const RAW_UP_TO: Duration = Duration::hours(2);
pub const MINUTE_ROLLUPS_UP_TO: Duration = Duration::days(2);
/// Raw points one chart reads at most.
const RAW_POINTS_MAX: u32 = 20_000;

/// An alarm change for live listeners (the alarm wall, the big screen).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmChange {
    pub alarm: Alarm,
    /// `raised`, `escalated`, `acknowledged`, `cleared`, `case`, `reminded`, `enforcement`.
    pub what: &'static str,
    /// The device's located codes (filtering by the listener's scope).
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    pub department_id: Option<i64>,
}

/// The monitoring service: one per process, shared by the ingest path and the front ends.
pub struct MonitoringService {
    store: Arc<dyn Store>,
    cases: Arc<CaseService>,
    clock: Arc<dyn Clock>,
    settings: MonitoringSettings,
    registry: RwLock<Arc<Registry>>,
    live: broadcast::Sender<Arc<AlarmChange>>,
}

impl std::fmt::Debug for MonitoringService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A time as the stores keep it (to the millisecond), so an alarm read back compares equal.
fn kept(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

impl MonitoringService {
    /// The service over the case service's store and clock, with the registry loaded.
    pub async fn new(cases: Arc<CaseService>, settings: MonitoringSettings) -> Result<Arc<Self>> {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let s = Arc::new(Self {
            store: cases.store().clone(),
            clock: cases.clock().clone(),
            cases,
            settings,
            registry: RwLock::new(Arc::new(Registry::default())),
            live,
        });
        s.reload().await?;
        Ok(s)
    }

    pub fn settings(&self) -> &MonitoringSettings {
        &self.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The time zone of the working calendar (day and night of the noise limits).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.cases.config().calendar.tz
    }

    /// The registry as this process holds it now.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads devices and rules from the store and replaces the registry.
    pub async fn reload(&self) -> Result<()> {
        let fp = self.store.devices_fingerprint().await?;
        let rules = self.store.rules().await?;
        self.rebuild(fp, rules).await
    }

    /// The registry from the devices (read now) and the rules and fingerprint given.
    async fn rebuild(&self, fp: (i64, Option<DateTime<Utc>>), rules: Vec<Rule>) -> Result<()> {
        let devices = self.store.all_devices().await?;
        let reg = Arc::new(Registry::build(devices, rules, fp));
        *self.registry.write().unwrap_or_else(|e| e.into_inner()) = reg;
        Ok(())
    }

    /// Reloads the registry if another process changed devices or rules. Answers whether it did.
    pub async fn reload_if_changed(&self) -> Result<bool> {
        let fp = self.store.devices_fingerprint().await?;
        let rules = self.store.rules().await?;
        let current = self.registry();
        if current.fingerprint == fp && current.rules_seen == rules {
            return Ok(false);
        }
        self.rebuild(fp, rules).await?;
        Ok(true)
    }

    /// The alarm changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AlarmChange>> {
        self.live.subscribe()
    }

    fn announce(&self, alarm: &Alarm, what: &'static str) {
        let entry = self.registry().by_id.get(&alarm.device_id).cloned();
        let _ = self.live.send(Arc::new(AlarmChange {
            alarm: alarm.clone(),
            what,
            district_code: entry.as_ref().and_then(|e| e.device.district_code.clone()),
            street_code: entry.as_ref().and_then(|e| e.device.street_code.clone()),
            department_id: entry.as_ref().and_then(|e| e.device.department_id),
        }));
    }

    // -----------------------------------------------------------------------------------------
    // The registry

    /// Adds or replaces devices (all or nothing): each is located to its grid here; a device
    /// outside the city is refused. Answers (added, replaced).
    pub async fn upsert_devices(
        &self,
        user: &User,
        mut devices: Vec<Device>,
    ) -> Result<(u64, u64)> {
        if !user.has_role(Role::Admin) {
            return Err(ServiceError::Forbidden(
                "Only administrators register devices.".into(),
            ));
        }
        for d in &mut devices {
            self.locate(d)?;
        }
        let done = self.store.upsert_devices(&devices).await?;
        self.reload().await?;
        Ok(done)
    }

    /// Registers devices as an import file gives them: each owner department by its code
    /// (an unknown code is refused naming the device), then [`MonitoringService::upsert_devices`].
    pub async fn import_devices(
        &self,
        user: &User,
        records: Vec<DeviceRecord>,
    ) -> Result<(u64, u64)> {
        let store = self.store.clone();
        let departments = crate::caches::all_pages(|req| store.list_departments(None, req)).await?;
        let ids: HashMap<&str, i64> = departments
            .iter()
            .map(|d| (d.code.as_str(), d.id))
            .collect();
        let mut devices = Vec::with_capacity(records.len());
        for r in records {
            let mut d = r.device;
            if let Some(code) = r.department_code.as_deref() {
                d.department_id = Some(*ids.get(code).ok_or_else(|| {
                    ServiceError::invalid(format!("device {}: unknown department {code}", d.id))
                })?);
            }
            devices.push(d);
        }
        self.upsert_devices(user, devices).await
    }

    /// Fills a device's located codes from its point.
    pub fn locate(&self, d: &mut Device) -> Result<()> {
        let Some(l) = self.cases.index().locate(d.lng, d.lat) else {
            return Err(ServiceError::invalid(format!(
                "device {}: ({}, {}) lies outside the city",
                d.id, d.lng, d.lat
            )));
        };
        let l = l.into_owned();
        d.grid_code = l.grid_code;
        d.community_code = l.community_code;
        d.street_code = l.street_code;
        d.district_code = Some(l.district_code);
        Ok(())
    }

    /// A page of the devices `user` may see.
    pub async fn list_devices(
        &self,
        user: &User,
        mut filter: DeviceFilter,
        page: PageRequest,
    ) -> Result<Page<StoredDevice>> {
        let (prefixes, department) = monitoring_scope(user)?;
        filter.region_prefixes = prefixes;
        filter.department_id = department.or(filter.department_id);
        Ok(self.store.list_devices(&filter, page).await?)
    }

    /// One device `user` may see.
    pub async fn device(&self, user: &User, id: &str) -> Result<StoredDevice> {
        let (prefixes, department) = monitoring_scope(user)?;
        let d = self
            .store
            .device(id)
            .await?
            .filter(|d| in_scope(&d.device, &prefixes, department))
            .ok_or_else(|| ServiceError::NotFound(format!("no device {id}")))?;
        Ok(d)
    }

    /// A chart of a device's metric over `[from, to)`.
    pub async fn series(
        &self,
        user: &User,
        id: &str,
        metric: Metric,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Series> {
        if to <= from {
            return Err(ServiceError::invalid("`to` must be after `from`"));
        }
        let d = self.device(user, id).await?;
        if !d.device.device_type.metrics().contains(&metric) {
            return Err(ServiceError::invalid(format!(
                "a {} does not report {}",
                d.device.device_type.as_str(),
                metric.as_str()
            )));
        }
        let range = to - from;
        Ok(if range <= RAW_UP_TO {
            Series::Raw(
                self.store
                    .readings(d.key, metric, from, to, RAW_POINTS_MAX)
                    .await?,
            )
        } else {
            let res = if range <= MINUTE_ROLLUPS_UP_TO {
                Resolution::Minute
            } else {
                Resolution::Hour
            };
            Series::Rollup(res, self.store.rollups(d.key, metric, res, from, to).await?)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Rules

    /// Every rule.
    pub async fn rules(&self, user: &User) -> Result<Vec<Rule>> {
        monitoring_scope(user)?;
        Ok(self.store.rules().await?)
    }

    /// Keeps a rule (administrators): checked first; a rule that opens cases needs a category.
    pub async fn save_rule(&self, user: &User, rule: Rule) -> Result<Rule> {
        if !user.has_role(Role::Admin) {
            return Err(ServiceError::Forbidden(
                "Only administrators edit alarm rules.".into(),
            ));
        }
        rule.check()
            .map_err(|e| ServiceError::invalid(e.to_string()))?;
        if rule.case_level.is_some() && rule.category_code.is_none() {
            return Err(ServiceError::invalid(
                "a rule that opens cases (case_level) needs the category of those cases",
            ));
        }
        let saved = match self.store.save_rule(&rule).await {
            Err(StoreError::NotFound) => {
                return Err(ServiceError::NotFound(format!("no rule {}", rule.id)));
            }
            other => other?,
        };
        self.reload().await?;
        Ok(saved)
    }

    /// Stores the default rules when there are none yet (a new city).
    pub async fn seed_rules(&self, rules: &[Rule]) -> Result<usize> {
        if !self.store.rules().await?.is_empty() {
            return Ok(0);
        }
        for r in rules {
            self.store.save_rule(r).await?;
        }
        self.reload().await?;
        Ok(rules.len())
    }

    // -----------------------------------------------------------------------------------------
    // Alarms

    /// Applies a rule's signal for a device: raise (or escalate) the one active alarm of the
    /// device and rule, or clear it; open its case when its level reaches the rule's case level.
    pub async fn apply_signal(
        &self,
        device: &DeviceEntry,
        rule: &Rule,
        signal: AlarmSignal,
    ) -> Result<Option<Alarm>> {
        match signal {
            AlarmSignal::Active { level, value, at } => {
                let new = NewAlarm {
                    device_id: device.device.id.clone(),
                    rule_id: rule.id,
                    rule: rule.name.clone(),
                    metric: rule.metric,
                    level,
                    value,
                    raised_at: kept(at),
                };
                let mut alarm = match self.store.raise_alarm(&new).await? {
                    AlarmRaise::Raised(a) => {
                        self.announce(&a, "raised");
                        a
                    }
                    AlarmRaise::Active(mut a) => {
                        let before = a.updated_at;
                        if a.escalate(level, value, kept(self.clock.now())) {
                            match self.store.update_alarm(&a, before).await {
                                Ok(()) => self.announce(&a, "escalated"),
                                // Another process escalated it first: read what it wrote.
                                Err(StoreError::Conflict(_)) => {
                                    a = self.store.alarm(a.id).await?.unwrap_or(a);
                                }
                                Err(e) => return Err(e.into()),
                            }
                        }
                        a
                    }
                };
                if alarm.case_id.is_none() && needs_case(alarm.level, rule.case_level) {
                    alarm = self.open_case(device, rule, alarm).await?;
                }
                Ok(Some(alarm))
            }
            AlarmSignal::Cleared { at } => {
                let filter = AlarmFilter {
                    device_id: Some(device.device.id.clone()),
                    active: true,
                    ..Default::default()
                };
                let page = self
                    .store
                    .list_alarms(
                        &filter,
                        PageRequest {
                            page: 1,
                            page_size: 100,
                        },
                    )
                    .await?;
                let Some(mut a) = page.items.into_iter().find(|a| a.rule_id == rule.id) else {
                    return Ok(None);
                };
                let before = a.updated_at;
                if a.clear(kept(at.max(a.updated_at))) {
                    match self.store.update_alarm(&a, before).await {
                        Ok(()) => self.announce(&a, "cleared"),
                        Err(StoreError::Conflict(_)) => return Ok(None),
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(Some(a))
            }
        }
    }

    /// The account alarm cases are reported under.
    async fn reporter(&self) -> Result<User> {
        self.cases
            .system_account(IOT_REPORTER, IOT_REPORTER_NAME, vec![Role::Intake])
            .await
    }

    /// Reports the case of an alarm (source `iot`, at the device, of the rule's category;
    /// level 3 is urgent) and links it to the alarm. A second process that linked its own case
    /// first wins; this one's alarm is read back.
    async fn open_case(
        &self,
        device: &DeviceEntry,
        rule: &Rule,
        mut alarm: Alarm,
    ) -> Result<Alarm> {
        let Some(category) = rule.category_code.clone() else {
            tracing::warn!(
                rule = rule.id,
                "a rule with a case level but no category opens no case"
            );
            return Ok(alarm);
        };
        let d = &device.device;
        let when = alarm
            .raised_at
            .with_timezone(&self.tz())
            .format("%Y-%m-%d %H:%M:%S");
        let description = format!(
            "【物联感知·{level}级报警】{name}（设备 {id}，{kind}）{rule}：{metric} {value:.2} {unit}，\
             {when} 起。{marker}",
            level = alarm.level,
            name = d.name,
            id = d.id,
            kind = d.device_type.name_zh(),
            rule = rule.name,
            metric = alarm.metric.name_zh(),
            value = alarm.value,
            unit = alarm.metric.unit(),
            marker = alarm_marker(alarm.id),
        );
        // An alarm is a matter (事项) about the place; a code the catalogue has only as a
        // component (部件) category is reported as one.
        let kind = if self
            .cases
            .catalogue()
            .await?
            .category(CategoryKind::Matter, &category)
            .is_some()
        {
            CategoryKind::Matter
        } else {
            CategoryKind::Component
        };
        let req = ReportRequest {
            lng: Some(d.lng),
            lat: Some(d.lat),
            description,
            category_kind: Some(kind),
            category_code: Some(category),
            urgency: Some(if alarm.level >= 3 {
                Urgency::Urgent
            } else {
                Urgency::Normal
            }),
            address: Some(d.name.clone()),
            component_id: d.component_id.clone(),
            source: Some("iot".into()),
            ..ReportRequest::default()
        };
        // One process opens the case: the one whose claim the store takes (another's claim
        // older than CASE_CLAIM_STALE is taken over: its claimer died before linking).
        let now = kept(self.clock.now());
        if !self
            .store
            .claim_alarm_case(alarm.id, now, now - CASE_CLAIM_STALE)
            .await?
        {
            return Ok(self.store.alarm(alarm.id).await?.unwrap_or(alarm));
        }
        // A claimer that died after reporting but before linking left its case: link that one.
        if let Some(id) = self.case_of_alarm(alarm.id).await? {
            if self.store.link_alarm_case(alarm.id, id).await? {
                alarm.case_id = Some(id);
            }
            return Ok(alarm);
        }
        let user = self.reporter().await?;
        let stored = self.cases.report_as_system(&user, req).await?;
        if self.store.link_alarm_case(alarm.id, stored.case.id).await? {
            alarm.case_id = Some(stored.case.id);
            self.announce(&alarm, "case");
        } else if let Some(a) = self.store.alarm(alarm.id).await? {
            tracing::warn!(
                alarm = alarm.id,
                case = stored.case.id,
                "another process linked a case to this alarm first"
            );
            alarm = a;
        }
        Ok(alarm)
    }

    /// The IoT case an alarm already opened, found by the alarm number its description names.
    async fn case_of_alarm(&self, alarm_id: i64) -> Result<Option<i64>> {
        let mut q = CaseQuery::new(self.clock.now());
        q.source = Some(CaseSource::Iot);
        q.text = Some(alarm_marker(alarm_id));
        let page = self
            .store
            .list_cases(
                &q,
                &CaseVisibility::everything(),
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await?;
        Ok(page.items.first().map(|c| c.id))
    }

    /// 确认: an operator acknowledges an alarm they may see.
    pub async fn acknowledge(&self, user: &User, id: i64) -> Result<Alarm> {
        let mut a = self.alarm(user, id).await?;
        let before = a.updated_at;
        a.acknowledge(user.id, kept(self.clock.now()))
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        self.store.update_alarm(&a, before).await?;
        self.announce(&a, "acknowledged");
        Ok(a)
    }

    /// One alarm `user` may see.
    pub async fn alarm(&self, user: &User, id: i64) -> Result<Alarm> {
        let (prefixes, department) = monitoring_scope(user)?;
        let a = self
            .store
            .alarm(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no alarm {id}")))?;
        let visible = self
            .store
            .device(&a.device_id)
            .await?
            .is_some_and(|d| in_scope(&d.device, &prefixes, department));
        if !visible {
            return Err(ServiceError::NotFound(format!("no alarm {id}")));
        }
        Ok(a)
    }

    /// A page of the alarms `user` may see.
    pub async fn list_alarms(
        &self,
        user: &User,
        mut filter: AlarmFilter,
        page: PageRequest,
    ) -> Result<Page<Alarm>> {
        let (prefixes, department) = monitoring_scope(user)?;
        filter.region_prefixes = prefixes;
        filter.department_id = department;
        Ok(self.store.list_alarms(&filter, page).await?)
    }

    /// Sends the reminders that are due for active alarms (and hands alarms whose reminders ran
    /// out to enforcement). Answers how many steps were taken.
    pub async fn remind_due(&self) -> Result<usize> {
        let now = kept(self.clock.now());
        let policy = self.settings.reminders;
        let reg = self.registry();
        let mut taken = 0;
        let mut page = 1;
        loop {
            let batch = self
                .store
                .list_alarms(
                    &AlarmFilter {
                        active: true,
                        ..Default::default()
                    },
                    PageRequest {
                        page,
                        page_size: 500,
                    },
                )
                .await?;
            let n = batch.items.len();
            for mut a in batch.items {
                let Some(step) = policy.due(&a, now) else {
                    continue;
                };
                let Some(device) = reg.by_id.get(&a.device_id) else {
                    continue;
                };
                let before = a.updated_at;
                let (msg, what) = match step {
                    ReminderStep::Remind(k) => {
                        a.reminders = k;
                        a.last_reminder_at = Some(now);
                        (reminder_text(&device.device, &a, k), "reminded")
                    }
                    ReminderStep::Escalate => {
                        a.escalated_at = Some(now);
                        (enforcement_text(&device.device, &a), "enforcement")
                    }
                };
                a.updated_at = now;
                match self.store.update_alarm(&a, before).await {
                    Ok(()) => {}
                    // Another process sent this one.
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
                let recipient = match step {
                    ReminderStep::Remind(_) => device
                        .device
                        .department_id
                        .map(|department_id| Recipient::Department { department_id })
                        .unwrap_or(Recipient::Role {
                            role: Role::Supervisor,
                            region_code: device.device.district_code.clone(),
                        }),
                    ReminderStep::Escalate => Recipient::Role {
                        role: Role::Enforcement,
                        region_code: device.device.district_code.clone(),
                    },
                };
                self.cases.publish(vec![OutboundMessage {
                    case_id: a.case_id.unwrap_or(0),
                    case_code: String::new(),
                    action: format!("alarm_{what}"),
                    title: msg,
                    recipient,
                    created_at: now,
                }]);
                self.announce(&a, what);
                taken += 1;
                // Handed to enforcement: the alarm becomes a case now if it has none (a noise
                // alarm below its rule's case level, say), routed like any report.
                if step == ReminderStep::Escalate
                    && a.case_id.is_none()
                    && let Some(rule) = reg.rule(a.rule_id)
                    && rule.category_code.is_some()
                    && let Err(e) = self.open_case(device, rule, a.clone()).await
                {
                    tracing::warn!(alarm = a.id, error = %e, "the enforcement case could not be opened");
                }
            }
            if n < 500 {
                break;
            }
            page += 1;
        }
        Ok(taken)
    }

    /// Deletes readings older than the retention. Answers how many.
    pub async fn prune(&self) -> Result<u64> {
        let before = self.clock.now() - Duration::days(i64::from(self.settings.retention_days));
        Ok(self.store.prune_readings(before).await?)
    }
}

fn in_scope(d: &Device, prefixes: &[String], department: Option<i64>) -> bool {
    if let Some(dept) = department {
        return d.department_id == Some(dept);
    }
    prefixes.is_empty()
        || prefixes.iter().any(|p| {
            [
                &d.grid_code,
                &d.community_code,
                &d.street_code,
                &d.district_code,
            ]
            .iter()
            .any(|c| c.as_deref().is_some_and(|c| c.starts_with(p.as_str())))
        })
}

/// The text of reminder `k` to the responsible party (e.g. the construction site's manager).
fn reminder_text(d: &Device, a: &Alarm, k: u32) -> String {
    format!(
        "第{k}次提醒：{name}（{id}）{rule}超标，{metric} {value:.1} {unit}，请立即整改。责任人：{who}",
        name = d.name,
        id = d.id,
        rule = a.rule,
        metric = a.metric.name_zh(),
        value = a.value,
        unit = a.metric.unit(),
        who = d.responsible.as_deref().unwrap_or("（未登记）"),
    )
}

/// The text handing an alarm to enforcement after the reminders ran out.
fn enforcement_text(d: &Device, a: &Alarm) -> String {
    format!(
        "移交执法：{name}（{id}）{rule}经{n}次提醒仍未整改，请依法处置。责任人：{who}",
        name = d.name,
        id = d.id,
        rule = a.rule,
        n = a.reminders,
        who = d.responsible.as_deref().unwrap_or("（未登记）"),
    )
}

/// Runs [`MonitoringService::remind_due`], [`MonitoringService::reload_if_changed`] and, once
/// an hour, the retention every `interval` until `shutdown`.
pub fn spawn_upkeep(
    service: Arc<MonitoringService>,
    interval: StdDuration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if interval.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        let mut last_prune: Option<DateTime<Utc>> = None;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => {
                    if let Err(e) = service.reload_if_changed().await {
                        tracing::warn!(error = %e, "device registry check failed");
                    }
                    if let Err(e) = service.remind_due().await {
                        tracing::warn!(error = %e, "alarm reminders failed");
                    }
                    let now = service.clock.now();
                    if last_prune.is_none_or(|t| now - t >= Duration::hours(1)) {
                        last_prune = Some(now);
                        match service.prune().await {
                            Ok(n) if n > 0 => tracing::info!(readings = n, "readings past the retention deleted"),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "readings retention failed"),
                        }
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_domain::monitoring::{AlarmStatus, DeviceType, Metric, RuleKind};

    fn rule(id: i64, kind: RuleKind) -> Rule {
        Rule {
            id,
            profile: "gas_detector".into(),
            name: format!("rule {id}"),
            metric: Metric::Ch4Lel,
            kind,
            case_level: None,
            category_code: None,
            clear_after_secs: 0,
            enabled: true,
        }
    }

    fn alarm(rule_id: i64, level: u8, status: AlarmStatus) -> Alarm {
        let t = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        Alarm {
            id: rule_id * 10 + i64::from(level),
            device_id: "G-1".into(),
            rule_id,
            rule: String::new(),
            metric: Metric::Ch4Lel,
            level,
            status,
            raised_at: t,
            value: 0.0,
            updated_at: t,
            acknowledged_at: None,
            acknowledged_by: None,
            cleared_at: None,
            case_id: None,
            reminders: 0,
            last_reminder_at: None,
            escalated_at: None,
        }
    }

    #[test]
    fn a_device_status_comes_from_its_active_alarms() {
        let threshold = RuleKind::Threshold {
            direction: cityops_domain::monitoring::Direction::Above,
            levels: [Some(10.0), Some(25.0), Some(50.0)],
            hysteresis: 1.0,
            sustain_secs: 0,
        };
        let offline = RuleKind::Offline {
            minutes: 30,
            level: 1,
        };
        let reg = Registry::build(
            Vec::new(),
            vec![rule(1, threshold), rule(2, offline)],
            (0, None),
        );
        let mut d = Device {
            id: "G-1".into(),
            device_type: DeviceType::GasDetector,
            name: "G".into(),
            lng: 0.0,
            lat: 0.0,
            grid_code: None,
            community_code: None,
            street_code: None,
            district_code: None,
            component_id: None,
            department_id: None,
            profile: "gas_detector".into(),
            responsible: None,
            active: true,
        };
        use AlarmStatus::*;
        assert_eq!(reg.status(&d, []), (DeviceStatus::Normal, None));
        let off = alarm(2, 1, Raised);
        assert_eq!(reg.status(&d, [&off]), (DeviceStatus::Offline, Some(1)));
        let gas = [alarm(1, 2, Acknowledged), off.clone(), alarm(1, 3, Cleared)];
        assert_eq!(
            reg.status(&d, &gas),
            (DeviceStatus::Alarm, Some(2)),
            "cleared ones do not count"
        );
        d.active = false;
        assert_eq!(reg.status(&d, &gas), (DeviceStatus::Inactive, None));
    }
}
