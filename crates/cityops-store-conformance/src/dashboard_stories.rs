//! The command centre's figures (领导大屏, issue 10): counts by category, class, district and
//! source, the rates, the daily trend, today's stage counts and the overdue list — on both
//! stores alike, and only over the cases the caller may see.
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_domain::calendar::Light;
use cityops_domain::case::{ActionInput, CaseAction, CaseSource, mark_light};
use cityops_store::{
    Case, CaseMapDetail, CaseQuery, CaseSort, CaseVisibility, CategoryCount, CategoryKind,
    Dashboard, DashboardQuery, KeyCount, PageRequest, Store, StoreError,
};

use crate::case_fixtures::{World, at_min, attachment, location, new_report, t0, unlocated};

/// Local midnight (Asia/Shanghai) of a day, in UTC.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")) - Duration::hours(8)
}

/// The seven local days up to `t0()` (2026-02-24 … 2026-03-02) as a dashboard query at `now`.
fn query(now: DateTime<Utc>, overdue_limit: u32) -> DashboardQuery {
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let days: Vec<NaiveDate> = (0..7).rev().map(|d| today - Duration::days(d)).collect();
    let mut day_bounds: Vec<DateTime<Utc>> = days.iter().map(|&d| midnight(d)).collect();
    day_bounds.push(midnight(today + Duration::days(1)));
    DashboardQuery {
        from: day_bounds[0],
        to: day_bounds[7],
        days,
        day_bounds,
        now,
        overdue_limit,
    }
}

fn cats(triples: &[(Option<CategoryKind>, Option<&str>, u64)]) -> Vec<CategoryCount> {
    triples
        .iter()
        .map(|(kind, code, n)| CategoryCount {
            kind: *kind,
            code: code.map(str::to_string),
            count: *n,
        })
        .collect()
}

fn keyed(pairs: &[(Option<&str>, u64)]) -> Vec<KeyCount> {
    pairs
        .iter()
        .map(|(k, n)| KeyCount {
            key: k.map(str::to_string),
            count: *n,
        })
        .collect()
}

/// The overdue open cases as the case list answers them (red light, soonest due first).
async fn overdue_by_list(store: &dyn Store, vis: &CaseVisibility, now: DateTime<Utc>) -> Vec<i64> {
    let mut q = CaseQuery::new(now);
    q.light = Some(Light::Red);
    q.sort = CaseSort::DueAsc;
    let page = PageRequest {
        page: 1,
        page_size: 1000,
    };
    store
        .list_cases(&q, vis, page)
        .await
        .expect("list_cases")
        .items
        .iter()
        .map(|c| c.id)
        .collect()
}

fn ids(cases: &[Case]) -> Vec<i64> {
    cases.iter().map(|c| c.id).collect()
}

/// Five cases over a week — one closed late, one closed on time today, one open and
/// dispatched today, one rejected today, one unlocated citizen report — counted for the city,
/// for an inspector of the other district and for a citizen.
pub async fn dashboard_counts_within_visibility(store: &dyn Store) {
    let w = World::new(store).await;
    let day = Duration::days(1);
    let here = |grid: &str| location(grid, 114.405, 23.055, "");

    // a: reported Wednesday 2026-02-25 09:00, runs over its filing limit by Thursday 09:00,
    // closed Thursday 10:00.
    let a = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                Some("01001"),
                here("441302001001001"),
                "a",
            ),
            t0() - day * 5,
        )
        .await;
    let cal = w.calendar.clone();
    let late = t0() - day * 4;
    let mark = move |c: &Case| mark_light(c, late, &cal);
    for _ in 0..2 {
        store
            .mark_lights(late, 100, &mark)
            .await
            .expect("mark_lights");
    }
    let a = store
        .get_case(a.id, &CaseVisibility::everything())
        .await
        .expect("get_case")
        .expect("case a");
    assert!(a.overdue, "case a ran over its filing limit");
    let photo = |n| attachment(n, w.uid("handler1"), late);
    let p1 = store.create_attachment(&photo(1)).await.expect("photo");
    let a = w
        .close_loop(store, &a, "01001", vec![p1.id], late + Duration::hours(1))
        .await;
    assert!(a.overdue, "closed late");

    // e: reported Sunday 2026-03-01 11:00 by the inspector (its filing limit ends Monday
    // 09:00), closed on time today (08:00–08:07).
    let e = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                here("441302001001002"),
                "e",
            ),
            t0() - day + Duration::hours(2),
        )
        .await;
    let p2 = store.create_attachment(&photo(2)).await.expect("photo");
    let e = w
        .close_loop(store, &e, "01001", vec![p2.id], t0() - Duration::hours(1))
        .await;
    assert!(!e.overdue);

    // b: reported today 09:10 by the inspector, filed and dispatched today: open.
    let b = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                here("441302001001001"),
                "b",
            ),
            at_min(10),
        )
        .await;
    let b = w.file(store, &b, "01001", at_min(11)).await;
    let b = w
        .dispatch(store, &b, w.dept("441300-municipal"), at_min(12))
        .await;
    // c: a citizen's report in the other district, rejected today (作废).
    let c = w
        .create(
            store,
            "citizen1",
            new_report(
                CaseSource::Citizen,
                Some("02001"),
                location("441303001", 114.52, 22.87, ""),
                "c",
            ),
            at_min(20),
        )
        .await;
    w.act(
        store,
        &c,
        "duty1",
        CaseAction::Reject,
        ActionInput {
            reason: Some("不属于受理范围".into()),
            ..ActionInput::default()
        },
        at_min(21),
    )
    .await;
    // d: an unlocated report without a category, still waiting for intake.
    let d = w
        .create(
            store,
            "citizen2",
            new_report(CaseSource::Citizen, None, unlocated(113.0, 22.0), "d"),
            at_min(30),
        )
        .await;

    // The whole city.
    let now = t0() + day * 7;
    let all = CaseVisibility::everything();
    let got: Dashboard = store
        .dashboard(&query(now, 10), &all)
        .await
        .expect("dashboard");
    assert_eq!(
        (got.reported, got.closed, got.closed_on_time, got.cancelled),
        (5, 2, 1, 1),
        "{}: reported, closed, on time, cancelled",
        store.backend()
    );
    assert_eq!(got.closure_rate(), Some(0.5), "2 closed of 4 not cancelled");
    assert_eq!(got.on_time_rate(), Some(0.5), "1 of 2 closed on time");
    let m = Some(CategoryKind::Matter);
    assert_eq!(
        got.by_category,
        cats(&[
            (m, Some("01001"), 3),
            (None, None, 1),
            (m, Some("02001"), 1)
        ])
    );
    assert_eq!(
        got.by_class,
        cats(&[(m, Some("01"), 3), (None, None, 1), (m, Some("02"), 1)])
    );
    assert_eq!(
        got.by_district,
        keyed(&[(Some("441302"), 3), (None, 1), (Some("441303"), 1)])
    );
    assert_eq!(
        got.by_source,
        keyed(&[(Some("citizen"), 3), (Some("inspector"), 2)])
    );
    let trend: Vec<(u64, u64)> = got.daily.iter().map(|d| (d.reported, d.closed)).collect();
    assert_eq!(
        trend,
        vec![(0, 0), (1, 0), (0, 1), (0, 0), (0, 0), (1, 0), (3, 1)],
        "{}",
        store.backend()
    );
    assert_eq!(
        got.daily
            .iter()
            .map(|d| d.day.to_string())
            .collect::<Vec<_>>(),
        [
            "2026-02-24",
            "2026-02-25",
            "2026-02-26",
            "2026-02-27",
            "2026-02-28",
            "2026-03-01",
            "2026-03-02"
        ]
    );
    assert_eq!(
        (
            got.today.reported,
            got.today.filed,
            got.today.dispatched,
            got.today.closed
        ),
        (3, 2, 2, 1),
        "{}: today's reported, filed (e, b), dispatched (e, b), closed (e)",
        store.backend()
    );
    // Overdue: the open cases b and d, as the case list orders them.
    let expected = overdue_by_list(store, &all, now).await;
    let mut open = vec![b.id, d.id];
    open.sort_unstable();
    let mut sorted = expected.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, open, "b and d are overdue a week later");
    assert_eq!(got.overdue_total, 2);
    assert_eq!(ids(&got.overdue), expected, "most overdue first");
    let first = store
        .dashboard(&query(now, 1), &all)
        .await
        .expect("dashboard");
    assert_eq!(ids(&first.overdue), expected[..1], "the limit");
    assert_eq!(first.overdue_total, 2, "the total ignores the limit");
    // Nothing is overdue on the morning of the reports but what ran over since.
    let morning = store
        .dashboard(&query(at_min(31), 10), &all)
        .await
        .expect("dashboard");
    assert_eq!(
        ids(&morning.overdue),
        overdue_by_list(store, &all, at_min(31)).await
    );

    // An inspector of the other district sees case c only.
    let vis = w.vis("inspector2");
    let got = store
        .dashboard(&query(now, 10), &vis)
        .await
        .expect("dashboard");
    assert_eq!(
        (got.reported, got.closed, got.cancelled),
        (1, 0, 1),
        "{}",
        store.backend()
    );
    assert_eq!(got.by_district, keyed(&[(Some("441303"), 1)]));
    assert_eq!(
        got.by_category,
        cats(&[(Some(CategoryKind::Matter), Some("02001"), 1)])
    );
    assert_eq!(got.today.reported, 1);
    assert_eq!(
        (got.today.filed, got.today.dispatched, got.today.closed),
        (0, 0, 0)
    );
    assert_eq!(got.closure_rate(), None, "nothing left after the cancelled");
    assert_eq!(got.overdue_total, 0);

    // A citizen sees the case they reported (d) only.
    let vis = w.vis("citizen2");
    let got = store
        .dashboard(&query(now, 10), &vis)
        .await
        .expect("dashboard");
    assert_eq!(got.reported, 1);
    assert_eq!(got.by_source, keyed(&[(Some("citizen"), 1)]));
    assert_eq!(ids(&got.overdue), vec![d.id]);
    let trend: Vec<u64> = got.daily.iter().map(|d| d.reported).collect();
    assert_eq!(trend, vec![0, 0, 0, 0, 0, 0, 1]);

    // The map's case layer: only the box, as cells or points, lights at `now`.
    let mut view = CaseQuery::new(now);
    view.bbox = Some([114.0, 22.8, 114.6, 23.2]);
    let cells = store
        .case_map(&view, &all, CaseMapDetail::Cells { size: 0.1 })
        .await
        .expect("case_map cells");
    assert_eq!(
        cells.total,
        4,
        "{}: d lies outside the box",
        store.backend()
    );
    let got: Vec<(u64, u64)> = cells.cells.iter().map(|c| (c.count, c.red)).collect();
    assert_eq!(
        got,
        vec![(1, 0), (3, 1)],
        "c's cell (row 0), then a, b, e (b overdue)"
    );
    assert!(
        (cells.cells[1].lng - 114.405).abs() < 1e-9,
        "the cell's mean point"
    );
    let points = store
        .case_map(&view, &all, CaseMapDetail::Points { limit: 2 })
        .await
        .expect("case_map points");
    assert_eq!(points.total, 4);
    let newest: Vec<i64> = points.points.iter().map(|p| p.id).collect();
    assert_eq!(newest, vec![c.id, b.id], "newest first, capped");
    assert_eq!(points.points[1].light, Light::Red, "b is overdue at now");
    let mut open_only = view.clone();
    open_only.statuses = vec![cityops_store::CaseStatus::Closed];
    let closed = store
        .case_map(&open_only, &all, CaseMapDetail::Points { limit: 10 })
        .await
        .expect("case_map");
    let mut got: Vec<i64> = closed.points.iter().map(|p| p.id).collect();
    got.sort_unstable();
    let mut want = vec![a.id, e.id];
    want.sort_unstable();
    assert_eq!(got, want, "filters apply");
    let theirs = store
        .case_map(
            &view,
            &w.vis("inspector2"),
            CaseMapDetail::Points { limit: 10 },
        )
        .await
        .expect("case_map");
    assert_eq!(
        theirs.points.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![c.id],
        "within visibility"
    );
    assert!(matches!(
        store
            .case_map(
                &CaseQuery::new(now),
                &all,
                CaseMapDetail::Points { limit: 10 }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .case_map(&view, &all, CaseMapDetail::Cells { size: 0.0 })
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Malformed queries are refused alike.
    let mut bad = query(now, 10);
    bad.day_bounds.pop();
    assert!(matches!(
        store.dashboard(&bad, &all).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad = query(now, 10);
    bad.day_bounds.swap(0, 1);
    assert!(matches!(
        store.dashboard(&bad, &all).await,
        Err(StoreError::Invalid(_))
    ));
}
