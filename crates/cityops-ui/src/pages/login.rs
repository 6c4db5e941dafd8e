//! 登录 (login). The form posts to `POST /api/v1/auth/login` with a few lines of JS (`app.js`),
//! which sets the session cookie; then the browser goes to `next`.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::render;
use crate::UiState;
use crate::auth::session_user;
use crate::error::PageError;
use crate::i18n::{Lang, Tr};
use crate::layout::toggle_url;
use crate::tree;
use crate::util::safe_next;

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub t: &'static Tr,
    pub lang: Lang,
    pub next: String,
    pub toggle_url: String,
    pub demo: bool,
    pub city: String,
    pub css: String,
    pub js: String,
    pub favicon: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// `GET /login?next=` — the form; a user who is logged in already goes straight to `next`.
pub(crate) async fn page(
    State(st): State<UiState>,
    parts: Parts,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&parts);
    let next = safe_next(q.next.as_deref());
    if let Ok(Some(_)) = session_user(&parts.headers, &st).await {
        return Ok(Redirect::to(&next).into_response());
    }
    let city = match tree::tree(&st).await {
        Ok(t) => t.city().map(|c| c.name.clone()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let path_and_query = parts.uri.path_and_query().map_or("/login", |p| p.as_str());
    let page = LoginPage {
        t: lang.tr(),
        lang,
        next,
        toggle_url: toggle_url(path_and_query, lang.other()),
        demo: st.app.demo_mode,
        city,
        css: crate::assets::url("app.css"),
        js: crate::assets::url("app.js"),
        favicon: crate::assets::url("favicon.svg"),
    };
    render(StatusCode::OK, &page, lang)
}
