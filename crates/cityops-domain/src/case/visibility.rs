//! Which cases a user may see (数据权限). The store turns a [`CaseVisibility`] into its WHERE
//! clause, so a case outside the scope is never loaded: not in lists, counts, events or maps.
use serde::{Deserialize, Serialize};

use crate::org::{Role, User};

/// A case is visible when `all` is set, or its located region code starts with one of
/// `region_prefixes`, or its current department is `department_id`, or `user_id` reported it,
/// follows it or is assigned to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaseVisibility {
    pub all: bool,
    pub region_prefixes: Vec<String>,
    pub department_id: Option<i64>,
    pub user_id: Option<i64>,
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
    /// - command-centre roles (intake, supervisor, dispatcher, leader, reviewer, admin): their
    ///   region (the whole city when unscoped);
    /// - department roles (handler, enforcement, responsible party, legal reviewer): their
    ///   department's cases (their region when they have no department);
    /// - inspectors: their region (patrol area) and what they reported or are assigned;
    /// - citizens: only the cases they reported or follow.
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
                Role::Intake
                | Role::Supervisor
                | Role::Dispatcher
                | Role::Leader
                | Role::Reviewer
                | Role::Admin => add_region(&mut v),
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
                Role::Citizen => {}
            }
        }
        if v.all {
            v.region_prefixes.clear();
        }
        v
    }

    /// The same rule in memory (for tests and the demo generator): whether a case with this
    /// region code, department, reporter/assignee/followers is visible.
    pub fn admits(
        &self,
        region_code: Option<&str>,
        department_id: Option<i64>,
        users: &[i64],
    ) -> bool {
        self.all
            || region_code.is_some_and(|c| {
                self.region_prefixes
                    .iter()
                    .any(|p| c.starts_with(p.as_str()))
            })
            || (self.department_id.is_some() && self.department_id == department_id)
            || self.user_id.is_some_and(|u| users.contains(&u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(city.admits(Some("441302001001001"), None, &[]));
        assert!(!city.admits(Some("350203001"), None, &[]));
        let h = CaseVisibility::for_user(&user(vec![Role::Handler], Some("441302"), Some(5)));
        assert!(!h.all && h.region_prefixes.is_empty());
        assert!(h.admits(Some("441303001"), Some(5), &[]));
        assert!(!h.admits(Some("441302001"), Some(6), &[]));
        let c = CaseVisibility::for_user(&user(vec![Role::Citizen], None, None));
        assert!(!c.all && c.region_prefixes.is_empty() && c.department_id.is_none());
        assert!(c.admits(None, None, &[9]));
        assert!(!c.admits(Some("441302"), Some(1), &[3]));
    }
}
