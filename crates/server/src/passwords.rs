//! Password hashing off the async workers: Argon2id costs tens of milliseconds of CPU.
//!
//! At most one hash per core runs at a time; the rest wait their turn. Without the bound a
//! burst of sign-ins starts one blocking thread each, every one holding Argon2id's 19 MiB at
//! once (64 at a time is 1.2 GB) while they share the same cores and finish no sooner.

use async_trait::async_trait;
use std::sync::{Arc, OnceLock};
use tessera_core::password::{Argon2Passwords, PasswordCheck, PasswordHasher};
use tessera_core::{Error, Internal};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Default)]
pub struct BlockingPasswords(pub Arc<Argon2Passwords>);

/// One permit per core, for the whole process: the cores are the process's, however many
/// hashers it holds.
/// The permit moves into the blocking task, so a request given up mid-hash still holds its
/// slot until the hash ends.
fn hashing_slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ))
        })
        .clone()
}

#[async_trait]
impl PasswordHasher for BlockingPasswords {
    async fn hash(&self, password: Zeroizing<String>) -> tessera_core::Result<String> {
        let inner = self.0.clone();
        let slot = hashing_slots()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal(Internal::PasswordHash))?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            inner.hash_now(&password)
        })
        .await
        .map_err(|_| Error::Internal(Internal::PasswordHash))?
    }

    async fn verify(&self, password: Zeroizing<String>, phc: Option<String>) -> PasswordCheck {
        let inner = self.0.clone();
        // The semaphore is never closed; without a slot the check still runs, unbounded.
        let slot = hashing_slots().acquire_owned().await.ok();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            inner.verify_now(&password, phc.as_deref())
        })
        .await
        .unwrap_or(PasswordCheck::Mismatch)
    }
}
