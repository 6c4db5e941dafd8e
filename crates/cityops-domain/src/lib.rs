//! The CityOps domain: the vocabulary of a city operation management service platform
//! (城市运行管理服务平台) as plain data and pure functions.
//!
//! Invariants: this crate performs no I/O, spawns nothing and is not async. It knows nothing of
//! SQL, HTTP, MQTT or files. Everything here can be unit- and property-tested in memory.

pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod component;
pub mod error;
pub mod evaluation;
pub mod limits;
pub mod monitoring;
pub mod objects;
pub mod open311;
pub mod org;
pub mod page;
pub mod poi;
pub mod privacy;
pub mod region;
pub mod report;
pub mod review;

pub use calendar::{
    CalendarConfig, CalendarDay, DayKind, Deadline, Light, WorkingCalendar, WorkingHours,
    parse_calendar_csv,
};
pub use catalogue::{Category, CategoryKind, FilingStandard, LimitUnit, TimeLimit};
pub use component::{Component, ComponentId, ComponentStatus};
pub use error::DomainError;
pub use org::{Department, DepartmentKind, Role, Scope, User};
pub use page::{Page, PageRequest};
pub use region::{LngLat, Region, RegionCode, RegionLevel};
pub mod clock;
pub use clock::{Clock, ManualClock, SystemClock};
