//! 码上办 QR labels (二维码标牌) of management objects (一码管全域): one printable label per
//! object and A4 sheets of them, as SVG.
//!
//! A label (64 × 90 mm) carries the 码上办 heading, the city's platform name, the QR code of the
//! object's public scan page (`{origin}/m/o/{code}`, what anyone who scans sees), the code in its
//! printed groups (`441302-01-0000123-4`), the object's name and its kind. The QR code is encoded
//! by the `qrcode` crate (error correction level M, so a label that is a little dirty or scratched
//! still scans) and drawn here as one path of dark runs with its four-module quiet zone. The code
//! is drawn with a small stroke font of our own (digits and `-` as paths), so the one line people
//! type when a label does not scan prints the same everywhere, whatever fonts the printer has; the
//! Chinese texts name the CJK fonts the console uses, with `sans-serif` as the last resort.
//!
//! A sheet is an A4 page (210 × 297 mm) of 3 × 3 labels with 9 mm and 13.5 mm margins; the
//! console's print page lays out as many sheets as it needs with the same labels.
//!
//! Pure: text in, SVG out; the handlers are in `api::object_labels`.
use std::fmt::Write as _;

use axum::http::HeaderMap;
use axum::http::header;
use cityops_domain::objects::{ObjectCode, ObjectKind};
use qrcode::{Color, EcLevel, QrCode};

use crate::state::{AppState, WebConfig};

/// Label width and height (mm).
pub const LABEL_W: f64 = 64.0;
pub const LABEL_H: f64 = 90.0;
/// A4 portrait (mm).
pub const SHEET_W: f64 = 210.0;
pub const SHEET_H: f64 = 297.0;
/// Labels per sheet row and column.
pub const SHEET_COLS: usize = 3;
pub const SHEET_ROWS: usize = 3;
/// Labels per A4 sheet.
pub const PER_SHEET: usize = SHEET_COLS * SHEET_ROWS;

/// The fonts of the Chinese texts (the console's), quoted for an SVG attribute.
const FONTS: &str =
    "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif";
const PRIMARY: &str = "#1d4ed8";

/// What one label shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelData {
    pub code: ObjectCode,
    pub kind: ObjectKind,
    pub name: String,
    /// The platform's name as printed, e.g. `惠州市城市运行管理服务平台`.
    pub platform: String,
    /// What the QR code encodes: the object's public scan page.
    pub url: String,
}

/// Why a label cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The URL does not fit a QR code (far beyond any real origin's length).
    #[error("the scan URL cannot be encoded as a QR code: {0}")]
    Qr(String),
}

/// The public scan page of an object: `{origin}/m/o/{code}`.
pub fn scan_url(origin: &str, code: &ObjectCode) -> String {
    format!("{}/m/o/{code}", origin.trim().trim_end_matches('/'))
}

/// The origin printed labels point at: the configured `public_origin`, else the request's
/// `Host` (`https` when `secure_cookies` says the site is served over TLS).
pub fn public_origin(config: &WebConfig, headers: &HeaderMap) -> String {
    if let Some(o) = config
        .public_origin
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        return o.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    let scheme = if config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The printed platform name: the city's name before the platform's (`惠州市` +
/// `城市运行管理服务平台`), unless the platform's name already begins with it.
pub fn platform_name(city: Option<&str>, platform: &str) -> String {
    match city.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if !platform.starts_with(c) => format!("{c}{platform}"),
        _ => platform.to_string(),
    }
}

/// The label of `object` as `state` prints it: the scan URL on the public origin (see
/// [`public_origin`]), the city's name (from the region names the state loaded) before the
/// configured platform name.
pub fn label_data(
    state: &AppState,
    headers: &HeaderMap,
    object: &cityops_domain::objects::ManagedObject,
) -> LabelData {
    let city_code = format!("{}00", &object.code.division()[..4]);
    LabelData {
        url: scan_url(&public_origin(&state.config, headers), &object.code),
        code: object.code.clone(),
        kind: object.kind,
        name: object.name.clone(),
        platform: platform_name(state.region_name(&city_code), &state.config.platform_name),
    }
}

/// Escapes text for SVG content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Rough width of a text in ems: CJK and other wide characters 1, the rest 0.56.
fn ems(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2e80 { 1.0 } else { 0.56 })
        .sum()
}

/// `s` cut to at most `max_em` ems, with `…` when cut.
fn fit(s: &str, max_em: f64) -> String {
    if ems(s) <= max_em {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0.0;
    for c in s.chars() {
        let cw = if (c as u32) >= 0x2e80 { 1.0 } else { 0.56 };
        if w + cw > max_em - 1.0 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// The QR code's modules: `(width, dark?)` row by row.
pub fn qr_modules(url: &str) -> Result<(usize, Vec<bool>), LabelError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| LabelError::Qr(e.to_string()))?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((width, dark))
}

/// The dark modules as one path in module units (origin at the first module, quiet zone not
/// included): a rectangle per run of dark modules in a row, `M{x} {y}h{n}v1h-{n}z`.
pub fn qr_path(width: usize, dark: &[bool]) -> String {
    let mut d = String::new();
    for y in 0..width {
        let row = &dark[y * width..(y + 1) * width];
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && row[x] {
                x += 1;
            }
            let n = x - start;
            let _ = write!(d, "M{start} {y}h{n}v1h-{n}z");
        }
    }
    d
}

/// The stroke font of the printed code: each glyph on a 6 × 10 cell (y down), drawn with round
/// strokes 1.1 units wide.
fn glyph(c: char) -> Option<(&'static str, f64)> {
    Some(match c {
        '0' => ("M0.5 3A2.5 2.5 0 0 1 5.5 3V7A2.5 2.5 0 0 1 0.5 7Z", 7.2),
        '1' => ("M1.6 2.4L3.6 0.5V9.5", 7.2),
        '2' => (
            "M0.7 2.8A2.4 2.4 0 0 1 5.3 2.6C5.3 4.8 0.6 7 0.6 9.5H5.5",
            7.2,
        ),
        '3' => ("M0.8 2A2.3 2.1 0 1 1 2.8 5A2.4 2.3 0 1 1 0.6 8.3", 7.2),
        '4' => ("M4 9.5V0.5L0.5 6.8H5.6", 7.2),
        '5' => ("M5.1 0.5H1.2L0.8 4.6A2.8 2.6 0 1 1 0.6 8.5", 7.2),
        '6' => (
            "M4.6 0.6C2 1.5 0.5 4 0.5 6.8A2.5 2.7 0 1 0 5.5 6.8A2.5 2.7 0 1 0 0.5 6.8",
            7.2,
        ),
        '7' => ("M0.5 0.5H5.5L2.2 9.5", 7.2),
        '8' => (
            "M3 5.1A2.2 2.3 0 1 1 3 0.5A2.2 2.3 0 1 1 3 5.1ZM3 5.1A2.5 2.2 0 1 0 3 9.5A2.5 2.2 0 1 0 3 5.1Z",
            7.2,
        ),
        '9' => (
            "M5.5 3.2A2.5 2.7 0 1 0 0.5 3.2A2.5 2.7 0 1 0 5.5 3.2C5.5 6 4 8.5 1.4 9.4",
            7.2,
        ),
        '-' => ("M1 5H4.5", 5.5),
        _ => return None,
    })
}

/// The width of `text` in the stroke font's units.
fn stroke_width_units(text: &str) -> f64 {
    text.chars().filter_map(glyph).map(|(_, a)| a).sum::<f64>() - 1.2
}

/// `text` (digits and `-`) in the stroke font, centred on `cx`, top at `top`, `height` mm tall.
fn stroke_text(text: &str, cx: f64, top: f64, height: f64) -> String {
    let scale = height / 10.0;
    let width = stroke_width_units(text) * scale;
    let mut x = cx - width / 2.0;
    let mut out = String::from(
        r##"<g class="code" fill="none" stroke="#111827" stroke-width="1.1" stroke-linecap="round" stroke-linejoin="round">"##,
    );
    for c in text.chars() {
        let Some((d, advance)) = glyph(c) else {
            continue;
        };
        let _ = write!(
            out,
            r#"<path transform="translate({x:.3} {top:.3}) scale({scale:.4})" d="{d}"/>"#
        );
        x += advance * scale;
    }
    out.push_str("</g>");
    out
}

/// The label's drawing in millimetres, its top-left corner at `(x, y)` (no `<svg>` element).
pub fn label_group(label: &LabelData, x: f64, y: f64) -> Result<String, LabelError> {
    let (width, dark) = qr_modules(&label.url)?;
    // The QR code with its quiet zone (4 modules each side) in a 46 mm square.
    let qr_size = 46.0;
    let modules = (width + 8) as f64;
    let m = qr_size / modules;
    let (qx, qy) = ((LABEL_W - qr_size) / 2.0, 19.5);
    let cx = LABEL_W / 2.0;
    let name = esc(&fit(label.name.trim(), 13.0));
    let kind = esc(label.kind.name_zh());
    let platform = esc(&fit(&label.platform, 22.0));
    let grouped = label.code.grouped();
    let mut s = String::with_capacity(8192);
    let _ = write!(
        s,
        r#"<g class="label" transform="translate({x:.3} {y:.3})" data-code="{code}">"#,
        code = label.code
    );
    // Card and heading band.
    let _ = write!(
        s,
        r##"<rect x="0.25" y="0.25" width="{w}" height="{h}" rx="3" fill="#fff" stroke="#94a3b8" stroke-width="0.5"/>"##,
        w = LABEL_W - 0.5,
        h = LABEL_H - 0.5
    );
    let _ = write!(
        s,
        r#"<path d="M0.25 3.25A3 3 0 0 1 3.25 0.25H{r}A3 3 0 0 1 {e} 3.25V13H0.25Z" fill="{PRIMARY}"/>"#,
        r = LABEL_W - 3.25,
        e = LABEL_W - 0.25
    );
    let _ = write!(
        s,
        r##"<text x="4.5" y="9.6" font-family="{FONTS}" font-size="7" font-weight="700" fill="#fff">码上办</text>"##
    );
    let _ = write!(
        s,
        r##"<text x="{r}" y="6.4" font-family="{FONTS}" font-size="3" fill="#dbeafe" text-anchor="end">一码管全域</text><text x="{r}" y="10.6" font-family="{FONTS}" font-size="2.6" fill="#dbeafe" text-anchor="end">扫码查看·责任人自查</text>"##,
        r = LABEL_W - 4.5
    );
    let _ = write!(
        s,
        r##"<text x="{cx}" y="17.3" font-family="{FONTS}" font-size="2.8" fill="#475569" text-anchor="middle">{platform}</text>"##
    );
    // The QR code.
    let _ = write!(
        s,
        r##"<rect x="{qx:.3}" y="{qy:.3}" width="{qr_size}" height="{qr_size}" fill="#fff"/><path class="qr" transform="translate({tx:.4} {ty:.4}) scale({m:.5})" fill="#000" shape-rendering="crispEdges" d="{d}"/>"##,
        tx = qx + 4.0 * m,
        ty = qy + 4.0 * m,
        d = qr_path(width, &dark)
    );
    // The code in the stroke font, the name and the kind.
    s.push_str(&stroke_text(&grouped, cx, 67.4, 4.2));
    let _ = write!(
        s,
        r##"<text x="{cx}" y="79" font-family="{FONTS}" font-size="4.2" font-weight="700" fill="#111827" text-anchor="middle">{name}</text>"##
    );
    let _ = write!(
        s,
        r##"<text x="{cx}" y="85" font-family="{FONTS}" font-size="3" fill="#475569" text-anchor="middle">{kind} · 门前三包责任区</text>"##
    );
    s.push_str("</g>");
    Ok(s)
}

/// One label as a standalone SVG document (64 × 90 mm).
pub fn label_svg(label: &LabelData) -> Result<String, LabelError> {
    let g = label_group(label, 0.0, 0.0)?;
    Ok(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W}mm" height="{LABEL_H}mm" viewBox="0 0 {LABEL_W} {LABEL_H}" role="img" aria-label="{title}"><title>{title}</title>{g}</svg>"#,
        title = esc(&format!(
            "码上办 {} {}",
            label.code.grouped(),
            label.name.trim()
        ))
    ))
}

/// One A4 sheet (210 × 297 mm) with up to [`PER_SHEET`] labels, row by row.
pub fn sheet_svg(labels: &[LabelData]) -> Result<String, LabelError> {
    let left = (SHEET_W - LABEL_W * SHEET_COLS as f64) / 2.0;
    let top = (SHEET_H - LABEL_H * SHEET_ROWS as f64) / 2.0;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{SHEET_W}mm" height="{SHEET_H}mm" viewBox="0 0 {SHEET_W} {SHEET_H}" role="img" aria-label="码上办二维码标牌"><title>码上办二维码标牌</title><rect width="{SHEET_W}" height="{SHEET_H}" fill="#fff"/>"##
    );
    for (i, label) in labels.iter().take(PER_SHEET).enumerate() {
        let (col, row) = (i % SHEET_COLS, i / SHEET_COLS);
        s.push_str(&label_group(
            label,
            left + col as f64 * LABEL_W,
            top + row as f64 * LABEL_H,
        )?);
    }
    s.push_str("</svg>");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn label(name: &str) -> LabelData {
        let code = ObjectCode::new("441302", ObjectKind::Restaurant, 123).expect("code");
        LabelData {
            url: scan_url("https://city.example/", &code),
            code,
            kind: ObjectKind::Restaurant,
            name: name.into(),
            platform: platform_name(Some("惠州市"), "城市运行管理服务平台"),
        }
    }

    /// The dark modules back from a label's QR path (`M{x} {y}h{n}v1h-{n}z` runs).
    fn modules_of(svg: &str) -> Vec<(usize, usize)> {
        let at = svg.find(r#"class="qr""#).expect("the QR path");
        let rest = &svg[at..];
        let d = &rest[rest.find(" d=\"").expect("d") + 4..];
        let d = &d[..d.find('"').expect("end")];
        let mut out = Vec::new();
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (xy, tail) = run.split_once('h').expect("h");
            let (x, y) = xy.split_once(' ').expect("x y");
            let n = tail.split_once('v').expect("v").0;
            let (x, y, n): (usize, usize, usize) =
                (x.parse().unwrap(), y.parse().unwrap(), n.parse().unwrap());
            out.extend((x..x + n).map(|x| (x, y)));
        }
        out
    }

    /// Decodes the QR code drawn in `svg` (rasterised at 6 px a module with the quiet zone).
    fn decode(svg: &str) -> String {
        let modules: std::collections::HashSet<(usize, usize)> =
            modules_of(svg).into_iter().collect();
        let width = modules.iter().map(|(x, y)| x.max(y)).max().unwrap() + 1;
        let (px, quiet) = (6usize, 4usize);
        let side = (width + 2 * quiet) * px;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = (x / px, y / px);
            let dark = mx >= quiet && my >= quiet && modules.contains(&(mx - quiet, my - quiet));
            if dark { 0 } else { 255 }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn a_label_holds_a_scannable_qr_code_and_the_printed_texts() {
        let l = label("老街肠粉店");
        let svg = label_svg(&l).expect("label");
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" width="64mm""#));
        assert_eq!(decode(&svg), format!("https://city.example/m/o/{}", l.code));
        for needle in [
            "码上办",
            "一码管全域",
            "惠州市城市运行管理服务平台",
            "老街肠粉店",
            "沿街餐饮",
            &format!(r#"data-code="{}""#, l.code),
            &format!("码上办 {}", l.code.grouped()),
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
        // The code is drawn as paths: one per character of its groups.
        let code_group = &svg[svg.find(r#"class="code""#).unwrap()..];
        let code_group = &code_group[..code_group.find("</g>").unwrap()];
        assert_eq!(code_group.matches("<path").count(), l.code.grouped().len());
        // Nothing but the drawing: no script, no external reference.
        assert!(!svg.contains("<script") && !svg.contains("href"));
    }

    #[test]
    fn texts_are_escaped_and_long_names_cut() {
        let svg =
            label_svg(&label("<b>\"A&B\"</b> 老字号潮汕牛肉火锅城（江北旗舰店）")).expect("label");
        assert!(svg.contains("&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains('…'), "the long name is cut");
        assert_eq!(fit("短名", 13.0), "短名");
        assert!(ems(&fit(&"长".repeat(40), 13.0)) <= 13.0);
    }

    #[test]
    fn a_sheet_holds_nine_labels_on_a4() {
        let labels: Vec<LabelData> = (1..=12)
            .map(|i| {
                let code = ObjectCode::new("441302", ObjectKind::StreetShop, i).expect("code");
                LabelData {
                    url: scan_url("http://127.0.0.1:8080", &code),
                    code,
                    kind: ObjectKind::StreetShop,
                    name: format!("商铺{i}"),
                    platform: "城市运行管理服务平台".into(),
                }
            })
            .collect();
        let svg = sheet_svg(&labels).expect("sheet");
        assert!(svg.contains(r#"width="210mm" height="297mm""#));
        assert_eq!(svg.matches(r#"class="label""#).count(), PER_SHEET);
        assert!(svg.contains("商铺9") && !svg.contains("商铺10"));
        // The last label ends inside the page.
        assert!(
            svg.contains(r#"transform="translate(137.000 193.500)""#),
            "{svg:.300}"
        );
    }

    #[test]
    fn origins_and_names() {
        let mut config = WebConfig::default();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "city.example:8080".parse().unwrap());
        assert_eq!(public_origin(&config, &h), "http://city.example:8080");
        h.insert(header::HOST, "evil\"<x>".parse().unwrap());
        assert_eq!(public_origin(&config, &h), "http://localhost");
        config.public_origin = Some("https://yunguan.huizhou.example/".into());
        assert_eq!(
            public_origin(&config, &h),
            "https://yunguan.huizhou.example"
        );
        assert_eq!(
            platform_name(Some("惠州市"), "城市运行管理服务平台"),
            "惠州市城市运行管理服务平台"
        );
        assert_eq!(
            platform_name(Some("惠州市"), "惠州市城市运行管理服务平台"),
            "惠州市城市运行管理服务平台"
        );
        assert_eq!(platform_name(None, "平台"), "平台");
        let code = ObjectCode::new("441302", ObjectKind::School, 7).expect("code");
        assert_eq!(
            scan_url("https://a.example/", &code),
            format!("https://a.example/m/o/{code}")
        );
    }
}
