//! Outgoing messages: texts, calls and emails. Methods send nothing themselves (STYLE.md,
//! lesson 3): they return a [`Message`], the store writes it to the outbox in the same
//! transaction as its challenge (or the change it announces), and the server's delivery
//! worker sends it, with retries.
//!
//! ```text
//!   queued ──claimed──► sending ──gateway took it──► sent   (payload dropped)
//!     ▲                   │  └──outbox provider────► kept   (payload kept for admins)
//!     └──transient error──┘  └──gave up / refused──► failed
//! ```
//!
//! What a message says is kept as a [`Body`], sealed with the key ring to its row (a code is
//! a secret until it is used), and rendered into the person's language only when sent.

use crate::error::{Error, Internal, Result};
use crate::ids::{AccountId, ChallengeId, MessageId};
use crate::method::Kind;
use crate::random::Random;
use crate::secret::{Aad, KeyRing};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Voice,
    Email,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Voice => "voice",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Channel::Sms),
            "voice" | "call" => Some(Channel::Voice),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Queued,
    /// Claimed by a worker until its lease ends.
    Sending,
    /// A gateway accepted it.
    Sent,
    /// The development `outbox` provider keeps it for admins to read.
    Kept,
    /// Refused, or every retry failed.
    Failed,
}

impl MessageStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Kept => "kept",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(MessageStatus::Queued),
            "sending" => Some(MessageStatus::Sending),
            "sent" => Some(MessageStatus::Sent),
            "kept" => Some(MessageStatus::Kept),
            "failed" => Some(MessageStatus::Failed),
            _ => None,
        }
    }
}

/// Why a message goes out; codes count against the sending limits, notifications do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Code,
    Notification,
}

impl Topic {
    pub fn as_str(&self) -> &'static str {
        match self {
            Topic::Code => "code",
            Topic::Notification => "notification",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "code" => Some(Topic::Code),
            "notification" => Some(Topic::Notification),
            _ => None,
        }
    }
}

/// A change to security info that the person is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityEvent {
    MethodAdded,
    MethodRemoved,
    DefaultChanged,
    /// The password was reset; `kind` is the last gate that let it happen.
    PasswordReset,
    /// A recovery code was used (to sign in or as a reset gate).
    RecoveryCodeUsed,
}

impl SecurityEvent {
    pub fn as_str(&self) -> &'static str {
        match self {
            SecurityEvent::MethodAdded => "method_added",
            SecurityEvent::MethodRemoved => "method_removed",
            SecurityEvent::DefaultChanged => "default_changed",
            SecurityEvent::PasswordReset => "password_reset",
            SecurityEvent::RecoveryCodeUsed => "recovery_code_used",
        }
    }
}

/// What a message says, before it is put into words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A code to type in; `purpose` is `sign_in`, `step_up`, `register` or `reset`.
    Code {
        code: String,
        purpose: String,
        minutes: u64,
    },
    /// A call that asks the person to press # to approve; the gateway reports the key.
    CallConfirm { purpose: String },
    /// Security info changed.
    Notification {
        event: SecurityEvent,
        kind: Kind,
        /// Unix seconds.
        at: i64,
        ip: Option<String>,
        user_agent: Option<String>,
    },
}

/// One message in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub account_id: Option<AccountId>,
    pub channel: Channel,
    pub topic: Topic,
    /// E.164 for phones, an address for email.
    pub to: String,
    /// A phone's extension to dial once the call connects.
    pub extension: Option<String>,
    /// The language to write it in (`en`, `nl`).
    pub locale: String,
    /// The sealed [`Body`]; dropped once a gateway has taken the message.
    pub payload: Option<Vec<u8>>,
    pub challenge_id: Option<ChallengeId>,
    pub status: MessageStatus,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    /// The gateway's id for it (a Twilio SID), or the last error, for admins.
    pub note: Option<String>,
}

fn aad(id: &str) -> Aad<'_> {
    Aad {
        table: "outbox",
        column: "payload",
        row: id,
    }
}

/// What a new message needs besides its body.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub account_id: Option<AccountId>,
    pub channel: Channel,
    pub topic: Topic,
    pub to: String,
    pub extension: Option<String>,
    pub locale: String,
    pub challenge_id: Option<ChallengeId>,
}

impl Message {
    /// A queued message with its body sealed to its row.
    pub fn new(
        envelope: Envelope,
        body: &Body,
        keys: &KeyRing,
        rng: &dyn Random,
        now: OffsetDateTime,
    ) -> Result<Self> {
        let id = MessageId::new(rng);
        let json = serde_json::to_vec(body).map_err(|_| Error::Internal(Internal::Unseal))?;
        let payload = keys.seal(rng, &json, aad(&id.to_string()));
        Ok(Message {
            id,
            account_id: envelope.account_id,
            channel: envelope.channel,
            topic: envelope.topic,
            to: envelope.to,
            extension: envelope.extension,
            locale: envelope.locale,
            payload: Some(payload),
            challenge_id: envelope.challenge_id,
            status: MessageStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            sent_at: None,
            note: None,
        })
    }

    /// The body, while the message still holds it.
    pub fn body(&self, keys: &KeyRing) -> Result<Option<Body>> {
        let Some(sealed) = &self.payload else {
            return Ok(None);
        };
        let json = keys
            .open(sealed, aad(&self.id.to_string()))
            .map_err(|_| Error::Internal(Internal::Unseal))?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|_| Error::Internal(Internal::Unseal))
    }
}

/// `+31 6•••••78`: the country code, the first digit, the last two.
pub fn mask_phone(e164: &str, country_code: u16) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix(&country_code.to_string())
        .unwrap_or(&digits);
    let first: String = national.chars().take(1).collect();
    let last: String = national
        .chars()
        .skip(national.chars().count().saturating_sub(2).max(1))
        .collect();
    format!("+{country_code} {first}•••••{last}")
}

/// `a•••@example.org`.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn numbers_and_addresses_are_masked() {
        assert_eq!(mask_phone("+31612345678", 31), "+31 6•••••78");
        assert_eq!(mask_phone("+12025550123", 1), "+1 2•••••23");
        assert_eq!(mask_email("alice@example.org"), "a•••@example.org");
    }

    #[test]
    fn a_sealed_body_opens_only_in_its_own_row() {
        let keys = KeyRing::generate(&OsRandom);
        let envelope = Envelope {
            account_id: None,
            channel: Channel::Sms,
            topic: Topic::Code,
            to: "+31612345678".into(),
            extension: None,
            locale: "en".into(),
            challenge_id: None,
        };
        let body = Body::Code {
            code: "123456".into(),
            purpose: "sign_in".into(),
            minutes: 10,
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut message = Message::new(envelope.clone(), &body, &keys, &OsRandom, now).unwrap();
        assert_eq!(message.body(&keys).ok().flatten(), Some(body));
        let confirm = Body::CallConfirm {
            purpose: "x".into(),
        };
        message.id = Message::new(envelope, &confirm, &keys, &OsRandom, now)
            .unwrap()
            .id;
        assert!(
            message.body(&keys).is_err(),
            "moved to another row, it does not open"
        );
    }
}
