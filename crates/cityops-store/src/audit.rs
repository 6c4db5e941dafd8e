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
