//! Who verifies (核实) and checks (核查) a case: the inspector (监督员 / 网格员) of its place.
//!
//! The rule, in order; within a step the first eligible inspector by username wins (ties by id),
//! so the answer never depends on the order the caller lists users in:
//!
//! 1. an inspector whose patrol list (责任网格, [`User::grids`]) names the case's unit grid;
//! 2. else one whose patrol lies in (or is) the case's community: an entry equal to the community
//!    code or starting with it (a grid of that community);
//! 3. else one whose patrol lies in (or is) the case's street (an entry starting with the street
//!    code: the street itself, one of its communities or grids);
//! 4. else the reporter, when the reporter is an active inspector;
//! 5. else nobody (`None`): the caller must name the inspector.
//!
//! Only active users with the role [`Role::Inspector`] are eligible. [`pick_inspector`] states the
//! rule directly over a list of users; [`InspectorIndex`] gives the same answers in constant time
//! per case for callers that pick for many cases (the demo history).
use std::collections::HashMap;

use crate::case::CaseLocation;
use crate::org::{Role, User};

/// Whether `u` may be assigned a verify or check task.
fn eligible(u: &User) -> bool {
    u.active && u.has_role(Role::Inspector)
}

/// The eligible inspectors in the rule's order: by username, then id.
fn in_order(inspectors: &[User]) -> Vec<&User> {
    let mut list: Vec<&User> = inspectors.iter().filter(|u| eligible(u)).collect();
    list.sort_by(|a, b| a.username.cmp(&b.username).then(a.id.cmp(&b.id)));
    list
}

/// A non-empty code of the location, or `None`.
fn code(c: &Option<String>) -> Option<&str> {
    c.as_deref().filter(|c| !c.is_empty())
}

/// The inspector who should verify or check a case at `case_location` (see the module
/// documentation for the rule): the user id, or `None` when nobody patrols the place and the
/// reporter is not an inspector. `inspectors` may hold any users: only active inspectors count.
pub fn pick_inspector(
    case_location: &CaseLocation,
    reporter: Option<&User>,
    inspectors: &[User],
) -> Option<i64> {
    let list = in_order(inspectors);
    let first = |covers: &dyn Fn(&str) -> bool| {
        list.iter()
            .find(|u| u.grids.iter().any(|g| covers(g)))
            .map(|u| u.id)
    };
    code(&case_location.grid_code)
        .and_then(|grid| first(&|g| g == grid))
        .or_else(|| {
            code(&case_location.community_code)
                .and_then(|community| first(&|g| g.starts_with(community)))
        })
        .or_else(|| {
            code(&case_location.street_code).and_then(|street| first(&|g| g.starts_with(street)))
        })
        .or_else(|| reporter.filter(|r| eligible(r)).map(|r| r.id))
}

/// The inspectors' patrol lists indexed for [`pick_inspector`]'s rule: the same answers, without
/// scanning every patrol list per case.
#[derive(Debug, Clone, Default)]
pub struct InspectorIndex {
    /// Patrol entry → the first inspector (rule order) listing it.
    exact: HashMap<String, i64>,
    /// Every prefix of every patrol entry → the first inspector (rule order) with such an entry.
    within: HashMap<String, i64>,
}

impl InspectorIndex {
    /// Indexes the active inspectors among `users`.
    pub fn new(users: &[User]) -> Self {
        let mut index = Self::default();
        for u in in_order(users) {
            for g in u.grids.iter().filter(|g| !g.is_empty()) {
                index.exact.entry(g.clone()).or_insert(u.id);
                for (end, ch) in g.char_indices() {
                    index
                        .within
                        .entry(g[..end + ch.len_utf8()].to_string())
                        .or_insert(u.id);
                }
            }
        }
        index
    }

    /// The inspector for a case at `case_location` reported by `reporter`: exactly what
    /// [`pick_inspector`] answers over the indexed users.
    pub fn pick(&self, case_location: &CaseLocation, reporter: Option<&User>) -> Option<i64> {
        code(&case_location.grid_code)
            .and_then(|g| self.exact.get(g))
            .or_else(|| code(&case_location.community_code).and_then(|c| self.within.get(c)))
            .or_else(|| code(&case_location.street_code).and_then(|s| self.within.get(s)))
            .copied()
            .or_else(|| reporter.filter(|r| eligible(r)).map(|r| r.id))
    }

    /// Whether no active inspector patrols anything.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Scope;

    fn user(id: i64, name: &str, roles: &[Role], grids: &[&str]) -> User {
        User {
            id,
            username: name.to_string(),
            display_name: name.to_string(),
            roles: roles.to_vec(),
            scope: Scope::everything(),
            active: true,
            grids: grids.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn inspector(id: i64, name: &str, grids: &[&str]) -> User {
        user(id, name, &[Role::Inspector], grids)
    }

    /// A location in grid `441302001001003` of community `441302001001`, street `441302001`.
    fn at(grid: Option<&str>, community: Option<&str>, street: Option<&str>) -> CaseLocation {
        CaseLocation {
            lng: 114.4,
            lat: 23.1,
            grid_code: grid.map(str::to_string),
            community_code: community.map(str::to_string),
            street_code: street.map(str::to_string),
            district_code: Some("441302".into()),
            address: None,
        }
    }

    const G: &str = "441302001001003";
    const C: &str = "441302001001";
    const S: &str = "441302001";

    fn both(loc: &CaseLocation, reporter: Option<&User>, users: &[User]) -> Option<i64> {
        let direct = pick_inspector(loc, reporter, users);
        let indexed = InspectorIndex::new(users).pick(loc, reporter);
        assert_eq!(direct, indexed, "pick_inspector and InspectorIndex agree");
        direct
    }

    #[test]
    fn the_grid_inspector_first() {
        let users = vec![
            inspector(1, "a-community", &[C]),
            inspector(2, "b-street", &["441302001002001"]),
            inspector(3, "z-grid", &["441302001001002", G]),
        ];
        assert_eq!(both(&at(Some(G), Some(C), Some(S)), None, &users), Some(3));
    }

    #[test]
    fn then_the_community_by_its_code_or_one_of_its_grids() {
        let community_wide = vec![
            inspector(2, "b", &["441302001002001"]),
            inspector(1, "a", &[C]),
        ];
        assert_eq!(
            both(&at(Some(G), Some(C), Some(S)), None, &community_wide),
            Some(1)
        );
        let neighbour_grid = vec![
            inspector(2, "b", &["441302001002001"]),
            inspector(7, "c", &["441302001001009"]),
        ];
        assert_eq!(
            both(&at(Some(G), Some(C), Some(S)), None, &neighbour_grid),
            Some(7)
        );
        // A case located in a community but in no grid.
        assert_eq!(
            both(&at(None, Some(C), Some(S)), None, &neighbour_grid),
            Some(7)
        );
    }

    #[test]
    fn then_the_street_then_the_reporting_inspector() {
        let street = vec![
            inspector(5, "y", &["441302001007001"]),
            inspector(4, "x", &["441302001009"]),
            inspector(6, "elsewhere", &["441302002001001"]),
        ];
        let loc = at(Some(G), Some(C), Some(S));
        // Both patrol in the street: the first by username.
        assert_eq!(both(&loc, None, &street), Some(4));

        let far = vec![inspector(6, "elsewhere", &["441302002001001"])];
        let reporter = inspector(9, "reporter", &[]);
        assert_eq!(both(&loc, Some(&reporter), &far), Some(9));
        // A reporter who is not an inspector, or no longer active, is no fallback.
        let citizen = user(10, "citizen", &[Role::Citizen], &[]);
        assert_eq!(both(&loc, Some(&citizen), &far), None);
        let retired = User {
            active: false,
            ..reporter.clone()
        };
        assert_eq!(both(&loc, Some(&retired), &far), None);
        assert_eq!(both(&loc, None, &[]), None);
    }

    #[test]
    fn only_active_inspectors_in_username_order() {
        let users = vec![
            inspector(1, "inspector2", &[G]),
            inspector(2, "inspector10", &[G]),
            User {
                active: false,
                ..inspector(3, "a-retired", &[G])
            },
            user(4, "a-handler", &[Role::Handler], &[G]),
        ];
        // "inspector10" < "inspector2" as strings: byte order, not natural order.
        assert_eq!(both(&at(Some(G), Some(C), Some(S)), None, &users), Some(2));
        let mut reversed = users.clone();
        reversed.reverse();
        assert_eq!(
            both(&at(Some(G), Some(C), Some(S)), None, &reversed),
            Some(2),
            "the caller's order does not matter"
        );
    }

    #[test]
    fn empty_codes_match_nobody() {
        let users = vec![inspector(1, "a", &[G])];
        let loc = at(Some(""), Some(""), Some(""));
        assert_eq!(both(&loc, None, &users), None);
        assert!(!InspectorIndex::new(&users).is_empty());
        assert!(InspectorIndex::new(&[]).is_empty());
    }

    #[test]
    fn index_agrees_with_the_rule_everywhere() {
        // Inspectors over two streets with grids, whole communities and a whole street.
        let users: Vec<User> = (0..40)
            .map(|i| {
                let street = 1 + i % 2;
                let community = 1 + i % 5;
                let grids: Vec<String> = match i % 4 {
                    0 => vec![format!("44130200{street}{community:03}")],
                    1 => vec![format!("44130200{street}")],
                    _ => (0..3)
                        .map(|g| format!("44130200{street}{community:03}{:03}", 1 + (i + g) % 7))
                        .collect(),
                };
                let grids: Vec<&str> = grids.iter().map(String::as_str).collect();
                let mut u = inspector(100 + i, &format!("insp{:02}", (i * 7) % 40), &grids);
                u.active = i % 9 != 0;
                u
            })
            .collect();
        let reporter = inspector(999, "reporter", &[]);
        for street in 1..=3 {
            for community in 1..=6 {
                for grid in 1..=8 {
                    let s = format!("44130200{street}");
                    let c = format!("{s}{community:03}");
                    let g = format!("{c}{grid:03}");
                    for loc in [
                        at(Some(&g), Some(&c), Some(&s)),
                        at(None, Some(&c), Some(&s)),
                        at(None, None, Some(&s)),
                    ] {
                        both(&loc, None, &users);
                        both(&loc, Some(&reporter), &users);
                    }
                }
            }
        }
    }
}
