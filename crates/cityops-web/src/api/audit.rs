//! The audit chain (审计链): recompute the events' hashes and name the first broken link. A
//! verification resumes from the last link an earlier one found intact (the store's
//! [`AuditCheckpoint`]), so it stays fast at millions of events; `?full=true` re-checks all.
use axum::extract::State;
use cityops_domain::Role;
use cityops_domain::case::{GENESIS_HASH, verify_chain};
use cityops_store::{AuditCheckpoint, Store};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;
use crate::views::{AuditVerifyView, BrokenLinkView, ContactAccessList, ContactAccessView};

/// Events read per round trip.
const CHUNK: u32 = 5_000;

/// The audit routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_audit))
        .routes(routes!(contact_access_log))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VerifyParams {
    /// `true` re-checks the whole chain from the first event; by default only the events after
    /// the last link an earlier verification found intact are checked (and that link itself).
    #[param(example = false)]
    full: Option<bool>,
}

/// What one pass over the chain found.
struct Pass {
    /// Events verified in this pass.
    checked: u64,
    /// The last verified link.
    head_seq: i64,
    head_hash: String,
    broken: Option<BrokenLinkView>,
}

/// Verifies the chain after (`head_seq`, `head_hash`) to its end, in chunks.
async fn verify_after(
    store: &dyn Store,
    mut head_seq: i64,
    mut head_hash: String,
) -> ApiResult<Pass> {
    let mut checked = 0u64;
    loop {
        let events = store.audit_events(head_seq, CHUNK).await?;
        if events.is_empty() {
            break;
        }
        let n = events.len();
        match verify_chain(head_seq, head_hash.clone(), &events) {
            Ok((seq, hash)) => {
                checked += n as u64;
                head_seq = seq;
                head_hash = hash;
            }
            Err(broken) => {
                // Everything before the broken link verified.
                checked += events.iter().filter(|e| e.seq < broken.seq).count() as u64;
                if let Some(e) = events.iter().take_while(|e| e.seq < broken.seq).last() {
                    head_seq = e.seq;
                    head_hash = e.hash.clone();
                }
                return Ok(Pass {
                    checked,
                    head_seq,
                    head_hash,
                    broken: Some(BrokenLinkView {
                        seq: broken.seq,
                        reason: broken.reason,
                    }),
                });
            }
        }
        if n < CHUNK as usize {
            break;
        }
    }
    Ok(Pass {
        checked,
        head_seq,
        head_hash,
        broken: None,
    })
}

/// Why the checkpoint's link no longer holds, if it does not: the event at its seq must still
/// have the verified hash and still hash to it from its own content.
async fn checkpoint_broken(store: &dyn Store, cp: &AuditCheckpoint) -> ApiResult<Option<String>> {
    let events = store.audit_events(cp.seq - 1, 1).await?;
    let at = cp.verified_at.to_rfc3339();
    Ok(match events.first() {
        Some(e) if e.seq == cp.seq => {
            if e.hash != cp.hash {
                Some(format!(
                    "the event's hash differs from the one verified at {at}"
                ))
            } else {
                verify_chain(e.seq - 1, e.prev_hash.clone(), events.iter())
                    .err()
                    .map(|b| b.reason)
            }
        }
        _ => Some(format!("the event verified at {at} is missing")),
    })
}

/// 审计校验: recomputes the hash chain of the case events and answers the head or the first
/// broken link (an edited, inserted or deleted event). By default it starts from the last link
/// an earlier verification found intact (`from_seq`): that event must be unchanged, and the
/// events after it are checked; an edit of an older event is then found only by `full=true`,
/// which re-checks every event from the first. An intact chain moves that checkpoint to its
/// head. Administrators and leaders only.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(VerifyParams),
    responses(
        (status = 200, body = AuditVerifyView),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or leader", body = ErrorBody),
    )
)]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<VerifyParams>,
) -> ApiResult<axum::Json<AuditVerifyView>> {
    if !(user.has_role(Role::Admin) || user.has_role(Role::Leader)) {
        return Err(ApiError::forbidden(
            "Verifying the audit chain requires the role admin or leader.",
        ));
    }
    let store = state.store.as_ref();
    let checkpoint = match params.full {
        Some(true) => None,
        _ => store.audit_checkpoint().await?,
    };
    // A checkpoint whose link changed: re-check everything, and report the checkpoint's link
    // if everything before it still verifies (the chain was cut back or rewritten from there).
    let mut lost: Option<(i64, String)> = None;
    let start = match &checkpoint {
        Some(cp) => match checkpoint_broken(store, cp).await? {
            None => Some((cp.seq, cp.hash.clone())),
            Some(reason) => {
                lost = Some((cp.seq, reason));
                None
            }
        },
        None => None,
    };
    let (from_seq, from_hash) = start.unwrap_or((0, GENESIS_HASH.to_string()));
    let mut pass = verify_after(store, from_seq, from_hash).await?;
    if let (None, Some((seq, reason))) = (&pass.broken, lost) {
        pass.broken = Some(BrokenLinkView { seq, reason });
    }
    if pass.broken.is_none() && pass.head_seq > 0 {
        store
            .save_audit_checkpoint(&AuditCheckpoint {
                seq: pass.head_seq,
                hash: pass.head_hash.clone(),
                verified_at: state.clock.now(),
            })
            .await?;
    }
    Ok(axum::Json(AuditVerifyView {
        ok: pass.broken.is_none(),
        checked: pass.checked,
        head_seq: pass.head_seq,
        head_hash: pass.head_hash,
        broken: pass.broken,
        from_seq,
        full: from_seq == 0,
    }))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContactAccessParams {
    /// Only the views of this case's contact.
    case_id: Option<i64>,
    /// Only the views by this user.
    user_id: Option<i64>,
}

/// 个人信息访问记录: who saw which reporter's name and phone in full, when and how (`case`
/// detail, `list` page, `action` answer, case `export`), newest first. Every full view by an intake operator,
/// supervisor or dispatcher is written here before it is answered; the log cannot be changed.
/// Administrators and leaders only.
#[utoipa::path(
    get,
    path = "/api/v1/audit/contact-access",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    params(ContactAccessParams, PageParams),
    responses(
        (status = 200, body = ContactAccessList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or leader", body = ErrorBody),
    )
)]
pub(crate) async fn contact_access_log(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ContactAccessParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<ContactAccessList>> {
    if !(user.has_role(Role::Admin) || user.has_role(Role::Leader)) {
        return Err(ApiError::forbidden(
            "Reading the contact access log requires the role admin or leader.",
        ));
    }
    let page = pp.request()?;
    let got = state
        .store
        .contact_access_log(
            &cityops_store::ContactAccessQuery {
                case_id: params.case_id,
                user_id: params.user_id,
            },
            page,
        )
        .await?;
    Ok(axum::Json(ContactAccessList::from_page(got, |e| {
        ContactAccessView {
            id: e.id,
            at: e.access.at,
            user_id: e.access.user_id,
            case_id: e.access.case_id,
            via: e.access.via.as_str().to_string(),
        }
    })))
}
