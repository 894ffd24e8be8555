//! Sent challenges: a code by text, call or email, or a call that asks for #.
//!
//! ```text
//!   open ──right code──► used
//!    │ ├──# pressed (call)──► approved
//!    │ ├──`code_tries` wrong codes──► dead
//!    │ └──a newer code for the same purpose──► superseded
//!    └──`code_secs` pass──► (expired: every read checks `expires_at`)
//! ```
//!
//! A challenge is bound to what asked for it ([`Purpose`](crate::method::Purpose) and its
//! binding), so a code sent for one sign-in cannot finish another, nor a step-up. Only an
//! HMAC of the code is kept ([`KeyRing::mac`](crate::KeyRing::mac), bound to the challenge
//! id). Wrong tries count on the challenge (it dies after `code_tries`) *and* on the method's
//! lock-out counter, which a new code never resets (NIST SP 800-63B §3.1.3, §5.2.2).

use crate::ids::{AccountId, ChallengeId, MessageId, MethodId};
use crate::message::{Channel, MessageStatus};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeStatus {
    Open,
    Used,
    Approved,
    Dead,
    Superseded,
}

impl ChallengeStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChallengeStatus::Open => "open",
            ChallengeStatus::Used => "used",
            ChallengeStatus::Approved => "approved",
            ChallengeStatus::Dead => "dead",
            ChallengeStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(ChallengeStatus::Open),
            "used" => Some(ChallengeStatus::Used),
            "approved" => Some(ChallengeStatus::Approved),
            "dead" => Some(ChallengeStatus::Dead),
            "superseded" => Some(ChallengeStatus::Superseded),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SentChallenge {
    pub id: ChallengeId,
    pub method_id: MethodId,
    pub account_id: AccountId,
    /// `Purpose::as_str()` and `Purpose::binding()`.
    pub purpose: String,
    pub binding: String,
    pub channel: Channel,
    /// The HMAC of the code; `None` for a call that asks for # instead.
    pub code_mac: Option<Vec<u8>>,
    pub status: ChallengeStatus,
    pub failures: u32,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// No new code for the same purpose before this.
    pub resend_after: OffsetDateTime,
    pub message_id: Option<MessageId>,
}

impl SentChallenge {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// A call answered with # rather than a code.
    pub fn is_confirm(&self) -> bool {
        self.code_mac.is_none()
    }
}

/// A challenge as the person's client sees it: where it went and how delivery goes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeState {
    pub challenge: SentChallenge,
    /// The message's status (`None` once it was purged).
    pub delivery: Option<MessageStatus>,
}

/// The context string under which sent codes are MACed; the challenge id is the data's prefix.
pub const MAC_CONTEXT: &str = "sent-code";

/// What is MACed for a code: the challenge it belongs to, then the code.
pub fn mac_input(id: ChallengeId, code: &str) -> Vec<u8> {
    [id.0.as_bytes().as_slice(), code.as_bytes()].concat()
}
