//! Small hand-made data the stories import: a city with two districts, a few streets, one
//! community with three unit grids (square polygons), a slice of the catalogue with filing
//! standards, four departments, five users and five components. Also a generator of a large
//! batch (tens of thousands of rows) for the import-speed story.
use chrono::NaiveDate;
use cityops_domain::{ComponentStatus, LimitUnit, LngLat, TimeLimit};
use cityops_store::{
    Category, CategoryKind, Component, ComponentId, DepartmentKind, FilingStandard, ImportBatch,
    NewDepartment, NewUser, Region, RegionLevel, Role,
};

/// A change of versioned configuration made by the system at a fixed instant (the stories that
/// do not look at versions).
pub fn system_change() -> cityops_store::ConfigChange {
    cityops_store::ConfigChange::new(
        None,
        chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
        "test",
    )
}

/// The PHC string the fixture users carry (the stores never interpret it).
pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// A square polygon as GeoJSON text with its bbox and center.
pub fn square(min_lng: f64, min_lat: f64, size: f64) -> (String, [f64; 4], LngLat) {
    let (x0, y0, x1, y1) = (min_lng, min_lat, min_lng + size, min_lat + size);
    let geometry = format!(
        r#"{{"type":"Polygon","coordinates":[[[{x0:.7},{y0:.7}],[{x1:.7},{y0:.7}],[{x1:.7},{y1:.7}],[{x0:.7},{y1:.7}],[{x0:.7},{y0:.7}]]]}}"#
    );
    (
        geometry,
        [x0, y0, x1, y1],
        LngLat {
            lng: (x0 + x1) / 2.0,
            lat: (y0 + y1) / 2.0,
        },
    )
}

/// A region with a square polygon (`size` degrees), or without geometry when `size` is None.
pub fn region(
    code: &str,
    level: RegionLevel,
    name: &str,
    parent: Option<&str>,
    corner: (f64, f64),
    size: Option<f64>,
) -> Region {
    let shape = size.map(|s| square(corner.0, corner.1, s));
    Region {
        code: code.to_string(),
        level,
        name: name.to_string(),
        parent_code: parent.map(str::to_string),
        geometry: shape.as_ref().map(|s| s.0.clone()),
        bbox: shape.as_ref().map(|s| s.1),
        center: shape.as_ref().map(|s| s.2),
        // A degree of latitude is ~111 km; good enough for a fixture.
        area_m2: size.map(|s| (s * 111_000.0) * (s * 102_000.0)),
        synthetic: level == RegionLevel::Grid,
    }
}

pub fn regions() -> Vec<Region> {
    use RegionLevel::*;
    vec![
        region("441300", City, "惠州市", None, (114.0, 22.8), Some(0.8)),
        region(
            "441302",
            District,
            "惠城区",
            Some("441300"),
            (114.2, 23.0),
            Some(0.4),
        ),
        region(
            "441303",
            District,
            "惠阳区",
            Some("441300"),
            (114.4, 22.8),
            Some(0.3),
        ),
        region(
            "441302001",
            Street,
            "桥东街道",
            Some("441302"),
            (114.4, 23.05),
            Some(0.1),
        ),
        // No polygon: regions_with_geometry(Street) leaves it out.
        region(
            "441302002",
            Street,
            "桥西街道",
            Some("441302"),
            (0.0, 0.0),
            None,
        ),
        region(
            "441303001",
            Street,
            "Test_Town",
            Some("441303"),
            (114.5, 22.85),
            Some(0.05),
        ),
        region(
            "441303002",
            Street,
            "TestXTown",
            Some("441303"),
            (114.55, 22.85),
            Some(0.05),
        ),
        region(
            "441303003",
            Street,
            "Half%Town",
            Some("441303"),
            (114.6, 22.85),
            Some(0.05),
        ),
        region(
            "441302001001",
            Community,
            "东平社区",
            Some("441302001"),
            (114.4, 23.05),
            Some(0.03),
        ),
        // Grids listed out of order: every list is ordered by code.
        region(
            "441302001001003",
            Grid,
            "东平社区 003 网格",
            Some("441302001001"),
            (114.42, 23.05),
            Some(0.01),
        ),
        region(
            "441302001001001",
            Grid,
            "东平社区 001 网格",
            Some("441302001001"),
            (114.40, 23.05),
            Some(0.01),
        ),
        region(
            "441302001001002",
            Grid,
            "东平社区 002 网格",
            Some("441302001001"),
            (114.41, 23.05),
            Some(0.01),
        ),
    ]
}

pub fn category(
    kind: CategoryKind,
    code: &str,
    class_name: &str,
    name: &str,
    old_code: Option<&str>,
) -> Category {
    Category {
        kind,
        code: code.to_string(),
        class_code: code[..2].to_string(),
        class_name: class_name.to_string(),
        name: name.to_string(),
        old_code: old_code.map(str::to_string),
    }
}

pub fn categories() -> Vec<Category> {
    use CategoryKind::*;
    vec![
        category(Matter, "01001", "市容环境", "私搭乱建", Some("0101")),
        category(Component, "02001", "道路交通", "停车场", None),
        category(Component, "01002", "公用设施", "污水井盖", Some("0102")),
        category(Component, "01001", "公用设施", "上水井盖", Some("0101")),
        category(Matter, "02001", "宣传广告", "非法小广告", None),
    ]
}

pub fn standard(
    kind: CategoryKind,
    code: &str,
    seq: u32,
    condition: &str,
    limit: TimeLimit,
) -> FilingStandard {
    FilingStandard {
        kind,
        code: code.to_string(),
        seq,
        filing_condition: condition.to_string(),
        limit,
        limit_text: limit.to_string(),
        closure_condition: format!("{condition}已处理"),
        old_code: None,
        source: "fixture".to_string(),
    }
}

pub fn filing_standards() -> Vec<FilingStandard> {
    use CategoryKind::*;
    let t = |value, unit| TimeLimit { value, unit };
    vec![
        // Out of seq order on purpose.
        standard(Component, "01001", 1, "井盖破损", t(4, LimitUnit::WorkHour)),
        standard(
            Component,
            "01001",
            0,
            "井盖缺失",
            t(2, LimitUnit::UrgentHour),
        ),
        standard(Component, "01001", 2, "井盖移位", t(1, LimitUnit::WorkDay)),
        standard(Matter, "01001", 0, "私搭乱建", t(5, LimitUnit::NaturalDay)),
    ]
}

pub fn department(
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

pub fn departments() -> Vec<NewDepartment> {
    use DepartmentKind::*;
    vec![
        // Children before their parent on purpose.
        department(
            "441300-municipal",
            "惠州市市政局",
            Municipal,
            "441300",
            Some("441300-command"),
        ),
        department(
            "441302001-street",
            "桥东街道办事处",
            StreetOffice,
            "441302001",
            Some("441300-command"),
        ),
        department(
            "441300-command",
            "惠州市城市运行管理指挥中心",
            CommandCentre,
            "441300",
            None,
        ),
        department(
            "441303-sanitation",
            "惠阳区环卫所",
            Sanitation,
            "441303",
            Some("441300-command"),
        ),
    ]
}

pub fn new_user(
    username: &str,
    roles: &[Role],
    region: Option<&str>,
    department: Option<&str>,
    grids: &[&str],
) -> NewUser {
    NewUser {
        username: username.to_string(),
        display_name: format!("{username} 显示名"),
        password_hash: PASSWORD_HASH.to_string(),
        roles: roles.to_vec(),
        region_code: region.map(str::to_string),
        department_code: department.map(str::to_string),
        grids: grids.iter().map(|g| g.to_string()).collect(),
    }
}

pub fn users() -> Vec<NewUser> {
    vec![
        new_user("admin", &[Role::Admin], None, None, &[]),
        new_user(
            "dispatcher1",
            &[Role::Dispatcher],
            Some("441300"),
            Some("441300-command"),
            &[],
        ),
        new_user(
            "handler1",
            &[Role::Handler],
            Some("441302"),
            Some("441300-municipal"),
            &[],
        ),
        new_user(
            "inspector1",
            &[Role::Inspector],
            Some("441302001"),
            Some("441302001-street"),
            &["441302001001001", "441302001001002"],
        ),
        new_user(
            "duty1",
            &[Role::Intake, Role::Supervisor],
            Some("441300"),
            Some("441300-command"),
            &[],
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
pub fn component(
    id: &str,
    name: &str,
    lng: f64,
    lat: f64,
    grid: Option<&str>,
    owner: Option<&str>,
    maintainer: Option<&str>,
    status: ComponentStatus,
) -> Component {
    let id = ComponentId::parse(id).expect("fixture component id");
    Component {
        category_code: id.category_code().to_string(),
        id,
        name: name.to_string(),
        lng,
        lat,
        grid_code: grid.map(str::to_string),
        community_code: grid.map(|g| g[..12].to_string()),
        owner_department: owner.map(str::to_string),
        maintainer_department: maintainer.map(str::to_string),
        status,
        surveyed_on: NaiveDate::from_ymd_opt(2025, 11, 3).expect("date"),
    }
}

pub fn components() -> Vec<Component> {
    use ComponentStatus::*;
    vec![
        component(
            "44130201002000001",
            "污水井盖 1",
            114.50,
            23.20,
            None,
            None,
            Some("441303-sanitation"),
            Lost,
        ),
        component(
            "44130201001000001",
            "上水井盖 1",
            114.41,
            23.08,
            Some("441302001001001"),
            Some("441300-municipal"),
            None,
            Intact,
        ),
        component(
            "44130201001000002",
            "上水井盖 2",
            114.42,
            23.09,
            Some("441302001001002"),
            Some("441300-municipal"),
            Some("441303-sanitation"),
            Damaged,
        ),
        component(
            "44130202001000001",
            "停车场 1",
            114.30,
            23.00,
            Some("441302001001001"),
            Some("441302001-street"),
            None,
            Intact,
        ),
        component(
            "44130301001000001",
            "上水井盖 3",
            114.60,
            22.90,
            None,
            None,
            None,
            Removed,
        ),
    ]
}

/// Everything above as one batch.
pub fn batch() -> ImportBatch {
    ImportBatch {
        regions: regions(),
        categories: categories(),
        filing_standards: filing_standards(),
        departments: departments(),
        users: users(),
        components: components(),
    }
}

/// A large batch: 1 city, 2 districts, 10 streets, 100 communities and unit grids up to
/// `regions` rows in total (small square polygons), the fixture catalogue and departments, and
/// `components` components spread over the grids.
pub fn large_batch(regions: usize, components: usize) -> ImportBatch {
    use RegionLevel::*;
    let mut out = Vec::with_capacity(regions);
    out.push(region(
        "441300",
        City,
        "惠州市",
        None,
        (114.0, 22.8),
        Some(0.8),
    ));
    for d in 0..2 {
        let code = format!("44130{}", d + 2);
        out.push(region(
            &code,
            District,
            &format!("区 {d}"),
            Some("441300"),
            (114.0 + 0.4 * d as f64, 22.8),
            Some(0.4),
        ));
    }
    let mut communities = Vec::new();
    for s in 0..10 {
        let district = format!("44130{}", s % 2 + 2);
        let street = format!("{district}{:03}", s / 2 + 1);
        out.push(region(
            &street,
            Street,
            &format!("街道 {s}"),
            Some(&district),
            (114.0 + 0.08 * s as f64, 22.9),
            Some(0.08),
        ));
        for c in 0..10 {
            let community = format!("{street}{:03}", c + 1);
            let corner = (114.0 + 0.08 * s as f64 + 0.008 * c as f64, 22.9);
            out.push(region(
                &community,
                Community,
                &format!("社区 {s}-{c}"),
                Some(&street),
                corner,
                Some(0.008),
            ));
            communities.push((community, corner));
        }
    }
    let grids_needed = regions.saturating_sub(out.len());
    let per_community = grids_needed.div_ceil(communities.len()).max(1);
    let mut grid_codes = Vec::with_capacity(grids_needed);
    'outer: for (community, corner) in &communities {
        for g in 0..per_community {
            if grid_codes.len() == grids_needed {
                break 'outer;
            }
            let code = format!("{community}{:03}", g + 1);
            let cell = 0.008 / 16.0;
            let at = (
                corner.0 + cell * (g % 16) as f64,
                corner.1 + cell * (g / 16) as f64,
            );
            out.push(region(
                &code,
                Grid,
                &format!("网格 {code}"),
                Some(community),
                at,
                Some(cell),
            ));
            grid_codes.push((code, at));
        }
    }
    let owners = ["441300-municipal", "441302001-street", "441303-sanitation"];
    let categories = ["01001", "01002", "02001"];
    let comps = (0..components)
        .map(|i| {
            let (grid, at) = &grid_codes[i % grid_codes.len().max(1)];
            let category = categories[i % categories.len()];
            let id = format!("441302{category}{:06}", i / categories.len() + 1);
            let status = ComponentStatus::ALL[i % ComponentStatus::ALL.len()];
            component(
                &id,
                &format!("部件 {i}"),
                at.0 + 0.0001,
                at.1 + 0.0001,
                Some(grid),
                Some(owners[i % owners.len()]),
                Some(owners[(i + 1) % owners.len()]),
                status,
            )
        })
        .collect();
    ImportBatch {
        regions: out,
        categories: self::categories(),
        filing_standards: filing_standards(),
        departments: departments(),
        users: users(),
        components: comps,
    }
}
