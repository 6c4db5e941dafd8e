//! Static assets embedded in the binary (`include_bytes!`) and served under `/assets/…`.
//!
//! Pages link `/assets/<path>?v=<hash>`: a request carrying the current hash may be cached for a
//! year (`immutable`); any other request is cached for an hour and revalidated with the `ETag`.
use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path below `/assets/`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ct:literal) => {
        Asset {
            path: $path,
            content_type: $ct,
            bytes: include_bytes!(concat!("../assets/", $path)),
        }
    };
}

/// Every embedded file. Leaflet 1.9.4 (BSD-2-Clause, see `vendor/leaflet/LICENSE`); htmx 2.0.11
/// (BSD Zero-Clause, `vendor/htmx/LICENSE`).
pub static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("map.js", "text/javascript; charset=utf-8"),
    asset!("cases.css", "text/css; charset=utf-8"),
    asset!("cases.js", "text/javascript; charset=utf-8"),
    asset!("evaluation.css", "text/css; charset=utf-8"),
    asset!("evaluation.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    // 一码管全域: the object pages, their label sheets, the phone's 码上办 scan page.
    asset!("objects.css", "text/css; charset=utf-8"),
    asset!("objects.js", "text/javascript; charset=utf-8"),
    asset!("phone_objects.js", "text/javascript; charset=utf-8"),
    asset!("phone_objects.css", "text/css; charset=utf-8"),
    // 运行监测: the device map, the alarm wall, the device page's charts, the rule editor.
    asset!("monitoring.css", "text/css; charset=utf-8"),
    asset!("monitoring_map.js", "text/javascript; charset=utf-8"),
    asset!("monitoring_wall.js", "text/javascript; charset=utf-8"),
    asset!("monitoring_device.js", "text/javascript; charset=utf-8"),
    asset!("monitoring_rules.js", "text/javascript; charset=utf-8"),
    asset!("vendor/htmx/htmx.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/htmx/LICENSE", "text/plain; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("phone.css", "text/css; charset=utf-8"),
    asset!("phone.js", "text/javascript; charset=utf-8"),
    asset!("phone-sw.js", "text/javascript; charset=utf-8"),
    // 附近公厕/公园 (/m/places).
    asset!("phone_places.js", "text/javascript; charset=utf-8"),
    // The big screen and the map's case layer; ECharts 5.6.0 (Apache-2.0, see
    // `vendor/echarts/LICENSE`, `NOTICE`, `LICENSE-d3`), Leaflet.heat 1.0.0 with simpleheat
    // (BSD-2-Clause, see `vendor/leaflet.heat/LICENSE`).
    asset!("screen.css", "text/css; charset=utf-8"),
    asset!("screen.js", "text/javascript; charset=utf-8"),
    asset!("screen_map.js", "text/javascript; charset=utf-8"),
    asset!(
        "vendor/echarts/echarts.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/echarts/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/echarts/NOTICE", "text/plain; charset=utf-8"),
    asset!("vendor/echarts/LICENSE-d3", "text/plain; charset=utf-8"),
    asset!(
        "vendor/leaflet.heat/leaflet-heat.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/leaflet.heat/LICENSE", "text/plain; charset=utf-8"),
    asset!(
        "vendor/leaflet/leaflet.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
    asset!("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/leaflet/images/layers.png", "image/png"),
    asset!("vendor/leaflet/images/layers-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-shadow.png", "image/png"),
];

/// The content hashes (first 12 hex digits of SHA-256), in the order of [`ASSETS`].
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| hex::encode(Sha256::digest(a.bytes))[..12].to_string())
        .collect()
});

fn find(path: &str) -> Option<(usize, &'static Asset)> {
    ASSETS.iter().enumerate().find(|(_, a)| a.path == path)
}

/// The versioned URL of an asset, e.g. `/assets/app.css?v=0123456789ab`.
pub fn url(path: &str) -> String {
    match find(path) {
        Some((i, _)) => format!("/assets/{path}?v={}", HASHES[i]),
        None => {
            tracing::error!(path, "link to a missing asset");
            format!("/assets/{path}")
        }
    }
}

/// `GET /assets/{*path}`.
pub(crate) async fn handler(
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((i, asset)) = find(&path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response();
    };
    let hash = &HASHES[i];
    let etag = format!("\"{hash}\"");
    let versioned = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.strip_prefix("v=") == Some(hash.as_str()))
    });
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (StatusCode::OK, h, asset.bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_versioned() {
        for a in ASSETS {
            assert!(!a.bytes.is_empty(), "{}", a.path);
            assert!(url(a.path).starts_with(&format!("/assets/{}?v=", a.path)));
        }
        assert!(
            find("vendor/leaflet/leaflet.js")
                .unwrap()
                .1
                .bytes
                .starts_with(b"/* @preserve\n * Leaflet 1.9.4")
        );
    }
}
