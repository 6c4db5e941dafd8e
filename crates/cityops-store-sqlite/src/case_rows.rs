//! Encoding and decoding of the case workflow rows: the projected columns of a case, events,
//! notifications, attachments, routing rules and calendar days.
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use cityops_store::{
    Attachment, CalendarDay, Case, CaseEvent, CategoryKind, DayKind, NewAttachment, NewCaseEvent,
    NewNotification, Notification, Recipient, Result, Role, RoutingRule, StoreError,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::db_err;
use crate::rows::ts;

/// The columns a case is decoded from.
pub(crate) const CASE_COLUMNS: &str =
    "cases.id, cases.code, cases.doc, cases.lng, cases.lat, cases.version";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("unexpected {what} {value:?} in the database"))
}

fn parse<T: FromStr>(what: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| corrupt(what, value))
}

fn parse_ts(what: &str, value: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(what, value))
}

fn json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode {what}: {e}")))
}

/// The values of the projected columns of `cases`, in the order of [`PROJECTED`].
pub(crate) struct Projection<'a> {
    pub doc: String,
    pub status: &'static str,
    pub source: &'static str,
    pub category_code: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub district_code: Option<&'a str>,
    pub street_code: Option<&'a str>,
    pub community_code: Option<&'a str>,
    pub grid_code: Option<&'a str>,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub reporter_id: Option<i64>,
    pub lng: f64,
    pub lat: f64,
    pub created_at: String,
    pub updated_at: String,
    pub stage_due: Option<String>,
    pub stage_yellow_at: Option<String>,
    pub light: &'static str,
    pub overdue: bool,
    pub supervised: bool,
    pub suspended_until: Option<String>,
    pub merged_into: Option<i64>,
}

/// The projected columns (everything but id, code and version), in bind order.
pub(crate) const PROJECTED: &str = "doc, status, source, category_code, region_code, district_code, \
     street_code, community_code, grid_code, department_id, assignee_id, reporter_id, lng, lat, \
     created_at, updated_at, stage_due, stage_yellow_at, light, overdue, supervised, \
     suspended_until, merged_into";

/// `PROJECTED` as `col = ?` assignments for an UPDATE.
pub(crate) const PROJECTED_SET: &str = "doc = ?, status = ?, source = ?, category_code = ?, \
     region_code = ?, district_code = ?, street_code = ?, community_code = ?, grid_code = ?, \
     department_id = ?, assignee_id = ?, reporter_id = ?, lng = ?, lat = ?, created_at = ?, \
     updated_at = ?, stage_due = ?, stage_yellow_at = ?, light = ?, overdue = ?, supervised = ?, \
     suspended_until = ?, merged_into = ?";

/// The projection of a case whose stored id, code and version are those of `case`. The stage
/// clock counts only while the case is open.
pub(crate) fn project(case: &Case) -> Result<Projection<'_>> {
    let clock = case.clock.as_ref().filter(|_| case.status.is_open());
    let loc = &case.location;
    Ok(Projection {
        doc: json("case", case)?,
        status: case.status.as_str(),
        source: case.source.as_str(),
        category_code: case.category_code.as_deref(),
        region_code: loc.region_code(),
        district_code: loc.district_code.as_deref(),
        street_code: loc.street_code.as_deref(),
        community_code: loc.community_code.as_deref(),
        grid_code: loc.grid_code.as_deref(),
        department_id: case.department_id,
        assignee_id: case.assignee_id,
        reporter_id: case.reporter_id,
        lng: loc.lng,
        lat: loc.lat,
        created_at: ts(case.created_at),
        updated_at: ts(case.updated_at),
        stage_due: clock.and_then(|k| k.due).map(ts),
        stage_yellow_at: clock.and_then(|k| k.yellow_at).map(ts),
        light: case.light.as_str(),
        overdue: case.overdue,
        supervised: case.supervised,
        suspended_until: case.suspended_until.map(ts),
        merged_into: case.merged_into,
    })
}

/// Binds the projection in [`PROJECTED`] order.
pub(crate) fn bind_projection<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    p: &'q Projection<'_>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(p.doc.as_str())
        .bind(p.status)
        .bind(p.source)
        .bind(p.category_code)
        .bind(p.region_code)
        .bind(p.district_code)
        .bind(p.street_code)
        .bind(p.community_code)
        .bind(p.grid_code)
        .bind(p.department_id)
        .bind(p.assignee_id)
        .bind(p.reporter_id)
        .bind(p.lng)
        .bind(p.lat)
        .bind(p.created_at.as_str())
        .bind(p.updated_at.as_str())
        .bind(p.stage_due.as_deref())
        .bind(p.stage_yellow_at.as_deref())
        .bind(p.light)
        .bind(p.overdue)
        .bind(p.supervised)
        .bind(p.suspended_until.as_deref())
        .bind(p.merged_into)
}

/// Pushes the projection as bound values of a multi-row INSERT (after id, code and version).
pub(crate) fn push_projection(
    b: &mut sqlx::query_builder::Separated<'_, sqlx::Sqlite, &'static str>,
    p: Projection<'_>,
) {
    b.push_bind(p.doc)
        .push_bind(p.status)
        .push_bind(p.source)
        .push_bind(p.category_code.map(str::to_string))
        .push_bind(p.region_code.map(str::to_string))
        .push_bind(p.district_code.map(str::to_string))
        .push_bind(p.street_code.map(str::to_string))
        .push_bind(p.community_code.map(str::to_string))
        .push_bind(p.grid_code.map(str::to_string))
        .push_bind(p.department_id)
        .push_bind(p.assignee_id)
        .push_bind(p.reporter_id)
        .push_bind(p.lng)
        .push_bind(p.lat)
        .push_bind(p.created_at)
        .push_bind(p.updated_at)
        .push_bind(p.stage_due)
        .push_bind(p.stage_yellow_at)
        .push_bind(p.light)
        .push_bind(p.overdue)
        .push_bind(p.supervised)
        .push_bind(p.suspended_until)
        .push_bind(p.merged_into);
}

/// Decodes [`CASE_COLUMNS`]: the document, with id, code, version and the point from their
/// columns (the columns are authoritative; REAL keeps the coordinates bit-exact).
pub(crate) fn case(row: &SqliteRow) -> Result<Case> {
    let doc: String = row.try_get("doc").map_err(db_err)?;
    let mut case: Case = serde_json::from_str(&doc)
        .map_err(|e| StoreError::Database(format!("unreadable case document: {e}")))?;
    case.id = row.try_get("id").map_err(db_err)?;
    case.code = row.try_get("code").map_err(db_err)?;
    case.version = row.try_get("version").map_err(db_err)?;
    case.location.lng = row.try_get("lng").map_err(db_err)?;
    case.location.lat = row.try_get("lat").map_err(db_err)?;
    Ok(case)
}

/// An event's column values.
pub(crate) struct EventValues {
    pub seq: i64,
    pub at: String,
    pub attachments: String,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventValues {
    /// The event at `seq` after `prev_hash`, hashed as it will be read back.
    pub(crate) fn new(seq: i64, event: &NewCaseEvent, prev_hash: String) -> Result<Self> {
        let hash = cityops_domain::case::chain_hash(&prev_hash, seq, event);
        Ok(Self {
            seq,
            at: ts(event.at),
            attachments: json("attachments", &event.attachments)?,
            data: json("event data", &event.data)?,
            prev_hash,
            hash,
        })
    }
}

/// The columns of `case_events`, in bind order.
pub(crate) const EVENT_COLUMNS: &str = "seq, case_id, action, actor_id, actor_role, at, from_status, \
     to_status, comment, attachments, data, prev_hash, hash";

/// Decodes a `case_events` row.
pub(crate) fn event(row: &SqliteRow) -> Result<CaseEvent> {
    let role: Option<String> = row.try_get("actor_role").map_err(db_err)?;
    let from: Option<String> = row.try_get("from_status").map_err(db_err)?;
    let to: String = row.try_get("to_status").map_err(db_err)?;
    let at: String = row.try_get("at").map_err(db_err)?;
    let attachments: String = row.try_get("attachments").map_err(db_err)?;
    let data: String = row.try_get("data").map_err(db_err)?;
    Ok(CaseEvent {
        seq: row.try_get("seq").map_err(db_err)?,
        event: NewCaseEvent {
            case_id: row.try_get("case_id").map_err(db_err)?,
            action: row.try_get("action").map_err(db_err)?,
            actor_id: row.try_get("actor_id").map_err(db_err)?,
            actor_role: role.as_deref().map(|r| parse("role", r)).transpose()?,
            at: parse_ts("event time", &at)?,
            from_status: from
                .as_deref()
                .map(|s| parse("case status", s))
                .transpose()?,
            to_status: parse("case status", &to)?,
            comment: row.try_get("comment").map_err(db_err)?,
            attachments: serde_json::from_str(&attachments)
                .map_err(|_| corrupt("attachment list", &attachments))?,
            data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        },
        prev_hash: row.try_get("prev_hash").map_err(db_err)?,
        hash: row.try_get("hash").map_err(db_err)?,
    })
}

/// The recipient columns `(user_id, department_id, role, region_code)` of a notification.
pub(crate) fn recipient_columns(
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

/// The columns of `notifications` a write binds, in order.
pub(crate) const NOTIFICATION_COLUMNS: &str =
    "user_id, department_id, role, region_code, case_id, action, title, created_at";

/// Decodes a notification row joined with its case code (`case_code`).
pub(crate) fn notification(row: &SqliteRow) -> Result<Notification> {
    let user: Option<i64> = row.try_get("user_id").map_err(db_err)?;
    let dept: Option<i64> = row.try_get("department_id").map_err(db_err)?;
    let role: Option<String> = row.try_get("role").map_err(db_err)?;
    let recipient = match (user, dept, role) {
        (Some(user_id), _, _) => Recipient::User { user_id },
        (None, Some(department_id), _) => Recipient::Department { department_id },
        (None, None, Some(role)) => Recipient::Role {
            role: parse::<Role>("role", &role)?,
            region_code: row.try_get("region_code").map_err(db_err)?,
        },
        (None, None, None) => return Err(corrupt("notification recipient", "none")),
    };
    let created: String = row.try_get("created_at").map_err(db_err)?;
    let read: Option<String> = row.try_get("read_at").map_err(db_err)?;
    Ok(Notification {
        id: row.try_get("id").map_err(db_err)?,
        notification: NewNotification {
            recipient,
            case_id: row.try_get("case_id").map_err(db_err)?,
            action: row.try_get("action").map_err(db_err)?,
            title: row.try_get("title").map_err(db_err)?,
            created_at: parse_ts("notification time", &created)?,
        },
        case_code: row.try_get("case_code").map_err(db_err)?,
        read_at: read
            .as_deref()
            .map(|r| parse_ts("read time", r))
            .transpose()?,
    })
}

pub(crate) fn attachment(row: &SqliteRow) -> Result<Attachment> {
    let created: String = row.try_get("created_at").map_err(db_err)?;
    Ok(Attachment {
        id: row.try_get("id").map_err(db_err)?,
        attachment: NewAttachment {
            sha256: row.try_get("sha256").map_err(db_err)?,
            mime: row.try_get("mime").map_err(db_err)?,
            bytes: row.try_get("bytes").map_err(db_err)?,
            width: row.try_get("width").map_err(db_err)?,
            height: row.try_get("height").map_err(db_err)?,
            thumb_sha256: row.try_get("thumb_sha256").map_err(db_err)?,
            uploaded_by: row.try_get("uploaded_by").map_err(db_err)?,
            created_at: parse_ts("attachment time", &created)?,
            file_name: row.try_get("file_name").map_err(db_err)?,
        },
        case_id: row.try_get("case_id").map_err(db_err)?,
    })
}

pub(crate) fn routing_rule(row: &SqliteRow) -> Result<RoutingRule> {
    let kind: String = row.try_get("category_kind").map_err(db_err)?;
    Ok(RoutingRule {
        category_kind: parse::<CategoryKind>("category kind", &kind)?,
        category_code: row.try_get("category_code").map_err(db_err)?,
        region_code: row.try_get("region_code").map_err(db_err)?,
        department_id: row.try_get("department_id").map_err(db_err)?,
        auto_dispatch: row.try_get("auto_dispatch").map_err(db_err)?,
    })
}

pub(crate) fn calendar_day(row: &SqliteRow) -> Result<CalendarDay> {
    let date: String = row.try_get("date").map_err(db_err)?;
    let kind: String = row.try_get("kind").map_err(db_err)?;
    Ok(CalendarDay {
        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| corrupt("date", &date))?,
        kind: parse::<DayKind>("calendar day kind", &kind)?,
        name: row.try_get("name").map_err(db_err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cityops_store::CaseStatus;

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

    #[test]
    fn event_values_hash_what_is_stored() {
        let e = NewCaseEvent {
            case_id: 1,
            action: "report".into(),
            actor_id: None,
            actor_role: None,
            at: Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
                + chrono::Duration::microseconds(17),
            from_status: None,
            to_status: CaseStatus::Reported,
            comment: None,
            attachments: vec![5],
            data: serde_json::json!({"b": 1, "a": [1, 2]}),
        };
        let v = EventValues::new(1, &e, "p".into()).unwrap();
        assert_eq!(v.at, "2026-03-02T01:00:00.000017Z");
        assert_eq!(v.attachments, "[5]");
        assert_eq!(v.data, r#"{"a":[1,2],"b":1}"#);
        assert_eq!(v.hash, cityops_domain::case::chain_hash("p", 1, &e));
        assert_eq!(parse_ts("t", &v.at).unwrap(), e.at);
    }
}
