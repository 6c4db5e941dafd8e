//! `ObjectRepo` (一码管全域), written once for both stores: management objects with codes issued
//! by one atomic upsert per (division, kind), checks written with their photo claims,
//! discrepancies and the rectification records they open and close in one transaction, the
//! ladder's optimistic steps and the one-caller claim of an enforcement case. Nothing here is
//! backend-tuned; [`shared_object_repo!`] stamps the trait impl in each store.
//!
//! Storage: an object is kept in columns (every field is filtered or shown; the zone as JSON
//! text); a check keeps its results and its comparison as JSON text beside the columns the lists
//! filter on; a rectification record is its domain document (JSON text, what is read back) plus
//! projected columns for every filter, the ladder's `next_due` and the statistics — written by
//! the same statement, as cases are.
//!
//! Transactions begin with a write (an `INSERT … SELECT` or an upsert), so on SQLite the writer
//! lock is taken at the first statement and no read snapshot has to be upgraded.
use chrono::{DateTime, Utc};
use cityops_domain::objects::{
    Check, CheckKind, CheckResult, Comparison, ManagedObject, ObjectCode, ObjectKind,
    ObjectRegions, PositionCheck, RectStage, Rectification, ResponsibilityZone, ResponsibleParty,
};
use cityops_domain::{LngLat, RegionCode};
use cityops_store::{
    DiscrepancyFilter, NewCheckRecord, NewObject, ObjectFilter, ObjectScope, Page, PageRequest,
    RecordedCheck, RectStatus, RectificationFilter, RectificationUpdate, Result, StoreError,
    StoredCheck, StoredDiscrepancy, StoredObject, StoredRectification,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, corrupt, db_err, parse, push_prefix};

const OBJECT_COLUMNS: &str = "o.id, o.code, o.kind, o.name, o.address, o.lng, o.lat, o.zone, \
     o.district_code, o.street_code, o.community_code, o.grid_code, o.responsible_user_id, \
     o.responsible_name, o.responsible_phone, o.owner_department_id, o.created_at, o.updated_at, \
     o.created_by, o.updated_by, o.version";

const CHECK_COLUMNS: &str = "c.id, o.code AS object_code, c.kind, c.by_user, c.at, c.lng, c.lat, \
     c.distance_m, c.far, c.results, c.comparison, c.compared_with, \
     coalesce(u.display_name, '') AS by_name";
const CHECK_FROM: &str = "FROM object_checks c JOIN managed_objects o ON o.id = c.object_id \
     LEFT JOIN users u ON u.id = c.by_user";

const RECT_COLUMNS: &str = "r.id, r.record, r.version, r.opened_by_check, r.closed_by_check, \
     r.enforcement_case_id, o.name AS object_name";
const RECT_FROM: &str = "FROM rectifications r JOIN managed_objects o ON o.id = r.object_id";

fn json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what, text))
}

fn region(what: &str, v: Option<String>) -> Result<Option<RegionCode>> {
    v.map(|c| RegionCode::parse(&c).map_err(|_| corrupt(what, &c)))
        .transpose()
}

fn push_opt_ts<D: Dialect>(q: &mut QueryBuilder<D>, t: Option<DateTime<Utc>>) {
    match t {
        Some(t) => D::push_ts(q, t),
        None => {
            q.push("NULL");
        }
    }
}

fn push_opt_f64<D: Dialect>(q: &mut QueryBuilder<D>, v: Option<f64>) {
    match v {
        Some(v) => {
            q.bind(v);
        }
        None => {
            q.push("NULL");
        }
    }
}

fn opt_str(c: &Option<RegionCode>) -> Option<String> {
    c.as_ref().map(|c| c.as_str().to_string())
}

fn stored_object<D: Dialect>(row: &D::Row) -> Result<StoredObject> {
    let r = Cols::<D>(row);
    let code: String = r.get("code")?;
    let kind: String = r.get("kind")?;
    let zone: Option<String> = r.get("zone")?;
    Ok(StoredObject {
        id: r.get("id")?,
        object: ManagedObject {
            code: ObjectCode::parse(&code).map_err(|_| corrupt("object code", &code))?,
            kind: parse::<ObjectKind>("object kind", &kind)?,
            name: r.get("name")?,
            address: r.get("address")?,
            point: LngLat {
                lng: r.get("lng")?,
                lat: r.get("lat")?,
            },
            zone: zone
                .as_deref()
                .map(|z| from_json::<ResponsibilityZone>("zone", z))
                .transpose()?,
            regions: ObjectRegions {
                district: region("district code", r.get("district_code")?)?,
                street: region("street code", r.get("street_code")?)?,
                community: region("community code", r.get("community_code")?)?,
                grid: region("grid code", r.get("grid_code")?)?,
            },
            responsible: ResponsibleParty {
                user_id: r.get("responsible_user_id")?,
                name: r.get("responsible_name")?,
                phone: r.get("responsible_phone")?,
            },
            owner_department_id: r.get("owner_department_id")?,
        },
        created_at: D::ts(row, "created_at")?,
        updated_at: D::ts(row, "updated_at")?,
        created_by: r.get("created_by")?,
        updated_by: r.get("updated_by")?,
        version: r.get("version")?,
    })
}

fn stored_check<D: Dialect>(row: &D::Row) -> Result<StoredCheck> {
    let r = Cols::<D>(row);
    let code: String = r.get("object_code")?;
    let kind: String = r.get("kind")?;
    let results: String = r.get("results")?;
    let comparison: Option<String> = r.get("comparison")?;
    let lng: Option<f64> = r.get("lng")?;
    let lat: Option<f64> = r.get("lat")?;
    let distance: Option<f64> = r.get("distance_m")?;
    Ok(StoredCheck {
        id: r.get("id")?,
        check: Check {
            kind: parse::<CheckKind>("check kind", &kind)?,
            object_code: ObjectCode::parse(&code).map_err(|_| corrupt("object code", &code))?,
            by_user: r.get("by_user")?,
            at: D::ts(row, "at")?,
            position: match (lng, lat) {
                (Some(lng), Some(lat)) => Some(LngLat { lng, lat }),
                _ => None,
            },
            results: from_json::<Vec<CheckResult>>("check results", &results)?,
        },
        position_check: match distance {
            Some(distance_m) => Some(PositionCheck {
                distance_m,
                far: r.get("far")?,
            }),
            None => None,
        },
        comparison: comparison
            .as_deref()
            .map(|c| from_json::<Comparison>("comparison", c))
            .transpose()?,
        compared_with: r.get("compared_with")?,
        by_name: r.get("by_name")?,
    })
}

fn stored_rect<D: Dialect>(row: &D::Row) -> Result<StoredRectification> {
    let r = Cols::<D>(row);
    let record: String = r.get("record")?;
    Ok(StoredRectification {
        id: r.get("id")?,
        record: from_json::<Rectification>("rectification", &record)?,
        version: r.get("version")?,
        object_name: r.get("object_name")?,
        opened_by_check: r.get("opened_by_check")?,
        closed_by_check: r.get("closed_by_check")?,
        enforcement_case_id: r.get("enforcement_case_id")?,
    })
}

fn stored_discrepancy<D: Dialect>(row: &D::Row) -> Result<StoredDiscrepancy> {
    let r = Cols::<D>(row);
    let code: String = r.get("object_code")?;
    let kind: String = r.get("kind")?;
    Ok(StoredDiscrepancy {
        check_id: r.get("check_id")?,
        object_code: ObjectCode::parse(&code).map_err(|_| corrupt("object code", &code))?,
        object_name: r.get("object_name")?,
        street: r.get("street_code")?,
        item_code: r.get("item_code")?,
        kind: from_json(
            "discrepancy kind",
            &serde_json::Value::String(kind).to_string(),
        )?,
        at: D::ts(row, "at")?,
        by_user: r.get("by_user")?,
        self_check_at: D::opt_ts(row, "self_check_at")?,
    })
}

/// `AND <the object o lies within the scope>`.
fn push_scope<D: Dialect>(q: &mut QueryBuilder<D>, scope: &ObjectScope) {
    if !scope.region_prefixes.is_empty() {
        q.push(" AND (");
        for (i, p) in scope.region_prefixes.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            let column = match p.len() {
                0..=6 => "o.district_code",
                7..=9 => "o.street_code",
                10..=12 => "o.community_code",
                _ => "o.grid_code",
            };
            push_prefix(q, column, p);
        }
        q.push(")");
    }
    if let Some(d) = scope.department_id {
        q.push(" AND o.owner_department_id = ").bind(d);
    }
    if let Some(u) = scope.responsible_user_id {
        q.push(" AND o.responsible_user_id = ").bind(u);
    }
}

/// The ladder's projected columns of a record. `next_due` is when the next step may be due: the
/// stage's deadline, or the opening when an inspection opened it (notice 1 at once); none once
/// handed over or rectified.
struct Projection {
    stage: &'static str,
    due: Option<DateTime<Utc>>,
    next_due: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    closed_stage: Option<&'static str>,
}

fn projection(r: &Rectification) -> Projection {
    let next_due = match r.stage {
        RectStage::Open | RectStage::Notice1 | RectStage::Notice2 | RectStage::Notice3 => {
            Some(r.due.unwrap_or(r.opened_at))
        }
        RectStage::Enforcement | RectStage::Rectified => None,
    };
    Projection {
        stage: r.stage.as_str(),
        due: r.due,
        next_due,
        closed_at: r.rectified_at,
        closed_stage: r.closed_stage().map(RectStage::as_str),
    }
}

/// Takes the next number of (division, kind) — or, for a kept code, records that its number is
/// taken — in the transaction `tx`; answers the object's code.
async fn issue_code<D: Dialect>(tx: &mut D::Connection, new: &NewObject) -> Result<ObjectCode> {
    let (division, kind, seq) = match &new.code {
        Some(c) => (c.division().to_string(), c.kind(), Some(c.sequence())),
        None => (new.division.clone(), new.kind, None),
    };
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO object_code_sequences (division, kind_code, last_seq) VALUES (",
    );
    q.bind(division.clone())
        .push(", ")
        .bind(i32::from(kind.code()))
        .push(", ")
        .bind(i64::from(seq.unwrap_or(1)))
        .push(") ON CONFLICT (division, kind_code) DO UPDATE SET last_seq = ");
    if seq.is_some() {
        q.push(
            "CASE WHEN excluded.last_seq > object_code_sequences.last_seq \
             THEN excluded.last_seq ELSE object_code_sequences.last_seq END",
        );
    } else {
        q.push("object_code_sequences.last_seq + 1");
    }
    q.push(" RETURNING last_seq");
    let rows = D::fetch_all_on(tx, q.build()).await?;
    let last: i64 = rows
        .first()
        .map(|row| Cols::<D>(row).get("last_seq"))
        .transpose()?
        .ok_or_else(|| StoreError::Database("the code sequence answered nothing".into()))?;
    match &new.code {
        Some(c) => Ok(c.clone()),
        None => {
            let seq = u32::try_from(last)
                .ok()
                .filter(|s| *s <= ObjectCode::MAX_SEQUENCE)
                .ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "division {division} has issued every code of kind {}",
                        kind.as_str()
                    ))
                })?;
            ObjectCode::new(&division, kind, seq).map_err(|e| StoreError::Invalid(e.to_string()))
        }
    }
}

/// The columns an object's own fields fill, in the order [`push_object_values`] binds them
/// (one list for the insert and the update).
const OBJECT_FIELDS: &str = "kind, name, address, lng, lat, zone, district_code, street_code, \
     community_code, grid_code, responsible_user_id, responsible_name, responsible_phone, \
     owner_department_id";

/// Binds the values of [`OBJECT_FIELDS`], comma-separated.
fn push_object_values<D: Dialect>(q: &mut QueryBuilder<D>, object: &ManagedObject) -> Result<()> {
    let zone = object.zone.as_ref().map(|z| json("zone", z)).transpose()?;
    let r = &object.regions;
    q.bind(object.kind.as_str())
        .push(", ")
        .bind(object.name.clone())
        .push(", ")
        .bind(object.address.clone())
        .push(", ")
        .bind(object.point.lng)
        .push(", ")
        .bind(object.point.lat)
        .push(", ")
        .bind(zone)
        .push(", ")
        .bind(opt_str(&r.district))
        .push(", ")
        .bind(opt_str(&r.street))
        .push(", ")
        .bind(opt_str(&r.community))
        .push(", ")
        .bind(opt_str(&r.grid))
        .push(", ")
        .bind(object.responsible.user_id)
        .push(", ")
        .bind(object.responsible.name.clone())
        .push(", ")
        .bind(object.responsible.phone.clone())
        .push(", ")
        .bind(object.owner_department_id);
    Ok(())
}

/// Inserts one object (code issued first) in the transaction `tx`.
async fn insert_object<D: Dialect>(
    tx: &mut D::Connection,
    new: &NewObject,
) -> Result<StoredObject> {
    new.validate()?;
    let code = issue_code::<D>(&mut *tx, new).await?;
    let object = new.with_code(code);
    let mut q = QueryBuilder::<D>::new(format!(
        "INSERT INTO managed_objects (code, {OBJECT_FIELDS}, created_at, updated_at, created_by, \
         updated_by, version) VALUES ("
    ));
    q.bind(object.code.as_str().to_string()).push(", ");
    push_object_values(&mut q, &object)?;
    q.push(", ");
    D::push_ts(&mut q, new.at);
    q.push(", ");
    D::push_ts(&mut q, new.at);
    q.push(", ")
        .bind(new.by_user)
        .push(", ")
        .bind(new.by_user)
        .push(", 1) RETURNING id");
    let rows = D::fetch_all_on(&mut *tx, q.build())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("object code {} is taken", object.code))
            }
            StoreError::Invalid(m) => StoreError::Invalid(format!(
                "object {:?}: {m} (unknown account or department?)",
                object.name
            )),
            other => other,
        })?;
    let id: i64 = rows
        .first()
        .map(|row| Cols::<D>(row).get("id"))
        .transpose()?
        .ok_or_else(|| StoreError::Database("the insert answered nothing".into()))?;
    Ok(StoredObject {
        id,
        object,
        created_at: new.at,
        updated_at: new.at,
        created_by: new.by_user,
        updated_by: new.by_user,
        version: 1,
    })
}

/// `ObjectRepo::create_object`.
pub async fn create_object<D: Dialect>(pool: &Pool<D>, new: &NewObject) -> Result<StoredObject> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let stored = insert_object::<D>(&mut *tx, new).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(stored)
}

/// `ObjectRepo::import_objects`: one transaction; the first failure rolls everything back.
pub async fn import_objects<D: Dialect>(
    pool: &Pool<D>,
    new: &[NewObject],
) -> Result<Vec<StoredObject>> {
    for (i, n) in new.iter().enumerate() {
        n.validate()
            .map_err(|e| StoreError::Invalid(format!("object {}: {e}", i + 1)))?;
    }
    let mut tx = pool.begin().await.map_err(db_err)?;
    let mut out = Vec::with_capacity(new.len());
    for (i, n) in new.iter().enumerate() {
        let stored = insert_object::<D>(&mut *tx, n).await.map_err(|e| match e {
            StoreError::Conflict(m) => StoreError::Conflict(format!("object {}: {m}", i + 1)),
            StoreError::Invalid(m) => StoreError::Invalid(format!("object {}: {m}", i + 1)),
            other => other,
        })?;
        out.push(stored);
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

/// `ObjectRepo::update_object`.
pub async fn update_object<D: Dialect>(
    pool: &Pool<D>,
    object: &ManagedObject,
    expected_version: i64,
    by_user: Option<i64>,
    at: DateTime<Utc>,
) -> Result<StoredObject> {
    object
        .validate()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut q = QueryBuilder::<D>::new(format!("UPDATE managed_objects SET ({OBJECT_FIELDS}) = ("));
    push_object_values(&mut q, object)?;
    q.push("), updated_at = ");
    D::push_ts(&mut q, at);
    q.push(", updated_by = ")
        .bind(by_user)
        .push(", version = version + 1 WHERE code = ")
        .bind(object.code.as_str().to_string())
        .push(" AND version = ")
        .bind(expected_version)
        .push(" RETURNING id, created_at, created_by, version");
    let row = D::fetch_optional(pool, q.build())
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => {
                StoreError::Invalid(format!("{m} (unknown account or department?)"))
            }
            other => other,
        })?;
    let Some(row) = row else {
        let mut exists = QueryBuilder::<D>::new("SELECT id FROM managed_objects WHERE code = ");
        exists.bind(object.code.as_str().to_string());
        return Err(match D::fetch_optional(pool, exists.build()).await? {
            None => StoreError::NotFound,
            Some(_) => StoreError::Conflict(format!(
                "object {} was changed by someone else; reload it",
                object.code
            )),
        });
    };
    let r = Cols::<D>(&row);
    Ok(StoredObject {
        id: r.get("id")?,
        object: object.clone(),
        created_at: D::ts(&row, "created_at")?,
        updated_at: at,
        created_by: r.get("created_by")?,
        updated_by: by_user,
        version: r.get("version")?,
    })
}

/// `ObjectRepo::object`.
pub async fn object<D: Dialect>(
    pool: &Pool<D>,
    code: &ObjectCode,
    scope: &ObjectScope,
) -> Result<Option<StoredObject>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {OBJECT_COLUMNS} FROM managed_objects o WHERE o.code = "
    ));
    q.bind(code.as_str().to_string());
    push_scope(&mut q, scope);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(stored_object::<D>)
        .transpose()
}

/// `ObjectRepo::list_objects`.
pub async fn list_objects<D: Dialect>(
    pool: &Pool<D>,
    filter: &ObjectFilter,
    scope: &ObjectScope,
    page: PageRequest,
) -> Result<Page<StoredObject>> {
    const FROM: &str = "FROM managed_objects o";
    let select = format!("SELECT {OBJECT_COLUMNS} {FROM}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(k) = filter.kind {
            q.push(" AND o.kind = ").bind(k.as_str());
        }
        if let Some(s) = &filter.street {
            q.push(" AND o.street_code = ").bind(s.clone());
        }
        if let Some(u) = filter.responsible_user_id {
            q.push(" AND o.responsible_user_id = ").bind(u);
        }
        if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q.push(" AND (");
            D::push_contains(q, "o.code", text);
            q.push(" OR ");
            D::push_contains(q, "o.name", text);
            q.push(" OR ");
            D::push_contains(q, "o.address", text);
            q.push(")");
        }
        push_scope(q, scope);
    };
    paged(
        pool,
        &select,
        FROM,
        filters,
        " ORDER BY o.code",
        page,
        stored_object::<D>,
    )
    .await
}

/// Inserts a rectification record opened by `check_id` of `object_id`; answers its id.
async fn insert_rect<D: Dialect>(
    tx: &mut D::Connection,
    object_id: i64,
    check_id: Option<i64>,
    r: &Rectification,
) -> Result<i64> {
    let Projection {
        stage,
        due,
        next_due,
        closed_at,
        closed_stage,
    } = projection(r);
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO rectifications (object_id, item_code, street_code, source, stage, opened_at, \
         due, next_due, closed_at, closed_stage, record, opened_by_check, version, updated_at) \
         VALUES (",
    );
    q.bind(object_id)
        .push(", ")
        .bind(r.item_code.clone())
        .push(", ")
        .bind(opt_str(&r.street))
        .push(", ")
        .bind(r.source.as_str())
        .push(", ")
        .bind(stage)
        .push(", ");
    D::push_ts(&mut q, r.opened_at);
    q.push(", ");
    push_opt_ts(&mut q, due);
    q.push(", ");
    push_opt_ts(&mut q, next_due);
    q.push(", ");
    push_opt_ts(&mut q, closed_at);
    q.push(", ")
        .bind(closed_stage.map(str::to_string))
        .push(", ")
        .bind(json("rectification", r)?)
        .push(", ")
        .bind(check_id)
        .push(", 1, ");
    D::push_ts(&mut q, r.updated_at);
    q.push(") RETURNING id");
    let rows = D::fetch_all_on(tx, q.build()).await.map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "item {} of object {} has an open rectification record already",
            r.item_code, r.object
        )),
        other => other,
    })?;
    rows.first()
        .map(|row| Cols::<D>(row).get("id"))
        .transpose()?
        .ok_or_else(|| StoreError::Database("the insert answered nothing".into()))
}

/// Writes a record's new state at its expected version (`Conflict` otherwise).
async fn update_rect<D: Dialect>(
    tx: &mut D::Connection,
    u: &RectificationUpdate,
    closed_by_check: Option<i64>,
) -> Result<()> {
    let Projection {
        stage,
        due,
        next_due,
        closed_at,
        closed_stage,
    } = projection(&u.record);
    let mut q = QueryBuilder::<D>::new("UPDATE rectifications SET stage = ");
    q.bind(stage).push(", due = ");
    push_opt_ts(&mut q, due);
    q.push(", next_due = ");
    push_opt_ts(&mut q, next_due);
    q.push(", closed_at = ");
    push_opt_ts(&mut q, closed_at);
    q.push(", closed_stage = ")
        .bind(closed_stage.map(str::to_string))
        .push(", record = ")
        .bind(json("rectification", &u.record)?)
        .push(", closed_by_check = COALESCE(closed_by_check, ")
        .bind(closed_by_check)
        .push("), version = version + 1, updated_at = ");
    D::push_ts(&mut q, u.record.updated_at);
    q.push(" WHERE id = ")
        .bind(u.id)
        .push(" AND version = ")
        .bind(u.expected_version)
        .push(" RETURNING id");
    if D::fetch_all_on(tx, q.build()).await?.is_empty() {
        return Err(StoreError::Conflict(format!(
            "rectification record {} was changed by someone else",
            u.id
        )));
    }
    Ok(())
}

/// `ObjectRepo::record_check`.
pub async fn record_check<D: Dialect>(
    pool: &Pool<D>,
    new: &NewCheckRecord,
) -> Result<RecordedCheck> {
    let c = &new.check;
    let results = json("check results", &c.results)?;
    let comparison = new
        .comparison
        .as_ref()
        .map(|x| json("comparison", x))
        .transpose()?;
    let failing = c.results.iter().filter(|r| !r.passed).count() as i64;
    let mut tx = pool.begin().await.map_err(db_err)?;
    // The check first: the transaction starts with its write.
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO object_checks (object_id, kind, by_user, at, lng, lat, distance_m, far, \
         results, failing, comparison, compared_with, street_code) SELECT o.id, ",
    );
    q.bind(c.kind.as_str())
        .push(", ")
        .bind(c.by_user)
        .push(", ");
    D::push_ts(&mut q, c.at);
    q.push(", ");
    push_opt_f64(&mut q, c.position.map(|p| p.lng));
    q.push(", ");
    push_opt_f64(&mut q, c.position.map(|p| p.lat));
    q.push(", ");
    push_opt_f64(&mut q, new.position_check.map(|p| p.distance_m));
    q.push(", ")
        .bind(new.position_check.is_some_and(|p| p.far))
        .push(", ")
        .bind(results)
        .push(", ")
        .bind(failing)
        .push(", ")
        .bind(comparison)
        .push(", ")
        .bind(new.compared_with)
        .push(", o.street_code FROM managed_objects o WHERE o.code = ")
        .bind(c.object_code.as_str().to_string())
        .push(" RETURNING id, object_id, street_code");
    let rows = D::fetch_all_on(&mut *tx, q.build())
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => StoreError::Invalid(format!("{m} (unknown user?)")),
            other => other,
        })?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    let (check_id, object_id, street): (i64, i64, Option<String>) = {
        let r = Cols::<D>(row);
        (r.get("id")?, r.get("object_id")?, r.get("street_code")?)
    };

    // The photos: each uploaded by the checker, held by no case and by no other check.
    let mut photos: Vec<i64> = c
        .results
        .iter()
        .flat_map(|r| r.photo_ids.iter().copied())
        .collect();
    photos.sort_unstable();
    if photos.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Invalid(
            "a photo is given twice in one check".into(),
        ));
    }
    if !photos.is_empty() {
        let mut q = QueryBuilder::<D>::new(
            "INSERT INTO object_check_photos (attachment_id, check_id) SELECT a.id, ",
        );
        q.bind(check_id).push(" FROM attachments a WHERE ");
        D::push_in_ids(&mut q, "a.id", &photos);
        q.push(" AND a.uploaded_by = ")
            .bind(c.by_user)
            .push(" AND a.case_id IS NULL RETURNING attachment_id");
        let claimed = D::fetch_all_on(&mut *tx, q.build())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    StoreError::Invalid("a photo belongs to another check already".into())
                }
                other => other,
            })?;
        if claimed.len() != photos.len() {
            return Err(StoreError::Invalid(
                "a photo does not exist, was not uploaded by the checker or belongs to a case"
                    .into(),
            ));
        }
    }

    // 双保险: the discrepancies found.
    if let Some(cmp) = &new.comparison {
        for d in &cmp.discrepancies {
            let kind = serde_json::to_value(d.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut q = QueryBuilder::<D>::new(
                "INSERT INTO object_discrepancies (check_id, object_id, item_code, kind, \
                 street_code, at, by_user, self_check_at) VALUES (",
            );
            q.bind(check_id)
                .push(", ")
                .bind(object_id)
                .push(", ")
                .bind(d.item_code.clone())
                .push(", ")
                .bind(kind)
                .push(", ")
                .bind(street.clone())
                .push(", ");
            D::push_ts(&mut q, c.at);
            q.push(", ").bind(c.by_user).push(", ");
            push_opt_ts(&mut q, cmp.self_check_at);
            q.push(") RETURNING id");
            D::fetch_all_on(&mut *tx, q.build()).await?;
        }
    }

    // 三教而罚: the records opened and closed.
    let mut opened_ids = Vec::with_capacity(new.open.len());
    for r in &new.open {
        if r.object != c.object_code {
            return Err(StoreError::Invalid(format!(
                "a record of object {} opened by a check of {}",
                r.object, c.object_code
            )));
        }
        opened_ids.push(insert_rect::<D>(&mut *tx, object_id, Some(check_id), r).await?);
    }
    for u in &new.close {
        update_rect::<D>(&mut *tx, u, Some(check_id)).await?;
    }
    tx.commit().await.map_err(db_err)?;

    let check = check_by_id(pool, check_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut opened = Vec::with_capacity(opened_ids.len());
    for id in opened_ids {
        opened.extend(rectification(pool, id).await?);
    }
    let mut closed = Vec::with_capacity(new.close.len());
    for u in &new.close {
        closed.extend(rectification(pool, u.id).await?);
    }
    Ok(RecordedCheck {
        check,
        opened,
        closed,
    })
}

async fn check_by_id<D: Dialect>(pool: &Pool<D>, id: i64) -> Result<Option<StoredCheck>> {
    let mut q =
        QueryBuilder::<D>::new(format!("SELECT {CHECK_COLUMNS} {CHECK_FROM} WHERE c.id = "));
    q.bind(id);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(stored_check::<D>)
        .transpose()
}

/// `ObjectRepo::list_checks`.
pub async fn list_checks<D: Dialect>(
    pool: &Pool<D>,
    object: &ObjectCode,
    kind: Option<CheckKind>,
    scope: &ObjectScope,
    page: PageRequest,
) -> Result<Page<StoredCheck>> {
    let mut q = QueryBuilder::<D>::new("SELECT o.id FROM managed_objects o WHERE o.code = ");
    q.bind(object.as_str().to_string());
    push_scope(&mut q, scope);
    let row = D::fetch_optional(pool, q.build())
        .await?
        .ok_or(StoreError::NotFound)?;
    let object_id: i64 = Cols::<D>(&row).get("id")?;
    let select = format!("SELECT {CHECK_COLUMNS} {CHECK_FROM}");
    paged(
        pool,
        &select,
        CHECK_FROM,
        |q| {
            q.push(" AND c.object_id = ").bind(object_id);
            if let Some(k) = kind {
                q.push(" AND c.kind = ").bind(k.as_str());
            }
        },
        " ORDER BY c.at DESC, c.id DESC",
        page,
        stored_check::<D>,
    )
    .await
}

/// `ObjectRepo::latest_self_check`.
pub async fn latest_self_check<D: Dialect>(
    pool: &Pool<D>,
    object: &ObjectCode,
    at: DateTime<Utc>,
) -> Result<Option<StoredCheck>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {CHECK_COLUMNS} {CHECK_FROM} WHERE o.code = "
    ));
    q.bind(object.as_str().to_string())
        .push(" AND c.kind = ")
        .bind(CheckKind::SelfCheck.as_str())
        .push(" AND c.at <= ");
    D::push_ts(&mut q, at);
    q.push(" ORDER BY c.at DESC, c.id DESC LIMIT 1");
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(stored_check::<D>)
        .transpose()
}

/// `ObjectRepo::open_rectifications`.
pub async fn open_rectifications<D: Dialect>(
    pool: &Pool<D>,
    object: &ObjectCode,
) -> Result<Vec<StoredRectification>> {
    let mut q =
        QueryBuilder::<D>::new(format!("SELECT {RECT_COLUMNS} {RECT_FROM} WHERE o.code = "));
    q.bind(object.as_str().to_string())
        .push(" AND r.closed_at IS NULL ORDER BY r.id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(stored_rect::<D>)
        .collect()
}

/// `ObjectRepo::rectification`.
pub async fn rectification<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
) -> Result<Option<StoredRectification>> {
    let mut q = QueryBuilder::<D>::new(format!("SELECT {RECT_COLUMNS} {RECT_FROM} WHERE r.id = "));
    q.bind(id);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(stored_rect::<D>)
        .transpose()
}

/// `ObjectRepo::list_rectifications`.
pub async fn list_rectifications<D: Dialect>(
    pool: &Pool<D>,
    filter: &RectificationFilter,
    scope: &ObjectScope,
    page: PageRequest,
) -> Result<Page<StoredRectification>> {
    let select = format!("SELECT {RECT_COLUMNS} {RECT_FROM}");
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(code) = &filter.object {
            q.push(" AND o.code = ").bind(code.as_str().to_string());
        }
        match filter.status {
            Some(RectStatus::Open) => {
                q.push(" AND r.closed_at IS NULL");
            }
            Some(RectStatus::Closed) => {
                q.push(" AND r.closed_at IS NOT NULL");
            }
            None => {}
        }
        if let Some(stage) = filter.stage {
            q.push(" AND r.stage = ").bind(stage.as_str());
        }
        if let Some(s) = &filter.street {
            q.push(" AND r.street_code = ").bind(s.clone());
        }
        push_scope(q, scope);
    };
    paged(
        pool,
        &select,
        RECT_FROM,
        filters,
        " ORDER BY r.opened_at DESC, r.id DESC",
        page,
        stored_rect::<D>,
    )
    .await
}

/// `ObjectRepo::due_rectifications`.
pub async fn due_rectifications<D: Dialect>(
    pool: &Pool<D>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredRectification>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {RECT_COLUMNS} {RECT_FROM} WHERE r.next_due IS NOT NULL AND r.next_due <= "
    ));
    D::push_ts(&mut q, now);
    q.push(" ORDER BY r.next_due, r.id LIMIT ")
        .bind(i64::from(limit));
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(stored_rect::<D>)
        .collect()
}

/// `ObjectRepo::save_rectification`.
pub async fn save_rectification<D: Dialect>(
    pool: &Pool<D>,
    update: &RectificationUpdate,
) -> Result<StoredRectification> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    update_rect::<D>(&mut *tx, update, None).await?;
    tx.commit().await.map_err(db_err)?;
    rectification(pool, update.id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// `ObjectRepo::rectifications_awaiting_case`.
pub async fn rectifications_awaiting_case<D: Dialect>(
    pool: &Pool<D>,
    stale_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredRectification>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {RECT_COLUMNS} {RECT_FROM} WHERE r.stage = "
    ));
    q.bind(RectStage::Enforcement.as_str()).push(
        " AND r.enforcement_case_id IS NULL AND (r.enforcement_claimed_at IS NULL \
         OR r.enforcement_claimed_at < ",
    );
    D::push_ts(&mut q, stale_before);
    q.push(") ORDER BY r.id LIMIT ").bind(i64::from(limit));
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(stored_rect::<D>)
        .collect()
}

/// `ObjectRepo::claim_enforcement`.
pub async fn claim_enforcement<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool> {
    let mut q = QueryBuilder::<D>::new("UPDATE rectifications SET enforcement_claimed_at = ");
    D::push_ts(&mut q, now);
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND stage = ")
        .bind(RectStage::Enforcement.as_str())
        .push(
            " AND enforcement_case_id IS NULL AND (enforcement_claimed_at IS NULL \
             OR enforcement_claimed_at < ",
        );
    D::push_ts(&mut q, stale_before);
    q.push(") RETURNING id");
    Ok(D::fetch_optional(pool, q.build()).await?.is_some())
}

/// `ObjectRepo::link_enforcement_case`.
pub async fn link_enforcement_case<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    case_id: i64,
    photo_ids: &[i64],
) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let mut q = QueryBuilder::<D>::new("UPDATE rectifications SET enforcement_case_id = ");
    q.bind(case_id)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND enforcement_case_id IS NULL RETURNING id");
    let linked = !D::fetch_all_on(&mut *tx, q.build()).await?.is_empty();
    if linked && !photo_ids.is_empty() {
        let mut q = QueryBuilder::<D>::new("UPDATE attachments SET case_id = ");
        q.bind(case_id).push(" WHERE ");
        D::push_in_ids(&mut q, "id", photo_ids);
        q.push(
            " AND case_id IS NULL AND id IN (SELECT attachment_id FROM object_check_photos) \
             RETURNING id",
        );
        D::fetch_all_on(&mut *tx, q.build()).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(linked)
}

/// The discrepancies' tables.
const DISCREPANCY_FROM: &str =
    "FROM object_discrepancies d JOIN managed_objects o ON o.id = d.object_id";

/// The conditions of a discrepancy filter within a scope (after a `WHERE`).
fn push_discrepancy_filters<D: Dialect>(
    q: &mut QueryBuilder<D>,
    filter: &DiscrepancyFilter,
    scope: &ObjectScope,
) {
    if let Some(s) = &filter.street {
        q.push(" AND d.street_code = ").bind(s.clone());
    }
    if let Some(code) = &filter.object {
        q.push(" AND o.code = ").bind(code.as_str().to_string());
    }
    if let Some(kind) = filter.kind {
        let kind = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        q.push(" AND d.kind = ").bind(kind);
    }
    if let Some(from) = filter.from {
        q.push(" AND d.at >= ");
        D::push_ts(q, from);
    }
    if let Some(to) = filter.to {
        q.push(" AND d.at < ");
        D::push_ts(q, to);
    }
    push_scope(q, scope);
}

/// `ObjectRepo::list_discrepancies`.
pub async fn list_discrepancies<D: Dialect>(
    pool: &Pool<D>,
    filter: &DiscrepancyFilter,
    scope: &ObjectScope,
    page: PageRequest,
) -> Result<Page<StoredDiscrepancy>> {
    let select = format!(
        "SELECT d.check_id, o.code AS object_code, o.name AS object_name, d.street_code, \
         d.item_code, d.kind, d.at, d.by_user, d.self_check_at {DISCREPANCY_FROM}"
    );
    paged(
        pool,
        &select,
        DISCREPANCY_FROM,
        |q| push_discrepancy_filters(q, filter, scope),
        " ORDER BY d.at DESC, d.id DESC",
        page,
        stored_discrepancy::<D>,
    )
    .await
}

/// `ObjectRepo::discrepancies_per_street`.
pub async fn discrepancies_per_street<D: Dialect>(
    pool: &Pool<D>,
    filter: &DiscrepancyFilter,
    scope: &ObjectScope,
) -> Result<Vec<(Option<String>, u64)>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT d.street_code, count(*) AS n {DISCREPANCY_FROM} WHERE 1 = 1"
    ));
    push_discrepancy_filters(&mut q, filter, scope);
    q.push(" GROUP BY d.street_code ORDER BY n DESC, d.street_code");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let c = Cols::<D>(row);
            let n: i64 = c.get("n")?;
            Ok((c.get::<Option<String>>("street_code")?, n.max(0) as u64))
        })
        .collect()
}

/// `ObjectRepo::rectifications_opened`.
pub async fn rectifications_opened<D: Dialect>(
    pool: &Pool<D>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scope: &ObjectScope,
) -> Result<Vec<Rectification>> {
    let mut q =
        QueryBuilder::<D>::new(format!("SELECT r.record {RECT_FROM} WHERE r.opened_at >= "));
    D::push_ts(&mut q, from);
    q.push(" AND r.opened_at < ");
    D::push_ts(&mut q, to);
    push_scope(&mut q, scope);
    q.push(" ORDER BY r.id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let record: String = Cols::<D>(row).get("record")?;
            from_json::<Rectification>("rectification", &record)
        })
        .collect()
}

/// `ObjectRepo::check_photo_object`.
pub async fn check_photo_object<D: Dialect>(
    pool: &Pool<D>,
    attachment_id: i64,
) -> Result<Option<ObjectCode>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT o.code FROM object_check_photos p JOIN object_checks c ON c.id = p.check_id \
         JOIN managed_objects o ON o.id = c.object_id WHERE p.attachment_id = ",
    );
    q.bind(attachment_id);
    D::fetch_optional(pool, q.build())
        .await?
        .map(|row| {
            let code: String = Cols::<D>(&row).get("code")?;
            ObjectCode::parse(&code).map_err(|_| corrupt("object code", &code))
        })
        .transpose()
}

/// Implements `cityops_store::ObjectRepo` for `$store` with the shared queries, reading from the
/// pool field `$read` and writing through `$write`.
#[macro_export]
macro_rules! shared_object_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::ObjectRepo for $store {
            async fn create_object(
                &self,
                new: &::cityops_store::NewObject,
            ) -> ::cityops_store::Result<::cityops_store::StoredObject> {
                $crate::objects::create_object(&self.$write, new).await
            }
            async fn import_objects(
                &self,
                new: &[::cityops_store::NewObject],
            ) -> ::cityops_store::Result<Vec<::cityops_store::StoredObject>> {
                $crate::objects::import_objects(&self.$write, new).await
            }
            async fn update_object(
                &self,
                object: &::cityops_store::ManagedObject,
                expected_version: i64,
                by_user: Option<i64>,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<::cityops_store::StoredObject> {
                $crate::objects::update_object(&self.$write, object, expected_version, by_user, at)
                    .await
            }
            async fn object(
                &self,
                code: &::cityops_store::ObjectCode,
                scope: &::cityops_store::ObjectScope,
            ) -> ::cityops_store::Result<Option<::cityops_store::StoredObject>> {
                $crate::objects::object(&self.$read, code, scope).await
            }
            async fn list_objects(
                &self,
                filter: &::cityops_store::ObjectFilter,
                scope: &::cityops_store::ObjectScope,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::StoredObject>>
            {
                $crate::objects::list_objects(&self.$read, filter, scope, page).await
            }
            async fn record_check(
                &self,
                new: &::cityops_store::NewCheckRecord,
            ) -> ::cityops_store::Result<::cityops_store::RecordedCheck> {
                $crate::objects::record_check(&self.$write, new).await
            }
            async fn list_checks(
                &self,
                object: &::cityops_store::ObjectCode,
                kind: Option<::cityops_store::CheckKind>,
                scope: &::cityops_store::ObjectScope,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::StoredCheck>> {
                $crate::objects::list_checks(&self.$read, object, kind, scope, page).await
            }
            async fn latest_self_check(
                &self,
                object: &::cityops_store::ObjectCode,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Option<::cityops_store::StoredCheck>> {
                $crate::objects::latest_self_check(&self.$read, object, at).await
            }
            async fn open_rectifications(
                &self,
                object: &::cityops_store::ObjectCode,
            ) -> ::cityops_store::Result<Vec<::cityops_store::StoredRectification>> {
                $crate::objects::open_rectifications(&self.$read, object).await
            }
            async fn rectification(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::StoredRectification>> {
                $crate::objects::rectification(&self.$read, id).await
            }
            async fn list_rectifications(
                &self,
                filter: &::cityops_store::RectificationFilter,
                scope: &::cityops_store::ObjectScope,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<
                ::cityops_store::Page<::cityops_store::StoredRectification>,
            > {
                $crate::objects::list_rectifications(&self.$read, filter, scope, page).await
            }
            async fn due_rectifications(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::StoredRectification>> {
                $crate::objects::due_rectifications(&self.$read, now, limit).await
            }
            async fn save_rectification(
                &self,
                update: &::cityops_store::RectificationUpdate,
            ) -> ::cityops_store::Result<::cityops_store::StoredRectification> {
                $crate::objects::save_rectification(&self.$write, update).await
            }
            async fn rectifications_awaiting_case(
                &self,
                stale_before: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> ::cityops_store::Result<Vec<::cityops_store::StoredRectification>> {
                $crate::objects::rectifications_awaiting_case(&self.$read, stale_before, limit)
                    .await
            }
            async fn claim_enforcement(
                &self,
                id: i64,
                now: ::chrono::DateTime<::chrono::Utc>,
                stale_before: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<bool> {
                $crate::objects::claim_enforcement(&self.$write, id, now, stale_before).await
            }
            async fn link_enforcement_case(
                &self,
                id: i64,
                case_id: i64,
                photo_ids: &[i64],
            ) -> ::cityops_store::Result<bool> {
                $crate::objects::link_enforcement_case(&self.$write, id, case_id, photo_ids).await
            }
            async fn list_discrepancies(
                &self,
                filter: &::cityops_store::DiscrepancyFilter,
                scope: &::cityops_store::ObjectScope,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::StoredDiscrepancy>>
            {
                $crate::objects::list_discrepancies(&self.$read, filter, scope, page).await
            }
            async fn discrepancies_per_street(
                &self,
                filter: &::cityops_store::DiscrepancyFilter,
                scope: &::cityops_store::ObjectScope,
            ) -> ::cityops_store::Result<Vec<(Option<String>, u64)>> {
                $crate::objects::discrepancies_per_street(&self.$read, filter, scope).await
            }
            async fn rectifications_opened(
                &self,
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
                scope: &::cityops_store::ObjectScope,
            ) -> ::cityops_store::Result<Vec<::cityops_store::Rectification>> {
                $crate::objects::rectifications_opened(&self.$read, from, to, scope).await
            }
            async fn check_photo_object(
                &self,
                attachment_id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::ObjectCode>> {
                $crate::objects::check_photo_object(&self.$read, attachment_id).await
            }
        }
    };
}
