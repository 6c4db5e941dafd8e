//! The strings of the citizens' public-service pages (公共服务: "附近公厕/公园", `/m/places`),
//! Chinese first with a complete English translation: both [`PUBLIC_ZH`] and [`PUBLIC_EN`] fill
//! every field, so a missing string does not compile. The names of the POI types and of the
//! compass points come from the domain in Chinese and from here in English.
use cityops_domain::poi::{Compass8, PoiType};

use crate::i18n::Lang;

/// Every text of the public-service pages.
#[derive(Debug)]
pub struct PublicTr {
    /// The page's title (附近公厕/公园).
    pub places_title: &'static str,
    /// What the page does, in one line.
    pub places_intro: &'static str,
    /// The link to the page from the report page.
    pub places_link: &'static str,
    pub places_link_hint: &'static str,
    /// The label of the type tabs.
    pub tabs_label: &'static str,
    /// Tab names: 公厕, 公园, 摊规点, 无车区.
    pub tab_toilet: &'static str,
    pub tab_park: &'static str,
    pub tab_vendor_zone: &'static str,
    pub tab_car_free_zone: &'static str,
    // Where the search stands
    pub locating: &'static str,
    pub located: &'static str,
    pub locate_failed: &'static str,
    pub no_geolocation: &'static str,
    pub centre_note: &'static str,
    pub point_note: &'static str,
    pub relocate: &'static str,
    pub loading: &'static str,
    pub nothing_near: &'static str,
    pub lookup_failed: &'static str,
    pub too_many: &'static str,
    pub noscript: &'static str,
    // One place
    pub opening_hours: &'static str,
    pub address: &'static str,
    pub open_in_map: &'static str,
    /// Between a label and its value (`开放时间：…`, `Open: …`).
    pub colon: &'static str,
    pub results_label: &'static str,
    /// `{n}` metres, `{km}` kilometres.
    pub metres: &'static str,
    pub kilometres: &'static str,
    /// `{dir}`: the compass point; `{distance}`: the distance (`东北方向 · 320 米`).
    pub walk: &'static str,
}

/// 简体中文.
pub static PUBLIC_ZH: PublicTr = PublicTr {
    places_title: "附近公厕/公园",
    places_intro: "查找离您最近的公厕、公园、摊规点和无车区，按步行距离排列。",
    places_link: "附近公厕/公园",
    places_link_hint: "找最近的公厕、公园、摊规点",
    tabs_label: "设施类型",
    tab_toilet: "公厕",
    tab_park: "公园",
    tab_vendor_zone: "摊规点",
    tab_car_free_zone: "无车区",
    locating: "正在获取您的位置…",
    located: "已按您当前的位置查找。",
    locate_failed: "未能获取您的位置（未授权或信号弱），以下为市中心附近的结果。",
    no_geolocation: "此浏览器不能定位，以下为市中心附近的结果。",
    centre_note: "以下为市中心附近的结果；允许定位后显示您附近的。",
    point_note: "以下为所给位置附近的结果。",
    relocate: "重新定位",
    loading: "正在查找…",
    nothing_near: "20 公里内没有找到。",
    lookup_failed: "查找失败，请稍后再试。",
    too_many: "查询太频繁，请稍后再试。",
    noscript: "开启 JavaScript 后可按您的位置查找。",
    opening_hours: "开放时间",
    address: "地址",
    open_in_map: "在地图中打开",
    colon: "：",
    results_label: "查找结果",
    metres: "{n} 米",
    kilometres: "{km} 公里",
    walk: "{dir}方向 · {distance}",
};

/// English.
pub static PUBLIC_EN: PublicTr = PublicTr {
    places_title: "Nearby toilets & parks",
    places_intro: "The public toilets, parks, vendor zones and car-free zones nearest to you, by walking distance.",
    places_link: "Nearby toilets & parks",
    places_link_hint: "Find the nearest public toilet, park or vendor zone",
    tabs_label: "Kind of place",
    tab_toilet: "Toilets",
    tab_park: "Parks",
    tab_vendor_zone: "Vendors",
    tab_car_free_zone: "Car-free",
    locating: "Finding your location…",
    located: "Searched around where you are.",
    locate_failed: "Your location is not available (not allowed, or a weak signal): these are near the city centre.",
    no_geolocation: "This browser cannot tell your location: these are near the city centre.",
    centre_note: "These are near the city centre; allow your location to see what is near you.",
    point_note: "These are near the given location.",
    relocate: "Locate me again",
    loading: "Searching…",
    nothing_near: "Nothing found within 20 km.",
    lookup_failed: "The search failed; please try again later.",
    too_many: "Too many searches; please try again in a moment.",
    noscript: "Turn on JavaScript to search around where you are.",
    opening_hours: "Open",
    address: "Address",
    open_in_map: "Open in maps",
    colon: ": ",
    results_label: "Results",
    metres: "{n} m",
    kilometres: "{km} km",
    walk: "{distance} {dir}",
};

impl PublicTr {
    /// The tab name of a POI type.
    pub fn tab(&self, t: PoiType) -> &'static str {
        match t {
            PoiType::Toilet => self.tab_toilet,
            PoiType::Park => self.tab_park,
            PoiType::VendorZone => self.tab_vendor_zone,
            PoiType::CarFreeZone => self.tab_car_free_zone,
        }
    }

    /// A walking distance: metres below a kilometre, else kilometres with one decimal.
    pub fn distance(&self, metres: f64) -> String {
        let m = metres.max(0.0).round();
        if m < 1_000.0 {
            self.metres.replace("{n}", &format!("{m}"))
        } else {
            self.kilometres
                .replace("{km}", &format!("{:.1}", m / 1_000.0))
        }
    }

    /// The walking direction and distance (`东北方向 · 320 米`, `320 m northeast`).
    pub fn walk(&self, lang: Lang, direction: Compass8, metres: f64) -> String {
        self.walk
            .replace("{dir}", compass(lang, direction))
            .replace("{distance}", &self.distance(metres))
    }
}

/// A compass point in the language (北 …, north …).
pub fn compass(lang: Lang, c: Compass8) -> &'static str {
    match lang {
        Lang::Zh => c.name_zh(),
        Lang::En => c.as_str(),
    }
}

impl Lang {
    /// The public-service pages' strings.
    pub fn public(self) -> &'static PublicTr {
        match self {
            Lang::Zh => &PUBLIC_ZH,
            Lang::En => &PUBLIC_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_directions_in_both_languages() {
        assert_eq!(PUBLIC_ZH.distance(320.4), "320 米");
        assert_eq!(PUBLIC_ZH.distance(1_260.0), "1.3 公里");
        assert_eq!(PUBLIC_EN.distance(999.4), "999 m");
        assert_eq!(PUBLIC_EN.distance(1_000.0), "1.0 km");
        assert_eq!(
            PUBLIC_ZH.walk(Lang::Zh, Compass8::Northeast, 320.0),
            "东北方向 · 320 米"
        );
        assert_eq!(
            PUBLIC_EN.walk(Lang::En, Compass8::Southwest, 1_500.0),
            "1.5 km southwest"
        );
        for t in PoiType::ALL {
            assert_eq!(PUBLIC_ZH.tab(*t), t.name_zh());
            assert!(!PUBLIC_EN.tab(*t).is_empty());
        }
    }
}
