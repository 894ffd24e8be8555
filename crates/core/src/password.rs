//! Passwords: Argon2id PHC strings, re-hashed when the parameters change, and the rules for a
//! new password (NIST SP 800-63B §3.1.1.2: 8 to 256 characters, not a known common one).

use crate::error::{Error, Internal, Problem, Result};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use std::sync::OnceLock;
use zeroize::Zeroizing;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Match { needs_rehash: bool },
    Mismatch,
}

/// Hashing as a port: it costs tens of milliseconds of CPU, so the server runs it off the
/// async workers; tests run it inline.
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    async fn hash(&self, password: Zeroizing<String>) -> Result<String>;
    /// With `None` (an unknown account) it still spends one hash, so the answer takes as long.
    async fn verify(&self, password: Zeroizing<String>, phc: Option<String>) -> PasswordCheck;
}

/// Argon2id with the OWASP minimum parameters (m = 19 MiB, t = 2, p = 1) by default.
#[derive(Debug, Clone)]
pub struct Argon2Passwords {
    params: Params,
    dummy: OnceLock<Option<PasswordHash>>,
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self {
            params: Params::default(),
            dummy: OnceLock::new(),
        }
    }
}

impl Argon2Passwords {
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let params = Params::new(m_cost_kib, t_cost, p_cost, None)
            .map_err(|_| Error::Internal(Internal::PasswordParams))?;
        Ok(Self {
            params,
            dummy: OnceLock::new(),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash_now(&self, password: &str) -> Result<String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| Error::Internal(Internal::PasswordHash))
    }

    pub fn verify_now(&self, password: &str, phc: Option<&str>) -> PasswordCheck {
        let Some(parsed) = phc.and_then(|p| PasswordHash::new(p).ok()) else {
            // Same work as a real check, against a hash nobody's password matches.
            let _ = match self.dummy() {
                Some(dummy) => self.argon2().verify_password(password.as_bytes(), dummy),
                None => self.argon2().hash_password(password.as_bytes()).map(|_| ()),
            };
            return PasswordCheck::Mismatch;
        };
        match self.argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => PasswordCheck::Match {
                needs_rehash: self.is_outdated(&parsed),
            },
            Err(_) => PasswordCheck::Mismatch,
        }
    }

    fn is_outdated(&self, hash: &PasswordHash) -> bool {
        let same = hash.algorithm.as_str() == "argon2id"
            && Params::try_from(hash).is_ok_and(|p| {
                p.m_cost() == self.params.m_cost()
                    && p.t_cost() == self.params.t_cost()
                    && p.p_cost() == self.params.p_cost()
            });
        !same
    }

    /// A hash with the configured parameters that no password matches, made on first use.
    fn dummy(&self) -> Option<&PasswordHash> {
        self.dummy
            .get_or_init(|| {
                self.argon2()
                    .hash_password_with_salt(b"not anyone's password", b"tessera-dummy-salt")
                    .ok()
            })
            .as_ref()
    }
}

#[async_trait]
impl PasswordHasher for Argon2Passwords {
    async fn hash(&self, password: Zeroizing<String>) -> Result<String> {
        self.hash_now(&password)
    }

    async fn verify(&self, password: Zeroizing<String>, phc: Option<String>) -> PasswordCheck {
        self.verify_now(&password, phc.as_deref())
    }
}

/// The rules for a new password.
pub fn validate_new_password(password: &str, username: &str) -> Result<()> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(Error::bad(
            "password",
            Problem::TooShort { min: PASSWORD_MIN },
        ));
    }
    if len > PASSWORD_MAX {
        return Err(Error::bad(
            "password",
            Problem::TooLong { max: PASSWORD_MAX },
        ));
    }
    let lower = password.to_lowercase();
    let local = username
        .split('@')
        .next()
        .unwrap_or(username)
        .to_lowercase();
    if is_common(&lower) || (local.len() >= 4 && lower.contains(&local)) {
        return Err(Error::bad("password", Problem::Banned));
    }
    Ok(())
}

fn is_common(lower: &str) -> bool {
    include_str!("banned-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.trim() == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Passwords {
        Argon2Passwords::new(64, 1, 1).unwrap_or_default()
    }

    #[test]
    fn hash_verifies_and_wrong_password_does_not() {
        let p = fast();
        let phc = p.hash_now("correct horse battery").unwrap_or_default();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            p.verify_now("correct horse battery", Some(&phc)),
            PasswordCheck::Match {
                needs_rehash: false
            }
        );
        assert_eq!(p.verify_now("wrong", Some(&phc)), PasswordCheck::Mismatch);
        assert_eq!(p.verify_now("anything", None), PasswordCheck::Mismatch);
    }

    #[test]
    fn changed_parameters_ask_for_a_rehash() {
        let phc = fast().hash_now("correct horse battery").unwrap_or_default();
        let stronger = Argon2Passwords::new(128, 1, 1).unwrap_or_default();
        assert_eq!(
            stronger.verify_now("correct horse battery", Some(&phc)),
            PasswordCheck::Match { needs_rehash: true }
        );
    }

    #[test]
    fn new_password_rules() {
        assert!(validate_new_password("short", "alice@example.org").is_err());
        assert!(validate_new_password(&"x".repeat(257), "alice@example.org").is_err());
        assert!(validate_new_password("Password123", "alice@example.org").is_err());
        assert!(validate_new_password("alice-rocks-2026", "alice@example.org").is_err());
        assert!(validate_new_password("correct horse battery", "alice@example.org").is_ok());
    }
}
