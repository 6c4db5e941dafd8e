//! 管理对象类型 (kinds of management object): the fixed objects Huizhou codes under 一码管全域 —
//! street-front shops, residential compounds, commercial complexes, schools, construction sites —
//! and the other fixed places a 门前三包 regime usually covers.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::case::types::named_enum;

named_enum!(
    /// 管理对象类型 (kind of management object). The two-digit [`ObjectKind::code`] is part of
    /// every object code and never changes for a kind.
    ObjectKind, "object kind" {
        /// 沿街商铺: a street-front shop (non-catering).
        StreetShop => "street_shop", "沿街商铺";
        /// 沿街餐饮: a street-front restaurant or food stall with a kitchen (油烟, 燃气).
        Restaurant => "restaurant", "沿街餐饮";
        /// 住宅小区: a residential compound (its property manager is the responsible party).
        ResidentialCompound => "residential_compound", "住宅小区";
        /// 商业综合体: a shopping mall or commercial complex.
        CommercialComplex => "commercial_complex", "商业综合体";
        /// 学校: a school or kindergarten.
        School => "school", "学校";
        /// 建筑工地: a construction site.
        ConstructionSite => "construction_site", "建筑工地";
        /// 农贸市场: a farmers' market.
        Market => "market", "农贸市场";
        /// 医院: a hospital or clinic.
        Hospital => "hospital", "医院";
        /// 公园景区: a park or scenic spot.
        Park => "park", "公园景区";
        /// 机关企事业单位: a government office, institution or company compound.
        Institution => "institution", "机关企事业单位";
        /// 交通场站: a bus or railway station, a transport hub.
        TransportHub => "transport_hub", "交通场站";
        /// 废品回收站: a recycling (waste-material) station.
        RecyclingStation => "recycling_station", "废品回收站";
        /// 流动商户疏导区(点): a designated area for mobile vendors.
        VendorZone => "vendor_zone", "流动商户疏导区";
    }
);

impl ObjectKind {
    /// The stable two-digit code (01–13) used in object codes; never reused.
    pub fn code(self) -> u8 {
        match self {
            ObjectKind::StreetShop => 1,
            ObjectKind::Restaurant => 2,
            ObjectKind::ResidentialCompound => 3,
            ObjectKind::CommercialComplex => 4,
            ObjectKind::School => 5,
            ObjectKind::ConstructionSite => 6,
            ObjectKind::Market => 7,
            ObjectKind::Hospital => 8,
            ObjectKind::Park => 9,
            ObjectKind::Institution => 10,
            ObjectKind::TransportHub => 11,
            ObjectKind::RecyclingStation => 12,
            ObjectKind::VendorZone => 13,
        }
    }

    /// The kind of a two-digit code.
    pub fn from_code(code: u8) -> Option<ObjectKind> {
        ObjectKind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            ObjectKind::StreetShop => "Street-front shop",
            ObjectKind::Restaurant => "Street-front restaurant",
            ObjectKind::ResidentialCompound => "Residential compound",
            ObjectKind::CommercialComplex => "Commercial complex",
            ObjectKind::School => "School",
            ObjectKind::ConstructionSite => "Construction site",
            ObjectKind::Market => "Farmers' market",
            ObjectKind::Hospital => "Hospital",
            ObjectKind::Park => "Park or scenic spot",
            ObjectKind::Institution => "Institution compound",
            ObjectKind::TransportHub => "Transport hub",
            ObjectKind::RecyclingStation => "Recycling station",
            ObjectKind::VendorZone => "Vendor zone",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_stable_and_round_trip() {
        let codes: std::collections::BTreeSet<u8> =
            ObjectKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ObjectKind::ALL.len());
        assert!(codes.iter().all(|c| (1..=99).contains(c)));
        for &k in ObjectKind::ALL {
            assert_eq!(ObjectKind::from_code(k.code()), Some(k));
            assert_eq!(k.as_str().parse::<ObjectKind>(), Ok(k));
            assert!(!k.name_zh().is_empty() && !k.name_en().is_empty());
        }
        // Pinned: these digits are printed on labels.
        assert_eq!(ObjectKind::StreetShop.code(), 1);
        assert_eq!(ObjectKind::ConstructionSite.code(), 6);
        assert_eq!(ObjectKind::from_code(0), None);
        assert!("shop".parse::<ObjectKind>().is_err());
        assert_eq!(ObjectKind::School.to_string(), "school");
    }
}
