//! The console over a real demo city (Huizhou: 5 districts, 84 streets, 1,364 communities, ~23,500
//! unit grids; fewer components than the full demo to keep the test quick).
mod common;

use std::time::Instant;

use axum::http::StatusCode;
use cityops_domain::{PageRequest, RegionLevel};
use cityops_seed::DemoCity;
use cityops_seed::demo::{DemoOptions, build_demo};
use cityops_store::RegionQuery;
use common::*;

fn codes_and_boxes(v: &serde_json::Value) -> Vec<(String, [f64; 4])> {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let b: Vec<f64> = f["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                [b[0], b[1], b[2], b[3]],
            )
        })
        .collect()
}

fn coordinates(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) if a.first().is_some_and(|x| x.is_number()) => 1,
        serde_json::Value::Array(a) => a.iter().map(coordinates).sum(),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_city_in_the_console() {
    let started = Instant::now();
    let opts = DemoOptions {
        components: 3_000,
        ..DemoOptions::for_city(DemoCity::Huizhou)
    };
    let batch = tokio::task::spawn_blocking(move || {
        build_demo(
            &opts,
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        )
    })
    .await
    .unwrap()
    .expect("demo city");
    let (state, clock) = state_with(&batch, true).await;
    let t = TestApp {
        app: cityops_ui::router(state.clone()),
        state,
        clock,
    };
    eprintln!(
        "demo city loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let c = t.session("admin").await;

    // The overview counts match the store.
    let count = |level| {
        let store = t.state.store.clone();
        async move {
            store
                .list_regions(
                    &RegionQuery {
                        level: Some(level),
                        ..RegionQuery::default()
                    },
                    PageRequest {
                        page: 1,
                        page_size: 1,
                    },
                )
                .await
                .unwrap()
                .total
        }
    };
    let (districts, streets, communities, grids) = (
        count(RegionLevel::District).await,
        count(RegionLevel::Street).await,
        count(RegionLevel::Community).await,
        count(RegionLevel::Grid).await,
    );
    assert!(grids >= 20_000, "{grids} grids");
    let a = t.get_with("/", &c).await;
    a.assert_page(&["惠城区", "惠阳区", "博罗县", "惠东县", "龙门县", "3,000"]);
    let body = a.text();
    for (label, n) in [
        ("区县", districts),
        ("街道（乡镇）", streets),
        ("社区（村）", communities),
        ("单元网格", grids),
    ] {
        let needle = format!(
            "<span class=\"kpi-label\">{label}</span><span class=\"kpi-value\">{}</span>",
            n.to_string()
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(body.contains(&needle), "{needle}");
    }

    // Every page renders.
    for page in [
        "/map",
        "/regions",
        "/regions/441302",
        "/regions/441302001",
        "/components",
        "/catalogue",
        "/catalogue/component/01001",
        "/catalogue?kind=matter",
        "/org",
        "/org/users",
    ] {
        let a = t.get_with(page, &c).await;
        assert_eq!(a.status, StatusCode::OK, "{page}");
    }
    let a = t.get_with("/regions?q=%E6%A1%A5%E4%B8%9C", &c).await;
    a.assert_page(&["桥东街道"]);

    // The grid layer: the whole city is more than one answer holds.
    let started = Instant::now();
    let v = t.get_with("/ui/layers/grid.geojson", &c).await.json();
    eprintln!(
        "grid layer built and served in {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(v["truncated"], true);
    assert_eq!(v["matched"].as_u64(), Some(grids));
    assert_eq!(
        v["returned"].as_u64(),
        Some(cityops_ui::layers::max_features(RegionLevel::Grid) as u64)
    );
    // A view of the core at zoom 16: every grid returned touches the box, and none is missing.
    let bbox = [114.410, 23.105, 114.425, 23.115];
    let started = Instant::now();
    let v = t
        .get_with(
            &format!(
                "/ui/layers/grid.geojson?bbox={},{},{},{}",
                bbox[0], bbox[1], bbox[2], bbox[3]
            ),
            &c,
        )
        .await
        .json();
    eprintln!(
        "a zoom-16 view of grids served in {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(v["truncated"], false);
    let got = codes_and_boxes(&v);
    assert!(got.len() > 100, "{} grids in the view", got.len());
    for (code, b) in &got {
        assert!(
            b[0] <= bbox[2] && b[2] >= bbox[0] && b[1] <= bbox[3] && b[3] >= bbox[1],
            "{code} {b:?} is outside the view"
        );
    }
    let all_in_view = t
        .state
        .store
        .regions_with_geometry(RegionLevel::Grid)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.bbox.is_some_and(|b| {
                b[0] <= bbox[2] && b[2] >= bbox[0] && b[1] <= bbox[3] && b[3] >= bbox[1]
            })
        })
        .count();
    assert_eq!(got.len(), all_in_view);

    // District polygons are simplified for the map.
    let v = t.get_with("/ui/layers/district.geojson", &c).await.json();
    assert_eq!(v["features"].as_array().unwrap().len() as u64, districts);
    let stored: usize = t
        .state
        .store
        .regions_with_geometry(RegionLevel::District)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            coordinates(
                &serde_json::from_str::<serde_json::Value>(r.geometry.as_deref().unwrap()).unwrap()
                    ["coordinates"],
            )
        })
        .sum();
    let sent: usize = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| coordinates(&f["geometry"]["coordinates"]))
        .sum();
    assert!(
        sent * 10 < stored * 8,
        "simplified: {sent} of {stored} coordinates"
    );

    // Streets and communities by parent, as the region pages ask.
    let huicheng_streets = t
        .state
        .store
        .list_regions(
            &RegionQuery {
                parent_code: Some("441302".into()),
                ..RegionQuery::default()
            },
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .unwrap()
        .total;
    let v = t
        .get_with("/ui/layers/street.geojson?parent=441302", &c)
        .await
        .json();
    assert_eq!(
        v["features"].as_array().unwrap().len() as u64,
        huicheng_streets
    );
    let v = t
        .get_with("/ui/layers/community.geojson?parent=441302001", &c)
        .await
        .json();
    assert!(!v["features"].as_array().unwrap().is_empty());
}
