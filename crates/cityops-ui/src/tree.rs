//! The region tree without geometry (city → district → street → community, with the number of
//! unit grids under each node), loaded once per process from `RegionRepo::list_regions` in pages
//! of 1000. It answers names, parent chains and children counts without a query per row.
use std::collections::HashMap;
use std::sync::Arc;

use cityops_domain::{PageRequest, Region, RegionLevel};
use cityops_store::{RegionQuery, Store, StoreError};

use crate::UiState;

/// One region of the tree (grids are only counted, not kept).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<String>,
    pub area_m2: Option<f64>,
    pub synthetic: bool,
    pub has_boundary: bool,
    /// Direct children (for a community: its unit grids).
    pub children: Vec<String>,
    /// Unit grids below this region.
    pub grids: u64,
}

/// The region tree of the deployment.
#[derive(Debug, Default)]
pub(crate) struct RegionTree {
    nodes: HashMap<String, Node>,
    /// Codes by level (city … community), ordered by code.
    by_level: HashMap<RegionLevel, Vec<String>>,
    pub grid_total: u64,
}

impl RegionTree {
    /// Builds the tree from regions of the levels city … community and the `(code, parent)` of
    /// every grid.
    pub fn build(regions: Vec<Region>, grids: Vec<(String, Option<String>)>) -> Self {
        let mut tree = RegionTree::default();
        for r in regions {
            if r.level == RegionLevel::Grid {
                continue;
            }
            tree.by_level
                .entry(r.level)
                .or_default()
                .push(r.code.clone());
            tree.nodes.insert(
                r.code.clone(),
                Node {
                    has_boundary: r.bbox.is_some(),
                    code: r.code,
                    name: r.name,
                    level: r.level,
                    parent: r.parent_code,
                    area_m2: r.area_m2,
                    synthetic: r.synthetic,
                    children: Vec::new(),
                    grids: 0,
                },
            );
        }
        for codes in tree.by_level.values_mut() {
            codes.sort();
        }
        // Children lists, in code order (levels were sorted above).
        for level in [
            RegionLevel::District,
            RegionLevel::Street,
            RegionLevel::Community,
        ] {
            for code in tree.by_level.get(&level).cloned().unwrap_or_default() {
                let parent = tree.nodes.get(&code).and_then(|n| n.parent.clone());
                if let Some(p) = parent.and_then(|p| tree.nodes.get_mut(&p)) {
                    p.children.push(code);
                }
            }
        }
        tree.grid_total = grids.len() as u64;
        for (_, parent) in grids {
            let mut at = parent;
            let mut depth = 0;
            while let Some(code) = at {
                let Some(node) = tree.nodes.get_mut(&code) else {
                    break;
                };
                depth += 1;
                if depth > 8 {
                    break; // a cycle in bad data must not loop forever
                }
                node.grids += 1;
                at = node.parent.clone();
            }
        }
        tree
    }

    /// Loads the tree from the store: one paged listing per level.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut regions = Vec::new();
        let mut grids = Vec::new();
        for level in RegionLevel::ALL {
            let query = RegionQuery {
                level: Some(level),
                ..RegionQuery::default()
            };
            let mut page = 1;
            loop {
                let req = PageRequest {
                    page,
                    page_size: cityops_domain::page::MAX_PAGE_SIZE,
                };
                let got = store.list_regions(&query, req).await?;
                let n = got.items.len();
                if level == RegionLevel::Grid {
                    grids.extend(got.items.into_iter().map(|r| (r.code, r.parent_code)));
                } else {
                    regions.extend(got.items);
                }
                if n < req.page_size as usize
                    || u64::from(page) * u64::from(req.page_size) >= got.total
                {
                    break;
                }
                page += 1;
            }
        }
        Ok(Self::build(regions, grids))
    }

    pub fn get(&self, code: &str) -> Option<&Node> {
        self.nodes.get(code)
    }

    pub fn name(&self, code: &str) -> Option<&str> {
        self.nodes.get(code).map(|n| n.name.as_str())
    }

    /// Regions of a level, ordered by code.
    pub fn level(&self, level: RegionLevel) -> Vec<&Node> {
        self.by_level
            .get(&level)
            .map(|codes| codes.iter().filter_map(|c| self.nodes.get(c)).collect())
            .unwrap_or_default()
    }

    pub fn count(&self, level: RegionLevel) -> u64 {
        match level {
            RegionLevel::Grid => self.grid_total,
            l => self.by_level.get(&l).map_or(0, |v| v.len() as u64),
        }
    }

    /// The city: the first region of level city, else the common parent of the districts.
    pub fn city(&self) -> Option<&Node> {
        self.level(RegionLevel::City).into_iter().next()
    }

    /// The ancestors of a region (by its parent code), from the top down, without the region.
    pub fn ancestors(&self, parent: Option<&str>) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut at = parent.map(str::to_string);
        while let Some(code) = at {
            let Some(n) = self.nodes.get(&code) else {
                break;
            };
            if out.len() > 8 {
                break; // a cycle in bad data must not loop forever
            }
            out.push(n);
            at = n.parent.clone();
        }
        out.reverse();
        out
    }

    /// Communities below a region (itself if it is one).
    pub fn communities_under(&self, code: &str) -> u64 {
        let Some(n) = self.nodes.get(code) else {
            return 0;
        };
        match n.level {
            RegionLevel::Community => 1,
            RegionLevel::Grid => 0,
            _ => n.children.iter().map(|c| self.communities_under(c)).sum(),
        }
    }

    /// Streets below a region (itself if it is one).
    pub fn streets_under(&self, code: &str) -> u64 {
        let Some(n) = self.nodes.get(code) else {
            return 0;
        };
        match n.level {
            RegionLevel::Street => 1,
            RegionLevel::Community | RegionLevel::Grid => 0,
            _ => n.children.iter().map(|c| self.streets_under(c)).sum(),
        }
    }

    /// Regions (not grids) whose code starts with `prefix`, ordered by level then code; at most
    /// `limit`.
    pub fn by_code_prefix(&self, prefix: &str, limit: usize) -> Vec<&Node> {
        let mut out: Vec<&Node> = self
            .nodes
            .values()
            .filter(|n| n.code.starts_with(prefix))
            .collect();
        out.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
        out.truncate(limit);
        out
    }
}

/// The tree of this process, loaded on first use.
pub(crate) async fn tree(st: &UiState) -> Result<Arc<RegionTree>, StoreError> {
    st.caches
        .tree
        .get_or_try_init(|| async {
            let started = std::time::Instant::now();
            let t = RegionTree::load(st.app.store.as_ref()).await?;
            tracing::info!(
                regions = t.nodes.len(),
                grids = t.grid_total,
                ms = started.elapsed().as_millis() as u64,
                "console region tree loaded"
            );
            Ok::<_, StoreError>(Arc::new(t))
        })
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(code: &str, level: RegionLevel, parent: Option<&str>) -> Region {
        Region {
            code: code.into(),
            level,
            name: format!("n{code}"),
            parent_code: parent.map(str::to_string),
            geometry: None,
            bbox: None,
            center: None,
            area_m2: None,
            synthetic: false,
        }
    }

    #[test]
    fn counts_children_and_grids() {
        let t = RegionTree::build(
            vec![
                r("441300", RegionLevel::City, None),
                r("441302", RegionLevel::District, Some("441300")),
                r("441303", RegionLevel::District, Some("441300")),
                r("441302002", RegionLevel::Street, Some("441302")),
                r("441302001", RegionLevel::Street, Some("441302")),
                r("441302001001", RegionLevel::Community, Some("441302001")),
                r("441302001002", RegionLevel::Community, Some("441302001")),
            ],
            vec![
                ("441302001001001".into(), Some("441302001001".into())),
                ("441302001001002".into(), Some("441302001001".into())),
                ("441302001002001".into(), Some("441302001002".into())),
            ],
        );
        assert_eq!(t.city().unwrap().code, "441300");
        assert_eq!(
            t.get("441302").unwrap().children,
            vec!["441302001", "441302002"]
        );
        assert_eq!(t.get("441302").unwrap().grids, 3);
        assert_eq!(t.get("441300").unwrap().grids, 3);
        assert_eq!(t.get("441302001001").unwrap().grids, 2);
        assert_eq!(t.communities_under("441300"), 2);
        assert_eq!(t.streets_under("441302"), 2);
        assert_eq!(t.count(RegionLevel::Grid), 3);
        assert_eq!(t.count(RegionLevel::District), 2);
        let chain: Vec<&str> = t
            .ancestors(Some("441302001"))
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(chain, vec!["441300", "441302", "441302001"]);
        let found: Vec<&str> = t
            .by_code_prefix("4413020", 10)
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert_eq!(
            found,
            vec!["441302001", "441302002", "441302001001", "441302001002"]
        );
    }
}
