//! Service credentials (API keys of the verification API) and its rate windows.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::{Stored, secs};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::ServiceCredentialId;
use crate::store::StoreResult;
use crate::store::verify_api::ServiceStore;
use crate::verify_api::ServiceCredential;

#[async_trait]
impl ServiceStore for MemoryStore {
    async fn insert_service_credential(
        &self,
        credential: &ServiceCredential,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            if s.service_credentials.contains_key(&credential.id) {
                return Err(StoreError::Conflict("unique"));
            }
            if s.service_credentials
                .values()
                .any(|c| c.token_hash == credential.token_hash)
            {
                return Err(StoreError::Conflict("token_hash"));
            }
            s.check_audit([audit])?;
            s.service_credentials
                .insert(credential.id, credential.stored());
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn service_credentials(&self) -> StoreResult<Vec<ServiceCredential>> {
        self.read(|s| {
            let mut all: Vec<ServiceCredential> = s.service_credentials.values().cloned().collect();
            all.sort_by_key(|c| (c.created_at, c.id));
            all
        })
    }

    async fn service_credential_by_token_hash(
        &self,
        hash: &[u8],
    ) -> StoreResult<Option<ServiceCredential>> {
        self.read(|s| {
            s.service_credentials
                .values()
                .find(|c| c.token_hash == hash)
                .cloned()
        })
    }

    async fn revoke_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let now = secs(now);
        self.write(|s| {
            if s.service_credentials
                .get(&id)
                .is_none_or(|c| c.revoked_at.is_some())
            {
                return Ok(false);
            }
            s.check_audit([audit])?;
            if let Some(c) = s.service_credentials.get_mut(&id) {
                c.revoked_at = Some(now);
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn touch_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let now = secs(now);
        self.write(|s| {
            if let Some(c) = s.service_credentials.get_mut(&id)
                && c.last_used_at.is_none_or(|last| last < now)
            {
                c.last_used_at = Some(now);
            }
            Ok(())
        })
    }

    async fn count_in_window(&self, key: &str, window_start: i64) -> StoreResult<u64> {
        self.write(|s| {
            let count = s
                .verify_windows
                .entry((key.to_string(), window_start))
                .or_insert(0);
            *count += 1;
            Ok(*count)
        })
    }

    async fn purge_rate_windows(&self, before: i64) -> StoreResult<u64> {
        self.write(|s| {
            let windows = s.verify_windows.len();
            s.verify_windows.retain(|(_, start), _| *start >= before);
            Ok((windows - s.verify_windows.len()) as u64)
        })
    }
}
