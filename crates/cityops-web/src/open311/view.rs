//! The answers' fields, built once for both formats ([`Node`]s): services, service definitions,
//! requests (with the extensions' notes and attributes), updates, the discovery document.
//!
//! Privacy: a request's answer holds no reporter data — no contact, name, mail, phone or
//! account — only the case's public facts; its `status_notes` and notes are the steps of the
//! public timeline ([`crate::api::public::public_timeline`], what the citizens' follow view
//! shows: no comments, no actors); phone numbers in the description are masked.
use chrono_tz::Tz;
use cityops_app::open311::{Service, is_note};
use cityops_domain::open311::{AttributeDef, NoteType, RequestStatus, format_datetime};
use cityops_domain::privacy::mask_phone_numbers;
use cityops_store::{Open311Record, Open311Update};

use super::format::Node;
use crate::api::public::public_timeline;

/// How requests are written.
pub(crate) struct RequestCtx<'a> {
    pub tz: Tz,
    pub english: bool,
    /// `extensions=true`: notes and extended attributes.
    pub extensions: bool,
    pub services: &'a [Service],
}

/// A `service` of the service list.
pub(crate) fn service(s: &Service, answer_tokens: bool, english: bool) -> Node {
    Node::Obj(vec![
        ("service_code", Node::text(s.code.to_string())),
        ("service_name", Node::text(s.name_in(english))),
        ("description", Node::text(s.description.clone())),
        ("metadata", Node::Bool(true)),
        (
            "type",
            Node::text(if answer_tokens { "batch" } else { "realtime" }),
        ),
        ("keywords", Node::text(s.keywords.clone())),
        ("group", Node::text(s.group.clone())),
    ])
}

/// A `service_definition`: the service's questions.
pub(crate) fn definition(s: &Service, attributes: &[AttributeDef], english: bool) -> Node {
    let attribute = |a: &AttributeDef| {
        Node::Obj(vec![
            ("variable", Node::Bool(true)),
            ("code", Node::text(a.code)),
            ("datatype", Node::text(a.datatype.as_str())),
            ("required", Node::Bool(a.required)),
            ("datatype_description", Node::opt(a.datatype_description)),
            ("order", Node::Int(i64::from(a.order))),
            (
                "description",
                Node::text(if english {
                    a.description_en
                } else {
                    a.description_zh
                }),
            ),
            (
                "values",
                Node::List(
                    "value",
                    a.values
                        .iter()
                        .map(|v| {
                            Node::Obj(vec![
                                ("key", Node::text(v.key)),
                                (
                                    "name",
                                    Node::text(if english { v.name_en } else { v.name_zh }),
                                ),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    };
    Node::Obj(vec![
        ("service_code", Node::text(s.code.to_string())),
        (
            "attributes",
            Node::List("attribute", attributes.iter().map(attribute).collect()),
        ),
    ])
}

/// A `request` of `GET requests` and `GET requests/{id}`.
pub(crate) fn request(rec: &Open311Record, ctx: &RequestCtx<'_>) -> Node {
    let case = &rec.case;
    let service = case
        .category_kind
        .zip(case.category_code.as_deref())
        .and_then(|(kind, code)| {
            ctx.services
                .iter()
                .find(|s| s.code.kind == kind && s.code.code == code)
        });
    let notes: Vec<_> = public_timeline(&rec.events)
        .into_iter()
        .filter(|s| is_note(&s.action))
        .collect();
    let status = RequestStatus::of(case.status);
    let updated = match case.status {
        cityops_domain::case::CaseStatus::Closed => case.closed_at.unwrap_or(case.updated_at),
        _ => case.updated_at,
    };
    let media_url = rec
        .meta
        .as_ref()
        .and_then(|m| m.media_urls.first().cloned());
    let mut fields = vec![
        ("service_request_id", Node::text(case.code.clone())),
        ("status", Node::text(status.as_str())),
        ("status_notes", Node::opt(notes.last().map(|n| n.note()))),
        (
            "service_name",
            Node::opt(service.map(|s| s.name_in(ctx.english).to_string())),
        ),
        (
            "service_code",
            Node::opt(service.map(|s| s.code.to_string())),
        ),
        (
            "description",
            Node::opt(Some(mask_phone_numbers(&case.description)).filter(|d| !d.is_empty())),
        ),
        ("agency_responsible", Node::opt(rec.department_name.clone())),
        (
            "service_notice",
            Node::opt(service.and_then(|s| s.notice.clone())),
        ),
        (
            "requested_datetime",
            Node::text(format_datetime(case.created_at, ctx.tz)),
        ),
        (
            "updated_datetime",
            Node::text(format_datetime(updated, ctx.tz)),
        ),
        (
            "expected_datetime",
            Node::opt(case.deadline.map(|d| format_datetime(d, ctx.tz))),
        ),
        ("address", Node::opt(case.location.address.clone())),
        ("address_id", Node::Text(None)),
        ("zipcode", Node::Text(None)),
        ("lat", Node::Num(case.location.lat)),
        ("long", Node::Num(case.location.lng)),
        ("media_url", Node::opt(media_url)),
    ];
    if ctx.extensions {
        let answers: Vec<Node> = rec
            .meta
            .as_ref()
            .and_then(|m| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&m.attributes)
                    .ok()
            })
            .map(|map| {
                map.into_iter()
                    .flat_map(|(code, values)| {
                        let values: Vec<String> = match values {
                            serde_json::Value::Array(a) => a
                                .into_iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                            serde_json::Value::String(s) => vec![s],
                            _ => Vec::new(),
                        };
                        values.into_iter().map(move |v| {
                            Node::Obj(vec![
                                ("code", Node::text(code.clone())),
                                ("value", Node::text(v)),
                            ])
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let channel = if rec.meta.is_some() {
            "open311"
        } else {
            case.source.as_str()
        };
        fields.push((
            "extended_attributes",
            Node::Obj(vec![
                ("channel", Node::text(channel)),
                ("case_status", Node::text(case.status.as_str())),
                ("case_status_name", Node::text(case.status.name_zh())),
                (
                    "district_code",
                    Node::opt(case.location.district_code.clone()),
                ),
                ("attributes", Node::List("attribute", answers)),
            ]),
        ));
        fields.push((
            "notes",
            Node::List(
                "note",
                notes
                    .iter()
                    .map(|n| {
                        Node::Obj(vec![
                            ("datetime", Node::text(format_datetime(n.at, ctx.tz))),
                            ("description", Node::text(n.note())),
                            (
                                "type",
                                Node::text(NoteType::of(&n.action, n.status).as_str()),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    Node::Obj(fields)
}

/// A `request_update` of `GET servicerequestupdates` (mySociety): the step, the status after
/// it in Open311's words and ours (`external_status_code`).
pub(crate) fn update(u: &Open311Update, tz: Tz) -> Node {
    let step = public_timeline(std::slice::from_ref(&u.event))
        .pop()
        .map(|s| (s.note(), s.status));
    let (note, status) = step.unwrap_or_else(|| (String::new(), u.event.event.to_status));
    Node::Obj(vec![
        ("update_id", Node::text(u.event.seq.to_string())),
        ("service_request_id", Node::text(u.case_code.clone())),
        ("status", Node::text(RequestStatus::of(status).as_str())),
        ("description", Node::text(note)),
        (
            "updated_datetime",
            Node::text(format_datetime(u.event.event.at, tz)),
        ),
        ("media_url", Node::Text(None)),
        ("external_status_code", Node::text(status.as_str())),
    ])
}

/// The discovery document.
pub(crate) fn discovery(url: String, contact: &str, key_service: &str) -> Node {
    let changeset = super::CHANGESET;
    Node::Obj(vec![
        ("changeset", Node::text(changeset)),
        ("contact", Node::text(contact)),
        ("key_service", Node::text(key_service)),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Obj(vec![
                    (
                        "specification",
                        Node::text(cityops_domain::open311::SPECIFICATION),
                    ),
                    ("url", Node::text(url)),
                    ("changeset", Node::text(changeset)),
                    ("type", Node::text("production")),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![Node::text("text/xml"), Node::text("application/json")],
                        ),
                    ),
                ])],
            ),
        ),
    ])
}
