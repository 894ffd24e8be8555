//! Storage for sent challenges and the outbox. A challenge and its message commit together,
//! and so do a change to security info and the notifications announcing it.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::challenge::{ChallengeState, SentChallenge};
use crate::flow::effect::Effect;
use crate::ids::{AccountId, ChallengeId, MessageId, MethodId};
use crate::message::Message;
use crate::method::Method;
use crate::method::way::Way;
use async_trait::async_trait;
use time::OffsetDateTime;

/// How many codes went out recently, and since when the oldest of them counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendCount {
    pub count: u64,
    pub oldest: Option<OffsetDateTime>,
}

/// Code messages sent in the windows the limits look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendCounts {
    pub account: SendCount,
    pub destination: SendCount,
    pub global: SendCount,
}

/// A pending method proven: what [`DeliveryStore::activate_method_noting`] records.
pub use crate::flow::effect::Activation;

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// In one transaction: supersedes the open challenges of the same method and purpose,
    /// inserts `challenge`, queues `message`, appends `audit`.
    async fn insert_challenge(
        &self,
        challenge: &SentChallenge,
        message: &Message,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// A new pending method and its first challenge, in one transaction.
    async fn insert_method_with_challenge(
        &self,
        method: &Method,
        method_audit: &AuditEvent,
        challenge: &SentChallenge,
        message: &Message,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    /// The newest challenge of a method for a purpose and binding, with its delivery.
    async fn latest_challenge(
        &self,
        method: MethodId,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<ChallengeState>>;

    async fn challenge(&self, id: ChallengeId) -> StoreResult<Option<SentChallenge>>;

    /// A wrong code: counts it, and kills the challenge when the count reaches `max`.
    /// Returns the count.
    async fn challenge_failed(&self, id: ChallengeId, max: u32) -> StoreResult<u32>;

    /// Open → used, if it is still open and current. False when another request won.
    async fn use_challenge(&self, id: ChallengeId, now: OffsetDateTime) -> StoreResult<bool>;

    /// Open → approved for a call answered with # (open, current at `now`, a call that asks
    /// for #), and in the same transaction the `effects` core decided from its purpose (a
    /// sign-in flow approved, a step-up session marked, a registration activated with its
    /// notes). False, with nothing changed, when the challenge was not open or an effect that
    /// must apply did not (what the call was for is over).
    async fn approve_challenge(
        &self,
        id: ChallengeId,
        now: OffsetDateTime,
        effects: &[Effect],
        audit: &AuditEvent,
    ) -> StoreResult<bool>;

    /// Code messages sent to `account`, to `destination` since `hour_ago`, and by everyone
    /// since `minute_ago`. The first two leave a password reset's codes out: those have a
    /// budget of their own (`flow::reset`).
    async fn send_counts(
        &self,
        account: AccountId,
        destination: &str,
        hour_ago: OffsetDateTime,
        minute_ago: OffsetDateTime,
    ) -> StoreResult<SendCounts>;

    /// Queues messages on their own (notifications not tied to one change).
    async fn enqueue_messages(&self, messages: &[Message]) -> StoreResult<()>;

    /// Claims up to `limit` messages due at `now` that no other worker holds, until
    /// `lease_until`, counting an attempt on each.
    async fn claim_messages(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;

    /// A gateway took it: `sent`, its payload dropped unless `keep` (the outbox provider).
    async fn message_sent(
        &self,
        id: MessageId,
        now: OffsetDateTime,
        keep: bool,
        note: Option<&str>,
    ) -> StoreResult<()>;

    /// A transient failure: queued again for `next_at`.
    async fn message_retry(
        &self,
        id: MessageId,
        next_at: OffsetDateTime,
        note: &str,
    ) -> StoreResult<()>;

    /// Refused, or out of retries: `failed`, its payload dropped.
    async fn message_failed(&self, id: MessageId, note: &str) -> StoreResult<()>;

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>>;

    /// Newest first.
    async fn recent_messages(&self, limit: u32) -> StoreResult<Vec<Message>>;

    /// Waits until a message is queued on this node, or `max` passes; other nodes' messages
    /// are found by the next poll.
    async fn wait_for_messages(&self, max: std::time::Duration);

    /// [`MethodStore::activate_method`](super::methods::MethodStore::activate_method), queueing `notes` with it.
    async fn activate_method_noting(
        &self,
        activation: &Activation,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool>;

    /// [`MethodStore::delete_method`](super::methods::MethodStore::delete_method), queueing `notes` with it.
    async fn delete_method_noting(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool>;

    /// [`MethodStore::set_default_method`](super::methods::MethodStore::set_default_method), queueing `notes`;
    /// with a `way`, the method asks that way first from now on.
    async fn set_default_method_noting(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        way: Option<Way>,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()>;
}
