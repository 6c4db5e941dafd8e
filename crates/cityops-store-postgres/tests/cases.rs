//! PostgreSQL-specific tests of the case workflow store: exact `double precision` and
//! `timestamptz` round trips, the audit chain under tampering in SQL, the deadline watcher run by
//! several processes (pools) at once, concurrent intake over two pools, and the bulk history
//! import at the demo's size. The contract both stores share is the conformance suite
//! (`cityops-store-conformance`), which runs on PostgreSQL too. Each test runs on a fresh database
//! (`cityops_test_support::postgres`, dropped afterwards even when the test fails). Without a
//! server the tests print a notice and pass, unless `CITYOPS_REQUIRE_POSTGRES=1`.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDate, TimeZone, Utc};
use cityops_domain::calendar::WorkingCalendar;
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseLocation, CaseSource, Context, GENESIS_HASH,
    NewCaseEvent, NewNotification, NewReport, Recipient, Transition, Urgency, WorkflowConfig,
    chain_hash, verify_chain,
};
use cityops_domain::{CategoryKind, LimitUnit, TimeLimit};
use cityops_store::{
    Admin, CaseHistory, CaseQuery, CaseRepo, CaseVisibility, Light, PageRequest, Role, StoreError,
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

/// The machine's supervision (督办) of `c` by a leader at `at`, not yet stored.
fn supervision(c: &Case, at: DateTime<Utc>) -> Transition {
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
    case::apply(c, CaseAction::Supervise, &leader, &urge(), &ctx).expect("supervise")
}

/// A leader puts a case under supervision (督办): a real transition of the machine, stored.
async fn supervise(store: &PgStore, c: &Case, at: DateTime<Utc>) -> Case {
    let t = supervision(c, at);
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

/// What PostgreSQL itself could bend, read back exactly through `get_case`, `list_cases` and the
/// event: coordinates with 17 significant digits (`double precision`), times with microseconds
/// (`timestamptz`). (The rest of the round trip is the conformance story
/// `case_codes_follow_the_day`.) Also: a transition of a case that does not exist is `NotFound`.
#[tokio::test]
async fn coordinates_and_times_round_trip_exactly() {
    with_store(|store, _| async move {
        let (c, ev, notes) = report_at(t0(), 7, "441302001001001", "路灯不亮", Vec::new());
        assert_eq!(c.location.lng.to_string(), "114.41618623847113");
        let stored = store
            .create_case(&c, t0().date_naive(), &ev, &notes)
            .await
            .unwrap();
        let everything = CaseVisibility::everything();
        let read = store.get_case(stored.id, &everything).await.unwrap();
        assert_eq!(read.as_ref(), Some(&stored));
        assert_eq!(stored.location, c.location, "every digit kept");
        assert_eq!(stored.created_at.timestamp_subsec_micros(), 123_456);
        let listed = store
            .list_cases(&CaseQuery::new(t0()), &everything, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(listed.items, vec![stored.clone()]);
        let events = store
            .case_events(stored.id, &everything)
            .await
            .unwrap()
            .expect("events");
        assert_eq!(events[0].event.at.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(events[0].event.at, ev.at);
        assert_eq!(
            events[0].hash,
            chain_hash(GENESIS_HASH, 1, &events[0].event)
        );

        let later = supervise(&store, &stored, t0() + Span::microseconds(7)).await;
        let mut missing = later.clone();
        missing.id = 999_999;
        let (_, event, _) = report_at(t0(), 7, "441302001001001", "x", Vec::new());
        let err = store
            .save_transition(&missing, &event, &[], None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        assert_eq!(assert_chain_verifies(&store).await, 2);
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

// ---- bulk history ---------------------------------------------------------------------------

/// A generated history: `n` cases over `days` days, each reported then supervised, codes per day.
fn history(n: i64, days: i64) -> CaseHistory {
    let mut h = CaseHistory::default();
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
        let mut t = supervision(&c, at + Span::minutes(5));
        t.case.version = 2;
        h.events.push(t.event);
        h.cases.push(t.case);
    }
    h
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
