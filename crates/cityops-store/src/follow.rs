//! Following a case without an account (匿名上报的查询凭证): a citizen who reports through the
//! public page gets the case code and a random follow token, shown once. The store keeps only
//! the token's SHA-256; following needs the code *and* the token, so a bare sequential code
//! reveals nothing. Also the followers (关注) a user adds to an existing case (a duplicate
//! report turned into a follow).
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Case, Result};

/// Follow tokens and followers.
#[async_trait]
pub trait FollowRepo: Send + Sync {
    /// Keeps the SHA-256 (hex) of a case's follow token. `Conflict` when the hash is already
    /// kept, `Invalid` for an unknown case.
    async fn add_follow_token(
        &self,
        case_id: i64,
        token_hash: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()>;

    /// The case with this code whose follow token hashes to `token_hash`. `None` alike for an
    /// unknown code, a wrong token and another case's token.
    async fn case_by_follow_token(&self, code: &str, token_hash: &str) -> Result<Option<Case>>;

    /// Makes `user_id` a follower of the case (they see it and hear of it); whether they were
    /// not one before. `Invalid` for an unknown case.
    async fn follow_case(&self, user_id: i64, case_id: i64) -> Result<bool>;
}
