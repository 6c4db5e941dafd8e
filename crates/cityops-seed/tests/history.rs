//! The demo history on the embedded Huizhou demo: determinism, consistency of every case with its
//! events, the mix of sources and outcomes, and the responsibility matrix.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::calendar::{WorkingCalendar, parse_calendar_csv};
use cityops_domain::case::assign::pick_inspector;
use cityops_domain::case::routing::{RoutingMatrix, RoutingRule};
use cityops_domain::case::{Case, CaseLocation, CaseSource, CaseStatus, WorkflowConfig};
use cityops_domain::{
    Category, CategoryKind, Department, DepartmentKind, FilingStandard, Region, RegionLevel, Scope,
    User,
};
use cityops_geo::RegionIndex;
use cityops_seed::DemoCity;
use cityops_seed::demo::{DemoOptions, build_demo};
use cityops_seed::history::{
    HistoryInput, HistoryOptions, HistoryStats, build_history, build_history_with_stats,
    demo_routing_rules, demo_workflow_config,
};
use cityops_seed::reference;
use cityops_store::CaseHistory;

/// The Huizhou demo as the store would hand it back: departments and users with ids.
struct Demo {
    index: RegionIndex,
    departments: Vec<Department>,
    users: Vec<User>,
    categories: Vec<Category>,
    standards: Vec<FilingStandard>,
    calendar: WorkingCalendar,
    config: WorkflowConfig,
    rules: Vec<RoutingRule>,
    districts: Vec<String>,
    photos: Vec<i64>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let opts = DemoOptions {
            components: 0,
            ..DemoOptions::for_city(DemoCity::Huizhou)
        };
        let batch = build_demo(&opts, "not-a-real-hash").expect("demo city");
        let level = |l: RegionLevel| -> Vec<Region> {
            batch
                .regions
                .iter()
                .filter(|r| r.level == l && r.geometry.is_some())
                .cloned()
                .collect()
        };
        let index = RegionIndex::build(
            &level(RegionLevel::District),
            &level(RegionLevel::Street),
            &level(RegionLevel::Community),
            &level(RegionLevel::Grid),
        )
        .expect("index");
        let dept_ids: HashMap<&str, i64> = batch
            .departments
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.as_str(), i as i64 + 1))
            .collect();
        let departments: Vec<Department> = batch
            .departments
            .iter()
            .enumerate()
            .map(|(i, d)| Department {
                id: i as i64 + 1,
                code: d.code.clone(),
                name: d.name.clone(),
                kind: d.kind,
                region_code: d.region_code.clone(),
                parent_id: d
                    .parent_code
                    .as_deref()
                    .and_then(|p| dept_ids.get(p).copied()),
            })
            .collect();
        let users: Vec<User> = batch
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| User {
                id: 1000 + i as i64,
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                roles: u.roles.clone(),
                scope: Scope {
                    region_code: u.region_code.clone(),
                    department_id: u
                        .department_code
                        .as_deref()
                        .and_then(|c| dept_ids.get(c).copied()),
                },
                active: true,
                grids: u.grids.clone(),
            })
            .collect();
        let calendar = WorkingCalendar::china_default(
            parse_calendar_csv(reference::holidays_csv()).expect("holidays"),
        );
        let rules = demo_routing_rules(&departments, &batch.categories);
        let districts = batch
            .regions
            .iter()
            .filter(|r| r.level == RegionLevel::District)
            .map(|r| r.code.clone())
            .collect();
        Demo {
            index,
            departments,
            users,
            categories: batch.categories.clone(),
            standards: batch.filing_standards.clone(),
            calendar,
            config: demo_workflow_config(),
            rules,
            districts,
            photos: (1..=20).collect(),
        }
    })
}

fn input(d: &Demo) -> HistoryInput<'_> {
    HistoryInput {
        city: DemoCity::Huizhou,
        index: &d.index,
        departments: &d.departments,
        users: &d.users,
        filing_standards: &d.standards,
        calendar: &d.calendar,
        config: &d.config,
        rules: &d.rules,
        photo_ids: &d.photos,
    }
}

/// 2026-06-30 10:30 Asia/Shanghai: inside the years the holiday schedule covers.
fn end() -> DateTime<Utc> {
    chrono_tz_shanghai()
        .with_ymd_and_hms(2026, 6, 30, 10, 30, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn chrono_tz_shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

fn opts(seed: u64, days: u32, per_day: u32) -> HistoryOptions {
    HistoryOptions {
        seed,
        days,
        cases_per_day: per_day,
        end: end(),
    }
}

fn same(a: &CaseHistory, b: &CaseHistory) -> bool {
    a.cases == b.cases
        && a.events == b.events
        && a.notifications == b.notifications
        && a.followers == b.followers
}

/// Whether the state machine moves a case from `from` to `to` by `action` (PRODUCT.md §3).
fn legal(action: &str, from: Option<CaseStatus>, to: CaseStatus) -> bool {
    use CaseStatus as S;
    let Some(from) = from else {
        return action == "report" && to == S::Reported;
    };
    match action {
        "send_verify" => (from, to) == (S::Reported, S::Verifying),
        "verify" => from == S::Verifying && matches!(to, S::Reported | S::Cancelled),
        "file" => (from, to) == (S::Reported, S::Filed),
        "reject" | "merge" => matches!(from, S::Reported | S::Verifying) && to == S::Cancelled,
        "dispatch" => (from, to) == (S::Filed, S::Dispatched),
        "return" => {
            (from, to) == (S::Filed, S::Reported)
                || (matches!(from, S::Dispatched | S::Handling) && to == S::Filed)
        }
        "sign" => (from, to) == (S::Dispatched, S::Handling),
        "handle" => (from, to) == (S::Handling, S::Handled),
        "request_postpone" | "approve_postpone" | "deny_postpone" | "request_suspend" => {
            (from, to) == (S::Handling, S::Handling)
        }
        "approve_suspend" => (from, to) == (S::Handling, S::Suspended),
        "resume" => (from, to) == (S::Suspended, S::Handling),
        "send_check" => (from, to) == (S::Handled, S::Checking),
        "check_pass" => (from, to) == (S::Checking, S::Checking),
        "check_fail" => (from, to) == (S::Checking, S::Handling),
        "close" => (from, to) == (S::Checking, S::Closed),
        "cancel" => from.is_open() && to == S::Cancelled,
        "supervise" | "light_yellow" | "overdue" => from.is_open() && from == to,
        "rate" => (from, to) == (S::Closed, S::Closed),
        _ => false,
    }
}

/// Every structural promise of a history, checked case by case.
fn check_consistency(h: &CaseHistory, stats: &HistoryStats, d: &Demo, o: &HistoryOptions) {
    assert_eq!(stats.refused, 0, "refused: {:?}", stats.first_refusal);
    assert!(!h.cases.is_empty());
    // ids 1..=N in report order; codes unique, YYYYMMDD of the local report day + 5 digits,
    // numbered in report order within the day.
    let tz = chrono_tz_shanghai();
    let mut last_seq: BTreeMap<String, u32> = BTreeMap::new();
    let mut codes = BTreeSet::new();
    for (i, c) in h.cases.iter().enumerate() {
        assert_eq!(c.id, i as i64 + 1);
        assert_eq!(c.code.len(), 13, "{}", c.code);
        assert!(c.code.bytes().all(|b| b.is_ascii_digit()), "{}", c.code);
        let day = c.created_at.with_timezone(&tz).format("%Y%m%d").to_string();
        assert_eq!(&c.code[..8], day, "{}", c.code);
        let seq: u32 = c.code[8..].parse().unwrap();
        let prev = last_seq.insert(day, seq).unwrap_or(0);
        assert_eq!(seq, prev + 1, "{}", c.code);
        assert!(codes.insert(c.code.clone()));
        if i > 0 {
            assert!(h.cases[i - 1].created_at <= c.created_at);
        }
        assert!(c.created_at <= o.end);
        assert!(c.location.grid_code.is_some(), "located in a grid");
    }
    // Events: chain order = non-decreasing time; per case a valid walk of the machine.
    for w in h.events.windows(2) {
        assert!(
            (w[0].at, w[0].case_id) <= (w[1].at, w[1].case_id),
            "chain order"
        );
    }
    let mut by_case: HashMap<i64, Vec<&cityops_domain::case::NewCaseEvent>> = HashMap::new();
    for e in &h.events {
        assert!(e.at <= o.end, "nothing after the end");
        by_case.entry(e.case_id).or_default().push(e);
    }
    assert_eq!(
        by_case.len(),
        h.cases.len(),
        "every event belongs to a case"
    );
    let photos: BTreeSet<i64> = d.photos.iter().copied().collect();
    for c in &h.cases {
        let evs = &by_case[&c.id];
        assert_eq!(c.version, evs.len() as i64, "case {} version", c.code);
        assert_eq!(evs[0].action, "report");
        assert_eq!(evs[0].from_status, None);
        assert_eq!(evs[0].at, c.created_at);
        for w in evs.windows(2) {
            assert_eq!(
                w[1].from_status,
                Some(w[0].to_status),
                "case {}: {} after {}",
                c.code,
                w[1].action,
                w[0].action
            );
        }
        for e in evs {
            let from = e.from_status;
            assert!(
                legal(&e.action, from, e.to_status),
                "case {}: {} from {from:?} to {}",
                c.code,
                e.action,
                e.to_status
            );
        }
        let last = evs.last().unwrap();
        assert_eq!(last.to_status, c.status, "case {}", c.code);
        // Verify and check are done by whom the case service's rule names, here always the
        // inspector of the case's grid (every gridded community has one).
        let reporter = c
            .reporter_id
            .and_then(|r| d.users.iter().find(|u| u.id == r));
        let assignee = pick_inspector(&c.location, reporter, &d.users);
        for e in evs {
            if matches!(e.action.as_str(), "verify" | "check_pass" | "check_fail") {
                assert!(assignee.is_some(), "case {}: nobody patrols it", c.code);
                assert_eq!(e.actor_id, assignee, "case {}: {}", c.code, e.action);
                let grid = c.location.grid_code.as_deref().unwrap();
                let by = d.users.iter().find(|u| Some(u.id) == e.actor_id).unwrap();
                assert!(by.grids.iter().any(|g| g == grid), "case {}", c.code);
            }
        }
        for e in evs {
            match e.action.as_str() {
                "light_yellow" | "overdue" => {
                    assert_eq!(e.actor_id, None);
                    assert_eq!(e.at.timestamp() % 30, 0, "watcher ticks");
                    assert_eq!(e.from_status, Some(e.to_status));
                }
                "handle" => {
                    assert!(!e.attachments.is_empty());
                    assert!(e.attachments.iter().all(|a| photos.contains(a)));
                }
                _ => {}
            }
        }
        if c.status == CaseStatus::Closed {
            assert!(c.closed_at.is_some() && c.close_kind.is_some());
        }
        if c.overdue {
            assert!(
                evs.iter().any(|e| e.action == "overdue")
                    || evs.iter().any(|e| e.actor_id.is_some()),
                "case {} overdue without an event",
                c.code
            );
        }
    }
    let ids: BTreeSet<i64> = h.cases.iter().map(|c| c.id).collect();
    let users: BTreeSet<i64> = d.users.iter().map(|u| u.id).collect();
    for n in &h.notifications {
        assert!(ids.contains(&n.case_id));
        assert!(n.created_at <= o.end);
    }
    for (u, c) in &h.followers {
        assert!(users.contains(u) && ids.contains(c));
    }
    for c in &h.cases {
        if let Some(r) = c.reporter_id {
            assert!(h.followers.binary_search(&(r, c.id)).is_ok());
        }
        if let Some(m) = c.merged_into {
            assert!(m < c.id);
            if let Some(r) = c.reporter_id {
                assert!(
                    h.followers.binary_search(&(r, m)).is_ok(),
                    "merged reporter follows"
                );
            }
        }
    }
}

#[test]
fn small_history_is_deterministic_and_consistent() {
    let d = demo();
    let o = opts(7, 30, 50);
    let (a, stats) = build_history_with_stats(&input(d), &o);
    check_consistency(&a, &stats, d, &o);
    let n = a.cases.len();
    assert!((1200..=1800).contains(&n), "{n} cases for 30 × 50");
    assert!(a.events.len() > 8 * n, "{} events", a.events.len());
    let b = build_history(&input(d), &o);
    assert!(same(&a, &b), "same seed, same history");
    let c = build_history(&input(d), &opts(8, 30, 50));
    assert!(!same(&a, &c), "another seed, another history");
    // Cases of the last day are still open at several stages.
    let recent: BTreeSet<CaseStatus> = a
        .cases
        .iter()
        .filter(|c| c.created_at > o.end - Duration::hours(30))
        .map(|c| c.status)
        .filter(|s| s.is_open())
        .collect();
    assert!(recent.len() >= 3, "open stages of the last day: {recent:?}");
}

#[test]
fn full_year_mix() {
    let d = demo();
    let o = opts(cityops_seed::demo::DEFAULT_SEED, 365, 200);
    let started = std::time::Instant::now();
    let (h, stats) = build_history_with_stats(&input(d), &o);
    eprintln!(
        "365 × 200: {} cases, {} events, {} notifications, {} followers in {:?}",
        stats.cases,
        stats.events,
        stats.notifications,
        stats.followers,
        started.elapsed()
    );
    check_consistency(&h, &stats, d, &o);
    let n = h.cases.len() as f64;
    assert!((65_000.0..=80_000.0).contains(&n), "{n}");

    // Sources.
    let share = |s: CaseSource| h.cases.iter().filter(|c| c.source == s).count() as f64 / n;
    for (s, lo, hi) in [
        (CaseSource::Inspector, 0.50, 0.60),
        (CaseSource::Citizen, 0.12, 0.18),
        (CaseSource::Hotline, 0.12, 0.18),
        (CaseSource::VideoAi, 0.06, 0.10),
        (CaseSource::Iot, 0.025, 0.055),
        (CaseSource::Leader, 0.015, 0.045),
    ] {
        let x = share(s);
        assert!((lo..=hi).contains(&x), "{s}: {x}");
    }
    // Categories: the common ones lead; both kinds occur.
    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &h.cases {
        if let Some(code) = &c.category_code {
            *by_cat.entry(code).or_default() += 1;
        }
    }
    let top = by_cat.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(*top.0, "06010", "暴露垃圾 is the most common");
    let components = h
        .cases
        .iter()
        .filter(|c| c.category_kind == Some(CategoryKind::Component))
        .count() as f64;
    assert!((0.2..0.4).contains(&(components / n)), "{}", components / n);

    // Outcomes of the cases older than a week.
    let old: Vec<&Case> = h
        .cases
        .iter()
        .filter(|c| c.created_at < o.end - Duration::days(7))
        .collect();
    let count = |f: &dyn Fn(&Case) -> bool| old.iter().filter(|c| f(c)).count() as f64;
    let m = old.len() as f64;
    let closed = count(&|c| c.status == CaseStatus::Closed) / m;
    let cancelled = count(&|c| c.status == CaseStatus::Cancelled) / m;
    let filed = count(&|c| c.category_code.is_some() && c.filing_seq.is_some());
    let closed_of_filed = count(&|c| c.status == CaseStatus::Closed) / filed;
    eprintln!(
        "older than 7 days: closed {closed:.4}, cancelled {cancelled:.4}, closed of filed {closed_of_filed:.4}"
    );
    assert!(closed >= 0.97, "closed {closed}");
    assert!((0.01..=0.03).contains(&cancelled), "cancelled {cancelled}");
    assert!(closed_of_filed >= 0.99, "结案率 {closed_of_filed}");

    let all = |f: &dyn Fn(&Case) -> bool| h.cases.iter().filter(|c| f(c)).count();
    let overdue = all(&|c| c.overdue) as f64 / n;
    let mut late_stages: BTreeMap<String, usize> = BTreeMap::new();
    for e in h.events.iter().filter(|e| e.action == "overdue") {
        *late_stages.entry(e.data["stage"].to_string()).or_default() += 1;
    }
    let urgent = all(&|c| c.urgency == cityops_domain::case::Urgency::Urgent);
    let urgent_late = all(&|c| c.overdue && c.urgency == cityops_domain::case::Urgency::Urgent);
    eprintln!(
        "overdue {overdue:.4}, overdue events by stage {late_stages:?}; urgent {urgent}, of which overdue {urgent_late}"
    );
    assert!((0.03..=0.08).contains(&overdue), "overdue {overdue}");
    let reworked = all(&|c| c.rework_count > 0) as f64 / n;
    assert!((0.015..=0.045).contains(&reworked), "rework {reworked}");
    let returned = all(&|c| c.return_count > 0) as f64 / n;
    assert!((0.01..=0.03).contains(&returned), "returned {returned}");
    let postponed = all(&|c| c.postpone_count > 0);
    let supervised = all(&|c| c.supervised);
    let merged = all(&|c| c.merged_into.is_some());
    let rated = all(&|c| c.rating.is_some());
    let still_suspended = all(&|c| c.status == CaseStatus::Suspended);
    let actions = |a: &str| h.events.iter().filter(|e| e.action == a).count();
    eprintln!(
        "postponed {postponed}, denied {}, suspended {}, still suspended {still_suspended}, supervised {supervised}, merged {merged}, rated {rated}, rejected {}, not confirmed {}",
        actions("deny_postpone"),
        actions("approve_suspend"),
        actions("reject"),
        h.events
            .iter()
            .filter(|e| e.action == "verify" && e.to_status == CaseStatus::Cancelled)
            .count(),
    );
    assert!(postponed > 0 && actions("deny_postpone") > 0);
    assert!(actions("approve_suspend") > 0 && actions("resume") > 0 && still_suspended > 0);
    assert!(supervised > 0 && merged > 0 && rated > 0);
    assert!(actions("light_yellow") > 0 && actions("overdue") > 0);
    assert!(actions("reject") > 0 && actions("cancel") > 0);
    // Direct filing and 一键直达 happen (system-made steps).
    assert!(
        h.events
            .iter()
            .any(|e| e.action == "file" && e.actor_id.is_none())
    );
    assert!(
        h.events
            .iter()
            .any(|e| e.action == "dispatch" && e.actor_id.is_none())
    );
    // Reports come in working hours mostly.
    let tz = chrono_tz_shanghai();
    let in_hours = h
        .cases
        .iter()
        .filter(|c| {
            let t = c.created_at.with_timezone(&tz).time();
            let h = chrono::Timelike::hour(&t);
            (8..12).contains(&h) || (14..18).contains(&h)
        })
        .count() as f64
        / n;
    assert!(in_hours > 0.7, "{in_hours}");
}

#[test]
fn every_category_is_routable_in_every_district() {
    let d = demo();
    let rules = &d.rules;
    let mut keys = BTreeSet::new();
    for r in rules {
        r.validate().unwrap();
        assert!(
            keys.insert((
                r.category_kind,
                r.category_code.clone(),
                r.region_code.clone()
            )),
            "duplicate rule {r:?}"
        );
        assert!(d.departments.iter().any(|x| x.id == r.department_id));
    }
    let matrix = RoutingMatrix::new(rules.clone());
    let dept = |id: i64| d.departments.iter().find(|x| x.id == id).unwrap();
    for district in &d.districts {
        let loc = CaseLocation {
            lng: 0.0,
            lat: 0.0,
            grid_code: None,
            community_code: None,
            street_code: None,
            district_code: Some(district.clone()),
            address: None,
        };
        for c in &d.categories {
            let r = matrix
                .route(c.kind, &c.code, &loc, None)
                .unwrap_or_else(|| panic!("{:?} {} in {district}", c.kind, c.code));
            assert_ne!(dept(r.department_id).kind, DepartmentKind::CommandCentre);
        }
        // 暴露垃圾 goes to the district's 环卫所, 占道经营 to its 城管执法大队.
        let litter = matrix
            .route(CategoryKind::Matter, "06010", &loc, None)
            .unwrap();
        assert_eq!(
            dept(litter.department_id).code,
            format!("{district}-sanitation")
        );
        let stalls = matrix
            .route(CategoryKind::Matter, "09006", &loc, None)
            .unwrap();
        assert_eq!(
            dept(stalls.department_id).code,
            format!("{district}-enforcement")
        );
    }
    // Gas covers: 一键直达 to the gas company.
    let loc = CaseLocation {
        lng: 0.0,
        lat: 0.0,
        grid_code: None,
        community_code: None,
        street_code: Some("441302001".into()),
        district_code: Some("441302".into()),
        address: None,
    };
    let gas = matrix
        .route(CategoryKind::Component, "01011", &loc, None)
        .unwrap();
    assert!(gas.auto_dispatch);
    assert_eq!(dept(gas.department_id).kind, DepartmentKind::Gas);
    // 乱堆杂物 in a street goes to its street office.
    let clutter = matrix
        .route(CategoryKind::Matter, "06036", &loc, None)
        .unwrap();
    assert_eq!(dept(clutter.department_id).code, "441302001-street");
    assert!(!rules.is_empty() && rules.len() < 3000, "{}", rules.len());
}

#[test]
fn workflow_config_files_common_matters_directly() {
    let c = demo_workflow_config();
    assert!(c.direct_file_categories.iter().any(|x| x == "06010"));
    assert_eq!(c.file_limit, WorkflowConfig::default().file_limit);
}

#[test]
fn no_photos_means_no_handling() {
    // `handle` needs after-photos: without any the generator stops at handling and says so.
    let d = demo();
    let mut i = input(d);
    i.photo_ids = &[];
    let (h, stats) = build_history_with_stats(&i, &opts(3, 3, 20));
    assert!(stats.refused > 0);
    assert!(stats.first_refusal.unwrap().contains("handle"));
    assert!(h.cases.iter().all(|c| c.status != CaseStatus::Closed));
}
