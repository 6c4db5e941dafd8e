//! Administrators' changes of the data every process keeps in memory — the responsibility matrix
//! (权责清单) and the holiday schedule (节假日/调休) — made deliberate and reversible: each change
//! is kept by the store as a version (who, when, a summary, the whole content), any version can be
//! restored (itself a new version), emptying the matrix must be asked for explicitly, and the
//! caches of this process reload at once (the others follow the store's cache versions).
use cityops_domain::calendar::CalendarDay;
use cityops_domain::case::routing::RoutingRule;
use cityops_domain::{Role, User};
use cityops_store::{ConfigChange, ConfigVersion, StoreError};

use crate::error::{Result, ServiceError};
use crate::service::CaseService;

fn require_admin(user: &User) -> Result<()> {
    if user.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only an administrator may change the responsibility matrix or the calendar.".into(),
        ))
    }
}

fn version_not_found(what: &str, id: i64) -> impl FnOnce(StoreError) -> ServiceError {
    let message = format!("No {what} version {id}.");
    move |e| match e {
        StoreError::NotFound => ServiceError::NotFound(message),
        other => other.into(),
    }
}

impl CaseService {
    fn change_by(&self, user: &User, summary: impl Into<String>) -> ConfigChange {
        ConfigChange::new(Some(user.id), self.clock().now(), summary)
    }

    /// 替换权责清单: replaces the whole matrix with `rules`, kept as a version with `summary`.
    /// An empty `rules` is refused with [`ServiceError::EmptyMatrix`] unless `allow_empty`.
    pub async fn replace_routing(
        &self,
        user: &User,
        rules: &[RoutingRule],
        allow_empty: bool,
        summary: &str,
    ) -> Result<u64> {
        require_admin(user)?;
        if rules.is_empty() && !allow_empty {
            return Err(ServiceError::EmptyMatrix);
        }
        let n = self
            .store()
            .replace_routing_rules(rules, &self.change_by(user, summary))
            .await?;
        self.reload_routing().await?;
        tracing::info!(rules = n, user = user.id, "responsibility matrix replaced");
        Ok(n)
    }

    /// 恢复权责清单版本: makes routing version `id` the matrix again (kept as a new version). A
    /// version without rules needs `allow_empty`, as replacing with an empty matrix does.
    pub async fn restore_routing_version(
        &self,
        user: &User,
        id: i64,
        allow_empty: bool,
    ) -> Result<ConfigVersion> {
        require_admin(user)?;
        let (version, _) = self
            .store()
            .routing_version(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No routing version {id}.")))?;
        if version.items == 0 && !allow_empty {
            return Err(ServiceError::EmptyMatrix);
        }
        let restored = self
            .store()
            .restore_routing_version(
                id,
                &self.change_by(user, format!("restore of version {id}")),
            )
            .await
            .map_err(version_not_found("routing", id))?;
        self.reload_routing().await?;
        tracing::info!(
            version = id,
            new_version = restored.id,
            user = user.id,
            "responsibility matrix restored"
        );
        Ok(restored)
    }

    /// 维护节假日: adds or replaces schedule entries by date, kept as a version with `summary`.
    pub async fn put_calendar_days(
        &self,
        user: &User,
        days: &[CalendarDay],
        summary: &str,
    ) -> Result<u64> {
        require_admin(user)?;
        if days.is_empty() {
            return Err(ServiceError::invalid("No calendar days given."));
        }
        let n = self
            .store()
            .put_calendar_days(days, &self.change_by(user, summary))
            .await?;
        self.reload_calendar().await?;
        tracing::info!(written = n, user = user.id, "holiday schedule updated");
        Ok(n)
    }

    /// 恢复工作日历版本: makes calendar version `id` the whole holiday schedule again (kept as a
    /// new version).
    pub async fn restore_calendar_version(&self, user: &User, id: i64) -> Result<ConfigVersion> {
        require_admin(user)?;
        let restored = self
            .store()
            .restore_calendar_version(
                id,
                &self.change_by(user, format!("restore of version {id}")),
            )
            .await
            .map_err(version_not_found("calendar", id))?;
        self.reload_calendar().await?;
        tracing::info!(
            version = id,
            new_version = restored.id,
            user = user.id,
            "holiday schedule restored"
        );
        Ok(restored)
    }
}
