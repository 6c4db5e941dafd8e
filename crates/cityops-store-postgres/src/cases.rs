//! The case workflow repositories: cases and their audit chain (`CaseRepo`), the responsibility
//! matrix, inboxes, attachments and the holiday schedule.
//!
//! A case is stored whole as JSON text (`doc`) plus projected columns for every filter, sort and
//! scope check; reads decode `doc` and take `id`, `code`, `version`, `lng` and `lat` from their
//! columns. Every transaction that appends events starts with `BEGIN; … SELECT
//! pg_advisory_xact_lock(727301)` (one round trip, see [`BEGIN_CHAIN`] for its asynchronous
//! commit) and only then reads the chain head, so the chain stays linear however many processes
//! write. All writes of a transition (case, events,
//! notifications, followers, attachment links) go out as one statement of data-modifying CTEs
//! over `UNNEST`ed arrays, the same statement for one case or thousands.
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::case::visibility::region_prefix;
use cityops_domain::case::{GENESIS_HASH, chain_hash};
use cityops_store::{
    Attachment, AttachmentRepo, CalendarDay, CalendarRepo, Case, CaseCounts, CaseEvent,
    CaseHistory, CaseQuery, CaseRepo, CaseSort, CaseStatus, CaseVisibility, DayKind, InboxOwner,
    InboxRepo, Light, MarkFn, NewAttachment, NewCaseEvent, NewNotification, Notification, Page,
    PageRequest, Recipient, Result, Role, RoutingRepo, RoutingRule, StoreError,
    attachment_claim_error,
};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use cityops_store_sql::like_contains;
use crate::versions::{Cached, bump};
use crate::{PgStore, db_err};

/// Opens a transaction holding the chain lock (advisory lock 727301, which serialises every
/// append to the event chain), in one round trip (simple-query protocol).
///
/// The transaction commits asynchronously (`synchronous_commit = off`): the chain lock is held
/// until commit, and a synchronous commit would hold it through a WAL flush (milliseconds on
/// ordinary disks), capping intake at a few hundred reports a second however many clients
/// write. This is the durability of the SQLite store (`synchronous=NORMAL`): a power loss or
/// server crash may lose the last fraction of a second of commits, never corrupt them; and since
/// the WAL is written in commit order, such a loss removes only a suffix of the chain, never a
/// link in the middle.
const BEGIN_CHAIN: &str =
    "BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_advisory_xact_lock(727301)";
/// The same for the one-off history import, which commits synchronously.
const BEGIN_CHAIN_DURABLE: &str = "BEGIN; SELECT pg_advisory_xact_lock(727301)";
/// Rows per table per statement in `import_history`.
const IMPORT_CHUNK: usize = 5000;

/// The case columns in bind order, and their array types.
const CASE_COLUMNS: [(&str, &str); 26] = [
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

const CASE_SELECT: &str = "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc FROM cases c";
const EVENT_SELECT: &str = "SELECT e.seq, e.case_id, e.action, e.actor_id, e.actor_role, e.at, \
     e.from_status, e.to_status, e.comment, e.attachments, e.data, e.prev_hash, e.hash";
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
               RETURNING t.id) \
         SELECT (SELECT count(*) FROM c) AS n, (SELECT count(*) FROM a) AS linked",
        names(&EVENT_COLUMNS),
        unnest(1 + nc, &EVENT_COLUMNS),
        names(&NOTIFICATION_COLUMNS),
        unnest(1 + nc + ne, &NOTIFICATION_COLUMNS),
        f + 1,
        f + 2,
        f + 3,
        and_guard = guard.replace(" WHERE ", " AND "),
    )
}

static WRITE_INSERT: LazyLock<String> = LazyLock::new(|| write_statement(CaseWrite::Insert));
static WRITE_UPDATE: LazyLock<String> = LazyLock::new(|| write_statement(CaseWrite::Update));

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Database(format!("cannot encode a case record: {e}"))
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("unexpected {what} {value:?} in the database"))
}

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| corrupt(what, value))
}

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
}

impl<'a> Batch<'a> {
    /// Adds a case row; `doc` is the JSON of the whole case (with its final id, code and version).
    fn case(&mut self, c: &'a Case) -> Result<()> {
        let loc = &c.location;
        let clock = c.clock.as_ref();
        self.c_id.push(c.id);
        self.c_code.push(&c.code);
        self.c_doc.push(serde_json::to_string(c).map_err(json_err)?);
        self.c_status.push(c.status.as_str());
        self.c_source.push(c.source.as_str());
        self.c_category.push(c.category_code.as_deref());
        self.c_region.push(loc.region_code());
        self.c_district.push(loc.district_code.as_deref());
        self.c_street.push(loc.street_code.as_deref());
        self.c_community.push(loc.community_code.as_deref());
        self.c_grid.push(loc.grid_code.as_deref());
        self.c_department.push(c.department_id);
        self.c_assignee.push(c.assignee_id);
        self.c_reporter.push(c.reporter_id);
        self.c_lng.push(loc.lng);
        self.c_lat.push(loc.lat);
        self.c_created.push(c.created_at);
        self.c_updated.push(c.updated_at);
        self.c_due.push(clock.and_then(|k| k.due));
        self.c_yellow.push(clock.and_then(|k| k.yellow_at));
        self.c_light.push(c.light.as_str());
        self.c_overdue.push(c.overdue);
        self.c_supervised.push(c.supervised);
        self.c_suspended.push(c.suspended_until);
        self.c_merged.push(c.merged_into);
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
            let found = sqlx::query("SELECT id, case_id FROM attachments WHERE id = ANY($1)")
                .bind(&wanted)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get("id").map_err(db_err)?,
                        r.try_get("case_id").map_err(db_err)?,
                    ))
                })
                .collect::<Result<Vec<(i64, Option<i64>)>>>()?;
            return Err(
                attachment_claim_error(case_id, &wanted, &found).unwrap_or_else(|| {
                    StoreError::Database(format!(
                        "linked {linked} of the attachments {wanted:?} of case {case_id}"
                    ))
                }),
            );
        }
        Ok(n)
    }
}

/// A notification's case id, or the transition's case when the machine left it 0.
fn or_case(case_id: i64, default: i64) -> i64 {
    if case_id == 0 { default } else { case_id }
}

/// Decodes `id, code, version, lng, lat, doc`.
fn case_row(row: &PgRow) -> Result<Case> {
    let doc: String = row.try_get("doc").map_err(db_err)?;
    let mut case: Case = serde_json::from_str(&doc)
        .map_err(|e| StoreError::Database(format!("unreadable case record: {e}")))?;
    case.id = row.try_get("id").map_err(db_err)?;
    case.code = row.try_get("code").map_err(db_err)?;
    case.version = row.try_get("version").map_err(db_err)?;
    // The columns hold the exact doubles (JSON text may round the last bit).
    case.location.lng = row.try_get("lng").map_err(db_err)?;
    case.location.lat = row.try_get("lat").map_err(db_err)?;
    Ok(case)
}

fn event_row(row: &PgRow) -> Result<CaseEvent> {
    let role: Option<String> = row.try_get("actor_role").map_err(db_err)?;
    let from: Option<String> = row.try_get("from_status").map_err(db_err)?;
    let to: String = row.try_get("to_status").map_err(db_err)?;
    let attachments: String = row.try_get("attachments").map_err(db_err)?;
    let data: String = row.try_get("data").map_err(db_err)?;
    Ok(CaseEvent {
        seq: row.try_get("seq").map_err(db_err)?,
        event: NewCaseEvent {
            case_id: row.try_get("case_id").map_err(db_err)?,
            action: row.try_get("action").map_err(db_err)?,
            actor_id: row.try_get("actor_id").map_err(db_err)?,
            actor_role: role
                .as_deref()
                .map(|r| parse::<Role>("role", r))
                .transpose()?,
            at: row.try_get("at").map_err(db_err)?,
            from_status: from
                .as_deref()
                .map(|s| parse::<CaseStatus>("case status", s))
                .transpose()?,
            to_status: parse::<CaseStatus>("case status", &to)?,
            comment: row.try_get("comment").map_err(db_err)?,
            attachments: serde_json::from_str(&attachments)
                .map_err(|_| corrupt("event attachments", &attachments))?,
            data: serde_json::from_str(&data).map_err(|_| corrupt("event data", &data))?,
        },
        prev_hash: row.try_get("prev_hash").map_err(db_err)?,
        hash: row.try_get("hash").map_err(db_err)?,
    })
}

fn notification_row(row: &PgRow) -> Result<Notification> {
    let user: Option<i64> = row.try_get("user_id").map_err(db_err)?;
    let dept: Option<i64> = row.try_get("department_id").map_err(db_err)?;
    let role: Option<String> = row.try_get("role").map_err(db_err)?;
    let recipient = match (user, dept, role) {
        (Some(user_id), _, _) => Recipient::User { user_id },
        (None, Some(department_id), _) => Recipient::Department { department_id },
        (None, None, Some(role)) => Recipient::Role {
            role: parse::<Role>("role", &role)?,
            region_code: row.try_get("region_code").map_err(db_err)?,
        },
        (None, None, None) => return Err(corrupt("notification recipient", "none")),
    };
    Ok(Notification {
        id: row.try_get("id").map_err(db_err)?,
        notification: NewNotification {
            recipient,
            case_id: row.try_get("case_id").map_err(db_err)?,
            action: row.try_get("action").map_err(db_err)?,
            title: row.try_get("title").map_err(db_err)?,
            created_at: row.try_get("created_at").map_err(db_err)?,
        },
        case_code: row.try_get("case_code").map_err(db_err)?,
        read_at: row.try_get("read_at").map_err(db_err)?,
    })
}

fn attachment_row(row: &PgRow) -> Result<Attachment> {
    Ok(Attachment {
        id: row.try_get("id").map_err(db_err)?,
        attachment: NewAttachment {
            sha256: row.try_get("sha256").map_err(db_err)?,
            mime: row.try_get("mime").map_err(db_err)?,
            bytes: row.try_get("bytes").map_err(db_err)?,
            width: row.try_get("width").map_err(db_err)?,
            height: row.try_get("height").map_err(db_err)?,
            thumb_sha256: row.try_get("thumb_sha256").map_err(db_err)?,
            uploaded_by: row.try_get("uploaded_by").map_err(db_err)?,
            created_at: row.try_get("created_at").map_err(db_err)?,
            file_name: row.try_get("file_name").map_err(db_err)?,
        },
        case_id: row.try_get("case_id").map_err(db_err)?,
    })
}

/// The smallest string greater than every string that starts with `prefix` (bytewise), when
/// there is a simple one: the prefix with its last ASCII character incremented.
fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !prefix.is_ascii() || last >= 0x7e {
        return None;
    }
    let mut end = prefix[..prefix.len() - 1].to_string();
    end.push(char::from(last + 1));
    Some(end)
}

/// `<column> starts with <prefix>` as a range over a `COLLATE "C"` column (index-friendly).
fn push_prefix(q: &mut QueryBuilder<Postgres>, column: &str, prefix: &str) {
    match prefix_end(prefix) {
        Some(end) => {
            q.push(format_args!("({column} >= "))
                .push_bind(prefix.to_string())
                .push(format_args!(" AND {column} < "))
                .push_bind(end)
                .push(")");
        }
        None => {
            q.push(format_args!("starts_with({column}, "))
                .push_bind(prefix.to_string())
                .push(")");
        }
    }
}

/// `AND <the case is visible>` over `cases c` (TEAM.md's visibility rule, in SQL).
fn push_visibility(q: &mut QueryBuilder<Postgres>, vis: &CaseVisibility) {
    if vis.all {
        return;
    }
    q.push(" AND (false");
    for p in &vis.region_prefixes {
        q.push(" OR ");
        push_prefix(q, "c.region_code", p);
    }
    if let Some(d) = vis.department_id {
        q.push(" OR c.department_id = ").push_bind(d);
    }
    if let Some(u) = vis.user_id {
        q.push(" OR c.assignee_id = ")
            .push_bind(u)
            .push(" OR c.reporter_id = ")
            .push_bind(u)
            .push(" OR EXISTS (SELECT 1 FROM case_followers f WHERE f.case_id = c.id AND f.user_id = ")
            .push_bind(u)
            .push(")");
    }
    q.push(")");
}

/// `AND …` for every filter of the query.
fn push_filters(q: &mut QueryBuilder<Postgres>, query: &CaseQuery) {
    if !query.statuses.is_empty() {
        q.push(" AND c.status = ANY(")
            .push_bind(
                query
                    .statuses
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            )
            .push(")");
    }
    if let Some(light) = query.light {
        let now = query.now;
        match light {
            Light::Red => {
                q.push(" AND c.stage_due < ").push_bind(now);
            }
            Light::Yellow => {
                q.push(" AND c.stage_yellow_at <= ")
                    .push_bind(now)
                    .push(" AND c.stage_due >= ")
                    .push_bind(now);
            }
            Light::Green => {
                q.push(" AND (c.stage_due IS NULL OR (c.stage_due >= ")
                    .push_bind(now)
                    .push(" AND (c.stage_yellow_at IS NULL OR c.stage_yellow_at > ")
                    .push_bind(now)
                    .push(")))");
            }
        }
    }
    if let Some(source) = query.source {
        q.push(" AND c.source = ").push_bind(source.as_str());
    }
    if let Some(category) = &query.category {
        q.push(" AND ");
        push_prefix(q, "c.category_code", category);
    }
    if let Some(region) = &query.region_code {
        q.push(" AND ");
        push_prefix(q, "c.region_code", &region_prefix(region));
    }
    if let Some(d) = query.department_id {
        q.push(" AND c.department_id = ").push_bind(d);
    }
    if let Some(from) = query.from {
        q.push(" AND c.created_at >= ").push_bind(from);
    }
    if let Some(to) = query.to {
        q.push(" AND c.created_at < ").push_bind(to);
    }
    if let Some([min_lng, min_lat, max_lng, max_lat]) = query.bbox {
        q.push(" AND c.lng BETWEEN ")
            .push_bind(min_lng)
            .push(" AND ")
            .push_bind(max_lng)
            .push(" AND c.lat BETWEEN ")
            .push_bind(min_lat)
            .push(" AND ")
            .push_bind(max_lat);
    }
    if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
        let pattern = like_contains(text);
        q.push(" AND (c.code ILIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE E'\\\\' OR (c.doc::json ->> 'description') ILIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE E'\\\\' OR (c.doc::json -> 'location' ->> 'address') ILIKE ")
            .push_bind(pattern)
            .push(" ESCAPE E'\\\\')");
    }
    if let Some(overdue) = query.overdue {
        q.push(" AND c.overdue = ").push_bind(overdue);
    }
    if let Some(supervised) = query.supervised {
        q.push(" AND c.supervised = ").push_bind(supervised);
    }
    if let Some(t) = query.suspended_until_before {
        q.push(" AND c.status = 'suspended' AND c.suspended_until <= ")
            .push_bind(t);
    }
}

fn order_by(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::CreatedDesc => " ORDER BY c.created_at DESC, c.id DESC",
        CaseSort::CreatedAsc => " ORDER BY c.created_at ASC, c.id ASC",
        CaseSort::DueAsc => " ORDER BY c.stage_due ASC NULLS LAST, c.id ASC",
        CaseSort::UpdatedDesc => " ORDER BY c.updated_at DESC, c.id DESC",
    }
}

/// The code of the `seq`-th case reported on `day`: `YYYYMMDD` + 5 digits.
fn case_code(day: NaiveDate, seq: i64) -> String {
    format!("{}{:05}", day.format("%Y%m%d"), seq)
}

/// Splits a case code into its day key and sequence number.
fn split_code(code: &str) -> Option<(&str, i64)> {
    if code.len() < 13 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (day, seq) = code.split_at(8);
    NaiveDate::parse_from_str(day, "%Y%m%d").ok()?;
    Some((day, seq.parse().ok()?))
}

#[async_trait]
impl CaseRepo for PgStore {
    async fn create_case(
        &self,
        case: &Case,
        local_date: NaiveDate,
        event: &NewCaseEvent,
        notify: &[NewNotification],
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
        stored.code = case_code(local_date, last);
        stored.version = 1;
        let mut ev = event.clone();
        ev.case_id = id;
        let mut chain = Chain::new(head);
        let place = chain.append(&ev);

        let mut batch = Batch::default();
        batch.case(&stored)?;
        batch.event(id, &ev, place);
        for n in notify {
            batch.notification(id, n);
        }
        if let Some(reporter) = stored.reporter_id {
            batch.follower(reporter, id);
        }
        batch.write_claiming(&mut tx, CaseWrite::Insert, id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn get_case(&self, id: i64, vis: &CaseVisibility) -> Result<Option<Case>> {
        let mut q = QueryBuilder::<Postgres>::new(CASE_SELECT);
        q.push(" WHERE c.id = ").push_bind(id);
        push_visibility(&mut q, vis);
        q.build()
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(case_row)
            .transpose()
    }

    async fn list_cases(
        &self,
        query: &CaseQuery,
        vis: &CaseVisibility,
        page: PageRequest,
    ) -> Result<Page<Case>> {
        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM cases c WHERE true");
        push_filters(&mut count, query);
        push_visibility(&mut count, vis);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;

        let mut q = QueryBuilder::<Postgres>::new(CASE_SELECT);
        q.push(" WHERE true");
        push_filters(&mut q, query);
        push_visibility(&mut q, vis);
        q.push(order_by(query.sort))
            .push(" LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        let items = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(case_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
    }

    async fn count_cases(&self, query: &CaseQuery, vis: &CaseVisibility) -> Result<CaseCounts> {
        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT c.status, count(*) AS n, count(*) FILTER (WHERE c.overdue) AS overdue \
             FROM cases c WHERE true",
        );
        push_filters(&mut q, query);
        push_visibility(&mut q, vis);
        q.push(" GROUP BY c.status");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let mut counts = CaseCounts::default();
        for row in &rows {
            let status: String = row.try_get("status").map_err(db_err)?;
            let status = parse::<CaseStatus>("case status", &status)?;
            let n = row.try_get::<i64, _>("n").map_err(db_err)?.max(0) as u64;
            let overdue = row.try_get::<i64, _>("overdue").map_err(db_err)?.max(0) as u64;
            counts.total += n;
            match status {
                CaseStatus::Closed => counts.closed += n,
                CaseStatus::Cancelled => counts.cancelled += n,
                _ => {
                    counts.open += n;
                    counts.overdue_open += overdue;
                }
            }
            counts.by_status.push((status, n));
        }
        counts.by_status.sort();
        Ok(counts)
    }

    async fn save_transition(
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

    async fn case_events(
        &self,
        case_id: i64,
        vis: &CaseVisibility,
    ) -> Result<Option<Vec<CaseEvent>>> {
        let mut q = QueryBuilder::<Postgres>::new(EVENT_SELECT);
        q.push(" FROM cases c LEFT JOIN case_events e ON e.case_id = c.id WHERE c.id = ")
            .push_bind(case_id);
        push_visibility(&mut q, vis);
        q.push(" ORDER BY e.seq");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            // The LEFT JOIN yields one all-NULL row for a case without events.
            if row
                .try_get::<Option<i64>, _>("seq")
                .map_err(db_err)?
                .is_some()
            {
                events.push(event_row(row)?);
            }
        }
        Ok(Some(events))
    }

    async fn audit_events(&self, after_seq: i64, limit: u32) -> Result<Vec<CaseEvent>> {
        sqlx::query(
            "SELECT e.seq, e.case_id, e.action, e.actor_id, e.actor_role, e.at, e.from_status,
                    e.to_status, e.comment, e.attachments, e.data, e.prev_hash, e.hash
               FROM case_events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(event_row)
        .collect()
    }

    async fn duplicate_candidates(
        &self,
        category_code: &str,
        bbox: [f64; 4],
        since: DateTime<Utc>,
    ) -> Result<Vec<Case>> {
        let [min_lng, min_lat, max_lng, max_lat] = bbox;
        sqlx::query(
            "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc FROM cases c
              WHERE c.category_code = $1 AND c.created_at >= $2
                AND c.status NOT IN ('closed', 'cancelled') AND c.merged_into IS NULL
                AND c.lng BETWEEN $3 AND $5 AND c.lat BETWEEN $4 AND $6
              ORDER BY c.created_at, c.id",
        )
        .bind(category_code)
        .bind(since)
        .bind(min_lng)
        .bind(min_lat)
        .bind(max_lng)
        .bind(max_lat)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(case_row)
        .collect()
    }

    async fn mark_lights(&self, now: DateTime<Utc>, limit: u32, mark: MarkFn<'_>) -> Result<u64> {
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
        .map(case_row)
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

    async fn import_history(&self, history: &CaseHistory) -> Result<u64> {
        let started = std::time::Instant::now();
        // The daily sequences to set, from the codes written.
        let mut last_by_day: BTreeMap<&str, i64> = BTreeMap::new();
        let mut ids = HashSet::with_capacity(history.cases.len());
        for c in &history.cases {
            if c.id <= 0 || !ids.insert(c.id) {
                return Err(StoreError::Invalid(format!(
                    "history case {:?}: id {} is not a new positive id",
                    c.code, c.id
                )));
            }
            let (day, seq) = split_code(&c.code).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "history case {}: code {:?} is not YYYYMMDD + sequence",
                    c.id, c.code
                ))
            })?;
            let last = last_by_day.entry(day).or_insert(seq);
            *last = (*last).max(seq);
        }
        if let Some(e) = history.events.iter().find(|e| !ids.contains(&e.case_id)) {
            return Err(StoreError::Invalid(format!(
                "history event {:?} refers to case {}, which the history does not hold",
                e.action, e.case_id
            )));
        }

        let mut tx = self
            .pool
            .begin_with(BEGIN_CHAIN_DURABLE)
            .await
            .map_err(db_err)?;
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

        let (days, lasts): (Vec<&str>, Vec<i64>) = last_by_day.into_iter().unzip();
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
        tracing::debug!(
            cases = history.cases.len(),
            events = history.events.len(),
            ms = started.elapsed().as_millis() as u64,
            "case history imported"
        );
        Ok(written.max(0) as u64)
    }
}

#[async_trait]
impl RoutingRepo for PgStore {
    async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        sqlx::query(
            "SELECT category_kind, category_code, region_code, department_id, auto_dispatch
               FROM routing_rules ORDER BY category_kind, category_code, region_code",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            let kind: String = row.try_get("category_kind").map_err(db_err)?;
            Ok(RoutingRule {
                category_kind: parse("category kind", &kind)?,
                category_code: row.try_get("category_code").map_err(db_err)?,
                region_code: row.try_get("region_code").map_err(db_err)?,
                department_id: row.try_get("department_id").map_err(db_err)?,
                auto_dispatch: row.try_get("auto_dispatch").map_err(db_err)?,
            })
        })
        .collect()
    }

    async fn replace_routing_rules(&self, rules: &[RoutingRule]) -> Result<u64> {
        let mut seen = HashSet::with_capacity(rules.len());
        for r in rules {
            r.validate().map_err(StoreError::Invalid)?;
            if !seen.insert((
                r.category_kind,
                r.category_code.as_str(),
                r.region_code.as_str(),
            )) {
                return Err(StoreError::Invalid(format!(
                    "routing rule {}/{} in {} appears twice",
                    r.category_kind, r.category_code, r.region_code
                )));
            }
        }
        let mut departments: Vec<i64> = rules.iter().map(|r| r.department_id).collect();
        departments.sort_unstable();
        departments.dedup();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let known: Vec<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE id = ANY($1)")
            .bind(&departments)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(missing) = departments.iter().find(|d| !known.contains(d)) {
            return Err(StoreError::Invalid(format!(
                "routing rule refers to unknown department {missing}"
            )));
        }
        sqlx::query("DELETE FROM routing_rules")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO routing_rules (category_kind, category_code, region_code, department_id, auto_dispatch)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::bool[])",
        )
        .bind(rules.iter().map(|r| r.category_kind.as_str()).collect::<Vec<_>>())
        .bind(rules.iter().map(|r| r.category_code.as_str()).collect::<Vec<_>>())
        .bind(rules.iter().map(|r| r.region_code.as_str()).collect::<Vec<_>>())
        .bind(rules.iter().map(|r| r.department_id).collect::<Vec<_>>())
        .bind(rules.iter().map(|r| r.auto_dispatch).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        bump(&mut tx, Cached::Routing).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(rules.len() as u64)
    }
}

/// `AND <the notification is in the owner's inbox>` over `notifications n`.
fn push_owner(q: &mut QueryBuilder<Postgres>, owner: &InboxOwner) {
    q.push(" AND (n.user_id = ").push_bind(owner.user_id);
    if let Some(d) = owner.department_id {
        q.push(" OR n.department_id = ").push_bind(d);
    }
    if !owner.roles.is_empty() {
        q.push(" OR (n.role = ANY(")
            .push_bind(owner.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
            .push(")");
        if let Some(prefixes) = &owner.region_prefixes {
            q.push(" AND (n.region_code IS NULL");
            for p in prefixes {
                q.push(" OR ");
                push_prefix(q, "n.region_code", p);
            }
            q.push(")");
        }
        q.push(")");
    }
    q.push(")");
}

#[async_trait]
impl InboxRepo for PgStore {
    async fn inbox(
        &self,
        owner: &InboxOwner,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let filters = |q: &mut QueryBuilder<Postgres>| {
            push_owner(q, owner);
            if unread_only {
                q.push(" AND n.read_at IS NULL");
            }
        };
        let mut count =
            QueryBuilder::<Postgres>::new("SELECT count(*) FROM notifications n WHERE true");
        filters(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT n.id, n.user_id, n.department_id, n.role, n.region_code, n.case_id, n.action, \
             n.title, n.created_at, n.read_at, coalesce(c.code, '') AS case_code \
             FROM notifications n LEFT JOIN cases c ON c.id = n.case_id WHERE true",
        );
        filters(&mut q);
        q.push(" ORDER BY n.created_at DESC, n.id DESC LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        let items = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(notification_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::new(items, total.max(0) as u64, page))
    }

    async fn mark_read(&self, owner: &InboxOwner, ids: &[i64], now: DateTime<Utc>) -> Result<u64> {
        let mut q = QueryBuilder::<Postgres>::new("UPDATE notifications n SET read_at = ");
        q.push_bind(now).push(" WHERE n.read_at IS NULL");
        if !ids.is_empty() {
            q.push(" AND n.id = ANY(").push_bind(ids.to_vec()).push(")");
        }
        push_owner(&mut q, owner);
        let done = q.build().execute(&self.pool).await.map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

const ATTACHMENT_SELECT: &str = "SELECT id, sha256, mime, bytes, width, height, thumb_sha256, \
     uploaded_by, created_at, file_name, case_id FROM attachments";

#[async_trait]
impl AttachmentRepo for PgStore {
    async fn create_attachment(&self, a: &NewAttachment) -> Result<Attachment> {
        // What the column keeps (microseconds), so the record equals what is read back.
        let mut a = a.clone();
        a.created_at = DateTime::from_timestamp_micros(a.created_at.timestamp_micros())
            .unwrap_or(a.created_at);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attachments (sha256, mime, bytes, width, height, thumb_sha256, uploaded_by,
                 created_at, file_name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&a.sha256)
        .bind(&a.mime)
        .bind(a.bytes)
        .bind(a.width)
        .bind(a.height)
        .bind(&a.thumb_sha256)
        .bind(a.uploaded_by)
        .bind(a.created_at)
        .bind(&a.file_name)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Attachment {
            id,
            attachment: a,
            case_id: None,
        })
    }

    async fn get_attachments(&self, ids: &[i64]) -> Result<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Postgres>::new(ATTACHMENT_SELECT);
        q.push(" WHERE id = ANY(")
            .push_bind(ids.to_vec())
            .push(") ORDER BY id");
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(attachment_row)
            .collect()
    }

    async fn case_attachments(&self, case_id: i64) -> Result<Vec<Attachment>> {
        let mut q = QueryBuilder::<Postgres>::new(ATTACHMENT_SELECT);
        q.push(" WHERE case_id = ")
            .push_bind(case_id)
            .push(" ORDER BY id");
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(attachment_row)
            .collect()
    }
}

#[async_trait]
impl CalendarRepo for PgStore {
    async fn calendar_days(&self) -> Result<Vec<CalendarDay>> {
        sqlx::query("SELECT date, kind, name FROM calendar_days ORDER BY date")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(db_err)?;
                Ok(CalendarDay {
                    date: row.try_get("date").map_err(db_err)?,
                    kind: parse::<DayKind>("calendar day kind", &kind)?,
                    name: row.try_get("name").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn put_calendar_days(&self, days: &[CalendarDay]) -> Result<u64> {
        // One row per date; a later entry for the same date wins, as if upserted in order.
        let mut by_date: BTreeMap<NaiveDate, &CalendarDay> = BTreeMap::new();
        for d in days {
            by_date.insert(d.date, d);
        }
        let rows: Vec<&CalendarDay> = by_date.into_values().collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO calendar_days (date, kind, name)
             SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[])
             ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        )
        .bind(rows.iter().map(|d| d.date).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|d| d.name.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if !rows.is_empty() {
            bump(&mut tx, Cached::Calendar).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(rows.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_cover_exactly_the_prefix() {
        assert_eq!(prefix_end("4413").as_deref(), Some("4414"));
        assert_eq!(prefix_end("441309").as_deref(), Some("44130:"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("区"), None);
        // Every digit string starting with the prefix lies in [prefix, end), nothing else does.
        let (p, end) = ("441309", prefix_end("441309").unwrap());
        for code in ["441309", "441309001", "4413099"] {
            assert!(code >= p && code < end.as_str(), "{code}");
        }
        for code in ["441308999", "44131", "441310001"] {
            assert!(!(code >= p && code < end.as_str()), "{code}");
        }
    }

    #[test]
    fn codes_are_day_and_sequence() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(case_code(day, 7), "2026030200007");
        assert_eq!(split_code("2026030200007"), Some(("20260302", 7)));
        assert_eq!(split_code("20260302123456"), Some(("20260302", 123_456)));
        assert_eq!(split_code("202603020000"), None, "too short");
        assert_eq!(split_code("2026133200001"), None, "no such day");
        assert_eq!(split_code("2026030200a01"), None);
    }

    #[test]
    fn write_statements_number_every_bound_column() {
        let binds = CASE_COLUMNS.len() + EVENT_COLUMNS.len() + NOTIFICATION_COLUMNS.len() + 4;
        for sql in [WRITE_INSERT.as_str(), WRITE_UPDATE.as_str()] {
            for n in 1..=binds {
                assert!(sql.contains(&format!("${n}::")), "${n} missing in {sql}");
            }
            assert!(!sql.contains(&format!("${}::", binds + 1)));
        }
        assert!(WRITE_UPDATE.contains("t.version = v.version - 1"));
        assert!(!WRITE_INSERT.contains("EXISTS (SELECT 1 FROM c)"));
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
