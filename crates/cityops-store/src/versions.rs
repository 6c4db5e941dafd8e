//! Versions of the cached reference data (缓存版本): every server process keeps the routing
//! matrix (路由矩阵), the working calendar (工作日历) and the catalogue with the departments
//! (目录/部门) in memory and reloads a cache when its number changes, so a change made through one
//! process reaches every other within one polling interval.
use async_trait::async_trait;

use crate::Result;

/// Versions of the data every server process keeps in memory (路由矩阵、工作日历、目录/部门).
/// Each write that changes that data bumps its number in the same transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CacheVersions {
    /// Bumped by `RoutingRepo::replace_routing_rules`.
    pub routing: i64,
    /// Bumped by `CalendarRepo::put_calendar_days`.
    pub calendar: i64,
    /// Bumped by every `ImportRepo::apply_import` that writes something (categories, filing
    /// standards, departments, users, regions, components).
    pub catalogue: i64,
}

/// The cache versions, read by every process's cache refresher.
#[async_trait]
pub trait CacheRepo: Send + Sync {
    /// The current versions (one cheap single-row query).
    async fn cache_versions(&self) -> Result<CacheVersions>;
}
