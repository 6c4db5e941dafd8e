//! The repositories whose queries are all shared (`cityops_store_sql::shared_repos!`): regions,
//! catalogue, organisation, sessions, components, inboxes and attachments — reads on the read
//! pool, writes on the single writer.
use crate::SqliteStore;

cityops_store_sql::shared_repos!(SqliteStore, read: read, hot: hot, write: write);

// Cases, the responsibility matrix and the calendar: shared reads on the read pool; the writes
// are the tuned methods of `cases` and `workflow` (group commit, `BEGIN IMMEDIATE`).
cityops_store_sql::shared_case_repos!(SqliteStore, read: read, hot: hot);

// The command centre's figures (领导大屏), on the read pool.
cityops_store_sql::shared_dashboard_repo!(SqliteStore, read: read);
cityops_store_sql::shared_evaluation_repo!(SqliteStore, read: read);

// Third-party review (第三方评价): reads on the read pool, writes on the single writer.
cityops_store_sql::shared_review_repo!(SqliteStore, read: read, write: write);
cityops_store_sql::shared_export_repo!(SqliteStore, read: read, write: write);
cityops_store_sql::shared_report_repo!(SqliteStore, read: read, write: write);

// Open311 (公众诉求开放接口): client keys and request records on the writer, reads on the read pool.
cityops_store_sql::shared_open311_repo!(SqliteStore, read: read, write: write);

// 一码管全域 (management objects, checks, rectifications): writes on the single writer.
cityops_store_sql::shared_object_repo!(SqliteStore, read: read, write: write);
