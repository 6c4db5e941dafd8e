//! Test support for the CityOps suites (never published; used only as a dev-dependency).
//!
//! - [`postgres`] (feature `postgres`): a fresh PostgreSQL database `cityops_test_<uuid>` per
//!   test, created from `CITYOPS_TEST_POSTGRES_URL` (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`), migrated into a `PgStore` when asked, and
//!   dropped afterwards even when the test panics. Without a server the test prints a notice and
//!   passes, unless `CITYOPS_REQUIRE_POSTGRES=1`, which makes a missing server a failure.
//! - [`sqlite`] (feature `sqlite`): a fresh, migrated SQLite store in memory or in a temporary
//!   file that is removed afterwards.
//! - [`city`] (feature `city`): the small hand-made fixture city (测试城市) of the web, console
//!   and application tests, and its case-workflow extension with a second district.
//!
//! The store conformance suite keeps its own fixture data (`cityops_store_conformance::fixtures`):
//! its stories count and compare rows of that data, and it is a different city.

#[cfg(feature = "city")]
pub mod city;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
