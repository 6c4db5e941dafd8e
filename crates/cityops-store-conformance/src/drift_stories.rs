//! Stories of behaviours in which the two stores once drifted apart (issue 7): text search, the
//! order of equal due times, the category filter, the daily limit of case codes (also inside a
//! write group) and the projection of the stage clock, a holiday schedule naming one date twice. Each holds on both stores because the code path is one
//! (`cityops-store-sql`); the stories keep it so.
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use cityops_domain::calendar::Light;
use cityops_domain::case::{ActionInput, CaseAction, CaseSource};
use cityops_store::{
    Case, CaseQuery, CaseSort, CaseVisibility, NewCaseEvent, NewNotification, PageRequest, Store,
    StoreError,
};

use crate::case_fixtures::{
    World, at_min, code_of, history, join_all, local_date, location, new_report, t0,
};
use crate::fixtures::system_change;

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 1000,
    }
}

/// The ids a query lists, in order (one page), checking the total and `count_cases`.
async fn ids(store: &dyn Store, q: &CaseQuery) -> Vec<i64> {
    let vis = CaseVisibility::everything();
    let p = store.list_cases(q, &vis, all()).await.expect("list_cases");
    assert_eq!(
        p.total as usize,
        p.items.len(),
        "{}: total",
        store.backend()
    );
    let counts = store.count_cases(q, &vis).await.expect("count_cases");
    assert_eq!(
        counts.total,
        p.total,
        "{}: count_cases agrees with list_cases for {q:?}",
        store.backend()
    );
    p.items.into_iter().map(|c| c.id).collect()
}

fn text(q: &str) -> CaseQuery {
    CaseQuery {
        text: Some(q.to_string()),
        ..CaseQuery::new(at_min(60))
    }
}

/// `q` searches code, description and address: a literal substring (`%`, `_` and `\` match
/// themselves), folding the case of Latin letters, exact for Chinese text.
pub async fn case_text_search_folds_latin_and_is_literal(store: &dyn Store) {
    let w = World::new(store).await;
    let rep = |description: &str, address: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, address),
            description,
        )
    };
    let upper = w
        .create(
            store,
            "citizen1",
            rep("ABC 路灯不亮", "东平路1号"),
            at_min(0),
        )
        .await;
    let lower = w
        .create(
            store,
            "citizen1",
            rep("abc 井盖破损", "东平路2号"),
            at_min(1),
        )
        .await;
    let chinese = w
        .create(
            store,
            "citizen1",
            rep("道路破损严重", "Dongping Road 3"),
            at_min(2),
        )
        .await;
    let wild = w
        .create(
            store,
            "citizen1",
            rep("10%_off a\\b", "东平路4号"),
            at_min(3),
        )
        .await;
    let b = store.backend();
    let s = |v: Vec<i64>| v.into_iter().collect::<BTreeSet<_>>();
    let expect = |ids: &[i64]| ids.iter().copied().collect::<BTreeSet<_>>();

    for q in ["abc", "ABC", "aBc"] {
        assert_eq!(
            s(ids(store, &text(q)).await),
            expect(&[upper.id, lower.id]),
            "{b}: {q:?} folds Latin case in descriptions"
        );
    }
    assert_eq!(
        s(ids(store, &text("DONGPING road")).await),
        expect(&[chinese.id]),
        "{b}: addresses fold Latin case too"
    );
    assert_eq!(
        s(ids(store, &text("路破损")).await),
        expect(&[chinese.id]),
        "{b}: a Chinese substring"
    );
    assert!(
        ids(store, &text("破损道路")).await.is_empty(),
        "{b}: Chinese text is matched exactly, not as words"
    );
    assert_eq!(
        s(ids(store, &text("东平路")).await),
        expect(&[upper.id, lower.id, wild.id]),
        "{b}: Chinese addresses"
    );
    for q in ["%", "_", "\\", "0%_o", "a\\b"] {
        assert_eq!(
            s(ids(store, &text(q)).await),
            expect(&[wild.id]),
            "{b}: {q:?} is literal"
        );
    }
    assert!(
        ids(store, &text("10_%")).await.is_empty(),
        "{b}: `_` is not a wildcard"
    );
    // Codes: the day part matches every case of the day, the full code one case.
    assert_eq!(s(ids(store, &text(&lower.code)).await), expect(&[lower.id]));
    assert_eq!(ids(store, &text(&upper.code[..8])).await.len(), 4);
}

/// Every sort is a total order, the same on every store: equal keys are ordered by id (ascending
/// for the ascending sorts, descending for the others), cases without a running clock come last
/// when sorting by due time, and pages of any size concatenate to the full list.
pub async fn case_sorts_break_ties_by_id(store: &dyn Store) {
    let w = World::new(store).await;
    let rep = |d: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, "东平路"),
            d,
        )
    };
    // Three cases at one instant (equal created/updated/due times), two at others, one before
    // the working day, one rejected (closed: no clock projected).
    let mut cases = Vec::new();
    for (i, m) in [0, 0, 0, 30, 5].into_iter().enumerate() {
        cases.push(
            w.create(store, "citizen1", rep(&format!("c{i}")), at_min(m))
                .await,
        );
    }
    // Reported before the working day starts, stored last: its clock starts with the day, so
    // its due time can equal the 09:00 cases' while its creation is earlier and its id larger.
    cases.push(w.create(store, "citizen1", rep("early"), at_min(-30)).await);
    let rejected = w
        .create(store, "citizen1", rep("rejected"), at_min(0))
        .await;
    let input = ActionInput {
        reason: Some("不属于受理范围".into()),
        ..ActionInput::default()
    };
    w.act(
        store,
        &rejected,
        "duty1",
        CaseAction::Reject,
        input,
        at_min(10),
    )
    .await;
    let vis = CaseVisibility::everything();
    let mut stored: Vec<Case> = Vec::new();
    for c in cases.iter().chain([&rejected]) {
        stored.push(
            store
                .get_case(c.id, &vis)
                .await
                .expect("get_case")
                .expect("exists"),
        );
    }
    let due = |c: &Case| -> Option<DateTime<Utc>> {
        c.clock
            .as_ref()
            .filter(|_| c.status.is_open())
            .and_then(|k| k.due)
    };
    assert!(
        stored.iter().filter(|c| due(c).is_none()).count() >= 1,
        "the rejected case has no running clock"
    );
    for sort in [
        CaseSort::CreatedDesc,
        CaseSort::CreatedAsc,
        CaseSort::DueAsc,
        CaseSort::UpdatedDesc,
    ] {
        let mut expected = stored.clone();
        match sort {
            CaseSort::CreatedDesc => expected.sort_by_key(|c| Reverse((c.created_at, c.id))),
            CaseSort::CreatedAsc => expected.sort_by_key(|c| (c.created_at, c.id)),
            CaseSort::DueAsc => expected.sort_by(|a, b| {
                (due(a).is_none(), due(a), a.id).cmp(&(due(b).is_none(), due(b), b.id))
            }),
            CaseSort::UpdatedDesc => expected.sort_by_key(|c| Reverse((c.updated_at, c.id))),
        }
        let expected: Vec<i64> = expected.iter().map(|c| c.id).collect();
        let q = CaseQuery {
            sort,
            ..CaseQuery::new(at_min(60))
        };
        assert_eq!(
            ids(store, &q).await,
            expected,
            "{}: order of {sort:?}",
            store.backend()
        );
        let mut paged = Vec::new();
        for page in 1..=4 {
            let p = store
                .list_cases(&q, &vis, PageRequest { page, page_size: 2 })
                .await
                .expect("list_cases");
            paged.extend(p.items.into_iter().map(|c| c.id));
        }
        assert_eq!(paged, expected, "{}: pages of {sort:?}", store.backend());
    }
}

/// A malformed category filter is `Invalid` on every store, for lists and counts alike; a
/// well-formed code that no case has simply matches nothing.
pub async fn case_category_filter_answered_alike(store: &dyn Store) {
    let w = World::new(store).await;
    let c = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                location("441302001001001", 114.405, 23.055, "东平路"),
                "井盖",
            ),
            at_min(0),
        )
        .await;
    let vis = CaseVisibility::everything();
    let b = store.backend();
    let with = |category: &str| CaseQuery {
        category: Some(category.to_string()),
        ..CaseQuery::new(at_min(60))
    };
    for bad in ["", "1", "010", "0100", "010011", "0100a", "ab", "０１"] {
        let q = with(bad);
        assert!(
            matches!(
                store.list_cases(&q, &vis, all()).await,
                Err(StoreError::Invalid(_))
            ),
            "{b}: list_cases with category {bad:?}"
        );
        assert!(
            matches!(
                store.count_cases(&q, &vis).await,
                Err(StoreError::Invalid(_))
            ),
            "{b}: count_cases with category {bad:?}"
        );
    }
    for unknown in ["99", "99999", "02", "01002"] {
        assert!(
            ids(store, &with(unknown)).await.is_empty(),
            "{b}: unknown category {unknown:?} matches nothing"
        );
    }
    for known in ["01", "01001"] {
        assert_eq!(ids(store, &with(known)).await, vec![c.id], "{b}: {known:?}");
    }
}

/// A day numbers at most 99,999 cases (`YYYYMMDD` + 5 digits): the next report of that day is a
/// clear error naming the limit, writes nothing, and never gets a 14-digit code; the next day
/// starts again at 00001.
pub async fn case_codes_stop_at_the_daily_limit(store: &dyn Store) {
    let w = World::new(store).await;
    let day = local_date(t0());
    // Seed the day's sequence through the store: a history whose case is the 99,998th of the day.
    let mut h = history(&w, 1);
    h.cases[0].code = format!("{}99998", day.format("%Y%m%d"));
    store.import_history(&h).await.expect("import_history");
    let rep = |d: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, "东平路"),
            d,
        )
    };
    let b = store.backend();
    let last = w.create(store, "citizen1", rep("last"), at_min(60)).await;
    assert_eq!(last.code, format!("{}99999", day.format("%Y%m%d")), "{b}");
    let before = store.stats().await.expect("stats");
    for attempt in 0..2 {
        let (case, event, notify) = w.report("citizen1", rep("one too many"), at_min(61));
        match store.create_case(&case, day, &event, &notify).await {
            Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => assert!(
                m.contains("99999") || m.contains("100000"),
                "{b}: the error names the limit: {m}"
            ),
            other => panic!("{b}: report {attempt} past the daily limit: {other:?}"),
        }
    }
    let after = store.stats().await.expect("stats");
    assert_eq!(
        (after.cases, after.case_events),
        (before.cases, before.case_events),
        "{b}: a refused report writes nothing"
    );
    let listed = store
        .list_cases(
            &CaseQuery::new(at_min(60)),
            &CaseVisibility::everything(),
            all(),
        )
        .await
        .expect("list_cases");
    assert!(
        listed.items.iter().all(|c| c.code.len() == 13),
        "{b}: every code has 13 digits"
    );
    let next_day = t0() + Duration::days(1);
    let first = w.create(store, "citizen1", rep("next day"), next_day).await;
    assert_eq!(first.code, code_of(local_date(next_day), 1), "{b}");
}

/// Reports written together (group commit) near the daily limit: of six concurrent reports when
/// 99,996 numbers are taken, exactly three are stored (…99997 to …99999) and three refused with
/// the limit; the refused ones leave nothing, the stored ones have their events, and the chain
/// verifies.
pub async fn case_codes_daily_limit_inside_a_group(store: &dyn Store) {
    let w = World::new(store).await;
    let day = local_date(t0());
    let mut h = history(&w, 1);
    h.cases[0].code = format!("{}99996", day.format("%Y%m%d"));
    store.import_history(&h).await.expect("import_history");
    let before = store.stats().await.expect("stats");
    let reports: Vec<_> = (0..6)
        .map(|i| {
            w.report(
                "citizen1",
                new_report(
                    CaseSource::Citizen,
                    None,
                    location(
                        "441302001001001",
                        114.405 + 0.001 * f64::from(i),
                        23.055,
                        "",
                    ),
                    &format!("临界 {i}"),
                ),
                at_min(60),
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
    let b = store.backend();
    let stored: BTreeSet<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|c| c.code.clone()))
        .collect();
    let want: BTreeSet<String> = (99_997..=99_999).map(|n| code_of(day, n)).collect();
    assert_eq!(
        stored, want,
        "{b}: the last three numbers of the day: {results:?}"
    );
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(r, Err(StoreError::Conflict(m) | StoreError::Invalid(m)) if m.contains("99999") || m.contains("100000")),
            "{b}: a report past the limit names it: {r:?}"
        );
    }
    let after = store.stats().await.expect("stats");
    assert_eq!(
        (
            after.cases - before.cases,
            after.case_events - before.case_events
        ),
        (3, 3),
        "{b}: three cases with one event each, nothing of the refused ones"
    );
    let head = store.audit_events(0, 100_000).await.expect("audit_events");
    cityops_domain::case::verify_chain(0, cityops_domain::case::GENESIS_HASH.to_string(), &head)
        .unwrap_or_else(|e| panic!("{b}: the chain is broken at {}: {}", e.seq, e.reason));
}

/// The stage clock is projected for open cases only: a closed case whose document still carries
/// a clock long past due is never red or yellow, sorts with the clockless cases, and is never
/// offered to the deadline watcher; its document comes back unchanged.
pub async fn case_clock_projected_for_open_cases_only(store: &dyn Store) {
    let w = World::new(store).await;
    let mut h = history(&w, 10);
    let past_due = t0() - Duration::hours(1);
    let template = h
        .cases
        .iter()
        .find_map(|c| c.clock.clone())
        .expect("an open history case has a clock");
    let mut closed = BTreeSet::new();
    for c in &mut h.cases {
        if !c.status.is_open() {
            let mut k = template.clone();
            k.due = Some(past_due);
            k.yellow_at = Some(past_due - Duration::hours(1));
            c.clock = Some(k);
            closed.insert(c.id);
        }
    }
    assert!(closed.len() >= 2, "the history closes or cancels cases");
    store.import_history(&h).await.expect("import_history");
    let b = store.backend();
    let later = t0() + Duration::days(30);
    let light = |l: Light| CaseQuery {
        light: Some(l),
        ..CaseQuery::new(later)
    };
    let red: BTreeSet<i64> = ids(store, &light(Light::Red)).await.into_iter().collect();
    let yellow: BTreeSet<i64> = ids(store, &light(Light::Yellow))
        .await
        .into_iter()
        .collect();
    let green: BTreeSet<i64> = ids(store, &light(Light::Green)).await.into_iter().collect();
    assert!(red.is_disjoint(&closed), "{b}: closed cases are never red");
    assert!(yellow.is_disjoint(&closed), "{b}: nor yellow");
    assert!(closed.is_subset(&green), "{b}: they count as green");
    let open_with_due: BTreeSet<i64> = h
        .cases
        .iter()
        .filter(|c| c.status.is_open() && c.clock.as_ref().is_some_and(|k| k.due.is_some()))
        .map(|c| c.id)
        .collect();
    assert_eq!(
        red, open_with_due,
        "{b}: every open case with a due time is red by then"
    );
    let by_due = ids(
        store,
        &CaseQuery {
            sort: CaseSort::DueAsc,
            ..CaseQuery::new(later)
        },
    )
    .await;
    let (first, rest) = by_due.split_at(open_with_due.len());
    assert_eq!(
        first.iter().copied().collect::<BTreeSet<_>>(),
        open_with_due,
        "{b}: running clocks first"
    );
    assert!(
        closed.iter().all(|id| rest.contains(id)),
        "{b}: closed cases sort with the clockless"
    );
    let offered = Mutex::new(BTreeSet::new());
    let mark = |c: &Case| -> Option<(Case, NewCaseEvent, Vec<NewNotification>)> {
        offered.lock().expect("lock").insert(c.id);
        None
    };
    let marked = store
        .mark_lights(later, 1000, &mark)
        .await
        .expect("mark_lights");
    assert_eq!(marked, 0, "{b}: the mark declined every case");
    let offered = offered.into_inner().expect("lock");
    assert!(
        offered.is_disjoint(&closed),
        "{b}: closed cases are not offered to the watcher: {offered:?}"
    );
    for id in &closed {
        let c = store
            .get_case(*id, &CaseVisibility::everything())
            .await
            .expect("get_case")
            .expect("exists");
        assert_eq!(
            c.clock.and_then(|k| k.due),
            Some(past_due),
            "{b}: the document keeps its clock"
        );
    }
}

/// A holiday schedule that names one date twice is refused whole on every store (once
/// PostgreSQL kept the last entry while SQLite refused): nothing is written, no version moves.
pub async fn calendar_repeated_date_refused(store: &dyn Store) {
    use cityops_domain::calendar::{CalendarDay, DayKind};
    let day = |d: u32, kind: DayKind, name: &str| CalendarDay {
        date: chrono::NaiveDate::from_ymd_opt(2031, 10, d).expect("date"),
        kind,
        name: name.to_string(),
    };
    let before = store.calendar_days().await.expect("calendar_days");
    let versions = store.cache_versions().await.expect("cache_versions");
    let twice = [
        day(1, DayKind::Holiday, "国庆节"),
        day(2, DayKind::Holiday, "国庆节"),
        day(1, DayKind::Workday, "调休上班"),
    ];
    match store.put_calendar_days(&twice, &system_change()).await {
        Err(StoreError::Invalid(m)) => assert!(
            m.contains("2031-10-01"),
            "{}: the message names the date: {m}",
            store.backend()
        ),
        other => panic!(
            "{}: a repeated date must be Invalid, got {other:?}",
            store.backend()
        ),
    }
    assert_eq!(
        store.calendar_days().await.expect("calendar_days"),
        before,
        "{}: nothing written",
        store.backend()
    );
    assert_eq!(
        store.cache_versions().await.expect("cache_versions"),
        versions,
        "{}: no version moved",
        store.backend()
    );
    // The same days without the repetition are taken.
    assert_eq!(
        store
            .put_calendar_days(&twice[..2], &system_change())
            .await
            .expect("put"),
        2,
        "{}",
        store.backend()
    );
}
