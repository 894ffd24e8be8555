//! Sessions: a signed-in browser or API client. The token is random and stored only as a hash.

use crate::ids::{AccountId, FlowId, SessionId};
use crate::method::Kind;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Signed in.
    Full,
    /// Password checked, but the policy requires security info first: this session may only
    /// register methods, and is exchanged for a full one when the requirement is met.
    Registration,
}

impl SessionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionKind::Full => "full",
            SessionKind::Registration => "registration",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(SessionKind::Full),
            "registration" => Some(SessionKind::Registration),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: Vec<u8>,
    pub account_id: AccountId,
    pub kind: SessionKind,
    /// The sign-in flow a registration session belongs to.
    pub flow_id: Option<FlowId>,
    pub created_at: OffsetDateTime,
    /// Absolute end.
    pub expires_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// When a second factor was last verified in this session (sign-in or step-up).
    pub second_factor_at: Option<OffsetDateTime>,
    /// The kind of method that proved that second factor, for the ID token's `amr` and `acr`
    /// (a security key is phishing-resistant). `None` without a second factor, or when it is
    /// not known (a session from before this was recorded, or completed by registering).
    pub second_factor_kind: Option<Kind>,
}

impl Session {
    /// Past its absolute lifetime, or idle too long.
    pub fn is_expired(&self, now: OffsetDateTime, idle: Duration) -> bool {
        now >= self.expires_at || now - self.last_seen_at >= idle
    }
}
