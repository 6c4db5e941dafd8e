//! Versions of the responsibility matrix and the holiday schedule (`config_versions`), written
//! once for both stores: the version row a change adds inside its own transaction, the content
//! (a JSON array of the rules or days, the whole state after the change), and the reads.
//! Each store opens the transaction and supplies only its tuned writes ([`ConfigWrites`]); the
//! change itself is written once here.
use cityops_store::{
    CalendarDay, ConfigChange, ConfigSubject, ConfigVersion, Page, PageRequest, Result,
    RoutingRule, StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::versions::{Cached, bump_sql};
use crate::workflow::{calendar_day, validate_days};
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, parse};

/// The columns a version (without content) is decoded from, over `config_versions v` joined
/// with `users u`.
const VERSION_SELECT: &str = "SELECT v.id, v.subject, v.user_id, u.username, u.display_name, \
     v.at, v.summary, v.restored_from, v.items FROM config_versions v \
     LEFT JOIN users u ON u.id = v.user_id";

/// Decodes a version row of [`VERSION_SELECT`].
fn version<D: Dialect>(row: &D::Row) -> Result<ConfigVersion> {
    let r = Cols::<D>(row);
    let subject: String = r.get("subject")?;
    Ok(ConfigVersion {
        id: r.get("id")?,
        subject: parse::<ConfigSubject>("configuration subject", &subject)?,
        user_id: r.get("user_id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        at: D::ts(row, "at")?,
        summary: r.get("summary")?,
        restored_from: r.get("restored_from")?,
        items: r.get("items")?,
    })
}

/// The rules in the order `RoutingRepo::routing_rules` lists them (bytewise, as the key columns
/// sort on both stores).
pub fn sorted_rules(rules: &[RoutingRule]) -> Vec<RoutingRule> {
    let mut out = rules.to_vec();
    out.sort_by(|a, b| {
        (
            a.category_kind.as_str(),
            a.category_code.as_bytes(),
            a.region_code.as_bytes(),
        )
            .cmp(&(
                b.category_kind.as_str(),
                b.category_code.as_bytes(),
                b.region_code.as_bytes(),
            ))
    });
    out
}

/// The content of a version: a JSON array.
pub fn content<T: serde::Serialize>(items: &[T]) -> Result<String> {
    serde_json::to_string(items)
        .map_err(|e| StoreError::Database(format!("cannot encode a version's content: {e}")))
}

/// Reads the content of a version back.
pub fn parse_content<T: serde::de::DeserializeOwned>(id: i64, text: &str) -> Result<Vec<T>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Database(format!("unreadable content of version {id}: {e}")))
}

/// Adds a version of `subject` holding `content` (`items` entries), made by `change`, on the
/// caller's transaction; returns it.
pub async fn insert_version<D: Dialect>(
    conn: &mut D::Connection,
    subject: ConfigSubject,
    change: &ConfigChange,
    restored_from: Option<i64>,
    items: usize,
    content: String,
) -> Result<ConfigVersion> {
    let items = i64::try_from(items).unwrap_or(i64::MAX);
    let q = sqlx::query(
        "INSERT INTO config_versions (subject, user_id, at, summary, restored_from, items, content) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .arg(subject.as_str())
    .arg(change.user_id);
    let q = D::arg_ts(q, change.at)
        .arg(change.summary.clone())
        .arg(restored_from)
        .arg(items)
        .arg(content);
    let rows = D::fetch_all_on(&mut *conn, q).await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    let id: i64 = Cols::<D>(row).get("id")?;
    let mut q = QueryBuilder::<D>::new(VERSION_SELECT);
    q.push(" WHERE v.id = ").bind(id);
    let rows = D::fetch_all_on(conn, q.build()).await?;
    version::<D>(rows.first().ok_or(StoreError::NotFound)?)
}

/// The content of version `id` of `subject`, on the caller's transaction (`NotFound` when there
/// is no such version of that subject).
pub async fn version_content_on<D: Dialect>(
    conn: &mut D::Connection,
    subject: ConfigSubject,
    id: i64,
) -> Result<String> {
    let q = sqlx::query("SELECT content FROM config_versions WHERE id = $1 AND subject = $2")
        .arg(id)
        .arg(subject.as_str());
    let rows = D::fetch_all_on(conn, q).await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    Cols::<D>(row).get("content")
}

/// The whole holiday schedule by date, on the caller's transaction.
pub async fn calendar_days_on<D: Dialect>(conn: &mut D::Connection) -> Result<Vec<CalendarDay>> {
    D::fetch_all_on(
        conn,
        sqlx::query("SELECT date, kind, name FROM calendar_days ORDER BY date"),
    )
    .await?
    .iter()
    .map(calendar_day::<D>)
    .collect()
}

/// `RoutingRepo::routing_versions` / `CalendarRepo::calendar_versions`: newest first.
pub async fn versions<D: Dialect>(
    pool: &Pool<D>,
    subject: ConfigSubject,
    page: PageRequest,
) -> Result<Page<ConfigVersion>> {
    paged(
        pool,
        VERSION_SELECT,
        "FROM config_versions v",
        |q: &mut QueryBuilder<D>| {
            q.push(" AND v.subject = ").bind(subject.as_str());
        },
        " ORDER BY v.id DESC",
        page,
        version::<D>,
    )
    .await
}

/// One version of `subject` with its content, decoded.
async fn version_with_content<D: Dialect, T: serde::de::DeserializeOwned>(
    pool: &Pool<D>,
    subject: ConfigSubject,
    id: i64,
) -> Result<Option<(ConfigVersion, Vec<T>)>> {
    let mut q = QueryBuilder::<D>::new(VERSION_SELECT.replace(" FROM", ", v.content FROM"));
    q.push(" WHERE v.id = ")
        .bind(id)
        .push(" AND v.subject = ")
        .bind(subject.as_str());
    let Some(row) = D::fetch_optional(pool, q.build()).await? else {
        return Ok(None);
    };
    let text: String = Cols::<D>(&row).get("content")?;
    Ok(Some((version::<D>(&row)?, parse_content(id, &text)?)))
}

/// `RoutingRepo::routing_version`.
pub async fn routing_version<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
) -> Result<Option<(ConfigVersion, Vec<RoutingRule>)>> {
    version_with_content(pool, ConfigSubject::Routing, id).await
}

/// `CalendarRepo::calendar_version`.
pub async fn calendar_version<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
) -> Result<Option<(ConfigVersion, Vec<CalendarDay>)>> {
    version_with_content(pool, ConfigSubject::Calendar, id).await
}

/// The writes a store does its own (tuned) way when the matrix or the schedule changes; the
/// rest of a change — the cache-version bump, the full reload of the state, the kept version —
/// is written once below ([`replace_routing_on`], [`restore_routing_on`], [`change_calendar_on`],
/// [`restore_calendar_on`]).
pub trait ConfigWrites<D: Dialect> {
    /// Replaces the whole matrix with `rules` (validated, departments checked); no bump.
    fn replace_rules_on<'a>(
        conn: &'a mut D::Connection,
        rules: &'a [RoutingRule],
    ) -> impl Future<Output = Result<()>> + Send + 'a;
    /// Upserts `days` by date; no bump.
    fn upsert_days_on<'a>(
        conn: &'a mut D::Connection,
        days: &'a [CalendarDay],
    ) -> impl Future<Output = Result<()>> + Send + 'a;
}

/// Bumps the cache version of `what` on the caller's transaction. First in every change: on
/// PostgreSQL its row lock orders concurrent changes, so the content a version keeps is the state
/// its own transaction left (SQLite has one writer anyway).
async fn bump_on<D: Dialect>(conn: &mut D::Connection, what: Cached) -> Result<()> {
    D::fetch_all_on(conn, sqlx::query(bump_sql(what))).await?;
    Ok(())
}

/// Replaces the matrix with `rules` (sorted as listed) and keeps the result as a version, on the
/// caller's transaction.
pub async fn replace_routing_on<D: Dialect, W: ConfigWrites<D>>(
    conn: &mut D::Connection,
    rules: &[RoutingRule],
    change: &ConfigChange,
    restored_from: Option<i64>,
) -> Result<ConfigVersion> {
    let rules = sorted_rules(rules);
    let text = content(&rules)?;
    bump_on::<D>(&mut *conn, Cached::Routing).await?;
    W::replace_rules_on(&mut *conn, &rules).await?;
    insert_version::<D>(
        conn,
        ConfigSubject::Routing,
        change,
        restored_from,
        rules.len(),
        text,
    )
    .await
}

/// Puts the matrix of version `id` back in force, kept as a new version that names `id`.
pub async fn restore_routing_on<D: Dialect, W: ConfigWrites<D>>(
    conn: &mut D::Connection,
    id: i64,
    change: &ConfigChange,
) -> Result<ConfigVersion> {
    let text = version_content_on::<D>(&mut *conn, ConfigSubject::Routing, id).await?;
    let rules = parse_content::<RoutingRule>(id, &text)?;
    replace_routing_on::<D, W>(conn, &rules, change, Some(id)).await
}

/// Upserts `days` (validated by the caller) — or, with `replace_all`, makes them the whole
/// schedule — and keeps the whole schedule after the change as a version.
pub async fn change_calendar_on<D: Dialect, W: ConfigWrites<D>>(
    conn: &mut D::Connection,
    days: &[CalendarDay],
    replace_all: bool,
    change: &ConfigChange,
    restored_from: Option<i64>,
) -> Result<ConfigVersion> {
    bump_on::<D>(&mut *conn, Cached::Calendar).await?;
    if replace_all {
        D::fetch_all_on(&mut *conn, sqlx::query("DELETE FROM calendar_days")).await?;
    }
    W::upsert_days_on(&mut *conn, days).await?;
    let all = calendar_days_on::<D>(&mut *conn).await?;
    insert_version::<D>(
        conn,
        ConfigSubject::Calendar,
        change,
        restored_from,
        all.len(),
        content(&all)?,
    )
    .await
}

/// Puts the schedule of version `id` back in force (the whole schedule), kept as a new version.
/// A version holding a day the current rules refuse is refused (`Invalid`).
pub async fn restore_calendar_on<D: Dialect, W: ConfigWrites<D>>(
    conn: &mut D::Connection,
    id: i64,
    change: &ConfigChange,
) -> Result<ConfigVersion> {
    let text = version_content_on::<D>(&mut *conn, ConfigSubject::Calendar, id).await?;
    let days = parse_content::<CalendarDay>(id, &text)?;
    validate_days(&days)?;
    change_calendar_on::<D, W>(conn, &days, true, change, Some(id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_store::CategoryKind;

    #[test]
    fn rules_sort_like_the_key_columns() {
        let r = |kind, cat: &str, region: &str| RoutingRule {
            category_kind: kind,
            category_code: cat.into(),
            region_code: region.into(),
            department_id: 1,
            auto_dispatch: false,
        };
        let got = sorted_rules(&[
            r(CategoryKind::Matter, "01", "441302"),
            r(CategoryKind::Component, "01001", "441300"),
            r(CategoryKind::Matter, "*", "441300"),
            r(CategoryKind::Matter, "01", "441300"),
        ]);
        let keys: Vec<(&str, &str)> = got
            .iter()
            .map(|r| (r.category_code.as_str(), r.region_code.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("01001", "441300"),
                ("*", "441300"),
                ("01", "441300"),
                ("01", "441302")
            ]
        );
        let text = content(&got).unwrap();
        assert_eq!(parse_content::<RoutingRule>(1, &text).unwrap(), got);
        assert!(parse_content::<RoutingRule>(1, "{").is_err());
    }
}
