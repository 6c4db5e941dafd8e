//! The stories of the public-service points of interest (公共服务设施: 公厕、公园、摊规点、无车区,
//! issue 13): an import adds or replaces by type and name, all or nothing; lists page by id; the
//! nearby search answers the nearest first within 20 km — equal, on both stores, to a brute-force
//! scan of every POI, at every density (the boxes widen until enough POIs lie within the radius).
use cityops_domain::poi::{NEARBY_MAX_RADIUS_M, Poi, PoiType, distance_m};
use cityops_store::{PageRequest, Store, StoreError};

const ALL: PageRequest = PageRequest {
    page: 1,
    page_size: 1000,
};

/// 惠州 西湖 (WGS84): where the searches stand.
const HERE: (f64, f64) = (114.3925, 23.0820);

fn poi(t: PoiType, name: &str, lng: f64, lat: f64) -> Poi {
    Poi {
        address: Some(format!("{name} 地址")),
        opening_hours: Some("全天开放".into()),
        note: None,
        district_code: Some("441302".into()),
        street_code: Some("441302001".into()),
        community_code: Some("441302001001".into()),
        grid_code: Some("441302001001001".into()),
        ..Poi::new(t, name, lng, lat)
    }
}

/// `(lng, lat)` about `east` and `north` metres from `HERE`.
fn offset(east: f64, north: f64) -> (f64, f64) {
    let dlat = north / 111_195.0;
    let dlng = east / (111_195.0 * HERE.1.to_radians().cos());
    (HERE.0 + dlng, HERE.1 + dlat)
}

pub async fn pois_are_replaced_or_inserted_whole(store: &dyn Store) {
    assert_eq!(store.list_pois(None, ALL).await.unwrap().total, 0);
    let first = vec![
        poi(PoiType::Park, "西湖公园", 114.3925, 23.0820),
        poi(PoiType::Toilet, "西湖公园1号公厕", 114.3921, 23.0838),
        poi(PoiType::VendorZone, "江北夜市摊规点", 114.41, 23.11),
    ];
    assert_eq!(
        store.replace_or_insert_pois(&first).await.expect("import"),
        (3, 0)
    );
    let list = store.list_pois(None, ALL).await.unwrap();
    assert_eq!(list.total, 3);
    let names: Vec<&str> = list.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["西湖公园", "西湖公园1号公厕", "江北夜市摊规点"],
        "by id"
    );
    assert!(list.items.iter().all(|p| p.id > 0));
    let park_id = list.items[0].id;
    let mut kept = list.items[0].clone();
    kept.id = 0;
    assert_eq!(kept, first[0], "kept as given");

    let toilets = store.list_pois(Some(PoiType::Toilet), ALL).await.unwrap();
    assert_eq!(toilets.total, 1);
    assert_eq!(toilets.items[0].poi_type, PoiType::Toilet);
    let page2 = store
        .list_pois(
            None,
            PageRequest {
                page: 2,
                page_size: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((page2.total, page2.items.len()), (3, 1));
    assert_eq!(page2.items[0].name, "江北夜市摊规点");

    // The same name under another type is another POI; the same type and name replaces, keeping
    // the id.
    let mut moved = first[0].clone();
    moved.lng = 114.3930;
    moved.opening_hours = None;
    let second = vec![
        moved.clone(),
        poi(PoiType::Toilet, "西湖公园", 114.39, 23.08),
    ];
    assert_eq!(store.replace_or_insert_pois(&second).await.unwrap(), (1, 1));
    let list = store.list_pois(None, ALL).await.unwrap();
    assert_eq!(list.total, 4);
    let park = list
        .items
        .iter()
        .find(|p| p.poi_type == PoiType::Park)
        .unwrap();
    assert_eq!(park.id, park_id, "replaced in place");
    assert_eq!((park.lng, park.opening_hours.as_deref()), (114.3930, None));

    // All or nothing: a bad POI, or one given twice, and nothing of the batch is written.
    let good = poi(PoiType::CarFreeZone, "水东街", 114.4180, 23.0870);
    let mut blank = poi(PoiType::Park, "  ", 114.4, 23.1);
    blank.name = " ".into();
    let mut far = poi(PoiType::Park, "远方", 14.4, 23.1);
    far.lng = 14.4;
    let mut long = poi(PoiType::Park, "长", 114.4, 23.1);
    long.note = Some("注".repeat(501));
    for bad in [
        vec![good.clone(), blank],
        vec![good.clone(), far],
        vec![good.clone(), long],
        vec![good.clone(), good.clone()],
    ] {
        assert!(
            matches!(
                store.replace_or_insert_pois(&bad).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(store.list_pois(None, ALL).await.unwrap().total, 4);
    assert_eq!(store.replace_or_insert_pois(&[]).await.unwrap(), (0, 0));
}

pub async fn nearby_pois_are_the_nearest_within_the_radius(store: &dyn Store) {
    assert!(
        store
            .nearby_pois(None, HERE.0, HERE.1, 5)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
    let at = |t: PoiType, name: &str, east: f64, north: f64| {
        let (lng, lat) = offset(east, north);
        poi(t, name, lng, lat)
    };
    let pois = vec![
        at(PoiType::Toilet, "北 300", 0.0, 300.0),
        at(PoiType::Toilet, "东 120", 120.0, 0.0),
        at(PoiType::Toilet, "南 1500", 0.0, -1_500.0),
        at(PoiType::Toilet, "西 8000", -8_000.0, 0.0),
        at(PoiType::Toilet, "东北 19000", 13_435.0, 13_435.0),
        at(PoiType::Toilet, "北 25000", 0.0, 25_000.0),
        at(PoiType::Park, "公园 50", 50.0, 0.0),
        // Two at the same distance: the lower id first.
        at(PoiType::VendorZone, "摊规点 甲", 0.0, 700.0),
        at(PoiType::VendorZone, "摊规点 乙", 0.0, 700.0),
    ];
    store.replace_or_insert_pois(&pois).await.unwrap();
    let names = |got: &[cityops_store::NearbyPoi]| -> Vec<String> {
        got.iter().map(|p| p.poi.name.clone()).collect()
    };

    let two = store
        .nearby_pois(Some(PoiType::Toilet), HERE.0, HERE.1, 2)
        .await
        .unwrap();
    assert_eq!(names(&two), ["东 120", "北 300"]);
    assert!(
        (two[0].distance_m - 120.0).abs() < 1.0,
        "{}",
        two[0].distance_m
    );
    assert!((two[1].distance_m - 300.0).abs() < 1.0);

    // Widening to the last radius: everything within 20 km, nothing beyond.
    let all = store
        .nearby_pois(Some(PoiType::Toilet), HERE.0, HERE.1, 50)
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        ["东 120", "北 300", "南 1500", "西 8000", "东北 19000"]
    );
    assert!(all.iter().all(|p| p.distance_m <= NEARBY_MAX_RADIUS_M));
    assert!(all.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));

    // Any type; ties by id.
    let any = store.nearby_pois(None, HERE.0, HERE.1, 4).await.unwrap();
    assert_eq!(names(&any), ["公园 50", "东 120", "北 300", "摊规点 甲"]);
    let vendors = store
        .nearby_pois(Some(PoiType::VendorZone), HERE.0, HERE.1, 5)
        .await
        .unwrap();
    assert_eq!(names(&vendors), ["摊规点 甲", "摊规点 乙"]);
    assert!(
        store
            .nearby_pois(Some(PoiType::CarFreeZone), HERE.0, HERE.1, 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .nearby_pois(None, HERE.0, HERE.1, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Far from everything (more than 20 km): nothing.
    let (lng, lat) = offset(0.0, 60_000.0);
    assert!(
        store
            .nearby_pois(None, lng, lat, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A small deterministic generator (an LCG), so that both stores see the same POIs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub async fn nearby_pois_equal_a_full_scan(store: &dyn Store) {
    // A dense core and a sparse ring around it: 1,500 POIs of four types over ±30 km.
    let mut rng = Lcg(20_261_123);
    let mut pois = Vec::new();
    for i in 0..1_500 {
        let spread = if i % 3 == 0 { 30_000.0 } else { 3_000.0 };
        let (east, north) = (
            (rng.next() * 2.0 - 1.0) * spread,
            (rng.next() * 2.0 - 1.0) * spread,
        );
        let t = PoiType::ALL[i % PoiType::ALL.len()];
        let (lng, lat) = offset(east, north);
        pois.push(poi(t, &format!("点 {i}"), lng, lat));
    }
    store.replace_or_insert_pois(&pois).await.unwrap();
    let stored = store
        .list_pois(
            None,
            PageRequest {
                page: 1,
                page_size: 1000,
            },
        )
        .await
        .unwrap();
    let mut every = stored.items;
    every.extend(
        store
            .list_pois(
                None,
                PageRequest {
                    page: 2,
                    page_size: 1000,
                },
            )
            .await
            .unwrap()
            .items,
    );
    assert_eq!(every.len(), 1_500);

    let searches = [
        (0.0, 0.0),
        (2_500.0, -2_500.0),
        (12_000.0, 4_000.0),
        (-25_000.0, 25_000.0),
        (45_000.0, 0.0),
    ];
    for (east, north) in searches {
        let (lng, lat) = offset(east, north);
        for t in [None, Some(PoiType::Toilet), Some(PoiType::CarFreeZone)] {
            for limit in [1u32, 5, 50] {
                let got = store.nearby_pois(t, lng, lat, limit).await.unwrap();
                let mut want: Vec<(f64, i64)> = every
                    .iter()
                    .filter(|p| t.is_none_or(|t| p.poi_type == t))
                    .map(|p| (distance_m(lng, lat, p.lng, p.lat), p.id))
                    .filter(|(d, _)| *d <= NEARBY_MAX_RADIUS_M)
                    .collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                want.truncate(limit as usize);
                let got_ids: Vec<i64> = got.iter().map(|p| p.poi.id).collect();
                let want_ids: Vec<i64> = want.iter().map(|w| w.1).collect();
                assert_eq!(
                    got_ids, want_ids,
                    "at ({east}, {north}) m, type {t:?}, limit {limit}"
                );
                for (g, w) in got.iter().zip(&want) {
                    assert!((g.distance_m - w.0).abs() < 1e-6);
                }
            }
        }
    }
}
