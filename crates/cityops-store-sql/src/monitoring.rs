//! `MonitoringRepo`, written once for both stores: the device registry, readings and their
//! rollups as charts read them, rules and alarms. Each store supplies only its tuned reading
//! writes (`insert_readings` and `prune_readings`: PostgreSQL's `UNNEST` into day partitions,
//! SQLite's multi-row inserts), sharing [`add_to_rollups`] and [`ROLLUP_UPSERT`]; the macro
//! [`shared_monitoring_repo!`] calls them as inherent methods `insert_readings_tuned` and
//! `prune_readings_tuned`.
use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use cityops_domain::monitoring::{Alarm, AlarmStatus, Device, Metric, Rule};
use cityops_store::{
    AlarmFilter, AlarmRaise, DeviceFilter, NewAlarm, Page, PageRequest, ReadingPoint, Resolution,
    Result, RollupPoint, StoreError, StoredDevice,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, corrupt, db_err, parse, push_prefix};

const DEVICE_COLUMNS: &str = "d.key, d.id, d.device_type, d.name, d.lng, d.lat, d.grid_code, \
     d.community_code, d.street_code, d.district_code, d.component_id, d.department_id, \
     d.profile, d.responsible, d.active, d.updated_at";

const ALARM_COLUMNS: &str = "a.id, a.device_id, a.rule_id, a.rule, a.metric, a.level, a.status, \
     a.raised_at, a.value, a.updated_at, a.acknowledged_at, a.acknowledged_by, a.cleared_at, \
     a.case_id, a.reminders, a.last_reminder_at, a.escalated_at";

/// A time from Unix milliseconds.
pub fn from_ms(ms: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| corrupt("time in milliseconds", &ms.to_string()))
}

fn stored_device<D: Dialect>(row: &D::Row) -> Result<StoredDevice> {
    let r = Cols::<D>(row);
    let device_type: String = r.get("device_type")?;
    Ok(StoredDevice {
        key: r.get("key")?,
        device: Device {
            id: r.get("id")?,
            device_type: parse("device type", &device_type)?,
            name: r.get("name")?,
            lng: r.get("lng")?,
            lat: r.get("lat")?,
            grid_code: r.get("grid_code")?,
            community_code: r.get("community_code")?,
            street_code: r.get("street_code")?,
            district_code: r.get("district_code")?,
            component_id: r.get("component_id")?,
            department_id: r.get("department_id")?,
            profile: r.get("profile")?,
            responsible: r.get("responsible")?,
            active: r.get("active")?,
        },
        updated_at: D::ts(row, "updated_at")?,
    })
}

fn alarm<D: Dialect>(row: &D::Row) -> Result<Alarm> {
    let r = Cols::<D>(row);
    let metric: String = r.get("metric")?;
    let status: String = r.get("status")?;
    let level: i32 = r.get("level")?;
    let reminders: i32 = r.get("reminders")?;
    Ok(Alarm {
        id: r.get("id")?,
        device_id: r.get("device_id")?,
        rule_id: r.get("rule_id")?,
        rule: r.get("rule")?,
        metric: parse("metric", &metric)?,
        level: u8::try_from(level).map_err(|_| corrupt("alarm level", &level.to_string()))?,
        status: parse("alarm status", &status)?,
        raised_at: D::ts(row, "raised_at")?,
        value: r.get("value")?,
        updated_at: D::ts(row, "updated_at")?,
        acknowledged_at: D::opt_ts(row, "acknowledged_at")?,
        acknowledged_by: r.get("acknowledged_by")?,
        cleared_at: D::opt_ts(row, "cleared_at")?,
        case_id: r.get("case_id")?,
        reminders: u32::try_from(reminders)
            .map_err(|_| corrupt("reminder count", &reminders.to_string()))?,
        last_reminder_at: D::opt_ts(row, "last_reminder_at")?,
        escalated_at: D::opt_ts(row, "escalated_at")?,
    })
}

fn rule<D: Dialect>(row: &D::Row) -> Result<Rule> {
    let r = Cols::<D>(row);
    let metric: String = r.get("metric")?;
    let definition: String = r.get("definition")?;
    let case_level: Option<i64> = r.get::<Option<i64>>("case_level")?;
    let clear: i64 = r.get("clear_after_secs")?;
    Ok(Rule {
        id: r.get("id")?,
        profile: r.get("profile")?,
        name: r.get("name")?,
        metric: parse("metric", &metric)?,
        kind: serde_json::from_str(&definition).map_err(|_| corrupt("rule", &definition))?,
        case_level: case_level.and_then(|l| u8::try_from(l).ok()),
        category_code: r.get("category_code")?,
        clear_after_secs: u32::try_from(clear).unwrap_or(0),
        enabled: r.get("enabled")?,
    })
}

/// `AND (<column> starts with one of prefixes>)`; nothing for no prefixes.
fn push_any_prefix<D: Dialect>(q: &mut QueryBuilder<D>, prefixes: &[String]) {
    if prefixes.is_empty() {
        return;
    }
    q.push(" AND (");
    for (i, p) in prefixes.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        let column = match p.len() {
            0..=6 => "d.district_code",
            7..=9 => "d.street_code",
            10..=12 => "d.community_code",
            _ => "d.grid_code",
        };
        push_prefix(q, column, p);
    }
    q.push(")");
}

/// `MonitoringRepo::upsert_devices`: one transaction; (added, replaced).
pub async fn upsert_devices<D: Dialect>(
    pool: &Pool<D>,
    devices: &[Device],
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let (mut added, mut replaced) = (0, 0);
    for d in devices {
        cityops_domain::monitoring::check_device_id(&d.id)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let exists = sqlx::query("SELECT key FROM devices WHERE id = $1").arg(d.id.clone());
        let found = !D::fetch_all_on(&mut *tx, exists).await?.is_empty();
        let mut q = QueryBuilder::<D>::new(
            "INSERT INTO devices (id, device_type, name, lng, lat, grid_code, community_code, \
             street_code, district_code, component_id, department_id, profile, responsible, \
             active, updated_at) VALUES (",
        );
        q.bind(d.id.clone())
            .push(", ")
            .bind(d.device_type.as_str())
            .push(", ")
            .bind(d.name.clone())
            .push(", ")
            .bind(d.lng)
            .push(", ")
            .bind(d.lat)
            .push(", ")
            .bind(d.grid_code.clone())
            .push(", ")
            .bind(d.community_code.clone())
            .push(", ")
            .bind(d.street_code.clone())
            .push(", ")
            .bind(d.district_code.clone())
            .push(", ")
            .bind(d.component_id.clone())
            .push(", ")
            .bind(d.department_id)
            .push(", ")
            .bind(d.profile.clone())
            .push(", ")
            .bind(d.responsible.clone())
            .push(", ")
            .bind(d.active)
            .push(", ");
        D::push_ts(&mut q, now);
        q.push(
            ") ON CONFLICT (id) DO UPDATE SET device_type = excluded.device_type, \
             name = excluded.name, lng = excluded.lng, lat = excluded.lat, \
             grid_code = excluded.grid_code, community_code = excluded.community_code, \
             street_code = excluded.street_code, district_code = excluded.district_code, \
             component_id = excluded.component_id, department_id = excluded.department_id, \
             profile = excluded.profile, responsible = excluded.responsible, \
             active = excluded.active, updated_at = excluded.updated_at RETURNING key",
        );
        D::fetch_all_on(&mut *tx, q.build())
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) => {
                    StoreError::Invalid(format!("device {}: {m} (unknown department?)", d.id))
                }
                other => other,
            })?;
        if found {
            replaced += 1;
        } else {
            added += 1;
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok((added, replaced))
}

/// `MonitoringRepo::list_devices`.
pub async fn list_devices<D: Dialect>(
    pool: &Pool<D>,
    filter: &DeviceFilter,
    page: PageRequest,
) -> Result<Page<StoredDevice>> {
    const FROM: &str = "FROM devices d";
    let select = format!("SELECT {DEVICE_COLUMNS} {FROM}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(t) = filter.device_type {
            q.push(" AND d.device_type = ").bind(t.as_str());
        }
        if let Some(dept) = filter.department_id {
            q.push(" AND d.department_id = ").bind(dept);
        }
        if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q.push(" AND (");
            D::push_contains(q, "d.id", text);
            q.push(" OR ");
            D::push_contains(q, "d.name", text);
            q.push(")");
        }
        push_any_prefix(q, &filter.region_prefixes);
    };
    paged(
        pool,
        &select,
        FROM,
        filters,
        " ORDER BY d.id",
        page,
        stored_device::<D>,
    )
    .await
}

/// `MonitoringRepo::device`.
pub async fn device<D: Dialect>(pool: &Pool<D>, id: &str) -> Result<Option<StoredDevice>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = "
    ));
    q.bind(id.to_string());
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(stored_device::<D>)
        .transpose()
}

/// `MonitoringRepo::all_devices`.
pub async fn all_devices<D: Dialect>(pool: &Pool<D>) -> Result<Vec<StoredDevice>> {
    let q = QueryBuilder::<D>::new(format!(
        "SELECT {DEVICE_COLUMNS} FROM devices d ORDER BY d.key"
    ));
    let mut q = q;
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(stored_device::<D>)
        .collect()
}

/// `MonitoringRepo::devices_fingerprint`.
pub async fn devices_fingerprint<D: Dialect>(
    pool: &Pool<D>,
) -> Result<(i64, Option<DateTime<Utc>>)> {
    let mut q =
        QueryBuilder::<D>::new("SELECT count(*) AS n, max(updated_at) AS updated_at FROM devices");
    let row = D::fetch_one(pool, q.build()).await?;
    Ok((Cols::<D>(&row).get("n")?, D::opt_ts(&row, "updated_at")?))
}

/// The rollup buckets of newly stored readings: (device, metric, resolution, bucket) →
/// (count, sum, min, max).
pub type RollupAdds = HashMap<(i64, i16, i64, i64), (i64, f64, f64, f64)>;

/// Adds one newly stored reading to both resolutions.
pub fn add_to_rollups(adds: &mut RollupAdds, device_key: i64, metric: i16, ts_ms: i64, value: f64) {
    for res in [Resolution::Minute, Resolution::Hour] {
        let e = adds
            .entry((device_key, metric, res.millis(), res.bucket(ts_ms)))
            .or_insert((0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
        e.0 += 1;
        e.1 += value;
        e.2 = e.2.min(value);
        e.3 = e.3.max(value);
    }
}

/// How a rollup bucket takes what was added to it.
pub const ROLLUP_UPSERT: &str = " ON CONFLICT (device_key, metric, resolution, bucket_ms) DO UPDATE \
     SET n = reading_rollups.n + excluded.n, total = reading_rollups.total + excluded.total, \
     min_value = CASE WHEN excluded.min_value < reading_rollups.min_value \
     THEN excluded.min_value ELSE reading_rollups.min_value END, \
     max_value = CASE WHEN excluded.max_value > reading_rollups.max_value \
     THEN excluded.max_value ELSE reading_rollups.max_value END";

/// `MonitoringRepo::readings`.
pub async fn readings<D: Dialect>(
    pool: &Pool<D>,
    device_key: i64,
    metric: Metric,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ReadingPoint>> {
    let mut q = QueryBuilder::<D>::new("SELECT ts_ms, value FROM readings WHERE device_key = ");
    q.bind(device_key)
        .push(" AND metric = ")
        .bind(i32::from(metric.code()))
        .push(" AND ts_ms >= ")
        .bind(from.timestamp_millis())
        .push(" AND ts_ms < ")
        .bind(to.timestamp_millis())
        .push(" ORDER BY ts_ms LIMIT ")
        .bind(i64::from(limit));
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            Ok(ReadingPoint {
                ts: from_ms(r.get("ts_ms")?)?,
                value: r.get("value")?,
            })
        })
        .collect()
}

/// `MonitoringRepo::rollups`.
pub async fn rollups<D: Dialect>(
    pool: &Pool<D>,
    device_key: i64,
    metric: Metric,
    resolution: Resolution,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RollupPoint>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT bucket_ms, n, total, min_value, max_value FROM reading_rollups \
         WHERE device_key = ",
    );
    q.bind(device_key)
        .push(" AND metric = ")
        .bind(i32::from(metric.code()))
        .push(" AND resolution = ")
        .bind(resolution.millis() as i32)
        .push(" AND bucket_ms >= ")
        .bind(resolution.bucket(from.timestamp_millis()))
        .push(" AND bucket_ms < ")
        .bind(to.timestamp_millis())
        .push(" ORDER BY bucket_ms");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            let n: i64 = r.get("n")?;
            let total: f64 = r.get("total")?;
            Ok(RollupPoint {
                start: from_ms(r.get("bucket_ms")?)?,
                count: n,
                min: r.get("min_value")?,
                max: r.get("max_value")?,
                avg: if n > 0 { total / n as f64 } else { 0.0 },
            })
        })
        .collect()
}

/// `MonitoringRepo::last_seen`.
pub async fn last_seen<D: Dialect>(
    pool: &Pool<D>,
    since: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>)>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT device_key, max(bucket_ms) AS bucket_ms FROM reading_rollups WHERE resolution = ",
    );
    q.bind(Resolution::Minute.millis() as i32)
        .push(" AND bucket_ms >= ")
        .bind(Resolution::Minute.bucket(since.timestamp_millis()))
        .push(" GROUP BY device_key ORDER BY device_key");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            let bucket: i64 = r.get("bucket_ms")?;
            Ok((
                r.get("device_key")?,
                from_ms(bucket + Resolution::Minute.millis())?,
            ))
        })
        .collect()
}

/// `MonitoringRepo::rules`.
pub async fn rules<D: Dialect>(pool: &Pool<D>) -> Result<Vec<Rule>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT id, profile, name, metric, definition, CAST(case_level AS BIGINT) AS case_level, \
         category_code, CAST(clear_after_secs AS BIGINT) AS clear_after_secs, enabled \
         FROM monitoring_rules ORDER BY id",
    );
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(rule::<D>)
        .collect()
}

/// `MonitoringRepo::save_rule`.
pub async fn save_rule<D: Dialect>(pool: &Pool<D>, r: &Rule, now: DateTime<Utc>) -> Result<Rule> {
    r.check().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let definition = serde_json::to_string(&r.kind)
        .map_err(|e| StoreError::Invalid(format!("rule definition: {e}")))?;
    let case_level = r.case_level.map(i64::from);
    let clear = i32::try_from(r.clear_after_secs)
        .map_err(|_| StoreError::Invalid("clear_after_secs too large".into()))?;
    let mut q;
    if r.id == 0 {
        q = QueryBuilder::<D>::new(
            "INSERT INTO monitoring_rules (profile, name, metric, definition, case_level, \
             category_code, clear_after_secs, enabled, updated_at) VALUES (",
        );
        q.bind(r.profile.clone())
            .push(", ")
            .bind(r.name.clone())
            .push(", ")
            .bind(r.metric.as_str())
            .push(", ")
            .bind(definition)
            .push(", ")
            .bind(case_level)
            .push(", ")
            .bind(r.category_code.clone())
            .push(", ")
            .bind(clear)
            .push(", ")
            .bind(r.enabled)
            .push(", ");
        D::push_ts(&mut q, now);
        q.push(") RETURNING id");
    } else {
        q = QueryBuilder::<D>::new("UPDATE monitoring_rules SET profile = ");
        q.bind(r.profile.clone())
            .push(", name = ")
            .bind(r.name.clone())
            .push(", metric = ")
            .bind(r.metric.as_str())
            .push(", definition = ")
            .bind(definition)
            .push(", case_level = ")
            .bind(case_level)
            .push(", category_code = ")
            .bind(r.category_code.clone())
            .push(", clear_after_secs = ")
            .bind(clear)
            .push(", enabled = ")
            .bind(r.enabled)
            .push(", updated_at = ");
        D::push_ts(&mut q, now);
        q.push(" WHERE id = ").bind(r.id).push(" RETURNING id");
    }
    let row = D::fetch_optional(pool, q.build())
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Rule {
        id: Cols::<D>(&row).get("id")?,
        ..r.clone()
    })
}

fn select_alarms(tail: &str) -> String {
    format!("SELECT {ALARM_COLUMNS} FROM alarms a {tail}")
}

/// `MonitoringRepo::raise_alarm`.
pub async fn raise_alarm<D: Dialect>(pool: &Pool<D>, new: &NewAlarm) -> Result<AlarmRaise> {
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO alarms (device_id, rule_id, rule, metric, level, status, raised_at, value, \
         updated_at, reminders) VALUES (",
    );
    q.bind(new.device_id.clone())
        .push(", ")
        .bind(new.rule_id)
        .push(", ")
        .bind(new.rule.clone())
        .push(", ")
        .bind(new.metric.as_str())
        .push(", ")
        .bind(i32::from(new.level))
        .push(", ")
        .bind(AlarmStatus::Raised.as_str())
        .push(", ");
    D::push_ts(&mut q, new.raised_at);
    q.push(", ").bind(new.value).push(", ");
    D::push_ts(&mut q, new.raised_at);
    q.push(
        ", 0) ON CONFLICT (device_id, rule_id) WHERE status <> 'cleared' DO NOTHING RETURNING id",
    );
    if let Some(row) = D::fetch_optional(pool, q.build()).await? {
        let id: i64 = Cols::<D>(&row).get("id")?;
        return alarm_by_id(pool, id)
            .await?
            .map(AlarmRaise::Raised)
            .ok_or(StoreError::NotFound);
    }
    let mut q = QueryBuilder::<D>::new(select_alarms("WHERE a.device_id = "));
    q.bind(new.device_id.clone())
        .push(" AND a.rule_id = ")
        .bind(new.rule_id)
        .push(" AND a.status <> 'cleared'");
    let row = D::fetch_optional(pool, q.build())
        .await?
        .ok_or_else(|| StoreError::Conflict("the active alarm was cleared meanwhile".into()))?;
    Ok(AlarmRaise::Active(alarm::<D>(&row)?))
}

/// `MonitoringRepo::update_alarm`.
pub async fn update_alarm<D: Dialect>(
    pool: &Pool<D>,
    a: &Alarm,
    expected_updated_at: DateTime<Utc>,
) -> Result<()> {
    let mut q = QueryBuilder::<D>::new("UPDATE alarms SET level = ");
    q.bind(i32::from(a.level))
        .push(", status = ")
        .bind(a.status.as_str())
        .push(", value = ")
        .bind(a.value)
        .push(", updated_at = ");
    D::push_ts(&mut q, a.updated_at);
    q.push(", acknowledged_at = ");
    push_opt_ts(&mut q, a.acknowledged_at);
    q.push(", acknowledged_by = ")
        .bind(a.acknowledged_by)
        .push(", cleared_at = ");
    push_opt_ts(&mut q, a.cleared_at);
    q.push(", case_id = COALESCE(case_id, ")
        .bind(a.case_id)
        .push("), reminders = ")
        .bind(a.reminders as i32)
        .push(", last_reminder_at = ");
    push_opt_ts(&mut q, a.last_reminder_at);
    q.push(", escalated_at = ");
    push_opt_ts(&mut q, a.escalated_at);
    q.push(" WHERE id = ").bind(a.id).push(" AND updated_at = ");
    D::push_ts(&mut q, expected_updated_at);
    q.push(" RETURNING id");
    if D::fetch_optional(pool, q.build()).await?.is_none() {
        return Err(StoreError::Conflict(format!(
            "alarm {} was changed by someone else",
            a.id
        )));
    }
    Ok(())
}

fn push_opt_ts<D: Dialect>(q: &mut QueryBuilder<D>, t: Option<DateTime<Utc>>) {
    match t {
        Some(t) => D::push_ts(q, t),
        None => {
            q.push("NULL");
        }
    }
}

/// `MonitoringRepo::claim_alarm_case`.
pub async fn claim_alarm_case<D: Dialect>(
    pool: &Pool<D>,
    alarm_id: i64,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool> {
    let mut q = QueryBuilder::<D>::new("UPDATE alarms SET case_claimed_at = ");
    D::push_ts(&mut q, now);
    q.push(" WHERE id = ")
        .bind(alarm_id)
        .push(" AND case_id IS NULL AND (case_claimed_at IS NULL OR case_claimed_at < ");
    D::push_ts(&mut q, stale_before);
    q.push(") RETURNING id");
    Ok(D::fetch_optional(pool, q.build()).await?.is_some())
}

/// `MonitoringRepo::link_alarm_case`.
pub async fn link_alarm_case<D: Dialect>(
    pool: &Pool<D>,
    alarm_id: i64,
    case_id: i64,
) -> Result<bool> {
    let mut q = QueryBuilder::<D>::new("UPDATE alarms SET case_id = ");
    q.bind(case_id)
        .push(" WHERE id = ")
        .bind(alarm_id)
        .push(" AND case_id IS NULL RETURNING id");
    Ok(D::fetch_optional(pool, q.build()).await?.is_some())
}

async fn alarm_by_id<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Option<Alarm>> {
    let mut q = QueryBuilder::<D>::new(select_alarms("WHERE a.id = "));
    q.bind(id);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(alarm::<D>)
        .transpose()
}

/// `MonitoringRepo::alarm`.
pub async fn alarm_one<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Option<Alarm>> {
    alarm_by_id(pool, id).await
}

/// `MonitoringRepo::list_alarms`.
pub async fn list_alarms<D: Dialect>(
    pool: &Pool<D>,
    filter: &AlarmFilter,
    page: PageRequest,
) -> Result<Page<Alarm>> {
    let scoped = !filter.region_prefixes.is_empty() || filter.department_id.is_some();
    let from = if scoped {
        "FROM alarms a JOIN devices d ON d.id = a.device_id"
    } else {
        "FROM alarms a"
    };
    let select = format!("SELECT {ALARM_COLUMNS} {from}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(id) = &filter.device_id {
            q.push(" AND a.device_id = ").bind(id.clone());
        }
        if !filter.device_ids.is_empty() {
            let ids: Vec<&str> = filter.device_ids.iter().map(String::as_str).collect();
            q.push(" AND ");
            D::push_in_strs(q, "a.device_id", &ids);
        }
        match filter.status {
            Some(s) => {
                q.push(" AND a.status = ").bind(s.as_str());
            }
            None if filter.active => {
                q.push(" AND a.status <> 'cleared'");
            }
            None => {}
        }
        if let Some(level) = filter.level {
            q.push(" AND a.level = ").bind(i32::from(level));
        }
        if let Some(case) = filter.case_id {
            q.push(" AND a.case_id = ").bind(case);
        }
        if let Some(dept) = filter.department_id {
            q.push(" AND d.department_id = ").bind(dept);
        }
        push_any_prefix(q, &filter.region_prefixes);
    };
    paged(
        pool,
        &select,
        from,
        filters,
        " ORDER BY a.raised_at DESC, a.id DESC",
        page,
        alarm::<D>,
    )
    .await
}

/// Implements `cityops_store::MonitoringRepo` for `$store` with the shared queries; the store
/// defines `insert_readings_tuned(&self, &[Reading]) -> Result<u64>` and
/// `prune_readings_tuned(&self, DateTime<Utc>) -> Result<u64>`.
#[macro_export]
macro_rules! shared_monitoring_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::MonitoringRepo for $store {
            async fn upsert_devices(
                &self,
                devices: &[::cityops_store::Device],
            ) -> ::cityops_store::Result<(u64, u64)> {
                $crate::monitoring::upsert_devices(&self.$write, devices, ::chrono::Utc::now())
                    .await
            }
            async fn list_devices(
                &self,
                filter: &::cityops_store::DeviceFilter,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::StoredDevice>> {
                $crate::monitoring::list_devices(&self.$read, filter, page).await
            }
            async fn device(
                &self,
                id: &str,
            ) -> ::cityops_store::Result<Option<::cityops_store::StoredDevice>> {
                $crate::monitoring::device(&self.$read, id).await
            }
            async fn all_devices(
                &self,
            ) -> ::cityops_store::Result<Vec<::cityops_store::StoredDevice>> {
                $crate::monitoring::all_devices(&self.$read).await
            }
            async fn devices_fingerprint(
                &self,
            ) -> ::cityops_store::Result<(i64, Option<::chrono::DateTime<::chrono::Utc>>)> {
                $crate::monitoring::devices_fingerprint(&self.$read).await
            }
            async fn insert_readings(
                &self,
                readings: &[::cityops_store::Reading],
            ) -> ::cityops_store::Result<u64> {
                if readings.is_empty() {
                    return Ok(0);
                }
                self.insert_readings_tuned(readings).await
            }
            async fn readings(
                &self,
                device_key: i64,
                metric: ::cityops_store::Metric,
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::ReadingPoint>> {
                $crate::monitoring::readings(&self.$read, device_key, metric, from, to, limit).await
            }
            async fn rollups(
                &self,
                device_key: i64,
                metric: ::cityops_store::Metric,
                resolution: ::cityops_store::Resolution,
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Vec<::cityops_store::RollupPoint>> {
                $crate::monitoring::rollups(&self.$read, device_key, metric, resolution, from, to)
                    .await
            }
            async fn last_seen(
                &self,
                since: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Vec<(i64, ::chrono::DateTime<::chrono::Utc>)>> {
                $crate::monitoring::last_seen(&self.$read, since).await
            }
            async fn prune_readings(
                &self,
                before: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<u64> {
                self.prune_readings_tuned(before).await
            }
            async fn rules(&self) -> ::cityops_store::Result<Vec<::cityops_store::Rule>> {
                $crate::monitoring::rules(&self.$read).await
            }
            async fn save_rule(
                &self,
                rule: &::cityops_store::Rule,
            ) -> ::cityops_store::Result<::cityops_store::Rule> {
                $crate::monitoring::save_rule(&self.$write, rule, ::chrono::Utc::now()).await
            }
            async fn raise_alarm(
                &self,
                alarm: &::cityops_store::NewAlarm,
            ) -> ::cityops_store::Result<::cityops_store::AlarmRaise> {
                $crate::monitoring::raise_alarm(&self.$write, alarm).await
            }
            async fn update_alarm(
                &self,
                alarm: &::cityops_store::Alarm,
                expected_updated_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<()> {
                $crate::monitoring::update_alarm(&self.$write, alarm, expected_updated_at).await
            }
            async fn claim_alarm_case(
                &self,
                alarm_id: i64,
                now: ::chrono::DateTime<::chrono::Utc>,
                stale_before: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<bool> {
                $crate::monitoring::claim_alarm_case(&self.$write, alarm_id, now, stale_before)
                    .await
            }
            async fn link_alarm_case(
                &self,
                alarm_id: i64,
                case_id: i64,
            ) -> ::cityops_store::Result<bool> {
                $crate::monitoring::link_alarm_case(&self.$write, alarm_id, case_id).await
            }
            async fn alarm(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::Alarm>> {
                $crate::monitoring::alarm_one(&self.$read, id).await
            }
            async fn list_alarms(
                &self,
                filter: &::cityops_store::AlarmFilter,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Alarm>> {
                $crate::monitoring::list_alarms(&self.$read, filter, page).await
            }
        }
    };
}
