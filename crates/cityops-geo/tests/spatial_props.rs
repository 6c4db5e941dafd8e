//! Property tests of the derived Huizhou city and the locate index against brute-force scans.
mod common;

use std::sync::OnceLock;

use cityops_domain::Region;
use cityops_geo::parse_polygonal;
use geo::coordinate_position::CoordPos;
use geo::{Area, Coord, CoordinatePosition, MultiPolygon};
use proptest::prelude::*;

use common::{HUIZHOU_CORE, huizhou};

/// Position in a multipolygon by the index's rule, computed with geo's own predicate per part.
fn position(mp: &MultiPolygon<f64>, c: Coord<f64>) -> CoordPos {
    let mut on = false;
    for p in &mp.0 {
        match p.coordinate_position(&c) {
            CoordPos::Inside => return CoordPos::Inside,
            CoordPos::OnBoundary => on = true,
            CoordPos::Outside => {}
        }
    }
    if on {
        CoordPos::OnBoundary
    } else {
        CoordPos::Outside
    }
}

struct Parsed {
    codes: Vec<String>,
    polys: Vec<MultiPolygon<f64>>,
}

fn parse_all(regions: &[Region]) -> Parsed {
    let mut v: Vec<(String, MultiPolygon<f64>)> = regions
        .iter()
        .map(|r| {
            (
                r.code.clone(),
                parse_polygonal(r.geometry.as_deref().unwrap()).unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    let (codes, polys) = v.into_iter().unzip();
    Parsed { codes, polys }
}

fn grids() -> &'static Parsed {
    static G: OnceLock<Parsed> = OnceLock::new();
    G.get_or_init(|| parse_all(&huizhou().derived.grids))
}
fn streets() -> &'static Parsed {
    static S: OnceLock<Parsed> = OnceLock::new();
    S.get_or_init(|| parse_all(&huizhou().derived.streets))
}
fn communities() -> &'static Parsed {
    static C: OnceLock<Parsed> = OnceLock::new();
    C.get_or_init(|| parse_all(&huizhou().derived.communities))
}
fn districts() -> &'static Parsed {
    static D: OnceLock<Parsed> = OnceLock::new();
    D.get_or_init(|| parse_all(&huizhou().city.districts))
}

/// The stated rule by brute force: Inside beats OnBoundary, lowest code among equals.
fn brute_force(p: &Parsed, c: Coord<f64>) -> Option<&str> {
    let mut best: Option<(bool, usize)> = None;
    for (i, mp) in p.polys.iter().enumerate() {
        let inside = match position(mp, c) {
            CoordPos::Outside => continue,
            CoordPos::Inside => true,
            CoordPos::OnBoundary => false,
        };
        if best.is_none_or(|(b_in, _)| inside && !b_in) {
            best = Some((inside, i));
        }
    }
    best.map(|(_, i)| p.codes[i].as_str())
}

fn config() -> ProptestConfig {
    // No regression files: an integration test has no lib.rs beside it for proptest to find.
    ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn huizhou_has_enough_grids_and_codes_nest() {
    let h = huizhou();
    let g = &h.derived.grids;
    assert!(g.len() >= 20_000, "{} grids", g.len());
    assert_eq!(h.derived.streets.len(), 84);
    assert_eq!(h.derived.communities.len(), 1364);
    assert_eq!(h.index.grid_count(), g.len());
    let mut per_community = std::collections::HashMap::<&str, usize>::new();
    for r in g {
        assert_eq!(r.code.len(), 15);
        assert_eq!(
            r.parent_code.as_deref(),
            Some(&r.code[..12]),
            "grid {} parent",
            r.code
        );
        assert!(r.synthetic && r.geometry.is_some() && r.area_m2.unwrap() >= 1.0);
        *per_community.entry(&r.code[..12]).or_default() += 1;
    }
    // Sequences are 001..=n without gaps within each community.
    for (c, n) in per_community {
        assert!(n <= 999);
        let last = format!("{c}{n:03}");
        assert!(
            g.binary_search_by(|r| r.code.as_str().cmp(&last)).is_ok(),
            "{last} missing"
        );
    }
}

#[test]
fn partitions_tile_their_parents_by_area() {
    let h = huizhou();
    let area_of = |r: &Region| {
        parse_polygonal(r.geometry.as_deref().unwrap())
            .unwrap()
            .unsigned_area()
    };
    for d in &h.city.districts {
        let parts: f64 = h
            .derived
            .streets
            .iter()
            .filter(|s| s.parent_code.as_deref() == Some(&d.code))
            .map(area_of)
            .sum();
        let whole = area_of(d);
        assert!(
            (parts - whole).abs() / whole < 1e-5,
            "district {}: streets {parts} vs {whole}",
            d.code
        );
    }
    for s in &h.derived.streets {
        let parts: Vec<f64> = h
            .derived
            .communities
            .iter()
            .filter(|c| c.parent_code.as_deref() == Some(&s.code))
            .map(area_of)
            .collect();
        if parts.is_empty() {
            continue;
        }
        let whole = area_of(s);
        let sum: f64 = parts.iter().sum();
        assert!(
            (sum - whole).abs() / whole < 1e-5,
            "street {}: communities {sum} vs {whole}",
            s.code
        );
    }
}

#[test]
fn grids_lie_in_their_community() {
    let h = huizhou();
    let comm = communities();
    for r in h.derived.grids.iter().step_by(7) {
        let c = r.center.unwrap();
        let i = comm.codes.binary_search(&r.code[..12].to_string()).unwrap();
        let pos = position(&comm.polys[i], Coord { x: c.lng, y: c.lat });
        assert_ne!(
            pos,
            CoordPos::Outside,
            "grid {} centre outside its community",
            r.code
        );
    }
}

proptest! {
    #![proptest_config(config())]

    /// A vertex of a grid, or a point on a grid edge, lands in exactly the grid the rule picks.
    #[test]
    fn grid_edges_and_corners_follow_the_rule(g in 0usize..1_000_000, v in 0usize..64, t in 0.0f64..1.0, corner: bool) {
        let grids = grids();
        let mp = &grids.polys[g % grids.polys.len()];
        let ring = &mp.0[0].exterior().0;
        let k = v % (ring.len() - 1);
        let (a, b) = (ring[k], ring[k + 1]);
        let c = if corner { a } else { Coord { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) } };
        let want = brute_force(grids, c);
        let got = huizhou().index.locate(c.x, c.y);
        let got_grid = got.as_ref().and_then(|l| l.grid_code);
        prop_assert_eq!(got_grid, want, "point {:?}", c);
        // Corners and axis-parallel (lattice) edges are exactly representable: never lost.
        if corner || a.x == b.x || a.y == b.y {
            prop_assert!(got_grid.is_some(), "point {:?} on a grid edge found no grid", c);
        }
    }

    /// Every point of the core box that lies in a district gets a grid; a grid's community is its prefix.
    #[test]
    fn core_points_in_a_district_get_a_grid(fx in 0.0f64..1.0, fy in 0.0f64..1.0) {
        let b = HUIZHOU_CORE;
        let c = Coord { x: b[0] + fx * (b[2] - b[0]), y: b[1] + fy * (b[3] - b[1]) };
        let in_district = brute_force(districts(), c);
        let loc = huizhou().index.locate(c.x, c.y);
        match in_district {
            None => prop_assert!(loc.is_none_or(|l| l.grid_code.is_none()), "{:?}", c),
            Some(d) => {
                let loc = loc.unwrap();
                let grid = loc.grid_code.unwrap_or_else(|| panic!("no grid at {c:?}"));
                prop_assert_eq!(Some(grid), brute_force(grids(), c));
                prop_assert_eq!(loc.community_code, Some(&grid[..12]));
                prop_assert_eq!(loc.street_code, Some(&grid[..9]));
                prop_assert_eq!(loc.district_code, d);
            }
        }
    }

    /// Random points of a district fall in exactly one of its streets and one community of that street.
    #[test]
    fn district_points_fall_in_exactly_one_street(fx in 0.0f64..1.0, fy in 0.0f64..1.0, di in 0usize..5) {
        let h = huizhou();
        let d = &h.city.districts[di % h.city.districts.len()];
        let b = d.bbox.unwrap();
        let c = Coord { x: b[0] + fx * (b[2] - b[0]), y: b[1] + fy * (b[3] - b[1]) };
        let dmp = parse_polygonal(d.geometry.as_deref().unwrap()).unwrap();
        prop_assume!(position(&dmp, c) == CoordPos::Inside);
        let st = streets();
        let hits: Vec<&str> = st
            .polys
            .iter()
            .zip(&st.codes)
            .filter(|(mp, code)| code.starts_with(&d.code) && position(mp, c) != CoordPos::Outside)
            .map(|(_, code)| code.as_str())
            .collect();
        prop_assert_eq!(hits.len(), 1, "{:?} in streets {:?}", c, hits);
        let cm = communities();
        let chits = cm
            .polys
            .iter()
            .zip(&cm.codes)
            .filter(|(mp, code)| code.starts_with(hits[0]) && position(mp, c) != CoordPos::Outside)
            .count();
        let street_has_communities = cm.codes.iter().any(|code| code.starts_with(hits[0]));
        prop_assert_eq!(chits, usize::from(street_has_communities), "{:?}", c);
        let loc = h.index.locate(c.x, c.y).unwrap();
        prop_assert_eq!(loc.street_code, Some(hits[0]));
        prop_assert_eq!(loc.district_code, d.code.as_str());
    }

    /// The bucket-grid path answers exactly what the R-tree path answers (all four codes), and the grid
    /// brute force picks: at random points of (and around) the whole city, at grid corners and on grid
    /// edges, within a few ulps of the grid level's bucket edges, and outside everything.
    #[test]
    fn buckets_answer_like_the_rtree_and_brute_force(
        kind in 0u8..5,
        g in 0usize..1_000_000,
        v in 0usize..64,
        k in 0usize..100_000,
        fx in -0.05f64..1.05,
        fy in -0.05f64..1.05,
        dx in -2i64..=2,
        dy in -2i64..=2,
    ) {
        let h = huizhou();
        let bb = h.index.bbox().unwrap();
        let (w, ht) = (bb[2] - bb[0], bb[3] - bb[1]);
        let grids = grids();
        let ring = &grids.polys[g % grids.polys.len()].0[0].exterior().0;
        let vertex = ring[v % (ring.len() - 1)];
        let ulps = |x: f64, d: i64| (0..d.unsigned_abs()).fold(x, |x, _| if d > 0 { x.next_up() } else { x.next_down() });
        let c = match kind {
            0 => Coord { x: bb[0] + fx * w, y: bb[1] + fy * ht },
            1 => vertex,
            2 => Coord { x: vertex.x, y: ulps(vertex.y, dy) },
            3 => {
                let b = h.index.grid_buckets().expect("the grid level has a bucket grid");
                let (nx, ny) = (((bb[2] - b[0]) / b[2]) as usize + 1, ((bb[3] - b[1]) / b[3]) as usize + 1);
                let x = b[0] + (k % nx) as f64 * b[2];
                let y = b[1] + (k / nx % ny) as f64 * b[3];
                Coord { x: ulps(x, dx), y: ulps(y, dy) }
            }
            _ => Coord { x: bb[0] - 0.5 - fx, y: bb[1] + fy * ht },
        };
        let fast = h.index.locate(c.x, c.y);
        prop_assert_eq!(fast, h.index.locate_rtree(c.x, c.y), "point {:?}", c);
        prop_assert_eq!(fast.and_then(|l| l.grid_code), brute_force(grids, c), "point {:?}", c);
    }
}
