//! Password hashing with Argon2id (argon2 0.6, OWASP default parameters m=19 MiB, t=2, p=1).
//!
//! Both functions are CPU- and memory-heavy (tens of milliseconds): call them from
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

#[cfg(test)]
mod tests {
    use super::*;

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
