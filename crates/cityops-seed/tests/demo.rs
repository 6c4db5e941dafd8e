//! The demo city as a whole: counts, referential integrity, geography and determinism.
//!
//! `cargo test --release -p cityops-seed --test demo -- --ignored --nocapture` also prints the
//! build time and the counts of all three cities.
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use cityops_domain::{CategoryKind, RegionLevel, Role};
use cityops_geo::RegionIndex;
use cityops_seed::DemoCity;
use cityops_seed::accounts::accounts_csv;
use cityops_seed::demo::{DemoOptions, build_demo, demo_accounts, grid_inspector_username};
use cityops_store::ImportBatch;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// The districts of the inspectors' communities, checked to be those that have grids.
fn inspector_districts(b: &ImportBatch) -> HashSet<&str> {
    let gridded: HashSet<&str> = b
        .regions
        .iter()
        .filter(|r| r.level == RegionLevel::Grid)
        .map(|r| &r.code[..6])
        .collect();
    let patrolled: HashSet<&str> = b
        .users
        .iter()
        .filter(|u| u.roles.contains(&Role::Inspector))
        .map(|u| &u.region_code.as_deref().unwrap()[..6])
        .collect();
    assert_eq!(
        patrolled, gridded,
        "inspectors are shared out over the districts with grids"
    );
    patrolled
}

fn level_count(b: &ImportBatch, l: RegionLevel) -> usize {
    b.regions.iter().filter(|r| r.level == l).count()
}

/// Everything the store would check, and the geography.
fn check_batch(city: DemoCity, b: &ImportBatch) {
    // regions: unique codes, parents exist (the city has none), grids nest in their community
    let codes: HashSet<&str> = b.regions.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes.len(), b.regions.len(), "region codes are unique");
    for r in &b.regions {
        assert_eq!(r.code.len(), r.level.code_len(), "{}", r.code);
        match r.level {
            RegionLevel::City => assert_eq!(
                (r.code.as_str(), r.parent_code.as_deref()),
                (city.code(), None)
            ),
            _ => {
                let p = r
                    .parent_code
                    .as_deref()
                    .unwrap_or_else(|| panic!("{} has no parent", r.code));
                assert!(codes.contains(p), "parent {p} of {} missing", r.code);
            }
        }
        if r.level == RegionLevel::Grid {
            assert_eq!(
                r.parent_code.as_deref(),
                Some(&r.code[..12]),
                "grid code prefix = its community"
            );
            assert!(r.synthetic && r.geometry.is_some());
        }
        if r.level == RegionLevel::District {
            assert!(!r.synthetic && r.geometry.is_some());
        }
    }

    // catalogue and standards
    assert_eq!(b.categories.len(), 403);
    let comp_codes: HashSet<&str> = b
        .categories
        .iter()
        .filter(|c| c.kind == CategoryKind::Component)
        .map(|c| c.code.as_str())
        .collect();
    for c in &b.categories {
        assert!(
            b.filing_standards
                .iter()
                .any(|s| s.kind == c.kind && s.code == c.code),
            "{c:?}"
        );
    }

    // departments: unique codes, parents and regions exist
    let depts: HashSet<&str> = b.departments.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(depts.len(), b.departments.len());
    for d in &b.departments {
        assert!(codes.contains(d.region_code.as_str()), "{d:?}");
        if let Some(p) = &d.parent_code {
            assert!(depts.contains(p.as_str()), "{d:?}");
        }
    }

    // users: unique, departments exist, inspectors patrol their community's grids, the banner's
    // main accounts are users, the account list names every user
    let usernames: Vec<&str> = b.users.iter().map(|u| u.username.as_str()).collect();
    for (u, _) in demo_accounts(city) {
        assert!(usernames.contains(&u.as_str()), "banner account {u}");
    }
    let csv = String::from_utf8(accounts_csv(b).unwrap()).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let listed: Vec<String> = rows
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_string())
        .collect();
    assert_eq!(listed, usernames);
    assert_eq!(
        usernames.iter().collect::<HashSet<_>>().len(),
        usernames.len()
    );
    for u in &b.users {
        assert_eq!(u.password_hash, HASH);
        if let Some(d) = &u.department_code {
            assert!(depts.contains(d.as_str()), "{}: {d}", u.username);
        }
        if let Some(r) = &u.region_code {
            assert!(codes.contains(r.as_str()), "{}: {r}", u.username);
        }
        if u.roles.contains(&Role::Inspector) {
            let community = u.region_code.as_deref().unwrap();
            assert_eq!(community.len(), 12);
            assert!(!u.grids.is_empty());
            for g in &u.grids {
                assert!(
                    g.starts_with(community) && codes.contains(g.as_str()),
                    "{}: {g}",
                    u.username
                );
            }
        }
    }
    // Every community of the gridded core has exactly one inspector, whose patrol is all its
    // grids: `inspector1` … `inspector10`, else `inspector-<community code>`.
    let mut grids_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in b.regions.iter().filter(|r| r.level == RegionLevel::Grid) {
        grids_of.entry(&r.code[..12]).or_default().push(&r.code);
    }
    let mut patrolled: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, u) in b
        .users
        .iter()
        .filter(|u| u.roles.contains(&Role::Inspector))
        .enumerate()
    {
        let community = u.region_code.as_deref().unwrap();
        if i < 10 {
            assert_eq!(u.username, format!("inspector{}", i + 1));
        } else {
            assert_eq!(u.username, grid_inspector_username(community));
        }
        let mut grids: Vec<&str> = u.grids.iter().map(String::as_str).collect();
        grids.sort();
        assert!(
            patrolled.insert(community, grids).is_none(),
            "{community} has two inspectors"
        );
    }
    for list in grids_of.values_mut() {
        list.sort();
    }
    assert_eq!(patrolled, grids_of, "one inspector per gridded community");

    let handlers = b
        .users
        .iter()
        .filter(|u| u.roles == vec![Role::Handler])
        .count();
    assert_eq!(
        handlers,
        b.departments.len() - 1,
        "one handler per department but the command centre"
    );

    // components: unique ids, real categories, inside their district, grid/community consistent
    let districts: Vec<_> = b
        .regions
        .iter()
        .filter(|r| r.level == RegionLevel::District)
        .cloned()
        .collect();
    let index = RegionIndex::build(&districts, &[], &[], &[]).unwrap();
    let mut ids = HashSet::new();
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut damaged = 0;
    for c in &b.components {
        assert!(ids.insert(c.id.as_str()), "duplicate {}", c.id.as_str());
        assert!(
            comp_codes.contains(c.category_code.as_str()),
            "{}",
            c.category_code
        );
        assert_eq!(c.id.category_code(), c.category_code);
        let loc = index
            .locate(c.lng, c.lat)
            .unwrap_or_else(|| panic!("{} outside every district", c.id.as_str()));
        assert_eq!(loc.district_code, c.id.division(), "{}", c.id.as_str());
        if let Some(g) = &c.grid_code {
            assert!(codes.contains(g.as_str()));
            assert_eq!(c.community_code.as_deref(), Some(&g[..12]));
            assert!(g.starts_with(c.id.division()));
        }
        for d in [&c.owner_department, &c.maintainer_department] {
            let d = d
                .as_deref()
                .expect("demo components have owner and maintainer");
            assert!(depts.contains(d), "{d}");
        }
        if c.status != cityops_domain::ComponentStatus::Intact {
            damaged += 1;
        }
        *per_category.entry(c.category_code.as_str()).or_default() += 1;
    }
    assert!(per_category.len() >= 30, "a varied mix: {per_category:?}");
    assert!(
        damaged > 0 && damaged < b.components.len() / 5,
        "mostly intact: {damaged}"
    );
    let gridded = b
        .components
        .iter()
        .filter(|c| c.grid_code.is_some())
        .count();
    assert!(
        gridded * 10 >= b.components.len() * 8,
        "most components lie in the gridded core: {gridded}"
    );
}

#[test]
fn huizhou_default_demo() {
    let t = Instant::now();
    let b = build_demo(&DemoOptions::default(), HASH).unwrap();
    eprintln!("huizhou demo built in {:.1?}", t.elapsed());
    assert!(
        level_count(&b, RegionLevel::Grid) >= 20_000,
        "{} grids",
        level_count(&b, RegionLevel::Grid)
    );
    assert_eq!(level_count(&b, RegionLevel::District), 5);
    assert_eq!(level_count(&b, RegionLevel::Street), 84);
    assert_eq!(level_count(&b, RegionLevel::Community), 1364);
    assert_eq!(b.components.len(), 60_000);
    let gridded: HashSet<&str> = b
        .regions
        .iter()
        .filter(|r| r.level == RegionLevel::Grid)
        .map(|r| &r.code[..12])
        .collect();
    eprintln!("huizhou: {} gridded communities", gridded.len());
    assert!(gridded.len() > 10 && gridded.len() < 1364);
    assert_eq!(b.users.len(), 9 + gridded.len() + b.departments.len() - 1);
    check_batch(DemoCity::Huizhou, &b);
    // Huizhou's core lies in 惠城区 only: the inspectors spread over its streets
    assert_eq!(inspector_districts(&b), ["441302"].into_iter().collect());
    let streets: HashSet<&str> = b
        .users
        .iter()
        .filter(|u| u.roles.contains(&Role::Inspector))
        .map(|u| &u.region_code.as_deref().unwrap()[..9])
        .collect();
    assert!(streets.len() >= 5, "{streets:?}");
}

#[test]
fn same_seed_same_batch() {
    let opts = DemoOptions {
        city: DemoCity::Bozhou,
        seed: 7,
        components: 3_000,
    };
    let a = build_demo(&opts, HASH).unwrap();
    let b = build_demo(&opts, HASH).unwrap();
    assert!(a == b, "two builds with the same seed differ");
    assert_eq!(a.components.len(), 3_000);
    check_batch(DemoCity::Bozhou, &a);
    let c = build_demo(&DemoOptions { seed: 8, ..opts }, HASH).unwrap();
    assert_ne!(
        a.components, c.components,
        "another seed gives other components"
    );
}

#[test]
fn xiamen_demo_keeps_components_on_land() {
    let b = build_demo(
        &DemoOptions {
            city: DemoCity::Xiamen,
            seed: 1,
            components: 5_000,
        },
        HASH,
    )
    .unwrap();
    assert_eq!(b.components.len(), 5_000);
    check_batch(DemoCity::Xiamen, &b);
    assert!(
        inspector_districts(&b).len() >= 3,
        "Xiamen's core spans several districts"
    );
}

/// Timing and counts of the full default demo of every city (run in release).
#[test]
#[ignore = "timing: run with --release -- --ignored --nocapture"]
fn timing_all_cities() {
    for city in DemoCity::ALL {
        let t = Instant::now();
        let b = build_demo(&DemoOptions::for_city(city), HASH).unwrap();
        let elapsed = t.elapsed();
        eprintln!(
            "{city}: {elapsed:.2?}; regions {} (districts {}, streets {}, communities {}, grids {}), categories {}, \
             standards {}, departments {}, users {}, components {}",
            b.regions.len(),
            level_count(&b, RegionLevel::District),
            level_count(&b, RegionLevel::Street),
            level_count(&b, RegionLevel::Community),
            level_count(&b, RegionLevel::Grid),
            b.categories.len(),
            b.filing_standards.len(),
            b.departments.len(),
            b.users.len(),
            b.components.len()
        );
        check_batch(city, &b);
        if city == DemoCity::Huizhou {
            assert!(
                elapsed.as_secs_f64() < 25.0,
                "Huizhou demo took {elapsed:?}"
            );
        }
    }
}
