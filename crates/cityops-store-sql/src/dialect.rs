//! The [`Dialect`] trait and its two implementations.
use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use cityops_store::Result;
use sqlx::query::Query;
use sqlx::{Database, Pool, QueryBuilder};

/// Arguments of a query of dialect `D`.
pub type Args<D> = <D as Database>::Arguments;

/// Reads a column as `T` (implemented for every type the driver decodes).
pub trait Decodes<T>: Database {
    /// The value of column `col`.
    fn decode(row: &Self::Row, col: &str) -> Result<T>;
}

/// Binds a `T` (implemented for every type the driver encodes).
pub trait Binds<T>: Database {
    /// Appends `v` as a placeholder to a built query.
    fn push(q: &mut QueryBuilder<Self>, v: T);
    /// Binds `v` as the next argument of a query with written placeholders.
    fn arg(q: Query<'_, Self, Args<Self>>, v: T) -> Query<'_, Self, Args<Self>>;
}

/// What differs between the SQL dialects of the two stores. Everything else is written once,
/// generic over `D: Dialect`.
pub trait Dialect:
    Database
    + sqlx::database::HasStatementCache
    + Decodes<String>
    + Decodes<Option<String>>
    + Decodes<i64>
    + Decodes<Option<i64>>
    + Decodes<i32>
    + Decodes<f64>
    + Decodes<Option<f64>>
    + Decodes<bool>
    + Decodes<NaiveDate>
    + Binds<String>
    + Binds<&'static str>
    + Binds<Option<String>>
    + Binds<i64>
    + Binds<i32>
    + Binds<Option<i64>>
    + Binds<f64>
    + Binds<bool>
{
    /// A timestamp column (SQLite: fixed-width RFC 3339 text; PostgreSQL: `timestamptz`).
    fn ts(row: &Self::Row, col: &str) -> Result<DateTime<Utc>>;
    /// A nullable timestamp column.
    fn opt_ts(row: &Self::Row, col: &str) -> Result<Option<DateTime<Utc>>>;
    /// Appends a timestamp placeholder.
    fn push_ts(q: &mut QueryBuilder<Self>, t: DateTime<Utc>);
    /// Binds a timestamp as the next argument.
    fn arg_ts(q: Query<'_, Self, Args<Self>>, t: DateTime<Utc>) -> Query<'_, Self, Args<Self>>;
    /// A list of strings (SQLite: JSON text; PostgreSQL: `text[]`).
    fn list(row: &Self::Row, col: &str) -> Result<Vec<String>>;
    /// Binds a list of strings as the next argument, stored as [`Dialect::list`] reads it.
    fn arg_list<'q>(q: Query<'q, Self, Args<Self>>, items: &[&str]) -> Query<'q, Self, Args<Self>>;

    /// `<column> starts with <prefix>`, exactly (any characters).
    fn push_starts_with(q: &mut QueryBuilder<Self>, column: &str, prefix: &str);
    /// `<expr> contains <text>`: literal (wildcards escaped), case-insensitive for Latin letters,
    /// exact for everything else (Chinese has no case).
    fn push_contains(q: &mut QueryBuilder<Self>, expr: &str, text: &str);
    /// `SELECT <case id> FROM …`: the cases whose searchable text contains `folded`
    /// ([`crate::search`]; `folded` is folded and not empty), from the text index alone.
    fn push_text_ids(q: &mut QueryBuilder<Self>, folded: &str);
    /// `<the searchable text of case c contains folded>`: `c.id IN (`[`Dialect::push_text_ids`]`)`.
    /// `driving`: few cases match, so the index's matches should drive the query; otherwise the
    /// index only filters what another index (the sort's, the scope's) yields.
    fn push_text_match(q: &mut QueryBuilder<Self>, folded: &str, driving: bool);
    /// Whether the dialect counts the text index's matches to choose the plan (SQLite) or
    /// leaves that to its planner's statistics (PostgreSQL).
    const COUNTS_TEXT_HITS: bool;
    /// `(c.id of a case user follows)`, as the scope's last alternative (see
    /// `cases::push_visibility`): a form the dialect answers from an index inside an OR.
    fn push_followed(q: &mut QueryBuilder<Self>, user_id: i64);
    /// `<column> IN <values>` for a non-empty list of strings.
    fn push_in_strs(q: &mut QueryBuilder<Self>, column: &str, values: &[&str]);
    /// `<column> IN <ids>` for a list of ids, as one bound value (one cached statement whatever
    /// the length).
    fn push_in_ids(q: &mut QueryBuilder<Self>, column: &str, ids: &[i64]);
    /// `<the users row's role list holds role>`.
    fn push_has_role(q: &mut QueryBuilder<Self>, roles_column: &str, role: &str);
    /// The top-level field `field` of case c's JSON document as SQL text (`NULL` when it is
    /// JSON `null` or absent; `true`/`false` as `'1'`/`'0'`): for the work-queue flags that have
    /// no projected column (`cases::push_flag`).
    fn push_doc_field(q: &mut QueryBuilder<Self>, field: &'static str);

    /// Runs a query; all rows.
    fn fetch_all<'a>(
        pool: &'a Pool<Self>,
        q: Query<'a, Self, Args<Self>>,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send + 'a;
    /// Runs a query; at most one row.
    fn fetch_optional<'a>(
        pool: &'a Pool<Self>,
        q: Query<'a, Self, Args<Self>>,
    ) -> impl Future<Output = Result<Option<Self::Row>>> + Send + 'a;
    /// Runs a query; exactly one row (`NotFound` otherwise).
    fn fetch_one<'a>(
        pool: &'a Pool<Self>,
        q: Query<'a, Self, Args<Self>>,
    ) -> impl Future<Output = Result<Self::Row>> + Send + 'a;
    /// Runs a query on a connection (inside a transaction); all rows.
    fn fetch_all_on<'a>(
        conn: &'a mut Self::Connection,
        q: Query<'a, Self, Args<Self>>,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send + 'a;
    /// Runs a statement; the number of rows it changed.
    fn execute<'a>(
        pool: &'a Pool<Self>,
        q: Query<'a, Self, Args<Self>>,
    ) -> impl Future<Output = Result<u64>> + Send + 'a;
}

/// A row of dialect `D`, read column by column: `Cols::<D>(row).get("code")?`.
pub struct Cols<'r, D: Database>(pub &'r D::Row);

impl<D: Database> Cols<'_, D> {
    /// The value of column `col`.
    pub fn get<T>(&self, col: &str) -> Result<T>
    where
        D: Decodes<T>,
    {
        D::decode(self.0, col)
    }
}

/// `push_bind` for generic code: `q.push(" AND x = ").bind(v)`.
pub trait QueryBuilderExt<D: Database> {
    /// Appends `v` as a placeholder.
    fn bind<T>(&mut self, v: T) -> &mut Self
    where
        D: Binds<T>;
}

impl<D: Database> QueryBuilderExt<D> for QueryBuilder<D> {
    fn bind<T>(&mut self, v: T) -> &mut Self
    where
        D: Binds<T>,
    {
        <D as Binds<T>>::push(self, v);
        self
    }
}

/// `bind` for generic code on a query with written (`$N`) placeholders: `.arg(v)`.
pub trait QueryExt<D: Database>: Sized {
    /// Binds `v` as the next argument.
    fn arg<T>(self, v: T) -> Self
    where
        D: Binds<T>;
}

impl<D: Database> QueryExt<D> for Query<'_, D, Args<D>> {
    fn arg<T>(self, v: T) -> Self
    where
        D: Binds<T>,
    {
        <D as Binds<T>>::arg(self, v)
    }
}

/// The blanket `Decodes`/`Binds` impls and the executor methods of a driver.
macro_rules! driver {
    ($db:ty) => {
        impl<T> Decodes<T> for $db
        where
            T: for<'r> sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            fn decode(row: &<$db as Database>::Row, col: &str) -> Result<T> {
                sqlx::Row::try_get(row, col).map_err(crate::db_err)
            }
        }

        impl<T> Binds<T> for $db
        where
            T: for<'t> sqlx::Encode<'t, $db> + sqlx::Type<$db>,
        {
            fn push(q: &mut QueryBuilder<$db>, v: T) {
                q.push_bind(v);
            }
            fn arg(q: Query<'_, $db, Args<$db>>, v: T) -> Query<'_, $db, Args<$db>> {
                q.bind(v)
            }
        }
    };
}

/// The executor methods of [`Dialect`] for a driver (identical text, concrete types).
macro_rules! executors {
    ($db:ty) => {
        fn fetch_all<'a>(
            pool: &'a Pool<$db>,
            q: Query<'a, $db, Args<$db>>,
        ) -> impl Future<Output = Result<Vec<<$db as Database>::Row>>> + Send + 'a {
            async move { q.fetch_all(pool).await.map_err(crate::db_err) }
        }

        fn fetch_optional<'a>(
            pool: &'a Pool<$db>,
            q: Query<'a, $db, Args<$db>>,
        ) -> impl Future<Output = Result<Option<<$db as Database>::Row>>> + Send + 'a {
            async move { q.fetch_optional(pool).await.map_err(crate::db_err) }
        }

        fn fetch_one<'a>(
            pool: &'a Pool<$db>,
            q: Query<'a, $db, Args<$db>>,
        ) -> impl Future<Output = Result<<$db as Database>::Row>> + Send + 'a {
            async move { q.fetch_one(pool).await.map_err(crate::db_err) }
        }

        fn fetch_all_on<'a>(
            conn: &'a mut <$db as Database>::Connection,
            q: Query<'a, $db, Args<$db>>,
        ) -> impl Future<Output = Result<Vec<<$db as Database>::Row>>> + Send + 'a {
            async move { q.fetch_all(conn).await.map_err(crate::db_err) }
        }

        fn execute<'a>(
            pool: &'a Pool<$db>,
            q: Query<'a, $db, Args<$db>>,
        ) -> impl Future<Output = Result<u64>> + Send + 'a {
            async move {
                Ok(q.execute(pool)
                    .await
                    .map_err(crate::db_err)?
                    .rows_affected())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use chrono::SecondsFormat;
    use sqlx::Sqlite;
    use sqlx::sqlite::SqliteRow;

    use super::*;
    use crate::corrupt;

    driver!(Sqlite);

    /// Fixed-width RFC 3339 UTC text (microseconds, `Z`): text order equals time order.
    pub fn ts_text(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    fn parse_ts(col: &str, value: &str) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| corrupt(col, value))
    }

    /// The FTS5 subquery of the case ids whose text contains `folded`, and its bound value: a
    /// phrase of trigrams from 3 characters on, else one term of `case_grams`.
    fn text_subquery(folded: &str) -> (&'static str, String) {
        if folded.chars().count() >= 3 {
            (
                "SELECT rowid FROM case_trigram WHERE case_trigram MATCH ",
                crate::search::fts_phrase(folded),
            )
        } else {
            (
                "SELECT rowid FROM case_grams WHERE case_grams MATCH ",
                crate::search::fts_phrase(&crate::search::gram_token(folded)),
            )
        }
    }

    impl Dialect for Sqlite {
        const COUNTS_TEXT_HITS: bool = true;

        fn push_text_ids(q: &mut QueryBuilder<Sqlite>, folded: &str) {
            let (sub, arg) = text_subquery(folded);
            q.push(sub).push_bind(arg);
        }

        /// Not driving, `+c.id` keeps SQLite from looking the matches up one by one (the sort's
        /// or the scope's index drives, the matches filter).
        fn push_text_match(q: &mut QueryBuilder<Sqlite>, folded: &str, driving: bool) {
            q.push(if driving { "c.id IN (" } else { "+c.id IN (" });
            Self::push_text_ids(q, folded);
            q.push(")");
        }

        fn push_followed(q: &mut QueryBuilder<Sqlite>, user_id: i64) {
            q.push("c.id IN (SELECT f.case_id FROM case_followers f WHERE f.user_id = ")
                .push_bind(user_id)
                .push(")");
        }

        fn ts(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>> {
            let text: String = Cols::<Sqlite>(row).get(col)?;
            parse_ts(col, &text)
        }

        fn opt_ts(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
            let text: Option<String> = Cols::<Sqlite>(row).get(col)?;
            text.as_deref().map(|t| parse_ts(col, t)).transpose()
        }

        fn push_ts(q: &mut QueryBuilder<Sqlite>, t: DateTime<Utc>) {
            q.push_bind(ts_text(t));
        }

        fn arg_ts(
            q: Query<'_, Sqlite, Args<Sqlite>>,
            t: DateTime<Utc>,
        ) -> Query<'_, Sqlite, Args<Sqlite>> {
            q.bind(ts_text(t))
        }

        fn list(row: &SqliteRow, col: &str) -> Result<Vec<String>> {
            let text: String = Cols::<Sqlite>(row).get(col)?;
            serde_json::from_str(&text).map_err(|_| corrupt(col, &text))
        }

        fn arg_list<'q>(
            q: Query<'q, Sqlite, Args<Sqlite>>,
            items: &[&str],
        ) -> Query<'q, Sqlite, Args<Sqlite>> {
            // A list of strings always encodes.
            q.bind(serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string()))
        }

        fn push_starts_with(q: &mut QueryBuilder<Sqlite>, column: &str, prefix: &str) {
            q.push(format_args!("substr({column}, 1, "))
                .push_bind(prefix.chars().count() as i64)
                .push(") = ")
                .push_bind(prefix.to_string());
        }

        /// SQLite's `LIKE` folds ASCII letters (and nothing else) unless `case_sensitive_like`
        /// is set, which this store never does.
        fn push_doc_field(q: &mut QueryBuilder<Sqlite>, field: &'static str) {
            // json_extract gives SQL NULL for JSON null and 1/0 for true/false.
            q.push(format_args!(
                "CAST(json_extract(c.doc, '$.{field}') AS TEXT)"
            ));
        }

        fn push_contains(q: &mut QueryBuilder<Sqlite>, expr: &str, text: &str) {
            q.push(format_args!("{expr} LIKE "))
                .push_bind(crate::like_contains(text))
                .push(" ESCAPE '\\'");
        }

        fn push_in_strs(q: &mut QueryBuilder<Sqlite>, column: &str, values: &[&str]) {
            q.push(format_args!("{column} IN ("));
            let mut sep = q.separated(", ");
            for v in values {
                sep.push_bind(v.to_string());
            }
            q.push(")");
        }

        fn push_in_ids(q: &mut QueryBuilder<Sqlite>, column: &str, ids: &[i64]) {
            // A JSON array of integers cannot fail to encode.
            let list = format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            q.push(format_args!("{column} IN (SELECT value FROM json_each("))
                .push_bind(list)
                .push("))");
        }

        fn push_has_role(q: &mut QueryBuilder<Sqlite>, roles_column: &str, role: &str) {
            q.push(format_args!(
                "EXISTS (SELECT 1 FROM json_each({roles_column}) r WHERE r.value = "
            ))
            .push_bind(role.to_string())
            .push(")");
        }

        executors!(Sqlite);
    }
}

#[cfg(feature = "sqlite")]
pub use sqlite::ts_text;

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::Postgres;
    use sqlx::postgres::PgRow;

    use super::*;

    driver!(Postgres);

    impl Dialect for Postgres {
        const COUNTS_TEXT_HITS: bool = false;

        /// The `case_text` rows whose grams contain the query's: one gram (exact) up to 3
        /// characters, else the query's trigrams and a `strpos` recheck.
        fn push_text_ids(q: &mut QueryBuilder<Postgres>, folded: &str) {
            let long = folded.chars().count() > 3;
            let keys = if long {
                crate::search::query_trigrams(folded)
            } else {
                vec![folded.to_string()]
            };
            q.push("SELECT t.case_id FROM case_text t WHERE t.grams @> ")
                .push_bind(keys)
                .push("::text[]");
            if long {
                q.push(" AND (strpos(t.code, ")
                    .push_bind(folded.to_string())
                    .push(") > 0 OR strpos(t.description, ")
                    .push_bind(folded.to_string())
                    .push(") > 0 OR strpos(t.address, ")
                    .push_bind(folded.to_string())
                    .push(") > 0)");
            }
        }

        fn push_text_match(q: &mut QueryBuilder<Postgres>, folded: &str, _driving: bool) {
            q.push("c.id IN (");
            Self::push_text_ids(q, folded);
            q.push(")");
        }

        /// An array of the followed ids (an InitPlan, computed once): `c.id = ANY(…)` is a
        /// bitmap index scan of the primary key, so the scope's OR is a `BitmapOr`.
        fn push_followed(q: &mut QueryBuilder<Postgres>, user_id: i64) {
            q.push("c.id = ANY(ARRAY(SELECT f.case_id FROM case_followers f WHERE f.user_id = ")
                .push_bind(user_id)
                .push("))");
        }

        fn ts(row: &PgRow, col: &str) -> Result<DateTime<Utc>> {
            Cols::<Postgres>(row).get(col)
        }

        fn opt_ts(row: &PgRow, col: &str) -> Result<Option<DateTime<Utc>>> {
            Cols::<Postgres>(row).get(col)
        }

        fn push_ts(q: &mut QueryBuilder<Postgres>, t: DateTime<Utc>) {
            q.push_bind(t);
        }

        fn arg_ts(
            q: Query<'_, Postgres, Args<Postgres>>,
            t: DateTime<Utc>,
        ) -> Query<'_, Postgres, Args<Postgres>> {
            q.bind(t)
        }

        fn list(row: &PgRow, col: &str) -> Result<Vec<String>> {
            Cols::<Postgres>(row).get(col)
        }

        fn arg_list<'q>(
            q: Query<'q, Postgres, Args<Postgres>>,
            items: &[&str],
        ) -> Query<'q, Postgres, Args<Postgres>> {
            q.bind(items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        }

        fn push_doc_field(q: &mut QueryBuilder<Postgres>, field: &'static str) {
            // `->>` gives SQL NULL for JSON null; booleans become '1'/'0' like SQLite's.
            q.push(format_args!(
                "(CASE jsonb_typeof(c.doc::jsonb -> '{field}') WHEN 'boolean' THEN \
                 (CASE WHEN (c.doc::jsonb ->> '{field}')::boolean THEN '1' ELSE '0' END) \
                 ELSE c.doc::jsonb ->> '{field}' END)"
            ));
        }

        fn push_starts_with(q: &mut QueryBuilder<Postgres>, column: &str, prefix: &str) {
            q.push(format_args!("starts_with({column}, "))
                .push_bind(prefix.to_string())
                .push(")");
        }

        fn push_contains(q: &mut QueryBuilder<Postgres>, expr: &str, text: &str) {
            q.push(format_args!("{expr} ILIKE "))
                .push_bind(crate::like_contains(text))
                .push(" ESCAPE E'\\\\'");
        }

        fn push_in_strs(q: &mut QueryBuilder<Postgres>, column: &str, values: &[&str]) {
            q.push(format_args!("{column} = ANY("))
                .push_bind(values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
                .push(")");
        }

        fn push_in_ids(q: &mut QueryBuilder<Postgres>, column: &str, ids: &[i64]) {
            q.push(format_args!("{column} = ANY("))
                .push_bind(ids.to_vec())
                .push(")");
        }

        fn push_has_role(q: &mut QueryBuilder<Postgres>, roles_column: &str, role: &str) {
            q.push_bind(role.to_string())
                .push(format_args!(" = ANY({roles_column})"));
        }

        executors!(Postgres);
    }
}
