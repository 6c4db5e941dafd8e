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
    /// A line of a working-calendar (工作日历) file that cannot be read; `line` is 1-based.
    #[error("calendar line {line}: {message}")]
    CalendarLine { line: usize, message: String },
    /// Working hours (作息时间) that are empty, inverted or overlapping.
    #[error("invalid working hours: {0}")]
    InvalidWorkingHours(String),
    /// A working calendar that cannot be built (duplicate dates, a bad yellow-light ratio).
    #[error("invalid working calendar: {0}")]
    InvalidCalendar(String),
}
