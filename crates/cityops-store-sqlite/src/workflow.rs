//! The case workflow's supporting repositories on SQLite: inboxes, attachments, the
//! responsibility matrix and the holiday schedule.
use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_store::{
    Attachment, AttachmentRepo, CalendarDay, CalendarRepo, InboxOwner, InboxRepo, NewAttachment,
    Notification, Page, PageRequest, Result, RoutingRepo, RoutingRule, StoreError,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::case_rows;
use crate::case_write::BEGIN_WRITE;
use crate::rows::ts;
use crate::versions::{Cached, bump};
use crate::{SqliteStore, db_err};

const CHUNK: usize = 1000;

/// `AND (<the notification is in the owner's inbox>)` for `notifications n`: addressed to the
/// user, to their department, or to one of their roles with a region inside their prefixes (a
/// notification without a region reaches every holder of the role).
fn push_owner(q: &mut QueryBuilder<Sqlite>, owner: &InboxOwner) {
    q.push(" AND (n.user_id = ").push_bind(owner.user_id);
    if let Some(d) = owner.department_id {
        q.push(" OR n.department_id = ").push_bind(d);
    }
    if !owner.roles.is_empty() {
        q.push(" OR (n.role IN (");
        let mut sep = q.separated(", ");
        for r in &owner.roles {
            sep.push_bind(r.as_str());
        }
        q.push(")");
        if let Some(prefixes) = &owner.region_prefixes {
            q.push(" AND (n.region_code IS NULL");
            for p in prefixes {
                q.push(" OR substr(n.region_code, 1, ")
                    .push_bind(p.chars().count() as i64)
                    .push(") = ")
                    .push_bind(p.clone());
            }
            q.push(")");
        }
        q.push(")");
    }
    q.push(")");
}

#[async_trait]
impl InboxRepo for SqliteStore {
    async fn inbox(
        &self,
        owner: &InboxOwner,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let filters = |q: &mut QueryBuilder<Sqlite>| {
            push_owner(q, owner);
            if unread_only {
                q.push(" AND n.read_at IS NULL");
            }
        };
        let mut count =
            QueryBuilder::<Sqlite>::new("SELECT count(*) FROM notifications n WHERE 1 = 1");
        filters(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT n.*, c.code AS case_code FROM notifications n JOIN cases c ON c.id = n.case_id \
             WHERE 1 = 1",
        );
        filters(&mut q);
        q.push(" ORDER BY n.created_at DESC, n.id DESC LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        let items = q
            .build()
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::notification)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
    }

    async fn mark_read(&self, owner: &InboxOwner, ids: &[i64], now: DateTime<Utc>) -> Result<u64> {
        let mut q = QueryBuilder::<Sqlite>::new("UPDATE notifications AS n SET read_at = ");
        q.push_bind(ts(now)).push(" WHERE n.read_at IS NULL");
        if !ids.is_empty() {
            let list =
                serde_json::to_string(ids).map_err(|e| StoreError::Database(e.to_string()))?;
            q.push(" AND n.id IN (SELECT value FROM json_each(")
                .push_bind(list)
                .push("))");
        }
        push_owner(&mut q, owner);
        let done = q.build().execute(&self.write).await.map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

const ATTACHMENT_COLUMNS: &str = "id, sha256, mime, bytes, width, height, thumb_sha256, \
     uploaded_by, created_at, file_name, case_id";

#[async_trait]
impl AttachmentRepo for SqliteStore {
    async fn create_attachment(&self, a: &NewAttachment) -> Result<Attachment> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attachments (sha256, mime, bytes, width, height, thumb_sha256, \
             uploaded_by, created_at, file_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(a.sha256.as_str())
        .bind(a.mime.as_str())
        .bind(a.bytes)
        .bind(a.width)
        .bind(a.height)
        .bind(a.thumb_sha256.as_str())
        .bind(a.uploaded_by)
        .bind(ts(a.created_at))
        .bind(a.file_name.as_deref())
        .fetch_one(&self.write)
        .await
        .map_err(db_err)?;
        Ok(Attachment {
            id,
            attachment: a.clone(),
            case_id: None,
        })
    }

    async fn get_attachments(&self, ids: &[i64]) -> Result<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql: &'static str = {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            SQL.get_or_init(|| {
                format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
                )
            })
        };
        sqlx::query(sql)
            .bind(list)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::attachment)
            .collect()
    }

    async fn case_attachments(&self, case_id: i64) -> Result<Vec<Attachment>> {
        let sql: &'static str = {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            SQL.get_or_init(|| {
                format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE case_id = ? ORDER BY id"
                )
            })
        };
        sqlx::query(sql)
            .bind(case_id)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::attachment)
            .collect()
    }
}

/// Rejects a malformed rule or a (kind, category, region) given twice.
fn validate_rules(rules: &[RoutingRule]) -> Result<()> {
    let mut seen = HashSet::new();
    for r in rules {
        r.validate().map_err(StoreError::Invalid)?;
        if !seen.insert((
            r.category_kind,
            r.category_code.as_str(),
            r.region_code.as_str(),
        )) {
            return Err(StoreError::Invalid(format!(
                "routing rule {}/{}/{} appears twice",
                r.category_kind, r.category_code, r.region_code
            )));
        }
    }
    Ok(())
}

#[async_trait]
impl RoutingRepo for SqliteStore {
    async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        sqlx::query(
            "SELECT category_kind, category_code, region_code, department_id, auto_dispatch \
             FROM routing_rules ORDER BY category_kind, category_code, region_code",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(case_rows::routing_rule)
        .collect()
    }

    async fn replace_routing_rules(&self, rules: &[RoutingRule]) -> Result<u64> {
        validate_rules(rules)?;
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let wanted: Vec<i64> = rules
            .iter()
            .map(|r| r.department_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !wanted.is_empty() {
            let list =
                serde_json::to_string(&wanted).map_err(|e| StoreError::Database(e.to_string()))?;
            let known: HashSet<i64> = sqlx::query_scalar(
                "SELECT id FROM departments WHERE id IN (SELECT value FROM json_each(?))",
            )
            .bind(list)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
            if let Some(r) = rules.iter().find(|r| !known.contains(&r.department_id)) {
                return Err(StoreError::Invalid(format!(
                    "routing rule {}/{}/{}: unknown department {}",
                    r.category_kind, r.category_code, r.region_code, r.department_id
                )));
            }
        }
        sqlx::query("DELETE FROM routing_rules")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        for chunk in rules.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO routing_rules (category_kind, category_code, region_code, \
                 department_id, auto_dispatch) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.category_kind.as_str())
                    .push_bind(r.category_code.as_str())
                    .push_bind(r.region_code.as_str())
                    .push_bind(r.department_id)
                    .push_bind(r.auto_dispatch);
            });
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }
        bump(conn, Cached::Routing).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }
}

#[async_trait]
impl CalendarRepo for SqliteStore {
    async fn calendar_days(&self) -> Result<Vec<CalendarDay>> {
        sqlx::query("SELECT date, kind, name FROM calendar_days ORDER BY date")
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_rows::calendar_day)
            .collect()
    }

    async fn put_calendar_days(&self, days: &[CalendarDay]) -> Result<u64> {
        let mut seen = HashSet::new();
        if let Some(d) = days.iter().find(|d| !seen.insert(d.date)) {
            return Err(StoreError::Invalid(format!(
                "calendar day {} appears twice",
                d.date
            )));
        }
        if days.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        for chunk in days.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("INSERT INTO calendar_days (date, kind, name) ");
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(d.date.format("%Y-%m-%d").to_string())
                    .push_bind(d.kind.as_str())
                    .push_bind(d.name.as_str());
            });
            qb.push(" ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name");
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }
        bump(conn, Cached::Calendar).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(days.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_store::CategoryKind;

    #[test]
    fn rules_are_validated() {
        let r = |cat: &str, region: &str| RoutingRule {
            category_kind: CategoryKind::Matter,
            category_code: cat.into(),
            region_code: region.into(),
            department_id: 1,
            auto_dispatch: false,
        };
        assert!(validate_rules(&[r("01", "441300"), r("01001", "441300")]).is_ok());
        assert!(validate_rules(&[r("01", "441300"), r("01", "441300")]).is_err());
        assert!(validate_rules(&[r("1", "441300")]).is_err());
        assert!(validate_rules(&[r("*", "4413")]).is_err());
    }
}
