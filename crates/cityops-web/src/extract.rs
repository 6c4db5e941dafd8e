//! Extractors whose rejections come out as [`ApiError`] JSON, the authenticated user, the client
//! address and paging.
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use cityops_domain::{PageRequest, Role, User};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cityops_session";

pub use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

/// The value of the cookie `name` a request carries (surrounding quotes trimmed), if it is set
/// and not empty. Parsed by axum-extra's [`CookieJar`] (the `cookie` crate).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value_trimmed().to_string())
        .filter(|v| !v.is_empty())
}

/// A cookie for the whole site (`Path=/`, `SameSite=Lax`) that lasts `max_age_secs` seconds;
/// `HttpOnly` and `Secure` as asked.
pub fn site_cookie(
    name: &'static str,
    value: String,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(http_only)
        .secure(secure)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// The session cookie (会话): `HttpOnly`, `SameSite=Lax`, `Path=/`; `Max-Age` = the session's
/// lifetime when the user asked to be remembered, else none (the cookie ends with the browser);
/// `Secure` when the request came over HTTPS ([`crate::net::is_https`]).
pub fn session_cookie(token: String, max_age_secs: Option<i64>, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
        .secure(secure)
        .build();
    if let Some(secs) = max_age_secs {
        cookie.set_max_age(time::Duration::seconds(secs));
    }
    cookie
}

/// `jar` with the session cookie cleared (empty, `Max-Age=0`, expired; same attributes), sent
/// whether or not the request carried one.
pub fn clear_session_cookie(jar: CookieJar, secure: bool) -> CookieJar {
    let mut gone = session_cookie(String::new(), Some(0), secure);
    gone.make_removal();
    jar.add(gone)
}

/// `axum::Json` with JSON error bodies (400 syntax, 422 data, 413 size, 415 content type).
#[derive(Debug, Clone, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` with a 400 `invalid_query` JSON error.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with a 400 `bad_request` JSON error.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The highest page number a list accepts (a page beyond it is 400 `invalid_query`, as the
/// document declares).
pub const MAX_PAGE: u32 = 1_000_000;

/// `?page=&page_size=`: page 1–1 000 000, page size 1–1000, default 50.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, 1–1000000. Default 1.
    #[param(minimum = 1, maximum = 1_000_000, example = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–1000. Default 50.
    #[param(minimum = 1, maximum = 1000, example = 50)]
    pub page_size: Option<u32>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        PageRequest::new(self.page, self.page_size)
            .filter(|p| p.page <= MAX_PAGE)
            .ok_or_else(|| {
                ApiError::invalid_query(format!(
                    "page must lie between 1 and {MAX_PAGE}, page_size between 1 and {}",
                    cityops_domain::page::MAX_PAGE_SIZE
                ))
            })
    }
}

/// The session token a request carries: `Authorization: Bearer <token>`, else the session cookie.
/// `Err` when an `Authorization` header is present but is not a bearer token.
pub(crate) fn session_token(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if let Some(v) = headers.get(AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ApiError::unauthenticated())?;
        let (scheme, token) = v
            .trim()
            .split_once(' ')
            .ok_or_else(ApiError::unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "Only `Authorization: Bearer <token>` is accepted.",
            ));
        }
        return Ok(Some(token.trim().to_string()));
    }
    Ok(cookie_value(headers, SESSION_COOKIE))
}

/// The SHA-256 (hex) of a session token: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Tokens are 32 random bytes in hex; anything else cannot be a session.
pub fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The logged-in user (from a bearer token or the session cookie). Rejects with 401
/// `unauthenticated` when there is no session, or it expired or was revoked.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl CurrentUser {
    /// 403 unless the user holds the role.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.0.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This requires the role {} ({}).",
                role.as_str(),
                role.name_zh()
            )))
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers)?.ok_or_else(ApiError::unauthenticated)?;
        if !plausible_token(&token) {
            return Err(ApiError::unauthenticated());
        }
        match state.app.session_user(&token_hash(&token)).await? {
            Some(user) if user.active => Ok(CurrentUser(user)),
            _ => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "Login required: the session is missing or expired.",
            )),
        }
    }
}

/// The client's address ([`crate::net::client_ip`]: the TCP peer, or what a trusted proxy
/// reports); `"unknown"` when there is none (in-process tests). Always a well-formed IP address
/// otherwise, so it is safe to log.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = crate::net::client_ip(&parts.headers, &parts.extensions, &state.config);
        Ok(ClientIp(ip.map_or_else(
            || "unknown".to_string(),
            |ip| ip.to_string(),
        )))
    }
}

/// Whether the request came over HTTPS ([`crate::net::is_https`]): cookies get `Secure`.
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Https(crate::net::is_https(
            &parts.headers,
            &parts.extensions,
            &state.config,
        )))
    }
}

/// The active user of the request's bearer token or session cookie, if there is one (never an
/// error: a missing, malformed or expired session is `None`).
pub(crate) async fn optional_user(headers: &HeaderMap, state: &AppState) -> Option<User> {
    let token = session_token(headers).ok().flatten()?;
    if !plausible_token(&token) {
        return None;
    }
    match state.app.session_user(&token_hash(&token)).await {
        Ok(Some(user)) if user.active => Some(user),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    #[test]
    fn token_from_header_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(session_token(&h).unwrap(), None);
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=b; cityops_session=abc; c=d"),
        );
        assert_eq!(session_token(&h).unwrap().as_deref(), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer xyz"));
        assert_eq!(
            session_token(&h).unwrap().as_deref(),
            Some("xyz"),
            "the header wins"
        );
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert!(session_token(&h).is_err());
    }

    #[test]
    fn token_shape_and_hash() {
        assert!(plausible_token(&"a1".repeat(32)));
        assert!(!plausible_token("short"));
        assert!(!plausible_token(&"zz".repeat(32)));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn paging() {
        assert_eq!(
            PageParams::default().request().unwrap(),
            PageRequest {
                page: 1,
                page_size: 50
            }
        );
        assert!(
            PageParams {
                page: Some(0),
                page_size: None
            }
            .request()
            .is_err()
        );
        assert!(
            PageParams {
                page: None,
                page_size: Some(1001)
            }
            .request()
            .is_err()
        );
        assert!(
            PageParams {
                page: Some(MAX_PAGE + 1),
                page_size: None
            }
            .request()
            .is_err()
        );
        assert!(
            PageParams {
                page: Some(MAX_PAGE),
                page_size: None
            }
            .request()
            .is_ok()
        );
    }
}
