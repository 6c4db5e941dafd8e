//! The case loop's supporting reads: inboxes (notifications), attachments, the responsibility
//! matrix (routing rules) and the holiday schedule (calendar days).
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use cityops_store::{
    Attachment, AttachmentWithCase, CalendarDay, CategoryKind, DayKind, InboxOwner, NewAttachment,
    NewNotification, Notification, Page, PageRequest, ReadMark, Recipient, Result, Role,
    RoutingRule, StoreError,
};
use sqlx::{Pool, QueryBuilder};

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
pub const ATTACHMENT_COLUMNS: &str = "id, public_id, sha256, mime, bytes, width, height, \
     thumb_sha256, uploaded_by, created_at, file_name, case_id";

/// Decodes [`ATTACHMENT_COLUMNS`].
pub fn attachment<D: Dialect>(row: &D::Row) -> Result<Attachment> {
    let r = Cols::<D>(row);
    Ok(Attachment {
        id: r.get("id")?,
        public_id: r.get("public_id")?,
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

/// The owner's read state of notification `n`: their own read (`notification_reads`), else a
/// read from before per-user read state (`notifications.read_at`, then one flag for everyone).
const OWNER_READ_AT: &str = "coalesce(r.read_at, n.read_at)";

/// `FROM notifications n LEFT JOIN <the owner's reads> r` with the owner's id bound.
fn push_from_with_reads<D: Dialect>(q: &mut QueryBuilder<D>, owner: &InboxOwner) {
    q.push(
        " FROM notifications n LEFT JOIN notification_reads r \
         ON r.notification_id = n.id AND r.user_id = ",
    )
    .bind(owner.user_id);
}

/// `InboxRepo::inbox`: newest first, `read_at` as the owner read it.
pub async fn inbox<D: Dialect>(
    pool: &Pool<D>,
    owner: &InboxOwner,
    unread_only: bool,
    page: PageRequest,
) -> Result<Page<Notification>> {
    let filters = |q: &mut QueryBuilder<D>| {
        q.push(" WHERE 1 = 1");
        push_owner(q, owner);
        if unread_only {
            q.push(" AND ").push(OWNER_READ_AT).push(" IS NULL");
        }
    };
    let mut count = QueryBuilder::<D>::new("SELECT count(*) AS n");
    push_from_with_reads(&mut count, owner);
    filters(&mut count);
    let row = D::fetch_one(pool, count.build()).await?;
    let total = Cols::<D>(&row).get::<i64>("n")?.max(0) as u64;

    let mut q = QueryBuilder::<D>::new(
        "SELECT n.id, n.user_id, n.department_id, n.role, n.region_code, n.case_id, n.action, \
         n.title, n.created_at, ",
    );
    q.push(OWNER_READ_AT)
        .push(" AS read_at, coalesce(c.code, '') AS case_code");
    push_from_with_reads(&mut q, owner);
    q.push(" LEFT JOIN cases c ON c.id = n.case_id");
    filters(&mut q);
    q.push(" ORDER BY n.created_at DESC, n.id DESC LIMIT ")
        .bind(page.limit())
        .push(" OFFSET ")
        .bind(page.offset());
    let items = D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(notification::<D>)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total, page))
}

/// `InboxRepo::unread_count`.
pub async fn unread_count<D: Dialect>(pool: &Pool<D>, owner: &InboxOwner) -> Result<u64> {
    let mut q = QueryBuilder::<D>::new("SELECT count(*) AS n");
    push_from_with_reads(&mut q, owner);
    q.push(" WHERE ").push(OWNER_READ_AT).push(" IS NULL");
    push_owner(&mut q, owner);
    let row = D::fetch_one(pool, q.build()).await?;
    Ok(Cols::<D>(&row).get::<i64>("n")?.max(0) as u64)
}

/// `InboxRepo::mark_read`: one statement records the owner's read of every unread notification
/// of their inbox that `which` names (`ReadMark::Ids(&[])` names none). Personal and shared
/// notifications alike get a row of their reader in `notification_reads`, so a colleague's
/// read state never changes.
pub async fn mark_read<D: Dialect>(
    pool: &Pool<D>,
    owner: &InboxOwner,
    which: ReadMark<'_>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if matches!(which, ReadMark::Ids(ids) if ids.is_empty()) {
        return Ok(0);
    }
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO notification_reads (notification_id, user_id, read_at) SELECT n.id, ",
    );
    q.bind(owner.user_id).push(", ");
    D::push_ts(&mut q, now);
    q.push(
        " FROM notifications n WHERE n.read_at IS NULL AND NOT EXISTS (SELECT 1 FROM \
         notification_reads r WHERE r.notification_id = n.id AND r.user_id = ",
    )
    .bind(owner.user_id)
    .push(")");
    if let ReadMark::Ids(ids) = which {
        q.push(" AND ");
        D::push_in_ids(&mut q, "n.id", ids);
    }
    push_owner(&mut q, owner);
    q.push(" ON CONFLICT (notification_id, user_id) DO NOTHING");
    D::execute(pool, q.build()).await
}

/// A new public id of a photo: a version 7 UUID (48 bits of its upload time, 74 random bits),
/// so it cannot be guessed from another one and new ids still sort by time in the index.
pub fn new_public_id(created_at: DateTime<Utc>) -> String {
    let secs = u64::try_from(created_at.timestamp()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, created_at.timestamp_subsec_nanos());
    uuid::Uuid::new_v7(ts).to_string()
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
    let public_id = new_public_id(a.created_at);
    let q = sqlx::query(
        "INSERT INTO attachments (public_id, sha256, mime, bytes, width, height, thumb_sha256, \
         uploaded_by, created_at, file_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING id",
    )
    .arg(public_id.clone())
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
        public_id,
        attachment: a,
        case_id: None,
    })
}

/// `AttachmentRepo::get_attachments`, by row id.
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

/// `AttachmentRepo::attachments_by_public_id`.
pub async fn attachments_by_public_id<D: Dialect>(
    pool: &Pool<D>,
    public_ids: &[String],
) -> Result<Vec<Attachment>> {
    if public_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = public_ids.iter().map(String::as_str).collect();
    let mut q = QueryBuilder::<D>::new("SELECT ");
    q.push(ATTACHMENT_COLUMNS).push(" FROM attachments WHERE ");
    D::push_in_strs(&mut q, "public_id", &ids);
    q.push(" ORDER BY id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(attachment::<D>)
        .collect()
}

/// `AttachmentRepo::case_attachments`.
pub async fn case_attachments<D: Dialect>(pool: &Pool<D>, case_id: i64) -> Result<Vec<Attachment>> {
    const SQL: &str = "SELECT id, public_id, sha256, mime, bytes, width, height, thumb_sha256, \
         uploaded_by, created_at, file_name, case_id FROM attachments WHERE case_id = $1 \
         ORDER BY id";
    D::fetch_all(pool, sqlx::query(SQL).arg(case_id))
        .await?
        .iter()
        .map(attachment::<D>)
        .collect()
}

/// `AttachmentRepo::attachments_after`: keyset pages by row id, with the case code.
pub async fn attachments_after<D: Dialect>(
    pool: &Pool<D>,
    after_id: i64,
    limit: u32,
) -> Result<Vec<AttachmentWithCase>> {
    const SQL: &str = "SELECT a.id, a.public_id, a.sha256, a.mime, a.bytes, a.width, a.height, \
         a.thumb_sha256, a.uploaded_by, a.created_at, a.file_name, a.case_id, c.code AS case_code \
         FROM attachments a LEFT JOIN cases c ON c.id = a.case_id WHERE a.id > $1 \
         ORDER BY a.id LIMIT $2";
    D::fetch_all(pool, sqlx::query(SQL).arg(after_id).arg(i64::from(limit)))
        .await?
        .iter()
        .map(|row| {
            Ok(AttachmentWithCase {
                attachment: attachment::<D>(row)?,
                case_code: Cols::<D>(row).get("case_code")?,
            })
        })
        .collect()
}

/// Rejects a holiday schedule that names one date twice (which entry would count is not
/// obvious), a year outside 2000–2100 or a name that is not plain text, before anything is
/// written.
pub fn validate_days(days: &[cityops_store::CalendarDay]) -> Result<()> {
    let mut seen = HashSet::with_capacity(days.len());
    for d in days {
        cityops_domain::calendar::validate_day(d).map_err(StoreError::Invalid)?;
        if !seen.insert(d.date) {
            return Err(StoreError::Invalid(format!(
                "calendar day {} appears twice",
                d.date
            )));
        }
    }
    Ok(())
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
