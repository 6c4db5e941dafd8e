//! The duplicate check (重复案件) through the service's in-memory index, with two stores on one
//! SQLite file standing for two server processes on one database: another process's report is
//! found once the index caught up with the chain; a case closed elsewhere is never named (a hit
//! is read again from the store); a new process starts from the window in the store.
use std::sync::Arc;
use std::time::Duration;

use cityops_app::duplicates::DuplicateIndexConfig;
use cityops_app::{CaseService, ReportRequest, ServiceConfig};
use cityops_domain::case::{ActionInput, CaseAction};
use cityops_domain::{CategoryKind, Clock, ManualClock, User};
use cityops_store::Store;
use cityops_test_support::city::{A_NW, cheap_hash, index_ab, load_case_city, start_time};

async fn store_on(path: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(cityops_test_support::sqlite::store_at(path).await)
}

/// A service (a process) on `store` whose duplicate index reads the chain every `catch_up`.
async fn process(store: Arc<dyn Store>, clock: Arc<dyn Clock>, catch_up: Duration) -> CaseService {
    let config = ServiceConfig {
        duplicate_index: DuplicateIndexConfig {
            catch_up,
            ..DuplicateIndexConfig::default()
        },
        ..ServiceConfig::default()
    };
    CaseService::load(store, index_ab(), clock, config)
        .await
        .expect("service")
}

async fn user(store: &dyn Store, name: &str) -> User {
    store
        .credentials(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {name}"))
        .user
}

/// A report of a damaged manhole cover (01001) `dx` degrees east of grid NW's point.
fn manhole(dx: f64, text: &str) -> ReportRequest {
    ReportRequest {
        lng: Some(A_NW.0 + dx),
        lat: Some(A_NW.1),
        description: text.to_string(),
        category_kind: Some(CategoryKind::Component),
        category_code: Some("01001".to_string()),
        ..ReportRequest::default()
    }
}

struct TwoProcesses {
    _dir: tempfile::TempDir,
    a: CaseService,
    b: CaseService,
    store_a: Arc<dyn Store>,
    store_b: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

async fn two_processes(catch_up_b: Duration) -> TwoProcesses {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let (store_a, store_b) = (store_on(&db).await, store_on(&db).await);
    load_case_city(store_a.as_ref(), &cheap_hash("pw")).await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
    let a = process(store_a.clone(), clock.clone(), Duration::ZERO).await;
    let b = process(store_b.clone(), clock.clone(), catch_up_b).await;
    TwoProcesses {
        _dir: dir,
        a,
        b,
        store_a,
        store_b,
        clock,
    }
}

#[tokio::test]
async fn another_process_report_is_found_once_the_index_caught_up() {
    let w = two_processes(Duration::ZERO).await;
    let intake_b = user(w.store_b.as_ref(), "intake").await;
    // Process B has loaded its (empty) window before A reports anything.
    let first_b =
        w.b.report(&intake_b, manhole(0.005, "别处的井盖"))
            .await
            .unwrap();
    assert_eq!(first_b.case.duplicate_of, None);

    let intake_a = user(w.store_a.as_ref(), "intake").await;
    let master =
        w.a.report(&intake_a, manhole(0.0, "井盖破损"))
            .await
            .unwrap();
    assert_eq!(master.case.duplicate_of, None);
    // 20 m away, same category, reported through process B: A's report is its candidate.
    let dup =
        w.b.report(&intake_b, manhole(0.0002, "井盖破损，同一处"))
            .await
            .unwrap();
    assert_eq!(dup.case.duplicate_of, Some(master.case.id));
    // Another category at the same place is not A's report's duplicate; 500 m away, the same
    // category is the duplicate of B's own first report there.
    let other = ReportRequest {
        category_code: Some("01002".into()),
        ..manhole(0.0, "另一类部件")
    };
    let other = w.b.report(&intake_b, other).await.unwrap();
    assert_eq!(other.case.duplicate_of, None);
    let far =
        w.b.report(&intake_b, manhole(0.005, "远处井盖"))
            .await
            .unwrap();
    assert_eq!(
        far.case.duplicate_of,
        Some(first_b.case.id),
        "near B's own first report"
    );
    // And back: process A finds B's reports too.
    let back =
        w.a.report(&intake_a, manhole(0.0051, "远处井盖又报"))
            .await
            .unwrap();
    assert_eq!(back.case.duplicate_of, Some(first_b.case.id));
}

#[tokio::test]
async fn a_case_closed_elsewhere_is_never_named() {
    // B reads the chain once an hour: it learns nothing of A's changes in this test.
    let w = two_processes(Duration::from_secs(3600)).await;
    let intake_a = user(w.store_a.as_ref(), "intake").await;
    let intake_b = user(w.store_b.as_ref(), "intake").await;
    let x =
        w.a.report(&intake_a, manhole(0.0, "井盖破损"))
            .await
            .unwrap();
    // B's first report loads the window from the store: X is in it.
    let y =
        w.b.report(&intake_b, manhole(0.0001, "井盖破损"))
            .await
            .unwrap();
    assert_eq!(y.case.duplicate_of, Some(x.case.id));
    // A rejects X (不予受理); B has not read the chain since.
    w.a.act(
        &intake_a,
        x.case.id,
        CaseAction::Reject,
        ActionInput {
            reason: Some("不属实".into()),
            ..ActionInput::default()
        },
        &[],
    )
    .await
    .unwrap();
    // X is nearer but no longer open: B reads its candidates again and names Y.
    let z =
        w.b.report(&intake_b, manhole(0.0, "井盖又坏了"))
            .await
            .unwrap();
    assert_eq!(z.case.duplicate_of, Some(y.case.id));

    // A process started now begins from the window in the store: Y and Z, not X.
    let c = process(
        w.store_a.clone(),
        w.clock.clone(),
        Duration::from_secs(3600),
    )
    .await;
    let again = c.report(&intake_a, manhole(0.0, "第四次")).await.unwrap();
    assert_eq!(
        again.case.duplicate_of,
        Some(z.case.id),
        "the nearest open one"
    );
}
