//! The phone pages (手机端, `/m/…`, 390 px): one column, a bottom tab bar (上报 · 任务 · 我的),
//! touch targets of at least 44 px, camera and location first.
//!
//! - 上报 `/m/report`: inspectors (and other reporting staff) report through the JSON API with
//!   the page's CSRF token; without a session the same page is the citizens' anonymous report
//!   (`POST /api/v1/public/reports`), which answers the case code and the follow token once.
//!   While reporting, the open cases of the chosen category within 50 m are listed first
//!   (`/m/nearby`, "是同一问题吗？"); following one (`POST /m/cases/{id}/follow`) adds the user
//!   as a follower instead of filing a second case. Reports made offline wait in IndexedDB
//!   (`phone.js`) and are sent when the network returns.
//! - 任务 `/m/tasks`: an inspector's verify and check tasks with the before photo and one-tap
//!   results; a department handler's cases to sign and in handling (sign; handle with an after
//!   photo). Every result is a form posted to `/m/cases/{id}/act`, which calls
//!   `CaseService::act` (role, relationship and scope decided there).
//! - 查询 `/m/follow`: a case by code and follow token (posted, so the token stays out of the
//!   address bar), its progress without personal data, and the rating after closure.
//! - 我的 `/m/me`: the account, or for citizens the receipts kept on the phone (localStorage).
use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::case::{Case, CaseAction, CaseStatus, CaseVisibility};
use cityops_domain::{CategoryKind, PageRequest, Role, User};
use cityops_store::CaseQuery;
use cityops_web::csrf::token_for_request;
use serde::Deserialize;

use crate::UiState;
use crate::auth::session_user;
use crate::error::{PageError, UiError, WithLang};
use crate::i18n::Lang;
use crate::i18n_phone::PhoneTr;
use crate::pages::{render, see_other};
use crate::util::url_with;

/// Tasks listed per group at most.
const TASKS_MAX: u32 = 50;

/// Which tab is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Report,
    Tasks,
    Follow,
    Me,
    /// 附近公厕/公园 (`/m/places`, `pages::phone_places`): reached from 上报, no tab of its own.
    Places,
    /// 码上办 (`/m/o/{code}`, `pages::phone_objects`): opened by scanning a label, no tab of its own.
    Object,
}

/// What every phone page needs: the user if signed in, the language, the CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct PhoneCtx {
    pub user: Option<User>,
    pub lang: Lang,
    pub path_and_query: String,
    pub csrf_token: String,
}

impl FromRequestParts<UiState> for PhoneCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &UiState) -> Result<Self, Self::Rejection> {
        let lang = Lang::of(parts);
        let user = session_user(&parts.headers, st)
            .await
            .map_err(|e| e.page(lang))?;
        Ok(PhoneCtx {
            csrf_token: if user.is_some() {
                token_for_request(&parts.headers).unwrap_or_default()
            } else {
                String::new()
            },
            user,
            lang,
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or("/m", |p| p.as_str())
                .to_string(),
        })
    }
}

/// The phone chrome: title, tabs, language toggle, CSRF meta tag.
pub(crate) struct PhoneLayout {
    pub p: &'static PhoneTr,
    pub lang: Lang,
    pub title: String,
    pub tab: Tab,
    pub signed_in: bool,
    pub csrf_token: String,
    pub toggle_url: String,
}

impl PhoneLayout {
    pub(crate) fn new(ctx: &PhoneCtx, tab: Tab, title: &str) -> Self {
        Self {
            p: ctx.lang.phone(),
            lang: ctx.lang,
            title: title.to_string(),
            tab,
            signed_in: ctx.user.is_some(),
            csrf_token: ctx.csrf_token.clone(),
            toggle_url: crate::layout::toggle_url(&ctx.path_and_query, ctx.lang.other()),
        }
    }
    pub fn asset(&self, path: &str) -> String {
        crate::assets::url(path)
    }
    pub fn is(&self, tab: Tab) -> bool {
        self.tab == tab
    }
    /// The strings `phone.js` shows, as JSON safe inside a `<script>` element.
    pub fn strings_json(&self) -> String {
        let p = self.p;
        crate::pages::script_json(&serde_json::json!({
            "saved_offline": p.saved_offline,
            "queued_sent": p.queued_sent,
            "queue_waiting": p.queue_waiting,
            "report_failed": p.report_failed,
            "sending": p.sending,
            "reported": p.reported,
            "locating": p.locating,
            "located": p.located,
            "locate_failed": p.locate_failed,
            "need_location": p.need_location,
            "need_category": p.need_category,
            "need_text_or_photo": p.need_text_or_photo,
            "photo_change": p.photo_change,
            "receipt_remembered": p.receipt_remembered,
            "me_saved_none": p.me_saved_none,
            "follow_submit": p.follow_submit,
            "category_chosen": p.category_chosen,
            "map_hint": p.map_hint,
        }))
    }
}

/// `GET /m/sw.js`: the service worker of the phone pages (served under `/m/` so that its scope
/// covers them), never cached by the browser's HTTP cache so that a new one is picked up.
pub(crate) async fn service_worker() -> Response {
    let body = crate::assets::ASSETS
        .iter()
        .find(|a| a.path == "phone-sw.js")
        .map_or(&b""[..], |a| a.bytes);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /m`: the tab a role starts on — department staff on their to-do, everyone else on 上报.
pub(crate) async fn home(ctx: PhoneCtx) -> Response {
    match &ctx.user {
        Some(u) if u.has_role(Role::Handler) || u.has_role(Role::Enforcement) || has_tasks(u) => {
            see_other("/m/tasks")
        }
        _ => see_other("/m/report"),
    }
}

fn has_tasks(u: &User) -> bool {
    u.has_role(Role::Inspector) && !u.has_role(Role::Intake)
}

/// A category of the picker.
pub(crate) struct PickCategory {
    pub kind: &'static str,
    pub code: String,
    pub name: String,
    pub class_name: String,
}

#[derive(Template)]
#[template(path = "phone_report.html")]
pub(crate) struct ReportPage {
    pub l: PhoneLayout,
    /// Reporting anonymously (no session): the public API, optional category, contact fields.
    pub public: bool,
    pub categories: Vec<PickCategory>,
    /// A case just followed instead of reported again.
    pub followed: Option<String>,
    /// The coordinate system the platform reports (`?crs=gcj02` from a wrapper that says so).
    pub crs: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportQuery {
    followed: Option<String>,
    crs: Option<String>,
}

/// `GET /m/report`.
pub(crate) async fn report_page(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let mut categories = Vec::new();
    let mut page = 1;
    loop {
        let got = st
            .app
            .store
            .list_categories(
                None,
                PageRequest {
                    page,
                    page_size: 1000,
                },
            )
            .await
            .lang(lang)?;
        let n = got.items.len();
        categories.extend(got.items.into_iter().map(|c| PickCategory {
            kind: match c.kind {
                CategoryKind::Component => "component",
                CategoryKind::Matter => "matter",
            },
            code: c.code,
            name: c.name,
            class_name: c.class_name,
        }));
        if n < 1000 || categories.len() as u64 >= got.total {
            break;
        }
        page += 1;
    }
    let public = ctx.user.is_none();
    let p = lang.phone();
    let title = if public {
        p.report_public_title
    } else {
        p.report_title
    };
    let tpl = ReportPage {
        l: PhoneLayout::new(&ctx, Tab::Report, title),
        public,
        categories,
        followed: q
            .followed
            .filter(|c| c.len() == 13 && c.bytes().all(|b| b.is_ascii_digit())),
        crs: match q.crs.as_deref() {
            Some("gcj02") => "gcj02".into(),
            _ => "wgs84".into(),
        },
    };
    render(StatusCode::OK, &tpl, lang)
}

/// One nearby open case of the duplicate prompt.
pub(crate) struct NearbyCase {
    pub id: i64,
    pub code: String,
    pub status: &'static str,
    pub description: String,
    pub metres: u32,
}

#[derive(Template)]
#[template(path = "phone_nearby.html")]
pub(crate) struct NearbyFragment {
    pub p: &'static PhoneTr,
    pub cases: Vec<NearbyCase>,
    pub csrf_token: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NearbyQuery {
    lng: Option<f64>,
    lat: Option<f64>,
    crs: Option<String>,
    category: Option<String>,
}

/// `GET /m/nearby?lng=&lat=&crs=&category=`: the duplicate prompt (an HTML fragment; empty when
/// nothing is near, or for visitors without a session — they are not shown others' cases).
pub(crate) async fn nearby(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Query(q): Query<NearbyQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let mut cases = Vec::new();
    if let (Some(user), Some(lng), Some(lat), Some(cat)) = (&ctx.user, q.lng, q.lat, &q.category) {
        match st
            .app
            .app
            .nearby_open_cases(user, lng, lat, q.crs.as_deref(), cat)
            .await
        {
            Ok(found) => {
                cases = found
                    .into_iter()
                    .map(|(c, d)| NearbyCase {
                        id: c.id,
                        code: c.code.clone(),
                        status: lang.phone_status(c.status),
                        description: c.description.chars().take(60).collect(),
                        metres: d.round() as u32,
                    })
                    .collect();
            }
            Err(e) => {
                let e = cityops_web::ApiError::from(e);
                if e.code != cityops_web::ErrorCode::InvalidValue {
                    return Err(UiError::Internal(e.message)).lang(lang);
                }
                tracing::debug!(why = e.message, "nearby cases: malformed query");
            }
        }
    }
    let tpl = NearbyFragment {
        p: lang.phone(),
        cases,
        csrf_token: ctx.csrf_token.clone(),
    };
    render(StatusCode::OK, &tpl, lang)
}

/// `POST /m/cases/{id}/follow`: "是同一问题" — follow the open case instead of reporting it.
pub(crate) async fn follow_case(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let Some(user) = &ctx.user else {
        return Ok(see_other("/login?next=/m/report"));
    };
    match st.app.app.follow_existing(user, id).await {
        Ok(_) => {
            let case = st.app.app.visible_case(user, id).await;
            let code = case.map(|c| c.code).unwrap_or_default();
            Ok(see_other(&url_with("/m/report", &[("followed", code)])))
        }
        Err(e) => {
            let e = cityops_web::ApiError::from(e);
            Ok(see_other(&url_with("/m/tasks", &[("error", e.message)])))
        }
    }
}

/// One task card.
pub(crate) struct Task {
    pub id: i64,
    pub code: String,
    pub status: &'static str,
    pub category: String,
    pub description: String,
    pub address: String,
    pub due: String,
    pub overdue: bool,
    /// Thumbnails of the report's photos.
    pub before: Vec<String>,
    /// The one-tap results this user may give now.
    pub actions: Vec<&'static str>,
}

pub(crate) struct TaskGroup {
    pub title: &'static str,
    pub id: &'static str,
    pub tasks: Vec<Task>,
}

#[derive(Template)]
#[template(path = "phone_tasks.html")]
pub(crate) struct TasksPage {
    pub l: PhoneLayout,
    pub groups: Vec<TaskGroup>,
    pub done: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TasksQuery {
    done: Option<String>,
    error: Option<String>,
}

/// The open-case query of one group.
fn open_query(st: &UiState, statuses: &[CaseStatus]) -> CaseQuery {
    let mut q = CaseQuery::new(st.app.clock.now());
    q.statuses = statuses.to_vec();
    q.sort = cityops_store::CaseSort::DueAsc;
    q
}

async fn task_cards(
    st: &UiState,
    user: &User,
    lang: Lang,
    cases: Vec<Case>,
    wanted: &[CaseAction],
) -> Result<Vec<Task>, UiError> {
    let now = st.app.clock.now();
    let cfg = &st.app.app.config().workflow;
    let actor = cityops_domain::case::Actor::user(user);
    let cat = st
        .app
        .app
        .catalogue()
        .await
        .map_err(|e| UiError::Internal(e.to_string()))?;
    let tz = st.app.calendar().config().tz;
    let mut out = Vec::new();
    for c in cases {
        let allowed = cityops_domain::case::allowed_actions(&c, &actor, now, cfg);
        let actions: Vec<&'static str> = wanted
            .iter()
            .filter(|a| allowed.contains(a))
            .map(|a| a.as_str())
            .collect();
        if actions.is_empty() {
            continue;
        }
        let events = st
            .app
            .store
            .case_events(c.id, &CaseVisibility::for_user(user))
            .await?
            .unwrap_or_default();
        let ids = st
            .app
            .app
            .attachment_public_ids(c.id)
            .await
            .map_err(|e| UiError::Internal(e.to_string()))?;
        let before = events
            .iter()
            .filter(|e| e.event.action == "report")
            .flat_map(|e| e.event.attachments.iter())
            .filter_map(|id| ids.get(id))
            .map(|p| format!("/api/v1/attachments/{p}/thumb"))
            .collect();
        let category = match (c.category_kind, c.category_code.as_deref()) {
            (Some(k), Some(code)) => cat
                .category(k, code)
                .map_or_else(|| code.to_string(), |x| x.name.clone()),
            _ => String::new(),
        };
        let due = c.clock.as_ref().and_then(|k| k.due).or(c.deadline);
        out.push(Task {
            id: c.id,
            code: c.code.clone(),
            status: lang.phone_status(c.status),
            category,
            description: c.description.clone(),
            address: c.location.address.clone().unwrap_or_default(),
            due: due
                .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            overdue: due.is_some_and(|d| d < now),
            before,
            actions,
        });
    }
    Ok(out)
}

/// `GET /m/tasks`.
pub(crate) async fn tasks_page(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Query(q): Query<TasksQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let Some(user) = &ctx.user else {
        return Ok(see_other("/login?next=/m/tasks"));
    };
    let p = lang.phone();
    let page = PageRequest {
        page: 1,
        page_size: TASKS_MAX,
    };
    let mut groups = Vec::new();
    if user.has_role(Role::Inspector) {
        // The inspector's own tasks: cases they are assigned to (reported or follow), which the
        // case machine lets them verify or check now.
        let mine = CaseVisibility {
            user_id: Some(user.id),
            ..CaseVisibility::default()
        };
        for (status, title, id, actions) in [
            (
                CaseStatus::Verifying,
                p.tasks_verify,
                "m-verify",
                &[CaseAction::Verify][..],
            ),
            (
                CaseStatus::Checking,
                p.tasks_check,
                "m-check",
                &[CaseAction::CheckPass, CaseAction::CheckFail][..],
            ),
        ] {
            let cases = st
                .app
                .store
                .list_cases(&open_query(&st, &[status]), &mine, page)
                .await
                .lang(lang)?
                .items;
            groups.push(TaskGroup {
                title,
                id,
                tasks: task_cards(&st, user, lang, cases, actions)
                    .await
                    .lang(lang)?,
            });
        }
    }
    if (user.has_role(Role::Handler) || user.has_role(Role::Enforcement))
        && let Some(dept) = user.scope.department_id
    {
        let vis = CaseVisibility::for_user(user);
        for (status, title, id, actions) in [
            (
                CaseStatus::Dispatched,
                p.tasks_to_sign,
                "m-to-sign",
                &[CaseAction::Sign][..],
            ),
            (
                CaseStatus::Handling,
                p.tasks_handling,
                "m-handling",
                &[CaseAction::Handle][..],
            ),
        ] {
            let mut query = open_query(&st, &[status]);
            query.department_id = Some(dept);
            let cases = st
                .app
                .store
                .list_cases(&query, &vis, page)
                .await
                .lang(lang)?
                .items;
            groups.push(TaskGroup {
                title,
                id,
                tasks: task_cards(&st, user, lang, cases, actions)
                    .await
                    .lang(lang)?,
            });
        }
    }
    let tpl = TasksPage {
        l: PhoneLayout::new(&ctx, Tab::Tasks, p.tasks_title),
        groups,
        done: q.done,
        error: q.error,
    };
    render(StatusCode::OK, &tpl, lang)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActForm {
    action: String,
    comment: Option<String>,
    reason: Option<String>,
    /// `verify`: `false` when the problem is not there.
    confirmed: Option<String>,
    /// The public id of a photo uploaded through `POST /api/v1/attachments`.
    photo: Option<String>,
}

/// `POST /m/cases/{id}/act`: one-tap results (verify, check_pass, check_fail, sign, handle)
/// through `CaseService::act`; back to the tasks with what happened.
pub(crate) async fn act(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> Result<Response, PageError> {
    let Some(user) = &ctx.user else {
        return Ok(see_other("/login?next=/m/tasks"));
    };
    let action = match f.action.as_str() {
        "verify" => CaseAction::Verify,
        "check_pass" => CaseAction::CheckPass,
        "check_fail" => CaseAction::CheckFail,
        "sign" => CaseAction::Sign,
        "handle" => CaseAction::Handle,
        _ => {
            return Ok(see_other(&url_with(
                "/m/tasks",
                &[("error", format!("unknown action {:?}", f.action))],
            )));
        }
    };
    let text = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let input = cityops_domain::case::ActionInput {
        comment: text(f.comment),
        reason: text(f.reason),
        confirmed: f.confirmed.as_deref().map(|v| v != "false"),
        ..Default::default()
    };
    let photos: Vec<String> = text(f.photo).into_iter().collect();
    match st.app.app.act(user, id, action, input, &photos).await {
        Ok(c) => Ok(see_other(&url_with(
            "/m/tasks",
            &[(
                "done",
                format!(
                    "{} {}",
                    c.case.code,
                    match ctx.lang {
                        Lang::Zh => action.name_zh(),
                        Lang::En => action.as_str(),
                    }
                ),
            )],
        ))),
        Err(e) => {
            let e = cityops_web::ApiError::from(e);
            Ok(see_other(&url_with("/m/tasks", &[("error", e.message)])))
        }
    }
}

#[derive(Template)]
#[template(path = "phone_me.html")]
pub(crate) struct MePage {
    pub l: PhoneLayout,
    pub name: String,
    pub roles: String,
}

/// `GET /m/me`.
pub(crate) async fn me_page(ctx: PhoneCtx) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let (name, roles) = match &ctx.user {
        Some(u) => (
            if u.display_name.trim().is_empty() {
                u.username.clone()
            } else {
                u.display_name.clone()
            },
            u.roles
                .iter()
                .map(|r| lang.role(*r))
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        None => (lang.phone().me_guest.to_string(), String::new()),
    };
    let tpl = MePage {
        l: PhoneLayout::new(&ctx, Tab::Me, lang.phone().me_title),
        name,
        roles,
    };
    render(StatusCode::OK, &tpl, lang)
}

/// One step of the public timeline.
pub(crate) struct Step {
    pub at: String,
    pub status: &'static str,
}

/// A followed case as the page shows it.
pub(crate) struct Followed {
    pub code: String,
    pub status: &'static str,
    pub steps: Vec<Step>,
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub rating: Option<u8>,
    pub can_rate: bool,
}

#[derive(Template)]
#[template(path = "phone_follow.html")]
pub(crate) struct FollowPage {
    pub l: PhoneLayout,
    pub code: String,
    pub token: String,
    pub found: Option<Followed>,
    pub not_found: bool,
    pub error: Option<String>,
    pub thanks: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FollowForm {
    code: Option<String>,
    token: Option<String>,
    score: Option<u8>,
    comment: Option<String>,
}

async fn follow_render(
    st: &UiState,
    ctx: &PhoneCtx,
    code: String,
    token: String,
    error: Option<String>,
    thanks: bool,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let tz = st.app.calendar().config().tz;
    let (found, not_found) = if code.is_empty() && token.is_empty() {
        (None, false)
    } else {
        match st.app.app.followed_case(&code, &token).await {
            Ok((case, events)) => {
                let ids = st
                    .app
                    .app
                    .attachment_public_ids(case.id)
                    .await
                    .map_err(|e| UiError::Internal(e.to_string()))
                    .lang(lang)?;
                let v = cityops_web::public_case_view(&case, &events, &ids);
                let with_token = |u: &String| url_with(u, &[("token", token.clone())]);
                (
                    Some(Followed {
                        code: v.code.clone(),
                        status: lang.phone_status(v.status),
                        steps: v
                            .timeline
                            .iter()
                            .map(|s| Step {
                                at: s.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                                status: lang.phone_status(s.status),
                            })
                            .collect(),
                        before: v.before_photos.iter().map(with_token).collect(),
                        after: v.after_photos.iter().map(with_token).collect(),
                        rating: v.rating,
                        can_rate: v.can_rate,
                    }),
                    false,
                )
            }
            Err(e) => {
                let e = cityops_web::ApiError::from(e);
                if e.code != cityops_web::ErrorCode::NotFound {
                    return Err(UiError::Internal(e.message)).lang(lang);
                }
                (None, true)
            }
        }
    };
    let tpl = FollowPage {
        l: PhoneLayout::new(ctx, Tab::Follow, lang.phone().follow_title),
        code,
        token: if found.is_some() {
            token
        } else {
            String::new()
        },
        found,
        not_found,
        error,
        thanks,
    };
    render(StatusCode::OK, &tpl, lang)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FollowQuery {
    code: Option<String>,
}

/// `GET /m/follow?code=`: the form (the code may be filled in; the token is posted).
pub(crate) async fn follow_page(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Query(q): Query<FollowQuery>,
) -> Result<Response, PageError> {
    let code = q.code.unwrap_or_default();
    follow_render(&st, &ctx, code, String::new(), None, false).await
}

/// `POST /m/follow`: the progress of the case with this code and token.
pub(crate) async fn follow_lookup(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Form(f): Form<FollowForm>,
) -> Result<Response, PageError> {
    let code = f.code.unwrap_or_default().trim().to_string();
    let token = f.token.unwrap_or_default().trim().to_string();
    follow_render(&st, &ctx, code, token, None, false).await
}

/// `POST /m/follow/rate`: the rating of a closed case, with its token, once.
pub(crate) async fn follow_rate(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Form(f): Form<FollowForm>,
) -> Result<Response, PageError> {
    let code = f.code.unwrap_or_default().trim().to_string();
    let token = f.token.unwrap_or_default().trim().to_string();
    let score = f.score.filter(|s| (1..=5).contains(s));
    let (error, thanks) = match score {
        None => (Some(ctx.lang.phone().rate_score.to_string()), false),
        Some(s) => match st
            .app
            .app
            .rate_followed(&code, &token, s, f.comment.clone())
            .await
        {
            Ok(_) => (None, true),
            Err(e) => (Some(cityops_web::ApiError::from(e).message), false),
        },
    };
    follow_render(&st, &ctx, code, token, error, thanks).await
}
