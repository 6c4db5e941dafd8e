//! The stories of the report history (报表, issue 11): a report is kept once per kind, period
//! and scope (a second save of the same key writes nothing); the keys since a date are what the
//! schedule skips; the history lists newest first within the caller's region (the city's reports
//! for city-wide callers, a district's for its callers), and one report is read only in scope.
use chrono::{NaiveDate, TimeZone, Utc};
use cityops_store::{
    NewReport, PageRequest, ReportFilter, ReportKey, ReportKind, ReportPeriod, Store, StoreError,
};

use crate::case_fixtures::World;
use crate::fixtures::new_user;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn key(kind: ReportKind, from: &str, to: &str, region: Option<&str>) -> ReportKey {
    ReportKey {
        kind,
        period: ReportPeriod {
            from: d(from),
            to: d(to),
        },
        region_code: region.map(str::to_string),
    }
}

fn new(key: ReportKey, by: Option<i64>, content: &str) -> NewReport {
    NewReport {
        key,
        produced_at: Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap(),
        produced_by: by,
        content: content.to_string(),
    }
}

const ALL: PageRequest = PageRequest {
    page: 1,
    page_size: 50,
};

pub async fn reports_are_kept_once_and_read_in_scope(store: &dyn Store) {
    let w = World::new(store).await;
    let mut batch = cityops_store::ImportBatch::default();
    batch.users.push(new_user(
        "leader441303",
        &[cityops_store::Role::Leader],
        Some("441303"),
        None,
        &[],
    ));
    store.apply_import(&batch).await.expect("import a leader");
    let district_leader = store
        .credentials("leader441303")
        .await
        .expect("credentials")
        .expect("the leader")
        .user;
    let admin = w.uid("admin");

    let daily = key(ReportKind::Daily, "2026-10-30", "2026-11-02", None);
    let kept = store
        .save_report(&new(daily.clone(), None, r#"{"n":1}"#))
        .await
        .expect("save")
        .expect("kept the first time");
    assert_eq!(kept.key, daily);
    assert_eq!(kept.produced_by, None);
    // The same key again (a second server, or a rerun): nothing written, the first one stays.
    assert_eq!(
        store
            .save_report(&new(daily.clone(), Some(admin), r#"{"n":2}"#))
            .await
            .expect("save again"),
        None
    );
    let weekly = key(ReportKind::Weekly, "2026-10-26", "2026-11-02", None);
    let monthly = key(ReportKind::Monthly, "2026-10-01", "2026-11-01", None);
    let district = key(
        ReportKind::Daily,
        "2026-10-30",
        "2026-11-02",
        Some("441303"),
    );
    let other_district = key(
        ReportKind::Daily,
        "2026-10-30",
        "2026-11-02",
        Some("441302"),
    );
    let older = key(ReportKind::Daily, "2026-10-29", "2026-10-30", None);
    for k in [&weekly, &monthly, &district, &other_district, &older] {
        store
            .save_report(&new(k.clone(), Some(admin), r#"{"n":3}"#))
            .await
            .expect("save")
            .expect("a new key");
    }

    // Bad input writes nothing.
    for bad in [
        new(
            key(ReportKind::Daily, "2026-11-02", "2026-11-02", None),
            None,
            "{}",
        ),
        new(
            key(ReportKind::Daily, "2026-11-01", "2026-11-02", Some("44130")),
            None,
            "{}",
        ),
        new(
            key(ReportKind::Daily, "2026-11-01", "2026-11-02", None),
            None,
            "not json",
        ),
        new(
            key(ReportKind::Daily, "2026-11-01", "2026-11-02", None),
            Some(9_999_999),
            "{}",
        ),
    ] {
        assert!(
            matches!(store.save_report(&bad).await, Err(StoreError::Invalid(_))),
            "{bad:?}"
        );
    }

    // The keys the schedule skips: periods ending on or after a date.
    let keys = store
        .report_keys_since(d("2026-11-01"))
        .await
        .expect("keys");
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(!keys.contains(&older));
    assert_eq!(
        store
            .report_keys_since(d("2026-10-01"))
            .await
            .expect("keys")
            .len(),
        6
    );

    // The whole history, newest period first, monthly before weekly before daily, the city's
    // before the districts'.
    let everything = w.vis("admin");
    let page = store
        .list_reports(&ReportFilter::default(), &everything, ALL)
        .await
        .expect("list");
    assert_eq!(page.total, 6);
    let keys: Vec<&ReportKey> = page.items.iter().map(|s| &s.key).collect();
    assert_eq!(
        keys,
        vec![
            &weekly,
            &daily,
            &other_district,
            &district,
            &monthly,
            &older
        ]
    );
    let filtered = store
        .list_reports(
            &ReportFilter {
                kind: Some(ReportKind::Daily),
                region_code: Some(None),
                period: None,
            },
            &everything,
            ALL,
        )
        .await
        .expect("list the city's daily briefings");
    assert_eq!(filtered.total, 2);
    let exact = store
        .list_reports(
            &ReportFilter {
                period: Some(daily.period),
                ..ReportFilter::default()
            },
            &everything,
            ALL,
        )
        .await
        .expect("list one period");
    assert_eq!(
        exact.total, 3,
        "the city's and both districts' of that period"
    );

    // A city-wide dispatcher (region 441300) reads the city's and every district's reports; a
    // district's leader only their district's; an inspector of a street none.
    let city_wide = w.vis("dispatcher1");
    assert_eq!(
        store
            .list_reports(&ReportFilter::default(), &city_wide, ALL)
            .await
            .expect("list")
            .total,
        6
    );
    let mine = cityops_store::CaseVisibility::for_user(&district_leader);
    let theirs = store
        .list_reports(&ReportFilter::default(), &mine, ALL)
        .await
        .expect("list");
    assert_eq!(theirs.total, 1);
    assert_eq!(theirs.items[0].key, district);
    let street = w.vis("inspector1");
    assert_eq!(
        store
            .list_reports(&ReportFilter::default(), &street, ALL)
            .await
            .expect("list")
            .total,
        0
    );

    // One report with its content, in scope only.
    let read = store
        .report(kept.id, &everything)
        .await
        .expect("read")
        .expect("visible");
    assert_eq!(read.content, r#"{"n":1}"#);
    assert_eq!(read.summary, kept);
    assert_eq!(store.report(kept.id, &mine).await.expect("read"), None);
    assert_eq!(
        store
            .report(kept.id + 1000, &everything)
            .await
            .expect("read"),
        None
    );
}
