//! The stories of the cache versions (`CacheRepo`), the audit checkpoint (`AuditRepo`) and the
//! claim of photos inside a case's transaction. Each takes a freshly connected, migrated, empty
//! store and panics (naming the backend) on a breach.
use std::collections::BTreeSet;

use cityops_domain::case::{
    ActionInput, CaseAction, CaseSource, GENESIS_HASH, NewReport, verify_chain,
};
use cityops_store::{
    AuditCheckpoint, CacheVersions, CalendarDay, CaseEvent, CaseQuery, CaseVisibility,
    CategoryKind, DayKind, ImportBatch, Result, RoutingRule, Store, StoreError,
};

use crate::case_fixtures::{
    World, at_min, attachment, code_of, join_all, local_date, location, new_report,
};
use crate::fixtures;
use crate::fixtures::system_change;

fn all() -> cityops_store::PageRequest {
    cityops_store::PageRequest {
        page: 1,
        page_size: 1000,
    }
}

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
        .replace_routing_rules(&[rule("01", w.dept("441300-municipal"))], &system_change())
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
        invalid(
            store,
            what,
            store.replace_routing_rules(&rules, &system_change()).await,
        );
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
        .put_calendar_days(
            &[
                day(1, DayKind::Holiday, "国庆节"),
                day(10, DayKind::Workday, "国庆节调休"),
            ],
            &system_change(),
        )
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
        .replace_routing_rules(&[], &system_change())
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
    // (saved, then stored, why): a lower seq never moves the checkpoint back.
    for (saved, stored, why) in [
        (cp(5, 1), cp(5, 1), "stored as given"),
        (cp(3, 2), cp(5, 1), "a lower seq is ignored"),
        (cp(9, 3), cp(9, 3), "a higher seq replaces it"),
    ] {
        store
            .save_audit_checkpoint(&saved)
            .await
            .expect("save_audit_checkpoint");
        assert_eq!(
            store.audit_checkpoint().await.expect("audit_checkpoint"),
            Some(stored),
            "{}: {why}",
            store.backend()
        );
    }
}

/// The whole chain verifies; returns it.
async fn verified_chain(store: &dyn Store) -> Vec<CaseEvent> {
    let events = store.audit_events(0, 100_000).await.expect("audit_events");
    if let Err(b) = verify_chain(0, GENESIS_HASH.to_string(), &events) {
        panic!(
            "{}: the chain is broken at {}: {}",
            store.backend(),
            b.seq,
            b.reason
        );
    }
    events
}

/// Every stored case, by id.
async fn all_cases(store: &dyn Store) -> Vec<cityops_store::Case> {
    let mut q = CaseQuery::new(at_min(0));
    q.sort = cityops_store::CaseSort::CreatedAsc;
    store
        .list_cases(&q, &CaseVisibility::everything(), all())
        .await
        .expect("list_cases")
        .items
}

fn report_with(description: &str, lng: f64, photos: Vec<i64>) -> NewReport {
    let mut r = new_report(
        CaseSource::Citizen,
        None,
        location("441302001001001", lng, 23.055, ""),
        description,
    );
    r.attachments = photos;
    r
}

/// Two concurrent reports claiming one photo: exactly one is stored and owns it, the other is
/// `Invalid` and leaves nothing (no case, event, code or link); reports queued beside them
/// (SQLite's group commit) are stored; the chain verifies. A report naming a missing photo is
/// `Invalid` too.
pub async fn attachment_claimed_by_one_report(store: &dyn Store) {
    let w = World::new(store).await;
    let photo = store
        .create_attachment(&attachment(1, w.uid("citizen1"), at_min(0)))
        .await
        .expect("create_attachment");
    let now = at_min(5);
    let contenders = [
        w.report("citizen1", report_with("甲", 114.401, vec![photo.id]), now),
        w.report("citizen2", report_with("乙", 114.402, vec![photo.id]), now),
    ];
    let bystanders: Vec<_> = (0..4)
        .map(|i| {
            w.report(
                "citizen1",
                report_with(&format!("旁{i}"), 114.41 + 0.001 * f64::from(i), vec![]),
                now,
            )
        })
        .collect();
    let day = local_date(now);
    let mut calls = Vec::new();
    for (case, event, notify) in contenders.iter().chain(&bystanders) {
        calls.push(store.create_case(case, day, event, notify));
    }
    let results = join_all(calls).await;
    let (fought, rest) = results.split_at(2);
    for r in rest {
        assert!(
            r.is_ok(),
            "{}: a report beside the contest is stored: {r:?}",
            store.backend()
        );
    }
    let winners: Vec<_> = fought.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "{}: exactly one report gets the photo: {fought:?}",
        store.backend()
    );
    let winner = winners[0];
    let loser = fought
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("one report lost");
    match loser {
        StoreError::Invalid(m) => assert!(
            m.contains(&photo.id.to_string()) && m.contains("already belong"),
            "{}: the error names the photo: {m}",
            store.backend()
        ),
        other => panic!(
            "{}: the loser must be Invalid, got {other:?}",
            store.backend()
        ),
    }
    assert_eq!(
        store
            .get_attachments(&[photo.id])
            .await
            .expect("get_attachments")[0]
            .case_id,
        Some(winner.id),
        "{}: the photo belongs to the winner",
        store.backend()
    );

    // Nothing of the loser: five cases, numbered 1..=5 without a gap, five report events.
    let cases = all_cases(store).await;
    let loser_text = if winner.description == "甲" {
        "乙"
    } else {
        "甲"
    };
    assert_eq!(
        cases.len(),
        5,
        "{}: the loser's case is not stored",
        store.backend()
    );
    assert!(cases.iter().all(|c| c.description != loser_text));
    assert_eq!(
        cases
            .iter()
            .map(|c| c.code.clone())
            .collect::<BTreeSet<_>>(),
        (1..=5).map(|n| code_of(day, n)).collect::<BTreeSet<_>>(),
        "{}: the loser used no case code",
        store.backend()
    );
    let events = verified_chain(store).await;
    let ids: BTreeSet<i64> = cases.iter().map(|c| c.id).collect();
    assert_eq!(
        events.len(),
        5,
        "{}: the loser's event is not stored",
        store.backend()
    );
    assert!(events.iter().all(|e| ids.contains(&e.event.case_id)));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.attachments.contains(&photo.id))
            .map(|e| e.event.case_id)
            .collect::<Vec<_>>(),
        vec![winner.id]
    );

    // The loser reports again without the photo; a report naming a missing photo fails alone.
    let (case, event, notify) = &contenders[if loser_text == "甲" { 0 } else { 1 }];
    let mut event = event.clone();
    event.attachments.clear();
    store
        .create_case(case, day, &event, notify)
        .await
        .expect("the report without the photo");
    let (case, event, notify) =
        w.report("citizen1", report_with("无图", 114.43, vec![i64::MAX]), now);
    let m = invalid(
        store,
        "a missing photo",
        store.create_case(&case, day, &event, &notify).await,
    );
    assert!(
        m.contains(&i64::MAX.to_string()),
        "{}: {m}",
        store.backend()
    );
    assert_eq!(all_cases(store).await.len(), 6);
    assert_eq!(verified_chain(store).await.len(), 6);
}

/// Two concurrent transitions of different cases claiming one photo: exactly one is stored, the
/// other is `Invalid` and leaves its case as it was (version, status, events), so it can be taken
/// again without the photo. A later transition of the winner may list its own photo again.
pub async fn attachment_claimed_by_one_transition(store: &dyn Store) {
    let w = World::new(store).await;
    let photo = store
        .create_attachment(&attachment(1, w.uid("citizen1"), at_min(0)))
        .await
        .expect("create_attachment");
    let x = w
        .create(
            store,
            "citizen1",
            report_with("甲", 114.401, vec![]),
            at_min(1),
        )
        .await;
    let y = w
        .create(
            store,
            "citizen2",
            report_with("乙", 114.402, vec![]),
            at_min(1),
        )
        .await;
    let filing = ActionInput {
        category_kind: Some(CategoryKind::Matter),
        category_code: Some("01001".into()),
        attachments: vec![photo.id],
        ..ActionInput::default()
    };
    let tx = w.transition(&x, "duty1", CaseAction::File, &filing, at_min(2), None);
    let ty = w.transition(&y, "duty1", CaseAction::File, &filing, at_min(2), None);
    let results = join_all(vec![
        store.save_transition(&tx.case, &tx.event, &tx.notify, tx.follow),
        store.save_transition(&ty.case, &ty.event, &ty.notify, ty.follow),
    ])
    .await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        won.len(),
        1,
        "{}: exactly one transition gets the photo: {results:?}",
        store.backend()
    );
    let winner = won[0].clone();
    let loser = if winner.id == x.id { &y } else { &x };
    let m = match results.iter().find_map(|r| r.as_ref().err()) {
        Some(StoreError::Invalid(m)) => m.clone(),
        other => panic!(
            "{}: the loser must be Invalid, got {other:?}",
            store.backend()
        ),
    };
    assert!(
        m.contains(&photo.id.to_string()),
        "{}: {m}",
        store.backend()
    );
    assert_eq!(
        store
            .get_attachments(&[photo.id])
            .await
            .expect("get_attachments")[0]
            .case_id,
        Some(winner.id)
    );
    let everyone = CaseVisibility::everything();
    assert_eq!(
        store
            .get_case(loser.id, &everyone)
            .await
            .expect("get_case")
            .as_ref(),
        Some(loser),
        "{}: the loser's case is unchanged",
        store.backend()
    );
    let loser_events = store
        .case_events(loser.id, &everyone)
        .await
        .expect("case_events")
        .expect("visible");
    assert_eq!(
        loser_events.len(),
        1,
        "{}: only the report event",
        store.backend()
    );
    assert_eq!(verified_chain(store).await.len(), 3);

    // The loser files again without the photo (its version did not move).
    let again = ActionInput {
        attachments: Vec::new(),
        ..filing.clone()
    };
    let filed = w
        .act(store, loser, "duty1", CaseAction::File, again, at_min(3))
        .await;
    assert_eq!(filed.version, loser.version + 1);
    // The winner lists its own photo once more: still its own, accepted.
    let winner = w
        .act(
            store,
            &winner,
            "dispatcher1",
            CaseAction::Dispatch,
            ActionInput {
                department_id: Some(w.dept("441300-municipal")),
                attachments: vec![photo.id],
                ..ActionInput::default()
            },
            at_min(4),
        )
        .await;
    assert_eq!(
        store
            .case_attachments(winner.id)
            .await
            .expect("case_attachments")
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![photo.id]
    );
    // Another case cannot take it later either.
    let t = w.transition(
        &filed,
        "dispatcher1",
        CaseAction::Dispatch,
        &ActionInput {
            department_id: Some(w.dept("441300-municipal")),
            attachments: vec![photo.id],
            ..ActionInput::default()
        },
        at_min(5),
        None,
    );
    invalid(
        store,
        "a photo of another case",
        store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await,
    );
    assert_eq!(
        store
            .get_case(filed.id, &everyone)
            .await
            .expect("get_case")
            .map(|c| c.version),
        Some(filed.version)
    );
    assert_eq!(verified_chain(store).await.len(), 5);
}
