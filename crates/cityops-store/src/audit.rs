//! The audit checkpoint (审计检查点): the last link of the event chain that a verification found
//! intact, so `GET /api/v1/audit/verify` needs to check only the events after it.
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// The last audit-chain link that a full or incremental verification found intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    /// The seq of the verified event.
    pub seq: i64,
    /// Its hash as verified.
    pub hash: String,
    /// When the verification ran.
    pub verified_at: DateTime<Utc>,
}

/// Where the audit verification resumes.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// The stored checkpoint; `None` before the first verification.
    async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>>;
    /// Stores the checkpoint; never moves it backwards (a lower seq is ignored).
    async fn save_audit_checkpoint(&self, cp: &AuditCheckpoint) -> Result<()>;
}

/// How a reporter's contact was shown in full (个人信息访问记录).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactAccessVia {
    /// The case's detail (`GET /api/v1/cases/{id}`).
    Case,
    /// A page of the case list.
    List,
    /// The answer to a case action.
    Action,
    /// A case export (CSV or XLSX): one entry per case whose contact the file holds in full.
    Export,
}

impl ContactAccessVia {
    pub const ALL: [ContactAccessVia; 4] = [
        ContactAccessVia::Case,
        ContactAccessVia::List,
        ContactAccessVia::Action,
        ContactAccessVia::Export,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactAccessVia::Case => "case",
            ContactAccessVia::List => "list",
            ContactAccessVia::Action => "action",
            ContactAccessVia::Export => "export",
        }
    }
}

impl std::str::FromStr for ContactAccessVia {
    type Err = crate::StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| crate::StoreError::Invalid(format!("unknown contact access {s:?}")))
    }
}

/// One full view of a reporter's contact: who saw the contact of which case, when and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAccess {
    pub at: DateTime<Utc>,
    pub user_id: i64,
    pub case_id: i64,
    pub via: ContactAccessVia,
}

/// A stored [`ContactAccess`] with its id (ids grow with every append).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAccessEntry {
    pub id: i64,
    pub access: ContactAccess,
}

/// Filters of the contact access log (all given must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactAccessQuery {
    pub case_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// The contact access log: append-only (there is no method to change or delete an entry, and the
/// stores refuse `UPDATE` and `DELETE` on the table).
#[async_trait]
pub trait AccessLogRepo: Send + Sync {
    /// Appends the entries in one statement (a page of the case list is one write, not one per
    /// case); nothing for an empty slice.
    async fn log_contact_access(&self, entries: &[ContactAccess]) -> Result<()>;
    /// The entries matching `query`, newest first (by id).
    async fn contact_access_log(
        &self,
        query: &ContactAccessQuery,
        page: crate::PageRequest,
    ) -> Result<crate::Page<ContactAccessEntry>>;
}
