//! Sent challenges, and changes to security info with the notifications that announce them
//! (the outbox itself is in `outbox`). A challenge commits with its message, and a change
//! with its notifications.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::{Stored, secs};
use super::state::ChallengeRow;
use super::{MemoryStore, outbox};
use crate::audit::AuditEvent;
use crate::challenge::{ChallengeState, ChallengeStatus, SentChallenge};
use crate::flow::effect::Effect;
use crate::ids::{AccountId, ChallengeId, MessageId, MethodId};
use crate::message::Message;
use crate::method::Method;
use crate::method::way::Way;
use crate::store::StoreResult;
use crate::store::delivery::{Activation, DeliveryStore, SendCounts};

impl super::State {
    /// Supersedes the open challenges of the same method and purpose, then inserts it.
    fn supersede_and_insert(&mut self, challenge: &SentChallenge) {
        for row in self.challenges.values_mut() {
            let c = &mut row.challenge;
            if c.method_id == challenge.method_id
                && c.purpose == challenge.purpose
                && c.binding == challenge.binding
                && c.status == ChallengeStatus::Open
            {
                c.status = ChallengeStatus::Superseded;
            }
        }
        let seq = self.next_seq();
        self.challenges.insert(
            challenge.id,
            ChallengeRow {
                seq,
                challenge: challenge.stored(),
            },
        );
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn insert_challenge(
        &self,
        challenge: &SentChallenge,
        message: &Message,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let message = std::slice::from_ref(message);
        self.write(|s| {
            s.check_new_challenge(challenge, None)?;
            s.check_messages(message)?;
            s.check_audit([audit])?;
            s.supersede_and_insert(challenge);
            s.put_messages(message);
            s.append_audit([audit]);
            Ok(())
        })?;
        self.queued(true);
        Ok(())
    }

    async fn insert_method_with_challenge(
        &self,
        method: &Method,
        method_audit: &AuditEvent,
        challenge: &SentChallenge,
        message: &Message,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        let message = std::slice::from_ref(message);
        self.write(|s| {
            s.check_new_method(method)?;
            s.check_new_challenge(challenge, Some(method.id))?;
            s.check_messages(message)?;
            s.check_audit([method_audit, audit])?;
            s.put_method(method);
            s.append_audit([method_audit]);
            s.supersede_and_insert(challenge);
            s.put_messages(message);
            s.append_audit([audit]);
            Ok(())
        })?;
        self.queued(true);
        Ok(())
    }

    async fn latest_challenge(
        &self,
        method: MethodId,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<ChallengeState>> {
        self.read(|s| {
            // The newest first; within one second, the open one before those it superseded.
            let latest = s
                .challenges
                .values()
                .filter(|r| {
                    let c = &r.challenge;
                    c.method_id == method && c.purpose == purpose && c.binding == binding
                })
                .max_by_key(|r| {
                    let c = &r.challenge;
                    (c.created_at, c.status != ChallengeStatus::Superseded, r.seq)
                })?;
            let challenge = latest.challenge.clone();
            let delivery = challenge
                .message_id
                .and_then(|m| s.outbox.get(&m))
                .map(|m| m.message.status);
            Some(ChallengeState {
                challenge,
                delivery,
            })
        })
    }

    async fn challenge(&self, id: ChallengeId) -> StoreResult<Option<SentChallenge>> {
        self.read(|s| s.challenges.get(&id).map(|r| r.challenge.clone()))
    }

    async fn challenge_failed(&self, id: ChallengeId, max: u32) -> StoreResult<u32> {
        self.write(|s| {
            let Some(c) = s
                .challenges
                .get_mut(&id)
                .map(|r| &mut r.challenge)
                .filter(|c| c.status == ChallengeStatus::Open)
            else {
                return Ok(max);
            };
            c.failures = c.failures.saturating_add(1);
            if c.failures >= max {
                c.status = ChallengeStatus::Dead;
            }
            Ok(c.failures)
        })
    }

    async fn use_challenge(&self, id: ChallengeId, now: OffsetDateTime) -> StoreResult<bool> {
        let now = secs(now);
        self.write(|s| {
            let Some(c) = s.challenges.get_mut(&id).map(|r| &mut r.challenge) else {
                return Ok(false);
            };
            if c.status != ChallengeStatus::Open || c.expires_at <= now {
                return Ok(false);
            }
            c.status = ChallengeStatus::Used;
            Ok(true)
        })
    }

    async fn approve_challenge(
        &self,
        id: ChallengeId,
        now: OffsetDateTime,
        effects: &[Effect],
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let now = secs(now);
        let approved = self.write(|s| {
            let open = s.challenges.get(&id).is_some_and(|r| {
                let c = &r.challenge;
                c.status == ChallengeStatus::Open && c.expires_at > now && c.is_confirm()
            });
            if !open {
                return Ok(false);
            }
            s.check_audit([audit])?;
            // What the call was for may be over (the flow expired or completed meanwhile).
            if !s.apply_effects(effects)? {
                return Ok(false);
            }
            if let Some(row) = s.challenges.get_mut(&id) {
                row.challenge.status = ChallengeStatus::Approved;
            }
            s.append_audit([audit]);
            Ok(true)
        })?;
        self.queued(approved && Effect::any_notes(effects));
        Ok(approved)
    }

    async fn send_counts(
        &self,
        account: AccountId,
        destination: &str,
        hour_ago: OffsetDateTime,
        minute_ago: OffsetDateTime,
    ) -> StoreResult<SendCounts> {
        self.read(|s| outbox::send_counts(s, account, destination, hour_ago, minute_ago))
    }

    async fn enqueue_messages(&self, messages: &[Message]) -> StoreResult<()> {
        outbox::enqueue(self, messages)
    }

    async fn claim_messages(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.write(|s| Ok(outbox::claim(s, secs(now), secs(lease_until), limit)))
    }

    async fn message_sent(
        &self,
        id: MessageId,
        now: OffsetDateTime,
        keep: bool,
        note: Option<&str>,
    ) -> StoreResult<()> {
        self.write(|s| {
            outbox::sent(s, id, secs(now), keep, note);
            Ok(())
        })
    }

    async fn message_retry(
        &self,
        id: MessageId,
        next_at: OffsetDateTime,
        note: &str,
    ) -> StoreResult<()> {
        self.write(|s| {
            outbox::retry(s, id, secs(next_at), note);
            Ok(())
        })
    }

    async fn message_failed(&self, id: MessageId, note: &str) -> StoreResult<()> {
        self.write(|s| {
            outbox::failed(s, id, note);
            Ok(())
        })
    }

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
        self.read(|s| s.outbox.get(&id).map(|r| r.message.clone()))
    }

    async fn recent_messages(&self, limit: u32) -> StoreResult<Vec<Message>> {
        self.read(|s| outbox::recent(s, limit))
    }

    async fn wait_for_messages(&self, max: std::time::Duration) {
        super::wake::notified_within(&self.outbox_wake, max).await;
    }

    async fn activate_method_noting(
        &self,
        activation: &Activation,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let effects = [Effect::Activate(*activation), Effect::Notes(notes.to_vec())];
        let activated = self.write(|s| {
            s.check_audit([audit])?;
            if !s.apply_effects(&effects)? {
                return Ok(false);
            }
            s.append_audit([audit]);
            Ok(true)
        })?;
        self.queued(activated && !notes.is_empty());
        Ok(activated)
    }

    async fn delete_method_noting(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let deleted = self.write(|s| {
            s.check_messages(notes)?;
            s.check_audit([audit])?;
            if !s.delete_method_of(account, id, new_default) {
                return Ok(false);
            }
            s.put_messages(notes);
            s.append_audit([audit]);
            Ok(true)
        })?;
        self.queued(deleted && !notes.is_empty());
        Ok(deleted)
    }

    async fn set_default_method_noting(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        way: Option<Way>,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_messages(notes)?;
            s.check_audit([audit])?;
            s.set_default(account, method);
            if let (Some(method), Some(way)) = (method, way)
                && let Some(m) = s.methods.get_mut(&method)
                && m.account_id == account
            {
                m.way = Some(way);
            }
            s.put_messages(notes);
            s.append_audit([audit]);
            Ok(())
        })?;
        self.queued(!notes.is_empty());
        Ok(())
    }
}
