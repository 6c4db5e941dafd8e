//! PostgreSQL-specific tests of issue 9: a database with cases from before migration 0007 gets
//! them indexed for text search by the migration, and the contact access log refuses changes
//! behind the store's back (UPDATE, DELETE, TRUNCATE).
use std::borrow::Cow;

use cityops_domain::case::CaseSource;
use cityops_store::{
    AccessLogRepo, Admin, CaseQuery, CaseRepo, CaseVisibility, ContactAccess, ContactAccessQuery,
    ContactAccessVia, PageRequest,
};
use cityops_store_conformance::case_fixtures::{World, at_min, location, new_report};
use cityops_store_postgres::PgStore;
use cityops_test_support::postgres::{with_empty_database, with_store};

/// The store's migrations before 0007, read from the crate's directory.
async fn migrations_before_0007() -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut m = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
    let earlier: Vec<_> = m
        .migrations
        .iter()
        .filter(|x| x.version < 7)
        .cloned()
        .collect();
    assert!(earlier.len() >= 4 && earlier.len() < m.migrations.len());
    m.migrations = Cow::Owned(earlier);
    m
}

#[tokio::test]
async fn cases_from_before_the_index_are_found_after_the_migration() {
    with_empty_database(|url| async move {
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        migrations_before_0007()
            .await
            .run(&pool)
            .await
            .expect("migrations 0001–0004");
        let store = PgStore::connect(&url).await.expect("connect");
        let w = World::new(&store).await;
        for (i, (description, address)) in [
            ("井盖破损", "东平路1号"),
            ("路面有坑，疑似井盖", ""),
            ("ABC 路灯不亮", "Dongping Road"),
        ]
        .into_iter()
        .enumerate()
        {
            let (mut case, _, _) = w.report(
                "citizen1",
                new_report(
                    CaseSource::Citizen,
                    None,
                    location("441302001001001", 114.405, 23.055, address),
                    description,
                ),
                at_min(i as i64),
            );
            case.id = i as i64 + 1;
            case.code = format!("2026112300{:03}", i + 1);
            case.version = 1;
            sqlx::query(
                "INSERT INTO cases (id, code, doc, status, source, lng, lat, created_at, \
                 updated_at, light, overdue, supervised, version) \
                 VALUES ($1, $2, $3, 'reported', 'citizen', $4, $5, $6, $6, 'green', false, false, 1)",
            )
            .bind(case.id)
            .bind(&case.code)
            .bind(serde_json::to_string(&case).unwrap())
            .bind(case.location.lng)
            .bind(case.location.lat)
            .bind(case.created_at)
            .execute(&pool)
            .await
            .expect("an earlier case");
        }
        sqlx::query("SELECT setval('cases_id_seq', 3)")
            .execute(&pool)
            .await
            .expect("sequence");
        pool.close().await;
        store.migrate().await.expect("migration 0007");
        store.migrate().await.expect("migrate again");
        let find = |q: &str| {
            let store = store.clone();
            let q = q.to_string();
            async move {
                let query = CaseQuery {
                    text: Some(q),
                    ..CaseQuery::new(at_min(60))
                };
                store
                    .list_cases(&query, &CaseVisibility::everything(), PageRequest::default())
                    .await
                    .expect("list")
                    .items
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(find("井盖").await, [2, 1]);
        assert_eq!(find("井").await, [2, 1]);
        assert_eq!(find("疑似井盖").await, [2]);
        assert_eq!(find("abc").await, [3]);
        assert_eq!(find("DONGPING").await, [3]);
        assert_eq!(find("00002").await, [2]);
        let new = w
            .create(
                &store,
                "citizen1",
                new_report(
                    CaseSource::Citizen,
                    None,
                    location("441302001001001", 114.405, 23.055, ""),
                    "又一个井盖",
                ),
                at_min(10),
            )
            .await;
        assert_eq!(find("井盖").await, [new.id, 2, 1]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_contact_access_log_refuses_changes() {
    with_store(|store, url| async move {
        let w = World::new(&store).await;
        let case = w
            .create(
                &store,
                "citizen1",
                new_report(
                    CaseSource::Citizen,
                    None,
                    location("441302001001001", 114.405, 23.055, ""),
                    "井盖",
                ),
                at_min(0),
            )
            .await;
        store
            .log_contact_access(&[ContactAccess {
                at: at_min(1),
                user_id: w.uid("duty1"),
                case_id: case.id,
                via: ContactAccessVia::Case,
            }])
            .await
            .expect("log");
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        for sql in [
            "UPDATE contact_access_log SET user_id = user_id + 1",
            "DELETE FROM contact_access_log",
            "TRUNCATE contact_access_log",
        ] {
            let e = sqlx::query(sql).execute(&pool).await.expect_err(sql);
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
        pool.close().await;
        let log = store
            .contact_access_log(&ContactAccessQuery::default(), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(log.total, 1);
    })
    .await;
}
