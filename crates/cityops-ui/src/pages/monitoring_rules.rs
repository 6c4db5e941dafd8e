//! 报警规则 (the rule editor): `/monitoring/rules`, every rule grouped by its profile (规则模板)
//! with its kind, metric, parameters, case level and clear time. Administrators edit a rule
//! (`?edit={id}` opens its form in place; `POST /monitoring/rules/{id}`) and add one
//! (`POST /monitoring/rules`); both call `MonitoringService::save_rule`, and a refused rule comes
//! back as the same form with the reason next to it (422) — nothing is saved. Others read.
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use cityops_app::ServiceError;
use cityops_domain::Role;
use cityops_domain::monitoring::{DeviceType, Direction, Metric, Rule, RuleKind};
use serde::Deserialize;

use super::monitoring::guard;
use super::{num, render, see_other, status_page};
use crate::UiState;
use crate::auth::Ctx;
use crate::error::{PageError, WithLang};
use crate::i18n_monitoring::{MonitoringTr, kind_key, num as fmt_num};
use crate::layout::{Layout, Section};

/// The kinds of rule, in the order the form offers them.
const KINDS: [&str; 5] = [
    "threshold",
    "rate_of_change",
    "offline",
    "construction_noise",
    "waterlogging",
];

/// One input of a rule form.
pub(crate) struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    /// Choices of a select (value, label, selected); empty: a number input.
    pub options: Vec<(String, String, bool)>,
    pub step: &'static str,
    pub hint: Option<&'static str>,
}

/// The parameters of one kind of rule.
pub(crate) struct FieldsetView {
    pub kind: &'static str,
    pub legend: &'static str,
    pub hidden: bool,
    pub fields: Vec<FieldView>,
}

/// A rule form (a new rule, or one rule's).
pub(crate) struct RuleFormView {
    pub id: i64,
    pub action: String,
    pub is_new: bool,
    /// A prefix for the element ids (`new`, `r12`).
    pub key: String,
    pub kind: &'static str,
    pub kinds: Vec<(&'static str, &'static str, bool)>,
    pub profile: String,
    pub name: String,
    pub metrics: Vec<(String, String, bool)>,
    pub case_levels: Vec<(String, String, bool)>,
    pub category: String,
    pub clear_after: String,
    pub enabled: bool,
    pub sets: Vec<FieldsetView>,
    pub error: Option<String>,
}

/// A rule as the list shows it.
pub(crate) struct RuleItem {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub metric: String,
    pub params: String,
    pub case: String,
    pub clear: String,
    pub enabled: bool,
}

/// The rules of one profile.
pub(crate) struct ProfileGroup {
    pub key: String,
    pub title: String,
    pub rules: Vec<RuleItem>,
}

#[derive(Template)]
#[template(path = "monitoring_rules.html")]
pub(crate) struct RulesPage {
    pub l: Layout,
    pub m: &'static MonitoringTr,
    pub admin: bool,
    pub groups: Vec<ProfileGroup>,
    pub editing: i64,
    pub edit_form: Option<RuleFormView>,
    pub new_form: Option<RuleFormView>,
    pub new_open: bool,
    pub saved: bool,
    pub profiles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RulesQuery {
    edit: Option<String>,
    saved: Option<String>,
    new: Option<String>,
}

/// The form's values of a kept rule.
fn rule_values(r: &Rule) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = HashMap::new();
    let mut put = |k: &str, s: String| {
        v.insert(k.to_string(), s);
    };
    put("profile", r.profile.clone());
    put("name", r.name.clone());
    put("kind", kind_key(&r.kind).to_string());
    put("metric", r.metric.as_str().to_string());
    put(
        "case_level",
        r.case_level.map(|l| l.to_string()).unwrap_or_default(),
    );
    put("category_code", r.category_code.clone().unwrap_or_default());
    put("clear_after_secs", r.clear_after_secs.to_string());
    if r.enabled {
        put("enabled", "on".into());
    }
    let opt = |x: &Option<f64>| x.map(fmt_num).unwrap_or_default();
    match &r.kind {
        RuleKind::Threshold {
            direction,
            levels,
            hysteresis,
            sustain_secs,
        } => {
            put(
                "direction",
                match direction {
                    Direction::Above => "above",
                    Direction::Below => "below",
                }
                .into(),
            );
            put("level1", opt(&levels[0]));
            put("level2", opt(&levels[1]));
            put("level3", opt(&levels[2]));
            put("hysteresis", fmt_num(*hysteresis));
            put("sustain_secs", sustain_secs.to_string());
        }
        RuleKind::RateOfChange { per_minute, level } => {
            put("per_minute", fmt_num(*per_minute));
            put("rate_level", level.to_string());
        }
        RuleKind::Offline { minutes, level } => {
            put("minutes", minutes.to_string());
            put("offline_level", level.to_string());
        }
        RuleKind::ConstructionNoise {
            day_limit,
            night_limit,
            night_max_excess,
            day_starts_hour,
            night_starts_hour,
            hysteresis,
            level,
        } => {
            put("day_limit", fmt_num(*day_limit));
            put("night_limit", fmt_num(*night_limit));
            put("night_max_excess", fmt_num(*night_max_excess));
            put("day_starts_hour", day_starts_hour.to_string());
            put("night_starts_hour", night_starts_hour.to_string());
            put("noise_hysteresis", fmt_num(*hysteresis));
            put("noise_level", level.to_string());
        }
        RuleKind::Waterlogging {
            depth_levels,
            min_rainfall,
            rain_window_mins,
            hysteresis,
        } => {
            put("depth1", opt(&depth_levels[0]));
            put("depth2", opt(&depth_levels[1]));
            put("depth3", opt(&depth_levels[2]));
            put("min_rainfall", fmt_num(*min_rainfall));
            put("rain_window_mins", rain_window_mins.to_string());
            put("flood_hysteresis", fmt_num(*hysteresis));
        }
    }
    v
}

/// The values a new rule's form starts with.
fn new_values() -> HashMap<String, String> {
    [
        ("kind", "threshold"),
        ("metric", "ch4_lel"),
        ("direction", "above"),
        ("hysteresis", "0"),
        ("sustain_secs", "0"),
        ("per_minute", "1"),
        ("rate_level", "2"),
        ("minutes", "30"),
        ("offline_level", "1"),
        ("day_limit", "70"),
        ("night_limit", "55"),
        ("night_max_excess", "15"),
        ("day_starts_hour", "6"),
        ("night_starts_hour", "22"),
        ("noise_hysteresis", "1"),
        ("noise_level", "1"),
        ("min_rainfall", "5"),
        ("rain_window_mins", "60"),
        ("flood_hysteresis", "2"),
        ("clear_after_secs", "300"),
        ("enabled", "on"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn level_options(m: &MonitoringTr, value: &str) -> Vec<(String, String, bool)> {
    (1..=3u8)
        .map(|l| {
            (
                l.to_string(),
                m.level(l).to_string(),
                value == l.to_string(),
            )
        })
        .collect()
}

/// The parameter fieldsets of the kinds (each input named uniquely across kinds, so that a form
/// posted without JS — every fieldset shown — is still read unambiguously).
fn fieldsets(
    m: &MonitoringTr,
    v: &HashMap<String, String>,
    only: Option<&str>,
) -> Vec<FieldsetView> {
    let val = |k: &str| v.get(k).cloned().unwrap_or_default();
    let number = |name: &'static str, label: &'static str, step: &'static str| FieldView {
        name,
        label,
        value: val(name),
        options: Vec::new(),
        step,
        hint: None,
    };
    let level = |name: &'static str| FieldView {
        name,
        label: m.r_level,
        options: level_options(m, &val(name)),
        value: val(name),
        step: "1",
        hint: None,
    };
    let selected = v.get("kind").map_or("threshold", String::as_str);
    KINDS
        .iter()
        .filter(|k| only.is_none_or(|o| o == **k))
        .map(|kind| {
            let fields = match *kind {
                "threshold" => vec![
                    FieldView {
                        name: "direction",
                        label: m.r_direction,
                        options: ["above", "below"]
                            .iter()
                            .map(|d| {
                                let dir = if *d == "above" {
                                    Direction::Above
                                } else {
                                    Direction::Below
                                };
                                (
                                    d.to_string(),
                                    m.direction(dir).to_string(),
                                    val("direction") == *d,
                                )
                            })
                            .collect(),
                        value: val("direction"),
                        step: "",
                        hint: None,
                    },
                    FieldView {
                        hint: Some(m.r_levels_hint),
                        ..number("level1", m.r_level1, "any")
                    },
                    number("level2", m.r_level2, "any"),
                    number("level3", m.r_level3, "any"),
                    number("hysteresis", m.r_hysteresis, "any"),
                    number("sustain_secs", m.r_sustain, "1"),
                ],
                "rate_of_change" => vec![
                    number("per_minute", m.r_per_minute, "any"),
                    level("rate_level"),
                ],
                "offline" => vec![number("minutes", m.r_minutes, "1"), level("offline_level")],
                "construction_noise" => vec![
                    number("day_limit", m.r_day_limit, "any"),
                    number("night_limit", m.r_night_limit, "any"),
                    number("night_max_excess", m.r_night_max_excess, "any"),
                    number("day_starts_hour", m.r_day_starts, "1"),
                    number("night_starts_hour", m.r_night_starts, "1"),
                    number("noise_hysteresis", m.r_hysteresis, "any"),
                    level("noise_level"),
                ],
                _ => vec![
                    FieldView {
                        hint: Some(m.r_levels_hint),
                        ..number("depth1", m.r_depth1, "any")
                    },
                    number("depth2", m.r_depth2, "any"),
                    number("depth3", m.r_depth3, "any"),
                    number("min_rainfall", m.r_min_rainfall, "any"),
                    number("rain_window_mins", m.r_rain_window, "1"),
                    number("flood_hysteresis", m.r_hysteresis, "any"),
                ],
            };
            FieldsetView {
                kind,
                legend: m.kind(kind),
                hidden: only.is_none() && selected != *kind,
                fields,
            }
        })
        .collect()
}

/// A form over `values`: a new rule (`id` 0, every kind offered) or rule `id` (its kind only).
fn form(
    m: &MonitoringTr,
    id: i64,
    v: &HashMap<String, String>,
    error: Option<String>,
) -> RuleFormView {
    let val = |k: &str| v.get(k).cloned().unwrap_or_default();
    let kind = KINDS
        .iter()
        .copied()
        .find(|k| v.get("kind").is_some_and(|x| x == k))
        .unwrap_or("threshold");
    let metric = val("metric");
    let case_level = val("case_level");
    RuleFormView {
        id,
        action: if id == 0 {
            "/monitoring/rules".to_string()
        } else {
            format!("/monitoring/rules/{id}")
        },
        is_new: id == 0,
        key: if id == 0 {
            "new".to_string()
        } else {
            format!("r{id}")
        },
        kind,
        kinds: KINDS.iter().map(|k| (*k, m.kind(k), *k == kind)).collect(),
        profile: val("profile"),
        name: val("name"),
        metrics: Metric::ALL
            .iter()
            .map(|x| {
                (
                    x.as_str().to_string(),
                    format!("{} ({})", m.metric(*x), x.unit()),
                    metric == x.as_str(),
                )
            })
            .collect(),
        case_levels: std::iter::once((
            String::new(),
            m.r_no_case.to_string(),
            case_level.is_empty(),
        ))
        .chain(
            level_options(m, &case_level)
                .into_iter()
                .map(|(v, l, s)| (v, format!("≥ {l}"), s)),
        )
        .collect(),
        category: val("category_code"),
        clear_after: val("clear_after_secs"),
        enabled: v.get("enabled").is_some_and(|e| e == "on" || e == "true"),
        sets: fieldsets(m, v, (id != 0).then_some(kind)),
        error,
    }
}

/// Reads a rule from the form's values; the first problem named in the user's language.
fn parse_rule(m: &MonitoringTr, id: i64, v: &HashMap<String, String>) -> Result<Rule, String> {
    let text = |k: &str| {
        v.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let opt_f64 = |k: &str, label: &str| -> Result<Option<f64>, String> {
        match text(k) {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| m.not_a_number(label, &s)),
        }
    };
    let f64_of = |k: &str, label: &str| -> Result<f64, String> {
        opt_f64(k, label)?.ok_or_else(|| m.required(label))
    };
    let u32_of = |k: &str, label: &str| -> Result<u32, String> {
        let s = text(k).ok_or_else(|| m.required(label))?;
        s.parse::<u32>().map_err(|_| m.not_a_number(label, &s))
    };
    let non_negative = |x: f64, label: &str| {
        if x >= 0.0 {
            Ok(x)
        } else {
            Err(m.err_negative.replace("{f}", label))
        }
    };
    let level_of = |k: &str| -> Result<u8, String> {
        text(k)
            .and_then(|s| s.parse::<u8>().ok())
            .filter(|l| (1..=3).contains(l))
            .ok_or_else(|| m.err_level.to_string())
    };
    let ordered = |dir: Direction, ls: &[Option<f64>; 3]| {
        let used: Vec<f64> = ls.iter().flatten().copied().collect();
        !used.is_empty()
            && used.windows(2).all(|w| match dir {
                Direction::Above => w[0] < w[1],
                Direction::Below => w[0] > w[1],
            })
    };
    let profile = text("profile").ok_or_else(|| m.required(m.r_profile))?;
    let name = text("name").ok_or_else(|| m.required(m.r_name))?;
    if profile.chars().count() > 64 || name.chars().count() > 100 {
        return Err(m.err_too_long.to_string());
    }
    let kind_key = text("kind").unwrap_or_default();
    let mut metric: Metric = text("metric")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| m.err_metric.to_string())?;
    let kind = match kind_key.as_str() {
        "threshold" => {
            let direction = match text("direction").as_deref() {
                Some("below") => Direction::Below,
                _ => Direction::Above,
            };
            let levels = [
                opt_f64("level1", m.r_level1)?,
                opt_f64("level2", m.r_level2)?,
                opt_f64("level3", m.r_level3)?,
            ];
            if !ordered(direction, &levels) {
                return Err(m.err_levels.to_string());
            }
            RuleKind::Threshold {
                direction,
                levels,
                hysteresis: non_negative(
                    opt_f64("hysteresis", m.r_hysteresis)?.unwrap_or(0.0),
                    m.r_hysteresis,
                )?,
                sustain_secs: match text("sustain_secs") {
                    None => 0,
                    Some(_) => u32_of("sustain_secs", m.r_sustain)?,
                },
            }
        }
        "rate_of_change" => {
            let per_minute = f64_of("per_minute", m.r_per_minute)?;
            if per_minute <= 0.0 {
                return Err(m.err_positive.replace("{f}", m.r_per_minute));
            }
            RuleKind::RateOfChange {
                per_minute,
                level: level_of("rate_level")?,
            }
        }
        "offline" => {
            let minutes = u32_of("minutes", m.r_minutes)?;
            if minutes == 0 {
                return Err(m.err_positive.replace("{f}", m.r_minutes));
            }
            RuleKind::Offline {
                minutes,
                level: level_of("offline_level")?,
            }
        }
        "construction_noise" => {
            metric = Metric::Laeq;
            let hour = |k: &str, label: &str| -> Result<u8, String> {
                u32_of(k, label)?
                    .try_into()
                    .ok()
                    .filter(|h: &u8| *h < 24)
                    .ok_or_else(|| m.err_hours.to_string())
            };
            let day_starts_hour = hour("day_starts_hour", m.r_day_starts)?;
            let night_starts_hour = hour("night_starts_hour", m.r_night_starts)?;
            if day_starts_hour == night_starts_hour {
                return Err(m.err_hours.to_string());
            }
            RuleKind::ConstructionNoise {
                day_limit: f64_of("day_limit", m.r_day_limit)?,
                night_limit: f64_of("night_limit", m.r_night_limit)?,
                night_max_excess: non_negative(
                    f64_of("night_max_excess", m.r_night_max_excess)?,
                    m.r_night_max_excess,
                )?,
                day_starts_hour,
                night_starts_hour,
                hysteresis: non_negative(
                    opt_f64("noise_hysteresis", m.r_hysteresis)?.unwrap_or(0.0),
                    m.r_hysteresis,
                )?,
                level: level_of("noise_level")?,
            }
        }
        "waterlogging" => {
            metric = Metric::Depth;
            let depth_levels = [
                opt_f64("depth1", m.r_depth1)?,
                opt_f64("depth2", m.r_depth2)?,
                opt_f64("depth3", m.r_depth3)?,
            ];
            if !ordered(Direction::Above, &depth_levels) {
                return Err(m.err_levels.to_string());
            }
            let rain_window_mins = u32_of("rain_window_mins", m.r_rain_window)?;
            if rain_window_mins == 0 {
                return Err(m.err_positive.replace("{f}", m.r_rain_window));
            }
            RuleKind::Waterlogging {
                depth_levels,
                min_rainfall: non_negative(
                    f64_of("min_rainfall", m.r_min_rainfall)?,
                    m.r_min_rainfall,
                )?,
                rain_window_mins,
                hysteresis: non_negative(
                    opt_f64("flood_hysteresis", m.r_hysteresis)?.unwrap_or(0.0),
                    m.r_hysteresis,
                )?,
            }
        }
        _ => return Err(m.err_kind.to_string()),
    };
    let case_level = match text("case_level") {
        None => None,
        Some(_) => Some(level_of("case_level")?),
    };
    let category_code = text("category_code");
    if let Some(c) = &category_code
        && !(c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(m.err_category.replace("{v}", c));
    }
    if case_level.is_some() && category_code.is_none() {
        return Err(m.err_case_category.to_string());
    }
    let clear_after_secs = match text("clear_after_secs") {
        None => cityops_domain::monitoring::rules::DEFAULT_CLEAR_AFTER_SECS,
        Some(_) => u32_of("clear_after_secs", m.r_clear_after)?,
    };
    if clear_after_secs > 86_400 {
        return Err(m.not_a_number(m.r_clear_after, &clear_after_secs.to_string()));
    }
    let rule = Rule {
        id,
        profile,
        name,
        metric,
        kind,
        case_level,
        category_code,
        clear_after_secs,
        enabled: v.get("enabled").is_some_and(|e| e == "on" || e == "true"),
    };
    rule.check()
        .map_err(|e| format!("{}{e}", m.err_not_saved))?;
    Ok(rule)
}

/// The rule list and the forms: the one being edited (or refused), the new one.
async fn show(
    st: &UiState,
    ctx: &Ctx,
    status: StatusCode,
    editing: Option<(i64, HashMap<String, String>, Option<String>)>,
    new: Option<(HashMap<String, String>, Option<String>)>,
    saved: bool,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let m = lang.monitoring();
    let (service, _scope) = match guard(st, ctx, Section::Rules).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let rules = service
        .rules(&ctx.user)
        .await
        .map_err(super::cases::service_error)
        .lang(lang)?;
    let admin = ctx.user.has_role(Role::Admin);
    let mut groups: Vec<ProfileGroup> = Vec::new();
    let mut sorted: Vec<&Rule> = rules.iter().collect();
    sorted.sort_by(|a, b| {
        let order = |p: &str| {
            DeviceType::ALL
                .iter()
                .position(|t| t.default_profile() == p)
                .unwrap_or(usize::MAX)
        };
        (order(&a.profile), &a.profile, a.id).cmp(&(order(&b.profile), &b.profile, b.id))
    });
    for r in sorted {
        if groups.last().is_none_or(|g| g.key != r.profile) {
            let title = match r.profile.parse::<DeviceType>() {
                Ok(t) => lang.named(m.device_type(t), &r.profile),
                Err(_) => r.profile.clone(),
            };
            groups.push(ProfileGroup {
                key: r.profile.clone(),
                title,
                rules: Vec::new(),
            });
        }
        let metric = match r.kind {
            RuleKind::Offline { .. } => "—".to_string(),
            _ => format!("{} ({})", m.metric(r.metric), r.metric.unit()),
        };
        if let Some(g) = groups.last_mut() {
            g.rules.push(RuleItem {
                id: r.id,
                name: r.name.clone(),
                kind: m.kind(kind_key(&r.kind)),
                metric,
                params: m.params(&r.kind, r.metric),
                case: match (r.case_level, &r.category_code) {
                    (Some(l), Some(c)) => format!("≥ {} · {c}", m.level(l)),
                    (Some(l), None) => format!("≥ {}", m.level(l)),
                    (None, _) => m.r_no_case.to_string(),
                },
                clear: format!("{} {}", r.clear_after_secs, m.seconds),
                enabled: r.enabled,
            });
        }
    }
    let mut profiles: Vec<String> = DeviceType::ALL
        .iter()
        .map(|t| t.default_profile().to_string())
        .collect();
    for r in &rules {
        if !profiles.contains(&r.profile) {
            profiles.push(r.profile.clone());
        }
    }
    let (editing_id, edit_form) = match editing {
        Some((id, values, error)) if admin => (id, Some(form(m, id, &values, error))),
        _ => (0, None),
    };
    let new_open = new.is_some();
    let new_form = admin.then(|| {
        let (values, error) = new.unwrap_or_else(|| (new_values(), None));
        form(m, 0, &values, error)
    });
    let l = Layout::new(st, ctx, Section::Rules, m.rules_title).await;
    render(
        status,
        &RulesPage {
            l,
            m,
            admin,
            groups,
            editing: editing_id,
            edit_form,
            new_form,
            new_open,
            saved,
            profiles,
        },
        lang,
    )
}

/// `GET /monitoring/rules?edit={id}`
pub(crate) async fn page(
    State(st): State<UiState>,
    ctx: Ctx,
    Query(q): Query<RulesQuery>,
) -> Result<Response, PageError> {
    let editing = match num::<i64>(&q.edit) {
        Some(id) if ctx.user.has_role(Role::Admin) => {
            let Ok(service) = st.app.monitoring() else {
                return show(&st, &ctx, StatusCode::OK, None, None, false).await;
            };
            service
                .registry()
                .rule(id)
                .map(|r| (id, rule_values(r), None))
        }
        _ => None,
    };
    let new = q.new.is_some().then(|| (new_values(), None));
    show(&st, &ctx, StatusCode::OK, editing, new, q.saved.is_some()).await
}

/// Saves a rule from the form, or shows the form again with why not.
async fn save(
    st: &UiState,
    ctx: &Ctx,
    id: i64,
    values: HashMap<String, String>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let m = lang.monitoring();
    let refuse = |values, error: String, status| async move {
        if id == 0 {
            show(st, ctx, status, None, Some((values, Some(error))), false).await
        } else {
            show(
                st,
                ctx,
                status,
                Some((id, values, Some(error))),
                None,
                false,
            )
            .await
        }
    };
    let forbidden = || async {
        status_page(
            st,
            ctx,
            StatusCode::FORBIDDEN,
            Section::Rules,
            lang.tr().forbidden_title,
            lang.monitoring().rules_read_only,
        )
        .await
    };
    if !ctx.user.has_role(Role::Admin) {
        return forbidden().await;
    }
    let (service, _scope) = match guard(st, ctx, Section::Rules).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let rule = match parse_rule(m, id, &values) {
        Ok(r) => r,
        Err(e) => return refuse(values, e, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match service.save_rule(&ctx.user, rule).await {
        Ok(saved) => Ok(see_other(&format!(
            "/monitoring/rules?saved={}#rule-{}",
            saved.id, saved.id
        ))),
        Err(ServiceError::Invalid(e)) => {
            refuse(
                values,
                format!("{}{e}", m.err_not_saved),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::NotFound(_)) => {
            refuse(values, m.err_not_found.to_string(), StatusCode::NOT_FOUND).await
        }
        Err(ServiceError::Forbidden(_)) => forbidden().await,
        Err(e) => Err(super::cases::service_error(e)).lang(lang),
    }
}

/// The form's fields (without the CSRF token).
fn values_of(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect()
}

/// `POST /monitoring/rules`: a new rule.
pub(crate) async fn create(
    State(st): State<UiState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    save(&st, &ctx, 0, values_of(pairs)).await
}

/// `POST /monitoring/rules/{id}`: replaces rule `id`.
pub(crate) async fn update(
    State(st): State<UiState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    match id.parse::<i64>() {
        Ok(id) if id > 0 => save(&st, &ctx, id, values_of(pairs)).await,
        _ => {
            status_page(
                &st,
                &ctx,
                StatusCode::NOT_FOUND,
                Section::Rules,
                ctx.lang.tr().not_found_title,
                ctx.lang.monitoring().err_not_found,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n_monitoring::MONITORING_ZH as M;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut v = new_values();
        for (k, x) in pairs {
            v.insert(k.to_string(), x.to_string());
        }
        v
    }

    #[test]
    fn a_rule_round_trips_through_its_form() {
        let v = values(&[
            ("profile", "gas_detector"),
            ("name", "甲烷"),
            ("level1", "10"),
            ("level2", "25"),
            ("level3", "50"),
            ("hysteresis", "1"),
            ("case_level", "2"),
            ("category_code", "01002"),
        ]);
        let r = parse_rule(&M, 3, &v).unwrap();
        assert_eq!(r.case_level, Some(2));
        let back = rule_values(&r);
        assert_eq!(parse_rule(&M, 3, &back).unwrap(), r);
        for kind in KINDS {
            let mut v = v.clone();
            v.insert("kind".into(), kind.into());
            v.insert("depth1".into(), "15".into());
            let r = parse_rule(&M, 0, &v).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(kind_key(&r.kind), kind);
            assert_eq!(parse_rule(&M, 0, &rule_values(&r)).unwrap(), r);
        }
    }

    #[test]
    fn problems_are_named() {
        let base = [("profile", "p"), ("name", "n"), ("level1", "10")];
        let err = |extra: &[(&str, &str)]| {
            let mut v = values(&base);
            for (k, x) in extra {
                v.insert(k.to_string(), x.to_string());
            }
            parse_rule(&M, 0, &v).unwrap_err()
        };
        assert_eq!(err(&[("level2", "5")]), M.err_levels);
        assert_eq!(err(&[("level1", "")]), M.err_levels);
        assert!(err(&[("level2", "abc")]).contains("abc"));
        assert_eq!(err(&[("case_level", "2")]), M.err_case_category);
        assert!(err(&[("category_code", "12")]).contains("12"));
        assert!(err(&[("name", " ")]).contains(M.r_name));
        assert_eq!(err(&[("kind", "nope")]), M.err_kind);
        assert!(err(&[("hysteresis", "-1")]).contains(M.r_hysteresis));
    }
}
