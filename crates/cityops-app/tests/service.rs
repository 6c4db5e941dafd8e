//! The case service outside any web server: caches that follow changes made by another process,
//! and the outbound queue drained at shutdown. Two stores on one SQLite file stand for two
//! server processes on one database.
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use chrono::{NaiveDate, TimeZone, Utc};
use cityops_app::notify::OutboundMessage;
use cityops_app::{CaseService, ServiceConfig};
use cityops_domain::calendar::{CalendarDay, DayKind};
use cityops_domain::case::Recipient;
use cityops_domain::{Clock, ManualClock};
use cityops_geo::RegionIndex;
use cityops_store::Store;

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
    ))
}

/// A change by the system (tests that do not look at versions).
fn system() -> cityops_store::ConfigChange {
    cityops_store::ConfigChange::new(
        None,
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
        "test",
    )
}

fn empty_index() -> Arc<RegionIndex> {
    Arc::new(RegionIndex::build(&[], &[], &[], &[]).unwrap())
}

async fn store_on(path: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(cityops_test_support::sqlite::store_at(path).await)
}

#[tokio::test]
async fn a_calendar_change_by_another_process_is_used_after_the_next_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let (a, b) = (store_on(&db).await, store_on(&db).await);
    let config = ServiceConfig {
        // Every call checks: the interval itself is not under test here.
        cache_check_interval: Duration::ZERO,
        ..ServiceConfig::default()
    };
    let one = CaseService::load(a.clone(), empty_index(), clock(), config.clone())
        .await
        .unwrap();
    let two = CaseService::load(b, empty_index(), clock(), config)
        .await
        .unwrap();
    assert!(!two.calendar().has_schedule(2031));

    // Process one writes a holiday of a year nobody scheduled yet.
    let day = CalendarDay {
        date: NaiveDate::from_ymd_opt(2031, 10, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "国庆节".into(),
    };
    a.put_calendar_days(std::slice::from_ref(&day), &system())
        .await
        .unwrap();
    one.reload_calendar().await.unwrap();
    assert!(one.calendar().has_schedule(2031));
    assert!(
        !two.calendar().has_schedule(2031),
        "nothing reaches process two before it checks"
    );
    two.refresh().await;
    assert!(two.calendar().has_schedule(2031), "process two reloaded");
    assert!(
        !two.calendar().is_working_day(day.date),
        "and uses the new holiday"
    );
}

#[tokio::test]
async fn checks_are_throttled_to_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let (a, b) = (store_on(&db).await, store_on(&db).await);
    let two = CaseService::load(
        b,
        empty_index(),
        clock(),
        ServiceConfig {
            cache_check_interval: Duration::from_secs(3600),
            ..ServiceConfig::default()
        },
    )
    .await
    .unwrap();
    two.refresh().await; // the first check happens and starts the interval
    let day = CalendarDay {
        date: NaiveDate::from_ymd_opt(2032, 1, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "元旦".into(),
    };
    a.put_calendar_days(&[day], &system()).await.unwrap();
    two.refresh().await;
    assert!(
        !two.calendar().has_schedule(2032),
        "within the interval nobody asks the store"
    );
    two.refresh_now().await.unwrap();
    assert!(two.calendar().has_schedule(2032), "an explicit check does");
}

/// A webhook receiver that answers slowly, so that messages are still queued at shutdown.
async fn slow_receiver() -> (String, Arc<std::sync::atomic::AtomicU64>) {
    let got = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn shutdown_delivers_what_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_on(&dir.path().join("one.db")).await;
    let (url, received) = slow_receiver().await;
    let service = CaseService::new(
        store,
        empty_index(),
        clock(),
        ServiceConfig {
            webhook_url: Some(url),
            ..ServiceConfig::default()
        },
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    let msgs: Vec<OutboundMessage> = (0..40)
        .map(|i| OutboundMessage {
            case_id: i,
            case_code: format!("20261123{i:05}"),
            action: "dispatch".into(),
            title: "待签收".into(),
            recipient: Recipient::Department { department_id: 1 },
            created_at: at,
        })
        .collect();
    service.publish(msgs);
    let stats = service.shutdown(Duration::from_secs(60)).await;
    assert_eq!(stats.queued, 40);
    assert_eq!(stats.dropped, 0);
    // Every message reached the log and the webhook before shutdown returned.
    assert_eq!(stats.delivered, 80, "{stats:?}");
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 40);
    // After shutdown nothing is queued any more, and nothing fails.
    service.publish(vec![OutboundMessage {
        case_id: 99,
        case_code: "2026112300099".into(),
        action: "dispatch".into(),
        title: "待签收".into(),
        recipient: Recipient::Department { department_id: 1 },
        created_at: at,
    }]);
    assert_eq!(service.notifier_stats().queued, 40);
}

/// Restoring a kept version of the matrix or the calendar through one process bumps the cache
/// versions, so the other process uses the restored data after its next check; emptying the
/// matrix must be asked for; only administrators change either.
#[tokio::test]
async fn a_restore_by_another_process_is_used_after_the_next_check() {
    use cityops_app::ServiceError;
    use cityops_domain::case::routing::RoutingRule;
    use cityops_domain::{CategoryKind, DepartmentKind, Role};
    use cityops_store::{ImportBatch, NewDepartment, NewUser, PageRequest};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let (a, b) = (store_on(&db).await, store_on(&db).await);
    let config = ServiceConfig {
        cache_check_interval: Duration::ZERO,
        ..ServiceConfig::default()
    };
    a.apply_import(&ImportBatch {
        departments: vec![NewDepartment {
            code: "d".into(),
            name: "市政".into(),
            kind: DepartmentKind::Municipal,
            region_code: "441300".into(),
            parent_code: None,
        }],
        ..ImportBatch::default()
    })
    .await
    .unwrap();
    let user = |name: &str, role: Role| NewUser {
        username: name.into(),
        display_name: name.into(),
        password_hash: "x".into(),
        roles: vec![role],
        region_code: None,
        department_code: None,
        grids: vec![],
    };
    let admin = a.create_user(&user("root", Role::Admin)).await.unwrap();
    let dispatcher = a
        .create_user(&user("disp", Role::Dispatcher))
        .await
        .unwrap();
    let dept = a.get_department_by_code("d").await.unwrap().unwrap().id;
    let one = CaseService::load(a.clone(), empty_index(), clock(), config.clone())
        .await
        .unwrap();
    let two = CaseService::load(b, empty_index(), clock(), config)
        .await
        .unwrap();

    let rules = vec![RoutingRule {
        category_kind: CategoryKind::Matter,
        category_code: "*".into(),
        region_code: "441300".into(),
        department_id: dept,
        auto_dispatch: false,
    }];
    one.replace_routing(&admin, &rules, false, "first")
        .await
        .unwrap();
    assert!(matches!(
        one.replace_routing(&dispatcher, &rules, false, "x").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        one.replace_routing(&admin, &[], false, "oops").await,
        Err(ServiceError::EmptyMatrix)
    ));
    two.refresh().await;
    assert_eq!(two.routing().len(), 1, "the empty file changed nothing");
    one.replace_routing(&admin, &[], true, "emptied")
        .await
        .unwrap();
    two.refresh().await;
    assert!(two.routing().is_empty());

    let page = PageRequest {
        page: 1,
        page_size: 10,
    };
    let first = a.routing_versions(page).await.unwrap().items[1].clone();
    assert_eq!(first.summary, "first");
    assert!(matches!(
        one.restore_routing_version(&dispatcher, first.id, false)
            .await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        one.restore_routing_version(&admin, 999_999, false).await,
        Err(ServiceError::NotFound(_))
    ));
    let restored = one
        .restore_routing_version(&admin, first.id, false)
        .await
        .unwrap();
    assert_eq!(restored.restored_from, Some(first.id));
    assert_eq!(restored.summary, format!("restore of version {}", first.id));
    assert_eq!(one.routing().len(), 1, "this process at once");
    assert!(
        two.routing().is_empty(),
        "nothing reaches process two before it checks"
    );
    two.refresh().await;
    assert_eq!(
        two.routing().len(),
        1,
        "process two reloaded the restored matrix"
    );

    // The calendar alike.
    let day = |y: i32, name: &str| CalendarDay {
        date: NaiveDate::from_ymd_opt(y, 10, 1).unwrap(),
        kind: DayKind::Holiday,
        name: name.into(),
    };
    one.put_calendar_days(&admin, &[day(2033, "国庆节")], "2033")
        .await
        .unwrap();
    one.put_calendar_days(&admin, &[day(2034, "国庆节")], "2034")
        .await
        .unwrap();
    two.refresh().await;
    assert!(two.calendar().has_schedule(2034));
    let v2033 = a.calendar_versions(page).await.unwrap().items[1].clone();
    assert_eq!(v2033.summary, "2033");
    one.restore_calendar_version(&admin, v2033.id)
        .await
        .unwrap();
    two.refresh().await;
    assert!(two.calendar().has_schedule(2033));
    assert!(
        !two.calendar().has_schedule(2034),
        "process two dropped the day the restore removed"
    );
}
