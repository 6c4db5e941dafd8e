//! The responsibility matrix (权责清单): (category, region) → department. The most specific rule
//! wins (a longer region code before a shorter one, a subclass before its class before `*`);
//! a case about a component goes to the component's own owner first.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::types::CaseLocation;
use super::visibility::region_prefix;
use crate::catalogue::CategoryKind;

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub category_kind: CategoryKind,
    /// A 5-digit subclass, a 2-digit class, or `*` for every category of the kind.
    pub category_code: String,
    /// The region the rule applies in (city, district, street or community code).
    pub region_code: String,
    pub department_id: i64,
    /// 一键直达: dispatch automatically at filing, without the dispatcher.
    pub auto_dispatch: bool,
}

impl RoutingRule {
    /// Checks the codes' shapes.
    pub fn validate(&self) -> Result<(), String> {
        let c = &self.category_code;
        if !(c == "*" || (matches!(c.len(), 2 | 5) && c.bytes().all(|b| b.is_ascii_digit()))) {
            return Err(format!(
                "category_code {c:?}: expected 5 digits, 2 digits or *"
            ));
        }
        let r = &self.region_code;
        if !(matches!(r.len(), 6 | 9 | 12 | 15) && r.bytes().all(|b| b.is_ascii_digit())) {
            return Err(format!("region_code {r:?}: expected 6, 9, 12 or 15 digits"));
        }
        Ok(())
    }
}

/// Where a case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDecision {
    pub department_id: i64,
    pub auto_dispatch: bool,
    /// Chosen because the component's owner is this department.
    pub by_component_owner: bool,
}

/// The matrix, indexed for lookup; built once when rules change.
#[derive(Debug, Clone, Default)]
pub struct RoutingMatrix {
    by_category: HashMap<(CategoryKind, String), Vec<(String, RoutingRule)>>,
    len: usize,
}

impl RoutingMatrix {
    pub fn new(rules: Vec<RoutingRule>) -> Self {
        let len = rules.len();
        let mut by_category: HashMap<(CategoryKind, String), Vec<(String, RoutingRule)>> =
            HashMap::new();
        for r in rules {
            let key = (r.category_kind, r.category_code.clone());
            by_category
                .entry(key)
                .or_default()
                .push((region_prefix(&r.region_code), r));
        }
        for v in by_category.values_mut() {
            // Longest (most specific) region prefix first.
            v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        Self { by_category, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The best rule for a category at a location: subclass, then class, then `*`; within each,
    /// the most specific region that covers the location.
    pub fn rule_for(
        &self,
        kind: CategoryKind,
        code: &str,
        location: &CaseLocation,
    ) -> Option<&RoutingRule> {
        let region = location.region_code()?;
        let keys = [code, code.get(..2).unwrap_or(code), "*"];
        keys.iter().find_map(|k| {
            self.by_category
                .get(&(kind, (*k).to_string()))?
                .iter()
                .find(|(prefix, _)| region.starts_with(prefix.as_str()))
                .map(|(_, r)| r)
        })
    }

    /// Routes a case: the component's owner first, else the best rule.
    pub fn route(
        &self,
        kind: CategoryKind,
        code: &str,
        location: &CaseLocation,
        component_owner: Option<i64>,
    ) -> Option<RouteDecision> {
        let rule = self.rule_for(kind, code, location);
        if let Some(owner) = component_owner {
            return Some(RouteDecision {
                department_id: owner,
                auto_dispatch: rule.is_some_and(|r| r.auto_dispatch && r.department_id == owner),
                by_component_owner: true,
            });
        }
        rule.map(|r| RouteDecision {
            department_id: r.department_id,
            auto_dispatch: r.auto_dispatch,
            by_component_owner: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(code: &str, region: &str, dept: i64) -> RoutingRule {
        RoutingRule {
            category_kind: CategoryKind::Matter,
            category_code: code.into(),
            region_code: region.into(),
            department_id: dept,
            auto_dispatch: false,
        }
    }

    fn at(grid: &str) -> CaseLocation {
        CaseLocation {
            lng: 0.0,
            lat: 0.0,
            grid_code: Some(grid.into()),
            community_code: None,
            street_code: None,
            district_code: None,
            address: None,
        }
    }

    #[test]
    fn most_specific_wins_and_owner_first() {
        let m = RoutingMatrix::new(vec![
            rule("*", "441300", 1),
            rule("06", "441300", 2),
            rule("06001", "441300", 3),
            rule("06001", "441302", 4),
            rule("06", "441302001", 5),
        ]);
        let g = at("441302001002003");
        // Subclass beats class even when the class rule's region is narrower.
        assert_eq!(
            m.route(CategoryKind::Matter, "06001", &g, None)
                .unwrap()
                .department_id,
            4
        );
        assert_eq!(
            m.route(CategoryKind::Matter, "06002", &g, None)
                .unwrap()
                .department_id,
            5
        );
        assert_eq!(
            m.route(CategoryKind::Matter, "06002", &at("441303001002003"), None)
                .unwrap()
                .department_id,
            2
        );
        assert_eq!(
            m.route(CategoryKind::Matter, "07001", &g, None)
                .unwrap()
                .department_id,
            1
        );
        assert!(
            m.route(CategoryKind::Component, "07001", &g, None)
                .is_none()
        );
        assert!(
            m.route(CategoryKind::Matter, "07001", &at("350203001001001"), None)
                .is_none()
        );
        let owner = m
            .route(CategoryKind::Matter, "06001", &g, Some(42))
            .unwrap();
        assert_eq!((owner.department_id, owner.by_component_owner), (42, true));
    }
}
