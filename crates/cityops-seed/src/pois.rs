//! The demo city's public-service points of interest (演示城市的公共服务设施): public toilets
//! (公厕), parks (公园), vendor zones (摊规点) and car-free zones (无车区) — some 150–200 per city,
//! what the citizens' "附近公厕/公园" page finds.
//!
//! **The positions are illustrative.** The parks and car-free zones carry the names of real places
//! of the city, placed by hand within a few hundred metres of where they are; the toilets (one at
//! each park and along the main roads), the pocket parks (口袋公园, along the main roads) and the
//! vendor zones (along the commercial streets) are synthetic, placed on the same rough road map as the demo's devices
//! ([`crate::devices`]). Every point lies inside the demo's urban core, inside a district polygon
//! and out of the water, so it locates in the demo city; a hand-placed point that does not is left
//! out (the tests keep them all in).
//!
//! The POIs are written as a POI file ([`demo_pois_csv`], the format of `cityops import pois` and
//! `POST /api/v1/pois/import`) and read back through the domain's parser ([`demo_pois`]), so the
//! demo goes through the same import as an administrator's file. Deterministic: no randomness.
use cityops_domain::DomainError;
use cityops_domain::poi::{PoiCrs, PoiImport, PoiType, parse_pois_csv};

use crate::DemoCity;
use crate::devices::{Placer, with_placer};

/// A hand-placed POI: its name and an approximate WGS84 position.
type Named = (&'static str, f64, f64);

/// Parks (公园) of Huizhou 惠州 (positions approximate).
#[rustfmt::skip]
const HUIZHOU_PARKS: &[Named] = &[
    ("西湖公园", 114.4005, 23.0850),
    ("江北公园", 114.4140, 23.1150),
    ("中山公园", 114.4120, 23.0890),
    ("南湖公园", 114.3980, 23.0715),
    ("红花湖公园", 114.3700, 23.0600),
    ("金山湖公园", 114.4300, 23.0500),
    ("高榜山森林公园", 114.4050, 23.0640),
    ("东江公园", 114.4300, 23.1040),
    ("江北市民乐园", 114.4185, 23.1095),
    ("龙丰公园", 114.3850, 23.1000),
    ("水口公园", 114.4620, 23.1350),
    ("演达公园", 114.3800, 23.0700),
    ("仲恺公园", 114.3600, 23.0600),
    ("小金口公园", 114.4000, 23.1420),
    ("东平公园", 114.4470, 23.0780),
    ("三环公园", 114.4300, 23.1380),
];

/// Car-free zones (无车区: pedestrian streets and squares) of Huizhou.
#[rustfmt::skip]
const HUIZHOU_CAR_FREE: &[Named] = &[
    ("水东街步行街", 114.4160, 23.0875),
    ("江北市民广场", 114.4165, 23.1110),
    ("下角商业步行街", 114.4040, 23.0935),
    ("麦地南步行街", 114.4060, 23.0880),
    ("东平文化广场", 114.4500, 23.0760),
    ("金山湖文化广场", 114.4250, 23.0470),
];

/// Parks of Xiamen 厦门.
#[rustfmt::skip]
const XIAMEN_PARKS: &[Named] = &[
    ("白鹭洲公园", 118.1165, 24.4835),
    ("中山公园", 118.0970, 24.4615),
    ("南湖公园", 118.1150, 24.4760),
    ("忠仑公园", 118.1420, 24.5000),
    ("湖边水库公园", 118.1600, 24.5050),
    ("仙岳公园", 118.1150, 24.5050),
    ("万石植物园", 118.1080, 24.4500),
    ("狐尾山公园", 118.0980, 24.4970),
    ("江头公园", 118.1290, 24.4990),
    ("金榜公园", 118.1180, 24.4700),
    ("东坪山公园", 118.1280, 24.4600),
    ("五缘湾湿地公园", 118.1740, 24.5160),
    ("观音山公园", 118.1850, 24.4970),
    ("枋湖公园", 118.1500, 24.5150),
];

/// Car-free zones of Xiamen.
#[rustfmt::skip]
const XIAMEN_CAR_FREE: &[Named] = &[
    ("中山路步行街", 118.0860, 24.4585),
    ("沙坡尾艺术西区", 118.0930, 24.4440),
    ("曾厝垵文创村", 118.1300, 24.4370),
    ("八市", 118.0840, 24.4620),
    ("白鹭洲广场", 118.1030, 24.4770),
    ("筼筜湖北岸步行道", 118.1040, 24.4890),
];

/// Parks of Bozhou 亳州.
#[rustfmt::skip]
const BOZHOU_PARKS: &[Named] = &[
    ("汤陵公园", 115.7720, 33.8450),
    ("亳州体育公园", 115.8000, 33.8350),
    ("南湖公园", 115.7850, 33.8300),
    ("涡河湿地公园", 115.7600, 33.8790),
    ("药都公园", 115.7450, 33.8400),
    ("合欢公园", 115.7800, 33.8840),
    ("芍花公园", 115.8100, 33.8480),
    ("谯东公园", 115.8150, 33.8700),
    ("魏武公园", 115.7920, 33.8500),
    ("希夷公园", 115.8140, 33.8380),
    ("紫苑公园", 115.7430, 33.8600),
    ("杜仲公园", 115.7700, 33.8930),
];

/// Car-free zones of Bozhou.
#[rustfmt::skip]
const BOZHOU_CAR_FREE: &[Named] = &[
    ("北关历史文化街区", 115.7810, 33.8675),
    ("魏武广场", 115.7900, 33.8560),
    ("人民路步行街", 115.7805, 33.8520),
    ("汤陵广场", 115.7740, 33.8430),
    ("药都广场", 115.7600, 33.8380),
];

fn hand_placed(city: DemoCity) -> (&'static [Named], &'static [Named]) {
    match city {
        DemoCity::Huizhou => (HUIZHOU_PARKS, HUIZHOU_CAR_FREE),
        DemoCity::Xiamen => (XIAMEN_PARKS, XIAMEN_CAR_FREE),
        DemoCity::Bozhou => (BOZHOU_PARKS, BOZHOU_CAR_FREE),
    }
}

/// Road toilets every this many metres along each main road (alternating sides, 25 m off).
const TOILET_SPACING_M: f64 = 1_400.0;
/// Pocket parks every this many metres along each main road (60 m off).
const POCKET_PARK_SPACING_M: f64 = 2_600.0;
/// Vendor zones every this many metres along each commercial street.
const VENDOR_SPACING_M: f64 = 700.0;

/// One row of the demo's POI file.
struct Row {
    poi_type: PoiType,
    name: String,
    lng: f64,
    lat: f64,
    address: String,
    opening_hours: &'static str,
    note: &'static str,
}

fn rows(p: &Placer<'_, '_>, city: DemoCity) -> Vec<Row> {
    let (parks, car_free) = hand_placed(city);
    let mut out = Vec::new();
    let mut park_toilets = Vec::new();
    for (i, &(name, lng, lat)) in parks.iter().enumerate() {
        let Some(place) = p.place(lng, lat) else {
            continue;
        };
        out.push(Row {
            poi_type: PoiType::Park,
            name: name.to_string(),
            lng: place.lng,
            lat: place.lat,
            address: format!("{}{name}", place.district_name),
            opening_hours: if i % 3 == 0 {
                "全天开放"
            } else {
                "06:00-22:00"
            },
            note: if i % 4 == 0 {
                "免费开放，设有儿童游乐区"
            } else {
                "免费开放"
            },
        });
        // The park's own toilet, by its entrance (≈60 m south-east).
        if let Some(t) = p.place(lng + 0.0004, lat - 0.0004) {
            park_toilets.push(Row {
                poi_type: PoiType::Toilet,
                name: format!("{name}公厕"),
                lng: t.lng,
                lat: t.lat,
                address: format!("{}{name}内", t.district_name),
                opening_hours: "06:00-22:00",
                note: if i % 2 == 0 {
                    "无障碍厕位、第三卫生间"
                } else {
                    ""
                },
            });
        }
    }
    for (i, &(name, lng, lat)) in car_free.iter().enumerate() {
        let Some(place) = p.place(lng, lat) else {
            continue;
        };
        out.push(Row {
            poi_type: PoiType::CarFreeZone,
            name: name.to_string(),
            lng: place.lng,
            lat: place.lat,
            address: format!("{}{name}", place.district_name),
            opening_hours: if i % 2 == 0 {
                "全天"
            } else {
                "10:00-22:00 禁止机动车通行"
            },
            note: "步行区，非机动车请推行",
        });
    }
    out.extend(park_toilets);
    let mut per_road: std::collections::BTreeMap<&str, u32> = Default::default();
    for site in p.road_sites(false, 350.0, TOILET_SPACING_M, 25.0) {
        let n = per_road.entry(site.road).or_insert(0);
        *n += 1;
        out.push(Row {
            poi_type: PoiType::Toilet,
            name: format!("{}{}号公厕", site.road, n),
            lng: site.place.lng,
            lat: site.place.lat,
            address: format!("{}{}", site.place.district_name, site.road),
            opening_hours: if *n % 2 == 1 {
                "全天开放"
            } else {
                "06:00-23:00"
            },
            note: if *n % 3 == 1 { "无障碍厕位" } else { "" },
        });
    }
    // Pocket parks (口袋公园) beside the main roads.
    let mut per_road: std::collections::BTreeMap<&str, u32> = Default::default();
    for site in p.road_sites(false, 1_100.0, POCKET_PARK_SPACING_M, -60.0) {
        let n = per_road.entry(site.road).or_insert(0);
        *n += 1;
        out.push(Row {
            poi_type: PoiType::Park,
            name: format!("{}{}号口袋公园", site.road, n),
            lng: site.place.lng,
            lat: site.place.lat,
            address: format!("{}{}", site.place.district_name, site.road),
            opening_hours: "全天开放",
            note: "街头绿地，设有座椅",
        });
    }
    let mut per_road: std::collections::BTreeMap<&str, u32> = Default::default();
    for site in p.road_sites(true, 200.0, VENDOR_SPACING_M, 30.0) {
        let n = per_road.entry(site.road).or_insert(0);
        *n += 1;
        let (kind, hours) = if *n % 2 == 1 {
            ("便民摊规点", "17:30-23:00")
        } else {
            ("早市摊规点", "06:00-09:00")
        };
        out.push(Row {
            poi_type: PoiType::VendorZone,
            name: format!("{}{}{n}号", site.road, kind),
            lng: site.place.lng,
            lat: site.place.lat,
            address: format!("{}{}", site.place.district_name, site.road),
            opening_hours: hours,
            note: "限定时段、限定区域经营，收摊后清洁",
        });
    }
    out
}

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The demo POIs of `city` as a POI file (header `type,name,lng,lat,address,opening_hours,note,crs`,
/// WGS84): parks, car-free zones, toilets, vendor zones.
pub fn demo_pois_csv(city: DemoCity) -> String {
    let rows = with_placer(city, |p| rows(p, city));
    let mut out = String::from("type,name,lng,lat,address,opening_hours,note,crs\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},wgs84\n",
            r.poi_type.as_str(),
            field(&r.name),
            r.lng,
            r.lat,
            field(&r.address),
            field(r.opening_hours),
            field(r.note),
        ));
    }
    out
}

/// The demo POIs of `city`, read from [`demo_pois_csv`] as an import would read the file.
pub fn demo_pois(city: DemoCity) -> Result<Vec<PoiImport>, DomainError> {
    parse_pois_csv(&demo_pois_csv(city), PoiCrs::Wgs84)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::reference;
    use cityops_geo::RegionIndex;

    #[test]
    fn every_city_has_dozens_of_each_kind_inside_its_districts() {
        for city in DemoCity::ALL {
            let pois = demo_pois(city).unwrap_or_else(|e| panic!("{city}: {e}"));
            let mut by_type: BTreeMap<PoiType, usize> = BTreeMap::new();
            for p in &pois {
                *by_type.entry(p.poi.poi_type).or_default() += 1;
            }
            let (parks, car_free) = hand_placed(city);
            let missing: Vec<&str> = parks
                .iter()
                .chain(car_free)
                .map(|n| n.0)
                .filter(|n| !pois.iter().any(|p| p.poi.name == *n))
                .collect();
            assert!(missing.is_empty(), "{city}: not placed: {missing:?}");
            assert!(
                by_type[&PoiType::Park] >= parks.len() + 20,
                "{city}: {by_type:?}"
            );
            assert_eq!(
                by_type[&PoiType::CarFreeZone],
                car_free.len(),
                "{city}: every car-free zone placed"
            );
            assert!(by_type[&PoiType::Toilet] >= 30, "{city}: {by_type:?}");
            assert!(by_type[&PoiType::VendorZone] >= 10, "{city}: {by_type:?}");
            let names: HashSet<(PoiType, &str)> = pois
                .iter()
                .map(|p| (p.poi.poi_type, p.poi.name.as_str()))
                .collect();
            assert_eq!(names.len(), pois.len(), "{city}: names are unique per type");

            let districts = reference::districts(city);
            let index = RegionIndex::build(&districts, &[], &[], &[]).unwrap();
            let core = city.core_bbox();
            for p in &pois {
                let (lng, lat) = (p.poi.lng, p.poi.lat);
                assert!(
                    index.locate(lng, lat).is_some(),
                    "{city}: {} lies outside the districts",
                    p.poi.name
                );
                assert!(
                    lng > core[0] && lng < core[2] && lat > core[1] && lat < core[3],
                    "{city}: {} lies outside the core",
                    p.poi.name
                );
                assert!(p.poi.opening_hours.is_some() && p.poi.address.is_some());
            }
        }
    }

    #[test]
    fn the_file_is_deterministic() {
        assert_eq!(
            demo_pois_csv(DemoCity::Huizhou),
            demo_pois_csv(DemoCity::Huizhou)
        );
        let csv = demo_pois_csv(DemoCity::Huizhou);
        assert!(csv.contains("park,西湖公园,"), "{}", &csv[..200]);
        assert!(csv.contains("park,江北公园,"));
    }
}
