//! The case loop's supporting reads: inboxes (notifications), attachments, the responsibility
//! matrix (routing rules) and the holiday schedule (calendar days).
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cityops_store::{
    Attachment, CalendarDay, CategoryKind, DayKind, InboxOwner, NewAttachment, NewNotification,
    Notification, Page, PageRequest, Recipient, Result, Role, RoutingRule, StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, corrupt, parse, push_prefix};

/// The columns of `notifications` a write binds, in order.
pub const NOTIFICATION_COLUMNS: &str =
    "user_id, department_id, role, region_code, case_id, action, title, created_at";

/// The recipient columns `(user_id, department_id, role, region_code)` of a notification.
pub fn recipient_columns(
    r: &Recipient,
) -> (Option<i64>, Option<i64>, Option<&'static str>, Option<&str>) {
    match r {
        Recipient::User { user_id } => (Some(*user_id), None, None, None),
        Recipient::Department { department_id } => (None, Some(*department_id), None, None),
        Recipient::Role { role, region_code } => {
            (None, None, Some(role.as_str()), region_code.as_deref())
        }
    }
}

/// Decodes a notification row joined with its case code (`case_code`).
pub fn notification<D: Dialect>(row: &D::Row) -> Result<Notification> {
    let r = Cols::<D>(row);
    let user: Option<i64> = r.get("user_id")?;
    let dept: Option<i64> = r.get("department_id")?;
    let role: Option<String> = r.get("role")?;
    let recipient = match (user, dept, role) {
        (Some(user_id), _, _) => Recipient::User { user_id },
        (None, Some(department_id), _) => Recipient::Department { department_id },
        (None, None, Some(role)) => Recipient::Role {
            role: parse::<Role>("role", &role)?,
            region_code: r.get("region_code")?,
        },
        (None, None, None) => return Err(corrupt("notification recipient", "none")),
    };
    Ok(Notification {
        id: r.get("id")?,
        notification: NewNotification {
            recipient,
            case_id: r.get("case_id")?,
            action: r.get("action")?,
            title: r.get("title")?,
            created_at: D::ts(row, "created_at")?,
        },
        case_code: r.get("case_code")?,
        read_at: D::opt_ts(row, "read_at")?,
    })
}

/// The columns an attachment is decoded from.
pub const ATTACHMENT_COLUMNS: &str = "id, sha256, mime, bytes, width, height, thumb_sha256, \
     uploaded_by, created_at, file_name, case_id";

/// Decodes [`ATTACHMENT_COLUMNS`].
pub fn attachment<D: Dialect>(row: &D::Row) -> Result<Attachment> {
    let r = Cols::<D>(row);
    Ok(Attachment {
        id: r.get("id")?,
        attachment: NewAttachment {
            sha256: r.get("sha256")?,
            mime: r.get("mime")?,
            bytes: r.get("bytes")?,
            width: r.get("width")?,
            height: r.get("height")?,
            thumb_sha256: r.get("thumb_sha256")?,
            uploaded_by: r.get("uploaded_by")?,
            created_at: D::ts(row, "created_at")?,
            file_name: r.get("file_name")?,
        },
        case_id: r.get("case_id")?,
    })
}

/// Decodes a `routing_rules` row.
pub fn routing_rule<D: Dialect>(row: &D::Row) -> Result<RoutingRule> {
    let r = Cols::<D>(row);
    let kind: String = r.get("category_kind")?;
    Ok(RoutingRule {
        category_kind: parse::<CategoryKind>("category kind", &kind)?,
        category_code: r.get("category_code")?,
        region_code: r.get("region_code")?,
        department_id: r.get("department_id")?,
        auto_dispatch: r.get("auto_dispatch")?,
    })
}

/// Decodes a `calendar_days` row.
pub fn calendar_day<D: Dialect>(row: &D::Row) -> Result<CalendarDay> {
    let r = Cols::<D>(row);
    let kind: String = r.get("kind")?;
    Ok(CalendarDay {
        date: r.get("date")?,
        kind: parse::<DayKind>("calendar day kind", &kind)?,
        name: r.get("name")?,
    })
}

/// `AND (<the notification is in the owner's inbox>)` over `notifications n`: addressed to the
/// user, to their department, or to one of their roles with a region inside their prefixes (a
/// notification without a region reaches every holder of the role).
pub fn push_owner<D: Dialect>(q: &mut QueryBuilder<D>, owner: &InboxOwner) {
    q.push(" AND (n.user_id = ").bind(owner.user_id);
    if let Some(d) = owner.department_id {
        q.push(" OR n.department_id = ").bind(d);
    }
    if !owner.roles.is_empty() {
        let roles: Vec<&str> = owner.roles.iter().map(|r| r.as_str()).collect();
        q.push(" OR (");
        D::push_in_strs(q, "n.role", &roles);
        if let Some(prefixes) = &owner.region_prefixes {
            q.push(" AND (n.region_code IS NULL");
            for p in prefixes {
                q.push(" OR ");
                push_prefix(q, "n.region_code", p);
            }
            q.push(")");
        }
        q.push(")");
    }
    q.push(")");
}

/// `InboxRepo::inbox`: newest first.
pub async fn inbox<D: Dialect>(
    pool: &Pool<D>,
    owner: &InboxOwner,
    unread_only: bool,
    page: PageRequest,
) -> Result<Page<Notification>> {
    let filters = |q: &mut QueryBuilder<D>| {
        push_owner(q, owner);
        if unread_only {
            q.push(" AND n.read_at IS NULL");
        }
    };
    paged(
        pool,
        "SELECT n.id, n.user_id, n.department_id, n.role, n.region_code, n.case_id, n.action, \
         n.title, n.created_at, n.read_at, coalesce(c.code, '') AS case_code \
         FROM notifications n LEFT JOIN cases c ON c.id = n.case_id",
        "FROM notifications n",
        filters,
        " ORDER BY n.created_at DESC, n.id DESC",
        page,
        notification::<D>,
    )
    .await
}

/// `InboxRepo::mark_read`: marks the owner's unread notifications (those of `ids`, or all).
pub async fn mark_read<D: Dialect>(
    pool: &Pool<D>,
    owner: &InboxOwner,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut q = QueryBuilder::<D>::new("UPDATE notifications AS n SET read_at = ");
    D::push_ts(&mut q, now);
    q.push(" WHERE n.read_at IS NULL");
    if !ids.is_empty() {
        q.push(" AND ");
        D::push_in_ids(&mut q, "n.id", ids);
    }
    push_owner(&mut q, owner);
    D::execute(pool, q.build()).await
}

/// `AttachmentRepo::create_attachment`. The record returned holds what the column keeps
/// (microseconds), so it equals what is read back.
pub async fn create_attachment<D: Dialect>(
    pool: &Pool<D>,
    a: &NewAttachment,
) -> Result<Attachment> {
    let mut a = a.clone();
    a.created_at =
        DateTime::from_timestamp_micros(a.created_at.timestamp_micros()).unwrap_or(a.created_at);
    let q = sqlx::query(
        "INSERT INTO attachments (sha256, mime, bytes, width, height, thumb_sha256, uploaded_by, \
         created_at, file_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .arg(a.sha256.clone())
    .arg(a.mime.clone())
    .arg(a.bytes)
    .arg(a.width)
    .arg(a.height)
    .arg(a.thumb_sha256.clone())
    .arg(a.uploaded_by);
    let q = D::arg_ts(q, a.created_at).arg(a.file_name.clone());
    let row = D::fetch_one(pool, q).await?;
    Ok(Attachment {
        id: Cols::<D>(&row).get("id")?,
        attachment: a,
        case_id: None,
    })
}

/// `AttachmentRepo::get_attachments`, by id.
pub async fn get_attachments<D: Dialect>(pool: &Pool<D>, ids: &[i64]) -> Result<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<D>::new("SELECT ");
    q.push(ATTACHMENT_COLUMNS).push(" FROM attachments WHERE ");
    D::push_in_ids(&mut q, "id", ids);
    q.push(" ORDER BY id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(attachment::<D>)
        .collect()
}

/// `AttachmentRepo::case_attachments`.
pub async fn case_attachments<D: Dialect>(pool: &Pool<D>, case_id: i64) -> Result<Vec<Attachment>> {
    const SQL: &str = "SELECT id, sha256, mime, bytes, width, height, thumb_sha256, uploaded_by, \
         created_at, file_name, case_id FROM attachments WHERE case_id = $1 ORDER BY id";
    D::fetch_all(pool, sqlx::query(SQL).arg(case_id))
        .await?
        .iter()
        .map(attachment::<D>)
        .collect()
}

/// Rejects a holiday schedule that names one date twice (which entry would count is not
/// obvious), before anything is written.
pub fn validate_days(days: &[cityops_store::CalendarDay]) -> Result<()> {
    let mut seen = HashSet::with_capacity(days.len());
    match days.iter().find(|d| !seen.insert(d.date)) {
        Some(d) => Err(StoreError::Invalid(format!(
            "calendar day {} appears twice",
            d.date
        ))),
        None => Ok(()),
    }
}

/// Rejects a malformed rule or a (kind, category, region) given twice, before anything is
/// written.
pub fn validate_rules(rules: &[RoutingRule]) -> Result<()> {
    let mut seen = HashSet::with_capacity(rules.len());
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

/// `RoutingRepo::routing_rules`, in key order.
pub async fn routing_rules<D: Dialect>(pool: &Pool<D>) -> Result<Vec<RoutingRule>> {
    D::fetch_all(
        pool,
        sqlx::query(
            "SELECT category_kind, category_code, region_code, department_id, auto_dispatch \
             FROM routing_rules ORDER BY category_kind, category_code, region_code",
        ),
    )
    .await?
    .iter()
    .map(routing_rule::<D>)
    .collect()
}

/// `CalendarRepo::calendar_days`, by date.
pub async fn calendar_days<D: Dialect>(pool: &Pool<D>) -> Result<Vec<CalendarDay>> {
    D::fetch_all(
        pool,
        sqlx::query("SELECT date, kind, name FROM calendar_days ORDER BY date"),
    )
    .await?
    .iter()
    .map(calendar_day::<D>)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn recipients_map_to_columns() {
        assert_eq!(
            recipient_columns(&Recipient::User { user_id: 3 }),
            (Some(3), None, None, None)
        );
        assert_eq!(
            recipient_columns(&Recipient::Department { department_id: 4 }),
            (None, Some(4), None, None)
        );
        assert_eq!(
            recipient_columns(&Recipient::Role {
                role: Role::Intake,
                region_code: Some("441302".into())
            }),
            (None, None, Some("intake"), Some("441302"))
        );
    }
}
