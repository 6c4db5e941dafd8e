//! Derivation of the three demo cities, determinism, numbering and error cases.
mod common;

use cityops_domain::{Region, RegionLevel};
use cityops_geo::derive::{DeriveParams, derive_city};
use cityops_geo::{GeoError, region_with_geometry};
use geo::{MultiPolygon, Rect};

use common::{BOZHOU_CORE, XIAMEN_CORE, derive, load_city};

fn check_city(d: &common::Derived, streets: usize, communities: usize) {
    assert_eq!(d.derived.streets.len(), streets);
    assert_eq!(d.derived.communities.len(), communities);
    assert!(!d.derived.grids.is_empty());
    for g in &d.derived.grids {
        let b = g.bbox.unwrap();
        let core = d.core;
        assert!(
            b[0] >= core[0] - 1e-7
                && b[1] >= core[1] - 1e-7
                && b[2] <= core[2] + 1e-7
                && b[3] <= core[3] + 1e-7
        );
        // ≈100 m cells: no piece larger than a full cell (plus rounding).
        assert!(
            g.area_m2.unwrap() < 100.0 * 100.0 * 1.1,
            "grid {} area {}",
            g.code,
            g.area_m2.unwrap()
        );
    }
    for r in d.derived.streets.iter().chain(&d.derived.communities) {
        assert!(
            r.synthetic && r.geometry.is_some() && r.area_m2.unwrap() > 0.0,
            "{}",
            r.code
        );
        let c = r.center.unwrap();
        let loc = d.index.locate(c.lng, c.lat).unwrap();
        let code = if r.level == RegionLevel::Street {
            loc.street_code
        } else {
            loc.community_code
        };
        assert_eq!(
            code,
            Some(r.code.as_str()),
            "centre of {} locates elsewhere",
            r.code
        );
    }
}

#[test]
fn xiamen_core_derives() {
    let d = derive("xiamen", XIAMEN_CORE, 7);
    check_city(&d, 54, 555);
    assert!(d.derived.grids.len() > 5_000, "{}", d.derived.grids.len());
}

#[test]
fn bozhou_core_derives_deterministically() {
    let a = derive("bozhou", BOZHOU_CORE, 42);
    check_city(&a, 96, 1360);
    assert!(a.derived.grids.len() > 5_000, "{}", a.derived.grids.len());
    let b = derive("bozhou", BOZHOU_CORE, 42);
    assert_eq!(a.derived, b.derived, "same seed, different result");
    let c = derive("bozhou", BOZHOU_CORE, 43);
    assert_ne!(a.derived.streets, c.derived.streets, "seed has no effect");
}

fn square(code: &str, level: RegionLevel, parent: Option<&str>, b: [f64; 4]) -> Region {
    let mp = MultiPolygon(vec![Rect::new((b[0], b[1]), (b[2], b[3])).to_polygon()]);
    region_with_geometry(code, level, code, parent, &mp, false)
}

fn bare(code: &str, level: RegionLevel, parent: &str) -> Region {
    Region {
        code: code.into(),
        level,
        name: format!("名{code}"),
        parent_code: Some(parent.into()),
        geometry: None,
        bbox: None,
        center: None,
        area_m2: None,
        synthetic: false,
    }
}

#[test]
fn grids_are_numbered_north_to_south_then_west_to_east() {
    // One district of ≈300 m × 300 m at 23°N, one street, one community: a 3 × 3 lattice.
    let (dx, dy) = (
        300.0 / (111_195.08 * 23.0f64.to_radians().cos()),
        300.0 / 111_195.08,
    );
    let b = [114.0, 23.0, 114.0 + dx, 23.0 + dy];
    let d = square("441302", RegionLevel::District, Some("441300"), b);
    let s = bare("441302001", RegionLevel::Street, "441302");
    let c = bare("441302001001", RegionLevel::Community, "441302001");
    let out = derive_city(
        &[d],
        &[s],
        &[c],
        &DeriveParams {
            core_bbox: b,
            cell_size_m: 100.0,
            seed: 1,
        },
    )
    .unwrap();
    assert_eq!(out.grids.len(), 9);
    let centre = |i: usize| out.grids[i].center.unwrap();
    assert_eq!(out.grids[0].code, "441302001001001");
    assert_eq!(out.grids[8].code, "441302001001009");
    assert_eq!(out.grids[0].name, "名441302001001001号网格");
    for row in 0..3 {
        for col in 0..2 {
            assert!(
                centre(row * 3 + col).lng < centre(row * 3 + col + 1).lng,
                "west→east in row {row}"
            );
        }
        if row < 2 {
            assert!(centre(row * 3).lat > centre(row * 3 + 3).lat, "north→south");
        }
    }
    for g in &out.grids {
        assert!(
            (g.area_m2.unwrap() - 10_000.0).abs() < 200.0,
            "{} {}",
            g.code,
            g.area_m2.unwrap()
        );
    }
}

#[test]
fn too_many_grids_is_an_error() {
    let b = [114.0, 23.0, 114.05, 23.05]; // ≈5.1 km × 5.6 km → ≈2,800 cells of 100 m in one community
    let d = square("441302", RegionLevel::District, Some("441300"), b);
    let s = bare("441302001", RegionLevel::Street, "441302");
    let c = bare("441302001001", RegionLevel::Community, "441302001");
    let err = derive_city(
        &[d],
        &[s],
        &[c],
        &DeriveParams {
            core_bbox: b,
            cell_size_m: 100.0,
            seed: 1,
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, GeoError::TooManyGrids { ref community, .. } if community == "441302001001"),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_reported() {
    let b = [114.0, 23.0, 114.01, 23.01];
    let d = square("441302", RegionLevel::District, Some("441300"), b);
    let orphan = bare("441399001", RegionLevel::Street, "441399");
    let p = DeriveParams {
        core_bbox: b,
        cell_size_m: 100.0,
        seed: 1,
    };
    let err = derive_city(std::slice::from_ref(&d), &[orphan], &[], &p).unwrap_err();
    assert!(err.to_string().contains("441399001"), "{err}");
    let mut no_geom = d.clone();
    no_geom.geometry = None;
    assert!(matches!(
        derive_city(&[no_geom], &[], &[], &p),
        Err(GeoError::MissingGeometry { .. })
    ));
    let bad = DeriveParams {
        core_bbox: [1.0, 1.0, 0.0, 2.0],
        ..p.clone()
    };
    assert!(matches!(
        derive_city(std::slice::from_ref(&d), &[], &[], &bad),
        Err(GeoError::InvalidParams(_))
    ));
    let tiny = DeriveParams {
        cell_size_m: 0.5,
        ..p
    };
    assert!(matches!(
        derive_city(&[d], &[], &[], &tiny),
        Err(GeoError::InvalidParams(_))
    ));
}

#[test]
fn test_data_loads() {
    let h = load_city("huizhou");
    assert_eq!(h.districts.len(), 5);
    assert_eq!(h.streets.len(), 84);
    assert_eq!(h.communities.len(), 1364);
}
