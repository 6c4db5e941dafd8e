//! The duplicate index (重复案件): the open, unmerged reports of the duplicate window, in memory,
//! so that the duplicate check of a report asks the store nothing unless a report of the same
//! category lies within the radius.
//!
//! What it holds is a superset filter, not the truth: a hit's candidates are read again from the
//! store by id ([`cityops_store::CaseRepo::duplicate_cases`]) and the rule picks among them as they
//! are now, so a case closed, merged or filed under another category since it was indexed is
//! never named. Kept current three ways:
//! - every durable change this process makes is observed at once ([`DuplicateIndex::observe`],
//!   from [`crate::CaseService::announce`]);
//! - the changes of other processes (a second server, the CLI, an import) are read from the
//!   audit chain after the last seq seen ([`cityops_store::CaseRepo::duplicate_changes`]), at
//!   most once per `catch_up` interval, by the report that finds the interval passed — so another
//!   process's report is seen within that interval (default 1 s);
//! - a process that fell more than [`RELOAD_AFTER_EVENTS`] events behind (or starts) loads the
//!   window afresh ([`cityops_store::CaseRepo::duplicate_points`]).
//!
//! Bounded: at most `max_entries` reports (default 1,000,000); beyond that the oldest are
//! dropped first (a report older than the newest million is no longer found as a duplicate's
//! candidate, and a warning is logged). Entries older than the window are dropped as time passes.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use cityops_domain::case::Case;
use cityops_domain::case::duplicate::{DuplicateRule, distance_m};
use cityops_store::{DuplicatePoint, Store, StoreError};

/// Candidates a duplicate check reads again from the store at a time, nearest first.
const RECHECK: usize = 8;

/// Rows one store read of the index asks for.
const PAGE: u32 = 10_000;

/// A process this many events behind the chain loads the window afresh instead of reading them.
pub const RELOAD_AFTER_EVENTS: i64 = 50_000;

/// How the index is tuned. `Default` gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateIndexConfig {
    /// How often the chain is read for other processes' changes. Zero: before every check.
    pub catch_up: StdDuration,
    /// Most reports held.
    pub max_entries: usize,
}

impl Default for DuplicateIndexConfig {
    fn default() -> Self {
        Self {
            catch_up: StdDuration::from_secs(1),
            max_entries: 1_000_000,
        }
    }
}

/// A cell of the index: a category and a square of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CellKey {
    category: u32,
    x: i32,
    y: i32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    id: i64,
    lng: f64,
    lat: f64,
    created_at: i64,
}

/// The index proper (behind the mutex of [`DuplicateIndex`]).
#[derive(Debug, Default)]
struct Cells {
    /// Interned category codes (a handful of 5-digit codes).
    categories: HashMap<Box<str>, u32>,
    cells: HashMap<CellKey, Vec<Entry>>,
    /// Where each indexed case is, and when it was reported.
    by_id: HashMap<i64, (CellKey, i64)>,
    /// (reported at, id) in the order indexed: what leaves first when the window moves on or
    /// the index is full. Cases removed since stay here until they reach the front.
    order: VecDeque<(i64, i64)>,
}

impl Cells {
    fn category(&mut self, code: &str) -> u32 {
        let next = self.categories.len() as u32;
        *self.categories.entry(code.into()).or_insert(next)
    }

    fn remove(&mut self, id: i64) {
        let Some((key, _)) = self.by_id.remove(&id) else {
            return;
        };
        if let Some(cell) = self.cells.get_mut(&key) {
            cell.retain(|e| e.id != id);
            if cell.is_empty() {
                self.cells.remove(&key);
            }
        }
    }

    fn insert(&mut self, key: CellKey, entry: Entry) {
        match self.by_id.get(&entry.id).copied() {
            // Seen again (its own report, then the chain's events of it): updated in place.
            Some((old, at)) if at == entry.created_at => {
                if old == key {
                    if let Some(e) = self
                        .cells
                        .get_mut(&key)
                        .and_then(|cell| cell.iter_mut().find(|e| e.id == entry.id))
                    {
                        *e = entry;
                    }
                    return;
                }
                self.remove(entry.id);
                self.cells.entry(key).or_default().push(entry);
                self.by_id.insert(entry.id, (key, at));
            }
            _ => {
                self.remove(entry.id);
                self.cells.entry(key).or_default().push(entry);
                self.by_id.insert(entry.id, (key, entry.created_at));
                self.order.push_back((entry.created_at, entry.id));
            }
        }
    }

    /// Drops what was reported before `since` and, beyond `max`, the oldest indexed; answers how
    /// many were dropped for room.
    fn evict(&mut self, since: i64, max: usize) -> u64 {
        let mut dropped_for_room = 0;
        while let Some(&(at, id)) = self.order.front() {
            let live = self.by_id.get(&id).is_some_and(|&(_, c)| c == at);
            if live && at >= since && self.by_id.len() <= max {
                break;
            }
            self.order.pop_front();
            if live {
                if at >= since {
                    dropped_for_room += 1;
                }
                self.remove(id);
            }
        }
        // Cases that left before reaching the front leave their place behind; bounded.
        if self.order.len() > 2 * max.max(8) {
            let mut live: Vec<(i64, i64)> =
                self.by_id.iter().map(|(id, (_, at))| (*at, *id)).collect();
            live.sort_unstable();
            self.order = live.into();
        }
        dropped_for_room
    }

    fn clear(&mut self) {
        self.cells.clear();
        self.by_id.clear();
        self.order.clear();
    }
}

/// Where the index stands against the store.
#[derive(Debug, Default)]
struct SyncState {
    /// The last audit seq applied; `None` before the first load.
    seq: Option<i64>,
    /// When the chain was last read.
    read_at: Option<Instant>,
}

/// The duplicate index of one process. See the module documentation.
#[derive(Debug)]
pub struct DuplicateIndex {
    rule: DuplicateRule,
    config: DuplicateIndexConfig,
    /// Side of a cell in degrees: twice the latitude half-height of the rule's box, so a box
    /// spans at most three cells each way (at least 1e-4°).
    cell_deg: f64,
    cells: Mutex<Cells>,
    /// Held while the store is read, so one report at a time catches up.
    sync: tokio::sync::Mutex<SyncState>,
    /// Whether the window was loaded once (until then every check waits for the load).
    loaded: AtomicBool,
}

/// Seconds since the epoch (what the index compares reporting times by).
fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

impl DuplicateIndex {
    pub fn new(rule: DuplicateRule, config: DuplicateIndexConfig) -> Self {
        let [_, min_lat, _, max_lat] = rule.bbox(0.0, 0.0);
        // At least 1e-4° (about 11 m): a radius of 0 (the same point only) keeps cells of a size
        // whose numbers fit an i32.
        let cell_deg = (max_lat - min_lat).max(1e-4);
        Self {
            rule,
            config,
            cell_deg,
            cells: Mutex::new(Cells::default()),
            sync: tokio::sync::Mutex::new(SyncState::default()),
            loaded: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cells> {
        self.cells.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cell_of(&self, lng: f64, lat: f64) -> (i32, i32) {
        (
            (lng / self.cell_deg).floor() as i32,
            (lat / self.cell_deg).floor() as i32,
        )
    }

    /// How many reports are indexed.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Indexes a case as it is now (a candidate, with a category, reported within the window at
    /// `now`) or forgets it.
    fn put(&self, cells: &mut Cells, p: &DuplicatePoint, now: DateTime<Utc>) {
        let in_window = p.created_at >= self.rule.since(now);
        match p.category_code.as_deref() {
            Some(code) if p.candidate && in_window => {
                let (x, y) = self.cell_of(p.lng, p.lat);
                let key = CellKey {
                    category: cells.category(code),
                    x,
                    y,
                };
                cells.insert(
                    key,
                    Entry {
                        id: p.id,
                        lng: p.lng,
                        lat: p.lat,
                        created_at: secs(p.created_at),
                    },
                );
            }
            _ => cells.remove(p.id),
        }
    }

    fn evict(&self, cells: &mut Cells, now: DateTime<Utc>) {
        let dropped = cells.evict(secs(self.rule.since(now)), self.config.max_entries);
        if dropped > 0 {
            tracing::warn!(
                dropped,
                max = self.config.max_entries,
                "the duplicate index is full: its oldest reports are no longer candidates"
            );
        }
    }

    /// A durable change this process made: the case as stored.
    pub fn observe(&self, case: &Case, now: DateTime<Utc>) {
        let p = point_of(case);
        let mut cells = self.lock();
        self.put(&mut cells, &p, now);
        self.evict(&mut cells, now);
    }

    /// The indexed reports of `category_code` reported within the window at `now` and within
    /// the rule's radius of (lng, lat): (distance in metres, id), nearest first (ties by id, as
    /// [`DuplicateRule::pick`] breaks them).
    fn candidates(
        &self,
        category_code: &str,
        lng: f64,
        lat: f64,
        now: DateTime<Utc>,
    ) -> Vec<(f64, i64)> {
        let [min_lng, min_lat, max_lng, max_lat] = self.rule.bbox(lng, lat);
        let since = secs(self.rule.since(now));
        let (x0, y0) = self.cell_of(min_lng, min_lat);
        let (x1, y1) = self.cell_of(max_lng, max_lat);
        let cells = self.lock();
        let Some(&category) = cells.categories.get(category_code) else {
            return Vec::new();
        };
        let mut near = Vec::new();
        for x in x0..=x1 {
            for y in y0..=y1 {
                let Some(cell) = cells.cells.get(&CellKey { category, x, y }) else {
                    continue;
                };
                near.extend(
                    cell.iter()
                        .filter(|e| e.created_at >= since)
                        .map(|e| (distance_m(lng, lat, e.lng, e.lat), e.id))
                        .filter(|(d, _)| *d <= self.rule.radius_m),
                );
            }
        }
        near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        near
    }

    /// Brings the index up to date with the store when the catch-up interval has passed (or it
    /// was never loaded). One caller reads; the others go on with the index as it is.
    async fn catch_up(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut sync = match self.sync.try_lock() {
            Ok(s) => s,
            // Another report is reading; the first load waits for it.
            Err(_) if !self.loaded.load(Ordering::Acquire) => self.sync.lock().await,
            Err(_) => return Ok(()),
        };
        let due = match (sync.seq, sync.read_at) {
            (Some(_), Some(at)) => at.elapsed() >= self.config.catch_up,
            _ => true,
        };
        if !due {
            return Ok(());
        }
        let result = self.read(store, &mut sync, now).await;
        sync.read_at = Some(Instant::now());
        result
    }

    async fn read(
        &self,
        store: &dyn Store,
        sync: &mut SyncState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(seq) = sync.seq {
            let head = store.audit_head().await?;
            if head - seq <= RELOAD_AFTER_EVENTS {
                let mut after = seq;
                loop {
                    let page = store.duplicate_changes(after, PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    let mut cells = self.lock();
                    for change in &page {
                        self.put(&mut cells, &change.point, now);
                    }
                    self.evict(&mut cells, now);
                    drop(cells);
                    sync.seq = Some(after);
                    if page.len() < PAGE as usize {
                        break;
                    }
                }
                return Ok(());
            }
            tracing::info!(
                behind = head - seq,
                "the duplicate index reloads its window"
            );
        }
        // Load afresh: the head first, so that what changes during the load is read after it.
        let head = store.audit_head().await?;
        let since = self.rule.since(now);
        let mut loaded = Vec::new();
        let mut after = 0;
        loop {
            let page = store.duplicate_points(since, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let done = page.len() < PAGE as usize;
            loaded.extend(page);
            if done {
                break;
            }
        }
        let mut cells = self.lock();
        cells.clear();
        for p in &loaded {
            self.put(&mut cells, p, now);
        }
        self.evict(&mut cells, now);
        drop(cells);
        sync.seq = Some(head);
        self.loaded.store(true, Ordering::Release);
        tracing::debug!(reports = loaded.len(), head, "duplicate index loaded");
        Ok(())
    }

    /// 重复案件: the nearest open case of the category within the rule's radius and window, as
    /// the store holds it now; `None` without asking the store when nothing indexed is near.
    pub async fn find(
        &self,
        store: &dyn Store,
        category_code: &str,
        lng: f64,
        lat: f64,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.catch_up(store, now).await?;
        let near = self.candidates(category_code, lng, lat, now);
        // The nearest few are read again; if none of them is a candidate any more (closed,
        // merged, filed elsewhere: the index forgets them), the next few.
        for batch in near.chunks(RECHECK) {
            let ids: Vec<i64> = batch.iter().map(|(_, id)| *id).collect();
            let cases = store.duplicate_cases(&ids).await?;
            {
                let mut cells = self.lock();
                for id in &ids {
                    match cases.iter().find(|c| c.id == *id) {
                        Some(c) => self.put(&mut cells, &point_of(c), now),
                        None => cells.remove(*id),
                    }
                }
            }
            if let Some(c) = self.rule.pick(category_code, lng, lat, now, &cases) {
                return Ok(Some(c.id));
            }
        }
        Ok(None)
    }
}

/// The duplicate check's view of a case.
fn point_of(case: &Case) -> DuplicatePoint {
    DuplicatePoint {
        id: case.id,
        category_code: case.category_code.clone(),
        lng: case.location.lng,
        lat: case.location.lat,
        created_at: case.created_at,
        candidate: case.status.is_open() && case.merged_into.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + chrono::Duration::hours(h)
    }

    fn p(id: i64, cat: &str, lng: f64, lat: f64, at: DateTime<Utc>) -> DuplicatePoint {
        DuplicatePoint {
            id,
            category_code: Some(cat.into()),
            lng,
            lat,
            created_at: at,
            candidate: true,
        }
    }

    fn index(max: usize) -> DuplicateIndex {
        DuplicateIndex::new(
            DuplicateRule::default(),
            DuplicateIndexConfig {
                catch_up: StdDuration::ZERO,
                max_entries: max,
            },
        )
    }

    fn ids(ix: &DuplicateIndex, cat: &str, lng: f64, lat: f64, now: DateTime<Utc>) -> Vec<i64> {
        let mut ids: Vec<i64> = ix
            .candidates(cat, lng, lat, now)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    fn put(ix: &DuplicateIndex, point: DuplicatePoint, now: DateTime<Utc>) {
        let mut cells = ix.lock();
        ix.put(&mut cells, &point, now);
        ix.evict(&mut cells, now);
    }

    #[test]
    fn finds_the_category_in_the_box_and_window() {
        let ix = index(100);
        put(&ix, p(1, "01001", 114.4, 23.1, t(0)), t(0));
        put(&ix, p(2, "01001", 114.4003, 23.1, t(1)), t(1));
        put(&ix, p(3, "02001", 114.4, 23.1, t(1)), t(1));
        put(&ix, p(4, "01001", 114.41, 23.1, t(1)), t(1));
        assert_eq!(ids(&ix, "01001", 114.4001, 23.1, t(2)), vec![1, 2]);
        assert_eq!(ids(&ix, "02001", 114.4001, 23.1, t(2)), vec![3]);
        assert!(ids(&ix, "03001", 114.4001, 23.1, t(2)).is_empty());
        // 72 h after the first report it has left the window; the second is still in it.
        assert_eq!(
            ids(
                &ix,
                "01001",
                114.4001,
                23.1,
                t(72) + chrono::Duration::seconds(1)
            ),
            vec![2]
        );
    }

    #[test]
    fn a_closed_merged_or_refiled_case_leaves() {
        let ix = index(100);
        put(&ix, p(1, "01001", 114.4, 23.1, t(0)), t(0));
        put(&ix, p(2, "01001", 114.4, 23.1, t(0)), t(0));
        put(&ix, p(3, "01001", 114.4, 23.1, t(0)), t(0));
        put(
            &ix,
            DuplicatePoint {
                candidate: false,
                ..p(1, "01001", 114.4, 23.1, t(0))
            },
            t(1),
        );
        put(&ix, p(2, "02001", 114.4, 23.1, t(0)), t(1));
        assert_eq!(ids(&ix, "01001", 114.4, 23.1, t(1)), vec![3]);
        assert_eq!(ids(&ix, "02001", 114.4, 23.1, t(1)), vec![2]);
        assert_eq!(ix.len(), 2);
    }

    #[test]
    fn the_window_and_the_bound_evict_the_oldest() {
        let ix = index(3);
        for id in 1..=5 {
            put(&ix, p(id, "01001", 114.4, 23.1, t(id)), t(id));
        }
        assert_eq!(ix.len(), 3);
        assert_eq!(ids(&ix, "01001", 114.4, 23.1, t(6)), vec![3, 4, 5]);
        // Time passes: the window empties the index.
        put(&ix, p(6, "01001", 114.4, 23.1, t(100)), t(100));
        assert_eq!(ids(&ix, "01001", 114.4, 23.1, t(100)), vec![6]);
        assert_eq!(ix.len(), 1);
        let cells = ix.lock();
        assert!(cells.order.len() <= 16, "{}", cells.order.len());
    }

    #[test]
    fn a_radius_of_zero_finds_the_same_point_only() {
        let ix = DuplicateIndex::new(
            DuplicateRule {
                radius_m: 0.0,
                window_hours: 72,
            },
            DuplicateIndexConfig::default(),
        );
        put(&ix, p(1, "01001", 114.4, 23.1, t(0)), t(0));
        put(&ix, p(2, "01001", 114.40001, 23.1, t(0)), t(0));
        assert_eq!(ids(&ix, "01001", 114.4, 23.1, t(1)), vec![1]);
        assert_eq!(ids(&ix, "01001", 114.40001, 23.1, t(1)), vec![2]);
    }

    proptest! {
        /// Whatever the points, the index names exactly the same-category points within the
        /// radius and window that a scan of all of them names: no cell boundary loses one.
        #[test]
        fn agrees_with_a_scan(
            points in prop::collection::vec((0u8..3, -0.002f64..0.002, -0.002f64..0.002, 0i64..100), 1..60),
            probe in (0u8..3, -0.002f64..0.002, -0.002f64..0.002),
            base_lat in prop::sample::select(vec![0.0, 23.1, 45.0, -33.9]),
        ) {
            let ix = index(1_000);
            let now = t(80);
            let cat = |c: u8| format!("0100{c}");
            let all: Vec<DuplicatePoint> = points
                .iter()
                .enumerate()
                .map(|(i, (c, dx, dy, h))| p(i as i64 + 1, &cat(*c), 114.4 + dx, base_lat + dy, t(*h)))
                .collect();
            for point in &all {
                put(&ix, point.clone(), now);
            }
            let (c, dx, dy) = probe;
            let (lng, lat) = (114.4 + dx, base_lat + dy);
            let rule = DuplicateRule::default();
            let expected: Vec<i64> = all
                .iter()
                .filter(|q| {
                    q.category_code.as_deref() == Some(cat(c).as_str())
                        && q.created_at >= rule.since(now)
                        && distance_m(lng, lat, q.lng, q.lat) <= rule.radius_m
                })
                .map(|q| q.id)
                .collect();
            prop_assert_eq!(ids(&ix, &cat(c), lng, lat, now), expected);
        }
    }
}
