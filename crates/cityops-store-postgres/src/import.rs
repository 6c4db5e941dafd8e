//! `apply_import`: the whole batch in one transaction; bulk upserts bind one array per column and
//! insert `FROM UNNEST(..)`.
use chrono::{NaiveDate, Utc};
use cityops_store::{ImportBatch, ImportSummary, Result, StoreError};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use cityops_store_sql::import::{DepartmentRefs, committed, department_ids, resolve_departments};

use crate::versions::{Cached, bump};
use crate::{PgStore, db_err};

/// Rows per UNNEST statement (arrays are single parameters; this only bounds message size).
const CHUNK: usize = 5000;
/// Rows per multi-row VALUES statement (users: 8 parameters a row, far below 65,535).
const VALUES_CHUNK: usize = 1000;

async fn exec(
    conn: &mut PgConnection,
    q: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
) -> Result<()> {
    q.execute(conn).await.map_err(db_err)?;
    Ok(())
}

/// `ImportRepo::apply_import`, tuned for this backend.
impl PgStore {
    pub(crate) async fn store_import(&self, batch: &ImportBatch) -> Result<ImportSummary> {
        batch.validate()?;
        let started = std::time::Instant::now();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let conn: &mut PgConnection = &mut tx;

        // 1. Departments, then their parents by code.
        for chunk in batch.departments.chunks(CHUNK) {
            let q = sqlx::query(
                "INSERT INTO departments (code, name, kind, region_code)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                     region_code = excluded.region_code",
            )
            .bind(chunk.iter().map(|d| d.code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|d| d.name.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|d| d.region_code.as_str())
                    .collect::<Vec<_>>(),
            );
            exec(conn, q).await?;
        }
        // 2. Resolve every department reference before writing anything else.
        let DepartmentRefs {
            parents,
            users: user_departments,
            components: component_departments,
        } = resolve_departments(batch, &department_ids::<Postgres>(conn).await?)?;

        for (chunk, parents) in batch.departments.chunks(CHUNK).zip(parents.chunks(CHUNK)) {
            let q = sqlx::query(
                "UPDATE departments d SET parent_id = v.parent_id
                   FROM UNNEST($1::text[], $2::int8[]) AS v(code, parent_id)
                  WHERE d.code = v.code",
            )
            .bind(chunk.iter().map(|d| d.code.as_str()).collect::<Vec<_>>())
            .bind(parents.to_vec());
            exec(conn, q).await?;
        }

        // 3. Regions.
        for chunk in batch.regions.chunks(CHUNK) {
            let bbox = |i: usize| {
                chunk
                    .iter()
                    .map(|r| r.bbox.map(|b| b[i]))
                    .collect::<Vec<_>>()
            };
            let q = sqlx::query(
                "INSERT INTO regions (code, level, name, parent_code, geometry, bbox_min_lng, bbox_min_lat,
                     bbox_max_lng, bbox_max_lat, center_lng, center_lat, area_m2, synthetic)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[],
                     $12::float8[], $13::bool[])
                 ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name,
                     parent_code = excluded.parent_code, geometry = excluded.geometry,
                     bbox_min_lng = excluded.bbox_min_lng, bbox_min_lat = excluded.bbox_min_lat,
                     bbox_max_lng = excluded.bbox_max_lng, bbox_max_lat = excluded.bbox_max_lat,
                     center_lng = excluded.center_lng, center_lat = excluded.center_lat,
                     area_m2 = excluded.area_m2, synthetic = excluded.synthetic",
            )
            .bind(chunk.iter().map(|r| r.code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.level.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.parent_code.as_deref()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.geometry.as_deref()).collect::<Vec<_>>())
            .bind(bbox(0))
            .bind(bbox(1))
            .bind(bbox(2))
            .bind(bbox(3))
            .bind(chunk.iter().map(|r| r.center.map(|c| c.lng)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.center.map(|c| c.lat)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.area_m2).collect::<Vec<_>>())
            .bind(chunk.iter().map(|r| r.synthetic).collect::<Vec<_>>());
            exec(conn, q).await?;
        }

        // 4. Catalogue.
        for chunk in batch.categories.chunks(CHUNK) {
            let q = sqlx::query(
                "INSERT INTO categories (kind, code, class_code, class_name, name, old_code)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                 ON CONFLICT (kind, code) DO UPDATE SET class_code = excluded.class_code,
                     class_name = excluded.class_name, name = excluded.name, old_code = excluded.old_code",
            )
            .bind(chunk.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.class_code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.class_name.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.name.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.old_code.as_deref()).collect::<Vec<_>>());
            exec(conn, q).await?;
        }

        // 5. Filing standards: replace all conditions of each (kind, code) the batch mentions.
        let mut pairs: Vec<(&str, &str)> = batch
            .filing_standards
            .iter()
            .map(|f| (f.kind.as_str(), f.code.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for chunk in pairs.chunks(CHUNK) {
            let q = sqlx::query(
                "DELETE FROM filing_standards
                  WHERE (kind, code) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))",
            )
            .bind(chunk.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.1).collect::<Vec<_>>());
            exec(conn, q).await?;
        }
        for chunk in batch.filing_standards.chunks(CHUNK) {
            let int = |v: u32| {
                i32::try_from(v).map_err(|_| StoreError::Invalid(format!("value {v} out of range")))
            };
            let q = sqlx::query(
                "INSERT INTO filing_standards (kind, code, seq, filing_condition, limit_value, limit_unit,
                     limit_text, closure_condition, old_code, source)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::text[], $5::int4[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[])",
            )
            .bind(chunk.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| int(f.seq)).collect::<Result<Vec<_>>>()?)
            .bind(chunk.iter().map(|f| f.filing_condition.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| int(f.limit.value)).collect::<Result<Vec<_>>>()?)
            .bind(chunk.iter().map(|f| f.limit.unit.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.limit_text.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.closure_condition.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.old_code.as_deref()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.source.as_str()).collect::<Vec<_>>());
            exec(conn, q).await?;
        }

        // 6. Users, as multi-row VALUES (roles and grids are arrays themselves). An existing user
        //    keeps its id, `active` flag and creation time.
        let now = Utc::now();
        let users: Vec<_> = batch.users.iter().zip(&user_departments).collect();
        for chunk in users.chunks(VALUES_CHUNK) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO users (username, display_name, password_hash, roles, region_code, department_id, \
                 grids, created_at) ",
            );
            qb.push_values(chunk, |mut b, (u, dept)| {
                b.push_bind(u.username.as_str())
                    .push_bind(u.display_name.as_str())
                    .push_bind(u.password_hash.as_str())
                    .push_bind(u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
                    .push_bind(u.region_code.as_deref())
                    .push_bind(**dept)
                    .push_bind(u.grids.clone())
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, \
                 password_hash = excluded.password_hash, roles = excluded.roles, region_code = excluded.region_code, \
                 department_id = excluded.department_id, grids = excluded.grids",
            );
            exec(conn, qb.build()).await?;
        }

        // 7. Components.
        for (chunk, depts) in batch
            .components
            .chunks(CHUNK)
            .zip(component_departments.chunks(CHUNK))
        {
            let q = sqlx::query(
                "INSERT INTO components (id, category_code, name, lng, lat, grid_code, community_code,
                     owner_department_id, maintainer_department_id, status, surveyed_on)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[],
                     $7::text[], $8::int8[], $9::int8[], $10::text[], $11::date[])
                 ON CONFLICT (id) DO UPDATE SET category_code = excluded.category_code, name = excluded.name,
                     lng = excluded.lng, lat = excluded.lat, grid_code = excluded.grid_code,
                     community_code = excluded.community_code, owner_department_id = excluded.owner_department_id,
                     maintainer_department_id = excluded.maintainer_department_id, status = excluded.status,
                     surveyed_on = excluded.surveyed_on",
            )
            .bind(chunk.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.category_code.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.name.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.lng).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.lat).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.grid_code.as_deref()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.community_code.as_deref()).collect::<Vec<_>>())
            .bind(depts.iter().map(|d| d.0).collect::<Vec<_>>())
            .bind(depts.iter().map(|d| d.1).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.status.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|c| c.surveyed_on).collect::<Vec<NaiveDate>>());
            exec(conn, q).await?;
        }

        if !batch.is_empty() {
            bump(conn, Cached::Catalogue).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(committed(batch, started))
    }
}
