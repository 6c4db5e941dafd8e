//! 报表 (reports): `/reports`, the history of daily briefings (晨报), weekly (周报) and monthly
//! (月报) reports the reader may see, with their CSV and XLSX, and — for leaders and
//! administrators — a form that produces a past period's report on demand; `/reports/{id}`, one
//! report: the same tables as its files ([`cityops_web::report_files::tables`]) and a chart of
//! its days. Everything goes through the case service, like the API.
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use cityops_app::ServiceError;
use cityops_app::report::{may_produce_reports, may_read_reports};
use cityops_domain::report::ReportKind;
use cityops_store::{ReportFilter, ReportSummary};
use cityops_web::report_files::{Value, tables};
use serde::Deserialize;

use super::cases::service_error;
use super::{num, render, script_json, see_other, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n_reports::ReportTr;
use crate::layout::{Layout, Section};
use crate::util::{Pager, page_request, url_with};

/// A line of the history.
pub(crate) struct LineRow {
    pub id: i64,
    pub kind: &'static str,
    pub period: String,
    pub scope: String,
    pub produced: String,
    pub how: &'static str,
}

/// A choice of a select.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub(crate) struct ReportsPage {
    pub l: Layout,
    pub r: &'static ReportTr,
    pub rows: Vec<LineRow>,
    pub pager: Pager,
    pub kinds: Vec<Choice>,
    pub scopes: Vec<Choice>,
    pub producer: bool,
    pub yesterday: String,
    pub error: Option<&'static str>,
}

/// A table of one report, in the page's language.
pub(crate) struct TableView {
    pub key: &'static str,
    pub title: &'static str,
    pub note: Option<String>,
    pub heads: Vec<(String, bool)>,
    /// Cells: text and whether it is a number.
    pub rows: Vec<Vec<(String, bool)>>,
}

#[derive(Template)]
#[template(path = "report.html")]
pub(crate) struct ReportPage {
    pub l: Layout,
    pub r: &'static ReportTr,
    pub id: i64,
    pub title: String,
    pub subtitle: String,
    pub tables: Vec<TableView>,
    /// The chart's data and texts (JSON).
    pub config: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportsQuery {
    page: Option<String>,
    kind: Option<String>,
    scope: Option<String>,
    /// Why the last produce was refused (`not_over`, `invalid`, `scope`).
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProduceForm {
    kind: Option<String>,
    day: Option<String>,
    scope: Option<String>,
}

async fn refuse(st: &UiState, ctx: &Ctx, status: StatusCode) -> Result<Response, PageError> {
    let (title, text) = if status == StatusCode::NOT_FOUND {
        (ctx.lang.tr().not_found_title, ctx.lang.reports().not_found)
    } else {
        (ctx.lang.tr().forbidden_title, ctx.lang.reports().forbidden)
    };
    status_page(st, ctx, status, Section::Reports, title, text).await
}

/// The districts of the city: code and name.
async fn districts(st: &UiState) -> Vec<(String, String)> {
    match crate::tree::tree(st).await {
        Ok(t) => t
            .level(cityops_domain::RegionLevel::District)
            .into_iter()
            .map(|n| (n.code.clone(), n.name.clone()))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "region tree unavailable for the report scopes");
            Vec::new()
        }
    }
}

fn scope_name(r: &ReportTr, districts: &[(String, String)], code: Option<&str>) -> String {
    match code {
        None => r.city.to_string(),
        Some(c) => districts
            .iter()
            .find(|(d, _)| d == c)
            .map_or_else(|| c.to_string(), |(_, n)| n.clone()),
    }
}

fn period_text(from: NaiveDate, to: NaiveDate) -> String {
    let last = to.pred_opt().unwrap_or(to);
    if last == from {
        from.to_string()
    } else {
        format!("{from} – {last}")
    }
}

/// `GET /reports`.
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let r = lang.reports();
    if !may_read_reports(&ctx.user) {
        return refuse(&st, &ctx, StatusCode::FORBIDDEN).await;
    }
    let tz = st.app.calendar().config().tz;
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .and_then(|k| k.parse::<ReportKind>().ok());
    let scope = q.scope.as_deref().filter(|s| !s.is_empty());
    let filter = ReportFilter {
        kind,
        region_code: match scope {
            None => None,
            Some("city") => Some(None),
            Some(code) => Some(Some(code.to_string())),
        },
        period: None,
    };
    let page = page_request(num(&q.page), None);
    let got = st
        .app
        .app
        .reports(&ctx.user, &filter, page)
        .await
        .map_err(service_error)
        .lang(lang)?;
    let districts = districts(&st).await;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let rows = got
        .items
        .iter()
        .map(|s: &ReportSummary| LineRow {
            id: s.id,
            kind: r.kind(s.key.kind),
            period: period_text(s.key.period.from, s.key.period.to),
            scope: scope_name(r, &districts, s.key.region_code.as_deref()),
            produced: local(s.produced_at),
            how: if s.produced_by.is_some() {
                r.on_demand
            } else {
                r.by_schedule
            },
        })
        .collect();
    let mut filters = Vec::new();
    if let Some(k) = kind {
        filters.push(("kind", k.as_str().to_string()));
    }
    if let Some(s) = scope {
        filters.push(("scope", s.to_string()));
    }
    let pager = Pager::new("/reports", &filters, page.page, page.page_size, got.total);
    let kinds = std::iter::once(Choice {
        value: String::new(),
        label: r.all_kinds.to_string(),
        selected: kind.is_none(),
    })
    .chain(ReportKind::ALL.into_iter().map(|k| Choice {
        value: k.as_str().to_string(),
        label: r.kind(k).to_string(),
        selected: kind == Some(k),
    }))
    .collect();
    let scopes = [
        (String::new(), r.all_scopes.to_string()),
        ("city".to_string(), r.city.to_string()),
    ]
    .into_iter()
    .chain(districts.iter().cloned())
    .map(|(value, label)| Choice {
        selected: scope.unwrap_or("") == value,
        value,
        label,
    })
    .collect();
    let error = match q.error.as_deref() {
        Some("not_over") => Some(r.err_not_over),
        Some("scope") => Some(r.err_scope),
        Some(_) => Some(r.err_invalid),
        None => None,
    };
    let yesterday = st
        .app
        .app
        .today()
        .pred_opt()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let l = Layout::new(&st, &ctx, Section::Reports, r.title).await;
    render(
        StatusCode::OK,
        &ReportsPage {
            l,
            r,
            rows,
            pager,
            kinds,
            scopes,
            producer: may_produce_reports(&ctx.user),
            yesterday,
            error,
        },
        lang,
    )
}

/// `POST /reports`: a report on demand (`kind`, `day`, `scope`), then its page.
pub(crate) async fn produce(
    State(st): State<UiState>,
    ctx: Ctx,
    Form(f): Form<ProduceForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    if !may_produce_reports(&ctx.user) {
        return refuse(&st, &ctx, StatusCode::FORBIDDEN).await;
    }
    let kind = f.kind.as_deref().and_then(|k| k.parse::<ReportKind>().ok());
    let day = f
        .day
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    let region = match f.scope.as_deref().unwrap_or("") {
        "" | "city" => None,
        code => Some(code.to_string()),
    };
    let back = |e: &str| url_with("/reports", &[("error", e.to_string())]);
    let (Some(kind), Some(day)) = (kind, day) else {
        return Ok(see_other(&back("invalid")));
    };
    match st
        .app
        .app
        .produce_report(&ctx.user, kind, day, region)
        .await
    {
        Ok((summary, _)) => Ok(see_other(&format!("/reports/{}", summary.id))),
        Err(ServiceError::Forbidden(_)) => Ok(see_other(&back("scope"))),
        Err(ServiceError::Invalid(m)) if m.contains("not over") => Ok(see_other(&back("not_over"))),
        Err(ServiceError::Invalid(_)) => Ok(see_other(&back("invalid"))),
        Err(e) => Err(service_error(e)).lang(lang),
    }
}

/// `GET /reports/{id}`.
pub(crate) async fn report(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let r = lang.reports();
    if !may_read_reports(&ctx.user) {
        return refuse(&st, &ctx, StatusCode::FORBIDDEN).await;
    }
    let Ok(id) = id.parse::<i64>() else {
        return refuse(&st, &ctx, StatusCode::NOT_FOUND).await;
    };
    let report = match st.app.app.report_by_id(&ctx.user, id).await {
        Ok(rep) => rep,
        Err(ServiceError::NotFound(_)) => return refuse(&st, &ctx, StatusCode::NOT_FOUND).await,
        Err(e) => return Err(service_error(e)).lang(lang),
    };
    let tz = st.app.calendar().config().tz;
    let c = &report.content;
    let zh = lang == crate::Lang::Zh;
    let views = tables(c, &tz)
        .into_iter()
        .map(|t| TableView {
            key: t.key,
            title: if zh { t.zh } else { t.en },
            note: t.note,
            heads: t
                .cols
                .iter()
                .enumerate()
                .map(|(i, col)| {
                    let numeric = t
                        .rows
                        .first()
                        .and_then(|row| row.get(i))
                        .is_some_and(Value::is_number);
                    (
                        if zh {
                            col.zh.to_string()
                        } else {
                            col.en.to_string()
                        },
                        numeric,
                    )
                })
                .collect(),
            rows: t
                .rows
                .iter()
                .map(|row| row.iter().map(|v| (v.text(), v.is_number())).collect())
                .collect(),
        })
        .collect();
    let title = if zh {
        c.title()
    } else {
        format!("{} — {} {}", c.scope_name, c.kind.name_en(), c.period)
    };
    let subtitle = format!(
        "{} {} · {} {}",
        r.produced_at,
        c.as_of.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        r.previous_period,
        c.previous_period
    );
    let config = serde_json::json!({
        "days": c.days.iter().map(|d| d.day.to_string()).collect::<Vec<_>>(),
        "reported": c.days.iter().map(|d| d.reported).collect::<Vec<_>>(),
        "closed": c.days.iter().map(|d| d.closed).collect::<Vec<_>>(),
        "texts": { "reported": r.reported, "closed": r.closed },
    });
    let l = Layout::new(&st, &ctx, Section::Reports, title.clone()).await;
    render(
        StatusCode::OK,
        &ReportPage {
            l,
            r,
            id,
            title,
            subtitle,
            tables: views,
            config: script_json(&config),
        },
        lang,
    )
}
