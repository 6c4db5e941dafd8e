//! Property tests of the case state machine: random sequences of actions by random actors with
//! random inputs at random times never reach an invalid state, the counters match what happened,
//! and a closed case changes only by its rating.
use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::calendar::{WorkingCalendar, parse_calendar_csv};
use cityops_domain::case::{
    ActionInput, Actor, Case, CaseAction, CaseError, CaseLocation, CaseSource, CaseStatus, Context,
    NewReport, Urgency, WorkflowConfig, allowed_actions, apply, light_recipient, mark_light,
    report,
};
use cityops_domain::{CategoryKind, LimitUnit, Role, TimeLimit};
use proptest::prelude::*;

const HOLIDAYS: &str = include_str!("../../../data/calendar/cn_public_holidays.csv");

fn calendar() -> WorkingCalendar {
    WorkingCalendar::china_default(parse_calendar_csv(HOLIDAYS).unwrap())
}

fn actors() -> Vec<Actor> {
    let a = |id: i64, roles: Vec<Role>, dept: Option<i64>| Actor {
        user_id: Some(id),
        roles,
        department_id: dept,
    };
    vec![
        a(1, vec![Role::Intake], Some(1)),
        a(2, vec![Role::Supervisor], Some(1)),
        a(3, vec![Role::Dispatcher], Some(1)),
        a(4, vec![Role::Inspector], Some(1)),
        a(5, vec![Role::Handler], Some(10)),
        a(6, vec![Role::Handler], Some(11)),
        a(7, vec![Role::Leader], None),
        a(8, vec![Role::Citizen], None),
        a(9, vec![Role::Reviewer], None),
        a(10, vec![Role::Admin], None),
        Actor::system(),
    ]
}

#[derive(Debug, Clone)]
struct Step {
    /// Most steps pick one of the actions some actor may take now, so sequences get deep.
    pick_allowed: bool,
    action: usize,
    actor: usize,
    advance_minutes: i64,
    with_reason: bool,
    with_photo: bool,
    department: i64,
    until_days: i64,
    score: u8,
    confirmed: bool,
    urgent: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        proptest::bool::weighted(0.85),
        0..1000usize,
        0..11usize,
        0i64..(3 * 24 * 60),
        any::<bool>(),
        any::<bool>(),
        10i64..12,
        -2i64..400,
        0u8..7,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                pick_allowed,
                action,
                actor,
                advance_minutes,
                with_reason,
                with_photo,
                department,
                until_days,
                score,
                confirmed,
                urgent,
            )| Step {
                pick_allowed,
                action,
                actor,
                advance_minutes,
                with_reason,
                with_photo,
                department,
                until_days,
                score,
                confirmed,
                urgent,
            },
        )
}

fn input(s: &Step, now: DateTime<Utc>) -> ActionInput {
    ActionInput {
        comment: s.with_reason.then(|| "意见".to_string()),
        reason: s.with_reason.then(|| "原因".to_string()),
        category_kind: Some(CategoryKind::Matter),
        category_code: Some("06001".into()),
        filing_seq: Some(0),
        urgency: Some(if s.urgent {
            Urgency::Urgent
        } else {
            Urgency::Normal
        }),
        department_id: Some(s.department),
        assignee_id: Some(4),
        attachments: if s.with_photo { vec![1] } else { vec![] },
        until: Some(now + Duration::days(s.until_days)),
        score: Some(s.score),
        confirmed: Some(s.confirmed),
        master_case_id: None,
    }
}

/// Invariants every reachable case satisfies.
fn check_invariants(c: &Case) -> Result<(), String> {
    use CaseStatus as S;
    let fail = |m: &str| Err(format!("{m}: {c:#?}"));
    if c.status == S::Closed && (c.closed_at.is_none() || c.close_kind.is_none() || !c.check_passed)
    {
        return fail("closed without closed_at/close_kind/check");
    }
    if c.status == S::Cancelled && c.closed_at.is_none() {
        return fail("cancelled without closed_at");
    }
    if c.status == S::Suspended {
        if c.suspended_until.is_none() || c.suspend_remaining.is_none() {
            return fail("suspended without until/remaining");
        }
        if c.clock.as_ref().is_some_and(|k| k.due.is_some()) {
            return fail("suspended with a running clock");
        }
    }
    if matches!(
        c.status,
        S::Dispatched | S::Handling | S::Handled | S::Checking | S::Closed | S::Suspended
    ) && (c.department_id.is_none() || c.category_code.is_none() || c.handle_limit.is_none())
    {
        return fail("past dispatch without department/category/limit");
    }
    if c.status == S::Filed && (c.department_id.is_some() || c.category_code.is_none()) {
        return fail("filed but still with a department or without category");
    }
    if matches!(c.status, S::Verifying) && c.assignee_id.is_none() {
        return fail("verifying without an inspector");
    }
    if c.status == S::Checking && !c.check_passed && c.assignee_id.is_none() {
        return fail("checking without an inspector");
    }
    if c.postpone_count > 2 {
        return fail("postponed more than twice");
    }
    if c.status.is_open() && c.status != S::Suspended && c.clock.is_none() {
        return fail("open case without a clock");
    }
    if let Some(k) = &c.clock
        && let Some(due) = k.due
        && due < k.started_at
    {
        return fail("due before start");
    }
    if c.pending.is_some() && c.status != S::Handling {
        return fail("a pending request outside handling");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_stay_valid(steps in proptest::collection::vec(step(), 1..80)) {
        let cal = calendar();
        let cfg = WorkflowConfig::default();
        let actors = actors();
        let mut now = Utc.with_ymd_and_hms(2026, 9, 28, 1, 30, 0).unwrap();
        let ctx = |now| Context {
            now,
            calendar: &cal,
            config: &cfg,
            handle_limit: Some(TimeLimit { value: 4, unit: LimitUnit::WorkHour }),
            master: None,
            suggested_department: None,
        };
        let (mut case, ev, _) = report(
            NewReport {
                source: CaseSource::Citizen,
                category_kind: None,
                category_code: None,
                urgency: Urgency::Normal,
                description: "路面塌陷".into(),
                location: CaseLocation {
                    lng: 114.4, lat: 23.1,
                    grid_code: Some("441302001001001".into()),
                    community_code: None, street_code: None, district_code: None,
                    address: Some("东平路1号".into()),
                },
                component_id: None,
                contact: Some("王先生 13800000000".into()),
                attachments: vec![],
                suggested_department_id: Some(10),
                duplicate_of: None,
            },
            &actors[7],
            &ctx(now),
        ).unwrap();
        prop_assert_eq!(ev.to_status, CaseStatus::Reported);
        case.id = 1;
        case.code = "2026092800001".into();
        let (mut reworks, mut returns, mut postpones) = (0u32, 0u32, 0u32);
        for s in &steps {
            now += Duration::minutes(s.advance_minutes);
            // The watcher may run between steps.
            if let Some((marked, e, notes)) = mark_light(&case, now, &cal) {
                prop_assert_eq!(e.to_status, case.status);
                // Yellow and red alike tell exactly the owner of the running stage.
                prop_assert_eq!(notes.len(), 1);
                prop_assert_eq!(&notes[0].action, &e.action);
                prop_assert_eq!(&notes[0].recipient, &light_recipient(&marked));
                prop_assert!(marked.light > case.light);
                case = marked;
            }
            let pairs: Vec<(usize, CaseAction)> = (0..actors.len())
                .flat_map(|i| allowed_actions(&case, &actors[i], now, &cfg).into_iter().map(move |a| (i, a)))
                .filter(|(_, a)| *a != CaseAction::Merge)
                .collect();
            let (actor_ix, action) = if s.pick_allowed && !pairs.is_empty() {
                pairs[s.action % pairs.len()]
            } else {
                (s.actor, CaseAction::ALL[s.action % CaseAction::ALL.len()])
            };
            let actor = &actors[actor_ix];
            let allowed = allowed_actions(&case, actor, now, &cfg);
            let before = case.clone();
            match apply(&case, action, actor, &input(s, now), &ctx(now)) {
                Ok(t) => {
                    prop_assert!(allowed.contains(&action), "{action} applied but not allowed");
                    prop_assert_eq!(t.event.from_status, Some(before.status));
                    prop_assert_eq!(t.event.to_status, t.case.status);
                    prop_assert_eq!(t.event.action.as_str(), action.as_str());
                    // The searchable text (code, description, address) and the contact are
                    // fixed at the report: the stores index them once, at creation.
                    prop_assert_eq!(&t.case.code, &before.code);
                    prop_assert_eq!(&t.case.description, &before.description);
                    prop_assert_eq!(&t.case.location.address, &before.location.address);
                    prop_assert_eq!(&t.case.contact, &before.contact);
                    if before.status == CaseStatus::Closed {
                        // A closed case changes only by its rating.
                        let mut same = t.case.clone();
                        same.rating = before.rating;
                        same.updated_at = before.updated_at;
                        prop_assert_eq!(&same, &before);
                        prop_assert_eq!(action, CaseAction::Rate);
                    }
                    match action {
                        CaseAction::CheckFail => reworks += 1,
                        CaseAction::Return => returns += 1,
                        CaseAction::ApprovePostpone => postpones += 1,
                        _ => {}
                    }
                    case = t.case;
                    check_invariants(&case).map_err(TestCaseError::fail)?;
                }
                Err(CaseError::InvalidTransition { allowed: listed, .. }) => {
                    prop_assert_eq!(listed, allowed.clone());
                    prop_assert!(!allowed.contains(&action), "{action} refused as invalid but listed as allowed");
                }
                Err(CaseError::Forbidden { .. }) => {
                    prop_assert!(!allowed.contains(&action), "{action} forbidden but listed as allowed");
                }
                Err(CaseError::Missing { .. } | CaseError::Invalid(_) | CaseError::TooLong(_)) => {
                    // Only input problems: the action itself was possible for this actor.
                    prop_assert!(allowed.contains(&action), "{action}: input error for an action not allowed");
                }
            }
            prop_assert_eq!(case.rework_count, reworks);
            prop_assert_eq!(case.return_count, returns);
            prop_assert_eq!(case.postpone_count, postpones);
        }
    }
}

/// A complete, valid input makes every allowed action succeed.
#[test]
fn every_allowed_action_succeeds_with_complete_input() {
    let cal = calendar();
    let cfg = WorkflowConfig::default();
    let actors = actors();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let ctx = Context {
        now,
        calendar: &cal,
        config: &cfg,
        handle_limit: Some(TimeLimit {
            value: 2,
            unit: LimitUnit::WorkDay,
        }),
        master: None,
        suggested_department: None,
    };
    let (mut case, _, _) = report(
        NewReport {
            source: CaseSource::Inspector,
            category_kind: Some(CategoryKind::Matter),
            category_code: Some("06001".into()),
            urgency: Urgency::Normal,
            description: "暴露垃圾".into(),
            location: CaseLocation {
                lng: 114.4,
                lat: 23.1,
                grid_code: Some("441302001001001".into()),
                community_code: None,
                street_code: None,
                district_code: None,
                address: None,
            },
            component_id: None,
            contact: None,
            attachments: vec![],
            suggested_department_id: Some(10),
            duplicate_of: None,
        },
        &actors[3],
        &ctx,
    )
    .unwrap();
    case.id = 1;
    // Walk the main path and, at every state, try every allowed action of every actor.
    let path = [
        (CaseAction::File, 1),
        (CaseAction::Dispatch, 2),
        (CaseAction::Sign, 4),
        (CaseAction::Handle, 4),
        (CaseAction::SendCheck, 0),
        (CaseAction::CheckPass, 3),
        (CaseAction::Close, 1),
    ];
    let full = ActionInput {
        comment: Some("c".into()),
        reason: Some("r".into()),
        category_kind: Some(CategoryKind::Matter),
        category_code: Some("06001".into()),
        filing_seq: Some(0),
        urgency: Some(Urgency::Normal),
        department_id: Some(10),
        assignee_id: Some(4),
        attachments: vec![1],
        until: Some(now + Duration::days(30)),
        score: Some(5),
        confirmed: Some(true),
        master_case_id: None,
    };
    for (next, who) in path {
        for actor in &actors {
            for a in allowed_actions(&case, actor, now, &cfg) {
                if a == CaseAction::Merge {
                    continue; // needs a master case in the context
                }
                let r = apply(&case, a, actor, &full, &ctx);
                assert!(
                    r.is_ok(),
                    "{a} by {:?} in {:?}: {r:?}",
                    actor.roles,
                    case.status
                );
            }
        }
        case = apply(&case, next, &actors[who], &full, &ctx)
            .unwrap_or_else(|e| panic!("{next}: {e}"))
            .case;
    }
    assert_eq!(case.status, CaseStatus::Closed);
    let rated = apply(&case, CaseAction::Rate, &actors[8], &full, &ctx).unwrap();
    assert_eq!(rated.case.rating, Some(5));
    let again = apply(&rated.case, CaseAction::Rate, &actors[8], &full, &ctx);
    assert!(matches!(again, Err(CaseError::InvalidTransition { .. })));
}

/// Texts longer than their field allows are refused by the machine itself (every entry point
/// goes through it): a report's description, address and contact, an action's comment and
/// reason — counted in characters.
#[test]
fn texts_over_their_limits_are_refused() {
    let cal = calendar();
    let cfg = WorkflowConfig::default();
    let actors = actors();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let ctx = Context {
        now,
        calendar: &cal,
        config: &cfg,
        handle_limit: None,
        master: None,
        suggested_department: None,
    };
    let rep = |description: String, address: Option<String>, contact: Option<String>| NewReport {
        source: CaseSource::Citizen,
        category_kind: None,
        category_code: None,
        urgency: Urgency::Normal,
        description,
        location: CaseLocation {
            lng: 114.4,
            lat: 23.1,
            grid_code: None,
            community_code: None,
            street_code: None,
            district_code: None,
            address,
        },
        component_id: None,
        contact,
        attachments: vec![],
        suggested_department_id: None,
        duplicate_of: None,
    };
    let too_long = |r: Result<_, CaseError>| match r {
        Err(CaseError::TooLong(t)) => t.field,
        other => panic!("expected too_long, got {other:?}"),
    };
    let citizen = &actors[7];
    assert_eq!(
        too_long(report(rep("井".repeat(2_001), None, None), citizen, &ctx).map(|_| ())),
        "description"
    );
    assert_eq!(
        too_long(
            report(
                rep("井盖".into(), Some("路".repeat(201)), None),
                citizen,
                &ctx
            )
            .map(|_| ())
        ),
        "address"
    );
    assert_eq!(
        too_long(
            report(
                rep("井盖".into(), None, Some("王".repeat(129))),
                citizen,
                &ctx
            )
            .map(|_| ())
        ),
        "contact"
    );
    let (case, _, _) = report(
        rep(
            "井".repeat(2_000),
            Some("路".repeat(200)),
            Some("王".repeat(128)),
        ),
        citizen,
        &ctx,
    )
    .expect("at the limits");
    let input = ActionInput {
        comment: Some("请".repeat(1_001)),
        ..ActionInput::default()
    };
    assert_eq!(
        too_long(apply(&case, CaseAction::Supervise, &actors[1], &input, &ctx).map(|_| ())),
        "comment"
    );
    // A role that may not act learns that first, whatever it sent.
    assert!(matches!(
        apply(&case, CaseAction::Supervise, &actors[4], &input, &ctx),
        Err(CaseError::Forbidden { .. })
    ));
}
