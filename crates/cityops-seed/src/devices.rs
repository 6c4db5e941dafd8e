//! The demo city's monitoring devices (演示城市的监测设备): a few thousand sensors on the city's
//! lifelines, placed where such sensors really go — combustible gas detectors in the wells along
//! the main roads, water pressure and flow meters at pipe nodes, level sensors at the drainage
//! outfalls on the river banks and in the street manholes, waterlogging stations at low-lying
//! crossings and underpasses, rain gauges on a coarse grid, strain, deflection and tilt sensors on
//! the bridges, tilt sensors on billboards along the commercial streets, and noise monitors at the
//! construction sites.
//!
//! The roads, rivers, lakes, coasts and bridges are real ones drawn as rough WGS84 polylines
//! (approximate, a few hundred metres off at worst); the placement along them is synthetic. Every
//! device lies inside the demo's urban core ([`DemoCity::core_bbox`], 100 m in from its edges) and
//! inside a district polygon, so it locates to a unit grid of the demo city; points that fall in
//! a river, a lake or the sea are dropped.
//!
//! Deterministic: ChaCha8 streams seeded from [`crate::demo::DEFAULT_SEED`], the city and a label
//! per device kind; no hash-map order and no clock.
use std::collections::BTreeMap;

use cityops_domain::DepartmentKind;
use cityops_domain::monitoring::{Device, DeviceRecord, DeviceType};
use cityops_geo::RegionIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::demo::Frame;
use crate::{DemoCity, reference};

/// The demo devices of `city` (≈3,000 for Huizhou, ≈1,500 for Xiamen and Bozhou), ordered by
/// type, then by id. Ids are `{HZ|XM|BZ}-{tag}-{six digits}` (e.g. `HZ-GAS-000123`); the owner
/// department is given by its demo code (`441300-gas`, `441302-enforcement` …); `profile` is the
/// type's default; located codes, `component_id` and `department_id` are left `None`.
pub fn demo_devices(city: DemoCity) -> Vec<DeviceRecord> {
    let map = city_map(city);
    let ctx = Ctx::new(city, &map);
    let mut b = Builder::new(city, &ctx);
    gas_detectors(&ctx, &mut b);
    water_meters(&ctx, &mut b);
    drainage_outfalls(&ctx, &mut b);
    manholes(&ctx, &mut b);
    waterlogging_stations(&ctx, &mut b);
    rain_gauges(&ctx, &mut b);
    bridges(&ctx, &mut b);
    billboards(&ctx, &mut b);
    construction_sites(&ctx, &mut b);
    b.records.sort_by(|x, y| {
        (x.device.device_type, &x.device.id).cmp(&(y.device.device_type, &y.device.id))
    });
    b.records
}

/// The id prefix of a demo city's devices.
pub fn device_id_prefix(city: DemoCity) -> &'static str {
    match city {
        DemoCity::Huizhou => "HZ",
        DemoCity::Xiamen => "XM",
        DemoCity::Bozhou => "BZ",
    }
}

/// The short tag of a device type in demo ids (`GAS`, `WP`, `NS` …).
pub fn device_type_tag(t: DeviceType) -> &'static str {
    match t {
        DeviceType::GasDetector => "GAS",
        DeviceType::WaterPressure => "WP",
        DeviceType::WaterFlow => "WF",
        DeviceType::DrainageLevel => "DRN",
        DeviceType::ManholeLevel => "MH",
        DeviceType::Waterlogging => "WL",
        DeviceType::BridgeStrain => "BS",
        DeviceType::BridgeDeflection => "BD",
        DeviceType::BridgeTilt => "BT",
        DeviceType::BillboardTilt => "BB",
        DeviceType::Noise => "NS",
        DeviceType::RainGauge => "RG",
    }
}

/// `n` of `devices` spread over the types in proportion, at least one of each type present when
/// `n` allows (so that a small simulation still has gas, waterlogging and noise devices), chosen
/// evenly within each type and kept in the input order. All of them when `n >= devices.len()`.
pub fn sample_devices(devices: &[DeviceRecord], n: usize) -> Vec<DeviceRecord> {
    if n >= devices.len() {
        return devices.to_vec();
    }
    let mut by_type: BTreeMap<DeviceType, Vec<usize>> = BTreeMap::new();
    for (i, d) in devices.iter().enumerate() {
        by_type.entry(d.device.device_type).or_default().push(i);
    }
    let total = devices.len() as f64;
    let mut quota: BTreeMap<DeviceType, usize> = by_type
        .iter()
        .map(|(t, v)| {
            let share = (v.len() as f64 * n as f64 / total).round() as usize;
            (*t, share.clamp(usize::from(n >= by_type.len()), v.len()))
        })
        .collect();
    // Trim from (or add to) the largest types until the sum is exactly n.
    loop {
        let sum: usize = quota.values().sum();
        if sum == n {
            break;
        }
        let pick = if sum > n {
            quota
                .iter()
                .filter(|(_, q)| **q > 1)
                .max_by_key(|(t, q)| (**q, std::cmp::Reverse(**t)))
                .map(|(t, _)| *t)
        } else {
            quota
                .iter()
                .filter(|(t, q)| **q < by_type[*t].len())
                .max_by_key(|(t, q)| (by_type[*t].len() - **q, std::cmp::Reverse(**t)))
                .map(|(t, _)| *t)
        };
        let Some(t) = pick else { break };
        let q = quota.entry(t).or_default();
        if sum > n {
            *q -= 1;
        } else {
            *q += 1;
        }
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    for (t, idx) in &by_type {
        let k = quota[t];
        chosen.extend((0..k).map(|j| idx[j * idx.len() / k]));
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|i| devices[i].clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// The cities' maps: real roads, waters and bridges as rough WGS84 polylines

type Pts = &'static [(f64, f64)];

/// A main road (主干道): its name, whether it is a commercial street (billboards), its course.
struct RoadDef {
    name: &'static str,
    commercial: bool,
    pts: Pts,
}

/// A body of water.
enum WaterDef {
    /// A river: its centre line and half its width (m). Outfalls on both banks.
    River {
        name: &'static str,
        half_width: f64,
        pts: Pts,
    },
    /// A lake: its shore as a closed ring. Outfalls on the shore.
    Lake { name: &'static str, ring: Pts },
    /// A sea shore (the sea lies outside the district polygons). Outfalls on the shore line.
    Shore { name: &'static str, pts: Pts },
}

/// A bridge (桥梁) to instrument.
enum BridgeDef {
    /// Across water `water` (index into the map's waters) at the point of it nearest `near`.
    Over {
        name: &'static str,
        water: usize,
        near: (f64, f64),
    },
    /// From `a` to `b` (a viaduct or an overpass).
    Span {
        name: &'static str,
        a: (f64, f64),
        b: (f64, f64),
    },
}

struct CityMap {
    roads: &'static [RoadDef],
    waters: &'static [WaterDef],
    bridges: &'static [BridgeDef],
    /// Place names of construction projects (片区).
    places: &'static [&'static str],
    /// Construction sites to generate.
    sites: usize,
    /// Gas mains on both sides of the main roads (else one side).
    gas_both_sides: bool,
    /// Spacing multiplier of the manholes, billboards and water nodes (1 = nominal).
    spacing: f64,
}

const PROJECTS: [&str; 14] = [
    "住宅",
    "安置房",
    "商业综合体",
    "学校",
    "医院扩建",
    "市政道路改造",
    "保障性住房",
    "写字楼",
    "城市更新",
    "雨污分流改造",
    "地下停车场",
    "人才公寓",
    "综合管廊",
    "文体中心",
];

const SURNAMES: [&str; 20] = [
    "张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "梁",
];

const MOBILE_PREFIXES: [&str; 12] = [
    "135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "188", "189",
];

#[rustfmt::skip]
static HUIZHOU_ROADS: [RoadDef; 19] = [
    RoadDef { name: "惠州大道", commercial: false, pts: &[(114.385, 23.148), (114.388, 23.130), (114.391, 23.113), (114.394, 23.100), (114.380, 23.093), (114.376, 23.075), (114.382, 23.055), (114.390, 23.036)] },
    RoadDef { name: "演达大道", commercial: false, pts: &[(114.342, 23.068), (114.368, 23.070), (114.395, 23.069), (114.424, 23.068)] },
    RoadDef { name: "文明一路", commercial: true, pts: &[(114.398, 23.114), (114.415, 23.113), (114.432, 23.111)] },
    RoadDef { name: "文华一路", commercial: false, pts: &[(114.410, 23.104), (114.411, 23.120), (114.413, 23.140)] },
    RoadDef { name: "文昌一路", commercial: false, pts: &[(114.424, 23.101), (114.425, 23.115), (114.427, 23.132)] },
    RoadDef { name: "云山西路", commercial: false, pts: &[(114.392, 23.126), (114.415, 23.125), (114.438, 23.123)] },
    RoadDef { name: "东江沙路", commercial: false, pts: &[(114.376, 23.119), (114.388, 23.113), (114.400, 23.107), (114.409, 23.103)] },
    RoadDef { name: "麦地路", commercial: true, pts: &[(114.399, 23.093), (114.405, 23.092), (114.413, 23.090)] },
    RoadDef { name: "下埔路", commercial: true, pts: &[(114.404, 23.096), (114.405, 23.085), (114.406, 23.073)] },
    RoadDef { name: "鹅岭北路", commercial: false, pts: &[(114.412, 23.093), (114.412, 23.082), (114.413, 23.070)] },
    RoadDef { name: "演达一路", commercial: true, pts: &[(114.412, 23.064), (114.425, 23.059), (114.440, 23.053)] },
    RoadDef { name: "金山大道", commercial: false, pts: &[(114.398, 23.047), (114.420, 23.043), (114.445, 23.040)] },
    RoadDef { name: "东平大道", commercial: true, pts: &[(114.437, 23.093), (114.446, 23.083), (114.455, 23.072)] },
    RoadDef { name: "水口大道", commercial: false, pts: &[(114.450, 23.121), (114.462, 23.129), (114.476, 23.139)] },
    RoadDef { name: "三环北路", commercial: false, pts: &[(114.365, 23.140), (114.395, 23.142), (114.425, 23.143), (114.450, 23.140)] },
    RoadDef { name: "仲恺大道", commercial: false, pts: &[(114.338, 23.036), (114.352, 23.058), (114.364, 23.080), (114.371, 23.098)] },
    RoadDef { name: "惠风路", commercial: false, pts: &[(114.340, 23.048), (114.365, 23.047), (114.372, 23.046)] },
    RoadDef { name: "金龙大道", commercial: false, pts: &[(114.398, 23.131), (114.402, 23.148)] },
    RoadDef { name: "江北东路", commercial: false, pts: &[(114.432, 23.104), (114.445, 23.112), (114.450, 23.121)] },
];

#[rustfmt::skip]
static HUIZHOU_WATERS: [WaterDef; 3] = [
    WaterDef::River { name: "东江", half_width: 170.0, pts: &[(114.478, 23.128), (114.465, 23.118), (114.452, 23.108), (114.440, 23.100), (114.428, 23.095), (114.418, 23.093), (114.408, 23.097), (114.396, 23.102), (114.384, 23.108), (114.372, 23.116), (114.360, 23.125), (114.348, 23.134), (114.336, 23.142)] },
    WaterDef::River { name: "西枝江", half_width: 75.0, pts: &[(114.418, 23.092), (114.426, 23.082), (114.433, 23.073), (114.442, 23.064), (114.452, 23.056), (114.464, 23.049), (114.476, 23.043)] },
    WaterDef::Lake { name: "西湖", ring: &[(114.384, 23.082), (114.390, 23.090), (114.397, 23.089), (114.399, 23.083), (114.395, 23.076), (114.387, 23.076)] },
];

#[rustfmt::skip]
static HUIZHOU_BRIDGES: [BridgeDef; 8] = [
    BridgeDef::Over { name: "惠州大桥", water: 0, near: (114.393, 23.104) },
    BridgeDef::Over { name: "东江大桥", water: 0, near: (114.410, 23.096) },
    BridgeDef::Over { name: "东新桥", water: 0, near: (114.424, 23.094) },
    BridgeDef::Over { name: "合生大桥", water: 0, near: (114.440, 23.100) },
    BridgeDef::Over { name: "水口东江大桥", water: 0, near: (114.462, 23.116) },
    BridgeDef::Over { name: "中山桥", water: 1, near: (114.421, 23.088) },
    BridgeDef::Over { name: "西枝江桥", water: 1, near: (114.431, 23.076) },
    BridgeDef::Over { name: "东平大桥", water: 1, near: (114.446, 23.061) },
];

#[rustfmt::skip]
static XIAMEN_ROADS: [RoadDef; 17] = [
    RoadDef { name: "厦禾路", commercial: true, pts: &[(118.093, 24.461), (118.105, 24.466), (118.117, 24.470)] },
    RoadDef { name: "中山路", commercial: true, pts: &[(118.080, 24.457), (118.086, 24.459), (118.092, 24.461)] },
    RoadDef { name: "鹭江道", commercial: true, pts: &[(118.078, 24.450), (118.081, 24.462), (118.085, 24.474)] },
    RoadDef { name: "湖滨南路", commercial: true, pts: &[(118.088, 24.475), (118.110, 24.475), (118.135, 24.478)] },
    RoadDef { name: "湖滨北路", commercial: false, pts: &[(118.090, 24.491), (118.115, 24.492), (118.135, 24.493)] },
    RoadDef { name: "嘉禾路", commercial: true, pts: &[(118.119, 24.468), (118.120, 24.490), (118.122, 24.515), (118.120, 24.540)] },
    RoadDef { name: "仙岳路", commercial: false, pts: &[(118.088, 24.505), (118.120, 24.503), (118.160, 24.500), (118.186, 24.498)] },
    RoadDef { name: "莲前西路", commercial: true, pts: &[(118.121, 24.473), (118.150, 24.476), (118.183, 24.478)] },
    RoadDef { name: "环岛路", commercial: false, pts: &[(118.103, 24.440), (118.120, 24.436), (118.145, 24.435), (118.165, 24.442), (118.178, 24.453), (118.187, 24.468), (118.190, 24.490), (118.186, 24.508)] },
    RoadDef { name: "成功大道", commercial: false, pts: &[(118.130, 24.447), (118.133, 24.470), (118.135, 24.500), (118.133, 24.530)] },
    RoadDef { name: "吕岭路", commercial: false, pts: &[(118.140, 24.488), (118.165, 24.491), (118.184, 24.494)] },
    RoadDef { name: "湖里大道", commercial: false, pts: &[(118.090, 24.513), (118.105, 24.514), (118.125, 24.516)] },
    RoadDef { name: "金尚路", commercial: false, pts: &[(118.153, 24.479), (118.156, 24.500), (118.160, 24.524)] },
    RoadDef { name: "思明南路", commercial: true, pts: &[(118.092, 24.442), (118.093, 24.458), (118.096, 24.471)] },
    RoadDef { name: "东渡路", commercial: false, pts: &[(118.090, 24.497), (118.095, 24.507), (118.101, 24.518)] },
    RoadDef { name: "枋湖东路", commercial: false, pts: &[(118.140, 24.506), (118.155, 24.510), (118.170, 24.514)] },
    RoadDef { name: "机场路", commercial: false, pts: &[(118.120, 24.528), (118.128, 24.538), (118.133, 24.548)] },
];

#[rustfmt::skip]
static XIAMEN_WATERS: [WaterDef; 4] = [
    WaterDef::Lake { name: "筼筜湖", ring: &[(118.086, 24.481), (118.095, 24.478), (118.108, 24.479), (118.114, 24.483), (118.110, 24.488), (118.097, 24.488), (118.088, 24.486)] },
    WaterDef::Shore { name: "鹭江", pts: &[(118.076, 24.448), (118.079, 24.460), (118.083, 24.472), (118.082, 24.485), (118.086, 24.500), (118.093, 24.515), (118.101, 24.530), (118.108, 24.545)] },
    WaterDef::Shore { name: "环岛路海岸", pts: &[(118.097, 24.435), (118.120, 24.431), (118.145, 24.431), (118.168, 24.438), (118.183, 24.450), (118.193, 24.466), (118.196, 24.490), (118.192, 24.510)] },
    WaterDef::Shore { name: "五缘湾", pts: &[(118.168, 24.512), (118.178, 24.518), (118.188, 24.523)] },
];

#[rustfmt::skip]
static XIAMEN_BRIDGES: [BridgeDef; 6] = [
    BridgeDef::Span { name: "演武大桥", a: (118.088, 24.443), b: (118.101, 24.438) },
    BridgeDef::Span { name: "海沧大桥东引桥", a: (118.095, 24.497), b: (118.086, 24.496) },
    BridgeDef::Over { name: "五缘湾大桥", water: 3, near: (118.178, 24.518) },
    BridgeDef::Span { name: "仙岳路高架桥", a: (118.124, 24.503), b: (118.142, 24.502) },
    BridgeDef::Span { name: "嘉禾路高架桥", a: (118.120, 24.494), b: (118.121, 24.511) },
    BridgeDef::Span { name: "成功大道梧村立交桥", a: (118.132, 24.464), b: (118.134, 24.476) },
];

#[rustfmt::skip]
static BOZHOU_ROADS: [RoadDef; 14] = [
    RoadDef { name: "魏武大道", commercial: false, pts: &[(115.790, 33.824), (115.789, 33.862), (115.788, 33.897)] },
    RoadDef { name: "汤王大道", commercial: false, pts: &[(115.752, 33.824), (115.753, 33.870), (115.752, 33.897)] },
    RoadDef { name: "希夷大道", commercial: false, pts: &[(115.812, 33.824), (115.812, 33.854)] },
    RoadDef { name: "芍花路", commercial: true, pts: &[(115.725, 33.848), (115.780, 33.847), (115.827, 33.846)] },
    RoadDef { name: "亳州大道", commercial: false, pts: &[(115.725, 33.830), (115.780, 33.829), (115.827, 33.829)] },
    RoadDef { name: "光明路", commercial: true, pts: &[(115.758, 33.857), (115.780, 33.856), (115.800, 33.855)] },
    RoadDef { name: "人民路", commercial: true, pts: &[(115.779, 33.840), (115.780, 33.861)] },
    RoadDef { name: "药都路", commercial: false, pts: &[(115.735, 33.838), (115.780, 33.838), (115.820, 33.837)] },
    RoadDef { name: "合欢路", commercial: false, pts: &[(115.730, 33.885), (115.780, 33.882), (115.825, 33.879)] },
    RoadDef { name: "中华路", commercial: true, pts: &[(115.798, 33.826), (115.799, 33.857)] },
    RoadDef { name: "紫苑路", commercial: false, pts: &[(115.740, 33.826), (115.741, 33.872)] },
    RoadDef { name: "杜仲路", commercial: false, pts: &[(115.735, 33.893), (115.780, 33.891), (115.815, 33.889)] },
    RoadDef { name: "银杏路", commercial: false, pts: &[(115.822, 33.830), (115.822, 33.852)] },
    RoadDef { name: "谯陵路", commercial: false, pts: &[(115.760, 33.870), (115.762, 33.897)] },
];

#[rustfmt::skip]
static BOZHOU_WATERS: [WaterDef; 2] = [
    WaterDef::River { name: "涡河", half_width: 90.0, pts: &[(115.721, 33.878), (115.740, 33.875), (115.758, 33.871), (115.772, 33.867), (115.784, 33.864), (115.796, 33.862), (115.810, 33.858), (115.829, 33.853)] },
    WaterDef::River { name: "宋汤河", half_width: 15.0, pts: &[(115.765, 33.823), (115.767, 33.845), (115.769, 33.857), (115.771, 33.867)] },
];

#[rustfmt::skip]
static BOZHOU_BRIDGES: [BridgeDef; 6] = [
    BridgeDef::Over { name: "涡河一桥", water: 0, near: (115.779, 33.865) },
    BridgeDef::Over { name: "涡河二桥", water: 0, near: (115.789, 33.863) },
    BridgeDef::Over { name: "涡河三桥", water: 0, near: (115.753, 33.872) },
    BridgeDef::Over { name: "涡河四桥", water: 0, near: (115.812, 33.858) },
    BridgeDef::Over { name: "宋汤河芍花路桥", water: 1, near: (115.767, 33.847) },
    BridgeDef::Over { name: "宋汤河光明路桥", water: 1, near: (115.769, 33.856) },
];

/// The demo city's main roads (主干道) as (name, WGS84 centre line of `(lng, lat)`): the street
/// lines the default 门前三包 zones of management objects face.
pub fn main_roads(city: DemoCity) -> Vec<(&'static str, Vec<(f64, f64)>)> {
    city_map(city)
        .roads
        .iter()
        .map(|r| (r.name, r.pts.to_vec()))
        .collect()
}

fn city_map(city: DemoCity) -> CityMap {
    match city {
        DemoCity::Huizhou => CityMap {
            roads: &HUIZHOU_ROADS,
            waters: &HUIZHOU_WATERS,
            bridges: &HUIZHOU_BRIDGES,
            places: &[
                "江北",
                "河南岸",
                "桥东",
                "桥西",
                "江南",
                "水口",
                "小金口",
                "金山湖",
                "东平",
                "仲恺",
                "下角",
                "龙丰",
                "三栋",
                "鹅岭",
                "演达",
                "东江新城",
                "西湖",
                "麦地",
                "南坛",
                "文昌",
            ],
            sites: 70,
            gas_both_sides: true,
            spacing: 0.85,
        },
        DemoCity::Xiamen => CityMap {
            roads: &XIAMEN_ROADS,
            waters: &XIAMEN_WATERS,
            bridges: &XIAMEN_BRIDGES,
            places: &[
                "筼筜",
                "莲前",
                "湖滨",
                "江头",
                "五缘湾",
                "吕厝",
                "禾山",
                "殿前",
                "高崎",
                "枋湖",
                "金尚",
                "前埔",
                "曾厝垵",
                "观音山",
                "软件园",
                "东渡",
                "塘边",
                "会展",
                "鹭江",
                "梧村",
            ],
            sites: 55,
            gas_both_sides: false,
            spacing: 2.0,
        },
        DemoCity::Bozhou => CityMap {
            roads: &BOZHOU_ROADS,
            waters: &BOZHOU_WATERS,
            bridges: &BOZHOU_BRIDGES,
            places: &[
                "魏武",
                "汤王",
                "涡北",
                "城南",
                "古井",
                "药都",
                "芍花",
                "谯东",
                "薛阁",
                "花戏楼",
                "汤陵",
                "高新区",
                "希夷",
                "紫苑",
                "杜仲",
                "合欢",
                "涡南",
                "亳州南站",
            ],
            sites: 45,
            gas_both_sides: false,
            spacing: 1.8,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry in a local metric frame

/// A polyline in the local frame with its cumulative lengths.
#[derive(Debug, Clone)]
struct Line {
    pts: Vec<(f64, f64)>,
    cum: Vec<f64>,
}

impl Line {
    fn new(pts: Vec<(f64, f64)>) -> Self {
        let mut cum = Vec::with_capacity(pts.len());
        let mut acc = 0.0;
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                let q = pts[i - 1];
                acc += (p.0 - q.0).hypot(p.1 - q.1);
            }
            cum.push(acc);
        }
        Self { pts, cum }
    }

    fn len(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// The point at distance `s` along the line and the unit direction there.
    fn at(&self, s: f64) -> ((f64, f64), (f64, f64)) {
        let n = self.pts.len();
        if n < 2 {
            return (self.pts.first().copied().unwrap_or((0.0, 0.0)), (1.0, 0.0));
        }
        let s = s.clamp(0.0, self.len());
        let i = self.cum.partition_point(|&c| c <= s).clamp(1, n - 1);
        let (a, b) = (self.pts[i - 1], self.pts[i]);
        let seg = (self.cum[i] - self.cum[i - 1]).max(1e-9);
        let t = (s - self.cum[i - 1]) / seg;
        let dir = ((b.0 - a.0) / seg, (b.1 - a.1) / seg);
        ((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t), dir)
    }

    /// The distance from `p` to the line and the distance along the line of the nearest point.
    fn nearest(&self, p: (f64, f64)) -> (f64, f64) {
        let mut best = (f64::INFINITY, 0.0);
        for i in 1..self.pts.len() {
            let (a, b) = (self.pts[i - 1], self.pts[i]);
            let d = (b.0 - a.0, b.1 - a.1);
            let l2 = (d.0 * d.0 + d.1 * d.1).max(1e-9);
            let t = (((p.0 - a.0) * d.0 + (p.1 - a.1) * d.1) / l2).clamp(0.0, 1.0);
            let q = (a.0 + d.0 * t, a.1 + d.1 * t);
            let dist = (p.0 - q.0).hypot(p.1 - q.1);
            if dist < best.0 {
                best = (dist, self.cum[i - 1] + t * l2.sqrt());
            }
        }
        best
    }

    /// Points where this line crosses `other`.
    fn crossings(&self, other: &Line) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for i in 1..self.pts.len() {
            for j in 1..other.pts.len() {
                if let Some(p) =
                    segment_crossing(self.pts[i - 1], self.pts[i], other.pts[j - 1], other.pts[j])
                {
                    out.push(p);
                }
            }
        }
        out
    }
}

fn segment_crossing(
    a: (f64, f64),
    b: (f64, f64),
    c: (f64, f64),
    d: (f64, f64),
) -> Option<(f64, f64)> {
    let r = (b.0 - a.0, b.1 - a.1);
    let s = (d.0 - c.0, d.1 - c.1);
    let den = r.0 * s.1 - r.1 * s.0;
    if den.abs() < 1e-9 {
        return None;
    }
    let t = ((c.0 - a.0) * s.1 - (c.1 - a.1) * s.0) / den;
    let u = ((c.0 - a.0) * r.1 - (c.1 - a.1) * r.0) / den;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some((a.0 + r.0 * t, a.1 + r.1 * t))
}

fn inside_ring(ring: &[(f64, f64)], p: (f64, f64)) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

/// The left normal of a unit direction.
fn normal((dx, dy): (f64, f64)) -> (f64, f64) {
    (-dy, dx)
}

fn offset(p: (f64, f64), dir: (f64, f64), along: f64, side: f64) -> (f64, f64) {
    let n = normal(dir);
    (
        p.0 + dir.0 * along + n.0 * side,
        p.1 + dir.1 * along + n.1 * side,
    )
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

// ---------------------------------------------------------------------------------------------
// Context and the collector

struct Road {
    name: &'static str,
    commercial: bool,
    line: Line,
}

enum Water {
    River {
        name: &'static str,
        half_width: f64,
        line: Line,
    },
    Lake {
        name: &'static str,
        ring: Vec<(f64, f64)>,
        shore: Line,
    },
    Shore {
        name: &'static str,
        line: Line,
    },
}

struct Ctx<'m> {
    city: DemoCity,
    map: &'m CityMap,
    frame: Frame,
    /// The core box shrunk by 100 m, in degrees.
    inner: [f64; 4],
    /// The core box in the local frame.
    core_xy: [f64; 4],
    districts: RegionIndex,
    district_names: BTreeMap<String, String>,
    roads: Vec<Road>,
    waters: Vec<Water>,
}

/// Keep this far (m) from a river bank or a lake shore.
const WATER_CLEARANCE: f64 = 12.0;
/// The margin (degrees, ≈100 m) kept inside the core box.
const CORE_MARGIN: f64 = 0.001;

impl<'m> Ctx<'m> {
    fn new(city: DemoCity, map: &'m CityMap) -> Self {
        let core = city.core_bbox();
        let frame = Frame::new((core[0] + core[2]) / 2.0, (core[1] + core[3]) / 2.0);
        let (x0, y0) = frame.xy((core[0], core[1]));
        let (x1, y1) = frame.xy((core[2], core[3]));
        let districts = reference::districts(city);
        let district_names = districts
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect();
        let index = RegionIndex::build(&districts, &[], &[], &[]).unwrap_or_else(|e| {
            panic!("the embedded district boundaries of {city} cannot be indexed: {e}")
        });
        let line = |pts: Pts| Line::new(pts.iter().map(|&p| frame.xy(p)).collect());
        let roads = map
            .roads
            .iter()
            .map(|r| Road {
                name: r.name,
                commercial: r.commercial,
                line: line(r.pts),
            })
            .collect();
        let waters = map
            .waters
            .iter()
            .map(|w| match w {
                WaterDef::River {
                    name,
                    half_width,
                    pts,
                } => Water::River {
                    name,
                    half_width: *half_width,
                    line: line(pts),
                },
                WaterDef::Lake { name, ring } => {
                    let ring: Vec<(f64, f64)> = ring.iter().map(|&p| frame.xy(p)).collect();
                    let mut closed = ring.clone();
                    closed.push(ring[0]);
                    Water::Lake {
                        name,
                        ring,
                        shore: Line::new(closed),
                    }
                }
                WaterDef::Shore { name, pts } => Water::Shore {
                    name,
                    line: line(pts),
                },
            })
            .collect();
        Self {
            city,
            map,
            frame,
            inner: [
                core[0] + CORE_MARGIN,
                core[1] + CORE_MARGIN,
                core[2] - CORE_MARGIN,
                core[3] - CORE_MARGIN,
            ],
            core_xy: [x0, y0, x1, y1],
            districts: index,
            district_names,
            roads,
            waters,
        }
    }

    /// Whether a point lies in a river or a lake (or too close to its edge).
    fn in_water(&self, p: (f64, f64)) -> bool {
        self.waters.iter().any(|w| match w {
            Water::River {
                half_width, line, ..
            } => line.nearest(p).0 < half_width + WATER_CLEARANCE,
            Water::Lake { ring, shore, .. } => {
                inside_ring(ring, p) || shore.nearest(p).0 < WATER_CLEARANCE
            }
            Water::Shore { .. } => false,
        })
    }

    /// The district code of a point inside the inner core and a district polygon.
    fn locate(&self, p: (f64, f64)) -> Option<(f64, f64, String)> {
        let (lng, lat) = self.frame.lng_lat(p);
        let (lng, lat) = (round7(lng), round7(lat));
        let [a, b, c, d] = self.inner;
        if !(lng >= a && lng <= c && lat >= b && lat <= d) {
            return None;
        }
        let loc = self.districts.locate(lng, lat)?;
        Some((lng, lat, loc.district_code.to_string()))
    }

    fn dept(&self, kind: DepartmentKind) -> String {
        format!("{}-{}", self.city.code(), kind.as_str())
    }
}

/// A ChaCha8 stream for one purpose, derived from the demo seed, the city and a label.
fn rng_for(city: DemoCity, label: &str) -> ChaCha8Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in city.as_str().bytes().chain([b'/']).chain(label.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(crate::demo::DEFAULT_SEED ^ h.rotate_left(17))
}

/// Who owns a device.
#[derive(Debug, Clone, Copy)]
enum Owner {
    City(DepartmentKind),
    /// The 城管执法大队 of the district the device is in.
    DistrictEnforcement,
}

/// Collects devices, numbering ids per type and names per (place, what).
struct Builder<'c, 'm> {
    ctx: &'c Ctx<'m>,
    prefix: &'static str,
    records: Vec<DeviceRecord>,
    seq: BTreeMap<DeviceType, u32>,
    numbers: BTreeMap<(String, String), u32>,
}

impl<'c, 'm> Builder<'c, 'm> {
    fn new(city: DemoCity, ctx: &'c Ctx<'m>) -> Self {
        Self {
            ctx,
            prefix: device_id_prefix(city),
            records: Vec::new(),
            seq: BTreeMap::new(),
            numbers: BTreeMap::new(),
        }
    }

    /// Adds a device at `p` (local frame) named `{place} {what} {n}#` if the point is inside the
    /// core and a district; answers whether it was added.
    fn add(
        &mut self,
        t: DeviceType,
        p: (f64, f64),
        place: &str,
        what: &str,
        owner: Owner,
        responsible: Option<String>,
    ) -> bool {
        let Some((lng, lat, district)) = self.ctx.locate(p) else {
            return false;
        };
        let seq = self.seq.entry(t).or_insert(0);
        *seq += 1;
        let id = format!("{}-{}-{:06}", self.prefix, device_type_tag(t), *seq);
        let n = self
            .numbers
            .entry((place.to_string(), what.to_string()))
            .or_insert(0);
        *n += 1;
        let name = format!("{place} {what} {n}#");
        let department_code = match owner {
            Owner::City(kind) => self.ctx.dept(kind),
            Owner::DistrictEnforcement => {
                format!("{district}-{}", DepartmentKind::Enforcement.as_str())
            }
        };
        self.records.push(DeviceRecord {
            device: Device {
                id,
                device_type: t,
                name,
                lng,
                lat,
                grid_code: None,
                community_code: None,
                street_code: None,
                district_code: None,
                component_id: None,
                department_id: None,
                profile: t.default_profile().to_string(),
                responsible,
                active: true,
            },
            department_code: Some(department_code),
        });
        true
    }
}

/// Distances along a line of length `len`, first at `start`, then every `spacing()` metres.
fn stations(len: f64, start: f64, mut spacing: impl FnMut() -> f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut s = start;
    while s <= len {
        out.push(s);
        s += spacing().max(1.0);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The devices, kind by kind

/// 可燃气体监测仪 in the wells next to the gas mains on both sides of every main road, every
/// 150–250 m.
fn gas_detectors(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    const WELLS: [&str; 5] = ["燃气阀门井", "雨水井", "污水井", "电力井", "通信井"];
    let mut rng = rng_for(ctx.city, "gas");
    let sides: &[f64] = if ctx.map.gas_both_sides {
        &[1.0, -1.0]
    } else {
        &[1.0]
    };
    for road in &ctx.roads {
        for &side in sides {
            let start = rng.random_range(20.0..150.0);
            for s in stations(road.line.len(), start, || rng.random_range(150.0..250.0)) {
                let (p, dir) = road.line.at(s);
                let q = offset(p, dir, 0.0, side * rng.random_range(5.0..14.0));
                if ctx.in_water(q) {
                    continue;
                }
                let well = WELLS[rng.random_range(0..WELLS.len())];
                let what = format!("{well} 可燃气体监测仪");
                b.add(
                    DeviceType::GasDetector,
                    q,
                    road.name,
                    &what,
                    Owner::City(DepartmentKind::Gas),
                    None,
                );
            }
        }
    }
}

/// Water pressure (every pipe node) and flow meters (every other node, and at the crossings of
/// main roads: the DMA inlets) along the water mains, nodes every 450–800 m.
fn water_meters(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "water");
    let k = ctx.map.spacing;
    let owner = Owner::City(DepartmentKind::WaterSupply);
    for road in &ctx.roads {
        let start = rng.random_range(100.0..400.0);
        let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let nodes = stations(road.line.len(), start, || {
            rng.random_range(450.0..800.0) * k
        });
        for (i, s) in nodes.into_iter().enumerate() {
            let (p, dir) = road.line.at(s);
            let q = offset(p, dir, 0.0, side * rng.random_range(3.0..8.0));
            if ctx.in_water(q) {
                continue;
            }
            b.add(
                DeviceType::WaterPressure,
                q,
                road.name,
                "供水管网节点 压力监测仪",
                owner,
                None,
            );
            if i % 2 == 0 {
                let f = offset(q, dir, 2.5, 0.0);
                b.add(
                    DeviceType::WaterFlow,
                    f,
                    road.name,
                    "供水管网节点 流量计",
                    owner,
                    None,
                );
            }
        }
    }
    for (place, p) in crossings(ctx) {
        let mut q = offset(p, (1.0, 0.0), rng.random_range(-15.0..15.0), 0.0);
        q.1 += rng.random_range(-15.0..15.0);
        if ctx.in_water(q) {
            continue;
        }
        b.add(
            DeviceType::WaterPressure,
            q,
            &place,
            "供水压力监测点",
            owner,
            None,
        );
        b.add(
            DeviceType::WaterFlow,
            (q.0 + 3.0, q.1),
            &place,
            "DMA分区计量 流量计",
            owner,
            None,
        );
    }
}

/// The junctions of the main roads — where two cross, or where one ends on another (a T
/// junction) — one per 150 m, named `{A}与{B}交叉口`.
fn crossings(ctx: &Ctx<'_>) -> Vec<(String, (f64, f64))> {
    const T_JUNCTION: f64 = 150.0;
    let mut found: Vec<(usize, usize, (f64, f64))> = Vec::new();
    for (i, a) in ctx.roads.iter().enumerate() {
        for (j, c) in ctx.roads.iter().enumerate().skip(i + 1) {
            found.extend(a.line.crossings(&c.line).into_iter().map(|p| (i, j, p)));
            // An end of one road on (or just short of) the other.
            for (end_of, other, o) in [(a, c, (i, j)), (c, a, (i, j))] {
                let ends = [
                    end_of.line.pts[0],
                    end_of.line.pts[end_of.line.pts.len() - 1],
                ];
                for e in ends {
                    let (d, s) = other.line.nearest(e);
                    if d < T_JUNCTION {
                        found.push((o.0, o.1, other.line.at(s).0));
                    }
                }
            }
        }
    }
    let mut out: Vec<(String, (f64, f64))> = Vec::new();
    for (i, j, p) in found {
        let (a, c) = (ctx.roads[i].name, ctx.roads[j].name);
        let name = format!("{a}与{c}交叉口");
        let near = |(n, q): &(String, (f64, f64))| {
            let d = (p.0 - q.0).hypot(p.1 - q.1);
            d < 150.0 || (*n == name && d < 600.0)
        };
        if !out.iter().any(near) {
            out.push((name, p));
        }
    }
    out
}

/// 排水管网液位计 at the outfalls (排水口) on both banks of the rivers, around the lakes and on the
/// sea shore, every 150–300 m.
fn drainage_outfalls(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "outfalls");
    let owner = Owner::City(DepartmentKind::Drainage);
    for w in &ctx.waters {
        match w {
            Water::River {
                name,
                half_width,
                line,
            } => {
                for side in [1.0, -1.0] {
                    let start = rng.random_range(30.0..200.0);
                    for s in stations(line.len(), start, || rng.random_range(150.0..300.0)) {
                        let (p, dir) = line.at(s);
                        let off = half_width + WATER_CLEARANCE + rng.random_range(2.0..15.0);
                        let q = offset(p, dir, 0.0, side * off);
                        if ctx.in_water(q) {
                            continue;
                        }
                        let bank = format!("{name}{}", bank_name(dir, side));
                        b.add(
                            DeviceType::DrainageLevel,
                            q,
                            &bank,
                            "排水口 液位计",
                            owner,
                            None,
                        );
                    }
                }
            }
            Water::Lake { name, ring, shore } => {
                let start = rng.random_range(20.0..120.0);
                for s in stations(shore.len(), start, || rng.random_range(120.0..220.0)) {
                    let (p, dir) = shore.at(s);
                    // The side of the shore away from the lake.
                    let probe = offset(p, dir, 0.0, 30.0);
                    let side = if inside_ring(ring, probe) { -1.0 } else { 1.0 };
                    let q = offset(
                        p,
                        dir,
                        0.0,
                        side * (WATER_CLEARANCE + rng.random_range(3.0..12.0)),
                    );
                    if ctx.in_water(q) {
                        continue;
                    }
                    b.add(
                        DeviceType::DrainageLevel,
                        q,
                        &format!("{name}沿岸"),
                        "排水口 液位计",
                        owner,
                        None,
                    );
                }
            }
            Water::Shore { name, line } => {
                let start = rng.random_range(20.0..150.0);
                for s in stations(line.len(), start, || rng.random_range(180.0..320.0)) {
                    let (p, dir) = line.at(s);
                    // Whichever side is land (inside a district); the sea is outside.
                    let land = [1.0, -1.0]
                        .into_iter()
                        .map(|side| offset(p, dir, 0.0, side * rng.random_range(20.0..60.0)))
                        .find(|q| !ctx.in_water(*q) && ctx.locate(*q).is_some());
                    if let Some(q) = land {
                        b.add(
                            DeviceType::DrainageLevel,
                            q,
                            &format!("{name}沿岸"),
                            "排海口 液位计",
                            owner,
                            None,
                        );
                    }
                }
            }
        }
    }
}

/// 北岸 / 南岸 / 东岸 / 西岸 of a river flowing along `dir`, on the `side` (+1 = left).
fn bank_name(dir: (f64, f64), side: f64) -> &'static str {
    let n = normal(dir);
    let n = (n.0 * side, n.1 * side);
    if n.1.abs() >= n.0.abs() {
        if n.1 > 0.0 { "北岸" } else { "南岸" }
    } else if n.0 > 0.0 {
        "东岸"
    } else {
        "西岸"
    }
}

/// 窨井液位计 in the storm and sewer manholes of the main roads, every 90–180 m on one side.
fn manholes(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "manholes");
    let k = ctx.map.spacing;
    for road in &ctx.roads {
        let start = rng.random_range(10.0..90.0);
        for s in stations(road.line.len(), start, || rng.random_range(90.0..180.0) * k) {
            let (p, dir) = road.line.at(s);
            let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let q = offset(p, dir, 0.0, side * rng.random_range(1.0..9.0));
            if ctx.in_water(q) {
                continue;
            }
            let what = if rng.random_bool(0.6) {
                "雨水井 液位计"
            } else {
                "污水井 液位计"
            };
            b.add(
                DeviceType::ManholeLevel,
                q,
                road.name,
                what,
                Owner::City(DepartmentKind::Drainage),
                None,
            );
        }
    }
}

/// 积水监测站 at low-lying crossings and underpasses (下穿通道) of the main roads, and on the
/// low road sections near the rivers.
fn waterlogging_stations(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "waterlogging");
    let owner = Owner::City(DepartmentKind::Drainage);
    for (place, p) in crossings(ctx) {
        if !rng.random_bool(0.85) {
            continue;
        }
        let q = (
            p.0 + rng.random_range(-25.0..25.0),
            p.1 + rng.random_range(-25.0..25.0),
        );
        if ctx.in_water(q) {
            continue;
        }
        let what = if rng.random_bool(0.45) {
            "下穿通道 积水监测站"
        } else {
            "低洼路段 积水监测站"
        };
        b.add(DeviceType::Waterlogging, q, &place, what, owner, None);
    }
    // Low road sections (易涝点): most of those near the water, some elsewhere.
    for road in &ctx.roads {
        let start = rng.random_range(100.0..500.0);
        for s in stations(road.line.len(), start, || rng.random_range(600.0..1_100.0)) {
            let (p, _) = road.line.at(s);
            let near = ctx.waters.iter().find_map(|w| match w {
                Water::River {
                    name,
                    half_width,
                    line,
                } => (line.nearest(p).0 < half_width + 600.0).then_some(*name),
                Water::Lake { name, shore, .. } => (shore.nearest(p).0 < 400.0).then_some(*name),
                Water::Shore { name, line } => (line.nearest(p).0 < 400.0).then_some(*name),
            });
            let keep = if near.is_some() { 0.8 } else { 0.3 };
            if ctx.in_water(p) || !rng.random_bool(keep) {
                continue;
            }
            let (place, what) = match near {
                Some(water) => (format!("{}（近{water}）", road.name), "低洼路段 积水监测站"),
                None => (road.name.to_string(), "易涝点 积水监测站"),
            };
            b.add(DeviceType::Waterlogging, p, &place, what, owner, None);
        }
    }
}

/// 雨量计 on a ~1.5 km grid over the core, named by district and grid cell.
fn rain_gauges(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    const STEP: f64 = 1_500.0;
    let mut rng = rng_for(ctx.city, "rain");
    let [x0, y0, x1, y1] = ctx.core_xy;
    let (cols, rows) = (
        ((x1 - x0) / STEP).floor() as usize,
        ((y1 - y0) / STEP).floor() as usize,
    );
    let (mx, my) = (
        (x1 - x0 - (cols as f64 - 1.0) * STEP) / 2.0,
        (y1 - y0 - (rows as f64 - 1.0) * STEP) / 2.0,
    );
    // North to south, west to east, like the unit grids.
    for r in 0..rows {
        for c in 0..cols {
            let mut p = (
                x0 + mx + c as f64 * STEP + rng.random_range(-250.0..250.0),
                y1 - my - r as f64 * STEP + rng.random_range(-250.0..250.0),
            );
            // Off the water: try a few nudges towards the cell's centre.
            for _ in 0..4 {
                if !ctx.in_water(p) {
                    break;
                }
                p.0 += rng.random_range(-300.0..300.0);
                p.1 += rng.random_range(-300.0..300.0);
            }
            if ctx.in_water(p) {
                continue;
            }
            let Some((_, _, district)) = ctx.locate(p) else {
                continue;
            };
            let place = ctx
                .district_names
                .get(&district)
                .cloned()
                .unwrap_or(district);
            let what = format!("雨量站 R{:02}{:02}", r + 1, c + 1);
            b.add(
                DeviceType::RainGauge,
                p,
                &place,
                &what,
                Owner::City(DepartmentKind::Drainage),
                None,
            );
        }
    }
}

/// Strain gauges, deflection and tilt sensors along each bridge's span, named like
/// `合生大桥 应变计 3#`.
fn bridges(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "bridges");
    let owner = Owner::City(DepartmentKind::Municipal);
    for def in ctx.map.bridges {
        let (name, a, axis, len) = match def {
            BridgeDef::Over { name, water, near } => {
                let Some(w) = ctx.waters.get(*water) else {
                    continue;
                };
                let (line, half_width) = match w {
                    Water::River {
                        line, half_width, ..
                    } => (line, *half_width),
                    Water::Lake { shore, .. } => (shore, 60.0),
                    Water::Shore { line, .. } => (line, 120.0),
                };
                let (_, s) = line.nearest(ctx.frame.xy(*near));
                let (c, dir) = line.at(s);
                let axis = normal(dir);
                let half = half_width + 60.0;
                let a = (c.0 - axis.0 * half, c.1 - axis.1 * half);
                (*name, a, axis, 2.0 * half)
            }
            BridgeDef::Span { name, a, b } => {
                let (a, b) = (ctx.frame.xy(*a), ctx.frame.xy(*b));
                let len = (b.0 - a.0).hypot(b.1 - a.1).max(1.0);
                (*name, a, ((b.0 - a.0) / len, (b.1 - a.1) / len), len)
            }
        };
        let (strain, deflection, tilt) = if len > 400.0 {
            (10, 5, 4)
        } else if len > 200.0 {
            (8, 4, 3)
        } else {
            (4, 2, 2)
        };
        let at = |f: f64, side: f64| offset(a, axis, f * len, side);
        for i in 0..strain {
            let f = (f64::from(i) + 0.5) / f64::from(strain);
            let side = if i % 2 == 0 { 6.0 } else { -6.0 };
            b.add(
                DeviceType::BridgeStrain,
                at(f, side),
                name,
                "应变计",
                owner,
                None,
            );
        }
        for i in 0..deflection {
            let f = (f64::from(i) + 0.5) / f64::from(deflection);
            b.add(
                DeviceType::BridgeDeflection,
                at(f, rng.random_range(-2.0..2.0)),
                name,
                "挠度计",
                owner,
                None,
            );
        }
        for i in 0..tilt {
            // At the abutments and the piers.
            let f = f64::from(i) / f64::from(tilt - 1);
            let f = 0.03 + 0.94 * f;
            b.add(
                DeviceType::BridgeTilt,
                at(f, 0.0),
                name,
                "倾角计",
                owner,
                None,
            );
        }
    }
}

/// 户外广告牌倾斜监测仪 on the billboards along the commercial streets, every 40–90 m on
/// alternating sides.
fn billboards(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "billboards");
    let k = ctx.map.spacing;
    for road in ctx.roads.iter().filter(|r| r.commercial) {
        let start = rng.random_range(10.0..60.0);
        for (i, s) in stations(road.line.len(), start, || rng.random_range(40.0..90.0) * k)
            .into_iter()
            .enumerate()
        {
            let (p, dir) = road.line.at(s);
            let side = if i % 2 == 0 { 1.0 } else { -1.0 };
            let q = offset(p, dir, 0.0, side * rng.random_range(14.0..28.0));
            if ctx.in_water(q) {
                continue;
            }
            b.add(
                DeviceType::BillboardTilt,
                q,
                road.name,
                "户外广告牌 倾斜监测仪",
                Owner::City(DepartmentKind::Enforcement),
                None,
            );
        }
    }
}

/// Construction sites (施工工地) beside the main roads, each with 2–4 noise monitors on its
/// boundary and the site manager as the responsible party.
fn construction_sites(ctx: &Ctx<'_>, b: &mut Builder<'_, '_>) {
    let mut rng = rng_for(ctx.city, "sites");
    let total: f64 = ctx.roads.iter().map(|r| r.line.len()).sum();
    let mut centres: Vec<(f64, f64)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut attempts = 0;
    while names.len() < ctx.map.sites && attempts < 20_000 {
        attempts += 1;
        // A road by length, a point along it, the site 60–200 m back from the road.
        let mut x = rng.random_range(0.0..total);
        let road = ctx
            .roads
            .iter()
            .find(|r| {
                let l = r.line.len();
                if x < l {
                    true
                } else {
                    x -= l;
                    false
                }
            })
            .unwrap_or(&ctx.roads[0]);
        let (p, dir) = road.line.at(x);
        let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let c = offset(p, dir, 0.0, side * rng.random_range(60.0..200.0));
        if centres.iter().any(|q| (c.0 - q.0).hypot(c.1 - q.1) < 350.0) {
            continue;
        }
        let (hx, hy) = (rng.random_range(40.0..90.0), rng.random_range(30.0..70.0));
        let corners = [(hx, hy), (-hx, hy), (-hx, -hy), (hx, -hy)];
        let on_land = |q: (f64, f64)| !ctx.in_water(q) && ctx.locate(q).is_some();
        let pts: Vec<(f64, f64)> = corners.iter().map(|&(u, v)| offset(c, dir, u, v)).collect();
        if !on_land(c) || !pts.iter().all(|q| on_land(*q)) {
            continue;
        }
        let Some((_, _, district)) = ctx.locate(c) else {
            continue;
        };
        let district_name = ctx
            .district_names
            .get(&district)
            .cloned()
            .unwrap_or_default();
        let place = ctx.map.places[rng.random_range(0..ctx.map.places.len())];
        let project = PROJECTS[rng.random_range(0..PROJECTS.len())];
        let site = format!("{district_name}{place}{project}项目工地");
        if names.contains(&site) {
            continue;
        }
        let manager = format!(
            "{}工 {}{:08}",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            MOBILE_PREFIXES[rng.random_range(0..MOBILE_PREFIXES.len())],
            rng.random_range(0..100_000_000u32)
        );
        let monitors = rng.random_range(2..=4usize);
        // Start at a random corner; monitors go round the boundary.
        let first = rng.random_range(0..4usize);
        for j in 0..monitors {
            let q = pts[(first + j) % 4];
            b.add(
                DeviceType::Noise,
                q,
                &site,
                "噪声监测仪",
                Owner::DistrictEnforcement,
                Some(manager.clone()),
            );
        }
        centres.push(c);
        names.push(site);
    }
}

// ---------------------------------------------------------------------------------------------
// The same map for other demo data (the points of interest of `crate::pois`)

/// A usable point of the demo city: inside the urban core (100 m in), inside a district and out
/// of the water; WGS84, rounded to 7 decimals.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Place {
    pub lng: f64,
    pub lat: f64,
    pub district_name: String,
}

/// A point beside a main road.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoadSite {
    pub road: &'static str,
    /// A commercial street (商业街).
    pub commercial: bool,
    pub place: Place,
}

/// Places things on the demo city's map: what the devices use, for the demo's other data.
pub(crate) struct Placer<'c, 'm> {
    ctx: &'c Ctx<'m>,
}

/// Runs `f` with a [`Placer`] of `city` (the map and the district index are built once).
pub(crate) fn with_placer<R>(city: DemoCity, f: impl FnOnce(&Placer<'_, '_>) -> R) -> R {
    let map = city_map(city);
    let ctx = Ctx::new(city, &map);
    f(&Placer { ctx: &ctx })
}

impl Placer<'_, '_> {
    /// The point `(lng, lat)` (WGS84) if it is usable.
    pub(crate) fn place(&self, lng: f64, lat: f64) -> Option<Place> {
        let p = self.ctx.frame.xy((lng, lat));
        self.at(p)
    }

    fn at(&self, p: (f64, f64)) -> Option<Place> {
        if self.ctx.in_water(p) {
            return None;
        }
        let (lng, lat, district) = self.ctx.locate(p)?;
        Some(Place {
            lng,
            lat,
            district_name: self
                .ctx
                .district_names
                .get(&district)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// Points along every main road (commercial streets only, when `commercial_only`), from
    /// `start` metres every `spacing` metres, `side` metres to the left of the road (negative:
    /// the right) — alternating sides from one point to the next —, the unusable ones left out.
    /// In the map's road order, then along each road.
    pub(crate) fn road_sites(
        &self,
        commercial_only: bool,
        start: f64,
        spacing: f64,
        side: f64,
    ) -> Vec<RoadSite> {
        let mut out = Vec::new();
        for road in self
            .ctx
            .roads
            .iter()
            .filter(|r| r.commercial || !commercial_only)
        {
            for (i, s) in stations(road.line.len(), start, || spacing)
                .into_iter()
                .enumerate()
            {
                let (p, dir) = road.line.at(s);
                let side = if i % 2 == 0 { side } else { -side };
                if let Some(place) = self.at(offset(p, dir, 0.0, side)) {
                    out.push(RoadSite {
                        road: road.name,
                        commercial: road.commercial,
                        place,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use cityops_domain::RegionLevel;
    use cityops_domain::monitoring::check_device_id;

    use super::*;
    use crate::demo::{DemoOptions, build_demo};

    fn counts(devices: &[DeviceRecord]) -> BTreeMap<DeviceType, usize> {
        let mut m = BTreeMap::new();
        for d in devices {
            *m.entry(d.device.device_type).or_insert(0) += 1;
        }
        m
    }

    #[test]
    fn deterministic_and_sized_like_the_city() {
        for city in DemoCity::ALL {
            let a = demo_devices(city);
            assert_eq!(a, demo_devices(city), "{city}: the same every time");
            let n = a.len();
            let (lo, hi) = match city {
                DemoCity::Huizhou => (2_500, 3_600),
                _ => (1_100, 2_000),
            };
            let c = counts(&a);
            assert!((lo..=hi).contains(&n), "{city}: {n} devices {c:?}");
            use DeviceType as T;
            let scale: f64 = if city == DemoCity::Huizhou { 2.0 } else { 1.0 };
            #[rustfmt::skip]
            let ranges = [
                (T::GasDetector, 250.0, 700.0), (T::WaterPressure, 50.0, 160.0),
                (T::WaterFlow, 25.0, 110.0), (T::DrainageLevel, 60.0, 200.0),
                (T::ManholeLevel, 150.0, 450.0), (T::Waterlogging, 12.0, 60.0),
                (T::RainGauge, 15.0, 90.0), (T::BridgeStrain, 20.0, 70.0),
                (T::BridgeDeflection, 10.0, 35.0), (T::BillboardTilt, 100.0, 300.0),
                (T::Noise, 70.0, 200.0),
            ];
            for (t, lo, hi) in ranges {
                let got = c.get(&t).copied().unwrap_or(0) as f64;
                assert!(
                    got >= lo * scale.min(1.5) && got <= hi * scale,
                    "{city}: {got} of {t} not in {lo}–{hi} (×{scale}); {c:?}"
                );
            }
            assert!(
                c.get(&T::BridgeTilt).copied().unwrap_or(0) >= 8,
                "{city}: {c:?}"
            );
            for t in DeviceType::ALL {
                assert!(c.contains_key(t), "{city}: no {t}");
            }
        }
    }

    #[test]
    fn ids_names_and_fields_are_sound() {
        for city in DemoCity::ALL {
            let devices = demo_devices(city);
            let prefix = device_id_prefix(city);
            let mut ids = HashSet::new();
            let mut names = HashSet::new();
            for r in &devices {
                let d = &r.device;
                check_device_id(&d.id).unwrap();
                assert!(ids.insert(d.id.as_str()), "{} twice", d.id);
                assert!(names.insert(d.name.as_str()), "name {} twice", d.name);
                let want = format!("{prefix}-{}-", device_type_tag(d.device_type));
                assert!(
                    d.id.starts_with(&want) && d.id.len() == want.len() + 6,
                    "{}",
                    d.id
                );
                assert!(!d.name.trim().is_empty() && d.name.chars().count() <= 100);
                assert_eq!(d.profile, d.device_type.default_profile());
                assert!(d.active && d.component_id.is_none() && d.department_id.is_none());
                assert!(d.grid_code.is_none() && d.district_code.is_none());
                assert_eq!(
                    d.responsible.is_some(),
                    d.device_type == DeviceType::Noise,
                    "{}",
                    d.name
                );
            }
            // Sequences are dense per type.
            for (t, n) in counts(&devices) {
                let last = format!("{prefix}-{}-{n:06}", device_type_tag(t));
                assert!(ids.contains(last.as_str()), "{last}");
            }
            let sites: BTreeSet<&str> = devices
                .iter()
                .filter(|r| r.device.device_type == DeviceType::Noise)
                .map(|r| r.device.name.split(' ').next().unwrap())
                .collect();
            assert!(
                (40..=80).contains(&sites.len()),
                "{city}: {} sites",
                sites.len()
            );
            assert!(sites.iter().all(|s| s.ends_with("项目工地")), "{sites:?}");
        }
        let hz = demo_devices(DemoCity::Huizhou);
        let has = |name: &str| hz.iter().any(|r| r.device.name == name);
        assert!(has("合生大桥 应变计 3#"));
        assert!(has("惠州大桥 倾角计 1#"));
        assert!(has("中山桥 挠度计 2#"));
        let noise = hz
            .iter()
            .find(|r| r.device.device_type == DeviceType::Noise)
            .unwrap();
        let manager = noise.device.responsible.as_deref().unwrap();
        let (who, phone) = manager.split_once(' ').unwrap();
        assert!(
            who.ends_with('工') && phone.len() == 11 && phone.starts_with('1'),
            "{manager}"
        );
        assert!(noise.device.name.starts_with("惠城区") || noise.device.name.starts_with("惠阳区"));
    }

    /// Every device lies in the core and locates to a unit grid of the demo city; every
    /// department code is a demo department.
    #[test]
    fn devices_locate_to_grids_and_belong_to_demo_departments() {
        for city in DemoCity::ALL {
            let opts = DemoOptions {
                components: 0,
                ..DemoOptions::for_city(city)
            };
            let batch = build_demo(&opts, "not-a-real-hash").unwrap();
            let level = |l: RegionLevel| -> Vec<cityops_domain::Region> {
                batch
                    .regions
                    .iter()
                    .filter(|r| r.level == l)
                    .cloned()
                    .collect()
            };
            let index = RegionIndex::build(
                &level(RegionLevel::District),
                &level(RegionLevel::Street),
                &level(RegionLevel::Community),
                &level(RegionLevel::Grid),
            )
            .unwrap();
            let departments: HashSet<&str> =
                batch.departments.iter().map(|d| d.code.as_str()).collect();
            let [a, b, c, d] = city.core_bbox();
            for r in demo_devices(city) {
                let dev = &r.device;
                assert!(
                    dev.lng > a && dev.lng < c && dev.lat > b && dev.lat < d,
                    "{} {} outside the core",
                    dev.id,
                    dev.name
                );
                let loc = index
                    .locate(dev.lng, dev.lat)
                    .unwrap_or_else(|| panic!("{} {} locates nowhere", dev.id, dev.name));
                assert!(
                    loc.grid_code.is_some(),
                    "{} {} has no grid",
                    dev.id,
                    dev.name
                );
                let code = r.department_code.as_deref().unwrap();
                assert!(
                    departments.contains(code),
                    "{}: no department {code}",
                    dev.id
                );
                if dev.device_type == DeviceType::Noise {
                    assert_eq!(code, format!("{}-enforcement", loc.district_code));
                }
            }
        }
    }

    #[test]
    fn samples_keep_every_type() {
        let all = demo_devices(DemoCity::Bozhou);
        for n in [0, 5, 12, 50, 100, 1_000, all.len(), all.len() + 10] {
            let s = sample_devices(&all, n);
            assert_eq!(s.len(), n.min(all.len()), "{n}");
            let ids: HashSet<&str> = s.iter().map(|r| r.device.id.as_str()).collect();
            assert_eq!(ids.len(), s.len(), "no repeats");
            if n >= DeviceType::ALL.len() {
                assert_eq!(counts(&s).len(), DeviceType::ALL.len(), "{n}: every type");
            }
        }
        assert_eq!(sample_devices(&all, 100), sample_devices(&all, 100));
    }

    #[test]
    fn geometry_helpers() {
        let l = Line::new(vec![(0.0, 0.0), (100.0, 0.0), (100.0, 100.0)]);
        assert_eq!(l.len(), 200.0);
        assert_eq!(l.at(150.0), ((100.0, 50.0), (0.0, 1.0)));
        let (d, s) = l.nearest((50.0, 10.0));
        assert!((d - 10.0).abs() < 1e-9 && (s - 50.0).abs() < 1e-9);
        let m = Line::new(vec![(50.0, -10.0), (50.0, 10.0)]);
        assert_eq!(l.crossings(&m), vec![(50.0, 0.0)]);
        let ring = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        assert!(inside_ring(&ring, (5.0, 5.0)) && !inside_ring(&ring, (15.0, 5.0)));
        assert_eq!(bank_name((1.0, 0.0), 1.0), "北岸");
        assert_eq!(bank_name((-1.0, 0.0), 1.0), "南岸");
        assert_eq!(bank_name((0.0, 1.0), -1.0), "东岸");
    }
}
