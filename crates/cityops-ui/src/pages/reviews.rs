//! 第三方评价 (third-party review): `/reviews`. Reviewers (第三方评价员) see the sampled cases of
//! their region — each linking to its case page — with a form per case still to review (score
//! 1–5, comment, an optional photo uploaded to the API first); leaders and administrators see
//! the per-department scores of a period (last month by default) and a button that draws the
//! period's sample. Everything goes through [`cityops_app::ReviewService`], like the API.
//!
//! The forms are plain `POST` forms (`application/x-www-form-urlencoded`) with the session's
//! `csrf_token`; a refused review shows the page again with the reason beside its form and what
//! was typed kept.
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_app::ServiceError;
use cityops_app::review::{may_manage_reviews, may_review};
use cityops_domain::review::ReviewPeriod;
use serde::Deserialize;

use super::cases::service_error;
use super::{num, render, see_other, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n_reviews::ReviewTr;
use crate::layout::{Layout, Section};
use crate::util::{Pager, fmt_int, page_request, url_with};

/// A review shown on its task.
pub(crate) struct DoneRow {
    pub score: u8,
    pub word: &'static str,
    pub comment: String,
    pub at: String,
    /// The photo's thumbnail and full URL.
    pub photo: Option<(String, String)>,
}

/// One task of the reviewer.
pub(crate) struct TaskRow {
    pub case_id: i64,
    pub code: String,
    pub department: String,
    pub period: String,
    pub review: Option<DoneRow>,
    /// Why the last submit of this case's form was refused.
    pub error: Option<&'static str>,
    /// What was typed into the refused form.
    pub draft_score: u8,
    pub draft_comment: String,
    /// The form starts open (a refused submit).
    pub open: bool,
}

/// One department's scores.
pub(crate) struct ScoreRow {
    pub department: String,
    pub sampled: String,
    pub reviewed: String,
    pub mean: String,
    pub score_sum: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
pub(crate) struct ReviewsPage {
    pub l: Layout,
    pub r: &'static ReviewTr,
    pub reviewer: bool,
    pub manager: bool,
    pub tasks: Vec<TaskRow>,
    pub pager: Pager,
    pub scores: Vec<ScoreRow>,
    /// The period shown, as local dates (`to` included).
    pub from: String,
    pub to: String,
    pub notice: Option<String>,
    pub error: Option<&'static str>,
    /// `(value, word)` of the five scores.
    pub score_choices: Vec<(u8, &'static str)>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReviewsQuery {
    page: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// A review was sent for this case.
    done: Option<String>,
    /// A draw added this many cases.
    drawn: Option<String>,
    /// Why a draw was refused (`period`, `not_over`).
    error: Option<String>,
}

/// A refused review, shown again.
struct Refused {
    case_id: i64,
    message: &'static str,
    score: u8,
    comment: String,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Where local day `day` starts in `tz`.
fn day_start<Z: TimeZone>(tz: &Z, day: NaiveDate) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The period of local dates `from` to `to` (both included); `None` when malformed.
fn period_of<Z: TimeZone>(tz: &Z, from: &str, to: &str) -> Option<ReviewPeriod> {
    let (from, to) = (date(from)?, date(to)?.succ_opt()?);
    ReviewPeriod::new(day_start(tz, from)?, day_start(tz, to)?).ok()
}

/// The local dates of a period (`to` included).
fn dates_of<Z: TimeZone>(tz: &Z, p: &ReviewPeriod) -> (String, String)
where
    Z::Offset: std::fmt::Display,
{
    let last = p.to - Duration::microseconds(1);
    (
        p.from.with_timezone(tz).format("%Y-%m-%d").to_string(),
        last.with_timezone(tz).format("%Y-%m-%d").to_string(),
    )
}

async fn forbidden(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    status_page(
        st,
        ctx,
        StatusCode::FORBIDDEN,
        Section::Reviews,
        ctx.lang.tr().forbidden_title,
        ctx.lang.reviews().forbidden,
    )
    .await
}

/// `GET /reviews` (reviewers, leaders, administrators; others get 403).
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<ReviewsQuery>,
) -> Result<Response, PageError> {
    show(&st, &ctx, &q, None, StatusCode::OK).await
}

async fn show(
    st: &UiState,
    ctx: &Ctx,
    q: &ReviewsQuery,
    refused: Option<Refused>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let r = lang.reviews();
    let (reviewer, manager) = (may_review(&ctx.user), may_manage_reviews(&ctx.user));
    if !reviewer && !manager {
        return forbidden(st, ctx).await;
    }
    let tz = st.app.calendar().config().tz;
    let cat = st
        .app
        .app
        .catalogue()
        .await
        .map_err(service_error)
        .lang(lang)?;
    let department = |id: i64| {
        cat.department(id)
            .map_or_else(|| format!("#{id}"), |d| d.name.clone())
    };
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();

    let page = page_request(num(&q.page), None);
    let mut tasks = Vec::new();
    let mut total = 0;
    if reviewer {
        let got = st
            .app
            .reviews
            .tasks(&ctx.user, page)
            .await
            .map_err(service_error)
            .lang(lang)?;
        total = got.total;
        for t in got.items {
            let (from, to) = dates_of(&tz, &t.sample.period);
            let refused_here = refused.as_ref().filter(|f| f.case_id == t.sample.case_id);
            tasks.push(TaskRow {
                case_id: t.sample.case_id,
                code: t.case_code,
                department: department(t.sample.department_id),
                period: format!("{from} – {to}"),
                review: t.review.map(|v| DoneRow {
                    score: v.score,
                    word: r.score_word(v.score),
                    comment: v.comment,
                    at: local(v.created_at),
                    photo: t.photo.map(|p| {
                        (
                            format!("/api/v1/attachments/{p}/thumb"),
                            format!("/api/v1/attachments/{p}"),
                        )
                    }),
                }),
                error: refused_here.map(|f| f.message),
                draft_score: refused_here.map_or(0, |f| f.score),
                draft_comment: refused_here.map(|f| f.comment.clone()).unwrap_or_default(),
                open: refused_here.is_some(),
            });
        }
    }

    // The period of the scores and the draw: the query's dates, else last month.
    let chosen = match (q.from.as_deref(), q.to.as_deref()) {
        (Some(f), Some(t)) if !f.is_empty() || !t.is_empty() => period_of(&tz, f, t),
        _ => None,
    };
    let bad_period = q.from.as_deref().is_some_and(|f| !f.is_empty()) && chosen.is_none();
    let period = chosen.unwrap_or_else(|| st.app.reviews.default_period());
    let mut scores = Vec::new();
    if manager {
        let (_, got) = st
            .app
            .reviews
            .scores(&ctx.user, Some(period))
            .await
            .map_err(service_error)
            .lang(lang)?;
        scores = got
            .into_iter()
            .map(|s| ScoreRow {
                department: department(s.department_id),
                sampled: fmt_int(s.sampled),
                reviewed: fmt_int(s.reviewed),
                mean: s
                    .mean
                    .map_or_else(|| "—".to_string(), |m| format!("{m:.2}")),
                score_sum: fmt_int(s.score_sum),
            })
            .collect();
    }
    let (from, to) = dates_of(&tz, &period);
    let pager = Pager::new("/reviews", &[], page.page, page.page_size, total);
    let notice = match (num::<i64>(&q.done), num::<u64>(&q.drawn)) {
        (Some(case), _) => {
            let code = tasks
                .iter()
                .find(|t| t.case_id == case)
                .map_or_else(|| format!("#{case}"), |t| t.code.clone());
            Some(format!("{} {code}", r.submitted))
        }
        (None, Some(0)) => Some(r.drawn_nothing_new.to_string()),
        (None, Some(n)) => Some(format!("{} {}", r.drawn_notice, fmt_int(n))),
        _ => None,
    };
    let error = match q.error.as_deref() {
        Some("not_over") => Some(r.err_period_not_over),
        Some(_) => Some(r.err_period),
        None if bad_period => Some(r.err_period),
        // A refused review of a case without a form on this page (not among the tasks shown,
        // or reviewed already): say it at the top.
        None => refused
            .as_ref()
            .filter(|f| {
                !tasks
                    .iter()
                    .any(|t| t.case_id == f.case_id && t.review.is_none())
            })
            .map(|f| f.message),
    };
    let l = Layout::new(st, ctx, Section::Reviews, r.title).await;
    let page = ReviewsPage {
        l,
        r,
        reviewer,
        manager,
        tasks,
        pager,
        scores,
        from,
        to,
        notice,
        error,
        score_choices: (1..=5).map(|s| (s, r.score_word(s))).collect(),
    };
    render(status, &page, lang)
}

/// `POST /reviews/{case_id}`: the review form (`score`, `comment`, at most one `photos`).
pub(crate) async fn submit(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(case_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let r = lang.reviews();
    if !may_review(&ctx.user) {
        return forbidden(&st, &ctx).await;
    }
    let Ok(case_id) = case_id.parse::<i64>() else {
        return status_page(
            &st,
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Reviews,
            lang.tr().not_found_title,
            r.err_not_in_sample,
        )
        .await;
    };
    let (mut score, mut comment, mut photos) = (None, String::new(), Vec::new());
    for (k, v) in pairs {
        match k.as_str() {
            "score" => score = v.trim().parse::<i64>().ok(),
            "comment" => comment = v,
            "photos" if !v.trim().is_empty() => photos.push(v.trim().to_string()),
            _ => {}
        }
    }
    let refuse = |message: &'static str, status: StatusCode, comment: String| {
        let st = st.clone();
        let ctx = ctx.clone();
        async move {
            let draft = Refused {
                case_id,
                message,
                score: score.and_then(|s| u8::try_from(s).ok()).unwrap_or(0),
                comment,
            };
            show(&st, &ctx, &ReviewsQuery::default(), Some(draft), status).await
        }
    };
    let Some(given) = score else {
        return refuse(r.err_score, StatusCode::UNPROCESSABLE_ENTITY, comment).await;
    };
    if photos.len() > 1 {
        return refuse(r.err_photo, StatusCode::UNPROCESSABLE_ENTITY, comment).await;
    }
    match st
        .app
        .reviews
        .submit(
            &ctx.user,
            case_id,
            given,
            &comment,
            photos.first().map(String::as_str),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/reviews?done={case_id}"))),
        Err(ServiceError::Forbidden(_)) => forbidden(&st, &ctx).await,
        Err(ServiceError::Store(e)) => Err(e).lang(lang),
        Err(e) => {
            let status = match &e {
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            refuse(r.submit_error(&e), status, comment).await
        }
    }
}

/// The draw form: the period's local dates (both included).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DrawForm {
    from: Option<String>,
    to: Option<String>,
}

/// `POST /reviews/samples` (leaders and administrators): draws the period's sample, then back to
/// the page with the number of cases added (303), or with the reason it was refused.
pub(crate) async fn draw(
    State(st): State<UiState>,
    ctx: Ctx,
    Form(f): Form<DrawForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    if !may_manage_reviews(&ctx.user) {
        return forbidden(&st, &ctx).await;
    }
    let tz = st.app.calendar().config().tz;
    let (from, to) = (f.from.unwrap_or_default(), f.to.unwrap_or_default());
    let back = |extra: (&str, String)| {
        url_with(
            "/reviews",
            &[("from", from.clone()), ("to", to.clone()), extra],
        )
    };
    let Some(period) = period_of(&tz, &from, &to) else {
        return Ok(see_other(&back(("error", "period".into()))));
    };
    match st.app.reviews.draw(&ctx.user, Some(period)).await {
        Ok(drawn) => Ok(see_other(&back(("drawn", drawn.added.to_string())))),
        Err(ServiceError::Forbidden(_)) => forbidden(&st, &ctx).await,
        Err(ServiceError::Invalid(_)) => Ok(see_other(&back(("error", "not_over".into())))),
        Err(ServiceError::Store(e)) => Err(e).lang(lang),
        Err(e) => Err(service_error(e)).lang(lang),
    }
}
