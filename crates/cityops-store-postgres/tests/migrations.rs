//! Migration 0006 on a database that already holds data: existing photos get random public ids,
//! and the routing matrix and holiday schedule found there become their first kept versions,
//! which can be restored. Skipped without a server unless `CITYOPS_REQUIRE_POSTGRES=1`.
use std::path::Path;

use cityops_store::{Admin, AttachmentRepo, CalendarRepo, ConfigChange, PageRequest, RoutingRepo};
use cityops_store_postgres::PgStore;
use cityops_test_support::postgres::with_empty_database;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// A directory holding the migrations before 0006.
fn migrations_before_0006(into: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(dir).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".sql") && name < "0006" {
            std::fs::copy(&path, into.join(name)).expect("copy migration");
        }
    }
}

#[tokio::test]
async fn migration_0006_backfills_existing_rows() {
    with_empty_database(|url| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        migrations_before_0006(dir.path());
        let pool = PgPool::connect(&url).await.expect("connect");
        Migrator::new(dir.path())
            .await
            .expect("migrator")
            .run(&pool)
            .await
            .expect("old migrations");
        for sql in [
            "INSERT INTO departments (id, code, name, kind, region_code) VALUES (7, 'd', 'D', 'municipal', '441300')",
            "INSERT INTO routing_rules VALUES ('matter', '*', '441300', 7, true)",
            "INSERT INTO routing_rules VALUES ('component', '01', '441302', 7, false)",
            "INSERT INTO calendar_days VALUES ('2026-10-01', 'holiday', '国庆节')",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        sqlx::query(
            "INSERT INTO attachments (sha256, mime, bytes, width, height, thumb_sha256, \
             uploaded_by, created_at) SELECT lpad(to_hex(n), 64, '0'), 'image/jpeg', 1, 1, 1, \
             lpad(to_hex(n + 1000), 64, '0'), 1, now() FROM generate_series(1, 50) AS n",
        )
        .execute(&pool)
        .await
        .expect("attachments");
        pool.close().await;

        let store = PgStore::connect(&url).await.expect("open");
        store.migrate().await.expect("0006 on existing data");

        let photos = store.attachments_after(0, 100).await.expect("attachments");
        assert_eq!(photos.len(), 50);
        let mut ids = std::collections::BTreeSet::new();
        for p in &photos {
            let id = uuid::Uuid::parse_str(&p.attachment.public_id).expect("a UUID");
            assert_eq!(id.get_version_num(), 4, "{}", p.attachment.public_id);
            assert_eq!(p.attachment.public_id, id.to_string(), "lower case");
            ids.insert(id);
        }
        assert_eq!(ids.len(), 50, "every photo its own id");

        let page = PageRequest {
            page: 1,
            page_size: 10,
        };
        let versions = store.routing_versions(page).await.expect("versions");
        assert_eq!(versions.total, 1);
        let baseline = &versions.items[0];
        assert_eq!((baseline.items, baseline.user_id), (2, None));
        let (_, rules) = store
            .routing_version(baseline.id)
            .await
            .expect("version")
            .expect("kept");
        assert_eq!(rules, store.routing_rules().await.expect("rules"));
        let days = store.calendar_versions(page).await.expect("versions");
        assert_eq!(days.total, 1);
        let (_, kept) = store
            .calendar_version(days.items[0].id)
            .await
            .expect("version")
            .expect("kept");
        assert_eq!(kept, store.calendar_days().await.expect("days"));

        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("instant");
        store
            .replace_routing_rules(&[], &ConfigChange::new(None, at, "emptied"))
            .await
            .expect("empty");
        store
            .restore_routing_version(baseline.id, &ConfigChange::new(None, at, "restored"))
            .await
            .expect("restore the baseline");
        assert_eq!(store.routing_rules().await.expect("rules"), rules);
        store.close().await;
    })
    .await;
}
