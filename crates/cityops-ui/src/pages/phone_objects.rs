//! 码上办 (scan to act), the phone page a management object's QR label opens: `/m/o/{code}`.
//!
//! - Anyone who scans sees the object's public card: kind, name, address, the size of its
//!   responsibility zone, the latest check's result and the open rectification notices with their
//!   deadlines — nothing personal (no responsible party, no checker).
//! - The object's responsible party, logged in, gets the self-check form: the kind's checklist
//!   item by item (合格 preselected; 不合格 with a note and a photo where the item requires one),
//!   posted to `POST /m/o/{code}/self-check`.
//! - An inspector or enforcement officer whose region holds the object gets the inspection form,
//!   the same way, posted to `POST /m/o/{code}/inspection`; the phone's position
//!   (`navigator.geolocation`, WGS84) goes with it.
//!
//! Both forms carry the session's CSRF token and call `ObjectService::self_check`/`inspect`
//! (who may check what, the checklist, photo claims and the position check are decided there).
//! Photos are uploaded first by `phone_objects.js` (`POST /api/v1/attachments`, which strips
//! their metadata); the form then names them. After a check the browser is sent back to the page
//! with `?check={id}`, which shows what the check did: items failing, the scan position (flagged
//! when far), the discrepancies with the latest self-check, the rectifications it opened or
//! closed and the object's credibility. A refused check shows the page again with the reason and
//! the answers kept.
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_app::ServiceError;
use cityops_app::objects::{CheckInput, CheckItemInput};
use cityops_domain::PageRequest;
use cityops_domain::objects::{CheckKind, Evidence, ObjectCode, may_check};
use cityops_store::{RectificationFilter, StoredObject};
use serde::Deserialize;

use super::cases::service_error;
use super::objects::local;
use crate::UiState;
use crate::error::{PageError, WithLang};
use crate::i18n_objects::ObjectsTr;
use crate::pages::phone::{PhoneCtx, PhoneLayout, Tab};
use crate::pages::{render, see_other};
use crate::util::url_with;

/// One checklist item of a form, with the answer given (合格 by default).
pub(crate) struct FormItem {
    pub code: String,
    pub text: String,
    pub photo_required: bool,
    pub passed: bool,
    pub note: String,
    pub photos: Vec<String>,
}

/// The items of one checklist category.
pub(crate) struct FormGroup {
    pub name: String,
    pub items: Vec<FormItem>,
}

/// An open rectification as the public sees it.
pub(crate) struct PublicRect {
    pub item_code: String,
    pub item_text: String,
    pub stage: &'static str,
    pub stage_key: &'static str,
    pub due: String,
    pub notices: Vec<String>,
}

/// What a check just did.
pub(crate) struct Outcome {
    pub title: &'static str,
    pub counts: String,
    /// (text, far).
    pub position: Option<(String, bool)>,
    /// (item code, item text, discrepancy).
    pub discrepancies: Vec<(String, String, &'static str)>,
    pub opened: String,
    pub closed: String,
    pub credibility: Option<String>,
}

#[derive(Template)]
#[template(path = "phone_object.html")]
pub(crate) struct ScanPage {
    pub l: PhoneLayout,
    pub o: &'static ObjectsTr,
    pub code: String,
    pub grouped: String,
    pub name: String,
    pub kind: &'static str,
    pub address: String,
    pub zone: String,
    pub lng: f64,
    pub lat: f64,
    pub latest: Option<String>,
    pub open: Vec<PublicRect>,
    pub signed_in: bool,
    pub login_url: String,
    /// `self_check`, `inspection` or empty (no form).
    pub form: &'static str,
    pub form_action: String,
    pub groups: Vec<FormGroup>,
    pub outcome: Option<Outcome>,
    pub error: Option<String>,
    pub strings: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScanQuery {
    check: Option<String>,
}

/// The form the user may fill on `object`, if any.
fn form_of(ctx: &PhoneCtx, object: Option<&StoredObject>) -> Option<CheckKind> {
    let (user, object) = (ctx.user.as_ref()?, object?);
    [CheckKind::SelfCheck, CheckKind::Inspection]
        .into_iter()
        .find(|k| may_check(*k, user, &object.object))
}

/// Answers given: item → (passed, note, photos).
type Answers = HashMap<String, (bool, String, Vec<String>)>;

fn groups(st: &UiState, o: &ObjectsTr, object: &StoredObject, answers: &Answers) -> Vec<FormGroup> {
    let lists = st.app.objects.checklists();
    let zh = std::ptr::eq(o, crate::Lang::Zh.objects());
    let mut out: Vec<FormGroup> = Vec::new();
    for item in lists.checklist_for(object.object.kind) {
        let name = lists
            .category(&item.category)
            .map(|c| {
                if zh {
                    c.name_zh.clone()
                } else {
                    c.name_en.clone()
                }
            })
            .unwrap_or_default();
        let (passed, note, photos) =
            answers
                .get(&item.code)
                .cloned()
                .unwrap_or((true, String::new(), Vec::new()));
        let fi = FormItem {
            code: item.code.clone(),
            text: item.text.clone(),
            photo_required: item.evidence == Evidence::PhotoRequired,
            passed,
            note,
            photos,
        };
        match out.last_mut() {
            Some(g) if g.name == name => g.items.push(fi),
            _ => out.push(FormGroup {
                name,
                items: vec![fi],
            }),
        }
    }
    out
}

fn strings(o: &ObjectsTr) -> String {
    crate::pages::script_json(&serde_json::json!({
        "uploading": o.m_uploading,
        "upload_failed": o.m_upload_failed,
        "need_photo": o.m_need_photo,
        "locating": o.m_locating,
        "located": o.m_located,
        "locate_failed": o.m_locate_failed,
    }))
}

/// What the check `id` of the object did, read back (the latest checks and the object's records).
async fn outcome(
    st: &UiState,
    ctx: &PhoneCtx,
    o: &'static ObjectsTr,
    code: &ObjectCode,
    id: i64,
) -> Result<Option<Outcome>, ServiceError> {
    let Some(user) = &ctx.user else {
        return Ok(None);
    };
    let svc = &st.app.objects;
    let checks = svc
        .checks(
            user,
            code,
            None,
            PageRequest {
                page: 1,
                page_size: 20,
            },
        )
        .await?;
    let Some(c) = checks.items.into_iter().find(|c| c.id == id) else {
        return Ok(None);
    };
    let records = svc
        .rectifications(
            user,
            RectificationFilter {
                object: Some(code.clone()),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                page_size: 200,
            },
        )
        .await?;
    let opened = records
        .items
        .iter()
        .filter(|r| r.opened_by_check == Some(id))
        .count();
    let closed = records
        .items
        .iter()
        .filter(|r| r.closed_by_check == Some(id))
        .count();
    let credibility = match c.check.kind {
        CheckKind::Inspection => Some(ObjectsTr::n(
            o.m_credibility,
            o.credibility(svc.credibility(code).await?),
        )),
        CheckKind::SelfCheck => None,
    };
    let lists = svc.checklists();
    Ok(Some(Outcome {
        title: match c.check.kind {
            CheckKind::SelfCheck => o.m_done_self,
            CheckKind::Inspection => o.m_done_insp,
        },
        counts: o.done_counts(c.check.results.len(), c.check.failing().count()),
        position: c
            .position_check
            .map(|p| (o.scan_position(p.distance_m, p.far), p.far)),
        discrepancies: c
            .comparison
            .iter()
            .flat_map(|cmp| cmp.discrepancies.iter())
            .map(|x| {
                (
                    x.item_code.clone(),
                    lists
                        .item(&x.item_code)
                        .map(|i| i.text.clone())
                        .unwrap_or_default(),
                    o.discrepancy(x.kind),
                )
            })
            .collect(),
        opened: if opened > 0 {
            ObjectsTr::n(o.m_opened, opened)
        } else {
            String::new()
        },
        closed: if closed > 0 {
            ObjectsTr::n(o.m_closed, closed)
        } else {
            String::new()
        },
        credibility,
    }))
}

/// Renders the page (the form's answers and an error when a check was refused).
async fn page(
    st: &UiState,
    ctx: &PhoneCtx,
    code: &ObjectCode,
    check: Option<i64>,
    answers: &Answers,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let o = lang.objects();
    let svc = &st.app.objects;
    let card = match svc.public_card(code).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return not_found(ctx).await,
        Err(e) => return Err(service_error(e)).lang(lang),
    };
    // The object as the signed-in user sees it (none: the public card only).
    let object = match &ctx.user {
        Some(u) => svc.get(u, code).await.ok(),
        None => None,
    };
    let form = form_of(ctx, object.as_ref());
    let lists = svc.checklists();
    let c = &card.card;
    let open = card
        .open_rectifications
        .iter()
        .map(|r| PublicRect {
            item_code: r.item_code.clone(),
            item_text: lists
                .item(&r.item_code)
                .map(|i| i.text.clone())
                .unwrap_or_default(),
            stage: o.stage(r.stage),
            stage_key: r.stage.as_str(),
            due: r.due.map(|d| local(st, d)).unwrap_or_default(),
            notices: r
                .notices
                .iter()
                .map(|n| o.notice(n.stage, &local(st, n.sent_at), &local(st, n.due)))
                .collect(),
        })
        .collect();
    let outcome = match check {
        Some(id) => outcome(st, ctx, o, code, id)
            .await
            .map_err(service_error)
            .lang(lang)?,
        None => None,
    };
    let path = format!("/m/o/{code}");
    let tpl = ScanPage {
        l: PhoneLayout::new(ctx, Tab::Object, o.m_title),
        o,
        code: code.to_string(),
        grouped: code.grouped(),
        name: c.name.clone(),
        kind: o.kind(c.kind),
        address: c.address.clone(),
        zone: match &c.zone {
            Some(z) => ObjectsTr::n(
                o.zone_area,
                crate::util::fmt_int(z.area_m2().round() as u64),
            ),
            None => o.zone_none.to_string(),
        },
        lng: c.point.lng,
        lat: c.point.lat,
        latest: card.latest.map(|l| {
            format!(
                "{} · {} · {}",
                local(st, l.at),
                o.check_kind(l.kind),
                o.summary(l.items, l.failing)
            )
        }),
        open,
        signed_in: ctx.user.is_some(),
        login_url: url_with("/login", &[("next", path.clone())]),
        form: match form {
            Some(CheckKind::SelfCheck) => "self_check",
            Some(CheckKind::Inspection) => "inspection",
            None => "",
        },
        form_action: match form {
            Some(CheckKind::SelfCheck) => format!("{path}/self-check"),
            Some(CheckKind::Inspection) => format!("{path}/inspection"),
            None => String::new(),
        },
        groups: match (&object, form) {
            (Some(ob), Some(_)) => groups(st, o, ob, answers),
            _ => Vec::new(),
        },
        outcome,
        error,
        strings: strings(o),
    };
    render(status, &tpl, lang)
}

async fn not_found(ctx: &PhoneCtx) -> Result<Response, PageError> {
    let o = ctx.lang.objects();
    render(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            l: PhoneLayout::new(ctx, Tab::Object, o.m_title),
            text: o.not_found,
        },
        ctx.lang,
    )
}

#[derive(Template)]
#[template(
    source = r#"{% extends "phone_base.html" %}{% block content %}<p class="m-note err" role="alert" id="m-object-missing">{{ text }}</p>{% endblock %}"#,
    ext = "html"
)]
pub(crate) struct NotFoundPage {
    pub l: PhoneLayout,
    pub text: &'static str,
}

/// `GET /m/o/{code}`
pub(crate) async fn scan_page(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Path(code): Path<String>,
    Query(q): Query<ScanQuery>,
) -> Result<Response, PageError> {
    let Ok(code) = ObjectCode::parse(&code) else {
        return not_found(&ctx).await;
    };
    let check = q.check.as_deref().and_then(|c| c.trim().parse().ok());
    page(
        &st,
        &ctx,
        &code,
        check,
        &Answers::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The answers of a posted form: `r.{item}` = `pass`|`fail`, `n.{item}` the note, `p.{item}` a
/// photo's public id (repeated), `lng`/`lat`/`crs` the position.
fn parse_form(fields: &[(String, String)]) -> (CheckInput, Answers) {
    let mut order: Vec<String> = Vec::new();
    let mut answers: Answers = HashMap::new();
    let mut input = CheckInput::default();
    for (k, v) in fields {
        let v = v.trim();
        if let Some(item) = k.strip_prefix("r.") {
            if !matches!(v, "pass" | "fail") {
                continue;
            }
            if !answers.contains_key(item) {
                order.push(item.to_string());
            }
            answers.entry(item.to_string()).or_default().0 = v == "pass";
        } else if let Some(item) = k.strip_prefix("n.") {
            answers.entry(item.to_string()).or_default().1 = v.to_string();
        } else if let Some(item) = k.strip_prefix("p.") {
            if !v.is_empty() {
                answers
                    .entry(item.to_string())
                    .or_default()
                    .2
                    .push(v.to_string());
            }
        } else {
            match k.as_str() {
                "lng" => input.lng = v.parse().ok().filter(|x: &f64| x.is_finite()),
                "lat" => input.lat = v.parse().ok().filter(|x: &f64| x.is_finite()),
                "crs" if !v.is_empty() => input.crs = Some(v.to_string()),
                _ => {}
            }
        }
    }
    if input.lng.is_none() || input.lat.is_none() {
        input.lng = None;
        input.lat = None;
    }
    input.results = order
        .iter()
        .map(|item| {
            let (passed, note, photos) = answers[item].clone();
            CheckItemInput {
                item_code: item.clone(),
                passed,
                note: (!note.is_empty()).then_some(note),
                photos,
            }
        })
        .collect();
    (input, answers)
}

async fn post_check(
    st: UiState,
    ctx: PhoneCtx,
    code: String,
    fields: Vec<(String, String)>,
    kind: CheckKind,
) -> Result<Response, PageError> {
    let Ok(code) = ObjectCode::parse(&code) else {
        return not_found(&ctx).await;
    };
    let Some(user) = ctx.user.clone() else {
        return Ok(see_other(&url_with(
            "/login",
            &[("next", format!("/m/o/{code}"))],
        )));
    };
    let o = ctx.lang.objects();
    let (input, answers) = parse_form(&fields);
    let svc = &st.app.objects;
    let done = match kind {
        CheckKind::SelfCheck => svc.self_check(&user, &code, input).await,
        CheckKind::Inspection => svc.inspect(&user, &code, input).await,
    };
    match done {
        Ok(out) => Ok(see_other(&format!("/m/o/{code}?check={}", out.check.id))),
        Err(ServiceError::NotFound(_)) => not_found(&ctx).await,
        Err(e @ ServiceError::Store(_)) => Err(service_error(e)).lang(ctx.lang),
        Err(e) => {
            let message = match e {
                ServiceError::Forbidden(_) => o.m_no_action.to_string(),
                other => cityops_web::ApiError::from(other).message,
            };
            page(
                &st,
                &ctx,
                &code,
                None,
                &answers,
                Some(format!("{}：{message}", o.m_failed)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /m/o/{code}/self-check`
pub(crate) async fn self_check(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    post_check(st, ctx, code, fields, CheckKind::SelfCheck).await
}

/// `POST /m/o/{code}/inspection`
pub(crate) async fn inspection(
    State(st): State<UiState>,
    ctx: PhoneCtx,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    post_check(st, ctx, code, fields, CheckKind::Inspection).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_form_becomes_the_services_input() {
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        let (input, answers) = parse_form(&[
            f("csrf_token", "x"),
            f("r.0101", "pass"),
            f("r.0301", "fail"),
            f("n.0301", " 油烟净化器未开启 "),
            f("p.0301", "a-photo"),
            f("p.0301", ""),
            f("r.0401", "maybe"),
            f("lng", "114.41"),
            f("lat", "23.11"),
            f("crs", "wgs84"),
        ]);
        assert_eq!(input.results.len(), 2);
        assert_eq!(input.results[0].item_code, "0101");
        assert!(input.results[0].passed);
        let r = &input.results[1];
        assert_eq!(
            (r.passed, r.note.as_deref(), r.photos.clone()),
            (false, Some("油烟净化器未开启"), vec!["a-photo".to_string()])
        );
        assert_eq!((input.lng, input.lat), (Some(114.41), Some(23.11)));
        assert!(answers.contains_key("0301"));
        let (input, _) = parse_form(&[f("r.0101", "pass"), f("lng", "NaN"), f("lat", "23")]);
        assert_eq!((input.lng, input.lat), (None, None));
    }
}
