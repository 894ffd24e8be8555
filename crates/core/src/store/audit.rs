//! Storage for the audit log, which is append-only. Filtered reads for administrators are
//! [`super::admin::AdminStore`]'s.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::AccountId;
use async_trait::async_trait;

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first.
    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}
