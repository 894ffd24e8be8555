//! Storage for methods (security info): registration, activation, the default, deletion, and
//! the code attempts against one (see `lockout`).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::effect::Effect;
use crate::ids::{AccountId, MethodId};
use crate::lockout::AttemptGate;
use crate::method::Method;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait MethodStore: Send + Sync {
    async fn insert_method(&self, method: &Method, audit: &AuditEvent) -> StoreResult<()>;
    async fn method(&self, id: MethodId) -> StoreResult<Option<Method>>;
    /// Oldest first.
    async fn methods_of(&self, account: AccountId) -> StoreResult<Vec<Method>>;
    /// Pending → active, recording `step` as the last accepted step, and making it the
    /// account's default when `make_default`. False when it was not pending (or `step` is not
    /// above the last one).
    async fn activate_method(
        &self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        make_default: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Deletes the method of `account` and sets the account's default to `new_default` when
    /// the deleted one was the default. False when there was no such method.
    async fn delete_method(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    async fn set_default_method(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Removes pending registrations that lapsed.
    async fn delete_expired_pending(&self, now: OffsetDateTime) -> StoreResult<u64>;

    // Code attempts (see `lockout`).

    /// Atomically: refuses while locked; after a lock lapses, restarts the count at one;
    /// otherwise counts this attempt as a failure in advance and lets it go ahead.
    async fn begin_attempt(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
    ) -> StoreResult<AttemptGate>;
    /// The attempt failed: when the count has reached `threshold` and no lock is set, locks
    /// until `lock_until`. Returns the lock's end if the method is now locked.
    async fn record_failure(
        &self,
        id: MethodId,
        threshold: u32,
        lock_until: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<OffsetDateTime>>;

    /// Records a response that matched, with everything it proves, in one transaction (see
    /// [`Acceptance`]).
    async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted>;

    /// A response that did not match, checked before any attempt was reserved (a TOTP code
    /// costs nothing to check): [`MethodStore::begin_attempt`] and
    /// [`MethodStore::record_failure`] in one commit. The SQL stores write both in one
    /// transaction (on SQLite in the group commit); this default runs the two in turn.
    async fn refuse(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
        lock_until: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Refused> {
        Ok(match self.begin_attempt(id, now, threshold).await? {
            AttemptGate::Locked { until } => Refused::Shut { until },
            AttemptGate::Open => Refused::Counted {
                locked_until: self
                    .record_failure(id, threshold, lock_until, audit)
                    .await?,
            },
        })
    }
}

/// What became of a [`MethodStore::refuse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The method was locked: nothing was counted nor audited.
    Shut { until: Option<OffsetDateTime> },
    /// The failure was counted and audited; `locked_until` when it locked the method.
    Counted {
        locked_until: Option<OffsetDateTime>,
    },
}

/// A response that matched, and what it changes: clears the failure count, records use and
/// the TOTP step, applies its effects (the sign-in flow it completes, the step-up session it
/// marks), and appends the audit events, all in one commit.
#[derive(Debug)]
pub struct Acceptance<'a> {
    pub method: MethodId,
    /// Refused unless above the last accepted step.
    pub step: Option<i64>,
    pub now: OffsetDateTime,
    /// `Some(threshold)` when no attempt was reserved for this response (a TOTP code is
    /// checked first: it costs nothing): it must pass the gate `begin_attempt` would.
    pub gate: Option<u32>,
    /// What the response proves, applied in the same commit; one that must apply and does
    /// not makes the whole acceptance [`Accepted::Stale`].
    pub effects: &'a [Effect],
    pub audit: &'a [AuditEvent],
}

/// What became of an [`Acceptance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Yes,
    /// The step was accepted before, or the method is gone: nothing changed.
    Replayed,
    /// The gate was shut: nothing changed.
    Locked {
        until: Option<OffsetDateTime>,
    },
    /// An effect that must apply did not (the flow moved on, the session ended): nothing
    /// changed, the step stays unused.
    Stale,
}
