//! SQLite-specific tests of the case workflow: tampering with a stored event is detected, two
//! store instances (two processes) on one file mark each case exactly once, and the bulk paths
//! (concurrent intake, history import) keep the chain intact at volume.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::case::{
    ActionInput, CaseAction, CaseSource, GENESIS_HASH, mark_light, verify_chain,
};
use cityops_store::{
    Admin, Case, CaseEvent, CaseHistory, CaseQuery, CaseRepo, CaseVisibility, NewCaseEvent,
    NewNotification, Store,
};
use cityops_store_conformance::case_fixtures::{
    World, at_min, code_of, history, local_date, location, new_report, t0,
};
use cityops_store_sqlite::SqliteStore;
use cityops_test_support::sqlite::TempStore;

async fn whole_chain(store: &dyn Store) -> Vec<CaseEvent> {
    let mut out: Vec<CaseEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let page = store.audit_events(after, 5000).await.expect("audit_events");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn report(i: i64) -> cityops_domain::case::NewReport {
    new_report(
        CaseSource::Citizen,
        None,
        location(
            "441302001001001",
            114.405,
            23.055 + 0.0001 * i as f64,
            "东平路",
        ),
        &format!("案件 {i}"),
    )
}

/// Editing a stored event's comment, re-hashing it, or deleting one: the verification names the
/// first broken link.
#[tokio::test]
async fn editing_a_stored_event_is_detected() {
    let db = TempStore::new().await;
    let store = &db.store;
    let w = World::new(store).await;
    for i in 0..4 {
        let c = w.create(store, "citizen1", report(i), at_min(i)).await;
        w.act(
            store,
            &c,
            "duty1",
            CaseAction::File,
            ActionInput {
                category_kind: Some(cityops_store::CategoryKind::Matter),
                category_code: Some("01001".into()),
                comment: Some(format!("立案 {i}")),
                ..ActionInput::default()
            },
            at_min(10 + i),
        )
        .await;
    }
    let events = whole_chain(store).await;
    assert_eq!(events.len(), 8);
    assert_eq!(
        verify_chain(0, GENESIS_HASH.into(), &events)
            .expect("intact")
            .0,
        8
    );

    // 1. Edit the comment of event 6 directly in the database.
    let target = events.iter().find(|e| e.seq == 6).expect("event 6").clone();
    assert!(target.event.comment.is_some());
    let changed = sqlx::query("UPDATE case_events SET comment = ? WHERE seq = ?")
        .bind("改过的意见")
        .bind(6_i64)
        .execute(store.pool())
        .await
        .expect("raw update")
        .rows_affected();
    assert_eq!(changed, 1);
    let tampered = whole_chain(store).await;
    let broken = verify_chain(0, GENESIS_HASH.into(), &tampered).expect_err("tampering detected");
    assert_eq!(broken.seq, 6, "{broken:?}");
    assert!(broken.reason.contains("content"), "{}", broken.reason);

    // 2. Re-hash the edited event too: the next event's link breaks.
    let mut edited = target.event.clone();
    edited.comment = Some("改过的意见".into());
    let rehash = cityops_domain::case::chain_hash(&target.prev_hash, 6, &edited);
    sqlx::query("UPDATE case_events SET hash = ? WHERE seq = ?")
        .bind(&rehash)
        .bind(6_i64)
        .execute(store.pool())
        .await
        .expect("raw update");
    let broken = verify_chain(0, GENESIS_HASH.into(), &whole_chain(store).await)
        .expect_err("re-hashing detected");
    assert_eq!(broken.seq, 7, "{broken:?}");

    // 3. Delete event 3: the gap is named.
    sqlx::query("DELETE FROM case_events WHERE seq = 3")
        .execute(store.pool())
        .await
        .expect("raw delete");
    let broken = verify_chain(0, GENESIS_HASH.into(), &whole_chain(store).await)
        .expect_err("deletion detected");
    assert_eq!(broken.seq, 3, "{broken:?}");
    db.store.close().await;
}

/// Two store instances on one file (as two server processes) run the watcher at the same
/// instants, many rounds: every case is marked yellow once and red once, never twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_mark_each_case_once() {
    let db = TempStore::new().await;
    let a = db.store.clone();
    let b = SqliteStore::connect(&db.url).await.expect("second store");
    let w = World::new(&a).await;
    // 24 reports between 09:00 and 09:46; the file stage (1 working hour) turns yellow after
    // 48 minutes and red after 60.
    let mut cases = Vec::new();
    for i in 0..24 {
        cases.push(w.create(&a, "citizen1", report(i), at_min(2 * i)).await);
    }
    let cal = Arc::new(w.calendar.clone());
    let mut marked = 0;
    for minute in (40..=120).step_by(2) {
        let now = at_min(minute);
        let cal = cal.clone();
        let f = move |c: &Case| -> Option<(Case, NewCaseEvent, Vec<NewNotification>)> {
            mark_light(c, now, &cal).map(|(c, e, _)| (c, e, Vec::new()))
        };
        // A small limit makes each instant take several runs, racing each other.
        for _ in 0..4 {
            let (x, y) = tokio::join!(a.mark_lights(now, 3, &f), b.mark_lights(now, 3, &f));
            marked += x.expect("store a") + y.expect("store b");
        }
    }
    let events = whole_chain(&a).await;
    verify_chain(0, GENESIS_HASH.into(), &events).expect("the chain is intact");
    let mut per_case: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for e in events.iter().filter(|e| e.event.action != "report") {
        *per_case
            .entry((e.event.case_id, e.event.action.clone()))
            .or_default() += 1;
    }
    for c in &cases {
        for action in ["light_yellow", "overdue"] {
            assert_eq!(
                per_case.get(&(c.id, action.to_string())),
                Some(&1),
                "case {} {action}",
                c.code
            );
        }
        let stored = a
            .get_case(c.id, &CaseVisibility::everything())
            .await
            .expect("get_case")
            .expect("exists");
        assert_eq!(stored.version, 3);
        assert!(stored.overdue);
    }
    assert_eq!(marked, 48, "the runs report each mark once");
    assert_eq!(per_case.values().sum::<usize>(), 48);
    b.close().await;
    a.close().await;
}

/// 64 clients report at once: distinct codes, one intact chain. Prints the throughput.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_intake_keeps_codes_and_chain() {
    let db = TempStore::new().await;
    let store = Arc::new(db.store.clone());
    let w = Arc::new(World::new(&*store).await);
    let per_client = 20;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..64i64 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            for k in 0..per_client {
                let now = at_min(client) + Duration::seconds(k);
                let (case, event, notify) = w.report("citizen1", report(client), now);
                let c = store
                    .create_case(&case, local_date(t0()), &event, &notify)
                    .await
                    .expect("create_case");
                codes.push(c.code);
            }
            codes
        }));
    }
    let mut codes = BTreeSet::new();
    for t in tasks {
        codes.extend(t.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    let total = 64 * per_client as usize;
    eprintln!(
        "[sqlite] {total} concurrent create_case: {:.0} reports/s",
        total as f64 / elapsed.as_secs_f64()
    );
    let want: BTreeSet<String> = (1..=total as u32)
        .map(|n| code_of(local_date(t0()), n))
        .collect();
    assert_eq!(codes, want);
    let events = whole_chain(&*store).await;
    assert_eq!(events.len(), total);
    verify_chain(0, GENESIS_HASH.into(), &events).expect("the chain is intact");
    db.store.close().await;
}

/// A history the size of a year of the demo city (~73,000 cases, ~500,000 events), made by
/// repeating a domain-generated template: imported in one transaction, then verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_at_demo_scale() {
    let db = TempStore::new().await;
    let store = &db.store;
    let w = World::new(store).await;
    // The cases of the generated history that run the whole loop (8 events each): a year of the
    // demo city is mostly closed cases.
    let full = history(&w, 150);
    let keep: BTreeSet<i64> = full
        .cases
        .iter()
        .filter(|c| (c.id - 1) % 5 == 0)
        .map(|c| c.id)
        .collect();
    let template = CaseHistory {
        cases: full
            .cases
            .iter()
            .filter(|c| keep.contains(&c.id))
            .cloned()
            .collect(),
        events: full
            .events
            .iter()
            .filter(|e| keep.contains(&e.case_id))
            .cloned()
            .collect(),
        notifications: full
            .notifications
            .iter()
            .filter(|n| keep.contains(&n.case_id))
            .cloned()
            .collect(),
        followers: full
            .followers
            .iter()
            .filter(|f| keep.contains(&f.1))
            .copied()
            .collect(),
    };
    assert_eq!(template.cases.len(), 30);
    // A year of the demo city: 73,500 cases, 588,000 events. Debug builds (the everyday test run)
    // take a fifth of it; `cargo test --release` measures the full size.
    let copies = if cfg!(debug_assertions) { 490 } else { 2_450 };
    let n = template.cases.len();
    let mut big = CaseHistory::default();
    let mut per_day: BTreeMap<chrono::NaiveDate, u32> = BTreeMap::new();
    for k in 0..copies {
        let shift = Duration::days(k as i64 / 7);
        let moved = |t: DateTime<Utc>| t + shift;
        let mut ids = std::collections::HashMap::new();
        for (j, c) in template.cases.iter().enumerate() {
            let mut c = c.clone();
            let id = (k * n + j) as i64 + 1;
            ids.insert(c.id, id);
            c.id = id;
            let day = local_date(moved(c.created_at));
            let seq = per_day.entry(day).or_insert(0);
            *seq += 1;
            c.code = code_of(day, *seq);
            c.created_at = moved(c.created_at);
            c.updated_at = moved(c.updated_at);
            big.cases.push(c);
        }
        for e in &template.events {
            let mut e = e.clone();
            e.case_id = ids[&e.case_id];
            e.at = moved(e.at);
            big.events.push(e);
        }
        for note in &template.notifications {
            let mut note = note.clone();
            note.case_id = ids[&note.case_id];
            big.notifications.push(note);
        }
        for (user, case) in &template.followers {
            big.followers.push((*user, ids[case]));
        }
    }
    // Events in time order, as a generator writes them.
    big.events.sort_by_key(|e| e.at);
    let started = Instant::now();
    let written = store.import_history(&big).await.expect("import_history");
    let elapsed = started.elapsed();
    eprintln!(
        "[sqlite] import_history of {} cases, {} events, {} notifications: {:.2} s",
        big.cases.len(),
        big.events.len(),
        big.notifications.len(),
        elapsed.as_secs_f64()
    );
    assert_eq!(written, big.cases.len() as u64);
    let stats = store.stats().await.expect("stats");
    assert_eq!(
        (stats.cases, stats.case_events),
        (big.cases.len() as u64, big.events.len() as u64)
    );
    let events = whole_chain(store).await;
    let (head, _) = verify_chain(0, GENESIS_HASH.into(), &events).expect("the chain is intact");
    assert_eq!(head, big.events.len() as i64);
    let last = big.cases.last().expect("cases");
    assert_eq!(
        store
            .get_case(last.id, &CaseVisibility::everything())
            .await
            .expect("get_case")
            .as_ref(),
        Some(last)
    );
    let page = store
        .list_cases(
            &CaseQuery::new(t0()),
            &CaseVisibility::everything(),
            cityops_store::PageRequest {
                page: 2,
                page_size: 50,
            },
        )
        .await
        .expect("list_cases");
    assert_eq!(page.total, big.cases.len() as u64);
    assert_eq!(page.items.len(), 50);
    db.store.close().await;
}

/// The text indexes merge their segments a little with every write (automerge off, migration
/// 0022): after 300 reports written one group each, each index holds a few segments — not one
/// per write, nor the 64 of a level that would be merged at once as a backstop — and the search
/// still finds each report.
#[tokio::test]
async fn text_index_segments_stay_few_under_single_writes() {
    let db = TempStore::new().await;
    let store = &db.store;
    let w = World::new(store).await;
    let n = 300;
    for i in 0..n {
        let mut r = report(i);
        r.description = format!("路面坑洼{i:04}号");
        w.create(store, "citizen1", r, at_min(i)).await;
    }
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("open");
    for (index, sql) in [
        (
            "case_trigram",
            "SELECT count(DISTINCT segid) FROM case_trigram_idx",
        ),
        (
            "case_grams",
            "SELECT count(DISTINCT segid) FROM case_grams_idx",
        ),
    ] {
        let segments: i64 = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .expect("segments");
        assert!(
            (1..=24).contains(&segments),
            "{index}: {segments} segments after {n} single writes"
        );
    }
    pool.close().await;
    let all = CaseVisibility::everything();
    for (q, want) in [("0123号", 1usize), ("坑洼", n as usize), ("洼", n as usize)] {
        let query = CaseQuery {
            text: Some(q.into()),
            ..CaseQuery::new(at_min(n + 1))
        };
        let found = store.count_cases(&query, &all).await.expect("count").total;
        assert_eq!(found, want as u64, "{q}");
    }
    db.store.close().await;
}
