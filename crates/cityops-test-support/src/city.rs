//! The small hand-made fixture city (测试城市) of the web, console and application tests.
//!
//! 惠州市 → 惠城区 (a square) → one street with a polygon and one without → one community →
//! 2×2 square unit grids; a catalogue excerpt with the filing standards of one component
//! category, three departments, three users (`admin`, `inspector1`, `handler`) and five
//! components: [`batch`].
//!
//! The case-workflow city ([`case_batch`]) adds a second district (惠阳区, east of 惠城区) with
//! one grid, users of every role, a second department per district and a matter category
//! routed with 一键直达; [`routing_rules`] is its responsibility matrix.
use std::sync::Arc;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cityops_domain::{
    Category, CategoryKind, Component, ComponentId, ComponentStatus, DepartmentKind,
    FilingStandard, LimitUnit, LngLat, Region, RegionLevel, Role, TimeLimit,
};
use cityops_geo::RegionIndex;
use cityops_store::{ImportBatch, NewDepartment, NewUser, RoutingRule, Store};

/// The password the tests log in with (when the batch was built with [`cheap_hash`] of it).
pub const PASSWORD: &str = "correct horse battery";

/// A syntactically valid Argon2id PHC string that matches no password the tests use: for users
/// who never log in through the API.
pub const NO_LOGIN_HASH: &str =
    "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

/// West, south, east, north edges of the district (and of the 2×2 grid block).
pub const W: f64 = 114.40;
pub const S: f64 = 23.06;
pub const E: f64 = 114.44;
pub const N: f64 = 23.10;
pub const MID_LNG: f64 = 114.42;
pub const MID_LAT: f64 = 23.08;

pub const CITY: &str = "441300";
pub const DISTRICT: &str = "441302";
pub const STREET: &str = "441302001";
pub const STREET_NO_GEOMETRY: &str = "441302002";
pub const COMMUNITY: &str = "441302001001";
/// Grids numbered west → east, north → south.
pub const GRID_NW: &str = "441302001001001";
pub const GRID_NE: &str = "441302001001002";
pub const GRID_SW: &str = "441302001001003";
pub const GRID_SE: &str = "441302001001004";

/// The second district of the case-workflow city and its one street, community and grid (a
/// square east of 惠城区, from [`E`] to [`E_B`]).
pub const DISTRICT_B: &str = "441303";
pub const STREET_B: &str = "441303001";
pub const COMMUNITY_B: &str = "441303001001";
pub const GRID_B: &str = "441303001001001";
pub const E_B: f64 = 114.48;

/// A point in grid NW of district A, one in grid SE, one in district B.
pub const A_NW: (f64, f64) = (114.41, 23.09);
pub const A_SE: (f64, f64) = (114.43, 23.07);
pub const B_PT: (f64, f64) = (114.46, 23.08);

/// A matter category without a filing standard (default limit), routed with 一键直达.
pub const DIRECT: &str = "04001";

/// The roles that act for a department: the case-workflow city has each of them scoped to
/// district A as `a_<role>`, and also as `a_<role>_dept` in the district-A municipal department.
pub const DEPARTMENT_ROLES: [Role; 4] = [
    Role::Handler,
    Role::Enforcement,
    Role::ResponsibleParty,
    Role::LegalReviewer,
];

/// Monday 23 November 2026, 09:00 in Asia/Shanghai (01:00 UTC): where the tests' clocks start.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A cheap Argon2id hash of `password` (the server verifies with the parameters in the PHC
/// string, so logging in stays fast).
pub fn cheap_hash(password: &str) -> String {
    let params = Params::new(64, 1, 1, None).expect("valid Argon2 parameters");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash: PasswordHash = argon
        .hash_password(password.as_bytes())
        .expect("hashing a password");
    hash.to_string()
}

fn square(code: &str, level: RegionLevel, name: &str, parent: Option<&str>, b: [f64; 4]) -> Region {
    let [w, s, e, n] = b;
    let geometry = format!(
        r#"{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"#
    );
    // Small squares: metres per degree at 23° N.
    let area = (e - w) * 111_320.0 * 23.08_f64.to_radians().cos() * (n - s) * 110_574.0;
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent.map(str::to_string),
        geometry: Some(geometry),
        bbox: Some(b),
        center: Some(LngLat {
            lng: (w + e) / 2.0,
            lat: (s + n) / 2.0,
        }),
        area_m2: Some(area),
        synthetic: level != RegionLevel::District,
    }
}

fn bare(code: &str, level: RegionLevel, name: &str, parent: Option<&str>) -> Region {
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent.map(str::to_string),
        geometry: None,
        bbox: None,
        center: None,
        area_m2: None,
        synthetic: false,
    }
}

/// The regions of the city: 惠州市 (no polygon), 惠城区, its two streets (江北街道 without a
/// polygon), one community and the four grids.
pub fn regions() -> Vec<Region> {
    use RegionLevel::*;
    vec![
        bare(CITY, City, "惠州市", None),
        square(DISTRICT, District, "惠城区", Some(CITY), [W, S, E, N]),
        square(STREET, Street, "桥东街道", Some(DISTRICT), [W, S, E, N]),
        bare(STREET_NO_GEOMETRY, Street, "江北街道", Some(DISTRICT)),
        square(COMMUNITY, Community, "府城社区", Some(STREET), [W, S, E, N]),
        square(
            GRID_NW,
            Grid,
            "府城社区001网格",
            Some(COMMUNITY),
            [W, MID_LAT, MID_LNG, N],
        ),
        square(
            GRID_NE,
            Grid,
            "府城社区002网格",
            Some(COMMUNITY),
            [MID_LNG, MID_LAT, E, N],
        ),
        square(
            GRID_SW,
            Grid,
            "府城社区003网格",
            Some(COMMUNITY),
            [W, S, MID_LNG, MID_LAT],
        ),
        square(
            GRID_SE,
            Grid,
            "府城社区004网格",
            Some(COMMUNITY),
            [MID_LNG, S, E, MID_LAT],
        ),
    ]
}

fn category(
    kind: CategoryKind,
    code: &str,
    class_name: &str,
    name: &str,
    old: Option<&str>,
) -> Category {
    Category {
        kind,
        code: code.to_string(),
        class_code: code[..2].to_string(),
        class_name: class_name.to_string(),
        name: name.to_string(),
        old_code: old.map(str::to_string),
    }
}

fn standard(seq: u32, condition: &str, value: u32, unit: LimitUnit, text: &str) -> FilingStandard {
    FilingStandard {
        kind: CategoryKind::Component,
        code: "01001".to_string(),
        seq,
        filing_condition: condition.to_string(),
        limit: TimeLimit { value, unit },
        limit_text: text.to_string(),
        closure_condition: "井盖完好归位".to_string(),
        old_code: Some("0101".to_string()),
        source: "yuncheng".to_string(),
    }
}

fn department(
    code: &str,
    name: &str,
    kind: DepartmentKind,
    region: &str,
    parent: Option<&str>,
) -> NewDepartment {
    NewDepartment {
        code: code.to_string(),
        name: name.to_string(),
        kind,
        region_code: region.to_string(),
        parent_code: parent.map(str::to_string),
    }
}

fn user(
    username: &str,
    name: &str,
    roles: Vec<Role>,
    region: Option<&str>,
    dept: Option<&str>,
    grids: &[&str],
    password_hash: &str,
) -> NewUser {
    NewUser {
        username: username.to_string(),
        display_name: name.to_string(),
        password_hash: password_hash.to_string(),
        roles,
        region_code: region.map(str::to_string),
        department_code: dept.map(str::to_string),
        grids: grids.iter().map(|g| g.to_string()).collect(),
    }
}

/// Component `seq` of category `cat` in 惠城区, owned by the district's municipal department;
/// number 2 of a category is damaged, the others intact.
fn component(cat: &str, seq: u32, lng: f64, lat: f64, grid: &str) -> Component {
    Component {
        id: ComponentId::new(DISTRICT, cat, seq).expect("a valid fixture component id"),
        category_code: cat.to_string(),
        name: format!("部件{cat}-{seq}"),
        lng,
        lat,
        grid_code: Some(grid.to_string()),
        community_code: Some(COMMUNITY.to_string()),
        owner_department: Some("441302-municipal".to_string()),
        maintainer_department: (cat == "02001").then(|| "441300-command".to_string()),
        status: if seq == 2 {
            ComponentStatus::Damaged
        } else {
            ComponentStatus::Intact
        },
        surveyed_on: NaiveDate::from_ymd_opt(2026, 5, 1).expect("a valid date"),
    }
}

/// The whole city as one import; every user carries `password_hash` (e.g.
/// `cheap_hash(PASSWORD)`, or [`NO_LOGIN_HASH`]).
pub fn batch(password_hash: &str) -> ImportBatch {
    use CategoryKind::{Component as Part, Matter};
    ImportBatch {
        regions: regions(),
        categories: vec![
            category(Part, "01001", "公用设施", "上水井盖", Some("0101")),
            category(Part, "01002", "公用设施", "污水井盖", None),
            category(Part, "02001", "道路交通", "停车场", None),
            category(Matter, "01001", "市容环境", "私搭乱建", Some("0101")),
        ],
        filing_standards: vec![
            standard(0, "井盖缺失", 2, LimitUnit::UrgentHour, "2紧急工作时"),
            standard(1, "井盖破损、移位", 1, LimitUnit::WorkDay, "1工作日"),
        ],
        departments: vec![
            department(
                "441300-command",
                "惠州市城市运行管理服务中心",
                DepartmentKind::CommandCentre,
                CITY,
                None,
            ),
            department(
                "441302-municipal",
                "惠城区市政管理所",
                DepartmentKind::Municipal,
                DISTRICT,
                Some("441300-command"),
            ),
            department(
                "441303-sanitation",
                "惠阳区环卫所",
                DepartmentKind::Sanitation,
                DISTRICT_B,
                None,
            ),
        ],
        users: vec![
            user(
                "admin",
                "系统管理员",
                vec![Role::Admin],
                None,
                Some("441300-command"),
                &[],
                password_hash,
            ),
            user(
                "inspector1",
                "张监督",
                vec![Role::Inspector],
                Some(STREET),
                None,
                &[GRID_NW, GRID_NE],
                password_hash,
            ),
            user(
                "handler",
                "李处置",
                vec![Role::Handler],
                Some(DISTRICT),
                Some("441302-municipal"),
                &[],
                password_hash,
            ),
        ],
        components: vec![
            component("01001", 1, 114.405, 23.095, GRID_NW),
            component("01001", 2, 114.410, 23.090, GRID_NW),
            component("01001", 3, 114.415, 23.085, GRID_NW),
            component("01002", 1, 114.430, 23.070, GRID_SE),
            component("02001", 1, 114.430, 23.090, GRID_NE),
        ],
    }
}

/// The point index over `regions` (districts, streets, communities and grids with polygons).
pub fn index(regions: &[Region]) -> Arc<RegionIndex> {
    let of = |l: RegionLevel| {
        regions
            .iter()
            .filter(|r| r.level == l)
            .cloned()
            .collect::<Vec<_>>()
    };
    Arc::new(
        RegionIndex::build(
            &of(RegionLevel::District),
            &of(RegionLevel::Street),
            &of(RegionLevel::Community),
            &of(RegionLevel::Grid),
        )
        .expect("the fixture regions index"),
    )
}

/// [`regions`] plus district B (惠阳区) and its one street, community and grid, all one square.
pub fn regions_ab() -> Vec<Region> {
    use RegionLevel::*;
    let b = [E, S, E_B, N];
    let mut rs = regions();
    rs.extend([
        square(DISTRICT_B, District, "惠阳区", Some(CITY), b),
        square(STREET_B, Street, "淡水街道", Some(DISTRICT_B), b),
        square(COMMUNITY_B, Community, "土湖社区", Some(STREET_B), b),
        square(GRID_B, Grid, "土湖社区001网格", Some(COMMUNITY_B), b),
    ]);
    rs
}

/// The point index of the case-workflow city.
pub fn index_ab() -> Arc<RegionIndex> {
    index(&regions_ab())
}

/// The case-workflow city: [`batch`] over [`regions_ab`], plus the matter category [`DIRECT`],
/// a municipal department in district B and a sanitation department in district A, and the cast:
/// `intake`, `supervisor`, `dispatcher`, `leader`, `reviewer`, `citizen`, `citizen2`,
/// `inspector2` (grids SW and SE), `handler2` (district-A sanitation), the same roles in district
/// B as `b_<role>`, and every role scoped to district A as `a_<role>` (the department roles also
/// as `a_<role>_dept`, see [`DEPARTMENT_ROLES`]). Every user carries `password_hash`.
pub fn case_batch(password_hash: &str) -> ImportBatch {
    let mut b = batch(password_hash);
    b.regions = regions_ab();
    b.categories.push(category(
        CategoryKind::Matter,
        DIRECT,
        "宣传广告",
        "非法小广告",
        None,
    ));
    b.departments.extend([
        department(
            "441303-municipal",
            "惠阳区市政管理所",
            DepartmentKind::Municipal,
            DISTRICT_B,
            None,
        ),
        department(
            "441302-sanitation",
            "惠城区环卫所",
            DepartmentKind::Sanitation,
            DISTRICT,
            None,
        ),
    ]);
    let cast = |username: &str, roles: Vec<Role>, region, dept, grids: &[&str]| {
        user(
            username,
            username,
            roles,
            region,
            dept,
            grids,
            password_hash,
        )
    };
    let a = Some(DISTRICT);
    let bb = Some(DISTRICT_B);
    b.users.extend([
        // The loop's cast in district A.
        cast("intake", vec![Role::Intake], a, None, &[]),
        cast("supervisor", vec![Role::Supervisor], a, None, &[]),
        cast("dispatcher", vec![Role::Dispatcher], a, None, &[]),
        cast("leader", vec![Role::Leader], a, None, &[]),
        cast("reviewer", vec![Role::Reviewer], a, None, &[]),
        cast("citizen", vec![Role::Citizen], None, None, &[]),
        cast("citizen2", vec![Role::Citizen], None, None, &[]),
        cast(
            "inspector2",
            vec![Role::Inspector],
            Some(STREET),
            None,
            &[GRID_SW, GRID_SE],
        ),
        cast(
            "handler2",
            vec![Role::Handler],
            a,
            Some("441302-sanitation"),
            &[],
        ),
        // District B.
        cast("b_intake", vec![Role::Intake], bb, None, &[]),
        cast("b_supervisor", vec![Role::Supervisor], bb, None, &[]),
        cast("b_dispatcher", vec![Role::Dispatcher], bb, None, &[]),
        cast("b_leader", vec![Role::Leader], bb, None, &[]),
        cast(
            "b_inspector",
            vec![Role::Inspector],
            Some(STREET_B),
            None,
            &[GRID_B],
        ),
        cast(
            "b_handler",
            vec![Role::Handler],
            bb,
            Some("441303-municipal"),
            &[],
        ),
        cast("b_citizen", vec![Role::Citizen], None, None, &[]),
    ]);
    // The scope matrix: every role scoped to district A.
    for role in Role::ALL {
        let name = format!("a_{}", role.as_str());
        b.users.push(cast(&name, vec![role], a, None, &[]));
        if DEPARTMENT_ROLES.contains(&role) {
            b.users.push(cast(
                &format!("{name}_dept"),
                vec![role],
                a,
                Some("441302-municipal"),
                &[],
            ));
        }
    }
    b
}

/// Imports the case-workflow city ([`case_batch`], every user with `password_hash`) into a
/// migrated, empty store and sets its responsibility matrix ([`routing_rules`]) — what every
/// case-workflow test starts from.
pub async fn load_case_city(store: &dyn Store, password_hash: &str) {
    store
        .apply_import(&case_batch(password_hash))
        .await
        .expect("import the case city");
    let rules = routing_rules(store).await;
    store
        .replace_routing_rules(
            &rules,
            &cityops_store::ConfigChange::new(None, start_time(), "fixture"),
        )
        .await
        .expect("the responsibility matrix");
}

/// The responsibility matrix of the case-workflow city (once [`case_batch`] is imported):
/// component class 01 to each district's municipal department, [`DIRECT`] in district A straight
/// to the district-A municipal department (一键直达), every other matter to the district-A
/// sanitation department.
pub async fn routing_rules(store: &dyn Store) -> Vec<RoutingRule> {
    let id = |code: &'static str| async move {
        store
            .get_department_by_code(code)
            .await
            .unwrap_or_else(|e| panic!("department {code}: {e}"))
            .unwrap_or_else(|| panic!("department {code} is imported"))
            .id
    };
    let rule = |kind, code: &str, region: &str, department_id, auto_dispatch| RoutingRule {
        category_kind: kind,
        category_code: code.into(),
        region_code: region.into(),
        department_id,
        auto_dispatch,
    };
    vec![
        rule(
            CategoryKind::Component,
            "01",
            DISTRICT,
            id("441302-municipal").await,
            false,
        ),
        rule(
            CategoryKind::Component,
            "01",
            DISTRICT_B,
            id("441303-municipal").await,
            false,
        ),
        rule(
            CategoryKind::Matter,
            DIRECT,
            DISTRICT,
            id("441302-municipal").await,
            true,
        ),
        rule(
            CategoryKind::Matter,
            "*",
            CITY,
            id("441302-sanitation").await,
            false,
        ),
    ]
}
