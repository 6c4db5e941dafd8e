//! The SQLite encoding of the case workflow rows: the projected columns of a case (computed by
//! the shared `cityops_store_sql::cases::project`) bound as SQLite stores them, and event values.
//! Decoding is shared (`cityops_store_sql::cases`, `cityops_store_sql::workflow`).
use cityops_store::{NewCaseEvent, Result};

pub(crate) use cityops_store_sql::cases::{EVENT_COLUMNS, PROJECTED, Projection, json, project};
pub(crate) use cityops_store_sql::workflow::{NOTIFICATION_COLUMNS, recipient_columns};

use crate::rows::ts;

/// `PROJECTED` as `col = ?` assignments for an UPDATE.
pub(crate) const PROJECTED_SET: &str = "doc = ?, status = ?, source = ?, category_code = ?, \
     region_code = ?, district_code = ?, street_code = ?, community_code = ?, grid_code = ?, \
     department_id = ?, assignee_id = ?, reporter_id = ?, lng = ?, lat = ?, created_at = ?, \
     updated_at = ?, stage_due = ?, stage_yellow_at = ?, light = ?, overdue = ?, supervised = ?, \
     suspended_until = ?, merged_into = ?, facts = ?";

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
        .bind(ts(p.created_at))
        .bind(ts(p.updated_at))
        .bind(p.stage_due.map(ts))
        .bind(p.stage_yellow_at.map(ts))
        .bind(p.light)
        .bind(p.overdue)
        .bind(p.supervised)
        .bind(p.suspended_until.map(ts))
        .bind(p.merged_into)
        .bind(p.facts.as_str())
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
        .push_bind(ts(p.created_at))
        .push_bind(ts(p.updated_at))
        .push_bind(p.stage_due.map(ts))
        .push_bind(p.stage_yellow_at.map(ts))
        .push_bind(p.light)
        .push_bind(p.overdue)
        .push_bind(p.supervised)
        .push_bind(p.suspended_until.map(ts))
        .push_bind(p.merged_into)
        .push_bind(p.facts);
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use cityops_store::CaseStatus;

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
        assert_eq!(DateTime::parse_from_rfc3339(&v.at).unwrap(), e.at);
    }
}
