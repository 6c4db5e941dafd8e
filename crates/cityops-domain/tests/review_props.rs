//! Property tests of the third-party review sample (第三方评价抽样): the same period, department,
//! salt and candidates give the same cases whatever the order (or repetitions) of the
//! candidates; the sample has `min(n, max(k, ⌈share·n⌉))` distinct cases, all of them
//! candidates; a larger sample size only adds cases after those a smaller one drew.
use chrono::{Duration, TimeZone, Utc};
use cityops_domain::review::{ReviewConfig, ReviewPeriod, draw_sample};
use proptest::prelude::*;

fn config() -> impl Strategy<Value = ReviewConfig> {
    (1u32..=20, 0u32..=100, "[a-z惠州厦门]{0,8}").prop_map(|(k, share, salt)| ReviewConfig {
        sample_size: k,
        min_share_percent: share,
        salt,
    })
}

fn period() -> impl Strategy<Value = ReviewPeriod> {
    (0i64..3_000, 1i64..=366).prop_map(|(start_day, days)| {
        let from = Utc.with_ymd_and_hms(2020, 1, 1, 16, 0, 0).single().unwrap()
            + Duration::days(start_day);
        ReviewPeriod::new(from, from + Duration::days(days)).unwrap()
    })
}

/// Distinct case ids (0 to 300 of them), as a store would list them.
fn candidates() -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::btree_set(1i64..1_000_000, 0..300).prop_map(|s| s.into_iter().collect())
}

/// `⌈share·n⌉` in exact arithmetic (the rule as written).
fn expected_size(c: &ReviewConfig, n: usize) -> usize {
    let share = (n as u64 * u64::from(c.min_share_percent)).div_ceil(100) as usize;
    n.min((c.sample_size as usize).max(share))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, .. ProptestConfig::default() })]

    #[test]
    fn stable_under_input_order_and_repetition(
        c in config(),
        p in period(),
        dept in 1i64..10_000,
        ids in candidates(),
        shuffle in any::<proptest::sample::Index>(),
        repeat in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        let drawn = draw_sample(&c, &p, dept, &ids);
        // Another order: rotated and reversed, with some ids given twice.
        let mut other = ids.clone();
        if !other.is_empty() {
            let k = shuffle.index(other.len());
            other.rotate_left(k);
            other.reverse();
            for r in &repeat {
                let again = ids[r.index(ids.len())];
                other.push(again);
            }
        }
        prop_assert_eq!(&draw_sample(&c, &p, dept, &other), &drawn);
        prop_assert_eq!(&draw_sample(&c, &p, dept, &ids), &drawn, "same inputs, same sample");
    }

    #[test]
    fn size_and_subset(c in config(), p in period(), dept in 1i64..10_000, ids in candidates()) {
        let drawn = draw_sample(&c, &p, dept, &ids);
        prop_assert_eq!(drawn.len(), expected_size(&c, ids.len()));
        prop_assert_eq!(drawn.len(), c.sample_size_for(ids.len()));
        let mut distinct = drawn.clone();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), drawn.len(), "no case twice");
        for id in &drawn {
            prop_assert!(ids.contains(id), "{} is not a candidate", id);
        }
        if ids.len() <= c.sample_size as usize {
            prop_assert_eq!(distinct, ids, "a small department is reviewed whole");
        }
    }

    #[test]
    fn a_larger_sample_extends_a_smaller_one(
        c in config(),
        more in 1u32..20,
        p in period(),
        dept in 1i64..10_000,
        ids in candidates(),
    ) {
        let small = draw_sample(&c, &p, dept, &ids);
        let larger = ReviewConfig { sample_size: c.sample_size + more, ..c.clone() };
        let large = draw_sample(&larger, &p, dept, &ids);
        prop_assert!(large.len() >= small.len());
        prop_assert_eq!(&large[..small.len()], &small[..]);
    }

    #[test]
    fn another_department_or_salt_draws_independently(
        c in config(),
        p in period(),
        dept in 1i64..10_000,
    ) {
        // 200 candidates, 20 drawn (10 %, at least k ≤ 20): two unrelated seeds picking the very
        // same 20 in the same order would be a broken seed, not chance.
        let ids: Vec<i64> = (1..=200).collect();
        let c = ReviewConfig { min_share_percent: 10, sample_size: c.sample_size.min(20), ..c };
        let a = draw_sample(&c, &p, dept, &ids);
        prop_assert_eq!(a.len(), 20);
        prop_assert_ne!(&a, &draw_sample(&c, &p, dept + 1, &ids));
        let salted = ReviewConfig { salt: format!("{}x", c.salt), ..c.clone() };
        prop_assert_ne!(&a, &draw_sample(&salted, &p, dept, &ids));
    }
}
