//! What every process keeps in memory for the case service — the catalogue (categories,
//! departments, filing standards), the working calendar and the responsibility matrix — and how
//! it stays true when several processes share one database.
//!
//! Each write of that data bumps its number in the store's [`CacheVersions`] in the same
//! transaction. A process compares the numbers it loaded with the store's at most every
//! [`ServiceConfig::cache_check_interval`](crate::ServiceConfig) (one single-row query; the first
//! caller after the interval does it, the others go on with what they have) and reloads what
//! changed. A change made through one process is thus used by every other within the interval
//! plus one request (or one tick of [`spawn_refresh`]).
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use cityops_domain::calendar::{CalendarConfig, WorkingCalendar};
use cityops_domain::case::routing::RoutingMatrix;
use cityops_domain::{Category, CategoryKind, Department, FilingStandard, Page, PageRequest};
use cityops_store::{CacheVersions, Store, StoreError};

/// How old the in-memory catalogue may be before a lookup miss reloads it.
pub(crate) const CATALOGUE_RELOAD_AFTER: Duration = Duration::seconds(60);

/// Filing standards by (kind, code), filled as categories are filed.
type StandardsByCategory = HashMap<(CategoryKind, String), Arc<Vec<FilingStandard>>>;

/// Reads every page of a paged list.
pub(crate) async fn all_pages<T, F, Fut>(mut page_of: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let req = PageRequest {
            page,
            page_size: cityops_domain::page::MAX_PAGE_SIZE,
        };
        let got = page_of(req).await?;
        let n = got.items.len();
        out.extend(got.items);
        if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total {
            return Ok(out);
        }
        page += 1;
    }
}

/// Categories and departments kept in memory (loaded at first use, again after another process
/// changed them, and on a lookup miss at most once a minute) and the filing standards of each
/// category (loaded at its first filing).
pub struct Catalogue {
    categories: HashMap<(CategoryKind, String), Category>,
    departments: HashMap<i64, Department>,
    department_ids: HashMap<String, i64>,
    standards: RwLock<StandardsByCategory>,
    pub(crate) loaded_at: DateTime<Utc>,
}

impl Catalogue {
    pub(crate) async fn load(store: &dyn Store, now: DateTime<Utc>) -> Result<Self, StoreError> {
        let categories = all_pages(|req| store.list_categories(None, req)).await?;
        let departments = all_pages(|req| store.list_departments(None, req)).await?;
        Ok(Self {
            categories: categories
                .into_iter()
                .map(|c| ((c.kind, c.code.clone()), c))
                .collect(),
            department_ids: departments.iter().map(|d| (d.code.clone(), d.id)).collect(),
            departments: departments.into_iter().map(|d| (d.id, d)).collect(),
            standards: RwLock::new(HashMap::new()),
            loaded_at: now,
        })
    }

    /// A category by kind and code.
    pub fn category(&self, kind: CategoryKind, code: &str) -> Option<&Category> {
        self.categories.get(&(kind, code.to_string()))
    }

    /// A department by id.
    pub fn department(&self, id: i64) -> Option<&Department> {
        self.departments.get(&id)
    }

    /// A department's id by its code.
    pub fn department_id(&self, code: &str) -> Option<i64> {
        self.department_ids.get(code).copied()
    }

    /// The kinds under which a category code exists.
    pub(crate) fn kinds_of(&self, code: &str) -> Vec<CategoryKind> {
        [CategoryKind::Component, CategoryKind::Matter]
            .into_iter()
            .filter(|k| self.categories.contains_key(&(*k, code.to_string())))
            .collect()
    }

    /// The filing standards of a category, if already loaded.
    pub(crate) fn cached_standards(
        &self,
        kind: CategoryKind,
        code: &str,
    ) -> Option<Arc<Vec<FilingStandard>>> {
        self.standards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(kind, code.to_string()))
            .cloned()
    }

    pub(crate) fn remember_standards(
        &self,
        kind: CategoryKind,
        code: &str,
        standards: Arc<Vec<FilingStandard>>,
    ) {
        self.standards
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((kind, code.to_string()), standards);
    }
}

/// The caches of one case service.
pub(crate) struct Caches {
    pub catalogue: RwLock<Option<Arc<Catalogue>>>,
    pub calendar: RwLock<Arc<WorkingCalendar>>,
    pub routing: RwLock<Arc<RoutingMatrix>>,
    /// The versions the caches were loaded at (`None`: not yet read).
    pub versions: Mutex<Option<CacheVersions>>,
    /// When the store's versions were last compared (milliseconds since `started`, +1; 0 = never).
    pub checked_at: AtomicU64,
    pub started: Instant,
}

impl Caches {
    pub fn new(calendar: &CalendarConfig) -> Self {
        let calendar = WorkingCalendar::new(calendar.clone(), Vec::new())
            .unwrap_or_else(|_| WorkingCalendar::china_default(Vec::new()));
        Self {
            catalogue: RwLock::new(None),
            calendar: RwLock::new(Arc::new(calendar)),
            routing: RwLock::new(Arc::new(RoutingMatrix::default())),
            versions: Mutex::new(None),
            checked_at: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Claims the right to compare versions now: true for one caller once `interval` has passed
    /// since the last comparison.
    pub fn due(&self, interval: StdDuration) -> bool {
        let now = self.started.elapsed().as_millis() as u64 + 1;
        let last = self.checked_at.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < interval.as_millis() as u64 {
            return false;
        }
        self.checked_at
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        self.calendar
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn routing(&self) -> Arc<RoutingMatrix> {
        self.routing
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_calendar(&self, cal: WorkingCalendar) {
        *self.calendar.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cal);
    }

    pub fn set_routing(&self, matrix: RoutingMatrix) {
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(matrix);
    }

    pub fn catalogue(&self) -> Option<Arc<Catalogue>> {
        self.catalogue
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_catalogue(&self, cat: Option<Arc<Catalogue>>) {
        *self.catalogue.write().unwrap_or_else(|e| e.into_inner()) = cat;
    }

    pub fn loaded_versions(&self) -> Option<CacheVersions> {
        *self.versions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_versions(&self, v: CacheVersions) {
        *self.versions.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
    }
}
