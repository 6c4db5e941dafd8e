//! 配置变更记录 (change history): every kept version of the responsibility matrix and of the
//! working calendar — who, when, what — with a restore button per version (administrators only).
//! A restore goes through the case service like the API's (`POST …/versions/{id}/restore`): kept
//! as a new version, the caches of every process reload. Restoring an empty matrix needs the
//! "yes, empty it" box ticked, as the API needs `?allow_empty=true`.
//!
//! The restore form is a plain `POST` form (`application/x-www-form-urlencoded`); fields it does
//! not know (a CSRF token) are ignored.
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_store::ConfigVersion;
use cityops_web::ErrorCode;
use serde::Deserialize;

use super::{num, render, see_other, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, UiError, WithLang};
use crate::layout::{Layout, Section};
use crate::util::{Pager, page_request, url_with};

/// What the history is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Routing,
    Calendar,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "routing" => Some(Kind::Routing),
            "calendar" => Some(Kind::Calendar),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Routing => "routing",
            Kind::Calendar => "calendar",
        }
    }
}

pub(crate) struct VersionRow {
    pub id: i64,
    pub at: String,
    pub by: String,
    pub summary: String,
    pub items: i64,
    pub restored_from: Option<i64>,
    /// The newest version: what is in force now.
    pub current: bool,
    /// Restoring it empties the matrix: the form asks for a confirmation.
    pub needs_confirm: bool,
}

#[derive(Template)]
#[template(path = "versions.html")]
pub(crate) struct VersionsPage {
    pub l: Layout,
    pub kind: &'static str,
    pub rows: Vec<VersionRow>,
    pub pager: Pager,
    pub notice: Option<String>,
    pub error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VersionsQuery {
    kind: Option<String>,
    page: Option<String>,
    restored: Option<String>,
    error: Option<String>,
}

async fn forbidden(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let t = ctx.lang.tr();
    status_page(
        st,
        ctx,
        StatusCode::FORBIDDEN,
        Section::Versions,
        t.forbidden_title,
        t.forbidden_versions,
    )
    .await
}

async fn not_found(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let t = ctx.lang.tr();
    status_page(
        st,
        ctx,
        StatusCode::NOT_FOUND,
        Section::Versions,
        t.not_found_title,
        t.no_such_version,
    )
    .await
}

/// `GET /versions?kind=routing|calendar&page=` (administrators only; others get 403).
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<VersionsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.tr();
    if !ctx.is_admin() {
        return forbidden(&st, &ctx).await;
    }
    let kind = match q.kind.as_deref() {
        None | Some("") => Kind::Routing,
        Some(k) => match Kind::parse(k) {
            Some(k) => k,
            None => return not_found(&st, &ctx).await,
        },
    };
    let page = page_request(num(&q.page), None);
    let got = match kind {
        Kind::Routing => st.app.store.routing_versions(page).await,
        Kind::Calendar => st.app.store.calendar_versions(page).await,
    }
    .lang(lang)?;
    let tz = st.app.calendar().config().tz;
    let row = |(i, v): (usize, ConfigVersion)| VersionRow {
        current: page.page == 1 && i == 0,
        needs_confirm: kind == Kind::Routing && v.items == 0,
        at: v
            .at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        by: match (v.display_name, v.username) {
            (Some(name), Some(user)) if name != user => format!("{name}（{user}）"),
            (_, Some(user)) => user,
            _ => t.system_actor.to_string(),
        },
        id: v.id,
        summary: v.summary,
        items: v.items,
        restored_from: v.restored_from,
    };
    let rows = got.items.into_iter().enumerate().map(row).collect();
    let pager = Pager::new(
        "/versions",
        &[("kind", kind.as_str().to_string())],
        page.page,
        page.page_size,
        got.total,
    );
    let notice = num::<i64>(&q.restored).map(|id| format!("{} #{id}", t.restored_notice));
    let error = match q.error.as_deref() {
        Some("empty_matrix") => Some(t.error_empty_matrix),
        Some(_) => Some(t.error_restore_failed),
        None => None,
    };
    let l = Layout::new(&st, &ctx, Section::Versions, t.versions_title).await;
    let page = VersionsPage {
        l,
        kind: kind.as_str(),
        rows,
        pager,
        notice,
        error,
    };
    render(StatusCode::OK, &page, lang)
}

/// The restore form: `allow_empty` is the ticked "yes, empty the matrix" box.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RestoreForm {
    allow_empty: Option<String>,
}

/// `POST /versions/{kind}/{id}/restore` (administrators only): restores, then back to the list
/// with a notice (303), or with the reason it was refused.
pub(crate) async fn restore(
    State(st): State<UiState>,
    ctx: Ctx,
    Path((kind, id)): Path<(String, String)>,
    form: Result<Form<RestoreForm>, FormRejection>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    if !ctx.is_admin() {
        return forbidden(&st, &ctx).await;
    }
    let (Some(kind), Some(id)) = (Kind::parse(&kind), id.parse::<i64>().ok()) else {
        return not_found(&st, &ctx).await;
    };
    let allow_empty = form
        .ok()
        .and_then(|Form(f)| f.allow_empty)
        .is_some_and(|v| matches!(v.as_str(), "true" | "on" | "1"));
    let done = match kind {
        Kind::Routing => {
            st.app
                .app
                .restore_routing_version(&ctx.user, id, allow_empty)
                .await
        }
        Kind::Calendar => st.app.app.restore_calendar_version(&ctx.user, id).await,
    };
    let back = |extra: (&str, String)| {
        url_with("/versions", &[("kind", kind.as_str().to_string()), extra])
    };
    // The service's refusals, as the API's error codes.
    match done.map_err(cityops_web::ApiError::from) {
        Ok(v) => Ok(see_other(&back(("restored", v.id.to_string())))),
        Err(e) => match e.code {
            ErrorCode::EmptyMatrix => Ok(see_other(&back(("error", "empty_matrix".into())))),
            ErrorCode::InvalidValue => {
                tracing::warn!(version = id, kind = kind.as_str(), why = %e.message,
                    "restore refused");
                Ok(see_other(&back(("error", "invalid".into()))))
            }
            ErrorCode::NotFound => not_found(&st, &ctx).await,
            ErrorCode::Forbidden => forbidden(&st, &ctx).await,
            _ => Err(UiError::Internal(e.to_string())).lang(lang),
        },
    }
}
