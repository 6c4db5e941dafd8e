//! The handlers of `/open311/v2/…`: parse the path, the query and the form, call the Open311
//! service, answer in the negotiated format. Every refusal is an [`Open311Error`] in that
//! format.
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use cityops_app::open311::Submission;
use cityops_domain::PageRequest;
use cityops_domain::open311::{
    self as o311, AttributeAnswer, RequestStatus, ServiceCode, parse_datetime, window,
};

use super::format::{Doc, Format, Node, Open311Error};
use super::view;
use crate::extract::ClientIp;
use crate::state::AppState;

/// A request's parameters in order: the form's first (for a POST), then the query's. An empty
/// value is the same as an absent one.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &[u8]) -> Vec<(String, String)> {
        form_urlencoded::parse(raw)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The first non-empty value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every non-empty value of `key`.
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `attribute[code]=v` and `attribute[code][]=v`, grouped by code in first-seen order.
    fn attributes(&self) -> Vec<AttributeAnswer> {
        let mut out: Vec<AttributeAnswer> = Vec::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix("attribute[") else {
                continue;
            };
            let code = rest
                .strip_suffix("][]")
                .or_else(|| rest.strip_suffix(']'))
                .unwrap_or(rest);
            match out.iter_mut().find(|a| a.code == code) {
                Some(a) => a.values.push(v.clone()),
                None => out.push(AttributeAnswer {
                    code: code.to_string(),
                    values: vec![v.clone()],
                }),
            }
        }
        out
    }

    /// A comma-separated list parameter, split and trimmed.
    fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn query_params(raw: Option<&str>) -> Params {
    Params(Params::parse(raw.unwrap_or("").as_bytes()))
}

/// The format of an answer to `name` (the last path segment).
fn format_of(name: &str, params: &Params, headers: &HeaderMap) -> (String, Format) {
    let (base, suffix) = Format::split(name);
    (
        base.to_string(),
        Format::negotiate(suffix, params.get("format"), headers),
    )
}

/// `locale=en…`: English service names and questions.
fn english(params: &Params) -> bool {
    params
        .get("locale")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"))
}

/// `?page=&page_size=` (extension): page from 1, page size 1–1000, default 1000.
fn page_of(params: &Params) -> Result<PageRequest, Open311Error> {
    let num = |key: &str, default: u32, max: u32| -> Result<u32, Open311Error> {
        match params.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "{key} {v:?}: expected a whole number 1–{max}"
                    ))
                }),
        }
    };
    Ok(PageRequest {
        page: num("page", 1, crate::extract::MAX_PAGE)?,
        page_size: num("page_size", o311::MAX_REQUESTS, o311::MAX_REQUESTS)?,
    })
}

/// 404 unless `jurisdiction_id` (when given) names this city.
async fn check_jurisdiction(state: &AppState, params: &Params) -> Result<(), Open311Error> {
    if state
        .open311
        .is_jurisdiction(params.get("jurisdiction_id"))
        .await?
    {
        Ok(())
    } else {
        Err(Open311Error::not_found(format!(
            "jurisdiction_id {:?} is not served here",
            params.get("jurisdiction_id").unwrap_or_default()
        )))
    }
}

fn ok(doc: Doc, format: Format) -> Response {
    doc.respond(format, StatusCode::OK)
}

/// The city's time zone (the working calendar's).
fn tz(state: &AppState) -> chrono_tz::Tz {
    state.app.calendar().config().tz
}

/// `GET /open311/v2/{method}`: `discovery`, `services`, `requests`, `servicerequestupdates`.
pub(crate) async fn get_method(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(raw.as_deref());
    let Ok(Path(name)) = path else {
        return Open311Error::bad_request("A malformed path.").respond(Format::Xml);
    };
    let (method, format) = format_of(&name, &params, &headers);
    let answer = match method.as_str() {
        "discovery" => discovery(&state, &headers).await,
        "services" => services(&state, &params).await,
        "requests" => requests(&state, &params).await,
        "servicerequestupdates" => updates(&state, &params).await,
        _ => Err(Open311Error::not_found(format!(
            "No Open311 method {method:?} (see discovery.xml)."
        ))),
    };
    match answer {
        Ok(doc) => ok(doc, format),
        Err(e) => e.respond(format),
    }
}

/// `GET /open311/v2/{collection}/{item}`: `services/{code}`, `requests/{id}`, `tokens/{token}`.
pub(crate) async fn get_item(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(raw.as_deref());
    let Ok(Path((collection, item))) = path else {
        return Open311Error::bad_request("A malformed path.").respond(Format::Xml);
    };
    let (item, format) = format_of(&item, &params, &headers);
    let answer = match collection.as_str() {
        "services" => definition(&state, &params, &item).await,
        "requests" => one_request(&state, &params, &item).await,
        "tokens" => token(&state, &params, &item).await,
        _ => Err(Open311Error::not_found(format!(
            "No Open311 method {collection:?} (see discovery.xml)."
        ))),
    };
    match answer {
        Ok(doc) => ok(doc, format),
        Err(e) => e.respond(format),
    }
}

/// Any other method on an Open311 path: 405 in the path's format.
pub(crate) async fn not_allowed(uri: Uri, headers: HeaderMap) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    let (_, format) = format_of(last, &query_params(uri.query()), &headers);
    let mut resp = Open311Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not allowed here: GET, and POST on requests.",
    )
    .respond(format);
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
    resp
}

/// `POST /open311/v2/requests.{xml|json}`: a service request (form-encoded).
pub(crate) async fn post_method(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query_params(raw.as_deref());
    let Ok(Path(name)) = path else {
        return Open311Error::bad_request("A malformed path.").respond(Format::Xml);
    };
    let (method, format) = format_of(&name, &query, &headers);
    let answer = match method.as_str() {
        "requests" => create_request(&state, query, &ip, &headers, &body).await,
        "discovery" | "services" | "servicerequestupdates" => Err(Open311Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is read-only here: use GET."),
        )),
        _ => Err(Open311Error::not_found(format!(
            "No Open311 method {method:?} (see discovery.xml)."
        ))),
    };
    match answer {
        Ok(doc) => ok(doc, format),
        Err(e) => e.respond(format),
    }
}

async fn discovery(state: &AppState, headers: &HeaderMap) -> Result<Doc, Open311Error> {
    let origin = match &state.config.public_origin {
        Some(o) => o.trim().trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            // The request's scheme as a trusted proxy reports it is not known here without its
            // extensions; a deployment behind TLS sets `public_origin`.
            let scheme = if state.config.secure_cookies {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}")
        }
    };
    let c = state.open311.config();
    Ok(Doc::One {
        root: "discovery",
        node: view::discovery(format!("{origin}/open311/v2/"), &c.contact, &c.key_service),
    })
}

async fn services(state: &AppState, params: &Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let english = english(params);
    let tokens = state.open311.config().answer_tokens;
    let list = state.open311.services().await?;
    Ok(Doc::List {
        root: "services",
        item: "service",
        items: list
            .iter()
            .map(|s| view::service(s, tokens, english))
            .collect(),
    })
}

async fn definition(state: &AppState, params: &Params, code: &str) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let service = state.open311.service(code).await?.ok_or_else(|| {
        Open311Error::not_found(format!(
            "service_code {code:?} is not a service of this city"
        ))
    })?;
    Ok(Doc::One {
        root: "service_definition",
        node: view::definition(&service, state.open311.attributes(), english(params)),
    })
}

/// The published service codes a `service_code` list names (404 for one that is not).
async fn service_codes(
    state: &AppState,
    params: &Params,
) -> Result<Vec<ServiceCode>, Open311Error> {
    let services = state.open311.services().await?;
    params
        .list("service_code")
        .iter()
        .map(|c| {
            c.parse::<ServiceCode>()
                .ok()
                .filter(|code| services.iter().any(|s| &s.code == code))
                .ok_or_else(|| {
                    Open311Error::not_found(format!(
                        "service_code {c:?} is not a service of this city"
                    ))
                })
        })
        .collect()
}

/// `start_date`/`end_date` as a window of at most 90 days (see [`window`]).
fn window_of(
    state: &AppState,
    params: &Params,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), Open311Error> {
    let tz = tz(state);
    let date = |key: &str| -> Result<_, Open311Error> {
        params
            .get(key)
            .map(|v| {
                parse_datetime(v, tz).ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "{key} {v:?}: expected a W3C datetime such as 2026-11-23T09:00:00+08:00"
                    ))
                })
            })
            .transpose()
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    window(start, end, state.clock.now()).map_err(|e| Open311Error::bad_request(e.to_string()))
}

fn request_ctx<'a>(
    state: &AppState,
    params: &Params,
    services: &'a [cityops_app::open311::Service],
) -> view::RequestCtx<'a> {
    view::RequestCtx {
        tz: tz(state),
        english: english(params),
        extensions: params
            .get("extensions")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        services,
    }
}

async fn requests(state: &AppState, params: &Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let page = page_of(params)?;
    let codes = params.list("service_request_id");
    if codes.len() > o311::MAX_REQUESTS as usize {
        return Err(Open311Error::bad_request(format!(
            "service_request_id lists at most {} ids",
            o311::MAX_REQUESTS
        )));
    }
    let (services, statuses, window) = if codes.is_empty() {
        let services = service_codes(state, params).await?;
        let mut statuses = Vec::new();
        for s in params.list("status") {
            let s: RequestStatus = s.parse().map_err(Open311Error::bad_request)?;
            statuses.extend(s.case_statuses());
        }
        (services, statuses, window_of(state, params)?)
    } else {
        // A list of ids overrides every other parameter.
        let now = state.clock.now();
        (Vec::new(), Vec::new(), (now, now))
    };
    let got = state
        .open311
        .requests(codes, &services, statuses, window, page)
        .await?;
    let published = state.open311.services().await?;
    let ctx = request_ctx(state, params, &published);
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        items: got.items.iter().map(|r| view::request(r, &ctx)).collect(),
    })
}

async fn one_request(state: &AppState, params: &Params, id: &str) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let rec = state
        .open311
        .request(id)
        .await?
        .ok_or_else(|| Open311Error::not_found(format!("No service request {id:?}.")))?;
    let published = state.open311.services().await?;
    let ctx = request_ctx(state, params, &published);
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        items: vec![view::request(&rec, &ctx)],
    })
}

async fn token(state: &AppState, params: &Params, token: &str) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let code = state
        .open311
        .token(token)
        .await?
        .ok_or_else(|| Open311Error::not_found(format!("No request with token {token:?}.")))?;
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        items: vec![Node::Obj(vec![
            ("service_request_id", Node::text(code)),
            ("token", Node::text(token)),
        ])],
    })
}

async fn updates(state: &AppState, params: &Params) -> Result<Doc, Open311Error> {
    check_jurisdiction(state, params).await?;
    let page = page_of(params)?;
    let (from, to) = window_of(state, params)?;
    let got = state.open311.updates(from, to, page).await?;
    let tz = tz(state);
    Ok(Doc::List {
        root: "service_requests_updates",
        item: "request_update",
        items: got.items.iter().map(|u| view::update(u, tz)).collect(),
    })
}

/// Whether the body is declared as a form (`application/x-www-form-urlencoded`).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

fn number(
    params: &Params,
    key: &str,
    range: std::ops::RangeInclusive<f64>,
) -> Result<Option<f64>, Open311Error> {
    params
        .get(key)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && range.contains(n))
                .ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "{key} {v:?}: expected a WGS84 number in [{}, {}]",
                        range.start(),
                        range.end()
                    ))
                })
        })
        .transpose()
}

async fn create_request(
    state: &AppState,
    query: Params,
    ip: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Doc, Open311Error> {
    // Every attempt counts on the citizens' per-address quota, before anything else is done
    // (a flood of guessed keys too).
    state
        .app
        .check_public_address(Some(ip).filter(|ip| *ip != "unknown"))?;
    if !body.is_empty() && !is_form(headers) {
        return Err(Open311Error::bad_request(
            "Send the request as a form: Content-Type: application/x-www-form-urlencoded.",
        ));
    }
    let mut pairs = Params::parse(body);
    pairs.extend(query.0);
    let params = Params(pairs);
    check_jurisdiction(state, &params).await?;
    let client = state
        .open311
        .authenticate(params.get("api_key"))
        .await?
        .ok_or_else(|| {
            Open311Error::forbidden(
                "api_key is missing, unknown or revoked: ask the city's administrators for one.",
            )
        })?;
    let service_code = params
        .get("service_code")
        .ok_or_else(|| Open311Error::bad_request("service_code is required"))?
        .to_string();
    let submission = Submission {
        service_code,
        lat: number(&params, "lat", -90.0..=90.0)?,
        long: number(&params, "long", -180.0..=180.0)?,
        address_string: params.get("address_string").map(str::to_string),
        address_id: params.get("address_id").map(str::to_string),
        description: params.get("description").unwrap_or_default().to_string(),
        answers: params.attributes(),
        media_urls: params.all("media_url"),
        first_name: params.get("first_name").map(str::to_string),
        last_name: params.get("last_name").map(str::to_string),
        email: params.get("email").map(str::to_string),
        phone: params.get("phone").map(str::to_string),
        account_id: params.get("account_id").map(str::to_string),
        device_id: params
            .get("device_id")
            .or_else(|| params.get("deviceid"))
            .map(str::to_string),
    };
    let receipt = state.open311.submit(&client, submission).await?;
    let first = if state.open311.config().answer_tokens {
        ("token", Node::text(receipt.token))
    } else {
        ("service_request_id", Node::text(receipt.case.case.code))
    };
    Ok(Doc::List {
        root: "service_requests",
        item: "request",
        items: vec![Node::Obj(vec![
            first,
            ("service_notice", Node::opt(receipt.service_notice)),
            ("account_id", Node::opt(receipt.account_id)),
        ])],
    })
}

impl IntoResponse for Open311Error {
    /// In XML, the default format (handlers answer in the negotiated one).
    fn into_response(self) -> Response {
        self.respond(Format::Xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_single_and_multi() {
        let p = Params(Params::parse(
            b"attribute%5Bseverity%5D=severe&attribute[tags][]=a&attribute[tags][]=b&x=1",
        ));
        assert_eq!(
            p.attributes(),
            vec![
                AttributeAnswer {
                    code: "severity".into(),
                    values: vec!["severe".into()]
                },
                AttributeAnswer {
                    code: "tags".into(),
                    values: vec!["a".into(), "b".into()]
                },
            ]
        );
        let p = Params(Params::parse(b"a=&a=2&b=1,%202,,3"));
        assert_eq!(p.get("a"), Some("2"), "an empty value is absent");
        assert_eq!(p.list("b"), vec!["1", "2", "3"]);
    }
}
