//! Case events (流转记录) and notifications: what every transition emits. Events form one
//! append-only hash chain (审计链): each event's hash covers its content and the previous hash, so
//! editing or deleting a stored event breaks the chain at that point.
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::types::CaseStatus;
use crate::org::Role;

/// The hash the first event of the chain links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as a transition produces it, before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCaseEvent {
    /// 0 for the event that creates the case: the store fills in the new id.
    pub case_id: i64,
    /// The action name (`file`, `dispatch` …) or a system event (`report`, `light_yellow`, `overdue`).
    pub action: String,
    /// `None` for the system (deadline watcher, automatic filing/dispatch).
    pub actor_id: Option<i64>,
    pub actor_role: Option<Role>,
    /// Truncated to microseconds so that both stores keep it exactly.
    pub at: DateTime<Utc>,
    pub from_status: Option<CaseStatus>,
    pub to_status: CaseStatus,
    pub comment: Option<String>,
    /// Attachment ids (photos) linked to this transition.
    pub attachments: Vec<i64>,
    /// Action-specific facts (department, deadline, category …) as a JSON object.
    pub data: serde_json::Value,
}

/// A stored event: its place in the chain and its hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// Position in the global chain (1, 2, 3 …).
    pub seq: i64,
    #[serde(flatten)]
    pub event: NewCaseEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical bytes hashed for an event: a JSON array with a fixed order of fields, times in
/// RFC 3339 with microseconds, `data` with sorted keys.
fn canonical(seq: i64, ev: &NewCaseEvent) -> Vec<u8> {
    let v = serde_json::json!([
        seq,
        ev.case_id,
        ev.action,
        ev.actor_id,
        ev.actor_role.map(Role::as_str),
        ev.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        ev.from_status.map(CaseStatus::as_str),
        ev.to_status.as_str(),
        ev.comment,
        ev.attachments,
        ev.data,
    ]);
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The hash of event `seq` linked to `prev_hash` (hex SHA-256).
pub fn chain_hash(prev_hash: &str, seq: i64, ev: &NewCaseEvent) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(seq, ev));
    hex::encode(h.finalize())
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Verifies a run of events in seq order, continuing from (`prev_seq`, `prev_hash`). Returns the
/// new chain head or the first broken link.
pub fn verify_chain<'a>(
    mut prev_seq: i64,
    mut prev_hash: String,
    events: impl IntoIterator<Item = &'a CaseEvent>,
) -> Result<(i64, String), BrokenLink> {
    for e in events {
        if e.seq != prev_seq + 1 {
            return Err(BrokenLink {
                seq: prev_seq + 1,
                reason: format!(
                    "event {} is missing (the next stored event is {})",
                    prev_seq + 1,
                    e.seq
                ),
            });
        }
        if e.prev_hash != prev_hash {
            return Err(BrokenLink {
                seq: e.seq,
                reason: "its link to the previous event does not match".into(),
            });
        }
        let expect = chain_hash(&prev_hash, e.seq, &e.event);
        if expect != e.hash {
            return Err(BrokenLink {
                seq: e.seq,
                reason: "its content does not match its hash (edited after it was written)".into(),
            });
        }
        prev_seq = e.seq;
        prev_hash = e.hash.clone();
    }
    Ok((prev_seq, prev_hash))
}

/// Who a notification is for: a user, a department's inbox, or everyone holding a role whose
/// region scope covers the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    User {
        user_id: i64,
    },
    Department {
        department_id: i64,
    },
    Role {
        role: Role,
        region_code: Option<String>,
    },
}

/// A notification (待办/消息) a transition sends to the next actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotification {
    pub recipient: Recipient,
    /// 0 for the case being created: the store fills in the new id.
    pub case_id: i64,
    /// The action or event that caused it.
    pub action: String,
    /// A short text in Chinese, e.g. "待派遣：案件 2026113000001".
    pub title: String,
    pub created_at: DateTime<Utc>,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    #[serde(flatten)]
    pub notification: NewNotification,
    pub case_code: String,
    pub read_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ev(action: &str) -> NewCaseEvent {
        NewCaseEvent {
            case_id: 7,
            action: action.into(),
            actor_id: Some(3),
            actor_role: Some(Role::Dispatcher),
            at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
            from_status: Some(CaseStatus::Filed),
            to_status: CaseStatus::Dispatched,
            comment: Some("派往市政".into()),
            attachments: vec![1, 2],
            data: serde_json::json!({"department_id": 5, "a": 1}),
        }
    }

    fn chain(n: i64) -> Vec<CaseEvent> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = ev(&format!("a{seq}"));
                let hash = chain_hash(&prev, seq, &e);
                let out = CaseEvent {
                    seq,
                    event: e,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                out
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies_and_edits_are_found() {
        let c = chain(5);
        assert_eq!(
            verify_chain(0, GENESIS_HASH.into(), &c).unwrap().0,
            5,
            "intact chain"
        );
        let mut edited = c.clone();
        edited[2].event.comment = Some("改过".into());
        assert_eq!(
            verify_chain(0, GENESIS_HASH.into(), &edited)
                .unwrap_err()
                .seq,
            3
        );
        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain(0, GENESIS_HASH.into(), &deleted)
                .unwrap_err()
                .seq,
            2
        );
        let mut rehashed = c;
        rehashed[1].event.actor_id = Some(99);
        rehashed[1].hash = chain_hash(&rehashed[1].prev_hash, 2, &rehashed[1].event);
        // Re-hashing one event breaks the link of the next one.
        assert_eq!(
            verify_chain(0, GENESIS_HASH.into(), &rehashed)
                .unwrap_err()
                .seq,
            3
        );
    }

    #[test]
    fn data_key_order_does_not_matter() {
        let a = ev("x");
        let mut b = ev("x");
        b.data = serde_json::json!({"a": 1, "department_id": 5});
        assert_eq!(chain_hash("p", 1, &a), chain_hash("p", 1, &b));
    }
}
