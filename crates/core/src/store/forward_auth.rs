//! Storage for forward authentication: the admin's access rules, in order, and the
//! forward-auth sessions (the cookie a protected site's domain sees, bound to a Tessera
//! session and ending with it).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::forward_auth::Rule;
use crate::ids::{ForwardAuthRuleId, SessionId};
use crate::session::Session;
use async_trait::async_trait;
use time::OffsetDateTime;

/// A rule as stored: its id and when it was made. Its place is its index in
/// [`ForwardAuthStore::forward_auth_rules`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub id: ForwardAuthRuleId,
    pub rule: Rule,
    pub created_at: OffsetDateTime,
}

/// The forward-auth cookie's token, as its hash, and the session it speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardAuthSession {
    pub token_hash: Vec<u8>,
    pub session_id: SessionId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait ForwardAuthStore: Send + Sync {
    /// Every rule, first match first.
    async fn forward_auth_rules(&self) -> StoreResult<Vec<StoredRule>>;
    /// Inserts the rule before the one at `position` (counted from 0 in the current order),
    /// or at the end when `position` is `None` or past the end.
    async fn insert_forward_auth_rule(
        &self,
        rule: &StoredRule,
        position: Option<u32>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Replaces what the rule says, keeping its place; false when there is no such rule.
    async fn update_forward_auth_rule(
        &self,
        rule: &StoredRule,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Moves the rule to `position` (counted from 0 in the new order; past the end is the
    /// end), the others keeping their order; false when there is no such rule.
    async fn move_forward_auth_rule(
        &self,
        id: ForwardAuthRuleId,
        position: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// False when there is no such rule.
    async fn delete_forward_auth_rule(
        &self,
        id: ForwardAuthRuleId,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// The Tessera session a forward-auth token speaks for, and when the token expires,
    /// unless the token expired (at `now`) or the session is gone. The session's own
    /// lifetimes are the caller's to check.
    async fn forward_auth_session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, OffsetDateTime)>>;
    async fn insert_forward_auth_session(
        &self,
        session: &ForwardAuthSession,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The sessions that ended since the question that returned `since` (`None`: none are
    /// listed, only where to start), and where the next question starts. Every session
    /// deleted in a transaction that committed after the question that returned `since` is
    /// listed, however it was deleted; some listed may have ended before.
    async fn session_ends_since(&self, since: Option<EndsCursor>) -> StoreResult<SessionEnds>;
}

/// Where [`ForwardAuthStore::session_ends_since`] continues: opaque to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndsCursor(pub i64);

/// The answer of [`ForwardAuthStore::session_ends_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnds {
    pub ended: Vec<SessionId>,
    pub next: EndsCursor,
}
