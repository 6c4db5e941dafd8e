//! Third-party review (第三方评价) through the services, without a web server, on the fixture
//! city over SQLite: the month's draw on the injected clock (refused before the month is over),
//! `min(n, max(k, ⌈share·n⌉))` of a department's closed cases, the same cases on another
//! database with the same data, nothing changed by drawing again; reviews of sampled cases only;
//! the scores follow.
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use cityops_app::{CaseService, ReportRequest, ReviewService, ServiceConfig, ServiceError};
use cityops_domain::case::{ActionInput, CaseAction};
use cityops_domain::review::{ReviewConfig, ReviewPeriod, draw_sample};
use cityops_domain::{CategoryKind, Clock, ManualClock, PageRequest, User};
use cityops_store::{NewAttachment, Store};
use cityops_test_support::city::{A_NW, cheap_hash, index_ab, load_case_city, start_time};

/// 1 December 2026, 10:00 in Asia/Shanghai: November is over.
fn december() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).single().unwrap()
}

struct World {
    cases: Arc<CaseService>,
    reviews: ReviewService,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
}

impl World {
    async fn new(config: ReviewConfig) -> Self {
        let store: Arc<dyn Store> = Arc::new(cityops_test_support::sqlite::memory_store().await);
        load_case_city(store.as_ref(), &cheap_hash("pw")).await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let cases = Arc::new(
            CaseService::load(
                store.clone(),
                index_ab(),
                dyn_clock,
                ServiceConfig::default(),
            )
            .await
            .expect("service"),
        );
        let reviews = ReviewService::new(cases.clone(), config);
        Self {
            cases,
            reviews,
            clock,
            store,
        }
    }

    async fn user(&self, name: &str) -> User {
        self.store
            .credentials(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {name}"))
            .user
    }

    /// Reports in grid NW of district A and walks the case to `closed` as the district's staff.
    async fn closed_case(&self, text: &str) -> i64 {
        let req = ReportRequest {
            lng: Some(A_NW.0),
            lat: Some(A_NW.1),
            description: text.to_string(),
            category_kind: Some(CategoryKind::Component),
            category_code: Some("01001".to_string()),
            contact: Some("张三明 13812345678".to_string()),
            ..ReportRequest::default()
        };
        let id = self
            .cases
            .report(&self.user("intake").await, req)
            .await
            .expect("report")
            .case
            .id;
        for (who, action) in [
            ("supervisor", CaseAction::File),
            ("dispatcher", CaseAction::Dispatch),
            ("a_handler_dept", CaseAction::Sign),
            ("a_handler_dept", CaseAction::Handle),
            ("intake", CaseAction::SendCheck),
            ("inspector1", CaseAction::CheckPass),
            ("supervisor", CaseAction::Close),
        ] {
            let user = self.user(who).await;
            let mut input = ActionInput {
                filing_seq: Some(1),
                comment: Some("办理".into()),
                ..ActionInput::default()
            };
            if action == CaseAction::Handle {
                let photo = self
                    .store
                    .create_attachment(&NewAttachment {
                        sha256: format!("{id:064x}"),
                        mime: "image/jpeg".into(),
                        bytes: 1000,
                        width: 640,
                        height: 480,
                        thumb_sha256: format!("{:064x}", id + 1_000_000),
                        uploaded_by: user.id,
                        created_at: self.clock.now(),
                        file_name: None,
                    })
                    .await
                    .expect("photo");
                input.attachments = vec![photo.id];
            }
            self.cases
                .act(&user, id, action, input, &[])
                .await
                .unwrap_or_else(|e| panic!("{action} by {who}: {e}"));
        }
        id
    }
}

fn config() -> ReviewConfig {
    ReviewConfig {
        sample_size: 2,
        min_share_percent: 0,
        salt: "惠州".into(),
    }
}

#[tokio::test]
async fn the_month_is_drawn_reproducibly_once_it_is_over() {
    let w = World::new(config()).await;
    let mut closed = Vec::new();
    for i in 0..4 {
        closed.push(w.closed_case(&format!("井盖破损 {i}")).await);
    }
    let leader = w.user("leader").await;
    let reviewer = w.user("reviewer").await;
    let november =
        ReviewPeriod::local_month(&chrono_tz_shanghai(), 2026, 11).expect("November 2026");

    // Not before the month is over; not by a reviewer.
    assert_eq!(w.reviews.default_period(), {
        ReviewPeriod::local_month(&chrono_tz_shanghai(), 2026, 10).unwrap()
    });
    assert!(matches!(
        w.reviews.draw(&leader, Some(november)).await,
        Err(ServiceError::Invalid(_))
    ));
    w.clock.set(december());
    assert_eq!(
        w.reviews.default_period(),
        november,
        "last month, on the clock"
    );
    assert!(matches!(
        w.reviews.draw(&reviewer, None).await,
        Err(ServiceError::Forbidden(_))
    ));

    let drawn = w.reviews.draw(&leader, None).await.expect("draw");
    assert_eq!(drawn.period, november);
    assert_eq!(drawn.added, 2);
    assert_eq!(drawn.departments.len(), 1);
    let d = &drawn.departments[0];
    assert_eq!((d.closed, d.case_ids.len(), d.drawn_at), (4, 2, december()));
    let mut want = draw_sample(&config(), &november, d.department_id, &closed);
    want.sort_unstable();
    assert_eq!(
        d.case_ids, want,
        "the domain's sample of the department's closed cases"
    );

    // Again, later and with another configuration: nothing changes.
    w.clock.set(december() + chrono::Duration::days(3));
    let again = w.reviews.draw(&leader, None).await.expect("draw again");
    assert_eq!(again.added, 0);
    assert_eq!(again.departments, drawn.departments);

    // Another database with the same data and salt draws the same cases.
    let other = World::new(config()).await;
    let mut closed_there = Vec::new();
    for i in 0..4 {
        closed_there.push(other.closed_case(&format!("井盖破损 {i}")).await);
    }
    assert_eq!(closed_there, closed);
    other.clock.set(december());
    let there = other
        .reviews
        .draw(&other.user("leader").await, None)
        .await
        .expect("draw there");
    assert_eq!(there.departments[0].case_ids, d.case_ids);

    // Reviews: sampled cases only, once; the scores follow.
    let sampled = d.case_ids[0];
    let unsampled = *closed.iter().find(|c| !d.case_ids.contains(c)).unwrap();
    assert!(matches!(
        w.reviews
            .submit(&reviewer, unsampled, 3, "一般", None)
            .await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        w.reviews.submit(&leader, sampled, 3, "一般", None).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        w.reviews.submit(&reviewer, sampled, 6, "好", None).await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        w.reviews
            .submit(&reviewer, sampled, 4, &"好".repeat(1001), None)
            .await,
        Err(ServiceError::TooLong(_))
    ));
    let review = w
        .reviews
        .submit(&reviewer, sampled, 4, "处置及时", None)
        .await
        .expect("review");
    assert_eq!((review.score, review.period), (4, november));
    assert_eq!(review.created_at, december() + chrono::Duration::days(3));
    assert!(matches!(
        w.reviews.submit(&reviewer, sampled, 5, "再评", None).await,
        Err(ServiceError::Conflict(_))
    ));
    let tasks = w
        .reviews
        .tasks(&reviewer, PageRequest::default())
        .await
        .expect("tasks");
    assert_eq!(tasks.total, 2);
    assert_eq!(tasks.items[1].sample.case_id, sampled, "reviewed last");
    let (period, scores) = w.reviews.scores(&leader, None).await.expect("scores");
    assert_eq!(period, november);
    assert_eq!(
        scores
            .iter()
            .map(|s| (s.sampled, s.reviewed, s.score_sum, s.mean))
            .collect::<Vec<_>>(),
        vec![(2, 1, 4, Some(4.0))]
    );
    assert!(matches!(
        w.reviews.scores(&reviewer, None).await,
        Err(ServiceError::Forbidden(_))
    ));
}

/// Asia/Shanghai, as the service's default calendar reads dates.
fn chrono_tz_shanghai() -> impl chrono::TimeZone {
    ServiceConfig::default().calendar.tz
}
