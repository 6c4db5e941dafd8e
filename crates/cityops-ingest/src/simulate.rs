//! The telemetry simulator (`cityops simulate`): realistic readings of the city's devices,
//! published over MQTT (`cityops/telemetry/{device_id}`) or posted to `POST /api/v1/telemetry`
//! at a steady rate, so that the demo's pages move and the ingest can be loaded.
//!
//! [`Simulator`] is pure and seeded: a device's value at an instant is a function of the seed,
//! the device's id, the instant and the event schedule ([`SimEvents`]) — the same inputs give the
//! same values in any call order. What it models:
//!
//! - construction noise (施工噪声): a working day 07:00–12:00 and 14:00–19:00 (local time) with
//!   LAeq ≈ 58–68 dB(A) and work peaks, quieter at lunch and in the evening, ambient at night;
//!   now and then a site works into the night; LAmax = LAeq + 8–20; sites named in
//!   `noise_violations` break the limit (day > 70, night > 55) early in the run;
//! - a rain event: rainfall rises to tens of mm/h within minutes, the levels in the drainage
//!   outfalls and manholes and the standing water at low-lying crossings follow with a lag,
//!   then fall after the rain;
//! - gas leaks: CH₄ in a few detectors' wells rises over a few minutes to 35–70 %LEL, holds,
//!   and falls back (the leak repaired);
//! - bridges: strain and deflection follow the daily traffic (peaks at 08:00 and 18:00) and the
//!   temperature (warmest at 15:00); tilt follows the temperature;
//! - water supply: pressure 0.25–0.36 MPa, higher at night when little is drawn; flow follows
//!   the demand;
//! - devices going offline for a while ([`Simulator::readings_at`] answers nothing then).
//!
//! [`run`] paces the publishing at `rate` readings per second over the devices in turn; over
//! MQTT a dedicated task polls the connection (STACK.md §4.1: never publish from the polling
//! task) and, at QoS 1, the run ends only when every message is acknowledged (or a drain
//! timeout passes: the rest count as errors).
use std::collections::{BTreeMap, VecDeque};
use std::f64::consts::PI;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use chrono_tz::Tz;
use cityops_domain::monitoring::{Device, DeviceType, Metric};
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use tokio::sync::{Semaphore, oneshot, watch};

use crate::mqtt::host_port;
use crate::payload::{MAX_READINGS, TOPIC_PREFIX};

// ---------------------------------------------------------------------------------------------
// Configuration

/// The events of a simulation run, as offsets from its start.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvents {
    /// A rain event: (start after the run's start, duration). Default: 30 s in, 25 minutes.
    pub rain: Option<(Duration, Duration)>,
    /// Gas detectors that leak: the first 40 s in, then one every 4 minutes. Default 2.
    pub gas_leaks: usize,
    /// Devices that go offline: half of them from the start for 35–60 minutes (long enough for
    /// the offline rule), half for 5–20 minutes a minute or more in. Default 6.
    pub offline: usize,
    /// Construction sites that break the GB 12523-2011 limit of the time of day: the first 20 s
    /// in, then one every 90 s, each for 10 minutes. Default 2.
    pub noise_violations: usize,
}

impl Default for SimEvents {
    /// Defaults under which a 5-minute run with the default rules raises at least one gas, one
    /// waterlogging and one noise alarm (given a few devices of each of those types).
    fn default() -> Self {
        Self {
            rain: Some((Duration::from_secs(30), Duration::from_secs(25 * 60))),
            gas_leaks: 2,
            offline: 6,
            noise_violations: 2,
        }
    }
}

/// Where readings go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimTarget {
    /// An MQTT broker, `mqtt://host[:port]`; QoS 0 or 1.
    Mqtt { url: String, qos: u8 },
    /// The server's HTTP API (`http://host:port`), with a bearer token of a gateway account.
    Http { base_url: String, token: String },
}

/// A simulation run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Readings per second in total.
    pub rate: f64,
    /// How long to publish.
    pub duration: Duration,
    /// Readings per MQTT message or HTTP batch; 1 = one reading per message. An MQTT message
    /// holds readings of one device (consecutive time steps when `per_message` exceeds the
    /// device's metrics); an HTTP batch takes the devices in turn.
    pub per_message: usize,
    pub target: SimTarget,
    pub seed: u64,
    pub events: SimEvents,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            rate: 1_000.0,
            duration: Duration::from_secs(300),
            per_message: 1,
            target: SimTarget::Mqtt {
                url: "mqtt://127.0.0.1:1883".into(),
                qos: 1,
            },
            seed: 1,
            events: SimEvents::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimReport {
    /// Readings sent (handed to the MQTT connection, or posted).
    pub readings: u64,
    /// Messages (MQTT) or batches (HTTP) sent.
    pub messages: u64,
    /// Messages that failed: a publish refused by the client, a QoS 1 message not acknowledged
    /// (or refused) by the broker before the drain timeout, an HTTP batch not answered 2xx.
    pub errors: u64,
    /// From the first publish to the end of the drain.
    pub elapsed: Duration,
}

/// How long a run waits at its end for QoS 1 acknowledgements (or for QoS 0 messages to leave).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The MQTT client's request channel: large, so that pacing, not the channel, sets the rate.
const REQUEST_CHANNEL: usize = 100_000;
/// HTTP batches in flight at once.
const HTTP_IN_FLIGHT: usize = 8;

// ---------------------------------------------------------------------------------------------
// Deterministic noise

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x51_7cc1_b727_220a, |h, &p| mix(h ^ p))
}

/// Uniform in [0, 1).
fn unit(parts: &[u64]) -> f64 {
    (hash(parts) >> 11) as f64 / (1u64 << 53) as f64
}

/// Approximately standard normal (sum of four uniforms).
fn gauss(parts: &[u64]) -> f64 {
    let h = hash(parts);
    let s: f64 = (0..4).map(|i| unit(&[h, i])).sum();
    (s - 2.0) * 3f64.sqrt()
}

/// Noise that wanders smoothly: hashed values at knots `period_ms` apart, interpolated.
fn smooth_noise(seed: u64, key: u64, now: Ms, period_ms: i64) -> f64 {
    let k = now.div_euclid(period_ms);
    let f = now.rem_euclid(period_ms) as f64 / period_ms as f64;
    let (a, b) = (
        gauss(&[seed, key, 81, k as u64]),
        gauss(&[seed, key, 81, (k + 1) as u64]),
    );
    a + (b - a) * smoothstep(f)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// A bump of height 1 at `centre` (hours) with width `width`.
fn bump(h: f64, centre: f64, width: f64) -> f64 {
    (-((h - centre) / width).powi(2)).exp()
}

/// 1 between `from` and `to` (hours), easing in and out over half an hour.
fn window(h: f64, from: f64, to: f64) -> f64 {
    smoothstep((h - from + 0.25) / 0.5) * smoothstep((to - h + 0.25) / 0.5)
}

/// Road traffic on a bridge, 0.1 at night to ≈1 at the rush hours.
fn traffic(h: f64) -> f64 {
    0.1 + 0.4 * window(h, 6.5, 22.0) + 0.5 * bump(h, 8.0, 1.3) + 0.45 * bump(h, 18.0, 1.5)
}

/// Water demand, 0.3 at night to 1 at the morning and evening peaks.
fn demand(h: f64) -> f64 {
    (0.3 + 0.7 * bump(h, 7.5, 1.3) + 0.6 * bump(h, 19.0, 1.8) + 0.35 * window(h, 8.5, 17.0))
        .clamp(0.3, 1.0)
}

/// Work on a construction site: 1 in working hours, less at lunch and in the evening, 0 at night.
fn work(h: f64) -> f64 {
    let day = window(h, 7.0, 12.0) + window(h, 14.0, 18.0);
    let lunch = 0.35 * window(h, 12.0, 14.0);
    let evening = 0.3 * window(h, 18.0, 21.5);
    (day + lunch + evening).min(1.0)
}

/// GB 12523-2011 day (06:00–22:00) and night.
fn is_day(h: f64) -> bool {
    (6.0..22.0).contains(&h)
}

// ---------------------------------------------------------------------------------------------
// The simulator

/// When, in milliseconds since the epoch.
type Ms = i64;

fn ms(d: Duration) -> Ms {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[derive(Debug, Clone, Copy)]
struct Leak {
    start: Ms,
    rise: f64,
    peak: f64,
    hold: f64,
    fall: f64,
}

/// How a device behaves (drawn once from the seed and its id).
#[derive(Debug, Clone, Copy)]
enum Model {
    Gas { base: f64, leak: Option<Leak> },
    Pressure { base: f64 },
    Flow { base: f64 },
    Drainage { base: f64, rise: f64 },
    Manhole { base: f64, rise: f64 },
    Waterlogging { dmax: f64 },
    Strain { base: f64, temp: f64, load: f64 },
    Deflection { base: f64, temp: f64, load: f64 },
    BridgeTilt { offset: f64, temp: f64 },
    Billboard { offset: f64 },
    Noise { site: usize, offset: f64 },
    Rain,
}

#[derive(Debug, Clone, Copy)]
struct Site {
    /// LAeq at full work (dB(A)).
    level: f64,
    key: u64,
    /// Breaking the limit from–to.
    violation: Option<(Ms, Ms)>,
}

#[derive(Debug, Clone)]
struct Sim {
    key: u64,
    kind: DeviceType,
    model: Model,
    /// The rain's strength here (0.7–1.3).
    rain: f64,
    offline: Option<(Ms, Ms)>,
}

/// An event of the schedule, for the log of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledEvent {
    /// `rain`, `gas_leak`, `noise_violation` or `offline`.
    pub kind: &'static str,
    /// The devices concerned (none for the rain: it falls everywhere).
    pub device_ids: Vec<String>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A seeded generator of realistic telemetry for a set of devices.
#[derive(Debug, Clone)]
pub struct Simulator {
    devices: Vec<Device>,
    sims: Vec<Sim>,
    sites: Vec<Site>,
    seed: u64,
    tz: Tz,
    /// The rain: start and end.
    rain: Option<(Ms, Ms)>,
    schedule: Vec<ScheduledEvent>,
}

/// The rain's peak intensity (mm/h) where its strength is 1.
const RAIN_PEAK: f64 = 55.0;

impl Simulator {
    /// A simulator with the default events ([`SimEvents::default`]).
    pub fn new(devices: Vec<Device>, seed: u64, start: DateTime<Utc>, tz: Tz) -> Self {
        Self::with_events(devices, seed, start, tz, &SimEvents::default())
    }

    /// A simulator with the given events, placed relative to `start`.
    pub fn with_events(
        devices: Vec<Device>,
        seed: u64,
        start: DateTime<Utc>,
        tz: Tz,
        events: &SimEvents,
    ) -> Self {
        let t0 = start.timestamp_millis();
        let at = |ms: Ms| DateTime::from_timestamp_millis(ms).unwrap_or(start);
        let u = |key: u64, what: u64| unit(&[seed, key, what]);
        let between = |key: u64, what: u64, lo: f64, hi: f64| lo + (hi - lo) * u(key, what);

        // Construction sites: the devices of one responsible party (or one name) are one site.
        let mut site_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut sites: Vec<Site> = Vec::new();
        let mut sims: Vec<Sim> = Vec::with_capacity(devices.len());
        for d in &devices {
            let key = fnv(&d.id);
            let b = |what: u64, lo: f64, hi: f64| between(key, what, lo, hi);
            let sign = if u(key, 99) < 0.5 { -1.0 } else { 1.0 };
            let model = match d.device_type {
                DeviceType::GasDetector => Model::Gas {
                    base: b(1, 0.0, 2.0),
                    leak: None,
                },
                DeviceType::WaterPressure => Model::Pressure {
                    base: b(1, 0.27, 0.33),
                },
                DeviceType::WaterFlow => Model::Flow {
                    base: b(1, 150.0, 600.0),
                },
                DeviceType::DrainageLevel => Model::Drainage {
                    base: b(1, 0.2, 0.7),
                    rise: b(2, 0.3, 1.7),
                },
                DeviceType::ManholeLevel => Model::Manhole {
                    base: b(1, 0.3, 0.9),
                    rise: b(2, 0.2, 1.5),
                },
                DeviceType::Waterlogging => Model::Waterlogging {
                    dmax: b(1, 2.0, 12.0),
                },
                DeviceType::BridgeStrain => Model::Strain {
                    base: b(1, 60.0, 140.0),
                    temp: b(2, 20.0, 45.0),
                    load: b(3, 30.0, 70.0),
                },
                DeviceType::BridgeDeflection => Model::Deflection {
                    base: b(1, 2.0, 6.0),
                    temp: b(2, 0.5, 1.0),
                    load: b(3, 3.0, 8.0),
                },
                DeviceType::BridgeTilt => Model::BridgeTilt {
                    offset: sign * b(1, 0.01, 0.03),
                    temp: b(2, 0.01, 0.02),
                },
                DeviceType::BillboardTilt => Model::Billboard {
                    offset: sign * b(1, 0.05, 0.4),
                },
                DeviceType::Noise => {
                    let name = d.name.split(' ').next().unwrap_or(&d.name);
                    let site_name = d.responsible.clone().unwrap_or_else(|| name.to_string());
                    let next = sites.len();
                    let site = *site_of.entry(site_name.clone()).or_insert(next);
                    if site == next {
                        let skey = fnv(&site_name);
                        sites.push(Site {
                            level: between(skey, 1, 58.0, 66.0),
                            key: skey,
                            violation: None,
                        });
                    }
                    Model::Noise {
                        site,
                        offset: b(1, -2.0, 2.0),
                    }
                }
                DeviceType::RainGauge => Model::Rain,
            };
            sims.push(Sim {
                key,
                kind: d.device_type,
                model,
                rain: b(7, 0.7, 1.3),
                offline: None,
            });
        }

        // The order in which devices of a kind are picked for events: by the seeded hash.
        let ranked = |sims: &[Sim], kind: DeviceType, what: u64| -> Vec<usize> {
            let mut v: Vec<usize> = (0..sims.len()).filter(|&i| sims[i].kind == kind).collect();
            v.sort_by_key(|&i| (hash(&[seed, sims[i].key, what]), i));
            v
        };
        let mut schedule = Vec::new();
        let mut busy = vec![false; sims.len()];

        let rain = events
            .rain
            .map(|(off, dur)| (t0 + ms(off), t0 + ms(off + dur)));
        if let Some((a, b)) = rain {
            schedule.push(ScheduledEvent {
                kind: "rain",
                device_ids: Vec::new(),
                from: at(a),
                until: at(b),
            });
            // Low-lying stations: the 40 % first by rank (at least one) fill deep.
            let stations = ranked(&sims, DeviceType::Waterlogging, 11);
            let deep = (stations.len() * 2).div_ceil(5).max(1);
            for (r, &i) in stations.iter().enumerate().take(deep) {
                let lo = if r == 0 { 35.0 } else { 20.0 };
                sims[i].model = Model::Waterlogging {
                    dmax: between(sims[i].key, 12, lo, 55.0),
                };
                if r == 0 {
                    busy[i] = true;
                }
            }
        }

        for (n, &i) in ranked(&sims, DeviceType::GasDetector, 21)
            .iter()
            .take(events.gas_leaks)
            .enumerate()
        {
            let key = sims[i].key;
            let leak = Leak {
                start: t0 + 40_000 + 240_000 * n as i64,
                rise: between(key, 22, 90.0, 180.0),
                peak: between(key, 23, 35.0, 70.0),
                hold: between(key, 24, 480.0, 900.0),
                fall: between(key, 25, 120.0, 240.0),
            };
            if let Model::Gas { base, .. } = sims[i].model {
                sims[i].model = Model::Gas {
                    base,
                    leak: Some(leak),
                };
            }
            busy[i] = true;
            let end = leak.start + ((leak.rise + leak.hold + leak.fall) * 1000.0) as i64;
            schedule.push(ScheduledEvent {
                kind: "gas_leak",
                device_ids: vec![devices[i].id.clone()],
                from: at(leak.start),
                until: at(end),
            });
        }

        let mut site_order: Vec<usize> = (0..sites.len()).collect();
        site_order.sort_by_key(|&s| (hash(&[seed, sites[s].key, 31]), s));
        for (n, &s) in site_order.iter().take(events.noise_violations).enumerate() {
            let from = t0 + 20_000 + 90_000 * n as i64;
            let until = from + 600_000;
            sites[s].violation = Some((from, until));
            let ids: Vec<String> = sims
                .iter()
                .enumerate()
                .filter(|(_, x)| matches!(x.model, Model::Noise { site, .. } if site == s))
                .map(|(i, _)| {
                    busy[i] = true;
                    devices[i].id.clone()
                })
                .collect();
            schedule.push(ScheduledEvent {
                kind: "noise_violation",
                device_ids: ids,
                from: at(from),
                until: at(until),
            });
        }

        let mut candidates: Vec<usize> = (0..sims.len()).filter(|&i| !busy[i]).collect();
        candidates.sort_by_key(|&i| (hash(&[seed, sims[i].key, 41]), i));
        for (n, &i) in candidates.iter().take(events.offline).enumerate() {
            let key = sims[i].key;
            let (from, minutes) = if n.is_multiple_of(2) {
                (t0, between(key, 42, 35.0, 60.0))
            } else {
                (t0 + 60_000 + 30_000 * n as i64, between(key, 43, 5.0, 20.0))
            };
            let until = from + (minutes * 60_000.0) as i64;
            sims[i].offline = Some((from, until));
            schedule.push(ScheduledEvent {
                kind: "offline",
                device_ids: vec![devices[i].id.clone()],
                from: at(from),
                until: at(until),
            });
        }

        Self {
            devices,
            sims,
            sites,
            seed,
            tz,
            rain,
            schedule,
        }
    }

    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// The scheduled events (rain, gas leaks, noise violations, offline devices), for the log.
    pub fn schedule(&self) -> &[ScheduledEvent] {
        &self.schedule
    }

    /// The readings of device `device_index` at `t`: one value per metric of its type (a
    /// waterlogging station's rainfall before its depth, the order the rules like), each within
    /// [`Metric::plausible`]; none while the device is offline (or for an index out of range).
    pub fn readings_at(&mut self, device_index: usize, t: DateTime<Utc>) -> Vec<(Metric, f64)> {
        self.values(device_index, t)
    }

    fn values(&self, i: usize, t: DateTime<Utc>) -> Vec<(Metric, f64)> {
        let Some(sim) = self.sims.get(i) else {
            return Vec::new();
        };
        let now = t.timestamp_millis();
        if sim.offline.is_some_and(|(a, b)| now >= a && now < b) {
            return Vec::new();
        }
        let local = t.with_timezone(&self.tz);
        let h = f64::from(local.hour())
            + f64::from(local.minute()) / 60.0
            + f64::from(local.second()) / 3600.0;
        let temp = (2.0 * PI * (h - 15.0) / 24.0).cos();
        // Per reading noise: by device, metric and instant.
        let n = |m: Metric| gauss(&[self.seed, sim.key, m.code() as u64, now as u64]);
        let u = |m: Metric, k: u64| unit(&[self.seed, sim.key, m.code() as u64, now as u64, k]);
        let out = match sim.model {
            Model::Gas { base, leak } => {
                let mut v = base + 0.3 * n(Metric::Ch4Lel);
                if let Some(l) = leak {
                    v += leak_value(&l, now, u(Metric::Ch4Lel, 1));
                }
                vec![(Metric::Ch4Lel, v)]
            }
            Model::Pressure { base } => {
                // Smooth noise: a pressure that jumps between readings looks like a burst pipe
                // to the rate-of-change rule.
                let wander = smooth_noise(self.seed, sim.key, now, 60_000);
                let v = base + 0.07 * (1.0 - demand(h)) - 0.02 + 0.003 * wander;
                vec![(Metric::Pressure, v)]
            }
            Model::Flow { base } => {
                let v = base * (0.35 + 0.75 * demand(h)) * (1.0 + 0.03 * n(Metric::Flow));
                vec![(Metric::Flow, v)]
            }
            Model::Drainage { base, rise } => {
                let f = self.response(now, 0.08, 45.0, 900.0, 0.3, 0.5);
                let v = base
                    + 0.05 * demand(h)
                    + rise * f * sim.rain.min(1.15)
                    + 0.01 * n(Metric::Level);
                vec![(Metric::Level, v)]
            }
            Model::Manhole { base, rise } => {
                let f = self.response(now, 0.06, 40.0, 600.0, 0.25, 0.4);
                let v = base
                    + 0.05 * demand(h)
                    + rise * f * sim.rain.min(1.15)
                    + 0.01 * n(Metric::Level);
                vec![(Metric::Level, v)]
            }
            Model::Waterlogging { dmax } => {
                let rain = self.rainfall(sim, now);
                let f = self.response(now, 0.05, 30.0, 600.0, 0.15, 0.3);
                let depth = if f > 0.0 {
                    dmax * f + 0.3 * n(Metric::Depth)
                } else {
                    0.0
                };
                vec![(Metric::Rainfall, rain), (Metric::Depth, depth)]
            }
            Model::Strain {
                base,
                temp: ta,
                load,
            } => {
                let mut v = base
                    + ta * temp
                    + load * traffic(h) * (0.7 + 0.6 * u(Metric::Strain, 1))
                    + 3.0 * n(Metric::Strain);
                if u(Metric::Strain, 2) < 0.02 {
                    // A heavy lorry.
                    v += 40.0 + 50.0 * u(Metric::Strain, 3);
                }
                vec![(Metric::Strain, v)]
            }
            Model::Deflection {
                base,
                temp: ta,
                load,
            } => {
                let v = base
                    + ta * temp
                    + load * traffic(h) * (0.7 + 0.6 * u(Metric::Deflection, 1))
                    + 0.2 * n(Metric::Deflection);
                vec![(Metric::Deflection, v)]
            }
            Model::BridgeTilt { offset, temp: ta } => {
                let v = offset + ta * temp + 0.003 * n(Metric::Tilt);
                vec![(Metric::Tilt, v)]
            }
            Model::Billboard { offset } => {
                // Wind: gusty while it rains.
                let gust = if self.rainfall_strength(now) > 0.0 {
                    0.15
                } else {
                    0.05
                };
                vec![(Metric::Tilt, offset + gust * n(Metric::Tilt))]
            }
            Model::Noise { site, offset } => {
                let laeq = self.noise(site, offset, h, local.date_naive(), now);
                let laeq = laeq + 0.8 * n(Metric::Laeq);
                let lamax = laeq + 8.0 + 12.0 * u(Metric::Lamax, 1);
                vec![(Metric::Laeq, laeq), (Metric::Lamax, lamax)]
            }
            Model::Rain => vec![(Metric::Rainfall, self.rainfall(sim, now))],
        };
        out.into_iter().map(|(m, v)| (m, finish(m, v))).collect()
    }

    /// 0–1: how far the rain event has gone, smoothed (0 outside it).
    fn rainfall_strength(&self, now: Ms) -> f64 {
        let Some((a, b)) = self.rain else { return 0.0 };
        if now < a || now > b {
            return 0.0;
        }
        let d = (b - a) as f64 / 1000.0;
        let tau = (now - a) as f64 / 1000.0;
        let up = (d * 0.1).clamp(60.0, 900.0);
        let down = (d * 0.2).clamp(60.0, 1800.0);
        smoothstep(tau / up) * smoothstep((d - tau) / down)
    }

    /// Rainfall (mm/h) at a device.
    fn rainfall(&self, sim: &Sim, now: Ms) -> f64 {
        let s = self.rainfall_strength(now);
        if s <= 0.0 {
            return 0.0;
        }
        let a = self.rain.map_or(0, |r| r.0);
        let tau = (now - a) as f64 / 1000.0;
        // Convective cells: the intensity swells and ebbs every few minutes.
        let phase = unit(&[self.seed, sim.key, 71]) * 2.0 * PI;
        let swell = 1.0 + 0.25 * (2.0 * PI * tau / 420.0 + phase).sin();
        let jitter = 1.0 + 0.08 * gauss(&[self.seed, sim.key, 72, now as u64]);
        RAIN_PEAK * sim.rain * s * swell * jitter
    }

    /// The response (0–1) of a water level to the rain: nothing for `lag` (a share of the rain's
    /// duration, clamped), rising over `rise`, holding while it rains, decaying after.
    fn response(
        &self,
        now: Ms,
        lag_share: f64,
        lag_min: f64,
        lag_max: f64,
        rise_share: f64,
        decay_share: f64,
    ) -> f64 {
        let Some((a, b)) = self.rain else { return 0.0 };
        let d = (b - a) as f64 / 1000.0;
        let tau = (now - a) as f64 / 1000.0;
        let lag = (d * lag_share).clamp(lag_min, lag_max);
        let rise = (d * rise_share).clamp(90.0, 3600.0);
        let decay = (d * decay_share).clamp(180.0, 7200.0);
        if tau < lag {
            return 0.0;
        }
        let level = smoothstep((tau.min(d + lag) - lag) / rise);
        if tau > d + lag {
            level * (-(tau - d - lag) / decay).exp()
        } else {
            level
        }
    }

    /// The LAeq of a noise monitor before the per-reading noise.
    fn noise(&self, site: usize, offset: f64, h: f64, date: chrono::NaiveDate, now: Ms) -> f64 {
        let Some(s) = self.sites.get(site) else {
            return 45.0;
        };
        let day = is_day(h);
        let ambient = if day {
            50.0 + 2.0 * window(h, 7.0, 20.0)
        } else {
            44.0
        };
        let mut level = s.level + offset;
        let mut w = work(h);
        // Work peaks (piling, breaking): a site is busier in some 10-minute slots.
        let slot = (now / 600_000) as u64;
        if w > 0.5 && unit(&[self.seed, s.key, 51, slot]) < 0.12 {
            level += 2.0 + 3.0 * unit(&[self.seed, s.key, 52, slot]);
        }
        // Now and then a site pours concrete into the night (the night is keyed by its evening).
        let night_of = if h < 6.0 {
            date.pred_opt().unwrap_or(date)
        } else {
            date
        };
        let night_key = u64::from(night_of.to_epoch_days().unsigned_abs());
        if !(1.5..22.0).contains(&h) && unit(&[self.seed, s.key, 53, night_key]) < 0.06 {
            w = 0.9;
            level = s.level - 1.0 + offset;
        }
        if let Some((a, b)) = s.violation
            && now >= a
            && now < b
        {
            w = 1.0;
            level = if day {
                72.0 + 5.0 * unit(&[self.seed, s.key, 54]) + offset.abs()
            } else {
                59.0 + 5.0 * unit(&[self.seed, s.key, 55]) + offset.abs()
            };
        }
        10.0 * (10f64.powf(ambient / 10.0) + w * 10f64.powf(level / 10.0)).log10()
    }
}

/// The CH₄ a leak adds (%LEL) at `now`.
fn leak_value(l: &Leak, now: Ms, u: f64) -> f64 {
    let tau = (now - l.start) as f64 / 1000.0;
    if tau < 0.0 {
        return 0.0;
    }
    let wobble = 1.0 + 0.08 * (2.0 * PI * tau / 97.0).sin() + 0.04 * (u - 0.5);
    if tau < l.rise {
        l.peak * smoothstep(tau / l.rise) * wobble
    } else if tau < l.rise + l.hold {
        l.peak * wobble
    } else {
        l.peak * (1.0 - smoothstep((tau - l.rise - l.hold) / l.fall))
    }
}

/// A value rounded to the metric's resolution and kept within its plausible range.
fn finish(m: Metric, v: f64) -> f64 {
    let places = match m {
        Metric::Pressure => 10_000.0,
        Metric::Level | Metric::Tilt => 1_000.0,
        Metric::Deflection => 100.0,
        _ => 10.0,
    };
    let (lo, hi) = m.plausible();
    let lo = match m {
        // No negative concentration, flow, level or depth from a working sensor here.
        Metric::Ch4Lel | Metric::Flow | Metric::Level | Metric::Depth | Metric::Rainfall => {
            lo.max(0.0)
        }
        _ => lo,
    };
    let v = if v.is_finite() { v } else { lo };
    ((v * places).round() / places).clamp(lo, hi)
}

// ---------------------------------------------------------------------------------------------
// Composing messages

/// One reading ready to send.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Out {
    device: usize,
    metric: Metric,
    value: f64,
    ts: Ms,
}

/// Takes the devices in turn and composes messages (MQTT) or batches (HTTP) of readings with
/// timestamps that never repeat for a device.
struct Feeder {
    sim: Simulator,
    per_message: usize,
    rate: f64,
    cursor: usize,
    last: Vec<Ms>,
    /// MQTT messages composed but not yet taken (a device's metrics split one per message).
    pending: VecDeque<Vec<Out>>,
    /// HTTP readings composed but not yet batched.
    carry: VecDeque<Out>,
}

impl Feeder {
    fn new(sim: Simulator, per_message: usize, rate: f64) -> Self {
        let n = sim.devices.len();
        Self {
            sim,
            per_message: per_message.max(1),
            rate,
            cursor: 0,
            last: vec![i64::MIN / 2; n],
            pending: VecDeque::new(),
            carry: VecDeque::new(),
        }
    }

    fn next_device(&mut self) -> usize {
        let d = self.cursor;
        self.cursor = (self.cursor + 1) % self.sim.devices.len().max(1);
        d
    }

    /// The readings of device `d` at `ts` (later than its last one), or none while offline.
    fn step(&mut self, d: usize, ts: Ms, out: &mut Vec<Out>) {
        let ts = ts.max(self.last[d] + 1);
        self.last[d] = ts;
        let Some(t) = DateTime::from_timestamp_millis(ts) else {
            return;
        };
        for (metric, value) in self.sim.readings_at(d, t) {
            out.push(Out {
                device: d,
                metric,
                value,
                ts,
            });
        }
    }

    /// The next MQTT message: readings of one device. None when no device has data now.
    fn next_message(&mut self, now: Ms) -> Option<Vec<Out>> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        let pm = self.per_message;
        for _ in 0..self.sim.devices.len() {
            let d = self.next_device();
            let m = self.sim.devices[d].device_type.metrics().len().max(1);
            let steps = pm.div_ceil(m);
            // The device's own sampling interval at this rate: its visits are spread evenly.
            let n = self.sim.devices.len() as f64;
            let step_ms = ((1000.0 * n * m as f64 / self.rate) as i64).max(1);
            let mut readings = Vec::with_capacity(steps * m);
            for j in 0..steps {
                let back = (steps - 1 - j) as i64 * step_ms;
                self.step(d, now - back, &mut readings);
            }
            if readings.is_empty() {
                continue;
            }
            if pm >= m {
                readings.truncate(pm);
                return Some(readings);
            }
            let mut chunks = readings.chunks(pm).map(<[Out]>::to_vec);
            let first = chunks.next();
            self.pending.extend(chunks);
            return first;
        }
        None
    }

    /// The next HTTP batch of exactly `per_message` readings over the devices in turn. None when
    /// no device has data now.
    fn next_batch(&mut self, now: Ms) -> Option<Vec<Out>> {
        let mut idle = 0;
        let mut buf = Vec::new();
        while self.carry.len() < self.per_message {
            let d = self.next_device();
            buf.clear();
            self.step(d, now, &mut buf);
            if buf.is_empty() {
                idle += 1;
                if idle >= self.sim.devices.len() {
                    break;
                }
                continue;
            }
            idle = 0;
            self.carry.extend(buf.iter().copied());
        }
        if self.carry.is_empty() {
            return None;
        }
        let n = self.per_message.min(self.carry.len());
        Some(self.carry.drain(..n).collect())
    }
}

fn rfc3339(ts: Ms) -> String {
    DateTime::from_timestamp_millis(ts)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The MQTT payload: one object, or an array when `per_message` > 1.
fn mqtt_payload(readings: &[Out], array: bool) -> String {
    let one = |r: &Out| {
        format!(
            r#"{{"metric":"{}","value":{},"ts":"{}"}}"#,
            r.metric.as_str(),
            r.value,
            rfc3339(r.ts)
        )
    };
    if !array && readings.len() == 1 {
        return one(&readings[0]);
    }
    let parts: Vec<String> = readings.iter().map(one).collect();
    format!("[{}]", parts.join(","))
}

/// The HTTP batch body.
fn http_body(readings: &[Out], ids: &[String]) -> String {
    let parts: Vec<String> = readings
        .iter()
        .map(|r| {
            format!(
                r#"{{"device_id":{},"metric":"{}","value":{},"ts":"{}"}}"#,
                ids[r.device],
                r.metric.as_str(),
                r.value,
                rfc3339(r.ts)
            )
        })
        .collect();
    format!(r#"{{"readings":[{}]}}"#, parts.join(","))
}

// ---------------------------------------------------------------------------------------------
// Running

/// Paces sending at `rate` readings per second from `t0`.
struct Pacer {
    t0: Instant,
    rate: f64,
    duration: Duration,
    sent: u64,
}

impl Pacer {
    /// Waits until the next reading is due; false once the run's duration is over.
    async fn ready(&self) -> bool {
        let due = Duration::from_secs_f64(self.sent as f64 / self.rate);
        if due >= self.duration {
            return false;
        }
        let elapsed = self.t0.elapsed();
        if due > elapsed + Duration::from_millis(1) {
            tokio::time::sleep(due - elapsed).await;
        }
        self.t0.elapsed() < self.duration
    }
}

/// Publishes simulated telemetry of the active `devices` at `config.rate` for
/// `config.duration` (see the module documentation), then waits for the broker's
/// acknowledgements (QoS 1) or for the last messages to leave (QoS 0).
pub async fn run(config: SimConfig, devices: Vec<Device>, tz: Tz) -> Result<SimReport, String> {
    let devices: Vec<Device> = devices.into_iter().filter(|d| d.active).collect();
    if devices.is_empty() {
        return Err("no active device to simulate".into());
    }
    if !(config.rate.is_finite() && config.rate > 0.0) {
        return Err(format!(
            "rate {}: expected readings per second > 0",
            config.rate
        ));
    }
    if config.per_message == 0 || config.per_message > MAX_READINGS {
        return Err(format!(
            "per_message {}: expected 1–{MAX_READINGS} readings per message",
            config.per_message
        ));
    }
    let start = Utc::now();
    let sim = Simulator::with_events(devices, config.seed, start, tz, &config.events);
    for e in sim.schedule() {
        tracing::info!(
            kind = e.kind,
            devices = ?e.device_ids,
            from = %e.from,
            until = %e.until,
            "simulated event"
        );
    }
    let feeder = Feeder::new(sim, config.per_message, config.rate);
    match &config.target {
        SimTarget::Mqtt { url, qos } => run_mqtt(&config, feeder, url, *qos).await,
        SimTarget::Http { base_url, token } => run_http(&config, feeder, base_url, token).await,
    }
}

/// Counters the MQTT poll task keeps.
#[derive(Default)]
struct Acks {
    /// Publishes written to the connection (retransmissions included).
    written: AtomicU64,
    /// PUBACKs received.
    acked: AtomicU64,
    /// PUBACKs with a refusing reason.
    refused: AtomicU64,
    /// Connection errors.
    connection_errors: AtomicU64,
}

async fn run_mqtt(
    config: &SimConfig,
    mut feeder: Feeder,
    url: &str,
    qos: u8,
) -> Result<SimReport, String> {
    let q = match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        other => {
            return Err(format!(
                "MQTT QoS {other}: the simulator publishes at QoS 0 or 1"
            ));
        }
    };
    let (host, port) = host_port(url)?;
    let client_id = format!(
        "cityops-sim-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    );
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_keep_alive(Duration::from_secs(30))
        .set_request_channel_capacity(REQUEST_CHANNEL);
    if q == QoS::AtLeastOnce {
        // Unacknowledged messages are sent again after a reconnect (broker restart).
        opts.set_clean_start(false)
            .set_session_expiry_interval(Some(600));
    }
    let (client, mut eventloop) = AsyncClient::new(opts, REQUEST_CHANNEL);
    let acks = Arc::new(Acks::default());
    let (connected_tx, connected_rx) = oneshot::channel::<()>();
    let (stop_tx, mut stop_rx) = watch::channel(false);

    // The poll task: only polls, never publishes (STACK.md §4.1).
    let counters = acks.clone();
    let poller = tokio::spawn(async move {
        let mut connected = Some(connected_tx);
        loop {
            let event = tokio::select! {
                e = eventloop.poll() => e,
                _ = stop_rx.changed() => {
                    if *stop_rx.borrow() { break } else { continue }
                }
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if let Some(tx) = connected.take() {
                        let _ = tx.send(());
                    }
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => {
                    counters.acked.fetch_add(1, Ordering::Relaxed);
                    if !matches!(
                        ack.reason,
                        PubAckReason::Success | PubAckReason::NoMatchingSubscribers
                    ) {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(Event::Outgoing(Outgoing::Publish(_))) => {
                    counters.written.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                Ok(_) => {}
                Err(e) => {
                    let n = counters.connection_errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if n == 1 || n.is_multiple_of(20) {
                        tracing::warn!(error = %e, errors = n, "simulator: MQTT connection error; reconnecting");
                    }
                    if *stop_rx.borrow() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });

    let stop = |poller: tokio::task::JoinHandle<()>| async move {
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), poller).await;
    };
    if tokio::time::timeout(Duration::from_secs(10), connected_rx)
        .await
        .ok()
        .and_then(Result::ok)
        .is_none()
    {
        stop(poller).await;
        return Err(format!("cannot connect to the MQTT broker at {url}"));
    }

    let topics: Vec<String> = feeder
        .sim
        .devices
        .iter()
        .map(|d| format!("{TOPIC_PREFIX}{}", d.id))
        .collect();
    let array = config.per_message > 1;
    let mut report = SimReport::default();
    let mut pacer = Pacer {
        t0: Instant::now(),
        rate: config.rate,
        duration: config.duration,
        sent: 0,
    };
    let mut progress = Instant::now();
    while pacer.ready().await {
        let now = Utc::now().timestamp_millis();
        let Some(msg) = feeder.next_message(now) else {
            // Every device is offline right now.
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let payload = mqtt_payload(&msg, array);
        let topic = topics[msg[0].device].clone();
        pacer.sent += msg.len() as u64;
        match client.publish(topic, q, false, payload).await {
            Ok(()) => {
                report.messages += 1;
                report.readings += msg.len() as u64;
            }
            Err(e) => {
                report.errors += 1;
                if report.errors == 1 {
                    tracing::warn!(error = %e, "simulator: publish failed");
                }
            }
        }
        if progress.elapsed() >= Duration::from_secs(10) {
            progress = Instant::now();
            tracing::info!(
                readings = report.readings,
                messages = report.messages,
                acked = acks.acked.load(Ordering::Relaxed),
                rate = report.readings as f64 / pacer.t0.elapsed().as_secs_f64(),
                "simulator progress"
            );
        }
    }

    // Drain: everything acknowledged (QoS 1) or written (QoS 0), or the timeout.
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let done = |a: &Acks| match q {
        QoS::AtMostOnce => a.written.load(Ordering::Relaxed) >= report.messages,
        _ => a.acked.load(Ordering::Relaxed) >= report.messages,
    };
    while !done(&acks) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if q == QoS::AtLeastOnce {
        let acked = acks.acked.load(Ordering::Relaxed).min(report.messages);
        report.errors += report.messages - acked + acks.refused.load(Ordering::Relaxed);
    } else {
        let written = acks.written.load(Ordering::Relaxed).min(report.messages);
        report.errors += report.messages - written;
    }
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !poller.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    stop(poller).await;
    report.elapsed = pacer.t0.elapsed();
    Ok(report)
}

async fn run_http(
    config: &SimConfig,
    mut feeder: Feeder,
    base_url: &str,
    token: &str,
) -> Result<SimReport, String> {
    let url = format!("{}/api/v1/telemetry", base_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(HTTP_IN_FLIGHT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    // Device ids as JSON strings, once.
    let ids: Vec<String> = feeder
        .sim
        .devices
        .iter()
        .map(|d| serde_json::to_string(&d.id).unwrap_or_else(|_| "\"\"".into()))
        .collect();
    let room = Arc::new(Semaphore::new(HTTP_IN_FLIGHT));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut report = SimReport::default();
    let mut pacer = Pacer {
        t0: Instant::now(),
        rate: config.rate,
        duration: config.duration,
        sent: 0,
    };
    let auth = format!("Bearer {token}");
    let mut progress = Instant::now();
    while pacer.ready().await {
        let now = Utc::now().timestamp_millis();
        let Some(batch) = feeder.next_batch(now) else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        pacer.sent += batch.len() as u64;
        report.messages += 1;
        report.readings += batch.len() as u64;
        let body = http_body(&batch, &ids);
        let Ok(permit) = room.clone().acquire_owned().await else {
            break;
        };
        let (c, u, a, failed) = (client.clone(), url.clone(), auth.clone(), errors.clone());
        tasks.spawn(async move {
            let _permit = permit;
            if let Err(e) = post(&c, &u, &a, body).await {
                let n = failed.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 || n.is_multiple_of(100) {
                    tracing::warn!(error = %e, errors = n, "simulator: a batch was not taken");
                }
            }
        });
        while tasks.try_join_next().is_some() {}
        if progress.elapsed() >= Duration::from_secs(10) {
            progress = Instant::now();
            tracing::info!(
                readings = report.readings,
                batches = report.messages,
                errors = errors.load(Ordering::Relaxed),
                "simulator progress"
            );
        }
    }
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    // Batches still in flight after the timeout count as failed.
    report.errors = errors.load(Ordering::Relaxed) + tasks.len() as u64;
    tasks.abort_all();
    report.elapsed = pacer.t0.elapsed();
    Ok(report)
}

/// Posts one batch; retries a few times while the server is overloaded (429 / 503).
async fn post(client: &reqwest::Client, url: &str, auth: &str, body: String) -> Result<(), String> {
    let mut delay = Duration::from_millis(200);
    for attempt in 0..4 {
        let res = client
            .post(url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let busy = status == reqwest::StatusCode::SERVICE_UNAVAILABLE
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        if !busy || attempt == 3 {
            let text = res.text().await.unwrap_or_default();
            return Err(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ));
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err("unreachable".into())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;
    use cityops_domain::monitoring::rules::{default_rules, evaluate};
    use cityops_domain::monitoring::{AlarmSignal, Reading, RuleState};

    use super::*;
    use crate::payload::{Batch, RawReading};

    fn device(id: &str, t: DeviceType, name: &str, responsible: Option<&str>) -> Device {
        Device {
            id: id.into(),
            device_type: t,
            name: name.into(),
            lng: 114.4,
            lat: 23.1,
            grid_code: None,
            community_code: None,
            street_code: None,
            district_code: None,
            component_id: None,
            department_id: None,
            profile: t.default_profile().into(),
            responsible: responsible.map(str::to_string),
            active: true,
        }
    }

    /// A small city: 8 devices of each type; noise monitors in sites of 2–3.
    fn city() -> Vec<Device> {
        let mut v = Vec::new();
        for t in DeviceType::ALL {
            for i in 0..8 {
                let id = format!("T-{}-{i:03}", t.as_str());
                let (name, resp) = if *t == DeviceType::Noise {
                    let site = i / 3;
                    (
                        format!("惠城区{site}号项目工地 噪声监测仪 {i}#"),
                        Some(format!("张工 1390000000{site}")),
                    )
                } else {
                    (format!("{} {i}#", t.name_zh()), None)
                };
                v.push(device(&id, *t, &name, resp.as_deref()));
            }
        }
        v
    }

    /// 10:00 Beijing time.
    fn morning() -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(2026, 7, 1, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn night() -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(2026, 7, 1, 23, 30, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn secs(t: DateTime<Utc>, s: i64) -> DateTime<Utc> {
        t + chrono::Duration::seconds(s)
    }

    fn values(sim: &mut Simulator, i: usize, t: DateTime<Utc>, m: Metric) -> Option<f64> {
        sim.readings_at(i, t)
            .into_iter()
            .find(|(x, _)| *x == m)
            .map(|(_, v)| v)
    }

    fn index_of(sim: &Simulator, id: &str) -> usize {
        sim.devices().iter().position(|d| d.id == id).unwrap()
    }

    #[test]
    fn deterministic_one_value_per_metric_and_always_plausible() {
        let t0 = morning();
        let mut a = Simulator::new(city(), 7, t0, Shanghai);
        let mut b = Simulator::new(city(), 7, t0, Shanghai);
        let mut c = Simulator::new(city(), 8, t0, Shanghai);
        let mut differs = false;
        // Two days every 7 minutes, and the first hour every 10 s.
        let times: Vec<i64> = (0..2 * 24 * 60 / 7)
            .map(|k| k * 420)
            .chain((0..360).map(|k| k * 10))
            .collect();
        for &s in &times {
            let t = secs(t0, s);
            for i in 0..a.devices().len() {
                let va = a.readings_at(i, t);
                assert_eq!(va, b.readings_at(i, t), "device {i} at +{s}s");
                differs |= va != c.readings_at(i, t);
                if va.is_empty() {
                    continue;
                }
                let t = a.devices()[i].device_type;
                let mut metrics: Vec<Metric> = va.iter().map(|(m, _)| *m).collect();
                metrics.sort();
                let mut want = t.metrics().to_vec();
                want.sort();
                assert_eq!(metrics, want, "{t}");
                for (m, v) in va {
                    let (lo, hi) = m.plausible();
                    assert!(v.is_finite() && v >= lo && v <= hi, "{m} = {v}");
                }
            }
        }
        assert!(differs, "another seed gives other values");
        // Call order does not matter.
        let t = secs(t0, 1234);
        let later = a.readings_at(3, secs(t0, 99_999));
        assert_eq!(a.readings_at(3, t), b.readings_at(3, t));
        assert_eq!(later, b.readings_at(3, secs(t0, 99_999)));
        assert!(a.readings_at(10_000, t).is_empty());
    }

    #[test]
    fn a_gas_leak_rises_past_25_percent_lel_within_minutes() {
        let t0 = morning();
        let mut sim = Simulator::new(city(), 3, t0, Shanghai);
        let leaks: Vec<ScheduledEvent> = sim
            .schedule()
            .iter()
            .filter(|e| e.kind == "gas_leak")
            .cloned()
            .collect();
        assert_eq!(leaks.len(), 2);
        assert_eq!(leaks[0].from, secs(t0, 40));
        assert_eq!(leaks[1].from, secs(t0, 280));
        let leaking = index_of(&sim, &leaks[0].device_ids[0]);
        let ch4 = |sim: &mut Simulator, i, s| values(sim, i, secs(t0, s), Metric::Ch4Lel).unwrap();
        assert!(ch4(&mut sim, leaking, 30) < 5.0, "before the leak");
        let past = (40..=300)
            .step_by(5)
            .find(|&s| ch4(&mut sim, leaking, s) >= 25.0);
        let past = past.expect("past 25 %LEL within 5 minutes");
        assert!(past > 60, "it rises over minutes, not at once: {past}");
        let peak = (0..1200)
            .step_by(10)
            .map(|s| ch4(&mut sim, leaking, s))
            .fold(0.0, f64::max);
        assert!((30.0..=80.0).contains(&peak), "{peak}");
        assert!(ch4(&mut sim, leaking, 3 * 3600) < 5.0, "repaired");
        // The other detectors stay low.
        for i in 0..sim.devices().len() {
            let d = sim.devices()[i].clone();
            if d.device_type == DeviceType::GasDetector
                && !leaks.iter().any(|e| e.device_ids.contains(&d.id))
            {
                for s in (0..1800).step_by(60) {
                    if let Some(v) = values(&mut sim, i, secs(t0, s), Metric::Ch4Lel) {
                        assert!(v < 5.0, "{} = {v}", d.id);
                    }
                }
            }
        }
    }

    #[test]
    fn the_rain_raises_rainfall_then_the_water_with_a_lag() {
        let t0 = morning();
        let mut sim = Simulator::new(city(), 5, t0, Shanghai);
        let rain = sim
            .schedule()
            .iter()
            .find(|e| e.kind == "rain")
            .unwrap()
            .clone();
        assert_eq!((rain.from, rain.until), (secs(t0, 30), secs(t0, 30 + 1500)));
        let of = |sim: &Simulator, t: DeviceType| -> Vec<usize> {
            (0..sim.devices().len())
                .filter(|&i| sim.devices()[i].device_type == t)
                .collect()
        };
        let gauges = of(&sim, DeviceType::RainGauge);
        let get = |sim: &mut Simulator, i: usize, s: i64, m: Metric| {
            values(sim, i, secs(t0, s), m).unwrap_or(f64::NAN)
        };
        for &g in &gauges {
            let (before, during, after) = (
                get(&mut sim, g, 10, Metric::Rainfall),
                get(&mut sim, g, 600, Metric::Rainfall),
                get(&mut sim, g, 2000, Metric::Rainfall),
            );
            if before.is_nan() || during.is_nan() || after.is_nan() {
                continue; // offline
            }
            assert_eq!((before, after), (0.0, 0.0));
            assert!((20.0..=120.0).contains(&during), "{during} mm/h");
        }
        // Drainage levels: up during the rain (after the lag), down after.
        for &d in &of(&sim, DeviceType::DrainageLevel) {
            let v: Vec<f64> = [20, 60, 900, 1500, 1530 + 3 * 3600]
                .iter()
                .map(|&s| get(&mut sim, d, s, Metric::Level))
                .collect();
            if v.iter().any(|x| x.is_nan()) {
                continue;
            }
            assert!((v[1] - v[0]).abs() < 0.1, "no rise before the lag: {v:?}");
            assert!(v[2] > v[0] + 0.2 && v[3] >= v[2] - 0.05, "{v:?}");
            assert!(v[4] < v[3] - 0.2, "it falls after the rain: {v:?}");
        }
        // A low-lying station fills past 15 cm within 5 minutes while it rains ≥ 5 mm/h.
        let stations = of(&sim, DeviceType::Waterlogging);
        let deep = stations.iter().copied().find(|&w| {
            (0..=300).step_by(5).any(|s| {
                get(&mut sim, w, s, Metric::Depth) > 15.0
                    && get(&mut sim, w, s, Metric::Rainfall) >= 5.0
            })
        });
        assert!(deep.is_some(), "a deep station");
        for &w in &stations {
            let dry = get(&mut sim, w, 20, Metric::Depth);
            assert!(dry.is_nan() || dry == 0.0, "dry before the rain: {dry}");
            // Rainfall first, as the rules like.
            if let Some(first) = sim.readings_at(w, secs(t0, 100)).first() {
                assert_eq!(first.0, Metric::Rainfall);
            }
        }
    }

    #[test]
    fn noise_follows_the_working_day_and_violations_break_the_limit() {
        let events = SimEvents {
            noise_violations: 0,
            offline: 0,
            ..SimEvents::default()
        };
        let t0 = morning();
        let mut sim = Simulator::with_events(city(), 9, t0, Shanghai, &events);
        let monitors: Vec<usize> = (0..sim.devices().len())
            .filter(|&i| sim.devices()[i].device_type == DeviceType::Noise)
            .collect();
        let (mut day, mut small_hours) = (0.0, 0.0);
        for &i in &monitors {
            for s in (0..3600).step_by(60) {
                let r = sim.readings_at(i, secs(t0, s));
                let (laeq, lamax) = (r[0].1, r[1].1);
                assert!((55.0..=75.0).contains(&laeq), "day LAeq {laeq}");
                assert!(
                    lamax >= laeq + 7.0 && lamax <= laeq + 21.0,
                    "{laeq} {lamax}"
                );
                day += laeq;
                // 03:00 the next night.
                small_hours += sim.readings_at(i, secs(t0, 17 * 3600 + s))[0].1;
            }
        }
        assert!(
            day > small_hours + 10.0 * 60.0 * monitors.len() as f64,
            "quieter at night"
        );

        // With the default events a site breaks the limit soon after the start, day or night.
        for (t0, limit) in [(morning(), 70.0), (night(), 55.0)] {
            let mut sim = Simulator::new(city(), 9, t0, Shanghai);
            let v = sim
                .schedule()
                .iter()
                .find(|e| e.kind == "noise_violation")
                .unwrap()
                .clone();
            assert_eq!(v.from, secs(t0, 20));
            let i = index_of(&sim, &v.device_ids[0]);
            let laeq = values(&mut sim, i, secs(t0, 30), Metric::Laeq).unwrap();
            assert!(laeq > limit + 1.0, "{laeq} over {limit}");
        }
    }

    #[test]
    fn bridges_water_and_offline_devices() {
        let t0 = Shanghai
            .with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let mut sim = Simulator::new(city(), 11, t0, Shanghai);
        let first = |sim: &Simulator, t: DeviceType| {
            (0..sim.devices().len())
                .find(|&i| sim.devices()[i].device_type == t && sim.sims[i].offline.is_none())
                .unwrap()
        };
        let mean = |sim: &mut Simulator, i: usize, hour: i64, m: Metric| {
            (0..30)
                .map(|k| values(sim, i, secs(t0, hour * 3600 + k * 60), m).unwrap())
                .sum::<f64>()
                / 30.0
        };
        let s = first(&sim, DeviceType::BridgeStrain);
        assert!(
            mean(&mut sim, s, 18, Metric::Strain) > mean(&mut sim, s, 3, Metric::Strain) + 20.0
        );
        let p = first(&sim, DeviceType::WaterPressure);
        let (night_p, peak_p) = (
            mean(&mut sim, p, 3, Metric::Pressure),
            mean(&mut sim, p, 8, Metric::Pressure),
        );
        assert!(
            night_p > peak_p + 0.02 && (0.2..=0.4).contains(&peak_p),
            "{night_p} {peak_p}"
        );
        assert!((0.2..=0.4).contains(&night_p));

        let offline: Vec<ScheduledEvent> = sim
            .schedule()
            .iter()
            .filter(|e| e.kind == "offline")
            .cloned()
            .collect();
        assert_eq!(offline.len(), 6);
        for e in offline {
            let i = index_of(&sim, &e.device_ids[0]);
            let mid = e.from + (e.until - e.from) / 2;
            assert!(sim.readings_at(i, mid).is_empty(), "offline");
            assert!(!sim.readings_at(i, e.until).is_empty(), "back");
        }
    }

    /// The default events, fed through the default rules as the ingest would: a 5-minute run
    /// raises gas, waterlogging and noise alarms, by day and by night.
    #[test]
    fn a_five_minute_run_alarms_with_the_default_rules() {
        let rules = default_rules();
        let runs = [
            (morning(), 1, 5),
            (night(), 1, 5),
            (morning(), 2, 2),
            (night(), 3, 2),
        ];
        for (t0, seed, step) in runs {
            let mut sim = Simulator::new(city(), seed, t0, Shanghai);
            let mut states: HashMap<(usize, usize), RuleState> = HashMap::new();
            let mut alarmed: HashMap<DeviceType, u8> = HashMap::new();
            for s in (0..300).step_by(step) {
                let t = secs(t0, s);
                for i in 0..sim.devices().len() {
                    let d = sim.devices()[i].clone();
                    for (metric, value) in sim.readings_at(i, t) {
                        let r = Reading {
                            device_key: i as i64,
                            metric,
                            value,
                            ts: t,
                        };
                        for (k, rule) in rules.iter().enumerate() {
                            if rule.profile != d.profile {
                                continue;
                            }
                            let st = states.entry((i, k)).or_default();
                            if let Some(AlarmSignal::Active { level, .. }) =
                                evaluate(rule, st, &r, Shanghai)
                            {
                                let e = alarmed.entry(d.device_type).or_default();
                                *e = (*e).max(level);
                            }
                        }
                    }
                }
            }
            for t in [
                DeviceType::GasDetector,
                DeviceType::Waterlogging,
                DeviceType::Noise,
            ] {
                assert!(
                    alarmed.contains_key(&t),
                    "{t} at {t0} ({seed}): {alarmed:?}"
                );
            }
            assert!(
                alarmed[&DeviceType::GasDetector] >= 2,
                "a gas case level: {alarmed:?}"
            );
            assert!(alarmed[&DeviceType::Waterlogging] >= 1);
            for t in [
                DeviceType::BridgeStrain,
                DeviceType::BridgeDeflection,
                DeviceType::WaterPressure,
                DeviceType::BillboardTilt,
            ] {
                assert!(
                    !alarmed.contains_key(&t),
                    "no false alarm of {t}: {alarmed:?}"
                );
            }
        }
    }

    fn feeder(per_message: usize) -> Feeder {
        let events = SimEvents {
            offline: 0,
            ..SimEvents::default()
        };
        let sim = Simulator::with_events(city(), 1, morning(), Shanghai, &events);
        Feeder::new(sim, per_message, 1_000.0)
    }

    #[test]
    fn mqtt_messages_group_one_device_and_never_repeat_a_timestamp() {
        let now = morning().timestamp_millis();
        let noise = |f: &Feeder| {
            f.sim
                .devices
                .iter()
                .position(|d| d.device_type == DeviceType::Noise)
                .unwrap()
        };
        // One reading per message: a noise monitor's two metrics go in two messages.
        let mut f = feeder(1);
        f.cursor = noise(&f);
        let a = f.next_message(now).unwrap();
        let b = f.next_message(now).unwrap();
        assert_eq!((a.len(), b.len()), (1, 1));
        assert_eq!((a[0].device, a[0].ts), (b[0].device, b[0].ts));
        assert_eq!((a[0].metric, b[0].metric), (Metric::Laeq, Metric::Lamax));
        let p = mqtt_payload(&a, false);
        let r: RawReading = serde_json::from_str(&p).unwrap();
        assert_eq!(
            (r.metric.as_str(), r.value.as_f64()),
            ("laeq", Some(a[0].value))
        );
        assert_eq!(r.ts.timestamp_millis(), now);

        // Five per message: consecutive time steps of one device, ending now.
        let mut f = feeder(5);
        let mut last: HashMap<(usize, Metric), Ms> = HashMap::new();
        for k in 0..3 * f.sim.devices.len() {
            let m = f.next_message(now + k as i64).unwrap();
            assert_eq!(m.len(), 5);
            assert!(m.iter().all(|r| r.device == m[0].device));
            for r in &m {
                let prev = last.insert((r.device, r.metric), r.ts);
                assert!(prev.is_none_or(|p| p < r.ts), "timestamps only grow");
            }
            let p = mqtt_payload(&m, true);
            let parsed: Vec<RawReading> = serde_json::from_str(&p).unwrap();
            assert_eq!(parsed.len(), 5);
        }
        let gas = f
            .sim
            .devices
            .iter()
            .position(|d| d.device_type == DeviceType::GasDetector);
        f.cursor = gas.unwrap();
        let m = f.next_message(now + 1_000_000).unwrap();
        let ts: Vec<Ms> = m.iter().map(|r| r.ts).collect();
        assert_eq!(ts[4], now + 1_000_000, "the last step is now");
        assert!(ts.windows(2).all(|w| w[1] > w[0]), "{ts:?}");
    }

    #[test]
    fn http_batches_hold_exactly_per_message_readings() {
        let mut f = feeder(7);
        let ids: Vec<String> = f
            .sim
            .devices
            .iter()
            .map(|d| serde_json::to_string(&d.id).unwrap())
            .collect();
        let now = morning().timestamp_millis();
        for k in 0..50 {
            let b = f.next_batch(now + k * 10).unwrap();
            assert_eq!(b.len(), 7);
            let body: Batch = serde_json::from_str(&http_body(&b, &ids)).unwrap();
            assert_eq!(body.readings.len(), 7);
            assert_eq!(body.readings[0].device_id, f.sim.devices[b[0].device].id);
            assert_eq!(body.readings[0].metric, b[0].metric.as_str());
        }
    }

    #[test]
    fn finish_rounds_and_clamps() {
        assert_eq!(finish(Metric::Pressure, 0.312_345), 0.3123);
        assert_eq!(finish(Metric::Ch4Lel, -0.4), 0.0);
        assert_eq!(finish(Metric::Laeq, 300.0), 200.0);
        assert_eq!(finish(Metric::Depth, f64::NAN), 0.0);
        assert_eq!(finish(Metric::Tilt, -0.123_49), -0.123);
    }
}
