//! Storage for self-service password reset: the persisted flows (any node continues one),
//! the counters behind the reset limits, and the reset's own wrong-answer counters (per flow
//! and per account; see `flow::reset`), shared by every node.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::effect::GatePass;
use crate::flow::reset::{ResetCompletion, ResetFlow};
use crate::ids::{AccountId, FlowId, MethodId};
use crate::lockout::AttemptGate;
use crate::message::Message;
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

/// One counter's state after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    /// Hits in the current window, this one included.
    pub count: u64,
    /// When the current window began; it ends `window` later.
    pub window_start: OffsetDateTime,
}

/// One of a reset's wrong-answer counters: its key, and how many wrong answers in a row it
/// allows before it locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptCounter {
    pub key: String,
    pub threshold: u32,
}

#[async_trait]
pub trait ResetStore: Send + Sync {
    async fn insert_reset_flow(&self, flow: &ResetFlow, audit: &AuditEvent) -> StoreResult<()>;
    async fn reset_flow(&self, id: FlowId) -> StoreResult<Option<ResetFlow>>;

    /// Records `gate.method` as a passed gate of the flow, if it is in `gate.flow.from` and
    /// current at `gate.flow.at` (it moves to `gate.flow.to`): the first gate, or the second
    /// when it is another method. Returns the gates passed afterwards; `None` (and nothing
    /// changed) when the flow is elsewhere or past its time. (A push approval passes its gate
    /// as an [`Effect::PassResetGate`](crate::flow::effect::Effect::PassResetGate) of the
    /// answer instead.)
    async fn pass_reset_gate(
        &self,
        gate: &GatePass,
        audit: &AuditEvent,
    ) -> StoreResult<Option<Vec<MethodId>>>;

    /// Keeps `questions` as the ones asked of `method` in this flow, unless that method was
    /// asked already; returns the questions asked of it (the kept ones, or the earlier ones).
    async fn ask_reset_questions(
        &self,
        id: FlowId,
        method: MethodId,
        questions: &[String],
    ) -> StoreResult<Vec<String>>;

    /// In one transaction: the flow makes `done.done` (from its state, current at its `at`,
    /// of `done.account`, every gate passed), every other flow of the account in
    /// `done.others_from` moves to `done.others_to`, the password hash is replaced, every
    /// session of the account ends, and `audits` and `notes` are written. False (and nothing
    /// changed) when the flow was not ready.
    async fn complete_reset(
        &self,
        done: &ResetCompletion,
        audits: &[AuditEvent],
        notes: &[Message],
    ) -> StoreResult<bool>;

    /// Counts a hit on `key` in fixed windows of `window`; a window that has ended restarts
    /// at this hit. Atomic across nodes.
    async fn count_hit(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> StoreResult<Hits>;

    /// A counter of [`ResetStore::count_hit`] as it stands, counting nothing; `None` when it
    /// was never hit (or was purged).
    async fn peek_hits(&self, key: &str) -> StoreResult<Option<Hits>>;

    /// Deletes reset flows and counters that ended before `before`.
    async fn purge_reset(&self, before: OffsetDateTime) -> StoreResult<u64>;

    // The reset's wrong answers, counted as `Store::begin_attempt` and
    // `Store::record_failure` count a method's: an attempt reserves a failure first, so
    // parallel guesses cannot slip past a threshold.

    /// Reserves a wrong answer in advance on every one of `counters`, in one transaction:
    /// refused, with nothing changed, while one of them is locked or at its threshold. A
    /// counter whose lock has lapsed, or that saw no attempt since it was last given
    /// `forget_at`, starts again at this attempt; each is then kept until `forget_at`.
    async fn begin_reset_attempt(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
        forget_at: OffsetDateTime,
    ) -> StoreResult<AttemptGate>;

    /// The reserved attempt was a wrong answer: every counter that has reached its threshold
    /// and is not locked yet locks until `lock_until`. Returns the latest end of a lock now on
    /// one of them.
    async fn reset_attempt_failed(
        &self,
        counters: &[AttemptCounter],
        lock_until: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>>;

    /// The reserved attempt was no wrong answer: it is given back (a counter that locked
    /// meanwhile stays locked).
    async fn release_reset_attempt(&self, counters: &[AttemptCounter]) -> StoreResult<()>;

    /// The latest end of a lock in force at `now` on one of `counters`, counting nothing.
    async fn reset_locked_until(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>>;

    /// Forgets `counters` (the reset they counted for completed).
    async fn clear_reset_attempts(&self, counters: &[AttemptCounter]) -> StoreResult<()>;

    /// Up to `limit` active accounts in id order from `from` on, wrapping around to the
    /// first: the people a decoy's gates are modelled on (see `flow::reset_decoy`).
    async fn sample_accounts(&self, from: AccountId, limit: u32) -> StoreResult<Vec<AccountId>>;
}
