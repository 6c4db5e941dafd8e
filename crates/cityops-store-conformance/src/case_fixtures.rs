//! Fixtures of the case workflow stories: a [`World`] over the fixture city (users, departments,
//! a working calendar, the default workflow configuration) that builds realistic cases by driving
//! the domain's own transitions (`case::report`, `case::apply`) at fixed instants, and stores them
//! through the store under test.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_domain::case::{
    self, ActionInput, Actor, CaseAction, CaseLocation, CaseSource, Context, NewReport, Transition,
    Urgency, WorkflowConfig,
};
use cityops_domain::{CategoryKind, WorkingCalendar};
use cityops_store::{
    Case, CaseHistory, CaseVisibility, NewAttachment, NewCaseEvent, NewNotification, Role, Store,
    User,
};

use crate::fixtures::{self, new_user};

/// Monday 2 March 2026, 09:00 in Asia/Shanghai (01:00 UTC): inside the morning working period.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
        .single()
        .expect("valid instant")
}

/// `t0()` plus minutes.
pub fn at_min(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// The local (Asia/Shanghai, UTC+8) date of an instant: what a case code is numbered by.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

/// The expected code of the `seq`-th case of a local date.
pub fn code_of(day: NaiveDate, seq: u32) -> String {
    format!("{}{:05}", day.format("%Y%m%d"), seq)
}

/// Runs futures concurrently on the current task and returns their outputs in order (a minimal
/// `join_all`, so that stories can borrow the store).
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// A location in a unit grid (15 digits), a community (12), a street (9) or a district (6): the
/// coarser codes are the prefixes of the given one.
pub fn location(region: &str, lng: f64, lat: f64, address: &str) -> CaseLocation {
    let part = |n: usize| (region.len() >= n).then(|| region[..n].to_string());
    CaseLocation {
        lng,
        lat,
        grid_code: part(15),
        community_code: part(12),
        street_code: part(9),
        district_code: part(6),
        address: Some(address.to_string()).filter(|a| !a.is_empty()),
    }
}

/// A location outside every region of the fixture city (nothing located).
pub fn unlocated(lng: f64, lat: f64) -> CaseLocation {
    CaseLocation {
        lng,
        lat,
        grid_code: None,
        community_code: None,
        street_code: None,
        district_code: None,
        address: None,
    }
}

/// A report of a matter category (`None` = citizen without category).
pub fn new_report(
    source: CaseSource,
    category: Option<&str>,
    location: CaseLocation,
    description: &str,
) -> NewReport {
    NewReport {
        source,
        category_kind: category.map(|_| CategoryKind::Matter),
        category_code: category.map(str::to_string),
        urgency: Urgency::Normal,
        description: description.to_string(),
        location,
        component_id: None,
        contact: None,
        attachments: Vec::new(),
        suggested_department_id: None,
        duplicate_of: None,
    }
}

/// The fixture city with case users, ready to report and act.
pub struct World {
    pub calendar: WorkingCalendar,
    pub config: WorkflowConfig,
    users: HashMap<String, User>,
    departments: HashMap<String, i64>,
}

/// Users of the case stories besides those of [`fixtures::users`]: two citizens, a second
/// inspector in the other district and a handler of the sanitation department.
fn case_users() -> Vec<cityops_store::NewUser> {
    vec![
        new_user("citizen1", &[Role::Citizen], None, None, &[]),
        new_user("citizen2", &[Role::Citizen], None, None, &[]),
        new_user(
            "inspector2",
            &[Role::Inspector],
            Some("441303001"),
            None,
            &[],
        ),
        new_user(
            "handler2",
            &[Role::Handler],
            Some("441303"),
            Some("441303-sanitation"),
            &[],
        ),
    ]
}

impl World {
    /// Imports the fixture batch plus the case users into an empty store.
    pub async fn new(store: &dyn Store) -> Self {
        let mut batch = fixtures::batch();
        batch.users.extend(case_users());
        store
            .apply_import(&batch)
            .await
            .expect("importing the fixture batch");
        let mut users = HashMap::new();
        for u in &batch.users {
            let user = store
                .credentials(&u.username)
                .await
                .expect("credentials")
                .expect("fixture user exists")
                .user;
            users.insert(u.username.clone(), user);
        }
        let mut departments = HashMap::new();
        for d in &batch.departments {
            let dept = store
                .get_department_by_code(&d.code)
                .await
                .expect("get_department_by_code")
                .expect("fixture department exists");
            departments.insert(d.code.clone(), dept.id);
        }
        Self {
            calendar: WorkingCalendar::china_default(Vec::new()),
            config: WorkflowConfig::default(),
            users,
            departments,
        }
    }

    pub fn user(&self, username: &str) -> &User {
        self.users
            .get(username)
            .unwrap_or_else(|| panic!("no fixture user {username}"))
    }

    pub fn uid(&self, username: &str) -> i64 {
        self.user(username).id
    }

    pub fn actor(&self, username: &str) -> Actor {
        Actor::user(self.user(username))
    }

    /// A department id by code.
    pub fn dept(&self, code: &str) -> i64 {
        *self
            .departments
            .get(code)
            .unwrap_or_else(|| panic!("no fixture department {code}"))
    }

    /// What a fixture user may see.
    pub fn vis(&self, username: &str) -> CaseVisibility {
        CaseVisibility::for_user(self.user(username))
    }

    pub fn ctx<'a>(&'a self, now: DateTime<Utc>, master: Option<&'a Case>) -> Context<'a> {
        Context {
            now,
            calendar: &self.calendar,
            config: &self.config,
            handle_limit: None,
            master,
            suggested_department: None,
        }
    }

    /// The domain's report as `who`, not yet stored.
    pub fn report(
        &self,
        who: &str,
        report: NewReport,
        now: DateTime<Utc>,
    ) -> (Case, NewCaseEvent, Vec<NewNotification>) {
        case::report(report, &self.actor(who), &self.ctx(now, None)).expect("a valid report")
    }

    /// Reports as `who` at `now` and stores the case (numbered by the local date of `now`).
    pub async fn create(
        &self,
        store: &dyn Store,
        who: &str,
        report: NewReport,
        now: DateTime<Utc>,
    ) -> Case {
        let (case, event, notify) = self.report(who, report, now);
        store
            .create_case(&case, local_date(now), &event, &notify)
            .await
            .expect("create_case")
    }

    /// The domain's transition, not yet stored.
    pub fn transition(
        &self,
        case: &Case,
        who: &str,
        action: CaseAction,
        input: &ActionInput,
        now: DateTime<Utc>,
        master: Option<&Case>,
    ) -> Transition {
        let actor = if who == "system" {
            Actor::system()
        } else {
            self.actor(who)
        };
        case::apply(case, action, &actor, input, &self.ctx(now, master))
            .unwrap_or_else(|e| panic!("{action} by {who} on case {}: {e}", case.code))
    }

    /// Takes an action as `who` at `now` and stores it; returns the stored case.
    pub async fn act(
        &self,
        store: &dyn Store,
        case: &Case,
        who: &str,
        action: CaseAction,
        input: ActionInput,
        now: DateTime<Utc>,
    ) -> Case {
        let t = self.transition(case, who, action, &input, now, None);
        store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .unwrap_or_else(|e| panic!("save_transition {action} on {}: {e}", case.code))
    }

    /// Merges `case` into `master` as the intake operator; returns the stored duplicate.
    pub async fn merge(
        &self,
        store: &dyn Store,
        case: &Case,
        master: &Case,
        now: DateTime<Utc>,
    ) -> Case {
        let input = ActionInput {
            master_case_id: Some(master.id),
            ..ActionInput::default()
        };
        let t = self.transition(case, "duty1", CaseAction::Merge, &input, now, Some(master));
        store
            .save_transition(&t.case, &t.event, &t.notify, t.follow)
            .await
            .expect("save_transition merge")
    }

    /// Files (as the supervisor) with a category.
    pub async fn file(
        &self,
        store: &dyn Store,
        case: &Case,
        category: &str,
        now: DateTime<Utc>,
    ) -> Case {
        let input = ActionInput {
            category_kind: Some(CategoryKind::Matter),
            category_code: Some(category.to_string()),
            ..ActionInput::default()
        };
        self.act(store, case, "duty1", CaseAction::File, input, now)
            .await
    }

    /// Dispatches (as the dispatcher) to a department.
    pub async fn dispatch(
        &self,
        store: &dyn Store,
        case: &Case,
        department: i64,
        now: DateTime<Utc>,
    ) -> Case {
        let input = ActionInput {
            department_id: Some(department),
            ..ActionInput::default()
        };
        self.act(store, case, "dispatcher1", CaseAction::Dispatch, input, now)
            .await
    }

    /// Takes a case from `reported` through the whole loop to `closed`, as the fixture users of
    /// the municipal department; `photos` are the after-photos of the handling.
    pub async fn close_loop(
        &self,
        store: &dyn Store,
        case: &Case,
        category: &str,
        photos: Vec<i64>,
        start: DateTime<Utc>,
    ) -> Case {
        let step = |m: i64| start + Duration::minutes(m);
        let c = self.file(store, case, category, step(1)).await;
        let c = self
            .dispatch(store, &c, self.dept("441300-municipal"), step(2))
            .await;
        let c = self
            .act(
                store,
                &c,
                "handler1",
                CaseAction::Sign,
                ActionInput::default(),
                step(3),
            )
            .await;
        let c = self
            .act(
                store,
                &c,
                "handler1",
                CaseAction::Handle,
                ActionInput {
                    attachments: photos,
                    comment: Some("已处置".into()),
                    ..ActionInput::default()
                },
                step(4),
            )
            .await;
        let c = self
            .act(
                store,
                &c,
                "duty1",
                CaseAction::SendCheck,
                ActionInput {
                    assignee_id: Some(self.uid("inspector1")),
                    ..ActionInput::default()
                },
                step(5),
            )
            .await;
        let c = self
            .act(
                store,
                &c,
                "inspector1",
                CaseAction::CheckPass,
                ActionInput::default(),
                step(6),
            )
            .await;
        self.act(
            store,
            &c,
            "duty1",
            CaseAction::Close,
            ActionInput::default(),
            step(7),
        )
        .await
    }
}

/// A photo record uploaded by `user`.
pub fn attachment(n: u32, user: i64, at: DateTime<Utc>) -> NewAttachment {
    NewAttachment {
        sha256: format!("{n:064x}"),
        mime: "image/jpeg".into(),
        bytes: 1000 + i64::from(n),
        width: 640,
        height: 480,
        thumb_sha256: format!("{:064x}", u64::from(n) + 1_000_000),
        uploaded_by: user,
        created_at: at,
        file_name: Some(format!("photo-{n}.jpg")),
    }
}

/// Generated history as the demo generator writes it: `n` cases reported over several days by the
/// fixture users, each driven by the domain through part or all of the loop (closed, filed,
/// dispatched, cancelled, still reported), with ids `1..=n`, daily codes, versions counted per
/// stored transition, all events in chain (time) order, their notifications and the reporters as
/// followers.
pub fn history(world: &World, n: usize) -> CaseHistory {
    let mut out = CaseHistory::default();
    let mut timed: Vec<(DateTime<Utc>, usize, NewCaseEvent)> = Vec::new();
    let mut per_day: HashMap<NaiveDate, u32> = HashMap::new();
    for i in 0..n {
        let id = i as i64 + 1;
        // Three days, one report every 7 minutes of the working morning.
        let day = (i % 3) as i64;
        let reported = t0() + Duration::days(day) + Duration::minutes(7 * (i / 3) as i64);
        let (grid, lng) = if i % 2 == 0 {
            ("441302001001001", 114.405)
        } else {
            ("441302001001002", 114.415)
        };
        let who = if i % 4 == 0 { "citizen1" } else { "inspector1" };
        let source = if who == "citizen1" {
            CaseSource::Citizen
        } else {
            CaseSource::Inspector
        };
        let report = new_report(
            source,
            None,
            location(grid, lng, 23.055 + 0.0001 * i as f64, "历史地址"),
            &format!("历史案件 {i}"),
        );
        let (mut case, mut event, mut notify) = world.report(who, report, reported);
        let date = local_date(reported);
        let seq = per_day.entry(date).or_insert(0);
        *seq += 1;
        case.id = id;
        case.code = code_of(date, *seq);
        case.version = 1;
        event.case_id = id;
        for n in &mut notify {
            n.case_id = id;
        }
        timed.push((reported, i, event));
        out.notifications.extend(notify);
        if let Some(r) = case.reporter_id {
            out.followers.push((r, id));
        }
        let steps: &[(CaseAction, &str)] = match i % 5 {
            0 => &[
                (CaseAction::File, "duty1"),
                (CaseAction::Dispatch, "dispatcher1"),
                (CaseAction::Sign, "handler1"),
                (CaseAction::Handle, "handler1"),
                (CaseAction::SendCheck, "duty1"),
                (CaseAction::CheckPass, "inspector1"),
                (CaseAction::Close, "duty1"),
            ],
            1 => &[
                (CaseAction::File, "duty1"),
                (CaseAction::Dispatch, "dispatcher1"),
            ],
            2 => &[(CaseAction::Reject, "duty1")],
            3 => &[(CaseAction::File, "duty1")],
            _ => &[],
        };
        for (k, (action, who)) in steps.iter().enumerate() {
            let now = reported + Duration::minutes(2 * (k as i64 + 1)) + Duration::microseconds(7);
            let input = ActionInput {
                category_kind: Some(CategoryKind::Matter),
                category_code: Some("01001".into()),
                department_id: Some(world.dept("441300-municipal")),
                assignee_id: Some(world.uid("inspector1")),
                // After-photos of the handling: symbolic ids (history writes no attachment rows).
                attachments: if *action == CaseAction::Handle {
                    vec![1_000_000 + id]
                } else {
                    Vec::new()
                },
                reason: Some("不属于受理范围".into()),
                comment: Some(format!("{} 备注", action.name_zh())),
                ..ActionInput::default()
            };
            let t = world.transition(&case, who, *action, &input, now, None);
            case = t.case;
            case.version += 1;
            out.notifications.extend(t.notify);
            timed.push((now, i, t.event));
        }
        out.cases.push(case);
    }
    // Chain order is time order (ties by case, then emission order: the sort is stable).
    timed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    out.events = timed.into_iter().map(|(_, _, e)| e).collect();
    out
}
