//! The case service's errors. No HTTP here: the web crate maps each variant onto its table of
//! stable API codes (and an MQTT or Open311 front end onto its own).
use cityops_domain::case::{CaseAction, CaseError};
use cityops_domain::limits::TooLong;
use cityops_store::StoreError;

/// Why the case service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The case (or another record the caller named) does not exist or lies outside the caller's
    /// scope — the two are not told apart.
    #[error("{0}")]
    NotFound(String),
    /// The caller's roles may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A field is missing or malformed, or names something that does not exist.
    #[error("{0}")]
    Invalid(String),
    /// The action is not possible in the case's status or state; `allowed` is what this actor
    /// may do now.
    #[error("{message}")]
    InvalidTransition {
        message: String,
        allowed: Vec<CaseAction>,
    },
    /// The reported point lies outside every district of the city.
    #[error("the reported point lies outside the city")]
    OutsideCity,
    /// Replacing the responsibility matrix with no rules (or restoring an empty version) without
    /// saying so explicitly (`allow_empty`): it would stop every suggestion and automatic dispatch.
    #[error("the new responsibility matrix has no rules; ask for an empty matrix explicitly")]
    EmptyMatrix,
    /// Someone else changed the case meanwhile (optimistic version check).
    #[error("{0}")]
    Conflict(String),
    /// A text is longer than its field allows ([`cityops_domain::limits`]).
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// Too many reports from this account or address; retry after this many seconds.
    #[error("too many reports; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A capped export (XLSX) would hold more rows than its cap: narrow the filters.
    #[error(
        "the export would hold {rows} cases; at most {max} fit one file: narrow the filters \
         (or export CSV, which has no cap)"
    )]
    ExportTooLarge { rows: u64, max: u64 },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl ServiceError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Invalid(m) => Self::Invalid(m),
            other => Self::Store(other),
        }
    }
}

impl From<CaseError> for ServiceError {
    /// A state-machine refusal: 409-like, 403-like or 422-like.
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::InvalidTransition { ref allowed, .. } => Self::InvalidTransition {
                allowed: allowed.clone(),
                message: e.to_string(),
            },
            CaseError::Forbidden { .. } => Self::Forbidden(e.to_string()),
            CaseError::Missing { .. } | CaseError::Invalid(_) => Self::Invalid(e.to_string()),
            CaseError::TooLong(t) => Self::TooLong(t),
        }
    }
}

/// A store error of a case write: a version conflict becomes [`ServiceError::Conflict`].
pub(crate) fn save_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => ServiceError::Conflict(
            "The case was changed by someone else meanwhile; reload it and try again.".into(),
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::case::CaseStatus;

    #[test]
    fn machine_errors_keep_their_kind() {
        let e: ServiceError = CaseError::InvalidTransition {
            action: CaseAction::Sign,
            status: CaseStatus::Filed,
            why: "x".into(),
            allowed: vec![CaseAction::Dispatch],
        }
        .into();
        assert!(
            matches!(e, ServiceError::InvalidTransition { ref allowed, .. } if allowed == &[CaseAction::Dispatch])
        );
        let e: ServiceError = CaseError::Forbidden {
            action: CaseAction::Sign,
        }
        .into();
        assert!(matches!(e, ServiceError::Forbidden(_)));
        let e: ServiceError = CaseError::Missing {
            action: CaseAction::Reject,
            field: "reason",
        }
        .into();
        assert!(matches!(e, ServiceError::Invalid(_)));
        assert!(matches!(
            save_error(StoreError::Conflict("v".into())),
            ServiceError::Conflict(_)
        ));
        assert!(matches!(
            save_error(StoreError::Database("down".into())),
            ServiceError::Store(_)
        ));
    }
}
