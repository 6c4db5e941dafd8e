//! The stories of the cache versions (`CacheRepo`) and the audit checkpoint (`AuditRepo`). Each
//! takes a freshly connected, migrated, empty store and panics (naming the backend) on a breach.
use cityops_domain::case::CaseSource;
use cityops_store::{
    AuditCheckpoint, CacheVersions, CalendarDay, CategoryKind, DayKind, ImportBatch, Result,
    RoutingRule, Store, StoreError,
};

use crate::case_fixtures::{World, at_min, location, new_report};
use crate::fixtures;

async fn versions(store: &dyn Store) -> CacheVersions {
    store.cache_versions().await.expect("cache_versions")
}

/// Asserts that `after` differs from `before` exactly in the named numbers, which grew.
fn assert_bumped(
    store: &dyn Store,
    what: &str,
    before: CacheVersions,
    after: CacheVersions,
    routing: bool,
    calendar: bool,
    catalogue: bool,
) {
    let check = |name: &str, b: i64, a: i64, bumped: bool| {
        if bumped {
            assert!(
                a > b,
                "{}: {what} bumps {name} ({b} → {a})",
                store.backend()
            );
        } else {
            assert_eq!(a, b, "{}: {what} leaves {name} alone", store.backend());
        }
    };
    check("routing", before.routing, after.routing, routing);
    check("calendar", before.calendar, after.calendar, calendar);
    check("catalogue", before.catalogue, after.catalogue, catalogue);
}

fn invalid<T: std::fmt::Debug>(store: &dyn Store, what: &str, r: Result<T>) -> String {
    match r {
        Err(StoreError::Invalid(m)) => m,
        other => panic!("{}: {what} must be Invalid, got {other:?}", store.backend()),
    }
}

/// Each write of cached data bumps exactly its own version in the same transaction; a rejected
/// write and every other write bump nothing.
pub async fn cache_versions_follow_their_writes(store: &dyn Store) {
    let v0 = versions(store).await;
    assert_eq!(
        v0,
        CacheVersions::default(),
        "{}: a new database starts at zero",
        store.backend()
    );
    assert_eq!(versions(store).await, v0, "reading changes nothing");

    // An import (the catalogue, departments, users) bumps the catalogue.
    let w = World::new(store).await;
    let v1 = versions(store).await;
    assert_bumped(store, "an import", v0, v1, false, false, true);

    // An import that fails inside its transaction (unknown department) bumps nothing.
    let mut bad = ImportBatch {
        categories: vec![fixtures::category(
            CategoryKind::Component,
            "03001",
            "园林绿化",
            "古树名木",
            None,
        )],
        components: fixtures::batch().components,
        ..ImportBatch::default()
    };
    bad.components[0].owner_department = Some("no-such-dept".into());
    invalid(store, "a bad import", store.apply_import(&bad).await);
    assert_eq!(
        versions(store).await,
        v1,
        "{}: a failed import",
        store.backend()
    );

    // The routing matrix.
    let rule = |cat: &str, dept: i64| RoutingRule {
        category_kind: CategoryKind::Matter,
        category_code: cat.into(),
        region_code: "441300".into(),
        department_id: dept,
        auto_dispatch: false,
    };
    store
        .replace_routing_rules(&[rule("01", w.dept("441300-municipal"))])
        .await
        .expect("replace_routing_rules");
    let v2 = versions(store).await;
    assert_bumped(store, "a routing change", v1, v2, true, false, false);
    for (what, rules) in [
        ("an unknown department", vec![rule("02", i64::MAX)]),
        (
            "a malformed rule",
            vec![rule("1", w.dept("441300-municipal"))],
        ),
    ] {
        invalid(store, what, store.replace_routing_rules(&rules).await);
        assert_eq!(
            versions(store).await,
            v2,
            "{}: routing rules with {what} bump nothing",
            store.backend()
        );
    }

    // The holiday schedule.
    let day = |d: u32, kind, name: &str| CalendarDay {
        date: chrono::NaiveDate::from_ymd_opt(2026, 10, d).expect("valid date"),
        kind,
        name: name.into(),
    };
    store
        .put_calendar_days(&[
            day(1, DayKind::Holiday, "国庆节"),
            day(10, DayKind::Workday, "国庆节调休"),
        ])
        .await
        .expect("put_calendar_days");
    let v3 = versions(store).await;
    assert_bumped(store, "a holiday change", v2, v3, false, true, false);

    // Writes of other data bump nothing: a report, a transition.
    let x = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "井盖缺失",
            ),
            at_min(1),
        )
        .await;
    w.file(store, &x, "01001", at_min(2)).await;
    assert_eq!(
        versions(store).await,
        v3,
        "{}: case writes",
        store.backend()
    );

    // Clearing the matrix is a routing change too.
    let again = store
        .replace_routing_rules(&[])
        .await
        .expect("replace_routing_rules");
    assert_eq!(again, 0);
    assert_bumped(
        store,
        "clearing the matrix",
        v3,
        versions(store).await,
        true,
        false,
        false,
    );
}

/// The audit checkpoint is absent at first, stored as given, and never moves backwards.
pub async fn audit_checkpoint_moves_forward(store: &dyn Store) {
    assert_eq!(
        store.audit_checkpoint().await.expect("audit_checkpoint"),
        None,
        "{}: no checkpoint before the first verification",
        store.backend()
    );
    let cp = |seq: i64, minutes| AuditCheckpoint {
        seq,
        hash: format!("{seq:064x}"),
        verified_at: at_min(minutes) + chrono::Duration::microseconds(123_456),
    };
    store
        .save_audit_checkpoint(&cp(5, 1))
        .await
        .expect("save_audit_checkpoint");
    assert_eq!(
        store.audit_checkpoint().await.expect("audit_checkpoint"),
        Some(cp(5, 1)),
        "{}: stored as given",
        store.backend()
    );
    store
        .save_audit_checkpoint(&cp(3, 2))
        .await
        .expect("save_audit_checkpoint");
    assert_eq!(
        store.audit_checkpoint().await.expect("audit_checkpoint"),
        Some(cp(5, 1)),
        "{}: a lower seq is ignored",
        store.backend()
    );
    store
        .save_audit_checkpoint(&cp(9, 3))
        .await
        .expect("save_audit_checkpoint");
    assert_eq!(
        store.audit_checkpoint().await.expect("audit_checkpoint"),
        Some(cp(9, 3)),
        "{}: a higher seq replaces it",
        store.backend()
    );
}
