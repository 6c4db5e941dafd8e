//! Derived (synthetic) street, community and unit-grid polygons of a demo city.
//!
//! No official street (街道), community (社区) or unit-grid (单元网格) boundaries are published, so a demo
//! city gets plausible ones: each district is split into its streets by a clipped Voronoi partition
//! (one stable seed point per street), each street likewise into its communities, and the urban core
//! is covered by a lattice of ≈`cell_size_m` square unit grids clipped to the community polygons.
//! Everything is deterministic for a seed. All regions produced here have `synthetic = true`.
//!
//! Seed points: a child's initial point is picked from uniform samples of the parent by a hash of
//! `(seed, child code)`; a few Lloyd (k-means) rounds over those samples even out the areas; each point
//! is then snapped to a sample, which lies inside the parent. Urban children — 街道 (street code digits
//! 7–9 < 100) and 居委会/社区 (community code digits 10–12 < 200) — are placed in the part of the parent
//! inside the core box when the parent meets it and that part has room for them (≥ 3 km² per street,
//! ≥ 0.2 km² per community; a district that merely grazes the box is split evenly instead); towns and
//! villages go to the rest. If that would leave an urban community with more core area than ~60 % of its
//! 999-grid budget, all children of the street share the core part.
//!
//! Unit grids: the lattice has `round(width / cell_size_m)` × `round(height / cell_size_m)` cells exactly
//! spanning the core box; each community's part of each cell is one grid (pieces < 1 m² dropped), coded
//! `community code + 3-digit sequence`, numbered by row from north, then by column from west. More than 999
//! grids in one community is an error ([`GeoError::TooManyGrids`]).
use std::collections::{BTreeMap, HashMap};

use cityops_domain::{Region, RegionLevel};
use geo::coordinate_position::CoordPos;
use geo::{Area, BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::pip::FastPolygon;
use crate::{GeoError, normalize, parse_polygonal, region_with_geometry, round7};

/// Metres per degree of latitude (and of longitude at the equator) on the mean-radius sphere.
const M_PER_DEG: f64 = 111_195.08;
/// Grid pieces smaller than this (m²) are dropped as slivers.
const SLIVER_M2: f64 = 1.0;
/// Tolerance (degrees, ≈ 0.1 mm) for "this edge lies on a lattice line".
const LATTICE_EPS: f64 = 1e-9;
/// Urban streets are placed in the core part of their district only if it offers each this much (m²).
const MIN_CORE_M2_PER_URBAN_STREET: f64 = 3.0e6;
/// Likewise for urban communities in the core part of their street.
const MIN_CORE_M2_PER_URBAN_COMMUNITY: f64 = 0.2e6;
/// Lloyd rounds for the seed points.
const LLOYD_ROUNDS: usize = 12;

/// Parameters of the derivation.
#[derive(Debug, Clone, PartialEq)]
pub struct DeriveParams {
    /// WGS84 [min_lng, min_lat, max_lng, max_lat] of the urban core that gets unit grids.
    pub core_bbox: [f64; 4],
    /// Target side of a unit grid (单元网格) in metres.
    pub cell_size_m: f64,
    pub seed: u64,
}

/// The derived regions, all with geometry and `synthetic = true`, each list sorted by code.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedCity {
    pub streets: Vec<Region>,
    pub communities: Vec<Region>,
    pub grids: Vec<Region>,
}

/// The unit-grid lattice over the core box: `xs` west→east, `ys` south→north, both rounded to 7
/// decimals so neighbouring cells share exactly the same stored edge.
struct Lattice {
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl Lattice {
    fn new(core: [f64; 4], cell_size_m: f64) -> Self {
        let lat0 = (core[1] + core[3]) / 2.0;
        let width_m = (core[2] - core[0]) * M_PER_DEG * lat0.to_radians().cos();
        let height_m = (core[3] - core[1]) * M_PER_DEG;
        let ncols = ((width_m / cell_size_m).round() as usize).max(1);
        let nrows = ((height_m / cell_size_m).round() as usize).max(1);
        let line = |lo: f64, hi: f64, n: usize| -> Vec<f64> {
            (0..=n)
                .map(|i| {
                    if i == n {
                        round7(hi)
                    } else {
                        round7(lo + (hi - lo) * i as f64 / n as f64)
                    }
                })
                .collect()
        };
        Lattice {
            xs: line(core[0], core[2], ncols),
            ys: line(core[1], core[3], nrows),
        }
    }

    /// Index range of lattice intervals (cells) overlapping [lo, hi] along `lines`.
    fn span(lines: &[f64], lo: f64, hi: f64) -> std::ops::Range<usize> {
        let n = lines.len() - 1;
        // First interval whose upper line is above lo; last interval whose lower line is below hi.
        let start = lines[1..].partition_point(|&v| v <= lo + LATTICE_EPS);
        let end = lines[..n].partition_point(|&v| v < hi - LATTICE_EPS);
        start.min(n)..end.max(start.min(n))
    }
}

/// m² per deg² at a latitude (local equirectangular approximation, good for sliver tests).
fn m2_per_deg2(lat: f64) -> f64 {
    M_PER_DEG * M_PER_DEG * lat.to_radians().cos()
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rect_poly(b: [f64; 4]) -> Polygon<f64> {
    Rect::new(Coord { x: b[0], y: b[1] }, Coord { x: b[2], y: b[3] }).to_polygon()
}

fn bbox_of(mp: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    mp.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

fn bbox_overlap(a: [f64; 4], b: [f64; 4]) -> Option<[f64; 4]> {
    let o = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    (o[0] < o[2] && o[1] < o[3]).then_some(o)
}

/// One child to place: its code and whether it belongs in the urban core.
struct Child<'a> {
    code: &'a str,
    urban: bool,
}

/// Uniform samples of (parent ∩ `within`) [minus the core when `exclude` is given]; returns the
/// samples and the estimated area in deg² of the sampled set.
fn sample(
    rng: &mut ChaCha8Rng,
    fp: &FastPolygon,
    within: [f64; 4],
    exclude: Option<[f64; 4]>,
    want: usize,
) -> (Vec<Coord<f64>>, f64) {
    let mut out = Vec::with_capacity(want);
    let max_attempts = want * 60;
    let mut attempts = 0usize;
    while out.len() < want && attempts < max_attempts {
        attempts += 1;
        let c = Coord {
            x: within[0] + (within[2] - within[0]) * rng.random::<f64>(),
            y: within[1] + (within[3] - within[1]) * rng.random::<f64>(),
        };
        if let Some(e) = exclude
            && c.x >= e[0]
            && c.x <= e[2]
            && c.y >= e[1]
            && c.y <= e[3]
        {
            continue;
        }
        if fp.position(c) == CoordPos::Inside {
            out.push(c);
        }
    }
    let area = (within[2] - within[0]) * (within[3] - within[1]) * out.len() as f64
        / attempts.max(1) as f64;
    (out, area)
}

/// Seed points for `children` from `samples` (scaled coordinates: x multiplied by `kx`), one per child,
/// distinct, each one of the samples. Deterministic in (`seed`, child codes).
fn seeds_by_lloyd(
    children: &[&Child<'_>],
    samples: &[Coord<f64>],
    kx: f64,
    seed: u64,
) -> Vec<Coord<f64>> {
    let k = children.len();
    let n = samples.len();
    let pts: Vec<(f64, f64)> = samples.iter().map(|c| (c.x * kx, c.y)).collect();
    // Stable initial points: a hash of (seed, code) picks a sample; collisions probe onwards.
    let mut taken = vec![false; n];
    let mut centres: Vec<(f64, f64)> = children
        .iter()
        .map(|ch| {
            let mut i = (splitmix(seed ^ fnv1a(ch.code)) % n as u64) as usize;
            while taken[i] {
                i = (i + 1) % n;
            }
            taken[i] = true;
            pts[i]
        })
        .collect();
    let mut assign = vec![0usize; n];
    for _ in 0..LLOYD_ROUNDS {
        let mut sum = vec![(0.0f64, 0.0f64, 0usize); k];
        for (a, p) in assign.iter_mut().zip(&pts) {
            let mut best = (f64::INFINITY, 0usize);
            for (j, c) in centres.iter().enumerate() {
                let d = (p.0 - c.0).powi(2) + (p.1 - c.1).powi(2);
                if d < best.0 {
                    best = (d, j);
                }
            }
            *a = best.1;
            let s = &mut sum[best.1];
            s.0 += p.0;
            s.1 += p.1;
            s.2 += 1;
        }
        for (c, s) in centres.iter_mut().zip(&sum) {
            if s.2 > 0 {
                *c = (s.0 / s.2 as f64, s.1 / s.2 as f64);
            }
        }
    }
    // Snap each centre to the nearest unused sample (a sample lies inside the parent).
    let mut used = vec![false; n];
    centres
        .iter()
        .map(|c| {
            let mut best = (f64::INFINITY, usize::MAX);
            for (i, p) in pts.iter().enumerate() {
                if used[i] {
                    continue;
                }
                let d = (p.0 - c.0).powi(2) + (p.1 - c.1).powi(2);
                if d < best.0 {
                    best = (d, i);
                }
            }
            used[best.1] = true;
            samples[best.1]
        })
        .collect()
}

/// The Voronoi cell of site `i` (scaled coordinates) within `bounds`, by half-plane clipping.
fn voronoi_cell(sites: &[(f64, f64)], i: usize, bounds: [f64; 4]) -> Vec<(f64, f64)> {
    let s = sites[i];
    let mut cell = vec![
        (bounds[0], bounds[1]),
        (bounds[2], bounds[1]),
        (bounds[2], bounds[3]),
        (bounds[0], bounds[3]),
    ];
    let mut others: Vec<(f64, usize)> = sites
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(j, t)| ((t.0 - s.0).powi(2) + (t.1 - s.1).powi(2), j))
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (d2, j) in others {
        // A bisector at distance d/2 cannot cut a cell whose farthest vertex is nearer than that.
        let reach2 = cell
            .iter()
            .map(|v| (v.0 - s.0).powi(2) + (v.1 - s.1).powi(2))
            .fold(0.0, f64::max);
        if d2 / 4.0 > reach2 {
            break;
        }
        let t = sites[j];
        let (dx, dy) = (t.0 - s.0, t.1 - s.1);
        let (mx, my) = ((t.0 + s.0) / 2.0, (t.1 + s.1) / 2.0);
        let side = |p: (f64, f64)| (p.0 - mx) * dx + (p.1 - my) * dy;
        let mut next = Vec::with_capacity(cell.len() + 1);
        for k in 0..cell.len() {
            let a = cell[k];
            let b = cell[(k + 1) % cell.len()];
            let (va, vb) = (side(a), side(b));
            if va <= 0.0 {
                next.push(a);
            }
            if (va < 0.0 && vb > 0.0) || (va > 0.0 && vb < 0.0) {
                let t = va / (va - vb);
                next.push((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
            }
        }
        cell = next;
        if cell.len() < 3 {
            break;
        }
    }
    cell
}

/// Children placed together over one set of sample points.
type Group<'c, 'a> = (Vec<&'c Child<'a>>, Vec<Coord<f64>>);

/// How children are placed in a parent.
#[derive(Clone, Copy)]
struct Placement {
    core: [f64; 4],
    /// Urban children go to the core part only if it offers each at least this area (m²).
    min_core_area_per_urban_m2: f64,
    /// If the core part would give each urban child more than this (m²), all children share it.
    max_core_area_per_urban_m2: Option<f64>,
    seed: u64,
    level: &'static str,
}

/// Splits `parent` among `children` (sorted by code) by a clipped Voronoi partition; returns one
/// normalized multipolygon per child, in the same order.
fn partition(
    parent_code: &str,
    parent: &MultiPolygon<f64>,
    children: &[Child<'_>],
    rule: &Placement,
) -> Result<Vec<MultiPolygon<f64>>, GeoError> {
    let Placement {
        core,
        min_core_area_per_urban_m2,
        max_core_area_per_urban_m2,
        seed,
        level,
    } = *rule;
    if children.is_empty() {
        return Ok(Vec::new());
    }
    if children.len() == 1 {
        return Ok(vec![parent.clone()]);
    }
    let pb = bbox_of(parent).ok_or_else(|| GeoError::MissingGeometry {
        code: parent_code.to_string(),
    })?;
    let fp = FastPolygon::new(parent);
    let lat0 = (pb[1] + pb[3]) / 2.0;
    let kx = lat0.to_radians().cos();
    let m2 = m2_per_deg2(lat0);
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(seed ^ fnv1a(parent_code)));
    let want = (children.len() * 120).clamp(1500, 12_000);

    let urban: Vec<&Child<'_>> = children.iter().filter(|c| c.urban).collect();
    let rural: Vec<&Child<'_>> = children.iter().filter(|c| !c.urban).collect();
    let all: Vec<&Child<'_>> = children.iter().collect();

    // (children, samples) groups; the default is everyone over uniform samples of the parent.
    let mut groups: Option<Vec<Group<'_, '_>>> = None;
    if let Some(core_part) = bbox_overlap(pb, core)
        && !urban.is_empty()
    {
        let (core_samples, core_area) = sample(&mut rng, &fp, core_part, None, want);
        let core_area_m2 = core_area * m2;
        // Crowd the urban children into the core only when the core part has room for them; a parent
        // that merely grazes the core box is split evenly instead (no fans of slivers in a corner).
        if core_samples.len() >= 4 * urban.len()
            && core_area_m2 >= urban.len() as f64 * min_core_area_per_urban_m2
        {
            let urban_fits = max_core_area_per_urban_m2
                .is_none_or(|max| core_area_m2 / urban.len() as f64 <= max);
            if rural.is_empty() {
                groups = Some(vec![(urban.clone(), core_samples)]);
            } else {
                let (out_samples, _) = sample(&mut rng, &fp, pb, Some(core), want);
                if urban_fits && out_samples.len() >= 4 * rural.len() {
                    groups = Some(vec![
                        (urban.clone(), core_samples),
                        (rural.clone(), out_samples),
                    ]);
                } else if core_samples.len() >= 4 * all.len() {
                    // Too few urban children for the core part (or no room outside it): everyone shares
                    // the core, so no community there grows beyond its grid budget.
                    groups = Some(vec![(all.clone(), core_samples)]);
                }
            }
        }
    }
    let groups = match groups {
        Some(g) => g,
        None => {
            let (samples, _) = sample(&mut rng, &fp, pb, None, want);
            if samples.len() < all.len() {
                return Err(GeoError::EmptyDerived {
                    level,
                    code: format!("{parent_code} (too small to split)"),
                });
            }
            vec![(all.clone(), samples)]
        }
    };

    // Seed points, in the children's order.
    let mut site_of: HashMap<&str, Coord<f64>> = HashMap::with_capacity(children.len());
    for (members, samples) in &groups {
        let seeds = seeds_by_lloyd(members, samples, kx, seed);
        for (m, s) in members.iter().zip(seeds) {
            site_of.insert(m.code, s);
        }
    }
    let sites: Vec<(f64, f64)> = children
        .iter()
        .map(|c| site_of[c.code])
        .map(|c| (c.x * kx, c.y))
        .collect();
    let pad_x = (pb[2] - pb[0]) * 0.05 + 1e-4;
    let pad_y = (pb[3] - pb[1]) * 0.05 + 1e-4;
    let bounds = [
        (pb[0] - pad_x) * kx,
        pb[1] - pad_y,
        (pb[2] + pad_x) * kx,
        pb[3] + pad_y,
    ];

    let mut out = Vec::with_capacity(children.len());
    for (i, ch) in children.iter().enumerate() {
        let cell = voronoi_cell(&sites, i, bounds);
        let ring: Vec<Coord<f64>> = cell.iter().map(|&(x, y)| Coord { x: x / kx, y }).collect();
        let cell_poly = Polygon::new(LineString::from(ring), vec![]);
        let piece = normalize(&parent.intersection(&cell_poly));
        if piece.0.is_empty() {
            return Err(GeoError::EmptyDerived {
                level,
                code: ch.code.to_string(),
            });
        }
        out.push(piece);
    }
    Ok(out)
}

/// The unit grids of one community: (row-major from north, west→east) pieces of the lattice cells.
fn community_grids(
    community: &MultiPolygon<f64>,
    core: [f64; 4],
    lattice: &Lattice,
) -> Vec<MultiPolygon<f64>> {
    let Some(cb) = bbox_of(community) else {
        return Vec::new();
    };
    let Some(ob) = bbox_overlap(cb, core) else {
        return Vec::new();
    };
    let inside_core = cb[0] >= core[0] && cb[1] >= core[1] && cb[2] <= core[2] && cb[3] <= core[3];
    let q = if inside_core {
        community.clone()
    } else {
        community.intersection(&rect_poly(core))
    };
    if q.0.is_empty() {
        return Vec::new();
    }
    let cols = Lattice::span(&lattice.xs, ob[0], ob[2]);
    let rows = Lattice::span(&lattice.ys, ob[1], ob[3]);
    let mut out = Vec::new();
    if cols.is_empty() || rows.is_empty() {
        return out;
    }
    // North first: rows in descending latitude.
    for r in rows.rev() {
        let (y0, y1) = (lattice.ys[r], lattice.ys[r + 1]);
        let x_lo = lattice.xs[cols.start];
        let x_hi = lattice.xs[cols.end];
        let strip = q.intersection(&rect_poly([x_lo, y0, x_hi, y1]));
        let Some(sb) = bbox_of(&strip) else { continue };
        let strip_cols = Lattice::span(&lattice.xs, sb[0], sb[2]);
        if strip_cols.is_empty() {
            continue;
        }
        // Columns crossed by a boundary edge of the strip need clipping; the others are entirely
        // inside or entirely outside it.
        let mut crossed = vec![false; strip_cols.len()];
        let on_band = |a: f64, b: f64| {
            ((a - y0).abs() < LATTICE_EPS && (b - y0).abs() < LATTICE_EPS)
                || ((a - y1).abs() < LATTICE_EPS && (b - y1).abs() < LATTICE_EPS)
        };
        for poly in &strip.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if on_band(a.y, b.y) {
                        continue;
                    }
                    // Columns c with xs[c] + eps < max x and xs[c + 1] - eps > min x.
                    let (ex0, ex1) = (a.x.min(b.x), a.x.max(b.x));
                    let n = lattice.xs.len() - 1;
                    let lo = lattice.xs[1..]
                        .partition_point(|&v| v - LATTICE_EPS <= ex0)
                        .max(strip_cols.start);
                    let hi = lattice.xs[..n]
                        .partition_point(|&v| v + LATTICE_EPS < ex1)
                        .min(strip_cols.end);
                    for c in lo..hi {
                        crossed[c - strip_cols.start] = true;
                    }
                }
            }
        }
        let strip_fp = FastPolygon::new(&strip);
        let m2 = m2_per_deg2((y0 + y1) / 2.0);
        for (k, c) in strip_cols.clone().enumerate() {
            let cell = [lattice.xs[c], y0, lattice.xs[c + 1], y1];
            if crossed[k] {
                let piece = strip.intersection(&rect_poly(cell));
                if piece.unsigned_area() * m2 >= SLIVER_M2 {
                    out.push(piece);
                }
            } else {
                let centre = Coord {
                    x: (cell[0] + cell[2]) / 2.0,
                    y: (cell[1] + cell[3]) / 2.0,
                };
                if strip_fp.position(centre) == CoordPos::Inside
                    && (cell[2] - cell[0]) * (cell[3] - cell[1]) * m2 >= SLIVER_M2
                {
                    out.push(MultiPolygon(vec![rect_poly(cell)]));
                }
            }
        }
    }
    out
}

fn check_params(p: &DeriveParams) -> Result<(), GeoError> {
    let b = p.core_bbox;
    if !b.iter().all(|v| v.is_finite())
        || b[0] >= b[2]
        || b[1] >= b[3]
        || b[0] < -180.0
        || b[2] > 180.0
        || b[1] < -85.0
        || b[3] > 85.0
    {
        return Err(GeoError::InvalidParams(format!(
            "core_bbox {b:?} is not [min_lng, min_lat, max_lng, max_lat]"
        )));
    }
    if !(p.cell_size_m.is_finite() && p.cell_size_m >= 5.0) {
        return Err(GeoError::InvalidParams(format!(
            "cell_size_m {} (must be ≥ 5 m)",
            p.cell_size_m
        )));
    }
    let lat0 = (b[1] + b[3]) / 2.0;
    let cells = ((b[2] - b[0]) * M_PER_DEG * lat0.to_radians().cos() / p.cell_size_m)
        * ((b[3] - b[1]) * M_PER_DEG / p.cell_size_m);
    if cells > 4_000_000.0 {
        return Err(GeoError::InvalidParams(format!(
            "core_bbox with cell_size_m {} gives ≈{cells:.0} cells (limit 4,000,000)",
            p.cell_size_m
        )));
    }
    Ok(())
}

/// 街道 (sub-district) rather than 镇/乡 or a special zone: code digits 7–9 below 100.
fn is_urban_street(code: &str) -> bool {
    code.len() >= 9 && code[6..9] < *"100"
}

/// 居委会/社区 rather than 村委会: code digits 10–12 below 200.
fn is_urban_community(code: &str) -> bool {
    code.len() >= 12 && code[9..12] < *"200"
}

/// districts: with WGS84 geometry; streets (parent = district) and communities (parent = street): no geometry.
pub fn derive_city(
    districts: &[Region],
    streets: &[Region],
    communities: &[Region],
    p: &DeriveParams,
) -> Result<DerivedCity, GeoError> {
    check_params(p)?;
    let core = p.core_bbox;

    // Group the children by parent, everything ordered by code.
    let mut district_polys: BTreeMap<&str, MultiPolygon<f64>> = BTreeMap::new();
    for d in districts {
        let text = d
            .geometry
            .as_deref()
            .ok_or_else(|| GeoError::MissingGeometry {
                code: d.code.clone(),
            })?;
        let mp = parse_polygonal(text).map_err(|e| GeoError::RegionGeometry {
            code: d.code.clone(),
            source: Box::new(e),
        })?;
        district_polys.insert(&d.code, normalize(&mp));
    }
    let mut streets_of: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
    let mut street_by_code: HashMap<&str, &Region> = HashMap::new();
    for s in streets {
        let parent = s.parent_code.as_deref().unwrap_or("");
        if !district_polys.contains_key(parent) {
            return Err(GeoError::UnknownParent {
                level: "street",
                code: s.code.clone(),
                parent: parent.to_string(),
            });
        }
        streets_of.entry(parent).or_default().push(s);
        street_by_code.insert(&s.code, s);
    }
    let mut communities_of: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
    for c in communities {
        let parent = c.parent_code.as_deref().unwrap_or("");
        if !street_by_code.contains_key(parent) {
            return Err(GeoError::UnknownParent {
                level: "community",
                code: c.code.clone(),
                parent: parent.to_string(),
            });
        }
        communities_of.entry(parent).or_default().push(c);
    }
    for v in streets_of.values_mut() {
        v.sort_by(|a, b| a.code.cmp(&b.code));
    }
    for v in communities_of.values_mut() {
        v.sort_by(|a, b| a.code.cmp(&b.code));
    }

    // A community gets at most 999 grids; keep the core area of an urban community well below that.
    let lattice = Lattice::new(core, p.cell_size_m);
    let cell_m2 = p.cell_size_m * p.cell_size_m;
    let street_rule = Placement {
        core,
        min_core_area_per_urban_m2: MIN_CORE_M2_PER_URBAN_STREET,
        max_core_area_per_urban_m2: None,
        seed: p.seed,
        level: "street",
    };
    let community_rule = Placement {
        core,
        min_core_area_per_urban_m2: MIN_CORE_M2_PER_URBAN_COMMUNITY,
        max_core_area_per_urban_m2: Some(999.0 * cell_m2 * 0.6),
        seed: p.seed,
        level: "community",
    };

    let mut out_streets = Vec::with_capacity(streets.len());
    let mut out_communities = Vec::with_capacity(communities.len());
    let mut out_grids = Vec::new();
    for (dcode, dpoly) in &district_polys {
        let Some(ss) = streets_of.get(dcode) else {
            continue;
        };
        let children: Vec<Child<'_>> = ss
            .iter()
            .map(|s| Child {
                code: &s.code,
                urban: is_urban_street(&s.code),
            })
            .collect();
        let street_polys = partition(dcode, dpoly, &children, &street_rule)?;
        for (s, spoly) in ss.iter().zip(street_polys) {
            out_streets.push(region_with_geometry(
                &s.code,
                RegionLevel::Street,
                &s.name,
                Some(dcode),
                &spoly,
                true,
            ));
            let Some(cs) = communities_of.get(s.code.as_str()) else {
                continue;
            };
            let children: Vec<Child<'_>> = cs
                .iter()
                .map(|c| Child {
                    code: &c.code,
                    urban: is_urban_community(&c.code),
                })
                .collect();
            let community_polys = partition(&s.code, &spoly, &children, &community_rule)?;
            for (c, cpoly) in cs.iter().zip(community_polys) {
                let grids = community_grids(&cpoly, core, &lattice);
                if grids.len() > 999 {
                    return Err(GeoError::TooManyGrids {
                        community: c.code.clone(),
                        count: grids.len(),
                    });
                }
                for (i, g) in grids.iter().enumerate() {
                    let code = format!("{}{:03}", c.code, i + 1);
                    let name = format!("{}{:03}号网格", c.name, i + 1);
                    out_grids.push(region_with_geometry(
                        &code,
                        RegionLevel::Grid,
                        &name,
                        Some(&c.code),
                        g,
                        true,
                    ));
                }
                out_communities.push(region_with_geometry(
                    &c.code,
                    RegionLevel::Community,
                    &c.name,
                    Some(&s.code),
                    &cpoly,
                    true,
                ));
            }
        }
    }
    out_streets.sort_by(|a, b| a.code.cmp(&b.code));
    out_communities.sort_by(|a, b| a.code.cmp(&b.code));
    out_grids.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(DerivedCity {
        streets: out_streets,
        communities: out_communities,
        grids: out_grids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattice_spans_cells() {
        let l = Lattice {
            xs: vec![0.0, 1.0, 2.0, 3.0],
            ys: vec![0.0, 1.0],
        };
        assert_eq!(Lattice::span(&l.xs, 0.5, 1.5), 0..2);
        assert_eq!(
            Lattice::span(&l.xs, 1.0, 2.0),
            1..2,
            "touching lines do not add cells"
        );
        assert_eq!(Lattice::span(&l.xs, -5.0, 10.0), 0..3);
        assert!(Lattice::span(&l.xs, 3.0, 4.0).is_empty());
    }

    #[test]
    fn lattice_fits_the_box_with_rounded_lines() {
        let l = Lattice::new([114.33, 23.03, 114.48, 23.15], 100.0);
        assert_eq!((l.xs.len() - 1, l.ys.len() - 1), (153, 133)); // 15.34 km × 13.34 km
        assert_eq!((l.xs[0], *l.xs.last().unwrap()), (114.33, 114.48));
        assert!(l.xs.iter().chain(&l.ys).all(|&v| round7(v) == v));
    }

    #[test]
    fn voronoi_cells_tile_the_bounds() {
        let sites = [(0.1, 0.2), (0.8, 0.3), (0.5, 0.9), (0.45, 0.5), (0.9, 0.95)];
        let bounds = [0.0, 0.0, 1.0, 1.0];
        let mut total = 0.0;
        for i in 0..sites.len() {
            let cell = voronoi_cell(&sites, i, bounds);
            let ring: Vec<Coord<f64>> = cell.iter().map(|&(x, y)| Coord { x, y }).collect();
            let poly = Polygon::new(LineString::from(ring), vec![]);
            // Every point of the cell is nearest to its own site.
            for v in &cell {
                let d = |s: (f64, f64)| (v.0 - s.0).powi(2) + (v.1 - s.1).powi(2);
                assert!(sites.iter().all(|&s| d(sites[i]) <= d(s) + 1e-12));
            }
            total += poly.unsigned_area();
        }
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn urban_codes() {
        assert!(is_urban_street("441302001"));
        assert!(!is_urban_street("441302100"));
        assert!(!is_urban_street("441302401"));
        assert!(is_urban_community("441302001001"));
        assert!(is_urban_community("441302001199"));
        assert!(!is_urban_community("441302001200"));
    }

    #[test]
    fn lloyd_seeds_are_distinct_samples_and_stable() {
        let samples: Vec<Coord<f64>> = (0..400)
            .map(|i| Coord {
                x: (i % 20) as f64 * 0.01,
                y: (i / 20) as f64 * 0.01,
            })
            .collect();
        let kids = [
            Child {
                code: "441302001",
                urban: true,
            },
            Child {
                code: "441302002",
                urban: true,
            },
        ];
        let refs: Vec<&Child<'_>> = kids.iter().collect();
        let a = seeds_by_lloyd(&refs, &samples, 0.92, 7);
        assert_eq!(a, seeds_by_lloyd(&refs, &samples, 0.92, 7));
        assert_ne!(a[0], a[1]);
        assert!(a.iter().all(|s| samples.contains(s)));
    }
}
