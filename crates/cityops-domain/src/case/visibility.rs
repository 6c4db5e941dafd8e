//! Which cases a user may see (数据权限). The store turns a [`CaseVisibility`] into its WHERE
//! clause, so a case outside the scope is never loaded: not in lists, counts, events or maps.
use serde::{Deserialize, Serialize};

use crate::case::CaseStatus;
use crate::org::{Role, User};

/// A case is visible when `all` is set, or its located region code starts with one of
/// `region_prefixes`, or its current department is `department_id`, or `user_id` reported it,
/// follows it or is assigned to it, or it is closed (已结案) and `closed_all` is set or its
/// region code starts with one of `closed_region_prefixes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaseVisibility {
    pub all: bool,
    pub region_prefixes: Vec<String>,
    pub department_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Every closed case (第三方评价员 without a region).
    #[serde(default)]
    pub closed_all: bool,
    /// The closed cases within these region prefixes (第三方评价员: their region).
    #[serde(default)]
    pub closed_region_prefixes: Vec<String>,
}

/// The code prefix a region scope covers: a city code `xxxx00` covers every `xxxx…` code.
pub fn region_prefix(scope: &str) -> String {
    if scope.len() == 6 && scope.ends_with("00") {
        scope[..4].to_string()
    } else {
        scope.to_string()
    }
}

impl CaseVisibility {
    /// Everything (the system, the demo generator, the watcher).
    pub fn everything() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// What a user may see, from their roles and scope:
    /// - command-centre roles (intake, supervisor, dispatcher, leader, admin): their region (the
    ///   whole city when unscoped);
    /// - third-party reviewers (第三方评价员): the closed cases of their region (of the whole city
    ///   when unscoped) — what they review —, never an open one;
    /// - department roles (handler, enforcement, responsible party, legal reviewer): their
    ///   department's cases (their region when they have no department);
    /// - inspectors: their region (patrol area) and what they reported or are assigned;
    /// - citizens: only the cases they reported or follow.
    ///
    /// Everyone also sees what they reported, follow or are assigned to.
    pub fn for_user(user: &User) -> Self {
        let mut v = Self {
            user_id: Some(user.id),
            ..Self::default()
        };
        let region = user.scope.region_code.as_deref();
        let add_region = |v: &mut Self| match region {
            None => v.all = true,
            Some(r) => {
                let p = region_prefix(r);
                if !v.region_prefixes.contains(&p) {
                    v.region_prefixes.push(p);
                }
            }
        };
        for role in &user.roles {
            match role {
                Role::Intake | Role::Supervisor | Role::Dispatcher | Role::Leader | Role::Admin => {
                    add_region(&mut v)
                }
                Role::Reviewer => match region {
                    None => v.closed_all = true,
                    Some(r) => {
                        let p = region_prefix(r);
                        if !v.closed_region_prefixes.contains(&p) {
                            v.closed_region_prefixes.push(p);
                        }
                    }
                },
                Role::Handler
                | Role::Enforcement
                | Role::ResponsibleParty
                | Role::LegalReviewer => match user.scope.department_id {
                    Some(d) => v.department_id = Some(d),
                    None if region.is_some() => add_region(&mut v),
                    None => {}
                },
                Role::Inspector => {
                    if region.is_some() {
                        add_region(&mut v);
                    }
                }
                Role::Citizen | Role::Gateway => {}
            }
        }
        if v.all {
            v.region_prefixes.clear();
            v.closed_all = false;
        }
        if v.all || v.closed_all {
            v.closed_region_prefixes.clear();
        }
        // Closed cases a wider alternative already shows need no term of their own.
        let open = &v.region_prefixes;
        v.closed_region_prefixes
            .retain(|p| !open.iter().any(|r| p.starts_with(r.as_str())));
        v
    }

    /// The same rule in memory (for tests and the live changes): whether a case with this
    /// status, region code, department, reporter/assignee/followers is visible.
    pub fn admits(
        &self,
        status: CaseStatus,
        region_code: Option<&str>,
        department_id: Option<i64>,
        users: &[i64],
    ) -> bool {
        let within = |prefixes: &[String]| {
            region_code.is_some_and(|c| prefixes.iter().any(|p| c.starts_with(p.as_str())))
        };
        let closed = status == CaseStatus::Closed;
        self.all
            || within(&self.region_prefixes)
            || (self.department_id.is_some() && self.department_id == department_id)
            || self.user_id.is_some_and(|u| users.contains(&u))
            || (closed && (self.closed_all || within(&self.closed_region_prefixes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseStatus as S;
    use crate::org::Scope;

    fn user(roles: Vec<Role>, region: Option<&str>, dept: Option<i64>) -> User {
        User {
            id: 9,
            username: "u".into(),
            display_name: "u".into(),
            roles,
            scope: Scope {
                region_code: region.map(str::to_string),
                department_id: dept,
            },
            active: true,
            grids: vec![],
        }
    }

    #[test]
    fn roles_map_to_scopes() {
        let d = CaseVisibility::for_user(&user(vec![Role::Dispatcher], None, None));
        assert!(d.all);
        let city = CaseVisibility::for_user(&user(vec![Role::Supervisor], Some("441300"), None));
        assert_eq!(city.region_prefixes, vec!["4413".to_string()]);
        assert!(city.admits(S::Reported, Some("441302001001001"), None, &[]));
        assert!(!city.admits(S::Reported, Some("350203001"), None, &[]));
        let h = CaseVisibility::for_user(&user(vec![Role::Handler], Some("441302"), Some(5)));
        assert!(!h.all && h.region_prefixes.is_empty());
        assert!(h.admits(S::Handling, Some("441303001"), Some(5), &[]));
        assert!(!h.admits(S::Handling, Some("441302001"), Some(6), &[]));
        let c = CaseVisibility::for_user(&user(vec![Role::Citizen], None, None));
        assert!(!c.all && c.region_prefixes.is_empty() && c.department_id.is_none());
        assert!(c.admits(S::Reported, None, None, &[9]));
        assert!(!c.admits(S::Closed, Some("441302"), Some(1), &[3]));
    }

    #[test]
    fn reviewers_see_closed_cases_only() {
        let r = CaseVisibility::for_user(&user(vec![Role::Reviewer], Some("441302"), None));
        assert!(!r.all && r.region_prefixes.is_empty() && !r.closed_all);
        assert_eq!(r.closed_region_prefixes, vec!["441302".to_string()]);
        assert!(r.admits(S::Closed, Some("441302001001001"), None, &[]));
        for open in [
            S::Reported,
            S::Handling,
            S::Checking,
            S::Suspended,
            S::Cancelled,
        ] {
            assert!(
                !r.admits(open, Some("441302001001001"), None, &[]),
                "{open}"
            );
        }
        assert!(!r.admits(S::Closed, Some("441303001"), None, &[]));
        // What they reported stays theirs.
        assert!(r.admits(S::Reported, Some("441303001"), None, &[9]));
        let city = CaseVisibility::for_user(&user(vec![Role::Reviewer], None, None));
        assert!(city.closed_all && !city.all && city.closed_region_prefixes.is_empty());
        assert!(city.admits(S::Closed, None, None, &[]));
        assert!(!city.admits(S::Dispatched, Some("441302"), None, &[]));
        // With a role that sees the region anyway, the closed-only term is not needed.
        let both = CaseVisibility::for_user(&user(
            vec![Role::Reviewer, Role::Leader],
            Some("441302"),
            None,
        ));
        assert!(both.closed_region_prefixes.is_empty());
        assert!(both.admits(S::Handling, Some("441302001"), None, &[]));
        let everything =
            CaseVisibility::for_user(&user(vec![Role::Reviewer, Role::Admin], None, None));
        assert!(everything.all && !everything.closed_all);
    }
}
