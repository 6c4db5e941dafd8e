//! 综合评价 (issue 11): a period's cases as the evaluation reads them — every visible case reported
//! in the window, with the evaluation record the machine's facts give, alike on both stores — and
//! a drill-down page of cases by id, in the order asked, within the caller's visibility.
use chrono::Duration;
use cityops_domain::case::CaseSource;
use cityops_domain::evaluation::{EvalCase, EvalRecord};
use cityops_store::{CaseVisibility, Store, StoreError};

use crate::case_fixtures::{World, at_min, attachment, location, new_report};

pub async fn evaluation_cases_carry_the_facts_within_visibility(store: &dyn Store) {
    let w = World::new(store).await;
    let here = |grid: &str| location(grid, 114.405, 23.055, "");
    // a: reported 09:05 and closed through the whole loop; b: reported 09:10 and filed;
    // c: reported in the other district at 09:20; d: reported the next day (outside the window).
    let a = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                here("441302001001001"),
                "a",
            ),
            at_min(5),
        )
        .await;
    let p = store
        .create_attachment(&attachment(1, w.uid("handler1"), at_min(6)))
        .await
        .expect("photo");
    let a = w
        .close_loop(store, &a, "01001", vec![p.id], at_min(30))
        .await;
    let b = w
        .create(
            store,
            "inspector1",
            new_report(
                CaseSource::Inspector,
                Some("01001"),
                here("441302001001002"),
                "b",
            ),
            at_min(10),
        )
        .await;
    let b = w.file(store, &b, "01001", at_min(11)).await;
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
    let _d = w
        .create(
            store,
            "citizen1",
            new_report(CaseSource::Citizen, None, here("441302001001001"), "d"),
            at_min(20) + Duration::days(1),
        )
        .await;
    let everything = CaseVisibility::everything();
    let (from, to) = (at_min(0), at_min(60));
    let got = store
        .evaluation_cases(from, to, &everything)
        .await
        .expect("evaluation_cases");
    // Each case exactly as the domain sees it: ids, codes, columns and the record.
    let expect: Vec<EvalCase> = [&a, &b, &c].iter().map(|c| EvalCase::of(c)).collect();
    assert_eq!(got, expect);
    let ra = &got[0].rec;
    assert!(ra.fa.is_some() && ra.da.is_some() && ra.ha.is_some() && ra.xa.is_some());
    assert_eq!(ra.ho, Some(true), "handled by its deadline");
    assert_eq!(ra.fb, Some(w.uid("duty1")));
    assert_eq!(got[1].rec.da, None, "b was filed, not dispatched");
    assert_eq!(got[2].rec, EvalRecord::default(), "c is untouched");

    // The window is half-open, and the visibility is applied in the query.
    let got = store
        .evaluation_cases(at_min(10), at_min(20), &everything)
        .await
        .expect("window");
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b.id]);
    let other = store
        .evaluation_cases(from, to, &w.vis("inspector2"))
        .await
        .expect("scoped");
    assert_eq!(other.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c.id]);
    assert!(matches!(
        store.evaluation_cases(to, from, &everything).await,
        Err(StoreError::Invalid(_))
    ));

    // A drill-down page: the order asked, unknown and invisible ids left out.
    let page = store
        .cases_by_ids(&[c.id, 999_999, a.id], &everything)
        .await
        .expect("cases_by_ids");
    assert_eq!(
        page.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![c.id, a.id]
    );
    assert_eq!(page[1], a, "the whole case");
    let page = store
        .cases_by_ids(&[c.id, a.id], &w.vis("inspector2"))
        .await
        .expect("scoped ids");
    assert_eq!(page.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c.id]);
    assert!(
        store
            .cases_by_ids(&[], &everything)
            .await
            .expect("none")
            .is_empty()
    );
    let many: Vec<i64> = (1..=1001).collect();
    assert!(matches!(
        store.cases_by_ids(&many, &everything).await,
        Err(StoreError::Invalid(_))
    ));
}

/// The evaluation's cache key of a day: every write to a case reported that day changes the day's
/// fingerprint (and no other day's); an unchanged day answers the same; the visibility applies.
pub async fn evaluation_fingerprints_change_with_every_write(store: &dyn Store) {
    let w = World::new(store).await;
    let here = || location("441302001001001", 114.405, 23.055, "");
    let bounds = [at_min(0), at_min(30), at_min(60), at_min(90)];
    let everything = CaseVisibility::everything();
    let empty = store
        .evaluation_fingerprints(&bounds, &everything)
        .await
        .expect("fingerprints");
    assert_eq!(empty.len(), 3);
    assert!(empty.iter().all(|d| d.cases == 0 && d.last_write.is_none()));
    let a = w
        .create(
            store,
            "inspector1",
            new_report(CaseSource::Inspector, Some("01001"), here(), "a"),
            at_min(5),
        )
        .await;
    let b = w
        .create(
            store,
            "inspector1",
            new_report(CaseSource::Inspector, Some("01001"), here(), "b"),
            at_min(40),
        )
        .await;
    let before = store
        .evaluation_fingerprints(&bounds, &everything)
        .await
        .expect("fingerprints");
    assert_eq!(
        before.iter().map(|d| d.cases).collect::<Vec<_>>(),
        vec![1, 1, 0]
    );
    assert_eq!(before[0].version_sum, a.version);
    assert_eq!(
        store
            .evaluation_fingerprints(&bounds, &everything)
            .await
            .expect("again"),
        before,
        "nothing changed"
    );
    // Filing b changes its day only.
    w.file(store, &b, "01001", at_min(45)).await;
    let after = store
        .evaluation_fingerprints(&bounds, &everything)
        .await
        .expect("fingerprints");
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(after[1].version_sum, before[1].version_sum + 1);
    assert_eq!(after[1].last_write, Some(at_min(45)));
    assert_eq!(after[2], before[2]);
    // One day alone.
    let one = store
        .evaluation_fingerprints(&bounds[..2], &everything)
        .await
        .expect("one day");
    assert_eq!(one, vec![after[0]]);
    // Within the caller's visibility.
    let other = store
        .evaluation_fingerprints(&bounds, &w.vis("inspector2"))
        .await
        .expect("scoped");
    assert!(other.iter().all(|d| d.cases == 0 && d.version_sum == 0));
    for bad in [&bounds[..1], &[bounds[1], bounds[0]][..]] {
        assert!(matches!(
            store.evaluation_fingerprints(bad, &everything).await,
            Err(StoreError::Invalid(_))
        ));
    }
}
