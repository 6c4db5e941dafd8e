//! The in-memory locate index: point → 单元网格 (grid) / 社区 (community) / 街道 (street) / 区县 (district).
//!
//! One R-tree per level over small envelope structs (not geo types, so the rstar version is free), the
//! polygons kept beside it, prepared for exact point queries. Boundary rule: Inside beats OnBoundary, and
//! among equals the lowest code wins, so a point on an edge shared by two grids lands in exactly one.
use std::collections::HashMap;

use cityops_domain::{Region, RegionLevel};
use geo::Coord;
use geo::coordinate_position::CoordPos;
use rstar::{AABB, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams};
use serde::Serialize;

use crate::pip::FastPolygon;
use crate::{GeoError, parse_polygonal};

/// Where a point lies in the region tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// 单元网格 code (15 digits), if the point is in a unit grid.
    pub grid_code: Option<String>,
    /// 社区/村 code (12 digits).
    pub community_code: Option<String>,
    /// 街道/镇 code (9 digits).
    pub street_code: Option<String>,
    /// 区/县 code (6 digits).
    pub district_code: String,
}

/// Bytes of codes kept inline in an R-tree leaf (the usual 6 + 9 + 12 + 15 = 42 fit).
const INLINE: usize = 44;
/// `lens[k]` value of an absent code.
const ABSENT: u8 = u8::MAX;

/// The answer for one polygon — grid, community, street, district codes — stored inline in its R-tree
/// leaf so a lookup reads no other memory. `lens[k] == ABSENT` means "none".
#[derive(Debug, Clone, Copy)]
struct Codes {
    buf: [u8; INLINE],
    lens: [u8; 4],
}

impl Codes {
    /// `None` when the codes do not fit inline (then the layer's spill list holds them).
    fn new(parts: &[Option<String>; 4]) -> Option<Codes> {
        let mut c = Codes {
            buf: [0; INLINE],
            lens: [ABSENT; 4],
        };
        let mut at = 0;
        for (k, p) in parts.iter().enumerate() {
            let Some(p) = p else { continue };
            let len = u8::try_from(p.len()).ok().filter(|&l| l != ABSENT)?;
            c.buf
                .get_mut(at..at + p.len())?
                .copy_from_slice(p.as_bytes());
            c.lens[k] = len;
            at += p.len();
        }
        Some(c)
    }

    #[inline]
    fn get(&self, k: usize) -> Option<String> {
        if self.lens[k] == ABSENT {
            return None;
        }
        let start: usize = self.lens[..k]
            .iter()
            .filter(|&&l| l != ABSENT)
            .map(|&l| usize::from(l))
            .sum();
        let bytes = &self.buf[start..start + usize::from(self.lens[k])];
        // The bytes were copied from whole `str`s, so they are valid UTF-8.
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }
}

/// An R-tree leaf: the bounding box of one polygon, its position in the layer (= code order), whether the
/// polygon *is* its bounding box (most unit grids: then the exact test needs nothing else), and the answer.
#[derive(Debug, Clone, Copy)]
struct Envelope {
    aabb: AABB<[f64; 2]>,
    idx: u32,
    rect: bool,
    codes: Option<Codes>,
}

impl RTreeObject for Envelope {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.aabb
    }
}

impl Envelope {
    #[inline]
    fn position(&self, polys: &[FastPolygon], c: Coord<f64>) -> CoordPos {
        if !self.rect {
            return polys[self.idx as usize].position(c);
        }
        let (lo, hi) = (self.aabb.lower(), self.aabb.upper());
        if c.x > lo[0] && c.x < hi[0] && c.y > lo[1] && c.y < hi[1] {
            CoordPos::Inside
        } else if c.x >= lo[0] && c.x <= hi[0] && c.y >= lo[1] && c.y <= hi[1] {
            CoordPos::OnBoundary
        } else {
            CoordPos::Outside
        }
    }
}

#[inline]
fn box_covers(b: &AABB<[f64; 2]>, c: Coord<f64>) -> bool {
    let (lo, hi) = (b.lower(), b.upper());
    c.x >= lo[0] && c.x <= hi[0] && c.y >= lo[1] && c.y <= hi[1]
}

/// Calls `f` for every leaf whose box covers `c` (boundary included): a plain recursive descent over
/// rstar's nodes, cheaper per query than the generic selection iterator.
fn visit_at_point<'a>(
    node: &'a ParentNode<Envelope>,
    c: Coord<f64>,
    f: &mut impl FnMut(&'a Envelope),
) {
    for child in node.children() {
        match child {
            RTreeNode::Leaf(e) => {
                if box_covers(&e.aabb, c) {
                    f(e);
                }
            }
            RTreeNode::Parent(p) => {
                if box_covers(&p.envelope(), c) {
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

/// The polygons of one level, sorted by code so "lowest code" is "lowest index".
struct Layer {
    tree: RTree<Envelope, NodeParams>,
    polys: Vec<FastPolygon>,
    /// Answers that did not fit inline, by index.
    spilled: Vec<Option<[Option<String>; 4]>>,
    len: usize,
    bbox: Option<[f64; 4]>,
}

impl Layer {
    /// `answer(code)` gives the location of a point in the region `code`.
    fn build(
        regions: &[Region],
        answer: impl Fn(&str) -> [Option<String>; 4],
    ) -> Result<Self, GeoError> {
        let mut items: Vec<(&str, FastPolygon)> = Vec::with_capacity(regions.len());
        for r in regions {
            let Some(text) = r.geometry.as_deref() else {
                continue;
            };
            let mp = parse_polygonal(text).map_err(|e| GeoError::RegionGeometry {
                code: r.code.clone(),
                source: Box::new(e),
            })?;
            let fp = FastPolygon::new(&mp);
            if fp.bbox.is_some() {
                items.push((&r.code, fp));
            }
        }
        items.sort_by(|a, b| a.0.cmp(b.0));
        let mut bbox: Option<[f64; 4]> = None;
        let mut spilled = Vec::with_capacity(items.len());
        let mut envelopes = Vec::with_capacity(items.len());
        for (i, (code, fp)) in items.iter().enumerate() {
            let Some(b) = fp.bbox else { continue };
            let u = bbox.get_or_insert(b);
            *u = [
                u[0].min(b[0]),
                u[1].min(b[1]),
                u[2].max(b[2]),
                u[3].max(b[3]),
            ];
            let parts = answer(code);
            let codes = Codes::new(&parts);
            spilled.push(if codes.is_none() { Some(parts) } else { None });
            envelopes.push(Envelope {
                aabb: AABB::from_corners([b[0], b[1]], [b[2], b[3]]),
                idx: i as u32,
                rect: fp.is_rect(),
                codes,
            });
        }
        let polys = items.into_iter().map(|(_, p)| p).collect::<Vec<_>>();
        Ok(Layer {
            tree: RTree::bulk_load_with_params(envelopes),
            len: polys.len(),
            polys,
            spilled,
            bbox,
        })
    }

    /// The leaf of the region that takes the point: Inside beats OnBoundary, lowest code among equals.
    #[inline]
    fn find(&self, c: Coord<f64>) -> Option<&Envelope> {
        let mut best: Option<(bool, &Envelope)> = None;
        visit_at_point(self.tree.root(), c, &mut |e| {
            let inside = match e.position(&self.polys, c) {
                CoordPos::Outside => return,
                CoordPos::Inside => true,
                CoordPos::OnBoundary => false,
            };
            let better = match best {
                None => true,
                Some((b_in, b)) => (inside && !b_in) || (inside == b_in && e.idx < b.idx),
            };
            if better {
                best = Some((inside, e));
            }
        });
        best.map(|(_, e)| e)
    }

    fn location(&self, e: &Envelope) -> Location {
        let [grid, community, street, district] = match &e.codes {
            Some(c) => [c.get(0), c.get(1), c.get(2), c.get(3)],
            None => self.spilled[e.idx as usize].clone().unwrap_or_default(),
        };
        Location {
            grid_code: grid,
            community_code: community,
            street_code: street,
            district_code: district.unwrap_or_default(),
        }
    }
}

/// R-tree index over region polygons. Send + Sync; build once, share as `Arc`.
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

    /// WGS84; None = outside every district (and every derived/imported polygon).
    pub fn locate(&self, lng: f64, lat: f64) -> Option<Location> {
        if !(lng.is_finite() && lat.is_finite()) {
            return None;
        }
        let c = Coord { x: lng, y: lat };
        [
            &self.grids,
            &self.communities,
            &self.streets,
            &self.districts,
        ]
        .into_iter()
        .find_map(|layer| layer.find(c).map(|e| layer.location(e)))
    }

    /// Number of indexed unit grids (with geometry).
    pub fn grid_count(&self) -> usize {
        self.grids.len
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
        assert_eq!(on_edge.grid_code.as_deref(), Some("441302001001001"));
        assert_eq!(on_edge.community_code.as_deref(), Some("441302001001"));
        assert_eq!(on_edge.street_code.as_deref(), Some("441302001"));
        assert_eq!(on_edge.district_code, "441302");
        assert_eq!(
            idx.locate(1.5, 0.5).unwrap().grid_code.as_deref(),
            Some("441302001001002")
        );
        let in_community = idx.locate(0.5, 1.5).unwrap();
        assert_eq!(in_community.grid_code, None);
        assert_eq!(in_community.community_code.as_deref(), Some("441302001001"));
        let in_street = idx.locate(0.5, 3.0).unwrap();
        assert_eq!(
            (in_street.community_code, in_street.street_code.as_deref()),
            (None, Some("441302001"))
        );
        let in_district = idx.locate(3.0, 3.0).unwrap();
        assert_eq!(
            (in_district.street_code, in_district.district_code.as_str()),
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
        assert_eq!(loc.grid_code, Some(format!("{long}001")));
        assert_eq!(loc.community_code.as_deref(), Some(long.as_str()));
        // No street is known: the structural prefix stands in.
        assert_eq!(loc.street_code.as_deref(), Some(&long[..9]));
        assert_eq!(loc.district_code, &long[..6]);
        assert_eq!(idx.locate(0.75, 0.75).unwrap().district_code, "441302");
    }

    #[test]
    fn index_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RegionIndex>();
    }

    #[test]
    fn inline_codes_round_trip() {
        let parts = [
            None,
            Some("441302001001".to_string()),
            Some("441302001".to_string()),
            Some("441302".to_string()),
        ];
        let c = Codes::new(&parts).unwrap();
        assert_eq!([c.get(0), c.get(1), c.get(2), c.get(3)], parts);
        assert!(Codes::new(&[Some("x".repeat(45)), None, None, None]).is_none());
    }

    #[test]
    fn bad_geometry_names_the_region() {
        let mut d = rect_region("441302", RegionLevel::District, None, [0.0, 0.0, 1.0, 1.0]);
        d.geometry = Some("{\"type\":\"Point\",\"coordinates\":[0,0]}".into());
        let err = RegionIndex::build(&[d], &[], &[], &[]).err().unwrap();
        assert!(err.to_string().contains("441302"), "{err}");
    }
}
