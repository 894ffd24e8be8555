//! Storage of service credentials and of the verification API's rate windows (see
//! [`crate::verify_api`]).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::ServiceCredentialId;
use crate::verify_api::ServiceCredential;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait ServiceStore: Send + Sync {
    async fn insert_service_credential(
        &self,
        credential: &ServiceCredential,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Every credential, revoked ones too, oldest first.
    async fn service_credentials(&self) -> StoreResult<Vec<ServiceCredential>>;
    async fn service_credential_by_token_hash(
        &self,
        hash: &[u8],
    ) -> StoreResult<Option<ServiceCredential>>;
    /// False when there is no such credential or it was already revoked.
    async fn revoke_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    async fn touch_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Counts one event under `key` in the window starting at `window_start` (unix seconds)
    /// and returns the window's count, this event included. Shared by every node.
    async fn count_in_window(&self, key: &str, window_start: i64) -> StoreResult<u64>;
    /// Forgets windows that started before `before` (unix seconds).
    async fn purge_rate_windows(&self, before: i64) -> StoreResult<u64>;
}
