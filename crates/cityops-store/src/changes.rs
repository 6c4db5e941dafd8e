//! Versions of the configuration an administrator changes (配置版本): every change of the
//! responsibility matrix (权责清单) and of the holiday schedule (节假日/调休) is kept whole — who,
//! when, a summary and the full content after the change — in the same transaction as the change,
//! so any earlier state can be looked at and restored (a restore is itself a new version).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who changes versioned configuration, when, and a one-line summary of what they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The user; `None` for the system (the demo generator, the command line).
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// E.g. `replaced from CSV (12 rules)`.
    pub summary: String,
}

impl ConfigChange {
    /// A change by `user_id` (or the system) at `at`.
    pub fn new(user_id: Option<i64>, at: DateTime<Utc>, summary: impl Into<String>) -> Self {
        Self {
            user_id,
            at,
            summary: summary.into(),
        }
    }
}

/// What a version is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSubject {
    /// The responsibility matrix (routing rules).
    Routing,
    /// The holiday schedule (calendar days).
    Calendar,
}

impl ConfigSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSubject::Routing => "routing",
            ConfigSubject::Calendar => "calendar",
        }
    }
}

impl std::str::FromStr for ConfigSubject {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "routing" => Ok(ConfigSubject::Routing),
            "calendar" => Ok(ConfigSubject::Calendar),
            other => Err(format!("unknown configuration subject {other:?}")),
        }
    }
}

/// One kept version (without its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigVersion {
    pub id: i64,
    pub subject: ConfigSubject,
    /// Who made the change (`None`: the system).
    pub user_id: Option<i64>,
    /// Their username and display name, if the user exists.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub at: DateTime<Utc>,
    pub summary: String,
    /// The version this one restored, for a restore.
    pub restored_from: Option<i64>,
    /// How many rules or days the content holds.
    pub items: i64,
}
