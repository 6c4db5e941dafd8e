//! Exact point-in-polygon with boundary detection, accelerated for big rings.
//!
//! The rule is the one of `geo::CoordinatePosition` for a single polygon (winding number with the
//! robust orientation predicate, on-boundary short-circuit), applied per polygon part: a point is
//! Inside a multipolygon if it is inside any part, OnBoundary if on the boundary of some part and inside
//! none. Rings with many vertices get a horizontal slab index so a query only looks at the edges that
//! overlap its latitude — district boundaries have thousands of vertices.
use geo::coordinate_position::CoordPos;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon};

/// Rings with more points than this get a slab index.
const SLAB_MIN_POINTS: usize = 48;

#[derive(Debug, Clone)]
struct Ring {
    pts: Vec<Coord<f64>>,
    min: Coord<f64>,
    max: Coord<f64>,
    /// Slab index: `slab_start[k]..slab_start[k + 1]` are the entries of `slab_edges` for slab k.
    slab_y0: f64,
    slab_h: f64,
    slab_start: Vec<u32>,
    slab_edges: Vec<u32>,
}

impl Ring {
    fn new(pts: &[Coord<f64>]) -> Self {
        let mut min = Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        };
        let mut max = Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        };
        for c in pts {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        let mut ring = Ring {
            pts: pts.to_vec(),
            min,
            max,
            slab_y0: min.y,
            slab_h: 1.0,
            slab_start: Vec::new(),
            slab_edges: Vec::new(),
        };
        if pts.len() > SLAB_MIN_POINTS && max.y > min.y {
            ring.build_slabs();
        }
        ring
    }

    fn slab_of(&self, y: f64, n: usize) -> usize {
        let k = ((y - self.slab_y0) / self.slab_h).floor();
        if k <= 0.0 {
            0
        } else if k as usize >= n {
            n - 1
        } else {
            k as usize
        }
    }

    fn build_slabs(&mut self) {
        let edges = self.pts.len() - 1;
        let n = (edges / 4).clamp(1, 4096);
        self.slab_h = (self.max.y - self.min.y) / n as f64;
        let mut counts = vec![0u32; n + 1];
        let range = |r: &Ring, i: usize| {
            let (a, b) = (r.pts[i], r.pts[i + 1]);
            (r.slab_of(a.y.min(b.y), n), r.slab_of(a.y.max(b.y), n))
        };
        for i in 0..edges {
            let (lo, hi) = range(self, i);
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut start = vec![0u32; n + 1];
        for k in 0..n {
            start[k + 1] = start[k] + counts[k];
        }
        let mut fill = start.clone();
        let mut slab_edges = vec![0u32; start[n] as usize];
        for i in 0..edges {
            let (lo, hi) = range(self, i);
            for f in &mut fill[lo..=hi] {
                slab_edges[*f as usize] = i as u32;
                *f += 1;
            }
        }
        self.slab_start = start;
        self.slab_edges = slab_edges;
    }

    #[inline]
    fn bbox_has(&self, c: Coord<f64>) -> bool {
        c.x >= self.min.x && c.x <= self.max.x && c.y >= self.min.y && c.y <= self.max.y
    }

    /// Position relative to this ring (as `geo::coordinate_position::coord_pos_relative_to_ring`).
    fn position(&self, c: Coord<f64>) -> CoordPos {
        if !self.bbox_has(c) {
            return CoordPos::Outside;
        }
        let mut winding = 0i32;
        if self.slab_start.is_empty() {
            for i in 0..self.pts.len() - 1 {
                if let Some(pos) = edge_step(self.pts[i], self.pts[i + 1], c, &mut winding) {
                    return pos;
                }
            }
        } else {
            let n = self.slab_start.len() - 1;
            let k = self.slab_of(c.y, n);
            let (s, e) = (self.slab_start[k] as usize, self.slab_start[k + 1] as usize);
            for &i in &self.slab_edges[s..e] {
                let i = i as usize;
                if let Some(pos) = edge_step(self.pts[i], self.pts[i + 1], c, &mut winding) {
                    return pos;
                }
            }
        }
        if winding == 0 {
            CoordPos::Outside
        } else {
            CoordPos::Inside
        }
    }
}

#[inline]
fn between(v: f64, a: f64, b: f64) -> bool {
    if a <= b {
        a <= v && v <= b
    } else {
        b <= v && v <= a
    }
}

/// One edge of the winding-number loop; `Some(OnBoundary)` short-circuits.
#[inline]
fn edge_step(
    start: Coord<f64>,
    end: Coord<f64>,
    c: Coord<f64>,
    winding: &mut i32,
) -> Option<CoordPos> {
    if start.y <= c.y {
        if end.y >= c.y {
            let o = RobustKernel::orient2d(start, end, c);
            if o == Orientation::CounterClockwise && end.y != c.y {
                *winding += 1;
            } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                return Some(CoordPos::OnBoundary);
            }
        }
    } else if end.y <= c.y {
        let o = RobustKernel::orient2d(start, end, c);
        if o == Orientation::Clockwise {
            *winding -= 1;
        } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
            return Some(CoordPos::OnBoundary);
        }
    }
    None
}

#[derive(Debug, Clone)]
struct Part {
    exterior: Ring,
    holes: Vec<Ring>,
}

/// A multipolygon prepared for repeated exact point queries.
#[derive(Debug, Clone)]
pub(crate) struct FastPolygon {
    parts: Vec<Part>,
    /// [min_x, min_y, max_x, max_y]; `None` when empty.
    pub(crate) bbox: Option<[f64; 4]>,
    /// Set when the polygon is exactly an axis-aligned rectangle (most unit grids): then the position
    /// is a few comparisons, with the same answer as the general test.
    rect: bool,
}

/// Whether a single-ring polygon is an axis-aligned rectangle equal to its bounding box.
fn is_axis_rect(part: &Part) -> bool {
    let r = &part.exterior;
    if !part.holes.is_empty() || r.pts.len() != 5 || r.min.x >= r.max.x || r.min.y >= r.max.y {
        return false;
    }
    let corners_ok = r
        .pts
        .iter()
        .all(|c| (c.x == r.min.x || c.x == r.max.x) && (c.y == r.min.y || c.y == r.max.y));
    let axis_edges = r
        .pts
        .windows(2)
        .all(|w| (w[0].x == w[1].x) != (w[0].y == w[1].y));
    corners_ok && axis_edges
}

impl FastPolygon {
    pub(crate) fn new(mp: &MultiPolygon<f64>) -> Self {
        let mut bbox: Option<[f64; 4]> = None;
        let parts: Vec<Part> =
            mp.0.iter()
                .filter(|p| p.exterior().0.len() >= 4)
                .map(|p| {
                    let exterior = Ring::new(&p.exterior().0);
                    let b = bbox.get_or_insert([
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    ]);
                    b[0] = b[0].min(exterior.min.x);
                    b[1] = b[1].min(exterior.min.y);
                    b[2] = b[2].max(exterior.max.x);
                    b[3] = b[3].max(exterior.max.y);
                    let holes = p
                        .interiors()
                        .iter()
                        .filter(|h| h.0.len() >= 4)
                        .map(|h| Ring::new(&h.0))
                        .collect();
                    Part { exterior, holes }
                })
                .collect();
        let rect = parts.len() == 1 && is_axis_rect(&parts[0]);
        FastPolygon { parts, bbox, rect }
    }

    /// Whether the polygon is exactly its axis-aligned bounding box.
    pub(crate) fn is_rect(&self) -> bool {
        self.rect
    }

    /// Inside any part → Inside; else on the boundary of some part → OnBoundary; else Outside.
    #[inline]
    pub(crate) fn position(&self, c: Coord<f64>) -> CoordPos {
        if self.rect {
            let r = &self.parts[0].exterior;
            return if c.x > r.min.x && c.x < r.max.x && c.y > r.min.y && c.y < r.max.y {
                CoordPos::Inside
            } else if c.x >= r.min.x && c.x <= r.max.x && c.y >= r.min.y && c.y <= r.max.y {
                CoordPos::OnBoundary
            } else {
                CoordPos::Outside
            };
        }
        let mut on_boundary = false;
        for part in &self.parts {
            match part.exterior.position(c) {
                CoordPos::Outside => {}
                CoordPos::OnBoundary => on_boundary = true,
                CoordPos::Inside => {
                    let mut pos = CoordPos::Inside;
                    for h in &part.holes {
                        match h.position(c) {
                            CoordPos::Outside => {}
                            CoordPos::OnBoundary => {
                                pos = CoordPos::OnBoundary;
                                break;
                            }
                            CoordPos::Inside => {
                                pos = CoordPos::Outside;
                                break;
                            }
                        }
                    }
                    match pos {
                        CoordPos::Inside => return CoordPos::Inside,
                        CoordPos::OnBoundary => on_boundary = true,
                        CoordPos::Outside => {}
                    }
                }
            }
        }
        if on_boundary {
            CoordPos::OnBoundary
        } else {
            CoordPos::Outside
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::CoordinatePosition;
    use proptest::prelude::*;

    fn star(n: usize, holes: bool) -> MultiPolygon<f64> {
        // A spiky star ring with many vertices (slab index path), optionally with a square hole.
        let pts: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 {
                    1.0
                } else {
                    0.55 + 0.3 * ((i * 7919) % 13) as f64 / 13.0
                };
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let hole = geo::LineString::from(vec![
            (-0.2, -0.2),
            (-0.2, 0.2),
            (0.2, 0.2),
            (0.2, -0.2),
            (-0.2, -0.2),
        ]);
        let poly = geo::Polygon::new(
            geo::LineString::from(pts),
            if holes { vec![hole] } else { vec![] },
        );
        let other = geo::Polygon::new(
            geo::LineString::from(vec![
                (2.0, 0.0),
                (3.0, 0.0),
                (3.0, 1.0),
                (2.0, 1.0),
                (2.0, 0.0),
            ]),
            vec![],
        );
        MultiPolygon(vec![poly, other])
    }

    fn reference(mp: &MultiPolygon<f64>, c: Coord<f64>) -> CoordPos {
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

    #[test]
    fn vertices_and_edges_are_on_boundary() {
        let mp = star(400, true);
        let fp = FastPolygon::new(&mp);
        for p in &mp.0 {
            for w in p.exterior().0.windows(2) {
                assert_eq!(fp.position(w[0]), CoordPos::OnBoundary);
            }
        }
        assert_eq!(fp.position(Coord { x: 2.5, y: 0.0 }), CoordPos::OnBoundary);
        assert_eq!(fp.position(Coord { x: 0.0, y: 0.2 }), CoordPos::OnBoundary);
        assert_eq!(fp.position(Coord { x: 0.0, y: 0.0 }), CoordPos::Outside);
        assert_eq!(fp.position(Coord { x: 0.4, y: 0.0 }), CoordPos::Inside);
    }

    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![geo::Rect::new((1.0, 1.0), (2.0, 3.0)).to_polygon()])
    }

    proptest! {
        #[test]
        fn rectangle_fast_path_agrees_with_geo(x in 0.5f64..2.5, y in 0.5f64..3.5, snap in 0u8..4) {
            let mp = square();
            let fp = FastPolygon::new(&mp);
            prop_assert!(fp.rect);
            // Put some points exactly on edges/corners.
            let c = match snap {
                0 => Coord { x, y },
                1 => Coord { x: 1.0, y },
                2 => Coord { x, y: 3.0 },
                _ => Coord { x: 2.0, y: 1.0 },
            };
            prop_assert_eq!(fp.position(c), reference(&mp, c));
        }

        #[test]
        fn agrees_with_geo(x in -1.2f64..3.2, y in -1.2f64..1.2, n in 50usize..600, holes: bool) {
            let mp = star(n, holes);
            let fp = FastPolygon::new(&mp);
            let c = Coord { x, y };
            prop_assert_eq!(fp.position(c), reference(&mp, c));
        }

        #[test]
        fn agrees_with_geo_on_edges(i in 0usize..600, t in 0.0f64..1.0) {
            let mp = star(600, false);
            let fp = FastPolygon::new(&mp);
            let ring = &mp.0[0].exterior().0;
            let (a, b) = (ring[i], ring[i + 1]);
            let c = Coord { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) };
            prop_assert_eq!(fp.position(c), reference(&mp, c));
        }
    }
}
