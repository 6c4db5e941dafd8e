//! Open311 接入应用 (administrators): the client applications of the Open311 interface with
//! their state, a form that issues a new API key — shown on the answer page only, once — and a
//! revoke form per active key. Both go through `cityops_app::Open311Service`, like the API's
//! `/api/v1/open311/clients`; the forms carry the session's CSRF token as every console form.
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_store::Open311Client;
use cityops_web::ErrorCode;
use serde::Deserialize;

use super::{num, render, see_other, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, UiError, WithLang};
use crate::i18n_open311::Open311Tr;
use crate::layout::{Layout, Section};
use crate::util::{Pager, page_request, url_with};

/// One line of the list.
pub(crate) struct ClientRow {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "open311_clients.html")]
pub(crate) struct ClientsPage {
    pub l: Layout,
    pub o: &'static Open311Tr,
    pub rows: Vec<ClientRow>,
    pub pager: Pager,
    pub notice: Option<String>,
    pub error: Option<&'static str>,
    /// A key issued by this request: shown this once.
    pub issued: Option<(String, String)>,
    /// The form's values after a refusal.
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ClientsQuery {
    page: Option<String>,
    revoked: Option<String>,
}

/// The issue form (the CSRF token is checked by the guard and ignored here).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct IssueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact: String,
}

async fn forbidden(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let t = ctx.lang.tr();
    status_page(
        st,
        ctx,
        StatusCode::FORBIDDEN,
        Section::Open311,
        t.forbidden_title,
        ctx.lang.open311().forbidden,
    )
    .await
}

/// What the page shows besides the list.
struct Extra {
    notice: Option<String>,
    error: Option<&'static str>,
    issued: Option<(String, String)>,
    name: String,
    contact: String,
}

async fn show(
    st: &UiState,
    ctx: &Ctx,
    status: StatusCode,
    page: Option<u32>,
    extra: Extra,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.open311();
    let page = page_request(page, None);
    let got = st
        .app
        .open311
        .clients(&ctx.user, page)
        .await
        .map_err(|e| UiError::Internal(e.to_string()))
        .lang(lang)?;
    let tz = st.app.calendar().config().tz;
    let at = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let rows = got
        .items
        .into_iter()
        .map(|c: Open311Client| ClientRow {
            id: c.id,
            name: c.name,
            contact: c.contact,
            created: at(c.created_at),
            last_used: c.last_used_at.map(at),
            revoked: c.revoked_at.map(at),
        })
        .collect();
    let pager = Pager::new(
        "/open311/clients",
        &[],
        page.page,
        page.page_size,
        got.total,
    );
    let l = Layout::new(st, ctx, Section::Open311, o.title).await;
    render(
        status,
        &ClientsPage {
            l,
            o,
            rows,
            pager,
            notice: extra.notice,
            error: extra.error,
            issued: extra.issued,
            name: extra.name,
            contact: extra.contact,
        },
        lang,
    )
}

/// `GET /open311/clients?page=&revoked=` (administrators; others get 403).
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<ClientsQuery>,
) -> Result<Response, PageError> {
    if !ctx.is_admin() {
        return forbidden(&st, &ctx).await;
    }
    let o = ctx.lang.open311();
    let notice = num::<i64>(&q.revoked).map(|id| format!("{} #{id}", o.revoked_notice));
    show(
        &st,
        &ctx,
        StatusCode::OK,
        num(&q.page),
        Extra {
            notice,
            error: None,
            issued: None,
            name: String::new(),
            contact: String::new(),
        },
    )
    .await
}

/// `POST /open311/clients`: issues a key and shows it on the answer (201), once; a refused form
/// comes back with its reason (422).
pub(crate) async fn issue(
    State(st): State<UiState>,
    ctx: Ctx,
    form: Result<Form<IssueForm>, FormRejection>,
) -> Result<Response, PageError> {
    if !ctx.is_admin() {
        return forbidden(&st, &ctx).await;
    }
    let o = ctx.lang.open311();
    let Form(f) = form.unwrap_or_default();
    if f.name.trim().is_empty() {
        return show(
            &st,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Extra {
                notice: None,
                error: Some(o.err_name),
                issued: None,
                name: String::new(),
                contact: f.contact,
            },
        )
        .await;
    }
    match st
        .app
        .open311
        .issue_key(&ctx.user, &f.name, &f.contact)
        .await
        .map_err(cityops_web::ApiError::from)
    {
        Ok((client, key)) => {
            show(
                &st,
                &ctx,
                StatusCode::CREATED,
                None,
                Extra {
                    notice: None,
                    error: None,
                    issued: Some((client.name, key)),
                    name: String::new(),
                    contact: String::new(),
                },
            )
            .await
        }
        Err(e) if matches!(e.code, ErrorCode::InvalidValue | ErrorCode::TooLong) => {
            let error = if e.code == ErrorCode::TooLong {
                o.err_too_long
            } else {
                o.err_name
            };
            show(
                &st,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Extra {
                    notice: None,
                    error: Some(error),
                    issued: None,
                    name: f.name,
                    contact: f.contact,
                },
            )
            .await
        }
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(&st, &ctx).await,
        Err(e) => Err(UiError::Internal(e.to_string())).lang(ctx.lang),
    }
}

/// `POST /open311/clients/{id}/revoke`: revokes at once, then back to the list (303).
pub(crate) async fn revoke(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if !ctx.is_admin() {
        return forbidden(&st, &ctx).await;
    }
    let not_found = |st: UiState, ctx: Ctx| async move {
        let t = ctx.lang.tr();
        status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Open311,
            t.not_found_title,
            ctx.lang.open311().not_found,
        )
        .await
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found(st, ctx).await;
    };
    match st
        .app
        .open311
        .revoke(&ctx.user, id)
        .await
        .map_err(cityops_web::ApiError::from)
    {
        Ok(c) => Ok(see_other(&url_with(
            "/open311/clients",
            &[("revoked", c.id.to_string())],
        ))),
        Err(e) if e.code == ErrorCode::NotFound => not_found(st, ctx).await,
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(&st, &ctx).await,
        Err(e) => Err(UiError::Internal(e.to_string())).lang(ctx.lang),
    }
}
