//! The demo city's case history (演示历史案件): twelve months of cases, about 200 a day, produced by
//! driving the case state machine — [`case::report`], [`case::apply`] and the deadline watcher's
//! [`case::mark_light`] — with a simulated clock, never by filling in states.
//!
//! - Reports: a realistic mix of categories (暴露垃圾, 占道经营, 乱堆杂物, 道路不洁 … among the
//!   matters; 路灯, 井盖, 交通标志, 行道树 … among the components) and sources (监督员 ≈ 55 %,
//!   公众 ≈ 15 %, 热线 ≈ 15 %, 视频智能 ≈ 8 %, 物联感知 ≈ 4 %, 领导批示 ≈ 3 %), at points of the urban
//!   core that the region index places in a unit grid, at times weighted to working hours.
//! - The loop: citizen reports (and some hotline reports) are verified (核实) by the inspector of
//!   their grid; inspector reports of the configured categories are filed directly; cases go to
//!   the department the responsibility matrix names (一键直达 where configured), are signed,
//!   handled with photos, checked by the grid's inspector and closed; some are rated.
//! - Outcomes: a few per cent are rejected, not confirmed or merged into an open duplicate; some
//!   run late (with the 黄灯/超时 events the watcher writes at its 30-second ticks), are reworked
//!   (核查不通过), returned (退回), postponed (延期, some denied), suspended (挂账, some still at the
//!   end) or supervised (督办); the cases of the last day or two are still open at every stage.
//!
//! Deterministic: the same input and options give the same [`CaseHistory`] (ChaCha8 streams seeded
//! from the demo seed; no hash-map order and no clock is involved).
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Cursor;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use cityops_domain::calendar::{Light, WorkingCalendar};
use cityops_domain::case::assign::InspectorIndex;
use cityops_domain::case::routing::{RoutingMatrix, RoutingRule};
use cityops_domain::case::visibility::region_prefix;
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseLocation, CaseSource, CaseStatus, Context,
    NewCaseEvent, NewNotification, NewReport, Urgency, WorkflowConfig,
};
use cityops_domain::{
    Category, CategoryKind, Department, DepartmentKind, FilingStandard, LimitUnit, Role, TimeLimit,
    User,
};
use cityops_geo::RegionIndex;
use cityops_store::CaseHistory;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::DemoCity;
use CategoryKind::{Component as C, Matter as M};

/// Days of history `cityops demo` generates.
pub const DEFAULT_DAYS: u32 = 365;
/// Average reports a day.
pub const DEFAULT_CASES_PER_DAY: u32 = 200;
/// How often the simulated deadline watcher runs (the web default): yellow and overdue events fall
/// on its ticks, multiples of this many seconds since the Unix epoch.
pub const WATCHER_INTERVAL_SECS: i64 = 30;
/// How many placeholder photos the demo creates for the history ([`demo_photos`]).
pub const DEMO_PHOTOS: usize = 20;

/// What history to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOptions {
    pub seed: u64,
    /// Days of history ending with the local day of `end` (default 365).
    pub days: u32,
    /// Average reports a day (default 200): more on working days, fewer on weekends and holidays.
    pub cases_per_day: u32,
    /// "Now": nothing happens after this instant; what would come later stays undone.
    pub end: DateTime<Utc>,
}

impl HistoryOptions {
    /// A year of 200 cases a day ending at `end`.
    pub fn new(seed: u64, end: DateTime<Utc>) -> Self {
        Self {
            seed,
            days: DEFAULT_DAYS,
            cases_per_day: DEFAULT_CASES_PER_DAY,
            end,
        }
    }
}

/// What the generator needs from the demo city, with the ids the store gave.
pub struct HistoryInput<'a> {
    pub city: DemoCity,
    pub index: &'a RegionIndex,
    pub departments: &'a [Department],
    pub users: &'a [User],
    pub filing_standards: &'a [FilingStandard],
    pub calendar: &'a WorkingCalendar,
    pub config: &'a WorkflowConfig,
    pub rules: &'a [RoutingRule],
    /// Real attachment records (placeholder photos) used as after-photos of `handle` and as some
    /// report photos. `handle` needs at least one.
    pub photo_ids: &'a [i64],
}

/// Figures about a generated history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryStats {
    pub cases: u64,
    pub events: u64,
    pub notifications: u64,
    pub followers: u64,
    /// Cases whose simulation stopped because the state machine refused a step (a generator
    /// bug, or input without the needed accounts/photos); those cases stay where they were.
    pub refused: u64,
    /// The first refusal, for diagnosis.
    pub first_refusal: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The responsibility matrix and the workflow configuration of the demo

/// Who is responsible for a category (权责): a city-level body, the district unit of a kind
/// (城管执法大队 / 环卫所), or the street office (属地) with the district unit as fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Duty {
    City(DepartmentKind),
    District(DepartmentKind),
    Street(DepartmentKind),
}

/// The default duty of a class (2-digit code) of either kind.
fn class_duty(class: &str) -> Duty {
    use DepartmentKind as K;
    match class {
        "01" | "02" => Duty::City(K::Municipal),
        "03" => Duty::District(K::Sanitation),
        "04" => Duty::City(K::Landscaping),
        "05" => Duty::City(K::Housing),
        _ => Duty::District(K::Enforcement),
    }
}

/// The duty of a subclass (component codes 01–05 and the matching "××异常" matters share it).
fn duty(code: &str) -> Duty {
    use DepartmentKind as K;
    match code {
        "01001" | "01013" | "01024" | "01025" => Duty::City(K::WaterSupply),
        "01002" | "01003" | "01004" | "01019" | "01072" | "01073" => Duty::City(K::Drainage),
        "01005" | "01017" | "01028" | "01029" | "01030" | "01047" | "01048" | "01054" => {
            Duty::City(K::Power)
        }
        "01007" | "01008" | "01009" | "01027" | "01031" | "01062" => Duty::City(K::Telecom),
        "01011" | "01021" | "01036" | "01049" | "01057" => Duty::City(K::Gas),
        "01012" | "01015" | "01050" | "01051" => Duty::City(K::TrafficPolice),
        "01014" => Duty::City(K::Landscaping),
        "01018" => Duty::District(K::Sanitation),
        "01046" | "01075" => Duty::Street(K::Enforcement),
        "02010" | "02011" | "02014" | "02015" | "02016" | "02017" | "02018" | "02019" | "02020"
        | "02022" | "02023" | "02033" | "02043" => Duty::City(K::TrafficPolice),
        "02025" => Duty::Street(K::Enforcement),
        "03006" | "03007" => Duty::District(K::Enforcement),
        "03008" => Duty::Street(K::Enforcement),
        // 06 市容环境
        "06010" | "06011" | "06012" | "06014" | "06015" | "06037" | "06041" | "06042" => {
            Duty::District(K::Sanitation)
        }
        "06013" | "06023" | "06048" | "06049" | "06050" | "06051" | "06052" => {
            Duty::City(K::Municipal)
        }
        "06016" => Duty::City(K::TrafficPolice),
        "06017" | "06018" | "06021" | "06022" | "06045" => Duty::City(K::Landscaping),
        "06025" | "06026" | "06030" => Duty::City(K::Drainage),
        "06005" | "06007" | "06036" => Duty::Street(K::Enforcement),
        // 07 宣传广告, 08 施工管理, 09 街面秩序, 10 其他
        "08003" => Duty::City(K::Municipal),
        "08016" => Duty::City(K::Housing),
        "09009" => Duty::City(K::TrafficPolice),
        "09010" | "09011" => Duty::Street(K::Enforcement),
        "10001" => Duty::District(K::Sanitation),
        "10002" => Duty::City(K::Telecom),
        _ => class_duty(code.get(..2).unwrap_or("")),
    }
}

/// Categories dispatched automatically at filing (一键直达): gas and water-supply manhole covers go
/// straight to the utility.
const AUTO_DISPATCH: &[&str] = &["01001", "01011"];

/// The demo's responsibility matrix (权责清单) over the demo departments:
/// - per class, a default: 市政公用设施/交通设施 → 市政, 市容环卫设施 → the district 环卫所, 园林绿化
///   → 园林, 其他部件 → 住建, matters 06–10 → the district 城管执法大队;
/// - per subclass where the duty differs: covers and poles to their utility (供水, 排水, 燃气, 供电,
///   通信), traffic facilities to 交警, litter and dirty roads to the 环卫所, broken pavements to
///   市政, green space to 园林, water pollution to 排水, and street-level matters (乱堆杂物, 沿街晾挂,
///   非机动车乱停放, 宣传栏 …) to the street office, with the district unit as fallback;
/// - district units get one rule per district, the city body of the same kind one rule for the
///   whole city (the fallback wherever a district has no unit); `*` per kind catches the rest;
/// - 一键直达 (auto dispatch) for gas and water-supply manhole covers ([`AUTO_DISPATCH`]).
///
/// Every category of `categories` is routable everywhere in the city as long as the city has a
/// 市政 and a 城管执法 body. Rules are unique by (kind, category, region), ordered by them.
pub fn demo_routing_rules(departments: &[Department], categories: &[Category]) -> Vec<RoutingRule> {
    let Some(city) = city_code(departments) else {
        return Vec::new();
    };
    let city_dept: HashMap<DepartmentKind, i64> = departments
        .iter()
        .filter(|d| d.region_code == city && d.kind != DepartmentKind::StreetOffice)
        .map(|d| (d.kind, d.id))
        .collect();
    // district code → kind → department
    let mut district_units: BTreeMap<&str, HashMap<DepartmentKind, i64>> = BTreeMap::new();
    for d in departments {
        if d.region_code.len() == 6 && d.region_code != city {
            district_units
                .entry(d.region_code.as_str())
                .or_default()
                .insert(d.kind, d.id);
        }
    }
    let mut street_offices: Vec<(&str, i64)> = departments
        .iter()
        .filter(|d| d.kind == DepartmentKind::StreetOffice && d.region_code.len() == 9)
        .map(|d| (d.region_code.as_str(), d.id))
        .collect();
    street_offices.sort();

    let mut rules: BTreeMap<(CategoryKind, String, String), RoutingRule> = BTreeMap::new();
    let mut put = |kind: CategoryKind, code: &str, region: &str, dept: i64, auto: bool| {
        rules
            .entry((kind, code.to_string(), region.to_string()))
            .or_insert_with(|| RoutingRule {
                category_kind: kind,
                category_code: code.to_string(),
                region_code: region.to_string(),
                department_id: dept,
                auto_dispatch: auto,
            });
    };
    let mut emit = |kind: CategoryKind, code: &str, duty: Duty, auto: bool| {
        let district_kind = match duty {
            Duty::City(k) => {
                if let Some(&d) = city_dept.get(&k) {
                    put(kind, code, &city, d, auto);
                }
                return;
            }
            Duty::District(k) => k,
            Duty::Street(k) => {
                for (street, d) in &street_offices {
                    put(kind, code, street, *d, false);
                }
                k
            }
        };
        for (district, units) in &district_units {
            if let Some(&d) = units.get(&district_kind) {
                put(kind, code, district, d, false);
            }
        }
        if let Some(&d) = city_dept.get(&district_kind) {
            put(kind, code, &city, d, false);
        }
    };

    let mut classes: BTreeSet<(CategoryKind, &str)> = BTreeSet::new();
    for c in categories {
        if let Some(class) = c.code.get(..2) {
            classes.insert((c.kind, class));
        }
    }
    for (kind, class) in &classes {
        emit(*kind, class, class_duty(class), false);
    }
    for c in categories {
        let class = c.code.get(..2).unwrap_or("");
        let d = duty(&c.code);
        let auto = AUTO_DISPATCH.contains(&c.code.as_str());
        if d != class_duty(class) || auto {
            emit(c.kind, &c.code, d, auto);
        }
    }
    emit(
        CategoryKind::Component,
        "*",
        Duty::City(DepartmentKind::Municipal),
        false,
    );
    emit(
        CategoryKind::Matter,
        "*",
        Duty::District(DepartmentKind::Enforcement),
        false,
    );
    rules.into_values().collect()
}

/// The city code of the demo departments: the command centre's region, else the shortest
/// `xxxx00` region of any department.
fn city_code(departments: &[Department]) -> Option<String> {
    departments
        .iter()
        .find(|d| d.kind == DepartmentKind::CommandCentre)
        .map(|d| d.region_code.clone())
        .or_else(|| {
            departments
                .iter()
                .filter(|d| d.region_code.len() == 6 && d.region_code.ends_with("00"))
                .map(|d| d.region_code.clone())
                .min()
        })
}

/// Matters whose inspector reports the demo files directly (立案免审): clear-cut, frequent
/// problems — 暴露垃圾, 道路不洁, 乱堆杂物, 非法小广告, 占道经营.
pub const DIRECT_FILE_CATEGORIES: &[&str] = &["06010", "06012", "06036", "07001", "09006"];

/// The demo's workflow configuration: the defaults plus [`DIRECT_FILE_CATEGORIES`].
pub fn demo_workflow_config() -> WorkflowConfig {
    WorkflowConfig {
        direct_file_categories: DIRECT_FILE_CATEGORIES
            .iter()
            .map(|c| c.to_string())
            .collect(),
        ..WorkflowConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Placeholder photos

/// A generated placeholder photo (示例现场照片): a small PNG drawn from its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPhoto {
    /// `demo-photo-<n>.png`, n from 1.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl DemoPhoto {
    pub const MIME: &'static str = "image/png";
}

/// `count` placeholder photos, 320 × 240 PNG, deterministic: a sky and a road in varying light
/// with a coloured block where the "problem" is.
pub fn demo_photos(count: usize) -> Vec<DemoPhoto> {
    const W: u32 = 320;
    const H: u32 = 240;
    (0..count)
        .filter_map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0000 + i as u64);
            let sky: [u8; 3] = [
                rng.random_range(120..200),
                rng.random_range(160..220),
                rng.random_range(200..255),
            ];
            let road = rng.random_range(70u8..130);
            let block: [u8; 3] = [
                rng.random_range(30..255),
                rng.random_range(30..255),
                rng.random_range(30..255),
            ];
            let (bx, by) = (rng.random_range(40..220), rng.random_range(120..180));
            let (bw, bh) = (rng.random_range(30..80), rng.random_range(20..50));
            let horizon = rng.random_range(90..130);
            let img = image::RgbImage::from_fn(W, H, |x, y| {
                if (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y) {
                    image::Rgb(block)
                } else if y < horizon {
                    let fade = (y * 40 / horizon) as u8;
                    image::Rgb([
                        sky[0].saturating_sub(fade),
                        sky[1].saturating_sub(fade),
                        sky[2],
                    ])
                } else {
                    // lane markings every 40 px
                    let marking = (y - horizon) % 24 < 3 && (x / 40) % 2 == 0 && x % 40 < 20;
                    let v = if marking {
                        235
                    } else {
                        road.saturating_add(((x + y) % 7) as u8)
                    };
                    image::Rgb([v, v, v])
                }
            });
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).ok()?;
            let bytes = out.into_inner();
            Some(DemoPhoto {
                file_name: format!("demo-photo-{}.png", i + 1),
                sha256: hex::encode(Sha256::digest(&bytes)),
                bytes,
                width: W,
                height: H,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The mix of reports

/// The report mix: (kind, code, name, relative weight). Names for the descriptions; codes are
/// checked against the filing standards of the input.
#[rustfmt::skip]
const MIX: &[(CategoryKind, &str, &str, f64)] = &[
    // matters (管理事项), about 70 %
    (M, "06010", "暴露垃圾", 12.0),
    (M, "09006", "占道经营", 9.0),
    (M, "06036", "乱堆杂物", 7.0),
    (M, "07001", "非法小广告", 7.0),
    (M, "06012", "道路不洁", 6.0),
    (M, "09005", "店外经营", 6.0),
    (M, "09010", "非机动车乱停放", 4.0),
    (M, "09009", "机动车乱停放", 3.0),
    (M, "09011", "共享单车乱象", 3.0),
    (M, "06011", "积存垃圾渣土", 3.0),
    (M, "06042", "垃圾站（箱）满溢", 3.0),
    (M, "09001", "无照经营游商", 2.0),
    (M, "06013", "道路破损", 2.0),
    (M, "06014", "道路遗撒", 1.5),
    (M, "06007", "沿街晾挂", 1.5),
    (M, "06017", "绿地脏乱", 1.0),
    (M, "08002", "施工占道", 1.0),
    (M, "08004", "工地扬尘", 1.0),
    (M, "08005", "施工废弃料", 0.8),
    (M, "06028", "噪声扰民", 0.8),
    (M, "06029", "露天烧烤", 0.8),
    (M, "06001", "私搭乱建", 0.8),
    (M, "06027", "油烟污染", 0.6),
    (M, "07003", "违规户外广告", 0.6),
    (M, "06034", "废弃车辆", 0.6),
    (M, "06035", "废弃家具设备", 0.6),
    (M, "06050", "路缘石缺损", 0.6),
    (M, "06045", "非法占绿毁绿", 0.5),
    (M, "06051", "盲道缺损", 0.5),
    (M, "10002", "架空线缆脱落", 0.4),
    (M, "06037", "动物尸体", 0.3),
    // components (管理部件), about 30 %
    (C, "01037", "路灯", 4.0),
    (C, "04002", "行道树", 3.0),
    (C, "03005", "垃圾箱", 2.5),
    (C, "01004", "雨水箅子", 2.0),
    (C, "01002", "污水井盖", 1.5),
    (C, "01003", "雨水井盖", 1.5),
    (C, "02010", "交通标志牌及标线", 1.5),
    (C, "02017", "交通护栏", 1.2),
    (C, "01001", "供水井盖", 1.0),
    (C, "03007", "牌匾标识", 1.0),
    (C, "04011", "树池树穴", 1.0),
    (C, "01007", "通信井盖", 0.8),
    (C, "02021", "便道桩", 0.8),
    (C, "01011", "燃气井盖", 0.5),
    (C, "01005", "电力井盖", 0.5),
    (C, "02014", "交通信号灯", 0.5),
    (C, "03006", "户外广告", 0.5),
    (C, "04008", "绿地护栏", 0.5),
    (C, "01030", "电力立杆", 0.4),
    (C, "01027", "通信交接箱", 0.4),
    (C, "02012", "路名牌", 0.4),
    (C, "03001", "公共厕所", 0.4),
    (C, "04007", "街头座椅", 0.3),
];

/// What video analytics (视频智能抓拍) recognises.
const VIDEO_AI: &[&str] = &[
    "09006", "06010", "09009", "09010", "06036", "09005", "09001", "06012", "06029",
];
/// What IoT sensors (物联感知) report: cover tilt, lamp failure, rain grates, full bins.
const IOT: &[&str] = &[
    "01002", "01003", "01001", "01011", "01037", "01004", "06042",
];

/// Source shares (‰): inspector, citizen, hotline, video AI, IoT, leader.
const SOURCES: &[(CaseSource, u32)] = &[
    (CaseSource::Inspector, 550),
    (CaseSource::Citizen, 150),
    (CaseSource::Hotline, 150),
    (CaseSource::VideoAi, 80),
    (CaseSource::Iot, 40),
    (CaseSource::Leader, 30),
];

/// Relative weight of each local hour for citizen reports (evening peak) …
const CITIZEN_HOURS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.0, 2.5, 1.5, 1.5, 2.0, 2.5, 2.5, 2.5, 2.0,
    2.5, 3.0, 2.5, 1.5, 0.6,
];
/// … hotline calls (office hours and early evening) …
const HOTLINE_HOURS: [f64; 24] = [
    0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 1.0, 3.0, 3.5, 3.5, 3.0, 1.5, 2.0, 3.0, 3.0, 3.0, 2.5,
    2.0, 1.5, 1.2, 0.8, 0.4, 0.2,
];
/// … and cameras and sensors (around the clock, busier by day).
const MACHINE_HOURS: [f64; 24] = [
    0.5, 0.4, 0.3, 0.3, 0.3, 0.5, 0.8, 1.2, 1.5, 1.5, 1.5, 1.5, 1.4, 1.4, 1.5, 1.5, 1.5, 1.5, 1.5,
    1.4, 1.2, 1.0, 0.8, 0.6,
];

/// Roads for the addresses of the reports (synthetic, like the demo's street lattice).
const ROADS: &[&str] = &[
    "人民路",
    "中山路",
    "解放路",
    "新华路",
    "建设路",
    "文明路",
    "和平路",
    "东风路",
    "胜利路",
    "长江路",
    "环城路",
    "滨江路",
    "花园路",
    "公园路",
    "体育路",
    "学府路",
    "朝阳路",
    "兴业路",
    "振兴路",
    "江北大道",
];

/// Share of base reports that get a duplicate report by a citizen or the hotline.
const DUPLICATE_SHARE: f64 = 0.01;

/// One report before simulation.
struct Spec {
    at: DateTime<Utc>,
    source: CaseSource,
    /// Index into the filtered mix.
    pick: usize,
    location: CaseLocation,
    /// The spec this one duplicates (index into the spec list before sorting).
    master: Option<usize>,
}

fn weighted(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    if total <= 0.0 {
        return 0;
    }
    let x = rng.random_range(0.0..total);
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len() - 1)
}

fn cumulate(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// A ChaCha8 stream for one purpose, derived from the seed and a label (FNV-1a).
fn rng_for(seed: u64, label: &str) -> ChaCha8Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ h.rotate_left(23))
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Locates a point into a unit grid, or `None`.
fn locate(index: &RegionIndex, lng: f64, lat: f64, address: String) -> Option<CaseLocation> {
    let (lng, lat) = ((lng * 1e7).round() / 1e7, (lat * 1e7).round() / 1e7);
    let loc = index.locate(lng, lat)?.into_owned();
    loc.grid_code.as_ref()?;
    Some(CaseLocation {
        lng,
        lat,
        grid_code: loc.grid_code,
        community_code: loc.community_code,
        street_code: loc.street_code,
        district_code: Some(loc.district_code),
        address: Some(address),
    })
}

fn random_address(rng: &mut ChaCha8Rng) -> String {
    let road = ROADS[rng.random_range(0..ROADS.len())];
    format!("{road}{}号附近", rng.random_range(1..400))
}

/// A point of the core that lies in a unit grid (`None` after many misses: no grids there).
fn sample_location(
    rng: &mut ChaCha8Rng,
    index: &RegionIndex,
    bbox: [f64; 4],
) -> Option<CaseLocation> {
    for _ in 0..500 {
        let lng = rng.random_range(bbox[0]..bbox[2]);
        let lat = rng.random_range(bbox[1]..bbox[3]);
        let address = random_address(rng);
        if let Some(l) = locate(index, lng, lat, address) {
            return Some(l);
        }
    }
    None
}

/// A point within `radius_m` of `near`, located (the master's location when it falls outside).
fn nearby(rng: &mut ChaCha8Rng, index: &RegionIndex, near: &CaseLocation) -> CaseLocation {
    let d = rng.random_range(2.0..30.0);
    let a = rng.random_range(0.0..std::f64::consts::TAU);
    let dlat = d * a.cos() / 111_320.0;
    let dlng = d * a.sin() / (111_320.0 * near.lat.to_radians().cos());
    let address = near.address.clone().unwrap_or_default();
    locate(index, near.lng + dlng, near.lat + dlat, address).unwrap_or_else(|| near.clone())
}

// ---------------------------------------------------------------------------------------------
// The simulation

/// Everything the simulation of one case looks up.
struct Env<'a> {
    cal: &'a WorkingCalendar,
    config: &'a WorkflowConfig,
    end: DateTime<Utc>,
    matrix: RoutingMatrix,
    /// The report mix restricted to categories with a filing standard: (kind, code, name, weight).
    mix: Vec<(CategoryKind, &'static str, &'static str, f64)>,
    standards: HashMap<(CategoryKind, String), Vec<&'a FilingStandard>>,
    intake: Option<Actor>,
    supervisor: Option<Actor>,
    dispatcher: Option<Actor>,
    leader: Option<Actor>,
    reviewer: Option<Actor>,
    inspectors: Vec<Actor>,
    /// The patrol lists for the service's assignment rule (`case::assign`).
    patrol: InspectorIndex,
    /// Active users by id: the reporter the assignment rule falls back to.
    users_by_id: HashMap<i64, &'a User>,
    /// Inspector user id → its index in `inspectors`.
    inspector_at: HashMap<i64, usize>,
    /// District code → inspectors whose area lies in it.
    inspectors_by_district: HashMap<String, Vec<usize>>,
    /// Department id → its handler.
    handlers: HashMap<i64, Actor>,
    departments: HashMap<i64, &'a Department>,
    /// Departments with a handler, by code order.
    staffed: Vec<&'a Department>,
    photos: &'a [i64],
}

fn actor_named(users: &[User], name: &str, role: Role) -> Option<Actor> {
    users
        .iter()
        .find(|u| u.active && u.username == name && u.has_role(role))
        .or_else(|| users.iter().find(|u| u.active && u.has_role(role)))
        .map(Actor::user)
}

impl<'a> Env<'a> {
    fn new(input: &HistoryInput<'a>, end: DateTime<Utc>) -> Self {
        let mut standards: HashMap<(CategoryKind, String), Vec<&FilingStandard>> = HashMap::new();
        for s in input.filing_standards {
            standards
                .entry((s.kind, s.code.clone()))
                .or_default()
                .push(s);
        }
        for list in standards.values_mut() {
            list.sort_by_key(|s| s.seq);
        }
        let mix = MIX
            .iter()
            .filter(|(k, code, _, _)| {
                standards.is_empty() || standards.contains_key(&(*k, code.to_string()))
            })
            .copied()
            .collect();

        let mut users: Vec<&User> = input.users.iter().filter(|u| u.active).collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        let mut inspectors_u: Vec<&User> = users
            .iter()
            .copied()
            .filter(|u| u.has_role(Role::Inspector))
            .collect();
        // inspector2 before inspector10
        inspectors_u.sort_by_key(|u| {
            let digits: String = u.username.chars().filter(|c| c.is_ascii_digit()).collect();
            (
                digits.parse::<u64>().unwrap_or(u64::MAX),
                u.username.clone(),
            )
        });
        let patrol = InspectorIndex::new(input.users);
        let inspector_at = inspectors_u
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id, i))
            .collect();
        let mut inspectors_by_district: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in inspectors_u.iter().enumerate() {
            let district = u
                .scope
                .region_code
                .as_deref()
                .or(u.grids.first().map(String::as_str))
                .and_then(|r| r.get(..6));
            if let Some(d) = district {
                inspectors_by_district
                    .entry(d.to_string())
                    .or_default()
                    .push(i);
            }
        }
        let mut handlers = HashMap::new();
        for u in &users {
            if (u.has_role(Role::Handler) || u.has_role(Role::Enforcement))
                && let Some(d) = u.scope.department_id
            {
                handlers.entry(d).or_insert_with(|| Actor::user(u));
            }
        }
        let mut staffed: Vec<&Department> = input
            .departments
            .iter()
            .filter(|d| handlers.contains_key(&d.id))
            .collect();
        staffed.sort_by(|a, b| a.code.cmp(&b.code));
        Env {
            cal: input.calendar,
            config: input.config,
            end,
            matrix: RoutingMatrix::new(input.rules.to_vec()),
            mix,
            standards,
            intake: actor_named(input.users, "intake", Role::Intake)
                .or_else(|| actor_named(input.users, "supervisor", Role::Supervisor)),
            supervisor: actor_named(input.users, "supervisor", Role::Supervisor),
            dispatcher: actor_named(input.users, "dispatcher", Role::Dispatcher),
            leader: actor_named(input.users, "leader", Role::Leader),
            reviewer: actor_named(input.users, "reviewer1", Role::Reviewer),
            inspectors: inspectors_u.into_iter().map(Actor::user).collect(),
            patrol,
            users_by_id: users.iter().map(|u| (u.id, *u)).collect(),
            inspector_at,
            inspectors_by_district,
            handlers,
            departments: input.departments.iter().map(|d| (d.id, d)).collect(),
            staffed,
            photos: input.photo_ids,
        }
    }

    /// The inspector an inspector's report at `loc` comes from: the one who patrols it
    /// ([`Env::assignee`] without a reporter); where nobody does, one of the district's, else
    /// any — chosen by the place's code so that a place always gets the same inspector.
    fn inspector_for(&self, loc: &CaseLocation) -> Option<&Actor> {
        if let Some(a) = self.assignee(loc, None) {
            return Some(a);
        }
        if self.inspectors.is_empty() {
            return None;
        }
        let key = loc.region_code().unwrap_or("");
        let h = key
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let district = loc.district_code.as_deref().unwrap_or("");
        match self.inspectors_by_district.get(district) {
            Some(list) if !list.is_empty() => self.inspectors.get(list[(h as usize) % list.len()]),
            _ => self.inspectors.get((h as usize) % self.inspectors.len()),
        }
    }

    /// Who verifies (核实) and checks (核查) a case at `loc` reported by the user `reporter`: the
    /// case service's rule, `case::assign` (grid, community, street, then the reporting
    /// inspector).
    fn assignee(&self, loc: &CaseLocation, reporter: Option<i64>) -> Option<&Actor> {
        let reporter = reporter.and_then(|id| self.users_by_id.get(&id).copied());
        let id = self.patrol.pick(loc, reporter)?;
        self.inspectors.get(*self.inspector_at.get(&id)?)
    }

    fn covers(dept: &Department, loc: &CaseLocation) -> bool {
        let p = region_prefix(&dept.region_code);
        loc.region_code().is_some_and(|r| r.starts_with(&p))
    }

    /// The department the matrix names if it has a handler; else the most specific staffed
    /// department of the same kind covering the place; else any staffed one covering it.
    fn responsible(
        &self,
        kind: CategoryKind,
        code: &str,
        loc: &CaseLocation,
    ) -> Option<(i64, bool)> {
        let decision = self.matrix.route(kind, code, loc, None)?;
        if self.handlers.contains_key(&decision.department_id) {
            return Some((decision.department_id, decision.auto_dispatch));
        }
        let want = self
            .departments
            .get(&decision.department_id)
            .map(|d| d.kind);
        let best = |same_kind: bool| {
            self.staffed
                .iter()
                .filter(|d| Self::covers(d, loc) && (!same_kind || Some(d.kind) == want))
                .filter(|d| d.kind != DepartmentKind::CommandCentre)
                .max_by_key(|d| d.region_code.len())
                .map(|d| (d.id, false))
        };
        best(true).or_else(|| best(false))
    }

    /// A staffed department covering the place that is not `right`: a wrong dispatch.
    fn wrong_department(
        &self,
        right: i64,
        loc: &CaseLocation,
        rng: &mut ChaCha8Rng,
    ) -> Option<i64> {
        let candidates: Vec<i64> = self
            .staffed
            .iter()
            .filter(|d| d.id != right && d.kind != DepartmentKind::CommandCentre)
            .filter(|d| Self::covers(d, loc))
            .map(|d| d.id)
            .collect();
        (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
    }

    fn photos(&self, rng: &mut ChaCha8Rng, max: usize) -> Vec<i64> {
        if self.photos.is_empty() {
            return Vec::new();
        }
        let n = rng.random_range(1..=max.max(1));
        let mut out: Vec<i64> = (0..n)
            .map(|_| self.photos[rng.random_range(0..self.photos.len())])
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// How late a step comes within its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// Before the yellow light.
    OnTime,
    /// Between yellow and due.
    Yellow,
    /// After due.
    Late,
}

fn pace(rng: &mut ChaCha8Rng, p_yellow: f64, p_late: f64) -> Pace {
    let x: f64 = rng.random();
    if x < p_late {
        Pace::Late
    } else if x < p_late + p_yellow {
        Pace::Yellow
    } else {
        Pace::OnTime
    }
}

/// Command-centre steps (filing, dispatching, verifying, checking, closing) rarely run late …
const CENTRE: (f64, f64) = (0.015, 0.002);
/// … signing a little more often …
const SIGN: (f64, f64) = (0.03, 0.002);
/// … handling most often (with urgent limits and denied postponements, ≈ 4 % overdue).
const HANDLE: (f64, f64) = (0.07, 0.022);

/// One case being simulated.
struct Sim<'e, 'a> {
    env: &'e Env<'a>,
    case: Case,
    events: Vec<NewCaseEvent>,
    notes: Vec<NewNotification>,
    follows: Vec<(i64, i64)>,
    /// The time of the last event.
    t: DateTime<Utc>,
    /// Reached the end of the history (or a refused step): nothing more happens.
    stopped: bool,
    refusal: Option<String>,
    /// The department the responsibility matrix gives at filing, handed to the state machine as
    /// the live service hands it (`Context::suggested_department`).
    file_route: Option<i64>,
}

/// Minimal gap between two steps of people.
const GAP: i64 = 60;

impl<'e, 'a> Sim<'e, 'a> {
    fn cal(&self) -> &'a WorkingCalendar {
        self.env.cal
    }

    /// The instant at which `share` of the counted time between `from` and `to` has passed.
    fn between(
        &self,
        unit: LimitUnit,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        share: f64,
    ) -> DateTime<Utc> {
        let span = self.cal().elapsed(unit, from, to).max(0);
        self.cal()
            .add(unit, from, (span as f64 * share).round() as i64)
    }

    /// When the next step of the current stage comes, at the given pace.
    fn when(&self, pace: Pace, rng: &mut ChaCha8Rng) -> DateTime<Utc> {
        let from = self.t;
        let min = from + Duration::seconds(GAP);
        let Some(k) = self.case.clock.as_ref() else {
            return min;
        };
        let (Some(due), Some(yellow)) = (k.due, k.yellow_at) else {
            return min;
        };
        let unit = k.limit.unit;
        let t = match pace {
            Pace::OnTime => {
                self.between(unit, from, yellow.max(from), rng.random_range(0.05..0.95))
            }
            Pace::Yellow => {
                let a = yellow.max(from);
                self.between(unit, a, due.max(a), rng.random_range(0.05..0.95))
            }
            Pace::Late => {
                let over = self.cal().limit_seconds(k.limit) as f64 * rng.random_range(0.05..1.2);
                self.cal()
                    .add(unit, due.max(from), over.round() as i64 + GAP)
            }
        };
        whole_seconds(t).max(min)
    }

    /// `hours` of working time after the last step (an approval, a resumption …).
    fn after_work_hours(&self, hours: f64) -> DateTime<Utc> {
        let t = self
            .cal()
            .add(LimitUnit::WorkHour, self.t, (hours * 3600.0).round() as i64);
        whole_seconds(t).max(self.t + Duration::seconds(GAP))
    }

    fn record(&mut self, mut case: Case, event: NewCaseEvent, notify: Vec<NewNotification>) {
        case.version += 1;
        self.t = event.at;
        self.events.push(event);
        self.notes.extend(notify);
        self.case = case;
    }

    /// The watcher's tick at or after `t` (`strict`: after).
    fn tick(t: DateTime<Utc>, strict: bool) -> DateTime<Utc> {
        let s = t.timestamp();
        let on_tick = t.timestamp_subsec_nanos() == 0;
        let mut k = s.div_euclid(WATCHER_INTERVAL_SECS) * WATCHER_INTERVAL_SECS;
        if !(k == s && on_tick && !strict) {
            k += WATCHER_INTERVAL_SECS;
        }
        DateTime::from_timestamp(k, 0).unwrap_or(t)
    }

    /// Runs the watcher over (last step, `until`): every tick at which the light changes, strictly
    /// before `until` (or at it, when `inclusive`).
    fn watch(&mut self, until: DateTime<Utc>, inclusive: bool) {
        loop {
            if !self.case.status.is_open() {
                return;
            }
            let Some(k) = self.case.clock.as_ref() else {
                return;
            };
            let Some(due) = k.due else {
                return;
            };
            let yellow = (self.case.light < Light::Yellow)
                .then_some(k.yellow_at)
                .flatten()
                .map(|y| Self::tick(y, false));
            let red = (self.case.light < Light::Red).then(|| Self::tick(due, true));
            let Some(tick) = [yellow, red].into_iter().flatten().min() else {
                return;
            };
            let tick = tick.max(self.t);
            if tick > until || (tick == until && !inclusive) {
                return;
            }
            match case::mark_light(&self.case, tick, self.cal()) {
                // The watcher's own rule decides whom a light concerns, as in production.
                Some((c, ev, notify)) => self.record(c, ev, notify),
                None => return,
            }
        }
    }

    /// [`Sim::act`] for the steps that need neither a filing limit nor a master case.
    fn step(
        &mut self,
        at: DateTime<Utc>,
        action: CaseAction,
        actor: Option<&Actor>,
        input: ActionInput,
    ) -> bool {
        self.act(at, action, actor, input, None, None)
    }

    /// Takes a step at `at` (not before the last one). Past the end of the history the case
    /// stops; a refused step stops it too and is remembered.
    fn act(
        &mut self,
        at: DateTime<Utc>,
        action: CaseAction,
        actor: Option<&Actor>,
        input: ActionInput,
        handle_limit: Option<TimeLimit>,
        master: Option<&Case>,
    ) -> bool {
        if self.stopped {
            return false;
        }
        let at = whole_seconds(at).max(self.t);
        if at > self.env.end {
            self.stopped = true;
            return false;
        }
        self.watch(at, false);
        let Some(actor) = actor else {
            self.refuse(format!("{action}: no account for this step"));
            return false;
        };
        let ctx = Context {
            now: at,
            calendar: self.cal(),
            config: self.env.config,
            handle_limit,
            master,
            suggested_department: self.file_route.filter(|_| action == CaseAction::File),
        };
        match case::apply(&self.case, action, actor, &input, &ctx) {
            Ok(tr) => {
                if let Some(f) = tr.follow {
                    self.follows.push(f);
                }
                self.record(tr.case, tr.event, tr.notify);
                true
            }
            Err(e) => {
                self.refuse(format!(
                    "case {} ({}): {action} refused: {e}",
                    self.case.code, self.case.status
                ));
                false
            }
        }
    }

    fn refuse(&mut self, why: String) {
        self.refusal.get_or_insert(why);
        self.stopped = true;
    }

    /// The case's status at `t` (from its events), for a later merge into it.
    fn status_at(events: &[NewCaseEvent], t: DateTime<Utc>) -> Option<CaseStatus> {
        events
            .iter()
            .take_while(|e| e.at <= t)
            .last()
            .map(|e| e.to_status)
    }
}

fn text(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The result of one simulated case.
struct Outcome {
    /// `None` when the report itself was refused.
    case: Option<Case>,
    events: Vec<NewCaseEvent>,
    notes: Vec<NewNotification>,
    follows: Vec<(i64, i64)>,
    refusal: Option<String>,
}

/// Simulates one case from its report to where it stands at the end of the history.
fn simulate(
    env: &Env<'_>,
    spec: &Spec,
    id: i64,
    code: String,
    master: Option<&Outcome>,
    rng: &mut ChaCha8Rng,
) -> Outcome {
    let (kind, cat_code, cat_name, _) = env.mix[spec.pick];
    let loc = spec.location.clone();
    let patroller = env.inspector_for(&loc).cloned();
    let citizen = Actor {
        user_id: None,
        roles: vec![Role::Citizen],
        department_id: None,
    };
    // Cameras and sensors report as the system.
    let reporter = match spec.source {
        CaseSource::Inspector => patroller.clone(),
        CaseSource::Citizen => Some(citizen),
        CaseSource::Hotline => env.intake.clone(),
        CaseSource::VideoAi | CaseSource::Iot => None,
        CaseSource::Leader => env.leader.clone(),
    }
    .unwrap_or_else(Actor::system);
    // Verify and check go to whom the case service would send them; where nobody patrols the
    // place and the reporter is no inspector, the dispatcher names one (the district's).
    let inspector = env
        .assignee(&loc, reporter.user_id)
        .or(patroller.as_ref())
        .cloned();

    // The citizen may leave the category to the intake operator; everyone else names it.
    let with_category =
        spec.source != CaseSource::Citizen || spec.master.is_some() || rng.random_bool(0.4);
    let description = match spec.source {
        CaseSource::Inspector => format!("巡查发现{cat_name}问题，请处置"),
        CaseSource::Citizen => format!("市民反映：这里有{cat_name}问题，希望尽快处理"),
        CaseSource::Hotline => format!("12345热线来电反映{cat_name}问题"),
        CaseSource::VideoAi => format!("视频智能识别：疑似{cat_name}"),
        CaseSource::Iot => format!("物联感知报警：{cat_name}异常"),
        CaseSource::Leader => format!("领导批示：{cat_name}问题请尽快处置"),
    };
    let contact = matches!(spec.source, CaseSource::Citizen | CaseSource::Hotline).then(|| {
        let surname =
            ["张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周"][rng.random_range(0..10)];
        format!("{surname}先生/女士 尾号{:04}", rng.random_range(0..10_000))
    });
    let report_photos = match spec.source {
        CaseSource::Inspector if rng.random_bool(0.6) => env.photos(rng, 2),
        CaseSource::Citizen if rng.random_bool(0.5) => env.photos(rng, 1),
        CaseSource::VideoAi => env.photos(rng, 1),
        _ => Vec::new(),
    };
    let route = env.responsible(kind, cat_code, &loc);
    let master_open_at = |t: DateTime<Utc>| {
        master
            .and_then(|m| m.case.as_ref().map(|c| (c, &m.events)))
            .filter(|(c, events)| {
                c.merged_into.is_none()
                    && Sim::status_at(events, t).is_some_and(CaseStatus::is_open)
            })
            .map(|(c, _)| c)
    };
    let at = spec.at;
    let report = NewReport {
        source: spec.source,
        category_kind: with_category.then_some(kind),
        category_code: with_category.then(|| cat_code.to_string()),
        urgency: Urgency::Normal,
        description,
        location: loc.clone(),
        component_id: None,
        contact,
        attachments: report_photos,
        suggested_department_id: if with_category {
            route.map(|r| r.0)
        } else {
            None
        },
        duplicate_of: master_open_at(at).map(|c| c.id),
    };
    let ctx = Context {
        now: at,
        calendar: env.cal,
        config: env.config,
        handle_limit: None,
        master: None,
        suggested_department: None,
    };
    let (mut case0, mut ev0, mut notes0) = match case::report(report, &reporter, &ctx) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                case: None,
                events: Vec::new(),
                notes: Vec::new(),
                follows: Vec::new(),
                refusal: Some(format!("case {code}: report refused: {e}")),
            };
        }
    };
    case0.id = id;
    case0.code = code;
    case0.version = 1;
    ev0.case_id = id;
    for n in &mut notes0 {
        n.case_id = id;
    }
    let mut sim = Sim {
        env,
        case: case0,
        events: vec![ev0],
        notes: notes0,
        follows: Vec::new(),
        t: at,
        stopped: false,
        refusal: None,
        file_route: None,
    };
    run_loop(
        &mut sim,
        spec,
        kind,
        cat_code,
        inspector.as_ref(),
        route,
        master,
        rng,
    );
    if sim.refusal.is_none() {
        // What the watcher would still have marked by the end of the history.
        sim.watch(env.end, true);
    }
    let mut follows = sim.follows;
    if let Some(r) = sim.case.reporter_id {
        follows.push((r, id));
    }
    Outcome {
        case: Some(sim.case),
        events: sim.events,
        notes: sim.notes,
        follows,
        refusal: sim.refusal,
    }
}

/// The loop after the report: intake (verify, reject, merge), filing, dispatch (with wrong
/// dispatches returned), signing, handling (postponed, suspended, supervised, late), check
/// (rework), closing and rating.
#[allow(clippy::too_many_arguments)]
fn run_loop(
    sim: &mut Sim<'_, '_>,
    spec: &Spec,
    kind: CategoryKind,
    cat_code: &str,
    inspector: Option<&Actor>,
    route: Option<(i64, bool)>,
    master: Option<&Outcome>,
    rng: &mut ChaCha8Rng,
) {
    let env = sim.env;
    let system = Actor::system();
    let none = ActionInput::default;
    let centre = |rng: &mut ChaCha8Rng| pace(rng, CENTRE.0, CENTRE.1);

    // ---- intake: reject, merge, verify ----
    let direct = spec.source == CaseSource::Inspector
        && sim.case.category_code.is_some()
        && env
            .config
            .direct_file_categories
            .iter()
            .any(|c| c == cat_code);
    let reject_share = match spec.source {
        CaseSource::Citizen | CaseSource::Hotline => 0.01,
        CaseSource::VideoAi => 0.025,
        CaseSource::Iot => 0.02,
        CaseSource::Inspector | CaseSource::Leader => 0.0,
    };
    let mut filed_by_system = false;
    if direct {
        filed_by_system = true;
    } else {
        let t = sim.when(centre(rng), rng);
        if let Some(m) = master
            && let Some(mc) = &m.case
            && sim.case.duplicate_of.is_some()
            && mc.merged_into.is_none()
            && let Some(status) = Sim::status_at(&m.events, t)
            && status.is_open()
        {
            // The master as it stood then (only its id, code and state matter to a merge).
            let mut snapshot = mc.clone();
            snapshot.status = status;
            let input = ActionInput {
                master_case_id: Some(mc.id),
                comment: text("与在办案件为同一问题，合并办理"),
                ..none()
            };
            let intake = env.intake.as_ref();
            sim.act(t, CaseAction::Merge, intake, input, None, Some(&snapshot));
            return;
        }
        if rng.random_bool(reject_share) {
            let why = match spec.source {
                CaseSource::VideoAi => "视频识别误报，现场无此问题",
                CaseSource::Iot => "传感器误报警，设备正常",
                _ => "不属于城市管理受理范围，已告知诉求人向相关部门反映",
            };
            let input = ActionInput {
                reason: text(why),
                ..none()
            };
            sim.step(t, CaseAction::Reject, env.intake.as_ref(), input);
            return;
        }
        let verify = match spec.source {
            CaseSource::Citizen => true,
            CaseSource::Hotline => rng.random_bool(0.4),
            _ => false,
        };
        if verify {
            let input = ActionInput {
                assignee_id: inspector.and_then(|a| a.user_id),
                ..none()
            };
            if !sim.step(t, CaseAction::SendVerify, env.intake.as_ref(), input) {
                return;
            }
            let t = sim.when(centre(rng), rng);
            let confirmed = !rng.random_bool(0.03);
            let input = ActionInput {
                confirmed: Some(confirmed),
                reason: (!confirmed).then(|| "现场核实，问题不存在或已自行消除".to_string()),
                comment: confirmed.then(|| "经现场核实，问题属实".to_string()),
                ..none()
            };
            if !sim.step(t, CaseAction::Verify, inspector, input) || !confirmed {
                return;
            }
        }
    }

    // ---- file ----
    let standards = env.standards.get(&(kind, cat_code.to_string()));
    // The filing condition: the urgent ones (a missing cover, a fallen pole …) are the rarer.
    let is_urgent =
        |s: &FilingStandard| matches!(s.limit.unit, LimitUnit::UrgentHour | LimitUnit::NaturalDay);
    let standard = standards.and_then(|list| {
        let (urgent, normal): (Vec<&FilingStandard>, Vec<&FilingStandard>) =
            list.iter().copied().partition(|s| is_urgent(s));
        let pool = if normal.is_empty() || (!urgent.is_empty() && rng.random_bool(0.12)) {
            urgent
        } else {
            normal
        };
        match pool.len() {
            0 => None,
            n if rng.random_bool(0.5) => Some(pool[0]).filter(|_| n > 0),
            n => Some(pool[rng.random_range(0..n)]),
        }
    });
    let urgency = if standard.is_some_and(is_urgent) || rng.random_bool(0.01) {
        Urgency::Urgent
    } else {
        Urgency::Normal
    };
    let file_input = ActionInput {
        category_kind: Some(kind),
        category_code: Some(cat_code.to_string()),
        filing_seq: Some(standard.map_or(0, |s| s.seq)),
        urgency: Some(urgency),
        comment: text("符合立案条件，予以立案"),
        ..none()
    };
    let limit = standard.map(|s| s.limit);
    sim.file_route = route
        .or_else(|| env.responsible(kind, cat_code, &sim.case.location))
        .map(|r| r.0);
    let filed = if filed_by_system {
        let at = sim.t;
        sim.act(at, CaseAction::File, Some(&system), file_input, limit, None)
    } else {
        let t = sim.when(centre(rng), rng);
        let supervisor = env.supervisor.as_ref();
        sim.act(t, CaseAction::File, supervisor, file_input, limit, None)
    };
    if !filed {
        return;
    }
    let Some((dept, auto)) = route.or_else(|| env.responsible(kind, cat_code, &sim.case.location))
    else {
        // No staffed department for it: it waits for the dispatcher.
        return;
    };

    // ---- dispatch (a wrong dispatch is returned by the department) ----
    if auto {
        let input = ActionInput {
            department_id: Some(dept),
            comment: text("一键直达，自动派遣"),
            ..none()
        };
        if !sim.step(sim.t, CaseAction::Dispatch, Some(&system), input) {
            return;
        }
    } else {
        if rng.random_bool(0.02)
            && let Some(wrong) = env.wrong_department(dept, &sim.case.location, rng)
        {
            let t = sim.when(centre(rng), rng);
            let input = ActionInput {
                department_id: Some(wrong),
                ..none()
            };
            if !sim.step(t, CaseAction::Dispatch, env.dispatcher.as_ref(), input) {
                return;
            }
            let t = sim.when(centre(rng), rng);
            let input = ActionInput {
                reason: text("经核查不属于本单位职责范围，申请退回重新派遣"),
                ..none()
            };
            if !sim.step(t, CaseAction::Return, env.handlers.get(&wrong), input) {
                return;
            }
        }
        let t = sim.when(centre(rng), rng);
        let input = ActionInput {
            department_id: Some(dept),
            ..none()
        };
        if !sim.step(t, CaseAction::Dispatch, env.dispatcher.as_ref(), input) {
            return;
        }
    }
    let handler = env.handlers.get(&dept);

    // ---- sign: within the sign limit, and early in the handling window of urgent cases ----
    let mut t = sim.when(pace(rng, SIGN.0, SIGN.1), rng);
    if let Some(k) = &sim.case.clock
        && let (Some(deadline), Some(limit)) = (sim.case.deadline, sim.case.handle_limit)
    {
        let yellow = env.cal.yellow_at(limit.unit, k.started_at, deadline);
        let soon = sim.between(
            limit.unit,
            sim.t,
            yellow.max(sim.t),
            rng.random_range(0.05..0.3),
        );
        t = t.min(whole_seconds(soon).max(sim.t + Duration::seconds(GAP)));
    }
    if !sim.step(t, CaseAction::Sign, handler, none()) {
        return;
    }
    if spec.source == CaseSource::Leader || rng.random_bool(0.004) {
        let t = sim.t + Duration::minutes(rng.random_range(10..240));
        let input = ActionInput {
            comment: text("请高度重视，限期办结并反馈"),
            ..none()
        };
        sim.step(t, CaseAction::Supervise, env.leader.as_ref(), input);
    }
    if rng.random_bool(0.001) {
        let t = sim.when(Pace::OnTime, rng);
        let input = ActionInput {
            reason: text("经查为重复立案，予以作废"),
            ..none()
        };
        sim.step(t, CaseAction::Cancel, env.supervisor.as_ref(), input);
        return;
    }

    // ---- handle (postpone, suspend, supervise, late) ----
    let x: f64 = rng.random();
    let mut handle_pace = pace(rng, HANDLE.0, HANDLE.1);
    if x < 0.005 {
        if !suspend(sim, handler, rng) {
            return;
        }
        handle_pace = pace(rng, HANDLE.0, HANDLE.1 / 2.0);
    } else if x < 0.027 {
        match postpone(sim, handler, rng) {
            None => return,
            Some(true) => handle_pace = pace(rng, HANDLE.0, 0.01),
            Some(false) => handle_pace = pace(rng, 0.3, 0.4),
        }
    }
    if !handle(sim, handler, handle_pace, rng) {
        return;
    }

    // ---- check (rework) and close ----
    let mut reworked = false;
    loop {
        let t = sim.when(Pace::OnTime, rng);
        let input = ActionInput {
            assignee_id: inspector.and_then(|a| a.user_id),
            ..none()
        };
        if !sim.step(t, CaseAction::SendCheck, env.intake.as_ref(), input) {
            return;
        }
        let t = sim.when(centre(rng), rng);
        if !reworked && rng.random_bool(0.03) {
            reworked = true;
            let input = ActionInput {
                reason: text("现场核查未整改到位，请返工"),
                ..none()
            };
            if !sim.step(t, CaseAction::CheckFail, inspector, input) {
                return;
            }
            if !handle(sim, handler, pace(rng, HANDLE.0, 0.02), rng) {
                return;
            }
            continue;
        }
        let input = ActionInput {
            comment: text("经现场核查，已处置完毕"),
            attachments: if rng.random_bool(0.3) {
                env.photos(rng, 1)
            } else {
                Vec::new()
            },
            ..none()
        };
        if !sim.step(t, CaseAction::CheckPass, inspector, input) {
            return;
        }
        break;
    }
    let t = sim.when(centre(rng), rng);
    if !sim.step(t, CaseAction::Close, env.supervisor.as_ref(), none()) {
        return;
    }
    if rng.random_bool(0.08) {
        let t = sim.t + Duration::minutes(rng.random_range(60..4320));
        let score = [5u8, 5, 5, 5, 5, 4, 4, 4, 3, 2][rng.random_range(0..10)];
        let input = ActionInput {
            score: Some(score),
            ..none()
        };
        sim.step(t, CaseAction::Rate, env.reviewer.as_ref(), input);
    }
}

/// 处置: the handler reports the case handled with after-photos, at the given pace; a late case
/// may be supervised (督办) by the dispatcher first.
fn handle(sim: &mut Sim<'_, '_>, handler: Option<&Actor>, p: Pace, rng: &mut ChaCha8Rng) -> bool {
    let env = sim.env;
    let t = sim.when(p, rng);
    if p == Pace::Late
        && rng.random_bool(0.35)
        && let Some(due) = sim.case.clock.as_ref().and_then(|k| k.due)
    {
        let s = due + Duration::minutes(rng.random_range(30..600));
        if s < t {
            let input = ActionInput {
                comment: text("案件已超期，请加快处置"),
                ..ActionInput::default()
            };
            sim.step(s, CaseAction::Supervise, env.dispatcher.as_ref(), input);
        }
    }
    let input = ActionInput {
        comment: text("已按要求处置完毕，附处置后照片"),
        attachments: env.photos(rng, 2),
        ..ActionInput::default()
    };
    sim.step(t, CaseAction::Handle, handler, input)
}

/// 延期: the department asks before its deadline, the dispatcher approves (sometimes twice) or
/// denies. `Some(approved)`, or `None` when the case stopped.
fn postpone(sim: &mut Sim<'_, '_>, handler: Option<&Actor>, rng: &mut ChaCha8Rng) -> Option<bool> {
    let env = sim.env;
    let mut approved = false;
    for round in 0..2 {
        let t = sim.when(Pace::OnTime, rng);
        if sim.case.deadline.is_none_or(|d| t >= d) {
            // Too late to ask: an overdue case cannot be postponed.
            break;
        }
        let input = ActionInput {
            reason: text("需协调产权单位并采购材料，申请延期处置"),
            ..ActionInput::default()
        };
        if !sim.step(t, CaseAction::RequestPostpone, handler, input) {
            return None;
        }
        let t = sim.after_work_hours(rng.random_range(0.2..2.0));
        let ok = rng.random_bool(0.78);
        let input = ActionInput {
            reason: (!ok).then(|| "延期理由不充分，请按期处置".to_string()),
            comment: ok.then(|| "同意延期".to_string()),
            ..ActionInput::default()
        };
        let action = if ok {
            CaseAction::ApprovePostpone
        } else {
            CaseAction::DenyPostpone
        };
        if !sim.step(t, action, env.dispatcher.as_ref(), input) {
            return None;
        }
        approved |= ok;
        if !ok || round == 1 || !rng.random_bool(0.1) {
            break;
        }
    }
    Some(approved)
}

/// 挂账: the department asks, the dispatcher approves, the watcher resumes when the suspension
/// runs out (unless that lies beyond the end). `false` when the case stopped.
fn suspend(sim: &mut Sim<'_, '_>, handler: Option<&Actor>, rng: &mut ChaCha8Rng) -> bool {
    let env = sim.env;
    let t = sim.when(Pace::OnTime, rng);
    let until = whole_seconds(t + Duration::days(rng.random_range(14..=150)));
    let input = ActionInput {
        reason: text("涉及产权纠纷，需待法律程序完结后处置，申请挂账"),
        until: Some(until),
        ..ActionInput::default()
    };
    if !sim.step(t, CaseAction::RequestSuspend, handler, input) {
        return false;
    }
    let t = sim.after_work_hours(rng.random_range(0.3..3.0));
    let input = ActionInput {
        comment: text("同意挂账"),
        ..ActionInput::default()
    };
    if !sim.step(
        t,
        CaseAction::ApproveSuspend,
        env.dispatcher.as_ref(),
        input,
    ) {
        return false;
    }
    let resume_at = Sim::tick(sim.case.suspended_until.unwrap_or(until), false);
    let system = Actor::system();
    sim.step(
        resume_at,
        CaseAction::Resume,
        Some(&system),
        ActionInput::default(),
    )
}

// ---------------------------------------------------------------------------------------------
// Putting it together

/// Generates the history (see the module documentation).
pub fn build_history(input: &HistoryInput<'_>, opts: &HistoryOptions) -> CaseHistory {
    build_history_with_stats(input, opts).0
}

/// [`build_history`] with figures, including steps the state machine refused (0 when all is well).
pub fn build_history_with_stats(
    input: &HistoryInput<'_>,
    opts: &HistoryOptions,
) -> (CaseHistory, HistoryStats) {
    let env = Env::new(input, whole_seconds(opts.end));
    let specs = report_specs(input, &env, opts);

    // Ids in report order; codes per local day in that order.
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| (specs[i].at, i));
    let mut id_of = vec![0i64; specs.len()];
    for (pos, &i) in order.iter().enumerate() {
        id_of[i] = pos as i64 + 1;
    }
    let tz = env.cal.config().tz;
    let mut seq_by_day: HashMap<NaiveDate, u32> = HashMap::new();
    let codes: Vec<String> = order
        .iter()
        .map(|&i| {
            let day = specs[i].at.with_timezone(&tz).date_naive();
            let seq = seq_by_day.entry(day).or_insert(0);
            *seq += 1;
            format!("{}{:05}", day.format("%Y%m%d"), seq)
        })
        .collect();

    // Each case has its own random stream (from the seed and its id), so cases can be simulated
    // in any order with the same result: first every original report, spread over the cores,
    // then the duplicates, which look at their (original) master case.
    let case_seed = rng_for(opts.seed, "case").random::<u64>();
    let run = |pos: usize, master: Option<&Outcome>| {
        let spec = &specs[order[pos]];
        let id = pos as i64 + 1;
        let mut rng =
            ChaCha8Rng::seed_from_u64(case_seed ^ (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        simulate(&env, spec, id, codes[pos].clone(), master, &mut rng)
    };
    let mut slots: Vec<Option<Outcome>> = (0..order.len()).map(|_| None).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = order.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (c, part) in slots.chunks_mut(chunk).enumerate() {
            let (run, specs, order) = (&run, &specs, &order);
            scope.spawn(move || {
                for (j, slot) in part.iter_mut().enumerate() {
                    let pos = c * chunk + j;
                    if specs[order[pos]].master.is_none() {
                        *slot = Some(run(pos, None));
                    }
                }
            });
        }
    });
    for pos in 0..order.len() {
        let Some(m) = specs[order[pos]].master else {
            continue;
        };
        let master_pos = (id_of[m] - 1) as usize;
        let outcome = run(pos, slots[master_pos].as_ref());
        slots[pos] = Some(outcome);
    }
    let outcomes = slots.into_iter().flatten();

    let mut stats = HistoryStats::default();
    let mut history = CaseHistory::default();
    let mut followers = BTreeSet::new();
    let mut events: Vec<NewCaseEvent> = Vec::new();
    let mut notes: Vec<NewNotification> = Vec::new();
    for o in outcomes {
        if let Some(r) = o.refusal {
            stats.refused += 1;
            stats.first_refusal.get_or_insert(r);
        }
        let Some(case) = o.case else { continue };
        followers.extend(o.follows);
        events.extend(o.events);
        notes.extend(o.notes);
        history.cases.push(case);
    }
    // The global chain order: by time, then case, then each case's own order (stable sort).
    events.sort_by_key(|e| (e.at, e.case_id));
    notes.sort_by_key(|n| (n.created_at, n.case_id));
    history.events = events;
    history.notifications = notes;
    history.followers = followers.into_iter().collect();
    stats.cases = history.cases.len() as u64;
    stats.events = history.events.len() as u64;
    stats.notifications = history.notifications.len() as u64;
    stats.followers = history.followers.len() as u64;
    (history, stats)
}

/// The reports of every day (base reports, then duplicates of some of them).
fn report_specs(input: &HistoryInput<'_>, env: &Env<'_>, opts: &HistoryOptions) -> Vec<Spec> {
    let mut rng = rng_for(opts.seed, "history-reports");
    let cal = env.cal;
    let tz = cal.config().tz;
    let bbox = input.city.core_bbox();
    let end = env.end;
    if env.mix.is_empty() || opts.days == 0 || opts.cases_per_day == 0 {
        return Vec::new();
    }
    let last_day = end.with_timezone(&tz).date_naive();
    let first_day = last_day
        .checked_sub_days(chrono::Days::new(u64::from(opts.days - 1)))
        .unwrap_or(last_day);

    let all_weights = cumulate(env.mix.iter().map(|m| m.3));
    let subset = |codes: &[&str]| -> (Vec<usize>, Vec<f64>) {
        let idx: Vec<usize> = env
            .mix
            .iter()
            .enumerate()
            .filter(|(_, m)| codes.contains(&m.1))
            .map(|(i, _)| i)
            .collect();
        let w = cumulate(idx.iter().map(|&i| env.mix[i].3));
        (idx, w)
    };
    let video = subset(VIDEO_AI);
    let iot = subset(IOT);
    let source_weights = cumulate(SOURCES.iter().map(|(_, w)| f64::from(*w)));
    let hours_citizen = cumulate(CITIZEN_HOURS);
    let hours_hotline = cumulate(HOTLINE_HOURS);
    let hours_machine = cumulate(MACHINE_HOURS);
    let periods = cal.config().hours.periods.clone();
    let period_weights = cumulate(
        periods
            .iter()
            .map(|(a, b)| (*b - *a).num_seconds().max(1) as f64),
    );

    let mut specs: Vec<Spec> = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        let factor = if cal.is_working_day(day) { 1.12 } else { 0.72 };
        let n =
            (f64::from(opts.cases_per_day) * factor * rng.random_range(0.9..1.1)).round() as usize;
        for _ in 0..n {
            let source = SOURCES[weighted(&mut rng, &source_weights)].0;
            let pick = match source {
                CaseSource::VideoAi if !video.0.is_empty() => video.0[weighted(&mut rng, &video.1)],
                CaseSource::Iot if !iot.0.is_empty() => iot.0[weighted(&mut rng, &iot.1)],
                _ => weighted(&mut rng, &all_weights),
            };
            let local = match source {
                CaseSource::Inspector | CaseSource::Leader => {
                    let (a, b) = periods[weighted(&mut rng, &period_weights)];
                    let secs = (b - a).num_seconds().max(1);
                    a + Duration::seconds(rng.random_range(0..secs))
                }
                CaseSource::Citizen => hour_time(&mut rng, &hours_citizen),
                CaseSource::Hotline => hour_time(&mut rng, &hours_hotline),
                CaseSource::VideoAi | CaseSource::Iot => hour_time(&mut rng, &hours_machine),
            };
            let Some(at) = tz
                .from_local_datetime(&day.and_time(local))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
            else {
                continue;
            };
            let Some(location) = sample_location(&mut rng, input.index, bbox) else {
                continue;
            };
            if at > end {
                continue;
            }
            specs.push(Spec {
                at,
                source,
                pick,
                location,
                master: None,
            });
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }

    // Duplicates (重复上报): the same problem reported again nearby by a citizen or the hotline.
    let base = specs.len();
    for i in 0..base {
        if !rng.random_bool(DUPLICATE_SHARE) {
            continue;
        }
        let m = &specs[i];
        let at = whole_seconds(m.at + Duration::minutes(rng.random_range(20..36 * 60)));
        let source = if rng.random_bool(0.5) {
            CaseSource::Citizen
        } else {
            CaseSource::Hotline
        };
        let location = nearby(&mut rng, input.index, &m.location);
        let pick = m.pick;
        if at <= end {
            specs.push(Spec {
                at,
                source,
                pick,
                location,
                master: Some(i),
            });
        }
    }
    specs
}

fn hour_time(rng: &mut ChaCha8Rng, hours: &[f64]) -> NaiveTime {
    let h = weighted(rng, hours) as u32;
    let s = rng.random_range(0..3600u32);
    NaiveTime::from_hms_opt(h, s / 60, s % 60).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_codes_are_in_the_catalogue() {
        let cats = crate::reference::categories();
        let mut seen = BTreeSet::new();
        for (k, code, name, w) in MIX {
            let c = cats
                .iter()
                .find(|c| c.kind == *k && c.code == *code)
                .unwrap_or_else(|| panic!("{code} is not a {k:?} of the catalogue"));
            assert!(c.name.starts_with(name), "{code}: {} vs {name}", c.name);
            assert!(*w > 0.0);
            assert!(seen.insert((*k, *code)), "{code} twice");
        }
        for code in VIDEO_AI.iter().chain(IOT) {
            assert!(MIX.iter().any(|m| m.1 == *code), "{code}");
        }
        for code in DIRECT_FILE_CATEGORIES {
            assert!(
                cats.iter()
                    .any(|c| c.kind == CategoryKind::Matter && c.code == *code)
            );
        }
        let shares: u32 = SOURCES.iter().map(|s| s.1).sum();
        assert_eq!(shares, 1000);
    }

    #[test]
    fn watcher_ticks() {
        let t = DateTime::from_timestamp(1_000_000_015, 0).unwrap();
        assert_eq!(Sim::tick(t, false).timestamp(), 1_000_000_020);
        let on = DateTime::from_timestamp(1_000_000_020, 0).unwrap();
        assert_eq!(Sim::tick(on, false), on);
        assert_eq!(Sim::tick(on, true).timestamp(), 1_000_000_050);
    }

    #[test]
    fn photos_are_real_pngs() {
        let photos = demo_photos(3);
        assert_eq!(photos.len(), 3);
        for p in &photos {
            assert!(p.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            let img = image::load_from_memory(&p.bytes).unwrap();
            assert_eq!((img.width(), img.height()), (p.width, p.height));
            assert_eq!(p.sha256, hex::encode(Sha256::digest(&p.bytes)));
        }
        assert_ne!(photos[0].sha256, photos[1].sha256);
        assert_eq!(demo_photos(3), photos, "deterministic");
    }

    #[test]
    fn duties_fall_back_to_the_class() {
        assert_eq!(duty("06010"), Duty::District(DepartmentKind::Sanitation));
        assert_eq!(duty("06099"), Duty::District(DepartmentKind::Enforcement));
        assert_eq!(duty("04002"), Duty::City(DepartmentKind::Landscaping));
        assert_eq!(duty("01011"), Duty::City(DepartmentKind::Gas));
        assert_eq!(duty("06036"), Duty::Street(DepartmentKind::Enforcement));
    }
}
