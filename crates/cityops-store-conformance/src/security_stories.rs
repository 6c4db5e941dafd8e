//! The stories of the security review (issue 9): read state per user for shared notifications,
//! random public ids of photos, and kept, restorable versions of the responsibility matrix and
//! the holiday schedule (with the calendar's limits on years and names).
use chrono::NaiveDate;
use cityops_domain::case::{ActionInput, CaseAction, CaseSource};
use cityops_store::{
    CalendarDay, CategoryKind, ConfigChange, DayKind, InboxOwner, ReadMark, Role, RoutingRule,
    Store, StoreError,
};

use crate::case_fixtures::{World, at_min, attachment, location, new_report};
use crate::fixtures::new_user;

fn all() -> cityops_store::PageRequest {
    cityops_store::PageRequest {
        page: 1,
        page_size: 1000,
    }
}

/// A notification to a department or a role is read by each of its recipients on their own:
/// one colleague reading it leaves it unread for the others (also with `ReadMark::All`);
/// personal notifications still have one reader; no ids mark nothing; unread counts are per user.
pub async fn inbox_shared_reads_are_per_user(store: &dyn Store) {
    let w = World::new(store).await;
    // A second handler of the municipal department and a second intake operator.
    for u in [
        new_user(
            "handler1b",
            &[Role::Handler],
            Some("441302"),
            Some("441300-municipal"),
            &[],
        ),
        new_user("duty2", &[Role::Intake], Some("441300"), None, &[]),
    ] {
        store.create_user(&u).await.expect("create_user");
    }
    let uid = |name: &str| {
        let name = name.to_string();
        async move {
            store
                .credentials(&name)
                .await
                .expect("credentials")
                .expect("user")
                .user
                .id
        }
    };
    let municipal = w.dept("441300-municipal");
    let handler = |user_id: i64| InboxOwner {
        user_id,
        department_id: Some(municipal),
        roles: vec![Role::Handler],
        region_prefixes: Some(vec!["441302".into()]),
    };
    let intake = |user_id: i64| InboxOwner {
        user_id,
        department_id: None,
        roles: vec![Role::Intake],
        region_prefixes: None,
    };
    let (a, b) = (handler(w.uid("handler1")), handler(uid("handler1b").await));
    let (d1, d2) = (intake(w.uid("duty1")), intake(uid("duty2").await));
    let inspector = InboxOwner {
        user_id: w.uid("inspector1"),
        department_id: None,
        roles: vec![Role::Inspector],
        region_prefixes: Some(vec!["441302001".into()]),
    };

    // One case reported (to the intake role), filed and dispatched to the municipal department
    // (shared); another sent to inspector1 to verify (personal).
    let report = |desc: &str| {
        new_report(
            CaseSource::Citizen,
            None,
            location("441302001001001", 114.405, 23.055, ""),
            desc,
        )
    };
    let c = w
        .create(store, "citizen1", report("shared"), at_min(0))
        .await;
    let c = w.file(store, &c, "01001", at_min(1)).await;
    w.dispatch(store, &c, municipal, at_min(2)).await;
    let p = w
        .create(store, "citizen1", report("personal"), at_min(3))
        .await;
    w.act(
        store,
        &p,
        "duty1",
        CaseAction::SendVerify,
        ActionInput {
            assignee_id: Some(w.uid("inspector1")),
            ..ActionInput::default()
        },
        at_min(4),
    )
    .await;

    let unread = |o: InboxOwner| async move { store.unread_count(&o).await.expect("unread_count") };
    let notes = |o: InboxOwner| async move {
        store
            .inbox(&o, false, all())
            .await
            .expect("inbox")
            .items
            .into_iter()
            .map(|n| (n.id, n.notification.action, n.read_at))
            .collect::<Vec<_>>()
    };
    let dept_notes = notes(a.clone()).await;
    assert_eq!(dept_notes.len(), 1, "{}: {dept_notes:?}", store.backend());
    let dept_note = dept_notes[0].0;
    assert_eq!(notes(b.clone()).await, dept_notes, "colleagues share it");
    assert_eq!((unread(a.clone()).await, unread(b.clone()).await), (1, 1));

    // No ids: nothing.
    assert_eq!(
        store
            .mark_read(&a, ReadMark::Ids(&[]), at_min(10))
            .await
            .expect("mark_read"),
        0
    );
    assert_eq!(unread(a.clone()).await, 1);

    // A reads the department's notification: B still has it unread.
    assert_eq!(
        store
            .mark_read(&a, ReadMark::Ids(&[dept_note]), at_min(10))
            .await
            .expect("mark_read"),
        1
    );
    assert_eq!(notes(a.clone()).await[0].2, Some(at_min(10)));
    assert_eq!(
        notes(b.clone()).await[0].2,
        None,
        "{}: a colleague's read is not mine",
        store.backend()
    );
    assert_eq!((unread(a.clone()).await, unread(b.clone()).await), (0, 1));
    assert_eq!(
        store
            .inbox(&b, true, all())
            .await
            .expect("inbox")
            .items
            .len(),
        1,
        "{}: still in B's unread list",
        store.backend()
    );
    assert_eq!(store.inbox(&a, true, all()).await.expect("inbox").total, 0);
    // Again: already read by A.
    assert_eq!(
        store
            .mark_read(&a, ReadMark::Ids(&[dept_note]), at_min(11))
            .await
            .expect("mark_read"),
        0
    );
    assert_eq!(notes(a.clone()).await[0].2, Some(at_min(10)), "first read");
    // B reads it later, with its own instant.
    assert_eq!(
        store
            .mark_read(&b, ReadMark::All, at_min(12))
            .await
            .expect("mark_read"),
        1
    );
    assert_eq!(notes(b.clone()).await[0].2, Some(at_min(12)));

    // The role notification of the report: duty1 marks everything, duty2 keeps it unread.
    let d1_before = unread(d1.clone()).await;
    assert!(d1_before >= 1, "{}: intake note", store.backend());
    assert_eq!(unread(d2.clone()).await, d1_before);
    assert_eq!(
        store
            .mark_read(&d1, ReadMark::All, at_min(13))
            .await
            .expect("mark_read"),
        d1_before
    );
    assert_eq!(unread(d1.clone()).await, 0);
    assert_eq!(
        unread(d2.clone()).await,
        d1_before,
        "{}: another intake operator's notes stay unread",
        store.backend()
    );

    // Personal: the inspector's own notification, read by the inspector; others cannot mark it.
    let personal = notes(inspector.clone()).await;
    assert_eq!(personal.len(), 1, "{personal:?}");
    let personal = personal[0].0;
    assert_eq!(
        store
            .mark_read(&a, ReadMark::Ids(&[personal]), at_min(14))
            .await
            .expect("mark_read"),
        0,
        "{}: not in A's inbox",
        store.backend()
    );
    assert_eq!(unread(inspector.clone()).await, 1);
    assert_eq!(
        store
            .mark_read(&inspector, ReadMark::Ids(&[personal]), at_min(15))
            .await
            .expect("mark_read"),
        1
    );
    assert_eq!(unread(inspector.clone()).await, 0);
    assert_eq!(notes(inspector).await[0].2, Some(at_min(15)));
}

/// Photos get random public ids (version 7 UUIDs, all different, not derived from the row id),
/// are found by them, and are listed in row order with their case's code for the evidence check.
pub async fn attachment_public_ids_are_random(store: &dyn Store) {
    let w = World::new(store).await;
    let uploader = w.uid("citizen1");
    let mut made = Vec::new();
    for n in 1..=3 {
        let a = store
            .create_attachment(&attachment(n, uploader, at_min(i64::from(n))))
            .await
            .expect("create_attachment");
        let id = uuid::Uuid::parse_str(&a.public_id)
            .unwrap_or_else(|e| panic!("{}: {:?} is no UUID: {e}", store.backend(), a.public_id));
        assert_eq!(id.get_version_num(), 7, "{}", a.public_id);
        assert_eq!(
            a.public_id,
            id.hyphenated().to_string(),
            "lower-case, hyphenated"
        );
        made.push(a);
    }
    let ids: std::collections::BTreeSet<&str> = made.iter().map(|a| a.public_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{}: all different", store.backend());
    // Random bits differ between neighbours (not a counter).
    let tail = |a: &cityops_store::Attachment| a.public_id[24..].to_string();
    assert_ne!(tail(&made[0]), tail(&made[1]));
    assert_ne!(tail(&made[1]), tail(&made[2]));

    // Read back by row id and by public id, the same record.
    let back = store
        .get_attachments(&[made[0].id])
        .await
        .expect("get_attachments");
    assert_eq!(back, vec![made[0].clone()], "{}", store.backend());
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        store
            .attachments_by_public_id(&[
                made[2].public_id.clone(),
                unknown.clone(),
                made[0].public_id.clone(),
                "not-a-uuid".into(),
            ])
            .await
            .expect("attachments_by_public_id"),
        vec![made[0].clone(), made[2].clone()],
        "{}: those that exist, in row order",
        store.backend()
    );
    assert!(
        store
            .attachments_by_public_id(&[])
            .await
            .expect("attachments_by_public_id")
            .is_empty()
    );

    // Linked to a case: the evidence check sees the case's code.
    let mut report = new_report(
        CaseSource::Citizen,
        None,
        location("441302001001001", 114.405, 23.055, ""),
        "photo",
    );
    report.attachments = vec![made[1].id];
    let case = w.create(store, "citizen1", report, at_min(10)).await;
    let page = store
        .attachments_after(0, 2)
        .await
        .expect("attachments_after");
    assert_eq!(
        page.iter()
            .map(|a| (a.attachment.id, a.case_code.clone()))
            .collect::<Vec<_>>(),
        vec![(made[0].id, None), (made[1].id, Some(case.code.clone()))],
        "{}",
        store.backend()
    );
    assert_eq!(page[1].attachment.public_id, made[1].public_id);
    let rest = store
        .attachments_after(made[1].id, 100)
        .await
        .expect("attachments_after");
    assert_eq!(
        rest.iter().map(|a| a.attachment.id).collect::<Vec<_>>(),
        vec![made[2].id]
    );
    assert!(
        store
            .attachments_after(made[2].id, 100)
            .await
            .expect("attachments_after")
            .is_empty()
    );
}

fn rule(code: &str, region: &str, department_id: i64, auto: bool) -> RoutingRule {
    RoutingRule {
        category_kind: CategoryKind::Matter,
        category_code: code.into(),
        region_code: region.into(),
        department_id,
        auto_dispatch: auto,
    }
}

/// Every change of the matrix is kept whole with who, when and a summary; versions are listed
/// newest first; restoring one makes it the matrix again, is itself a new version and bumps the
/// routing cache version; an unknown version (or one of the calendar) is `NotFound`.
pub async fn routing_versions_kept_and_restored(store: &dyn Store) {
    let w = World::new(store).await;
    let admin = w.uid("admin");
    let by = |minute: i64, summary: &str| ConfigChange::new(Some(admin), at_min(minute), summary);
    let (municipal, command) = (w.dept("441300-municipal"), w.dept("441300-command"));
    let first = vec![
        rule("01", "441302", municipal, true),
        rule("*", "441300", command, false),
    ];
    assert!(
        store
            .routing_versions(all())
            .await
            .expect("routing_versions")
            .items
            .is_empty(),
        "{}: nothing kept in an empty store",
        store.backend()
    );
    store
        .replace_routing_rules(&first, &by(1, "first matrix"))
        .await
        .expect("replace");
    let second = vec![rule("01001", "441302", municipal, false)];
    store
        .replace_routing_rules(&second, &by(2, "second matrix"))
        .await
        .expect("replace");
    let before_empty = store.cache_versions().await.expect("versions").routing;
    store
        .replace_routing_rules(&[], &ConfigChange::new(None, at_min(3), "emptied"))
        .await
        .expect("an empty matrix is the caller's decision");
    assert!(store.routing_rules().await.expect("rules").is_empty());
    assert!(store.cache_versions().await.expect("versions").routing > before_empty);

    let list = store
        .routing_versions(all())
        .await
        .expect("routing_versions");
    assert_eq!(list.total, 3, "{}", store.backend());
    let summaries: Vec<(&str, i64, Option<&str>)> = list
        .items
        .iter()
        .map(|v| (v.summary.as_str(), v.items, v.username.as_deref()))
        .collect();
    assert_eq!(
        summaries,
        vec![
            ("emptied", 0, None),
            ("second matrix", 1, Some("admin")),
            ("first matrix", 2, Some("admin")),
        ],
        "{}: newest first, with who",
        store.backend()
    );
    let v1 = list.items[2].clone();
    assert_eq!(v1.at, at_min(1));
    assert_eq!(v1.user_id, Some(admin));
    assert_eq!(v1.display_name.as_deref(), Some("admin 显示名"));
    assert_eq!(v1.restored_from, None);
    let page = store
        .routing_versions(cityops_store::PageRequest {
            page: 2,
            page_size: 2,
        })
        .await
        .expect("routing_versions");
    assert_eq!((page.total, page.items.len()), (3, 1));
    assert_eq!(page.items[0].id, v1.id);

    let (got, rules) = store
        .routing_version(v1.id)
        .await
        .expect("routing_version")
        .expect("kept");
    assert_eq!(got, v1);
    let mut want = first.clone();
    want.sort_by(|a, b| a.category_code.cmp(&b.category_code));
    assert_eq!(rules, want, "{}: the full content", store.backend());

    // Restore the first matrix.
    let bumped = store.cache_versions().await.expect("versions").routing;
    let restored = store
        .restore_routing_version(v1.id, &by(5, "restore of version 1"))
        .await
        .expect("restore");
    assert_eq!(restored.restored_from, Some(v1.id));
    assert_eq!(restored.items, 2);
    assert_eq!(restored.summary, "restore of version 1");
    assert_eq!(restored.username.as_deref(), Some("admin"));
    assert_eq!(
        store.routing_rules().await.expect("rules"),
        want,
        "{}: the matrix is back",
        store.backend()
    );
    assert!(
        store.cache_versions().await.expect("versions").routing > bumped,
        "{}: every process reloads it",
        store.backend()
    );
    let list = store
        .routing_versions(all())
        .await
        .expect("routing_versions");
    assert_eq!(list.total, 4);
    assert_eq!(list.items[0], restored);

    // Unknown versions, and a calendar version asked as a routing one.
    assert!(matches!(
        store.restore_routing_version(i64::MAX, &by(6, "x")).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .routing_version(i64::MAX)
            .await
            .expect("routing_version")
            .is_none()
    );
    let day = CalendarDay {
        date: NaiveDate::from_ymd_opt(2030, 10, 1).expect("date"),
        kind: DayKind::Holiday,
        name: "国庆节".into(),
    };
    store
        .put_calendar_days(&[day], &by(7, "calendar"))
        .await
        .expect("put");
    let cal = store
        .calendar_versions(all())
        .await
        .expect("calendar_versions");
    assert_eq!(cal.total, 1);
    assert!(matches!(
        store
            .restore_routing_version(cal.items[0].id, &by(8, "x"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .routing_version(cal.items[0].id)
            .await
            .expect("routing_version")
            .is_none(),
        "{}: versions are per subject",
        store.backend()
    );
    assert_eq!(store.routing_rules().await.expect("rules"), want);
}

/// Every change of the holiday schedule keeps the whole schedule after it; restoring a version
/// makes exactly it the schedule again (later days removed), as a new version, and bumps the
/// calendar cache version. Years outside 2000–2100 and names that are not plain text are
/// `Invalid` and change nothing.
pub async fn calendar_versions_kept_and_restored(store: &dyn Store) {
    let w = World::new(store).await;
    let admin = w.uid("admin");
    let by = |minute: i64, summary: &str| ConfigChange::new(Some(admin), at_min(minute), summary);
    let day = |y: i32, m: u32, d: u32, kind: DayKind, name: &str| CalendarDay {
        date: NaiveDate::from_ymd_opt(y, m, d).expect("date"),
        kind,
        name: name.into(),
    };
    let oct1 = day(2030, 10, 1, DayKind::Holiday, "国庆节");
    let oct12 = day(2030, 10, 12, DayKind::Workday, "国庆节调休上班");
    let jan1 = day(2031, 1, 1, DayKind::Holiday, "元旦");
    assert_eq!(
        store
            .put_calendar_days(&[], &by(0, "nothing"))
            .await
            .expect("put"),
        0
    );
    store
        .put_calendar_days(&[oct1.clone(), oct12.clone()], &by(1, "2030"))
        .await
        .expect("put");
    store
        .put_calendar_days(std::slice::from_ref(&jan1), &by(2, "2031"))
        .await
        .expect("put");
    let list = store
        .calendar_versions(all())
        .await
        .expect("calendar_versions");
    assert_eq!(
        list.items
            .iter()
            .map(|v| (v.summary.as_str(), v.items))
            .collect::<Vec<_>>(),
        vec![("2031", 3), ("2030", 2)],
        "{}: the whole schedule after each change, nothing kept for no change",
        store.backend()
    );
    let (v1, days) = store
        .calendar_version(list.items[1].id)
        .await
        .expect("calendar_version")
        .expect("kept");
    assert_eq!(days, vec![oct1.clone(), oct12.clone()]);
    let (_, days) = store
        .calendar_version(list.items[0].id)
        .await
        .expect("calendar_version")
        .expect("kept");
    assert_eq!(days, vec![oct1.clone(), oct12.clone(), jan1.clone()]);

    // Refused: out-of-range years and names that are not plain text; nothing written or kept.
    let bad = [
        day(-1, 1, 1, DayKind::Holiday, "公元前"),
        day(9999, 1, 1, DayKind::Holiday, "元旦"),
        day(1999, 12, 31, DayKind::Holiday, "千禧"),
        day(2101, 1, 1, DayKind::Holiday, "元旦"),
        day(2030, 5, 1, DayKind::Holiday, "<script>alert(1)</script>"),
        day(2030, 5, 1, DayKind::Holiday, "劳动节\nforged line"),
        day(2030, 5, 1, DayKind::Holiday, "劳动节\u{202e}"),
        day(2030, 5, 1, DayKind::Holiday, ""),
        day(2030, 5, 1, DayKind::Holiday, &"节".repeat(51)),
    ];
    let cache = store.cache_versions().await.expect("versions").calendar;
    for d in &bad {
        match store
            .put_calendar_days(&[jan1.clone(), d.clone()], &by(3, "bad"))
            .await
        {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("{}: {d:?} gave {other:?}", store.backend()),
        }
    }
    assert_eq!(
        store.calendar_days().await.expect("days"),
        vec![oct1.clone(), oct12.clone(), jan1.clone()]
    );
    assert_eq!(
        store
            .calendar_versions(all())
            .await
            .expect("calendar_versions")
            .total,
        2
    );
    assert_eq!(
        store.cache_versions().await.expect("versions").calendar,
        cache
    );
    // The limits themselves are allowed.
    store
        .put_calendar_days(
            &[
                day(2000, 1, 1, DayKind::Holiday, "元旦"),
                day(2100, 12, 31, DayKind::Workday, &"节".repeat(50)),
            ],
            &by(4, "limits"),
        )
        .await
        .expect("2000 and 2100 are allowed");

    // Restore version 1: exactly its two days.
    let restored = store
        .restore_calendar_version(v1.id, &by(5, "restore of version 1"))
        .await
        .expect("restore");
    assert_eq!(restored.restored_from, Some(v1.id));
    assert_eq!(restored.items, 2);
    assert_eq!(
        store.calendar_days().await.expect("days"),
        vec![oct1, oct12],
        "{}: later days removed",
        store.backend()
    );
    assert!(store.cache_versions().await.expect("versions").calendar > cache);
    let list = store
        .calendar_versions(all())
        .await
        .expect("calendar_versions");
    assert_eq!(list.total, 4);
    assert_eq!(list.items[0], restored);
    assert!(matches!(
        store.restore_calendar_version(i64::MAX, &by(6, "x")).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .calendar_version(i64::MAX)
            .await
            .expect("calendar_version")
            .is_none()
    );
}
