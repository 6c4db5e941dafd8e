use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

const NOW: i64 = 1_000_000;

fn case(id: i64) -> EvalCase {
    EvalCase {
        id,
        code: format!("2026010100{id:03}"),
        created_at: 0,
        source: CaseSource::Inspector,
        status: CaseStatus::Reported,
        category_code: Some("01001".into()),
        grid_code: Some("441302001001001".into()),
        community_code: Some("441302001001".into()),
        street_code: Some("441302001".into()),
        district_code: Some("441302".into()),
        department_id: None,
        reporter_id: Some(7),
        rec: EvalRecord::default(),
    }
}

fn env<'a>(
    grids: &'a HashMap<String, Vec<i64>>,
    reviews: &'a HashMap<i64, (u64, f64)>,
    cfg: &'a EvaluationConfig,
) -> Env<'a> {
    Env {
        as_of: NOW,
        level: RegionLevel::Street,
        inspectors_of_grid: grids,
        reviews,
        config: cfg,
    }
}

/// A department (id 5) with: one case closed on time, one closed late, one reworked and handled
/// on time, one overdue and not handled, one suspended (not counted as due), one handled late
/// still being checked, one cancelled after dispatch.
fn department_cases() -> Vec<EvalCase> {
    let dispatched = |id: i64, status: CaseStatus| {
        let mut c = case(id);
        c.status = status;
        c.department_id = Some(5);
        c.rec.fa = Some(10);
        c.rec.fb = Some(2);
        c.rec.fo = Some(true);
        c.rec.da = Some(20);
        c.rec.db = Some(3);
        c.rec.dok = Some(true);
        c.rec.dl = Some(500);
        c
    };
    let mut on_time = dispatched(1, CaseStatus::Closed);
    on_time.rec.ha = Some(400);
    on_time.rec.ho = Some(true);
    on_time.rec.rt = Some(5);
    let mut late = dispatched(2, CaseStatus::Closed);
    late.rec.ha = Some(600);
    late.rec.ho = Some(false);
    late.rec.rt = Some(2);
    let mut rework = dispatched(3, CaseStatus::Checking);
    rework.rec.rw = 1;
    rework.rec.ha = Some(450);
    rework.rec.ho = Some(true);
    let overdue = dispatched(4, CaseStatus::Handling);
    let mut suspended = dispatched(5, CaseStatus::Suspended);
    suspended.rec.sn = 1;
    let mut checking_late = dispatched(6, CaseStatus::Checking);
    checking_late.rec.ha = Some(700);
    checking_late.rec.ho = Some(false);
    checking_late.rec.pp = 2;
    let mut cancelled = dispatched(7, CaseStatus::Cancelled);
    cancelled.rec.k = Some(CancelKind::Cancel);
    cancelled.rec.kb = Some(2);
    let mut not_yet_due = dispatched(8, CaseStatus::Handling);
    not_yet_due.rec.dl = Some(NOW + 10);
    vec![
        on_time,
        late,
        rework,
        overdue,
        suspended,
        checking_late,
        cancelled,
        not_yet_due,
    ]
}

#[test]
fn department_figures_by_hand() {
    let cfg = EvaluationConfig::default();
    let (g, r) = (HashMap::new(), HashMap::new());
    let e = env(&g, &r, &cfg);
    let cases = department_cases();
    let rows = evaluate(Kind::Departments, &cases, &e, &[]);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.subject, Subject::Id(5));
    // filed, should_close, closed, closed_on_time, closed_late, handled, handled_on_time,
    // overdue_open, reworked, postponed, suspended, rated, satisfied
    assert_eq!(row.counts, vec![8, 5, 2, 1, 1, 4, 2, 1, 1, 1, 1, 2, 1]);
    // 立案数 8 → 100; 结案率 2/5 = 40 %; 按期处置率 2/5 = 40 %; 返工率 1/5 = 20 % → 80.
    assert_eq!(row.components[0].score, 100.0);
    assert_eq!(row.components[1].value, Some(40.0));
    assert_eq!(row.components[2].value, Some(40.0));
    assert_eq!(row.components[3].value, Some(20.0));
    assert_eq!(row.components[3].score, 80.0);
    // 100×10% + 40×30% + 40×30% + 80×30% = 10 + 12 + 12 + 24 = 58 → D
    assert_eq!(row.score, 58.0);
    assert_eq!(row.grade, Grade::D);
}

#[test]
fn department_review_and_satisfaction_enter_when_weighted() {
    let cfg = EvaluationConfig {
        department_weights: vec![10.0, 20.0, 20.0, 30.0, 10.0, 10.0],
        ..Default::default()
    };
    cfg.validate().unwrap();
    let g = HashMap::new();
    let reviews = HashMap::from([(5, (3, 4.0))]);
    let e = env(&g, &reviews, &cfg);
    let row = &evaluate(Kind::Departments, &department_cases(), &e, &[])[0];
    // satisfaction 1 of 2 rated = 50; review 4.0 → 80.
    assert_eq!(row.components[4].value, Some(50.0));
    assert_eq!(row.components[5].score, 80.0);
    // 10 + 40×.2 + 40×.2 + 80×.3 + 50×.1 + 80×.1 = 10 + 8 + 8 + 24 + 5 + 8 = 63
    assert_eq!(row.score, 63.0);
    assert_eq!(row.grade, Grade::C);
}

#[test]
fn people_figures_by_hand() {
    let cfg = EvaluationConfig::default();
    let grids = HashMap::from([("441302001001001".to_string(), vec![7])]);
    let r = HashMap::new();
    let e = env(&grids, &r, &cfg);
    let mut cases = department_cases();
    // A citizen report in inspector 7's grid, verified by 7 late, filed: a missed report.
    let mut citizen = case(20);
    citizen.source = CaseSource::Citizen;
    citizen.reporter_id = Some(99);
    citizen.status = CaseStatus::Filed;
    citizen.rec.vf = Some(true);
    citizen.rec.acc = Some(11);
    citizen.rec.vsb = Some(11);
    citizen.rec.vss = Some(40 * 60);
    citizen.rec.vb = Some(7);
    citizen.rec.vd = Some(100);
    citizen.rec.va = Some(150);
    citizen.rec.fa = Some(160);
    citizen.rec.fb = Some(2);
    citizen.rec.fo = Some(false);
    cases.push(citizen);
    // A rejected inspector report: not valid.
    let mut rejected = case(21);
    rejected.status = CaseStatus::Cancelled;
    rejected.rec.k = Some(CancelKind::Reject);
    rejected.rec.acc = Some(11);
    cases.push(rejected);

    let inspectors = evaluate(Kind::Inspectors, &cases, &e, &[]);
    let i7 = inspectors
        .iter()
        .find(|r| r.subject == Subject::Id(7))
        .unwrap();
    // reported 9 (8 dispatched + rejected), valid 8, missed 1, filed in grids 9,
    // verify tasks 1, verified on time 0, checks 0, 0
    assert_eq!(i7.counts, vec![9, 8, 1, 9, 1, 0, 0, 0]);
    // valid 8/9 = 88.89 ×.4 + (100 − 11.11) ×.2 + 0 ×.2 + 100 ×.2
    assert_eq!(i7.components[0].value, Some(88.89));
    assert_eq!(
        i7.score,
        round2(800.0 / 9.0 * 0.4 + (100.0 - 100.0 / 9.0) * 0.2 + 20.0)
    );

    let ops = evaluate(Kind::Operators, &cases, &e, &[]);
    assert_eq!(ops[0].subject, Subject::Id(11));
    // accepted 2, verify sent 1, on time 0 (40 min > 30), check sent 0
    assert_eq!(ops[0].counts, vec![2, 1, 0, 0, 0]);
    // 0 ×.25 + 0 ×.4 + 100 ×.35
    assert_eq!(ops[0].score, 35.0);

    let sup = evaluate(Kind::Supervisors, &cases, &e, &[]);
    // filed 9 (8 + citizen), on time 8, cancelled 1, accurate 8, closed 0
    assert_eq!(sup[0].counts, vec![9, 8, 1, 8, 0, 0]);

    let disp = evaluate(Kind::Dispatchers, &cases, &e, &[]);
    assert_eq!(disp[0].counts, vec![8, 8, 1, 7]);
    // 8 dispatched → 0 (< 101); on time 100; accurate 87.5 → 40 + 35
    assert_eq!(disp[0].score, 75.0);
    assert_eq!(disp[0].grade, Grade::B);

    let regions = evaluate(Kind::Regions, &cases, &e, &[]);
    assert_eq!(regions[0].subject, Subject::Code("441302001".into()));
    // filed 9, suspended 1, net 8, public verified 1, should close 5, closed 2, on time 1, overdue 1, reworked 1
    assert_eq!(regions[0].counts, vec![9, 1, 8, 1, 5, 2, 1, 1, 1]);
}

#[test]
fn ranks_share_equal_scores() {
    let cfg = EvaluationConfig::default();
    let (g, r) = (HashMap::new(), HashMap::new());
    let e = env(&g, &r, &cfg);
    let include = [Subject::Id(1), Subject::Id(2), Subject::Id(3)];
    let mut cases = department_cases();
    cases.truncate(1);
    cases[0].department_id = Some(3);
    let rows = evaluate(Kind::Departments, &cases, &e, &include);
    // Departments 1 and 2 have no cases: every rate scores 100; 3 closed its one case on time.
    assert_eq!(
        rows.iter().map(|r| r.rank).collect::<Vec<_>>(),
        vec![1, 1, 1]
    );
    assert!(rows.iter().all(|r| r.grade == Grade::A));
}

#[test]
fn city_index_weights_indicators() {
    let cases = department_cases();
    let districts = [
        CityIndexInput {
            district_code: "441302".into(),
            area_km2: 10.0,
            review_mean: Some(4.5),
        },
        CityIndexInput {
            district_code: "441303".into(),
            area_km2: 5.0,
            review_mean: None,
        },
    ];
    let cfg = CityIndexConfig::default();
    cfg.validate().unwrap();
    let rows = city_index(&cases, &districts, NOW, &cfg);
    let hc = rows.iter().find(|r| r.district_code == "441302").unwrap();
    assert_eq!((hc.should_close, hc.closed, hc.overdue_open), (5, 2, 1));
    // density 0.1 per km² → 90; satisfaction 50; review 90
    assert_eq!(hc.overdue_density, 90.0);
    let expect =
        (40.0 * 25.0 + 40.0 * 25.0 + 80.0 * 15.0 + 90.0 * 15.0 + 50.0 * 10.0 + 90.0 * 10.0) / 100.0;
    assert_eq!(hc.index, expect);
    let empty = rows.iter().find(|r| r.district_code == "441303").unwrap();
    assert_eq!(empty.index, 100.0);
    assert_eq!(empty.rank, 1);
}

fn arb_case() -> impl Strategy<Value = EvalCase> {
    let opt_t = || proptest::option::of(0i64..2000);
    let opt_id = || proptest::option::of(1i64..5);
    (
        (1i64..100_000, 0usize..6, 0usize..10, opt_id(), opt_id()),
        (opt_t(), opt_t(), opt_t(), opt_t(), opt_t(), opt_t()),
        (
            opt_id(),
            opt_id(),
            opt_id(),
            opt_id(),
            opt_id(),
            opt_id(),
            opt_id(),
        ),
        (
            0u32..3,
            0u32..2,
            proptest::option::of(1u8..6),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            0usize..3,
        ),
        (opt_t(), opt_t(), opt_t(), opt_t(), opt_t()),
    )
        .prop_map(
            |(
                (id, src, st, dept, rep),
                (dl, fa, da, ha, vd, va),
                (acc, vsb, vb, fb, db, cb, xb),
                (rw, sn, rt, ho, fo, grid),
                (cd, ca, vss, css, xa),
            )| {
                let mut c = case(id);
                c.source = CaseSource::ALL[src];
                c.status = CaseStatus::ALL[st];
                c.department_id = dept;
                c.reporter_id = rep;
                c.grid_code = Some(format!("44130200100100{grid}"));
                c.street_code = Some(format!("44130200{grid}"));
                c.rec = EvalRecord {
                    dl: dl.map(|x| x * 1000),
                    vf: fo,
                    rt,
                    rw,
                    sn,
                    acc,
                    vsb,
                    vss: vss.map(|x| x * 3),
                    vb,
                    vd,
                    va,
                    fa,
                    fb,
                    fo,
                    da,
                    db,
                    dok: ho,
                    ha,
                    ho,
                    csb: vsb,
                    css: css.map(|x| x * 3),
                    cb,
                    cd,
                    ca,
                    xa,
                    xb,
                    xo: fo,
                    k: if c.status == CaseStatus::Cancelled {
                        Some(CancelKind::Cancel)
                    } else {
                        None
                    },
                    ..Default::default()
                };
                c
            },
        )
}

proptest! {
    /// Every figure of every subject equals the size of its drill-down list.
    #[test]
    fn each_figure_equals_its_drill_down(
        cases in proptest::collection::vec(arb_case(), 0..40),
        level in 0usize..4,
    ) {
        let cfg = EvaluationConfig::default();
        let grids = HashMap::from([
            ("441302001001000".to_string(), vec![1, 2]),
            ("441302001001001".to_string(), vec![3]),
        ]);
        let r = HashMap::new();
        let mut e = env(&grids, &r, &cfg);
        e.level = [RegionLevel::Grid, RegionLevel::Community, RegionLevel::Street, RegionLevel::District][level];
        for kind in Kind::ALL {
            for (subject, counts) in tally(*kind, &cases, &e, &[]) {
                for (i, count) in counts.iter().enumerate() {
                    let ids = matching(*kind, i, &subject, &cases, &e);
                    prop_assert_eq!(ids.len() as u64, *count, "{} {} {}", kind, subject, kind.figures()[i].key);
                }
            }
        }
    }

    /// Scores stay within 0–100 and grades follow the thresholds.
    #[test]
    fn scores_are_bounded(cases in proptest::collection::vec(arb_case(), 0..40)) {
        let cfg = EvaluationConfig::default();
        let (g, r) = (HashMap::new(), HashMap::new());
        let e = env(&g, &r, &cfg);
        for kind in Kind::ALL {
            for row in evaluate(*kind, &cases, &e, &[]) {
                prop_assert!((0.0..=100.0).contains(&row.score), "{} {}", kind, row.score);
                prop_assert_eq!(row.grade, Grade::of(row.score, &cfg.grades));
            }
        }
    }
}
