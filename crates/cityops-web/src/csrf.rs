//! Cross-site request forgery (CSRF) defence for requests that a browser authenticates on its own
//! with the session cookie. One middleware over the API and the console:
//!
//! - Safe methods (GET, HEAD, OPTIONS, TRACE) and requests with an `Authorization` header (bearer
//!   tokens, which a browser never adds by itself) pass untouched.
//! - Every other request must come from this site: `Sec-Fetch-Site`, when sent, is `same-origin`
//!   or `none`; `Origin`, when sent, names the request's `Host` or the configured `public_origin`
//!   (`Origin: null` is refused). This covers login too (login CSRF), where no session exists yet.
//! - A request that carries the session cookie must also carry the session's CSRF token, in the
//!   `X-CSRF-Token` header (htmx: `hx-headers`; scripts: the `csrf-token` meta tag) or, for an
//!   HTML form (`application/x-www-form-urlencoded`), in the `csrf_token` field. Login is exempt
//!   (it starts a new session).
//!
//! The token is bound to the session: SHA-256 over a fixed label and the session's secret token,
//! so it needs no server-side state, works across processes, and dies with the session. It cannot
//! be derived from what the store keeps (the token's plain SHA-256).
//!
//! A refused request answers 403 `csrf`.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{SESSION_COOKIE, cookie_value, plausible_token};
use crate::state::{AppState, WebConfig};

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// Paths that start a session: only the origin is checked.
const LOGIN_PATHS: [&str; 1] = ["/api/v1/auth/login"];

/// The CSRF token of the session whose secret token is `session_token` (64 hex digits).
pub fn token_for(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"cityops csrf v1\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

/// The CSRF token for the session cookie of a request (what a page puts into its forms), if the
/// request carries a well-formed one.
pub fn token_for_request(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
        .filter(|t| plausible_token(t))
        .map(|t| token_for(&t))
}

/// Byte-wise equality in time independent of where the inputs differ.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `host[:port]`, lower-cased, without the default port of `scheme`.
fn normalised(scheme: &str, host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let default = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    host.strip_suffix(default)
        .map_or(host.clone(), str::to_string)
}

/// Why a request does not come from this site, if it does not. `authority` is the request URI's
/// (HTTP/2 carries the host there instead of in `Host`).
fn foreign(
    headers: &HeaderMap,
    authority: Option<&str>,
    config: &WebConfig,
) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return Some("The request comes from another site (Sec-Fetch-Site).");
    }
    let origin = headers.get(ORIGIN)?;
    let refused = Some("The request comes from another origin (Origin).");
    let Ok(origin) = origin.to_str() else {
        return refused;
    };
    let origin = origin.trim().trim_end_matches('/');
    if config
        .public_origin
        .as_deref()
        .is_some_and(|o| o.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return None;
    }
    let Some((scheme, host)) = origin.split_once("://") else {
        return refused; // `null` and anything else that is not an origin
    };
    let scheme = scheme.to_ascii_lowercase();
    let same_host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority)
        .is_some_and(|h| normalised(&scheme, h) == normalised(&scheme, host));
    if same_host { None } else { refused }
}

fn refuse(message: &'static str) -> Response {
    tracing::warn!(reason = message, "cross-site request refused");
    ApiError::new(ErrorCode::Csrf, message).into_response()
}

/// The value of `field` in an `application/x-www-form-urlencoded` body (not percent-decoded: the
/// token is hex).
fn form_field<'b>(body: &'b [u8], field: &str) -> Option<&'b [u8]> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        (kv.next()? == field.as_bytes()).then(|| kv.next().unwrap_or_default())
    })
}

/// Open311's routes: a POST there is authorised by the API key in its form, never by the
/// session cookie, so there is no ambient authority to forge (and client applications on other
/// sites must reach it).
const OPEN311_PREFIX: &str = "/open311/v2/";

/// The middleware (see the module documentation).
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method())
        || req.headers().contains_key(AUTHORIZATION)
        || req.uri().path().starts_with(OPEN311_PREFIX)
    {
        return next.run(req).await;
    }
    let authority = req.uri().authority().map(|a| a.as_str());
    if let Some(why) = foreign(req.headers(), authority, &state.config) {
        return refuse(why);
    }
    // No (well-formed) session cookie: no ambient authority to abuse.
    let Some(session) = cookie_value(req.headers(), SESSION_COOKIE).filter(|t| plausible_token(t))
    else {
        return next.run(req).await;
    };
    if LOGIN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let expected = token_for(&session);
    if let Some(given) = req.headers().get(CSRF_HEADER) {
        return if same(given.as_bytes(), expected.as_bytes()) {
            next.run(req).await
        } else {
            refuse("The CSRF token does not match the session.")
        };
    }
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return refuse(
            "A request authenticated by the session cookie needs the X-CSRF-Token header.",
        );
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.body_limit_bytes).await {
        Ok(b) => b,
        Err(_) => return ApiError::of(ErrorCode::PayloadTooLarge).into_response(),
    };
    if !form_field(&bytes, CSRF_FIELD).is_some_and(|t| same(t, expected.as_bytes())) {
        return refuse("The form's CSRF token is missing or does not match the session.");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn is_safe(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        let c = WebConfig::default();
        assert_eq!(
            foreign(&headers(&[]), None, &c),
            None,
            "a client that sends neither"
        );
        for ok in [
            &[("sec-fetch-site", "same-origin")][..],
            &[("sec-fetch-site", "none")],
            &[
                ("origin", "http://city.example:8080"),
                ("host", "city.example:8080"),
            ],
            &[
                ("origin", "https://City.Example"),
                ("host", "city.example:443"),
            ],
        ] {
            assert_eq!(foreign(&headers(ok), None, &c), None, "{ok:?}");
        }
        for bad in [
            &[("sec-fetch-site", "cross-site")][..],
            &[("sec-fetch-site", "same-site")],
            &[("origin", "https://evil.example"), ("host", "city.example")],
            &[("origin", "null"), ("host", "city.example")],
            &[("origin", "http://city.example")],
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://evil.example"),
                ("host", "city.example"),
            ],
        ] {
            assert!(foreign(&headers(bad), None, &c).is_some(), "{bad:?}");
        }
        let behind = WebConfig {
            public_origin: Some("https://city.example/".into()),
            ..WebConfig::default()
        };
        let h = headers(&[
            ("origin", "https://city.example"),
            ("host", "10.0.0.5:8080"),
        ]);
        assert_eq!(foreign(&h, None, &behind), None);
        assert!(foreign(&h, None, &c).is_some());
        // HTTP/2: the host comes with the URI.
        let h2 = headers(&[("origin", "https://city.example")]);
        assert_eq!(foreign(&h2, Some("city.example"), &c), None);
        assert!(foreign(&h2, Some("evil.example"), &c).is_some());
    }

    #[test]
    fn tokens_are_bound_to_the_session() {
        let a = token_for(&"a1".repeat(32));
        assert_eq!(a.len(), 64);
        assert_ne!(a, token_for(&"b2".repeat(32)));
        assert_ne!(
            a,
            crate::extract::token_hash(&"a1".repeat(32)),
            "not the stored hash"
        );
        assert!(same(a.as_bytes(), a.clone().as_bytes()));
        assert!(!same(a.as_bytes(), &a.as_bytes()[1..]));
        assert_eq!(
            form_field(b"a=1&csrf_token=abc&b", "csrf_token"),
            Some(&b"abc"[..])
        );
        assert_eq!(form_field(b"csrf_token", "csrf_token"), Some(&b""[..]));
        assert_eq!(form_field(b"x=csrf_token", "csrf_token"), None);
    }
}
