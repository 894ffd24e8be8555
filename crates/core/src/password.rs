//! Passwords: Argon2id PHC strings, re-hashed when the parameters change, and the rules for a
//! new password (NIST SP 800-63B §3.1.1.2: 8 to 256 characters, not a known common one).

mod memory;

use crate::error::{Error, Internal, Problem, Result};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use memory::MemoryPool;
use std::sync::{Arc, OnceLock};
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
    dummy: Arc<OnceLock<Option<PasswordHash>>>,
    memory: Arc<MemoryPool>,
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self::with_params(Params::default())
    }
}

impl Argon2Passwords {
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let params = Params::new(m_cost_kib, t_cost, p_cost, None)
            .map_err(|_| Error::Internal(Internal::PasswordParams))?;
        Ok(Self::with_params(params))
    }

    fn with_params(params: Params) -> Self {
        // As many idle blocks as hashes can run at once: the server runs one per core.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            params,
            dummy: Arc::default(),
            memory: Arc::new(MemoryPool::new(cores)),
        }
    }

    pub fn hash_now(&self, password: &str) -> Result<String> {
        self.hash_with_salt(password, &Salt::generate())
            .map(|h| h.to_string())
            .ok_or(Error::Internal(Internal::PasswordHash))
    }

    pub fn verify_now(&self, password: &str, phc: Option<&str>) -> PasswordCheck {
        let Some(parsed) = phc.and_then(|p| PasswordHash::new(p).ok()) else {
            // Same work as a real check, against a hash nobody's password matches.
            match self.dummy() {
                Some(dummy) => {
                    let _ = self.matches(password, dummy);
                }
                None => {
                    let _ = self.hash_now(password);
                }
            }
            return PasswordCheck::Mismatch;
        };
        if self.matches(password, &parsed) {
            PasswordCheck::Match {
                needs_rehash: self.is_outdated(&parsed),
            }
        } else {
            PasswordCheck::Mismatch
        }
    }

    /// What the argon2 crate's `hash_password` does, in memory from the pool.
    fn hash_with_salt(&self, password: &str, salt: &Salt) -> Option<PasswordHash> {
        let mut out = Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        self.run(&argon2, password, salt, out.as_mut_slice())?;
        Some(PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).ok()?,
            salt: Some(*salt),
            hash: Some(Output::new(out.as_slice()).ok()?),
        })
    }

    /// What the password-hash crate's `verify_password` does: the same derivation with the
    /// stored hash's algorithm, version, parameters and salt, compared in constant time.
    fn matches(&self, password: &str, stored: &PasswordHash) -> bool {
        let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
            return false;
        };
        let version = match stored.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(stored) else {
            return false;
        };
        let mut out = Zeroizing::new(vec![0u8; expected.len()]);
        let argon2 = Argon2::new(algorithm, version, params);
        if self.run(&argon2, password, salt, &mut out).is_none() {
            return false;
        }
        // `Output`'s equality is constant-time.
        Output::new(&out).is_ok_and(|computed| computed == *expected)
    }

    fn run(&self, argon2: &Argon2<'_>, password: &str, salt: &Salt, out: &mut [u8]) -> Option<()> {
        let blocks = argon2.params().block_count();
        self.memory
            .with(blocks, |memory| {
                argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
            })
            .ok()
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
                let salt = Salt::new(b"tessera-dummy-salt").ok()?;
                self.hash_with_salt("not anyone's password", &salt)
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
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let p = fast();
        let crate_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.params.clone());
        let theirs = crate_argon2
            .hash_password(b"correct horse battery")
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(matches!(
            p.verify_now("correct horse battery", Some(&theirs)),
            PasswordCheck::Match { .. }
        ));
        assert_eq!(
            p.verify_now("wrong horse", Some(&theirs)),
            PasswordCheck::Mismatch
        );
        let ours = p.hash_now("correct horse battery").unwrap_or_default();
        let parsed = PasswordHash::new(&ours).ok();
        assert!(parsed.is_some_and(|h| {
            crate_argon2
                .verify_password(b"correct horse battery", &h)
                .is_ok()
        }));
    }

    #[test]
    fn working_memory_is_reused_not_kept_per_hash() {
        let p = fast();
        let phc = p.hash_now("correct horse battery").unwrap_or_default();
        for _ in 0..5 {
            p.verify_now("correct horse battery", Some(&phc));
            p.verify_now("anything", None);
        }
        assert_eq!(p.memory.idle(), 1);
    }

    #[test]
    fn malformed_stored_hashes_never_match() {
        let p = fast();
        let phc = p.hash_now("correct horse battery").unwrap_or_default();
        for broken in [
            phc.replace("argon2id", "argon2x"),
            phc.replace("v=19", "v=7"),
            phc.rsplit_once('$')
                .map(|(head, _)| head.to_string())
                .unwrap_or_default(),
            "not a hash".to_string(),
        ] {
            assert_eq!(
                p.verify_now("correct horse battery", Some(&broken)),
                PasswordCheck::Mismatch,
                "{broken}"
            );
        }
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
