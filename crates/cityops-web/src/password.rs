//! Password hashing with Argon2id (argon2 0.6, OWASP default parameters m=19 MiB, t=2, p=1), and
//! the policy of new passwords ([`check_new`]: length, not the username, a zxcvbn strength
//! estimate of at least [`MIN_SCORE`]).
//!
//! Hashing and verifying are CPU- and memory-heavy (tens of milliseconds): call them from
//! `tokio::task::spawn_blocking`, never directly on an async worker.
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes a password into an Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a
/// fresh random salt.
pub fn hash(pw: &str) -> String {
    let h: PasswordHash = Argon2::default()
        .hash_password(pw.as_bytes())
        .expect("argon2id with the default parameters and a generated salt cannot fail");
    h.to_string()
}

/// Verifies a password against a PHC string. A malformed PHC string verifies as `false`. The
/// parameters (cost, salt) are taken from the PHC string, so hashes made with other costs verify.
pub fn verify(pw: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(pw.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password with the default cost, verified against when a login names an
/// unknown user, so that "unknown user" and "wrong password" take the same time.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let secret: [u8; 16] = rand::random();
        hash(&hex::encode(secret))
    });
    &DUMMY
}

/// The fewest characters of a new password.
pub const MIN_LEN: usize = 10;
/// The most characters of a password (what login accepts).
pub const MAX_LEN: usize = 1024;
/// The lowest zxcvbn score (0–4) of a new password: 3 = about 10⁸ guesses or more.
pub const MIN_SCORE: u8 = 3;
/// zxcvbn looks at this many characters at most (its matching grows quadratically; a password
/// whose first 128 characters are strong is strong).
const ESTIMATE_CHARS: usize = 128;

/// Checks a new password of `username` (and `other_inputs`, e.g. the display name, which zxcvbn
/// treats as known to an attacker): at least [`MIN_LEN`] and at most [`MAX_LEN`] characters, not
/// containing the username (ignoring case), and a zxcvbn score of at least [`MIN_SCORE`]. `Err`
/// says why, with zxcvbn's warning and suggestions. Existing passwords are not re-checked: the
/// policy applies where a password is set (`cityops user add`).
pub fn check_new(password: &str, username: &str, other_inputs: &[&str]) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!(
            "the password must have at least {MIN_LEN} characters (it has {len})"
        ));
    }
    if len > MAX_LEN {
        return Err(format!(
            "the password must have at most {MAX_LEN} characters"
        ));
    }
    let name = username.trim().to_lowercase();
    if !name.is_empty() && password.to_lowercase().contains(&name) {
        return Err(format!(
            "the password must not contain the username {:?}",
            username.trim()
        ));
    }
    let head: String = password.chars().take(ESTIMATE_CHARS).collect();
    let mut inputs = vec![username.trim()];
    inputs.extend(other_inputs.iter().flat_map(|s| s.split_whitespace()));
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    let score = u8::from(estimate.score());
    if score >= MIN_SCORE {
        return Ok(());
    }
    let mut why = format!(
        "the password is too easy to guess: strength {score} of 4, at least {MIN_SCORE} needed"
    );
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            why.push_str(&format!(" — {warning}"));
        }
        for s in feedback.suggestions() {
            why.push_str(&format!(" {s}"));
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let err = check_new("aaaaaaaaaa", "root-admin", &[]).unwrap_err();
        assert!(
            err.contains("too easy to guess") && err.contains("Repeats"),
            "{err}"
        );
        let err = check_new("password123", "root-admin", &[]).unwrap_err();
        assert!(err.contains("strength"), "{err}");
        let err = check_new("short", "x", &[]).unwrap_err();
        assert!(err.contains("at least 10 characters"), "{err}");
        let err = check_new("Zhang.San-Tower-7731", "zhang.san", &[]).unwrap_err();
        assert!(err.contains("must not contain the username"), "{err}");
        assert!(check_new(&"x".repeat(MAX_LEN + 1), "a", &[]).is_err());
        // zxcvbn knows the display name as well.
        assert!(check_new("LiuDehua1961", "operator", &["刘德华 LiuDehua"]).is_err());
    }

    #[test]
    fn strong_passwords_pass() {
        for pw in [
            "a-long-enough-password",
            "correct horse battery staple",
            "Tq7#vLm2!pR9xZ",
            "城管巡查员小王的新密码2027",
        ] {
            assert_eq!(check_new(pw, "root-admin", &[]), Ok(()), "{pw}");
        }
    }

    #[test]
    fn the_demo_password_would_pass() {
        // The demo accounts' shared password (a contract, PRODUCT.md §8) is never set through
        // the policy, but it would pass it.
        assert_eq!(check_new("cityops-demo", "admin", &[]), Ok(()));
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("cityops-demo");
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify("cityops-demo", &h));
        assert!(!verify("cityops-dem0", &h));
        assert!(!verify("cityops-demo", "not a phc string"));
        assert!(!verify("", ""));
        // A fresh salt each time.
        assert_ne!(h, hash("cityops-demo"));
    }
}
