//! The demo city's management objects (演示管理对象, 一码管全域): a few thousand coded objects
//! along the main roads of the urban core — street-front shops and restaurants on both sides of
//! every road (denser on the commercial streets), and behind them residential compounds,
//! commercial complexes, schools and kindergartens, construction sites, farmers' markets, clinics,
//! institution compounds, bus stations, recycling stations and vendor zones — each with a
//! plausible Chinese name, an address on its road and a named responsible party (责任人) with a
//! phone number.
//!
//! **Illustrative**: the roads are the real ones the monitoring devices follow
//! ([`crate::devices::main_roads`], rough WGS84 polylines), but every object, name, house number,
//! person and phone number is generated; positions are placed along the roads, not surveyed.
//! Phone numbers use the 138/139/136/137/135 prefixes with generated digits and call nobody on
//! purpose only by chance; none of the parties has an account (the demo's responsible-party
//! account `shop1` has objects of its own).
//!
//! Deterministic (ChaCha8 streams seeded from [`crate::demo::DEFAULT_SEED`], the city and a label)
//! and pure: the objects are returned as the domain's import drafts
//! ([`cityops_domain::objects::ObjectDraft`]); the application locates them, codes them and draws
//! their frontage zones when they are imported.
use cityops_domain::LngLat;
use cityops_domain::objects::{ObjectDraft, ObjectKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::DemoCity;
use crate::devices::{RoadSite, with_placer};

/// How far (m) from a road's centre line objects stand: the shops on the building line, the
/// larger objects behind them.
const FRONT_SIDE_M: f64 = 16.0;
const BACK_SIDE_M: f64 = 70.0;

fn rng_for(city: DemoCity, label: &str) -> ChaCha8Rng {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in city.as_str().bytes().chain([b'#']).chain(label.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(crate::demo::DEFAULT_SEED ^ h.rotate_left(23))
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

const SURNAMES: [&str; 40] = [
    "陈", "李", "张", "黄", "王", "刘", "林", "叶", "吴", "杨", "何", "罗", "梁", "周", "钟", "曾",
    "谢", "赖", "邓", "徐", "郑", "朱", "蔡", "卢", "温", "古", "江", "冯", "潘", "邱", "廖", "余",
    "许", "方", "彭", "苏", "胡", "刘", "黎", "邹",
];
const GIVEN: [&str; 48] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "慧", "建国", "志强", "海燕", "丽华", "国强", "小红", "俊杰", "晓东",
    "永明", "金华", "少芬", "惠玲", "伟强", "振华", "淑贞", "嘉欣", "子豪", "文静", "家乐", "雪梅",
    "耀祖", "宝珠", "锦荣", "美玲", "国华", "秋菊", "德明", "春燕",
];
const SHOP_HEADS: [&str; 32] = [
    "惠民",
    "鸿运",
    "福临",
    "金利",
    "兴隆",
    "百佳",
    "家家乐",
    "好又多",
    "万顺",
    "永盛",
    "恒信",
    "东江",
    "西湖",
    "客家人",
    "老街",
    "新华",
    "合兴",
    "利民",
    "广源",
    "德隆",
    "顺发",
    "宏达",
    "佳美",
    "旺角",
    "一品",
    "天天",
    "美佳",
    "乐购",
    "和记",
    "荣记",
    "阿华",
    "阿强",
];
const SHOP_TAILS: [&str; 30] = [
    "便利店",
    "五金店",
    "药房",
    "服装店",
    "理发店",
    "手机店",
    "水果店",
    "文具店",
    "眼镜店",
    "烟酒店",
    "超市",
    "鞋店",
    "茶叶店",
    "电器行",
    "母婴店",
    "花店",
    "洗衣店",
    "打印店",
    "粮油店",
    "家具店",
    "建材店",
    "摩托车行",
    "钟表店",
    "书店",
    "干货店",
    "日杂店",
    "美甲店",
    "照相馆",
    "彩票店",
    "床上用品店",
];
const FOOD_TAILS: [&str; 24] = [
    "肠粉店",
    "客家菜馆",
    "粥铺",
    "烧腊店",
    "牛肉火锅",
    "茶餐厅",
    "面馆",
    "糖水铺",
    "酿豆腐",
    "汤粉店",
    "烧烤",
    "早餐店",
    "猪脚饭",
    "饺子馆",
    "砂锅粥",
    "鱼头火锅",
    "奶茶店",
    "蒸饺店",
    "盐焗鸡",
    "快餐店",
    "点心楼",
    "炖汤店",
    "梅菜扣肉馆",
    "腌面店",
];
const ESTATE_HEADS: [&str; 24] = [
    "江南", "金湖", "碧桂", "翠湖", "锦绣", "丽景", "东湖", "水岸", "华府", "御景", "名都", "凯旋",
    "书香", "时代", "金色", "半岛", "富力", "天悦", "尚东", "雅居", "湖畔", "桂林", "康城", "星河",
];
const ESTATE_TAILS: [&str; 8] = ["花园", "小区", "苑", "雅苑", "名邸", "豪庭", "新村", "公寓"];
const COMPLEX_TAILS: [&str; 6] = ["广场", "天地", "购物中心", "商业城", "城市广场", "汇"];
const SCHOOL_TAILS: [&str; 5] = ["小学", "中学", "实验学校", "幼儿园", "外国语学校"];
const SITE_TAILS: [&str; 4] = ["项目工地", "地块建设工地", "改造工程工地", "安置房工程工地"];
const CLINIC_TAILS: [&str; 4] = ["社区卫生服务站", "门诊部", "诊所", "中医馆"];
const INSTITUTION_TAILS: [&str; 5] = ["街道办事处", "供电所", "税务分局", "派出所", "邮政支局"];

fn person(rng: &mut ChaCha8Rng) -> (String, String) {
    let name = format!("{}{}", pick(rng, &SURNAMES), pick(rng, &GIVEN));
    let prefix = pick(rng, &["138", "139", "136", "137", "135", "188", "158"]);
    let phone = format!("{prefix}{:08}", rng.random_range(0..100_000_000u32));
    (name, phone)
}

/// A short road name without its suffix (`惠州大道` → `惠州`), for names of schools and markets.
fn road_stem(road: &str) -> String {
    let stem = road
        .trim_end_matches("大道")
        .trim_end_matches("路")
        .trim_end_matches("街")
        .trim_end_matches("大街");
    stem.chars().take(4).collect()
}

/// The kind of a frontage object (on the building line): shops and restaurants, now and then a
/// vendor zone or a recycling station; on a commercial street more restaurants.
fn frontage_kind(rng: &mut ChaCha8Rng, commercial: bool) -> ObjectKind {
    let r = rng.random_range(0..100);
    match (commercial, r) {
        (_, 0..=1) => ObjectKind::VendorZone,
        (false, 2..=3) => ObjectKind::RecyclingStation,
        (true, 2..=44) | (false, 4..=34) => ObjectKind::Restaurant,
        _ => ObjectKind::StreetShop,
    }
}

/// The kind of an object behind the frontage.
fn back_kind(rng: &mut ChaCha8Rng) -> ObjectKind {
    match rng.random_range(0..100) {
        0..=44 => ObjectKind::ResidentialCompound,
        45..=54 => ObjectKind::CommercialComplex,
        55..=64 => ObjectKind::School,
        65..=74 => ObjectKind::ConstructionSite,
        75..=81 => ObjectKind::Market,
        82..=87 => ObjectKind::Hospital,
        88..=93 => ObjectKind::Institution,
        94..=96 => ObjectKind::TransportHub,
        _ => ObjectKind::Park,
    }
}

fn name_of(rng: &mut ChaCha8Rng, kind: ObjectKind, road: &str, district: &str) -> String {
    let stem = road_stem(road);
    let area = district.trim_end_matches(['区', '县', '市']);
    match kind {
        ObjectKind::StreetShop => format!("{}{}", pick(rng, &SHOP_HEADS), pick(rng, &SHOP_TAILS)),
        ObjectKind::Restaurant => format!("{}{}", pick(rng, &SHOP_HEADS), pick(rng, &FOOD_TAILS)),
        ObjectKind::ResidentialCompound => {
            format!("{}{}", pick(rng, &ESTATE_HEADS), pick(rng, &ESTATE_TAILS))
        }
        ObjectKind::CommercialComplex => {
            format!("{}{}", pick(rng, &ESTATE_HEADS), pick(rng, &COMPLEX_TAILS))
        }
        ObjectKind::School => format!("{area}{stem}{}", pick(rng, &SCHOOL_TAILS)),
        ObjectKind::ConstructionSite => {
            format!("{}{}", pick(rng, &ESTATE_HEADS), pick(rng, &SITE_TAILS))
        }
        ObjectKind::Market => format!("{stem}农贸市场"),
        ObjectKind::Hospital => format!("{stem}{}", pick(rng, &CLINIC_TAILS)),
        ObjectKind::Institution => format!("{area}{stem}{}", pick(rng, &INSTITUTION_TAILS)),
        ObjectKind::TransportHub => format!("{stem}公交总站"),
        ObjectKind::Park => format!("{stem}社区公园"),
        ObjectKind::RecyclingStation => format!("{}废品回收站", pick(rng, &SURNAMES)),
        ObjectKind::VendorZone => format!("{stem}流动商户疏导点"),
    }
}

/// The demo objects of `city` (≈3,000 in Huizhou, fewer in the smaller cores of Xiamen and
/// Bozhou), in road order; positions WGS84, no code (the platform issues one), no zone (the
/// platform derives the frontage), responsible parties by name and phone without an account.
pub fn demo_objects(city: DemoCity) -> Vec<ObjectDraft> {
    let (front, back) = with_placer(city, |p| {
        (
            // Shops every 28 m on both sides of every road (alternating), from 10 m in.
            p.road_sites(false, 10.0, 28.0, FRONT_SIDE_M),
            // Larger objects behind them every 260 m.
            p.road_sites(false, 130.0, 260.0, BACK_SIDE_M),
        )
    });
    let mut rng = rng_for(city, "objects");
    let mut house: std::collections::HashMap<(&str, bool), u32> = Default::default();
    let mut out = Vec::with_capacity(front.len() + back.len());
    let mut add = |rng: &mut ChaCha8Rng, site: &RoadSite, kind: ObjectKind, i: usize| {
        // Odd numbers on one side, even on the other, rising along the road.
        let left = i.is_multiple_of(2);
        let n = house
            .entry((site.road, left))
            .or_insert(if left { 1 } else { 2 });
        let number = *n;
        *n += 2 * rng.random_range(1..4);
        let (party, phone) = person(rng);
        out.push(ObjectDraft {
            origin: format!("demo object {}", out.len() + 1),
            code: None,
            kind,
            name: name_of(rng, kind, site.road, &site.place.district_name),
            address: format!("{}{}{}号", site.place.district_name, site.road, number),
            point: LngLat {
                lng: site.place.lng,
                lat: site.place.lat,
            },
            zone: None,
            responsible_name: party,
            responsible_phone: phone,
            responsible_username: None,
            owner_department: None,
        });
    };
    for (i, site) in front.iter().enumerate() {
        let kind = frontage_kind(&mut rng, site.commercial);
        add(&mut rng, site, kind, i);
    }
    for (i, site) in back.iter().enumerate() {
        let kind = back_kind(&mut rng);
        add(&mut rng, site, kind, i);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn thousands_of_plausible_objects_in_every_demo_city() {
        for city in DemoCity::ALL {
            let objects = demo_objects(city);
            let min = if city == DemoCity::Huizhou { 2000 } else { 300 };
            assert!(objects.len() >= min, "{city:?}: {}", objects.len());
            assert!(objects.len() <= 10_000, "{city:?}: {}", objects.len());
            let core = city.core_bbox();
            let mut kinds: BTreeMap<ObjectKind, usize> = BTreeMap::new();
            for o in &objects {
                assert!(
                    o.point.lng >= core[0]
                        && o.point.lng <= core[2]
                        && o.point.lat >= core[1]
                        && o.point.lat <= core[3],
                    "{} lies in the core",
                    o.name
                );
                assert!(!o.name.trim().is_empty() && o.name.chars().count() <= 100);
                assert!(o.address.ends_with('号'), "{}", o.address);
                assert_eq!(o.responsible_phone.len(), 11);
                assert!(o.responsible_phone.bytes().all(|b| b.is_ascii_digit()));
                assert!(o.responsible_name.chars().count() >= 2);
                *kinds.entry(o.kind).or_default() += 1;
            }
            // Shops and restaurants dominate; the other kinds are there.
            let frontage = kinds[&ObjectKind::StreetShop] + kinds[&ObjectKind::Restaurant];
            assert!(frontage * 2 > objects.len(), "{city:?}: {kinds:?}");
            for k in [
                ObjectKind::ResidentialCompound,
                ObjectKind::School,
                ObjectKind::ConstructionSite,
            ] {
                assert!(kinds.get(&k).copied().unwrap_or(0) > 0, "{city:?} has {k}");
            }
            // Addresses are unique (house numbers rise along each side of a road).
            let addresses: BTreeSet<&str> = objects.iter().map(|o| o.address.as_str()).collect();
            assert_eq!(addresses.len(), objects.len(), "{city:?}");
        }
    }

    #[test]
    fn deterministic() {
        assert_eq!(
            demo_objects(DemoCity::Bozhou),
            demo_objects(DemoCity::Bozhou)
        );
    }
}
