//! The repositories whose queries are all shared (`cityops_store_sql::shared_repos!`): regions,
//! catalogue, organisation, sessions, components, inboxes and attachments, on the pool.
use crate::PgStore;

cityops_store_sql::shared_repos!(PgStore, read: pool, hot: hot, write: pool);

// Cases, the responsibility matrix and the calendar: shared reads; the writes are the tuned
// methods of `cases` (UNNEST statements under the chain lock, SKIP LOCKED).
cityops_store_sql::shared_case_repos!(PgStore, read: pool, hot: hot);

// The command centre's figures (领导大屏).
cityops_store_sql::shared_dashboard_repo!(PgStore, read: pool);
cityops_store_sql::shared_evaluation_repo!(PgStore, read: pool);

// Third-party review (第三方评价).
cityops_store_sql::shared_review_repo!(PgStore, read: pool, write: pool);
cityops_store_sql::shared_export_repo!(PgStore, read: pool, write: pool);
cityops_store_sql::shared_report_repo!(PgStore, read: pool, write: pool);

// Open311 (公众诉求开放接口).
cityops_store_sql::shared_open311_repo!(PgStore, read: pool, write: pool);

// 一码管全域 (management objects, checks, rectifications).
cityops_store_sql::shared_object_repo!(PgStore, read: pool, write: pool);
