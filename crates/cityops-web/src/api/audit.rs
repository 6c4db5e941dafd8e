//! The audit chain (审计链): recompute every event's hash and name the first broken link.
use axum::extract::State;
use cityops_domain::Role;
use cityops_domain::case::{GENESIS_HASH, verify_chain};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::CurrentUser;
use crate::state::AppState;
use crate::views::{AuditVerifyView, BrokenLinkView};

/// Events read per round trip.
const CHUNK: u32 = 5_000;

/// The audit routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify_audit))
}

/// 审计校验: recomputes the hash chain of all case events from the first, in chunks, and
/// answers the head or the first broken link (an edited, inserted or deleted event).
/// Administrators and leaders only.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "cases",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = AuditVerifyView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator or leader", body = ErrorBody),
    )
)]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<AuditVerifyView>> {
    if !(user.has_role(Role::Admin) || user.has_role(Role::Leader)) {
        return Err(ApiError::forbidden(
            "Verifying the audit chain requires the role admin or leader.",
        ));
    }
    let mut head_seq = 0;
    let mut head_hash = GENESIS_HASH.to_string();
    let mut checked = 0u64;
    loop {
        let events = state.store.audit_events(head_seq, CHUNK).await?;
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
                let (seq, hash) = events
                    .iter()
                    .take_while(|e| e.seq < broken.seq)
                    .last()
                    .map_or((head_seq, head_hash.clone()), |e| (e.seq, e.hash.clone()));
                return Ok(axum::Json(AuditVerifyView {
                    ok: false,
                    checked,
                    head_seq: seq,
                    head_hash: hash,
                    broken: Some(BrokenLinkView {
                        seq: broken.seq,
                        reason: broken.reason,
                    }),
                }));
            }
        }
        if n < CHUNK as usize {
            break;
        }
    }
    Ok(axum::Json(AuditVerifyView {
        ok: true,
        checked,
        head_seq,
        head_hash,
        broken: None,
    }))
}
