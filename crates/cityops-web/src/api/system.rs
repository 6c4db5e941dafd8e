//! Health check and the server-rendered landing page.
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::{PageRequest, RegionLevel};
use cityops_store::RegionQuery;

use crate::state::AppState;
use crate::views::HealthView;

/// 健康检查: pings the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses(
        (status = 200, description = "Up", body = HealthView),
        (status = 503, description = "The database does not answer", body = HealthView),
    )
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let ping = state.store.ping().await;
    if let Err(e) = &ping {
        tracing::error!(error = %e, "health check: database unreachable");
    }
    let ok = ping.is_ok();
    let body = HealthView {
        status: if ok { "ok" } else { "unavailable" }.to_string(),
        backend: state.store.backend().to_string(),
        database: if ok { "ok" } else { "unreachable" }.to_string(),
        grids_indexed: state.index.grid_count(),
        time: state.clock.now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Content-Security-Policy of the landing page: no scripts, no external anything.
pub(crate) const LANDING_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE: &str = r#"
body{margin:0;font:14px/1.6 "PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",system-ui,sans-serif;color:#1f2937;background:#f3f4f6}
header{background:#fff;border-bottom:1px solid #e5e7eb;padding:16px 32px}
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#6b7280}
main{max-width:960px;margin:24px auto;padding:0 16px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:4px;padding:16px 24px;margin-bottom:16px}
h2{font-size:16px;margin:0 0 12px}
.counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
.count{border:1px solid #e5e7eb;border-radius:4px;padding:8px 12px}
.count b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.count span{color:#6b7280}
a{color:#1d4ed8}ul{margin:0;padding-left:20px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #e5e7eb;padding:4px 12px 4px 0;text-align:left}
code{background:#f3f4f6;padding:0 4px;border-radius:2px}
footer{color:#6b7280;text-align:center;margin:24px 0}
"#;

/// 首页: platform name, city, counts, links to the API documentation.
#[utoipa::path(
    get,
    path = "/",
    tag = "system",
    responses((status = 200, description = "Landing page (zh-CN HTML)", content_type = "text/html", body = String))
)]
pub(crate) async fn landing(State(state): State<AppState>) -> Response {
    let city = state
        .store
        .list_regions(
            &RegionQuery {
                level: Some(RegionLevel::City),
                ..RegionQuery::default()
            },
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .await
        .ok()
        .and_then(|p| p.items.into_iter().next());
    let stats = state.cached_stats().await.ok();
    let platform = escape_html(&state.config.platform_name);
    let city_name = city
        .as_ref()
        .map_or_else(|| "尚未导入城市".to_string(), |c| escape_html(&c.name));
    let city_code = city
        .as_ref()
        .map(|c| escape_html(&c.code))
        .unwrap_or_default();

    let mut html = String::with_capacity(4096);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{city_name} · {platform} · CityOps</title><style>{STYLE}</style></head><body>\
         <header><h1>{city_name} {platform}</h1><p>CityOps · 行政区划代码 {city_code}</p></header><main>"
    );
    html.push_str("<section><h2>基础数据</h2><div class=\"counts\">");
    let counts: [(&str, Option<u64>); 6] = [
        ("区域", stats.map(|s| s.regions)),
        ("单元网格", stats.map(|s| s.grids)),
        ("部件", stats.map(|s| s.components)),
        ("部件/事项分类", stats.map(|s| s.categories)),
        ("部门", stats.map(|s| s.departments)),
        ("用户", stats.map(|s| s.users)),
    ];
    for (label, n) in counts {
        let n = n.map_or_else(|| "—".to_string(), |n| n.to_string());
        let _ = write!(
            html,
            "<div class=\"count\"><b>{n}</b><span>{label}</span></div>"
        );
    }
    let _ = write!(
        html,
        "</div><p>定位索引：{} 个单元网格。</p></section>",
        state.index.grid_count()
    );

    html.push_str(
        "<section><h2>接口</h2><ul>\
         <li><a href=\"/api/docs/\">接口文档（Swagger UI）</a></li>\
         <li><a href=\"/api/openapi.json\">OpenAPI 3.1 描述</a></li>\
         <li><a href=\"/healthz\">健康检查</a> · <a href=\"/metrics\">运行指标（Prometheus）</a></li>\
         <li>定位示例：<code>GET /api/v1/locate?lng=…&amp;lat=…&amp;crs=gcj02</code></li>\
         </ul></section>",
    );

    if state.demo_mode {
        html.push_str("<section><h2>演示账号</h2><p>演示模式：以下账号的密码均为 <code>cityops-demo</code>，仅用于演示。</p>");
        match state
            .store
            .list_users(
                None,
                None,
                PageRequest {
                    page: 1,
                    page_size: 100,
                },
            )
            .await
        {
            Ok(users) if !users.items.is_empty() => {
                html.push_str("<table><thead><tr><th>用户名</th><th>姓名</th><th>角色</th></tr></thead><tbody>");
                for u in &users.items {
                    let roles: Vec<&str> = u.roles.iter().map(|r| r.name_zh()).collect();
                    let _ = write!(
                        html,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        escape_html(&u.username),
                        escape_html(&u.display_name),
                        escape_html(&roles.join("、"))
                    );
                }
                html.push_str("</tbody></table>");
                if users.total > users.items.len() as u64 {
                    let _ = write!(
                        html,
                        "<p>另有 {} 个账号未列出。</p>",
                        users.total - users.items.len() as u64
                    );
                }
            }
            _ => html.push_str("<p>尚无账号。</p>"),
        }
        html.push_str("</section>");
    }
    let _ = write!(
        html,
        "</main><footer>CityOps {} · 开源城市运行管理服务平台</footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );

    let mut resp = html.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LANDING_CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("惠州市"), "惠州市");
    }
}
