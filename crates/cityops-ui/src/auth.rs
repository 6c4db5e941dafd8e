//! Sessions of the console: the `cityops_session` cookie set by `POST /api/v1/auth/login`,
//! resolved like the API does (the store keeps only the SHA-256 of the token).
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cityops_domain::{Role, User};

use crate::UiState;
use crate::error::UiError;
use crate::i18n::{Lang, cookie};
use crate::util::url_with;

use cityops_web::csrf::token_for_request;
/// Name of the session cookie (the API's).
pub use cityops_web::extract::SESSION_COOKIE;
use cityops_web::extract::{CookieJar, clear_session_cookie};
pub(crate) use cityops_web::extract::{plausible_token, token_hash};
use cityops_web::net::is_https;

/// The active user of the request's session cookie, if any.
pub(crate) async fn session_user(
    headers: &HeaderMap,
    st: &UiState,
) -> Result<Option<User>, UiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| plausible_token(t)) else {
        return Ok(None);
    };
    Ok(st.app.app.session_user(&token_hash(&token)).await?)
}

/// What every page needs: the logged-in user, the language, the URL of the page, the session's
/// CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub user: User,
    pub lang: Lang,
    /// Path and query of this request (for the language toggle and `next`).
    pub path_and_query: String,
    /// The session's CSRF token, for the page's forms (`csrf_token`) and scripts (`X-CSRF-Token`).
    pub csrf_token: String,
}

impl Ctx {
    pub fn is_admin(&self) -> bool {
        self.user.has_role(Role::Admin)
    }
}

/// `/login?next=<this page>`.
pub(crate) fn login_redirect(path_and_query: &str) -> Response {
    let to = if path_and_query == "/" {
        "/login".to_string()
    } else {
        url_with("/login", &[("next", path_and_query.to_string())])
    };
    Redirect::to(&to).into_response()
}

impl FromRequestParts<UiState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &UiState) -> Result<Self, Self::Rejection> {
        let lang = Lang::of(parts);
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        match session_user(&parts.headers, st).await {
            Ok(Some(user)) => Ok(Ctx {
                user,
                lang,
                path_and_query,
                csrf_token: token_for_request(&parts.headers).unwrap_or_default(),
            }),
            Ok(None) => Err(login_redirect(&path_and_query)),
            Err(e) => Err(e.page(lang)),
        }
    }
}

/// The logged-in user of a JSON endpoint of the console: 401 `unauthenticated` JSON otherwise.
pub(crate) struct JsonUser(#[allow(dead_code)] pub User);

impl FromRequestParts<UiState> for JsonUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &UiState) -> Result<Self, Self::Rejection> {
        match session_user(&parts.headers, st).await {
            Ok(Some(user)) => Ok(JsonUser(user)),
            Ok(None) => Err(cityops_web::ApiError::new(
                cityops_web::ErrorCode::Unauthenticated,
                "Login required: the session is missing or expired.",
            )
            .into_response()),
            Err(e) => Err(e.json()),
        }
    }
}

/// `POST /logout` (a form with the session's `csrf_token`, checked by the web crate's CSRF guard):
/// deletes the session of the cookie, clears the cookie, goes to the login page.
pub(crate) async fn logout(State(st): State<UiState>, parts: Parts) -> Result<Response, Response> {
    let headers = &parts.headers;
    let lang = cookie(headers, crate::i18n::LANG_COOKIE)
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_default();
    if let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| plausible_token(t)) {
        st.app
            .app
            .end_session(&token_hash(&token))
            .await
            .map_err(|e| UiError::from(e).page(lang))?;
    }
    let https = is_https(headers, &parts.extensions, &st.app.config);
    let jar = clear_session_cookie(CookieJar::new(), https);
    let mut resp = (StatusCode::SEE_OTHER, jar, [(header::LOCATION, "/login")]).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::encode;

    #[test]
    fn hashes_like_the_api() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(plausible_token(&"a1".repeat(32)));
        assert!(!plausible_token("short"));
    }

    #[test]
    fn redirects_keep_the_page() {
        let r = login_redirect("/regions?q=桥东");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let loc = r.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(loc, format!("/login?next={}", encode("/regions?q=桥东")));
        assert_eq!(login_redirect("/").headers()[header::LOCATION], "/login");
    }
}
