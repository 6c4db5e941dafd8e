//! 综合评价 (comprehensive evaluation) as a service: who may see it, which local days a period
//! covers, the previous period beside it, subjects' names, and the drill-down — every figure's
//! list of cases, computed by the same predicate as the figure (`cityops_domain::evaluation`).
use std::collections::{BTreeMap, HashMap};

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_domain::case::Case;
use cityops_domain::case::CaseVisibility;
use cityops_domain::evaluation::{
    CityIndexConfig, CityIndexInput, CityIndexRow, Component, Env, EvalCase, EvaluationConfig,
    Figure, Grade, Kind, Row, Subject, city_index, evaluate, matching,
};
use cityops_domain::report::{ReportPeriod, first_of_month, next_month};
use cityops_domain::{Page, PageRequest, RegionLevel, Role, User};
use cityops_store::RegionQuery;
use serde::Serialize;

use crate::error::{Result, ServiceError};
use crate::service::CaseService;

/// The roles that see evaluations: the command centre and leaders (every subject within their
/// region), and department staff (their own department's cases only, by their visibility).
pub const EVALUATION_ROLES: [Role; 7] = [
    Role::Leader,
    Role::Admin,
    Role::Supervisor,
    Role::Dispatcher,
    Role::Intake,
    Role::Handler,
    Role::Reviewer,
];

/// The longest period one evaluation covers (a year and a day).
pub const MAX_PERIOD_DAYS: i64 = 367;

/// Whether `user` may see evaluations (the navigation shows 综合评价 to them).
pub fn may_evaluate(user: &User) -> bool {
    EVALUATION_ROLES.iter().any(|r| user.has_role(*r))
}

/// `Forbidden` unless `user` may see evaluations.
pub fn require_evaluation(user: &User) -> Result<()> {
    if may_evaluate(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "evaluations are for leaders, the command centre and departments".into(),
        ))
    }
}

/// A period of local days: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
}

impl Period {
    /// `Invalid` unless `from < to` and the period is at most [`MAX_PERIOD_DAYS`] long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self> {
        if from >= to {
            return Err(ServiceError::Invalid(
                "the period must end after it starts (to is exclusive)".into(),
            ));
        }
        if (to - from).num_days() > MAX_PERIOD_DAYS {
            return Err(ServiceError::Invalid(format!(
                "a period is at most {MAX_PERIOD_DAYS} days"
            )));
        }
        Ok(Period { from, to })
    }

    /// The calendar month holding `day`.
    pub fn month_of(day: NaiveDate) -> Self {
        Period {
            from: first_of_month(day),
            to: next_month(day),
        }
    }

    /// The month of `today` so far: its first day to `today`, inclusive.
    pub fn month_so_far(today: NaiveDate) -> Self {
        Period {
            from: first_of_month(today),
            to: today + Duration::days(1),
        }
    }

    /// The last day of the period (`to` is exclusive).
    pub fn last_day(&self) -> NaiveDate {
        self.to - Duration::days(1)
    }

    /// The period before: as many calendar months before when the period is whole months,
    /// otherwise as many days (the domain's rule, [`ReportPeriod::previous`]).
    pub fn previous(&self) -> Self {
        let p = ReportPeriod {
            from: self.from,
            to: self.to,
        }
        .previous();
        Period {
            from: p.from,
            to: p.to,
        }
    }

    /// Its instants in `tz`: where `from` starts and where `to` starts.
    pub fn bounds<Tz: TimeZone>(&self, tz: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            crate::dashboard::day_start(tz, self.from),
            crate::dashboard::day_start(tz, self.to),
        )
    }
}

/// What to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationQuery {
    pub kind: Kind,
    pub period: Period,
    /// The level of region rows (grid, community, street or district).
    pub level: RegionLevel,
}

/// The previous period's result of a subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Previous {
    pub counts: Vec<u64>,
    pub score: f64,
    pub grade: Grade,
    pub rank: u32,
}

/// One subject with its name and its previous period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedRow {
    pub name: String,
    #[serde(flatten)]
    pub row: Row,
    pub previous: Option<Previous>,
}

/// An evaluation: the kind's figures and components, and one row per subject, ranked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub kind: Kind,
    pub level: RegionLevel,
    pub period: Period,
    pub previous_period: Period,
    /// The evaluation instant: deadlines before it have passed.
    pub as_of: DateTime<Utc>,
    pub figures: &'static [Figure],
    pub components: &'static [Component],
    pub rows: Vec<NamedRow>,
}

/// The settings the service evaluates with (validated when the server starts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvaluationSettings {
    pub evaluation: EvaluationConfig,
    pub city_index: CityIndexConfig,
}

/// Lookups the figures need besides the cases: who is responsible for each grid, every subject
/// that should get a row, and their names.
struct Subjects {
    inspectors_of_grid: HashMap<String, Vec<i64>>,
    include: Vec<Subject>,
    names: HashMap<Subject, String>,
}

const LOOKUP_PAGE: u32 = 1000;

/// Every item of a paged store list, read a page of [`LOOKUP_PAGE`] at a time.
pub(crate) async fn all_pages<T, F, Fut>(read: F) -> Result<Vec<T>>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = cityops_store::Result<Page<T>>>,
{
    let mut out = Vec::new();
    for page in 1.. {
        let p = read(PageRequest {
            page,
            page_size: LOOKUP_PAGE,
        })
        .await?;
        let n = p.items.len();
        out.extend(p.items);
        if n < LOOKUP_PAGE as usize {
            break;
        }
    }
    Ok(out)
}

impl CaseService {
    async fn all_users(&self, role: Role) -> Result<Vec<User>> {
        all_pages(|page| self.store().list_users(Some(role), None, page)).await
    }

    async fn all_departments(&self) -> Result<Vec<cityops_domain::Department>> {
        all_pages(|page| self.store().list_departments(None, page)).await
    }

    async fn subjects(
        &self,
        kind: Kind,
        level: RegionLevel,
        vis: &CaseVisibility,
    ) -> Result<Subjects> {
        let mut s = Subjects {
            inspectors_of_grid: HashMap::new(),
            include: Vec::new(),
            names: HashMap::new(),
        };
        let in_scope = |code: Option<&str>| {
            vis.all
                || code.is_some_and(|c| {
                    vis.region_prefixes
                        .iter()
                        .any(|p| c.starts_with(p.as_str()))
                })
        };
        let people = |s: &mut Subjects, users: Vec<User>| {
            for u in users {
                let subject = Subject::Id(u.id);
                if in_scope(u.scope.region_code.as_deref()) || vis.all {
                    s.include.push(subject.clone());
                }
                s.names.insert(subject, u.display_name);
            }
        };
        match kind {
            Kind::Inspectors => {
                let users = self.all_users(Role::Inspector).await?;
                for u in &users {
                    for g in &u.grids {
                        s.inspectors_of_grid
                            .entry(g.clone())
                            .or_default()
                            .push(u.id);
                    }
                }
                people(&mut s, users);
            }
            Kind::Operators => people(&mut s, self.all_users(Role::Intake).await?),
            Kind::Supervisors => people(&mut s, self.all_users(Role::Supervisor).await?),
            Kind::Dispatchers => people(&mut s, self.all_users(Role::Dispatcher).await?),
            Kind::Departments => {
                for d in self.all_departments().await? {
                    let subject = Subject::Id(d.id);
                    let handles = d.kind != cityops_domain::DepartmentKind::CommandCentre;
                    let visible = vis.all
                        || vis.department_id == Some(d.id)
                        || (vis.department_id.is_none() && in_scope(Some(d.region_code.as_str())));
                    if handles && visible {
                        s.include.push(subject.clone());
                    }
                    s.names.insert(subject, d.name);
                }
            }
            Kind::Regions => {
                let query = RegionQuery {
                    level: Some(level),
                    ..Default::default()
                };
                for r in all_pages(|page| self.store().list_regions(&query, page)).await? {
                    let subject = Subject::Code(r.code.clone());
                    if in_scope(Some(&r.code)) {
                        s.include.push(subject.clone());
                    }
                    s.names.insert(subject, r.name);
                }
            }
        }
        Ok(s)
    }

    /// The cases of a period visible to `user`: kept between requests and read again only for
    /// the days whose cases changed ([`crate::eval_cache`]), so always what a full read gives.
    pub async fn period_cases(&self, user: &User, period: Period) -> Result<Arc<Vec<EvalCase>>> {
        self.period_cases_within(&CaseVisibility::for_user(user), period)
            .await
    }

    /// Reads the evaluation's usual periods for city-wide viewers into the kept periods — this
    /// month so far and last month, each with the period before, as the evaluation page, the
    /// reports and the big screen ask for them — so that the first evaluation after a start does
    /// not wait for them. Run in the background when the server starts.
    pub async fn warm_evaluation(&self) -> Result<()> {
        let this = Period::month_so_far(self.today());
        let last = Period::month_of(this.from - Duration::days(1));
        let everything = CaseVisibility::everything();
        for period in [this, this.previous(), last, last.previous()] {
            self.period_cases_within(&everything, period).await?;
        }
        Ok(())
    }

    /// How many periods the evaluation keeps now (at most
    /// [`crate::eval_cache::EVAL_CACHE_ENTRIES`]).
    pub fn kept_evaluation_periods(&self) -> usize {
        self.eval_cache.len()
    }

    /// `vis` as the evaluation reads with it: a visibility that holds the whole city's region
    /// prefix admits every case (a case outside the city is refused when reported), so it is
    /// read as "everything" — the same cases without the per-case terms (assignee, reporter,
    /// followed cases) that would make each day's fingerprint read heavier.
    async fn evaluation_visibility(&self, vis: &CaseVisibility) -> Result<CaseVisibility> {
        if vis.all || vis.region_prefixes.is_empty() {
            return Ok(vis.clone());
        }
        let city = self
            .city_prefix
            .get_or_try_init(|| async {
                let query = RegionQuery {
                    level: Some(RegionLevel::City),
                    ..Default::default()
                };
                let page = PageRequest {
                    page: 1,
                    page_size: 2,
                };
                let cities = self.store().list_regions(&query, page).await?;
                // One city per deployment; anything else keeps the visibility as it is.
                Ok::<_, ServiceError>(match cities.items.as_slice() {
                    [city] => Some(cityops_domain::case::visibility::region_prefix(&city.code)),
                    _ => None,
                })
            })
            .await?;
        match city {
            Some(city)
                if vis
                    .region_prefixes
                    .iter()
                    .any(|p| city.starts_with(p.as_str())) =>
            {
                Ok(CaseVisibility::everything())
            }
            _ => Ok(vis.clone()),
        }
    }

    pub async fn period_cases_within(
        &self,
        vis: &CaseVisibility,
        period: Period,
    ) -> Result<Arc<Vec<EvalCase>>> {
        let vis = &self.evaluation_visibility(vis).await?;
        let tz = self.calendar().config().tz;
        let days = (period.to - period.from).num_days();
        let bounds: Vec<DateTime<Utc>> = (0..=days)
            .map(|i| crate::dashboard::day_start(&tz, period.from + Duration::days(i)))
            .collect();
        let (cases, used) = self
            .eval_cache
            .cases(self.store().as_ref(), &bounds, vis)
            .await?;
        tracing::debug!(
            days_read = used.days_read,
            days_kept = used.days_kept,
            cases = cases.len(),
            "evaluation cases"
        );
        Ok(cases)
    }

    /// The third-party review (第三方评价) per department for a period: reviews made and their
    /// mean score 1–5 (departments without a review are absent).
    async fn review_means(&self, period: Period) -> Result<HashMap<i64, (u64, f64)>> {
        let (from, to) = period.bounds(&self.calendar().config().tz);
        Ok(self
            .store()
            .review_scores(from, to)
            .await?
            .into_iter()
            .filter_map(|s| s.mean.map(|m| (s.department_id, (s.reviewed, m))))
            .collect())
    }

    /// Evaluates a kind of subject for a period, with the previous period beside each row.
    pub async fn evaluate(&self, user: &User, q: &EvaluationQuery) -> Result<Evaluation> {
        require_evaluation(user)?;
        let vis = CaseVisibility::for_user(user);
        let settings = self.evaluation_settings();
        let as_of = self.clock().now();
        let subjects = self.subjects(q.kind, q.level, &vis).await?;
        let previous_period = q.period.previous();
        let (cases, before) = tokio::try_join!(
            self.period_cases(user, q.period),
            self.period_cases(user, previous_period)
        )?;
        let (reviews, reviews_before) = tokio::try_join!(
            self.review_means(q.period),
            self.review_means(previous_period)
        )?;
        let env = |reviews| Env {
            as_of: as_of.timestamp(),
            level: q.level,
            inspectors_of_grid: &subjects.inspectors_of_grid,
            reviews,
            config: &settings.evaluation,
        };
        let rows = evaluate(q.kind, &cases, &env(&reviews), &subjects.include);
        let prev: BTreeMap<Subject, Previous> =
            evaluate(q.kind, &before, &env(&reviews_before), &subjects.include)
                .into_iter()
                .map(|r| {
                    (
                        r.subject,
                        Previous {
                            counts: r.counts,
                            score: r.score,
                            grade: r.grade,
                            rank: r.rank,
                        },
                    )
                })
                .collect();
        let rows = rows
            .into_iter()
            .map(|row| NamedRow {
                name: subjects
                    .names
                    .get(&row.subject)
                    .cloned()
                    .unwrap_or_else(|| row.subject.to_string()),
                previous: prev.get(&row.subject).cloned(),
                row,
            })
            .collect();
        Ok(Evaluation {
            kind: q.kind,
            level: q.level,
            period: q.period,
            previous_period,
            as_of,
            figures: q.kind.figures(),
            components: q.kind.components(),
            rows,
        })
    }

    /// The cases behind one figure of one subject (the drill-down): their total equals the
    /// figure, newest report first.
    pub async fn evaluation_drill_down(
        &self,
        user: &User,
        q: &EvaluationQuery,
        subject: &Subject,
        figure: &str,
        page: PageRequest,
    ) -> Result<Page<Case>> {
        require_evaluation(user)?;
        let figure = q.kind.figure(figure).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "unknown figure {figure:?} of {}: one of {}",
                q.kind,
                q.kind
                    .figures()
                    .iter()
                    .map(|f| f.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let vis = CaseVisibility::for_user(user);
        let settings = self.evaluation_settings();
        let subjects = if q.kind == Kind::Inspectors {
            self.subjects(q.kind, q.level, &vis)
                .await?
                .inspectors_of_grid
        } else {
            HashMap::new()
        };
        let cases = self.period_cases(user, q.period).await?;
        let reviews = self.review_means(q.period).await?;
        let env = Env {
            as_of: self.clock().now().timestamp(),
            level: q.level,
            inspectors_of_grid: &subjects,
            reviews: &reviews,
            config: &settings.evaluation,
        };
        let mut ids = matching(q.kind, figure, subject, &cases, &env);
        ids.reverse();
        let total = ids.len() as u64;
        let start = ((page.page - 1) as usize).saturating_mul(page.page_size as usize);
        let slice: Vec<i64> = ids
            .iter()
            .skip(start)
            .take(page.page_size as usize)
            .copied()
            .collect();
        let items = self.store().cases_by_ids(&slice, &vis).await?;
        Ok(Page::new(items, total, page))
    }

    /// The local date of "now" in the calendar's zone.
    pub fn today(&self) -> NaiveDate {
        let tz = self.calendar().config().tz;
        self.clock().now().with_timezone(&tz).date_naive()
    }

    /// 城市管理指数 of each of the last `months` calendar months (the current month so far
    /// last), oldest first. Each month is computed by [`CaseService::city_index`] and kept
    /// [`CITY_INDEX_TTL_SECS`] seconds per visibility, so that a big screen re-reading the trend
    /// does not recompute a year of months each time.
    pub async fn city_index_trend(&self, user: &User, months: u32) -> Result<Vec<MonthIndex>> {
        require_evaluation(user)?;
        if !(1..=MAX_TREND_MONTHS).contains(&months) {
            return Err(ServiceError::Invalid(format!(
                "a trend covers 1 to {MAX_TREND_MONTHS} months"
            )));
        }
        let mut periods = Vec::with_capacity(months as usize);
        let mut p = Period::month_of(self.today());
        for _ in 0..months {
            periods.push(p);
            p = p.previous();
        }
        periods.reverse();
        let vis = CaseVisibility::for_user(user);
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let now = self.clock().now();
            let rows = match self.index_cache.get(&vis, period, now) {
                Some(rows) => rows,
                None => {
                    let rows = Arc::new(self.city_index(user, period).await?);
                    self.index_cache.put(vis.clone(), period, now, rows.clone());
                    rows
                }
            };
            out.push(MonthIndex { period, rows });
        }
        Ok(out)
    }

    /// 城市管理指数: every district's index for a period, ranked.
    pub async fn city_index(
        &self,
        user: &User,
        period: Period,
    ) -> Result<Vec<(String, CityIndexRow)>> {
        require_evaluation(user)?;
        let settings = self.evaluation_settings();
        let vis = CaseVisibility::for_user(user);
        let cases = self.period_cases(user, period).await?;
        let reviews = self.review_means(period).await?;
        let departments = self.all_departments().await?;
        // A district's review score: the mean of its departments' reviews, weighted by how many
        // each had (departments whose scope lies within the district).
        let review_of = |district: &str| {
            let (n, sum) = departments
                .iter()
                .filter(|d| d.region_code.starts_with(district))
                .filter_map(|d| reviews.get(&d.id))
                .fold((0u64, 0.0), |(n, s), (k, m)| (n + k, s + *k as f64 * m));
            (n > 0).then(|| sum / n as f64)
        };
        let districts = self
            .store()
            .list_regions(
                &RegionQuery {
                    level: Some(RegionLevel::District),
                    ..Default::default()
                },
                PageRequest {
                    page: 1,
                    page_size: LOOKUP_PAGE,
                },
            )
            .await?
            .items;
        let names: HashMap<String, String> = districts
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect();
        let inputs: Vec<CityIndexInput> = districts
            .iter()
            .filter(|d| {
                vis.all
                    || vis
                        .region_prefixes
                        .iter()
                        .any(|p| d.code.starts_with(p.as_str()) || p.starts_with(d.code.as_str()))
            })
            .map(|d| CityIndexInput {
                district_code: d.code.clone(),
                area_km2: d.area_m2.unwrap_or(0.0) / 1e6,
                review_mean: review_of(&d.code),
            })
            .collect();
        let rows = city_index(
            &cases,
            &inputs,
            self.clock().now().timestamp(),
            &settings.city_index,
        );
        Ok(rows
            .into_iter()
            .map(|r| (names.get(&r.district_code).cloned().unwrap_or_default(), r))
            .collect())
    }
}

/// How long a computed month of the city index trend is reused (seconds on the injected clock).
pub const CITY_INDEX_TTL_SECS: i64 = 60;
/// The most months one trend covers.
pub const MAX_TREND_MONTHS: u32 = 36;
/// The most (visibility, month) entries the trend cache keeps.
const CITY_INDEX_CACHE_ENTRIES: usize = 512;

/// Districts with their names and index rows, ranked.
pub type CityIndexRows = Arc<Vec<(String, CityIndexRow)>>;

/// One month of the city index trend.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthIndex {
    /// The whole calendar month (the current one is counted so far).
    pub period: Period,
    pub rows: CityIndexRows,
}

type IndexEntries = HashMap<(CaseVisibility, Period), (DateTime<Utc>, CityIndexRows)>;

/// The city index per visibility and period, each kept [`CITY_INDEX_TTL_SECS`] seconds and at
/// most [`CITY_INDEX_CACHE_ENTRIES`] of them (the oldest goes first).
#[derive(Debug, Default)]
pub(crate) struct CityIndexCache {
    entries: Mutex<IndexEntries>,
}

impl CityIndexCache {
    fn fresh(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now >= at && now - at < Duration::seconds(CITY_INDEX_TTL_SECS)
    }

    fn get(
        &self,
        vis: &CaseVisibility,
        period: Period,
        now: DateTime<Utc>,
    ) -> Option<CityIndexRows> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A visibility is small; cloning it for the key costs less than the store read it saves.
        match entries.get(&(vis.clone(), period)) {
            Some((at, rows)) if Self::fresh(*at, now) => Some(rows.clone()),
            _ => None,
        }
    }

    fn put(&self, vis: CaseVisibility, period: Period, now: DateTime<Utc>, rows: CityIndexRows) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| Self::fresh(*at, now));
        while entries.len() >= CITY_INDEX_CACHE_ENTRIES {
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.remove(&oldest);
        }
        entries.insert((vis, period), (now, rows));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_so_far_and_last_day() {
        let p = Period::month_so_far(d(2026, 11, 23));
        assert_eq!((p.from, p.to), (d(2026, 11, 1), d(2026, 11, 24)));
        assert_eq!(p.last_day(), d(2026, 11, 23));
        assert_eq!(Period::month_of(d(2026, 2, 10)).last_day(), d(2026, 2, 28));
        // Not whole months: the previous period is as many days before.
        assert_eq!(p.previous().from, d(2026, 10, 9));
    }

    #[test]
    fn the_index_cache_expires_and_stays_bounded() {
        let cache = CityIndexCache::default();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let vis = CaseVisibility::everything();
        let p = Period::month_of(d(2026, 11, 1));
        let rows: CityIndexRows = Arc::new(Vec::new());
        cache.put(vis.clone(), p, t0, rows.clone());
        assert!(cache.get(&vis, p, t0 + Duration::seconds(59)).is_some());
        assert!(cache.get(&vis, p, t0 + Duration::seconds(60)).is_none());
        // Another visibility is another entry.
        let other = CaseVisibility {
            all: false,
            region_prefixes: vec!["441302".into()],
            ..Default::default()
        };
        assert!(cache.get(&other, p, t0).is_none());
        // Never more than the bound, the oldest dropped first.
        let mut month = p.previous();
        let mut last = month;
        for i in 1..=(CITY_INDEX_CACHE_ENTRIES as i64 + 10) {
            cache.put(
                vis.clone(),
                month,
                t0 + Duration::milliseconds(i),
                rows.clone(),
            );
            last = month;
            month = month.previous();
        }
        assert_eq!(cache.len(), CITY_INDEX_CACHE_ENTRIES);
        let later = t0 + Duration::seconds(1);
        assert!(cache.get(&vis, p, later).is_none(), "the oldest went");
        assert!(cache.get(&vis, last, later).is_some(), "the newest stayed");
    }
}
