//! The stories of third-party review (第三方评价, issue 11): the closed cases of a period are
//! the candidates (closing time read from the case, at both ends of the period); a department's
//! sample of a period is kept once; a reviewer's tasks are the sampled cases of their region;
//! one review per case, its photo claimed with it (or nothing written); the per-department
//! scores count each case once.
use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::case::{ActionInput, CaseAction, CaseSource, CaseStatus};
use cityops_domain::review::{NewReview, ReviewPeriod};
use cityops_store::{
    Case, CaseQuery, CaseVisibility, DepartmentReviewScore, DepartmentSample, PageRequest, Role,
    Store, StoreError, User,
};

use crate::case_fixtures::{World, attachment, location, new_report};
use crate::fixtures::new_user;

/// March 2026 in Asia/Shanghai: `[2026-02-28T16:00Z, 2026-03-31T16:00Z)`.
fn march() -> ReviewPeriod {
    ReviewPeriod::new(local(3, 1, 0, 0), local(4, 1, 0, 0)).expect("March 2026")
}

/// A user of the story by username.
async fn user_of(store: &dyn Store, name: &str) -> User {
    store
        .credentials(name)
        .await
        .expect("credentials")
        .unwrap_or_else(|| panic!("no user {name}"))
        .user
}

/// A local (UTC+8) time in 2026.
fn local(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .single()
        .expect("valid instant")
        - Duration::hours(8)
}

fn all() -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 100,
    }
}

/// Reports at `reported` in `grid` as the grid's inspector.
async fn report(
    w: &World,
    store: &dyn Store,
    who: &str,
    grid: &str,
    text: &str,
    reported: DateTime<Utc>,
) -> Case {
    w.create(
        store,
        who,
        new_report(
            CaseSource::Inspector,
            None,
            location(grid, 114.405, 23.055, "评价路 1 号"),
            text,
        ),
        reported,
    )
    .await
}

/// Takes `case` through the loop to `closed` by `department` (its `handler` signs and handles,
/// `inspector` checks); the case closes at `start` + 7 minutes.
#[allow(clippy::too_many_arguments)]
async fn close_by(
    w: &World,
    store: &dyn Store,
    case: &Case,
    department: &str,
    handler: &str,
    inspector: &str,
    start: DateTime<Utc>,
) -> Case {
    let step = |m: i64| start + Duration::minutes(m);
    let c = w.file(store, case, "01001", step(1)).await;
    let c = w.dispatch(store, &c, w.dept(department), step(2)).await;
    let c = w
        .act(
            store,
            &c,
            handler,
            CaseAction::Sign,
            ActionInput::default(),
            step(3),
        )
        .await;
    // The after-photo the handling needs.
    let photo = store
        .create_attachment(&attachment(
            case.id as u32,
            w.uid(handler),
            step(4) - Duration::seconds(30),
        ))
        .await
        .expect("create_attachment");
    let c = w
        .act(
            store,
            &c,
            handler,
            CaseAction::Handle,
            ActionInput {
                comment: Some("已处置".into()),
                attachments: vec![photo.id],
                ..ActionInput::default()
            },
            step(4),
        )
        .await;
    let c = w
        .act(
            store,
            &c,
            "duty1",
            CaseAction::SendCheck,
            ActionInput {
                assignee_id: Some(w.uid(inspector)),
                ..ActionInput::default()
            },
            step(5),
        )
        .await;
    let c = w
        .act(
            store,
            &c,
            inspector,
            CaseAction::CheckPass,
            ActionInput::default(),
            step(6),
        )
        .await;
    let c = w
        .act(
            store,
            &c,
            "duty1",
            CaseAction::Close,
            ActionInput::default(),
            step(7),
        )
        .await;
    assert_eq!(c.status, CaseStatus::Closed);
    assert_eq!(c.closed_at, Some(step(7)));
    c
}

/// The city's closed, open and cancelled cases around March 2026, and two reviewers.
struct ReviewWorld {
    w: World,
    /// Closed in March by the municipal department (district 441302), in closing order; the
    /// first closes at the very start of March, one was reported in February, one rated in
    /// April.
    municipal: Vec<Case>,
    /// Closed in March by the sanitation department of district 441303.
    sanitation: Case,
    /// Closed on the first instant of April (the period's end).
    april: Case,
    reviewer_a: i64,
}

async fn review_world(store: &dyn Store) -> ReviewWorld {
    let w = World::new(store).await;
    for (name, region) in [("reviewer_a", "441302"), ("reviewer_b", "441303")] {
        store
            .create_user(&new_user(name, &[Role::Reviewer], Some(region), None, &[]))
            .await
            .expect("create_user reviewer");
    }
    let reviewer_a = user_of(store, "reviewer_a").await.id;
    let grid_a = "441302001001001";
    let grid_b = "441303001001001";
    let p = march();
    let mut municipal = Vec::new();
    // Closes exactly at the start of the period.
    let c = report(
        &w,
        store,
        "inspector1",
        grid_a,
        "首日结案",
        p.from - Duration::hours(1),
    )
    .await;
    municipal.push(
        close_by(
            &w,
            store,
            &c,
            "441300-municipal",
            "handler1",
            "inspector1",
            p.from - Duration::minutes(7),
        )
        .await,
    );
    // Reported in February, closed in March.
    let c = report(
        &w,
        store,
        "inspector1",
        grid_a,
        "二月上报",
        local(2, 20, 9, 0),
    )
    .await;
    municipal.push(
        close_by(
            &w,
            store,
            &c,
            "441300-municipal",
            "handler1",
            "inspector1",
            local(3, 3, 10, 0),
        )
        .await,
    );
    for day in 4..=6 {
        let c = report(
            &w,
            store,
            "inspector1",
            grid_a,
            "三月案件",
            local(3, day, 9, 0),
        )
        .await;
        municipal.push(
            close_by(
                &w,
                store,
                &c,
                "441300-municipal",
                "handler1",
                "inspector1",
                local(3, day, 14, 0),
            )
            .await,
        );
    }
    // Closed in March, rated by its reporter in April (changed after the period).
    let rated = municipal.last().expect("a case").clone();
    let rated = w
        .act(
            store,
            &rated,
            "inspector1",
            CaseAction::Rate,
            ActionInput {
                score: Some(4),
                ..ActionInput::default()
            },
            local(4, 2, 9, 0),
        )
        .await;
    *municipal.last_mut().expect("a case") = rated;

    let c = report(
        &w,
        store,
        "inspector2",
        grid_b,
        "惠阳垃圾",
        local(3, 10, 9, 0),
    )
    .await;
    let sanitation = close_by(
        &w,
        store,
        &c,
        "441303-sanitation",
        "handler2",
        "inspector2",
        local(3, 10, 11, 0),
    )
    .await;
    // Closed on the first instant of April: not March's.
    let c = report(
        &w,
        store,
        "inspector1",
        grid_a,
        "四月结案",
        local(3, 31, 22, 0),
    )
    .await;
    let april = close_by(
        &w,
        store,
        &c,
        "441300-municipal",
        "handler1",
        "inspector1",
        p.to - Duration::minutes(7),
    )
    .await;
    // Open and cancelled cases of March are never candidates.
    let open = report(
        &w,
        store,
        "inspector1",
        grid_a,
        "未结案",
        local(3, 12, 9, 0),
    )
    .await;
    let open = w.file(store, &open, "01001", local(3, 12, 10, 0)).await;
    w.dispatch(
        store,
        &open,
        w.dept("441300-municipal"),
        local(3, 12, 11, 0),
    )
    .await;
    let cancelled = report(
        &w,
        store,
        "inspector1",
        grid_a,
        "不予受理",
        local(3, 13, 9, 0),
    )
    .await;
    w.act(
        store,
        &cancelled,
        "duty1",
        CaseAction::Reject,
        ActionInput {
            reason: Some("不属于受理范围".into()),
            ..ActionInput::default()
        },
        local(3, 13, 10, 0),
    )
    .await;
    ReviewWorld {
        w,
        municipal,
        sanitation,
        april,
        reviewer_a,
    }
}

fn review_of(case_id: i64, reviewer_id: i64, score: u8, photo: Option<i64>) -> NewReview {
    NewReview {
        case_id,
        reviewer_id,
        score,
        comment: "现场已恢复，处置到位".into(),
        attachment_id: photo,
        created_at: local(4, 3, 10, 0),
    }
}

/// Candidates: the closed cases whose closing time lies in the period (its first instant in,
/// its end out), whenever reported and however changed later, each with its department; open
/// and cancelled cases never.
pub async fn review_candidates_are_the_period_closed_cases(store: &dyn Store) {
    let rw = review_world(store).await;
    let backend = store.backend();
    let got = store
        .review_candidates(&march())
        .await
        .expect("review_candidates");
    let mut want: Vec<(i64, i64, DateTime<Utc>)> = rw
        .municipal
        .iter()
        .map(|c| {
            (
                c.id,
                rw.w.dept("441300-municipal"),
                c.closed_at.expect("closed"),
            )
        })
        .chain(std::iter::once((
            rw.sanitation.id,
            rw.w.dept("441303-sanitation"),
            rw.sanitation.closed_at.expect("closed"),
        )))
        .collect();
    want.sort();
    assert_eq!(
        got.iter()
            .map(|c| (c.case_id, c.department_id, c.closed_at))
            .collect::<Vec<_>>(),
        want,
        "{backend}: March's closed cases in id order"
    );
    assert!(
        got.iter().all(|c| c.case_id != rw.april.id),
        "{backend}: the period's end is not in it"
    );
    let april = ReviewPeriod::new(local(4, 1, 0, 0), local(5, 1, 0, 0)).expect("April");
    let got = store
        .review_candidates(&april)
        .await
        .expect("review_candidates");
    assert_eq!(
        got.iter().map(|c| c.case_id).collect::<Vec<_>>(),
        vec![rw.april.id],
        "{backend}: April holds the case closed at its first instant, not the one rated then"
    );
}

/// A department's sample of a period is kept once: drawing it again (even other cases) adds
/// nothing and keeps the first drawing time; other departments and other periods are drawn on
/// their own; unknown cases and departments are `Invalid`.
pub async fn review_samples_are_kept_once(store: &dyn Store) {
    let rw = review_world(store).await;
    let backend = store.backend();
    let p = march();
    let muni = rw.w.dept("441300-municipal");
    let sani = rw.w.dept("441303-sanitation");
    let ids = |cs: &[Case]| cs.iter().map(|c| c.id).collect::<Vec<_>>();
    let first = local(4, 1, 9, 0);
    let added = store
        .save_review_sample(
            &p,
            &[DepartmentSample {
                department_id: muni,
                case_ids: ids(&rw.municipal[..3]),
            }],
            first,
        )
        .await
        .expect("save_review_sample");
    assert_eq!(added, 3, "{backend}");
    // Again, with other cases for the municipal department and the sanitation department's.
    let added = store
        .save_review_sample(
            &p,
            &[
                DepartmentSample {
                    department_id: muni,
                    case_ids: ids(&rw.municipal[2..]),
                },
                DepartmentSample {
                    department_id: sani,
                    case_ids: vec![rw.sanitation.id, rw.sanitation.id],
                },
            ],
            local(4, 2, 9, 0),
        )
        .await
        .expect("save_review_sample again");
    assert_eq!(added, 1, "{backend}: only the sanitation department's case");
    let kept = store.review_sample(&p).await.expect("review_sample");
    let mut want: Vec<(i64, i64)> = ids(&rw.municipal[..3])
        .into_iter()
        .map(|c| (muni, c))
        .chain(std::iter::once((sani, rw.sanitation.id)))
        .collect();
    want.sort();
    assert_eq!(
        kept.iter()
            .map(|s| (s.department_id, s.case_id))
            .collect::<Vec<_>>(),
        want,
        "{backend}: by department and case"
    );
    assert!(kept.iter().all(|s| s.period == p), "{backend}");
    for s in &kept {
        let when = if s.department_id == sani {
            local(4, 2, 9, 0)
        } else {
            first
        };
        assert_eq!(
            s.drawn_at, when,
            "{backend}: each keeps the time it was first drawn"
        );
    }
    // An overlapping period samples on its own; an unrelated period is empty.
    let spring = ReviewPeriod::new(p.from, p.to + Duration::days(30)).expect("period");
    assert!(
        store
            .review_sample(&spring)
            .await
            .expect("review_sample")
            .is_empty()
    );
    assert_eq!(
        store
            .save_review_sample(
                &spring,
                &[DepartmentSample {
                    department_id: muni,
                    case_ids: vec![rw.municipal[0].id],
                }],
                first,
            )
            .await
            .expect("another period"),
        1
    );
    // Unknown cases and departments.
    assert!(
        matches!(
            store
                .save_review_sample(
                    &spring,
                    &[DepartmentSample {
                        department_id: sani,
                        case_ids: vec![rw.sanitation.id, 999_999],
                    }],
                    first,
                )
                .await,
            Err(StoreError::Invalid(_))
        ),
        "{backend}: an unknown case"
    );
    assert!(
        matches!(
            store
                .save_review_sample(
                    &spring,
                    &[DepartmentSample {
                        department_id: 999_999,
                        case_ids: vec![rw.april.id],
                    }],
                    first,
                )
                .await,
            Err(StoreError::Invalid(_))
        ),
        "{backend}: an unknown department"
    );
    assert_eq!(
        store.review_sample(&spring).await.expect("sample").len(),
        1,
        "{backend}: nothing of a refused sample is kept"
    );
}

/// Tasks within the reviewer's region, unreviewed first; one review per case for the earliest
/// sample holding it, its photo linked to the case in the same transaction; refusals write
/// nothing; scores count each case once per department and follow the region of a scoped
/// viewer.
pub async fn reviews_are_one_per_sampled_case_and_scored(store: &dyn Store) {
    let rw = review_world(store).await;
    let backend = store.backend();
    let p = march();
    let muni = rw.w.dept("441300-municipal");
    let sani = rw.w.dept("441303-sanitation");
    let m: Vec<i64> = rw.municipal.iter().map(|c| c.id).collect();
    store
        .save_review_sample(
            &p,
            &[
                DepartmentSample {
                    department_id: muni,
                    case_ids: m[..3].to_vec(),
                },
                DepartmentSample {
                    department_id: sani,
                    case_ids: vec![rw.sanitation.id],
                },
            ],
            local(4, 1, 9, 0),
        )
        .await
        .expect("sample March");
    // A longer period holding the first municipal case again.
    let spring = ReviewPeriod::new(p.from, p.to + Duration::days(30)).expect("period");
    store
        .save_review_sample(
            &spring,
            &[DepartmentSample {
                department_id: muni,
                case_ids: vec![m[0]],
            }],
            local(5, 1, 9, 0),
        )
        .await
        .expect("sample spring");

    let reviewer_a = CaseVisibility::for_user(&user_of(store, "reviewer_a").await);
    let reviewer_b_id = user_of(store, "reviewer_b").await.id;
    let reviewer_b = CaseVisibility::for_user(&user_of(store, "reviewer_b").await);
    let tasks = |vis: CaseVisibility, page: PageRequest| async move {
        store.review_tasks(&vis, page).await.expect("review_tasks")
    };
    let a = tasks(reviewer_a.clone(), all()).await;
    assert_eq!(
        a.total, 4,
        "{backend}: district 441302's sampled cases, per period"
    );
    assert_eq!(
        a.items
            .iter()
            .map(|t| (t.sample.period, t.sample.case_id))
            .collect::<Vec<_>>(),
        vec![(spring, m[0]), (p, m[0]), (p, m[1]), (p, m[2])],
        "{backend}: newest period first, then by case"
    );
    assert!(
        a.items
            .iter()
            .all(|t| t.review.is_none() && t.photo.is_none())
    );
    assert_eq!(a.items[1].case_code, rw.municipal[0].code);
    let b = tasks(reviewer_b.clone(), all()).await;
    assert_eq!(
        b.items
            .iter()
            .map(|t| (t.sample.case_id, t.sample.department_id))
            .collect::<Vec<_>>(),
        vec![(rw.sanitation.id, sani)],
        "{backend}: district 441303's"
    );
    let everything = tasks(CaseVisibility::everything(), all()).await;
    assert_eq!(everything.total, 5);
    let second = tasks(
        reviewer_a.clone(),
        PageRequest {
            page: 2,
            page_size: 3,
        },
    )
    .await;
    assert_eq!(
        (
            second.total,
            second.items.len(),
            second.items[0].sample.case_id
        ),
        (4, 1, m[2]),
        "{backend}: paged"
    );

    // Photos: the reviewer's own, someone else's, one already on a case.
    let up = |n: u32, user: i64| {
        let a = attachment(900 + n, user, local(4, 3, 9, 0));
        async move {
            store
                .create_attachment(&a)
                .await
                .expect("create_attachment")
        }
    };
    let mine = up(1, rw.reviewer_a).await;
    let theirs = up(2, rw.w.uid("citizen1")).await;
    let mine_too = up(3, rw.reviewer_a).await;

    // Refusals write nothing.
    let refused = [
        (
            review_of(m[3], rw.reviewer_a, 4, None),
            "a closed case in no sample",
        ),
        (
            review_of(rw.sanitation.id, rw.reviewer_a, 4, None),
            "another region's sampled case",
        ),
        (review_of(999_999, rw.reviewer_a, 4, None), "no such case"),
    ];
    for (r, why) in &refused {
        assert!(
            matches!(
                store.save_review(r, &reviewer_a).await,
                Err(StoreError::NotFound)
            ),
            "{backend}: {why} is NotFound"
        );
    }
    assert!(
        matches!(
            store
                .save_review(
                    &review_of(m[0], rw.reviewer_a, 4, Some(theirs.id)),
                    &reviewer_a
                )
                .await,
            Err(StoreError::Invalid(_))
        ),
        "{backend}: someone else's photo"
    );
    assert!(
        matches!(
            store
                .save_review(&review_of(m[0], rw.reviewer_a, 9, None), &reviewer_a)
                .await,
            Err(StoreError::Invalid(_))
        ),
        "{backend}: a score outside 1–5 is refused by the store too"
    );
    assert!(
        tasks(reviewer_a.clone(), all())
            .await
            .items
            .iter()
            .all(|t| t.review.is_none()),
        "{backend}: nothing was written"
    );
    assert_eq!(
        store
            .get_attachments(&[theirs.id])
            .await
            .expect("get_attachments")[0]
            .case_id,
        None
    );

    // The review: for the earliest sample holding the case, the photo linked to the case.
    let saved = store
        .save_review(
            &review_of(m[0], rw.reviewer_a, 4, Some(mine.id)),
            &reviewer_a,
        )
        .await
        .expect("save_review");
    assert_eq!(
        (
            saved.case_id,
            saved.department_id,
            saved.period,
            saved.reviewer_id,
            saved.score,
            saved.attachment_id,
            saved.created_at,
        ),
        (
            m[0],
            muni,
            p,
            rw.reviewer_a,
            4,
            Some(mine.id),
            local(4, 3, 10, 0)
        ),
        "{backend}"
    );
    assert_eq!(saved.comment, "现场已恢复，处置到位");
    assert_eq!(
        store.get_attachments(&[mine.id]).await.expect("get")[0].case_id,
        Some(m[0]),
        "{backend}: the photo belongs to the case now"
    );
    // Once per case, whatever sample, reviewer or photo.
    for again in [
        review_of(m[0], rw.reviewer_a, 2, None),
        review_of(m[0], rw.reviewer_a, 5, Some(mine_too.id)),
    ] {
        assert!(
            matches!(
                store.save_review(&again, &reviewer_a).await,
                Err(StoreError::Conflict(_))
            ),
            "{backend}: reviewed already"
        );
    }
    assert_eq!(
        store.get_attachments(&[mine_too.id]).await.expect("get")[0].case_id,
        None,
        "{backend}: a refused review claims no photo"
    );
    // A photo already on a case cannot be a review's.
    let linked = store
        .save_review(
            &review_of(m[1], rw.reviewer_a, 3, Some(mine.id)),
            &reviewer_a,
        )
        .await;
    assert!(
        matches!(linked, Err(StoreError::Invalid(_))),
        "{backend}: a photo already linked: {linked:?}"
    );
    store
        .save_review(&review_of(m[1], rw.reviewer_a, 3, None), &reviewer_a)
        .await
        .expect("second review");
    store
        .save_review(
            &review_of(rw.sanitation.id, reviewer_b_id, 5, None),
            &reviewer_b,
        )
        .await
        .expect("review in district 441303");

    let a = tasks(reviewer_a.clone(), all()).await;
    assert_eq!(
        a.items
            .iter()
            .map(|t| (
                t.sample.period,
                t.sample.case_id,
                t.review.as_ref().map(|r| r.score)
            ))
            .collect::<Vec<_>>(),
        vec![
            (p, m[2], None),
            (spring, m[0], Some(4)),
            (p, m[0], Some(4)),
            (p, m[1], Some(3)),
        ],
        "{backend}: still to review first; a review shows in every sample of its case"
    );
    assert_eq!(a.items[2].photo.as_deref(), Some(mine.public_id.as_str()));
    assert_eq!(a.items[3].photo, None);

    // Scores: each case once per department (the spring sample repeats a March case).
    let scores = store
        .review_scores(p.from, spring.to)
        .await
        .expect("review_scores");
    let mut want = vec![
        DepartmentReviewScore::new(muni, 3, 2, 7),
        DepartmentReviewScore::new(sani, 1, 1, 5),
    ];
    want.sort_by_key(|d| d.department_id);
    assert_eq!(scores, want, "{backend}: by department id");
    let muni_score = scores
        .iter()
        .find(|s| s.department_id == muni)
        .expect("municipal");
    assert_eq!(muni_score.mean, Some(3.5));
    // Only samples whose period lies within the range count.
    let march_only = store
        .review_scores(p.from, p.to)
        .await
        .expect("review_scores");
    assert_eq!(march_only.len(), 2);
    let inner = store
        .review_scores(p.from + Duration::days(1), p.to)
        .await
        .expect("review_scores");
    assert!(inner.is_empty(), "{backend}: no sample lies within");
    // A scoped viewer sees the departments of their region.
    let b_only = store
        .review_scores_within(p.from, spring.to, Some("441303"))
        .await
        .expect("review_scores_within");
    assert_eq!(
        b_only,
        vec![DepartmentReviewScore::new(sani, 1, 1, 5)],
        "{backend}"
    );
    let city = store
        .review_scores_within(p.from, spring.to, Some("441300"))
        .await
        .expect("review_scores_within");
    assert_eq!(city, scores, "{backend}: the city covers every department");
    let unsampled = DepartmentReviewScore::new(7, 2, 0, 0);
    assert_eq!(unsampled.mean, None);
}

/// A third-party reviewer sees the closed cases of their region (of the whole city without a
/// region) and nothing open — in lists, counts, single reads and events alike.
pub async fn reviewers_see_closed_cases_only(store: &dyn Store) {
    let rw = review_world(store).await;
    let backend = store.backend();
    store
        .create_user(&new_user(
            "reviewer_city",
            &[Role::Reviewer],
            None,
            None,
            &[],
        ))
        .await
        .expect("create_user");
    let district = CaseVisibility::for_user(&user_of(store, "reviewer_a").await);
    let city = CaseVisibility::for_user(&user_of(store, "reviewer_city").await);
    let everything = CaseVisibility::everything();
    let q = CaseQuery::new(local(5, 1, 0, 0));
    let page = PageRequest {
        page: 1,
        page_size: 1000,
    };
    let ids = |vis: CaseVisibility| {
        let q = q.clone();
        async move {
            let got = store.list_cases(&q, &vis, page).await.expect("list_cases");
            assert_eq!(got.total as usize, got.items.len());
            got.items
                .into_iter()
                .map(|c| (c.id, c.status))
                .collect::<BTreeSet<_>>()
        }
    };
    let all = ids(everything).await;
    let closed_in = |region: &str| -> BTreeSet<(i64, CaseStatus)> {
        let cases: Vec<&Case> = rw
            .municipal
            .iter()
            .chain([&rw.sanitation, &rw.april])
            .collect();
        cases
            .into_iter()
            .filter(|c| {
                c.location
                    .region_code()
                    .is_some_and(|r| r.starts_with(region))
            })
            .map(|c| (c.id, c.status))
            .collect()
    };
    assert_eq!(
        all.len(),
        9,
        "{backend}: seven closed, one open, one cancelled"
    );
    let want_district = closed_in("441302");
    assert_eq!(want_district.len(), 6);
    assert_eq!(
        ids(district.clone()).await,
        want_district,
        "{backend}: district"
    );
    let want_city = closed_in("4413");
    assert_eq!(want_city.len(), 7);
    assert_eq!(ids(city.clone()).await, want_city, "{backend}: city");
    let counts = store.count_cases(&q, &district).await.expect("count_cases");
    assert_eq!(
        (counts.total, counts.closed, counts.open, counts.cancelled),
        (6, 6, 0, 0),
        "{backend}"
    );
    for (id, status) in &all {
        let closed_here = want_district.contains(&(*id, *status));
        assert_eq!(
            store
                .get_case(*id, &district)
                .await
                .expect("get_case")
                .is_some(),
            closed_here,
            "{backend}: case {id} ({status})"
        );
        assert_eq!(
            store
                .case_events(*id, &district)
                .await
                .expect("case_events")
                .is_some(),
            closed_here,
            "{backend}: events of case {id} ({status})"
        );
    }
    // The status filter and the closed-only scope together.
    let open_only = CaseQuery {
        statuses: vec![CaseStatus::Dispatched, CaseStatus::Cancelled],
        ..q.clone()
    };
    assert!(
        store
            .list_cases(&open_only, &city, page)
            .await
            .expect("list_cases")
            .items
            .is_empty(),
        "{backend}: nothing open or cancelled"
    );
}
