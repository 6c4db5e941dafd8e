//! What the SQLite and PostgreSQL stores share, written once: row decoding, the case projection
//! (the columns computed from a `Case`), case codes and their daily limit, paging, and the read
//! queries of every repository. Write paths tuned per backend (SQLite's group-commit intake and
//! `jsonb_each` bulk inserts; PostgreSQL's `UNNEST` statements, chain lock and `SKIP LOCKED`)
//! stay in the store crates and use the projection and codes from here.
//!
//! Design: the shared functions are generic over a small [`Dialect`] trait, implemented for
//! `sqlx::Sqlite` and `sqlx::Postgres` (behind the `sqlite` / `postgres` features, so each store
//! compiles only its driver). SQL is built with [`sqlx::QueryBuilder`] (placeholders come from
//! `push_bind`) or written once with `$N` placeholders, which both drivers number the same way.
//! The dialect supplies only what really differs:
//!
//! - how a timestamp is stored (SQLite: fixed-width RFC 3339 UTC text, so text order is time
//!   order; PostgreSQL: `timestamptz`) and a string list (SQLite: JSON text; PostgreSQL: `text[]`);
//! - a prefix test (`substr` vs `starts_with`), a case-insensitive literal "contains" (`LIKE`,
//!   which SQLite folds for ASCII, vs `ILIKE`, and their `ESCAPE` syntax), the case text search
//!   ([`search`]: FTS5 vs a GIN index of n-grams), and membership in a bound list of ids, roles
//!   or a stored role list;
//! - running a built query on a pool.
//!
//! Why a trait rather than a query builder crate (sea-query) or a macro: the SQL is plain and
//! mostly identical, the differences are a dozen small fragments, and generic functions keep
//! ordinary type checking, error messages and rustdoc; the dialect's blanket [`Decodes`] /
//! [`Binds`] impls spare the generic code the usual wall of sqlx `where` bounds. Monomorphised per
//! backend, the generic code costs nothing at run time: no extra round trip, no boxing.
//!
//! The trait impls themselves are expanded in each store crate from `macro_rules!`
//! ([`shared_admin!`], [`shared_repos!`], [`shared_case_repos!`], [`shared_dashboard_repo!`],
//! [`shared_review_repo!`], [`shared_report_repo!`]): every shared method delegates
//! here on the store's read (or write) pool, and the tuned writes (`store_new_case`,
//! `store_transition`, `store_marks`, `store_history`, `store_routing_rules`,
//! `store_calendar_days`) stay inherent methods of each store. So a trait method's signature is
//! written once, and a store crate holds only what is really its own.
//!
//! Hot paths: `create_case` costs what it did (the projection and the code are computed once,
//! timestamps turned into SQLite text at bind time as before); the statements that were cached
//! strings (`duplicate_points`, `audit_events`, attachments) are `const` SQL with `$N`
//! placeholders, prepared once per connection by both drivers.
//!
//! Invariants: every value is bound, never formatted into SQL; a stage clock is projected only
//! for an open case ([`cases::project`]); a case code is `YYYYMMDD` + 5 digits and the
//! 100,000th case of a day is refused ([`cases::case_code`]); every list has a total order (a
//! unique column last), so both stores return equal pages.

pub mod access_log;
pub mod cases;
pub mod changes;
pub mod dashboard;
mod dialect;
pub mod evaluation;
pub mod export;
pub mod follow;
pub mod group;
pub mod import;
mod macros;
pub mod monitoring;
pub mod objects;
pub mod open311;
pub mod poi;
pub mod read;
pub mod report;
pub mod review;
pub mod rows;
pub mod search;
pub mod versions;
pub mod workflow;
pub mod writes;

#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;
#[cfg(feature = "sqlite")]
pub use dialect::ts_text;
pub use dialect::{Args, Binds, Cols, Decodes, Dialect, QueryBuilderExt, QueryExt};

use cityops_store::StoreError;

/// Maps a driver error: unique violations → `Conflict`; foreign-key, check and not-null
/// violations → `Invalid`; `RowNotFound` → `NotFound`; anything else → `Database`.
pub fn db_err(e: sqlx::Error) -> StoreError {
    use sqlx::error::ErrorKind;
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(d.message().to_string()),
            ErrorKind::ForeignKeyViolation
            | ErrorKind::CheckViolation
            | ErrorKind::NotNullViolation => StoreError::Invalid(d.message().to_string()),
            _ => StoreError::Database(e.to_string()),
        },
        _ => StoreError::Database(e.to_string()),
    }
}

/// A value read from the database that the domain does not accept.
pub fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("unexpected {what} {value:?} in the database"))
}

/// Parses a stored value, or names it as corrupt.
pub fn parse<T: std::str::FromStr>(what: &str, value: &str) -> cityops_store::Result<T> {
    value.parse().map_err(|_| corrupt(what, value))
}

/// `%text%` for a `LIKE`/`ILIKE … ESCAPE '\'` pattern, with the wildcards of `text` escaped (so
/// `%`, `_` and `\` match themselves).
pub fn like_contains(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The smallest string greater than every string that starts with `prefix` (bytewise), when
/// there is a simple one: the prefix with its last ASCII character incremented.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !prefix.is_ascii() || last >= 0x7e {
        return None;
    }
    let mut end = prefix[..prefix.len() - 1].to_string();
    end.push(char::from(last + 1));
    Some(end)
}

/// `(<column> starts with <prefix>)`: a range over a bytewise-ordered column where there is one
/// (index-friendly: SQLite's BINARY, PostgreSQL's `COLLATE "C"` code columns), else the dialect's
/// exact prefix test.
pub fn push_prefix<D: Dialect>(q: &mut sqlx::QueryBuilder<D>, column: &str, prefix: &str) {
    match prefix_end(prefix) {
        Some(end) => {
            q.push(format_args!("({column} >= "))
                .bind(prefix.to_string())
                .push(format_args!(" AND {column} < "))
                .bind(end)
                .push(")");
        }
        None => {
            q.push("(");
            D::push_starts_with(q, column, prefix);
            q.push(")");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("惠城"), "%惠城%");
        assert_eq!(like_contains("10%_a\\b"), "%10\\%\\_a\\\\b%");
    }

    #[test]
    fn prefix_ranges_cover_exactly_the_prefix() {
        assert_eq!(prefix_end("4413").as_deref(), Some("4414"));
        assert_eq!(prefix_end("441309").as_deref(), Some("44130:"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("区"), None);
        let (p, end) = ("441309", prefix_end("441309").unwrap());
        for code in ["441309", "441309001", "4413099"] {
            assert!(code >= p && code < end.as_str(), "{code}");
        }
        for code in ["441308999", "44131", "441310001"] {
            assert!(!(code >= p && code < end.as_str()), "{code}");
        }
    }
}
