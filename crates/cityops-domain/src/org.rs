//! Organisation: departments (处置单位/部门), users, roles (PRODUCT.md §1) and scope — every user
//! sees and acts only within their region and/or department.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::region::covers;

/// A role a user can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 受理员
    Intake,
    /// 值班长
    Supervisor,
    /// 派遣员
    Dispatcher,
    /// 处置单位人员
    Handler,
    /// 监督员/网格员
    Inspector,
    /// 领导
    Leader,
    /// 公众
    Citizen,
    /// 责任人
    ResponsibleParty,
    /// 执法队员
    Enforcement,
    /// 法制审核
    LegalReviewer,
    /// 第三方评价员
    Reviewer,
    /// 管理员
    Admin,
    /// 物联网关: a device gateway's account; it may only post telemetry (no case, no person).
    Gateway,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::Intake,
        Role::Supervisor,
        Role::Dispatcher,
        Role::Handler,
        Role::Inspector,
        Role::Leader,
        Role::Citizen,
        Role::ResponsibleParty,
        Role::Enforcement,
        Role::LegalReviewer,
        Role::Reviewer,
        Role::Admin,
        Role::Gateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Supervisor => "supervisor",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::Inspector => "inspector",
            Role::Leader => "leader",
            Role::Citizen => "citizen",
            Role::ResponsibleParty => "responsible_party",
            Role::Enforcement => "enforcement",
            Role::LegalReviewer => "legal_reviewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
            Role::Gateway => "gateway",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Intake => "受理员",
            Role::Supervisor => "值班长",
            Role::Dispatcher => "派遣员",
            Role::Handler => "处置单位",
            Role::Inspector => "监督员",
            Role::Leader => "领导",
            Role::Citizen => "公众",
            Role::ResponsibleParty => "责任人",
            Role::Enforcement => "执法队员",
            Role::LegalReviewer => "法制审核",
            Role::Reviewer => "第三方评价员",
            Role::Admin => "管理员",
            Role::Gateway => "物联网关",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "role",
                value: s.to_string(),
            })
    }
}

/// What kind of body a department is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentKind {
    /// 指挥中心 (监督指挥中心)
    CommandCentre,
    /// 市政
    Municipal,
    /// 园林
    Landscaping,
    /// 环卫
    Sanitation,
    /// 城管执法
    Enforcement,
    /// 供水
    WaterSupply,
    /// 燃气
    Gas,
    /// 交警
    TrafficPolice,
    /// 住建
    Housing,
    /// 排水
    Drainage,
    /// 供电
    Power,
    /// 通信
    Telecom,
    /// 生态环境
    Environment,
    /// 街道办事处 / 镇政府
    StreetOffice,
    /// 其他
    Other,
}

impl DepartmentKind {
    pub const ALL: [DepartmentKind; 15] = [
        DepartmentKind::CommandCentre,
        DepartmentKind::Municipal,
        DepartmentKind::Landscaping,
        DepartmentKind::Sanitation,
        DepartmentKind::Enforcement,
        DepartmentKind::WaterSupply,
        DepartmentKind::Gas,
        DepartmentKind::TrafficPolice,
        DepartmentKind::Housing,
        DepartmentKind::Drainage,
        DepartmentKind::Power,
        DepartmentKind::Telecom,
        DepartmentKind::Environment,
        DepartmentKind::StreetOffice,
        DepartmentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DepartmentKind::CommandCentre => "command_centre",
            DepartmentKind::Municipal => "municipal",
            DepartmentKind::Landscaping => "landscaping",
            DepartmentKind::Sanitation => "sanitation",
            DepartmentKind::Enforcement => "enforcement",
            DepartmentKind::WaterSupply => "water_supply",
            DepartmentKind::Gas => "gas",
            DepartmentKind::TrafficPolice => "traffic_police",
            DepartmentKind::Housing => "housing",
            DepartmentKind::Drainage => "drainage",
            DepartmentKind::Power => "power",
            DepartmentKind::Telecom => "telecom",
            DepartmentKind::Environment => "environment",
            DepartmentKind::StreetOffice => "street_office",
            DepartmentKind::Other => "other",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            DepartmentKind::CommandCentre => "指挥中心",
            DepartmentKind::Municipal => "市政",
            DepartmentKind::Landscaping => "园林",
            DepartmentKind::Sanitation => "环卫",
            DepartmentKind::Enforcement => "城管执法",
            DepartmentKind::WaterSupply => "供水",
            DepartmentKind::Gas => "燃气",
            DepartmentKind::TrafficPolice => "交警",
            DepartmentKind::Housing => "住建",
            DepartmentKind::Drainage => "排水",
            DepartmentKind::Power => "供电",
            DepartmentKind::Telecom => "通信",
            DepartmentKind::Environment => "生态环境",
            DepartmentKind::StreetOffice => "街道",
            DepartmentKind::Other => "其他",
        }
    }
}

impl FromStr for DepartmentKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DepartmentKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::Unknown {
                what: "department kind",
                value: s.to_string(),
            })
    }
}

/// A department: a body that handles cases within a region scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: i64,
    /// Stable external code, unique, e.g. `441300-municipal` or `441302001-street`.
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    /// The region the department is responsible for (its scope).
    pub region_code: String,
    pub parent_id: Option<i64>,
}

/// A user's data scope: the region and/or the department within which they may see and act.
/// `region_code = None` and `department_id = None` means the whole deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scope {
    pub region_code: Option<String>,
    pub department_id: Option<i64>,
}

impl Scope {
    pub fn everything() -> Self {
        Self::default()
    }
    /// Whether a region (by code) is within this scope's region.
    pub fn covers_region(&self, code: &str) -> bool {
        match &self.region_code {
            None => true,
            Some(scope) => covers(scope, code),
        }
    }
}

/// A user account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub scope: Scope,
    pub active: bool,
    /// Unit grids an inspector patrols (责任网格), by grid or community code.
    pub grids: Vec<String>,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for k in DepartmentKind::ALL {
            assert_eq!(k.as_str().parse::<DepartmentKind>().unwrap(), k);
        }
    }

    #[test]
    fn scope_covers() {
        let s = Scope {
            region_code: Some("441302".into()),
            department_id: None,
        };
        assert!(s.covers_region("441302001002003"));
        assert!(!s.covers_region("441303001"));
        assert!(Scope::everything().covers_region("350203"));
    }
}
