//! PostgreSQL-specific tests of the case workflow store: the audit chain under tampering, the
//! deadline watcher run by several processes at once, concurrent intake, the bulk history import
//! and the other case repositories. Each test runs on a fresh database
//! (`cityops_test_support::postgres`, dropped afterwards even when the test fails). Without a
//! server the tests print a notice and pass, unless `CITYOPS_REQUIRE_POSTGRES=1`.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDate, TimeZone, Utc};
use cityops_domain::calendar::WorkingCalendar;
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseLocation, CaseSource, CaseStatus, Context,
    GENESIS_HASH, NewCaseEvent, NewNotification, NewReport, Recipient, Urgency, WorkflowConfig,
    chain_hash, verify_chain,
};
use cityops_domain::{CategoryKind, DepartmentKind, LimitUnit, TimeLimit};
use cityops_store::{
    Admin, AttachmentRepo, CalendarDay, CalendarRepo, CaseHistory, CaseQuery, CaseRepo, CaseSort,
    CaseVisibility, DayKind, ImportBatch, ImportRepo, InboxOwner, InboxRepo, Light, NewAttachment,
    NewDepartment, PageRequest, Role, RoutingRepo, RoutingRule, StoreError,
};
use cityops_store_postgres::PgStore;
use cityops_test_support::postgres::with_store;
use sqlx::{Connection, PgConnection};

// ---- fixtures ------------------------------------------------------------------------------

/// 2026-03-02 09:00:00.123456 Asia/Shanghai (01:00 UTC), with stray nanoseconds that the domain
/// truncates.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap() + Span::nanoseconds(123_456_789)
}

/// `t` as the database keeps it (microseconds).
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::china_default(Vec::new())
}

/// Filing within one continuous hour: due 60 min after the report, yellow after 48 min.
fn config() -> WorkflowConfig {
    WorkflowConfig {
        file_limit: TimeLimit {
            value: 1,
            unit: LimitUnit::UrgentHour,
        },
        ..WorkflowConfig::default()
    }
}

fn inspector(id: i64) -> Actor {
    Actor {
        user_id: Some(id),
        roles: vec![Role::Inspector],
        department_id: None,
    }
}

fn location(grid: &str, lng: f64, lat: f64) -> CaseLocation {
    CaseLocation {
        lng,
        lat,
        grid_code: Some(grid.to_string()),
        community_code: Some(grid[..12].to_string()),
        street_code: Some(grid[..9].to_string()),
        district_code: Some(grid[..6].to_string()),
        address: Some(format!("{grid} 号路口")),
    }
}

/// A report by inspector `reporter` in `grid`, with the domain's case, event and notifications.
fn report_at(
    at: DateTime<Utc>,
    reporter: i64,
    grid: &str,
    description: &str,
    attachments: Vec<i64>,
) -> (Case, NewCaseEvent, Vec<NewNotification>) {
    let cal = calendar();
    let cfg = config();
    let ctx = Context {
        now: at,
        calendar: &cal,
        config: &cfg,
        handle_limit: None,
        master: None,
        suggested_department: None,
    };
    let input = NewReport {
        source: CaseSource::Inspector,
        category_kind: Some(CategoryKind::Matter),
        category_code: Some("06001".into()),
        urgency: Urgency::Normal,
        description: description.to_string(),
        // Coordinates whose shortest decimal form has 17 significant digits.
        location: location(grid, 114.416_186_238_471_13, 23.111_791_937_513_297),
        component_id: None,
        contact: None,
        attachments,
        suggested_department_id: None,
        duplicate_of: None,
    };
    case::report(input, &inspector(reporter), &ctx).expect("valid report")
}

async fn create(store: &PgStore, at: DateTime<Utc>, reporter: i64, grid: &str) -> Case {
    let (c, ev, notes) = report_at(at, reporter, grid, "井盖缺失", Vec::new());
    store
        .create_case(&c, at.date_naive(), &ev, &notes)
        .await
        .expect("create case")
}

/// What a leader writes when supervising (督办 needs a comment).
fn urge() -> ActionInput {
    ActionInput {
        comment: Some("请尽快处理".into()),
        ..ActionInput::default()
    }
}

/// A leader puts a case under supervision (督办): a real transition of the machine.
async fn supervise(store: &PgStore, c: &Case, at: DateTime<Utc>) -> Case {
    let cal = calendar();
    let cfg = config();
    let ctx = Context {
        now: at,
        calendar: &cal,
        config: &cfg,
        handle_limit: None,
        master: None,
        suggested_department: None,
    };
    let leader = Actor {
        user_id: Some(900),
        roles: vec![Role::Leader],
        department_id: None,
    };
    let t = case::apply(c, CaseAction::Supervise, &leader, &urge(), &ctx).expect("supervise");
    store
        .save_transition(&t.case, &t.event, &t.notify, t.follow)
        .await
        .expect("save transition")
}

async fn all_events(store: &PgStore) -> Vec<cityops_store::CaseEvent> {
    let mut out = Vec::new();
    loop {
        let after = out.last().map_or(0, |e: &cityops_store::CaseEvent| e.seq);
        let page = store.audit_events(after, 500).await.expect("audit events");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

async fn assert_chain_verifies(store: &PgStore) -> usize {
    let events = all_events(store).await;
    if let Err(broken) = verify_chain(0, GENESIS_HASH.to_string(), &events) {
        panic!("chain broken at {}: {}", broken.seq, broken.reason);
    }
    events.len()
}

async fn raw(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("raw connection")
}

// ---- the audit chain -------------------------------------------------------------------------

/// A stored case and its events read back exactly: times keep their microseconds, the JSON
/// document keeps every field, and each event read back hashes to its stored hash.
#[tokio::test]
async fn case_and_events_round_trip_exactly() {
    with_store(|store, _| async move {
        let (c, ev, notes) = report_at(t0(), 7, "441302001001001", "路灯不亮", Vec::new());
        let stored = store
            .create_case(
                &c,
                NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
                &ev,
                &notes,
            )
            .await
            .unwrap();
        assert_eq!(stored.code, "2026030200001");
        assert_eq!(stored.version, 1);
        assert!(stored.id > 0);
        let read = store
            .get_case(stored.id, &CaseVisibility::everything())
            .await
            .unwrap()
            .expect("case");
        assert_eq!(read, stored);
        assert_eq!(read.created_at.timestamp_subsec_micros(), 123_456);

        let events = store
            .case_events(stored.id, &CaseVisibility::everything())
            .await
            .unwrap()
            .expect("events");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.seq, 1);
        assert_eq!(e.prev_hash, GENESIS_HASH);
        assert_eq!(e.event.case_id, stored.id);
        assert_eq!(e.event.at, ev.at, "microseconds survive");
        assert_eq!(e.event.at.timestamp_subsec_nanos(), 123_456_000);
        let mut expected = ev.clone();
        expected.case_id = stored.id;
        assert_eq!(e.event, expected);
        assert_eq!(e.hash, chain_hash(GENESIS_HASH, 1, &e.event));

        let later = supervise(&store, &read, t0() + Span::microseconds(7)).await;
        assert_eq!(later.version, 2);
        assert!(later.supervised);
        assert_eq!(
            store
                .get_case(stored.id, &CaseVisibility::everything())
                .await
                .unwrap()
                .unwrap(),
            later
        );
        assert_eq!(assert_chain_verifies(&store).await, 2);
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.cases, stats.case_events), (1, 2));
    })
    .await;
}

/// Editing a stored event directly in the database is detected at that event; so is deleting one.
#[tokio::test]
async fn tampering_with_a_stored_event_is_detected() {
    with_store(|store, url| async move {
        let mut at = t0();
        for i in 0..4 {
            let c = create(&store, at, 10 + i, "441302001001001").await;
            at += Span::seconds(1);
            supervise(&store, &c, at).await;
            at += Span::seconds(1);
        }
        assert_eq!(assert_chain_verifies(&store).await, 8);

        let mut conn = raw(&url).await;
        let changed = sqlx::query("UPDATE case_events SET comment = 'x' WHERE seq = 5")
            .execute(&mut conn)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(changed, 1);
        let events = all_events(&store).await;
        let broken = verify_chain(0, GENESIS_HASH.to_string(), &events).unwrap_err();
        assert_eq!(broken.seq, 5, "{}", broken.reason);

        // Past the edit, a deleted event is named too.
        sqlx::query("DELETE FROM case_events WHERE seq = 7")
            .execute(&mut conn)
            .await
            .unwrap();
        let events = all_events(&store).await;
        let broken = verify_chain(5, events[4].hash.clone(), &events[5..]).unwrap_err();
        assert_eq!(broken.seq, 7, "{}", broken.reason);

        // Changing the data JSON (even to an equivalent-looking value) breaks it as well.
        sqlx::query("UPDATE case_events SET data = replace(data, '06001', '06002') WHERE seq = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        let events = all_events(&store).await;
        assert_eq!(
            verify_chain(0, GENESIS_HASH.to_string(), &events)
                .unwrap_err()
                .seq,
            1
        );
        let _ = conn.close().await;
    })
    .await;
}

// ---- the deadline watcher -------------------------------------------------------------------

/// Three processes (three stores, three pools) run the watcher at once, round after round, while
/// the clock moves past every case's yellow and due times: each case is marked yellow once and
/// overdue once, and the chain stays intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watcher_marks_each_light_once_across_processes() {
    with_store(|store, url| async move {
        const CASES: i64 = 200;
        // Case i is reported 20 s after case i-1: yellow 48 min, due 60 min after its report.
        let start = t0();
        for i in 0..CASES {
            create(
                &store,
                start + Span::seconds(20 * i),
                100 + i,
                "441302001001001",
            )
            .await;
        }
        let stores = [
            store.clone(),
            PgStore::connect(&url).await.unwrap(),
            PgStore::connect(&url).await.unwrap(),
        ];
        let cal = Arc::new(calendar());
        let mut total = 0u64;
        // Every 4 minutes from 40 min to 2 h 30 min after the first report.
        for round in 0..28 {
            let now = start + Span::minutes(40 + 4 * round);
            let mut tasks = Vec::new();
            for (p, s) in stores.iter().enumerate() {
                for worker in 0..2 {
                    let s = s.clone();
                    let cal = cal.clone();
                    // Different batch sizes so that the processes overlap in varying ways.
                    let limit = 3 + (p as u32) * 4 + worker;
                    tasks.push(tokio::spawn(async move {
                        let mark = move |c: &Case| {
                            case::mark_light(c, now, &cal).map(|(c, e, _)| {
                                let notes = if c.light == Light::Red {
                                    vec![NewNotification {
                                        recipient: Recipient::Role {
                                            role: Role::Dispatcher,
                                            region_code: c
                                                .location
                                                .region_code()
                                                .map(str::to_string),
                                        },
                                        case_id: c.id,
                                        action: "overdue".into(),
                                        title: format!("超时：案件 {}", c.code),
                                        created_at: now,
                                    }]
                                } else {
                                    Vec::new()
                                };
                                (c, e, notes)
                            })
                        };
                        let mut marked = 0;
                        loop {
                            let n = s.mark_lights(now, limit, &mark).await.expect("mark");
                            if n == 0 {
                                return marked;
                            }
                            marked += n;
                        }
                    }));
                }
            }
            for t in tasks {
                total += t.await.expect("watcher task");
            }
        }
        assert_eq!(total, 2 * CASES as u64, "each case turned yellow, then red");

        let mut conn = raw(&url).await;
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT case_id, action, count(*) FROM case_events
              WHERE action IN ('light_yellow', 'overdue') GROUP BY case_id, action",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(rows.len(), 2 * CASES as usize);
        assert!(
            rows.iter().all(|r| r.2 == 1),
            "a light marked twice: {rows:?}"
        );
        let notes: i64 =
            sqlx::query_scalar("SELECT count(*) FROM notifications WHERE action = 'overdue'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(notes, CASES);
        let _ = conn.close().await;

        let mut q = CaseQuery::new(start + Span::hours(3));
        q.light = Some(Light::Red);
        let page = store
            .list_cases(
                &q,
                &CaseVisibility::everything(),
                PageRequest {
                    page: 1,
                    page_size: 1000,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, CASES as u64);
        assert!(
            page.items
                .iter()
                .all(|c| c.light == Light::Red && c.overdue && c.version == 3)
        );
        assert_eq!(assert_chain_verifies(&store).await, 3 * CASES as usize);
        for s in &stores[1..] {
            s.close().await;
        }
    })
    .await;
}

// ---- intake ---------------------------------------------------------------------------------

/// 64 clients report at once (over two pools): every case gets its own code of the day, in
/// sequence without gaps, and the chain is linear.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_intake_gets_distinct_codes() {
    with_store(|store, url| async move {
        let other = PgStore::connect(&url).await.unwrap();
        let mut tasks = Vec::new();
        for client in 0..64i64 {
            let s = if client % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for k in 0..4 {
                    let at = t0() + Span::milliseconds(client * 10 + k);
                    out.push(create(&s, at, 1000 + client, "441302001001001").await);
                }
                out
            }));
        }
        let mut cases = Vec::new();
        for t in tasks {
            cases.extend(t.await.unwrap());
        }
        let codes: HashSet<_> = cases.iter().map(|c| c.code.clone()).collect();
        let ids: HashSet<_> = cases.iter().map(|c| c.id).collect();
        assert_eq!((codes.len(), ids.len()), (256, 256));
        let expected: HashSet<_> = (1..=256).map(|n| format!("20260302{n:05}")).collect();
        assert_eq!(codes, expected);
        assert_eq!(assert_chain_verifies(&store).await, 256);
        // The next day starts again at 1.
        let next = create(&store, t0() + Span::days(1), 1, "441302001001001").await;
        assert_eq!(next.code, "2026030300001");
        other.close().await;
    })
    .await;
}

/// A transition against a stale version is a conflict and writes nothing.
#[tokio::test]
async fn stale_transition_is_a_conflict() {
    with_store(|store, _| async move {
        let c = create(&store, t0(), 5, "441302001001001").await;
        let fresh = supervise(&store, &c, t0() + Span::seconds(1)).await;
        assert_eq!(fresh.version, 2);
        // The same transition computed from the old version.
        let cal = calendar();
        let cfg = config();
        let ctx = Context {
            now: t0() + Span::seconds(2),
            calendar: &cal,
            config: &cfg,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let leader = Actor {
            user_id: Some(900),
            roles: vec![Role::Leader],
            department_id: None,
        };
        let t = case::apply(&c, CaseAction::Supervise, &leader, &urge(), &ctx).unwrap();
        let err = store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let stats = store.stats().await.unwrap();
        assert_eq!(stats.case_events, 2, "the rejected event was not written");
        let mut missing = t.case.clone();
        missing.id = 999_999;
        let err = store
            .save_transition(&missing, &t.event, &[], None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        assert_chain_verifies(&store).await;
    })
    .await;
}

// ---- queries and scope ----------------------------------------------------------------------

/// Lists and counts apply the visibility rule and the filters in SQL.
#[tokio::test]
async fn lists_and_counts_apply_scope_and_filters() {
    with_store(|store, _| async move {
        let a = create(&store, t0(), 1, "441302001001001").await;
        let b = create(&store, t0() + Span::minutes(1), 2, "441302002001001").await;
        let c = create(&store, t0() + Span::minutes(2), 3, "441303001001001").await;
        let page = PageRequest::default();
        let ids = |p: &cityops_store::Page<Case>| p.items.iter().map(|c| c.id).collect::<Vec<_>>();
        let q = CaseQuery::new(t0() + Span::minutes(3));

        let all = store
            .list_cases(&q, &CaseVisibility::everything(), page)
            .await
            .unwrap();
        assert_eq!(ids(&all), vec![c.id, b.id, a.id], "newest first");
        assert_eq!(all.total, 3);

        // A street-level scope, the reporter of c, and a follower.
        let street = CaseVisibility {
            region_prefixes: vec!["441302001".into()],
            ..CaseVisibility::default()
        };
        assert_eq!(
            ids(&store.list_cases(&q, &street, page).await.unwrap()),
            vec![a.id]
        );
        let reporter = CaseVisibility {
            user_id: Some(3),
            ..CaseVisibility::default()
        };
        assert_eq!(
            ids(&store.list_cases(&q, &reporter, page).await.unwrap()),
            vec![c.id]
        );
        assert!(store.get_case(a.id, &reporter).await.unwrap().is_none());
        assert!(store.case_events(a.id, &reporter).await.unwrap().is_none());
        assert_eq!(
            store
                .case_events(c.id, &reporter)
                .await
                .unwrap()
                .unwrap()
                .len(),
            1
        );
        let nobody = CaseVisibility::default();
        assert_eq!(store.list_cases(&q, &nobody, page).await.unwrap().total, 0);
        assert_eq!(store.count_cases(&q, &nobody).await.unwrap().total, 0);

        // A merged reporter follows the master case.
        let cal = calendar();
        let cfg = config();
        let ctx = Context {
            now: t0() + Span::minutes(3),
            calendar: &cal,
            config: &cfg,
            handle_limit: None,
            master: Some(&a),
            suggested_department: None,
        };
        let intake = Actor {
            user_id: Some(50),
            roles: vec![Role::Intake],
            department_id: None,
        };
        let input = ActionInput {
            master_case_id: Some(a.id),
            reason: Some("重复".into()),
            ..ActionInput::default()
        };
        let t = case::apply(&b, CaseAction::Merge, &intake, &input, &ctx).unwrap();
        assert_eq!(t.follow, Some((2, a.id)));
        store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .unwrap();
        let follower = CaseVisibility {
            user_id: Some(2),
            ..CaseVisibility::default()
        };
        let mut seen = ids(&store.list_cases(&q, &follower, page).await.unwrap());
        seen.sort();
        assert_eq!(seen, vec![a.id, b.id]);

        // Filters.
        let district = CaseQuery {
            region_code: Some("441303".into()),
            ..q.clone()
        };
        let everything = CaseVisibility::everything();
        assert_eq!(
            ids(&store
                .list_cases(&district, &everything, page)
                .await
                .unwrap()),
            vec![c.id]
        );
        let city = CaseQuery {
            region_code: Some("441300".into()),
            ..q.clone()
        };
        assert_eq!(
            store
                .list_cases(&city, &everything, page)
                .await
                .unwrap()
                .total,
            3
        );
        let text = CaseQuery {
            text: Some("441303001001001 号".into()),
            ..q.clone()
        };
        assert_eq!(
            ids(&store.list_cases(&text, &everything, page).await.unwrap()),
            vec![c.id]
        );
        let by_code = CaseQuery {
            text: Some(a.code.clone()),
            ..q.clone()
        };
        assert_eq!(
            ids(&store.list_cases(&by_code, &everything, page).await.unwrap()),
            vec![a.id]
        );
        let class = CaseQuery {
            category: Some("06".into()),
            statuses: vec![CaseStatus::Reported],
            sort: CaseSort::CreatedAsc,
            ..q.clone()
        };
        assert_eq!(
            ids(&store.list_cases(&class, &everything, page).await.unwrap()),
            vec![a.id, c.id],
            "b was merged (cancelled)"
        );
        let other_class = CaseQuery {
            category: Some("07".into()),
            ..q.clone()
        };
        assert_eq!(
            store
                .list_cases(&other_class, &everything, page)
                .await
                .unwrap()
                .total,
            0
        );
        let window = CaseQuery {
            from: Some(t0() + Span::seconds(30)),
            to: Some(t0() + Span::seconds(90)),
            ..q.clone()
        };
        assert_eq!(
            ids(&store.list_cases(&window, &everything, page).await.unwrap()),
            vec![b.id]
        );
        let outside = CaseQuery {
            bbox: Some([100.0, 20.0, 101.0, 21.0]),
            ..q.clone()
        };
        assert_eq!(
            store
                .list_cases(&outside, &everything, page)
                .await
                .unwrap()
                .total,
            0
        );
        let inside = CaseQuery {
            bbox: Some([114.0, 23.0, 115.0, 24.0]),
            ..q.clone()
        };
        assert_eq!(
            store
                .list_cases(&inside, &everything, page)
                .await
                .unwrap()
                .total,
            3
        );

        // Lights at a given instant: a yellow 48 min after its report, red after 60.
        let at = |minutes| CaseQuery::new(t0() + Span::minutes(minutes));
        let light = |minutes, light| CaseQuery {
            light: Some(light),
            ..at(minutes)
        };
        assert_eq!(
            ids(&store
                .list_cases(&light(49, Light::Yellow), &everything, page)
                .await
                .unwrap()),
            vec![a.id]
        );
        assert_eq!(
            ids(&store
                .list_cases(&light(61, Light::Red), &everything, page)
                .await
                .unwrap()),
            vec![a.id]
        );
        // At 61 min c (reported at 2 min) is yellow; b has no clock once merged.
        assert_eq!(
            ids(&store
                .list_cases(&light(61, Light::Yellow), &everything, page)
                .await
                .unwrap()),
            vec![c.id]
        );
        assert_eq!(
            ids(&store
                .list_cases(&light(61, Light::Green), &everything, page)
                .await
                .unwrap()),
            vec![b.id]
        );
        let due = CaseQuery {
            sort: CaseSort::DueAsc,
            ..at(0)
        };
        assert_eq!(
            ids(&store.list_cases(&due, &everything, page).await.unwrap()),
            vec![a.id, c.id, b.id]
        );

        // Paging.
        let second = store
            .list_cases(
                &q,
                &everything,
                PageRequest {
                    page: 2,
                    page_size: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!((second.total, ids(&second)), (3, vec![a.id]));

        let counts = store.count_cases(&q, &everything).await.unwrap();
        assert_eq!(
            (counts.total, counts.open, counts.cancelled, counts.closed),
            (3, 2, 1, 0)
        );
        assert_eq!(
            counts.by_status,
            vec![(CaseStatus::Reported, 2), (CaseStatus::Cancelled, 1)]
        );
        let scoped = store.count_cases(&q, &street).await.unwrap();
        assert_eq!((scoped.total, scoped.open), (1, 1));

        // Duplicate candidates: open, unmerged, same category, near, recent.
        let near = store
            .duplicate_candidates("06001", [114.4, 23.1, 114.5, 23.2], t0())
            .await
            .unwrap();
        assert_eq!(
            near.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![a.id, c.id]
        );
        assert!(
            store
                .duplicate_candidates("06001", [114.4, 23.1, 114.5, 23.2], t0() + Span::minutes(5))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .duplicate_candidates("06002", [114.4, 23.1, 114.5, 23.2], t0())
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

// ---- bulk history ---------------------------------------------------------------------------

/// A generated history: `n` cases over `days` days, each reported then supervised, codes per day.
fn history(n: i64, days: i64) -> CaseHistory {
    let mut h = CaseHistory::default();
    let cal = calendar();
    let cfg = config();
    let mut per_day: HashMap<NaiveDate, i64> = HashMap::new();
    for i in 0..n {
        let at = t0() + Span::days(i % days) + Span::seconds(i);
        let (mut c, mut ev, mut notes) =
            report_at(at, 1 + i % 50, "441302001001001", "历史", Vec::new());
        let day = at.date_naive();
        let seq = per_day.entry(day).or_insert(0);
        *seq += 1;
        c.id = i + 1;
        c.code = format!("{}{:05}", day.format("%Y%m%d"), seq);
        c.version = 1;
        ev.case_id = c.id;
        for n in &mut notes {
            n.case_id = c.id;
        }
        h.events.push(ev);
        h.notifications.extend(notes);
        h.followers.push((c.reporter_id.unwrap(), c.id));
        let ctx = Context {
            now: at + Span::minutes(5),
            calendar: &cal,
            config: &cfg,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let leader = Actor {
            user_id: Some(900),
            roles: vec![Role::Leader],
            department_id: None,
        };
        let mut t = case::apply(&c, CaseAction::Supervise, &leader, &urge(), &ctx).unwrap();
        t.case.version = 2;
        h.events.push(t.event);
        h.cases.push(t.case);
    }
    h
}

/// The import writes everything in chain order, continues the codes and ids, and a second
/// import into a non-empty table is refused.
#[tokio::test]
async fn history_import_continues_codes_and_chain() {
    with_store(|store, _| async move {
        let h = history(12_000, 3);
        let started = std::time::Instant::now();
        assert_eq!(store.import_history(&h).await.unwrap(), 12_000);
        eprintln!(
            "imported 12,000 cases / 24,000 events in {:?}",
            started.elapsed()
        );
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.cases, stats.case_events), (12_000, 24_000));
        assert_eq!(assert_chain_verifies(&store).await, 24_000);
        let some = &h.cases[4321];
        assert_eq!(
            store
                .get_case(some.id, &CaseVisibility::everything())
                .await
                .unwrap()
                .as_ref(),
            Some(some)
        );
        // 4,000 cases a day over 2026-03-02..04: the next report of 03-03 is number 4001.
        let next = create(&store, t0() + Span::days(1), 1, "441302001001001").await;
        assert_eq!(next.code, "2026030304001");
        assert_eq!(next.id, 12_001);
        assert_eq!(assert_chain_verifies(&store).await, 24_001);
        let follower = CaseVisibility {
            user_id: Some(7),
            ..CaseVisibility::default()
        };
        let q = CaseQuery::new(t0());
        assert_eq!(store.count_cases(&q, &follower).await.unwrap().total, 240);
        let err = store.import_history(&history(1, 1)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    })
    .await;
}

/// The demo's size: ~73,000 cases and ~500,000 events in one transaction, within seconds.
#[tokio::test]
async fn history_import_at_demo_scale() {
    with_store(|store, _| async move {
        let mut h = history(73_000, 365);
        // Pad to ~7 events a case with more supervision events (same chain rules).
        let extra: Vec<NewCaseEvent> = h
            .events
            .iter()
            .filter(|e| e.action == "supervise")
            .flat_map(|e| std::iter::repeat_n(e.clone(), 5))
            .collect();
        h.events.extend(extra);
        let events = h.events.len();
        let started = std::time::Instant::now();
        store.import_history(&h).await.unwrap();
        let took = started.elapsed();
        eprintln!("imported 73,000 cases / {events} events in {took:?}");
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.cases, stats.case_events), (73_000, events as u64));
        // A guard against a row-by-row regression (minutes), loose enough for a busy shared machine.
        assert!(took < Duration::from_secs(120), "import took {took:?}");
    })
    .await;
}

// ---- inbox, routing, attachments, calendar ----------------------------------------------------

#[tokio::test]
async fn inbox_matches_user_department_and_role_in_region() {
    with_store(|store, _| async move {
        // The report notifies intake of the case's grid region.
        let c = create(&store, t0(), 1, "441302001001001").await;
        let foreign = create(&store, t0(), 1, "441303001001001").await;
        let note = |recipient, at: i64| NewNotification {
            recipient,
            case_id: c.id,
            action: "dispatch".into(),
            title: "待签收".into(),
            created_at: micros(t0()) + Span::seconds(at),
        };
        let cal = calendar();
        let cfg = config();
        let ctx = Context {
            now: t0() + Span::seconds(1),
            calendar: &cal,
            config: &cfg,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let leader = Actor {
            user_id: Some(900),
            roles: vec![Role::Leader],
            department_id: None,
        };
        let t = case::apply(&c, CaseAction::Supervise, &leader, &urge(), &ctx).unwrap();
        let notes = vec![
            note(Recipient::User { user_id: 42 }, 10),
            note(Recipient::Department { department_id: 8 }, 20),
            note(
                Recipient::Role {
                    role: Role::Dispatcher,
                    region_code: None,
                },
                30,
            ),
        ];
        store
            .save_transition(&t.case, &t.event, &notes, None)
            .await
            .unwrap();

        let owner =
            |user_id, department_id, roles: Vec<Role>, prefixes: Option<Vec<&str>>| InboxOwner {
                user_id,
                department_id,
                roles,
                region_prefixes: prefixes.map(|p| p.into_iter().map(str::to_string).collect()),
            };
        let page = PageRequest::default();
        let titles = |p: &cityops_store::Page<cityops_store::Notification>| {
            p.items
                .iter()
                .map(|n| n.notification.created_at)
                .collect::<Vec<_>>()
        };
        let handler = owner(42, Some(8), vec![Role::Handler], None);
        let inbox = store.inbox(&handler, false, page).await.unwrap();
        assert_eq!(inbox.total, 2);
        assert_eq!(
            titles(&inbox),
            vec![
                micros(t0()) + Span::seconds(20),
                micros(t0()) + Span::seconds(10)
            ],
            "newest first"
        );
        assert_eq!(inbox.items[0].case_code, c.code);

        // Intake of district 441302 sees the report of its region, not the foreign one.
        let intake = owner(5, None, vec![Role::Intake], Some(vec!["441302"]));
        let inbox = store.inbox(&intake, false, page).await.unwrap();
        assert_eq!(
            inbox
                .items
                .iter()
                .map(|n| n.notification.case_id)
                .collect::<Vec<_>>(),
            vec![c.id]
        );
        let city_intake = owner(6, None, vec![Role::Intake], None);
        assert_eq!(
            store.inbox(&city_intake, false, page).await.unwrap().total,
            2
        );
        assert!(foreign.id != c.id);
        // A role notification without a region reaches every holder of the role.
        let dispatcher = owner(7, None, vec![Role::Dispatcher], Some(vec!["441303"]));
        assert_eq!(
            store.inbox(&dispatcher, false, page).await.unwrap().total,
            1
        );

        // Mark read: only the owner's, only the given ones (or all).
        let first = store.inbox(&handler, false, page).await.unwrap().items[0].id;
        let not_mine = store.inbox(&intake, false, page).await.unwrap().items[0].id;
        assert_eq!(
            store
                .mark_read(&handler, &[first, not_mine], t0())
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.inbox(&handler, true, page).await.unwrap().total, 1);
        assert_eq!(store.mark_read(&handler, &[], t0()).await.unwrap(), 1);
        assert_eq!(store.inbox(&handler, true, page).await.unwrap().total, 0);
        let read = store.inbox(&handler, false, page).await.unwrap();
        assert!(read.items.iter().all(|n| n.read_at == Some(micros(t0()))));
        assert_eq!(store.inbox(&intake, true, page).await.unwrap().total, 1);
    })
    .await;
}

#[tokio::test]
async fn routing_matrix_is_replaced_whole_and_checked() {
    with_store(|store, url| async move {
        let batch = ImportBatch {
            departments: ["d1", "d2"]
                .iter()
                .map(|code| NewDepartment {
                    code: code.to_string(),
                    name: code.to_string(),
                    kind: DepartmentKind::Municipal,
                    region_code: "441300".into(),
                    parent_code: None,
                })
                .collect(),
            ..ImportBatch::default()
        };
        store.apply_import(&batch).await.unwrap();
        let mut conn = raw(&url).await;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM departments ORDER BY code")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let rule = |kind, code: &str, region: &str, dept| RoutingRule {
            category_kind: kind,
            category_code: code.into(),
            region_code: region.into(),
            department_id: dept,
            auto_dispatch: code == "*",
        };
        let rules = vec![
            rule(CategoryKind::Matter, "06001", "441302", ids[1]),
            rule(CategoryKind::Component, "*", "441300", ids[0]),
            rule(CategoryKind::Matter, "06", "441300", ids[0]),
        ];
        assert_eq!(store.replace_routing_rules(&rules).await.unwrap(), 3);
        let stored = store.routing_rules().await.unwrap();
        assert_eq!(
            stored,
            vec![rules[1].clone(), rules[2].clone(), rules[0].clone()]
        );

        let bad = [
            vec![rule(CategoryKind::Matter, "06001", "441302", 999_999)],
            vec![rule(CategoryKind::Matter, "6", "441302", ids[0])],
            vec![rule(CategoryKind::Matter, "06001", "4413", ids[0])],
            vec![
                rule(CategoryKind::Matter, "06001", "441302", ids[0]),
                rule(CategoryKind::Matter, "06001", "441302", ids[1]),
            ],
        ];
        for rules in bad {
            let err = store.replace_routing_rules(&rules).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        assert_eq!(
            store.routing_rules().await.unwrap(),
            stored,
            "failed replacements change nothing"
        );
        assert_eq!(store.replace_routing_rules(&[]).await.unwrap(), 0);
        assert!(store.routing_rules().await.unwrap().is_empty());
        let _ = conn.close().await;
    })
    .await;
}

#[tokio::test]
async fn attachments_are_linked_by_reports_and_transitions() {
    with_store(|store, _| async move {
        let photo = |n: u8| NewAttachment {
            sha256: format!("{n:064x}"),
            mime: "image/jpeg".into(),
            bytes: 1000 + i64::from(n),
            width: 640,
            height: 480,
            thumb_sha256: format!("{:064x}", u64::from(n) + 100),
            uploaded_by: 7,
            created_at: t0(),
            file_name: Some(format!("p{n}.jpg")),
        };
        let a1 = store.create_attachment(&photo(1)).await.unwrap();
        let a2 = store.create_attachment(&photo(2)).await.unwrap();
        let a3 = store.create_attachment(&photo(3)).await.unwrap();
        assert_eq!(a1.case_id, None);
        let (c, ev, notes) = report_at(t0(), 7, "441302001001001", "", vec![a1.id, a2.id]);
        let c = store
            .create_case(&c, t0().date_naive(), &ev, &notes)
            .await
            .unwrap();
        let linked = store.case_attachments(c.id).await.unwrap();
        assert_eq!(
            linked.iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![a1.id, a2.id]
        );
        assert!(linked.iter().all(|a| a.case_id == Some(c.id)));
        assert_eq!(linked[0].attachment, a1.attachment, "the record as created");
        assert_eq!(
            a1.attachment.created_at.timestamp_subsec_nanos(),
            123_456_000,
            "kept to the microsecond"
        );

        // A transition naming a photo linked elsewhere is refused as a whole.
        let other = create(&store, t0(), 8, "441302001001001").await;
        let cal = calendar();
        let cfg = config();
        let ctx = Context {
            now: t0() + Span::seconds(1),
            calendar: &cal,
            config: &cfg,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let leader = Actor {
            user_id: Some(900),
            roles: vec![Role::Leader],
            department_id: None,
        };
        let input = ActionInput {
            attachments: vec![a3.id, a1.id],
            ..urge()
        };
        let t = case::apply(&other, CaseAction::Supervise, &leader, &input, &ctx).unwrap();
        assert_eq!(t.event.attachments, vec![a3.id, a1.id]);
        assert!(matches!(
            store
                .save_transition(&t.case, &t.event, &t.notify, None)
                .await,
            Err(StoreError::Invalid(m)) if m == format!("attachment {} already belongs to a case", a1.id)
        ));
        let got = store
            .get_attachments(&[a3.id, a1.id, 424_242])
            .await
            .unwrap();
        assert_eq!(
            got.iter().map(|a| (a.id, a.case_id)).collect::<Vec<_>>(),
            vec![(a1.id, Some(c.id)), (a3.id, None)]
        );
        assert!(store.get_attachments(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn calendar_days_upsert_by_date() {
    with_store(|store, _| async move {
        let day = |m, d, kind, name: &str| CalendarDay {
            date: NaiveDate::from_ymd_opt(2026, m, d).unwrap(),
            kind,
            name: name.into(),
        };
        let days = vec![
            day(10, 1, DayKind::Holiday, "国庆节"),
            day(9, 28, DayKind::Workday, "国庆节调休"),
        ];
        assert_eq!(store.put_calendar_days(&days).await.unwrap(), 2);
        assert_eq!(
            store.calendar_days().await.unwrap(),
            vec![days[1].clone(), days[0].clone()]
        );
        let renamed = vec![
            day(10, 1, DayKind::Holiday, "国庆节、中秋节"),
            day(10, 2, DayKind::Holiday, "国庆节"),
        ];
        assert_eq!(store.put_calendar_days(&renamed).await.unwrap(), 2);
        let stored = store.calendar_days().await.unwrap();
        assert_eq!(
            stored,
            vec![days[1].clone(), renamed[0].clone(), renamed[1].clone()]
        );
    })
    .await;
}
