//! Small helpers: URL building, number formatting, paging links, security headers.
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Content-Security-Policy of the console: everything from this origin, no inline scripts.
/// Inline styles are allowed because Leaflet positions its panes with `style` attributes.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// Security headers on every console response.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    resp
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters stay as they are).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?k=v&…` with the empty values left out.
pub(crate) fn url_with(path: &str, params: &[(&str, String)]) -> String {
    let q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// Only local absolute paths may be a redirect target after login (no `//host`, no scheme).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains(['\r', '\n']) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// 12345678 → "12,345,678".
pub(crate) fn fmt_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A trimmed, non-empty query value.
pub(crate) fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Paging of a table: the links keep the filters.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    pub first_row: u64,
    pub last_row: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The filters as hidden fields of the "go to page" form.
    pub hidden: Vec<(String, String)>,
    pub path: String,
}

impl Pager {
    pub fn new(
        path: &str,
        filters: &[(&str, String)],
        page: u32,
        page_size: u32,
        total: u64,
    ) -> Self {
        let pages = total.div_ceil(u64::from(page_size.max(1))).max(1) as u32;
        let link = |p: u32| {
            let mut params: Vec<(&str, String)> = filters.to_vec();
            if p > 1 {
                params.push(("page", p.to_string()));
            }
            url_with(path, &params)
        };
        let first_row = if total == 0 {
            0
        } else {
            u64::from(page - 1) * u64::from(page_size) + 1
        };
        let last_row = (u64::from(page) * u64::from(page_size)).min(total);
        Self {
            page,
            pages,
            total,
            first_row,
            last_row,
            prev: (page > 1).then(|| link(page.min(pages + 1) - 1)),
            next: (page < pages).then(|| link(page + 1)),
            hidden: filters
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            path: path.to_string(),
        }
    }

    pub fn total_fmt(&self) -> String {
        fmt_int(self.total)
    }
}

/// Page number and size from the query (`page` from 1, `page_size` 10–200, default 50).
pub(crate) fn page_request(
    page: Option<u32>,
    page_size: Option<u32>,
) -> cityops_domain::PageRequest {
    cityops_domain::PageRequest {
        page: page.unwrap_or(1).clamp(1, 1_000_000),
        page_size: page_size.unwrap_or(50).clamp(10, 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_encodes() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1000), "1,000");
        assert_eq!(fmt_int(60_000), "60,000");
        assert_eq!(fmt_int(1_234_567), "1,234,567");
        assert_eq!(encode("桥东 a&b=/"), "%E6%A1%A5%E4%B8%9C%20a%26b%3D%2F");
        assert_eq!(
            url_with("/x", &[("a", "1".into()), ("b", String::new())]),
            "/x?a=1"
        );
        assert_eq!(url_with("/x", &[]), "/x");
    }

    #[test]
    fn next_must_be_local() {
        assert_eq!(safe_next(Some("/regions?q=1")), "/regions?q=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn pager_keeps_filters() {
        let p = Pager::new(
            "/components",
            &[("category", "01001".into()), ("grid", String::new())],
            2,
            50,
            120,
        );
        assert_eq!(p.pages, 3);
        assert_eq!((p.first_row, p.last_row), (51, 100));
        assert_eq!(p.prev.as_deref(), Some("/components?category=01001"));
        assert_eq!(p.next.as_deref(), Some("/components?category=01001&page=3"));
        assert_eq!(
            p.hidden,
            vec![("category".to_string(), "01001".to_string())]
        );
        let empty = Pager::new("/x", &[], 1, 50, 0);
        assert_eq!((empty.pages, empty.first_row, empty.last_row), (1, 0, 0));
        assert!(empty.prev.is_none() && empty.next.is_none());
    }
}
