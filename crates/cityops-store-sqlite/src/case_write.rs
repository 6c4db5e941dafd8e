//! The statements of the case writes, shared by intake, transitions, the watcher and the history
//! import. All run inside a write transaction opened with [`BEGIN_WRITE`].
use std::sync::OnceLock;

use cityops_domain::case::GENESIS_HASH;
use cityops_store::{Case, CaseStatus, NewCaseEvent, NewNotification, Result, Role, StoreError};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::case_rows::{
    EVENT_COLUMNS, EventValues, NOTIFICATION_COLUMNS, PROJECTED, PROJECTED_SET, bind_projection,
    project, recipient_columns,
};
use crate::db_err;
use crate::rows::ts;
use cityops_store_sql::search::{SearchText, short_grams};

/// The statement that opens every writing transaction: SQLite's write lock first (the chain lock,
/// also against other processes on the same file), before the chain head is read.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Rows per `json_each` bulk statement.
const BULK_CHUNK: usize = 5000;

/// The chain head (seq, hash) and the last case id, in one read.
const HEAD_AND_LAST_ID: &str = "SELECT coalesce((SELECT seq FROM case_events ORDER BY seq DESC LIMIT 1), 0) AS seq, \
        (SELECT hash FROM case_events ORDER BY seq DESC LIMIT 1) AS hash, \
        coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'cases'), 0) AS last_id";

/// Links the attachments in the JSON id list to case `?1`, those that belong to no other case.
const LINK_ATTACHMENTS: &str = "UPDATE attachments SET case_id = ?1 \
     WHERE (case_id IS NULL OR case_id = ?1) AND id IN (SELECT value FROM json_each(?2))";

/// `(id, case_id)` of the attachments in the JSON id list that exist.
const ATTACHMENT_OWNERS: &str =
    "SELECT id, case_id FROM attachments WHERE id IN (SELECT value FROM json_each(?))";

const FOLLOW: &str = "INSERT INTO case_followers (case_id, user_id) VALUES (?, ?) \
     ON CONFLICT (case_id, user_id) DO NOTHING";

/// The next number of a day's case codes (the row is created at 1).
const NEXT_CODE: &str = "INSERT INTO case_code_seq (day, last) VALUES (?, 1) \
     ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last";

fn sql(cell: &'static OnceLock<String>, make: impl FnOnce() -> String) -> &'static str {
    cell.get_or_init(make).as_str()
}

fn insert_case_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    sql(&SQL, || {
        format!(
            "INSERT INTO cases (id, code, version, {PROJECTED}) VALUES (?, ?, ?{})",
            ", ?".repeat(PROJECTED.split(',').count())
        )
    })
}

fn update_case_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    sql(&SQL, || {
        format!("UPDATE cases SET {PROJECTED_SET}, version = ? WHERE id = ? AND version = ?")
    })
}

fn insert_event_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    sql(&SQL, || {
        format!(
            "INSERT INTO case_events ({EVENT_COLUMNS}) VALUES (?{})",
            ", ?".repeat(EVENT_COLUMNS.split(',').count() - 1)
        )
    })
}

fn insert_notification_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    sql(&SQL, || {
        format!(
            "INSERT INTO notifications ({NOTIFICATION_COLUMNS}) VALUES (?{})",
            ", ?".repeat(NOTIFICATION_COLUMNS.split(',').count() - 1)
        )
    })
}

/// `INSERT … SELECT value->>0, value->>1 … FROM jsonb_each(?)`: many rows in one bound value
/// (`jsonb_each` hands each row to `->>` as binary JSON, so the text is parsed once).
fn bulk_sql(table: &str, columns: &str) -> String {
    let n = columns.split(',').count();
    let picks: Vec<String> = (0..n).map(|i| format!("value->>{i}")).collect();
    format!(
        "INSERT INTO {table} ({columns}) SELECT {} FROM jsonb_each(?)",
        picks.join(", ")
    )
}

/// The chain head (last seq, its hash; 0 and the genesis hash when empty) and the last case id.
pub(crate) async fn head_and_last_id(conn: &mut SqliteConnection) -> Result<(i64, String, i64)> {
    let row = sqlx::query(HEAD_AND_LAST_ID)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let seq: i64 = row.try_get("seq").map_err(db_err)?;
    let hash: Option<String> = row.try_get("hash").map_err(db_err)?;
    let last_id: i64 = row.try_get("last_id").map_err(db_err)?;
    Ok((
        seq,
        hash.unwrap_or_else(|| GENESIS_HASH.to_string()),
        last_id,
    ))
}

/// The next number of the day's codes (`YYYY-MM-DD` key).
pub(crate) async fn next_code_number(conn: &mut SqliteConnection, day: &str) -> Result<i64> {
    sqlx::query_scalar(NEXT_CODE)
        .bind(day)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)
}

/// Inserts a new case with its id, code and version, and indexes its text.
pub(crate) async fn insert_case(conn: &mut SqliteConnection, case: &Case) -> Result<()> {
    let p = project(case)?;
    bind_projection(
        sqlx::query(insert_case_sql())
            .bind(case.id)
            .bind(case.code.as_str())
            .bind(case.version),
        &p,
    )
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    index_texts(conn, std::slice::from_ref(case)).await
}

/// Indexes the searchable text of new cases (ids and codes set; see `cityops_store_sql::search`):
/// their folded `case_text` rows — whose trigger feeds the trigram index `case_trigram` — and
/// their characters and pairs of characters in `case_grams`. Two statements per chunk.
pub(crate) async fn index_texts(conn: &mut SqliteConnection, cases: &[Case]) -> Result<()> {
    let texts: Vec<SearchText> = cases.iter().map(SearchText::of).collect();
    bulk_insert(
        conn,
        "INSERT INTO case_text (case_id, code, description, address) \
         SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each(?)",
        &texts,
        |t, out| push_json(out, &(t.case_id, &t.code, &t.description, &t.address)),
    )
    .await?;
    bulk_insert(
        conn,
        "INSERT INTO case_grams (rowid, grams) SELECT value->>0, value->>1 FROM jsonb_each(?)",
        &texts,
        |t, out| push_json(out, &(t.case_id, short_grams(t))),
    )
    .await?;
    merge_text_segments(conn, cases.len()).await
}

/// Fewest pages of segment merging a write of new texts does per text index.
const MERGE_PAGES_MIN: i64 = 16;

/// Merges some of the text indexes' segments after `written` new texts: about one page per text,
/// at least [`MERGE_PAGES_MIN`], in each index. Their automerge is off (migration 0022), so the
/// merging keeps pace with the writes in small, even steps instead of bursts.
async fn merge_text_segments(conn: &mut SqliteConnection, written: usize) -> Result<()> {
    let pages = i64::try_from(written)
        .unwrap_or(i64::MAX)
        .max(MERGE_PAGES_MIN);
    for sql in [
        "INSERT INTO case_trigram (case_trigram, rank) VALUES ('merge', ?)",
        "INSERT INTO case_grams (case_grams, rank) VALUES ('merge', ?)",
    ] {
        sqlx::query(sql)
            .bind(pages)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Indexes the text of the cases that have none: those stored before the search index
/// (migration 0007 fills `case_text` and so the trigram index; the character grams are made
/// here, in Rust like every later write). Runs after the migrations, in one write transaction;
/// returns how many cases it indexed.
pub(crate) async fn backfill_grams(conn: &mut SqliteConnection) -> Result<u64> {
    const DONE: &str = "search_grams_backfilled";
    let done: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(DONE)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if done.is_some() {
        return Ok(0);
    }
    let rows = sqlx::query("SELECT case_id, code, description, address FROM case_text")
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let texts = rows
        .iter()
        .map(|r| {
            Ok(SearchText {
                case_id: r.try_get("case_id").map_err(db_err)?,
                code: r.try_get("code").map_err(db_err)?,
                description: r.try_get("description").map_err(db_err)?,
                address: r.try_get("address").map_err(db_err)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    bulk_insert(
        conn,
        "INSERT INTO case_grams (rowid, grams) SELECT value->>0, value->>1 FROM jsonb_each(?)",
        &texts,
        |t, out| push_json(out, &(t.case_id, short_grams(t))),
    )
    .await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, '1')")
        .bind(DONE)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(texts.len() as u64)
}

/// Writes a changed case if its stored version is still `case.version`; the stored version
/// becomes `case.version + 1`, which the returned case carries. `Conflict` for a stale version,
/// `NotFound` for a missing case.
pub(crate) async fn update_case(conn: &mut SqliteConnection, case: &Case) -> Result<Case> {
    let mut next = case.clone();
    next.version = case.version + 1;
    let p = project(&next)?;
    let done = bind_projection(sqlx::query(update_case_sql()), &p)
        .bind(next.version)
        .bind(case.id)
        .bind(case.version)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 1 {
        return Ok(next);
    }
    let stored: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = ?")
        .bind(case.id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Err(match stored {
        None => StoreError::NotFound,
        Some(v) => StoreError::Conflict(format!(
            "case {} was changed meanwhile (stored version {v}, not {})",
            case.code, case.version
        )),
    })
}

/// Appends one event at `seq` after `prev`; returns its hash.
pub(crate) async fn insert_event(
    conn: &mut SqliteConnection,
    event: &NewCaseEvent,
    seq: i64,
    prev: String,
) -> Result<String> {
    let v = EventValues::new(seq, event, prev)?;
    sqlx::query(insert_event_sql())
        .bind(v.seq)
        .bind(event.case_id)
        .bind(event.action.as_str())
        .bind(event.actor_id)
        .bind(event.actor_role.map(Role::as_str))
        .bind(v.at.as_str())
        .bind(event.from_status.map(CaseStatus::as_str))
        .bind(event.to_status.as_str())
        .bind(event.comment.as_deref())
        .bind(v.attachments.as_str())
        .bind(v.data.as_str())
        .bind(v.prev_hash.as_str())
        .bind(v.hash.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(v.hash)
}

/// Inserts the notifications of one case: those without a case id (0) get `case_id`.
pub(crate) async fn insert_notifications(
    conn: &mut SqliteConnection,
    notify: &[NewNotification],
    case_id: i64,
) -> Result<()> {
    for n in notify {
        let (user, dept, role, region) = recipient_columns(&n.recipient);
        sqlx::query(insert_notification_sql())
            .bind(user)
            .bind(dept)
            .bind(role)
            .bind(region)
            .bind(if n.case_id == 0 { case_id } else { n.case_id })
            .bind(n.action.as_str())
            .bind(n.title.as_str())
            .bind(ts(n.created_at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// `user` follows `case_id` (idempotent).
pub(crate) async fn follow(conn: &mut SqliteConnection, case_id: i64, user: i64) -> Result<()> {
    sqlx::query(FOLLOW)
        .bind(case_id)
        .bind(user)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Claims the attachments for the case: `Invalid` (naming them) when any is missing or belongs
/// to another case. The caller then rolls back its transaction or savepoint, which also undoes
/// the links this statement made.
pub(crate) async fn link_attachments(
    conn: &mut SqliteConnection,
    case_id: i64,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(ids).map_err(|e| StoreError::Database(e.to_string()))?;
    let linked = sqlx::query(LINK_ATTACHMENTS)
        .bind(case_id)
        .bind(list.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    let wanted: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
    if linked == wanted.len() as u64 {
        return Ok(());
    }
    let owners = sqlx::query(ATTACHMENT_OWNERS)
        .bind(list)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    Err(cityops_store_sql::versions::attachment_claim_failure::<
        Sqlite,
    >(case_id, ids, linked, &owners))
}

/// Runs one `jsonb_each` bulk INSERT per chunk of rows, each row a JSON array in column order.
/// The next chunk is built (hashed, serialised) while SQLite inserts the current one on its
/// worker thread.
async fn bulk_insert<T>(
    conn: &mut SqliteConnection,
    sql: &'static str,
    rows: &[T],
    mut row: impl FnMut(&T, &mut String) -> Result<()>,
) -> Result<()> {
    let mut build = |chunk: &[T]| -> Result<String> {
        let mut json = String::with_capacity(chunk.len() * 256);
        json.push('[');
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            row(r, &mut json)?;
        }
        json.push(']');
        Ok(json)
    };
    let mut chunks = rows.chunks(BULK_CHUNK);
    let Some(first) = chunks.next() else {
        return Ok(());
    };
    let mut current = build(first)?;
    loop {
        let following = chunks.next();
        let insert = sqlx::query(sql).bind(current).execute(&mut *conn);
        let (done, next) = tokio::join!(insert, async { following.map(&mut build).transpose() });
        done.map_err(db_err)?;
        match next? {
            Some(json) => current = json,
            None => return Ok(()),
        }
    }
}

fn push_json<T: serde::Serialize>(out: &mut String, v: &T) -> Result<()> {
    let s = serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))?;
    out.push_str(&s);
    Ok(())
}

/// Appends many events after (`seq`, `prev`), hashing each from the one before, in bulk; returns
/// the new head.
pub(crate) async fn bulk_events(
    conn: &mut SqliteConnection,
    events: &[NewCaseEvent],
    mut seq: i64,
    mut prev: String,
) -> Result<(i64, String)> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = sql(&SQL, || bulk_sql("case_events", EVENT_COLUMNS));
    bulk_insert(conn, sql, events, |e, out| {
        seq += 1;
        let v = EventValues::new(seq, e, std::mem::take(&mut prev))?;
        push_json(
            out,
            &(
                v.seq,
                e.case_id,
                &e.action,
                e.actor_id,
                e.actor_role.map(Role::as_str),
                &v.at,
                e.from_status.map(CaseStatus::as_str),
                e.to_status.as_str(),
                &e.comment,
                &v.attachments,
                &v.data,
                &v.prev_hash,
                &v.hash,
            ),
        )?;
        prev = v.hash;
        Ok(())
    })
    .await?;
    Ok((seq, prev))
}

/// Inserts many notifications (each with its own case id) in bulk.
pub(crate) async fn bulk_notifications(
    conn: &mut SqliteConnection,
    notify: &[NewNotification],
) -> Result<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = sql(&SQL, || bulk_sql("notifications", NOTIFICATION_COLUMNS));
    bulk_insert(conn, sql, notify, |n, out| {
        let (user, dept, role, region) = recipient_columns(&n.recipient);
        push_json(
            out,
            &(
                user,
                dept,
                role,
                region,
                n.case_id,
                &n.action,
                &n.title,
                ts(n.created_at),
            ),
        )
    })
    .await
}

/// Inserts many (user, case) followers in bulk.
pub(crate) async fn bulk_followers(
    conn: &mut SqliteConnection,
    followers: &[(i64, i64)],
) -> Result<()> {
    bulk_insert(
        conn,
        "INSERT INTO case_followers (case_id, user_id) SELECT value->>1, value->>0 FROM jsonb_each(?) \
         WHERE true ON CONFLICT (case_id, user_id) DO NOTHING",
        followers,
        |f, out| push_json(out, f),
    )
    .await
}

/// Raises the daily code sequences to at least the given numbers.
pub(crate) async fn bulk_code_seq(
    conn: &mut SqliteConnection,
    days: &[(String, i64)],
) -> Result<()> {
    bulk_insert(
        conn,
        "INSERT INTO case_code_seq (day, last) SELECT value->>0, value->>1 FROM jsonb_each(?) \
         WHERE true ON CONFLICT (day) DO UPDATE SET last = max(last, excluded.last)",
        days,
        |d, out| push_json(out, d),
    )
    .await
}

/// Inserts many cases (ids, codes and versions given) with bound values (the coordinates must
/// stay bit-exact, so they are bound, not parsed from text); the next chunk's statement is built
/// while SQLite inserts the current one.
pub(crate) async fn bulk_cases(conn: &mut SqliteConnection, cases: &[Case]) -> Result<()> {
    const CHUNK: usize = 1000; // 27 values a row; SQLite allows 32,766
    let build = |chunk: &[Case]| -> Result<QueryBuilder<Sqlite>> {
        let projections = chunk.iter().map(project).collect::<Result<Vec<_>>>()?;
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "INSERT INTO cases (id, code, version, {PROJECTED}) "
        ));
        qb.push_values(chunk.iter().zip(projections), |mut b, (c, p)| {
            b.push_bind(c.id)
                .push_bind(c.code.as_str())
                .push_bind(c.version);
            crate::case_rows::push_projection(&mut b, p);
        });
        Ok(qb)
    };
    let mut chunks = cases.chunks(CHUNK);
    let Some(first) = chunks.next() else {
        return Ok(());
    };
    let mut current = build(first)?;
    loop {
        let following = chunks.next();
        let (done, next) = tokio::join!(current.build().execute(&mut *conn), async {
            following.map(build).transpose()
        });
        done.map_err(db_err)?;
        match next? {
            Some(qb) => current = qb,
            None => break,
        }
    }
    index_texts(conn, cases).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_have_one_placeholder_per_column() {
        let columns = PROJECTED.split(',').count();
        assert_eq!(columns, 24);
        assert_eq!(PROJECTED_SET.matches('?').count(), columns);
        assert_eq!(insert_case_sql().matches('?').count(), columns + 3);
        assert_eq!(insert_event_sql().matches('?').count(), 13);
        assert_eq!(insert_notification_sql().matches('?').count(), 8);
        assert!(
            bulk_sql("t", "a, b, c")
                .ends_with("SELECT value->>0, value->>1, value->>2 FROM jsonb_each(?)")
        );
    }
}
