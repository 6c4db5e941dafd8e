//! The contact access log (`AccessLogRepo`): who saw which reporter's contact in full, appended
//! in one statement per request, read newest first. Written once for both stores.
use cityops_store::{
    ContactAccess, ContactAccessEntry, ContactAccessQuery, ContactAccessVia, Page, PageRequest,
    Result,
};
use sqlx::{Pool, QueryBuilder};

use crate::read::paged;
use crate::{Cols, Dialect, QueryBuilderExt, parse};

/// `AccessLogRepo::log_contact_access`: one multi-row `INSERT`.
pub async fn log_contact_access<D: Dialect>(
    pool: &Pool<D>,
    entries: &[ContactAccess],
) -> Result<()> {
    // 4 values a row; a page of the case list holds at most 1,000 cases.
    for chunk in entries.chunks(2_000) {
        let mut q = QueryBuilder::<D>::new(
            "INSERT INTO contact_access_log (at, user_id, case_id, via) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(");
            D::push_ts(&mut q, e.at);
            q.push(", ")
                .bind(e.user_id)
                .push(", ")
                .bind(e.case_id)
                .push(", ")
                .bind(e.via.as_str())
                .push(")");
        }
        D::execute(pool, q.build()).await?;
    }
    Ok(())
}

fn entry<D: Dialect>(row: &D::Row) -> Result<ContactAccessEntry> {
    let r = Cols::<D>(row);
    let via: String = r.get("via")?;
    Ok(ContactAccessEntry {
        id: r.get("id")?,
        access: ContactAccess {
            at: D::ts(row, "at")?,
            user_id: r.get("user_id")?,
            case_id: r.get("case_id")?,
            via: parse::<ContactAccessVia>("contact access", &via)?,
        },
    })
}

/// `AccessLogRepo::contact_access_log`: newest first.
pub async fn contact_access_log<D: Dialect>(
    pool: &Pool<D>,
    query: &ContactAccessQuery,
    page: PageRequest,
) -> Result<Page<ContactAccessEntry>> {
    let filters = |q: &mut QueryBuilder<D>| {
        if let Some(c) = query.case_id {
            q.push(" AND a.case_id = ").bind(c);
        }
        if let Some(u) = query.user_id {
            q.push(" AND a.user_id = ").bind(u);
        }
    };
    paged(
        pool,
        "SELECT a.id, a.at, a.user_id, a.case_id, a.via FROM contact_access_log a",
        "FROM contact_access_log a",
        filters,
        " ORDER BY a.id DESC",
        page,
        entry::<D>,
    )
    .await
}
