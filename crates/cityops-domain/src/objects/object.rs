//! 管理对象 (management object): a coded fixed object, where it is, which regions hold it, who
//! answers for it (责任人) and the public card anyone who scans its label sees.
use serde::{Deserialize, Serialize};

use super::{ObjectCode, ObjectError, ObjectKind, ResponsibilityZone};
use crate::limits::{ADDRESS, PERSON_NAME, PHONE, TextLimit};
use crate::privacy::{mask_name, mask_phone};
use crate::{LngLat, RegionCode, RegionLevel};

/// An object's name (对象名称), e.g. a shop's signboard name.
pub const OBJECT_NAME: TextLimit = TextLimit {
    field: "object name",
    max_chars: 100,
};

/// 责任人 (responsible party): the person who answers for the object and its zone, usually an
/// account with the role `responsible_party`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibleParty {
    /// The user account, when the party has one (needed to self-check).
    pub user_id: Option<i64>,
    pub name: String,
    pub phone: String,
}

/// 责任人 as the public sees it: name and phone masked (`张*明`, `138****0000`), no account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicParty {
    pub name: String,
    pub phone: String,
}

impl ResponsibleParty {
    /// The masked view for the public card.
    pub fn public(&self) -> PublicParty {
        PublicParty {
            name: mask_name(&self.name),
            phone: mask_phone(&self.phone),
        }
    }
}

/// 所在区域 (located regions): the grid, community, street and district codes the object lies
/// in, as the locate index answers them. Each is optional (an object outside the gridded core
/// has no grid), but those given nest: the street code begins with the district code, and so on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRegions {
    pub district: Option<RegionCode>,
    pub street: Option<RegionCode>,
    pub community: Option<RegionCode>,
    pub grid: Option<RegionCode>,
}

impl ObjectRegions {
    /// All four levels from a 15-digit grid code (its structure names its parents).
    pub fn from_grid(grid: RegionCode) -> Result<Self, ObjectError> {
        if grid.as_str().len() != RegionLevel::Grid.code_len() {
            return Err(ObjectError::InvalidObject(format!(
                "{grid} is not a 15-digit grid code"
            )));
        }
        let community = grid.structural_parent();
        let street = community.as_ref().and_then(RegionCode::structural_parent);
        let district = street.as_ref().and_then(RegionCode::structural_parent);
        Ok(Self {
            district,
            street,
            community,
            grid: Some(grid),
        })
    }

    /// The levels, coarsest first, with their codes.
    fn levels(&self) -> [(RegionLevel, Option<&RegionCode>); 4] {
        [
            (RegionLevel::District, self.district.as_ref()),
            (RegionLevel::Street, self.street.as_ref()),
            (RegionLevel::Community, self.community.as_ref()),
            (RegionLevel::Grid, self.grid.as_ref()),
        ]
    }

    /// The finest code given (grid, else community, street, district).
    pub fn finest(&self) -> Option<&RegionCode> {
        self.levels().into_iter().rev().find_map(|(_, c)| c)
    }

    /// Checks each code's length for its level and that the codes given nest.
    pub fn validate(&self) -> Result<(), ObjectError> {
        let mut coarser: Option<&RegionCode> = None;
        for (level, code) in self.levels() {
            let Some(code) = code else { continue };
            if code.as_str().len() != level.code_len() {
                return Err(ObjectError::InvalidObject(format!(
                    "{} code {code} must have {} digits",
                    level.name_zh(),
                    level.code_len()
                )));
            }
            if let Some(parent) = coarser
                && !code.as_str().starts_with(parent.as_str())
            {
                return Err(ObjectError::InvalidObject(format!(
                    "{} code {code} does not lie in {parent}",
                    level.name_zh()
                )));
            }
            coarser = Some(code);
        }
        Ok(())
    }
}

/// 管理对象 (management object): a coded fixed object under 一码管全域.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedObject {
    /// 赋码: permanent, printed on the QR label.
    pub code: ObjectCode,
    /// The current kind; it picks the checklist. It may differ from the kind in the code (a
    /// shop that became a restaurant keeps its code).
    pub kind: ObjectKind,
    pub name: String,
    pub address: String,
    /// Position (WGS84), on the building line (门面) where known.
    pub point: LngLat,
    /// 门前三包责任区 as drawn; `None` until drawn (see [`super::frontage_zone`] for a default).
    pub zone: Option<ResponsibilityZone>,
    pub regions: ObjectRegions,
    pub responsible: ResponsibleParty,
    /// 主管部门: the department that supervises the object (its street office, usually).
    pub owner_department_id: Option<i64>,
}

impl ManagedObject {
    /// Checks the fields: a name, lengths, a valid position, nesting regions, a responsible
    /// party with a name and a phone.
    pub fn validate(&self) -> Result<(), ObjectError> {
        if self.name.trim().is_empty() {
            return Err(ObjectError::InvalidObject("the name is empty".into()));
        }
        OBJECT_NAME.check(&self.name)?;
        ADDRESS.check(&self.address)?;
        LngLat::new(self.point.lng, self.point.lat).map_err(|_| {
            ObjectError::InvalidObject(format!(
                "invalid position lng={}, lat={}",
                self.point.lng, self.point.lat
            ))
        })?;
        self.regions.validate()?;
        let party = &self.responsible;
        if party.name.trim().is_empty() || party.phone.trim().is_empty() {
            return Err(ObjectError::InvalidObject(
                "the responsible party needs a name and a phone".into(),
            ));
        }
        PERSON_NAME.check(&party.name)?;
        PHONE.check(&party.phone)?;
        Ok(())
    }

    /// 公开信息卡 (public card): what anyone who scans the label sees.
    pub fn public_card(&self) -> PublicCard {
        PublicCard {
            code: self.code.clone(),
            kind: self.kind,
            name: self.name.clone(),
            address: self.address.clone(),
            point: self.point,
            zone: self.zone.clone(),
            responsible: self.responsible.public(),
        }
    }
}

/// 公开信息卡 (public card) of an object: no account, the responsible party masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCard {
    pub code: ObjectCode,
    pub kind: ObjectKind,
    pub name: String,
    pub address: String,
    pub point: LngLat,
    pub zone: Option<ResponsibilityZone>,
    pub responsible: PublicParty,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn shop() -> ManagedObject {
        ManagedObject {
            code: ObjectCode::new("441302", ObjectKind::Restaurant, 1).expect("code"),
            kind: ObjectKind::Restaurant,
            name: "老街肠粉店".into(),
            address: "惠城区水东街 12 号".into(),
            point: LngLat {
                lng: 114.4158,
                lat: 23.1115,
            },
            zone: None,
            regions: ObjectRegions::from_grid(RegionCode::parse("441302001002015").expect("grid"))
                .expect("regions"),
            responsible: ResponsibleParty {
                user_id: Some(501),
                name: "陈小明".into(),
                phone: "13800001234".into(),
            },
            owner_department_id: Some(7),
        }
    }

    #[test]
    fn a_valid_object_and_its_public_card() {
        let o = shop();
        assert_eq!(o.validate(), Ok(()));
        assert_eq!(
            o.regions.street.as_ref().map(RegionCode::as_str),
            Some("441302001")
        );
        assert_eq!(
            o.regions.finest().map(RegionCode::as_str),
            Some("441302001002015")
        );
        let card = o.public_card();
        assert_eq!(card.responsible.name, "陈*明");
        assert_eq!(card.responsible.phone, "138****1234");
        let json = serde_json::to_string(&card).expect("json");
        assert!(!json.contains("13800001234") && !json.contains("501"));
    }

    #[test]
    fn invalid_objects_are_refused() {
        let mut o = shop();
        o.name = "  ".into();
        assert!(o.validate().is_err());
        let mut o = shop();
        o.name = "店".repeat(101);
        assert!(matches!(o.validate(), Err(ObjectError::TooLong(_))));
        let mut o = shop();
        o.point.lat = 91.0;
        assert!(o.validate().is_err());
        let mut o = shop();
        o.responsible.phone = String::new();
        assert!(o.validate().is_err());
        let mut o = shop();
        o.regions.street = Some(RegionCode::parse("441303001").expect("code"));
        let err = o.validate().expect_err("street outside district");
        assert!(err.to_string().contains("does not lie in"), "{err}");
        let mut o = shop();
        o.regions.community = Some(RegionCode::parse("441302001").expect("code"));
        assert!(o.validate().is_err(), "a 9-digit community code");
        assert!(ObjectRegions::from_grid(RegionCode::parse("441302001").expect("code")).is_err());
        assert_eq!(ObjectRegions::default().validate(), Ok(()));
        assert_eq!(ObjectRegions::default().finest(), None);
    }
}
