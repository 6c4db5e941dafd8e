//! Devices (监测设备) and what they measure: the device types of the city's lifelines with their
//! metrics and units (STANDARDS.md §8.1), the device record, and the checks a reading passes
//! before it is stored.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::case::types::named_enum;

/// A measured quantity (监测指标). The numeric code is what the stores keep per reading; it never
/// changes for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// 甲烷浓度 (%LEL): combustible gas in spaces next to gas pipes (雨污水井、阀门井).
    Ch4Lel,
    /// 管网压力 (MPa)
    Pressure,
    /// 瞬时流量 (m³/h)
    Flow,
    /// 液位 (m): drainage pipes and manholes.
    Level,
    /// 积水深度 (cm)
    Depth,
    /// 应变 (με)
    Strain,
    /// 挠度 (mm)
    Deflection,
    /// 倾角 (°)
    Tilt,
    /// 等效连续A声级 LAeq (dB(A))
    Laeq,
    /// 最大A声级 LAmax (dB(A))
    Lamax,
    /// 降雨强度 (mm/h)
    Rainfall,
}

impl Metric {
    pub const ALL: &'static [Metric] = &[
        Metric::Ch4Lel,
        Metric::Pressure,
        Metric::Flow,
        Metric::Level,
        Metric::Depth,
        Metric::Strain,
        Metric::Deflection,
        Metric::Tilt,
        Metric::Laeq,
        Metric::Lamax,
        Metric::Rainfall,
    ];

    /// The name in payloads and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Ch4Lel => "ch4_lel",
            Metric::Pressure => "pressure",
            Metric::Flow => "flow",
            Metric::Level => "level",
            Metric::Depth => "depth",
            Metric::Strain => "strain",
            Metric::Deflection => "deflection",
            Metric::Tilt => "tilt",
            Metric::Laeq => "laeq",
            Metric::Lamax => "lamax",
            Metric::Rainfall => "rainfall",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Metric::Ch4Lel => "甲烷浓度",
            Metric::Pressure => "管网压力",
            Metric::Flow => "瞬时流量",
            Metric::Level => "液位",
            Metric::Depth => "积水深度",
            Metric::Strain => "应变",
            Metric::Deflection => "挠度",
            Metric::Tilt => "倾角",
            Metric::Laeq => "等效声级 LAeq",
            Metric::Lamax => "最大声级 LAmax",
            Metric::Rainfall => "降雨强度",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Metric::Ch4Lel => "Methane",
            Metric::Pressure => "Pipe pressure",
            Metric::Flow => "Flow",
            Metric::Level => "Water level",
            Metric::Depth => "Standing water depth",
            Metric::Strain => "Strain",
            Metric::Deflection => "Deflection",
            Metric::Tilt => "Tilt",
            Metric::Laeq => "LAeq",
            Metric::Lamax => "LAmax",
            Metric::Rainfall => "Rainfall intensity",
        }
    }

    /// The unit values are given in.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Ch4Lel => "%LEL",
            Metric::Pressure => "MPa",
            Metric::Flow => "m³/h",
            Metric::Level => "m",
            Metric::Depth => "cm",
            Metric::Strain => "με",
            Metric::Deflection => "mm",
            Metric::Tilt => "°",
            Metric::Laeq | Metric::Lamax => "dB(A)",
            Metric::Rainfall => "mm/h",
        }
    }

    /// The stable number the stores keep (1-based, never reused).
    pub fn code(self) -> i16 {
        match self {
            Metric::Ch4Lel => 1,
            Metric::Pressure => 2,
            Metric::Flow => 3,
            Metric::Level => 4,
            Metric::Depth => 5,
            Metric::Strain => 6,
            Metric::Deflection => 7,
            Metric::Tilt => 8,
            Metric::Laeq => 9,
            Metric::Lamax => 10,
            Metric::Rainfall => 11,
        }
    }

    pub fn from_code(code: i16) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.code() == code)
    }

    /// The physically possible range; a value outside it is a broken sensor, not an alarm.
    pub fn plausible(self) -> (f64, f64) {
        match self {
            Metric::Ch4Lel => (0.0, 100.0),
            Metric::Pressure => (-0.1, 10.0),
            Metric::Flow => (-100_000.0, 100_000.0),
            Metric::Level => (-50.0, 100.0),
            Metric::Depth => (0.0, 1_000.0),
            Metric::Strain => (-10_000.0, 10_000.0),
            Metric::Deflection => (-2_000.0, 2_000.0),
            Metric::Tilt => (-90.0, 90.0),
            Metric::Laeq | Metric::Lamax => (0.0, 200.0),
            Metric::Rainfall => (0.0, 500.0),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "metric",
                value: s.to_string(),
            })
    }
}

named_enum!(
    /// The kind of a monitoring device (监测设备类型), by lifeline (燃气、供水、排水、桥梁、市容、噪声、气象).
    DeviceType, "device type" {
        /// 可燃气体监测仪 (adjacent underground spaces of gas pipes)
        GasDetector => "gas_detector", "可燃气体监测仪";
        /// 供水管网压力计
        WaterPressure => "water_pressure", "供水压力监测仪";
        /// 供水管网流量计
        WaterFlow => "water_flow", "供水流量计";
        /// 排水管网液位计
        DrainageLevel => "drainage_level", "排水管网液位计";
        /// 窨井液位计
        ManholeLevel => "manhole_level", "窨井液位计";
        /// 积水监测站 (depth and rain at the same point)
        Waterlogging => "waterlogging", "积水监测站";
        /// 桥梁应变计
        BridgeStrain => "bridge_strain", "桥梁应变计";
        /// 桥梁挠度计
        BridgeDeflection => "bridge_deflection", "桥梁挠度计";
        /// 桥梁倾角计
        BridgeTilt => "bridge_tilt", "桥梁倾角计";
        /// 广告牌倾斜监测仪
        BillboardTilt => "billboard_tilt", "户外广告牌倾斜监测仪";
        /// 施工场界噪声监测仪
        Noise => "noise", "噪声监测仪";
        /// 雨量计
        RainGauge => "rain_gauge", "雨量计";
    }
);

impl DeviceType {
    /// What a device of this type reports.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            DeviceType::GasDetector => &[Metric::Ch4Lel],
            DeviceType::WaterPressure => &[Metric::Pressure],
            DeviceType::WaterFlow => &[Metric::Flow],
            DeviceType::DrainageLevel | DeviceType::ManholeLevel => &[Metric::Level],
            DeviceType::Waterlogging => &[Metric::Depth, Metric::Rainfall],
            DeviceType::BridgeStrain => &[Metric::Strain],
            DeviceType::BridgeDeflection => &[Metric::Deflection],
            DeviceType::BridgeTilt | DeviceType::BillboardTilt => &[Metric::Tilt],
            DeviceType::Noise => &[Metric::Laeq, Metric::Lamax],
            DeviceType::RainGauge => &[Metric::Rainfall],
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            DeviceType::GasDetector => "Combustible gas detector",
            DeviceType::WaterPressure => "Water pressure sensor",
            DeviceType::WaterFlow => "Water flow meter",
            DeviceType::DrainageLevel => "Drainage level sensor",
            DeviceType::ManholeLevel => "Manhole level sensor",
            DeviceType::Waterlogging => "Waterlogging station",
            DeviceType::BridgeStrain => "Bridge strain gauge",
            DeviceType::BridgeDeflection => "Bridge deflection sensor",
            DeviceType::BridgeTilt => "Bridge tilt sensor",
            DeviceType::BillboardTilt => "Billboard tilt sensor",
            DeviceType::Noise => "Noise monitor",
            DeviceType::RainGauge => "Rain gauge",
        }
    }

    /// The lifeline (专项) the type belongs to.
    pub fn lifeline(self) -> &'static str {
        match self {
            DeviceType::GasDetector => "gas",
            DeviceType::WaterPressure | DeviceType::WaterFlow => "water",
            DeviceType::DrainageLevel | DeviceType::ManholeLevel | DeviceType::Waterlogging => {
                "drainage"
            }
            DeviceType::BridgeStrain | DeviceType::BridgeDeflection | DeviceType::BridgeTilt => {
                "bridge"
            }
            DeviceType::BillboardTilt => "city_appearance",
            DeviceType::Noise => "noise",
            DeviceType::RainGauge => "weather",
        }
    }

    /// The rule profile a new device of this type gets unless another is named.
    pub fn default_profile(self) -> &'static str {
        self.as_str()
    }
}

/// The longest device id (the last level of the MQTT topic `cityops/telemetry/{device_id}`).
pub const DEVICE_ID_MAX: usize = 64;

/// Checks a device id: 1–64 characters of `A–Z a–z 0–9 - _ .` (safe in a topic, a URL and a CSV).
pub fn check_device_id(id: &str) -> Result<(), DomainError> {
    if !id.is_empty()
        && id.len() <= DEVICE_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "device id {id:?}: 1–{DEVICE_ID_MAX} characters of A–Z, a–z, 0–9, '-', '_', '.'"
        )))
    }
}

/// A monitoring device as registered (设备台账).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The device's own id, as it publishes under `cityops/telemetry/{id}`.
    pub id: String,
    pub device_type: DeviceType,
    pub name: String,
    /// WGS84.
    pub lng: f64,
    pub lat: f64,
    /// Located codes of the point.
    pub grid_code: Option<String>,
    pub community_code: Option<String>,
    pub street_code: Option<String>,
    pub district_code: Option<String>,
    /// The component (部件) the device watches, if any (17 digits).
    pub component_id: Option<String>,
    /// The department that owns it (权属单位).
    pub department_id: Option<i64>,
    /// The rule profile (规则模板) whose rules apply.
    pub profile: String,
    /// The responsible party reminders go to (noise: the construction site's manager): name and
    /// phone as one text.
    pub responsible: Option<String>,
    /// Out of service (停用): its readings are refused as from an unknown device.
    pub active: bool,
}

/// A device as an import file or the demo city gives it: the owner department by its code
/// (the store's id is looked up when it is registered), the located codes not yet filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub device: Device,
    /// The owner department's code (e.g. `441300-gas`), if any.
    pub department_code: Option<String>,
}

/// Why a reading was not stored (counted by reason on `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Not JSON, or not the reading shape.
    Malformed,
    /// The payload is larger than allowed.
    Oversize,
    /// No active device with this id.
    UnknownDevice,
    /// A metric name we do not know, or one the device's type does not report.
    UnknownMetric,
    /// NaN or infinite.
    NotFinite,
    /// Outside the physically possible range of the metric.
    Implausible,
    /// Later than now plus the allowed clock skew.
    FutureTimestamp,
    /// Older than the retention keeps.
    TooOld,
    /// The ingest queue was full (HTTP answers 503 / 429; MQTT is not acknowledged).
    Overloaded,
}

impl RejectReason {
    pub const ALL: &'static [RejectReason] = &[
        RejectReason::Malformed,
        RejectReason::Oversize,
        RejectReason::UnknownDevice,
        RejectReason::UnknownMetric,
        RejectReason::NotFinite,
        RejectReason::Implausible,
        RejectReason::FutureTimestamp,
        RejectReason::TooOld,
        RejectReason::Overloaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Malformed => "malformed",
            RejectReason::Oversize => "oversize",
            RejectReason::UnknownDevice => "unknown_device",
            RejectReason::UnknownMetric => "unknown_metric",
            RejectReason::NotFinite => "not_finite",
            RejectReason::Implausible => "implausible",
            RejectReason::FutureTimestamp => "future_timestamp",
            RejectReason::TooOld => "too_old",
            RejectReason::Overloaded => "overloaded",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One validated reading (读数).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The store's number of the device (see `DeviceKey` in the registry).
    pub device_key: i64,
    pub metric: Metric,
    pub value: f64,
    pub ts: DateTime<Utc>,
}

/// How far readings may lie from "now".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadingWindow {
    /// Allowed clock skew of a device into the future. Default 5 minutes.
    pub max_future: Duration,
    /// The oldest reading accepted (the retention). Default 30 days.
    pub max_age: Duration,
}

impl Default for ReadingWindow {
    fn default() -> Self {
        Self {
            max_future: Duration::minutes(5),
            max_age: Duration::days(30),
        }
    }
}

/// Checks one reading of a device of type `device_type` (`None`: no such active device):
/// answers the metric, or why it is refused.
pub fn check_reading(
    device_type: Option<DeviceType>,
    metric: &str,
    value: f64,
    ts: DateTime<Utc>,
    now: DateTime<Utc>,
    window: &ReadingWindow,
) -> Result<Metric, RejectReason> {
    let device_type = device_type.ok_or(RejectReason::UnknownDevice)?;
    let metric: Metric = metric.parse().map_err(|_| RejectReason::UnknownMetric)?;
    if !device_type.metrics().contains(&metric) {
        return Err(RejectReason::UnknownMetric);
    }
    if !value.is_finite() {
        return Err(RejectReason::NotFinite);
    }
    let (lo, hi) = metric.plausible();
    if value < lo || value > hi {
        return Err(RejectReason::Implausible);
    }
    if ts > now + window.max_future {
        return Err(RejectReason::FutureTimestamp);
    }
    if ts < now - window.max_age {
        return Err(RejectReason::TooOld);
    }
    Ok(metric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn metric_codes_are_unique_and_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_code(m.code()), Some(*m));
            assert_eq!(m.as_str().parse::<Metric>().unwrap(), *m);
        }
        let mut codes: Vec<i16> = Metric::ALL.iter().map(|m| m.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), Metric::ALL.len());
    }

    #[test]
    fn every_type_reports_something_and_parses_back() {
        for t in DeviceType::ALL {
            assert!(!t.metrics().is_empty());
            assert_eq!(t.as_str().parse::<DeviceType>().unwrap(), *t);
        }
    }

    #[test]
    fn device_ids_are_topic_safe() {
        assert!(check_device_id("HZ-GAS-000123").is_ok());
        assert!(check_device_id("a.b_c").is_ok());
        for bad in ["", "a/b", "a+b", "a#", "设备", &"x".repeat(65)] {
            assert!(check_device_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn readings_are_checked_in_order_of_what_is_wrong() {
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let w = ReadingWindow::default();
        let gas = Some(DeviceType::GasDetector);
        assert_eq!(
            check_reading(gas, "ch4_lel", 3.0, now, now, &w),
            Ok(Metric::Ch4Lel)
        );
        assert_eq!(
            check_reading(None, "ch4_lel", 3.0, now, now, &w),
            Err(RejectReason::UnknownDevice)
        );
        assert_eq!(
            check_reading(gas, "laeq", 3.0, now, now, &w),
            Err(RejectReason::UnknownMetric)
        );
        assert_eq!(
            check_reading(gas, "nope", 3.0, now, now, &w),
            Err(RejectReason::UnknownMetric)
        );
        assert_eq!(
            check_reading(gas, "ch4_lel", f64::NAN, now, now, &w),
            Err(RejectReason::NotFinite)
        );
        assert_eq!(
            check_reading(gas, "ch4_lel", 250.0, now, now, &w),
            Err(RejectReason::Implausible)
        );
        assert_eq!(
            check_reading(gas, "ch4_lel", 3.0, now + Duration::minutes(6), now, &w),
            Err(RejectReason::FutureTimestamp)
        );
        assert_eq!(
            check_reading(gas, "ch4_lel", 3.0, now - Duration::days(31), now, &w),
            Err(RejectReason::TooOld)
        );
    }
}
