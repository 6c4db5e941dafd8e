use thiserror::Error;

/// Errors raised when a value does not satisfy the domain's rules.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DomainError {
    #[error("invalid region code {0:?}: expected 6, 9, 12 or 15 digits")]
    InvalidRegionCode(String),
    #[error(
        "invalid component id {0:?}: expected 17 digits (6 region + 2 class + 3 subclass + 6 sequence)"
    )]
    InvalidComponentId(String),
    #[error("invalid category code {0:?}: expected 5 digits (2 class + 3 subclass)")]
    InvalidCategoryCode(String),
    #[error("unknown {what} {value:?}")]
    Unknown { what: &'static str, value: String },
    #[error("invalid coordinate: lng={lng}, lat={lat}")]
    InvalidCoordinate { lng: f64, lat: f64 },
    #[error("{0}")]
    Invalid(String),
}
