//! Live case changes (案件动态): every report, action and watcher mark, once it is durable, is
//! sent as a small [`CaseChange`] on a bounded `tokio::sync::broadcast` channel that the big
//! screen's event stream (and any other listener) subscribes to.
//!
//! Bounded and lossy on purpose: the sender never waits; a receiver that falls more than
//! [`CHANGE_CAPACITY`] changes behind gets `Lagged` and must resynchronise (re-read the figures)
//! instead of slowing the service down. A change carries no personal data: no description,
//! contact, address or people — only codes, the status, the light and the place's region codes.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cityops_domain::calendar::Light;
use cityops_domain::case::{Case, CaseSource, CaseStatus, CaseVisibility};
use serde::Serialize;
use tokio::sync::broadcast;

/// Changes kept for slow receivers before they lag.
pub const CHANGE_CAPACITY: usize = 1024;

/// One durable change of a case, as the big screen's ticker shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseChange {
    pub id: i64,
    /// 案件编号
    pub code: String,
    /// The event: `report`, an action (`file`, `dispatch` …) or a watcher mark (`light_yellow`,
    /// `overdue` …).
    pub action: String,
    pub status: CaseStatus,
    pub light: Light,
    pub source: CaseSource,
    pub category_code: Option<String>,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    /// When it was stored (the case's `updated_at`).
    pub at: DateTime<Utc>,
    /// For the receivers' visibility check only (never sent).
    #[serde(skip)]
    pub region_code: Option<String>,
    #[serde(skip)]
    pub department_id: Option<i64>,
}

impl CaseChange {
    /// The change `action` made to `case` (as stored).
    pub fn of(case: &Case, action: &str) -> Self {
        let loc = &case.location;
        Self {
            id: case.id,
            code: case.code.clone(),
            action: action.to_string(),
            status: case.status,
            light: case.light,
            source: case.source,
            category_code: case.category_code.clone(),
            district_code: loc.district_code.clone(),
            street_code: loc.street_code.clone(),
            at: case.updated_at,
            region_code: loc.region_code().map(str::to_string),
            department_id: case.department_id,
        }
    }

    /// Whether a viewer with `vis` may hear of it: the case's region or department is theirs
    /// (or, for a closed-only scope, the case is closed there; the people of a case are not
    /// carried, so a case seen only as its reporter or assignee is not announced).
    pub fn visible_to(&self, vis: &CaseVisibility) -> bool {
        vis.admits(
            self.status,
            self.region_code.as_deref(),
            self.department_id,
            &[],
        )
    }
}

/// The sending side, held by the case service.
#[derive(Debug, Clone)]
pub struct LiveChanges {
    tx: broadcast::Sender<Arc<CaseChange>>,
}

impl Default for LiveChanges {
    fn default() -> Self {
        Self::new(CHANGE_CAPACITY)
    }
}

impl LiveChanges {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Sends a change to every current receiver; never waits (nobody listening is fine).
    pub fn send(&self, change: CaseChange) {
        let _ = self.tx.send(Arc::new(change));
    }

    /// A receiver of the changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CaseChange>> {
        self.tx.subscribe()
    }

    /// How many receivers listen now.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, region: Option<&str>, dept: Option<i64>) -> CaseChange {
        CaseChange {
            id,
            code: format!("20260302{id:05}"),
            action: "report".into(),
            status: CaseStatus::Reported,
            light: Light::Green,
            source: CaseSource::Citizen,
            category_code: None,
            district_code: None,
            street_code: None,
            at: Utc::now(),
            region_code: region.map(str::to_string),
            department_id: dept,
        }
    }

    #[test]
    fn visibility_by_region_and_department() {
        let vis = CaseVisibility {
            region_prefixes: vec!["441302".into()],
            department_id: Some(7),
            ..CaseVisibility::default()
        };
        assert!(change(1, Some("441302001"), None).visible_to(&vis));
        assert!(change(2, Some("441303001"), Some(7)).visible_to(&vis));
        assert!(!change(3, Some("441303001"), Some(8)).visible_to(&vis));
        assert!(!change(4, None, None).visible_to(&vis));
        assert!(change(4, None, None).visible_to(&CaseVisibility::everything()));
    }

    #[tokio::test]
    async fn slow_receivers_lag_and_the_sender_never_waits() {
        let live = LiveChanges::new(4);
        let mut rx = live.subscribe();
        for id in 0..10 {
            live.send(change(id, None, None));
        }
        match rx.recv().await {
            Err(broadcast::error::RecvError::Lagged(n)) => assert_eq!(n, 6),
            other => panic!("expected a lag, got {other:?}"),
        }
        assert_eq!(rx.recv().await.expect("the oldest kept").id, 6);
        let serialized = serde_json::to_value(&*live_one()).expect("json");
        assert!(serialized.get("region_code").is_none(), "never sent");
        assert!(serialized.get("department_id").is_none(), "never sent");
    }

    fn live_one() -> Arc<CaseChange> {
        Arc::new(change(1, Some("441302"), Some(3)))
    }
}
