//! The stories: each takes a freshly connected, migrated, empty store and panics (with a message
//! naming the backend) when the store breaks the contract of `cityops-store`.
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use cityops_domain::ComponentStatus;
use cityops_store::{
    CategoryKind, ComponentQuery, DepartmentKind, ImportBatch, ImportSummary, NewSession,
    PageRequest, RegionLevel, RegionQuery, Role, SessionInfo, Store, StoreError, StoreStats,
};

use crate::fixtures::{self, new_user};

/// The case workflow stories live in their own module; the backends reach them here.
pub use crate::cache_stories::*;
pub use crate::case_stories::*;
pub use crate::dashboard_stories::*;
pub use crate::drift_stories::*;
pub use crate::evaluation_stories::*;
pub use crate::export_stories::*;
pub use crate::follow_stories::*;
pub use crate::monitoring_stories::*;
pub use crate::object_stories::*;
pub use crate::open311_stories::*;
pub use crate::poi_stories::*;
pub use crate::report_stories::*;
pub use crate::review_stories::*;
pub use crate::search_stories::*;
pub use crate::security_stories::*;

fn page(page: u32, page_size: u32) -> PageRequest {
    PageRequest { page, page_size }
}

fn all() -> PageRequest {
    page(1, 1000)
}

async fn import_fixture(store: &dyn Store) -> ImportSummary {
    store
        .apply_import(&fixtures::batch())
        .await
        .expect("importing the fixture batch")
}

async fn region_codes(store: &dyn Store, q: RegionQuery) -> Vec<String> {
    let p = store.list_regions(&q, all()).await.expect("list_regions");
    assert_eq!(
        p.total as usize,
        p.items.len(),
        "{}: total of {q:?}",
        store.backend()
    );
    p.items.into_iter().map(|r| r.code).collect()
}

async fn component_ids(store: &dyn Store, q: ComponentQuery) -> Vec<String> {
    let p = store
        .list_components(&q, all())
        .await
        .expect("list_components");
    assert_eq!(
        p.total as usize,
        p.items.len(),
        "{}: total of {q:?}",
        store.backend()
    );
    p.items
        .into_iter()
        .map(|c| c.id.as_str().to_string())
        .collect()
}

async fn department_codes(store: &dyn Store, region: Option<&str>) -> Vec<String> {
    let p = store
        .list_departments(region, all())
        .await
        .expect("list_departments");
    assert_eq!(p.total as usize, p.items.len());
    p.items.into_iter().map(|d| d.code).collect()
}

async fn usernames(
    store: &dyn Store,
    role: Option<Role>,
    department_id: Option<i64>,
) -> Vec<String> {
    let p = store
        .list_users(role, department_id, all())
        .await
        .expect("list_users");
    assert_eq!(p.total as usize, p.items.len());
    p.items.into_iter().map(|u| u.username).collect()
}

async fn department_id(store: &dyn Store, code: &str) -> i64 {
    store
        .get_department_by_code(code)
        .await
        .expect("get_department_by_code")
        .expect("department exists")
        .id
}

fn invalid_naming(result: Result<ImportSummary, StoreError>, needle: &str) {
    match result {
        Err(StoreError::Invalid(msg)) => {
            assert!(msg.contains(needle), "error {msg:?} should name {needle:?}")
        }
        other => panic!("expected Invalid naming {needle:?}, got {other:?}"),
    }
}

/// migrate is idempotent, ping answers, an empty store counts zero, meta is an upsert.
pub async fn admin_migrate_ping_meta(store: &dyn Store) {
    assert!(
        matches!(store.backend(), "sqlite" | "postgres"),
        "backend {:?}",
        store.backend()
    );
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.expect("ping");
    assert_eq!(store.stats().await.expect("stats"), StoreStats::default());
    assert_eq!(store.get_meta("demo_city").await.expect("get_meta"), None);
    store
        .set_meta("demo_city", "huizhou")
        .await
        .expect("set_meta");
    store.set_meta("other", "x").await.expect("set_meta");
    assert_eq!(
        store
            .get_meta("demo_city")
            .await
            .expect("get_meta")
            .as_deref(),
        Some("huizhou")
    );
    store
        .set_meta("demo_city", "xiamen")
        .await
        .expect("set_meta overwrites");
    assert_eq!(
        store
            .get_meta("demo_city")
            .await
            .expect("get_meta")
            .as_deref(),
        Some("xiamen")
    );
    assert_eq!(
        store.get_meta("other").await.expect("get_meta").as_deref(),
        Some("x")
    );
}

/// One import writes every kind of row and reports what it wrote; stats count it.
pub async fn import_writes_everything(store: &dyn Store) {
    let summary = import_fixture(store).await;
    assert_eq!(
        summary,
        ImportSummary {
            regions: 12,
            categories: 5,
            filing_standards: 4,
            departments: 4,
            users: 5,
            components: 5
        }
    );
    let stats = store.stats().await.expect("stats");
    assert_eq!(
        stats,
        StoreStats {
            regions: 12,
            grids: 3,
            categories: 5,
            departments: 4,
            users: 5,
            components: 5,
            cases: 0,
            case_events: 0,
        }
    );
    // Departments refer to their parent by id, whatever the order in the batch.
    let command = department_id(store, "441300-command").await;
    let municipal = store
        .get_department_by_code("441300-municipal")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(municipal.parent_id, Some(command));
    assert_eq!(municipal.kind, DepartmentKind::Municipal);
    assert_eq!(municipal.region_code, "441300");
    assert_eq!(
        store
            .get_department(command)
            .await
            .expect("get")
            .expect("exists")
            .parent_id,
        None
    );
    // Imported users are active and their department code became an id.
    let creds = store
        .credentials("handler1")
        .await
        .expect("credentials")
        .expect("user exists");
    assert!(creds.user.active);
    assert_eq!(creds.user.scope.department_id, Some(municipal.id));
    assert_eq!(creds.user.scope.region_code.as_deref(), Some("441302"));
    assert_eq!(creds.password_hash, fixtures::PASSWORD_HASH);
    let inspector = store
        .credentials("inspector1")
        .await
        .expect("credentials")
        .expect("user exists")
        .user;
    assert_eq!(inspector.grids, vec!["441302001001001", "441302001001002"]);
    assert_eq!(inspector.roles, vec![Role::Inspector]);
}

/// A second import upserts by natural key: ids stay, values change, filing standards are replaced
/// per (kind, code), nothing is duplicated.
pub async fn import_upserts_by_natural_key(store: &dyn Store) {
    import_fixture(store).await;
    let command = department_id(store, "441300-command").await;
    let municipal = department_id(store, "441300-municipal").await;
    let handler = store
        .credentials("handler1")
        .await
        .expect("credentials")
        .expect("exists")
        .user;

    let mut batch = fixtures::batch();
    batch.regions[1].name = "惠城区（新）".to_string();
    batch.regions[1].synthetic = true;
    batch.categories[3].name = "上水井盖（新）".to_string();
    batch.categories[3].old_code = None;
    // component/01001 had seq 0, 1, 2; now only seq 0. matter/01001 is not mentioned: untouched.
    batch
        .filing_standards
        .retain(|f| f.kind == CategoryKind::Component);
    batch.filing_standards.retain(|f| f.seq == 0);
    batch.filing_standards[0].filing_condition = "井盖缺失（新）".to_string();
    // municipal loses its parent and moves to a district.
    batch.departments[0].parent_code = None;
    batch.departments[0].region_code = "441302".to_string();
    batch.departments[0].name = "惠城区市政局".to_string();
    batch.users[2].display_name = "处置员（新）".to_string();
    batch.users[2].department_code = Some("441303-sanitation".to_string());
    batch.users[2].roles = vec![Role::Handler, Role::Leader];
    batch.users[2].password_hash = "new-hash".to_string();
    batch.components[1].lng = 114.43;
    batch.components[1].status = ComponentStatus::Damaged;
    batch.components[1].owner_department = None;
    let summary = store.apply_import(&batch).await.expect("second import");
    assert_eq!(summary.filing_standards, 1);

    let stats = store.stats().await.expect("stats");
    assert_eq!(
        stats,
        StoreStats {
            regions: 12,
            grids: 3,
            categories: 5,
            departments: 4,
            users: 5,
            components: 5,
            cases: 0,
            case_events: 0,
        }
    );
    let district = store
        .get_region("441302")
        .await
        .expect("get_region")
        .expect("exists");
    assert_eq!(district.name, "惠城区（新）");
    assert!(district.synthetic);
    let cat = store
        .get_category(CategoryKind::Component, "01001")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((cat.name.as_str(), cat.old_code), ("上水井盖（新）", None));
    let standards = store
        .filing_standards(CategoryKind::Component, "01001")
        .await
        .expect("standards");
    assert_eq!(standards.len(), 1);
    assert_eq!(standards[0].filing_condition, "井盖缺失（新）");
    assert_eq!(
        store
            .filing_standards(CategoryKind::Matter, "01001")
            .await
            .expect("standards")
            .len(),
        1
    );

    assert_eq!(
        department_id(store, "441300-command").await,
        command,
        "department ids are stable"
    );
    let m = store
        .get_department(municipal)
        .await
        .expect("get")
        .expect("same id");
    assert_eq!(
        (m.name.as_str(), m.region_code.as_str(), m.parent_id),
        ("惠城区市政局", "441302", None)
    );

    let creds = store
        .credentials("handler1")
        .await
        .expect("credentials")
        .expect("exists");
    assert_eq!(creds.user.id, handler.id, "user ids are stable");
    assert_eq!(creds.user.display_name, "处置员（新）");
    assert_eq!(creds.user.roles, vec![Role::Handler, Role::Leader]);
    assert_eq!(
        creds.user.scope.department_id,
        Some(department_id(store, "441303-sanitation").await)
    );
    assert_eq!(creds.password_hash, "new-hash");
    assert!(creds.user.active);

    let c = store
        .get_component("44130201001000001")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (c.lng, c.status, c.owner_department),
        (114.43, ComponentStatus::Damaged, None)
    );
}

/// A batch with one row naming an unknown department is refused with `Invalid` naming the code,
/// and nothing of the batch is written.
pub async fn import_is_all_or_nothing(store: &dyn Store) {
    // On an empty store.
    let mut bad = fixtures::batch();
    bad.components[2].maintainer_department = Some("no-such-dept".to_string());
    invalid_naming(store.apply_import(&bad).await, "no-such-dept");
    assert_eq!(
        store.stats().await.expect("stats"),
        StoreStats::default(),
        "nothing written"
    );
    assert_eq!(
        store
            .get_department_by_code("441300-command")
            .await
            .expect("get"),
        None
    );

    // On a populated store: new rows of every kind plus one bad reference.
    import_fixture(store).await;
    let before = store.stats().await.expect("stats");
    let mut batch = ImportBatch {
        regions: vec![fixtures::region(
            "441303004",
            RegionLevel::Street,
            "新街道",
            Some("441303"),
            (114.7, 22.9),
            Some(0.05),
        )],
        categories: vec![fixtures::category(
            CategoryKind::Component,
            "03001",
            "园林绿化",
            "古树名木",
            None,
        )],
        filing_standards: vec![fixtures::standard(
            CategoryKind::Component,
            "01001",
            0,
            "replaced?",
            cityops_domain::TimeLimit {
                value: 1,
                unit: cityops_domain::LimitUnit::WorkDay,
            },
        )],
        departments: vec![fixtures::department(
            "441303-new",
            "新部门",
            DepartmentKind::Other,
            "441303",
            None,
        )],
        users: vec![new_user(
            "newcomer",
            &[Role::Handler],
            None,
            Some("441303-new"),
            &[],
        )],
        components: vec![fixtures::component(
            "44130303001000001",
            "古树 1",
            114.7,
            22.9,
            None,
            Some("441303-new"),
            Some("ghost-owner"),
            ComponentStatus::Intact,
        )],
    };
    invalid_naming(store.apply_import(&batch).await, "ghost-owner");
    assert_eq!(
        store.stats().await.expect("stats"),
        before,
        "nothing written"
    );
    assert_eq!(store.get_region("441303004").await.expect("get"), None);
    assert_eq!(
        store
            .get_category(CategoryKind::Component, "03001")
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .get_department_by_code("441303-new")
            .await
            .expect("get"),
        None
    );
    assert!(
        store
            .credentials("newcomer")
            .await
            .expect("credentials")
            .is_none()
    );
    let standards = store
        .filing_standards(CategoryKind::Component, "01001")
        .await
        .expect("standards");
    assert_eq!(standards.len(), 3, "filing standards not replaced");

    // A user with an unknown department, and a department with an unknown parent.
    batch.components.clear();
    batch.users[0].department_code = Some("ghost-dept".to_string());
    invalid_naming(store.apply_import(&batch).await, "ghost-dept");
    batch.users.clear();
    batch.departments[0].parent_code = Some("ghost-parent".to_string());
    invalid_naming(store.apply_import(&batch).await, "ghost-parent");
    assert_eq!(
        store.stats().await.expect("stats"),
        before,
        "nothing written"
    );

    // The same batch with the references fixed goes through.
    batch.departments[0].parent_code = Some("441300-command".to_string());
    store.apply_import(&batch).await.expect("fixed batch");
    assert!(store.get_region("441303004").await.expect("get").is_some());
}

/// A natural key twice in one batch is refused and nothing is written.
pub async fn import_rejects_duplicate_keys(store: &dyn Store) {
    let mut batch = fixtures::batch();
    batch.regions.push(batch.regions[4].clone());
    invalid_naming(store.apply_import(&batch).await, "441302002");
    let mut batch = fixtures::batch();
    batch.components.push(batch.components[0].clone());
    invalid_naming(store.apply_import(&batch).await, "44130201002000001");
    let mut batch = fixtures::batch();
    batch.users.push(batch.users[0].clone());
    invalid_naming(store.apply_import(&batch).await, "admin");
    assert_eq!(store.stats().await.expect("stats"), StoreStats::default());
    assert_eq!(
        store
            .apply_import(&ImportBatch::default())
            .await
            .expect("empty batch"),
        ImportSummary::default()
    );
}

/// list_regions filters by level, parent and name (a LIKE with its wildcards escaped), orders by
/// code, pages, and leaves the geometry out; get_region returns everything.
pub async fn regions_list_filter_page(store: &dyn Store) {
    import_fixture(store).await;
    let q = |level: Option<RegionLevel>, parent: Option<&str>, name: Option<&str>| RegionQuery {
        level,
        parent_code: parent.map(str::to_string),
        name_contains: name.map(str::to_string),
    };
    let mut expected: Vec<String> = fixtures::regions().into_iter().map(|r| r.code).collect();
    expected.sort();
    assert_eq!(region_codes(store, RegionQuery::default()).await, expected);
    assert_eq!(
        region_codes(store, q(Some(RegionLevel::District), None, None)).await,
        ["441302", "441303"]
    );
    assert_eq!(
        region_codes(store, q(Some(RegionLevel::Grid), None, None)).await,
        ["441302001001001", "441302001001002", "441302001001003"]
    );
    assert_eq!(
        region_codes(store, q(None, Some("441302"), None)).await,
        ["441302001", "441302002"]
    );
    assert_eq!(
        region_codes(
            store,
            q(Some(RegionLevel::Street), Some("441302"), Some("东"))
        )
        .await,
        ["441302001"]
    );
    assert_eq!(
        region_codes(store, q(None, None, Some("东平社区")))
            .await
            .len(),
        4
    );
    // Wildcards in the search text are literal; ASCII case does not matter.
    assert_eq!(
        region_codes(store, q(None, None, Some("t_t"))).await,
        ["441303001"]
    );
    assert_eq!(
        region_codes(store, q(None, None, Some("%"))).await,
        ["441303003"]
    );
    assert_eq!(
        region_codes(store, q(None, None, Some("TOWN"))).await,
        ["441303001", "441303002", "441303003"]
    );
    assert!(
        region_codes(store, q(None, None, Some("\\")))
            .await
            .is_empty()
    );
    assert!(
        region_codes(store, q(Some(RegionLevel::City), Some("441300"), None))
            .await
            .is_empty()
    );

    // Paging: 12 regions, 5 a page.
    let p2 = store
        .list_regions(&RegionQuery::default(), page(2, 5))
        .await
        .expect("page 2");
    assert_eq!((p2.total, p2.page, p2.page_size), (12, 2, 5));
    assert_eq!(
        p2.items.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        &expected[5..10]
    );
    let p3 = store
        .list_regions(&RegionQuery::default(), page(3, 5))
        .await
        .expect("page 3");
    assert_eq!(p3.items.len(), 2);
    let p9 = store
        .list_regions(&RegionQuery::default(), page(9, 5))
        .await
        .expect("page 9");
    assert!(p9.items.is_empty());
    assert_eq!(p9.total, 12);

    // List items carry everything but the geometry.
    let fixture = fixtures::regions();
    for item in store
        .list_regions(&RegionQuery::default(), all())
        .await
        .expect("list")
        .items
    {
        let mut want = fixture
            .iter()
            .find(|r| r.code == item.code)
            .expect("fixture region")
            .clone();
        want.geometry = None;
        assert_eq!(item, want);
    }
    for want in &fixture {
        let got = store
            .get_region(&want.code)
            .await
            .expect("get_region")
            .expect("exists");
        assert_eq!(&got, want);
    }
    assert_eq!(store.get_region("999999").await.expect("get_region"), None);
}

/// regions_with_geometry returns the regions of one level that have a polygon, ordered by code.
pub async fn regions_with_geometry_by_level(store: &dyn Store) {
    import_fixture(store).await;
    let grids = store
        .regions_with_geometry(RegionLevel::Grid)
        .await
        .expect("grids");
    assert_eq!(
        grids.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["441302001001001", "441302001001002", "441302001001003"]
    );
    assert!(
        grids
            .iter()
            .all(|g| g.geometry.as_deref().is_some_and(|s| s.contains("Polygon")))
    );
    let streets = store
        .regions_with_geometry(RegionLevel::Street)
        .await
        .expect("streets");
    assert_eq!(
        streets.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["441302001", "441303001", "441303002", "441303003"],
        "441302002 has no polygon"
    );
    let fixture = fixtures::regions();
    for s in &streets {
        assert_eq!(Some(s), fixture.iter().find(|r| r.code == s.code));
    }
}

/// list_categories orders by (kind, code) and filters by kind; filing standards come by seq.
pub async fn catalogue_lists_and_standards(store: &dyn Store) {
    import_fixture(store).await;
    let all_cats = store
        .list_categories(None, all())
        .await
        .expect("list_categories");
    assert_eq!(all_cats.total, 5);
    let keys: Vec<(CategoryKind, &str)> = all_cats
        .items
        .iter()
        .map(|c| (c.kind, c.code.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            (CategoryKind::Component, "01001"),
            (CategoryKind::Component, "01002"),
            (CategoryKind::Component, "02001"),
            (CategoryKind::Matter, "01001"),
            (CategoryKind::Matter, "02001"),
        ]
    );
    let matters = store
        .list_categories(Some(CategoryKind::Matter), all())
        .await
        .expect("matters");
    assert_eq!(matters.total, 2);
    assert!(matters.items.iter().all(|c| c.kind == CategoryKind::Matter));
    let p = store
        .list_categories(Some(CategoryKind::Component), page(2, 2))
        .await
        .expect("page");
    assert_eq!(
        (p.total, p.items.len(), p.items[0].code.as_str()),
        (3, 1, "02001")
    );

    // The same code in both kinds is two categories.
    let c = store
        .get_category(CategoryKind::Component, "02001")
        .await
        .expect("get")
        .expect("exists");
    let m = store
        .get_category(CategoryKind::Matter, "02001")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((c.name.as_str(), m.name.as_str()), ("停车场", "非法小广告"));
    let fixture = fixtures::categories();
    assert_eq!(
        Some(&c),
        fixture
            .iter()
            .find(|f| f.kind == c.kind && f.code == c.code)
    );
    assert_eq!(
        store
            .get_category(CategoryKind::Matter, "01002")
            .await
            .expect("get"),
        None
    );

    let standards = store
        .filing_standards(CategoryKind::Component, "01001")
        .await
        .expect("standards");
    assert_eq!(
        standards.iter().map(|s| s.seq).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let want = fixtures::filing_standards();
    for s in &standards {
        assert_eq!(
            Some(s),
            want.iter()
                .find(|w| w.kind == s.kind && w.code == s.code && w.seq == s.seq)
        );
    }
    assert!(
        store
            .filing_standards(CategoryKind::Matter, "02001")
            .await
            .expect("standards")
            .is_empty()
    );
}

/// list_departments keeps those whose region lies within the given region (a city code covers its
/// districts), ordered by code.
pub async fn departments_by_region(store: &dyn Store) {
    import_fixture(store).await;
    let everything = [
        "441300-command",
        "441300-municipal",
        "441302001-street",
        "441303-sanitation",
    ];
    assert_eq!(department_codes(store, None).await, everything);
    assert_eq!(department_codes(store, Some("441300")).await, everything);
    assert_eq!(
        department_codes(store, Some("441302")).await,
        ["441302001-street"]
    );
    assert_eq!(
        department_codes(store, Some("441302001")).await,
        ["441302001-street"]
    );
    assert_eq!(
        department_codes(store, Some("441303")).await,
        ["441303-sanitation"]
    );
    assert!(department_codes(store, Some("441302002")).await.is_empty());
    assert!(department_codes(store, Some("350200")).await.is_empty());
    assert!(
        department_codes(store, Some("4413%")).await.is_empty(),
        "no LIKE wildcards"
    );
    let p = store
        .list_departments(Some("441300"), page(2, 3))
        .await
        .expect("page");
    assert_eq!(
        (p.total, p.items.len(), p.items[0].code.as_str()),
        (4, 1, "441303-sanitation")
    );

    let street = store
        .get_department_by_code("441302001-street")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(street.name, "桥东街道办事处");
    assert_eq!(street.kind, DepartmentKind::StreetOffice);
    assert_eq!(
        store.get_department(street.id).await.expect("get"),
        Some(street.clone())
    );
    assert_eq!(
        street.parent_id,
        Some(department_id(store, "441300-command").await)
    );
    assert_eq!(
        store.get_department(street.id + 1000).await.expect("get"),
        None
    );
    assert_eq!(
        store.get_department_by_code("nope").await.expect("get"),
        None
    );
}

/// create_user, Conflict on a taken username, credentials, password change, list filters.
pub async fn users_create_and_list(store: &dyn Store) {
    import_fixture(store).await;
    let street = department_id(store, "441302001-street").await;
    let new = new_user(
        "zhangsan",
        &[Role::Inspector, Role::Citizen],
        Some("441302001"),
        Some("441302001-street"),
        &["441302001001003"],
    );
    let created = store.create_user(&new).await.expect("create_user");
    assert!(created.id > 0);
    assert_eq!(created.username, "zhangsan");
    assert_eq!(created.display_name, new.display_name);
    assert_eq!(created.roles, [Role::Inspector, Role::Citizen]);
    assert_eq!(created.scope.region_code.as_deref(), Some("441302001"));
    assert_eq!(created.scope.department_id, Some(street));
    assert_eq!(created.grids, ["441302001001003"]);
    assert!(created.active);
    assert_eq!(
        store.get_user(created.id).await.expect("get_user"),
        Some(created.clone())
    );
    assert_eq!(
        store.get_user(created.id + 1000).await.expect("get_user"),
        None
    );

    match store.create_user(&new).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("duplicate username: expected Conflict, got {other:?}"),
    }
    let mut orphan = new_user("lisi", &[Role::Handler], None, Some("ghost"), &[]);
    match store.create_user(&orphan).await {
        Err(StoreError::Invalid(msg)) => assert!(msg.contains("ghost"), "{msg}"),
        other => panic!("unknown department: expected Invalid, got {other:?}"),
    }
    orphan.department_code = None;
    let lisi = store
        .create_user(&orphan)
        .await
        .expect("user without department");
    assert_eq!(
        lisi.scope,
        cityops_store::Scope {
            region_code: None,
            department_id: None
        }
    );

    let creds = store
        .credentials("zhangsan")
        .await
        .expect("credentials")
        .expect("exists");
    assert_eq!(
        (creds.user, creds.password_hash.as_str()),
        (created.clone(), fixtures::PASSWORD_HASH)
    );
    assert!(
        store
            .credentials("ZHANGSAN")
            .await
            .expect("credentials")
            .is_none(),
        "usernames are exact"
    );
    store
        .set_password_hash(created.id, "$argon2id$new")
        .await
        .expect("set_password_hash");
    let creds = store
        .credentials("zhangsan")
        .await
        .expect("credentials")
        .expect("exists");
    assert_eq!(creds.password_hash, "$argon2id$new");
    assert!(matches!(
        store.set_password_hash(created.id + 1000, "x").await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(
        usernames(store, None, None).await,
        [
            "admin",
            "dispatcher1",
            "duty1",
            "handler1",
            "inspector1",
            "lisi",
            "zhangsan"
        ]
    );
    assert_eq!(
        usernames(store, Some(Role::Inspector), None).await,
        ["inspector1", "zhangsan"]
    );
    assert_eq!(
        usernames(store, Some(Role::Supervisor), None).await,
        ["duty1"]
    );
    assert_eq!(usernames(store, Some(Role::Intake), None).await, ["duty1"]);
    assert!(
        usernames(store, Some(Role::Enforcement), None)
            .await
            .is_empty()
    );
    let command = department_id(store, "441300-command").await;
    assert_eq!(
        usernames(store, None, Some(command)).await,
        ["dispatcher1", "duty1"]
    );
    assert_eq!(
        usernames(store, Some(Role::Dispatcher), Some(command)).await,
        ["dispatcher1"]
    );
    assert_eq!(
        usernames(store, Some(Role::Inspector), Some(street)).await,
        ["inspector1", "zhangsan"]
    );
    let p = store
        .list_users(None, None, page(3, 3))
        .await
        .expect("page");
    assert_eq!(
        (p.total, p.items.len(), p.items[0].username.as_str()),
        (7, 1, "zhangsan")
    );
}

/// A session yields its user until it expires; purge removes exactly the expired ones.
pub async fn sessions_expire_and_purge(store: &dyn Store) {
    import_fixture(store).await;
    let user = store
        .credentials("dispatcher1")
        .await
        .expect("credentials")
        .expect("exists")
        .user;
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 8, 0, 0)
        .single()
        .expect("time");
    let ttl = Duration::hours(12);
    let session = |id: &str, hash: &str, user_id: i64, expires| {
        NewSession::new(format!("{id:0>32}"), hash, user_id, t0, expires)
    };
    store
        .create_session(&session("a", "hash-a", user.id, t0 + ttl))
        .await
        .expect("create_session");
    store
        .create_session(&session("b", "hash-b", user.id, t0 + Duration::hours(1)))
        .await
        .expect("create_session");
    store
        .create_session(&session("c", "hash-c", user.id, t0 + Duration::hours(24)))
        .await
        .expect("create_session");
    match store
        .create_session(&session("d", "hash-a", user.id, t0 + ttl))
        .await
    {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("duplicate token: expected Conflict, got {other:?}"),
    }
    match store
        .create_session(&session("a", "hash-d", user.id, t0 + ttl))
        .await
    {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("duplicate id: expected Conflict, got {other:?}"),
    }
    match store
        .create_session(&session("x", "hash-x", user.id + 1000, t0 + ttl))
        .await
    {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("session of an unknown user: expected Invalid, got {other:?}"),
    }

    assert_eq!(
        store
            .session_user("hash-a", t0)
            .await
            .expect("session_user"),
        Some(user.clone())
    );
    assert_eq!(
        store
            .session_user("hash-a", t0 + ttl - Duration::microseconds(1))
            .await
            .expect("s")
            .as_ref(),
        Some(&user)
    );
    assert_eq!(
        store
            .session_user("hash-a", t0 + ttl)
            .await
            .expect("session_user"),
        None,
        "expired at expires_at"
    );
    assert_eq!(
        store.session_user("nope", t0).await.expect("session_user"),
        None
    );

    store
        .delete_session("hash-a")
        .await
        .expect("delete_session");
    store
        .delete_session("hash-a")
        .await
        .expect("deleting twice is fine");
    assert_eq!(
        store
            .session_user("hash-a", t0)
            .await
            .expect("session_user"),
        None
    );

    // At t0 + 2 h only hash-b (1 h) has expired.
    assert_eq!(
        store
            .purge_expired_sessions(t0 + Duration::hours(2))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        store
            .purge_expired_sessions(t0 + Duration::hours(2))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(
        store
            .session_user("hash-c", t0 + Duration::hours(2))
            .await
            .expect("s"),
        Some(user)
    );
    assert_eq!(
        store
            .purge_expired_sessions(t0 + Duration::hours(24))
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        store
            .session_user("hash-c", t0)
            .await
            .expect("session_user"),
        None,
        "purged"
    );
}

/// list_components filters by bbox, category (subclass or class), grid and department (owner or
/// maintainer), orders by id and pages; get_component returns the stored component.
pub async fn components_filter_and_page(store: &dyn Store) {
    import_fixture(store).await;
    let q = |bbox: Option<[f64; 4]>,
             category: Option<&str>,
             grid: Option<&str>,
             dept: Option<&str>| ComponentQuery {
        bbox,
        category: category.map(str::to_string),
        grid_code: grid.map(str::to_string),
        department_code: dept.map(str::to_string),
    };
    let mut every: Vec<String> = fixtures::components()
        .iter()
        .map(|c| c.id.as_str().to_string())
        .collect();
    every.sort();
    assert_eq!(component_ids(store, ComponentQuery::default()).await, every);
    assert_eq!(
        component_ids(
            store,
            q(Some([114.40, 23.05, 114.45, 23.10]), None, None, None)
        )
        .await,
        ["44130201001000001", "44130201001000002"]
    );
    // The bbox is inclusive on its edges.
    assert_eq!(
        component_ids(
            store,
            q(Some([114.30, 23.00, 114.30, 23.00]), None, None, None)
        )
        .await,
        ["44130202001000001"]
    );
    assert_eq!(
        component_ids(store, q(None, Some("01001"), None, None)).await,
        [
            "44130201001000001",
            "44130201001000002",
            "44130301001000001"
        ]
    );
    assert_eq!(
        component_ids(store, q(None, Some("01"), None, None)).await,
        [
            "44130201001000001",
            "44130201001000002",
            "44130201002000001",
            "44130301001000001"
        ]
    );
    assert_eq!(
        component_ids(store, q(None, Some("02"), None, None)).await,
        ["44130202001000001"]
    );
    assert!(
        component_ids(store, q(None, Some("03"), None, None))
            .await
            .is_empty()
    );
    assert_eq!(
        component_ids(store, q(None, None, Some("441302001001001"), None)).await,
        ["44130201001000001", "44130202001000001"]
    );
    assert_eq!(
        component_ids(store, q(None, None, None, Some("441303-sanitation"))).await,
        ["44130201001000002", "44130201002000001"],
        "maintainer counts"
    );
    assert_eq!(
        component_ids(store, q(None, None, None, Some("441300-municipal"))).await,
        ["44130201001000001", "44130201001000002"],
        "owner counts"
    );
    assert!(
        component_ids(store, q(None, None, None, Some("ghost")))
            .await
            .is_empty()
    );
    assert_eq!(
        component_ids(
            store,
            q(
                Some([114.0, 22.0, 115.0, 24.0]),
                Some("01"),
                Some("441302001001002"),
                Some("441303-sanitation")
            )
        )
        .await,
        ["44130201001000002"]
    );
    for bad in ["1", "010", "0100a", "010010"] {
        match store
            .list_components(&q(None, Some(bad), None, None), all())
            .await
        {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("category filter {bad:?}: expected Invalid, got {other:?}"),
        }
    }

    let p = store
        .list_components(&ComponentQuery::default(), page(2, 2))
        .await
        .expect("page");
    assert_eq!((p.total, p.page, p.page_size), (5, 2, 2));
    assert_eq!(
        p.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        &every[2..4]
    );

    for want in fixtures::components() {
        let got = store
            .get_component(want.id.as_str())
            .await
            .expect("get_component")
            .expect("exists");
        assert_eq!(got, want);
    }
    assert_eq!(
        store
            .get_component("44130299999000001")
            .await
            .expect("get_component"),
        None
    );
}

/// Writes issued at the same time all succeed (SQLite: they queue on the single writer).
pub async fn concurrent_writes_succeed(store: &dyn Store) {
    import_fixture(store).await;
    let users: Vec<_> = (0..6)
        .map(|i| new_user(&format!("c{i}"), &[Role::Handler], None, None, &[]))
        .collect();
    let batch = fixtures::batch();
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        store.create_user(&users[0]),
        store.create_user(&users[1]),
        store.create_user(&users[2]),
        store.create_user(&users[3]),
        store.create_user(&users[4]),
        store.create_user(&users[5]),
        store.apply_import(&batch),
        store.set_meta("k", "v"),
    );
    for r in [a, b, c, d, e, f] {
        r.expect("concurrent create_user");
    }
    g.expect("concurrent import");
    h.expect("concurrent set_meta");
    let (rq, cq) = (RegionQuery::default(), ComponentQuery::default());
    let (r1, r2, r3) = tokio::join!(
        store.list_regions(&rq, all()),
        store.list_components(&cq, all()),
        store.stats(),
    );
    assert_eq!(r1.expect("regions").total, 12);
    assert_eq!(r2.expect("components").total, 5);
    assert_eq!(r3.expect("stats").users, 11);
}

/// 25,000 regions with polygons and 60,000 components import in one transaction, quickly; a second
/// import of the same batch upserts. Prints the timings.
pub async fn large_import(store: &dyn Store) {
    let batch = fixtures::large_batch(25_000, 60_000);
    let started = Instant::now();
    let summary = store.apply_import(&batch).await.expect("large import");
    let first = started.elapsed();
    assert_eq!((summary.regions, summary.components), (25_000, 60_000));
    let started = Instant::now();
    store.apply_import(&batch).await.expect("large re-import");
    let second = started.elapsed();
    eprintln!(
        "[{}] import of 25,000 regions + 60,000 components: {:.2} s (re-import as upsert: {:.2} s)",
        store.backend(),
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    let stats = store.stats().await.expect("stats");
    assert_eq!(
        (stats.regions, stats.grids, stats.components),
        (25_000, 24_887, 60_000)
    );
    let grids = store
        .regions_with_geometry(RegionLevel::Grid)
        .await
        .expect("grids");
    assert_eq!(grids.len(), 24_887);
    assert!(
        grids.windows(2).all(|w| w[0].code < w[1].code),
        "ordered by code"
    );
    let want = &batch.components[12_345];
    assert_eq!(
        store
            .get_component(want.id.as_str())
            .await
            .expect("get")
            .as_ref(),
        Some(want)
    );
    let p = store
        .list_components(
            &ComponentQuery {
                category: Some("02".into()),
                ..Default::default()
            },
            page(3, 1000),
        )
        .await
        .expect("list");
    assert_eq!((p.total, p.items.len()), (20_000, 1000));
}

/// A deactivated user's sessions stop working at once; reactivating restores them; unknown ids are
/// NotFound.
pub async fn sessions_end_when_user_deactivated(store: &dyn Store) {
    store
        .apply_import(&fixtures::batch())
        .await
        .expect("import");
    let user = store
        .credentials("handler1")
        .await
        .expect("credentials")
        .expect("exists")
        .user;
    let now = Utc::now();
    store
        .create_session(&NewSession::new(
            "0123456789abcdef0123456789abcdef",
            "h-active",
            user.id,
            now,
            now + Duration::hours(1),
        ))
        .await
        .expect("create_session");
    assert!(
        store
            .session_user("h-active", now)
            .await
            .expect("session_user")
            .is_some()
    );
    store
        .set_user_active(user.id, false)
        .await
        .expect("deactivate");
    assert_eq!(
        store
            .session_user("h-active", now)
            .await
            .expect("session_user"),
        None
    );
    assert!(
        !store
            .get_user(user.id)
            .await
            .expect("get_user")
            .expect("exists")
            .active
    );
    store
        .set_user_active(user.id, true)
        .await
        .expect("reactivate");
    assert!(
        store
            .session_user("h-active", now)
            .await
            .expect("session_user")
            .is_some()
    );
    assert!(matches!(
        store.set_user_active(i64::MAX, false).await,
        Err(StoreError::NotFound)
    ));
}

/// A user sees his own unexpired sessions (newest first, the asking one marked, never a token
/// hash) and revokes one by id or all but the current; another user's id revokes nothing.
pub async fn sessions_listed_and_revoked_per_user(store: &dyn Store) {
    import_fixture(store).await;
    let user = |name: &'static str| async move {
        store
            .credentials(name)
            .await
            .expect("credentials")
            .expect("exists")
            .user
    };
    let (me, other) = (user("dispatcher1").await, user("handler1").await);
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 1, 8, 0, 0)
        .single()
        .expect("time");
    let mut phone = NewSession::new(
        "11111111111111111111111111111111",
        "hash-phone",
        me.id,
        t0,
        t0 + Duration::hours(12),
    );
    phone.address = Some("198.51.100.7".into());
    phone.user_agent = Some("Mozilla/5.0 (Android)".into());
    let desk = NewSession::new(
        "22222222222222222222222222222222",
        "hash-desk",
        me.id,
        t0 + Duration::minutes(5),
        t0 + Duration::hours(12),
    );
    let old = NewSession::new(
        "33333333333333333333333333333333",
        "hash-old",
        me.id,
        t0 - Duration::hours(20),
        t0 - Duration::hours(8),
    );
    let theirs = NewSession::new(
        "44444444444444444444444444444444",
        "hash-theirs",
        other.id,
        t0,
        t0 + Duration::hours(12),
    );
    for s in [&phone, &desk, &old, &theirs] {
        store.create_session(s).await.expect("create_session");
    }

    let listed = store
        .list_sessions(me.id, "hash-desk", t0, all())
        .await
        .expect("list_sessions");
    assert_eq!(
        listed.total,
        2,
        "{}: the expired one is not listed",
        store.backend()
    );
    assert_eq!(
        listed.items,
        vec![
            SessionInfo {
                id: desk.id.clone(),
                created_at: desk.created_at,
                expires_at: desk.expires_at,
                address: None,
                user_agent: None,
                current: true,
            },
            SessionInfo {
                id: phone.id.clone(),
                created_at: phone.created_at,
                expires_at: phone.expires_at,
                address: phone.address.clone(),
                user_agent: phone.user_agent.clone(),
                current: false,
            },
        ],
        "{}",
        store.backend()
    );
    let second = store
        .list_sessions(me.id, "hash-desk", t0, page(2, 1))
        .await
        .expect("list_sessions");
    assert_eq!(
        (second.total, second.items[0].id.as_str()),
        (2, phone.id.as_str())
    );

    // Another user's session id revokes nothing; one's own revokes exactly that one.
    assert!(
        !store
            .delete_user_session(me.id, &theirs.id)
            .await
            .expect("delete")
    );
    assert!(
        store
            .session_user("hash-theirs", t0)
            .await
            .expect("s")
            .is_some()
    );
    assert!(
        store
            .delete_user_session(me.id, &phone.id)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_user_session(me.id, &phone.id)
            .await
            .expect("delete twice")
    );
    assert_eq!(store.session_user("hash-phone", t0).await.expect("s"), None);

    // All but the current one (the expired one included); the other user keeps his.
    store
        .create_session(&NewSession::new(
            "55555555555555555555555555555555",
            "hash-tablet",
            me.id,
            t0,
            t0 + Duration::hours(1),
        ))
        .await
        .expect("create_session");
    assert_eq!(
        store
            .delete_other_sessions(me.id, "hash-desk")
            .await
            .expect("delete_other_sessions"),
        2,
        "{}: the tablet and the expired one",
        store.backend()
    );
    assert!(
        store
            .session_user("hash-desk", t0)
            .await
            .expect("s")
            .is_some()
    );
    assert_eq!(
        store.session_user("hash-tablet", t0).await.expect("s"),
        None
    );
    assert!(
        store
            .session_user("hash-theirs", t0)
            .await
            .expect("s")
            .is_some()
    );
    let left = store
        .list_sessions(me.id, "hash-desk", t0, all())
        .await
        .expect("list_sessions");
    assert_eq!(
        left.items
            .iter()
            .map(|s| (s.id.as_str(), s.current))
            .collect::<Vec<_>>(),
        vec![(desk.id.as_str(), true)]
    );
}
