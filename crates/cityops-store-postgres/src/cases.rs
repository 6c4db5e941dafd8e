//! The case workflow repositories: cases and their audit chain (`CaseRepo`); the responsibility
//! matrix and the holiday schedule are in `workflow`.
//!
//! A case is stored whole as JSON text (`doc`) plus projected columns for every filter, sort and
//! scope check; reads decode `doc` and take `id`, `code`, `version`, `lng` and `lat` from their
//! columns. Every transaction that appends events starts with `BEGIN; … SELECT
//! pg_advisory_xact_lock(727301)` (one round trip, see [`BEGIN_CHAIN`] for its synchronous
//! commit) and only then reads the chain head, so the chain stays linear however many processes
//! write. All writes of a transition (case, events,
//! notifications, followers, attachment links) go out as one statement of data-modifying CTEs
//! over `UNNEST`ed arrays, the same statement for one case or thousands.
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::case::{GENESIS_HASH, chain_hash};
use cityops_store::{
    Case, CaseHistory, CaseStatus, MarkFn, NewCaseEvent, NewNotification, Recipient, ReportStep,
    Result, Role, StoreError,
};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row};

use crate::{PgStore, db_err};
use cityops_store_sql::cases::{self, case_code, project, split_code};
use cityops_store_sql::search::SearchText;

/// Opens a transaction holding the chain lock (advisory lock 727301, which serialises every
/// append to the event chain), in one round trip (simple-query protocol).
///
/// Acknowledged means durable: the transaction commits synchronously (`synchronous_commit = on`,
/// set here so that a server configured otherwise cannot weaken it), so its commit returns only
/// after the WAL is flushed. The chain lock is held through that flush; concurrent reports and
/// transitions are therefore written in groups ([`cityops_store_sql::group`]), one flush per
/// group.
const BEGIN_CHAIN: &str =
    "BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_advisory_xact_lock(727301)";
/// The most writes one transaction takes.
const MAX_GROUP: usize = 256;

/// One queued write.
pub(crate) use cityops_store_sql::group::CaseWrite as Job;

/// The write queue of reports and transitions.
pub(crate) type Queue = cityops_store_sql::group::GroupCommit<Job, Case>;

/// An empty write queue.
pub(crate) fn new_queue() -> Queue {
    cityops_store_sql::group::GroupCommit::new(MAX_GROUP)
}
/// Rows per table per statement in `import_history`.
const IMPORT_CHUNK: usize = 5000;

/// The case columns in bind order, and their array types.
const CASE_COLUMNS: [(&str, &str); 27] = [
    ("id", "int8"),
    ("code", "text"),
    ("doc", "text"),
    ("status", "text"),
    ("source", "text"),
    ("category_code", "text"),
    ("region_code", "text"),
    ("district_code", "text"),
    ("street_code", "text"),
    ("community_code", "text"),
    ("grid_code", "text"),
    ("department_id", "int8"),
    ("assignee_id", "int8"),
    ("reporter_id", "int8"),
    ("lng", "float8"),
    ("lat", "float8"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("stage_due", "timestamptz"),
    ("stage_yellow_at", "timestamptz"),
    ("light", "text"),
    ("overdue", "bool"),
    ("supervised", "bool"),
    ("suspended_until", "timestamptz"),
    ("merged_into", "int8"),
    ("facts", "text"),
    ("version", "int8"),
];
const EVENT_COLUMNS: [(&str, &str); 13] = [
    ("seq", "int8"),
    ("case_id", "int8"),
    ("action", "text"),
    ("actor_id", "int8"),
    ("actor_role", "text"),
    ("at", "timestamptz"),
    ("from_status", "text"),
    ("to_status", "text"),
    ("comment", "text"),
    ("attachments", "text"),
    ("data", "text"),
    ("prev_hash", "text"),
    ("hash", "text"),
];
const NOTIFICATION_COLUMNS: [(&str, &str); 8] = [
    ("user_id", "int8"),
    ("department_id", "int8"),
    ("role", "text"),
    ("region_code", "text"),
    ("case_id", "int8"),
    ("action", "text"),
    ("title", "text"),
    ("created_at", "timestamptz"),
];

const HEAD: &str = "SELECT seq, hash FROM case_events ORDER BY seq DESC LIMIT 1";

fn names(cols: &[(&str, &str)]) -> String {
    cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
}

/// `UNNEST($start::t1[], $start+1::t2[], …)`.
fn unnest(start: usize, cols: &[(&str, &str)]) -> String {
    let args = cols
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| format!("${}::{ty}[]", start + i))
        .collect::<Vec<_>>()
        .join(", ");
    format!("UNNEST({args})")
}

/// Whether the write statement inserts the cases or updates them (optimistic version check).
#[derive(Clone, Copy)]
enum CaseWrite {
    Insert,
    Update,
}

/// One statement that writes a [`Batch`]: cases, events, notifications, followers and attachment
/// links (to attachments that belong to no other case); it returns how many case rows (`n`) and
/// attachment rows (`linked`) it wrote.
fn write_statement(mode: CaseWrite) -> String {
    let nc = CASE_COLUMNS.len();
    let ne = EVENT_COLUMNS.len();
    let nn = NOTIFICATION_COLUMNS.len();
    let cases = match mode {
        CaseWrite::Insert => format!(
            "INSERT INTO cases ({}) SELECT * FROM {} RETURNING id",
            names(&CASE_COLUMNS),
            unnest(1, &CASE_COLUMNS)
        ),
        CaseWrite::Update => {
            let set = CASE_COLUMNS[1..]
                .iter()
                .map(|(c, _)| format!("{c} = v.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "UPDATE cases t SET {set} FROM {} AS v({}) \
                 WHERE t.id = v.id AND t.version = v.version - 1 RETURNING t.id",
                unnest(1, &CASE_COLUMNS),
                names(&CASE_COLUMNS)
            )
        }
    };
    // An update that matched no row (stale version, missing case) writes nothing else, so the
    // caller can tell `Conflict` from `NotFound` before any reference is checked.
    let guard = match mode {
        CaseWrite::Insert => "",
        CaseWrite::Update => " WHERE EXISTS (SELECT 1 FROM c)",
    };
    let f = 1 + nc + ne + nn;
    format!(
        "WITH c AS ({cases}), \
         e AS (INSERT INTO case_events ({}) SELECT * FROM {}{guard}), \
         n AS (INSERT INTO notifications ({}) SELECT * FROM {}{guard}), \
         f AS (INSERT INTO case_followers (case_id, user_id) \
               SELECT * FROM UNNEST(${f}::int8[], ${}::int8[]){guard} ON CONFLICT DO NOTHING), \
         a AS (UPDATE attachments t SET case_id = v.case_id \
               FROM (SELECT DISTINCT * FROM UNNEST(${}::int8[], ${}::int8[]) AS u(id, case_id)) AS v \
               WHERE t.id = v.id AND (t.case_id IS NULL OR t.case_id = v.case_id){and_guard} \
               RETURNING t.id), \
         ct AS (INSERT INTO case_text (case_id, code, description, address) \
               SELECT * FROM UNNEST(${}::int8[], ${}::text[], ${}::text[], ${}::text[]){guard}) \
         SELECT (SELECT count(*) FROM c) AS n, (SELECT count(*) FROM a) AS linked",
        names(&EVENT_COLUMNS),
        unnest(1 + nc, &EVENT_COLUMNS),
        names(&NOTIFICATION_COLUMNS),
        unnest(1 + nc + ne, &NOTIFICATION_COLUMNS),
        f + 1,
        f + 2,
        f + 3,
        f + 4,
        f + 5,
        f + 6,
        f + 7,
        and_guard = guard.replace(" WHERE ", " AND "),
    )
}

static WRITE_INSERT: LazyLock<String> = LazyLock::new(|| write_statement(CaseWrite::Insert));
static WRITE_UPDATE: LazyLock<String> = LazyLock::new(|| write_statement(CaseWrite::Update));

/// The chain head `(seq, hash)`; `(0, GENESIS_HASH)` for an empty chain.
async fn chain_head(conn: &mut PgConnection) -> Result<(i64, String)> {
    let row = sqlx::query(HEAD)
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    match row {
        Some(r) => Ok((
            r.try_get("seq").map_err(db_err)?,
            r.try_get("hash").map_err(db_err)?,
        )),
        None => Ok((0, GENESIS_HASH.to_string())),
    }
}

/// Appends events to an in-memory chain head.
struct Chain {
    seq: i64,
    hash: String,
}

impl Chain {
    fn new((seq, hash): (i64, String)) -> Self {
        Self { seq, hash }
    }

    /// The event's place: `(seq, prev_hash, hash)`.
    fn append(&mut self, ev: &NewCaseEvent) -> (i64, String, String) {
        let seq = self.seq + 1;
        let hash = chain_hash(&self.hash, seq, ev);
        let prev = std::mem::replace(&mut self.hash, hash.clone());
        self.seq = seq;
        (seq, prev, hash)
    }
}

/// Everything one write statement stores, column by column.
#[derive(Default)]
struct Batch<'a> {
    // cases
    c_id: Vec<i64>,
    c_code: Vec<&'a str>,
    c_doc: Vec<String>,
    c_status: Vec<&'static str>,
    c_source: Vec<&'static str>,
    c_category: Vec<Option<&'a str>>,
    c_region: Vec<Option<&'a str>>,
    c_district: Vec<Option<&'a str>>,
    c_street: Vec<Option<&'a str>>,
    c_community: Vec<Option<&'a str>>,
    c_grid: Vec<Option<&'a str>>,
    c_department: Vec<Option<i64>>,
    c_assignee: Vec<Option<i64>>,
    c_reporter: Vec<Option<i64>>,
    c_lng: Vec<f64>,
    c_lat: Vec<f64>,
    c_created: Vec<DateTime<Utc>>,
    c_updated: Vec<DateTime<Utc>>,
    c_due: Vec<Option<DateTime<Utc>>>,
    c_yellow: Vec<Option<DateTime<Utc>>>,
    c_light: Vec<&'static str>,
    c_overdue: Vec<bool>,
    c_supervised: Vec<bool>,
    c_suspended: Vec<Option<DateTime<Utc>>>,
    c_merged: Vec<Option<i64>>,
    c_facts: Vec<String>,
    c_version: Vec<i64>,
    // events
    e_seq: Vec<i64>,
    e_case: Vec<i64>,
    e_action: Vec<&'a str>,
    e_actor: Vec<Option<i64>>,
    e_role: Vec<Option<&'static str>>,
    e_at: Vec<DateTime<Utc>>,
    e_from: Vec<Option<&'static str>>,
    e_to: Vec<&'static str>,
    e_comment: Vec<Option<&'a str>>,
    e_attachments: Vec<String>,
    e_data: Vec<String>,
    e_prev: Vec<String>,
    e_hash: Vec<String>,
    // notifications
    n_user: Vec<Option<i64>>,
    n_department: Vec<Option<i64>>,
    n_role: Vec<Option<&'static str>>,
    n_region: Vec<Option<&'a str>>,
    n_case: Vec<i64>,
    n_action: Vec<&'a str>,
    n_title: Vec<&'a str>,
    n_created: Vec<DateTime<Utc>>,
    // followers and attachment links
    f_case: Vec<i64>,
    f_user: Vec<i64>,
    a_id: Vec<i64>,
    a_case: Vec<i64>,
    // the searchable text of new cases (`case_text`)
    t_case: Vec<i64>,
    t_code: Vec<String>,
    t_description: Vec<String>,
    t_address: Vec<String>,
}

impl<'a> Batch<'a> {
    /// Adds a case row: its id, code and version, and the shared projection of the case (whose
    /// document holds its final id, code and version).
    fn case(&mut self, c: &'a Case) -> Result<()> {
        let p = project(c)?;
        self.c_id.push(c.id);
        self.c_code.push(&c.code);
        self.c_doc.push(p.doc);
        self.c_status.push(p.status);
        self.c_source.push(p.source);
        self.c_category.push(p.category_code);
        self.c_region.push(p.region_code);
        self.c_district.push(p.district_code);
        self.c_street.push(p.street_code);
        self.c_community.push(p.community_code);
        self.c_grid.push(p.grid_code);
        self.c_department.push(p.department_id);
        self.c_assignee.push(p.assignee_id);
        self.c_reporter.push(p.reporter_id);
        self.c_lng.push(p.lng);
        self.c_lat.push(p.lat);
        self.c_created.push(p.created_at);
        self.c_updated.push(p.updated_at);
        self.c_due.push(p.stage_due);
        self.c_yellow.push(p.stage_yellow_at);
        self.c_light.push(p.light);
        self.c_overdue.push(p.overdue);
        self.c_supervised.push(p.supervised);
        self.c_suspended.push(p.suspended_until);
        self.c_merged.push(p.merged_into);
        self.c_facts.push(p.facts);
        self.c_version.push(c.version);
        Ok(())
    }

    /// Adds an event of case `case_id` at its place in the chain, and links its attachments.
    fn event(&mut self, case_id: i64, ev: &'a NewCaseEvent, place: (i64, String, String)) {
        let (seq, prev, hash) = place;
        self.e_seq.push(seq);
        self.e_case.push(case_id);
        self.e_action.push(&ev.action);
        self.e_actor.push(ev.actor_id);
        self.e_role.push(ev.actor_role.map(Role::as_str));
        self.e_at.push(ev.at);
        self.e_from.push(ev.from_status.map(CaseStatus::as_str));
        self.e_to.push(ev.to_status.as_str());
        self.e_comment.push(ev.comment.as_deref());
        self.e_attachments
            .push(serde_json::Value::from(ev.attachments.clone()).to_string());
        self.e_data.push(ev.data.to_string());
        self.e_prev.push(prev);
        self.e_hash.push(hash);
        for &a in &ev.attachments {
            self.a_id.push(a);
            self.a_case.push(case_id);
        }
    }

    fn notification(&mut self, case_id: i64, n: &'a NewNotification) {
        let (user, dept, role, region) = match &n.recipient {
            Recipient::User { user_id } => (Some(*user_id), None, None, None),
            Recipient::Department { department_id } => (None, Some(*department_id), None, None),
            Recipient::Role { role, region_code } => {
                (None, None, Some(role.as_str()), region_code.as_deref())
            }
        };
        self.n_user.push(user);
        self.n_department.push(dept);
        self.n_role.push(role);
        self.n_region.push(region);
        self.n_case.push(case_id);
        self.n_action.push(&n.action);
        self.n_title.push(&n.title);
        self.n_created.push(n.created_at);
    }

    fn follower(&mut self, user_id: i64, case_id: i64) {
        self.f_case.push(case_id);
        self.f_user.push(user_id);
    }

    /// Indexes the searchable text of a new case (its id and code set).
    fn text(&mut self, c: &Case) {
        let t = SearchText::of(c);
        self.t_case.push(t.case_id);
        self.t_code.push(t.code);
        self.t_description.push(t.description);
        self.t_address.push(t.address);
    }

    /// The write statement with every column bound, in the order of [`write_statement`].
    fn query(self, sql: &'static str) -> Query<'static, Postgres, PgArguments> {
        sqlx::query(sql)
            .bind(self.c_id)
            .bind(self.c_code)
            .bind(self.c_doc)
            .bind(self.c_status)
            .bind(self.c_source)
            .bind(self.c_category)
            .bind(self.c_region)
            .bind(self.c_district)
            .bind(self.c_street)
            .bind(self.c_community)
            .bind(self.c_grid)
            .bind(self.c_department)
            .bind(self.c_assignee)
            .bind(self.c_reporter)
            .bind(self.c_lng)
            .bind(self.c_lat)
            .bind(self.c_created)
            .bind(self.c_updated)
            .bind(self.c_due)
            .bind(self.c_yellow)
            .bind(self.c_light)
            .bind(self.c_overdue)
            .bind(self.c_supervised)
            .bind(self.c_suspended)
            .bind(self.c_merged)
            .bind(self.c_facts)
            .bind(self.c_version)
            .bind(self.e_seq)
            .bind(self.e_case)
            .bind(self.e_action)
            .bind(self.e_actor)
            .bind(self.e_role)
            .bind(self.e_at)
            .bind(self.e_from)
            .bind(self.e_to)
            .bind(self.e_comment)
            .bind(self.e_attachments)
            .bind(self.e_data)
            .bind(self.e_prev)
            .bind(self.e_hash)
            .bind(self.n_user)
            .bind(self.n_department)
            .bind(self.n_role)
            .bind(self.n_region)
            .bind(self.n_case)
            .bind(self.n_action)
            .bind(self.n_title)
            .bind(self.n_created)
            .bind(self.f_case)
            .bind(self.f_user)
            .bind(self.a_id)
            .bind(self.a_case)
            .bind(self.t_case)
            .bind(self.t_code)
            .bind(self.t_description)
            .bind(self.t_address)
    }

    /// Runs the write statement; returns how many case rows and attachment rows it wrote.
    async fn run(self, conn: &mut PgConnection, mode: CaseWrite) -> Result<(i64, i64)> {
        let sql: &'static str = match mode {
            CaseWrite::Insert => WRITE_INSERT.as_str(),
            CaseWrite::Update => WRITE_UPDATE.as_str(),
        };
        let row = self.query(sql).fetch_one(conn).await.map_err(db_err)?;
        Ok((
            row.try_get("n").map_err(db_err)?,
            row.try_get("linked").map_err(db_err)?,
        ))
    }

    /// Runs the write statement; returns how many case rows it wrote. Attachments that are
    /// missing or belong to another case are skipped (the bulk history's symbolic photo ids).
    async fn write(self, conn: &mut PgConnection, mode: CaseWrite) -> Result<i64> {
        Ok(self.run(conn, mode).await?.0)
    }

    /// Runs the write statement of one case's event and claims the event's attachments for
    /// `case_id`: `Invalid` (naming them) when any is missing or belongs to another case, after
    /// which the caller drops — rolls back — the transaction. One round trip unless it fails.
    async fn write_claiming(
        self,
        conn: &mut PgConnection,
        mode: CaseWrite,
        case_id: i64,
    ) -> Result<i64> {
        let wanted = self.a_id.clone();
        let expected = wanted.iter().collect::<HashSet<_>>().len() as i64;
        let (n, linked) = self.run(&mut *conn, mode).await?;
        // An update that matched no case row wrote nothing else; the caller names why.
        let written = matches!(mode, CaseWrite::Insert) || n > 0;
        if written && linked != expected {
            let owners = sqlx::query("SELECT id, case_id FROM attachments WHERE id = ANY($1)")
                .bind(&wanted)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?;
            return Err(cityops_store_sql::versions::attachment_claim_failure::<
                Postgres,
            >(
                case_id, &wanted, linked.max(0) as u64, &owners
            ));
        }
        Ok(n)
    }
}

/// A notification's case id, or the transition's case when the machine left it 0.
fn or_case(case_id: i64, default: i64) -> i64 {
    if case_id == 0 { default } else { case_id }
}

/// The case writes, tuned for this backend (the reads are shared: `cityops_store_sql::shared_case_repos!`).
impl PgStore {
    /// Queues a report or a transition and waits until the group that writes it has committed.
    pub(crate) async fn write_queued(&self, job: Job) -> Result<Case> {
        self.queue
            .submit(job, |jobs| {
                let store = self.clone();
                async move { Ok(store.write_jobs(&jobs).await) }
            })
            .await
    }

    /// Writes a group of reports and transitions in one transaction (two statements, one
    /// flush). If the group fails as a whole — a day's code numbers run out, a photo belongs to
    /// another case, a transition is stale — each write is retried on its own, so only the ones
    /// at fault fail.
    async fn write_jobs(&self, jobs: &[Job]) -> Vec<Result<Case>> {
        if jobs.len() > 1 {
            match self.write_group(jobs).await {
                Ok(cases) => return cases.into_iter().map(Ok).collect(),
                Err(e) => {
                    tracing::debug!(error = %e, n = jobs.len(), "write group failed; writing its members one by one")
                }
            }
        }
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(match job {
                Job::Report {
                    case,
                    day,
                    event,
                    notify,
                    steps,
                } => {
                    self.write_new_case(case, *day, (event, notify), steps)
                        .await
                }
                Job::Step {
                    case,
                    event,
                    notify,
                    follow,
                } => self.write_transition(case, event, notify, *follow).await,
            });
        }
        out
    }

    /// The group write: code numbers per day and ids for the reports, the chain head, then one
    /// insert statement for the reports and one update statement for the transitions (each with
    /// their events, notifications, followers and photo links). The events take their places in
    /// the chain in queue order.
    async fn write_group(&self, jobs: &[Job]) -> Result<Vec<Case>> {
        let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
        let mut reports = 0i64;
        for job in jobs {
            if let Job::Report { day, .. } = job {
                *per_day.entry(day.format("%Y%m%d").to_string()).or_default() += 1;
                reports += 1;
            }
        }
        let (days, counts): (Vec<String>, Vec<i64>) = per_day.into_iter().unzip();
        let mut tx = self.pool.begin_with(BEGIN_CHAIN).await.map_err(db_err)?;
        // The next free number of each day in the group.
        let mut next: BTreeMap<String, i64> = BTreeMap::new();
        let mut ids: Vec<i64> = Vec::new();
        if reports > 0 {
            let lasts = sqlx::query(
                "INSERT INTO case_code_seq (day, last) SELECT * FROM UNNEST($1::text[], $2::int8[])
                 ON CONFLICT (day) DO UPDATE SET last = case_code_seq.last + EXCLUDED.last
                 RETURNING day, last",
            )
            .bind(&days)
            .bind(&counts)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            for row in &lasts {
                let day: String = row.try_get("day").map_err(db_err)?;
                let last: i64 = row.try_get("last").map_err(db_err)?;
                let n = days.iter().position(|d| *d == day).map_or(0, |i| counts[i]);
                next.insert(day, last - n + 1);
            }
            ids = sqlx::query_scalar("SELECT nextval('cases_id_seq') FROM generate_series(1, $1)")
                .bind(reports)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            ids.sort_unstable();
        }
        let mut chain = Chain::new(chain_head(&mut tx).await?);

        // Every stored case and event first (the batches borrow them).
        let mut ids = ids.into_iter();
        let mut stored = Vec::with_capacity(jobs.len());
        let mut events: Vec<Vec<NewCaseEvent>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            match job {
                Job::Report {
                    case,
                    day,
                    event,
                    steps,
                    ..
                } => {
                    let key = day.format("%Y%m%d").to_string();
                    let number = next.get_mut(&key).ok_or_else(|| {
                        StoreError::Database(format!("no code number was reserved for {key}"))
                    })?;
                    let mut c = case.clone();
                    c.id = ids.next().ok_or_else(|| {
                        StoreError::Database("fewer case ids than reports".into())
                    })?;
                    c.code = case_code(*day, *number)?;
                    c.version = 1 + steps.len() as i64;
                    *number += 1;
                    let evs = std::iter::once(event)
                        .chain(steps.iter().map(|s| &s.event))
                        .map(|e| NewCaseEvent {
                            case_id: c.id,
                            ..e.clone()
                        })
                        .collect();
                    stored.push(c);
                    events.push(evs);
                }
                Job::Step { case, event, .. } => {
                    let mut c = case.clone();
                    c.version = case.version + 1;
                    let mut ev = event.clone();
                    ev.case_id = case.id;
                    stored.push(c);
                    events.push(vec![ev]);
                }
            }
        }
        let mut inserts = Batch::default();
        let mut updates = Batch::default();
        let mut stepped_cases = HashSet::new();
        for ((job, c), evs) in jobs.iter().zip(&stored).zip(&events) {
            match job {
                Job::Report { notify, steps, .. } => {
                    inserts.case(c)?;
                    inserts.text(c);
                    for ev in evs {
                        let place = chain.append(ev);
                        inserts.event(c.id, ev, place);
                    }
                    let notes = notify.iter().chain(steps.iter().flat_map(|s| &s.notify));
                    for n in notes {
                        inserts.notification(c.id, n);
                    }
                    if let Some(reporter) = c.reporter_id {
                        inserts.follower(reporter, c.id);
                    }
                }
                Job::Step { notify, follow, .. } => {
                    stepped_cases.insert(c.id);
                    updates.case(c)?;
                    for ev in evs {
                        let place = chain.append(ev);
                        updates.event(c.id, ev, place);
                    }
                    for n in notify {
                        updates.notification(or_case(n.case_id, c.id), n);
                    }
                    if let Some((user, followed)) = follow {
                        updates.follower(*user, *followed);
                    }
                }
            }
        }
        let stepped = updates.c_id.len();
        if stepped_cases.len() != stepped {
            return Err(StoreError::Conflict(
                "two transitions of one case in one group".into(),
            ));
        }
        for (batch, mode, expected) in [
            (inserts, CaseWrite::Insert, reports as usize),
            (updates, CaseWrite::Update, stepped),
        ] {
            if expected == 0 {
                continue;
            }
            let wanted = batch.a_id.iter().collect::<HashSet<_>>().len() as i64;
            let (n, linked) = batch.run(&mut tx, mode).await?;
            // Dropping the transaction rolls it back; the caller writes one by one.
            if n != expected as i64 || linked != wanted {
                return Err(StoreError::Conflict(format!(
                    "{n} of {expected} cases and {linked} of {wanted} photos could be written"
                )));
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    /// Writes one report in its own transaction.
    async fn write_new_case(
        &self,
        case: &Case,
        local_date: NaiveDate,
        (event, notify): (&NewCaseEvent, &[NewNotification]),
        steps: &[ReportStep],
    ) -> Result<Case> {
        let day = local_date.format("%Y%m%d").to_string();
        let mut tx = self.pool.begin_with(BEGIN_CHAIN).await.map_err(db_err)?;
        let row = sqlx::query(
            "WITH code AS (
                 INSERT INTO case_code_seq (day, last) VALUES ($1, 1)
                 ON CONFLICT (day) DO UPDATE SET last = case_code_seq.last + 1
                 RETURNING last)
             SELECT (SELECT last FROM code) AS last, nextval('cases_id_seq') AS id,
                    h.seq AS head_seq, h.hash AS head_hash
               FROM (SELECT 1) AS one
               LEFT JOIN LATERAL (SELECT seq, hash FROM case_events ORDER BY seq DESC LIMIT 1) h ON true",
        )
        .bind(&day)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let last: i64 = row.try_get("last").map_err(db_err)?;
        let id: i64 = row.try_get("id").map_err(db_err)?;
        let head = match row.try_get::<Option<i64>, _>("head_seq").map_err(db_err)? {
            Some(seq) => (seq, row.try_get("head_hash").map_err(db_err)?),
            None => (0, GENESIS_HASH.to_string()),
        };

        let mut stored = case.clone();
        stored.id = id;
        stored.code = case_code(local_date, last)?;
        stored.version = 1 + steps.len() as i64;
        let events: Vec<NewCaseEvent> = std::iter::once(event)
            .chain(steps.iter().map(|s| &s.event))
            .map(|e| NewCaseEvent {
                case_id: id,
                ..e.clone()
            })
            .collect();
        let mut chain = Chain::new(head);

        let mut batch = Batch::default();
        batch.case(&stored)?;
        batch.text(&stored);
        for ev in &events {
            let place = chain.append(ev);
            batch.event(id, ev, place);
        }
        for n in notify.iter().chain(steps.iter().flat_map(|s| &s.notify)) {
            batch.notification(id, n);
        }
        if let Some(reporter) = stored.reporter_id {
            batch.follower(reporter, id);
        }
        batch.write_claiming(&mut tx, CaseWrite::Insert, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    /// Writes one transition in its own transaction.
    async fn write_transition(
        &self,
        case: &Case,
        event: &NewCaseEvent,
        notify: &[NewNotification],
        follow: Option<(i64, i64)>,
    ) -> Result<Case> {
        let mut tx = self.pool.begin_with(BEGIN_CHAIN).await.map_err(db_err)?;
        let mut chain = Chain::new(chain_head(&mut tx).await?);
        let mut stored = case.clone();
        stored.version = case.version + 1;
        let mut ev = event.clone();
        ev.case_id = case.id;
        let place = chain.append(&ev);

        let mut batch = Batch::default();
        batch.case(&stored)?;
        batch.event(case.id, &ev, place);
        for n in notify {
            batch.notification(or_case(n.case_id, case.id), n);
        }
        if let Some((user, followed)) = follow {
            batch.follower(user, followed);
        }
        if batch
            .write_claiming(&mut tx, CaseWrite::Update, case.id)
            .await?
            != 1
        {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                    .bind(case.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            // Dropping the transaction rolls back the event and notifications.
            return Err(match current {
                None => StoreError::NotFound,
                Some(v) => StoreError::Conflict(format!(
                    "case {} was changed meanwhile (version {v}, expected {})",
                    case.id, case.version
                )),
            });
        }
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    pub(crate) async fn store_marks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        mark: MarkFn<'_>,
    ) -> Result<u64> {
        if limit == 0 {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with(BEGIN_CHAIN).await.map_err(db_err)?;
        let due = sqlx::query(
            "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc FROM cases c
              WHERE c.status NOT IN ('closed', 'cancelled')
                AND ((c.light = 'green' AND c.stage_yellow_at <= $1)
                     OR (c.light <> 'red' AND c.stage_due < $1))
              ORDER BY c.id LIMIT $2
              FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(cases::case::<Postgres>)
        .collect::<Result<Vec<_>>>()?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut marked = Vec::with_capacity(due.len());
        for old in &due {
            if let Some((mut case, mut event, notes)) = mark(old) {
                case.id = old.id;
                case.code = old.code.clone();
                case.version = old.version + 1;
                event.case_id = old.id;
                marked.push((case, event, notes));
            }
        }
        if marked.is_empty() {
            return Ok(0);
        }
        let mut chain = Chain::new(chain_head(&mut tx).await?);
        let mut batch = Batch::default();
        for (case, event, notes) in &marked {
            batch.case(case)?;
            let place = chain.append(event);
            batch.event(case.id, event, place);
            for n in notes {
                batch.notification(or_case(n.case_id, case.id), n);
            }
        }
        let written = batch.write(&mut tx, CaseWrite::Update).await?;
        if written != marked.len() as i64 {
            return Err(StoreError::Conflict(format!(
                "the deadline watcher wrote {written} of {} cases",
                marked.len()
            )));
        }
        tx.commit().await.map_err(db_err)?;
        Ok(marked.len() as u64)
    }

    pub(crate) async fn store_history(&self, history: &CaseHistory) -> Result<u64> {
        let started = std::time::Instant::now();
        // The daily sequences to set, from the codes written.
        let mut last_by_day: BTreeMap<String, i64> = BTreeMap::new();
        let mut ids = HashSet::with_capacity(history.cases.len());
        for c in &history.cases {
            if c.id <= 0 || !ids.insert(c.id) {
                return Err(StoreError::Invalid(format!(
                    "history case {:?}: id {} is not a new positive id",
                    c.code, c.id
                )));
            }
            let (day, seq) = split_code(&c.code)?;
            let last = last_by_day
                .entry(day.format("%Y%m%d").to_string())
                .or_insert(seq);
            *last = (*last).max(seq);
        }
        if let Some(e) = history.events.iter().find(|e| !ids.contains(&e.case_id)) {
            return Err(StoreError::Invalid(format!(
                "history event {:?} refers to case {}, which the history does not hold",
                e.action, e.case_id
            )));
        }

        let mut tx = self.pool.begin_with(BEGIN_CHAIN).await.map_err(db_err)?;
        let occupied: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM cases)")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if occupied {
            return Err(StoreError::Conflict(
                "history can only be imported into an empty case table".into(),
            ));
        }
        let mut chain = Chain::new(chain_head(&mut tx).await?);
        let places: Vec<_> = history.events.iter().map(|e| chain.append(e)).collect();

        // Cases first (everything else refers to them), then events, notifications, followers.
        let mut written = 0;
        for chunk in history.cases.chunks(IMPORT_CHUNK) {
            let mut batch = Batch::default();
            for c in chunk {
                batch.case(c)?;
                batch.text(c);
            }
            written += batch.write(&mut tx, CaseWrite::Insert).await?;
        }
        let rounds = [
            history.events.len(),
            history.notifications.len(),
            history.followers.len(),
        ]
        .into_iter()
        .map(|len| len.div_ceil(IMPORT_CHUNK))
        .max()
        .unwrap_or(0);
        let slice = |len: usize, round: usize| {
            let start = (round * IMPORT_CHUNK).min(len);
            start..(start + IMPORT_CHUNK).min(len)
        };
        for round in 0..rounds {
            let mut batch = Batch::default();
            let range = slice(history.events.len(), round);
            for (e, place) in history.events[range.clone()].iter().zip(&places[range]) {
                batch.event(e.case_id, e, place.clone());
            }
            for n in &history.notifications[slice(history.notifications.len(), round)] {
                batch.notification(n.case_id, n);
            }
            for &(user, case) in &history.followers[slice(history.followers.len(), round)] {
                batch.follower(user, case);
            }
            batch.write(&mut tx, CaseWrite::Insert).await?;
        }

        let (days, lasts): (Vec<String>, Vec<i64>) = last_by_day.into_iter().unzip();
        sqlx::query(
            "INSERT INTO case_code_seq (day, last) SELECT * FROM UNNEST($1::text[], $2::int8[])
             ON CONFLICT (day) DO UPDATE SET last = GREATEST(case_code_seq.last, excluded.last)",
        )
        .bind(days)
        .bind(lasts)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "SELECT setval('cases_id_seq', m) FROM (SELECT max(id) AS m FROM cases) s
              WHERE m IS NOT NULL",
        )
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        // A bulk history changes the tables' statistics at once: refresh them now, so the first
        // queries after it are planned on them (autovacuum would get there a minute later; until
        // then PostgreSQL plans the work queues of a 73k-case city as if the table were empty).
        sqlx::query("ANALYZE cases, case_events, case_text, case_followers, attachments")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        tracing::debug!(
            cases = history.cases.len(),
            events = history.events.len(),
            ms = started.elapsed().as_millis() as u64,
            "case history imported"
        );
        Ok(written.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_statements_number_every_bound_column() {
        let binds = CASE_COLUMNS.len() + EVENT_COLUMNS.len() + NOTIFICATION_COLUMNS.len() + 8;
        for sql in [WRITE_INSERT.as_str(), WRITE_UPDATE.as_str()] {
            for n in 1..=binds {
                assert!(sql.contains(&format!("${n}::")), "${n} missing in {sql}");
            }
            assert!(!sql.contains(&format!("${}::", binds + 1)));
        }
        assert!(WRITE_UPDATE.contains("t.version = v.version - 1"));
        assert!(!WRITE_INSERT.contains("EXISTS (SELECT 1 FROM c)"));
        assert!(WRITE_INSERT.contains("INSERT INTO case_text"));
    }

    #[test]
    fn chain_appends_link_to_the_previous_hash() {
        let ev = NewCaseEvent {
            case_id: 1,
            action: "report".into(),
            actor_id: None,
            actor_role: None,
            at: DateTime::from_timestamp_micros(1_772_413_200_123_456).unwrap(),
            from_status: None,
            to_status: CaseStatus::Reported,
            comment: None,
            attachments: vec![],
            data: serde_json::json!({}),
        };
        let mut chain = Chain::new((0, GENESIS_HASH.to_string()));
        let (s1, p1, h1) = chain.append(&ev);
        let (s2, p2, h2) = chain.append(&ev);
        assert_eq!((s1, s2), (1, 2));
        assert_eq!(p1, GENESIS_HASH);
        assert_eq!(p2, h1);
        assert_eq!(h2, chain_hash(&h1, 2, &ev));
        assert_ne!(h1, h2);
    }
}
