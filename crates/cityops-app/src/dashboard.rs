//! The command centre's figures (领导大屏): who may see them and which local days they count.
//! The counting itself is the store's ([`cityops_store::DashboardRepo`]), within the viewer's
//! [`CaseVisibility`].
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cityops_domain::case::CaseVisibility;
use cityops_domain::{Role, User};
use cityops_store::{Dashboard, DashboardQuery};

use crate::error::{Result, ServiceError};
use crate::service::CaseService;

/// Days of the trend (近30日).
pub const TREND_DAYS: u32 = 30;
/// The longest window of the breakdowns (a year).
pub const MAX_WINDOW_DAYS: u32 = 366;
/// The most overdue cases one answer lists.
pub const MAX_OVERDUE: u32 = 100;

/// The roles that see the command centre's figures and live changes: leaders (领导), duty
/// supervisors (值班长), administrators, dispatchers (派遣员) and intake (受理员).
pub const DASHBOARD_ROLES: [Role; 5] = [
    Role::Leader,
    Role::Supervisor,
    Role::Admin,
    Role::Dispatcher,
    Role::Intake,
];

/// Whether `user` may see dashboards.
pub fn may_view_dashboard(user: &User) -> bool {
    DASHBOARD_ROLES.iter().any(|r| user.has_role(*r))
}

/// `Forbidden` unless `user` may see dashboards.
pub fn require_dashboard(user: &User) -> Result<()> {
    if may_view_dashboard(user) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "the command centre's figures are for leaders, supervisors, administrators, dispatchers and intake".into(),
        ))
    }
}

/// Where local day `day` starts in `tz` (the earliest instant of a repeated midnight; past a
/// skipped midnight, the first instant that exists).
pub(crate) fn day_start<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    for _ in 0..24 * 4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The query of the figures at `now` in `tz`: the [`TREND_DAYS`] local days up to today, the
/// last `window_days` days (today included) as the window.
pub fn dashboard_query<Tz: TimeZone>(
    tz: &Tz,
    now: DateTime<Utc>,
    window_days: u32,
    overdue_limit: u32,
) -> DashboardQuery {
    let today = now.with_timezone(tz).date_naive();
    let days: Vec<NaiveDate> = (0..i64::from(TREND_DAYS))
        .rev()
        .map(|d| today - Duration::days(d))
        .collect();
    let mut day_bounds: Vec<DateTime<Utc>> = days.iter().map(|d| day_start(tz, *d)).collect();
    let end = day_start(tz, today + Duration::days(1));
    day_bounds.push(end);
    let window_days = window_days.clamp(1, MAX_WINDOW_DAYS);
    DashboardQuery {
        from: day_start(tz, today - Duration::days(i64::from(window_days) - 1)),
        to: end,
        days,
        day_bounds,
        now,
        overdue_limit: overdue_limit.min(MAX_OVERDUE),
    }
}

impl CaseService {
    /// The figures `user` may see: the last `window_days` local days (1–366, today included),
    /// the 30-day trend, today's counts and the `overdue_limit` most overdue open cases.
    /// `Forbidden` for roles without dashboards.
    pub async fn dashboard(
        &self,
        user: &User,
        window_days: u32,
        overdue_limit: u32,
    ) -> Result<Dashboard> {
        require_dashboard(user)?;
        let calendar = self.calendar();
        let query = dashboard_query(
            &calendar.config().tz,
            self.clock().now(),
            window_days,
            overdue_limit,
        );
        Ok(self
            .store()
            .dashboard(&query, &CaseVisibility::for_user(user))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_in_shanghai() {
        let tz = chrono_tz_shanghai();
        // 2026-03-02 01:30 UTC = 09:30 in Shanghai.
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap();
        let q = dashboard_query(&tz, now, 7, 10);
        q.validate().expect("valid");
        assert_eq!(q.days.len(), 30);
        assert_eq!(q.days.last().unwrap().to_string(), "2026-03-02");
        assert_eq!(q.days[0].to_string(), "2026-02-01");
        let (start, end) = q.today();
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap());
        assert_eq!(q.from, Utc.with_ymd_and_hms(2026, 2, 23, 16, 0, 0).unwrap());
        assert_eq!(q.to, end);
        let q = dashboard_query(&tz, now, 0, 1000);
        assert_eq!(q.from, start, "at least today");
        assert_eq!(q.overdue_limit, MAX_OVERDUE);
    }

    fn chrono_tz_shanghai() -> chrono::FixedOffset {
        chrono::FixedOffset::east_opt(8 * 3600).unwrap()
    }
}
