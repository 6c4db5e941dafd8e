//! Citizens without an account (公众匿名上报) and following on the phone (关注).
//!
//! An anonymous report is filed like every other citizen report — located, duplicate-checked,
//! routed — under one inactive account, [`PUBLIC_REPORTER`] (nobody can log in as it: it has no
//! usable password and is deactivated). It is counted on the citizens' per-address quota only
//! (one shared account must not become one shared quota). The answer carries the case code and
//! a random follow token (128 bits), shown once; the store keeps only its SHA-256. Following and
//! rating need the code *and* the token: an unknown code and a wrong token are one and the same
//! [`ServiceError::NotFound`], so a bare sequential code tells nothing.
//!
//! Staff who see that their report is a problem already reported follow that case instead
//! ([`CaseService::follow_existing`]): a follower row, no second case.
use cityops_domain::case::duplicate::distance_m;
use cityops_domain::case::{
    ActionInput, Case, CaseAction, CaseEvent, CaseSource, CaseStatus, CaseVisibility,
};
use cityops_domain::{PageRequest, Role, User};
use cityops_store::{CaseQuery, NewUser, StoreError};
use sha2::{Digest, Sha256};

use super::{CaseService, ReportRequest, StoredCase, non_empty, wgs84_point};
use crate::error::{Result, ServiceError};

/// The username of the account anonymous citizens' reports are filed under.
pub const PUBLIC_REPORTER: &str = "public-citizen";
/// Its display name (公众匿名上报).
const PUBLIC_REPORTER_NAME: &str = "公众（匿名上报）";
/// Random bytes of a follow token (128 bits).
const TOKEN_BYTES: usize = 16;
/// How many open cases of a category near a point the duplicate prompt lists at most.
const NEARBY_MAX: u32 = 20;

/// An anonymous report as stored, with its follow token — the only time the token is known.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicReceipt {
    pub case: StoredCase,
    /// 32 hex digits; only its SHA-256 is kept.
    pub token: String,
}

/// The SHA-256 (hex) a follow token is kept and looked up by. The token is read as the citizen
/// typed it: surrounding space and the case of its letters do not matter.
pub fn follow_token_hash(token: &str) -> String {
    let clean: String = token
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    hex::encode(Sha256::digest(clean.as_bytes()))
}

fn new_token() -> String {
    hex::encode(rand::random::<[u8; TOKEN_BYTES]>())
}

/// The one answer for an unknown code and a wrong token.
fn no_such_case() -> ServiceError {
    ServiceError::NotFound("No case with this code and follow token.".into())
}

/// Whether `code` can be a case code (`YYYYMMDD` + 5 digits) and `token` a follow token.
fn well_formed(code: &str, token: &str) -> bool {
    let token_len = token
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .count();
    code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && token_len == TOKEN_BYTES * 2
        && token
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c.is_whitespace() || c == '-')
}

impl CaseService {
    /// The account anonymous reports are filed under, created (inactive, without a usable
    /// password) at first use. Two processes creating it at once: the second reads the first's.
    pub async fn public_reporter(&self) -> Result<User> {
        self.system_account(PUBLIC_REPORTER, PUBLIC_REPORTER_NAME, vec![Role::Citizen])
            .await
    }

    /// An account that files reports on behalf of the system (anonymous citizens, IoT alarms):
    /// created inactive and without a usable password at first use, so nobody can log in as
    /// it. Two processes creating it at once: the second reads the first's.
    pub async fn system_account(
        &self,
        username: &str,
        display_name: &str,
        roles: Vec<Role>,
    ) -> Result<User> {
        if let Some(c) = self.store.credentials(username).await? {
            return Ok(c.user);
        }
        let new = NewUser {
            username: username.into(),
            display_name: display_name.into(),
            // Not a PHC string: no password verifies against it.
            password_hash: "!".into(),
            roles,
            region_code: None,
            department_code: None,
            grids: Vec::new(),
        };
        match self.store.create_user(&new).await {
            Ok(u) => {
                self.store.set_user_active(u.id, false).await?;
                Ok(User { active: false, ..u })
            }
            Err(StoreError::Conflict(_)) => self
                .store
                .credentials(username)
                .await?
                .map(|c| c.user)
                .ok_or(ServiceError::Store(StoreError::NotFound)),
            Err(e) => Err(e.into()),
        }
    }

    /// Counts one anonymous request (a public photo upload) of a client address on the citizens'
    /// per-address quota: `RateLimited` when the address is over it. No address (an in-process
    /// call): nothing to count.
    pub fn check_public_address(&self, address: Option<&str>) -> Result<()> {
        match address {
            Some(a) => self
                .report_limiter
                .check_address(a)
                .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// 匿名上报: a citizen's report without an account. Counted per client address, then filed
    /// like every citizen report (source `citizen`; category optional; the contact, if any, kept
    /// as the case's contact and masked as usual). Answers the case and its follow token.
    pub async fn report_public(&self, mut req: ReportRequest) -> Result<PublicReceipt> {
        self.check_public_address(req.client_address.as_deref())?;
        let user = self.public_reporter().await?;
        req.source = None;
        let case = self.report_counted(&user, CaseSource::Citizen, req).await?;
        let token = new_token();
        self.store
            .add_follow_token(case.case.id, &follow_token_hash(&token), self.clock.now())
            .await?;
        Ok(PublicReceipt { case, token })
    }

    /// A case followed by code and token, with its events: [`ServiceError::NotFound`] alike for a
    /// malformed or unknown code and a wrong token.
    pub async fn followed_case(&self, code: &str, token: &str) -> Result<(Case, Vec<CaseEvent>)> {
        let code = code.trim();
        if !well_formed(code, token) {
            return Err(no_such_case());
        }
        let case = self
            .store
            .case_by_follow_token(code, &follow_token_hash(token))
            .await?
            .ok_or_else(no_such_case)?;
        // Found by code and token: its own events are the citizen's to see.
        let events = self
            .store
            .case_events(case.id, &CaseVisibility::everything())
            .await?
            .unwrap_or_default();
        Ok((case, events))
    }

    /// 评价: the citizen who holds the follow token rates the closed case (1–5, an optional
    /// comment), once — through the case machine's `rate`, so the event joins the audit chain.
    pub async fn rate_followed(
        &self,
        code: &str,
        token: &str,
        score: u8,
        comment: Option<String>,
    ) -> Result<StoredCase> {
        let (case, _) = self.followed_case(code, token).await?;
        let reporter = self.public_reporter().await?;
        if case.reporter_id != Some(reporter.id) {
            // A token is only ever issued for an anonymous report; anything else is not ours.
            return Err(no_such_case());
        }
        let input = ActionInput {
            score: Some(score),
            comment: non_empty(comment),
            ..ActionInput::default()
        };
        self.act(&reporter, case.id, CaseAction::Rate, input, &[])
            .await
    }

    /// 是同一问题吗: the open cases of a category within the duplicate radius of a point that
    /// `user` may see (scope applied by the store), nearest first, with their distance in metres.
    pub async fn nearby_open_cases(
        &self,
        user: &User,
        lng: f64,
        lat: f64,
        crs: Option<&str>,
        category_code: &str,
    ) -> Result<Vec<(Case, f64)>> {
        let (lng, lat) = wgs84_point(lng, lat, crs)?;
        cityops_domain::catalogue::parse_category_code(category_code.trim())
            .map_err(|e| ServiceError::invalid(e.to_string()))?;
        let rule = self.config.duplicate;
        let mut q = CaseQuery::new(self.clock.now());
        q.statuses = CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_open())
            .collect();
        q.category = Some(category_code.trim().to_string());
        q.bbox = Some(rule.bbox(lng, lat));
        let page = self
            .store
            .list_cases(
                &q,
                &CaseVisibility::for_user(user),
                PageRequest {
                    page: 1,
                    page_size: NEARBY_MAX,
                },
            )
            .await?;
        let mut near: Vec<(Case, f64)> = page
            .items
            .into_iter()
            .filter(|c| c.merged_into.is_none())
            .map(|c| {
                let d = distance_m(lng, lat, c.location.lng, c.location.lat);
                (c, d)
            })
            .filter(|(_, d)| *d <= rule.radius_m)
            .collect();
        near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
        Ok(near)
    }

    /// 关注: `user` follows an open case they may see instead of reporting it again; whether
    /// they did not follow it before. `NotFound` outside the scope, `InvalidTransition` for a
    /// closed or cancelled case.
    pub async fn follow_existing(&self, user: &User, case_id: i64) -> Result<bool> {
        let case = self.visible_case(user, case_id).await?;
        if !case.status.is_open() {
            return Err(ServiceError::InvalidTransition {
                message: format!(
                    "case {} is {} ({}): only an open case can be followed",
                    case.code,
                    case.status.as_str(),
                    case.status.name_zh()
                ),
                allowed: Vec::new(),
            });
        }
        Ok(self.store.follow_case(user.id, case.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_as_typed() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(well_formed("2026112200001", &a));
        assert_eq!(
            follow_token_hash(&a),
            follow_token_hash(&format!(" {} ", a.to_ascii_uppercase()))
        );
        assert_ne!(follow_token_hash(&a), follow_token_hash(&b));
        assert!(!well_formed("2026112200001", &a[..31]));
        assert!(!well_formed("20261122", &a));
        assert!(!well_formed("2026112200001", &"z".repeat(32)));
    }
}
