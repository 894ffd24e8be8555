//! Storage for self-service password reset: the persisted flows (any node continues one),
//! and the counters behind the reset limits, shared by every node.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::reset::ResetFlow;
use crate::ids::{AccountId, FlowId, MethodId};
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

#[async_trait]
pub trait ResetStore: Send + Sync {
    async fn insert_reset_flow(&self, flow: &ResetFlow, audit: &AuditEvent) -> StoreResult<()>;
    async fn reset_flow(&self, id: FlowId) -> StoreResult<Option<ResetFlow>>;

    /// Records `method` as a passed gate of an open, current flow: the first gate, or the
    /// second when it is another method. Returns the gates passed afterwards; `None` (and
    /// nothing changed) when the flow is not open or past `now`.
    async fn pass_reset_gate(
        &self,
        id: FlowId,
        method: MethodId,
        now: OffsetDateTime,
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

    /// In one transaction: the flow (open, current, of `account`, every gate passed) and
    /// every other open flow of the account become completed, the password hash is replaced,
    /// every session of the account ends, and `audits` and `notes` are written. False (and
    /// nothing changed) when the flow was not ready.
    async fn complete_reset(
        &self,
        id: FlowId,
        account: AccountId,
        password_hash: &str,
        now: OffsetDateTime,
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

    /// Deletes reset flows and counters that ended before `before`.
    async fn purge_reset(&self, before: OffsetDateTime) -> StoreResult<u64>;
}
