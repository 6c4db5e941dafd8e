//! 综合评价 (`/evaluation`, `/evaluation/{kind}`): one tab per kind of subject (专业部门、区域、
//! 监督员、受理员、值班长、派遣员), a period (a month with previous/next, or from/to), the level
//! of region rows, and the ranking — rank, name, composite value, grade, rank change, every
//! component's value and score and every count — sortable by any column (a little script of our
//! own; without it the table stays in rank order), with ECharts charts of the scores and the
//! grades. Every count links to `/evaluation/{kind}/cases?…`, the cases that make it (as many as
//! the count: the service lists them by the figure's own predicate).
//!
//! The numbers come from `CaseService::evaluate` / `evaluation_drill_down`, within the user's
//! visibility; both are expensive reads, limited per user like the case search.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use cityops_app::evaluation::{EvaluationQuery, Period, may_evaluate};
use cityops_domain::evaluation::{Grade, Kind, Subject};
use cityops_domain::{PageRequest, RegionLevel};
use serde::Deserialize;
use serde_json::json;

use super::cases::{CaseRow, Opt, case_row, service_error};
use super::{render, script_json, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n::Lang;
use crate::i18n_eval::EvalTr;
use crate::layout::{Layout, Section};
use crate::util::{Pager, fmt_int, url_with};

/// Rows of the ranking per page (a city has ~23 000 grids).
const RANKING_PAGE: u32 = 100;
/// Cases per page of a drill-down.
const DRILL_PAGE: u32 = 50;
/// The levels of region rows, finest first.
const LEVELS: [RegionLevel; 4] = [
    RegionLevel::Grid,
    RegionLevel::Community,
    RegionLevel::Street,
    RegionLevel::District,
];

/// The URL parameters of both pages, all text: malformed values are reported on the page.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Params {
    /// `YYYY-MM`: a whole calendar month.
    month: Option<String>,
    /// `YYYY-MM-DD`, inclusive (instead of `month`).
    from: Option<String>,
    to: Option<String>,
    level: Option<String>,
    page: Option<String>,
    subject: Option<String>,
    figure: Option<String>,
}

fn val(s: &Option<String>) -> &str {
    s.as_deref().map(str::trim).unwrap_or("")
}

/// What the parameters select.
#[derive(Debug, Clone, Copy)]
struct Selection {
    period: Period,
    /// The month shown in the picker (the period's first month).
    month: NaiveDate,
    /// Whether from/to were given (else a whole month).
    range: bool,
    level: RegionLevel,
}

impl Selection {
    /// The parameters that select the same period and level (what every link repeats).
    fn pairs(&self, kind: Kind) -> Vec<(&'static str, String)> {
        let mut p = if self.range {
            vec![
                ("from", self.period.from.to_string()),
                ("to", self.period.last_day().to_string()),
            ]
        } else {
            vec![("month", self.month.format("%Y-%m").to_string())]
        };
        if kind == Kind::Regions {
            p.push(("level", self.level.as_str().to_string()));
        }
        p
    }
}

fn parse_month(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
        .ok()
        .filter(|d| d.year() >= 1)
}

impl Params {
    /// The period and level, or the first malformed parameter's message.
    fn selection(&self, t: &EvalTr, today: NaiveDate) -> Result<Selection, String> {
        let bad = |name: &str, v: &str| t.bad_param.replace("{name}", name).replace("{value}", v);
        let level = match val(&self.level) {
            "" => RegionLevel::Street,
            v => LEVELS
                .into_iter()
                .find(|l| l.as_str() == v)
                .ok_or_else(|| bad("level", v))?,
        };
        let date =
            |name: &str, v: &str| cityops_web::wire::parse_date(v).ok_or_else(|| bad(name, v));
        let (from, to) = (val(&self.from), val(&self.to));
        if !from.is_empty() || !to.is_empty() {
            let to_d = if to.is_empty() {
                today
            } else {
                date("to", to)?
            };
            let from_d = if from.is_empty() {
                to_d.with_day(1).unwrap_or(to_d)
            } else {
                date("from", from)?
            };
            if from_d > to_d {
                return Err(bad("from", from));
            }
            let period = Period::new(from_d, to_d + Duration::days(1))
                .map_err(|e| bad("to", &format!("{to} ({e})")))?;
            return Ok(Selection {
                period,
                month: from_d.with_day(1).unwrap_or(from_d),
                range: true,
                level,
            });
        }
        let month = match val(&self.month) {
            "" => today.with_day(1).unwrap_or(today),
            v => parse_month(v).ok_or_else(|| bad("month", v))?,
        };
        Ok(Selection {
            period: Period::month_of(month),
            month,
            range: false,
            level,
        })
    }

    fn page(&self) -> u32 {
        val(&self.page)
            .parse::<u32>()
            .unwrap_or(1)
            .clamp(1, 1_000_000)
    }
}

/// A kind's tab.
pub(crate) struct Tab {
    pub href: String,
    pub label: &'static str,
    pub active: bool,
}

/// A component's heading: its name and weight.
pub(crate) struct CompHead {
    pub name: &'static str,
    pub weight: String,
    /// The columns of its value and score (0-based, for the sorting script).
    pub value_col: usize,
    pub score_col: usize,
}

/// A figure's heading.
pub(crate) struct FigHead {
    pub name: &'static str,
    pub col: usize,
}

/// A component of a row.
pub(crate) struct CompCell {
    pub value: String,
    /// For sorting: the number, empty when nothing was due.
    pub value_v: String,
    pub score: String,
    pub score_v: String,
    pub title: &'static str,
}

/// A count of a row, with its drill-down.
pub(crate) struct CountCell {
    pub figure: &'static str,
    pub value: u64,
    pub text: String,
    pub href: String,
    pub title: String,
}

/// A ranked subject.
pub(crate) struct RankRow {
    pub subject: String,
    pub rank: u32,
    pub name: String,
    pub score: String,
    pub score_v: f64,
    pub grade: &'static str,
    pub change: String,
    /// `up`, `down`, `same` or `new` (CSS).
    pub change_class: &'static str,
    /// Places gained (sorting); very low for a new subject.
    pub change_v: i64,
    pub change_title: String,
    pub comps: Vec<CompCell>,
    pub counts: Vec<CountCell>,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
pub(crate) struct RankingPage {
    pub l: Layout,
    pub e: &'static EvalTr,
    pub kind: &'static str,
    pub kind_name: &'static str,
    pub tabs: Vec<Tab>,
    pub action: String,
    pub month: String,
    pub prev_href: String,
    pub next_href: String,
    pub this_href: String,
    pub from: String,
    pub to: String,
    pub show_level: bool,
    pub levels: Vec<Opt>,
    pub error: Option<String>,
    pub period_text: String,
    pub previous_text: String,
    pub as_of_text: String,
    pub comps: Vec<CompHead>,
    pub figures: Vec<FigHead>,
    /// The first column of the counts (the components' columns come before).
    pub rows: Vec<RankRow>,
    pub pager: Pager,
    pub config: String,
}

impl RankingPage {
    /// The badge class of a grade.
    pub fn grade_class(&self, g: &str) -> String {
        format!("grade grade-{}", g.to_ascii_lowercase())
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn period_text(t: &EvalTr, p: Period) -> String {
    t.period_label
        .replace("{from}", &p.from.to_string())
        .replace("{to}", &p.last_day().to_string())
}

fn kind_of(s: &str) -> Option<Kind> {
    s.parse::<Kind>().ok()
}

async fn forbidden(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let e = ctx.lang.eval();
    status_page(
        st,
        ctx,
        StatusCode::FORBIDDEN,
        Section::Evaluation,
        e.title,
        e.forbidden,
    )
    .await
}

async fn not_found(st: &UiState, ctx: &Ctx) -> Result<Response, PageError> {
    let e = ctx.lang.eval();
    status_page(
        st,
        ctx,
        StatusCode::NOT_FOUND,
        Section::Evaluation,
        e.title,
        e.unknown_kind,
    )
    .await
}

/// `GET /evaluation`: the first kind (专业部门).
pub(crate) async fn index(
    st: State<UiState>,
    ctx: Ctx,
    q: Query<Params>,
) -> Result<Response, PageError> {
    ranking(st, ctx, Kind::Departments, q.0).await
}

/// `GET /evaluation/{kind}`
pub(crate) async fn kind_page(
    st: State<UiState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    q: Query<Params>,
) -> Result<Response, PageError> {
    match kind_of(&kind) {
        Some(k) => ranking(st, ctx, k, q.0).await,
        None if may_evaluate(&ctx.user) => not_found(&st.0, &ctx).await,
        None => forbidden(&st.0, &ctx).await,
    }
}

async fn ranking(
    State(st): State<UiState>,
    ctx: Ctx,
    kind: Kind,
    p: Params,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let e = lang.eval();
    if !may_evaluate(&ctx.user) {
        return forbidden(&st, &ctx).await;
    }
    let today = st.app.app.today();
    let page_no = p.page();
    let mut status = StatusCode::OK;
    let (sel, mut error) = match p.selection(e, today) {
        Ok(s) => (s, None),
        Err(m) => {
            status = StatusCode::BAD_REQUEST;
            let month = today.with_day(1).unwrap_or(today);
            (
                Selection {
                    period: Period::month_of(month),
                    month,
                    range: false,
                    level: RegionLevel::Street,
                },
                Some(m),
            )
        }
    };
    let evaluation = if error.is_some() {
        None
    } else {
        match st.app.try_expensive(ctx.user.id) {
            None => {
                status = StatusCode::TOO_MANY_REQUESTS;
                error = Some(e.too_many.to_string());
                None
            }
            Some(permit) => {
                let got = st
                    .app
                    .app
                    .evaluate(
                        &ctx.user,
                        &EvaluationQuery {
                            kind,
                            period: sel.period,
                            level: sel.level,
                        },
                    )
                    .await
                    .map_err(service_error)
                    .lang(lang)?;
                drop(permit);
                Some(got)
            }
        }
    };
    let kind_path = format!("/evaluation/{}", kind.as_str());
    let pairs = sel.pairs(kind);
    let with_month = |m: NaiveDate| {
        let mut v = vec![("month", m.format("%Y-%m").to_string())];
        if kind == Kind::Regions {
            v.push(("level", sel.level.as_str().to_string()));
        }
        url_with(&kind_path, &v)
    };
    let prev_month = (sel.month - Duration::days(1))
        .with_day(1)
        .unwrap_or(sel.month);
    let next_month = (sel.month + Duration::days(32))
        .with_day(1)
        .unwrap_or(sel.month);
    let tab_pairs: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| *k != "level")
        .cloned()
        .collect();
    let tabs = Kind::ALL
        .iter()
        .map(|k| Tab {
            href: url_with(&format!("/evaluation/{}", k.as_str()), &tab_pairs),
            label: lang.eval_kind(*k),
            active: *k == kind,
        })
        .collect();
    let levels = LEVELS
        .iter()
        .rev()
        .map(|l| Opt {
            value: l.as_str().to_string(),
            label: lang.level(*l).to_string(),
            selected: *l == sel.level,
        })
        .collect();
    let weights = st.app.app.evaluation_settings().evaluation.weights(kind);
    let components = kind.components();
    let figures = kind.figures();
    // Columns: rank, name, score, grade, change, then value and score of each component, then
    // the counts.
    let comps: Vec<CompHead> = components
        .iter()
        .enumerate()
        .map(|(i, c)| CompHead {
            name: lang.component(c),
            weight: e
                .weight
                .replace("{w}", &fmt_num(weights.get(i).copied().unwrap_or(0.0))),
            value_col: 5 + 2 * i,
            score_col: 6 + 2 * i,
        })
        .collect();
    let first_count = 5 + 2 * components.len();
    let fig_heads: Vec<FigHead> = figures
        .iter()
        .enumerate()
        .map(|(i, f)| FigHead {
            name: lang.figure(f),
            col: first_count + i,
        })
        .collect();
    let (rows, total, grades, previous_text, as_of_text) = match &evaluation {
        None => (Vec::new(), 0, [0u64; 5], String::new(), String::new()),
        Some(ev) => {
            let mut grades = [0u64; 5];
            for r in &ev.rows {
                grades[r.row.grade as usize] += 1;
            }
            let start = ((page_no - 1) as usize).saturating_mul(RANKING_PAGE as usize);
            let rows = ev
                .rows
                .iter()
                .skip(start)
                .take(RANKING_PAGE as usize)
                .map(|r| {
                    let subject = r.row.subject.to_string();
                    let (change, change_class, change_v) = match &r.previous {
                        None => (e.new_entry.to_string(), "new", i64::MIN / 2),
                        Some(prev) => {
                            let d = i64::from(prev.rank) - i64::from(r.row.rank);
                            match d {
                                0 => ("–".to_string(), "same", 0),
                                d if d > 0 => (format!("↑{d}"), "up", d),
                                d => (format!("↓{}", -d), "down", d),
                            }
                        }
                    };
                    let change_title = match change_class {
                        "up" => e.up.replace("{n}", &change_v.to_string()),
                        "down" => e.down.replace("{n}", &(-change_v).to_string()),
                        "same" => e.same.to_string(),
                        _ => e.new_entry.to_string(),
                    };
                    let comps = components
                        .iter()
                        .zip(&r.row.components)
                        .map(|(c, v)| {
                            let unit = match c.measure {
                                cityops_domain::evaluation::Measure::Count { .. } => "",
                                cityops_domain::evaluation::Measure::Review => "",
                                _ => "%",
                            };
                            CompCell {
                                value: v.value.map_or_else(
                                    || "—".to_string(),
                                    |x| format!("{}{unit}", fmt_num(x)),
                                ),
                                value_v: v.value.map(|x| x.to_string()).unwrap_or_default(),
                                score: fmt_num(v.score),
                                score_v: v.score.to_string(),
                                title: if v.value.is_none() { e.nothing_due } else { "" },
                            }
                        })
                        .collect();
                    let counts = figures
                        .iter()
                        .zip(&r.row.counts)
                        .map(|(f, n)| {
                            let mut params = pairs.clone();
                            params.push(("subject", subject.clone()));
                            params.push(("figure", f.key.to_string()));
                            CountCell {
                                figure: f.key,
                                value: *n,
                                text: fmt_int(*n),
                                href: url_with(&format!("{kind_path}/cases"), &params),
                                title: e
                                    .count_link
                                    .replace("{figure}", lang.figure(f))
                                    .replace("{name}", &r.name),
                            }
                        })
                        .collect();
                    RankRow {
                        subject,
                        rank: r.row.rank,
                        name: r.name.clone(),
                        score: fmt_num(r.row.score),
                        score_v: r.row.score,
                        grade: r.row.grade.as_str(),
                        change,
                        change_class,
                        change_v,
                        change_title,
                        comps,
                        counts,
                    }
                })
                .collect::<Vec<_>>();
            let previous_text = e
                .previous_label
                .replace("{from}", &ev.previous_period.from.to_string())
                .replace("{to}", &ev.previous_period.last_day().to_string());
            let cal = st.app.calendar();
            let as_of = e
                .as_of
                .replace("{t}", &super::cases::fmt_local(&cal, ev.as_of));
            (rows, ev.rows.len() as u64, grades, previous_text, as_of)
        }
    };
    let pager = Pager::new(&kind_path, &pairs, page_no, RANKING_PAGE, total);
    let grade_names = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::E];
    let config = json!({
        "kind": kind.as_str(),
        "scores": {
            "names": rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            "values": rows.iter().map(|r| r.score_v).collect::<Vec<_>>(),
            "grades": rows.iter().map(|r| r.grade).collect::<Vec<_>>(),
        },
        "grades": grade_names.iter().zip(grades).map(|(g, n)| json!({"grade": g.as_str(), "count": n})).collect::<Vec<_>>(),
        "t": {
            "scores": e.chart_scores,
            "grades": e.chart_grades,
            "unit": e.grade_unit,
            "axis": e.score_axis,
        },
    });
    let heading = format!("{} · {}", e.title, lang.eval_kind(kind));
    let l = Layout::new(&st, &ctx, Section::Evaluation, heading).await;
    render(
        status,
        &RankingPage {
            l,
            e,
            kind: kind.as_str(),
            kind_name: lang.eval_kind(kind),
            tabs,
            action: kind_path.clone(),
            month: sel.month.format("%Y-%m").to_string(),
            prev_href: with_month(prev_month),
            next_href: with_month(next_month),
            this_href: with_month(today.with_day(1).unwrap_or(today)),
            from: if sel.range {
                sel.period.from.to_string()
            } else {
                String::new()
            },
            to: if sel.range {
                sel.period.last_day().to_string()
            } else {
                String::new()
            },
            show_level: kind == Kind::Regions,
            levels,
            error,
            period_text: period_text(e, sel.period),
            previous_text,
            as_of_text,
            comps,
            figures: fig_heads,
            rows,
            pager,
            config: script_json(&config),
        },
        lang,
    )
}

#[derive(Template)]
#[template(path = "evaluation_cases.html")]
pub(crate) struct DrillPage {
    pub l: Layout,
    pub e: &'static EvalTr,
    pub c: &'static crate::i18n_cases::SliceTr,
    pub heading: String,
    pub hint: String,
    pub back: String,
    pub error: Option<String>,
    pub total: u64,
    pub total_text: String,
    pub rows: Vec<CaseRow>,
    pub pager: Pager,
}

/// The display name of a subject: a department's, a region's or a user's.
async fn subject_name(st: &UiState, kind: Kind, subject: &Subject) -> String {
    let fallback = subject.to_string();
    match (kind, subject) {
        (Kind::Regions, Subject::Code(c)) => st.app.region_name(c).map_or(fallback, str::to_string),
        (Kind::Departments, Subject::Id(id)) => match st.app.app.catalogue().await {
            Ok(cat) => cat.department(*id).map_or(fallback, |d| d.name.clone()),
            Err(_) => fallback,
        },
        (_, Subject::Id(id)) => match st.app.store.get_user(*id).await {
            Ok(Some(u)) if !u.display_name.trim().is_empty() => u.display_name,
            Ok(Some(u)) => u.username,
            _ => fallback,
        },
        _ => fallback,
    }
}

/// `GET /evaluation/{kind}/cases?month|from&to&level&subject&figure&page`: the cases behind one
/// count of the ranking, with their total (equal to the count).
pub(crate) async fn cases(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let e = lang.eval();
    let t = lang.cases();
    if !may_evaluate(&ctx.user) {
        return forbidden(&st, &ctx).await;
    }
    let Some(kind) = kind_of(&kind) else {
        return not_found(&st, &ctx).await;
    };
    let today = st.app.app.today();
    let bad = |name: &str, v: &str| e.bad_param.replace("{name}", name).replace("{value}", v);
    let subject_s = val(&p.subject).to_string();
    let figure_s = val(&p.figure).to_string();
    let figure = kind.figures().iter().find(|f| f.key == figure_s);
    let checked = p.selection(e, today).and_then(|sel| {
        if !cityops_web::wire::is_evaluation_subject(&subject_s) {
            return Err(bad("subject", &subject_s));
        }
        let figure = figure.ok_or_else(|| bad("figure", &figure_s))?;
        Ok((sel, figure))
    });
    let page_no = p.page();
    let mut status = StatusCode::OK;
    let back_pairs = p
        .selection(e, today)
        .map(|s| s.pairs(kind))
        .unwrap_or_default();
    let back = url_with(&format!("/evaluation/{}", kind.as_str()), &back_pairs);
    let (heading, hint, error, got, pairs) = match checked {
        Err(m) => {
            status = StatusCode::BAD_REQUEST;
            (
                e.drill_title.to_string(),
                String::new(),
                Some(m),
                None,
                Vec::new(),
            )
        }
        Ok((sel, figure)) => {
            let subject = match (kind, subject_s.parse::<i64>()) {
                (Kind::Regions, _) | (_, Err(_)) => Subject::Code(subject_s.clone()),
                (_, Ok(id)) => Subject::Id(id),
            };
            let name = subject_name(&st, kind, &subject).await;
            let heading = format!("{} · {}", name, lang.figure(figure));
            let hint = e
                .drill_hint
                .replace("{figure}", lang.figure(figure))
                .replace("{name}", &name)
                .replace("{period}", &period_text(e, sel.period));
            let mut pairs = sel.pairs(kind);
            pairs.push(("subject", subject_s.clone()));
            pairs.push(("figure", figure_s.clone()));
            match st.app.try_expensive(ctx.user.id) {
                None => {
                    status = StatusCode::TOO_MANY_REQUESTS;
                    (heading, hint, Some(e.too_many.to_string()), None, pairs)
                }
                Some(permit) => {
                    let got = st
                        .app
                        .app
                        .evaluation_drill_down(
                            &ctx.user,
                            &EvaluationQuery {
                                kind,
                                period: sel.period,
                                level: sel.level,
                            },
                            &subject,
                            figure.key,
                            PageRequest {
                                page: page_no,
                                page_size: DRILL_PAGE,
                            },
                        )
                        .await
                        .map_err(service_error)
                        .lang(lang)?;
                    drop(permit);
                    (heading, hint, None, Some(got), pairs)
                }
            }
        }
    };
    let (rows, total) = match got {
        None => (Vec::new(), 0),
        Some(page) => {
            let now = st.app.clock.now();
            let cal = st.app.calendar();
            let cat = st
                .app
                .app
                .catalogue()
                .await
                .map_err(service_error)
                .lang(lang)?;
            let rows = page
                .items
                .iter()
                .map(|c| case_row(&st, lang, &cat, &cal, now, c, false))
                .collect();
            (rows, page.total)
        }
    };
    let path = format!("/evaluation/{}/cases", kind.as_str());
    let pager = Pager::new(&path, &pairs, page_no, DRILL_PAGE, total);
    let l = Layout::new(&st, &ctx, Section::Evaluation, heading.clone()).await;
    render(
        status,
        &DrillPage {
            l,
            e,
            c: t,
            heading,
            hint,
            back,
            error,
            total,
            total_text: fmt_int(total),
            rows,
            pager,
        },
        lang,
    )
}

/// The big screen's texts of the 城市管理指数 panel.
pub(crate) fn screen_texts(lang: Lang) -> serde_json::Value {
    let e = lang.eval();
    json!({
        "index_title": e.index_title,
        "index_none": e.index_none,
        "index_ranking": e.index_ranking,
        "index_so_far": e.index_so_far,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_from_the_parameters() {
        let t = Lang::Zh.eval();
        let today = d(2026, 11, 23);
        let sel = Params::default().selection(t, today).unwrap();
        assert_eq!(sel.period, Period::month_of(today));
        assert_eq!(
            sel.pairs(Kind::Departments),
            vec![("month", "2026-11".to_string())]
        );
        let p = Params {
            month: Some("2026-02".into()),
            level: Some("grid".into()),
            ..Default::default()
        };
        let sel = p.selection(t, today).unwrap();
        assert_eq!(
            (sel.period.from, sel.period.last_day()),
            (d(2026, 2, 1), d(2026, 2, 28))
        );
        assert_eq!(sel.level, RegionLevel::Grid);
        assert_eq!(
            sel.pairs(Kind::Regions),
            vec![
                ("month", "2026-02".to_string()),
                ("level", "grid".to_string())
            ]
        );
        let p = Params {
            from: Some("2026-10-15".into()),
            to: Some("2026-11-14".into()),
            ..Default::default()
        };
        let sel = p.selection(t, today).unwrap();
        assert_eq!(
            (sel.period.from, sel.period.to),
            (d(2026, 10, 15), d(2026, 11, 15))
        );
        assert!(sel.range);
        for bad in [
            Params {
                month: Some("2026-13".into()),
                ..Default::default()
            },
            Params {
                month: Some("2026-1".into()),
                ..Default::default()
            },
            Params {
                from: Some("2026-11-30".into()),
                to: Some("2026-11-01".into()),
                ..Default::default()
            },
            Params {
                from: Some("2024-01-01".into()),
                to: Some("2026-01-01".into()),
                ..Default::default()
            },
            Params {
                level: Some("city".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.selection(t, today).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_without_trailing_zeros() {
        assert_eq!(fmt_num(85.0), "85");
        assert_eq!(fmt_num(85.5), "85.5");
        assert_eq!(fmt_num(66.666_666), "66.67");
    }
}
