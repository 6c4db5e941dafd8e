//! `apply_import`: the whole batch in one transaction on the writer, as multi-row upserts.
use chrono::Utc;
use cityops_store::{ImportBatch, ImportSummary, Result};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use cityops_store_sql::import::{DepartmentRefs, committed, department_ids, resolve_departments};

use crate::rows::{json_list, ts};
use crate::versions::{Cached, bump};
use crate::{SqliteStore, db_err};

/// Rows per multi-row statement (SQLite allows 32,766 bound values; the widest row has 13).
const CHUNK: usize = 1000;

/// Runs `head VALUES (..), (..) tail` for each chunk of `rows`.
async fn insert_chunks<T, F>(
    conn: &mut SqliteConnection,
    rows: &[T],
    head: &'static str,
    tail: &'static str,
    push: F,
) -> Result<()>
where
    T: Sync,
    F: Fn(&mut Separated<'_, Sqlite, &'static str>, &T) + Send + Sync,
{
    for chunk in rows.chunks(CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push_values(chunk, |mut b, row| push(&mut b, row));
        qb.push(tail);
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// `ImportRepo::apply_import`, tuned for this backend.
impl SqliteStore {
    pub(crate) async fn store_import(&self, batch: &ImportBatch) -> Result<ImportSummary> {
        batch.validate()?;
        let started = std::time::Instant::now();
        let mut tx = self.write.begin().await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;

        // 1. Departments, then their parents by code (parents may come later in the batch or
        //    already be stored).
        insert_chunks(
            conn,
            &batch.departments,
            "INSERT INTO departments (code, name, kind, region_code) ",
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             region_code = excluded.region_code",
            |b, d| {
                b.push_bind(d.code.as_str())
                    .push_bind(d.name.as_str())
                    .push_bind(d.kind.as_str())
                    .push_bind(d.region_code.as_str());
            },
        )
        .await?;
        // 2. Resolve every department reference before writing anything else.
        let DepartmentRefs {
            parents,
            users: user_departments,
            components: component_departments,
        } = resolve_departments(batch, &department_ids::<Sqlite>(conn).await?)?;
        let parents: Vec<(&str, Option<i64>)> = batch
            .departments
            .iter()
            .map(|d| d.code.as_str())
            .zip(parents)
            .collect();

        for chunk in parents.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("WITH v(code, parent_id) AS (");
            qb.push_values(chunk, |mut b, (code, parent)| {
                b.push_bind(*code).push_bind(*parent);
            });
            qb.push(
                ") UPDATE departments SET parent_id = (SELECT v.parent_id FROM v WHERE v.code = departments.code) \
                 WHERE code IN (SELECT code FROM v)",
            );
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }

        // 3. Regions.
        insert_chunks(
            conn,
            &batch.regions,
            "INSERT INTO regions (code, level, name, parent_code, geometry, bbox_min_lng, bbox_min_lat, \
             bbox_max_lng, bbox_max_lat, center_lng, center_lat, area_m2, synthetic) ",
            " ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name, \
             parent_code = excluded.parent_code, geometry = excluded.geometry, \
             bbox_min_lng = excluded.bbox_min_lng, bbox_min_lat = excluded.bbox_min_lat, \
             bbox_max_lng = excluded.bbox_max_lng, bbox_max_lat = excluded.bbox_max_lat, \
             center_lng = excluded.center_lng, center_lat = excluded.center_lat, \
             area_m2 = excluded.area_m2, synthetic = excluded.synthetic",
            |b, r| {
                b.push_bind(r.code.as_str())
                    .push_bind(r.level.as_str())
                    .push_bind(r.name.as_str())
                    .push_bind(r.parent_code.as_deref())
                    .push_bind(r.geometry.as_deref())
                    .push_bind(r.bbox.map(|b| b[0]))
                    .push_bind(r.bbox.map(|b| b[1]))
                    .push_bind(r.bbox.map(|b| b[2]))
                    .push_bind(r.bbox.map(|b| b[3]))
                    .push_bind(r.center.map(|c| c.lng))
                    .push_bind(r.center.map(|c| c.lat))
                    .push_bind(r.area_m2)
                    .push_bind(r.synthetic);
            },
        )
        .await?;

        // 4. Catalogue.
        insert_chunks(
            conn,
            &batch.categories,
            "INSERT INTO categories (kind, code, class_code, class_name, name, old_code) ",
            " ON CONFLICT (kind, code) DO UPDATE SET class_code = excluded.class_code, \
             class_name = excluded.class_name, name = excluded.name, old_code = excluded.old_code",
            |b, c| {
                b.push_bind(c.kind.as_str())
                    .push_bind(c.code.as_str())
                    .push_bind(c.class_code.as_str())
                    .push_bind(c.class_name.as_str())
                    .push_bind(c.name.as_str())
                    .push_bind(c.old_code.as_deref());
            },
        )
        .await?;

        // 5. Filing standards: replace all conditions of each (kind, code) the batch mentions.
        let mut pairs: Vec<(&str, &str)> = batch
            .filing_standards
            .iter()
            .map(|f| (f.kind.as_str(), f.code.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for chunk in pairs.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("DELETE FROM filing_standards WHERE (kind, code) IN (");
            qb.push_values(chunk, |mut b, (kind, code)| {
                b.push_bind(*kind).push_bind(*code);
            });
            qb.push(")");
            qb.build().execute(&mut *conn).await.map_err(db_err)?;
        }
        insert_chunks(
            conn,
            &batch.filing_standards,
            "INSERT INTO filing_standards (kind, code, seq, filing_condition, limit_value, limit_unit, \
             limit_text, closure_condition, old_code, source) ",
            "",
            |b, f| {
                b.push_bind(f.kind.as_str())
                    .push_bind(f.code.as_str())
                    .push_bind(i64::from(f.seq))
                    .push_bind(f.filing_condition.as_str())
                    .push_bind(i64::from(f.limit.value))
                    .push_bind(f.limit.unit.as_str())
                    .push_bind(f.limit_text.as_str())
                    .push_bind(f.closure_condition.as_str())
                    .push_bind(f.old_code.as_deref())
                    .push_bind(f.source.as_str());
            },
        )
        .await?;

        // 6. Users (an existing user keeps its id, `active` flag and creation time).
        let now = ts(Utc::now());
        let users: Vec<_> = batch.users.iter().zip(&user_departments).collect();
        insert_chunks(
            conn,
            &users,
            "INSERT INTO users (username, display_name, password_hash, roles, region_code, department_id, grids, \
             created_at) ",
            " ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, \
             password_hash = excluded.password_hash, roles = excluded.roles, region_code = excluded.region_code, \
             department_id = excluded.department_id, grids = excluded.grids",
            |b, (u, dept)| {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                b.push_bind(u.username.as_str())
                    .push_bind(u.display_name.as_str())
                    .push_bind(u.password_hash.as_str())
                    .push_bind(json_list(&roles))
                    .push_bind(u.region_code.as_deref())
                    .push_bind(**dept)
                    .push_bind(json_list(&u.grids))
                    .push_bind(now.as_str());
            },
        )
        .await?;

        // 7. Components.
        let components: Vec<_> = batch
            .components
            .iter()
            .zip(&component_departments)
            .collect();
        insert_chunks(
            conn,
            &components,
            "INSERT INTO components (id, category_code, name, lng, lat, grid_code, community_code, \
             owner_department_id, maintainer_department_id, status, surveyed_on) ",
            " ON CONFLICT (id) DO UPDATE SET category_code = excluded.category_code, name = excluded.name, \
             lng = excluded.lng, lat = excluded.lat, grid_code = excluded.grid_code, \
             community_code = excluded.community_code, owner_department_id = excluded.owner_department_id, \
             maintainer_department_id = excluded.maintainer_department_id, status = excluded.status, \
             surveyed_on = excluded.surveyed_on",
            |b, (c, (owner, maintainer))| {
                b.push_bind(c.id.as_str())
                    .push_bind(c.category_code.as_str())
                    .push_bind(c.name.as_str())
                    .push_bind(c.lng)
                    .push_bind(c.lat)
                    .push_bind(c.grid_code.as_deref())
                    .push_bind(c.community_code.as_deref())
                    .push_bind(*owner)
                    .push_bind(*maintainer)
                    .push_bind(c.status.as_str())
                    .push_bind(c.surveyed_on);
            },
        )
        .await?;

        if !batch.is_empty() {
            bump(conn, Cached::Catalogue).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(committed(batch, started))
    }
}
