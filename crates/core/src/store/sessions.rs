//! Storage for sessions.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::{AccountId, SessionId};
use crate::session::Session;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_token_hash(&self, hash: &[u8]) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, id: SessionId, now: OffsetDateTime) -> StoreResult<()>;
    /// [`SessionStore::touch_session`] for many at once, each with the time it was used;
    /// the SQL stores write them in one statement.
    async fn touch_sessions(&self, used: &[(SessionId, OffsetDateTime)]) -> StoreResult<()> {
        for (id, at) in used {
            self.touch_session(*id, *at).await?;
        }
        Ok(())
    }
    async fn mark_second_factor(&self, id: SessionId, at: OffsetDateTime) -> StoreResult<()>;
    async fn delete_session(&self, id: SessionId, audit: Option<&AuditEvent>) -> StoreResult<()>;
    async fn delete_sessions_of(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64>;
}
