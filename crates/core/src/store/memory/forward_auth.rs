//! Forward authentication's rules and sessions. A forward-auth session whose Tessera session
//! is gone reads as absent, as the SQL store's cascade deletes it.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::ForwardAuthRuleId;
use crate::session::Session;
use crate::store::StoreResult;
use crate::store::forward_auth::{
    EndsCursor, ForwardAuthSession, ForwardAuthStore, SessionEnds, StoredRule,
};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(super) struct Tables {
    /// In order.
    rules: Vec<StoredRule>,
    sessions: BTreeMap<Vec<u8>, ForwardAuthSession>,
}

fn stored(rule: &StoredRule) -> StoredRule {
    StoredRule {
        created_at: secs(rule.created_at),
        ..rule.clone()
    }
}

#[async_trait]
impl ForwardAuthStore for MemoryStore {
    async fn forward_auth_rules(&self) -> StoreResult<Vec<StoredRule>> {
        self.read(|s| s.forward_auth.rules.clone())
    }

    async fn insert_forward_auth_rule(
        &self,
        rule: &StoredRule,
        position: Option<u32>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            if s.forward_auth.rules.iter().any(|r| r.id == rule.id) {
                return Err(StoreError::Conflict("forward_auth_rules.id"));
            }
            s.check_audit([audit])?;
            let rules = &mut s.forward_auth.rules;
            let at = position.map_or(rules.len(), |p| (p as usize).min(rules.len()));
            rules.insert(at, stored(rule));
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn update_forward_auth_rule(
        &self,
        rule: &StoredRule,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let Some(slot) = s.forward_auth.rules.iter_mut().find(|r| r.id == rule.id) else {
                return Ok(false);
            };
            slot.rule = rule.rule.clone();
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn move_forward_auth_rule(
        &self,
        id: ForwardAuthRuleId,
        position: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let rules = &mut s.forward_auth.rules;
            let Some(from) = rules.iter().position(|r| r.id == id) else {
                return Ok(false);
            };
            let rule = rules.remove(from);
            let to = (position as usize).min(rules.len());
            rules.insert(to, rule);
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn delete_forward_auth_rule(
        &self,
        id: ForwardAuthRuleId,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            s.check_audit([audit])?;
            let before = s.forward_auth.rules.len();
            s.forward_auth.rules.retain(|r| r.id != id);
            if s.forward_auth.rules.len() == before {
                return Ok(false);
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn forward_auth_session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Session, OffsetDateTime)>> {
        let now = secs(now);
        self.read(|s| {
            let f = s
                .forward_auth
                .sessions
                .get(token_hash)
                .filter(|f| f.expires_at > now)?;
            s.sessions
                .get(&f.session_id)
                .map(|session| (session.clone(), f.expires_at))
        })
    }

    async fn session_ends_since(&self, since: Option<EndsCursor>) -> StoreResult<SessionEnds> {
        self.read(|s| {
            let end = s.session_ends.len();
            let from = match since {
                Some(EndsCursor(n)) => usize::try_from(n).unwrap_or(0).min(end),
                None => end,
            };
            SessionEnds {
                ended: s.session_ends[from..].to_vec(),
                next: EndsCursor(end as i64),
            }
        })
    }

    async fn insert_forward_auth_session(
        &self,
        session: &ForwardAuthSession,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            if !s.sessions.contains_key(&session.session_id) {
                return Err(super::foreign_key("forward_auth_sessions.session_id"));
            }
            if s.forward_auth.sessions.contains_key(&session.token_hash) {
                return Err(StoreError::Conflict("forward_auth_sessions.token_hash"));
            }
            s.check_audit([audit])?;
            let row = ForwardAuthSession {
                created_at: secs(session.created_at),
                expires_at: secs(session.expires_at),
                ..session.clone()
            };
            s.forward_auth
                .sessions
                .insert(session.token_hash.clone(), row);
            s.append_audit([audit]);
            Ok(())
        })
    }
}
