//! Migration 0006 on a database that already holds data: existing photos get random public ids,
//! and the routing matrix and holiday schedule found there become their first kept versions,
//! which can be restored.
use std::path::Path;

use cityops_store::{Admin, AttachmentRepo, CalendarRepo, ConfigChange, PageRequest, RoutingRepo};
use cityops_store_sqlite::SqliteStore;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

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
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old");
    std::fs::create_dir(&old).expect("mkdir");
    migrations_before_0006(&old);
    let file = dir.path().join("cityops.db");
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true),
    )
    .await
    .expect("connect");
    Migrator::new(old.as_path())
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("old migrations");
    for sql in [
        "INSERT INTO departments (id, code, name, kind, region_code) VALUES (7, 'd', 'D', 'municipal', '441300')",
        "INSERT INTO routing_rules VALUES ('matter', '*', '441300', 7, 1)",
        "INSERT INTO routing_rules VALUES ('component', '01', '441302', 7, 0)",
        "INSERT INTO calendar_days VALUES ('2026-10-01', 'holiday', '国庆节')",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    for n in 1..=50 {
        sqlx::query(
            "INSERT INTO attachments (sha256, mime, bytes, width, height, thumb_sha256, \
             uploaded_by, created_at) VALUES (?, 'image/jpeg', 1, 1, 1, ?, 1, \
             '2026-01-01T00:00:00.000000Z')",
        )
        .bind(format!("{n:064x}"))
        .bind(format!("{:064x}", n + 1000))
        .execute(&pool)
        .await
        .expect("attachment");
    }
    pool.close().await;

    let store = SqliteStore::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("open");
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
    assert!(rules.iter().any(|r| r.auto_dispatch) && rules.iter().any(|r| !r.auto_dispatch));
    let days = store.calendar_versions(page).await.expect("versions");
    assert_eq!(days.total, 1);
    let (_, kept) = store
        .calendar_version(days.items[0].id)
        .await
        .expect("version")
        .expect("kept");
    assert_eq!(kept, store.calendar_days().await.expect("days"));

    // The baseline can be restored after the matrix was emptied.
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
}
