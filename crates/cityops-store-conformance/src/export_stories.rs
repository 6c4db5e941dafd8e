//! Exports (`ExportRepo`): keyset pages that read exactly the list's cases in the list's order
//! for every sort (ties broken by id, cases without a running clock last), within the caller's
//! visibility and the filters, whatever the page size; and the contact access log of a whole
//! export in one statement.
use cityops_domain::case::{ActionInput, CaseAction, CaseSource};
use cityops_store::{
    Case, CaseQuery, CaseSort, CaseStatus, CaseVisibility, ContactAccessQuery, ContactAccessVia,
    ContactExport, PageRequest, Store, StoreError,
};

use crate::case_fixtures::{World, at_min, location, new_report};

const SORTS: [CaseSort; 4] = [
    CaseSort::CreatedDesc,
    CaseSort::CreatedAsc,
    CaseSort::UpdatedDesc,
    CaseSort::DueAsc,
];

/// Every case of `q` read through `export_cases` in pages of `limit`.
async fn exported(store: &dyn Store, q: &CaseQuery, vis: &CaseVisibility, limit: u32) -> Vec<i64> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let page = store
            .export_cases(q, vis, after, limit)
            .await
            .expect("export_cases");
        assert!(
            page.cases.len() <= limit as usize,
            "a page holds at most its limit"
        );
        out.extend(page.cases.iter().map(|c| c.id));
        match page.next {
            Some(next) => {
                assert_eq!(page.cases.len(), limit as usize, "only a full page goes on");
                after = Some(next);
            }
            None => return out,
        }
    }
    panic!("{}: the export never ended", store.backend());
}

async fn listed(store: &dyn Store, q: &CaseQuery, vis: &CaseVisibility) -> Vec<i64> {
    let p = store
        .list_cases(
            q,
            vis,
            PageRequest {
                page: 1,
                page_size: 1000,
            },
        )
        .await
        .expect("list_cases");
    p.items.into_iter().map(|c| c.id).collect()
}

/// Ten cases: three reported at the same instant and filed together (equal creation, update and
/// due times: only the id orders them), cases in both districts, one rejected (no clock), some
/// with a reporter's contact.
async fn export_world(store: &dyn Store) -> (World, Vec<Case>) {
    let w = World::new(store).await;
    let mut cases = Vec::new();
    let report = |region: &str, lng: f64, contact: Option<&str>| {
        let mut r = new_report(
            CaseSource::Citizen,
            None,
            location(region, lng, 23.055, "东平路"),
            "导出测试",
        );
        r.contact = contact.map(str::to_string);
        r
    };
    for _ in 0..3 {
        let c = w
            .create(
                store,
                "citizen1",
                report("441302001001001", 114.405, Some("王先生 13800000000")),
                at_min(0),
            )
            .await;
        cases.push(w.file(store, &c, "01001", at_min(5)).await);
    }
    for m in 1..=4 {
        let contact = (m % 2 == 0).then_some("李女士 13900000000");
        cases.push(
            w.create(
                store,
                "citizen2",
                report("441303001001001", 114.455, contact),
                at_min(10 * m),
            )
            .await,
        );
    }
    let c = w
        .create(
            store,
            "duty1",
            report("441302001001001", 114.405, Some("热线来电 13700000000")),
            at_min(50),
        )
        .await;
    cases.push(c);
    let filed = w.file(store, &cases[3], "01001", at_min(60)).await;
    cases[3] = filed;
    let rejected = w
        .act(
            store,
            &cases[4],
            "duty1",
            CaseAction::Reject,
            ActionInput {
                reason: Some("不属于受理范围".into()),
                ..ActionInput::default()
            },
            at_min(61),
        )
        .await;
    cases[4] = rejected;
    cases.push(
        w.create(
            store,
            "citizen1",
            report("441302001001001", 114.405, None),
            at_min(70),
        )
        .await,
    );
    (w, cases)
}

pub async fn export_pages_equal_the_list(store: &dyn Store) {
    let (w, cases) = export_world(store).await;
    let now = at_min(120);
    let ev = CaseVisibility::everything();
    let scoped = w.vis("inspector2");
    for sort in SORTS {
        let all = CaseQuery {
            sort,
            ..CaseQuery::new(now)
        };
        let filed = CaseQuery {
            statuses: vec![CaseStatus::Filed, CaseStatus::Cancelled],
            ..all.clone()
        };
        let district = CaseQuery {
            region_code: Some("441302".into()),
            ..all.clone()
        };
        for (q, vis, what) in [
            (&all, &ev, "everything"),
            (&filed, &ev, "a status filter"),
            (&district, &ev, "a region filter"),
            (&all, &scoped, "a scoped user"),
        ] {
            let want = listed(store, q, vis).await;
            assert!(!want.is_empty(), "{}: {what} lists cases", store.backend());
            for limit in [1, 2, 3, 1000] {
                assert_eq!(
                    exported(store, q, vis, limit).await,
                    want,
                    "{}: {sort:?}, {what}, pages of {limit}",
                    store.backend()
                );
            }
        }
        assert_eq!(
            exported(store, &all, &ev, 4).await.len(),
            cases.len(),
            "{}: every case once",
            store.backend()
        );
    }
    // The three tied cases come in id order (descending for the descending sorts).
    let ids: Vec<i64> = cases[..3].iter().map(|c| c.id).collect();
    let asc = exported(
        store,
        &CaseQuery {
            sort: CaseSort::CreatedAsc,
            ..CaseQuery::new(now)
        },
        &ev,
        1,
    )
    .await;
    assert_eq!(asc[..3], ids[..], "{}: ties by id", store.backend());
    // A text filter, and a page size outside 1–5,000.
    let text = CaseQuery {
        text: Some("导出".into()),
        ..CaseQuery::new(now)
    };
    assert_eq!(exported(store, &text, &ev, 2).await.len(), cases.len());
    for limit in [0, 5001] {
        assert!(
            matches!(
                store.export_cases(&text, &ev, None, limit).await,
                Err(StoreError::Invalid(_))
            ),
            "{}: a page of {limit}",
            store.backend()
        );
    }
}

pub async fn export_contact_log_in_one_statement(store: &dyn Store) {
    let (w, cases) = export_world(store).await;
    let now = at_min(120);
    let all = CaseQuery::new(now);
    let who = |user_id| ContactExport {
        user_id,
        at: at_min(121),
        via: ContactAccessVia::Export,
    };
    let with_contact = |vis: &CaseVisibility, region: Option<&str>, not_by: i64| {
        let mut ids: Vec<i64> = cases
            .iter()
            .filter(|c| {
                let users: Vec<i64> = c.reporter_id.into_iter().chain(c.assignee_id).collect();
                c.contact.is_some()
                    && c.reporter_id != Some(not_by)
                    && vis.admits(c.status, c.location.region_code(), c.department_id, &users)
            })
            .filter(|c| {
                region.is_none_or(|r| c.location.region_code().is_some_and(|x| x.starts_with(r)))
            })
            .map(|c| c.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    // The duty officer sees the whole city: every case with a contact but their own hotline call.
    let duty = w.uid("duty1");
    let got = store
        .log_contacts_matching(&all, &w.vis("duty1"), who(duty))
        .await
        .expect("log");
    assert_eq!(
        sorted(got.clone()),
        with_contact(&w.vis("duty1"), None, duty)
    );
    assert_eq!(
        got.len(),
        5,
        "{}: three plus two, not the own call",
        store.backend()
    );
    let log = store
        .contact_access_log(
            &ContactAccessQuery {
                user_id: Some(duty),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await
        .expect("log read");
    assert_eq!(log.total, 5);
    assert!(
        log.items
            .iter()
            .all(|e| e.access.via == ContactAccessVia::Export
                && e.access.at == at_min(121)
                && e.access.user_id == duty)
    );
    // The filters and the visibility hold.
    let district = CaseQuery {
        region_code: Some("441302".into()),
        ..all.clone()
    };
    let got = store
        .log_contacts_matching(&district, &w.vis("duty1"), who(duty))
        .await
        .expect("log");
    assert_eq!(
        sorted(got),
        with_contact(&w.vis("duty1"), Some("441302"), duty)
    );
    let scoped = w.vis("inspector2");
    let inspector = w.uid("inspector2");
    let got = store
        .log_contacts_matching(&all, &scoped, who(inspector))
        .await
        .expect("log");
    assert_eq!(sorted(got), with_contact(&scoped, None, inspector));
    // Nothing to log: nothing written.
    let none = CaseQuery {
        statuses: vec![CaseStatus::Closed],
        ..all.clone()
    };
    assert!(
        store
            .log_contacts_matching(&none, &w.vis("duty1"), who(duty))
            .await
            .expect("log")
            .is_empty()
    );
}
