//! The rule of claiming photos (证据照片) for a case: every attachment an event lists must exist
//! and belong to no other case; a store checks it inside the case's transaction, so two concurrent
//! reports can never both claim one photo.
use std::collections::BTreeSet;

use crate::StoreError;

/// The error of an attachment claim, or `None` when `case_id` may have every attachment in
/// `wanted`. `found` holds `(id, case_id)` of the wanted attachments that exist, as the store read
/// them inside its transaction; an attachment already linked to `case_id` itself is fine.
pub fn attachment_claim_error(
    case_id: i64,
    wanted: &[i64],
    found: &[(i64, Option<i64>)],
) -> Option<StoreError> {
    let wanted: BTreeSet<i64> = wanted.iter().copied().collect();
    let existing: BTreeSet<i64> = found.iter().map(|(id, _)| *id).collect();
    let missing: Vec<String> = wanted
        .difference(&existing)
        .map(ToString::to_string)
        .collect();
    let taken: Vec<String> = found
        .iter()
        .filter(|(id, owner)| wanted.contains(id) && owner.is_some_and(|c| c != case_id))
        .map(|(id, _)| *id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|id| id.to_string())
        .collect();
    let mut problems = Vec::new();
    match taken.len() {
        0 => {}
        1 => problems.push(format!("attachment {} already belongs to a case", taken[0])),
        _ => problems.push(format!(
            "attachments {} already belong to a case",
            taken.join(", ")
        )),
    }
    match missing.len() {
        0 => {}
        1 => problems.push(format!("attachment {} does not exist", missing[0])),
        _ => problems.push(format!("attachments {} do not exist", missing.join(", "))),
    }
    (!problems.is_empty()).then(|| StoreError::Invalid(problems.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: Option<StoreError>) -> Option<String> {
        e.map(|e| match e {
            StoreError::Invalid(m) => m,
            other => panic!("expected Invalid, got {other:?}"),
        })
    }

    #[test]
    fn free_and_own_attachments_may_be_claimed() {
        assert_eq!(message(attachment_claim_error(7, &[], &[])), None);
        assert_eq!(
            message(attachment_claim_error(
                7,
                &[1, 2, 2],
                &[(1, None), (2, Some(7))]
            )),
            None
        );
    }

    #[test]
    fn taken_and_missing_attachments_are_named() {
        assert_eq!(
            message(attachment_claim_error(7, &[1], &[(1, Some(3))])).as_deref(),
            Some("attachment 1 already belongs to a case")
        );
        assert_eq!(
            message(attachment_claim_error(
                7,
                &[4, 1, 2, 9],
                &[(1, Some(3)), (2, Some(5)), (4, None)]
            ))
            .as_deref(),
            Some("attachments 1, 2 already belong to a case; attachment 9 does not exist")
        );
        assert_eq!(
            message(attachment_claim_error(7, &[8, 9], &[])).as_deref(),
            Some("attachments 8, 9 do not exist")
        );
    }
}
