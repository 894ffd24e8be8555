//! [`MemoryStore`]: the whole storage port in process memory, for fast flow tests on a
//! [`FakeClock`](crate::FakeClock).
//!
//! It answers as `tessera-store`'s SQL store does, and runs the same contract suite
//! (`crates/store/tests/contract`). Every table is a map in one state behind one mutex;
//! each operation locks it once, so it is as atomic as the SQL store's one transaction: an
//! operation that refuses or fails changes nothing. What the database would enforce, it
//! checks too: unique columns (the same [`StoreError::Conflict`] names), foreign keys (a row
//! naming an account or method that does not exist is refused), and the rows that go with a
//! deleted method. Times are kept in whole seconds, as the database keeps them.
//!
//! What it does not model: persistence and several nodes (one process, one store; push
//! wake-ups and the outbox's wake-up are heard only by this store's waiters), the order of
//! text (`ORDER BY username` is byte order, where PostgreSQL may follow a collation), and the
//! SQL store's group commit and connection pools. [`DeliveryStore::wait_for_messages`] waits on
//! the real clock, as the delivery worker's poll does.
//!
//! [`DeliveryStore::wait_for_messages`]: super::delivery::DeliveryStore::wait_for_messages

mod accounts;
mod admin;
mod app_passwords;
mod audit;
mod delivery;
mod directory;
mod effects;
mod flows;
mod forward_auth;
mod methods;
mod oidc;
mod outbox;
mod password_guesses;
mod policy;
mod push;
mod push_devices;
mod radius;
mod recovery_codes;
mod reset;
mod reset_attempts;
mod rows;
mod sealed;
mod security_questions;
mod sessions;
mod state;
mod verify_api;
mod wake;
mod web_push;
mod webauthn;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::oidc::OidcStore;
use super::{Store, StoreResult};
use crate::error::StoreError;
use crate::message::MessageStatus;
use crate::method::MethodStatus;
use rows::secs;
use state::State;

/// The storage port in memory (see the [module](self)). `MemoryStore::new()` is empty; share
/// it as an `Arc<dyn Store>`.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Wakes [`DeliveryStore::wait_for_messages`](super::delivery::DeliveryStore) when a
    /// message is queued.
    outbox_wake: tokio::sync::Notify,
    push: wake::Hub,
}

/// Why the memory store refused, where a database would have raised an error of its own.
#[derive(Debug, thiserror::Error)]
enum MemoryError {
    /// A foreign key names no row (the table and column).
    #[error("foreign key violated: {0}")]
    ForeignKey(&'static str),
    /// An operation panicked while it held the state; what it left may be half done.
    #[error("the memory store's state was poisoned by a panic")]
    Poisoned,
}

fn foreign_key(column: &'static str) -> StoreError {
    StoreError::Backend(Box::new(MemoryError::ForeignKey(column)))
}

/// How long after they lapse challenges and push requests are kept (as the SQL store).
const KEEP_LAPSED: Duration = Duration::days(1);
/// How long finished messages are kept.
const KEEP_MESSAGES: Duration = Duration::days(30);

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore {
            state: Mutex::new(State::default()),
            outbox_wake: tokio::sync::Notify::new(),
            push: wake::Hub::new(),
        }
    }

    /// How many push wake-up subscriptions are open.
    pub fn push_subscribers(&self) -> usize {
        self.push.subscribers()
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Backend(Box::new(MemoryError::Poisoned)))
    }

    /// Runs one operation on the state, as one transaction. Operations check everything that
    /// could refuse them before they change anything, so an error leaves the state as it was.
    fn write<T>(&self, op: impl FnOnce(&mut State) -> StoreResult<T>) -> StoreResult<T> {
        op(&mut *self.lock()?)
    }

    fn read<T>(&self, op: impl FnOnce(&State) -> T) -> StoreResult<T> {
        Ok(op(&*self.lock()?))
    }

    /// After an operation that queued messages: wakes the delivery worker.
    fn queued(&self, any: bool) {
        if any {
            self.outbox_wake.notify_one();
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|_| ())
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let oidc = self.purge_oidc(now).await?;
        let now = secs(now);
        let purged = self.write(|s| {
            let mut purged = 0;
            purged += drain(&mut s.flows, |f| f.expires_at <= now);
            purged += s.remove_sessions(|_, x| x.expires_at <= now);
            let lapsed: Vec<_> = s
                .methods
                .values()
                .filter(|m| {
                    m.status == MethodStatus::Pending && m.expires_at.is_some_and(|e| e <= now)
                })
                .map(|m| m.id)
                .collect();
            for id in &lapsed {
                s.delete_method(*id);
            }
            purged += lapsed.len() as u64;
            let lapsed_before = now - KEEP_LAPSED;
            purged += drain(&mut s.challenges, |c| {
                c.challenge.expires_at <= lapsed_before
            });
            purged += drain(&mut s.push_requests, |r| {
                r.request.expires_at <= lapsed_before
            });
            let finished_before = now - KEEP_MESSAGES;
            purged += drain(&mut s.outbox, |m| {
                matches!(
                    m.message.status,
                    MessageStatus::Sent | MessageStatus::Kept | MessageStatus::Failed
                ) && m.message.created_at <= finished_before
            });
            Ok(purged)
        })?;
        Ok(purged + oidc)
    }
}

/// Removes the rows that match; how many went.
fn drain<K: Ord, V>(
    table: &mut std::collections::BTreeMap<K, V>,
    gone: impl Fn(&V) -> bool,
) -> u64 {
    let before = table.len();
    table.retain(|_, row| !gone(row));
    (before - table.len()) as u64
}

#[cfg(test)]
mod tests;
