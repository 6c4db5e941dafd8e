//! 案件详情 (`/cases/{id}`): every field of a case, a small map (the point, its grid, open cases
//! nearby), the before and after photos, the timeline of events, the deadline and light in
//! words, and the actions the user may take now as forms. A form posts to
//! `/cases/{id}/act/{action}` (CSRF token in the form), which calls `CaseService::act`: success
//! redirects back to the page with a confirmation (htmx swaps the page's main part in place),
//! a refused action shows the page again with the error next to its form (422 etc.).
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use cityops_app::{Catalogue, ServiceError};
use cityops_domain::calendar::{Light, WorkingCalendar};
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseEvent, CaseStatus, CaseVisibility, Stage,
    Urgency,
};
use cityops_domain::privacy::ContactDisclosure;
use cityops_domain::{CategoryKind, LimitUnit, PageRequest};
use cityops_store::{CaseQuery, ContactAccessVia};
use serde::Deserialize;
use serde_json::json;

use super::cases::{
    TimeLeft, category_name, department_name, fmt_local, light_class, log_contacts, service_error,
    time_left, why_suggested,
};
use super::{render, script_json, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::i18n_cases::SliceTr;
use crate::layout::{Layout, Section};

/// A label and value of the case's field list.
pub(crate) struct Kv {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
}

/// One event of the timeline.
pub(crate) struct TimelineItem {
    pub at: String,
    pub who: String,
    pub role: String,
    pub what: String,
    pub to_status: &'static str,
    pub comment: String,
    pub photos: usize,
}

/// A photo with its thumbnail.
pub(crate) struct Photo {
    pub url: String,
    pub thumb: String,
    pub alt: String,
}

/// A field of an action form.
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `textarea`, `select`, `datetime`, `number`, `photo`, `radio`
    pub kind: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<(String, String, bool)>,
    pub hint: &'static str,
}

/// The form of one allowed action.
pub(crate) struct ActionForm {
    pub action: &'static str,
    pub title: &'static str,
    pub button: String,
    pub fields: Vec<Field>,
    pub error: Option<String>,
    pub open: bool,
    pub danger: bool,
}

/// The master case beside a duplicate, for merging.
pub(crate) struct Compare {
    pub id: i64,
    pub code: String,
    pub status: &'static str,
    pub category: String,
    pub address: String,
    pub description: String,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "cases_detail.html")]
pub(crate) struct DetailPage {
    pub l: Layout,
    pub c: &'static SliceTr,
    pub id: i64,
    pub code: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub light: &'static str,
    pub light_label: &'static str,
    pub left: TimeLeft,
    pub deadline_text: String,
    pub handle_text: String,
    pub description: String,
    pub fields: Vec<Kv>,
    pub timeline: Vec<TimelineItem>,
    pub before: Vec<Photo>,
    pub after: Vec<Photo>,
    pub forms: Vec<ActionForm>,
    pub done: Option<String>,
    pub map_config: String,
    pub compare: Option<Compare>,
    pub this_compare: Option<Compare>,
}

/// Parameters of the page: `done` names the action just taken (the confirmation).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailParams {
    pub done: Option<String>,
}

/// What a failed action leaves on the page: its form's error and the values typed.
struct Failed {
    action: CaseAction,
    message: String,
    values: HashMap<String, String>,
}

/// `GET /cases/{id}`
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(p): Query<DetailParams>,
) -> Result<Response, PageError> {
    let done = p.done.as_deref().and_then(|a| a.parse::<CaseAction>().ok());
    show(&st, &ctx, &id, done, None, StatusCode::OK).await
}

async fn not_found(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let t = ctx.lang.cases();
    status_page(
        st,
        ctx,
        StatusCode::NOT_FOUND,
        Section::Cases,
        t.not_found_title,
        t.not_found_text,
    )
    .await
}

async fn show(
    st: &UiState,
    ctx: &Ctx,
    id: &str,
    done: Option<CaseAction>,
    failed: Option<Failed>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.cases();
    let Ok(id) = id.parse::<i64>() else {
        return not_found(st, ctx).await;
    };
    let vis = CaseVisibility::for_user(&ctx.user);
    let Some(case) = st.app.store.get_case(id, &vis).await.lang(lang)? else {
        return not_found(st, ctx).await;
    };
    let shows_contact =
        case.contact.is_some() && ContactDisclosure::for_user(&ctx.user, case.reporter_id).logged();
    if shows_contact {
        log_contacts(
            st,
            &ctx.user,
            std::slice::from_ref(&case),
            ContactAccessVia::Case,
        )
        .await
        .lang(lang)?;
    }
    let now = st.app.clock.now();
    let cal = st.app.calendar();
    let cat = st
        .app
        .app
        .catalogue()
        .await
        .map_err(service_error)
        .lang(lang)?;
    let light = case::current_light(&case, now, &cal);
    let events = st
        .app
        .store
        .case_events(id, &vis)
        .await
        .lang(lang)?
        .unwrap_or_default();
    let attachments = st.app.store.case_attachments(id).await.lang(lang)?;
    let public: HashMap<i64, String> = attachments
        .iter()
        .map(|a| (a.id, a.public_id.clone()))
        .collect();

    // Names of the events' actors: one lookup per distinct actor (a case has a handful).
    let mut names: HashMap<i64, String> = HashMap::new();
    for e in &events {
        if let Some(a) = e.event.actor_id
            && !names.contains_key(&a)
        {
            let name = st
                .app
                .store
                .get_user(a)
                .await
                .lang(lang)?
                .map(|u| {
                    if u.display_name.trim().is_empty() {
                        u.username
                    } else {
                        u.display_name
                    }
                })
                .unwrap_or_else(|| format!("#{a}"));
            names.insert(a, name);
        }
    }

    let photo = |aid: &i64, n: usize| {
        public.get(aid).map(|p| Photo {
            url: format!("/api/v1/attachments/{p}"),
            thumb: format!("/api/v1/attachments/{p}/thumb"),
            alt: t.photo_alt(n),
        })
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for e in &events {
        let target = if e.event.action == CaseAction::Handle.as_str() {
            &mut after
        } else {
            &mut before
        };
        for aid in &e.event.attachments {
            let n = target.len() + 1;
            if let Some(p) = photo(aid, n) {
                target.push(p);
            }
        }
    }

    let timeline = events
        .iter()
        .rev()
        .map(|e| timeline_item(lang, &cal, &names, e))
        .collect();

    let fields = case_fields(st, lang, &cat, &cal, &case, &ctx.user);
    let (deadline_text, handle_text) = deadline_words(lang, &case, light, now, &cal);

    // The actions of the user now, as forms.
    let actor = Actor::user(&ctx.user);
    let allowed = case::allowed_actions(&case, &actor, now, &st.app.app.config().workflow);
    let needs_depts = allowed.contains(&CaseAction::Dispatch);
    let depts = if needs_depts {
        st.app
            .store
            .list_departments(
                None,
                PageRequest {
                    page: 1,
                    page_size: 1000,
                },
            )
            .await
            .lang(lang)?
            .items
    } else {
        Vec::new()
    };
    let mut forms: Vec<ActionForm> = allowed
        .iter()
        .map(|a| action_form(lang, &cat, &case, *a, &depts, failed.as_ref()))
        .collect();
    if let Some(first) = forms.iter_mut().find(|f| !f.danger) {
        first.open = true;
    }
    if let Some(f) = failed.as_ref() {
        for form in &mut forms {
            form.open = form.action == f.action.as_str();
        }
    }
    // An action that is no longer allowed (someone else was faster): its error on top.
    let done_text = match (&failed, done) {
        (Some(f), _) if !allowed.contains(&f.action) => Some(format!(
            "{} {}",
            t.action_failed(t.action(f.action)),
            f.message
        )),
        (_, Some(a)) => Some(t.action_done(t.action(a))),
        _ => None,
    };

    // The master case beside a duplicate.
    let master = match case.duplicate_of {
        Some(m) if allowed.contains(&CaseAction::Merge) => {
            st.app.store.get_case(m, &vis).await.lang(lang)?
        }
        _ => None,
    };
    let compare_of = |c: &Case| Compare {
        id: c.id,
        code: c.code.clone(),
        status: t.status(c.status),
        category: category_name(&cat, c),
        address: c.location.address.clone().unwrap_or_default(),
        description: c.description.clone(),
        reported: fmt_local(&cal, c.created_at),
    };
    let compare = master.as_ref().map(compare_of);
    let this_compare = master.as_ref().map(|_| compare_of(&case));

    // The map: the point, its grid and open cases nearby (within the scope).
    let grid = match case.location.grid_code.as_deref() {
        Some(g) => st
            .app
            .store
            .get_region(g)
            .await
            .lang(lang)?
            .and_then(|r| r.geometry)
            .and_then(|g| serde_json::from_str::<serde_json::Value>(&g).ok()),
        None => None,
    };
    let (lng, lat) = (case.location.lng, case.location.lat);
    let mut near = CaseQuery::new(now);
    near.bbox = Some([lng - 0.004, lat - 0.003, lng + 0.004, lat + 0.003]);
    near.statuses = CaseStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect();
    let nearby = st
        .app
        .store
        .list_cases(
            &near,
            &vis,
            PageRequest {
                page: 1,
                page_size: 30,
            },
        )
        .await
        .lang(lang)?;
    let nearby: Vec<serde_json::Value> = nearby
        .items
        .iter()
        .filter(|c| c.id != case.id)
        .map(|c| {
            json!({
                "id": c.id, "code": c.code, "lng": c.location.lng, "lat": c.location.lat,
                "light": case::current_light(c, now, &cal).as_str(),
                "category": category_name(&cat, c),
            })
        })
        .collect();
    let map_config = script_json(&json!({
        "lng": lng, "lat": lat, "code": case.code,
        "light": light.as_str(),
        "grid": grid,
        "nearby": nearby,
        "t": { "this": t.map_this, "nearby": t.map_nearby, "grid": t.map_grid },
    }));

    let title = format!("{} {}", t.case_title, case.code);
    let l = Layout::new(st, ctx, Section::Cases, title)
        .await
        .with_leaflet();
    render(
        status,
        &DetailPage {
            l,
            c: t,
            id: case.id,
            code: case.code.clone(),
            status: t.status(case.status),
            status_key: case.status.as_str(),
            light: light_class(light),
            light_label: t.light(light),
            left: time_left(lang, &case, light, now, &cal),
            deadline_text,
            handle_text,
            description: case.description.clone(),
            fields,
            timeline,
            before,
            after,
            forms,
            done: done_text,
            map_config,
            compare,
            this_compare,
        },
        lang,
    )
}

fn timeline_item(
    lang: Lang,
    cal: &WorkingCalendar,
    names: &HashMap<i64, String>,
    e: &CaseEvent,
) -> TimelineItem {
    let t = lang.cases();
    let ev = &e.event;
    TimelineItem {
        at: fmt_local(cal, ev.at),
        who: match ev.actor_id {
            Some(a) => names.get(&a).cloned().unwrap_or_else(|| format!("#{a}")),
            None => t.system.to_string(),
        },
        role: ev
            .actor_role
            .map(|r| lang.role(r).to_string())
            .unwrap_or_default(),
        what: t.event_action(&ev.action),
        to_status: t.status(ev.to_status),
        comment: ev.comment.clone().unwrap_or_default(),
        photos: ev.attachments.len(),
    }
}

/// Every field of the case, named.
fn case_fields(
    st: &UiState,
    lang: Lang,
    cat: &Catalogue,
    cal: &WorkingCalendar,
    case: &Case,
    user: &cityops_domain::User,
) -> Vec<Kv> {
    let t = lang.cases();
    let region = |code: &Option<String>| match code {
        Some(c) => st
            .app
            .region_name(c)
            .map_or_else(|| c.clone(), |n| lang.named(n, c)),
        None => "—".to_string(),
    };
    let kv = |label, value: String| Kv {
        label,
        value,
        href: None,
    };
    let yes_no = |b: bool| if b { t.yes } else { t.no }.to_string();
    let mut out = vec![
        kv(t.col_code, case.code.clone()),
        kv(t.f_status, t.status(case.status).to_string()),
        kv(t.f_source, t.source(case.source).to_string()),
        kv(
            t.col_category,
            match case.category_code.as_deref() {
                Some(code) => lang.named(&category_name(cat, case), code),
                None => "—".to_string(),
            },
        ),
        kv(t.urgency_label, t.urgency(case.urgency).to_string()),
        kv(
            t.col_address,
            case.location.address.clone().unwrap_or_else(|| "—".into()),
        ),
        kv(
            t.coords,
            format!("{:.6}, {:.6}", case.location.lng, case.location.lat),
        ),
        kv(t.grid, region(&case.location.grid_code)),
        kv(t.community, region(&case.location.community_code)),
        kv(t.street, region(&case.location.street_code)),
        kv(t.district, region(&case.location.district_code)),
        kv(t.col_department, department_name(cat, case.department_id)),
        kv(
            t.col_suggested,
            format!(
                "{} — {}",
                department_name(cat, case.suggested_department_id),
                why_suggested(st, lang, cat, case)
            ),
        ),
        kv(
            t.contact,
            case.contact
                .as_deref()
                .map(|c| ContactDisclosure::for_user(user, case.reporter_id).show(c))
                .unwrap_or_else(|| "—".into()),
        ),
        kv(
            t.handle_deadline,
            case.deadline
                .map_or_else(|| "—".into(), |d| fmt_local(cal, d)),
        ),
        kv(
            t.handle_limit,
            case.handle_limit.map_or_else(
                || "—".into(),
                |l| format!("{} {}", l.value, lang.limit_unit(l.unit)),
            ),
        ),
        kv(t.supervised, yes_no(case.supervised)),
        kv(t.f_overdue, yes_no(case.overdue)),
        kv(
            t.counts,
            t.counts_text(case.postpone_count, case.rework_count, case.return_count),
        ),
        kv(t.col_reported, fmt_local(cal, case.created_at)),
        kv(t.col_updated, fmt_local(cal, case.updated_at)),
    ];
    if let Some(c) = &case.component_id {
        out.push(kv(t.component, c.clone()));
    }
    if let Some(p) = &case.pending {
        out.push(kv(t.pending, t.pending_text(p, &|u| fmt_local(cal, u))));
    }
    if let Some(u) = case.suspended_until {
        out.push(kv(t.suspended_label, fmt_local(cal, u)));
    }
    if let Some(d) = case.duplicate_of {
        out.push(Kv {
            label: t.duplicate_of,
            value: format!("#{d}"),
            href: Some(format!("/cases/{d}")),
        });
    }
    if let Some(m) = case.merged_into {
        out.push(Kv {
            label: t.merged_into,
            value: format!("#{m}"),
            href: Some(format!("/cases/{m}")),
        });
    }
    if let Some(c) = case.closed_at {
        out.push(kv(t.closed_at, fmt_local(cal, c)));
    }
    if let Some(r) = case.rating {
        out.push(kv(t.rating, r.to_string()));
    }
    out
}

/// "处置时限 4 工作时，剩余 1 小时 20 分" and the handling deadline, in words.
fn deadline_words(
    lang: Lang,
    case: &Case,
    light: Light,
    now: DateTime<Utc>,
    cal: &WorkingCalendar,
) -> (String, String) {
    let t = lang.cases();
    let stage = match case.clock.as_ref() {
        Some(k) => {
            let limit = format!("{} {}", k.limit.value, lang.limit_unit(k.limit.unit));
            match k.due {
                Some(due) => {
                    let secs = cal.remaining(k.limit.unit, now, due);
                    t.stage_deadline(
                        t.stage(k.stage),
                        &limit,
                        secs,
                        k.limit.unit == LimitUnit::WorkDay,
                        &fmt_local(cal, due),
                        t.light_words(light),
                    )
                }
                None => t.stage_stopped(t.stage(k.stage), &limit),
            }
        }
        None => t.no_clock.to_string(),
    };
    let handling_now = case
        .clock
        .as_ref()
        .is_some_and(|k| k.stage == Stage::Handle);
    let handle = match (case.handle_limit, case.deadline) {
        (Some(l), Some(d)) if !handling_now => t.handle_words(
            &format!("{} {}", l.value, lang.limit_unit(l.unit)),
            &fmt_local(cal, d),
        ),
        _ => String::new(),
    };
    (stage, handle)
}

fn field(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> Field {
    Field {
        name,
        label,
        kind,
        required,
        value: String::new(),
        options: Vec::new(),
        hint: "",
    }
}

/// Which fields each action asks for: what the machine requires, and an optional comment.
fn action_form(
    lang: Lang,
    cat: &Catalogue,
    case: &Case,
    action: CaseAction,
    depts: &[cityops_domain::Department],
    failed: Option<&Failed>,
) -> ActionForm {
    use CaseAction as A;
    let t = lang.cases();
    let comment = || field("comment", t.comment, "textarea", false);
    let reason = || field("reason", t.reason, "textarea", true);
    let mut button = t.action(action).to_string();
    let fields = match action {
        A::Reject | A::Return | A::DenyPostpone | A::RequestPostpone | A::CheckFail | A::Cancel => {
            vec![reason()]
        }
        A::RequestSuspend => {
            let mut until = field("until", t.until, "datetime", true);
            until.hint = t.until_hint;
            vec![reason(), until]
        }
        A::Supervise => vec![field("comment", t.comment, "textarea", true)],
        A::Verify => {
            let mut confirmed = field("confirmed", t.confirmed, "radio", true);
            confirmed.options = vec![
                ("true".into(), t.confirmed_yes.into(), true),
                ("false".into(), t.confirmed_no.into(), false),
            ];
            let mut why = field("reason", t.reason, "textarea", false);
            why.hint = t.reason_if_no;
            vec![confirmed, why]
        }
        A::File => {
            let mut category = field("category_code", t.col_category, "text", true);
            category.value = case.category_code.clone().unwrap_or_default();
            category.hint = t.category_hint;
            let mut urgency = field("urgency", t.urgency_label, "select", true);
            urgency.options = Urgency::ALL
                .iter()
                .map(|u| {
                    (
                        u.as_str().to_string(),
                        t.urgency(*u).to_string(),
                        *u == case.urgency,
                    )
                })
                .collect();
            vec![category, urgency, comment()]
        }
        A::Dispatch => {
            let mut d = field("department_id", t.col_department, "select", true);
            d.options = depts
                .iter()
                .map(|x| {
                    (
                        x.id.to_string(),
                        x.name.clone(),
                        Some(x.id) == case.suggested_department_id,
                    )
                })
                .collect();
            if let Some(s) = case.suggested_department_id {
                button = t.dispatch_to(&department_name(cat, Some(s)));
                d.hint = t.suggested_hint;
            }
            vec![d, comment()]
        }
        A::Handle => {
            let mut photo = field("photos", t.after_photos, "photo", true);
            photo.hint = t.photo_hint;
            vec![field("comment", t.handle_comment, "textarea", false), photo]
        }
        A::Merge => {
            let mut m = field("master_case_id", t.master_case, "number", true);
            m.value = case.duplicate_of.map(|d| d.to_string()).unwrap_or_default();
            vec![m, comment()]
        }
        A::Rate => {
            let mut s = field("score", t.score, "select", true);
            s.options = (1..=5)
                .rev()
                .map(|n| (n.to_string(), n.to_string(), n == 5))
                .collect();
            vec![s, comment()]
        }
        _ => vec![comment()],
    };
    let mut form = ActionForm {
        action: action.as_str(),
        title: t.action(action),
        button,
        fields,
        error: None,
        open: false,
        danger: matches!(action, A::Cancel | A::Reject | A::Return),
    };
    if let Some(f) = failed.filter(|f| f.action == action) {
        form.error = Some(f.message.clone());
        for fl in &mut form.fields {
            if let Some(v) = f.values.get(fl.name) {
                fl.value = v.clone();
                for o in &mut fl.options {
                    o.2 = &o.0 == v;
                }
            }
        }
    }
    form
}

/// `POST /cases/{id}/act/{action}` (form fields; `photos` may repeat).
pub(crate) async fn act(
    State(st): State<UiState>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let t = lang.cases();
    let (Ok(case_id), Ok(action)) = (id.parse::<i64>(), action.parse::<CaseAction>()) else {
        return not_found(&st, &ctx).await;
    };
    let mut values: HashMap<String, String> = HashMap::new();
    let mut photos: Vec<String> = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "photos" => {
                if !v.trim().is_empty() {
                    photos.push(v.trim().to_string());
                }
            }
            "csrf_token" => {}
            _ => {
                values.insert(k, v);
            }
        }
    }
    let fail = |message: String, values: HashMap<String, String>| Failed {
        action,
        message,
        values,
    };
    let input = match parse_input(t, &st, action, &values, &photos) {
        Ok(i) => i,
        Err(msg) => {
            return show(
                &st,
                &ctx,
                &id,
                None,
                Some(fail(msg, values)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match st
        .app
        .app
        .act(&ctx.user, case_id, action, input, &photos)
        .await
    {
        Ok(stored) => {
            log_contacts(
                &st,
                &ctx.user,
                std::slice::from_ref(&stored.case),
                ContactAccessVia::Action,
            )
            .await
            .lang(lang)?;
            st.caches.queue_counts.forget(ctx.user.id);
            let to = format!("/cases/{case_id}?done={}", action.as_str());
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
        }
        Err(ServiceError::NotFound(_)) => not_found(&st, &ctx).await,
        Err(ServiceError::Store(e)) => Err(e).lang(lang),
        Err(e) => {
            let status = match &e {
                ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                ServiceError::InvalidTransition { .. } | ServiceError::Conflict(_) => {
                    StatusCode::CONFLICT
                }
                ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let message = t.service_error(&e);
            show(&st, &ctx, &id, None, Some(fail(message, values)), status).await
        }
    }
}

/// The form's values as the action's input; the first missing or malformed field is named in
/// the user's language (the machine checks again).
fn parse_input(
    t: &SliceTr,
    st: &UiState,
    action: CaseAction,
    values: &HashMap<String, String>,
    photos: &[String],
) -> Result<ActionInput, String> {
    use CaseAction as A;
    let text = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut input = ActionInput {
        comment: text("comment"),
        reason: text("reason"),
        ..ActionInput::default()
    };
    let need = |v: &Option<String>, label: &str| match v {
        Some(_) => Ok(()),
        None => Err(t.required(label)),
    };
    match action {
        A::Reject | A::Return | A::DenyPostpone | A::RequestPostpone | A::CheckFail | A::Cancel => {
            need(&input.reason, t.reason)?
        }
        A::Supervise => need(&input.comment, t.comment)?,
        A::RequestSuspend => {
            need(&input.reason, t.reason)?;
            let until = text("until").ok_or_else(|| t.required(t.until))?;
            let local = NaiveDateTime::parse_from_str(&until, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(&until, "%Y-%m-%d %H:%M"))
                .map_err(|_| t.invalid(t.until, &until))?;
            let tz = st.app.calendar().config().tz;
            input.until = Some(
                tz.from_local_datetime(&local)
                    .earliest()
                    .ok_or_else(|| t.invalid(t.until, &until))?
                    .with_timezone(&Utc),
            );
        }
        A::Verify => {
            let confirmed = match text("confirmed").as_deref() {
                None | Some("true") => true,
                Some("false") => false,
                Some(v) => return Err(t.invalid(t.confirmed, v)),
            };
            if !confirmed {
                need(&input.reason, t.reason)?;
            }
            input.confirmed = Some(confirmed);
        }
        A::File => {
            let code = text("category_code").ok_or_else(|| t.required(t.col_category))?;
            if !(code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())) {
                return Err(t.invalid(t.col_category, &code));
            }
            input.category_code = Some(code);
            input.category_kind = match text("category_kind").as_deref() {
                Some("component") => Some(CategoryKind::Component),
                Some("matter") => Some(CategoryKind::Matter),
                _ => None,
            };
            if let Some(u) = text("urgency") {
                input.urgency = Some(
                    u.parse::<Urgency>()
                        .map_err(|_| t.invalid(t.urgency_label, &u))?,
                );
            }
        }
        A::Dispatch => {
            if let Some(d) = text("department_id") {
                input.department_id = Some(
                    d.parse::<i64>()
                        .map_err(|_| t.invalid(t.col_department, &d))?,
                );
            }
        }
        A::Handle if photos.is_empty() => return Err(t.required(t.after_photos)),
        A::Merge => {
            let m = text("master_case_id").ok_or_else(|| t.required(t.master_case))?;
            input.master_case_id = Some(
                m.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| t.invalid(t.master_case, &m))?,
            );
        }
        A::Rate => {
            let s = text("score").ok_or_else(|| t.required(t.score))?;
            match s.parse::<u8>() {
                Ok(n) if (1..=5).contains(&n) => input.score = Some(n),
                _ => return Err(t.invalid(t.score, &s)),
            }
        }
        _ => {}
    }
    Ok(input)
}
