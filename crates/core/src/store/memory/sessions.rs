//! Sessions.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use crate::audit::AuditEvent;
use crate::ids::{AccountId, SessionId};
use crate::session::Session;
use crate::store::StoreResult;
use crate::store::sessions::SessionStore;

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        self.write(|s| {
            s.check_new_session(session)?;
            s.put_session(session);
            Ok(())
        })
    }

    async fn session_by_token_hash(&self, hash: &[u8]) -> StoreResult<Option<Session>> {
        self.read(|s| s.sessions.values().find(|x| x.token_hash == hash).cloned())
    }

    async fn touch_session(&self, id: SessionId, now: OffsetDateTime) -> StoreResult<()> {
        let now = secs(now);
        self.write(|s| {
            // Requests of one session race; the latest time wins, never an older one.
            if let Some(session) = s.sessions.get_mut(&id)
                && session.last_seen_at < now
            {
                session.last_seen_at = now;
            }
            Ok(())
        })
    }

    async fn mark_second_factor(&self, id: SessionId, at: OffsetDateTime) -> StoreResult<()> {
        let at = secs(at);
        self.write(|s| {
            if let Some(session) = s.sessions.get_mut(&id) {
                session.second_factor_at = Some(at);
                // Without a kind, the one recorded before no longer says what proved it.
                session.second_factor_kind = None;
            }
            Ok(())
        })
    }

    async fn delete_session(&self, id: SessionId, audit: Option<&AuditEvent>) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit(audit)?;
            s.remove_sessions(|x, _| *x == id);
            s.append_audit(audit);
            Ok(())
        })
    }

    async fn delete_sessions_of(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64> {
        self.write(|s| {
            s.check_audit([audit])?;
            let ended = s.end_sessions(account);
            s.append_audit([audit]);
            Ok(ended)
        })
    }
}
