//! The stories of the case workflow contract (`cityops_store::cases`): case codes, scope,
//! filters, optimistic concurrency, the audit chain, duplicates, the deadline watcher, inboxes,
//! attachments, the responsibility matrix, the holiday schedule and bulk history. Each takes a
//! freshly connected, migrated, empty store and panics (naming the backend) on a breach.
use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use cityops_domain::calendar::Light;
use cityops_domain::case::duplicate::DuplicateRule;
use cityops_domain::case::{
    ActionInput, CaseAction, CaseSource, CaseStatus, GENESIS_HASH, Recipient, chain_hash,
    mark_light, verify_chain,
};
use cityops_store::{
    CalendarDay, Case, CaseCounts, CaseEvent, CaseQuery, CaseSort, CaseVisibility, CategoryKind,
    DayKind, DuplicatePoint, InboxOwner, NewNotification, PageRequest, ReadMark, ReportStep, Role,
    RoutingRule, Store, StoreError,
};

use crate::case_fixtures::{
    World, at_min, attachment, code_of, history, join_all, local_date, location, new_report, t0,
    unlocated,
};
use crate::fixtures::system_change;

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 1000,
    }
}

fn set<I: IntoIterator<Item = i64>>(ids: I) -> BTreeSet<i64> {
    ids.into_iter().collect()
}

/// The ids of every case a query lists (one big page), checking that the total agrees.
async fn listed(store: &dyn Store, q: &CaseQuery, vis: &CaseVisibility) -> Vec<i64> {
    let p = store.list_cases(q, vis, all()).await.expect("list_cases");
    assert_eq!(
        p.total as usize,
        p.items.len(),
        "{}: total of {q:?} / {vis:?}",
        store.backend()
    );
    p.items.into_iter().map(|c| c.id).collect()
}

async fn listed_set(store: &dyn Store, q: &CaseQuery, vis: &CaseVisibility) -> BTreeSet<i64> {
    set(listed(store, q, vis).await)
}

/// The whole chain, read in pages of `page` events.
async fn chain(store: &dyn Store, page: u32) -> Vec<CaseEvent> {
    let mut out: Vec<CaseEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let next = store.audit_events(after, page).await.expect("audit_events");
        assert!(next.len() <= page as usize, "audit_events honours limit");
        if next.is_empty() {
            return out;
        }
        out.extend(next);
    }
}

/// Verifies the whole chain page by page; returns the head.
async fn verify_all(store: &dyn Store) -> (i64, String) {
    let mut head = (0, GENESIS_HASH.to_string());
    loop {
        let page = store.audit_events(head.0, 7).await.expect("audit_events");
        if page.is_empty() {
            return head;
        }
        head = verify_chain(head.0, head.1.clone(), &page).unwrap_or_else(|b| {
            panic!(
                "{}: the chain is broken at {}: {}",
                store.backend(),
                b.seq,
                b.reason
            )
        });
    }
}

async fn events_of(store: &dyn Store, case: &Case) -> Vec<CaseEvent> {
    store
        .case_events(case.id, &CaseVisibility::everything())
        .await
        .expect("case_events")
        .expect("the case exists")
}

async fn get(store: &dyn Store, id: i64) -> Case {
    store
        .get_case(id, &CaseVisibility::everything())
        .await
        .expect("get_case")
        .expect("the case exists")
}

async fn stats_cases_events(store: &dyn Store) -> (u64, u64) {
    let s = store.stats().await.expect("stats");
    (s.cases, s.case_events)
}

/// Codes are `YYYYMMDD` of the given local date + the day's next 5-digit number; a new day starts
/// again at 00001; the stored case, its event (hashed, times exact to the microsecond) and its
/// notifications come back with the new id.
pub async fn case_codes_follow_the_day(store: &dyn Store) {
    let w = World::new(store).await;
    let d1 = local_date(t0());
    // Nanoseconds are truncated to microseconds by the domain; the store keeps the rest exactly.
    let first_at = t0() + Duration::nanoseconds(123_456_789);
    let rep = |n: u32| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, "东平路1号"),
            &format!("井盖破损 {n}"),
        )
    };
    let (case, event, notify) = w.report("citizen1", rep(1), first_at);
    let a = store
        .create_case(&case, d1, &event, &notify)
        .await
        .expect("create_case");
    assert!(a.id > 0, "an id is assigned");
    assert_eq!(
        a.code,
        code_of(d1, 1),
        "{}: first code of the day",
        store.backend()
    );
    assert_eq!(a.version, 1);
    let mut want = case.clone();
    want.id = a.id;
    want.code = a.code.clone();
    want.version = 1;
    assert_eq!(a, want, "create_case returns the case as given, numbered");
    assert_eq!(a.created_at.timestamp_subsec_micros(), 123_456);
    assert_eq!(
        get(store, a.id).await,
        a,
        "get_case returns what was stored"
    );

    let b = w.create(store, "inspector1", rep(2), at_min(1)).await;
    let next_day = t0() + Duration::days(1);
    let c = w.create(store, "citizen1", rep(3), next_day).await;
    let d = w.create(store, "citizen2", rep(4), at_min(2)).await;
    // The date given, not the creation instant, numbers the case.
    let other = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let (case5, ev5, n5) = w.report("citizen1", rep(5), at_min(3));
    let e = store
        .create_case(&case5, other, &ev5, &n5)
        .await
        .expect("create_case");
    assert_eq!(
        [&b.code, &c.code, &d.code, &e.code],
        [
            &code_of(d1, 2),
            &code_of(local_date(next_day), 1),
            &code_of(d1, 3),
            &code_of(other, 1)
        ],
        "{}: daily sequences",
        store.backend()
    );
    assert_eq!(set([a.id, b.id, c.id, d.id, e.id]).len(), 5, "distinct ids");

    // The first event: seq 1, linked to the genesis hash, equal to what was hashed.
    let evs = events_of(store, &a).await;
    assert_eq!(evs.len(), 1);
    let mut want_ev = event.clone();
    want_ev.case_id = a.id;
    assert_eq!(evs[0].event, want_ev, "the event reads back exactly");
    assert_eq!(evs[0].seq, 1);
    assert_eq!(evs[0].prev_hash, GENESIS_HASH);
    assert_eq!(evs[0].hash, chain_hash(GENESIS_HASH, 1, &want_ev));
    assert_eq!(
        evs[0].event.at.timestamp_subsec_micros(),
        123_456,
        "event time keeps its microseconds"
    );

    // The intake notification carries the new id and code.
    let owner = InboxOwner {
        user_id: w.uid("duty1"),
        department_id: None,
        roles: vec![Role::Intake],
        region_prefixes: None,
    };
    let inbox = store.inbox(&owner, false, all()).await.expect("inbox");
    let note = inbox
        .items
        .iter()
        .find(|n| n.notification.case_id == a.id)
        .expect("the report notified intake");
    assert_eq!(note.case_code, a.code);
    assert_eq!(note.notification.action, "report");
    assert_eq!(
        note.notification.recipient,
        Recipient::Role {
            role: Role::Intake,
            region_code: Some("441302001001001".into())
        }
    );
    assert_eq!(note.read_at, None);
    assert_eq!(inbox.total, 5);
    assert_eq!(stats_cases_events(store).await, (5, 5));
}

/// 40 reports stored at the same time get 40 distinct codes 00001..00040 and one intact chain.
pub async fn case_codes_unique_under_concurrency(store: &dyn Store) {
    let w = World::new(store).await;
    let day = local_date(t0());
    let reports: Vec<_> = (0..40)
        .map(|i| {
            w.report(
                if i % 2 == 0 { "citizen1" } else { "inspector1" },
                new_report(
                    CaseSource::Citizen,
                    None,
                    location("441302001001002", 114.415, 23.055, ""),
                    &format!("并发上报 {i}"),
                ),
                at_min(i),
            )
        })
        .collect();
    let results = join_all(
        reports
            .iter()
            .map(|(c, e, n)| store.create_case(c, day, e, n))
            .collect(),
    )
    .await;
    let cases: Vec<Case> = results
        .into_iter()
        .map(|r| r.expect("concurrent create_case"))
        .collect();
    let codes: BTreeSet<String> = cases.iter().map(|c| c.code.clone()).collect();
    let want: BTreeSet<String> = (1..=40).map(|n| code_of(day, n)).collect();
    assert_eq!(codes, want, "{}: 40 distinct daily codes", store.backend());
    assert_eq!(set(cases.iter().map(|c| c.id)).len(), 40);
    let (seq, _) = verify_all(store).await;
    assert_eq!(seq, 40);
    for c in &cases {
        let evs = events_of(store, c).await;
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].event.case_id, c.id);
    }
}

/// Builds the scope fixture: A (441302 grid, municipal, reported by citizen1), B (441303001,
/// sanitation, followed by citizen2), C2 (citizen2's report merged into B), C (assigned to
/// inspector1), D (unlocated).
async fn scope_cases(store: &dyn Store, w: &World) -> [Case; 5] {
    let a = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "占道经营",
            ),
            at_min(0),
        )
        .await;
    let a = w.file(store, &a, "01001", at_min(1)).await;
    let a = w
        .dispatch(store, &a, w.dept("441300-municipal"), at_min(2))
        .await;
    let b = w
        .create(
            store,
            "inspector2",
            new_report(
                CaseSource::Inspector,
                Some("01002"),
                location("441303001", 114.52, 22.87, ""),
                "垃圾堆放",
            ),
            at_min(3),
        )
        .await;
    let b = w.file(store, &b, "01002", at_min(4)).await;
    let b = w
        .dispatch(store, &b, w.dept("441303-sanitation"), at_min(5))
        .await;
    let c2 = w
        .create(
            store,
            "citizen2",
            new_report(
                CaseSource::Citizen,
                Some("01002"),
                location("441303001", 114.5201, 22.8701, ""),
                "垃圾又堆了",
            ),
            at_min(6),
        )
        .await;
    let c2 = w.merge(store, &c2, &b, at_min(7)).await;
    let c = w
        .create(
            store,
            "duty1",
            new_report(
                CaseSource::Hotline,
                None,
                location("441302001001002", 114.415, 23.055, ""),
                "噪音",
            ),
            at_min(8),
        )
        .await;
    let c = w
        .act(
            store,
            &c,
            "duty1",
            CaseAction::SendVerify,
            ActionInput {
                assignee_id: Some(w.uid("inspector1")),
                ..ActionInput::default()
            },
            at_min(9),
        )
        .await;
    let d = w
        .create(
            store,
            "duty1",
            new_report(CaseSource::Hotline, None, unlocated(113.0, 22.0), "城外"),
            at_min(10),
        )
        .await;
    [a, b, c2, c, d]
}

/// Every read (get, list, count, events) applies the visibility in the store: region prefixes
/// (true prefixes, no wildcards), the current department, the assignee, the reporter and
/// followers; an invisible case is absent, `None` and not counted.
pub async fn case_visibility_scopes_every_read(store: &dyn Store) {
    let w = World::new(store).await;
    let [a, b, c2, c, d] = scope_cases(store, &w).await;
    let all_ids = [a.id, b.id, c2.id, c.id, d.id];
    let prefixes = |ps: &[&str]| CaseVisibility {
        region_prefixes: ps.iter().map(|p| p.to_string()).collect(),
        ..CaseVisibility::default()
    };
    let user = |name: &str| CaseVisibility {
        user_id: Some(w.uid(name)),
        ..CaseVisibility::default()
    };
    let dept = |code: &str| CaseVisibility {
        department_id: Some(w.dept(code)),
        ..CaseVisibility::default()
    };
    let cases: Vec<(&str, CaseVisibility, Vec<i64>)> = vec![
        ("everything", CaseVisibility::everything(), all_ids.to_vec()),
        ("nothing", CaseVisibility::default(), vec![]),
        ("district 441303", prefixes(&["441303"]), vec![b.id, c2.id]),
        ("grid", prefixes(&["441302001001001"]), vec![a.id]),
        ("short prefix", prefixes(&["4413020"]), vec![a.id, c.id]),
        (
            "two prefixes",
            prefixes(&["441303", "441302001001002"]),
            vec![b.id, c2.id, c.id],
        ),
        ("infix is no prefix", prefixes(&["302001"]), vec![]),
        ("no wildcards", prefixes(&["4413_2", "%"]), vec![]),
        ("municipal", dept("441300-municipal"), vec![a.id]),
        ("sanitation", dept("441303-sanitation"), vec![b.id]),
        ("reporter", user("citizen1"), vec![a.id]),
        ("reporter and follower", user("citizen2"), vec![c2.id, b.id]),
        ("assignee", user("inspector1"), vec![c.id]),
        ("handler2 (for_user)", w.vis("handler2"), vec![b.id]),
        ("citizen1 (for_user)", w.vis("citizen1"), vec![a.id]),
        ("admin (for_user)", w.vis("admin"), all_ids.to_vec()),
    ];
    let q = CaseQuery::new(at_min(30));
    for (name, vis, want) in cases {
        let want = set(want);
        assert_eq!(
            listed_set(store, &q, &vis).await,
            want,
            "{}: list_cases for {name}",
            store.backend()
        );
        let counts = store.count_cases(&q, &vis).await.expect("count_cases");
        assert_eq!(
            counts.total,
            want.len() as u64,
            "{}: count_cases for {name}",
            store.backend()
        );
        for id in all_ids {
            let got = store.get_case(id, &vis).await.expect("get_case");
            assert_eq!(
                got.is_some(),
                want.contains(&id),
                "{}: get_case {id} for {name}",
                store.backend()
            );
            let evs = store.case_events(id, &vis).await.expect("case_events");
            assert_eq!(
                evs.is_some(),
                want.contains(&id),
                "{}: case_events {id} for {name}",
                store.backend()
            );
        }
    }
    assert_eq!(
        store
            .get_case(i64::MAX, &CaseVisibility::everything())
            .await
            .expect("get_case"),
        None
    );
    assert_eq!(
        store
            .case_events(i64::MAX, &CaseVisibility::everything())
            .await
            .expect("case_events"),
        None
    );
}

/// Six cases with distinct attributes (see the story bodies): c1 dispatched + supervised, c2
/// reported, c3 suspended, c4 rejected, c5 unlocated with "100%" in its text, c6 closed.
async fn filter_cases(store: &dyn Store, w: &World) -> [Case; 6] {
    // c1, 09:00: citizen, grid 001, filed 01001, dispatched to municipal at 09:02 (sign due
    // 10:02), supervised.
    let c1 = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, "东平路1号"),
                "井盖破损 东门",
            ),
            at_min(0),
        )
        .await;
    let c1 = w.file(store, &c1, "01001", at_min(1)).await;
    let c1 = w
        .dispatch(store, &c1, w.dept("441300-municipal"), at_min(2))
        .await;
    let c1 = w
        .act(
            store,
            &c1,
            "dispatcher1",
            CaseAction::Supervise,
            ActionInput {
                comment: Some("尽快处理".into()),
                ..ActionInput::default()
            },
            at_min(3),
        )
        .await;
    // c2, 09:10: inspector, 02001, grid 002, still reported (file due 10:10, yellow 09:58).
    let c2 = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("02001"),
                location("441302001001002", 114.415, 23.056, "江北大道"),
                "小广告 张贴",
            ),
            at_min(10),
        )
        .await;
    // c3, 09:20: hotline, 01002, street 441303001, dispatched to sanitation, suspended until
    // t0 + 2 days.
    let c3 = w
        .create(
            store,
            "duty1",
            new_report(
                CaseSource::Hotline,
                Some("01002"),
                location("441303001", 114.52, 22.87, "淡水路"),
                "垃圾堆放",
            ),
            at_min(20),
        )
        .await;
    let c3 = w.file(store, &c3, "01002", at_min(21)).await;
    let c3 = w
        .dispatch(store, &c3, w.dept("441303-sanitation"), at_min(22))
        .await;
    let c3 = w
        .act(
            store,
            &c3,
            "handler2",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(23),
        )
        .await;
    let c3 = w
        .act(
            store,
            &c3,
            "handler2",
            CaseAction::RequestSuspend,
            ActionInput {
                reason: Some("待拆迁".into()),
                until: Some(t0() + Duration::days(2)),
                ..ActionInput::default()
            },
            at_min(24),
        )
        .await;
    let c3 = w
        .act(
            store,
            &c3,
            "dispatcher1",
            CaseAction::ApproveSuspend,
            ActionInput::default(),
            at_min(25),
        )
        .await;
    // c4, 09:30: inspector, 01001, grid 001, rejected at 10:35, after its filing was due
    // (10:30): overdue, but no longer open.
    let c4 = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                location("441302001001001", 114.406, 23.0555, ""),
                "占道经营",
            ),
            at_min(30),
        )
        .await;
    let c4 = w
        .act(
            store,
            &c4,
            "duty1",
            CaseAction::Reject,
            ActionInput {
                reason: Some("重复".into()),
                ..ActionInput::default()
            },
            at_min(95),
        )
        .await;
    // c5, 09:40: citizen2, no category, unlocated, reported (yellow 10:28).
    let c5 = w
        .create(
            store,
            "citizen2",
            new_report(
                CaseSource::Citizen,
                None,
                unlocated(113.0, 22.0),
                "噪音扰民 100%",
            ),
            at_min(40),
        )
        .await;
    // c6, 09:50: citizen1, grid 002, the whole loop to closed by 09:57.
    let c6 = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001002", 114.4155, 23.0565, ""),
                "路灯不亮",
            ),
            at_min(50),
        )
        .await;
    let photo = store
        .create_attachment(&attachment(1, w.uid("handler1"), at_min(53)))
        .await
        .expect("create_attachment");
    let c6 = w
        .close_loop(store, &c6, "01001", vec![photo.id], at_min(50))
        .await;
    assert_eq!(c6.status, CaseStatus::Closed);
    [c1, c2, c3, c4, c5, c6]
}

/// Every filter of `CaseQuery`, alone and combined, and the counts.
pub async fn case_query_filters(store: &dyn Store) {
    let w = World::new(store).await;
    let [c1, c2, c3, c4, c5, c6] = filter_cases(store, &w).await;
    let everything = CaseVisibility::everything();
    let ev = &everything;
    let base = || CaseQuery::new(at_min(65));
    let check = |name: &'static str, q: CaseQuery, want: Vec<i64>| async move {
        assert_eq!(
            listed_set(store, &q, ev).await,
            set(want.clone()),
            "{}: filter {name}",
            store.backend()
        );
        let counts = store.count_cases(&q, ev).await.expect("count_cases");
        assert_eq!(
            counts.total,
            want.len() as u64,
            "{}: count of {name}",
            store.backend()
        );
    };

    // The light at `now` (10:05 local): c1 due 10:02 → red; c2 yellow since 09:58; the rest green.
    for (light, want) in [
        (Light::Red, vec![c1.id]),
        (Light::Yellow, vec![c2.id]),
        (Light::Green, vec![c3.id, c4.id, c5.id, c6.id]),
    ] {
        check(
            "light",
            CaseQuery {
                light: Some(light),
                ..base()
            },
            want,
        )
        .await;
    }
    // Earlier, at 09:59, c1 is yellow too and nothing is red.
    check(
        "light yellow at 09:59",
        CaseQuery {
            light: Some(Light::Yellow),
            ..CaseQuery::new(at_min(59))
        },
        vec![c1.id, c2.id],
    )
    .await;
    check(
        "light red at 09:59",
        CaseQuery {
            light: Some(Light::Red),
            ..CaseQuery::new(at_min(59))
        },
        vec![],
    )
    .await;
    // The bounds: yellow from the yellow instant on (c2 at 09:58), red only after the due
    // instant (c1 at 10:02 is still yellow).
    for (minute, light, want) in [
        (58, Light::Yellow, vec![c1.id, c2.id]),
        (58, Light::Green, vec![c3.id, c4.id, c5.id, c6.id]),
        (62, Light::Yellow, vec![c1.id, c2.id]),
        (62, Light::Red, vec![]),
        (62, Light::Green, vec![c3.id, c4.id, c5.id, c6.id]),
    ] {
        check(
            "light at a bound",
            CaseQuery {
                light: Some(light),
                ..CaseQuery::new(at_min(minute))
            },
            want,
        )
        .await;
    }

    // c1 is signed after its due time: overdue from now on (and its clock is the handling one).
    let c1 = w
        .act(
            store,
            &c1,
            "handler1",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(70),
        )
        .await;
    assert!(c1.overdue);

    check(
        "no filter",
        base(),
        vec![c1.id, c2.id, c3.id, c4.id, c5.id, c6.id],
    )
    .await;
    let statuses = |s: Vec<CaseStatus>| CaseQuery {
        statuses: s,
        ..base()
    };
    check(
        "reported",
        statuses(vec![CaseStatus::Reported]),
        vec![c2.id, c5.id],
    )
    .await;
    check(
        "handling or cancelled",
        statuses(vec![CaseStatus::Handling, CaseStatus::Cancelled]),
        vec![c1.id, c4.id],
    )
    .await;
    check(
        "suspended",
        statuses(vec![CaseStatus::Suspended]),
        vec![c3.id],
    )
    .await;
    check("closed", statuses(vec![CaseStatus::Closed]), vec![c6.id]).await;
    check("dispatched", statuses(vec![CaseStatus::Dispatched]), vec![]).await;

    let source = |s| CaseQuery {
        source: Some(s),
        ..base()
    };
    check(
        "citizen",
        source(CaseSource::Citizen),
        vec![c1.id, c5.id, c6.id],
    )
    .await;
    check("hotline", source(CaseSource::Hotline), vec![c3.id]).await;
    check(
        "inspector",
        source(CaseSource::Inspector),
        vec![c2.id, c4.id],
    )
    .await;
    check("iot", source(CaseSource::Iot), vec![]).await;

    let category = |c: &str| CaseQuery {
        category: Some(c.to_string()),
        ..base()
    };
    check("01001", category("01001"), vec![c1.id, c4.id, c6.id]).await;
    check("class 01", category("01"), vec![c1.id, c3.id, c4.id, c6.id]).await;
    check("class 02", category("02"), vec![c2.id]).await;
    check("02001", category("02001"), vec![c2.id]).await;
    check("class 10", category("10"), vec![]).await;

    let region = |r: &str| CaseQuery {
        region_code: Some(r.to_string()),
        ..base()
    };
    check(
        "district 441302",
        region("441302"),
        vec![c1.id, c2.id, c4.id, c6.id],
    )
    .await;
    check("grid 001", region("441302001001001"), vec![c1.id, c4.id]).await;
    check("grid 002", region("441302001001002"), vec![c2.id, c6.id]).await;
    check("street 441303001", region("441303001"), vec![c3.id]).await;
    check(
        "city 441300",
        region("441300"),
        vec![c1.id, c2.id, c3.id, c4.id, c6.id],
    )
    .await;

    let dept = |d: i64| CaseQuery {
        department_id: Some(d),
        ..base()
    };
    check(
        "municipal",
        dept(w.dept("441300-municipal")),
        vec![c1.id, c6.id],
    )
    .await;
    check("sanitation", dept(w.dept("441303-sanitation")), vec![c3.id]).await;

    check(
        "from 09:10 (inclusive)",
        CaseQuery {
            from: Some(at_min(10)),
            ..base()
        },
        vec![c2.id, c3.id, c4.id, c5.id, c6.id],
    )
    .await;
    check(
        "to 09:30 (exclusive)",
        CaseQuery {
            to: Some(at_min(30)),
            ..base()
        },
        vec![c1.id, c2.id, c3.id],
    )
    .await;
    check(
        "from 09:10 to 09:30",
        CaseQuery {
            from: Some(at_min(10)),
            to: Some(at_min(30)),
            ..base()
        },
        vec![c2.id, c3.id],
    )
    .await;

    let bbox = |b: [f64; 4]| CaseQuery {
        bbox: Some(b),
        ..base()
    };
    check(
        "bbox around grid 001",
        bbox([114.40, 23.05, 114.41, 23.06]),
        vec![c1.id, c4.id],
    )
    .await;
    check(
        "bbox edge is inside",
        bbox([114.415, 23.056, 114.5, 23.1]),
        vec![c2.id, c6.id],
    )
    .await;
    check("empty bbox", bbox([0.0, 0.0, 1.0, 1.0]), vec![]).await;

    let text = |t: &str| CaseQuery {
        text: Some(t.to_string()),
        ..base()
    };
    check("text in description", text("东门"), vec![c1.id]).await;
    check("text in address", text("江北"), vec![c2.id]).await;
    check("text is a code", text(&c3.code), vec![c3.id]).await;
    check(
        "text in every code",
        text(&c3.code[..8]),
        vec![c1.id, c2.id, c3.id, c4.id, c5.id, c6.id],
    )
    .await;
    check("text % is literal", text("%"), vec![c5.id]).await;
    check("text _ is literal", text("_"), vec![]).await;
    check("text absent", text("不存在的内容"), vec![]).await;

    check(
        "overdue",
        CaseQuery {
            overdue: Some(true),
            ..base()
        },
        vec![c1.id, c4.id],
    )
    .await;
    check(
        "not overdue",
        CaseQuery {
            overdue: Some(false),
            ..base()
        },
        vec![c2.id, c3.id, c5.id, c6.id],
    )
    .await;
    check(
        "supervised",
        CaseQuery {
            supervised: Some(true),
            ..base()
        },
        vec![c1.id],
    )
    .await;
    check(
        "not supervised",
        CaseQuery {
            supervised: Some(false),
            ..base()
        },
        vec![c2.id, c3.id, c4.id, c5.id, c6.id],
    )
    .await;
    check(
        "suspension ends at or before (inclusive)",
        CaseQuery {
            suspended_until_before: Some(t0() + Duration::days(2)),
            ..base()
        },
        vec![c3.id],
    )
    .await;
    check(
        "suspension ends later",
        CaseQuery {
            suspended_until_before: Some(t0() + Duration::days(2) - Duration::seconds(1)),
            ..base()
        },
        vec![],
    )
    .await;
    check(
        "combined: reported citizen reports",
        CaseQuery {
            statuses: vec![CaseStatus::Reported],
            source: Some(CaseSource::Citizen),
            ..base()
        },
        vec![c5.id],
    )
    .await;
    check(
        "combined: class 01 in 441302 from 09:10",
        CaseQuery {
            category: Some("01".into()),
            region_code: Some("441302".into()),
            from: Some(at_min(10)),
            ..base()
        },
        vec![c4.id, c6.id],
    )
    .await;

    // Counts by status, within the filters.
    let counts = store.count_cases(&base(), ev).await.expect("count_cases");
    let want = CaseCounts {
        total: 6,
        open: 4,
        closed: 1,
        cancelled: 1,
        overdue_open: 1,
        by_status: vec![],
    };
    assert_eq!(
        (
            counts.total,
            counts.open,
            counts.closed,
            counts.cancelled,
            counts.overdue_open
        ),
        (
            want.total,
            want.open,
            want.closed,
            want.cancelled,
            want.overdue_open
        ),
        "{}: counts",
        store.backend()
    );
    let mut by_status: Vec<(CaseStatus, u64)> = counts
        .by_status
        .iter()
        .copied()
        .filter(|(_, n)| *n > 0)
        .collect();
    by_status.sort();
    assert_eq!(
        by_status,
        vec![
            (CaseStatus::Reported, 2),
            (CaseStatus::Handling, 1),
            (CaseStatus::Closed, 1),
            (CaseStatus::Cancelled, 1),
            (CaseStatus::Suspended, 1),
        ],
        "{}: counts by status",
        store.backend()
    );
    let citizen = store
        .count_cases(&source(CaseSource::Citizen), ev)
        .await
        .expect("count_cases");
    assert_eq!(
        (
            citizen.total,
            citizen.open,
            citizen.closed,
            citizen.overdue_open
        ),
        (3, 2, 1, 1)
    );
}

/// The four sort orders and paging: pages concatenate to the full order, totals count all.
pub async fn case_query_sorts_and_pages(store: &dyn Store) {
    let w = World::new(store).await;
    let [c1, c2, c3, c4, c5, c6] = filter_cases(store, &w).await;
    let c1 = w
        .act(
            store,
            &c1,
            "handler1",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(70),
        )
        .await;
    let ev = CaseVisibility::everything();
    let sorted = |sort| CaseQuery {
        sort,
        ..CaseQuery::new(at_min(80))
    };
    assert_eq!(
        listed(store, &sorted(CaseSort::CreatedDesc), &ev).await,
        vec![c6.id, c5.id, c4.id, c3.id, c2.id, c1.id],
        "{}: newest first",
        store.backend()
    );
    assert_eq!(
        listed(store, &CaseQuery::new(at_min(80)), &ev).await,
        vec![c6.id, c5.id, c4.id, c3.id, c2.id, c1.id],
        "{}: newest first is the default",
        store.backend()
    );
    assert_eq!(
        listed(store, &sorted(CaseSort::CreatedAsc), &ev).await,
        vec![c1.id, c2.id, c3.id, c4.id, c5.id, c6.id],
        "{}: oldest first",
        store.backend()
    );
    // Updated: c4 10:35 (reject), c1 10:10 (sign), c6 09:57, c5 09:40, c3 09:25, c2 09:10.
    assert_eq!(
        listed(store, &sorted(CaseSort::UpdatedDesc), &ev).await,
        vec![c4.id, c1.id, c6.id, c5.id, c3.id, c2.id],
        "{}: recently updated first",
        store.backend()
    );
    // Due: c2 (file, 10:10), c5 (file, 10:40), c1 (handling, days later); then the cases
    // without a running clock (suspended c3, rejected c4, closed c6) in any order.
    let due = listed(store, &sorted(CaseSort::DueAsc), &ev).await;
    assert_eq!(
        due[..3],
        [c2.id, c5.id, c1.id],
        "{}: soonest due first",
        store.backend()
    );
    assert_eq!(set(due[3..].iter().copied()), set([c3.id, c4.id, c6.id]));

    for sort in [
        CaseSort::CreatedDesc,
        CaseSort::CreatedAsc,
        CaseSort::UpdatedDesc,
        CaseSort::DueAsc,
    ] {
        let full = listed(store, &sorted(sort), &ev).await;
        let mut paged = Vec::new();
        for n in 1..=3 {
            let p = store
                .list_cases(
                    &sorted(sort),
                    &ev,
                    PageRequest {
                        page: n,
                        page_size: 4,
                    },
                )
                .await
                .expect("list_cases");
            assert_eq!(p.total, 6, "{}: total of page {n}", store.backend());
            assert_eq!((p.page, p.page_size), (n, 4));
            paged.extend(p.items.into_iter().map(|c| c.id));
        }
        assert_eq!(paged, full, "{}: pages of {sort:?}", store.backend());
    }
    let p = store
        .list_cases(
            &CaseQuery {
                source: Some(CaseSource::Citizen),
                ..sorted(CaseSort::CreatedAsc)
            },
            &ev,
            PageRequest {
                page: 2,
                page_size: 2,
            },
        )
        .await
        .expect("list_cases");
    assert_eq!(p.total, 3);
    assert_eq!(
        p.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c6.id]
    );
    // Listed cases are the stored ones.
    assert_eq!(p.items[0], get(store, c6.id).await);
}

/// A transition computed from a stale version is refused with `Conflict` and writes nothing; the
/// fresh one succeeds and increments the version.
pub async fn case_stale_version_conflicts(store: &dyn Store) {
    let w = World::new(store).await;
    let a = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "井盖",
            ),
            at_min(0),
        )
        .await;
    let file_input = ActionInput {
        category_kind: Some(CategoryKind::Matter),
        category_code: Some("01001".into()),
        ..ActionInput::default()
    };
    let t1 = w.transition(&a, "duty1", CaseAction::File, &file_input, at_min(1), None);
    let a2 = store
        .save_transition(&t1.case, &t1.event, &t1.notify, t1.follow)
        .await
        .expect("save_transition");
    assert_eq!(a2.version, 2);
    assert_eq!(a2.status, CaseStatus::Filed);
    assert_eq!(get(store, a.id).await, a2);

    let dispatcher = InboxOwner {
        user_id: w.uid("dispatcher1"),
        department_id: None,
        roles: vec![Role::Dispatcher],
        region_prefixes: None,
    };
    let notes_before = store
        .inbox(&dispatcher, false, all())
        .await
        .expect("inbox")
        .total;
    let before = stats_cases_events(store).await;
    // The same transition again, and another one computed from version 1.
    let reject = w.transition(
        &a,
        "duty1",
        CaseAction::Reject,
        &ActionInput {
            reason: Some("无效".into()),
            ..ActionInput::default()
        },
        at_min(2),
        None,
    );
    for t in [&t1, &reject] {
        match store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
        {
            Err(StoreError::Conflict(_)) => {}
            other => panic!(
                "{}: a stale version must be a Conflict, got {other:?}",
                store.backend()
            ),
        }
    }
    assert_eq!(stats_cases_events(store).await, before, "nothing written");
    assert_eq!(get(store, a.id).await, a2, "the case is unchanged");
    assert_eq!(events_of(store, &a).await.len(), 2);
    assert_eq!(
        store
            .inbox(&dispatcher, false, all())
            .await
            .expect("inbox")
            .total,
        notes_before,
        "no notification written"
    );
    // From the fresh version it works.
    let a3 = w
        .dispatch(store, &a2, w.dept("441300-municipal"), at_min(3))
        .await;
    assert_eq!(a3.version, 3);
    assert_eq!(a3.status, CaseStatus::Dispatched);
    verify_all(store).await;
}

/// One chain over all cases: read in pages it verifies from (0, GENESIS_HASH); each case's events
/// are its part of the chain; every event reads back as it was hashed.
pub async fn case_chain_verifies(store: &dyn Store) {
    let w = World::new(store).await;
    let mut expected: Vec<cityops_store::NewCaseEvent> = Vec::new();
    let mut cases = Vec::new();
    for i in 0..6i64 {
        // Odd nanoseconds: the domain truncates to microseconds, the store must keep those.
        let now = at_min(10 * i) + Duration::nanoseconds(1_000 * i + 999);
        let (case, event, notify) = w.report(
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055 + 0.001 * i as f64, ""),
                &format!("链 {i} \"引号\" \\ 反斜杠"),
            ),
            now,
        );
        let c = store
            .create_case(&case, local_date(now), &event, &notify)
            .await
            .expect("create_case");
        let mut e = event.clone();
        e.case_id = c.id;
        expected.push(e);
        cases.push(c);
    }
    // Interleave transitions of different cases.
    for (k, c) in cases.clone().iter().enumerate() {
        let now = at_min(60 + k as i64) + Duration::nanoseconds(4_321_987);
        let input = ActionInput {
            category_kind: Some(CategoryKind::Matter),
            category_code: Some("01001".into()),
            comment: Some(format!("立案 {k}")),
            ..ActionInput::default()
        };
        let t = w.transition(c, "duty1", CaseAction::File, &input, now, None);
        let saved = store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .expect("save_transition");
        expected.push(t.event.clone());
        cases[k] = saved;
    }
    for (k, c) in cases.clone().iter().enumerate().take(3) {
        let now = at_min(80 + k as i64);
        let input = ActionInput {
            department_id: Some(w.dept("441300-municipal")),
            ..ActionInput::default()
        };
        let t = w.transition(c, "dispatcher1", CaseAction::Dispatch, &input, now, None);
        cases[k] = store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .expect("save_transition");
        expected.push(t.event);
    }
    let events = chain(store, 4).await;
    assert_eq!(events.len(), expected.len());
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=expected.len() as i64).collect::<Vec<_>>(),
        "seq 1, 2, 3 …"
    );
    for (got, want) in events.iter().zip(&expected) {
        assert_eq!(
            &got.event,
            want,
            "{}: event {} reads back",
            store.backend(),
            got.seq
        );
    }
    let (head, hash) = verify_chain(0, GENESIS_HASH.into(), &events)
        .unwrap_or_else(|b| panic!("{}: broken at {}: {}", store.backend(), b.seq, b.reason));
    assert_eq!(head, expected.len() as i64);
    assert_eq!(verify_all(store).await, (head, hash));
    for c in &cases {
        let own: Vec<CaseEvent> = events
            .iter()
            .filter(|e| e.event.case_id == c.id)
            .cloned()
            .collect();
        assert_eq!(
            events_of(store, c).await,
            own,
            "case events are its chain part"
        );
    }
    assert!(
        store
            .audit_events(head, 10)
            .await
            .expect("audit_events")
            .is_empty()
    );
    assert_eq!(
        store.audit_events(2, 3).await.expect("audit_events"),
        events[2..5].to_vec(),
        "after_seq and limit"
    );
    assert_eq!(stats_cases_events(store).await, (6, expected.len() as u64));
}

/// 直接立案 + 一键直达: a report stored with the machine's steps on it is one write — the case in
/// its final state at version 1 + steps, the report's event then each step's in the chain, the
/// inspector following it — alone and in a group with plain reports and transitions.
pub async fn case_report_with_steps(store: &dyn Store) {
    let w = World::new(store).await;
    let dept = w.dept("441300-municipal");
    let chained = |i: i64| {
        let now = at_min(i);
        let (case, event, notify) = w.report(
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                location("441302001001001", 114.405, 23.055 + 0.001 * i as f64, ""),
                &format!("直接立案 {i}"),
            ),
            now,
        );
        let file = ActionInput {
            comment: Some("监督员上报，直接立案".into()),
            ..ActionInput::default()
        };
        let filed = w.transition(&case, "system", CaseAction::File, &file, now, None);
        let mut steps = vec![ReportStep {
            event: filed.event.clone(),
            notify: filed.notify.clone(),
        }];
        let mut last = filed.case.clone();
        if i % 2 == 0 {
            let dispatch = ActionInput {
                department_id: Some(dept),
                ..ActionInput::default()
            };
            let sent = w.transition(
                &filed.case,
                "system",
                CaseAction::Dispatch,
                &dispatch,
                now,
                None,
            );
            steps.push(ReportStep {
                event: sent.event.clone(),
                notify: sent.notify.clone(),
            });
            last = sent.case;
        }
        (last, event, notify, steps, now)
    };

    // Alone.
    let (case, event, notify, steps, now) = chained(0);
    let one = store
        .create_case_with_steps(&case, local_date(now), &event, &notify, &steps)
        .await
        .expect("create_case_with_steps");
    assert_eq!(
        one.version,
        3,
        "{}: report + file + dispatch",
        store.backend()
    );
    assert_eq!(one.status, CaseStatus::Dispatched);
    assert_eq!(
        get(store, one.id).await,
        one,
        "{}: reads back",
        store.backend()
    );
    let actions: Vec<String> = events_of(store, &one)
        .await
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(
        actions,
        ["report", "file", "dispatch"],
        "{}",
        store.backend()
    );

    // In a group with plain reports.
    let mut jobs = Vec::new();
    for i in 1..=6 {
        jobs.push(chained(i));
    }
    let plain: Vec<_> = (7..=9)
        .map(|i| {
            let now = at_min(i);
            let (c, e, n) = w.report(
                "citizen1",
                new_report(
                    CaseSource::Citizen,
                    None,
                    location("441302001001001", 114.41, 23.05 + 0.001 * i as f64, ""),
                    &format!("普通上报 {i}"),
                ),
                now,
            );
            (c, e, n, now)
        })
        .collect();
    let mut futures: Vec<
        std::pin::Pin<
            Box<dyn std::future::Future<Output = cityops_store::Result<Case>> + Send + '_>,
        >,
    > = Vec::new();
    for (c, e, n, s, now) in &jobs {
        futures.push(Box::pin(store.create_case_with_steps(
            c,
            local_date(*now),
            e,
            n,
            s,
        )));
    }
    for (c, e, n, now) in &plain {
        futures.push(Box::pin(store.create_case(c, local_date(*now), e, n)));
    }
    let written: Vec<Case> = join_all(futures)
        .await
        .into_iter()
        .map(|r| r.expect("a report of the group"))
        .collect();
    for (k, c) in written.iter().enumerate() {
        let events = events_of(store, c).await;
        let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
        if k < jobs.len() {
            let i = k as i64 + 1;
            let want: &[&str] = if i % 2 == 0 {
                &["report", "file", "dispatch"]
            } else {
                &["report", "file"]
            };
            assert_eq!(actions, want, "{}: case {i}", store.backend());
            assert_eq!(c.version, want.len() as i64);
            assert_eq!(
                c.status,
                if i % 2 == 0 {
                    CaseStatus::Dispatched
                } else {
                    CaseStatus::Filed
                }
            );
            assert!(events.iter().all(|e| e.event.case_id == c.id));
        } else {
            assert_eq!(actions, ["report"]);
            assert_eq!(c.version, 1);
        }
        assert_eq!(
            &get(store, c.id).await,
            c,
            "{}: reads back",
            store.backend()
        );
    }
    let codes: BTreeSet<String> = std::iter::once(&one)
        .chain(&written)
        .map(|c| c.code.clone())
        .collect();
    assert_eq!(codes.len(), 10, "{}: one code each", store.backend());
    verify_all(store).await;
    assert_eq!(stats_cases_events(store).await, (10, 3 + 3 * 3 + 3 * 2 + 3));
}

/// The duplicate index's reads (重复案件): the open, unmerged cases of a window by id; the
/// chain's events after a seq with each case as it is now (its current category, closed,
/// merged); whole cases by id; the chain's head.
pub async fn case_duplicate_points(store: &dyn Store) {
    let w = World::new(store).await;
    let head0 = store.audit_head().await.expect("audit_head");
    assert_eq!(
        head0,
        verify_all(store).await.0,
        "{}: head of the chain",
        store.backend()
    );
    let (lng, lat) = (114.405, 23.055);
    let here = |dl: f64| location("441302001001001", lng + dl, lat + dl, "");
    let rep = |cat: &str, loc, d: &str| new_report(CaseSource::Inspector, Some(cat), loc, d);
    let old = w
        .create(
            store,
            "inspector1",
            rep("01001", here(0.0), "早"),
            at_min(-100),
        )
        .await;
    let d1 = w
        .create(store, "inspector1", rep("01001", here(0.0), "1"), at_min(0))
        .await;
    let d2 = w
        .create(
            store,
            "inspector1",
            rep("01001", here(0.0001), "2"),
            at_min(5),
        )
        .await;
    let other_category = w
        .create(store, "inspector1", rep("02001", here(0.0), "3"), at_min(6))
        .await;
    let far = w
        .create(store, "inspector1", rep("01001", here(0.1), "4"), at_min(7))
        .await;
    let rejected = w
        .create(store, "inspector1", rep("01001", here(0.0), "5"), at_min(8))
        .await;
    w.act(
        store,
        &rejected,
        "duty1",
        CaseAction::Reject,
        ActionInput {
            reason: Some("不属实".into()),
            ..ActionInput::default()
        },
        at_min(9),
    )
    .await;
    let merged = w
        .create(store, "citizen1", rep("01001", here(0.0), "6"), at_min(10))
        .await;
    w.merge(store, &merged, &d1, at_min(11)).await;
    let closed = w
        .create(
            store,
            "inspector1",
            rep("01001", here(0.0), "7"),
            at_min(12),
        )
        .await;
    let photo = store
        .create_attachment(&attachment(7, w.uid("handler1"), at_min(12)))
        .await
        .expect("create_attachment");
    w.close_loop(store, &closed, "01001", vec![photo.id], at_min(12))
        .await;
    // Reported as 02001 but filed as 01001: a candidate by its current category.
    let refiled = w
        .create(
            store,
            "inspector1",
            rep("02001", here(-0.0001), "8"),
            at_min(20),
        )
        .await;
    let refiled = w.file(store, &refiled, "01001", at_min(21)).await;

    let ids = |v: &[DuplicatePoint]| v.iter().map(|p| p.id).collect::<Vec<_>>();
    // The window's candidates, by id; `since` is inclusive.
    let got = store
        .duplicate_points(at_min(0), 0, 100)
        .await
        .expect("duplicate_points");
    assert_eq!(
        ids(&got),
        vec![d1.id, d2.id, other_category.id, far.id, refiled.id],
        "{}: open and unmerged since the instant, by id",
        store.backend()
    );
    let refiled_point = got.iter().find(|p| p.id == refiled.id).expect("refiled");
    assert_eq!(
        refiled_point,
        &DuplicatePoint {
            id: refiled.id,
            category_code: Some("01001".into()),
            lng: refiled.location.lng,
            lat: refiled.location.lat,
            created_at: at_min(20),
            candidate: true,
        },
        "{}: as filed now",
        store.backend()
    );
    let got = store
        .duplicate_points(at_min(-200), 0, 100)
        .await
        .expect("duplicate_points");
    assert_eq!(ids(&got)[0], old.id);
    assert_eq!(got.len(), 6);
    // Paged by id.
    let first = store
        .duplicate_points(at_min(-200), 0, 2)
        .await
        .expect("duplicate_points");
    assert_eq!(ids(&first), vec![old.id, d1.id]);
    let next = store
        .duplicate_points(at_min(-200), d1.id, 100)
        .await
        .expect("duplicate_points");
    assert_eq!(
        ids(&next),
        vec![d2.id, other_category.id, far.id, refiled.id]
    );

    // Every event after a seq, in seq order, with its case as it is now.
    let head = store.audit_head().await.expect("audit_head");
    let (chain_head, _) = verify_all(store).await;
    assert_eq!(head, chain_head, "{}: head of the chain", store.backend());
    let all = store
        .duplicate_changes(head0, 1_000)
        .await
        .expect("duplicate_changes");
    let seqs: Vec<i64> = all.iter().map(|c| c.seq).collect();
    assert_eq!(
        seqs.len() as i64,
        head - head0,
        "{}: one row per event",
        store.backend()
    );
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    assert_eq!(seqs.last(), Some(&head));
    let state = |id: i64| {
        all.iter()
            .filter(|c| c.point.id == id)
            .map(|c| c.point.clone())
            .collect::<Vec<_>>()
    };
    // A case reads the same in every row: as it is now.
    for id in [rejected.id, merged.id, closed.id, refiled.id, d1.id] {
        let rows = state(id);
        assert!(!rows.is_empty(), "{}: events of case {id}", store.backend());
        assert!(rows.windows(2).all(|p| p[0] == p[1]));
    }
    assert!(
        !state(rejected.id)[0].candidate,
        "rejected is closed or cancelled"
    );
    assert!(!state(merged.id)[0].candidate, "merged");
    assert!(!state(closed.id)[0].candidate, "closed");
    assert!(state(d1.id)[0].candidate, "the master stays open");
    assert_eq!(state(refiled.id)[0].category_code.as_deref(), Some("01001"));
    // After a seq, at most `limit`.
    let tail = store
        .duplicate_changes(seqs[2], 3)
        .await
        .expect("duplicate_changes");
    assert_eq!(tail, all[3..6].to_vec());
    let none = store
        .duplicate_changes(head, 10)
        .await
        .expect("duplicate_changes");
    assert!(none.is_empty());

    // Whole cases by id, in the order asked, unknown ids left out, whatever their scope.
    let got = store
        .duplicate_cases(&[d2.id, 999_999, d1.id])
        .await
        .expect("duplicate_cases");
    assert_eq!(
        got.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![d2.id, d1.id]
    );
    assert_eq!(got[0], d2, "{}: whole stored cases", store.backend());
    assert!(
        store
            .duplicate_cases(&[])
            .await
            .expect("duplicate_cases")
            .is_empty()
    );
    // The rule still picks among them: the nearest open one.
    let rule = DuplicateRule::default();
    let picked = rule.pick("01001", lng, lat, at_min(30), &got).map(|c| c.id);
    assert_eq!(picked, Some(d1.id));
}

/// The watcher marks yellow once and red once per stage: a second run at the same instant
/// changes nothing; each mark stores the case (version + 1), its event and notifications;
/// `limit` caps one run; closed and suspended cases are never taken.
pub async fn case_mark_lights_once(store: &dyn Store) {
    let w = World::new(store).await;
    let rep = |d: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, ""),
            d,
        )
    };
    // File stage: 1 working hour. m1 at 09:00 (yellow 09:48, due 10:00); m2 at 09:05
    // (yellow 09:53, due 10:05).
    let m1 = w.create(store, "citizen1", rep("m1"), at_min(0)).await;
    let m2 = w.create(store, "citizen1", rep("m2"), at_min(5)).await;
    let done = w.create(store, "citizen1", rep("done"), at_min(0)).await;
    let photo = store
        .create_attachment(&attachment(3, w.uid("handler1"), at_min(1)))
        .await
        .expect("create_attachment");
    let done = w
        .close_loop(store, &done, "01001", vec![photo.id], at_min(0))
        .await;
    let cal = w.calendar.clone();
    let mark = |now| {
        let cal = cal.clone();
        move |c: &Case| {
            mark_light(c, now, &cal).map(|(c, e, _)| {
                let n = NewNotification {
                    recipient: Recipient::Role {
                        role: Role::Supervisor,
                        region_code: c.location.region_code().map(str::to_string),
                    },
                    case_id: c.id,
                    action: e.action.clone(),
                    title: format!("{}：案件 {}", e.action, c.code),
                    created_at: now,
                };
                (c, e, vec![n])
            })
        }
    };
    let run = |minutes: i64, limit: u32| {
        let now = at_min(minutes);
        let f = mark(now);
        async move {
            store
                .mark_lights(now, limit, &f)
                .await
                .expect("mark_lights")
        }
    };
    assert_eq!(
        run(40, 100).await,
        0,
        "{}: nothing due at 09:40",
        store.backend()
    );
    assert_eq!(
        run(49, 100).await,
        1,
        "{}: m1 turns yellow",
        store.backend()
    );
    assert_eq!(run(49, 100).await, 0, "{}: once", store.backend());
    assert_eq!(run(54, 100).await, 1, "m2 turns yellow");
    assert_eq!(run(54, 100).await, 0);
    assert_eq!(run(61, 100).await, 1, "m1 turns red");
    assert_eq!(run(61, 100).await, 0);
    assert_eq!(run(62, 100).await, 0, "nothing new at 10:02");
    assert_eq!(run(120, 100).await, 1, "m2 turns red");
    assert_eq!(run(120, 100).await, 0);

    for (case, yellow, red) in [(&m1, 49, 61), (&m2, 54, 120)] {
        let stored = get(store, case.id).await;
        assert_eq!(stored.light, Light::Red);
        assert!(stored.overdue);
        assert_eq!(stored.version, case.version + 2, "two marks, two versions");
        let evs = events_of(store, case).await;
        let actions: Vec<&str> = evs.iter().map(|e| e.event.action.as_str()).collect();
        assert_eq!(actions, ["report", "light_yellow", "overdue"]);
        assert_eq!(evs[1].event.at, at_min(yellow));
        assert_eq!(evs[2].event.at, at_min(red));
        assert_eq!(evs[1].event.actor_id, None);
    }
    assert_eq!(
        get(store, done.id).await,
        done,
        "a closed case is never marked"
    );
    let supervisor = InboxOwner {
        user_id: w.uid("duty1"),
        department_id: None,
        roles: vec![Role::Supervisor],
        region_prefixes: Some(vec!["4413".into()]),
    };
    let notes = store.inbox(&supervisor, false, all()).await.expect("inbox");
    let marks: Vec<(i64, &str)> = notes
        .items
        .iter()
        .filter(|n| matches!(n.notification.action.as_str(), "light_yellow" | "overdue"))
        .map(|n| (n.notification.case_id, n.notification.action.as_str()))
        .collect();
    assert_eq!(
        marks.len(),
        4,
        "{}: one notification per mark",
        store.backend()
    );
    assert!(marks.contains(&(m1.id, "overdue")) && marks.contains(&(m2.id, "light_yellow")));

    // The limit caps a run: three cases reported at 11:10 turn yellow at 11:58.
    let mut late = Vec::new();
    for i in 0..3 {
        late.push(
            w.create(store, "citizen2", rep(&format!("l{i}")), at_min(130))
                .await,
        );
    }
    assert_eq!(run(178, 2).await, 2, "{}: limit 2", store.backend());
    assert_eq!(run(178, 2).await, 1, "the rest");
    assert_eq!(run(178, 2).await, 0);
    for c in &late {
        assert_eq!(get(store, c.id).await.light, Light::Yellow);
    }
    verify_all(store).await;
}

/// Inboxes: a user's own notifications, their department's, and their roles' within their region
/// prefixes (a notification without a region reaches every holder of the role); newest first;
/// `mark_read` changes only notifications in the owner's inbox.
pub async fn case_inbox_matching_and_mark_read(store: &dyn Store) {
    let w = World::new(store).await;
    let i1 = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "i1",
            ),
            at_min(0),
        )
        .await;
    let i2 = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441303001", 114.52, 22.87, ""),
                "i2",
            ),
            at_min(1),
        )
        .await;
    let i3 = w
        .create(
            store,
            "citizen2",
            new_report(CaseSource::Citizen, None, unlocated(113.0, 22.0), "i3"),
            at_min(2),
        )
        .await;
    // i1 goes to inspector1 to verify (a user notification).
    w.act(
        store,
        &i1,
        "duty1",
        CaseAction::SendVerify,
        ActionInput {
            assignee_id: Some(w.uid("inspector1")),
            ..ActionInput::default()
        },
        at_min(3),
    )
    .await;
    // i2 is filed (dispatchers of 441303001) and dispatched (the sanitation department).
    let i2f = w.file(store, &i2, "01002", at_min(4)).await;
    w.dispatch(store, &i2f, w.dept("441303-sanitation"), at_min(5))
        .await;

    let owner = |user: &str, dept: Option<&str>, roles: Vec<Role>, prefixes: Option<Vec<&str>>| {
        InboxOwner {
            user_id: w.uid(user),
            department_id: dept.map(|d| w.dept(d)),
            roles,
            region_prefixes: prefixes.map(|ps| ps.iter().map(|p| p.to_string()).collect()),
        }
    };
    let notes = |o: InboxOwner| async move {
        let p = store.inbox(&o, false, all()).await.expect("inbox");
        assert_eq!(p.total as usize, p.items.len());
        p.items
            .into_iter()
            .map(|n| (n.notification.case_id, n.notification.action))
            .collect::<Vec<_>>()
    };
    let s = |v: &[(i64, &str)]| {
        v.iter()
            .map(|(i, a)| (*i, a.to_string()))
            .collect::<Vec<_>>()
    };
    let intake = owner(
        "duty1",
        Some("441300-command"),
        vec![Role::Intake, Role::Supervisor],
        None,
    );
    assert_eq!(
        notes(intake.clone()).await,
        s(&[(i3.id, "report"), (i2.id, "report"), (i1.id, "report")]),
        "{}: intake everywhere, newest first",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "duty1",
            None,
            vec![Role::Intake],
            Some(vec!["441302"])
        ))
        .await,
        s(&[(i3.id, "report"), (i1.id, "report")]),
        "{}: intake of 441302 (and the unlocated report)",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "duty1",
            None,
            vec![Role::Intake],
            Some(vec!["4413_3"])
        ))
        .await,
        s(&[(i3.id, "report")]),
        "{}: prefixes are not patterns",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "inspector1",
            Some("441302001-street"),
            vec![Role::Inspector],
            Some(vec!["441302001"])
        ))
        .await,
        s(&[(i1.id, "send_verify")]),
        "{}: the user's own",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "handler2",
            Some("441303-sanitation"),
            vec![Role::Handler],
            Some(vec!["441303"])
        ))
        .await,
        s(&[(i2.id, "dispatch")]),
        "{}: the department's",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "dispatcher1",
            None,
            vec![Role::Dispatcher],
            Some(vec!["441302"])
        ))
        .await,
        s(&[]),
        "{}: dispatchers elsewhere",
        store.backend()
    );
    assert_eq!(
        notes(owner(
            "dispatcher1",
            None,
            vec![Role::Dispatcher],
            Some(vec!["441303"])
        ))
        .await,
        s(&[(i2.id, "file")])
    );
    assert_eq!(
        notes(owner("citizen1", None, vec![Role::Citizen], None)).await,
        s(&[])
    );

    // Fields of a stored notification, and paging.
    let page = store
        .inbox(
            &intake,
            false,
            PageRequest {
                page: 1,
                page_size: 2,
            },
        )
        .await
        .expect("inbox");
    assert_eq!((page.total, page.items.len()), (3, 2));
    let first = &page.items[0];
    assert_eq!(first.case_code, i3.code);
    assert_eq!(first.notification.created_at, at_min(2));
    assert_eq!(
        first.notification.recipient,
        Recipient::Role {
            role: Role::Intake,
            region_code: None
        }
    );
    let inspector = owner(
        "inspector1",
        None,
        vec![Role::Inspector],
        Some(vec!["441302001"]),
    );
    let inspector_note = store
        .inbox(&inspector, false, all())
        .await
        .expect("inbox")
        .items[0]
        .clone();
    assert_eq!(
        inspector_note.notification.recipient,
        Recipient::User {
            user_id: w.uid("inspector1")
        }
    );
    let ids: Vec<i64> = store
        .inbox(&intake, false, all())
        .await
        .expect("inbox")
        .items
        .iter()
        .map(|n| n.id)
        .collect();

    // mark_read: only within the owner's inbox.
    let now = at_min(30);
    assert_eq!(
        store
            .mark_read(&intake, ReadMark::Ids(&[inspector_note.id]), now)
            .await
            .expect("mark_read"),
        0,
        "{}: not in the owner's inbox",
        store.backend()
    );
    assert_eq!(
        store
            .mark_read(&intake, ReadMark::Ids(&[ids[2], inspector_note.id]), now)
            .await
            .expect("mark_read"),
        1
    );
    assert_eq!(
        store
            .mark_read(&intake, ReadMark::Ids(&[ids[2]]), at_min(31))
            .await
            .expect("mark_read"),
        0,
        "already read"
    );
    let unread = store.inbox(&intake, true, all()).await.expect("inbox");
    assert_eq!(
        unread.items.iter().map(|n| n.id).collect::<Vec<_>>(),
        ids[..2].to_vec()
    );
    assert_eq!(unread.total, 2);
    let read = store.inbox(&intake, false, all()).await.expect("inbox");
    assert_eq!(
        read.items[2].read_at,
        Some(now),
        "read_at is the given instant"
    );
    assert_eq!(
        store
            .mark_read(&intake, ReadMark::Ids(&[]), now)
            .await
            .expect("mark_read"),
        0,
        "{}: no ids mark nothing",
        store.backend()
    );
    assert_eq!(store.unread_count(&intake).await.expect("unread"), 2);
    assert_eq!(
        store
            .mark_read(&intake, ReadMark::All, now)
            .await
            .expect("mark_read"),
        2,
        "all the rest"
    );
    assert_eq!(store.unread_count(&intake).await.expect("unread"), 0);
    assert_eq!(
        store
            .inbox(&intake, true, all())
            .await
            .expect("inbox")
            .total,
        0
    );
    let inspector_unread = store.inbox(&inspector, true, all()).await.expect("inbox");
    assert_eq!(
        inspector_unread.total,
        1,
        "{}: another inbox is untouched",
        store.backend()
    );
}

/// Attachments: stored records read back; a report's and a transition's photos are linked to the
/// case; an attachment already linked stays with its case.
pub async fn case_attachments_linked(store: &dyn Store) {
    let w = World::new(store).await;
    let uploader = w.uid("citizen1");
    let mut made = Vec::new();
    for n in 1..=4 {
        let a = attachment(n, uploader, at_min(i64::from(n)));
        let stored = store
            .create_attachment(&a)
            .await
            .expect("create_attachment");
        assert_eq!(stored.attachment, a);
        assert_eq!(stored.case_id, None);
        assert_eq!(stored.public_id.len(), 36, "a UUID");
        made.push(stored);
    }
    assert!(made.windows(2).all(|p| p[0].id < p[1].id), "ids ascend");
    let [a1, a2, a3, a4] = [&made[0], &made[1], &made[2], &made[3]];
    assert_eq!(
        store
            .get_attachments(&[a3.id, i64::MAX, a1.id])
            .await
            .expect("get_attachments"),
        vec![a1.clone(), a3.clone()],
        "{}: existing ones in id order",
        store.backend()
    );
    assert!(
        store
            .get_attachments(&[])
            .await
            .expect("get_attachments")
            .is_empty()
    );

    let mut report = new_report(
        CaseSource::Citizen,
        None,
        location("441302001001001", 114.405, 23.055, ""),
        "",
    );
    report.attachments = vec![a1.id];
    let x = w.create(store, "citizen1", report, at_min(10)).await;
    let linked = store
        .case_attachments(x.id)
        .await
        .expect("case_attachments");
    assert_eq!(
        linked.iter().map(|a| (a.id, a.case_id)).collect::<Vec<_>>(),
        vec![(a1.id, Some(x.id))],
        "{}: the report's photo",
        store.backend()
    );
    let x = w.file(store, &x, "01001", at_min(11)).await;
    let x = w
        .dispatch(store, &x, w.dept("441300-municipal"), at_min(12))
        .await;
    let x = w
        .act(
            store,
            &x,
            "handler1",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(13),
        )
        .await;
    w.act(
        store,
        &x,
        "handler1",
        CaseAction::Handle,
        ActionInput {
            attachments: vec![a3.id, a2.id],
            ..ActionInput::default()
        },
        at_min(14),
    )
    .await;
    let linked = store
        .case_attachments(x.id)
        .await
        .expect("case_attachments");
    assert_eq!(
        linked.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![a1.id, a2.id, a3.id],
        "{}: the transition's photos, in id order",
        store.backend()
    );
    assert!(linked.iter().all(|a| a.case_id == Some(x.id)));

    // Another report naming a1 (already x's) and a4 is refused as a whole (see
    // `attachment_claimed_by_one_report`): a4 stays free.
    let mut report = new_report(
        CaseSource::Citizen,
        None,
        location("441302001001002", 114.415, 23.055, ""),
        "y",
    );
    report.attachments = vec![a1.id, a4.id];
    let (case, event, notify) = w.report("citizen1", report, at_min(20));
    assert!(matches!(
        store
            .create_case(&case, local_date(at_min(20)), &event, &notify)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .get_attachments(&[a4.id])
            .await
            .expect("get_attachments")[0]
            .case_id,
        None
    );
    assert_eq!(
        store
            .get_attachments(&[a1.id])
            .await
            .expect("get_attachments")[0]
            .case_id,
        Some(x.id),
        "{}: a linked attachment stays with its case",
        store.backend()
    );
    assert!(
        store
            .case_attachments(i64::MAX)
            .await
            .expect("case_attachments")
            .is_empty()
    );
}

/// The responsibility matrix is replaced as a whole, listed in (kind, category, region) order;
/// a malformed rule, a duplicate key or an unknown department is `Invalid` and changes nothing.
pub async fn case_routing_rules_replace(store: &dyn Store) {
    let w = World::new(store).await;
    let rule = |kind, cat: &str, region: &str, dept: i64, auto| RoutingRule {
        category_kind: kind,
        category_code: cat.to_string(),
        region_code: region.to_string(),
        department_id: dept,
        auto_dispatch: auto,
    };
    let (m, c, s) = (
        w.dept("441300-municipal"),
        w.dept("441300-command"),
        w.dept("441302001-street"),
    );
    let r1 = rule(CategoryKind::Matter, "01001", "441302", m, false);
    let r2 = rule(CategoryKind::Matter, "01", "441300", c, false);
    let r3 = rule(CategoryKind::Matter, "*", "441300", c, true);
    let r4 = rule(CategoryKind::Component, "01001", "441302001", s, true);
    let r5 = rule(CategoryKind::Matter, "01001", "441302001", s, false);
    assert!(
        store
            .routing_rules()
            .await
            .expect("routing_rules")
            .is_empty()
    );
    assert_eq!(
        store
            .replace_routing_rules(
                &[r1.clone(), r5.clone(), r3.clone(), r4.clone(), r2.clone()],
                &system_change()
            )
            .await
            .expect("replace_routing_rules"),
        5
    );
    assert_eq!(
        store.routing_rules().await.expect("routing_rules"),
        vec![r4.clone(), r3.clone(), r2.clone(), r1.clone(), r5.clone()],
        "{}: ordered by (kind, category, region)",
        store.backend()
    );
    assert_eq!(
        store
            .replace_routing_rules(&[r1.clone(), r2.clone()], &system_change())
            .await
            .expect("replace_routing_rules"),
        2
    );
    let want = vec![r2.clone(), r1.clone()];
    assert_eq!(store.routing_rules().await.expect("routing_rules"), want);

    let unknown = rule(CategoryKind::Matter, "02", "441300", i64::MAX, false);
    let bad_category = rule(CategoryKind::Matter, "1", "441300", m, false);
    let bad_region = rule(CategoryKind::Matter, "01", "4413", m, false);
    for (name, rules) in [
        ("unknown department", vec![r3.clone(), unknown]),
        ("malformed category", vec![bad_category, r3.clone()]),
        ("malformed region", vec![r3.clone(), bad_region]),
        ("duplicate key", vec![r3.clone(), r4.clone(), r3.clone()]),
    ] {
        match store.replace_routing_rules(&rules, &system_change()).await {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("{}: {name} must be Invalid, got {other:?}", store.backend()),
        }
        assert_eq!(
            store.routing_rules().await.expect("routing_rules"),
            want,
            "{}: {name} changed nothing",
            store.backend()
        );
    }
    assert_eq!(
        store
            .replace_routing_rules(&[], &system_change())
            .await
            .expect("replace_routing_rules"),
        0
    );
    assert!(
        store
            .routing_rules()
            .await
            .expect("routing_rules")
            .is_empty()
    );
}

/// The holiday schedule: upserts by date, listed by date.
pub async fn case_calendar_upsert(store: &dyn Store) {
    let day = |y, m, d, kind, name: &str| CalendarDay {
        date: NaiveDate::from_ymd_opt(y, m, d).expect("date"),
        kind,
        name: name.to_string(),
    };
    assert!(
        store
            .calendar_days()
            .await
            .expect("calendar_days")
            .is_empty()
    );
    let oct1 = day(2026, 10, 1, DayKind::Holiday, "国庆节");
    let sep27 = day(2026, 9, 27, DayKind::Workday, "国庆节调休");
    assert_eq!(
        store
            .put_calendar_days(&[oct1.clone(), sep27.clone()], &system_change())
            .await
            .expect("put_calendar_days"),
        2
    );
    assert_eq!(
        store.calendar_days().await.expect("calendar_days"),
        vec![sep27.clone(), oct1.clone()]
    );
    let oct1b = day(2026, 10, 1, DayKind::Workday, "改为上班");
    let jan1 = day(2027, 1, 1, DayKind::Holiday, "元旦");
    assert_eq!(
        store
            .put_calendar_days(&[jan1.clone(), oct1b.clone()], &system_change())
            .await
            .expect("put_calendar_days"),
        2
    );
    assert_eq!(
        store.calendar_days().await.expect("calendar_days"),
        vec![sep27, oct1b, jan1],
        "{}: upserted by date",
        store.backend()
    );
    assert_eq!(
        store
            .put_calendar_days(&[], &system_change())
            .await
            .expect("put_calendar_days"),
        0
    );
}

/// Bulk history: cases keep their ids, codes and versions, events are chained in order,
/// notifications and followers are stored; afterwards create_case continues the day's sequence
/// and the chain; a second import into a non-empty case table fails and writes nothing.
pub async fn case_import_history_then_create(store: &dyn Store) {
    let w = World::new(store).await;
    let mut h = history(&w, 30);
    let c2 = w.uid("citizen2");
    h.followers.push((c2, 2));
    let written = store.import_history(&h).await.expect("import_history");
    assert_eq!(
        written,
        30,
        "{}: import_history counts cases",
        store.backend()
    );
    assert_eq!(stats_cases_events(store).await, (30, h.events.len() as u64));
    for c in &h.cases {
        assert_eq!(
            &get(store, c.id).await,
            c,
            "{}: case {}",
            store.backend(),
            c.id
        );
    }
    let events = chain(store, 1000).await;
    assert_eq!(
        events.iter().map(|e| &e.event).collect::<Vec<_>>(),
        h.events.iter().collect::<Vec<_>>(),
        "{}: events in chain order",
        store.backend()
    );
    let (head, _) = verify_all(store).await;
    assert_eq!(head, h.events.len() as i64);
    // Followers: citizen2 sees case 2 only through following it.
    let vis = CaseVisibility {
        user_id: Some(c2),
        ..CaseVisibility::default()
    };
    assert_eq!(
        listed_set(store, &CaseQuery::new(at_min(0)), &vis).await,
        set([2])
    );
    // Notifications: every intake notification is in the unscoped intake inbox.
    let intake_notes = h
        .notifications
        .iter()
        .filter(|n| {
            matches!(
                n.recipient,
                Recipient::Role {
                    role: Role::Intake,
                    ..
                }
            )
        })
        .count();
    let intake = InboxOwner {
        user_id: w.uid("duty1"),
        department_id: None,
        roles: vec![Role::Intake],
        region_prefixes: None,
    };
    assert_eq!(
        store
            .inbox(&intake, false, all())
            .await
            .expect("inbox")
            .total,
        intake_notes as u64
    );

    // Day 1 of the history holds cases 1, 4, 7 … (10 of them): the next is number 11.
    let day1 = local_date(t0());
    let new = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "导入后",
            ),
            t0() + Duration::hours(5),
        )
        .await;
    assert_eq!(
        new.code,
        code_of(day1, 11),
        "{}: the day's sequence continues",
        store.backend()
    );
    assert!(new.id > 30, "ids continue after the imported ones");
    let later = Utc
        .with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("instant");
    let fresh = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                None,
                location("441302001001001", 114.405, 23.055, ""),
                "新的一天",
            ),
            later,
        )
        .await;
    assert_eq!(fresh.code, code_of(local_date(later), 1));
    let (head2, _) = verify_all(store).await;
    assert_eq!(head2, head + 2, "{}: the chain continues", store.backend());

    let before = stats_cases_events(store).await;
    let again = history(&w, 3);
    assert!(
        store.import_history(&again).await.is_err(),
        "{}: import_history needs an empty case table",
        store.backend()
    );
    assert_eq!(stats_cases_events(store).await, before);
}

/// The work-queue filters of the console (工作台): the inspector assigned now, and the flags
/// read from the case record — a pending request, a possible duplicate, a return, a passed
/// check — each alone and with a status, in lists and counts alike.
pub async fn case_queue_flags(store: &dyn Store) {
    use cityops_store::CaseFlag;
    let w = World::new(store).await;
    let everything = CaseVisibility::everything();
    let ev = &everything;
    let report = |text: &'static str| {
        new_report(
            CaseSource::Inspector,
            Some("01001"),
            location("441302001001001", 114.405, 23.055, ""),
            text,
        )
    };
    // a: filed, dispatched, returned by the department → filed again with one return.
    let a = w
        .create(store, "inspector1", report("井盖一"), at_min(1))
        .await;
    let a = w.file(store, &a, "01001", at_min(2)).await;
    let a = w
        .dispatch(store, &a, w.dept("441300-municipal"), at_min(3))
        .await;
    let reason = ActionInput {
        reason: Some("非本单位职责".into()),
        ..ActionInput::default()
    };
    let a = w
        .act(store, &a, "handler1", CaseAction::Return, reason, at_min(4))
        .await;
    assert_eq!((a.status, a.return_count), (CaseStatus::Filed, 1));
    // b: signed, postponement requested → handling with a pending request.
    let b = w
        .create(store, "inspector1", report("井盖二"), at_min(5))
        .await;
    let b = w.file(store, &b, "01001", at_min(6)).await;
    let b = w
        .dispatch(store, &b, w.dept("441300-municipal"), at_min(7))
        .await;
    let b = w
        .act(
            store,
            &b,
            "handler1",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(8),
        )
        .await;
    let postpone = ActionInput {
        reason: Some("材料未到".into()),
        ..ActionInput::default()
    };
    let b = w
        .act(
            store,
            &b,
            "handler1",
            CaseAction::RequestPostpone,
            postpone,
            at_min(9),
        )
        .await;
    assert!(b.pending.is_some());
    // c: handled and sent to inspector1 to check; d: the same, and the check passed.
    let mut checked = Vec::new();
    for (n, text) in [(0, "井盖三"), (1, "井盖四")] {
        let c = w
            .create(store, "inspector1", report(text), at_min(10))
            .await;
        let c = w.file(store, &c, "01001", at_min(11)).await;
        let c = w
            .dispatch(store, &c, w.dept("441300-municipal"), at_min(12))
            .await;
        let c = w
            .act(
                store,
                &c,
                "handler1",
                CaseAction::Sign,
                ActionInput::default(),
                at_min(13),
            )
            .await;
        let photo = store
            .create_attachment(&attachment(10 + n, w.uid("handler1"), at_min(13)))
            .await
            .expect("create_attachment");
        let handled = ActionInput {
            attachments: vec![photo.id],
            ..ActionInput::default()
        };
        let c = w
            .act(
                store,
                &c,
                "handler1",
                CaseAction::Handle,
                handled,
                at_min(14),
            )
            .await;
        let send = ActionInput {
            assignee_id: Some(w.uid("inspector1")),
            ..ActionInput::default()
        };
        let c = w
            .act(store, &c, "duty1", CaseAction::SendCheck, send, at_min(15))
            .await;
        checked.push(c);
    }
    let c = checked.remove(0);
    let d = w
        .act(
            store,
            &checked[0],
            "inspector1",
            CaseAction::CheckPass,
            ActionInput::default(),
            at_min(16),
        )
        .await;
    assert!(d.check_passed && !c.check_passed);
    // e: a new report flagged as a possible duplicate of a.
    let (mut e, event, notify) = w.report("inspector1", report("井盖五"), at_min(17));
    e.duplicate_of = Some(a.id);
    let e = store
        .create_case(&e, local_date(at_min(17)), &event, &notify)
        .await
        .expect("create_case");

    let check = |name: &'static str, q: CaseQuery, want: Vec<i64>| async move {
        assert_eq!(
            listed_set(store, &q, ev).await,
            set(want.clone()),
            "{}: filter {name}",
            store.backend()
        );
        let counts = store.count_cases(&q, ev).await.expect("count_cases");
        assert_eq!(
            counts.total,
            want.len() as u64,
            "{}: count of {name}",
            store.backend()
        );
    };
    let base = || CaseQuery::new(at_min(20));
    let flag = |f: CaseFlag| CaseQuery {
        flag: Some(f),
        ..base()
    };
    check("returned", flag(CaseFlag::Returned), vec![a.id]).await;
    check("pending", flag(CaseFlag::Pending), vec![b.id]).await;
    check("check passed", flag(CaseFlag::CheckPassed), vec![d.id]).await;
    check("duplicate", flag(CaseFlag::Duplicate), vec![e.id]).await;
    check(
        "checking and passed (to close)",
        CaseQuery {
            statuses: vec![CaseStatus::Checking],
            ..flag(CaseFlag::CheckPassed)
        },
        vec![d.id],
    )
    .await;
    check(
        "handling with a request",
        CaseQuery {
            statuses: vec![CaseStatus::Handling],
            ..flag(CaseFlag::Pending)
        },
        vec![b.id],
    )
    .await;
    check(
        "filed and returned, not a reported one",
        CaseQuery {
            statuses: vec![CaseStatus::Reported],
            ..flag(CaseFlag::Returned)
        },
        vec![],
    )
    .await;
    check(
        "assigned to inspector1",
        CaseQuery {
            assignee_id: Some(w.uid("inspector1")),
            ..base()
        },
        vec![c.id],
    )
    .await;
    check(
        "assigned to nobody of these",
        CaseQuery {
            assignee_id: Some(w.uid("handler1")),
            ..base()
        },
        vec![],
    )
    .await;
}
