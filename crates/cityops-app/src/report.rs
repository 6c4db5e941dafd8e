//! 报表 (reports) as a service: the daily briefing (晨报), the weekly (周报) and monthly (月报)
//! reports of the city and of each district — produced on the schedule of the working calendar
//! ([`cityops_domain::report`]) by [`spawn`], or on demand by a leader, kept once per kind,
//! period and scope, and read back from the history within the reader's region.
//!
//! A report is a snapshot: its content (JSON, [`ReportContent`]) is computed when it is
//! produced and never recomputed, so a leader who downloads last month's report next year reads
//! what was sent then. What it counts comes from the same places as the console's figures: the
//! period's cases and their evaluation records (the domain's [`tally`]), the store's dashboard
//! figures (categories, days, overdue cases at the time of production) and the department
//! evaluation (综合评价).
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cityops_domain::case::CaseVisibility;
use cityops_domain::evaluation::Kind;
use cityops_domain::report::{ReportKind, ReportPeriod, Totals, tally};
use cityops_domain::{Page, PageRequest, RegionLevel, Role, Scope, User};
use cityops_store::{
    DashboardQuery, NewReport, RegionQuery, ReportFilter, ReportKey, ReportSummary, StoredReport,
};
use serde::{Deserialize, Serialize};

use crate::dashboard::day_start;
use crate::error::{Result, ServiceError};
use crate::evaluation::{EvaluationQuery, Period};
use crate::service::CaseService;

/// The roles that read reports: leaders (领导), the command centre's supervisors (值班长) and
/// dispatchers (派遣员), administrators.
pub const REPORT_ROLES: [Role; 4] = [
    Role::Leader,
    Role::Supervisor,
    Role::Dispatcher,
    Role::Admin,
];

/// Whether `user` reads reports (the navigation shows 报表 to them).
pub fn may_read_reports(user: &User) -> bool {
    REPORT_ROLES.iter().any(|r| user.has_role(*r))
}

/// Whether `user` may produce a report on demand: leaders and administrators.
pub fn may_produce_reports(user: &User) -> bool {
    user.has_role(Role::Leader) || user.has_role(Role::Admin)
}

fn require_reader(user: &User) -> Result<()> {
    if may_read_reports(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "reports are for leaders, the command centre and administrators".into(),
        ))
    }
}

/// A count with its key's name and its share of the whole, in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedCount {
    pub key: String,
    pub name: String,
    pub count: u64,
    pub share: f64,
}

/// One day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLine {
    pub day: NaiveDate,
    pub reported: u64,
    pub closed: u64,
}

/// An overdue open case at the time of production (超期案件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueLine {
    pub id: i64,
    pub code: String,
    pub category: String,
    pub department: String,
    pub place: String,
    pub address: String,
    pub due: DateTime<Utc>,
    /// Hours past the due time (calendar hours).
    pub overdue_hours: f64,
}

/// A figure of the department evaluation, by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureLabel {
    pub key: String,
    pub zh: String,
    pub en: String,
}

/// A department's line of the evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentLine {
    pub rank: u32,
    pub name: String,
    /// In the order of [`ReportContent::department_figures`].
    pub counts: Vec<u64>,
    pub score: f64,
    pub grade: String,
}

/// What a report says: everything its page, CSV and XLSX show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportContent {
    pub kind: ReportKind,
    pub period: ReportPeriod,
    /// The district it covers; `None` for the city.
    pub region_code: Option<String>,
    /// 惠州市 or the district's name.
    pub scope_name: String,
    /// The instant it was computed at.
    pub as_of: DateTime<Utc>,
    /// The period's cases (those reported in it), as of `as_of`.
    pub totals: Totals,
    /// The period before, of the same length (环比), as of `as_of`.
    pub previous_period: ReportPeriod,
    pub previous: Totals,
    pub by_source: Vec<NamedCount>,
    pub top_categories: Vec<NamedCount>,
    pub top_streets: Vec<NamedCount>,
    pub days: Vec<DayLine>,
    /// Every open case past its stage's due time at `as_of`, within the scope …
    pub overdue_total: u64,
    /// … the longest overdue of them.
    pub overdue: Vec<OverdueLine>,
    pub department_figures: Vec<FigureLabel>,
    pub departments: Vec<DepartmentLine>,
}

impl ReportContent {
    /// The title: `惠州市晨报 2026-11-02` / `惠城区月报 2026-10-01 – 2026-10-31`.
    pub fn title(&self) -> String {
        format!("{}{} {}", self.scope_name, self.kind.name_zh(), self.period)
    }
}

/// A kept report and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub summary: ReportSummary,
    pub content: ReportContent,
}

/// The names reports show: the city's, the districts' (code, name) and the streets' by code.
struct ReportNames {
    city: String,
    districts: Vec<(String, String)>,
    streets: HashMap<String, String>,
}

/// The source names of the report (the case sources of the domain).
fn source_name(s: &str) -> String {
    s.parse::<cityops_domain::case::CaseSource>()
        .map(|s| s.name_zh().to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn share(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (n as f64 * 10_000.0 / total as f64).round() / 100.0
    }
}

/// The reader of a scope: what a report of the city (or of a district) may count.
fn scope_user(region_code: Option<&str>) -> User {
    User {
        id: 0,
        username: "reports".into(),
        display_name: "报表".into(),
        roles: vec![Role::Leader],
        scope: Scope {
            region_code: region_code.map(str::to_string),
            department_id: None,
        },
        active: true,
        grids: Vec::new(),
    }
}

/// The standard period of `kind` that holds `day`: that day, its ISO week or its month.
pub fn period_of(kind: ReportKind, day: NaiveDate) -> ReportPeriod {
    match kind {
        ReportKind::Daily => ReportPeriod {
            from: day,
            to: day + Duration::days(1),
        },
        ReportKind::Weekly => {
            let from = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            ReportPeriod {
                from,
                to: from + Duration::days(7),
            }
        }
        ReportKind::Monthly => {
            let p = Period::month_of(day);
            ReportPeriod {
                from: p.from,
                to: p.to,
            }
        }
    }
}

impl CaseService {
    /// The regions of one level: code and name.
    async fn regions_of(&self, level: RegionLevel) -> Result<Vec<(String, String)>> {
        let query = RegionQuery {
            level: Some(level),
            ..Default::default()
        };
        Ok(
            crate::evaluation::all_pages(|page| self.store().list_regions(&query, page))
                .await?
                .into_iter()
                .map(|r| (r.code, r.name))
                .collect(),
        )
    }

    /// The names a report shows, read once for a batch of reports.
    async fn report_names(&self) -> Result<ReportNames> {
        let (city, districts, streets) = tokio::try_join!(
            self.regions_of(RegionLevel::City),
            self.regions_of(RegionLevel::District),
            self.regions_of(RegionLevel::Street),
        )?;
        Ok(ReportNames {
            city: city
                .into_iter()
                .next()
                .map_or_else(|| "全市".to_string(), |(_, name)| name),
            districts,
            streets: streets.into_iter().collect(),
        })
    }

    /// Computes what the report of `key` says, as of now.
    async fn compose_report(&self, key: &ReportKey, names: &ReportNames) -> Result<ReportContent> {
        let settings = self.config().reports.clone();
        let top = settings.top;
        let user = scope_user(key.region_code.as_deref());
        let vis = CaseVisibility::for_user(&user);
        let tz = self.calendar().config().tz;
        let now = self.clock().now();
        let period = key.period;
        let previous_period = period.previous();
        let bounds = |p: ReportPeriod| (day_start(&tz, p.from), day_start(&tz, p.to));
        let (from, to) = bounds(period);
        let days: Vec<NaiveDate> = (0..period.days().min(366))
            .map(|i| period.from + Duration::days(i))
            .collect();
        let mut day_bounds: Vec<DateTime<Utc>> = days.iter().map(|d| day_start(&tz, *d)).collect();
        day_bounds.push(day_start(
            &tz,
            period.from + Duration::days(days.len() as i64),
        ));
        let dashboard_query = DashboardQuery {
            from,
            to,
            days: days.clone(),
            day_bounds,
            now,
            overdue_limit: top as u32,
        };
        let store = self.store();
        let (cases, before, dashboard) = tokio::try_join!(
            self.period_cases_within(&vis, Period::new(period.from, period.to)?),
            self.period_cases_within(&vis, Period::new(previous_period.from, previous_period.to)?),
            async { Ok::<_, ServiceError>(store.dashboard(&dashboard_query, &vis).await?) },
        )?;
        let as_of = now.timestamp();
        let tallies = tally(&cases, as_of, top);
        let previous = tally(&before, as_of, 0).totals;
        let total = tallies.totals.reported;

        let catalogue = self.catalogue().await?;
        let streets = &names.streets;
        let scope_name = match &key.region_code {
            None => names.city.clone(),
            Some(code) => names
                .districts
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| code.clone(), |(_, name)| name.clone()),
        };
        let by_source = tallies
            .by_source
            .iter()
            .map(|c| NamedCount {
                name: source_name(&c.key),
                key: c.key.clone(),
                count: c.count,
                share: share(c.count, total),
            })
            .collect();
        let top_categories = dashboard
            .by_category
            .iter()
            .take(top)
            .map(|c| {
                let code = c.code.clone().unwrap_or_default();
                let name = c
                    .kind
                    .zip(c.code.as_deref())
                    .and_then(|(k, code)| catalogue.category(k, code))
                    .map(|cat| cat.name.clone())
                    .unwrap_or_else(|| "未分类".to_string());
                NamedCount {
                    key: match c.kind {
                        Some(k) => format!("{}:{code}", k.as_str()),
                        None => code,
                    },
                    name,
                    count: c.count,
                    share: share(c.count, total),
                }
            })
            .collect();
        let top_streets = tallies
            .top_streets
            .iter()
            .map(|c| NamedCount {
                name: streets
                    .get(&c.key)
                    .cloned()
                    .unwrap_or_else(|| c.key.clone()),
                key: c.key.clone(),
                count: c.count,
                share: share(c.count, total),
            })
            .collect();
        let day_lines = dashboard
            .daily
            .iter()
            .map(|d| DayLine {
                day: d.day,
                reported: d.reported,
                closed: d.closed,
            })
            .collect();
        let overdue = dashboard
            .overdue
            .iter()
            .map(|c| {
                let due = c.clock.as_ref().and_then(|k| k.due).unwrap_or(now);
                OverdueLine {
                    id: c.id,
                    code: c.code.clone(),
                    category: c
                        .category_kind
                        .zip(c.category_code.as_deref())
                        .and_then(|(k, code)| catalogue.category(k, code))
                        .map(|cat| cat.name.clone())
                        .unwrap_or_default(),
                    department: c
                        .department_id
                        .and_then(|d| catalogue.department(d))
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                    place: c
                        .location
                        .street_code
                        .as_ref()
                        .and_then(|s| streets.get(s))
                        .cloned()
                        .unwrap_or_default(),
                    address: c.location.address.clone().unwrap_or_default(),
                    due,
                    overdue_hours: ((now - due).num_minutes().max(0) as f64 / 6.0).round() / 10.0,
                }
            })
            .collect();

        let evaluation = self
            .evaluate(
                &user,
                &EvaluationQuery {
                    kind: Kind::Departments,
                    period: Period::new(period.from, period.to)?,
                    level: RegionLevel::District,
                },
            )
            .await?;
        let department_figures = evaluation
            .figures
            .iter()
            .map(|f| FigureLabel {
                key: f.key.to_string(),
                zh: f.zh.to_string(),
                en: f.en.to_string(),
            })
            .collect();
        let departments = evaluation
            .rows
            .into_iter()
            .map(|r| DepartmentLine {
                rank: r.row.rank,
                name: r.name,
                counts: r.row.counts,
                score: r.row.score,
                grade: r.row.grade.as_str().to_string(),
            })
            .collect();
        Ok(ReportContent {
            kind: key.kind,
            period,
            region_code: key.region_code.clone(),
            scope_name,
            as_of: now,
            totals: tallies.totals,
            previous_period,
            previous,
            by_source,
            top_categories,
            top_streets,
            days: day_lines,
            overdue_total: dashboard.overdue_total,
            overdue,
            department_figures,
            departments,
        })
    }

    /// Computes and keeps the report of `key` (nothing when it is kept already): the kept
    /// report's line, and whether this call produced it.
    async fn keep_report(
        &self,
        key: &ReportKey,
        by: Option<i64>,
        names: &ReportNames,
    ) -> Result<(ReportSummary, bool)> {
        let content = self.compose_report(key, names).await?;
        let json = serde_json::to_string(&content)
            .map_err(|e| ServiceError::Invalid(format!("report content: {e}")))?;
        let saved = self
            .store()
            .save_report(&NewReport {
                key: key.clone(),
                produced_at: content.as_of,
                produced_by: by,
                content: json,
            })
            .await?;
        match saved {
            Some(s) => Ok((s, true)),
            None => {
                // Kept meanwhile (by another process): answer that one.
                let filter = ReportFilter {
                    kind: Some(key.kind),
                    region_code: Some(key.region_code.clone()),
                    period: Some(key.period),
                };
                let page = self
                    .store()
                    .list_reports(
                        &filter,
                        &CaseVisibility::everything(),
                        PageRequest {
                            page: 1,
                            page_size: 1,
                        },
                    )
                    .await?;
                page.items
                    .into_iter()
                    .find(|s| s.key == *key)
                    .map(|s| (s, false))
                    .ok_or_else(|| ServiceError::Conflict("the report was not kept".into()))
            }
        }
    }

    /// Produces every report the schedule says is due by now and that is not kept yet (the
    /// city's, and each district's when configured), oldest first. Returns how many it kept.
    pub async fn produce_due_reports(&self) -> Result<u64> {
        let schedule = self.config().reports.clone();
        if schedule.kinds.is_empty() {
            return Ok(0);
        }
        let cal = self.calendar();
        let now = self
            .clock()
            .now()
            .with_timezone(&cal.config().tz)
            .naive_local();
        let due = schedule.due(&cal, now);
        let Some(earliest) = due.iter().map(|(_, p)| p.to).min() else {
            return Ok(0);
        };
        let kept: BTreeSet<ReportKey> = self
            .store()
            .report_keys_since(earliest)
            .await?
            .into_iter()
            .collect();
        let names = self.report_names().await?;
        let mut scopes: Vec<Option<String>> = vec![None];
        if schedule.districts {
            scopes.extend(names.districts.iter().map(|(c, _)| Some(c.clone())));
        }
        let mut produced = 0;
        for (kind, period) in due {
            for scope in &scopes {
                let key = ReportKey {
                    kind,
                    period,
                    region_code: scope.clone(),
                };
                if kept.contains(&key) {
                    continue;
                }
                let (_, new) = self.keep_report(&key, None, &names).await?;
                produced += u64::from(new);
            }
        }
        if produced > 0 {
            tracing::info!(produced, "reports produced on schedule");
        }
        Ok(produced)
    }

    /// A leader's report on demand: the standard period of `kind` holding `day` (which must be
    /// over), of the city or of a district within the leader's region. The kept one when it
    /// exists (`false`), else a new one (`true`).
    pub async fn produce_report(
        &self,
        user: &User,
        kind: ReportKind,
        day: NaiveDate,
        region_code: Option<String>,
    ) -> Result<(ReportSummary, bool)> {
        if !may_produce_reports(user) {
            return Err(ServiceError::Forbidden(
                "only leaders and administrators produce reports".into(),
            ));
        }
        if !cityops_domain::calendar::CALENDAR_YEARS.contains(&day.year()) {
            return Err(ServiceError::Invalid(format!(
                "a report covers days of the years {}–{}, not {day}",
                cityops_domain::calendar::CALENDAR_YEARS.start(),
                cityops_domain::calendar::CALENDAR_YEARS.end()
            )));
        }
        let period = period_of(kind, day);
        let today = self.today();
        if period.to > today {
            return Err(ServiceError::Invalid(format!(
                "the {} of {} is not over yet: a report covers past days only",
                kind.as_str(),
                period
            )));
        }
        let names = self.report_names().await?;
        if let Some(code) = &region_code
            && !names.districts.iter().any(|(c, _)| c == code)
        {
            return Err(ServiceError::Invalid(format!(
                "{code:?} is not a district of the city"
            )));
        }
        let key = ReportKey {
            kind,
            period,
            region_code,
        };
        // The scope must be the user's own: the same check as reading it.
        let vis = CaseVisibility::for_user(user);
        if !cityops_store::report_scope_admits(&vis, key.region_code.as_deref()) {
            return Err(ServiceError::Forbidden(
                "that report's region lies outside yours".into(),
            ));
        }
        self.keep_report(&key, Some(user.id), &names).await
    }

    /// The history of reports `user` may read, newest first.
    pub async fn reports(
        &self,
        user: &User,
        filter: &ReportFilter,
        page: PageRequest,
    ) -> Result<Page<ReportSummary>> {
        require_reader(user)?;
        Ok(self
            .store()
            .list_reports(filter, &CaseVisibility::for_user(user), page)
            .await?)
    }

    /// One kept report, if `user` may read it (`NotFound` otherwise).
    pub async fn report_by_id(&self, user: &User, id: i64) -> Result<Report> {
        require_reader(user)?;
        let StoredReport { summary, content } = self
            .store()
            .report(id, &CaseVisibility::for_user(user))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no report {id}")))?;
        let content = serde_json::from_str(&content)
            .map_err(|e| ServiceError::Invalid(format!("report {id} cannot be read: {e}")))?;
        Ok(Report { summary, content })
    }
}

/// Runs [`CaseService::produce_due_reports`] at once and then every `interval` until
/// `shutdown` completes. `None` (nothing spawned) when the interval is zero.
pub fn spawn(
    service: Arc<CaseService>,
    interval: StdDuration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    crate::spawn_every(service, interval, shutdown, |s| async move {
        if let Err(e) = s.produce_due_reports().await {
            tracing::warn!(error = %e, "producing the scheduled reports failed");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn standard_periods() {
        assert_eq!(
            period_of(ReportKind::Weekly, d("2026-11-04")),
            ReportPeriod {
                from: d("2026-11-02"),
                to: d("2026-11-09")
            }
        );
        assert_eq!(
            period_of(ReportKind::Monthly, d("2026-02-14")),
            ReportPeriod {
                from: d("2026-02-01"),
                to: d("2026-03-01")
            }
        );
        assert_eq!(period_of(ReportKind::Daily, d("2026-02-14")).days(), 1);
    }
}
