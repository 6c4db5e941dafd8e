//! 公共服务设施 (points of interest) on SQLite: the shared queries (`cityops_store_sql::poi`),
//! reads on the read pool, imports in one transaction on the writer.
use crate::SqliteStore;

cityops_store_sql::shared_poi_repo!(SqliteStore, read: read, write: write);
