//! The development outbox, for admins: a call it kept rang no phone, so nobody can press #
//! on it. An admin trying Tessera out presses it for them, from the outbox, and the sign-in,
//! step-up or registration that placed the call goes on as a real call's # would let it.
//!
//! Only a call the outbox *kept* can be answered so ([`MessageStatus::Kept`]): one that a
//! gateway took went to a real phone, and only its owner may answer that. An admin who can
//! read the outbox reads every code in it too, so this gives them nothing more.

use super::Admin;
use crate::audit::AuditAction;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::message::{Channel, Message, MessageStatus};

/// A call the development outbox kept, whose challenge still waits for #.
fn kept_call(message: &Message) -> Option<crate::ids::ChallengeId> {
    (message.channel == Channel::Voice && message.status == MessageStatus::Kept)
        .then_some(message.challenge_id)
        .flatten()
}

impl Admin<'_> {
    /// Which of `messages` are calls kept by the development outbox that still wait for #
    /// (an admin may press it for the person: [`Admin::press_pound`]).
    pub async fn calls_waiting(&self, messages: &[Message]) -> Result<Vec<MessageId>> {
        let mut waiting = Vec::new();
        for message in messages {
            if let Some(challenge) = kept_call(message)
                && self.tessera().waiting_call(challenge).await?.is_some()
            {
                waiting.push(message.id);
            }
        }
        Ok(waiting)
    }

    /// Presses # on a call the development outbox kept, as the person would have on their
    /// phone; audited as the call's # with the admin named (`by`) and `outbox: true`. False
    /// when the call no longer waits (answered, expired, or a newer one replaced it);
    /// `not_found` for anything but a call the outbox kept.
    pub async fn press_pound(&self, id: MessageId) -> Result<bool> {
        let t = self.tessera();
        let challenge = t
            .store
            .message(id)
            .await?
            .as_ref()
            .and_then(kept_call)
            .ok_or(Error::NotFound)?;
        t.approve_call(challenge, &self.ctx, |c| {
            self.audit_with(
                Some(c.account_id),
                AuditAction::CallConfirmed,
                serde_json::json!({ "outbox": true }),
            )
        })
        .await
    }
}
