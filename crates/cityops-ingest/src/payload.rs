//! Telemetry payloads (PRODUCT.md §8): over MQTT, topic `cityops/telemetry/{device_id}` with
//! `{"metric": "…", "value": 1.5, "ts": "RFC 3339"}` or an array of such objects; over HTTP,
//! `{"readings": [{"device_id": "…", "metric": "…", "value": 1.5, "ts": "…"}]}`. Each reading is
//! checked against the registry (`check_reading`); a bad one is rejected with its reason, the
//! others go on.
use chrono::{DateTime, Utc};
use cityops_app::monitoring::Registry;
use cityops_domain::monitoring::{Reading, ReadingWindow, RejectReason, check_reading};
use serde::Deserialize;

/// The topic readings are published under by default: `cityops/telemetry/{device_id}`.
pub const TOPIC_PREFIX: &str = "cityops/telemetry/";

/// Largest MQTT payload (and HTTP batch body) accepted, in bytes.
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// Most readings one message or batch may carry.
pub const MAX_READINGS: usize = 10_000;

/// One reading as a device sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct RawReading {
    pub metric: String,
    /// A number; `null` or a string is malformed (JSON has no NaN).
    pub value: serde_json::Value,
    pub ts: DateTime<Utc>,
}

/// One reading of an HTTP batch.
#[derive(Debug, Clone, Deserialize)]
pub struct BatchReading {
    pub device_id: String,
    pub metric: String,
    pub value: serde_json::Value,
    pub ts: DateTime<Utc>,
}

/// The body of `POST /api/v1/telemetry`.
#[derive(Debug, Clone, Deserialize)]
pub struct Batch {
    pub readings: Vec<BatchReading>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<RawReading>),
    One(RawReading),
}

/// What came of a payload: the readings to store, and what was refused (index, reason).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub readings: Vec<Reading>,
    pub rejected: Vec<(usize, RejectReason)>,
}

/// The device id of a telemetry topic under `prefix` (ending in `/`).
pub fn device_of_topic<'t>(prefix: &str, topic: &'t str) -> Option<&'t str> {
    topic
        .strip_prefix(prefix)
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn value_of(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
}

fn check(
    registry: &Registry,
    device_id: &str,
    metric: &str,
    value: &serde_json::Value,
    ts: DateTime<Utc>,
    now: DateTime<Utc>,
    window: &ReadingWindow,
) -> Result<Reading, RejectReason> {
    let entry = registry.active(device_id);
    let Some(value) = value_of(value) else {
        // Unknown devices first: a stranger's payload says nothing about values.
        return Err(if entry.is_none() {
            RejectReason::UnknownDevice
        } else {
            RejectReason::NotFinite
        });
    };
    let metric = check_reading(
        entry.map(|e| e.device.device_type),
        metric,
        value,
        ts,
        now,
        window,
    )?;
    Ok(Reading {
        device_key: entry.map(|e| e.key).unwrap_or_default(),
        metric,
        value,
        ts,
    })
}

/// Parses an MQTT payload of `device_id`.
pub fn parse_mqtt(
    registry: &Registry,
    device_id: &str,
    payload: &[u8],
    now: DateTime<Utc>,
    window: &ReadingWindow,
) -> Parsed {
    if payload.len() > MAX_PAYLOAD {
        return Parsed {
            readings: Vec::new(),
            rejected: vec![(0, RejectReason::Oversize)],
        };
    }
    let raws = match serde_json::from_slice::<OneOrMany>(payload) {
        Ok(OneOrMany::One(r)) => vec![r],
        Ok(OneOrMany::Many(v)) if v.len() <= MAX_READINGS => v,
        Ok(OneOrMany::Many(_)) => {
            return Parsed {
                readings: Vec::new(),
                rejected: vec![(0, RejectReason::Oversize)],
            };
        }
        Err(_) => {
            return Parsed {
                readings: Vec::new(),
                rejected: vec![(0, RejectReason::Malformed)],
            };
        }
    };
    let mut out = Parsed::default();
    for (i, r) in raws.iter().enumerate() {
        match check(registry, device_id, &r.metric, &r.value, r.ts, now, window) {
            Ok(reading) => out.readings.push(reading),
            Err(reason) => out.rejected.push((i, reason)),
        }
    }
    out
}

/// Checks an HTTP batch.
pub fn parse_batch(
    registry: &Registry,
    batch: &Batch,
    now: DateTime<Utc>,
    window: &ReadingWindow,
) -> Parsed {
    let mut out = Parsed::default();
    for (i, r) in batch.readings.iter().enumerate() {
        match check(
            registry,
            &r.device_id,
            &r.metric,
            &r.value,
            r.ts,
            now,
            window,
        ) {
            Ok(reading) => out.readings.push(reading),
            Err(reason) => out.rejected.push((i, reason)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_name_one_device() {
        let p = TOPIC_PREFIX;
        assert_eq!(
            device_of_topic(p, "cityops/telemetry/HZ-GAS-1"),
            Some("HZ-GAS-1")
        );
        assert_eq!(device_of_topic(p, "cityops/telemetry/"), None);
        assert_eq!(device_of_topic(p, "cityops/telemetry/a/b"), None);
        assert_eq!(device_of_topic(p, "other/HZ-GAS-1"), None);
        assert_eq!(device_of_topic("city2/t/", "city2/t/X"), Some("X"));
    }

    #[test]
    fn malformed_and_oversize_payloads_are_rejected_whole() {
        let reg = Registry::default();
        let now = Utc::now();
        let w = ReadingWindow::default();
        let p = parse_mqtt(&reg, "X", b"{not json", now, &w);
        assert_eq!(p.rejected, vec![(0, RejectReason::Malformed)]);
        let big = vec![b' '; MAX_PAYLOAD + 1];
        let p = parse_mqtt(&reg, "X", &big, now, &w);
        assert_eq!(p.rejected, vec![(0, RejectReason::Oversize)]);
        let p = parse_mqtt(
            &reg,
            "X",
            br#"{"metric":"level","value":1.0,"ts":"2026-12-07T10:00:00Z"}"#,
            now,
            &w,
        );
        assert_eq!(p.rejected, vec![(0, RejectReason::UnknownDevice)]);
    }
}
