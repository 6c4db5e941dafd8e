//! 公共服务设施 (points of interest) on PostgreSQL: the shared queries (`cityops_store_sql::poi`),
//! an import in one transaction.
use crate::PgStore;

cityops_store_sql::shared_poi_repo!(PgStore, read: pool, write: pool);
