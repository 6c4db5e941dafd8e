//! The stories of 一码管全域 (issue 14): object codes issued once per (division, kind) also under
//! concurrency, imports all or nothing, lists and reads within the scope, optimistic updates; a
//! check written with its photos, discrepancies and the records it opens and closes in one
//! transaction (one open record per item); the ladder's optimistic steps, the one-caller claim of
//! the enforcement case and its link with the evidence photos; discrepancies and the records the
//! statistics count, within the scope.
use chrono::{DateTime, Duration, Utc};
use cityops_domain::LngLat;
use cityops_domain::RegionCode;
use cityops_domain::case::CaseSource;
use cityops_domain::objects::{
    Check, CheckKind, CheckResult, Checklists, LadderConfig, ManagedObject, ObjectCode, ObjectKind,
    ObjectRegions, PositionCheck, RectStage, Rectification, ResponsibilityZone, ResponsibleParty,
    compare,
};
use cityops_store::{
    DiscrepancyFilter, DiscrepancyKind, NewCheckRecord, NewObject, ObjectFilter, ObjectScope,
    PageRequest, RectStatus, RectificationFilter, RectificationUpdate, Store, StoreError,
    StoredObject,
};

use crate::case_fixtures::{World, attachment, join_all, location, new_report, t0};

const ALL: PageRequest = PageRequest {
    page: 1,
    page_size: 100,
};

const GRID_A: &str = "441302001001001";
const GRID_B: &str = "441303001001001";

fn regions(grid: &str) -> ObjectRegions {
    ObjectRegions::from_grid(RegionCode::parse(grid).expect("grid")).expect("regions")
}

fn new_object(
    name: &str,
    kind: ObjectKind,
    grid: &str,
    party: Option<i64>,
    department: Option<i64>,
    at: DateTime<Utc>,
) -> NewObject {
    NewObject {
        code: None,
        division: grid[..6].to_string(),
        kind,
        name: name.to_string(),
        address: format!("{name} 门牌"),
        point: LngLat {
            lng: 114.41,
            lat: 23.11,
        },
        zone: None,
        regions: regions(grid),
        responsible: ResponsibleParty {
            user_id: party,
            name: "陈小明".into(),
            phone: "13800001234".into(),
        },
        owner_department_id: department,
        by_user: None,
        at,
    }
}

fn prefixes(p: &[&str]) -> ObjectScope {
    ObjectScope {
        region_prefixes: p.iter().map(|s| s.to_string()).collect(),
        ..ObjectScope::default()
    }
}

fn codes(page: &[StoredObject]) -> Vec<String> {
    page.iter().map(|o| o.object.name.clone()).collect()
}

pub async fn object_codes_are_issued_once_per_division_and_kind(store: &dyn Store) {
    let _w = World::new(store).await;
    // Twenty shops created at once: twenty distinct codes, numbers 1–20.
    let news: Vec<NewObject> = (0..20)
        .map(|i| {
            new_object(
                &format!("店{i}"),
                ObjectKind::StreetShop,
                GRID_A,
                None,
                None,
                t0(),
            )
        })
        .collect();
    let created = join_all(news.iter().map(|n| store.create_object(n)).collect()).await;
    let mut seqs: Vec<u32> = created
        .into_iter()
        .map(|r| r.expect("created").object.code)
        .inspect(|c| {
            assert_eq!(c.division(), "441302");
            assert_eq!(c.kind(), ObjectKind::StreetShop);
        })
        .map(|c| c.sequence())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<u32>>());
    // Another kind and another division count on their own.
    let school = store
        .create_object(&new_object(
            "学校",
            ObjectKind::School,
            GRID_A,
            None,
            None,
            t0(),
        ))
        .await
        .expect("school");
    assert_eq!(school.object.code.sequence(), 1);
    let b = store
        .create_object(&new_object(
            "惠阳店",
            ObjectKind::StreetShop,
            GRID_B,
            None,
            None,
            t0(),
        ))
        .await
        .expect("b");
    assert_eq!(
        (b.object.code.division(), b.object.code.sequence()),
        ("441303", 1)
    );
    // A kept code is kept, and the numbers issued after it come after it.
    let kept = ObjectCode::new("441302", ObjectKind::StreetShop, 500).expect("code");
    let mut n = new_object("老店", ObjectKind::Restaurant, GRID_A, None, None, t0());
    n.code = Some(kept.clone());
    let stored = store.create_object(&n).await.expect("kept");
    assert_eq!(stored.object.code, kept);
    assert_eq!(
        stored.object.kind,
        ObjectKind::Restaurant,
        "the kind may differ"
    );
    assert!(matches!(
        store.create_object(&n).await,
        Err(StoreError::Conflict(_))
    ));
    let next = store
        .create_object(&new_object(
            "新店",
            ObjectKind::StreetShop,
            GRID_A,
            None,
            None,
            t0(),
        ))
        .await
        .expect("next");
    assert_eq!(next.object.code.sequence(), 501);
    // The last number of a division and kind, then nothing more.
    let last =
        ObjectCode::new("441302", ObjectKind::Market, ObjectCode::MAX_SEQUENCE).expect("code");
    let mut n = new_object("末号", ObjectKind::Market, GRID_A, None, None, t0());
    n.code = Some(last);
    store.create_object(&n).await.expect("last number");
    n.code = None;
    assert!(matches!(
        store.create_object(&n).await,
        Err(StoreError::Conflict(m)) if m.contains("every code")
    ));
}

pub async fn objects_import_all_or_nothing_and_update_at_their_version(store: &dyn Store) {
    let w = World::new(store).await;
    let street = w.dept("441302001-street");
    let good = new_object(
        "好店",
        ObjectKind::StreetShop,
        GRID_A,
        None,
        Some(street),
        t0(),
    );
    let mut bad = new_object(
        "坏店",
        ObjectKind::StreetShop,
        GRID_A,
        None,
        Some(987_654),
        t0(),
    );
    bad.by_user = Some(w.uid("admin"));
    let err = store
        .import_objects(&[good.clone(), bad])
        .await
        .expect_err("unknown department");
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("object 2")),
        "{err:?}"
    );
    let mut invalid = good.clone();
    invalid.name = " ".into();
    assert!(matches!(
        store.import_objects(&[good.clone(), invalid]).await,
        Err(StoreError::Invalid(m)) if m.contains("object 2")
    ));
    let none = store
        .list_objects(&ObjectFilter::default(), &ObjectScope::everything(), ALL)
        .await
        .expect("list");
    assert_eq!(none.total, 0, "nothing half-written");

    let imported = store
        .import_objects(&[good.clone(), good.clone()])
        .await
        .expect("import");
    let seqs: Vec<u32> = imported.iter().map(|o| o.object.code.sequence()).collect();
    assert_eq!(seqs, vec![1, 2], "the failed imports used no number");
    let first = &imported[0];
    assert_eq!(first.version, 1);
    assert_eq!(first.object.owner_department_id, Some(street));

    // Update at the version read; a stale version conflicts; an unknown code is not found.
    let mut changed = first.object.clone();
    changed.name = "好店（更名）".into();
    changed.zone = Some(
        ResponsibilityZone::new(vec![
            LngLat {
                lng: 114.41,
                lat: 23.11,
            },
            LngLat {
                lng: 114.4101,
                lat: 23.11,
            },
            LngLat {
                lng: 114.4101,
                lat: 23.1101,
            },
        ])
        .expect("zone"),
    );
    let at = t0() + Duration::hours(1);
    let updated = store
        .update_object(&changed, 1, Some(w.uid("admin")), at)
        .await
        .expect("update");
    assert_eq!((updated.version, updated.updated_at), (2, at));
    assert_eq!(updated.created_at, first.created_at);
    assert!(matches!(
        store.update_object(&changed, 1, None, at).await,
        Err(StoreError::Conflict(_))
    ));
    let mut ghost = changed.clone();
    ghost.code = ObjectCode::new("441302", ObjectKind::School, 77).expect("code");
    assert!(matches!(
        store.update_object(&ghost, 1, None, at).await,
        Err(StoreError::NotFound)
    ));
    let read = store
        .object(&changed.code, &ObjectScope::everything())
        .await
        .expect("read")
        .expect("there");
    assert_eq!(read.object, changed);
    assert_eq!(read.updated_by, Some(w.uid("admin")));
}

pub async fn objects_are_listed_and_read_within_the_scope(store: &dyn Store) {
    let w = World::new(store).await;
    let street = w.dept("441302001-street");
    let party = w.uid("citizen1");
    let a1 = new_object(
        "肠粉店",
        ObjectKind::Restaurant,
        GRID_A,
        Some(party),
        Some(street),
        t0(),
    );
    let a2 = new_object(
        "Alpha Mart",
        ObjectKind::StreetShop,
        GRID_A,
        None,
        None,
        t0(),
    );
    let b1 = new_object("惠阳肠粉", ObjectKind::Restaurant, GRID_B, None, None, t0());
    let stored = store.import_objects(&[a1, a2, b1]).await.expect("import");
    let list = |filter: ObjectFilter, scope: ObjectScope| async move {
        let page = store
            .list_objects(&filter, &scope, ALL)
            .await
            .expect("list");
        assert_eq!(page.total as usize, page.items.len());
        codes(&page.items)
    };
    let all = ObjectScope::everything();
    assert_eq!(list(ObjectFilter::default(), all.clone()).await.len(), 3);
    let restaurants = ObjectFilter {
        kind: Some(ObjectKind::Restaurant),
        ..Default::default()
    };
    assert_eq!(list(restaurants.clone(), all.clone()).await.len(), 2);
    assert_eq!(
        list(restaurants, prefixes(&["441303"])).await,
        vec!["惠阳肠粉"]
    );
    let text = |q: &str| ObjectFilter {
        q: Some(q.into()),
        ..Default::default()
    };
    assert_eq!(list(text("肠粉"), all.clone()).await.len(), 2);
    assert_eq!(list(text("alpha"), all.clone()).await, vec!["Alpha Mart"]);
    assert_eq!(list(text("%"), all.clone()).await.len(), 0, "literal");
    let code = stored[0].object.code.to_string();
    assert_eq!(list(text(&code), all.clone()).await, vec!["肠粉店"]);
    assert_eq!(list(text("4413"), all.clone()).await.len(), 3);
    let by_street = ObjectFilter {
        street: Some("441302001".into()),
        ..Default::default()
    };
    assert_eq!(list(by_street, all.clone()).await.len(), 2);
    // Scopes: a department, a responsible party, a region of a grid.
    let dept = ObjectScope {
        department_id: Some(street),
        ..Default::default()
    };
    assert_eq!(list(ObjectFilter::default(), dept).await, vec!["肠粉店"]);
    let own = ObjectScope {
        responsible_user_id: Some(party),
        ..Default::default()
    };
    assert_eq!(
        list(ObjectFilter::default(), own.clone()).await,
        vec!["肠粉店"]
    );
    assert_eq!(
        list(ObjectFilter::default(), prefixes(&[GRID_A, "441303001"]))
            .await
            .len(),
        3
    );
    // One object: within the scope or not at all.
    let b_code = &stored[2].object.code;
    assert!(store.object(b_code, &own).await.expect("read").is_none());
    assert!(
        store
            .object(b_code, &prefixes(&["441303"]))
            .await
            .expect("read")
            .is_some()
    );
    assert!(own.admits(&stored[0].object) && !own.admits(&stored[2].object));
}

/// An inspection check of `object` at `at` with these results.
fn check(
    object: &ManagedObject,
    kind: CheckKind,
    by: i64,
    at: DateTime<Utc>,
    r: Vec<CheckResult>,
) -> Check {
    Check {
        kind,
        object_code: object.code.clone(),
        by_user: by,
        at,
        position: Some(LngLat {
            lng: 114.42,
            lat: 23.11,
        }),
        results: r,
    }
}

fn result(item: &str, passed: bool, photos: &[i64]) -> CheckResult {
    CheckResult {
        item_code: item.into(),
        passed,
        note: None,
        photo_ids: photos.to_vec(),
    }
}

fn open(
    w: &World,
    object: &ManagedObject,
    item: &str,
    source: CheckKind,
    at: DateTime<Utc>,
) -> Rectification {
    let set = Checklists::demo().expect("checklists");
    Rectification::open(
        object,
        set.item(item).expect("item"),
        source,
        at,
        &w.calendar,
        &LadderConfig::default(),
    )
    .expect("open")
}

pub async fn object_checks_are_written_whole_with_their_photos_and_records(store: &dyn Store) {
    let w = World::new(store).await;
    let party = w.uid("citizen1");
    let inspector = w.uid("inspector1");
    let shop = store
        .create_object(&new_object(
            "肠粉店",
            ObjectKind::Restaurant,
            GRID_A,
            Some(party),
            None,
            t0(),
        ))
        .await
        .expect("object")
        .object;
    let photo = |n: u32, by: i64| {
        let a = attachment(n, by, t0());
        async move { store.create_attachment(&a).await.expect("photo").id }
    };
    let (p1, p2, p3) = (
        photo(1, party).await,
        photo(2, inspector).await,
        photo(3, inspector).await,
    );

    // A self-check: all fine but 0301, which fails with its photo; it opens its record.
    let t1 = t0() + Duration::hours(1);
    let self_check = check(
        &shop,
        CheckKind::SelfCheck,
        party,
        t1,
        vec![
            result("0101", true, &[]),
            result("0201", true, &[]),
            result("0301", false, &[p1]),
        ],
    );
    let own = open(&w, &shop, "0301", CheckKind::SelfCheck, t1);
    let recorded = store
        .record_check(&NewCheckRecord {
            check: self_check.clone(),
            position_check: None,
            comparison: None,
            compared_with: None,
            open: vec![own.clone()],
            close: vec![],
        })
        .await
        .expect("self-check");
    assert_eq!(recorded.check.check, self_check);
    assert_eq!(recorded.check.by_name, "citizen1 显示名");
    assert_eq!(recorded.opened.len(), 1);
    assert_eq!(recorded.opened[0].record, own);
    assert_eq!(recorded.opened[0].opened_by_check, Some(recorded.check.id));
    assert_eq!(recorded.opened[0].version, 1);
    assert_eq!(
        store.check_photo_object(p1).await.expect("photo"),
        Some(shop.code.clone())
    );

    // The same item cannot be opened twice; nothing of that check is kept.
    let again = NewCheckRecord {
        check: check(
            &shop,
            CheckKind::SelfCheck,
            party,
            t1 + Duration::minutes(5),
            vec![result("0301", false, &[])],
        ),
        position_check: None,
        comparison: None,
        compared_with: None,
        open: vec![open(&w, &shop, "0301", CheckKind::SelfCheck, t1)],
        close: vec![],
    };
    assert!(matches!(
        store.record_check(&again).await,
        Err(StoreError::Conflict(_))
    ));
    // A photo of another user, or one another check holds, is refused; nothing is kept.
    let mut stolen = again.clone();
    stolen.open.clear();
    stolen.check.results = vec![result("0101", false, &[p2])];
    assert!(matches!(
        store.record_check(&stolen).await,
        Err(StoreError::Invalid(_))
    ));
    stolen.check.results = vec![result("0101", false, &[p1])];
    assert!(matches!(
        store.record_check(&stolen).await,
        Err(StoreError::Invalid(_))
    ));
    let checks = store
        .list_checks(&shop.code, None, &ObjectScope::everything(), ALL)
        .await
        .expect("checks");
    assert_eq!(checks.total, 1, "the refused checks wrote nothing");

    // The inspection: 0101 said fine and failing (a discrepancy), 0301 fine now (closes the
    // record), 0201 fine; far from the object.
    let t2 = t0() + Duration::hours(3);
    let inspection = check(
        &shop,
        CheckKind::Inspection,
        inspector,
        t2,
        vec![
            result("0101", false, &[p2, p3]),
            result("0201", true, &[]),
            result("0301", true, &[]),
        ],
    );
    let latest = store
        .latest_self_check(&shop.code, t2)
        .await
        .expect("latest")
        .expect("a self-check");
    assert_eq!(latest.id, recorded.check.id);
    assert!(
        store
            .latest_self_check(&shop.code, t0())
            .await
            .expect("latest")
            .is_none()
    );
    let comparison = compare(&inspection, Some(&latest.check)).expect("compare");
    let open_now = store.open_rectifications(&shop.code).await.expect("open");
    assert_eq!(open_now.len(), 1);
    let closed_record = open_now[0].record.close_by(&inspection).expect("closes");
    let found = open(&w, &shop, "0101", CheckKind::Inspection, t2);
    let position = PositionCheck {
        distance_m: 1_024.5,
        far: true,
    };
    let done = store
        .record_check(&NewCheckRecord {
            check: inspection.clone(),
            position_check: Some(position),
            comparison: Some(comparison.clone()),
            compared_with: Some(latest.id),
            open: vec![found.clone()],
            close: vec![RectificationUpdate {
                id: open_now[0].id,
                expected_version: open_now[0].version,
                record: closed_record.clone(),
            }],
        })
        .await
        .expect("inspection");
    assert_eq!(done.check.position_check, Some(position));
    assert_eq!(done.check.comparison.as_ref(), Some(&comparison));
    assert_eq!(done.check.compared_with, Some(latest.id));
    assert_eq!(done.closed.len(), 1);
    assert_eq!(done.closed[0].record.stage, RectStage::Rectified);
    assert_eq!(done.closed[0].closed_by_check, Some(done.check.id));
    assert_eq!(done.closed[0].version, 2);
    assert_eq!(done.opened[0].record, found);
    // The closed record cannot be closed again at its old version.
    assert!(matches!(
        store
            .save_rectification(&RectificationUpdate {
                id: open_now[0].id,
                expected_version: open_now[0].version,
                record: closed_record,
            })
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Newest first, of a kind, within the scope only.
    let page = store
        .list_checks(&shop.code, None, &ObjectScope::everything(), ALL)
        .await
        .expect("checks");
    let kinds: Vec<CheckKind> = page.items.iter().map(|c| c.check.kind).collect();
    assert_eq!(kinds, vec![CheckKind::Inspection, CheckKind::SelfCheck]);
    assert_eq!(page.items[0].check, inspection);
    let selfs = store
        .list_checks(
            &shop.code,
            Some(CheckKind::SelfCheck),
            &ObjectScope::everything(),
            ALL,
        )
        .await
        .expect("checks");
    assert_eq!(selfs.total, 1);
    let other_party = ObjectScope {
        responsible_user_id: Some(w.uid("citizen2")),
        ..Default::default()
    };
    assert!(matches!(
        store.list_checks(&shop.code, None, &other_party, ALL).await,
        Err(StoreError::NotFound)
    ));
    let ghost = ObjectCode::new("441302", ObjectKind::School, 99).expect("code");
    let mut lost = again.clone();
    lost.open.clear();
    lost.check.object_code = ghost;
    assert!(matches!(
        store.record_check(&lost).await,
        Err(StoreError::NotFound)
    ));

    // The discrepancy is listed, per street and within the scope.
    let d = store
        .list_discrepancies(
            &DiscrepancyFilter::default(),
            &ObjectScope::everything(),
            ALL,
        )
        .await
        .expect("discrepancies");
    assert_eq!(d.total, 1);
    let one = &d.items[0];
    assert_eq!(
        (one.item_code.as_str(), one.kind, one.street.as_deref()),
        ("0101", DiscrepancyKind::SelfReportedFine, Some("441302001"))
    );
    assert_eq!(
        (one.at, one.by_user, one.self_check_at),
        (t2, inspector, Some(t1))
    );
    for (filter, scope, n) in [
        (
            DiscrepancyFilter {
                street: Some("441303001".into()),
                ..Default::default()
            },
            ObjectScope::everything(),
            0,
        ),
        (
            DiscrepancyFilter {
                kind: Some(DiscrepancyKind::FailingInBoth),
                ..Default::default()
            },
            ObjectScope::everything(),
            0,
        ),
        (
            DiscrepancyFilter {
                from: Some(t2 + Duration::seconds(1)),
                ..Default::default()
            },
            ObjectScope::everything(),
            0,
        ),
        (DiscrepancyFilter::default(), prefixes(&["441303"]), 0),
        (
            DiscrepancyFilter {
                object: Some(shop.code.clone()),
                to: Some(t2 + Duration::seconds(1)),
                ..Default::default()
            },
            prefixes(&["441302001"]),
            1,
        ),
    ] {
        let page = store
            .list_discrepancies(&filter, &scope, ALL)
            .await
            .expect("discrepancies");
        assert_eq!(page.total, n, "{filter:?} {scope:?}");
        let per_street = store
            .discrepancies_per_street(&filter, &scope)
            .await
            .expect("discrepancies per street");
        let want = if n == 0 {
            vec![]
        } else {
            vec![(Some("441302001".to_string()), n)]
        };
        assert_eq!(per_street, want, "per street: {filter:?} {scope:?}");
    }

    // The records: open and closed, by stage and street, within the scope.
    let rects = |filter: RectificationFilter, scope: ObjectScope| async move {
        store
            .list_rectifications(&filter, &scope, ALL)
            .await
            .expect("records")
            .items
            .into_iter()
            .map(|r| r.record.item_code)
            .collect::<Vec<_>>()
    };
    let all = ObjectScope::everything();
    assert_eq!(
        rects(RectificationFilter::default(), all.clone()).await,
        vec!["0101", "0301"]
    );
    let open_only = RectificationFilter {
        status: Some(RectStatus::Open),
        ..Default::default()
    };
    assert_eq!(rects(open_only, all.clone()).await, vec!["0101"]);
    let closed_only = RectificationFilter {
        status: Some(RectStatus::Closed),
        object: Some(shop.code.clone()),
        street: Some("441302001".into()),
        ..Default::default()
    };
    assert_eq!(rects(closed_only, all.clone()).await, vec!["0301"]);
    let rectified = RectificationFilter {
        stage: Some(RectStage::Rectified),
        ..Default::default()
    };
    assert_eq!(rects(rectified, all).await, vec!["0301"]);
    assert!(
        rects(RectificationFilter::default(), other_party)
            .await
            .is_empty()
    );
    let opened = store
        .rectifications_opened(t1, t2 + Duration::seconds(1), &prefixes(&["441302"]))
        .await
        .expect("opened");
    assert_eq!(opened.len(), 2);
    let opened = store
        .rectifications_opened(t1 + Duration::seconds(1), t2, &ObjectScope::everything())
        .await
        .expect("opened");
    assert!(opened.is_empty(), "[from, to)");
}

pub async fn object_ladder_steps_once_and_one_caller_opens_the_enforcement_case(store: &dyn Store) {
    let w = World::new(store).await;
    let inspector = w.uid("inspector1");
    let shop = store
        .create_object(&new_object(
            "肠粉店",
            ObjectKind::Restaurant,
            GRID_A,
            None,
            None,
            t0(),
        ))
        .await
        .expect("object")
        .object;
    let photo = store
        .create_attachment(&attachment(9, inspector, t0()))
        .await
        .expect("photo")
        .id;
    let t1 = t0() + Duration::hours(1);
    let found = open(&w, &shop, "0101", CheckKind::Inspection, t1);
    let done = store
        .record_check(&NewCheckRecord {
            check: check(
                &shop,
                CheckKind::Inspection,
                inspector,
                t1,
                vec![result("0101", false, &[photo])],
            ),
            position_check: None,
            comparison: None,
            compared_with: None,
            open: vec![found],
            close: vec![],
        })
        .await
        .expect("inspection");
    let rec = done.opened[0].clone();
    // Opened by an inspection: due at once (not before its opening).
    assert!(
        store
            .due_rectifications(t0(), 10)
            .await
            .expect("due")
            .is_empty()
    );
    let due = store.due_rectifications(t1, 10).await.expect("due");
    assert_eq!(due.iter().map(|r| r.id).collect::<Vec<_>>(), vec![rec.id]);

    // Notice 1, taken by one of two racing callers.
    let cfg = LadderConfig::default();
    let (next, _) = rec
        .record
        .advance(t1, &w.calendar, &cfg)
        .expect("ok")
        .expect("notice 1");
    let update = RectificationUpdate {
        id: rec.id,
        expected_version: rec.version,
        record: next.clone(),
    };
    let raced = join_all(vec![
        store.save_rectification(&update),
        store.save_rectification(&update),
    ])
    .await;
    assert_eq!(raced.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        raced
            .iter()
            .any(|r| matches!(r, Err(StoreError::Conflict(_))))
    );
    let saved = store
        .rectification(rec.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((saved.record.stage, saved.version), (RectStage::Notice1, 2));
    let notice_due = next.due.expect("a deadline");
    assert!(
        store
            .due_rectifications(notice_due - Duration::seconds(1), 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        store
            .due_rectifications(notice_due, 10)
            .await
            .expect("due")
            .len(),
        1
    );

    // Straight to the hand-over (the steps in between are the domain's).
    let mut handed = saved.record.clone();
    handed.stage = RectStage::Enforcement;
    handed.due = None;
    handed.handed_over_at = Some(notice_due + Duration::hours(1));
    handed.updated_at = notice_due + Duration::hours(1);
    let saved = store
        .save_rectification(&RectificationUpdate {
            id: rec.id,
            expected_version: saved.version,
            record: handed,
        })
        .await
        .expect("handed over");
    assert!(
        store
            .due_rectifications(notice_due + Duration::days(30), 10)
            .await
            .expect("due")
            .is_empty(),
        "nothing more is due once handed over"
    );
    let now = notice_due + Duration::hours(2);
    let stale = now - Duration::seconds(60);
    let waiting = store
        .rectifications_awaiting_case(stale, 10)
        .await
        .expect("awaiting");
    assert_eq!(
        waiting.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![saved.id]
    );

    // One of several callers claims; a claim goes stale after a while.
    let claims = join_all(vec![
        store.claim_enforcement(rec.id, now, stale),
        store.claim_enforcement(rec.id, now, stale),
        store.claim_enforcement(rec.id, now, stale),
    ])
    .await;
    assert_eq!(claims.iter().filter(|c| matches!(c, Ok(true))).count(), 1);
    assert!(
        store
            .rectifications_awaiting_case(stale, 10)
            .await
            .expect("awaiting")
            .is_empty()
    );
    let later = now + Duration::minutes(5);
    assert!(
        store
            .claim_enforcement(rec.id, later, later - Duration::seconds(60))
            .await
            .expect("take over a stale claim")
    );

    // The case is linked once, with the inspection's photo as its evidence.
    let case = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                location(GRID_A, 114.41, 23.11, "肠粉店"),
                "移交执法",
            ),
            later,
        )
        .await;
    assert!(
        store
            .link_enforcement_case(rec.id, case.id, &[photo])
            .await
            .expect("link")
    );
    assert!(
        !store
            .link_enforcement_case(rec.id, case.id + 1, &[photo])
            .await
            .expect("link again")
    );
    let linked = store
        .rectification(rec.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(linked.enforcement_case_id, Some(case.id));
    let photos = store.case_attachments(case.id).await.expect("photos");
    assert_eq!(photos.iter().map(|a| a.id).collect::<Vec<_>>(), vec![photo]);
    assert!(
        !store
            .claim_enforcement(
                rec.id,
                later + Duration::hours(1),
                later + Duration::hours(1)
            )
            .await
            .expect("claim"),
        "no claim once the case is linked"
    );
    assert!(
        store
            .rectifications_awaiting_case(later + Duration::hours(1), 10)
            .await
            .expect("awaiting")
            .is_empty()
    );
}
