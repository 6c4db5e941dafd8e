//! The in-memory locate index: point → 单元网格 (grid) / 社区 (community) / 街道 (street) / 区县 (district).
//!
//! Per level, the polygons sorted by code (so "lowest code" is "lowest index"), prepared for exact point
//! queries, and two ways to find the polygons whose bounding box covers a point:
//! - a uniform bucket grid over the level's bounding box, in CSR layout (per bucket a range of candidate
//!   indices, ascending), with buckets the size of the median envelope: a point finds its bucket by
//!   arithmetic and reads one short list instead of descending a tree (whose descent is a chain of cache
//!   misses for random points). Every envelope is entered in every bucket its *closed* box overlaps, so a
//!   point on a bucket edge still finds it. Built when it stays within bounded memory;
//! - an R-tree (small envelope structs, not geo types, so the rstar version is free): the fallback when
//!   the bucket grid would be too big, and the reference the bucket grid is tested against.
//!
//! Boundary rule: Inside beats OnBoundary, and among equals the lowest code wins, so a point on an edge
//! shared by two grids lands in exactly one.
//!
//! Answers borrow from the index and allocate nothing: the codes of each level live in one text arena, and
//! a parent code that is a prefix of its child's (the usual case: a grid code starts with its community's,
//! street's and district's codes) shares the child's bytes.
use std::collections::HashMap;

use cityops_domain::{Region, RegionLevel};
use geo::Coord;
use geo::coordinate_position::CoordPos;
use rstar::{AABB, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams};
use serde::Serialize;

use crate::pip::FastPolygon;
use crate::{GeoError, parse_polygonal};

/// Where a point lies in the region tree, borrowed from the [`RegionIndex`]: `locate` allocates nothing.
/// Keep it with [`Location::into_owned`] (a [`LocationBuf`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Location<'a> {
    /// 单元网格 code (15 digits), if the point is in a unit grid.
    pub grid_code: Option<&'a str>,
    /// 社区/村 code (12 digits).
    pub community_code: Option<&'a str>,
    /// 街道/镇 code (9 digits).
    pub street_code: Option<&'a str>,
    /// 区/县 code (6 digits).
    pub district_code: &'a str,
}

impl Location<'_> {
    /// The owned form, for callers that store the answer.
    pub fn into_owned(self) -> LocationBuf {
        LocationBuf {
            grid_code: self.grid_code.map(str::to_owned),
            community_code: self.community_code.map(str::to_owned),
            street_code: self.street_code.map(str::to_owned),
            district_code: self.district_code.to_owned(),
        }
    }
}

/// An owned [`Location`]: the same four codes as `String`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LocationBuf {
    /// 单元网格 code (15 digits), if the point is in a unit grid.
    pub grid_code: Option<String>,
    /// 社区/村 code (12 digits).
    pub community_code: Option<String>,
    /// 街道/镇 code (9 digits).
    pub street_code: Option<String>,
    /// 区/县 code (6 digits).
    pub district_code: String,
}

impl LocationBuf {
    /// The borrowed view.
    pub fn as_location(&self) -> Location<'_> {
        Location {
            grid_code: self.grid_code.as_deref(),
            community_code: self.community_code.as_deref(),
            street_code: self.street_code.as_deref(),
            district_code: &self.district_code,
        }
    }
}

impl From<Location<'_>> for LocationBuf {
    fn from(l: Location<'_>) -> Self {
        l.into_owned()
    }
}

/// Where one code lies in a level's text arena (`start == NONE`: no code).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

const NONE: u32 = u32::MAX;

/// The answers of one level: for region `i`, its grid, community, street and district codes.
#[derive(Default)]
struct Answers {
    text: String,
    spans: Vec<[Span; 4]>,
}

impl Answers {
    fn push(&mut self, parts: &[Option<String>; 4]) -> Result<(), GeoError> {
        let mut spans = [Span {
            start: NONE,
            end: NONE,
        }; 4];
        for (k, p) in parts.iter().enumerate() {
            let Some(p) = p else { continue };
            // A parent code that prefixes a code of this region already written shares its bytes.
            let shared = spans[..k]
                .iter()
                .filter(|s| s.start != NONE)
                .find(|s| self.text[s.start as usize..s.end as usize].starts_with(p.as_str()))
                .map(|s| s.start as usize);
            let start = shared.unwrap_or_else(|| {
                self.text.push_str(p);
                self.text.len() - p.len()
            });
            let too_big = || GeoError::InvalidParams("region codes exceed 4 GiB of text".into());
            spans[k] = Span {
                start: u32::try_from(start)
                    .ok()
                    .filter(|&s| s != NONE)
                    .ok_or_else(too_big)?,
                end: u32::try_from(start + p.len()).map_err(|_| too_big())?,
            };
        }
        self.spans.push(spans);
        Ok(())
    }

    #[inline]
    fn get(&self, i: usize, k: usize) -> Option<&str> {
        let s = self.spans[i][k];
        if s.start == NONE {
            return None;
        }
        self.text.get(s.start as usize..s.end as usize)
    }

    fn location(&self, i: usize) -> Location<'_> {
        Location {
            grid_code: self.get(i, 0),
            community_code: self.get(i, 1),
            street_code: self.get(i, 2),
            district_code: self.get(i, 3).unwrap_or_default(),
        }
    }
}

#[inline]
fn box_covers(b: &[f64; 4], c: Coord<f64>) -> bool {
    c.x >= b[0] && c.x <= b[2] && c.y >= b[1] && c.y <= b[3]
}

/// Position of `c` in a polygon that *is* the box `b` (closed-box coverage already checked).
#[inline]
fn rect_position(b: &[f64; 4], c: Coord<f64>) -> CoordPos {
    if c.x > b[0] && c.x < b[2] && c.y > b[1] && c.y < b[3] {
        CoordPos::Inside
    } else {
        CoordPos::OnBoundary
    }
}

/// An R-tree leaf: the bounding box of one polygon, its index in the layer (= code order), and whether
/// the polygon *is* its bounding box (most unit grids: then the exact test needs nothing else).
#[derive(Debug, Clone, Copy)]
struct Leaf {
    aabb: AABB<[f64; 2]>,
    idx: u32,
    rect: bool,
}

impl RTreeObject for Leaf {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.aabb
    }
}

#[inline]
fn aabb_covers(b: &AABB<[f64; 2]>, c: Coord<f64>) -> bool {
    let (lo, hi) = (b.lower(), b.upper());
    c.x >= lo[0] && c.x <= hi[0] && c.y >= lo[1] && c.y <= hi[1]
}

/// Calls `f` for every leaf whose box covers `c` (boundary included): a plain recursive descent over
/// rstar's nodes, cheaper per query than the generic selection iterator.
fn visit_at_point<'a>(node: &'a ParentNode<Leaf>, c: Coord<f64>, f: &mut impl FnMut(&'a Leaf)) {
    for child in node.children() {
        match child {
            RTreeNode::Leaf(e) => {
                if aabb_covers(&e.aabb, c) {
                    f(e);
                }
            }
            RTreeNode::Parent(p) => {
                if aabb_covers(&p.envelope(), c) {
                    visit_at_point(p, c, f);
                }
            }
        }
    }
}

/// R-tree node sizes for point queries (rstar's default of 6 children; kept explicit).
struct NodeParams;

impl RTreeParams for NodeParams {
    const MIN_SIZE: usize = 3;
    const MAX_SIZE: usize = 6;
    const REINSERTION_COUNT: usize = 2;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// Bucket side = this × the median envelope side (measured on Huizhou: see docs/PERFORMANCE.md).
const BUCKET_SCALE: f64 = 1.0;
/// At most this many buckets per level (4 MiB of offsets); a finer grid is coarsened to fit.
const MAX_BUCKETS: usize = 1 << 20;
/// At most this many bucket entries per region on average (plus one per bucket), else the R-tree serves
/// the level: many big envelopes over small ones would make the lists long.
const MAX_ENTRIES_PER_REGION: usize = 16;
/// Candidate flag: the polygon is not its bounding box (needs the exact point-in-polygon test).
const NOT_RECT: u32 = 1 << 31;

/// A uniform grid of buckets over a level's bounding box, each listing (ascending) the regions whose
/// closed bounding box overlaps it.
struct Buckets {
    x0: f64,
    y0: f64,
    /// Buckets per degree of longitude / latitude (0 when the level has no extent that way).
    kx: f64,
    ky: f64,
    nx: usize,
    ny: usize,
    /// `cands[start[k]..start[k + 1]]` are bucket k's regions (row-major, k = row × nx + col).
    start: Vec<u32>,
    /// Region index, `| NOT_RECT` when the exact test is needed.
    cands: Vec<u32>,
}

impl Buckets {
    /// Column of `x`: non-decreasing in `x` (a rounded subtraction and product, truncation, clamping),
    /// so a point inside a closed box lands in a column between the box's lowest and highest.
    #[inline]
    fn col(&self, x: f64) -> usize {
        (((x - self.x0) * self.kx) as usize).min(self.nx - 1)
    }

    #[inline]
    fn row(&self, y: f64) -> usize {
        (((y - self.y0) * self.ky) as usize).min(self.ny - 1)
    }

    /// `None` when the grid would exceed the memory bounds (then the R-tree serves the level).
    fn build(boxes: &[[f64; 4]], rect: &[bool], bbox: [f64; 4]) -> Option<Buckets> {
        let n = boxes.len();
        if n == 0 || n >= NOT_RECT as usize {
            return None;
        }
        let median = |side: &dyn Fn(&[f64; 4]) -> f64| {
            let mut v: Vec<f64> = boxes.iter().map(side).collect();
            let mid = v.len() / 2;
            *v.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        let (w, h) = (bbox[2] - bbox[0], bbox[3] - bbox[1]);
        let count = |extent: f64, side: f64| -> usize {
            let side = side * BUCKET_SCALE;
            if extent > 0.0 && side > 0.0 {
                (extent / side).ceil().clamp(1.0, MAX_BUCKETS as f64) as usize
            } else {
                1
            }
        };
        let mut nx = count(w, median(&|b| b[2] - b[0]));
        let mut ny = count(h, median(&|b| b[3] - b[1]));
        while nx.saturating_mul(ny) > MAX_BUCKETS {
            nx = nx.div_ceil(2);
            ny = ny.div_ceil(2);
        }
        let mut g = Buckets {
            x0: bbox[0],
            y0: bbox[1],
            kx: if w > 0.0 { nx as f64 / w } else { 0.0 },
            ky: if h > 0.0 { ny as f64 / h } else { 0.0 },
            nx,
            ny,
            start: Vec::new(),
            cands: Vec::new(),
        };
        let span = |b: &[f64; 4]| (g.col(b[0])..=g.col(b[2]), g.row(b[1])..=g.row(b[3]));
        let limit = (MAX_ENTRIES_PER_REGION * n + nx * ny).min(u32::MAX as usize);
        let mut total = 0usize;
        for b in boxes {
            let (cols, rows) = span(b);
            total += cols.count() * rows.count();
            if total > limit {
                return None;
            }
        }
        let mut start = vec![0u32; nx * ny + 1];
        for b in boxes {
            let (cols, rows) = span(b);
            for r in rows {
                for c in cols.clone() {
                    start[r * nx + c + 1] += 1;
                }
            }
        }
        for k in 1..start.len() {
            start[k] += start[k - 1];
        }
        let mut fill = start.clone();
        let mut cands = vec![0u32; total];
        // Ascending region order within each bucket: the first Inside found is the lowest code.
        for (i, b) in boxes.iter().enumerate() {
            let flag = if rect[i] { 0 } else { NOT_RECT };
            let (cols, rows) = span(b);
            for r in rows {
                for c in cols.clone() {
                    let f = &mut fill[r * nx + c];
                    cands[*f as usize] = i as u32 | flag;
                    *f += 1;
                }
            }
        }
        g.start = start;
        g.cands = cands;
        Some(g)
    }
}

/// The polygons of one level, sorted by code so "lowest code" is "lowest index".
struct Layer {
    /// Bounding box of region i, [min_x, min_y, max_x, max_y].
    boxes: Vec<[f64; 4]>,
    polys: Vec<FastPolygon>,
    answers: Answers,
    tree: RTree<Leaf, NodeParams>,
    buckets: Option<Buckets>,
    bbox: Option<[f64; 4]>,
}

impl Layer {
    /// `answer(code)` gives the location of a point in the region `code`.
    fn build(
        regions: &[Region],
        answer: impl Fn(&str) -> [Option<String>; 4],
    ) -> Result<Self, GeoError> {
        let mut items: Vec<(&str, FastPolygon, [f64; 4])> = Vec::with_capacity(regions.len());
        for r in regions {
            let Some(text) = r.geometry.as_deref() else {
                continue;
            };
            let mp = parse_polygonal(text).map_err(|e| GeoError::RegionGeometry {
                code: r.code.clone(),
                source: Box::new(e),
            })?;
            let fp = FastPolygon::new(&mp);
            if let Some(b) = fp.bbox {
                items.push((&r.code, fp, b));
            }
        }
        items.sort_by(|a, b| a.0.cmp(b.0));
        let mut bbox: Option<[f64; 4]> = None;
        let mut answers = Answers::default();
        let mut leaves = Vec::with_capacity(items.len());
        let mut rect = Vec::with_capacity(items.len());
        for (i, (code, fp, b)) in items.iter().enumerate() {
            let u = bbox.get_or_insert(*b);
            *u = [
                u[0].min(b[0]),
                u[1].min(b[1]),
                u[2].max(b[2]),
                u[3].max(b[3]),
            ];
            answers.push(&answer(code))?;
            rect.push(fp.is_rect());
            leaves.push(Leaf {
                aabb: AABB::from_corners([b[0], b[1]], [b[2], b[3]]),
                idx: i as u32,
                rect: fp.is_rect(),
            });
        }
        let boxes: Vec<[f64; 4]> = items.iter().map(|it| it.2).collect();
        let buckets = bbox.and_then(|bb| Buckets::build(&boxes, &rect, bb));
        Ok(Layer {
            boxes,
            polys: items.into_iter().map(|it| it.1).collect(),
            answers,
            tree: RTree::bulk_load_with_params(leaves),
            buckets,
            bbox,
        })
    }

    /// The region that takes the point: Inside beats OnBoundary, lowest code among equals.
    #[inline]
    fn find(&self, c: Coord<f64>) -> Option<usize> {
        if !self.bbox.is_some_and(|b| box_covers(&b, c)) {
            return None;
        }
        match &self.buckets {
            Some(g) => self.find_in_bucket(g, c),
            None => self.find_in_tree(c),
        }
    }

    #[inline]
    fn find_in_bucket(&self, g: &Buckets, c: Coord<f64>) -> Option<usize> {
        let k = g.row(c.y) * g.nx + g.col(c.x);
        let (s, e) = (g.start[k] as usize, g.start[k + 1] as usize);
        let mut on_boundary = None;
        for &cand in &g.cands[s..e] {
            let i = (cand & !NOT_RECT) as usize;
            let b = &self.boxes[i];
            if !box_covers(b, c) {
                continue;
            }
            let pos = if cand & NOT_RECT == 0 {
                rect_position(b, c)
            } else {
                self.polys[i].position(c)
            };
            match pos {
                // Ascending order: the first Inside is the lowest code inside.
                CoordPos::Inside => return Some(i),
                CoordPos::OnBoundary => {
                    on_boundary.get_or_insert(i);
                }
                CoordPos::Outside => {}
            }
        }
        on_boundary
    }

    fn find_in_tree(&self, c: Coord<f64>) -> Option<usize> {
        let mut best: Option<(bool, u32)> = None;
        visit_at_point(self.tree.root(), c, &mut |e| {
            let i = e.idx as usize;
            let pos = if e.rect {
                rect_position(&self.boxes[i], c)
            } else {
                self.polys[i].position(c)
            };
            let inside = match pos {
                CoordPos::Outside => return,
                CoordPos::Inside => true,
                CoordPos::OnBoundary => false,
            };
            let better = match best {
                None => true,
                Some((b_in, b)) => (inside && !b_in) || (inside == b_in && e.idx < b),
            };
            if better {
                best = Some((inside, e.idx));
            }
        });
        best.map(|(_, i)| i as usize)
    }

    fn describe(&self) -> String {
        let n = self.boxes.len();
        match &self.buckets {
            None => format!("{n} regions, R-tree"),
            Some(g) => format!(
                "{n} regions, {}×{} buckets, {} entries ({:.2} per bucket, {} KiB)",
                g.nx,
                g.ny,
                g.cands.len(),
                g.cands.len() as f64 / (g.nx * g.ny) as f64,
                (g.cands.len() + g.start.len()) * 4 / 1024
            ),
        }
    }
}

/// The locate index over region polygons. Send + Sync; build once, share as `Arc`.
pub struct RegionIndex {
    grids: Layer,
    communities: Layer,
    streets: Layer,
    districts: Layer,
}

impl RegionIndex {
    /// Builds the index. Regions without geometry are not searchable but still give the parent chain
    /// (e.g. a grid's community → street → district); a parent not given is taken from the code prefix.
    pub fn build(
        districts: &[Region],
        streets: &[Region],
        communities: &[Region],
        grids: &[Region],
    ) -> Result<Self, GeoError> {
        let mut parents: HashMap<&str, &str> =
            HashMap::with_capacity(streets.len() + communities.len() + grids.len());
        for r in streets.iter().chain(communities).chain(grids) {
            if let Some(p) = &r.parent_code {
                parents.insert(&r.code, p);
            }
        }
        // The parent of `code` (a code of `level`): the recorded parent, else the code prefix.
        let parent_of = |code: &str, level: RegionLevel| -> String {
            if let Some(p) = parents.get(code) {
                return p.to_string();
            }
            let len = level
                .parent()
                .map(RegionLevel::code_len)
                .unwrap_or(6)
                .min(code.len());
            code[..len].to_string()
        };
        let district_of_street = |s: &str| parent_of(s, RegionLevel::Street);
        Ok(RegionIndex {
            grids: Layer::build(grids, |g| {
                let community = parent_of(g, RegionLevel::Grid);
                let street = parent_of(&community, RegionLevel::Community);
                let district = district_of_street(&street);
                [
                    Some(g.to_string()),
                    Some(community),
                    Some(street),
                    Some(district),
                ]
            })?,
            communities: Layer::build(communities, |c| {
                let street = parent_of(c, RegionLevel::Community);
                let district = district_of_street(&street);
                [None, Some(c.to_string()), Some(street), Some(district)]
            })?,
            streets: Layer::build(streets, |s| {
                [None, None, Some(s.to_string()), Some(district_of_street(s))]
            })?,
            districts: Layer::build(districts, |d| [None, None, None, Some(d.to_string())])?,
        })
    }

    fn layers(&self) -> [&Layer; 4] {
        [
            &self.grids,
            &self.communities,
            &self.streets,
            &self.districts,
        ]
    }

    /// WGS84; None = outside every district (and every derived/imported polygon). The answer borrows
    /// from the index: `.into_owned()` to keep it.
    #[inline]
    pub fn locate(&self, lng: f64, lat: f64) -> Option<Location<'_>> {
        if !(lng.is_finite() && lat.is_finite()) {
            return None;
        }
        let c = Coord { x: lng, y: lat };
        self.layers()
            .into_iter()
            .find_map(|layer| layer.find(c).map(|i| layer.answers.location(i)))
    }

    /// [`RegionIndex::locate`] through the R-trees only (the fallback of a level whose bucket grid would be
    /// too big): the same answers, for the equivalence tests and the benchmark.
    #[doc(hidden)]
    pub fn locate_rtree(&self, lng: f64, lat: f64) -> Option<Location<'_>> {
        if !(lng.is_finite() && lat.is_finite()) {
            return None;
        }
        let c = Coord { x: lng, y: lat };
        self.layers().into_iter().find_map(|layer| {
            let inside = layer.bbox.is_some_and(|b| box_covers(&b, c));
            let i = if inside { layer.find_in_tree(c) } else { None };
            i.map(|i| layer.answers.location(i))
        })
    }

    /// The unit-grid level's bucket grid as [x0, y0, bucket width, bucket height] (`None`: R-tree), so
    /// tests can aim at bucket edges.
    #[doc(hidden)]
    pub fn grid_buckets(&self) -> Option<[f64; 4]> {
        self.grids
            .buckets
            .as_ref()
            .map(|g| [g.x0, g.y0, 1.0 / g.kx, 1.0 / g.ky])
    }

    /// One line per level: regions and how they are searched (bucket grid size and memory, or R-tree).
    #[doc(hidden)]
    pub fn describe(&self) -> String {
        ["grids", "communities", "streets", "districts"]
            .iter()
            .zip(self.layers())
            .map(|(name, l)| format!("{name}: {}", l.describe()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Number of indexed unit grids (with geometry).
    pub fn grid_count(&self) -> usize {
        self.grids.boxes.len()
    }

    /// The union of the bounding boxes of everything indexed, [min_lng, min_lat, max_lng, max_lat].
    pub fn bbox(&self) -> Option<[f64; 4]> {
        [
            &self.districts,
            &self.streets,
            &self.communities,
            &self.grids,
        ]
        .iter()
        .filter_map(|l| l.bbox)
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region_with_geometry;
    use geo::{MultiPolygon, Rect};

    fn rect_region(code: &str, level: RegionLevel, parent: Option<&str>, r: [f64; 4]) -> Region {
        let mp = MultiPolygon(vec![Rect::new((r[0], r[1]), (r[2], r[3])).to_polygon()]);
        region_with_geometry(code, level, code, parent, &mp, true)
    }

    #[test]
    fn shared_edge_goes_to_lowest_code_and_fallbacks_work() {
        let d = vec![rect_region(
            "441302",
            RegionLevel::District,
            Some("441300"),
            [0.0, 0.0, 4.0, 4.0],
        )];
        let s = vec![rect_region(
            "441302001",
            RegionLevel::Street,
            Some("441302"),
            [0.0, 0.0, 2.0, 4.0],
        )];
        let c = vec![rect_region(
            "441302001001",
            RegionLevel::Community,
            Some("441302001"),
            [0.0, 0.0, 2.0, 2.0],
        )];
        let g = vec![
            rect_region(
                "441302001001002",
                RegionLevel::Grid,
                Some("441302001001"),
                [1.0, 0.0, 2.0, 1.0],
            ),
            rect_region(
                "441302001001001",
                RegionLevel::Grid,
                Some("441302001001"),
                [0.0, 0.0, 1.0, 1.0],
            ),
        ];
        let idx = RegionIndex::build(&d, &s, &c, &g).unwrap();
        assert_eq!(idx.grid_count(), 2);
        assert_eq!(idx.bbox(), Some([0.0, 0.0, 4.0, 4.0]));
        let on_edge = idx.locate(1.0, 0.5).unwrap();
        assert_eq!(on_edge.grid_code, Some("441302001001001"));
        assert_eq!(on_edge.community_code, Some("441302001001"));
        assert_eq!(on_edge.street_code, Some("441302001"));
        assert_eq!(on_edge.district_code, "441302");
        assert_eq!(
            idx.locate(1.5, 0.5).unwrap().grid_code,
            Some("441302001001002")
        );
        let in_community = idx.locate(0.5, 1.5).unwrap();
        assert_eq!(in_community.grid_code, None);
        assert_eq!(in_community.community_code, Some("441302001001"));
        let in_street = idx.locate(0.5, 3.0).unwrap();
        assert_eq!(
            (in_street.community_code, in_street.street_code),
            (None, Some("441302001"))
        );
        let in_district = idx.locate(3.0, 3.0).unwrap();
        assert_eq!(
            (in_district.street_code, in_district.district_code),
            (None, "441302")
        );
        assert_eq!(idx.locate(5.0, 5.0), None);
        assert_eq!(idx.locate(f64::NAN, 1.0), None);
    }

    #[test]
    fn long_codes_spill_out_of_the_leaf_and_still_answer() {
        let long = "9".repeat(40);
        let d = vec![rect_region(
            "441302",
            RegionLevel::District,
            None,
            [0.0, 0.0, 1.0, 1.0],
        )];
        let mut g = rect_region(
            "441302001001001",
            RegionLevel::Grid,
            None,
            [0.0, 0.0, 0.5, 0.5],
        );
        g.code = format!("{long}001");
        g.parent_code = Some(long.clone());
        let idx = RegionIndex::build(&d, &[], &[], &[g]).unwrap();
        let loc = idx.locate(0.25, 0.25).unwrap();
        assert_eq!(loc.grid_code, Some(format!("{long}001").as_str()));
        assert_eq!(loc.community_code, Some(long.as_str()));
        // No street is known: the structural prefix stands in.
        assert_eq!(loc.street_code, Some(&long[..9]));
        assert_eq!(loc.district_code, &long[..6]);
        assert_eq!(idx.locate(0.75, 0.75).unwrap().district_code, "441302");
    }

    #[test]
    fn index_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RegionIndex>();
    }

    #[test]
    fn parent_codes_share_the_text_of_their_child() {
        let mut a = Answers::default();
        let parts = [
            Some("441302001001007".to_string()),
            Some("441302001001".to_string()),
            Some("441302001".to_string()),
            Some("441302".to_string()),
        ];
        a.push(&parts).unwrap();
        a.push(&[None, Some("x".repeat(45)), Some("4413".into()), None])
            .unwrap();
        assert_eq!(a.text, format!("441302001001007{}4413", "x".repeat(45)));
        let got: Vec<Option<&str>> = (0..4).map(|k| a.get(0, k)).collect();
        let want: Vec<Option<&str>> = parts.iter().map(Option::as_deref).collect();
        assert_eq!(got, want);
        assert_eq!(a.location(1).grid_code, None);
        assert_eq!(a.location(1).district_code, "");
        let owned = a.location(0).into_owned();
        assert_eq!(owned.as_location(), a.location(0));
        assert_eq!(owned.district_code, "441302");
    }

    #[test]
    fn bad_geometry_names_the_region() {
        let mut d = rect_region("441302", RegionLevel::District, None, [0.0, 0.0, 1.0, 1.0]);
        d.geometry = Some("{\"type\":\"Point\",\"coordinates\":[0,0]}".into());
        let err = RegionIndex::build(&[d], &[], &[], &[]).err().unwrap();
        assert!(err.to_string().contains("441302"), "{err}");
    }

    /// A synthetic level of unit grids: an `nx × ny` lattice of cells at `o` with cell size `s`; every
    /// `cut`-th cell cut along its diagonal into two triangles (not rectangles), and a few 2 × 2 blocks
    /// laid over the lattice (overlaps: Inside beats OnBoundary, lowest code among equals). Returns the
    /// index and, for brute force, every grid's code and parsed polygon in code order.
    fn lattice(
        o: (f64, f64),
        s: (f64, f64),
        n: (usize, usize),
        cut: usize,
    ) -> (RegionIndex, Vec<(String, MultiPolygon<f64>)>) {
        let mut polys: Vec<MultiPolygon<f64>> = Vec::new();
        let at = |i: usize, j: usize| (o.0 + i as f64 * s.0, o.1 + j as f64 * s.1);
        for j in 0..n.1 {
            for i in 0..n.0 {
                let (a, b) = (at(i, j), at(i + 1, j + 1));
                if (i + j * n.0) % cut == cut - 1 {
                    for tri in [vec![a, (b.0, a.1), b, a], vec![a, b, (a.0, b.1), a]] {
                        polys.push(MultiPolygon(vec![geo::Polygon::new(tri.into(), vec![])]));
                    }
                } else {
                    polys.push(MultiPolygon(vec![Rect::new(a, b).to_polygon()]));
                }
            }
        }
        for k in (0..n.0.min(n.1).saturating_sub(2)).step_by(3) {
            let r = Rect::new(at(k, k), at(k + 2, k + 2));
            polys.insert(k * 7 % polys.len(), MultiPolygon(vec![r.to_polygon()]));
        }
        let grids: Vec<Region> = polys
            .iter()
            .enumerate()
            .map(|(i, mp)| {
                let code = format!("441302001{:03}{:03}", 1 + i / 999, 1 + i % 999);
                rect_region_mp(&code, RegionLevel::Grid, Some(&code[..12]), mp)
            })
            .collect();
        let (lo, hi) = (at(0, 0), at(n.0, n.1));
        let district = rect_region(
            "441302",
            RegionLevel::District,
            None,
            [lo.0 - s.0, lo.1 - s.1, hi.0 + s.0, hi.1 + s.1],
        );
        let index = RegionIndex::build(&[district], &[], &[], &grids).unwrap();
        let mut parsed: Vec<(String, MultiPolygon<f64>)> = grids
            .iter()
            .map(|g| {
                let mp = crate::parse_polygonal(g.geometry.as_deref().unwrap()).unwrap();
                (g.code.clone(), mp)
            })
            .collect();
        parsed.sort_by(|a, b| a.0.cmp(&b.0));
        (index, parsed)
    }

    fn rect_region_mp(
        code: &str,
        level: RegionLevel,
        parent: Option<&str>,
        mp: &MultiPolygon<f64>,
    ) -> Region {
        region_with_geometry(code, level, code, parent, mp, true)
    }

    /// The rule by brute force with geo's own predicate: Inside beats OnBoundary, lowest code among equals.
    fn brute_force(grids: &[(String, MultiPolygon<f64>)], c: Coord<f64>) -> Option<&str> {
        use geo::CoordinatePosition;
        let mut best: Option<(bool, &str)> = None;
        for (code, mp) in grids {
            let mut pos = CoordPos::Outside;
            for p in &mp.0 {
                match p.coordinate_position(&c) {
                    CoordPos::Inside => pos = CoordPos::Inside,
                    CoordPos::OnBoundary if pos == CoordPos::Outside => pos = CoordPos::OnBoundary,
                    _ => {}
                }
            }
            let inside = match pos {
                CoordPos::Outside => continue,
                CoordPos::Inside => true,
                CoordPos::OnBoundary => false,
            };
            if best.is_none_or(|(b_in, _)| inside && !b_in) {
                best = Some((inside, code));
            }
        }
        best.map(|(_, code)| code)
    }

    /// `x` moved by `d` units in the last place.
    fn ulps(x: f64, d: i64) -> f64 {
        let mut x = x;
        for _ in 0..d.unsigned_abs() {
            x = if d > 0 { x.next_up() } else { x.next_down() };
        }
        x
    }

    #[test]
    fn lattice_levels_get_a_bucket_grid() {
        let (idx, grids) = lattice((114.3, 23.0), (0.001, 0.0009), (40, 30), 5);
        assert_eq!(idx.grid_count(), grids.len());
        let b = idx.grid_buckets().expect("bucket grid built");
        // Median envelope = one lattice cell.
        assert!(
            (b[2] - 0.001).abs() < 1e-9 && (b[3] - 0.0009).abs() < 1e-9,
            "{b:?}"
        );
        assert!(idx.describe().contains("buckets"), "{}", idx.describe());
    }

    #[test]
    fn too_many_entries_fall_back_to_the_rtree() {
        // 100 tiny boxes set the bucket size; 60 boxes over everything would each fill every bucket.
        let mut boxes: Vec<[f64; 4]> = (0..100)
            .map(|i| {
                let x = f64::from(i) * 10.0;
                [x, 0.0, x + 0.01, 0.01]
            })
            .collect();
        boxes.extend((0..60).map(|_| [0.0, 0.0, 1000.0, 1000.0]));
        let rect = vec![true; boxes.len()];
        assert!(Buckets::build(&boxes, &rect, [0.0, 0.0, 1000.0, 1000.0]).is_none());
        // Bounded: the bucket count never exceeds the cap however small the median.
        let g = Buckets::build(&boxes[..100], &rect[..100], [0.0, 0.0, 1000.0, 1000.0]).unwrap();
        assert!(g.nx * g.ny <= MAX_BUCKETS, "{}×{}", g.nx, g.ny);
    }

    #[test]
    fn fallback_level_answers_like_the_bucket_grid() {
        // A level where big overlapping boxes dominate: served by the R-tree, same answers.
        let big = |k: usize| {
            let x = k as f64 * 0.1;
            MultiPolygon(vec![Rect::new((x, 0.0), (x + 50.0, 50.0)).to_polygon()])
        };
        let tiny = |k: usize| {
            let x = k as f64 * 0.5;
            MultiPolygon(vec![Rect::new((x, 60.0), (x + 0.001, 60.001)).to_polygon()])
        };
        let grids: Vec<Region> = (0..60)
            .map(big)
            .chain((0..100).map(tiny))
            .enumerate()
            .map(|(i, mp)| {
                let code = format!("441302001001{:03}", i + 1);
                rect_region_mp(&code, RegionLevel::Grid, Some(&code[..12]), &mp)
            })
            .collect();
        let idx = RegionIndex::build(&[], &[], &[], &grids).unwrap();
        assert_eq!(idx.grid_buckets(), None, "{}", idx.describe());
        let hit = idx.locate(25.0, 25.0).unwrap();
        assert_eq!(hit.grid_code, Some("441302001001001"));
        assert_eq!(idx.locate(25.0, 25.0), idx.locate_rtree(25.0, 25.0));
        assert_eq!(
            idx.locate(10.0005, 60.0005).unwrap().grid_code,
            Some("441302001001081")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The bucket grid answers exactly what the R-tree and brute force answer, at random points, at
        /// lattice corners and on lattice edges, just around bucket edges, and outside everything.
        #[test]
        fn buckets_agree_with_rtree_and_brute_force(
            kind in 0u8..6,
            i in 0usize..64,
            j in 0usize..64,
            fx in -0.2f64..1.2,
            fy in -0.2f64..1.2,
            dx in -2i64..=2,
            dy in -2i64..=2,
            shape in 0usize..3,
        ) {
            use std::sync::OnceLock;
            type Lattice = (RegionIndex, Vec<(String, MultiPolygon<f64>)>);
            static L: OnceLock<Vec<Lattice>> = OnceLock::new();
            let lattices = L.get_or_init(|| {
                vec![
                    lattice((114.33, 23.03), (0.000_976_1, 0.000_898_3), (24, 20), 4),
                    // No lattice line through 0: one ulp off 0 is subnormal, where geo's predicate (the
                    // brute force here) misplaces points.
                    lattice((-3.5, -2.25), (0.125, 0.0625), (16, 16), 3),
                    lattice((118.0, 24.4), (0.01, 0.003), (9, 31), 7),
                ]
            });
            let (idx, grids) = &lattices[shape];
            let bb = idx.bbox().unwrap();
            let (w, h) = (bb[2] - bb[0], bb[3] - bb[1]);
            let vertex = |i: usize, j: usize| {
                let ring = &grids[i * 31 % grids.len()].1 .0[0].exterior().0;
                ring[j % (ring.len() - 1)]
            };
            let c = match kind {
                0 => Coord { x: bb[0] + fx * w, y: bb[1] + fy * h },
                1 => vertex(i, j),
                2 => {
                    let v = vertex(i, j);
                    Coord { x: v.x, y: bb[1] + fy * h }
                }
                3 => {
                    let v = vertex(i, j);
                    Coord { x: bb[0] + fx * w, y: v.y }
                }
                4 => {
                    let g = idx.grid_buckets().unwrap();
                    let x = g[0] + (i % 30) as f64 * g[2];
                    let y = g[1] + (j % 30) as f64 * g[3];
                    Coord { x: ulps(x, dx), y: ulps(y, dy) }
                }
                _ => Coord { x: bb[0] - 1.0 - fx, y: bb[3] + fy },
            };
            let fast = idx.locate(c.x, c.y);
            proptest::prop_assert_eq!(fast, idx.locate_rtree(c.x, c.y), "point {:?}", c);
            let want = brute_force(grids, c);
            proptest::prop_assert_eq!(fast.and_then(|l| l.grid_code), want, "point {:?}", c);
        }
    }
}
