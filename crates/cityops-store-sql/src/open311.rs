//! `Open311Repo`, written once for both stores: the client applications (keys by hash, looked up
//! and stamped in one statement), the request records, and the reads of `GET requests` and
//! `GET servicerequestupdates`.
//!
//! `open311_requests` costs three statements whatever the page's size: the count, the page of
//! cases (with the department's name and the Open311 record joined in) and the events of the
//! page's cases (one `IN` list). The category kind of a case lives only in its document, so the
//! published-services filter tests the indexed `category_code` and then the document's kind.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cityops_store::{
    CategoryKind, NewOpen311Client, NewOpen311Request, Open311Client, Open311Meta, Open311Query,
    Open311Record, Open311Update, Open311UpdateQuery, Page, PageRequest, Result, StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::cases::{case, event};
use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, corrupt};

const CLIENT_COLUMNS: &str = "id, name, contact, created_by, created_at, revoked_at, last_used_at";

/// The event columns over `case_events e` (what [`event`] decodes).
const EVENT_COLUMNS_E: &str = "e.seq, e.case_id, e.action, e.actor_id, e.actor_role, e.at, \
     e.from_status, e.to_status, e.comment, e.attachments, e.data, e.prev_hash, e.hash";

fn client<D: Dialect>(row: &D::Row) -> Result<Open311Client> {
    let r = Cols::<D>(row);
    Ok(Open311Client {
        id: r.get("id")?,
        name: r.get("name")?,
        contact: r.get("contact")?,
        created_by: r.get("created_by")?,
        created_at: D::ts(row, "created_at")?,
        revoked_at: D::opt_ts(row, "revoked_at")?,
        last_used_at: D::opt_ts(row, "last_used_at")?,
    })
}

/// `AND (<case c is of one of the services>)`; nothing matches an empty list.
fn push_services<D: Dialect>(q: &mut QueryBuilder<D>, services: &[(CategoryKind, String)]) {
    let mut by_kind: Vec<(CategoryKind, Vec<&str>)> = Vec::new();
    for (kind, code) in services {
        match by_kind.iter_mut().find(|(k, _)| k == kind) {
            Some((_, codes)) => codes.push(code),
            None => by_kind.push((*kind, vec![code])),
        }
    }
    if by_kind.is_empty() {
        q.push(" AND 1 = 0");
        return;
    }
    q.push(" AND (");
    for (i, (kind, codes)) in by_kind.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push("(");
        D::push_in_strs(q, "c.category_code", codes);
        q.push(" AND ");
        D::push_doc_field(q, "category_kind");
        q.push(" = ").bind(kind.as_str().to_string()).push(")");
    }
    q.push(")");
}

/// `Open311Repo::create_open311_client`.
pub async fn create_open311_client<D: Dialect>(
    pool: &Pool<D>,
    c: &NewOpen311Client,
) -> Result<Open311Client> {
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO open311_clients (name, contact, key_hash, created_by, created_at) VALUES (",
    );
    q.bind(c.name.clone())
        .push(", ")
        .bind(c.contact.clone())
        .push(", ")
        .bind(c.key_hash.clone())
        .push(", ")
        .bind(c.created_by)
        .push(", ");
    D::push_ts(&mut q, c.created_at);
    q.push(format_args!(") RETURNING {CLIENT_COLUMNS}"));
    let row = D::fetch_one(pool, q.build()).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict("this API key is registered already".into())
        }
        StoreError::Invalid(_) => StoreError::Invalid(format!(
            "no user {} to have issued the key",
            c.created_by.unwrap_or_default()
        )),
        other => other,
    })?;
    client::<D>(&row)
}

/// `Open311Repo::list_open311_clients`.
pub async fn list_open311_clients<D: Dialect>(
    pool: &Pool<D>,
    page: PageRequest,
) -> Result<Page<Open311Client>> {
    paged(
        pool,
        &format!("SELECT {CLIENT_COLUMNS} FROM open311_clients"),
        "FROM open311_clients",
        |_| {},
        " ORDER BY created_at DESC, id DESC",
        page,
        client::<D>,
    )
    .await
}

/// `Open311Repo::get_open311_client`.
pub async fn get_open311_client<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
) -> Result<Option<Open311Client>> {
    let mut q = QueryBuilder::<D>::new(format!(
        "SELECT {CLIENT_COLUMNS} FROM open311_clients WHERE id = "
    ));
    q.bind(id);
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(client::<D>)
        .transpose()
}

/// `Open311Repo::revoke_open311_client`.
pub async fn revoke_open311_client<D: Dialect>(
    pool: &Pool<D>,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<Open311Client>> {
    let mut q =
        QueryBuilder::<D>::new("UPDATE open311_clients SET revoked_at = COALESCE(revoked_at, ");
    D::push_ts(&mut q, at);
    q.push(") WHERE id = ")
        .bind(id)
        .push(format_args!(" RETURNING {CLIENT_COLUMNS}"));
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(client::<D>)
        .transpose()
}

/// `Open311Repo::open311_client_by_key`.
pub async fn open311_client_by_key<D: Dialect>(
    pool: &Pool<D>,
    key_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Open311Client>> {
    let mut q = QueryBuilder::<D>::new("UPDATE open311_clients SET last_used_at = ");
    D::push_ts(&mut q, now);
    q.push(" WHERE key_hash = ")
        .bind(key_hash.to_string())
        .push(format_args!(
            " AND revoked_at IS NULL RETURNING {CLIENT_COLUMNS}"
        ));
    D::fetch_optional(pool, q.build())
        .await?
        .as_ref()
        .map(client::<D>)
        .transpose()
}

/// `Open311Repo::add_open311_request`.
pub async fn add_open311_request<D: Dialect>(pool: &Pool<D>, r: &NewOpen311Request) -> Result<()> {
    if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&r.attributes).is_err() {
        return Err(StoreError::Invalid(
            "an Open311 request's attributes must be a JSON object".into(),
        ));
    }
    let media = serde_json::to_string(&r.media_urls)
        .map_err(|e| StoreError::Invalid(format!("media_urls: {e}")))?;
    let q = sqlx::query(
        "INSERT INTO open311_requests (case_id, client_id, token, created_at, media_urls, \
         attributes) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .arg(r.case_id)
    .arg(r.client_id)
    .arg(r.token.clone());
    let q = D::arg_ts(q, r.created_at)
        .arg(media)
        .arg(r.attributes.clone());
    D::execute(pool, q).await.map_err(|e| match e {
        StoreError::Invalid(_) => StoreError::Invalid(format!(
            "no case {} or no Open311 client {}",
            r.case_id, r.client_id
        )),
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "case {} or token {:?} has an Open311 record already",
            r.case_id, r.token
        )),
        other => other,
    })?;
    Ok(())
}

/// `Open311Repo::open311_token_case`.
pub async fn open311_token_case<D: Dialect>(pool: &Pool<D>, token: &str) -> Result<Option<String>> {
    let q = sqlx::query(
        "SELECT c.code FROM open311_requests r JOIN cases c ON c.id = r.case_id WHERE r.token = $1",
    )
    .arg(token.to_string());
    D::fetch_optional(pool, q)
        .await?
        .as_ref()
        .map(|row| Cols::<D>(row).get::<String>("code"))
        .transpose()
}

/// A page row of `open311_requests` before its events are attached.
struct Row {
    case: cityops_store::Case,
    department_name: Option<String>,
    meta: Option<Open311Meta>,
}

fn request_row<D: Dialect>(row: &D::Row) -> Result<Row> {
    let r = Cols::<D>(row);
    let meta = match r.get::<Option<String>>("o_token")? {
        None => None,
        Some(token) => {
            let media: String = r.get("o_media_urls")?;
            Some(Open311Meta {
                client_id: r.get("o_client_id")?,
                token,
                media_urls: serde_json::from_str(&media)
                    .map_err(|_| corrupt("Open311 media_urls", &media))?,
                attributes: r.get("o_attributes")?,
            })
        }
    };
    Ok(Row {
        case: case::<D>(row)?,
        department_name: r.get("department_name")?,
        meta,
    })
}

/// `Open311Repo::open311_requests`.
pub async fn open311_requests<D: Dialect>(
    pool: &Pool<D>,
    query: &Open311Query,
    page: PageRequest,
) -> Result<Page<Open311Record>> {
    const SELECT: &str = "SELECT c.id, c.code, c.version, c.lng, c.lat, c.doc, \
         d.name AS department_name, r.client_id AS o_client_id, r.token AS o_token, \
         r.media_urls AS o_media_urls, r.attributes AS o_attributes \
         FROM cases c LEFT JOIN departments d ON d.id = c.department_id \
         LEFT JOIN open311_requests r ON r.case_id = c.id";
    let filters = |q: &mut QueryBuilder<D>| {
        push_services(q, &query.services);
        if !query.codes.is_empty() {
            let codes: Vec<&str> = query.codes.iter().map(String::as_str).collect();
            q.push(" AND ");
            D::push_in_strs(q, "c.code", &codes);
            return;
        }
        if !query.statuses.is_empty() {
            let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
            q.push(" AND ");
            D::push_in_strs(q, "c.status", &statuses);
        }
        if let Some(from) = query.from {
            q.push(" AND c.created_at >= ");
            D::push_ts(q, from);
        }
        if let Some(to) = query.to {
            q.push(" AND c.created_at <= ");
            D::push_ts(q, to);
        }
    };
    let rows = paged(
        pool,
        SELECT,
        "FROM cases c",
        filters,
        " ORDER BY c.created_at DESC, c.id DESC",
        page,
        request_row::<D>,
    )
    .await?;
    let ids: Vec<i64> = rows.items.iter().map(|r| r.case.id).collect();
    let mut events: HashMap<i64, Vec<cityops_store::CaseEvent>> = HashMap::new();
    if !ids.is_empty() {
        let mut q = QueryBuilder::<D>::new(format!(
            "SELECT {EVENT_COLUMNS_E} FROM case_events e WHERE "
        ));
        D::push_in_ids(&mut q, "e.case_id", &ids);
        q.push(" ORDER BY e.case_id, e.seq");
        for row in D::fetch_all(pool, q.build()).await? {
            let e = event::<D>(&row)?;
            events.entry(e.event.case_id).or_default().push(e);
        }
    }
    let items = rows
        .items
        .into_iter()
        .map(|r| Open311Record {
            events: events.remove(&r.case.id).unwrap_or_default(),
            case: r.case,
            department_name: r.department_name,
            meta: r.meta,
        })
        .collect();
    Ok(Page::new(items, rows.total, page))
}

fn update_row<D: Dialect>(row: &D::Row) -> Result<Open311Update> {
    Ok(Open311Update {
        event: event::<D>(row)?,
        case_code: Cols::<D>(row).get("case_code")?,
    })
}

/// `Open311Repo::open311_updates`: the events of the listed actions within the window, both ends
/// included (the
/// `(action, at)` index answers one range per action), of published cases.
pub async fn open311_updates<D: Dialect>(
    pool: &Pool<D>,
    query: &Open311UpdateQuery,
    page: PageRequest,
) -> Result<Page<Open311Update>> {
    const FROM: &str = "FROM case_events e JOIN cases c ON c.id = e.case_id";
    let select = format!("SELECT {EVENT_COLUMNS_E}, c.code AS case_code {FROM}");
    let actions: Vec<&str> = query.actions.iter().map(String::as_str).collect();
    let filters = |q: &mut QueryBuilder<D>| {
        if actions.is_empty() {
            q.push(" AND 1 = 0");
            return;
        }
        q.push(" AND ");
        D::push_in_strs(q, "e.action", &actions);
        q.push(" AND e.at >= ");
        D::push_ts(q, query.from);
        q.push(" AND e.at <= ");
        D::push_ts(q, query.to);
        push_services(q, &query.services);
    };
    paged(
        pool,
        &select,
        FROM,
        filters,
        " ORDER BY e.seq",
        page,
        update_row::<D>,
    )
    .await
}

/// Implements `Open311Repo` for a store type: reads from the pool field `$read`, writes through
/// `$write`. Expanded once in each store crate.
#[macro_export]
macro_rules! shared_open311_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::Open311Repo for $store {
            async fn create_open311_client(
                &self,
                client: &::cityops_store::NewOpen311Client,
            ) -> ::cityops_store::Result<::cityops_store::Open311Client> {
                $crate::open311::create_open311_client(&self.$write, client).await
            }

            async fn list_open311_clients(
                &self,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Open311Client>>
            {
                $crate::open311::list_open311_clients(&self.$read, page).await
            }

            async fn get_open311_client(
                &self,
                id: i64,
            ) -> ::cityops_store::Result<Option<::cityops_store::Open311Client>> {
                $crate::open311::get_open311_client(&self.$read, id).await
            }

            async fn revoke_open311_client(
                &self,
                id: i64,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Option<::cityops_store::Open311Client>> {
                $crate::open311::revoke_open311_client(&self.$write, id, at).await
            }

            async fn open311_client_by_key(
                &self,
                key_hash: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<Option<::cityops_store::Open311Client>> {
                $crate::open311::open311_client_by_key(&self.$write, key_hash, now).await
            }

            async fn add_open311_request(
                &self,
                request: &::cityops_store::NewOpen311Request,
            ) -> ::cityops_store::Result<()> {
                $crate::open311::add_open311_request(&self.$write, request).await
            }

            async fn open311_token_case(
                &self,
                token: &str,
            ) -> ::cityops_store::Result<Option<String>> {
                $crate::open311::open311_token_case(&self.$read, token).await
            }

            async fn open311_requests(
                &self,
                query: &::cityops_store::Open311Query,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Open311Record>>
            {
                $crate::open311::open311_requests(&self.$read, query, page).await
            }

            async fn open311_updates(
                &self,
                query: &::cityops_store::Open311UpdateQuery,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::Open311Update>>
            {
                $crate::open311::open311_updates(&self.$read, query, page).await
            }
        }
    };
}
