//! The demo city (演示城市): everything `cityops demo` writes on first run, as one [`ImportBatch`].
//!
//! - Regions: the city, its districts with their official (approximate) outlines, and streets,
//!   communities and ~100 m unit grids derived by `cityops_geo::derive` (synthetic shapes, official
//!   codes and names).
//! - The GB/T 47678.5-2026 catalogue and the filing standards of [`crate::reference`].
//! - Departments: the 监督指挥中心, eleven city-level bureaus and companies, a 城管执法大队 and a
//!   环卫所 per district, and a 街道办事处 / 镇人民政府 per street.
//! - Users (password `cityops-demo`, hashed by the caller): see [`demo_accounts`].
//! - Components: `opts.components` synthetic but realistic assets along a synthetic street
//!   lattice over the urban core, with real category codes and 17-digit ids.
//!
//! Deterministic: the same options give the same batch (ChaCha8 seeded from `opts.seed`; no
//! hash-map order and no clock is involved).
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use cityops_domain::DepartmentKind as K;
use cityops_domain::{
    Category, CategoryKind, Component, ComponentId, ComponentStatus, DepartmentKind, Region,
    RegionLevel, Role,
};
use cityops_geo::RegionIndex;
use cityops_geo::derive::{DeriveParams, derive_city};
use cityops_store::{ImportBatch, NewDepartment, NewUser};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{DemoCity, ImportError, reference};

/// The password of every demo account (demo mode only).
pub const DEMO_PASSWORD: &str = "cityops-demo";
/// The seed `cityops demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 20_260_101;
/// The number of components of a default demo.
pub const DEFAULT_COMPONENTS: usize = 60_000;
/// Side of a derived unit grid (单元网格) in metres.
pub const GRID_CELL_M: f64 = 100.0;
/// Number of inspector accounts (`inspector1` …).
pub const INSPECTORS: usize = 10;

/// The last day of the synthetic component survey (普查); `surveyed_on` dates fall in the two
/// years before it. A constant (not "today") so that a build is reproducible.
pub fn survey_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap_or_default()
}

/// What demo to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    pub city: DemoCity,
    pub seed: u64,
    /// Number of components to generate (default 60,000).
    pub components: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            city: DemoCity::default(),
            seed: DEFAULT_SEED,
            components: DEFAULT_COMPONENTS,
        }
    }
}

impl DemoOptions {
    /// The default options for `city`.
    pub fn for_city(city: DemoCity) -> Self {
        Self {
            city,
            ..Self::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Departments and accounts

/// A demo department with the username of its handler account (none for the command centre,
/// whose staff are the intake, supervisor and dispatcher accounts).
struct DemoDepartment {
    dept: NewDepartment,
    handler: Option<String>,
}

/// The city-level bodies: (kind, name). Names follow the usual pattern of a prefecture-level city.
fn city_bodies(city: DemoCity) -> Vec<(DepartmentKind, String)> {
    let c = city.name_zh();
    let short = c.trim_end_matches('市');
    let power = match city {
        DemoCity::Huizhou => format!("广东电网有限责任公司{short}供电局"),
        DemoCity::Xiamen => format!("国网福建省电力有限公司{short}供电公司"),
        DemoCity::Bozhou => format!("国网安徽省电力有限公司{short}供电公司"),
    };
    vec![
        (
            DepartmentKind::CommandCentre,
            format!("{c}数字化城市管理监督指挥中心"),
        ),
        (DepartmentKind::Municipal, format!("{c}市政设施管理中心")),
        (DepartmentKind::Landscaping, format!("{c}园林绿化管理中心")),
        (DepartmentKind::Sanitation, format!("{c}环境卫生管理处")),
        (
            DepartmentKind::Enforcement,
            format!("{c}城市管理和综合执法局"),
        ),
        (DepartmentKind::WaterSupply, format!("{c}自来水公司")),
        (DepartmentKind::Gas, format!("{c}燃气有限公司")),
        (
            DepartmentKind::TrafficPolice,
            format!("{c}公安局交通警察支队"),
        ),
        (DepartmentKind::Housing, format!("{c}住房和城乡建设局")),
        (DepartmentKind::Drainage, format!("{c}排水管理处")),
        (DepartmentKind::Power, power),
        (
            DepartmentKind::Telecom,
            format!("中国电信股份有限公司{short}分公司"),
        ),
    ]
}

/// The code of a city-level body: `441300-municipal`.
fn city_dept_code(city: DemoCity, kind: DepartmentKind) -> String {
    format!("{}-{}", city.code(), kind.as_str())
}

/// The code of a district unit: `441302-enforcement` (城管执法大队), `441302-sanitation` (环卫所).
fn district_dept_code(district: &str, kind: DepartmentKind) -> String {
    format!("{district}-{}", kind.as_str())
}

/// The code of a street office: `441302001-street`.
fn street_dept_code(street: &str) -> String {
    format!("{street}-street")
}

/// 街道办事处 / 镇(乡)人民政府; other street-level units (林场, 开发区 …) keep their own name.
fn street_office_name(district_name: &str, street_name: &str) -> String {
    if street_name.ends_with("街道") {
        format!("{district_name}{street_name}办事处")
    } else if street_name.ends_with('镇') || street_name.ends_with('乡') {
        format!("{district_name}{street_name}人民政府")
    } else {
        street_name.to_string()
    }
}

/// All demo departments in a stable order (city bodies, district units, street offices by code).
fn demo_departments(city: DemoCity, divisions: &[Region]) -> Vec<DemoDepartment> {
    let mut out = Vec::new();
    for (kind, name) in city_bodies(city) {
        out.push(DemoDepartment {
            handler: (kind != DepartmentKind::CommandCentre)
                .then(|| format!("handler_{}", kind.as_str())),
            dept: NewDepartment {
                code: city_dept_code(city, kind),
                name,
                kind,
                region_code: city.code().to_string(),
                parent_code: None,
            },
        });
    }
    let mut districts: Vec<&Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::District)
        .collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    for d in &districts {
        for (kind, suffix) in [
            (DepartmentKind::Enforcement, "城管执法大队"),
            (DepartmentKind::Sanitation, "环卫所"),
        ] {
            out.push(DemoDepartment {
                handler: Some(format!("handler_{}_{}", d.code, kind.as_str())),
                dept: NewDepartment {
                    code: district_dept_code(&d.code, kind),
                    name: format!("{}{suffix}", d.name),
                    kind,
                    region_code: d.code.clone(),
                    parent_code: Some(city_dept_code(city, kind)),
                },
            });
        }
    }
    let district_names: HashMap<&str, &str> = districts
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let mut streets: Vec<&Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::Street)
        .collect();
    streets.sort_by(|a, b| a.code.cmp(&b.code));
    for s in streets {
        let district_name = district_names.get(&s.code[..6]).copied().unwrap_or("");
        out.push(DemoDepartment {
            handler: Some(format!("handler_{}", s.code)),
            dept: NewDepartment {
                code: street_dept_code(&s.code),
                name: street_office_name(district_name, &s.name),
                kind: DepartmentKind::StreetOffice,
                region_code: s.code.clone(),
                parent_code: None,
            },
        });
    }
    out
}

/// The fixed command-centre accounts: (username, display name, role, department kind or none,
/// label). All are city-wide.
fn staff_accounts() -> [(&'static str, &'static str, Role, Option<DepartmentKind>); 9] {
    [
        ("admin", "系统管理员", Role::Admin, None),
        (
            "intake",
            "受理员",
            Role::Intake,
            Some(DepartmentKind::CommandCentre),
        ),
        (
            "supervisor",
            "值班长",
            Role::Supervisor,
            Some(DepartmentKind::CommandCentre),
        ),
        (
            "dispatcher",
            "派遣员",
            Role::Dispatcher,
            Some(DepartmentKind::CommandCentre),
        ),
        ("leader", "领导", Role::Leader, None),
        ("reviewer1", "第三方评价员1", Role::Reviewer, None),
        // The device gateway that posts telemetry over HTTP (`cityops simulate --http`).
        ("gateway", "物联网关", Role::Gateway, None),
        // 一码管全域: a street-front shop's responsible party (责任人, self-checks by phone) and a
        // city-wide enforcement officer (inspections). No department: the demo history's
        // department handlers stay who they were.
        ("shop1", "沿街商铺责任人", Role::ResponsibleParty, None),
        ("enforcer1", "执法队员", Role::Enforcement, None),
    ]
}

/// The demo accounts for the start-up banner: (username, role and department label). They all
/// use the password [`DEMO_PASSWORD`]:
/// - `admin` (管理员, whole deployment), `intake` (受理员), `supervisor` (值班长), `dispatcher`
///   (派遣员) — command centre, city-wide; `leader` (领导) and `reviewer1` (第三方评价员),
///   city-wide; `gateway` (物联网关: may only post telemetry); `shop1` (责任人: a street-front
///   shop's responsible party, self-checks its objects) and `enforcer1` (执法队员, city-wide:
///   inspects objects);
/// - `inspector1` … `inspector10` (监督员): one community of the urban core each, with its grids;
///   every other community of the gridded core has its grid inspector (网格员)
///   `inspector-<12-digit community code>` (not listed here: they depend on the derived grids;
///   [`crate::accounts`] writes the full list);
/// - one handler (处置单位) per department: `handler_<kind>` for a city bureau (e.g.
///   `handler_municipal`, `handler_water_supply`), `handler_<district>_enforcement` /
///   `handler_<district>_sanitation` for a district's 城管执法大队 / 环卫所, and
///   `handler_<street code>` for a street office.
pub fn demo_accounts(city: DemoCity) -> Vec<(String, String)> {
    let divisions = reference::divisions(city);
    let centre = city_bodies(city)
        .into_iter()
        .find(|(k, _)| *k == DepartmentKind::CommandCentre)
        .map(|(_, n)| n);
    let mut out = Vec::new();
    for (username, _, role, dept) in staff_accounts() {
        let label = match (dept, &centre) {
            (Some(_), Some(c)) => format!("{} {} · {c}", role.name_zh(), role.as_str()),
            _ => format!("{} {} · {}", role.name_zh(), role.as_str(), city.name_zh()),
        };
        out.push((username.to_string(), label));
    }
    for i in 1..=INSPECTORS {
        out.push((
            format!("inspector{i}"),
            format!(
                "{} inspector · 核心城区一个社区的单元网格",
                Role::Inspector.name_zh()
            ),
        ));
    }
    for d in demo_departments(city, &divisions) {
        if let Some(h) = d.handler {
            out.push((
                h,
                format!("{} handler · {}", Role::Handler.name_zh(), d.dept.name),
            ));
        }
    }
    out
}

/// The username of the grid inspector (网格员) of a community: `inspector-441302001001`.
pub fn grid_inspector_username(community_code: &str) -> String {
    format!("inspector-{community_code}")
}

/// The accounts in a stable order: the command centre and city-wide staff, `inspector1` …
/// `inspector10`, the grid inspectors of the other gridded communities by community code, the
/// handlers by department order.
fn users(
    city: DemoCity,
    departments: &[DemoDepartment],
    inspector_areas: &[(String, Vec<String>)],
    grid_communities: &BTreeMap<String, Vec<String>>,
    community_names: &HashMap<&str, &str>,
    password_hash: &str,
) -> Vec<NewUser> {
    let mut out = Vec::new();
    let centre = city_dept_code(city, DepartmentKind::CommandCentre);
    for (username, display, role, dept) in staff_accounts() {
        let (region_code, department_code) = match (role, dept) {
            (Role::Admin, _) => (None, None),
            (_, Some(kind)) => (
                Some(city.code().to_string()),
                Some(city_dept_code(city, kind)),
            ),
            (_, None) => (Some(city.code().to_string()), None),
        };
        out.push(NewUser {
            username: username.to_string(),
            display_name: display.to_string(),
            password_hash: password_hash.to_string(),
            roles: vec![role],
            region_code,
            department_code,
            grids: Vec::new(),
        });
    }
    for (i, (community, grids)) in inspector_areas.iter().enumerate() {
        out.push(NewUser {
            username: format!("inspector{}", i + 1),
            display_name: format!("监督员{}", i + 1),
            password_hash: password_hash.to_string(),
            roles: vec![Role::Inspector],
            region_code: Some(community.clone()),
            department_code: Some(centre.clone()),
            grids: grids.clone(),
        });
    }
    // Every other community of the gridded core: its grid inspector (网格员).
    let named: BTreeSet<&str> = inspector_areas.iter().map(|(c, _)| c.as_str()).collect();
    for (community, grids) in grid_communities {
        if named.contains(community.as_str()) {
            continue;
        }
        let name = community_names
            .get(community.as_str())
            .copied()
            .unwrap_or(community.as_str());
        out.push(NewUser {
            username: grid_inspector_username(community),
            display_name: format!("{name}网格员"),
            password_hash: password_hash.to_string(),
            roles: vec![Role::Inspector],
            region_code: Some(community.clone()),
            department_code: Some(centre.clone()),
            grids: grids.clone(),
        });
    }
    for d in departments {
        if let Some(h) = &d.handler {
            out.push(NewUser {
                username: h.clone(),
                display_name: format!("{}处置员", d.dept.name),
                password_hash: password_hash.to_string(),
                roles: vec![Role::Handler],
                region_code: Some(d.dept.region_code.clone()),
                department_code: Some(d.dept.code.clone()),
                grids: Vec::new(),
            });
        }
    }
    out
}

/// Every community of the gridded core (those with unit grids) with its grid codes, sorted.
fn grid_communities(grids: &[Region]) -> BTreeMap<String, Vec<String>> {
    let mut by_community: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in grids {
        if let Some(p) = &g.parent_code {
            by_community
                .entry(p.clone())
                .or_default()
                .push(g.code.clone());
        }
    }
    for list in by_community.values_mut() {
        list.sort();
    }
    by_community
}

/// Picks [`INSPECTORS`] communities of the core (those with unit grids), each with its grid
/// codes: shared out over the districts in turn, and evenly over the code order within a
/// district. Communities cut by the edge of the core (fewer than 20 grids) are used only when
/// there are not enough whole ones.
fn inspector_areas(by_community: &BTreeMap<String, Vec<String>>) -> Vec<(String, Vec<String>)> {
    let whole = by_community.values().filter(|g| g.len() >= 20).count();
    let min_grids = if whole >= INSPECTORS { 20 } else { 1 };
    let mut by_district: BTreeMap<&str, Vec<(&str, &Vec<String>)>> = BTreeMap::new();
    for (c, g) in by_community {
        if g.len() >= min_grids {
            by_district
                .entry(c.get(..6).unwrap_or(c))
                .or_default()
                .push((c, g));
        }
    }
    // How many inspectors each district gets: one each in turn while it has communities left.
    let mut quota: BTreeMap<&str, usize> = by_district.keys().map(|d| (*d, 0)).collect();
    let mut assigned = 0;
    while assigned < INSPECTORS {
        let before = assigned;
        for (d, list) in &by_district {
            let q = quota.entry(d).or_default();
            if assigned < INSPECTORS && *q < list.len() {
                *q += 1;
                assigned += 1;
            }
        }
        if assigned == before {
            break;
        }
    }
    let mut out = Vec::with_capacity(INSPECTORS);
    for (d, list) in &by_district {
        let k = quota.get(d).copied().unwrap_or(0);
        for j in 0..k {
            let (c, g) = list[j * list.len() / k];
            let mut g = g.clone();
            g.sort();
            out.push((c.to_string(), g));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Components

/// Where along a road a component stands, as a lateral offset from the road's centre line.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// On the carriageway (most manhole covers).
    Carriageway,
    /// At the kerb (gully gratings, bollards, bus stops, signals).
    Kerb,
    /// On the pavement (lamps, trees, bins, signs, hydrants).
    Pavement,
    /// In front of the buildings (shop signs, toilets, kiosks, benches).
    Frontage,
}

/// Who owns (权属单位) and maintains (养护单位) a category.
#[derive(Debug, Clone, Copy)]
enum Keeper {
    /// A city-level body owns and maintains it.
    City(DepartmentKind),
    /// A city bureau owns it, the district unit of the same kind (城管执法大队 / 环卫所) maintains it.
    CityDistrict(DepartmentKind),
    /// The street office where it stands (属地管理).
    Street,
}

/// One category of the demo mix: code, share (relative weight), placement, keeper, and how they
/// come in rows along a road (min, max per row, spacing in metres).
struct Mix {
    code: &'static str,
    weight: f64,
    place: Place,
    keeper: Keeper,
    row: (u32, u32, f64),
}

const fn mix(
    code: &'static str,
    weight: f64,
    place: Place,
    keeper: Keeper,
    row: (u32, u32, f64),
) -> Mix {
    Mix {
        code,
        weight,
        place,
        keeper,
        row,
    }
}

const SINGLE: (u32, u32, f64) = (1, 1, 0.0);

/// The category mix of the demo components, roughly that of a city-centre survey (普查): covers
/// and gratings, lamps and street trees dominate.
#[rustfmt::skip]
const MIX: &[Mix] = &[
    // 01 市政公用设施
    mix("01001", 6.0, Place::Carriageway, Keeper::City(K::WaterSupply), SINGLE),          // 供水井盖
    mix("01002", 7.0, Place::Carriageway, Keeper::City(K::Drainage), SINGLE),             // 污水井盖
    mix("01003", 6.0, Place::Carriageway, Keeper::City(K::Drainage), SINGLE),             // 雨水井盖
    mix("01004", 9.0, Place::Kerb, Keeper::City(K::Drainage), (1, 4, 30.0)),              // 雨水箅子
    mix("01005", 3.5, Place::Pavement, Keeper::City(K::Power), SINGLE),                   // 电力井盖
    mix("01006", 2.0, Place::Pavement, Keeper::City(K::Municipal), SINGLE),               // 路灯井盖
    mix("01007", 4.0, Place::Pavement, Keeper::City(K::Telecom), SINGLE),                 // 通信井盖
    mix("01011", 2.5, Place::Carriageway, Keeper::City(K::Gas), SINGLE),                  // 燃气井盖
    mix("01018", 1.0, Place::Frontage, Keeper::CityDistrict(K::Sanitation), SINGLE),      // 化粪池井盖
    mix("01013", 1.5, Place::Pavement, Keeper::City(K::WaterSupply), SINGLE),             // 消防设施 (消火栓)
    mix("01027", 0.6, Place::Pavement, Keeper::City(K::Telecom), SINGLE),                 // 通信交接箱
    mix("01028", 0.6, Place::Pavement, Keeper::City(K::Power), SINGLE),                   // 电力设施
    mix("01030", 1.2, Place::Pavement, Keeper::City(K::Power), (1, 5, 40.0)),             // 电力立杆
    mix("01037", 11.0, Place::Pavement, Keeper::City(K::Municipal), (3, 10, 30.0)),       // 路灯
    mix("01048", 0.5, Place::Frontage, Keeper::City(K::Power), SINGLE),                   // 变压器（箱）
    mix("01049", 0.2, Place::Frontage, Keeper::City(K::Gas), SINGLE),                     // 燃气调压站（箱）
    mix("01050", 0.8, Place::Pavement, Keeper::City(K::TrafficPolice), SINGLE),           // 监控电子眼设施
    mix("01054", 0.5, Place::Frontage, Keeper::City(K::Power), (2, 6, 4.0)),              // 充电桩
    mix("01060", 0.4, Place::Pavement, Keeper::City(K::Municipal), SINGLE),               // 路灯配电箱
    mix("01046", 0.3, Place::Frontage, Keeper::Street, (2, 5, 5.0)),                      // 户外健身设施
    mix("01075", 0.3, Place::Frontage, Keeper::Street, SINGLE),                           // 快递柜
    // 02 交通设施
    mix("02004", 0.8, Place::Kerb, Keeper::City(K::Municipal), SINGLE),                   // 公交站设施
    mix("02010", 2.5, Place::Pavement, Keeper::City(K::TrafficPolice), SINGLE),           // 交通标志牌及标线
    mix("02012", 0.8, Place::Pavement, Keeper::City(K::Municipal), SINGLE),               // 路名牌
    mix("02014", 0.6, Place::Kerb, Keeper::City(K::TrafficPolice), (2, 4, 20.0)),         // 交通信号灯
    mix("02017", 1.5, Place::Carriageway, Keeper::City(K::TrafficPolice), (2, 6, 50.0)),  // 交通护栏
    mix("02021", 1.5, Place::Kerb, Keeper::City(K::Municipal), (3, 8, 1.5)),              // 便道桩
    mix("02025", 0.5, Place::Pavement, Keeper::Street, SINGLE),                           // 非机动车停放点
    // 03 市容环卫设施
    mix("03001", 0.2, Place::Frontage, Keeper::CityDistrict(K::Sanitation), SINGLE),      // 公共厕所
    mix("03005", 5.0, Place::Pavement, Keeper::CityDistrict(K::Sanitation), (1, 3, 50.0)), // 垃圾箱
    mix("03006", 1.2, Place::Frontage, Keeper::CityDistrict(K::Enforcement), SINGLE),     // 户外广告
    mix("03007", 2.0, Place::Frontage, Keeper::CityDistrict(K::Enforcement), (2, 8, 8.0)), // 牌匾标识
    mix("03008", 0.3, Place::Frontage, Keeper::Street, SINGLE),                           // 宣传栏
    // 04 园林绿化设施
    mix("04001", 0.05, Place::Frontage, Keeper::City(K::Landscaping), SINGLE),            // 古树名木
    mix("04002", 14.0, Place::Pavement, Keeper::City(K::Landscaping), (5, 20, 7.0)),      // 行道树
    mix("04003", 1.0, Place::Frontage, Keeper::City(K::Landscaping), SINGLE),             // 独立树
    mix("04004", 0.5, Place::Pavement, Keeper::City(K::Landscaping), SINGLE),             // 护树设施
    mix("04007", 0.8, Place::Frontage, Keeper::City(K::Landscaping), (1, 3, 10.0)),       // 街头座椅
    mix("04008", 0.5, Place::Frontage, Keeper::City(K::Landscaping), SINGLE),             // 绿地护栏
    mix("04011", 1.5, Place::Pavement, Keeper::City(K::Landscaping), (2, 6, 7.0)),        // 树池树穴
];

/// Splits `total` over the mix by weight, exactly (largest remainder).
fn allocate(total: usize) -> Vec<usize> {
    let sum: f64 = MIX.iter().map(|m| m.weight).sum();
    let exact: Vec<f64> = MIX.iter().map(|m| m.weight / sum * total as f64).collect();
    let mut n: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut rest: Vec<usize> = (0..MIX.len()).collect();
    rest.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = total - n.iter().sum::<usize>();
    for &i in rest.iter().take(missing) {
        n[i] += 1;
    }
    n
}

/// A local metric frame around the centre of the core (x east, y north, metres); the demo's
/// lattice and the devices (`devices.rs`) are placed in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    lng0: f64,
    lat0: f64,
    mx: f64,
    my: f64,
}

impl Frame {
    pub(crate) fn new(lng0: f64, lat0: f64) -> Self {
        let my = 111_320.0;
        Self {
            lng0,
            lat0,
            mx: my * lat0.to_radians().cos(),
            my,
        }
    }
    fn to_xy(self, lng: f64, lat: f64) -> (f64, f64) {
        ((lng - self.lng0) * self.mx, (lat - self.lat0) * self.my)
    }
    fn to_lng_lat(self, x: f64, y: f64) -> (f64, f64) {
        (self.lng0 + x / self.mx, self.lat0 + y / self.my)
    }
    /// [`Frame::to_xy`] of a `(lng, lat)` pair.
    pub(crate) fn xy(self, (lng, lat): (f64, f64)) -> (f64, f64) {
        self.to_xy(lng, lat)
    }
    /// [`Frame::to_lng_lat`] of an `(x, y)` pair.
    pub(crate) fn lng_lat(self, (x, y): (f64, f64)) -> (f64, f64) {
        self.to_lng_lat(x, y)
    }
}

/// One straight road of the synthetic lattice, in the local frame.
#[derive(Debug, Clone, Copy)]
struct Road {
    start: (f64, f64),
    /// Unit direction.
    dir: (f64, f64),
    len: f64,
    half_width: f64,
}

/// Clips the segment p + t·d, t ∈ [t0, t1], to a rectangle (Liang–Barsky); returns the t range.
fn clip(p: (f64, f64), d: (f64, f64), t0: f64, t1: f64, rect: [f64; 4]) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (t0, t1);
    for (pi, di, min, max) in [(p.0, d.0, rect[0], rect[2]), (p.1, d.1, rect[1], rect[3])] {
        if di.abs() < 1e-12 {
            if pi < min || pi > max {
                return None;
            }
            continue;
        }
        let (a, b) = ((min - pi) / di, (max - pi) / di);
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        lo = lo.max(a);
        hi = hi.min(b);
        if lo >= hi {
            return None;
        }
    }
    Some((lo, hi))
}

/// A lattice of straight roads over `rect` (local frame), turned by a small seeded angle: two
/// families of parallel roads 160–380 m apart, one in five an arterial road (主干道, 30 m wide),
/// the others branch roads (支路, 12–16 m).
fn street_lattice(rng: &mut ChaCha8Rng, rect: [f64; 4]) -> Vec<Road> {
    let angle = rng.random_range(-0.35f64..0.35);
    let radius = (rect[2] - rect[0]).hypot(rect[3] - rect[1]) / 2.0 + 500.0;
    let centre = ((rect[0] + rect[2]) / 2.0, (rect[1] + rect[3]) / 2.0);
    let mut roads = Vec::new();
    for family in 0..2 {
        let a = angle + f64::from(family) * std::f64::consts::FRAC_PI_2;
        let dir = (a.cos(), a.sin());
        let normal = (-dir.1, dir.0);
        let mut v = -radius + rng.random_range(0.0..200.0);
        while v < radius {
            let p = (
                centre.0 + normal.0 * v - dir.0 * radius,
                centre.1 + normal.1 * v - dir.1 * radius,
            );
            let arterial = rng.random_bool(0.2);
            let half_width = if arterial {
                15.0
            } else {
                rng.random_range(6.0..8.0)
            };
            if let Some((t0, t1)) = clip(p, dir, 0.0, 2.0 * radius, rect) {
                roads.push(Road {
                    start: (p.0 + dir.0 * t0, p.1 + dir.1 * t0),
                    dir,
                    len: t1 - t0,
                    half_width,
                });
            }
            v += rng.random_range(160.0..380.0);
        }
    }
    roads
}

/// Generates `counts[i]` points of `MIX[i]` along the lattice, each inside a district (retried
/// otherwise), denser towards the centre of the core.
struct Placer<'a> {
    frame: Frame,
    roads: Vec<Road>,
    /// Cumulative road weight, for picking a road by length.
    cumulative: Vec<f64>,
    core: [f64; 4],
    index: &'a RegionIndex,
}

impl Placer<'_> {
    fn pick_road(&self, rng: &mut ChaCha8Rng) -> Road {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random_range(0.0..total);
        let i = self
            .cumulative
            .partition_point(|&c| c <= x)
            .min(self.roads.len() - 1);
        self.roads[i]
    }

    /// The chance to keep a point at (x, y): 1 at the centre of the core, about 0.5 at the middle
    /// of its edges, a third of that beyond them.
    fn keep_probability(&self, x: f64, y: f64) -> f64 {
        let hx = (self.core[2] - self.core[0]) / 2.0;
        let hy = (self.core[3] - self.core[1]) / 2.0;
        let d2 = (x / hx).powi(2) + (y / hy).powi(2);
        let p = 0.2 + 0.8 * (-d2 / 1.2).exp();
        if x.abs() > hx || y.abs() > hy {
            p / 3.0
        } else {
            p
        }
    }

    fn lateral(place: Place, half_width: f64, rng: &mut ChaCha8Rng) -> f64 {
        match place {
            Place::Carriageway => rng.random_range(0.5..(half_width - 0.5)),
            Place::Kerb => half_width + rng.random_range(-0.4..0.4),
            Place::Pavement => half_width + rng.random_range(1.0..3.5),
            Place::Frontage => half_width + rng.random_range(4.0..12.0),
        }
    }

    /// `n` points for one category.
    fn place(
        &self,
        m: &Mix,
        n: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<(f64, f64, cityops_geo::LocationBuf)>, ImportError> {
        let mut out = Vec::with_capacity(n);
        let mut misses = 0usize;
        while out.len() < n {
            let road = self.pick_road(rng);
            let along0 = rng.random_range(0.0..road.len);
            let (cx, cy) = (
                road.start.0 + road.dir.0 * along0,
                road.start.1 + road.dir.1 * along0,
            );
            if !rng.random_bool(self.keep_probability(cx, cy)) {
                continue;
            }
            let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let (lo, hi, spacing) = m.row;
            let k = if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            };
            for j in 0..k {
                if out.len() >= n {
                    break;
                }
                let along = along0 + f64::from(j) * spacing + rng.random_range(-0.3..0.3);
                if along > road.len {
                    break;
                }
                let off = side * Self::lateral(m.place, road.half_width, rng);
                let normal = (-road.dir.1, road.dir.0);
                let x = road.start.0 + road.dir.0 * along + normal.0 * off;
                let y = road.start.1 + road.dir.1 * along + normal.1 * off;
                let (lng, lat) = self.frame.to_lng_lat(x, y);
                let (lng, lat) = (round7(lng), round7(lat));
                match self.index.locate(lng, lat).map(|l| l.into_owned()) {
                    Some(loc) => {
                        misses = 0;
                        out.push((lng, lat, loc));
                    }
                    None => {
                        misses += 1;
                        if misses > 10_000 {
                            return Err(ImportError::Demo(format!(
                                "cannot place {} components inside the districts around the core",
                                m.code
                            )));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// A ChaCha8 stream for one purpose, derived from the demo seed and a label.
fn rng_for(seed: u64, label: &str) -> ChaCha8Rng {
    // FNV-1a of the label, mixed with the seed: stable across platforms and releases.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(seed ^ h.rotate_left(17))
}

fn random_status(rng: &mut ChaCha8Rng) -> ComponentStatus {
    let x: f64 = rng.random();
    if x < 0.93 {
        ComponentStatus::Intact
    } else if x < 0.98 {
        ComponentStatus::Damaged
    } else if x < 0.99 {
        ComponentStatus::Lost
    } else {
        ComponentStatus::Abandoned
    }
}

fn components(
    city: DemoCity,
    seed: u64,
    total: usize,
    index: &RegionIndex,
    categories: &[Category],
    street_offices: &BTreeSet<String>,
) -> Result<Vec<Component>, ImportError> {
    let core = city.core_bbox();
    let frame = Frame::new((core[0] + core[2]) / 2.0, (core[1] + core[3]) / 2.0);
    let (x0, y0) = frame.to_xy(core[0], core[1]);
    let (x1, y1) = frame.to_xy(core[2], core[3]);
    // "In and around the core": the lattice reaches 600 m beyond it.
    let rect = [x0 - 600.0, y0 - 600.0, x1 + 600.0, y1 + 600.0];
    let mut lattice_rng = rng_for(seed, "street-lattice");
    let roads = street_lattice(&mut lattice_rng, rect);
    if roads.is_empty() {
        return Err(ImportError::Demo("the street lattice is empty".into()));
    }
    let mut acc = 0.0;
    let cumulative = roads
        .iter()
        .map(|r| {
            acc += r.len * if r.half_width >= 15.0 { 1.5 } else { 1.0 };
            acc
        })
        .collect();
    let placer = Placer {
        frame,
        roads,
        cumulative,
        core: [x0, y0, x1, y1],
        index,
    };

    let names: HashMap<&str, &str> = categories
        .iter()
        .filter(|c| c.kind == CategoryKind::Component)
        .map(|c| (c.code.as_str(), c.name.as_str()))
        .collect();
    let end = survey_end();
    let mut out = Vec::with_capacity(total);
    for (m, n) in MIX.iter().zip(allocate(total)) {
        if n == 0 {
            continue;
        }
        let name = *names.get(m.code).ok_or_else(|| {
            ImportError::Demo(format!(
                "component category {} is not in the catalogue",
                m.code
            ))
        })?;
        let mut rng = rng_for(seed, m.code);
        let mut points = placer.place(m, n, &mut rng)?;
        // Number north→south, west→east within each district, like unit grids.
        points.sort_by(|a, b| {
            a.2.district_code
                .cmp(&b.2.district_code)
                .then(b.1.total_cmp(&a.1))
                .then(a.0.total_cmp(&b.0))
        });
        let mut seq: BTreeMap<String, u32> = BTreeMap::new();
        for (lng, lat, loc) in points {
            let s = seq.entry(loc.district_code.clone()).or_insert(0);
            *s += 1;
            let id = ComponentId::new(&loc.district_code, m.code, *s)
                .map_err(|e| ImportError::Demo(e.to_string()))?;
            let (owner, maintainer) = match m.keeper {
                Keeper::City(kind) => {
                    let c = city_dept_code(city, kind);
                    (c.clone(), c)
                }
                Keeper::CityDistrict(kind) => (
                    city_dept_code(city, kind),
                    district_dept_code(&loc.district_code, kind),
                ),
                Keeper::Street => {
                    let office = loc
                        .street_code
                        .as_deref()
                        .map(street_dept_code)
                        .filter(|c| street_offices.contains(c))
                        .unwrap_or_else(|| city_dept_code(city, DepartmentKind::Municipal));
                    (office.clone(), office)
                }
            };
            let days_ago = rng.random_range(0..730u64);
            out.push(Component {
                id,
                category_code: m.code.to_string(),
                name: name.to_string(),
                lng,
                lat,
                grid_code: loc.grid_code,
                community_code: loc.community_code,
                owner_department: Some(owner),
                maintainer_department: Some(maintainer),
                status: random_status(&mut rng),
                surveyed_on: end.checked_sub_days(Days::new(days_ago)).unwrap_or(end),
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The batch

/// Builds the whole demo city as one import batch; `password_hash` (an argon2id PHC string of
/// [`DEMO_PASSWORD`], computed by the caller) is used for every account.
pub fn build_demo(opts: &DemoOptions, password_hash: &str) -> Result<ImportBatch, ImportError> {
    let city = opts.city;
    let divisions = reference::divisions(city);
    let districts = reference::districts(city);
    let streets: Vec<Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::Street)
        .cloned()
        .collect();
    let communities: Vec<Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::Community)
        .cloned()
        .collect();
    let params = DeriveParams {
        core_bbox: city.core_bbox(),
        cell_size_m: GRID_CELL_M,
        seed: opts.seed,
    };
    let derived = derive_city(&districts, &streets, &communities, &params).map_err(|e| {
        ImportError::Demo(format!(
            "deriving the streets, communities and grids of {city}: {e}"
        ))
    })?;
    let index = RegionIndex::build(
        &districts,
        &derived.streets,
        &derived.communities,
        &derived.grids,
    )
    .map_err(|e| ImportError::Demo(format!("indexing the regions of {city}: {e}")))?;

    // The city: no outline of its own (the districts tile it); bbox and area from the districts.
    let city_row = divisions
        .iter()
        .find(|r| r.level == RegionLevel::City)
        .cloned()
        .ok_or_else(|| ImportError::Demo(format!("the divisions of {city} have no city row")))?;
    let bbox = districts.iter().filter_map(|d| d.bbox).reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    });
    let core = city.core_bbox();
    let core_centre = ((core[0] + core[2]) / 2.0, (core[1] + core[3]) / 2.0);
    let center = if index.locate(core_centre.0, core_centre.1).is_some() {
        Some(cityops_domain::LngLat {
            lng: core_centre.0,
            lat: core_centre.1,
        })
    } else {
        districts.first().and_then(|d| d.center)
    };
    let city_region = Region {
        bbox,
        center,
        area_m2: Some(districts.iter().filter_map(|d| d.area_m2).sum()),
        ..city_row
    };

    // Official divisions the derivation left without a polygon stay in the tree without one.
    let derived_codes: BTreeSet<&str> = derived
        .streets
        .iter()
        .chain(&derived.communities)
        .map(|r| r.code.as_str())
        .collect();
    let undrawn: Vec<Region> = streets
        .iter()
        .chain(&communities)
        .filter(|r| !derived_codes.contains(r.code.as_str()))
        .cloned()
        .collect();

    let mut regions = Vec::with_capacity(
        1 + districts.len()
            + derived.streets.len()
            + derived.communities.len()
            + derived.grids.len(),
    );
    regions.push(city_region);
    regions.extend(districts.iter().cloned());
    regions.extend(derived.streets.iter().cloned());
    regions.extend(derived.communities.iter().cloned());
    regions.extend(undrawn);
    regions.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
    let grids_start = regions.len();
    regions.extend(derived.grids.iter().cloned());
    regions[grids_start..].sort_by(|a, b| a.code.cmp(&b.code));

    let categories = reference::categories();
    let filing_standards = reference::filing_standards();
    let departments = demo_departments(city, &divisions);
    let street_offices: BTreeSet<String> = departments
        .iter()
        .filter(|d| d.dept.kind == DepartmentKind::StreetOffice)
        .map(|d| d.dept.code.clone())
        .collect();
    let gridded = grid_communities(&derived.grids);
    let areas = inspector_areas(&gridded);
    if areas.len() < INSPECTORS {
        return Err(ImportError::Demo(format!(
            "the core of {city} has no unit grids for the inspectors"
        )));
    }
    let community_names: HashMap<&str, &str> = communities
        .iter()
        .map(|c| (c.code.as_str(), c.name.as_str()))
        .collect();
    let users = users(
        city,
        &departments,
        &areas,
        &gridded,
        &community_names,
        password_hash,
    );
    let components = components(
        city,
        opts.seed,
        opts.components,
        &index,
        &categories,
        &street_offices,
    )?;
    Ok(ImportBatch {
        regions,
        categories,
        filing_standards,
        departments: departments.into_iter().map(|d| d.dept).collect(),
        users,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_codes_are_real_components() {
        let cats = reference::categories();
        let mut seen = BTreeSet::new();
        for m in MIX {
            assert!(
                cats.iter()
                    .any(|c| c.kind == CategoryKind::Component && c.code == m.code),
                "{} is not a GB/T 47678.5-2026 component",
                m.code
            );
            assert!(seen.insert(m.code), "{} twice", m.code);
            assert!(m.weight > 0.0 && m.row.0 >= 1 && m.row.1 >= m.row.0);
        }
    }

    #[test]
    fn allocation_is_exact() {
        for total in [0, 1, 7, 1000, 60_000, 123_457] {
            let n = allocate(total);
            assert_eq!(n.iter().sum::<usize>(), total);
        }
        let n = allocate(60_000);
        let trees = n[MIX.iter().position(|m| m.code == "04002").unwrap()];
        let hydrants = n[MIX.iter().position(|m| m.code == "01013").unwrap()];
        assert!(trees > 5 * hydrants, "{trees} {hydrants}");
    }

    #[test]
    fn lattice_covers_the_rectangle() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let rect = [-8000.0, -6000.0, 8000.0, 6000.0];
        let roads = street_lattice(&mut rng, rect);
        let total: f64 = roads.iter().map(|r| r.len).sum();
        // two families, 160–380 m apart: ≈ 2 × area / 270 m
        let expected = 2.0 * 16_000.0 * 12_000.0 / 270.0;
        assert!(
            total > 0.6 * expected && total < 1.6 * expected,
            "{total} vs {expected}"
        );
        for r in &roads {
            for t in [0.0, r.len] {
                let (x, y) = (r.start.0 + r.dir.0 * t, r.start.1 + r.dir.1 * t);
                assert!(
                    x >= rect[0] - 1e-6
                        && x <= rect[2] + 1e-6
                        && y >= rect[1] - 1e-6
                        && y <= rect[3] + 1e-6
                );
            }
        }
    }

    #[test]
    fn departments_and_accounts_are_stable() {
        let divisions = reference::divisions(DemoCity::Huizhou);
        let depts = demo_departments(DemoCity::Huizhou, &divisions);
        // 12 city bodies, 2 per district (5), 1 per street (84)
        assert_eq!(depts.len(), 12 + 10 + 84);
        let codes: BTreeSet<&str> = depts.iter().map(|d| d.dept.code.as_str()).collect();
        assert_eq!(codes.len(), depts.len(), "codes are unique");
        for d in &depts {
            if let Some(p) = &d.dept.parent_code {
                assert!(codes.contains(p.as_str()), "{p}");
            }
        }
        let get = |code: &str| depts.iter().find(|d| d.dept.code == code).unwrap();
        assert_eq!(
            get("441300-command_centre").dept.kind,
            DepartmentKind::CommandCentre
        );
        assert_eq!(get("441300-water_supply").dept.name, "惠州市自来水公司");
        assert_eq!(
            get("441300-power").dept.name,
            "广东电网有限责任公司惠州供电局"
        );
        let team = get("441302-enforcement");
        assert_eq!(
            (team.dept.name.as_str(), team.dept.parent_code.as_deref()),
            ("惠城区城管执法大队", Some("441300-enforcement"))
        );
        assert_eq!(get("441302-sanitation").dept.name, "惠城区环卫所");
        let street = get("441302001-street");
        assert_eq!(
            (street.dept.name.as_str(), street.dept.region_code.as_str()),
            ("惠城区桥东街道办事处", "441302001")
        );
        assert_eq!(street.handler.as_deref(), Some("handler_441302001"));
        assert!(depts.iter().any(|d| d.dept.name.ends_with("镇人民政府")));

        let accounts = demo_accounts(DemoCity::Huizhou);
        let names: Vec<&str> = accounts.iter().map(|(u, _)| u.as_str()).collect();
        for u in [
            "admin",
            "intake",
            "supervisor",
            "dispatcher",
            "leader",
            "reviewer1",
            "gateway",
            "shop1",
            "enforcer1",
            "inspector1",
            "inspector10",
            "handler_municipal",
            "handler_441302_sanitation",
        ] {
            assert!(names.contains(&u), "{u}");
        }
        assert_eq!(accounts.len(), 9 + INSPECTORS + depts.len() - 1);
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn xiamen_and_bozhou_power_companies() {
        assert!(
            city_bodies(DemoCity::Xiamen)
                .iter()
                .any(|(_, n)| n == "国网福建省电力有限公司厦门供电公司")
        );
        assert!(
            city_bodies(DemoCity::Bozhou)
                .iter()
                .any(|(_, n)| n == "中国电信股份有限公司亳州分公司")
        );
    }
}
