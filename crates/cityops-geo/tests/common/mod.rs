//! Test-only loading of the shipped city data (production parsing lives in cityops-seed).
#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cityops_domain::{Region, RegionLevel};
use cityops_geo::derive::{DeriveParams, DerivedCity, derive_city};
use cityops_geo::{RegionIndex, gcj02, parse_polygonal, region_with_geometry};

pub const HUIZHOU_CORE: [f64; 4] = [114.33, 23.03, 114.48, 23.15];
pub const XIAMEN_CORE: [f64; 4] = [118.06, 24.43, 118.20, 24.56];
pub const BOZHOU_CORE: [f64; 4] = [115.72, 33.82, 115.83, 33.90];

pub struct City {
    pub districts: Vec<Region>,
    pub streets: Vec<Region>,
    pub communities: Vec<Region>,
}

fn data_dir(city: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/cities")
        .join(city)
}

/// Districts (GCJ-02 in the file → WGS84) and the street/community rows of divisions.csv.
pub fn load_city(city: &str) -> City {
    let dir = data_dir(city);
    let text = std::fs::read_to_string(dir.join("districts.geojson")).unwrap();
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut districts = Vec::new();
    for f in fc["features"].as_array().unwrap() {
        let code = f["properties"]["code"].as_str().unwrap();
        let name = f["properties"]["name"].as_str().unwrap();
        let mut mp = parse_polygonal(&f["geometry"].to_string()).unwrap();
        gcj02::multipolygon_gcj02_to_wgs84(&mut mp);
        let city_code = format!("{}00", &code[..4]);
        districts.push(region_with_geometry(
            code,
            RegionLevel::District,
            name,
            Some(&city_code),
            &mp,
            false,
        ));
    }
    let csv = std::fs::read_to_string(dir.join("divisions.csv")).unwrap();
    let (mut streets, mut communities) = (Vec::new(), Vec::new());
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.trim_end().split(',').collect();
        let r = Region {
            code: f[1].to_string(),
            level: RegionLevel::Street,
            name: f[2].to_string(),
            parent_code: Some(f[3].to_string()),
            geometry: None,
            bbox: None,
            center: None,
            area_m2: None,
            synthetic: false,
        };
        match f[0] {
            "street" => streets.push(r),
            "community" => communities.push(Region {
                level: RegionLevel::Community,
                ..r
            }),
            _ => {}
        }
    }
    City {
        districts,
        streets,
        communities,
    }
}

pub struct Derived {
    pub city: City,
    pub core: [f64; 4],
    pub derived: DerivedCity,
    pub index: RegionIndex,
    pub derive_time: Duration,
    pub index_time: Duration,
}

pub fn derive(city: &str, core: [f64; 4], seed: u64) -> Derived {
    let c = load_city(city);
    let t = Instant::now();
    let derived = derive_city(
        &c.districts,
        &c.streets,
        &c.communities,
        &DeriveParams {
            core_bbox: core,
            cell_size_m: 100.0,
            seed,
        },
    )
    .unwrap_or_else(|e| panic!("{city}: {e}"));
    let derive_time = t.elapsed();
    let t = Instant::now();
    let index = RegionIndex::build(
        &c.districts,
        &derived.streets,
        &derived.communities,
        &derived.grids,
    )
    .unwrap();
    let index_time = t.elapsed();
    let mut per_community = std::collections::HashMap::<&str, usize>::new();
    for g in &derived.grids {
        *per_community.entry(&g.code[..12]).or_default() += 1;
    }
    eprintln!(
        "{city}: derived {} streets, {} communities, {} grids ({} communities with grids, max {} per community) in {:.2?} (index {:.2?})",
        derived.streets.len(),
        derived.communities.len(),
        derived.grids.len(),
        per_community.len(),
        per_community.values().max().unwrap_or(&0),
        derive_time,
        index_time
    );
    Derived {
        city: c,
        core,
        derived,
        index,
        derive_time,
        index_time,
    }
}

pub fn huizhou() -> &'static Derived {
    static H: OnceLock<Derived> = OnceLock::new();
    H.get_or_init(|| derive("huizhou", HUIZHOU_CORE, 20_260_101))
}
