//! `ReviewRepo` (第三方评价), alike on both stores: the closed cases of a period read from the
//! case documents (`closed_at` has no column: the `cases` table is not this repository's to
//! change), samples kept once per department and period, one review per case with its photo
//! claimed in the same transaction, the reviewer's tasks within their visibility, and the
//! per-department scores.
use chrono::{DateTime, Utc};
use cityops_domain::case::CaseStatus;
use cityops_store::{
    CaseVisibility, DepartmentReviewScore, DepartmentSample, NewReview, Page, PageRequest, Result,
    Review, ReviewCandidate, ReviewPeriod, ReviewTask, SampledCase, StoreError,
};
use sqlx::{Pool, QueryBuilder};

use crate::cases::push_visibility;
use crate::read::{paged, push_covers};
use crate::{Cols, Dialect, QueryBuilderExt, QueryExt, corrupt, db_err};

/// `ReviewRepo::review_candidates`: the closed cases with a department whose document's
/// `closed_at` lies in the period. SQL narrows them by what a case closed in the period must
/// have — status `closed`, reported before its end (the status index drives), last changed at
/// or after its start (closing changes the case; only a rating changes it later) — and the
/// closing time is read from the document and compared here.
pub async fn review_candidates<D: Dialect>(
    pool: &Pool<D>,
    period: &ReviewPeriod,
) -> Result<Vec<ReviewCandidate>> {
    let mut q = QueryBuilder::<D>::new("SELECT c.id AS id, c.department_id AS department_id, ");
    D::push_doc_field(&mut q, "closed_at");
    q.push(" AS closed_at FROM cases c WHERE c.status = ")
        .bind(CaseStatus::Closed.as_str())
        .push(" AND c.department_id IS NOT NULL AND c.created_at < ");
    D::push_ts(&mut q, period.to);
    q.push(" AND c.updated_at >= ");
    D::push_ts(&mut q, period.from);
    q.push(" ORDER BY c.id");
    let mut out = Vec::new();
    for row in &D::fetch_all(pool, q.build()).await? {
        let r = Cols::<D>(row);
        let id: i64 = r.get("id")?;
        let closed: Option<String> = r.get("closed_at")?;
        let Some(closed) = closed else {
            // A closed case always carries its closing time; one without it cannot be placed.
            tracing::warn!(case_id = id, "a closed case without closed_at");
            continue;
        };
        let closed_at = DateTime::parse_from_rfc3339(&closed)
            .map_err(|_| corrupt("closing time", &closed))?
            .with_timezone(&Utc);
        if period.contains(closed_at) {
            out.push(ReviewCandidate {
                case_id: id,
                department_id: r.get("department_id")?,
                closed_at,
            });
        }
    }
    Ok(out)
}

/// `ReviewRepo::save_review_sample`: per department one statement that inserts its cases unless
/// the department already has a sample of this period (then nothing).
pub async fn save_review_sample<D: Dialect>(
    pool: &Pool<D>,
    period: &ReviewPeriod,
    samples: &[DepartmentSample],
    drawn_at: DateTime<Utc>,
) -> Result<u64> {
    let mut added = 0;
    for sample in samples {
        let mut ids = sample.case_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        // Every case must exist (an id list inserts only the ids it finds).
        let mut known = QueryBuilder::<D>::new("SELECT count(*) AS n FROM cases c WHERE ");
        D::push_in_ids(&mut known, "c.id", &ids);
        let n: i64 = Cols::<D>(&D::fetch_one(pool, known.build()).await?).get("n")?;
        if usize::try_from(n).ok() != Some(ids.len()) {
            return Err(StoreError::Invalid(format!(
                "the sample of department {} names a case that does not exist",
                sample.department_id
            )));
        }
        let mut q = QueryBuilder::<D>::new(
            "INSERT INTO review_samples (period_from, period_to, department_id, case_id, drawn_at) \
             SELECT ",
        );
        D::push_ts(&mut q, period.from);
        q.push(", ");
        D::push_ts(&mut q, period.to);
        q.push(", ").bind(sample.department_id).push(", c.id, ");
        D::push_ts(&mut q, drawn_at);
        q.push(" FROM cases c WHERE ");
        D::push_in_ids(&mut q, "c.id", &ids);
        q.push(" AND NOT EXISTS (SELECT 1 FROM review_samples s WHERE s.period_from = ");
        D::push_ts(&mut q, period.from);
        q.push(" AND s.period_to = ");
        D::push_ts(&mut q, period.to);
        q.push(" AND s.department_id = ")
            .bind(sample.department_id)
            .push(") ON CONFLICT DO NOTHING");
        added += D::execute(pool, q.build()).await.map_err(|e| match e {
            StoreError::Invalid(_) => StoreError::Invalid(format!(
                "no department {} (or a case of its sample is missing)",
                sample.department_id
            )),
            other => other,
        })?;
    }
    Ok(added)
}

/// Decodes a `review_samples s` row (`period_from`, `period_to`, `department_id`, `case_id`,
/// `drawn_at`).
fn sampled<D: Dialect>(row: &D::Row) -> Result<SampledCase> {
    let r = Cols::<D>(row);
    Ok(SampledCase {
        period: ReviewPeriod {
            from: D::ts(row, "period_from")?,
            to: D::ts(row, "period_to")?,
        },
        department_id: r.get("department_id")?,
        case_id: r.get("case_id")?,
        drawn_at: D::ts(row, "drawn_at")?,
    })
}

/// `ReviewRepo::review_sample`.
pub async fn review_sample<D: Dialect>(
    pool: &Pool<D>,
    period: &ReviewPeriod,
) -> Result<Vec<SampledCase>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT s.period_from, s.period_to, s.department_id, s.case_id, s.drawn_at \
         FROM review_samples s WHERE s.period_from = ",
    );
    D::push_ts(&mut q, period.from);
    q.push(" AND s.period_to = ");
    D::push_ts(&mut q, period.to);
    q.push(" ORDER BY s.department_id, s.case_id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(sampled::<D>)
        .collect()
}

/// The columns of a review, over `reviews r` (for [`review`]).
const REVIEW_COLUMNS: &str = "r.case_id AS r_case_id, r.period_from AS r_period_from, \
     r.period_to AS r_period_to, r.department_id AS r_department_id, r.reviewer_id AS r_reviewer_id, \
     CAST(r.score AS BIGINT) AS r_score, r.comment AS r_comment, r.attachment_id AS r_attachment_id, \
     r.created_at AS r_created_at";

/// Decodes [`REVIEW_COLUMNS`]; `None` for the all-NULL columns of a missing (left-joined) review.
fn review<D: Dialect>(row: &D::Row) -> Result<Option<Review>> {
    let r = Cols::<D>(row);
    let Some(case_id) = r.get::<Option<i64>>("r_case_id")? else {
        return Ok(None);
    };
    let score: i64 = r.get("r_score")?;
    Ok(Some(Review {
        case_id,
        department_id: r.get("r_department_id")?,
        period: ReviewPeriod {
            from: D::ts(row, "r_period_from")?,
            to: D::ts(row, "r_period_to")?,
        },
        reviewer_id: r.get("r_reviewer_id")?,
        score: u8::try_from(score).map_err(|_| corrupt("review score", &score.to_string()))?,
        comment: r.get("r_comment")?,
        attachment_id: r.get("r_attachment_id")?,
        created_at: D::ts(row, "r_created_at")?,
    }))
}

fn task<D: Dialect>(row: &D::Row) -> Result<ReviewTask> {
    let r = Cols::<D>(row);
    Ok(ReviewTask {
        sample: sampled::<D>(row)?,
        case_code: r.get("case_code")?,
        review: review::<D>(row)?,
        photo: r.get("photo")?,
    })
}

/// `ReviewRepo::review_tasks`: the sampled cases `vis` sees, unreviewed first, newest periods
/// first, by case id (a total order: a case is in a period's sample once).
pub async fn review_tasks<D: Dialect>(
    pool: &Pool<D>,
    vis: &CaseVisibility,
    page: PageRequest,
) -> Result<Page<ReviewTask>> {
    const FROM: &str = "FROM review_samples s JOIN cases c ON c.id = s.case_id \
         LEFT JOIN reviews r ON r.case_id = s.case_id \
         LEFT JOIN attachments a ON a.id = r.attachment_id";
    let select = format!(
        "SELECT s.period_from, s.period_to, s.department_id, s.case_id, s.drawn_at, \
         c.code AS case_code, {REVIEW_COLUMNS}, a.public_id AS photo {FROM}"
    );
    paged(
        pool,
        &select,
        FROM,
        |q| push_visibility(q, vis),
        " ORDER BY CASE WHEN r.case_id IS NULL THEN 0 ELSE 1 END, s.period_from DESC, \
         s.period_to DESC, s.case_id",
        page,
        task::<D>,
    )
    .await
}

/// `ReviewRepo::save_review`: the review of the earliest sample holding the case (visible to
/// `vis`), then the photo's claim, in one transaction that starts with the write.
pub async fn save_review<D: Dialect>(
    pool: &Pool<D>,
    new: &NewReview,
    vis: &CaseVisibility,
) -> Result<Review> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let mut q = QueryBuilder::<D>::new(
        "INSERT INTO reviews (case_id, period_from, period_to, department_id, reviewer_id, \
         score, comment, attachment_id, created_at) \
         SELECT s.case_id, s.period_from, s.period_to, s.department_id, ",
    );
    q.bind(new.reviewer_id)
        .push(", ")
        .bind(i64::from(new.score))
        .push(", ")
        .bind(new.comment.clone())
        .push(", ")
        .bind(new.attachment_id)
        .push(", ");
    D::push_ts(&mut q, new.created_at);
    q.push(" FROM review_samples s JOIN cases c ON c.id = s.case_id WHERE s.case_id = ")
        .bind(new.case_id);
    push_visibility(&mut q, vis);
    q.push(
        " ORDER BY s.period_from, s.period_to LIMIT 1 RETURNING case_id AS r_case_id, \
         period_from AS r_period_from, period_to AS r_period_to, department_id AS r_department_id, \
         reviewer_id AS r_reviewer_id, CAST(score AS BIGINT) AS r_score, comment AS r_comment, \
         attachment_id AS r_attachment_id, created_at AS r_created_at",
    );
    let rows = D::fetch_all_on(&mut *tx, q.build())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("case {} has been reviewed already", new.case_id))
            }
            other => other,
        })?;
    let Some(saved) = rows.first().map(review::<D>).transpose()?.flatten() else {
        return Err(StoreError::NotFound);
    };
    if let Some(photo) = new.attachment_id {
        let claim = sqlx::query(
            "UPDATE attachments SET case_id = $1 \
             WHERE id = $2 AND case_id IS NULL AND uploaded_by = $3 RETURNING id",
        )
        .arg(new.case_id)
        .arg(photo)
        .arg(new.reviewer_id);
        if D::fetch_all_on(&mut *tx, claim).await?.is_empty() {
            return Err(StoreError::Invalid(
                "the review's photo does not exist, was not uploaded by the reviewer or already \
                 belongs to a case"
                    .into(),
            ));
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(saved)
}

/// `ReviewRepo::review_scores_within`: each case once per department (however many samples of
/// the range hold it), its review if any.
pub async fn review_scores_within<D: Dialect>(
    pool: &Pool<D>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    region_code: Option<&str>,
) -> Result<Vec<DepartmentReviewScore>> {
    let mut q = QueryBuilder::<D>::new(
        "SELECT s.department_id AS department_id, count(*) AS sampled, \
         count(r.case_id) AS reviewed, coalesce(sum(r.score), 0) AS score_sum \
         FROM (SELECT DISTINCT department_id, case_id FROM review_samples \
         WHERE period_from >= ",
    );
    D::push_ts(&mut q, from);
    q.push(" AND period_to <= ");
    D::push_ts(&mut q, to);
    q.push(
        ") s LEFT JOIN reviews r ON r.case_id = s.case_id \
         JOIN departments d ON d.id = s.department_id WHERE 1 = 1",
    );
    if let Some(region) = region_code {
        push_covers(&mut q, "d.region_code", region);
    }
    q.push(" GROUP BY s.department_id ORDER BY s.department_id");
    D::fetch_all(pool, q.build())
        .await?
        .iter()
        .map(|row| {
            let r = Cols::<D>(row);
            let n = |col: &str| -> Result<u64> { Ok(r.get::<i64>(col)?.max(0) as u64) };
            Ok(DepartmentReviewScore::new(
                r.get("department_id")?,
                n("sampled")?,
                n("reviewed")?,
                n("score_sum")?,
            ))
        })
        .collect()
}

/// Implements `ReviewRepo` for a store type, reading from the pool field `$read` and writing
/// through `$write` (the same field where the store has one pool). Expanded once in each store
/// crate.
#[macro_export]
macro_rules! shared_review_repo {
    ($store:ty, read: $read:ident, write: $write:ident) => {
        #[$crate::__async_trait]
        impl ::cityops_store::ReviewRepo for $store {
            async fn review_candidates(
                &self,
                period: &::cityops_store::ReviewPeriod,
            ) -> ::cityops_store::Result<Vec<::cityops_store::ReviewCandidate>> {
                $crate::review::review_candidates(&self.$read, period).await
            }

            async fn save_review_sample(
                &self,
                period: &::cityops_store::ReviewPeriod,
                samples: &[::cityops_store::DepartmentSample],
                drawn_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::cityops_store::Result<u64> {
                $crate::review::save_review_sample(&self.$write, period, samples, drawn_at).await
            }

            async fn review_sample(
                &self,
                period: &::cityops_store::ReviewPeriod,
            ) -> ::cityops_store::Result<Vec<::cityops_store::SampledCase>> {
                $crate::review::review_sample(&self.$read, period).await
            }

            async fn review_tasks(
                &self,
                vis: &::cityops_store::CaseVisibility,
                page: ::cityops_store::PageRequest,
            ) -> ::cityops_store::Result<::cityops_store::Page<::cityops_store::ReviewTask>> {
                $crate::review::review_tasks(&self.$read, vis, page).await
            }

            async fn save_review(
                &self,
                review: &::cityops_store::NewReview,
                vis: &::cityops_store::CaseVisibility,
            ) -> ::cityops_store::Result<::cityops_store::Review> {
                $crate::review::save_review(&self.$write, review, vis).await
            }

            async fn review_scores_within(
                &self,
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
                region_code: Option<&str>,
            ) -> ::cityops_store::Result<Vec<::cityops_store::DepartmentReviewScore>> {
                $crate::review::review_scores_within(&self.$read, from, to, region_code).await
            }
        }
    };
}
