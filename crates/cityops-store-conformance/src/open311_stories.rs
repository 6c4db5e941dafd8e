//! The stories of Open311 (issue 13, 公众诉求开放接口): client applications found by the hash of
//! their key and stamped when used, revoked at once; request records with their token; the page
//! of published cases `GET requests` reads (services by kind and code, a code list overriding
//! the other filters, statuses, the window, the department's name, the events, the record); and
//! the updates within a window.
use cityops_domain::case::{ActionInput, CaseAction, CaseSource, CaseStatus};
use cityops_store::{
    CategoryKind, NewOpen311Client, NewOpen311Request, Open311Query, Open311UpdateQuery,
    PageRequest, Store, StoreError,
};

use crate::case_fixtures::{World, at_min, attachment, location, new_report};

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 1000,
    }
}

/// Keys are kept by hash only and found while not revoked; each use stamps `last_used_at`; a
/// revocation holds at once and keeps its first time; a hash is registered once; clients list
/// newest first.
pub async fn open311_clients_are_found_by_key_hash_until_revoked(store: &dyn Store) {
    let w = World::new(store).await;
    let backend = store.backend();
    let admin = w.uid("admin");
    let new = |name: &str, n: u8, minute: i64| NewOpen311Client {
        name: name.into(),
        contact: format!("{name}@example.org"),
        key_hash: hash(n),
        created_by: Some(admin),
        created_at: at_min(minute),
    };
    let a = store
        .create_open311_client(&new("惠民APP", 1, 1))
        .await
        .expect("create a");
    let b = store
        .create_open311_client(&new("FixMyStreet", 2, 2))
        .await
        .expect("create b");
    assert_eq!(a.name, "惠民APP", "{backend}");
    assert_eq!(a.created_by, Some(admin), "{backend}");
    assert_eq!(a.revoked_at, None, "{backend}");
    assert_eq!(a.last_used_at, None, "{backend}");
    assert!(matches!(
        store.create_open311_client(&new("again", 1, 3)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_open311_client(&NewOpen311Client {
                created_by: Some(999_999),
                ..new("nobody", 9, 3)
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
    let list = store.list_open311_clients(all()).await.expect("list");
    assert_eq!(list.total, 2, "{backend}");
    assert_eq!(
        list.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![b.id, a.id],
        "{backend}: newest first"
    );

    let used = store
        .open311_client_by_key(&hash(1), at_min(10))
        .await
        .expect("by key")
        .unwrap_or_else(|| panic!("{backend}: the key finds its client"));
    assert_eq!(used.id, a.id, "{backend}");
    assert_eq!(used.last_used_at, Some(at_min(10)), "{backend}");
    assert!(
        store
            .open311_client_by_key(&hash(7), at_min(10))
            .await
            .expect("by key")
            .is_none(),
        "{backend}: an unknown key"
    );

    let revoked = store
        .revoke_open311_client(a.id, at_min(20))
        .await
        .expect("revoke")
        .expect("a exists");
    assert_eq!(revoked.revoked_at, Some(at_min(20)), "{backend}");
    assert!(
        store
            .open311_client_by_key(&hash(1), at_min(21))
            .await
            .expect("by key")
            .is_none(),
        "{backend}: a revoked key is refused at once"
    );
    let again = store
        .revoke_open311_client(a.id, at_min(30))
        .await
        .expect("revoke again")
        .expect("a exists");
    assert_eq!(
        again.revoked_at,
        Some(at_min(20)),
        "{backend}: the first revocation stays"
    );
    assert_eq!(
        again.last_used_at,
        Some(at_min(10)),
        "{backend}: a refused key is not stamped"
    );
    assert!(
        store
            .revoke_open311_client(999_999, at_min(30))
            .await
            .expect("revoke unknown")
            .is_none()
    );
    let got = store
        .get_open311_client(b.id)
        .await
        .expect("get")
        .expect("b");
    assert_eq!(got, b, "{backend}");
    assert!(
        store
            .get_open311_client(999_999)
            .await
            .expect("get")
            .is_none()
    );
}

/// The page of published cases: only the published (kind, code) pairs — the same 5 digits of
/// the other kind and cases without a category are never answered —; a code list overrides
/// statuses and the window; statuses and the window filter; newest first; each case with its
/// department's name, its events in order and its Open311 record (token, photo links,
/// answers); a token finds its case's code; a record is kept once.
pub async fn open311_requests_read_published_cases_in_one_page(store: &dyn Store) {
    let w = World::new(store).await;
    let backend = store.backend();
    let grid = "441302001001001";
    let matter = |d: &str| {
        new_report(
            CaseSource::Citizen,
            Some("01001"),
            location(grid, 114.405, 23.055, "府城路1号"),
            d,
        )
    };
    // A matter case of the published service, through the loop to closed.
    let closed = w
        .create(store, "citizen1", matter("私搭乱建一处"), at_min(1))
        .await;
    let photo = store
        .create_attachment(&attachment(1, w.uid("handler1"), at_min(2)))
        .await
        .expect("create_attachment");
    let closed = w
        .close_loop(store, &closed, "01001", vec![photo.id], at_min(2))
        .await;
    assert_eq!(closed.status, CaseStatus::Closed);
    // A second one, dispatched and open.
    let open = w
        .create(store, "citizen1", matter("又一处"), at_min(20))
        .await;
    let open = w.file(store, &open, "01001", at_min(21)).await;
    let open = w
        .dispatch(store, &open, w.dept("441300-municipal"), at_min(22))
        .await;
    // The same 5 digits as a component category: not published.
    let mut component = matter("井盖");
    component.category_kind = Some(CategoryKind::Component);
    let component = w.create(store, "citizen1", component, at_min(30)).await;
    // A citizen report without a category: never published.
    let bare = new_report(
        CaseSource::Citizen,
        None,
        location(grid, 114.405, 23.055, ""),
        "无类别",
    );
    let bare = w.create(store, "citizen1", bare, at_min(31)).await;

    let client = store
        .create_open311_client(&NewOpen311Client {
            name: "app".into(),
            contact: "c".into(),
            key_hash: hash(1),
            created_by: None,
            created_at: at_min(0),
        })
        .await
        .expect("client");
    store
        .add_open311_request(&NewOpen311Request {
            case_id: open.id,
            client_id: client.id,
            token: "tok-open".into(),
            created_at: at_min(20),
            media_urls: vec!["https://img.example/1.jpg".into()],
            attributes: r#"{"severity":["severe"]}"#.into(),
        })
        .await
        .expect("add request");
    assert!(matches!(
        store
            .add_open311_request(&NewOpen311Request {
                case_id: open.id,
                client_id: client.id,
                token: "tok-other".into(),
                created_at: at_min(20),
                media_urls: vec![],
                attributes: "{}".into(),
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .add_open311_request(&NewOpen311Request {
                case_id: 999_999,
                client_id: client.id,
                token: "tok-none".into(),
                created_at: at_min(20),
                media_urls: vec![],
                attributes: "{}".into(),
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.open311_token_case("tok-open").await.expect("token"),
        Some(open.code.clone()),
        "{backend}"
    );
    assert_eq!(store.open311_token_case("nope").await.expect("token"), None);

    let services = vec![(CategoryKind::Matter, "01001".to_string())];
    let query = |codes: Vec<String>, statuses: Vec<CaseStatus>| Open311Query {
        services: services.clone(),
        codes,
        statuses,
        from: Some(at_min(0)),
        to: Some(at_min(60)),
    };
    let page = store
        .open311_requests(&query(vec![], vec![]), all())
        .await
        .expect("requests");
    assert_eq!(page.total, 2, "{backend}: only the published service");
    let ids: Vec<i64> = page.items.iter().map(|r| r.case.id).collect();
    assert_eq!(ids, vec![open.id, closed.id], "{backend}: newest first");
    let first = &page.items[0];
    assert_eq!(
        first.department_name.as_deref(),
        Some("惠州市市政局"),
        "{backend}"
    );
    let meta = first.meta.as_ref().expect("the Open311 record");
    assert_eq!(meta.token, "tok-open");
    assert_eq!(meta.client_id, client.id);
    assert_eq!(
        meta.media_urls,
        vec!["https://img.example/1.jpg".to_string()]
    );
    assert_eq!(meta.attributes, r#"{"severity":["severe"]}"#);
    let actions: Vec<&str> = first
        .events
        .iter()
        .map(|e| e.event.action.as_str())
        .collect();
    assert_eq!(actions, vec!["report", "file", "dispatch"], "{backend}");
    let last = &page.items[1];
    assert!(last.meta.is_none(), "{backend}");
    assert_eq!(
        last.events.last().unwrap().event.action,
        "close",
        "{backend}"
    );
    assert!(
        last.events.windows(2).all(|p| p[0].seq < p[1].seq),
        "{backend}: events in chain order"
    );

    // Statuses.
    let open_only = store
        .open311_requests(
            &query(
                vec![],
                cityops_domain::open311::RequestStatus::Open.case_statuses(),
            ),
            all(),
        )
        .await
        .expect("open");
    assert_eq!(open_only.total, 1, "{backend}");
    assert_eq!(open_only.items[0].case.id, open.id);
    // The window.
    let early = Open311Query {
        to: Some(at_min(10)),
        ..query(vec![], vec![])
    };
    let got = store.open311_requests(&early, all()).await.expect("window");
    assert_eq!(
        got.items.iter().map(|r| r.case.id).collect::<Vec<_>>(),
        vec![closed.id],
        "{backend}"
    );
    // A code list overrides statuses and the window, never the services.
    let codes = vec![
        closed.code.clone(),
        component.code.clone(),
        bare.code.clone(),
        "2099010100001".to_string(),
    ];
    let got = store
        .open311_requests(
            &Open311Query {
                from: Some(at_min(100)),
                ..query(codes, vec![CaseStatus::Reported])
            },
            all(),
        )
        .await
        .expect("codes");
    assert_eq!(
        got.items.iter().map(|r| r.case.id).collect::<Vec<_>>(),
        vec![closed.id],
        "{backend}"
    );
    // The component service answers the component case alone.
    let comp = store
        .open311_requests(
            &Open311Query {
                services: vec![(CategoryKind::Component, "01001".into())],
                ..query(vec![], vec![])
            },
            all(),
        )
        .await
        .expect("component");
    assert_eq!(
        comp.items.iter().map(|r| r.case.id).collect::<Vec<_>>(),
        vec![component.id],
        "{backend}"
    );
    // No services: nothing.
    let none = store
        .open311_requests(
            &Open311Query {
                services: vec![],
                ..query(vec![], vec![])
            },
            all(),
        )
        .await
        .expect("none");
    assert_eq!(none.total, 0);
    // Pages.
    let p2 = store
        .open311_requests(
            &query(vec![], vec![]),
            PageRequest {
                page: 2,
                page_size: 1,
            },
        )
        .await
        .expect("page 2");
    assert_eq!(p2.total, 2);
    assert_eq!(p2.items.len(), 1);
    assert_eq!(p2.items[0].case.id, closed.id, "{backend}");
    assert_eq!(p2.items[0].events.len(), last.events.len(), "{backend}");
}

/// Updates: the events of the listed actions within `[from, to]` of published cases, in chain
/// order, with their case's code.
pub async fn open311_updates_are_the_window_events_in_chain_order(store: &dyn Store) {
    let w = World::new(store).await;
    let backend = store.backend();
    let grid = "441302001001001";
    let report = |cat: Option<&str>, d: &str| {
        new_report(
            CaseSource::Citizen,
            cat,
            location(grid, 114.405, 23.055, ""),
            d,
        )
    };
    let a = w
        .create(store, "citizen1", report(Some("01001"), "一"), at_min(1))
        .await;
    let a = w.file(store, &a, "01001", at_min(5)).await;
    let a = w
        .dispatch(store, &a, w.dept("441300-municipal"), at_min(9))
        .await;
    // A case of another service in the window: never an update.
    let _other = w
        .create(store, "citizen1", report(Some("02001"), "二"), at_min(6))
        .await;
    let _ = w
        .act(
            store,
            &a,
            "handler1",
            CaseAction::Sign,
            ActionInput::default(),
            at_min(30),
        )
        .await;
    let actions: Vec<String> = ["report", "file", "dispatch", "sign"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let q = |from: i64, to: i64, actions: Vec<String>| Open311UpdateQuery {
        services: vec![(CategoryKind::Matter, "01001".into())],
        actions,
        from: at_min(from),
        to: at_min(to),
    };
    let got = store
        .open311_updates(&q(0, 29, actions.clone()), all())
        .await
        .expect("updates");
    let seen: Vec<(&str, &str)> = got
        .items
        .iter()
        .map(|u| (u.case_code.as_str(), u.event.event.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (a.code.as_str(), "report"),
            (a.code.as_str(), "file"),
            (a.code.as_str(), "dispatch"),
        ],
        "{backend}: the sign after the window is outside; the other service's case too"
    );
    assert!(
        got.items
            .windows(2)
            .all(|p| p[0].event.seq < p[1].event.seq)
    );
    let later = store
        .open311_updates(&q(5, 30, vec!["sign".into()]), all())
        .await
        .expect("updates");
    assert_eq!(later.total, 1, "{backend}: the window's end is included");
    assert_eq!(later.items[0].event.event.action, "sign");
    let none = store
        .open311_updates(&q(0, 60, vec![]), all())
        .await
        .expect("no actions");
    assert_eq!(none.total, 0);
}
